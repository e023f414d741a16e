/**
 * @file What the real-data examples (mnist.ts, trm.ts, gpt.ts) share: their command-line flags,
 * the device they run on (`--device webgpu|reference|auto|http://host:port`), Adam over a pytree of
 * parameters (traced inside each example's one jitted training step), checkpoints that hold the
 * weights, Adam's moments and the step, and a progress display: a cli-progress bar when stdout is
 * a terminal, plain lines otherwise (so logs and the examples test read the same text).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { connect, getDefaultDevice, load, np, save, setDefaultDevice, Array as KArray } from '../client/index.js';

/** A pytree of parameters: Arrays in plain objects and lists. */
export type Tree = KArray | Tree[] | { [k: string]: Tree };

/** Applies `f` leaf by leaf to trees of the same structure (the first tree's). */
export function zipTrees(f: (...leaves: KArray[]) => KArray, ...trees: Tree[]): Tree {
  const [t0] = trees;
  if (Array.isArray(t0)) return t0.map((_, i) => zipTrees(f, ...trees.map((t) => (t as Tree[])[i])));
  if (isArrayLeaf(t0)) return f(...(trees as KArray[]));
  return Object.fromEntries(Object.keys(t0).map((k) => [k, zipTrees(f, ...trees.map((t) => (t as Record<string, Tree>)[k]))]));
}

function isArrayLeaf(t: Tree): t is KArray {
  return t instanceof KArray;
}

/** Every Array of a tree, e.g. to dispose of a replaced one. */
export function leaves(t: Tree): KArray[] {
  if (Array.isArray(t)) return t.flatMap(leaves);
  if (isArrayLeaf(t)) return [t];
  return Object.values(t).flatMap(leaves);
}

/** Adam's moments of a parameter tree, zero at the start. */
export interface AdamState<P extends Tree> { m: P; v: P }

export function adamInit<P extends Tree>(params: P): AdamState<P> {
  return { m: zipTrees((a) => np.zerosLike(a), params) as P, v: zipTrees((a) => np.zerosLike(a), params) as P };
}

/** Adam's hyperparameters (Kingma & Ba's defaults but the learning rate). */
export interface AdamOptions { lr: number; b1?: number; b2?: number; eps?: number }

/**
 * One Adam update at step `t` (1-based, a traced number so one executable serves every step), meant
 * to be called inside the example's jitted training step so forward, backward and update are one
 * program. Returns the new parameters and moments.
 */
export function adamUpdate<P extends Tree>(p: P, g: P, s: AdamState<P>, t: KArray | number, o: AdamOptions): { p: P } & AdamState<P> {
  const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8 } = o;
  const c1 = np.subtract(1, np.power(np.full([], b1), t));
  const c2 = np.subtract(1, np.power(np.full([], b2), t));
  const m = zipTrees((m, g) => np.add(np.multiply(m, b1), np.multiply(g, 1 - b1)), s.m, g) as P;
  const v = zipTrees((v, g) => np.add(np.multiply(v, b2), np.multiply(np.square(g), 1 - b2)), s.v, g) as P;
  const next = zipTrees((p, m, v) => np.subtract(p, np.divide(np.multiply(np.divide(m, c1), lr), np.add(np.sqrt(np.divide(v, c2)), eps))), p, m, v) as P;
  return { p: next, m, v };
}

/** A training checkpoint: weights, Adam's moments, and the number of steps taken. */
export interface Checkpoint<P extends Tree> { params: P; adam: AdamState<P>; step: number }

/** Writes a checkpoint to one safetensors file (`params.*`, `adam.m.*`, `adam.v.*`, `step`). */
export async function saveCheckpoint<P extends Tree>(path: string, c: Checkpoint<P>, metadata: Record<string, string> = {}): Promise<void> {
  const step = np.array(c.step, 'int32');
  await save(path, { params: c.params, adam: c.adam, step }, { metadata });
  step.dispose();
}

/** Reads a checkpoint written by {@link saveCheckpoint}; an error names the file and what is missing. */
export async function loadCheckpoint<P extends Tree>(path: string): Promise<Checkpoint<P>> {
  if (!existsSync(path)) throw new Error(`--resume: no checkpoint at ${path}`);
  const t = (await load(path, { nested: true })) as { params?: P; adam?: AdamState<P>; step?: KArray };
  if (!t.params || !t.adam?.m || !t.adam?.v || !t.step) throw new Error(`--resume: ${path} is not a training checkpoint (it needs params.*, adam.m.*, adam.v.* and step)`);
  return { params: t.params, adam: t.adam, step: await t.step.item() };
}

/** A safetensors file's `__metadata__` strings (its JSON header only; `{}` if it has none). */
export function readMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const header = Buffer.alloc(n);
    readSync(fd, header, 0, n, 8);
    return (JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__ ?? {};
  } finally {
    closeSync(fd);
  }
}

/** Reads a weights file's `params.*` (a checkpoint) or its whole tree (weights alone). */
export async function loadParams<P extends Tree>(path: string): Promise<P> {
  const t = (await load(path, { nested: true })) as { params?: P };
  return (t.params ?? t) as P;
}

/**
 * Sets the default device from `--device`: `webgpu`, `reference`, `auto`, or a kiln server's URL
 * (its token from `KILN_TOKEN`). Returns a one-line description for the example's first line.
 */
export async function useDevice(name: string): Promise<string> {
  if (/^https?:\/\//.test(name)) setDefaultDevice(connect(name, { token: process.env.KILN_TOKEN }));
  else if (name === 'webgpu' || name === 'reference' || name === 'auto') setDefaultDevice(name);
  else throw new Error(`--device: expected webgpu, reference, auto or a server URL (http://host:port), got '${name}'`);
  const d = await getDefaultDevice();
  return `${d.info().adapter} (${d.kind})`;
}

/** Flag definitions in node:util parseArgs' form; every value is a string and parsed by the example. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean; help: string }>;

/** Parses `argv` against `spec`; `--help` prints the flags and exits. Unknown flags are errors. */
export function parseFlags<S extends FlagSpec>(name: string, spec: S, argv = process.argv.slice(2)): { [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : string } {
  const options = Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, { type: s.type, default: s.default }]));
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    console.log(`usage: node dist/examples/${name}.js [flags]`);
    for (const [k, s] of Object.entries(spec)) console.log(`  --${k.padEnd(14)} ${s.help}${s.default !== undefined && s.default !== false ? ` (default ${s.default})` : ''}`);
    process.exit(0);
  }
  return values as never;
}

/** A whole number from a flag, or an error naming the flag. */
export function intFlag(flag: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer >= ${min}, got '${v}'`);
  return n;
}

/** A number from a flag, or an error naming the flag. */
export function numFlag(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new Error(`--${flag}: expected a number, got '${v}'`);
  return n;
}

/**
 * Training progress: steps/s, loss and ETA. On a terminal (and without a `log` sink) a cli-progress
 * bar redrawn in place; otherwise a plain line every `every` steps and at the last one, which is
 * what CI logs and the examples test see.
 */
export class Progress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly start = Date.now();
  private readonly first: number;

  constructor(private readonly total: number, first: number, private readonly log?: (line: string) => void, private readonly every = 10) {
    this.first = first;
    if (!log && process.stdout.isTTY) {
      this.bar = new cliProgress.SingleBar({
        format: '{bar} {value}/{total} | loss {loss} | {rate} steps/s | ETA {eta_formatted}',
        hideCursor: true, etaBuffer: 20,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(total, first, { loss: '-', rate: '-' });
    }
  }

  /** Reports that `step` (1-based) finished with `loss`. */
  tick(step: number, loss: number): void {
    const rate = (step - this.first) / Math.max(1e-3, (Date.now() - this.start) / 1000);
    if (this.bar) {
      this.bar.update(step, { loss: loss.toFixed(4), rate: rate.toFixed(2) });
      return;
    }
    if (step === this.first + 1 || step % this.every === 0 || step === this.total) {
      const eta = rate > 0 ? (this.total - step) / rate : 0;
      (this.log ?? console.log)(`step ${String(step).padStart(String(this.total).length)}/${this.total}  loss ${loss.toFixed(4)}  ${rate.toFixed(2)} steps/s  ETA ${eta.toFixed(0)} s`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** A small seeded generator (mulberry32) for the examples' host-side data: splits, puzzles, batches. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `0..n-1` with `rand`. */
export function shuffled(n: number, rand: () => number): Int32Array {
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
