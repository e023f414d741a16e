/**
 * @file The session's models: POST /models (a module and the weights that bind some of its
 * arguments: safetensors bytes and/or resident buffers), GET /models, GET /models/:name,
 * DELETE /models/:name, and POST /models/:name/infer, which sends only the remaining inputs.
 */
import type { FastifyInstance } from 'fastify';
import { msgpack, MSGPACK, stateFor } from '../context.js';
import { runExecutable, type CallBody } from '../calls.js';
import { HttpError } from '../errors.js';
import { remainingArgs, type Model } from '../models.js';
import { registerModel, type ModelBody } from '../register.js';
import { inferSchema, modelSchema, msgpackOnly, nameParams } from '../schemas.js';

const typeOf = (t: { dtype: string; shape: readonly number[] }) => ({ dtype: t.dtype, shape: [...t.shape] });

/** A model's signature and stats, as the list and the dashboard show it. */
export function describeModel(m: Model) {
  return {
    name: m.name,
    executable: m.executable,
    inputs: remainingArgs(m).map((arg) => ({ arg, ...typeOf(m.args[arg]) })),
    weights: m.weights.map((w) => ({ arg: w.arg, ...w.from, ...typeOf(m.args[w.arg]), bytes: w.bytes })),
    outputs: m.outputs.map(typeOf),
    bytes: m.bytes,
    runs: m.runs,
    latencyMs: { mean: m.runs === 0 ? null : m.totalMs / m.runs },
    createdAt: m.createdAt,
  };
}

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  const { bodyBytes: bodyLimit } = app.kiln.limits;

  app.post<{ Body: ModelBody }>('/models', { bodyLimit, schema: { body: modelSchema } }, async (req, reply) => {
    msgpackOnly(req.headers['content-type'], 'POST /models');
    const { model, cached, notes } = await registerModel(stateFor(app, req), req.body);
    return reply.type(MSGPACK).send(msgpack({ ...describeModel(model), cached, notes }));
  });

  app.get('/models', async (req) => stateFor(app, req).session.models.list().map(describeModel));

  app.get<{ Params: { name: string } }>('/models/:name', { schema: { params: nameParams } }, async (req) =>
    describeModel(stateFor(app, req).session.models.get(req.params.name)));

  app.delete<{ Params: { name: string } }>('/models/:name', { schema: { params: nameParams } }, async (req) => {
    if (!stateFor(app, req).session.models.delete(req.params.name)) {
      throw new HttpError('KILN_ERR_NOT_FOUND', `no model '${req.params.name}' in this session`);
    }
    return { deleted: req.params.name };
  });

  app.post<{ Params: { name: string }; Body: CallBody }>('/models/:name/infer', { bodyLimit, schema: { params: nameParams, body: inferSchema } }, async (req, reply) => {
    const what = `POST /models/${req.params.name}/infer`;
    msgpackOnly(req.headers['content-type'], what);
    const state = stateFor(app, req);
    const out = await app.kiln.work.run(state, reply, what, async (ctx) => {
      // Looked up when its turn comes: a model deleted while this waited is a 404, not a freed weight.
      const { models } = state.session;
      const m = models.get(req.params.name);
      models.begin(m);
      let ms: number | undefined;
      try {
        const start = performance.now();
        // The cache may have evicted the executable; the model keeps its IR to compile it again.
        const entry = state.cache.get(m.executable) ?? (await state.cache.compile(m.ir, `${m.name}.mlir`)).entry;
        const r = await runExecutable(state, entry, req.body, ctx, `model '${m.name}': `, new Map(m.weights.map((w) => [w.arg, w.array])));
        ms = performance.now() - start;
        return r;
      } finally {
        models.end(m, ms);
      }
    });
    return reply.type(MSGPACK).send(msgpack(out));
  });
}
