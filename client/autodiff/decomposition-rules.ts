/**
 * @file Reverse-mode rules of the syevd (eigh) and SVD custom calls. syevd's is transposed from JAX's
 * `_eigh_jvp_rule` (jax/_src/lax/linalg.py): with eigenvectors V and eigenvalues w,
 * dV = V (F ∘ (Vᵀ dA V)) and dw = diag(Vᵀ dA V), F[i][j] = 1/(w_j - w_i) off the diagonal and 0
 * on it (distinct eigenvalues; equal ones give inf/NaN, as in JAX). Transposed:
 * Ā = V (F ∘ (Vᵀ V̄) + diag(w̄)) Vᵀ. As in JAX the rule takes the operand as the symmetric matrix
 * it stands for: `np.linalg.eigh` symmetrizes first, and that op's rule symmetrizes Ā.
 */
import { customCallAttrs, KIND_SHAPES } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { Operation, Value } from '../../ir/types.js';
import type { Emitter } from './emit.js';
import { range } from './emit.js';
import { iota, mm, mT } from './linalg-rules.js';

type Ct = Value | undefined;

/** The operand's cotangent of a syevd call from those of its (V, w, info) results. */
export function syevdVjp(e: Emitter, v: Value, w: Value, [vBar, wBar]: readonly Ct[]): Ct[] {
  if (!vBar && !wBar) return [undefined];
  const t = v.type;
  const r = t.shape.length;
  const batch = range(r - 2);
  const eye = e.convert(e.compare('EQ', iota(e, t.shape, r - 2), iota(e, t.shape, r - 1)), t.dtype);
  // Along a row (w_j) and down a column (w_i).
  const along = (x: Value) => e.broadcastInDim(x, t.shape, [...batch, r - 1]);
  let inner: Value | undefined;
  if (vBar) {
    const diff = e.sub(along(w), e.broadcastInDim(w, t.shape, [...batch, r - 2]));
    const f = e.sub(e.div(e.full(t, 1), e.add(diff, eye)), eye);
    inner = e.mul(f, mm(e, mT(e, v), vBar));
  }
  if (wBar) {
    const d = e.mul(eye, along(wBar));
    inner = inner ? e.add(inner, d) : d;
  }
  return [mm(e, mm(e, v, inner!), mT(e, v))];
}


/**
 * An SVD call (gesdd, gesvd, gesvdj): the operand's cotangent from those of [A', s, U, Vᵀ (or V),
 * info]. JAX's `svd_jvp_rule` transposed, for real matrices with the reduced U (m×k) and V (n×k),
 * k = min(m, n): with F[i][j] = 1/(s_j² - s_i²) off the diagonal (0 where s_i = s_j, as JAX),
 * X = F ∘ (Uᵀ Ū), Y = F ∘ (Vᵀ V̄),
 *   Ā = U (diag(s̄) + (X + Xᵀ) S + S (Y + Yᵀ)) Vᵀ + (I - U Uᵀ) Ū S⁻¹ Vᵀ [m > n] + U S⁻¹ V̄ᵀ (I - V Vᵀ) [n > m].
 * Singular values alone (mode 'N') differentiate through a reduced SVD of the same operand, as JAX's
 * rule computes one. Full U and Vᵀ are refused, as JAX refuses them.
 */
export function svdVjp(e: Emitter, o: Operation<Op.CustomCall>, cts: readonly Ct[]): Ct[] {
  const call = o.attrs.call;
  if (call.kind !== 'svd') throw new Error(`internal: svdVjp on ${call.kind}`);
  const [aBar, sBar, uBar, vBarIn] = cts;
  if (!sBar && !uBar && !vBarIn) return [undefined];
  const fail = (why: string): never => { throw new UnsupportedOpError(`${o.op} @${o.attrs.target}: ${why}`, o.loc); };
  if (aBar) fail('the overwritten operand result has no gradient');
  if (call.computeUv && call.fullMatrices) {
    fail('the gradient of an SVD with full_matrices=True (full U and Vh) is not implemented, as in JAX; use fullMatrices false');
  }
  const a = o.operands[0];
  let [, s, u, vOut] = o.results;
  if (!call.computeUv) {
    const reduced = { ...call, computeUv: true, fullMatrices: false };
    const types = KIND_SHAPES.svd.results([a.type], reduced, undefined);
    if (typeof types === 'string') return fail(types);
    const attrs = customCallAttrs(o.attrs.target, reduced, [a.type], types);
    [, s, u, vOut] = e.b.emit(Op.CustomCall, [a], attrs, { resultTypes: types });
  }
  const v = call.vNotVt ? vOut : mT(e, vOut);
  const vBar = vBarIn && (call.vNotVt ? vBarIn : mT(e, vBarIn));
  const [m, n] = a.type.shape.slice(-2);
  const k = Math.min(m, n);
  const r = a.type.shape.length;
  const batch = range(r - 2);
  const kk = [...a.type.shape.slice(0, -2), k, k];
  // s_j along a row (scales columns), s_i down a column (scales rows).
  const cols = (x: Value, shape: readonly number[]) => e.broadcastInDim(x, shape, [...batch, r - 1]);
  const rows = (x: Value, shape: readonly number[]) => e.broadcastInDim(x, shape, [...batch, r - 2]);
  const eye = e.convert(e.compare('EQ', iota(e, kk, r - 2), iota(e, kk, r - 1)), s.type.dtype);
  const kkType = { dtype: s.type.dtype, shape: kk };
  let inner = sBar ? e.mul(eye, cols(sBar, kk)) : e.zeros(kkType);
  let f: Value | undefined;
  if (uBar || vBar) {
    const sj = cols(s, kk);
    const si = rows(s, kk);
    const diffs = e.mul(e.add(sj, si), e.sub(sj, si));
    const zeros = e.convert(e.compare('EQ', diffs, e.zeros(kkType)), s.type.dtype);
    f = e.sub(e.div(e.full(kkType, 1), e.add(diffs, zeros)), zeros);
  }
  const sInv = (x: Value) => e.div(x, cols(s, x.type.shape));
  let extra: Value | undefined;
  if (uBar) {
    const utub = mm(e, mT(e, u), uBar);
    const x = e.mul(f!, utub);
    inner = e.add(inner, e.mul(e.add(x, mT(e, x)), cols(s, kk)));
    // (I - U Uᵀ) Ū S⁻¹ Vᵀ
    if (m > n) extra = mm(e, sInv(e.sub(uBar, mm(e, u, utub))), mT(e, v));
  }
  if (vBar) {
    const vtvb = mm(e, mT(e, v), vBar);
    const y = e.mul(f!, vtvb);
    inner = e.add(inner, e.mul(rows(s, kk), e.add(y, mT(e, y))));
    // U S⁻¹ V̄ᵀ (I - V Vᵀ) = U (S⁻¹ (V̄ - V Vᵀ V̄)ᵀ)
    if (n > m) {
      const t = mm(e, u, mT(e, sInv(e.sub(vBar, mm(e, v, vtvb)))));
      extra = extra ? e.add(extra, t) : t;
    }
  }
  const main = mm(e, mm(e, u, inner), mT(e, v));
  return [extra ? e.add(main, extra) : main];
}
