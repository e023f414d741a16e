/**
 * @file Dispatch overhead guards (scripts/tiny-call.ts measures it): many tiny calls queued back
 * to back reuse their pool buffers and cached bind groups, so a warm round creates no GPUBuffer and
 * no bind group; and the reuse never hands out a buffer whose array is still alive.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu, parse } from './gpu.js';
import { jit, numpy as np, setDefaultDevice, type Array as KArray } from '../../client/index.js';

afterAll(closeGpu);

const TINY = `module @tiny {
  func.func public @main(%x: tensor<8xf32>) -> tensor<8xf32> {
    %c2 = stablehlo.constant dense<2.0> : tensor<8xf32>
    %c1 = stablehlo.constant dense<1.0> : tensor<8xf32>
    %m = stablehlo.multiply %x, %c2 : tensor<8xf32>
    %r = stablehlo.add %m, %c1 : tensor<8xf32>
    return %r : tensor<8xf32>
  }
}`;

const CALLS = 100;
const x8 = (k: number) => Float32Array.from({ length: 8 }, (_, i) => i - 3.5 + k);

describe('dispatch overhead', () => {
  it('a warm round of 100 queued calls creates no buffer and no bind group, and live outputs are never reused', async () => {
    const d = await gpu();
    const exe = d.compile(parse(TINY));
    const t = hostTensor('f32', [8]);
    (t.data as Float32Array).set(x8(0));
    const input = d.upload(t);
    const round = () => {
      const outs = [];
      for (let i = 0; i < CALLS; i++) outs.push(...d.execute(exe, [input]));
      return outs;
    };
    // Round 1 warms the pool and the bind-group cache; its outputs go back to the pool.
    for (const o of round()) d.free(o);
    await d.sync();
    const before = { ...d.stats };
    const outs = round();
    await d.sync();
    expect(d.stats.buffers - before.buffers).toBe(0);
    expect(d.stats.bindGroups - before.bindGroups).toBe(0);
    expect(d.stats.dispatches - before.dispatches).toBe(CALLS);
    // The 100 runs go to the GPU together: one queue.submit, not one per call.
    expect(d.stats.submits - before.submits).toBeLessThanOrEqual(2);
    // The 100 outputs are alive: a new round with another input must not write into any of them.
    (t.data as Float32Array).set(x8(100));
    const input2 = d.upload(t);
    const outs2 = [];
    for (let i = 0; i < CALLS; i++) outs2.push(...d.execute(exe, [input2]));
    const want = Array.from(x8(0), (v) => v * 2 + 1);
    const want2 = Array.from(x8(100), (v) => v * 2 + 1);
    for (const o of [outs[0], outs[CALLS - 1]]) expect(Array.from((await d.read(o)).data as Float32Array)).toEqual(want);
    for (const o of [outs2[0], outs2[CALLS - 1]]) expect(Array.from((await d.read(o)).data as Float32Array)).toEqual(want2);
    for (const o of [...outs, ...outs2]) d.free(o);
    d.free(input);
    d.free(input2);
    await d.sync();
  });

  it('600 calls queued at once, alternating two inputs, cross submit boundaries (256 runs) with the right values', async () => {
    const d = await gpu();
    const exe = d.compile(parse(TINY));
    const t = hostTensor('f32', [8]);
    (t.data as Float32Array).set(x8(0));
    const a = d.upload(t);
    (t.data as Float32Array).set(x8(10));
    const b = d.upload(t);
    const before = d.stats.submits;
    const outs = [];
    for (let i = 0; i < 600; i++) outs.push(...d.execute(exe, [i % 2 ? b : a]));
    await d.sync();
    expect(d.stats.submits - before).toBe(3); // 256 + 256 + 88
    for (const i of [0, 1, 254, 255, 256, 257, 511, 512, 598, 599]) {
      const want = Array.from(x8(i % 2 ? 10 : 0), (v) => v * 2 + 1);
      expect(Array.from((await d.read(outs[i])).data as Float32Array)).toEqual(want);
    }
    for (const o of [...outs, a, b]) d.free(o);
    await d.sync();
  });

  it('an upload into a pool buffer that a queued, not yet submitted run reads waits for that run', async () => {
    const d = await gpu();
    const exe = d.compile(parse(TINY));
    const t = hostTensor('f32', [8]);
    (t.data as Float32Array).set(x8(0));
    await d.sync();
    const a = d.upload(t);
    const [o] = d.execute(exe, [a]);
    d.free(a);
    // Let the run be encoded and a's buffer go back to the pool; the batch is not submitted yet.
    for (let i = 0; i < 50; i++) await null;
    const submits = d.stats.submits;
    (t.data as Float32Array).set(x8(1000));
    const b = d.upload(t); // the pool hands back a's buffer
    expect(d.stats.submits).toBe(submits + 1); // the queued run went first
    expect(Array.from((await d.read(o)).data as Float32Array)).toEqual(Array.from(x8(0), (v) => v * 2 + 1));
    d.free(o);
    d.free(b);
    await d.sync();
  });

  it('a batch the GPU rejects makes every read of its runs fail, never return stale data', async () => {
    const d = await gpu();
    const exe = d.compile(parse(TINY));
    const t = hostTensor('f32', [8]);
    (t.data as Float32Array).set(x8(0));
    await d.sync();
    const good = d.upload(t), bad = d.upload(t);
    (bad as unknown as { buffer: GPUBuffer }).buffer.destroy(); // a submit using it is invalid
    const [o1] = d.execute(exe, [good]);
    const [o2] = d.execute(exe, [bad]);
    await expect(d.read(o1)).rejects.toThrow(/GPU rejected .*command buffer/);
    await expect(d.read(o2)).rejects.toThrow(/GPU rejected .*command buffer/);
    // The next batch is not affected.
    const [o3] = d.execute(exe, [good]);
    expect(Array.from((await d.read(o3)).data as Float32Array)).toEqual(Array.from(x8(0), (v) => v * 2 + 1));
    for (const o of [o1, o2, o3, good]) d.free(o);
    await d.sync();
  });

  it('the 100th identical jit call from the client creates no buffer and no bind group', async () => {
    const d = await gpu();
    setDefaultDevice(d);
    const f = jit((v: KArray) => [v.mul(2).add(1)]);
    const x = np.array(x8(0), { shape: [8] });
    const round = async () => {
      const outs: KArray[] = [];
      for (let i = 0; i < CALLS; i++) outs.push(...f(x));
      await d.sync();
      return outs;
    };
    for (const o of await round()) o.dispose();
    await d.sync();
    const before = { ...d.stats };
    const outs = await round();
    expect(d.stats.buffers - before.buffers).toBe(0);
    expect(d.stats.bindGroups - before.bindGroups).toBe(0);
    expect(d.stats.compiles - before.compiles).toBe(0);
    expect(Array.from(await outs[CALLS - 1].data() as Float32Array)).toEqual(Array.from(x8(0), (v) => v * 2 + 1));
    for (const o of outs) o.dispose();
    x.dispose();
  });
});
