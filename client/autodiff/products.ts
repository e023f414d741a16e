/**
 * @file Reverse mode through products: the VJPs of a multiplying `reduce` (`np.prod`) and of a
 * cumulative multiplying `reduce_window` (`np.cumprod`, as kiln lowers it).
 *
 * `g * prod / x` is wrong where the input has zeros (and loses precision near them), so, like JAX
 * (whose rules differentiate a tree of multiplications), both recompute the product as a balanced
 * tree of elementwise multiplies (log2 n levels) and send the cotangent back through it with the
 * product rule: exact with any number of zeros, O(n) work for `prod`, O(n log n) for `cumprod`
 * (a Hillis-Steele scan).
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { numElements, type Operation, type Value } from '../../ir/types.js';
import { Emitter, invertPermutation, range } from './emit.js';

/** `x` padded along `dim` with `low` then `high` copies of `fill` (a rank-0 value; either may be negative, cropping). */
function padAlong(e: Emitter, x: Value, dim: number, low: number, high: number, fill: number): Value {
  const rank = x.type.shape.length;
  const lo = range(rank).map((d) => (d === dim ? low : 0));
  const hi = range(rank).map((d) => (d === dim ? high : 0));
  if (fill === 0) return e.padZeros(x, lo, hi, lo.map(() => 0));
  let y = e.b.emit1(Op.Pad, [x, e.scalar(x.type.dtype, fill)], { low: lo.map((v) => Math.max(v, 0)), high: hi.map((v) => Math.max(v, 0)), interior: lo.map(() => 0) });
  if (low < 0 || high < 0) {
    const s = y.type.shape;
    y = e.slice(y, s.map((_, d) => (d === dim ? Math.max(-low, 0) : 0)), s.map((n, d) => (d === dim ? n - Math.max(-high, 0) : n)));
  }
  return y;
}

/** Elements `[from, to)` of `x` along its last dimension. */
function lastSlice(e: Emitter, x: Value, from: number, to: number): Value {
  const s = x.type.shape;
  const r = s.length - 1;
  return e.slice(x, s.map((_, d) => (d === r ? from : 0)), s.map((n, d) => (d === r ? to : n)));
}

/**
 * The cotangent of `x` in `prod(x)` over its last dimension, given the cotangent `g` of the
 * product (shape `x` without its last dimension).
 */
function productTreeVjp(e: Emitter, x: Value, g: Value): Value {
  const levels: { left: Value; right: Value; odd: boolean }[] = [];
  let cur = x;
  const last = x.type.shape.length - 1;
  while (cur.type.shape[last] > 1) {
    const n = cur.type.shape[last];
    const odd = n % 2 === 1;
    const even = odd ? padAlong(e, cur, last, 0, 1, 1) : cur;
    const half = (n + (odd ? 1 : 0)) / 2;
    const left = lastSlice(e, even, 0, half);
    const right = lastSlice(e, even, half, 2 * half);
    levels.push({ left, right, odd });
    cur = e.mul(left, right);
  }
  let gc = e.reshape(g, [...g.type.shape, 1]);
  for (let i = levels.length - 1; i >= 0; i--) {
    const { left, right, odd } = levels[i];
    const both = e.b.emit1(Op.Concatenate, [e.mul(gc, right), e.mul(gc, left)], { dim: last });
    gc = odd ? lastSlice(e, both, 0, both.type.shape[last] - 1) : both;
  }
  return gc;
}

/** VJP of a one-operand multiplying `reduce` w.r.t. its operand: `g` times the product of the other elements. */
export function reduceProductVjp(e: Emitter, o: Operation<Op.Reduce>, g: Value): Value {
  const [x, init] = o.operands;
  const { dims } = o.attrs;
  const shape = x.type.shape;
  const kept = range(shape.length).filter((d) => !dims.includes(d));
  const perm = [...kept, ...dims];
  const keptShape = kept.map((d) => shape[d]);
  const flat = e.reshape(e.transpose(x, perm), [...keptShape, numElements(dims.map((d) => shape[d]))]);
  // The result is init * prod(x): the init value scales every element's cotangent.
  const scaled = e.mul(g, e.splat(init, g.type.shape));
  const gx = productTreeVjp(e, flat, scaled);
  return e.transpose(e.reshape(gx, perm.map((d) => shape[d])), invertPermutation(perm));
}

/**
 * The cumulative form `np.cumprod` lowers to: one dimension whose window spans it with the
 * padding all before (`reverse` false) or all after, every other window 1, unit strides and
 * dilations. Returns that dimension, or undefined for any other window.
 */
function cumulativeDim(o: Operation<Op.ReduceWindow>): { dim: number; reverse: boolean } | undefined {
  const a = o.attrs;
  const shape = o.operands[0].type.shape;
  const dims = range(shape.length).filter((d) => a.windowDimensions[d] !== 1 || a.padding[d][0] !== 0 || a.padding[d][1] !== 0);
  if (dims.length !== 1) return undefined;
  const [d] = dims;
  const n = shape[d];
  const unit = (v: number[]) => v.every((x) => x === 1);
  if (!unit(a.windowStrides) || !unit(a.baseDilations) || !unit(a.windowDilations) || a.windowDimensions[d] !== n) return undefined;
  const [lo, hi] = a.padding[d];
  if (lo === n - 1 && hi === 0) return { dim: d, reverse: false };
  if (lo === 0 && hi === n - 1) return { dim: d, reverse: true };
  return undefined;
}

/**
 * VJP of a cumulative multiplying `reduce_window` w.r.t. its operand. Output `k` is
 * `init^(pads in its window) * prod(x[..k])`; the init factor is found by running the same
 * window over ones, and the product is recomputed as a Hillis-Steele scan whose levels the
 * cotangent is sent back through.
 */
export function cumulativeProductVjp(e: Emitter, o: Operation<Op.ReduceWindow>, g: Value): Value {
  const c = cumulativeDim(o);
  if (!c) throw new UnsupportedOpError(`${o.op}: the gradient of a windowed product is only implemented for cumulative products (np.cumprod)`, o.loc);
  const [x0, init] = o.operands;
  const factor = e.b.emit1(Op.ReduceWindow, [e.full(x0.type, 1), init], o.attrs, { regions: [e.combiner(Op.Multiply, x0.type.dtype)] });
  const { dim, reverse } = c;
  const flip = (v: Value) => (reverse ? e.reverse(v, [dim]) : v);
  const x = flip(x0);
  let gy = flip(e.mul(g, factor));
  const n = x.type.shape[dim];
  const levels: { prev: Value; shifted: Value; s: number }[] = [];
  let y = x;
  for (let s = 1; s < n; s *= 2) {
    const shifted = padAlong(e, y, dim, s, -s, 1);
    levels.push({ prev: y, shifted, s });
    y = e.mul(y, shifted);
  }
  for (let i = levels.length - 1; i >= 0; i--) {
    const { prev, shifted, s } = levels[i];
    // y = prev * shift(prev, s): the shifted factor's cotangent flows back s places earlier.
    gy = e.add(e.mul(gy, shifted), padAlong(e, e.mul(gy, prev), dim, -s, s, 0));
  }
  return flip(gy);
}
