/**
 * @file Making arrays: from JS data (`array`, `asarray`), filled (`zeros`, `ones`, `full` and
 * their `Like` forms), ranges (`arange`, `linspace`), `eye`, and `astype`. Outside a trace these
 * hold host data that is uploaded when first used (nothing to compile); inside one they are
 * constants of the traced program.
 */
import { allocNarrow, isInt64, isSupportedDType, roundF16, type DType, type NarrowDType, type SupportedDType } from '../../ir/dtype.js';
import { KArray } from '../array.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { currentTrace } from '../trace.js';
import { asArray, checkShape, type Operand } from './promote.js';

/** Options for making arrays. */
export interface ArrayOptions {
  dtype?: SupportedDType;
  /** Reshape the data to this shape (its size must match). */
  shape?: readonly number[];
}

/** Nested JS arrays of numbers or booleans, a typed array, or a number. */
export type ArrayData = number | boolean | ArrayLike<number> | readonly ArrayData[];

function checkDType(d: string | undefined): NarrowDType | undefined {
  if (d === undefined) return undefined;
  if (!isSupportedDType(d as DType)) throw traceError(`dtype '${d}' is not supported; use f32, f16, i32, ui32 or i1`);
  // i64/ui64 run in programs given as StableHLO text (JAX's PRNG); the tracing API stays 32-bit.
  if (isInt64(d as DType)) throw traceError(`dtype '${d}' is not supported when building arrays; use f32, f16, i32, ui32 or i1`);
  return d as NarrowDType;
}

/** Builds an Array from host values (a constant inside a trace). */
function make(dtype: NarrowDType, shape: readonly number[], values: ArrayLike<number>): KArray {
  if (currentTrace()) return lax.constant(dtype, shape, values.length === 1 && shape.length !== 0 ? values[0] : values);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocNarrow(dtype, n);
  if (values.length === 1 && n !== 1) data.fill(values[0]);
  else for (let i = 0; i < n; i++) data[i] = values[i];
  if (dtype === 'f16') for (let i = 0; i < n; i++) data[i] = roundF16(data[i]);
  if (dtype === 'i1') for (let i = 0; i < n; i++) data[i] = data[i] ? 1 : 0;
  return KArray.fromHost({ dtype, shape: [...shape], data });
}

function flattenData(data: ArrayData): { shape: number[]; values: number[]; bools: boolean; ints: boolean } {
  const shape: number[] = [];
  const values: number[] = [];
  let bools = true, ints = true, sawValue = false;
  const walk = (d: ArrayData, depth: number): void => {
    if (typeof d === 'number' || typeof d === 'boolean') {
      if (depth !== shape.length && sawValue) throw traceError('array data is ragged: nested lists must have equal lengths');
      if (!sawValue) shape.length = depth;
      sawValue = true;
      if (typeof d === 'number') { bools = false; if (!Number.isInteger(d)) ints = false; }
      values.push(Number(d));
      return;
    }
    const list = d as ArrayLike<ArrayData>;
    if (shape.length <= depth && !sawValue) shape[depth] = list.length;
    else if (shape[depth] !== list.length) throw traceError('array data is ragged: nested lists must have equal lengths');
    for (let i = 0; i < list.length; i++) walk(list[i], depth + 1);
  };
  walk(data, 0);
  if (!sawValue) { bools = false; }
  return { shape, values, bools, ints };
}

/**
 * An Array from JS data. The dtype is f32 unless given, except booleans (i1) and typed arrays
 * (Int32Array gives i32, Uint32Array ui32, Uint8Array i1).
 */
export function array(data: ArrayData | KArray, opts: ArrayOptions = {}): KArray {
  return apiCall('np.array', () => {
    const dtype = checkDType(opts.dtype);
    if (data instanceof KArray) {
      const a = dtype ? astype(data, dtype) : data;
      return opts.shape ? lax2reshape(a, opts.shape) : a;
    }
    let inferred: SupportedDType = 'f32';
    let flat: { shape: number[]; values: ArrayLike<number> };
    if (ArrayBuffer.isView(data)) {
      if (data instanceof Int32Array) inferred = 'i32';
      else if (data instanceof Uint32Array) inferred = 'ui32';
      else if (data instanceof Uint8Array) inferred = 'i1';
      flat = { shape: [(data as unknown as ArrayLike<number>).length], values: data as unknown as ArrayLike<number> };
    } else {
      const f = flattenData(data as ArrayData);
      if (f.bools && f.values.length > 0) inferred = 'i1';
      flat = f;
    }
    let shape = flat.shape;
    if (opts.shape) {
      shape = checkShape(opts.shape);
      if (shape.reduce((a, b) => a * b, 1) !== flat.values.length) {
        throw traceError(`${flat.values.length} values cannot have shape [${shape.join(', ')}]`);
      }
    }
    return make(dtype ?? inferred, shape, flat.values.length === 1 && shape.length === 0 ? flat.values : Array.from(flat.values));
  });
}

function lax2reshape(a: KArray, shape: readonly number[]): KArray {
  return reshapeOp(a, shape);
}
const reshapeOp = defop('np.reshape', (x: KArray, shape: readonly number[]) => lax.reshape(x, checkShape(shape)), [0]);

/** `x` itself if it is an Array (converted when `dtype` differs), else `array(x)`. */
export function asarray(x: ArrayData | KArray, opts: ArrayOptions = {}): KArray {
  if (x instanceof KArray) return opts.dtype && opts.dtype !== x.dtype ? astype(x, opts.dtype) : x;
  return array(x, opts);
}

/** A copy converted to `dtype` (floats to ints truncate toward zero; to i1 is `!= 0`). */
export const astype = defop('np.astype', (x: Operand, dtype: SupportedDType): KArray => {
  return lax.convert(asArray(x), checkDType(dtype)!);
}, [0]);

/** An array of `shape` filled with `value` (f32 unless `dtype` is given). */
export function full(shape: number | readonly number[], value: number | boolean, dtype: SupportedDType = typeof value === 'boolean' ? 'i1' : 'f32'): KArray {
  return apiCall('np.full', () => make(checkDType(dtype)!, checkShape(typeof shape === 'number' ? [shape] : shape), [Number(value)]));
}
export function zeros(shape: number | readonly number[], dtype: SupportedDType = 'f32'): KArray {
  return apiCall('np.zeros', () => full(shape, 0, dtype));
}
export function ones(shape: number | readonly number[], dtype: SupportedDType = 'f32'): KArray {
  return apiCall('np.ones', () => full(shape, 1, dtype));
}
export function fullLike(x: KArray, value: number, dtype?: SupportedDType): KArray {
  return apiCall('np.fullLike', () => full(x.shape, value, dtype ?? x.dtype));
}
export function zerosLike(x: KArray, dtype?: SupportedDType): KArray {
  return apiCall('np.zerosLike', () => full(x.shape, 0, dtype ?? x.dtype));
}
export function onesLike(x: KArray, dtype?: SupportedDType): KArray {
  return apiCall('np.onesLike', () => full(x.shape, 1, dtype ?? x.dtype));
}

/**
 * `arange(stop)`, `arange(start, stop, step?)`: evenly spaced values in [start, stop). The dtype
 * is i32 when all arguments are integers, else f32.
 */
export function arange(start: number, stop?: number, step = 1, dtype?: SupportedDType): KArray {
  return apiCall('np.arange', () => {
    const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
    if (step === 0) throw traceError('arange: step must not be zero');
    const n = Math.max(0, Math.ceil((hi - lo) / step));
    const d = checkDType(dtype) ?? ([lo, hi, step].every(Number.isInteger) ? 'i32' : 'f32');
    return make(d, [n], Array.from({ length: n }, (_, i) => lo + i * step));
  });
}

/** `num` evenly spaced values from start to stop (inclusive unless `endpoint` is false), f32. */
export function linspace(start: number, stop: number, num = 50, opts: { endpoint?: boolean; dtype?: SupportedDType } = {}): KArray {
  return apiCall('np.linspace', () => {
    if (!Number.isInteger(num) || num < 0) throw traceError(`linspace: num must be a non-negative integer, got ${num}`);
    const endpoint = opts.endpoint ?? true;
    const div = endpoint ? num - 1 : num;
    const step = div > 0 ? (stop - start) / div : 0;
    const values = Array.from({ length: num }, (_, i) => (endpoint && i === num - 1 && num > 1 ? stop : start + i * step));
    return make(checkDType(opts.dtype) ?? 'f32', [num], values);
  });
}

/** An n×m matrix with ones on the k-th diagonal. */
export function eye(n: number, m: number = n, k = 0, dtype: SupportedDType = 'f32'): KArray {
  return apiCall('np.eye', () => {
    const values = new Array<number>(n * m).fill(0);
    for (let i = 0; i < n; i++) if (i + k >= 0 && i + k < m) values[i * m + i + k] = 1;
    return make(checkDType(dtype)!, [n, m], values);
  });
}

/** The n×n identity matrix. */
export function identity(n: number, dtype: SupportedDType = 'f32'): KArray {
  return apiCall('np.identity', () => eye(n, n, 0, dtype));
}
