/**
 * @file A small CNN on a synthetic image task it generates: 8×8 single-channel images of a bar,
 * horizontal, vertical or diagonal, at a random offset, plus Gaussian noise; the class is the
 * orientation. conv 3×3 → batch norm → relu → max pool 2×2, twice, then a dense layer, trained
 * with Adam (written with the client, as in examples/mlp.ts), full batch, one jitted step.
 * Batch norm uses the statistics of the batch it sees (training mode, at evaluation too: the
 * whole dataset is one batch), so there are no running averages to keep.
 *
 *   npm run example:cnn            # on the default device (webgpu if Dawn finds an adapter)
 *   KILN_DEVICE=reference npm run example:cnn
 */
import { pathToFileURL } from 'node:url';
import { getDefaultDevice, jit, lax, nn, np, random, ready, valueAndGrad, type Array } from '../client/index.js';

export type Params = Record<string, Array>;

const SIZE = 8;
const CLASSES = 3;
/** Accuracy the example must reach (chance is 1/3). */
export const THRESHOLD = 0.9;

/** `n` noisy bar images `[n, 8, 8, 1]` (NHWC) and their orientation labels. */
export const makeBars = jit((key: Array, n: number) => {
  const [kc, kp, kn] = [random.foldIn(key, 0), random.foldIn(key, 1), random.foldIn(key, 2)];
  const label = random.randint(kc, [n], 0, CLASSES);
  const pos = random.randint(kp, [n], 1, SIZE - 1);
  const shape = [n, SIZE, SIZE];
  const rows = np.broadcastTo(np.arange(SIZE).reshape(1, SIZE, 1), shape);
  const cols = np.broadcastTo(np.arange(SIZE).reshape(1, 1, SIZE), shape);
  const p = pos.reshape(n, 1, 1);
  const c = label.reshape(n, 1, 1);
  // Class 0: row == pos; class 1: col == pos; class 2: the anti-diagonal row + col == pos + 3.
  const on = np.where(c.eq(0), rows.eq(p), np.where(c.eq(1), cols.eq(p), rows.add(cols).eq(p.add(3))));
  const img = np.add(on.astype('float32'), np.multiply(random.normal(kn, shape), 0.35));
  return { x: img.reshape(n, SIZE, SIZE, 1), y: label };
}, { staticArgnums: [1] });

export function init(key: Array): Params {
  const he = (k: Array, shape: number[], fanIn: number) => np.multiply(random.normal(k, shape), Math.sqrt(2 / fanIn));
  return {
    k1: he(random.foldIn(key, 0), [3, 3, 1, 8], 9), g1: np.ones([8]), b1: np.zeros([8]),
    k2: he(random.foldIn(key, 1), [3, 3, 8, 16], 72), g2: np.ones([16]), b2: np.zeros([16]),
    w: he(random.foldIn(key, 2), [2 * 2 * 16, CLASSES], 64), b: np.zeros([CLASSES]),
  };
}

/** Batch norm over batch and space (NHWC), then a per-channel scale and shift. */
function batchNorm(h: Array, gamma: Array, beta: Array): Array {
  const mean = np.mean(h, [0, 1, 2], { keepdims: true });
  const variance = np.mean(np.square(np.subtract(h, mean)), [0, 1, 2], { keepdims: true });
  return np.add(np.multiply(np.divide(np.subtract(h, mean), np.sqrt(np.add(variance, 1e-5))), gamma), beta);
}

export function forward(p: Params, x: Array): Array {
  const dn = ['NHWC', 'HWIO', 'NHWC'] as const;
  let h = lax.convGeneralDilated(x, p.k1, [1, 1], 'SAME', { dimensionNumbers: dn });
  h = nn.maxPool(nn.relu(batchNorm(h, p.g1, p.b1)), [2, 2], [2, 2]); // [n, 4, 4, 8]
  h = lax.convGeneralDilated(h, p.k2, [1, 1], 'SAME', { dimensionNumbers: dn });
  h = nn.maxPool(nn.relu(batchNorm(h, p.g2, p.b2)), [2, 2], [2, 2]); // [n, 2, 2, 16]
  return np.add(np.matmul(h.reshape(h.shape[0], -1), p.w), p.b);
}

const loss = (p: Params, x: Array, y: Array) => nn.crossEntropy(forward(p, x), y);

/** One Adam step: forward, backward and update in one executable. */
const trainStep = jit((p: Params, m: Params, v: Params, t: number, x: Array, y: Array) => {
  const [l, g] = valueAndGrad(loss)(p, x, y) as [Array, Params];
  const [lr, b1, b2, eps] = [0.02, 0.9, 0.999, 1e-8];
  const np2: Params = {}, nm: Params = {}, nv: Params = {};
  const c1 = np.subtract(1, np.power(np.full([], b1), t));
  const c2 = np.subtract(1, np.power(np.full([], b2), t));
  for (const k of Object.keys(p)) {
    nm[k] = np.add(np.multiply(m[k], b1), np.multiply(g[k], 1 - b1));
    nv[k] = np.add(np.multiply(v[k], b2), np.multiply(np.square(g[k]), 1 - b2));
    np2[k] = np.subtract(p[k], np.divide(np.multiply(np.divide(nm[k], c1), lr), np.add(np.sqrt(np.divide(nv[k], c2)), eps)));
  }
  return { p: np2, m: nm, v: nv, loss: l };
});

const accuracy = jit((p: Params, x: Array, y: Array) => np.mean(np.equal(np.argmax(forward(p, x), { axis: 1 }), y)));

export interface TrainResult {
  losses: number[];
  /** Accuracy on fresh images (not trained on). */
  accuracy: number;
  seconds: number;
}

/** Trains on `n` images for `steps` full-batch steps; evaluates on `n` new images. */
export async function train(steps = 60, n = 96, log: (line: string) => void = console.log): Promise<TrainResult> {
  const start = Date.now();
  const key = random.key(0);
  const data = makeBars(random.foldIn(key, 1), n) as { x: Array; y: Array };
  const test = makeBars(random.foldIn(key, 2), n) as { x: Array; y: Array };
  let p = init(random.foldIn(key, 3));
  let m: Params = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)]));
  let v: Params = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)]));
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const out = trainStep(p, m, v, t, data.x, data.y) as { p: Params; m: Params; v: Params; loss: Array };
    for (const tree of [p, m, v]) for (const a of Object.values(tree)) a.dispose();
    ({ p, m, v } = out);
    losses.push(await out.loss.item());
    out.loss.dispose();
    if (t === 1 || t % 10 === 0) log(`step ${String(t).padStart(3)}  loss ${losses[losses.length - 1].toFixed(4)}`);
  }
  const acc = await accuracy(p, test.x, test.y).item();
  return { losses, accuracy: acc, seconds: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const device = await ready();
  console.log(`kiln CNN on ${(await getDefaultDevice()).info().adapter} (${device.kind})`);
  const { accuracy: acc, seconds } = await train();
  console.log(`accuracy on new images ${(acc * 100).toFixed(1)}% in ${seconds.toFixed(1)} s`);
  if (acc < THRESHOLD) {
    console.error(`accuracy below ${THRESHOLD * 100}%`);
    process.exitCode = 1;
  }
}

// Run when executed (node dist/examples/cnn.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
