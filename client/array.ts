/**
 * @file The user's Array: a shape, a dtype and either storage (host data not yet uploaded, a device
 * buffer, or a buffer still being produced) or, inside a trace, a symbolic IR value. One class for
 * both, as JAX's tracers look like arrays to the function being traced. Device buffers are freed by
 * `dispose()`, by `using`, or when the Array is garbage-collected (a FinalizationRegistry), so a
 * long training loop holds only the Arrays it still references.
 */
import { afterCallsInFlight } from './inflight.js';
import { allocHost, type HostArrayFor, type NarrowArray, type NarrowDType, type SupportedDType } from '../ir/dtype.js';
import { InputError } from '../ir/errors.js';
import { formatType, numElements, type Value } from '../ir/types.js';
import type { Device, DeviceArray } from '../runtime/device.js';
import type { HostTensor } from '../runtime/tensor.js';
import { deepStack, TraceError, userFrame } from './site.js';

/**
 * A tracer's value was needed as a JS value (`if (x > 0)`, `Number(x)`, `x + 1`, a loop bound,
 * `await x.item()`) while tracing: it has none until the compiled program runs. JAX raises
 * ConcretizationTypeError in the same places. The message names the user's line.
 */
export class ConcretizationError extends TraceError {
  override name = 'ConcretizationError';
}

/** The typed arrays kiln takes as array data. */
export const TYPED_ARRAYS = 'Float32Array, Float64Array, Int8/16/32Array, Uint8/8Clamped/16/32Array';

/** The dtype a typed array's values keep, as numpy names it (Uint8ClampedArray is uint8). */
export function typedArrayDType(v: ArrayBufferView): SupportedDType | undefined {
  if (v instanceof Float32Array || v instanceof Float64Array) return 'f32';
  if (v instanceof Int8Array) return 'i8';
  if (v instanceof Int16Array) return 'i16';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array || v instanceof Uint8ClampedArray) return 'ui8';
  if (v instanceof Uint16Array) return 'ui16';
  if (v instanceof Uint32Array) return 'ui32';
  return undefined;
}

let warnedF64 = false;
/** JAX with x64 off truncates float64 input to float32 with a warning; kiln says so once too. */
export function noticeFloat64(): void {
  if (warnedF64) return;
  warnedF64 = true;
  console.warn('kiln: a Float64Array was converted to f32 (kiln, like JAX without jax_enable_x64, computes in 32 bits; this notice is shown once)');
}

/** The user's line that is running now (the first stack frame outside kiln). */
function callerLoc() {
  return userFrame(deepStack().stack ?? '');
}

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
  const wait = afterCallsInFlight();
  if (wait) void wait.then(() => b.device.free(b));
  else b.device.free(b);
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

type Operand = KArray | number | boolean;

/** Out-of-bounds options of {@link AtRef}'s methods. */
export interface AtOptions {
  /**
   * JAX's modes: 'promise_in_bounds' (the default: reads clamp, updates out of bounds are
   * dropped, as XLA does), 'clip' (indices are clamped), 'drop' / 'fill' (updates out of bounds
   * are dropped; reads there give `fillValue`).
   */
  mode?: 'promise_in_bounds' | 'clip' | 'drop' | 'fill';
}

/**
 * `x.at(...index)`: JAX's functional index updates. Each method returns a new Array; positions
 * named several times by integer Arrays get every update (`add` sums them, `set` keeps one of
 * them, which one being unspecified, as in JAX). `divide` divides by the product of the values
 * scattered to each position (JAX's definition). `values` broadcast to the indexed shape and are
 * cast to x's dtype.
 */
export interface AtRef {
  get(opts?: AtOptions & { fillValue?: number }): KArray;
  set(values: KArray | number, opts?: AtOptions): KArray;
  add(values: KArray | number, opts?: AtOptions): KArray;
  subtract(values: KArray | number, opts?: AtOptions): KArray;
  multiply(values: KArray | number, opts?: AtOptions): KArray;
  divide(values: KArray | number, opts?: AtOptions): KArray;
  min(values: KArray | number, opts?: AtOptions): KArray;
  max(values: KArray | number, opts?: AtOptions): KArray;
}
type Axes = number | readonly number[] | null;
type ReduceOpts = { axis?: Axes; dtype?: string; keepdims?: boolean };
type ArgOpts = { axis?: number | null; keepdims?: boolean };

/**
 * An n-dimensional array on a device, or a traced value inside `jit`/`grad`.
 *
 * An Array never silently becomes a JS value: `x + 1`, `x > 0`, `Number(x)`, `+x` and `x == 0`
 * throw (a {@link ConcretizationError} for a tracer, whose value does not exist yet; an InputError
 * for a concrete Array, whose value is on the device: `await x.item()` reads it), and so do
 * `item()`, `data()` and `toList()` of a tracer. `String(x)` and template literals give
 * `Array(f32[2])` / `Tracer(f32[2])`, for messages. What JS cannot intercept is truthiness:
 * `if (x)` and `x ? a : b` are always true for any Array, tracer or not, whatever its values; use
 * `await x.item()` outside a trace, and `np.where` (or lax's control flow) inside one.
 *
 * Arrays iterate along axis 0 (`const [k1, k2] = random.split(key)`, `for (const row of x)`),
 * each element an Array; a 0-d Array is not iterable.
 */
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
  /**
   * @internal A JS integer passed to an eager op, traced as a weak i32 scalar input: it promotes
   * like the JS number it stands for (client/numpy/promote.ts), not like an i32 Array.
   */
  _literal = false;

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

  /**
   * @internal A 1-D concrete Array holding a typed array's values in {@link typedArrayDType}
   * (undefined for typed arrays kiln does not take, such as BigInt64Array).
   */
  static fromTyped(v: ArrayBufferView): KArray | undefined {
    const dtype = typedArrayDType(v);
    if (!dtype) return undefined;
    if (v instanceof Float64Array) noticeFloat64();
    const values = v as unknown as ArrayLike<number>;
    const data = allocHost(dtype, values.length) as NarrowArray;
    data.set(values);
    return KArray.fromHost({ dtype, shape: [values.length], data });
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
   * A complex64 Array gives a Float32Array of interleaved (re, im) pairs, twice its size long
   * (numpy's layout; JS has no complex numbers), the form `np.array(data, {dtype: 'complex64'})` takes.
   */
  // The default is a 32-bit type: traced programs never make i64/ui64 arrays (np refuses those dtypes).
  data<D extends SupportedDType = NarrowDType>(): Promise<TypedArrayFor<D>> {
    this.refuseTracer('data()');
    return this.host().then((t) => t.data as TypedArrayFor<D>);
  }

  /** The elements as nested JS arrays (numbers; booleans for i1; `[re, im]` pairs for complex64). */
  toList(): Promise<unknown> {
    this.refuseTracer('toList()');
    return this.toListAsync();
  }

  private async toListAsync(): Promise<unknown> {
    const d = await this.data();
    // i64/ui64 elements are bigints.
    const vals: unknown[] = this.dtype === 'i1' ? Array.from(d as Uint8Array, (v) => v !== 0)
      : this.dtype === 'c64' ? Array.from({ length: this.size }, (_, i) => [d[2 * i], d[2 * i + 1]])
        : Array.from(d as ArrayLike<number | bigint>);
    const nest = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return vals[off];
      const stride = numElements(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => nest(dim + 1, off + i * stride));
    };
    return nest(0, 0);
  }

  /** The single element of a size-1 array, as a number. */
  item(): Promise<number> {
    this.refuseTracer('item()');
    if (this.size !== 1) throw new InputError(`item(): array of shape [${this.shape}] has ${this.size} elements, not 1`, callerLoc());
    if (this.dtype === 'c64') throw new InputError('item(): a complex64 element is not a JS number; read its (re, im) pair with data()', callerLoc());
    return this.data().then((d) => {
      const v = d[0];
      if (typeof v === 'bigint') throw new InputError(`item(): a ${this.dtype} element is a bigint; read it with data()`);
      return v;
    });
  }

  /**
   * Throws at once (not in a rejected promise, which an un-awaited call inside `jit` would leave
   * unhandled) when this Array is a tracer.
   */
  private refuseTracer(what: string): void {
    if (this._trace) {
      throw new ConcretizationError(`${what} needs values, but ${this.toString()} is a tracer inside jit/grad/vmap: it has no value until the compiled program runs. Return it from the traced function, or use np.where / lax.cond for value-dependent choices`, callerLoc());
    }
  }

  /** Refuses every conversion to a JS number or primitive (see the class comment). */
  [Symbol.toPrimitive](hint: 'string' | 'number' | 'default'): string {
    if (hint === 'string') return this.toString();
    const how = hint === 'number' ? 'converted to a JS number (Number(x), +x, or a comparison such as x > 0)' : 'used as a JS primitive (x + 1, x == 0, or a string concatenation)';
    if (this._trace) {
      throw new ConcretizationError(
        `Abstract tracer value encountered where a concrete value is expected: ${this.toString()} was ${how}. ` +
        'Inside jit/grad/vmap an Array has no value until the compiled program runs, so JS control flow cannot depend on it: ' +
        'use np.where(cond, a, b) or lax.cond for a value-dependent choice, lax.whileLoop / lax.forLoop for a loop bounded by a traced value, ' +
        'np methods (x.add(1), x.gt(0)) for arithmetic, or make the argument static (jit(f, {staticArgnums: [i]}))',
        callerLoc(),
      );
    }
    throw new InputError(`${this.toString()} was ${how}; JS operators do not work on Arrays: use \`await x.item()\` for its value, or x.add(1), x.gt(0), np.add(x, 1) for arithmetic`, callerLoc());
  }

  /** Refused like {@link KArray[Symbol.toPrimitive]}. */
  valueOf(): never {
    return this[Symbol.toPrimitive]('number') as never;
  }

  /** The Arrays along axis 0 (`const [a, b] = x`); a 0-d Array is not iterable, as in JAX. */
  *[Symbol.iterator](): Iterator<KArray> {
    if (this.ndim === 0) {
      const loc = callerLoc();
      throw new TypeError(`${loc ? `${loc.file}:${loc.line}:${loc.column}: ` : ''}iteration over a 0-d array (${this.toString()})`);
    }
    yield* call('unstack', this) as unknown as KArray[];
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
  format(): Promise<string> {
    this.refuseTracer('format()');
    return this.toList().then((list) => {
      const fmt = (v: unknown): string => (globalThis.Array.isArray(v) ? `[${v.map(fmt).join(', ')}]` : String(v));
      return `array(${fmt(list)}, dtype=${this.dtype})`;
    });
  }

  // ---- methods (implemented by client/numpy; see bindArrayMethods) -----------------------------
  // Each takes the arguments of the jax.numpy function after the array, positionally or as a
  // trailing options object, checked at run time by client/args.ts (x.sum(1), x.sum({axis: 1})).
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
  matmul(y: Operand): KArray { return call('matmul', this, y); }
  /** The complex conjugate (JAX's `x.conj()`); a real Array itself. */
  conj(): KArray { return call('conj', this); }
  /** Alias of {@link KArray.conj}. */
  conjugate(): KArray { return call('conjugate', this); }
  /** The real part (JAX's `x.real`): f32 for a complex64 Array, the Array itself for a real one. */
  get real(): KArray { return call('real', this); }
  /** The imaginary part (JAX's `x.imag`): f32 for a complex64 Array, zeros for a real one. */
  get imag(): KArray { return call('imag', this); }
  dot(y: Operand): KArray { return call('dot', this, y); }
  /** `x.reshape(2, 3)`, `x.reshape([2, -1])`, `x.reshape(6)` (one `-1` is inferred). */
  reshape(...shape: (number | readonly number[])[]): KArray {
    return call('reshape', this, shape.length === 1 ? shape[0] : shape);
  }
  /** `x.transpose()`, `x.transpose(1, 0)`, `x.transpose([1, 0])`. */
  transpose(...axes: (number | readonly number[] | null | undefined)[]): KArray {
    return call('transpose', this, axes.length <= 1 ? axes[0] : axes);
  }
  /** The transpose (axes reversed). */
  get T(): KArray { return call('transpose', this); }
  ravel(): KArray { return call('ravel', this); }
  flatten(): KArray { return call('ravel', this); }
  squeeze(axis?: Axes | { axis?: Axes }): KArray { return call('squeeze', this, axis); }
  expandDims(axis: number | readonly number[] | { axis: number | readonly number[] }): KArray { return call('expandDims', this, axis); }
  astype(dtype: string): KArray { return call('astype', this, dtype); }
  sum(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('sum', this, axis, opts); }
  mean(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('mean', this, axis, opts); }
  max(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('max', this, axis, opts); }
  min(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('min', this, axis, opts); }
  prod(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('prod', this, axis, opts); }
  var(axis?: Axes | (ReduceOpts & { ddof?: number }), opts?: ReduceOpts & { ddof?: number }): KArray { return call('var', this, axis, opts); }
  std(axis?: Axes | (ReduceOpts & { ddof?: number }), opts?: ReduceOpts & { ddof?: number }): KArray { return call('std', this, axis, opts); }
  argmax(axis?: number | null | ArgOpts, opts?: ArgOpts): KArray { return call('argmax', this, axis, opts); }
  argmin(axis?: number | null | ArgOpts, opts?: ArgOpts): KArray { return call('argmin', this, axis, opts); }
  all(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('all', this, axis, opts); }
  any(axis?: Axes | ReduceOpts, opts?: ReduceOpts): KArray { return call('any', this, axis, opts); }
  cumsum(axis?: number | null | { axis?: number | null }): KArray { return call('cumsum', this, axis); }
  clip(lo?: Operand | null, hi?: Operand | null): KArray { return call('clip', this, lo ?? null, hi ?? null); }
  /**
   * `x.slice(0, [1, -1])` (see `np.slice`); an integer Array indexes axis 0 like `x[idx]` in JAX
   * (a gather), a boolean mask is refused (its result's shape depends on the values).
   */
  slice(...specs: unknown[]): KArray { return call('slice', this, ...specs); }
  /**
   * JAX's `x.at[index]`, written `x.at(...items)` with one argument per index item (the items of
   * `np.slice`: integers, slices `':'`/`'a:b:c'`/`[a, b, c]`/`{start, stop, step}`, `null` for
   * newaxis, `'...'`, integer Arrays). It returns an {@link AtRef}: `x.at(1, 2).set(9)`,
   * `x.at(idx).add(1)`, `x.at(':', 1).multiply(3)`, `x.at(idx).get({mode: 'fill', fillValue: -1})`.
   * JS has no `x.at[i, j]` syntax, hence the call.
   */
  at(...items: unknown[]): AtRef { return call('at', this, ...items) as unknown as AtRef; }
  take(indices: Operand | readonly number[], axis?: number | null | { axis?: number | null; mode?: string }, opts?: { mode?: string }): KArray {
    return call('take', this, indices, axis, opts);
  }
}
