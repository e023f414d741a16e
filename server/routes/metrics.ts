/**
 * @file GET /metrics in the Prometheus text format.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_SESSION } from '../sessions.js';

/** What the device compiled from IR and loaded from compiled-program files (devices with a compiled form). */
function compileCounts(app: FastifyInstance): Record<string, [string, number]> {
  const c = app.kiln.device.compileCounts?.();
  if (!c) return {};
  return {
    kiln_programs_compiled_total: ['Programs the device compiled from IR (WGSL, plan, tiles).', c.compiled],
    kiln_artifacts_loaded_total: ['Programs the device loaded from compiled-program files instead of compiling.', c.loaded],
    kiln_artifacts_rejected_total: ['Compiled-program files deleted: failed checksum, another program, stale tiles.', app.kiln.cache.artifacts?.rejected ?? 0],
  };
}

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    const { metrics, cache, tenants, work } = app.kiln;
    void reply.type('text/plain; version=0.0.4');
    return metrics.render(
      {
        kiln_executables: ['Executables in the in-memory cache.', cache.size],
        kiln_executable_bytes: ['Estimated bytes the cached executables hold (device buffers, pipelines, IR and WGSL).', cache.bytes],
        kiln_work_pending: ['Requests whose device work is queued or running.', work.pending],
        kiln_buffers: ['Buffers kept on the server (all tenants).', tenants.budget.count],
        kiln_resident_bytes: ['Bytes held by kept buffers and model weights (all tenants).', tenants.budget.bytes],
        kiln_sessions: ['Sessions open (POST /sessions; default sessions not counted).', tenants.all().filter((s) => s.id !== DEFAULT_SESSION).length],
        kiln_models: ['Models registered (all sessions).', tenants.all().reduce((n, s) => n + s.models.size, 0)],
      },
      {
        kiln_compiles_total: ['Programs compiled (cache misses).', cache.compiles],
        kiln_cache_hits_total: ['Compiles answered from the cache.', cache.hits],
        kiln_cache_files_rejected_total: ['Cache files deleted because they were corrupt or held another program.', cache.rejectedFiles],
        kiln_buffers_expired_total: ['Buffers freed after going unused for the idle limit (or with their idle session).', tenants.budget.expired],
        kiln_sessions_expired_total: ['Sessions ended after going unused for the session idle limit.', tenants.expiredSessions],
        kiln_cancelled_total: ['Requests whose device work was cancelled (client gone, deadline, shutdown).', work.cancelled],
        ...compileCounts(app),
      },
    );
  });
}
