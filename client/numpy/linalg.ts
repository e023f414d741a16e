/**
 * @file Products: `matmul` (batched, broadcasting its batch dimensions), `dot`, `outer` and
 * `inner` (`einsum` is in einsum.ts, the others in products.ts).
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Binary } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, broadcastShapes, broadcastTo, cast, resultType, type Operand } from './promote.js';

/** Both operands in their promoted dtype (bools are multiplied as i32). */
function promotePair(x: Operand, y: Operand): [KArray, KArray, boolean] {
  const { dtype, weak } = resultType(x, y);
  const d = dtype === 'i1' ? 'i32' : dtype;
  return [cast(x, d, weak), cast(y, d, weak), dtype === 'i1'];
}

function finishBool(r: KArray, wasBool: boolean): KArray {
  return wasBool ? lax.convert(r, 'i1') : r;
}

/** Matrix product with NumPy's rules: 1-D operands are promoted and the added axis removed. */
export const matmul = defapi('np.matmul', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  let [a, b, wasBool] = promotePair(x, y);
  if (a.ndim === 0 || b.ndim === 0) throw traceError('matmul does not take scalars; use multiply');
  const aVec = a.ndim === 1, bVec = b.ndim === 1;
  if (aVec) a = lax.reshape(a, [1, a.shape[0]]);
  if (bVec) b = lax.reshape(b, [b.shape[0], 1]);
  const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw traceError(`contracting dimensions differ: [${aVec ? [k] : a.shape.join(', ')}] @ [${bVec ? [k2] : b.shape.join(', ')}] (${k} vs ${k2})`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  a = broadcastTo(a, [...batch, m, k]);
  b = broadcastTo(b, [...batch, k, n]);
  const nb = batch.length;
  const bd = batch.map((_, i) => i);
  let r = lax.dotGeneral(a, b, { lhsBatch: bd, rhsBatch: bd, lhsContract: [nb + 1], rhsContract: [nb] });
  if (aVec || bVec) r = lax.reshape(r, [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])]);
  return finishBool(r, wasBool);
}) as Binary;

/**
 * NumPy's dot: a product for scalars, the inner product of vectors, and otherwise a sum over the
 * last axis of `x` and the second-to-last of `y` (the last if `y` is 1-D).
 */
export const dot = defapi('np.dot', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = promotePair(x, y);
  if (a.ndim === 0 || b.ndim === 0) return finishBool(lax.binary(Op.Multiply, ...bothTo(a, b)), wasBool);
  const ca = a.ndim - 1, cb = b.ndim === 1 ? 0 : b.ndim - 2;
  if (a.shape[ca] !== b.shape[cb]) {
    throw traceError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] not aligned: ${a.shape[ca]} (dim ${ca}) != ${b.shape[cb]} (dim ${cb})`);
  }
  return finishBool(lax.dotGeneral(a, b, { lhsBatch: [], rhsBatch: [], lhsContract: [ca], rhsContract: [cb] }), wasBool);
}) as Binary;

function bothTo(a: KArray, b: KArray): [KArray, KArray] {
  const s = broadcastShapes(a.shape, b.shape);
  return [broadcastTo(a, s), broadcastTo(b, s)];
}

/** Sum product over the last axes of both. */
export const inner = defapi('np.inner', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = promotePair(x, y);
  if (a.ndim === 0 || b.ndim === 0) return finishBool(lax.binary(Op.Multiply, ...bothTo(a, b)), wasBool);
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 1]) throw traceError(`last dimensions differ: ${a.shape[a.ndim - 1]} vs ${b.shape[b.ndim - 1]}`);
  return finishBool(lax.dotGeneral(a, b, { lhsBatch: [], rhsBatch: [], lhsContract: [a.ndim - 1], rhsContract: [b.ndim - 1] }), wasBool);
}) as Binary;

/** `outer(x, y)[i, j] = x.ravel()[i] * y.ravel()[j]`. */
export const outer = defapi('np.outer', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = promotePair(asArray(x), asArray(y));
  const n = a.size, m = b.size;
  const A = lax.broadcastInDim(lax.reshape(a, [n]), [n, m], [0]);
  const B = lax.broadcastInDim(lax.reshape(b, [m]), [n, m], [1]);
  return finishBool(lax.binary(Op.Multiply, A, B), wasBool);
}) as Binary;
