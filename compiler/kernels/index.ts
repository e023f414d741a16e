/**
 * @file The lowerings of the ops that are not simple fusions: indexed data movement, windows,
 * convolution and sorting. The compiler calls `indexedLowerings[o.op]` for each such op, with the
 * buffers of its operands and results in `storageOf` layout.
 *
 * Kernels per op (dispatches; copies are buffer-to-buffer steps without a kernel):
 * - gather: 1. scatter: 1 (output-stationary), or 1 copy per operand + 1 with `unique_indices`.
 * - convolution: 1. reduce_window: 1. select_and_scatter: 2 (select, then scatter).
 * - sort and top_k: 1 while a row's positions fit in workgroup memory (n <= 4096 with 16 KiB),
 *   else 2 + log2(P) * (log2(P) + 1) / 2 with P the row length rounded up to a power of two.
 * - dynamic_slice: 1 (after one 4-byte copy per start index).
 * - dynamic_update_slice: 1 (after a copy of the operand unless in place, and the start copies).
 * - cholesky, triangular_solve and the linear-algebra custom calls: 1 (after a copy of the
 *   operand they factor or the right-hand side they solve for; see linalg.ts).
 * - fft: 1 per transformed axis (Stockham radix-2 in workgroup memory, or a direct DFT).
 */
import { Op } from '../../ir/ops.js';
import type { OpLowering } from '../program.js';
import { lowerConvolution } from './conv.js';
import { lowerFft } from './fft.js';
import { lowerGather, lowerScatter } from './gather.js';
import { lowerCholesky, lowerCustomCall, lowerTriangularSolve } from './linalg.js';
import { lowerDynamicSlice, lowerDynamicUpdateSlice } from './slice.js';
import { lowerSort, lowerTopK } from './sort.js';
import { lowerReduceWindow, lowerSelectAndScatter } from './window.js';

/** The ops lowered by a dedicated kernel rather than by fusion. */
export type IndexedOp =
  | Op.Gather | Op.Scatter | Op.Convolution | Op.ReduceWindow | Op.SelectAndScatter
  | Op.Sort | Op.TopK | Op.DynamicSlice | Op.DynamicUpdateSlice | Op.Fft
  | Op.Cholesky | Op.TriangularSolve | Op.CustomCall;

/** The lowering of each indexed op. */
export const indexedLowerings: { [K in IndexedOp]: OpLowering<K> } = {
  [Op.Gather]: lowerGather, [Op.Scatter]: lowerScatter, [Op.DynamicSlice]: lowerDynamicSlice,
  [Op.DynamicUpdateSlice]: lowerDynamicUpdateSlice, [Op.Convolution]: lowerConvolution,
  [Op.ReduceWindow]: lowerReduceWindow, [Op.SelectAndScatter]: lowerSelectAndScatter,
  [Op.Sort]: lowerSort, [Op.TopK]: lowerTopK, [Op.Fft]: lowerFft,
  [Op.Cholesky]: lowerCholesky, [Op.TriangularSolve]: lowerTriangularSolve, [Op.CustomCall]: lowerCustomCall,
};

export { regionFunction, callRegion } from './region.js';
