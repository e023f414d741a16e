/**
 * @file The dashboard: GET / (the page) and GET /assets/* (its script and styles), both public
 * because they hold nothing of the server's, and the JSON the page polls, which needs the token
 * like every other route: GET /dashboard/state, GET /dashboard/examples[/:name].
 *
 * The page itself is TypeScript under server/dashboard/page, bundled for the browser by
 * scripts/build-dashboard.mjs into dist/dashboard (`npm run build`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Examples } from '../dashboard/examples.js';
import { HttpError } from '../errors.js';
import { stateFor } from '../context.js';
import { describeModel } from './models.js';

export interface DashboardOptions {
  /** The built page (index.html, main.js, style.css). Default: KILN_DASHBOARD_DIR, else dist/dashboard. */
  assetsDir?: string;
  /**
   * Programs for the playground in the corpus format. Default: KILN_EXAMPLES, else KILN_CORPUS,
   * else ../shared/stablehlo-corpus beside the checkout when it exists.
   */
  examplesDir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Buffers listed on the dashboard; the totals always count all of them. */
const LISTED_BUFFERS = 200;

/** The checkout or installed package: the nearest folder above this file with kiln's package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kiln') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function defaultExamplesDir(root: string | undefined): string | undefined {
  const env = process.env.KILN_EXAMPLES ?? process.env.KILN_CORPUS;
  if (env) return resolve(env);
  const beside = root && resolve(root, '../shared/stablehlo-corpus');
  return beside && existsSync(beside) ? beside : undefined;
}

const NOT_BUILT = (dir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiln: dashboard not built</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
code{background:#eef1f4;padding:.1em .35em;border-radius:4px}</style></head>
<body><h1>The dashboard is not built</h1>
<p>This kiln server is running, but the dashboard page was not found at <code>${dir.replace(/[<>&]/g, '')}</code>.</p>
<p>Build it with <code>npm run build</code> (or <code>npm install</code>, which builds), then reload.
The API (<code>/health</code>, <code>/compile</code>, <code>/run</code>, ...) works without it.</p></body></html>
`;

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions = {}): Promise<void> {
  const root = packageRoot();
  const assetsDir = resolve(opts.assetsDir ?? process.env.KILN_DASHBOARD_DIR ?? join(root ?? process.cwd(), 'dist/dashboard'));
  const examples = new Examples(opts.examplesDir ?? defaultExamplesDir(root));

  app.get('/', async (_req, reply) => {
    const index = join(assetsDir, 'index.html');
    void reply.header('cache-control', 'no-cache').type(CONTENT_TYPES['.html']);
    if (!existsSync(index)) return reply.status(503).send(NOT_BUILT(assetsDir));
    return reply.send(readFileSync(index));
  });

  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const name = req.params['*'];
    // Only plain file names of the built page: no folders, so nothing outside it can be asked for.
    const files = existsSync(assetsDir) ? readdirSync(assetsDir) : [];
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) || !files.includes(name)) {
      throw new HttpError('KILN_ERR_NOT_FOUND', `no dashboard asset '${name}'${files.length ? '' : ' (the dashboard is not built: npm run build)'}`);
    }
    void reply.header('cache-control', 'no-cache').type(CONTENT_TYPES[extname(name)] ?? 'application/octet-stream');
    return reply.send(readFileSync(join(assetsDir, name)));
  });

  app.get('/dashboard/state', async (req) => {
    const { device, cache, buffers, limits, metrics, version, tenants } = stateFor(app, req);
    // The models of every session of the request's tenant: the tenant's own, so its operator sees them all.
    const sessions = [tenants.defaultSession(req.kilnTenant), ...tenants.list(req.kilnTenant)];
    const all = buffers.list();
    return {
      version,
      now: Date.now(),
      startedAt: metrics.startedAt,
      device: device.info(),
      limits,
      cache: { executables: cache.size, compiles: cache.compiles, hits: cache.hits },
      executions: { count: metrics.executions, ms: metrics.executionMs },
      buffers: {
        count: all.length,
        bytes: buffers.bytes,
        listed: all.slice(-LISTED_BUFFERS).reverse().map((b) => ({
          buffer: b.id, dtype: b.array.type.dtype, shape: [...b.array.type.shape], bytes: b.bytes, createdAt: b.createdAt,
        })),
      },
      sessions: sessions.length - 1,
      models: sessions.flatMap((s) => s.models.list().map((m) => ({ session: s.id, ...describeModel(m) }))).slice(0, LISTED_BUFFERS),
      seconds: metrics.seconds,
      errors: [...metrics.recentErrors].reverse(),
    };
  });

  app.get('/dashboard/examples', async () => examples.list());

  app.get<{ Params: { name: string } }>('/dashboard/examples/:name', {
    schema: { params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['name'] } },
  }, async (req) => {
    const e = examples.get(req.params.name);
    if (!e) throw new HttpError('KILN_ERR_NOT_FOUND', `no example '${req.params.name}' (GET /dashboard/examples lists them)`);
    return e;
  });
}
