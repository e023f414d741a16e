/**
 * @file The reference semantics of the linear-algebra ops: `stablehlo.cholesky`,
 * `stablehlo.triangular_solve` and the LAPACK / cuSOLVER custom calls of ir/custom-calls.ts
 * (potrf, getrf, trsm, pivots to permutation). Each matrix is computed in float64 and rounded
 * once to the result type, batched over the leading dimensions. The algorithms are LAPACK's
 * unblocked ones (dpotf2, dgetf2, dtrsm), so that the choices that are not a matter of rounding
 * match it exactly: the pivot row (the first of largest |a|, as idamax picks it, so a NaN in the
 * diagonal position stays the pivot), `info`, and which triangle is read and which is left as is.
 */
import type { LinalgCall, TransposeA } from '../../ir/custom-calls.js';
import type { Op } from '../../ir/ops.js';
import type { Operation } from '../../ir/types.js';
import { hostTensor, narrowData, type HostTensor } from '../tensor.js';
import { decompositionCall } from './decompositions.js';

/** A batch of row-major float64 matrices read from a tensor of shape [...batch, m, n]. */
interface Batch { count: number; m: number; n: number; data: Float64Array }

function readBatch(t: HostTensor): Batch {
  const r = t.shape.length;
  const m = t.shape[r - 2];
  const n = t.shape[r - 1];
  return { count: m * n === 0 ? 0 : narrowData(t).length / (m * n), m, n, data: Float64Array.from(narrowData(t)) };
}

const batchShape = (t: HostTensor, trailing: number) => t.shape.slice(0, t.shape.length - trailing);

/**
 * Cholesky of each matrix in place (LAPACK dpotf2): the `lower` triangle becomes L (A = L L^T) or
 * U (A = U^T U), reading only that triangle; the other is left as it is. Stops at the first
 * leading minor that is not positive definite (a pivot <= 0 or NaN) and returns its 1-based order
 * as `info` (0 when it succeeds), as LAPACK does; the rest of that matrix is left partly factored.
 */
function potrfInPlace(a: Float64Array, off: number, n: number, lower: boolean): number {
  // at(i, j): element (i, j) of L, stored at (i, j) for lower and at (j, i) for upper.
  const idx = lower ? (i: number, j: number) => off + i * n + j : (i: number, j: number) => off + j * n + i;
  for (let j = 0; j < n; j++) {
    let d = a[idx(j, j)];
    for (let k = 0; k < j; k++) d -= a[idx(j, k)] * a[idx(j, k)];
    if (!(d > 0)) { a[idx(j, j)] = d; return j + 1; }
    const ljj = Math.sqrt(d);
    a[idx(j, j)] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[idx(i, j)];
      for (let k = 0; k < j; k++) s -= a[idx(i, k)] * a[idx(j, k)];
      a[idx(i, j)] = s / ljj;
    }
  }
  return 0;
}

/**
 * LU with partial pivoting of one m x n matrix in place (LAPACK dgetf2): at step j the pivot is
 * the first row i >= j of largest |a[i][j]|; rows are swapped whole; `piv[j]` is its 1-based row.
 * Returns `info`: 0, or j + 1 for the first exactly-zero pivot (the factorization still completes).
 */
function getrfInPlace(a: Float64Array, off: number, m: number, n: number, piv: Int32Array, pivOff: number): number {
  let info = 0;
  for (let j = 0; j < Math.min(m, n); j++) {
    let p = j;
    let best = Math.abs(a[off + j * n + j]);
    for (let i = j + 1; i < m; i++) {
      const v = Math.abs(a[off + i * n + j]);
      if (v > best) { best = v; p = i; }
    }
    piv[pivOff + j] = p + 1;
    const pivot = a[off + p * n + j];
    if (pivot !== 0) {
      if (p !== j) {
        for (let k = 0; k < n; k++) {
          const t = a[off + j * n + k];
          a[off + j * n + k] = a[off + p * n + k];
          a[off + p * n + k] = t;
        }
      }
      for (let i = j + 1; i < m; i++) a[off + i * n + j] /= pivot;
    } else if (info === 0) {
      info = j + 1;
    }
    for (let i = j + 1; i < m; i++) {
      const l = a[off + i * n + j];
      if (l === 0) continue;
      for (let k = j + 1; k < n; k++) a[off + i * n + k] -= l * a[off + j * n + k];
    }
  }
  return info;
}

/** How a triangular solve reads its matrix: which side, which triangle, unit diagonal, op(A). */
export interface TriangularSolveSpec { leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: TransposeA }

/**
 * Solves op(A) X = B (left side) or X op(A) = B for each matrix, reading only A's `lower` (or
 * upper) triangle, and its diagonal unless `unitDiagonal`. ADJOINT is TRANSPOSE on real values.
 */
function trsm(a: Batch, b: Batch, s: TriangularSolveSpec): Float64Array {
  const k = a.n;
  const x = Float64Array.from(b.data);
  const trans = s.transposeA !== 'NO_TRANSPOSE';
  for (let q = 0; q < b.count; q++) {
    const aOff = q * k * k;
    const bOff = q * b.m * b.n;
    // op(A)(i, j), and whether op(A) is lower triangular.
    const opA = (i: number, j: number) => (trans ? a.data[aOff + j * k + i] : a.data[aOff + i * k + j]);
    // X op(A) = B is op(A)^T X^T = B^T: a left solve with the other triangle of the transpose.
    const T = s.leftSide ? opA : (i: number, j: number) => opA(j, i);
    const lowerT = s.leftSide ? s.lower !== trans : s.lower === trans;
    // Right-hand sides: columns of B (left) or rows of B (right), each k long.
    const rhs = s.leftSide ? b.n : b.m;
    const at = s.leftSide ? (i: number, c: number) => bOff + i * b.n + c : (i: number, c: number) => bOff + c * b.n + i;
    for (let c = 0; c < rhs; c++) {
      for (let t = 0; t < k; t++) {
        const i = lowerT ? t : k - 1 - t;
        let v = x[at(i, c)];
        if (lowerT) for (let j = 0; j < i; j++) v -= T(i, j) * x[at(j, c)];
        else for (let j = i + 1; j < k; j++) v -= T(i, j) * x[at(j, c)];
        x[at(i, c)] = s.unitDiagonal ? v : v / T(i, i);
      }
    }
  }
  return x;
}

/**
 * `stablehlo.cholesky` (https://openxla.org/stablehlo/spec#cholesky): the factor in the `lower`
 * (or upper) triangle, zeros in the other. The spec leaves a matrix that is not positive definite
 * implementation-defined; like XLA, kiln keeps going, so the square root of a negative pivot
 * makes that entry and everything computed from it NaN.
 */
export function cholesky(x: HostTensor, lower: boolean): HostTensor {
  const a = readBatch(x);
  const n = a.n;
  const out = new Float64Array(a.data.length);
  for (let q = 0; q < a.count; q++) {
    const off = q * n * n;
    const at = (i: number, j: number) => off + (lower ? i * n + j : j * n + i);
    for (let j = 0; j < n; j++) {
      let d = a.data[at(j, j)];
      for (let k = 0; k < j; k++) d -= out[at(j, k)] * out[at(j, k)];
      const ljj = Math.sqrt(d);
      out[at(j, j)] = ljj;
      for (let i = j + 1; i < n; i++) {
        let s = a.data[at(i, j)];
        for (let k = 0; k < j; k++) s -= out[at(i, k)] * out[at(j, k)];
        out[at(i, j)] = s / ljj;
      }
    }
  }
  return hostTensor(x.dtype, x.shape, out);
}

/** `stablehlo.triangular_solve` (https://openxla.org/stablehlo/spec#triangular_solve). */
export function triangularSolve(a: HostTensor, b: HostTensor, s: TriangularSolveSpec): HostTensor {
  return hostTensor(b.dtype, b.shape, trsm(readBatch(a), readBatch(b), s));
}

/** A linear-algebra custom call on its operands; results in the op's result order. */
export function customCall(o: Operation<Op.CustomCall>, args: readonly HostTensor[]): HostTensor[] {
  const call: LinalgCall = o.attrs.call;
  switch (call.kind) {
    case 'potrf': {
      const a = readBatch(args[0]);
      const info = new Int32Array(a.count);
      for (let q = 0; q < a.count; q++) info[q] = potrfInPlace(a.data, q * a.n * a.n, a.n, call.lower);
      return [hostTensor(args[0].dtype, args[0].shape, a.data), hostTensor('i32', batchShape(args[0], 2), info)];
    }
    case 'getrf': {
      const a = readBatch(args[0]);
      const k = Math.min(a.m, a.n);
      const piv = new Int32Array(a.count * k);
      const info = new Int32Array(a.count);
      for (let q = 0; q < a.count; q++) info[q] = getrfInPlace(a.data, q * a.m * a.n, a.m, a.n, piv, q * k);
      const batch = batchShape(args[0], 2);
      return [hostTensor(args[0].dtype, args[0].shape, a.data), hostTensor('i32', [...batch, k], piv), hostTensor('i32', batch, info)];
    }
    case 'trsm':
      return [triangularSolve(args[0], args[1], call)];
    case 'pivotsToPermutation': {
      const pivots = narrowData(args[0]);
      const k = args[0].shape[args[0].shape.length - 1];
      const shape = o.results[0].type.shape;
      const m = shape[shape.length - 1];
      const count = k === 0 ? pivots.length : pivots.length / k;
      const perm = new Int32Array(count * m);
      for (let q = 0; q < count; q++) {
        const p = perm.subarray(q * m, (q + 1) * m);
        p.forEach((_, i) => { p[i] = i; });
        // Swap i with pivots[i] in order; a pivot outside [0, m) swaps nothing (as jaxlib's kernel).
        for (let i = 0; i < k; i++) {
          const j = pivots[q * k + i];
          if (j >= 0 && j < m) { const t = p[i]; p[i] = p[j]; p[j] = t; }
        }
      }
      return [hostTensor('i32', [...shape], perm)];
    }
    case 'geqrf': case 'orgqr': case 'syevd': case 'svd':
      return decompositionCall(o, args, call);
    default:
      return call satisfies never;
  }
}
