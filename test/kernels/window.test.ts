/**
 * @file GPU tests of convolution, reduce_window and select_and_scatter: the corpus programs'
 * inputs and JAX's outputs (conv2d_nchw, cumsum), hand-computed cases, and random inputs against
 * the reference interpreter over strides, padding, dilations, reversal and groups.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConvDims } from '../../ir/ops.js';
import { Op } from '../../ir/ops.js';
import type { TensorType } from '../../ir/types.js';
import { fromJson, type JsonTensor, narrowData } from '../../runtime/tensor.js';
import { binary, comparator, op, random, rng, t, tensor } from './build.js';
import { expectClose, expectGpu, expectMatchesReference } from './check.js';
import { runLowering } from './harness.js';
import { join } from 'node:path';
import { CORPUS_DIR } from '../helpers/corpus.js';

function corpus(name: string): { inputs: ReturnType<typeof fromJson>[]; outputs: ReturnType<typeof fromJson>[] } {
  const j = JSON.parse(readFileSync(join(CORPUS_DIR, `${name}.json`), 'utf8')) as
    { inputs: JsonTensor[]; outputs: JsonTensor[] };
  return { inputs: j.inputs.map((x) => fromJson(x)), outputs: j.outputs.map((x) => fromJson(x)) };
}

const NCHW: ConvDims = {
  inputBatch: 0, inputFeature: 1, inputSpatial: [2, 3], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2, 3],
  outputBatch: 0, outputFeature: 1, outputSpatial: [2, 3],
};
const NHWC_HWIO: ConvDims = {
  inputBatch: 0, inputFeature: 3, inputSpatial: [1, 2], kernelOutput: 3, kernelInput: 2, kernelSpatial: [0, 1],
  outputBatch: 0, outputFeature: 3, outputSpatial: [1, 2],
};

function conv(lhs: TensorType, rhs: TensorType, out: TensorType, a: Partial<ReturnType<typeof convAttrs>> = {}, dims = NCHW) {
  return op(Op.Convolution, [lhs, rhs], [out], { ...convAttrs(), dims, ...a });
}
function convAttrs() {
  return {
    windowStrides: [1, 1], padding: [[0, 0], [0, 0]] as [number, number][], lhsDilation: [1, 1], rhsDilation: [1, 1],
    windowReversal: [false, false], dims: NCHW, featureGroupCount: 1, batchGroupCount: 1,
  };
}

describe('convolution', () => {
  it('corpus conv2d_nchw matches JAX', async () => {
    const c = corpus('conv2d_nchw');
    const o = conv(t('f32', [2, 3, 8, 8]), t('f32', [4, 3, 3, 3]), t('f32', [2, 4, 8, 8]), { padding: [[1, 1], [1, 1]] });
    const run = await runLowering(o, c.inputs);
    expectClose(run.outputs[0], narrowData(c.outputs[0]));
    expect(run.kernels).toHaveLength(1);
  });

  it('a 1x1 hand-computed case with stride 2', async () => {
    const o = conv(t('f32', [1, 1, 3, 3]), t('f32', [1, 1, 1, 1]), t('f32', [1, 1, 2, 2]), { windowStrides: [2, 2] });
    await expectGpu(o, [tensor(o.operands[0].type, (i) => i), tensor(o.operands[1].type, () => 2)], [[0, 4, 12, 16]]);
  });

  const cases: [string, TensorType[], Partial<ReturnType<typeof convAttrs>>, ConvDims?][] = [
    ['strides, asymmetric and negative padding', [t('f32', [2, 3, 9, 7]), t('f32', [5, 3, 3, 2]), t('f32', [2, 5, 4, 3])],
      { windowStrides: [2, 3], padding: [[1, 0], [2, -1]] }],
    ['lhs and rhs dilation with reversal', [t('f32', [1, 2, 5, 4]), t('f32', [3, 2, 2, 3]), t('f32', [1, 3, 8, 5])],
      { lhsDilation: [2, 1], rhsDilation: [1, 2], padding: [[0, 0], [2, 2]], windowReversal: [true, false] }],
    ['NHWC x HWIO layout', [t('f32', [2, 6, 5, 3]), t('f32', [3, 3, 3, 4]), t('f32', [2, 4, 3, 4])], {}, NHWC_HWIO],
    ['feature groups (depthwise)', [t('f32', [2, 4, 5, 5]), t('f32', [8, 1, 3, 3]), t('f32', [2, 8, 3, 3])], { featureGroupCount: 4 }],
    ['batch groups (weight gradient form)', [t('f32', [4, 3, 5, 5]), t('f32', [6, 3, 2, 2]), t('f32', [2, 6, 4, 4])], { batchGroupCount: 2 }],
    ['integer convolution', [t('i32', [1, 2, 4, 4]), t('i32', [2, 2, 2, 2]), t('i32', [1, 2, 3, 3])], {}],
  ];
  for (const [name, [lhs, rhs, out], a, dims] of cases) {
    it(`${name} matches the reference`, async () => {
      const r = rng(name.length);
      const o = conv(lhs, rhs, out, a, dims ?? NCHW);
      await expectMatchesReference(o, [random(lhs, r), random(rhs, r)]);
    });
  }
});

const rwAttrs = (rank: number, a: Partial<{ windowDimensions: number[]; windowStrides: number[]; baseDilations: number[]; windowDilations: number[]; padding: [number, number][] }>) => ({
  windowDimensions: new Array(rank).fill(1), windowStrides: new Array(rank).fill(1), baseDilations: new Array(rank).fill(1),
  windowDilations: new Array(rank).fill(1), padding: new Array(rank).fill([0, 0]) as [number, number][], ...a,
});

describe('reduce_window', () => {
  it('corpus cumsum matches JAX', async () => {
    const c = corpus('cumsum');
    const o = op(Op.ReduceWindow, [t('f32', [8, 16]), t('f32', [])], [t('f32', [8, 16])],
      rwAttrs(2, { windowDimensions: [1, 16], padding: [[0, 0], [15, 0]] }), [binary(Op.Add, 'f32')]);
    const run = await runLowering(o, [c.inputs[0], tensor(t('f32', []), () => 0)]);
    expectClose(run.outputs[0], narrowData(c.outputs[0]));
  });

  it('max pool 2x2 stride 2 by hand', async () => {
    const o = op(Op.ReduceWindow, [t('f32', [4, 4]), t('f32', [])], [t('f32', [2, 2])],
      rwAttrs(2, { windowDimensions: [2, 2], windowStrides: [2, 2] }), [binary(Op.Maximum, 'f32')]);
    const x = [1, 2, 3, 4, 5, NaN, 7, 8, 9, 10, 11, 12, 13, 14, 16, 15];
    await expectGpu(o, [tensor(t('f32', [4, 4]), (i) => x[i]), tensor(t('f32', []), () => -Infinity)], [[NaN, 8, 14, 16]]);
  });

  const cases: [string, number[], number[], ReturnType<typeof rwAttrs>][] = [
    ['padding and strides', [5, 7], [3, 3], rwAttrs(2, { windowDimensions: [2, 3], windowStrides: [2, 3], padding: [[1, 0], [1, 2]] })],
    ['base and window dilation', [4, 5], [5, 6], rwAttrs(2, { windowDimensions: [2, 2], baseDilations: [2, 1], windowDilations: [1, 2], padding: [[0, 0], [1, 2]] })],
  ];
  for (const [name, inShape, outShape, a] of cases) {
    it(`${name} (add and min) match the reference`, async () => {
      const r = rng(inShape[0]);
      for (const [kind, init] of [[Op.Add, 0], [Op.Minimum, 100]] as const) {
        const o = op(Op.ReduceWindow, [t('f32', inShape), t('f32', [])], [t('f32', outShape)], a, [binary(kind, 'f32')]);
        await expectMatchesReference(o, [random(o.operands[0].type, r), tensor(t('f32', []), () => init)]);
      }
    });
  }

  it('two operands (max with its index) match the reference', async () => {
    const r = rng(9);
    const region = comparatorRegion();
    const o = op(Op.ReduceWindow, [t('f32', [6]), t('i32', [6]), t('f32', []), t('i32', [])], [t('f32', [3]), t('i32', [3])],
      rwAttrs(1, { windowDimensions: [3], windowStrides: [2], padding: [[1, 0]] }), [region]);
    await expectMatchesReference(o, [random(t('f32', [6]), r), tensor(t('i32', [6]), (i) => i), tensor(t('f32', []), () => -Infinity), tensor(t('i32', []), () => -1)]);
  });
});

function comparatorRegion() {
  return {
    block: (() => {
      const cmp = comparator('f32', 'GE', 'FLOAT');
      const [a, b] = cmp.block.args;
      const ai = { type: t('i32', []) };
      const bi = { type: t('i32', []) };
      const ge = cmp.block.ops[0].results[0];
      const v = { type: t('f32', []) };
      const i = { type: t('i32', []) };
      return {
        args: [a, ai, b, bi],
        ops: [
          cmp.block.ops[0],
          { op: Op.Select, operands: [ge, a, b], results: [v], attrs: {}, regions: [] },
          { op: Op.Select, operands: [ge, ai, bi], results: [i], attrs: {}, regions: [] },
          { op: Op.Return, operands: [v, i], results: [], attrs: {}, regions: [] },
        ],
      };
    })(),
  };
}

describe('select_and_scatter', () => {
  const sas = (opShape: number[], srcShape: number[], a: { windowDimensions: number[]; windowStrides: number[]; padding: [number, number][] }) =>
    op(Op.SelectAndScatter, [t('f32', opShape), t('f32', srcShape), t('f32', [])], [t('f32', opShape)], a,
      [comparator('f32', 'GE', 'FLOAT'), binary(Op.Add, 'f32')]);

  it('max-pool gradient by hand (2 kernels)', async () => {
    const o = sas([4, 4], [2, 2], { windowDimensions: [2, 2], windowStrides: [2, 2], padding: [[0, 0], [0, 0]] });
    const x = [1, 2, 3, 4, 8, 5, 7, 7, 9, 10, 11, 12, 13, 14, 16, 15];
    const run = await expectGpu(o, [tensor(t('f32', [4, 4]), (i) => x[i]), tensor(t('f32', [2, 2]), (i) => i + 1), tensor(t('f32', []), () => 0)],
      [[0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4, 0].map((v, i) => (i === 13 ? 3 : v))]);
    expect(run.kernels).toHaveLength(2);
  });

  it('overlapping padded windows match the reference', async () => {
    const r = rng(11);
    const o = sas([5, 6], [3, 3], { windowDimensions: [3, 3], windowStrides: [2, 2], padding: [[1, 1], [1, 0]] });
    await expectMatchesReference(o, [random(t('f32', [5, 6]), r), random(t('f32', [3, 3]), r), tensor(t('f32', []), () => 0.5)]);
  });
});
