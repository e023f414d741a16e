/**
 * @file POST /execute, /run and /batch: msgpack in, msgpack out. A batch runs its calls in order,
 * so a later call may use buffers an earlier one kept: a remote training step is one request.
 * `profile: true` on a call adds its kernels' GPU times to its reply (see server/profile.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WorkContext } from '../work.js';
import { msgpack, MSGPACK, stateFor, type KilnState } from '../context.js';
import { runCall, uploadBuffer, uploadSchema, type CallBody, type CallReply, type UploadBody } from '../calls.js';
import { encodeTensor } from '../../runtime/wire.js';
import { HttpError, toHttpError } from '../errors.js';
import { handlesSchema, inputsSchema, keepSchema, msgpackOnly, profileSchema } from '../schemas.js';


const executeSchema = {
  type: 'object',
  required: ['executable', 'inputs'],
  properties: { executable: { type: 'string' }, inputs: inputsSchema, keep: keepSchema, handles: handlesSchema, profile: profileSchema },
} as const;
const runSchema = {
  type: 'object',
  required: ['ir', 'inputs'],
  properties: { ir: { type: 'string' }, inputs: inputsSchema, keep: keepSchema, handles: handlesSchema, profile: profileSchema },
} as const;
const batchSchema = {
  type: 'object',
  required: ['calls'],
  properties: {
    calls: {
      type: 'array',
      maxItems: 1024,
      items: {
        type: 'object',
        required: ['inputs'],
        properties: {
          executable: { type: 'string' }, ir: { type: 'string' }, inputs: inputsSchema, keep: keepSchema, handles: handlesSchema, profile: profileSchema,
        },
      },
    },
    uploads: { type: 'array', maxItems: 4096, items: uploadSchema },
    fetch: { type: 'array', maxItems: 4096, items: { type: 'string' } },
    free: { type: 'array', maxItems: 4096, items: { type: 'string' } },
  },
} as const;

interface BatchBody {
  /** Tensors to keep first, under client-chosen handles (so calls can use them). */
  uploads?: UploadBody[];
  calls: CallBody[];
  /** Kept buffers whose contents come back in the reply's `fetched`, after the calls ran. */
  fetch?: string[];
  /** Buffers to delete after the calls ran (and after `fetch`). */
  free?: string[];
}

export async function executeRoutes(app: FastifyInstance): Promise<void> {
  const { bodyBytes: bodyLimit } = app.kiln.limits;
  // Device work runs one request at a time, in arrival order, and is cancelled with its request
  // (server/work.ts): timings stay honest and a batch's calls see each other's kept buffers.
  const serial = <T>(state: KilnState, reply: FastifyReply, what: string, work: (ctx: WorkContext) => Promise<T>): Promise<T> =>
    app.kiln.work.run(state, reply, what, work);

  app.post<{ Body: CallBody }>('/execute', { bodyLimit, schema: { body: executeSchema } }, async (req, reply) => {
    msgpackOnly(req.headers['content-type'], 'POST /execute');
    const state = stateFor(app, req);
    return reply.type(MSGPACK).send(msgpack(await serial(state, reply, 'POST /execute', (ctx) => runCall(state, req.body, ctx))));
  });

  app.post<{ Body: CallBody }>('/run', { bodyLimit, schema: { body: runSchema } }, async (req, reply) => {
    msgpackOnly(req.headers['content-type'], 'POST /run');
    const state = stateFor(app, req);
    return reply.type(MSGPACK).send(msgpack(await serial(state, reply, 'POST /run', (ctx) => runCall(state, req.body, ctx))));
  });

  app.post<{ Body: BatchBody }>('/batch', { bodyLimit, schema: { body: batchSchema } }, async (req, reply) => {
    msgpackOnly(req.headers['content-type'], 'POST /batch');
    const state = stateFor(app, req);
    const reply_ = await serial(state, reply, 'POST /batch', async (ctx) => {
      (req.body.uploads ?? []).forEach((u, i) => uploadBuffer(state, u, `uploads[${i}]`, ctx));
      const out: CallReply[] = [];
      for (const [i, call] of req.body.calls.entries()) {
        try {
          out.push(await runCall(state, call, ctx, `calls[${i}]: `));
        } catch (e) {
          const err = toHttpError(e);
          // Name the failing call. The batch keeps nothing: its uploads and the outputs its calls
          // kept are freed (WorkQueue.run), so a retry can use the same handles.
          throw new HttpError(err.code, err.message.startsWith('calls[') ? err.message : `calls[${i}]: ${err.message}`,
            err.line === undefined ? undefined : { line: err.line, column: err.column ?? 0 });
        }
      }
      const fetched: Record<string, unknown> = {};
      for (const id of req.body.fetch ?? []) {
        fetched[id] = encodeTensor(await state.device.read(state.buffers.get(id).array));
      }
      for (const id of req.body.free ?? []) state.buffers.delete(id);
      return { results: out, fetched };
    });
    return reply.type(MSGPACK).send(msgpack(reply_));
  });
}
