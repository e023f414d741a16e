/**
 * @file A complete MLP: three interleaved spirals generated with kiln's own random numbers, a
 * 2-64-64-3 network trained with Adam on minibatches, one jitted executable per training step
 * (forward, backward and update), progress per epoch and the final accuracy.
 *
 *   npm run example:mlp            # on the default device (webgpu if Dawn finds an adapter)
 *   KILN_DEVICE=reference npm run example:mlp
 */
import { pathToFileURL } from 'node:url';
import { getDefaultDevice, jit, nn, np, random, ready, valueAndGrad, type Array } from '../client/index.js';

export type Params = Record<string, Array>;

const CLASSES = 3;
const PER_CLASS = 200;
const HIDDEN = 64;
const EPOCHS = 30;
const BATCH = 100;

/** Three spirals of `PER_CLASS` points each, with a little Gaussian noise. */
const makeSpirals = jit((key: Array) => {
  const n = CLASSES * PER_CLASS;
  const [kr, kn] = [random.foldIn(key, 0), random.foldIn(key, 1)];
  const label = np.floorDivide(np.arange(n), PER_CLASS);
  const r = random.uniform(kr, [n], { minval: 0.1, maxval: 1 });
  const theta = np.add(np.multiply(r, 4), np.multiply(label, (2 * Math.PI) / CLASSES));
  const noise = np.multiply(random.normal(kn, [n, 2]), 0.04);
  const xy = np.stack([np.multiply(r, np.cos(theta)), np.multiply(r, np.sin(theta))], 1);
  return { x: np.add(xy, noise), y: label };
});

function init(key: Array): Params {
  const sizes = [2, HIDDEN, HIDDEN, CLASSES];
  const p: Params = {};
  for (let i = 0; i < 3; i++) {
    const k = random.foldIn(key, i);
    p[`w${i}`] = np.multiply(random.normal(k, [sizes[i], sizes[i + 1]]), Math.sqrt(2 / sizes[i]));
    p[`b${i}`] = np.zeros([sizes[i + 1]]);
  }
  return p;
}

function forward(p: Params, x: Array): Array {
  let h = x;
  for (let i = 0; i < 3; i++) {
    h = np.add(np.matmul(h, p[`w${i}`]), p[`b${i}`]);
    if (i < 2) h = nn.relu(h);
  }
  return h;
}

const loss = (p: Params, x: Array, y: Array) => nn.crossEntropy(forward(p, x), y);

/** One Adam step: forward, backward and update in one executable. */
const trainStep = jit((p: Params, m: Params, v: Params, t: number, x: Array, y: Array) => {
  const [l, g] = valueAndGrad(loss)(p, x, y) as [Array, Params];
  const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
  const np2: Params = {}, nm: Params = {}, nv: Params = {};
  const c1 = np.subtract(1, np.power(np.full([], b1), t));
  const c2 = np.subtract(1, np.power(np.full([], b2), t));
  for (const k of Object.keys(p)) {
    nm[k] = np.add(np.multiply(m[k], b1), np.multiply(g[k], 1 - b1));
    nv[k] = np.add(np.multiply(v[k], b2), np.multiply(np.square(g[k]), 1 - b2));
    const mHat = np.divide(nm[k], c1);
    const vHat = np.divide(nv[k], c2);
    np2[k] = np.subtract(p[k], np.divide(np.multiply(mHat, lr), np.add(np.sqrt(vHat), eps)));
  }
  return { p: np2, m: nm, v: nv, loss: l };
});

const accuracy = jit((p: Params, x: Array, y: Array) => np.mean(np.equal(np.argmax(forward(p, x), { axis: 1 }), y)));

export interface TrainResult {
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Accuracy on the whole dataset after training. */
  accuracy: number;
  seconds: number;
}

/** Trains the MLP on the default device, printing progress through `log`. */
export async function train(epochs = EPOCHS, log: (line: string) => void = console.log): Promise<TrainResult> {
  const start = Date.now();
  const epochLosses: number[] = [];
  const key = random.key(0);
  const data = makeSpirals(key) as { x: Array; y: Array };
  const n = CLASSES * PER_CLASS;
  let p = init(random.foldIn(key, 2));
  let m: Params = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)]));
  let v: Params = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)]));
  let t = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const perm = random.permutation(random.foldIn(key, 100 + epoch), n);
    const xs = np.take(data.x, perm, 0), ys = np.take(data.y, perm, 0);
    let total = 0;
    const losses: Array[] = [];
    for (let b = 0; b < n; b += BATCH) {
      const xb = np.slice(xs, [b, b + BATCH]), yb = np.slice(ys, [b, b + BATCH]);
      const out = trainStep(p, m, v, ++t, xb, yb) as { p: Params; m: Params; v: Params; loss: Array };
      for (const tree of [p, m, v]) for (const a of Object.values(tree)) a.dispose();
      ({ p, m, v } = out);
      losses.push(out.loss);
      xb.dispose(); yb.dispose();
    }
    for (const l of losses) { total += await l.item(); l.dispose(); }
    perm.dispose(); xs.dispose(); ys.dispose();
    epochLosses.push(total / (n / BATCH));
    if (epoch % 5 === 0 || epoch === 1) {
      const acc = accuracy(p, data.x, data.y);
      log(`epoch ${String(epoch).padStart(2)}  loss ${(total / (n / BATCH)).toFixed(4)}  accuracy ${((await acc.item()) * 100).toFixed(1)}%`);
      acc.dispose();
    }
  }
  const acc = await accuracy(p, data.x, data.y).item();
  return { losses: epochLosses, accuracy: acc, seconds: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const device = await ready();
  console.log(`kiln MLP on ${(await getDefaultDevice()).info().adapter} (${device.kind})`);
  const { accuracy: acc, seconds } = await train();
  console.log(`final accuracy ${(acc * 100).toFixed(1)}% in ${seconds.toFixed(1)} s`);
  if (acc < 0.9) {
    console.error('accuracy below 90%');
    process.exitCode = 1;
  }
}

// Run when executed (node dist/examples/mlp.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
