/**
 * @file The bench's workloads. Each is written once for kiln and once for jax-js, in each library's
 * own idiom (jax-js consumes its arguments, so its versions take `.ref` where a value is reused),
 * and computes the same function on the same seeded inputs. A case carries its work (FLOPs or bytes
 * moved) for the throughput columns, and a float64 reference when it is small enough to compute on
 * the host.
 */
import type { Array as JArray } from '@jax-js/jax';
import { jit, nn, numpy as np, valueAndGrad, type Array as KArray } from '../client/index.js';
import type { JaxModule } from './env.js';
import {
  BLOCK_PARAMS, block64, causalMask, chain64, layerNorm64, matmul64, mlpStep64, softmax64, toF16, uniform,
  type BlockDims, type HostArray,
} from './host.js';

/** `smoke`: small shapes that run in seconds on a software adapter; `full`: the shapes. */
export type SizeSet = 'smoke' | 'full';

/** A jitted jax-js function over the case's inputs (it consumes them, like every jax-js function). */
export type JaxFn = ((...xs: JArray[]) => JArray[]) & { dispose?: () => void };

/** One row of the bench: a workload at one size. */
export interface Case {
  workload: string;
  size: string;
  inputs: HostArray[];
  /** Floating-point operations per call (matmul-like rows report TFLOP/s). */
  flops?: number;
  /** Bytes read and written per call (memory-bound rows report GB/s). */
  bytes?: number;
  /** Calls per timed sample: many for the call-overhead row, else 1. */
  callsPerSample: number;
  /** kiln's jitted function. */
  kiln: (...xs: KArray[]) => KArray[];
  /** Builds jax-js's jitted function. */
  jax: (jax: JaxModule) => JaxFn;
  /** The float64 result on the host, when the case is small enough. */
  reference?: () => ArrayLike<number>[];
  /** Largest accepted {@link relError} between any two of kiln, jax-js and the reference. */
  tol: number;
}

/** A case, made on demand so that only one case's inputs are alive at a time. */
export interface CaseSpec {
  workload: string;
  size: string;
  make(): Case;
}

/** A named workload and its cases at a size set. */
export interface Workload {
  name: string;
  cases(sizes: SizeSet): CaseSpec[];
}

/** Host references run only below this many multiply-adds (plain JS does ~1e8 a second). */
const REFERENCE_BUDGET = 6e7;
const cheap = (work: number) => work <= REFERENCE_BUDGET;

function spec(workload: string, size: string, make: () => Omit<Case, 'workload' | 'size'>): CaseSpec {
  return { workload, size, make: () => ({ workload, size, ...make() }) };
}

// ---- matmul ------------------------------------------------------------------------------------

/**
 * n×n×n matmuls named `name` at the sizes of each size set, the seeded f32 inputs passed through
 * `cast` (kept as they are, or rounded to f16), checked against float64 within `tol`.
 */
function squareMatmuls(name: string, ns: Record<SizeSet, number[]>, cast: (a: HostArray) => HostArray, tol: number): Workload {
  return {
    name,
    cases: (sizes) => ns[sizes].map((n) =>
      spec(name, `${n}x${n}x${n}`, () => {
        const a = cast(uniform([n, n], 1)), b = cast(uniform([n, n], 2));
        return {
          inputs: [a, b],
          flops: 2 * n ** 3,
          callsPerSample: 1,
          kiln: jit((x: KArray, y: KArray) => [np.matmul(x, y)]),
          jax: (jax) => jax.jit((x: JArray, y: JArray) => [jax.numpy.matmul(x, y)]),
          reference: cheap(n ** 3) ? () => [matmul64(a.data, b.data, 1, n, n, n)] : undefined,
          tol,
        };
      })),
  };
}

const matmul = squareMatmuls('matmul', { full: [1024, 2048, 4096], smoke: [128, 256] }, (a) => a, 1e-4);

const batchedMatmul: Workload = {
  name: 'batched_matmul',
  cases: (sizes) => [sizes === 'full' ? { b: 32, n: 512 } : { b: 4, n: 64 }].map(({ b, n }) =>
    spec('batched_matmul', `${b}x${n}x${n}x${n}`, () => {
      const x = uniform([b, n, n], 3), y = uniform([b, n, n], 4);
      return {
        inputs: [x, y],
        flops: 2 * b * n ** 3,
        callsPerSample: 1,
        kiln: jit((p: KArray, q: KArray) => [np.matmul(p, q)]),
        jax: (jax) => jax.jit((p: JArray, q: JArray) => [jax.numpy.matmul(p, q)]),
        reference: cheap(b * n ** 3) ? () => [matmul64(x.data, y.data, b, n, n, n)] : undefined,
        tol: 1e-4,
      };
    })),
};

/**
 * f16 inputs and output (no conversion inside the function): XLA runs it on tensor cores, kiln on
 * subgroup matrices where the device has them. The check allows for f16: inputs are exact in f16
 * (the reference uses the same rounded values), the products are accumulated in f32, and the
 * output is rounded to f16 (relative error ~5e-4 of the largest value), hence 1e-2.
 */
const matmulF16 = squareMatmuls('matmul_f16', { full: [2048, 4096], smoke: [256] }, toF16, 1e-2);

// ---- memory-bound ------------------------------------------------------------------------------

const elementwise: Workload = {
  name: 'elementwise_chain',
  cases: (sizes) => [sizes === 'full' ? 64 << 20 : 1 << 20].map((n) =>
    spec('elementwise_chain', `${n >> 20}M`, () => {
      const x = uniform([n], 5);
      return {
        inputs: [x],
        bytes: 8 * n,
        callsPerSample: 1,
        kiln: jit((v: KArray) => [np.tanh(v.mul(2).add(1)).mul(0.5).add(v.mul(0.25))]),
        jax: (jax) => jax.jit((v: JArray) => [jax.numpy.tanh(v.ref.mul(2).add(1)).mul(0.5).add(v.mul(0.25))]),
        reference: cheap(n * 8) ? () => [chain64(x.data)] : undefined,
        tol: 1e-5,
      };
    })),
};

function rowsCols(sizes: SizeSet): [number, number] {
  return sizes === 'full' ? [8192, 4096] : [256, 512];
}

const softmax: Workload = {
  name: 'softmax',
  cases: (sizes) => [rowsCols(sizes)].map(([r, c]) =>
    spec('softmax', `${r}x${c}`, () => {
      const x = uniform([r, c], 6, -4, 4);
      return {
        inputs: [x],
        bytes: 8 * r * c,
        callsPerSample: 1,
        kiln: jit((v: KArray) => [nn.softmax(v, { axis: -1 })]),
        jax: (jax) => jax.jit((v: JArray) => [jax.nn.softmax(v, -1)]),
        reference: cheap(r * c * 4) ? () => [softmax64(x.data, r, c)] : undefined,
        tol: 1e-5,
      };
    })),
};

const layerNorm: Workload = {
  name: 'layernorm',
  cases: (sizes) => [rowsCols(sizes)].map(([r, c]) =>
    spec('layernorm', `${r}x${c}`, () => {
      const x = uniform([r, c], 7, -3, 5), g = uniform([c], 8, 0.5, 1.5), b = uniform([c], 9);
      return {
        inputs: [x, g, b],
        bytes: 8 * r * c,
        callsPerSample: 1,
        kiln: jit((v: KArray, gamma: KArray, beta: KArray) => [nn.layerNorm(v, gamma, beta, { axis: -1, eps: 1e-5 })]),
        jax: (jax) => jax.jit((v: JArray, gamma: JArray, beta: JArray) => [jax.nn.standardize(v, -1, { epsilon: 1e-5 }).mul(gamma).add(beta)]),
        reference: cheap(r * c * 4) ? () => [layerNorm64(x.data, g.data, b.data, r, c)] : undefined,
        tol: 1e-4,
      };
    })),
};

// ---- MLP training step -------------------------------------------------------------------------

const LR = 0.01;

const mlpStep: Workload = {
  name: 'mlp_train_step',
  cases: (sizes) => [sizes === 'full' ? { batch: 256, din: 1024, hidden: 1024, dout: 1024 } : { batch: 32, din: 64, hidden: 64, dout: 64 }].map((d) =>
    spec('mlp_train_step', `b${d.batch} h${d.hidden}`, () => {
      const s1 = 1 / Math.sqrt(d.din), s2 = 1 / Math.sqrt(d.hidden);
      const w1 = uniform([d.din, d.hidden], 10, -s1, s1), b1 = uniform([d.hidden], 11, -0.1, 0.1);
      const w2 = uniform([d.hidden, d.dout], 12, -s2, s2), b2 = uniform([d.dout], 13, -0.1, 0.1);
      const x = uniform([d.batch, d.din], 14), y = uniform([d.batch, d.dout], 15);
      const fwd = d.batch * (d.din * d.hidden + d.hidden * d.dout);
      // forward, then dW2 and dH (two products of the second layer) and dW1 (no dX is needed).
      const flops = 2 * fwd + 2 * d.batch * (2 * d.hidden * d.dout + d.din * d.hidden);
      return {
        inputs: [w1, b1, w2, b2, x, y],
        flops,
        callsPerSample: 1,
        kiln: kilnMlpStep(),
        jax: jaxMlpStep,
        reference: cheap(flops / 2)
          ? () => mlpStep64({ w1: w1.data, b1: b1.data, w2: w2.data, b2: b2.data }, x.data, y.data, d, LR)
          : undefined,
        tol: 1e-4,
      };
    })),
};

interface KParams { w1: KArray; b1: KArray; w2: KArray; b2: KArray }

function kilnMlpStep(): (...xs: KArray[]) => KArray[] {
  const loss = (p: KParams, x: KArray, y: KArray): KArray => {
    const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    const out = np.matmul(h, p.w2).add(p.b2);
    return np.mean(np.square(out.sub(y)));
  };
  return jit((w1: KArray, b1: KArray, w2: KArray, b2: KArray, x: KArray, y: KArray) => {
    const [l, g] = valueAndGrad(loss)({ w1, b1, w2, b2 }, x, y) as [KArray, KParams];
    return [l, w1.sub(g.w1.mul(LR)), b1.sub(g.b1.mul(LR)), w2.sub(g.w2.mul(LR)), b2.sub(g.b2.mul(LR))];
  });
}

interface JParams { w1: JArray; b1: JArray; w2: JArray; b2: JArray }

function jaxMlpStep(jax: JaxModule): JaxFn {
  const jnp = jax.numpy;
  const loss = (p: JParams, x: JArray, y: JArray): JArray => {
    const h = jax.nn.relu(jnp.matmul(x, p.w1).add(p.b1));
    const out = jnp.matmul(h, p.w2).add(p.b2);
    return jnp.mean(jnp.square(out.sub(y)));
  };
  return jax.jit((w1: JArray, b1: JArray, w2: JArray, b2: JArray, x: JArray, y: JArray) => {
    const [l, g] = jax.valueAndGrad(loss)({ w1: w1.ref, b1: b1.ref, w2: w2.ref, b2: b2.ref }, x, y) as [JArray, JParams];
    return [l, w1.sub(g.w1.mul(LR)), b1.sub(g.b1.mul(LR)), w2.sub(g.w2.mul(LR)), b2.sub(g.b2.mul(LR))];
  });
}

// ---- transformer block -------------------------------------------------------------------------

const transformer: Workload = {
  name: 'transformer_block',
  cases: (sizes) => [sizes === 'full' ? { batch: 4, seq: 512, dim: 768, heads: 12, ff: 3072 } : { batch: 2, seq: 16, dim: 32, heads: 2, ff: 128 }].map((d) =>
    spec('transformer_block', `b${d.batch} t${d.seq} d${d.dim} h${d.heads}`, () => {
      const rows = d.batch * d.seq;
      const w = (shape: number[], seed: number) => uniform(shape, seed, -1 / Math.sqrt(shape[0]), 1 / Math.sqrt(shape[0]));
      const params: Record<(typeof BLOCK_PARAMS)[number], HostArray> = {
        g1: uniform([d.dim], 20, 0.5, 1.5), be1: uniform([d.dim], 21, -0.1, 0.1),
        wq: w([d.dim, d.dim], 22), wk: w([d.dim, d.dim], 23), wv: w([d.dim, d.dim], 24), wo: w([d.dim, d.dim], 25),
        g2: uniform([d.dim], 26, 0.5, 1.5), be2: uniform([d.dim], 27, -0.1, 0.1),
        w1: w([d.dim, d.ff], 28), b1: uniform([d.ff], 29, -0.1, 0.1), w2: w([d.ff, d.dim], 30), b2: uniform([d.dim], 31, -0.1, 0.1),
      };
      const x = uniform([d.batch, d.seq, d.dim], 32), mask = causalMask(d.seq);
      const flops = 2 * rows * (4 * d.dim * d.dim + 2 * d.dim * d.ff) + 4 * d.batch * d.seq * d.seq * d.dim;
      return {
        inputs: [x, mask, ...BLOCK_PARAMS.map((k) => params[k])],
        flops,
        callsPerSample: 1,
        kiln: kilnBlock(d),
        jax: (jax) => jaxBlock(jax, d),
        reference: cheap(flops / 2)
          ? () => [block64(x.data, mask.data, Object.fromEntries(BLOCK_PARAMS.map((k) => [k, params[k].data])) as Record<(typeof BLOCK_PARAMS)[number], Float32Array>, d)]
          : undefined,
        tol: 2e-4,
      };
    })),
};

function kilnBlock(d: BlockDims): (...xs: KArray[]) => KArray[] {
  const dh = d.dim / d.heads;
  return jit((x: KArray, mask: KArray, g1: KArray, be1: KArray, wq: KArray, wk: KArray, wv: KArray, wo: KArray,
    g2: KArray, be2: KArray, w1: KArray, b1: KArray, w2: KArray, b2: KArray) => {
    const h = nn.layerNorm(x, g1, be1, { axis: -1, eps: 1e-5 });
    const split = (m: KArray) => np.transpose(np.reshape(np.matmul(h, m), [d.batch, d.seq, d.heads, dh]), [0, 2, 1, 3]);
    const q = split(wq), k = split(wk), v = split(wv);
    const scores = np.matmul(q, np.transpose(k, [0, 1, 3, 2])).mul(1 / Math.sqrt(dh)).add(mask);
    const attn = np.matmul(nn.softmax(scores, { axis: -1 }), v);
    const merged = np.reshape(np.transpose(attn, [0, 2, 1, 3]), [d.batch, d.seq, d.dim]);
    const x1 = x.add(np.matmul(merged, wo));
    const h2 = nn.layerNorm(x1, g2, be2, { axis: -1, eps: 1e-5 });
    const f = np.matmul(nn.gelu(np.matmul(h2, w1).add(b1), { approximate: true }), w2).add(b2);
    return [x1.add(f)];
  });
}

function jaxBlock(jax: JaxModule, d: BlockDims): JaxFn {
  const jnp = jax.numpy, dh = d.dim / d.heads;
  const ln = (v: JArray, g: JArray, b: JArray) => jax.nn.standardize(v, -1, { epsilon: 1e-5 }).mul(g).add(b);
  return jax.jit((x: JArray, mask: JArray, g1: JArray, be1: JArray, wq: JArray, wk: JArray, wv: JArray, wo: JArray,
    g2: JArray, be2: JArray, w1: JArray, b1: JArray, w2: JArray, b2: JArray) => {
    const h = ln(x.ref, g1, be1);
    const split = (hh: JArray, m: JArray) => jnp.transpose(jnp.reshape(jnp.matmul(hh, m), [d.batch, d.seq, d.heads, dh]), [0, 2, 1, 3]);
    const q = split(h.ref, wq), k = split(h.ref, wk), v = split(h, wv);
    const scores = jnp.matmul(q, jnp.transpose(k, [0, 1, 3, 2])).mul(1 / Math.sqrt(dh)).add(mask);
    const attn = jnp.matmul(jax.nn.softmax(scores, -1), v);
    const merged = jnp.reshape(jnp.transpose(attn, [0, 2, 1, 3]), [d.batch, d.seq, d.dim]);
    const x1 = x.add(jnp.matmul(merged, wo));
    const h2 = ln(x1.ref, g2, be2);
    const f = jnp.matmul(jax.nn.gelu(jnp.matmul(h2, w1).add(b1), { approximate: true }), w2).add(b2);
    return [x1.add(f)];
  });
}

// ---- call overhead -----------------------------------------------------------------------------

const tinyCall: Workload = {
  name: 'tiny_call',
  cases: (sizes) => [
    spec('tiny_call', 'f32[8]', () => {
      const x = uniform([8], 40);
      return {
        inputs: [x],
        callsPerSample: sizes === 'full' ? 1000 : 100,
        kiln: jit((v: KArray) => [v.mul(2).add(1)]),
        jax: (jax) => jax.jit((v: JArray) => [v.mul(2).add(1)]),
        reference: () => [Float64Array.from(x.data, (v) => v * 2 + 1)],
        tol: 1e-6,
      };
    }),
  ],
};

/** Every workload, in the order the table lists them. */
export const WORKLOADS: readonly Workload[] = [matmul, matmulF16, batchedMatmul, elementwise, softmax, layerNorm, mlpStep, transformer, tinyCall];

/** The cases to run: all workloads, or those named in `only`. Unknown names are an error. */
export function selectCases(sizes: SizeSet, only?: readonly string[]): CaseSpec[] {
  const names = new Set(WORKLOADS.map((w) => w.name));
  for (const n of only ?? []) {
    if (!names.has(n)) throw new Error(`unknown workload '${n}'; expected one of ${[...names].join(', ')}`);
  }
  return WORKLOADS.filter((w) => !only || only.length === 0 || only.includes(w.name)).flatMap((w) => w.cases(sizes));
}
