/**
 * @file The matmul autotuner (runtime/webgpu/tuning.ts) on the test adapter (lavapipe in CI):
 * tuning picks one of the candidates and writes the cache file, a second device reads it and
 * times nothing, every candidate tile computes the right product, a corrupt cache is ignored
 * with a warning, and cache keys change with the compiler version.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compile, COMPILER_VERSION } from '../../compiler/compile.js';
import { MATMUL_TILES } from '../../compiler/codegen/tiles.js';
import type { MatmulProblem } from '../../compiler/program.js';
import { hostTensor } from '../../runtime/tensor.js';
import { createWebGPUDevice, type WebGPUDevice, type WebGPUDeviceOptions } from '../../runtime/webgpu/device.js';
import { TUNE_ROUNDS, TileTuner, cacheFile, problemModule, shapeClass, sizeBucket, tuneModeFromEnv, tuningKey } from '../../runtime/webgpu/tuning.js';
import { rng } from '../helpers/rng.js';
import { parse } from './gpu.js';
import { noAdapter } from '../helpers/devices.js';

const [M, K, N] = [70, 48, 96];
const MODULE = `func.func public @main(%a: tensor<${M}x${K}xf32>, %b: tensor<${K}x${N}xf32>) -> tensor<${M}x${N}xf32> {
  %d = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<${M}x${K}xf32>, tensor<${K}x${N}xf32>) -> tensor<${M}x${N}xf32>
  return %d : tensor<${M}x${N}xf32>
}`;

const PROBLEM: MatmulProblem = { kernel: 'tiled', batch: 1, m: M, n: N, k: K, dtypes: ['f32', 'f32', 'f32'], lhs: 'k', rhs: 'n' };

const r = rng(7);
const A = Array.from({ length: M * K }, () => r() * 2 - 1);
const B = Array.from({ length: K * N }, () => r() * 2 - 1);

function expected(): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
    c[i * N + j] = s;
  }
  return c;
}

function maxError(got: ArrayLike<number>): number {
  const want = expected();
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e;
}

const devices: WebGPUDevice[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.destroy();
  vi.restoreAllMocks();
});

async function open(opts: WebGPUDeviceOptions): Promise<WebGPUDevice> {
  const d = await createWebGPUDevice(opts).catch((e: unknown) => { throw noAdapter(e); });
  devices.push(d);
  return d;
}

async function runMatmul(d: WebGPUDevice): Promise<{ out: ArrayLike<number>; wgsl: string }> {
  const exe = d.compile(parse(MODULE));
  const [o] = d.execute(exe, [d.upload(hostTensor('f32', [M, K], A)), d.upload(hostTensor('f32', [K, N], B))]);
  const out = (await d.read(o)).data as ArrayLike<number>;
  // The executable the device now holds for the module (the tuned one after a tuning).
  const again = d.compile(parse(MODULE));
  return { out, wgsl: (again.kernelSources ?? []).map((k) => k.wgsl).join('\n') };
}

describe('matmul tile tuning', () => {
  it('tunes on compile, picks a candidate, writes the cache; a second device reads it and times nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
    const first = await open({ tune: 'tune', cacheDir: dir });
    const a = await runMatmul(first);
    expect(maxError(a.out)).toBeLessThan(1e-4);
    expect(first.tuner.stats.timings).toBeGreaterThanOrEqual(2);
    const file = cacheFile(dir, first.tuner.adapter);
    expect(first.tuner.path).toBe(file);
    expect(existsSync(file)).toBe(true);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const entry = doc.entries[`${COMPILER_VERSION}|${shapeClass(PROBLEM)}`] ?? Object.values(doc.entries)[0];
    expect(Object.keys(doc.entries)).toHaveLength(1);
    expect(entry.candidates.length).toBeGreaterThanOrEqual(2);
    expect(entry.candidates.filter((c: { heuristic: boolean }) => c.heuristic)).toHaveLength(1);
    // The choice is one of the timed candidates, and the fastest of them.
    const times = entry.candidates.map((c: { ms: number }) => c.ms);
    const best = entry.candidates[times.indexOf(Math.min(...times))];
    expect(entry.tile).toEqual(best.tile);
    expect(entry.candidates.map((c: { tile: unknown }) => c.tile)).toContainEqual(entry.tile);

    const second = await open({ tune: 'tune', cacheDir: dir });
    const b = await runMatmul(second);
    expect(second.tuner.stats.timings).toBe(0);
    expect(maxError(b.out)).toBeLessThan(1e-4);
    expect(b.wgsl).toBe(a.wgsl);
    if (entry.tile) {
      expect(second.tuner.stats.hits).toBeGreaterThan(0);
      const t = entry.tile;
      expect(b.wgsl).toContain(`@workgroup_size(${t.bn / t.rn}, ${t.bm / t.rm})`);
    }
    // Read-only mode (the default) uses the cache as well, and off ignores it.
    const reader = await open({ tune: 'read', cacheDir: dir });
    expect((await runMatmul(reader)).wgsl).toBe(a.wgsl);
    expect(reader.tuner.stats.timings).toBe(0);
  }, 120_000);

  it('device.tune reports every dot_general of a module, cached ones without timing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
    const d = await open({ tune: 'read', cacheDir: dir });
    const [res] = await d.tune(parse(MODULE));
    expect(res.cached).toBe(false);
    expect(res.problem).toEqual(PROBLEM);
    expect(res.entry.candidates[res.chosen].tile).toEqual(res.entry.tile);
    const timed = d.tuner.stats.timings;
    expect(timed).toBe(TUNE_ROUNDS * res.entry.candidates.length);
    const [again] = await d.tune(parse(MODULE));
    expect(again.cached).toBe(true);
    expect(d.tuner.stats.timings).toBe(timed);
    await d.tune(parse(MODULE), true);
    expect(d.tuner.stats.timings).toBe(2 * timed);
  }, 120_000);

  it('computes the right product with every candidate tile', async () => {
    const d = await open({ tune: 'off', cacheDir: null });
    const wgsl = new Set<string>();
    for (const tile of MATMUL_TILES) {
      const target = { ...d.target, matmulTile: () => tile };
      const prog = compile(parse(MODULE), target);
      wgsl.add(prog.kernels.map((k) => k.wgsl).join('\n'));
      // Each candidate through the device: a tuner whose cache holds exactly this tile.
      const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
      const t = new TileTuner(d.tuner.adapter, { mode: 'tune', cacheDir: dir });
      writeFileSync(t.path!, JSON.stringify({
        format: 1, adapter: d.tuner.adapter,
        entries: { [`${COMPILER_VERSION}|${shapeClass(PROBLEM)}`]: { kernel: 'tiled', tile, timedOn: '', candidates: [] } },
      }));
      const dev = await open({ tune: 'read', cacheDir: dir });
      const { out, wgsl: used } = await runMatmul(dev);
      expect(used).toContain(`@workgroup_size(${tile.bn / tile.rn}, ${tile.bm / tile.rm})`);
      expect(maxError(out), JSON.stringify(tile)).toBeLessThan(1e-4);
      dev.destroy();
    }
    expect(wgsl.size).toBe(MATMUL_TILES.length);
  }, 180_000);

  it('ignores a corrupt cache file with a warning, and rewrites it when tuning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
    const probe = await open({ tune: 'off', cacheDir: dir });
    const file = cacheFile(dir, probe.tuner.adapter);
    writeFileSync(file, '{"format": 1, "entries": {"broken');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const d = await open({ tune: 'tune', cacheDir: dir });
    expect(warn.mock.calls.some(([m]) => String(m).includes('corrupt tuning cache'))).toBe(true);
    const { out } = await runMatmul(d);
    expect(maxError(out)).toBeLessThan(1e-4);
    expect(d.tuner.stats.timings).toBeGreaterThan(0);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries)).toHaveLength(1);
    // An entry naming a tile outside the table is dropped, not compiled.
    writeFileSync(file, JSON.stringify({ format: 1, adapter: probe.tuner.adapter, entries: { x: { kernel: 'tiled', tile: { bm: 7, bn: 7, bk: 1, rm: 3, rn: 3 } } } }));
    const t = new TileTuner(probe.tuner.adapter, { mode: 'read', cacheDir: dir });
    expect(t.lookup(PROBLEM)).toBeUndefined();
    expect(warn.mock.calls.some(([m]) => String(m).includes("malformed entry 'x'"))).toBe(true);
  }, 120_000);
});

describe('tuning keys', () => {
  it('change with the compiler version, the adapter and the shape class', () => {
    const k1 = tuningKey('adapter A', 'kiln-wgsl-1', PROBLEM);
    expect(tuningKey('adapter A', 'kiln-wgsl-2', PROBLEM)).not.toBe(k1);
    expect(tuningKey('adapter B', 'kiln-wgsl-1', PROBLEM)).not.toBe(k1);
    expect(tuningKey('adapter A', 'kiln-wgsl-1', { ...PROBLEM, k: 4096 })).not.toBe(k1);
    // Sizes in one bucket share a class.
    expect(tuningKey('adapter A', 'kiln-wgsl-1', { ...PROBLEM, m: 65 })).toBe(k1);
    expect([sizeBucket(1), sizeBucket(3), sizeBucket(64), sizeBucket(65)]).toEqual([1, 4, 64, 128]);
  });

  it('an entry cached under another compiler version is not used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
    const old = new TileTuner('adapter A', { mode: 'read', cacheDir: dir, compilerVersion: 'kiln-wgsl-0' });
    writeFileSync(old.path!, JSON.stringify({
      format: 1, adapter: 'adapter A',
      entries: { [`kiln-wgsl-0|${shapeClass(PROBLEM)}`]: { kernel: 'tiled', tile: MATMUL_TILES[2], timedOn: '', candidates: [] } },
    }));
    expect(new TileTuner('adapter A', { mode: 'read', cacheDir: dir, compilerVersion: 'kiln-wgsl-0' }).lookup(PROBLEM)?.tile).toEqual(MATMUL_TILES[2]);
    expect(new TileTuner('adapter A', { mode: 'read', cacheDir: dir }).lookup(PROBLEM)).toBeUndefined();
    expect(new TileTuner('adapter A', { mode: 'off', cacheDir: dir, compilerVersion: 'kiln-wgsl-0' }).lookup(PROBLEM)).toBeUndefined();
  });

  it('KILN_TUNE: unset reads, 1 tunes, 0 is off', () => {
    expect(tuneModeFromEnv(undefined)).toBe('read');
    expect(tuneModeFromEnv('1')).toBe('tune');
    expect(tuneModeFromEnv('0')).toBe('off');
  });

  it('the synthetic module of a problem has its layouts and batch', () => {
    const text = problemModule({ ...PROBLEM, batch: 3, lhs: 'm', rhs: 'k' });
    expect(text).toContain('%a: tensor<3x48x70xf32>, %b: tensor<3x96x48xf32>');
    expect(text).toContain('batching_dims = [0] x [0], contracting_dims = [1] x [2]');
    expect(() => parse(text)).not.toThrow();
  });
});
