/**
 * @file The bench's XLA side without JAX (CI has python3 and numpy, no JAX): the command line, that
 * bench/xla.py's numpy generator gives the same bytes as the bench's own (so XLA's outputs can be
 * checked against the same float64 references), that its output summaries decode on the TS side,
 * the merge of its JSON into the rows (times, ratio, checks, reasons), and the null path when the
 * interpreter has no JAX or does not exist. The real JAX run is on the GPU machine (RESULTS.md).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../bench/cli.js';
import { causalMask, uniform } from '../../bench/host.js';
import { selectCases } from '../../bench/workloads.js';
import { formatTable, toJson } from '../../bench/report.js';
import type { BenchReport, Row } from '../../bench/run.js';
import { decodeOutputs, defaultScript, runXla, summaryError, xlaArgv, xlaColumns, type XlaReport } from '../../bench/xla.js';

const PYTHON = process.env.KILN_PYTHON ?? '/usr/bin/python3';

/** Runs a snippet with bench/xla.py importable as `xla`; returns its stdout. */
function py(code: string): string {
  return execFileSync(PYTHON, ['-c', `import sys; sys.path.insert(0, 'bench'); import xla, numpy as np\n${code}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** Float32Array to the hex of its little-endian bytes. */
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('command line', () => {
  it('takes --xla, the interpreter and the script', () => {
    expect(parseArgs(['--xla', '--xla-python', '/opt/py/bin/python3', '--xla-script=x.py'])).toEqual({
      json: false, sizes: 'full', xla: true, xlaPython: '/opt/py/bin/python3', xlaScript: 'x.py',
    });
    expect(() => parseArgs(['--xla-python', 'python3'])).toThrow(/need --xla/);
    expect(() => parseArgs(['--xla', '--xla-python'])).toThrow(UsageError);
  });

  it('passes the bench\'s sizes, selection and repetition rule to xla.py', () => {
    expect(xlaArgv({ sizes: 'smoke', only: ['matmul', 'softmax'], reps: 3, warmup: 2, warmupMs: 0, calls: 4 }, '/tmp/o.json')).toEqual([
      defaultScript(), '--out', '/tmp/o.json', '--sizes', 'smoke', '--only', 'matmul,softmax', '--reps', '3', '--warmup', '2', '--warmup-ms', '0', '--calls', '4',
    ]);
    expect(defaultScript()).toMatch(/bench\/xla\.py$/);
  });
});

describe('xla.py without JAX', () => {
  it('makes the same input bytes as the bench\'s generator, for every seed and range the workloads use', () => {
    const cases: [number[], number, number, number][] = [
      [[1000], 1, -1, 1], [[33, 7], 7, -3, 5], [[517], 22, -1 / Math.sqrt(768), 1 / Math.sqrt(768)], [[4099], 40, -1, 1], [[1], 13, -0.1, 0.1],
    ];
    const want = cases.map(([shape, seed, lo, hi]) => hex(uniform(shape, seed, lo, hi).data));
    const got = py(cases.map(([shape, seed, lo, hi]) => `print(xla.uniform(${JSON.stringify(shape)}, ${seed}, ${lo}, ${hi}).tobytes().hex())`).join('\n')).trim().split('\n');
    expect(got).toEqual(want);
    expect(py('print(xla.causal_mask(5).tobytes().hex())').trim()).toBe(hex(causalMask(5).data));
  });

  it('has every smoke case of workloads.ts, in order, with the same input shapes, dtypes and bytes', () => {
    const sha = (a: Float32Array) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
    const want = selectCases('smoke').map((s) => {
      const c = s.make();
      return { workload: c.workload, size: c.size, inputs: c.inputs.map((a) => ({ shape: a.shape, dtype: a.dtype ?? 'f32', sha: sha(a.data) })), tiny: c.callsPerSample > 1 };
    });
    const got = JSON.parse(py(`import json, hashlib
print(json.dumps([dict(workload=c.workload, size=c.size, tiny=c.calls_per_sample > 1,
  inputs=[dict(shape=list(a.shape), dtype={'float32': 'f32', 'float16': 'f16'}[str(a.dtype)], sha=hashlib.sha256(np.ascontiguousarray(a, '<f4').tobytes()).hexdigest()) for a in c.inputs()])
  for c in xla.cases('smoke')]))`));
    expect(got).toEqual(want);
    // Full sizes: the same cases and shapes (their bytes are too many to hash here).
    const full = JSON.parse(py("import json; print(json.dumps([[c.workload, c.size] for c in xla.cases('full')]))"));
    expect(full).toEqual(selectCases('full').map((c) => [c.workload, c.size]));
  }, 60_000);

  it('summarizes outputs so that the TS side decodes the same values', () => {
    const out = JSON.parse(py('import json; print(json.dumps(xla.summary([np.array([[1.5, -2], [3, 0.1]], np.float32), np.float32(7)])))'));
    expect(out.map((o: { shape: number[] }) => o.shape)).toEqual([[2, 2], []]);
    expect(out[0].sum).toBeCloseTo(1.5 - 2 + 3 + Math.fround(0.1), 12);
    expect(out[0].abs_sum).toBeCloseTo(1.5 + 2 + 3 + Math.fround(0.1), 12);
    expect(out[0].head).toEqual([1.5, -2, 3, Math.fround(0.1)]);
    expect(decodeOutputs(out)!.map((a) => [...a])).toEqual([[1.5, -2, 3, Math.fround(0.1)], [7]]);
  });

  it('reports why when python3 cannot import JAX, and when the interpreter does not exist', async () => {
    // An interpreter whose `import jax` fails, whatever is installed on this machine.
    const dir = mkdtempSync(join(tmpdir(), 'kiln-nojax-'));
    mkdirSync(join(dir, 'jax'));
    writeFileSync(join(dir, 'jax', '__init__.py'), 'raise ImportError("no JAX in this test")\n');
    const wrapper = join(dir, 'python');
    writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH=${dir} exec ${PYTHON} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const none = await runXla({ python: wrapper, sizes: 'smoke' });
    expect(none).toEqual({ unavailable: expect.stringMatching(/JAX could not be imported by .*ImportError: no JAX in this test/) });
    const missing = await runXla({ python: join(dir, 'nope'), sizes: 'smoke' });
    expect(missing.unavailable).toMatch(/could not run .*nope/);
    const noScript = await runXla({ sizes: 'smoke', script: join(dir, 'absent.py') });
    expect(noScript.unavailable).toMatch(/absent\.py not found/);
  }, 30_000);
});

describe('merging xla.py\'s JSON into the rows', () => {
  const f32 = (xs: number[]) => Float32Array.from(xs);
  const b64 = (xs: number[]) => Buffer.from(f32(xs).buffer).toString('base64');
  const report: XlaReport = {
    jax: '0.11.2', jaxlib: '0.11.2', backend: 'gpu', device: 'NVIDIA H200', platform: 'gpu', python: '3.12.3', b2b_calls: 50,
    rows: [
      { workload: 'matmul', size: '2x2x2', xla_ms: 0.5, xla_min_ms: 0.4, xla_b2b_ms: 0.25, xla_default_ms: 0.3, xla_default_b2b_ms: 0.2,
        outputs: [{ shape: [2, 2], sum: 10, abs_sum: 10, head: [1, 2, 3, 4], data: b64([1, 2, 3, 4.0001]) }] },
      { workload: 'softmax', size: '8x4', xla_ms: 0.125, xla_min_ms: 0.1, xla_b2b_ms: 0.0625,
        outputs: [{ shape: [4], sum: 1.0, abs_sum: 1.0, head: [0.25, 0.25] }] },
      { workload: 'layernorm', size: '8x4', error: 'XlaRuntimeError: RESOURCE_EXHAUSTED: out of memory' },
    ],
  };

  it('adds times, kiln ÷ XLA per call, throughput and XLA\'s errors against f64 and kiln', () => {
    const { columns, check } = xlaColumns({
      workload: 'matmul', kiln_ms: 1, flops: 16, callsPerSample: 1, kilnOutputs: [f32([1, 2, 3, 4])], reference: [[1, 2, 3, 4]],
    }, report.rows![0], report);
    expect(columns).toEqual({
      xla_ms: 0.5, xla_min_ms: 0.4, xla_b2b_ms: 0.25, xla_default_ms: 0.3, xla_default_b2b_ms: 0.2, kiln_vs_xla: 2, xla_tflops: 16 / 0.5e-3 / 1e12,
    });
    expect(check.xla_vs_f64).toBeCloseTo(Math.abs(Math.fround(4.0001) - 4) / 4, 9);
    expect(check.xla_vs_kiln).toBeCloseTo((Math.fround(4.0001) - 4) / Math.fround(4.0001), 12);
  });

  it('compares full-size outputs by their first values and sums', () => {
    const { columns, check } = xlaColumns({ workload: 'softmax', kiln_ms: 0.25, bytes: 1e6, callsPerSample: 1, kilnOutputs: [f32([0.25, 0.25, 0.25, 0.25])] }, report.rows![1], report);
    expect(columns.kiln_vs_xla).toBe(2);
    expect(columns.xla_gbps).toBeCloseTo(1e6 / 0.125e-3 / 1e9, 9);
    expect(columns.xla_default_ms).toBeUndefined();
    expect(check).toEqual({ xla_vs_f64: null, xla_vs_kiln: 0 });
    // A wrong value past the head shows in the sum.
    expect(summaryError([f32([0.25, 0.25, 0.25, 0.35])], report.rows![1].outputs!)).toBeCloseTo(0.1, 6);
    expect(summaryError([f32([0.25, 0.25])], report.rows![1].outputs!)).toBe(Infinity);
  });

  it('leaves the columns null with the reason: a failed row, a missing row, no JAX at all', () => {
    const base = { kiln_ms: 1, callsPerSample: 1, kilnOutputs: [f32([1])] };
    const failed = xlaColumns({ ...base, workload: 'layernorm' }, report.rows![2], report);
    expect(failed.columns).toEqual({ xla_ms: null, xla_min_ms: null, xla_b2b_ms: null, kiln_vs_xla: null, xla_error: 'XlaRuntimeError: RESOURCE_EXHAUSTED: out of memory' });
    expect(failed.check).toEqual({ xla_vs_f64: null, xla_vs_kiln: null });
    expect(xlaColumns({ ...base, workload: 'tiny_call', callsPerSample: 100 }, undefined, report).columns)
      .toEqual({ xla_ms: null, xla_min_ms: null, xla_b2b_ms: null, kiln_vs_xla: null, xla_calls_per_s: null, xla_error: 'xla.py reported no row for this case' });
    const off = xlaColumns({ ...base, workload: 'matmul' }, undefined, { unavailable: 'JAX could not be imported' });
    expect(off.columns).toMatchObject({ xla_ms: null, xla_default_ms: null, kiln_vs_xla: null, xla_error: 'JAX could not be imported' });
  });

  it('shows the XLA columns in the table and the JSON only with --xla', () => {
    const check = { kiln_vs_jaxjs: null, kiln_vs_f64: 2e-7, jaxjs_vs_f64: null, tol: 1e-4, ok: true };
    const row: Row = {
      workload: 'matmul', size: '2x2x2', kiln_ms: 1, jaxjs_ms: null, speedup: null, kiln_min_ms: 1, jaxjs_min_ms: null, kiln_gpu_ms: 0.5,
      jaxjs_gpu_ms: null, gpu_speedup: null, check: { ...check, xla_vs_f64: 2.5e-5, xla_vs_kiln: 2.5e-5 },
      ...xlaColumns({ workload: 'matmul', kiln_ms: 1, callsPerSample: 1 }, report.rows![0], report).columns,
    };
    const rep: BenchReport = {
      adapter: 'GPU X', features: [], date: 'D', node: 'v20', jaxjs_adapter: null, jaxjs_unavailable: 'off', dawn: [], sizes: 'smoke', timing: 'wall', warmup: 1, reps: 1, calls: 1,
      xla: { jax: '0.11.2', jaxlib: '0.11.2', device: 'NVIDIA H200', platform: 'gpu', python: '3.12.3', b2b_calls: 50 }, rows: [row],
    };
    const t = formatTable(rep).split('\n');
    expect(t).toContain('XLA: JAX 0.11.2 on NVIDIA H200 (gpu), Python 3.12.3; f32 matmuls at precision=HIGHEST (DEFAULT = TF32 in its own column), matmul_f16 at DEFAULT (f16 tensor cores); back to back = 50 calls queued, one wait');
    expect(t.find((l) => l.startsWith('| workload'))).toContain('| XLA ms | XLA b2b ms | kiln ÷ XLA (per call) | XLA DEFAULT (TF32) ms / b2b | check |');
    expect(t).toContain('| matmul | 2x2x2 | 1.000 | - | - | - | - | 0.500 | - | 0.500 | 0.250 | 2.00 | 0.300 / 0.200 | ok (vs f64 2.0e-7, XLA vs kiln 2.5e-5, XLA vs f64 2.5e-5) |');
    const j = JSON.parse(JSON.stringify(toJson(rep)));
    expect(j.rows[0]).toMatchObject({ xla_ms: 0.5, xla_b2b_ms: 0.25, kiln_vs_xla: 2, xla_default_ms: 0.3, xla_default_b2b_ms: 0.2 });
    expect(j.rows[0].check).toMatchObject({ xla_vs_kiln: 2.5e-5, xla_vs_f64: 2.5e-5 });
    expect(j.xla.device).toBe('NVIDIA H200');

    const without = formatTable({ ...rep, xla: undefined, rows: [{ ...row, check }] });
    expect(without).not.toContain('XLA');
    const unavailable = formatTable({ ...rep, xla: { unavailable: 'JAX could not be imported' } });
    expect(unavailable).toContain('XLA did not run: JAX could not be imported');
  });
});
