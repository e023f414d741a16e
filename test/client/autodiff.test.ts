/**
 * @file Reverse mode at the IR level: for every differentiable op (one record each), the gradient
 * the VJP module computes on the reference interpreter matches central finite differences; plus
 * accumulation over several uses, zero gradients of piecewise-constant ops, the vjp module's
 * signature, and refusals of what is not implemented.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type ComparisonDirection, type ConvDims, type DotDims, type ScatterDims } from '../../ir/ops.js';
import { tensorType, type TensorType, type Value } from '../../ir/types.js';
import { valueAndGradModule, vjpModule } from '../../client/autodiff/vjp.js';
import type { Emitter } from '../../client/autodiff/emit.js';
import { hostTensor } from '../../runtime/tensor.js';
import {
  buildModule, finiteDifferences, makeInput, mismatch, none, rng, run, weightedLoss, type InputSpec,
} from './autodiff-helpers.js';

interface GradRecord {
  name: string;
  inputs: InputSpec[];
  f: (e: Emitter, args: Value[]) => Value;
  /** Inputs to differentiate (default: every f32 input). */
  wrt?: number[];
  atol?: number;
  rtol?: number;
}

const f32 = (shape: number[], gen?: InputSpec['gen']): InputSpec => ({ dtype: 'f32', shape, gen });
const i32 = (shape: number[], values: number[]): InputSpec => ({ dtype: 'i32', shape, gen: { kind: 'values', values } });
const i1 = (shape: number[], values: number[]): InputSpec => ({ dtype: 'i1', shape, gen: { kind: 'values', values } });
const U = (lo: number, hi: number) => ({ kind: 'uniform' as const, lo, hi });
const AWAY = (lo: number, hi: number) => ({ kind: 'away' as const, lo, hi });

const unaryRecord = (op: Op, gen: InputSpec["gen"] = U(-1, 1), shape = [2, 3]): GradRecord => ({
  name: op, inputs: [f32(shape, gen)], f: (e, [x]) => e.un(op, x),
});
const binaryRecord = (op: Op, ga: InputSpec["gen"] = U(-1, 1), gb: InputSpec["gen"] = U(-1, 1), name: string = op): GradRecord => ({
  name, inputs: [f32([2, 3], ga), f32([2, 3], gb)], f: (e, [x, y]) => e.bin(op, x, y),
});

const matmul: DotDims = { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] };
const nchw: ConvDims = {
  inputBatch: 0, inputFeature: 1, inputSpatial: [2, 3], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2, 3],
  outputBatch: 0, outputFeature: 1, outputSpatial: [2, 3],
};
const nhwc: ConvDims = {
  inputBatch: 0, inputFeature: 3, inputSpatial: [1, 2], kernelOutput: 3, kernelInput: 2, kernelSpatial: [0, 1],
  outputBatch: 0, outputFeature: 3, outputSpatial: [1, 2],
};
function conv(e: Emitter, x: Value, w: Value, dims: ConvDims, o: { strides?: number[]; padding?: [number, number][]; lhsDil?: number[]; rhsDil?: number[] } = {}): Value {
  return e.b.emit1(Op.Convolution, [x, w], {
    windowStrides: o.strides ?? [1, 1], padding: o.padding ?? [[0, 0], [0, 0]], lhsDilation: o.lhsDil ?? [1, 1],
    rhsDilation: o.rhsDil ?? [1, 1], windowReversal: [false, false], dims, featureGroupCount: 1, batchGroupCount: 1,
  });
}
function reduceWindow(e: Emitter, x: Value, kind: Op.Add | Op.Maximum, a: { window: number[]; strides?: number[]; padding?: [number, number][]; baseDil?: number[]; winDil?: number[] }): Value {
  const rank = x.type.shape.length;
  const init = e.scalar('f32', kind === Op.Add ? 0 : -Infinity);
  return e.b.emit1(Op.ReduceWindow, [x, init], {
    windowDimensions: a.window, windowStrides: a.strides ?? Array(rank).fill(1), baseDilations: a.baseDil ?? Array(rank).fill(1),
    windowDilations: a.winDil ?? Array(rank).fill(1), padding: a.padding ?? Array.from({ length: rank }, (): [number, number] => [0, 0]),
  }, { regions: [e.combiner(kind, 'f32')] });
}
function reduce(e: Emitter, x: Value, kind: Op.Add | Op.Maximum | Op.Minimum, dims: number[]): Value {
  const init = e.scalar('f32', kind === Op.Add ? 0 : kind === Op.Maximum ? -Infinity : Infinity);
  return e.b.emit1(Op.Reduce, [x, init], { dims }, { regions: [e.combiner(kind, 'f32')] });
}
const rowScatter: ScatterDims = {
  updateWindowDims: [1], insertedWindowDims: [0], inputBatchingDims: [], scatterIndicesBatchingDims: [],
  scatterDimsToOperandDims: [0], indexVectorDim: 1,
};
function sortLt(e: Emitter, xs: Value[], dim: number): Value[] {
  const s: TensorType = { dtype: 'f32', shape: [] };
  const cmp = e.b.region(xs.flatMap(() => [s, s]), (rb, args) => [rb.emit1(Op.Compare, [args[0], args[1]], { direction: 'LT' as ComparisonDirection, compareType: 'FLOAT' })]);
  return e.b.emit(Op.Sort, xs, { dimension: dim, isStable: true }, { regions: [cmp] });
}

const records: GradRecord[] = [
  unaryRecord(Op.Abs, AWAY(0.2, 1)),
  unaryRecord(Op.Negate),
  unaryRecord(Op.Exp),
  unaryRecord(Op.Expm1),
  unaryRecord(Op.Log, U(0.5, 2)),
  unaryRecord(Op.Log1p, U(0, 2)),
  unaryRecord(Op.Logistic, U(-2, 2)),
  unaryRecord(Op.Sqrt, U(0.5, 2)),
  unaryRecord(Op.Rsqrt, U(0.5, 2)),
  unaryRecord(Op.Cbrt, U(0.5, 2)),
  unaryRecord(Op.Sin, U(-3, 3)),
  unaryRecord(Op.Cos, U(-3, 3)),
  unaryRecord(Op.Tan, U(-1, 1)),
  unaryRecord(Op.Tanh, U(-2, 2)),
  unaryRecord(Op.Erf, U(-1.5, 1.5)),
  unaryRecord(Op.Erfc, U(-1.5, 1.5)),
  // Kept within ±0.45: the reference interpreter's erf_inv currently returns ±Infinity beyond about ±0.55.
  unaryRecord(Op.ErfInv, U(-0.45, 0.45)),
  unaryRecord(Op.Square, U(-2, 2)),
  unaryRecord(Op.Sinh, U(-2, 2)),
  unaryRecord(Op.Cosh, U(-2, 2)),
  unaryRecord(Op.Asin, U(-0.7, 0.7)),
  unaryRecord(Op.Acos, U(-0.7, 0.7)),
  unaryRecord(Op.Atan, U(-2, 2)),
  unaryRecord(Op.Asinh, U(-2, 2)),
  unaryRecord(Op.Acosh, U(1.3, 3)),
  unaryRecord(Op.Atanh, U(-0.7, 0.7)),
  unaryRecord(Op.Lgamma, U(0.6, 3)),
  // Piecewise constant: the gradient is zero, as are finite differences away from the jumps.
  unaryRecord(Op.Sign, AWAY(0.2, 1)),
  unaryRecord(Op.Floor, { kind: 'offint' }),
  unaryRecord(Op.Ceil, { kind: 'offint' }),
  unaryRecord(Op.RoundAfz, { kind: 'offint' }),
  unaryRecord(Op.RoundEven, { kind: 'offint' }),

  binaryRecord(Op.Add),
  binaryRecord(Op.Subtract),
  binaryRecord(Op.Multiply),
  binaryRecord(Op.Divide, U(-1, 1), AWAY(0.5, 1.5)),
  // Quotients kept away from integers, where the remainder jumps.
  binaryRecord(Op.Remainder, { kind: 'values', values: [2.5, 3.3, 4.5, 2.2, 3.9, 4.8] }, { kind: 'values', values: [1.0, 0.9, 1.2, 0.8, 1.1, 1.3] }),
  binaryRecord(Op.Power, U(0.5, 2), U(-1.5, 1.5)),
  binaryRecord(Op.Maximum),
  binaryRecord(Op.Minimum),
  binaryRecord(Op.Atan2, AWAY(0.3, 1), AWAY(0.3, 1)),
  {
    name: 'maximum at ties (0.5 each, as JAX)', inputs: [f32([2, 3])],
    f: (e, [x]) => e.add(e.bin(Op.Maximum, x, x), e.scale(x, 0)),
  },
  {
    name: 'select', inputs: [i1([2, 3], [1, 0, 0, 1, 1, 0]), f32([2, 3]), f32([2, 3])],
    f: (e, [p, x, y]) => e.select(p, x, y),
  },
  {
    name: 'clamp with scalar bounds', inputs: [f32([], U(-0.5, -0.4)), f32([2, 4], { kind: 'values', values: [-0.9, -0.3, 0.1, 0.3, 0.8, -0.6, 0.2, 0] }), f32([], U(0.4, 0.5))],
    f: (e, [lo, x, hi]) => e.b.emit1(Op.Clamp, [lo, x, hi], none),
  },
  {
    name: 'clamp with tensor bounds', inputs: [f32([2, 3], U(-0.6, 0)), f32([2, 3], U(-1, 1)), f32([2, 3], U(0, 0.6))],
    f: (e, [lo, x, hi]) => e.b.emit1(Op.Clamp, [lo, x, hi], none),
  },
  {
    name: 'broadcast_in_dim (new dim)', inputs: [f32([3])],
    f: (e, [x]) => e.broadcastInDim(x, [2, 3], [1]),
  },
  {
    name: 'broadcast_in_dim (stretched size-1 dim)', inputs: [f32([3, 1])],
    f: (e, [x]) => e.broadcastInDim(x, [3, 4], [0, 1]),
  },
  {
    name: 'broadcast_in_dim (permuted)', inputs: [f32([2, 3])],
    f: (e, [x]) => e.broadcastInDim(x, [3, 4, 2], [2, 0]),
  },
  { name: 'reshape', inputs: [f32([2, 3])], f: (e, [x]) => e.reshape(x, [3, 2]) },
  { name: 'transpose', inputs: [f32([2, 3, 4])], f: (e, [x]) => e.transpose(x, [2, 0, 1]) },
  { name: 'slice (strided)', inputs: [f32([5, 7])], f: (e, [x]) => e.slice(x, [1, 0], [5, 7], [2, 3]) },
  {
    name: 'pad (interior, negative edge, pad value)', inputs: [f32([3, 4]), f32([])],
    f: (e, [x, v]) => e.b.emit1(Op.Pad, [x, v], { low: [1, -1], high: [2, 0], interior: [1, 0] }),
  },
  {
    name: 'concatenate', inputs: [f32([2, 3]), f32([2, 2])],
    f: (e, [x, y]) => e.b.emit1(Op.Concatenate, [x, y], { dim: 1 }),
  },
  { name: 'reverse', inputs: [f32([3, 4])], f: (e, [x]) => e.reverse(x, [0]) },
  {
    name: 'dynamic_slice', inputs: [f32([5, 4]), i32([], [1]), i32([], [2])],
    f: (e, [x, i, j]) => e.b.emit1(Op.DynamicSlice, [x, i, j], { sliceSizes: [2, 2] }),
  },
  {
    name: 'dynamic_update_slice', inputs: [f32([5, 4]), f32([2, 2]), i32([], [3]), i32([], [1])],
    f: (e, [x, u, i, j]) => e.b.emit1(Op.DynamicUpdateSlice, [x, u, i, j], none),
  },
  {
    name: 'gather (rows, repeated)', inputs: [f32([5, 3]), i32([4, 1], [2, 0, 2, 4])],
    f: (e, [x, idx]) => e.b.emit1(Op.Gather, [x, idx], {
      dims: { offsetDims: [1], collapsedSliceDims: [0], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [0], indexVectorDim: 1 },
      sliceSizes: [1, 3], indicesAreSorted: false,
    }),
  },
  {
    name: 'scatter add (repeated)', inputs: [f32([5, 3]), i32([4, 1], [2, 0, 2, 4]), f32([4, 3])],
    f: (e, [x, idx, u]) => e.b.emit1(Op.Scatter, [x, idx, u], { dims: rowScatter, indicesAreSorted: false, uniqueIndices: false }, { regions: [e.combiner(Op.Add, 'f32')] }),
  },
  {
    name: 'scatter overwrite (unique)', inputs: [f32([5, 3]), i32([3, 1], [3, 0, 1]), f32([3, 3])],
    f: (e, [x, idx, u]) => {
      const s: TensorType = { dtype: 'f32', shape: [] };
      const replace = e.b.region([s, s], (_rb, [, b]) => [b]);
      return e.b.emit1(Op.Scatter, [x, idx, u], { dims: rowScatter, indicesAreSorted: false, uniqueIndices: true }, { regions: [replace] });
    },
  },
  { name: 'reduce add', inputs: [f32([3, 4])], f: (e, [x]) => reduce(e, x, Op.Add, [1]) },
  { name: 'reduce max', inputs: [f32([3, 4])], f: (e, [x]) => reduce(e, x, Op.Maximum, [0]) },
  { name: 'reduce min over all', inputs: [f32([3, 4])], f: (e, [x]) => reduce(e, x, Op.Minimum, [0, 1]) },
  {
    name: 'reduce_window add (cumsum)', inputs: [f32([3, 6])],
    f: (e, [x]) => reduceWindow(e, x, Op.Add, { window: [1, 6], padding: [[0, 0], [5, 0]] }),
  },
  {
    name: 'reduce_window add (strided, padded, dilated)', inputs: [f32([2, 7])],
    f: (e, [x]) => reduceWindow(e, x, Op.Add, { window: [1, 3], strides: [1, 2], padding: [[0, 0], [2, 1]], winDil: [1, 2] }),
  },
  {
    name: 'reduce_window add (base dilation)', inputs: [f32([2, 4])],
    f: (e, [x]) => reduceWindow(e, x, Op.Add, { window: [1, 2], strides: [1, 1], baseDil: [1, 2] }),
  },
  {
    name: 'reduce_window max (2x2 pool)', inputs: [f32([4, 6])],
    f: (e, [x]) => reduceWindow(e, x, Op.Maximum, { window: [2, 2], strides: [2, 2] }),
  },
  { name: 'dot_general (matmul)', inputs: [f32([3, 4]), f32([4, 5])], f: (e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: matmul }) },
  {
    name: 'dot_general (batched)', inputs: [f32([2, 3, 4]), f32([2, 4, 5])],
    f: (e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [0], rhsBatch: [0], lhsContract: [2], rhsContract: [1] } }),
  },
  {
    name: 'dot_general (batch and contraction in the middle)', inputs: [f32([4, 2, 3]), f32([3, 5, 2])],
    f: (e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [1], rhsBatch: [2], lhsContract: [2], rhsContract: [0] } }),
  },
  {
    name: 'dot_general (two contracted dims, crossed)', inputs: [f32([2, 3, 4]), f32([4, 3, 2])],
    f: (e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [1, 2], rhsContract: [1, 0] } }),
  },
  {
    name: 'convolution NCHW (padded)', inputs: [f32([1, 2, 5, 5]), f32([3, 2, 3, 3])],
    f: (e, [x, w]) => conv(e, x, w, nchw, { padding: [[1, 1], [1, 1]] }),
  },
  {
    name: 'convolution NCHW (strided, uneven padding)', inputs: [f32([2, 2, 6, 5]), f32([2, 2, 3, 2])],
    f: (e, [x, w]) => conv(e, x, w, nchw, { strides: [2, 2], padding: [[0, 1], [1, 0]] }),
  },
  {
    name: 'convolution NHWC (kernel and input dilation)', inputs: [f32([1, 5, 4, 2]), f32([2, 2, 2, 3])],
    f: (e, [x, w]) => conv(e, x, w, nhwc, { rhsDil: [2, 1], lhsDil: [1, 2], padding: [[1, 0], [0, 1]] }),
  },
  { name: 'sort (1-D)', inputs: [f32([6])], f: (e, [x]) => sortLt(e, [x], 0)[0] },
  {
    name: 'sort (2 operands, along dim 1)', inputs: [f32([2, 5]), f32([2, 5])],
    f: (e, [k, v]) => { const [sk, sv] = sortLt(e, [k, v], 1); return e.add(sk, e.scale(sv, 2)); },
  },
  {
    name: 'top_k', inputs: [f32([2, 6])],
    f: (e, [x]) => e.b.emit(Op.TopK, [x], { k: 3 })[0],
  },
  {
    name: 'optimization_barrier', inputs: [f32([2, 3]), f32([2, 3])],
    f: (e, [x, y]) => { const [a, b] = e.b.emit(Op.OptimizationBarrier, [x, y], none); return e.mul(a, b); },
  },
  {
    name: 'while with a static trip count (fori_loop)', inputs: [f32([2, 3])],
    f: (e, [x]) => foriLoop(e, x, 4),
  },
  {
    name: 'several uses accumulate', inputs: [f32([2, 3])],
    f: (e, [x]) => e.mul(e.add(x, e.un(Op.Sin, x)), x),
  },
];

/** `for i in [0, n): x = 0.5 x + sin(x)`, as JAX lowers `fori_loop` with static bounds. */
function foriLoop(e: Emitter, x: Value, n: number): Value {
  const i32s = tensorType('i32', []);
  const c0 = e.scalar('i32', 0);
  const cond = e.b.region([i32s, x.type], (rb, [i]) => {
    const lim = rb.constant('i32', [], n);
    return [rb.emit1(Op.Compare, [i, lim], { direction: 'LT', compareType: 'SIGNED' })];
  });
  const body = e.b.region([i32s, x.type], (rb, [i, v]) => {
    const one = rb.constant('i32', [], 1);
    const half = rb.constant('f32', [...v.type.shape], 0.5);
    const next = rb.emit1(Op.Add, [rb.emit1(Op.Multiply, [v, half], none), rb.emit1(Op.Sin, [v], none)], none);
    return [rb.emit1(Op.Add, [i, one], none), next];
  });
  return e.b.emit(Op.While, [c0, x], none, { regions: [cond, body] })[1];
}

describe('vjp rules match finite differences', () => {
  for (const r of records) {
    it(r.name, () => {
      const types = r.inputs.map((s) => tensorType(s.dtype, s.shape));
      const loss = weightedLoss(types, r.f);
      const next = rng(1234);
      const inputs = r.inputs.map((s) => makeInput(s, next));
      const wrt = r.wrt ?? r.inputs.flatMap((s, i) => (s.dtype === 'f32' ? [i] : []));
      const vg = valueAndGradModule(loss, wrt);
      const outs = run(vg, inputs);
      expect(outs).toHaveLength(1 + wrt.length);
      expect(outs[0].data[0]).toBeCloseTo(run(loss, inputs)[0].data[0], 4);
      wrt.forEach((k, j) => {
        const g = outs[1 + j];
        expect(g.shape).toEqual(inputs[k].shape);
        const fd = finiteDifferences(loss, inputs, k, 1e-2);
        expect(mismatch(g.data, fd, r.atol ?? 5e-3, r.rtol ?? 1e-2), `d/d input ${k}`).toBe('');
      });
    });
  }
});

describe('vjp modules', () => {
  const t = tensorType('f32', [2, 3]);
  it('takes primals then output cotangents, returns outputs then input cotangents', () => {
    // f(x, y) = (x * y, sin(x)); cotangents (u, v): dx = u*y + v*cos(x), dy = u*x.
    const m = buildModule([t, t], (e, [x, y]) => [e.mul(x, y), e.un(Op.Sin, x)]);
    const vm = vjpModule(m, [0, 1]);
    const next = rng(5);
    const [x, y, u, v] = [0, 1, 2, 3].map(() => makeInput({ dtype: 'f32', shape: [2, 3] }, next));
    const [p, q, dx, dy] = run(vm, [x, y, u, v]);
    for (let i = 0; i < 6; i++) {
      expect(p.data[i]).toBeCloseTo(x.data[i] * y.data[i], 5);
      expect(q.data[i]).toBeCloseTo(Math.sin(x.data[i]), 5);
      expect(dx.data[i]).toBeCloseTo(u.data[i] * y.data[i] + v.data[i] * Math.cos(x.data[i]), 5);
      expect(dy.data[i]).toBeCloseTo(u.data[i] * x.data[i], 5);
    }
  });

  it('gives zeros for an argument the output does not depend on, and prunes unused work', () => {
    const m = buildModule([t, t], (e, [x]) => [e.total(e.un(Op.Exp, x))]);
    const vg = valueAndGradModule(m, [1]);
    const next = rng(9);
    const ins = [makeInput({ dtype: 'f32', shape: [2, 3] }, next), makeInput({ dtype: 'f32', shape: [2, 3] }, next)];
    const [, dy] = run(vg, ins);
    expect(Array.from(dy.data)).toEqual([0, 0, 0, 0, 0, 0]);
    // Nothing differentiable flows to y: no exp-derivative multiply remains.
    const ops = vg.funcs[0].body.ops.map((o) => o.op);
    expect(ops).not.toContain(Op.Multiply);
  });

  it('passes auxiliary outputs through valueAndGrad without differentiating them', () => {
    const m = buildModule([t], (e, [x]) => [e.total(e.mul(x, x)), e.un(Op.Cos, x)]);
    const vg = valueAndGradModule(m, [0]);
    const x = makeInput({ dtype: 'f32', shape: [2, 3] }, rng(3));
    const [l, aux, g] = run(vg, [x]);
    expect(aux.shape).toEqual([2, 3]);
    expect(l.shape).toEqual([]);
    for (let i = 0; i < 6; i++) expect(g.data[i]).toBeCloseTo(2 * x.data[i], 5);
  });

  it('converts the cotangent back across a float conversion', () => {
    const m = buildModule([t], (e, [x]) => [e.total(e.convert(e.convert(x, 'f16'), 'f32'))]);
    const [, g] = run(valueAndGradModule(m, [0]), [makeInput({ dtype: 'f32', shape: [2, 3] }, rng(1))]);
    expect(Array.from(g.data)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('refuses a non-scalar loss', () => {
    const m = buildModule([t], (_e, [x]) => [x]);
    expect(() => valueAndGradModule(m, [0])).toThrow(/float scalar/);
  });

  it('refuses a while loop with a data-dependent trip count, naming the op', () => {
    const s = tensorType('f32', []);
    const m = buildModule([s], (e, [x]) => {
      const cond = e.b.region([s], (rb, [v]) => [rb.emit1(Op.Compare, [v, rb.constant('f32', [], 10)], { direction: 'LT', compareType: 'FLOAT' })]);
      const body = e.b.region([s], (rb, [v]) => [rb.emit1(Op.Multiply, [v, rb.constant('f32', [], 2)], none)]);
      e.b.currentLoc = { file: 'loop.ts', line: 3, column: 7 };
      return e.b.emit(Op.While, [x], none, { regions: [cond, body] });
    });
    expect(() => valueAndGradModule(m, [0])).toThrow(UnsupportedOpError);
    expect(() => valueAndGradModule(m, [0])).toThrow(/loop\.ts:3:7: stablehlo\.while: Reverse-mode differentiation does not work for lax\.while_loop or lax\.fori_loop with dynamic start\/stop values/);
  });

  it('refuses the gradient of a windowed product that is not cumulative', () => {
    const m = buildModule([t], (e, [x]) => {
      const init = e.scalar('f32', 1);
      return [e.total(e.b.emit1(Op.ReduceWindow, [x, init], {
        windowDimensions: [1, 2], windowStrides: [1, 1], baseDilations: [1, 1], windowDilations: [1, 1], padding: [[0, 0], [0, 0]],
      }, { regions: [e.combiner(Op.Multiply, 'f32')] }))];
    });
    expect(() => valueAndGradModule(m, [0])).toThrow(UnsupportedOpError);
    expect(() => valueAndGradModule(m, [0])).toThrow(/stablehlo\.reduce_window: the gradient of a windowed product is only implemented for cumulative products/);
  });

  it('does not differentiate integer inputs (their gradient is zero)', () => {
    const m = buildModule([tensorType('i32', [3])], (e, [n]) => [e.total(e.convert(n, 'f32'))]);
    const [, g] = run(valueAndGradModule(m, [0]), [hostTensor('i32', [3], [1, 2, 3])]);
    expect(Array.from(g.data)).toEqual([0, 0, 0]);
  });
});
