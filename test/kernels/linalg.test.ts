/**
 * @file The linear-algebra ops on the reference interpreter (hand-derived values and float64
 * identities computed here, independently of kiln: L L^T = A, P A = L U, op(A) X = B) and on
 * WebGPU against the reference: potrf (both triangles, info on a matrix that is not positive
 * definite), stablehlo.cholesky, getrf (square, tall, wide, singular, batched), trsm and
 * stablehlo.triangular_solve over side x triangle x transpose x unit diagonal, and pivots to
 * permutation.
 */
import { describe, expect, it } from 'vitest';
import { customCallAttrs, type LinalgCall } from '../../ir/custom-calls.js';
import { Op, type TransposeA } from '../../ir/ops.js';
import type { TensorType } from '../../ir/types.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { narrowData, type HostTensor } from '../../runtime/tensor.js';
import { moduleOf, op, rng, t, tensor } from './build.js';
import { expectClose, expectMatchesReference } from './check.js';

function call(target: string, c: LinalgCall, ins: TensorType[], outs: TensorType[]) {
  return op(Op.CustomCall, ins, outs, customCallAttrs(target, c, ins, outs));
}
const potrf = (shape: number[], lower = true) =>
  call('lapack_spotrf_ffi', { kind: 'potrf', lower }, [t('f32', shape)], [t('f32', shape), t('i32', shape.slice(0, -2))]);
function getrf(shape: number[]) {
  const [m, n] = shape.slice(-2);
  const batch = shape.slice(0, -2);
  return call('lapack_sgetrf_ffi', { kind: 'getrf' }, [t('f32', shape)], [t('f32', shape), t('i32', [...batch, Math.min(m, n)]), t('i32', batch)]);
}
const ref = (o: Parameters<typeof moduleOf>[0], ins: HostTensor[]) => interpret(moduleOf(o), ins).map((x) => Array.from(narrowData(x)));
const mat = (shape: number[], data: number[]) => tensor(t('f32', shape), (i) => data[i]);

/** A symmetric positive definite n x n matrix (B B^T + n I), row-major, in float64. */
function spd(n: number, r: () => number): number[] {
  const b = Array.from({ length: n * n }, () => r() * 2 - 1);
  const a: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? n : 0;
    for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
    a.push(s);
  }
  return a;
}

describe('linear algebra on the reference interpreter', () => {
  it('potrf: hand-derived factors, the other triangle untouched, info at the first bad minor', () => {
    // [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]].
    // Lower reads the lower triangle (2) and leaves the 9 above it; upper reads the upper one.
    const [l, info] = ref(potrf([2, 2]), [mat([2, 2], [4, 9, 2, 3])]);
    expectClose(mat([2, 2], l), [2, 9, 1, Math.SQRT2], 1e-6);
    expect(info).toEqual([0]);
    const [u] = ref(potrf([2, 2], false), [mat([2, 2], [4, 2, 9, 3])]);
    expectClose(mat([2, 2], u), [2, 1, 9, Math.SQRT2], 1e-6);
    // [[1, 2], [2, 1]]: the second pivot is 1 - 4 = -3, so info = 2 (LAPACK leaves -3 there).
    const [bad, badInfo] = ref(potrf([2, 2]), [mat([2, 2], [1, 2, 2, 1])]);
    expect(bad).toEqual([1, 2, 2, -3]);
    expect(badInfo).toEqual([2]);
  });

  it('potrf and cholesky: L L^T = A on random batched matrices', () => {
    const r = rng(7);
    const n = 5;
    const a = [...spd(n, r), ...spd(n, r)];
    const [l] = ref(potrf([2, n, n]), [mat([2, n, n], a)]);
    const [c] = ref(op(Op.Cholesky, [t('f32', [2, n, n])], [t('f32', [2, n, n])], { lower: true }), [mat([2, n, n], a)]);
    for (let q = 0; q < 2; q++) {
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += l[q * 25 + i * n + k] * l[q * 25 + j * n + k];
        expect(Math.abs(s - a[q * 25 + i * n + j])).toBeLessThan(1e-4 * Math.abs(a[q * 25 + i * n + j]) + 1e-4);
      }
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        // stablehlo.cholesky: the same factor, zeros above the diagonal.
        expect(c[q * 25 + i * n + j]).toBe(j > i ? 0 : l[q * 25 + i * n + j]);
      }
    }
  });

  it('getrf: hand-derived pivots and factors, info for an exact zero pivot', () => {
    // [[1, 2], [3, 4]]: row 2 is the pivot; l = 1/3, u22 = 2 - 4/3.
    const [lu, piv, info] = ref(getrf([2, 2]), [mat([2, 2], [1, 2, 3, 4])]);
    expectClose(mat([2, 2], lu), [3, 4, 1 / 3, 2 / 3], 1e-6);
    expect(piv).toEqual([2, 2]);
    expect(info).toEqual([0]);
    // Ties go to the first row of largest |a| (LAPACK's idamax): [[-2, 1], [2, 5]] keeps row 1.
    expect(ref(getrf([2, 2]), [mat([2, 2], [-2, 1, 2, 5])])[1]).toEqual([1, 2]);
    const [slu, spiv, sinfo] = ref(getrf([2, 2]), [mat([2, 2], [0, 0, 0, 1])]);
    expect(slu).toEqual([0, 0, 0, 1]);
    expect(spiv).toEqual([1, 2]);
    expect(sinfo).toEqual([1]);
  });

  it('getrf: P A = L U on tall, wide and batched matrices', () => {
    const r = rng(11);
    for (const [m, n] of [[4, 4], [5, 3], [3, 5]]) {
      const a = Array.from({ length: 2 * m * n }, () => r() * 8 - 4);
      const [lu, piv] = ref(getrf([2, m, n]), [mat([2, m, n], a)]);
      const k = Math.min(m, n);
      for (let q = 0; q < 2; q++) {
        const rows = Array.from({ length: m }, (_, i) => a.slice(q * m * n + i * n, q * m * n + (i + 1) * n));
        for (let j = 0; j < k; j++) { const p = piv[q * k + j] - 1; [rows[j], rows[p]] = [rows[p], rows[j]]; }
        for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) {
          let s = 0;
          for (let x = 0; x <= Math.min(i, c, k - 1); x++) s += (x === i ? 1 : lu[q * m * n + i * n + x]) * (x <= c ? lu[q * m * n + x * n + c] : 0);
          expect(Math.abs(s - rows[i][c]), `${m}x${n} [${q}, ${i}, ${c}]`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('trsm and triangular_solve: op(A) X = B for every side, triangle, transpose and diagonal', () => {
    const r = rng(3);
    const k = 4;
    const a = Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 2 + r() : r() - 0.5));
    for (const leftSide of [true, false]) for (const lower of [true, false]) for (const transposeA of ['NO_TRANSPOSE', 'TRANSPOSE'] as TransposeA[]) for (const unitDiagonal of [true, false]) {
      const bShape = leftSide ? [k, 3] : [3, k];
      const b = Array.from({ length: 3 * k }, () => r() * 4 - 2);
      const spec = { leftSide, lower, unitDiagonal, transposeA };
      const o = call('lapack_strsm_ffi', { kind: 'trsm', ...spec }, [t('f32', [k, k]), t('f32', bShape)], [t('f32', bShape)]);
      const [x] = ref(o, [mat([k, k], a), mat(bShape, b)]);
      const [y] = ref(op(Op.TriangularSolve, [t('f32', [k, k]), t('f32', bShape)], [t('f32', bShape)], spec), [mat([k, k], a), mat(bShape, b)]);
      expect(y).toEqual(x);
      // The triangular matrix kiln should have used, built here: the triangle, the diagonal, op().
      const tri = (i: number, j: number) => (i === j ? (unitDiagonal ? 1 : a[i * k + j]) : (lower ? i > j : i < j) ? a[i * k + j] : 0);
      const opA = (i: number, j: number) => (transposeA === 'NO_TRANSPOSE' ? tri(i, j) : tri(j, i));
      const [rows, cols] = bShape;
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let z = 0; z < k; z++) s += leftSide ? opA(i, z) * x[z * cols + j] : x[i * cols + z] * opA(z, j);
        expect(Math.abs(s - b[i * cols + j]), JSON.stringify(spec)).toBeLessThan(1e-5);
      }
    }
  });

  it('pivots to permutation: swaps applied in order, batched', () => {
    const o = call('cu_lu_pivots_to_permutation', { kind: 'pivotsToPermutation' }, [t('i32', [2, 3])], [t('i32', [2, 4])]);
    // [2, 2, 3]: swap 0<->2 gives 2 1 0 3, swap 1<->2 gives 2 0 1 3, swap 2<->3 gives 2 0 3 1.
    const [perm] = ref(o, [tensor(t('i32', [2, 3]), (i) => [2, 2, 3, 0, 1, 2][i])]);
    expect(perm).toEqual([2, 0, 3, 1, 0, 1, 2, 3]);
  });
});

describe('linear algebra on WebGPU matches the reference', () => {
  it('potrf (lower, upper, not positive definite) and stablehlo.cholesky, batched', async () => {
    const r = rng(5);
    const n = 5;
    const a = mat([3, n, n], [...spd(n, r), ...spd(n, r), ...Array.from({ length: n * n }, () => r() - 0.5)]);
    await expectMatchesReference(potrf([3, n, n]), [a], 1e-4, 1e-4);
    await expectMatchesReference(potrf([3, n, n], false), [a], 1e-4, 1e-4);
    await expectMatchesReference(op(Op.Cholesky, [t('f32', [2, n, n])], [t('f32', [2, n, n])], { lower: false }), [mat([2, n, n], [...spd(n, r), ...spd(n, r)])], 1e-4, 1e-4);
  });

  it('getrf: square, tall, wide, singular', async () => {
    const r = rng(9);
    for (const [m, n] of [[5, 5], [6, 3], [3, 6]]) {
      await expectMatchesReference(getrf([2, m, n]), [tensor(t('f32', [2, m, n]), () => Math.floor(r() * 64 - 32) / 8)], 1e-4, 1e-4);
    }
    await expectMatchesReference(getrf([3, 3]), [mat([3, 3], [0, 0, 1, 0, 0, 2, 1, 2, 3])]);
  });

  it('trsm, triangular_solve and pivots to permutation', async () => {
    const r = rng(13);
    const k = 4;
    const a = mat([2, k, k], Array.from({ length: 2 * k * k }, (_, i) => (i % (k + 1) === 0 ? 2 + r() : r() - 0.5)));
    for (const leftSide of [true, false]) for (const [lower, transposeA, unitDiagonal] of [[true, 'NO_TRANSPOSE', false], [false, 'TRANSPOSE', true], [false, 'ADJOINT', false]] as const) {
      const bShape = leftSide ? [2, k, 3] : [2, 3, k];
      const spec = { leftSide, lower, unitDiagonal, transposeA };
      const b = tensor(t('f32', bShape), () => r() * 4 - 2);
      await expectMatchesReference(call('lapack_strsm_ffi', { kind: 'trsm', ...spec }, [t('f32', [2, k, k]), t('f32', bShape)], [t('f32', bShape)]), [a, b], 1e-4, 1e-4);
      await expectMatchesReference(op(Op.TriangularSolve, [t('f32', [2, k, k]), t('f32', bShape)], [t('f32', bShape)], spec), [a, b], 1e-4, 1e-4);
    }
    const o = call('cu_lu_pivots_to_permutation', { kind: 'pivotsToPermutation' }, [t('i32', [2, 3])], [t('i32', [2, 4])]);
    await expectMatchesReference(o, [tensor(t('i32', [2, 3]), (i) => [2, 2, 3, 0, 1, 7][i])]);
  });
});
