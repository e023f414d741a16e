/**
 * @file The user API of reverse mode and vmap on the reference device: gradients over pytrees
 * against hand-derived values, `argnums`/`hasAux`, `vjp`, `vmap` against a loop, and a jitted
 * training step that equals the un-jitted one and compiles to a single executable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { grad, valueAndGrad, vjp } from '../../client/autodiff/index.js';
import { vmap } from '../../client/vmap/index.js';
import { setDefaultDevice } from '../../client/devices.js';
import { jit, lower } from '../../client/jit.js';
import * as nn from '../../client/nn.js';
import * as np from '../../client/numpy/index.js';
import { stats } from '../../client/trace.js';
import type { KArray } from '../../client/array.js';
import { mismatch, rng } from './autodiff-helpers.js';

beforeAll(() => setDefaultDevice('reference'));

const data = async (x: unknown) => Array.from(await (x as KArray).data());
const rand = (shape: number[], seed: number) => {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Array.from({ length: n }, () => next() * 2 - 1), { shape });
};

type Params = { w: KArray; b: KArray };
function loss(p: Params, x: KArray, y: KArray): KArray {
  const logits = np.add(np.matmul(x, p.w), p.b);
  return np.mean(np.square(np.subtract(np.tanh(logits), y)));
}

describe('grad and valueAndGrad', () => {
  it('differentiates a pytree argument, matching the hand-derived gradient', async () => {
    const x = rand([4, 3], 1);
    const y = rand([4, 2], 2);
    const p = { w: rand([3, 2], 3), b: rand([2], 4) };
    const g = grad(loss)(p, x, y) as Params;
    expect(g.w.shape).toEqual([3, 2]);
    expect(g.b.shape).toEqual([2]);
    // d/dlogits = 2 (tanh - y)(1 - tanh^2) / 8; dW = x^T d, db = sum_rows d.
    const [xs, ys, ws, bs] = await Promise.all([x, y, p.w, p.b].map(data));
    const dW = new Array(6).fill(0);
    const dB = [0, 0];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 2; j++) {
        let z = bs[j];
        for (let k = 0; k < 3; k++) z += xs[i * 3 + k] * ws[k * 2 + j];
        const t = Math.tanh(z);
        const d = (2 * (t - ys[i * 2 + j]) * (1 - t * t)) / 8;
        dB[j] += d;
        for (let k = 0; k < 3; k++) dW[k * 2 + j] += xs[i * 3 + k] * d;
      }
    }
    expect(mismatch(await data(g.w), dW, 1e-6, 1e-4)).toBe('');
    expect(mismatch(await data(g.b), dB, 1e-6, 1e-4)).toBe('');
  });

  it('takes several argnums and passes aux through', async () => {
    const f = (a: KArray, b: KArray) => [np.sum(np.multiply(a, b)), np.add(a, b)] as const;
    const a = np.array([1, 2, 3]);
    const b = np.array([4, 5, 6]);
    const [[v, aux], [ga, gb]] = valueAndGrad(f, { argnums: [0, 1], hasAux: true })(a, b) as [[KArray, KArray], [KArray, KArray]];
    expect(await data(v)).toEqual([32]);
    expect(await data(aux)).toEqual([5, 7, 9]);
    expect(await data(ga)).toEqual([4, 5, 6]);
    expect(await data(gb)).toEqual([1, 2, 3]);
  });

  it('refuses a non-scalar loss with the call site', () => {
    expect(() => grad((x: KArray) => np.exp(x))(np.array([1, 2]))).toThrow(/float scalar/);
  });

  it('composes: grad of grad', async () => {
    const d2 = grad((x: KArray) => np.sum(grad((z: KArray) => np.sum(np.sin(z)))(x) as KArray));
    const x = np.array([0.3, -1.2]);
    const got = await data(d2(x));
    expect(mismatch(got, [-Math.sin(0.3), -Math.sin(-1.2)], 1e-6, 1e-5)).toBe('');
  });
});

describe('vjp', () => {
  it('returns the outputs and a function of the output cotangent', async () => {
    const [out, pull] = vjp((a: KArray, b: KArray) => np.multiply(a, b), np.array([1, 2]), np.array([3, 4]));
    expect(await data(out)).toEqual([3, 8]);
    const [da, db] = pull(np.array([1, 10])) as KArray[];
    expect(await data(da)).toEqual([3, 40]);
    expect(await data(db)).toEqual([1, 20]);
  });
});

describe('vmap', () => {
  it('maps over a batch axis with a shared argument, equal to a loop', async () => {
    const w = rand([3, 2], 5);
    const xs = rand([4, 3], 6);
    const f = (x: KArray, m: KArray) => np.tanh(np.matmul(x, m));
    const got = await data(vmap(f, [0, null])(xs, w));
    const rows = await data(xs);
    const ws = await data(w);
    const want: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) {
      let z = 0;
      for (let k = 0; k < 3; k++) z += rows[i * 3 + k] * ws[k * 2 + j];
      want.push(Math.tanh(z));
    }
    expect(mismatch(got, want, 1e-6, 1e-5)).toBe('');
  });

  it('gives per-example gradients (vmap of grad)', async () => {
    const x = np.array([[1, 2], [3, 4], [5, 6]]);
    const g = vmap(grad((r: KArray) => np.sum(np.square(r))))(x) as KArray;
    expect(g.shape).toEqual([3, 2]);
    expect(await data(g)).toEqual([2, 4, 6, 8, 10, 12]);
  });
});

describe('a jitted training step', () => {
  const update = (p: Params, g: Params): Params => ({ w: np.subtract(p.w, np.multiply(g.w, 0.1)), b: np.subtract(p.b, np.multiply(g.b, 0.1)) });
  const step = (p: Params, x: KArray, y: KArray) => {
    const [l, g] = valueAndGrad(loss)(p, x, y) as [KArray, Params];
    return [l, update(p, g)] as const;
  };

  it('equals the un-jitted step and is one executable', async () => {
    const x = rand([8, 3], 11);
    const y = rand([8, 2], 12);
    let pe: Params = { w: rand([3, 2], 13), b: rand([2], 14) };
    let pj = pe;
    const jstep = jit(step);
    const before = stats.compiles;
    await data(jstep(pj, x, y)[0]);
    await data(jstep(pj, x, y)[0]);
    expect(stats.compiles - before).toBe(1);
    for (let i = 0; i < 3; i++) {
      const [le, ne] = step(pe, x, y);
      const [lj, nj] = jstep(pj, x, y);
      expect(mismatch(await data(lj), await data(le), 1e-6, 1e-5)).toBe('');
      expect(mismatch(await data(nj.w), await data(ne.w), 1e-6, 1e-5)).toBe('');
      expect(mismatch(await data(nj.b), await data(ne.b), 1e-6, 1e-5)).toBe('');
      pe = ne;
      pj = nj;
    }
    expect(jstep.cacheSize).toBe(1);
    // One module for the whole step: forward, backward and update, with no calls left out.
    const text = lower(step)(pj, x, y).text;
    expect(text).toContain('stablehlo.dot_general');
    expect(text.match(/func\.func/g)).toHaveLength(1);
  });

  it('lowers nn.crossEntropy training to one program whose loss falls', async () => {
    const x = rand([16, 4], 21);
    const labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], { dtype: 'i32' });
    const ce = (p: Params, xb: KArray, yb: KArray) => nn.crossEntropy(np.add(np.matmul(xb, p.w), p.b), yb);
    const train = jit((p: Params, xb: KArray, yb: KArray) => {
      const [l, g] = valueAndGrad(ce)(p, xb, yb) as [KArray, Params];
      return [l, update(p, g)] as const;
    });
    let p: Params = { w: rand([4, 3], 22), b: np.zeros([3]) };
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [l, np2] = train(p, x, labels);
      losses.push((await data(l))[0]);
      p = np2;
    }
    expect(losses[19]).toBeLessThan(losses[0]);
    expect(train.cacheSize).toBe(1);
  });
});
