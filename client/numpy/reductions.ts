/**
 * @file Reductions (sum, mean, max, min, prod, var, std, all, any, argmax, argmin), cumulative
 * sums and products, and sorting. Every function takes jax.numpy's parameters in its positional
 * order (`np.sum(x, 1)`, `np.sum(x, [0, 2], {keepdims: true})`) or as options
 * (`np.sum(x, {axis: 1, keepdims: true})`), checked by client/args.ts; `axis` is a number, a list,
 * or null for all axes.
 */
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Param, type Reduction } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, normAxes, normAxis, type Operand } from './promote.js';
import { identity, keptShape, meanImpl, reduceOp, varImpl } from './reduce-core.js';

const OUT = p('out', A.unsupported('kiln has no out= arrays; use the result'), null);
const INITIAL = p('initial', A.unsupported('not implemented'), null);
const WHERE = p('where', A.unsupported('not implemented; mask with np.where first'), null, true);
const AXIS = p('axis', A.axes, null);
const KEEPDIMS = p('keepdims', A.bool, false);
const DTYPE = p('dtype', A.orNull(A.dtype), null);
/** jnp.sum / jnp.prod: `(a, axis, dtype, out, keepdims, initial, where)`. */
const SUM_PARAMS: Param[] = [p('a', A.array), AXIS, DTYPE, OUT, KEEPDIMS, INITIAL, WHERE];
/** jnp.max / jnp.min: `(a, axis, out, keepdims, initial, where)`. */
const MAX_PARAMS: Param[] = [p('a', A.array), AXIS, OUT, KEEPDIMS, INITIAL, WHERE];
/** jnp.all / jnp.any: `(a, axis, out, keepdims, *, where)`. */
const ALL_PARAMS: Param[] = [p('a', A.array), AXIS, OUT, KEEPDIMS, WHERE];
/** jnp.mean: `(a, axis, dtype, out, keepdims, *, where)`. */
const MEAN_PARAMS: Param[] = [p('a', A.array), AXIS, DTYPE, OUT, KEEPDIMS, WHERE];
/** jnp.var / jnp.std: `(a, axis, dtype, out, ddof, keepdims, *, where)`. */
const VAR_PARAMS: Param[] = [p('a', A.array), AXIS, DTYPE, OUT, p('ddof', A.number, 0), KEEPDIMS, WHERE];
/** jnp.argmax / jnp.argmin: `(a, axis, out, keepdims)`. */
const ARG_PARAMS: Param[] = [p('a', A.array), p('axis', A.axisOrNull, null), OUT, KEEPDIMS];
/** jnp.cumsum / jnp.cumprod: `(a, axis, dtype, out)`. */
const CUM_PARAMS: Param[] = [p('a', A.array), p('axis', A.axisOrNull, null), DTYPE, OUT];
/** jnp.sort / jnp.argsort: `(a, axis=-1, *, kind, order, stable, descending)`. */
const SORT_PARAMS: Param[] = [
  p('a', A.array), p('axis', A.axisOrNull, -1), p('kind', A.unsupported('kiln sorts stably'), null, true),
  p('order', A.unsupported('no structured dtypes'), null, true), p('stable', A.bool, true, true), p('descending', A.bool, false, true),
];




type Axes = number | number[] | null;

/**
 * `a` in `dtype` when one is given, else bools and 8/16-bit integers widened as JAX's
 * `promote_integers=True` does (bool, i8, i16 to i32; ui8, ui16 to ui32): `np.sum(uint8)` is ui32.
 * The cumulative ones widen only bools (`promoteIntegers` false), as JAX's cumsum does.
 */
function accumulated(x: Operand, dtype: SupportedDType | null, promoteIntegers = true): KArray {
  const a = asArray(x);
  if (dtype) return lax.convert(a, dtype, a.weak);
  if (a.dtype === 'i1' || (promoteIntegers && (a.dtype === 'i8' || a.dtype === 'i16'))) return lax.convert(a, 'i32');
  return promoteIntegers && (a.dtype === 'ui8' || a.dtype === 'ui16') ? lax.convert(a, 'ui32') : a;
}

/** `np.sum(a, axis?, dtype?, out?, keepdims?)`: bools count as i32, as in NumPy. */
export const sum = defapi('np.sum', SUM_PARAMS, (x: Operand, axis: Axes, dtype: SupportedDType | null, _out: null, keepdims: boolean): KArray => {
  const v = accumulated(x, dtype);
  return reduceOp(v, Op.Add, normAxes(axis, v.ndim), keepdims);
}) as Reduction;

/** `np.prod(a, axis?, dtype?, out?, keepdims?)`. */
export const prod = defapi('np.prod', SUM_PARAMS, (x: Operand, axis: Axes, dtype: SupportedDType | null, _out: null, keepdims: boolean): KArray => {
  const v = accumulated(x, dtype);
  return reduceOp(v, Op.Multiply, normAxes(axis, v.ndim), keepdims);
}) as Reduction;

/** `np.max(a, axis?, out?, keepdims?)`. */
export const max = defapi('np.max', MAX_PARAMS, (x: Operand, axis: Axes, _out: null, keepdims: boolean): KArray => {
  const a = asArray(x);
  return reduceOp(a, Op.Maximum, normAxes(axis, a.ndim), keepdims);
}) as Reduction;

/** `np.min(a, axis?, out?, keepdims?)`. */
export const min = defapi('np.min', MAX_PARAMS, (x: Operand, axis: Axes, _out: null, keepdims: boolean): KArray => {
  const a = asArray(x);
  return reduceOp(a, Op.Minimum, normAxes(axis, a.ndim), keepdims);
}) as Reduction;

/** `np.all(a, axis?, out?, keepdims?)`. */
export const all = defapi('np.all', ALL_PARAMS, (x: Operand, axis: Axes, _out: null, keepdims: boolean): KArray => {
  const a = lax.convert(asArray(x), 'i1');
  return reduceOp(a, Op.And, normAxes(axis, a.ndim), keepdims);
}) as Reduction;

/** `np.any(a, axis?, out?, keepdims?)`. */
export const any = defapi('np.any', ALL_PARAMS, (x: Operand, axis: Axes, _out: null, keepdims: boolean): KArray => {
  const a = lax.convert(asArray(x), 'i1');
  return reduceOp(a, Op.Or, normAxes(axis, a.ndim), keepdims);
}) as Reduction;

/** `np.mean(a, axis?, dtype?, out?, keepdims?)`. */
export const mean = defapi('np.mean', MEAN_PARAMS, (x: Operand, axis: Axes, dtype: SupportedDType | null, _out: null, keepdims: boolean) => {
  const m = meanImpl(asArray(x), { axis, keepdims });
  return dtype ? lax.convert(m, dtype, m.weak) : m;
}) as Reduction;

/** `np.var(a, axis?, dtype?, out?, ddof?, keepdims?)`. */
export const var_ = defapi('np.var', VAR_PARAMS, (x: Operand, axis: Axes, dtype: SupportedDType | null, _out: null, ddof: number, keepdims: boolean) => {
  const v = varImpl(asArray(x), { axis, ddof, keepdims });
  return dtype ? lax.convert(v, dtype, v.weak) : v;
}) as Reduction;
/** `np.std(a, axis?, dtype?, out?, ddof?, keepdims?)`. */
export const std = defapi('np.std', VAR_PARAMS, (x: Operand, axis: Axes, dtype: SupportedDType | null, _out: null, ddof: number, keepdims: boolean) => {
  const s = lax.unary(Op.Sqrt, varImpl(asArray(x), { axis, ddof, keepdims }));
  return dtype ? lax.convert(s, dtype, s.weak) : s;
}) as Reduction;

/** Options of argmax/argmin: one axis, or null for the flattened array. */
export interface ArgOptions {
  axis?: number | null;
  keepdims?: boolean;
}

function argReduce(x: KArray, opts: ArgOptions, direction: 'GT' | 'LT'): KArray {
  let a = x;
  let axis: number;
  if (opts.axis === null || opts.axis === undefined) {
    a = lax.reshape(x, [x.size]);
    axis = 0;
  } else {
    axis = normAxis(opts.axis, x.ndim);
  }
  if (a.shape[axis] === 0) throw traceError('attempt to get argmax/argmin of an empty sequence');
  const idx = lax.iota('i32', a.shape, axis);
  const float = isFloat(a.dtype);
  const ct = lax.compareType(a.dtype);
  const [, r] = lax.reduce(
    [a, idx],
    [lax.constant(a.dtype, [], identity(direction === 'GT' ? Op.Maximum : Op.Minimum, a.dtype)), lax.constant('i32', [], 0)],
    [axis],
    (b, [v1, i1, v2, i2]) => {
      // Keep (v1, i1) when v1 is strictly better, or NaN against a number (NaN wins, as in NumPy),
      // or equal (two NaNs count as equal) with a smaller index (the first occurrence wins). The
      // rule is commutative, so any reduction order (a GPU's tree) gives the first NaN's index.
      let pick = b.emit1(Op.Compare, [v1, v2], { direction, compareType: ct });
      let same = b.emit1(Op.Compare, [v1, v2], { direction: 'EQ', compareType: ct });
      if (float) {
        const nan1 = b.emit1(Op.Compare, [v1, v1], { direction: 'NE', compareType: 'FLOAT' });
        const nan2 = b.emit1(Op.Compare, [v2, v2], { direction: 'NE', compareType: 'FLOAT' });
        pick = b.emit1(Op.Or, [pick, b.emit1(Op.And, [nan1, b.emit1(Op.Not, [nan2], {})], {})], {});
        same = b.emit1(Op.Or, [same, b.emit1(Op.And, [nan1, nan2], {})], {});
      }
      const tie = b.emit1(Op.And, [same, b.emit1(Op.Compare, [i1, i2], { direction: 'LT', compareType: 'SIGNED' })], {});
      const pickIdx = b.emit1(Op.Or, [pick, tie], {});
      return [b.emit1(Op.Select, [pickIdx, v1, v2], {}), b.emit1(Op.Select, [pickIdx, i1, i2], {})];
    },
  );
  if (!opts.keepdims) return r;
  const axes = opts.axis === null || opts.axis === undefined ? x.shape.map((_, i) => i) : [axis];
  return lax.reshape(r, keptShape(x.shape, axes));
}

/** Index of the largest element (the first one on ties; NaN counts as largest), as i32. */
export const argmax = defapi('np.argmax', ARG_PARAMS, (x: Operand, axis: number | null, _out: null, keepdims: boolean) =>
  argReduce(asArray(x), { axis, keepdims }, 'GT')) as Reduction;
/** Index of the smallest element (the first one on ties; NaN counts as smallest), as i32. */
export const argmin = defapi('np.argmin', ARG_PARAMS, (x: Operand, axis: number | null, _out: null, keepdims: boolean) =>
  argReduce(asArray(x), { axis, keepdims }, 'LT')) as Reduction;

function cumulative(x: KArray, axis: number | null | undefined, op: Op): KArray {
  let a = x.dtype === 'i1' ? lax.convert(x, 'i32') : x;
  if (axis === null || axis === undefined) a = lax.reshape(a, [a.size]);
  const ax = axis === null || axis === undefined ? 0 : normAxis(axis, a.ndim);
  const n = a.shape[ax];
  if (n === 0) return a;
  // A window of the whole axis ending at each element: padding n-1 before, none after.
  return lax.reduceWindow(a, lax.constant(a.dtype, [], identity(op, a.dtype)), {
    windowDimensions: a.shape.map((_, i) => (i === ax ? n : 1)),
    windowStrides: a.shape.map(() => 1),
    baseDilations: a.shape.map(() => 1),
    windowDilations: a.shape.map(() => 1),
    padding: a.shape.map((_, i) => (i === ax ? [n - 1, 0] : [0, 0]) as [number, number]),
  }, lax.binaryBody(op));
}

/** Cumulative sum along `axis` (the flattened array when null, as NumPy). */
export const cumsum = defapi('np.cumsum', CUM_PARAMS, (x: Operand, axis: number | null, dtype: SupportedDType | null) =>
  cumulative(accumulated(x, dtype, false), axis, Op.Add)) as Reduction;
/** Cumulative product along `axis` (the flattened array when null). */
export const cumprod = defapi('np.cumprod', CUM_PARAMS, (x: Operand, axis: number | null, dtype: SupportedDType | null) =>
  cumulative(accumulated(x, dtype, false), axis, Op.Multiply)) as Reduction;

/**
 * Sorted copy along `axis` (default last; null sorts the flattened array). NaNs go last;
 * `descending` reverses the result (NaNs first).
 */
export const sort = defapi('np.sort', SORT_PARAMS, (x: Operand, axis: number | null, _kind: null, _order: null, _stable: boolean, descending: boolean): KArray => {
  let a = asArray(x);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  const r = lax.sort([a], ax)[0];
  return descending ? lax.reverse(r, [ax]) : r;
});

/** Indices that sort `x` along `axis` (stable), as i32. */
export const argsort = defapi('np.argsort', SORT_PARAMS, (x: Operand, axis: number | null, _kind: null, _order: null, _stable: boolean, descending: boolean): KArray => {
  let a = asArray(x);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  if (descending) {
    // Stable descending order: sort the reversed axis ascending, then reverse back and renumber.
    const n = a.shape[ax];
    const r = lax.sort([lax.reverse(a, [ax]), lax.iota('i32', a.shape, ax)], ax, true)[1];
    return lax.binary(Op.Subtract, lax.constant('i32', a.shape, n - 1), lax.reverse(r, [ax]));
  }
  return lax.sort([a, lax.iota('i32', a.shape, ax)], ax, true)[1];
});
