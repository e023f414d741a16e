/**
 * @file What the server's routes and request handlers share: the state every route reaches through
 * `app.kiln`, the view of it one request sees ({@link stateFor}), and the msgpack reply helper. Kept
 * apart from `server/app.ts` (which registers the routes) so that routes never import the app that
 * imports them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { encode } from '@msgpack/msgpack';
import type { Device } from '../runtime/device.js';
import { HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { WorkQueue } from './work.js';
import type { BufferStore, Limits } from './state.js';
import { DEFAULT_TENANT, SESSION_HEADER, type Session, type Tenants } from './sessions.js';
import type { ExecutableCache } from './cache.js';
import type { OpTable } from './ops.js';

/** What every route can reach through `app.kiln`. */
export interface KilnState {
  device: Device;
  cache: ExecutableCache;
  /** The request's session (in `app.kiln`: the default tenant's default session; see {@link stateFor}). */
  session: Session;
  /** The session's buffers. */
  buffers: BufferStore;
  /** Every tenant's sessions and their shared budget. */
  tenants: Tenants;
  limits: Limits;
  metrics: Metrics;
  version: string;
  /** Serialises device work so runs are timed and reported one at a time; cancels a request's work. */
  work: WorkQueue;
  /** The functions `POST /ops/:name` runs, and the calls traced so far (one table for all tenants: traces hold no data). */
  ops: OpTable;
}

declare module 'fastify' {
  interface FastifyInstance {
    kiln: KilnState;
  }
  interface FastifyRequest {
    /** Whose buffers the request sees: the tenant its token names (`default` without tenants). */
    kilnTenant: string;
  }
}

/**
 * The server's state as one request sees it: the session its `X-Kiln-Session` header names within
 * its tenant (a 404 for another tenant's, an unknown or an ended one), or its tenant's default
 * session without the header. Marks the session used.
 */
export function stateFor(app: FastifyInstance, req: FastifyRequest): KilnState {
  const header = req.headers[SESSION_HEADER];
  if (header === undefined && req.kilnTenant === DEFAULT_TENANT) return app.kiln;
  if (Array.isArray(header)) throw new HttpError('KILN_ERR_BAD_REQUEST', `send one ${SESSION_HEADER} header, not ${header.length}`);
  const session = header === undefined ? app.kiln.tenants.defaultSession(req.kilnTenant) : app.kiln.tenants.session(req.kilnTenant, header);
  session.usedAt = Date.now();
  return { ...app.kiln, session, buffers: session.buffers };
}

export const MSGPACK = 'application/msgpack';

/** Sends a msgpack reply. */
export function msgpack(value: unknown): Buffer {
  const bytes = encode(value, { ignoreUndefined: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
