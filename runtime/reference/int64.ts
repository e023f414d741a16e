/**
 * @file Reference semantics of i64 and ui64 elements, computed exactly on bigints: the ops in
 * `Int64Ops` (ir/ops.ts) that compute (data movement copies bigints like any other element).
 * Results wrap to 64 bits as two's complement hardware does. This is the oracle the WGSL
 * two-word emulation (compiler/codegen/int64.ts) is tested against, so it is written from the
 * spec (https://openxla.org/stablehlo/spec), not from that emulation.
 */
import { allocHost, isFloat, isInt64, roundF16, type Int64Array, type Int64DType, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection, type ComparisonType } from '../../ir/ops.js';
import { compareBy } from '../../ir/scalar.js';
import type { HostTensor } from '../tensor.js';

/** Wraps an exact integer to the 64-bit type `d` (two's complement for i64). */
export function wrap64(v: bigint, d: Int64DType): bigint {
  return d === 'i64' ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
}

/** Unary ops on 64-bit integers; `d` says signed or unsigned. */
const UNARY64: Partial<Record<Op, (x: bigint, d: Int64DType) => bigint>> = {
  // abs(INT64_MIN) wraps to INT64_MIN, as in two's complement hardware (and XLA).
  [Op.Abs]: (x, d) => (d === 'i64' && x < 0n ? -x : x),
  [Op.Negate]: (x) => -x,
  [Op.Sign]: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n),
  [Op.Not]: (x) => ~x,
};

/**
 * Binary ops on 64-bit integers. Shift amounts are read as unsigned 64-bit values: at 64 or more
 * every bit is shifted out (the arithmetic shift leaves copies of the sign bit), per the spec's
 * shift_left / shift_right_* definitions.
 */
const BINARY64: Partial<Record<Op, (a: bigint, b: bigint, d: Int64DType) => bigint>> = {
  [Op.Add]: (a, b) => a + b,
  [Op.Subtract]: (a, b) => a - b,
  [Op.Multiply]: (a, b) => a * b,
  [Op.Maximum]: (a, b) => (a > b ? a : b),
  [Op.Minimum]: (a, b) => (a < b ? a : b),
  [Op.And]: (a, b) => a & b,
  [Op.Or]: (a, b) => a | b,
  [Op.Xor]: (a, b) => a ^ b,
  [Op.ShiftLeft]: (a, b) => {
    const s = BigInt.asUintN(64, b);
    return s >= 64n ? 0n : a << s;
  },
  [Op.ShiftRightLogical]: (a, b) => {
    const s = BigInt.asUintN(64, b);
    return s >= 64n ? 0n : BigInt.asUintN(64, a) >> s;
  },
  [Op.ShiftRightArithmetic]: (a, b) => {
    const s = BigInt.asUintN(64, b);
    return BigInt.asIntN(64, a) >> (s >= 64n ? 63n : s);
  },
};

/** The 64-bit rule of `op`, or undefined when kiln has none (the caller refuses the op). */
export function unary64(op: Op): ((x: bigint, d: Int64DType) => bigint) | undefined {
  return UNARY64[op];
}
/** See {@link unary64}. */
export function binary64(op: Op): ((a: bigint, b: bigint, d: Int64DType) => bigint) | undefined {
  return BINARY64[op];
}

function fill64(d: Int64DType, n: number, f: (i: number) => bigint): Int64Array {
  const out = allocHost(d, n) as Int64Array;
  for (let i = 0; i < n; i++) out[i] = wrap64(f(i), d);
  return out;
}

/** Applies a unary 64-bit rule element by element. */
export function applyUnary64(f: (x: bigint, d: Int64DType) => bigint, x: HostTensor & { dtype: Int64DType }): HostTensor {
  const a = x.data as Int64Array;
  return { dtype: x.dtype, shape: [...x.shape], data: fill64(x.dtype, a.length, (i) => f(a[i], x.dtype)) };
}

/** Applies a binary 64-bit rule element by element (operands of one dtype and shape). */
export function applyBinary64(
  f: (a: bigint, b: bigint, d: Int64DType) => bigint, x: HostTensor & { dtype: Int64DType }, y: HostTensor,
): HostTensor {
  const a = x.data as Int64Array;
  const b = y.data as Int64Array;
  return { dtype: x.dtype, shape: [...x.shape], data: fill64(x.dtype, a.length, (i) => f(a[i], b[i], x.dtype)) };
}

/** `compare` of two 64-bit values under SIGNED or UNSIGNED (the others are float types). */
export function compare64(dir: ComparisonDirection, type: ComparisonType, a: bigint, b: bigint): number {
  if (type === 'SIGNED') { a = BigInt.asIntN(64, a); b = BigInt.asIntN(64, b); }
  else { a = BigInt.asUintN(64, a); b = BigInt.asUintN(64, b); }
  return compareBy(dir, a, b);
}

/**
 * Rounds an exact integer to the nearest value with `p` significant bits, ties to even: what an
 * IEEE conversion to a float with a `p`-bit significand does (f32: 24, f16: 11). Going through
 * `Number(v)` first would round twice (to 53 bits, then to 24) and can be off by one ulp.
 */
export function roundToSignificand(v: bigint, p: number): number {
  const neg = v < 0n;
  let m = neg ? -v : v;
  const len = m.toString(2).length;
  if (len <= p) return neg ? -Number(m) : Number(m);
  const shift = BigInt(len - p);
  const rest = m & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  m >>= shift;
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  const r = Number(m) * 2 ** Number(shift); // exact: m has at most p + 1 bits
  return neg ? -r : r;
}

const [I64_MIN, I64_MAX, U64_MAX] = [-(1n << 63n), (1n << 63n) - 1n, (1n << 64n) - 1n];

/**
 * `convert` where either side is 64-bit. Integer to integer keeps the low bits (truncation, sign
 * or zero extension by the source's signedness); to i1 is `!= 0`; integer to float rounds to
 * nearest even once; float to integer truncates toward zero and saturates, NaN giving 0 (what
 * kiln's 32-bit conversions do, and XLA on CPU).
 */
export function convert64(x: number | bigint, from: SupportedDType, to: SupportedDType): number | bigint {
  if (typeof x === 'bigint') {
    if (isInt64(to)) return wrap64(x, to);
    if (to === 'i1') return x !== 0n ? 1 : 0;
    if (to === 'i32') return Number(BigInt.asIntN(32, x));
    if (to === 'ui32') return Number(BigInt.asUintN(32, x));
    if (to === 'f16') return roundF16(roundToSignificand(x, 11));
    return Math.fround(roundToSignificand(x, 24));
  }
  if (!isInt64(to)) throw new Error(`convert64: ${from} -> ${to} is not a 64-bit conversion`);
  if (isFloat(from)) {
    if (Number.isNaN(x)) return 0n;
    if (x === Infinity) return to === 'i64' ? I64_MAX : U64_MAX;
    if (x === -Infinity) return to === 'i64' ? I64_MIN : 0n;
    const t = BigInt(Math.trunc(x)); // exact: every f32 value of this size is an integer
    const [lo, hi] = to === 'i64' ? [I64_MIN, I64_MAX] : [0n, U64_MAX];
    return t < lo ? lo : t > hi ? hi : t;
  }
  // i1, i32 and ui32 are held as their values: sign or zero extension is the value itself.
  return wrap64(BigInt(x), to);
}

/** `convert` of a whole tensor where the source or the result is 64-bit. */
export function applyConvert64(x: HostTensor, to: SupportedDType): HostTensor {
  const n = x.data.length;
  const out = allocHost(to, n);
  const a = x.data;
  for (let i = 0; i < n; i++) (out as unknown as (number | bigint)[])[i] = convert64(a[i], x.dtype, to);
  return { dtype: to, shape: [...x.shape], data: out };
}
