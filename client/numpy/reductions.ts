/**
 * @file Reductions (sum, mean, max, min, prod, var, std, all, any, argmax, argmin), cumulative
 * sums and products, and sorting. Every reduction takes `{axis, keepdims}` as NumPy does (`axis`
 * a number, a list, or null for all axes).
 */
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, cast, floatOf, normAxes, normAxis, type Operand } from './promote.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Axes to reduce: a number, a list, or null/undefined for all. */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes as size-1 dimensions. */
  keepdims?: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function finish(r: KArray, x: KArray, axes: number[], keepdims: boolean | undefined): KArray {
  return keepdims ? lax.reshape(r, keptShape(x.shape, axes)) : r;
}

/** The identity of `op` for `dtype` (the initial value of the reduction). */
function identity(op: Op, dtype: SupportedDType): number {
  switch (op) {
    case Op.Add: case Op.Or: return 0;
    case Op.Multiply: case Op.And: return 1;
    case Op.Maximum: return isFloat(dtype) ? -Infinity : dtype === 'i32' ? -2147483648 : 0;
    case Op.Minimum: return isFloat(dtype) ? Infinity : dtype === 'i32' ? 2147483647 : dtype === 'ui32' ? 4294967295 : 1;
    default: throw new Error(`kiln internal: no identity for ${op}`);
  }
}

/** Reduces `x` over `axes` with a binary op (no dtype changes). */
export function reduceOp(x: KArray, op: Op, axes: number[], keepdims?: boolean): KArray {
  if (axes.length === 0) return x;
  const bodyOp = x.dtype === 'i1' ? (op === Op.Maximum || op === Op.Add ? Op.Or : op === Op.Minimum || op === Op.Multiply ? Op.And : op) : op;
  const [r] = lax.reduce([x], [lax.constant(x.dtype, [], identity(bodyOp, x.dtype))], axes, lax.binaryBody(bodyOp));
  return finish(lax.withWeak(r, x.weak), x, axes, keepdims);
}

/** Sum (bools count as i32, as in NumPy). */
export const sum = defop('np.sum', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = asArray(x);
  const v = a.dtype === 'i1' ? lax.convert(a, 'i32') : a;
  return reduceOp(v, Op.Add, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

export const prod = defop('np.prod', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = asArray(x);
  const v = a.dtype === 'i1' ? lax.convert(a, 'i32') : a;
  return reduceOp(v, Op.Multiply, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

export const max = defop('np.max', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = asArray(x);
  return reduceOp(a, Op.Maximum, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

export const min = defop('np.min', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = asArray(x);
  return reduceOp(a, Op.Minimum, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

export const all = defop('np.all', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = lax.convert(asArray(x), 'i1');
  return reduceOp(a, Op.And, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

export const any = defop('np.any', (x: Operand, opts: ReduceOptions = {}): KArray => {
  const a = lax.convert(asArray(x), 'i1');
  return reduceOp(a, Op.Or, normAxes(opts.axis, a.ndim), opts.keepdims);
}, [0]);

function count(x: KArray, axes: number[]): number {
  return axes.reduce((n, a) => n * x.shape[a], 1);
}

/** Arithmetic mean; ints give f32, f16 is accumulated in f32. */
export function meanImpl(x: KArray, opts: ReduceOptions = {}): KArray {
  const axes = normAxes(opts.axis, x.ndim);
  const out = floatOf(x.dtype);
  const f = cast(x, 'f32', x.weak);
  const s = reduceOp(f, Op.Add, axes, opts.keepdims);
  const m = lax.binary(Op.Divide, s, lax.constant('f32', s.shape, count(x, axes)));
  return cast(m, out, x.weak);
}
export const mean = defop('np.mean', (x: Operand, opts: ReduceOptions = {}) => meanImpl(asArray(x), opts), [0]);

/** Variance with `ddof` delta degrees of freedom (0 by default, as NumPy). */
export function varImpl(x: KArray, opts: ReduceOptions & { ddof?: number } = {}): KArray {
  const axes = normAxes(opts.axis, x.ndim);
  const out = floatOf(x.dtype);
  const f = cast(x, 'f32', x.weak);
  const m = meanImpl(f, { axis: axes, keepdims: true });
  const d = lax.binary(Op.Subtract, f, lax.broadcastInDim(m, f.shape, f.shape.map((_, i) => i)));
  const s = reduceOp(lax.binary(Op.Multiply, d, d), Op.Add, axes, opts.keepdims);
  const n = count(x, axes) - (opts.ddof ?? 0);
  return cast(lax.binary(Op.Divide, s, lax.constant('f32', s.shape, n)), out, x.weak);
}
export const var_ = defop('np.var', (x: Operand, opts: ReduceOptions & { ddof?: number } = {}) => varImpl(asArray(x), opts), [0]);
export const std = defop('np.std', (x: Operand, opts: ReduceOptions & { ddof?: number } = {}) => lax.unary(Op.Sqrt, varImpl(asArray(x), opts)), [0]);

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
      // Keep (v1, i1) when v1 is strictly better, or NaN (NaN wins, as in NumPy), or equal with a
      // smaller index (the first occurrence wins).
      let pick = b.emit1(Op.Compare, [v1, v2], { direction, compareType: ct });
      if (float) pick = b.emit1(Op.Or, [pick, b.emit1(Op.Compare, [v1, v1], { direction: 'NE', compareType: 'FLOAT' })], {});
      const tie = b.emit1(Op.And, [
        b.emit1(Op.Compare, [v1, v2], { direction: 'EQ', compareType: ct }),
        b.emit1(Op.Compare, [i1, i2], { direction: 'LT', compareType: 'SIGNED' }),
      ], {});
      const pickIdx = b.emit1(Op.Or, [pick, tie], {});
      return [b.emit1(Op.Select, [pick, v1, v2], {}), b.emit1(Op.Select, [pickIdx, i1, i2], {})];
    },
  );
  if (!opts.keepdims) return r;
  const axes = opts.axis === null || opts.axis === undefined ? x.shape.map((_, i) => i) : [axis];
  return lax.reshape(r, keptShape(x.shape, axes));
}

/** Index of the largest element (the first one on ties; NaN counts as largest), as i32. */
export const argmax = defop('np.argmax', (x: Operand, opts: ArgOptions = {}) => argReduce(asArray(x), opts, 'GT'), [0]);
/** Index of the smallest element (the first one on ties; NaN counts as smallest), as i32. */
export const argmin = defop('np.argmin', (x: Operand, opts: ArgOptions = {}) => argReduce(asArray(x), opts, 'LT'), [0]);

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
export const cumsum = defop('np.cumsum', (x: Operand, axis: number | null = null) => cumulative(asArray(x), axis, Op.Add), [0]);
/** Cumulative product along `axis` (the flattened array when null). */
export const cumprod = defop('np.cumprod', (x: Operand, axis: number | null = null) => cumulative(asArray(x), axis, Op.Multiply), [0]);

/** Sorted copy along `axis` (default last; null sorts the flattened array). NaNs go last. */
export const sort = defop('np.sort', (x: Operand, axis: number | null = -1): KArray => {
  let a = asArray(x);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  return lax.sort([a], ax)[0];
}, [0]);

/** Indices that sort `x` along `axis` (stable), as i32. */
export const argsort = defop('np.argsort', (x: Operand, axis: number | null = -1): KArray => {
  let a = asArray(x);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  return lax.sort([a, lax.iota('i32', a.shape, ax)], ax, true)[1];
}, [0]);
