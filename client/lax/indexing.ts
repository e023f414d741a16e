/**
 * @file `lax`'s dynamic slicing (`dynamicSlice`, `dynamicUpdateSlice` and their one-axis forms,
 * start indices clamped so the slice fits, as JAX and StableHLO do) and JAX's segment reductions
 * (`jax.ops.segment_sum/max/min/prod`, exported here as `lax.segmentSum`, ...).
 */
import { isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import { KArray } from '../array.js';
import { A, defapi, p, type Check } from '../args.js';
import * as prim from '../lax.js';
import { indexUpdate, scatterPrim, type Combine } from '../numpy/at.js';
import { asArray, normAxis, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { emit1, tracer, valueOf } from '../trace.js';

/** Start indices: one integer (a JS integer or an integer scalar Array) per operand dim. */
const STARTS: Check<(KArray | number)[]> = {
  accepts: 'a list of start indices (JS integers or integer scalar Arrays), one per dimension, or a 1-D integer Array',
  parse(v) {
    if (v instanceof KArray) {
      if (v.ndim === 1 && !isFloat(v.dtype) && v.dtype !== 'i1') return [v];
      throw traceError(`start indices must be ${STARTS.accepts}, got ${v.describe()}`);
    }
    if (!Array.isArray(v) || !v.every((s) => Number.isInteger(s) || (s instanceof KArray && s.ndim === 0 && !isFloat(s.dtype) && s.dtype !== 'i1'))) {
      throw traceError(`start indices must be ${STARTS.accepts}, got ${Array.isArray(v) ? `[${v.map(String).join(', ')}]` : String(v)}`);
    }
    return v as (KArray | number)[];
  },
};
/** An integer scalar index: a JS integer or an integer scalar Array. */
const INDEX: Check<KArray | number> = {
  accepts: 'an integer or an integer scalar Array',
  parse(v) {
    if (Number.isInteger(v)) return v as number;
    if (v instanceof KArray && v.ndim === 0 && !isFloat(v.dtype) && v.dtype !== 'i1') return v;
    throw traceError(`index must be ${INDEX.accepts}, got ${v instanceof KArray ? v.describe() : String(v)}`);
  },
};

/** The start indices as i32 scalars, one per dim of an operand of rank `rank`. */
function startScalars(starts: readonly (KArray | number)[], rank: number): KArray[] {
  let list: (KArray | number)[] = [...starts];
  if (list.length === 1 && list[0] instanceof KArray && (list[0] as KArray).ndim === 1) {
    const v = list[0] as KArray;
    list = Array.from({ length: v.shape[0] }, (_, i) => prim.reshape(prim.slice(v, [i], [i + 1]), []));
  }
  if (list.length !== rank) throw traceError(`got ${list.length} start indices for an operand of rank ${rank}`);
  return list.map((s) => (typeof s === 'number' ? prim.constant('i32', [], s) : prim.convert(s, 'i32')));
}

function dynSlice(x: KArray, starts: KArray[], sizes: readonly number[]): KArray {
  if (sizes.length !== x.ndim) throw traceError(`got ${sizes.length} slice sizes for an operand of rank ${x.ndim}`);
  sizes.forEach((s, i) => {
    if (s > x.shape[i]) throw traceError(`slice size ${s} is larger than axis ${i} of size ${x.shape[i]}`);
  });
  return tracer(emit1(Op.DynamicSlice, [valueOf(x), ...starts.map(valueOf)], { sliceSizes: [...sizes] }), x.weak);
}

function dynUpdate(x: KArray, update: KArray, starts: KArray[]): KArray {
  if (update.ndim !== x.ndim) throw traceError(`the update (${update.describe()}) must have the operand's rank ${x.ndim}`);
  if (update.dtype !== x.dtype) throw traceError(`the update (${update.describe()}) must have the operand's dtype ${x.dtype} (lax does not promote)`);
  update.shape.forEach((s, i) => {
    if (s > x.shape[i]) throw traceError(`the update's axis ${i} (${s}) is larger than the operand's (${x.shape[i]})`);
  });
  return tracer(emit1(Op.DynamicUpdateSlice, [valueOf(x), valueOf(update), ...starts.map(valueOf)], {}), x.weak);
}

/**
 * `lax.dynamicSlice(operand, startIndices, sliceSizes)`: the block of `sliceSizes` at
 * `startIndices` (values known only at run time allowed); starts are clamped to
 * `[0, dim - size]` so the block always fits, as in JAX.
 */
export const dynamicSlice = defapi('lax.dynamicSlice', [p('operand', A.array), p('startIndices', STARTS), p('sliceSizes', A.ints)],
  (x: Operand, starts: (KArray | number)[], sizes: number[]): KArray => {
    const a = asArray(x);
    return dynSlice(a, startScalars(starts, a.ndim), sizes);
  });

/** `lax.dynamicUpdateSlice(operand, update, startIndices)`: `operand` with the block at the (clamped) starts replaced by `update`. */
export const dynamicUpdateSlice = defapi('lax.dynamicUpdateSlice', [p('operand', A.array), p('update', A.array), p('startIndices', STARTS)],
  (x: Operand, u: Operand, starts: (KArray | number)[]): KArray => {
    const a = asArray(x);
    return dynUpdate(a, asArray(u), startScalars(starts, a.ndim));
  });

/** Starts that are 0 except `index` at `axis`. */
function startsAt(index: KArray | number, axis: number, rank: number): KArray[] {
  return Array.from({ length: rank }, (_, i) => (i === axis ? (typeof index === 'number' ? prim.constant('i32', [], index) : prim.convert(index, 'i32')) : prim.constant('i32', [], 0)));
}

/** `lax.dynamicSliceInDim(operand, startIndex, sliceSize, axis = 0)`. */
export const dynamicSliceInDim = defapi('lax.dynamicSliceInDim', [p('operand', A.array), p('startIndex', INDEX), p('sliceSize', A.count), p('axis', A.axis, 0)],
  (x: Operand, start: KArray | number, size: number, axis: number): KArray => {
    const a = asArray(x);
    const ax = normAxis(axis, a.ndim);
    return dynSlice(a, startsAt(start, ax, a.ndim), a.shape.map((d, i) => (i === ax ? size : d)));
  });

/** `lax.dynamicIndexInDim(operand, index, axis = 0, keepdims = true)`: the slice at `index` (clamped) along `axis`. */
export const dynamicIndexInDim = defapi('lax.dynamicIndexInDim', [p('operand', A.array), p('index', INDEX), p('axis', A.axis, 0), p('keepdims', A.bool, true)],
  (x: Operand, index: KArray | number, axis: number, keepdims: boolean): KArray => {
    const a = asArray(x);
    const ax = normAxis(axis, a.ndim);
    const s = dynSlice(a, startsAt(index, ax, a.ndim), a.shape.map((d, i) => (i === ax ? 1 : d)));
    return keepdims ? s : prim.reshape(s, a.shape.filter((_, i) => i !== ax));
  });

/** `lax.dynamicUpdateSliceInDim(operand, update, startIndex, axis)`. */
export const dynamicUpdateSliceInDim = defapi('lax.dynamicUpdateSliceInDim', [p('operand', A.array), p('update', A.array), p('startIndex', INDEX), p('axis', A.axis)],
  (x: Operand, u: Operand, start: KArray | number, axis: number): KArray => {
    const a = asArray(x);
    return dynUpdate(a, asArray(u), startsAt(start, normAxis(axis, a.ndim), a.ndim));
  });

/** `lax.dynamicUpdateIndexInDim(operand, update, index, axis)`: `update` may lack the axis (it is added). */
export const dynamicUpdateIndexInDim = defapi('lax.dynamicUpdateIndexInDim', [p('operand', A.array), p('update', A.array), p('index', INDEX), p('axis', A.axis)],
  (x: Operand, u: Operand, index: KArray | number, axis: number): KArray => {
    const a = asArray(x);
    const ax = normAxis(axis, a.ndim);
    let upd = asArray(u);
    if (upd.ndim === a.ndim - 1) upd = prim.reshape(upd, [...upd.shape.slice(0, ax), 1, ...upd.shape.slice(ax)]);
    return dynUpdate(a, upd, startsAt(index, ax, a.ndim));
  });

// ---- segment reductions ------------------------------------------------------------------------

/** The identity of each combine, as JAX's segment_max/min start from -inf/+inf (or the int extremes). */
function identity(how: Combine, dtype: SupportedDType): number {
  const big = isFloat(dtype) ? Infinity : dtype === 'i1' ? 1 : isUnsigned(dtype) ? 4294967295 : 2147483647;
  const small = isFloat(dtype) ? -Infinity : dtype === 'i1' || isUnsigned(dtype) ? 0 : -2147483648;
  return how === 'add' ? 0 : how === 'mul' ? 1 : how === 'max' ? small : big;
}

function segment(name: string, how: Combine) {
  return defapi(name, [
    p('data', A.array), p('segmentIds', A.array), p('numSegments', A.orNull(A.count), null),
    p('indicesAreSorted', A.bool, false), p('uniqueIndices', A.bool, false), p('bucketSize', A.unsupported('kiln does not bucket'), null),
    p('mode', A.orNull(A.oneOf('drop', 'fill', 'clip', 'promise_in_bounds')), null),
  ], (d: Operand, ids: KArray, n: number | null, _s: boolean, _u: boolean, _b: null, mode: 'drop' | 'fill' | 'clip' | 'promise_in_bounds' | null): KArray => {
    const data = asArray(d);
    if (n === null) throw traceError('numSegments is required: kiln cannot read max(segmentIds) + 1 while building the program (JAX needs it concretely too)');
    if (isFloat(ids.dtype) || ids.dtype === 'i1') throw traceError(`segmentIds must be integers, got ${ids.describe()}`);
    if (ids.ndim !== 1 || data.ndim < 1 || ids.shape[0] !== data.shape[0]) {
      throw traceError(`segmentIds (${ids.describe()}) must be 1-D and as long as data's first axis (${data.describe()})`);
    }
    const out = prim.withWeak(prim.constant(data.dtype, [n, ...data.shape.slice(1)], identity(how, data.dtype)), data.weak);
    // Ids outside [0, n) are dropped (JAX's default 'drop'; negative ids are not wrapped by JAX).
    const safe = mode === 'clip' ? ids : prim.select(prim.compare('LT', prim.convert(ids, 'i32'), prim.constant('i32', ids.shape, 0)), prim.constant('i32', ids.shape, n), prim.convert(ids, 'i32'));
    return indexUpdate(out, [safe], data, how, mode === 'clip' ? 'clip' : 'drop');
  });
}

/** `lax.segmentSum(data, segmentIds, numSegments)`: sums of data's rows by segment id (jax.ops.segment_sum); ids outside [0, numSegments) are dropped. */
export const segmentSum = segment('lax.segmentSum', 'add');
/** `lax.segmentMax(data, segmentIds, numSegments)`: maxima by segment; empty segments hold -inf (the dtype's minimum for ints). */
export const segmentMax = segment('lax.segmentMax', 'max');
/** `lax.segmentMin(data, segmentIds, numSegments)`: minima by segment; empty segments hold +inf (the dtype's maximum for ints). */
export const segmentMin = segment('lax.segmentMin', 'min');
/** `lax.segmentProd(data, segmentIds, numSegments)`: products by segment; empty segments hold 1. */
export const segmentProd = segment('lax.segmentProd', 'mul');

// ---- gather and scatter with JAX's dimension numbers ----------------------------------------------

/**
 * JAX's `GatherDimensionNumbers` as a plain object with camelCase fields. The index vector is the
 * last dim of `startIndices`, as in JAX.
 */
export interface GatherDimensionNumbers {
  offsetDims: number[];
  collapsedSliceDims: number[];
  startIndexMap: number[];
  operandBatchingDims?: number[];
  startIndicesBatchingDims?: number[];
}

/** JAX's `ScatterDimensionNumbers` as a plain object with camelCase fields. */
export interface ScatterDimensionNumbers {
  updateWindowDims: number[];
  insertedWindowDims: number[];
  scatterDimsToOperandDims: number[];
  operandBatchingDims?: number[];
  scatterIndicesBatchingDims?: number[];
}

type LaxMode = 'clip' | 'fill' | 'drop' | 'promise_in_bounds';

function dimsObject<T>(fields: string[], optional: string[]): Check<T> {
  const accepts = `an object {${[...fields, ...optional.map((f) => `${f}?`)].join(', ')}} of integer lists`;
  return {
    accepts,
    parse(v) {
      const o = v as Record<string, unknown>;
      const okList = (x: unknown) => Array.isArray(x) && x.every(Number.isInteger);
      if (typeof v !== 'object' || v === null || !fields.every((f) => okList(o[f])) || !optional.every((f) => o[f] === undefined || okList(o[f]))
        || !Object.keys(o).every((k) => fields.includes(k) || optional.includes(k))) {
        throw traceError(`dimensionNumbers must be ${accepts}, got ${JSON.stringify(v)}`);
      }
      return v as T;
    },
  };
}

/** The start vectors (last dim of `idx`) clamped to `[0, dim - size]` along the mapped dims. */
function clampVectors(idx: KArray, toOperand: readonly number[], shape: readonly number[], sizes: readonly number[]): KArray {
  const lo = prim.constant('i32', idx.shape, 0);
  const his = toOperand.map((d) => Math.max(0, shape[d] - sizes[d]));
  const bound = prim.broadcastInDim(prim.constant('i32', [his.length], his), idx.shape, [idx.ndim - 1]);
  return prim.binary(Op.Minimum, prim.binary(Op.Maximum, idx, lo), bound);
}

/** True per start vector whose window fits (`[...idx.shape[:-1]]`). */
function vectorsFit(idx: KArray, toOperand: readonly number[], shape: readonly number[], sizes: readonly number[]): KArray {
  const clampedIdx = clampVectors(idx, toOperand, shape, sizes);
  const same = prim.compare('EQ', clampedIdx, idx);
  return prim.reduce([same], [prim.constant('i1', [], 1)], [idx.ndim - 1], prim.binaryBody(Op.And))[0];
}

/**
 * `lax.gather(operand, startIndices, dimensionNumbers, sliceSizes, {indicesAreSorted,
 * uniqueIndices, mode, fillValue})`: XLA's gather with JAX's modes: 'fill' (a slice that does not
 * fit gives `fillValue`, default NaN / the int extreme), 'clip' and 'promise_in_bounds', and no
 * mode (JAX 0.11's default): starts are clamped so the slice fits.
 */
export const gather = defapi('lax.gather', [
  p('operand', A.array), p('startIndices', A.array),
  p('dimensionNumbers', dimsObject<GatherDimensionNumbers>(['offsetDims', 'collapsedSliceDims', 'startIndexMap'], ['operandBatchingDims', 'startIndicesBatchingDims'])),
  p('sliceSizes', A.ints), p('indicesAreSorted', A.bool, false), p('uniqueIndices', A.bool, false),
  p('mode', A.orNull(A.oneOf<LaxMode>('clip', 'fill', 'drop', 'promise_in_bounds')), null), p('fillValue', A.orNull(A.number), null),
], (x0: Operand, idx0: KArray, dn: GatherDimensionNumbers, sizes: number[], sorted: boolean, _u: boolean, mode: LaxMode | null, fillValue: number | null): KArray => {
  const x = asArray(x0);
  if (isFloat(idx0.dtype) || idx0.dtype === 'i1') throw traceError(`startIndices must be integers, got ${idx0.describe()}`);
  const idx = prim.convert(idx0, 'i32');
  if (idx.ndim < 1 || idx.shape[idx.ndim - 1] !== dn.startIndexMap.length) {
    throw traceError(`startIndices (${idx.describe()}) must end in a dim of size ${dn.startIndexMap.length} (startIndexMap's length)`);
  }
  const dims = {
    offsetDims: dn.offsetDims, collapsedSliceDims: dn.collapsedSliceDims, startIndexMap: dn.startIndexMap,
    operandBatchingDims: dn.operandBatchingDims ?? [], startIndicesBatchingDims: dn.startIndicesBatchingDims ?? [], indexVectorDim: idx.ndim - 1,
  };
  if (fillValue !== null && mode !== 'fill') throw traceError(`fillValue ${fillValue} applies only with mode 'fill' (mode is ${mode === null ? "unset, which clamps as JAX's lax.gather does" : `'${mode}'`})`);
  const out = tracer(emit1(Op.Gather, [valueOf(x), valueOf(idx)], { dims, sliceSizes: sizes, indicesAreSorted: sorted }), x.weak);
  // JAX 0.11's lax.gather without a mode clamps the starts (its library.json case lax.gather:fill).
  if (mode === null || mode === 'clip' || mode === 'promise_in_bounds') return out;
  const ok = vectorsFit(idx, dn.startIndexMap, x.shape, sizes);
  const batchDims = out.shape.map((_, i) => i).filter((i) => !dn.offsetDims.includes(i));
  const fill = fillValue ?? (isFloat(x.dtype) ? NaN : isUnsigned(x.dtype) ? 4294967295 : x.dtype === 'i1' ? 1 : -2147483648);
  return prim.select(prim.broadcastInDim(ok, out.shape, batchDims), out, prim.withWeak(prim.constant(x.dtype, out.shape, fill), x.weak));
});

function scatterApi(name: string, how: Combine) {
  return defapi(name, [
    p('operand', A.array), p('scatterIndices', A.array),
    p('updates', A.array),
    p('dimensionNumbers', dimsObject<ScatterDimensionNumbers>(['updateWindowDims', 'insertedWindowDims', 'scatterDimsToOperandDims'], ['operandBatchingDims', 'scatterIndicesBatchingDims'])),
    p('indicesAreSorted', A.bool, false), p('uniqueIndices', A.bool, false),
    p('mode', A.orNull(A.oneOf<LaxMode>('clip', 'fill', 'drop', 'promise_in_bounds')), null),
  ], (x0: Operand, idx0: KArray, u0: Operand, dn: ScatterDimensionNumbers, sorted: boolean, unique: boolean, mode: LaxMode | null): KArray => {
    const x = asArray(x0);
    const u = asArray(u0);
    if (u.dtype !== x.dtype) throw traceError(`updates (${u.describe()}) must have the operand's dtype ${x.dtype} (lax does not promote)`);
    if (isFloat(idx0.dtype) || idx0.dtype === 'i1') throw traceError(`scatterIndices must be integers, got ${idx0.describe()}`);
    let idx = prim.convert(idx0, 'i32');
    if (idx.ndim < 1 || idx.shape[idx.ndim - 1] !== dn.scatterDimsToOperandDims.length) {
      throw traceError(`scatterIndices (${idx.describe()}) must end in a dim of size ${dn.scatterDimsToOperandDims.length} (scatterDimsToOperandDims's length)`);
    }
    const dims = {
      updateWindowDims: dn.updateWindowDims, insertedWindowDims: dn.insertedWindowDims, scatterDimsToOperandDims: dn.scatterDimsToOperandDims,
      inputBatchingDims: dn.operandBatchingDims ?? [], scatterIndicesBatchingDims: dn.scatterIndicesBatchingDims ?? [], indexVectorDim: idx.ndim - 1,
    };
    if (mode === 'clip') {
      // Window sizes along the operand's dims: 1 where inserted, else the update's window dim.
      const windowDims = x.shape.map((_, i) => i).filter((i) => !dims.insertedWindowDims.includes(i) && !dims.inputBatchingDims.includes(i));
      const sizes = x.shape.map((_, i) => (windowDims.includes(i) ? u.shape[dn.updateWindowDims[windowDims.indexOf(i)]] : 1));
      idx = clampVectors(idx, dn.scatterDimsToOperandDims, x.shape, sizes);
    }
    return scatterPrim(x, idx, prim.withWeak(u, x.weak), dims, how, unique, sorted);
  });
}

/**
 * `lax.scatter(operand, scatterIndices, updates, dimensionNumbers, {indicesAreSorted,
 * uniqueIndices, mode})`: overwrites windows of `operand`. Updates whose window does not fit are
 * dropped (JAX's default 'fill'/'drop'; 'promise_in_bounds' behaves the same), or clamped with 'clip'.
 * A trailing plain object is kiln's options object, so the dimension numbers, which are one,
 * go into it when nothing follows them: `lax.scatterAdd(x, idx, u, {dimensionNumbers, mode})`.
 */
export const scatter = scatterApi('lax.scatter', 'set');
/** `lax.scatterAdd(...)`: as {@link scatter}, adding; positions hit twice get both updates. */
export const scatterAdd = scatterApi('lax.scatterAdd', 'add');
/** `lax.scatterMul(...)`: as {@link scatter}, multiplying. */
export const scatterMul = scatterApi('lax.scatterMul', 'mul');
/** `lax.scatterMin(...)`: as {@link scatter}, keeping the minimum. */
export const scatterMin = scatterApi('lax.scatterMin', 'min');
/** `lax.scatterMax(...)`: as {@link scatter}, keeping the maximum. */
export const scatterMax = scatterApi('lax.scatterMax', 'max');
