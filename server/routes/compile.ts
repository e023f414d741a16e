/**
 * @file POST /compile: IR text in, `{id, cached, inputs, outputs, kernels}` out. The id is the
 * graph hash, so the same program with other value names or whitespace is the same executable.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';
import type { CachedExecutable } from '../cache.js';

export function describeExecutable(e: CachedExecutable) {
  return {
    id: e.id,
    inputs: e.inputs.map((t) => ({ dtype: t.dtype, shape: [...t.shape] })),
    outputs: e.outputs.map((t) => ({ dtype: t.dtype, shape: [...t.shape] })),
    kernels: e.exe.kernels,
    bytes: e.exe.bytes,
  };
}

const tensorTypeSchema = {
  type: 'object',
  properties: { dtype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

export async function compileRoutes(app: FastifyInstance): Promise<void> {
  app.post('/compile', {
    bodyLimit: app.kiln.limits.irBytes,
    schema: {
      body: { type: 'string' },
      response: {
        200: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            cached: { type: 'boolean' },
            inputs: { type: 'array', items: tensorTypeSchema },
            outputs: { type: 'array', items: tensorTypeSchema },
            kernels: { type: 'integer' },
            bytes: { type: 'integer' },
          },
        },
      },
    },
  }, async (req) => {
    if (typeof req.body !== 'string') {
      throw new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', 'POST /compile takes the IR as text/plain');
    }
    const { entry, cached } = await app.kiln.cache.compile(req.body);
    return { ...describeExecutable(entry), cached };
  });
}
