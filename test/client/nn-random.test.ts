/**
 * @file nn functions against float64 values computed here, and random against the Threefry-2x32
 * known-answer vectors of Random123 and against properties of the distributions; on the reference
 * device and webgpu. Every test function's `lower` text round-trips through ir/.
 */
import { describe, expect, it } from 'vitest';
import { jit, lower, nn, np, random, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import * as lax from '../../client/lax.js';
import { threefry2x32 } from '../../client/random.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { devicesUnderTest, expectClose, h, map, rand, reduceAxis, toArray, type H } from './helpers.js';

const X = rand([3, 4], 21, -3, 3);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const lse = (v: number[]) => { const m = Math.max(...v); return m + Math.log(sum(v.map((x) => Math.exp(x - m)))); };
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// erf by its Taylor series (float64; |x| <= 3 converges fine with enough terms).
const erf = (x: number) => {
  let s = 0, term = x;
  for (let n = 0; n < 80; n++) { s += term / (2 * n + 1); term *= (-x * x) / (n + 1); }
  return (2 / Math.sqrt(Math.PI)) * s;
};
function rowsMap(a: H, f: (r: number[]) => number[]): H {
  const w = a.shape[a.shape.length - 1];
  const out: number[] = [];
  for (let i = 0; i < a.data.length; i += w) out.push(...f(a.data.slice(i, i + w)));
  return h(a.shape, out);
}

interface Rec { name: string; run: (...xs: KArray[]) => KArray; inputs: H[]; want: H; rtol?: number }
const LABELS = h([3], [2, 0, 3], 'i32');
const recs: Rec[] = [
  { name: 'relu', run: (x) => nn.relu(x), inputs: [X], want: map(X, (x) => Math.max(x, 0)) },
  { name: 'sigmoid', run: (x) => nn.sigmoid(x), inputs: [X], want: map(X, sigmoid), rtol: 1e-4 },
  { name: 'silu', run: (x) => nn.silu(x), inputs: [X], want: map(X, (x) => x * sigmoid(x)), rtol: 1e-4 },
  { name: 'gelu tanh', run: (x) => nn.gelu(x), inputs: [X], want: map(X, (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))), rtol: 1e-4 },
  { name: 'gelu exact', run: (x) => nn.gelu(x, { approximate: false }), inputs: [X], want: map(X, (x) => 0.5 * x * (1 + erf(x / Math.SQRT2))), rtol: 1e-4 },
  { name: 'softplus', run: (x) => nn.softplus(x), inputs: [X], want: map(X, (x) => Math.log1p(Math.exp(x))), rtol: 1e-4 },
  { name: 'softmax', run: (x) => nn.softmax(x), inputs: [X], want: rowsMap(X, (r) => r.map((x) => Math.exp(x - lse(r)))), rtol: 1e-4 },
  { name: 'softmax axis 0', run: (x) => nn.softmax(x, { axis: 0 }), inputs: [h([2, 2], [0, 1, 0, 3])], want: h([2, 2], [0.5, 1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2))]), rtol: 1e-4 },
  { name: 'logSoftmax', run: (x) => nn.logSoftmax(x), inputs: [X], want: rowsMap(X, (r) => r.map((x) => x - lse(r))), rtol: 1e-4 },
  { name: 'logsumexp', run: (x) => nn.logsumexp(x, { axis: 1 }), inputs: [X], want: reduceAxis(X, 1, lse), rtol: 1e-4 },
  { name: 'logsumexp of -inf row', run: (x) => nn.logsumexp(x, { axis: 1 }), inputs: [h([1, 2], [-Infinity, -Infinity])], want: h([1], [-Infinity]) },
  {
    name: 'layerNorm with gamma and beta', run: (x, g, b) => nn.layerNorm(x, g, b), inputs: [X, h([4], [1, 2, 3, 4]), h([4], [0, 1, 0, 1])],
    want: rowsMap(X, (r) => { const m = sum(r) / 4; const v = sum(r.map((x) => (x - m) ** 2)) / 4; return r.map((x, i) => ((x - m) / Math.sqrt(v + 1e-5)) * (i + 1) + (i % 2)); }), rtol: 1e-4,
  },
  { name: 'oneHot', run: (l) => nn.oneHot(l, 4), inputs: [LABELS], want: h([3, 4], [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]) },
  {
    name: 'crossEntropy from integer labels', run: (x, l) => nn.crossEntropy(x, l), inputs: [X, LABELS],
    want: h([], [sum([0, 1, 2].map((i) => lse(X.data.slice(4 * i, 4 * i + 4)) - X.data[4 * i + LABELS.data[i]])) / 3]), rtol: 1e-4,
  },
  {
    name: 'crossEntropy from one-hot targets', run: (x, t) => nn.crossEntropy(x, t), inputs: [X, h([3, 4], [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1])],
    want: h([], [sum([0, 1, 2].map((i) => lse(X.data.slice(4 * i, 4 * i + 4)) - X.data[4 * i + LABELS.data[i]])) / 3]), rtol: 1e-4,
  },
];

describe('nn: lower() round-trips', () => {
  for (const r of recs) {
    it(r.name, () => {
      const text = lower(r.run)(...r.inputs.map((x) => toArray(x, np))).text;
      const m = parseModule(text);
      verifyModule(m);
      expect(printModule(m)).toBe(text);
    });
  }
});

/** Random123's known-answer tests for threefry2x32_20: key, counter, expected output. */
const KAT: [number[], number[], number[]][] = [
  [[0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6b200159, 0x99ba4efe]],
  [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
  [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], [0xc4923a9c, 0x483df7a0]],
];

const devices = await devicesUnderTest();
for (const [name, device] of devices) {
  const slack = name === 'webgpu' ? 10 : 1;
  describe(`nn on ${name}`, () => {
    for (const r of recs) {
      it(r.name, async () => {
        setDefaultDevice(device);
        const args = r.inputs.map((x) => toArray(x, np));
        await expectClose(r.run(...args), r.want, (r.rtol ?? 1e-5) * slack, 1e-6 * slack);
        await expectClose(jit(r.run)(...args), r.want, (r.rtol ?? 1e-5) * slack, 1e-6 * slack);
      });
    }
  });

  describe(`random on ${name}`, () => {
    it('threefry2x32 matches the Random123 known answers', async () => {
      setDefaultDevice(device);
      const f = jit((k: KArray, c: KArray) => {
        const w = (a: KArray, i: number) => lax.reshape(lax.slice(a, [i], [i + 1]), []);
        const [a, b] = threefry2x32(w(k, 0), w(k, 1), lax.reshape(lax.slice(c, [0], [1]), [1]), lax.reshape(lax.slice(c, [1], [2]), [1]));
        return np.concatenate([a, b]);
      });
      for (const [key, ctr, want] of KAT) {
        const got = f(np.array(Uint32Array.from(key)), np.array(Uint32Array.from(ctr)));
        expect(Array.from(await got.data())).toEqual(want);
      }
    });

    it('keys, split and foldIn are deterministic ui32 pairs', async () => {
      setDefaultDevice(device);
      const k = random.key(42);
      expect(Array.from(await k.data())).toEqual([0, 42]);
      const ks = random.split(k, 3);
      expect(ks.shape).toEqual([3, 2]);
      expect(ks.dtype).toBe('ui32');
      const d = Array.from(await ks.data());
      expect(new Set(d).size).toBe(6);
      // In JAX's partitionable scheme fold_in(k, i) is the hash of counter (0, i), as is split's row i.
      const f1 = Array.from(await random.foldIn(k, 1).data());
      expect(f1).toEqual(d.slice(2, 4));
      expect(Array.from(await random.split(k, 3).data())).toEqual(d);
    });

    it('uniform, normal, bernoulli, randint and permutation have the right laws', async () => {
      setDefaultDevice(device);
      const k = random.key(0);
      const u = Array.from(await random.uniform(k, [4000], { minval: -1, maxval: 3 }).data());
      expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...u)).toBeLessThan(3);
      expect(Math.abs(sum(u) / u.length - 1)).toBeLessThan(0.1);
      const n = Array.from(await random.normal(random.foldIn(k, 7), [4000]).data());
      const mean = sum(n) / n.length;
      const sd = Math.sqrt(sum(n.map((x) => (x - mean) ** 2)) / n.length);
      expect(Math.abs(mean)).toBeLessThan(0.08);
      expect(Math.abs(sd - 1)).toBeLessThan(0.08);
      const b = Array.from(await random.bernoulli(k, 0.25, [4000]).data());
      expect(Math.abs(sum(b) / b.length - 0.25)).toBeLessThan(0.04);
      const r = Array.from(await random.randint(k, [2000], -3, 5).data());
      expect(new Set(r)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3, 4]));
      const p = Array.from(await random.permutation(k, 50).data());
      expect([...p].sort((a, c) => a - c)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it('draws under jit equal eager draws', async () => {
      setDefaultDevice(device);
      const k = random.key(3);
      const f = jit((key: KArray) => random.normal(key, [8]));
      expect(Array.from(await f(k).data())).toEqual(Array.from(await random.normal(k, [8]).data()));
    });
  });
}

it('random functions lower to text that round-trips', () => {
  const k = random.key(1);
  for (const f of [(key: KArray) => random.uniform(key, [3]), (key: KArray) => random.normal(key, [2, 2]), (key: KArray) => random.permutation(key, 5), (key: KArray) => random.randint(key, [4], 0, 10)]) {
    const text = lower(f)(k).text;
    const m = parseModule(text);
    verifyModule(m);
    expect(printModule(m)).toBe(text);
  }
});
