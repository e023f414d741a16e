/**
 * @file Table-driven tests of `inferResultTypes`: one or more hand-checked records per op (shapes
 * worked out from the StableHLO spec by hand), then records of invalid uses with the message each
 * must give. A final test checks that every op in the enum has at least one passing record.
 */
import { describe, expect, it } from 'vitest';
import { isDType } from '../../ir/dtype.js';
import { UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { customCallAttrs } from '../../ir/custom-calls.js';
import { ALL_OPS, Op, type OpAttrs } from '../../ir/ops.js';
import { inferResultTypes, NeedsDeclaredResult, type ShapeExtras } from '../../ir/shapes.js';
import { formatType, type Region, type TensorType } from '../../ir/types.js';

/** `t('8x16xf32')`, `t('f32')` for a scalar. */
function t(s: string): TensorType {
  const parts = s.split('x');
  const dtype = parts.pop()!;
  if (!isDType(dtype)) throw new Error(`bad dtype in ${s}`);
  return { dtype, shape: parts.map(Number) };
}

/** A region that only returns values of the given types (for if/case branches). */
function returning(...types: string[]): Region {
  const vals = types.map((s) => ({ type: t(s) }));
  return { block: { args: [], ops: [{ op: Op.Return, operands: vals, results: [], attrs: {}, regions: [] }] } };
}

interface Rec<K extends Op = Op> {
  op: K;
  in: string[];
  attrs?: OpAttrs[K];
  declared?: string[];
  regions?: Region[];
  extras?: ShapeExtras;
  /** The expected result types, or the error: its class and a pattern its message must match. */
  want: string[] | { error: typeof VerifyError | typeof UnsupportedOpError; match: RegExp };
}
const rec = <K extends Op>(r: Rec<K>): Rec => r as unknown as Rec;
const none = {} as Record<string, never>;
const dot = (lb: number[], rb: number[], lc: number[], rc: number[]) => ({ dims: { lhsBatch: lb, rhsBatch: rb, lhsContract: lc, rhsContract: rc } });
const err = (match: RegExp, error: typeof VerifyError | typeof UnsupportedOpError = VerifyError) => ({ error, match });

const nchw = { inputBatch: 0, inputFeature: 1, inputSpatial: [2, 3], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2, 3], outputBatch: 0, outputFeature: 1, outputSpatial: [2, 3] };
const nhwc = { inputBatch: 0, inputFeature: 3, inputSpatial: [1, 2], kernelOutput: 3, kernelInput: 2, kernelSpatial: [0, 1], outputBatch: 0, outputFeature: 3, outputSpatial: [1, 2] };
const conv = (o: Partial<OpAttrs[Op.Convolution]> = {}): OpAttrs[Op.Convolution] => ({
  windowStrides: [], padding: [], lhsDilation: [], rhsDilation: [], windowReversal: [], dims: nchw, featureGroupCount: 1, batchGroupCount: 1, ...o,
});
const gdims = (o: Partial<OpAttrs[Op.Gather]['dims']>) => ({ offsetDims: [], collapsedSliceDims: [], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [], indexVectorDim: 0, ...o });
const sdims = (o: Partial<OpAttrs[Op.Scatter]['dims']>) => ({ updateWindowDims: [], insertedWindowDims: [], inputBatchingDims: [], scatterIndicesBatchingDims: [], scatterDimsToOperandDims: [], indexVectorDim: 0, ...o });
const rw = (o: Partial<OpAttrs[Op.ReduceWindow]>): OpAttrs[Op.ReduceWindow] => ({ windowDimensions: [], windowStrides: [], baseDilations: [], windowDilations: [], padding: [], ...o });
const sig = { signatureOf: (n: string) => (n === 'f' ? { args: [t('4xf32'), t('i32')], results: [t('2x2xf32')] } : undefined) };

// Every unary op except the predicates keeps the type; the predicates give i1.
const unaryFloat = [
  Op.Exp, Op.Expm1, Op.Log, Op.Log1p, Op.Logistic, Op.Sqrt, Op.Rsqrt, Op.Cbrt, Op.Sin, Op.Cos, Op.Tan, Op.Tanh,
  Op.Floor, Op.Ceil, Op.RoundAfz, Op.RoundEven, Op.Erf, Op.Erfc, Op.ErfInv, Op.Sinh, Op.Cosh, Op.Asin, Op.Acos,
  Op.Atan, Op.Asinh, Op.Acosh, Op.Atanh, Op.Lgamma, Op.Digamma, Op.BesselI1e,
];
const binaryFloat = [Op.Add, Op.Subtract, Op.Multiply, Op.Divide, Op.Remainder, Op.Power, Op.Maximum, Op.Minimum, Op.Atan2, Op.NextAfter, Op.Zeta, Op.Polygamma];

const records: Rec[] = [
  ...unaryFloat.map((op) => rec({ op, in: ['3x4xf16'], want: ['3x4xf16'] })),
  ...unaryFloat.map((op) => rec({ op, in: ['3x4xi32'], want: err(new RegExp(`^${op.replace('.', '\\.')}: operand #0 \\(tensor<3x4xi32>\\) must have a float( or complex)? element type`)) })),
  ...[Op.IsFinite, Op.IsInf, Op.IsPosInf, Op.IsNegInf].map((op) => rec({ op, in: ['5xf32'], want: ['5xi1'] })),
  rec({ op: Op.IsFinite, in: ['5xi32'], want: err(/must have a float element type/) }),
  rec({ op: Op.Abs, in: ['2xi32'], want: ['2xi32'] }),
  rec({ op: Op.Abs, in: ['2xui32'], want: err(/signed integer or float/) }),
  rec({ op: Op.Negate, in: ['f32'], want: ['f32'] }),
  rec({ op: Op.Negate, in: ['2xi1'], want: err(/numeric/) }),
  rec({ op: Op.Sign, in: ['2xf32'], want: ['2xf32'] }),
  rec({ op: Op.Square, in: ['2xi32'], want: ['2xi32'] }),
  rec({ op: Op.Not, in: ['2xi1'], want: ['2xi1'] }),
  rec({ op: Op.Not, in: ['2xf32'], want: err(/integer or i1/) }),
  rec({ op: Op.Popcnt, in: ['2xui32'], want: ['2xui32'] }),
  rec({ op: Op.Clz, in: ['2xi32'], want: ['2xi32'] }),
  rec({ op: Op.Clz, in: ['2xi1'], want: err(/an integer element type/) }),
  rec({ op: Op.Exp, in: ['2xf32', '2xf32'], want: err(/takes 1 operand, got 2/) }),
  // complex<f32> (written c64 here): abs, real and imag give the f32 part type.
  ...[Op.Exp, Op.Log, Op.Sqrt, Op.Tanh, Op.Negate, Op.Sign].map((op) => rec({ op, in: ['3xc64'], want: ['3xc64'] })),
  rec({ op: Op.Abs, in: ['3xc64'], want: ['3xf32'] }),
  rec({ op: Op.Real, in: ['2x3xc64'], want: ['2x3xf32'] }),
  rec({ op: Op.Imag, in: ['3xc64'], want: ['3xf32'] }),
  rec({ op: Op.Real, in: ['3xf32'], want: ['3xf32'] }),
  rec({ op: Op.Imag, in: ['3xi32'], want: err(/^stablehlo\.imag: operand #0 \(tensor<3xi32>\) must have a float or complex element type$/) }),
  rec({ op: Op.Complex, in: ['4xf32', '4xf32'], want: ['4xc64'] }),
  rec({ op: Op.Complex, in: ['4xf32', '3xf32'], want: err(/must have the same type/) }),
  rec({ op: Op.Complex, in: ['4xi32', '4xi32'], want: err(/must have element type f32 \(or f64\), the parts of a complex type/) }),
  rec({ op: Op.Compare, in: ['4xc64', '4xc64'], attrs: { direction: 'EQ' }, want: ['4xi1'] }),
  rec({ op: Op.Compare, in: ['4xc64', '4xc64'], attrs: { direction: 'LT' }, want: err(/^stablehlo\.compare: LT is not defined on operand #0 \(tensor<4xcomplex<f32>>\): complex values compare only with EQ and NE$/, UnsupportedOpError) }),
  // fft: FFT/IFFT keep the type; RFFT keeps n/2+1 bins of the last dim; IRFFT gives fft_length reals.
  rec({ op: Op.Fft, in: ['2x8xc64'], attrs: { fftType: 'FFT', fftLength: [8] }, want: ['2x8xc64'] }),
  rec({ op: Op.Fft, in: ['3x4x6xc64'], attrs: { fftType: 'IFFT', fftLength: [4, 6] }, want: ['3x4x6xc64'] }),
  rec({ op: Op.Fft, in: ['2x7xf32'], attrs: { fftType: 'RFFT', fftLength: [7] }, want: ['2x4xc64'] }),
  rec({ op: Op.Fft, in: ['5x4x16xf32'], attrs: { fftType: 'RFFT', fftLength: [5, 4, 16] }, want: ['5x4x9xc64'] }),
  rec({ op: Op.Fft, in: ['3x9xc64'], attrs: { fftType: 'IRFFT', fftLength: [3, 16] }, want: ['3x16xf32'] }),
  rec({ op: Op.Fft, in: ['3x9xc64'], attrs: { fftType: 'IRFFT', fftLength: [3, 17] }, want: ['3x17xf32'] }),
  rec({ op: Op.Fft, in: ['3x8xc64'], attrs: { fftType: 'IRFFT', fftLength: [3, 16] }, want: err(/^stablehlo\.fft: the trailing dimensions of operand #0 \(tensor<3x8xcomplex<f32>>\) must be \[3, 9\]/) }),
  rec({ op: Op.Fft, in: ['8xf32'], attrs: { fftType: 'FFT', fftLength: [8] }, want: err(/FFT needs a complex operand/) }),
  rec({ op: Op.Fft, in: ['8xc64'], attrs: { fftType: 'FFT', fftLength: [4] }, want: err(/must be \[4\] \(fft_length\)/) }),
  rec({ op: Op.Fft, in: ['2x2x2x2xc64'], attrs: { fftType: 'FFT', fftLength: [2, 2, 2, 2] }, want: err(/must have 1 to 3 entries/) }),

  ...binaryFloat.map((op) => rec({ op, in: ['8x16xf32', '8x16xf32'], want: ['8x16xf32'] })),
  rec({ op: Op.Add, in: ['8x16xf32', '16x8xf32'], want: err(/^stablehlo\.add: operand #0 \(tensor<8x16xf32>\) and operand #1 \(tensor<16x8xf32>\) must have the same type$/) }),
  rec({ op: Op.Add, in: ['4xf32', '4xi32'], want: err(/must have the same type/) }),
  rec({ op: Op.Add, in: ['4xi1', '4xi1'], want: ['4xi1'] }),
  rec({ op: Op.Subtract, in: ['4xi1', '4xi1'], want: err(/numeric/) }),
  rec({ op: Op.Atan2, in: ['4xi32', '4xi32'], want: err(/float element type/) }),
  ...[Op.And, Op.Or, Op.Xor].map((op) => rec({ op, in: ['4xi1', '4xi1'], want: ['4xi1'] })),
  rec({ op: Op.And, in: ['4xf32', '4xf32'], want: err(/^stablehlo\.and: .*integer or i1/) }),
  ...[Op.ShiftLeft, Op.ShiftRightArithmetic, Op.ShiftRightLogical].map((op) => rec({ op, in: ['4xui32', '4xui32'], want: ['4xui32'] })),
  rec({ op: Op.ShiftLeft, in: ['4xi1', '4xi1'], want: err(/an integer element type/) }),
  rec({ op: Op.Compare, in: ['3x5xi32', '3x5xi32'], attrs: { direction: 'LT', compareType: 'SIGNED' }, want: ['3x5xi1'] }),
  rec({ op: Op.Compare, in: ['f32', 'f32'], attrs: { direction: 'EQ', compareType: 'TOTALORDER' }, want: ['i1'] }),
  rec({ op: Op.Compare, in: ['2xi1', '2xi1'], attrs: { direction: 'EQ', compareType: 'UNSIGNED' }, want: ['2xi1'] }),
  rec({ op: Op.Compare, in: ['2xf32', '2xf32'], attrs: { direction: 'GT', compareType: 'SIGNED' }, want: err(/comparison type SIGNED does not suit/) }),
  rec({ op: Op.Compare, in: ['2xf32', '3xf32'], attrs: { direction: 'GT' }, want: err(/same type/) }),

  rec({ op: Op.Select, in: ['8x16xi1', '8x16xf32', '8x16xf32'], want: ['8x16xf32'] }),
  rec({ op: Op.Select, in: ['i1', '8x16xf32', '8x16xf32'], want: ['8x16xf32'] }),
  rec({ op: Op.Select, in: ['8xi1', '8x16xf32', '8x16xf32'], want: err(/predicate operand #0 \(tensor<8xi1>\) must be a scalar or have the shape/) }),
  rec({ op: Op.Select, in: ['8x16xi32', '8x16xf32', '8x16xf32'], want: err(/must have i1 element type/) }),
  rec({ op: Op.Clamp, in: ['f32', '8x16xf32', 'f32'], want: ['8x16xf32'] }),
  rec({ op: Op.Clamp, in: ['8x16xf32', '8x16xf32', '8x16xf32'], want: ['8x16xf32'] }),
  rec({ op: Op.Clamp, in: ['16xf32', '8x16xf32', 'f32'], want: err(/min operand #0 \(tensor<16xf32>\) must be a scalar/) }),
  rec({ op: Op.Convert, in: ['8x16xi1'], declared: ['8x16xi32'], want: ['8x16xi32'] }),
  rec({ op: Op.Convert, in: ['8x16xi1'], declared: ['8xi32'], want: err(/must have the shape/) }),
  rec({ op: Op.Convert, in: ['8x16xi1'], want: err(/result type must be given/) }),
  rec({ op: Op.BitcastConvert, in: ['4xf32'], declared: ['4xui32'], want: ['4xui32'] }),
  rec({ op: Op.BitcastConvert, in: ['3x2xui32'], declared: ['3xui64'], want: ['3xui64'] }),
  rec({ op: Op.BitcastConvert, in: ['3xi64'], declared: ['3x2xf32'], want: ['3x2xf32'] }),
  rec({ op: Op.BitcastConvert, in: ['3x4xui32'], declared: ['3xui64'], want: err(/trailing dimension of 2/) }),
  rec({ op: Op.BitcastConvert, in: ['4xf32'], declared: ['4x2xf16'], want: err(/kiln bitcasts between equal widths and between 32 and 64 bits only/, UnsupportedOpError) }),
  rec({ op: Op.ReducePrecision, in: ['4xf32'], attrs: { exponentBits: 5, mantissaBits: 10 }, want: ['4xf32'] }),
  rec({ op: Op.ReducePrecision, in: ['4xf32'], attrs: { exponentBits: 0, mantissaBits: 10 }, want: err(/exponent_bits = 0/) }),

  rec({ op: Op.Constant, in: [], attrs: { value: { splat: true, data: new Float32Array([1]) } }, declared: ['2x3xf32'], want: ['2x3xf32'] }),
  rec({ op: Op.Constant, in: [], attrs: { value: { splat: false, data: new Int32Array(5) } }, declared: ['2x3xi32'], want: err(/literal has 5 elements, tensor<2x3xi32> holds 6/) }),
  rec({ op: Op.Iota, in: [], attrs: { dim: 1 }, declared: ['8x16xi32'], want: ['8x16xi32'] }),
  rec({ op: Op.Iota, in: [], attrs: { dim: 2 }, declared: ['8x16xi32'], want: err(/iota_dimension = \[2\]: 2 is out of range for rank 2/) }),
  rec({ op: Op.BroadcastInDim, in: ['1x32xf32'], attrs: { dims: [0, 1] }, declared: ['8x32xf32'], want: ['8x32xf32'] }),
  rec({ op: Op.BroadcastInDim, in: ['f32'], attrs: { dims: [] }, declared: ['8x32xf32'], want: ['8x32xf32'] }),
  rec({ op: Op.BroadcastInDim, in: ['3xf32'], attrs: { dims: [0] }, declared: ['4x3xf32'], want: err(/dimension 0 of operand #0 \(tensor<3xf32>\) has size 3, which cannot broadcast to size 4/) }),
  rec({ op: Op.BroadcastInDim, in: ['3x3xf32'], attrs: { dims: [1, 1] }, declared: ['3x3xf32'], want: err(/repeats a dimension/) }),
  rec({ op: Op.Reshape, in: ['16x8xf32'], declared: ['4x32xf32'], want: ['4x32xf32'] }),
  rec({ op: Op.Reshape, in: ['16x8xf32'], declared: ['4x30xf32'], want: err(/has 128 elements, result tensor<4x30xf32> has 120/) }),
  rec({ op: Op.Transpose, in: ['2x3x4xf32'], attrs: { permutation: [2, 0, 1] }, want: ['4x2x3xf32'] }),
  rec({ op: Op.Transpose, in: ['2x3xf32'], attrs: { permutation: [0, 0] }, want: err(/permutation = \[0, 0\] repeats a dimension/) }),
  rec({ op: Op.Slice, in: ['16x16xf32'], attrs: { start: [0, 1], limit: [16, 9], strides: [2, 1] }, want: ['8x8xf32'] }),
  rec({ op: Op.Slice, in: ['10xf32'], attrs: { start: [1], limit: [10], strides: [4] }, want: ['3xf32'] }),
  rec({ op: Op.Slice, in: ['8x16xf32'], attrs: { start: [2, 0], limit: [9, 3], strides: [1, 1] }, want: err(/dimension 0: slice 2:9 is outside 0:8/) }),
  rec({ op: Op.DynamicSlice, in: ['8x16xf32', 'i32', 'i32'], attrs: { sliceSizes: [2, 16] }, want: ['2x16xf32'] }),
  rec({ op: Op.DynamicSlice, in: ['8x16xf32', 'i32', '2xi32'], attrs: { sliceSizes: [2, 16] }, want: err(/start index operand #2 \(tensor<2xi32>\) must be a scalar/) }),
  rec({ op: Op.DynamicSlice, in: ['8x16xf32', 'i32', 'i32'], attrs: { sliceSizes: [9, 16] }, want: err(/slice_sizes = \[9, 16\]: 9 does not fit/) }),
  rec({ op: Op.DynamicUpdateSlice, in: ['8x16xf32', '2x4xf32', 'ui32', 'ui32'], want: ['8x16xf32'] }),
  rec({ op: Op.DynamicUpdateSlice, in: ['8x16xf32', '9x4xf32', 'i32', 'i32'], want: err(/must have the rank of .* and fit inside it/) }),
  rec({ op: Op.Concatenate, in: ['8x16xf32', '8x16xf32', '2x16xf32'], attrs: { dim: 0 }, want: ['18x16xf32'] }),
  rec({ op: Op.Concatenate, in: ['8x16xf32', '8x15xf32'], attrs: { dim: 0 }, want: err(/operand #1 \(tensor<8x15xf32>\) must match operand #0 \(tensor<8x16xf32>\) in every dimension but 0/) }),
  rec({ op: Op.Pad, in: ['8x16xf32', 'f32'], attrs: { low: [1, 0], high: [0, 2], interior: [0, 0] }, want: ['9x18xf32'] }),
  rec({ op: Op.Pad, in: ['4x5xf32', 'f32'], attrs: { low: [-1, 2], high: [0, -3], interior: [1, 2] }, want: ['6x12xf32'] }),
  rec({ op: Op.Pad, in: ['4xf32', 'f32'], attrs: { low: [-5], high: [0], interior: [0] }, want: err(/has negative size -1/) }),
  rec({ op: Op.Pad, in: ['4xf32', 'i32'], attrs: { low: [0], high: [0], interior: [0] }, want: err(/same element type/) }),
  rec({ op: Op.Reverse, in: ['4x5xf32'], attrs: { dims: [1] }, want: ['4x5xf32'] }),
  rec({ op: Op.Reverse, in: ['4x5xf32'], attrs: { dims: [2] }, want: err(/out of range for rank 2/) }),
  rec({ op: Op.Gather, in: ['10x6xf32', '3x5x1xi32'], attrs: { dims: gdims({ offsetDims: [2], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 2 }), sliceSizes: [1, 6], indicesAreSorted: false }, want: ['3x5x6xf32'] }),
  // Batched gather (take_along_axis): operand dim 0 is batched with indices dim 0.
  rec({ op: Op.Gather, in: ['8x4xf32', '8x1x1xi32'], attrs: { dims: gdims({ offsetDims: [], collapsedSliceDims: [1], operandBatchingDims: [0], startIndicesBatchingDims: [0], startIndexMap: [1], indexVectorDim: 2 }), sliceSizes: [1, 1], indicesAreSorted: false }, want: ['8x1xf32'] }),
  // index_vector_dim equal to the rank: an implicit trailing index vector of size 1.
  rec({ op: Op.Gather, in: ['10x6xf32', '3xi32'], attrs: { dims: gdims({ offsetDims: [1, 2], startIndexMap: [0], indexVectorDim: 1 }), sliceSizes: [2, 6], indicesAreSorted: false }, want: ['3x2x6xf32'] }),
  rec({ op: Op.Gather, in: ['10x6xf32', '3x5x1xi32'], attrs: { dims: gdims({ offsetDims: [2], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 2 }), sliceSizes: [2, 6], indicesAreSorted: false }, want: err(/collapsed or batching dimension 0 must have slice size <= 1/) }),
  rec({ op: Op.Gather, in: ['10x6xf32', '3x5x1xf32'], attrs: { dims: gdims({ offsetDims: [2], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 2 }), sliceSizes: [1, 6], indicesAreSorted: false }, want: err(/operand #1 \(tensor<3x5x1xf32>\) must have an integer element type/) }),
  rec({ op: Op.Scatter, in: ['8x4xf32', '8x1x1xi32', '8x1xf32'], attrs: { dims: sdims({ insertedWindowDims: [1], inputBatchingDims: [0], scatterIndicesBatchingDims: [0], scatterDimsToOperandDims: [1], indexVectorDim: 2 }), indicesAreSorted: false, uniqueIndices: false }, want: ['8x4xf32'] }),
  rec({ op: Op.Scatter, in: ['10x6xf32', '3x1xi32', '3x6xf32'], attrs: { dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, want: ['10x6xf32'] }),
  rec({ op: Op.Scatter, in: ['10x6xf32', '3x1xi32', '4x6xf32'], attrs: { dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, want: err(/scatter dimension 0 has size 4, the indices operand #1 \(tensor<3x1xi32>\) give 3/) }),
  rec({ op: Op.Scatter, in: ['10x6xf32', '3x1xi32', '3x7xf32'], attrs: { dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }), indicesAreSorted: false, uniqueIndices: false }, want: err(/window dimension 1 has size 7, larger than 6/) }),

  rec({ op: Op.Reduce, in: ['8x16xf32', 'f32'], attrs: { dims: [1] }, want: ['8xf32'] }),
  rec({ op: Op.Reduce, in: ['8x16xf32', '8x16xi32', 'f32', 'i32'], attrs: { dims: [1] }, want: ['8xf32', '8xi32'] }),
  rec({ op: Op.Reduce, in: ['8x16xi32', 'i32'], attrs: { dims: [0, 1] }, want: ['i32'] }),
  rec({ op: Op.Reduce, in: ['8x16xf32', 'f32'], attrs: { dims: [2] }, want: err(/dimensions = \[2\]: 2 is out of range/) }),
  rec({ op: Op.Reduce, in: ['8x16xf32', 'i32'], attrs: { dims: [1] }, want: err(/same element type/) }),
  rec({ op: Op.Reduce, in: ['8x16xf32', 'f32', 'f32'], attrs: { dims: [1] }, want: err(/takes N inputs and N init values, got 3/) }),
  rec({ op: Op.ReduceWindow, in: ['8x16xf32', 'f32'], attrs: rw({ windowDimensions: [1, 16], windowStrides: [1, 1], baseDilations: [1, 1], windowDilations: [1, 1], padding: [[0, 0], [15, 0]] }), want: ['8x16xf32'] }),
  // 2x2 max pool, stride 2, on 4x6: 2x3.
  rec({ op: Op.ReduceWindow, in: ['4x6xf32', 'f32'], attrs: rw({ windowDimensions: [2, 2], windowStrides: [2, 2] }), want: ['2x3xf32'] }),
  // base dilation 2 turns 5 into 9; window 3 with dilation 2 spans 5: (9 - 5) / 1 + 1 = 5.
  rec({ op: Op.ReduceWindow, in: ['5xf32', 'f32'], attrs: rw({ windowDimensions: [3], baseDilations: [2], windowDilations: [2] }), want: ['5xf32'] }),
  rec({ op: Op.ReduceWindow, in: ['5xf32', 'f32'], attrs: rw({ windowDimensions: [3, 3] }), want: err(/window_dimensions has 2 entries, operand rank is 1/) }),
  rec({ op: Op.SelectAndScatter, in: ['4x6xf32', '2x3xf32', 'f32'], attrs: { windowDimensions: [2, 2], windowStrides: [2, 2], padding: [] }, want: ['4x6xf32'] }),
  rec({ op: Op.SelectAndScatter, in: ['4x6xf32', '2x2xf32', 'f32'], attrs: { windowDimensions: [2, 2], windowStrides: [2, 2], padding: [] }, want: err(/source operand #1 \(tensor<2x2xf32>\) must have the windowed shape \[2, 3\]/) }),
  rec({ op: Op.DotGeneral, in: ['8x16xf32', '16x32xf32'], attrs: dot([], [], [1], [0]), want: ['8x32xf32'] }),
  rec({ op: Op.DotGeneral, in: ['8x4xf32', '32x4xf32'], attrs: dot([], [], [1], [1]), want: ['8x32xf32'] }),
  rec({ op: Op.DotGeneral, in: ['2x3x4xf32', '2x4x5xf32'], attrs: dot([0], [0], [2], [1]), want: ['2x3x5xf32'] }),
  rec({ op: Op.DotGeneral, in: ['7x2x3x4xf32', '4x2x5xf32'], attrs: dot([1], [1], [3], [0]), want: ['2x7x3x5xf32'] }),
  rec({ op: Op.DotGeneral, in: ['8x16xf32', '32x32xf32'], attrs: dot([], [], [1], [0]), want: err(/^stablehlo\.dot_general: contracting dims \[1\] x \[0\] have sizes 16 and 32$/) }),
  rec({ op: Op.DotGeneral, in: ['2x3x4xf32', '3x4x5xf32'], attrs: dot([0], [0], [2], [1]), want: err(/batching dims \[0\] x \[0\] have sizes 2 and 3/) }),
  rec({ op: Op.DotGeneral, in: ['8x16xf32', '16x32xf16'], attrs: dot([], [], [1], [0]), want: err(/same element type/) }),
  rec({ op: Op.Convolution, in: ['2x3x8x8xf32', '4x3x3x3xf32'], attrs: conv({ windowStrides: [1, 1], padding: [[1, 1], [1, 1]] }), want: ['2x4x8x8xf32'] }),
  // Stride 2, no padding: (8 - 3) / 2 + 1 = 3.
  rec({ op: Op.Convolution, in: ['2x3x8x8xf32', '4x3x3x3xf32'], attrs: conv({ windowStrides: [2, 2] }), want: ['2x4x3x3xf32'] }),
  // NHWC / HWIO / NHWC, rhs dilation 2 (window spans 5): 10 - 5 + 1 = 6; lhs dilation 2 on 7: 13 - 3 + 1 = 11.
  rec({ op: Op.Convolution, in: ['1x10x7x3xf32', '3x3x3x8xf32'], attrs: conv({ dims: nhwc, rhsDilation: [2, 1], lhsDilation: [1, 2] }), want: ['1x6x11x8xf32'] }),
  // Depthwise: feature_group_count = 3, kernel takes 1 input feature, 6 outputs.
  rec({ op: Op.Convolution, in: ['2x3x8x8xf32', '6x1x3x3xf32'], attrs: conv({ featureGroupCount: 3 }), want: ['2x6x6x6xf32'] }),
  // batch_group_count = 2 (a weight gradient): the batch halves.
  rec({ op: Op.Convolution, in: ['4x3x5x5xf32', '6x3x5x5xf32'], attrs: conv({ batchGroupCount: 2 }), want: ['2x6x1x1xf32'] }),
  rec({ op: Op.Convolution, in: ['2x3x8x8xf32', '4x2x3x3xf32'], attrs: conv(), want: err(/input features 3 \/ feature_group_count 1 = 3, but kernel operand #1 \(tensor<4x2x3x3xf32>\) has 2 input features/) }),
  rec({ op: Op.Convolution, in: ['2x3x8x8xf32', '4x3x3x3xf32'], attrs: conv({ featureGroupCount: 2 }), want: err(/not divisible by feature_group_count = 2/) }),
  rec({ op: Op.Sort, in: ['4x8xf32', '4x8xi32'], attrs: { dimension: 1, isStable: true }, want: ['4x8xf32', '4x8xi32'] }),
  rec({ op: Op.Sort, in: ['4x8xf32'], attrs: { dimension: -1, isStable: false }, want: ['4x8xf32'] }),
  rec({ op: Op.Sort, in: ['4x8xf32', '8xi32'], attrs: { dimension: 1, isStable: true }, want: err(/must have the shape of/) }),
  rec({ op: Op.TopK, in: ['4x8xf32'], attrs: { k: 3 }, want: ['4x3xf32', '4x3xi32'] }),
  rec({ op: Op.Scan, in: ['8x3xf32', '3xf32'], attrs: { dimension: 0, isReverse: false, isAssociative: true, numInits: 1 }, declared: ['8x3xf32', '3xf32'], want: ['8x3xf32', '3xf32'] }),
  rec({ op: Op.Scan, in: ['8x3xf32', '3xf32'], attrs: { dimension: 2, isReverse: false, isAssociative: true, numInits: 1 }, declared: ['8x3xf32', '3xf32'], want: err(/dimension = 2 is out of range for rank 2/) }),
  rec({ op: Op.Scan, in: ['8x3xf32', '3xf32'], attrs: { dimension: 0, isReverse: false, isAssociative: true, numInits: 1 }, declared: ['8x4xf32', '3xf32'], want: err(/output #0 \(tensor<8x4xf32>\) must have the shape of/) }),
  rec({ op: Op.TopK, in: ['4x8xf32'], attrs: { k: 9 }, want: err(/k = 9 must lie in \[0, 8\]/) }),
  rec({ op: Op.Cholesky, in: ['2x3x3xf32'], attrs: { lower: true }, want: ['2x3x3xf32'] }),
  rec({ op: Op.Cholesky, in: ['3x4xf32'], attrs: { lower: true }, want: err(/must be a \(batch of\) square matrices/) }),
  rec({ op: Op.TriangularSolve, in: ['2x3x3xf32', '2x3x5xf32'], attrs: tri(true), want: ['2x3x5xf32'] }),
  rec({ op: Op.TriangularSolve, in: ['3x3xf32', '5x3xf32'], attrs: tri(false), want: ['5x3xf32'] }),
  rec({ op: Op.TriangularSolve, in: ['3x3xf32', '5x3xf32'], attrs: tri(true), want: err(/has 5 rows but a is 3x3 \(left_side = true\)/) }),
  rec({ op: Op.CustomCall, in: ['2x3x3xf32'], attrs: customCallAttrs('lapack_sgetrf_ffi', { kind: 'getrf' }, [t('2x3x3xf32')], []), want: ['2x3x3xf32', '2x3xi32', '2xi32'] }),
  rec({ op: Op.CustomCall, in: ['5xi32'], declared: ['5xi32'], attrs: customCallAttrs('cu_lu_pivots_to_permutation', { kind: 'pivotsToPermutation' }, [t('5xi32')], []), want: ['5xi32'] }),
  rec({ op: Op.CustomCall, in: ['3x3xf32', '3x2xf32'], attrs: customCallAttrs('lapack_strsm_ffi', { kind: 'trsm', ...tri(true) }, [t('3x3xf32'), t('3x2xf32')], []), want: ['3x2xf32'] }),
  rec({ op: Op.CustomCall, in: ['2x3x3xf32', '3x2xf32'], attrs: customCallAttrs('lapack_strsm_ffi', { kind: 'trsm', ...tri(true) }, [t('3x3xf32'), t('3x2xf32')], []), want: err(/@lapack_strsm_ffi: a \[2, 3, 3\] and b \[3, 2\] must have the same batch dimensions/) }),
  rec({ op: Op.BatchNormTraining, in: ['2x3xf32', '3xf32', '3xf32'], attrs: { epsilon: 1e-3, featureIndex: 1 }, want: ['2x3xf32', '3xf32', '3xf32'] }),
  rec({ op: Op.BatchNormInference, in: ['2x3xf32', '2xf32', '2xf32', '2xf32', '2xf32'], attrs: { epsilon: 1e-3, featureIndex: 0 }, want: ['2x3xf32'] }),
  rec({ op: Op.BatchNormGrad, in: ['2x3xf32', '3xf32', '3xf32', '3xf32', '2x3xf32'], attrs: { epsilon: 1e-3, featureIndex: 1 }, want: ['2x3xf32', '3xf32', '3xf32'] }),
  rec({ op: Op.BatchNormGrad, in: ['2x3xf32', '3xf32', '3xf32', '3xf32', '2x3xf32'], attrs: { epsilon: 1e-3, featureIndex: 2 }, want: err(/feature_index = 2 is out of range/) }),
  rec({ op: Op.RngBitGenerator, in: ['2xui64'], attrs: { algorithm: 'THREE_FRY' }, declared: ['2xui64', '3x5xui32'], want: ['2xui64', '3x5xui32'] }),
  rec({ op: Op.RngBitGenerator, in: ['3xui64'], attrs: { algorithm: 'PHILOX' }, declared: ['3xui64', '4xi64'], want: ['3xui64', '4xi64'] }),
  rec({ op: Op.RngBitGenerator, in: ['3xui64'], attrs: { algorithm: 'THREE_FRY' }, declared: ['3xui64', '4xui32'], want: err(/must be tensor<2xui64> for algorithm THREE_FRY/) }),
  rec({ op: Op.RngBitGenerator, in: ['2xui64'], attrs: { algorithm: 'DEFAULT' }, declared: ['2xui64', '4xf16'], want: err(/32-bit and 64-bit random bits only/, UnsupportedOpError) }),

  rec({ op: Op.While, in: ['i32', '8x16xf32'], want: ['i32', '8x16xf32'] }),
  rec({ op: Op.If, in: ['i1'], regions: [returning('4xf32', 'i32'), returning('4xf32', 'i32')], want: ['4xf32', 'i32'] }),
  rec({ op: Op.If, in: ['i1'], regions: [returning('4xf32'), returning('5xf32')], want: err(/the false branch returns \(tensor<5xf32>\), the true branch returns \(tensor<4xf32>\)/) }),
  rec({ op: Op.If, in: ['2xi1'], regions: [returning('4xf32'), returning('4xf32')], want: err(/predicate operand #0 \(tensor<2xi1>\) must be tensor<i1>/) }),
  rec({ op: Op.If, in: ['i1'], want: err(/its result types come from its regions/) }),
  rec({ op: Op.Case, in: ['i32'], regions: [returning('f32'), returning('f32'), returning('f32')], want: ['f32'] }),
  rec({ op: Op.Case, in: ['ui32'], regions: [returning('f32')], want: err(/index operand #0 \(tensor<ui32>\) must be tensor<i32>/) }),
  rec({ op: Op.Call, in: ['4xf32', 'i32'], attrs: { callee: 'f' }, extras: sig, want: ['2x2xf32'] }),
  rec({ op: Op.Call, in: ['4xf32', 'f32'], attrs: { callee: 'f' }, extras: sig, want: err(/@f takes \(tensor<4xf32>, tensor<i32>\), called with \(tensor<4xf32>, tensor<f32>\)/) }),
  rec({ op: Op.Call, in: [], attrs: { callee: 'g' }, extras: sig, want: err(/calls @g, which is not a function of this module/) }),
  rec({ op: Op.Return, in: ['f32', '2xi32'], want: [] }),
  rec({ op: Op.FuncReturn, in: ['f32'], want: [] }),
  rec({ op: Op.OptimizationBarrier, in: ['f32', '2xi32'], want: ['f32', '2xi32'] }),
];

function tri(leftSide: boolean) {
  return { leftSide, lower: true, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' as const };
}

function run(r: Rec): TensorType[] {
  const extras: ShapeExtras = { ...r.extras, resultTypes: r.declared?.map(t) };
  return inferResultTypes(r.op, r.in.map(t), (r.attrs ?? none) as OpAttrs[Op], r.regions, { file: 'x.mlir', line: 3, column: 7 }, extras);
}

describe('inferResultTypes', () => {
  for (const r of records) {
    const label = `${r.op}(${r.in.join(', ')})${r.declared ? ` -> ${r.declared.join(', ')}` : ''}`;
    const want = r.want;
    if (Array.isArray(want)) {
      it(`${label} gives ${want.join(', ') || 'nothing'}`, () => {
        expect(run(r).map(formatType)).toEqual(want.map((s) => formatType(t(s))));
      });
    } else {
      it(`${label} is refused: ${want.match.source}`, () => {
        let caught: unknown;
        try { run(r); } catch (e) { caught = e; }
        expect(caught).toBeInstanceOf(want.error);
        const e = caught as VerifyError;
        expect(e.detail).toMatch(want.match);
        expect(e.detail.startsWith(`${r.op}: `)).toBe(true);
        expect(e.message.startsWith('x.mlir:3:7: ')).toBe(true);
      });
    }
  }

  it('has a passing record for every op', () => {
    const covered = new Set(records.filter((r) => Array.isArray(r.want)).map((r) => r.op));
    expect(ALL_OPS.filter((op) => !covered.has(op))).toEqual([]);
  });

  it('needs the declared result type exactly for the ops that say so', () => {
    for (const op of NeedsDeclaredResult) {
      const r = records.find((x) => x.op === op && Array.isArray(x.want))!;
      expect(() => run({ ...r, declared: undefined }), op).toThrow(/result type must be given/);
    }
  });

  it('refuses an unknown op as unsupported', () => {
    expect(() => inferResultTypes('chlo.conj' as Op, [], none as OpAttrs[Op])).toThrow(UnsupportedOpError);
  });
});
