/**
 * @file `stablehlo.rng_bit_generator` on the host: THREE_FRY (Threefry-2x32, 20 rounds) and
 * PHILOX (Philox-4x32, 10 rounds), bit for bit as XLA's `rng_bit_generator_expander.cc` and
 * `hlo/builder/lib/prng.cc` compute them (DEFAULT is PHILOX there). Written directly on words and
 * bigints, independently of the GPU path (`compiler/passes/expand.ts`), so each checks the other.
 *
 * State layout (a `ui64` vector; element 0 is always the key, and is returned unchanged):
 * - THREE_FRY `[key, counter]`: block `i` of the request encrypts `counter + i`; the new counter
 *   is `counter + blocks`.
 * - PHILOX `[key, lo, hi]`: a 128-bit counter `hi:lo`; `[key, lo]` (two elements) reads as
 *   `hi = key`, and only the new `lo` is returned.
 * How words become elements: see {@link threeFryBits} and {@link philoxBits}.
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { numElements, type Operation, type TensorType } from '../../ir/types.js';
import type { HostTensor } from '../tensor.js';

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffffffffn;

const lo32 = (x: bigint): number => Number(x & MASK32);
const hi32 = (x: bigint): number => Number((x >> 32n) & MASK32);
const join64 = (lo: number, hi: number): bigint => BigInt(lo >>> 0) | (BigInt(hi >>> 0) << 32n);
const rotl = (v: number, d: number): number => ((v << d) | (v >>> (32 - d))) >>> 0;

/** Threefry-2x32 with 20 rounds (Salmon et al., SC 2011) on one block. */
export function threeFry2x32(x0: number, x1: number, k0: number, k1: number): [number, number] {
  const rotations = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k0 >>> 0, k1 >>> 0, (0x1bd11bda ^ k0 ^ k1) >>> 0];
  let a = (x0 + ks[0]) >>> 0;
  let b = (x1 + ks[1]) >>> 0;
  for (let block = 0; block < 5; block++) {
    for (let r = 0; r < 4; r++) {
      a = (a + b) >>> 0;
      b = (rotl(b, rotations[(block % 2) * 4 + r]) ^ a) >>> 0;
    }
    // Key injection after every four rounds, with the round-group number added.
    a = (a + ks[(block + 1) % 3]) >>> 0;
    b = (b + ks[(block + 2) % 3] + block + 1) >>> 0;
  }
  return [a, b];
}

/** The high and low words of the 64-bit product of two 32-bit words. */
function mulHiLo(a: number, k: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(k >>> 0);
  return [hi32(p), lo32(p)];
}

/** Philox-4x32 with 10 rounds on one block. */
export function philox4x32(x: [number, number, number, number], k0: number, k1: number): [number, number, number, number] {
  let [a, b, c, d] = x;
  for (let r = 0; r < 10; r++) {
    const [h0, l0] = mulHiLo(a, 0xd2511f53);
    const [h1, l1] = mulHiLo(c, 0xcd9e8d57);
    [a, b, c, d] = [(h1 ^ b ^ k0) >>> 0, l1, (h0 ^ d ^ k1) >>> 0, l0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [a, b, c, d];
}

/**
 * How XLA halves a shape for Threefry's two output words: the first even dimension, else the
 * largest (the first of equals); a scalar draws one block and keeps its first word. Returns the
 * dimension, or -1 for a scalar.
 */
export function threeFrySplitDim(shape: readonly number[]): number {
  if (shape.length === 0) return -1;
  const even = shape.findIndex((d) => d % 2 === 0);
  if (even >= 0) return even;
  let best = 0;
  shape.forEach((d, i) => { if (d > shape[best]) best = i; });
  return best;
}

/**
 * Threefry words for `shape`, as 32-bit words (`wide` false) or low/high pairs (`wide` true,
 * two words per element). 32-bit: the shape is halved along {@link threeFrySplitDim} (rounded
 * up); block `b` (row-major in the halved shape) gives the elements at `2j` and `2j + 1` of the
 * split dimension. 64-bit: block `b` is element `b`, its words the low and high halves.
 */
export function threeFryBits(key: bigint, counter: bigint, shape: readonly number[], wide: boolean): { words: Uint32Array; blocks: number } {
  const [k0, k1] = [lo32(key), hi32(key)];
  const n = numElements(shape);
  const words = new Uint32Array(wide ? 2 * n : n);
  const block = (b: number) => {
    const c = (counter + BigInt(b)) & MASK64;
    return threeFry2x32(lo32(c), hi32(c), k0, k1);
  };
  if (wide) {
    for (let b = 0; b < n; b++) words.set(block(b), 2 * b);
    return { words, blocks: n };
  }
  const split = threeFrySplitDim(shape);
  if (split < 0) {
    words[0] = block(0)[0];
    return { words, blocks: 1 };
  }
  const outer = numElements(shape.slice(0, split));
  const d = shape[split];
  const half = Math.ceil(d / 2);
  const inner = numElements(shape.slice(split + 1));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < inner; i++) {
        // The halved shape's row-major block number of (o, j / 2, i); the word is j's parity.
        const b = (o * half + (j >> 1)) * inner + i;
        words[(o * d + j) * inner + i] = block(b)[j & 1];
      }
    }
  }
  return { words, blocks: outer * half * inner };
}

/**
 * Philox words: block `i` encrypts the 128-bit counter `hi:lo + i` and gives 4 consecutive
 * words; `count` words are taken, the last block's extras dropped. Returns the blocks drawn.
 */
export function philoxBits(key: bigint, lo: bigint, hi: bigint, count: number): { words: Uint32Array; blocks: number } {
  const [k0, k1] = [lo32(key), hi32(key)];
  const blocks = Math.ceil(count / 4);
  const words = new Uint32Array(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const l = (lo + BigInt(i)) & MASK64;
    const h = l < lo ? (hi + 1n) & MASK64 : hi;
    words.set(philox4x32([lo32(l), hi32(l), lo32(h), hi32(h)], k0, k1), 4 * i);
  }
  return { words: words.subarray(0, count), blocks };
}

/** Adds `n` to the 128-bit counter `hi:lo`. */
function add128(lo: bigint, hi: bigint, n: number): [bigint, bigint] {
  const l = (lo + BigInt(n)) & MASK64;
  return [l, l < lo ? (hi + 1n) & MASK64 : hi];
}

/** The result tensor of `type` holding `words` (one per element, or low/high pairs for 64-bit types). */
function fromWords(words: Uint32Array, type: TensorType): HostTensor {
  const shape = [...type.shape];
  const n = numElements(shape);
  switch (type.dtype) {
    case 'ui32': return { dtype: 'ui32', shape, data: words.slice(0, n) };
    case 'i32': return { dtype: 'i32', shape, data: new Int32Array(words.slice(0, n).buffer) };
    case 'f32': return { dtype: 'f32', shape, data: new Float32Array(words.slice(0, n).buffer) };
    case 'ui64': return { dtype: 'ui64', shape, data: new BigUint64Array(words.slice(0, 2 * n).buffer) };
    case 'i64': return { dtype: 'i64', shape, data: new BigInt64Array(words.slice(0, 2 * n).buffer) };
    default: throw new UnsupportedOpError(`stablehlo.rng_bit_generator: no ${type.dtype} result (the verifier admits 32- and 64-bit ones)`);
  }
}

/** Runs one `rng_bit_generator`: returns the new state and the bits. */
export function rngBitGenerator(o: Operation<Op.RngBitGenerator>, state: HostTensor): HostTensor[] {
  const s = state.data as BigUint64Array;
  const out = o.results[1].type;
  const wide = out.dtype === 'ui64' || out.dtype === 'i64';
  const n = numElements(out.shape);
  const next = new BigUint64Array(s);
  let words: Uint32Array;
  if (o.attrs.algorithm === 'THREE_FRY') {
    const r = threeFryBits(s[0], s[1], out.shape, wide);
    words = r.words;
    next[1] = (s[1] + BigInt(r.blocks)) & MASK64;
  } else {
    const [lo, hi] = s.length === 3 ? [s[1], s[2]] : [s[1], s[0]];
    const r = philoxBits(s[0], lo, hi, wide ? 2 * n : n);
    words = r.words;
    const [l, h] = add128(lo, hi, r.blocks);
    next[1] = l;
    if (s.length === 3) next[2] = h;
  }
  return [{ dtype: 'ui64', shape: [...state.shape], data: next }, fromWords(words, out)];
}
