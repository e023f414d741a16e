/**
 * @file The distributions of `jax.random` that are closed-form transforms of uniform or normal
 * draws: gumbel, categorical, choice, exponential, laplace, logistic, cauchy, rademacher, maxwell,
 * doubleSidedMaxwell, pareto, weibullMin, rayleigh, lognormal, geometric, triangular,
 * truncatedNormal. Each draws the same bits and applies the same f32 formula as JAX's
 * jax/_src/random.py (the bounds `tiny`, `eps`, `epsneg` included), so with the same key the values
 * equal JAX's. Parameters are JS numbers or f32 Arrays broadcastable to the draw's shape.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Check } from '../args.js';
import * as lax from '../lax.js';
import * as np from '../numpy/index.js';
import { checkShape, normAxis, type Operand } from '../numpy/promote.js';
import { takeImpl } from '../numpy/gather.js';
import { traceError } from '../site.js';
import { f32Of, KEY, normalImpl, nth, randintImpl, splitImpl, uniformImpl, permutation } from '../random.js';

/** numpy.finfo(float32) constants JAX bounds its uniform draws with. */
const TINY = 1.1754943508222875e-38;
const EPS = 2 ** -23;
const EPSNEG = 2 ** -24;

/** A distribution parameter: a JS number (static) or an Array (traced). */
export const PARAM: Check<number | KArray> = {
  accepts: 'a number or an Array',
  parse: (v, q) => (typeof v === 'number' ? v : A.array.parse(v, q) as KArray),
};
export const SHAPE = A.orNull(A.shape);

/** The draw's shape: `shape` when given, else the broadcast shape of the Array parameters. */
export function drawShape(shape: readonly number[] | null, ...params: (number | KArray)[]): number[] {
  if (shape !== null) return checkShape(shape);
  return np.broadcastShapes(...params.map((q) => (typeof q === 'number' ? [] : [...q.shape]))) as number[];
}

const un = (op: Op, x: KArray) => lax.unary(op, x);
const bin = (op: Op, x: KArray, y: KArray) => lax.binary(op, x, y);
const cst = (x: KArray, v: number) => lax.constant('f32', x.shape, v);

/** JAX's gumbel (mode 'low'): -log(-log(u)), u uniform in [tiny, 1). */
function gumbelImpl(k: KArray, shape: readonly number[]): KArray {
  return un(Op.Negate, un(Op.Log, un(Op.Negate, un(Op.Log, uniformImpl(k, shape, TINY, 1)))));
}

export function exponentialImpl(k: KArray, shape: readonly number[]): KArray {
  return un(Op.Negate, un(Op.Log1p, un(Op.Negate, uniformImpl(k, shape, 0, 1))));
}

function maxwellImpl(k: KArray, shape: readonly number[]): KArray {
  const n = normalImpl(k, [...shape, 3]);
  return un(Op.Sqrt, lax.reduce([bin(Op.Multiply, n, n)], [lax.constant('f32', [], 0)], [shape.length], lax.binaryBody(Op.Add))[0]);
}

export function rademacherImpl(k: KArray, shape: readonly number[], dtype: 'i32' | 'f32'): KArray {
  const b = lax.convert(lax.compare('LT', uniformImpl(k, shape, 0, 1), lax.constant('f32', shape, 0.5)), dtype);
  return bin(Op.Subtract, bin(Op.Multiply, lax.constant(dtype, shape, 2), b), lax.constant(dtype, shape, 1));
}

/** Gumbel(0, 1) draws: -log(-log(u)). */
export const gumbel = defapi('random.gumbel', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray =>
  gumbelImpl(k, checkShape(shape))) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/**
 * Samples of the categorical distribution over `axis` of `logits` (unnormalized log
 * probabilities), as i32 indices: argmax(logits + gumbel noise), JAX's method (replace = true).
 */
export const categorical = defapi('random.categorical', [p('key', KEY), p('logits', A.array), p('axis', A.axis, -1), p('shape', SHAPE, null), p('replace', A.fixed(true, 'sampling without replacement is not implemented'), true)], (k: KArray, logitsArg: Operand, axisArg: number, shapeArg: number[] | null): KArray => {
  const logits = lax.convert(np.asarray(logitsArg), 'f32');
  const axis = normAxis(axisArg, logits.ndim);
  const batch = logits.shape.filter((_, i) => i !== axis);
  const shape = shapeArg === null ? batch : checkShape(shapeArg);
  const suffix = shape.slice(shape.length - batch.length);
  if (shape.length < batch.length || suffix.some((d, i) => d !== batch[i])) {
    throw traceError(`categorical: shape [${shape.join(', ')}] must end with the logits' batch shape [${batch.join(', ')}]`);
  }
  const prefix = shape.slice(0, shape.length - batch.length);
  const logitsShape = [...batch];
  logitsShape.splice(axis, 0, logits.shape[axis]);
  const full = [...prefix, ...logitsShape];
  const noise = gumbelImpl(k, full);
  const l = lax.broadcastInDim(logits, full, logits.shape.map((_, i) => prefix.length + i));
  return np.argmax(bin(Op.Add, noise, l), prefix.length + axis) as KArray;
}) as (key: KArray, logits: Operand, axis?: number | { axis?: number; shape?: number | readonly number[] | null }, shape?: number | readonly number[] | null) => KArray;

/**
 * `shape` draws from `arange(a)` (a JS integer) or from `a`'s rows along `axis`: with replacement
 * by randint, without by the first draws of a permutation, with probabilities `p` (replacement
 * only) by inverting the cumulative sum, as JAX.
 */
export const choice = defapi('random.choice', [p('key', KEY), p('a', PARAM), p('shape', A.shape, []), p('replace', A.bool, true), p('p', A.orNull(A.array), null), p('axis', A.axis, 0)], (k: KArray, a: number | KArray, shapeArg: number[], replace: boolean, pArg: Operand | null, axisArg: number): KArray => {
  const shape = checkShape(shapeArg);
  if (typeof a === 'number' && (!Number.isInteger(a) || a < 0)) throw traceError(`choice: a must be a non-negative integer or an Array, got ${a}`);
  const arr = typeof a === 'number' ? null : a;
  const axis = arr === null ? 0 : normAxis(axisArg, arr.ndim);
  const n = arr === null ? (a as number) : arr.shape[axis];
  const draws = shape.reduce((m, d) => m * d, 1);
  let ind: KArray;
  if (pArg === null) {
    if (replace) ind = randintImpl(k, shape, 0, n);
    else {
      if (draws > n) throw traceError(`choice: cannot take ${draws} draws from ${n} values without replacement`);
      if (arr !== null && arr.ndim > 1 && axis !== 0) throw traceError('choice without replacement of an Array along an axis other than 0 is not implemented');
      const perm = permutation(k, arr ?? n) as KArray;
      const first = lax.slice(perm, perm.shape.map(() => 0), [draws, ...perm.shape.slice(1)]);
      return lax.reshape(first, arr === null ? shape : [...shape, ...arr.shape.slice(1)]);
    }
  } else {
    if (!replace) throw traceError('choice with p and replace=false is not implemented');
    const pr = lax.convert(np.asarray(pArg), 'f32');
    if (pr.ndim !== 1 || pr.shape[0] !== n) throw traceError(`choice: p must have shape [${n}], got ${pr.describe()}`);
    const cum = np.cumsum(pr) as KArray;
    const total = lax.reshape(lax.slice(cum, [n - 1], [n]), []);
    const r = bin(Op.Multiply, lax.broadcastInDim(total, shape, []), bin(Op.Subtract, lax.constant('f32', shape, 1), uniformImpl(k, shape, 0, 1)));
    // searchsorted(cum, r, side='left'): the number of cumulative sums below r.
    const below = lax.convert(lax.compare('LT', lax.broadcastInDim(cum, [...shape, n], [shape.length]), lax.broadcastInDim(r, [...shape, n], shape.map((_, i) => i))), 'i32');
    ind = lax.reduce([below], [lax.constant('i32', [], 0)], [shape.length], lax.binaryBody(Op.Add))[0];
  }
  return arr === null ? ind : takeImpl(arr, ind, axis);
}) as (key: KArray, a: number | KArray, shape?: number | readonly number[], replace?: boolean, p?: Operand | null, axis?: number) => KArray;

/** Exponential(1) draws: -log1p(-u). */
export const exponential = defapi('random.exponential', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray =>
  exponentialImpl(k, checkShape(shape))) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Laplace(0, 1) draws: sign(u) * log1p(-|u|), u uniform in [-1 + epsneg, 1). */
export const laplace = defapi('random.laplace', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray => {
  const u = uniformImpl(k, checkShape(shape), -1 + EPSNEG, 1);
  return bin(Op.Multiply, un(Op.Sign, u), un(Op.Log1p, un(Op.Negate, un(Op.Abs, u))));
}) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Logistic(0, 1) draws: log(u / (1 - u)), u uniform in [tiny, 1). */
export const logistic = defapi('random.logistic', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray => {
  const u = uniformImpl(k, checkShape(shape), TINY, 1);
  return un(Op.Log, bin(Op.Divide, u, bin(Op.Subtract, cst(u, 1), u)));
}) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Cauchy(0, 1) draws: tan(pi (u - 1/2)), u uniform in [eps, 1). */
export const cauchy = defapi('random.cauchy', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray => {
  const u = uniformImpl(k, checkShape(shape), EPS, 1);
  return un(Op.Tan, bin(Op.Multiply, cst(u, Math.PI), bin(Op.Subtract, u, cst(u, 0.5))));
}) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** -1 or 1 with equal probability, as i32 (JAX's default int) or f32. */
export const rademacher = defapi('random.rademacher', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.dtypeIn('i32', 'f32'), 'i32')], (k: KArray, shape: number[], dtype: 'i32' | 'f32'): KArray =>
  rademacherImpl(k, checkShape(shape), dtype)) as (key: KArray, shape?: number | readonly number[], dtype?: string) => KArray;

/** Maxwell draws: the norm of three standard normals (drawn as one [..., 3] normal). */
export const maxwell = defapi('random.maxwell', [p('key', KEY), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, shape: number[]): KArray =>
  maxwellImpl(k, checkShape(shape))) as (key: KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Double-sided Maxwell draws: rademacher sign * maxwell * scale + loc (keys split as JAX). */
export const doubleSidedMaxwell = defapi('random.doubleSidedMaxwell', [p('key', KEY), p('loc', PARAM), p('scale', PARAM), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, loc: number | KArray, scale: number | KArray, shapeArg: number[]): KArray => {
  const params = drawShape(null, loc, scale);
  const shape = [...checkShape(shapeArg), ...params];
  const keys = splitImpl(k, 2);
  const m = maxwellImpl(nth(keys, 0), shape);
  const sign = rademacherImpl(nth(keys, 1), shape, 'f32');
  return bin(Op.Add, bin(Op.Multiply, bin(Op.Multiply, sign, m), f32Of(scale, shape)), f32Of(loc, shape));
}) as (key: KArray, loc: number | KArray, scale: number | KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Pareto(b) draws: exp(exponential / b). */
export const pareto = defapi('random.pareto', [p('key', KEY), p('b', PARAM), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, b: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, b);
  return un(Op.Exp, bin(Op.Divide, exponentialImpl(k, shape), f32Of(b, shape)));
}) as (key: KArray, b: number | KArray, shape?: number | readonly number[] | null, dtype?: string | null) => KArray;

/** Weibull draws: (-log1p(-u))^(1 / concentration) * scale. */
export const weibullMin = defapi('random.weibullMin', [p('key', KEY), p('scale', PARAM), p('concentration', PARAM), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, scale: number | KArray, conc: number | KArray, shapeArg: number[]): KArray => {
  const shape = checkShape(shapeArg);
  const u = uniformImpl(k, shape, 0, 1);
  const e = un(Op.Negate, un(Op.Log1p, un(Op.Negate, u)));
  return bin(Op.Multiply, bin(Op.Power, e, bin(Op.Divide, cst(u, 1), f32Of(conc, shape))), f32Of(scale, shape));
}) as (key: KArray, scale: number | KArray, concentration: number | KArray, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Rayleigh(scale) draws: scale * sqrt(-2 log u). */
export const rayleigh = defapi('random.rayleigh', [p('key', KEY), p('scale', PARAM, 1), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, scale: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, scale);
  const u = uniformImpl(k, shape, 0, 1);
  return bin(Op.Multiply, f32Of(scale, shape), un(Op.Sqrt, bin(Op.Multiply, un(Op.Log, u), cst(u, -2))));
}) as (key: KArray, scale?: number | KArray, shape?: number | readonly number[] | null, dtype?: string | null) => KArray;

/** Log-normal draws: exp(sigma * normal). */
export const lognormal = defapi('random.lognormal', [p('key', KEY), p('sigma', PARAM, 1), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, sigma: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, sigma);
  return un(Op.Exp, bin(Op.Multiply, f32Of(sigma, shape), normalImpl(k, shape)));
}) as (key: KArray, sigma?: number | KArray, shape?: number | readonly number[] | null, dtype?: string | null) => KArray;

/** Geometric(p) draws (trials to the first success, from 1), i32: floor(log u / log1p(-p)) + 1. */
export const geometric = defapi('random.geometric', [p('key', KEY), p('p', PARAM), p('shape', SHAPE, null), p('dtype', A.dtypeIn('i32'), 'i32')], (k: KArray, pArg: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, pArg);
  const u = uniformImpl(k, shape, 0, 1);
  const g = un(Op.Floor, bin(Op.Divide, un(Op.Log, u), un(Op.Log1p, un(Op.Negate, f32Of(pArg, shape)))));
  return lax.convert(bin(Op.Add, g, cst(g, 1)), 'i32');
}) as (key: KArray, p: number | KArray, shape?: number | readonly number[] | null, dtype?: string) => KArray;

/** Triangular(left, mode, right) draws by inverting the CDF at a uniform u. */
export const triangular = defapi('random.triangular', [p('key', KEY), p('left', PARAM), p('mode', PARAM), p('right', PARAM), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, l: number | KArray, m: number | KArray, r: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, l, m, r);
  const [left, mode, right] = [l, m, r].map((v) => f32Of(v, shape));
  const fc = bin(Op.Divide, bin(Op.Subtract, mode, left), bin(Op.Subtract, right, left));
  const u = uniformImpl(k, shape, 0, 1);
  const lx = bin(Op.Add, left, un(Op.Sqrt, bin(Op.Multiply, bin(Op.Multiply, u, bin(Op.Subtract, right, left)), bin(Op.Subtract, mode, left))));
  const rx = bin(Op.Subtract, right, un(Op.Sqrt, bin(Op.Multiply, bin(Op.Multiply, bin(Op.Subtract, cst(u, 1), u), bin(Op.Subtract, right, left)), bin(Op.Subtract, right, mode))));
  return lax.select(lax.compare('LT', u, fc), lx, rx);
}) as (key: KArray, left: number | KArray, mode: number | KArray, right: number | KArray, shape?: number | readonly number[] | null, dtype?: string | null) => KArray;

/** The f32 neighbour of `x` toward +inf (dir 1) or -inf (dir -1), as numpy.nextafter. */
function nextafter32(x: number, dir: 1 | -1): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  if (f[0] === 0) { i[0] = 1; return dir * f[0]; }
  i[0] += (f[0] > 0) === (dir > 0) ? 1 : -1;
  return f[0];
}

/** JAX's truncated_normal: sqrt(2) erfinv(u), u uniform in [erf(lower/√2), erf(upper/√2)), clipped inside the bounds. */
export function truncatedNormalImpl(k: KArray, lower: number | KArray, upper: number | KArray, shape: readonly number[]): KArray {
  const s2 = (x: KArray) => lax.constant('f32', x.shape, Math.SQRT2);
  const lo = f32Of(lower, shape), hi = f32Of(upper, shape);
  const a = un(Op.Erf, bin(Op.Divide, lo, s2(lo))), b = un(Op.Erf, bin(Op.Divide, hi, s2(hi)));
  const u = uniformImpl(k, shape, a, b);
  const out = bin(Op.Multiply, s2(u), un(Op.ErfInv, u));
  const clipLo = typeof lower === 'number' ? lax.constant('f32', shape, nextafter32(lower, 1)) : null;
  const clipHi = typeof upper === 'number' ? lax.constant('f32', shape, nextafter32(upper, -1)) : null;
  if (clipLo === null || clipHi === null) throw traceError('truncatedNormal: Array bounds are not implemented; give lower and upper as numbers');
  return bin(Op.Minimum, bin(Op.Maximum, out, clipLo), clipHi);
}

/** Standard normal draws truncated to (lower, upper). */
export const truncatedNormal = defapi('random.truncatedNormal', [p('key', KEY), p('lower', PARAM), p('upper', PARAM), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null)], (k: KArray, lower: number | KArray, upper: number | KArray, shapeArg: number[] | null): KArray =>
  truncatedNormalImpl(k, lower, upper, drawShape(shapeArg, lower, upper))) as (key: KArray, lower: number | KArray, upper: number | KArray, shape?: number | readonly number[] | null, dtype?: string | null) => KArray;



/**
 * The Q of the QR decomposition of `z` ([..., rows, cols], rows >= cols) with R's diagonal made
 * positive — JAX's `q * sign(diag(r))`, which is unique for a full-rank z, so any QR gives it.
 * kiln has no linalg.qr yet: this is classical Gram-Schmidt applied twice (CGS2, orthogonal to
 * working precision), unrolled over the columns, batched over the leading axes; cols at most 32.
 */
export function orthonormalColumns(z: KArray): KArray {
  const r = z.ndim, rows = z.shape[r - 2], cols = z.shape[r - 1];
  const batch = z.shape.slice(0, r - 2);
  const vec = [...batch, rows];
  const col = (j: number) => lax.reshape(lax.slice(z, z.shape.map(() => 0).map((_, i) => (i === r - 1 ? j : 0)), z.shape.map((d, i) => (i === r - 1 ? j + 1 : d))), vec);
  // The inner product over the rows, broadcast back along them.
  const dot = (a: KArray, b: KArray) => lax.broadcastInDim(lax.reduce([bin(Op.Multiply, a, b)], [lax.constant('f32', [], 0)], [batch.length], lax.binaryBody(Op.Add))[0], vec, batch.map((_, i) => i));
  const q: KArray[] = [];
  for (let j = 0; j < cols; j++) {
    let v = col(j);
    for (let pass = 0; pass < 2; pass++) {
      const w = v;
      for (const qi of q) v = bin(Op.Subtract, v, bin(Op.Multiply, dot(qi, w), qi));
    }
    q.push(bin(Op.Multiply, v, un(Op.Rsqrt, dot(v, v))));
  }
  return lax.concatenate(q.map((c) => lax.reshape(c, [...vec, 1])), r - 1);
}

/**
 * Haar-random orthogonal matrices of shape [...shape, n, m] (semi-orthogonal when n != m): the Q
 * of a normal matrix's QR with R's diagonal signs divided out, as JAX's (same normal draws; min(n, m)
 * at most 32 until kiln has linalg.qr).
 */
export const orthogonal = defapi('random.orthogonal', [p('key', KEY), p('n', A.count), p('shape', A.shape, []), p('dtype', A.orNull(A.dtypeIn('f32')), null), p('m', A.orNull(A.count), null)], (k: KArray, n: number, shapeArg: number[], _dtype: null, mArg: number | null): KArray => {
  const shape = checkShape(shapeArg);
  const m = mArg ?? n;
  if (Math.min(n, m) > 32) throw traceError(`orthogonal of ${n} x ${m}: min(n, m) is limited to 32 (an unrolled Gram-Schmidt) until kiln has linalg.qr`);
  const x = orthonormalColumns(normalImpl(k, [...shape, Math.max(n, m), Math.min(n, m)]));
  const r = shape.length;
  return n < m ? lax.transpose(x, [...shape.map((_, i) => i), r + 1, r]) : x;
}) as (key: KArray, n: number, shape?: number | readonly number[], dtype?: string | null, m?: number | null) => KArray;

/**
 * The lower Cholesky factor of a small [n, n] matrix, unrolled over its n^2 entries with scalar
 * ops (kiln has no linalg.cholesky yet); not positive definite gives NaN, as JAX's.
 */
function smallCholesky(cov: KArray): KArray {
  const n = cov.shape[0];
  const at = (i: number, j: number) => lax.reshape(lax.slice(cov, [i, j], [i + 1, j + 1]), []);
  const L: KArray[][] = Array.from({ length: n }, () => []);
  const zero = lax.constant('f32', [], 0);
  for (let j = 0; j < n; j++) {
    let d = at(j, j);
    for (let k = 0; k < j; k++) d = bin(Op.Subtract, d, bin(Op.Multiply, L[j][k], L[j][k]));
    L[j][j] = un(Op.Sqrt, d);
    for (let i = j + 1; i < n; i++) {
      let s = at(i, j);
      for (let k = 0; k < j; k++) s = bin(Op.Subtract, s, bin(Op.Multiply, L[i][k], L[j][k]));
      L[i][j] = bin(Op.Divide, s, L[j][j]);
    }
  }
  const rows = L.map((row) => lax.concatenate(Array.from({ length: n }, (_, j) => lax.reshape(row[j] ?? zero, [1])), 0));
  return lax.concatenate(rows.map((r) => lax.reshape(r, [1, n])), 0);
}

/**
 * Multivariate normal draws: mean + L z with L the Cholesky factor of `cov` and z standard normal
 * of shape [...shape, n], as JAX's method 'cholesky'. `cov` must be one [n, n] matrix (batched
 * covariances and the 'eigh'/'svd' methods are refused); n at most 16 (the factor is unrolled).
 */
export const multivariateNormal = defapi('random.multivariateNormal', [p('key', KEY), p('mean', A.array), p('cov', A.array), p('shape', SHAPE, null), p('dtype', A.orNull(A.dtypeIn('f32')), null), p('method', A.fixed('cholesky', "only method 'cholesky' is implemented"), 'cholesky')], (k: KArray, meanArg: Operand, covArg: Operand, shapeArg: number[] | null): KArray => {
  const mean = lax.convert(np.asarray(meanArg), 'f32'), cov = lax.convert(np.asarray(covArg), 'f32');
  const n = cov.shape[0];
  if (cov.ndim !== 2 || cov.shape[1] !== n || mean.ndim < 1 || mean.shape[mean.ndim - 1] !== n) {
    throw traceError(`cov must be one [n, n] matrix and mean end in n, got mean ${mean.describe()} and cov ${cov.describe()} (batched covariances are not implemented)`);
  }
  if (n > 16) throw traceError(`cov of size ${n}: the unrolled Cholesky is limited to n <= 16 until kiln has linalg.cholesky`);
  const shape = shapeArg === null ? mean.shape.slice(0, -1) : checkShape(shapeArg);
  const z = normalImpl(k, [...shape, n]);
  const lz = np.matmul(z, np.transpose(smallCholesky(cov))) as KArray;
  return np.add(lz, mean) as KArray;
}) as (key: KArray, mean: Operand, cov: Operand, shape?: number | readonly number[] | null, dtype?: string | null, method?: string) => KArray;
