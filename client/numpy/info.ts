/**
 * @file jax.numpy's constants (`pi`, `e`, `inf`, `nan`, `eulerGamma`, `newaxis`), questions about
 * arrays and dtypes that need no computation (`isscalar`, `ndim`, `shape`, `size`,
 * `promoteTypes`, `finfo`, `iinfo`), and the functional helpers that call user functions
 * (`fromfunction`, `applyAlongAxis` through vmap, `applyOverAxes`).
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { A, bindApi, p, toDType } from '../args.js';
import { KArray } from '../array.js';
import { apiCall, traceError, userCode } from '../site.js';
import { vmap } from '../vmap/index.js';
import { hostArray } from '../args.js';
import { normAxis, resultType } from './promote.js';
import { expandDims } from './shape.js';

export const pi = Math.PI;
export const e = Math.E;
export const inf = Infinity;
export const nan = NaN;
/** The Euler–Mascheroni constant. */
export const eulerGamma = 0.5772156649015329;
/** `null`, which kiln's slicing reads as a new axis (NumPy's `None`). */
export const newaxis = null;

/** Whether `x` is a scalar: a JS number or boolean, or a 0-d Array (as jnp.isscalar). */
export function isscalar(x: unknown): boolean {
  return typeof x === 'number' || typeof x === 'boolean' || (x instanceof KArray && x.ndim === 0);
}

function shapeOf(name: string, x: unknown): readonly number[] {
  if (x instanceof KArray) return x.shape;
  if (typeof x === 'number' || typeof x === 'boolean') return [];
  if (ArrayBuffer.isView(x)) return [(x as unknown as ArrayLike<number>).length];
  throw traceError(`${name} takes an Array, a number or a typed array`);
}
/** The rank of an Array (0 for JS numbers). */
export function ndim(a: unknown): number {
  return apiCall('np.ndim', () => shapeOf('np.ndim', a).length);
}
/** The shape of an Array as a list. */
export function shape(a: unknown): number[] {
  return apiCall('np.shape', () => [...shapeOf('np.shape', a)]);
}
/** The number of elements (along `axis` when given). */
export function size(a: unknown, axis?: number | null): number {
  return apiCall('np.size', () => {
    const s = shapeOf('np.size', a);
    if (axis === undefined || axis === null) return s.reduce((x, y) => x * y, 1);
    return s[normAxis(axis, s.length)];
  });
}

/** The dtype two dtypes promote to (JAX's lattice over kiln's dtypes; dtypes given by any name). */
export function promoteTypes(a: unknown, b: unknown): SupportedDType {
  return apiCall('np.promoteTypes', () => {
    const [x, y] = [toDType(a, 'type1'), toDType(b, 'type2')];
    const fake = (d: SupportedDType) => ({ dtype: d, weak: false, _literal: false }) as unknown as KArray;
    return resultType(fake(x), fake(y)).dtype;
  });
}

/** 1e-3 rounded to f16, as NumPy's float16 resolution (`np.float16(1e-3)`). */
const F16_MILLI = 0.0010004043579101562;

/** Machine limits of a float dtype; each value is exact in its dtype, as NumPy's finfo (resolution 1e-6 is `Math.fround(1e-6)`). */
export interface FInfo { dtype: SupportedDType; bits: number; eps: number; epsneg: number; max: number; min: number; tiny: number; smallestNormal: number; smallestSubnormal: number; resolution: number; nmant: number; nexp: number; maxexp: number; minexp: number }
/** `np.finfo(dtype)` for f32 and f16 (an Array gives its dtype). */
export function finfo(dtype: unknown): FInfo {
  return apiCall('np.finfo', () => {
    const d = dtype instanceof KArray ? dtype.dtype : toDType(dtype);
    if (d === 'f32') {
      return { dtype: d, bits: 32, eps: 2 ** -23, epsneg: 2 ** -24, max: 3.4028234663852886e38, min: -3.4028234663852886e38, tiny: 2 ** -126, smallestNormal: 2 ** -126, smallestSubnormal: 2 ** -149, resolution: Math.fround(1e-6), nmant: 23, nexp: 8, maxexp: 128, minexp: -126 };
    }
    if (d === 'f16') {
      return { dtype: d, bits: 16, eps: 2 ** -10, epsneg: 2 ** -11, max: 65504, min: -65504, tiny: 2 ** -14, smallestNormal: 2 ** -14, smallestSubnormal: 2 ** -24, resolution: F16_MILLI, nmant: 10, nexp: 5, maxexp: 16, minexp: -14 };
    }
    throw traceError(`finfo needs a float dtype, got ${d} (use iinfo for integers)`);
  });
}

/** Limits of an integer dtype. */
export interface IInfo { dtype: SupportedDType; bits: number; min: number; max: number }
/** `np.iinfo(dtype)` for i32, ui32 (and bool, as 1 bit). */
export function iinfo(dtype: unknown): IInfo {
  return apiCall('np.iinfo', () => {
    const d = dtype instanceof KArray ? dtype.dtype : toDType(dtype);
    if (d === 'i32') return { dtype: d, bits: 32, min: -2147483648, max: 2147483647 };
    if (d === 'ui32') return { dtype: d, bits: 32, min: 0, max: 4294967295 };
    throw traceError(`iinfo needs an integer dtype, got ${d} (use finfo for floats)`);
  });
}

/**
 * `np.fromfunction(fn, shape, {dtype})`: `fn` called once with one index grid per axis (f32 by
 * default, as NumPy's float default), so it must work on whole Arrays (as in JAX).
 */
export function fromfunction(fn: unknown, ...args: unknown[]): unknown {
  return apiCall('np.fromfunction', () => {
    if (typeof fn !== 'function') throw traceError('function must be a function');
    const [shp, dtype] = bindApi('np.fromfunction', [p('shape', A.shape), p('dtype', A.dtype, 'f32')], args) as [number[], SupportedDType];
    const n = shp.reduce((a, b) => a * b, 1);
    const grids = shp.map((_, d) => {
      const inner = shp.slice(d + 1).reduce((a, b) => a * b, 1);
      return hostArray(dtype, shp, Array.from({ length: n }, (_, i) => Math.floor(i / inner) % shp[d]));
    });
    return userCode(() => (fn as (...g: KArray[]) => unknown)(...grids));
  });
}

/**
 * `np.applyAlongAxis(func1d, axis, arr, ...args)`: `func1d` applied to every 1-D slice along
 * `axis`, batched with vmap (as JAX does): its result's axes replace `axis`.
 */
export function applyAlongAxis(func1d: unknown, axis: unknown, arr: unknown, ...rest: unknown[]): KArray {
  return apiCall('np.applyAlongAxis', () => {
    if (typeof func1d !== 'function') throw traceError('func1d must be a function');
    const a = A.array.parse(arr, 'arr');
    const nd = typeof a === 'number' ? 0 : a.ndim;
    const ax = normAxis(A.axis.parse(axis, 'axis'), nd);
    let f = (x: KArray) => (func1d as (x: KArray, ...r: unknown[]) => KArray)(x, ...rest);
    for (let i = 1; i < nd - ax; i++) f = vmap(f, i, -1) as typeof f;
    for (let i = 0; i < ax; i++) f = vmap(f, 0, 0) as typeof f;
    return f(a as KArray);
  });
}

/**
 * `np.applyOverAxes(func, a, axes)`: `a = func(a, axis)` for each axis in turn; a result with one
 * axis fewer gets it back as size 1.
 */
export function applyOverAxes(func: unknown, a: unknown, axes: unknown): KArray {
  return apiCall('np.applyOverAxes', () => {
    if (typeof func !== 'function') throw traceError('func must be a function');
    let r = A.array.parse(a, 'a') as KArray;
    for (const axis of A.ints.parse(axes, 'axes')) {
      const b = (func as (x: KArray, axis: number) => KArray)(r, axis);
      if (b.ndim === r.ndim) r = b;
      else if (b.ndim === r.ndim - 1) r = expandDims(b, axis) as KArray;
      else throw traceError(`function is not returning an array of the correct shape (rank ${b.ndim} from rank ${r.ndim} at axis ${axis})`);
    }
    return r;
  });
}
