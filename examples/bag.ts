/**
 * @file A bag-of-embeddings classifier whose pooling is a scatter-add: every token of every
 * document is embedded (a gather of the embedding table), and `np.zeros([docs, D]).at(docOf).add(e)`
 * sums each document's token embeddings into its row, as JAX users write segment pooling; its
 * gradient is a gather, and the table's a scatter-add. The synthetic task: documents of 12
 * tokens from a 20-word vocabulary; the class says whether "positive" words (0-4) outnumber
 * "negative" ones (5-9); the other words are noise.
 *
 *   npm run example:bag
 */
import { pathToFileURL } from 'node:url';
import { jit, nn, np, random, ready, valueAndGrad, type Array } from '../client/index.js';

export type Params = Record<string, Array>;

const VOCAB = 20;
const LEN = 12;
const D = 8;
/** Accuracy the example must reach on new documents (chance is about one half). */
export const THRESHOLD = 0.85;

/** `n` documents as flat token ids `[n * LEN]`, the document of each token, and the labels. */
export const makeDocs = jit((key: Array, n: number) => {
  const tokens = random.randint(key, [n, LEN], 0, VOCAB);
  const pos = np.sum(tokens.lt(5).astype('int32'), 1);
  const neg = np.sum(np.logicalAnd(tokens.ge(5), tokens.lt(10)).astype('int32'), 1);
  const docOf = np.floorDivide(np.arange(n * LEN), LEN).astype('int32');
  return { tokens: tokens.reshape(n * LEN), docOf, y: pos.gt(neg).astype('int32') };
}, { staticArgnums: [1] });

export function init(key: Array): Params {
  return {
    emb: np.multiply(random.normal(random.foldIn(key, 0), [VOCAB, D]), 0.3),
    w: np.multiply(random.normal(random.foldIn(key, 1), [D, 2]), 0.3),
    b: np.zeros([2]),
  };
}

export function forward(p: Params, tokens: Array, docOf: Array, docs: number): Array {
  const e = np.take(p.emb, tokens, 0); // [tokens, D]
  const pooled = np.zeros([docs, D]).at(docOf).add(e); // each document's summed embeddings
  return np.add(np.matmul(pooled, p.w), p.b);
}

/** One step of momentum SGD (forward, backward and update in one executable). */
const step = jit((p: Params, m: Params, tokens: Array, docOf: Array, y: Array) => {
  const [l, g] = valueAndGrad((q: Params) => nn.crossEntropy(forward(q, tokens, docOf, y.shape[0]), y))(p) as [Array, Params];
  const np2: Params = {}, nm: Params = {};
  for (const k of Object.keys(p)) {
    nm[k] = np.add(np.multiply(m[k], 0.9), g[k]);
    np2[k] = np.subtract(p[k], np.multiply(nm[k], 0.05));
  }
  return { p: np2, m: nm, loss: l };
});

const accuracy = jit((p: Params, tokens: Array, docOf: Array, y: Array) =>
  np.mean(np.equal(np.argmax(forward(p, tokens, docOf, y.shape[0]), { axis: 1 }), y)));

/** Trains on `n` documents for `steps` full-batch steps; the accuracy is on `n` new documents. */
export async function train(steps = 150, n = 128, log: (line: string) => void = console.log): Promise<{ losses: number[]; accuracy: number }> {
  const key = random.key(1);
  const data = makeDocs(random.foldIn(key, 1), n) as { tokens: Array; docOf: Array; y: Array };
  const test = makeDocs(random.foldIn(key, 2), n) as { tokens: Array; docOf: Array; y: Array };
  let p = init(random.foldIn(key, 3));
  let m: Params = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a)]));
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const out = step(p, m, data.tokens, data.docOf, data.y) as { p: Params; m: Params; loss: Array };
    for (const tree of [p, m]) for (const a of Object.values(tree)) a.dispose();
    ({ p, m } = out);
    losses.push(await out.loss.item());
    out.loss.dispose();
    if (t === 1 || t % 25 === 0) log(`step ${String(t).padStart(3)}  loss ${losses[losses.length - 1].toFixed(4)}`);
  }
  return { losses, accuracy: await accuracy(p, test.tokens, test.docOf, test.y).item() };
}

async function main(): Promise<void> {
  await ready();
  const { accuracy: acc } = await train();
  console.log(`accuracy on new documents ${(acc * 100).toFixed(1)}%`);
  if (acc < THRESHOLD) {
    console.error(`accuracy below ${THRESHOLD * 100}%`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
