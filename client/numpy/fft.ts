/**
 * @file `np.fft`: jax.numpy.fft's functions with its signatures (`n`/`s`, `axis`/`axes`, `norm`)
 * and its lowering, op for op (jax/_src/numpy/fft.py `_fft_core`): the transformed axes are moved
 * last with one transpose (StableHLO's `fft` transforms the innermost 1-3 dimensions), cropped with
 * a slice and zero-padded with a pad where `n`/`s` asks for another length, transformed by one
 * `stablehlo.fft` (FFT, IFFT, RFFT or IRFFT), scaled for `norm`, and moved back.
 *
 * FFT and IFFT take any input as complex64 (reals converted), RFFT takes real input (complex is
 * refused, as `lax.fft` refuses it), IRFFT gives f32. Norms: 'backward' (the default: the inverse
 * transforms divide by n, as IFFT and IRFFT do themselves, so nothing more is emitted), 'ortho'
 * (both by sqrt(n)), 'forward' (the forward ones divide by n). The frequency helpers and the shifts are real-valued
 * and work on any dtype.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import { A, defapi, hostArray, p, type ArrayInput, type Axes, type Check } from '../args.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, cast, floatOf, normAxis, type Operand } from './promote.js';
import { isComplex, toComplex } from './complex.js';
import { rollStatic } from './roll.js';

/** JAX's normalization modes (`null` is 'backward'). */
export type FftNorm = 'backward' | 'ortho' | 'forward';
/** `stablehlo.fft`'s transform types. */
export type FftType = 'FFT' | 'IFFT' | 'RFFT' | 'IRFFT';

/** Options of the one-axis transforms (`np.fft.fft(a, n?, axis?, norm?)`). */
export interface Fft1Options { n?: number | null; axis?: number; norm?: FftNorm | null }
/** Options of the n-axis transforms (`np.fft.fftn(a, s?, axes?, norm?)`). */
export interface FftNOptions { s?: readonly number[] | null; axes?: readonly number[] | null; norm?: FftNorm | null }
/** A one-axis transform. */
export type Fft1 = (a: ArrayInput, n?: number | null | Fft1Options, axis?: number | Fft1Options, norm?: FftNorm | null | Fft1Options, opts?: Fft1Options) => KArray;
/** An n-axis transform. */
export type FftN = (a: ArrayInput, s?: readonly number[] | null | FftNOptions, axes?: readonly number[] | null | FftNOptions, norm?: FftNorm | null | FftNOptions, opts?: FftNOptions) => KArray;

const positive: Check<number> = {
  accepts: 'a positive integer',
  parse(v, param) {
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    throw traceError(`${param} must be a positive integer (a transform length), got ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
  },
};
const lengths: Check<number[]> = {
  accepts: 'a list of positive integers',
  parse(v, param) {
    if (Array.isArray(v) && v.every((d) => Number.isInteger(d) && d > 0)) return [...v] as number[];
    throw traceError(`${param} must be a list of positive integers (the transform lengths), got ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
  },
};
/** One axis: a list is refused as JAX refuses it ("does not support multiple axes"). */
const oneAxis = (fn: string): Check<number> => ({
  accepts: 'an integer axis',
  parse(v, param) {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (Array.isArray(v)) throw traceError(`${param}: ${fn} does not support multiple axes; use ${fn}n (got ${param} [${v.join(', ')}])`);
    throw traceError(`${param} must be an integer axis, got ${String(v)}`);
  },
});
const NORM = p('norm', A.orNull(A.oneOf<FftNorm>('backward', 'ortho', 'forward')), null);

/** The scale JAX's `_fft_norm` multiplies by, rounded to f32 as JAX computes it; 1 emits nothing. */
function normScale(s: readonly number[], inverse: boolean, norm: FftNorm | null): number {
  const n = s.reduce((a, b) => a * b, 1);
  if (norm === null || norm === 'backward') return 1;
  if (norm === 'ortho') {
    const r = Math.fround(Math.sqrt(n));
    return inverse ? r : Math.fround(1 / r);
  }
  return inverse ? n : Math.fround(1 / n);
}

/** The permutation moving `axes` (normalized) to the last positions, in their order. */
function toBack(rank: number, axes: readonly number[]): number[] {
  return [...Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i)), ...axes];
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/**
 * JAX's `_fft_core`: `fn` names the public function (its leading 'i' marks an inverse for `norm`),
 * `s` the transform lengths (null: the input's), `axes` the transformed axes (null: the last
 * `s.length`, or all).
 */
function fftCore(fn: string, type: FftType, x: Operand, s: readonly number[] | null, axes: readonly number[] | null, norm: FftNorm | null): KArray {
  let a = asArray(x);
  if (type === 'RFFT' && isComplex(a.dtype)) throw traceError(`${fn} takes real input (as lax.fft's RFFT, which supports only real valued inputs), got a complex64 Array (${a.describe()})`);
  if (s !== null && axes !== null && s.length !== axes.length) {
    throw traceError(`s has ${s.length} lengths but axes has ${axes.length} axes ([${s.join(', ')}] and [${axes.join(', ')}]): shape and axes have different lengths`);
  }
  const k = axes?.length ?? s?.length ?? a.ndim;
  if (k > a.ndim) throw traceError(`${fn} transforms ${k} axes, but the input ${a.describe()} has rank ${a.ndim}`);
  const ax = axes === null ? Array.from({ length: k }, (_, i) => a.ndim - k + i) : axes.map((v) => normAxis(v, a.ndim));
  if (new Set(ax).size !== ax.length) throw traceError(`${fn} does not support repeated axes, got axes [${axes!.join(', ')}]`);
  if (k > 3) throw traceError(`${fn} transforms at most 3 axes (StableHLO's fft, like XLA's, is 1-D to 3-D); got ${axes === null ? `all ${k} axes of ${a.describe()}` : `axes [${axes.join(', ')}]`}`);
  if (k === 0) throw traceError(`${fn} needs at least one axis to transform, got ${a.describe()}`);
  const perm = toBack(a.ndim, ax);
  if (axes !== null) a = lax.transpose(a, perm);
  const last = Array.from({ length: k }, (_, i) => a.ndim - k + i);
  let len: number[];
  if (s !== null) {
    const want = [...a.shape];
    last.forEach((d, i) => { want[d] = s[i]; });
    if (type === 'IRFFT') want[a.ndim - 1] = Math.floor(want[a.ndim - 1] / 2) + 1;
    // Crop, then zero-pad, as JAX does (the pad only where a length grows).
    a = lax.slice(a, a.shape.map(() => 0), a.shape.map((d, i) => Math.min(d, want[i])));
    if (want.some((d, i) => d > a.shape[i])) {
      a = lax.pad(a, cast(0, a.dtype), a.shape.map(() => 0), a.shape.map((d, i) => want[i] - d));
    }
    len = [...s];
  } else {
    len = last.map((d) => a.shape[d]);
    if (type === 'IRFFT') len[k - 1] = 2 * (a.shape[a.ndim - 1] - 1);
  }
  if (len.some((d) => d <= 0)) throw traceError(`${fn}: the transform lengths [${len.join(', ')}] must be positive (irfft of a length-1 axis needs n)`);
  // lax.fft's conversions: RFFT takes a float, the others complex64.
  a = type === 'RFFT' ? cast(a, floatOf(a.dtype), a.weak) : toComplex(a);
  let r = lax.fft(a, type, len);
  const scale = normScale(len, fn.replace(/^np\.fft\./, '').startsWith('i'), norm);
  if (scale !== 1) r = lax.binary(Op.Multiply, r, cast(scale, r.dtype, false, r.shape));
  return axes !== null ? lax.transpose(r, inverse(perm)) : r;
}

/** `jnp.conj`: the conjugate of a complex Array, a real one as it is. */
function conjIfComplex(a: KArray): KArray {
  return isComplex(a.dtype) ? lax.conj(a) : a;
}

// ---- the transforms ---------------------------------------------------------------------------

function oneAxisFn(name: string, type: FftType): Fft1 {
  const fn = `np.fft.${name}`;
  return defapi(fn, [p('a', A.array), p('n', A.orNull(positive), null), p('axis', oneAxis(fn), -1), NORM],
    (a: Operand, n: number | null, axis: number, norm: FftNorm | null) => fftCore(fn, type, a, n === null ? null : [n], [axis], norm)) as Fft1;
}
function nAxesFn(name: string, type: FftType, defaultAxes: readonly number[] | null): FftN {
  const fn = `np.fft.${name}`;
  return defapi(fn, [p('a', A.array), p('s', A.orNull(lengths), null), p('axes', A.orNull(A.ints), defaultAxes), NORM],
    (a: Operand, s: number[] | null, axes: number[] | null, norm: FftNorm | null) => {
      if (defaultAxes !== null && (axes === null || axes.length !== 2)) throw traceError(`${fn} transforms exactly 2 axes, got axes ${axes === null ? 'null' : `[${axes.join(', ')}]`} (use ${fn.slice(0, -1)}n for others)`);
      return fftCore(fn, type, a, s, axes, norm);
    }) as FftN;
}

/** The discrete Fourier transform along `axis` (complex64 result). */
export const fft = oneAxisFn('fft', 'FFT');
/** The inverse of {@link fft} (divides by n with the default norm). */
export const ifft = oneAxisFn('ifft', 'IFFT');
/** The transform of real input: the n/2 + 1 non-negative frequencies (complex64). */
export const rfft = oneAxisFn('rfft', 'RFFT');
/** The inverse of {@link rfft}: n real values (n defaults to 2·(m − 1) for m frequencies). */
export const irfft = oneAxisFn('irfft', 'IRFFT');
/** The transform over `axes` (default the last two). */
export const fft2 = nAxesFn('fft2', 'FFT', [-2, -1]);
export const ifft2 = nAxesFn('ifft2', 'IFFT', [-2, -1]);
export const rfft2 = nAxesFn('rfft2', 'RFFT', [-2, -1]);
export const irfft2 = nAxesFn('irfft2', 'IRFFT', [-2, -1]);
/** The transform over `axes` (default: the last `s.length`, or all; at most 3). */
export const fftn = nAxesFn('fftn', 'FFT', null);
export const ifftn = nAxesFn('ifftn', 'IFFT', null);
export const rfftn = nAxesFn('rfftn', 'RFFT', null);
export const irfftn = nAxesFn('irfftn', 'IRFFT', null);

/**
 * The transform of a signal with Hermitian symmetry given by its non-negative half: real output of
 * length n (default 2·(m − 1)). JAX's definition: `irfft(conj(a), n) · n`.
 */
export const hfft = defapi('np.fft.hfft', [p('a', A.array), p('n', A.orNull(positive), null), p('axis', oneAxis('np.fft.hfft'), -1), NORM],
  (x: Operand, n: number | null, axis: number, norm: FftNorm | null): KArray => {
    const a = conjIfComplex(asArray(x));
    const nn = n ?? (a.shape[normAxis(axis, a.ndim)] - 1) * 2;
    const r = fftCore('np.fft.hfft', 'IRFFT', a, n === null ? null : [n], [axis], norm);
    return lax.binary(Op.Multiply, r, cast(nn, r.dtype, false, r.shape));
  }) as Fft1;
/** The inverse of {@link hfft}: `conj(rfft(a, n)) / n` (complex64). */
export const ihfft = defapi('np.fft.ihfft', [p('a', A.array), p('n', A.orNull(positive), null), p('axis', oneAxis('np.fft.ihfft'), -1), NORM],
  (x: Operand, n: number | null, axis: number, norm: FftNorm | null): KArray => {
    const a = asArray(x);
    const nn = n ?? a.shape[normAxis(axis, a.ndim)];
    const r = conjIfComplex(fftCore('np.fft.ihfft', 'RFFT', a, n === null ? null : [n], [axis], norm));
    return lax.binary(Op.Multiply, r, cast(Math.fround(1 / nn), r.dtype, false, r.shape));
  }) as Fft1;

// ---- frequencies and shifts -------------------------------------------------------------------

/** Options of {@link fftfreq} and {@link rfftfreq}. */
export interface FreqOptions { d?: number; dtype?: string | null }

function freqs(n: number, d: number, dtype: SupportedDType | null, ks: number[]): KArray {
  const dt = dtype ?? 'f32';
  // JAX divides k (exact in f32) by the f32 value of d·n: one correctly rounded f32 division.
  const dn = Math.fround(d * n);
  return hostArray(dt, [ks.length], ks.map((k) => Math.fround(k / dn)));
}
const FREQ = [p('n', A.count), p('d', A.number, 1), p('dtype', A.orNull(A.dtypeIn('f32', 'f16')), null, true), p('device', A.unsupported('arrays are placed on the default device'), null, true)];

/** The sample frequencies of an n-point transform with sample spacing d: [0, 1, ..., -n/2, ..., -1] / (d·n). */
export const fftfreq = defapi('np.fft.fftfreq', FREQ, (n: number, d: number, dtype: SupportedDType | null): KArray => {
  const half = Math.floor((n - 1) / 2) + 1;
  return freqs(n, d, dtype, Array.from({ length: n }, (_, i) => (i < half ? i : i - n)));
}) as (n: number, d?: number | FreqOptions, opts?: FreqOptions) => KArray;
/** The non-negative sample frequencies of {@link rfft}: [0, 1, ..., n/2] / (d·n). */
export const rfftfreq = defapi('np.fft.rfftfreq', FREQ, (n: number, d: number, dtype: SupportedDType | null): KArray =>
  freqs(n, d, dtype, Array.from({ length: Math.floor(n / 2) + 1 }, (_, i) => i))) as (n: number, d?: number | FreqOptions, opts?: FreqOptions) => KArray;

function shiftBy(name: string, sign: 1 | -1) {
  return defapi(`np.fft.${name}`, [p('x', A.array), p('axes', A.axes, null)], (x: Operand, axes: number | number[] | null): KArray => {
    const a = asArray(x);
    const list = axes === null ? a.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((v) => normAxis(v, a.ndim));
    // jnp.roll by n // 2 (or -(n // 2)) along each axis: a slice of each side and a concatenate.
    return list.reduce((r, ax) => rollStatic(r, sign * Math.floor(r.shape[ax] / 2), ax), a);
  }) as (x: ArrayInput, axes?: Axes | { axes?: Axes }) => KArray;
}
/** Moves the zero frequency to the center: a roll by n/2 (rounded down) along `axes` (all by default). */
export const fftshift = shiftBy('fftshift', 1);
/** The inverse of {@link fftshift}: a roll by −(n/2 rounded down). */
export const ifftshift = shiftBy('ifftshift', -1);

