/**
 * @file The bench's pure parts, no GPU: the command line, statistics, the error measure, the
 * float64 references (the MLP step's hand-written gradient against finite differences, the
 * transformer block against a direct special case), and the table and JSON shapes.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../bench/cli.js';
import { withPreciseTimestamps } from '../../bench/env.js';
import { withoutBoundsChecks, withTensorCoreToggles } from '../../runtime/webgpu/adapter.js';
import {
  block64, causalMask, layerNorm64, matmul64, mlpStep64, relError, relErrorAll, softmax64, toF16, uniform, BLOCK_PARAMS,
} from '../../bench/host.js';
import { roundF16 } from '../../ir/dtype.js';
import { formatProfiles, H200_F16_PEAKS, profileSection, rowPeaks, totalsLine, type RowProfile } from '../../bench/profile.js';
import { formatTable, tensorCoreLine, toJson } from '../../bench/report.js';
import { jaxF16Unavailable, type BenchReport, type Row } from '../../bench/run.js';
import type { Program } from '../../compiler/program.js';
import type { RunProfile } from '../../runtime/device.js';
import { H200_PEAKS, profileReport, profileTotals } from '../../runtime/profile-report.js';
import { busyTime, median } from '../../bench/timing.js';
import { selectCases, WORKLOADS } from '../../bench/workloads.js';

describe('command line', () => {
  it('parses flags, with values separate or after =', () => {
    expect(parseArgs([])).toEqual({ json: false, sizes: 'full' });
    expect(parseArgs(['--json', '--sizes', 'smoke', '--only=matmul,softmax', '--reps', '4', '--warmup=0', '--calls', '8', '--no-jax', '--md', 'out.md'])).toEqual({
      json: true, sizes: 'smoke', only: ['matmul', 'softmax'], reps: 4, warmup: 0, calls: 8, noJax: true, markdown: 'out.md',
    });
  });

  it('takes --profile with an optional file: the next argument unless it is a flag, or after =', () => {
    expect(parseArgs(['--profile'])).toEqual({ json: false, sizes: 'full', profile: true });
    expect(parseArgs(['--profile', 'prof.md', '--json'])).toEqual({ json: true, sizes: 'full', profile: true, profileFile: 'prof.md' });
    expect(parseArgs(['--profile', '--json'])).toEqual({ json: true, sizes: 'full', profile: true });
    expect(parseArgs(['--sizes', 'full', '--xla', '--profile=/tmp/p.md', '--md', 't.md'])).toEqual({
      json: false, sizes: 'full', xla: true, profile: true, profileFile: '/tmp/p.md', markdown: 't.md',
    });
    expect(() => parseArgs(['--profile='])).toThrow(/--profile= needs a file name/);
  });

  it('splits --dawn options at commas that start a new key=value', () => {
    expect(parseArgs(['--dawn', 'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia,backend=vulkan']).dawn)
      .toEqual(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia', 'backend=vulkan']);
  });

  it.each([
    [['--sizes', 'huge'], /smoke or full/],
    [['--only', 'matmul,nope'], /unknown workload nope/],
    [['--reps', 'x'], /non-negative integer/],
    [['--fast'], /unknown argument '--fast'/],
  ])('refuses %j', (argv, msg) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(msg);
  });
});

describe('Dawn options', () => {
  it('turns off timestamp quantization, keeping other disabled toggles', () => {
    expect(withPreciseTimestamps([])).toEqual(['disable-dawn-features=timestamp_quantization']);
    expect(withPreciseTimestamps(['backend=vulkan', 'disable-dawn-features=a'])).toEqual(['backend=vulkan', 'disable-dawn-features=a,timestamp_quantization']);
    expect(withPreciseTimestamps(['disable-dawn-features=timestamp_quantization'])).toEqual(['disable-dawn-features=timestamp_quantization']);
  });

  it('enables the tensor-core toggles by default, unless disabled one by one or all with KILN_TENSOR_CORES=0', () => {
    expect(withTensorCoreToggles([], false)).toEqual(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia']);
    expect(withTensorCoreToggles(['enable-dawn-features=x,allow_unsafe_apis'], false))
      .toEqual(['enable-dawn-features=x,allow_unsafe_apis,vulkan_enable_f16_on_nvidia']);
    expect(withTensorCoreToggles(['disable-dawn-features=allow_unsafe_apis'], false))
      .toEqual(['disable-dawn-features=allow_unsafe_apis', 'enable-dawn-features=vulkan_enable_f16_on_nvidia']);
    expect(withTensorCoreToggles(['backend=vulkan'], true)).toEqual(['backend=vulkan']);
  });

  it("turns off Dawn's bounds checks by default, unless KILN_BOUNDS_CHECKS=1 or the options disable that toggle", () => {
    expect(withoutBoundsChecks([], false)).toEqual(['enable-dawn-features=disable_robustness']);
    expect(withoutBoundsChecks(['enable-dawn-features=allow_unsafe_apis'], false)).toEqual(['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
    expect(withoutBoundsChecks(['disable-dawn-features=disable_robustness'], false)).toEqual(['disable-dawn-features=disable_robustness']);
    expect(withoutBoundsChecks(['backend=vulkan'], true)).toEqual(['backend=vulkan']);
  });
});

describe('statistics', () => {
  it('takes the median of odd and even lists without reordering them', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('counts overlapping kernel intervals once', () => {
    expect(busyTime([{ startTime: 0, duration: 2 }, { startTime: 1, duration: 2 }, { startTime: 5, duration: 1 }])).toBe(4);
    expect(busyTime([{ startTime: 3, duration: 1 }, { startTime: 0, duration: 10 }])).toBe(10);
    expect(busyTime([])).toBe(0);
  });

  it('measures error relative to the largest reference value, NaN as infinite', () => {
    expect(relError([1, 2, 4.04], [1, 2, 4])).toBeCloseTo(0.01, 12);
    expect(relError([0, 0], [0, 0])).toBe(0);
    expect(relError([NaN], [1])).toBe(Infinity);
    expect(relError([1, 2], [1])).toBe(Infinity);
    expect(relErrorAll([[1], [2]], [[1], [2.2]])).toBeCloseTo(0.2 / 2.2, 12);
  });
});

describe('float64 references', () => {
  it('multiplies batched matrices', () => {
    // [[1,2],[3,4]] @ [[5,6],[7,8]] and the identity in the second batch.
    expect([...matmul64([1, 2, 3, 4, 1, 0, 0, 1], [5, 6, 7, 8, 9, 8, 7, 6], 2, 2, 2, 2)]).toEqual([19, 22, 43, 50, 9, 8, 7, 6]);
  });

  it('normalizes softmax rows and layer-norm rows', () => {
    const s = softmax64([0, Math.log(3), 1000, 1000], 2, 2);
    expect([...s].map((v) => +v.toFixed(12))).toEqual([0.25, 0.75, 0.5, 0.5]);
    const l = layerNorm64([1, 3, 10, 14], [2, 2], [1, 1], 2, 2, 0);
    expect([...l]).toEqual([-1, 3, -1, 3]);
  });

  it('steps the MLP along the finite-difference gradient of its loss', () => {
    const dims = { batch: 3, din: 4, hidden: 5, dout: 2 };
    const p = {
      w1: Float64Array.from(uniform([4, 5], 1).data), b1: Float64Array.from(uniform([5], 2).data),
      w2: Float64Array.from(uniform([5, 2], 3).data), b2: Float64Array.from(uniform([2], 4).data),
    };
    const x = uniform([3, 4], 5).data, y = uniform([3, 2], 6).data;
    const lr = 0.5;
    const [loss, ...stepped] = mlpStep64(p, x, y, dims, lr);
    const lossAt = (q: typeof p) => mlpStep64(q, x, y, dims, 0)[0][0];
    expect(loss[0]).toBeCloseTo(lossAt(p), 14);
    const h = 1e-6;
    (['w1', 'b1', 'w2', 'b2'] as const).forEach((k, i) => {
      for (let j = 0; j < p[k].length; j++) {
        const plus = { ...p, [k]: p[k].map((v, m) => (m === j ? v + h : v)) };
        const minus = { ...p, [k]: p[k].map((v, m) => (m === j ? v - h : v)) };
        const fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
        expect((p[k][j] - stepped[i][j]) / lr).toBeCloseTo(fd, 6);
      }
    });
  });

  it('reduces the transformer block to its MLP branch when attention and norms are trivial', () => {
    // One position: attention returns v = h @ wv; with wv = 0 that branch is zero, and with
    // gamma = 1, beta = 0 and dim 2, layer norm maps [a, b] (a != b) to [-1, 1] or [1, -1].
    const d = { batch: 1, seq: 1, dim: 2, heads: 1, ff: 1 };
    const p = Object.fromEntries(BLOCK_PARAMS.map((k) => [k, k.startsWith('w') ? [0, 0, 0, 0] : [0, 0]])) as unknown as Record<(typeof BLOCK_PARAMS)[number], number[]>;
    p.g1 = [1, 1]; p.g2 = [1, 1]; p.w1 = [1, 0]; p.b1 = [0]; p.w2 = [2, 3]; p.b2 = [0, 0];
    const x = [0.5, -0.5];
    const out = block64(x, causalMask(1).data, p, d);
    // h2 = layernorm(x) ~ [1, -1]; f1 = gelu(h2 . [1, 0]) = gelu(1); out = x + f1 * [2, 3].
    const g1 = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)));
    expect(out[0]).toBeCloseTo(0.5 + 2 * g1, 3);
    expect(out[1]).toBeCloseTo(-0.5 + 3 * g1, 3);
  });
});

describe('workloads', () => {
  it('has the issue\'s workloads and sizes', () => {
    expect(WORKLOADS.map((w) => w.name)).toEqual([
      'matmul', 'matmul_f16', 'batched_matmul', 'elementwise_chain', 'softmax', 'layernorm', 'mlp_train_step', 'transformer_block', 'tiny_call',
    ]);
    const full = selectCases('full');
    expect(full.filter((c) => c.workload === 'matmul').map((c) => c.size)).toEqual(['1024x1024x1024', '2048x2048x2048', '4096x4096x4096']);
    expect(full.filter((c) => c.workload === 'matmul_f16').map((c) => c.size)).toEqual(['2048x2048x2048', '4096x4096x4096']);
    expect(selectCases('smoke', ['matmul_f16']).map((c) => c.size)).toEqual(['256x256x256']);
    expect(full.find((c) => c.workload === 'elementwise_chain')!.size).toBe('64M');
    expect(full.find((c) => c.workload === 'softmax')!.size).toBe('8192x4096');
    expect(full.find((c) => c.workload === 'mlp_train_step')!.size).toBe('b256 h1024');
    expect(selectCases('smoke', ['softmax']).map((c) => c.size)).toEqual(['256x512']);
    expect(() => selectCases('smoke', ['nope'])).toThrow(/unknown workload/);
  });

  it('makes matmul_f16\'s inputs f16 (exact f16 values) and every other input f32', () => {
    for (const s of selectCases('smoke')) {
      for (const a of s.make().inputs) {
        expect(a.dtype, s.workload).toBe(s.workload === 'matmul_f16' ? 'f16' : undefined);
        if (a.dtype) expect(a.data.every((v) => roundF16(v) === v)).toBe(true);
      }
    }
    // Rounded to nearest, ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10.
    expect([...toF16({ shape: [3], data: Float32Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1) }).data]).toEqual([1, 1 + 2 ** -9, roundF16(0.1)]);
  });

  it('gives every smoke case a float64 reference and the same inputs on every make()', () => {
    for (const s of selectCases('smoke')) {
      const a = s.make(), b = s.make();
      expect(a.reference, s.workload).toBeDefined();
      expect(a.inputs.map((i) => [...i.data.slice(0, 4)])).toEqual(b.inputs.map((i) => [...i.data.slice(0, 4)]));
    }
  });
});

describe('report', () => {
  const row = (over: Partial<Row>): Row => ({
    workload: 'matmul', size: '2x2x2', kiln_ms: 2, jaxjs_ms: 4, speedup: 2, kiln_min_ms: 1.5, jaxjs_min_ms: 3.5,
    kiln_gpu_ms: 1.5, jaxjs_gpu_ms: 3, gpu_speedup: 2, kiln_tflops: 8e-9, jaxjs_tflops: 4e-9,
    check: { kiln_vs_jaxjs: 1e-7, kiln_vs_f64: 2e-7, jaxjs_vs_f64: 1e-7, tol: 1e-4, ok: true }, ...over,
  });
  const rep: BenchReport = {
    adapter: 'GPU X', features: ['shader-f16'], date: '2026-01-02T03:04:05.000Z', node: 'v20.0.0', jaxjs_adapter: 'GPU X', jaxjs_unavailable: null, dawn: [], sizes: 'smoke', timing: 'wall', warmup: 1, reps: 2, calls: 1,
    rows: [
      row({}),
      row({ workload: 'softmax', size: '2x2', kiln_ms: null, speedup: null, kiln_gpu_ms: null, gpu_speedup: null, kiln_tflops: undefined, jaxjs_tflops: undefined, kiln_gbps: null, jaxjs_gbps: 1.5,
        kiln_error: 'DeviceError: boom\nWGSL...', check: { kiln_vs_jaxjs: null, kiln_vs_f64: null, jaxjs_vs_f64: 0, tol: 1e-5, ok: false } }),
    ],
  };

  it('puts the issue\'s keys first in each JSON row and a null speedup where a side is missing', () => {
    const j = JSON.parse(JSON.stringify(toJson(rep)));
    expect(Object.keys(j)[0]).toBe('adapter');
    expect(Object.keys(j.rows[0]).slice(0, 5)).toEqual(['workload', 'size', 'kiln_ms', 'jaxjs_ms', 'speedup']);
    expect(j.rows[0]).toMatchObject({ kiln_ms: 2, jaxjs_ms: 4, speedup: 2, kiln_tflops: 8e-9, kiln_gpu_ms: 1.5, gpu_speedup: 2 });
    expect(j.rows[1]).toMatchObject({ kiln_ms: null, speedup: null, kiln_gbps: null, jaxjs_gbps: 1.5, kiln_error: 'DeviceError: boom\nWGSL...' });
    expect(j.rows[1].kiln_tflops).toBeUndefined();
  });

  it('prints a Markdown table with ratio, throughput and verdict, then the errors', () => {
    const t = formatTable(rep).split('\n');
    expect(t[0]).toBe('adapter: GPU X (jax-js: GPU X)');
    expect(t[1]).toBe('2026-01-02T03:04:05.000Z, Node v20.0.0, kiln device features: shader-f16');
    expect(t[2]).toBe('kiln tensor cores (subgroup matrices, chromium-experimental-subgroup-matrix): no; shader-f16: yes');
    expect(t).toContain('| matmul | 2x2x2 | 2.000 | 4.000 | 2.00x | 8.0e-9 TFLOP/s | 4.0e-9 TFLOP/s | 1.500 | 3.000 | ok (vs jax-js 1.0e-7, vs f64 2.0e-7) |');
    expect(t).toContain('| softmax | 2x2 | - | 4.000 | - | - | 1.5 GB/s | - | 3.000 | kiln failed |');
    expect(t[t.length - 1]).toBe('kiln softmax 2x2: DeviceError: boom');
  });
});

describe('tensor cores in the header', () => {
  it('says whether kiln\'s device has subgroup matrices and shader-f16, in the table and the JSON', () => {
    const features = ['chromium-experimental-subgroup-matrix', 'shader-f16', 'subgroups'];
    expect(tensorCoreLine(features)).toBe('kiln tensor cores (subgroup matrices, chromium-experimental-subgroup-matrix): yes; shader-f16: yes');
    expect(tensorCoreLine([])).toMatch(/: no; shader-f16: no$/);
    const rep = { adapter: 'A', features, date: '', node: '', jaxjs_adapter: null, jaxjs_unavailable: null, dawn: [], sizes: 'smoke', timing: 'wall', warmup: 1, reps: 1, calls: 1, rows: [] } as BenchReport;
    expect(toJson(rep)).toMatchObject({ subgroup_matrices: true, shader_f16: true });
    expect(toJson({ ...rep, features: ['shader-f16'] })).toMatchObject({ subgroup_matrices: false, shader_f16: true });
  });
});

describe('jax-js and f16', () => {
  it('says why jax-js cannot run f16 inputs where there is no Float16Array, and only then', () => {
    const f16 = { inputs: [toF16(uniform([2], 1))] }, f32 = { inputs: [uniform([2], 1)] };
    expect(jaxF16Unavailable(f16, {})).toMatch(/jax-js needs the global Float16Array for float16 arrays, which Node\.js v\d+.* does not have/);
    expect(jaxF16Unavailable(f16, { Float16Array: class {} })).toBeUndefined();
    expect(jaxF16Unavailable(f32, {})).toBeUndefined();
  });
});

describe('--profile sections', () => {
  const program: Program = {
    buffers: [{ bytes: 4096, role: 'input' }, { bytes: 4096, role: 'input' }, { bytes: 4096, role: 'output' }, { bytes: 4096, role: 'temp' }],
    inputs: [0, 1],
    outputs: [2],
    kernels: [
      { name: 'dot_0', wgsl: '', bindings: [{ buffer: 0, access: 'read' }, { buffer: 1, access: 'read' }, { buffer: 3, access: 'read_write' }], workgroups: [1, 1, 1], flops: 1e6 },
      { name: 'fused_add_0', wgsl: '', bindings: [{ buffer: 3, access: 'read' }, { buffer: 2, access: 'read_write' }], workgroups: [1, 1, 1], flops: 1024 },
    ],
    steps: [],
  };
  // The two kernels overlap by 0.001 ms on the GPU: their times sum to more than the busy time.
  const run: RunProfile = {
    executable: 'x', busyMs: 0.005, spanMs: 0.006,
    kernels: [{ name: 'dot_0', dispatches: 1, ms: 0.004 }, { name: 'fused_add_0', dispatches: 2, ms: 0.002 }], intervals: [],
  };
  const report = profileReport('GPU X', program, [run, run], H200_PEAKS, 'test peaks');
  const prof: RowProfile = { ...report, totals: profileTotals(report) };

  it('totals dispatches and kernel time per run beside the busy time', () => {
    expect(prof.totals).toEqual({ dispatches: 3, kernelMs: 0.006, busyMs: 0.005, spanMs: 0.006 });
    expect(totalsLine(prof.totals)).toBe('3 dispatches per run; kernel times summed 0.0060 ms, busy (union of the dispatches) 0.0050 ms (sum / busy 1.20), first dispatch to last 0.0060 ms');
    expect(totalsLine({ dispatches: 1, kernelMs: 0, busyMs: 0, spanMs: 0 })).toMatch(/^1 dispatch per run; .* busy \(union of the dispatches\) 0\.0000 ms, first/);
  });

  it('writes one Markdown section per row: heading, totals, then kiln profile\'s table; or why there is none', () => {
    const rows = [
      { workload: 'matmul', size: '2x2x2', kiln_profile: prof },
      { workload: 'softmax', size: '2x2', kiln_error: 'DeviceError: boom\nWGSL' },
      { workload: 'layernorm', size: '2x2', kiln_profile_error: 'DeviceError: no timestamp-query' },
    ];
    const md = formatProfiles('adapter: GPU X', rows);
    const lines = md.split('\n');
    expect(lines.slice(0, 3)).toEqual(['# kiln per-kernel profiles', '', 'adapter: GPU X']);
    expect(lines.filter((l) => l.startsWith('## '))).toEqual(['## matmul 2x2x2', '## softmax 2x2', '## layernorm 2x2']);
    const section = profileSection(rows[0]).split('\n');
    expect(section[2]).toBe(totalsLine(prof.totals));
    expect(section[4]).toBe('```');
    expect(section[5]).toBe('GPU X');
    expect(section[7]).toContain('4800 GB/s, 67 TFLOP/s f32 (test peaks)');
    const table = section.filter((l) => /^(dot_0|fused_add_0) /.test(l));
    expect(table).toHaveLength(2);
    // dot_0: 8 KiB read, 4 KiB written; fused_add_0 twice: 8 KiB read, 8 KiB written.
    expect(table[0]).toMatch(/^dot_0 +1 +0\.0040 +80\.0 +8\.0 KiB +4\.0 KiB /);
    expect(table[1]).toMatch(/^fused_add_0 +2 +0\.0020 +40\.0 +8\.0 KiB +8\.0 KiB /);
    expect(section[section.length - 2]).toBe('```');
    expect(md).toContain('## softmax 2x2\n\nno profile: kiln failed: DeviceError: boom\n');
    expect(md).toContain('## layernorm 2x2\n\nno profile: DeviceError: no timestamp-query\n');
  });

  it('measures f16 rows against the H200\'s f16 tensor-core peak and says so', () => {
    expect(rowPeaks([uniform([2], 1)]).peaks).toEqual(H200_PEAKS);
    const f16 = rowPeaks([toF16(uniform([2], 1))]);
    expect(f16.peaks).toBe(H200_F16_PEAKS);
    const rep = profileReport('GPU X', program, [run], f16.peaks, f16.source);
    expect(formatProfiles('', [{ workload: 'matmul_f16', size: '2', kiln_profile: { ...rep, totals: profileTotals(rep) } }]))
      .toContain('4800 GB/s, 989 TFLOP/s f16 tensor cores (NVIDIA H200 f16 tensor-core peaks, whatever the adapter)');
    // dot_0 does 1e6 FLOPs on 12 KiB, 81 FLOP/B: above the f32 ridge (67e12 / 4.8e12 = 14), below the f16 one (206).
    expect(report.kernels[0].bound).toBe('compute');
    expect(rep.kernels[0].bound).toBe('memory');
  });

  it('puts the profile in the JSON row', () => {
    const rep = { adapter: 'A', features: [], date: '', node: '', jaxjs_adapter: null, jaxjs_unavailable: null, dawn: [], sizes: 'smoke', timing: 'wall', warmup: 1, reps: 1, calls: 1, profile: true,
      rows: [{ workload: 'matmul', size: '2x2x2', kiln_ms: 1, jaxjs_ms: null, speedup: null, kiln_min_ms: 1, jaxjs_min_ms: null, kiln_gpu_ms: null, jaxjs_gpu_ms: null, gpu_speedup: null,
        check: { kiln_vs_jaxjs: null, kiln_vs_f64: 0, jaxjs_vs_f64: null, tol: 1e-4, ok: true }, kiln_profile: prof }] } as BenchReport;
    const j = JSON.parse(JSON.stringify(toJson(rep)));
    expect(j.profile).toBe(true);
    expect(j.rows[0].kiln_profile.totals).toEqual(prof.totals);
    expect(j.rows[0].kiln_profile.kernels.map((k: { name: string }) => k.name)).toEqual(['dot_0', 'fused_add_0']);
  });
});
