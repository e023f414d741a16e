/**
 * @file Shape rules for the ops whose dimension numbers are a small language of their own: gather,
 * scatter (with operand batching dims) and convolution (dimension layouts, padding, dilations,
 * feature and batch groups). Each follows the numbered constraints of its StableHLO spec section.
 */
import { Op } from './ops.js';
import { fmt, INT, NUMERIC, type RegionSignature, type ShapeContext, type ShapeRule, windowedSize } from './shapes-context.js';
import { sameShape, tensorType, type TensorType } from './types.js';

/** Index vector length implied by `index_vector_dim` (a trailing implicit 1 when it equals the rank). */
function indexVectorSize(indices: TensorType, ivd: number): number {
  return ivd < indices.shape.length ? indices.shape[ivd] : 1;
}

/** Checks batching dims pair up (same count, same sizes) between the operand and the indices. */
function checkBatching(
  c: ShapeContext<Op>, what: [string, string], operand: TensorType, opDims: number[], indices: TensorType,
  idxDims: number[], ivd: number,
): void {
  c.dims(what[1], idxDims, indices.shape.length);
  if (idxDims.includes(ivd)) c.fail(`${what[1]} = ${fmt(idxDims)} contains index_vector_dim ${ivd}`);
  if (opDims.length !== idxDims.length) c.fail(`${what[0]} = ${fmt(opDims)} and ${what[1]} = ${fmt(idxDims)} differ in length`);
  opDims.forEach((d, i) => {
    if (operand.shape[d] !== indices.shape[idxDims[i]]) {
      c.fail(`batching dims ${what[0]} = ${fmt(opDims)} and ${what[1]} = ${fmt(idxDims)} have sizes ${operand.shape[d]} and ${indices.shape[idxDims[i]]}`);
    }
  });
}

/** https://openxla.org/stablehlo/spec#gather */
export const gatherRule: ShapeRule<Op.Gather> = {
  infer(c) {
    c.arity(2);
    const [x, idx] = c.operands;
    c.dtypeIn(1, INT);
    const { dims: g, sliceSizes } = c.attrs;
    const rank = x.shape.length;
    const ivd = g.indexVectorDim;
    if (!(ivd >= 0 && ivd <= idx.shape.length)) c.fail(`index_vector_dim = ${ivd} is out of range for ${c.describe(1)}`);
    if (rank !== g.offsetDims.length + g.collapsedSliceDims.length + g.operandBatchingDims.length) {
      c.fail(`${c.describe(0)} has rank ${rank}, but offset_dims ${fmt(g.offsetDims)}, collapsed_slice_dims ${fmt(g.collapsedSliceDims)} and operand_batching_dims ${fmt(g.operandBatchingDims)} account for ${g.offsetDims.length + g.collapsedSliceDims.length + g.operandBatchingDims.length}`);
    }
    c.dims('collapsed_slice_dims', g.collapsedSliceDims, rank, { sorted: true });
    c.dims('operand_batching_dims', g.operandBatchingDims, rank, { sorted: true });
    c.dims('collapsed_slice_dims ++ operand_batching_dims', [...g.collapsedSliceDims, ...g.operandBatchingDims], rank);
    checkBatching(c, ['operand_batching_dims', 'start_indices_batching_dims'], x, g.operandBatchingDims, idx, g.startIndicesBatchingDims, ivd);
    c.dims('start_index_map', g.startIndexMap, rank);
    c.dims('start_index_map ++ operand_batching_dims', [...g.startIndexMap, ...g.operandBatchingDims], rank);
    const n = indexVectorSize(idx, ivd);
    if (g.startIndexMap.length !== n) c.fail(`start_index_map = ${fmt(g.startIndexMap)} must have ${n} entries, the index vector size of ${c.describe(1)}`);
    c.perDim('slice_sizes', sliceSizes, rank);
    sliceSizes.forEach((s, i) => {
      if (!(s >= 0 && s <= x.shape[i])) c.fail(`slice_sizes = ${fmt(sliceSizes)}: ${s} does not fit dimension ${i} of ${c.describe(0)}`);
    });
    for (const d of [...g.collapsedSliceDims, ...g.operandBatchingDims]) {
      if (sliceSizes[d] > 1) c.fail(`slice_sizes = ${fmt(sliceSizes)}: collapsed or batching dimension ${d} must have slice size <= 1`);
    }
    const batchSizes = idx.shape.filter((_, i) => i !== ivd);
    const offsetSizes = sliceSizes.filter((_, i) => !g.collapsedSliceDims.includes(i) && !g.operandBatchingDims.includes(i));
    const resultRank = batchSizes.length + offsetSizes.length;
    c.dims('offset_dims', g.offsetDims, resultRank, { sorted: true });
    const shape: number[] = [];
    let b = 0;
    let o = 0;
    for (let i = 0; i < resultRank; i++) shape.push(g.offsetDims.includes(i) ? offsetSizes[o++] : batchSizes[b++]);
    return [tensorType(x.dtype, shape)];
  },
};

/** https://openxla.org/stablehlo/spec#scatter: operands are N inputs, the indices, N updates. */
export const scatterRule: ShapeRule<Op.Scatter> = {
  infer(c) {
    const n = (c.operands.length - 1) / 2;
    if (!(Number.isInteger(n) && n >= 1)) c.fail(`takes N inputs, the indices and N updates, got ${c.operands.length} operands`);
    const x = c.operands[0];
    const idx = c.operands[n];
    const u = c.operands[n + 1];
    c.dtypeIn(n, INT);
    for (let i = 0; i < n; i++) {
      if (!sameShape(c.operands[i].shape, x.shape)) c.fail(`inputs ${c.describe(0)} and ${c.describe(i)} must have the same shape`);
      if (!sameShape(c.operands[n + 1 + i].shape, u.shape)) c.fail(`updates ${c.describe(n + 1)} and ${c.describe(n + 1 + i)} must have the same shape`);
      c.sameDType(i, n + 1 + i);
    }
    const s = c.attrs.dims;
    const rank = x.shape.length;
    const ivd = s.indexVectorDim;
    if (!(ivd >= 0 && ivd <= idx.shape.length)) c.fail(`index_vector_dim = ${ivd} is out of range for ${c.describe(n)}`);
    c.dims('update_window_dims', s.updateWindowDims, u.shape.length, { sorted: true });
    if (rank !== s.updateWindowDims.length + s.insertedWindowDims.length + s.inputBatchingDims.length) {
      c.fail(`${c.describe(0)} has rank ${rank}, but update_window_dims ${fmt(s.updateWindowDims)}, inserted_window_dims ${fmt(s.insertedWindowDims)} and input_batching_dims ${fmt(s.inputBatchingDims)} account for ${s.updateWindowDims.length + s.insertedWindowDims.length + s.inputBatchingDims.length}`);
    }
    c.dims('inserted_window_dims', s.insertedWindowDims, rank, { sorted: true });
    c.dims('input_batching_dims', s.inputBatchingDims, rank, { sorted: true });
    c.dims('inserted_window_dims ++ input_batching_dims', [...s.insertedWindowDims, ...s.inputBatchingDims], rank);
    checkBatching(c, ['input_batching_dims', 'scatter_indices_batching_dims'], x, s.inputBatchingDims, idx, s.scatterIndicesBatchingDims, ivd);
    c.dims('scatter_dims_to_operand_dims', s.scatterDimsToOperandDims, rank);
    c.dims('scatter_dims_to_operand_dims ++ input_batching_dims', [...s.scatterDimsToOperandDims, ...s.inputBatchingDims], rank);
    const nIdx = indexVectorSize(idx, ivd);
    if (s.scatterDimsToOperandDims.length !== nIdx) {
      c.fail(`scatter_dims_to_operand_dims = ${fmt(s.scatterDimsToOperandDims)} must have ${nIdx} entries, the index vector size of ${c.describe(n)}`);
    }
    // The updates are the scatter (batch) dims of the indices interleaved with window dims that
    // must fit inside the input's non-inserted, non-batching dims.
    const scatterSizes = idx.shape.filter((_, i) => i !== ivd);
    const windowBounds = x.shape.filter((_, i) => !s.insertedWindowDims.includes(i) && !s.inputBatchingDims.includes(i));
    if (u.shape.length !== scatterSizes.length + s.updateWindowDims.length) {
      c.fail(`updates ${c.describe(n + 1)} must have rank ${scatterSizes.length + s.updateWindowDims.length}: ${scatterSizes.length} scatter dims from the indices and ${s.updateWindowDims.length} update_window_dims`);
    }
    let si = 0;
    let wi = 0;
    u.shape.forEach((size, i) => {
      if (s.updateWindowDims.includes(i)) {
        const bound = windowBounds[wi++];
        if (size > bound) c.fail(`updates ${c.describe(n + 1)}: window dimension ${i} has size ${size}, larger than ${bound} in ${c.describe(0)}`);
      } else {
        const want = scatterSizes[si++];
        if (size !== want) c.fail(`updates ${c.describe(n + 1)}: scatter dimension ${i} has size ${size}, the indices ${c.describe(n)} give ${want}`);
      }
    });
    return c.operands.slice(0, n);
  },
  regions(c): RegionSignature[] {
    const n = (c.operands.length - 1) / 2;
    const scalars = c.operands.slice(0, n).map((t) => tensorType(t.dtype, []));
    return [{ name: 'update computation', args: [...scalars, ...scalars], returns: scalars }];
  },
};

/** https://openxla.org/stablehlo/spec#convolution */
export const convolutionRule: ShapeRule<Op.Convolution> = {
  infer(c) {
    c.arity(2);
    const [x, k] = c.operands;
    c.sameDType(0, 1);
    c.dtypeIn(0, NUMERIC);
    const a = c.attrs;
    const d = a.dims;
    const ns = d.inputSpatial.length;
    const rank = ns + 2;
    if (d.kernelSpatial.length !== ns || d.outputSpatial.length !== ns) {
      c.fail(`dim_numbers have ${ns} input, ${d.kernelSpatial.length} kernel and ${d.outputSpatial.length} output spatial dims`);
    }
    if (x.shape.length !== rank) c.fail(`lhs ${c.describe(0)} must have rank ${rank} for ${ns} spatial dims`);
    if (k.shape.length !== rank) c.fail(`rhs ${c.describe(1)} must have rank ${rank} for ${ns} spatial dims`);
    c.dims('input dimensions [b, f, spatial...]', [d.inputBatch, d.inputFeature, ...d.inputSpatial], rank);
    c.dims('kernel dimensions [o, i, spatial...]', [d.kernelOutput, d.kernelInput, ...d.kernelSpatial], rank);
    c.dims('output dimensions [b, f, spatial...]', [d.outputBatch, d.outputFeature, ...d.outputSpatial], rank);
    // Optional window attributes printed empty take their spec defaults.
    const ones = d.inputSpatial.map(() => 1);
    const strides = a.windowStrides.length ? a.windowStrides : ones;
    const pad = a.padding.length ? a.padding : d.inputSpatial.map((): [number, number] => [0, 0]);
    const lhsDil = a.lhsDilation.length ? a.lhsDilation : ones;
    const rhsDil = a.rhsDilation.length ? a.rhsDilation : ones;
    for (const [what, xs] of [['window_strides', strides], ['padding', pad], ['lhs_dilation', lhsDil], ['rhs_dilation', rhsDil], ['window_reversal', a.windowReversal.length ? a.windowReversal : ones]] as const) {
      if (xs.length !== ns) c.fail(`${what} has ${xs.length} entries for ${ns} spatial dims`);
    }
    for (const [what, xs] of [['window_strides', strides], ['lhs_dilation', lhsDil], ['rhs_dilation', rhsDil]] as const) {
      if (xs.some((v) => !(v >= 1))) c.fail(`${what} = ${fmt(xs)} must all be >= 1`);
    }
    const fgc = a.featureGroupCount;
    const bgc = a.batchGroupCount;
    if (!(fgc >= 1 && bgc >= 1)) c.fail(`feature_group_count = ${fgc} and batch_group_count = ${bgc} must be >= 1`);
    if (fgc > 1 && bgc > 1) c.fail(`feature_group_count = ${fgc} and batch_group_count = ${bgc} cannot both exceed 1`);
    const inBatch = x.shape[d.inputBatch];
    const inFeat = x.shape[d.inputFeature];
    const kIn = k.shape[d.kernelInput];
    const kOut = k.shape[d.kernelOutput];
    if (inFeat % fgc !== 0) c.fail(`input features ${inFeat} of ${c.describe(0)} are not divisible by feature_group_count = ${fgc}`);
    if (inBatch % bgc !== 0) c.fail(`input batch ${inBatch} of ${c.describe(0)} is not divisible by batch_group_count = ${bgc}`);
    if (inFeat / fgc !== kIn) {
      c.fail(`input features ${inFeat} / feature_group_count ${fgc} = ${inFeat / fgc}, but kernel ${c.describe(1)} has ${kIn} input features`);
    }
    if (kOut % fgc !== 0 || kOut % bgc !== 0) {
      c.fail(`kernel output features ${kOut} of ${c.describe(1)} must be divisible by feature_group_count = ${fgc} and batch_group_count = ${bgc}`);
    }
    const shape = new Array<number>(rank);
    shape[d.outputBatch] = inBatch / bgc;
    shape[d.outputFeature] = kOut;
    d.outputSpatial.forEach((od, i) => {
      const size = x.shape[d.inputSpatial[i]];
      const win = k.shape[d.kernelSpatial[i]];
      shape[od] = windowedSize(size, win, strides[i], pad[i][0], pad[i][1], lhsDil[i], rhsDil[i]);
    });
    return [tensorType(x.dtype, shape)];
  },
};

