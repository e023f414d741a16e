/**
 * @file WGSL kernels for the orthogonal decompositions behind JAX's `qr`, `eigh` and `svd` (the
 * LAPACK/cuSOLVER custom calls `geqrf`, `orgqr`, `syevd`, `gesdd`/`gesvd`/`gesvdj`): one
 * workgroup per matrix of the batch, the matrix in global memory, phases separated by barriers.
 * Each follows runtime/reference/decompositions.ts, the f64 oracle it is tested against; f32 here.
 *
 * - geqrf: Householder QR with LAPACK's slarfg reflectors (beta = -sign(alpha)·norm, so Q and R
 *   have LAPACK's signs). Per column, one invocation forms the reflector (norm scaled by the
 *   column's largest entry, as slarfg's careful norm is) and all apply it, a column each.
 * - orgqr: Q from the reflectors, last to first, as sorg2r.
 * - syevd: parallel cyclic Jacobi: each round rotates n/2 disjoint (p, q) pairs in the
 *   round-robin order, all columns, then all rows, then sets each 2×2 block exactly
 *   (Rutishauser's a_pp - t·a_pq, a_qq + t·a_pq, 0). Sweeps stop when no off-diagonal entry is
 *   above 2^-24 of the matrix's Frobenius norm. Eigenvalues ascending.
 * - SVD: one-sided (Hestenes) Jacobi on the tall orientation (Aᵀ for a wide A): each round
 *   orthogonalizes n/2 disjoint column pairs, an invocation per pair; sweeps stop when every pair
 *   is orthogonal to 8·sqrt(rows)·2^-24. Singular values descending; left vectors of zero singular
 *   values and, with full matrices, the rest of the basis by Gram-Schmidt on the identity's
 *   columns (the one least in the span first), twice.
 *
 * The input is scaled by a power of two (exact) so that its largest entry is in [1, 2): squares
 * cannot overflow or underflow. A non-finite input gives NaN results, as the reference does. A
 * Jacobi solver that has not converged after its sweeps (it does not happen for finite input)
 * reports info = 1, and JAX's lowering then replaces the results by NaN. Vectors are defined up
 * to the sign of each column; both here and in the reference a column's largest-magnitude entry is
 * made positive (the first of equals).
 */
import type { LinalgCall } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import type { Operation } from '../../ir/types.js';
import type { BufferId, LowerContext } from '../program.js';
import { storageSize } from '../program.js';
import { useHelper } from '../codegen/helpers.js';
import { KernelBuilder } from './common.js';

/** Largest matrix dimension these kernels take (workgroup arrays of that length must fit). */
export const MAX_DECOMPOSITION_DIM = 512;

/** Sweeps before a Jacobi kernel gives up (f32 converges in well under 15). */
const MAX_SWEEPS = 30;

/** Threads of each matrix's workgroup. */
const threads = (ctx: LowerContext) => Math.min(64, ctx.target.maxWorkgroupSize);

function checkDims(o: Operation, dims: readonly number[]): void {
  const big = dims.find((d) => d > MAX_DECOMPOSITION_DIM);
  if (big !== undefined) {
    throw new UnsupportedOpError(
      `${o.op}: a ${dims.join('x')} matrix is larger than the ${MAX_DECOMPOSITION_DIM} rows or columns this kernel takes on WebGPU`,
      o.loc,
    );
  }
}

/** A quiet NaN (a constant bitcast to a non-finite f32 is a shader-creation error). */
const NAN = 'k_nan()';

/** Helpers every kernel here uses: non-finite test, power-of-two scale, a stable rotation root. */
function emitHelpers(kb: KernelBuilder): void {
  useHelper(kb.b, 'k_nan');
  kb.b.helper('nonfinite', `fn nonfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }`);
  // 2^-e for amax in [2^e, 2^(e+1)): ldexp is exact where exp2 need not be.
  kb.b.helper('pow2_scale', `fn pow2_scale(amax: f32) -> f32 {
  if (amax == 0.0) { return 1.0; }
  let e = i32((bitcast<u32>(amax) >> 23u) & 0xffu) - 127;
  return ldexp(1.0, clamp(-e, -126, 126));
}`);
  // t = sign(z) / (|z| + sqrt(1 + z²)), the smaller root of t² + 2zt - 1 = 0, without overflow.
  kb.b.helper('rot_t', `fn rot_t(z: f32) -> f32 {
  let az = abs(z);
  let root = select(sqrt(1.0 + z * z), az * sqrt(1.0 + 1.0 / (z * z)), az > 1.0);
  return select(1.0, -1.0, z < 0.0) / (az + root);
}`);
}

/** Opens the entry point: `lid` is the invocation, `mat` the matrix (the workgroup). */
function entry(kb: KernelBuilder, T: number, batch: number, body: () => void): [number, number, number] {
  const b = kb.b;
  b.block(`@compute @workgroup_size(${T}) fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line('let lid = lid3.x;');
    b.line('let mat = wid.x + wid.y * nwg.x;');
    // Uniform: the whole workgroup leaves, so no barrier is left half-reached.
    b.line(`if (mat >= ${batch}u) { return; }`);
    body();
  });
  const x = Math.min(batch, kb.ctx.target.maxWorkgroupsPerDim);
  return [x, Math.ceil(batch / x), 1];
}

/** A batch of m×n matrices. */
export interface MatrixBatch {
  batch: number;
  m: number;
  n: number;
}

/**
 * geqrf: operand `a` (batch×m×n) to `r` (R above the diagonal, reflectors below) and `tau`
 * (batch×min(m, n)).
 */
export function lowerGeqrf(o: Operation, a: BufferId, r: BufferId, tau: BufferId, d: MatrixBatch, ctx: LowerContext, name: string): void {
  const { batch, m, n } = d;
  const k = Math.min(m, n);
  if (batch === 0 || m * n === 0) return;
  checkDims(o, [m, n]);
  const T = threads(ctx);
  const kb = new KernelBuilder(ctx, o);
  emitHelpers(kb);
  kb.storage(a, 'f32', 'read', 'a');
  kb.storage(r, 'f32', 'read_write', 'r');
  kb.storage(tau, 'f32', 'read_write', 'tau');
  const b = kb.b;
  b.line('var<workgroup> sh: vec2<f32>;');
  b.line('');
  const wg = entry(kb, T, batch, () => {
    b.line(`let base = mat * ${m * n}u;`);
    b.line(`for (var i = lid; i < ${m * n}u; i += ${T}u) { r[base + i] = a[base + i]; }`);
    b.line('storageBarrier();');
    b.block(`for (var j = 0u; j < ${k}u; j++)`, () => {
      b.block('if (lid == 0u)', () => {
        b.line(`let jj = base + j * ${n}u + j;`);
        b.line('let alpha = r[jj];');
        b.line('var amax = 0.0;');
        b.line('var bad = nonfinite(alpha);');
        b.line(`for (var i = j + 1u; i < ${m}u; i++) { let x = r[base + i * ${n}u + j]; amax = max(amax, abs(x)); bad = bad || nonfinite(x); }`);
        b.line('var t = 0.0;');
        b.line('var sc = 0.0;');
        b.block('if (bad)', () => {
          b.line(`t = ${NAN}; sc = ${NAN}; r[jj] = ${NAN};`);
        });
        // slarfg: no reflection (tau = 0) where the column below the diagonal is zero.
        b.block('else if (amax > 0.0)', () => {
          b.line('let s = max(amax, abs(alpha));');
          b.line('var sum = (alpha / s) * (alpha / s);');
          b.line(`for (var i = j + 1u; i < ${m}u; i++) { let x = r[base + i * ${n}u + j] / s; sum += x * x; }`);
          b.line('let nrm = s * sqrt(sum);');
          // beta = -sign(alpha)·nrm with Fortran's SIGN: -0 counts as negative.
          b.line('let beta = select(-nrm, nrm, (bitcast<u32>(alpha) & 0x80000000u) != 0u);');
          b.line('t = (beta - alpha) / beta;');
          b.line('sc = 1.0 / (alpha - beta);');
          b.line('r[jj] = beta;');
        });
        b.line(`tau[mat * ${k}u + j] = t;`);
        b.line('sh = vec2<f32>(t, sc);');
      });
      b.line('workgroupBarrier();');
      b.line('storageBarrier();');
      b.line('let t = sh.x;');
      b.line('let sc = sh.y;');
      b.line(`if (t != 0.0) { for (var i = j + 1u + lid; i < ${m}u; i += ${T}u) { r[base + i * ${n}u + j] *= sc; } }`);
      b.line('storageBarrier();');
      // H_j on the trailing columns, a column per invocation: A[j:, c] -= tau v (vᵀ A[j:, c]).
      b.block(`if (t != 0.0)`, () => {
        reflectColumns(b, 'r', 'j', m, n, T);
      });
      b.line('storageBarrier();');
    });
  });
  ctx.dispatch(kb.finish(name, wg));
}

/**
 * Applies the Householder reflector H = I - t v vᵀ stored in column `j` of `buf` below the diagonal
 * (v = (1, buf[j+1:, j]), the implicit 1 first) to the columns right of `j`, a column per
 * invocation: buf[j:, c] -= t v (vᵀ buf[j:, c]). `t`, `base` and `lid` are in scope.
 */
function reflectColumns(b: KernelBuilder['b'], buf: string, j: string, m: number, n: number, T: number): void {
  const at = (row: string, col: string) => `${buf}[base + ${row} * ${n}u + ${col}]`;
  b.block(`for (var c = ${j} + 1u + lid; c < ${n}u; c += ${T}u)`, () => {
    b.line(`var w = ${at(j, 'c')};`);
    b.line(`for (var rr = ${j} + 1u; rr < ${m}u; rr++) { w += ${at('rr', j)} * ${at('rr', 'c')}; }`);
    b.line('w *= t;');
    b.line(`${at(j, 'c')} -= w;`);
    b.line(`for (var rr = ${j} + 1u; rr < ${m}u; rr++) { ${at('rr', 'c')} -= w * ${at('rr', j)}; }`);
  });
}

/** orgqr: reflectors `a` (batch×m×n, m >= n) and `tau` (batch×k) to Q's first n columns in `q`. */
export function lowerOrgqr(o: Operation, a: BufferId, tau: BufferId, q: BufferId, d: MatrixBatch & { k: number }, ctx: LowerContext, name: string): void {
  const { batch, m, n, k } = d;
  if (batch === 0 || m * n === 0) return;
  checkDims(o, [m, n]);
  const T = threads(ctx);
  const kb = new KernelBuilder(ctx, o);
  kb.storage(a, 'f32', 'read', 'a');
  kb.storage(tau, 'f32', 'read', 'tau');
  kb.storage(q, 'f32', 'read_write', 'q');
  const b = kb.b;
  const wg = entry(kb, T, batch, () => {
    b.line(`let base = mat * ${m * n}u;`);
    // Columns past k start as the identity's.
    b.line(`for (var i = lid; i < ${m * n}u; i += ${T}u) { let row = i / ${n}u; let col = i % ${n}u; q[base + i] = select(a[base + i], select(0.0, 1.0, row == col), col >= ${k}u); }`);
    b.line('storageBarrier();');
    b.block(`for (var ii = 0u; ii < ${k}u; ii++)`, () => {
      b.line(`let i = ${k - 1}u - ii;`);
      b.line(`let t = tau[mat * ${k}u + i];`);
      reflectColumns(b, 'q', 'i', m, n, T);
      b.line('storageBarrier();');
      b.block(`for (var rr = lid; rr < ${m}u; rr += ${T}u)`, () => {
        b.line(`let at = base + rr * ${n}u + i;`);
        b.line('if (rr > i) { q[at] = -t * q[at]; } else if (rr == i) { q[at] = 1.0 - t; } else { q[at] = 0.0; }');
      });
      b.line('storageBarrier();');
    });
  });
  ctx.dispatch(kb.finish(name, wg));
}

/**
 * The round-robin pair `t` of round `rnd` among N2 (even) indices, as WGSL `let`s `pa`, `pb`:
 * index 0 stays, the others rotate, so N2 - 1 rounds meet every pair once.
 */
function roundRobinPair(kb: KernelBuilder, N2: number): void {
  const b = kb.b;
  b.line(`let pa = select((rnd + t - 1u) % ${N2 - 1}u + 1u, 0u, t == 0u);`);
  b.line(`let pb = (rnd + ${N2 - 2}u - t + ${N2 - 1}u) % ${N2 - 1}u + 1u;`);
}

/** The sweep loop's end: another sweep while some rotation was significant and sweeps are left. */
function sweepEnd(kb: KernelBuilder): void {
  const b = kb.b;
  b.line('sweep++;');
  b.line('workgroupBarrier();');
  b.line(`if (lid == 0u) { sh_go = select(0u, 1u, atomicLoad(&sh_worst) != 0u && sweep < ${MAX_SWEEPS}u); sh_last = atomicLoad(&sh_worst); }`);
  b.line('if (workgroupUniformLoad(&sh_go) == 0u) { break; }');
}

/**
 * The first step of a Jacobi kernel: invocation 0 runs `scan` (a loop over the matrix's elements
 * `x` that raises `amax` and `bad`), then every invocation has `sc`, the power of two that brings
 * the largest |x| near 1 (so the sweeps neither overflow nor underflow), and `sh_bad` says whether
 * any element was NaN or infinite.
 */
function scaleToPowerOfTwo(b: KernelBuilder['b'], scan: string): void {
  b.block('if (lid == 0u)', () => {
    b.line('var amax = 0.0;');
    b.line('var bad = false;');
    b.line(scan);
    b.line('sh_f = vec2<f32>(pow2_scale(amax), 0.0);');
    b.line('sh_bad = select(0u, 1u, bad);');
  });
  b.line('workgroupBarrier();');
  b.line('let sc = sh_f.x;');
}

/**
 * A Jacobi kernel's builder: the shared helpers, the input matrix `a` read as f32, then `rw` (buffer,
 * name, dtype = f32) read-write in that order; and the round-robin schedule over `cols` columns
 * (padded to even N2: `rounds` rounds of `pairs` disjoint pairs make one sweep).
 */
function jacobiKernel(ctx: LowerContext, o: Operation, cols: number, a: BufferId, rw: [BufferId, string, ('f32' | 'i32')?][]) {
  const kb = new KernelBuilder(ctx, o);
  emitHelpers(kb);
  kb.storage(a, 'f32', 'read', 'a');
  for (const [buffer, name, dtype = 'f32'] of rw) kb.storage(buffer, dtype, 'read_write', name);
  const N2 = cols + (cols % 2);
  return { kb, T: threads(ctx), N2, pairs: Math.max(1, N2 / 2), rounds: Math.max(0, N2 - 1) };
}

/**
 * The cyclic Jacobi sweeps both eigh and the one-sided SVD run: `var sweep`, then a loop of
 * sweeps, each `rounds` rounds of `pairs` disjoint (p, q) pairs (p < q in scope for `pair`, one
 * invocation per pair), `roundEnd` after each round's pairs, and {@link sweepEnd}'s convergence test.
 */
function jacobiSweeps(kb: KernelBuilder, shape: { rounds: number; pairs: number; T: number; N2: number }, pair: () => void, roundEnd: () => void): void {
  const b = kb.b;
  const { rounds, pairs, T, N2 } = shape;
  b.line('var sweep = 0u;');
  b.block('loop', () => {
    b.line('if (lid == 0u) { atomicStore(&sh_worst, 0u); }');
    b.line('workgroupBarrier();');
    if (rounds > 0) {
      b.block(`for (var rnd = 0u; rnd < ${rounds}u; rnd++)`, () => {
        // One invocation per pair: the pairs of a round share no row or column.
        b.block(`for (var t = lid; t < ${pairs}u; t += ${T}u)`, () => {
          roundRobinPair(kb, N2);
          b.line('let p = min(pa, pb);');
          b.line('let q = max(pa, pb);');
          pair();
        });
        roundEnd();
      });
    }
    sweepEnd(kb);
  });
}

/**
 * syevd: the symmetric matrices whose `lower` (else upper) triangle is in `a` (batch×n×n) to
 * eigenvectors `v` (columns, batch×n×n), ascending eigenvalues `w` (batch×n) and `info` (batch).
 */
export function lowerSyevd(
  o: Operation, a: BufferId, v: BufferId, w: BufferId, info: BufferId,
  d: { batch: number; n: number; lower: boolean }, ctx: LowerContext, name: string,
): void {
  const { batch, n, lower } = d;
  if (batch === 0) return;
  checkDims(o, [n, n]);
  const nn = Math.max(1, n * n);
  const { kb, T, N2, pairs, rounds } = jacobiKernel(ctx, o, n, a, [[v, 'v'], [w, 'w'], [info, 'info', 'i32'],
    [ctx.temp(4 * nn * batch), 's'], [ctx.temp(4 * nn * batch), 'acc']]);
  const b = kb.b;
  b.line(`var<workgroup> sh_rot: array<vec4<f32>, ${pairs}>;`); // c, s, new a_pp, new a_qq
  b.line(`var<workgroup> sh_pq: array<vec2<u32>, ${pairs}>;`);
  b.line(`var<workgroup> sh_rank: array<u32, ${Math.max(1, n)}>;`);
  b.line('var<workgroup> sh_f: vec2<f32>;'); // scale, Frobenius norm
  b.line('var<workgroup> sh_bad: u32;');
  b.line('var<workgroup> sh_worst: atomic<u32>;');
  b.line('var<workgroup> sh_go: u32;');
  b.line('var<workgroup> sh_last: u32;');
  b.line('');
  const at = (i: string, j: string) => `base + (${i}) * ${n}u + (${j})`;
  const wg = entry(kb, T, batch, () => {
    b.line(`let base = mat * ${n * n}u;`);
    scaleToPowerOfTwo(b, `for (var i = 0u; i < ${n}u; i++) { for (var j = 0u; j <= i; j++) { let x = a[${lower ? at('i', 'j') : at('j', 'i')}]; amax = max(amax, abs(x)); bad = bad || nonfinite(x); } }`);
    // The symmetric matrix from the one triangle uplo names; the accumulated rotations start at I.
    b.block(`for (var e = lid; e < ${n * n}u; e += ${T}u)`, () => {
      b.line(`let i = e / ${n}u;`);
      b.line(`let j = e % ${n}u;`);
      b.line(`let hi = max(i, j);`);
      b.line(`let lo = min(i, j);`);
      b.line(`s[base + e] = a[${lower ? at('hi', 'lo') : at('lo', 'hi')}] * sc;`);
      b.line('acc[base + e] = select(0.0, 1.0, i == j);');
    });
    b.line('storageBarrier();');
    b.line(`if (lid == 0u) { var f = 0.0; for (var e = 0u; e < ${n * n}u; e++) { f += s[base + e] * s[base + e]; } sh_f.y = sqrt(f); atomicStore(&sh_worst, 0u); }`);
    b.line('workgroupBarrier();');
    b.line('let fro = sh_f.y;');
    b.line('let tol = fro * 5.9604645e-8;'); // 2^-24
    jacobiSweeps(kb, { rounds, pairs, T, N2 }, () => {
      b.line(`var rot = vec4<f32>(1.0, 0.0, 0.0, 0.0);`);
      b.line(`var pq = vec2<u32>(${n}u, ${n}u);`);
      b.block(`if (q < ${n}u)`, () => {
        b.line(`let app = s[${at('p', 'p')}];`);
        b.line(`let aqq = s[${at('q', 'q')}];`);
        b.line(`let apq = s[${at('p', 'q')}];`);
        b.block('if (abs(apq) > tol)', () => {
          b.line('let tt = rot_t((aqq - app) / (2.0 * apq));');
          b.line('let c = 1.0 / sqrt(tt * tt + 1.0);');
          b.line('rot = vec4<f32>(c, tt * c, app - tt * apq, aqq + tt * apq);');
          b.line('pq = vec2<u32>(p, q);');
          b.line('atomicMax(&sh_worst, bitcast<u32>(abs(apq) / fro));');
        });
      });
      b.line('sh_rot[t] = rot;');
      b.line('sh_pq[t] = pq;');
    }, () => {
    b.line('workgroupBarrier();');
    // Each (pair t, index k) element this thread owns, for the pairs rotated this step: p, q, c, sn in scope.
    const eachRotated = (body: () => void) => b.block(`for (var e = lid; e < ${pairs * n}u; e += ${T}u)`, () => {
      b.line(`let t = e / ${n}u;`);
      b.line(`let k = e % ${n}u;`);
      b.line('let p = sh_pq[t].x;');
      b.line('let q = sh_pq[t].y;');
      b.block(`if (q < ${n}u)`, () => {
        b.line('let c = sh_rot[t].x;');
        b.line('let sn = sh_rot[t].y;');
        body();
      });
    });
    // S <- S J and V <- V J: each pair owns its two columns.
    eachRotated(() => {
      b.line(`let kp = s[${at('k', 'p')}]; let kq = s[${at('k', 'q')}];`);
      b.line(`s[${at('k', 'p')}] = c * kp - sn * kq; s[${at('k', 'q')}] = sn * kp + c * kq;`);
      b.line(`let vp = acc[${at('k', 'p')}]; let vq = acc[${at('k', 'q')}];`);
      b.line(`acc[${at('k', 'p')}] = c * vp - sn * vq; acc[${at('k', 'q')}] = sn * vp + c * vq;`);
    });
    b.line('storageBarrier();');
    // S <- Jᵀ S: each pair owns its two rows.
    eachRotated(() => {
      b.line(`let pk = s[${at('p', 'k')}]; let qk = s[${at('q', 'k')}];`);
      b.line(`s[${at('p', 'k')}] = c * pk - sn * qk; s[${at('q', 'k')}] = sn * pk + c * qk;`);
    });
    b.line('storageBarrier();');
    // The rotated 2×2 blocks exactly: the pair's off-diagonal entry is 0 by construction.
    b.block(`for (var t = lid; t < ${pairs}u; t += ${T}u)`, () => {
      b.line('let p = sh_pq[t].x;');
      b.line('let q = sh_pq[t].y;');
      b.block(`if (q < ${n}u)`, () => {
        b.line(`s[${at('p', 'p')}] = sh_rot[t].z; s[${at('q', 'q')}] = sh_rot[t].w;`);
        b.line(`s[${at('p', 'q')}] = 0.0; s[${at('q', 'p')}] = 0.0;`);
      });
    });
    b.line('storageBarrier();');
    b.line('workgroupBarrier();');
    });
    // Ascending order, ties by index: each eigenvalue's rank.
    b.block(`for (var j = lid; j < ${n}u; j += ${T}u)`, () => {
      b.line(`let dj = s[${at('j', 'j')}];`);
      b.line('var rank = 0u;');
      b.line(`for (var i = 0u; i < ${n}u; i++) { let di = s[${at('i', 'i')}]; if (di < dj || (di == dj && i < j)) { rank++; } }`);
      b.line('sh_rank[j] = rank;');
      b.line(`w[mat * ${n}u + rank] = select(dj / sc, ${NAN}, sh_bad != 0u);`);
    });
    b.line('workgroupBarrier();');
    b.block(`for (var e = lid; e < ${n * n}u; e += ${T}u)`, () => {
      b.line(`let i = e / ${n}u;`);
      b.line(`let j = e % ${n}u;`);
      b.line(`v[${at('i', 'sh_rank[j]')}] = select(acc[base + e], ${NAN}, sh_bad != 0u);`);
    });
    b.line('storageBarrier();');
    emitColumnSigns(kb, 'v', n, n, (i, j) => at(i, j));
    // Unconverged: info 1 only if the last sweep still rotated by more than 1e-4 of the norm.
    b.line('if (lid == 0u) { info[mat] = select(0, 1, bitcast<f32>(sh_last) > 1e-4); }');
  });
  ctx.dispatch(kb.finish(name, wg));
}

/**
 * Flips each of the first `cols` columns of an r-row matrix (element (i, j) at `index(i, j)` of
 * `buf`) so that its largest-magnitude entry is positive; `also` flips the same column of another.
 */
function emitColumnSigns(kb: KernelBuilder, buf: string, rows: number, cols: number, index: (i: string, j: string) => string, also?: { buf: string; rows: number; index: (i: string, j: string) => string }): void {
  const b = kb.b;
  const T = threads(kb.ctx);
  b.block(`for (var j = lid; j < ${cols}u; j += ${T}u)`, () => {
    b.line('var best = 0.0;');
    b.line('var at = 0u;');
    b.line(`for (var i = 0u; i < ${rows}u; i++) { let x = abs(${buf}[${index('i', 'j')}]); if (x > best) { best = x; at = i; } }`);
    b.block(`if (${buf}[${index('at', 'j')}] < 0.0)`, () => {
      b.line(`for (var i = 0u; i < ${rows}u; i++) { ${buf}[${index('i', 'j')}] = -${buf}[${index('i', 'j')}]; }`);
      if (also) b.line(`for (var i = 0u; i < ${also.rows}u; i++) { ${also.buf}[${also.index('i', 'j')}] = -${also.buf}[${also.index('i', 'j')}]; }`);
    });
  });
  b.line('storageBarrier();');
}

/** The SVD's flags, as the custom call's attributes give them. */
export interface SvdSpec extends MatrixBatch {
  computeUv: boolean;
  fullMatrices: boolean;
  /** cuSOLVER's gesvdj gives V (n×n or n×k), LAPACK's gesdd/gesvd Vᵀ. */
  vNotVt: boolean;
}

/**
 * The SVD of `a` (batch×m×n): `aOut` (the operand's copy; LAPACK leaves it undefined), `s`
 * (descending), `u`, `vt` (or V, see {@link SvdSpec}) and `info`. Without `computeUv` U and Vᵀ are
 * written as zeros.
 */
export function lowerSvd(
  o: Operation, a: BufferId, results: readonly BufferId[], d: SvdSpec, ctx: LowerContext, name: string,
): void {
  const { batch, m, n, computeUv, fullMatrices, vNotVt } = d;
  const [aOut, sOut, uOut, vOut, info] = results;
  ctx.copy(a, aOut, storageSize(o.operands[0].type));
  if (batch === 0) return;
  checkDims(o, [m, n]);
  const T = threads(ctx);
  const k = Math.min(m, n);
  const wide = m < n;
  const [r, c] = wide ? [n, m] : [m, n];
  const uCols = fullMatrices ? m : k;
  const vtRows = fullMatrices ? n : k;
  const lCols = fullMatrices ? r : k;
  const { kb, N2, pairs, rounds } = jacobiKernel(ctx, o, c, a, [[sOut, 'sv'], [uOut, 'u'], [vOut, 'vt'], [info, 'info', 'i32'],
    [ctx.temp(4 * Math.max(1, r * c) * batch), 'wk'], [ctx.temp(4 * Math.max(1, c * c) * batch), 'acc']]);
  const b = kb.b;
  b.line(`var<workgroup> sh_norm: array<f32, ${Math.max(1, c)}>;`);
  b.line(`var<workgroup> sh_rank: array<u32, ${Math.max(1, c)}>;`);
  b.line(`var<workgroup> sh_have: array<u32, ${Math.max(1, lCols)}>;`);
  b.line(`var<workgroup> sh_d: array<f32, ${Math.max(1, lCols)}>;`);
  b.line('var<workgroup> sh_f: vec2<f32>;'); // scale, the largest singular value
  b.line('var<workgroup> sh_bad: u32;');
  b.line('var<workgroup> sh_best: u32;');
  b.line('var<workgroup> sh_worst: atomic<u32>;');
  b.line('var<workgroup> sh_go: u32;');
  b.line('var<workgroup> sh_last: u32;');
  b.line('');
  // W (r×c) and V (c×c) of the tall problem; L (r×lCols) and R (c×c) are its sorted left and right
  // vectors, written straight into A's U and V/Vᵀ outputs (L is V of A when A is wide).
  const W = (i: string, j: string) => `wk[mat * ${r * c}u + (${i}) * ${c}u + (${j})]`;
  const V = (i: string, j: string) => `acc[mat * ${c * c}u + (${i}) * ${c}u + (${j})]`;
  const uAt = (i: string, j: string) => `mat * ${m * uCols}u + (${i}) * ${uCols}u + (${j})`;
  // Vᵀ[j][i] = V[i][j]; gesvdj's V is n×(n or k).
  const vAt = (i: string, j: string) => (vNotVt ? `mat * ${n * vtRows}u + (${i}) * ${vtRows}u + (${j})` : `mat * ${vtRows * n}u + (${j}) * ${n}u + (${i})`);
  const [lBuf, lAt, rBuf, rAt] = wide ? ['vt', vAt, 'u', uAt] as const : ['u', uAt, 'vt', vAt] as const;
  const L = (i: string, j: string) => `${lBuf}[${lAt(i, j)}]`;
  const wg = entry(kb, T, batch, () => {
    scaleToPowerOfTwo(b, `for (var e = 0u; e < ${m * n}u; e++) { let x = a[mat * ${m * n}u + e]; amax = max(amax, abs(x)); bad = bad || nonfinite(x); }`);
    b.block(`for (var e = lid; e < ${m * n}u; e += ${T}u)`, () => {
      b.line(`let i = e / ${n}u;`);
      b.line(`let j = e % ${n}u;`);
      b.line(`${wide ? W('j', 'i') : W('i', 'j')} = a[mat * ${m * n}u + e] * sc;`);
    });
    b.line(`for (var e = lid; e < ${c * c}u; e += ${T}u) { ${V(`e / ${c}u`, `e % ${c}u`)} = select(0.0, 1.0, e / ${c}u == e % ${c}u); }`);
    b.line('storageBarrier();');
    b.line(`let tol = ${(8 * Math.sqrt(r) * 2 ** -24).toExponential(8)};`);
    jacobiSweeps(kb, { rounds, pairs, T, N2 }, () => {
      b.block(`if (q < ${c}u)`, () => {
        b.line('var al = 0.0; var be = 0.0; var ga = 0.0;');
        b.line(`for (var i = 0u; i < ${r}u; i++) { let up = ${W('i', 'p')}; let uq = ${W('i', 'q')}; al += up * up; be += uq * uq; ga += up * uq; }`);
        b.line('let nrm = sqrt(al) * sqrt(be);');
        b.block('if (ga != 0.0 && abs(ga) > tol * nrm)', () => {
          b.line('atomicMax(&sh_worst, bitcast<u32>(abs(ga) / nrm));');
          b.line('let tt = rot_t((be - al) / (2.0 * ga));');
          b.line('let cs = 1.0 / sqrt(1.0 + tt * tt);');
          b.line('let sn = cs * tt;');
          b.line(`for (var i = 0u; i < ${r}u; i++) { let up = ${W('i', 'p')}; let uq = ${W('i', 'q')}; ${W('i', 'p')} = cs * up - sn * uq; ${W('i', 'q')} = sn * up + cs * uq; }`);
          b.line(`for (var i = 0u; i < ${c}u; i++) { let vp = ${V('i', 'p')}; let vq = ${V('i', 'q')}; ${V('i', 'p')} = cs * vp - sn * vq; ${V('i', 'q')} = sn * vp + cs * vq; }`);
        });
      });
    }, () => b.line('storageBarrier();'));
    // Column norms are the singular values; rank them descending, ties by index.
    b.block(`for (var j = lid; j < ${c}u; j += ${T}u)`, () => {
      b.line('var t = 0.0;');
      b.line(`for (var i = 0u; i < ${r}u; i++) { let x = ${W('i', 'j')}; t += x * x; }`);
      b.line('sh_norm[j] = sqrt(t);');
    });
    b.line('workgroupBarrier();');
    b.block(`for (var j = lid; j < ${c}u; j += ${T}u)`, () => {
      b.line('let sj = sh_norm[j];');
      b.line('var rank = 0u;');
      b.line(`for (var i = 0u; i < ${c}u; i++) { let si = sh_norm[i]; if (si > sj || (si == sj && i < j)) { rank++; } }`);
      b.line('sh_rank[j] = rank;');
      b.line(`sv[mat * ${k}u + rank] = select(sj / sc, ${NAN}, sh_bad != 0u);`);
    });
    b.line(`if (lid == 0u) { var top = 0.0; for (var j = 0u; j < ${c}u; j++) { top = max(top, sh_norm[j]); } sh_f.y = top; }`);
    b.line('workgroupBarrier();');
    if (!computeUv) {
      b.line(`for (var e = lid; e < ${m * uCols}u; e += ${T}u) { u[mat * ${m * uCols}u + e] = 0.0; }`);
      b.line(`for (var e = lid; e < ${n * vtRows}u; e += ${T}u) { vt[mat * ${n * vtRows}u + e] = 0.0; }`);
    } else {
      // Singular values this small relative to the largest have no direction of their own.
      b.line(`let ztol = sh_f.y * ${(Math.max(m, n) * 2 ** -23).toExponential(8)};`);
      b.line(`for (var j = lid; j < ${lCols}u; j += ${T}u) { sh_have[j] = 0u; }`);
      b.line('workgroupBarrier();');
      b.line(`for (var j = lid; j < ${c}u; j += ${T}u) { if (sh_norm[j] > ztol) { sh_have[sh_rank[j]] = 1u; } }`);
      b.line('workgroupBarrier();');
      b.block(`for (var e = lid; e < ${r * lCols}u; e += ${T}u)`, () => {
        b.line(`let i = e / ${lCols}u;`);
        b.line(`let j = e % ${lCols}u;`);
        b.line(`${L('i', 'j')} = 0.0;`);
      });
      b.line('storageBarrier();');
      b.block(`for (var e = lid; e < ${r * c}u; e += ${T}u)`, () => {
        b.line(`let i = e / ${c}u;`);
        b.line(`let j = e % ${c}u;`);
        b.line('let sj = sh_norm[j];');
        b.line(`if (sj > ztol) { ${L('i', 'sh_rank[j]')} = ${W('i', 'j')} / sj; }`);
      });
      b.line(`for (var e = lid; e < ${c * c}u; e += ${T}u) { let i = e / ${c}u; let j = e % ${c}u; ${rBuf}[${rAt('i', 'sh_rank[j]')}] = ${V('i', 'j')}; }`);
      b.line('storageBarrier();');
      // Gram-Schmidt completion of L's missing columns, twice against the columns present.
      b.block(`for (var col = 0u; col < ${lCols}u; col++)`, () => {
        b.line('let missing = sh_have[col] == 0u;');
        b.block('if (lid == 0u && missing)', () => {
          b.line('var best = 0u; var bestRes = -1.0;');
          b.block(`for (var e = 0u; e < ${r}u; e++)`, () => {
            b.line('var res = 1.0;');
            b.line(`for (var j = 0u; j < ${lCols}u; j++) { if (sh_have[j] != 0u) { let x = ${L('e', 'j')}; res -= x * x; } }`);
            b.line('if (res > bestRes + 1e-6) { bestRes = res; best = e; }');
          });
          b.line('sh_best = best;');
        });
        b.line('workgroupBarrier();');
        b.line('storageBarrier();');
        b.block(`if (missing)`, () => {
          b.block(`for (var i = lid; i < ${r}u; i += ${T}u)`, () => {
            b.line('var x = select(0.0, 1.0, i == sh_best);');
            b.line(`for (var j = 0u; j < ${lCols}u; j++) { if (sh_have[j] != 0u) { x -= ${L('sh_best', 'j')} * ${L('i', 'j')}; } }`);
            b.line(`${L('i', 'col')} = x;`);
          });
        });
        b.line('storageBarrier();');
        b.block(`if (missing)`, () => {
          b.block(`for (var j = lid; j < ${lCols}u; j += ${T}u)`, () => {
            b.line('var dd = 0.0;');
            b.line(`if (sh_have[j] != 0u) { for (var i = 0u; i < ${r}u; i++) { dd += ${L('i', 'j')} * ${L('i', 'col')}; } }`);
            b.line('sh_d[j] = dd;');
          });
        });
        b.line('workgroupBarrier();');
        b.line('storageBarrier();');
        b.block(`if (missing)`, () => {
          b.block(`for (var i = lid; i < ${r}u; i += ${T}u)`, () => {
            b.line(`var x = ${L('i', 'col')};`);
            b.line(`for (var j = 0u; j < ${lCols}u; j++) { if (sh_have[j] != 0u) { x -= sh_d[j] * ${L('i', 'j')}; } }`);
            b.line(`${L('i', 'col')} = x;`);
          });
        });
        b.line('storageBarrier();');
        b.block('if (lid == 0u && missing)', () => {
          b.line(`var t = 0.0; for (var i = 0u; i < ${r}u; i++) { let x = ${L('i', 'col')}; t += x * x; }`);
          b.line('sh_d[col] = sqrt(t);');
          b.line('sh_have[col] = 1u;');
        });
        b.line('workgroupBarrier();');
        b.line(`if (missing) { for (var i = lid; i < ${r}u; i += ${T}u) { ${L('i', 'col')} = ${L('i', 'col')} / sh_d[col]; } }`);
        b.line('storageBarrier();');
        b.line('workgroupBarrier();');
      });
      emitColumnSigns(kb, lBuf, r, k, lAt, { buf: rBuf, rows: c, index: rAt });
      b.block('if (sh_bad != 0u)', () => {
        b.line(`for (var e = lid; e < ${m * uCols}u; e += ${T}u) { u[mat * ${m * uCols}u + e] = ${NAN}; }`);
        b.line(`for (var e = lid; e < ${n * vtRows}u; e += ${T}u) { vt[mat * ${n * vtRows}u + e] = ${NAN}; }`);
      });
    }
    b.line('if (lid == 0u) { info[mat] = select(0, 1, bitcast<f32>(sh_last) > 1e-4); }');
  });
  ctx.dispatch(kb.finish(name, wg));
}

/** The kinds of custom call {@link lowerDecompositionCall} lowers. */
export type DecompositionKind = 'geqrf' | 'orgqr' | 'syevd' | 'svd';

/**
 * Lowers a geqrf, orgqr, syevd or SVD custom call (ir/custom-calls.ts): one kernel over its
 * batch of matrices (the SVD also copies its operand to its first result).
 */
export function lowerDecompositionCall(
  o: Operation<Op.CustomCall>, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext,
  call: Extract<LinalgCall, { kind: DecompositionKind }>,
): void {
  const shape = o.operands[0].type.shape;
  const [m, n] = shape.slice(-2);
  const batch = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const name = `${call.kind}_${o.loc?.line ?? 0}`;
  switch (call.kind) {
    case 'geqrf': return lowerGeqrf(o, operands[0], results[0], results[1], { batch, m, n }, ctx, name);
    case 'orgqr': {
      const tau = o.operands[1].type.shape;
      return lowerOrgqr(o, operands[0], operands[1], results[0], { batch, m, n, k: tau[tau.length - 1] }, ctx, name);
    }
    case 'syevd': return lowerSyevd(o, operands[0], results[0], results[1], results[2], { batch, n, lower: call.lower }, ctx, name);
    case 'svd': {
      // U's and V's shapes say whether they are full (LAPACK's mode 'N' leaves it to them).
      const u = o.results[2].type.shape;
      const v = o.results[3].type.shape;
      const fullMatrices = u[u.length - 1] === m && (call.vNotVt ? v[v.length - 1] : v[v.length - 2]) === n;
      return lowerSvd(o, operands[0], results, { batch, m, n, computeUv: call.computeUv, fullMatrices, vNotVt: call.vNotVt }, ctx, name);
    }
    default: return call satisfies never;
  }
}
