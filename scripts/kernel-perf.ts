/**
 * @file Kernel microbenchmark for GPU machines: compiles a few workloads (matmul at several sizes
 * and layouts, the elementwise chain, softmax, layernorm) with kiln's compiler and, where bundled,
 * with a baseline copy of the compiler (esbuild alias `kiln-base`), runs each program's kernels
 * directly on Dawn (many runs per submit, wall time after the queue drains, median of samples)
 * and prints one table row per variant: time, TFLOP/s or GB/s, and the relative error against the
 * first variant of its case. Matmul tile shapes are swept through `setMatmulTileOverride`.
 *   node .device/perf.js [--only substr,...] [--samples N] [--smoke | --gemm2 | --small]
 * `--gemm2`: the split-K and small-GEMM study (the MLP step's and the transformer block's shapes,
 * split in S slices by hand, each over a sweep of tiles; whole-matrix means; the bandwidth rows);
 * `--small`: the smoke bench's matmul shapes over every tile, for CPU adapters (lavapipe).
 * Without a baseline, alias `kiln-base` to a file holding `export {};` (no 'before' rows).
 * Build (baseline = the compiler before the kernel work, commit 2add078):
 *   B=.device/base; mkdir -p $B && git archive 2add078 compiler ir | tar -x -C $B
 *   npx esbuild scripts/kernel-perf.ts --bundle --platform=node --format=esm --outfile=.device/perf.js \
 *     --external:webgpu --alias:kiln-base=$B/compiler/compile.ts \
 *     --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
 */
import { performance } from 'node:perf_hooks';
import { acquireDevice } from '../runtime/webgpu/adapter.js';
import { loadProgram } from './raw-program.js';
import { compile } from '../compiler/compile.js';
import { MATMUL_TILES, setMatmulTileOverride, type MatmulTile } from '../compiler/codegen/tiles.js';
import { parseModule } from '../ir/parse/parser.js';
import type { Program, Step, Target } from '../compiler/program.js';
import type { Module } from '../ir/types.js';
import { lower, numpy as np, setDefaultDevice } from '../client/index.js';
import { WORKLOADS } from '../bench/workloads.js';
// @ts-ignore: resolved by esbuild's alias to a checkout of the previous compiler
import * as base from 'kiln-base';

type CompileFn = (m: Module, t: Target) => Program;
interface Variant { label: string; compile: CompileFn; tile?: MatmulTile }
interface Case { name: string; text: string; module?: Module; inputs: number[][]; flops?: number; bytes?: number; variants: Variant[]; breakdown?: boolean }

const argv = process.argv.slice(2);
const only = (argv[argv.indexOf('--only') + 1] ?? '').split(',').filter((s) => argv.includes('--only') && s);
const SAMPLES = argv.includes('--samples') ? Number(argv[argv.indexOf('--samples') + 1]) : 5;

const newC: CompileFn = (m, t) => compile(m, t);
const baseC: CompileFn | undefined = (base as { compile?: CompileFn }).compile;
const tileName = (t: MatmulTile) => `${t.bm}x${t.bn}x${t.bk}/${t.rm}x${t.rn}`;

function variants(sweep: MatmulTile[] = []): Variant[] {
  const v: Variant[] = [];
  if (baseC) v.push({ label: 'before', compile: baseC });
  v.push({ label: 'after', compile: newC });
  for (const t of sweep) v.push({ label: `tile ${tileName(t)}`, compile: newC, tile: t });
  return v;
}

const T = (s: number[]) => `tensor<${s.join('x')}xf32>`;

function matmul(m: number, k: number, n: number, layout: 'nn' | 'tn' | 'nt', sweep: MatmulTile[]): Case {
  const a = layout === 'tn' ? [k, m] : [m, k];
  const b = layout === 'nt' ? [n, k] : [k, n];
  const dims = layout === 'tn' ? '[0] x [0]' : layout === 'nt' ? '[1] x [1]' : '[1] x [0]';
  return {
    name: `matmul ${layout} ${m}x${k}x${n}`,
    text: `func.func public @main(%a: ${T(a)}, %b: ${T(b)}) -> ${T([m, n])} {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = ${dims} : (${T(a)}, ${T(b)}) -> ${T([m, n])}
  return %0 : ${T([m, n])}
}`,
    inputs: [a, b], flops: 2 * m * n * k, variants: variants(sweep),
  };
}

function batched(bt: number, n: number, sweep: MatmulTile[]): Case {
  const s = [bt, n, n];
  return {
    name: `bmm ${bt}x${n}^3`,
    text: `func.func public @main(%a: ${T(s)}, %b: ${T(s)}) -> ${T(s)} {
  %0 = stablehlo.dot_general %a, %b, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (${T(s)}, ${T(s)}) -> ${T(s)}
  return %0 : ${T(s)}
}`,
    inputs: [s, s], flops: 2 * bt * n ** 3, variants: variants(sweep),
  };
}

function mlpLayer(m: number, k: number, n: number): Case {
  return {
    name: `dense+bias+relu ${m}x${k}x${n}`,
    text: `func.func public @main(%a: ${T([m, k])}, %b: ${T([k, n])}, %c: ${T([n])}) -> ${T([m, n])} {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${T([m, k])}, ${T([k, n])}) -> ${T([m, n])}
  %1 = stablehlo.broadcast_in_dim %c, dims = [1] : (${T([n])}) -> ${T([m, n])}
  %2 = stablehlo.add %0, %1 : ${T([m, n])}
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %3 = stablehlo.broadcast_in_dim %z, dims = [] : (tensor<f32>) -> ${T([m, n])}
  %4 = stablehlo.maximum %2, %3 : ${T([m, n])}
  return %4 : ${T([m, n])}
}`,
    inputs: [[m, k], [k, n], [n]], flops: 2 * m * n * k, variants: variants(),
  };
}

function chain(n: number): Case {
  const s = T([n]);
  const c = (name: string, x: number) => `%${name}0 = stablehlo.constant dense<${x.toExponential()}> : tensor<f32>
  %${name} = stablehlo.broadcast_in_dim %${name}0, dims = [] : (tensor<f32>) -> ${s}`;
  return {
    name: `chain ${n >> 20}M`,
    text: `func.func public @main(%x: ${s}) -> ${s} {
  ${c('two', 2)}
  ${c('one', 1)}
  ${c('half', 0.5)}
  ${c('q', 0.25)}
  %0 = stablehlo.multiply %x, %two : ${s}
  %1 = stablehlo.add %0, %one : ${s}
  %2 = stablehlo.tanh %1 : ${s}
  %3 = stablehlo.multiply %2, %half : ${s}
  %4 = stablehlo.multiply %x, %q : ${s}
  %5 = stablehlo.add %3, %4 : ${s}
  return %5 : ${s}
}`,
    inputs: [[n]], bytes: 8 * n, variants: variants(),
  };
}

function softmax(r: number, c: number): Case {
  const x = T([r, c]), row = T([r]), col = T([r, 1]);
  return {
    name: `softmax ${r}x${c}`,
    text: `func.func public @main(%x: ${x}) -> ${x} {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (${x}, tensor<f32>) -> ${row}
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (${row}) -> ${col}
  %2 = stablehlo.broadcast_in_dim %1, dims = [0, 1] : (${col}) -> ${x}
  %3 = stablehlo.subtract %x, %2 : ${x}
  %4 = stablehlo.exponential %3 : ${x}
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %5 = stablehlo.reduce(%4 init: %zero) applies stablehlo.add across dimensions = [1] : (${x}, tensor<f32>) -> ${row}
  %6 = stablehlo.broadcast_in_dim %5, dims = [0] : (${row}) -> ${col}
  %7 = stablehlo.broadcast_in_dim %6, dims = [0, 1] : (${col}) -> ${x}
  %8 = stablehlo.divide %4, %7 : ${x}
  return %8 : ${x}
}`,
    inputs: [[r, c]], bytes: 8 * r * c, variants: variants(),
  };
}

function layernorm(r: number, c: number): Case {
  const x = T([r, c]), row = T([r]), col = T([r, 1]), v = T([c]);
  return {
    name: `layernorm ${r}x${c}`,
    text: `func.func public @main(%x: ${x}, %g: ${v}, %b: ${v}) -> ${x} {
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %n0 = stablehlo.constant dense<${c}.0> : tensor<f32>
  %n = stablehlo.broadcast_in_dim %n0, dims = [] : (tensor<f32>) -> ${col}
  %0 = stablehlo.reduce(%x init: %zero) applies stablehlo.add across dimensions = [1] : (${x}, tensor<f32>) -> ${row}
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (${row}) -> ${col}
  %2 = stablehlo.divide %1, %n : ${col}
  %3 = stablehlo.broadcast_in_dim %2, dims = [0, 1] : (${col}) -> ${x}
  %4 = stablehlo.subtract %x, %3 : ${x}
  %5 = stablehlo.multiply %4, %4 : ${x}
  %6 = stablehlo.reduce(%5 init: %zero) applies stablehlo.add across dimensions = [1] : (${x}, tensor<f32>) -> ${row}
  %7 = stablehlo.broadcast_in_dim %6, dims = [0] : (${row}) -> ${col}
  %8 = stablehlo.divide %7, %n : ${col}
  %e0 = stablehlo.constant dense<1.0e-05> : tensor<f32>
  %e = stablehlo.broadcast_in_dim %e0, dims = [] : (tensor<f32>) -> ${col}
  %9 = stablehlo.add %8, %e : ${col}
  %10 = stablehlo.rsqrt %9 : ${col}
  %11 = stablehlo.broadcast_in_dim %10, dims = [0, 1] : (${col}) -> ${x}
  %12 = stablehlo.multiply %4, %11 : ${x}
  %13 = stablehlo.broadcast_in_dim %g, dims = [1] : (${v}) -> ${x}
  %14 = stablehlo.multiply %12, %13 : ${x}
  %15 = stablehlo.broadcast_in_dim %b, dims = [1] : (${v}) -> ${x}
  %16 = stablehlo.add %14, %15 : ${x}
  return %16 : ${x}
}`,
    inputs: [[r, c], [c], [c]], bytes: 8 * r * c, variants: variants(),
  };
}

/**
 * A [m, k] x [k, n] product split along K into `s` slices (a batched product over the slices,
 * then a sum over them), with an optional bias+relu epilogue: what a split-K rewrite would run.
 */
function splitK(m: number, k: number, n: number, s: number, epilogue: boolean, sweep: MatmulTile[] = []): Case {
  const kc = k / s;
  const a3 = [m, s, kc], b3 = [s, kc, n], p = [s, m, n];
  const ep = epilogue ? `
  %b1 = stablehlo.broadcast_in_dim %c, dims = [1] : (${T([n])}) -> ${T([m, n])}
  %e1 = stablehlo.add %r, %b1 : ${T([m, n])}
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %zb = stablehlo.broadcast_in_dim %z, dims = [] : (tensor<f32>) -> ${T([m, n])}
  %out = stablehlo.maximum %e1, %zb : ${T([m, n])}` : `
  %out = stablehlo.add %r, %r : ${T([m, n])}`;
  const body = s === 1
    ? `%r = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${T([m, k])}, ${T([k, n])}) -> ${T([m, n])}`
    : `%a3 = stablehlo.reshape %a : (${T([m, k])}) -> ${T(a3)}
  %b3 = stablehlo.reshape %b : (${T([k, n])}) -> ${T(b3)}
  %p = stablehlo.dot_general %a3, %b3, batching_dims = [1] x [0], contracting_dims = [2] x [1] : (${T(a3)}, ${T(b3)}) -> ${T(p)}
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %r = stablehlo.reduce(%p init: %zero) applies stablehlo.add across dimensions = [0] : (${T(p)}, tensor<f32>) -> ${T([m, n])}`;
  return {
    name: `splitk ${m}x${k}x${n} s${s}${epilogue ? ' +bias+relu' : ''}`,
    text: `func.func public @main(%a: ${T([m, k])}, %b: ${T([k, n])}, %c: ${T([n])}) -> ${T([m, n])} {
  ${body}${ep}
  return %out : ${T([m, n])}
}`,
    inputs: [[m, k], [k, n], [n]], flops: 2 * m * n * k, variants: variants(sweep),
  };
}

/** The mean of a whole [r, c] matrix (an MLP's loss): one scalar out. */
function mean(r: number, c: number): Case {
  return {
    name: `mean ${r}x${c}`,
    text: `func.func public @main(%x: ${T([r, c])}) -> tensor<f32> {
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%x init: %zero) applies stablehlo.add across dimensions = [0, 1] : (${T([r, c])}, tensor<f32>) -> tensor<f32>
  %n = stablehlo.constant dense<${r * c}.0> : tensor<f32>
  %m = stablehlo.divide %s, %n : tensor<f32>
  return %m : tensor<f32>
}`,
    inputs: [[r, c]], bytes: 4 * r * c, variants: variants(),
  };
}

/** The split-K and small-GEMM study (`--gemm2`): the MLP step's and the transformer block's shapes. */
function gemmStudy(): Case[] {
  const t = (bm: number, bn: number, bk: number, rm: number, rn: number): MatmulTile => ({ bm, bn, bk, rm, rn });
  const small = [t(64, 64, 8, 4, 4), t(32, 64, 8, 4, 4), t(64, 64, 16, 4, 4), t(64, 128, 8, 8, 8), t(64, 64, 8, 8, 8), t(128, 128, 8, 8, 8), t(32, 32, 8, 4, 4)];
  const cs: Case[] = [];
  for (const s of [1, 2, 4, 8]) cs.push(splitK(256, 1024, 1024, s, true, small));
  for (const s of [1, 2, 3, 4, 6]) cs.push(splitK(2048, 3072, 768, s, false, small));
  for (const s of [1, 2]) cs.push(splitK(2048, 768, 768, s, false, small));
  for (const s of [1, 2]) cs.push(splitK(2048, 768, 3072, s, false, small));
  cs.push(matmul(1024, 256, 1024, 'tn', small));
  cs.push(matmul(4096, 4096, 4096, 'nn', [t(128, 128, 16, 8, 8), t(128, 64, 8, 8, 8), t(128, 128, 8, 8, 8)]));
  cs.push(matmul(1024, 1024, 1024, 'nn', small));
  cs.push(batched(32, 512, small));
  cs.push(mean(256, 1024), mean(8192, 4096), chain(64 << 20), softmax(8192, 4096), layernorm(8192, 4096));
  return cs;
}

const big = MATMUL_TILES;
const SMOKE = argv.includes('--smoke');
const SMALL_TILES: MatmulTile[] = [...MATMUL_TILES, { bm: 16, bn: 16, bk: 4, rm: 4, rn: 4 }, { bm: 32, bn: 32, bk: 16, rm: 4, rn: 4 }, { bm: 64, bn: 64, bk: 8, rm: 8, rn: 8 }, { bm: 32, bn: 32, bk: 8, rm: 8, rn: 8 }];
const CASES: Case[] = argv.includes('--small') ? [matmul(128, 128, 128, 'nn', SMALL_TILES), matmul(256, 256, 256, 'nn', SMALL_TILES), batched(4, 64, SMALL_TILES)]
  : argv.includes('--gemm2') ? gemmStudy() : SMOKE ? [
  matmul(256, 128, 192, 'nn', big.slice(0, 2)), matmul(100, 36, 60, 'nt', []), matmul(64, 64, 96, 'tn', []),
  batched(4, 64, []), mlpLayer(64, 96, 128), chain(1 << 20), softmax(64, 300), layernorm(64, 256),
] : [
  matmul(4096, 4096, 4096, 'nn', [...big.slice(0, 3), { bm: 128, bn: 128, bk: 16, rm: 8, rn: 8 }, { bm: 64, bn: 64, bk: 8, rm: 8, rn: 8 },
    { bm: 128, bn: 64, bk: 8, rm: 8, rn: 8 }, { bm: 64, bn: 64, bk: 16, rm: 4, rn: 4 }, { bm: 128, bn: 128, bk: 8, rm: 8, rn: 4 }]),
  matmul(2048, 2048, 2048, 'nn', big.slice(0, 3)),
  matmul(1024, 1024, 1024, 'nn', [...big.slice(1, 4), { bm: 64, bn: 64, bk: 8, rm: 8, rn: 8 }, { bm: 32, bn: 64, bk: 16, rm: 4, rn: 4 }]),
  matmul(4096, 4096, 4096, 'nt', []),
  matmul(4096, 4096, 4096, 'tn', []),
  batched(32, 512, big.slice(0, 3)),
  mlpLayer(256, 1024, 1024),
  matmul(1024, 256, 1024, 'tn', big.slice(1, 4)),
  chain(64 << 20),
  softmax(8192, 4096),
  layernorm(8192, 4096),
];
if (!argv.includes('--gemm2') && !argv.includes('--small')) for (const w of ['mlp_train_step', 'transformer_block']) CASES.push(benchCase(w, SMOKE ? 'smoke' : 'full'));

/** A bench workload's kiln program (traced on the host), timed whole and kernel by kernel. */
function benchCase(name: string, sizes: 'smoke' | 'full'): Case {
  setDefaultDevice('reference');
  const spec = WORKLOADS.find((w) => w.name === name)!.cases(sizes)[0];
  const c = spec.make();
  const args = c.inputs.map((a) => np.array(a.data, { shape: a.shape }));
  const low = lower(c.kiln as (...xs: typeof args) => unknown)(...args);
  return { name: `${name} ${spec.size}`, text: '', module: low.module, inputs: c.inputs.map((a) => a.shape), flops: c.flops, bytes: c.bytes, variants: variants(), breakdown: true };
}

function randomData(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = (s / 4294967296) * 2 - 1; }
  return a;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

const keep: unknown[] = [];

async function main(): Promise<void> {
  const acq = await acquireDevice({});
  const { device, target } = acq;
  // dawn.node lives only while the create() object is referenced: hold it for the whole run.
  keep.push(acq.gpu);
  console.log(`adapter: ${acq.info.adapter}\ntarget: ${JSON.stringify(target)}\nfeatures: ${(acq.info.features ?? []).join(' ')}\nbaseline: ${baseC ? 'yes' : 'no'}`);
  device.addEventListener?.('uncapturederror', (e) => console.log(`uncaptured: ${(e as GPUUncapturedErrorEvent).error.message}`));
  const rows: string[] = [];
  const row = (...c: (string | number)[]) => { const l = c.map(String).join(' | '); rows.push(l); console.log(l); };
  row('case', 'variant', 'ms', 'rate', 'relerr', 'kernels');
  for (const c of CASES) {
    if (only.length && !only.some((o) => c.name.includes(o))) continue;
    const mod = c.module ?? parseModule(c.text);
    const inputs = c.inputs.map((s, i) => randomData(s.reduce((a, b) => a * b, 1), i + 1));
    let ref: Float32Array | undefined;
    for (const v of c.variants) {
      try {
        setMatmulTileOverride(v.tile);
        const p = v.compile(mod, target);
        setMatmulTileOverride(undefined);
        const r = await runProgram(device, p, inputs, c.breakdown && v.label === 'after');
        let err = 0;
        if (!ref) ref = r.out;
        else {
          let num = 0, den = 0;
          for (let i = 0; i < ref.length; i++) { const d = r.out[i] - ref[i]; num += d * d; den += ref[i] * ref[i]; }
          err = Math.sqrt(num / Math.max(den, 1e-30));
          if (!Number.isFinite(err)) err = Infinity;
        }
        const rate = c.flops ? `${(c.flops / r.ms / 1e9).toFixed(2)} TFLOP/s` : `${((c.bytes ?? 0) / r.ms / 1e6).toFixed(0)} GB/s`;
        row(c.name, v.label, r.ms.toFixed(4), rate, err.toExponential(1), c.breakdown ? `${p.kernels.length} kernels` : p.kernels.map((k) => k.name).join(','));
        if (c.breakdown && v.label === 'after') {
          for (const [ki, ms] of r.perKernel.entries()) {
            if (ms > 0.002) row(c.name, `  ${p.kernels[ki].name}`, ms.toFixed(4), p.kernels[ki].workgroups.join('x'), '', '');
          }
        }
      } catch (e) {
        setMatmulTileOverride(undefined);
        row(c.name, v.label, 'FAILED', String((e as Error).message).split('\n').slice(0, 3).join(' / '), '', '');
      }
    }
  }
  console.log('\n==== summary ====');
  for (const r of rows) console.log(r);
  process.exit(keep.length ? 0 : 1);
}

async function runProgram(device: GPUDevice, p: Program, inputs: Float32Array[], breakdown = false): Promise<{ ms: number; out: Float32Array; perKernel: number[] }> {
  const raw = await loadProgram(device, p, inputs);
  const timeSteps = async (steps: readonly Step[], n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) raw.encode(enc, steps);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await timeSteps(p.steps, 1);
  const once = await timeSteps(p.steps, 1);
  const n = Math.max(2, Math.min(200, Math.ceil(60 / Math.max(once, 0.01))));
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) samples.push((await timeSteps(p.steps, n)) / n);
  // Each kernel alone (inputs as the whole program left them), for breakdowns.
  const perKernel: number[] = [];
  for (let ki = 0; breakdown && ki < p.kernels.length; ki++) {
    const alone: Step[] = [{ kind: 'dispatch', kernel: ki }];
    await timeSteps(alone, 2);
    perKernel.push((await timeSteps(alone, 20)) / 20);
  }
  const out = new Float32Array(await raw.read(p.outputs[0]));
  raw.destroy();
  return { ms: median(samples), out, perKernel };
}

main().catch((e) => { console.error(e); process.exit(1); });
