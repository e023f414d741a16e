/**
 * @file The server's limits and its resident buffers. (The executable cache is server/cache.ts,
 * the counters server/metrics.ts.)
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
};

export interface ResidentBuffer {
  id: string;
  array: DeviceArray;
  bytes: number;
  createdAt: number;
  /** When a request last used it (kept, read, passed as an input). */
  usedAt: number;
}

/** What all of a server's buffer stores (one per tenant) hold together, checked against the limits. */
export class ResidentBudget {
  bytes = 0;
  count = 0;
  /** Buffers freed for being idle since start. */
  expired = 0;
}

/** Buffers kept on the server under handles the client chose or the server made (one tenant's). */
export class BufferStore {
  private readonly buffers = new Map<string, ResidentBuffer>();
  bytes = 0;

  constructor(private readonly device: Device, private readonly limits: Limits, readonly budget = new ResidentBudget()) {}

  /** Checks a client-chosen handle before work is queued for it. */
  checkHandle(id: string): void {
    if (id.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_.:-]+$/.test(id)) {
      throw new HttpError('KILN_ERR_BAD_REQUEST', `buffer handle ${describeValue(id)}: use 1-${MAX_ID_LENGTH} letters, digits, '_', '.', ':' or '-'`);
    }
    if (this.buffers.has(id)) throw new HttpError('KILN_ERR_CONFLICT', `buffer handle '${id}' is already in use; DELETE /buffers/${id} first`);
  }

  /** Reserves room for `bytes` more, or refuses. */
  checkRoom(bytes: number): void {
    if (bytes > this.limits.tensorBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `a buffer of ${bytes} bytes passes the tensor limit of ${this.limits.tensorBytes}`);
    }
    if (this.budget.count >= this.limits.buffers) {
      throw new HttpError('KILN_ERR_RESOURCE', `keeping another buffer would pass the limit of ${this.limits.buffers} buffers; free some first`);
    }
    if (this.budget.bytes + bytes > this.limits.residentBytes) {
      throw new HttpError('KILN_ERR_RESOURCE', `keeping ${bytes} more bytes would pass the resident limit of ${this.limits.residentBytes} (${this.budget.bytes} in use)`);
    }
  }

  put(array: DeviceArray, bytes: number, id?: string): ResidentBuffer {
    if (id !== undefined) this.checkHandle(id);
    this.checkRoom(bytes);
    const now = Date.now();
    const b: ResidentBuffer = { id: id ?? randomUUID(), array, bytes, createdAt: now, usedAt: now };
    this.buffers.set(b.id, b);
    this.bytes += bytes;
    this.budget.bytes += bytes;
    this.budget.count++;
    return b;
  }

  get(id: string): ResidentBuffer {
    const b = this.buffers.get(id);
    if (!b) {
      const idle = this.limits.bufferIdleMs > 0 ? `, or was idle ${this.limits.bufferIdleMs / 1000} s and expired` : '';
      throw new HttpError('KILN_ERR_NOT_FOUND', `no buffer ${describeValue(id)} on this server (it was never kept, or was deleted${idle})`);
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
    this.budget.expired += n;
    return n;
  }

  delete(id: string): boolean {
    const b = this.buffers.get(id);
    if (!b) return false;
    this.buffers.delete(id);
    this.bytes -= b.bytes;
    this.budget.bytes -= b.bytes;
    this.budget.count--;
    this.device.free(b.array);
    return true;
  }

  list(): ResidentBuffer[] {
    return [...this.buffers.values()];
  }

  get size(): number {
    return this.buffers.size;
  }
}

/** The tenant of requests on a server with one token or none. */
export const DEFAULT_TENANT = 'default';

/**
 * Buffer stores by tenant: with several tokens (`ServerOptions.tokens`) each names a tenant whose
 * buffers only its own requests can see, list, use or delete (handles are per tenant), all within
 * the server's one resident budget. Executables are shared: they are content-addressed and hold
 * no tenant's data.
 */
export class Tenants {
  readonly budget = new ResidentBudget();
  private readonly stores = new Map<string, BufferStore>();

  constructor(private readonly device: Device, private readonly limits: Limits) {}

  /** The tenant's buffers (made on first use). */
  buffers(tenant: string): BufferStore {
    let s = this.stores.get(tenant);
    if (!s) {
      s = new BufferStore(this.device, this.limits, this.budget);
      this.stores.set(tenant, s);
    }
    return s;
  }

  /** Frees idle buffers of every tenant (limits.bufferIdleMs). */
  expire(now = Date.now()): number {
    let n = 0;
    for (const s of this.stores.values()) n += s.expire(now);
    return n;
  }
}
