/**
 * @file Indexing: `take`, `takeAlongAxis`, `np.slice` (NumPy's `x[...]`, implemented in at.ts), and the triangle and diagonal helpers (tril, triu, diag, trace).
 */
import { Op } from '../../ir/ops.js';
import { KArray } from '../array.js';
import { isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { A, defapi, hostArray, p, type ArrayInput, type Check } from '../args.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { index } from './at.js';
import { asArray, broadcastShapes, broadcastTo, normAxis, type Operand } from './promote.js';
import { takeImpl, wrapNegative } from './gather.js';
import { reduceOp } from './reduce-core.js';
import { diagonal } from './stacking.js';

/**
 * Integer indices: an Array, a JS integer, or a list of JS integers (a convenience jnp.take does
 * not offer: it is unambiguous, so kiln takes it).
 */
const INDICES: Check<KArray | number | number[]> = {
  accepts: 'integer indices (an integer Array, an integer, or a list of integers)',
  data: true,
  parse(v, param) {
    if (Array.isArray(v) && v.every((i) => Number.isInteger(i))) return hostArray('i32', [v.length], v);
    return A.array.parse(v, param);
  },
};

/** Indices as an i32 Array (a list or number becomes a constant). */
function indexArray(indices: KArray | number | readonly number[]): KArray {
  if (indices instanceof KArray) {
    if (isFloat(indices.dtype)) {
      // A JS number given to jit/grad/vmap is a weak f32 whatever its value (JS has one number type).
      const hint = indices.weak && indices.ndim === 0 ? '; a JS number passed to jit is a weak f32: pass np.array(i, {dtype: \'int32\'}) or make it static (staticArgnums)' : '';
      throw traceError(`indices must be integers, got ${indices.describe()}${hint}`);
    }
    if (indices.dtype === 'i1') throw traceError(`indices must be integers, got a boolean array (${indices.describe()})`);
    return lax.convert(indices, 'i32');
  }
  const list = typeof indices === 'number' ? [indices] : [...indices];
  if (!list.every(Number.isInteger)) throw traceError('indices must be integers');
  return lax.constant('i32', typeof indices === 'number' ? [] : [list.length], list);
}

/** How `take` treats indices outside [-n, n): JAX's modes. */
export type TakeMode = 'fill' | 'clip' | 'wrap' | 'promise_in_bounds';
/** Options of `take`. */
export interface TakeOptions { axis?: number | null; mode?: TakeMode | null; fillValue?: number | null; uniqueIndices?: boolean; indicesAreSorted?: boolean }

/** JAX's fill for out-of-bounds takes: NaN, the most negative int, the largest uint, true. */
function takeFill(dtype: SupportedDType): number {
  if (isFloat(dtype)) return NaN;
  if (dtype === 'i1') return 1;
  return isUnsigned(dtype) ? 4294967295 : -2147483648;
}

/**
 * Elements of `x` at `indices` along `axis` (the flattened array when null), as `jnp.take`:
 * `np.take(x, indices, axis?, out?, mode?, {fillValue})`. The result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Negative indices count from the end; other
 * out-of-range indices follow `mode`: 'fill' (the default, as JAX's mode=None) gives `fillValue`
 * (default NaN for floats, the most negative value for signed ints, the largest for unsigned, true
 * for bools), 'clip' clamps, 'wrap' takes the index modulo the axis size, 'promise_in_bounds'
 * promises there are none (they are clamped).
 */
export const take = defapi('np.take', [
  p('a', A.array), p('indices', INDICES), p('axis', A.axisOrNull, null), p('out', A.unsupported('kiln has no out= arrays'), null),
  p('mode', A.orNull(A.oneOf<TakeMode>('fill', 'clip', 'wrap', 'promise_in_bounds')), null),
  p('uniqueIndices', A.bool, false, true), p('indicesAreSorted', A.bool, false, true), p('fillValue', A.orNull(A.number), null, true),
], (x: Operand, indices: KArray | number | readonly number[], axis: number | null, _out: null, mode: TakeMode | null, _u: boolean, _s: boolean, fillValue: number | null): KArray => {
  let a = asArray(x);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  const n = a.shape[ax];
  const idx = indexArray(indices);
  const m = mode ?? 'fill';
  if (m === 'wrap') {
    if (n === 0) throw traceError('cannot take with mode wrap from an empty axis');
    const nc = lax.constant('i32', idx.shape, n);
    const r = lax.binary(Op.Remainder, idx, nc);
    return takeImpl(a, lax.select(lax.compare('LT', r, lax.constant('i32', idx.shape, 0)), lax.binary(Op.Add, r, nc), r), ax);
  }
  const got = takeImpl(a, idx, ax);
  if (m !== 'fill') return got; // the gather clamps its start indices
  const wrapped = wrapNegative(idx, n);
  const valid = lax.binary(Op.And,
    lax.compare('GE', wrapped, lax.constant('i32', idx.shape, 0)),
    lax.compare('LT', wrapped, lax.constant('i32', idx.shape, n)));
  const validOut = lax.broadcastInDim(valid, got.shape, idx.shape.map((_, i) => ax + i));
  const fill = lax.withWeak(lax.constant(a.dtype, got.shape, fillValue ?? takeFill(a.dtype)), a.weak);
  return lax.select(validOut, got, fill);
}) as (a: ArrayInput, indices: ArrayInput | readonly number[], axis?: number | null | TakeOptions, ...rest: unknown[]) => KArray;

/** `x` indexed along `axis` by `indices` of the same rank (broadcast on the other axes). */
export const takeAlongAxis = defapi('np.takeAlongAxis', [p('arr', A.array), p('indices', INDICES), p('axis', A.axis)], (x: Operand, indices: KArray, axis: number): KArray => {
  const a = asArray(x);
  const idx0 = indexArray(indices);
  if (idx0.ndim !== a.ndim) throw traceError(`indices of rank ${idx0.ndim} do not match an array of rank ${a.ndim}`);
  const ax = normAxis(axis, a.ndim);
  const outShape = broadcastShapes(a.shape.map((d, i) => (i === ax ? 1 : d)), idx0.shape.map((d, i) => (i === ax ? 1 : d)))
    .map((d, i) => (i === ax ? idx0.shape[ax] : d));
  const src = broadcastTo(a, outShape.map((d, i) => (i === ax ? a.shape[ax] : d)));
  const idx = wrapNegative(broadcastTo(idx0, outShape), a.shape[ax]);
  // The flat index into `src` of each result element.
  const strides: number[] = [];
  let acc = 1;
  for (let i = src.ndim - 1; i >= 0; i--) { strides[i] = acc; acc *= src.shape[i]; }
  let lin = lax.binary(Op.Multiply, idx, lax.constant('i32', outShape, strides[ax]));
  for (let i = 0; i < src.ndim; i++) {
    if (i === ax) continue;
    lin = lax.binary(Op.Add, lin, lax.binary(Op.Multiply, lax.iota('i32', outShape, i), lax.constant('i32', outShape, strides[i])));
  }
  return takeImpl(lax.reshape(src, [src.size]), lin, 0);
}) as (arr: ArrayInput, indices: ArrayInput | readonly number[], axis: number) => KArray;

/**
 * `np.slice(x, ...items)`: NumPy's `x[items]`, one argument per item (see `IndexItem` in
 * client/numpy/at.ts): `np.slice(x, 0, [1, -1], [null, null, -1])` is `x[0, 1:-1, ::-1]`; strings
 * work too (`np.slice(x, '1:-1', '::2')`, `'...'`), `null` is `np.newaxis` (`x[:, None]` is
 * `np.slice(x, ':', null)`), and integer Arrays index like NumPy's advanced indexing (all of them
 * broadcast together; a gather whose out-of-range entries are clamped, as JAX's default does).
 * Negative indices count from the end; out-of-range slice bounds are clipped. Boolean masks are
 * refused (the result's shape would depend on the values). Same as `np.index`.
 */
export function slice(x: unknown, ...specs: unknown[]): KArray {
  return apiCall('np.slice', () => index(x, ...specs));
}

/** A boolean mask over the last two axes: `col - row >= k` (upper) or `<= k` (lower). */
function triMask(shape: readonly number[], k: number, upper: boolean): KArray {
  const r = shape.length;
  const rows = lax.iota('i32', shape, r - 2), cols = lax.iota('i32', shape, r - 1);
  const diff = lax.binary(Op.Subtract, cols, rows);
  return lax.compare(upper ? 'GE' : 'LE', diff, lax.constant('i32', shape, k));
}

function tri(x: Operand, k: number, upper: boolean): KArray {
  const a = asArray(x);
  if (a.ndim < 2) throw traceError(`needs an array of rank at least 2, got shape [${a.shape.join(', ')}]`);
  return lax.select(triMask(a.shape, k, upper), a, lax.withWeak(lax.constant(a.dtype, a.shape, 0), a.weak));
}

/** Lower triangle: zeros above the k-th diagonal. */
export const tril = defapi('np.tril', [p('m', A.array), p('k', A.int, 0)], (x: Operand, k: number) => tri(x, k, false)) as (m: ArrayInput, k?: number) => KArray;
/** Upper triangle: zeros below the k-th diagonal. */
export const triu = defapi('np.triu', [p('m', A.array), p('k', A.int, 0)], (x: Operand, k: number) => tri(x, k, true)) as (m: ArrayInput, k?: number) => KArray;

function onDiagonal(shape: readonly number[], k: number): KArray {
  const diff = lax.binary(Op.Subtract, lax.iota('i32', shape, 1), lax.iota('i32', shape, 0));
  return lax.compare('EQ', diff, lax.constant('i32', shape, k));
}

function diagImpl(a: KArray, k: number): KArray {
  if (a.ndim === 1) {
    const n = a.shape[0], m = n + Math.abs(k);
    const padded = lax.pad(a, lax.constant(a.dtype, [], 0), [0], [Math.abs(k)]);
    const rows = lax.broadcastInDim(padded, [m, m], [0]);
    const byCol = lax.broadcastInDim(padded, [m, m], [1]);
    // Row i holds x[i] at column i+k when k >= 0; column j holds x[j] at row j-k when k < 0.
    return lax.select(onDiagonal([m, m], k), k >= 0 ? rows : byCol, lax.constant(a.dtype, [m, m], 0));
  }
  if (a.ndim !== 2) throw traceError(`needs a 1-D or 2-D array, got shape [${a.shape.join(', ')}]`);
  const [n, m] = a.shape;
  const masked = lax.select(onDiagonal(a.shape, k), a, lax.constant(a.dtype, a.shape, 0));
  if (k >= 0) {
    const len = Math.max(0, Math.min(n, m - k));
    return lax.slice(reduceOp(masked, Op.Add, [1]), [0], [len]);
  }
  const len = Math.max(0, Math.min(m, n + k));
  return lax.slice(reduceOp(masked, Op.Add, [0]), [0], [len]);
}

/** The k-th diagonal of a 2-D array, or a 2-D array with a 1-D array on its k-th diagonal. */
export const diag = defapi('np.diag', [p('v', A.array), p('k', A.int, 0)], (x: Operand, k: number) => diagImpl(asArray(x), k)) as (v: ArrayInput, k?: number) => KArray;

/**
 * `np.trace(a, offset=0, axis1=0, axis2=1, dtype?)`: the sum of the diagonal at `offset` of the
 * plane (`axis1`, `axis2`), as jnp.trace (the other axes stay, in order). Bools sum as i32.
 */
export const trace = defapi('np.trace', [
  p('a', A.array), p('offset', A.int, 0), p('axis1', A.axis, 0), p('axis2', A.axis, 1),
  p('dtype', A.orNull(A.dtype), null), p('out', A.unsupported('kiln has no out= arrays'), null),
], (x: Operand, k: number, axis1: number, axis2: number, dtype: SupportedDType | null): KArray => {
  const a = asArray(x);
  if (a.ndim < 2) throw traceError(`needs an array of rank at least 2, got shape [${a.shape.join(', ')}]`);
  const src = dtype ? lax.convert(a, dtype, a.weak) : a.dtype === 'i1' ? lax.convert(a, 'i32') : a;
  const d = diagonal(src, k, axis1, axis2) as KArray;
  return reduceOp(d, Op.Add, [d.ndim - 1]);
}) as (a: ArrayInput, offset?: number | { offset?: number; axis1?: number; axis2?: number; dtype?: string }, axis1?: number, axis2?: number) => KArray;


