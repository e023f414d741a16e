/**
 * @file `nn.dotProductAttention`: scaled dot-product attention in JAX's layout
 * (`[batch, seq, heads, dim]`), with `bias`, boolean `mask`, `isCausal`, `scale`, grouped-query
 * heads (key/value heads dividing the query heads) and per-batch `querySeqLengths` /
 * `keyValueSeqLengths`, as `jax.nn.dot_product_attention`'s XLA implementation computes it:
 * logits = q·k * scale (+ bias), masked positions set to -0.7 * f32 max (so a fully masked row is
 * uniform, as JAX's), softmax over keys, then the weighted sum of values.
 */
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import * as np from '../numpy/index.js';
import { asArray, cast, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';

/** JAX's `_get_large_negative(float32)`: -0.7 * finfo(f32).max. */
const LARGE_NEGATIVE = -0.7 * 3.4028234663852886e38;

function rank4(name: string, x: KArray): KArray {
  if (x.ndim === 3) return np.expandDims(x, 0);
  if (x.ndim !== 4) throw traceError(`dotProductAttention: ${name} must be [batch, seq, heads, dim] (or [seq, heads, dim]), got ${x.describe()}`);
  return x;
}

/** Per-batch lengths as an i32 [B] Array, checked against the batch size. */
function lengths(name: string, v: Operand, batch: number): KArray {
  const a = asArray(v);
  if (a.ndim !== 1 || a.shape[0] !== batch || !(a.dtype === 'i32' || a.dtype === 'ui32')) {
    throw traceError(`dotProductAttention: ${name} must be an integer Array of shape [${batch}] (one length per batch), got ${a.describe()}`);
  }
  return a;
}

/** Options of {@link dotProductAttention} after the three operands. */
export interface AttentionOptions {
  bias?: Operand | null;
  mask?: Operand | null;
  scale?: number | null;
  isCausal?: boolean;
  querySeqLengths?: Operand | null;
  keyValueSeqLengths?: Operand | null;
}

/**
 * Scaled dot-product attention: `query` [B, T, N, H], `key`/`value` [B, S, K, H] with K dividing
 * N (query head n attends with key head n / (N / K), as JAX's grouped-query attention); `bias` and
 * `mask` broadcast to [B, N, T, S]; `scale` defaults to 1/sqrt(H). Returns [B, T, N, H] (or
 * [T, N, H] for unbatched operands). `localWindowSize` and `implementation` are refused.
 */
export const dotProductAttention = defapi('nn.dotProductAttention', [
  p('query', A.array), p('key', A.array), p('value', A.array), p('bias', A.orNull(A.array), null), p('mask', A.orNull(A.array), null),
  p('scale', A.orNull(A.number), null, true), p('isCausal', A.bool, false, true), p('querySeqLengths', A.orNull(A.array), null, true),
  p('keyValueSeqLengths', A.orNull(A.array), null, true), p('localWindowSize', A.unsupported('not implemented'), null, true),
  p('implementation', A.unsupported("kiln has one implementation (JAX's 'xla')"), null, true),
], (qArg: Operand, kArg: Operand, vArg: Operand, bias: Operand | null, mask: Operand | null, scaleArg: number | null, isCausal: boolean, qLens: Operand | null, kvLens: Operand | null): KArray => {
  const q0 = asArray(qArg), k0 = asArray(kArg), v0 = asArray(vArg);
  const unbatched = q0.ndim === 3;
  let q = rank4('query', q0), k = rank4('key', k0), v = rank4('value', v0);
  if (k0.ndim !== q0.ndim || v0.ndim !== q0.ndim) throw traceError(`dotProductAttention: query ${q0.describe()}, key ${k0.describe()} and value ${v0.describe()} must have the same rank`);
  const [B, T, N, H] = q.shape;
  const [Bk, S, K, Hk] = k.shape;
  if (Bk !== B || Hk !== H || v.shape[0] !== B || v.shape[1] !== S || v.shape[2] !== K) {
    throw traceError(`dotProductAttention: key ${k.describe()} and value ${v.describe()} must be [${B}, S, K, ${H}] with the same S and K, for query ${q.describe()}`);
  }
  if (K === 0 || N % K !== 0) throw traceError(`dotProductAttention: the ${N} query heads must be a multiple of the ${K} key/value heads`);
  const dtype = q.dtype === 'f16' ? 'f16' : 'f32';
  q = cast(q, 'f32'); k = cast(k, 'f32'); v = cast(v, 'f32');
  const G = N / K;
  if (G > 1) {
    // Query head n = kv * G + g uses key head kv: repeat each key/value head G times.
    const repeat = (x: KArray) => np.reshape(np.broadcastTo(np.expandDims(x, 3), [B, S, K, G, v.shape[3]]), [B, S, N, x.shape[3]]);
    k = repeat(k);
    v = repeat(v);
  }
  const scale = scaleArg ?? 1 / Math.sqrt(H);
  let logits = np.multiply(np.einsum('btnh,bsnh->bnts', q, k), scale);
  if (bias !== null) logits = np.add(logits, cast(asArray(bias), 'f32'));
  let keep: KArray | null = null;
  const and = (m: KArray) => { keep = keep === null ? m : np.logicalAnd(keep, m); };
  if (mask !== null) {
    const m = asArray(mask);
    if (m.dtype !== 'i1') throw traceError(`dotProductAttention: mask must be a boolean Array (true = attend), got ${m.describe()}`);
    and(np.broadcastTo(m, [B, N, T, S]));
  }
  if (isCausal) and(np.reshape(np.tril(np.ones([T, S], 'bool')), [1, 1, T, S]));
  if (qLens !== null) {
    const l = lengths('querySeqLengths', qLens, B);
    and(np.less(np.reshape(np.arange(0, T, 1, 'int32'), [1, 1, T, 1]), np.reshape(cast(l, 'i32'), [B, 1, 1, 1])));
  }
  if (kvLens !== null) {
    const l = lengths('keyValueSeqLengths', kvLens, B);
    and(np.less(np.reshape(np.arange(0, S, 1, 'int32'), [1, 1, 1, S]), np.reshape(cast(l, 'i32'), [B, 1, 1, 1])));
  }
  if (keep !== null) logits = np.where(keep, logits, LARGE_NEGATIVE);
  const m = np.max(logits, -1, { keepdims: true });
  const e = np.exp(np.subtract(logits, m));
  const probs = np.divide(e, np.sum(e, -1, { keepdims: true }));
  const out = cast(np.einsum('bnts,bsnh->btnh', probs, v), dtype);
  return unbatched ? np.squeeze(out, 0) : out;
}) as (query: Operand, key: Operand, value: Operand, bias?: Operand | null | AttentionOptions, mask?: Operand | null | AttentionOptions, options?: AttentionOptions) => KArray;
