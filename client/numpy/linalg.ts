/**
 * @file Products: `matmul` (batched, broadcasting its batch dimensions), `dot`, `outer`, `inner`,
 * and `einsum`, whose subscripts are parsed into a chain of `dot_general`s with reductions and
 * transposes, contracting operands left to right.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p } from '../args.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { asArray, broadcastShapes, broadcastTo, cast, resultType, type Operand } from './promote.js';
import { reduceOp } from './reduce-core.js';

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
});

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
});

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
});

/** `outer(x, y)[i, j] = x.ravel()[i] * y.ravel()[j]`. */
export const outer = defapi('np.outer', [p('a', A.array), p('b', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b, wasBool] = promotePair(asArray(x), asArray(y));
  const n = a.size, m = b.size;
  const A = lax.broadcastInDim(lax.reshape(a, [n]), [n, m], [0]);
  const B = lax.broadcastInDim(lax.reshape(b, [m]), [n, m], [1]);
  return finishBool(lax.binary(Op.Multiply, A, B), wasBool);
});

// ---- einsum ---------------------------------------------------------------------------------

interface Term {
  value: KArray;
  labels: string[];
}

function parseSubscripts(spec: string, count: number): { inputs: string[][]; output: string[] } {
  const s = spec.replace(/\s+/g, '');
  if (s.includes('.')) throw traceError(`einsum: ellipsis ('...') is not supported: '${spec}'`);
  const [lhs, rhs] = s.split('->');
  const inputs = lhs.split(',').map((t) => [...t]);
  for (const t of inputs) {
    if (!t.every((c) => /[a-zA-Z]/.test(c))) throw traceError(`einsum: subscripts must be letters: '${spec}'`);
  }
  if (inputs.length !== count) throw traceError(`einsum: '${spec}' names ${inputs.length} operands, got ${count}`);
  let output: string[];
  if (rhs === undefined) {
    // Implicit mode: labels used exactly once, in alphabetical order.
    const counts = new Map<string, number>();
    for (const t of inputs) for (const c of t) counts.set(c, (counts.get(c) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort();
  } else {
    output = [...rhs];
    const all = new Set(inputs.flat());
    for (const c of output) if (!all.has(c)) throw traceError(`einsum: output label '${c}' appears in no input of '${spec}'`);
    if (new Set(output).size !== output.length) throw traceError(`einsum: output label repeated in '${spec}'`);
  }
  return { inputs, output };
}

/** Sums out the labels of `t` that nothing later needs. */
function sumOut(t: Term, keep: Set<string>): Term {
  const axes = t.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return t;
  return { value: reduceOp(t.value, Op.Add, axes), labels: t.labels.filter((l) => keep.has(l)) };
}

function contract(a: Term, b: Term, keep: Set<string>): Term {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => keep.has(l));
  const contracted = shared.filter((l) => !keep.has(l));
  for (const l of shared) {
    const da = a.value.shape[a.labels.indexOf(l)], db = b.value.shape[b.labels.indexOf(l)];
    if (da !== db) throw traceError(`einsum: label '${l}' has size ${da} in one operand and ${db} in another`);
  }
  const value = lax.dotGeneral(a.value, b.value, {
    lhsBatch: batch.map((l) => a.labels.indexOf(l)),
    rhsBatch: batch.map((l) => b.labels.indexOf(l)),
    lhsContract: contracted.map((l) => a.labels.indexOf(l)),
    rhsContract: contracted.map((l) => b.labels.indexOf(l)),
  });
  const labels = [...batch, ...a.labels.filter((l) => !shared.includes(l)), ...b.labels.filter((l) => !shared.includes(l))];
  return { value, labels };
}

/**
 * Einstein summation (`np.einsum(subscripts, ...operands)`), e.g. `einsum('bij,bjk->bik', a, b)`, `einsum('ii', m)` is refused (repeated
 * labels within one operand, i.e. diagonals, are not supported), `einsum('ij->ji', m)` transposes.
 */
export function einsum(subscripts: unknown, ...operands: unknown[]): KArray {
  return apiCall('np.einsum', () => {
    const spec = A.string.parse(subscripts, 'subscripts');
    return einsumOp(spec, ...operands.map((o, i) => A.array.parse(o, `operand ${i}`)));
  });
}

const einsumOp = defop('np.einsum', (subscripts: string, ...operands: Operand[]): KArray => {
  const { inputs, output } = parseSubscripts(subscripts, operands.length);
  const { dtype, weak } = resultType(...operands);
  const d = dtype === 'i1' ? 'i32' : dtype;
  const terms: Term[] = operands.map((x, i) => {
    const value = cast(x, d, weak);
    if (value.ndim !== inputs[i].length) {
      throw traceError(`einsum: operand ${i} has rank ${value.ndim} but '${inputs[i].join('')}' names ${inputs[i].length} axes`);
    }
    if (new Set(inputs[i]).size !== inputs[i].length) throw traceError(`einsum: repeated label in '${inputs[i].join('')}' (diagonals) is not supported`);
    return { value, labels: inputs[i] };
  });
  const needed = (from: number): Set<string> => new Set([...output, ...terms.slice(from).flatMap((t) => t.labels)]);
  let acc = sumOut(terms[0], needed(1));
  for (let i = 1; i < terms.length; i++) {
    const rest = needed(i + 1);
    const next = sumOut(terms[i], new Set([...rest, ...acc.labels]));
    acc = sumOut(contract(sumOut(acc, new Set([...rest, ...next.labels])), next, rest), rest);
  }
  const perm = output.map((l) => acc.labels.indexOf(l));
  const r = lax.transpose(acc.value, perm);
  return dtype === 'i1' ? lax.convert(r, 'i1') : r;
}, []);
