/**
 * @file Complex numbers in kiln's NumPy: `np.complex64` Arrays (the one complex type: JAX without
 * x64 has no complex128), `np.real`, `np.imag`, `np.conj`/`np.conjugate`, and the helpers the
 * other files use to convert to complex. `np.abs` of a complex Array is its f32 modulus and
 * `np.angle` its f32 argument (elementwise.ts and math.ts).
 *
 * JS has no complex numbers, so complex values enter and leave as interleaved (re, im) pairs of
 * f32, numpy's memory layout: `np.array(Float32Array.of(re0, im0, re1, im1), {dtype: 'complex64'})`
 * is the two-element Array [re0 + im0·i, re1 + im1·i], and its `data()` is that Float32Array
 * again. Within JAX programs, `lax.complex(re, im)` builds one from two real Arrays, and a JS
 * number combined with a complex Array is a weak real that promotes to complex64.
 */
import { isComplex, type SupportedDType } from '../../ir/dtype.js';
import { A, defapi, p, X, type ArrayInput } from '../args.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, type Operand } from './promote.js';

export { isComplex };

/** NumPy's name of kiln's complex type, usable wherever a dtype is taken (`np.zeros([2], np.complex64)`). */
export const complex64 = 'complex64';

/** `x` as complex64: reals and integers are converted (imaginary part 0); c64 is returned as is. */
export function toComplex(x: KArray): KArray {
  return isComplex(x.dtype) ? x : lax.convert(x, 'c64', x.weak);
}

/** The real part of a complex Array, or a real Array itself (`jnp.real`). */
export const real = defapi('np.real', [p('val', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  return isComplex(a.dtype) ? lax.real(a) : a;
}) as (val: ArrayInput) => KArray;

/** The imaginary part of a complex Array; zeros of the same dtype for a real Array (`jnp.imag`). */
export const imag = defapi('np.imag', [p('val', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  return isComplex(a.dtype) ? lax.imag(a) : lax.withWeak(lax.constant(a.dtype, a.shape, 0), a.weak);
}) as (val: ArrayInput) => KArray;

/** The complex conjugate (`re - im·i`); a real Array is returned as is (`jnp.conjugate`). */
export const conjugate = defapi('np.conjugate', X, (x: Operand): KArray => {
  const a = asArray(x);
  return isComplex(a.dtype) ? lax.conj(a) : a;
}) as (x: ArrayInput) => KArray;
/** Alias of {@link conjugate}. */
export const conj = conjugate;

/** True when `x` is a complex Array (`jnp.iscomplexobj`): a property of the dtype, not of the values. */
export function iscomplexobj(x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'dtype' in x && isComplex((x as KArray).dtype);
}
/** True when `x` is not complex (`jnp.isrealobj`). */
export function isrealobj(x: unknown): boolean {
  return !iscomplexobj(x);
}

/**
 * Refuses a complex Array where a function is only defined on reals (orderings, rounding, ...),
 * naming the function, the value and why.
 */
export function refuseComplex(fn: string, x: KArray, why = 'complex numbers are not ordered'): KArray {
  if (isComplex(x.dtype)) throw traceError(`${fn} is not defined for ${x.describe()}: ${why}`);
  return x;
}

/** The real dtype of a complex64 Array's parts (`f32`), or `d` itself. */
export function partDType(d: SupportedDType): SupportedDType {
  return isComplex(d) ? 'f32' : d;
}
