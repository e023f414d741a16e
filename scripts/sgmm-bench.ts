/**
 * @file Tensor-core f16 matmul on a GPU machine: checks kiln's subgroup-matrix kernel
 * (compiler/codegen/matmul-sgmm.ts) against the plain f16 kernel and against the host (float64
 * dot products of sampled elements), and times both at 1024/2048/4096 plus a sweep of tile shapes.
 * Each case runs in a child process, so a Dawn abort costs one variant, not the run: the parent
 * restarts the child after the variant that died and reports it as crashed.
 *   KILN_DAWN='enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia' node .device/sgmm.js [--only name,...]
 * Build: npx esbuild scripts/sgmm-bench.ts --bundle --platform=node --format=esm --outfile=.device/sgmm.js \
 *   --external:webgpu --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { acquireDevice } from '../runtime/webgpu/adapter.js';
import { loadProgram } from './raw-program.js';
import { compile } from '../compiler/compile.js';
import { setSgmmOverride, type SgmmTile } from '../compiler/codegen/matmul-sgmm.js';
import { parseModule } from '../ir/parse/parser.js';
import { f16BitsToF32, f32ToF16Bits } from '../ir/dtype.js';
import type { Program } from '../compiler/program.js';

interface Variant { label: string; off?: boolean; tile?: SgmmTile }
interface Case { name: string; text: string; a: number[]; b: number[]; bias?: number[]; flops: number; at: (a: Float32Array, b: Float32Array, i: number) => number; variants: Variant[] }

const ty = (s: number[]) => `tensor<${s.join('x')}xf16>`;
const st = (wm: number, wn: number, tm: number, tn: number, bk = 32, staged = true): Variant =>
  ({ label: `${staged ? 'staged' : 'direct'} ${wm}x${wn} sg, ${tm}x${tn} tiles, bk ${bk}`, tile: { wm, wn, tm, tn, bk, staged } });
const BASE: Variant[] = [{ label: 'plain f16 kernel', off: true }, { label: 'sgmm (default choice)' }];
const SWEEP: Variant[] = [
  st(2, 2, 4, 4), st(2, 4, 4, 2), st(4, 2, 2, 4), st(2, 2, 4, 4, 64), st(2, 2, 2, 4), st(4, 4, 2, 2), st(2, 4, 4, 4),
  st(2, 2, 4, 2), st(2, 2, 4, 4, 16, false), st(1, 1, 4, 4, 16, false), st(2, 2, 2, 2, 16, false),
];

/** out[i] of a row-major m x n product of a (row-major m x k or, with ta, k x m) and b (k x n or, with tb, n x k). */
function dotAt(m: number, n: number, k: number, ta: boolean, tb: boolean, batch = 1) {
  return (a: Float32Array, b: Float32Array, idx: number) => {
    const z = Math.floor(idx / (m * n)), i = Math.floor(idx / n) % m, j = idx % n;
    let s = 0;
    for (let q = 0; q < k; q++) s += a[z * m * k + (ta ? q * m + i : i * k + q)] * b[z * k * n + (tb ? j * k + q : q * n + j)];
    void batch;
    return s;
  };
}

function matmul(n: number, sweep: boolean): Case {
  const s = ty([n, n]);
  return {
    name: `nn ${n}^3`, a: [n, n], b: [n, n], flops: 2 * n ** 3, at: dotAt(n, n, n, false, false),
    text: `func.func public @main(%a: ${s}, %b: ${s}) -> ${s} {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${s}, ${s}) -> ${s}
  return %0 : ${s}
}`,
    variants: sweep ? [...BASE, ...SWEEP] : BASE,
  };
}

/** Layout and fusion checks at 1024: transposed operands, a batch, a bias + relu epilogue. */
const CHECKS: Case[] = [
  (() => { const n = 1024, s = ty([n, n]); return { name: 'tn 1024^3 (a^T b)', a: [n, n], b: [n, n], flops: 2 * n ** 3, at: dotAt(n, n, n, true, false), variants: BASE,
    text: `func.func public @main(%a: ${s}, %b: ${s}) -> ${s} {\n  %0 = stablehlo.dot_general %a, %b, contracting_dims = [0] x [0] : (${s}, ${s}) -> ${s}\n  return %0 : ${s}\n}` }; })(),
  (() => { const n = 1024, s = ty([n, n]); return { name: 'nt 1024^3 (a b^T)', a: [n, n], b: [n, n], flops: 2 * n ** 3, at: dotAt(n, n, n, false, true), variants: BASE,
    text: `func.func public @main(%a: ${s}, %b: ${s}) -> ${s} {\n  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [1] : (${s}, ${s}) -> ${s}\n  return %0 : ${s}\n}` }; })(),
  (() => { const z = 8, n = 512, s = ty([z, n, n]); return { name: 'batched 8x512^3', a: [z, n, n], b: [z, n, n], flops: 2 * z * n ** 3, at: dotAt(n, n, n, false, false, z), variants: BASE,
    text: `func.func public @main(%a: ${s}, %b: ${s}) -> ${s} {\n  %0 = stablehlo.dot_general %a, %b, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (${s}, ${s}) -> ${s}\n  return %0 : ${s}\n}` }; })(),
  (() => {
    const n = 1024, s = ty([n, n]), v = ty([n]);
    const plain = dotAt(n, n, n, false, false);
    return { name: 'bias+relu 1024^3', a: [n, n], b: [n, n], bias: [n], flops: 2 * n ** 3, variants: BASE,
      at: (a: Float32Array, b: Float32Array, i: number) => Math.max(0, plain(a, b, i) + BIAS[i % n]),
      text: `func.func public @main(%a: ${s}, %b: ${s}, %c: ${v}) -> ${s} {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${s}, ${s}) -> ${s}
  %1 = stablehlo.broadcast_in_dim %c, dims = [1] : (${v}) -> ${s}
  %2 = stablehlo.add %0, %1 : ${s}
  %z = stablehlo.constant dense<0.0> : ${s}
  %3 = stablehlo.maximum %2, %z : ${s}
  return %3 : ${s}
}` };
  })(),
];
let BIAS: Float32Array = new Float32Array(0);

const CASES: Case[] = process.argv.includes('--smoke') || process.env.SGMM_SMOKE
  ? [matmul(128, false)]
  : [matmul(1024, false), matmul(2048, true), matmul(4096, true), ...CHECKS];

/** Random f16 values in [-1, 1): the f16 bits for the GPU and the same values for the host. */
function randomF16(n: number, seed: number): { bits: Uint16Array; vals: Float32Array } {
  const bits = new Uint16Array(n), vals = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    bits[i] = f32ToF16Bits((s / 4294967296) * 2 - 1);
    vals[i] = f16BitsToF32(bits[i]);
  }
  return { bits, vals };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const keep: unknown[] = [];

/** Child: one case, variants from index `from` on; one `RESULT {json}` line per variant. */
async function child(name: string, from: number): Promise<void> {
  const c = CASES.find((x) => x.name === name)!;
  const acq = await acquireDevice({});
  keep.push(acq.gpu); // dawn.node aborts if the create() object is collected while in use
  const { device, target } = acq;
  if (from === 0) console.log(`INFO ${JSON.stringify({ adapter: acq.info.adapter, features: acq.info.features, subgroupMatrix: target.subgroupMatrix, subgroupMaxSize: target.subgroupMaxSize, maxWorkgroupStorage: target.maxWorkgroupStorage })}`);
  device.addEventListener?.('uncapturederror', (e) => console.log(`uncaptured: ${(e as GPUUncapturedErrorEvent).error.message}`));
  const mod = parseModule(c.text);
  const numel = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const A = randomF16(numel(c.a), 1), B = randomF16(numel(c.b), 2);
  const inputs = [A.bits, B.bits];
  if (c.bias) { const bias = randomF16(numel(c.bias), 3); BIAS = bias.vals; inputs.push(bias.bits); }
  // Host references of sampled output elements (float64 sums of the f16 inputs), and their scale.
  const outN = numel(c.a); // every case here has square operands and output
  const samples = Array.from({ length: 256 }, (_, q) => Math.floor(((q * 2654435761) >>> 0) / 4294967296 * outN));
  const host = samples.map((i) => c.at(A.vals, B.vals, i));
  let plain: Float32Array | undefined;
  for (let vi = 0; vi < c.variants.length; vi++) {
    const v = c.variants[vi];
    setSgmmOverride(v.off ? { off: true } : v.tile ? { tile: v.tile } : undefined);
    let p: Program;
    try { p = compile(mod, target); } finally { setSgmmOverride(undefined); }
    const sgmm = p.kernels.some((k) => k.wgsl.includes('subgroupMatrixMultiplyAccumulate'));
    if (vi < from) { if (v.off) plain = (await runProgram(device, p, inputs, false)).out; continue; }
    if (!v.off && !sgmm) { console.log(`RESULT ${JSON.stringify({ variant: v.label, note: 'not applicable (plain kernel chosen)' })}`); continue; }
    try {
      const r = await runProgram(device, p, inputs, true);
      if (v.off) plain = r.out;
      let num = 0, den = 0;
      for (let i = 0; plain && i < r.out.length; i++) { const d = r.out[i] - plain[i]; num += d * d; den += plain[i] * plain[i]; }
      let hostErr = 0;
      samples.forEach((i, q) => { hostErr = Math.max(hostErr, Math.abs(r.out[i] - host[q]) / Math.max(1e-3, Math.abs(host[q]))); });
      const nan = r.out.reduce((n, x) => n + (Number.isNaN(x) ? 1 : 0), 0);
      console.log(`RESULT ${JSON.stringify({
        variant: v.label, ms: r.ms, tflops: c.flops / r.ms / 1e9, relerrVsPlain: plain ? Math.sqrt(num / den) : null,
        maxRelErrVsHost: hostErr, unwritten: nan, workgroups: p.kernels.map((k) => k.workgroups.join('x')).join(','),
      })}`);
    } catch (e) {
      console.log(`RESULT ${JSON.stringify({ variant: v.label, note: `FAILED: ${String((e as Error).message).split('\n').slice(0, 6).join(' / ')}` })}`);
    }
  }
}

async function runProgram(device: GPUDevice, p: Program, inputs: Uint16Array[], time: boolean): Promise<{ ms: number; out: Float32Array }> {
  // Every non-input buffer starts as f16 NaNs, so an element no kernel writes shows.
  const raw = await loadProgram(device, p, inputs, (bytes) => new Uint16Array(bytes / 2).fill(0x7e00));
  const runs = async (n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) raw.encode(enc);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  // The first run alone is the one checked (outputs start poisoned).
  await runs(1);
  const out = Float32Array.from(new Uint16Array(await raw.read(p.outputs[0])), f16BitsToF32);
  let ms = 0;
  if (time) {
    // Warm-up long enough to raise the clocks, then the median of several many-run submits.
    const once = await runs(1);
    const n = Math.max(3, Math.min(400, Math.ceil(50 / Math.max(once, 0.01))));
    const t0 = performance.now();
    while (performance.now() - t0 < 400) await runs(n);
    const samples: number[] = [];
    for (let s = 0; s < 7; s++) samples.push((await runs(n)) / n);
    ms = median(samples);
  }
  raw.destroy();
  return { ms, out };
}

/** Parent: every case in child processes, restarted past a variant that killed its child. */
function parent(): void {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : [];
  const rows: string[] = [];
  const row = (...c: (string | number)[]) => { const l = c.map(String).join(' | '); rows.push(l); console.log(l); };
  row('case', 'variant', 'ms', 'TFLOP/s', 'relerr vs plain', 'max relerr vs host', 'unwritten', 'workgroups / note');
  for (const c of CASES) {
    if (only.length && !only.some((o) => c.name.includes(o))) continue;
    let from = 0;
    while (from < c.variants.length) {
      const r = spawnSync(process.execPath, [process.argv[1], '--child', c.name, String(from)], { encoding: 'utf8', timeout: 240_000, env: process.env });
      const lines = (r.stdout ?? '').split('\n');
      for (const l of lines) if (l.startsWith('INFO ') || l.startsWith('uncaptured')) console.log(l);
      const results = lines.filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
      for (const x of results) {
        const f = (k: string, d: number) => (typeof x[k] === 'number' ? (x[k] as number).toFixed(d) : '');
        const e = (k: string) => (typeof x[k] === 'number' ? (x[k] as number).toExponential(2) : '');
        row(c.name, String(x.variant), f('ms', 3), f('tflops', 1), e('relerrVsPlain'), e('maxRelErrVsHost'), x.unwritten === undefined ? '' : String(x.unwritten), String(x.note ?? x.workgroups ?? ''));
      }
      from += results.length;
      if (r.status !== 0 || r.signal) {
        const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
        if (from < c.variants.length) row(c.name, c.variants[from].label, '', '', '', '', '', `CRASHED (status ${r.status}, signal ${r.signal}): ${tail}`);
        from++;
      }
    }
  }
  console.log('\n==== summary ====');
  for (const r of rows) console.log(r);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], Number(process.argv[4])).then(() => process.exit(keep.length ? 0 : 1), (e) => { console.error(e); process.exit(1); });
} else parent();
