/**
 * @file GET /executables, GET /executables/:id (canonical IR, WGSL, kernels, runs, timings, and
 * the GPU times of its kernels in the last profiled run), DELETE /executables/:id.
 */
import type { FastifyInstance } from 'fastify';
import { idParams } from '../schemas.js';
import { HttpError } from '../errors.js';
import type { CachedExecutable } from '../cache.js';
import { describeExecutable } from './compile.js';
import { kernelTimesSchema } from '../profile.js';

/** Latency percentiles of the recorded runs, in ms. */
function percentiles(ms: readonly number[]) {
  if (ms.length === 0) return { p50: null, p90: null, p99: null, mean: null };
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function summary(e: CachedExecutable) {
  return {
    ...describeExecutable(e), runs: e.runs, createdAt: e.createdAt, latencyMs: percentiles(e.timings),
    // When its kernel times last changed, so a client polling the list knows to fetch them again.
    profiledAt: e.kernelTimes?.at ?? null,
  };
}

export async function executableRoutes(app: FastifyInstance): Promise<void> {
  app.get('/executables', { schema: { response: { 200: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
    async () => app.kiln.cache.list().map(summary));

  app.get<{ Params: { id: string } }>('/executables/:id', {
    schema: {
      params: idParams,
      response: { 200: { type: 'object', additionalProperties: true, properties: { kernelTimes: kernelTimesSchema } } },
    },
  }, async (req) => {
    const e = app.kiln.cache.get(req.params.id);
    if (!e) throw new HttpError('KILN_ERR_NOT_FOUND', `no executable '${req.params.id}' (compile it with POST /compile)`);
    return { ...summary(e), ir: e.ir, wgsl: e.exe.kernelSources ?? [], timings: e.timings.slice(-100), kernelTimes: e.kernelTimes ?? null };
  });

  app.delete<{ Params: { id: string } }>('/executables/:id', { schema: { params: idParams } }, async (req) => {
    if (!app.kiln.cache.delete(req.params.id)) throw new HttpError('KILN_ERR_NOT_FOUND', `no executable '${req.params.id}'`);
    return { deleted: req.params.id };
  });
}
