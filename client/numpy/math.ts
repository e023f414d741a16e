/**
 * @file The rest of jax.numpy's elementwise math: inverse hyperbolic functions, angle conversions,
 * float decomposition (`frexp`, `modf`, `ldexp`, `nextafter`), the float-aware binary functions
 * (`hypot`, `logaddexp`, `copysign`, `fmax`, `fmod`, ...), shifts and bit counts, integer `gcd`/
 * `lcm`, and the aliases jax-js exports (`asin` for `arcsin`, `pow` for `power`, ...). Each is
 * written in the primitive ops of client/lax.ts with promotion from promote.ts, so gradients,
 * vmap and both devices come from the existing op rules.
 */
import { isComplex, isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, X, XY } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import * as ew from './elementwise.js';
import { asArray, cast, floatOf, prepare, type Operand } from './promote.js';

/** `x` as a float Array (ints and bools as f32, weak stays weak). */
function toFloat(x: Operand): KArray {
  const a = asArray(x);
  return cast(a, floatOf(a.dtype), a.weak);
}

/** Both operands promoted together and then to a float type. */
function floats(x: Operand, y: Operand): [KArray, KArray] {
  const { args: [a, b], dtype, weak } = prepare([x, y]);
  const f = floatOf(dtype);
  return [cast(a, f, weak), cast(b, f, weak)];
}

const k = (like: KArray, v: number): KArray => lax.withWeak(lax.constant(like.dtype, like.shape, v), like.weak);
const add = (a: KArray, b: KArray) => lax.binary(Op.Add, a, b);
const sub = (a: KArray, b: KArray) => lax.binary(Op.Subtract, a, b);
const mul = (a: KArray, b: KArray) => lax.binary(Op.Multiply, a, b);
const div = (a: KArray, b: KArray) => lax.binary(Op.Divide, a, b);
const isNan = (a: KArray) => lax.compare('NE', a, a);

// ---- aliases (jax.numpy's array-API spellings) -----------------------------------------------

export const asin = ew.arcsin;
export const acos = ew.arccos;
export const atan = ew.arctan;
export const atan2 = ew.arctan2;
/** `x / y` (ints give f32). */
export const trueDivide = ew.divide;
/** `np.round`. */
export const around = ew.round;

// ---- unary ----------------------------------------------------------------------------------

/** `asinh(x) = sign(x) * log1p(|x| + x² / (1 + sqrt(x² + 1)))` (accurate near 0). */
export const arcsinh = defapi('np.arcsinh', X, (x: Operand): KArray => {
  const f = toFloat(x);
  const ax = lax.unary(Op.Abs, f);
  const x2 = mul(ax, ax);
  // For huge |x| x² overflows: asinh(x) = log(2|x|) there.
  const small = lax.unary(Op.Log1p, add(ax, div(x2, add(k(f, 1), lax.unary(Op.Sqrt, add(x2, k(f, 1)))))));
  const big = add(lax.unary(Op.Log, ax), k(f, Math.LN2));
  const r = lax.select(lax.compare('GT', ax, k(f, 1e18)), big, small);
  return lax.select(lax.compare('LT', f, k(f, 0)), lax.unary(Op.Negate, r), r);
});
/** `acosh(x) = log(x + sqrt(x - 1) * sqrt(x + 1))`; NaN below 1. */
export const arccosh = defapi('np.arccosh', X, (x: Operand): KArray => {
  const f = toFloat(x);
  const r = lax.unary(Op.Log, add(f, mul(lax.unary(Op.Sqrt, sub(f, k(f, 1))), lax.unary(Op.Sqrt, add(f, k(f, 1))))));
  return lax.select(lax.compare('GT', f, k(f, 1e18)), add(lax.unary(Op.Log, f), k(f, Math.LN2)), r);
});
/** `atanh(x) = log1p(2x / (1 - x)) / 2`. */
export const arctanh = defapi('np.arctanh', X, (x: Operand): KArray => {
  const f = toFloat(x);
  return mul(k(f, 0.5), lax.unary(Op.Log1p, div(mul(k(f, 2), f), sub(k(f, 1), f))));
});
export const asinh = arcsinh;
export const acosh = arccosh;
export const atanh = arctanh;

export const cbrt = defapi('np.cbrt', X, (x: Operand) => lax.unary(Op.Cbrt, toFloat(x)));
export const deg2rad = defapi('np.deg2rad', X, (x: Operand) => { const f = toFloat(x); return mul(f, k(f, Math.PI / 180)); });
export const rad2deg = defapi('np.rad2deg', X, (x: Operand) => { const f = toFloat(x); return mul(f, k(f, 180 / Math.PI)); });
export const radians = deg2rad;
export const degrees = rad2deg;

/** `sin(πx) / (πx)`, 1 at 0. */
export const sinc = defapi('np.sinc', X, (x: Operand): KArray => {
  const f = toFloat(x);
  const zero = lax.compare('EQ', f, k(f, 0));
  // Divide by a safe value at 0 so the unselected branch (and its gradient) stays finite.
  const px = mul(lax.select(zero, k(f, 1), f), k(f, Math.PI));
  return lax.select(zero, k(f, 1), div(lax.unary(Op.Sin, px), px));
});

/** Rounds to the nearest integer, halves to even. */
export const rint = defapi('np.rint', X, (x: Operand): KArray => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.unary(Op.RoundEven, a) : cast(a, 'f32', a.weak);
});

/** Whether the sign bit is set (true for -0.0 and negative NaNs, as NumPy). */
export const signbit = defapi('np.signbit', X, (x: Operand): KArray => {
  const a = asArray(x);
  if (a.dtype === 'f32') return lax.compare('LT', lax.bitcast(a, 'i32'), lax.constant('i32', a.shape, 0));
  if (a.dtype === 'f16') return lax.compare('LT', lax.bitcast(lax.convert(a, 'f32'), 'i32'), lax.constant('i32', a.shape, 0));
  if (a.dtype === 'i32') return lax.compare('LT', a, lax.constant('i32', a.shape, 0));
  return lax.constant('i1', a.shape, 0);
});

export const positive = defapi('np.positive', X, (x: Operand): KArray => {
  const a = asArray(x);
  if (a.dtype === 'i1') throw traceError('positive of booleans is not defined');
  return a;
});

/** NaN to `nan`, ±inf to `posinf`/`neginf` (the largest finite values of the dtype by default). */
export const nanToNum = defapi('np.nanToNum', [p('x', A.array), p('copy', A.bool, true), p('nan', A.number, 0), p('posinf', A.orNull(A.number), null), p('neginf', A.orNull(A.number), null)],
  (x: Operand, _copy: boolean, nan: number, posinf: number | null, neginf: number | null): KArray => {
    const a = asArray(x);
    if (!isFloat(a.dtype)) return a;
    // The largest finite value, built from its bits: its shortest decimal printing (3.40282347e+38)
    // rounds above f32's range in WGSL, so it cannot travel as a literal.
    const maxF32 = lax.bitcast(lax.constant('i32', a.shape, 0x7f7fffff), 'f32');
    const big = a.dtype === 'f16' ? k(a, 65504) : lax.withWeak(maxF32, a.weak);
    const hi = posinf === null ? big : k(a, posinf);
    const lo = neginf === null ? lax.unary(Op.Negate, big) : k(a, neginf);
    let r = lax.select(isNan(a), k(a, nan), a);
    r = lax.select(lax.compare('EQ', r, k(a, Infinity)), hi, r);
    return lax.select(lax.compare('EQ', r, k(a, -Infinity)), lo, r);
  });
export const isneginf = defapi('np.isneginf', X, (x: Operand): KArray => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.compare('EQ', a, lax.constant(a.dtype, a.shape, -Infinity)) : lax.constant('i1', a.shape, 0);
});
export const isposinf = defapi('np.isposinf', X, (x: Operand): KArray => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.compare('EQ', a, lax.constant(a.dtype, a.shape, Infinity)) : lax.constant('i1', a.shape, 0);
});

function intOnly(name: string, a: KArray): void {
  if (isFloat(a.dtype)) throw traceError(`${name} needs integers or booleans, got ${a.dtype}`);
}

/** Bitwise not (logical not for booleans). */
export const invert = defapi('np.invert', X, (x: Operand): KArray => {
  const a = asArray(x);
  intOnly('invert', a);
  return lax.unary(Op.Not, a);
});
export const bitwiseNot = invert;
export const bitwiseInvert = invert;

/** The number of set bits in `|x|`, uint8 as in JAX. */
export const bitwiseCount = defapi('np.bitwiseCount', X, (x: Operand): KArray => {
  const a = asArray(x);
  intOnly('bitwiseCount', a);
  const v = a.dtype === 'i1' ? lax.convert(a, 'ui32') : a.dtype === 'i32' || a.dtype === 'i8' || a.dtype === 'i16' ? lax.unary(Op.Abs, a) : a;
  return lax.convert(lax.unary(Op.Popcnt, v), 'ui8');
});

/**
 * `(mantissa, exponent)` with `x = mantissa * 2**exponent` and `0.5 <= |mantissa| < 1` (0, inf
 * and NaN give themselves and exponent 0), read from the f32 bits; f16 goes through f32.
 */
export const frexp = defapi('np.frexp', X, (x: Operand): KArray[] => {
  const a0 = toFloat(x);
  const a = lax.convert(a0, 'f32');
  // Subnormals: scale by 2^32 first and take 32 off the exponent.
  const tiny = lax.compare('LT', lax.unary(Op.Abs, a), lax.constant('f32', a.shape, 1.1754943508222875e-38));
  const s = lax.select(tiny, mul(a, lax.constant('f32', a.shape, 2 ** 32)), a);
  const bits = lax.bitcast(s, 'i32');
  const c = (v: number) => lax.constant('i32', a.shape, v);
  const biased = lax.binary(Op.And, lax.binary(Op.ShiftRightLogical, bits, c(23)), c(0xff));
  const special = lax.binary(Op.Or, lax.compare('EQ', a, lax.constant('f32', a.shape, 0)), lax.unary(Op.Not, lax.unary(Op.IsFinite, a, 'i1')));
  const e = sub(sub(biased, c(126)), lax.select(tiny, c(32), c(0)));
  const mBits = lax.binary(Op.Or, lax.binary(Op.And, bits, c(0x807fffff | 0)), c(126 << 23));
  const m = lax.select(special, a, lax.bitcast(mBits, 'f32'));
  return [lax.convert(m, a0.dtype, a0.weak), lax.select(special, c(0), e)];
});

/** `(fractional, integral)` parts, both with the sign of `x`. */
export const modf = defapi('np.modf', X, (x: Operand): KArray[] => {
  const f = toFloat(x);
  const whole = lax.select(lax.compare('LT', f, k(f, 0)), lax.unary(Op.Ceil, f), lax.unary(Op.Floor, f));
  const frac = lax.select(lax.unary(Op.IsFinite, f, 'i1'), sub(f, whole), lax.select(isNan(f), f, k(f, 0)));
  return [frac, whole];
});

/** `x * 2**e` for integer `e` (exact: the powers of two are built from their bits). */
export const ldexp = defapi('np.ldexp', XY, (x: Operand, e: Operand): KArray => {
  const intExp = typeof e === 'number' ? Number.isInteger(e) : !isFloat(e.dtype);
  if (!intExp) throw traceError(`ldexp needs an integer exponent, got ${typeof e === 'number' ? e : e.dtype}`);
  const f = toFloat(x);
  const { args: [a, n0] } = prepare([lax.convert(f, 'f32', f.weak), typeof e === 'number' ? e : cast(e, 'f32')], 'f32');
  const c = (v: number) => lax.constant('i32', a.shape, v);
  const n = lax.binary(Op.Maximum, lax.binary(Op.Minimum, lax.convert(n0, 'i32'), c(300)), c(-300));
  // 2**n as (2**n1)(2**n2)(2**n3), each factor within f32's normal exponents.
  const n1 = lax.binary(Op.Divide, n, c(3));
  const n2 = lax.binary(Op.Divide, sub(n, n1), c(2));
  const n3 = sub(sub(n, n1), n2);
  const pow2 = (m: KArray) => lax.bitcast(lax.binary(Op.ShiftLeft, add(m, c(127)), c(23)), 'f32');
  return lax.convert(mul(mul(mul(a, pow2(n1)), pow2(n2)), pow2(n3)), f.dtype, f.weak);
});

// ---- binary ---------------------------------------------------------------------------------

/** `sqrt(x² + y²)` without overflow: `M * sqrt(1 + (m/M)²)`. */
export const hypot = defapi('np.hypot', XY, (x: Operand, y: Operand): KArray => {
  const [a0, b0] = floats(x, y);
  const a = lax.unary(Op.Abs, a0), b = lax.unary(Op.Abs, b0);
  const hi = lax.binary(Op.Maximum, a, b), lo = lax.binary(Op.Minimum, a, b);
  const zero = lax.compare('EQ', hi, k(hi, 0));
  const r = div(lo, lax.select(zero, k(hi, 1), hi));
  const out = mul(hi, lax.unary(Op.Sqrt, add(k(hi, 1), mul(r, r))));
  const inf = lax.binary(Op.Or, lax.compare('EQ', a, k(a, Infinity)), lax.compare('EQ', b, k(b, Infinity)));
  return lax.select(inf, k(hi, Infinity), lax.select(zero, k(hi, 0), out));
});

function logaddexpBase(x: Operand, y: Operand, ln2: boolean): KArray {
  const [a, b] = floats(x, y);
  const hi = lax.binary(Op.Maximum, a, b);
  const d = lax.unary(Op.Negate, lax.unary(Op.Abs, sub(a, b)));
  // d is NaN when both are the same infinity: the result is that infinity.
  const dd = lax.select(isNan(d), k(d, 0), d);
  const tail = ln2
    ? div(lax.unary(Op.Log1p, lax.unary(Op.Exp, mul(dd, k(dd, Math.LN2)))), k(dd, Math.LN2))
    : lax.unary(Op.Log1p, lax.unary(Op.Exp, dd));
  const r = add(hi, tail);
  return lax.select(lax.binary(Op.Or, isNan(a), isNan(b)), add(a, b), r);
}
/** `log(exp(x) + exp(y))`, computed stably. */
export const logaddexp = defapi('np.logaddexp', XY, (x: Operand, y: Operand) => logaddexpBase(x, y, false));
/** `log2(2**x + 2**y)`, computed stably. */
export const logaddexp2 = defapi('np.logaddexp2', XY, (x: Operand, y: Operand) => logaddexpBase(x, y, true));

/** `|x|` with the sign of `y` (of its sign bit: -0.0 counts as negative). */
export const copysign = defapi('np.copysign', XY, (x: Operand, y: Operand): KArray => {
  const [a, b] = floats(x, y);
  const neg = signbit(b) as KArray;
  const m = lax.unary(Op.Abs, a);
  return lax.select(neg, lax.unary(Op.Negate, m), m);
});

function fminmax(op: Op.Maximum | Op.Minimum) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b], dtype } = prepare([x, y]);
    const r = lax.binary(op, a, b);
    if (!isFloat(dtype)) return r;
    // NaNs are ignored unless both are NaN.
    return lax.select(isNan(a), b, lax.select(isNan(b), a, r));
  };
}
/** Elementwise maximum ignoring NaNs. */
export const fmax = defapi('np.fmax', XY, fminmax(Op.Maximum));
/** Elementwise minimum ignoring NaNs. */
export const fmin = defapi('np.fmin', XY, fminmax(Op.Minimum));

/** C's fmod: the remainder with the sign of the dividend (StableHLO's remainder). */
export const fmod = defapi('np.fmod', XY, (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype } = prepare([x, y]);
  if (dtype === 'i1') throw traceError('fmod of booleans is not defined');
  return lax.binary(Op.Remainder, a, b);
});

/** 0 for x < 0, `h0` at 0, 1 for x > 0 (NaN stays NaN). */
export const heaviside = defapi('np.heaviside', [p('x1', A.array), p('x2', A.array)], (x: Operand, h0: Operand): KArray => {
  const [a, h] = floats(x, h0);
  const r = lax.select(lax.compare('LT', a, k(a, 0)), k(a, 0), lax.select(lax.compare('GT', a, k(a, 0)), k(a, 1), h));
  return lax.select(isNan(a), a, r);
});

function shift(name: string, op: (d: SupportedDType) => Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b], dtype } = prepare([x, y]);
    if (isFloat(dtype) || dtype === 'i1') throw traceError(`${name} needs integers, got ${dtype}`);
    return lax.binary(op(dtype), a, b);
  };
}
/** `x << y` (shifts of 32 or more give 0, as StableHLO and JAX). */
export const leftShift = defapi('np.leftShift', XY, shift('leftShift', () => Op.ShiftLeft));
/** `x >> y`: arithmetic for signed integers, logical for unsigned. */
export const rightShift = defapi('np.rightShift', XY, shift('rightShift', (d) => (isUnsigned(d) ? Op.ShiftRightLogical : Op.ShiftRightArithmetic)));
export const bitwiseLeftShift = leftShift;
export const bitwiseRightShift = rightShift;

/** `x ** y` in the widest float kiln has (f32; JAX uses float64 only with x64 on). */
export const floatPower = defapi('np.floatPower', XY, (x: Operand, y: Operand): KArray => {
  const [a, b] = floats(x, y);
  return lax.binary(Op.Power, lax.convert(a, 'f32', a.weak), lax.convert(b, 'f32', b.weak));
});

/** `(floorDivide(x, y), mod(x, y))`. */
export const divmod = defapi('np.divmod', XY, (x: Operand, y: Operand): KArray[] => [ew.floorDivide(x, y), ew.mod(x, y)]);

/** The next representable f32 after `x` towards `y`. */
export const nextafter = defapi('np.nextafter', XY, (x: Operand, y: Operand): KArray => {
  const [a0, b0] = floats(x, y);
  if (a0.dtype !== 'f32') throw traceError(`nextafter is implemented for f32, got ${a0.dtype}`);
  const a = a0, b = b0;
  const c = (v: number) => lax.constant('i32', a.shape, v);
  const bits = lax.bitcast(a, 'i32');
  const up = lax.compare('GT', b, a);
  // Moving away from zero adds one to the bits of |x|; towards zero subtracts one.
  const away = lax.compare('EQ', up, lax.compare('GE', a, k(a, 0)));
  const stepped = lax.bitcast(lax.select(away, add(bits, c(1)), sub(bits, c(1))), 'f32');
  const fromZero = lax.select(up, k(a, 1.401298464324817e-45), k(a, -1.401298464324817e-45));
  const r = lax.select(lax.compare('EQ', a, k(a, 0)), fromZero, stepped);
  const same = lax.compare('EQ', a, b);
  return lax.select(lax.binary(Op.Or, isNan(a), isNan(b)), add(a, b), lax.select(same, b, r));
});

/**
 * Greatest common divisor of integers, by Euclid's algorithm unrolled 48 times (enough for any
 * pair of 32-bit integers: consecutive Fibonacci numbers are the worst case, 46 steps).
 */
function gcdImpl(x: Operand, y: Operand): KArray {
  const { args: [a0, b0], dtype } = prepare([x, y]);
  if (isFloat(dtype) || dtype === 'i1') throw traceError(`gcd/lcm need integers, got ${dtype}`);
  let a = dtype === 'i32' ? lax.unary(Op.Abs, a0) : a0;
  let b = dtype === 'i32' ? lax.unary(Op.Abs, b0) : b0;
  const zero = lax.constant(dtype, a.shape, 0), one = lax.constant(dtype, a.shape, 1);
  for (let i = 0; i < 48; i++) {
    const done = lax.compare('EQ', b, zero);
    const r = lax.binary(Op.Remainder, a, lax.select(done, one, b));
    [a, b] = [lax.select(done, a, b), lax.select(done, zero, r)];
  }
  return a;
}
export const gcd = defapi('np.gcd', XY, gcdImpl);
/** Least common multiple: `|x| / gcd(x, y) * |y|` (0 when either is 0). */
export const lcm = defapi('np.lcm', XY, (x: Operand, y: Operand): KArray => {
  const g = gcdImpl(x, y);
  const { args: [a0, b0], dtype } = prepare([x, y]);
  const a = dtype === 'i32' ? lax.unary(Op.Abs, a0) : a0, b = dtype === 'i32' ? lax.unary(Op.Abs, b0) : b0;
  const zero = lax.constant(dtype, a.shape, 0);
  const isZero = lax.compare('EQ', g, zero);
  return lax.select(isZero, zero, mul(div(a, lax.select(isZero, lax.constant(dtype, a.shape, 1), g)), b));
});

/**
 * The argument of a complex number, `atan2(imag, real)` in (−π, π] as f32; of a real number 0 for
 * x >= 0 and π for x < 0 (`deg` for degrees).
 */
export const angle = defapi('np.angle', [p('z', A.array), p('deg', A.bool, false)], (x: Operand, deg: boolean): KArray => {
  const a = asArray(x);
  const f = isComplex(a.dtype) ? a : toFloat(a);
  const r = isComplex(a.dtype) ? lax.binary(Op.Atan2, lax.imag(f), lax.real(f)) : lax.binary(Op.Atan2, k(f, 0), f);
  return deg ? mul(r, k(r, 180 / Math.PI)) : r;
});

/**
 * The modified Bessel function of the first kind, order 0, by the polynomial approximations of
 * Abramowitz & Stegun 9.8.1 (|x| <= 3.75, relative error < 1.6e-7) and 9.8.2 (beyond, < 1.9e-7).
 */
export const i0 = defapi('np.i0', X, (x: Operand): KArray => {
  const f = toFloat(x);
  const ax = lax.unary(Op.Abs, f);
  const poly = (t: KArray, cs: number[]) => cs.reduceRight((acc: KArray | null, c) => (acc ? add(k(t, c), mul(t, acc)) : k(t, c)), null)!;
  const t1 = div(ax, k(ax, 3.75));
  const small = poly(mul(t1, t1), [1, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813]);
  const safe = lax.binary(Op.Maximum, ax, k(ax, 3.75));
  const t2 = div(k(ax, 3.75), safe);
  const big = mul(div(lax.unary(Op.Exp, safe), lax.unary(Op.Sqrt, safe)),
    poly(t2, [0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537, -0.01647633, 0.00392377]));
  return lax.select(lax.compare('LE', ax, k(ax, 3.75)), small, big);
});
