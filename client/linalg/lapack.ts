/**
 * @file The factorizations as JAX's CPU lowering emits them: LAPACK custom calls
 * (`lapack_spotrf_ffi`, `lapack_sgetrf_ffi`, `lapack_strsm_ffi`) with the attribute dictionaries
 * of ir/custom-calls.ts, so that `lower()` prints what `jax.jit(f).lower(x).as_text()` prints,
 * plus the small matrix helpers the linalg functions share (swap of the last two axes, triangle
 * masks, identity). Every function runs inside a trace (the public ones are `defapi`s).
 */
import { customCallAttrs, KIND_SHAPES, type LinalgCall, type TransposeA } from '../../ir/custom-calls.js';
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { TensorType } from '../../ir/types.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';
import { asArray, cast, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { emit, tracer, valueOf } from '../trace.js';

/** One custom call on Arrays: result types from the target's kind, attributes as JAX prints them. */
export function customCall(target: string, call: LinalgCall, operands: readonly KArray[], declared?: TensorType[]): KArray[] {
  const types: TensorType[] = operands.map((x) => ({ dtype: x.dtype, shape: [...x.shape] }));
  const results = KIND_SHAPES[call.kind].results(types, call, declared);
  if (typeof results === 'string') throw traceError(`${target}: ${results}`);
  const attrs = customCallAttrs(target, call, types, results);
  return emit(Op.CustomCall, operands.map((x) => valueOf(x)), attrs, { resultTypes: results }).map((v) => tracer(v));
}

/**
 * A matrix operand of `fn` as f32 (JAX promotes integers and bools to the default float; LAPACK
 * has no half precision, so f16 is refused rather than computed in another precision).
 */
export function matrixArg(fn: string, x: Operand, what = 'a', minRank = 2): KArray {
  const a = asArray(x);
  if (a.ndim < minRank) throw traceError(`${fn}: ${what} must have at least ${minRank} dimensions, got ${a.describe()}`);
  if (a.dtype === 'f16') throw traceError(`${fn}: f16 is not supported (the LAPACK kernels JAX lowers to have no half precision); convert ${what} to float32`);
  return isFloat(a.dtype) ? a : cast(a, 'f32');
}

/** `x` with its last two axes swapped. */
export function mT(x: KArray): KArray {
  const r = x.ndim;
  return lax.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/** `x` with the entries outside its lower (or upper) triangle, diagonal shifted by `k`, set to 0 (`tril` / `triu`). */
export function triangle(x: KArray, lower: boolean, k = 0): KArray {
  const r = x.ndim;
  const rows = lax.iota('i32', x.shape, r - 2);
  const cols = lax.iota('i32', x.shape, r - 1);
  // lower: keep j <= i + k; upper: keep j >= i + k.
  const shifted = k === 0 ? rows : lax.binary(Op.Add, rows, lax.constant('i32', x.shape, k));
  const keep = lax.compare(lower ? 'LE' : 'GE', cols, shifted);
  return lax.select(keep, x, lax.constant(x.dtype, x.shape, 0));
}

/** The n x n identity, broadcast to `batch`. */
export function eye(dtype: SupportedDType, batch: readonly number[], n: number): KArray {
  const shape = [...batch, n, n];
  const r = shape.length;
  return lax.convert(lax.compare('EQ', lax.iota('i32', shape, r - 2), lax.iota('i32', shape, r - 1)), dtype);
}

/** Batched matrix product over the last two axes (equal batch dimensions). */
export function bmm(x: KArray, y: KArray): KArray {
  const nb = x.ndim - 2;
  const batch = Array.from({ length: nb }, (_, i) => i);
  return lax.dotGeneral(x, y, { lhsBatch: batch, rhsBatch: batch, lhsContract: [nb + 1], rhsContract: [nb] });
}

/** `where(ok, x, NaN)` with `ok` (i1, the batch shape) broadcast over each matrix, as JAX does with `info`. */
export function nanUnless(ok: KArray, x: KArray): KArray {
  const nb = ok.ndim;
  const mask = lax.broadcastInDim(ok, x.shape, Array.from({ length: nb }, (_, i) => i));
  return lax.select(mask, x, lax.constant(x.dtype, x.shape, NaN));
}

/** potrf: [the factor in the `lower` (or upper) triangle, the other triangle as given; info]. */
export function potrf(a: KArray, lower: boolean): [KArray, KArray] {
  const [f, info] = customCall('lapack_spotrf_ffi', { kind: 'potrf', lower }, [a]);
  return [f, info];
}

/** getrf: [L and U packed, 1-based pivots, info]. */
export function getrf(a: KArray): [KArray, KArray, KArray] {
  const [lu, piv, info] = customCall('lapack_sgetrf_ffi', { kind: 'getrf' }, [a]);
  return [lu, piv, info];
}

/** 0-based pivots to the row permutation of `m` rows (jaxlib's kernel; JAX's CPU lowering loops instead). */
export function pivotsToPermutation(pivots: KArray, m: number): KArray {
  const shape = [...pivots.shape.slice(0, -1), m];
  return customCall('cu_lu_pivots_to_permutation', { kind: 'pivotsToPermutation' }, [pivots], [{ dtype: 'i32', shape }])[0];
}

/** How a triangular solve reads its matrix. */
export interface SolveSpec { leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: TransposeA }

/** trsm: X with op(A) X = B (left side) or X op(A) = B. */
export function trsm(a: KArray, b: KArray, s: SolveSpec): KArray {
  return customCall('lapack_strsm_ffi', { kind: 'trsm', ...s }, [a, b])[0];
}
