/**
 * @file Products beyond linalg.ts: `tensordot`, `vdot`, `vecdot`, `matvec`, `vecmat` and `cross`.
 * Each contraction is one `dot_general` after promotion (bools multiply as i32 and come back as
 * bool, as in matmul).
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { broadcastShapes, broadcastTo, cast, normAxis, resultType, type Operand } from './promote.js';

function pair(x: Operand, y: Operand): [KArray, KArray, boolean] {
  const { dtype, weak } = resultType(x, y);
  const d = dtype === 'i1' ? 'i32' : dtype;
  return [cast(x, d, weak), cast(y, d, weak), dtype === 'i1'];
}
const back = (r: KArray, wasBool: boolean) => (wasBool ? lax.convert(r, 'i1') : r);

function checkSizes(a: KArray, b: KArray, ca: number[], cb: number[]): void {
  ca.forEach((d, i) => {
    if (a.shape[d] !== b.shape[cb[i]]) {
      throw traceError(`shape mismatch: axis ${d} of [${a.shape.join(', ')}] has size ${a.shape[d]}, axis ${cb[i]} of [${b.shape.join(', ')}] has ${b.shape[cb[i]]}`);
    }
  });
}

/**
 * Sums products over the last `axes` axes of `a` and the first of `b` (an integer), or over the
 * axes listed (`[axesA, axesB]`).
 */
export const tensordot = defapi('np.tensordot', [p('a', A.array), p('b', A.array), p('axes', A.any, 2)], (x: Operand, y: Operand, axes: unknown): KArray => {
  const [a, b, wasBool] = pair(x, y);
  let ca: number[], cb: number[];
  if (typeof axes === 'number' && Number.isInteger(axes) && axes >= 0) {
    if (axes > a.ndim || axes > b.ndim) throw traceError(`axes=${axes} is more than the ranks ${a.ndim} and ${b.ndim}`);
    ca = Array.from({ length: axes }, (_, i) => a.ndim - axes + i);
    cb = Array.from({ length: axes }, (_, i) => i);
  } else if (Array.isArray(axes) && axes.length === 2) {
    const list = (v: unknown) => (typeof v === 'number' ? [v] : Array.isArray(v) && v.every(Number.isInteger) ? v as number[] : null);
    const la = list(axes[0]), lb = list(axes[1]);
    if (!la || !lb || la.length !== lb.length) throw traceError(`axes must be an integer or two lists of equal length, got ${JSON.stringify(axes)}`);
    ca = la.map((d) => normAxis(d, a.ndim));
    cb = lb.map((d) => normAxis(d, b.ndim));
  } else {
    throw traceError(`axes must be a non-negative integer or a pair of axis lists, got ${JSON.stringify(axes)}`);
  }
  checkSizes(a, b, ca, cb);
  return back(lax.dotGeneral(a, b, { lhsBatch: [], rhsBatch: [], lhsContract: ca, rhsContract: cb }), wasBool);
});

/** The dot product of the flattened arrays. */
export const vdot = defapi('np.vdot', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = pair(x, y);
  if (a.size !== b.size) throw traceError(`vdot needs arrays of the same size, got ${a.size} and ${b.size}`);
  // JAX's vdot conjugates its first argument.
  const fa = lax.reshape(a.dtype === 'c64' ? lax.conj(a) : a, [a.size]), fb = lax.reshape(b, [b.size]);
  return back(lax.dotGeneral(fa, fb, { lhsBatch: [], rhsBatch: [], lhsContract: [0], rhsContract: [0] }), wasBool);
});

/** Batched vector products: `a[..., :, i]`, `b[..., :, j]` broadcast over the leading axes. */
function batchedContract(a: KArray, b: KArray, ka: number, kb: number, keepA: boolean, keepB: boolean, wasBool: boolean): KArray {
  // Move the contracted axis last (a) / last (b), broadcast the batch axes, contract.
  const ra = keepA ? 2 : 1, rb = keepB ? 2 : 1;
  if (a.ndim < ra || b.ndim < rb) throw traceError(`operands of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] have too few axes`);
  const batch = broadcastShapes(a.shape.slice(0, a.ndim - ra), b.shape.slice(0, b.ndim - rb));
  const A2 = broadcastTo(a, [...batch, ...a.shape.slice(a.ndim - ra)]);
  const B2 = broadcastTo(b, [...batch, ...b.shape.slice(b.ndim - rb)]);
  const nb = batch.length;
  const bd = batch.map((_, i) => i);
  const ca = nb + ka, cb = nb + kb;
  checkSizes(A2, B2, [ca], [cb]);
  return back(lax.dotGeneral(A2, B2, { lhsBatch: bd, rhsBatch: bd, lhsContract: [ca], rhsContract: [cb] }), wasBool);
}

/** `sum(x1 * x2, axis)` with broadcasting (the array API's vecdot). */
export const vecdot = defapi('np.vecdot', [p('x1', A.array), p('x2', A.array), p('axis', A.axis, -1, true)], (x: Operand, y: Operand, axis: number): KArray => {
  const [a, b, wasBool] = pair(x, y);
  const shape = broadcastShapes(a.shape, b.shape);
  const ax = normAxis(axis, shape.length);
  const move = (t: KArray) => {
    const full = broadcastTo(t, shape);
    return lax.transpose(full, [...shape.map((_, i) => i).filter((i) => i !== ax), ax]);
  };
  return batchedContract(move(a), move(b), 0, 0, false, false, wasBool);
});

/** Matrix-vector product `x1[..., m, n] @ x2[..., n]` with broadcast batch axes. */
export const matvec = defapi('np.matvec', [p('x1', A.array), p('x2', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = pair(x, y);
  return batchedContract(a, b, 1, 0, true, false, wasBool);
});

/** Vector-matrix product `x1[..., m] @ x2[..., m, n]` with broadcast batch axes. */
export const vecmat = defapi('np.vecmat', [p('x1', A.array), p('x2', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = pair(x, y);
  return batchedContract(a, b, 0, 0, false, true, wasBool);
});

/**
 * The cross product of 3-vectors (or 2-vectors, giving the z component) along the last axis
 * (`axis` moves all three to another axis, as NumPy).
 */
export const cross = defapi('np.cross', [p('a', A.array), p('b', A.array), p('axisa', A.axis, -1), p('axisb', A.axis, -1), p('axisc', A.axis, -1), p('axis', A.orNull(A.axis), null)],
  (x: Operand, y: Operand, axisa: number, axisb: number, axisc: number, axis: number | null): KArray => {
    let [a, b] = pair(x, y);
    if (axis !== null) axisa = axisb = axisc = axis;
    const last = (t: KArray, ax: number) => {
      const k = normAxis(ax, t.ndim);
      return lax.transpose(t, [...t.shape.map((_, i) => i).filter((i) => i !== k), k]);
    };
    a = last(a, axisa); b = last(b, axisb);
    const na = a.shape[a.ndim - 1], nb = b.shape[b.ndim - 1];
    if (![2, 3].includes(na) || ![2, 3].includes(nb)) throw traceError(`incompatible dimensions for cross product (dimension must be 2 or 3), got ${na} and ${nb}`);
    const shape = broadcastShapes(a.shape.slice(0, -1), b.shape.slice(0, -1));
    const comp = (t: KArray, i: number): KArray => {
      const n = t.shape[t.ndim - 1];
      if (i >= n) return lax.constant(t.dtype, shape, 0);
      const s = lax.slice(t, t.shape.map((_, d) => (d === t.ndim - 1 ? i : 0)), t.shape.map((d, k) => (k === t.ndim - 1 ? i + 1 : d)));
      return broadcastTo(lax.reshape(s, t.shape.slice(0, -1)), shape);
    };
    const [a0, a1, a2] = [0, 1, 2].map((i) => comp(a, i));
    const [b0, b1, b2] = [0, 1, 2].map((i) => comp(b, i));
    const m = (u: KArray, v: KArray) => lax.binary(Op.Multiply, u, v);
    const s = (u: KArray, v: KArray) => lax.binary(Op.Subtract, u, v);
    const z = s(m(a0, b1), m(a1, b0));
    if (na === 2 && nb === 2) return z;
    const parts = [s(m(a1, b2), m(a2, b1)), s(m(a2, b0), m(a0, b2)), z].map((c) => lax.reshape(c, [...shape, 1]));
    const r = lax.concatenate(parts, shape.length);
    const kc = normAxis(axisc, r.ndim);
    const perm = r.shape.map((_, i) => i).slice(0, -1);
    perm.splice(kc, 0, r.ndim - 1);
    return lax.transpose(r, perm);
  });
