/**
 * @file XLA in the bench (`--xla`): runs bench/xla.py (the same workloads in JAX, on the same GPU)
 * in a child Python process before kiln and jax-js open the GPU, reads the JSON it writes, and turns
 * each of its rows into the bench row's XLA columns and checks. Python or JAX missing, no GPU
 * backend, a crash, or a row JAX could not run: the columns are null and the row says why, never a
 * guessed number.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relError, relErrorAll, sizeOf } from './host.js';

/** How to run bench/xla.py. */
export interface XlaOptions {
  /** The Python interpreter (default `python3` on PATH). */
  python?: string;
  /** The script (default bench/xla.py beside the bundle or the source). */
  script?: string;
  sizes: 'smoke' | 'full';
  only?: readonly string[];
  reps?: number;
  warmup?: number;
  warmupMs?: number;
  calls?: number;
}

/** One output of XLA's first call, as xla.py summarizes it. */
export interface XlaOutput {
  shape: number[];
  /** float64 sum and sum of |x| of the f32 values. */
  sum: number;
  abs_sum: number;
  /** The first (up to 8) values in row-major order. */
  head: number[];
  /** All values, base64 little-endian f32, when the case's outputs are small (smoke sizes). */
  data?: string;
}

/** One row of xla.py's JSON. Times are ms per call. */
export interface XlaRow {
  workload: string;
  size: string;
  xla_ms?: number;
  xla_min_ms?: number;
  xla_b2b_ms?: number;
  xla_default_ms?: number;
  xla_default_b2b_ms?: number;
  outputs?: XlaOutput[];
  error?: string;
}

/** xla.py's JSON: rows, or why nothing ran. */
export interface XlaReport {
  unavailable?: string;
  jax?: string;
  jaxlib?: string | null;
  backend?: string;
  device?: string;
  platform?: string;
  python?: string;
  b2b_calls?: number;
  rows?: XlaRow[];
}

/** The XLA columns of a bench row (present only with `--xla`). */
export interface XlaColumns {
  /** Median wall time of a call and its wait, f32 matmuls at precision=HIGHEST. */
  xla_ms: number | null;
  xla_min_ms: number | null;
  /** 50 calls queued back to back, one wait, divided by 50. */
  xla_b2b_ms: number | null;
  /** Matmul rows only: the same at DEFAULT precision (TF32 on Ampere and later GPUs). */
  xla_default_ms?: number | null;
  xla_default_b2b_ms?: number | null;
  /** kiln_ms / xla_ms: per-call wall time of both (above 1: XLA is faster). */
  kiln_vs_xla: number | null;
  xla_tflops?: number | null;
  xla_gbps?: number | null;
  xla_calls_per_s?: number | null;
  /** Why the XLA columns are null (or XLA's failure on this row). */
  xla_error?: string;
}

/** XLA's accuracy checks: relative errors as `relError` measures them, null where not computed. */
export interface XlaCheck {
  /** Against the float64 host reference (cases that have one, when xla.py sent whole outputs). */
  xla_vs_f64: number | null;
  /**
   * Against kiln's first call: over all values when xla.py sent them, else over the first values
   * and the sums (|sum_kiln - sum_xla| / sum |xla|).
   */
  xla_vs_kiln: number | null;
}

/** bench/xla.py: beside the bundle (dist/../bench) or this source file. */
export function defaultScript(): string {
  return fileURLToPath(new URL('../bench/xla.py', import.meta.url));
}

/** xla.py's arguments for the bench's options. */
export function xlaArgv(opts: XlaOptions, out: string): string[] {
  const argv = [opts.script ?? defaultScript(), '--out', out, '--sizes', opts.sizes];
  if (opts.only?.length) argv.push('--only', opts.only.join(','));
  if (opts.reps !== undefined) argv.push('--reps', String(opts.reps));
  if (opts.warmup !== undefined) argv.push('--warmup', String(opts.warmup));
  if (opts.warmupMs !== undefined) argv.push('--warmup-ms', String(opts.warmupMs));
  if (opts.calls !== undefined) argv.push('--calls', String(opts.calls));
  return argv;
}

function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Runs xla.py and returns its report; every failure (no interpreter, a crash, unreadable JSON) is a
 * report with `unavailable` saying why. xla.py's progress goes to `log`.
 */
export async function runXla(opts: XlaOptions, log: (line: string) => void = () => {}): Promise<XlaReport> {
  const python = opts.python ?? 'python3';
  const script = opts.script ?? defaultScript();
  if (!existsSync(script)) return { unavailable: `XLA script ${script} not found` };
  const dir = mkdtempSync(join(tmpdir(), 'kiln-xla-'));
  const out = join(dir, 'xla.json');
  try {
    // JAX takes 75% of GPU memory at start unless told not to; kiln and jax-js come after it.
    const env = { ...process.env, XLA_PYTHON_CLIENT_PREALLOCATE: 'false', PYTHONUNBUFFERED: '1' };
    const result = await new Promise<{ code: number | null; stderr: string; spawnError?: Error }>((resolve) => {
      const child = spawn(python, xlaArgv({ ...opts, script }, out), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      const forward = (chunk: Buffer) => {
        const text = chunk.toString();
        stderr = (stderr + text).slice(-20000);
        for (const line of text.split('\n')) if (line.trim()) log(`  ${line}`);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      child.on('error', (e) => resolve({ code: null, stderr, spawnError: e }));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    if (result.spawnError) return { unavailable: `could not run ${python}: ${result.spawnError.message}` };
    if (result.code !== 0) return { unavailable: `${python} ${script} exited with status ${result.code}: ${tail(result.stderr)}` };
    try {
      return JSON.parse(readFileSync(out, 'utf8')) as XlaReport;
    } catch (e) {
      return { unavailable: `${script} wrote no readable JSON: ${(e as Error).message}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A one-line description of XLA's side of the run, for the table's header. */
export function describeXla(rep: XlaReport): string {
  if (rep.unavailable) return `XLA did not run: ${rep.unavailable}`;
  return `XLA: JAX ${rep.jax}${rep.jaxlib && rep.jaxlib !== rep.jax ? ` (jaxlib ${rep.jaxlib})` : ''} on ${rep.device} (${rep.platform}), Python ${rep.python}; `
    + `f32 matmuls at precision=HIGHEST (DEFAULT = TF32 in its own column), matmul_f16 at DEFAULT (f16 tensor cores); back to back = ${rep.b2b_calls ?? 50} calls queued, one wait`;
}

/** The whole outputs xla.py sent, or undefined when it sent summaries only. */
export function decodeOutputs(outs: readonly XlaOutput[]): Float32Array[] | undefined {
  if (!outs.every((o) => o.data !== undefined)) return undefined;
  return outs.map((o) => {
    const bytes = Buffer.from(o.data!, 'base64');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  });
}

/** {@link XlaCheck.xla_vs_kiln} from summaries: the first values and the sums. */
export function summaryError(kiln: readonly ArrayLike<number>[], xla: readonly XlaOutput[]): number {
  if (kiln.length !== xla.length) return Infinity;
  let worst = 0;
  for (const [i, x] of xla.entries()) {
    const k = kiln[i];
    if (k.length !== sizeOf(x.shape)) return Infinity;
    let sum = 0;
    for (let j = 0; j < k.length; j++) sum += k[j];
    const head = Array.from({ length: x.head.length }, (_, j) => k[j]);
    worst = Math.max(worst, relError(head, x.head), Math.abs(sum - x.sum) / Math.max(x.abs_sum, 1e-30));
    if (Number.isNaN(sum) || Number.isNaN(x.sum)) return Infinity;
  }
  return worst;
}

function rate(work: number | undefined, ms: number | null, unit: number): number | null | undefined {
  if (work === undefined) return undefined;
  return ms === null ? null : work / (ms * 1e-3) / unit;
}

/** What {@link xlaColumns} needs to know about the bench's case and kiln's results. */
export interface XlaCaseInfo {
  workload: string;
  kiln_ms: number | null;
  flops?: number;
  bytes?: number;
  callsPerSample: number;
  kilnOutputs?: readonly ArrayLike<number>[];
  reference?: readonly ArrayLike<number>[];
}

/**
 * The XLA columns and checks of one bench row from xla.py's row for it (`x` undefined: xla.py sent
 * none, and `rep.unavailable` or a missing row is the reason).
 */
export function xlaColumns(c: XlaCaseInfo, x: XlaRow | undefined, rep: XlaReport): { columns: XlaColumns; check: XlaCheck } {
  const check: XlaCheck = { xla_vs_f64: null, xla_vs_kiln: null };
  const reason = rep.unavailable ?? (x ? x.error : 'xla.py reported no row for this case');
  const num = (v: number | undefined) => (reason === undefined && typeof v === 'number' && Number.isFinite(v) ? v : null);
  const xla_ms = num(x?.xla_ms);
  const columns: XlaColumns = {
    xla_ms,
    xla_min_ms: num(x?.xla_min_ms),
    xla_b2b_ms: num(x?.xla_b2b_ms),
    kiln_vs_xla: c.kiln_ms !== null && xla_ms !== null ? c.kiln_ms / xla_ms : null,
  };
  if (c.workload === 'matmul' || c.workload === 'batched_matmul') {
    columns.xla_default_ms = num(x?.xla_default_ms);
    columns.xla_default_b2b_ms = num(x?.xla_default_b2b_ms);
  }
  if (c.flops !== undefined) columns.xla_tflops = rate(c.flops, xla_ms, 1e12);
  if (c.bytes !== undefined) columns.xla_gbps = rate(c.bytes, xla_ms, 1e9);
  if (c.callsPerSample > 1) columns.xla_calls_per_s = rate(1, xla_ms, 1);
  if (reason !== undefined) {
    columns.xla_error = reason;
  } else if (xla_ms === null) {
    columns.xla_error = 'xla.py sent no time for this row';
  }
  if (reason === undefined && x?.outputs) {
    const whole = decodeOutputs(x.outputs);
    if (whole && c.reference) check.xla_vs_f64 = relErrorAll(whole, c.reference);
    if (c.kilnOutputs) check.xla_vs_kiln = whole ? relErrorAll(c.kilnOutputs, whole) : summaryError(c.kilnOutputs, x.outputs);
  }
  return { columns, check };
}
