/**
 * @file `stablehlo.fft` on the reference interpreter: FFT, IFFT, RFFT and IRFFT over the trailing
 * 1 to 3 dimensions, any lengths, computed in float64 and rounded once to f32. Powers of two use
 * an iterative radix-2 transform; other lengths a direct DFT whose twiddle index is reduced
 * exactly as (j * k) mod n, so every twiddle is a table entry and accuracy does not degrade with
 * n. JAX's conventions: FFT uses e^(-2 pi i jk/n), IFFT and IRFFT scale by 1/n, RFFT keeps the
 * n/2 + 1 non-negative frequencies, IRFFT reads those and returns `fft_length` real values.
 * https://openxla.org/stablehlo/spec#fft
 */
import type { FftType } from '../../ir/ops.js';
import { numElements } from '../../ir/types.js';
import type { HostTensor } from '../tensor.js';

/**
 * One in-place 1-D DFT of length n on `re`/`im` (float64), with sign -1 (forward) or +1
 * (inverse, unscaled).
 */
export function dft1(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const n = re.length;
  if (n <= 1) return;
  if ((n & (n - 1)) === 0) { radix2(re, im, sign); return; }
  // Direct DFT: twiddle k*j reduced mod n in integers (exact for n < 2^26), looked up in a table.
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let t = 0; t < n; t++) { cos[t] = Math.cos((2 * Math.PI * t) / n); sin[t] = sign * Math.sin((2 * Math.PI * t) / n); }
  const or = new Float64Array(n);
  const oi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0, t = 0;
    for (let j = 0; j < n; j++) {
      sr += re[j] * cos[t] - im[j] * sin[t];
      si += re[j] * sin[t] + im[j] * cos[t];
      t += k;
      if (t >= n) t -= n;
    }
    or[k] = sr;
    oi[k] = si;
  }
  re.set(or);
  im.set(oi);
}

/** Iterative Cooley-Tukey, bit-reversed input order, twiddles computed directly per stage. */
function radix2(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos((2 * Math.PI * k) / len);
      const wi = sign * Math.sin((2 * Math.PI * k) / len);
      for (let s = 0; s < n; s += len) {
        const a = s + k, b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/**
 * Transforms axis `axis` of a row-major complex array (f64 planes) of `shape` in place: every
 * line along that axis gets {@link dft1}, scaled by 1/n when `inverse`.
 */
function alongAxis(re: Float64Array, im: Float64Array, shape: readonly number[], axis: number, inverse: boolean): void {
  const n = shape[axis];
  const inner = numElements(shape.slice(axis + 1));
  const outer = numElements(shape.slice(0, axis));
  const lr = new Float64Array(n);
  const li = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let j = 0; j < n; j++) { lr[j] = re[base + j * inner]; li[j] = im[base + j * inner]; }
      dft1(lr, li, inverse ? 1 : -1);
      for (let j = 0; j < n; j++) {
        re[base + j * inner] = inverse ? lr[j] / n : lr[j];
        im[base + j * inner] = inverse ? li[j] / n : li[j];
      }
    }
  }
}

/**
 * `stablehlo.fft` of `x` (c64 for FFT, IFFT and IRFFT; f32 for RFFT) over its trailing
 * `lengths.length` dims; `resultShape` is the verified result's shape.
 */
export function fft(x: HostTensor, type: FftType, lengths: readonly number[], resultShape: readonly number[]): HostTensor {
  const rank = x.shape.length;
  const axes = lengths.map((_, i) => rank - lengths.length + i);
  const complexIn = x.dtype === 'c64';
  const src = x.data as Float32Array;
  // Work on the full complex spectrum shape: for IRFFT, the last axis is extended to fft_length.
  const shape = type === 'IRFFT' ? [...x.shape.slice(0, -1), lengths[lengths.length - 1]] : [...x.shape];
  const total = numElements(shape);
  const re = new Float64Array(total);
  const im = new Float64Array(total);
  if (type === 'IRFFT') {
    // Hermitian extension along the last axis: X[n - k] = conj(X[k]), after the other axes'
    // inverse transforms (numpy's irfftn order), so extend after those below.
    const half = x.shape[rank - 1];
    const lead = numElements(x.shape.slice(0, -1));
    const hr = new Float64Array(lead * half);
    const hi = new Float64Array(lead * half);
    for (let i = 0; i < lead * half; i++) { hr[i] = src[2 * i]; hi[i] = src[2 * i + 1]; }
    for (const a of axes.slice(0, -1)) alongAxis(hr, hi, x.shape, a, true);
    const n = shape[rank - 1];
    for (let r = 0; r < lead; r++) {
      for (let k = 0; k < n; k++) {
        const kk = k < half ? k : n - k;
        const conj = k >= half;
        // Bins past n/2 mirror the kept ones (a kept bin beyond n/2 cannot occur: half = n/2+1).
        re[r * n + k] = kk < half ? hr[r * half + kk] : 0;
        im[r * n + k] = kk < half ? (conj ? -hi[r * half + kk] : hi[r * half + kk]) : 0;
      }
    }
    alongAxis(re, im, shape, rank - 1, true);
    const out = new Float32Array(total);
    for (let i = 0; i < total; i++) out[i] = re[i];
    return { dtype: 'f32', shape: [...resultShape], data: out };
  }
  for (let i = 0; i < total; i++) {
    re[i] = complexIn ? src[2 * i] : src[i];
    im[i] = complexIn ? src[2 * i + 1] : 0;
  }
  const inverse = type === 'IFFT';
  for (const a of axes) alongAxis(re, im, shape, a, inverse);
  // RFFT keeps bins 0 .. n/2 of the last axis.
  const outLast = resultShape[rank - 1];
  const n = shape[rank - 1];
  const rows = total / Math.max(n, 1);
  const out = new Float32Array(2 * numElements(resultShape));
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < outLast; k++) {
      out[2 * (r * outLast + k)] = re[r * n + k];
      out[2 * (r * outLast + k) + 1] = im[r * n + k];
    }
  }
  return { dtype: 'c64', shape: [...resultShape], data: out };
}
