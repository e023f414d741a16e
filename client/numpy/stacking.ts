/**
 * @file jax.numpy's shape functions beyond shape.ts: stacking (`vstack`, `hstack`, `dstack`,
 * `columnStack`, `atleast1d/2d/3d`), splitting (`arraySplit`, `hsplit`, `vsplit`, `dsplit`),
 * `meshgrid`, `indices`, rolling and differencing (`roll`, `diff`, `ediff1d`, `append`), axis
 * permutations (`permuteDims`, `matrixTranspose`, `rot90`, `fliplr`, `flipud`), diagonals
 * (`diagonal`, `diagflat`, `diagIndices`), `tri`, `select`, `isin`, `vander` and
 * `broadcastArrays`. All are slices, reshapes and concatenations of the primitive ops: exact, and
 * differentiable through the existing rules.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, bindApi, defapi, hostArray, isPlainObject, p } from '../args.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { asArray, broadcastShapes, broadcastTo, cast, normAxis, prepare, resultType, type Operand } from './promote.js';
import { concatenate, flip, split, transpose } from './shape.js';
import { rollStatic } from './roll.js';

const DTYPE = p('dtype', A.orNull(A.dtype), null);

function atleast(a: KArray, n: 1 | 2 | 3): KArray {
  if (a.ndim >= n) return a;
  if (n === 1) return lax.reshape(a, [1]);
  if (n === 2) return lax.reshape(a, a.ndim === 0 ? [1, 1] : [1, a.shape[0]]);
  return lax.reshape(a, a.ndim === 0 ? [1, 1, 1] : a.ndim === 1 ? [1, a.shape[0], 1] : [...a.shape, 1]);
}

function atleastApi(n: 1 | 2 | 3) {
  const one = defapi(`np.atleast${n}d`, [p('x', A.array)], (x: Operand) => atleast(asArray(x), n));
  /** One Array for one argument, a list for several (as jnp.atleast_nd). */
  return (...arys: unknown[]): KArray | KArray[] => (arys.length === 1 ? one(arys[0]) : arys.map((a) => one(a)));
}
/** Views with at least one dimension. */
export const atleast1d = atleastApi(1);
/** Views with at least two dimensions (a 1-D array becomes a row). */
export const atleast2d = atleastApi(2);
/** Views with at least three dimensions (`[n]` → `[1, n, 1]`, `[m, n]` → `[m, n, 1]`). */
export const atleast3d = atleastApi(3);

function promoted(xs: readonly Operand[], dtype: SupportedDType | null): KArray[] {
  if (xs.length === 0) throw traceError('need at least one array to stack');
  const { dtype: d, weak } = resultType(...xs);
  return xs.map((x) => cast(x, dtype ?? d, weak));
}

const TUP = [p('tup', A.arrays), DTYPE];
/** Stacks along axis 0 after making each array at least 2-D. */
export const vstack = defapi('np.vstack', TUP, (xs: Operand[], dtype: SupportedDType | null) =>
  concatenate(promoted(xs, dtype).map((a) => atleast(a, 2)), 0));
/** Stacks along axis 1 (axis 0 for 1-D arrays). */
export const hstack = defapi('np.hstack', TUP, (xs: Operand[], dtype: SupportedDType | null) => {
  const arrays = promoted(xs, dtype).map((a) => atleast(a, 1));
  return concatenate(arrays, arrays[0].ndim === 1 ? 0 : 1);
});
/** Stacks along axis 2 after making each array at least 3-D. */
export const dstack = defapi('np.dstack', TUP, (xs: Operand[], dtype: SupportedDType | null) =>
  concatenate(promoted(xs, dtype).map((a) => atleast(a, 3)), 2));
/** Stacks 1-D arrays as columns of a 2-D array (2-D arrays are stacked as they are). */
export const columnStack = defapi('np.columnStack', [p('tup', A.arrays)], (xs: Operand[]) =>
  concatenate(promoted(xs, null).map((a) => (a.ndim < 2 ? lax.reshape(a, [a.size, 1]) : a)), 1));

/** Splits into `sections` nearly equal parts (the first `n % sections` one longer), or at indices. */
export const arraySplit = defapi('np.arraySplit', [p('ary', A.array), p('indicesOrSections', A.intOrInts), p('axis', A.axis, 0)], (x: Operand, sections: number | number[], axis: number): KArray[] => {
  const a = asArray(x);
  if (typeof sections !== 'number') return split(a, sections, axis) as KArray[];
  if (sections <= 0) throw traceError(`number of sections must be larger than 0, got ${sections}`);
  const ax = normAxis(axis, a.ndim);
  const n = a.shape[ax], each = Math.floor(n / sections), extra = n % sections;
  const cuts: number[] = [];
  for (let i = 1, at = 0; i < sections; i++) cuts.push(at += each + (i <= extra ? 1 : 0));
  return split(a, cuts, ax) as KArray[];
});

function splitAlong(name: string, axisOf: (a: KArray) => number, minRank: number) {
  return defapi(name, [p('ary', A.array), p('indicesOrSections', A.intOrInts)], (x: Operand, sections: number | number[]): KArray[] => {
    const a = asArray(x);
    if (a.ndim < minRank) throw traceError(`needs an array of rank at least ${minRank}, got shape [${a.shape.join(', ')}]`);
    return split(a, sections, axisOf(a)) as KArray[];
  });
}
/** Splits along axis 1 (axis 0 for 1-D arrays). */
export const hsplit = splitAlong('np.hsplit', (a) => (a.ndim === 1 ? 0 : 1), 1);
/** Splits along axis 0. */
export const vsplit = splitAlong('np.vsplit', () => 0, 2);
/** Splits along axis 2. */
export const dsplit = splitAlong('np.dsplit', () => 2, 3);

/**
 * `np.meshgrid(...xs, {indexing: 'xy' | 'ij', sparse, copy})`: coordinate grids of 1-D arrays. With
 * 'xy' (the default) the first two output axes are swapped, as NumPy's Cartesian indexing.
 */
export function meshgrid(...args: unknown[]): KArray[] {
  return apiCall('np.meshgrid', () => {
    const opts = args.length > 0 && isPlainObject(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : {};
    const [, sparse, indexing] = bindApi('np.meshgrid', [p('copy', A.bool, true), p('sparse', A.bool, false), p('indexing', A.oneOf('xy', 'ij'), 'xy')], [opts]) as [boolean, boolean, 'xy' | 'ij'];
    return meshgridOp(args.map((a, i) => A.array.parse(a, `xi[${i}]`)), sparse, indexing);
  });
}
const meshgridOp = defapi('np.meshgrid', [p('xi', A.arrays), p('sparse', A.bool), p('indexing', A.string)], (xs: Operand[], sparse: boolean, indexing: string): KArray[] => {
  const arrays = xs.map((x) => {
    const a = asArray(x);
    return lax.reshape(a, [a.size]);
  });
  const shape = arrays.map((a) => a.shape[0]);
  const swap = indexing === 'xy' && arrays.length >= 2;
  if (swap) [shape[0], shape[1]] = [shape[1], shape[0]];
  return arrays.map((a, i) => {
    const dim = swap && i < 2 ? 1 - i : i;
    if (sparse) return lax.reshape(a, shape.map((d, j) => (j === dim ? d : 1)));
    return lax.broadcastInDim(a, shape, [dim]);
  });
});

/** `np.indices(dimensions, dtype='int32')`: a grid of indices, shape `[len(dimensions), ...dimensions]`. */
export function indices(...args: unknown[]): KArray {
  return apiCall('np.indices', () => {
    const [dims, dtype] = bindApi('np.indices', [p('dimensions', A.shape), p('dtype', A.orNull(A.dtype), null), p('sparse', A.fixed(false, 'sparse grids are not implemented'), false)], args) as [number[], SupportedDType | null];
    const n = dims.reduce((a, b) => a * b, 1);
    const values: number[] = [];
    for (let d = 0; d < dims.length; d++) {
      const inner = dims.slice(d + 1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) values.push(Math.floor(i / inner) % dims[d]);
    }
    return hostArray(dtype ?? 'i32', [dims.length, ...dims], values);
  });
}

/** `np.diagIndices(n, ndim=2)`: `ndim` copies of `arange(n)`, indexing the main diagonal. */
export function diagIndices(...args: unknown[]): KArray[] {
  return apiCall('np.diagIndices', () => {
    const [n, ndim] = bindApi('np.diagIndices', [p('n', A.count), p('ndim', A.count, 2)], args) as [number, number];
    return Array.from({ length: ndim }, () => hostArray('i32', [n], Array.from({ length: n }, (_, i) => i)));
  });
}

/** `np.diagIndicesFrom(arr)`: the diagonal indices of a square array of any rank >= 2. */
export function diagIndicesFrom(...args: unknown[]): KArray[] {
  return apiCall('np.diagIndicesFrom', () => {
    const [arr] = bindApi('np.diagIndicesFrom', [p('arr', A.array)], args) as [KArray];
    const a = asArray(arr);
    if (a.ndim < 2 || a.shape.some((d) => d !== a.shape[0])) throw traceError(`needs a square array of rank at least 2, got shape [${a.shape.join(', ')}]`);
    return diagIndices(a.shape[0], a.ndim);
  });
}

/** `np.tri(N, M?, k=0, dtype?)`: ones at and below the k-th diagonal. */
export function tri(...args: unknown[]): KArray {
  return apiCall('np.tri', () => {
    const [n, mOrNull, k, dtype] = bindApi('np.tri', [p('N', A.count), p('M', A.orNull(A.count), null), p('k', A.int, 0), DTYPE], args) as [number, number | null, number, SupportedDType | null];
    const m = mOrNull ?? n;
    return hostArray(dtype ?? 'f32', [n, m], Array.from({ length: n * m }, (_, i) => (i % m <= Math.floor(i / m) + k ? 1 : 0)));
  });
}

/** Shifts elements by `shift` along `axis`, wrapping around (the flattened array when null). */
export const roll = defapi('np.roll', [p('a', A.array), p('shift', A.intOrInts), p('axis', A.axes, null)], (x: Operand, shift: number | number[], axis: number | number[] | null): KArray => {
  const a = asArray(x);
  if (axis === null) {
    if (typeof shift !== 'number') throw traceError('with axis null, shift must be one integer');
    return lax.reshape(rollStatic(lax.reshape(a, [a.size]), shift, 0), a.shape);
  }
  const axes = (typeof axis === 'number' ? [axis] : axis).map((ax) => normAxis(ax, a.ndim));
  const shifts = typeof shift === 'number' ? axes.map(() => shift) : shift;
  if (shifts.length !== axes.length) throw traceError(`shift has ${shifts.length} entries but axis has ${axes.length}`);
  return axes.reduce((r, ax, i) => rollStatic(r, shifts[i], ax), a);
});

function sliceAxis(a: KArray, ax: number, lo: number, hi: number): KArray {
  return lax.slice(a, a.shape.map((_, i) => (i === ax ? lo : 0)), a.shape.map((d, i) => (i === ax ? hi : d)));
}

/** The n-th discrete difference along `axis` (booleans differ by not-equal, as NumPy). */
export const diff = defapi('np.diff', [p('a', A.array), p('n', A.count, 1), p('axis', A.axis, -1), p('prepend', A.orNull(A.array), null), p('append', A.orNull(A.array), null)],
  (x: Operand, n: number, axis: number, prepend: Operand | null, append: Operand | null): KArray => {
    let a = asArray(x);
    if (a.ndim === 0) throw traceError('diff requires an input of rank at least 1');
    const ax = normAxis(axis, a.ndim);
    const edge = (v: Operand) => {
      const e = asArray(v);
      const shape = a.shape.map((d, i) => (i === ax ? (e.ndim === 0 ? 1 : e.shape[i]) : d));
      return e.ndim === 0 ? broadcastTo(e, shape) : e;
    };
    const parts = [...(prepend !== null ? [edge(prepend)] : []), a, ...(append !== null ? [edge(append)] : [])];
    if (parts.length > 1) a = concatenate(parts, ax) as KArray;
    for (let i = 0; i < n; i++) {
      const len = a.shape[ax];
      const hi = sliceAxis(a, ax, 1, len), lo = sliceAxis(a, ax, 0, Math.max(0, len - 1));
      a = a.dtype === 'i1' ? lax.compare('NE', hi, lo) : lax.binary(Op.Subtract, hi, lo);
    }
    return a;
  });

/** Differences of the flattened array, with optional values before and after. */
export const ediff1d = defapi('np.ediff1d', [p('ary', A.array), p('toEnd', A.orNull(A.array), null), p('toBegin', A.orNull(A.array), null)], (x: Operand, toEnd: Operand | null, toBegin: Operand | null): KArray => {
  const a0 = asArray(x);
  const a = lax.reshape(a0, [a0.size]);
  let d = a.size === 0 ? a : lax.binary(Op.Subtract, sliceAxis(a, 0, 1, a.size), sliceAxis(a, 0, 0, a.size - 1));
  const flat = (v: Operand) => { const e = cast(v, d.dtype); return lax.reshape(e, [e.size]); };
  if (toBegin !== null) d = lax.concatenate([flat(toBegin), d], 0);
  if (toEnd !== null) d = lax.concatenate([d, flat(toEnd)], 0);
  return d;
});

/** `values` appended to `arr` along `axis` (both flattened when axis is null). */
export const append = defapi('np.append', [p('arr', A.array), p('values', A.array), p('axis', A.axisOrNull, null)], (x: Operand, v: Operand, axis: number | null): KArray =>
  concatenate([x, v], axis) as KArray);

/** Permutes axes (`axes` must be a permutation). */
export const permuteDims = defapi('np.permuteDims', [p('a', A.array), p('axes', A.ints)], (x: Operand, axes: number[]) => transpose(x, axes) as KArray);
/** Swaps the last two axes. */
export const matrixTranspose = defapi('np.matrixTranspose', [p('x', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  if (a.ndim < 2) throw traceError(`needs an array of rank at least 2, got shape [${a.shape.join(', ')}]`);
  return lax.transpose(a, a.shape.map((_, i) => (i === a.ndim - 2 ? a.ndim - 1 : i === a.ndim - 1 ? a.ndim - 2 : i)));
});

/** Rotates by 90° `k` times in the plane of `axes`, from the first axis towards the second. */
export const rot90 = defapi('np.rot90', [p('m', A.array), p('k', A.int, 1), p('axes', A.ints, [0, 1])], (x: Operand, k: number, axes: number[]): KArray => {
  const a = asArray(x);
  if (axes.length !== 2) throw traceError(`axes must name two axes, got [${axes.join(', ')}]`);
  const [i, j] = axes.map((ax) => normAxis(ax, a.ndim));
  if (i === j) throw traceError(`axes must be different, got [${axes.join(', ')}]`);
  const perm = a.shape.map((_, d) => (d === i ? j : d === j ? i : d));
  switch (((k % 4) + 4) % 4) {
    case 0: return a;
    case 1: return lax.transpose(lax.reverse(a, [j]), perm);
    case 2: return lax.reverse(a, [i, j]);
    default: return lax.reverse(lax.transpose(a, perm), [j]);
  }
});
/** Reverses axis 1. */
export const fliplr = defapi('np.fliplr', [p('m', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  if (a.ndim < 2) throw traceError(`needs an array of rank at least 2, got shape [${a.shape.join(', ')}]`);
  return flip(a, 1) as KArray;
});
/** Reverses axis 0. */
export const flipud = defapi('np.flipud', [p('m', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  if (a.ndim < 1) throw traceError('needs an array of rank at least 1');
  return flip(a, 0) as KArray;
});

/**
 * The diagonal at `offset` of the plane (`axis1`, `axis2`): those axes are removed and the
 * diagonal is the last axis. It is a strided slice of the flattened plane, so values (NaN, inf)
 * pass through exactly.
 */
export const diagonal = defapi('np.diagonal', [p('a', A.array), p('offset', A.int, 0), p('axis1', A.axis, 0), p('axis2', A.axis, 1)], (x: Operand, offset: number, axis1: number, axis2: number): KArray => {
  const a = asArray(x);
  if (a.ndim < 2) throw traceError(`needs an array of rank at least 2, got shape [${a.shape.join(', ')}]`);
  return diagonalImpl(a, offset, normAxis(axis1, a.ndim), normAxis(axis2, a.ndim));
});

/** The diagonal of axes `i`, `j` of `a` at `offset`, as the last axis. */
function diagonalImpl(a: KArray, offset: number, i: number, j: number): KArray {
  if (i === j) throw traceError(`axis1 and axis2 cannot be the same (${i})`);
  const rest = a.shape.map((_, d) => d).filter((d) => d !== i && d !== j);
  const t = lax.transpose(a, [...rest, i, j]);
  const [n, m] = [a.shape[i], a.shape[j]];
  const batch = rest.map((d) => a.shape[d]);
  const len = Math.max(0, offset >= 0 ? Math.min(n, m - offset) : Math.min(n + offset, m));
  const flat = lax.reshape(t, [...batch, n * m]);
  if (len === 0) return lax.slice(flat, [...batch.map(() => 0), 0], [...batch, 0]);
  const start = offset >= 0 ? offset : -offset * m;
  return lax.slice(flat, [...batch.map(() => 0), start], [...batch, start + (len - 1) * (m + 1) + 1], [...batch.map(() => 1), m + 1]);
}

/** A 2-D array with the flattened input on the k-th diagonal. */
export const diagflat = defapi('np.diagflat', [p('v', A.array), p('k', A.int, 0)], (x: Operand, k: number): KArray => {
  const a0 = asArray(x);
  const v = lax.reshape(a0, [a0.size]);
  const n = v.size, m = n + Math.abs(k);
  // Rows of [n, n+1] holding v[i] then n zeros, flattened and cut to n*n, put v[i] at (i, i).
  const withZeros = lax.pad(lax.reshape(v, [n, 1]), lax.constant(v.dtype, [], 0), [0, 0], [0, n]);
  const diag = lax.reshape(lax.slice(lax.reshape(withZeros, [n * (n + 1)]), [0], [n * n]), [n, n]);
  // Shifted to the k-th diagonal of an [m, m] square.
  const lo = k >= 0 ? [0, k] : [-k, 0];
  const square = lax.pad(diag, lax.constant(v.dtype, [], 0), lo, [m - n - lo[0], m - n - lo[1]]);
  return lax.withWeak(square, a0.weak);
});

/**
 * `choicelist[i]` where `condlist[i]` is the first true condition, else `default` (all broadcast
 * together; conditions must be booleans, as in JAX).
 */
export const select = defapi('np.select', [p('condlist', A.arrays), p('choicelist', A.arrays), p('default', A.array, 0)], (conds: Operand[], choices: Operand[], dflt: Operand): KArray => {
  if (conds.length !== choices.length) throw traceError(`condlist has ${conds.length} entries but choicelist has ${choices.length}`);
  if (conds.length === 0) throw traceError('condlist must not be empty');
  for (const [i, c] of conds.entries()) {
    if (typeof c === 'number' || c.dtype !== 'i1') throw traceError(`condlist[${i}] must be a boolean array, got ${typeof c === 'number' ? 'a number' : c.dtype}`);
  }
  const { args, shape } = prepare([...choices, dflt]);
  const cs = conds.map((c) => c as KArray);
  const full = broadcastShapes(shape, ...cs.map((c) => c.shape));
  let r = broadcastTo(args[args.length - 1], full);
  for (let i = conds.length - 1; i >= 0; i--) r = lax.select(broadcastTo(cs[i], full), broadcastTo(args[i], full), r);
  return r;
});

/** Whether each element of `element` is in `testElements` (`invert` negates). */
export const isin = defapi('np.isin', [p('element', A.array), p('testElements', A.array), p('assumeUnique', A.bool, false), p('invert', A.bool, false)], (x: Operand, t: Operand, _u: boolean, invert: boolean): KArray => {
  const e0 = asArray(x), t0 = asArray(t);
  const { dtype, weak } = resultType(e0, t0);
  const ee = cast(e0, dtype, weak), te = cast(t0, dtype, weak);
  const ef = lax.reshape(ee, [ee.size]), tf = lax.reshape(te, [te.size]);
  const grid = [ef.size, tf.size];
  const eq = lax.compare('EQ', lax.broadcastInDim(ef, grid, [0]), lax.broadcastInDim(tf, grid, [1]));
  const [found] = lax.reduce([eq], [lax.constant('i1', [], 0)], [1], lax.binaryBody(Op.Or));
  const r = lax.reshape(found, e0.shape);
  return invert ? lax.unary(Op.Not, r) : r;
});

/** The Vandermonde matrix: columns are powers of `x`, decreasing unless `increasing`. */
export const vander = defapi('np.vander', [p('x', A.array), p('N', A.orNull(A.count), null), p('increasing', A.bool, false)], (x: Operand, nOrNull: number | null, increasing: boolean): KArray => {
  const a = asArray(x);
  if (a.ndim !== 1) throw traceError(`x must be 1-D, got shape [${a.shape.join(', ')}]`);
  const n = nOrNull ?? a.shape[0];
  const cols: KArray[] = [];
  let pw: KArray = lax.withWeak(lax.constant(a.dtype, a.shape, 1), a.weak);
  for (let i = 0; i < n; i++) {
    cols.push(lax.reshape(pw, [a.shape[0], 1]));
    pw = lax.binary(Op.Multiply, pw, a);
  }
  if (!increasing) cols.reverse();
  return n === 0 ? lax.constant(a.dtype, [a.shape[0], 0], 0) : lax.concatenate(cols, 1);
});

/** The arrays broadcast against each other. */
export function broadcastArrays(...args: unknown[]): KArray[] {
  return apiCall('np.broadcastArrays', () => broadcastArraysOp(args.map((a, i) => A.array.parse(a, `args[${i}]`))));
}
const broadcastArraysOp = defapi('np.broadcastArrays', [p('args', A.arrays)], (xs: Operand[]): KArray[] => {
  const arrays = xs.map(asArray);
  const shape = broadcastShapes(...arrays.map((a) => a.shape));
  return arrays.map((a) => broadcastTo(a, shape));
});
