/**
 * @file `lax.linalg` (jax.lax.linalg): the factorizations and the triangular solve with JAX's
 * lax defaults (`triangularSolve` solves from the right unless `leftSide`), over the same LAPACK
 * custom calls as `np.linalg` (index.ts), and `eigh`, `svd` and `qr` over those of decompositions.ts
 * with lax's signatures: eigh returns [v, w], qr's Q is complete by default.
 */
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { cast, type Operand } from '../numpy/promote.js';
import { eighOf, qrDifferentiable, svdOf } from './decompositions.js';
import { choleskyOf, luOf, square } from './index.js';
import { matrixArg, trsm } from './lapack.js';

/** jax.lax.linalg.cholesky(x, symmetrize_input=True): the lower factor. */
export const cholesky = defapi('lax.linalg.cholesky', [p('x', A.array), p('symmetrizeInput', A.bool, true, true)], (x: Operand, symmetrize: boolean): KArray => {
  const a = matrixArg('lax.linalg.cholesky', x);
  square('lax.linalg.cholesky', a);
  return choleskyOf(a, symmetrize);
}) as (x: Operand, options?: { symmetrizeInput?: boolean }) => KArray;

/** jax.lax.linalg.lu(a): [lu, pivots (0-based), permutation]. */
export const lu = defapi('lax.linalg.lu', [p('a', A.array)], (x: Operand): KArray[] => luOf(matrixArg('lax.linalg.lu', x))) as
  (a: Operand) => [KArray, KArray, KArray];

/**
 * jax.lax.linalg.triangular_solve(a, b, left_side=False, lower=False, transpose_a=False,
 * conjugate_a=False, unit_diagonal=False): x with op(a) x = b (left side) or x op(a) = b.
 */
export const triangularSolve = defapi('lax.linalg.triangularSolve', [
  p('a', A.array), p('b', A.array), p('leftSide', A.bool, false, true), p('lower', A.bool, false, true),
  p('transposeA', A.bool, false, true), p('conjugateA', A.bool, false, true), p('unitDiagonal', A.bool, false, true),
], (x: Operand, y: Operand, leftSide: boolean, lower: boolean, transposeA: boolean, conjugateA: boolean, unitDiagonal: boolean): KArray => {
  const a = matrixArg('lax.linalg.triangularSolve', x);
  square('lax.linalg.triangularSolve', a);
  let b = matrixArg('lax.linalg.triangularSolve', y, 'b');
  if (b.dtype !== a.dtype) b = cast(b, a.dtype);
  // conjugate_a only matters for complex values, which kiln does not have.
  const transpose = transposeA ? (conjugateA ? 'ADJOINT' : 'TRANSPOSE') : 'NO_TRANSPOSE';
  return trsm(a, b, { leftSide, lower, unitDiagonal, transposeA: transpose });
}) as (a: Operand, b: Operand, options?: { leftSide?: boolean; lower?: boolean; transposeA?: boolean; conjugateA?: boolean; unitDiagonal?: boolean }) => KArray;

/**
 * jax.lax.linalg.eigh(x, lower=True, symmetrize_input=True, sort_eigenvalues=True): [v, w], the
 * eigenvectors first (lax's order; np.linalg.eigh returns [w, v]). syevd returns the eigenvalues
 * ascending whatever sortEigenvalues says, as JAX's CPU lowering does.
 */
export const eigh = defapi('lax.linalg.eigh', [
  p('x', A.array), p('lower', A.bool, true, true), p('symmetrizeInput', A.bool, true, true), p('sortEigenvalues', A.bool, true, true),
], (x: Operand, lower: boolean, symmetrize: boolean): KArray[] => eighOf(matrixArg('lax.linalg.eigh', x), lower, symmetrize)) as
  (x: Operand, options?: { lower?: boolean; symmetrizeInput?: boolean; sortEigenvalues?: boolean }) => [KArray, KArray];

/** jax.lax.linalg.svd(x, full_matrices=True, compute_uv=True): [u, s, vh], or s alone. */
export const svd = defapi('lax.linalg.svd', [p('x', A.array), p('fullMatrices', A.bool, true, true), p('computeUv', A.bool, true, true)],
  (x: Operand, full: boolean, uv: boolean): KArray | KArray[] => {
    const r = svdOf(matrixArg('lax.linalg.svd', x), full, uv);
    return uv ? r : r[0];
  }) as {
    (x: Operand, options: { fullMatrices?: boolean; computeUv: false }): KArray;
    (x: Operand, options?: { fullMatrices?: boolean; computeUv?: boolean }): [KArray, KArray, KArray];
  };

/** jax.lax.linalg.qr(x, pivoting=False, full_matrices=True): [q, r]; lax's default is the complete Q. */
export const qr = defapi('lax.linalg.qr', [p('x', A.array), p('pivoting', A.fixed(false, 'column pivoting (geqp3) is not built'), false, true), p('fullMatrices', A.bool, true, true)],
  (x: Operand, _pivoting: boolean, full: boolean): KArray[] => qrDifferentiable(matrixArg('lax.linalg.qr', x), full)) as
  (x: Operand, options?: { pivoting?: boolean; fullMatrices?: boolean }) => [KArray, KArray];
