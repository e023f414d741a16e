/**
 * @file GPU tests of gather and scatter lowerings: the corpus usages (embedding lookup, the
 * batched scatter-add of take_along_axis's gradient) with hand-computed results, and random
 * inputs against the reference interpreter over several dimension-number combinations.
 */
import { describe, expect, it } from 'vitest';
import { Op } from '../../ir/ops.js';
import type { GatherDims, ScatterDims } from '../../ir/ops.js';
import { binary, op, overwrite, random, region, rng, t, tensor } from './build.js';
import { expectGpu, expectMatchesReference } from './check.js';
import { compile } from '../../compiler/compile.js';
import { DEFAULT_TARGET } from '../../compiler/program.js';
import { parseModule } from '../../ir/parse/parser.js';

const gdims = (d: Partial<GatherDims>): GatherDims => ({
  offsetDims: [], collapsedSliceDims: [], operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: [], indexVectorDim: 0, ...d,
});
const sdims = (d: Partial<ScatterDims>): ScatterDims => ({
  updateWindowDims: [], insertedWindowDims: [], inputBatchingDims: [], scatterIndicesBatchingDims: [], scatterDimsToOperandDims: [], indexVectorDim: 0, ...d,
});

describe('gather', () => {
  it('embedding lookup (corpus gather_embedding), clamping out-of-range rows', async () => {
    const o = op(Op.Gather, [t('f32', [10, 6]), t('i32', [3, 5, 1])], [t('f32', [3, 5, 6])], {
      dims: gdims({ offsetDims: [2], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 2 }),
      sliceSizes: [1, 6], indicesAreSorted: false,
    });
    const table = tensor(t('f32', [10, 6]), (i) => i);
    const ids = [0, 9, 3, 4, 5, 12, -3, 1, 2, 7, 8, 6, 5, 4, 3];
    const want = ids.flatMap((id) => {
      const row = Math.min(9, Math.max(0, id));
      return Array.from({ length: 6 }, (_, j) => row * 6 + j);
    });
    const run = await expectGpu(o, [table, tensor(t('i32', [3, 5, 1]), (i) => ids[i])], [want]);
    expect(run.kernels).toHaveLength(1);
  });

  it('2-d windows with clamped starts, index vector in the middle, ui32 indices', async () => {
    const o = op(Op.Gather, [t('i32', [5, 7]), t('ui32', [2, 2])], [t('i32', [2, 2, 3])], {
      dims: gdims({ offsetDims: [1, 2], startIndexMap: [0, 1], indexVectorDim: 0 }),
      sliceSizes: [2, 3], indicesAreSorted: false,
    });
    // index vectors are columns: (1, 6) and (4, 0); 6 clamps to 4, 4 clamps to 3.
    const idx = tensor(t('ui32', [2, 2]), (i) => [1, 4, 6, 0][i]);
    const operand = tensor(t('i32', [5, 7]), (i) => i);
    const want = [7 + 4, 7 + 5, 7 + 6, 14 + 4, 14 + 5, 14 + 6, 21, 22, 23, 28, 29, 30];
    await expectGpu(o, [operand, idx], [want]);
  });

  it('a slice of size 0 on a collapsed dimension clamps its start to the last element, never past the operand', () => {
    const p = compile(parseModule(`func.func public @main(%x: tensor<4xf32>, %i: tensor<3x1xi32>) -> tensor<3xf32> {
  %r = "stablehlo.gather"(%x, %i) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 0>}> : (tensor<4xf32>, tensor<3x1xi32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}`), DEFAULT_TARGET);
    const wgsl = p.kernels.map((k) => k.wgsl).join('\n');
    expect(wgsl).toMatch(/clamp\([^)]*, 0, 3\)/);
    expect(wgsl).not.toMatch(/clamp\([^)]*, 0, 4\)/);
  });

  it('operand batching dims (take_along_axis form) match the reference', async () => {
    const o = op(Op.Gather, [t('f32', [4, 6, 3]), t('i32', [4, 5, 1])], [t('f32', [4, 5, 3])], {
      dims: gdims({ offsetDims: [2], collapsedSliceDims: [1], operandBatchingDims: [0], startIndicesBatchingDims: [0], startIndexMap: [1], indexVectorDim: 2 }),
      sliceSizes: [1, 1, 3], indicesAreSorted: false,
    });
    const r = rng(1);
    await expectMatchesReference(o, [random(o.operands[0].type, r), random(o.operands[1].type, r, -2, 8)]);
  });

  it('implicit trailing index vector and i1 operand match the reference', async () => {
    const o = op(Op.Gather, [t('i1', [6, 4]), t('i32', [3])], [t('i1', [3, 2, 4])], {
      dims: gdims({ offsetDims: [1, 2], startIndexMap: [0], indexVectorDim: 1 }),
      sliceSizes: [2, 4], indicesAreSorted: false,
    });
    const r = rng(2);
    await expectMatchesReference(o, [random(o.operands[0].type, r), random(o.operands[1].type, r, -1, 7)]);
  });
});

describe('scatter', () => {
  it('batched scatter-add of take_along_axis (corpus mlp_grad)', async () => {
    const o = op(Op.Scatter, [t('f32', [8, 4]), t('i32', [8, 1, 1]), t('f32', [8, 1])], [t('f32', [8, 4])], {
      dims: sdims({ insertedWindowDims: [1], inputBatchingDims: [0], scatterIndicesBatchingDims: [0], scatterDimsToOperandDims: [1], indexVectorDim: 2 }),
      indicesAreSorted: false, uniqueIndices: false,
    }, [binary(Op.Add, 'f32')]);
    const labels = [0, 3, 1, 2, 2, 0, 3, 1];
    const want = new Array(32).fill(1);
    labels.forEach((l, row) => { want[row * 4 + l] += -0.125; });
    await expectGpu(o, [tensor(t('f32', [8, 4]), () => 1), tensor(t('i32', [8, 1, 1]), (i) => labels[i]), tensor(t('f32', [8, 1]), () => -0.125)], [want]);
  });

  it('duplicate indices combine in order; out-of-bounds windows are dropped', async () => {
    const o = op(Op.Scatter, [t('i32', [6, 2]), t('i32', [5, 1]), t('i32', [5, 2])], [t('i32', [6, 2])], {
      dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }),
      indicesAreSorted: false, uniqueIndices: false,
    }, [binary(Op.Add, 'i32')]);
    const idx = [1, 1, 6, -1, 4];
    const want = [0, 0, 1 + 2, 10 + 20, 0, 0, 0, 0, 5, 50, 0, 0];
    await expectGpu(o, [tensor(t('i32', [6, 2]), () => 0), tensor(t('i32', [5, 1]), (i) => idx[i]),
      tensor(t('i32', [5, 2]), (i) => [1, 10, 2, 20, 3, 30, 4, 40, 5, 50][i])], [want]);
  });

  it('overwrite with duplicates keeps the last update (sequential semantics)', async () => {
    const o = op(Op.Scatter, [t('f32', [4]), t('i32', [3, 1]), t('f32', [3])], [t('f32', [4])], {
      dims: sdims({ insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }),
      indicesAreSorted: false, uniqueIndices: false,
    }, [overwrite('f32')]);
    await expectGpu(o, [tensor(t('f32', [4]), (i) => i), tensor(t('i32', [3, 1]), (i) => [2, 0, 2][i]),
      tensor(t('f32', [3]), (i) => [7, 8, 9][i])], [[8, 1, 9, 3]]);
  });

  it('unique indices: copy plus one invocation per update', async () => {
    const o = op(Op.Scatter, [t('f32', [5, 3]), t('i32', [2, 1]), t('f32', [2, 3])], [t('f32', [5, 3])], {
      dims: sdims({ updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }),
      indicesAreSorted: true, uniqueIndices: true,
    }, [binary(Op.Multiply, 'f32')]);
    const run = await expectGpu(o, [tensor(t('f32', [5, 3]), () => 2), tensor(t('i32', [2, 1]), (i) => [3, 0][i]),
      tensor(t('f32', [2, 3]), (i) => i + 1)], [[8, 10, 12, 2, 2, 2, 2, 2, 2, 2, 4, 6, 2, 2, 2]]);
    expect(run.steps.map((s) => s.kind)).toEqual(['copy', 'dispatch']);
  });

  it('two operands with a max/argmax-style region', async () => {
    const reg = region(['f32', 'i32', 'f32', 'i32'], ([v, i, uv, ui], e) => {
      const gt = e(Op.Compare, [uv, v], 'i1', { direction: 'GT', compareType: 'FLOAT' });
      return [e(Op.Select, [gt, uv, v], 'f32'), e(Op.Select, [gt, ui, i], 'i32')];
    });
    const o = op(Op.Scatter, [t('f32', [3]), t('i32', [3]), t('i32', [4, 1]), t('f32', [4]), t('i32', [4])], [t('f32', [3]), t('i32', [3])], {
      dims: sdims({ insertedWindowDims: [0], scatterDimsToOperandDims: [0], indexVectorDim: 1 }),
      indicesAreSorted: false, uniqueIndices: false,
    }, [reg]);
    await expectGpu(o, [tensor(t('f32', [3]), () => 0), tensor(t('i32', [3]), () => -1), tensor(t('i32', [4, 1]), (i) => [0, 2, 0, 0][i]),
      tensor(t('f32', [4]), (i) => [1, 5, 3, 2][i]), tensor(t('i32', [4]), (i) => [10, 11, 12, 13][i])], [[3, 0, 5], [12, -1, 11]]);
  });

  it('random 2-d scatters with batching dims match the reference', async () => {
    const r = rng(3);
    const o = op(Op.Scatter, [t('f32', [3, 5, 4]), t('i32', [3, 6, 1]), t('f32', [3, 6, 4])], [t('f32', [3, 5, 4])], {
      dims: sdims({ updateWindowDims: [2], insertedWindowDims: [1], inputBatchingDims: [0], scatterIndicesBatchingDims: [0], scatterDimsToOperandDims: [1], indexVectorDim: 2 }),
      indicesAreSorted: false, uniqueIndices: false,
    }, [binary(Op.Add, 'f32')]);
    await expectMatchesReference(o, [random(o.operands[0].type, r), random(o.operands[1].type, r, 0, 5), random(o.operands[2].type, r)]);
  });
});
