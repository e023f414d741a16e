/**
 * @file Runs the bench: for each case, kiln then jax-js on the same inputs (the first call of each
 * is read back and checked: against each other, and against the float64 reference where there is
 * one), then timed calls, each sample waiting until the GPU has finished. A library failing on a
 * case is a row with its error, not the end of the run.
 */
import { readFileSync } from 'node:fs';
import { numpy as np, type Array as KArray } from '../client/index.js';
import type { Array as JArray } from '@jax-js/jax';
import { unionLength } from '../runtime/webgpu/executor.js';
import { openEnv, type BenchEnv, type EnvOptions } from './env.js';
import { relErrorAll } from './host.js';
import { profileRow, totalsLine, type RowProfile } from './profile.js';
import { jaxGpuTime, measure, summarize, type RepeatOptions, type Samples } from './timing.js';
import { selectCases, type Case, type CaseSpec, type SizeSet } from './workloads.js';
import { runXla, xlaColumns, type XlaCheck, type XlaColumns, type XlaReport } from './xla.js';

/** Options of {@link runBench}. */
export interface BenchOptions extends EnvOptions {
  sizes: SizeSet;
  /** Workload names to run (default all). */
  only?: readonly string[];
  /** Untimed calls before timing (default 2 for smoke, 3 for full). */
  warmup?: number;
  /**
   * Minimum warm-up time per case and library, ms (default 0 for smoke, 1500 for full): a GPU left
   * idle while the host prepares a case drops its clocks, and short calls take a while to raise them.
   */
  warmupMs?: number;
  /** Timed samples (default 3 for smoke, 10 for full). */
  reps?: number;
  /**
   * Calls queued back to back in one sample (default 1, tiny_call excepted): above 1 the time per
   * call is the steady state of a loop, with the GPU kept busy between calls.
   */
  calls?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Also run the workloads through JAX (bench/xla.py in a child Python), before kiln and jax-js. */
  xla?: boolean;
  /** The Python that runs bench/xla.py (default `python3`). */
  xlaPython?: string;
  /** bench/xla.py itself (default: beside the bundle or this source). */
  xlaScript?: string;
  /** Read XLA's side from this xla.py JSON (an earlier run, e.g. on another machine) instead of running it. */
  xlaJson?: string;
  /** After each kiln row's timing, profile its program per kernel (see bench/profile.ts). */
  profile?: boolean;
}

/**
 * The accuracy checks of one row: relative errors (see `relError`), null where a side is missing;
 * XLA's ({@link XlaCheck}) only with `--xla`.
 */
export interface RowCheck extends Partial<XlaCheck> {
  kiln_vs_jaxjs: number | null;
  kiln_vs_f64: number | null;
  jaxjs_vs_f64: number | null;
  tol: number;
  /** kiln ran, and every available comparison (XLA's included) is within `tol`. */
  ok: boolean;
}

/**
 * One line of the report. `*_ms` is the median wall time of a call that waits for completion. The
 * XLA columns ({@link XlaColumns}) are there only with `--xla`.
 */
export interface Row extends Partial<XlaColumns> {
  workload: string;
  size: string;
  kiln_ms: number | null;
  jaxjs_ms: number | null;
  /** jaxjs_ms / kiln_ms: above 1 kiln is faster. */
  speedup: number | null;
  kiln_min_ms: number | null;
  jaxjs_min_ms: number | null;
  /** GPU time from timestamp queries (median), where the device has `timestamp-query`. */
  kiln_gpu_ms: number | null;
  jaxjs_gpu_ms: number | null;
  /** jaxjs_gpu_ms / kiln_gpu_ms. */
  gpu_speedup: number | null;
  kiln_tflops?: number | null;
  jaxjs_tflops?: number | null;
  kiln_gbps?: number | null;
  jaxjs_gbps?: number | null;
  kiln_calls_per_s?: number | null;
  jaxjs_calls_per_s?: number | null;
  check: RowCheck;
  kiln_error?: string;
  jaxjs_error?: string;
  /** With `--profile`: the per-kernel profile of kiln's program on the row's inputs, or why there is none. */
  kiln_profile?: RowProfile;
  kiln_profile_error?: string;
}

/** The whole run. */
export interface BenchReport {
  adapter: string;
  /** Features of kiln's device (e.g. shader-f16), as it requested them. */
  features: string[];
  /** When the run started (ISO 8601), and on which Node.js. */
  date: string;
  node: string;
  jaxjs_adapter: string | null;
  /** Why jax-js did not run, when it did not. */
  jaxjs_unavailable: string | null;
  dawn: string[];
  sizes: SizeSet;
  /** How `kiln_ms` and `jaxjs_ms` were measured. */
  timing: 'wall';
  warmup: number;
  /** Minimum warm-up time per case and library, ms. */
  warmupMs?: number;
  reps: number;
  /** Calls queued back to back per sample (tiny_call always queues many). */
  calls: number;
  /** The rows carry kiln's per-kernel profiles (`--profile`). */
  profile?: boolean;
  /** With `--xla`: what xla.py ran on (JAX version, device), or why it did not run; its rows merged. */
  xla?: Omit<XlaReport, 'rows'>;
  rows: Row[];
}

interface SideResult {
  outputs?: Float32Array[];
  time?: Samples;
  gpu?: Samples | null;
  error?: string;
  profile?: RowProfile;
  profileError?: string;
}

/** Outputs as Float32Array without copying them again (a 64M-element output is 256 MiB). */
function f32(d: ArrayLike<number> | ArrayLike<bigint>): Float32Array {
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number | bigint>, Number);
}

function message(e: unknown): string {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  // WGSL dumps in kiln's errors are long; the first lines say what failed.
  return m.split('\n').slice(0, 4).join('\n');
}

/**
 * GPU time of kiln's samples from its own profiler (timestamps around every dispatch): the union of
 * the dispatch intervals of a sample's runs. Null where the device cannot time, or a sample ran no
 * timed kernel.
 */
async function kilnGpuTime(env: BenchEnv, sample: () => Promise<void>, reps: number, callsPerSample: number): Promise<Samples | null> {
  const dev = env.kiln;
  if (!dev.profile?.(true) || !dev.takeProfiles) return null;
  try {
    const times: number[] = [];
    dev.takeProfiles();
    for (let i = 0; i < reps; i++) {
      await sample(); // its sync waits for the timestamps too
      const runs = dev.takeProfiles();
      const intervals = runs.flatMap((r) => r.intervals);
      if (intervals.length === 0) return null;
      times.push(unionLength(intervals) / 1e6 / callsPerSample);
    }
    return summarize(times);
  } finally {
    dev.profile(false);
  }
}

async function runKiln(env: BenchEnv, c: Case, rep: RepeatOptions, profile = false): Promise<SideResult> {
  const inputs = c.inputs.map((a) => np.array(a.data, a.dtype ? { shape: a.shape, dtype: 'float16' } : { shape: a.shape }));
  try {
    const first = c.kiln(...inputs);
    const outputs = await Promise.all(first.map(async (o) => f32(await o.data())));
    first.forEach((o) => o.dispose());
    const sample = async () => {
      const outs: KArray[] = [];
      for (let i = 0; i < c.callsPerSample; i++) outs.push(...c.kiln(...inputs));
      await env.kiln.sync();
      for (const o of outs) o.dispose();
    };
    const time = await measure(sample, { warmup: Math.max(0, rep.warmup - 1), warmupMs: rep.warmupMs, reps: rep.reps }, c.callsPerSample);
    const gpu = await kilnGpuTime(env, sample, Math.min(rep.reps, 5), c.callsPerSample);
    // kiln's sync does not report a failed run; reading a last call back does.
    const last = c.kiln(...inputs);
    const again = await Promise.all(last.map(async (o) => f32(await o.data())));
    last.forEach((o) => o.dispose());
    if (relErrorAll(again, outputs) !== 0) return { outputs, time, error: 'results of a later call differ from the first call' };
    if (!profile) return { outputs, time, gpu };
    // After the timed calls, so that profiling (one timed pass per dispatch) cannot slow them.
    try {
      return { outputs, time, gpu, profile: await profileRow(env.kiln, c.kiln, inputs, c.inputs, Math.min(rep.reps, 5)) };
    } catch (e) {
      return { outputs, time, gpu, profileError: message(e) };
    }
  } catch (e) {
    return { error: message(e) };
  } finally {
    for (const a of inputs) a.dispose();
  }
}

/**
 * Why jax-js cannot run a case with f16 inputs here, or undefined: it makes and reads float16
 * arrays through the global Float16Array (ES2025), which Node.js has from version 24 (22 behind
 * --js-float16array); without it jax-js fails with a ReferenceError.
 */
export function jaxF16Unavailable(c: Pick<Case, 'inputs'>, g: object = globalThis): string | undefined {
  if (!c.inputs.some((a) => a.dtype === 'f16') || 'Float16Array' in g) return undefined;
  return `jax-js needs the global Float16Array for float16 arrays, which Node.js ${process.version} does not have (Node.js 24 has it)`;
}

async function runJax(env: BenchEnv, c: Case, rep: RepeatOptions): Promise<SideResult> {
  const jax = env.jax;
  if (!jax) return { error: env.jaxReason ?? 'jax-js is not available' };
  const f16Reason = jaxF16Unavailable(c);
  if (f16Reason) return { error: f16Reason };
  let inputs: JArray[] = [];
  let f: ReturnType<Case['jax']> | undefined;
  try {
    // jax-js takes f16 data only as a Float16Array, which Node 20 lacks: f16 inputs are made from
    // their (exact) f32 values by astype, before and outside the timed function.
    inputs = c.inputs.map((a) => (a.dtype ? jax.numpy.astype(jax.numpy.array(a.data, { shape: a.shape }), jax.numpy.float16) : jax.numpy.array(a.data, { shape: a.shape })));
    f = c.jax(jax);
    const call = () => f!(...inputs.map((a) => a.ref));
    // data() consumes the array (jax-js's ownership rules).
    const outputs = await Promise.all(call().map(async (o) => f32(await o.data() as ArrayLike<number>)));
    const sample = async () => {
      const outs: JArray[] = [];
      for (let i = 0; i < c.callsPerSample; i++) outs.push(...call());
      await Promise.all(outs.map((o) => o.blockUntilReady()));
      for (const o of outs) o.dispose();
    };
    const time = await measure(sample, { warmup: Math.max(0, rep.warmup - 1), warmupMs: rep.warmupMs, reps: rep.reps }, c.callsPerSample);
    const gpu = await jaxGpuTime(jax, sample, Math.min(rep.reps, 5), c.callsPerSample);
    return { outputs, time, gpu };
  } catch (e) {
    return { error: message(e) };
  } finally {
    for (const a of inputs) {
      try { a.dispose(); } catch { /* consumed by a failed call */ }
    }
    f?.dispose?.();
  }
}

function rate(work: number | undefined, ms: number | undefined, unit: number): number | null | undefined {
  if (work === undefined) return undefined;
  return ms === undefined ? null : work / (ms * 1e-3) / unit;
}

function makeRow(c: Case, k: SideResult, j: SideResult, ref: ArrayLike<number>[] | undefined, xla?: XlaReport): Row {
  const kiln_ms = k.error ? null : k.time?.median ?? null;
  const jaxjs_ms = j.error ? null : j.time?.median ?? null;
  const err = (a?: Float32Array[], b?: readonly ArrayLike<number>[]) => (a && b ? relErrorAll(a, b) : null);
  const check: RowCheck = {
    kiln_vs_jaxjs: err(k.outputs, j.outputs),
    kiln_vs_f64: err(k.outputs, ref),
    jaxjs_vs_f64: err(j.outputs, ref),
    tol: c.tol,
    ok: false,
  };
  const x = xla && xlaColumns({
    workload: c.workload, kiln_ms, flops: c.flops, bytes: c.bytes, callsPerSample: c.callsPerSample, kilnOutputs: k.outputs, reference: ref,
  }, xla.rows?.find((r) => r.workload === c.workload && r.size === c.size), xla);
  if (x) Object.assign(check, x.check);
  check.ok = !k.error && [check.kiln_vs_jaxjs, check.kiln_vs_f64, check.jaxjs_vs_f64, check.xla_vs_f64 ?? null, check.xla_vs_kiln ?? null]
    .every((e) => e === null || e <= c.tol);
  const row: Row = {
    workload: c.workload,
    size: c.size,
    kiln_ms,
    jaxjs_ms,
    speedup: kiln_ms !== null && jaxjs_ms !== null ? jaxjs_ms / kiln_ms : null,
    kiln_min_ms: k.error ? null : k.time?.min ?? null,
    jaxjs_min_ms: j.error ? null : j.time?.min ?? null,
    kiln_gpu_ms: k.gpu?.median ?? null,
    jaxjs_gpu_ms: j.gpu?.median ?? null,
    gpu_speedup: k.gpu && j.gpu && !k.error && !j.error ? j.gpu.median / k.gpu.median : null,
    check,
  };
  const km = kiln_ms ?? undefined, jm = jaxjs_ms ?? undefined;
  if (c.flops !== undefined) { row.kiln_tflops = rate(c.flops, km, 1e12); row.jaxjs_tflops = rate(c.flops, jm, 1e12); }
  if (c.bytes !== undefined) { row.kiln_gbps = rate(c.bytes, km, 1e9); row.jaxjs_gbps = rate(c.bytes, jm, 1e9); }
  if (c.callsPerSample > 1) { row.kiln_calls_per_s = rate(1, km, 1); row.jaxjs_calls_per_s = rate(1, jm, 1); }
  if (k.error) row.kiln_error = k.error;
  if (j.error) row.jaxjs_error = j.error;
  if (k.profile) row.kiln_profile = k.profile;
  if (k.profileError) row.kiln_profile_error = k.profileError;
  if (x) Object.assign(row, x.columns);
  return row;
}

const fmt = (ms: number | null) => (ms === null ? '-' : `${ms.toFixed(3)} ms`);

/** Runs one case on both libraries and checks the results (and XLA's, from xla.py's report). */
export async function runCase(env: BenchEnv, s: CaseSpec, rep: RepeatOptions, calls = 1, xla?: XlaReport, profile = false): Promise<Row> {
  const c = s.make();
  if (c.callsPerSample === 1) c.callsPerSample = calls;
  const k = await runKiln(env, c, rep, profile);
  const j = await runJax(env, c, rep);
  let ref: ArrayLike<number>[] | undefined;
  if (c.reference && (k.outputs || j.outputs || xla?.rows)) ref = c.reference();
  return makeRow(c, k, j, ref, xla);
}

/** Opens both libraries, runs the selected cases, and returns the report. */
export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const cases = selectCases(opts.sizes, opts.only);
  const rep: RepeatOptions = {
    warmup: opts.warmup ?? (opts.sizes === 'full' ? 3 : 2),
    warmupMs: opts.warmupMs ?? (opts.sizes === 'full' ? 1500 : 0),
    reps: opts.reps ?? (opts.sizes === 'full' ? 10 : 3),
  };
  const date = new Date().toISOString();
  // XLA first, alone on the GPU: its process has exited before kiln and jax-js open their devices.
  let xla: XlaReport | undefined;
  if (opts.xlaJson) {
    try {
      xla = JSON.parse(readFileSync(opts.xlaJson, 'utf8')) as XlaReport;
    } catch (e) {
      xla = { unavailable: `--xla-json ${opts.xlaJson}: ${(e as Error).message}` };
    }
  } else if (opts.xla) {
    log('xla: running bench/xla.py (JAX) ...');
    xla = await runXla({ python: opts.xlaPython, script: opts.xlaScript, sizes: opts.sizes, only: opts.only, calls: opts.calls, ...rep }, log);
    log(xla.unavailable ? `xla not running: ${xla.unavailable}` : `xla: JAX ${xla.jax} on ${xla.device}`);
  }
  const env = await openEnv(opts);
  const features = env.kiln.info().features ?? [];
  log(`kiln on ${env.adapter}`);
  log(env.jax ? `jax-js on ${env.jaxAdapter ?? 'webgpu'}${env.jaxTimestamps ? ' (timestamp-query)' : ''}` : `jax-js not running: ${env.jaxReason}`);
  if (env.jaxAdapter && env.jaxAdapter !== env.adapter) log('warning: jax-js and kiln report different adapters; the ratios compare different GPUs');
  const rows: Row[] = [];
  try {
    for (const [i, s] of cases.entries()) {
      log(`[${i + 1}/${cases.length}] ${s.workload} ${s.size} ...`);
      const row = await runCase(env, s, rep, opts.calls, xla, opts.profile);
      rows.push(row);
      const note = row.check.ok ? '' : `  CHECK FAILED${row.kiln_error ? `: ${row.kiln_error}` : ''}`;
      const xlaNote = xla ? `, XLA ${fmt(row.xla_ms ?? null)}` : '';
      log(`    kiln ${fmt(row.kiln_ms)}, jax-js ${fmt(row.jaxjs_ms)}${row.speedup ? `, speedup ${row.speedup.toFixed(2)}x` : ''}${xlaNote}${note}`);
      if (row.kiln_profile) log(`    kiln profile: ${totalsLine(row.kiln_profile.totals)}`);
      else if (row.kiln_profile_error) log(`    kiln profile failed: ${row.kiln_profile_error.split('\n')[0]}`);
    }
  } finally {
    env.close();
  }
  return {
    adapter: env.adapter,
    features,
    date,
    node: process.version,
    jaxjs_adapter: env.jaxAdapter ?? null,
    jaxjs_unavailable: env.jax ? null : env.jaxReason ?? null,
    dawn: env.dawn,
    sizes: opts.sizes,
    timing: 'wall',
    warmup: rep.warmup,
    warmupMs: rep.warmupMs ?? 0,
    reps: rep.reps,
    calls: opts.calls ?? 1,
    ...(opts.profile ? { profile: true } : {}),
    ...(xla ? { xla: (({ rows: _, ...meta }) => meta)(xla) } : {}),
    rows,
  };
}
