/**
 * @file Sessions (server/sessions.ts): POST /sessions starts one and answers its id, to be sent as
 * `X-Kiln-Session` on later requests; GET /sessions lists the tenant's; DELETE /sessions/:id ends
 * one and frees every buffer and model it holds.
 */
import type { FastifyInstance } from 'fastify';
import { idParams } from '../schemas.js';
import { HttpError } from '../errors.js';

export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  app.post('/sessions', async (req) => {
    const { limits } = app.kiln;
    // Optional body {deadlineMs}: a deadline for every request of the session, below the server's.
    const body = req.body as { deadlineMs?: unknown } | undefined;
    const asked = body && typeof body === 'object' ? body.deadlineMs : undefined;
    if (asked !== undefined && !(Number.isInteger(asked) && (asked as number) >= 1 && (asked as number) <= limits.requestMs)) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `POST /sessions: deadlineMs ${JSON.stringify(asked)?.slice(0, 40)}: expected whole milliseconds, 1 to the server's request deadline ${limits.requestMs}`);
    }
    const s = app.kiln.tenants.open(req.kilnTenant);
    s.deadlineMs = asked as number | undefined;
    return {
      session: s.id,
      deadlineMs: s.deadlineMs ?? limits.requestMs,
      idleMs: limits.sessionIdleMs,
      quotas: { bytes: limits.sessionBytes, buffers: limits.sessionBuffers, queued: limits.sessionQueued, models: limits.sessionModels },
    };
  });

  app.get('/sessions', async (req) => app.kiln.tenants.list(req.kilnTenant).map((s) => s.describe()));

  app.delete<{ Params: { id: string } }>('/sessions/:id', { schema: { params: idParams } }, async (req) => {
    const s = app.kiln.tenants.session(req.kilnTenant, req.params.id);
    if (s.pending > 0) {
      throw new HttpError('KILN_ERR_CONFLICT', `session ${s.id} has ${s.pending} requests queued or running; delete it when they are answered`);
    }
    const freed = { buffers: s.buffers.size, models: s.models.size };
    app.kiln.tenants.close(req.kilnTenant, s.id);
    return { deleted: s.id, ...freed };
  });
}
