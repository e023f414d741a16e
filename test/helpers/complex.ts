/**
 * @file Helpers for complex<f32> tests: a float64 DFT written independently of kiln (direct sums,
 * the twiddle angle from (j * k) mod n), one-op modules over complex operands, and c64 tensors
 * from (re, im) pairs.
 */
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';

/** The spelled type of a c64 or f32 tensor of `shape`. */
export function ty(shape: readonly number[], dtype: 'c64' | 'f32'): string {
  return `tensor<${[...shape, dtype === 'c64' ? 'complex<f32>' : 'f32'].join('x')}>`;
}

/** A c64 host tensor from interleaved (re, im) numbers. */
export function c64(shape: readonly number[], pairs: readonly number[]): HostTensor {
  return hostTensor('c64', shape, pairs);
}

/** A module `@main(args) -> result { body }` with the body's last value returned. */
export function moduleOf(args: readonly string[], result: string, body: readonly string[]): string {
  const sig = args.map((t, i) => `%arg${i}: ${t}`).join(', ');
  const last = /^\s*(%\w+)/.exec(body[body.length - 1])![1];
  return `module @m {\n  func.func public @main(${sig}) -> ${result} {\n${body.map((l) => `    ${l}`).join('\n')}\n    return ${last} : ${result}\n  }\n}\n`;
}

/**
 * The n-dimensional DFT over the trailing `k` axes of a row-major complex array `(re, im)` of
 * `shape`, by the direct sum X[k] = sum_j x[j] e^(sign 2 pi i sum_a j_a k_a / n_a), scaled by
 * 1/prod(n) when `sign` is +1. Float64 throughout.
 */
export function naiveDft(re: readonly number[], im: readonly number[], shape: readonly number[], k: number, sign: 1 | -1): [number[], number[]] {
  const lead = shape.slice(0, shape.length - k);
  const dims = shape.slice(shape.length - k);
  const inner = dims.reduce((a, b) => a * b, 1);
  const batches = lead.reduce((a, b) => a * b, 1);
  const idx = (flat: number) => {
    const out: number[] = [];
    for (let a = dims.length - 1; a >= 0; a--) { out.unshift(flat % dims[a]); flat = Math.floor(flat / dims[a]); }
    return out;
  };
  const outRe = new Array<number>(re.length).fill(0);
  const outIm = new Array<number>(re.length).fill(0);
  for (let b = 0; b < batches; b++) {
    for (let f = 0; f < inner; f++) {
      const kf = idx(f);
      let sr = 0, si = 0;
      for (let j = 0; j < inner; j++) {
        const jf = idx(j);
        // The angle as a fraction of a turn, summed per axis from exact integer residues.
        let turn = 0;
        for (let a = 0; a < dims.length; a++) turn += ((jf[a] * kf[a]) % dims[a]) / dims[a];
        const ang = sign * 2 * Math.PI * turn;
        const [xr, xi] = [re[b * inner + j], im[b * inner + j]];
        sr += xr * Math.cos(ang) - xi * Math.sin(ang);
        si += xr * Math.sin(ang) + xi * Math.cos(ang);
      }
      const scale = sign === 1 ? 1 / inner : 1;
      outRe[b * inner + f] = sr * scale;
      outIm[b * inner + f] = si * scale;
    }
  }
  return [outRe, outIm];
}

/** Deterministic values in [-1, 1) (a small LCG), so failures reproduce. */
export function values(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 31 - 1; });
}

/** Largest |got - want| over all parts, and the largest |want|, for error bounds relative to scale. */
export function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; scale: number } {
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { err, scale };
}
