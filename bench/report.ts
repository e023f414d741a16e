/**
 * @file Presents a bench report: a Markdown table (pasteable into bench/RESULTS.md) with times,
 * throughput, the jax-js/kiln ratio, with `--xla` XLA's times and kiln ÷ XLA, and the accuracy
 * checks; and the `--json` object, whose first keys are the ones the issue fixes (`adapter`,
 * `rows[].workload/size/kiln_ms/jaxjs_ms/speedup`).
 */
import type { BenchReport, Row } from './run.js';
import { SUBGROUP_MATRIX } from '../runtime/webgpu/adapter.js';
import { describeXla } from './xla.js';

function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '-';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return x.toFixed(digits);
}

/** Throughput in the unit that fits the row: TFLOP/s, GB/s, or calls/s. */
function throughput(r: Row, side: 'kiln' | 'jaxjs'): string {
  const t = r[`${side}_tflops`], g = r[`${side}_gbps`], c = r[`${side}_calls_per_s`];
  if (t !== undefined) return t === null ? '-' : `${num(t, 2)} TFLOP/s`;
  if (g !== undefined) return g === null ? '-' : `${num(g, 1)} GB/s`;
  if (c !== undefined) return c === null ? '-' : `${Math.round(c)} calls/s`;
  return '-';
}

function checkCell(r: Row): string {
  const parts: string[] = [];
  if (r.check.kiln_vs_jaxjs !== null) parts.push(`vs jax-js ${num(r.check.kiln_vs_jaxjs, 1)}`);
  if (r.check.kiln_vs_f64 !== null) parts.push(`vs f64 ${num(r.check.kiln_vs_f64, 1)}`);
  if (r.check.xla_vs_kiln != null) parts.push(`XLA vs kiln ${num(r.check.xla_vs_kiln, 1)}`);
  if (r.check.xla_vs_f64 != null) parts.push(`XLA vs f64 ${num(r.check.xla_vs_f64, 1)}`);
  const verdict = r.check.ok ? 'ok' : r.kiln_error ? 'kiln failed' : 'MISMATCH';
  return parts.length ? `${verdict} (${parts.join(', ')})` : verdict;
}

/**
 * Whether kiln's device has tensor cores (Dawn's subgroup matrices) and f16 arithmetic: the toggles
 * that expose them are on by default (runtime/webgpu/adapter.ts), so the adapter decides.
 */
export function tensorCoreLine(features: readonly string[]): string {
  const has = (f: string) => (features.includes(f) ? 'yes' : 'no');
  return `kiln tensor cores (subgroup matrices, ${SUBGROUP_MATRIX}): ${has(SUBGROUP_MATRIX)}; shader-f16: ${has('shader-f16')}`;
}

/** The lines above the table: adapter, date and versions, kiln's features, the timing rule. */
export function reportTitle(rep: BenchReport): string[] {
  return [
    `adapter: ${rep.adapter}${rep.jaxjs_adapter ? ` (jax-js: ${rep.jaxjs_adapter})` : ''}`,
    `${rep.date}, Node ${rep.node}, kiln device features: ${rep.features.join(', ') || 'none'}${rep.dawn.length ? `, Dawn options: ${rep.dawn.join(' ')}` : ''}`,
    tensorCoreLine(rep.features),
    `sizes: ${rep.sizes}; median of ${rep.reps} samples after ${rep.warmup} warm-up calls${rep.warmupMs ? ` (and at least ${rep.warmupMs} ms of them)` : ''}; times are wall time per call, ${rep.calls > 1 ? `${rep.calls} calls queued back to back per sample, then a wait for the GPU` : 'each call waited for until the GPU is done'}`,
  ];
}

/** The report as a Markdown table, followed by any errors, one line each. */
export function formatTable(rep: BenchReport): string {
  const xla = rep.xla !== undefined;
  const head = ['workload', 'size', 'kiln ms', 'jax-js ms', 'speedup', 'kiln', 'jax-js', 'kiln GPU ms', 'jax-js GPU ms',
    ...(xla ? ['XLA ms', 'XLA b2b ms', 'kiln ÷ XLA (per call)', 'XLA DEFAULT (TF32) ms / b2b'] : []), 'check'];
  const lines = reportTitle(rep);
  if (rep.jaxjs_unavailable) lines.push(`jax-js did not run: ${rep.jaxjs_unavailable}`);
  if (rep.xla) lines.push(describeXla(rep.xla));
  lines.push('', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const r of rep.rows) {
    const cells = [
      r.workload, r.size, num(r.kiln_ms), num(r.jaxjs_ms), r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`,
      throughput(r, 'kiln'), throughput(r, 'jaxjs'), num(r.kiln_gpu_ms), num(r.jaxjs_gpu_ms),
      ...(xla ? xlaCells(r) : []), checkCell(r),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const errors = rep.rows.flatMap((r) => [
    r.kiln_error ? `kiln ${r.workload} ${r.size}: ${r.kiln_error.split('\n')[0]}` : '',
    r.jaxjs_error && !rep.jaxjs_unavailable ? `jax-js ${r.workload} ${r.size}: ${r.jaxjs_error.split('\n')[0]}` : '',
    r.xla_error && !rep.xla?.unavailable ? `XLA ${r.workload} ${r.size}: ${r.xla_error}` : '',
  ]).filter(Boolean);
  if (errors.length) lines.push('', ...errors);
  return lines.join('\n');
}

/** The XLA cells: per call, back to back, kiln's per-call time over XLA's, and the TF32 times of matmul rows. */
function xlaCells(r: Row): string[] {
  const tf32 = r.xla_default_ms === undefined ? '-' : `${num(r.xla_default_ms)} / ${num(r.xla_default_b2b_ms)}`;
  return [num(r.xla_ms), num(r.xla_b2b_ms), r.kiln_vs_xla == null ? '-' : `${r.kiln_vs_xla.toFixed(2)}`, tf32];
}

/** Rounds a number for JSON (times to 1 ns, rates to 4 significant digits). */
function round(x: number | null | undefined, digits: number): number | null | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

/** The `--json` object: the fixed keys first, then the extra fields of each row. */
export function toJson(rep: BenchReport): object {
  return {
    adapter: rep.adapter,
    rows: rep.rows.map((r) => ({
      workload: r.workload,
      size: r.size,
      kiln_ms: round(r.kiln_ms, 6),
      jaxjs_ms: round(r.jaxjs_ms, 6),
      speedup: round(r.speedup, 4),
      kiln_min_ms: round(r.kiln_min_ms, 6),
      jaxjs_min_ms: round(r.jaxjs_min_ms, 6),
      kiln_gpu_ms: round(r.kiln_gpu_ms, 6),
      jaxjs_gpu_ms: round(r.jaxjs_gpu_ms, 6),
      gpu_speedup: round(r.gpu_speedup, 4),
      ...(r.kiln_tflops !== undefined ? { kiln_tflops: round(r.kiln_tflops, 4), jaxjs_tflops: round(r.jaxjs_tflops, 4) } : {}),
      ...(r.kiln_gbps !== undefined ? { kiln_gbps: round(r.kiln_gbps, 4), jaxjs_gbps: round(r.jaxjs_gbps, 4) } : {}),
      ...(r.kiln_calls_per_s !== undefined ? { kiln_calls_per_s: round(r.kiln_calls_per_s, 4), jaxjs_calls_per_s: round(r.jaxjs_calls_per_s, 4) } : {}),
      ...(r.xla_ms !== undefined ? {
        xla_ms: round(r.xla_ms, 6),
        xla_b2b_ms: round(r.xla_b2b_ms, 6),
        kiln_vs_xla: round(r.kiln_vs_xla, 4),
        xla_min_ms: round(r.xla_min_ms, 6),
        ...(r.xla_default_ms !== undefined ? { xla_default_ms: round(r.xla_default_ms, 6), xla_default_b2b_ms: round(r.xla_default_b2b_ms, 6) } : {}),
        ...(r.xla_tflops !== undefined ? { xla_tflops: round(r.xla_tflops, 4) } : {}),
        ...(r.xla_gbps !== undefined ? { xla_gbps: round(r.xla_gbps, 4) } : {}),
        ...(r.xla_calls_per_s !== undefined ? { xla_calls_per_s: round(r.xla_calls_per_s, 4) } : {}),
        ...(r.xla_error ? { xla_error: r.xla_error } : {}),
      } : {}),
      check: {
        ...r.check,
        kiln_vs_jaxjs: round(r.check.kiln_vs_jaxjs, 3),
        kiln_vs_f64: round(r.check.kiln_vs_f64, 3),
        jaxjs_vs_f64: round(r.check.jaxjs_vs_f64, 3),
        ...(r.check.xla_vs_kiln !== undefined ? { xla_vs_kiln: round(r.check.xla_vs_kiln, 3), xla_vs_f64: round(r.check.xla_vs_f64, 3) } : {}),
      },
      ...(r.kiln_error ? { kiln_error: r.kiln_error } : {}),
      ...(r.jaxjs_error ? { jaxjs_error: r.jaxjs_error } : {}),
      ...(r.kiln_profile ? { kiln_profile: r.kiln_profile } : {}),
      ...(r.kiln_profile_error ? { kiln_profile_error: r.kiln_profile_error } : {}),
    })),
    features: rep.features,
    subgroup_matrices: rep.features.includes(SUBGROUP_MATRIX),
    shader_f16: rep.features.includes('shader-f16'),
    date: rep.date,
    node: rep.node,
    jaxjs_adapter: rep.jaxjs_adapter,
    jaxjs_unavailable: rep.jaxjs_unavailable,
    ...(rep.xla ? { xla: rep.xla } : {}),
    dawn: rep.dawn,
    sizes: rep.sizes,
    timing: rep.timing,
    warmup: rep.warmup,
    warmup_ms: rep.warmupMs ?? 0,
    reps: rep.reps,
    ...(rep.profile ? { profile: true } : {}),
  };
}
