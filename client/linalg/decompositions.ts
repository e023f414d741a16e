/**
 * @file `np.linalg.qr`, `eigh`, `eigvalsh`, `svd` and `svdvals` as JAX's CPU lowering emits them:
 * geqrf + orgqr (JAX's `_qr_lowering`: the reflectors padded to m×m for a complete Q, R's lower
 * part zeroed), syevd after `(x + xᵀ)/2` (JAX's `symmetrize_input`), gesdd with mode 'A', 'S' or
 * 'N'; results whose `info` is not 0 become NaN, as JAX's `_replace_not_ok_with_nan`.
 * Eigenvectors and singular vectors are defined up to the sign of each column: kiln makes a
 * column's largest-magnitude entry positive, which need not be LAPACK's sign.
 * qr's gradient is JAX's qr_jvp_rule as a custom JVP of the client's qr (qrDifferentiable), so a
 * QR parsed from JAX's text is not differentiated.
 * eigh's and svd's gradients are JAX's eigh_jvp_rule and svd_jvp_rule transposed, on the custom
 * calls (client/autodiff/decomposition-rules.ts); see there for what is refused.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import * as lax from '../lax.js';
import type { Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { customJvp } from '../autodiff/custom.js';
import { takeAlongAxis } from '../numpy/indexing.js';
import { bmm, customCall, matrixArg, mT, nanUnless, triangle, trsm } from './lapack.js';

const ok = (info: KArray) => lax.compare('EQ', info, lax.constant('i32', info.shape, 0));

/** JAX's `_qr_lowering`: [Q, R] with Q m×m (`full`) or m×min(m, n). */
export function qrOf(a: KArray, full: boolean): [KArray, KArray] {
  const [m, n] = a.shape.slice(-2);
  const batch = a.shape.slice(0, -2);
  if (m === 0 || n === 0) throw traceError(`qr of an empty ${m}x${n} matrix is not supported`);
  const [packed, taus] = customCall('lapack_sgeqrf_ffi', { kind: 'geqrf' }, [a]);
  const sliceTo = (x: KArray, rows: number, cols: number) =>
    lax.slice(x, x.shape.map(() => 0), [...batch, rows, cols], x.shape.map(() => 1));
  let q: KArray;
  let rr = packed;
  if (m < n) q = customCall('lapack_sorgqr_ffi', { kind: 'orgqr' }, [sliceTo(packed, m, m), taus])[0];
  else if (full) {
    const zero = lax.constant(a.dtype, [], 0);
    const padded = lax.pad(packed, zero, a.shape.map(() => 0), [...batch.map(() => 0), 0, m - n], a.shape.map(() => 0));
    q = customCall('lapack_sorgqr_ffi', { kind: 'orgqr' }, [padded, taus])[0];
  } else {
    q = customCall('lapack_sorgqr_ffi', { kind: 'orgqr' }, [packed, taus])[0];
    rr = sliceTo(packed, n, n);
  }
  return [q, triangle(rr, false)];
}

/**
 * QR with JAX's `qr_jvp_rule` as a custom JVP (grad transposes it), for the cases JAX
 * differentiates: m ≥ n with the reduced Q, or square. With Ṙ⁻¹ = ȧ R⁻¹ and C = Qᵀ ȧ R⁻¹,
 * Ω = tril(C, -1) - tril(C, -1)ᵀ: Q̇ = Q (Ω - C) + ȧ R⁻¹ and Ṙ = (C - Ω) R. Other shapes call
 * geqrf/orgqr bare, whose gradient is refused by name (client/autodiff/rules.ts), as JAX raises.
 */
const qrWithJvp = new Map<boolean, (a: KArray) => KArray[]>();
export function qrDifferentiable(a: KArray, full: boolean): [KArray, KArray] {
  const [m, n] = a.shape.slice(-2);
  if (m < n || (full && m !== n)) return qrOf(a, full);
  let f = qrWithJvp.get(full);
  if (!f) {
    const g = customJvp(function qr(x: KArray) { return qrOf(x, full); });
    g.defjvp(([x], [dx]) => {
      const [q, r] = qrOf(x, false);
      const dxRinv = trsm(r, dx, { leftSide: false, lower: false, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
      const c = bmm(mT(q), dxRinv);
      const low = triangle(c, true, -1);
      const omega = lax.binary(Op.Subtract, low, mT(low));
      const dq = lax.binary(Op.Add, bmm(q, lax.binary(Op.Subtract, omega, c)), dxRinv);
      const dr = bmm(lax.binary(Op.Subtract, c, omega), r);
      return [[q, r], [dq, dr]];
    });
    f = g as (x: KArray) => KArray[];
    qrWithJvp.set(full, f);
  }
  const [q, r] = f(a);
  return [q, r];
}

/** `np.linalg.qr(a, mode)`: 'reduced' (default), 'complete' or 'r'. */
export const qr = defapi('np.linalg.qr', [p('a', A.array), p('mode', A.oneOf('reduced', 'complete', 'r'), 'reduced')],
  (x: Operand, mode: 'reduced' | 'complete' | 'r'): KArray | KArray[] => {
    const [q, r] = qrDifferentiable(matrixArg('np.linalg.qr', x), mode === 'complete');
    return mode === 'r' ? r : [q, r];
  }) as (a: Operand, mode?: 'reduced' | 'complete' | 'r') => KArray | KArray[];

/** JAX's `eigh` on a (batch of) square matrices: [eigenvectors, ascending eigenvalues]. */
export function eighOf(a: KArray, lower: boolean, symmetrize: boolean): [KArray, KArray] {
  const [m, n] = a.shape.slice(-2);
  if (m !== n) throw traceError(`eigh needs square matrices, got ${a.describe()}`);
  const s = symmetrize ? lax.binary(Op.Divide, lax.binary(Op.Add, a, mT(a)), lax.constant(a.dtype, a.shape, 2)) : a;
  const [v, w, info] = customCall('lapack_ssyevd_ffi', { kind: 'syevd', lower, algorithm: 0 }, [s]);
  const good = ok(info);
  return [nanUnless(good, v), nanUnless(good, w)];
}

/** `np.linalg.eigh(a, UPLO, {symmetrizeInput})`: [eigenvalues, eigenvectors] (JAX's EighResult order). */
export const eigh = defapi('np.linalg.eigh', [p('a', A.array), p('UPLO', A.oneOf('L', 'U'), 'L'), p('symmetrizeInput', A.bool, true, true)],
  (x: Operand, uplo: 'L' | 'U', symmetrize: boolean): KArray[] => {
    const [v, w] = eighOf(matrixArg('np.linalg.eigh', x), uplo === 'L', symmetrize);
    return [w, v];
  }) as (a: Operand, UPLO?: 'L' | 'U', opts?: { symmetrizeInput?: boolean }) => KArray[];

/** `np.linalg.eigvalsh(a, UPLO)`: the ascending eigenvalues. */
export const eigvalsh = defapi('np.linalg.eigvalsh', [p('a', A.array), p('UPLO', A.oneOf('L', 'U'), 'L'), p('symmetrizeInput', A.bool, true, true)],
  (x: Operand, uplo: 'L' | 'U', symmetrize: boolean): KArray => eighOf(matrixArg('np.linalg.eigvalsh', x), uplo === 'L', symmetrize)[1]) as
  (a: Operand, UPLO?: 'L' | 'U', opts?: { symmetrizeInput?: boolean }) => KArray;

/** JAX's svd through gesdd: [U, s, Vh] with `computeUv`, else [s]. */
export function svdOf(a: KArray, full: boolean, computeUv: boolean): KArray[] {
  const [m, n] = a.shape.slice(-2);
  if (m === 0 || n === 0) throw traceError(`svd of an empty ${m}x${n} matrix is not supported`);
  // Mode 'N' still has U and Vᵀ results, shaped as full_matrices says (JAX allocates them).
  const t = (shape: number[]) => ({ dtype: a.dtype, shape: [...a.shape.slice(0, -2), ...shape] });
  const k = Math.min(m, n);
  const declared = computeUv ? undefined : [t([m, n]), t([k]), t([m, full ? m : k]), t([full ? n : k, n])];
  const [, s, u, vt, info] = customCall('lapack_sgesdd_ffi', { kind: 'svd', computeUv, fullMatrices: computeUv ? full : undefined, vNotVt: false }, [a], declared);
  const good = ok(info);
  return computeUv ? [nanUnless(good, u), nanUnless(good, s), nanUnless(good, vt)] : [nanUnless(good, s)];
}

/**
 * JAX's `svd(a, hermitian=True)`: from eigh, s = |w| sorted descending (a stable sort of (s, index,
 * sign) ascending, then reversed, as JAX), U = the eigenvectors in that order, Vh = (U·sign(w))ᵀ.
 */
function hermitianSvdOf(a: KArray, computeUv: boolean): KArray[] {
  const [m, n] = a.shape.slice(-2);
  if (m !== n) throw traceError(`np.linalg.svd: hermitian=true needs square matrices, got ${a.describe()}`);
  const [vectors, w] = eighOf(a, true, true);
  const last = w.ndim - 1;
  const s = lax.unary(Op.Abs, w);
  if (!computeUv) return [lax.reverse(lax.sort([s], last)[0], [last])];
  const sorted = lax.sort([s, lax.iota('i32', s.shape, last), lax.unary(Op.Sign, w)], last, true, 1);
  const [sDesc, order, sign] = sorted.map((x) => lax.reverse(x, [last]));
  // u[..., r, j] = vectors[..., r, order[..., j]]: the same column order on every row.
  const rows = (x: KArray) => lax.broadcastInDim(x, vectors.shape, [...Array.from({ length: last }, (_, i) => i), last + 1]);
  const u = takeAlongAxis(vectors, rows(order), -1);
  return [u, sDesc, mT(lax.binary(Op.Multiply, u, rows(sign)))];
}

/** `np.linalg.svd(a, fullMatrices, computeUv, hermitian)`: [U, S, Vh], or S alone. */
export const svd = defapi('np.linalg.svd', [p('a', A.array), p('fullMatrices', A.bool, true), p('computeUv', A.bool, true), p('hermitian', A.bool, false)],
  (x: Operand, full: boolean, uv: boolean, hermitian: boolean): KArray | KArray[] => {
    const a = matrixArg('np.linalg.svd', x);
    const r = hermitian ? hermitianSvdOf(a, uv) : svdOf(a, full, uv);
    return uv ? r : r[0];
  }) as (a: Operand, fullMatrices?: boolean, computeUv?: boolean, hermitian?: boolean) => KArray | KArray[];

/** `np.linalg.svdvals(x)`: the singular values, descending. */
export const svdvals = defapi('np.linalg.svdvals', [p('x', A.array)], (x: Operand): KArray =>
  svdOf(matrixArg('np.linalg.svdvals', x), true, false)[0]) as (x: Operand) => KArray;
