/**
 * @file Forward mode at the IR level: for each op's JVP rule (one record each), the tangent the
 * JVP module computes on the reference interpreter matches central differences along the same
 * direction, and agrees with the independently tested VJP through the duality
 * <ct, J t> = <J^T ct, t>; control flow (a while loop with a data-dependent trip count, if, case)
 * carries tangents; and the refusals name the op. The control-flow and reduction JVP modules also
 * run on WebGPU, equal to the reference interpreter.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type ConvDims, type DotDims, type GatherDims, type ScatterDims } from '../../ir/ops.js';
import { numElements, tensorType, type TensorType, type Value } from '../../ir/types.js';
import { jvpModule } from '../../client/autodiff/jvp.js';
import { vjpModule } from '../../client/autodiff/vjp.js';
import { vmapModule } from '../../client/vmap/vmap.js';
import { parseModule } from '../../ir/parse/parser.js';
import type { Emitter } from '../../client/autodiff/emit.js';
import { hostTensor, narrowData, type HostTensor } from '../../runtime/tensor.js';
import { buildModule, makeInput, mismatch, none, rng, run, type InputSpec } from './autodiff-helpers.js';
import { closeWebgpuDevice, webgpuDevice } from '../helpers/devices.js';

afterAll(() => closeWebgpuDevice());

interface JvpRecord {
  name: string;
  inputs: InputSpec[];
  f: (e: Emitter, args: Value[]) => Value;
  /** Also check against the VJP (false where reverse mode refuses the op). */
  vjp?: boolean;
  /** Finite-difference step (default 1e-3). */
  h?: number;
}

const f32 = (shape: number[], gen?: InputSpec['gen']): InputSpec => ({ dtype: 'f32', shape, gen });
const i32 = (shape: number[], values: number[]): InputSpec => ({ dtype: 'i32', shape, gen: { kind: 'values', values } });
const U = (lo: number, hi: number) => ({ kind: 'uniform' as const, lo, hi });
const AWAY = (lo: number, hi: number) => ({ kind: 'away' as const, lo, hi });
const V = (...values: number[]) => ({ kind: 'values' as const, values });

function reduce(e: Emitter, x: Value, op: Op, dims: number[], init: number): Value {
  return e.b.emit1(Op.Reduce, [x, e.scalar('f32', init)], { dims }, { regions: [e.combiner(op, 'f32')] });
}
function cumulative(e: Emitter, x: Value, op: Op, init: number): Value {
  const n = x.type.shape[1];
  return e.b.emit1(Op.ReduceWindow, [x, e.scalar('f32', init)], {
    windowDimensions: [1, n], windowStrides: [1, 1], baseDilations: [1, 1], windowDilations: [1, 1], padding: [[0, 0], [n - 1, 0]],
  }, { regions: [e.combiner(op, 'f32')] });
}
const matmul: DotDims = { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] };
const nhwc: ConvDims = {
  inputBatch: 0, inputFeature: 3, inputSpatial: [1, 2], kernelOutput: 3, kernelInput: 2, kernelSpatial: [0, 1],
  outputBatch: 0, outputFeature: 3, outputSpatial: [1, 2],
};
const rows: GatherDims = {
  offsetDims: [1], collapsedSliceDims: [0], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [0], indexVectorDim: 1,
};
const rowScatter: ScatterDims = {
  updateWindowDims: [1], insertedWindowDims: [0], inputBatchingDims: [], scatterIndicesBatchingDims: [],
  scatterDimsToOperandDims: [0], indexVectorDim: 1,
};

/** `while (sum(x^2) < limit) x = 1.5 x + 0.1 sin(x)`: the trip count depends on the data. */
function growLoop(e: Emitter, x: Value, limit: number): Value {
  const cond = e.b.region([x.type], (rb, [v]) => {
    const em = new (e.constructor as new (b: typeof rb) => Emitter)(rb);
    return [em.compare('LT', em.total(em.mul(v, v)), em.scalar('f32', limit))];
  });
  const body = e.b.region([x.type], (rb, [v]) => {
    const em = new (e.constructor as new (b: typeof rb) => Emitter)(rb);
    return [em.add(em.scale(v, 1.5), em.scale(em.un(Op.Sin, v), 0.1))];
  });
  return e.b.emit1(Op.While, [x], none, { regions: [cond, body] });
}

const unary: [Op, InputSpec['gen']][] = [
  [Op.Abs, AWAY(0.2, 1)], [Op.Exp, U(-1, 1)], [Op.Log, U(0.5, 2)], [Op.Logistic, U(-2, 2)], [Op.Sqrt, U(0.5, 2)],
  [Op.Rsqrt, U(0.5, 2)], [Op.Tan, U(-1, 1)], [Op.Tanh, U(-2, 2)], [Op.Erf, U(-1.5, 1.5)], [Op.Atanh, U(-0.7, 0.7)],
  [Op.Acosh, U(1.3, 3)], [Op.Lgamma, U(0.6, 3)], [Op.Floor, { kind: 'offint' }],
];
const binary: [Op, InputSpec['gen'], InputSpec['gen']][] = [
  [Op.Multiply, U(-1, 1), U(-1, 1)], [Op.Divide, U(-1, 1), AWAY(0.5, 1.5)], [Op.Power, U(0.5, 2), U(-1.5, 1.5)],
  [Op.Atan2, AWAY(0.3, 1), AWAY(0.3, 1)], [Op.Maximum, U(-1, 1), U(-1, 1)], [Op.Subtract, U(-1, 1), U(-1, 1)],
];

const records: JvpRecord[] = [
  ...unary.map(([op, gen]): JvpRecord => ({ name: op, inputs: [f32([2, 3], gen)], f: (e, [x]) => e.un(op, x) })),
  ...binary.map(([op, a, b]): JvpRecord => ({ name: op, inputs: [f32([2, 3], a), f32([2, 3], b)], f: (e, [x, y]) => e.bin(op, x, y) })),
  { name: 'select', inputs: [{ dtype: 'i1', shape: [2, 3], gen: V(1, 0, 0, 1, 1, 0) }, f32([2, 3]), f32([2, 3])], f: (e, [p, x, y]) => e.select(p, x, y) },
  { name: 'clamp with scalar bounds', inputs: [f32([], V(-0.3)), f32([2, 3], V(-0.9, -0.1, 0.2, 0.7, 0.5, -0.6)), f32([], V(0.6))], f: (e, [lo, x, hi]) => e.b.emit1(Op.Clamp, [lo, x, hi], none) },
  { name: 'broadcast + transpose + reshape', inputs: [f32([3])], f: (e, [x]) => e.reshape(e.transpose(e.broadcastInDim(x, [2, 3], [1]), [1, 0]), [6]) },
  { name: 'slice + pad + reverse + concatenate', inputs: [f32([4, 3]), f32([], V(0.7))], f: (e, [x, v]) => {
    const s = e.slice(x, [1, 0], [4, 3], [2, 1]);
    const p = e.b.emit1(Op.Pad, [s, v], { low: [1, 0], high: [0, 2], interior: [1, 0] });
    return e.b.emit1(Op.Concatenate, [e.reverse(p, [1]), p], { dim: 0 });
  } },
  { name: 'dynamic_update_slice + dynamic_slice', inputs: [f32([4, 3]), f32([2, 3]), i32([], [1])], f: (e, [x, u, i]) => {
    const z = e.scalar('i32', 0);
    const y = e.b.emit1(Op.DynamicUpdateSlice, [x, u, i, z], {});
    return e.b.emit1(Op.DynamicSlice, [y, i, z], { sliceSizes: [3, 2] });
  } },
  { name: 'gather', inputs: [f32([4, 3]), i32([3, 1], [2, 0, 2])], f: (e, [x, i]) => e.b.emit1(Op.Gather, [x, i], { dims: rows, sliceSizes: [1, 3], indicesAreSorted: false }) },
  { name: 'scatter-add', inputs: [f32([4, 3]), i32([3, 1], [2, 0, 2]), f32([3, 3])], f: (e, [x, i, u]) => e.b.emit1(Op.Scatter, [x, i, u], { dims: rowScatter, indicesAreSorted: false, uniqueIndices: false }, { regions: [e.combiner(Op.Add, 'f32')] }) },
  { name: 'dot_general', inputs: [f32([2, 3]), f32([3, 4])], f: (e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: matmul }) },
  { name: 'convolution', inputs: [f32([1, 4, 4, 2]), f32([2, 2, 2, 3])], f: (e, [x, w]) => e.b.emit1(Op.Convolution, [x, w], {
    windowStrides: [1, 2], padding: [[1, 0], [0, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], windowReversal: [false, false],
    dims: nhwc, featureGroupCount: 1, batchGroupCount: 1,
  }) },
  { name: 'reduce add', inputs: [f32([2, 3])], f: (e, [x]) => reduce(e, x, Op.Add, [1], 0) },
  { name: 'reduce mul with a zero', inputs: [f32([2, 3], V(0.5, 0, -2, 1.5, 0.8, -0.7))], f: (e, [x]) => reduce(e, x, Op.Multiply, [1], 1) },
  { name: 'reduce max', inputs: [f32([2, 3])], f: (e, [x]) => reduce(e, x, Op.Maximum, [0, 1], -Infinity) },
  { name: 'cumsum', inputs: [f32([2, 4])], f: (e, [x]) => cumulative(e, x, Op.Add, 0) },
  { name: 'cumprod with a zero', inputs: [f32([2, 4], V(0.5, 0, -2, 1.5, 0.8, -0.7, 1.2, 0.9))], f: (e, [x]) => cumulative(e, x, Op.Multiply, 1) },
  { name: 'cummax', inputs: [f32([2, 4])], f: (e, [x]) => cumulative(e, x, Op.Maximum, -Infinity) },
  { name: 'sort', inputs: [f32([2, 4])], f: (e, [x]) => {
    const s = tensorType('f32', []);
    const cmp = e.b.region([s, s], (rb, [a, b]) => [rb.emit1(Op.Compare, [a, b], { direction: 'LT', compareType: 'FLOAT' })]);
    return e.b.emit(Op.Sort, [x], { dimension: 1, isStable: true }, { regions: [cmp] })[0];
  } },
  { name: 'top_k', inputs: [f32([2, 5])], f: (e, [x]) => e.b.emit(Op.TopK, [x], { k: 3 })[0] },
  { name: 'while with a data-dependent trip count', inputs: [f32([3], U(0.3, 0.6))], f: (e, [x]) => growLoop(e, x, 20), vjp: false, h: 1e-4 },
  { name: 'if', inputs: [{ dtype: 'i1', shape: [], gen: V(1) }, f32([3])], f: (e, [p, x]) => {
    const t = e.b.region([], (rb) => [rb.emit1(Op.Sin, [x], none)]);
    const f = e.b.region([], (rb) => [rb.emit1(Op.Multiply, [x, x], none)]);
    return e.b.emit1(Op.If, [p], none, { regions: [t, f], resultTypes: [x.type] });
  }, vjp: false },
  { name: 'case', inputs: [i32([], [2]), f32([3])], f: (e, [i, x]) => {
    const bs = [Op.Sin, Op.Exp, Op.Tanh].map((op) => e.b.region([], (rb) => [rb.emit1(op, [x], none)]));
    return e.b.emit1(Op.Case, [i], none, { regions: bs, resultTypes: [x.type] });
  }, vjp: false },
];

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('jvp rules match central differences and the vjp', () => {
  for (const r of records) {
    it(r.name, () => {
      const types: TensorType[] = r.inputs.map((s) => tensorType(s.dtype, s.shape));
      const m = buildModule(types, (e, args) => [r.f(e, args)]);
      const next = rng(99);
      const inputs = r.inputs.map((s) => makeInput(s, next));
      const wrt = r.inputs.flatMap((s, i) => (s.dtype === 'f32' ? [i] : []));
      const tangents = wrt.map((k) => hostTensor('f32', inputs[k].shape, Array.from({ length: numElements(inputs[k].shape) }, () => next() * 2 - 1)));
      const [y, ty] = run(jvpModule(m, wrt), [...inputs, ...tangents]);
      expect(Array.from(y.data)).toEqual(Array.from(run(m, inputs)[0].data));
      // Central differences along the tangent direction, in f32 at the points actually used.
      const h = r.h ?? 1e-3;
      const moved = (s: number): HostTensor[] => inputs.map((x, k) => {
        const j = wrt.indexOf(k);
        return j < 0 ? x : hostTensor('f32', x.shape, Array.from(narrowData(x), (v, i) => v + s * h * narrowData(tangents[j])[i]));
      });
      const up = run(m, moved(1))[0].data, dn = run(m, moved(-1))[0].data;
      const fd = Array.from(up, (v, i) => (v - dn[i]) / (2 * h));
      expect(mismatch(ty.data, fd, 2e-3, 1e-2)).toBe('');
      if (r.vjp !== false) {
        const ct = hostTensor('f32', y.shape, Array.from({ length: numElements(y.shape) }, () => next() * 2 - 1));
        const grads = run(vjpModule(m, wrt, { outputs: false }), [...inputs, ct]);
        const lhs = dot(narrowData(ct), ty.data);
        const rhs = grads.reduce((s, g, j) => s + dot(g.data, narrowData(tangents[j])), 0);
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      }
    });
  }
});

describe('jvp modules', () => {
  it('splits the tangent equally among tied maxima, as JAX', () => {
    const m = buildModule([tensorType('f32', [4])], (e, [x]) => [reduce(e, x, Op.Maximum, [0], -Infinity)]);
    const [, t] = run(jvpModule(m, [0]), [hostTensor('f32', [4], [1, 3, 3, 2]), hostTensor('f32', [4], [10, 1, 2, 100])]);
    expect(Array.from(t.data)).toEqual([1.5]);
  });

  it('gives a max window the tangent of its first maximum, as the VJP (select_and_scatter) does', () => {
    const m = buildModule([tensorType('f32', [1, 5])], (e, [x]) => [cumulative(e, x, Op.Maximum, -Infinity)]);
    const x = hostTensor('f32', [1, 5], [1, 3, 3, 2, 5]);
    const [y, t] = run(jvpModule(m, [0]), [x, hostTensor('f32', [1, 5], [10, 20, 30, 40, 50])]);
    expect(Array.from(y.data)).toEqual([1, 3, 3, 3, 5]);
    expect(Array.from(t.data)).toEqual([10, 20, 20, 20, 50]);
    // The VJP sends each output's cotangent to the same element.
    const [g] = run(vjpModule(m, [0], { outputs: false }), [x, hostTensor('f32', [1, 5], [1, 2, 4, 8, 16])]);
    expect(Array.from(g.data)).toEqual([1, 14, 0, 0, 16]);
  });

  it('gives the tangent of a product with one zero (the product of the others)', () => {
    const m = buildModule([tensorType('f32', [4])], (e, [x]) => [reduce(e, x, Op.Multiply, [0], 1)]);
    // d prod = sum_i t_i prod_{j != i} x_j = t_1 * (2 * 3 * -1.5) with x_1 = 0.
    const [p, t] = run(jvpModule(m, [0]), [hostTensor('f32', [4], [2, 0, 3, -1.5]), hostTensor('f32', [4], [1, 1, 1, 1])]);
    expect(Array.from(p.data)).toEqual([-0]);
    expect(Array.from(t.data)).toEqual([-9]);
  });

  it('carries no tangent into integer results (argmax) and differentiates the value result', () => {
    const m = buildModule([tensorType('f32', [4])], (e, [x]) => {
      const idx = e.b.emit1(Op.Iota, [], { dim: 0 }, { resultTypes: [tensorType('i32', [4])] });
      const s = tensorType('f32', []), si = tensorType('i32', []);
      const body = e.b.region([s, si, s, si], (rb, [v1, i1, v2, i2]) => {
        const gt = rb.emit1(Op.Compare, [v1, v2], { direction: 'GT', compareType: 'FLOAT' });
        return [rb.emit1(Op.Select, [gt, v1, v2], none), rb.emit1(Op.Select, [gt, i1, i2], none)];
      });
      return e.b.emit(Op.Reduce, [x, idx, e.scalar('f32', -Infinity), e.scalar('i32', 0)], { dims: [0] }, { regions: [body] });
    });
    const [v, i, tv, ti] = run(jvpModule(m, [0]), [hostTensor('f32', [4], [0.5, 2, -1, 1]), hostTensor('f32', [4], [10, 20, 30, 40])]);
    expect([v.data[0], i.data[0], tv.data[0], ti.data[0]]).toEqual([2, 1, 20, 0]);
  });

  it('takes primals then tangents of wrt, returns outputs then tangents', () => {
    const m = buildModule([tensorType('f32', [2]), tensorType('f32', [2])], (e, [x, y]) => [e.mul(x, y), e.un(Op.Sin, y)]);
    const [a, b, ta, tb] = run(jvpModule(m, [0]), [hostTensor('f32', [2], [1, 2]), hostTensor('f32', [2], [3, 4]), hostTensor('f32', [2], [1, -1])]);
    expect(Array.from(a.data)).toEqual([3, 8]);
    expect(b.data[0]).toBeCloseTo(Math.sin(3), 6);
    expect(Array.from(ta.data)).toEqual([3, -4]);
    expect(Array.from(tb.data)).toEqual([0, 0]);
  });

  it("digamma's tangent is trigamma (closed forms: psi1(1) = pi^2/6, psi1(1/2) = pi^2/2, psi1(2) = pi^2/6 - 1, psi1(-1/2) = pi^2/2 + 4)", () => {
    const m = buildModule([tensorType('f32', [5])], (e, [x]) => [e.un(Op.Digamma, x)]);
    const [, t] = run(jvpModule(m, [0]), [hostTensor('f32', [5], [1, 0.5, 2, -0.5, 30]), hostTensor('f32', [5], [1, 1, 1, 1, 1])]);
    const pi2 = Math.PI * Math.PI;
    // psi1(30) = pi^2/6 - sum_{k=1}^{29} 1/k^2, summed in float64.
    let tail = pi2 / 6;
    for (let k = 1; k < 30; k++) tail -= 1 / (k * k);
    expect(mismatch(t.data, [pi2 / 6, pi2 / 2, pi2 / 6 - 1, pi2 / 2 + 4, tail], 1e-5, 1e-5)).toBe('');
  });

  it('refuses a scatter that multiplies', () => {
    const m = buildModule([tensorType('f32', [4, 3]), tensorType('i32', [1, 1]), tensorType('f32', [1, 3])], (e, [x, i, u]) => [
      e.b.emit1(Op.Scatter, [x, i, u], { dims: rowScatter, indicesAreSorted: false, uniqueIndices: false }, { regions: [e.combiner(Op.Multiply, 'f32')] }),
    ]);
    expect(() => jvpModule(m, [0])).toThrow(/stablehlo\.scatter: jvp: the tangent of a scatter combining with mul is not implemented/);
  });
});

describe('reverse mode through products (JAX: exact with zeros)', () => {
  const prodGrad = (values: number[], shape: number[], dims: number[]) => {
    const m = buildModule([tensorType('f32', shape)], (e, [x]) => [e.total(reduce(e, x, Op.Multiply, dims, 1))]);
    return Array.from(run(vjpModule(m, [0], { outputs: false }), [hostTensor('f32', shape, values), hostTensor('f32', [], [1])])[0].data);
  };
  /** d prod(x) / dx_i = the product of the others, in float64 by a loop. */
  const others = (xs: number[]) => xs.map((_, i) => xs.reduce((p, v, j) => (j === i ? p : p * v), 1));

  it('prod with one zero and with two zeros', () => {
    expect(prodGrad([2, 0, 3, -1.5], [4], [0])).toEqual(others([2, 0, 3, -1.5]));
    expect(prodGrad([2, 0, 3, 0, 5], [5], [0])).toEqual([0, 0, 0, 0, 0]);
  });

  it('prod over the middle axis of a 3-d array (odd length)', () => {
    const next = rng(5);
    const xs = Array.from({ length: 2 * 5 * 3 }, () => next() * 2 - 1);
    xs[7] = 0;
    const want = new Array<number>(xs.length).fill(0);
    for (let a = 0; a < 2; a++) for (let c = 0; c < 3; c++) {
      const idx = range5.map((b) => a * 15 + b * 3 + c);
      others(idx.map((i) => xs[i])).forEach((v, k) => { want[idx[k]] = v; });
    }
    expect(mismatch(prodGrad(xs, [2, 5, 3], [1]), want, 1e-7, 1e-5)).toBe('');
  });
  const range5 = [0, 1, 2, 3, 4];

  it('cumprod with zeros, forward and reverse windows', () => {
    for (const reverse of [false, true]) {
      const xs = [0.5, 0, -2, 1.5, 0.8, 0, 3];
      const w = [1, -2, 0.5, 3, -1, 2, 0.25];
      const n = xs.length;
      const m = buildModule([tensorType('f32', [n])], (e, [x]) => {
        const y = e.b.emit1(Op.ReduceWindow, [x, e.scalar('f32', 1)], {
          windowDimensions: [n], windowStrides: [1], baseDilations: [1], windowDilations: [1], padding: [reverse ? [0, n - 1] : [n - 1, 0]],
        }, { regions: [e.combiner(Op.Multiply, 'f32')] });
        return [e.total(e.mul(y, e.b.constant('f32', [n], w)))];
      });
      const got = run(vjpModule(m, [0], { outputs: false }), [hostTensor('f32', [n], xs), hostTensor('f32', [], [1])])[0].data;
      // d/dx_i sum_k w_k prod_{j in window k} x_j, the window of k being [0, k] (or [k, n)).
      const want = xs.map((_, i) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const [lo, hi] = reverse ? [k, n - 1] : [0, k];
          if (i < lo || i > hi) continue;
          let p = w[k];
          for (let j = lo; j <= hi; j++) if (j !== i) p *= xs[j];
          s += p;
        }
        return s;
      });
      expect(mismatch(got, want, 1e-6, 1e-6), `reverse ${reverse}`).toBe('');
    }
  });
});

describe('jvp modules on WebGPU', () => {
  const gpuRecords = ['while with a data-dependent trip count', 'if', 'case', 'reduce mul with a zero', 'cumprod with a zero', 'sort', 'convolution'];
  it('match the reference interpreter', async () => {
    const dev = await webgpuDevice();
    for (const name of gpuRecords) {
      const r = records.find((x) => x.name === name)!;
      const types: TensorType[] = r.inputs.map((s) => tensorType(s.dtype, s.shape));
      const m = jvpModule(buildModule(types, (e, args) => [r.f(e, args)]), r.inputs.flatMap((s, i) => (s.dtype === 'f32' ? [i] : [])));
      const next = rng(7);
      const inputs = r.inputs.map((s) => makeInput(s, next));
      const tangents = r.inputs.filter((s) => s.dtype === 'f32').map((s) => hostTensor('f32', s.shape, Array.from({ length: numElements(s.shape) }, () => next() * 2 - 1)));
      const want = run(m, [...inputs, ...tangents]);
      const outs = dev.execute(dev.compile(m), [...inputs, ...tangents].map((t) => dev.upload(t)));
      const got = await Promise.all(outs.map((o) => dev.read(o)));
      got.forEach((g, i) => expect(mismatch(narrowData(g), want[i].data, 1e-5, 1e-4), `${name} output ${i}`).toBe(''));
    }
  }, 120_000);
});

describe('calls inside regions', () => {
  // JAX puts calls in loop bodies (a closed_call of the body): every transform inlines them.
  const text = `module @m {
  func.func public @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0:2 = stablehlo.while(%i = %c, %x = %arg0) : tensor<i32>, tensor<3xf32>
    cond {
      %n = stablehlo.constant dense<2> : tensor<i32>
      %1 = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %2 = func.call @step(%x) : (tensor<3xf32>) -> tensor<3xf32>
      %one = stablehlo.constant dense<1> : tensor<i32>
      %3 = stablehlo.add %i, %one : tensor<i32>
      stablehlo.return %3, %2 : tensor<i32>, tensor<3xf32>
    }
    return %0#1 : tensor<3xf32>
  }
  func.func private @step(%a: tensor<3xf32>) -> tensor<3xf32> {
    %0 = stablehlo.sine %a : tensor<3xf32>
    %1 = stablehlo.multiply %0, %a : tensor<3xf32>
    return %1 : tensor<3xf32>
  }
}`;
  it('are inlined for forward mode, reverse mode and vmap', () => {
    const m = parseModule(text, 'call-in-loop.mlir');
    const xs = [0.3, -0.7, 1.1];
    const step = (v: number) => Math.sin(v) * v;
    const dstep = (v: number) => Math.cos(v) * v + Math.sin(v);
    const want = xs.map((v) => step(step(v)));
    const dwant = xs.map((v) => dstep(step(v)) * dstep(v));
    const x = hostTensor('f32', [3], xs);
    const [y, t] = run(jvpModule(m, [0]), [x, hostTensor('f32', [3], [1, 1, 1])]);
    expect(mismatch(y.data, want, 1e-6, 1e-5)).toBe('');
    expect(mismatch(t.data, dwant, 1e-6, 1e-5)).toBe('');
    const [g] = run(vjpModule(m, [0], { outputs: false }), [x, hostTensor('f32', [3], [1, 1, 1])]);
    expect(mismatch(g.data, dwant, 1e-6, 1e-5)).toBe('');
    const [yb] = run(vmapModule(m, [0], [0], 2), [hostTensor('f32', [2, 3], [...xs, ...xs])]);
    expect(mismatch(yb.data, [...want, ...want], 1e-6, 1e-5)).toBe('');
  });
});
