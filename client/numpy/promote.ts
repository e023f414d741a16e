/**
 * @file NumPy's broadcasting and JAX's type promotion, over kiln's dtypes, plus the argument
 * checks (axes, shapes) every op shares.
 *
 * Promotion: bool < integers < floats < complex. Two strong dtypes give the larger kind (i32 with
 * ui32 gives i32: JAX gives int64 there and canonicalizes it to int32 without x64; f16 with f32
 * gives f32; anything with c64 gives c64, the one complex type kiln has, as JAX without x64).
 * Weak types (JS numbers, and results computed only from them) never widen a strong dtype of the
 * same or a higher kind: `f16_array * 2.5` stays f16, `i32_array + 1` stays i32, but
 * `i32_array * 0.5` is f32 (weak); `c64_array * 2` stays c64. This is JAX's lattice restricted to
 * c64 f32 f16 i32 ui32 i1. JS has no complex numbers, so a weak complex comes only from Arrays.
 *
 * JS has one number type, so a JS number's dtype never depends on its value alone: on its own it
 * is a weak f32 (`np.add(1, 2)` is f32; JAX would give a weak int32 for Python ints). Combined with
 * an integer or boolean Array, an integral number (in i32's range) acts like a Python int and
 * keeps the integer dtype (`np.add(i32Array, 1)` is i32, `np.add(boolArray, 1)` weak i32), as
 * JAX's weak int does. Eager ops trace such numbers as literal tracers (`KArray._literal`, see
 * `literalAval` in client/trace.ts) that this file treats exactly like the numbers.
 */
import { bitWidth, isBool, isComplex, isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { KArray } from '../array.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { isIntLiteral } from '../trace.js';

/** An array or a JS number (a weakly typed scalar). */
export type Operand = KArray | number;

/** A JS number, or the literal tracer an eager op made of a JS integer. */
export function isNumberLike(x: Operand): boolean {
  return typeof x === 'number' || x._literal;
}

/** 0 bool, 1 integer, 2 float, 3 complex. */
function kind(d: SupportedDType): number {
  return isBool(d) ? 0 : isComplex(d) ? 3 : isFloat(d) ? 2 : 1;
}

function joinStrong(a: SupportedDType, b: SupportedDType): SupportedDType {
  if (a === b) return a;
  const ka = kind(a), kb = kind(b);
  if (ka !== kb) return ka > kb ? a : b;
  if (ka === 3) return 'c64';
  if (ka === 2) return 'f32';
  return joinInts(a, b);
}

/**
 * JAX's integer lattice without x64: the wider of two signed or two unsigned types; a signed type
 * wider than the unsigned one wins, else the signed type twice the unsigned width (ui8 with i8 is
 * i16, ui16 with i16 is i32), capped at i32 (ui32 with any signed type is i64 in JAX, i32 here).
 */
function joinInts(a: SupportedDType, b: SupportedDType): SupportedDType {
  const w = (d: SupportedDType) => bitWidth(d);
  if (isUnsigned(a) === isUnsigned(b)) return w(a) >= w(b) ? a : b;
  const [s, u] = isUnsigned(a) ? [b, a] : [a, b];
  if (w(s) > w(u)) return s;
  return w(u) === 8 ? 'i16' : 'i32';
}

/** The dtype and weak flag of combining these operands. */
export function resultType(...xs: readonly Operand[]): { dtype: SupportedDType; weak: boolean } {
  let strong: SupportedDType | undefined;
  let weakKind = -1;
  const intContext = xs.some((x) => !isNumberLike(x) && kind((x as KArray).dtype) < 2);
  for (const x of xs) {
    if (typeof x === 'number') weakKind = Math.max(weakKind, intContext && isIntLiteral(x) ? 1 : 2);
    else if (x._literal) weakKind = Math.max(weakKind, intContext ? 1 : 2);
    else if (x.weak) weakKind = Math.max(weakKind, kind(x.dtype));
    else strong = strong ? joinStrong(strong, x.dtype) : x.dtype;
  }
  if (strong && kind(strong) >= weakKind) return { dtype: strong, weak: false };
  if (weakKind < 0) return { dtype: 'f32', weak: false };
  return { dtype: weakKind === 3 ? 'c64' : weakKind === 2 ? 'f32' : weakKind === 1 ? 'i32' : 'i1', weak: true };
}

/** The shape NumPy broadcasting gives these shapes, or a trace error naming them. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const outShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) {
        throw traceError(`shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} cannot be broadcast together (dimension ${i} of the result: ${d} vs ${e})`);
      }
      d = e;
    }
    outShape.push(d);
  }
  return outShape;
}

/** `x` broadcast to `shape` by NumPy's rules (trailing dimensions aligned). */
export function broadcastTo(x: KArray, shape: readonly number[]): KArray {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const off = shape.length - x.shape.length;
  if (off < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[off + i])) {
    throw traceError(`cannot broadcast shape [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
  }
  return lax.broadcastInDim(x, shape, x.shape.map((_, i) => off + i));
}

/** An operand as an Array of `dtype` (a number becomes a splat constant; arrays are converted). */
export function cast(x: Operand, dtype: SupportedDType, weak = false, shape: readonly number[] = []): KArray {
  if (typeof x === 'number') return lax.withWeak(lax.constant(dtype, shape, x), weak);
  return lax.convert(x, dtype, weak);
}

/**
 * The operands promoted to one dtype and broadcast to one shape. `dtype` forces the dtype (the
 * weak flag is still computed).
 */
export function prepare(xs: readonly Operand[], dtype?: SupportedDType): { args: KArray[]; dtype: SupportedDType; weak: boolean; shape: number[] } {
  const rt = resultType(...xs);
  const d = dtype ?? rt.dtype;
  const shape = broadcastShapes(...xs.map((x) => (typeof x === 'number' ? [] : x.shape)));
  const args = xs.map((x) => broadcastTo(cast(x, d, rt.weak, typeof x === 'number' ? shape : []), shape));
  return { args, dtype: d, weak: rt.weak, shape };
}

/** An operand as an Array (numbers, and literal tracers, become weak f32 scalars). */
export function asArray(x: Operand): KArray {
  return isNumberLike(x) ? cast(x, 'f32', true) : (x as KArray);
}

/**
 * The smallest inexact type holding `d` (ints and bools become f32; floats and c64 stay), as
 * NumPy's true division and JAX's `promote_args_inexact` do.
 */
export function floatOf(d: SupportedDType): SupportedDType {
  return isFloat(d) || isComplex(d) ? d : 'f32';
}

/** A normalized axis in [0, rank), refusing out-of-range ones. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const valid = rank === 0 ? 'an array of rank 0 has no axes' : `valid axes are ${-rank} to ${rank - 1}`;
    throw traceError(`${what} ${axis} is out of bounds for an array of rank ${rank} (${valid})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalized, sorted, distinct axes; `null`/`undefined` means all. */
export function normAxes(axis: number | readonly number[] | null | undefined, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = list.map((a) => normAxis(a, rank));
  if (new Set(out).size !== out.length) throw traceError(`repeated axis in [${list.join(', ')}]`);
  return out.sort((a, b) => a - b);
}

/** Checks that `shape` is a list of non-negative integers. */
export function checkShape(shape: readonly number[], what = 'shape'): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw traceError(`${what} must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}
