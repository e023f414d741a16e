/**
 * @file The user's Array: a shape, a dtype and either storage (host data not yet uploaded, a device
 * buffer, or a buffer still being produced) or, inside a trace, a symbolic IR value. One class for
 * both, as JAX's tracers look like arrays to the function being traced. Device buffers are freed by
 * `dispose()`, by `using`, or when the Array is garbage-collected (a FinalizationRegistry), so a
 * long training loop holds only the Arrays it still references.
 */
import { afterCallsInFlight } from './inflight.js';
import type { HostArrayFor, NarrowDType, SupportedDType } from '../ir/dtype.js';
import { InputError } from '../ir/errors.js';
import { formatType, numElements, type Value } from '../ir/types.js';
import type { Device, DeviceArray } from '../runtime/device.js';
import type { HostTensor } from '../runtime/tensor.js';
import { TraceError } from './site.js';

/** Host array type for a dtype (f16 is held as f32 values). */
export type TypedArrayFor<D extends SupportedDType> = HostArrayFor<D>;

/** What a trace must offer its tracers (the Trace class lives in trace.ts). */
export interface TraceLike {
  readonly id: number;
  /** False once the trace has produced its module: its tracers must not be used any more. */
  readonly live: boolean;
}

/** Where a concrete Array's elements are. Exactly one of host, buf and pending is set until disposed. */
export interface Storage {
  host?: HostTensor;
  buf?: DeviceArray;
  pending?: Promise<DeviceArray>;
  disposed: boolean;
}

const registry = new FinalizationRegistry<Storage>((s) => releaseStorage(s));

/** Frees whatever device memory a storage holds (now, or when its pending buffer arrives). */
export function releaseStorage(s: Storage): void {
  if (s.disposed) return;
  s.disposed = true;
  s.host = undefined;
  if (s.buf) {
    freeAfterQueuedWork(s.buf);
    s.buf = undefined;
  } else if (s.pending) {
    s.pending.then(freeAfterQueuedWork, () => {});
    s.pending = undefined;
  }
}

/**
 * Frees a buffer. Runs enqueued before the Array was disposed (or collected) may still read it:
 * every device defers the release until they have (see `Device.free`); calls that will enqueue
 * once their other inputs exist are waited for first.
 */
function freeAfterQueuedWork(b: DeviceArray): void {
  void afterCallsInFlight().then(() => b.device.free(b));
}

let methods: Record<string, (...args: unknown[]) => KArray> = {};
/** Installs the implementations behind Array's arithmetic methods (called by client/numpy). */
export function bindArrayMethods(m: object): void {
  methods = m as unknown as Record<string, (...args: unknown[]) => KArray>;
}
function call(name: string, ...args: unknown[]): KArray {
  const f = methods[name];
  if (!f) throw new Error(`kiln: Array.${name} needs client/numpy to be loaded (import from 'kiln')`);
  return f(...args);
}

type Operand = KArray | number;
type AxisOpts = { axis?: number | number[] | null; keepdims?: boolean };

/** An n-dimensional array on a device, or a traced value inside `jit`/`grad`. */
export class KArray {
  readonly shape: readonly number[];
  readonly dtype: SupportedDType;
  /** A weakly-typed value (from a JS number): it takes the dtype of what it is combined with. */
  readonly weak: boolean;
  /** @internal the trace this tracer belongs to. */
  readonly _trace?: TraceLike;
  /** @internal the IR value of a tracer. */
  readonly _value?: Value;
  /** @internal the storage of a concrete array. */
  readonly _store?: Storage;

  /** @internal Use `np.array`, `np.zeros`, ... to make arrays. */
  constructor(shape: readonly number[], dtype: SupportedDType, weak: boolean, src: { trace: TraceLike; value: Value } | Storage) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.weak = weak;
    if ('trace' in src) {
      this._trace = src.trace;
      this._value = src.value;
    } else {
      this._store = src;
      registry.register(this, src, src);
    }
  }

  /** @internal A concrete Array over host data (uploaded to a device when first used). */
  static fromHost(t: HostTensor, weak = false): KArray {
    return new KArray(t.shape, t.dtype, weak, { host: t, disposed: false });
  }

  /** @internal A concrete Array over a device buffer, or one still being produced. */
  static fromDevice(shape: readonly number[], dtype: SupportedDType, weak: boolean, buf: DeviceArray | Promise<DeviceArray>): KArray {
    const s: Storage = { disposed: false };
    if (buf instanceof Promise) {
      s.pending = buf.then((b) => {
        if (s.pending === p) { s.buf = b; s.pending = undefined; }
        return b;
      });
      const p = s.pending;
      p.catch(() => {}); // reported by data(); never an unhandled rejection
    } else {
      s.buf = buf;
    }
    return new KArray(shape, dtype, weak, s);
  }

  get ndim(): number { return this.shape.length; }
  get size(): number { return numElements(this.shape); }
  /** True inside `jit`/`grad` tracing: the Array has no values, only a shape and dtype. */
  get isTracer(): boolean { return this._trace !== undefined; }

  /**
   * Waits for the computation that produces this Array and copies its elements to the host:
   * a Float32Array for f32 and f16, Int32Array, Uint32Array, or Uint8Array of 0/1 for booleans.
   */
  // The default is a 32-bit type: traced programs never make i64/ui64 arrays (np refuses those dtypes).
  async data<D extends SupportedDType = NarrowDType>(): Promise<TypedArrayFor<D>> {
    const t = await this.host();
    return t.data as TypedArrayFor<D>;
  }

  /** The elements as nested JS arrays (numbers; booleans for i1). */
  async toList(): Promise<unknown> {
    const d = await this.data();
    // i64/ui64 elements are bigints.
    const vals = this.dtype === 'i1' ? Array.from(d as Uint8Array, (v) => v !== 0) : Array.from(d as ArrayLike<number | bigint>);
    const nest = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return vals[off];
      const stride = numElements(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => nest(dim + 1, off + i * stride));
    };
    return nest(0, 0);
  }

  /** The single element of a size-1 array, as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new InputError(`item(): array of shape [${this.shape}] has ${this.size} elements, not 1`);
    const v = (await this.data())[0];
    if (typeof v === 'bigint') throw new InputError(`item(): a ${this.dtype} element is a bigint; read it with data()`);
    return v;
  }

  /** @internal The host tensor, reading it from the device if needed. */
  async host(): Promise<HostTensor> {
    const s = this.concrete('data()');
    if (s.host) return { dtype: s.host.dtype, shape: [...s.host.shape], data: s.host.data.slice() };
    const buf = s.buf ?? (await s.pending);
    if (!buf || s.disposed) throw new InputError('data(): the array was disposed');
    return buf.device.read(buf);
  }

  /** @internal The storage, refusing tracers and disposed arrays. */
  concrete(what: string): Storage {
    if (!this._store) {
      throw new TraceError(`${what} needs values, but this Array is a tracer (${this.describe()}) inside jit/grad; return it from the traced function instead`);
    }
    if (this._store.disposed) throw new InputError(`${what}: the array (${this.describe()}) was disposed`);
    return this._store;
  }

  /** Frees the Array's device memory now. Using it afterwards is an error. Idempotent. */
  dispose(): void {
    const s = this._store;
    if (!s || s.disposed) return;
    registry.unregister(s);
    releaseStorage(s);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this._store?.disposed ?? false;
  }

  /** The device holding the Array now, if it is on one. */
  get device(): Device | undefined {
    return this._store?.buf?.device;
  }

  /** `f32[2,3]` (with `~` for weak types). */
  describe(): string {
    return `${this.weak ? '~' : ''}${this.dtype}[${this.shape.join(',')}]`;
  }

  /** `Array(f32[2,3])`, `Tracer(f32[2,3])`; use {@link format} for the values. */
  toString(): string {
    return `${this.isTracer ? 'Tracer' : 'Array'}(${this.describe()})`;
  }

  /** The IR type, as StableHLO prints it. */
  get type(): string {
    return formatType({ dtype: this.dtype, shape: this.shape });
  }

  /** The values, formatted like NumPy's repr (reads the device). */
  async format(): Promise<string> {
    const list = await this.toList();
    const fmt = (v: unknown): string => (globalThis.Array.isArray(v) ? `[${v.map(fmt).join(', ')}]` : String(v));
    return `array(${fmt(list)}, dtype=${this.dtype})`;
  }

  // ---- methods (implemented by client/numpy; see bindArrayMethods) -----------------------------
  add(y: Operand): KArray { return call('add', this, y); }
  sub(y: Operand): KArray { return call('subtract', this, y); }
  mul(y: Operand): KArray { return call('multiply', this, y); }
  div(y: Operand): KArray { return call('divide', this, y); }
  pow(y: Operand): KArray { return call('power', this, y); }
  mod(y: Operand): KArray { return call('mod', this, y); }
  neg(): KArray { return call('negative', this); }
  abs(): KArray { return call('abs', this); }
  exp(): KArray { return call('exp', this); }
  log(): KArray { return call('log', this); }
  sqrt(): KArray { return call('sqrt', this); }
  square(): KArray { return call('square', this); }
  tanh(): KArray { return call('tanh', this); }
  maximum(y: Operand): KArray { return call('maximum', this, y); }
  minimum(y: Operand): KArray { return call('minimum', this, y); }
  eq(y: Operand): KArray { return call('equal', this, y); }
  ne(y: Operand): KArray { return call('notEqual', this, y); }
  lt(y: Operand): KArray { return call('less', this, y); }
  le(y: Operand): KArray { return call('lessEqual', this, y); }
  gt(y: Operand): KArray { return call('greater', this, y); }
  ge(y: Operand): KArray { return call('greaterEqual', this, y); }
  matmul(y: KArray): KArray { return call('matmul', this, y); }
  dot(y: KArray): KArray { return call('dot', this, y); }
  reshape(shape: readonly number[]): KArray { return call('reshape', this, shape); }
  transpose(axes?: readonly number[]): KArray { return call('transpose', this, axes); }
  /** The transpose (axes reversed). */
  get T(): KArray { return call('transpose', this); }
  ravel(): KArray { return call('ravel', this); }
  flatten(): KArray { return call('ravel', this); }
  squeeze(axis?: number | number[]): KArray { return call('squeeze', this, axis); }
  expandDims(axis: number | number[]): KArray { return call('expandDims', this, axis); }
  astype(dtype: SupportedDType): KArray { return call('astype', this, dtype); }
  sum(opts?: AxisOpts): KArray { return call('sum', this, opts); }
  mean(opts?: AxisOpts): KArray { return call('mean', this, opts); }
  max(opts?: AxisOpts): KArray { return call('max', this, opts); }
  min(opts?: AxisOpts): KArray { return call('min', this, opts); }
  prod(opts?: AxisOpts): KArray { return call('prod', this, opts); }
  var(opts?: AxisOpts & { ddof?: number }): KArray { return call('var', this, opts); }
  std(opts?: AxisOpts & { ddof?: number }): KArray { return call('std', this, opts); }
  argmax(opts?: { axis?: number; keepdims?: boolean }): KArray { return call('argmax', this, opts); }
  argmin(opts?: { axis?: number; keepdims?: boolean }): KArray { return call('argmin', this, opts); }
  all(opts?: AxisOpts): KArray { return call('all', this, opts); }
  any(opts?: AxisOpts): KArray { return call('any', this, opts); }
  clip(lo: Operand | null, hi: Operand | null): KArray { return call('clip', this, lo, hi); }
  /** `x.slice([0, 2], null, -1)`: see `np.slice`. */
  slice(...specs: unknown[]): KArray { return call('slice', this, ...specs); }
  take(indices: KArray | number[], axis?: number): KArray { return call('take', this, indices, axis); }
}
