/**
 * @file Dispatch overhead: tiny calls per second (`x*2+1` on f32[8], the bench's `tiny_call`), on
 * the three layers a call goes through:
 *   client   `jit(f)(x)` on a device array, N calls queued, one `device.sync()`, outputs disposed
 *   eager    `x.mul(2).add(1)` without jit (two eager ops a call; `--only eager`)
 *   execute  the runtime's `WebGPUDevice.execute` on the lowered module, N calls, sync, `free`
 *   run      `GpuExecutable.run` alone (no run queue, no DeviceArrays), N runs, one queue wait
 * Each prints the median of `--reps` samples of `--calls` calls after a warm-up, the process's CPU
 * time per call (median; on lavapipe it includes the software GPU's threads: steadier than wall
 * time on a loaded machine), the fastest sample's time in its loop of calls per call (what the
 * caller pays before the run queue works: the client's and execute's own host cost; for `run`,
 * the encoding and submits themselves), and the
 * device's counters per call (buffers, bind groups, submits).
 *   node .device/tiny-call.js [--calls 1000] [--reps 7] [--only client,execute,run]
 * Build: npx esbuild scripts/tiny-call.ts --bundle --platform=node --format=esm --outfile=.device/tiny-call.js --packages=external
 * Profile: node --cpu-prof --cpu-prof-dir=.device/prof .device/tiny-call.js --only client
 */
import { createWebGPUDevice, type WebGPUDevice } from '../runtime/webgpu/device.js';
import type { GpuExecutable } from '../runtime/webgpu/executor.js';
import { jit, lower, numpy as np, setDefaultDevice, type Array as KArray } from '../client/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

const CALLS = Number(arg('calls', '1000'));
const REPS = Number(arg('reps', '7'));
const ONLY = arg('only', 'client,execute,run').split(',');

/** Time the last sample spent in its loop of calls (the caller's own cost, before the queue runs). */
let enqueueMs = 0;
let disposeMs = 0;
const queueMs: number[] = [];

async function rate(name: string, dev: WebGPUDevice, sample: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 3; i++) await sample();
  const before = { ...dev.stats };
  const times: number[] = [];
  const cpus: number[] = [];
  const queued: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    await sample();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / CALLS);
    queued.push(enqueueMs);
  }
  cpus.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const n = REPS * CALLS;
  const per = (k: keyof typeof before) => ((dev.stats[k] - before[k]) / n).toFixed(2);
  console.log(`${name.padEnd(8)} ${(CALLS / (med / 1000)).toFixed(0).padStart(7)} calls/s  (best ${(CALLS / (times[0] / 1000)).toFixed(0)}; CPU ${cpus[Math.floor(cpus.length / 2)].toFixed(1)} us/call; `
    + `calling ${(1000 * Math.min(...queued) / CALLS).toFixed(2)} us/call (min); `
    + `per call: bindGroups ${per('bindGroups')}, submits ${per('submits')}, buffers ${per('buffers')})`);
}

const dev = await createWebGPUDevice();
setDefaultDevice(dev);
const f = jit((v: KArray) => [v.mul(2).add(1)]);
const data = Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.5);
const x = np.array(data, { shape: [8] });
await f(x)[0].data();
console.log(`tiny_call f32[8] on ${dev.info().adapter ?? 'webgpu'}: ${CALLS} calls per sample, median of ${REPS}`);

if (ONLY.includes('client')) {
  await rate('client', dev, async () => {
    const outs: KArray[] = [];
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) outs.push(...f(x));
    enqueueMs = performance.now() - t0;
    await dev.sync();
    const t1 = performance.now();
    for (const o of outs) o.dispose();
    await dev.sync(); // the releases to the pool
    disposeMs = performance.now() - t1;
  });
  console.log(`         dispose + release ${(1000 * disposeMs / CALLS).toFixed(2)} us/call (last sample)`);
}

if (ONLY.includes('eager')) {
  await rate('eager', dev, async () => {
    const outs: KArray[] = [];
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) {
      const m = x.mul(2);
      outs.push(m.add(1));
      m.dispose();
    }
    enqueueMs = performance.now() - t0;
    await dev.sync();
    for (const o of outs) o.dispose();
  });
}

const module = lower(f)(x).module;
const exe = dev.compile(module) as GpuExecutable;
const input = dev.upload({ dtype: 'f32', shape: [8], data });
if (ONLY.includes('execute')) {
  await rate('execute', dev, async () => {
    const outs = [];
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) outs.push(...dev.execute(exe, [input]));
    enqueueMs = performance.now() - t0;
    await (outs[outs.length - 1] as unknown as { done: Promise<void> }).done; // every run encoded
    queueMs.push(performance.now() - t0);
    await dev.sync();
    for (const o of outs) dev.free(o);
  });
}
if (queueMs.length) console.log(`         calls + run queue ${(1000 * Math.min(...queueMs) / CALLS).toFixed(2)} us/call (min; every run encoded)`);
if (ONLY.includes('run')) {
  const inBuf = (input as unknown as { buffer: GPUBuffer }).buffer;
  const pool = (dev as unknown as { pool: { release(b: GPUBuffer): void } }).pool;
  await rate('run', dev, async () => {
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) for (const b of await exe.run([inBuf])) pool.release(b);
    enqueueMs = performance.now() - t0;
    await dev.sync();
  });
}
dev.destroy();
