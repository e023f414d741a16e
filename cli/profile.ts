/**
 * @file `kiln profile MODULE.mlir [--inputs ...] [--runs N] [--peak-gbps G] [--peak-tflops T]
 * [--json]`: runs a module on the WebGPU device with kiln's profiler on (timestamps around every
 * dispatch, runtime/webgpu/executor.ts) and prints one row per kernel: its GPU time (median over the
 * runs), the bytes it moves by its buffer plan, its FLOP rate, and how close it comes to the
 * roofline of the peaks given (H200 defaults), as the memory or the compute bound that limits it.
 */
import { DeviceError, InputError } from '../ir/errors.js';
import { isSupportedDType, roundBf16 } from '../ir/dtype.js';
import { formatType, mainFunc, numElements, type Module, type TensorType } from '../ir/types.js';
import type { Program } from '../compiler/program.js';
import type { RunProfile } from '../runtime/device.js';
import { hostTensor, type HostTensor } from '../runtime/tensor.js';

/** NVIDIA H200 (SXM): HBM3e bandwidth and dense f32 (non-tensor-core) peak, from NVIDIA's datasheet. */
export const H200_PEAKS = { gbps: 4800, tflops: 67 } as const;

export interface ProfileOptions {
  /** The entry function's arguments; default: seeded values of its types (see {@link syntheticInputs}). */
  inputs?: HostTensor[];
  /** Profiled runs after one warm-up run (default 10). */
  runs: number;
  peakGbps: number;
  peakTflops: number;
  json: boolean;
}

/** One kernel of the profile. Per run: a kernel inside a loop counts all its dispatches. */
export interface KernelRow {
  name: string;
  /** Dispatches per run. */
  dispatches: number;
  /** GPU time per run, median over the runs, ms. */
  ms: number;
  /** Share of the run's busy time. */
  share: number;
  /** Bytes of the buffers it binds read-only (read) and read-write (written), per run. */
  bytesRead: number;
  bytesWritten: number;
  /** FLOPs per run (compiler/work.ts); null where the compiler did not count them. */
  flops: number | null;
  gbps: number;
  tflops: number | null;
  /** Which roof limits the kernel: arithmetic intensity below the ridge point is memory-bound. */
  bound: 'memory' | 'compute';
  /** Achieved rate over the peak of that bound, percent. */
  roofline: number;
}

export interface ProfileReport {
  adapter: string;
  runs: number;
  peaks: { gbps: number; tflops: number; source: string };
  /** Median busy and span time of a run (see `RunProfile`), ms. */
  busyMs: number;
  spanMs: number;
  kernels: KernelRow[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The table's rows from a program and the profiles of its runs: times from the profiler, bytes from
 * each kernel's bindings (a read binding is read whole, a read_write binding written whole: the
 * buffer plan's view, which counts neither caches nor partial reads), FLOPs from the compiler.
 */
export function profileRows(program: Program, runs: readonly RunProfile[], peaks: { gbps: number; tflops: number }): KernelRow[] {
  if (runs.length === 0) throw new DeviceError('kiln profile: the profiler returned no runs');
  const busy = median(runs.map((r) => r.busyMs));
  return program.kernels.map((k, i) => {
    const dispatches = median(runs.map((r) => r.kernels[i]?.dispatches ?? 0));
    const ms = median(runs.map((r) => r.kernels[i]?.ms ?? 0));
    let read = 0, written = 0;
    for (const b of k.bindings) {
      if (b.access === 'read') read += program.buffers[b.buffer].bytes;
      else written += program.buffers[b.buffer].bytes;
    }
    const bytesRead = read * dispatches, bytesWritten = written * dispatches;
    const flops = k.flops === undefined ? null : k.flops * dispatches;
    const sec = ms / 1e3;
    const gbps = sec > 0 ? (bytesRead + bytesWritten) / sec / 1e9 : 0;
    const tflops = flops === null ? null : sec > 0 ? flops / sec / 1e12 : 0;
    // Ridge point: FLOPs per byte at which both roofs meet.
    const ridge = (peaks.tflops * 1e12) / (peaks.gbps * 1e9);
    const intensity = flops === null ? 0 : flops / Math.max(1, bytesRead + bytesWritten);
    const bound = intensity > ridge ? 'compute' : 'memory';
    const roofline = bound === 'compute' ? (100 * (tflops ?? 0)) / peaks.tflops : (100 * gbps) / peaks.gbps;
    return { name: k.name, dispatches, ms, share: busy > 0 ? ms / busy : 0, bytesRead, bytesWritten, flops, gbps, tflops, bound, roofline };
  });
}

/** Bytes in a short human unit (binary: KiB, MiB, GiB). */
function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function flopsText(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** The report as text: a header saying where the peaks come from, then one row per kernel. */
export function formatProfile(rep: ProfileReport): string {
  const head = ['kernel', 'disp', 'GPU ms', '% busy', 'read', 'written', 'GB/s', 'FLOPs', 'TFLOP/s', 'bound', '% roofline'];
  const rows = rep.kernels.map((k) => [
    k.name, String(k.dispatches), k.ms.toFixed(4), (100 * k.share).toFixed(1), bytesText(k.bytesRead), bytesText(k.bytesWritten),
    k.gbps.toFixed(1), flopsText(k.flops), k.tflops === null ? '-' : k.tflops.toFixed(3), k.bound, k.roofline.toFixed(1),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(width[c]) : x.padStart(width[c]))).join('  ');
  return [
    rep.adapter,
    `${rep.runs} profiled runs after one warm-up; median per run: ${rep.busyMs.toFixed(4)} ms busy, ${rep.spanMs.toFixed(4)} ms from first dispatch to last`,
    `roofline peaks: ${rep.peaks.gbps} GB/s, ${rep.peaks.tflops} TFLOP/s f32 (${rep.peaks.source}); bytes are the kernel's bound buffers (read-only read, read-write written), once per dispatch`,
    '',
    line(head),
    ...rows.map(line),
  ].join('\n');
}

/**
 * Inputs for a module run without `--inputs`: floats uniform in [-1, 1) from a fixed seed, integers
 * and booleans zero (in range as indices, and a loop bound of zero runs no iteration, which the
 * header does not hide: pass real inputs for data-dependent control flow).
 */
export function syntheticInputs(types: readonly TensorType[]): HostTensor[] {
  let s = 0x2545f491;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  return types.map((t) => {
    const n = numElements(t.shape);
    const dtype = t.dtype;
    if (!isSupportedDType(dtype)) throw new InputError(`kiln profile: argument type ${formatType(t)} is not supported`);
    switch (dtype) {
      case 'f32': case 'f16': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: n }, () => 2 * next() - 1) };
      case 'bf16': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: n }, () => roundBf16(2 * next() - 1)) };
      case 'c64': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: 2 * n }, () => 2 * next() - 1) };
      case 'i32': return { dtype, shape: [...t.shape], data: new Int32Array(n) };
      case 'ui32': return { dtype, shape: [...t.shape], data: new Uint32Array(n) };
      case 'i1': case 'i8': case 'ui8': case 'i16': case 'ui16': return hostTensor(dtype, t.shape);
      case 'i64': return { dtype, shape: [...t.shape], data: new BigInt64Array(n) };
      case 'ui64': return { dtype, shape: [...t.shape], data: new BigUint64Array(n) };
      default: return dtype satisfies never;
    }
  });
}

/** Profiles `m` on the WebGPU device and prints the table (or with `json`, the report). */
export async function profileCommand(m: Module, opts: ProfileOptions): Promise<number> {
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new InputError(`kiln profile: --runs must be a positive integer, got ${opts.runs}`);
  for (const [flag, v] of [['--peak-gbps', opts.peakGbps], ['--peak-tflops', opts.peakTflops]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new InputError(`kiln profile: ${flag} must be a positive number, got ${v}`);
  }
  const { createWebGPUDevice } = await import('../runtime/webgpu/device.js');
  const { GpuExecutable } = await import('../runtime/webgpu/executor.js');
  const d = await createWebGPUDevice();
  try {
    const adapter = d.info().adapter;
    if (!d.profile(true)) {
      throw new DeviceError(`kiln profile: the adapter '${adapter}' has no timestamp-query feature (or it was disabled with KILN_DISABLE_FEATURES), so kernels cannot be timed on the GPU`);
    }
    d.profile(false);
    const exe = d.compile(m);
    if (!(exe instanceof GpuExecutable)) throw new DeviceError('kiln profile: the WebGPU device returned an executable without a program');
    const inputs = opts.inputs ?? syntheticInputs(mainFunc(m).args.map((a) => a.type));
    const args = inputs.map((t) => d.upload(t));
    const run = () => { for (const o of d.execute(exe, args)) d.free(o); };
    run(); // compiles the pipelines, untimed
    await d.sync();
    d.profile(true);
    for (let i = 0; i < opts.runs; i++) run();
    await d.sync();
    d.profile(false);
    const profiles = d.takeProfiles().filter((p) => p.executable === exe.id);
    for (const a of args) d.free(a);
    const peaks = { gbps: opts.peakGbps, tflops: opts.peakTflops };
    const isDefault = peaks.gbps === H200_PEAKS.gbps && peaks.tflops === H200_PEAKS.tflops;
    const report: ProfileReport = {
      adapter,
      runs: profiles.length,
      peaks: { ...peaks, source: isDefault ? 'NVIDIA H200 defaults, not this adapter: set --peak-gbps and --peak-tflops for another GPU' : 'from --peak-gbps / --peak-tflops' },
      busyMs: median(profiles.map((p) => p.busyMs)),
      spanMs: median(profiles.map((p) => p.spanMs)),
      kernels: profileRows(exe.program, profiles, peaks),
    };
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatProfile(report)}\n`);
  } finally {
    d.destroy();
  }
  return 0;
}
