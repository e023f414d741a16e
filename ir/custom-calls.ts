/**
 * @file The custom calls kiln runs: one table from a `stablehlo.custom_call` target name to the
 * linear-algebra operation it performs, decoded from the typed FFI attributes JAX prints
 * (`mhlo.backend_config = {uplo = 76 : ui8}`), with the layouts and batch dimensions the backend
 * kernel assumes. Every other target is refused by name (parser). The attribute dictionary is kept
 * as printed and printed back verbatim, so a parsed module hashes and prints as JAX wrote it.
 *
 * What each target computes (jaxlib/cpu/lapack_kernels.cc, jaxlib/gpu/solver_kernels_ffi.cc,
 * jax/_src/lax/linalg.py), on the trailing two dimensions, batched over the leading ones:
 * - `potrf` (Cholesky): result 0 holds L (lower) or U (upper) in that triangle and the operand's
 *   other triangle unchanged (LAPACK reads and writes one triangle only); result 1 is `info`
 *   (i32 per matrix): 0, or k > 0 when the leading minor of order k is not positive definite.
 * - `getrf` (LU with partial pivoting, row interchanges chosen as LAPACK does: the first row of
 *   largest |a| in the column): result 0 is L (unit, below the diagonal) and U packed; result 1
 *   the 1-based row swapped with row i at step i (i32, min(m, n) of them); result 2 `info`
 *   (0, or k > 0 when U[k-1, k-1] is exactly 0).
 * - `trsm`: solves op(A) X = B (left side) or X op(A) = B for X, A triangular.
 * - `lu_pivots_to_permutation`: 0-based pivots (the swaps above) to the permutation they apply to
 *   the rows 0..m-1, m the result's last dimension.
 * - `geqrf` (Householder QR): result 0 holds R in and above the diagonal and the reflectors' vectors
 *   below it (their leading 1 implicit), result 1 the min(m, n) taus (LAPACK's slarfg reflectors).
 * - `orgqr` (JAX's `householder_product`): operands reflectors (m×n, m >= n) and k <= n taus;
 *   the result is the first n columns of H_1 ... H_k.
 * - `syevd` (symmetric eigendecomposition, reading the triangle `uplo`/`lower` names): result 0
 *   the eigenvectors (columns), result 1 the eigenvalues ascending, result 2 `info`.
 * - `gesdd` / `gesvd` (LAPACK) and `gesvdj` (cuSOLVER) SVD: results A (overwritten; undefined),
 *   the min(m, n) singular values descending, U, Vᵀ (gesvdj: V, which JAX transposes after the
 *   call) and `info`. LAPACK's `mode` is 'A' (full U, Vᵀ), 'S' (reduced) or 'N' (values only: U
 *   and Vᵀ are still results, their shapes those of full_matrices as JAX lowered it, and unread).
 *
 * LAPACK's FFI kernels take matrices column-major: their `operand_layouts` put the last two
 * dimensions minor-most in swapped order (`[b, b+1, b-1, ..., 0]` for b batch dimensions). kiln's
 * tensors are row-major, but the kernels read each matrix by logical index, so the layout only
 * has to be the one the target expects: any other would ask the backend for something else, and
 * is refused by the verifier.
 */
import { tensorType, type TensorType } from './types.js';

export type { TransposeA, LinalgCall, LinalgKind, CustomCallAttrs } from './custom-call-attrs.js';
import type { CustomCallAttrs, LinalgCall, LinalgKind, TransposeA } from './custom-call-attrs.js';

/** A `mhlo.backend_config` field as the decoder sees it: an integer (ui8 chars), a bool, or text. */
export type ConfigValue = { k: 'int'; v: number } | { k: 'bool'; v: boolean } | { k: 'other'; text: string };

/** Reads `mhlo.backend_config` fields; `fail` throws the caller's located error. */
export interface ConfigReader {
  get(name: string): ConfigValue | undefined;
  fail(msg: string): never;
}

/** One row of the table: what a target computes and how its backend config reads and writes. */
export interface TargetRule<K extends LinalgKind = LinalgKind> {
  kind: K;
  /** The LAPACK/cuSOLVER element type the target is for (`s`: f32, `c`: complex<f32>). */
  element: 'f32' | 'complex<f32>';
  /** Why kiln refuses this target although it knows it (complex variants), else undefined. */
  refused?: string;
  decode(cfg: ConfigReader): Extract<LinalgCall, { kind: K }>;
  /** The `mhlo.backend_config` dictionary JAX prints for a call (fields in JAX's order). */
  encode(call: Extract<LinalgCall, { kind: K }>): string;
  /** Whether the backend takes LAPACK's column-major layouts (CPU and cuSOLVER alike). */
  columnMajor: boolean;
}

// ---- LAPACK's character flags, passed as ui8 ---------------------------------------------------

const CH = { L: 76, U: 85, N: 78, T: 84, C: 67, R: 82, V: 86, A: 65, S: 83 } as const;

function char(cfg: ConfigReader, name: string, allowed: (keyof typeof CH)[]): keyof typeof CH {
  const a = cfg.get(name);
  if (!a || a.k !== 'int') return cfg.fail(`mhlo.backend_config needs '${name}' (a ui8 character code)`);
  const c = allowed.find((x) => CH[x] === a.v);
  return c ?? cfg.fail(`'${name}' = ${a.v} is not one of ${allowed.map((x) => `${CH[x]} ('${x}')`).join(', ')}`);
}

function bool(cfg: ConfigReader, name: string): boolean {
  const a = cfg.get(name);
  if (!a || a.k !== 'bool') return cfg.fail(`mhlo.backend_config needs '${name}' (true or false)`);
  return a.v;
}

const ui8 = (c: keyof typeof CH) => `${CH[c]} : ui8`;
const TRANS: Record<'N' | 'T' | 'C', TransposeA> = { N: 'NO_TRANSPOSE', T: 'TRANSPOSE', C: 'ADJOINT' };
const TRANS_CHAR: Record<TransposeA, 'N' | 'T' | 'C'> = { NO_TRANSPOSE: 'N', TRANSPOSE: 'T', ADJOINT: 'C' };

const COMPLEX = 'complex<f32> linear algebra is not supported yet (kiln has no complex element type)';

function lapackPotrf(element: TargetRule['element']): TargetRule<'potrf'> {
  return {
    kind: 'potrf', element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX,
    decode: (cfg) => ({ kind: 'potrf', lower: char(cfg, 'uplo', ['L', 'U']) === 'L' }),
    encode: (c) => `{uplo = ${ui8(c.lower ? 'L' : 'U')}}`,
  };
}

function lapackGetrf(element: TargetRule['element']): TargetRule<'getrf'> {
  return { kind: 'getrf', element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX, decode: () => ({ kind: 'getrf' }), encode: () => '{}' };
}

function lapackTrsm(element: TargetRule['element']): TargetRule<'trsm'> {
  return {
    kind: 'trsm', element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX,
    decode: (cfg) => ({
      kind: 'trsm',
      leftSide: char(cfg, 'side', ['L', 'R']) === 'L',
      lower: char(cfg, 'uplo', ['L', 'U']) === 'L',
      unitDiagonal: char(cfg, 'diag', ['U', 'N']) === 'U',
      transposeA: TRANS[char(cfg, 'trans_x', ['N', 'T', 'C']) as 'N' | 'T' | 'C'],
    }),
    // JAX prints the dictionary's keys sorted.
    encode: (c) => `{diag = ${ui8(c.unitDiagonal ? 'U' : 'N')}, side = ${ui8(c.leftSide ? 'L' : 'R')}, ` +
      `trans_x = ${ui8(TRANS_CHAR[c.transposeA])}, uplo = ${ui8(c.lower ? 'L' : 'U')}}`,
  };
}

function lapackQr(kind: 'geqrf' | 'orgqr', element: TargetRule['element']): TargetRule<'geqrf' | 'orgqr'> {
  return {
    kind, element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX,
    decode: () => ({ kind }), encode: () => '{}',
  } as TargetRule<'geqrf' | 'orgqr'>;
}

/** LAPACK's syevd/heevd: `mode` 'V' (JAX always asks for the vectors) and `uplo`. */
function lapackSyevd(element: TargetRule['element']): TargetRule<'syevd'> {
  return {
    kind: 'syevd', element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX,
    decode: (cfg) => {
      char(cfg, 'mode', ['V']);
      return { kind: 'syevd', lower: char(cfg, 'uplo', ['L', 'U']) === 'L', algorithm: 0 };
    },
    encode: (c) => `{mode = ${ui8('V')}, uplo = ${ui8(c.lower ? 'L' : 'U')}}`,
  };
}

/** LAPACK's gesdd/gesvd: `mode` 'A' (full U and Vᵀ), 'S' (reduced) or 'N' (values only). */
function lapackSvd(element: TargetRule['element']): TargetRule<'svd'> {
  return {
    kind: 'svd', element, columnMajor: true, refused: element === 'f32' ? undefined : COMPLEX,
    decode: (cfg) => {
      const mode = char(cfg, 'mode', ['A', 'S', 'N']);
      return { kind: 'svd', computeUv: mode !== 'N', fullMatrices: mode === 'N' ? undefined : mode === 'A', vNotVt: false };
    },
    encode: (c) => `{mode = ${ui8(!c.computeUv ? 'N' : c.fullMatrices === false ? 'S' : 'A')}}`,
  };
}

/**
 * Every custom-call target kiln knows, by name. CPU: LAPACK through jaxlib's FFI kernels. GPU:
 * cuSOLVER (`cusolver_*_ffi`, which read `lower` as a bool) and jaxlib's own CUDA kernels (`cu_*`).
 * QR, eigh and SVD: geqrf, orgqr, syevd (LAPACK and cuSOLVER), gesdd and gesvd (LAPACK), gesvdj
 * (cuSOLVER).
 */
export const CUSTOM_CALLS: Readonly<Record<string, TargetRule>> = {
  lapack_spotrf_ffi: lapackPotrf('f32'),
  lapack_cpotrf_ffi: lapackPotrf('complex<f32>'),
  cusolver_potrf_ffi: {
    kind: 'potrf', element: 'f32', columnMajor: true,
    decode: (cfg) => ({ kind: 'potrf', lower: bool(cfg, 'lower') }),
    encode: (c) => `{lower = ${c.lower}}`,
  } satisfies TargetRule<'potrf'>,
  lapack_sgetrf_ffi: lapackGetrf('f32'),
  lapack_cgetrf_ffi: lapackGetrf('complex<f32>'),
  cusolver_getrf_ffi: lapackGetrf('f32'),
  lapack_strsm_ffi: lapackTrsm('f32'),
  lapack_ctrsm_ffi: lapackTrsm('complex<f32>'),
  lapack_sgeqrf_ffi: lapackQr('geqrf', 'f32'),
  lapack_cgeqrf_ffi: lapackQr('geqrf', 'complex<f32>'),
  cusolver_geqrf_ffi: lapackQr('geqrf', 'f32'),
  lapack_sorgqr_ffi: lapackQr('orgqr', 'f32'),
  lapack_cungqr_ffi: lapackQr('orgqr', 'complex<f32>'),
  cusolver_orgqr_ffi: lapackQr('orgqr', 'f32'),
  lapack_ssyevd_ffi: lapackSyevd('f32'),
  lapack_cheevd_ffi: lapackSyevd('complex<f32>'),
  cusolver_syevd_ffi: {
    kind: 'syevd', element: 'f32', columnMajor: true,
    decode: (cfg) => {
      const a = cfg.get('algorithm');
      if (!a || a.k !== 'int' || a.v < 0 || a.v > 2) return cfg.fail(`mhlo.backend_config needs 'algorithm' (a ui8: 0 default, 1 QR, 2 Jacobi)`);
      return { kind: 'syevd', lower: bool(cfg, 'lower'), algorithm: a.v };
    },
    encode: (c) => `{algorithm = ${c.algorithm} : ui8, lower = ${c.lower}}`,
  } satisfies TargetRule<'syevd'>,
  lapack_sgesdd_ffi: lapackSvd('f32'),
  lapack_cgesdd_ffi: lapackSvd('complex<f32>'),
  lapack_sgesvd_ffi: lapackSvd('f32'),
  lapack_cgesvd_ffi: lapackSvd('complex<f32>'),
  // cuSOLVER's Jacobi SVD (JAX's GPU default up to 1024x1024): V, not Vᵀ, as its fourth result.
  cusolver_gesvdj_ffi: {
    kind: 'svd', element: 'f32', columnMajor: true,
    decode: (cfg) => ({ kind: 'svd', computeUv: bool(cfg, 'compute_uv'), fullMatrices: bool(cfg, 'full_matrices'), vNotVt: true }),
    encode: (c) => `{compute_uv = ${c.computeUv}, full_matrices = ${c.fullMatrices !== false}}`,
  } satisfies TargetRule<'svd'>,
  cu_lu_pivots_to_permutation: {
    kind: 'pivotsToPermutation', element: 'f32', columnMajor: false,
    decode: () => ({ kind: 'pivotsToPermutation' }), encode: () => '{}',
  } satisfies TargetRule<'pivotsToPermutation'>,
} as Record<string, TargetRule>;

/** The rule of a target, or undefined for a target kiln does not run. */
export function targetRule(target: string): TargetRule | undefined {
  return Object.hasOwn(CUSTOM_CALLS, target) ? CUSTOM_CALLS[target] : undefined;
}

// ---- shapes and layouts ------------------------------------------------------------------------

/** What one kind takes and gives, for the verifier: result types from operand types. */
export interface KindShape {
  /** Operand count. */
  arity: number;
  /** Batch dimensions (`num_batch_dims`) implied by the operands. */
  batchDims(operands: readonly TensorType[]): number;
  /** The result types, or a problem with the operands (message without the op's name). */
  results(operands: readonly TensorType[], call: LinalgCall, declared: readonly TensorType[] | undefined): TensorType[] | string;
  /** The minor-to-major layouts the backend expects, per operand and per result, given b batch dims. */
  layouts(b: number): { operands: Layout[]; results: Layout[] };
}

/** The shape of a tensor a layout applies to: a matrix, a vector or a scalar per batch element. */
type Layout = 'matrix' | 'vector' | 'scalar';

/** The minor-to-major order of a layout kind with `b` batch dimensions (column-major matrices). */
export function layoutOf(kind: Layout, b: number, columnMajor: boolean): number[] {
  const batch = Array.from({ length: b }, (_, i) => b - 1 - i);
  if (kind === 'scalar') return batch;
  if (kind === 'vector') return [b, ...batch];
  return columnMajor ? [b, b + 1, ...batch] : [b + 1, b, ...batch];
}

const matrixProblem = (t: TensorType, what: string): string | undefined =>
  t.shape.length < 2 ? `${what} must have rank >= 2, got tensor of rank ${t.shape.length}` : undefined;

const batchOf = (t: TensorType): number[] => t.shape.slice(0, -2);
const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;
/** The batch rank of a kind whose first operand is a batch of matrices. */
const matrixBatchDims = ([a]: readonly TensorType[]): number => a.shape.length - 2;
/** Why `a` is not a batch of square matrices, or undefined. */
const squareMatrixProblem = (a: TensorType): string | undefined => {
  const p = matrixProblem(a, 'the matrix');
  if (p) return p;
  const [m, n] = a.shape.slice(-2);
  return m !== n ? `the matrix must be square, got ${m}x${n}` : undefined;
};

/** Per kind: operands, results and layouts. Typed over every kind so a new one must say. */
export const KIND_SHAPES: { [K in LinalgKind]: KindShape } = {
  potrf: {
    arity: 1,
    batchDims: matrixBatchDims,
    results([a]) {
      return squareMatrixProblem(a) ?? [a, tensorType('i32', batchOf(a))];
    },
    layouts: () => ({ operands: ['matrix'], results: ['matrix', 'scalar'] }),
  },
  getrf: {
    arity: 1,
    batchDims: matrixBatchDims,
    results([a]) {
      const p = matrixProblem(a, 'the matrix');
      if (p) return p;
      const [m, n] = a.shape.slice(-2);
      return [a, tensorType('i32', [...batchOf(a), Math.min(m, n)]), tensorType('i32', batchOf(a))];
    },
    layouts: () => ({ operands: ['matrix'], results: ['matrix', 'vector', 'scalar'] }),
  },
  trsm: {
    arity: 2,
    batchDims: matrixBatchDims,
    results([a, b], call) {
      const p = matrixProblem(a, 'a') ?? matrixProblem(b, 'b');
      if (p) return p;
      if (a.dtype !== b.dtype) return `a and b must have one element type, got ${a.dtype} and ${b.dtype}`;
      if (a.shape.length !== b.shape.length || batchOf(a).some((d, i) => d !== b.shape[i])) {
        return `a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)} must have the same batch dimensions`;
      }
      const [m, n] = a.shape.slice(-2);
      if (m !== n) return `a must be square, got ${m}x${n}`;
      const left = call.kind === 'trsm' && call.leftSide;
      const k = b.shape[b.shape.length - (left ? 2 : 1)];
      if (k !== m) return `a is ${m}x${m} but b ${fmtShape(b.shape)} has ${k} ${left ? 'rows' : 'columns'} (${left ? 'left' : 'right'} side)`;
      return [b];
    },
    layouts: () => ({ operands: ['matrix', 'matrix'], results: ['matrix'] }),
  },
  pivotsToPermutation: {
    arity: 1,
    batchDims: ([p]) => p.shape.length - 1,
    results([p], _call, declared) {
      if (p.shape.length < 1) return 'the pivots must have rank >= 1';
      if (p.dtype !== 'i32') return `the pivots must be i32, got ${p.dtype}`;
      // The permutation's length (the matrix's row count) is not implied by the pivots.
      const r = declared?.[0];
      if (!r) return 'needs its declared result type (the permutation length is not implied by the pivots)';
      const want = tensorType('i32', [...p.shape.slice(0, -1), r.shape[r.shape.length - 1] ?? -1]);
      if (r.shape.length !== p.shape.length || r.dtype !== 'i32' || want.shape.some((d, i) => d !== r.shape[i])) {
        return `the result must be tensor<${[...p.shape.slice(0, -1), 'M', 'i32'].join('x')}>, got ${r.dtype}${fmtShape(r.shape)}`;
      }
      if (r.shape[r.shape.length - 1] < p.shape[p.shape.length - 1]) {
        return `the permutation (${r.shape[r.shape.length - 1]}) is shorter than the pivots (${p.shape[p.shape.length - 1]})`;
      }
      return [r];
    },
    layouts: () => ({ operands: ['vector'], results: ['vector'] }),
  },
  geqrf: {
    arity: 1,
    batchDims: matrixBatchDims,
    results([a]) {
      const p = matrixProblem(a, 'the matrix');
      if (p) return p;
      const [m, n] = a.shape.slice(-2);
      return [a, tensorType(a.dtype, [...batchOf(a), Math.min(m, n)])];
    },
    layouts: () => ({ operands: ['matrix'], results: ['matrix', 'vector'] }),
  },
  orgqr: {
    arity: 2,
    batchDims: matrixBatchDims,
    results([a, tau]) {
      const p = matrixProblem(a, 'the reflectors');
      if (p) return p;
      const [m, n] = a.shape.slice(-2);
      if (m < n) return `the reflectors must have at least as many rows as columns, got ${m}x${n}`;
      if (tau.dtype !== a.dtype) return `the taus must have the reflectors' element type ${a.dtype}, got ${tau.dtype}`;
      const k = tau.shape[tau.shape.length - 1];
      if (tau.shape.length !== a.shape.length - 1 || batchOf(a).some((d, i) => d !== tau.shape[i]) || k > n) {
        return `the taus ${fmtShape(tau.shape)} must be [${[...batchOf(a), 'k'].join(', ')}] with k <= ${n} for reflectors ${fmtShape(a.shape)}`;
      }
      return [a];
    },
    layouts: () => ({ operands: ['matrix', 'vector'], results: ['matrix'] }),
  },
  syevd: {
    arity: 1,
    batchDims: matrixBatchDims,
    results([a]) {
      const p = squareMatrixProblem(a);
      if (p) return p;
      const n = a.shape[a.shape.length - 1];
      return [a, tensorType(a.dtype, [...batchOf(a), n]), tensorType('i32', batchOf(a))];
    },
    layouts: () => ({ operands: ['matrix'], results: ['matrix', 'vector', 'scalar'] }),
  },
  svd: {
    arity: 1,
    batchDims: matrixBatchDims,
    results([a], call, declared) {
      const p = matrixProblem(a, 'the matrix');
      if (p) return p;
      if (call.kind !== 'svd') return `computes svd, not ${call.kind}`;
      const [m, n] = a.shape.slice(-2);
      const k = Math.min(m, n);
      // LAPACK's mode 'N' does not say which shapes JAX gave U and Vᵀ: the declared ones, if either.
      const declaredU = declared?.[2]?.shape;
      const full = call.fullMatrices ?? (declaredU ? declaredU[declaredU.length - 1] === m : true);
      const u = [m, full ? m : k];
      const v = call.vNotVt ? [n, full ? n : k] : [full ? n : k, n];
      const batch = batchOf(a);
      return [a, tensorType(a.dtype, [...batch, k]), tensorType(a.dtype, [...batch, ...u]), tensorType(a.dtype, [...batch, ...v]), tensorType('i32', batch)];
    },
    layouts: () => ({ operands: ['matrix'], results: ['matrix', 'vector', 'matrix', 'matrix', 'scalar'] }),
  },
};

/**
 * Checks a call's batch dimensions and layouts against what its target expects; returns the
 * problem, or undefined. Missing layouts are refused: the backend would read another order.
 */
export function layoutProblem(a: CustomCallAttrs, operands: readonly TensorType[]): string | undefined {
  const rule = targetRule(a.target);
  if (!rule) return `unknown target @${a.target}`;
  const shape = KIND_SHAPES[rule.kind];
  const b = shape.batchDims(operands);
  if (a.numBatchDims !== undefined && a.numBatchDims !== b) {
    return `num_batch_dims = "${a.numBatchDims}" but the operands have ${b} batch dimension(s)`;
  }
  const want = shape.layouts(b);
  const check = (got: number[][] | undefined, kinds: Layout[], what: string): string | undefined => {
    if (!got) return `needs ${what} (the ${rule.columnMajor ? 'column-major ' : ''}layouts the backend kernel assumes)`;
    if (got.length !== kinds.length) return `${what} lists ${got.length} layouts for ${kinds.length} ${what.startsWith('operand') ? 'operands' : 'results'}`;
    for (const [i, k] of kinds.entries()) {
      const w = layoutOf(k, b, rule.columnMajor);
      if (got[i].length !== w.length || got[i].some((d, j) => d !== w[j])) {
        return `${what}[${i}] is [${got[i].join(', ')}], but @${a.target} takes [${w.join(', ')}]`;
      }
    }
    return undefined;
  };
  return check(a.operandLayouts, want.operands, 'operand_layouts') ?? check(a.resultLayouts, want.results, 'result_layouts');
}

// ---- printing what JAX prints ------------------------------------------------------------------

/** `dense<[0, 1]> : tensor<2xindex>` */
const layoutText = (l: readonly number[]) =>
  `dense<${l.length === 0 ? '' : l.length === 1 ? String(l[0]) : `[${l.join(', ')}]`}> : tensor<${l.length}xindex>`;

/** Shardy factor names as JAX assigns them: i, j, ..., z, then z_1, z_2, ... */
function factorName(k: number): string {
  const letters = 'ijklmnopqrstuvwxyz';
  return k < letters.length ? letters[k] : `z_${k - letters.length + 1}`;
}

/**
 * The attribute dictionary JAX prints for a call of `target` (CPU and GPU lowerings alike):
 * backend config, batch dimensions, layouts, the result aliasing the operand it overwrites, and
 * the Shardy rule with one factor per dimension. What the client emits, so `lower()` prints it.
 */
export function customCallAttrs(target: string, call: LinalgCall, operands: readonly TensorType[], results: readonly TensorType[]): CustomCallAttrs {
  const rule = targetRule(target);
  if (!rule || rule.kind !== call.kind) throw new Error(`customCallAttrs: @${target} does not compute ${call.kind}`);
  const shape = KIND_SHAPES[rule.kind];
  const b = shape.batchDims(operands);
  const want = shape.layouts(b);
  const operandLayouts = want.operands.map((k) => layoutOf(k, b, rule.columnMajor));
  const resultLayouts = want.results.map((k) => layoutOf(k, b, rule.columnMajor));
  // The result that overwrites an operand in place: trsm's solution is b, every other's result 0 is
  // operand 0; a single result is named by an empty tuple index (trsm's and orgqr's).
  const alias = call.kind === 'pivotsToPermutation' ? undefined
    : `[#stablehlo.output_operand_alias<output_tuple_indices = [${results.length === 1 ? '' : '0'}], operand_index = ${call.kind === 'trsm' ? 1 : 0}, operand_tuple_indices = []>]`;
  let k = 0;
  const sizes: string[] = [];
  const factors = (t: TensorType) => `[${t.shape.map((d) => { const f = factorName(k++); sizes.push(`${f}=${d}`); return f; }).join(', ')}]`;
  const ins = operands.map(factors).join(', ');
  const outs = results.map(factors).join(', ');
  const text: [string, string][] = [
    ['backend_config', '""'],
    ['mhlo.backend_config', (rule.encode as (c: LinalgCall) => string)(call)],
    ['mhlo.frontend_attributes', `{num_batch_dims = "${b}"}`],
    ['operand_layouts', `[${operandLayouts.map(layoutText).join(', ')}]`],
  ];
  if (alias) text.push(['output_operand_aliases', alias]);
  text.push(
    ['result_layouts', `[${resultLayouts.map(layoutText).join(', ')}]`],
    ['sdy.sharding_rule', `#sdy.op_sharding_rule<(${ins})->(${outs}) {${sizes.join(', ')}}, custom>`],
  );
  return { target, call, numBatchDims: b, operandLayouts, resultLayouts, text };
}
