/**
 * @file Why is a program's GPU (timestamp) time longer when it is one call per submit than when
 * many runs share a submit? For each bench program (lowered from bench/workloads.ts) this times
 * every dispatch with timestamps on raw Dawn, under submission patterns that isolate one cause
 * each, then runs it through kiln's device with its profiler, and prints one table:
 *   batch       20 runs in one command buffer, one submit (scripts/kernel-perf.ts's pattern)
 *   wait        one run per submit, waiting for the GPU after each (the bench's pattern)
 *   queued      20 submits of one run each, back to back, then one wait
 *   wait+sleep  as wait, with 20 ms of idle CPU between runs (clock decay)
 *   warm        one submit: 5 untimed runs, then the timed one (ramp inside a submit)
 *   2nd device  as wait, with a second idle GPUDevice open on the adapter (jax-js's)
 *   kiln wait / kiln queued: kiln's execute + sync (+ free) through Device.profile
 *   client      the bench's own call (client jit on np.array inputs, sync, dispose), profiled
 *   runCase     bench/run.ts's runCase on the same workload in this process (its kiln GPU ms)
 *   after       kiln wait again, after runCase (does the bench leave the GPU in a slow state?)
 * Each cell: median per-run GPU time (first dispatch start to last dispatch end) in ms. After
 * each pattern the SM and memory clocks are read with `nvidia-smi --query-gpu` (read only).
 *   node .device/probe.js [--only name,...] [--subgroups off] [--smoke]
 * Build: npx esbuild scripts/gap-probe.ts --bundle --platform=node --format=esm --outfile=.device/probe.js --external:webgpu
 */
import { execFileSync } from 'node:child_process';
import { acquireDevice } from '../runtime/webgpu/adapter.js';
import { loadProgram } from './raw-program.js';
import { createWebGPUDevice } from '../runtime/webgpu/device.js';
import { compile } from '../compiler/compile.js';
import type { Program } from '../compiler/program.js';
import { lower, numpy as np, setDefaultDevice } from '../client/index.js';
import { WORKLOADS } from '../bench/workloads.js';
import { runCase } from '../bench/run.js';
import type { BenchEnv } from '../bench/env.js';
import { hostTensor } from '../runtime/tensor.js';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : ['elementwise_chain', 'softmax', 'layernorm', 'transformer_block', 'matmul'];
const REPS = 20;
const SIZES = argv.includes('--smoke') ? 'smoke' : 'full';

function clocks(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=clocks.sm,clocks.mem,pstate', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000 }).trim().replace(/\s+/g, '');
  } catch { return '-'; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN; };

interface Prepared { prog: Program; encode(enc: GPUCommandEncoder, timed: boolean): void; read(): Promise<number[][]>; reset(): void }

/** Buffers, pipelines and bind groups of a program on raw Dawn; timed runs write per-dispatch timestamps. */
async function prepare(device: GPUDevice, prog: Program, inputs: Float32Array[]): Promise<Prepared> {
  const raw = await loadProgram(device, prog, inputs);
  const CAP = 4096;
  const qs = device.createQuerySet({ type: 'timestamp', count: CAP });
  const resolve = device.createBuffer({ size: CAP * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  let used = 0;
  const runs: [number, number][] = [];
  // Timed runs put a timestamp pair around every dispatch (while there is room in the query set).
  const timestamps = (): GPUComputePassDescriptor | undefined => {
    if (used + 2 > CAP) return undefined;
    const timestampWrites = { querySet: qs, beginningOfPassWriteIndex: used, endOfPassWriteIndex: used + 1 };
    used += 2;
    return { timestampWrites };
  };
  return {
    prog,
    encode(enc, timed) {
      const from = used;
      raw.encode(enc, prog.steps, timed ? timestamps : undefined);
      if (timed) runs.push([from, used]);
    },
    reset() { used = 0; runs.length = 0; },
    async read() {
      const enc = device.createCommandEncoder();
      const st = device.createBuffer({ size: Math.max(8, used * 8), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      if (used) {
        enc.resolveQuerySet(qs, 0, used, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, st, 0, used * 8);
      }
      device.queue.submit([enc.finish()]);
      await st.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(st.getMappedRange().slice(0));
      st.unmap();
      st.destroy();
      const out = runs.map(([a, b]) => Array.from(t.slice(a, b), Number));
      used = 0;
      runs.length = 0;
      return out;
    },
  };
}

/** Per-run GPU span (ms) from that run's timestamps. */
const spans = (runs: number[][]) => runs.map((t) => (t[t.length - 1] - t[0]) / 1e6);
/** Per-run sum of dispatch times (ms). */
const sums = (runs: number[][]) => runs.map((t) => { let s = 0; for (let i = 0; i + 1 < t.length; i += 2) s += t[i + 1] - t[i]; return s / 1e6; });

async function patterns(device: GPUDevice, p: Prepared, extra: () => Promise<GPUDevice>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const cell = (runs: number[][]) => `${median(spans(runs)).toFixed(3)}/${median(sums(runs)).toFixed(3)}`;
  const submit = (n: number, timedFrom = 0) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) p.encode(enc, i >= timedFrom);
    device.queue.submit([enc.finish()]);
  };
  // warm-up
  submit(3, 99); await device.queue.onSubmittedWorkDone();
  submit(REPS); await device.queue.onSubmittedWorkDone();
  out.batch = `${cell(await p.read())} ${clocks()}`;
  for (let i = 0; i < REPS; i++) { submit(1); await device.queue.onSubmittedWorkDone(); }
  out.wait = `${cell(await p.read())} ${clocks()}`;
  for (let i = 0; i < REPS; i++) submit(1);
  await device.queue.onSubmittedWorkDone();
  out.queued = `${cell(await p.read())} ${clocks()}`;
  for (let i = 0; i < 10; i++) { submit(1); await device.queue.onSubmittedWorkDone(); await sleep(20); }
  out['wait+sleep'] = `${cell(await p.read())} ${clocks()}`;
  for (let i = 0; i < 10; i++) { submit(6, 5); await device.queue.onSubmittedWorkDone(); }
  out.warm = `${cell(await p.read())} ${clocks()}`;
  const d2 = await extra();
  for (let i = 0; i < REPS; i++) { submit(1); await device.queue.onSubmittedWorkDone(); }
  out['2nd device'] = `${cell(await p.read())} ${clocks()}`;
  d2.destroy();
  return out;
}

const keep: unknown[] = [];

async function main(): Promise<void> {
  const sgOff = argv.includes('--subgroups') && argv[argv.indexOf('--subgroups') + 1] === 'off';
  const acq = await acquireDevice(sgOff ? { disableFeatures: ['subgroups'] } : {});
  keep.push(acq.gpu);
  const { device, target } = acq;
  console.log(`adapter: ${acq.info.adapter}\nfeatures: ${(acq.info.features ?? []).join(' ')}\ntarget: ${JSON.stringify(target)}\nclocks at start: ${clocks()}`);
  const extra = async () => (await acq.gpu.requestAdapter({ powerPreference: 'high-performance' }))!.requestDevice();
  const table: string[] = ['program | kernels | batch | wait | queued | wait+sleep | warm | 2nd device | kiln wait | kiln queued | client | runCase | after'];
  const lines: { name: string; kernels: number; r: Record<string, string>; module: unknown; inputs: { shape: number[]; data: ArrayLike<number> }[]; spec: (typeof WORKLOADS)[number] extends { cases(s: never): (infer S)[] } ? S : never; kilnFn: (...xs: never[]) => { dispose(): void }[] }[] = [];
  for (const w of WORKLOADS) {
    if (!only.includes(w.name)) continue;
    const spec = w.cases(SIZES)[0];
    setDefaultDevice('reference');
    const c = spec.make();
    const args = c.inputs.map((a) => np.array(a.data, { shape: a.shape }));
    const low = lower(c.kiln as (...xs: typeof args) => unknown)(...args);
    const prog = compile(low.module, target);
    const inputs = c.inputs.map((a) => Float32Array.from(a.data));
    const p = await prepare(device, prog, inputs);
    const r = await patterns(device, p, extra);
    lines.push({ name: `${w.name} ${spec.size}`, kernels: prog.kernels.length, r, module: low.module, inputs: c.inputs, spec, kilnFn: c.kiln as never });
    console.log(`${w.name}: ${JSON.stringify(r)}`);
  }
  // kiln's own device, opened only now so that the raw patterns above ran with one device open.
  device.destroy();
  const kiln = await createWebGPUDevice(sgOff ? { disableFeatures: ['subgroups'] } : {});
  setDefaultDevice(kiln);
  for (const { name, kernels, r, module, inputs, spec, kilnFn } of lines) {
    const low = { module: module as Parameters<typeof kiln.compile>[0] };
    const c = { inputs };
    // kiln itself, as the bench calls it (one call per sample, then 10 queued per sample).
    const exe = kiln.compile(low.module);
    const xs = c.inputs.map((a) => kiln.upload(hostTensor('f32', a.shape, a.data)));
    const kcell = async (calls: number) => {
      for (let i = 0; i < 3; i++) { kiln.execute(exe, xs).forEach((o) => kiln.free(o)); }
      await kiln.sync();
      kiln.profile(true);
      const per: number[] = [];
      for (let s = 0; s < 10; s++) {
        const outs = [];
        for (let i = 0; i < calls; i++) outs.push(...kiln.execute(exe, xs));
        await kiln.sync();
        outs.forEach((o) => kiln.free(o));
        const prof = kiln.takeProfiles();
        per.push(...prof.map((q) => q.spanMs));
      }
      kiln.profile(false);
      return `${median(per).toFixed(3)} ${clocks()}`;
    };
    const kw = await kcell(1), kq = await kcell(10);
    // The bench's call: the client's jit on np.array inputs, sync, dispose.
    const arrs = c.inputs.map((a) => np.array(a.data, { shape: a.shape }));
    for (let i = 0; i < 3; i++) { const o = kilnFn(...(arrs as never[])); await kiln.sync(); o.forEach((x) => x.dispose()); }
    kiln.profile(true);
    const per: number[] = [];
    for (let s = 0; s < 10; s++) {
      const o = kilnFn(...(arrs as never[]));
      await kiln.sync();
      o.forEach((x) => x.dispose());
      per.push(...kiln.takeProfiles().map((q) => q.busyMs));
    }
    kiln.profile(false);
    const client = `${median(per).toFixed(3)} ${clocks()}`;
    arrs.forEach((a) => a.dispose());
    const env = { kiln, jax: null, adapter: '', dawn: [], jaxTimestamps: false, close() {} } as unknown as BenchEnv;
    const row = await runCase(env, spec, { warmup: 3, reps: 10 });
    const rc = `${row.kiln_gpu_ms?.toFixed(3)} (wall ${row.kiln_ms?.toFixed(3)}) ${clocks()}`;
    const after = await kcell(1);
    xs.forEach((x) => kiln.free(x));
    const line = `${name} | ${kernels} | ${r.batch} | ${r.wait} | ${r.queued} | ${r['wait+sleep']} | ${r.warm} | ${r['2nd device']} | ${kw} | ${kq} | ${client} | ${rc} | ${after}`;
    console.log(line);
    table.push(line);
  }
  console.log('\n==== probe (ms per run: span/sum of dispatches, then sm MHz, mem MHz, pstate) ====');
  for (const l of table) console.log(l);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
