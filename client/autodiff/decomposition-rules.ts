/**
 * @file Reverse-mode rule of the syevd custom call (eigh), transposed from JAX's
 * `_eigh_jvp_rule` (jax/_src/lax/linalg.py): with eigenvectors V and eigenvalues w,
 * dV = V (F ∘ (Vᵀ dA V)) and dw = diag(Vᵀ dA V), F[i][j] = 1/(w_j - w_i) off the diagonal and 0
 * on it (distinct eigenvalues; equal ones give inf/NaN, as in JAX). Transposed:
 * Ā = V (F ∘ (Vᵀ V̄) + diag(w̄)) Vᵀ. As in JAX the rule takes the operand as the symmetric matrix
 * it stands for: `np.linalg.eigh` symmetrizes first, and that op's rule symmetrizes Ā.
 */
import type { Value } from '../../ir/types.js';
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

