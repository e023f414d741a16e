/**
 * @file The server's limits, what holds device memory against them ({@link Usage}), and a session's
 * resident buffers. (Sessions and tenants are server/sessions.ts, models server/models.ts, the
 * executable cache server/cache.ts, the counters server/metrics.ts.)
 */
import { randomUUID } from 'node:crypto';
import type { Device, DeviceArray } from '../runtime/device.js';
import { describeValue } from '../runtime/wire.js';
import { HttpError, MAX_ID_LENGTH } from './errors.js';

export interface Limits {
  /** Largest request body of the routes that carry tensors (/execute, /run, /batch), bytes. */
  bodyBytes: number;
  /**
   * Largest IR text (the body of /compile, the `ir` of a call), bytes. Far below `bodyBytes`:
   * parsing costs memory per token, while tensor bytes are copied once.
   */
  irBytes: number;
  /** Tokens in one IR text, counted before the lexer allocates them (about 200 bytes each). */
  irTokens: number;
  /** Largest single tensor in a request or kept on the server, bytes. */
  tensorBytes: number;
  /** All kept buffers together, bytes. */
  residentBytes: number;
  /** Operations in one module (nested regions included). */
  opsPerModule: number;
  /** Wall time one execution may take, ms. */
  executionMs: number;
  /** Wall time a request's device work may take, waiting in the queue included, ms. */
  requestMs: number;
  /** Executables kept in memory, by the estimate of what each holds (server/cache.ts `estimateBytes`). */
  cacheBytes: number;
  /** Buffers kept at once (tiny ones too: each costs a map entry and a device allocation). */
  buffers: number;
  /**
   * A kept buffer no request has used for this long is freed, ms; 0 keeps buffers until they are
   * deleted. At least `requestMs` when set, so work waiting in the queue never loses its inputs.
   */
  bufferIdleMs: number;
  /**
   * A session made by `POST /sessions` that no request has used for this long is ended, and every
   * buffer and model it holds freed, ms; 0 keeps sessions until they are deleted. A session with
   * work queued or running is never ended.
   */
  sessionIdleMs: number;
  /** Sessions one tenant may hold open at once (each tenant's default session not counted). */
  sessions: number;
  /** One session's quota: bytes of its buffers and model weights together. */
  sessionBytes: number;
  /** One session's quota: buffers kept, model weights included (each weight is a buffer). */
  sessionBuffers: number;
  /** One session's quota: its requests with device work queued or running at once. */
  sessionQueued: number;
  /** One session's quota: models registered (`POST /models`). */
  sessionModels: number;
}

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 256 * 2 ** 20,
  irBytes: 8 * 2 ** 20,
  irTokens: 1_000_000,
  tensorBytes: 256 * 2 ** 20,
  residentBytes: 4 * 2 ** 30,
  opsPerModule: 100_000,
  executionMs: 30_000,
  requestMs: 60_000,
  cacheBytes: 2 * 2 ** 30,
  buffers: 65_536,
  bufferIdleMs: 0,
  sessionIdleMs: 3_600_000,
  sessions: 1024,
  sessionBytes: 4 * 2 ** 30,
  sessionBuffers: 65_536,
  sessionQueued: 64,
  sessionModels: 64,
};

export interface ResidentBuffer {
  id: string;
  array: DeviceArray;
  bytes: number;
  createdAt: number;
  /** When a request last used it (kept, read, passed as an input). */
  usedAt: number;
}

/**
 * Device memory held against one bound: the whole server's (`residentBytes`, `buffers`: past it a
 * 507, since only freeing anyone's buffers helps) or one session's quota (`sessionBytes`,
 * `sessionBuffers`: past it a 429 naming the quota, or a 413 for one thing the quota could never
 * hold). Buffers and model weights count alike: each is a device allocation.
 */
export class Usage {
  bytes = 0;
  count = 0;

  constructor(
    /** `server`, or `session <id>`: who the bound is for, in messages. */
    readonly owner: string,
    private readonly maxBytes: number,
    private readonly maxCount: number,
    private readonly kind: 'server' | 'quota',
  ) {}

  /** Refuses `count` more allocations of `bytes` in all that would pass the bound. */
  check(bytes: number, count = 1): void {
    if (this.kind === 'server') {
      if (this.count + count > this.maxCount) {
        throw new HttpError('KILN_ERR_RESOURCE', `keeping another buffer would pass the limit of ${this.maxCount} buffers; free some first`);
      }
      if (this.bytes + bytes > this.maxBytes) {
        throw new HttpError('KILN_ERR_RESOURCE', `keeping ${bytes} more bytes would pass the resident limit of ${this.maxBytes} (${this.bytes} in use)`);
      }
      return;
    }
    if (count > this.maxCount || bytes > this.maxBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `${count} buffers of ${bytes} bytes in all pass the quota of ${this.owner} (sessionBytes ${this.maxBytes}, sessionBuffers ${this.maxCount}) even when it holds nothing`);
    }
    if (this.count + count > this.maxCount) {
      throw new HttpError('KILN_ERR_QUOTA', `${this.owner} holds ${this.count} buffers; ${count} more would pass its quota of ${this.maxCount} (sessionBuffers); free some first`);
    }
    if (this.bytes + bytes > this.maxBytes) {
      throw new HttpError('KILN_ERR_QUOTA', `${this.owner} holds ${this.bytes} bytes; ${bytes} more would pass its quota of ${this.maxBytes} (sessionBytes); free some first`);
    }
  }

  add(bytes: number, count = 1): void {
    this.bytes += bytes;
    this.count += count;
  }

  remove(bytes: number, count = 1): void {
    this.bytes -= bytes;
    this.count -= count;
  }
}

/** What all of a server's sessions hold together, checked against the server's limits. */
export class ResidentBudget extends Usage {
  /** Buffers freed for being idle since start. */
  expired = 0;

  constructor(limits: Limits) {
    super('server', limits.residentBytes, limits.buffers, 'server');
  }
}

/**
 * One session's buffers, kept under handles the client chose or the server made, counted against
 * the server's limits and the session's quota (checked in that order).
 */
export class BufferStore {
  private readonly buffers = new Map<string, ResidentBuffer>();
  bytes = 0;
  private readonly usages: readonly Usage[];

  constructor(private readonly device: Device, private readonly limits: Limits, private readonly server: ResidentBudget, quota: Usage) {
    this.usages = [server, quota];
  }

  /** Checks a client-chosen handle before work is queued for it. */
  checkHandle(id: string): void {
    if (id.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_.:-]+$/.test(id)) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `buffer handle ${describeValue(id)}: use 1-${MAX_ID_LENGTH} letters, digits, '_', '.', ':' or '-'`);
    }
    if (this.buffers.has(id)) throw new HttpError('KILN_ERR_CONFLICT', `buffer handle '${id}' is already in use; DELETE /buffers/${id} first`);
  }

  /** Reserves room for one more buffer of `bytes`, or refuses. */
  checkRoom(bytes: number): void {
    if (bytes > this.limits.tensorBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `a buffer of ${bytes} bytes passes the tensor limit of ${this.limits.tensorBytes}`);
    }
    for (const u of this.usages) u.check(bytes);
  }

  put(array: DeviceArray, bytes: number, id?: string): ResidentBuffer {
    if (id !== undefined) this.checkHandle(id);
    this.checkRoom(bytes);
    const now = Date.now();
    const b: ResidentBuffer = { id: id ?? randomUUID(), array, bytes, createdAt: now, usedAt: now };
    this.buffers.set(b.id, b);
    this.bytes += bytes;
    for (const u of this.usages) u.add(bytes);
    return b;
  }

  get(id: string): ResidentBuffer {
    const b = this.buffers.get(id);
    if (!b) {
      const idle = this.limits.bufferIdleMs > 0 ? `, or was idle ${this.limits.bufferIdleMs / 1000} s and expired` : '';
      throw new HttpError('KILN_ERR_NOT_FOUND', `no buffer ${describeValue(id)} in this session (it was never kept, or was deleted${idle})`);
    }
    b.usedAt = Date.now();
    return b;
  }

  /** Frees the buffers no request has used for `limits.bufferIdleMs` (when set); returns how many. */
  expire(now = Date.now()): number {
    const idle = this.limits.bufferIdleMs;
    if (idle <= 0) return 0;
    let n = 0;
    for (const b of [...this.buffers.values()]) {
      if (now - b.usedAt > idle && this.delete(b.id)) n++;
    }
    this.server.expired += n;
    return n;
  }

  delete(id: string): boolean {
    const b = this.take(id);
    if (!b) return false;
    this.device.free(b.array);
    return true;
  }

  /**
   * Removes a buffer from the store without freeing its memory, which the caller now owns and
   * accounts for (a model takes its weights over this way); undefined if there is none.
   */
  take(id: string): ResidentBuffer | undefined {
    const b = this.buffers.get(id);
    if (!b) return undefined;
    this.buffers.delete(id);
    this.bytes -= b.bytes;
    for (const u of this.usages) u.remove(b.bytes);
    return b;
  }

  /** Frees every buffer (the session ended); returns how many. */
  clear(): number {
    const n = this.buffers.size;
    for (const id of [...this.buffers.keys()]) this.delete(id);
    return n;
  }

  list(): ResidentBuffer[] {
    return [...this.buffers.values()];
  }

  get size(): number {
    return this.buffers.size;
  }
}
