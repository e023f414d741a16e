/**
 * @file The `linalg` namespaces: `np.linalg` (jax.numpy.linalg) and `lax.linalg`
 * (jax.lax.linalg), written as JAX writes them so that they lower to what JAX lowers them to:
 * Cholesky through `lapack_spotrf_ffi`, LU through `lapack_sgetrf_ffi`, solves through
 * `lapack_strsm_ffi` (client/linalg/lapack.ts), with JAX's NaN results where LAPACK reports a
 * failure. Batched over leading dimensions; `vmap`, `grad` and `jvp` act on the emitted ops.
 * QR, eigh, SVD and what needs them (lstsq, pinv, matrixRank, 2-norm and nuclear norms) live in
 * their own files of this folder and are added to these namespaces there.
 *
 * Where JS differs from JAX: options come in a trailing object (`norm(x, { ord: 1, axis: 1 })`),
 * and `ord` names the matrix norms as strings (`'fro'`, `'nuc'`) and the infinite ones as
 * `Infinity` / `-Infinity`, as numpy.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Check } from '../args.js';
import * as lax from '../lax.js';
import { abs, multiply, power, sqrt } from '../numpy/elementwise.js';
import { svdOf } from './decompositions.js';
import { takeAlongAxis } from '../numpy/indexing.js';
import { matmul } from '../numpy/linalg.js';
import { max, min, prod, sum } from '../numpy/reductions.js';
import { broadcastTo, squeeze } from '../numpy/shape.js';
import { diagonal as npDiagonal } from '../numpy/stacking.js';
import { asArray, broadcastShapes, cast, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { bmm, eye, getrf, matrixArg, mT, nanUnless, pivotsToPermutation, potrf, triangle, trsm } from './lapack.js';

// The numpy functions these are written in (from their files: numpy/index.ts exports this namespace).
const np = { abs, multiply, power, sqrt, takeAlongAxis, matmul, max, min, prod, sum, broadcastTo, squeeze, diagonal: npDiagonal };

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

export function square(fn: string, a: KArray): number {
  const [m, n] = a.shape.slice(-2);
  if (m !== n) throw traceError(`${fn}: a must be a (batch of) square matrices, got ${a.describe()}`);
  return n;
}

/** The factor of `a` (lower), NaN where LAPACK reports a matrix that is not positive definite. */
export function choleskyOf(a: KArray, symmetrize: boolean): KArray {
  // JAX symmetrizes first, (a + a^H) / 2, so the gradient sees a symmetric input.
  const s = symmetrize ? lax.binary(Op.Divide, lax.binary(Op.Add, a, mT(a)), lax.constant(a.dtype, a.shape, 2)) : a;
  const [f, info] = potrf(s, true);
  const ok = lax.compare('EQ', info, lax.constant('i32', info.shape, 0));
  return triangle(nanUnless(ok, f), true);
}

/** [packed L\U, 0-based pivots, permutation], NaN where getrf fails (as JAX's `lu`). */
export function luOf(a: KArray): [KArray, KArray, KArray] {
  const [f, piv, info] = getrf(a);
  const pivots = lax.binary(Op.Subtract, piv, lax.constant('i32', piv.shape, 1));
  // getrf's info is never negative for a valid call: JAX's test keeps every factorization.
  const ok = lax.compare('GE', info, lax.constant('i32', info.shape, 0));
  return [nanUnless(ok, f), pivots, pivotsToPermutation(pivots, a.shape[a.ndim - 2])];
}

/** Solves a x = b for matrices b with a's factors: rows permuted, then L y = Pb, U x = y. */
function luSolve(lu: KArray, perm: KArray, b: KArray): KArray {
  const r = b.ndim;
  const idx = lax.broadcastInDim(perm, b.shape, [...range(r - 2), r - 2]);
  const pb = np.takeAlongAxis(b, idx, -2);
  const y = trsm(lu, pb, { leftSide: true, lower: true, unitDiagonal: true, transposeA: 'NO_TRANSPOSE' });
  return trsm(lu, y, { leftSide: true, lower: false, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
}

function solveImpl(fn: string, x: Operand, y: Operand): KArray {
  let a = matrixArg(fn, x);
  const n = square(fn, a);
  let b = matrixArg(fn, y, 'b', 1);
  if (b.dtype !== a.dtype) b = cast(b, a.dtype);
  // A 1-D b is one right-hand side (numpy 2 and JAX); otherwise b is a (batch of) matrices.
  const vector = b.ndim === 1;
  if (vector) b = lax.reshape(b, [n, 1]);
  if (b.shape[b.ndim - 2] !== n) throw traceError(`${fn}: a is ${n}x${n} but b ${asArray(y).describe()} has ${b.shape[b.ndim - 2]} rows`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  a = np.broadcastTo(a, [...batch, n, n]);
  b = np.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  const [lu, , perm] = luOf(a);
  const out = luSolve(lu, perm, b);
  return vector ? lax.reshape(out, out.shape.slice(0, -1)) : out;
}

/** The permutation parity of 0-based LU pivots as a ±1 of `dtype` per matrix. */
function pivotSign(pivots: KArray, dtype: KArray['dtype']): KArray {
  const swapped = lax.compare('NE', pivots, lax.iota('i32', pivots.shape, pivots.ndim - 1));
  const count = np.sum(lax.convert(swapped, 'i32'), -1);
  const odd = lax.binary(Op.Remainder, count, lax.constant('i32', count.shape, 2));
  return lax.binary(Op.Subtract, lax.constant(dtype, count.shape, 1), lax.convert(lax.binary(Op.Multiply, odd, lax.constant('i32', odd.shape, 2)), dtype));
}

/** The diagonal of each matrix (last two axes). */
const diag = (x: KArray) => np.diagonal(x, 0, -2, -1);
const at = (a: KArray, i: number, j: number) => {
  const r = a.ndim;
  const s = lax.slice(a, [...range(r - 2, 0).map(() => 0), i, j], [...a.shape.slice(0, -2), i + 1, j + 1]);
  return lax.reshape(s, a.shape.slice(0, -2));
};

/**
 * JAX's determinant: closed forms for 2x2 and 3x3 (jax/_src/numpy/linalg.py `_det_2x2`,
 * `_det_3x3`, so their gradients are those of the formulas), else the LU product with the sign of
 * the pivots' permutation.
 */
function detImpl(a: KArray): KArray {
  const n = square('np.linalg.det', a);
  const mul = (...xs: KArray[]) => xs.reduce((x, y) => lax.binary(Op.Multiply, x, y));
  const add = (x: KArray, y: KArray) => lax.binary(Op.Add, x, y);
  const sub = (x: KArray, y: KArray) => lax.binary(Op.Subtract, x, y);
  if (n === 2) return sub(mul(at(a, 0, 0), at(a, 1, 1)), mul(at(a, 0, 1), at(a, 1, 0)));
  if (n === 3) {
    const e = (i: number, j: number) => at(a, i, j);
    return sub(sub(sub(add(add(mul(e(0, 0), e(1, 1), e(2, 2)), mul(e(0, 1), e(1, 2), e(2, 0))), mul(e(0, 2), e(1, 0), e(2, 1))),
      mul(e(0, 2), e(1, 1), e(2, 0))), mul(e(0, 0), e(1, 2), e(2, 1))), mul(e(0, 1), e(1, 0), e(2, 2)));
  }
  const [lu, pivots] = luOf(a);
  return lax.binary(Op.Multiply, pivotSign(pivots, a.dtype), np.prod(diag(lu), -1));
}

// ---- np.linalg ----------------------------------------------------------------------------------

/** jnp.linalg.cholesky(a, upper=False, symmetrize_input=True): L with a = L L^H (U = L^H if upper). */
export const cholesky = defapi('np.linalg.cholesky', [p('a', A.array), p('upper', A.bool, false, true), p('symmetrizeInput', A.bool, true, true)],
  (x: Operand, upper: boolean, symmetrize: boolean): KArray => {
    const a = matrixArg('np.linalg.cholesky', x);
    square('np.linalg.cholesky', a);
    const l = choleskyOf(a, symmetrize);
    return upper ? mT(l) : l;
  }) as (a: Operand, options?: { upper?: boolean; symmetrizeInput?: boolean }) => KArray;

/** jnp.linalg.solve(a, b): x with a x = b, by LU with partial pivoting. */
export const solve = defapi('np.linalg.solve', [p('a', A.array), p('b', A.array)], (a: Operand, b: Operand) => solveImpl('np.linalg.solve', a, b)) as
  (a: Operand, b: Operand) => KArray;

/** jnp.linalg.inv(a): solve(a, I). */
export const inv = defapi('np.linalg.inv', [p('a', A.array)], (x: Operand): KArray => {
  const a = matrixArg('np.linalg.inv', x);
  const n = square('np.linalg.inv', a);
  return solveImpl('np.linalg.inv', a, eye(a.dtype, a.shape.slice(0, -2), n));
}) as (a: Operand) => KArray;

/** jnp.linalg.det(a). */
export const det = defapi('np.linalg.det', [p('a', A.array)], (x: Operand): KArray => detImpl(matrixArg('np.linalg.det', x))) as (a: Operand) => KArray;

/** jnp.linalg.slogdet(a): [sign, log|det|]; a singular matrix gives [0, -Infinity]. */
export const slogdet = defapi('np.linalg.slogdet', [p('a', A.array)], (x: Operand): KArray[] => {
  const a = matrixArg('np.linalg.slogdet', x);
  square('np.linalg.slogdet', a);
  const [lu, pivots] = luOf(a);
  const d = diag(lu);
  const sign = lax.binary(Op.Multiply, pivotSign(pivots, a.dtype), np.prod(lax.unary(Op.Sign, d), -1));
  return [sign, np.sum(lax.unary(Op.Log, lax.unary(Op.Abs, d)), -1)];
}) as (a: Operand) => [KArray, KArray];

/** jnp.linalg.matrix_power(a, n): repeated squaring; a negative n inverts first. */
export const matrixPower = defapi('np.linalg.matrixPower', [p('a', A.array), p('n', A.int)], (x: Operand, n: number): KArray => {
  let a = asArray(x);
  if (a.ndim < 2) throw traceError(`np.linalg.matrixPower: a must have at least 2 dimensions, got ${a.describe()}`);
  const m = square('np.linalg.matrixPower', a);
  if (n === 0) return eye(a.dtype, a.shape.slice(0, -2), m);
  if (n < 0) a = inv(a);
  let k = Math.abs(n);
  let z: KArray | undefined;
  let result: KArray | undefined;
  while (k > 0) {
    z = z === undefined ? a : bmm(z, z);
    if (k % 2 === 1) result = result === undefined ? z : bmm(result, z);
    k = Math.floor(k / 2);
  }
  return result!;
}) as (a: Operand, n: number) => KArray;

/** jnp.linalg.multi_dot(arrays): a chain of matmuls (a 1-D first or last operand is a vector). */
export const multiDot = defapi('np.linalg.multiDot', [p('arrays', A.arrays)], (xs: readonly Operand[]): KArray => {
  if (xs.length < 2) throw traceError(`np.linalg.multiDot: needs at least 2 arrays, got ${xs.length}`);
  return xs.map(asArray).reduce((acc, x) => np.matmul(acc, x));
}) as (arrays: Operand[]) => KArray;

type Ord = number | 'fro' | 'nuc' | null;
const ORD: Check<Ord> = {
  accepts: "a number, Infinity, -Infinity, 'fro', 'nuc' or null",
  parse(v, param) {
    if (v === null || typeof v === 'number' || v === 'fro' || v === 'nuc') return v;
    throw traceError(`${param} must be ${ORD.accepts}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  },
};

function vectorNormOf(fn: string, x: KArray, ord: number, axis: number[], keepdims: boolean): KArray {
  const ax = np.abs(x);
  if (ord === Infinity) return np.max(ax, axis, { keepdims });
  if (ord === -Infinity) return np.min(ax, axis, { keepdims });
  if (ord === 0) return np.sum(lax.convert(lax.compare('NE', x, lax.constant(x.dtype, x.shape, 0)), x.dtype), axis, { keepdims });
  if (ord === 1) return np.sum(ax, axis, { keepdims });
  if (ord === 2) return np.sqrt(np.sum(np.multiply(x, x), axis, { keepdims }));
  if (!Number.isFinite(ord)) throw traceError(`${fn}: invalid ord ${ord}`);
  return np.power(np.sum(np.power(ax, ord), axis, { keepdims }), 1 / ord);
}

function matrixNormOf(fn: string, x: KArray, ord: Ord, axes: [number, number], keepdims: boolean): KArray {
  const [r, c] = axes;
  if (ord === 'fro' || ord === null) return np.sqrt(np.sum(np.multiply(x, x), [r, c], { keepdims }));
  if (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity) {
    // 1: the largest column sum of |x|; Infinity: the largest row sum.
    const [sumAxis, pickAxis] = ord === 1 || ord === -1 ? [r, c] : [c, r];
    const sums = np.sum(np.abs(x), sumAxis, { keepdims: true });
    const picked = ord > 0 ? np.max(sums, pickAxis, { keepdims: true }) : np.min(sums, pickAxis, { keepdims: true });
    return keepdims ? picked : np.squeeze(picked, [r, c]);
  }
  if (ord === 'nuc' || ord === 2 || ord === -2) {
    // JAX: the two axes moved last, singular values (gesdd, mode 'N'), then their max, min or sum.
    const rest = range(x.ndim).filter((d) => d !== r && d !== c);
    const s = svdOf(lax.transpose(x, [...rest, r, c]), true, false)[0];
    const last = s.ndim - 1;
    const y = ord === 2 ? np.max(s, last) : ord === -2 ? np.min(s, last) : np.sum(s, last);
    if (!keepdims) return y;
    const shape = [...x.shape];
    shape[r] = 1;
    shape[c] = 1;
    return lax.reshape(y, shape);
  }
  throw traceError(`${fn}: invalid ord ${ord} for a matrix norm`);
}

/** jnp.linalg.norm(x, ord=None, axis=None, keepdims=False). */
export const norm = defapi('np.linalg.norm', [p('x', A.array), p('ord', ORD, null), p('axis', A.orNull(A.intOrInts), null), p('keepdims', A.bool, false)],
  (v: Operand, ord: Ord, axis: number | number[] | null, keepdims: boolean): KArray => {
    let x = asArray(v);
    if (x.dtype !== 'f32' && x.dtype !== 'f16') x = cast(x, 'f32');
    const fn = 'np.linalg.norm';
    if (axis === null) {
      if (ord === null) return vectorNormOf(fn, lax.reshape(x, [x.size]), 2, [0], false).reshape(keepdims ? x.shape.map(() => 1) : []);
      if (x.ndim === 1) return vectorNormOf(fn, x, typeof ord === 'number' ? ord : NaN, [0], keepdims);
      if (x.ndim === 2) return matrixNormOf(fn, x, ord, [0, 1], keepdims);
      throw traceError(`${fn}: with ord, x must be 1-D or 2-D unless axis is given, got ${x.describe()}`);
    }
    const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + x.ndim : a));
    if (axes.length === 1) {
      if (typeof ord === 'string') throw traceError(`${fn}: ord '${ord}' is a matrix norm; it needs two axes`);
      return vectorNormOf(fn, x, ord ?? 2, axes, keepdims);
    }
    if (axes.length === 2) return matrixNormOf(fn, x, ord, [axes[0], axes[1]], keepdims);
    throw traceError(`${fn}: axis must name one or two axes, got [${axes.join(', ')}]`);
  }) as (x: Operand, ord?: Ord, axis?: number | number[] | null, keepdims?: boolean) => KArray;

/** jnp.linalg.vector_norm(x, axis=None, keepdims=False, ord=2). */
export const vectorNorm = defapi('np.linalg.vectorNorm', [p('x', A.array), p('axis', A.orNull(A.intOrInts), null), p('keepdims', A.bool, false), p('ord', A.number, 2)],
  (v: Operand, axis: number | number[] | null, keepdims: boolean, ord: number): KArray => {
    let x = asArray(v);
    if (x.dtype !== 'f32' && x.dtype !== 'f16') x = cast(x, 'f32');
    if (axis === null) {
      const flat = vectorNormOf('np.linalg.vectorNorm', lax.reshape(x, [x.size]), ord, [0], false);
      return keepdims ? lax.reshape(flat, x.shape.map(() => 1)) : flat;
    }
    const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + x.ndim : a));
    return vectorNormOf('np.linalg.vectorNorm', x, ord, axes, keepdims);
  }) as (x: Operand, axis?: number | number[] | null, keepdims?: boolean, ord?: number) => KArray;

/** jnp.linalg.matrix_norm(x, keepdims=False, ord='fro'), over the last two axes. */
export const matrixNorm = defapi('np.linalg.matrixNorm', [p('x', A.array), p('keepdims', A.bool, false), p('ord', ORD, 'fro')],
  (v: Operand, keepdims: boolean, ord: Ord): KArray => {
    let x = asArray(v);
    if (x.ndim < 2) throw traceError(`np.linalg.matrixNorm: x must have at least 2 dimensions, got ${x.describe()}`);
    if (x.dtype !== 'f32' && x.dtype !== 'f16') x = cast(x, 'f32');
    return matrixNormOf('np.linalg.matrixNorm', x, ord, [x.ndim - 2, x.ndim - 1], keepdims);
  }) as (x: Operand, keepdims?: boolean, ord?: Ord) => KArray;

/** jnp.linalg.matrix_transpose(x): the last two axes swapped. */
export const matrixTranspose = defapi('np.linalg.matrixTranspose', [p('x', A.array)], (v: Operand): KArray => {
  const x = asArray(v);
  if (x.ndim < 2) throw traceError(`np.linalg.matrixTranspose: x must have at least 2 dimensions, got ${x.describe()}`);
  return mT(x);
}) as (x: Operand) => KArray;

/** jnp.linalg.diagonal(x, offset=0): the diagonal of the last two axes. */
export const diagonal = defapi('np.linalg.diagonal', [p('x', A.array), p('offset', A.int, 0, true)], (v: Operand, offset: number): KArray =>
  np.diagonal(v, offset, -2, -1)) as (x: Operand, options?: { offset?: number }) => KArray;

/** jnp.linalg.trace(x, offset=0): the trace of the last two axes. */
export const trace = defapi('np.linalg.trace', [p('x', A.array), p('offset', A.int, 0, true)], (v: Operand, offset: number): KArray =>
  np.sum(np.diagonal(v, offset, -2, -1), -1)) as (x: Operand, options?: { offset?: number }) => KArray;

export { matmul, outer } from '../numpy/linalg.js';
export { tensordot, vecdot, cross } from '../numpy/products.js';

