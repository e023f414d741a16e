/**
 * @file The reduction machinery the public reductions, nn and linalg share (internal: not part of
 * the public `np` namespace): reducing over axes with a binary op and its identity, the mean and
 * variance on Arrays, and keepdims shapes.
 */
import { isComplex, isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';
import { cast, floatOf, normAxes } from './promote.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Axes to reduce: a number, a list, or null/undefined for all. */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes as size-1 dimensions. */
  keepdims?: boolean;
}

/** `shape` with the reduced `axes` kept as size 1. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function finish(r: KArray, x: KArray, axes: number[], keepdims: boolean | undefined): KArray {
  return keepdims ? lax.reshape(r, keptShape(x.shape, axes)) : r;
}

/** The identity of `op` for `dtype` (the initial value of the reduction). */
export function identity(op: Op, dtype: SupportedDType): number {
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

function count(x: KArray, axes: number[]): number {
  return axes.reduce((n, a) => n * x.shape[a], 1);
}

/** Arithmetic mean; ints give f32, f16 is accumulated in f32. */
export function meanImpl(x: KArray, opts: ReduceOptions = {}): KArray {
  const axes = normAxes(opts.axis, x.ndim);
  const out = floatOf(x.dtype);
  // f32 accumulation (f16 and integers are summed in f32); complex64 keeps both parts.
  const acc = isComplex(x.dtype) ? 'c64' : 'f32';
  const f = cast(x, acc, x.weak);
  const s = reduceOp(f, Op.Add, axes, opts.keepdims);
  const m = lax.binary(Op.Divide, s, lax.constant(acc, s.shape, count(x, axes)));
  return cast(m, out, x.weak);
}
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
