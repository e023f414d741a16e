/**
 * @file 1-D signals and polynomials: `convolve`/`correlate` (modes 'full', 'same', 'valid', with
 * JAX's operand swap when the second is longer), `polyval`, `polyadd`, `polysub`, `polymul`,
 * `polyder`, the window functions (`hanning`/`hann`, `hamming`, `blackman`, `bartlett`) and the
 * log-spaced ranges `geomspace`/`logspace`. Windows and ranges are computed in float64 on the host
 * and rounded to the dtype once, as NumPy computes them.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, bindApi, defapi, hostArray, p } from '../args.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { cast, resultType, type Operand } from './promote.js';

type Mode = 'full' | 'same' | 'valid';

/** `out[k] = sum_j xpad[k + j] * y[j]` over 1-D operands (XLA's convolution is a correlation). */
function conv(xIn: Operand, yIn: Operand, mode: Mode, op: 'convolve' | 'correlate'): KArray {
  const { dtype, weak } = resultType(xIn, yIn);
  const d = dtype === 'i1' ? 'i32' : dtype;
  let x = cast(xIn, d, weak), y = cast(yIn, d, weak);
  if (x.ndim !== 1 || y.ndim !== 1) throw traceError(`${op}() only supports 1-dimensional inputs, got shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
  if (x.size === 0 || y.size === 0) throw traceError(`${op}: inputs cannot be empty, got shapes [${x.shape}] and [${y.shape}]`);
  let reverseOut = false;
  if (x.size < y.size) {
    [x, y] = [y, x];
    if (op === 'correlate') reverseOut = true;
  }
  if (op === 'convolve') y = lax.reverse(y, [0]);
  const n = x.size, m = y.size;
  const [lo, hi] = mode === 'full' ? [m - 1, m - 1] : mode === 'same' ? [Math.floor(m / 2), m - Math.floor(m / 2) - 1] : [0, 0];
  const xp = lax.pad(x, lax.constant(d, [], 0), [lo], [hi]);
  const len = n + lo + hi - m + 1;
  // The windows of xp as the rows of a [len, m] matrix, then one dot_general with y.
  const cols = Array.from({ length: m }, (_, j) => lax.reshape(lax.slice(xp, [j], [j + len]), [len, 1]));
  const windows = lax.concatenate(cols, 1);
  let r = lax.dotGeneral(windows, y, { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] });
  if (reverseOut) r = lax.reverse(r, [0]);
  return dtype === 'i1' ? lax.convert(r, 'i1') : r;
}

const CONV = (dflt: Mode) => [p('a', A.array), p('v', A.array), p('mode', A.oneOf('full', 'same', 'valid'), dflt), p('precision', A.unsupported('not implemented'), null, true), p('preferredElementType', A.unsupported('not implemented'), null, true)];
/** Discrete linear convolution of 1-D arrays (default mode 'full'). */
export const convolve = defapi('np.convolve', CONV('full'), (a: Operand, v: Operand, mode: Mode) => conv(a, v, mode, 'convolve'));
/** Cross-correlation of 1-D arrays (default mode 'valid'). */
export const correlate = defapi('np.correlate', CONV('valid'), (a: Operand, v: Operand, mode: Mode) => conv(a, v, mode, 'correlate'));

/** The polynomial with coefficients `p` (highest power first) at `x`, by Horner's rule. */
export const polyval = defapi('np.polyval', [p('p', A.array), p('x', A.array), p('unroll', A.int, 16)], (pIn: Operand, xIn: Operand): KArray => {
  const { dtype, weak } = resultType(pIn, xIn);
  const pc = cast(pIn, dtype, weak), x = cast(xIn, dtype, weak);
  if (pc.ndim !== 1) throw traceError(`p must be 1-D, got shape [${pc.shape.join(', ')}]`);
  let y = lax.withWeak(lax.constant(dtype, x.shape, 0), x.weak);
  for (let i = 0; i < pc.size; i++) {
    const c = lax.broadcastInDim(lax.reshape(lax.slice(pc, [i], [i + 1]), []), x.shape, []);
    y = lax.binary(Op.Add, lax.binary(Op.Multiply, y, x), c);
  }
  return y;
});

function polyPair(a: Operand, b: Operand): [KArray, KArray] {
  const { dtype, weak } = resultType(a, b);
  let x = cast(a, dtype, weak), y = cast(b, dtype, weak);
  if (x.ndim !== 1 || y.ndim !== 1) throw traceError('polynomial coefficients must be 1-D');
  const n = Math.max(x.size, y.size);
  const z = lax.constant(dtype, [], 0);
  x = lax.pad(x, z, [n - x.size], [0]);
  y = lax.pad(y, z, [n - y.size], [0]);
  return [x, y];
}
/** The sum of two polynomials (the shorter padded with leading zeros). */
export const polyadd = defapi('np.polyadd', [p('a1', A.array), p('a2', A.array)], (a: Operand, b: Operand) => lax.binary(Op.Add, ...polyPair(a, b)));
/** The difference of two polynomials. */
export const polysub = defapi('np.polysub', [p('a1', A.array), p('a2', A.array)], (a: Operand, b: Operand) => lax.binary(Op.Subtract, ...polyPair(a, b)));
/** The product of two polynomials (their full convolution). */
export const polymul = defapi('np.polymul', [p('a1', A.array), p('a2', A.array), p('trimLeadingZeros', A.fixed(false, 'trimming depends on the values'), false)],
  (a: Operand, b: Operand) => conv(a, b, 'full', 'convolve'));
/** The m-th derivative of a polynomial. */
export const polyder = defapi('np.polyder', [p('p', A.array), p('m', A.count, 1)], (pIn: Operand, m: number): KArray => {
  const { dtype, weak } = resultType(pIn);
  let c = cast(pIn, dtype, weak);
  if (c.ndim !== 1) throw traceError(`p must be 1-D, got shape [${c.shape.join(', ')}]`);
  for (let k = 0; k < m; k++) {
    const n = c.size;
    if (n <= 1) return lax.constant(dtype, [0], 0);
    const powers = hostArray(dtype, [n - 1], Array.from({ length: n - 1 }, (_, i) => n - 1 - i));
    c = lax.binary(Op.Multiply, lax.slice(c, [0], [n - 1]), lax.convert(powers, dtype, c.weak));
  }
  return c;
});

// ---- windows and spaced ranges (host float64) ------------------------------------------------

function window(name: string, f: (n: number, m: number) => number) {
  return (...args: unknown[]): KArray => apiCall(name, () => {
    const [m] = bindApi(name, [p('M', A.int)], args) as [number];
    if (m <= 0) return hostArray('f32', [0], []);
    if (m === 1) return hostArray('f32', [1], [1]);
    return hostArray('f32', [m], Array.from({ length: m }, (_, n) => f(n, m)));
  });
}
/** The Hann window of M points. */
export const hanning = window('np.hanning', (n, m) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (m - 1)));
/** jax-js's name for {@link hanning}. */
export const hann = hanning;
/** The Hamming window of M points. */
export const hamming = window('np.hamming', (n, m) => 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (m - 1)));
/** The Blackman window of M points. */
export const blackman = window('np.blackman', (n, m) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (m - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (m - 1)));
/** The Bartlett (triangular) window of M points. */
export const bartlett = window('np.bartlett', (n, m) => (n <= (m - 1) / 2 ? (2 * n) / (m - 1) : 2 - (2 * n) / (m - 1)));

function spaced(num: number, endpoint: boolean): number[] {
  const div = endpoint ? num - 1 : num;
  return Array.from({ length: num }, (_, i) => (div > 0 ? i / div : 0));
}

/** `np.geomspace(start, stop, num=50, endpoint=true, dtype?)`: a geometric progression. */
export function geomspace(...args: unknown[]): KArray {
  return apiCall('np.geomspace', () => {
    const [start, stop, num, endpoint, dtype] = bindApi('np.geomspace', [p('start', A.number), p('stop', A.number), p('num', A.count, 50), p('endpoint', A.bool, true),
      p('dtype', A.orNull(A.dtype), null), p('axis', A.fixed(0, 'only axis 0 is implemented'), 0)], args) as [number, number, number, boolean, SupportedDType | null];
    if (start === 0 || stop === 0) throw traceError('geometric sequence cannot include zero');
    if (Math.sign(start) !== Math.sign(stop)) throw traceError(`start ${start} and stop ${stop} must have the same sign (kiln has no complex numbers)`);
    const s = Math.sign(start), l0 = Math.log10(Math.abs(start)), l1 = Math.log10(Math.abs(stop));
    const vals = spaced(num, endpoint).map((t) => s * 10 ** (l0 + t * (l1 - l0)));
    if (num > 0) vals[0] = start;
    if (num > 1 && endpoint) vals[num - 1] = stop;
    return hostArray(dtype ?? 'f32', [num], vals);
  });
}

/** `np.logspace(start, stop, num=50, endpoint=true, base=10, dtype?)`: `base ** linspace(start, stop)`. */
export function logspace(...args: unknown[]): KArray {
  return apiCall('np.logspace', () => {
    const [start, stop, num, endpoint, base, dtype] = bindApi('np.logspace', [p('start', A.number), p('stop', A.number), p('num', A.count, 50), p('endpoint', A.bool, true),
      p('base', A.number, 10), p('dtype', A.orNull(A.dtype), null), p('axis', A.fixed(0, 'only axis 0 is implemented'), 0)], args) as [number, number, number, boolean, number, SupportedDType | null];
    return hostArray(dtype ?? 'f32', [num], spaced(num, endpoint).map((t) => base ** (start + t * (stop - start))));
  });
}
