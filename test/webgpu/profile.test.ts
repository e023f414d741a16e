/**
 * @file Per-kernel GPU timing (`WebGPUDevice.profile`): a profiled run reports every kernel of its
 * program with its dispatch count and time from timestamp queries, counted loops multiply the
 * dispatches, results stay correct, and runs queued after `profile(false)` are not timed.
 * lavapipe has `timestamp-query`, so this runs on CI's software adapter.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../../runtime/tensor.js';
import { unionLength } from '../../runtime/webgpu/executor.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const TWO_KERNELS = `func.func public @main(%x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (tensor<64x256xf32>, tensor<f32>) -> tensor<64xf32>
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (tensor<64xf32>) -> tensor<64x256xf32>
  %2 = stablehlo.subtract %x, %1 : tensor<64x256xf32>
  %3 = stablehlo.exponential %2 : tensor<64x256xf32>
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %4 = stablehlo.reduce(%3 init: %z) applies stablehlo.add across dimensions = [1] : (tensor<64x256xf32>, tensor<f32>) -> tensor<64xf32>
  %5 = stablehlo.broadcast_in_dim %4, dims = [0] : (tensor<64xf32>) -> tensor<64x256xf32>
  %6 = stablehlo.divide %3, %5 : tensor<64x256xf32>
  return %6 : tensor<64x256xf32>
}`;

const LOOP = `func.func public @main(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %c0 = stablehlo.constant dense<0> : tensor<i32>
  %c1 = stablehlo.constant dense<1> : tensor<i32>
  %c5 = stablehlo.constant dense<5> : tensor<i32>
  %r:2 = stablehlo.while(%i = %c0, %v = %x) : tensor<i32>, tensor<1024xf32>
    cond {
      %p = stablehlo.compare LT, %i, %c5, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %p : tensor<i1>
    } do {
      %j = stablehlo.add %i, %c1 : tensor<i32>
      %w = stablehlo.sine %v : tensor<1024xf32>
      stablehlo.return %j, %w : tensor<i32>, tensor<1024xf32>
    }
  return %r#1 : tensor<1024xf32>
}`;

function rows(): number[] {
  return Array.from({ length: 64 * 256 }, (_, i) => Math.sin(i * 0.37) * 3);
}

describe('WebGPU per-kernel profiling', () => {
  it('times every kernel of a run and keeps the results', async () => {
    const dev = await gpu();
    expect(dev.canProfile).toBe(true);
    const exe = dev.compile(parse(TWO_KERNELS));
    const x = dev.upload(hostTensor('f32', [64, 256], rows()));
    const plain = await dev.read(dev.execute(exe, [x])[0]);
    expect(dev.profile(true)).toBe(true);
    const timed = await dev.read(dev.execute(exe, [x])[0]);
    await dev.sync();
    expect([...timed.data]).toEqual([...plain.data]);
    const [p, ...more] = dev.takeProfiles();
    expect(more).toHaveLength(0);
    expect(p.executable).toBe(exe.id);
    const names = (exe.kernelSources ?? []).map((k) => k.name);
    expect(p.kernels.map((k) => k.name)).toEqual(names);
    expect(p.kernels.reduce((a, k) => a + k.dispatches, 0)).toBe(exe.kernels);
    for (const k of p.kernels) expect(k.ms).toBeGreaterThan(0);
    // Dispatches run in order: each starts no earlier than the previous one ended.
    for (let i = 1; i < p.intervals.length; i++) expect(p.intervals[i].start).toBeGreaterThanOrEqual(p.intervals[i - 1].end);
    expect(p.busyMs).toBeCloseTo(p.kernels.reduce((a, k) => a + k.ms, 0), 6);
    expect(p.spanMs).toBeGreaterThanOrEqual(p.busyMs);
    expect((exe as { lastProfile?: unknown }).lastProfile).toEqual(p);
    dev.profile(false);
    dev.execute(exe, [x]);
    await dev.sync();
    expect(dev.takeProfiles()).toHaveLength(0);
  });

  it('counts the dispatches of loops', async () => {
    const dev = await gpu();
    const exe = dev.compile(parse(LOOP));
    dev.profile(true);
    const out = await dev.read(dev.execute(exe, [dev.upload(hostTensor('f32', [1024], Array.from({ length: 1024 }, (_, i) => i / 100)))])[0]);
    dev.profile(false);
    await dev.sync();
    let v = 3 / 100;
    for (let i = 0; i < 5; i++) v = Math.sin(v);
    expect(out.data[3]).toBeCloseTo(v, 5);
    const [p] = dev.takeProfiles();
    const sine = p.kernels.filter((k) => k.dispatches === 5);
    expect(sine.length).toBeGreaterThan(0);
    expect(p.intervals.length).toBe(p.kernels.reduce((a, k) => a + k.dispatches, 0));
  });

  it('measures the union of overlapping intervals', () => {
    expect(unionLength([{ start: 0, end: 10 }, { start: 5, end: 12 }, { start: 20, end: 25 }])).toBe(17);
    expect(unionLength([])).toBe(0);
  });
});
