/**
 * @file `np.linalg.pinv`, `lstsq` and `matrixRank`, written as jax/_src/numpy/linalg.py writes
 * them over the SVD (client/linalg/decompositions.ts): the same cutoffs (relative to the largest
 * singular value, float32's eps = 2⁻²³), the same result tuple and dtypes, so they lower to the
 * gesdd call JAX's CPU lowering prints. pinv has JAX's custom JVP (Golub and Pereyra's formula),
 * so its gradient does not go through the SVD's.
 */
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { customJvp } from '../autodiff/custom.js';
import * as lax from '../lax.js';
import { Op } from '../../ir/ops.js';
import type { Operand } from '../numpy/promote.js';
import { max, sum } from '../numpy/reductions.js';
import { traceError } from '../site.js';
import { eighOf, svdOf } from './decompositions.js';
import { bmm, eye, matrixArg, mT } from './lapack.js';

/** float32's machine epsilon (jnp.finfo(jnp.float32).eps). */
export const EPS32 = 2 ** -23;

const full = (x: KArray, v: number) => lax.constant(x.dtype, x.shape, v);
const mul = (x: KArray, y: KArray) => lax.binary(Op.Multiply, x, y);
/** `x[..., :, None]` / `x[..., None, :]` broadcast to `shape`. */
const down = (x: KArray, shape: readonly number[]) => lax.broadcastInDim(x, shape, Array.from({ length: x.ndim }, (_, i) => i));
const along = (x: KArray, shape: readonly number[]) => lax.broadcastInDim(x, shape, [...Array.from({ length: x.ndim - 1 }, (_, i) => i), x.ndim]);
/** `x[..., 0:1]` broadcast back over the last axis: the largest singular value of each matrix. */
function first(x: KArray): KArray {
  const r = x.ndim;
  const s = lax.slice(x, x.shape.map(() => 0), [...x.shape.slice(0, -1), 1], x.shape.map(() => 1));
  return lax.broadcastInDim(lax.reshape(s, x.shape.slice(0, -1)), x.shape, Array.from({ length: r - 1 }, (_, i) => i));
}

/** JAX's `_pinv` body: Vᵀ-side times Uᵀ scaled by 1/s, with s ≤ rtol·s_max treated as infinite. */
function pinvOf(a: KArray, rtol: number | null, hermitian: boolean): KArray {
  const [m, n] = a.shape.slice(-2);
  const tol = rtol ?? 10 * Math.max(m, n) * EPS32;
  if (hermitian) {
    // JAX's svd(hermitian=True): s = |w|, U = V, Vh = (sign(w)·V)ᵀ, sorted by s; the product is
    // V diag(1/w) Vᵀ over the kept eigenvalues, whatever the order.
    if (m !== n) throw traceError(`np.linalg.pinv: hermitian=true needs square matrices, got ${a.describe()}`);
    const [v, w] = eighOf(a, true, false);
    const s = lax.unary(Op.Abs, w);
    const smax = lax.broadcastInDim(max(s, -1), s.shape, Array.from({ length: s.ndim - 1 }, (_, i) => i));
    const keep = lax.compare('GT', s, mul(full(s, tol), smax));
    const winv = lax.select(keep, lax.binary(Op.Divide, full(w, 1), w), full(w, 0));
    return bmm(mul(v, along(winv, v.shape)), mT(v));
  }
  const [u, s, vh] = svdOf(a, false, true);
  const keep = lax.compare('GT', s, mul(full(s, tol), first(s)));
  const sInf = lax.select(keep, s, full(s, Infinity));
  const ut = mT(u);
  return bmm(mT(vh), lax.binary(Op.Divide, ut, down(sInf, ut.shape)));
}

/**
 * JAX's `_pinv_jvp` (Golub and Pereyra 1973): ṗ = -p ȧ p + p pᵀ ȧᵀ (I - a p) + (I - p a) ȧᵀ pᵀ p.
 * One customJvp per (rtol, hermitian), as JAX's nondiff_argnums.
 */
const pinvWithJvp = new Map<string, (a: KArray) => KArray>();
function pinvFn(rtol: number | null, hermitian: boolean): (a: KArray) => KArray {
  const key = `${rtol}/${hermitian}`;
  let f = pinvWithJvp.get(key);
  if (!f) {
    const g = customJvp(function pinv(a: KArray) { return pinvOf(a, rtol, hermitian); });
    g.defjvp(([a], [da]) => {
      const pa = g(a);
      const [m, n] = a.shape.slice(-2);
      const batch = a.shape.slice(0, -2);
      const sub = (x: KArray, y: KArray) => lax.binary(Op.Subtract, x, y);
      const add = (x: KArray, y: KArray) => lax.binary(Op.Add, x, y);
      const dat = mT(da);
      const pt = mT(pa);
      let dp = lax.unary(Op.Negate, bmm(bmm(pa, da), pa));
      dp = add(dp, bmm(bmm(bmm(pa, pt), dat), sub(eye(a.dtype, batch, m), bmm(a, pa))));
      dp = add(dp, bmm(bmm(bmm(sub(eye(a.dtype, batch, n), bmm(pa, a)), dat), pt), pa));
      return [pa, dp];
    });
    f = g as (a: KArray) => KArray;
    pinvWithJvp.set(key, f);
  }
  return f;
}

/** `np.linalg.pinv(a, rtol=None, hermitian=False)`: the Moore-Penrose pseudo-inverse, n×m. */
export const pinv = defapi('np.linalg.pinv', [p('a', A.array), p('rtol', A.orNull(A.number), null), p('hermitian', A.bool, false)],
  (x: Operand, rtol: number | null, hermitian: boolean): KArray => {
    const a = matrixArg('np.linalg.pinv', x);
    const [m, n] = a.shape.slice(-2);
    if (m === 0 || n === 0) throw traceError(`np.linalg.pinv of an empty ${m}x${n} matrix is not supported`);
    return pinvFn(rtol, hermitian)(a);
  }) as (a: Operand, rtol?: number | null, hermitian?: boolean) => KArray;

/**
 * `np.linalg.lstsq(a, b, rcond=None)`: [x, residuals, rank, s] as JAX returns them (`numpy_resid`
 * false: the residuals ‖b - a x‖² of every column, always computed; rank an int32 scalar). A 2-D
 * `a` only, as JAX; singular values below rcond·s_max are dropped (rcond defaults to eps·max(m, n),
 * a negative one means eps).
 */
export const lstsq = defapi('np.linalg.lstsq', [p('a', A.array), p('b', A.array), p('rcond', A.orNull(A.number), null),
  p('numpyResid', A.fixed(false, "NumPy's residuals have a shape that depends on the rank's value, which kiln reads only asynchronously (`await rank.item()`); take the residuals returned (always computed, as JAX's default) and drop them where rank < n or m <= n"), false, true)],
  (x: Operand, y: Operand, rcondArg: number | null): KArray[] => {
    const fn = 'np.linalg.lstsq';
    const a = matrixArg(fn, x);
    let b = matrixArg(fn, y, 'b', 1);
    if (b.dtype !== a.dtype) b = lax.convert(b, a.dtype);
    if (a.ndim !== 2) throw traceError(`${fn}: a must be two-dimensional (JAX does not batch lstsq), got ${a.describe()}`);
    const [m, n] = a.shape;
    if (b.shape[0] !== m) throw traceError(`${fn}: leading dimensions of a ${a.describe()} and b ${b.describe()} must match`);
    const vector = b.ndim === 1;
    if (vector) b = lax.reshape(b, [m, 1]);
    if (b.ndim !== 2) throw traceError(`${fn}: b must be one- or two-dimensional, got ${b.describe()}`);
    if (m === 0 || n === 0) throw traceError(`${fn} of an empty ${m}x${n} matrix is not supported`);
    const rcond = rcondArg === null ? EPS32 * Math.max(m, n) : rcondArg < 0 ? EPS32 : rcondArg;
    const [u, s, vt] = svdOf(a, false, true);
    const mask = lax.compare('GE', s, mul(full(s, rcond), first(s)));
    const rank = sum(lax.convert(mask, 'i32'), 0);
    const safe = lax.select(mask, s, full(s, 1));
    const sInv = lax.select(mask, lax.binary(Op.Divide, full(s, 1), safe), full(s, 0));
    const utb = bmm(mT(u), b);
    let sol = bmm(mT(vt), mul(down(sInv, utb.shape), utb));
    const r = lax.binary(Op.Subtract, b, bmm(a, sol));
    const resid = sum(mul(r, r), 0);
    if (vector) sol = lax.reshape(sol, [n]);
    return [sol, resid, rank, s];
  }) as (a: Operand, b: Operand, rcond?: number | null, opts?: { numpyResid?: false }) => [KArray, KArray, KArray, KArray];

/**
 * `np.linalg.matrixRank(M, rtol=None)`: the number of singular values above the threshold, int32.
 * As JAX: without rtol the threshold is s_max·max(m, n)·eps; a given rtol is compared with the
 * singular values as it is (JAX uses it as an absolute tolerance). Below two dimensions: whether
 * any entry is nonzero.
 */
export const matrixRank = defapi('np.linalg.matrixRank', [p('M', A.array), p('rtol', A.orNull(A.number), null)],
  (x: Operand, rtol: number | null): KArray => {
    const fn = 'np.linalg.matrixRank';
    const a = matrixArg(fn, x, 'M', 0);
    if (a.ndim < 2) {
      const nz = lax.convert(lax.compare('NE', a, full(a, 0)), 'i32');
      return max(nz);
    }
    const s = svdOf(a, false, false)[0];
    const last = s.ndim - 1;
    const tol = rtol === null
      ? mul(first(s), full(s, Math.max(...a.shape.slice(-2)) * EPS32))
      : full(s, rtol);
    return sum(lax.convert(lax.compare('GT', s, tol), 'i32'), last);
  }) as (M: Operand, rtol?: number | null) => KArray;
