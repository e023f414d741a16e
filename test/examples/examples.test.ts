/**
 * @file The examples as users run them, on the GPU: the MLP trains (its loss falls and its
 * accuracy passes 90%), the transformer block matches the reference interpreter, the RNN (a
 * `lax.scan` under `valueAndGrad` in `jit`) trains, and the Newton solver (`lax.whileLoop` in
 * `jit`) matches the closed form, the CNN (convolution, pooling, batch norm) learns bar orientations,
 * and the bag-of-embeddings model pools with `.at().add` and classifies new documents.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jit, random, setDefaultDevice } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { webgpuDevice, referenceDevice } from '../helpers/devices.js';
import { train } from '../../examples/mlp.js';
import { block, initParams, SEQ, D } from '../../examples/transformer.js';
import { train as trainRnn } from '../../examples/rnn.js';
import { solve, MAX_ITERATIONS } from '../../examples/newton.js';
import { train as trainBag, THRESHOLD as BAG_THRESHOLD } from '../../examples/bag.js';
import { train as trainCnn, THRESHOLD as CNN_THRESHOLD } from '../../examples/cnn.js';

let gpu: Device;
beforeAll(async () => {
  gpu = await webgpuDevice();
  setDefaultDevice(gpu);
});
afterAll(() => setDefaultDevice('auto'));

it('the MLP example trains to over 90% accuracy on the GPU', async () => {
  const lines: string[] = [];
  const r = await train(20, (l) => lines.push(l));
  expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0] / 4);
  expect(r.accuracy).toBeGreaterThan(0.9);
  expect(lines[0]).toMatch(/^epoch  1 {2}loss \d/);
}, 180_000);

it('the transformer block gives the same output on the GPU and the reference interpreter', async () => {
  const run = async (device: Device) => {
    setDefaultDevice(device);
    const key = random.key(0);
    const params = initParams(key);
    const x = random.normal(random.foldIn(key, 99), [SEQ, D]);
    return jit(block)(params, x).data<'f32'>();
  };
  const want = await run(referenceDevice());
  const got = await run(gpu);
  expect(got.length).toBe(SEQ * D);
  for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3 + 1e-3 * Math.abs(want[i]));
});

it('the RNN example (lax.scan inside a jitted valueAndGrad step) cuts its loss fivefold in 80 steps on the GPU', async () => {
  const { losses } = await trainRnn(80, () => {});
  const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(last).toBeLessThan(losses[0] / 5);
}, 300_000);

it('the Newton example (lax.whileLoop in jit, f\' by grad) finds cube roots to 1e-5 on the GPU', async () => {
  const r = await solve([27, -8, 0.001, 2, 1e6, -123.456]);
  expect(r.maxError).toBeLessThan(1e-5);
  expect(r.iterations).toBeGreaterThan(3);
  expect(r.iterations).toBeLessThan(MAX_ITERATIONS);
}, 180_000);

it('the CNN example (convolutions, max pooling and batch norm under a jitted Adam step) classifies new bar images on the GPU', async () => {
  // Most of its time (about 70 s on lavapipe) is compiling the training step's shaders; the 20 steps take one second.
  const { losses, accuracy } = await trainCnn(20, 64, () => {});
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 10);
  expect(accuracy).toBeGreaterThan(CNN_THRESHOLD);
}, 180_000);

it('the bag-of-embeddings example (pooling by x.at(docOf).add(e)) classifies new documents on the GPU', async () => {
  const { losses, accuracy } = await trainBag(60, 128, () => {});
  expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 5);
  expect(accuracy).toBeGreaterThan(BAG_THRESHOLD);
}, 180_000);
