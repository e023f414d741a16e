/**
 * @file A pool of GPU buffers by size class, so runs and uploads reuse buffers instead of
 * creating them (creation is slow on every backend). Storage buffers and read-back staging
 * buffers are pooled separately; what the pool holds past its budget is destroyed. Also the
 * conversions between host tensors and the storage layout (`storageOf`: i1 as u32, f16 as binary16).
 */
import { f16BitsToF32, type NarrowArray } from '../../ir/dtype.js';
import { numElements, type TensorType } from '../../ir/types.js';
import { encodeStorage } from '../../compiler/program.js';
import type { HostTensor } from '../tensor.js';
import { hostTensor } from '../tensor.js';

/** Buffers are pooled in size classes: multiples of 256 bytes, then powers of two past 64 KiB. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 65536) return Math.ceil(b / 256) * 256;
  return 2 ** Math.ceil(Math.log2(b));
}

/** The pool's idle budget: `KILN_POOL_BYTES` when set (0 keeps nothing idle), else 2 GiB. */
function poolBudget(env: string | undefined): number {
  const n = env === undefined || env === '' ? NaN : Number(env);
  return Number.isFinite(n) && n >= 0 ? n : 2 * 1024 ** 3;
}

export class BufferPool {
  /** Idle buffers by size class and usage; each list oldest first. */
  private readonly free = new Map<string, GPUBuffer[]>();
  /** Every idle buffer, least recently released first (for eviction past the budget). */
  private readonly order: GPUBuffer[] = [];
  private held = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Counts the buffers created (`buffers`), for tests and the dispatch-overhead script. */
    private readonly counts: { buffers: number } = { buffers: 0 },
    /** Called before the pool destroys buffers: work still queued on them is submitted first. */
    private readonly beforeDestroy: () => void = () => undefined,
    /**
     * Bytes the pool may keep idle. Large enough that a loop over big tensors (a 256 MiB output
     * freed and made again every step) reuses its buffers instead of allocating each time.
     */
    private readonly budget = poolBudget(process.env.KILN_POOL_BYTES),
  ) {}

  private key(size: number, usage: number): string { return `${usage}:${size}`; }

  /** A buffer of at least `bytes` with `usage`. */
  acquire(bytes: number, usage: number, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    const b = this.free.get(this.key(size, usage))?.pop();
    if (b) {
      this.held -= size;
      this.order.splice(this.order.lastIndexOf(b), 1);
      return b;
    }
    this.counts.buffers++;
    return this.device.createBuffer({ size, usage, label });
  }

  /**
   * Returns a buffer for reuse (the caller guarantees queued work using it was submitted before
   * any reuse). Past the budget, the least recently released buffers are destroyed first.
   */
  release(b: GPUBuffer): void {
    if (b.size > this.budget) { this.beforeDestroy(); b.destroy(); return; }
    while (this.held + b.size > this.budget) this.evict(this.order[0]);
    const k = this.key(b.size, b.usage);
    let list = this.free.get(k);
    if (!list) { list = []; this.free.set(k, list); }
    list.push(b);
    this.order.push(b);
    this.held += b.size;
  }

  private evict(b: GPUBuffer): void {
    this.beforeDestroy();
    this.order.shift();
    const list = this.free.get(this.key(b.size, b.usage))!;
    list.splice(list.indexOf(b), 1);
    this.held -= b.size;
    b.destroy();
  }

  clear(): void {
    this.beforeDestroy();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.order.length = 0;
    this.held = 0;
  }
}

export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8 /* COPY_DST */;
export const STAGING_USAGE = 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */;
export const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x8 /* COPY_DST */;

/** Host tensor -> bytes in storage layout (padded to a multiple of 4). */
export function toStorage(t: HostTensor): Uint8Array {
  return encodeStorage({ dtype: t.dtype, shape: t.shape }, t.data);
}

/** Bytes in storage layout -> host tensor of `type`. */
export function fromStorage(type: TensorType, bytes: ArrayBuffer): HostTensor {
  const n = numElements(type.shape);
  const d = type.dtype as HostTensor['dtype'];
  const t = hostTensor(d, type.shape);
  if (d === 'i64' || d === 'ui64') {
    t.data = d === 'i64' ? new BigInt64Array(bytes.slice(0, n * 8)) : new BigUint64Array(bytes.slice(0, n * 8));
    return t;
  }
  const data = t.data as NarrowArray | Float32Array;
  switch (d) {
    case 'f32': case 'bf16': data.set(new Float32Array(bytes, 0, n)); break;
    case 'c64': data.set(new Float32Array(bytes, 0, 2 * n)); break;
    // 8- and 16-bit integers are stored widened to 32-bit words; the host array narrows them.
    case 'i32': case 'i8': case 'i16': data.set(new Int32Array(bytes, 0, n)); break;
    case 'ui32': case 'ui8': case 'ui16': data.set(new Uint32Array(bytes, 0, n)); break;
    case 'i1': { const u = new Uint32Array(bytes, 0, n); for (let i = 0; i < n; i++) data[i] = u[i] ? 1 : 0; break; }
    case 'f16': { const h = new Uint16Array(bytes, 0, n); for (let i = 0; i < n; i++) data[i] = f16BitsToF32(h[i]); break; }
    default: d satisfies never;
  }
  return t;
}
