/**
 * @file NumPy-style indexing with integer arrays and `newaxis`, and JAX's functional index
 * updates `x.at(...index).set/add/multiply/divide/min/max/get`, lowered to `stablehlo.gather` and
 * `stablehlo.scatter` as JAX lowers them.
 *
 * Every indexed position is spelled out: an index expression becomes, for each element of the
 * indexed view, its full coordinate in `x` (an i32 array `[...view shape, rank]`), and the gather
 * or scatter moves single elements (slice sizes 1, every operand dim collapsed). That one form
 * covers integers, strided and reversed slices, integer arrays in any position and `newaxis`
 * alike, for reads and updates, and the existing gather/scatter rules differentiate and batch it.
 * (JAX builds windowed gathers instead; for the small views of a JS program the difference is the
 * index array, `rank` i32s per element.)
 */
import { isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { Op, type GatherDims, type OpAttrs, type ScatterDims } from '../../ir/ops.js';
import { KArray, type AtRef } from '../array.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { apiCall, traceError } from '../site.js';
import { currentTrace, emit1, tracer, valueOf } from '../trace.js';
import { asArray, broadcastShapes, broadcastTo, cast, isNumberLike, type Operand } from './promote.js';

/**
 * One item of an index expression (NumPy's `x[i, j, ...]`, one JS argument per item):
 * - an integer: that position (the axis is dropped); negative counts from the end;
 * - `null` (`np.newaxis`): a new axis of size 1;
 * - `'...'`: as many full slices as the other items leave;
 * - a slice: `':'`, `'start:stop:step'`, `[start, stop, step]` (each a number or null/undefined),
 *   or `{start, stop, step}` (NumPy's `slice` object, `np.s_`'s pieces); `undefined` is `':'`;
 * - an integer Array: advanced indexing; all integer Arrays broadcast together, and their
 *   dimensions go where the first one is when they are adjacent, else first (NumPy's rule);
 * - a boolean Array: refused (the result's shape would depend on the values; JAX refuses it under
 *   `jit` with NonConcreteBooleanIndexError).
 */
export type IndexItem = number | null | string | undefined | KArray | readonly (number | null | undefined)[]
  | { start?: number | null; stop?: number | null; step?: number | null };

/** JAX's out-of-bounds modes for `at[...]` (see {@link AtRef}). */
export type IndexMode = 'promise_in_bounds' | 'clip' | 'drop' | 'fill';

type Item =
  | { kind: 'int'; value: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number | null }
  | { kind: 'array'; value: KArray }
  | { kind: 'newaxis' }
  | { kind: 'ellipsis' };

/** Checks one item (JS callers have no types). `pos` is its place, for messages. */
function parseItem(s: unknown, pos: number): Item {
  const isInt = (v: unknown) => v === null || v === undefined || Number.isInteger(v);
  if (s === null) return { kind: 'newaxis' };
  if (s === undefined) return { kind: 'slice', start: null, stop: null, step: null };
  if (typeof s === 'number') {
    if (!Number.isInteger(s)) throw traceError(`index ${pos} is ${s}; indices must be integers`);
    return { kind: 'int', value: s };
  }
  if (typeof s === 'string') {
    if (s.trim() === '...') return { kind: 'ellipsis' };
    const parts = s.split(':').map((q) => (q.trim() === '' ? null : Number(q)));
    if (parts.length === 1 && parts[0] !== null && Number.isInteger(parts[0])) return { kind: 'int', value: parts[0] };
    if (parts.length < 2 || parts.length > 3 || !parts.every(isInt)) throw traceError(`index ${pos}: bad slice '${s}' (use 'start:stop:step')`);
    return { kind: 'slice', start: parts[0], stop: parts[1], step: parts[2] ?? null };
  }
  if (s instanceof KArray) {
    if (s.dtype === 'i1') {
      throw traceError(currentTrace()
        ? `Array boolean indices must be concrete; got a boolean tracer (${s.describe()}) at index ${pos} (JAX's NonConcreteBooleanIndexError): the result's shape would depend on its values. Use np.where(mask, x, fill) instead`
        : `a boolean mask (${s.describe()}) at index ${pos} selects a number of elements that depends on its values, which kiln cannot read while building the program; use np.where(mask, x, fill), or await mask.data() and index with the positions as an integer Array`);
    }
    if (isFloat(s.dtype)) throw traceError(`index ${pos} is a ${s.describe()} Array; index arrays must be integers`);
    return { kind: 'array', value: s };
  }
  if (Array.isArray(s) && s.length <= 3 && s.every(isInt)) return { kind: 'slice', start: s[0] ?? null, stop: s[1] ?? null, step: s[2] ?? null };
  if (typeof s === 'object' && !Array.isArray(s) && Object.keys(s).every((k) => k === 'start' || k === 'stop' || k === 'step')) {
    const o = s as { start?: number | null; stop?: number | null; step?: number | null };
    if (isInt(o.start) && isInt(o.stop) && isInt(o.step)) return { kind: 'slice', start: o.start ?? null, stop: o.stop ?? null, step: o.step ?? null };
  }
  throw traceError(`index ${pos} must be an integer, a slice (':', 'start:stop:step', [start, stop, step] or {start, stop, step}), '...', null (newaxis) or an integer Array; got ${Array.isArray(s) ? `[${s.join(', ')}]` : typeof s === 'object' ? JSON.stringify(s) : typeof s}`);
}

/** The first element, count and step of a slice of an axis of size `n` (NumPy's `slice.indices`). */
function sliceRange(n: number, start: number | null, stop: number | null, step: number | null): { first: number; count: number; step: number } {
  const st = step ?? 1;
  if (st === 0) throw traceError('slice step cannot be zero');
  const norm = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
  if (st > 0) {
    const s = norm(start ?? 0, 0, n), e = norm(stop ?? n, 0, n);
    return { first: s, count: Math.max(0, Math.ceil((e - s) / st)), step: st };
  }
  const s = start === null ? n - 1 : norm(start, -1, n - 1);
  const e = stop === null ? -1 : norm(stop, -1, n - 1);
  return { first: s, count: Math.max(0, Math.ceil((s - e) / -st)), step: st };
}

/** An index expression resolved against a shape: the view's shape and each element's coordinates. */
interface Resolved {
  /** The shape of `x[index]`. */
  shape: number[];
  /** Per operand dim, the coordinate of each view element (i32, the view's shape). */
  coords: KArray[];
  /** Per operand dim, whether its coordinates can leave [0, n) (integer arrays and integers). */
  unchecked: boolean[];
  /** True when no two view elements share a position (no integer arrays). */
  unique: boolean;
}

/** Resolves `items` against `shape`; must run inside a trace (it emits the coordinate arrays). */
function resolve(shape: readonly number[], raw: readonly unknown[], forUpdate: boolean): Resolved {
  let items = raw.map(parseItem);
  const ells = items.filter((it) => it.kind === 'ellipsis').length;
  if (ells > 1) throw traceError("an index can only have a single ellipsis ('...')");
  const used = items.filter((it) => it.kind !== 'newaxis' && it.kind !== 'ellipsis').length;
  if (used > shape.length) throw traceError(`too many indices: ${used} for an array of rank ${shape.length}`);
  const full: Item = { kind: 'slice', start: null, stop: null, step: null };
  const at = items.findIndex((it) => it.kind === 'ellipsis');
  const fill = Array.from({ length: shape.length - used }, () => full);
  items = at >= 0 ? [...items.slice(0, at), ...fill, ...items.slice(at + 1)] : [...items, ...fill];

  // NumPy's rule: integers count as advanced indices when an array is present.
  const hasArray = items.some((it) => it.kind === 'array');
  const isAdv = (it: Item) => it.kind === 'array' || (hasArray && it.kind === 'int');
  const advPos = items.flatMap((it, i) => (isAdv(it) ? [i] : []));
  const adjacent = advPos.every((p, k) => k === 0 || p === advPos[k - 1] + 1);
  const advArrays = items.filter(isAdv).map((it) => (it.kind === 'array' ? it.value : lax.constant('i32', [], (it as { value: number }).value)));
  const advShape = broadcastShapes(...advArrays.map((a) => a.shape));

  // The view's dims, in order: what each one is.
  type Dim = { item: number; count: number; first: number; step: number } | { item: -1 };
  const dims: Dim[] = [];
  let advAt = adjacent && advPos.length ? -1 : 0; // where the advanced dims start in the view
  if (!adjacent && advPos.length) advShape.forEach(() => dims.push({ item: -1 }));
  let opDim = 0;
  const opDimOfItem: number[] = [];
  items.forEach((it, i) => {
    opDimOfItem.push(opDim);
    if (it.kind === 'newaxis') { dims.push({ item: i, count: 1, first: 0, step: 0 }); return; }
    if (isAdv(it)) {
      if (adjacent && i === advPos[0]) { advAt = dims.length; advShape.forEach(() => dims.push({ item: -1 })); }
      opDim++;
      return;
    }
    const n = shape[opDim];
    if (it.kind === 'int') {
      const k = it.value < 0 ? it.value + n : it.value;
      if (!forUpdate && (k < 0 || k >= n)) throw traceError(`index ${it.value} is out of bounds for axis ${opDim} with size ${n}`);
    } else if (it.kind === 'slice') {
      const r = sliceRange(n, it.start, it.stop, it.step);
      dims.push({ item: i, count: r.count, first: r.first, step: r.step });
    }
    opDim++;
  });
  const viewShape = dims.map((d) => ('count' in d ? d.count : advShape[dims.slice(0, dims.indexOf(d)).filter((e) => !('count' in e)).length]));
  const advDims = advShape.map((_, k) => advAt + k);

  const coords: KArray[] = [];
  const unchecked: boolean[] = [];
  let advK = 0;
  items.forEach((it, i) => {
    if (it.kind === 'newaxis' || it.kind === 'ellipsis') return;
    const n = shape[opDimOfItem[i]];
    if (isAdv(it)) {
      const a = lax.convert(advArrays[advK++], 'i32');
      const b = broadcastTo(a, advShape);
      const wrapped = lax.select(lax.compare('LT', b, lax.constant('i32', advShape, 0)), lax.binary(Op.Add, b, lax.constant('i32', advShape, n)), b);
      coords.push(lax.broadcastInDim(wrapped, viewShape, advDims));
      unchecked.push(true);
      return;
    }
    if (it.kind === 'int') {
      coords.push(lax.constant('i32', viewShape, it.value < 0 ? it.value + n : it.value));
      unchecked.push(true);
      return;
    }
    const v = dims.findIndex((d) => 'count' in d && d.item === i);
    const d = dims[v] as { first: number; step: number };
    const iota = lax.iota('i32', viewShape, v);
    coords.push(lax.binary(Op.Add, lax.binary(Op.Multiply, iota, lax.constant('i32', viewShape, d.step)), lax.constant('i32', viewShape, d.first)));
    unchecked.push(false);
  });
  return { shape: viewShape, coords, unchecked, unique: !hasArray };
}

/** The coordinates as one `[...view, rank]` index array. */
function stackCoords(r: Resolved): KArray {
  const col = [...r.shape, 1];
  return lax.concatenate(r.coords.map((c) => lax.reshape(c, col)), r.shape.length);
}

/** True where every coordinate lies in its axis. */
function inBounds(r: Resolved, shape: readonly number[]): KArray | undefined {
  let ok: KArray | undefined;
  r.coords.forEach((c, d) => {
    if (!r.unchecked[d]) return;
    const v = lax.binary(Op.And, lax.compare('GE', c, lax.constant('i32', r.shape, 0)), lax.compare('LT', c, lax.constant('i32', r.shape, shape[d])));
    ok = ok ? lax.binary(Op.And, ok, v) : v;
  });
  return ok;
}

/** Clamps the coordinates into their axes (mode 'clip'). */
function clamped(r: Resolved, shape: readonly number[]): Resolved {
  const coords = r.coords.map((c, d) => (r.unchecked[d]
    ? lax.binary(Op.Minimum, lax.binary(Op.Maximum, c, lax.constant('i32', r.shape, 0)), lax.constant('i32', r.shape, Math.max(0, shape[d] - 1)))
    : c));
  return { ...r, coords };
}

function pointDims(rank: number, viewRank: number): { gather: GatherDims; scatter: ScatterDims } {
  const all = Array.from({ length: rank }, (_, i) => i);
  return {
    gather: { offsetDims: [], collapsedSliceDims: all, operandBatchingDims: [], startIndicesBatchingDims: [], startIndexMap: all, indexVectorDim: viewRank },
    scatter: { updateWindowDims: [], insertedWindowDims: all, inputBatchingDims: [], scatterIndicesBatchingDims: [], scatterDimsToOperandDims: all, indexVectorDim: viewRank },
  };
}

/** JAX's fill for out-of-bounds gets: NaN, the most negative int, the largest uint, true. */
function defaultFill(dtype: SupportedDType): number {
  if (isFloat(dtype)) return NaN;
  if (dtype === 'i1') return 1;
  return isUnsigned(dtype) ? 4294967295 : -2147483648;
}

/** How a scatter combines what is there with an update. */
export type Combine = 'set' | 'add' | 'mul' | 'min' | 'max';
const COMBINE_OP: { [K in Exclude<Combine, 'set'>]: Op } = { add: Op.Add, mul: Op.Multiply, min: Op.Minimum, max: Op.Maximum };

/**
 * `stablehlo.scatter` of `updates` into `x` at `indices` with `dims`, combining by `how`. An update
 * whose window does not lie in `x` is skipped (JAX's mode 'drop'; the devices implement it so).
 */
export function scatterPrim(x: KArray, indices: KArray, updates: KArray, dims: ScatterDims, how: Combine, unique = false, sorted = false): KArray {
  const b = currentTrace()!.builder;
  const t = { dtype: x.dtype, shape: [] as number[] };
  const region = b.region([t, t], (rb, [old, upd]) => (how === 'set' ? [upd] : [rb.emit1(COMBINE_OP[how], [old, upd], {} as OpAttrs[Op])]));
  return tracer(emit1(Op.Scatter, [valueOf(x), valueOf(indices), valueOf(updates)], { dims, indicesAreSorted: sorted, uniqueIndices: unique }, { regions: [region] }), x.weak);
}

/** `x[index]` with `mode` and `fillValue` for out-of-bounds integer indices. */
export function indexGet(x: KArray, index: readonly unknown[], mode: IndexMode | null = null, fillValue: number | null = null): KArray {
  if (!index.some((it) => it instanceof KArray)) return basicGet(x, index);
  const r0 = resolve(x.shape, index, false);
  const r = mode === 'clip' ? clamped(r0, x.shape) : r0;
  if (r.shape.some((d) => d === 0) || x.ndim === 0) {
    if (x.ndim === 0) return lax.reshape(x, r.shape);
    return lax.constant(x.dtype, r.shape, 0);
  }
  const got = lax.gather(x, stackCoords(r), pointDims(x.ndim, r.shape.length).gather, x.shape.map(() => 1));
  if (mode !== 'fill' && mode !== 'drop') return got; // the gather clamps
  const ok = inBounds(r, x.shape);
  if (!ok) return got;
  return lax.select(ok, got, lax.withWeak(lax.constant(x.dtype, r.shape, fillValue ?? defaultFill(x.dtype)), x.weak));
}

/** `x[index]` without integer Arrays: a strided slice, reversed axes for negative steps, a reshape. */
function basicGet(x: KArray, index: readonly unknown[]): KArray {
  const items = index.map(parseItem);
  const used = items.filter((it) => it.kind !== 'newaxis' && it.kind !== 'ellipsis').length;
  if (items.filter((it) => it.kind === 'ellipsis').length > 1) throw traceError("an index can only have a single ellipsis ('...')");
  if (used > x.ndim) throw traceError(`too many indices: ${used} for an array of rank ${x.ndim}`);
  const at = items.findIndex((it) => it.kind === 'ellipsis');
  const fill: Item[] = Array.from({ length: x.ndim - used }, () => ({ kind: 'slice', start: null, stop: null, step: null }));
  const list = at >= 0 ? [...items.slice(0, at), ...fill, ...items.slice(at + 1)] : [...items, ...fill];
  const start: number[] = [], limit: number[] = [], strides: number[] = [], flip: number[] = [];
  const outShape: number[] = [];
  let d = 0;
  for (const it of list) {
    if (it.kind === 'newaxis') { outShape.push(1); continue; }
    const n = x.shape[d];
    if (it.kind === 'int') {
      const k = it.value < 0 ? it.value + n : it.value;
      if (k < 0 || k >= n) throw traceError(`index ${it.value} is out of bounds for axis ${d} with size ${n}`);
      start.push(k); limit.push(k + 1); strides.push(1);
    } else if (it.kind === 'slice') {
      const r = sliceRange(n, it.start, it.stop, it.step);
      outShape.push(r.count);
      if (r.step > 0) {
        start.push(r.first); limit.push(r.first + Math.max(0, (r.count - 1) * r.step + 1) * (r.count > 0 ? 1 : 0)); strides.push(r.step);
      } else {
        // Slice the reversed axis: position p there is n-1-p here.
        flip.push(d);
        const rs = n - 1 - r.first;
        start.push(r.count === 0 ? 0 : rs); limit.push(r.count === 0 ? 0 : rs + (r.count - 1) * -r.step + 1); strides.push(-r.step);
      }
    }
    d++;
  }
  return lax.reshape(lax.slice(lax.reverse(x, flip), start, limit, strides), outShape);
}

/** `x` with `x[index]` combined with `values` (broadcast to the view, cast to x's dtype). */
export function indexUpdate(x: KArray, index: readonly unknown[], values: Operand, how: Combine, mode: IndexMode | null = null): KArray {
  const r0 = resolve(x.shape, index, true);
  const r = mode === 'clip' ? clamped(r0, x.shape) : r0;
  const v = isNumberLike(values) ? cast(values, x.dtype, false) : lax.convert(asArray(values), x.dtype, false);
  let upd: KArray;
  try {
    upd = broadcastTo(v, r.shape);
  } catch {
    throw traceError(`values of shape [${v.shape.join(', ')}] cannot be broadcast to the indexed shape [${r.shape.join(', ')}]`);
  }
  if (r.shape.some((d) => d === 0)) return x;
  if (x.ndim === 0) {
    const u = lax.reshape(upd, []);
    if (how === 'set') return lax.withWeak(u, x.weak);
    return lax.withWeak(lax.binary(COMBINE_OP[how], x, u), x.weak);
  }
  return scatterPrim(x, stackCoords(r), lax.withWeak(upd, x.weak), pointDims(x.ndim, r.shape.length).scatter, how, r.unique);
}

const getOp = defop('at.get', (x: Operand, index: unknown[], mode: IndexMode | null, fill: number | null) => indexGet(asArray(x), index, mode, fill), [0]);
const updateOp = defop('at.update', (x: Operand, index: unknown[], v: Operand, how: Combine, mode: IndexMode | null) => indexUpdate(asArray(x), index, v, how, mode), [0, 2]);

const MODES: readonly IndexMode[] = ['promise_in_bounds', 'clip', 'drop', 'fill'];

function options(name: string, opts: unknown, allowFill: boolean): { mode: IndexMode | null; fillValue: number | null } {
  if (opts === undefined) return { mode: null, fillValue: null };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw traceError(`${name}: options must be an object such as {mode: 'clip'}`);
  const allowed = ['mode', 'indicesAreSorted', 'uniqueIndices', ...(allowFill ? ['fillValue'] : [])];
  for (const k of Object.keys(opts)) if (!allowed.includes(k)) throw traceError(`${name}: unknown option '${k}'; the options are ${allowed.join(', ')}`);
  const o = opts as { mode?: unknown; fillValue?: unknown };
  if (o.mode !== undefined && o.mode !== null && !MODES.includes(o.mode as IndexMode)) throw traceError(`${name}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(o.mode)}`);
  if (o.fillValue !== undefined && o.fillValue !== null && typeof o.fillValue !== 'number') throw traceError(`${name}: fillValue must be a number, got ${typeof o.fillValue}`);
  return { mode: (o.mode ?? null) as IndexMode | null, fillValue: (o.fillValue ?? null) as number | null };
}

/** Implements {@link AtRef} for `x.at(...index)`. */
class IndexRef implements AtRef {
  constructor(private readonly x: KArray, private readonly index: unknown[]) {}
  private update(name: string, values: Operand, how: Combine, opts: unknown): KArray {
    return apiCall(`at.${name}`, () => {
      const { mode } = options(`at.${name}`, opts, false);
      return updateOp(this.x, this.index, values, how, mode);
    });
  }
  get(opts?: { mode?: IndexMode; fillValue?: number }): KArray {
    return apiCall('at.get', () => {
      const { mode, fillValue } = options('at.get', opts, true);
      return getOp(this.x, this.index, mode, fillValue);
    });
  }
  set(values: Operand, opts?: { mode?: IndexMode }): KArray { return this.update('set', values, 'set', opts); }
  add(values: Operand, opts?: { mode?: IndexMode }): KArray { return this.update('add', values, 'add', opts); }
  subtract(values: Operand, opts?: { mode?: IndexMode }): KArray {
    return apiCall('at.subtract', () => this.update('subtract', negate(values), 'add', opts));
  }
  multiply(values: Operand, opts?: { mode?: IndexMode }): KArray { return this.update('multiply', values, 'mul', opts); }
  min(values: Operand, opts?: { mode?: IndexMode }): KArray { return this.update('min', values, 'min', opts); }
  max(values: Operand, opts?: { mode?: IndexMode }): KArray { return this.update('max', values, 'max', opts); }
  divide(values: Operand, opts?: { mode?: IndexMode }): KArray {
    return apiCall('at.divide', () => {
      const { mode } = options('at.divide', opts, false);
      return divideOp(this.x, this.index, values, mode);
    });
  }
}

const negate = (v: Operand): Operand => (typeof v === 'number' ? -v : defop('at.subtract', (a: Operand) => lax.unary(Op.Negate, asArray(a)), [0])(v));

// JAX divides by the scattered product of the values into ones: positions hit twice divide twice.
const divideOp = defop('at.divide', (x: Operand, index: unknown[], v: Operand, mode: IndexMode | null): KArray => {
  const a = asArray(x);
  if (!isFloat(a.dtype)) throw traceError(`divides an integer array (${a.describe()}) in place; JAX refuses it too: use a float array`);
  const ones = lax.withWeak(lax.constant(a.dtype, a.shape, 1), a.weak);
  return lax.binary(Op.Divide, a, indexUpdate(ones, index, v, 'mul', mode));
}, [0, 2]);

/** `x.at(...index)`: see {@link AtRef}. */
export function at(x: unknown, ...index: unknown[]): AtRef {
  return apiCall('at', () => {
    if (!(x instanceof KArray)) throw traceError(`at needs an Array, got ${typeof x}`);
    index.forEach(parseItem);
    return new IndexRef(x, index);
  });
}

/**
 * `np.index(x, ...items)`: NumPy's `x[items]` with every kind of {@link IndexItem}: integers,
 * slices, `null` (newaxis), `'...'` and integer Arrays (broadcast together). Out-of-bounds integer
 * Array entries are clamped (JAX's default promises they do not occur; its gather clamps).
 */
export function index(x: unknown, ...items: unknown[]): KArray {
  return apiCall('np.index', () => {
    if (!(x instanceof KArray) && typeof x !== 'number') throw traceError(`np.index needs an Array, got ${typeof x}`);
    items.forEach(parseItem);
    return getOp(x as Operand, items, null, null);
  });
}
