/**
 * @file Data movement on the reference interpreter: iota, broadcast_in_dim, reshape, transpose,
 * slice, dynamic_slice, dynamic_update_slice, concatenate, pad, reverse, gather and scatter.
 * Each walks the result's multi-index in row-major order and reads the operand element it maps
 * to, following the index formulas of https://openxla.org/stablehlo/spec.
 */
import { allocHost, isInt64Array, roundF16, type SupportedDType } from '../../ir/dtype.js';
import type { GatherDims, ScatterDims } from '../../ir/ops.js';
import { numElements, stridesOf } from '../../ir/types.js';
import { narrowData, type HostTensor } from '../tensor.js';

/**
 * Calls `f(index, flat)` for every multi-index of `shape` in row-major order. `index` is one
 * array mutated in place (copy it to keep it).
 */
export function forEachIndex(shape: readonly number[], f: (index: number[], flat: number) => void): void {
  const n = numElements(shape);
  if (n === 0) return;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/** Flat row-major offset of `index` in a tensor with the given strides. */
export function flatOf(index: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < index.length; d++) o += index[d] * strides[d];
  return o;
}

/**
 * Builds a tensor of `shape` whose element at each index is `x`'s element at `src(index)`, or
 * `fill` where `src` returns -1 (padding).
 */
function gatherFrom(x: HostTensor, shape: readonly number[], src: (index: number[]) => number, fill = 0): HostTensor {
  const a = x.data;
  const out = allocHost(x.dtype, numElements(shape));
  forEachIndex(shape, (idx, flat) => {
    const s = src(idx);
    out[flat] = s < 0 ? fill : a[s];
  });
  return { dtype: x.dtype, shape: [...shape], data: out };
}

export function iota(dtype: SupportedDType, shape: readonly number[], dim: number): HostTensor {
  const out = allocHost(dtype, numElements(shape));
  if (isInt64Array(out)) {
    forEachIndex(shape, (idx, flat) => { out[flat] = BigInt(idx[dim]); });
    return { dtype, shape: [...shape], data: out };
  }
  forEachIndex(shape, (idx, flat) => { out[flat] = dtype === 'f16' ? roundF16(idx[dim]) : idx[dim]; });
  return { dtype, shape: [...shape], data: out };
}

/** Operand dimension `i` becomes result dimension `dims[i]`; size-1 dimensions broadcast. */
export function broadcastInDim(x: HostTensor, shape: readonly number[], dims: readonly number[]): HostTensor {
  const st = stridesOf(x.shape);
  return gatherFrom(x, shape, (idx) => {
    let o = 0;
    for (let i = 0; i < dims.length; i++) if (x.shape[i] !== 1) o += idx[dims[i]] * st[i];
    return o;
  });
}

export function reshape(x: HostTensor, shape: readonly number[]): HostTensor {
  return { dtype: x.dtype, shape: [...shape], data: x.data.slice() };
}

/** Result dimension `i` is operand dimension `perm[i]`. */
export function transpose(x: HostTensor, perm: readonly number[]): HostTensor {
  const st = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const pst = perm.map((p) => st[p]);
  return gatherFrom(x, shape, (idx) => flatOf(idx, pst));
}

export function slice(x: HostTensor, start: readonly number[], limit: readonly number[], strides: readonly number[]): HostTensor {
  const st = stridesOf(x.shape);
  const shape = start.map((s, d) => Math.max(0, Math.ceil((limit[d] - s) / strides[d])));
  return gatherFrom(x, shape, (idx) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (start[d] + idx[d] * strides[d]) * st[d];
    return o;
  });
}

/** Start indices are clamped so the slice fits: `clamp(start, 0, dim - size)`. */
export function clampStarts(starts: readonly number[], dims: readonly number[], sizes: readonly number[]): number[] {
  return starts.map((s, d) => Math.min(Math.max(s, 0), dims[d] - sizes[d]));
}

export function dynamicSlice(x: HostTensor, starts: readonly number[], sizes: readonly number[]): HostTensor {
  const s = clampStarts(starts, x.shape, sizes);
  return slice(x, s, s.map((v, d) => v + sizes[d]), sizes.map(() => 1));
}

export function dynamicUpdateSlice(x: HostTensor, update: HostTensor, starts: readonly number[]): HostTensor {
  const s = clampStarts(starts, x.shape, update.shape);
  const out = x.data.slice();
  const st = stridesOf(x.shape);
  const u = update.data;
  forEachIndex(update.shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (s[d] + idx[d]) * st[d];
    out[o] = u[flat];
  });
  return { dtype: x.dtype, shape: [...x.shape], data: out };
}

export function concatenate(xs: readonly HostTensor[], dim: number): HostTensor {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((n, x) => n + x.shape[dim], 0);
  const out = allocHost(xs[0].dtype, numElements(shape));
  // Row-major: the result is, for each index of the outer dims, the inputs' inner blocks in turn.
  const outer = numElements(shape.slice(0, dim));
  const inner = numElements(shape.slice(dim + 1));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const x of xs) {
      const block = x.shape[dim] * inner;
      // One array kind for the types: the inputs share the result's dtype (bigints or numbers).
      (out as Float32Array).set((x.data as Float32Array).subarray(i * block, (i + 1) * block), o);
      o += block;
    }
  }
  return { dtype: xs[0].dtype, shape, data: out };
}

/** Edge padding (negative values crop) and interior padding between elements. */
export function pad(x: HostTensor, value: number, low: readonly number[], high: readonly number[], interior: readonly number[]): HostTensor {
  const st = stridesOf(x.shape);
  const shape = x.shape.map((n, d) => Math.max(0, low[d] + high[d] + n + Math.max(0, n - 1) * interior[d]));
  return gatherFrom(x, shape, (idx) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) {
      const p = idx[d] - low[d];
      const step = interior[d] + 1;
      if (p < 0 || p % step !== 0) return -1;
      const q = p / step;
      if (q >= x.shape[d]) return -1;
      o += q * st[d];
    }
    return o;
  }, value);
}

export function reverse(x: HostTensor, dims: readonly number[]): HostTensor {
  const st = stridesOf(x.shape);
  const rev = x.shape.map((_, d) => dims.includes(d));
  return gatherFrom(x, x.shape, (idx) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (rev[d] ? x.shape[d] - 1 - idx[d] : idx[d]) * st[d];
    return o;
  });
}

/** The index vector of `indices` at batch position `batch` (the index vector dim removed). */
function indexVector(indices: HostTensor, batch: readonly number[], ivd: number, st: readonly number[]): number[] {
  const rank = indices.shape.length;
  const data = narrowData(indices);
  if (ivd === rank) return [data[flatOf(batch, st)]];
  const full = [...batch.slice(0, ivd), 0, ...batch.slice(ivd)];
  const base = flatOf(full, st);
  const out = new Array<number>(indices.shape[ivd]);
  for (let k = 0; k < out.length; k++) out[k] = data[base + k * st[ivd]];
  return out;
}

/** Position of `dStart` (a dimension of the indices tensor) among the batch dims, which skip the index vector dim. */
function batchPos(dStart: number, ivd: number): number {
  return dStart < ivd ? dStart : dStart - 1;
}

/**
 * `stablehlo.gather`: start indices out of range are clamped so each slice lies in the operand.
 * https://openxla.org/stablehlo/spec#gather
 */
export function gather(x: HostTensor, indices: HostTensor, dims: GatherDims, sliceSizes: readonly number[], shape: readonly number[]): HostTensor {
  const rank = x.shape.length;
  const xst = stridesOf(x.shape);
  const ist = stridesOf(indices.shape);
  const offsetSet = new Set(dims.offsetDims);
  const batchDims = shape.map((_, d) => d).filter((d) => !offsetSet.has(d));
  // Operand dims that receive the offset index, in order.
  const windowDims = [...Array(rank).keys()].filter(
    (d) => !dims.collapsedSliceDims.includes(d) && !dims.operandBatchingDims.includes(d),
  );
  const operandIndex = new Array<number>(rank);
  return gatherFrom(x, shape, (idx) => {
    const batch = batchDims.map((d) => idx[d]);
    const start = indexVector(indices, batch, dims.indexVectorDim, ist);
    operandIndex.fill(0);
    for (let k = 0; k < dims.startIndexMap.length; k++) {
      const d = dims.startIndexMap[k];
      operandIndex[d] = Math.min(Math.max(start[k], 0), x.shape[d] - sliceSizes[d]);
    }
    for (let i = 0; i < dims.operandBatchingDims.length; i++) {
      operandIndex[dims.operandBatchingDims[i]] += batch[batchPos(dims.startIndicesBatchingDims[i], dims.indexVectorDim)];
    }
    for (let i = 0; i < windowDims.length; i++) operandIndex[windowDims[i]] += idx[dims.offsetDims[i]];
    return flatOf(operandIndex, xst);
  });
}

/** Combines the current result elements with the update elements (one of each per operand). */
export type Combiner = (current: number[], update: number[]) => number[];

/**
 * `stablehlo.scatter` over N operands and N updates. Updates are applied in row-major order of
 * the update index; an update window that does not lie wholly inside the operand is skipped, as
 * XLA does. https://openxla.org/stablehlo/spec#scatter
 */
export function scatter(inputs: readonly HostTensor[], indices: HostTensor, updates: readonly HostTensor[], dims: ScatterDims, combine: Combiner): HostTensor[] {
  const x0 = inputs[0];
  const rank = x0.shape.length;
  const xst = stridesOf(x0.shape);
  const ist = stridesOf(indices.shape);
  const ushape = updates[0].shape;
  const windowSet = new Set(dims.updateWindowDims);
  const scatterDims = ushape.map((_, d) => d).filter((d) => !windowSet.has(d));
  const windowDims = [...Array(rank).keys()].filter(
    (d) => !dims.insertedWindowDims.includes(d) && !dims.inputBatchingDims.includes(d),
  );
  // The window size along each operand dim, to check that a whole window fits.
  const windowSize = new Array<number>(rank).fill(1);
  windowDims.forEach((d, i) => { windowSize[d] = ushape[dims.updateWindowDims[i]]; });
  const outs = inputs.map((x) => narrowData(x).slice());
  const start = new Array<number>(rank);
  const target = new Array<number>(rank);
  forEachIndex(ushape, (idx, flat) => {
    const batch = scatterDims.map((d) => idx[d]);
    const sv = indexVector(indices, batch, dims.indexVectorDim, ist);
    start.fill(0);
    for (let k = 0; k < dims.scatterDimsToOperandDims.length; k++) start[dims.scatterDimsToOperandDims[k]] = sv[k];
    for (let i = 0; i < dims.inputBatchingDims.length; i++) {
      start[dims.inputBatchingDims[i]] += batch[batchPos(dims.scatterIndicesBatchingDims[i], dims.indexVectorDim)];
    }
    for (let d = 0; d < rank; d++) if (start[d] < 0 || start[d] + windowSize[d] > x0.shape[d]) return;
    for (let d = 0; d < rank; d++) target[d] = start[d];
    for (let i = 0; i < windowDims.length; i++) target[windowDims[i]] += idx[dims.updateWindowDims[i]];
    const o = flatOf(target, xst);
    const r = combine(outs.map((a) => a[o]), updates.map((u) => narrowData(u)[flat]));
    for (let j = 0; j < outs.length; j++) outs[j][o] = r[j];
  });
  return inputs.map((x, j) => ({ dtype: x.dtype, shape: [...x.shape], data: outs[j] }));
}
