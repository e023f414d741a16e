/**
 * @file The public `lax` namespace (`import { lax } from 'kiln'`): JAX's `jax.lax` control flow
 * with its argument order and camelCase names. (client/lax.ts, without the folder, is the internal
 * layer of primitive ops the numpy functions are written in.)
 */
export { whileLoop, foriLoop, scan, map, cond, switchOp as switch, type ForiOptions, type ScanOptions } from './control.js';
export { associativeScan, stopGradient, type AssociativeScanOptions } from './associative.js';
export {
  dynamicSlice, dynamicUpdateSlice, dynamicSliceInDim, dynamicIndexInDim, dynamicUpdateSliceInDim, dynamicUpdateIndexInDim,
  segmentSum, segmentMax, segmentMin, segmentProd, gather, scatter, scatterAdd, scatterMul, scatterMin, scatterMax,
  type GatherDimensionNumbers, type ScatterDimensionNumbers,
} from './indexing.js';
export {
  convGeneralDilated, conv, convWithGeneralPadding, convTranspose, reduceWindow,
  type ConvDimensionNumbers, type Padding, type WindowComputation,
} from './conv.js';
export {
  abs, neg, sign, exp, expm1, log, log1p, logistic, sqrt, rsqrt, cbrt, sin, cos, tan, tanh, sinh, cosh, asin, acos, atan, asinh,
  acosh, atanh, floor, ceil, round, isFinite, square, erf, erfc, erfInv, lgamma, digamma, populationCount, clz, bitwiseNot,
  add, sub, mul, div, rem, pow, max, min, atan2, complex, real, imag, conj, bitwiseAnd, bitwiseOr, bitwiseXor, shiftLeft, shiftRightLogical,
  shiftRightArithmetic, clamp, iota, broadcastInDim, bitcastConvertType, reducePrecision, dotGeneral, dot, sort, topK,
  cumsum, cumprod, cummax, cummin, cumlogsumexp, type DimensionNumbers, type SortOptions,
} from './ops.js';
export * as linalg from '../linalg/lax.js';
export { igamma, igammac, igammaGradA, randomGammaGrad } from './special.js';
