/**
 * @file Special functions the reference interpreter needs beyond `Math`: erf, erfc, erf_inv,
 * lgamma, digamma, next_after and reduce_precision. Each is computed in f64 so that the result,
 * once rounded to f32 (or f16), is within an ulp or so of the true value: these are the oracle
 * that GPU kernels are checked against, so accuracy matters more than speed.
 */

import { f16BitsToF32, f32Bits, f32FromBits, f32ToF16Bits } from '../../ir/dtype.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) for |x| < 3 by the series erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (2n+1)!!,
 * whose terms are all positive, so it does not cancel the way the alternating Taylor series does.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x >= 2.5 by its continued fraction
 * erfc(x) = e^(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
 */
function erfcFraction(x: number): number {
  let f = x;
  for (let n = 120; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The error function, accurate to a few f64 ulps. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x; // keeps the sign of -0
  const a = Math.abs(x);
  if (a < 2.5) return erfSeries(x);
  if (a > 6) return Math.sign(x); // 1 - erfc(6) rounds to 1 in f64
  return Math.sign(x) * (1 - erfcFraction(a));
}

/** The complementary error function 1 - erf(x), without cancellation for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) return 1 - erfSeries(x);
  if (x > 27) return 0; // below the smallest f64 denormal
  return erfcFraction(x);
}

/**
 * The inverse error function: a closed-form first guess (Winitzki's approximation, within about
 * 2e-3) polished by Newton steps on erf, or on erfc in the tails where 1 - |y| carries the
 * information. Inputs come from f32, so 1 - |y| is exact in f64.
 */
export function erfInv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  const s = Math.sign(y);
  const a = Math.abs(y);
  const k = 0.147;
  const l = Math.log((1 - a) * (1 + a));
  const t = 2 / (Math.PI * k) + l / 2;
  let x = Math.sqrt(Math.sqrt(t * t - l / k) - t);
  const tail = a > 0.5;
  const q = 1 - a;
  for (let i = 0; i < 60; i++) {
    const slope = TWO_OVER_SQRT_PI * Math.exp(-x * x);
    const step = tail ? (erfc(x) - q) / -slope : (erf(x) - a) / slope;
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return s * x;
}

// Lanczos approximation of the gamma function with g = 7 and 9 terms (the widely published
// coefficient set); relative error below 1e-15 for Re(x) > 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log|Gamma(x)|; +Inf at the poles (0, -1, -2, ...), like XLA's lgamma. */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x === 1 || x === 2) return 0;
  if (x < 0.5) {
    // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
    return Math.log(Math.PI / Math.abs(sinPi(x))) - lgamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** sin(pi x) with the argument reduced first, so it is exact at integers and half-integers. */
function sinPi(x: number): number {
  const r = x - 2 * Math.floor(x / 2); // in [0, 2)
  if (r === 0 || r === 1) return 0;
  if (r === 0.5) return 1;
  if (r === 1.5) return -1;
  return Math.sin(Math.PI * r);
}

/** The digamma function psi(x) = d/dx log Gamma(x); NaN at the poles, like XLA. */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x === -Infinity) return NaN;
  if (x <= 0 && Number.isInteger(x)) return NaN;
  let acc = 0;
  if (x < 0.5) {
    // Reflection: psi(1 - x) - psi(x) = pi / tan(pi x).
    const c = Math.cos(Math.PI * x) / sinPi(x);
    return digamma(1 - x) - Math.PI * c;
  }
  // Recurrence psi(x) = psi(x + 1) - 1/x up to where the asymptotic series is accurate.
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))));
  return acc + Math.log(x) - 0.5 / x - series;
}

/**
 * The next representable value after `x` in the direction of `y` (`chlo.next_after`), by stepping
 * the bit pattern: f32 when `half` is false, else f16 (values held as f16-exact numbers).
 */
export function nextAfter(x: number, y: number, half: boolean): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === y) return y;
  const toBits = half ? f32ToF16Bits : f32Bits;
  const fromBits = half ? f16BitsToF32 : f32FromBits;
  const signBit = half ? 0x8000 : 0x80000000;
  if (x === 0) return fromBits(y > 0 ? 1 : signBit + 1); // the smallest denormal, signed like y
  // Away from zero is one more in magnitude bits, whatever the sign bit says.
  const away = (y > x) === (x > 0);
  return fromBits(toBits(x) + (away ? 1 : -1));
}

/**
 * `stablehlo.reduce_precision` on an f32 value: rounds the mantissa to `mantBits` bits (half to
 * even) and the exponent range to `expBits` bits, overflowing to infinity and flushing values
 * below the narrow type's smallest normal to zero, as XLA does.
 */
export function reducePrecisionF32(x: number, expBits: number, mantBits: number): number {
  if (Number.isNaN(x)) return x;
  let b = f32Bits(x);
  if (mantBits < 23) {
    const drop = 23 - mantBits;
    const last = 2 ** drop; // value of the lowest kept mantissa bit
    const half = last / 2;
    const keptLsb = Math.floor(b / last) % 2;
    // Round half to even on the bit pattern; a carry into the exponent is the correct rounding.
    const rounded = b + (half - 1) + keptLsb;
    b = Math.floor(rounded / last) * last;
    // A carry out of the sign bit cannot happen: it would need an exponent of 0xff (Inf/NaN).
  }
  let r = f32FromBits(b);
  if (expBits < 8) {
    const maxExp = 2 ** (expBits - 1) - 1;
    const exp = ((b >>> 23) & 0xff) - 127;
    const negative = b >= 0x80000000;
    if (exp > maxExp) r = negative ? -Infinity : Infinity;
    else if (exp <= -maxExp) r = negative ? -0 : 0;
  }
  return r;
}

/** Cephes' f32 Chebyshev coefficients of i1e (XLA's I1eImpl32 and CHLO's legalization use them). */
const I1E_A = [
  9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7, -8.56872026469545474066e-7,
  3.47025130813767847674e-6, -1.32731636560394358279e-5, 4.78156510755005422638e-5, -1.61760815825896745588e-4,
  5.12285956168575772895e-4, -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
  2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1, -1.76416518357834055153e-1,
  2.52587186443633654823e-1,
];
const I1E_B = [
  -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7, -3.88256480887769039346e-6,
  -1.10588938762623716291e-4, -9.76109749136146840777e-3, 7.78576235018280120474e-1,
];

/** Cephes' chbevl: the Chebyshev series `coefficients` (highest order first) at `x`. */
function chebyshev(x: number, coefficients: readonly number[]): number {
  let [b0, b1, b2] = [0, 0, 0];
  for (const c of coefficients) {
    b2 = b1;
    b1 = b0;
    b0 = x * b1 - b2 + c;
  }
  return 0.5 * (b0 - b2);
}

/** The exponentially scaled modified Bessel function of the first kind, order 1: e^-|x| I1(x). */
export function besselI1e(x: number): number {
  const z = Math.abs(x);
  const y = z <= 8 ? z * chebyshev(z / 2 - 2, I1E_A) : chebyshev(32 / z - 2, I1E_B) / Math.sqrt(z);
  return x < 0 ? -y : y;
}

/** 1 / (the Euler-Maclaurin coefficients (2k)! / B_2k) of Cephes' zeta, as XLA's legalization orders them. */
const ZETA_COEFFICIENTS = [
  -7.1661652561756670113e18, 1.8152105401943546773e17, -4.5979787224074726105e15, 1.1646782814350067249e14,
  -2.950130727918164224e12, 7.47242496e10, -1.8924375803183791606e9, 47900160.0, -1209600.0, 30240.0, -720.0, 12.0,
];

/**
 * The Hurwitz zeta function zeta(x, q) = sum_k (q + k)^-x, as CHLO's legalization computes it
 * (Cephes' zeta.c): ten terms of the series, then a 12-term Euler-Maclaurin tail by Horner's
 * rule; NaN for x < 1 or q <= 0 with x not an integer, +inf at x = 1 and at the poles (integer
 * q <= 0) for even integer x (NaN for other x).
 */
export function zeta(x: number, q: number): number {
  let a = q;
  let initial = Math.pow(q, -x);
  for (let i = 0; i < 9; i++) {
    a += 1;
    initial += Math.pow(a, -x);
  }
  a += 1;
  const negPower = Math.pow(a, -x);
  let s = initial + (negPower * a) / (x - 1);
  const invSquare = 1 / (a * a);
  let horner = 0;
  for (let i = 0; i < 11; i++) {
    const factor = (x - (22 - 2 * i)) * (x - (21 - 2 * i));
    horner = factor * (invSquare * (horner + 1 / ZETA_COEFFICIENTS[i]));
  }
  s += negPower * (0.5 + (x / a) * (1 / ZETA_COEFFICIENTS[11] + horner));
  // f32's smallest positive normal, as XLA's getConstantLikeSmallestFiniteValue for f32.
  let out = Math.abs(negPower) < Math.abs(initial) * 1.1754943508222875e-38 ? initial : s;
  if (x < 1) out = NaN;
  if (q <= 0 && x !== Math.floor(x)) out = NaN;
  if (q <= 0 && q === Math.floor(q)) out = x === Math.floor(x) && x % 2 === 0 ? Infinity : NaN;
  if (x === 1) out = Infinity;
  return out;
}

/**
 * The polygamma function psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), digamma at n = 0, NaN unless n
 * is a natural number (CHLO's legalization).
 */
export function polygamma(n: number, x: number): number {
  if (n !== Math.floor(n) || n < 0 || Number.isNaN(n)) return NaN;
  if (n === 0) return digamma(x);
  const sign = 2 * (n % 2) - 1;
  return sign * Math.exp(lgamma(n + 1)) * zeta(n + 1, x);
}
