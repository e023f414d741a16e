/**
 * @file The server over real HTTP on loopback: every route, the compile cache, resident buffers,
 * batching, concurrency and restarts with a disk cache.
 */
import { ENDLESS_WHILE } from '../helpers/programs.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../runtime/device.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { corpusNames, loadCase, mismatch, TRANSCENDENTAL } from '../helpers/corpus.js';
import { webgpuDevice } from '../helpers/devices.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
// The same program with other names and spacing: same graph hash.
const ADD_RENAMED = `func.func @main(%x: tensor<4xf32>,   %y: tensor<4xf32>) -> tensor<4xf32> {
    %sum = stablehlo.add %x, %y : tensor<4xf32>
    return %sum : tensor<4xf32>
}`;

let device: Device;
let server: TestServer;

beforeAll(async () => {
  device = await webgpuDevice();
  server = await startServer({ device });
});
afterAll(async () => {
  await server?.close();
});

describe('routes', () => {
  it('GET /health names the device and needs no token', async () => {
    const r = await call(server.url, 'GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
    expect(r.body.device.kind).toBe('webgpu');
    expect(typeof r.body.device.adapter).toBe('string');
  });

  it('GET /ops/stablehlo lists supported StableHLO ops', async () => {
    const r = await call(server.url, 'GET', '/ops/stablehlo');
    expect(r.body).toContain('stablehlo.dot_general');
    expect(r.body).toContain('chlo.erf');
  });

  it('POST /compile caches by graph hash, whatever the value names', async () => {
    const a = await call(server.url, 'POST', '/compile', ADD);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ inputs: [{ dtype: 'f32', shape: [4] }, { dtype: 'f32', shape: [4] }], outputs: [{ dtype: 'f32', shape: [4] }] });
    const b = await call(server.url, 'POST', '/compile', ADD);
    const c = await call(server.url, 'POST', '/compile', ADD_RENAMED);
    expect(b.body).toMatchObject({ id: a.body.id, cached: true });
    expect(c.body).toMatchObject({ id: a.body.id, cached: true });
  });

  it('POST /execute, /buffers and kept outputs', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const x = hostTensor('f32', [4], [1, 2, 3, 4]);
    const up = await call(server.url, 'POST', '/buffers', { ...wire(x), handle: 'x-routes' });
    expect(up.body).toEqual({ buffer: 'x-routes', dtype: 'f32', shape: [4] });
    const r = await call(server.url, 'POST', '/execute', { executable: exe.id, inputs: [{ buffer: 'x-routes' }, wire(x)], keep: [true], handles: ['y-routes'] });
    expect(r.status).toBe(200);
    expect(r.body.outputs[0]).toEqual({ buffer: 'y-routes', dtype: 'f32', shape: [4] });
    const y = await call(server.url, 'GET', '/buffers/y-routes');
    expect(Array.from(narrowData(unwire(y.body)))).toEqual([2, 4, 6, 8]);
    expect((await call(server.url, 'DELETE', '/buffers/y-routes')).status).toBe(200);
    expect((await call(server.url, 'GET', '/buffers/y-routes')).status).toBe(404);
  });

  it('POST /batch chains calls through client-chosen handles in one request', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const one = wire(hostTensor('f32', [4], [1, 1, 1, 1]));
    const r = await call(server.url, 'POST', '/batch', {
      calls: [
        { executable: exe.id, inputs: [one, one], keep: [true], handles: ['b0'] },
        { executable: exe.id, inputs: [{ buffer: 'b0' }, { buffer: 'b0' }], keep: [true], handles: ['b1'] },
        { ir: ADD_RENAMED, inputs: [{ buffer: 'b1' }, one] },
      ],
      free: ['b0', 'b1'],
    });
    expect(r.status).toBe(200);
    expect(Array.from(narrowData(unwire(r.body.results[2].outputs[0])))).toEqual([5, 5, 5, 5]);
    expect((await call(server.url, 'GET', '/buffers/b0')).status).toBe(404);
  });

  it('POST /batch uploads, runs, fetches and frees in one request', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const r = await call(server.url, 'POST', '/batch', {
      uploads: [{ ...wire(hostTensor('f32', [4], [1, 2, 3, 4])), handle: 'u0' }],
      calls: [{ executable: exe.id, inputs: [{ buffer: 'u0' }, { buffer: 'u0' }], keep: [true], handles: ['u1'] }],
      fetch: ['u1'],
      free: ['u0', 'u1'],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Array.from(narrowData(unwire(r.body.fetched.u1)))).toEqual([2, 4, 6, 8]);
    expect((await call(server.url, 'GET', '/buffers/u0')).status).toBe(404);
  });

  it('GET /executables and /executables/:id show IR, kernels and timings', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const list = await call(server.url, 'GET', '/executables');
    expect(list.body.map((e: { id: string }) => e.id)).toContain(exe.id);
    const one = await call(server.url, 'GET', `/executables/${exe.id}`);
    expect(one.body.ir).toContain('stablehlo.add');
    expect(one.body.runs).toBeGreaterThan(0);
    expect(one.body.wgsl.length).toBe(one.body.kernels);
    expect(one.body.latencyMs.p50).toBeGreaterThan(0);
  });

  it('GET /metrics speaks Prometheus', async () => {
    const r = await call(server.url, 'GET', '/metrics');
    expect(r.body).toMatch(/^# HELP kiln_requests_total/m);
    expect(r.body).toMatch(/^kiln_compiles_total \d+$/m);
    expect(r.body).toMatch(/^kiln_executions_total \d+$/m);
  });
});

describe('corpus through the server', () => {
  for (const name of corpusNames()) {
    it(`${name} via POST /run`, async () => {
      const c = loadCase(name);
      const r = await call(server.url, 'POST', '/run', { ir: c.text, inputs: c.inputs.map(wire) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const rtol = TRANSCENDENTAL.has(name) ? 1e-3 : 1e-4;
      r.body.outputs.forEach((o: unknown, i: number) => expect(mismatch(unwire(o), c.outputs[i], rtol)).toBeUndefined());
    });
  }
});

describe('load', () => {
  it('1,000 executes on resident weights never recompile', async () => {
    const c = loadCase('mlp_forward');
    const { body: exe } = await call(server.url, 'POST', '/compile', c.text);
    for (const [i, t] of c.inputs.slice(1).entries()) {
      await call(server.url, 'POST', '/buffers', { ...wire(t), handle: `w${i}` });
    }
    const before = server.app.kiln.cache.compiles;
    const x = wire(c.inputs[0]);
    const inputs = [x, { buffer: 'w0' }, { buffer: 'w1' }, { buffer: 'w2' }, { buffer: 'w3' }];
    for (let i = 0; i < 1000; i++) {
      const r = await call(server.url, 'POST', '/execute', { executable: exe.id, inputs });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      if (i === 999) expect(mismatch(unwire(r.body.outputs[0]), c.outputs[0])).toBeUndefined();
    }
    expect(server.app.kiln.cache.compiles).toBe(before);
  });

  it('64 concurrent clients each get their own results', async () => {
    const replies = await Promise.all(Array.from({ length: 64 }, async (_, k) => {
      const a = hostTensor('f32', [4], [k, k + 1, k + 2, k + 3]);
      const b = hostTensor('f32', [4], [1000 * k, 0, -k, 0.5]);
      const r = await call(server.url, 'POST', '/run', { ir: k % 2 ? ADD : ADD_RENAMED, inputs: [wire(a), wire(b)] });
      return { k, r };
    }));
    for (const { k, r } of replies) {
      expect(r.status).toBe(200);
      expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual([k + 1000 * k, k + 1, k + 2 - k, k + 3 + 0.5]);
    }
  });
});

describe('limits on the GPU', () => {
  it('stops an endless while loop with KILN_ERR_TIMEOUT and keeps serving', async () => {
    const limited = await startServer({ device, limits: { executionMs: 500 } });
    try {
      const r = await call(limited.url, 'POST', '/run', { ir: ENDLESS_WHILE, inputs: [wire(hostTensor('i32', [], [0]))] });
      expect(r.status).toBe(408);
      expect(r.body.error.code).toBe('KILN_ERR_TIMEOUT');
      const ok = await call(limited.url, 'POST', '/run', { ir: ADD, inputs: [wire(hostTensor('f32', [4], [1, 2, 3, 4])), wire(hostTensor('f32', [4], [1, 1, 1, 1]))] });
      expect(Array.from(narrowData(unwire(ok.body.outputs[0])))).toEqual([2, 3, 4, 5]);
    } finally {
      await limited.close();
    }
  });
});

describe('restart with a disk cache', () => {
  it('answers the first compile of a known program as cached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
    const first = await startServer({ device, cacheDir: dir });
    const a = await call(first.url, 'POST', '/compile', ADD);
    expect(a.body.cached).toBe(false);
    await first.close();
    const second = await startServer({ device, cacheDir: dir });
    const b = await call(second.url, 'POST', '/compile', ADD_RENAMED);
    expect(b.body).toMatchObject({ id: a.body.id, cached: true });
    const e = await call(second.url, 'GET', `/executables/${a.body.id}`);
    expect(e.status).toBe(200);
    await second.close();
  });
});
