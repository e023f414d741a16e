/**
 * @file `kiln serve`: opens the device, builds the app and listens; loopback by default, and any
 * other address only with a token. SIGTERM and SIGINT cancel queued and running work and close it,
 * exiting within 10 s whatever runs.
 */
import { KilnError } from '../ir/errors.js';
import { openDevice, type DeviceName } from '../runtime/open.js';
import { ReferenceDevice } from '../runtime/reference/device.js';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { isLoopback, MIN_TOKEN_LENGTH } from './guard.js';
import { DEFAULT_LIMITS, type Limits } from './state.js';

export interface ServeOptions {
  host?: string;
  port?: number;
  token?: string;
  /** The device to serve on (default: `KILN_DEVICE`, else `auto`). */
  device?: DeviceName;
  /** Seconds a kept buffer may go unused before it is freed (default: never). */
  bufferTtl?: number;
  /** Seconds a session may go unused before it ends, freeing all it holds (default 3600; 0: never). */
  sessionTtl?: number;
  /**
   * Seconds a request's device work may take, queue included (default 60); one run gets at most
   * this too. The TTLs must be at least this long. Short ones serve tests and the soak script.
   */
  requestTimeout?: number;
  /** A file of `TENANT TOKEN` lines: one tenant per token, each with buffers of its own. */
  tokensFile?: string;
  cacheDir?: string;
  limits?: Partial<Limits>;
}

/**
 * The URL the server listens on, with the host asked for: fastify's `listen` answers with the first
 * address it bound, `http://127.0.0.1:...` even for `--host 0.0.0.0`.
 */
function serverUrl(host: string, app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** Reads `TENANT TOKEN` lines (blank lines and `#` comments skipped); errors name the file and line. */
function readTokens(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KilnError('KILN_ERR_INPUT', `--tokens ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new KilnError('KILN_ERR_INPUT', `${file}:${i + 1}: expected 'TENANT TOKEN'`);
    if (parts[0] in out) throw new KilnError('KILN_ERR_INPUT', `${file}:${i + 1}: tenant ${parts[0]} is listed twice`);
    out[parts[0]] = parts[1];
  });
  if (Object.keys(out).length === 0) throw new KilnError('KILN_ERR_INPUT', `--tokens ${file}: no tenants in it`);
  return out;
}

/** How long SIGTERM waits for cancelled work to stop before exiting anyway. */
const DRAIN_MS = 10_000;

export async function serveCommand(opts: ServeOptions): Promise<number> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 5555;
  const token = opts.token ?? process.env.KILN_TOKEN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KilnError('KILN_ERR_INPUT', `--port ${opts.port}: expected 0-65535`);
  const tokens = opts.tokensFile === undefined ? undefined : readTokens(opts.tokensFile);
  if (!isLoopback(host) && !token && !tokens) {
    throw new KilnError('KILN_ERR_INPUT', `refusing to listen on ${host} without a token: pass --token T (or KILN_TOKEN), or use --host 127.0.0.1 and an SSH tunnel`);
  }
  if (opts.requestTimeout !== undefined && !(opts.requestTimeout >= 1 && opts.requestTimeout <= 3600)) {
    throw new KilnError('KILN_ERR_INPUT', `--request-timeout ${opts.requestTimeout}: expected seconds, 1-3600`);
  }
  const deadline = opts.requestTimeout ?? DEFAULT_LIMITS.requestMs / 1000;
  if (opts.bufferTtl !== undefined && !(opts.bufferTtl >= deadline)) {
    throw new KilnError('KILN_ERR_INPUT', `--buffer-ttl ${opts.bufferTtl}: expected seconds, at least ${deadline} (the request deadline)`);
  }
  if (opts.sessionTtl !== undefined && !(opts.sessionTtl === 0 || opts.sessionTtl >= deadline)) {
    throw new KilnError('KILN_ERR_INPUT', `--session-ttl ${opts.sessionTtl}: expected seconds, at least ${deadline} (the request deadline), or 0 for never`);
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new KilnError('KILN_ERR_INPUT', `the token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (e.g. \`openssl rand -hex 16\`): a short one can be guessed through the port`);
  }
  let device = await openDevice(opts.device);
  if (device.kind === 'reference') {
    // Runs on a worker thread: an endless loop never blocks /health, and cancelling one stops it.
    device.destroy();
    device = new ReferenceDevice({ isolate: true });
  }
  const limits = {
    ...opts.limits,
    ...(opts.requestTimeout === undefined ? {} : {
      requestMs: opts.requestTimeout * 1000,
      executionMs: Math.min(DEFAULT_LIMITS.executionMs, opts.requestTimeout * 1000),
    }),
    ...(opts.bufferTtl === undefined ? {} : { bufferIdleMs: opts.bufferTtl * 1000 }),
    ...(opts.sessionTtl === undefined ? {} : { sessionIdleMs: opts.sessionTtl * 1000 }),
  };
  const app = await buildApp({ device, token, tokens, cacheDir: opts.cacheDir, limits, logger: false });
  await app.listen({ host, port });
  const info = device.info();
  process.stdout.write(`kiln: serving on ${serverUrl(host, app)} (device: ${info.kind}, ${info.adapter})${tokens ? `, ${Object.keys(tokens).length + (token ? 1 : 0)} tenants` : token ? ', token required' : ''}\n`);

  return new Promise<number>((resolve) => {
    let closing = false;
    const close = (signal: string) => {
      if (closing) return;
      closing = true;
      process.stdout.write(`kiln: ${signal}, closing\n`);
      // close() cancels queued and running work (WorkQueue.cancelAll); a run that cannot be
      // stopped (a GPU dispatch, a reference op between deadline checks) gets a bounded wait.
      const force = setTimeout(() => {
        process.stderr.write(`kiln: work still running ${DRAIN_MS / 1000} s after ${signal}; exiting without it\n`);
        process.exit(1);
      }, DRAIN_MS);
      force.unref();
      app.close().then(() => {
        clearTimeout(force);
        device.destroy();
        resolve(0);
      }, () => resolve(1));
    };
    process.once('SIGTERM', () => close('SIGTERM'));
    process.once('SIGINT', () => close('SIGINT'));
  });
}
