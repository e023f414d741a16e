/**
 * @file Host side of the bench: seeded input data (the same bytes go to kiln and to jax-js), float64
 * reference computations used to check both libraries at small sizes, and the error measure the
 * checks use. Everything here is plain TypeScript on Float64Array, written for clarity, not speed:
 * the references only run when a case is small enough (see `Case.reference` in workloads.ts).
 */
import { roundF16 } from '../ir/dtype.js';

/**
 * One input or output: a flat buffer and its shape. f32 unless `dtype` says f16; an f16 array holds
 * f32 values that are exactly representable in f16 (kiln's host form of f16, see ir/dtype.ts).
 */
export interface HostArray {
  shape: number[];
  data: Float32Array;
  dtype?: 'f16';
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Uniform values in [lo, hi) from a small xorshift generator seeded per input, so that every run
 * (and both libraries) see the same data without storing it.
 */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): HostArray {
  const n = sizeOf(shape);
  const data = new Float32Array(n);
  let s = (seed * 0x9e3779b1) >>> 0 || 1;
  const span = hi - lo;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    data[i] = lo + span * (s / 4294967296);
  }
  return { shape, data };
}

/** `x` with its values rounded to the nearest f16 (ties to even, as numpy's `astype(float16)`). */
export function toF16(x: HostArray): HostArray {
  return { shape: x.shape, data: x.data.map(roundF16), dtype: 'f16' };
}

/** A causal attention mask [t, t]: 0 where a query may attend, -1e9 above the diagonal. */
export function causalMask(t: number): HostArray {
  const data = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) data[i * t + j] = -1e9;
  return { shape: [t, t], data };
}

/** Relative error of `got` against `want`: max |got - want| over max |want| (NaN anywhere is Infinity). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(g) || Number.isNaN(w)) return Infinity;
    diff = Math.max(diff, Math.abs(g - w));
    scale = Math.max(scale, Math.abs(w));
  }
  return diff / Math.max(scale, 1e-30);
}

/** The worst {@link relError} over matching lists of outputs. */
export function relErrorAll(got: readonly ArrayLike<number>[], want: readonly ArrayLike<number>[]): number {
  if (got.length !== want.length) return Infinity;
  return got.reduce((worst, g, i) => Math.max(worst, relError(g, want[i])), 0);
}

// ---- float64 references ------------------------------------------------------------------------

/** Batched `a @ b`: a [batch, m, k], b [batch, k, n] (b shared when `bBatched` is false). */
export function matmul64(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, k: number, n: number, bBatched = true): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const ao = p * m * k, bo = bBatched ? p * k * n : 0, oo = p * m * n;
    for (let i = 0; i < m; i++) {
      for (let kk = 0; kk < k; kk++) {
        const av = a[ao + i * k + kk];
        if (av === 0) continue;
        const brow = bo + kk * n, orow = oo + i * n;
        for (let j = 0; j < n; j++) out[orow + j] += av * b[brow + j];
      }
    }
  }
  return out;
}

/** `x.T` of a [rows, cols] matrix. */
function transpose64(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

/** The bench's elementwise chain: tanh(2x + 1) * 0.5 + 0.25x. */
export function chain64(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.tanh(v * 2 + 1) * 0.5 + v * 0.25);
}

/** Softmax over the last axis of a [rows, cols] matrix. */
export function softmax64(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let c = 0; c < cols; c++) mx = Math.max(mx, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += (out[r * cols + c] = Math.exp(x[r * cols + c] - mx));
    for (let c = 0; c < cols; c++) out[r * cols + c] /= s;
  }
  return out;
}

/** Layer norm over the last axis of [rows, cols], scaled by gamma [cols] and shifted by beta [cols]. */
export function layerNorm64(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, rows: number, cols: number, eps = 1e-5): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += x[r * cols + c];
    mean /= cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / cols + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = (x[r * cols + c] - mean) * inv * gamma[c] + beta[c];
  }
  return out;
}

/** GELU, tanh form (the default of both libraries). */
function gelu64(v: number): number {
  return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
}

/** Adds a bias [n] to every row of [rows, n] in place. */
function addBias(x: Float64Array, bias: ArrayLike<number>, n: number): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] += bias[i % n];
  return x;
}

/**
 * One SGD step of the bench's MLP: loss = mean((relu(x w1 + b1) w2 + b2 - y)^2), then each
 * parameter p - lr * dloss/dp. Returns [loss, w1, b1, w2, b2], gradients derived by hand.
 */
export function mlpStep64(
  p: { w1: ArrayLike<number>; b1: ArrayLike<number>; w2: ArrayLike<number>; b2: ArrayLike<number> },
  x: ArrayLike<number>, y: ArrayLike<number>, dims: { batch: number; din: number; hidden: number; dout: number }, lr: number,
): Float64Array[] {
  const { batch: b, din, hidden: h, dout } = dims;
  const pre = addBias(matmul64(x, p.w1, 1, b, din, h), p.b1, h);
  const act = pre.map((v) => Math.max(v, 0));
  const out = addBias(matmul64(act, p.w2, 1, b, h, dout), p.b2, dout);
  const count = b * dout;
  let loss = 0;
  const dOut = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const d = out[i] - y[i];
    loss += d * d;
    dOut[i] = (2 * d) / count;
  }
  loss /= count;
  const gw2 = matmul64(transpose64(act, b, h), dOut, 1, h, b, dout);
  const gb2 = new Float64Array(dout);
  for (let i = 0; i < count; i++) gb2[i % dout] += dOut[i];
  const dAct = matmul64(dOut, transpose64(p.w2, h, dout), 1, b, dout, h);
  const dPre = dAct.map((v, i) => (pre[i] > 0 ? v : 0));
  const gw1 = matmul64(transpose64(x, b, din), dPre, 1, din, b, h);
  const gb1 = new Float64Array(h);
  for (let i = 0; i < b * h; i++) gb1[i % h] += dPre[i];
  const sgd = (w: ArrayLike<number>, g: Float64Array) => g.map((gv, i) => w[i] - lr * gv);
  return [Float64Array.of(loss), sgd(p.w1, gw1), sgd(p.b1, gb1), sgd(p.w2, gw2), sgd(p.b2, gb2)];
}

/** Shapes of the bench's transformer block. */
export interface BlockDims {
  batch: number;
  seq: number;
  dim: number;
  heads: number;
  ff: number;
}

/** Parameters of the transformer block, in the order they are passed to both libraries. */
export const BLOCK_PARAMS = ['g1', 'be1', 'wq', 'wk', 'wv', 'wo', 'g2', 'be2', 'w1', 'b1', 'w2', 'b2'] as const;

/**
 * A pre-norm transformer block on x [batch, seq, dim]: causal multi-head self-attention and a GELU
 * MLP, each with a residual connection. `p` maps {@link BLOCK_PARAMS} to their values.
 */
export function block64(x: ArrayLike<number>, mask: ArrayLike<number>, p: Record<(typeof BLOCK_PARAMS)[number], ArrayLike<number>>, d: BlockDims): Float64Array {
  const rows = d.batch * d.seq, dh = d.dim / d.heads;
  const h = layerNorm64(x, p.g1, p.be1, rows, d.dim);
  const q = matmul64(h, p.wq, 1, rows, d.dim, d.dim);
  const k = matmul64(h, p.wk, 1, rows, d.dim, d.dim);
  const v = matmul64(h, p.wv, 1, rows, d.dim, d.dim);
  const attn = new Float64Array(rows * d.dim);
  const scale = 1 / Math.sqrt(dh);
  const scores = new Float64Array(d.seq * d.seq);
  for (let b = 0; b < d.batch; b++) {
    for (let hd = 0; hd < d.heads; hd++) {
      const at = (t: number, c: number) => (b * d.seq + t) * d.dim + hd * dh + c;
      for (let i = 0; i < d.seq; i++) {
        for (let j = 0; j < d.seq; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q[at(i, c)] * k[at(j, c)];
          scores[i * d.seq + j] = s * scale + mask[i * d.seq + j];
        }
      }
      const probs = softmax64(scores, d.seq, d.seq);
      for (let i = 0; i < d.seq; i++) {
        for (let c = 0; c < dh; c++) {
          let s = 0;
          for (let j = 0; j < d.seq; j++) s += probs[i * d.seq + j] * v[at(j, c)];
          attn[at(i, c)] = s;
        }
      }
    }
  }
  const proj = matmul64(attn, p.wo, 1, rows, d.dim, d.dim);
  const x1 = proj.map((pv, i) => pv + x[i]);
  const h2 = layerNorm64(x1, p.g2, p.be2, rows, d.dim);
  const f1 = addBias(matmul64(h2, p.w1, 1, rows, d.dim, d.ff), p.b1, d.ff).map(gelu64);
  const f2 = addBias(matmul64(f1, p.w2, 1, rows, d.ff, d.dim), p.b2, d.dim);
  return f2.map((fv, i) => fv + x1[i]);
}
