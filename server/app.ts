/**
 * @file The kiln server as a fastify app: shared state and cross-cutting concerns (auth, msgpack,
 * errors) at the root, each route family as an encapsulated plugin. `server/main.ts` listens.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { decode } from '@msgpack/msgpack';
import type { Device } from '../runtime/device.js';
import { HttpError, toHttpError } from './errors.js';
import { KilnError } from '../ir/errors.js';
import { Metrics } from './metrics.js';
import { WorkQueue } from './work.js';
import { describeValue } from '../runtime/wire.js';
import { DEFAULT_LIMITS, type Limits } from './state.js';
import { DEFAULT_TENANT, Tenants } from './sessions.js';
import { MSGPACK, type KilnState } from './context.js';
import { ExecutableCache } from './cache.js';
import { checkLoopbackRequest, checkToken, isPublicPath, MIN_TOKEN_LENGTH } from './guard.js';
import { healthRoutes } from './routes/health.js';
import { compileRoutes } from './routes/compile.js';
import { executeRoutes } from './routes/execute.js';
import { bufferRoutes } from './routes/buffers.js';
import { executableRoutes } from './routes/executables.js';
import { metricsRoutes } from './routes/metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { sessionRoutes } from './routes/sessions.js';
import { modelRoutes } from './routes/models.js';
import { opRoutes } from './routes/ops.js';
import { OpTable } from './ops.js';

export interface ServerOptions {
  device: Device;
  /**
   * When set, every route but /health and the dashboard page needs `Authorization: Bearer <token>`.
   * When not, only requests addressed to a loopback name and not sent by another site's page are
   * answered (see server/guard.ts).
   */
  token?: string;
  /**
   * Several tenants, by name: each token (16 characters or more) admits requests as its tenant,
   * whose buffers no other tenant can see, use or delete. May be combined with `token` (the
   * `default` tenant).
   */
  tokens?: Record<string, string>;
  cacheDir?: string;
  limits?: Partial<Limits>;
  logger?: boolean;
  version?: string;
}


/** Body limit of the routes that take no body (GET, DELETE), bytes. */
const SMALL_BODY_BYTES = 64 << 10;

/** The tenants and their tokens: `token` is the default tenant's. Refuses short or shared tokens and bad names. */
function tenantTokens(opts: ServerOptions): [tenant: string, token: string][] {
  const all: [string, string][] = Object.entries(opts.tokens ?? {});
  if (opts.token) all.push([DEFAULT_TENANT, opts.token]);
  const seen = new Set<string>();
  for (const [name, token] of Object.entries(opts.tokens ?? {})) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new KilnError('KILN_ERR_INPUT', `tenant ${JSON.stringify(name.slice(0, 80))}: use 1-64 letters, digits, '_', '.' or '-'`);
    if (token.length < MIN_TOKEN_LENGTH) throw new KilnError('KILN_ERR_INPUT', `tenant ${name}: its token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}`);
  }
  for (const [name, token] of all) {
    if (seen.has(token)) throw new KilnError('KILN_ERR_INPUT', `tenant ${name}: its token is another tenant's too`);
    seen.add(token);
  }
  return all;
}

export async function buildApp(opts: ServerOptions): Promise<FastifyInstance> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (limits.bufferIdleMs > 0 && limits.bufferIdleMs < limits.requestMs) {
    throw new KilnError('KILN_ERR_INPUT', `buffer idle time ${limits.bufferIdleMs} ms is shorter than the request deadline ${limits.requestMs} ms: queued work could lose its inputs`);
  }
  const metrics = new Metrics();
  const app = Fastify({
    logger: opts.logger ?? false,
    // Routes that take bodies set their own limit (IR text far below tensors); this bounds the rest.
    bodyLimit: SMALL_BODY_BYTES,
    // Buffer handles are up to 128 characters (BufferStore.checkHandle); find-my-way's default of
    // 100 answered longer ids before any route or error handler ran.
    routerOptions: { maxParamLength: 256 },
    // Route schemas validate parsed msgpack bodies too; never coerce or strip what a client sent.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // A URL fastify cannot decode (`/%zz`) is answered before any route or error handler runs;
    // without this the reply would be fastify's own shape, not `{error: {code, message}}`.
    // These replies skip the onResponse hook, so they are counted here.
    frameworkErrors: (err, req, reply) => {
      const e = toHttpError(err);
      metrics.request('unmatched', e.status, 0);
      metrics.error(req.method, req.url, e);
      void (reply as FastifyReply).status(e.status).type('application/json').send(e.toJSON());
    },
  });
  const tenants = new Tenants(opts.device, limits);
  const credentials = tenantTokens(opts);
  const defaultSession = tenants.defaultSession(DEFAULT_TENANT);
  app.decorate('kiln', {
    device: opts.device,
    cache: new ExecutableCache(opts.device, limits, opts.cacheDir),
    session: defaultSession,
    buffers: defaultSession.buffers,
    tenants,
    limits,
    metrics,
    version: opts.version ?? '0.1.0',
    work: new WorkQueue(),
    ops: new OpTable(),
  } satisfies KilnState);
  // Shutdown cancels queued and running work, so close() waits for no endless loop.
  app.addHook('preClose', async () => { await app.kiln.work.cancelAll('the server is shutting down'); });
  // Idle buffers and sessions expire (limits.bufferIdleMs, sessionIdleMs), swept a few times per idle period.
  const idle = Math.min(...[limits.bufferIdleMs, limits.sessionIdleMs].filter((ms) => ms > 0));
  const sweep = Number.isFinite(idle)
    ? setInterval(() => app.kiln.tenants.expire(), Math.min(60_000, Math.max(1000, idle / 4)))
    : undefined;
  sweep?.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    app.kiln.cache.close();
  });

  // Bounds on what one msgpack body may declare, checked from each header before allocating: no
  // field has more than 65,536 items (inputs: 4,096; calls: 1,024) or 256 keys, no string is
  // longer than an IR text, no binary longer than a tensor.
  const decodeLimits = {
    maxArrayLength: 1 << 16, maxMapLength: 256, maxStrLength: limits.irBytes, maxBinLength: limits.tensorBytes, maxExtLength: 1 << 10,
  };
  for (const type of [MSGPACK, 'application/x-msgpack']) {
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, decode(body as Buffer, decodeLimits));
      } catch (e) {
        const msg = (e as Error).message;
        done(/^Max length exceeded/.test(msg)
          ? new HttpError('KILN_ERR_TOO_LARGE', `a field of the msgpack body is larger than this server takes: ${msg}`)
          : new HttpError('KILN_ERR_BAD_REQUEST', `malformed msgpack body: ${msg}`), undefined);
      }
    });
  }

  app.decorateRequest('kilnTenant', DEFAULT_TENANT);
  app.addHook('onRequest', async (req) => {
    if (credentials.length === 0) return checkLoopbackRequest(req);
    if (!isPublicPath(req.url.split('?')[0])) req.kilnTenant = checkToken(req, credentials);
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.request(req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    metrics.error(req.method, req.url, e);
    if (e.status >= 500) req.log.error(err);
    void reply.status(e.status).type('application/json').send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new HttpError('KILN_ERR_NOT_FOUND', `no route ${req.method} ${describeValue(req.url)}`);
    metrics.error(req.method, req.url, e);
    void reply.status(404).send(e.toJSON());
  });

  await app.register(healthRoutes);
  await app.register(compileRoutes);
  await app.register(executeRoutes);
  await app.register(bufferRoutes);
  await app.register(sessionRoutes);
  await app.register(modelRoutes);
  await app.register(opRoutes);
  await app.register(executableRoutes);
  await app.register(metricsRoutes);
  await app.register(dashboardRoutes);
  return app;
}
