/**
 * @file The rejection samplers of `jax.random`: `gamma` and `loggamma` (Marsaglia–Tsang, JAX's
 * `_gamma_one`), the distributions JAX composes from them (`beta`, `dirichlet`, `chisquare`, `t`,
 * `f`, `generalizedNormal`, `ball`), `poisson` (Knuth below λ = 10, Hörmann's transformed
 * rejection above) and `wald`.
 *
 * Bits as JAX's (jax/_src/random.py, threefry, partitionable): gamma splits its key into one key
 * per element (`split(key, n)`), and each element runs its own loop — an outer loop drawing
 * (x, v, u) from keys split off its own key until Marsaglia–Tsang accepts, with an inner loop
 * redrawing the normal x until v = (1 + c x)^3 > 0. JAX lowers that as `vmap(_gamma_one)`; here it
 * is written directly in that batched form: one `lax.whileLoop` over all elements that runs until
 * every element is accepted, an element's state frozen by `select` once it is, so every element
 * consumes exactly the draws it would alone and the values equal JAX's on every device.
 *
 * Gradients follow JAX's implicit reparameterization: the JVP of a sample w.r.t. its shape
 * parameter is `lax.randomGammaGrad(a, sample)` (client/lax/special.ts), attached with
 * `customJvp`, so `grad` through gamma, beta, dirichlet, chisquare and t works though the loops do
 * not differentiate.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { customJvp } from '../autodiff/custom.js';
import * as lax from '../lax.js';
import { whileLoop } from '../lax/control.js';
import { randomGammaGradImpl } from '../lax/special.js';
import { softmax } from '../nn.js';
import { checkShape } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { f32Of, KEY, normalImpl, nth, splitImpl, threefry2x32, uniformImpl, uniformOfBits } from '../random.js';
import { drawShape, exponentialImpl, PARAM, rademacherImpl, SHAPE } from './distributions.js';

type V = KArray | number;
function lift(x: V, like: KArray): KArray {
  return typeof x === 'number' ? lax.constant(like.dtype, like.shape, x) : x;
}
function bin(op: Op) {
  return (x: V, y: V): KArray => {
    const like = (typeof x === 'number' ? y : x) as KArray;
    return lax.binary(op, lift(x, like), lift(y, like));
  };
}
const add = bin(Op.Add), sub = bin(Op.Subtract), mul = bin(Op.Multiply), div = bin(Op.Divide), pow = bin(Op.Power);
const and = bin(Op.And), or = bin(Op.Or);
const un = (op: Op) => (x: KArray) => lax.unary(op, x);
const neg = un(Op.Negate), log = un(Op.Log), exp = un(Op.Exp), sqrt = un(Op.Sqrt), log1p = un(Op.Log1p), abs = un(Op.Abs);
const cmp = (dir: 'LT' | 'LE' | 'GT' | 'GE' | 'EQ') => (x: V, y: V): KArray => {
  const like = (typeof x === 'number' ? y : x) as KArray;
  return lax.compare(dir, lift(x, like), lift(y, like));
};
const lt = cmp('LT'), le = cmp('LE'), gt = cmp('GT'), ge = cmp('GE'), eq = cmp('EQ');
const full = (like: KArray, v: number) => lax.constant('f32', like.shape, v);
function any(x: KArray): KArray {
  return lax.reduce([x], [lax.constant('i1', [], 0)], x.shape.map((_, i) => i), lax.binaryBody(Op.Or))[0];
}

/** numpy.finfo(float32).tiny. */
const TINY = 1.1754943508222875e-38;

// ---- one key per element ------------------------------------------------------------------------

/** `split(k, m)` of each row k of `keys` ([n, 2]): m Arrays of n keys. */
function splitEach(keys: KArray, m: number): KArray[] {
  const n = keys.shape[0];
  const word = (i: number) => lax.broadcastInDim(lax.reshape(lax.slice(keys, [0, i], [n, i + 1]), [n]), [n, m], [0]);
  const [a, b] = threefry2x32(word(0), word(1), lax.constant('ui32', [n, m], 0), lax.iota('ui32', [n, m], 1));
  const col = (x: KArray, j: number) => lax.slice(x, [0, j], [n, j + 1]);
  return Array.from({ length: m }, (_, j) => lax.concatenate([col(a, j), col(b, j)], 1));
}

/** `bits(k, ())` of each row k of `keys`: the hash of counter (0, 0), words xor'd ([n] ui32). */
function bitsEach(keys: KArray): KArray {
  const n = keys.shape[0];
  const word = (i: number) => lax.reshape(lax.slice(keys, [0, i], [n, i + 1]), [n]);
  const zero = lax.constant('ui32', [n], 0);
  const [a, b] = threefry2x32(word(0), word(1), zero, zero);
  return lax.binary(Op.Xor, a, b);
}

const uniformEach = (keys: KArray, lo: number, hi: number) => uniformOfBits(bitsEach(keys), lo, hi);
/** JAX's scalar `normal(key, ())` per key: sqrt(2) erfinv(u), u uniform in (-1, 1). */
const normalEach = (keys: KArray) => mul(Math.SQRT2, lax.unary(Op.ErfInv, uniformEach(keys, -0.99999994039535522, 1)));
/** `select` of keys ([n, 2]) by a per-key predicate ([n]). */
const selectKeys = (on: KArray, x: KArray, y: KArray) => lax.select(lax.broadcastInDim(on, x.shape, [0]), x, y);

/**
 * JAX's `_gamma_one` for each (keys[i], alpha[i]) (keys [n, 2], alpha [n] f32), batched as
 * `vmap` batches its while loops: Marsaglia–Tsang on alpha boosted to alpha + 1 when alpha < 1,
 * the boost Gamma(alpha) = Gamma(alpha + 1) U^(1/alpha) applied after (in log space: log Gamma).
 */
function gammaEach(keys: KArray, alpha: KArray, logSpace: boolean): KArray {
  const boost = ge(alpha, 1);
  const a = lax.select(boost, alpha, add(alpha, 1));
  const d = sub(a, 1 / 3);
  const c = div(1 / 3, sqrt(d));
  const [key0, subkey] = splitEach(keys, 2);
  // Marsaglia–Tsang's rejection test, true while the (X = x^2, V = v^3, U) drawn is rejected.
  const rejected = (X: KArray, V: KArray, U: KArray) =>
    and(ge(U, sub(1, mul(0.0331, mul(X, X)))), ge(log(U), add(mul(X, 0.5), mul(d, add(sub(1, V), log(V))))));
  type S = [KArray, KArray, KArray, KArray];
  // The initial state (X, V, U) = (0, 1, 2) is rejected, so every element draws at least once.
  const [, , V] = whileLoop((s: S) => any(rejected(s[1], s[2], s[3])), ([k, X0, V0, U0]: S): S => {
    const on = rejected(X0, V0, U0);
    const [k1, xKey, uKey] = splitEach(k, 3);
    type T = [KArray, KArray, KArray];
    const [, x, v] = whileLoop((t: T) => any(le(t[2], 0)), ([kk, x0, v0]: T): T => {
      const again = le(v0, 0);
      const [kk1, sk] = splitEach(kk, 2);
      const xn = normalEach(sk);
      return [selectKeys(again, kk1, kk), lax.select(again, xn, x0), lax.select(again, add(1, mul(xn, c)), v0)];
    }, [xKey, full(alpha, 0), full(alpha, -1)]);
    const X = mul(x, x), Vn = mul(mul(v, v), v), U = uniformEach(uKey, 0, 1);
    return [selectKeys(on, k1, k), lax.select(on, X, X0), lax.select(on, Vn, V0), lax.select(on, U, U0)];
  }, [key0, full(alpha, 0), full(alpha, 1), full(alpha, 2)]);
  if (logSpace) {
    // log U = -Exponential, written through log1p(-u) as JAX does so both spaces draw alike.
    const logU = neg(neg(log1p(neg(uniformEach(subkey, 0, 1)))));
    const logBoost = lax.select(or(boost, eq(logU, 0)), full(alpha, 0), mul(logU, div(1, alpha)));
    return add(add(log(d), log(V)), logBoost);
  }
  const u = sub(1, uniformEach(subkey, 0, 1));
  return mul(mul(d, V), lax.select(boost, full(alpha, 1), pow(u, div(1, alpha))));
}

/** JAX's `_gamma_grad`: d(sample)/d(alpha), for samples in log space d(log sample)/d(alpha). */
function gammaGrad(sample: KArray, alpha: KArray, logSpace: boolean): KArray {
  if (!logSpace) return randomGammaGradImpl(alpha, sample);
  const s = exp(sample);
  const safe = lax.select(eq(s, 0), full(s, TINY), s);
  return div(randomGammaGradImpl(alpha, safe), safe);
}

/** The sampler of gamma / loggamma with JAX's JVP (`random_gamma_p`'s): tangent * gammaGrad. */
const gammaDraw = [false, true].map((logSpace) => {
  const f = (keys: KArray, alpha: KArray) => gammaEach(keys, alpha, logSpace);
  return customJvp(f).defjvp(([keys, alpha], [, ta]) => {
    const s = f(keys, alpha);
    return [s, mul(ta, gammaGrad(s, alpha, logSpace))];
  });
});

/** Gamma(a, 1) draws of `shape` (a broadcast to it), one key per element as JAX. */
export function gammaImpl(k: KArray, a: number | KArray, shape: readonly number[], logSpace: boolean): KArray {
  const n = shape.reduce((m, d) => m * d, 1);
  const alpha = lax.reshape(f32Of(a, shape), [n]);
  if (n === 0) return lax.reshape(alpha, shape);
  return lax.reshape(gammaDraw[logSpace ? 1 : 0](splitImpl(k, n), alpha) as KArray, shape);
}

const METHOD = A.fixed('exact', "only method 'exact' (the rejection sampler) is implemented");
const DTYPE = A.orNull(A.dtypeIn('f32'));
type Shape = number | readonly number[] | null;

/** Gamma(a, 1) draws (shape `shape`, default a's), by Marsaglia–Tsang as JAX; differentiable in `a`. */
export const gamma = defapi('random.gamma', [p('key', KEY), p('a', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null), p('method', METHOD, 'exact')], (k: KArray, a: number | KArray, shape: number[] | null): KArray =>
  gammaImpl(k, a, drawShape(shape, a), false)) as (key: KArray, a: number | KArray, shape?: Shape, dtype?: string | null, method?: string) => KArray;

/** log of Gamma(a, 1) draws, accurate for small `a` (JAX's `loggamma`); differentiable in `a`. */
export const loggamma = defapi('random.loggamma', [p('key', KEY), p('a', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null), p('method', METHOD, 'exact')], (k: KArray, a: number | KArray, shape: number[] | null): KArray =>
  gammaImpl(k, a, drawShape(shape, a), true)) as (key: KArray, a: number | KArray, shape?: Shape, dtype?: string | null, method?: string) => KArray;

/** Beta(a, b) draws: Ga / (Ga + Gb) from two log-gamma draws (keys split as JAX), computed in log space. */
export const beta = defapi('random.beta', [p('key', KEY), p('a', PARAM), p('b', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null), p('method', METHOD, 'exact')], (k: KArray, a: number | KArray, b: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, a, b);
  const keys = splitImpl(k, 2);
  const la = gammaImpl(nth(keys, 0), a, shape, true), lb = gammaImpl(nth(keys, 1), b, shape, true);
  const m = lax.binary(Op.Maximum, la, lb);
  const ea = exp(sub(la, m)), eb = exp(sub(lb, m));
  return div(ea, add(ea, eb));
}) as (key: KArray, a: number | KArray, b: number | KArray, shape?: Shape, dtype?: string | null, method?: string) => KArray;

/** Dirichlet(alpha) draws of shape [...shape, n] (alpha [..., n]): the softmax of log-gamma draws. */
export const dirichlet = defapi('random.dirichlet', [p('key', KEY), p('alpha', A.array), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, alphaArg: KArray | number, shapeArg: number[] | null): KArray => {
  const alpha = typeof alphaArg === 'number' ? lax.constant('f32', [], alphaArg) : lax.convert(alphaArg, 'f32');
  if (alpha.ndim < 1) throw traceError(`dirichlet requires alpha.ndim >= 1, got ${alpha.describe()}`);
  const batch = shapeArg === null ? alpha.shape.slice(0, -1) : checkShape(shapeArg);
  const logG = gammaImpl(k, alpha, [...batch, alpha.shape[alpha.ndim - 1]], true);
  return softmax(logG, -1) as KArray;
}) as (key: KArray, alpha: KArray, shape?: Shape, dtype?: string | null) => KArray;

function chisquareImpl(k: KArray, df: number | KArray, shape: readonly number[]): KArray {
  const half = div(f32Of(df, shape), 2);
  return mul(exp(gammaImpl(k, half, shape, true)), 2);
}

/** Chi-square(df) draws: 2 exp(loggamma(df / 2)). */
export const chisquare = defapi('random.chisquare', [p('key', KEY), p('df', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null), p('method', METHOD, 'exact')], (k: KArray, df: number | KArray, shape: number[] | null): KArray =>
  chisquareImpl(k, df, drawShape(shape, df))) as (key: KArray, df: number | KArray, shape?: Shape, dtype?: string | null, method?: string) => KArray;

/** Student's t(df) draws: n sqrt((df / 2) / g) with n normal and g Gamma(df / 2). */
export const t = defapi('random.t', [p('key', KEY), p('df', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, df: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, df);
  const keys = splitImpl(k, 2);
  const n = normalImpl(nth(keys, 0), shape);
  const half = div(f32Of(df, shape), 2);
  return mul(n, sqrt(div(half, gammaImpl(nth(keys, 1), half, shape, false))));
}) as (key: KArray, df: number | KArray, shape?: Shape, dtype?: string | null) => KArray;

/** F(dfnum, dfden) draws: (chi2(dfnum) / dfnum) / (chi2(dfden) / dfden). */
export const f = defapi('random.f', [p('key', KEY), p('dfnum', PARAM), p('dfden', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, dfnum: number | KArray, dfden: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, dfnum, dfden);
  const keys = splitImpl(k, 2);
  const num = div(chisquareImpl(nth(keys, 1), dfnum, shape), f32Of(dfnum, shape));
  const den = div(chisquareImpl(nth(keys, 0), dfden, shape), f32Of(dfden, shape));
  return div(num, den);
}) as (key: KArray, dfnum: number | KArray, dfden: number | KArray, shape?: Shape, dtype?: string | null) => KArray;

/** x^n for a static integer n >= 1 by repeated squaring (JAX's `integer_pow`). */
function integerPow(x: KArray, n: number): KArray {
  let acc: KArray | null = null;
  for (let b = x, m = n; m > 0; m >>= 1, b = m > 0 ? mul(b, b) : b) if (m & 1) acc = acc === null ? b : mul(acc, b);
  return acc!;
}

/** `x ** p` as jax.numpy computes it: `integer_pow` for an integer p, `pow` otherwise. */
function power(x: KArray, p: number): KArray {
  return Number.isInteger(p) && p >= 1 ? integerPow(x, p) : pow(x, p);
}

function generalizedNormalImpl(k: KArray, p: number, shape: readonly number[]): KArray {
  const keys = splitImpl(k, 2);
  const g = gammaImpl(nth(keys, 0), 1 / p, shape, false);
  const r = rademacherImpl(nth(keys, 1), shape, 'f32');
  return mul(r, pow(g, 1 / p));
}

const POSITIVE = { accepts: 'a positive number', parse: (v: unknown, q: string) => { const x = A.number.parse(v, q); if (!(x > 0)) throw traceError(`${q} must be a positive number, got ${x}`); return x; } };

/** Generalized normal draws with shape parameter p (density ∝ exp(-|x|^p)): sign * Gamma(1/p)^(1/p). */
export const generalizedNormal = defapi('random.generalizedNormal', [p('key', KEY), p('p', POSITIVE), p('shape', A.shape, []), p('dtype', DTYPE, null)], (k: KArray, pp: number, shape: number[]): KArray =>
  generalizedNormalImpl(k, pp, checkShape(shape))) as (key: KArray, p: number, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Uniform draws from the unit Lp ball in d dimensions (shape [...shape, d]), by JAX's method (arXiv math/0503650). */
export const ball = defapi('random.ball', [p('key', KEY), p('d', A.count), p('p', POSITIVE, 2), p('shape', A.shape, []), p('dtype', DTYPE, null)], (k: KArray, d: number, pp: number, shapeArg: number[]): KArray => {
  const shape = checkShape(shapeArg);
  const keys = splitImpl(k, 2);
  const g = generalizedNormalImpl(nth(keys, 0), pp, [...shape, d]);
  const e = exponentialImpl(nth(keys, 1), shape);
  const s = lax.reduce([power(abs(g), pp)], [lax.constant('f32', [], 0)], [shape.length], lax.binaryBody(Op.Add))[0];
  const r = pow(add(s, e), 1 / pp);
  return div(g, lax.broadcastInDim(r, [...shape, d], shape.map((_, i) => i)));
}) as (key: KArray, d: number, p?: number, shape?: number | readonly number[], dtype?: string | null) => KArray;

/** Wald (inverse Gaussian) draws with the given mean, by JAX's transformation of a normal and a uniform. */
export const wald = defapi('random.wald', [p('key', KEY), p('mean', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, meanArg: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = drawShape(shapeArg, meanArg);
  const keys = splitImpl(k, 2);
  const mean = f32Of(meanArg, shape);
  const v = normalImpl(nth(keys, 0), shape);
  const z = uniformImpl(nth(keys, 1), shape, 0, 1);
  const y = mul(v, v), ySq = mul(y, y), meanSq = mul(mean, mean);
  const root = sqrt(add(mul(mul(4, mean), y), mul(meanSq, ySq)));
  const x = sub(add(mean, div(mul(meanSq, y), 2)), mul(div(mean, 2), root));
  return lax.select(le(z, div(mean, add(mean, x))), x, div(meanSq, x));
}) as (key: KArray, mean: number | KArray, shape?: Shape, dtype?: string | null) => KArray;

// ---- poisson ------------------------------------------------------------------------------------

const I32_MAX = 2147483647;

/** Knuth: multiply uniforms until the product falls below e^-lam; all elements share each draw's key. */
function poissonKnuth(k: KArray, lam: KArray): KArray {
  type S = [KArray, KArray, KArray, KArray];
  const going = (lp: KArray) => gt(lp, neg(lam));
  const i32 = (v: number) => lax.constant('i32', [], v);
  const [, kk] = whileLoop((s: S) => and(any(going(s[3])), lt(s[0], i32(I32_MAX))), ([i, kOut, key, logProd]: S): S => {
    const keys = splitImpl(key, 2);
    const kNext = lax.select(going(logProd), add(kOut, lax.constant('i32', kOut.shape, 1)), kOut);
    const u = uniformImpl(nth(keys, 1), lam.shape, 0, 1);
    return [add(i, i32(1)), kNext, nth(keys, 0), add(logProd, log(u))];
  }, [i32(0), lax.constant('i32', lam.shape, 0), k, full(lam, 0)]);
  return sub(kk, lax.constant('i32', lam.shape, 1));
}

/** Hörmann's transformed rejection (PTRS), for lam >= 10. */
function poissonRejection(k: KArray, lam: KArray): KArray {
  const logLam = log(lam);
  const b = add(0.931, mul(2.53, sqrt(lam)));
  const a = add(-0.059, mul(0.02483, b));
  const invAlpha = add(1.1239, div(1.1328, sub(b, 3.4)));
  const vR = sub(0.9277, div(3.6224, sub(b, 2)));
  type S = [KArray, KArray, KArray, KArray];
  const i32 = (v: number) => lax.constant('i32', [], v);
  const [, out] = whileLoop((s: S) => and(any(lax.unary(Op.Not, s[2])), lt(s[0], i32(I32_MAX))), ([i, kOut, accepted, key]: S): S => {
    const keys = splitImpl(key, 3);
    const u = sub(uniformImpl(nth(keys, 1), lam.shape, 0, 1), 0.5);
    const v = uniformImpl(nth(keys, 2), lam.shape, 0, 1);
    const us = sub(0.5, abs(u));
    const kk = lax.unary(Op.Floor, add(add(mul(add(div(mul(2, a), us), b), u), lam), 0.43));
    const s = log(div(mul(v, invAlpha), add(div(a, mul(us, us)), b)));
    const tt = sub(add(neg(lam), mul(kk, logLam)), lax.unary(Op.Lgamma, add(kk, 1)));
    const accept1 = and(ge(us, 0.07), le(v, vR));
    const reject = or(lt(kk, 0), and(lt(us, 0.013), gt(v, us)));
    const accept = or(accept1, and(lax.unary(Op.Not, reject), le(s, tt)));
    return [add(i, i32(1)), lax.select(accept, kk, kOut), or(accepted, accept), nth(keys, 0)];
  }, [i32(0), full(lam, -1), lax.constant('i1', lam.shape, 0), k]);
  return lax.convert(out, 'i32');
}

/** Poisson(lam) draws as i32, by JAX's two samplers (both run; each element takes its own). */
export const poisson = defapi('random.poisson', [p('key', KEY), p('lam', PARAM), p('shape', SHAPE, null), p('dtype', A.dtypeIn('i32'), 'i32')], (k: KArray, lamArg: number | KArray, shapeArg: number[] | null): KArray => {
  const shape = shapeArg === null ? (typeof lamArg === 'number' ? [] : [...lamArg.shape]) : checkShape(shapeArg);
  const lam = f32Of(lamArg, shape);
  const isnan = lax.compare('NE', lam, lam);
  const knuth = or(isnan, lt(lam, 10));
  const result = lax.select(knuth, poissonKnuth(k, lax.select(knuth, lam, full(lam, 0))), poissonRejection(k, lax.select(knuth, full(lam, 1e5), lam)));
  return lax.select(eq(lam, 0), lax.constant('i32', shape, 0), result);
}) as (key: KArray, lam: number | KArray, shape?: Shape, dtype?: string) => KArray;

// ---- binomial, multinomial ----------------------------------------------------------------------

/** log(k!) - Stirling's approximation of it, for k = 0..9 (JAX's `_stirling_approx_tail` table). */
const STIRLING_TAIL = [0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509, 0.0166446911898211,
  0.0138761288230707, 0.0118967099458917, 0.0104112652619720, 0.00925546218271273, 0.00833056343336287];

/**
 * JAX's `_stirling_approx_tail`: the table at floor(k) for k <= 9, else the series — evaluated, as
 * JAX does, at k clamped to [0, 9].
 */
function stirlingTail(k: KArray): KArray {
  const kc = lax.binary(Op.Minimum, lax.binary(Op.Maximum, k, full(k, 0)), full(k, 9));
  const kp1sq = mul(add(kc, 1), add(kc, 1));
  const approx = div(sub(1 / 12, div(sub(1 / 360, div(1 / 1260, kp1sq)), kp1sq)), add(kc, 1));
  const fl = lax.unary(Op.Floor, kc);
  let table = full(k, STIRLING_TAIL[0]);
  for (let i = 1; i < 10; i++) table = lax.select(eq(fl, i), full(k, STIRLING_TAIL[i]), table);
  return lax.select(le(k, 9), table, approx);
}

/** Counting geometric waiting times until they pass `count` (JAX's `_binomial_inversion`), for count * p <= 10. */
function binomialInversion(k: KArray, count: KArray, prob: KArray): KArray {
  const log1mp = log1p(neg(prob));
  type S = [KArray, KArray, KArray, KArray];
  const i32 = (v: number) => lax.constant('i32', [], v);
  const [, num] = whileLoop((s: S) => and(any(le(s[2], count)), lt(s[0], i32(I32_MAX))), ([i, numGeom, geomSum, key]: S): S => {
    // JAX takes the first key as the subkey here.
    const keys = splitImpl(key, 2);
    const next = lax.select(le(geomSum, count), add(numGeom, 1), numGeom);
    const u = uniformImpl(nth(keys, 0), prob.shape, 0, 1);
    // p = 0 (multinomial's last outcome): JAX's log(u) / log1p(-0) is +inf, no success ever. Spelled out,
    // since a device that loses the zero's sign gets -inf there and the loop never ends.
    const geom = lax.select(eq(log1mp, 0), full(prob, Infinity), lax.unary(Op.Ceil, div(log(u), log1mp)));
    return [add(i, i32(1)), next, add(geomSum, geom), nth(keys, 1)];
  }, [i32(0), full(prob, 0), full(prob, 0), k]);
  return sub(num, 1);
}

/** Hörmann's BTRS transformed rejection (JAX's `_btrs`), for count * p > 10. */
function binomialBtrs(k: KArray, count: KArray, prob: KArray): KArray {
  const stddev = sqrt(mul(mul(count, prob), sub(1, prob)));
  const b = add(1.15, mul(2.53, stddev));
  const a = add(add(-0.0873, mul(0.0248, b)), mul(0.01, prob));
  const c = add(mul(count, prob), 0.5);
  const vR = sub(0.92, div(4.2, b));
  const r = div(prob, sub(1, prob));
  const alpha = mul(add(2.83, div(5.1, b)), stddev);
  const m = lax.unary(Op.Floor, mul(add(count, 1), prob));
  type S = [KArray, KArray, KArray, KArray];
  const i32 = (v: number) => lax.constant('i32', [], v);
  const [, out] = whileLoop((s: S) => and(any(lax.unary(Op.Not, s[2])), lt(s[0], i32(I32_MAX))), ([i, kOut, accepted, key]: S): S => {
    const keys = splitImpl(key, 3);
    const u = sub(uniformImpl(nth(keys, 1), prob.shape, 0, 1), 0.5);
    const v0 = uniformImpl(nth(keys, 2), prob.shape, 0, 1);
    const us = sub(0.5, abs(u));
    const accept1 = and(ge(us, 0.07), le(v0, vR));
    const kk = lax.unary(Op.Floor, add(mul(add(div(mul(2, a), us), b), u), c));
    const reject = or(lt(kk, 0), gt(kk, count));
    const v = log(div(mul(v0, alpha), add(div(a, mul(us, us)), b)));
    const cmk1 = add(sub(count, kk), 1);
    const ub = [
      mul(add(m, 0.5), log(div(add(m, 1), mul(r, add(sub(count, m), 1))))),
      mul(add(count, 1), log(div(add(sub(count, m), 1), cmk1))),
      mul(add(kk, 0.5), log(div(mul(r, cmk1), add(kk, 1)))),
      stirlingTail(m), stirlingTail(sub(count, m)),
    ].reduce(add);
    const bound = sub(sub(ub, stirlingTail(kk)), stirlingTail(sub(count, kk)));
    const accept = or(accept1, and(lax.unary(Op.Not, reject), le(v, bound)));
    return [add(i, i32(1)), lax.select(accept, kk, kOut), or(accepted, accept), nth(keys, 0)];
  }, [i32(0), full(prob, -1), lax.constant('i1', prob.shape, 0), k]);
  return out;
}

function binomialImpl(k: KArray, n: number | KArray, pArg: number | KArray, shape: readonly number[]): KArray {
  const count0 = f32Of(n, shape), prob = f32Of(pArg, shape);
  const isnan = (x: KArray) => lax.compare('NE', x, x);
  const pLtHalf = lt(prob, 0.5);
  let q = lax.select(pLtHalf, prob, sub(1, prob));
  const countBad = or(isnan(count0), lt(count0, 0));
  const countInf = eq(abs(count0), Infinity);
  const qNan = isnan(q), qNeg = lt(q, 0);
  q = lax.select(or(qNan, qNeg), full(q, 0.01), q);
  const useInversion = or(countBad, le(mul(count0, q), 10));
  const count = lax.unary(Op.Floor, count0);
  const inv = binomialInversion(k, lax.select(useInversion, count, full(count, 0)), q);
  const btrs = binomialBtrs(k, lax.select(useInversion, full(count, 1e4), count), lax.select(useInversion, full(q, 0.5), q));
  let s = lax.select(useInversion, inv, btrs);
  const invalid = or(or(qNeg, qNan), countBad);
  s = lax.select(invalid, full(s, NaN), s);
  s = lax.select(and(countInf, lax.unary(Op.Not, invalid)), full(s, Infinity), s);
  return lax.select(or(or(pLtHalf, countBad), or(qNan, countInf)), s, sub(count, s));
}

/** Binomial(n, p) draws as f32 (JAX's default float dtype): inversion for n p <= 10, BTRS above, as JAX. */
export const binomial = defapi('random.binomial', [p('key', KEY), p('n', PARAM), p('p', PARAM), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, n: number | KArray, pArg: number | KArray, shapeArg: number[] | null): KArray =>
  binomialImpl(k, n, pArg, drawShape(shapeArg, n, pArg))) as (key: KArray, n: number | KArray, p: number | KArray, shape?: Shape, dtype?: string | null) => KArray;

/**
 * Multinomial(n, p) counts (f32) over the last axis of `p`: one binomial per outcome on what the
 * earlier outcomes left, with the outcome's share of the remaining probability, keys split per
 * outcome as JAX (its scan written as a loop over the outcomes).
 */
export const multinomial = defapi('random.multinomial', [p('key', KEY), p('n', PARAM), p('p', A.array), p('shape', SHAPE, null), p('dtype', DTYPE, null)], (k: KArray, n: number | KArray, pArg: KArray | number, shapeArg: number[] | null): KArray => {
  const pr = typeof pArg === 'number' ? lax.constant('f32', [], pArg) : lax.convert(pArg, 'f32');
  if (pr.ndim < 1) throw traceError(`multinomial needs p with the outcomes along its last axis, got ${pr.describe()}`);
  const shape = shapeArg === null ? [...pr.shape] : checkShape(shapeArg);
  const kOut = shape[shape.length - 1], batch = shape.slice(0, -1);
  const probs = f32Of(pr, shape);
  const col = (x: KArray, i: number) => lax.reshape(lax.slice(x, shape.map((_, j) => (j === shape.length - 1 ? i : 0)), shape.map((d, j) => (j === shape.length - 1 ? i + 1 : d))), batch);
  const ps = Array.from({ length: kOut }, (_, i) => col(probs, i));
  // Remaining probability from outcome i on (a reverse cumulative sum), as JAX's.
  const remaining: KArray[] = [];
  for (let i = kOut - 1; i >= 0; i--) remaining[i] = i === kOut - 1 ? ps[i] : add(remaining[i + 1], ps[i]);
  const keys = splitImpl(k, kOut);
  let rest = f32Of(n, batch);
  const counts: KArray[] = [];
  for (let i = 0; i < kOut; i++) {
    const ratio = div(ps[i], lax.select(eq(remaining[i], 0), full(remaining[i], 1), remaining[i]));
    const c = binomialImpl(nth(keys, i), rest, lax.binary(Op.Minimum, lax.binary(Op.Maximum, ratio, full(ratio, 0)), full(ratio, 1)), batch);
    rest = sub(rest, c);
    counts.push(lax.reshape(c, [...batch, 1]));
  }
  return lax.concatenate(counts, batch.length);
}) as (key: KArray, n: number | KArray, p: KArray, shape?: Shape, dtype?: string | null) => KArray;
