/**
 * @file `kiln profile`: the per-kernel rows from a program and its profiles (bytes from the buffer
 * plan, rates, the bound and percent of roofline, checked against hand-computed numbers), and the
 * command on the test adapter (lavapipe in CI, which has timestamp-query): one row per kernel of
 * the compiled program with sane columns (values not timed), and a clear error when the adapter
 * cannot time.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatProfile, H200_PEAKS, profileRows, type KernelRow, type ProfileReport } from '../../cli/profile.js';
import type { Program } from '../../compiler/program.js';
import type { RunProfile } from '../../runtime/device.js';
import { CORPUS_DIR } from '../helpers/corpus.js';

const exec = promisify(execFile);
const CLI = 'dist/cli.js';

async function kiln(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, KILN_DEVICE: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('profile rows', () => {
  const program: Program = {
    buffers: [{ bytes: 4096, role: 'input' }, { bytes: 8192, role: 'input' }, { bytes: 4096, role: 'output' }, { bytes: 1024, role: 'temp' }],
    inputs: [0, 1],
    outputs: [2],
    kernels: [
      { name: 'dot_0', wgsl: '', bindings: [{ buffer: 0, access: 'read' }, { buffer: 1, access: 'read' }, { buffer: 3, access: 'read_write' }], workgroups: [1, 1, 1], flops: 1e6 },
      { name: 'fused_add_0', wgsl: '', bindings: [{ buffer: 3, access: 'read' }, { buffer: 2, access: 'read_write' }], workgroups: [1, 1, 1], flops: 256 },
      { name: 'gather_0', wgsl: '', bindings: [{ buffer: 0, access: 'read' }, { buffer: 2, access: 'read_write' }], workgroups: [1, 1, 1] },
    ],
    steps: [],
  };
  const run = (ms: number[], dispatches = [1, 2, 1]): RunProfile => ({
    executable: 'x', busyMs: ms.reduce((a, b) => a + b, 0), spanMs: 1,
    kernels: ms.map((m, i) => ({ name: program.kernels[i].name, dispatches: dispatches[i], ms: m })), intervals: [],
  });

  it('takes the median time, bytes per dispatch from the bindings, and the roof that limits each kernel', () => {
    const rows = profileRows(program, [run([0.001, 0.004, 0.002]), run([0.003, 0.004, 0.002]), run([0.002, 0.004, 0.002])], H200_PEAKS);
    const [dot, add, gather] = rows;
    // dot: 12 KiB read, 1 KiB written in 2 us; 1e6 FLOPs / 13 KiB is above the ridge (67e12 / 4.8e12).
    expect(dot).toMatchObject({ name: 'dot_0', dispatches: 1, ms: 0.002, bytesRead: 12288, bytesWritten: 1024, flops: 1e6, bound: 'compute' });
    expect(dot.gbps).toBeCloseTo(13312 / 2e-6 / 1e9, 9);
    expect(dot.tflops).toBeCloseTo(1e6 / 2e-6 / 1e12, 12);
    expect(dot.roofline).toBeCloseTo((100 * 0.5) / 67, 9);
    expect(dot.share).toBeCloseTo(0.002 / 0.008, 12);
    // add: two dispatches per run, each reading 1 KiB and writing 4 KiB; memory-bound.
    expect(add).toMatchObject({ dispatches: 2, bytesRead: 2048, bytesWritten: 8192, flops: 512, bound: 'memory' });
    expect(add.roofline).toBeCloseTo((100 * (10240 / 4e-6 / 1e9)) / 4800, 9);
    // gather: no FLOP count, memory-bound by definition.
    expect(gather).toMatchObject({ flops: null, tflops: null, bound: 'memory' });
    const rep: ProfileReport = { adapter: 'GPU X', runs: 3, peaks: { ...H200_PEAKS, source: 'H200 defaults' }, busyMs: 0.008, spanMs: 0.01, kernels: rows };
    const text = formatProfile(rep).split('\n');
    expect(text[2]).toContain('4800 GB/s, 67 TFLOP/s f32 (H200 defaults)');
    expect(text.filter((l) => /^(dot_0|fused_add_0|gather_0) /.test(l))).toHaveLength(3);
  });

  it('refuses an empty profile instead of dividing by nothing', () => {
    expect(() => profileRows(program, [], H200_PEAKS)).toThrow(/no runs/);
  });
});

describe('kiln profile on the test adapter', () => {
  const corpus = (n: string, ext: string) => join(CORPUS_DIR, `${n}.${ext}`);

  it('prints one row per kernel of the compiled program with sane columns', async () => {
    const compiled = await kiln({}, 'compile', corpus('mlp_grad', 'mlir'), '--json');
    expect(compiled.code, compiled.stderr).toBe(0);
    const names = (JSON.parse(compiled.stdout) as { names: string[] }).names;
    const r = await kiln({}, 'profile', corpus('mlp_grad', 'mlir'), '--inputs', corpus('mlp_grad', 'json'), '--runs', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as ProfileReport;
    expect(rep.runs).toBe(2);
    expect(rep.peaks).toMatchObject({ gbps: 4800, tflops: 67 });
    expect(rep.kernels.map((k) => k.name)).toEqual(names);
    for (const k of rep.kernels as KernelRow[]) {
      expect(k.dispatches, k.name).toBeGreaterThanOrEqual(1);
      expect(k.ms, k.name).toBeGreaterThanOrEqual(0);
      expect(k.bytesRead + k.bytesWritten, k.name).toBeGreaterThan(0);
      expect(k.bytesWritten, k.name).toBeGreaterThan(0);
      expect(['memory', 'compute']).toContain(k.bound);
      expect(Number.isFinite(k.roofline) && k.roofline >= 0, k.name).toBe(true);
      expect(k.share, k.name).toBeLessThanOrEqual(1 + 1e-9);
      if (k.name.startsWith('dot')) expect(k.flops, k.name).toBeGreaterThan(0);
    }
    expect(rep.busyMs).toBeGreaterThan(0);

    const text = await kiln({}, 'profile', corpus('softmax', 'mlir'), '--runs', '1', '--peak-gbps', '100', '--peak-tflops', '1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('roofline peaks: 100 GB/s, 1 TFLOP/s f32 (from --peak-gbps / --peak-tflops)');
    // Softmax is one reduce kernel of two stages (max, then the sum of exp), dispatched once.
    expect(text.stdout.split('\n').filter((l) => /^reduce_x2\w* +1 /.test(l))).toHaveLength(1);
  }, 120_000);

  it('says so when the adapter cannot time kernels, and refuses bad numbers', async () => {
    const r = await kiln({ KILN_DISABLE_FEATURES: 'timestamp-query' }, 'profile', corpus('softmax', 'mlir'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kiln profile: the adapter '.*' has no timestamp-query feature/);
    expect(r.stderr).not.toMatch(/internal error/);
    const bad = await kiln({}, 'profile', corpus('softmax', 'mlir'), '--runs', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--runs must be a positive integer, got 0/);
  }, 60_000);
});
