/**
 * @file kiln's core numpy functions against JAX: every case of test/fixtures/jax/core.json (written
 * by scripts/jax/gen_core.py on CPU) is the same call written with kiln's API, run eagerly and under
 * `jit` on the reference device and on WebGPU, and compared leaf by leaf (shape, dtype, values within
 * 2e-5 + 2e-4·|want| for f32, exactly otherwise). Metadata functions return plain values (recorded as
 * `{json: value}`) and are compared eagerly. Cases kiln refuses are listed in REFUSED with the reason,
 * and must throw a KilnError naming this file's line. Gradients of the differentiable functions are
 * checked against central differences in float64 JS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, KilnError, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';
import { checkGradCase, spacedValues, type GradCase } from '../helpers/finite-differences.js';

const fixture = loadFixture('test/fixtures/jax/core.json');

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const I32 = (v: number[]) => np.array(Int32Array.from(v));

/** One kiln function per fixture case, written as scripts/jax/gen_core.py writes the JAX call. */
const cases: Record<string, Fn> = {};

// ---- elementwise, one argument: the same kiln function for the plain, edge and integer cases ----
const UNARY: Record<string, Fn> = {
  abs: np.abs, absolute: np.absolute, negative: np.negative, sign: np.sign, sqrt: np.sqrt, rsqrt: np.rsqrt, exp: np.exp,
  expm1: np.expm1, log: np.log, log1p: np.log1p, sin: np.sin, cos: np.cos, tan: np.tan, sinh: np.sinh, cosh: np.cosh,
  tanh: np.tanh, arcsin: np.arcsin, arccos: np.arccos, arctan: np.arctan, asin: np.asin, acos: np.acos, atan: np.atan,
  asinh: np.asinh, acosh: np.acosh, atanh: np.atanh, erf: np.erf, erfInv: np.erfInv, floor: np.floor, ceil: np.ceil,
  trunc: np.trunc, round: (x) => np.round(x), degrees: np.degrees, radians: np.radians, isfinite: np.isfinite, isinf: np.isinf,
  isnan: np.isnan,
};
for (const [name, f] of Object.entries(UNARY)) {
  cases[`np.${name}`] = f;
  cases[`np.${name}:edge`] = f;
  cases[`np.${name}:int`] = f;
  cases[`np.${name}:intIn`] = f;
  cases[`np.${name}:large`] = f;
  cases[`np.${name}:tiny`] = f;
  cases[`np.${name}:wide`] = f;
}
Object.assign(cases, {
  'np.round:decimals': (x) => np.round(x, 2), 'np.round:half': (x) => np.round(x), 'np.round:negDecimals': (x) => np.round(x, -1),
  'np.conj': np.conj, 'np.conjugate': np.conjugate, 'np.real': np.real, 'np.imag': np.imag, 'np.real:int': np.real,
  'np.logicalNot': np.logicalNot, 'np.logicalNot:float': np.logicalNot,
  'np.bitwiseNot': np.bitwiseNot, 'np.bitwiseNot:bool': np.bitwiseNot, 'np.bitwiseNot:uint': np.bitwiseNot, 'np.bitwiseInvert': np.bitwiseInvert,
} satisfies Record<string, Fn>);

// ---- elementwise, two arguments ----
Object.assign(cases, {
  'np.add': np.add, 'np.add:int': np.add, 'np.add:bool': np.add, 'np.add:mixed': np.add, 'np.add:weakInt': (i) => np.add(i, 2),
  'np.add:weakFloatOnInt': (i) => np.add(i, 1.5), 'np.add:weakOnBool': (b) => np.add(b, 1), 'np.add:bcast3': np.add,
  'np.subtract': np.subtract, 'np.subtract:int': np.subtract, 'np.subtract:scalarFirst': (i) => np.subtract(1, i),
  'np.multiply': np.multiply, 'np.multiply:int': np.multiply, 'np.multiply:bool': np.multiply, 'np.multiply:weakFloat': (a) => np.multiply(a, 0.5),
  'np.divide': np.divide, 'np.divide:int': np.divide, 'np.divide:weakInt': (i) => np.divide(i, 2), 'np.divide:edge': np.divide,
  'np.mod': np.mod, 'np.mod:negDivisor': np.mod, 'np.mod:int': np.mod, 'np.mod:weakInt': (i) => np.mod(i, 3), 'np.mod:edge': np.mod,
  'np.power': np.power, 'np.power:int': np.power, 'np.power:weakInt': (a) => np.power(a, 3), 'np.power:weakFloat': (a) => np.power(a, 0.5),
  // JAX's exponent is the weak float 2.0; a JS 2 is the same number (XLA's pow of a negative base by 2.0 is its square).
  'np.power:negBase': (a) => np.power(a, 2), 'np.power:edge': np.power, 'np.pow': np.pow,
  'np.atan2': np.atan2, 'np.atan2:edge': np.atan2, 'np.atan2:large': np.atan2, 'np.power:large': np.power,
  'np.maximum': np.maximum, 'np.maximum:int': np.maximum, 'np.maximum:nan': np.maximum, 'np.maximum:weak': (a) => np.maximum(a, 0),
  'np.minimum': np.minimum, 'np.minimum:int': np.minimum, 'np.minimum:nan': np.minimum,
  'np.bitwiseLeftShift': np.bitwiseLeftShift, 'np.bitwiseLeftShift:uint': np.bitwiseLeftShift,
  'np.bitwiseRightShift': np.bitwiseRightShift, 'np.bitwiseRightShift:uint': np.bitwiseRightShift,
  'np.isclose': (a, b) => np.isclose(a, b), 'np.isclose:tol': (a, b) => np.isclose(a, b, { rtol: 0, atol: 0.1 }),
  'np.isclose:nan': (a) => np.isclose(a, np.flip(a), { equalNan: true }), 'np.isclose:nanDefault': (a) => np.isclose(a, a),
} satisfies Record<string, Fn>);
for (const name of ['equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual'] as const) {
  const f = np[name] as Fn;
  Object.assign(cases, { [`np.${name}`]: f, [`np.${name}:int`]: f, [`np.${name}:weak`]: (i: KArray) => f(i, 0), [`np.${name}:nan`]: f });
}
for (const name of ['logicalAnd', 'logicalOr', 'logicalXor'] as const) Object.assign(cases, { [`np.${name}`]: np[name], [`np.${name}:numbers`]: np[name] });
for (const name of ['bitwiseAnd', 'bitwiseOr', 'bitwiseXor'] as const) {
  Object.assign(cases, { [`np.${name}`]: np[name], [`np.${name}:bool`]: np[name], [`np.${name}:uint`]: np[name] });
}

// ---- reductions ----
Object.assign(cases, {
  'np.sum': (a) => np.sum(a), 'np.sum:axis': (a) => np.sum(a, 1), 'np.sum:negAxisKeepdims': (c) => np.sum(c, { axis: -1, keepdims: true }),
  'np.sum:axes': (c) => np.sum(c, [0, 2]), 'np.sum:int': (i) => np.sum(i), 'np.sum:bool': (b) => np.sum(b, 0),
  'np.sum:dtype': (i) => np.sum(i, { dtype: 'float32' }), 'np.sum:uint': (u) => np.sum(u),
  'np.prod': (p) => np.prod(p, 0), 'np.prod:int': (i) => np.prod(i, 1), 'np.prod:keepdims': (p) => np.prod(p, { axis: -1, keepdims: true }),
  'np.max:bool': (b) => np.max(b),
  'np.mean': (a) => np.mean(a), 'np.mean:axis': (a) => np.mean(a, 0), 'np.mean:keepdims': (c) => np.mean(c, { axis: [0, -1], keepdims: true }),
  'np.mean:int': (i) => np.mean(i, 1), 'np.mean:bool': (b) => np.mean(b),
  'np.all': (b) => np.all(b), 'np.all:axis': (b) => np.all(b, 1), 'np.all:numbers': (a) => np.all(a, { axis: 0, keepdims: true }),
  'np.any': (b) => np.any(b), 'np.any:axis': (b) => np.any(b, 0), 'np.any:int': (i) => np.any(i, -1),
  'np.argmax': (a) => np.argmax(a), 'np.argmax:axis': (a) => np.argmax(a, 1), 'np.argmax:keepdims': (c) => np.argmax(c, { axis: -1, keepdims: true }),
  'np.argmax:ties': (a) => np.argmax(a), 'np.argmax:nan': (a) => np.argmax(a),
  'np.argmin': (a) => np.argmin(a), 'np.argmin:axis': (a) => np.argmin(a, 0), 'np.argmin:ties': (a) => np.argmin(a), 'np.argmin:nan': (a) => np.argmin(a),
  'np.trace': (a) => np.trace(a), 'np.trace:offset': (a) => np.trace(a, 1), 'np.trace:negOffset': (a) => np.trace(a, -1),
  'np.trace:int': (a) => np.trace(a), 'np.trace:axes': (c) => np.trace(c, { axis1: 1, axis2: 2 }),
  'np.cumsum': (a) => np.cumsum(a, 1), 'np.cumsum:flat': (a) => np.cumsum(a), 'np.cumsum:negAxis': (c) => np.cumsum(c, -2),
  'np.cumsum:int': (i) => np.cumsum(i, 0), 'np.cumsum:bool': (b) => np.cumsum(b, 1), 'np.cumsum:dtype': (i) => np.cumsum(i, { axis: 1, dtype: 'float32' }),
  'np.cumprod': (a) => np.cumprod(a, 1), 'np.cumprod:flat': (a) => np.cumprod(a), 'np.cumprod:int': (i) => np.cumprod(i, 0),
  'np.cumulativeProd': (a) => np.cumulativeProd(a, { axis: 1 }), 'np.cumulativeProd:initial': (a) => np.cumulativeProd(a, { axis: 0, includeInitial: true }),
  'np.cumulativeProd:1d': (v) => np.cumulativeProd(v),
} satisfies Record<string, Fn>);
for (const name of ['max', 'min', 'amax', 'amin'] as const) {
  const f = np[name] as Fn;
  Object.assign(cases, {
    [`np.${name}`]: (a: KArray) => f(a), [`np.${name}:axis`]: (a: KArray) => f(a, 0),
    [`np.${name}:keepdims`]: (c: KArray) => f(c, { axis: [1, 2], keepdims: true }), [`np.${name}:int`]: (i: KArray) => f(i, -1), [`np.${name}:nan`]: (a: KArray) => f(a),
  });
}
for (const name of ['std', 'var', 'var_'] as const) {
  const f = np[name] as Fn;
  Object.assign(cases, {
    [`np.${name}`]: (a: KArray) => f(a), [`np.${name}:axis`]: (a: KArray) => f(a, 1), [`np.${name}:ddof`]: (a: KArray) => f(a, { axis: 0, ddof: 1 }),
    [`np.${name}:keepdims`]: (c: KArray) => f(c, { axis: -1, keepdims: true }), [`np.${name}:int`]: (i: KArray) => f(i),
  });
}

// ---- sorting and products ----
Object.assign(cases, {
  'np.sort': (a) => np.sort(a), 'np.sort:axis0': (a) => np.sort(a, 0), 'np.sort:flat': (a) => np.sort(a, null),
  'np.sort:descending': (a) => np.sort(a, { descending: true }), 'np.sort:nan': (a) => np.sort(a), 'np.sort:int': (a) => np.sort(a),
  'np.argsort': (a) => np.argsort(a), 'np.argsort:axis0': (a) => np.argsort(a, 0), 'np.argsort:ties': (a) => np.argsort(a),
  'np.argsort:descendingTies': (a) => np.argsort(a, { descending: true }), 'np.argsort:flat': (a) => np.argsort(a, null), 'np.argsort:nan': (a) => np.argsort(a),
  'np.matmul': np.matmul, 'np.matmul:batched': np.matmul, 'np.matmul:bcast': np.matmul, 'np.matmul:bcastBatch': np.matmul,
  'np.matmul:matvec': np.matmul, 'np.matmul:vecmat': np.matmul, 'np.matmul:vecvec': np.matmul, 'np.matmul:int': np.matmul,
  'np.dot': np.dot, 'np.dot:vec': np.dot, 'np.dot:scalar': (a) => np.dot(a, 2.0), 'np.dot:nd': np.dot, 'np.dot:matvec': np.dot, 'np.dot:int': np.dot,
  'np.inner': np.inner, 'np.inner:vec': np.inner, 'np.inner:nd': np.inner,
} satisfies Record<string, Fn>);

// ---- shapes ----
Object.assign(cases, {
  'np.reshape': (a) => np.reshape(a, [2, 6]), 'np.reshape:neg1': (a) => np.reshape(a, [-1, 2]), 'np.reshape:int': (i) => np.reshape(i, [4, 3]),
  'np.ravel': (c) => np.ravel(c), 'np.transpose': (c) => np.transpose(c), 'np.transpose:axes': (c) => np.transpose(c, [2, 0, 1]),
  'np.transpose:negAxes': (c) => np.transpose(c, [-1, 0, -2]), 'np.swapaxes': (c) => np.swapaxes(c, 0, -1),
  'np.moveaxis': (c) => np.moveaxis(c, 0, -1), 'np.moveaxis:multi': (c) => np.moveaxis(c, [0, 1], [-1, -3]),
  'np.rollAxis': (c) => np.rollAxis(c, 2), 'np.rollAxis:start': (c) => np.rollAxis(c, 0, 2), 'np.rollAxis:neg': (c) => np.rollAxis(c, -1, 1),
  'np.expandDims': (a) => np.expandDims(a, 0), 'np.expandDims:neg': (a) => np.expandDims(a, -1), 'np.expandDims:multi': (a) => np.expandDims(a, [0, 2]),
  'np.squeeze': (a) => np.squeeze(a), 'np.squeeze:axis': (a) => np.squeeze(a, 2), 'np.squeeze:negAxes': (a) => np.squeeze(a, [0, -2]),
  'np.flip': (a) => np.flip(a), 'np.flip:axis': (a) => np.flip(a, 1), 'np.flip:axes': (c) => np.flip(c, [0, -1]),
  'np.broadcastTo': (b) => np.broadcastTo(b, [3, 4]), 'np.broadcastTo:ones': (a) => np.broadcastTo(a, [2, 3, 4]), 'np.broadcastTo:int': (i) => np.broadcastTo(i, [2, 3, 4]),
  'np.tile': (b) => np.tile(b, 2), 'np.tile:2d': (a) => np.tile(a, [2, 1]), 'np.tile:rankUp': (b) => np.tile(b, [2, 1, 2]),
  'np.repeat': (a) => np.repeat(a, 2), 'np.repeat:axis': (a) => np.repeat(a, 2, 0), 'np.repeat:negAxis': (c) => np.repeat(c, 3, -1),
  'np.concatenate': (a, b) => np.concatenate([a, b]), 'np.concatenate:axis1': (a, b) => np.concatenate([a, b], 1),
  'np.concatenate:none': (a, b) => np.concatenate([a, b], null), 'np.concatenate:mixed': (i, a) => np.concatenate([i, a], -1),
  'np.concat': (a, b) => np.concat([a, b], -1),
  'np.stack': (a, b) => np.stack([a, b]), 'np.stack:axis': (a, b) => np.stack([a, b], -1), 'np.stack:axis1': (a, b, c) => np.stack([a, b, c], 1),
  'np.atleast1d': (a) => np.atleast1d(a), 'np.atleast1d:vec': (a) => np.atleast1d(a), 'np.atleast1d:many': (a, b) => np.atleast1d(a, b),
  'np.atleast3d': (a) => np.atleast3d(a), 'np.atleast3d:2d': (a) => np.atleast3d(a), 'np.atleast3d:scalar': (a) => np.atleast3d(a),
  'np.dsplit': (a) => np.dsplit(a, 2), 'np.dsplit:indices': (a) => np.dsplit(a, [1, 3]),
  'np.diag': (a) => np.diag(a), 'np.diag:k': (a) => np.diag(a, 1), 'np.diag:negK': (a) => np.diag(a, -2), 'np.diag:vec': (v) => np.diag(v),
  'np.diag:vecK': (v) => np.diag(v, -1), 'np.diagIndicesFrom': (a) => np.diagIndicesFrom(a), 'np.diagIndicesFrom:3d': (a) => np.diagIndicesFrom(a),
  'np.pad': (a) => np.pad(a, 1), 'np.pad:pairs': (a) => np.pad(a, [[1, 0], [0, 2]]), 'np.pad:value': (a) => np.pad(a, [2, 1], { constantValues: -1.0 }),
  'np.pad:int': (i) => np.pad(i, [[0, 1], [2, 0]], { constantValues: 7 }),
  'np.pad:edge': (a) => np.pad(a, [[1, 2], [2, 1]], 'edge'), 'np.pad:reflect': (a) => np.pad(a, [[1, 2], [2, 1]], 'reflect'),
  'np.pad:symmetric': (a) => np.pad(a, [[1, 2], [2, 1]], 'symmetric'), 'np.pad:wrap': (a) => np.pad(a, [[1, 2], [2, 1]], 'wrap'),
} satisfies Record<string, Fn>);

// ---- indexing and creation ----
Object.assign(cases, {
  'np.take': (a, i) => np.take(a, i, 1), 'np.take:flat': (a, i) => np.take(a, i), 'np.take:fill': (v, i) => np.take(v, i),
  'np.take:fillValue': (v, i) => np.take(v, i, { fillValue: -3.0 }), 'np.take:clip': (v, i) => np.take(v, i, { mode: 'clip' }),
  'np.take:wrap': (v, i) => np.take(v, i, { mode: 'wrap' }), 'np.take:2dIndices': (a, i) => np.take(a, i, 0), 'np.take:intFill': (a, i) => np.take(a, i, -1),
  'np.slice': (a) => np.slice(a, '1:', '::-2'), 'np.slice:int': (a) => np.slice(a, 1, '1:3'), 'np.slice:newaxis': (a) => np.slice(a, null, ':', 2),
  'np.slice:ellipsis': (c) => np.slice(c, '...', 1), 'np.slice:negative': (a) => np.slice(a, '-2:', ':-1'),
  'np.slice:intArray': (a) => np.slice(a, I32([2, 0, -1])), 'np.slice:step': (c) => np.slice(c, ':', '::2', '1::2'),
  'np.flatnonzero': (i) => np.flatnonzero(i, { size: 8, fillValue: -1 }), 'np.flatnonzero:pad': (b) => np.flatnonzero(b, { size: 12 }),
  'np.arange': () => np.arange(5), 'np.arange:float': () => np.arange(0.0, 2.0, 0.5), 'np.arange:negStep': () => np.arange(5, -3, -2),
  'np.arange:dtype': () => np.arange(3, null, null, 'float32'), 'np.arange:startStop': () => np.arange(2, 7),
  // JAX's Python ints are i32; JS has one number type, so kiln reads plain JS numbers as f32
  // (client/numpy/creation.ts) and integer data is written as an Int32Array or with dtype 'int32'.
  'np.array': () => np.array(Int32Array.of(1, 2, 3, 4), { shape: [2, 2] }), 'np.array:float': () => np.array([1.5, 2.0, -3.0]), 'np.array:bool': () => np.array([true, false, true]),
  'np.array:dtype': () => np.array([1, 2, 3], 'float32'), 'np.array:mixed': () => np.array([1, 2.5]), 'np.array:copy': (a) => np.array(a),
  'np.asarray': () => np.asarray(Int32Array.of(1, 2, 3)), 'np.asarray:dtype': (i) => np.asarray(i, 'float32'),
  'np.astype': (a) => np.astype(a, 'int32'), 'np.astype:bool': (a) => np.astype(a, 'bool'), 'np.astype:fromBool': (b) => np.astype(b, 'float32'),
  'np.astype:uint': (i) => np.astype(i, 'uint32'), 'np.astype:intToFloat': (i) => np.astype(i, 'float32'), 'np.astype:f16': (a) => np.astype(a, 'float16'),
  'np.full': () => np.full([2, 3], 1.5), 'np.full:int': () => np.full([2], 7, 'int32'), 'np.full:dtype': () => np.full([2, 2], 1, 'float32'),
  'np.full:bool': () => np.full([3], true), 'np.fullLike': (a) => np.fullLike(a, 2.5), 'np.fullLike:int': (i) => np.fullLike(i, 2.5),
  'np.fullLike:dtype': (a) => np.fullLike(a, 3, 'int32'),
  'np.zeros': () => np.zeros([2, 3]), 'np.zeros:dtype': () => np.zeros([3], 'int32'), 'np.ones': () => np.ones([3]), 'np.ones:dtype': () => np.ones([2, 2], 'bool'),
  'np.zerosLike': (i) => np.zerosLike(i), 'np.zerosLike:dtype': (a) => np.zerosLike(a, 'bool'), 'np.onesLike': (a) => np.onesLike(a),
  'np.onesLike:shape': (a) => np.onesLike(a, { shape: [2] }),
  'np.eye': () => np.eye(3), 'np.eye:rect': () => np.eye(3, 4, 1), 'np.eye:negK': () => np.eye(4, 3, -1), 'np.eye:dtype': () => np.eye(2, { dtype: 'int32' }),
  'np.identity': () => np.identity(3), 'np.identity:dtype': () => np.identity(2, 'bool'),
  'np.fromfunction': () => np.fromfunction((i: KArray, j: KArray) => i.mul(10).add(j), [2, 3], 'float32'),
  'np.fromfunction:int': () => np.fromfunction((i: KArray) => i.mul(i), [4], 'int32'),
  'np.hann': () => np.hann(5), 'np.hann:one': () => np.hann(1), 'np.hann:even': () => np.hann(6),
  'np.applyAlongAxis': (a) => np.applyAlongAxis((v: KArray) => np.sum(v.mul(v)), 1, a),
  'np.applyAlongAxis:vector': (a) => np.applyAlongAxis((v: KArray) => np.cumsum(v), 0, a),
  'np.applyAlongAxis:3d': (c) => np.applyAlongAxis((v: KArray) => np.max(v).sub(np.min(v)), 1, c),
  'np.applyOverAxes': (a) => np.applyOverAxes(np.sum, a, [0, 1]), 'np.applyOverAxes:3d': (c) => np.applyOverAxes(np.max, c, [0, 2]),
  'np.arrayEquiv': np.arrayEquiv, 'np.arrayEquiv:bcast': np.arrayEquiv, 'np.arrayEquiv:differ': np.arrayEquiv, 'np.arrayEquiv:shape': np.arrayEquiv,
  'np.polysub': np.polysub, 'np.polysub:longer': np.polysub,
} satisfies Record<string, Fn>);

/**
 * The metadata functions: plain values, not Arrays, so they are compared eagerly only (under jit a
 * function must return Arrays). Dtypes are kiln's dtype names, as the generator writes them.
 */
const meta: Record<string, Fn> = {
  'np.finfo:float32': () => np.finfo('float32'), 'np.finfo:float16': () => np.finfo('float16'),
  'np.iinfo:int32': () => np.iinfo('int32'), 'np.iinfo:uint32': () => np.iinfo('uint32'),
  'np.finfo:array': (a) => np.finfo(a),
  'np.promoteTypes': () => ([['int32', 'float16'], ['bool', 'uint32'], ['int32', 'uint32'], ['float16', 'float32'], ['bool', 'int32'],
    ['uint32', 'float32'], ['bool', 'bool'], ['float32', 'complex64'], ['uint32', 'bool'], ['float16', 'int32']] as const).map(([a, b]) => np.promoteTypes(a, b)),
  'np.promoteTypes:bfloat16': () => [np.promoteTypes('int32', 'bfloat16'), np.promoteTypes('float16', 'bfloat16')],
  'np.resultType': (i, a, b) => [np.resultType(i, 1.5), np.resultType(i, 2), np.resultType(a, i), np.resultType(b, 1), np.resultType(b, b),
    np.resultType(b, 2.5), np.resultType(i, np.astype(a, 'float16'))].map((r) => r.dtype),
  'np.shape': (c) => np.shape(c), 'np.shape:scalar': () => np.shape(3.0), 'np.ndim': (c) => np.ndim(c), 'np.ndim:scalar': () => np.ndim(3.0),
  'np.size': (c) => np.size(c), 'np.size:axis': (c) => np.size(c, -1),
  'np.isscalar': () => [np.isscalar(3.0), np.isscalar(np.array(3.0)), np.isscalar(np.zeros([2])), np.isscalar(true), np.isscalar(np.zeros([1]))],
  'np.broadcastShapes': () => [np.broadcastShapes([3, 1], [4]), np.broadcastShapes([2, 1, 4], [3, 1], []), np.broadcastShapes([5], [1]), np.broadcastShapes([0, 1], [3])],
  'np.iscomplexobj': (a) => [np.iscomplexobj(a), np.iscomplexobj(np.astype(a, 'complex64'))],
  'np.isrealobj': (a) => [np.isrealobj(a), np.isrealobj(np.astype(a, 'complex64'))],
};

/** Cases kiln refuses, with the reason (each must throw a KilnError at this file's line). */
const REFUSED: Record<string, string> = {
  'np.promoteTypes:bfloat16': 'kiln has no bfloat16 dtype',
};

const isMeta = (t: unknown): t is { json: unknown } => typeof t === 'object' && t !== null && !Array.isArray(t) && 'json' in t;

/** `got` has every key of `want` with equal values (kiln's info objects carry a few more keys). */
function compareJson(got: unknown, want: unknown, path: string): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    for (const [k, v] of Object.entries(want)) compareJson((got as Record<string, unknown>)?.[k], v, `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
}

describe('library fixtures: core numpy', () => {
  it('every core.json case has a kiln version or a stated refusal, and no kiln version lacks its case', () => {
    const names = Object.keys(fixture.cases);
    expect(names.filter((k) => !(k in cases) && !(k in meta) && !(k in REFUSED))).toEqual([]);
    expect(Object.keys(meta).filter((k) => !(k in fixture.cases))).toEqual([]);
    expect(Object.keys(REFUSED).filter((k) => !(k in fixture.cases))).toEqual([]);
    // The generic UNARY entries above name more variants than the generator writes; only those must exist.
    expect(names.length).toBeGreaterThan(400);
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const [name, c] of Object.entries(fixture.cases)) {
    if (name in meta) {
      it(name, () => {
        setDefaultDevice('reference');
        expect(isMeta(c.output), `${name}: a metadata case records {json: value}`).toBe(true);
        if (name in REFUSED) {
          let thrown: unknown;
          try { meta[name](...c.inputs.map(toKiln)); } catch (e) { thrown = e; }
          expect(thrown, REFUSED[name]).toBeInstanceOf(KilnError);
          expect(String((thrown as Error).message)).toMatch(/library-core\.test\.ts:\d+/);
          return;
        }
        compareJson(meta[name](...c.inputs.map(toKiln)), (c.output as { json: unknown }).json, name);
      });
      continue;
    }
    it(name, async () => {
      expect(devices.length).toBeGreaterThan(0);
      const f = cases[name] ?? (() => { throw new Error(`no kiln version of ${name}`); });
      // One jit per case, shared by the devices.
      const jf = jit(f);
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        for (const [mode, g] of [['eager', f], ['jit', jf]] as [string, Fn][]) {
          const args = c.inputs.map(toKiln);
          if (name in REFUSED) {
            let thrown: unknown;
            try { g(...args); } catch (e) { thrown = e; }
            expect(thrown, `${dname}/${mode}: ${REFUSED[name]}`).toBeInstanceOf(KilnError);
            expect(String((thrown as Error).message)).toMatch(/library-core\.test\.ts:\d+/);
            continue;
          }
          await compare(g(...args), c.output!, `${name} (${dname}, ${mode})`);
        }
      }
    });
  }
});

// ---- gradients against central differences -------------------------------------------------

const F = (shape: number[], seed: number, lo = -1, hi = 1) => np.array(Float32Array.from(spacedValues(shape.reduce((a, b) => a * b, 1), seed, lo, hi)), { shape });
const M34 = F([3, 4], 11), M43 = F([4, 3], 12), V3 = F([3], 13), V4 = F([4], 14);
const R = (x: KArray, shape: number[]) => np.reshape(x, shape);
const cat = (xs: KArray[]) => np.concatenate(xs.map((p) => np.ravel(p)));
/** Inputs in [lo, hi) are chosen away from each function's kinks and poles. */
const gradCases: Record<string, GradCase> = {
  abs: { f: np.abs, shape: [6], lo: 0.2, hi: 1.5 }, absolute: { f: np.absolute, shape: [4], lo: -1.5, hi: -0.2 },
  negative: { f: np.negative, shape: [3] }, sqrt: { f: np.sqrt, shape: [6], lo: 0.2, hi: 3 }, rsqrt: { f: np.rsqrt, shape: [6], lo: 0.3, hi: 3 },
  exp: { f: np.exp, shape: [6] }, expm1: { f: np.expm1, shape: [6] }, log: { f: np.log, shape: [6], lo: 0.3, hi: 3 },
  log1p: { f: np.log1p, shape: [6], lo: -0.6, hi: 2 }, sin: { f: np.sin, shape: [6] }, cos: { f: np.cos, shape: [6] },
  tan: { f: np.tan, shape: [6], lo: -1.2, hi: 1.2 }, sinh: { f: np.sinh, shape: [6] }, cosh: { f: np.cosh, shape: [6] }, tanh: { f: np.tanh, shape: [6] },
  arcsin: { f: np.arcsin, shape: [6], lo: -0.8, hi: 0.8 }, arccos: { f: np.arccos, shape: [6], lo: -0.8, hi: 0.8 }, arctan: { f: np.arctan, shape: [6] },
  asin: { f: np.asin, shape: [3], lo: -0.8, hi: 0.8 }, acos: { f: np.acos, shape: [3], lo: -0.8, hi: 0.8 }, atan: { f: np.atan, shape: [3] },
  asinh: { f: np.asinh, shape: [6] }, acosh: { f: np.acosh, shape: [6], lo: 1.3, hi: 3 }, atanh: { f: np.atanh, shape: [6], lo: -0.8, hi: 0.8 },
  erf: { f: np.erf, shape: [6] }, erfInv: { f: np.erfInv, shape: [6], lo: -0.8, hi: 0.8 },
  degrees: { f: np.degrees, shape: [3] }, radians: { f: np.radians, shape: [3] },
  // Piecewise constant: JAX's gradient is 0, as the differences are away from the jumps.
  floor: { f: (x) => np.floor(x.mul(3)), shape: [4], lo: -0.95, hi: -0.7 }, ceil: { f: (x) => np.ceil(x.mul(3)), shape: [4], lo: 0.4, hi: 0.6 },
  trunc: { f: (x) => np.trunc(x.mul(3)), shape: [4], lo: 0.4, hi: 0.6 }, round: { f: (x) => np.round(x.mul(3)), shape: [4], lo: 0.2, hi: 0.3 }, sign: { f: (x) => np.sign(x).mul(x), shape: [4], lo: 0.2, hi: 1.5 },
  real: { f: np.real, shape: [3] }, conj: { f: np.conj, shape: [3] }, conjugate: { f: np.conjugate, shape: [3] },
  add: { f: (x) => np.add(x, V3), shape: [3] }, subtract: { f: (x) => np.subtract(V3, x.mul(x)), shape: [3] },
  multiply: { f: (x) => np.multiply(x, np.flip(x)), shape: [4] }, divide: { f: (x) => np.divide(V4, x), shape: [4], lo: 0.4, hi: 2 },
  'divide numerator': { f: (x) => np.divide(x, 0.7), shape: [3] },
  mod: { f: (x) => np.mod(x, 2.5), shape: [4], lo: 0.1, hi: 2.4 }, power: { f: (x) => np.power(x, np.flip(x)), shape: [4], lo: 0.4, hi: 2 },
  pow: { f: (x) => np.pow(x, 3), shape: [4] }, 'power base': { f: (x) => np.power(1.7, x), shape: [3] },
  atan2: { f: (x) => np.atan2(x, np.flip(x).add(2)), shape: [4] }, 'atan2 x': { f: (x) => np.atan2(V3, x), shape: [3], lo: 0.3, hi: 2 },
  maximum: { f: (x) => np.maximum(x, np.flip(x)), shape: [5] }, minimum: { f: (x) => np.minimum(x, 0.1), shape: [6] },
  sum: { f: (x) => np.sum(R(x, [2, 3]), 1), shape: [6] }, mean: { f: (x) => np.mean(R(x, [2, 3]), 0), shape: [6] },
  prod: { f: (x) => np.prod(R(x, [2, 3]), -1), shape: [6] }, max: { f: (x) => np.max(R(x, [2, 3]), 1), shape: [6] },
  min: { f: (x) => np.min(x), shape: [6] }, amax: { f: (x) => np.amax(R(x, [3, 2]), 0), shape: [6] }, amin: { f: (x) => np.amin(R(x, [3, 2]), 1), shape: [6] },
  std: { f: (x) => np.std(R(x, [2, 3]), 1), shape: [6] }, var: { f: (x) => np.var(x, { ddof: 1 }), shape: [6] },
  var_: { f: (x) => np.var_(R(x, [3, 2]), 0), shape: [6] },
  trace: { f: (x) => np.trace(R(x, [3, 3]), 1), shape: [9] }, 'trace axes': { f: (x) => np.trace(R(x, [2, 2, 3]), { axis1: 1, axis2: 2 }), shape: [12] },
  cumsum: { f: (x) => np.cumsum(R(x, [2, 3]), 1), shape: [6] }, cumprod: { f: (x) => np.cumprod(x), shape: [5] },
  cumulativeProd: { f: (x) => np.cumulativeProd(R(x, [2, 3]), { axis: 0, includeInitial: true }), shape: [6] },
  sort: { f: (x) => np.sort(x), shape: [6] }, 'sort descending': { f: (x) => np.sort(R(x, [2, 3]), { descending: true }), shape: [6] },
  matmul: { f: (x) => np.matmul(R(x, [2, 4]), M43), shape: [8] }, 'matmul right': { f: (x) => np.matmul(M34, R(x, [4, 2])), shape: [8] },
  dot: { f: (x) => np.dot(M34, x), shape: [4] }, inner: { f: (x) => np.inner(R(x, [2, 4]), M34), shape: [8] },
  reshape: { f: (x) => R(x, [3, 2]).mul(np.arange(6).reshape([3, 2])), shape: [6] }, ravel: { f: (x) => np.ravel(R(x, [2, 3])), shape: [6] },
  transpose: { f: (x) => np.transpose(R(x, [2, 3])).mul(M34.slice(':', '0:2')), shape: [6] },
  swapaxes: { f: (x) => np.swapaxes(R(x, [1, 2, 3]), 0, 2), shape: [6] }, moveaxis: { f: (x) => np.moveaxis(R(x, [1, 2, 3]), 0, -1), shape: [6] },
  rollAxis: { f: (x) => np.rollAxis(R(x, [2, 1, 3]), 2), shape: [6] }, expandDims: { f: (x) => np.expandDims(x, 0), shape: [3] },
  squeeze: { f: (x) => np.squeeze(R(x, [1, 3, 1])), shape: [3] }, flip: { f: (x) => np.flip(R(x, [2, 3]), 1), shape: [6] },
  broadcastTo: { f: (x) => np.broadcastTo(x, [2, 3]), shape: [3] }, tile: { f: (x) => np.tile(x, [2, 2]), shape: [3] },
  repeat: { f: (x) => np.repeat(x, 3), shape: [3] }, concatenate: { f: (x) => np.concatenate([x, x.mul(x)], 0), shape: [3] },
  concat: { f: (x) => np.concat([R(x, [2, 2]), np.sin(R(x, [2, 2]))], 1), shape: [4] }, stack: { f: (x) => np.stack([x, np.exp(x)], 1), shape: [3] },
  atleast1d: { f: (x) => np.atleast1d(np.sum(x)) as KArray, shape: [3] }, atleast3d: { f: (x) => np.atleast3d(x) as KArray, shape: [3] },
  dsplit: { f: (x) => cat(np.dsplit(R(x, [1, 2, 4]), 2).map((p, i) => p.mul(i + 1))), shape: [8] },
  diag: { f: (x) => np.diag(R(x, [3, 3]), -1), shape: [9] }, 'diag of a vector': { f: (x) => np.diag(x, 1), shape: [3] },
  pad: { f: (x) => np.pad(R(x, [2, 2]), [[1, 0], [0, 2]], { constantValues: 3 }), shape: [4] },
  'pad reflect': { f: (x) => np.pad(x, [2, 3], 'reflect'), shape: [4] }, 'pad edge': { f: (x) => np.pad(x, [1, 2], 'edge'), shape: [3] },
  'pad symmetric': { f: (x) => np.pad(x, [3, 1], 'symmetric'), shape: [3] }, 'pad wrap': { f: (x) => np.pad(x, [4, 2], 'wrap'), shape: [3] },
  take: { f: (x) => np.take(x, I32([0, 2, 2, -1])), shape: [4] }, 'take clip': { f: (x) => np.take(R(x, [2, 3]), I32([2, 5, 0]), { axis: 1, mode: 'clip' }), shape: [6] },
  slice: { f: (x) => np.slice(R(x, [2, 3]), ':', '::-2'), shape: [6] }, polysub: { f: (x) => np.polysub(x, np.sin(np.slice(x, '1:'))), shape: [3] },
  applyAlongAxis: { f: (x) => np.applyAlongAxis((v: KArray) => np.sum(v.mul(v)), 1, R(x, [2, 3])), shape: [6] },
  applyOverAxes: { f: (x) => np.applyOverAxes(np.max, R(x, [2, 3]), [1]), shape: [6] },
  astype: { f: (x) => np.astype(x, 'float32').mul(x), shape: [3] },
};

/** The differentiable names of the task list: each has a gradient case above (under its name, or a variant). */
const DIFFERENTIABLE = [
  'abs', 'absolute', 'acos', 'acosh', 'add', 'amax', 'amin', 'applyAlongAxis', 'applyOverAxes', 'arccos', 'arcsin', 'arctan', 'asin',
  'asinh', 'astype', 'atan', 'atan2', 'atanh', 'atleast1d', 'atleast3d', 'broadcastTo', 'ceil', 'concat', 'concatenate', 'conj',
  'conjugate', 'cos', 'cosh', 'cumprod', 'cumsum', 'cumulativeProd', 'degrees', 'diag', 'divide', 'dot', 'dsplit', 'erf', 'erfInv',
  'exp', 'expandDims', 'expm1', 'flip', 'floor', 'inner', 'log', 'log1p', 'matmul', 'max', 'maximum', 'mean', 'min', 'minimum', 'mod',
  'moveaxis', 'multiply', 'negative', 'pad', 'polysub', 'pow', 'power', 'prod', 'radians', 'ravel', 'real', 'repeat', 'reshape',
  'rollAxis', 'round', 'rsqrt', 'sign', 'sin', 'sinh', 'slice', 'sort', 'sqrt', 'squeeze', 'stack', 'std', 'subtract', 'sum', 'swapaxes',
  'take', 'tan', 'tanh', 'tile', 'trace', 'transpose', 'trunc', 'var', 'var_',
];

describe('gradients against central differences', () => {
  beforeAll(() => setDefaultDevice('reference'));
  it('every differentiable name has a case', () => {
    expect(DIFFERENTIABLE.filter((n) => !(n in gradCases))).toEqual([]);
  });
  for (const [name, c] of Object.entries(gradCases)) {
    it(name, () => checkGradCase(name, c));
  }
});
