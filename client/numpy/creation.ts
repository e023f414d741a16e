/**
 * @file Making arrays: from JS data (`array`, `asarray`), filled (`zeros`, `ones`, `full` and
 * their `Like` forms), ranges (`arange`, `linspace`), `eye`, and `astype`. Outside a trace these
 * hold host data that is uploaded when first used (nothing to compile); inside one they are
 * constants of the traced program.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { A, bindApi, defapi, fromJs, hostArray, p } from '../args.js';
import { KArray, noticeFloat64, typedArrayDType } from '../array.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { asArray, type Operand } from './promote.js';
import { broadcastTo, reshape, stack } from './shape.js';

/** A dtype name: `'float32'`, `'int32'`, `'uint32'`, `'bool'`, `'float16'`, or kiln's `'f32'`, ... */
export type DTypeArg = string;
/** A shape: a size or a list of sizes. */
export type Shape = number | readonly number[];
/** Options of the `...Like` functions. */
export interface LikeOptions { dtype?: DTypeArg | null; shape?: Shape | null; fillValue?: number }

/** Options for making arrays. */
export interface ArrayOptions {
  /** A dtype name: `'float32'`, `'int32'`, `'uint32'`, `'bool'`, `'float16'` (or `f32`, ...). */
  dtype?: string;
  /** Reshape the data to this shape (its size must match). */
  shape?: readonly number[];
}

/** Nested JS arrays of numbers, booleans, typed arrays or Arrays; a typed array; a number. */
export type ArrayData = number | boolean | ArrayLike<number> | KArray | readonly ArrayData[];

/** NumPy's dtype names, usable wherever a dtype is taken (`np.zeros([2], np.int32)`; `np.complex64` is in complex.ts). */
export const float32 = 'float32';
export const float16 = 'float16';
export const int32 = 'int32';
export const uint32 = 'uint32';
export const bool = 'bool';
export const bool_ = 'bool';

function describeData(d: unknown): string {
  if (d instanceof KArray) return d.describe();
  if (Array.isArray(d)) return `a list of ${d.length}`;
  if (ArrayBuffer.isView(d)) return `a ${d.constructor.name} of ${(d as unknown as ArrayLike<number>).length}`;
  return typeof d;
}

function isList(d: unknown): d is ArrayLike<unknown> {
  return Array.isArray(d) || (ArrayBuffer.isView(d) && !(d instanceof DataView));
}

/** Flattens nested JS lists and typed arrays of numbers/booleans; refuses ragged nesting. */
function flattenData(data: unknown): { shape: number[]; values: number[]; dtype: SupportedDType } {
  // The shape is read along the first elements, then every list is checked against it.
  const shape: number[] = [];
  for (let d = data; isList(d); d = d[0]) {
    shape.push(d.length);
    if (d.length === 0) break;
  }
  const values: number[] = [];
  let sawNumber = false, sawBool = false, f64 = false;
  const typed = new Set<SupportedDType>();
  const walk = (d: unknown, path: number[], inTyped: boolean): void => {
    const depth = path.length;
    if (typeof d === 'number' || typeof d === 'boolean') {
      if (depth !== shape.length) {
        throw traceError(`array data is ragged: a ${typeof d} at index [${path.join(', ')}] where lists of shape [${shape.slice(depth).join(', ')}] are expected (expected shape [${shape.join(', ')}])`);
      }
      if (typeof d === 'boolean') sawBool = true;
      else if (!inTyped) sawNumber = true;
      values.push(Number(d));
      return;
    }
    if (!isList(d)) {
      throw traceError(`array data must be numbers, booleans, nested lists of them, typed arrays or Arrays; got ${d === null ? 'null' : typeof d === 'object' ? (d as object).constructor?.name ?? 'an object' : typeof d} at index [${path.join(', ')}]`);
    }
    if (ArrayBuffer.isView(d)) {
      const t = typedArrayDType(d);
      if (!t) throw traceError(`a ${d.constructor.name} cannot be array data`);
      typed.add(t);
      if (d instanceof Float64Array) f64 = true;
    }
    if (depth >= shape.length || shape[depth] !== d.length) {
      throw traceError(`array data is ragged: ${describeData(d)} at index [${path.join(', ')}] where ${depth >= shape.length ? 'a number' : `a list of ${shape[depth]}`} is expected (expected shape [${shape.join(', ')}])`);
    }
    const typedHere = inTyped || ArrayBuffer.isView(d);
    for (let i = 0; i < d.length; i++) walk(d[i], [...path, i], typedHere);
  };
  walk(data, [], false);
  if (f64) noticeFloat64();
  let dtype: SupportedDType = 'f32';
  if (typed.size > 0 && !sawNumber && !sawBool) {
    // Typed arrays keep their kind; mixing kinds promotes (i32 with ui32 is i32, as kiln's lattice).
    dtype = typed.has('f32') ? 'f32' : typed.has('i32') ? 'i32' : 'ui32';
  } else if (sawBool && !sawNumber && typed.size === 0) {
    dtype = 'i1';
  }
  return { shape, values, dtype };
}

function containsArray(d: unknown): boolean {
  return d instanceof KArray || (Array.isArray(d) && d.some(containsArray));
}

/** Nested lists holding Arrays: each level stacked along a new leading axis. */
function stackNested(d: unknown): KArray {
  if (d instanceof KArray) return d;
  if (!Array.isArray(d)) return array(d as ArrayData);
  if (d.length === 0) throw traceError('cannot stack an empty list of Arrays');
  const parts = d.map((e) => (containsArray(e) ? stackNested(e) : array(e as ArrayData)));
  const s0 = parts[0].shape;
  const bad = parts.find((x) => x.shape.length !== s0.length || x.shape.some((v, i) => v !== s0[i]));
  if (bad) throw traceError(`array data is ragged: elements of shapes [${s0.join(', ')}] and [${bad.shape.join(', ')}] cannot be stacked`);
  return stack(parts);
}

/**
 * `np.array(object, dtype?, {shape})`: an Array from JS data, as `jnp.array`. Nested lists may
 * mix JS numbers, booleans, typed arrays and Arrays (stacked along new leading axes; ragged data is
 * an error naming the shapes). Without `dtype`: JS numbers give f32 (JS has one number type, so
 * kiln does not guess ints from values), all-boolean data gives bool, typed arrays keep their
 * values: Int8/Int16/Int32Array give i32, Uint8/Uint8Clamped/Uint16/Uint32Array ui32 (JAX would
 * keep uint8 and int16; kiln has no 8- or 16-bit integers), Float32Array f32 and Float64Array f32
 * with a one-time notice (as JAX without x64). Arrays among the data keep their dtypes (promoted
 * together). With dtype `'complex64'`, the values are interleaved (re, im) pairs (see
 * client/numpy/complex.ts): `np.array(Float32Array.of(1, 2, 3, 4), {dtype: 'complex64'})` is
 * [1 + 2i, 3 + 4i].
 */
export function array(...args: [object: ArrayData, dtype?: DTypeArg | ArrayOptions | null, opts?: ArrayOptions]): KArray {
  return apiCall('np.array', () => {
    const [data, dtype, , shape] = bindApi('np.array', [
      p('object', A.any), p('dtype', A.orNull(A.dtype), null), p('copy', A.bool, true), p('shape', A.orNull(A.shape), null, true),
    ], args) as [unknown, SupportedDType | null, boolean, number[] | null];
    if (containsArray(data)) {
      let a = stackNested(data);
      if (dtype) a = astype(a, dtype);
      return shape ? reshape(a, shape) : a;
    }
    if ((typeof data === 'boolean' || ArrayBuffer.isView(data)) && shape === null && dtype === null) return fromJs(data as boolean);
    const flat = flattenData(data);
    if (dtype === 'c64') return complexArray(flat.values, shape);
    let outShape = flat.shape;
    if (shape) {
      outShape = shape;
      if (shape.reduce((a, b) => a * b, 1) !== flat.values.length) {
        throw traceError(`${flat.values.length} values cannot have shape [${shape.join(', ')}]`);
      }
    }
    return hostArray(dtype ?? flat.dtype, outShape, flat.values);
  });
}

/**
 * complex64 data: the flattened values are interleaved (re, im) pairs, as `data()` gives them back
 * (JS has no complex numbers); without `shape` the Array is 1-D with half as many elements. One
 * number alone is a real value (`np.array(3, {dtype: 'complex64'})` is 3 + 0i).
 */
function complexArray(values: number[], shape: number[] | null): KArray {
  if (values.length === 1 && (shape === null || shape.length === 0)) return hostArray('c64', [], values);
  if (shape === null && values.length % 2 !== 0) {
    throw traceError(`complex64 data are interleaved (re, im) pairs, but ${values.length} values is an odd count`);
  }
  return hostArray('c64', shape ?? [values.length / 2], values);
}

/** `x` itself if it is an Array (converted when `dtype` differs), else `array(x)`. */
export function asarray(...args: [a: ArrayData, dtype?: DTypeArg | ArrayOptions | null, opts?: ArrayOptions]): KArray {
  return apiCall('np.asarray', () => {
    const [x, dtype] = bindApi('np.asarray', [p('a', A.any), p('dtype', A.orNull(A.dtype), null), p('shape', A.orNull(A.shape), null, true)], args) as [unknown, SupportedDType | null];
    if (x instanceof KArray) return dtype && dtype !== x.dtype ? astype(x, dtype) : x;
    return array(...args);
  });
}

/** A copy converted to `dtype` (floats to ints truncate toward zero; to bool is `!= 0`). */
export const astype = defapi('np.astype', [p('x', A.array), p('dtype', A.dtype)], (x: Operand, dtype: SupportedDType): KArray => {
  return lax.convert(asArray(x), dtype);
});

/**
 * `np.full(shape, fillValue, dtype?)`: an array of `shape` filled with `fillValue` (a number, a
 * boolean, or an Array broadcast to `shape`). Without `dtype`: f32 for numbers, bool for booleans,
 * the Array's dtype for an Array.
 */
export function full(...args: [shape: Shape, fillValue: number | boolean | KArray, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.full', () => {
    const [shape, value, dtype] = bindApi('np.full', [
      p('shape', A.shape), p('fillValue', { accepts: 'a number, a boolean or an Array', parse: (v, q) => (typeof v === 'boolean' || typeof v === 'number' ? v : A.array.parse(v, q)) }),
      p('dtype', A.orNull(A.dtype), null),
    ], args) as [number[], number | boolean | KArray, SupportedDType | null];
    if (value instanceof KArray) return astype(broadcastTo(value, shape), dtype ?? value.dtype);
    return hostArray(dtype ?? (typeof value === 'boolean' ? 'i1' : 'f32'), shape, [Number(value)]);
  });
}

/** `np.zeros(shape, dtype?)` (f32 unless `dtype` is given). */
export function zeros(...args: [shape: Shape, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.zeros', () => {
    const [shape, dtype] = bindApi('np.zeros', [p('shape', A.shape), p('dtype', A.orNull(A.dtype), null)], args) as [number[], SupportedDType | null];
    return hostArray(dtype ?? 'f32', shape, [0]);
  });
}

/** `np.ones(shape, dtype?)` (f32 unless `dtype` is given). */
export function ones(...args: [shape: Shape, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.ones', () => {
    const [shape, dtype] = bindApi('np.ones', [p('shape', A.shape), p('dtype', A.orNull(A.dtype), null)], args) as [number[], SupportedDType | null];
    return hostArray(dtype ?? 'f32', shape, [1]);
  });
}

function likeParams(withValue: boolean) {
  return [
    p('a', A.array), ...(withValue ? [p('fillValue', A.number)] : []), p('dtype', A.orNull(A.dtype), null), p('shape', A.orNull(A.shape), null),
  ];
}

function like(name: string, args: unknown[], value: number | undefined): KArray {
  return apiCall(name, () => {
    const bound = bindApi(name, likeParams(value === undefined), args);
    const [a, v, dtype, shape] = (value === undefined ? bound : [bound[0], value, ...bound.slice(1)]) as [KArray | number, number, SupportedDType | null, number[] | null];
    const src = a instanceof KArray ? a : { shape: [] as number[], dtype: 'f32' as SupportedDType };
    return hostArray(dtype ?? src.dtype, shape ?? src.shape, [v]);
  });
}

/** `np.fullLike(a, fillValue, dtype?, shape?)`. */
export function fullLike(...args: [a: ArrayData, fillValue: number, dtype?: DTypeArg | LikeOptions | null, shape?: Shape | null]): KArray { return like('np.fullLike', args, undefined); }
/** `np.zerosLike(a, dtype?, shape?)`. */
export function zerosLike(...args: [a: ArrayData, dtype?: DTypeArg | LikeOptions | null, shape?: Shape | null]): KArray { return like('np.zerosLike', args, 0); }
/** `np.onesLike(a, dtype?, shape?)`. */
export function onesLike(...args: [a: ArrayData, dtype?: DTypeArg | LikeOptions | null, shape?: Shape | null]): KArray { return like('np.onesLike', args, 1); }

/**
 * `arange(stop)`, `arange(start, stop, step?, dtype?)`: evenly spaced values in [start, stop). The
 * dtype is i32 when all arguments are integers, else f32 (as NumPy's and JAX's arange; this is the
 * one place kiln looks at a JS number's value for a dtype, since `np.arange(n)` as indices is what
 * everyone writes).
 */
export function arange(...args: [start: number, stop?: number | null, step?: number | null, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.arange', () => {
    const [start, stop, step, dtype] = bindApi('np.arange', [
      p('start', A.number), p('stop', A.orNull(A.number), null), p('step', A.orNull(A.number), null), p('dtype', A.orNull(A.dtype), null),
    ], args) as [number, number | null, number | null, SupportedDType | null];
    const [lo, hi] = stop === null ? [0, start] : [start, stop];
    const st = step ?? 1;
    if (st === 0) throw traceError('step must not be zero');
    const n = Math.max(0, Math.ceil((hi - lo) / st));
    const d = dtype ?? ([lo, hi, st].every(Number.isInteger) ? 'i32' : 'f32');
    return hostArray(d, [n], Array.from({ length: n }, (_, i) => lo + i * st));
  });
}

/** `np.linspace(start, stop, num=50, endpoint=true, retstep=false, dtype?)`: f32 unless `dtype`. */
export function linspace(...args: [start: number, stop: number, num?: number | { num?: number; endpoint?: boolean; dtype?: DTypeArg }, endpoint?: boolean | { endpoint?: boolean; dtype?: DTypeArg }, ...rest: unknown[]]): KArray {
  return apiCall('np.linspace', () => {
    const [start, stop, num, endpoint, , dtype] = bindApi('np.linspace', [
      p('start', A.number), p('stop', A.number), p('num', A.count, 50), p('endpoint', A.bool, true),
      p('retstep', A.fixed(false, 'retstep is not implemented'), false), p('dtype', A.orNull(A.dtype), null), p('axis', A.fixed(0, 'only axis 0 is implemented'), 0),
    ], args) as [number, number, number, boolean, boolean, SupportedDType | null];
    const div = endpoint ? num - 1 : num;
    const step = div > 0 ? (stop - start) / div : 0;
    const values = Array.from({ length: num }, (_, i) => (endpoint && i === num - 1 && num > 1 ? stop : start + i * step));
    return hostArray(dtype ?? 'f32', [num], values);
  });
}

/** `np.eye(N, M?, k=0, dtype?)`: an N×M matrix with ones on the k-th diagonal. */
export function eye(...args: [N: number, M?: number | null | { M?: number | null; k?: number; dtype?: DTypeArg }, k?: number | { k?: number; dtype?: DTypeArg }, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.eye', () => {
    const [n, mOrNull, k, dtype] = bindApi('np.eye', [
      p('N', A.count), p('M', A.orNull(A.count), null), p('k', A.int, 0), p('dtype', A.orNull(A.dtype), null),
    ], args) as [number, number | null, number, SupportedDType | null];
    const m = mOrNull ?? n;
    const values = new Array<number>(n * m).fill(0);
    for (let i = 0; i < n; i++) if (i + k >= 0 && i + k < m) values[i * m + i + k] = 1;
    return hostArray(dtype ?? 'f32', [n, m], values);
  });
}

/** `np.identity(n, dtype?)`: the n×n identity matrix. */
export function identity(...args: [n: number, dtype?: DTypeArg | { dtype?: DTypeArg } | null]): KArray {
  return apiCall('np.identity', () => {
    const [n, dtype] = bindApi('np.identity', [p('n', A.count), p('dtype', A.orNull(A.dtype), null)], args) as [number, SupportedDType | null];
    return eye(n, n, 0, dtype);
  });
}
