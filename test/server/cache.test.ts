/**
 * @file Honest caches (issue 15): cache files are trusted only when the hash of their canonical
 * text is their name (a different program or garbage under an id is deleted with a warning, never
 * served), DELETE deletes the disk copy too, and evicting or deleting a program frees the device's
 * executable (its GPU buffers and pipelines), with the LRU sized by an estimate of real bytes.
 */
import { narrowData } from '../../runtime/tensor.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashModule } from '../../ir/hash.js';
import { hostTensor } from '../../runtime/tensor.js';
import type { WebGPUDevice } from '../../runtime/webgpu/device.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const MUL = ADD.replace('stablehlo.add', 'stablehlo.multiply');
const SUB = ADD.replace('stablehlo.add', 'stablehlo.subtract');
const inputs = [wire(hostTensor('f32', [4], [1, 2, 3, 4])), wire(hostTensor('f32', [4], [10, 20, 30, 40]))];

/** Warnings emitted while `f` runs. */
async function warnings<T>(f: () => Promise<T>): Promise<{ value: T; warned: string[] }> {
  const warned: string[] = [];
  const on = (w: Error) => { if (w.name === 'KilnCacheWarning') warned.push(w.message); };
  process.on('warning', on);
  try {
    const value = await f();
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    return { value, warned };
  } finally {
    process.off('warning', on);
  }
}

describe('cache files are verified', () => {
  let dir: string;
  let addId: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
    const first = await startServer({ device: referenceDevice(), cacheDir: dir });
    addId = (await call(first.url, 'POST', '/compile', ADD)).body.id;
    await first.close();
    server = await startServer({ device: referenceDevice(), cacheDir: dir });
  });
  afterAll(async () => {
    await server?.close();
  });

  const file = () => join(dir, `${addId}.mlir`);

  it('keeps the canonical text under its hash, and knows it after a restart', async () => {
    expect(readFileSync(file(), 'utf8')).toContain('stablehlo.add');
    const again = await startServer({ device: referenceDevice(), cacheDir: dir });
    try {
      expect((await call(again.url, 'POST', '/compile', ADD)).body).toMatchObject({ id: addId, cached: true });
    } finally {
      await again.close();
    }
  });

  it('never serves another valid program saved under an id, and rebuilds from the real one', async () => {
    writeFileSync(file(), MUL);
    const { value: r, warned } = await warnings(() => call(server.url, 'POST', '/execute', { executable: addId, inputs }));
    expect(r.status).toBe(404);
    expect(warned.join('\n')).toMatch(new RegExp(`${addId}\\.mlir holds a program whose hash is [0-9a-f]{64}; deleted`));
    expect(existsSync(file())).toBe(false);
    // Poisoned again, then the real program is compiled: the file is replaced, the results are ADD's.
    writeFileSync(file(), MUL);
    const { value: c, warned: w2 } = await warnings(() => call(server.url, 'POST', '/compile', ADD));
    expect(c.body).toMatchObject({ id: addId, cached: false });
    expect(w2.join('\n')).toMatch(/holds another program than its name says/);
    expect(readFileSync(file(), 'utf8')).toContain('stablehlo.add');
    const run = await call(server.url, 'POST', '/execute', { executable: addId, inputs });
    expect(Array.from(narrowData(unwire(run.body.outputs[0])))).toEqual([11, 22, 33, 44]);
  });

  it('deletes a garbage file with a warning instead of an error naming the server\'s file', async () => {
    const fresh = await startServer({ device: referenceDevice(), cacheDir: dir });
    try {
      writeFileSync(file(), 'this is not StableHLO {{{');
      const { value: r, warned } = await warnings(() => call(fresh.url, 'GET', `/executables/${addId}`));
      expect(r.status).toBe(404);
      expect(JSON.stringify(r.body)).not.toContain(dir);
      expect(warned.join('\n')).toMatch(/does not parse/);
      expect(existsSync(file())).toBe(false);
      expect((await call(fresh.url, 'POST', '/compile', ADD)).body).toMatchObject({ id: addId, cached: false });
      expect(fresh.app.kiln.cache.rejectedFiles).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('DELETE deletes the disk copy: a restarted server does not know the program', async () => {
    await call(server.url, 'POST', '/compile', ADD);
    expect(existsSync(file())).toBe(true);
    expect((await call(server.url, 'DELETE', `/executables/${addId}`)).status).toBe(200);
    expect(existsSync(file())).toBe(false);
    expect((await call(server.url, 'GET', `/executables/${addId}`)).status).toBe(404);
    expect((await call(server.url, 'POST', '/execute', { executable: addId, inputs })).status).toBe(404);
    expect((await call(server.url, 'DELETE', `/executables/${addId}`)).status).toBe(404);
    const again = await startServer({ device: referenceDevice(), cacheDir: dir });
    try {
      expect((await call(again.url, 'POST', '/compile', ADD)).body).toMatchObject({ id: addId, cached: false });
    } finally {
      await again.close();
    }
  });
});

describe('eviction frees the device executable', () => {
  let gpu: WebGPUDevice;
  beforeAll(async () => {
    gpu = await webgpuDevice();
  });

  it('counts a tiny program by what it holds, not 231 bytes', async () => {
    const s = await startServer({ device: gpu });
    try {
      // (Not ADD: a compile the device still counts would keep ADD alive in the next test.)
      await call(s.url, 'POST', '/compile', ADD.replace('stablehlo.add', 'stablehlo.maximum'));
      expect(s.app.kiln.cache.bytes).toBeGreaterThan(64 << 10);
      expect((await call(s.url, 'GET', '/metrics')).body).toMatch(/^kiln_executable_bytes \d{5,}$/m);
    } finally {
      await s.close();
    }
  });

  it('an evicted or deleted program is destroyed on the device and compiled afresh when it comes back', async () => {
    // Room for one program: each compile evicts the one before.
    const s = await startServer({ device: gpu, limits: { cacheBytes: 1 } });
    try {
      const add = (await call(s.url, 'POST', '/compile', ADD)).body.id;
      const addExe = s.app.kiln.cache.get(add)!.exe;
      await call(s.url, 'POST', '/compile', MUL);
      expect(s.app.kiln.cache.size).toBe(1);
      expect(s.app.kiln.cache.list()[0].id).not.toBe(add);
      // The device gave up its executable: running the old object fails, compiling again builds anew.
      const [out] = gpu.execute(addExe, [gpu.upload(hostTensor('f32', [4], [1, 2, 3, 4])), gpu.upload(hostTensor('f32', [4], [1, 1, 1, 1]))]);
      await expect(gpu.read(out)).rejects.toThrow(/destroyed/);
      const compiles = gpu.stats.compiles;
      const r = await call(s.url, 'POST', '/run', { ir: ADD, inputs });
      expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual([11, 22, 33, 44]);
      expect(gpu.stats.compiles).toBe(compiles + 1);
      // DELETE gives it back as well.
      const sub = (await call(s.url, 'POST', '/compile', SUB)).body.id;
      const subExe = s.app.kiln.cache.get(sub)!.exe;
      expect((await call(s.url, 'DELETE', `/executables/${sub}`)).status).toBe(200);
      const [o2] = gpu.execute(subExe, [gpu.upload(hostTensor('f32', [4], [1, 2, 3, 4])), gpu.upload(hostTensor('f32', [4], [1, 1, 1, 1]))]);
      await expect(gpu.read(o2)).rejects.toThrow(/destroyed/);
    } finally {
      await s.close();
    }
  });
});

describe('one hash per module', () => {
  it('the server gives the device the graph hash it computed, so nothing hashes the module again', async () => {
    const device = referenceDevice();
    const seen: { hash: string; given: string | undefined }[] = [];
    const compile = device.compile.bind(device);
    device.compile = (m, given) => {
      seen.push({ hash: hashModule(m), given });
      return compile(m, given);
    };
    const server = await startServer({ device });
    try {
      const id = (await call(server.url, 'POST', '/compile', ADD)).body.id;
      expect(seen).toEqual([{ hash: id, given: id }]);
    } finally {
      await server.close();
    }
  });
});
