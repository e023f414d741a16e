/**
 * @file The bench at smoke sizes on the software adapter, as CI runs it: every workload runs on
 * kiln and on jax-js, and their results agree with each other and with the float64 host reference.
 * Not a timed test: the times only have to exist. Then the bundled CLI (`dist/bench.js`, as the GPU
 * machine runs it) must print exactly one JSON object on stdout and import no package but webgpu
 * and @jax-js/jax; with `--xla` and no Python it still runs, the XLA columns null with the reason;
 * with `--profile FILE` each kiln row carries its per-kernel profile.
 * Without an adapter these tests fail: a skipped GPU test does not exist.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { jaxF16Unavailable, runBench, type BenchReport, type Row } from '../../bench/run.js';
import { selectCases } from '../../bench/workloads.js';

const run = promisify(execFile);

/** Why jax-js cannot run this row here (f16 without Float16Array), else undefined: then it must run. */
function jaxCannot(r: Row): string | undefined {
  const c = selectCases('smoke', [r.workload]).find((s) => s.size === r.size)!.make();
  return jaxF16Unavailable(c);
}

describe('bench --sizes smoke', () => {
  let report: BenchReport;
  beforeAll(async () => {
    report = await runBench({ sizes: 'smoke', reps: 2, warmup: 1 });
  }, 240_000);

  it('runs every smoke case, in order', () => {
    const want = selectCases('smoke').map((c) => `${c.workload} ${c.size}`);
    expect(report.rows.map((r) => `${r.workload} ${r.size}`)).toEqual(want);
    expect(new Set(report.rows.map((r) => r.workload)).size).toBe(9);
  });

  it('runs jax-js on the same adapter as kiln', () => {
    expect(report.jaxjs_unavailable).toBeNull();
    expect(report.jaxjs_adapter).toBe(report.adapter);
  });

  it('times every row on both libraries', () => {
    for (const r of report.rows) {
      const where = `${r.workload} ${r.size}: ${r.kiln_error ?? r.jaxjs_error ?? ''}`;
      expect(r.kiln_error, where).toBeUndefined();
      expect(r.kiln_ms, where).toBeGreaterThan(0);
      const cannot = jaxCannot(r);
      if (cannot) {
        expect(r.jaxjs_error, where).toBe(cannot);
        expect(r.jaxjs_ms, where).toBeNull();
        continue;
      }
      expect(r.jaxjs_error, where).toBeUndefined();
      expect(r.jaxjs_ms, where).toBeGreaterThan(0);
      expect(r.speedup, where).toBeCloseTo(r.jaxjs_ms! / r.kiln_ms!, 10);
    }
  });

  it('gets results that agree between kiln, jax-js and float64', () => {
    for (const r of report.rows) {
      const where = `${r.workload} ${r.size}: ${JSON.stringify(r.check)} ${r.kiln_error ?? ''}`;
      expect(r.check.kiln_vs_f64, where).not.toBeNull();
      if (!jaxCannot(r)) {
        expect(r.check.kiln_vs_jaxjs, where).not.toBeNull();
        expect(r.check.jaxjs_vs_f64, where).not.toBeNull();
        expect(r.check.kiln_vs_jaxjs!, where).toBeLessThanOrEqual(r.check.tol);
      }
      expect(r.check.kiln_vs_f64!, where).toBeLessThanOrEqual(r.check.tol);
      expect(r.check.ok, where).toBe(true);
    }
  });

  it('reports throughput in the unit of each row', () => {
    const by = (w: string) => report.rows.find((r) => r.workload === w)!;
    expect(by('matmul').kiln_tflops).toBeGreaterThan(0);
    expect(by('matmul_f16').kiln_tflops).toBeGreaterThan(0);
    expect(by('softmax').kiln_gbps).toBeGreaterThan(0);
    expect(by('tiny_call').kiln_calls_per_s).toBeCloseTo(1000 / by('tiny_call').kiln_ms!, 6);
  });
});

describe('bundled bench CLI', () => {
  beforeAll(() => {
    execFileSync('node', ['scripts/build.mjs', '--bench', '--fast'], { stdio: 'pipe' });
  }, 120_000);

  it('imports only Node built-ins, webgpu and @jax-js/jax', () => {
    const js = readFileSync('dist/bench.js', 'utf8');
    const specifiers = new Set<string>();
    // esbuild prints static imports at the start of a line and every specifier in double quotes.
    for (const m of js.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm)) specifiers.add(m[1]);
    for (const m of js.matchAll(/\b(?:import|require)\("([^"]+)"\)/g)) specifiers.add(m[1]);
    const packages = [...specifiers].filter((s) => !s.startsWith('node:') && !s.startsWith('.') && !['util', 'os', 'fs', 'path', 'crypto', 'url', 'module', 'events', 'stream', 'buffer', 'assert'].includes(s));
    expect(packages.sort()).toEqual(['@jax-js/jax', 'webgpu']);
  });

  it('prints exactly one JSON object on stdout with --json', async () => {
    const md = join(mkdtempSync(join(tmpdir(), 'kiln-bench-')), 'table.md');
    // The status says whether checks passed (the test above covers that); stdout must be JSON either way.
    const { stdout } = await run('node', ['dist/bench.js', '--json', '--sizes', 'smoke', '--only', 'tiny_call,matmul', '--reps', '1', '--warmup', '1', '--md', md], {
      timeout: 120_000, maxBuffer: 1 << 24,
    }).catch((e: { stdout: string }) => e);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(typeof out.adapter).toBe('string');
    expect(out.rows.map((r: { workload: string }) => r.workload)).toEqual(['matmul', 'matmul', 'tiny_call']);
    for (const r of out.rows) {
      expect(Object.keys(r).slice(0, 5)).toEqual(['workload', 'size', 'kiln_ms', 'jaxjs_ms', 'speedup']);
      expect(r.kiln_ms).toBeGreaterThan(0);
      // speedup is rounded to 4 significant digits (relative error up to 5e-4) from unrounded times.
      expect(Math.abs(r.speedup / (r.jaxjs_ms / r.kiln_ms) - 1)).toBeLessThan(6e-4);
    }
    const table = readFileSync(md, 'utf8');
    expect(table).toContain(`adapter: ${out.adapter}`);
    expect(table.split('\n').filter((l) => /^\| (matmul|tiny_call) \|/.test(l))).toHaveLength(3);
  }, 150_000);

  it('with --profile FILE, writes each kiln row\'s per-kernel table and puts it in the JSON rows', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-bench-prof-')), 'profile.md');
    const { stdout } = await run('node', ['dist/bench.js', '--json', '--sizes', 'smoke', '--only', 'matmul_f16,softmax', '--no-jax', '--reps', '2', '--warmup', '1', '--profile', file], {
      timeout: 120_000, maxBuffer: 1 << 24,
    });
    const out = JSON.parse(stdout);
    expect(out.profile).toBe(true);
    expect(out.shader_f16).toBe(out.features.includes('shader-f16'));
    const md = readFileSync(file, 'utf8');
    expect(md).toContain(`adapter: ${out.adapter}`);
    for (const r of out.rows) {
      const p = r.kiln_profile;
      expect(p, `${r.workload}: ${r.kiln_profile_error}`).toBeDefined();
      expect(p.runs).toBe(2);
      expect(p.kernels.length).toBeGreaterThan(0);
      expect(p.totals.dispatches).toBe(p.kernels.reduce((n: number, k: { dispatches: number }) => n + k.dispatches, 0));
      expect(p.totals.busyMs).toBeGreaterThan(0);
      expect(p.totals.kernelMs).toBeGreaterThanOrEqual(p.totals.busyMs * (1 - 1e-9));
      for (const k of p.kernels) expect(k.bytesRead + k.bytesWritten, k.name).toBeGreaterThan(0);
      const section = md.slice(md.indexOf(`## ${r.workload} ${r.size}`));
      expect(section, r.workload).toMatch(/^## .*\n\n\d+ dispatch(es)? per run; kernel times summed /);
      for (const k of p.kernels) expect(section).toContain(`\n${k.name} `);
    }
    // matmul_f16: f16 operands and output (2 bytes a value) in one matmul kernel, against the f16 peak.
    const f16 = out.rows.find((r: { workload: string }) => r.workload === 'matmul_f16').kiln_profile;
    expect(f16.peaks).toMatchObject({ tflops: 989, flops: 'f16 tensor cores' });
    const dot = f16.kernels.find((k: { flops: number | null }) => k.flops !== null && k.flops >= 2 * 256 ** 3);
    expect(dot).toMatchObject({ bytesRead: 2 * 256 * 256 * 2, bytesWritten: 256 * 256 * 2 });
  }, 150_000);

  it('with --xla and no usable Python, still runs and leaves the XLA columns null with the reason', async () => {
    const { stdout } = await run('node', ['dist/bench.js', '--json', '--sizes', 'smoke', '--only', 'tiny_call', '--no-jax', '--reps', '1', '--warmup', '1', '--xla', '--xla-python', '/nonexistent/python3'], {
      timeout: 120_000, maxBuffer: 1 << 24,
    });
    const out = JSON.parse(stdout);
    expect(out.xla.unavailable).toMatch(/could not run \/nonexistent\/python3/);
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ xla_ms: null, xla_b2b_ms: null, kiln_vs_xla: null, xla_error: out.xla.unavailable });
    expect(out.rows[0].kiln_ms).toBeGreaterThan(0);
    expect(out.rows[0].check.ok).toBe(true);
  }, 150_000);

  it('merges an earlier xla.py JSON with --xla-json, and says why when it cannot read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-xla-'));
    const file = join(dir, 'xla.json');
    // As xla.py writes it: the tiny call's first output (x * 2 + 1 of its 8 inputs) whole.
    const x = selectCases('smoke', ['tiny_call'])[0].make().inputs[0].data;
    const y = Float32Array.from(x, (v) => v * 2 + 1);
    writeFileSync(file, JSON.stringify({
      jax: '0.11.2', device: 'NVIDIA H200', platform: 'gpu', python: '3.12', b2b_calls: 50,
      rows: [{ workload: 'tiny_call', size: 'f32[8]', xla_ms: 0.04, xla_min_ms: 0.03, xla_b2b_ms: 0.035,
        outputs: [{ shape: [8], sum: 0, abs_sum: 1, head: [], data: Buffer.from(y.buffer).toString('base64') }] }],
    }));
    const args = ['dist/bench.js', '--json', '--sizes', 'smoke', '--only', 'tiny_call', '--no-jax', '--reps', '1', '--warmup', '1'];
    const merged = JSON.parse((await run('node', [...args, '--xla-json', file], { timeout: 120_000 })).stdout);
    expect(merged.rows[0]).toMatchObject({ xla_ms: 0.04, xla_b2b_ms: 0.035 });
    expect(Math.abs(merged.rows[0].kiln_vs_xla / (merged.rows[0].kiln_ms / 0.04) - 1)).toBeLessThan(6e-4);
    expect(merged.rows[0].check.xla_vs_f64).toBeLessThan(1e-6);
    expect(merged.rows[0].check.xla_vs_kiln).toBeLessThan(1e-6);
    const missing = JSON.parse((await run('node', [...args, '--xla-json', join(dir, 'none.json')], { timeout: 120_000 })).stdout);
    expect(missing.xla.unavailable).toMatch(/--xla-json .*none\.json: ENOENT/);
    expect(missing.rows[0].xla_ms).toBeNull();
  }, 150_000);

  it('refuses an unknown workload with status 2', async () => {
    const e = await run('node', ['dist/bench.js', '--only', 'nope']).then(() => null, (err: { code: number; stderr: string }) => err);
    expect(e?.code).toBe(2);
    expect(e?.stderr).toMatch(/unknown workload nope/);
  });
});
