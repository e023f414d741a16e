/**
 * @file Timing: warm-up, repetitions and the median; and GPU kernel time for jax-js from its
 * profiler, which writes a timestamp query around each dispatch and reports every kernel as a
 * `performance.measure` entry whose start and end come from the GPU's clock.
 */
import { performance, type PerformanceEntry, type PerformanceMeasure } from 'node:perf_hooks';
import type { JaxModule } from './env.js';
import { median } from '../runtime/profile-report.js';

/** How many times to run a case. */
export interface RepeatOptions {
  /** Untimed calls first (compilation, uploads, pipeline creation). */
  warmup: number;
  /** Timed samples; the median is reported. */
  reps: number;
  /**
   * Warm-up goes on (up to 10,000 calls) until this much time has passed too: a GPU left idle
   * while the host prepared the case may still be at idle clocks after a few short calls.
   */
  warmupMs?: number;
}

/** The samples of one measurement and their median, in milliseconds per call. */
export interface Samples {
  median: number;
  min: number;
  samples: number[];
}

/** Median of a list: the profiler's (runtime/profile-report.ts), for the bench's samples too. */
export { median };

/** Summarizes samples (ms per call). */
export function summarize(samples: number[]): Samples {
  return { median: median(samples), min: Math.min(...samples), samples };
}

/**
 * Runs `sample` `warmup` times untimed, then `reps` times timed. Each sample does its calls and
 * waits until the GPU has finished them; the time is divided by `callsPerSample`.
 */
export async function measure(sample: () => Promise<void>, opts: RepeatOptions, callsPerSample = 1): Promise<Samples> {
  const t0 = performance.now();
  for (let i = 0; i < opts.warmup || (performance.now() - t0 < (opts.warmupMs ?? 0) && i < 10000); i++) await sample();
  const times: number[] = [];
  for (let i = 0; i < opts.reps; i++) {
    const t0 = performance.now();
    await sample();
    times.push((performance.now() - t0) / callsPerSample);
  }
  return summarize(times);
}

interface ProfilerDetail {
  devtools?: { trackGroup?: string; track?: string };
}

/**
 * jax-js's kernel entries that started after `since` (its GPU times are mapped onto the CPU clock
 * at read-back, so a kernel never appears earlier than it ran; a late entry of an earlier sample
 * is excluded this way).
 */
function jaxKernelMeasures(since: number): PerformanceEntry[] {
  return performance.getEntriesByType('measure').filter((e) => {
    const d = (e as PerformanceMeasure).detail as ProfilerDetail | undefined;
    return d?.devtools?.trackGroup === 'JAX Profiler' && d.devtools.track === 'webgpu' && e.startTime >= since;
  });
}

/**
 * Time the GPU was running at least one of the kernels: the length of the union of their
 * intervals (a driver may overlap dispatches, so the plain sum can exceed the wall time).
 */
export function busyTime(kernels: readonly { startTime: number; duration: number }[]): number {
  const spans = kernels.map((k) => [k.startTime, k.startTime + k.duration] as const).sort((a, b) => a[0] - b[0]);
  let total = 0, end = -Infinity;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

/** Lets Dawn deliver pending map callbacks: jax-js reads its timestamp buffer asynchronously. */
async function settle(count: () => number, maxMs = 2000): Promise<void> {
  const end = performance.now() + maxMs;
  let last = -1, stable = 0;
  while (performance.now() < end && stable < 5) {
    await new Promise((r) => setTimeout(r, 2));
    const n = count();
    // Nothing yet means the read-back is still pending, not that there were no kernels.
    stable = n > 0 && n === last ? stable + 1 : 0;
    last = n;
  }
}

/**
 * GPU time of jax-js calls: for each sample, the time the GPU spent running its kernels (see
 * {@link busyTime}), from timestamp queries. Null when the device lacks `timestamp-query` or no
 * kernel was reported (then only wall time is known).
 */
export async function jaxGpuTime(jax: JaxModule, sample: () => Promise<void>, reps: number, callsPerSample = 1): Promise<Samples | null> {
  const device = jax.getWebGPUDevice();
  if (!device.features.has('timestamp-query')) return null;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    performance.clearMeasures();
    const since = performance.now();
    jax.profiler.startTrace();
    try {
      await sample();
    } finally {
      jax.profiler.stopTrace();
    }
    await device.queue.onSubmittedWorkDone();
    await settle(() => jaxKernelMeasures(since).length);
    const kernels = jaxKernelMeasures(since);
    if (kernels.length === 0) return null;
    times.push(busyTime(kernels) / callsPerSample);
  }
  performance.clearMeasures();
  return summarize(times);
}
