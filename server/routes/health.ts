/**
 * @file GET /health (no token needed). (GET /ops is server/routes/ops.ts.)
 */
import type { FastifyInstance } from 'fastify';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'string' },
            version: { type: 'string' },
            device: { type: 'object', additionalProperties: true },
            executables: { type: 'integer' },
            buffers: { type: 'integer' },
            residentBytes: { type: 'integer' },
          },
        },
      },
    },
  }, async () => {
    const { device, cache, tenants, version } = app.kiln;
    const info = device.info();
    return {
      status: 'ok',
      version,
      device: { ...info, kind: info.kind },
      executables: cache.size,
      buffers: tenants.budget.count,
      residentBytes: tenants.budget.bytes,
    };
  });
}
