/**
 * @file Tile shapes of the matmul kernel (`matmul.ts`) and how one is chosen for a problem: the
 * largest tile that still gives the GPU enough workgroups to fill it, among those the adapter's
 * limits allow. The candidate list is a small tuning table; `setMatmulTileOverride` lets a
 * benchmark force one tile shape while it measures, and `Target.matmulTile` hands in the choices
 * the runtime's autotuner measured for this adapter (runtime/webgpu/tuning.ts).
 */
import type { Op } from '../../ir/ops.js';
import { numElements, type Operation } from '../../ir/types.js';
import type { MatmulProblem, Target, MatmulTile } from '../program.js';

export type { MatmulTile };

/** Threads of a workgroup running `t`. */
export function tileThreads(t: MatmulTile): number {
  return (t.bm / t.rm) * (t.bn / t.rn);
}

/** Workgroup memory `t` takes: both operand tiles, double-buffered, 4-byte elements. */
export function tileStorage(t: MatmulTile): number {
  return 2 * t.bk * (t.bm + t.bn) * 4;
}

/** Whether the adapter can run `t`. */
export function tileFits(t: MatmulTile, target: Target): boolean {
  return tileThreads(t) <= target.maxWorkgroupSize && tileStorage(t) <= target.maxWorkgroupStorage;
}

/**
 * Candidates in order of preference. 128x128 with 8x8 per thread is the classic shape for large
 * f32 GEMMs (64 FMAs per 4 vec4 workgroup-memory reads); smaller blocks trade that reuse for more
 * workgroups when the output is small. Measured on an H200 through Dawn/Vulkan without bounds
 * checks (scripts/kernel-perf.ts --gemm2, 2026-12-03): 4096^3 39.6 TFLOP/s on 128x128; where the
 * heuristic moves to 64x64 blocks, 64x64 with 16-deep K steps beat 32x64x8 on every shape
 * measured (1024^3 28.3 vs 26.4, 2048x3072x768 28.7 vs 26.2, 1024x256x1024 25.0 vs 20.9).
 */
export const MATMUL_TILES: readonly MatmulTile[] = [
  { bm: 128, bn: 128, bk: 8, rm: 8, rn: 8 },
  { bm: 64, bn: 128, bk: 8, rm: 8, rn: 8 },
  { bm: 64, bn: 64, bk: 16, rm: 4, rn: 4 },
  // Never the GPU heuristic's choice (64x64x16 above makes as many workgroups); a CPU adapter's,
  // whose fewer, fatter threads win (lavapipe 4x64^3: 0.37 ms vs 0.56 on 64x64x16, 0.60 on 32x32).
  { bm: 64, bn: 64, bk: 8, rm: 8, rn: 8 },
  { bm: 32, bn: 64, bk: 8, rm: 4, rn: 4 },
  { bm: 32, bn: 32, bk: 8, rm: 4, rn: 4 },
];

/** The smallest tile of all, which every WebGPU adapter runs (64 threads, 2 KiB of workgroup memory). */
const FALLBACK: MatmulTile = { bm: 16, bn: 16, bk: 4, rm: 4, rn: 4 };

/** Workgroups that keep a large GPU busy (two waves on ~130 multiprocessors); fewer and a smaller tile wins. */
export const MIN_WORKGROUPS = 256;

let override: MatmulTile | undefined;

/**
 * Forces one tile shape for every matmul compiled afterwards (undefined: back to the heuristic).
 * For benchmarks and autotuning; an override the adapter cannot run is ignored.
 */
export function setMatmulTileOverride(t: MatmulTile | undefined): void {
  override = t;
}

/** `o` as a tuning problem for `kernel`: group sizes, element types and each operand's fastest axis. */
export function matmulProblem(kernel: MatmulProblem['kernel'], o: Operation<Op.DotGeneral>): MatmulProblem {
  const [lhs, rhs] = o.operands;
  const { lhsBatch, rhsBatch, lhsContract, rhsContract } = o.attrs.dims;
  const ls = lhs.type.shape, rs = rhs.type.shape;
  const free = (shape: readonly number[], batch: readonly number[], contract: readonly number[]) =>
    shape.filter((_, i) => !batch.includes(i) && !contract.includes(i));
  return {
    kernel,
    batch: numElements(lhsBatch.map((d) => ls[d])),
    m: numElements(free(ls, lhsBatch, lhsContract)),
    n: numElements(free(rs, rhsBatch, rhsContract)),
    k: numElements(lhsContract.map((d) => ls[d])),
    dtypes: [lhs.type.dtype, rhs.type.dtype, o.results[0].type.dtype],
    lhs: lhsContract.includes(ls.length - 1) ? 'k' : 'm',
    rhs: rhsContract.includes(rs.length - 1) ? 'k' : 'n',
  };
}

/**
 * The tile shape for a [batch] x [m, k] x [k, n] product on `target`: a benchmark's override,
 * else the target's tuned tile for `problem`, else the heuristic.
 */
export function chooseMatmulTile(batch: number, m: number, n: number, target: Target, problem?: MatmulProblem): MatmulTile {
  if (override && tileFits(override, target)) return override;
  const tuned = problem && target.matmulTile?.(problem);
  if (tuned && tileFits(tuned, target)) return tuned;
  const fitting = MATMUL_TILES.filter((t) => tileFits(t, target));
  if (fitting.length === 0) return FALLBACK;
  const groups = (t: MatmulTile) => batch * Math.ceil(m / t.bm) * Math.ceil(n / t.bn);
  // Waste: output elements computed outside the matrix (tiles overhanging a small m or n).
  const waste = (t: MatmulTile) => (Math.ceil(m / t.bm) * t.bm * Math.ceil(n / t.bn) * t.bn) / (m * n);
  // On a CPU the largest 8x8-per-thread block that fits the output wins (lavapipe, 2 cores: 128^3
  // 0.67 ms on one 128x128 block, 1.45 on sixteen 32x32; 256^3 7.1 vs 9.7 on 64x64x16).
  const fat = target.cpu ? fitting.find((t) => t.rm * t.rn >= 64 && waste(t) < 1.3) : undefined;
  if (fat) return fat;
  for (const t of fitting) if (t.bm * t.bn >= 64 * 64 && groups(t) >= MIN_WORKGROUPS && waste(t) < 1.3) return t;
  // A small output: the first 4x4-per-thread block that still makes a quarter of the workgroups
  // (an MLP's 256x1024 layer on an H200: 64x64x16 in 64 workgroups 0.029 ms, 32x32 in 256 0.034 ms).
  return fitting.find((t) => t.rm * t.rn <= 16 && groups(t) >= MIN_WORKGROUPS / 4 && waste(t) < 1.3) ?? fitting[fitting.length - 1];
}
