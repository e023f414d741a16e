/**
 * @file A byte-level GPT trained on the text this repository ships: its own Markdown docs
 * (README.md, bench/*.md, examples/*.md, ...), read as UTF-8 bytes, so the vocabulary is the 256
 * byte values. Token and position embeddings, pre-layernorm blocks of causal multi-head
 * self-attention (`nn.dotProductAttention` with `isCausal`) and a GELU MLP, a final layernorm, and
 * the token embedding reused as the output layer. Minibatch Adam in one jitted step; every
 * `--every` steps a safetensors checkpoint holds the weights, Adam's moments and the step, and
 * `--resume` continues from it. At the end it reports the held-out loss against the bytes' unigram
 * entropy (what a model that ignores context achieves) and samples text at `--temperature`.
 *
 *   npm run example:gpt                                   # full size, see examples/RESULTS.md
 *   npm run example:gpt -- --steps 300 --resume           # continue gpt.safetensors to step 300
 *   npm run example:gpt -- --steps 0 --resume --sample 400 --temperature 0.8   # sample only
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jit, nn, np, random, valueAndGrad, type Array } from '../client/index.js';
import {
  adamInit, adamUpdate, intFlag, leaves, loadCheckpoint, numFlag, parseFlags, Progress, readMetadata, rng, saveCheckpoint, useDevice, type AdamState, type Checkpoint,
} from './common.js';

/** The repository root: the nearest folder above this file with a package.json (examples/ or dist/examples/). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const ROOT = findRoot();
const SKIP = new Set(['node_modules', 'dist', '.git', 'coverage', 'fixtures']);

/** The repository's Markdown files, in a fixed order, as one byte string; and their names. */
export function readDocs(root = ROOT): { bytes: Uint8Array; files: string[] } {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (SKIP.has(name) || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) files.push(path);
    }
  };
  walk(root);
  if (files.length === 0) throw new Error(`gpt example: no Markdown files under ${root}`);
  const parts = files.map((f) => readFileSync(f));
  const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) { bytes.set(b, at); at += b.length; }
  return { bytes, files: files.map((f) => relative(root, f)) };
}

/** The entropy in nats of the bytes' frequencies: the loss of the best model that ignores context. */
export function unigramEntropy(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / bytes.length) * Math.log(c / bytes.length);
  return h;
}

/** `length:FNV-1a hash` of the text, kept in checkpoints so a resume on other text is noticed. */
export function fingerprint(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

export interface Config { context: number; dim: number; heads: number; layers: number }

type Block = { g1: Array; b1: Array; wqkv: Array; wo: Array; g2: Array; b2: Array; w1: Array; c1: Array; w2: Array; c2: Array };
export type Params = { wte: Array; wpe: Array; blocks: Block[]; gf: Array; bf: Array };

export function init(key: Array, c: Config): Params {
  const D = c.dim;
  let i = 0;
  const normal = (shape: number[], std: number) => np.multiply(random.normal(random.foldIn(key, i++), shape), std);
  // GPT-2's initialisation: 0.02, and the residual projections scaled down by the depth.
  const resid = 0.02 / Math.sqrt(2 * c.layers);
  return {
    wte: normal([256, D], 0.02), wpe: normal([c.context, D], 0.01),
    blocks: globalThis.Array.from({ length: c.layers }, () => ({
      g1: np.ones([D]), b1: np.zeros([D]), wqkv: normal([D, 3 * D], 0.02), wo: normal([D, D], resid),
      g2: np.ones([D]), b2: np.zeros([D]), w1: normal([D, 4 * D], 0.02), c1: np.zeros([4 * D]), w2: normal([4 * D, D], resid), c2: np.zeros([D]),
    })),
    gf: np.ones([D]), bf: np.zeros([D]),
  };
}

/** Next-byte logits `[batch, T, 256]` of byte sequences `[batch, T]` (T up to the context). */
export function forward(p: Params, c: Config, tokens: Array): Array {
  const [B, T] = tokens.shape, D = c.dim, H = c.heads;
  let h = np.add(np.take(p.wte, tokens, 0), np.slice(p.wpe, [0, T]));
  for (const b of p.blocks) {
    const qkv = np.matmul(nn.layerNorm(h, b.g1, b.b1), b.wqkv).reshape(B, T, 3, H, D / H);
    const [q, k, v] = [0, 1, 2].map((j) => np.take(qkv, j, 2));
    const att = nn.dotProductAttention(q, k, v, { isCausal: true }).reshape(B, T, D);
    h = np.add(h, np.matmul(att, b.wo));
    h = np.add(h, np.add(np.matmul(nn.gelu(np.add(np.matmul(nn.layerNorm(h, b.g2, b.b2), b.w1), b.c1)), b.w2), b.c2));
  }
  return np.matmul(nn.layerNorm(h, p.gf, p.bf), np.transpose(p.wte));
}

/** Mean next-byte cross-entropy (nats) of windows `[batch, T + 1]`. */
function loss(p: Params, c: Config, windows: Array): Array {
  const [B, T1] = windows.shape, T = T1 - 1;
  const logits = forward(p, c, np.slice(windows, [0, B], [0, T]));
  return nn.crossEntropy(logits.reshape(B * T, 256), np.slice(windows, [0, B], [1, T1]).reshape(B * T));
}

const trainStep = jit((p: Params, s: AdamState<Params>, t: number, w: Array, lr: number, c: Config) => {
  const [l, g] = valueAndGrad((p: Params) => loss(p, c, w))(p) as [Array, Params];
  return { ...adamUpdate(p, g, s, t, { lr }), loss: l };
}, { staticArgnums: [5] });

const evalLoss = jit((p: Params, w: Array, c: Config) => loss(p, c, w), { staticArgnums: [2] });

/**
 * The next byte after `window` `[1, context]` whose last real byte is at `pos`: drawn from the
 * softmax of logits / `temperature` (`random.categorical`), or the most likely at temperature 0.
 */
const nextByte = jit((p: Params, window: Array, pos: Array, key: Array, temperature: number, greedy: boolean, c: Config) => {
  const logits = np.take(forward(p, c, window).reshape(c.context, 256), pos, 0);
  return greedy ? np.argmax(logits) : random.categorical(key, np.divide(logits, temperature));
}, { staticArgnums: [5, 6] });

/** `count` bytes sampled after `prompt`, decoded as UTF-8 (invalid sequences as U+FFFD). */
export async function sample(p: Params, c: Config, prompt: string, count: number, temperature: number, seed = 0): Promise<string> {
  const bytes = [...new TextEncoder().encode(prompt)];
  if (bytes.length === 0) bytes.push(10);
  const key = random.key(seed);
  for (let i = 0; i < count; i++) {
    const ctx = bytes.slice(-c.context);
    // Causal attention: the zero padding after the last real byte cannot change its logits.
    const window = np.array(Int32Array.from({ length: c.context }, (_, j) => ctx[j] ?? 0)).reshape(1, c.context);
    const pos = np.array(ctx.length - 1, 'int32'), k = random.foldIn(key, i);
    const next = nextByte(p, window, pos, k, Math.max(temperature, 1e-6), temperature === 0, c);
    bytes.push(await next.item());
    for (const a of [window, pos, k, next]) a.dispose();
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** `batch` windows of `context + 1` bytes from `data` at offsets drawn by `rand`. */
function windows(data: Uint8Array, batch: number, context: number, rand: () => number): Array {
  const w = new Int32Array(batch * (context + 1));
  for (let b = 0; b < batch; b++) {
    const at = Math.floor(rand() * (data.length - context - 1));
    for (let j = 0; j <= context; j++) w[b * (context + 1) + j] = data[at + j];
  }
  return np.array(w).reshape(batch, context + 1);
}

export interface GptOptions extends Config {
  steps: number;
  batch: number;
  lr: number;
  /** Checkpoint every this many steps (and at the end) to `out`. */
  every: number;
  out: string;
  resume: boolean;
  sample: number;
  temperature: number;
  prompt: string;
  log?: (line: string) => void;
  /**
   * The text to train on (default: {@link readDocs} of the repository now). A resumed run's batches
   * equal an unbroken run's only on the same text: the window offsets depend on its length, so a
   * Markdown file edited between the two runs changes every batch after the checkpoint.
   */
  corpus?: { bytes: Uint8Array; files: string[] };
}

export interface GptResult {
  losses: number[];
  /** Mean loss on held-out windows (the last tenth of the text), and the unigram entropy, in nats. */
  valLoss: number;
  unigram: number;
  text: string;
  step: number;
  seconds: number;
}

export async function train(o: GptOptions): Promise<GptResult> {
  const start = Date.now();
  const log = o.log ?? console.log;
  const c: Config = { context: o.context, dim: o.dim, heads: o.heads, layers: o.layers };
  if (c.dim % c.heads !== 0) throw new Error(`gpt example: --dim ${c.dim} must be a multiple of --heads ${c.heads}`);
  const { bytes, files } = o.corpus ?? readDocs();
  const cut = Math.floor(bytes.length * 0.9);
  const trainBytes = bytes.subarray(0, cut), valBytes = bytes.subarray(cut);
  const unigram = unigramEntropy(trainBytes);
  const corpusId = fingerprint(bytes);
  log(`GPT on ${files.length} Markdown files (${bytes.length} bytes; the last 10% held out); unigram entropy ${unigram.toFixed(3)} nats; ` +
    `context ${c.context}, dim ${c.dim}, ${c.heads} heads, ${c.layers} layers`);

  let p: Params, s: AdamState<Params>, first = 0;
  if (o.resume) {
    const ck: Checkpoint<Params> = await loadCheckpoint<Params>(o.out);
    const want = [[ck.params.wpe?.shape, [c.context, c.dim]], [ck.params.blocks?.length, c.layers]];
    if (JSON.stringify(want[0][0]) !== JSON.stringify(want[0][1]) || want[1][0] !== want[1][1]) {
      throw new Error(`--resume: ${o.out} holds a model with position table ${JSON.stringify(ck.params.wpe?.shape)} and ${ck.params.blocks?.length} layers; ` +
        `the flags ask for [${c.context}, ${c.dim}] and ${c.layers}: pass the flags it was trained with`);
    }
    ({ params: p, adam: s, step: first } = ck);
    log(`resumed ${o.out} at step ${first}`);
    const was = readMetadata(o.out).corpus;
    if (was !== undefined && was !== corpusId) {
      log(`notice: the text changed since ${o.out} was saved (${was} then, ${corpusId} now; bytes:hash): the remaining steps' batches differ from an unbroken run's`);
    }
  } else {
    p = init(random.key(7), c);
    s = adamInit(p);
  }
  const progress = new Progress(o.steps, Math.min(first, o.steps), o.log);
  const losses: number[] = [];
  for (let t = first + 1; t <= o.steps; t++) {
    // Each step's batch depends only on the step, so a resumed run sees what an unbroken one would.
    const w = windows(trainBytes, o.batch, c.context, rng(t));
    const out = trainStep(p, s, t, w, o.lr, c) as { p: Params; m: Params; v: Params; loss: Array };
    for (const a of [...leaves(p), ...leaves(s.m), ...leaves(s.v), w]) a.dispose();
    p = out.p; s = { m: out.m, v: out.v };
    losses.push(await out.loss.item());
    out.loss.dispose();
    progress.tick(t, losses[losses.length - 1]);
    if (t % o.every === 0 || t === o.steps) await saveCheckpoint(o.out, { params: p, adam: s, step: t }, { example: 'gpt', config: JSON.stringify(c), corpus: corpusId });
  }
  progress.stop();
  const step = Math.max(first, o.steps);

  const rand = rng(12345);
  let val = 0;
  const evalBatches = 4;
  for (let i = 0; i < evalBatches; i++) {
    const w = windows(valBytes, o.batch, c.context, rand);
    const l = evalLoss(p, w, c);
    val += (await l.item()) / evalBatches;
    w.dispose(); l.dispose();
  }
  log(`step ${step}: held-out loss ${val.toFixed(3)} nats/byte (unigram entropy ${unigram.toFixed(3)})`);
  const text = o.sample > 0 ? await sample(p, c, o.prompt, o.sample, o.temperature) : '';
  if (text) log(`sample (temperature ${o.temperature}):\n${text}`);
  return { losses, valLoss: val, unigram, text, step, seconds: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const f = parseFlags('gpt', {
    steps: { type: 'string', default: '5000', help: 'total training steps (a resumed run continues up to this many)' },
    batch: { type: 'string', default: '32', help: 'windows per step' },
    lr: { type: 'string', default: '0.001', help: "Adam's learning rate" },
    context: { type: 'string', default: '128', help: 'bytes of context' },
    dim: { type: 'string', default: '128', help: 'model width' },
    heads: { type: 'string', default: '4', help: 'attention heads' },
    layers: { type: 'string', default: '4', help: 'transformer blocks' },
    every: { type: 'string', default: '500', help: 'checkpoint every N steps' },
    out: { type: 'string', default: 'gpt.safetensors', help: 'checkpoint file' },
    resume: { type: 'boolean', default: false, help: 'continue from the checkpoint at --out' },
    sample: { type: 'string', default: '300', help: 'bytes to sample at the end' },
    temperature: { type: 'string', default: '0.8', help: 'sampling temperature (0: the most likely byte)' },
    prompt: { type: 'string', default: 'kiln ', help: 'text the sample starts from' },
    device: { type: 'string', default: 'auto', help: 'webgpu, reference, auto or a kiln server URL' },
  });
  console.log(`kiln GPT on ${await useDevice(f.device)}`);
  const temperature = numFlag('temperature', f.temperature);
  if (temperature < 0) throw new Error(`--temperature: expected a number >= 0, got ${temperature}`);
  const r = await train({
    steps: intFlag('steps', f.steps), batch: intFlag('batch', f.batch, 1), lr: numFlag('lr', f.lr), context: intFlag('context', f.context, 2),
    dim: intFlag('dim', f.dim, 1), heads: intFlag('heads', f.heads, 1), layers: intFlag('layers', f.layers, 1), every: intFlag('every', f.every, 1),
    out: f.out, resume: f.resume, sample: intFlag('sample', f.sample), temperature, prompt: f.prompt,
  });
  console.log(`done in ${r.seconds.toFixed(1)} s`);
}

// Run when executed (node dist/examples/gpt.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
