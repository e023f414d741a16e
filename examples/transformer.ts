/**
 * @file A small transformer block's forward pass: pre-layernorm causal multi-head self-attention
 * and a GELU MLP, both with residual connections, jitted into one executable. Prints the shapes,
 * the StableHLO op count, timing for repeated calls, and checks that the attention is causal
 * (changing a later token leaves earlier outputs unchanged).
 *
 *   npm run example:transformer
 */
import { pathToFileURL } from 'node:url';
import { jit, lower, nn, np, random, ready, type Array } from '../client/index.js';

export const SEQ = 16, D = 64, HEADS = 4, DH = D / HEADS, FF = 4 * D;

export type Params = Record<string, Array>;

export function initParams(key: Array): Params {
  const dense = (i: number, n: number, m: number) => np.multiply(random.normal(random.foldIn(key, i), [n, m]), 1 / Math.sqrt(n));
  return {
    wq: dense(0, D, D), wk: dense(1, D, D), wv: dense(2, D, D), wo: dense(3, D, D),
    w1: dense(4, D, FF), b1: np.zeros([FF]), w2: dense(5, FF, D), b2: np.zeros([D]),
    g1: np.ones([D]), be1: np.zeros([D]), g2: np.ones([D]), be2: np.zeros([D]),
  };
}

/** [SEQ, D] -> [HEADS, SEQ, DH]. */
const heads = (x: Array) => np.transpose(np.reshape(x, [SEQ, HEADS, DH]), [1, 0, 2]);

function attention(p: Params, x: Array): Array {
  const q = heads(np.matmul(x, p.wq)), k = heads(np.matmul(x, p.wk)), v = heads(np.matmul(x, p.wv));
  const scores = np.multiply(np.einsum('hqd,hkd->hqk', q, k), 1 / Math.sqrt(DH));
  const causal = np.tril(np.ones([SEQ, SEQ], 'i1'));
  const weights = nn.softmax(np.where(causal, scores, -1e9), { axis: -1 });
  const out = np.einsum('hqk,hkd->qhd', weights, v);
  return np.matmul(np.reshape(out, [SEQ, D]), p.wo);
}

export function block(p: Params, x: Array): Array {
  const h = np.add(x, attention(p, nn.layerNorm(x, p.g1, p.be1)));
  const f = np.add(np.matmul(nn.gelu(np.add(np.matmul(nn.layerNorm(h, p.g2, p.be2), p.w1), p.b1)), p.w2), p.b2);
  return np.add(h, f);
}

async function main(): Promise<void> {
  const device = await ready();
  console.log(`kiln transformer block on ${device.info().adapter} (${device.kind})`);
  const key = random.key(0);
  const params = initParams(key);
  const x = random.normal(random.foldIn(key, 99), [SEQ, D]);
  const fwd = jit(block);

  const text = lower(block)(params, x).text;
  const ops = text.split('\n').filter((l) => /=\s*"?(stablehlo|chlo)\./.test(l)).length;
  console.log(`traced: ${ops} StableHLO ops, inputs ${Object.keys(params).length + 1}, output [${SEQ}, ${D}]`);

  let t0 = Date.now();
  const y = fwd(params, x);
  const out = await y.data<'f32'>();
  console.log(`first call (trace + compile + run): ${Date.now() - t0} ms`);
  t0 = Date.now();
  const runs = 10;
  for (let i = 0; i < runs; i++) fwd(params, x).dispose();
  await fwd(params, x).data();
  console.log(`cached calls: ${((Date.now() - t0) / (runs + 1)).toFixed(1)} ms each`);

  const mean = out.reduce((a, b) => a + b, 0) / out.length;
  console.log(`output shape [${y.shape}], mean ${mean.toFixed(4)}, first values ${[...out.slice(0, 4)].map((v) => v.toFixed(4)).join(' ')}`);

  // Causality: perturb the last token; every earlier position's output must not change.
  const x2 = np.add(x, np.multiply(np.pad(np.ones([1, D]), [[SEQ - 1, 0], [0, 0]]), 5));
  const y2 = await fwd(params, x2).data<'f32'>();
  let maxEarly = 0;
  for (let i = 0; i < (SEQ - 1) * D; i++) maxEarly = Math.max(maxEarly, Math.abs(y2[i] - out[i]));
  let lastDiff = 0;
  for (let i = (SEQ - 1) * D; i < SEQ * D; i++) lastDiff = Math.max(lastDiff, Math.abs(y2[i] - out[i]));
  console.log(`causal mask: earlier outputs change by ${maxEarly.toExponential(2)}, the last by ${lastDiff.toFixed(3)}`);
  if (maxEarly > 1e-4 || lastDiff < 1e-3) {
    console.error('attention is not causal');
    process.exit(1);
  }
}

// Run when executed (node dist/examples/transformer.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
