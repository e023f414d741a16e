/**
 * @file Counter-based random numbers, as in `jax.random`: a key is a ui32 Array of shape [2], and
 * every draw hashes a counter with the Threefry-2x32 block cipher (20 rounds, Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011), written with traced ui32 ops so it
 * jits like anything else. Key derivation follows JAX's default (`jax_threefry_partitionable`):
 * `split(k, n)[i]` and `foldIn(k, i)` hash the counter (0, i); `bits(k, shape)` xors the two words
 * of the hash of (0, flat index); uniform floats take the top 23 bits as a mantissa in [1, 2).
 * With the same key, shapes and dtypes the values equal JAX's.
 */
import { Op } from '../ir/ops.js';
import { KArray } from './array.js';
import { isFloat } from '../ir/dtype.js';
import { A, defapi, p, type Check } from './args.js';
import * as lax from './lax.js';
import { traceError } from './site.js';
import { checkShape, type Operand } from './numpy/promote.js';
import { takeImpl } from './numpy/gather.js';

/** A key: an Array (checked to be ui32[2] by the op). */
export const KEY: Check<KArray> = {
  accepts: 'a key (a ui32 Array of shape [2], from random.key)',
  parse: (v, q) => (v instanceof KArray ? v : (() => { throw traceError(`${q} must be a key (a ui32 Array of shape [2], from random.key), got ${typeof v === 'number' ? 'a number' : Array.isArray(v) ? 'a list' : typeof v}`); })()),
};
/** A seed: a JS integer (static) or an integer Array. */
const SEED: Check<number | KArray> = {
  accepts: 'an integer or an integer Array',
  parse: (v, q) => (typeof v === 'number' ? A.int.parse(v, q) : A.array.parse(v, q) as KArray),
};

const ROTATIONS = [[13, 15, 26, 6], [17, 29, 16, 24]];
const PARITY = 0x1bd11bda;

function u32(shape: readonly number[], v: number): KArray {
  return lax.constant('ui32', shape, v >>> 0);
}

function rotl(x: KArray, r: number): KArray {
  const left = lax.binary(Op.ShiftLeft, x, u32(x.shape, r));
  const right = lax.binary(Op.ShiftRightLogical, x, u32(x.shape, 32 - r));
  return lax.binary(Op.Or, left, right);
}

/**
 * Threefry-2x32 with key (k0, k1) (ui32 scalars, or one key per counter: Arrays of the counters'
 * shape) of the counters (x0, x1) (ui32, one shape): returns the two output words.
 */
export function threefry2x32(k0: KArray, k1: KArray, x0: KArray, x1: KArray): [KArray, KArray] {
  const shape = x0.shape;
  const bc = (k: KArray) => (k.ndim === shape.length ? k : lax.broadcastInDim(k, shape, []));
  const ks = [bc(k0), bc(k1)];
  ks.push(lax.binary(Op.Xor, lax.binary(Op.Xor, ks[0], ks[1]), u32(shape, PARITY)));
  const add = (a: KArray, b: KArray) => lax.binary(Op.Add, a, b);
  let a = add(x0, ks[0]);
  let b = add(x1, ks[1]);
  for (let i = 0; i < 5; i++) {
    for (const r of ROTATIONS[i % 2]) {
      a = add(a, b);
      b = lax.binary(Op.Xor, rotl(b, r), a);
    }
    // Key injection i+1: words ks[(i+1)%3] and ks[(i+2)%3] + (i+1).
    a = add(a, ks[(i + 1) % 3]);
    b = add(add(b, ks[(i + 2) % 3]), u32(shape, i + 1));
  }
  return [a, b];
}

function keyWords(key: KArray): [KArray, KArray] {
  if (key.dtype !== 'ui32' || key.ndim !== 1 || key.shape[0] !== 2) {
    throw traceError(`a key is a ui32 array of shape [2] (from random.key), got ${key.describe()}`);
  }
  return [lax.reshape(lax.slice(key, [0], [1]), []), lax.reshape(lax.slice(key, [1], [2]), [])];
}

/** The hash of counters (0, i) for i < n, reshaped to `shape`. */
function hashIota(key: KArray, shape: readonly number[]): [KArray, KArray] {
  const [k0, k1] = keyWords(key);
  const n = shape.reduce((p, d) => p * d, 1);
  const [a, b] = threefry2x32(k0, k1, u32([n], 0), lax.iota('ui32', [n], 0));
  return [lax.reshape(a, shape), lax.reshape(b, shape)];
}

export function splitImpl(key: KArray, num: number): KArray {
  const [a, b] = hashIota(key, [num]);
  return lax.concatenate([lax.reshape(a, [num, 1]), lax.reshape(b, [num, 1])], 1);
}

export function bitsImpl(key: KArray, shape: readonly number[]): KArray {
  const [a, b] = hashIota(key, shape);
  return lax.binary(Op.Xor, a, b);
}

export function nth(keys: KArray, i: number): KArray {
  return lax.reshape(lax.slice(keys, [i, 0], [i + 1, 2]), [2]);
}

/** A key from an integer seed: [hi, lo] words of the seed, as `jax.random.key(seed)`. */
export const key = defapi('random.key', [p('seed', SEED)], (seed: number | KArray): KArray => {
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed)) throw traceError(`seed must be an integer, got ${seed}`);
    const hi = seed < 0 ? 0xffffffff : Math.floor(seed / 2 ** 32) >>> 0;
    return lax.constant('ui32', [2], [hi, seed >>> 0]);
  }
  const lo = lax.reshape(lax.convert(seed, 'ui32'), [1]);
  return lax.concatenate([u32([1], 0), lo], 0);
}) as (seed: number | KArray) => KArray;

/** `num` new keys (shape [num, 2]) derived from `key`. */
export const split = defapi('random.split', [p('key', KEY), p('num', A.count, 2)], (k: KArray, num = 2): KArray => splitImpl(k, num)) as (key: KArray, num?: number) => KArray;

/** A new key from `key` and an integer (e.g. a step or a layer index). */
export const foldIn = defapi('random.foldIn', [p('key', KEY), p('data', A.array)], (k: KArray, data: number | KArray): KArray => {
  const [k0, k1] = keyWords(k);
  if (typeof data === 'number' ? !Number.isInteger(data) : isFloat(data.dtype)) throw traceError(`data must be an integer, got ${typeof data === 'number' ? data : data.describe()}`);
  const d = typeof data === 'number' ? u32([1], data) : lax.reshape(lax.convert(data, 'ui32'), [1]);
  const [a, b] = threefry2x32(k0, k1, u32([1], 0), d);
  return lax.concatenate([a, b], 0);
}) as (key: KArray, data: number | KArray) => KArray;

/** Raw random ui32 bits of `shape`. */
export const bits = defapi('random.bits', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('ui32')), null)], (k: KArray, shape: number[]): KArray => bitsImpl(k, checkShape(shape))) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Options of the continuous draws. */
export interface UniformOptions {
  dtype?: string | null;
  minval?: number;
  maxval?: number;
}

/** `v` (a JS number or an Array broadcastable to `shape`) as f32 of `shape`. */
export function f32Of(v: number | KArray, shape: readonly number[]): KArray {
  if (typeof v === 'number') return lax.constant('f32', shape, v);
  const a = lax.convert(v, 'f32');
  if (a.ndim > shape.length) throw traceError(`a parameter of shape [${a.shape.join(', ')}] does not broadcast to the draw's shape [${shape.join(', ')}]`);
  const lead = shape.length - a.ndim;
  a.shape.forEach((d, i) => { if (d !== 1 && d !== shape[lead + i]) throw traceError(`a parameter of shape [${a.shape.join(', ')}] does not broadcast to the draw's shape [${shape.join(', ')}]`); });
  const squeezed = lax.reshape(a, a.shape.filter((d) => d !== 1));
  const dims = a.shape.map((d, i) => (d === 1 ? -1 : lead + i)).filter((d) => d >= 0);
  return lax.broadcastInDim(squeezed, shape, dims);
}

/**
 * JAX's `uniform`: the top 23 bits as a mantissa under 1.0's exponent, minus 1, then
 * `max(minval, f * (maxval - minval) + minval)` in f32 (so bounds given as Arrays round as JAX's).
 */
export function uniformImpl(k: KArray, shape: readonly number[], minval: number | KArray, maxval: number | KArray): KArray {
  return uniformOfBits(bitsImpl(k, checkShape(shape)), minval, maxval);
}

/** {@link uniformImpl} of given ui32 bits (one draw per element). */
export function uniformOfBits(b: KArray, minval: number | KArray, maxval: number | KArray): KArray {
  // 23 random mantissa bits under the exponent of 1.0: a float in [1, 2).
  const mant = lax.binary(Op.Or, lax.binary(Op.ShiftRightLogical, b, u32(b.shape, 9)), u32(b.shape, 0x3f800000));
  const f = lax.binary(Op.Subtract, lax.bitcast(mant, 'f32'), lax.constant('f32', b.shape, 1));
  const lo = f32Of(minval, b.shape), hi = f32Of(maxval, b.shape);
  const scaled = lax.binary(Op.Add, lax.binary(Op.Multiply, f, lax.binary(Op.Subtract, hi, lo)), lo);
  return lax.binary(Op.Maximum, lo, scaled);
}

/** f32 values uniform in [minval, maxval) (default [0, 1)). */
export const uniform = defapi('random.uniform', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null), p('minval', A.number, 0), p('maxval', A.number, 1)], (k: KArray, shape: number[], _dtype: null, minval: number, maxval: number): KArray =>
  uniformImpl(k, shape, minval, maxval)) as (key: KArray, shape?: number | readonly number[], dtype?: string | null | UniformOptions, minval?: number | UniformOptions, maxval?: number) => KArray;

/** The largest f32 below -1's successor toward 0: JAX's lower bound for normal draws. */
const NEXT_AFTER_MINUS_ONE = -0.99999994039535522;

/** JAX's `_normal_real`: sqrt(2) * erfinv(u) with u uniform in (-1, 1). */
export function normalImpl(k: KArray, shape: readonly number[]): KArray {
  const u = uniformImpl(k, shape, NEXT_AFTER_MINUS_ONE, 1);
  return lax.binary(Op.Multiply, lax.constant('f32', u.shape, Math.SQRT2), lax.unary(Op.ErfInv, u));
}

/** Standard normal f32 values: sqrt(2) * erfinv(u) with u uniform in (-1, 1), as JAX. */
export const normal = defapi('random.normal', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: readonly number[] = []): KArray =>
  normalImpl(k, shape)) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Booleans that are true with probability `p`. */
export const bernoulli = defapi('random.bernoulli', [p('key', KEY), p('p', A.array, 0.5), p('shape', A.orNull(A.shape), null)], (k: KArray, p: Operand, shape: number[] | null): KArray => {
  const s = shape ?? (typeof p === 'number' ? [] : [...p.shape]);
  const u = uniformImpl(k, s, 0, 1);
  const pp = typeof p === 'number' ? lax.constant('f32', s, p) : lax.broadcastInDim(lax.convert(p, 'f32'), s, p.shape.map((_, i) => s.length - p.ndim + i));
  return lax.compare('LT', u, pp);
}) as (key: KArray, p?: number | KArray, shape?: number | readonly number[] | null) => KArray;

/** i32 integers uniform in [minval, maxval), by JAX's two-draw method. */
export const randint = defapi('random.randint', [p('key', KEY), p('shape', A.shape), p('minval', A.int), p('maxval', A.int), p('dtype', A.orNull(A.dtypeIn('i32')), null)], (k: KArray, shape: readonly number[], minval: number, maxval: number): KArray => randintImpl(k, shape, minval, maxval)) as (key: KArray, shape: number | readonly number[], minval: number, maxval: number, dtype?: string | null) => KArray;

/** JAX's randint for static bounds: two bit draws combined modulo the span. */
export function randintImpl(k: KArray, shape: readonly number[], minval: number, maxval: number): KArray {
  if (!Number.isInteger(minval) || !Number.isInteger(maxval)) throw traceError('randint bounds must be integers');
  const s = checkShape(shape);
  const keys = splitImpl(k, 2);
  const hi = bitsImpl(nth(keys, 0), s), lo = bitsImpl(nth(keys, 1), s);
  const span = maxval <= minval ? 1 : (maxval - minval) >>> 0;
  let mult = 65536 % span;
  mult = (mult * mult) % span;
  const spanC = u32(s, span);
  const rem = (x: KArray) => lax.binary(Op.Remainder, x, spanC);
  const offset = rem(lax.binary(Op.Add, lax.binary(Op.Multiply, rem(hi), u32(s, mult)), rem(lo)));
  return lax.binary(Op.Add, lax.constant('i32', s, minval), lax.convert(offset, 'i32'));
}

/**
 * A random permutation of `arange(n)`, or of `x` along axis 0, by sorting on random keys (as JAX's
 * `_shuffle`, with enough rounds that ties are unlikely).
 */
export const permutation = defapi('random.permutation', [p('key', KEY), p('x', { accepts: 'a non-negative integer or an Array', parse: (v, q) => (typeof v === 'number' ? A.count.parse(v, q) : A.array.parse(v, q)) }), p('axis', A.fixed(0, 'only axis 0 is implemented'), 0), p('independent', A.fixed(false, 'not implemented'), false)], (k: KArray, x: number | KArray): KArray => {
  const n = typeof x === 'number' ? x : x.shape[0];
  if (!Number.isInteger(n) || n < 0) throw traceError(`permutation needs a non-negative integer or an array, got ${x}`);
  const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(0xffffffff));
  let perm = lax.iota('i32', [n], 0);
  let kk = k;
  for (let r = 0; r < rounds; r++) {
    const keys = splitImpl(kk, 2);
    kk = nth(keys, 0);
    perm = lax.sort([bitsImpl(nth(keys, 1), [n]), perm], 0, true)[1];
  }
  return typeof x === 'number' ? perm : takeImpl(x, perm, 0);
}) as (key: KArray, x: number | KArray) => KArray;
