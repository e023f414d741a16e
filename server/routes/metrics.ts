/**
 * @file GET /metrics in the Prometheus text format.
 */
import type { FastifyInstance } from 'fastify';

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    const { metrics, cache, buffers } = app.kiln;
    void reply.type('text/plain; version=0.0.4');
    return metrics.render(
      {
        kiln_executables: ['Executables in the in-memory cache.', cache.size],
        kiln_buffers: ['Buffers kept on the server.', buffers.size],
        kiln_resident_bytes: ['Bytes held by kept buffers.', buffers.bytes],
      },
      {
        kiln_compiles_total: ['Programs compiled (cache misses).', cache.compiles],
        kiln_cache_hits_total: ['Compiles answered from the cache.', cache.hits],
      },
    );
  });
}
