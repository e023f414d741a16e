/**
 * @file Reverse-mode rules of the linear-algebra ops, transposed from JAX's forward rules
 * (jax/_src/lax/linalg.py): `_triangular_solve_jvp_rule_a` and the transpose rule in b,
 * `cholesky_jvp_rule`, `_lu_jvp_rule`. They act on the IR ops themselves (the custom calls
 * potrf / trsm / getrf and stablehlo.cholesky / triangular_solve), so a module parsed from JAX's
 * text differentiates as well as one kiln traced. The solves they emit are of the kind the op was:
 * a LAPACK call's rule emits LAPACK calls, a stablehlo op's rule stablehlo ops.
 *
 * Conventions: `tri(x, lower, k)` keeps the lower (upper) triangle with the diagonal shifted by k;
 * a potrf or stablehlo.cholesky cotangent is read in the factor's triangle, and JAX's rule treats
 * the input as symmetric (its tangent is symmetrized), so the operand's cotangent is symmetric.
 * potrf leaves the operand's other triangle in place: that part's cotangent passes straight through.
 */
import { customCallAttrs, type TransposeA } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { Operation, Value } from '../../ir/types.js';
import type { Emitter } from './emit.js';
import { range } from './emit.js';

type Ct = Value | undefined;
export interface Spec { leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: TransposeA }

/** Whether solves are emitted as LAPACK calls (`lapack_strsm_ffi`) or as stablehlo.triangular_solve. */
export type Flavor = 'lapack' | 'stablehlo';

export function mT(e: Emitter, x: Value): Value {
  const r = x.type.shape.length;
  return e.transpose(x, [...range(r - 2), r - 1, r - 2]);
}

export function mm(e: Emitter, x: Value, y: Value): Value {
  const nb = x.type.shape.length - 2;
  const batch = range(nb);
  return e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: batch, rhsBatch: batch, lhsContract: [nb + 1], rhsContract: [nb] } });
}

export function iota(e: Emitter, shape: readonly number[], dim: number): Value {
  return e.b.emit1(Op.Iota, [], { dim }, { resultTypes: [{ dtype: 'i32', shape: [...shape] }] });
}

/** `x` with entries outside the lower (upper) triangle, diagonal shifted by k, zeroed. */
export function tri(e: Emitter, x: Value, lower: boolean, k = 0): Value {
  const s = x.type.shape;
  const r = s.length;
  const rows = iota(e, s, r - 2);
  const shifted = k === 0 ? rows : e.add(rows, e.full(rows.type, k));
  return e.select(e.compare(lower ? 'LE' : 'GE', iota(e, s, r - 1), shifted), x, e.zeros(x.type));
}

export function solve(e: Emitter, flavor: Flavor, a: Value, b: Value, s: Spec): Value {
  if (flavor === 'stablehlo') return e.b.emit1(Op.TriangularSolve, [a, b], s);
  const attrs = customCallAttrs('lapack_strsm_ffi', { kind: 'trsm', ...s }, [a.type, b.type], [b.type]);
  return e.b.emit1(Op.CustomCall, [a, b], attrs, { resultTypes: [b.type] });
}

const flip = (t: TransposeA): TransposeA => (t === 'NO_TRANSPOSE' ? 'TRANSPOSE' : 'NO_TRANSPOSE');

/**
 * X = op(A)^-1 B (left) or B op(A)^-1 (right). B's cotangent solves with op(A) transposed; A's is
 * -tri(B̄ Xᵀ) (left) or -tri(Xᵀ B̄) (right), transposed back when op transposes, in A's triangle.
 */
export function triangularSolveVjp(e: Emitter, flavor: Flavor, s: Spec, a: Value, x: Value, g: Ct, needs: readonly boolean[]): Ct[] {
  if (!g) return [undefined, undefined];
  const bBar = solve(e, flavor, a, g, { ...s, transposeA: flip(s.transposeA) });
  if (!needs[0]) return [undefined, bBar];
  let m = s.leftSide ? mm(e, bBar, mT(e, x)) : mm(e, mT(e, x), bBar);
  if (s.transposeA !== 'NO_TRANSPOSE') m = mT(e, m);
  const k = s.unitDiagonal ? (s.lower ? -1 : 1) : 0;
  return [e.neg(tri(e, m, s.lower, k)), bBar];
}

/**
 * The cotangent of a symmetric A from that of its lower Cholesky factor L (JAX's
 * cholesky_jvp_rule, transposed): S̄ = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, Ā = (S̄ + S̄ᵀ) / 2, Φ = tril with the
 * diagonal halved. `f` holds L in its lower triangle (anything above).
 */
function choleskyCotangent(e: Emitter, flavor: Flavor, f: Value, lBar: Value): Value {
  const l = tri(e, f, true);
  const p = mm(e, mT(e, l), tri(e, lBar, true));
  const s = p.type.shape;
  const r = s.length;
  const diag = e.compare('EQ', iota(e, s, r - 2), iota(e, s, r - 1));
  const phi = e.select(diag, e.scale(p, 0.5), tri(e, p, true));
  const left = solve(e, flavor, f, phi, { leftSide: true, lower: true, unitDiagonal: false, transposeA: 'TRANSPOSE' });
  const sBar = solve(e, flavor, f, left, { leftSide: false, lower: true, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
  return e.scale(e.add(sBar, mT(e, sBar)), 0.5);
}

/** potrf or stablehlo.cholesky: results [factor, (info)] to the operand's cotangent. */
export function choleskyVjp(e: Emitter, flavor: Flavor, lower: boolean, factor: Value, g: Ct, passThrough: boolean): Ct[] {
  if (!g) return [undefined];
  // An upper factor U is Lᵀ: read it, and its cotangent, transposed.
  const f = lower ? factor : mT(e, factor);
  const gl = lower ? g : mT(e, g);
  const a = choleskyCotangent(e, flavor, f, gl);
  if (!passThrough) return [a];
  // potrf leaves the other triangle of its operand in its result.
  return [e.add(a, tri(e, g, !lower, lower ? 1 : -1))];
}

/**
 * getrf's packed result of an m×n matrix as JAX's _lu_jvp_rule unpacks it, k = min(m, n):
 * L (m×m) = tril(lu[:, :k], -1) padded with zero columns, plus I; U (n×n) = triu(lu[:k, :]) padded
 * with zero rows, plus ones on the diagonal past k. For a square matrix these are lu's two triangles.
 */
export function luFactors(e: Emitter, lu: Value): [Value, Value] {
  const s = lu.type.shape;
  const r = s.length;
  const [m, n] = s.slice(-2);
  const k = Math.min(m, n);
  const batch = s.slice(0, -2);
  const zeros = s.map(() => 0);
  const at = (rows: number, cols: number) => [...batch.map(() => 0), rows, cols];
  const lk = tri(e, e.slice(lu, [...zeros], [...batch, m, k]), true, -1);
  const lm = e.padZeros(lk, [...zeros], at(0, m - k), [...zeros]);
  const ls = lm.type.shape;
  const l = e.add(lm, e.convert(e.compare('EQ', iota(e, ls, r - 2), iota(e, ls, r - 1)), lu.type.dtype));
  const uk = tri(e, e.slice(lu, [...zeros], [...batch, k, n]), false);
  const un = e.padZeros(uk, [...zeros], at(n - k, 0), [...zeros]);
  const us = un.type.shape;
  const rows = iota(e, us, r - 2);
  const tail = e.b.emit1(Op.And, [e.compare('EQ', rows, iota(e, us, r - 1)), e.compare('GE', rows, e.full(rows.type, k))], {});
  return [l, e.add(un, e.convert(tail, lu.type.dtype))];
}

/**
 * getrf of an m×n matrix: results [LU, pivots, info]. JAX's _lu_jvp_rule, transposed: with L, U as
 * {@link luFactors} and W = L⁻¹ P Ȧ U⁻¹ (m×n), LU̇ = L tril(W, -1) + triu(W) U, so
 * W̄ = tril(Lᵀ Ḡ, -1) + triu(Ḡ Uᵀ) and Ā = Pᵀ L⁻ᵀ W̄ U⁻ᵀ.
 */
export function getrfVjp(e: Emitter, o: Operation<Op.CustomCall>, g: Ct): Ct[] {
  if (!g) return [undefined];
  const [lu, piv] = o.results;
  const s = lu.type.shape;
  const m = s[s.length - 2];
  const [l, u] = luFactors(e, lu);
  const wBar = e.add(tri(e, mm(e, mT(e, l), g), true, -1), tri(e, mm(e, g, mT(e, u)), false));
  const z1 = solve(e, 'lapack', l, wBar, { leftSide: true, lower: true, unitDiagonal: true, transposeA: 'TRANSPOSE' });
  const z = solve(e, 'lapack', u, z1, { leftSide: false, lower: false, unitDiagonal: false, transposeA: 'TRANSPOSE' });
  const p = permutationMatrix(e, piv, [...s.slice(0, -1), m], lu.type.dtype);
  return [mm(e, mT(e, p), z)];
}

/** P (of `shape`'s dtype f32 and shape) from getrf's 1-based pivots: row i of P A is row perm[i] of A, P[i][j] = (perm[i] == j). */
export function permutationMatrix(e: Emitter, piv: Value, s: readonly number[], dtype: Value['type']['dtype'] = 'f32'): Value {
  const r = s.length;
  const m = s[r - 2];
  const pivots = e.sub(piv, e.full(piv.type, 1));
  const permType = { dtype: 'i32' as const, shape: [...piv.type.shape.slice(0, -1), m] };
  const perm = e.b.emit1(Op.CustomCall, [pivots], customCallAttrs('cu_lu_pivots_to_permutation', { kind: 'pivotsToPermutation' }, [pivots.type], [permType]), { resultTypes: [permType] });
  return e.convert(e.compare('EQ', e.broadcastInDim(perm, s, [...range(r - 2), r - 2]), iota(e, s, r - 1)), dtype);
}
