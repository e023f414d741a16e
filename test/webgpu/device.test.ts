/**
 * @file The WebGPU device's contract: executables cached by graph hash (no recompile, no new
 * pipelines), counted loops run without readbacks while data-dependent ones read back, input
 * checks, deadlines, and a clear error naming the adapter choice when none matches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, TimeoutError, DeviceError } from '../../ir/errors.js';
import { hostTensor } from '../../runtime/tensor.js';
import { createWebGPUDevice } from '../../runtime/webgpu/device.js';
import { loadCase, mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

describe('WebGPUDevice', () => {
  it('caches executables: the same module twice is the same executable, run again without new pipelines', async () => {
    const d = await gpu();
    const c = loadCase('softmax');
    const a = d.compile(parse(c.text));
    const before = { ...d.stats };
    const b = d.compile(parse(c.text));
    expect(b).toBe(a);
    expect(d.stats.compiles).toBe(before.compiles);
    const ins = c.inputs.map((t) => d.upload(t));
    for (let i = 0; i < 3; i++) {
      const [o] = d.execute(a, ins);
      expect(mismatch(await d.read(o), c.outputs[0], 1e-3)).toBeUndefined();
      d.free(o);
    }
    const after = { ...d.stats };
    expect(after.pipelines).toBe(before.pipelines);
    // Bind groups are made once for this set of inputs.
    const bg = after.bindGroups;
    const [o] = d.execute(a, ins);
    await d.read(o);
    expect(d.stats.bindGroups).toBe(bg);
    // Softmax: one reduce kernel of two stages (max, then the sum of exp and the divide).
    expect(a.kernels).toBe(1);
    expect(a.bytes).toBeGreaterThan(0);
  });

  it('a known-trip-count while reads nothing back; a data-dependent one reads its condition', async () => {
    const d = await gpu();
    const c = loadCase('fori_loop');
    const exe = d.compile(parse(c.text));
    const r0 = d.stats.readbacks;
    const [o] = d.execute(exe, c.inputs.map((t) => d.upload(t)));
    expect(mismatch(await d.read(o), c.outputs[0], 1e-3)).toBeUndefined();
    expect(d.stats.readbacks).toBe(r0);

    const text = c.text
      .replace('func.func public @main(%arg0: tensor<8x16xf32>)', 'func.func public @main(%arg0: tensor<8x16xf32>, %n: tensor<i32>)')
      .replace('%1 = stablehlo.compare LT, %iterArg, %c_1, SIGNED', '%1 = stablehlo.compare LT, %iterArg, %n, SIGNED');
    const dyn = d.compile(parse(text));
    const [o2] = d.execute(dyn, [d.upload(c.inputs[0]), d.upload(hostTensor('i32', [], [5]))]);
    expect(mismatch(await d.read(o2), c.outputs[0], 1e-3)).toBeUndefined();
    expect(d.stats.readbacks - r0).toBe(6); // five true conditions and the false one
  });

  it('checks inputs synchronously and enforces deadlines between loop iterations', async () => {
    const d = await gpu();
    const c = loadCase('fori_loop');
    const exe = d.compile(parse(c.text));
    expect(() => d.execute(exe, [])).toThrow(InputError);
    expect(() => d.execute(exe, [d.upload(hostTensor('f32', [2], [1, 2]))])).toThrow(InputError);
    const text = c.text
      .replace('func.func public @main(%arg0: tensor<8x16xf32>)', 'func.func public @main(%arg0: tensor<8x16xf32>, %n: tensor<i32>)')
      .replace('%1 = stablehlo.compare LT, %iterArg, %c_1, SIGNED', '%1 = stablehlo.compare LT, %iterArg, %n, SIGNED');
    const dyn = d.compile(parse(text));
    const [o] = d.execute(dyn, [d.upload(c.inputs[0]), d.upload(hostTensor('i32', [], [1_000_000_000]))], { deadline: Date.now() + 200 });
    await expect(d.read(o)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('names the adapter choice when KILN_ADAPTER matches nothing', async () => {
    await expect(createWebGPUDevice({ adapter: 'no-such-adapter-xyz' })).rejects.toBeInstanceOf(DeviceError);
  });
});
