/**
 * @file Statistics and searching: the NaN-ignoring reductions (`nansum` ... `nancumprod`),
 * `median`/`quantile`/`percentile`, `average` with weights, `cov`/`corrcoef`, `ptp`,
 * `countNonzero`, `isclose`/`allclose`/`arrayEqual`/`arrayEquiv`, `cumulativeSum/Prod`,
 * `searchsorted`, `bincount`, `histogram`, `lexsort`, the value-dependent `argwhere`/`nonzero`/
 * `unique` (with JAX's static `size=`), `unwrap` and `trapezoid`.
 *
 * Functions whose result shape depends on the values (argwhere, nonzero, unique, bincount without
 * `length`) need their size given: kiln builds the whole program before any value exists, as JAX
 * does under jit, so kiln requires `size=`/`length=` always and says so.
 */
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Param } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, broadcastShapes, broadcastTo, cast, floatOf, normAxes, normAxis, prepare, resultType, type Operand } from './promote.js';
import { argmax, argmin, cumprod, cumsum, max, mean, min, prod, sort, sum } from './reductions.js';
import { diff } from './stacking.js';

type Axes = number | number[] | null;
const OUT = p('out', A.unsupported('kiln has no out= arrays; use the result'), null);
const AXIS = p('axis', A.axes, null);
const KEEPDIMS = p('keepdims', A.bool, false);
const DTYPE = p('dtype', A.orNull(A.dtype), null);
const WHERE = p('where', A.unsupported('not implemented; mask with np.where first'), null, true);

const isNan = (a: KArray) => (isFloat(a.dtype) ? lax.compare('NE', a, a) : lax.constant('i1', a.shape, 0));
const fill = (a: KArray, v: number) => lax.withWeak(lax.constant(a.dtype, a.shape, v), a.weak);
const nanTo = (a: KArray, v: number) => (isFloat(a.dtype) ? lax.select(isNan(a), fill(a, v), a) : a);
const R = (x: unknown) => x as KArray;

// ---- NaN-ignoring reductions -----------------------------------------------------------------

const NANSUM: Param[] = [p('a', A.array), AXIS, DTYPE, OUT, KEEPDIMS, p('initial', A.unsupported('not implemented'), null), WHERE];
/** Sum treating NaNs as 0. */
export const nansum = defapi('np.nansum', NANSUM, (x: Operand, axis: Axes, dtype: SupportedDType | null, _o: null, keepdims: boolean) =>
  R(sum(nanTo(asArray(x), 0), axis, dtype, null, keepdims)));
/** Product treating NaNs as 1. */
export const nanprod = defapi('np.nanprod', NANSUM, (x: Operand, axis: Axes, dtype: SupportedDType | null, _o: null, keepdims: boolean) =>
  R(prod(nanTo(asArray(x), 1), axis, dtype, null, keepdims)));

function nanCount(a: KArray, axis: Axes, keepdims: boolean): KArray {
  return R(sum(lax.unary(Op.Not, isNan(a)), axis, 'f32', null, keepdims));
}

/** Mean of the non-NaN values (NaN where there are none). */
export const nanmean = defapi('np.nanmean', [p('a', A.array), AXIS, DTYPE, OUT, KEEPDIMS, WHERE], (x: Operand, axis: Axes, dtype: SupportedDType | null, _o: null, keepdims: boolean): KArray => {
  const a = asArray(x);
  const s = R(sum(cast(nanTo(a, 0), 'f32', a.weak), axis, null, null, keepdims));
  const r = cast(lax.binary(Op.Divide, s, nanCount(a, axis, keepdims)), dtype ?? floatOf(a.dtype), a.weak);
  return r;
});

function nanVar(x: Operand, axis: Axes, ddof: number, keepdims: boolean): KArray {
  const a = asArray(x);
  const f = cast(a, 'f32', a.weak);
  const axes = normAxes(axis, a.ndim);
  const n = nanCount(f, axes, true);
  const m = lax.binary(Op.Divide, R(sum(nanTo(f, 0), axes, null, null, true)), n);
  const d = lax.binary(Op.Subtract, f, broadcastTo(m, f.shape));
  const ss = R(sum(nanTo(lax.binary(Op.Multiply, d, d), 0), axes, null, null, keepdims));
  const nn = nanCount(f, axes, keepdims);
  const dof = lax.binary(Op.Subtract, nn, fill(nn, ddof));
  // No values left (or none beyond ddof): NaN, as JAX.
  const v = lax.select(lax.compare('LE', dof, fill(dof, 0)), fill(dof, NaN), lax.binary(Op.Divide, ss, dof));
  return cast(v, floatOf(a.dtype), a.weak);
}
const NANVAR: Param[] = [p('a', A.array), AXIS, DTYPE, OUT, p('ddof', A.number, 0), KEEPDIMS, WHERE];
/** Variance of the non-NaN values. */
export const nanvar = defapi('np.nanvar', NANVAR, (x: Operand, axis: Axes, dtype: SupportedDType | null, _o: null, ddof: number, keepdims: boolean) => {
  const v = nanVar(x, axis, ddof, keepdims);
  return dtype ? lax.convert(v, dtype, v.weak) : v;
});
/** Standard deviation of the non-NaN values. */
export const nanstd = defapi('np.nanstd', NANVAR, (x: Operand, axis: Axes, dtype: SupportedDType | null, _o: null, ddof: number, keepdims: boolean) => {
  const v = lax.unary(Op.Sqrt, nanVar(x, axis, ddof, keepdims));
  return dtype ? lax.convert(v, dtype, v.weak) : v;
});

function nanExtreme(isMax: boolean) {
  return (x: Operand, axis: Axes, _o: null, keepdims: boolean): KArray => {
    const a = asArray(x);
    if (!isFloat(a.dtype)) return R((isMax ? max : min)(a, axis, null, keepdims));
    const r = R((isMax ? max : min)(nanTo(a, isMax ? -Infinity : Infinity), axis, null, keepdims));
    const none = lax.compare('EQ', nanCount(a, axis, keepdims), lax.constant('f32', r.shape, 0));
    return lax.select(none, fill(r, NaN), r);
  };
}
const NANMAX: Param[] = [p('a', A.array), AXIS, OUT, KEEPDIMS, p('initial', A.unsupported('not implemented'), null), WHERE];
/** Maximum ignoring NaNs (NaN where all are NaN). */
export const nanmax = defapi('np.nanmax', NANMAX, nanExtreme(true));
/** Minimum ignoring NaNs (NaN where all are NaN). */
export const nanmin = defapi('np.nanmin', NANMAX, nanExtreme(false));

function nanArg(isMax: boolean) {
  return (x: Operand, axis: number | null, _o: null, keepdims: boolean): KArray => {
    const a = asArray(x);
    const r = R((isMax ? argmax : argmin)(nanTo(a, isMax ? -Infinity : Infinity), axis, null, keepdims));
    if (!isFloat(a.dtype)) return r;
    // All-NaN slices give -1, as JAX.
    const none = lax.compare('EQ', nanCount(a, axis, keepdims), lax.constant('f32', r.shape, 0));
    return lax.select(none, lax.constant('i32', r.shape, -1), r);
  };
}
const NANARG: Param[] = [p('a', A.array), p('axis', A.axisOrNull, null), OUT, KEEPDIMS];
/** Index of the maximum ignoring NaNs (-1 where all are NaN). */
export const nanargmax = defapi('np.nanargmax', NANARG, nanArg(true));
/** Index of the minimum ignoring NaNs (-1 where all are NaN). */
export const nanargmin = defapi('np.nanargmin', NANARG, nanArg(false));

const CUM: Param[] = [p('a', A.array), p('axis', A.axisOrNull, null), DTYPE, OUT];
/** Cumulative sum treating NaNs as 0. */
export const nancumsum = defapi('np.nancumsum', CUM, (x: Operand, axis: number | null, dtype: SupportedDType | null) => R(cumsum(nanTo(asArray(x), 0), axis, dtype)));
/** Cumulative product treating NaNs as 1. */
export const nancumprod = defapi('np.nancumprod', CUM, (x: Operand, axis: number | null, dtype: SupportedDType | null) => R(cumprod(nanTo(asArray(x), 1), axis, dtype)));

function cumulative(fn: typeof cumsum, init: number) {
  return (x: Operand, axis: number | null, dtype: SupportedDType | null, includeInitial: boolean): KArray => {
    const a = asArray(x);
    if (axis === null && a.ndim > 1) throw traceError(`axis must be given for an array of rank ${a.ndim} (the array API does not flatten)`);
    const ax = a.ndim === 0 ? null : normAxis(axis ?? 0, a.ndim);
    const r = R(fn(a, ax, dtype));
    if (!includeInitial) return r;
    const k = ax ?? 0;
    return lax.pad(r, lax.constant(r.dtype, [], init), r.shape.map((_, i) => (i === k ? 1 : 0)), r.shape.map(() => 0));
  };
}
const CUMULATIVE: Param[] = [p('x', A.array), p('axis', A.axisOrNull, null, true), p('dtype', A.orNull(A.dtype), null, true), p('includeInitial', A.bool, false, true)];
/** The array API's cumulative sum (`axis` required above rank 1; `includeInitial` prepends 0). */
export const cumulativeSum = defapi('np.cumulativeSum', CUMULATIVE, cumulative(cumsum, 0));
/** The array API's cumulative product (`includeInitial` prepends 1). */
export const cumulativeProd = defapi('np.cumulativeProd', CUMULATIVE, cumulative(cumprod, 1));

// ---- order statistics -----------------------------------------------------------------------

type Method = 'linear' | 'lower' | 'higher' | 'nearest' | 'midpoint';

function quantileImpl(x: Operand, qs: number | number[], axis: Axes, method: Method, keepdims: boolean): KArray {
  const a0 = asArray(x);
  const a = cast(a0, floatOf(a0.dtype), a0.weak);
  const axes = normAxes(axis, a.ndim);
  const rest = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const n = axes.reduce((m, i) => m * a.shape[i], 1);
  if (n === 0) throw traceError('quantile of an empty array');
  const moved = lax.reshape(lax.transpose(a, [...rest, ...axes]), [...rest.map((i) => a.shape[i]), n]);
  const last = moved.ndim - 1;
  const sorted = R(sort(moved, last));
  const anyNan = R(sum(isNan(moved), last, 'i32', null, false));
  const list = typeof qs === 'number' ? [qs] : qs;
  const at = (i: number) => lax.reshape(lax.slice(sorted, sorted.shape.map((_, d) => (d === last ? i : 0)), sorted.shape.map((d, k) => (k === last ? i + 1 : d))), sorted.shape.slice(0, -1));
  const outs = list.map((q) => {
    if (!(q >= 0 && q <= 1)) throw traceError(`quantiles must be in [0, 1], got ${q}`);
    const pos = q * (n - 1);
    const lo = Math.floor(pos), hi = Math.min(Math.ceil(pos), n - 1), frac = pos - lo;
    let v: KArray;
    if (method === 'lower' || lo === hi) v = at(lo);
    else if (method === 'higher') v = at(hi);
    else if (method === 'nearest') v = at(frac === 0.5 ? (lo % 2 === 0 ? lo : hi) : Math.round(pos));
    else if (method === 'midpoint') v = lax.binary(Op.Multiply, lax.binary(Op.Add, at(lo), at(hi)), fill(at(lo), 0.5));
    else {
      const l = at(lo), h = at(hi);
      v = lax.binary(Op.Add, lax.binary(Op.Multiply, l, fill(l, 1 - frac)), lax.binary(Op.Multiply, h, fill(h, frac)));
    }
    v = lax.select(lax.compare('GT', anyNan, lax.constant('i32', anyNan.shape, 0)), fill(v, NaN), v);
    if (keepdims) v = lax.reshape(v, a.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
    return v;
  });
  if (typeof qs === 'number') return outs[0];
  return lax.concatenate(outs.map((o) => lax.reshape(o, [1, ...o.shape])), 0);
}

const QS = { accepts: 'a number or a list of numbers (static quantiles)', parse(v: unknown, param: string) {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((e) => typeof e === 'number')) return [...v];
  throw traceError(`${param} must be a number or a list of numbers in kiln (the quantiles are static: they choose the sorted positions read), got ${typeof v === 'object' ? 'an Array' : String(v)}`);
} };
const METHOD = p('method', A.oneOf('linear', 'lower', 'higher', 'nearest', 'midpoint'), 'linear');
const OVERWRITE = p('overwriteInput', A.bool, false);
/** `np.quantile(a, q, axis?, out?, overwriteInput?, method='linear', keepdims?)`; NaN where a slice has NaN. */
export const quantile = defapi('np.quantile', [p('a', A.array), p('q', QS), AXIS, OUT, OVERWRITE, METHOD, KEEPDIMS],
  (x: Operand, q: number | number[], axis: Axes, _o: null, _w: boolean, method: Method, keepdims: boolean) => quantileImpl(x, q, axis, method, keepdims));
/** `np.percentile`: `quantile` with `q` in percent. */
export const percentile = defapi('np.percentile', [p('a', A.array), p('q', QS), AXIS, OUT, OVERWRITE, METHOD, KEEPDIMS],
  (x: Operand, q: number | number[], axis: Axes, _o: null, _w: boolean, method: Method, keepdims: boolean) =>
    quantileImpl(x, typeof q === 'number' ? q / 100 : q.map((v) => v / 100), axis, method, keepdims));
/** The median along `axis` (NaN where a slice has NaN). */
export const median = defapi('np.median', [p('a', A.array), AXIS, OUT, OVERWRITE, KEEPDIMS],
  (x: Operand, axis: Axes, _o: null, _w: boolean, keepdims: boolean) => quantileImpl(x, 0.5, axis, 'midpoint', keepdims));

/** Range of values (max - min) along `axis`. */
export const ptp = defapi('np.ptp', [p('a', A.array), AXIS, OUT, KEEPDIMS], (x: Operand, axis: Axes, _o: null, keepdims: boolean): KArray => {
  const a = asArray(x);
  if (a.dtype === 'i1') throw traceError('ptp of booleans is not defined (the difference of booleans is not)');
  return lax.binary(Op.Subtract, R(max(a, axis, null, keepdims)), R(min(a, axis, null, keepdims)));
});

/** The number of nonzero elements (i32). */
export const countNonzero = defapi('np.countNonzero', [p('a', A.array), AXIS, KEEPDIMS], (x: Operand, axis: Axes, keepdims: boolean) =>
  R(sum(lax.convert(asArray(x), 'i1'), axis, 'i32', null, keepdims)));

/**
 * Weighted mean along `axis`: `sum(a * w) / sum(w)`; 1-D weights run along `axis`. `returned`
 * also gives the sum of the weights.
 */
export const average = defapi('np.average', [p('a', A.array), AXIS, p('weights', A.orNull(A.array), null), p('returned', A.bool, false), KEEPDIMS],
  (x: Operand, axis: Axes, weights: Operand | null, returned: boolean, keepdims: boolean): KArray | KArray[] => {
    const a = asArray(x);
    if (weights === null) {
      const m = R(mean(a, axis, null, null, keepdims));
      if (!returned) return m;
      const n = normAxes(axis, a.ndim).reduce((c, i) => c * a.shape[i], 1);
      return [m, fill(m, n)];
    }
    let w = asArray(weights);
    const axes = normAxes(axis, a.ndim);
    if (w.ndim !== a.ndim) {
      if (w.ndim !== 1 || axes.length !== 1) throw traceError(`weights of shape [${w.shape.join(', ')}] must have the shape of a [${a.shape.join(', ')}], or be 1-D along one given axis`);
      if (w.shape[0] !== a.shape[axes[0]]) throw traceError(`1-D weights have length ${w.shape[0]} but axis ${axes[0]} has ${a.shape[axes[0]]}`);
      w = lax.broadcastInDim(w, a.shape, [axes[0]]);
    }
    const { args: [af, wf], dtype } = prepare([a, w]);
    const f = floatOf(dtype);
    const [A2, W2] = [cast(af, f), cast(wf, f)];
    const sw = R(sum(W2, axes, null, null, keepdims));
    const r = lax.binary(Op.Divide, R(sum(lax.binary(Op.Multiply, A2, W2), axes, null, null, keepdims)), sw);
    return returned ? [r, sw] : r;
  });

function covImpl(m: Operand, y: Operand | null, rowvar: boolean, bias: boolean, ddof: number | null): KArray {
  const prep = (v: Operand) => {
    let t = asArray(v);
    if (t.ndim > 2) throw traceError(`m has more than 2 dimensions: [${t.shape.join(', ')}]`);
    t = t.ndim < 2 ? lax.reshape(t, [1, t.size]) : t;
    if (!rowvar && t.shape[0] !== 1) t = lax.transpose(t, [1, 0]);
    return cast(t, 'f32', t.weak);
  };
  let X = prep(m);
  if (y !== null) X = lax.concatenate([X, prep(y)], 0);
  const nObs = X.shape[1];
  const dof = nObs - (ddof ?? (bias ? 0 : 1));
  const mu = R(mean(X, 1, null, null, true));
  const Xc = lax.binary(Op.Subtract, X, broadcastTo(mu, X.shape));
  const c = lax.dotGeneral(Xc, Xc, { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [1] });
  const r = lax.binary(Op.Divide, c, fill(c, dof));
  return lax.reshape(r, r.shape.filter((d) => d !== 1));
}
const COV: Param[] = [p('m', A.array), p('y', A.orNull(A.array), null), p('rowvar', A.bool, true), p('bias', A.bool, false), p('ddof', A.orNull(A.int), null),
  p('fweights', A.unsupported('frequency weights are not implemented'), null), p('aweights', A.unsupported('observation weights are not implemented'), null)];
/** The covariance matrix of the rows (variables) of `m` (columns when `rowvar` is false). */
export const cov = defapi('np.cov', COV, (m: Operand, y: Operand | null, rowvar: boolean, bias: boolean, ddof: number | null) => covImpl(m, y, rowvar, bias, ddof));
/** Pearson correlation coefficients, clipped to [-1, 1]. */
export const corrcoef = defapi('np.corrcoef', [p('x', A.array), p('y', A.orNull(A.array), null), p('rowvar', A.bool, true)], (x: Operand, y: Operand | null, rowvar: boolean): KArray => {
  const c = covImpl(x, y, rowvar, false, null);
  if (c.ndim === 0) return lax.binary(Op.Divide, c, c);
  const n = c.shape[0];
  const d = lax.unary(Op.Sqrt, lax.reshape(lax.slice(lax.reshape(c, [n * n]), [0], [n * n], [n + 1]), [n]));
  const r = lax.binary(Op.Divide, lax.binary(Op.Divide, c, lax.broadcastInDim(d, [n, n], [0])), lax.broadcastInDim(d, [n, n], [1]));
  return lax.binary(Op.Minimum, lax.binary(Op.Maximum, r, fill(r, -1)), fill(r, 1));
});

// ---- comparison of whole arrays --------------------------------------------------------------

function iscloseImpl(x: Operand, y: Operand, rtol: number, atol: number, equalNan: boolean): KArray {
  const { args: [a, b], dtype } = prepare([x, y]);
  if (!isFloat(dtype)) return lax.compare('EQ', a, b);
  const d = lax.unary(Op.Abs, lax.binary(Op.Subtract, a, b));
  const tol = lax.binary(Op.Add, fill(d, atol), lax.binary(Op.Multiply, fill(d, rtol), lax.unary(Op.Abs, b)));
  // As jnp.isclose: an infinity is close only to the same infinity (|a - b| <= inf would say
  // every finite value is close to inf).
  const finite = lax.binary(Op.And, lax.unary(Op.IsFinite, a, 'i1'), lax.unary(Op.IsFinite, b, 'i1'));
  let r = lax.binary(Op.Or, lax.binary(Op.And, lax.compare('LE', d, tol), finite), lax.compare('EQ', a, b));
  if (equalNan) r = lax.binary(Op.Or, r, lax.binary(Op.And, isNan(a), isNan(b)));
  return r;
}
const CLOSE: Param[] = [p('a', A.array), p('b', A.array), p('rtol', A.number, 1e-5), p('atol', A.number, 1e-8), p('equalNan', A.bool, false)];
/** `|a - b| <= atol + rtol * |b|` elementwise for finite values; an infinity is close only to the same infinity. */
export const isclose = defapi('np.isclose', CLOSE, iscloseImpl);
/** Whether all elements are close (see isclose). */
export const allclose = defapi('np.allclose', CLOSE, (a: Operand, b: Operand, rtol: number, atol: number, equalNan: boolean) => {
  const c = iscloseImpl(a, b, rtol, atol, equalNan);
  const [r] = lax.reduce([c], [lax.constant('i1', [], 1)], c.shape.map((_, i) => i), lax.binaryBody(Op.And));
  return r;
});

function allEqual(a: KArray, b: KArray, equalNan: boolean): KArray {
  const { args: [x, y] } = prepare([a, b]);
  let eq = lax.compare('EQ', x, y);
  if (equalNan) eq = lax.binary(Op.Or, eq, lax.binary(Op.And, isNan(x), isNan(y)));
  return lax.reduce([eq], [lax.constant('i1', [], 1)], eq.shape.map((_, i) => i), lax.binaryBody(Op.And))[0];
}
/** True when both have the same shape and elements (shapes are static: a mismatch is false). */
export const arrayEqual = defapi('np.arrayEqual', [p('a1', A.array), p('a2', A.array), p('equalNan', A.bool, false)], (x: Operand, y: Operand, equalNan: boolean): KArray => {
  const a = asArray(x), b = asArray(y);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) return lax.constant('i1', [], 0);
  return allEqual(a, b, equalNan);
});
/** True when the arrays broadcast together and are equal elementwise. */
export const arrayEquiv = defapi('np.arrayEquiv', [p('a1', A.array), p('a2', A.array)], (x: Operand, y: Operand): KArray => {
  const a = asArray(x), b = asArray(y);
  try { broadcastShapes(a.shape, b.shape); } catch { return lax.constant('i1', [], 0); }
  return allEqual(a, b, false);
});

// ---- searching and counting -----------------------------------------------------------------

/**
 * Indices where `v` would be inserted into the sorted 1-D `a` to keep it sorted: the number of
 * elements `< v` ('left') or `<= v` ('right').
 */
export const searchsorted = defapi('np.searchsorted', [p('a', A.array), p('v', A.array), p('side', A.oneOf('left', 'right'), 'left'), p('sorter', A.unsupported('not implemented; sort a first'), null), p('method', A.string, 'scan')],
  (x: Operand, v: Operand, side: 'left' | 'right'): KArray => {
    const a0 = asArray(x);
    if (a0.ndim !== 1) throw traceError(`a must be 1-D, got shape [${a0.shape.join(', ')}]`);
    const vs = asArray(v);
    const { dtype } = resultType(a0, vs);
    const A1 = cast(a0, dtype), V1 = cast(vs, dtype);
    const vf = lax.reshape(V1, [V1.size]);
    const grid = [vf.size, A1.size];
    const cmp = lax.compare(side === 'left' ? 'LT' : 'LE', lax.broadcastInDim(A1, grid, [1]), lax.broadcastInDim(vf, grid, [0]));
    return lax.reshape(R(sum(cmp, 1, 'i32')), vs.shape);
  });

/**
 * Counts of each value in `[0, length)` of a non-negative integer array (summed `weights` when
 * given); values outside are ignored. `length` is required: the result's size would otherwise
 * depend on the values (JAX requires it under jit).
 */
export const bincount = defapi('np.bincount', [p('x', A.array), p('weights', A.orNull(A.array), null), p('minlength', A.count, 0), p('length', A.orNull(A.count), null)],
  (x: Operand, weights: Operand | null, minlength: number, length: number | null): KArray => {
    const a = asArray(x);
    if (isFloat(a.dtype)) throw traceError(`x must be integers, got ${a.dtype}`);
    if (a.ndim !== 1) throw traceError(`x must be 1-D, got shape [${a.shape.join(', ')}]`);
    if (length === null) throw traceError('length= is required: the number of bins would depend on the values, which kiln cannot read while building the program (as JAX under jit); pass length (e.g. max value + 1)');
    const len = Math.max(length, minlength);
    const grid = [len, a.size];
    const hit = lax.compare('EQ', lax.broadcastInDim(lax.convert(a, 'i32'), grid, [1]), lax.iota('i32', grid, 0));
    if (weights === null) return R(sum(hit, 1, 'i32'));
    const w = asArray(weights);
    if (w.ndim !== 1 || w.shape[0] !== a.size) throw traceError(`weights must have the shape of x ([${a.size}]), got [${w.shape.join(', ')}]`);
    const wd = w.dtype === 'i1' ? lax.convert(w, 'i32') : w;
    const wb = lax.broadcastInDim(wd, grid, [1]);
    return R(sum(lax.select(hit, wb, lax.constant(wd.dtype, grid, 0)), 1));
  });

/**
 * `(hist, binEdges)` of `a` over `bins` equal bins of `range` (the data's min and max when
 * null): bin i holds `edges[i] <= x < edges[i+1]`, the last bin includes its right edge.
 */
export const histogram = defapi('np.histogram', [p('a', A.array), p('bins', A.count, 10), p('range', A.orNull(A.any), null), p('weights', A.orNull(A.array), null), p('density', A.orNull(A.bool), null)],
  (x: Operand, bins: number, range: unknown, weights: Operand | null, density: boolean | null): KArray[] => {
    const a0 = asArray(x);
    const a = lax.reshape(cast(a0, 'f32', false), [a0.size]);
    if (bins < 1) throw traceError(`bins must be at least 1, got ${bins}`);
    let lo: KArray, hi: KArray;
    if (range !== null) {
      if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number') || !(range[0] <= range[1])) throw traceError(`range must be [min, max] numbers, got ${JSON.stringify(range)}`);
      lo = lax.constant('f32', [], range[0]); hi = lax.constant('f32', [], range[1]);
    } else {
      lo = R(min(a)); hi = R(max(a));
    }
    const span = lax.binary(Op.Subtract, hi, lo);
    const t = lax.binary(Op.Divide, lax.iota('f32', [bins + 1], 0), lax.constant('f32', [bins + 1], bins));
    const edges = lax.binary(Op.Add, lax.broadcastInDim(lo, [bins + 1], []), lax.binary(Op.Multiply, t, lax.broadcastInDim(span, [bins + 1], [])));
    const grid = [bins, a.size];
    const left = lax.broadcastInDim(lax.slice(edges, [0], [bins]), grid, [0]);
    const right = lax.broadcastInDim(lax.slice(edges, [1], [bins + 1]), grid, [0]);
    const xs = lax.broadcastInDim(a, grid, [1]);
    const lastBin = lax.compare('EQ', lax.iota('i32', grid, 0), lax.constant('i32', grid, bins - 1));
    const inRight = lax.binary(Op.Or, lax.compare('LT', xs, right), lax.binary(Op.And, lastBin, lax.compare('LE', xs, right)));
    const hit = lax.binary(Op.And, lax.compare('GE', xs, left), inRight);
    const w = weights === null ? lax.constant('f32', grid, 1) : lax.broadcastInDim(lax.reshape(cast(weights, 'f32'), [a.size]), grid, [1]);
    let hist = R(sum(lax.select(hit, w, lax.constant('f32', grid, 0)), 1));
    if (density) {
      const width = lax.binary(Op.Subtract, lax.slice(edges, [1], [bins + 1]), lax.slice(edges, [0], [bins]));
      hist = lax.binary(Op.Divide, hist, lax.binary(Op.Multiply, width, lax.broadcastInDim(R(sum(hist)), [bins], [])));
    }
    return [hist, edges];
  });

/** Indices that sort by the last key, then the one before, ... (stable), along `axis`. */
export const lexsort = defapi('np.lexsort', [p('keys', A.arrays), p('axis', A.axis, -1)], (keys: Operand[], axis: number): KArray => {
  if (keys.length === 0) throw traceError('need at least one key');
  const ks = keys.map(asArray);
  const shape = ks[0].shape;
  if (ks.some((k) => k.ndim !== shape.length || k.shape.some((d, i) => d !== shape[i]))) throw traceError('all keys need the same shape');
  const ax = normAxis(axis, shape.length);
  // One stable sort whose keys are the given keys from the last (the primary) to the first, an
  // iota riding along, as jnp.lexsort.
  const sorted = lax.sort([...ks].reverse().concat([lax.iota('i32', shape, ax)]), ax, true, ks.length);
  return sorted[sorted.length - 1];
});

/** Positions `0..size-1` of the true elements of flat `mask`, and whether each slot is used. */
function compact(mask: KArray, size: number): { pick: KArray; used: KArray } {
  const n = mask.size;
  const flat = lax.reshape(mask, [n]);
  const pos = lax.binary(Op.Subtract, R(cumsum(lax.convert(flat, 'i32'))), lax.constant('i32', [n], 1));
  const grid = [size, n];
  // pick[k, i]: element i is the k-th true element.
  const pick = lax.binary(Op.And, lax.broadcastInDim(flat, grid, [1]), lax.compare('EQ', lax.broadcastInDim(pos, grid, [1]), lax.iota('i32', grid, 0)));
  const [used] = lax.reduce([pick], [lax.constant('i1', [], 0)], [1], lax.binaryBody(Op.Or));
  return { pick, used };
}

/** The value at the picked position of each slot (summing zeros elsewhere; exact). */
function gathered(pick: KArray, values: KArray): KArray {
  const grid = pick.shape;
  const v = lax.broadcastInDim(values, grid, [1]);
  const zero = lax.constant(values.dtype, grid, 0);
  return lax.reduce([lax.select(pick, v, zero)], [lax.constant(values.dtype, [], 0)], [1], lax.binaryBody(values.dtype === 'i1' ? Op.Or : Op.Add))[0];
}

function needSize(name: string, size: number | null): number {
  if (size === null) throw traceError(`size= is required: the number of results of ${name} depends on the values, which kiln cannot read while building the program (JAX requires size= under jit too)`);
  return size;
}

const SIZE = p('size', A.orNull(A.count), null, true);
const FILL = p('fillValue', A.orNull(A.number), null, true);

/** `[size, ndim]` indices of the nonzero elements in row-major order, padded with `fillValue` (0). */
export const argwhere = defapi('np.argwhere', [p('a', A.array), SIZE, FILL], (x: Operand, size: number | null, fillValue: number | null): KArray => {
  const a = asArray(x);
  const s = needSize('argwhere', size);
  const { pick, used } = compact(lax.convert(a, 'i1'), s);
  const cols = (a.ndim === 0 ? [] : a.shape.map((_, d) => lax.reshape(lax.iota('i32', a.shape, d), [a.size]))).map((idx) => {
    const v = gathered(pick, idx);
    return lax.reshape(lax.select(used, v, lax.constant('i32', [s], fillValue ?? 0)), [s, 1]);
  });
  return cols.length === 0 ? lax.constant('i32', [s, 0], 0) : lax.concatenate(cols, 1);
});

/** A tuple of index arrays (one per axis) of the nonzero elements, each of length `size`. */
export const nonzero = defapi('np.nonzero', [p('a', A.array), SIZE, FILL], (x: Operand, size: number | null, fillValue: number | null): KArray[] => {
  const a = asArray(x);
  if (a.ndim === 0) throw traceError('nonzero of a 0-d array is not defined (use atleast1d first), as in JAX');
  const r = R(argwhere(a, { size: needSize('nonzero', size), fillValue }));
  return a.shape.map((_, d) => lax.reshape(lax.slice(r, [0, d], [r.shape[0], d + 1]), [r.shape[0]]));
});

/** The flat indices of the nonzero elements (`size` required). */
export const flatnonzero = defapi('np.flatnonzero', [p('a', A.array), SIZE, FILL], (x: Operand, size: number | null, fillValue: number | null): KArray => {
  const a = asArray(x);
  return (nonzero(lax.reshape(a, [a.size]), { size: needSize('flatnonzero', size), fillValue }) as KArray[])[0];
});

/**
 * The sorted distinct values of the flattened array, padded to `size` with `fillValue` (the
 * smallest value by default, as JAX). Only the values are returned; `returnIndex` and the others
 * are refused.
 */
export const unique = defapi('np.unique', [p('ar', A.array), p('returnIndex', A.fixed(false, 'not implemented'), false), p('returnInverse', A.fixed(false, 'not implemented'), false),
  p('returnCounts', A.fixed(false, 'not implemented'), false), p('axis', A.unsupported('only the flattened array is implemented'), null), p('equalNan', A.bool, true, true), SIZE, FILL],
(x: Operand, _i: boolean, _v: boolean, _c: boolean, _ax: null, _eq: boolean, size: number | null, fillValue: number | null): KArray => {
  const a0 = asArray(x);
  const s = needSize('unique', size);
  const n = a0.size;
  if (n === 0) throw traceError('unique of an empty array with size= has no fill value to use');
  const a = R(sort(lax.reshape(a0, [n])));
  const prev = lax.slice(a, [0], [n - 1]), next = lax.slice(a, [1], [n]);
  let differs = lax.compare('NE', next, prev);
  // NaNs compare unequal to each other; equal_nan (the default) keeps one.
  if (isFloat(a.dtype)) differs = lax.binary(Op.And, differs, lax.unary(Op.Not, lax.binary(Op.And, isNan(next), isNan(prev))));
  const first = lax.concatenate([lax.constant('i1', [1], 1), differs], 0);
  const { pick, used } = compact(first, s);
  const v = isFloat(a.dtype)
    ? lax.reduce([lax.select(pick, lax.broadcastInDim(a, pick.shape, [1]), lax.constant(a.dtype, pick.shape, -Infinity))], [lax.constant(a.dtype, [], -Infinity)], [1], lax.binaryBody(Op.Maximum))[0]
    : gathered(pick, a);
  const fillV = fillValue === null ? lax.broadcastInDim(lax.slice(a, [0], [1]), [s], [0]) : lax.constant(a.dtype, [s], fillValue);
  return lax.select(used, v, fillV);
});

// ---- signals ---------------------------------------------------------------------------------

/** Unwraps phase jumps larger than `discont` (default `period / 2`) by multiples of `period`. */
export const unwrap = defapi('np.unwrap', [p('p', A.array), p('discont', A.orNull(A.number), null), p('axis', A.axis, -1), p('period', A.number, 2 * Math.PI)],
  (x: Operand, discont: number | null, axis: number, period: number): KArray => {
    const a0 = asArray(x);
    const a = cast(a0, floatOf(a0.dtype), a0.weak);
    const ax = normAxis(axis, a.ndim);
    const n = a.shape[ax];
    if (n === 0) return a;
    const dd = R(diff(a, 1, ax));
    const hiI = period / 2, loI = -hiI;
    const shifted = lax.binary(Op.Subtract, dd, fill(dd, loI));
    // NumPy's mod (sign of the divisor).
    let r = lax.binary(Op.Remainder, shifted, fill(dd, period));
    r = lax.select(lax.binary(Op.And, lax.compare('NE', r, fill(r, 0)), lax.compare('LT', r, fill(r, 0))), lax.binary(Op.Add, r, fill(r, period)), r);
    let ddmod = lax.binary(Op.Add, r, fill(r, loI));
    ddmod = lax.select(lax.binary(Op.And, lax.compare('EQ', ddmod, fill(ddmod, loI)), lax.compare('GT', dd, fill(dd, 0))), fill(ddmod, hiI), ddmod);
    let corr = lax.binary(Op.Subtract, ddmod, dd);
    corr = lax.select(lax.compare('LT', lax.unary(Op.Abs, dd), fill(dd, discont ?? hiI)), fill(corr, 0), corr);
    const cum = R(cumsum(corr, ax));
    const head = lax.slice(a, a.shape.map(() => 0), a.shape.map((d, i) => (i === ax ? 1 : d)));
    const tail = lax.slice(a, a.shape.map((_, i) => (i === ax ? 1 : 0)), a.shape);
    return lax.concatenate([head, lax.binary(Op.Add, tail, cum)], ax);
  });

/** The integral of `y` along `axis` by the trapezoidal rule, over sample points `x` or spacing `dx`. */
export const trapezoid = defapi('np.trapezoid', [p('y', A.array), p('x', A.orNull(A.array), null), p('dx', A.number, 1), p('axis', A.axis, -1)],
  (y: Operand, x: Operand | null, dx: number, axis: number): KArray => {
    const a0 = asArray(y);
    const a = cast(a0, floatOf(a0.dtype), a0.weak);
    const ax = normAxis(axis, a.ndim);
    const n = a.shape[ax];
    const part = (lo: number, hi: number) => lax.slice(a, a.shape.map((_, i) => (i === ax ? lo : 0)), a.shape.map((d, i) => (i === ax ? hi : d)));
    const sum2 = lax.binary(Op.Add, part(1, n), part(0, Math.max(0, n - 1)));
    const mids = lax.binary(Op.Multiply, sum2, fill(sum2, 0.5));
    let weighted: KArray;
    if (x === null) {
      weighted = lax.binary(Op.Multiply, mids, lax.withWeak(lax.constant(a.dtype, mids.shape, dx), a.weak));
    } else {
      let xs = asArray(x);
      if (xs.ndim === 1) {
        if (xs.shape[0] !== n) throw traceError(`x has ${xs.shape[0]} points but axis ${ax} of y has ${n}`);
        xs = lax.broadcastInDim(xs, a.shape, [ax]);
      }
      const dxs = R(diff(cast(xs, a.dtype), 1, ax));
      weighted = lax.binary(Op.Multiply, mids, broadcastTo(dxs, mids.shape));
    }
    return R(sum(weighted, ax));
  });
