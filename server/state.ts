/**
 * @file The server's shared state: the executable cache (in memory, LRU bounded by bytes, and on
 * disk under `--cache-dir`), the resident buffers, and the counters behind /metrics and /health.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashModule } from '../ir/hash.js';
import { parseModule } from '../ir/parse/parser.js';
import { TextLimitError } from '../ir/parse/lexer.js';
import { printModule } from '../ir/print.js';
import { verifyModule } from '../ir/verify.js';
import { byteSize } from '../ir/dtype.js';
import { formatLocation } from '../ir/errors.js';
import { formatType, mainFunc, numElements, walkOps, type Module, type TensorType } from '../ir/types.js';
import type { Device, DeviceArray, Executable } from '../runtime/device.js';
import { describeValue } from '../runtime/wire.js';
import { HttpError, MAX_ID_LENGTH } from './errors.js';
import type { KernelTimes, ProfileReply } from './profile.js';

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
  /** Executables kept in memory, by their planned device bytes plus IR text. */
  cacheBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 256 * 2 ** 20,
  irBytes: 8 * 2 ** 20,
  irTokens: 1_000_000,
  tensorBytes: 256 * 2 ** 20,
  residentBytes: 4 * 2 ** 30,
  opsPerModule: 100_000,
  executionMs: 30_000,
  cacheBytes: 2 * 2 ** 30,
};

export interface CachedExecutable {
  id: string;
  exe: Executable;
  /** The canonical IR text. */
  ir: string;
  inputs: readonly TensorType[];
  outputs: readonly TensorType[];
  createdAt: number;
  runs: number;
  /** The last run times in ms (at most {@link TIMING_WINDOW}). */
  timings: number[];
  /** GPU times of its kernels in the last run that asked for them (`profile: true`). */
  kernelTimes?: KernelTimes;
  sizeBytes: number;
}

const TIMING_WINDOW = 1000;

/** Executables by graph hash: an LRU in memory, the canonical IR on disk. */
export class ExecutableCache {
  private readonly entries = new Map<string, CachedExecutable>();
  private bytes = 0;
  compiles = 0;
  hits = 0;

  constructor(
    private readonly device: Device,
    private readonly limits: Limits,
    private readonly cacheDir?: string,
  ) {
    if (cacheDir) mkdirSync(cacheDir, { recursive: true });
  }

  /** Parses, verifies and compiles IR text, or finds it cached (in memory or on disk). */
  compile(text: string, file = 'request.mlir'): { entry: CachedExecutable; cached: boolean } {
    if (text.length > this.limits.irBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `the IR text has ${text.length} characters; this server's limit is ${this.limits.irBytes} bytes`);
    }
    const m = parseLimited(text, file, this.limits);
    verifyModule(m);
    checkSize(m, this.limits);
    const id = hashModule(m);
    const hit = this.entries.get(id);
    if (hit) {
      this.touch(id, hit);
      this.hits++;
      return { entry: hit, cached: true };
    }
    const onDisk = this.diskPath(id) !== undefined && existsSync(this.diskPath(id)!);
    const entry = this.build(id, m);
    if (onDisk) this.hits++;
    else this.persist(id, entry.ir);
    return { entry, cached: onDisk };
  }

  /** The executable with this id, compiled again from the disk cache if it was evicted. */
  get(id: string): CachedExecutable | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      this.touch(id, hit);
      return hit;
    }
    const path = this.diskPath(id);
    if (!path || !/^[0-9a-f]{64}$/.test(id) || !existsSync(path)) return undefined;
    const m = parseModule(readFileSync(path, 'utf8'), `${id}.mlir`);
    verifyModule(m);
    return this.build(id, m);
  }

  delete(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.bytes -= e.sizeBytes;
    return true;
  }

  list(): CachedExecutable[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  recordRun(e: CachedExecutable, ms: number): void {
    e.runs++;
    e.timings.push(ms);
    if (e.timings.length > TIMING_WINDOW) e.timings.splice(0, e.timings.length - TIMING_WINDOW);
  }

  recordProfile(e: CachedExecutable, p: ProfileReply): void {
    e.kernelTimes = { at: Date.now(), ...p };
  }

  private build(id: string, m: Module): CachedExecutable {
    const exe = this.device.compile(m);
    this.compiles++;
    const ir = printModule(m);
    const f = mainFunc(m);
    const entry: CachedExecutable = {
      id, exe, ir, inputs: f.args.map((a) => a.type), outputs: f.resultTypes,
      createdAt: Date.now(), runs: 0, timings: [], sizeBytes: exe.bytes + ir.length,
    };
    this.entries.set(id, entry);
    this.bytes += entry.sizeBytes;
    this.evict();
    return entry;
  }

  private touch(id: string, e: CachedExecutable): void {
    this.entries.delete(id);
    this.entries.set(id, e);
  }

  private evict(): void {
    for (const [id, e] of this.entries) {
      if (this.bytes <= this.limits.cacheBytes || this.entries.size <= 1) break;
      this.entries.delete(id);
      this.bytes -= e.sizeBytes;
    }
  }

  private diskPath(id: string): string | undefined {
    return this.cacheDir ? join(this.cacheDir, `${id}.mlir`) : undefined;
  }

  private persist(id: string, ir: string): void {
    const path = this.diskPath(id);
    if (path) writeFileSync(path, ir);
  }
}

/** Parses request IR under the server's token limit; passing it is a 413 at the token where it passed. */
function parseLimited(text: string, file: string, limits: Limits): Module {
  try {
    return parseModule(text, file, { maxTokens: limits.irTokens });
  } catch (e) {
    if (e instanceof TextLimitError && e.limit === 'tokens') {
      throw new HttpError('KILN_ERR_TOO_LARGE', `${e.message.replace(/the limit$/, "this server's limit")}`, e.loc);
    }
    throw e;
  }
}

/** Refuses modules with too many ops, or with a value larger than the server would ever hold. */
function checkSize(m: Module, limits: Limits): void {
  let n = 0;
  for (const f of m.funcs) {
    walkOps(f.body, (o) => {
      n++;
      for (const r of o.results) {
        const bytes = numElements(r.type.shape) * byteSize(r.type.dtype);
        if (bytes > limits.residentBytes) {
          throw new HttpError('KILN_ERR_TOO_LARGE',
            `${formatLocation(o.loc)}: ${o.op} makes a ${formatType(r.type)} of ${bytes} bytes; this server holds at most ${limits.residentBytes}`,
            o.loc);
        }
      }
    });
  }
  if (n > limits.opsPerModule) throw new HttpError('KILN_ERR_TOO_LARGE', `module has ${n} operations; this server's limit is ${limits.opsPerModule}`);
}

export interface ResidentBuffer {
  id: string;
  array: DeviceArray;
  bytes: number;
  createdAt: number;
}

/** Buffers kept on the server under handles the client chose or the server made. */
export class BufferStore {
  private readonly buffers = new Map<string, ResidentBuffer>();
  bytes = 0;

  constructor(private readonly device: Device, private readonly limits: Limits) {}

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
    if (this.bytes + bytes > this.limits.residentBytes) {
      throw new HttpError('KILN_ERR_RESOURCE', `keeping ${bytes} more bytes would pass the resident limit of ${this.limits.residentBytes} (${this.bytes} in use)`);
    }
  }

  put(array: DeviceArray, bytes: number, id?: string): ResidentBuffer {
    if (id !== undefined) this.checkHandle(id);
    this.checkRoom(bytes);
    const b: ResidentBuffer = { id: id ?? randomUUID(), array, bytes, createdAt: Date.now() };
    this.buffers.set(b.id, b);
    this.bytes += bytes;
    return b;
  }

  get(id: string): ResidentBuffer {
    const b = this.buffers.get(id);
    if (!b) throw new HttpError('KILN_ERR_NOT_FOUND', `no buffer ${describeValue(id)} on this server (it was never kept, or was deleted)`);
    return b;
  }

  delete(id: string): boolean {
    const b = this.buffers.get(id);
    if (!b) return false;
    this.buffers.delete(id);
    this.bytes -= b.bytes;
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
