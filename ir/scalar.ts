/**
 * @file Scalar semantics that both the constant folder (`compiler/passes/scalar.ts`) and the
 * reference interpreter (`runtime/reference/elementwise.ts`) need, kept here once because
 * `compiler/` may import only `ir/`: rounding to an integral value, population count, and
 * `compare` on one pair of elements with the comparison type JAX leaves implicit.
 * Semantics: https://openxla.org/stablehlo/spec#elementwise-operations
 */
import { f32Bits, isFloat, type SupportedDType } from './dtype.js';
import type { ComparisonDirection, ComparisonType } from './ops.js';

/** The smallest i32, whose negation (and division by -1) wraps to itself. */
export const INT32_MIN = -0x80000000;

/** Round half to even, the IEEE default rounding to an integral value (`round_nearest_even`); keeps -0. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}

/** Round half away from zero (`round_nearest_afz`); keeps the sign of zero. */
export function roundHalfAway(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.floor(Math.abs(x) + 0.5); // exact: f32 inputs leave room in f64
  return x < 0 || Object.is(x, -0) ? -r : r;
}

/** The number of set bits in the 32-bit pattern of `x` (`popcnt`). */
export function popcount(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v) { v &= v - 1; n++; }
  return n;
}

/** The comparison type JAX omits is implied by the element type: FLOAT, SIGNED (i32, i64) or UNSIGNED. */
export function defaultCompareType(d: SupportedDType): ComparisonType {
  if (isFloat(d)) return 'FLOAT';
  return d === 'i32' || d === 'i64' ? 'SIGNED' : 'UNSIGNED';
}

/**
 * A key whose unsigned order is IEEE totalOrder on f32 (f16 values widen exactly, so the order
 * holds for them too): -NaN < -Inf < ... < -0 < +0 < ... < +Inf < NaN.
 */
export function totalOrderKey(x: number): number {
  const b = f32Bits(x);
  return b >= 0x80000000 ? ~b >>> 0 : b + 0x80000000;
}

/** `stablehlo.compare` on two scalars: 1 or 0. https://openxla.org/stablehlo/spec#compare */
export function compareScalar(dir: ComparisonDirection, type: ComparisonType, a: number, b: number): number {
  if (type === 'TOTALORDER') { a = totalOrderKey(a); b = totalOrderKey(b); }
  else if (type === 'SIGNED') { a |= 0; b |= 0; }
  else if (type === 'UNSIGNED') { a >>>= 0; b >>>= 0; }
  // JavaScript comparisons are IEEE's: every ordered comparison with NaN is false, NE is true.
  return compareBy(dir, a, b);
}

/** `a dir b` for values already mapped to the comparison's order (numbers, or 64-bit bigints): 1 or 0. */
export function compareBy<T extends number | bigint>(dir: ComparisonDirection, a: T, b: T): number {
  switch (dir) {
    case 'EQ': return Number(a === b);
    case 'NE': return Number(a !== b);
    case 'LT': return Number(a < b);
    case 'LE': return Number(a <= b);
    case 'GT': return Number(a > b);
    case 'GE': return Number(a >= b);
    default: return dir satisfies never;
  }
}
