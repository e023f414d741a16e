/**
 * @file The pure half of kernel profiling, shared by `kiln profile` (cli/profile.ts) and the
 * bench's `--profile`: a program's per-kernel rows from the profiles of its runs (bytes from the
 * buffer plan, FLOPs from the compiler, GPU times from the profiler), the bound that limits each
 * kernel and its percent of the roofline, and the report as text; and {@link profileRuns}, the
 * one part that runs anything: an executable's profiled runs on a device.
 */
import { DeviceError } from '../ir/errors.js';
import type { Program } from '../compiler/program.js';
import type { Device, DeviceArray, Executable, RunProfile } from './device.js';

/** NVIDIA H200 (SXM): HBM3e bandwidth and dense f32 (non-tensor-core) peak, from NVIDIA's datasheet. */
export const H200_PEAKS = { gbps: 4800, tflops: 67 } as const;

/** The roofs of a roofline: memory bandwidth (GB/s) and arithmetic peak (TFLOP/s). */
export interface Peaks {
  gbps: number;
  tflops: number;
  /** The arithmetic `tflops` is the peak of, as the report prints it (default `f32`). */
  flops?: string;
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
  /** `flops`: which arithmetic the FLOP peak is for (default f32 without tensor cores). */
  peaks: Peaks & { source: string };
  /** Median busy and span time of a run (see `RunProfile`), ms. */
  busyMs: number;
  spanMs: number;
  kernels: KernelRow[];
}

/** Median of a list (0 for an empty one). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The table's rows from a program and the profiles of its runs: times from the profiler, bytes from
 * each kernel's bindings (a read binding is read whole, a read_write binding written whole: the
 * buffer plan's view, which counts neither caches nor partial reads), FLOPs from the compiler.
 */
export function profileRows(program: Program, runs: readonly RunProfile[], peaks: Peaks): KernelRow[] {
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

/**
 * Runs `exe` on `args` once untimed (pipelines are created on the first run), then `runs` times with
 * the device's profiler on, and returns the profiles of those runs. The caller checks first that
 * the device can time (`device.profile(true)` is true).
 */
export async function profileRuns(d: Device, exe: Executable, args: readonly DeviceArray[], runs: number): Promise<RunProfile[]> {
  if (!d.profile || !d.takeProfiles) throw new DeviceError(`profile: the ${d.kind} device has no kernel profiler`);
  const run = () => { for (const o of d.execute(exe, args)) d.free(o); };
  run();
  await d.sync();
  d.takeProfiles();
  d.profile(true);
  try {
    for (let i = 0; i < runs; i++) run();
    await d.sync();
  } finally {
    d.profile(false);
  }
  return d.takeProfiles().filter((p) => p.executable === exe.id);
}

/** Where the peaks of a report come from, as the report's header says it. */
export function peaksSource(peaks: { gbps: number; tflops: number }): string {
  const isDefault = peaks.gbps === H200_PEAKS.gbps && peaks.tflops === H200_PEAKS.tflops;
  return isDefault ? 'NVIDIA H200 defaults, not this adapter: set --peak-gbps and --peak-tflops for another GPU' : 'from --peak-gbps / --peak-tflops';
}

/**
 * The report of `runs` (profiles of one executable of `program`) against `peaks`; `source` says
 * where the peaks come from (default: `kiln profile`'s wording, see {@link peaksSource}).
 */
export function profileReport(adapter: string, program: Program, runs: readonly RunProfile[], peaks: Peaks, source = peaksSource(peaks)): ProfileReport {
  return {
    adapter,
    runs: runs.length,
    peaks: { ...peaks, source },
    busyMs: median(runs.map((p) => p.busyMs)),
    spanMs: median(runs.map((p) => p.spanMs)),
    kernels: profileRows(program, runs, peaks),
  };
}

/** A report's totals per run: dispatches, the sum of the kernels' GPU times, and the busy (union) time. */
export interface ProfileTotals {
  dispatches: number;
  /** Sum of the kernels' median times: above `busyMs` where dispatches overlapped on the GPU. */
  kernelMs: number;
  busyMs: number;
  spanMs: number;
}

/** The totals of a report (see {@link ProfileTotals}). */
export function profileTotals(rep: ProfileReport): ProfileTotals {
  return {
    dispatches: rep.kernels.reduce((n, k) => n + k.dispatches, 0),
    kernelMs: rep.kernels.reduce((t, k) => t + k.ms, 0),
    busyMs: rep.busyMs,
    spanMs: rep.spanMs,
  };
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
    `roofline peaks: ${rep.peaks.gbps} GB/s, ${rep.peaks.tflops} TFLOP/s ${rep.peaks.flops ?? 'f32'} (${rep.peaks.source}); bytes are the kernel's bound buffers (read-only read, read-write written), once per dispatch`,
    '',
    line(head),
    ...rows.map(line),
  ].join('\n');
}
