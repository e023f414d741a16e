/**
 * @file Scalar semantics of every elementwise op, one typed table per arity, plus the loops that
 * apply them to whole tensors (compare, convert, bitcast_convert, reduce_precision, select and
 * clamp included). Values are held as JS numbers: floats are computed in f64 and rounded to f32
 * (or f16) when stored, so every op rounds once as IEEE hardware does; integers are computed
 * exactly and wrapped to 32 bits when stored. https://openxla.org/stablehlo/spec#elementwise-ops
 */
import {
  allocHost, allocNarrow, isFloat, isInt64, isSmallInt, roundBf16, roundF16, type Int64Array, type NarrowArray, type NarrowDType,
  type SupportedDType,
} from '../../ir/dtype.js';
import { Op, type BinaryElementwiseOp, type ComparisonDirection, type ComparisonType, type UnaryElementwiseOp } from '../../ir/ops.js';
import {
  compareScalar, defaultCompareType, INT32_MIN, popcount, roundHalfAway, roundHalfEven,
} from '../../ir/scalar.js';
import type { HostTensor } from '../tensor.js';
import { applyBinary64, applyConvert64, applyUnary64, binary64, compare64, unary64 } from './int64.js';
import { besselI1e, digamma, erf, erfc, erfInv, lgamma, nextAfter, polygamma, reducePrecisionF32, zeta } from './special.js';

/** The unary elementwise ops, as a type so that {@link UNARY} must cover each one. */
export type UnaryOp = Exclude<UnaryElementwiseOp, Op.Real | Op.Imag>;

/** The binary elementwise ops other than compare (which takes a direction and a type). */
export type BinaryOp = Exclude<BinaryElementwiseOp, Op.Compare | Op.Complex>;

/**
 * How one op computes per element kind. `float` gets f32/f16 values and returns the exact (f64)
 * result; `int` gets the held i32 or ui32 value (`unsigned` says which) and returns an exact
 * integer that storing wraps to 32 bits; `bool` gets and returns 0 or 1. A kind left out is an
 * element type the spec does not allow for the op (the verifier refuses it).
 */
export interface ScalarRule<F extends (...a: never[]) => number> {
  float?: F;
  int?: (...a: [...Parameters<F>, boolean]) => number;
  bool?: F;
  /** f16 semantics where they differ from f32's (next_after steps the f16 bit pattern). */
  f16?: F;
  /** The result is i1 whatever the operand type (is_finite, is_inf, ...). */
  predicate?: true;
}
export type UnaryRule = ScalarRule<(x: number) => number>;
export type BinaryRule = ScalarRule<(a: number, b: number) => number>;

/** Integer power by squaring, wrapping; negative exponents as XLA: 1 for 1, +-1 for -1, else 0. */
function intPower(a: number, b: number, unsigned: boolean): number {
  if (!unsigned && b < 0) {
    if (a === 1) return 1;
    if (a === -1) return b % 2 === 0 ? 1 : -1;
    return 0;
  }
  let result = 1;
  let base = a | 0;
  let e = b >>> 0;
  while (e) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e >>>= 1;
  }
  return result;
}

/** pow with C semantics (what XLA emits), which differ from `Math.pow` at 1^NaN and (-1)^Inf. */
function floatPower(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return Math.pow(a, b);
}

export const UNARY: { [K in UnaryOp]: UnaryRule } = {
  [Op.Abs]: { float: Math.abs, int: (x, u) => (u ? x : Math.abs(x)) },
  [Op.Negate]: { float: (x) => -x, int: (x) => -x },
  [Op.Sign]: {
    float: (x) => (Number.isNaN(x) || x === 0 ? x : Math.sign(x)),
    int: (x) => Math.sign(x),
  },
  [Op.Exp]: { float: Math.exp },
  [Op.Expm1]: { float: Math.expm1 },
  [Op.Log]: { float: Math.log },
  [Op.Log1p]: { float: Math.log1p },
  [Op.Logistic]: { float: (x) => 1 / (1 + Math.exp(-x)) },
  [Op.Sqrt]: { float: Math.sqrt },
  [Op.Rsqrt]: { float: (x) => 1 / Math.sqrt(x) },
  [Op.Cbrt]: { float: Math.cbrt },
  [Op.Sin]: { float: Math.sin },
  [Op.Cos]: { float: Math.cos },
  [Op.Tan]: { float: Math.tan },
  [Op.Tanh]: { float: Math.tanh },
  [Op.Floor]: { float: Math.floor },
  [Op.Ceil]: { float: Math.ceil },
  [Op.RoundAfz]: { float: roundHalfAway },
  [Op.RoundEven]: { float: roundHalfEven },
  [Op.Not]: { int: (x) => ~x, bool: (x) => 1 - x },
  [Op.Popcnt]: { int: popcount },
  [Op.Clz]: { int: (x) => Math.clz32(x) },
  [Op.IsFinite]: { float: (x) => Number(Number.isFinite(x)), predicate: true },
  [Op.Erf]: { float: erf },
  [Op.Erfc]: { float: erfc },
  [Op.ErfInv]: { float: erfInv },
  [Op.Square]: { float: (x) => x * x, int: (x) => Math.imul(x, x) },
  [Op.Sinh]: { float: Math.sinh },
  [Op.Cosh]: { float: Math.cosh },
  [Op.Asin]: { float: Math.asin },
  [Op.Acos]: { float: Math.acos },
  [Op.Atan]: { float: Math.atan },
  [Op.Asinh]: { float: Math.asinh },
  [Op.Acosh]: { float: Math.acosh },
  [Op.Atanh]: { float: Math.atanh },
  [Op.Lgamma]: { float: lgamma },
  [Op.Digamma]: { float: digamma },
  [Op.BesselI1e]: { float: besselI1e },
  [Op.IsInf]: { float: (x) => Number(x === Infinity || x === -Infinity), predicate: true },
  [Op.IsPosInf]: { float: (x) => Number(x === Infinity), predicate: true },
  [Op.IsNegInf]: { float: (x) => Number(x === -Infinity), predicate: true },
};

export const BINARY: { [K in BinaryOp]: BinaryRule } = {
  // On i1, add is logical or and multiply logical and (spec: "for booleans").
  [Op.Add]: { float: (a, b) => a + b, int: (a, b) => a + b, bool: (a, b) => a | b },
  [Op.Subtract]: { float: (a, b) => a - b, int: (a, b) => a - b },
  [Op.Multiply]: { float: (a, b) => a * b, int: (a, b) => Math.imul(a, b), bool: (a, b) => a & b },
  [Op.Divide]: {
    float: (a, b) => a / b,
    // Truncates; x / 0 is all ones (-1 signed), INT_MIN / -1 is INT_MIN (2^31 wraps to it).
    int: (a, b, u) => (b === 0 ? (u ? 0xffffffff : -1) : Math.trunc(a / b)),
  },
  [Op.Remainder]: {
    float: (a, b) => a % b, // fmod: the sign of the dividend, as the spec asks
    // x % 0 is x; INT_MIN % -1 is 0 (JS gives -0, stored as 0).
    int: (a, b) => (b === 0 ? a : a % b),
  },
  [Op.Power]: { float: floatPower, int: intPower },
  [Op.Maximum]: { float: Math.max, int: (a, b) => Math.max(a, b), bool: (a, b) => a | b }, // Math.max propagates NaN
  [Op.Minimum]: { float: Math.min, int: (a, b) => Math.min(a, b), bool: (a, b) => a & b },
  [Op.Atan2]: { float: Math.atan2 },
  [Op.Zeta]: { float: zeta },
  [Op.Polygamma]: { float: polygamma },
  [Op.And]: { int: (a, b) => a & b, bool: (a, b) => a & b },
  [Op.Or]: { int: (a, b) => a | b, bool: (a, b) => a | b },
  [Op.Xor]: { int: (a, b) => a ^ b, bool: (a, b) => a ^ b },
  // Shift amounts are read as unsigned; at or past the bit width the bits are all shifted out.
  [Op.ShiftLeft]: { int: (a, b) => (b >>> 0 >= 32 ? 0 : a << b) },
  [Op.ShiftRightArithmetic]: { int: (a, b) => ((a | 0) >> Math.min(b >>> 0, 31)) },
  [Op.ShiftRightLogical]: { int: (a, b) => (b >>> 0 >= 32 ? 0 : a >>> b) },
  [Op.NextAfter]: { float: (a, b) => nextAfter(a, b, false), f16: (a, b) => nextAfter(a, b, true) },
};

// ---- applying rules to tensors ---------------------------------------------------------------

/** Thrown by the loops below when a rule has no case for the element type; the caller adds the op and location. */
export class NoRuleError extends Error {}

/** Maps a computed number to the value an element of dtype `d` holds (rounding, wrapping). */
export function normalizer(d: NarrowDType): (x: number) => number {
  switch (d) {
    case 'f32': return Math.fround;
    case 'f16': return roundF16;
    case 'bf16': return roundBf16;
    case 'i32': return (x) => x | 0;
    case 'ui32': return (x) => x >>> 0;
    case 'i1': return (x) => (x ? 1 : 0);
    default: return d satisfies never;
  }
}

/** The scalar function a rule gives for an operand type, or undefined when the type is not allowed. */
export function pickRule<F extends (...a: never[]) => number>(
  rule: ScalarRule<F>, d: SupportedDType, arity: 1 | 2,
): ((...a: number[]) => number) | undefined {
  type Fn = (...a: number[]) => number;
  if (isInt64(d)) return undefined; // 64-bit rules are bigint ones (int64.ts)
  if (d === 'f32' || d === 'f16') return ((d === 'f16' && rule.f16) || rule.float) as Fn | undefined;
  if (d === 'i1') return rule.bool as Fn | undefined;
  const int = rule.int as ((...a: unknown[]) => number) | undefined;
  if (!int) return undefined;
  const unsigned = d === 'ui32';
  return arity === 1 ? (x) => int(x, unsigned) : (a, b) => int(a, b, unsigned);
}

/** Stores `f(i)` into a new array of dtype `d`, rounding to f16 where needed. */
function fill(d: NarrowDType, n: number, f: (i: number) => number): NarrowArray {
  const out = allocNarrow(d, n);
  if (d === 'f16') for (let i = 0; i < n; i++) out[i] = roundF16(f(i));
  else for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** A 64-bit tensor, narrowed by its dtype. */
function isWide(x: HostTensor): x is HostTensor & { dtype: 'i64' | 'ui64'; data: Int64Array } {
  return isInt64(x.dtype);
}

export function applyUnary(op: UnaryOp, x: HostTensor, resultDType: SupportedDType): HostTensor {
  if (isWide(x)) {
    const f64 = unary64(op);
    if (!f64) throw new NoRuleError(`${op} is not implemented on ${x.dtype}`);
    return applyUnary64(f64, x);
  }
  const f = pickRule(UNARY[op], x.dtype, 1);
  // Complex values go through complex.ts (rules.ts dispatches); none should reach here.
  if (!f || isInt64(resultDType) || resultDType === 'c64' || isSmallInt(resultDType)) throw new NoRuleError(`${op} is not defined on ${x.dtype}`);
  const a = x.data as NarrowArray;
  return { dtype: resultDType, shape: [...x.shape], data: fill(resultDType, a.length, (i) => f(a[i])) };
}

export function applyBinary(op: BinaryOp, x: HostTensor, y: HostTensor): HostTensor {
  if (isWide(x)) {
    const f64 = binary64(op);
    if (!f64) throw new NoRuleError(`${op} is not implemented on ${x.dtype}`);
    return applyBinary64(f64, x, y);
  }
  const f = pickRule(BINARY[op], x.dtype, 2);
  if (!f) throw new NoRuleError(`${op} is not defined on ${x.dtype}`);
  const a = x.data as NarrowArray;
  const b = y.data as NarrowArray;
  return { dtype: x.dtype, shape: [...x.shape], data: fill(x.dtype as NarrowDType, a.length, (i) => f(a[i], b[i])) };
}

// ---- compare ---------------------------------------------------------------------------------

export function applyCompare(dir: ComparisonDirection, type: ComparisonType | undefined, x: HostTensor, y: HostTensor): HostTensor {
  const t = type ?? defaultCompareType(x.dtype);
  if (isWide(x)) {
    const [a, b] = [x.data, y.data as Int64Array];
    return { dtype: 'i1', shape: [...x.shape], data: fill('i1', a.length, (i) => compare64(dir, t, a[i], b[i])) };
  }
  const a = x.data as NarrowArray;
  const b = y.data as NarrowArray;
  return { dtype: 'i1', shape: [...x.shape], data: fill('i1', a.length, (i) => compareScalar(dir, t, a[i], b[i])) };
}

// ---- conversions -----------------------------------------------------------------------------

/**
 * `stablehlo.convert` of one value. Float to integer truncates toward zero and saturates, NaN
 * giving 0 (XLA's behaviour); anything to i1 is `!= 0`; i1 to anything is 0 or 1; integer to
 * float rounds to nearest when stored.
 */
export function convertScalar(x: number, from: SupportedDType, to: SupportedDType): number {
  if (to === 'i1') return x !== 0 ? 1 : 0;
  if (isFloat(from) && (to === 'i32' || to === 'ui32')) {
    if (Number.isNaN(x)) return 0;
    const t = Math.trunc(x);
    return to === 'i32'
      ? Math.min(Math.max(t, INT32_MIN), 2147483647)
      : Math.min(Math.max(t, 0), 0xffffffff);
  }
  return x; // int <-> int wraps on store; float widths round on store
}

export function applyConvert(x: HostTensor, to: SupportedDType): HostTensor {
  if (isInt64(x.dtype) || isInt64(to)) return applyConvert64(x, to);
  if (to === 'c64' || x.dtype === 'c64') throw new NoRuleError('internal: a complex convert reached the real rule (see complex.ts)');
  if (isSmallInt(to)) throw new NoRuleError(`internal: a convert to ${to} reached the interpreter (compiler/passes/smallint.ts computes it as i32/ui32)`);
  const a = x.data as NarrowArray;
  const from = x.dtype;
  return { dtype: to, shape: [...x.shape], data: fill(to, a.length, (i) => convertScalar(a[i], from, to)) };
}

/**
 * `stablehlo.bitcast_convert` between types of the same width: the bytes are reinterpreted
 * through a shared buffer. Returns undefined for widths kiln cannot reinterpret (f16 <-> 32-bit).
 */
export function applyBitcast(x: HostTensor, to: SupportedDType, shape: readonly number[]): HostTensor | undefined {
  const width = (d: SupportedDType) => (d === 'f16' ? 16 : d === 'i1' ? 1 : isInt64(d) ? 64 : 32);
  const [from, into] = [width(x.dtype), width(to)];
  // Same width, or 32 <-> 64 bits (a trailing dimension of 2 words, low word first: the host's
  // little-endian bytes reinterpreted, as StableHLO specifies it).
  if (from !== into && !(from + into === 96)) return undefined;
  if (x.dtype === 'f16' || x.dtype === 'i1') return { dtype: to, shape: [...shape], data: x.data.slice() };
  const bytes = x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.byteLength);
  const n = bytes.byteLength / (into / 8);
  const data = to === 'f32' ? new Float32Array(bytes, 0, n) : to === 'i32' ? new Int32Array(bytes, 0, n)
    : to === 'ui32' ? new Uint32Array(bytes, 0, n) : to === 'i64' ? new BigInt64Array(bytes, 0, n) : new BigUint64Array(bytes, 0, n);
  return { dtype: to, shape: [...shape], data };
}

export function applyReducePrecision(x: HostTensor, expBits: number, mantBits: number): HostTensor {
  // On f16 the format's own widths bound the reduction: a no-op past 5 exponent / 10 mantissa bits.
  const e = x.dtype === 'f16' && expBits >= 5 ? 8 : expBits;
  const m = x.dtype === 'f16' && mantBits >= 10 ? 23 : mantBits;
  const a = x.data as NarrowArray;
  return { dtype: x.dtype, shape: [...x.shape], data: fill(x.dtype as NarrowDType, a.length, (i) => reducePrecisionF32(a[i], e, m)) };
}

// ---- select and clamp ------------------------------------------------------------------------

/** `select(pred, on_true, on_false)`; `pred` is a scalar or has the operands' shape. */
export function applySelect(pred: HostTensor, t: HostTensor, f: HostTensor): HostTensor {
  const p = pred.data;
  const a = t.data;
  const b = f.data;
  // Typed as bigint-or-number elements alike: select copies elements, whatever they are.
  const out = allocHost(t.dtype, a.length) as Float32Array;
  if (p.length === 1 && a.length !== 1) out.set((p[0] ? a : b) as Float32Array);
  else for (let i = 0; i < a.length; i++) out[i] = (p[i] ? a[i] : b[i]) as number;
  return { dtype: t.dtype, shape: [...t.shape], data: out };
}

/** `clamp(min, x, max)` = min(max(x, min), max), NaN-propagating; `min`/`max` may be scalars. */
export function applyClamp(lo: HostTensor, x: HostTensor, hi: HostTensor): HostTensor {
  const ls = lo.data.length === 1 ? 0 : 1;
  const hs = hi.data.length === 1 ? 0 : 1;
  if (isWide(x)) {
    const [a, l, h] = [x.data, lo.data as Int64Array, hi.data as Int64Array];
    const out = allocHost(x.dtype, a.length) as Int64Array;
    for (let i = 0; i < a.length; i++) {
      const v = a[i] < l[i * ls] ? l[i * ls] : a[i];
      out[i] = v > h[i * hs] ? h[i * hs] : v;
    }
    return { dtype: x.dtype, shape: [...x.shape], data: out };
  }
  const a = x.data as NarrowArray;
  const l = lo.data as NarrowArray;
  const h = hi.data as NarrowArray;
  const out = allocNarrow(x.dtype as NarrowDType, a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.min(Math.max(a[i], l[i * ls]), h[i * hs]);
  return { dtype: x.dtype, shape: [...x.shape], data: out };
}
