/**
 * @file `lax.linalg` (jax.lax.linalg): the factorizations and the triangular solve with JAX's
 * lax defaults (`triangularSolve` solves from the right unless `leftSide`), over the same LAPACK
 * custom calls as `np.linalg` (index.ts). `eigh`, `qr` and `svd` are added beside these.
 */
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { cast, type Operand } from '../numpy/promote.js';
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
