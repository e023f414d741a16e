/**
 * @file The reference device as `kiln serve` runs it: the interpreter on a worker thread, so an
 * endless loop never blocks /health or /metrics, a client that leaves has its loop stopped at once,
 * and overdue runs are a located 408. Loopback only, loops bounded.
 */
import { narrowData } from '../../runtime/tensor.js';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { hostTensor } from '../../runtime/tensor.js';
import { ENDLESS_WHILE } from '../helpers/programs.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const zero = () => wire(hostTensor('i32', [], [0]));
const f4 = (v: number[]) => wire(hostTensor('f32', [4], v));

let device: ReferenceDevice;
let server: TestServer;

beforeAll(async () => {
  device = new ReferenceDevice({ isolate: true });
  server = await startServer({ device, limits: { executionMs: 60_000, requestMs: 120_000 } });
});
afterAll(async () => {
  await server?.close();
  device?.destroy();
});

const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('an isolated reference device', () => {
  it('computes what the in-process interpreter computes', async () => {
    const r = await call(server.url, 'POST', '/run', { ir: ADD, inputs: [f4([1, 2, 3, 4]), f4([0.5, -2, 30, 1e6])] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual([1.5, 0, 33, 1000004]);
  });

  it('answers /health and /metrics while an endless loop runs, and stops the loop when its client leaves', async () => {
    const ctl = new AbortController();
    const loop = fetch(`${server.url}/run`, {
      method: 'POST', body: encode({ ir: ENDLESS_WHILE, inputs: [zero()] }), headers: { 'content-type': 'application/msgpack' }, signal: ctl.signal,
    }).catch(() => undefined);
    await until('loop running', () => server.app.kiln.work.pending === 1);
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
      expect((await call(server.url, 'GET', '/metrics')).body).toMatch(/^kiln_work_pending 1$/m);
      expect(performance.now() - start).toBeLessThan(2000);
    }
    ctl.abort();
    await loop;
    const start = performance.now();
    const r = await call(server.url, 'POST', '/run', { ir: ADD, inputs: [f4([1, 2, 3, 4]), f4([1, 1, 1, 1])] });
    expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual([2, 3, 4, 5]);
    // Without cancellation it would wait for the loop's 60 s execution limit.
    expect(performance.now() - start).toBeLessThan(30_000);
    expect(server.app.kiln.work.cancelled).toBe(1);
  });

  it('stops an overdue run with a located KILN_ERR_TIMEOUT and keeps serving', async () => {
    const limited = await startServer({ device, limits: { executionMs: 300 } });
    try {
      const r = await call(limited.url, 'POST', '/run', { ir: ENDLESS_WHILE, inputs: [zero()] });
      expect(r.status).toBe(408);
      expect(r.body.error.code).toBe('KILN_ERR_TIMEOUT');
      expect(r.body.error.message).toMatch(/stablehlo\.\w+: the run passed its deadline/);
      const ok = await call(limited.url, 'POST', '/run', { ir: ADD, inputs: [f4([1, 2, 3, 4]), f4([1, 1, 1, 1])] });
      expect(Array.from(narrowData(unwire(ok.body.outputs[0])))).toEqual([2, 3, 4, 5]);
    } finally {
      await limited.close();
    }
  });
});
