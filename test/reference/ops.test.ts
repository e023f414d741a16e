/**
 * @file Table-driven tests of the reference interpreter's non-elementwise ops (data movement,
 * gather/scatter, reductions, contractions, sort, top_k) and of control flow, against
 * hand-computed values; plus the errors it must give. Elementwise ops are in elementwise.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { SupportedDType } from '../../ir/dtype.js';
import { InputError, TimeoutError, UnsupportedOpError } from '../../ir/errors.js';
import { ALL_OPS, Op, type ConvDims, type GatherDims, type ScatterDims } from '../../ir/ops.js';
import { tensorType, type Region, type Value } from '../../ir/types.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { RULES } from '../../runtime/reference/rules.js';
import { hostTensor, type HostTensor, narrowData } from '../../runtime/tensor.js';
import { binaryRegion, moduleOf, operation, region, ret, runOp, val } from './build.js';

const Inf = Infinity;
const T = (dtype: SupportedDType, shape: number[], values: number[]) => hostTensor(dtype, shape, values);
const F = (shape: number[], values: number[]) => T('f32', shape, values);
const I = (shape: number[], values: number[]) => T('i32', shape, values);
const ty = (dtype: SupportedDType, shape: number[]) => tensorType(dtype, shape);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Rec {
  name: string;
  run: () => HostTensor[];
  /** Expected results: dtype, shape and values each. */
  expect: [SupportedDType, number[], number[]][];
}

const gdims = (d: Partial<GatherDims>): GatherDims => ({
  offsetDims: [], collapsedSliceDims: [], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [], indexVectorDim: 0, ...d,
});
const sdims = (d: Partial<ScatterDims>): ScatterDims => ({
  updateWindowDims: [], insertedWindowDims: [], inputBatchingDims: [], scatterIndicesBatchingDims: [], scatterDimsToOperandDims: [], indexVectorDim: 0, ...d,
});
/** 1-D convolution layout [b, f, 0] x [o, i, 0] -> [b, f, 0]. */
const conv1d: ConvDims = {
  inputBatch: 0, inputFeature: 1, inputSpatial: [2], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2],
  outputBatch: 0, outputFeature: 1, outputSpatial: [2],
};
const convAttrs = (o: Partial<{ windowStrides: number[]; padding: [number, number][]; lhsDilation: number[]; rhsDilation: number[]; windowReversal: boolean[]; featureGroupCount: number; batchGroupCount: number }> = {}) => ({
  windowStrides: [1], padding: [[0, 0]] as [number, number][], lhsDilation: [1], rhsDilation: [1], windowReversal: [false],
  dims: conv1d, featureGroupCount: 1, batchGroupCount: 1, ...o,
});
const conv = (x: HostTensor, k: HostTensor, out: number[], o?: Parameters<typeof convAttrs>[0]) =>
  runOp(Op.Convolution, [x, k], [ty('f32', out)], convAttrs(o));

/** A body that keeps the second argument: `return %b`, so it takes the interpreted path. */
function keepUpdate(dtype: SupportedDType): Region {
  const a = val(dtype);
  const b = val(dtype);
  return { block: { args: [a, b], ops: [ret([b])] } };
}

/** argmax's body: (v_acc, i_acc, v, i) -> v > v_acc ? (v, i) : (v_acc, i_acc). */
function argmaxBody(): Region {
  const [va, ia, v, i] = [val('f32'), val('i32'), val('f32'), val('i32')];
  const gt = operation(Op.Compare, [v, va], [ty('i1', [])], { direction: 'GT', compareType: 'FLOAT' });
  const sv = operation(Op.Select, [gt.results[0], v, va], [ty('f32', [])], {});
  const si = operation(Op.Select, [gt.results[0], i, ia], [ty('i32', [])], {});
  return { block: { args: [va, ia, v, i], ops: [gt, sv, si, ret([sv.results[0], si.results[0]])] } };
}

/** A sort comparator on the second operand only (4 args, so it is interpreted). */
function bySecondLT(): Region {
  const args = [val('i32'), val('i32'), val('f32'), val('f32')];
  return region(args, (a) => [operation(Op.Compare, [a[2], a[3]], [ty('i1', [])], { direction: 'LT', compareType: 'FLOAT' })]);
}

const RECORDS: Rec[] = [
  // ---- producers and data movement
  { name: 'constant splat', run: () => interpret(moduleOf([], () => [operation(Op.Constant, [], [ty('f32', [2, 2])], { value: { splat: true, data: Float32Array.of(0.5) } })]), []), expect: [['f32', [2, 2], [0.5, 0.5, 0.5, 0.5]]] },
  { name: 'constant dense i1', run: () => interpret(moduleOf([], () => [operation(Op.Constant, [], [ty('i1', [3])], { value: { splat: false, data: Uint8Array.of(1, 0, 1) } })]), []), expect: [['i1', [3], [1, 0, 1]]] },
  { name: 'iota dim 1 i32', run: () => runOp(Op.Iota, [], [ty('i32', [2, 3])], { dim: 1 }), expect: [['i32', [2, 3], [0, 1, 2, 0, 1, 2]]] },
  { name: 'iota dim 0 f32', run: () => runOp(Op.Iota, [], [ty('f32', [2, 3])], { dim: 0 }), expect: [['f32', [2, 3], [0, 0, 0, 1, 1, 1]]] },
  { name: 'broadcast_in_dim [3] -> [2,3]', run: () => runOp(Op.BroadcastInDim, [F([3], [1, 2, 3])], [ty('f32', [2, 3])], { dims: [1] }), expect: [['f32', [2, 3], [1, 2, 3, 1, 2, 3]]] },
  { name: 'broadcast_in_dim of a size-1 dim', run: () => runOp(Op.BroadcastInDim, [F([2, 1], [7, 8])], [ty('f32', [2, 3])], { dims: [0, 1] }), expect: [['f32', [2, 3], [7, 7, 7, 8, 8, 8]]] },
  { name: 'broadcast_in_dim scalar', run: () => runOp(Op.BroadcastInDim, [I([], [4])], [ty('i32', [2])], { dims: [] }), expect: [['i32', [2], [4, 4]]] },
  { name: 'reshape', run: () => runOp(Op.Reshape, [F([2, 3], range(6))], [ty('f32', [3, 2])], {}), expect: [['f32', [3, 2], range(6)]] },
  { name: 'transpose 2-D', run: () => runOp(Op.Transpose, [F([2, 3], [1, 2, 3, 4, 5, 6])], [ty('f32', [3, 2])], { permutation: [1, 0] }), expect: [['f32', [3, 2], [1, 4, 2, 5, 3, 6]]] },
  { name: 'transpose 3-D [2,0,1]', run: () => runOp(Op.Transpose, [I([2, 1, 3], range(6))], [ty('i32', [3, 2, 1])], { permutation: [2, 0, 1] }), expect: [['i32', [3, 2, 1], [0, 3, 1, 4, 2, 5]]] },
  { name: 'slice with strides', run: () => runOp(Op.Slice, [F([6], range(6))], [ty('f32', [3])], { start: [1], limit: [6], strides: [2] }), expect: [['f32', [3], [1, 3, 5]]] },
  { name: 'slice 2-D', run: () => runOp(Op.Slice, [I([3, 3], range(9))], [ty('i32', [2, 2])], { start: [1, 0], limit: [3, 3], strides: [1, 2] }), expect: [['i32', [2, 2], [3, 5, 6, 8]]] },
  { name: 'dynamic_slice clamps a start past the end', run: () => runOp(Op.DynamicSlice, [F([5], range(5)), I([], [4])], [ty('f32', [2])], { sliceSizes: [2] }), expect: [['f32', [2], [3, 4]]] },
  { name: 'dynamic_slice clamps a negative start', run: () => runOp(Op.DynamicSlice, [I([2, 3], range(6)), I([], [-2]), I([], [1])], [ty('i32', [1, 2])], { sliceSizes: [1, 2] }), expect: [['i32', [1, 2], [1, 2]]] },
  { name: 'dynamic_update_slice clamps', run: () => runOp(Op.DynamicUpdateSlice, [F([5], range(5)), F([2], [9, 9]), I([], [4])], [ty('f32', [5])], {}), expect: [['f32', [5], [0, 1, 2, 9, 9]]] },
  { name: 'concatenate along dim 1', run: () => runOp(Op.Concatenate, [F([2, 1], [1, 2]), F([2, 2], [3, 4, 5, 6])], [ty('f32', [2, 3])], { dim: 1 }), expect: [['f32', [2, 3], [1, 3, 4, 2, 5, 6]]] },
  { name: 'pad edges and interior', run: () => runOp(Op.Pad, [F([3], [1, 2, 3]), F([], [0])], [ty('f32', [8])], { low: [1], high: [2], interior: [1] }), expect: [['f32', [8], [0, 1, 0, 2, 0, 3, 0, 0]]] },
  { name: 'pad with negative edges crops', run: () => runOp(Op.Pad, [I([4], [1, 2, 3, 4]), I([], [0])], [ty('i32', [2])], { low: [-1], high: [-1], interior: [0] }), expect: [['i32', [2], [2, 3]]] },
  { name: 'pad negative low after interior', run: () => runOp(Op.Pad, [I([3], [1, 2, 3]), I([], [7])], [ty('i32', [3])], { low: [-2], high: [0], interior: [1] }), expect: [['i32', [3], [2, 7, 3]]] },
  { name: 'pad 2-D', run: () => runOp(Op.Pad, [F([2, 2], [1, 2, 3, 4]), F([], [9])], [ty('f32', [3, 3])], { low: [1, 0], high: [0, 1], interior: [0, 0] }), expect: [['f32', [3, 3], [9, 9, 9, 1, 2, 9, 3, 4, 9]]] },
  { name: 'reverse one dim', run: () => runOp(Op.Reverse, [F([2, 3], [1, 2, 3, 4, 5, 6])], [ty('f32', [2, 3])], { dims: [1] }), expect: [['f32', [2, 3], [3, 2, 1, 6, 5, 4]]] },
  { name: 'reverse both dims', run: () => runOp(Op.Reverse, [F([2, 3], [1, 2, 3, 4, 5, 6])], [ty('f32', [2, 3])], { dims: [0, 1] }), expect: [['f32', [2, 3], [6, 5, 4, 3, 2, 1]]] },

  // ---- gather and scatter
  { name: 'gather rows (embedding), out-of-range starts clamped', run: () => runOp(Op.Gather, [F([4, 2], range(8)), I([4, 1], [2, 0, 5, -1])], [ty('f32', [4, 2])], { dims: gdims({ offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 1 }), sliceSizes: [1, 2], indicesAreSorted: false }), expect: [['f32', [4, 2], [4, 5, 0, 1, 6, 7, 0, 1]]] },
  { name: 'gather with an implicit index vector dim', run: () => runOp(Op.Gather, [I([5], [10, 11, 12, 13, 14]), I([2], [4, 1])], [ty('i32', [2])], { dims: gdims({ collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 1 }), sliceSizes: [1], indicesAreSorted: false }), expect: [['i32', [2], [14, 11]]] },
  { name: 'gather with operand batching dims', run: () => runOp(Op.Gather, [F([2, 3], range(6)), I([2, 1], [2, 0])], [ty('f32', [2])], { dims: gdims({ collapsedSliceDims: [1], operandBatchingDims: [0], startIndicesBatchingDims: [0], startIndexMap: [1], indexVectorDim: 1 }), sliceSizes: [1, 1], indicesAreSorted: false }), expect: [['f32', [2], [2, 3]]] },
  { name: 'gather a 2x2 window', run: () => runOp(Op.Gather, [I([3, 3], range(9)), I([2], [1, 1])], [ty('i32', [2, 2])], { dims: gdims({ offsetDims: [0, 1], startIndexMap: [0, 1], indexVectorDim: 0 }), sliceSizes: [2, 2], indicesAreSorted: false }), expect: [['i32', [2, 2], [4, 5, 7, 8]]] },
  { name: 'scatter add, repeated index accumulates, out of range skipped', run: () => runOp(Op.Scatter, [F([4], [0, 0, 0, 0]), I([4, 1], [1, 1, 9, -1]), F([4], [1, 2, 3, 4])], [ty('f32', [4])], { dims: sdims({ insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [4], [0, 3, 0, 0]]] },
  { name: 'scatter with batching dims (take_along_axis grad)', run: () => runOp(Op.Scatter, [F([2, 3], [0, 0, 0, 0, 0, 0]), I([2, 1], [2, 0]), F([2], [5, 7])], [ty('f32', [2, 3])], { dims: sdims({ insertedWindowDims: [1], inputBatchingDims: [0], scatterIndicesBatchingDims: [0], scatterDimsToOperandDims: [1], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [2, 3], [0, 0, 5, 7, 0, 0]]] },
  { name: 'scatter a window; a window past the end is skipped whole', run: () => runOp(Op.Scatter, [I([3, 2], [0, 0, 0, 0, 0, 0]), I([2, 1], [1, 3]), I([2, 2], [1, 2, 8, 9])], [ty('i32', [3, 2])], { dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, [binaryRegion(Op.Add, 'i32')]), expect: [['i32', [3, 2], [0, 0, 1, 2, 0, 0]]] },
  { name: 'scatter with an interpreted body (replace: last update wins)', run: () => runOp(Op.Scatter, [I([3], [5, 5, 5]), I([3, 1], [0, 2, 0]), I([3], [1, 2, 3])], [ty('i32', [3])], { dims: sdims({ insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, [keepUpdate('i32')]), expect: [['i32', [3], [3, 5, 2]]] },

  // ---- reductions
  { name: 'reduce add over dim 1', run: () => runOp(Op.Reduce, [F([2, 3], [1, 2, 3, 4, 5, 6]), F([], [0])], [ty('f32', [2])], { dims: [1] }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [2], [6, 15]]] },
  { name: 'reduce add over dim 0 from init 10', run: () => runOp(Op.Reduce, [F([2, 3], [1, 2, 3, 4, 5, 6]), F([], [10])], [ty('f32', [3])], { dims: [0] }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [3], [15, 17, 19]]] },
  { name: 'reduce over all dims to a scalar', run: () => runOp(Op.Reduce, [I([2, 3], range(6)), I([], [0])], [ty('i32', [])], { dims: [0, 1] }, [binaryRegion(Op.Add, 'i32')]), expect: [['i32', [], [15]]] },
  { name: 'reduce max propagates NaN', run: () => runOp(Op.Reduce, [F([2, 2], [1, NaN, 3, 4]), F([], [-Inf])], [ty('f32', [2])], { dims: [1] }, [binaryRegion(Op.Maximum, 'f32')]), expect: [['f32', [2], [NaN, 4]]] },
  { name: 'reduce and on i1', run: () => runOp(Op.Reduce, [T('i1', [2, 2], [1, 1, 1, 0]), T('i1', [], [1])], [ty('i1', [2])], { dims: [1] }, [binaryRegion(Op.And, 'i1')]), expect: [['i1', [2], [1, 0]]] },
  { name: 'reduce with an interpreted body (keep last)', run: () => runOp(Op.Reduce, [I([2, 3], range(6)), I([], [-1])], [ty('i32', [2])], { dims: [1] }, [keepUpdate('i32')]), expect: [['i32', [2], [2, 5]]] },
  { name: 'variadic reduce: argmax, ties keep the first', run: () => runOp(Op.Reduce, [F([2, 3], [1, 5, 3, 7, 2, 7]), I([2, 3], [0, 1, 2, 0, 1, 2]), F([], [-Inf]), I([], [0])], [ty('f32', [2]), ty('i32', [2])], { dims: [1] }, [argmaxBody()]), expect: [['f32', [2], [5, 7]], ['i32', [2], [1, 0]]] },
  { name: 'reduce_window cumsum (padding low)', run: () => runOp(Op.ReduceWindow, [F([4], [1, 2, 3, 4]), F([], [0])], [ty('f32', [4])], { windowDimensions: [4], windowStrides: [1], baseDilations: [1], windowDilations: [1], padding: [[3, 0]] }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [4], [1, 3, 6, 10]]] },
  { name: 'reduce_window 2x2 max pool, stride 2', run: () => runOp(Op.ReduceWindow, [F([4, 4], range(16)), F([], [-Inf])], [ty('f32', [2, 2])], { windowDimensions: [2, 2], windowStrides: [2, 2], baseDilations: [1, 1], windowDilations: [1, 1], padding: [[0, 0], [0, 0]] }, [binaryRegion(Op.Maximum, 'f32')]), expect: [['f32', [2, 2], [5, 7, 13, 15]]] },
  { name: 'reduce_window base dilation (holes are the init)', run: () => runOp(Op.ReduceWindow, [F([3], [1, 2, 3]), F([], [0])], [ty('f32', [4])], { windowDimensions: [2], windowStrides: [1], baseDilations: [2], windowDilations: [1], padding: [[0, 0]] }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [4], [1, 2, 2, 3]]] },
  { name: 'reduce_window window dilation', run: () => runOp(Op.ReduceWindow, [F([5], [1, 2, 3, 4, 5]), F([], [0])], [ty('f32', [3])], { windowDimensions: [2], windowStrides: [1], baseDilations: [1], windowDilations: [2], padding: [[0, 0]] }, [binaryRegion(Op.Add, 'f32')]), expect: [['f32', [3], [4, 6, 8]]] },
  { name: 'reduce_window pads with the init (max with init 100)', run: () => runOp(Op.ReduceWindow, [F([2], [1, 2]), F([], [100])], [ty('f32', [2])], { windowDimensions: [2], windowStrides: [1], baseDilations: [1], windowDilations: [1], padding: [[0, 1]] }, [binaryRegion(Op.Maximum, 'f32')]), expect: [['f32', [2], [100, 100]]] },
  { name: 'select_and_scatter (max-pool gradient)', run: () => runOp(Op.SelectAndScatter, [F([4], [1, 3, 2, 4]), F([2], [10, 20]), F([], [0])], [ty('f32', [4])], { windowDimensions: [2], windowStrides: [2], padding: [[0, 0]] }, [binaryRegion(Op.Compare, 'f32', { direction: 'GE', compareType: 'FLOAT' }), binaryRegion(Op.Add, 'f32')]), expect: [['f32', [4], [0, 10, 0, 20]]] },
  { name: 'select_and_scatter overlapping windows accumulate', run: () => runOp(Op.SelectAndScatter, [F([3], [1, 3, 2]), F([2], [1, 1]), F([], [0])], [ty('f32', [3])], { windowDimensions: [2], windowStrides: [1], padding: [[0, 0]] }, [binaryRegion(Op.Compare, 'f32', { direction: 'GE', compareType: 'FLOAT' }), binaryRegion(Op.Add, 'f32')]), expect: [['f32', [3], [0, 2, 0]]] },
  { name: 'select_and_scatter never selects padding', run: () => runOp(Op.SelectAndScatter, [F([2], [-5, -6]), F([2], [1, 2]), F([], [0])], [ty('f32', [2])], { windowDimensions: [2], windowStrides: [1], padding: [[0, 1]] }, [binaryRegion(Op.Compare, 'f32', { direction: 'GE', compareType: 'FLOAT' }), binaryRegion(Op.Add, 'f32')]), expect: [['f32', [2], [1, 2]]] },

  // ---- contractions
  { name: 'dot_general matmul', run: () => runOp(Op.DotGeneral, [F([2, 3], [1, 2, 3, 4, 5, 6]), F([3, 2], [7, 8, 9, 10, 11, 12])], [ty('f32', [2, 2])], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] } }), expect: [['f32', [2, 2], [58, 64, 139, 154]]] },
  { name: 'dot_general contracting dim 0 x 0 (transposed lhs)', run: () => runOp(Op.DotGeneral, [F([2, 2], [1, 2, 3, 4]), F([2, 1], [1, 1])], [ty('f32', [2, 1])], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [0], rhsContract: [0] } }), expect: [['f32', [2, 1], [4, 6]]] },
  { name: 'dot_general batched', run: () => runOp(Op.DotGeneral, [F([2, 1, 2], [1, 2, 3, 4]), F([2, 2, 1], [5, 6, 7, 8])], [ty('f32', [2, 1, 1])], { dims: { lhsBatch: [0], rhsBatch: [0], lhsContract: [2], rhsContract: [1] } }), expect: [['f32', [2, 1, 1], [17, 53]]] },
  { name: 'dot_general accumulates in f64', run: () => runOp(Op.DotGeneral, [F([3], [1e8, 1, -1e8]), F([3], [1, 1, 1])], [ty('f32', [])], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [0], rhsContract: [0] } }), expect: [['f32', [], [1]]] },
  { name: 'dot_general i32 wraps', run: () => runOp(Op.DotGeneral, [I([2], [65536, 1]), I([2], [65536, 5])], [ty('i32', [])], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [0], rhsContract: [0] } }), expect: [['i32', [], [5]]] },
  { name: 'convolution 1-D valid', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 3]), expect: [['f32', [1, 1, 3], [-2, -2, -2]]] },
  { name: 'convolution padding', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 5], { padding: [[1, 1]] }), expect: [['f32', [1, 1, 5], [-2, -2, -2, -2, 4]]] },
  { name: 'convolution stride 2', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 2], { windowStrides: [2] }), expect: [['f32', [1, 1, 2], [-2, -2]]] },
  { name: 'convolution lhs dilation', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 7], { lhsDilation: [2] }), expect: [['f32', [1, 1, 7], [-1, 0, -1, 0, -1, 0, -1]]] },
  { name: 'convolution rhs dilation', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 1], { rhsDilation: [2] }), expect: [['f32', [1, 1, 1], [-4]]] },
  { name: 'convolution window reversal', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 3], [1, 0, -1]), [1, 1, 3], { windowReversal: [true] }), expect: [['f32', [1, 1, 3], [2, 2, 2]]] },
  { name: 'convolution negative padding', run: () => conv(F([1, 1, 5], [1, 2, 3, 4, 5]), F([1, 1, 1], [2]), [1, 1, 3], { padding: [[-1, -1]] }), expect: [['f32', [1, 1, 3], [4, 6, 8]]] },
  { name: 'convolution feature groups (depthwise)', run: () => conv(F([1, 2, 3], [1, 2, 3, 4, 5, 6]), F([2, 1, 1], [10, 100]), [1, 2, 3], { featureGroupCount: 2 }), expect: [['f32', [1, 2, 3], [10, 20, 30, 400, 500, 600]]] },
  { name: 'convolution batch groups', run: () => conv(F([2, 1, 2], [1, 2, 3, 4]), F([2, 1, 1], [10, 100]), [1, 2, 2], { batchGroupCount: 2 }), expect: [['f32', [1, 2, 2], [10, 20, 300, 400]]] },
  { name: 'convolution sums input features', run: () => conv(F([1, 2, 2], [1, 2, 3, 4]), F([1, 2, 1], [1, 10]), [1, 1, 2]), expect: [['f32', [1, 1, 2], [31, 42]]] },

  // ---- sort and top_k
  { name: 'sort ascending', run: () => runOp(Op.Sort, [F([4], [3, 1, NaN, 2])], [ty('f32', [4])], { dimension: 0, isStable: true }, [binaryRegion(Op.Compare, 'f32', { direction: 'LT', compareType: 'TOTALORDER' })]), expect: [['f32', [4], [1, 2, 3, NaN]]] },
  { name: 'sort descending along dim 0', run: () => runOp(Op.Sort, [I([3, 2], [1, 6, 3, 4, 2, 5])], [ty('i32', [3, 2])], { dimension: 0, isStable: false }, [binaryRegion(Op.Compare, 'i32', { direction: 'GT', compareType: 'SIGNED' })]), expect: [['i32', [3, 2], [3, 6, 2, 5, 1, 4]]] },
  { name: 'sort total order: -0 before +0', run: () => runOp(Op.Sort, [F([4], [0, -0, -1, -Inf])], [ty('f32', [4])], { dimension: 0, isStable: true }, [binaryRegion(Op.Compare, 'f32', { direction: 'LT', compareType: 'TOTALORDER' })]), expect: [['f32', [4], [-Inf, -1, -0, 0]]] },
  { name: 'sort two operands by keys, stable', run: () => runOp(Op.Sort, [I([4], [2, 1, 2, 1]), F([4], [0, 1, 2, 3])], [ty('i32', [4]), ty('f32', [4])], { dimension: 0, isStable: true }, [region([val('i32'), val('i32'), val('f32'), val('f32')], (a) => [operation(Op.Compare, [a[0], a[1]], [ty('i1', [])], { direction: 'LT', compareType: 'SIGNED' })])]), expect: [['i32', [4], [1, 1, 2, 2]], ['f32', [4], [1, 3, 0, 2]]] },
  { name: 'sort by the second operand (interpreted comparator)', run: () => runOp(Op.Sort, [I([3], [0, 1, 2]), F([3], [5, -1, 3])], [ty('i32', [3]), ty('f32', [3])], { dimension: 0, isStable: true }, [bySecondLT()]), expect: [['i32', [3], [1, 2, 0]], ['f32', [3], [-1, 3, 5]]] },
  { name: 'top_k: largest first, ties by lower index', run: () => runOp(Op.TopK, [F([2, 4], [1, 3, 3, 2, -1, NaN, 5, 5])], [ty('f32', [2, 2]), ty('i32', [2, 2])], { k: 2 }), expect: [['f32', [2, 2], [3, 3, NaN, 5]], ['i32', [2, 2], [1, 2, 1, 2]]] },
  { name: 'top_k on i32', run: () => runOp(Op.TopK, [I([5], [4, -7, 9, 4, 0])], [ty('i32', [3]), ty('i32', [3])], { k: 3 }), expect: [['i32', [3], [9, 4, 4]], ['i32', [3], [2, 0, 3]]] },
];

// ---- control flow: modules built by hand ---------------------------------------------------

/** while (i < limit) { i += 1; s += i } with `limit` captured from the function's arguments. */
function whileModule() {
  const limit = val('i32', [], '%limit');
  const i0 = val('i32', [], '%i0');
  const s0 = val('i32', [], '%s0');
  const cond = region([val('i32'), val('i32')], (a) => [operation(Op.Compare, [a[0], limit], [ty('i1', [])], { direction: 'LT', compareType: 'SIGNED' })]);
  const one = operation(Op.Constant, [], [ty('i32', [])], { value: { splat: true, data: Int32Array.of(1) } });
  const [bi, bs] = [val('i32'), val('i32')];
  const inc = operation(Op.Add, [bi, one.results[0]], [ty('i32', [])], {});
  const acc = operation(Op.Add, [bs, inc.results[0]], [ty('i32', [])], {});
  const body: Region = { block: { args: [bi, bs], ops: [one, inc, acc, ret([inc.results[0], acc.results[0]])] } };
  return moduleOf([limit, i0, s0], () => [operation(Op.While, [i0, s0], [ty('i32', []), ty('i32', [])], {}, [cond, body])]);
}

/** A branch region with no arguments yielding `op(captured)`. */
function branchOf(op: Op, x: Value): Region {
  return region([], () => [operation(op, [x], [x.type], {} as never)]);
}

describe('data movement, gather/scatter, reductions, contractions, sort (reference)', () => {
  it.each(RECORDS.map((r) => [r.name, r] as const))('%s', (_n, r) => {
    const got = r.run();
    expect(got.length).toBe(r.expect.length);
    r.expect.forEach(([dtype, shape, values], i) => {
      expect(got[i].dtype).toBe(dtype);
      expect(got[i].shape).toEqual(shape);
      expect(Array.from(narrowData(got[i]))).toEqual(values);
    });
  });
});

describe('control flow (reference)', () => {
  it('while with a captured bound: sum of 1..10', () => {
    const [i, s] = interpret(whileModule(), [I([], [10]), I([], [0]), I([], [0])]);
    expect([i.data[0], s.data[0]]).toEqual([10, 55]);
  });

  it('while that never ends throws TimeoutError at the deadline', () => {
    const m = whileModule();
    const t0 = Date.now();
    expect(() => interpret(m, [I([], [2 ** 31 - 1]), I([], [0]), I([], [0])], { deadline: Date.now() + 50 })).toThrow(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a deadline already past throws before running', () => {
    expect(() => interpret(whileModule(), [I([], [1]), I([], [0]), I([], [0])], { deadline: Date.now() - 1 })).toThrow(TimeoutError);
  });

  it('if picks the branch by the predicate; branches capture outer values', () => {
    const [p, x] = [val('i1'), val('f32', [2])];
    const m = moduleOf([p, x], () => [operation(Op.If, [p], [ty('f32', [2])], {}, [branchOf(Op.Negate, x), branchOf(Op.Abs, x)])]);
    expect(Array.from(narrowData(interpret(m, [T('i1', [], [1]), F([2], [1, -2])])[0]))).toEqual([-1, 2]);
    expect(Array.from(narrowData(interpret(m, [T('i1', [], [0]), F([2], [1, -2])])[0]))).toEqual([1, 2]);
  });

  it('case picks a branch by index; out of range runs the last', () => {
    const [k, x] = [val('i32'), val('f32')];
    const m = moduleOf([k, x], () => [operation(Op.Case, [k], [ty('f32', [])], {}, [branchOf(Op.Negate, x), branchOf(Op.Sqrt, x), branchOf(Op.Floor, x)])]);
    const run = (i: number) => interpret(m, [I([], [i]), F([], [6.25])])[0].data[0];
    expect([run(0), run(1), run(2), run(3), run(-1)]).toEqual([-6.25, 2.5, 6, 6, 6]);
  });

  it('call runs a private function; results that alias inputs are copied', () => {
    const a = val('f32', [2]);
    const neg = operation(Op.Negate, [a], [ty('f32', [2])], {});
    const callee = { name: 'neg', visibility: 'private' as const, args: [a], resultTypes: [ty('f32', [2])], body: { args: [a], ops: [neg, ret(neg.results, Op.FuncReturn)] } };
    const x = val('f32', [2]);
    const m = moduleOf([x], () => {
      const c = operation(Op.Call, [x], [ty('f32', [2])], { callee: 'neg' });
      return [c, operation(Op.OptimizationBarrier, [c.results[0], x], [ty('f32', [2]), ty('f32', [2])], {})];
    }, [callee]);
    const input = F([2], [1, -2]);
    const [r, same] = interpret(m, [input]);
    expect(Array.from(narrowData(r))).toEqual([-1, 2]);
    expect(Array.from(narrowData(same))).toEqual([1, -2]);
    expect(same).not.toBe(input);
    expect(same.data).not.toBe(input.data);
  });
});

describe('errors (reference)', () => {
  it('checks input count, dtype and shape', () => {
    const x = val('f32', [2]);
    const m = moduleOf([x], () => [operation(Op.Negate, [x], [ty('f32', [2])], {})]);
    expect(() => interpret(m, [])).toThrow(InputError);
    expect(() => interpret(m, [I([2], [1, 2])])).toThrow(/argument 0 is tensor<2xf32>, got tensor<2xi32>/);
    expect(() => interpret(m, [F([3], [1, 2, 3])])).toThrow(InputError);
  });

  it('refuses a type it cannot compute on, naming the op and its location', () => {
    const x = val('f32', [2]);
    const m = moduleOf([x], () => [operation(Op.Convert, [x], [{ dtype: 'f64', shape: [2] }], {})]);
    expect(() => interpret(m, [F([2], [1, 2])])).toThrow(UnsupportedOpError);
    expect(() => interpret(m, [F([2], [1, 2])])).toThrow(/7:3: stablehlo\.convert: f64 is not supported/);
  });

  it('refuses a call to a missing function', () => {
    const x = val('f32', []);
    const m = moduleOf([x], () => [operation(Op.Call, [x], [ty('f32', [])], { callee: 'nowhere' })]);
    expect(() => interpret(m, [F([], [1])])).toThrow(/no function @nowhere/);
  });

  it('has a rule for every op in the op table', () => {
    expect(ALL_OPS.filter((op) => typeof RULES[op] !== 'function')).toEqual([]);
  });
});
