/**
 * @file Rewrites that give a large GPU enough workgroups, run after the optimising passes (they
 * only reshape work, so the reference interpreter never sees them):
 * - **Split-K.** A float `dot_general` whose output is too small to fill the GPU with the largest
 *   output tiles (a transformer's 2048x768 output projection of a 3072-wide layer) or with any
 *   (an MLP's 256x1024 layer) but whose contraction is long is
 *   computed as S partial products over K slices (the slice is one more batch dimension of a
 *   reshaped operand pair) and a sum over the slices: `reduce(dot(A[.., S, K/S], B[S, K/S, ..]))`.
 *   The sum fuses with the dot's former epilogue (bias, activation) into one reduce kernel.
 * - **Two-stage reductions.** A reduction with few outputs and long rows (a loss mean: every
 *   element into one scalar) runs one workgroup per output; it becomes P partial reductions of
 *   row slices, then a reduction of the partials (with the original init value).
 * Both only change the order of a float sum, as any GPU reduction or GEMM tree does.
 */
import { Op } from '../../ir/ops.js';
import { allocHost, type SupportedDType } from '../../ir/dtype.js';
import { numElements, type Module, type Operation, type TensorType, type Value } from '../../ir/types.js';
import type { Target } from '../program.js';
import { chooseMatmulTile, MATMUL_TILES, matmulProblem, MIN_WORKGROUPS, tileFits } from '../codegen/tiles.js';
import { binaryBody, binaryOpOf, cloneBlock, emit, rewritePass, type RewriteContext } from './rewrite.js';

/** Slices of K tried, smallest first. */
const SPLITS = [2, 3, 4, 6, 8];

/** Shortest K slice for the largest tile (shorter ones spend their time loading and storing). */
const MIN_SLICE = 512;

/** Shortest K slice when slices are what gives a small output enough workgroups. */
const MIN_SHORT_SLICE = 256;

/**
 * Workgroups of the largest tile a split must reach: one and a half of {@link MIN_WORKGROUPS}, so
 * that the last wave of tiles is not a nearly empty one.
 */
const SPLIT_WORKGROUPS = MIN_WORKGROUPS * 1.5;

/** Products smaller than this (FLOPs) are not split: the second kernel would cost more than it saves. */
const MIN_FLOPS = 1 << 25;

/** Rows a reduction may have and still be split (more rows already give enough workgroups). */
const FEW_ROWS = 64;

/** Elements per row from which a few-row reduction is split in two stages. */
const LONG_ROW = 1 << 15;

/** Elements each partial of a two-stage reduction folds at least. */
const MIN_PARTIAL = 2048;

/** Partials per row at most. */
const MAX_PARTIALS = 512;

/**
 * Slices of K for a [batch] x [m, k] x [k, n] product (1: no split); `outer` is the size of the
 * contracting dimension that would be sliced (K itself unless there are several).
 */
export type SplitChooser = (batch: number, m: number, n: number, k: number, target: Target, outer?: number) => number;

/**
 * The split-K and two-stage-reduction rewrites of `m` for `target` (the module itself when none
 * applies); `choose` decides the slices (tests force them on small shapes).
 */
export function splitForOccupancy(m: Module, target: Target, choose: SplitChooser = chooseSplitK): Module {
  return rewritePass(m, (o, ctx) => {
    if (o.op === Op.DotGeneral) return splitK(o as Operation<Op.DotGeneral>, ctx, target, choose);
    if (o.op === Op.Reduce) return splitReduce(o as Operation<Op.Reduce>, ctx);
    return undefined;
  });
}

/** `shape` with dimension `d` split into `[s, shape[d] / s]`. */
function splitDim(shape: readonly number[], d: number, s: number): number[] {
  return [...shape.slice(0, d), s, shape[d] / s, ...shape.slice(d + 1)];
}

/** Dimension indices at or after `d` move one up (a dimension was inserted before them). */
const shift = (dims: readonly number[], d: number) => dims.map((x) => (x >= d ? x + 1 : x));

/**
 * Slices of K for a [batch] x [m, k] x [k, n] product on `target` (1: no split). Measured on an
 * H200, each kernel timed alone as it runs inside a program (scripts/kernel-perf.ts --gemm2 and
 * the bench's profiles):
 * - an output the largest tile ({@link MATMUL_TILES}[0]) cannot fill, with a long K: slices of at
 *   least {@link MIN_SLICE} that give the largest tile enough workgroups (a transformer's
 *   2048x3072 -> 768 projection: 0.337 ms on its best unsplit tile, 0.273 ms in 4 slices);
 * - else an output too small for {@link MIN_WORKGROUPS} workgroups of its own tile: the fewest
 *   slices of at least {@link MIN_SHORT_SLICE} that make that many (an MLP's 256x1024x1024
 *   layer: 0.049 ms in 64 workgroups, 0.027 ms in 4 slices plus 0.008 ms for their sum).
 */
export function chooseSplitK(batch: number, m: number, n: number, k: number, target: Target, outer = k): number {
  const largest = MATMUL_TILES[0];
  if (2 * batch * m * n * k < MIN_FLOPS || !tileFits(largest, target)) return 1;
  const tile = (b: number) => chooseMatmulTile(b, m, n, target);
  const groups = (b: number, t = tile(b)) => b * Math.ceil(m / t.bm) * Math.ceil(n / t.bn);
  const whole = tile(batch);
  if (whole === largest) return 1;
  const slices = (min: number) => SPLITS.filter((s) => outer % s === 0 && k / s >= min && batch * s <= target.maxWorkgroupsPerDim);
  for (const s of slices(MIN_SLICE)) if (tile(batch * s) === largest && groups(batch * s, largest) >= SPLIT_WORKGROUPS) return s;
  if (groups(batch, whole) >= MIN_WORKGROUPS) return 1;
  for (const s of slices(MIN_SHORT_SLICE)) if (groups(batch * s) >= MIN_WORKGROUPS) return s;
  return 1;
}

function splitK(o: Operation<Op.DotGeneral>, ctx: RewriteContext, target: Target, choose: SplitChooser): Value[] | undefined {
  const [lhs, rhs] = o.operands;
  const out = o.results[0];
  if (out.type.dtype !== 'f32' || lhs.type.dtype !== 'f32' || rhs.type.dtype !== 'f32') return undefined;
  const { lhsBatch, rhsBatch, lhsContract, rhsContract } = o.attrs.dims;
  if (lhsContract.length === 0) return undefined;
  const ls = lhs.type.shape, rs = rhs.type.shape;
  const { batch, m, n, k } = matmulProblem('tiled', o);
  // The outermost contracting dimension of lhs is the one cut into slices.
  const j = lhsContract.indexOf(Math.min(...lhsContract));
  const dl = lhsContract[j], dr = rhsContract[j];
  const s = choose(batch, m, n, k, target, ls[dl]);
  if (s === 1 || ls[dl] % s !== 0) return undefined;
  const a = emit(ctx, o, Op.Reshape, [lhs], { dtype: 'f32', shape: splitDim(ls, dl, s) }, {});
  const b = emit(ctx, o, Op.Reshape, [rhs], { dtype: 'f32', shape: splitDim(rs, dr, s) }, {});
  // The slice index is the last batch dimension; the contraction continues within the slice.
  const dims = {
    lhsBatch: [...shift(lhsBatch, dl), dl],
    rhsBatch: [...shift(rhsBatch, dr), dr],
    lhsContract: lhsContract.map((d) => (d === dl ? dl + 1 : d > dl ? d + 1 : d)),
    rhsContract: rhsContract.map((d) => (d === dr ? dr + 1 : d > dr ? d + 1 : d)),
  };
  const nb = lhsBatch.length;
  const partialShape = [...out.type.shape.slice(0, nb), s, ...out.type.shape.slice(nb)];
  const attrs = o.attrs.precision ? { dims, precision: o.attrs.precision } : { dims };
  const partial = emit(ctx, o, Op.DotGeneral, [a, b], { dtype: 'f32', shape: partialShape }, attrs);
  return [sumOver(ctx, o, partial, nb, out.type)];
}

/** The f32 sum of `v` over dimension `d`, typed `type`. */
function sumOver(ctx: RewriteContext, from: Operation, v: Value, d: number, type: TensorType): Value {
  const zero = constant(ctx, from, 'f32', 0);
  return emit(ctx, from, Op.Reduce, [v, zero], type, { dims: [d] }, [{ block: binaryBody(Op.Add, 'f32') }]);
}

function constant(ctx: RewriteContext, from: Operation, dtype: SupportedDType, x: number): Value {
  const data = allocHost(dtype, 1);
  data[0] = x;
  return emit(ctx, from, Op.Constant, [], { dtype, shape: [] }, { value: { splat: true, data } });
}

/** The identity of a reduce body that is one associative, commutative op, on the types the split handles. */
function identityOf(o: Operation<Op.Reduce>): number | undefined {
  const dtype = o.results[0].type.dtype;
  const float = dtype === 'f32';
  if (!float && dtype !== 'i32' && dtype !== 'ui32') return undefined;
  switch (binaryOpOf(o.regions[0].block)) {
    case Op.Add: return float ? -0 : 0;
    case Op.Multiply: return 1;
    case Op.Maximum: return float ? -Infinity : dtype === 'i32' ? -(2 ** 31) : 0;
    case Op.Minimum: return float ? Infinity : dtype === 'i32' ? 2 ** 31 - 1 : 2 ** 32 - 1;
    default: return undefined;
  }
}

/** Partials per row for a reduction of `rows` rows of `len` elements (1: leave it alone). */
export function choosePartials(rows: number, len: number): number {
  if (rows >= FEW_ROWS || len < LONG_ROW) return 1;
  let p = 1;
  while (rows * p * 2 <= MAX_PARTIALS && len % (p * 2) === 0 && len / (p * 2) >= MIN_PARTIAL) p *= 2;
  return p;
}

function splitReduce(o: Operation<Op.Reduce>, ctx: RewriteContext): Value[] | undefined {
  if (o.operands.length !== 2) return undefined;
  const [x, init] = o.operands;
  const shape = x.type.shape;
  const dims = [...o.attrs.dims].sort((p, q) => p - q);
  const kept = shape.length - dims.length;
  // Only reductions over the trailing dimensions: each row is one contiguous run.
  if (!dims.every((d, i) => d === kept + i)) return undefined;
  const identity = identityOf(o);
  if (identity === undefined) return undefined;
  const keptShape = shape.slice(0, kept);
  const rows = numElements(keptShape), len = numElements(shape.slice(kept));
  const p = choosePartials(rows, len);
  if (p === 1) return undefined;
  const dtype = x.type.dtype as SupportedDType;
  const body = o.regions[0].block;
  const slices = emit(ctx, o, Op.Reshape, [x], { dtype, shape: [...keptShape, p, len / p] }, {});
  const partials = emit(ctx, o, Op.Reduce, [slices, constant(ctx, o, dtype, identity)], { dtype, shape: [...keptShape, p] },
    { dims: [kept + 1] }, [{ block: cloneBlock(body, new Map()) }]);
  return [emit(ctx, o, Op.Reduce, [partials, init], o.results[0].type, { dims: [kept] }, [{ block: cloneBlock(body, new Map()) }])];
}
