/**
 * @file The elementwise activations of `jax.nn` beyond relu/sigmoid/silu/gelu/softplus (which live
 * in client/nn.ts): leaky/elu/selu/celu, the hard and sparse piecewise forms, glu, mish,
 * logSigmoid, squareplus, log1mexp, logmeanexp, standardize. Each is written with the numpy
 * functions as jax.nn writes it (same branches, same stable forms), so values, gradients at the
 * kinks (JAX's `where` picks the branch) and NaN behaviour follow JAX.
 */
import type { KArray } from '../array.js';
import { Op } from '../../ir/ops.js';
import { A, defapi, p, X, type Unary } from '../args.js';
import * as lax from '../lax.js';
import * as np from '../numpy/index.js';
import { asArray, cast, floatOf, normAxes, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';

/** `x` as its float dtype (ints become f32, weak stays weak). */
function float(x: Operand): KArray {
  const a = asArray(x);
  return cast(a, floatOf(a.dtype), a.weak);
}

/** log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|)), as client/nn.ts's softplus. */
const softplusOf = (a: KArray): KArray => np.add(np.maximum(a, 0), np.log1p(np.exp(np.negative(np.abs(a)))));
const sigmoidOf = (a: KArray): KArray => lax.unary(Op.Logistic, a);

/** log(sum(exp(a))) over `axes`, shifted by the (finite) max. */
export function logsumexpOf(a: KArray, axes: number[], keepdims: boolean): KArray {
  const m = np.max(a, axes, { keepdims: true });
  const shift = np.where(np.isfinite(m), m, 0);
  const s = np.log(np.sum(np.exp(np.subtract(a, shift)), axes, { keepdims: true }));
  const r = np.add(s, shift);
  return keepdims ? r : np.squeeze(r, axes);
}

/** `x` where x >= 0, `negativeSlope * x` elsewhere (default slope 0.01). */
export const leakyRelu = defapi('nn.leakyRelu', [p('x', A.array), p('negativeSlope', A.number, 0.01)], (x: Operand, slope: number): KArray => {
  const a = float(x);
  return np.where(np.greaterEqual(a, 0), a, np.multiply(a, slope));
}) as (x: Operand, negativeSlope?: number) => KArray;

function eluOf(a: KArray, alpha: number): KArray {
  const pos = np.greater(a, 0);
  // expm1 of the clamped value, so the unused branch cannot overflow into the gradient.
  return np.where(pos, a, np.multiply(np.expm1(np.where(pos, 0, a)), alpha));
}

/** `x` where x > 0, `alpha * (exp(x) - 1)` elsewhere. */
export const elu = defapi('nn.elu', [p('x', A.array), p('alpha', A.number, 1)], (x: Operand, alpha: number): KArray => eluOf(float(x), alpha)) as (x: Operand, alpha?: number) => KArray;

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Scaled ELU with the self-normalizing constants of Klambauer et al. (as jax.nn.selu). */
export const selu = defapi('nn.selu', X, (x: Operand): KArray => np.multiply(eluOf(float(x), SELU_ALPHA), SELU_SCALE)) as Unary;

/** max(x, 0) + alpha * expm1(min(x, 0) / alpha). */
export const celu = defapi('nn.celu', [p('x', A.array), p('alpha', A.number, 1)], (x: Operand, alpha: number): KArray => {
  const a = float(x);
  return np.add(np.maximum(a, 0), np.multiply(np.expm1(np.divide(np.minimum(a, 0), alpha)), alpha));
}) as (x: Operand, alpha?: number) => KArray;

/** Gated linear unit: x split in halves a, b along `axis` (default -1), a * sigmoid(b). */
export const glu = defapi('nn.glu', [p('x', A.array), p('axis', A.axis, -1)], (x: Operand, axis: number): KArray => {
  const a = float(x);
  const [ax] = normAxes(axis, a.ndim);
  if (a.shape[ax] % 2 !== 0) throw traceError(`glu: axis ${axis} of ${a.describe()} has odd size ${a.shape[ax]}; it must split in two halves`);
  const [u, v] = np.split(a, 2, ax) as KArray[];
  return np.multiply(u, sigmoidOf(v));
}) as (x: Operand, axis?: number) => KArray;

/** x * tanh(softplus(x)). */
export const mish = defapi('nn.mish', X, (x: Operand): KArray => {
  const a = float(x);
  return np.multiply(a, np.tanh(softplusOf(a)));
}) as Unary;

/** log(sigmoid(x)) = -softplus(-x). */
export const logSigmoid = defapi('nn.logSigmoid', X, (x: Operand): KArray => np.negative(softplusOf(np.negative(float(x))))) as Unary;

/** -1 where x < -1, 1 where x > 1, x between. */
export const hardTanh = defapi('nn.hardTanh', X, (x: Operand): KArray => {
  const a = float(x);
  return np.where(np.greater(a, 1), 1, np.where(np.less(a, -1), -1, a));
}) as Unary;

/** min(max(x, 0), 6). */
export const relu6 = defapi('nn.relu6', X, (x: Operand): KArray => np.minimum(np.maximum(float(x), 0), 6)) as Unary;

const hardSigmoidOf = (a: KArray): KArray => np.divide(np.minimum(np.maximum(np.add(a, 3), 0), 6), 6);

/** relu6(x + 3) / 6. */
export const hardSigmoid = defapi('nn.hardSigmoid', X, (x: Operand): KArray => hardSigmoidOf(float(x))) as Unary;

/** x * hardSigmoid(x) (also `hardSwish`). */
export const hardSilu = defapi('nn.hardSilu', X, (x: Operand): KArray => {
  const a = float(x);
  return np.multiply(a, hardSigmoidOf(a));
}) as Unary;

/** The same function as {@link hardSilu}, as jax.nn.hard_swish. */
export const hardSwish = hardSilu;

/** x / (|x| + 1). */
export const softSign = defapi('nn.softSign', X, (x: Operand): KArray => {
  const a = float(x);
  return np.divide(a, np.add(np.abs(a), 1));
}) as Unary;

/** (x + sqrt(x^2 + b)) / 2, a smooth relu (b = 4 by default). */
export const squareplus = defapi('nn.squareplus', [p('x', A.array), p('b', A.number, 4)], (x: Operand, b: number): KArray => {
  const a = float(x);
  return np.divide(np.add(a, np.sqrt(np.add(np.square(a), b))), 2);
}) as (x: Operand, b?: number) => KArray;

/** 0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 between. */
export const sparsePlus = defapi('nn.sparsePlus', X, (x: Operand): KArray => {
  const a = float(x);
  return np.where(np.lessEqual(a, -1), 0, np.where(np.greaterEqual(a, 1), a, np.divide(np.square(np.add(a, 1)), 4)));
}) as Unary;

/** (clip(x, -1, 1) + 1) / 2. */
export const sparseSigmoid = defapi('nn.sparseSigmoid', X, (x: Operand): KArray =>
  np.multiply(np.clip(np.add(float(x), 1), 0, 2), 0.5)) as Unary;

/** log(1 - exp(-x)) for x > 0, by log(-expm1(-x)) below log 2 and log1p(-exp(-x)) above. */
export const log1mexp = defapi('nn.log1mexp', X, (x: Operand): KArray => {
  const a = float(x);
  return np.where(np.less(a, Math.LN2), np.log(np.negative(np.expm1(np.negative(a)))), np.log1p(np.negative(np.exp(np.negative(a)))));
}) as Unary;

/**
 * log(mean(exp(x))) over `axis` (all axes by default): logsumexp(x) - log(n). jax-js names it;
 * this is JAX's `jax.nn.logmeanexp(x, axis)` definition.
 */
export const logmeanexp = defapi('nn.logmeanexp', [p('x', A.array), p('axis', A.axes, null), p('keepdims', A.bool, false, true)], (x: Operand, axis: number | number[] | null, keepdims: boolean): KArray => {
  const a = float(x);
  const axes = normAxes(axis, a.ndim);
  const n = axes.reduce((m, i) => m * a.shape[i], 1);
  return np.subtract(logsumexpOf(a, axes, keepdims), Math.log(n));
}) as (x: Operand, axis?: number | number[] | null, options?: { keepdims?: boolean }) => KArray;

/**
 * (x - mean) / sqrt(variance + epsilon) over `axis` (default -1), with mean and variance computed
 * (as JAX: variance = mean(x^2) - mean(x)^2) unless given.
 */
export const standardize = defapi('nn.standardize', [p('x', A.array), p('axis', A.axes, -1), p('mean', A.orNull(A.array), null), p('variance', A.orNull(A.array), null), p('epsilon', A.number, 1e-5)], (x: Operand, axis: number | number[] | null, meanArg: Operand | null, varArg: Operand | null, eps: number): KArray => {
  const a = float(x);
  const axes = normAxes(axis, a.ndim);
  const m = meanArg ?? np.mean(a, axes, { keepdims: true });
  const v = varArg ?? np.subtract(np.mean(np.square(a), axes, { keepdims: true }), np.square(m));
  return np.multiply(np.subtract(a, m), np.rsqrt(np.add(v, eps)));
}) as (x: Operand, axis?: number | number[] | null, mean?: Operand | null, variance?: Operand | null, epsilon?: number) => KArray;

/** `x` itself. */
export const identity = defapi('nn.identity', X, (x: Operand): KArray => asArray(x)) as Unary;
