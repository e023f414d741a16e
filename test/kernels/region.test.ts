/**
 * @file The region emitter through the kernels that use it: refusals that name the op and its
 * line:col, integer division and remainder edge cases, NaN-propagating max/min, constants, f16
 * regions, and in-place scatter.
 */
import { requireF16 } from '../helpers/devices.js';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { ScatterDims } from '../../ir/ops.js';
import type { Region } from '../../ir/types.js';
import { indexedLowerings } from '../../compiler/kernels/index.js';
import { DEFAULT_TARGET } from '../../compiler/program.js';
import { binary, op, region, t, tensor } from './build.js';
import { expectClose, expectGpu } from './check.js';
import { gpuDevice, runLowering } from './harness.js';

const dims: ScatterDims = {
  updateWindowDims: [], insertedWindowDims: [0], inputBatchingDims: [], scatterIndicesBatchingDims: [], scatterDimsToOperandDims: [0], indexVectorDim: 1,
};
/** Elementwise combination of a [4] input with a [4] update through `reg` (index i to element i). */
function combine(reg: Region, d: 'f32' | 'i32' | 'ui32' | 'f16', unique = true) {
  return op(Op.Scatter, [t(d, [4]), t('i32', [4, 1]), t(d, [4])], [t(d, [4])], { dims, indicesAreSorted: true, uniqueIndices: unique }, [reg]);
}
const iota = tensor(t('i32', [4, 1]), (i) => i);

describe('region refusals (no GPU)', () => {
  it('an op with no f16 region rule is refused with its name and line:col', () => {
    const reg = region(['f16', 'f16'], ([a, b], e) => [e(Op.Add, [e(Op.Erf, [a], 'f16'), b], 'f16')]);
    const ctx = { target: { ...DEFAULT_TARGET, f16: true }, temp: () => 0, dispatch: () => {}, copy: () => {} };
    const o = combine(reg, 'f16', false);
    expect(() => indexedLowerings[Op.Scatter](o, [0, 1, 2], [3], ctx)).toThrow(UnsupportedOpError);
    expect(() => indexedLowerings[Op.Scatter](o, [0, 1, 2], [3], ctx)).toThrow(/2:7: stablehlo\.scatter: chlo\.erf is not supported in a region/);
  });

  it('f16 is refused on a target without shader-f16', () => {
    const ctx = { target: { ...DEFAULT_TARGET, f16: false }, temp: () => 0, dispatch: () => {}, copy: () => {} };
    expect(() => indexedLowerings[Op.Scatter](combine(binary(Op.Add, 'f16'), 'f16'), [0, 1, 2], [3], ctx)).toThrow(/shader-f16/);
  });
});

describe('region semantics on the GPU', () => {
  it('i32 divide and remainder by zero and of MIN by -1', async () => {
    const x = tensor(t('i32', [4]), (i) => [7, -2147483648, 5, 9][i]);
    const y = tensor(t('i32', [4]), (i) => [0, -1, 2, -4][i]);
    await expectGpu(combine(region(['i32', 'i32'], ([a, b], e) => [e(Op.Divide, [a, b], 'i32')]), 'i32'), [x, iota, y], [[-1, -2147483648, 2, -2]]);
    await expectGpu(combine(region(['i32', 'i32'], ([a, b], e) => [e(Op.Remainder, [a, b], 'i32')]), 'i32'), [x, iota, y], [[7, 0, 1, 1]]);
  });

  it('ui32 divide by zero is all ones', async () => {
    const x = tensor(t('ui32', [4]), (i) => [7, 4000000000, 5, 9][i]);
    const y = tensor(t('ui32', [4]), (i) => [0, 3, 0, 4][i]);
    await expectGpu(combine(region(['ui32', 'ui32'], ([a, b], e) => [e(Op.Divide, [a, b], 'ui32')]), 'ui32'), [x, iota, y], [[4294967295, 1333333333, 4294967295, 2]]);
  });

  it('maximum and minimum propagate NaN from either side', async () => {
    const x = tensor(t('f32', [4]), (i) => [1, NaN, 3, -0][i]);
    const y = tensor(t('f32', [4]), (i) => [NaN, 2, 1, 5][i]);
    await expectGpu(combine(binary(Op.Maximum, 'f32'), 'f32', false), [x, iota, y], [[NaN, NaN, 3, 5]]);
    await expectGpu(combine(binary(Op.Minimum, 'f32'), 'f32', false), [x, iota, y], [[NaN, NaN, 1, -0]]);
  });

  it('constants, compare and select in a region (clamp the update to [-inf, 2.5] and add)', async () => {
    const reg = region(['f32', 'f32'], ([a, b], e) => {
      const hi = e(Op.Constant, [], 'f32', { value: { splat: true, data: new Float32Array([2.5]) } });
      const lo = e(Op.Constant, [], 'f32', { value: { splat: true, data: new Float32Array([-Infinity]) } });
      const big = e(Op.Compare, [b, hi], 'i1', { direction: 'GT', compareType: 'FLOAT' });
      return [e(Op.Add, [a, e(Op.Maximum, [lo, e(Op.Select, [big, hi, b], 'f32')], 'f32')], 'f32')];
    });
    await expectGpu(combine(reg, 'f32'), [tensor(t('f32', [4]), () => 1), iota, tensor(t('f32', [4]), (i) => [0, 2, 3, 100][i])], [[1, 3, 3.5, 3.5]]);
  });

  it('f32 regions get every fused elementwise rule (power and log_plus_one in a scatter combiner)', async () => {
    const reg = region(['f32', 'f32'], ([a, b], e) => [e(Op.Log1p, [e(Op.Power, [a, b], 'f32')], 'f32')]);
    // log1p(a^b) for a = 1..4, b = 2: log1p(1), log1p(4), log1p(9), log1p(16).
    await expectGpu(combine(reg, 'f32'), [tensor(t('f32', [4]), (i) => i + 1), iota, tensor(t('f32', [4]), () => 2)],
      [[Math.log1p(1), Math.log1p(4), Math.log1p(9), Math.log1p(16)]]);
  });

  it('f16 regions, when the adapter has shader-f16', async (ctx) => {
    const dev = await gpuDevice();
    requireF16(dev.features.has('shader-f16'), ctx);
    const run = await runLowering(combine(binary(Op.Add, 'f16'), 'f16', false),
      [tensor(t('f16', [4]), (i) => i * 0.5), iota, tensor(t('f16', [4]), () => 0.25)]);
    expectClose(run.outputs[0], [0.25, 0.75, 1.25, 1.75]);
    expect(run.kernels[0].enables).toEqual(['f16']);
  });

  it('in-place scatter (input and result share a buffer) binds it once', async () => {
    const o = combine(binary(Op.Add, 'f32'), 'f32', false);
    const run = await runLowering(o, [tensor(t('f32', [4]), (i) => i), tensor(t('i32', [4, 1]), (i) => [3, 3, 0, 9][i]), tensor(t('f32', [4]), () => 10)], {}, [[0, 0]]);
    expectClose(run.outputs[0], [10, 1, 2, 23]);
    expect(run.kernels[0].bindings).toHaveLength(3);
  });
});
