/**
 * @file WGSL kernels for the linear-algebra ops: `stablehlo.cholesky`, `stablehlo.triangular_solve`
 * and the LAPACK / cuSOLVER custom calls (potrf, getrf, trsm, pivots to permutation; see
 * ir/custom-calls.ts). The reference interpreter (runtime/reference/linalg.ts) is the oracle; these
 * follow the same unblocked LAPACK algorithms, in f32.
 *
 * One workgroup per matrix of the batch. The factorizations work in place on their result
 * buffer (a copy of the operand, made by a copy step), column by column: one invocation does the
 * step's sequential part (a pivot, a diagonal entry) and the workgroup the parallel part (a
 * column, the trailing update), with storage barriers between. A triangular solve runs one
 * invocation per right-hand side, each a forward or back substitution. Kernels per op: 1 (plus
 * the copy), whatever the matrix size: rows are reached through global memory, which every size
 * fits; workgroup memory would only make small matrices faster.
 */
import type { LinalgCall, TransposeA } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { numElements, type Operation } from '../../ir/types.js';
import type { BufferId, LowerContext, OpLowering } from '../program.js';
import { KernelBuilder, type StorageVar } from './common.js';
import { lowerDecompositionCall } from './decompositions.js';
import { literal } from './region.js';

/** Invocations of one matrix's workgroup. */
const THREADS = 64;

/** The matrices of a tensor of shape [...batch, m, n]. */
function batchCount(shape: readonly number[]): number {
  return numElements(shape.slice(0, -2));
}

function checkF32(o: Operation): void {
  for (const v of [...o.operands, ...o.results]) {
    if (v.type.dtype !== 'f32' && v.type.dtype !== 'i32') {
      throw new UnsupportedOpError(`${o.op}: ${v.type.dtype} matrices are not supported on WebGPU (f32 only)`, o.loc);
    }
  }
}

/** Copies operand `i` to result `j` (the factorizations and solves work in place on the copy). */
function copyIn(o: Operation, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext, i: number, j: number): void {
  const bytes = numElements(o.operands[i].type.shape) * 4;
  if (bytes > 0) ctx.copy(operands[i], results[j], bytes);
}

/** The entry point of a one-workgroup-per-matrix kernel; `body` runs for live matrices with `mat`. */
function perMatrix(kb: KernelBuilder, count: number, body: () => void): [number, number, number] {
  const b = kb.b;
  const T = Math.min(THREADS, kb.ctx.target.maxWorkgroupSize);
  b.block(`@compute @workgroup_size(${T}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    // workgroup_id is uniform, so leaving here keeps every barrier below in uniform control flow.
    b.line('let mat = wid.x + wid.y * nwg.x;');
    b.line(`if (mat >= ${count}u) { return; }`);
    body();
  });
  const x = Math.min(count, kb.ctx.target.maxWorkgroupsPerDim);
  return [x, Math.ceil(count / x), 1];
}

/**
 * {@link perMatrix} for a factorization that records where it stopped: `flag`, a workgroup u32,
 * is 0 at the start of each matrix, and `off` is the matrix's first element (`size` elements each).
 */
function perMatrixFlagged(kb: KernelBuilder, count: number, flag: string, size: number, body: () => void): [number, number, number] {
  const b = kb.b;
  b.line(`var<workgroup> ${flag}: u32;`);
  b.line('');
  return perMatrix(kb, count, () => {
    b.line(`let off = mat * ${size}u;`);
    b.line(`if (lid.x == 0u) { ${flag} = 0u; }`);
    body();
  });
}

const BARRIER = 'storageBarrier(); workgroupBarrier();';

/**
 * Cholesky in place: potrf (stops at the first non-positive pivot, writes `info`, leaves the other
 * triangle) or stablehlo.cholesky (goes on, NaN from a negative pivot, zeros the other triangle).
 */
function lowerCholeskyLike(o: Operation, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext, lower: boolean, potrf: boolean): void {
  checkF32(o);
  const shape = o.operands[0].type.shape;
  const n = shape[shape.length - 1];
  const count = batchCount(shape);
  copyIn(o, operands, results, ctx, 0, 0);
  if (count === 0) return;
  const kb = new KernelBuilder(ctx, o);
  const a = kb.storage(results[0], 'f32', 'read_write', 'a');
  const info = potrf ? kb.storage(results[1], 'i32', 'read_write', 'info') : undefined;
  const T = Math.min(THREADS, ctx.target.maxWorkgroupSize);
  const b = kb.b;
  // Element (i, j) of the factor (j <= i): at (i, j) for L, at (j, i) for U.
  b.helper('at', `fn at(off: u32, i: u32, j: u32) -> u32 { return off + ${lower ? `i * ${n}u + j` : `j * ${n}u + i`}; }`);
  // NaN tests on the bits: WGSL may assume floats are never NaN, and a NaN pivot must stop potrf.
  b.helper('isnan', 'fn isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }');
  const nan = literal(b, NaN, 'f32');
  const wg = perMatrixFlagged(kb, count, 'stop', n * n, () => {
    b.block(`for (var j = 0u; j < ${n}u; j++)`, () => {
      b.block('if (lid.x == 0u)', () => {
        b.line(`var d = ${a.name}[at(off, j, j)];`);
        b.line(`for (var k = 0u; k < j; k++) { let l = ${a.name}[at(off, j, k)]; d -= l * l; }`);
        if (potrf) b.line(`if (d > 0.0 && !isnan(d)) { ${a.name}[at(off, j, j)] = sqrt(d); } else { ${a.name}[at(off, j, j)] = d; stop = j + 1u; }`);
        else b.line(`${a.name}[at(off, j, j)] = select(${nan}, sqrt(max(d, 0.0)), d >= 0.0 && !isnan(d));`);
      });
      b.line(BARRIER);
      b.line('if (workgroupUniformLoad(&stop) != 0u) { break; }');
      b.line(`let ljj = ${a.name}[at(off, j, j)];`);
      b.block(`for (var i = j + 1u + lid.x; i < ${n}u; i += ${T}u)`, () => {
        b.line(`var v = ${a.name}[at(off, i, j)];`);
        b.line(`for (var k = 0u; k < j; k++) { v -= ${a.name}[at(off, i, k)] * ${a.name}[at(off, j, k)]; }`);
        b.line(`${a.name}[at(off, i, j)] = v / ljj;`);
      });
      b.line(BARRIER);
    });
    if (info) b.line(`if (lid.x == 0u) { ${info.name}[mat] = i32(stop); }`);
    else {
      b.block(`for (var e = lid.x; e < ${n * n}u; e += ${T}u)`, () => {
        b.line(`let r = e / ${n}u;`);
        b.line(`let c = e % ${n}u;`);
        b.line(`if (${lower ? 'c > r' : 'r > c'}) { ${a.name}[off + e] = 0.0; }`);
      });
    }
  });
  ctx.dispatch(kb.finish(potrf ? 'potrf' : 'cholesky', wg));
}

/** LU with partial pivoting in place (LAPACK dgetf2): LU, 1-based pivots, info. */
function lowerGetrf(o: Operation, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext): void {
  checkF32(o);
  const shape = o.operands[0].type.shape;
  const [m, n] = shape.slice(-2);
  const k = Math.min(m, n);
  const count = batchCount(shape);
  copyIn(o, operands, results, ctx, 0, 0);
  if (count === 0) return;
  const kb = new KernelBuilder(ctx, o);
  const a = kb.storage(results[0], 'f32', 'read_write', 'a');
  const piv = kb.storage(results[1], 'i32', 'read_write', 'piv');
  const info = kb.storage(results[2], 'i32', 'read_write', 'info');
  const T = Math.min(THREADS, ctx.target.maxWorkgroupSize);
  const b = kb.b;
  b.line('var<workgroup> prow: u32;');
  b.line('var<workgroup> pval: f32;');
  const wg = perMatrixFlagged(kb, count, 'first_zero', m * n, () => {
    b.block(`for (var j = 0u; j < ${k}u; j++)`, () => {
      // The pivot: the first row of largest |a| in column j (idamax: a NaN on the diagonal stays).
      b.block('if (lid.x == 0u)', () => {
        b.line('var p = j;');
        b.line(`var best = abs(${a.name}[off + j * ${n}u + j]);`);
        b.line(`for (var i = j + 1u; i < ${m}u; i++) { let v = abs(${a.name}[off + i * ${n}u + j]); if (v > best) { best = v; p = i; } }`);
        b.line(`${piv.name}[mat * ${k}u + j] = i32(p + 1u);`);
        b.line(`pval = ${a.name}[off + p * ${n}u + j];`);
        b.line('if (pval == 0.0 && first_zero == 0u) { first_zero = j + 1u; }');
        b.line('prow = p;');
      });
      b.line(BARRIER);
      b.line('let p = workgroupUniformLoad(&prow);');
      b.line('let pivot = workgroupUniformLoad(&pval);');
      b.block(`if (pivot != 0.0 && p != j)`, () => {
        b.block(`for (var c = lid.x; c < ${n}u; c += ${T}u)`, () => {
          b.line(`let t = ${a.name}[off + j * ${n}u + c];`);
          b.line(`${a.name}[off + j * ${n}u + c] = ${a.name}[off + p * ${n}u + c];`);
          b.line(`${a.name}[off + p * ${n}u + c] = t;`);
        });
      });
      b.line(BARRIER);
      b.block('if (pivot != 0.0)', () => {
        b.line(`for (var i = j + 1u + lid.x; i < ${m}u; i += ${T}u) { ${a.name}[off + i * ${n}u + j] = ${a.name}[off + i * ${n}u + j] / pivot; }`);
      });
      b.line(BARRIER);
      // The trailing update, one invocation per element of the (m-j-1) x (n-j-1) block.
      b.line(`let w = ${n}u - j - 1u;`);
      b.block(`for (var e = lid.x; e < (${m}u - j - 1u) * w; e += ${T}u)`, () => {
        b.line('let i = j + 1u + e / w;');
        b.line('let c = j + 1u + e % w;');
        b.line(`${a.name}[off + i * ${n}u + c] -= ${a.name}[off + i * ${n}u + j] * ${a.name}[off + j * ${n}u + c];`);
      });
      b.line(BARRIER);
    });
    b.line(`if (lid.x == 0u) { ${info.name}[mat] = i32(first_zero); }`);
  });
  ctx.dispatch(kb.finish('getrf', wg));
}

interface SolveSpec { leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: TransposeA }

/** op(A) X = B or X op(A) = B: one invocation per right-hand side, in place on a copy of B. */
function lowerSolve(o: Operation, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext, s: SolveSpec): void {
  checkF32(o);
  const aShape = o.operands[0].type.shape;
  const bShape = o.operands[1].type.shape;
  const kk = aShape[aShape.length - 1];
  const [bm, bn] = bShape.slice(-2);
  const count = batchCount(bShape);
  copyIn(o, operands, results, ctx, 1, 0);
  if (count === 0 || kk === 0 || bm * bn === 0) return;
  const kb = new KernelBuilder(ctx, o);
  const a = kb.storage(operands[0], 'f32', 'read', 'a');
  const x = kb.storage(results[0], 'f32', 'read_write', 'x');
  const T = Math.min(THREADS, ctx.target.maxWorkgroupSize);
  const b = kb.b;
  const trans = s.transposeA !== 'NO_TRANSPOSE';
  // op(A)(i, j); X op(A) = B is solved as op(A)^T X^T = B^T, so the triangle flips with the side.
  const opA = (i: string, j: string) => (trans ? `${a.name}[aoff + ${j} * ${kk}u + ${i}]` : `${a.name}[aoff + ${i} * ${kk}u + ${j}]`);
  const t = (i: string, j: string) => (s.leftSide ? opA(i, j) : opA(j, i));
  const lowerT = s.leftSide ? s.lower !== trans : s.lower === trans;
  const rhs = s.leftSide ? bn : bm;
  const xat = (i: string) => (s.leftSide ? `boff + ${i} * ${bn}u + c` : `boff + c * ${bn}u + ${i}`);
  const wg = perMatrix(kb, count, () => {
    b.line(`let aoff = mat * ${kk * kk}u;`);
    b.line(`let boff = mat * ${bm * bn}u;`);
    b.block(`for (var c = lid.x; c < ${rhs}u; c += ${T}u)`, () => {
      b.block(`for (var s = 0u; s < ${kk}u; s++)`, () => {
        b.line(`let i = ${lowerT ? 's' : `${kk - 1}u - s`};`);
        b.line(`var v = ${x.name}[${xat('i')}];`);
        if (lowerT) b.line(`for (var j = 0u; j < i; j++) { v -= ${t('i', 'j')} * ${x.name}[${xat('j')}]; }`);
        else b.line(`for (var j = i + 1u; j < ${kk}u; j++) { v -= ${t('i', 'j')} * ${x.name}[${xat('j')}]; }`);
        b.line(`${x.name}[${xat('i')}] = ${s.unitDiagonal ? 'v' : `v / ${t('i', 'i')}`};`);
      });
    });
  });
  ctx.dispatch(kb.finish('triangular_solve', wg));
}

/** 0-based pivots to the permutation of rows they apply: one invocation per matrix. */
function lowerPivotsToPermutation(o: Operation, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext): void {
  const pShape = o.operands[0].type.shape;
  const rShape = o.results[0].type.shape;
  const k = pShape[pShape.length - 1];
  const m = rShape[rShape.length - 1];
  const count = numElements(rShape.slice(0, -1));
  if (count === 0 || m === 0) return;
  const kb = new KernelBuilder(ctx, o);
  const piv: StorageVar = kb.storage(operands[0], 'i32', 'read', 'piv');
  const perm = kb.storage(results[0], 'i32', 'read_write', 'perm');
  const wg = kb.flatEntry(count, (q) => {
    kb.b.line(`let base = ${q} * ${m}u;`);
    kb.b.line(`for (var i = 0u; i < ${m}u; i++) { ${perm.name}[base + i] = i32(i); }`);
    // A pivot outside [0, m) swaps nothing, as jaxlib's kernel.
    kb.b.block(`for (var i = 0u; i < ${k}u; i++)`, () => {
      kb.b.line(`let j = ${piv.name}[${q} * ${k}u + i];`);
      kb.b.block(`if (j >= 0 && j < ${m})`, () => {
        kb.b.line(`let t = ${perm.name}[base + i];`);
        kb.b.line(`${perm.name}[base + i] = ${perm.name}[base + u32(j)];`);
        kb.b.line(`${perm.name}[base + u32(j)] = t;`);
      });
    });
  });
  ctx.dispatch(kb.finish('lu_pivots_to_permutation', wg));
}

export const lowerCholesky: OpLowering<Op.Cholesky> = (o, operands, results, ctx) =>
  lowerCholeskyLike(o, operands, results, ctx, o.attrs.lower, false);

export const lowerTriangularSolve: OpLowering<Op.TriangularSolve> = (o, operands, results, ctx) =>
  lowerSolve(o, operands, results, ctx, o.attrs);

/** Every linear-algebra custom call, by the kind its target computes. */
export const lowerCustomCall: OpLowering<Op.CustomCall> = (o, operands, results, ctx) => {
  const call: LinalgCall = o.attrs.call;
  switch (call.kind) {
    case 'potrf': return lowerCholeskyLike(o, operands, results, ctx, call.lower, true);
    case 'getrf': return lowerGetrf(o, operands, results, ctx);
    case 'trsm': return lowerSolve(o, operands, results, ctx, call);
    case 'pivotsToPermutation': return lowerPivotsToPermutation(o, operands, results, ctx);
    case 'geqrf': case 'orgqr': case 'syevd': case 'svd': return lowerDecompositionCall(o, operands, results, ctx, call);
    default: return call satisfies never;
  }
};
