/**
 * @file Kernel timings through the server (`profile: true` on /execute, /run and /batch calls): on
 * the WebGPU device a profiled run answers its kernels' GPU times, named as GET /executables/:id
 * names its WGSL kernels, summing to no more than the run's span; runs that did not ask are not
 * timed, concurrent requests each get their own program's times, and the last ones are kept per
 * executable. The reference device answers `profile: null` with the reason.
 */
import { ENDLESS_WHILE } from '../helpers/programs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../runtime/device.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

// Softmax over rows: a few kernels (row max, row sum, the elementwise tail), whatever fusion does.
const SOFTMAX = `func.func public @main(%x: tensor<32x128xf32>) -> tensor<32x128xf32> {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (tensor<32x128xf32>, tensor<f32>) -> tensor<32xf32>
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (tensor<32xf32>) -> tensor<32x128xf32>
  %2 = stablehlo.subtract %x, %1 : tensor<32x128xf32>
  %3 = stablehlo.exponential %2 : tensor<32x128xf32>
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %4 = stablehlo.reduce(%3 init: %z) applies stablehlo.add across dimensions = [1] : (tensor<32x128xf32>, tensor<f32>) -> tensor<32xf32>
  %5 = stablehlo.broadcast_in_dim %4, dims = [0] : (tensor<32xf32>) -> tensor<32x128xf32>
  %6 = stablehlo.divide %3, %5 : tensor<32x128xf32>
  return %6 : tensor<32x128xf32>
}`;

const SCALE = `func.func @main(%a: tensor<256xf32>) -> tensor<256xf32> {
  %c = stablehlo.constant dense<3.0> : tensor<256xf32>
  %0 = stablehlo.multiply %a, %c : tensor<256xf32>
  return %0 : tensor<256xf32>
}`;

// Five iterations of a sine: its kernel is dispatched five times in one run.
const LOOP = `func.func @main(%x: tensor<512xf32>) -> tensor<512xf32> {
  %c0 = stablehlo.constant dense<0> : tensor<i32>
  %c1 = stablehlo.constant dense<1> : tensor<i32>
  %c5 = stablehlo.constant dense<5> : tensor<i32>
  %r:2 = stablehlo.while(%i = %c0, %v = %x) : tensor<i32>, tensor<512xf32>
    cond {
      %p = stablehlo.compare LT, %i, %c5, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %p : tensor<i1>
    } do {
      %j = stablehlo.add %i, %c1 : tensor<i32>
      %w = stablehlo.sine %v : tensor<512xf32>
      stablehlo.return %j, %w : tensor<i32>, tensor<512xf32>
    }
  return %r#1 : tensor<512xf32>
}`;

const rows = () => wire(hostTensor('f32', [32, 128], Array.from({ length: 32 * 128 }, (_, i) => Math.sin(i * 0.37) * 3)));
const ramp = (n: number) => wire(hostTensor('f32', [n], Array.from({ length: n }, (_, i) => i / 100)));

interface KernelTimeJson { name: string; dispatches: number; ms: number }
interface ProfileJson { busyMs: number; spanMs: number; kernels: KernelTimeJson[] }

/** The checks every profile of `exe` must pass: its kernels by name, times that add up. */
async function expectProfileOf(url: string, p: ProfileJson, exeId: string): Promise<void> {
  const d = await call(url, 'GET', `/executables/${exeId}`);
  expect(d.status).toBe(200);
  expect(p.kernels.map((k) => k.name)).toEqual(d.body.wgsl.map((k: { name: string }) => k.name));
  expect(p.kernels.reduce((a, k) => a + k.dispatches, 0)).toBeGreaterThanOrEqual(1);
  for (const k of p.kernels) {
    expect(Number.isInteger(k.dispatches)).toBe(true);
    expect(k.ms).toBeGreaterThanOrEqual(0);
    if (k.dispatches > 0) expect(k.ms).toBeGreaterThan(0);
  }
  const sum = p.kernels.reduce((a, k) => a + k.ms, 0);
  // Dispatches run one after another: their times add up to the busy time, within the span.
  expect(sum).toBeLessThanOrEqual(p.spanMs + 1e-6);
  expect(p.busyMs).toBeLessThanOrEqual(p.spanMs + 1e-6);
  expect(p.busyMs).toBeCloseTo(sum, 6);
}

describe('kernel timings on the WebGPU device', () => {
  let device: Device;
  let server: TestServer;

  beforeAll(async () => {
    device = await webgpuDevice();
    server = await startServer({ device });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('POST /run with profile: true answers every kernel with its dispatches and GPU time', async () => {
    const r = await call(server.url, 'POST', '/run', { ir: SOFTMAX, inputs: [rows()], profile: true });
    expect(r.status).toBe(200);
    expect(r.body.profileUnavailable).toBeUndefined();
    const { body: exe } = await call(server.url, 'POST', '/compile', SOFTMAX);
    const p = r.body.profile as ProfileJson;
    expect(Object.keys(p).sort()).toEqual(['busyMs', 'kernels', 'spanMs']);
    await expectProfileOf(server.url, p, exe.id);
    expect(p.kernels.reduce((a, k) => a + k.dispatches, 0)).toBe(exe.kernels);
    // One row per kernel (softmax is one reduce kernel of two stages), each dispatched once.
    expect(p.kernels.length).toBe(exe.kernels);
    // The outputs are those of an unprofiled run.
    const plain = await call(server.url, 'POST', '/run', { ir: SOFTMAX, inputs: [rows()] });
    expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual(Array.from(narrowData(unwire(plain.body.outputs[0]))));
  });

  it('without profile the reply has no profile, and the run is not timed', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', SCALE);
    const first = await call(server.url, 'POST', '/execute', { executable: exe.id, inputs: [ramp(256)], profile: true });
    await expectProfileOf(server.url, first.body.profile, exe.id);
    const before = (await call(server.url, 'GET', `/executables/${exe.id}`)).body.kernelTimes;
    expect(before).toMatchObject({ busyMs: first.body.profile.busyMs, spanMs: first.body.profile.spanMs, kernels: first.body.profile.kernels });
    expect(before.at).toBeGreaterThan(0);

    for (const body of [{ executable: exe.id, inputs: [ramp(256)] }, { executable: exe.id, inputs: [ramp(256)], profile: false }]) {
      const r = await call(server.url, 'POST', '/execute', body);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['outputs']);
    }
    // The device's timer went off with the profiled request: nothing was timed since, so the
    // executable's last kernel times are still the first run's.
    const after = await call(server.url, 'GET', `/executables/${exe.id}`);
    expect(after.body.kernelTimes).toEqual(before);
    expect(after.body.runs).toBeGreaterThanOrEqual(3);
    expect((device as { takeProfiles(): unknown[] }).takeProfiles()).toEqual([]);
  });

  it('counts the dispatches of a loop', async () => {
    const r = await call(server.url, 'POST', '/run', { ir: LOOP, inputs: [ramp(512)], profile: true });
    expect(r.status).toBe(200);
    const { body: exe } = await call(server.url, 'POST', '/compile', LOOP);
    await expectProfileOf(server.url, r.body.profile, exe.id);
    expect(r.body.profile.kernels.some((k: KernelTimeJson) => k.dispatches === 5)).toBe(true);
  });

  it('POST /batch profiles the calls that ask, each with its own program', async () => {
    const { body: scale } = await call(server.url, 'POST', '/compile', SCALE);
    const { body: softmax } = await call(server.url, 'POST', '/compile', SOFTMAX);
    const r = await call(server.url, 'POST', '/batch', {
      calls: [
        { executable: scale.id, inputs: [ramp(256)], profile: true },
        { executable: scale.id, inputs: [ramp(256)] },
        { ir: SOFTMAX, inputs: [rows()], profile: true },
      ],
    });
    expect(r.status).toBe(200);
    const [a, b, c] = r.body.results;
    await expectProfileOf(server.url, a.profile, scale.id);
    expect(Object.keys(b)).toEqual(['outputs']);
    await expectProfileOf(server.url, c.profile, softmax.id);
  });

  it('keeps concurrent requests apart: each profile is its own run\'s, unprofiled ones get none', async () => {
    const { body: scale } = await call(server.url, 'POST', '/compile', SCALE);
    const { body: softmax } = await call(server.url, 'POST', '/compile', SOFTMAX);
    const sent = Array.from({ length: 12 }, (_, i) => {
      const useScale = i % 3 === 0;
      const body = useScale ? { executable: scale.id, inputs: [ramp(256)] } : { executable: softmax.id, inputs: [rows()] };
      const profile = i % 2 === 0;
      return { id: useScale ? scale.id : softmax.id, profile, reply: call(server.url, 'POST', '/execute', profile ? { ...body, profile } : body) };
    });
    for (const s of sent) {
      const r = await s.reply;
      expect(r.status).toBe(200);
      if (!s.profile) {
        expect(r.body.profile).toBeUndefined();
        continue;
      }
      await expectProfileOf(server.url, r.body.profile, s.id);
    }
  });

  it('a failed profiled run leaves nothing behind for the next one', async () => {
    const limited = await startServer({ device, limits: { executionMs: 500 } });
    try {
      const bad = await call(limited.url, 'POST', '/run', { ir: ENDLESS_WHILE, inputs: [wire(hostTensor('i32', [], [0]))], profile: true });
      expect(bad.status).toBe(408);
      const refused = await call(limited.url, 'POST', '/run', { ir: SCALE, inputs: [ramp(3)], profile: true });
      expect(refused.body.error.code).toBe('KILN_ERR_INPUT');
      const plain = await call(limited.url, 'POST', '/run', { ir: SCALE, inputs: [ramp(256)] });
      expect(plain.body.profile).toBeUndefined();
      const r = await call(limited.url, 'POST', '/run', { ir: SCALE, inputs: [ramp(256)], profile: true });
      const { body: exe } = await call(limited.url, 'POST', '/compile', SCALE);
      await expectProfileOf(limited.url, r.body.profile, exe.id);
    } finally {
      await limited.close();
    }
  });

  it('refuses a profile field that is not a boolean', async () => {
    for (const [path, body] of [
      ['/run', { ir: SCALE, inputs: [ramp(256)], profile: 'yes' }],
      ['/execute', { executable: 'x', inputs: [], profile: 1 }],
      ['/batch', { calls: [{ ir: SCALE, inputs: [ramp(256)], profile: [] }] }],
    ] as const) {
      const r = await call(server.url, 'POST', path, body);
      expect(r.status, path).toBe(400);
      expect(r.body.error.code).toBe('KILN_ERR_BAD_REQUEST');
    }
  });
});

describe('kernel timings on the reference device', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ device: referenceDevice() });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers profile: null with the reason, and the outputs as usual', async () => {
    const r = await call(server.url, 'POST', '/run', { ir: SCALE, inputs: [ramp(256)], profile: true });
    expect(r.status).toBe(200);
    expect(r.body.profile).toBeNull();
    expect(r.body.profileUnavailable).toMatch(/reference device does not time kernels/);
    expect(unwire(r.body.outputs[0]).data[100]).toBeCloseTo(3, 6);
    const plain = await call(server.url, 'POST', '/run', { ir: SCALE, inputs: [ramp(256)] });
    expect(Object.keys(plain.body)).toEqual(['outputs']);
    const { body: exe } = await call(server.url, 'POST', '/compile', SCALE);
    const d = await call(server.url, 'GET', `/executables/${exe.id}`);
    expect(d.body.kernelTimes).toBeNull();
    expect(d.body.profiledAt).toBeNull();
  });
});
