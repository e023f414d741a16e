/**
 * @file Scalar semantics for constant folding: the simple arithmetic, bitwise, comparison and
 * conversion ops on one element, with exact f32 rounding and 32-bit integer wrap-around.
 *
 * The compiler may not import the reference interpreter (`compiler/` sees only `ir/`), so this is
 * a deliberately small second copy of the semantics that matter for folding. Where a result is
 * implementation-defined, or not correctly rounded in JavaScript, the helpers return `undefined`
 * and the op stays unfolded, so that the device decides, as it would have without folding:
 * integer division by zero and INT_MIN / -1, shifts by out-of-range amounts, float-to-int
 * conversion of NaN or out-of-range values, transcendental functions, and f16 results that would
 * need two roundings. Every f32 result is correctly rounded: +, -, *, /, sqrt computed in f64 and
 * then rounded to f32 give the correctly rounded f32 result (f64 has more than 2p+2 bits).
 * Semantics: https://openxla.org/stablehlo/spec#elementwise-operations
 */
import { type ComparisonDirection, type ComparisonType, Op } from '../../ir/ops.js';
import { type SupportedDType, isFloat, isUnsigned, roundF16 } from '../../ir/dtype.js';

const INT_MIN = -0x80000000;

/**
 * Rounds an exact (f64) result to `d`, or `undefined` when that would not be a single correct
 * rounding (f16 via f32 rounds twice, so only results exact in f32 are accepted for f16).
 */
export function roundTo(d: SupportedDType, x: number): number | undefined {
  switch (d) {
    case 'f32': return Math.fround(x);
    case 'f16': return Math.fround(x) === x || Number.isNaN(x) ? roundF16(x) : undefined;
    case 'i32': return x | 0;
    case 'ui32': return x >>> 0;
    case 'i1': return x ? 1 : 0;
    default: return d satisfies never;
  }
}

function roundEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

function roundAfz(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.floor(Math.abs(x) + 0.5);
  return x < 0 || Object.is(x, -0) ? -r : r;
}

function popcount(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v) { v &= v - 1; n++; }
  return n;
}

/** One element of a unary elementwise op on dtype `d` (operand and result), or `undefined`. */
export function evalUnary(op: Op, d: SupportedDType, x: number): number | undefined {
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
    case Op.RoundEven: return float ? roundEven(x) : undefined;
    case Op.RoundAfz: return float ? roundAfz(x) : undefined;
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

function shiftOk(d: SupportedDType, b: number): boolean {
  // Shift amounts are read as unsigned; 32 or more is left to the device's rule.
  return d !== 'i1' && (b >>> 0) < 32;
}

/** One element of a binary elementwise op (not compare) on dtype `d`, or `undefined`. */
export function evalBinary(op: Op, d: SupportedDType, a: number, b: number): number | undefined {
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
      if (b === 0 || (d === 'i32' && a === INT_MIN && b === -1)) return undefined;
      return roundTo(d, Math.trunc(a / b));
    case Op.Remainder:
      if (float) return roundTo(d, a % b);
      if (b === 0 || (d === 'i32' && a === INT_MIN && b === -1)) return undefined;
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

/** The comparison type JAX would print for an operand dtype, used when the op omits it. */
export function defaultCompareType(d: SupportedDType): ComparisonType {
  if (isFloat(d)) return 'FLOAT';
  return d === 'i32' ? 'SIGNED' : 'UNSIGNED';
}

/** `compare` on one pair of elements as 0/1, or `undefined` (TOTALORDER is left to the device). */
export function evalCompare(dir: ComparisonDirection, type: ComparisonType, a: number, b: number): number | undefined {
  let x = a;
  let y = b;
  if (type === 'TOTALORDER') return undefined;
  if (type === 'SIGNED') { x = a | 0; y = b | 0; }
  if (type === 'UNSIGNED') { x = a >>> 0; y = b >>> 0; }
  // JavaScript comparisons are IEEE's: every ordered comparison with NaN is false, NE is true.
  switch (dir) {
    case 'EQ': return x === y ? 1 : 0;
    case 'NE': return x !== y ? 1 : 0;
    case 'LT': return x < y ? 1 : 0;
    case 'LE': return x <= y ? 1 : 0;
    case 'GT': return x > y ? 1 : 0;
    case 'GE': return x >= y ? 1 : 0;
    default: return dir satisfies never;
  }
}

/** `convert` of one element from `from` to `to`, or `undefined` where the result is implementation-defined. */
export function evalConvert(from: SupportedDType, to: SupportedDType, x: number): number | undefined {
  if (to === 'i1') return Number.isNaN(x) ? undefined : x !== 0 ? 1 : 0;
  if (isFloat(to)) {
    // Integers up to 2^24 are exact in f32, so int -> f16 rounds once; larger ones overflow f16 anyway.
    return to === 'f32' ? Math.fround(x) : roundF16(x);
  }
  if (!isFloat(from)) return roundTo(to, x); // two's-complement wrap between i32, ui32 and i1
  const t = Math.trunc(x);
  if (Number.isNaN(t)) return undefined;
  if (to === 'i32' && (t < INT_MIN || t > 0x7fffffff)) return undefined;
  if (to === 'ui32' && (t < 0 || t > 0xffffffff)) return undefined;
  return roundTo(to, t);
}
