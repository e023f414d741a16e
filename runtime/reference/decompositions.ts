/**
 * @file The orthogonal decompositions behind JAX's `qr`, `eigh` and `svd`, as the LAPACK and
 * cuSOLVER routines its CPU and GPU lowerings call compute them: `geqrf` (Householder QR, packed),
 * `orgqr` (Q from the reflectors), `syevd` (symmetric eigendecomposition) and `gesdd`/`gesvd`/
 * `gesvdj` (singular value decomposition). Each works on one row-major matrix in f64 (the caller
 * rounds to f32), so that it is the oracle the WGSL kernels are checked against.
 *
 * Where JAX's outputs depend on LAPACK's conventions they are followed exactly: `geqrf`'s
 * reflectors are slarfg's (beta = -sign(alpha)·‖(alpha, x)‖, tau = (beta - alpha)/beta, v scaled
 * so that v[0] = 1, tau = 0 where x is already zero), so Q and R have LAPACK's signs. Eigenvalues
 * come out ascending and singular values descending, as LAPACK returns them. Eigenvectors and
 * singular vectors are defined only up to the sign of each column (LAPACK's sign falls out of its
 * algorithm); here a column's largest-magnitude entry is made positive (the first of equals), a
 * documented choice that the WGSL kernels share, so reference and GPU agree with each other.
 *
 * {@link decompositionCall} runs the custom calls of ir/custom-calls.ts that use them, batched over
 * the leading dimensions, each result rounded once to f32.
 */
import type { LinalgCall } from '../../ir/custom-calls.js';
import type { Op } from '../../ir/ops.js';
import type { Operation } from '../../ir/types.js';
import { hostTensor, narrowData, type HostTensor } from '../tensor.js';

/** Sign with Fortran's SIGN(1, x) convention: -0 counts as negative, as gfortran's LAPACK does. */
function signOf(x: number): number {
  return x < 0 || Object.is(x, -0) ? -1 : 1;
}

/**
 * LAPACK's `geqrf` on the m×n row-major matrix `a`, in place: R in and above the diagonal, the
 * reflectors' vectors (without their implicit leading 1) below it. Returns the min(m, n) taus.
 * Reflector j is H_j = I - tau_j v_j v_jᵀ, and A = H_0 H_1 ... H_{k-1} R.
 */
export function geqrf(a: Float64Array, m: number, n: number): Float64Array {
  const k = Math.min(m, n);
  const tau = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const alpha = a[j * n + j];
    let xnorm2 = 0;
    for (let i = j + 1; i < m; i++) xnorm2 += a[i * n + j] ** 2;
    // slarfg: no reflection (tau = 0) where the column below the diagonal is already zero.
    if (xnorm2 === 0) continue;
    const beta = -signOf(alpha) * Math.hypot(alpha, Math.sqrt(xnorm2));
    tau[j] = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < m; i++) a[i * n + j] *= scale;
    a[j * n + j] = beta;
    // Apply H_j to the trailing columns: A[j:, c] -= tau v (vᵀ A[j:, c]).
    for (let c = j + 1; c < n; c++) {
      let w = a[j * n + c];
      for (let i = j + 1; i < m; i++) w += a[i * n + j] * a[i * n + c];
      w *= tau[j];
      a[j * n + c] -= w;
      for (let i = j + 1; i < m; i++) a[i * n + c] -= w * a[i * n + j];
    }
  }
  return tau;
}

/**
 * LAPACK's `orgqr` (JAX's `householder_product`) on the m×n row-major `a` (m >= n) holding
 * reflectors below its diagonal, in place: the first n columns of H_0 H_1 ... H_{k-1}, k the
 * length of `tau`. As `sorg2r` does, columns past k start as the identity's and reflectors are
 * applied last to first.
 */
export function orgqr(a: Float64Array, m: number, n: number, tau: ArrayLike<number>): void {
  const k = tau.length;
  for (let j = k; j < n; j++) for (let i = 0; i < m; i++) a[i * n + j] = i === j ? 1 : 0;
  for (let i = k - 1; i >= 0; i--) {
    const t = tau[i];
    if (i < n - 1) {
      a[i * n + i] = 1;
      for (let c = i + 1; c < n; c++) {
        let w = 0;
        for (let r = i; r < m; r++) w += a[r * n + i] * a[r * n + c];
        w *= t;
        for (let r = i; r < m; r++) a[r * n + c] -= w * a[r * n + i];
      }
    }
    for (let r = i + 1; r < m; r++) a[r * n + i] *= -t;
    a[i * n + i] = 1 - t;
    for (let r = 0; r < i; r++) a[r * n + i] = 0;
  }
}

/** Most sweeps before a Jacobi method reports failure (f64 converges in well under 20). */
export const MAX_SWEEPS = 60;

/** Flips column `j` of the r×c row-major `v` (and of `w` likewise) so its largest entry is positive. */
function normalizeColumnSign(v: Float64Array, r: number, c: number, j: number, w?: Float64Array, wr = 0, wc = 0): void {
  let best = 0;
  let at = 0;
  for (let i = 0; i < r; i++) {
    const x = Math.abs(v[i * c + j]);
    if (x > best) { best = x; at = i; }
  }
  if (v[at * c + j] >= 0) return;
  for (let i = 0; i < r; i++) v[i * c + j] = -v[i * c + j];
  if (w) for (let i = 0; i < wr; i++) w[i * wc + j] = -w[i * wc + j];
}

/** What `syevd` returns: eigenvectors (columns of n×n `v`), ascending eigenvalues `w`, LAPACK's info. */
export interface Eigh {
  v: Float64Array;
  w: Float64Array;
  info: number;
}

/**
 * The eigendecomposition of the symmetric n×n matrix whose `lower` (else upper) triangle is in
 * row-major `a` (the other triangle is not read, as LAPACK's uplo says), by cyclic Jacobi
 * rotations until the off-diagonal mass is below f64 rounding. A non-finite input gives NaN
 * everywhere; info is 1 only if the sweeps run out (it does not happen for finite input).
 */
export function syevd(a: ArrayLike<number>, n: number, lower: boolean): Eigh {
  const s = new Float64Array(n * n);
  let finite = true;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = lower ? a[i * n + j] : a[j * n + i];
      if (!Number.isFinite(x)) finite = false;
      s[i * n + j] = x;
      s[j * n + i] = x;
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  if (!finite) return { v: v.fill(NaN), w: new Float64Array(n).fill(NaN), info: 0 };
  let info = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n * n; i++) total += s[i] * s[i];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += s[i * n + j] ** 2;
    if (off <= Number.EPSILON ** 2 * total) { info = 0; break; }
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = s[p * n + q];
        if (apq === 0) continue;
        const theta = (s[q * n + q] - s[p * n + p]) / (2 * apq);
        const t = signOf(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        // A <- Jᵀ A J with J the rotation in the (p, q) plane; V <- V J.
        for (let k = 0; k < n; k++) {
          const akp = s[k * n + p];
          const akq = s[k * n + q];
          s[k * n + p] = c * akp - sn * akq;
          s[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = s[p * n + k];
          const aqk = s[q * n + k];
          s[p * n + k] = c * apk - sn * aqk;
          s[q * n + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - sn * vkq;
          v[k * n + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const order = [...Array(n).keys()].sort((x, y) => s[x * n + x] - s[y * n + y] || x - y);
  const w = new Float64Array(n);
  const out = new Float64Array(n * n);
  order.forEach((from, j) => {
    w[j] = s[from * n + from];
    for (let i = 0; i < n; i++) out[i * n + j] = v[i * n + from];
  });
  for (let j = 0; j < n; j++) normalizeColumnSign(out, n, n, j);
  return { v: out, w, info };
}

/** What an SVD returns: descending `s`, `u` (m×uCols), `vt` (vtRows×n), LAPACK's info. */
export interface Svd {
  s: Float64Array;
  u: Float64Array;
  vt: Float64Array;
  info: number;
}

/**
 * Extends the orthonormal columns `have` of the r×c row-major `q` to an orthonormal basis by
 * Gram-Schmidt (twice, for orthogonality to rounding) on the identity's columns, best first.
 */
function completeBasis(q: Float64Array, r: number, c: number, have: readonly boolean[]): void {
  const done = [...have];
  for (let j = 0; j < c; j++) {
    if (done[j]) continue;
    let best: Float64Array | undefined;
    let bestNorm = -1;
    for (let e = 0; e < r; e++) {
      const x = new Float64Array(r);
      x[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < c; k++) {
          if (!done[k]) continue;
          let d = 0;
          for (let i = 0; i < r; i++) d += q[i * c + k] * x[i];
          for (let i = 0; i < r; i++) x[i] -= d * q[i * c + k];
        }
      }
      const nrm = Math.hypot(...x);
      if (nrm > bestNorm + 1e-12) { bestNorm = nrm; best = x; }
    }
    for (let i = 0; i < r; i++) q[i * c + j] = best![i] / bestNorm;
    done[j] = true;
  }
}

/**
 * One-sided (Hestenes) Jacobi SVD of the m×n row-major `a` with m >= n: rotates column pairs of
 * a working copy until every pair is orthogonal to f64 rounding; the column norms are the
 * singular values and V accumulates the rotations.
 */
function jacobiTall(a: ArrayLike<number>, m: number, n: number): { u: Float64Array; s: Float64Array; v: Float64Array; info: number } {
  const u = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let info = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const up = u[i * n + p];
          const uq = u[i * n + q];
          alpha += up * up;
          beta += uq * uq;
          gamma += up * uq;
        }
        if (gamma === 0 || Math.abs(gamma) <= Number.EPSILON * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = signOf(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = c * t;
        for (let i = 0; i < m; i++) {
          const up = u[i * n + p];
          const uq = u[i * n + q];
          u[i * n + p] = c * up - sn * uq;
          u[i * n + q] = sn * up + c * uq;
        }
        for (let i = 0; i < n; i++) {
          const vp = v[i * n + p];
          const vq = v[i * n + q];
          v[i * n + p] = c * vp - sn * vq;
          v[i * n + q] = sn * vp + c * vq;
        }
      }
    }
    if (!rotated) { info = 0; break; }
  }
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let t = 0;
    for (let i = 0; i < m; i++) t += u[i * n + j] ** 2;
    s[j] = Math.sqrt(t);
  }
  return { u, s, v, info };
}

/**
 * The SVD of the m×n row-major `a` as LAPACK's gesdd/gesvd and cuSOLVER's gesvdj return it:
 * k = min(m, n) singular values, descending; with `computeUv`, U (m×m when `fullMatrices`, else
 * m×k) and Vᵀ (n×n, else k×n). Without `computeUv` U and Vᵀ are zeros of those shapes (the
 * custom calls still have the results; JAX never reads them). A non-finite input gives NaN.
 */
export function svd(a: ArrayLike<number>, m: number, n: number, computeUv: boolean, fullMatrices: boolean): Svd {
  const k = Math.min(m, n);
  const uCols = fullMatrices ? m : k;
  const vtRows = fullMatrices ? n : k;
  const out: Svd = { s: new Float64Array(k), u: new Float64Array(m * uCols), vt: new Float64Array(vtRows * n), info: 0 };
  for (let i = 0; i < m * n; i++) {
    if (!Number.isFinite(a[i])) {
      out.s.fill(NaN);
      if (computeUv) { out.u.fill(NaN); out.vt.fill(NaN); }
      return out;
    }
  }
  // A = U S Vᵀ; for a wide A decompose Aᵀ = V S Uᵀ instead, so the working matrix is tall.
  const wide = m < n;
  const [r, c] = wide ? [n, m] : [m, n];
  const work = new Float64Array(r * c);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) work[wide ? j * m + i : i * n + j] = a[i * n + j];
  const { u: tu, s: ts, v: tv, info } = jacobiTall(work, r, c);
  out.info = info;
  const order = [...Array(k).keys()].sort((x, y) => ts[y] - ts[x] || x - y);
  order.forEach((from, j) => { out.s[j] = ts[from]; });
  if (!computeUv) return out;

  // Left vectors of the tall problem (r×r or r×k) and right ones (k×k), columns in sorted order.
  const lCols = fullMatrices ? r : k;
  const left = new Float64Array(r * lCols);
  const right = new Float64Array(c * c);
  const have: boolean[] = new Array(lCols).fill(false);
  const tol = (out.s[0] || 0) * Math.max(m, n) * Number.EPSILON;
  order.forEach((from, j) => {
    for (let i = 0; i < c; i++) right[i * c + j] = tv[i * c + from];
    const sj = ts[from];
    if (sj > tol) {
      for (let i = 0; i < r; i++) left[i * lCols + j] = tu[i * c + from] / sj;
      have[j] = true;
    }
  });
  // Columns for zero singular values and, with full matrices, the rest of the basis.
  completeBasis(left, r, lCols, have);
  for (let j = 0; j < k; j++) normalizeColumnSign(left, r, lCols, j, right, c, c);

  // Back to A's orientation: U is `left` (tall) or `right` (wide); Vᵀ the transpose of the other.
  const [uSrc, uSrcCols, vSrc, vSrcCols] = wide ? [right, c, left, lCols] : [left, lCols, right, c];
  for (let i = 0; i < m; i++) for (let j = 0; j < uCols; j++) out.u[i * uCols + j] = uSrc[i * uSrcCols + j];
  for (let i = 0; i < vtRows; i++) for (let j = 0; j < n; j++) out.vt[i * n + j] = vSrc[j * vSrcCols + i];
  return out;
}

/** The kinds of custom call {@link decompositionCall} runs. */
export type DecompositionKind = 'geqrf' | 'orgqr' | 'syevd' | 'svd';

/** The trailing two dimensions of a tensor and how many matrices it holds. */
function matrices(t: HostTensor): { count: number; m: number; n: number } {
  const r = t.shape.length;
  const m = t.shape[r - 2];
  const n = t.shape[r - 1];
  return { count: t.shape.slice(0, -2).reduce((a, b) => a * b, 1), m, n };
}

/**
 * A geqrf, orgqr, syevd or SVD custom call on its operands, batched over the leading
 * dimensions; results in the op's result order and types.
 */
export function decompositionCall(o: Operation<Op.CustomCall>, args: readonly HostTensor[], call: Extract<LinalgCall, { kind: DecompositionKind }>): HostTensor[] {
  const types = o.results.map((r) => r.type);
  const a = narrowData(args[0]);
  const { count, m, n } = matrices(args[0]);
  const out = types.map((t) => hostTensor(t.dtype as 'f32' | 'i32', t.shape));
  const put = (i: number, q: number, values: ArrayLike<number>) => {
    const d = out[i].data as Float32Array | Int32Array;
    d.set(values, q * values.length);
  };
  for (let q = 0; q < count; q++) {
    const mat = a.subarray(q * m * n, (q + 1) * m * n);
    switch (call.kind) {
      case 'geqrf': {
        const w = Float64Array.from(mat);
        const tau = geqrf(w, m, n);
        put(0, q, w);
        put(1, q, tau);
        break;
      }
      case 'orgqr': {
        const taus = narrowData(args[1]);
        const k = args[1].shape[args[1].shape.length - 1];
        const w = Float64Array.from(mat);
        orgqr(w, m, n, taus.subarray(q * k, (q + 1) * k));
        put(0, q, w);
        break;
      }
      case 'syevd': {
        const { v, w, info } = syevd(mat, n, call.lower);
        put(0, q, v);
        put(1, q, w);
        put(2, q, [info]);
        break;
      }
      case 'svd': {
        // Shapes from the result types: LAPACK's mode 'N' leaves full_matrices to them.
        const u = types[2].shape;
        const v = types[3].shape;
        const full = u[u.length - 1] === m && (call.vNotVt ? v[v.length - 1] : v[v.length - 2]) === n;
        const r = svd(mat, m, n, call.computeUv, full);
        put(0, q, mat);
        put(1, q, r.s);
        put(2, q, r.u);
        // gesvdj's fourth result is V: the transpose of Vᵀ.
        const rows = r.vt.length / n;
        put(3, q, call.vNotVt ? transposed(r.vt, rows, n) : r.vt);
        put(4, q, [r.info]);
        break;
      }
      default:
        return call satisfies never;
    }
  }
  return out;
}

function transposed(a: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}
