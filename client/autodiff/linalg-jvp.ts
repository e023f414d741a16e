/**
 * @file Forward-mode (JVP) rules of the linear-algebra ops, after JAX's (jax/_src/lax/linalg.py):
 * `cholesky_jvp_rule`, `_triangular_solve_jvp_rule_a` with the linear rule in b, `_lu_jvp_rule`
 * (square), `eigh_jvp_rule` and `svd_jvp_rule`. They act on the IR ops (the LAPACK custom calls
 * and stablehlo.cholesky / triangular_solve), so a module parsed from JAX's text has them too; the
 * reverse-mode rules (linalg-rules.ts, decomposition-rules.ts) are these transposed, and take the
 * same conventions: a Cholesky or eigh operand stands for the symmetric matrix it is read as.
 * QR is split into geqrf and orgqr calls with no rule of their own: the client's qr carries JAX's
 * qr_jvp_rule as a custom JVP (client/linalg/decompositions.ts); the calls alone are refused.
 */
import { customCallAttrs, KIND_SHAPES } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { Operation, Value } from '../../ir/types.js';
import type { Emitter } from './emit.js';
import { range } from './emit.js';
import { iota, luFactors, mm, mT, permutationMatrix, solve, tri, type Flavor, type Spec } from './linalg-rules.js';

type Tan = Value | undefined;

const eyeOf = (e: Emitter, x: Value): Value => {
  const s = x.type.shape;
  const r = s.length;
  return e.convert(e.compare('EQ', iota(e, s, r - 2), iota(e, s, r - 1)), x.type.dtype);
};

/**
 * Cholesky: with σ̇ = (ȧ + ȧᵀ)/2, L̇ = L Φ(L⁻¹ σ̇ L⁻ᵀ), Φ = tril with the diagonal halved. `factor`
 * holds L in its lower (or U = Lᵀ in its upper) triangle; potrf's other triangle is its operand's,
 * whose tangent passes through.
 */
export function choleskyJvp(e: Emitter, flavor: Flavor, lower: boolean, factor: Value, t: Tan, passThrough: boolean): Tan[] {
  if (!t) return [];
  const f = lower ? factor : mT(e, factor);
  const sigma = e.scale(e.add(t, mT(e, t)), 0.5);
  const right = solve(e, flavor, f, sigma, { leftSide: false, lower: true, unitDiagonal: false, transposeA: 'TRANSPOSE' });
  const inner = solve(e, flavor, f, right, { leftSide: true, lower: true, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
  const phi = e.sub(tri(e, inner, true), e.scale(e.mul(eyeOf(e, inner), inner), 0.5));
  const dl = mm(e, tri(e, f, true), phi);
  let out = lower ? dl : mT(e, dl);
  // potrf: [factor, info]; stablehlo.cholesky: [factor].
  if (!passThrough) return [out];
  return [e.add(out, tri(e, t, !lower, lower ? 1 : -1)), undefined];
}

/**
 * X = op(A)⁻¹ B (left) or B op(A)⁻¹ (right): Ẋ = op(A)⁻¹ (Ḃ - op(Ȧ) X), or (Ḃ - X op(Ȧ)) op(A)⁻¹,
 * with Ȧ read in A's triangle (without the diagonal when it is a unit one).
 */
export function triangularSolveJvp(e: Emitter, flavor: Flavor, s: Spec, a: Value, x: Value, [ta, tb]: readonly Tan[]): Tan[] {
  if (!ta && !tb) return [];
  let rhs = tb;
  if (ta) {
    let da = tri(e, ta, s.lower, s.unitDiagonal ? (s.lower ? -1 : 1) : 0);
    if (s.transposeA !== 'NO_TRANSPOSE') da = mT(e, da);
    const prod = s.leftSide ? mm(e, da, x) : mm(e, x, da);
    rhs = rhs ? e.sub(rhs, prod) : e.neg(prod);
  }
  return [solve(e, flavor, a, rhs!, s)];
}

/** getrf of an m×n matrix (JAX's _lu_jvp_rule): with L, U as luFactors and W = L⁻¹ P ȧ U⁻¹, LU̇ = L tril(W, -1) + triu(W) U. */
function getrfJvp(e: Emitter, o: Operation<Op.CustomCall>, t: Tan): Tan[] {
  if (!t) return [];
  const [lu, piv] = o.results;
  const s = lu.type.shape;
  const [l, u] = luFactors(e, lu);
  const pa = mm(e, permutationMatrix(e, piv, [...s.slice(0, -1), s[s.length - 2]], lu.type.dtype), t);
  const la = solve(e, 'lapack', l, pa, { leftSide: true, lower: true, unitDiagonal: true, transposeA: 'NO_TRANSPOSE' });
  const w = solve(e, 'lapack', u, la, { leftSide: false, lower: false, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
  return [e.add(mm(e, l, tri(e, w, true, -1)), mm(e, tri(e, w, false), u)), undefined, undefined];
}

/** syevd: with C = Vᵀ ȧ V, V̇ = V (F ∘ C) and ẇ = diag(C), F[i][j] = 1/(w_j - w_i) off the diagonal. */
function syevdJvp(e: Emitter, o: Operation<Op.CustomCall>, t: Tan): Tan[] {
  if (!t) return [];
  const [v, w] = o.results;
  const shape = v.type.shape;
  const r = shape.length;
  const batch = range(r - 2);
  const eye = eyeOf(e, v);
  const diff = e.sub(e.broadcastInDim(w, shape, [...batch, r - 1]), e.broadcastInDim(w, shape, [...batch, r - 2]));
  const f = e.sub(e.div(e.full(v.type, 1), e.add(diff, eye)), eye);
  const c = mm(e, mm(e, mT(e, v), t), v);
  return [mm(e, v, e.mul(f, c)), e.sum(e.mul(c, eye), [r - 1]), undefined];
}

/**
 * An SVD call, JAX's svd_jvp_rule for real matrices with the reduced U (m×k), V (n×k): dS = Uᵀ ȧ V,
 * ṡ = diag(dS), U̇ = U (F ∘ (dS S + S dSᵀ)) [+ (I - U Uᵀ) ȧ V S⁻¹ when m > n],
 * V̇ = V (F ∘ (S dS + dSᵀ S)) [+ (I - V Vᵀ) ȧᵀ U S⁻¹ when n > m], F[i][j] = 1/(s_j² - s_i²) (0 where
 * equal). Values alone use a reduced SVD of the operand; full U and Vᵀ are refused, as in JAX.
 */
function svdJvp(e: Emitter, o: Operation<Op.CustomCall>, t: Tan): Tan[] {
  const call = o.attrs.call;
  if (!t || call.kind !== 'svd') return [];
  if (call.computeUv && call.fullMatrices) {
    throw new UnsupportedOpError(`${o.op} @${o.attrs.target}: jvp: an SVD with full_matrices=True (full U and Vh) is not implemented, as in JAX; use fullMatrices false`, o.loc);
  }
  const a = o.operands[0];
  let [, s, u, vOut] = o.results;
  if (!call.computeUv) {
    const reduced = { ...call, computeUv: true, fullMatrices: false };
    const types = KIND_SHAPES.svd.results([a.type], reduced, undefined);
    if (typeof types === 'string') throw new UnsupportedOpError(`${o.op} @${o.attrs.target}: ${types}`, o.loc);
    [, s, u, vOut] = e.b.emit(Op.CustomCall, [a], customCallAttrs(o.attrs.target, reduced, [a.type], types), { resultTypes: types });
  }
  const v = call.vNotVt ? vOut : mT(e, vOut);
  const [m, n] = a.type.shape.slice(-2);
  const k = Math.min(m, n);
  const r = a.type.shape.length;
  const batch = range(r - 2);
  const kk = [...a.type.shape.slice(0, -2), k, k];
  const kkType = { dtype: s.type.dtype, shape: kk };
  const cols = (x: Value, shape: readonly number[]) => e.broadcastInDim(x, shape, [...batch, r - 1]);
  const rows = (x: Value, shape: readonly number[]) => e.broadcastInDim(x, shape, [...batch, r - 2]);
  const ds = mm(e, mm(e, mT(e, u), t), v);
  const eye = eyeOf(e, ds);
  const sDot = e.sum(e.mul(ds, eye), [r - 1]);
  if (!call.computeUv) return [undefined, sDot, undefined, undefined, undefined];
  const sj = cols(s, kk);
  const si = rows(s, kk);
  const diffs = e.mul(e.add(sj, si), e.sub(sj, si));
  const zeros = e.convert(e.compare('EQ', diffs, e.zeros(kkType)), s.type.dtype);
  const f = e.sub(e.div(e.full(kkType, 1), e.add(diffs, zeros)), zeros);
  const dss = e.mul(ds, sj);
  const sds = e.mul(si, ds);
  let du = mm(e, u, e.mul(f, e.add(dss, mT(e, dss))));
  let dv = mm(e, v, e.mul(f, e.add(sds, mT(e, sds))));
  const sInv = (x: Value) => e.div(x, cols(s, x.type.shape));
  if (m > n) {
    const dav = mm(e, t, v);
    du = e.add(du, sInv(e.sub(dav, mm(e, u, mm(e, mT(e, u), dav)))));
  }
  if (n > m) {
    const dahu = mm(e, mT(e, t), u);
    dv = e.add(dv, sInv(e.sub(dahu, mm(e, v, mm(e, mT(e, v), dahu)))));
  }
  return [undefined, sDot, du, call.vNotVt ? dv : mT(e, dv), undefined];
}

/** The custom calls' JVPs. */
export function customCallJvp(e: Emitter, o: Operation<Op.CustomCall>, ts: readonly Tan[]): Tan[] {
  const call = o.attrs.call;
  switch (call.kind) {
    case 'potrf': return choleskyJvp(e, 'lapack', call.lower, o.results[0], ts[0], true);
    case 'trsm': return triangularSolveJvp(e, 'lapack', call, o.operands[0], o.results[0], ts);
    case 'getrf': return getrfJvp(e, o, ts[0]);
    case 'pivotsToPermutation': return [];
    case 'syevd': return syevdJvp(e, o, ts[0]);
    case 'svd': return svdJvp(e, o, ts[0]);
    case 'geqrf': case 'orgqr':
      if (!ts.some((t) => t)) return [];
      throw new UnsupportedOpError(`${o.op} @${o.attrs.target}: jvp: QR differentiates only as np.linalg.qr / lax.linalg.qr of a tall or square matrix with the reduced Q (JAX's qr_jvp_rule, a custom JVP), not from a parsed module`, o.loc);
    default: return call satisfies never;
  }
}
