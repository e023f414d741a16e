/**
 * @file Shape manipulation: reshape, transpose and axis moves, squeeze and expandDims, joining and
 * splitting, broadcasting, tiling and repeating, padding and flipping.
 */
import { type SupportedDType } from '../../ir/dtype.js';
import type { KArray } from '../array.js';
import { A, defapi, hostArray, p, type ArrayInput, type Axes } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { takeImpl } from './gather.js';
import { asArray, broadcastTo as bcast, cast, checkShape, normAxes, normAxis, resultType, type Operand } from './promote.js';

/** `shape` with one `-1` resolved against `size` elements. */
function resolveShape(shape: readonly number[], size: number): number[] {
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) throw traceError(`can only specify one unknown dimension (-1), got [${shape.join(', ')}]`);
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (!out.every((d) => Number.isInteger(d) && d >= 0) || out.reduce((a, b) => a * b, 1) !== size) {
    throw traceError(`cannot reshape an array of size ${size} into shape [${shape.join(', ')}]`);
  }
  return out;
}

export const reshape = defapi('np.reshape', [p('a', A.array), p('shape', A.ints)], (x: Operand, shape: readonly number[]): KArray => {
  const a = asArray(x);
  return lax.reshape(a, resolveShape(shape, a.size));
}) as (a: ArrayInput, shape: number | readonly number[]) => KArray;

export const ravel = defapi('np.ravel', [p('a', A.array), p('order', A.oneOf('C'), 'C')], (x: Operand): KArray => {
  const a = asArray(x);
  return lax.reshape(a, [a.size]);
}) as (a: ArrayInput) => KArray;

/** Permutes axes (reverses them by default). */
export const transpose = defapi('np.transpose', [p('a', A.array), p('axes', A.orNull(A.ints), null)], (x: Operand, axes?: readonly number[] | null): KArray => {
  const a = asArray(x);
  const perm = axes ? axes.map((ax) => normAxis(ax, a.ndim)) : a.shape.map((_, i) => a.ndim - 1 - i);
  if (perm.length !== a.ndim || new Set(perm).size !== perm.length) {
    throw traceError(`axes [${axes?.join(', ')}] are not a permutation of the ${a.ndim} axes`);
  }
  return lax.transpose(a, perm);
}) as (a: ArrayInput, axes?: readonly number[] | null) => KArray;

export const swapaxes = defapi('np.swapaxes', [p('a', A.array), p('axis1', A.axis), p('axis2', A.axis)], (x: Operand, axis1: number, axis2: number): KArray => {
  const a = asArray(x);
  const i = normAxis(axis1, a.ndim), j = normAxis(axis2, a.ndim);
  const perm = a.shape.map((_, k) => (k === i ? j : k === j ? i : k));
  return lax.transpose(a, perm);
}) as (a: ArrayInput, axis1: number, axis2: number) => KArray;

/** Moves axes `source` to positions `destination`, keeping the order of the others. */
export const moveaxis = defapi('np.moveaxis', [p('a', A.array), p('source', A.ints), p('destination', A.ints)], (x: Operand, source: number | readonly number[], destination: number | readonly number[]): KArray => {
  const a = asArray(x);
  const src = (typeof source === 'number' ? [source] : source).map((s) => normAxis(s, a.ndim));
  const dst = (typeof destination === 'number' ? [destination] : destination).map((d) => normAxis(d, a.ndim));
  if (src.length !== dst.length) throw traceError('source and destination must have the same number of axes');
  const rest = a.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const perm = new Array<number>(a.ndim);
  src.forEach((s, k) => { perm[dst[k]] = s; });
  let r = 0;
  for (let i = 0; i < a.ndim; i++) if (perm[i] === undefined) perm[i] = rest[r++];
  return lax.transpose(a, perm);
}) as (a: ArrayInput, source: number | readonly number[], destination: number | readonly number[]) => KArray;

/**
 * `np.rollAxis(a, axis, start=0)`, as jnp.rollaxis: axis `axis` moved to just before position
 * `start` (the others keep their order). `start` may be `-ndim..ndim`.
 */
export const rollAxis = defapi('np.rollAxis', [p('a', A.array), p('axis', A.axis), p('start', A.int, 0)], (x: Operand, axis: number, start: number): KArray => {
  const a = asArray(x);
  const ax = normAxis(axis, a.ndim);
  if (!Number.isInteger(start) || start < -a.ndim || start > a.ndim) throw traceError(`start ${start} is out of range for an array of rank ${a.ndim} (it must be in [${-a.ndim}, ${a.ndim}])`);
  let s = start < 0 ? start + a.ndim : start;
  if (s > ax) s -= 1;
  return moveaxis(a, ax, s) as KArray;
}) as (a: ArrayInput, axis: number, start?: number) => KArray;

/** Inserts size-1 axes at the positions `axis` of the result. */
export const expandDims = defapi('np.expandDims', [p('a', A.array), p('axis', A.ints)], (x: Operand, axis: number | readonly number[]): KArray => {
  const a = asArray(x);
  const list = typeof axis === 'number' ? [axis] : axis;
  const rank = a.ndim + list.length;
  const axes = normAxes(list, rank);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : a.shape[k++]);
  return lax.reshape(a, shape);
}) as (a: ArrayInput, axis: number | readonly number[]) => KArray;

/** Removes size-1 axes (all of them, or those named, which must have size 1). */
export const squeeze = defapi('np.squeeze', [p('a', A.array), p('axis', A.axes, null)], (x: Operand, axis?: number | readonly number[] | null): KArray => {
  const a = asArray(x);
  const axes = axis === undefined || axis === null ? a.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes(axis, a.ndim);
  for (const ax of axes) {
    if (a.shape[ax] !== 1) throw traceError(`cannot squeeze axis ${ax} of size ${a.shape[ax]} (shape [${a.shape.join(', ')}])`);
  }
  return lax.reshape(a, a.shape.filter((_, i) => !axes.includes(i)));
}) as (a: ArrayInput, axis?: Axes) => KArray;

function promoteAll(xs: readonly Operand[], force: SupportedDType | null = null): { arrays: KArray[]; dtype: SupportedDType } {
  if (xs.length === 0) throw traceError('need at least one array');
  const { dtype: promoted, weak } = resultType(...xs);
  const dtype = force ?? promoted;
  return { arrays: xs.map((x) => cast(x, dtype, weak)), dtype };
}

/** Joins arrays along an existing axis (default 0; null joins the flattened arrays). */
export const concatenate = defapi('np.concatenate', [p('arrays', A.arrays), p('axis', A.axisOrNull, 0), p('dtype', A.orNull(A.dtype), null)], (xs: readonly Operand[], axisOrNull: number | null, dtype: SupportedDType | null): KArray => {
  let { arrays } = promoteAll(xs, dtype);
  let axis = axisOrNull ?? 0;
  if (axisOrNull === null) arrays = arrays.map((a) => lax.reshape(a, [a.size]));
  const rank = arrays[0].ndim;
  if (rank === 0) throw traceError('zero-dimensional arrays cannot be concatenated');
  const ax = normAxis(axis, rank);
  for (const a of arrays) {
    if (a.ndim !== rank || a.shape.some((d, i) => i !== ax && d !== arrays[0].shape[i])) {
      throw traceError(`all shapes must agree except on axis ${ax}: [${arrays[0].shape.join(', ')}] vs [${a.shape.join(', ')}]`);
    }
  }
  return lax.concatenate(arrays, ax);
}) as (arrays: readonly ArrayInput[] | KArray, axis?: number | null | { axis?: number | null; dtype?: string }, dtype?: string) => KArray;

/** Joins arrays of equal shape along a new axis. */
export const stack = defapi('np.stack', [p('arrays', A.arrays), p('axis', A.axis, 0), p('out', A.unsupported('kiln has no out= arrays'), null), p('dtype', A.orNull(A.dtype), null)], (xs: readonly Operand[], axis: number, _out: null, dtype: SupportedDType | null): KArray => {
  const { arrays } = promoteAll(xs, dtype);
  const shape = arrays[0].shape;
  for (const a of arrays) {
    if (a.ndim !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw traceError(`all arrays must have the same shape: [${shape.join(', ')}] vs [${a.shape.join(', ')}]`);
    }
  }
  const ax = normAxis(axis, shape.length + 1);
  const expanded = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
  return lax.concatenate(arrays.map((a) => lax.reshape(a, expanded)), ax);
}) as (arrays: readonly ArrayInput[] | KArray, axis?: number | { axis?: number; dtype?: string }, ...rest: unknown[]) => KArray;

/**
 * Splits along `axis` into `sections` equal parts, or at the given indices (NumPy's
 * `split(x, [2, 5])` gives x[:2], x[2:5], x[5:]).
 */
export const split = defapi('np.split', [p('ary', A.array), p('indicesOrSections', A.intOrInts), p('axis', A.axis, 0)], (x: Operand, sections: number | readonly number[], axis = 0): KArray[] => {
  const a = asArray(x);
  const ax = normAxis(axis, a.ndim);
  const n = a.shape[ax];
  let cuts: number[];
  if (typeof sections === 'number') {
    if (!Number.isInteger(sections) || sections <= 0 || n % sections !== 0) {
      throw traceError(`array split does not result in an equal division: axis ${ax} of size ${n} into ${sections}`);
    }
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else {
    cuts = sections.map((c) => Math.min(n, Math.max(0, c < 0 ? c + n : c)));
  }
  const bounds = [0, ...cuts, n];
  const parts: KArray[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i], hi = Math.max(bounds[i], bounds[i + 1]);
    parts.push(lax.slice(a, a.shape.map((_, k) => (k === ax ? lo : 0)), a.shape.map((d, k) => (k === ax ? hi : d))));
  }
  return parts;
}) as (ary: ArrayInput, indicesOrSections: number | readonly number[], axis?: number) => KArray[];

export const broadcastTo = defapi('np.broadcastTo', [p('array', A.array), p('shape', A.shape)], (x: Operand, shape: readonly number[]): KArray => {
  return bcast(asArray(x), checkShape(shape));
}) as (array: ArrayInput, shape: number | readonly number[]) => KArray;

/** Repeats the whole array `reps` times along each axis. */
export const tile = defapi('np.tile', [p('A', A.array), p('reps', A.shape)], (x: Operand, reps: number | readonly number[]): KArray => {
  let a = asArray(x);
  const r = typeof reps === 'number' ? [reps] : [...reps];
  const rank = Math.max(a.ndim, r.length);
  while (r.length < rank) r.unshift(1);
  a = lax.reshape(a, [...new Array<number>(rank - a.ndim).fill(1), ...a.shape]);
  // Broadcast to [r0, d0, r1, d1, ...] and merge each pair.
  const inter = a.shape.flatMap((d, i) => [r[i], d]);
  const b = lax.broadcastInDim(a, inter, a.shape.map((_, i) => 2 * i + 1));
  return lax.reshape(b, a.shape.map((d, i) => d * r[i]));
}) as (A: ArrayInput, reps: number | readonly number[]) => KArray;

/** Repeats each element `repeats` times along `axis` (the flattened array when null). */
export const repeat = defapi('np.repeat', [p('a', A.array), p('repeats', A.count), p('axis', A.axisOrNull, null), p('totalRepeatLength', A.unsupported('not implemented'), null, true)], (x: Operand, repeats: number, axis: number | null = null): KArray => {
  let a = asArray(x);
  if (!Number.isInteger(repeats) || repeats < 0) throw traceError(`repeats must be a non-negative integer, got ${repeats}`);
  if (axis === null) a = lax.reshape(a, [a.size]);
  const ax = normAxis(axis ?? 0, a.ndim);
  const inter = [...a.shape.slice(0, ax + 1), repeats, ...a.shape.slice(ax + 1)];
  const dims = a.shape.map((_, i) => (i <= ax ? i : i + 1));
  const b = lax.broadcastInDim(a, inter, dims);
  return lax.reshape(b, a.shape.map((d, i) => (i === ax ? d * repeats : d)));
}) as (a: ArrayInput, repeats: number, axis?: number | null) => KArray;

/**
 * `np.pad(x, width, mode='constant', {constantValues})`, as jnp.pad: `width` is a number,
 * `[before, after]`, or one such pair per axis. Modes: 'constant' (0 by default), 'edge' (the edge
 * value repeated), 'reflect' (mirrored without repeating the edge), 'symmetric' (mirrored with it)
 * and 'wrap' (periodic); widths beyond the axis size keep mirroring or wrapping, as NumPy. JAX's
 * statistic modes (mean, maximum, linear_ramp, ...) are refused.
 */
export const pad = defapi('np.pad', [p('array', A.array), p('padWidth', A.any), p('mode', A.oneOf<PadMode>('constant', 'edge', 'reflect', 'symmetric', 'wrap'), 'constant'), p('constantValues', A.number, 0, true)], (x: Operand, width: number | readonly number[] | readonly (readonly number[])[], mode: PadMode, constantValue: number): KArray => {
  const a = asArray(x);
  const pairs: [number, number][] = typeof width === 'number'
    ? a.shape.map(() => [width, width])
    : typeof width[0] === 'number'
      ? a.shape.map(() => [(width as number[])[0], (width as number[])[1] ?? (width as number[])[0]])
      : (width as number[][]).map((p) => [p[0], p[1] ?? p[0]]);
  if (!(typeof width === 'number' || Array.isArray(width)) || pairs.length !== a.ndim || pairs.some(([l, h]) => !Number.isInteger(l) || !Number.isInteger(h) || l < 0 || h < 0)) {
    throw traceError(`pad widths ${JSON.stringify(width)} do not fit an array of rank ${a.ndim}`);
  }
  if (mode === 'constant') return lax.pad(a, cast(constantValue, a.dtype), pairs.map((p) => p[0]), pairs.map((p) => p[1]));
  // The other modes read the input at a static index per output position, axis by axis.
  return pairs.reduce((r, [lo, hi], ax) => {
    if (lo === 0 && hi === 0) return r;
    const n = r.shape[ax];
    if (n === 0) throw traceError(`cannot pad an empty axis (axis ${ax}) with mode '${mode}'`);
    const idx = Array.from({ length: n + lo + hi }, (_, i) => padSource(mode, i - lo, n));
    return takeImpl(r, hostArray('i32', [idx.length], idx), ax);
  }, a);
}) as (array: ArrayInput, padWidth: number | readonly number[] | readonly (readonly number[])[], ...rest: unknown[]) => KArray;

type PadMode = 'constant' | 'edge' | 'reflect' | 'symmetric' | 'wrap';

/** The input index that position `j` (relative to the first input element) of a padded axis of size `n` copies. */
function padSource(mode: Exclude<PadMode, 'constant'>, j: number, n: number): number {
  const mod = (v: number, m: number) => ((v % m) + m) % m;
  if (mode === 'edge') return Math.min(Math.max(j, 0), n - 1);
  if (mode === 'wrap') return mod(j, n);
  if (mode === 'symmetric') { const k = mod(j, 2 * n); return k < n ? k : 2 * n - 1 - k; }
  if (n === 1) return 0;
  const k = mod(j, 2 * n - 2); // reflect: mirrored about the edge elements, which are not repeated
  return k < n ? k : 2 * n - 2 - k;
}

/** Reverses the order of elements along `axis` (all axes when null). */
export const flip = defapi('np.flip', [p('m', A.array), p('axis', A.axes, null)], (x: Operand, axis: number | readonly number[] | null = null): KArray => {
  const a = asArray(x);
  return lax.reverse(a, normAxes(axis, a.ndim));
}) as (m: ArrayInput, axis?: Axes) => KArray;

/** The slices of `x` along `axis` (default 0), each without that axis: what iterating an Array gives. */
export const unstack = defapi('np.unstack', [p('x', A.array), p('axis', A.axis, 0)], (x: Operand, axis: number): KArray[] => {
  const a = asArray(x);
  if (a.ndim === 0) throw traceError('unstack needs an array of rank at least 1, got a 0-d array');
  const ax = normAxis(axis, a.ndim);
  const shape = a.shape.filter((_, i) => i !== ax);
  return Array.from({ length: a.shape[ax] }, (_, k) =>
    lax.reshape(lax.slice(a, a.shape.map((_, i) => (i === ax ? k : 0)), a.shape.map((d, i) => (i === ax ? k + 1 : d))), shape));
}) as (x: ArrayInput, axis?: number) => KArray[];
