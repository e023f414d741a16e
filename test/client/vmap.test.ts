/**
 * @file vmap at the IR level: for each batchable op (one record each), the batched module run on
 * the reference interpreter equals running the per-example module in a loop over the batch, with
 * batch axes in various positions and some arguments unbatched.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type ConvDims, type ScatterDims } from '../../ir/ops.js';
import { stridesOf, tensorType, type TensorType, type Value } from '../../ir/types.js';
import type { Emitter } from '../../client/autodiff/emit.js';
import { vmapModule } from '../../client/vmap/vmap.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { buildModule, makeInput, mismatch, none, rng, run, type InputSpec } from './autodiff-helpers.js';

interface BatchRecord {
  name: string;
  /** Per-example inputs. */
  inputs: InputSpec[];
  /** Batch axis of each input in the batched call (null: shared). Default: 0 for all. */
  inAxes?: (number | null)[];
  outAxes?: number[];
  f: (e: Emitter, args: Value[]) => Value[];
}

const B = 3;
const f32 = (shape: number[], gen?: InputSpec['gen']): InputSpec => ({ dtype: 'f32', shape, gen });
const i32 = (shape: number[], values: number[]): InputSpec => ({ dtype: 'i32', shape, gen: { kind: 'values', values } });
const one = (f: (e: Emitter, args: Value[]) => Value) => (e: Emitter, args: Value[]) => [f(e, args)];

function reduce(e: Emitter, x: Value, kind: Op.Add | Op.Maximum, dims: number[]): Value {
  return e.b.emit1(Op.Reduce, [x, e.scalar('f32', kind === Op.Add ? 0 : -Infinity)], { dims }, { regions: [e.combiner(kind, 'f32')] });
}
const nchw: ConvDims = {
  inputBatch: 0, inputFeature: 1, inputSpatial: [2, 3], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2, 3],
  outputBatch: 0, outputFeature: 1, outputSpatial: [2, 3],
};
const rowScatter: ScatterDims = {
  updateWindowDims: [1], insertedWindowDims: [0], inputBatchingDims: [], scatterIndicesBatchingDims: [],
  scatterDimsToOperandDims: [0], indexVectorDim: 1,
};

const records: BatchRecord[] = [
  { name: 'unary (exp)', inputs: [f32([2, 3])], f: one((e, [x]) => e.un(Op.Exp, x)) },
  { name: 'binary, one side shared', inputs: [f32([2, 3]), f32([2, 3])], inAxes: [1, null], f: one((e, [x, y]) => e.mul(x, y)) },
  {
    name: 'select with a scalar predicate', inputs: [{ dtype: 'i1', shape: [], gen: { kind: 'values', values: [1] } }, f32([4]), f32([4])],
    inAxes: [0, 0, null], f: one((e, [p, x, y]) => e.select(p, x, y)),
  },
  {
    name: 'clamp with shared scalar bounds', inputs: [f32([]), f32([4], { kind: 'uniform', lo: -2, hi: 2 }), f32([])],
    inAxes: [null, 0, 0], f: one((e, [lo, x, hi]) => e.b.emit1(Op.Clamp, [e.neg(e.un(Op.Abs, lo)), x, e.un(Op.Abs, hi)], none)),
  },
  { name: 'compare + convert', inputs: [f32([5]), f32([5])], f: one((e, [x, y]) => e.convert(e.compare('LT', x, y), 'f32')) },
  { name: 'broadcast_in_dim', inputs: [f32([3])], inAxes: [1], f: one((e, [x]) => e.broadcastInDim(x, [2, 3], [1])) },
  { name: 'reshape', inputs: [f32([2, 3])], f: one((e, [x]) => e.reshape(x, [3, 2])) },
  { name: 'transpose (batch out at axis 2)', inputs: [f32([2, 3, 4])], outAxes: [2], f: one((e, [x]) => e.transpose(x, [2, 0, 1])) },
  { name: 'slice', inputs: [f32([5, 6])], f: one((e, [x]) => e.slice(x, [1, 0], [5, 6], [2, 3])) },
  {
    name: 'dynamic_slice, shared starts', inputs: [f32([5, 4]), i32([], [2]), i32([], [1])], inAxes: [0, null, null],
    f: one((e, [x, i, j]) => e.b.emit1(Op.DynamicSlice, [x, i, j], { sliceSizes: [2, 2] })),
  },
  {
    name: 'dynamic_slice, batched starts', inputs: [f32([5, 4]), i32([], [2, 0, 4]), i32([], [1, 3, 0])],
    f: one((e, [x, i, j]) => e.b.emit1(Op.DynamicSlice, [x, i, j], { sliceSizes: [2, 2] })),
  },
  {
    name: 'dynamic_update_slice', inputs: [f32([5, 4]), f32([2, 2]), i32([], [1]), i32([], [2])], inAxes: [null, 0, null, null],
    f: one((e, [x, u, i, j]) => e.b.emit1(Op.DynamicUpdateSlice, [x, u, i, j], none)),
  },
  { name: 'concatenate', inputs: [f32([2, 3]), f32([2, 2])], inAxes: [0, null], f: one((e, [x, y]) => e.b.emit1(Op.Concatenate, [x, y], { dim: 1 })) },
  {
    name: 'pad', inputs: [f32([3, 2]), f32([])], inAxes: [0, null],
    f: one((e, [x, v]) => e.b.emit1(Op.Pad, [x, v], { low: [1, 0], high: [0, 2], interior: [1, 0] })),
  },
  { name: 'reverse', inputs: [f32([3, 4])], f: one((e, [x]) => e.reverse(x, [1])) },
  {
    name: 'gather (batched indices)', inputs: [f32([5, 3]), i32([4, 1], [0, 4, 2, 2, 1, 3, 0, 4, 3, 3, 1, 0])],
    f: one((e, [x, idx]) => e.b.emit1(Op.Gather, [x, idx], {
      dims: { offsetDims: [1], collapsedSliceDims: [0], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [0], indexVectorDim: 1 },
      sliceSizes: [1, 3], indicesAreSorted: false,
    })),
  },
  {
    name: 'gather (shared table)', inputs: [f32([5, 3]), i32([4, 1], [0, 4, 2, 2, 1, 3, 0, 4, 3, 3, 1, 0])], inAxes: [null, 0],
    f: one((e, [x, idx]) => e.b.emit1(Op.Gather, [x, idx], {
      dims: { offsetDims: [1], collapsedSliceDims: [0], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [0], indexVectorDim: 1 },
      sliceSizes: [1, 3], indicesAreSorted: false,
    })),
  },
  {
    name: 'scatter add', inputs: [f32([5, 3]), i32([4, 1], [0, 4, 2, 2, 1, 3, 0, 4, 3, 3, 1, 0]), f32([4, 3])], inAxes: [null, 0, 0],
    f: one((e, [x, idx, u]) => e.b.emit1(Op.Scatter, [x, idx, u], { dims: rowScatter, indicesAreSorted: false, uniqueIndices: false }, { regions: [e.combiner(Op.Add, 'f32')] })),
  },
  { name: 'reduce add', inputs: [f32([3, 4])], inAxes: [1], f: one((e, [x]) => reduce(e, x, Op.Add, [1])) },
  { name: 'reduce max over all', inputs: [f32([3, 4])], f: one((e, [x]) => reduce(e, x, Op.Maximum, [0, 1])) },
  {
    name: 'reduce_window (cumsum)', inputs: [f32([6])],
    f: one((e, [x]) => e.b.emit1(Op.ReduceWindow, [x, e.scalar('f32', 0)], {
      windowDimensions: [6], windowStrides: [1], baseDilations: [1], windowDilations: [1], padding: [[5, 0]],
    }, { regions: [e.combiner(Op.Add, 'f32')] })),
  },
  {
    name: 'dot_general, both batched', inputs: [f32([2, 3]), f32([3, 4])], inAxes: [0, 2],
    f: one((e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] } })),
  },
  {
    name: 'dot_general, lhs batched', inputs: [f32([2, 3]), f32([3, 4])], inAxes: [1, null],
    f: one((e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] } })),
  },
  {
    name: 'dot_general, rhs batched, with batch dims', inputs: [f32([2, 3, 4]), f32([2, 4, 5])], inAxes: [null, 0],
    f: one((e, [x, y]) => e.b.emit1(Op.DotGeneral, [x, y], { dims: { lhsBatch: [0], rhsBatch: [0], lhsContract: [2], rhsContract: [1] } })),
  },
  {
    name: 'convolution, batched input', inputs: [f32([2, 2, 4, 4]), f32([3, 2, 2, 2])], inAxes: [0, null],
    f: one((e, [x, w]) => e.b.emit1(Op.Convolution, [x, w], {
      windowStrides: [1, 1], padding: [[1, 0], [0, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], windowReversal: [false, false],
      dims: nchw, featureGroupCount: 1, batchGroupCount: 1,
    })),
  },
  {
    name: 'sort', inputs: [f32([2, 5])],
    f: (e, [x]) => {
      const s: TensorType = { dtype: 'f32', shape: [] };
      const cmp = e.b.region([s, s], (rb, [a, c]) => [rb.emit1(Op.Compare, [a, c], { direction: 'LT', compareType: 'FLOAT' })]);
      return e.b.emit(Op.Sort, [x], { dimension: 1, isStable: true }, { regions: [cmp] });
    },
  },
  { name: 'top_k', inputs: [f32([2, 6])], f: (e, [x]) => e.b.emit(Op.TopK, [x], { k: 2 }) },
  {
    name: 'while with a batched carry', inputs: [f32([4])],
    f: one((e, [x]) => {
      const i32s = tensorType('i32', []);
      const cond = e.b.region([i32s, x.type], (rb, [i]) => [rb.emit1(Op.Compare, [i, rb.constant('i32', [], 3)], { direction: 'LT', compareType: 'SIGNED' })]);
      const body = e.b.region([i32s, x.type], (rb, [i, v]) => [
        rb.emit1(Op.Add, [i, rb.constant('i32', [], 1)], none),
        rb.emit1(Op.Add, [rb.emit1(Op.Sin, [v], none), v], none),
      ]);
      return e.b.emit(Op.While, [e.scalar('i32', 0), x], none, { regions: [cond, body] })[1];
    }),
  },
  {
    // Each example runs its own number of iterations: the loop runs until every lane is done.
    name: 'while whose trip count depends on the batch', inputs: [f32([], { kind: 'uniform', lo: 0.3, hi: 4 }), f32([2])], inAxes: [0, 0],
    f: (e, [x, y]) => {
      const s = tensorType('f32', []);
      const cond = e.b.region([s, y.type], (rb, [v]) => [rb.emit1(Op.Compare, [v, rb.constant('f32', [], 10)], { direction: 'LT', compareType: 'FLOAT' })]);
      const body = e.b.region([s, y.type], (rb, [v, w]) => [
        rb.emit1(Op.Multiply, [v, rb.constant('f32', [], 2)], none), rb.emit1(Op.Add, [w, rb.constant('f32', [2], 1)], none),
      ]);
      return e.b.emit(Op.While, [x, y], none, { regions: [cond, body] });
    },
  },
  {
    name: 'case with a batched index (out of range picks the last branch)', inputs: [i32([], [2, 0, 7]), f32([3])], inAxes: [0, null],
    f: (e, [i, x]) => {
      const branches = [Op.Exp, Op.Negate, Op.Sin].map((op) => e.b.region([], (rb) => [rb.emit1(op, [x], none as never)]));
      return e.b.emit(Op.Case, [i], none, { regions: branches });
    },
  },
  { name: 'an output independent of the batch is broadcast', inputs: [f32([2]), f32([2])], inAxes: [0, null], f: (e, [x, y]) => [e.add(x, x), e.un(Op.Exp, y)] },
];

/** Example `b` of a batched tensor whose batch axis is `axis`. */
function takeExample(t: HostTensor, axis: number, b: number): HostTensor {
  const shape = t.shape.filter((_, i) => i !== axis);
  const out = hostTensor(t.dtype, shape);
  const st = stridesOf(t.shape);
  const so = stridesOf(shape);
  for (let i = 0; i < out.data.length; i++) {
    let src = b * st[axis];
    let r = i;
    shape.forEach((_, d) => {
      const c = Math.floor(r / so[d]);
      r -= c * so[d];
      src += c * st[d < axis ? d : d + 1];
    });
    out.data[i] = t.data[src];
  }
  return out;
}

describe('vmap equals a loop over the batch', () => {
  for (const r of records) {
    it(r.name, () => {
      const types = r.inputs.map((s) => tensorType(s.dtype, s.shape));
      const m = buildModule(types, r.f);
      const inAxes = r.inAxes ?? r.inputs.map(() => 0);
      const nOut = m.funcs[0].resultTypes.length;
      const outAxes = r.outAxes ?? Array(nOut).fill(0);
      const next = rng(42);
      const batched = r.inputs.map((s, i) => {
        const ax = inAxes[i];
        if (ax === null) return makeInput(s, next);
        const shape = [...s.shape.slice(0, ax), B, ...s.shape.slice(ax)];
        return makeInput({ ...s, shape }, next);
      });
      const vm = vmapModule(m, inAxes, outAxes, B);
      const got = run(vm, batched);
      for (let b = 0; b < B; b++) {
        const ex = batched.map((t, i) => (inAxes[i] === null ? t : takeExample(t, inAxes[i]!, b)));
        const want = run(m, ex);
        want.forEach((w, k) => {
          const g = takeExample(got[k], outAxes[k], b);
          expect(g.shape).toEqual(w.shape);
          expect(mismatch(g.data, w.data, 1e-6, 1e-5), `output ${k}, example ${b}`).toBe('');
        });
      }
    });
  }
});

describe('vmap refusals', () => {
  it('refuses a bad axis', () => {
    const m = buildModule([tensorType('f32', [2])], (e, [x]) => [e.un(Op.Exp, x)]);
    expect(() => vmapModule(m, [2], [0], 4)).toThrow(/in_axes\[0\] = 2/);
  });
});
