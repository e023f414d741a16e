/**
 * @file The bench's `--profile`: for each kiln row, the per-kernel table of that row's program on
 * the row's own inputs, as `kiln profile` prints it (runtime/profile-report.ts): the jitted function
 * is lowered to StableHLO, compiled on the bench's kiln device, run with the profiler on, and each
 * kernel's GPU time, bytes, FLOP rate and percent of the H200's roofline reported, with the row's
 * dispatches per run and the sum of its kernel times beside the busy (union) time. The sections go
 * to a Markdown file (one per row) and, with `--json`, into the rows.
 */
import { lower, type Array as KArray } from '../client/index.js';
import { DeviceError } from '../ir/errors.js';
import type { Device } from '../runtime/device.js';
import {
  formatProfile, H200_PEAKS, profileReport, profileRuns, profileTotals, type Peaks, type ProfileReport, type ProfileTotals,
} from '../runtime/profile-report.js';
import { GpuExecutable } from '../runtime/webgpu/executor.js';
import type { HostArray } from './host.js';

/**
 * NVIDIA H200 (SXM) peaks for rows with f16 inputs: HBM3e bandwidth and dense f16 tensor-core
 * throughput (989 TFLOP/s without sparsity, NVIDIA's datasheet); f32 rows use {@link H200_PEAKS}.
 */
export const H200_F16_PEAKS: Peaks = { gbps: 4800, tflops: 989, flops: 'f16 tensor cores' };

/** The per-kernel profile of one bench row: `kiln profile`'s report and the row's totals per run. */
export interface RowProfile extends ProfileReport {
  totals: ProfileTotals;
}

/** The peaks a row is measured against: f16 tensor cores when its inputs are f16, else f32. */
export function rowPeaks(inputs: readonly HostArray[]): { peaks: Peaks; source: string } {
  return inputs.some((a) => a.dtype === 'f16')
    ? { peaks: H200_F16_PEAKS, source: 'NVIDIA H200 f16 tensor-core peaks, whatever the adapter' }
    : { peaks: { ...H200_PEAKS }, source: 'NVIDIA H200 f32 peaks (no tensor cores), whatever the adapter' };
}

/**
 * Profiles kiln's jitted `fn` on `inputs` (the row's arrays on `d`, whose host values are
 * `host`): `runs` profiled runs after one untimed run.
 */
export async function profileRow(d: Device, fn: (...xs: KArray[]) => KArray[], inputs: readonly KArray[], host: readonly HostArray[], runs: number): Promise<RowProfile> {
  const adapter = d.info().adapter;
  if (!d.profile?.(true)) throw new DeviceError(`bench --profile: the adapter '${adapter}' has no timestamp-query feature, so kernels cannot be timed on the GPU`);
  d.profile(false);
  const exe = d.compile(lower(fn)(...inputs).module);
  if (!(exe instanceof GpuExecutable)) throw new DeviceError('bench --profile: the device returned an executable without a program');
  const args = host.map((a) => d.upload({ dtype: a.dtype ?? 'f32', shape: a.shape, data: a.data }));
  try {
    const profiles = await profileRuns(d, exe, args, runs);
    const { peaks, source } = rowPeaks(host);
    const report = profileReport(adapter, exe.program, profiles, peaks, source);
    return { ...report, totals: profileTotals(report) };
  } finally {
    for (const a of args) d.free(a);
  }
}

/** The line under a row's heading: dispatches, summed kernel time against the busy time. */
export function totalsLine(t: ProfileTotals): string {
  const overlap = t.busyMs > 0 ? ` (sum / busy ${(t.kernelMs / t.busyMs).toFixed(2)})` : '';
  return `${t.dispatches} dispatch${t.dispatches === 1 ? '' : 'es'} per run; kernel times summed ${t.kernelMs.toFixed(4)} ms, busy (union of the dispatches) ${t.busyMs.toFixed(4)} ms${overlap}, first dispatch to last ${t.spanMs.toFixed(4)} ms`;
}

/** What {@link formatProfiles} needs of a row. */
export interface ProfiledRow {
  workload: string;
  size: string;
  kiln_profile?: RowProfile;
  kiln_profile_error?: string;
  kiln_error?: string;
}

/** One Markdown section for a row: its heading, totals and table, or why it has none. */
export function profileSection(r: ProfiledRow): string {
  const head = `## ${r.workload} ${r.size}`;
  if (!r.kiln_profile) return `${head}\n\nno profile: ${r.kiln_profile_error ?? (r.kiln_error ? `kiln failed: ${r.kiln_error.split('\n')[0]}` : 'not taken')}\n`;
  return `${head}\n\n${totalsLine(r.kiln_profile.totals)}\n\n\`\`\`\n${formatProfile(r.kiln_profile)}\n\`\`\`\n`;
}

/** The `--profile` file: a header line (`title`), then one section per row. */
export function formatProfiles(title: string, rows: readonly ProfiledRow[]): string {
  return [`# kiln per-kernel profiles\n\n${title}\n`, ...rows.map(profileSection)].join('\n');
}
