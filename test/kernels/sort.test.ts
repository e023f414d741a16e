/**
 * @file GPU tests of sort, top_k, dynamic_slice and dynamic_update_slice: stable multi-operand
 * sorts along inner and outer dimensions, in workgroup memory and (with a small target) through
 * the multi-pass global path, NaN and -0 under TOTALORDER, top_k ties, and clamped dynamic starts.
 */
import { describe, expect, it } from 'vitest';
import { Op } from '../../ir/ops.js';
import { countDispatches } from '../../compiler/program.js';
import { comparator, op, random, region, rng, t, tensor } from './build.js';
import { expectClose, expectGpu, expectMatchesReference } from './check.js';
import { runLowering } from './harness.js';
import { narrowData } from '../../runtime/tensor.js';

/** Positions of `keys` in stable ascending (or descending) order. */
function stableOrder(keys: number[], desc = false): number[] {
  return keys.map((_, i) => i).sort((a, b) => (desc ? keys[b] - keys[a] : keys[a] - keys[b]) || a - b);
}

describe('sort', () => {
  it('1-d ascending floats, one kernel', async () => {
    const r = rng(5);
    const keys = Array.from({ length: 37 }, () => Math.floor(r() * 10) - 5);
    const o = op(Op.Sort, [t('f32', [37])], [t('f32', [37])], { dimension: 0, isStable: true }, [comparator('f32', 'LT', 'FLOAT')]);
    const run = await expectGpu(o, [tensor(t('f32', [37]), (i) => keys[i])], [[...keys].sort((a, b) => a - b)]);
    expect(run.kernels).toHaveLength(1);
  });

  it('keys with an index payload sort stably along dim 0 of a 2-d tensor', async () => {
    const r = rng(6);
    const [n, m] = [20, 3];
    const keys = Array.from({ length: n * m }, () => Math.floor(r() * 4));
    const reg = region(['i32', 'i32', 'i32', 'i32'], ([a, b], e) => [e(Op.Compare, [a, b], 'i1', { direction: 'GT', compareType: 'SIGNED' })]);
    const o = op(Op.Sort, [t('i32', [n, m]), t('i32', [n, m])], [t('i32', [n, m]), t('i32', [n, m])], { dimension: 0, isStable: true }, [reg]);
    const wantK = new Array(n * m);
    const wantP = new Array(n * m);
    for (let c = 0; c < m; c++) {
      const col = Array.from({ length: n }, (_, i) => keys[i * m + c]);
      stableOrder(col, true).forEach((p, j) => { wantK[j * m + c] = col[p]; wantP[j * m + c] = p * m + c; });
    }
    await expectGpu(o, [tensor(t('i32', [n, m]), (i) => keys[i]), tensor(t('i32', [n, m]), (i) => i)], [wantK, wantP]);
  });

  it('long rows take the multi-pass global path with the same results', async () => {
    const r = rng(7);
    const [rows, n] = [3, 100];
    const keys = Array.from({ length: rows * n }, () => Math.floor(r() * 16) / 4);
    const o = op(Op.Sort, [t('f32', [rows, n]), t('ui32', [rows, n])], [t('f32', [rows, n]), t('ui32', [rows, n])],
      { dimension: 1, isStable: true }, [region(['f32', 'f32', 'ui32', 'ui32'], ([a, b], e) => [e(Op.Compare, [a, b], 'i1', { direction: 'LT', compareType: 'FLOAT' })])]);
    const run = await runLowering(o, [tensor(t('f32', [rows, n]), (i) => keys[i]), tensor(t('ui32', [rows, n]), (i) => i % n)], { maxWorkgroupStorage: 256 });
    const wantK: number[] = [];
    const wantP: number[] = [];
    for (let row = 0; row < rows; row++) {
      const k = keys.slice(row * n, row * n + n);
      for (const p of stableOrder(k)) { wantK.push(k[p]); wantP.push(p); }
    }
    expectClose(run.outputs[0], wantK);
    expectClose(run.outputs[1], wantP);
    // P = 128: 7 * 8 / 2 = 28 bitonic steps, plus fill and write.
    expect(countDispatches(run.steps)).toBe(30);
  });

  it('TOTALORDER orders -NaN < -inf < -0 < 0 < inf < NaN', async () => {
    const x = [NaN, 0, -0, Infinity, -Infinity, 1, -1];
    const o = op(Op.Sort, [t('f32', [7])], [t('f32', [7])], { dimension: 0, isStable: false }, [comparator('f32', 'LT', 'TOTALORDER')]);
    const run = await runLowering(o, [tensor(t('f32', [7]), (i) => x[i])]);
    const got = Array.from(narrowData(run.outputs[0]));
    expect(got.map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(['-Infinity', '-1', '-0', '0', '1', 'Infinity', 'NaN']);
  });

  it('random multi-operand sorts along the middle dim match the reference', async () => {
    const r = rng(8);
    const reg = region(['f32', 'f32', 'i32', 'i32'], ([a, b, c, d], e) => {
      const lt = e(Op.Compare, [a, b], 'i1', { direction: 'LT', compareType: 'TOTALORDER' });
      const eq = e(Op.Compare, [a, b], 'i1', { direction: 'EQ', compareType: 'TOTALORDER' });
      const lt2 = e(Op.Compare, [c, d], 'i1', { direction: 'LT', compareType: 'SIGNED' });
      return [e(Op.Or, [lt, e(Op.And, [eq, lt2], 'i1')], 'i1')];
    });
    const o = op(Op.Sort, [t('f32', [2, 9, 3]), t('i32', [2, 9, 3])], [t('f32', [2, 9, 3]), t('i32', [2, 9, 3])], { dimension: 1, isStable: true }, [reg]);
    await expectMatchesReference(o, [random(o.operands[0].type, r), random(o.operands[1].type, r)]);
  });
});

describe('top_k', () => {
  it('largest first, ties by lower index, i32 indices', async () => {
    const x = [3, 1, 3, 7, -2, 7, 0, 3, 1, 9];
    const o = op(Op.TopK, [t('f32', [2, 5])], [t('f32', [2, 3]), t('i32', [2, 3])], { k: 3 });
    await expectGpu(o, [tensor(t('f32', [2, 5]), (i) => x[i])], [[7, 3, 3, 9, 7, 3], [3, 0, 2, 4, 0, 2]]);
  });

  it('integers through the global path', async () => {
    const r = rng(10);
    const x = Array.from({ length: 70 }, () => Math.floor(r() * 20) - 10);
    const o = op(Op.TopK, [t('i32', [70])], [t('i32', [5]), t('i32', [5])], { k: 5 });
    const run = await runLowering(o, [tensor(t('i32', [70]), (i) => x[i])], { maxWorkgroupStorage: 64 });
    const order = stableOrder(x, true).slice(0, 5);
    expectClose(run.outputs[0], order.map((p) => x[p]));
    expectClose(run.outputs[1], order);
  });
});

describe('dynamic slices', () => {
  it('dynamic_slice clamps its starts (i32 and ui32 starts)', async () => {
    const o = op(Op.DynamicSlice, [t('f32', [4, 6]), t('i32', []), t('ui32', [])], [t('f32', [2, 3])], { sliceSizes: [2, 3] });
    const x = tensor(t('f32', [4, 6]), (i) => i);
    await expectGpu(o, [x, tensor(t('i32', []), () => -5), tensor(t('ui32', []), () => 2)], [[2, 3, 4, 8, 9, 10]]);
    await expectGpu(o, [x, tensor(t('i32', []), () => 3), tensor(t('ui32', []), () => 4000000000)], [[15, 16, 17, 21, 22, 23]]);
  });

  it('dynamic_update_slice copies the operand and writes the clamped window', async () => {
    const o = op(Op.DynamicUpdateSlice, [t('i32', [3, 4]), t('i32', [2, 2]), t('i32', []), t('i32', [])], [t('i32', [3, 4])], {});
    const run = await expectGpu(o, [tensor(t('i32', [3, 4]), () => 0), tensor(t('i32', [2, 2]), (i) => i + 1),
      tensor(t('i32', []), () => 5), tensor(t('i32', []), () => 1)], [[0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]]);
    expect(run.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'copy', 'dispatch']);
  });

  it('i1 and random starts match the reference', async () => {
    const r = rng(12);
    for (let trial = 0; trial < 3; trial++) {
      const a = op(Op.DynamicSlice, [t('i1', [5, 4, 3]), t('i32', []), t('i32', []), t('i32', [])], [t('i1', [2, 4, 2])], { sliceSizes: [2, 4, 2] });
      const starts = [0, 1, 2].map(() => tensor(t('i32', []), () => Math.floor(r() * 10) - 3));
      await expectMatchesReference(a, [random(a.operands[0].type, r), ...starts]);
      const u = op(Op.DynamicUpdateSlice, [t('f32', [5, 4]), t('f32', [3, 2]), t('i32', []), t('i32', [])], [t('f32', [5, 4])], {});
      await expectMatchesReference(u, [random(u.operands[0].type, r), random(u.operands[1].type, r), starts[0], starts[1]]);
    }
  });
});
