/**
 * @file Scalar semantics for constant folding: the simple arithmetic, bitwise, comparison and
 * conversion ops on one element, with exact f32 rounding and 32-bit integer wrap-around.
 *
 * The compiler may not import the reference interpreter (`compiler/` sees only `ir/`): what both
 * need (rounding to integers, popcount, compare) lives in `ir/scalar.ts`, and this file is the
 * folder's own, more cautious layer over it. Where a result is implementation-defined, or not
 * correctly rounded in JavaScript, the helpers return `undefined` and the op stays unfolded, so that the device decides, as it would have without folding:
 * integer division by zero and INT32_MIN / -1, shifts by out-of-range amounts, float-to-int
 * conversion of NaN or out-of-range values, transcendental functions, and f16 results that would
 * need two roundings. Every f32 result is correctly rounded: +, -, *, /, sqrt computed in f64 and
 * then rounded to f32 give the correctly rounded f32 result (f64 has more than 2p+2 bits).
 * Semantics: https://openxla.org/stablehlo/spec#elementwise-operations
 */
import { type ComparisonDirection, type ComparisonType, Op } from '../../ir/ops.js';
import { type NarrowDType, isFloat, isUnsigned, roundBf16, roundF16 } from '../../ir/dtype.js';
import { compareScalar, INT32_MIN, popcount, roundHalfAway, roundHalfEven } from '../../ir/scalar.js';

/**
 * Rounds an exact (f64) result to `d`, or `undefined` when that would not be a single correct
 * rounding (f16 via f32 rounds twice, so only results exact in f32 are accepted for f16).
 */
export function roundTo(d: NarrowDType, x: number): number | undefined {
  switch (d) {
    case 'f32': return Math.fround(x);
    case 'bf16': return roundBf16(x);
    case 'f16': return Math.fround(x) === x || Number.isNaN(x) ? roundF16(x) : undefined;
    case 'i32': return x | 0;
    case 'ui32': return x >>> 0;
    case 'i1': return x ? 1 : 0;
    default: return d satisfies never;
  }
}

/** One element of a unary elementwise op on dtype `d` (operand and result), or `undefined`. */
export function evalUnary(op: Op, d: NarrowDType, x: number): number | undefined {
  const float = isFloat(d);
  if (d === 'i1') return op === Op.Not ? (x ? 0 : 1) : undefined;
  switch (op) {
    case Op.Negate: return roundTo(d, -x);
    case Op.Abs: return roundTo(d, Math.abs(x));
    case Op.Sign:
      if (float) return Number.isNaN(x) || x === 0 ? x : Math.sign(x);
      return roundTo(d, isUnsigned(d) ? (x === 0 ? 0 : 1) : Math.sign(x));
    case Op.Square: return roundTo(d, float ? x * x : Math.imul(x, x));
    case Op.Sqrt: return float ? roundTo(d, Math.sqrt(x)) : undefined;
    case Op.Floor: return float ? Math.floor(x) : undefined;
    case Op.Ceil: return float ? Math.ceil(x) : undefined;
    case Op.RoundEven: return float ? roundHalfEven(x) : undefined;
    case Op.RoundAfz: return float ? roundHalfAway(x) : undefined;
    case Op.Not: return float ? undefined : roundTo(d, ~x);
    case Op.Popcnt: return float ? undefined : popcount(x);
    case Op.Clz: return float ? undefined : Math.clz32(x);
    default: return undefined;
  }
}

/** The result of a predicate op (`is_finite`, `chlo.is_inf`, ...) as 0/1, or `undefined`. */
export function evalPredicate(op: Op, x: number): number | undefined {
  switch (op) {
    case Op.IsFinite: return Number.isFinite(x) ? 1 : 0;
    case Op.IsInf: return x === Infinity || x === -Infinity ? 1 : 0;
    case Op.IsPosInf: return x === Infinity ? 1 : 0;
    case Op.IsNegInf: return x === -Infinity ? 1 : 0;
    default: return undefined;
  }
}

function shiftOk(d: NarrowDType, b: number): boolean {
  // Shift amounts are read as unsigned; 32 or more is left to the device's rule.
  return d !== 'i1' && (b >>> 0) < 32;
}

/** One element of a binary elementwise op (not compare) on dtype `d`, or `undefined`. */
export function evalBinary(op: Op, d: NarrowDType, a: number, b: number): number | undefined {
  if (d === 'i1') {
    switch (op) {
      case Op.And: case Op.Multiply: case Op.Minimum: return a & b;
      case Op.Or: case Op.Add: case Op.Maximum: return a | b;
      case Op.Xor: return a ^ b;
      default: return undefined;
    }
  }
  const float = isFloat(d);
  switch (op) {
    case Op.Add: return roundTo(d, a + b);
    case Op.Subtract: return roundTo(d, a - b);
    case Op.Multiply: return float ? roundTo(d, a * b) : roundTo(d, Math.imul(a, b));
    case Op.Divide:
      if (float) return roundTo(d, a / b);
      if (b === 0 || (d === 'i32' && a === INT32_MIN && b === -1)) return undefined;
      return roundTo(d, Math.trunc(a / b));
    case Op.Remainder:
      if (float) return roundTo(d, a % b);
      if (b === 0 || (d === 'i32' && a === INT32_MIN && b === -1)) return undefined;
      return roundTo(d, a % b);
    case Op.Maximum: return Math.max(a, b);
    case Op.Minimum: return Math.min(a, b);
    case Op.And: return float ? undefined : roundTo(d, a & b);
    case Op.Or: return float ? undefined : roundTo(d, a | b);
    case Op.Xor: return float ? undefined : roundTo(d, a ^ b);
    case Op.ShiftLeft: return !float && shiftOk(d, b) ? roundTo(d, a << b) : undefined;
    case Op.ShiftRightArithmetic: return !float && shiftOk(d, b) ? roundTo(d, (a | 0) >> b) : undefined;
    case Op.ShiftRightLogical: return !float && shiftOk(d, b) ? roundTo(d, a >>> b) : undefined;
    default: return undefined;
  }
}

/** `compare` on one pair of elements as 0/1, or `undefined` (TOTALORDER is left to the device). */
export function evalCompare(dir: ComparisonDirection, type: ComparisonType, a: number, b: number): number | undefined {
  return type === 'TOTALORDER' ? undefined : compareScalar(dir, type, a, b);
}

/** `convert` of one element from `from` to `to`, or `undefined` where the result is implementation-defined. */
export function evalConvert(from: NarrowDType, to: NarrowDType, x: number): number | undefined {
  if (to === 'i1') return Number.isNaN(x) ? undefined : x !== 0 ? 1 : 0;
  if (isFloat(to)) {
    // Integers up to 2^24 are exact in f32, so int -> f16 rounds once; larger ones overflow f16 anyway.
    return to === 'f32' ? Math.fround(x) : roundF16(x);
  }
  if (!isFloat(from)) return roundTo(to, x); // two's-complement wrap between i32, ui32 and i1
  const t = Math.trunc(x);
  if (Number.isNaN(t)) return undefined;
  if (to === 'i32' && (t < INT32_MIN || t > 0x7fffffff)) return undefined;
  if (to === 'ui32' && (t < 0 || t > 0xffffffff)) return undefined;
  return roundTo(to, t);
}
