/**
 * @file A tiny recursive reasoning model in the manner of TinyRecursiveModels (Jolicoeur-Martineau,
 * "Less is More: Recursive Reasoning with Tiny Networks", 2025) on Sudoku puzzles this file
 * generates and checks itself: 4×4 (2×2 boxes) at CI size, 9×9 at full size.
 *
 * One small network `net` (two mixer blocks: an MLP across the cells, as TRM uses for Sudoku, and
 * an MLP across channels) is applied recursively. Each improvement step refines a latent `z` from
 * the puzzle `x`, the current answer `y` and `z` itself, `n` times (`lax.foriLoop`), then the answer
 * from `y` and `z`; an output head reads the answer's digits. The improvement steps are a
 * `lax.scan` whose carry (y, z) passes through `lax.stopGradient` at each step and whose per-step
 * output is that step's loss: deep supervision, each step trained to give the solution from where
 * the previous one left off (TRM detaches its carry between supervision steps the same way). The
 * whole scan is inside one jitted Adam step.
 *
 *   npm run example:trm                              # full size: 9×9, see examples/RESULTS.md
 *   npm run example:trm -- --size 4 --steps 300 --device reference
 */
import { pathToFileURL } from 'node:url';
import { jit, lax, nn, np, random, valueAndGrad, type Array } from '../client/index.js';
import { adamInit, adamUpdate, intFlag, leaves, numFlag, parseFlags, Progress, rng, shuffled, useDevice, type AdamState } from './common.js';

// ---- Sudoku: generator and checker (host side, plain JS) -------------------------------------

/** A grid of `size × size` digits, row-major; 0 marks an empty cell. */
export type Grid = Int32Array;

const boxOf = (size: number) => Math.round(Math.sqrt(size));

/** Whether digit `d` may go at cell `i` of `g` (no equal digit in its row, column or box). */
function allowed(g: Grid, size: number, i: number, d: number): boolean {
  const r = Math.floor(i / size), c = i % size, b = boxOf(size);
  const r0 = r - (r % b), c0 = c - (c % b);
  for (let k = 0; k < size; k++) {
    if (g[r * size + k] === d || g[k * size + c] === d) return false;
    if (g[(r0 + Math.floor(k / b)) * size + c0 + (k % b)] === d) return false;
  }
  return true;
}

/** Counts solutions of `g` by backtracking, stopping at `limit`; fills `g` with the first found if `keep`. */
function countSolutions(g: Grid, size: number, limit: number, rand?: () => number, keep = false): number {
  const i = g.indexOf(0);
  if (i < 0) return 1;
  const digits = Int32Array.from({ length: size }, (_, k) => k + 1);
  if (rand) for (let k = size - 1; k > 0; k--) { const j = Math.floor(rand() * (k + 1)); [digits[k], digits[j]] = [digits[j], digits[k]]; }
  let count = 0;
  for (const d of digits) {
    if (!allowed(g, size, i, d)) continue;
    g[i] = d;
    count += countSolutions(g, size, limit - count, rand, keep);
    if (keep && count > 0) return count;
    if (count >= limit) break;
  }
  g[i] = 0;
  return count;
}

/**
 * A puzzle with a unique solution: a random full grid, then clues removed in random order while the
 * solution stays unique, until `blanks` cells are empty (or no more can go).
 */
export function makePuzzle(size: number, blanks: number, rand: () => number): { puzzle: Grid; solution: Grid } {
  const solution = new Int32Array(size * size);
  countSolutions(solution, size, 1, rand, true);
  const puzzle = solution.slice();
  let removed = 0;
  for (const i of shuffled(size * size, rand)) {
    if (removed >= blanks) break;
    const d = puzzle[i];
    puzzle[i] = 0;
    if (countSolutions(puzzle.slice(), size, 2) === 1) removed++;
    else puzzle[i] = d;
  }
  return { puzzle, solution };
}

/** Whether `g` is a solved Sudoku (every row, column and box holds 1..size once) that keeps `puzzle`'s clues. */
export function isSolution(g: Grid, puzzle: Grid, size: number): boolean {
  for (let i = 0; i < size * size; i++) {
    if (g[i] < 1 || g[i] > size) return false;
    if (puzzle[i] !== 0 && puzzle[i] !== g[i]) return false;
  }
  for (let i = 0; i < size * size; i++) {
    const d = g[i];
    g[i] = 0;
    const ok = allowed(g, size, i, d);
    g[i] = d;
    if (!ok) return false;
  }
  return true;
}

/** `count` puzzles of one size, flattened: `x` puzzles and `y` solutions, `[count, size²]` each. */
export function makeSet(size: number, blanks: number, count: number, seed: number): { x: Int32Array; y: Int32Array; count: number } {
  const rand = rng(seed), L = size * size;
  const x = new Int32Array(count * L), y = new Int32Array(count * L);
  for (let k = 0; k < count; k++) {
    const { puzzle, solution } = makePuzzle(size, blanks, rand);
    x.set(puzzle, k * L);
    y.set(solution, k * L);
  }
  return { x, y, count };
}

// ---- The model -------------------------------------------------------------------------------

export interface Config {
  size: number;
  /** Channels of every cell's state. */
  dim: number;
  /** Latent refinements per improvement step (TRM's n). */
  latent: number;
  /** Improvement steps, each supervised (TRM's N_sup). */
  improve: number;
}

/** The network's two mixer blocks, stacked on a leading axis (fewer, larger arrays to carry through the loops). */
type Blocks = { tok1: Array; tokB1: Array; tok2: Array; tokB2: Array; ch1: Array; chB1: Array; ch2: Array; chB2: Array };
export type Params = { embed: Array; y0: Array; z0: Array; blocks: Blocks; head: Array };

/** Mixer blocks in the network. */
const DEPTH = 2;

export function init(key: Array, c: Config): Params {
  const L = c.size * c.size, D = c.dim;
  let i = 0;
  const dense = (shape: number[], scale = 1) => np.multiply(random.normal(random.foldIn(key, i++), shape), scale / Math.sqrt(shape[shape.length - 2]));
  return {
    embed: dense([c.size + 1, D], Math.sqrt(c.size + 1)), y0: dense([1, D]), z0: dense([1, D]), head: dense([D, c.size]),
    blocks: {
      tok1: dense([DEPTH, L, 2 * L]), tokB1: np.zeros([DEPTH, 2 * L, 1]), tok2: dense([DEPTH, 2 * L, L], 0.5), tokB2: np.zeros([DEPTH, L, 1]),
      ch1: dense([DEPTH, D, 2 * D]), chB1: np.zeros([DEPTH, 2 * D]), ch2: dense([DEPTH, 2 * D, D], 0.5), chB2: np.zeros([DEPTH, D]),
    },
  };
}

/** RMS normalisation over channels, without a learned scale. */
const rmsNorm = (h: Array) => np.divide(h, np.sqrt(np.add(np.mean(np.square(h), -1, { keepdims: true }), 1e-6)));

/**
 * The one network: mixer blocks over `[batch, cells, dim]`, residual, normalised after each sum
 * (post-norm, as TRM), so that applying it many times keeps the state's scale.
 */
function net(p: Params, h: Array): Array {
  const w = p.blocks;
  for (let d = 0; d < DEPTH; d++) {
    const [tok1, tokB1, tok2, tokB2, ch1, chB1, ch2, chB2] = [w.tok1, w.tokB1, w.tok2, w.tokB2, w.ch1, w.chB1, w.ch2, w.chB2].map((a) => np.take(a, d, 0));
    // Across cells: every channel sees every cell (Sudoku's constraints are between cells).
    const t = np.add(np.einsum('bld,lm->bmd', nn.gelu(np.add(np.einsum('bld,lm->bmd', h, tok1), tokB1)), tok2), tokB2);
    h = rmsNorm(np.add(h, t));
    const f = np.add(np.matmul(nn.gelu(np.add(np.matmul(h, ch1), chB1)), ch2), chB2);
    h = rmsNorm(np.add(h, f));
  }
  return h;
}

/**
 * The improvement steps as a `lax.scan`: each refines z `latent` times and then y once, and yields
 * its answer's logits `[batch, cells, size]`. Returns the logits of every step `[improve, ...]`.
 */
export function recurse(p: Params, c: Config, puzzles: Array): Array {
  const [B, L] = puzzles.shape;
  const x = np.take(p.embed, puzzles, 0); // [B, L, D]
  const y0 = np.broadcastTo(p.y0, [B, L, c.dim]), z0 = np.broadcastTo(p.z0, [B, L, c.dim]);
  const [, logits] = lax.scan(([y, z]: [Array, Array]) => {
    // Deep supervision: each step learns from where the last one left off, not through it.
    y = lax.stopGradient(y); z = lax.stopGradient(z);
    z = lax.foriLoop(0, c.latent, (_i, z: Array) => net(p, np.add(np.add(x, y), z)), z);
    y = net(p, np.add(y, z));
    return [[y, z] as [Array, Array], np.matmul(y, p.head)];
  }, [y0, z0] as [Array, Array], null, { length: c.improve });
  return logits;
}

/** Mean cross-entropy of every step's answer against the solution (digits 1..size as classes 0..size-1). */
function loss(p: Params, c: Config, x: Array, y: Array): Array {
  const logits = recurse(p, c, x); // [K, B, L, size]
  const K = c.improve, [B, L] = x.shape;
  const labels = np.broadcastTo(np.subtract(y, 1), [K, B, L]).reshape(K * B * L);
  return nn.crossEntropy(logits.reshape(K * B * L, c.size), labels);
}

const trainStep = jit((p: Params, s: AdamState<Params>, t: number, x: Array, y: Array, lr: number, c: Config) => {
  const [l, g] = valueAndGrad((p: Params) => loss(p, c, x, y))(p) as [Array, Params];
  return { ...adamUpdate(p, g, s, t, { lr }), loss: l };
}, { staticArgnums: [6] });

/** The last step's answer: digits 1..size, `[batch, cells]`. */
const solve = jit((p: Params, x: Array, c: Config) => {
  const logits = recurse(p, c, x);
  return np.add(np.argmax(np.take(logits, c.improve - 1, 0), { axis: -1 }), 1);
}, { staticArgnums: [2] });

export interface TrmOptions extends Config {
  steps: number;
  batch: number;
  lr: number;
  /** Empty cells per puzzle. */
  blanks: number;
  /** Puzzles to train on, and new ones to test on. */
  trainPuzzles: number;
  testPuzzles: number;
  log?: (line: string) => void;
}

export interface TrmResult {
  losses: number[];
  /** Fraction of the test puzzles' empty cells filled right (chance: 1/size). */
  cellAccuracy: number;
  /** Fraction of test puzzles whose answer the checker accepts. */
  solved: number;
  seconds: number;
}

export async function train(o: TrmOptions): Promise<TrmResult> {
  const start = Date.now();
  const log = o.log ?? console.log;
  const c: Config = { size: o.size, dim: o.dim, latent: o.latent, improve: o.improve };
  const L = o.size * o.size;
  const trainSet = makeSet(o.size, o.blanks, o.trainPuzzles, 1), testSet = makeSet(o.size, o.blanks, o.testPuzzles, 2);
  const blanksPer = trainSet.x.reduce((a, v) => a + (v === 0 ? 1 : 0), 0) / o.trainPuzzles;
  log(`TRM on ${o.size}×${o.size} Sudoku: ${o.trainPuzzles} training puzzles, ${o.testPuzzles} test puzzles, ${blanksPer.toFixed(1)} empty cells each; ` +
    `${o.improve} improvement steps × ${o.latent} latent refinements, dim ${o.dim}`);
  let p = init(random.key(3), c);
  let s = adamInit(p);
  const xAll = np.array(trainSet.x).reshape(o.trainPuzzles, L), yAll = np.array(trainSet.y).reshape(o.trainPuzzles, L);
  const perEpoch = Math.floor(o.trainPuzzles / o.batch);
  let order: Int32Array = new Int32Array(0), epoch = -1;
  const progress = new Progress(o.steps, 0, o.log);
  const losses: number[] = [];
  for (let t = 1; t <= o.steps; t++) {
    const e = Math.floor((t - 1) / perEpoch);
    if (e !== epoch) { epoch = e; order = shuffled(o.trainPuzzles, rng(1000 + e)); }
    const at = ((t - 1) % perEpoch) * o.batch;
    const idx = np.array(order.subarray(at, at + o.batch));
    const xb = np.take(xAll, idx, 0), yb = np.take(yAll, idx, 0);
    const out = trainStep(p, s, t, xb, yb, o.lr, c) as { p: Params; m: Params; v: Params; loss: Array };
    for (const a of [...leaves(p), ...leaves(s.m), ...leaves(s.v), idx, xb, yb]) a.dispose();
    p = out.p; s = { m: out.m, v: out.v };
    losses.push(await out.loss.item());
    out.loss.dispose();
    progress.tick(t, losses[losses.length - 1]);
  }
  progress.stop();
  xAll.dispose(); yAll.dispose();

  const xt = np.array(testSet.x).reshape(o.testPuzzles, L);
  const answer = await solve(p, xt, c).data<'i32'>();
  let right = 0, blanks = 0, solved = 0;
  for (let k = 0; k < o.testPuzzles; k++) {
    const puzzle = testSet.x.subarray(k * L, (k + 1) * L), truth = testSet.y.subarray(k * L, (k + 1) * L);
    const a = answer.slice(k * L, (k + 1) * L);
    for (let i = 0; i < L; i++) if (puzzle[i] === 0) { blanks++; if (a[i] === truth[i]) right++; }
    // The checker, not the stored solution, decides: the puzzles have one solution, so the two agree.
    if (isSolution(a, puzzle, o.size)) solved++;
  }
  const cellAccuracy = right / blanks;
  log(`test: ${(cellAccuracy * 100).toFixed(1)}% of empty cells right (chance ${(100 / o.size).toFixed(0)}%), ${solved}/${o.testPuzzles} puzzles solved`);
  return { losses, cellAccuracy, solved: solved / o.testPuzzles, seconds: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const f = parseFlags('trm', {
    size: { type: 'string', default: '9', help: 'Sudoku side: 4 (2×2 boxes) or 9 (3×3 boxes)' },
    blanks: { type: 'string', default: '', help: 'empty cells per puzzle (default 8 for 4×4, 40 for 9×9)' },
    steps: { type: 'string', default: '5000', help: 'training steps' },
    batch: { type: 'string', default: '64', help: 'puzzles per step' },
    lr: { type: 'string', default: '0.002', help: "Adam's learning rate" },
    dim: { type: 'string', default: '64', help: 'channels per cell' },
    latent: { type: 'string', default: '3', help: 'latent refinements per improvement step (n)' },
    improve: { type: 'string', default: '4', help: 'supervised improvement steps (N_sup)' },
    train: { type: 'string', default: '20000', help: 'training puzzles' },
    test: { type: 'string', default: '500', help: 'test puzzles' },
    device: { type: 'string', default: 'auto', help: 'webgpu, reference, auto or a kiln server URL' },
  });
  const size = intFlag('size', f.size, 4);
  if (size !== 4 && size !== 9) throw new Error(`--size: expected 4 or 9, got ${size}`);
  console.log(`kiln TRM on ${await useDevice(f.device)}`);
  const r = await train({
    size, blanks: f.blanks ? intFlag('blanks', f.blanks) : size === 4 ? 8 : 40, steps: intFlag('steps', f.steps), batch: intFlag('batch', f.batch, 1),
    lr: numFlag('lr', f.lr), dim: intFlag('dim', f.dim, 1), latent: intFlag('latent', f.latent, 1), improve: intFlag('improve', f.improve, 1),
    trainPuzzles: intFlag('train', f.train, 1), testPuzzles: intFlag('test', f.test, 1),
  });
  console.log(`done in ${r.seconds.toFixed(1)} s`);
}

// Run when executed (node dist/examples/trm.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
