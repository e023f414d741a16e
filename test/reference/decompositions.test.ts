/**
 * @file The f64 decompositions of runtime/reference/decompositions.ts against JAX's own outputs
 * (the qr/eigh/svd fixtures of JAX 0.11.2, which call LAPACK) and against properties checked by
 * plain f64 loops written here: Q·R, V·diag(w)·Vᵀ and U·diag(s)·Vᵀ rebuild the input, the factors
 * are orthonormal. Eigenvectors and singular vectors are defined only up to the sign of each
 * column, so they are compared with JAX's up to a per-column sign; values and reconstructions
 * are compared exactly (within f32 tolerance).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { geqrf, orgqr, svd, syevd } from '../../runtime/reference/decompositions.js';

const DIR = join(import.meta.dirname, '../fixtures/jax-programs');
const fixture = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as {
  inputs: { shape: number[]; data: number[] }[];
  outputs: { shape: number[]; data: number[] }[];
};

/** Row-major r×k times k×c. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) {
    let t = 0;
    for (let l = 0; l < k; l++) t += a[i * k + l] * b[l * c + j];
    out[i * c + j] = t;
  }
  return out;
}

function transpose(a: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i])));
  }
}

/** Columns of QᵀQ (c×c) are the identity's. */
function expectOrthonormalColumns(q: ArrayLike<number>, r: number, c: number, what: string): void {
  const eye = new Float64Array(c * c);
  for (let i = 0; i < c; i++) eye[i * c + i] = 1;
  expectClose(matmul(transpose(q, r, c), q, c, r, c), eye, 1e-12, `${what}ᵀ${what}`);
}

/** Column j of `got` equals column j of `want` or its negation. */
function expectEqualUpToColumnSign(got: ArrayLike<number>, want: ArrayLike<number>, r: number, c: number, tol: number): void {
  for (let j = 0; j < c; j++) {
    let dot = 0;
    for (let i = 0; i < r; i++) dot += got[i * c + j] * want[i * c + j];
    const s = dot < 0 ? -1 : 1;
    for (let i = 0; i < r; i++) {
      expect(Math.abs(s * got[i * c + j] - want[i * c + j]), `column ${j} row ${i}`).toBeLessThanOrEqual(tol);
    }
  }
}

/** A deterministic pseudo-random m×n matrix in [-1, 1). */
function matrix(m: number, n: number, seed: number): Float64Array {
  let x = seed;
  return Float64Array.from({ length: m * n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648) * 2 - 1;
  });
}

describe('geqrf and orgqr (LAPACK conventions)', () => {
  it('reproduce JAX qr (5×3, reduced) exactly, signs included', () => {
    const f = fixture('qr');
    const a = Float64Array.from(f.inputs[0].data);
    const tau = geqrf(a, 5, 3);
    const r = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = i; j < 3; j++) r[i * 3 + j] = a[i * 3 + j];
    orgqr(a, 5, 3, tau);
    expectClose(a, f.outputs[0].data, 2e-6, 'Q');
    expectClose(r, f.outputs[1].data, 2e-6, 'R');
  });

  it('the taus follow slarfg: beta = -sign(alpha)·norm, tau in [1, 2], tau 0 for a zero column', () => {
    // Column 0 is (3, 4): alpha = 3 > 0, so beta = -5 and tau = (beta - alpha)/beta = 8/5.
    const a = Float64Array.from([3, 1, 4, 2]);
    const tau = geqrf(a, 2, 2);
    expect(a[0]).toBeCloseTo(-5, 14);
    expect(tau[0]).toBeCloseTo(1.6, 14);
    expect(a[2]).toBeCloseTo(4 / (3 + 5), 14); // v[1] = x / (alpha - beta)
    // Already upper triangular: no reflection (H = I), so R keeps a negative diagonal.
    const b = Float64Array.from([-2, 1, 0, 3]);
    expect([...geqrf(b, 2, 2)]).toEqual([0, 0]);
    expect([...b]).toEqual([-2, 1, 0, 3]);
  });

  for (const [m, n] of [[4, 4], [6, 3], [3, 5], [1, 1]] as const) {
    it(`Q·R rebuilds a ${m}×${n} matrix; full Q (${m}×${m}) is orthogonal`, () => {
      const x = matrix(m, n, 7 + m * n);
      const a = Float64Array.from(x);
      const tau = geqrf(a, m, n);
      const k = Math.min(m, n);
      // The full m×m Q: pad the reflectors with zero columns, as JAX's qr(full_matrices=True) does.
      const q = new Float64Array(m * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) if (i > j) q[i * m + j] = a[i * n + j];
      orgqr(q, m, m, tau);
      expectOrthonormalColumns(q, m, m, 'Q');
      const r = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = i; j < n; j++) r[i * n + j] = a[i * n + j];
      expectClose(matmul(q, r, m, m, n), x, 1e-13, 'QR');
    });
  }
});

describe('syevd (ascending eigenvalues)', () => {
  it('matches JAX eigh on its 4×4 fixture: eigenvalues exactly, eigenvectors up to column sign', () => {
    const f = fixture('eigh');
    const x = f.inputs[0].data;
    // JAX symmetrizes (x + xᵀ)/2 first; the fixture's input is symmetric already.
    const { v, w, info } = syevd(x, 4, true);
    expect(info).toBe(0);
    expectClose(w, f.outputs[0].data, 2e-6, 'w');
    expectEqualUpToColumnSign(v, f.outputs[1].data, 4, 4, 2e-6);
  });

  it('reads only the triangle uplo names', () => {
    const lower = [2, 99, 1, 3]; // the 99 is above the diagonal: ignored with lower = true
    const upper = [2, 1, 99, 3];
    const a = syevd(lower, 2, true);
    const b = syevd(upper, 2, false);
    expect([...a.w]).toEqual([...b.w]);
    // [[2, 1], [1, 3]]: (5 ± sqrt(5)) / 2.
    expectClose(a.w, [(5 - Math.sqrt(5)) / 2, (5 + Math.sqrt(5)) / 2], 1e-15, 'w');
  });

  for (const n of [1, 3, 6, 9]) {
    it(`V·diag(w)·Vᵀ rebuilds a symmetric ${n}×${n} matrix; V is orthogonal`, () => {
      const x = matrix(n, n, 3 + n);
      const s = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = x[i * n + j] + x[j * n + i];
      const { v, w } = syevd(s, n, true);
      for (let i = 1; i < n; i++) expect(w[i]).toBeGreaterThanOrEqual(w[i - 1]);
      expectOrthonormalColumns(v, n, n, 'V');
      const vw = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vw[i * n + j] = v[i * n + j] * w[j];
      expectClose(matmul(vw, transpose(v, n, n), n, n, n), s, 1e-13, 'VWVᵀ');
    });
  }

  it('repeated eigenvalues: the identity times 2 has w = [2, 2, 2] and an orthogonal V', () => {
    const { v, w } = syevd([2, 0, 0, 0, 2, 0, 0, 0, 2], 3, true);
    expect([...w]).toEqual([2, 2, 2]);
    expectOrthonormalColumns(v, 3, 3, 'V');
  });

  it('a NaN input gives NaN eigenvalues and vectors', () => {
    const { v, w } = syevd([1, NaN, NaN, 1], 2, true);
    expect([...w].every(Number.isNaN)).toBe(true);
    expect([...v].every(Number.isNaN)).toBe(true);
  });
});

describe('svd (descending singular values)', () => {
  it('matches JAX svdvals on its 5×3 fixture', () => {
    const f = fixture('svd');
    const { s, info } = svd(f.inputs[0].data, 5, 3, false, true);
    expect(info).toBe(0);
    expectClose(s, f.outputs[0].data, 2e-6, 's');
  });

  for (const [m, n, full] of [[5, 3, true], [5, 3, false], [3, 5, true], [3, 5, false], [4, 4, true], [1, 3, true]] as const) {
    it(`U·diag(s)·Vᵀ rebuilds a ${m}×${n} matrix (full_matrices=${full}); U, V orthonormal`, () => {
      const x = matrix(m, n, 11 + m + 2 * n);
      const k = Math.min(m, n);
      const { s, u, vt } = svd(x, m, n, true, full);
      for (let i = 1; i < k; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
      const uc = full ? m : k;
      const vr = full ? n : k;
      expectOrthonormalColumns(u, m, uc, 'U');
      expectOrthonormalColumns(transpose(vt, vr, n), n, vr, 'V');
      const us = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * uc + j] * s[j];
      expectClose(matmul(us, vt.subarray(0, k * n), m, k, n), x, 1e-13, 'USVᵀ');
    });
  }

  it('a rank-1 matrix: one nonzero singular value and a complete orthonormal U', () => {
    // ones(3, 2) = sqrt(6) · (1,1,1)/sqrt(3) · (1,1)/sqrt(2).
    const { s, u } = svd([1, 1, 1, 1, 1, 1], 3, 2, true, true);
    expect(s[0]).toBeCloseTo(Math.sqrt(6), 14);
    expect(Math.abs(s[1])).toBeLessThan(1e-15);
    expectOrthonormalColumns(u, 3, 3, 'U');
  });
});
