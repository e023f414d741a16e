/**
 * @file `lax.associativeScan` (JAX's parallel prefix, jax/_src/lax/control_flow/loops.py
 * `associative_scan`): log2(n) levels of strided slices, combines of whole arrays and
 * interleaves, so `fn` is called on every element at once rather than in a loop; and
 * `lax.stopGradient`.
 */
import { isFloat } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { defop } from '../jit.js';
import * as prim from '../lax.js';
import { normAxis } from '../numpy/promote.js';
import { flatten, treeMap, unflatten } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { callUser, runOp, sameDef, showAval, showDef } from './region.js';

/** Options of {@link associativeScan}. */
export interface AssociativeScanOptions {
  /** Scan from the end (`out[i] = fn(elems[i], ..., elems[n-1])` folded right to left). */
  reverse?: boolean;
  /** The axis to scan along (default 0). */
  axis?: number;
}

/**
 * `lax.associativeScan(fn, elems, {reverse, axis})`: the inclusive prefix combination of `elems`
 * along `axis` by the associative `fn`, which takes two pytrees like `elems` (slices of it, of equal
 * shape) and combines them elementwise. `elems` is a pytree of Arrays of equal length along `axis`.
 * `fn` is applied in a tree order, so a non-associative `fn` gives a different (undefined) answer.
 */
export function associativeScan<T>(fn: (a: T, b: T) => T, elems: T, opts: AssociativeScanOptions = {}): T {
  return runOp('lax.associativeScan', elems, (el: T) => {
    const { def, leaves } = flatten(el, true);
    if (!leaves.length) throw traceError('elems must contain at least one Array');
    const xs = leaves.map((l) => {
      if (typeof l === 'number') throw traceError(`elems must be Arrays with an axis to scan along, got the number ${l}`);
      return l;
    });
    const rank = xs[0].shape.length;
    if (rank === 0) throw traceError(`elems must have an axis to scan along, got ${showAval(xs[0])}`);
    const axis = normAxis(opts.axis ?? 0, rank);
    const n = xs[0].shape[axis];
    for (const x of xs) {
      if (x.shape.length !== rank || x.shape[axis] !== n) {
        throw traceError(`elems must all have length ${n} along axis ${axis}, got ${xs.map(showAval).join(', ')}`);
      }
    }
    const combine = (a: KArray[], b: KArray[]): KArray[] => {
      const out = flatten(callUser(fn, unflatten(def, a), unflatten(def, b)), true);
      if (!sameDef(out.def, def)) throw traceError(`fn must return the structure of elems, ${showDef(def)}, got ${showDef(out.def)}`);
      return out.leaves.map((l, i) => {
        if (typeof l === 'number' || l.shape.some((d, j) => d !== a[i].shape[j])) {
          throw traceError(`fn must return arrays of the shape of its arguments, ${showAval(a[i])}, got ${typeof l === 'number' ? l : showAval(l)}`);
        }
        return l;
      });
    };
    const flip = (ys: KArray[]) => (opts.reverse ? ys.map((y) => prim.reverse(y, [axis])) : ys);
    return unflatten<T>(def, flip(prefix(flip(xs), axis, combine)));
  });
}

/** `slice_in_dim(x, start, limit, stride, axis)`; a negative `limit` counts from the end. */
function sliceIn(x: KArray, axis: number, start: number, limit: number, stride = 1): KArray {
  const n = x.shape[axis];
  const lim = limit < 0 ? n + limit : limit;
  return prim.slice(
    x, x.shape.map((_, i) => (i === axis ? start : 0)), x.shape.map((d, i) => (i === axis ? lim : d)), x.shape.map((_, i) => (i === axis ? stride : 1)),
  );
}

/** JAX's `_interleave`: a[0], b[0], a[1], b[1], ... (a has as many elements as b, or one more). */
function interleave(a: KArray, b: KArray, axis: number): KArray {
  const even = a.shape[axis] === b.shape[axis];
  const zero = (x: KArray) => prim.constant(x.dtype, [], 0);
  const pa = prim.pad(a, zero(a), a.shape.map(() => 0), a.shape.map((_, i) => (i === axis && even ? 1 : 0)), a.shape.map((_, i) => (i === axis ? 1 : 0)));
  const pb = prim.pad(b, zero(b), b.shape.map((_, i) => (i === axis ? 1 : 0)), b.shape.map((_, i) => (i === axis && !even ? 1 : 0)), b.shape.map((_, i) => (i === axis ? 1 : 0)));
  // Each position holds one real value and one zero of padding.
  return prim.binary(a.dtype === 'i1' ? Op.Or : Op.Add, pa, pb);
}

function prefix(elems: KArray[], axis: number, combine: (a: KArray[], b: KArray[]) => KArray[]): KArray[] {
  const n = elems[0].shape[axis];
  if (n < 2) return elems;
  const reduced = combine(elems.map((e) => sliceIn(e, axis, 0, -1, 2)), elems.map((e) => sliceIn(e, axis, 1, n, 2)));
  const odd = prefix(reduced, axis, combine);
  const evenTail = n % 2 === 0
    ? combine(odd.map((e) => sliceIn(e, axis, 0, -1)), elems.map((e) => sliceIn(e, axis, 2, n, 2)))
    : combine(odd, elems.map((e) => sliceIn(e, axis, 2, n, 2)));
  const even = elems.map((e, i) => prim.concatenate([sliceIn(e, axis, 0, 1), evenTail[i]], axis));
  return even.map((e, i) => interleave(e, odd[i], axis));
}

const stopLeaf = defop('lax.stopGradient', (x: KArray): KArray => {
  if (!isFloat(x.dtype)) return x;
  // StableHLO has no stop_gradient op (JAX's vanishes when lowered) and kiln differentiates the IR,
  // so the value goes through an i32 bitcast and back: the same bits, and reverse mode treats
  // bitcast_convert as non-differentiable. f16 is widened first (exactly) since there is no i16.
  const wide = x.dtype === 'f32' ? x : prim.convert(x, 'f32', x.weak);
  const back = prim.withWeak(prim.bitcast(prim.bitcast(wide, 'i32'), 'f32'), x.weak);
  return wide === x ? back : prim.convert(back, x.dtype, x.weak);
}, [0]);

/**
 * `lax.stopGradient(x)`: `x` itself (a pytree), but a constant to differentiation: `grad` sends
 * no cotangent through it.
 */
export function stopGradient<T>(x: T): T {
  return apiCall('lax.stopGradient', () => treeMap(x, (l) => stopLeaf(l as KArray)));
}

