/**
 * @file dot_general and convolution on the reference interpreter. Float sums accumulate in f64
 * and round once at the end, which is at least as accurate as any GPU kernel and matches JAX's
 * `precision=HIGHEST` on CPU to within the conformance tolerance; integer sums wrap to 32 bits
 * at every step. https://openxla.org/stablehlo/spec#dot_general and #convolution
 */
import { allocNarrow, isFloat, type NarrowDType, type SupportedDType } from '../../ir/dtype.js';
import type { ConvDims, DotDims } from '../../ir/ops.js';
import { numElements, stridesOf } from '../../ir/types.js';
import { narrowData, type HostTensor } from '../tensor.js';
import { normalizer } from './elementwise.js';
import { forEachIndex } from './indexing.js';

/** Adds `a * b` to an accumulator in the arithmetic of the result type. */
function accumulator(d: SupportedDType): (acc: number, a: number, b: number) => number {
  if (isFloat(d)) return (acc, a, b) => acc + a * b;
  if (d === 'i1') return (acc, a, b) => acc | (a & b);
  return (acc, a, b) => (acc + Math.imul(a, b)) | 0;
}

/** Lists the multi-indices of `shape` as flat offsets under `strides` (for the inner loops). */
function offsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const out = new Int32Array(numElements(shape));
  forEachIndex(shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * strides[d];
    out[flat] = o;
  });
  return out;
}

/**
 * `dot_general`: result dims are the batch dims, then lhs free dims, then rhs free dims, each
 * in operand order.
 */
export function dotGeneral(lhs: HostTensor, rhs: HostTensor, dims: DotDims, resultDType: SupportedDType): HostTensor {
  const ls = stridesOf(lhs.shape);
  const rs = stridesOf(rhs.shape);
  const lFree = lhs.shape.map((_, d) => d).filter((d) => !dims.lhsBatch.includes(d) && !dims.lhsContract.includes(d));
  const rFree = rhs.shape.map((_, d) => d).filter((d) => !dims.rhsBatch.includes(d) && !dims.rhsContract.includes(d));
  const batchShape = dims.lhsBatch.map((d) => lhs.shape[d]);
  const contractShape = dims.lhsContract.map((d) => lhs.shape[d]);
  const lFreeShape = lFree.map((d) => lhs.shape[d]);
  const rFreeShape = rFree.map((d) => rhs.shape[d]);
  const lBatchOff = offsets(batchShape, dims.lhsBatch.map((d) => ls[d]));
  const rBatchOff = offsets(batchShape, dims.rhsBatch.map((d) => rs[d]));
  const lContractOff = offsets(contractShape, dims.lhsContract.map((d) => ls[d]));
  const rContractOff = offsets(contractShape, dims.rhsContract.map((d) => rs[d]));
  const lFreeOff = offsets(lFreeShape, lFree.map((d) => ls[d]));
  const rFreeOff = offsets(rFreeShape, rFree.map((d) => rs[d]));
  const shape = [...batchShape, ...lFreeShape, ...rFreeShape];
  // Contractions never see 64-bit types (the verifier refuses them outside Int64Ops).
  const out = allocNarrow(resultDType as NarrowDType, numElements(shape));
  const norm = normalizer(resultDType as NarrowDType);
  const mac = accumulator(resultDType);
  const a = narrowData(lhs);
  const b = narrowData(rhs);
  let o = 0;
  for (let bi = 0; bi < lBatchOff.length; bi++) {
    for (let li = 0; li < lFreeOff.length; li++) {
      const lBase = lBatchOff[bi] + lFreeOff[li];
      for (let ri = 0; ri < rFreeOff.length; ri++) {
        const rBase = rBatchOff[bi] + rFreeOff[ri];
        let acc = 0;
        for (let k = 0; k < lContractOff.length; k++) acc = mac(acc, a[lBase + lContractOff[k]], b[rBase + rContractOff[k]]);
        out[o++] = norm(acc);
      }
    }
  }
  return { dtype: resultDType, shape, data: out };
}

export interface ConvOptions {
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
  windowReversal: readonly boolean[];
  dims: ConvDims;
  featureGroupCount: number;
  batchGroupCount: number;
}

/**
 * `convolution` with dimension numbers, strides, (negative) padding, lhs and rhs dilation,
 * window reversal, and feature and batch groups. The output shape is the op's result type.
 *
 * Feature groups split the input features and the output features into G matching chunks; batch
 * groups split the input batch and the output features into B matching chunks (the spec's
 * `split` then `concatenate` formulation, computed per output element here).
 */
export function convolution(lhs: HostTensor, rhs: HostTensor, o: ConvOptions, resultDType: SupportedDType, shape: readonly number[]): HostTensor {
  const { dims } = o;
  const nsp = dims.inputSpatial.length;
  const ls = stridesOf(lhs.shape);
  const rs = stridesOf(rhs.shape);
  const inFeatPerGroup = rhs.shape[dims.kernelInput];
  const outFeat = shape[dims.outputFeature];
  const outPerFeatGroup = outFeat / o.featureGroupCount;
  const outPerBatchGroup = outFeat / o.batchGroupCount;
  const outBatch = shape[dims.outputBatch];
  const inSpatial = dims.inputSpatial.map((d) => lhs.shape[d]);
  const kSpatial = dims.kernelSpatial.map((d) => rhs.shape[d]);
  const kOff = offsets(kSpatial, dims.kernelSpatial.map((d) => rs[d]));
  const kIdx: number[][] = [];
  forEachIndex(kSpatial, (idx) => { kIdx.push([...idx]); });
  // Contractions never see 64-bit types (the verifier refuses them outside Int64Ops).
  const out = allocNarrow(resultDType as NarrowDType, numElements(shape));
  const norm = normalizer(resultDType as NarrowDType);
  const mac = accumulator(resultDType);
  const a = narrowData(lhs);
  const b = narrowData(rhs);
  forEachIndex(shape, (idx, flat) => {
    const n = idx[dims.outputBatch];
    const f = idx[dims.outputFeature];
    const g = Math.floor(f / outPerFeatGroup);
    const bg = Math.floor(f / outPerBatchGroup);
    const lBase = (bg * outBatch + n) * ls[dims.inputBatch];
    const rBase = f * rs[dims.kernelOutput];
    let acc = 0;
    for (let k = 0; k < kIdx.length; k++) {
      // The input element under kernel tap k, in the dilated and padded input; none if it falls
      // in padding or between dilated elements.
      let lOff = lBase;
      let inside = true;
      for (let s = 0; s < nsp; s++) {
        const kk = o.windowReversal[s] ? kSpatial[s] - 1 - kIdx[k][s] : kIdx[k][s];
        const p = idx[dims.outputSpatial[s]] * o.windowStrides[s] + kk * o.rhsDilation[s] - o.padding[s][0];
        const ld = o.lhsDilation[s];
        if (p < 0 || p % ld !== 0 || p / ld >= inSpatial[s]) { inside = false; break; }
        lOff += (p / ld) * ls[dims.inputSpatial[s]];
      }
      if (!inside) continue;
      const rOff = rBase + kOff[k];
      for (let i = 0; i < inFeatPerGroup; i++) {
        const c = g * inFeatPerGroup + i;
        acc = mac(acc, a[lOff + c * ls[dims.inputFeature]], b[rOff + i * rs[dims.kernelInput]]);
      }
    }
    out[flat] = norm(acc);
  });
  return { dtype: resultDType, shape: [...shape], data: out };
}
