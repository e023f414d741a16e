/**
 * @file GET /ops (the functions POST /ops/:name runs, with their signatures), GET /ops/stablehlo
 * (the StableHLO ops kiln compiles), and POST /ops/:name: one function of the client's numpy, nn or
 * lax namespaces on sent tensors, with JSON keyword arguments (server/ops.ts traces it).
 */
import type { FastifyInstance } from 'fastify';
import { ALL_OPS, Terminators } from '../../ir/ops.js';
import type { TensorType } from '../../ir/types.js';
import { decodeTensor, describeValue } from '../../runtime/wire.js';
import { msgpack, MSGPACK, stateFor } from '../context.js';
import { runExecutable, type CallBody } from '../calls.js';
import { HttpError } from '../errors.js';
import { handlesSchema, inputsSchema, keepSchema, msgpackOnly, nameParams, profileSchema } from '../schemas.js';

interface OpBody extends CallBody {
  kwargs?: Record<string, unknown>;
}

const opSchema = {
  type: 'object',
  required: ['inputs'],
  additionalProperties: false,
  properties: { inputs: inputsSchema, kwargs: {}, keep: keepSchema, handles: handlesSchema, profile: profileSchema },
} as const;

export async function opRoutes(app: FastifyInstance): Promise<void> {
  const { bodyBytes: bodyLimit } = app.kiln.limits;

  app.get('/ops', async () => app.kiln.ops.list());

  app.get('/ops/stablehlo', { schema: { response: { 200: { type: 'array', items: { type: 'string' } } } } }, async () =>
    ALL_OPS.filter((op) => !Terminators.has(op)),
  );

  app.post<{ Params: { name: string }; Body: OpBody }>('/ops/:name', { bodyLimit, schema: { params: nameParams, body: opSchema } }, async (req, reply) => {
    const what = `POST /ops/${req.params.name}`;
    msgpackOnly(req.headers['content-type'], what);
    const state = stateFor(app, req);
    const op = state.ops.resolve(req.params.name);
    // The inputs' types, from their headers or the buffers they name; runExecutable checks them again.
    const types: TensorType[] = req.body.inputs.map((v, i) => {
      if (v && typeof v === 'object' && 'buffer' in v) {
        const h = (v as { buffer: unknown }).buffer;
        if (typeof h !== 'string') throw new HttpError('KILN_ERR_BAD_REQUEST', `${op.name}: inputs[${i}].buffer must be a handle string, got ${describeValue(h)}`);
        return state.buffers.get(h).array.type;
      }
      const t = decodeTensor(v, `${op.name}: inputs[${i}]`);
      return { dtype: t.dtype, shape: [...t.shape] } as TensorType;
    });
    const traced = state.ops.trace(op, types, req.body.kwargs);
    const out = await app.kiln.work.run(state, reply, what, async (ctx) => {
      const entry = (traced.id !== undefined ? state.cache.get(traced.id) : undefined) ?? (await state.cache.compile(traced.ir, `${op.name}.mlir`)).entry;
      traced.id = entry.id;
      return runExecutable(state, entry, req.body, ctx, `${op.name}: `);
    });
    return reply.type(MSGPACK).send(msgpack({ op: op.name, single: traced.single, executable: traced.id, ...out }));
  });
}
