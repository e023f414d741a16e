/**
 * @file A recurrent network trained with `lax.scan`: an Elman RNN (h_t = tanh(x_t Wx + h_{t-1} Wh
 * + b), y_t = h_t Wy + c) reads sine waves of random frequency and phase one sample at a time and
 * predicts the next sample. The recurrence is one `lax.scan` over time; each Adam step (forward
 * through the scan, backward through it, update) is one jitted `valueAndGrad` executable. The
 * mean squared error must fall at least tenfold from its first value.
 *
 *   npm run example:rnn            # on the default device (webgpu if Dawn finds an adapter)
 *   KILN_DEVICE=reference npm run example:rnn
 */
import { pathToFileURL } from 'node:url';
import { getDefaultDevice, jit, lax, np, random, ready, valueAndGrad, type Array } from '../client/index.js';

export type Params = Record<'wx' | 'wh' | 'b' | 'wy' | 'c', Array>;

/** Sequence length, batch size and hidden units. */
export const T = 16, BATCH = 32, HIDDEN = 16;
const STEPS = 300;
/** The final loss must be at most the first one divided by this. */
export const REQUIRED_FALL = 10;

/** A batch of sine waves: inputs x_0..x_{T-1} and targets x_1..x_T, each [T, BATCH, 1]. */
const makeBatch = jit((key: Array) => {
  const freq = random.uniform(random.foldIn(key, 0), [BATCH], { minval: 0.3, maxval: 0.9 });
  const phase = random.uniform(random.foldIn(key, 1), [BATCH], { minval: 0, maxval: 2 * Math.PI });
  const wave = np.sin(np.add(np.outer(np.arange(T + 1, undefined, 1, 'f32'), freq), phase)); // [T+1, BATCH]
  const seq = np.expandDims(wave, 2);
  return { xs: np.slice(seq, [0, T]), ys: np.slice(seq, [1, T + 1]) };
});

export function init(key: Array): Params {
  const dense = (i: number, n: number, m: number) => np.multiply(random.normal(random.foldIn(key, i), [n, m]), 1 / Math.sqrt(n));
  return { wx: dense(0, 1, HIDDEN), wh: dense(1, HIDDEN, HIDDEN), b: np.zeros([HIDDEN]), wy: dense(2, HIDDEN, 1), c: np.zeros([1]) };
}

/** The predictions for every time step, [T, BATCH, 1]: one `lax.scan` over the inputs. */
export function predict(p: Params, xs: Array): Array {
  const cell = (h: Array, x: Array): [Array, Array] => {
    const hn = np.tanh(np.add(np.add(np.matmul(x, p.wx), np.matmul(h, p.wh)), p.b));
    return [hn, np.add(np.matmul(hn, p.wy), p.c)];
  };
  return lax.scan(cell, np.zeros([xs.shape[1], HIDDEN]), xs)[1];
}

const loss = (p: Params, xs: Array, ys: Array) => np.mean(np.square(np.subtract(predict(p, xs), ys)));

/** One Adam step: forward and backward through the scan, and the update, in one executable. */
const trainStep = jit((p: Params, m: Params, v: Params, t: number, xs: Array, ys: Array) => {
  const [l, g] = valueAndGrad(loss)(p, xs, ys) as [Array, Params];
  const [lr, b1, b2, eps] = [0.02, 0.9, 0.999, 1e-8];
  const c1 = np.subtract(1, np.power(np.full([], b1), t));
  const c2 = np.subtract(1, np.power(np.full([], b2), t));
  const out = { p: {} as Params, m: {} as Params, v: {} as Params, loss: l };
  for (const k of Object.keys(p) as (keyof Params)[]) {
    out.m[k] = np.add(np.multiply(m[k], b1), np.multiply(g[k], 1 - b1));
    out.v[k] = np.add(np.multiply(v[k], b2), np.multiply(np.square(g[k]), 1 - b2));
    const step = np.divide(np.multiply(np.divide(out.m[k], c1), lr), np.add(np.sqrt(np.divide(out.v[k], c2)), eps));
    out.p[k] = np.subtract(p[k], step);
  }
  return out;
});

export interface TrainResult {
  /** The loss of every step. */
  losses: number[];
  seconds: number;
}

/** Trains for `steps` Adam steps on fresh batches, printing progress through `log`. */
export async function train(steps = STEPS, log: (line: string) => void = console.log): Promise<TrainResult> {
  const start = Date.now();
  const key = random.key(0);
  let p = init(random.foldIn(key, 1));
  const zeros = () => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)])) as Params;
  let m = zeros(), v = zeros();
  const pending: Array[] = [];
  for (let t = 1; t <= steps; t++) {
    const batch = makeBatch(random.foldIn(key, 1000 + t)) as { xs: Array; ys: Array };
    const out = trainStep(p, m, v, t, batch.xs, batch.ys) as { p: Params; m: Params; v: Params; loss: Array };
    for (const tree of [p, m, v]) for (const a of Object.values(tree)) a.dispose();
    batch.xs.dispose();
    batch.ys.dispose();
    ({ p, m, v } = out);
    pending.push(out.loss);
  }
  const losses: number[] = [];
  for (const l of pending) {
    losses.push(await l.item());
    l.dispose();
  }
  for (let t = 0; t < steps; t += Math.max(1, Math.floor(steps / 6))) log(`step ${String(t + 1).padStart(4)}  loss ${losses[t].toFixed(5)}`);
  log(`step ${String(steps).padStart(4)}  loss ${losses[steps - 1].toFixed(5)}`);
  return { losses, seconds: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const device = await ready();
  console.log(`kiln RNN (lax.scan over ${T} steps, batch ${BATCH}, ${HIDDEN} hidden) on ${(await getDefaultDevice()).info().adapter} (${device.kind})`);
  const { losses, seconds } = await train();
  const fall = losses[0] / losses[losses.length - 1];
  console.log(`loss fell ${fall.toFixed(1)}x in ${seconds.toFixed(1)} s`);
  if (!(fall >= REQUIRED_FALL)) {
    console.error(`the loss fell less than ${REQUIRED_FALL}x`);
    process.exitCode = 1;
  }
}

// Run when executed (node dist/examples/rnn.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
