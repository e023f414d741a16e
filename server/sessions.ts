/**
 * @file Tenants and their sessions. A tenant is a token (`--tokens FILE`; `default` without
 * tenants); a session belongs to one tenant and owns buffers, kept outputs and models that no other
 * session, of its tenant or another, can see: they answer 404 as if absent. Requests without an
 * `X-Kiln-Session` header use their tenant's default session, which lives as long as the server;
 * `POST /sessions` makes others, which end when deleted or after `limits.sessionIdleMs` without a
 * request, freeing everything they hold. Every session has quotas (server/state.ts `Limits`).
 */
import { randomUUID } from 'node:crypto';
import type { Device } from '../runtime/device.js';
import { describeValue } from '../runtime/wire.js';
import { HttpError, MAX_ID_LENGTH } from './errors.js';
import { ModelStore } from './models.js';
import { BufferStore, ResidentBudget, Usage, type Limits } from './state.js';

/** The tenant of requests on a server with one token or none. */
export const DEFAULT_TENANT = 'default';

/** The id of each tenant's default session (server-made ids are UUIDs). */
export const DEFAULT_SESSION = 'default';

/** The header that names a request's session. */
export const SESSION_HEADER = 'x-kiln-session';

/** One session: its buffers and models, its quota usage, and when it was last used. */
export class Session {
  readonly buffers: BufferStore;
  readonly models: ModelStore;
  /** Bytes and buffers held, against the session quota (model weights included). */
  readonly usage: Usage;
  readonly createdAt = Date.now();
  usedAt = Date.now();
  /** Requests with device work queued or running (quota `sessionQueued`; never expired while > 0). */
  pending = 0;
  /** The session's own request deadline, ms (`POST /sessions {deadlineMs}`): at most the server's `requestMs`. */
  deadlineMs: number | undefined;

  constructor(
    /** The server-made id, or {@link DEFAULT_SESSION}. */
    readonly id: string,
    readonly tenant: string,
    device: Device,
    limits: Limits,
    server: ResidentBudget,
  ) {
    const owner = id === DEFAULT_SESSION ? `the default session of tenant ${tenant}` : `session ${id}`;
    this.usage = new Usage(owner, limits.sessionBytes, limits.sessionBuffers, 'quota');
    this.buffers = new BufferStore(device, limits, server, this.usage);
    this.models = new ModelStore(device, limits.sessionModels, [server, this.usage], owner);
  }

  /** Frees every buffer and model. */
  clear(): { buffers: number; models: number } {
    return { buffers: this.buffers.clear(), models: this.models.clear() };
  }

  /** What `GET /sessions` says of it. */
  describe() {
    return {
      session: this.id, createdAt: this.createdAt, usedAt: this.usedAt,
      buffers: this.buffers.size, models: this.models.size, bytes: this.usage.bytes, pending: this.pending,
    };
  }
}

/** Ended sessions remembered, so that a request naming one hears why it is gone. */
const REMEMBERED_ENDS = 4096;

/** One tenant's sessions. */
interface TenantSessions {
  default: Session;
  open: Map<string, Session>;
}

/**
 * Every tenant's sessions within the server's one resident budget. Executables are shared by all:
 * they are content-addressed and hold no one's data.
 */
export class Tenants {
  readonly budget: ResidentBudget;
  /** Sessions ended for being idle since start. */
  expiredSessions = 0;
  private readonly tenants = new Map<string, TenantSessions>();
  /** Why recently ended sessions ended, by `tenant/id`. */
  private readonly ended = new Map<string, string>();

  constructor(private readonly device: Device, private readonly limits: Limits) {
    this.budget = new ResidentBudget(limits);
  }

  /** The tenant's default session (made on first use). */
  defaultSession(tenant: string): Session {
    return this.of(tenant).default;
  }

  /** Starts a session for the tenant, or refuses past `limits.sessions`. */
  open(tenant: string): Session {
    const t = this.of(tenant);
    if (t.open.size >= this.limits.sessions) {
      throw new HttpError('KILN_ERR_QUOTA', `tenant ${tenant} has ${t.open.size} sessions open, its limit (sessions); DELETE /sessions/:id one first`);
    }
    const s = new Session(randomUUID(), tenant, this.device, this.limits, this.budget);
    t.open.set(s.id, s);
    return s;
  }

  /** The tenant's session `id`; a 404 for one it never had, another tenant's, or an ended one (saying why). */
  session(tenant: string, id: string): Session {
    if (id.length > MAX_ID_LENGTH) throw new HttpError('KILN_ERR_BAD_REQUEST', `session id of ${id.length} characters: ids are at most ${MAX_ID_LENGTH}`);
    const s = this.tenants.get(tenant)?.open.get(id);
    if (s) return s;
    const why = this.ended.get(`${tenant}/${id}`);
    throw new HttpError('KILN_ERR_NOT_FOUND', `no session ${describeValue(id)}${why ? `: it ${why}, and its buffers and models were freed` : ' (it was never made by POST /sessions, or ended)'}; POST /sessions starts one`);
  }

  /** The tenant's open sessions (not its default one). */
  list(tenant: string): Session[] {
    return [...(this.tenants.get(tenant)?.open.values() ?? [])];
  }

  /** Every session of every tenant, default ones included. */
  all(): Session[] {
    return [...this.tenants.values()].flatMap((t) => [t.default, ...t.open.values()]);
  }

  /** Ends a session and frees all it holds; false if the tenant has no such open session. */
  close(tenant: string, id: string, why = 'was deleted'): boolean {
    const t = this.tenants.get(tenant);
    const s = t?.open.get(id);
    if (!t || !s) return false;
    t.open.delete(id);
    s.clear();
    this.ended.set(`${tenant}/${id}`, why);
    if (this.ended.size > REMEMBERED_ENDS) this.ended.delete(this.ended.keys().next().value!);
    return true;
  }

  /**
   * Frees idle buffers of every session (`limits.bufferIdleMs`) and ends the sessions idle for
   * `limits.sessionIdleMs`, unless they have work queued or running. Returns the buffers freed.
   */
  expire(now = Date.now()): number {
    let freed = 0;
    for (const s of this.all()) freed += s.buffers.expire(now);
    const idle = this.limits.sessionIdleMs;
    if (idle > 0) {
      for (const [tenant, t] of this.tenants) {
        for (const s of [...t.open.values()]) {
          if (s.pending > 0 || now - s.usedAt <= idle) continue;
          freed += s.buffers.size;
          this.budget.expired += s.buffers.size;
          this.close(tenant, s.id, `was idle ${idle / 1000} s and expired`);
          this.expiredSessions++;
        }
      }
    }
    return freed;
  }

  private of(tenant: string): TenantSessions {
    let t = this.tenants.get(tenant);
    if (!t) {
      t = { default: new Session(DEFAULT_SESSION, tenant, this.device, this.limits, this.budget), open: new Map() };
      this.tenants.set(tenant, t);
    }
    return t;
  }
}
