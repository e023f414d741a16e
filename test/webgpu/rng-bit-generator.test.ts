/**
 * @file `stablehlo.rng_bit_generator` beyond JAX's three fixtures: THREE_FRY and PHILOX (and
 * DEFAULT, which is PHILOX) for result shapes of rank 0 to 3 (odd dimensions, where Threefry's
 * halving rounds up), ui32 / i32 / f32 / ui64 / i64 results, 2- and 3-element Philox states, and
 * the new state. Expected values come from Threefry-2x32 and Philox-4x32 written here on bigints,
 * laid out by index arithmetic the way XLA's prng.cc describes its reshapes and concatenations
 * (independently of kiln's two implementations); both devices must match them bit for bit.
 * The 32 <-> 64-bit bitcast_convert that JAX wraps the state in is checked the same way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../ir/errors.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, d: bigint) => ((x << d) | (x >> (32n - d))) & 0xffffffffn;

/** Threefry-2x32 (Random123): 5 groups of 4 rounds, a key injection after each. */
function threefry(c: bigint, key: bigint): [bigint, bigint] {
  const R = [13n, 15n, 26n, 6n, 17n, 29n, 16n, 24n];
  const k = [key & 0xffffffffn, key >> 32n];
  const ks = [k[0], k[1], k[0] ^ k[1] ^ 0x1bd11bdan];
  let x = [(c & 0xffffffffn) + ks[0], (c >> 32n) + ks[1]].map((v) => v & 0xffffffffn);
  for (let g = 0; g < 5; g++) {
    for (let r = 0; r < 4; r++) {
      const a = (x[0] + x[1]) & 0xffffffffn;
      x = [a, rotl(x[1], R[4 * (g % 2) + r]) ^ a];
    }
    x = [(x[0] + ks[(g + 1) % 3]) & 0xffffffffn, (x[1] + ks[(g + 2) % 3] + BigInt(g + 1)) & 0xffffffffn];
  }
  return [x[0], x[1]];
}

/** Philox-4x32-10 on the 128-bit counter `c`. */
function philox(c: bigint, key: bigint): bigint[] {
  let x = [0n, 32n, 64n, 96n].map((s) => (c >> s) & 0xffffffffn);
  let k = [key & 0xffffffffn, key >> 32n];
  for (let r = 0; r < 10; r++) {
    const p0 = x[0] * 0xd2511f53n;
    const p1 = x[2] * 0xcd9e8d57n;
    x = [(p1 >> 32n) ^ x[1] ^ k[0], p1 & 0xffffffffn, (p0 >> 32n) ^ x[3] ^ k[1], p0 & 0xffffffffn];
    k = [(k[0] + 0x9e3779b9n) & 0xffffffffn, (k[1] + 0xbb67ae85n) & 0xffffffffn];
  }
  return x;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Expected [new state, 32-bit words (two per element for 64-bit results)]. */
function expected(alg: string, state: bigint[], shape: number[], wide: boolean): [bigint[], bigint[]] {
  const n = prod(shape);
  if (alg === 'THREE_FRY') {
    const [key, ctr] = state;
    if (wide) {
      const words = Array.from({ length: n }, (_, i) => threefry((ctr + BigInt(i)) & M64, key)).flat();
      return [[key, (ctr + BigInt(n)) & M64], words];
    }
    if (shape.length === 0) return [[key, ctr + 1n], [threefry(ctr, key)[0]]];
    // Split dimension: the first even one, else the first largest.
    let s = shape.findIndex((d) => d % 2 === 0);
    if (s < 0) s = shape.indexOf(Math.max(...shape));
    const half = shape.map((d, i) => (i === s ? Math.ceil(d / 2) : d));
    const words: bigint[] = [];
    for (let flat = 0; flat < n; flat++) {
      // Multi-index of the output element, then the block at (its index with j halved).
      let rem = flat;
      const idx = shape.map((_, i) => { const st = prod(shape.slice(i + 1)); const v = Math.floor(rem / st); rem %= st; return v; });
      const block = idx.reduce((acc, v, i) => acc * half[i] + (i === s ? v >> 1 : v), 0);
      words.push(threefry((ctr + BigInt(block)) & M64, key)[idx[s] & 1]);
    }
    return [[key, (ctr + BigInt(prod(half))) & M64], words];
  }
  const [key, lo, hi] = state.length === 3 ? state : [state[0], state[1], state[0]];
  const count = wide ? 2 * n : n;
  const blocks = Math.ceil(count / 4);
  const base = (hi << 64n) | lo;
  const words = Array.from({ length: blocks }, (_, i) => philox((base + BigInt(i)) & ((1n << 128n) - 1n), key)).flat().slice(0, count);
  const next = (base + BigInt(blocks)) & ((1n << 128n) - 1n);
  return [state.length === 3 ? [key, next & M64, next >> 64n] : [key, next & M64], words];
}

/** The host array of a result of `dtype` holding `words`. */
function asHost(dtype: string, words: bigint[]): HostTensor['data'] {
  const u32 = new Uint32Array(words.map(Number));
  switch (dtype) {
    case 'ui32': return u32;
    case 'i32': return new Int32Array(u32.buffer);
    case 'f32': return new Float32Array(u32.buffer);
    case 'ui64': return new BigUint64Array(u32.buffer);
    default: return new BigInt64Array(u32.buffer);
  }
}

function program(alg: string, stateLen: number, shape: number[], dtype: string): string {
  const st = `tensor<${stateLen}xui64>`;
  const out = `tensor<${[...shape, dtype].join('x')}>`;
  return `module @m {
  func.func public @main(%arg0: ${st}) -> (${st}, ${out}) {
    %s, %b = stablehlo.rng_bit_generator %arg0, algorithm = ${alg} : (${st}) -> (${st}, ${out})
    return %s, %b : ${st}, ${out}
  }
}`;
}

/** Bits, compared as bits (f32 NaN patterns included). */
const bitsOf = (t: HostTensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4));

const CASES: [string, number, number[], string][] = [
  ['THREE_FRY', 2, [], 'ui32'],
  ['THREE_FRY', 2, [5], 'ui32'],
  ['THREE_FRY', 2, [3, 5], 'ui32'],
  ['THREE_FRY', 2, [3, 4, 5], 'i32'],
  ['THREE_FRY', 2, [1, 3, 7], 'f32'],
  ['THREE_FRY', 2, [3, 3], 'ui64'],
  ['THREE_FRY', 2, [2, 3], 'i64'],
  ['PHILOX', 2, [], 'ui32'],
  ['PHILOX', 2, [7], 'ui32'],
  ['PHILOX', 3, [2, 5], 'i32'],
  ['PHILOX', 3, [3], 'ui64'],
  ['PHILOX', 2, [5], 'i64'],
  ['PHILOX', 3, [3, 1, 3], 'f32'],
  ['DEFAULT', 2, [2, 3], 'ui32'],
];

// Counters near 2^64 so that Threefry's counter and Philox's low word wrap (and carry into hi).
const STATES: Record<number, bigint[]> = {
  2: [0x0123456789abcdefn, 0xfffffffffffffffdn],
  3: [0x0f1e2d3c4b5a6978n, 0xfffffffffffffffen, 0x7fffffffffffffffn],
};

describe('stablehlo.rng_bit_generator against Threefry / Philox written out in the test', () => {
  for (const [alg, len, shape, dtype] of CASES) {
    it(`${alg}, state ${len}, ${dtype}[${shape.join(',')}] on both devices`, async () => {
      const m = parse(program(alg, len, shape, dtype));
      verifyModule(m);
      const wide = dtype.endsWith('64');
      const [state, words] = expected(alg === 'DEFAULT' ? 'PHILOX' : alg, STATES[len], shape, wide);
      const input: HostTensor = { dtype: 'ui64', shape: [len], data: new BigUint64Array(STATES[len]) };
      const want = asHost(dtype, words);
      const check = (outs: HostTensor[], device: string) => {
        expect(Array.from(outs[0].data as BigUint64Array), `${device} state`).toEqual(state);
        expect(outs[1].shape, `${device} shape`).toEqual(shape);
        expect(outs[1].dtype).toBe(dtype);
        expect(bitsOf(outs[1]), `${device} bits`).toEqual(bitsOf({ dtype: dtype as 'ui32', shape, data: want }));
      };
      check(interpret(m, [input]), 'reference');
      const d = await gpu();
      const exe = d.compile(m);
      const outs = d.execute(exe, [d.upload(input)]);
      check(await Promise.all(outs.map((o) => d.read(o))), 'webgpu');
      outs.forEach((o) => d.free(o));
    });
  }

  it('bitcast_convert between ui32 pairs and ui64 (low word first) on both devices', async () => {
    const m = parse(`module @m {
  func.func public @main(%arg0: tensor<3x2xui32>) -> (tensor<3xui64>, tensor<3x2xi32>) {
    %0 = stablehlo.bitcast_convert %arg0 : (tensor<3x2xui32>) -> tensor<3xui64>
    %1 = stablehlo.bitcast_convert %0 : (tensor<3xui64>) -> tensor<3x2xi32>
    return %0, %1 : tensor<3xui64>, tensor<3x2xi32>
  }
}`);
    verifyModule(m);
    const words = [1, 2, 0xffffffff, 0x80000000, 7, 0];
    const input: HostTensor = { dtype: 'ui32', shape: [3, 2], data: new Uint32Array(words) };
    const joined = [1n | (2n << 32n), 0xffffffffn | (0x80000000n << 32n), 7n];
    const check = (outs: HostTensor[]) => {
      expect(Array.from(outs[0].data as BigUint64Array)).toEqual(joined);
      expect(Array.from(outs[1].data as Int32Array)).toEqual(words.map((w) => w | 0));
    };
    check(interpret(m, [input]));
    const d = await gpu();
    const outs = d.execute(d.compile(m), [d.upload(input)]);
    check(await Promise.all(outs.map((o) => d.read(o))));
    outs.forEach((o) => d.free(o));
  });

  it('refuses states and results XLA does not define, naming the op', () => {
    const bad = [
      [program('THREE_FRY', 3, [4], 'ui32'), /rng_bit_generator: .*must be tensor<2xui64> for algorithm THREE_FRY/],
      [program('PHILOX', 2, [4], 'i1'), /rng_bit_generator: result tensor<4xi1>: kiln draws 32-bit and 64-bit random bits only/],
      [program('PHILOX', 2, [4], 'f16'), /rng_bit_generator: result tensor<4xf16>: kiln draws 32-bit and 64-bit random bits only/],
    ] as const;
    for (const [text, re] of bad) {
      expect(() => verifyModule(parse(text, 'rng.mlir'))).toThrow(KilnError);
      expect(() => verifyModule(parse(text, 'rng.mlir'))).toThrow(re);
    }
  });
});
