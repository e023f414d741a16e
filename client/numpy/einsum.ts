/**
 * @file `np.einsum`: Einstein summation with jax.numpy's full subscript language: ellipsis
 * (`'...ij,...jk->...ik'`, broadcast from the right), repeated labels within one operand (`'ii->'`
 * is the trace, `'ii->i'` the diagonal), size-1 dimensions broadcast against the same label
 * elsewhere, implicit output (labels used once, sorted, after the ellipsis), and the sublist form
 * (`einsum(a, [0, 1], b, [1, 2], [0, 2])`). With three or more operands the pairwise order is
 * chosen greedily by cost, as opt_einsum's 'greedy' (the pair whose result frees the most elements
 * first, ties to the fewer multiply-adds), and each pairwise step is one `dot_general`.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, isPlainObject } from '../args.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { cast, resultType, type Operand } from './promote.js';
import { reduceOp } from './reduce-core.js';
import { diagonal } from './stacking.js';

/** Labels of one operand (single characters; ellipsis dimensions are labels of their own). */
interface Term {
  value: KArray;
  labels: string[];
}

/** The label of the k-th ellipsis dimension counted from the right (outside every letter range). */
const ellipsisLabel = (k: number) => String.fromCharCode(0x2460 + k);
const ELL = '\u2026';

interface Parsed { inputs: string[][]; output: string[] }

/** Splits subscripts into labels (`...` kept as one token) and expands ellipses against the ranks. */
function parseSubscripts(spec: string, ranks: number[]): Parsed {
  const s = spec.replace(/\s+/g, '').replace(/\.\.\./g, ELL);
  if (/\./.test(s)) throw traceError(`einsum: '.' must come as '...' in '${spec}'`);
  const arrow = s.split('->');
  if (arrow.length > 2) throw traceError(`einsum: more than one '->' in '${spec}'`);
  const [lhs, rhs] = arrow;
  const raw = lhs.split(',').map((t) => [...t]);
  if (raw.length !== ranks.length) throw traceError(`einsum: '${spec}' names ${raw.length} operands, got ${ranks.length}`);
  for (const t of [...raw, ...(rhs === undefined ? [] : [[...rhs]])]) {
    if (!t.every((c) => /[a-zA-Z]/.test(c) || c === ELL)) throw traceError(`einsum: subscripts must be letters or '...': '${spec}'`);
    if (t.filter((c) => c === ELL).length > 1) throw traceError(`einsum: more than one ellipsis in one term of '${spec}'`);
  }
  let ellRank = 0;
  const inputs = raw.map((t, i) => {
    const explicit = t.filter((c) => c !== ELL).length;
    if (!t.includes(ELL)) {
      if (explicit !== ranks[i]) throw traceError(`einsum: operand ${i} has rank ${ranks[i]} but '${t.join('')}' names ${explicit} axes`);
      return t;
    }
    const e = ranks[i] - explicit;
    if (e < 0) throw traceError(`einsum: operand ${i} has rank ${ranks[i]}, fewer than the ${explicit} axes '${t.join('').replace(ELL, '...')}' names`);
    ellRank = Math.max(ellRank, e);
    const ell = Array.from({ length: e }, (_, k) => ellipsisLabel(e - 1 - k));
    const at = t.indexOf(ELL);
    return [...t.slice(0, at), ...ell, ...t.slice(at + 1)];
  });
  const ellAll = Array.from({ length: ellRank }, (_, k) => ellipsisLabel(ellRank - 1 - k));
  let output: string[];
  if (rhs === undefined) {
    // Implicit mode: the ellipsis dimensions, then the letters used exactly once, sorted.
    const counts = new Map<string, number>();
    for (const t of raw) for (const c of t) if (c !== ELL) counts.set(c, (counts.get(c) ?? 0) + 1);
    output = [...ellAll, ...[...counts].filter(([, n]) => n === 1).map(([c]) => c).sort()];
  } else {
    const t = [...rhs];
    const at = t.indexOf(ELL);
    output = at < 0 ? t : [...t.slice(0, at), ...ellAll, ...t.slice(at + 1)];
    const all = new Set(inputs.flat());
    for (const c of output) if (!all.has(c)) throw traceError(`einsum: output label '${c}' appears in no input of '${spec}'`);
    if (new Set(output).size !== output.length) throw traceError(`einsum: output label repeated in '${spec}'`);
  }
  return { inputs, output };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `einsum(a, [0, 1], b, [1, 2], [0, 2])` as subscripts; integers become letters, `'...'` an ellipsis. */
function sublistSpec(args: unknown[]): { spec: string; operands: unknown[] } {
  const operands: unknown[] = [];
  const terms: string[] = [];
  const label = (v: unknown, where: string): string => {
    if (v === '...' || v === null) return '...';
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < LETTERS.length) return LETTERS[v];
    throw traceError(`einsum: sublist entries must be integers in [0, ${LETTERS.length}) or '...', got ${String(v)} in ${where}`);
  };
  let i = 0;
  for (; i + 1 < args.length; i += 2) {
    if (!Array.isArray(args[i + 1])) break;
    operands.push(args[i]);
    terms.push((args[i + 1] as unknown[]).map((v) => label(v, `the sublist of operand ${operands.length - 1}`)).join(''));
  }
  let out: string | undefined;
  if (i < args.length) {
    if (i !== args.length - 1 || !Array.isArray(args[i])) throw traceError('einsum: the sublist form alternates operands and lists of axis labels, with an optional output list last');
    out = (args[i] as unknown[]).map((v) => label(v, 'the output sublist')).join('');
  }
  return { spec: terms.join(',') + (out === undefined ? '' : `->${out}`), operands };
}

/** Options of einsum (as jnp.einsum's keywords). */
export interface EinsumOptions {
  /** 'greedy' (default, or true) orders pairwise contractions by cost; false contracts left to right. */
  optimize?: boolean | 'greedy' | 'optimal' | 'auto';
}

/**
 * Einstein summation: `np.einsum('bij,bjk->bik', a, b)`, `np.einsum('...ij,...jk', a, b)`,
 * `np.einsum('ii', m)` (the trace), or the sublist form `np.einsum(a, [0, 1], b, [1, 2], [0, 2])`;
 * a trailing `{optimize}` chooses the contraction order ('greedy', the default, or false for left
 * to right; 'optimal' is taken as 'greedy').
 */
export function einsum(...args: unknown[]): KArray {
  return apiCall('np.einsum', () => {
    const list = [...args];
    let opts: Record<string, unknown> = {};
    if (list.length > 0 && isPlainObject(list[list.length - 1])) opts = list.pop() as Record<string, unknown>;
    for (const k of Object.keys(opts)) {
      if (k !== 'optimize' && k !== 'precision' && k !== 'preferredElementType') throw traceError(`unknown option '${k}'; the options are optimize, precision, preferredElementType`);
      if (k !== 'optimize' && opts[k] !== null && opts[k] !== undefined) throw traceError(`${k} is not implemented (only null)`);
    }
    const optimize = opts.optimize ?? 'greedy';
    if (![true, false, 'greedy', 'optimal', 'auto'].includes(optimize as never)) throw traceError(`optimize must be true, false, 'greedy', 'optimal' or 'auto', got ${String(optimize)}`);
    const { spec, operands } = typeof list[0] === 'string'
      ? { spec: list[0], operands: list.slice(1) }
      : sublistSpec(list);
    if (operands.length === 0) throw traceError('einsum needs at least one operand');
    return einsumOp(spec, optimize !== false, ...operands.map((o, i) => A.array.parse(o, `operand ${i}`)));
  });
}

const einsumOp = defop('np.einsum', (spec: string, greedy: boolean, ...operands: Operand[]): KArray => {
  const { dtype, weak } = resultType(...operands);
  const d = dtype === 'i1' ? 'i32' : dtype;
  const values = operands.map((x) => cast(x, d, weak));
  const { inputs, output } = parseSubscripts(spec, values.map((v) => v.ndim));
  const r = contractAll(values.map((value, i) => ({ value, labels: inputs[i] })), output, greedy);
  return dtype === 'i1' ? lax.convert(r, 'i1') : r;
}, []);

const show = (l: string) => (l.charCodeAt(0) >= 0x2460 ? `... dimension ${l.charCodeAt(0) - 0x2460} from the right` : `'${l}'`);

/** Every label's size; size-1 dimensions broadcast against a larger size (as NumPy). */
function labelSizes(terms: Term[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const t of terms) {
    t.labels.forEach((l, i) => {
      const n = t.value.shape[i], had = sizes.get(l);
      if (had === undefined || had === 1) sizes.set(l, n);
      else if (n !== 1 && n !== had) throw traceError(`einsum: label ${show(l)} has size ${had} in one operand and ${n} in another`);
    });
  }
  return sizes;
}

/** Size-1 dimensions of labels that are larger elsewhere are dropped (they broadcast). */
function dropBroadcast(t: Term, sizes: Map<string, number>): Term {
  const keep = t.labels.map((l, i) => !(t.value.shape[i] === 1 && sizes.get(l)! > 1));
  if (keep.every(Boolean)) return t;
  return { value: lax.reshape(t.value, t.value.shape.filter((_, i) => keep[i])), labels: t.labels.filter((_, i) => keep[i]) };
}

/** Repeated labels within a term become one (the diagonal of those axes). */
function takeDiagonals(t: Term): Term {
  let { value, labels } = t;
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k);
    if (i < 0) return { value, labels };
    const first = labels.indexOf(labels[i]);
    if (value.shape[first] !== value.shape[i]) throw traceError(`einsum: repeated label ${show(labels[i])} has sizes ${value.shape[first]} and ${value.shape[i]} in one operand`);
    const l = labels[i];
    value = diagonal(value, 0, first, i) as KArray;
    labels = [...labels.filter((_, k) => k !== first && k !== i), l];
  }
}

/** Sums out the labels of `t` not in `keep`. */
function sumOut(t: Term, keep: Set<string>): Term {
  const axes = t.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return t;
  return { value: reduceOp(t.value, Op.Add, axes), labels: t.labels.filter((l) => keep.has(l)) };
}

/** One dot_general of two terms, keeping the labels in `keep`. */
function contractPair(a0: Term, b0: Term, keep: Set<string>): Term {
  const a = sumOut(a0, new Set([...keep, ...b0.labels]));
  const b = sumOut(b0, new Set([...keep, ...a.labels]));
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => keep.has(l));
  const contracted = shared.filter((l) => !keep.has(l));
  const value = lax.dotGeneral(a.value, b.value, {
    lhsBatch: batch.map((l) => a.labels.indexOf(l)),
    rhsBatch: batch.map((l) => b.labels.indexOf(l)),
    lhsContract: contracted.map((l) => a.labels.indexOf(l)),
    rhsContract: contracted.map((l) => b.labels.indexOf(l)),
  });
  return { value, labels: [...batch, ...a.labels.filter((l) => !shared.includes(l)), ...b.labels.filter((l) => !shared.includes(l))] };
}

function contractAll(raw: Term[], output: string[], greedy: boolean): KArray {
  const sizes = labelSizes(raw);
  let terms = raw.map((t) => takeDiagonals(dropBroadcast(t, sizes)));
  const elems = (labels: Iterable<string>) => [...labels].reduce((n, l) => n * sizes.get(l)!, 1);
  const neededBy = (ts: Term[]) => new Set([...output, ...ts.flatMap((t) => t.labels)]);
  // Labels that only one term has and the output lacks are summed first.
  terms = terms.map((t, i) => sumOut(t, neededBy(terms.filter((_, k) => k !== i))));
  while (terms.length > 1) {
    let pick: [number, number] = [0, 1];
    if (greedy) {
      let best = Infinity, bestFlops = Infinity;
      for (let i = 0; i < terms.length; i++) {
        for (let j = i + 1; j < terms.length; j++) {
          const others = neededBy(terms.filter((_, k) => k !== i && k !== j));
          const result = new Set([...terms[i].labels, ...terms[j].labels].filter((l) => others.has(l)));
          // opt_einsum's greedy cost: the result's size minus the sizes of the inputs it replaces.
          const cost = elems(result) - elems(terms[i].labels) - elems(terms[j].labels);
          // Ties (common along a chain) go to the pair with fewer multiply-adds.
          const flops = elems(new Set([...terms[i].labels, ...terms[j].labels]));
          if (cost < best || (cost === best && flops < bestFlops)) { best = cost; bestFlops = flops; pick = [i, j]; }
        }
      }
    }
    const [i, j] = pick;
    const rest = terms.filter((_, k) => k !== i && k !== j);
    terms = [contractPair(terms[i], terms[j], neededBy(rest)), ...rest];
  }
  const t = sumOut(terms[0], new Set(output));
  const { value, labels } = t;
  return lax.transpose(value, output.map((l) => labels.indexOf(l)));
}
