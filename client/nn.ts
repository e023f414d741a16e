/**
 * @file Neural-network functions: activations, softmax and its log, logsumexp, layer norm,
 * one-hot encoding and cross-entropy. Written with the same ops as client/numpy, so they trace,
 * jit and differentiate like any user code; numerically stable forms as in `jax.nn`.
 */
import type { SupportedDType } from '../ir/dtype.js';
import { Op } from '../ir/ops.js';
import type { KArray } from './array.js';
import { A, defapi, p, X, type Param, type Reduction, type Unary } from './args.js';
import * as lax from './lax.js';
import { traceError } from './site.js';
import { meanImpl, reduceOp, varImpl } from './numpy/reduce-core.js';
import { asArray, broadcastTo, cast, floatOf, isNumberLike, normAxes, normAxis, type Operand } from './numpy/promote.js';

function float(x: Operand): KArray {
  const a = asArray(x);
  return cast(a, floatOf(a.dtype), a.weak);
}

function c(x: KArray, v: number): KArray {
  return lax.withWeak(lax.constant(x.dtype, x.shape, v), x.weak);
}

const mul = (a: KArray, b: KArray) => lax.binary(Op.Multiply, a, b);
const add = (a: KArray, b: KArray) => lax.binary(Op.Add, a, b);
const sub = (a: KArray, b: KArray) => lax.binary(Op.Subtract, a, b);
const div = (a: KArray, b: KArray) => lax.binary(Op.Divide, a, b);

/** `x` with `r`'s reduced axes restored, broadcast back to `shape`. */
function expandBack(r: KArray, shape: readonly number[], axes: number[]): KArray {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return broadcastTo(lax.reshape(r, kept), shape);
}

/** max(x, 0). */
export const relu = defapi('nn.relu', X, (x: Operand): KArray => {
  const a = asArray(x);
  return lax.binary(Op.Maximum, a, c(a, 0));
}) as Unary;

/** 1 / (1 + exp(-x)). */
export const sigmoid = defapi('nn.sigmoid', X, (x: Operand): KArray => lax.unary(Op.Logistic, float(x))) as Unary;

/** x * sigmoid(x) (also known as swish). */
export const silu = defapi('nn.silu', X, (x: Operand): KArray => {
  const a = float(x);
  return mul(a, lax.unary(Op.Logistic, a));
}) as Unary;

/**
 * GELU. `approximate: true` (the default, as in JAX) is the tanh form
 * `0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))`; `false` is exact, `0.5x(1 + erf(x/sqrt 2))`.
 */
export const gelu = defapi('nn.gelu', [p('x', A.array), p('approximate', A.bool, true)], (x: Operand, approximate: boolean): KArray => {
  const a = float(x);
  if (approximate) {
    const inner = mul(c(a, Math.sqrt(2 / Math.PI)), add(a, mul(c(a, 0.044715), mul(a, mul(a, a)))));
    return mul(mul(c(a, 0.5), a), add(c(a, 1), lax.unary(Op.Tanh, inner)));
  }
  return mul(mul(c(a, 0.5), a), add(c(a, 1), lax.unary(Op.Erf, mul(a, c(a, Math.SQRT1_2)))));
});

/** log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)). */
export const softplus = defapi('nn.softplus', X, (x: Operand): KArray => {
  const a = float(x);
  const pos = lax.binary(Op.Maximum, a, c(a, 0));
  return add(pos, lax.unary(Op.Log1p, lax.unary(Op.Exp, lax.unary(Op.Negate, lax.unary(Op.Abs, a)))));
}) as Unary;

/** `(x, axis=-1, where, initial)`: jax.nn.softmax's parameters; `axis: null` means all axes. */
const SOFTMAX_PARAMS: Param[] = [
  p('x', A.array), p('axis', A.axes, -1), p('where', A.unsupported('not implemented; mask the logits with np.where'), null),
  p('initial', A.unsupported('not implemented'), null),
];

/** The max over `axes`, replaced by 0 where it is not finite (so -inf rows stay -inf, not NaN). */
function stableShift(a: KArray, axes: number[]): KArray {
  const m = reduceOp(a, Op.Maximum, axes);
  const finite = lax.unary(Op.IsFinite, m, 'i1');
  return expandBack(lax.select(finite, m, c(m, 0)), a.shape, axes);
}

function logsumexpImpl(a: KArray, axes: number[], keepdims: boolean): KArray {
  const m = reduceOp(a, Op.Maximum, axes);
  const shift = lax.select(lax.unary(Op.IsFinite, m, 'i1'), m, c(m, 0));
  const s = reduceOp(lax.unary(Op.Exp, sub(a, expandBack(shift, a.shape, axes))), Op.Add, axes);
  const r = add(lax.unary(Op.Log, s), shift);
  return keepdims ? lax.reshape(r, a.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : r;
}

/** log(sum(exp(x))) over `axis` (all axes by default), without overflow. */
export const logsumexp = defapi('nn.logsumexp', [p('a', A.array), p('axis', A.axes, null), p('b', A.unsupported('not implemented'), null), p('keepdims', A.bool, false), p('returnSign', A.fixed(false, 'not implemented'), false), p('where', A.unsupported('not implemented'), null)], (x: Operand, axis: number | number[] | null, _b: null, keepdims: boolean): KArray => {
  const a = float(x);
  return logsumexpImpl(a, normAxes(axis, a.ndim), keepdims);
}) as Reduction;

function softmaxAxes(a: KArray, axis: number | readonly number[] | null): number[] {
  return normAxes(axis, a.ndim);
}

/** exp(x) / sum(exp(x)) over `axis` (default -1; null for all axes), as `jax.nn.softmax(x, axis)`. */
export const softmax = defapi('nn.softmax', SOFTMAX_PARAMS, (x: Operand, axis: number | number[] | null): KArray => {
  const a = float(x);
  const axes = softmaxAxes(a, axis);
  const e = lax.unary(Op.Exp, sub(a, stableShift(a, axes)));
  return div(e, expandBack(reduceOp(e, Op.Add, axes), a.shape, axes));
}) as Reduction;

/** x - logsumexp(x) over `axis` (default -1; null for all axes). */
export const logSoftmax = defapi('nn.logSoftmax', SOFTMAX_PARAMS, (x: Operand, axis: number | number[] | null): KArray => {
  const a = float(x);
  const axes = softmaxAxes(a, axis);
  const shifted = sub(a, stableShift(a, axes));
  const lse = lax.unary(Op.Log, reduceOp(lax.unary(Op.Exp, shifted), Op.Add, axes));
  return sub(shifted, expandBack(lse, a.shape, axes));
}) as Reduction;

/**
 * Layer normalization over `axis` (default the last): (x - mean) / sqrt(var + eps), then scaled by
 * `gamma` and shifted by `beta` when given (broadcast against x).
 */
export const layerNorm = defapi('nn.layerNorm', [p('x', A.array), p('gamma', A.orNull(A.array), null), p('beta', A.orNull(A.array), null), p('axis', A.axes, -1, true), p('eps', A.number, 1e-5, true)], (x: Operand, gamma: Operand | null, beta: Operand | null, axis: number | number[] | null, eps: number): KArray => {
  const a = float(x);
  const axes = normAxes(axis, a.ndim);
  const m = expandBack(meanImpl(a, { axis: axes }), a.shape, axes);
  const v = expandBack(varImpl(a, { axis: axes }), a.shape, axes);
  let y = mul(sub(a, m), lax.unary(Op.Rsqrt, add(v, c(v, eps))));
  if (gamma !== null) y = mul(y, broadcastTo(cast(gamma, y.dtype), y.shape));
  if (beta !== null) y = add(y, broadcastTo(cast(beta, y.dtype), y.shape));
  return y;
});

/** `labels[..., None] == arange(numClasses)` as `dtype` (f32 by default). */
export const oneHot = defapi('nn.oneHot', [p('x', A.array), p('numClasses', A.count), p('dtype', A.dtype, 'f32', true), p('axis', A.axis, -1, true)], (x: Operand, numClasses: number, dtype: SupportedDType, axisArg: number): KArray => {
  if (isNumberLike(x) && !(typeof x === 'number' ? Number.isInteger(x) : true)) throw traceError(`labels must be integers, got ${x}`);
  const labels = typeof x === 'number' ? lax.constant('i32', [], x) : (x as KArray);
  if (labels.dtype === 'f32' || labels.dtype === 'f16') throw traceError(`labels must be integers, got ${labels.describe()}`);
  const rank = labels.ndim + 1;
  const axis = normAxis(axisArg, rank);
  const shape = [...labels.shape.slice(0, axis), numClasses, ...labels.shape.slice(axis)];
  const l = lax.broadcastInDim(lax.convert(labels, 'i32'), shape, labels.shape.map((_, i) => (i < axis ? i : i + 1)));
  const hot = lax.compare('EQ', l, lax.iota('i32', shape, axis));
  return lax.convert(hot, dtype);
});

/**
 * Mean softmax cross-entropy over the batch, from `logits` [..., classes] and either integer
 * labels [...] or one-hot / probability targets of the logits' shape.
 */
export const crossEntropy = defapi('nn.crossEntropy', [p('logits', A.array), p('labels', A.array)], (logits: Operand, labelsArg: Operand): KArray => {
  const a = float(logits);
  const labels = isNumberLike(labelsArg) ? asArray(labelsArg) : (labelsArg as KArray);
  let targets: KArray;
  if (labels.dtype === 'i32' || labels.dtype === 'ui32') {
    if (labels.ndim !== a.ndim - 1 || labels.shape.some((d, i) => d !== a.shape[i])) {
      throw traceError(`integer labels of shape [${labels.shape.join(', ')}] do not match logits of shape [${a.shape.join(', ')}]`);
    }
    const shape = a.shape;
    const l = lax.broadcastInDim(lax.convert(labels, 'i32'), shape, labels.shape.map((_, i) => i));
    targets = lax.convert(lax.compare('EQ', l, lax.iota('i32', shape, a.ndim - 1)), a.dtype);
  } else {
    if (labels.ndim !== a.ndim || labels.shape.some((d, i) => d !== a.shape[i])) {
      throw traceError(`targets of shape [${labels.shape.join(', ')}] do not match logits of shape [${a.shape.join(', ')}]`);
    }
    targets = cast(labels, a.dtype);
  }
  const last = [a.ndim - 1];
  const shifted = sub(a, stableShift(a, last));
  const lse = lax.unary(Op.Log, reduceOp(lax.unary(Op.Exp, shifted), Op.Add, last));
  const logp = sub(shifted, expandBack(lse, a.shape, last));
  const perExample = lax.unary(Op.Negate, reduceOp(mul(targets, logp), Op.Add, last));
  return meanImpl(perExample);
});

/** flax's pooling layers (channels-last); defined with the windowed reductions in client/lax/conv.ts. */
export { maxPool, avgPool } from './lax/conv.js';
export {
  leakyRelu, elu, selu, celu, glu, mish, logSigmoid, hardTanh, relu6, hardSigmoid, hardSilu, hardSwish, softSign,
  squareplus, sparsePlus, sparseSigmoid, log1mexp, logmeanexp, standardize, identity,
} from './nn/activations.js';
export { dotProductAttention } from './nn/attention.js';
export * as initializers from './nn/initializers.js';
/** x * sigmoid(x): the same function as {@link silu}, as jax.nn.swish. */
export const swish = silu;
