/**
 * @file Every np function against values computed independently in float64 here, on the reference
 * device and on webgpu (when an adapter exists; required with CI=true). Each record runs eagerly
 * and under `jit`, and its `lower` text must round-trip through ir/ (parse, verify, print).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { jit, lower, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import type { Device } from '../../runtime/device.js';
import {
  broadcastShape, devicesUnderTest, expectClose, h, map, permute, rand, reduceAxis, toArray, unravel, zipN, type H,
} from './helpers.js';

interface Rec {
  name: string;
  run: (...xs: KArray[]) => KArray | KArray[];
  inputs: H[];
  want: H | H[];
  /** Relative tolerance (transcendental functions get more). */
  rtol?: number;
}

const A = rand([2, 3], 1);
const B = rand([3], 2);
const P = rand([2, 3], 3, 0.1, 3); // positive
const U = rand([2, 3], 4, -0.9, 0.9); // inside (-1, 1)
const I = rand([2, 3], 5, -7, 7, 'i32');
const J = rand([2, 3], 6, 1, 4, 'i32');
const M = rand([3, 4], 7);
const N = rand([4, 2], 8);
const S = rand([4, 5], 9);
const SPECIAL = h([5], [Infinity, -Infinity, NaN, 1.5, -0]);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const f32 = Math.fround;
const bool = (b: boolean) => (b ? 1 : 0);

function matmulRef(a: H, b: H): H {
  const [m, k] = a.shape, n = b.shape[1];
  const data: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += a.data[i * k + t] * b.data[t * n + j];
    data.push(s);
  }
  return h([m, n], data);
}

function sliceRef(a: H, starts: number[], ends: number[], steps: number[]): H {
  const shape = starts.map((s, i) => Math.max(0, Math.ceil((ends[i] - s) / steps[i])));
  const n = shape.reduce((x, y) => x * y, 1);
  const st = a.shape.map((_, i) => a.shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const data = Array.from({ length: n }, (_, i) => {
    const idx = unravel(i, shape);
    return a.data[idx.reduce((acc, v, d) => acc + (starts[d] + v * steps[d]) * st[d], 0)];
  });
  return h(shape, data, a.dtype);
}

const recs: Rec[] = [
  // ---- arithmetic with broadcasting and promotion
  { name: 'add', run: (a, b) => np.add(a, b), inputs: [A, B], want: zipN([A, B], (x, y) => x + y) },
  { name: 'subtract', run: (a, b) => np.subtract(a, b), inputs: [A, B], want: zipN([A, B], (x, y) => x - y) },
  { name: 'multiply', run: (a, b) => np.multiply(a, b), inputs: [A, B], want: zipN([A, B], (x, y) => x * y) },
  { name: 'divide', run: (a, b) => np.divide(a, b), inputs: [A, P], want: zipN([A, P], (x, y) => x / y) },
  { name: 'divide ints gives f32', run: (a, b) => np.divide(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => x / y) },
  { name: 'add weak scalar keeps f32', run: (a) => np.add(a, 2), inputs: [A], want: map(A, (x) => x + 2) },
  { name: 'multiply int by 0.5 gives f32', run: (a) => np.multiply(a, 0.5), inputs: [I], want: map(I, (x) => x * 0.5, 'f32') },
  { name: 'add i32 + int stays i32', run: (a) => np.add(a, 3), inputs: [I], want: map(I, (x) => x + 3) },
  { name: 'floorDivide f32', run: (a, b) => np.floorDivide(a, b), inputs: [A, P], want: zipN([A, P], (x, y) => Math.floor(x / y)) },
  { name: 'floorDivide i32', run: (a, b) => np.floorDivide(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => Math.floor(x / y), 'i32') },
  { name: 'mod i32 negative', run: (a, b) => np.mod(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => ((x % y) + y) % y, 'i32') },
  { name: 'mod f32', run: (a, b) => np.mod(a, b), inputs: [A, P], want: zipN([A, P], (x, y) => x - Math.floor(x / y) * y), rtol: 1e-4 },
  { name: 'power integer exponent', run: (a) => np.power(a, 3), inputs: [A], want: map(A, (x) => x ** 3) },
  { name: 'power negative exponent', run: (a) => np.power(a, -2), inputs: [P], want: map(P, (x) => x ** -2), rtol: 1e-5 },
  { name: 'power arrays', run: (a, b) => np.power(a, b), inputs: [P, U], want: zipN([P, U], (x, y) => x ** y), rtol: 1e-4 },
  { name: 'negative', run: (a) => np.negative(a), inputs: [A], want: map(A, (x) => -x) },
  { name: 'abs', run: (a) => np.abs(a), inputs: [I], want: map(I, Math.abs) },
  { name: 'sign', run: (a) => np.sign(a), inputs: [A], want: map(A, Math.sign) },
  { name: 'sqrt', run: (a) => np.sqrt(a), inputs: [P], want: map(P, Math.sqrt) },
  { name: 'sqrt of ints', run: (a) => np.sqrt(a), inputs: [J], want: map(J, Math.sqrt, 'f32') },
  { name: 'square', run: (a) => np.square(a), inputs: [A], want: map(A, (x) => x * x) },
  { name: 'reciprocal', run: (a) => np.reciprocal(a), inputs: [P], want: map(P, (x) => 1 / x) },
  { name: 'exp', run: (a) => np.exp(a), inputs: [A], want: map(A, Math.exp), rtol: 1e-4 },
  { name: 'log', run: (a) => np.log(a), inputs: [P], want: map(P, Math.log), rtol: 1e-4 },
  { name: 'log1p', run: (a) => np.log1p(a), inputs: [U], want: map(U, Math.log1p), rtol: 1e-4 },
  { name: 'expm1', run: (a) => np.expm1(a), inputs: [U], want: map(U, Math.expm1), rtol: 1e-4 },
  { name: 'exp2', run: (a) => np.exp2(a), inputs: [A], want: map(A, (x) => 2 ** x), rtol: 1e-4 },
  { name: 'log2', run: (a) => np.log2(a), inputs: [P], want: map(P, Math.log2), rtol: 1e-4 },
  { name: 'log10', run: (a) => np.log10(a), inputs: [P], want: map(P, Math.log10), rtol: 1e-4 },
  { name: 'sin', run: (a) => np.sin(a), inputs: [A], want: map(A, Math.sin), rtol: 1e-4 },
  { name: 'cos', run: (a) => np.cos(a), inputs: [A], want: map(A, Math.cos), rtol: 1e-4 },
  { name: 'tan', run: (a) => np.tan(a), inputs: [U], want: map(U, Math.tan), rtol: 1e-4 },
  { name: 'tanh', run: (a) => np.tanh(a), inputs: [A], want: map(A, Math.tanh), rtol: 1e-4 },
  { name: 'arcsin', run: (a) => np.arcsin(a), inputs: [U], want: map(U, Math.asin), rtol: 1e-4 },
  { name: 'arccos', run: (a) => np.arccos(a), inputs: [U], want: map(U, Math.acos), rtol: 1e-4 },
  { name: 'arctan', run: (a) => np.arctan(a), inputs: [A], want: map(A, Math.atan), rtol: 1e-4 },
  { name: 'arctan2', run: (a, b) => np.arctan2(a, b), inputs: [A, U], want: zipN([A, U], Math.atan2), rtol: 1e-4 },
  { name: 'sinh', run: (a) => np.sinh(a), inputs: [A], want: map(A, Math.sinh), rtol: 1e-4 },
  { name: 'cosh', run: (a) => np.cosh(a), inputs: [A], want: map(A, Math.cosh), rtol: 1e-4 },
  { name: 'maximum', run: (a, b) => np.maximum(a, b), inputs: [A, B], want: zipN([A, B], Math.max) },
  { name: 'minimum', run: (a, b) => np.minimum(a, b), inputs: [A, B], want: zipN([A, B], Math.min) },
  { name: 'clip', run: (a) => np.clip(a, -0.5, 1), inputs: [A], want: map(A, (x) => Math.min(1, Math.max(-0.5, x))) },
  { name: 'where', run: (a, b) => np.where(np.greater(a, 0), a, b), inputs: [A, B], want: zipN([A, B], (x, y) => (x > 0 ? x : y)) },
  { name: 'equal', run: (a, b) => np.equal(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => bool(x === y), 'i1') },
  { name: 'notEqual', run: (a, b) => np.notEqual(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => bool(x !== y), 'i1') },
  { name: 'less', run: (a, b) => np.less(a, b), inputs: [A, B], want: zipN([A, B], (x, y) => bool(x < y), 'i1') },
  { name: 'lessEqual', run: (a, b) => np.lessEqual(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => bool(x <= y), 'i1') },
  { name: 'greater', run: (a, b) => np.greater(a, b), inputs: [A, B], want: zipN([A, B], (x, y) => bool(x > y), 'i1') },
  { name: 'greaterEqual', run: (a, b) => np.greaterEqual(a, b), inputs: [I, J], want: zipN([I, J], (x, y) => bool(x >= y), 'i1') },
  { name: 'logicalAnd', run: (a, b) => np.logicalAnd(a, b), inputs: [I, A], want: zipN([I, A], (x, y) => bool(x !== 0 && y !== 0), 'i1') },
  { name: 'logicalOr', run: (a, b) => np.logicalOr(np.greater(a, 0), np.less(b, 0)), inputs: [A, B], want: zipN([A, B], (x, y) => bool(x > 0 || y < 0), 'i1') },
  { name: 'logicalNot', run: (a) => np.logicalNot(a), inputs: [I], want: map(I, (x) => bool(x === 0), 'i1') },
  { name: 'isnan', run: (a) => np.isnan(a), inputs: [SPECIAL], want: map(SPECIAL, (x) => bool(Number.isNaN(x)), 'i1') },
  { name: 'isinf', run: (a) => np.isinf(a), inputs: [SPECIAL], want: map(SPECIAL, (x) => bool(Math.abs(x) === Infinity), 'i1') },
  { name: 'isfinite', run: (a) => np.isfinite(a), inputs: [SPECIAL], want: map(SPECIAL, (x) => bool(Number.isFinite(x)), 'i1') },
  { name: 'isnan of ints is false', run: (a) => np.isnan(a), inputs: [I], want: map(I, () => 0, 'i1') },
  { name: 'floor', run: (a) => np.floor(a), inputs: [A], want: map(A, Math.floor) },
  { name: 'ceil', run: (a) => np.ceil(a), inputs: [A], want: map(A, Math.ceil) },
  { name: 'round half to even', run: (a) => np.round(a), inputs: [h([6], [0.5, 1.5, 2.5, -0.5, -1.5, 2.4])], want: h([6], [0, 2, 2, -0, -2, 2]) },
  // ---- products
  { name: 'matmul', run: (a, b) => np.matmul(a, b), inputs: [M, N], want: matmulRef(M, N) },
  { name: 'matmul batched broadcast', run: (a, b) => np.matmul(a, b), inputs: [rand([2, 3, 4], 10), N], want: h([2, 3, 2], [...matmulRef(h([3, 4], rand([2, 3, 4], 10).data.slice(0, 12)), N).data, ...matmulRef(h([3, 4], rand([2, 3, 4], 10).data.slice(12)), N).data]) },
  { name: 'matmul vector', run: (a, b) => np.matmul(a, b), inputs: [M, rand([4], 11)], want: h([3], matmulRef(M, h([4, 1], rand([4], 11).data)).data) },
  { name: 'dot vectors', run: (a, b) => np.dot(a, b), inputs: [B, B], want: h([], [sum(B.data.map((x) => x * x))]) },
  { name: 'dot matrices', run: (a, b) => np.dot(a, b), inputs: [M, N], want: matmulRef(M, N) },
  { name: 'outer', run: (a, b) => np.outer(a, b), inputs: [B, rand([2], 12)], want: h([3, 2], B.data.flatMap((x) => rand([2], 12).data.map((y) => x * y))) },
  { name: 'einsum matmul', run: (a, b) => np.einsum('ij,jk->ik', a, b), inputs: [M, N], want: matmulRef(M, N) },
  { name: 'einsum transpose', run: (a) => np.einsum('ij->ji', a), inputs: [M], want: permute(M, [1, 0]) },
  { name: 'einsum trace-free sum', run: (a, b) => np.einsum('ij,ij->', a, b), inputs: [A, P], want: h([], [sum(A.data.map((x, i) => x * P.data[i]))]) },
  { name: 'einsum implicit', run: (a, b) => np.einsum('ij,jk', a, b), inputs: [M, N], want: matmulRef(M, N) },
  // ---- reductions
  { name: 'sum all', run: (a) => np.sum(a), inputs: [A], want: h([], [sum(A.data)]) },
  { name: 'sum axis keepdims', run: (a) => np.sum(a, { axis: 1, keepdims: true }), inputs: [A], want: reduceAxis(A, 1, sum, true) },
  { name: 'sum of bools counts', run: (a) => np.sum(np.greater(a, 0)), inputs: [A], want: h([], [A.data.filter((x) => x > 0).length], 'i32') },
  { name: 'mean', run: (a) => np.mean(a, { axis: 0 }), inputs: [A], want: reduceAxis(A, 0, (v) => sum(v) / v.length) },
  { name: 'mean of ints', run: (a) => np.mean(a), inputs: [I], want: h([], [sum(I.data) / 6], 'f32') },
  { name: 'max', run: (a) => np.max(a, { axis: -1 }), inputs: [A], want: reduceAxis(A, 1, (v) => Math.max(...v)) },
  { name: 'min', run: (a) => np.min(a, { axis: 0 }), inputs: [I], want: reduceAxis(I, 0, (v) => Math.min(...v)) },
  { name: 'prod', run: (a) => np.prod(a, { axis: 1 }), inputs: [A], want: reduceAxis(A, 1, (v) => v.reduce((x, y) => x * y, 1)) },
  { name: 'var', run: (a) => np.var(a, { axis: 1 }), inputs: [A], want: reduceAxis(A, 1, (v) => { const m = sum(v) / v.length; return sum(v.map((x) => (x - m) ** 2)) / v.length; }), rtol: 1e-4 },
  { name: 'std ddof', run: (a) => np.std(a, { ddof: 1 }), inputs: [A], want: h([], [Math.sqrt(sum(A.data.map((x) => (x - sum(A.data) / 6) ** 2)) / 5)]), rtol: 1e-4 },
  { name: 'argmax', run: (a) => np.argmax(a, { axis: 1 }), inputs: [S], want: reduceAxis(S, 1, (v) => v.indexOf(Math.max(...v)), false, 'i32') },
  { name: 'argmin flat', run: (a) => np.argmin(a), inputs: [S], want: h([], [S.data.indexOf(Math.min(...S.data))], 'i32') },
  { name: 'argmax first of ties', run: (a) => np.argmax(a), inputs: [h([5], [1, 3, 3, 0, 3])], want: h([], [1], 'i32') },
  { name: 'all', run: (a) => np.all(np.greater(a, -5), { axis: 0 }), inputs: [A], want: h([3], [1, 1, 1], 'i1') },
  { name: 'any', run: (a) => np.any(np.greater(a, 1), { axis: 1 }), inputs: [A], want: reduceAxis(A, 1, (v) => bool(v.some((x) => x > 1)), false, 'i1') },
  { name: 'cumsum', run: (a) => np.cumsum(a, 1), inputs: [S], want: reduceAxisCum(S, (p, x) => p + x) },
  { name: 'cumprod flat', run: (a) => np.cumprod(a), inputs: [U], want: h([6], U.data.map((_, i) => U.data.slice(0, i + 1).reduce((x, y) => x * y, 1))), rtol: 1e-4 },
  { name: 'sort', run: (a) => np.sort(a), inputs: [S], want: rows(S).map((r) => [...r].sort((x, y) => x - y)).flat().reduce((hh, v) => (hh.data.push(v), hh), h([4, 5], [])) },
  { name: 'argsort', run: (a) => np.argsort(a), inputs: [B], want: h([3], [...B.data.keys()].sort((i, j) => B.data[i] - B.data[j]), 'i32') },
  // ---- shapes
  { name: 'reshape with -1', run: (a) => np.reshape(a, [3, -1]), inputs: [A], want: h([3, 2], A.data) },
  { name: 'transpose', run: (a) => np.transpose(a), inputs: [A], want: permute(A, [1, 0]) },
  { name: 'transpose axes', run: (a) => np.transpose(a, [1, 2, 0]), inputs: [rand([2, 3, 4], 13)], want: permute(rand([2, 3, 4], 13), [1, 2, 0]) },
  { name: 'swapaxes', run: (a) => np.swapaxes(a, 0, 2), inputs: [rand([2, 3, 4], 13)], want: permute(rand([2, 3, 4], 13), [2, 1, 0]) },
  { name: 'moveaxis', run: (a) => np.moveaxis(a, 0, -1), inputs: [rand([2, 3, 4], 13)], want: permute(rand([2, 3, 4], 13), [1, 2, 0]) },
  { name: 'expandDims', run: (a) => np.expandDims(a, 1), inputs: [A], want: h([2, 1, 3], A.data) },
  { name: 'squeeze', run: (a) => np.squeeze(a), inputs: [h([1, 3, 1], [1, 2, 3])], want: h([3], [1, 2, 3]) },
  { name: 'ravel', run: (a) => np.ravel(a), inputs: [A], want: h([6], A.data) },
  { name: 'concatenate axis 1', run: (a, b) => np.concatenate([a, b], 1), inputs: [A, P], want: h([2, 6], [...A.data.slice(0, 3), ...P.data.slice(0, 3), ...A.data.slice(3), ...P.data.slice(3)]) },
  { name: 'stack', run: (a, b) => np.stack([a, b], 0), inputs: [B, B], want: h([2, 3], [...B.data, ...B.data]) },
  { name: 'split', run: (a) => np.split(a, 3, 1), inputs: [A], want: [0, 1, 2].map((j) => h([2, 1], [A.data[j], A.data[3 + j]])) },
  { name: 'split at indices', run: (a) => np.split(a, [1]), inputs: [B], want: [h([1], B.data.slice(0, 1)), h([2], B.data.slice(1))] },
  { name: 'broadcastTo', run: (a) => np.broadcastTo(a, [2, 3]), inputs: [B], want: h([2, 3], [...B.data, ...B.data]) },
  { name: 'tile', run: (a) => np.tile(a, [2, 1]), inputs: [A], want: h([4, 3], [...A.data, ...A.data]) },
  { name: 'repeat', run: (a) => np.repeat(a, 2, 0), inputs: [B], want: h([6], B.data.flatMap((x) => [x, x])) },
  { name: 'pad', run: (a) => np.pad(a, [[1, 0], [0, 2]], { constantValues: 9 }), inputs: [A], want: h([3, 5], [9, 9, 9, 9, 9, ...A.data.slice(0, 3), 9, 9, ...A.data.slice(3), 9, 9]) },
  { name: 'flip', run: (a) => np.flip(a, 1), inputs: [A], want: h([2, 3], [A.data[2], A.data[1], A.data[0], A.data[5], A.data[4], A.data[3]]) },
  // ---- indexing
  { name: 'take', run: (a) => np.take(a, [3, 0, -1], 1), inputs: [S], want: h([4, 3], rows(S).flatMap((r) => [r[3], r[0], r[4]])) },
  { name: 'take with array indices', run: (a, i) => np.take(a, i, 0), inputs: [B, h([2, 2], [2, 0, 1, 1], 'i32')], want: h([2, 2], [2, 0, 1, 1].map((k) => B.data[k])) },
  { name: 'takeAlongAxis', run: (a, i) => np.takeAlongAxis(a, i, 1), inputs: [A, h([2, 2], [2, 0, 1, 1], 'i32')], want: h([2, 2], [A.data[2], A.data[0], A.data[4], A.data[4]]) },
  { name: 'slice start:stop:step', run: (a) => np.slice(a, [1, 4], [null, null, 2]), inputs: [S], want: sliceRef(S, [1, 0], [4, 5], [1, 2]) },
  { name: 'slice negative step', run: (a) => np.slice(a, 0, '::-1'), inputs: [S], want: h([5], rows(S)[0].slice().reverse()) },
  { name: 'slice negative indices', run: (a) => np.slice(a, '...', '-2:'), inputs: [S], want: sliceRef(S, [0, 3], [4, 5], [1, 1]) },
  { name: 'tril', run: (a) => np.tril(a), inputs: [S], want: h([4, 5], S.data.map((x, i) => ((i % 5) <= Math.floor(i / 5) ? x : 0))) },
  { name: 'triu k=1', run: (a) => np.triu(a, 1), inputs: [S], want: h([4, 5], S.data.map((x, i) => ((i % 5) - Math.floor(i / 5) >= 1 ? x : 0))) },
  { name: 'diag of matrix', run: (a) => np.diag(a, 1), inputs: [S], want: h([4], [0, 1, 2, 3].map((i) => S.data[i * 5 + i + 1])) },
  { name: 'diag of vector', run: (a) => np.diag(a), inputs: [B], want: h([3, 3], [B.data[0], 0, 0, 0, B.data[1], 0, 0, 0, B.data[2]]) },
  { name: 'diag of vector k=-1', run: (a) => np.diag(a, -1), inputs: [h([2], [5, 6])], want: h([3, 3], [0, 0, 0, 5, 0, 0, 0, 6, 0]) },
  { name: 'trace', run: (a) => np.trace(a), inputs: [S], want: h([], [[0, 1, 2, 3].reduce((s, i) => s + S.data[i * 5 + i], 0)]) },
  // ---- creation and conversion (mixed into traced code)
  { name: 'arange', run: (a) => np.add(a, np.arange(3)), inputs: [B], want: map(B, (x) => x) && h([3], B.data.map((x, i) => x + i)) },
  { name: 'linspace', run: () => np.linspace(0, 1, 5), inputs: [], want: h([5], [0, 0.25, 0.5, 0.75, 1]) },
  { name: 'eye', run: () => np.eye(2, 3, 1), inputs: [], want: h([2, 3], [0, 1, 0, 0, 0, 1]) },
  { name: 'zeros/ones/full', run: (a) => np.add(np.add(np.zeros([2, 3]), np.ones([3])), np.multiply(a, np.full([2, 3], 2))), inputs: [A], want: map(A, (x) => 1 + 2 * x) },
  { name: 'zerosLike/onesLike/fullLike', run: (a) => np.add(np.add(np.zerosLike(a), np.onesLike(a)), np.fullLike(a, 3)), inputs: [I], want: map(I, () => 4) },
  { name: 'astype f32 to i32 truncates', run: (a) => np.astype(a, 'i32'), inputs: [A], want: map(A, Math.trunc, 'i32') },
  { name: 'array and asarray', run: (a) => np.add(a, np.asarray(np.array([[1, 2, 3]]))), inputs: [A], want: zipN([A, h([1, 3], [1, 2, 3])], (x, y) => x + y) },
];

function rows(a: H): number[][] {
  const w = a.shape[a.shape.length - 1];
  return Array.from({ length: a.data.length / w }, (_, i) => a.data.slice(i * w, (i + 1) * w));
}

function reduceAxisCum(a: H, f: (p: number, x: number) => number): H {
  return h(a.shape, rows(a).flatMap((r) => { let p: number | undefined; return r.map((x) => (p = p === undefined ? x : f(p, x))); }), a.dtype);
}

describe('np: lower() round-trips through ir (parse, verify, print)', () => {
  for (const r of recs) {
    it(r.name, () => {
      const args = r.inputs.map((x) => toArray(x, np));
      const text = lower(r.run)(...args).text;
      const m = parseModule(text, 'lowered.mlir');
      verifyModule(m);
      expect(printModule(m)).toBe(text);
    });
  }
});

const devices = await devicesUnderTest();
for (const [name, device] of devices) {
  describe(`np on ${name}`, () => {
    beforeAll(() => setDefaultDevice(device as Device));
    const gpuSlack = name === 'webgpu' ? 10 : 1;
    for (const r of recs) {
      it(r.name, async () => {
        setDefaultDevice(device);
        const args = r.inputs.map((x) => toArray(x, np));
        const wants = Array.isArray(r.want) ? r.want : [r.want];
        const check = async (got: KArray | KArray[]) => {
          const gots = Array.isArray(got) ? got : [got];
          expect(gots.length).toBe(wants.length);
          for (let i = 0; i < wants.length; i++) await expectClose(gots[i], wants[i], (r.rtol ?? 1e-5) * gpuSlack, 1e-6 * gpuSlack);
        };
        await check(r.run(...args));
        await check(jit(r.run)(...args) as KArray | KArray[]);
      });
    }
  });
}

it('expected values are computed in float64, not by kiln', () => {
  // A sanity check of the independent helpers themselves.
  expect(broadcastShape([2, 1], [3])).toEqual([2, 3]);
  expect(f32(0.1)).not.toBe(0.1);
});
