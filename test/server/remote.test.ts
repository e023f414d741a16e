/**
 * @file `connect()`: the client's remote device against a real server on loopback. A jitted
 * training step run remotely equals the local one, and costs one HTTP request a step.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, jit, nn, np, setDefaultDevice, valueAndGrad, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { webgpuDevice } from '../helpers/devices.js';
import { startServer, type TestServer } from './harness.js';

type Params = { w: KArray; b: KArray };

const loss = (p: Params, x: KArray, y: KArray) => nn.crossEntropy(np.add(np.matmul(x, p.w), p.b), y);
const step = jit((p: Params, x: KArray, y: KArray) => {
  const [l, g] = valueAndGrad(loss)(p, x, y) as [KArray, Params];
  return { p: { w: np.subtract(p.w, np.multiply(g.w, 0.5)), b: np.subtract(p.b, np.multiply(g.b, 0.5)) }, loss: l };
});

const X = Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 0.7));
const Y = [0, 1, 2, 0, 1, 2, 0, 1];
const W = Array.from({ length: 4 * 3 }, (_, i) => Math.cos(i) * 0.1);

/** Runs `steps` training steps on the current default device; returns losses and final weights. */
async function train(steps: number, perStep?: () => void) {
  let p: Params = { w: np.array(W, { shape: [4, 3] }), b: np.zeros([3]) };
  const x = np.array(X, { shape: [8, 4] });
  const y = np.array(Y, { dtype: 'i32' });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const out = step(p, x, y) as { p: Params; loss: KArray };
    p.w.dispose(); p.b.dispose();
    p = out.p;
    losses.push(await out.loss.item());
    out.loss.dispose();
    perStep?.();
  }
  return { losses, w: Array.from(await p.w.data()), b: Array.from(await p.b.data()) };
}

let gpu: Device;
let server: TestServer;
beforeAll(async () => {
  gpu = await webgpuDevice();
  server = await startServer({ device: gpu, token: 't0k3n' });
});
afterAll(async () => {
  setDefaultDevice('auto');
  await server?.close();
});

it('a jitted training step through connect() equals the local one, one request a step', async () => {
  setDefaultDevice(gpu);
  const local = await train(5);

  const remote = connect(server.url, { token: 't0k3n' });
  // Its own session, started before the first step so that each step is one request.
  const session = await remote.session();
  expect(server.app.kiln.tenants.list('default').map((s) => s.id)).toContain(session);
  setDefaultDevice(remote);
  const perStep: number[] = [];
  let last = remote.requests;
  const got = await train(5, () => { perStep.push(remote.requests - last); last = remote.requests; });

  expect(got.losses[4]).toBeLessThan(got.losses[0]);
  got.losses.forEach((l, i) => expect(l).toBeCloseTo(local.losses[i], 5));
  got.w.forEach((v, i) => expect(v).toBeCloseTo(local.w[i], 5));
  got.b.forEach((v, i) => expect(v).toBeCloseTo(local.b[i], 5));
  // Every step (upload-free after the first, weights resident) is a single /batch request.
  expect(perStep).toEqual([1, 1, 1, 1, 1]);
  expect((await remote.health()).device.adapter).toBe(gpu.info().adapter);
  // The weights live in the device's session, not the default one; close() frees them all.
  const held = server.app.kiln.tenants.list('default').find((s) => s.id === session)!;
  const kept = held.buffers.size;
  expect(kept).toBeGreaterThan(0);
  expect(server.app.kiln.buffers.size).toBe(0);
  const before = server.app.kiln.tenants.budget.count;
  await remote.close();
  expect(server.app.kiln.tenants.list('default').map((s) => s.id)).not.toContain(session);
  expect(held.buffers.size).toBe(0);
  expect(server.app.kiln.tenants.budget.count).toBe(before - kept);
});
