/**
 * @file Reductions on the reference interpreter: reduce, reduce_window, select_and_scatter,
 * sort and top_k. The body regions arrive as plain functions on scalars (see `regions.ts`), so
 * these loops know nothing of the IR. https://openxla.org/stablehlo/spec#reduce and neighbours
 */
import { allocHost, allocNarrow, isFloat, type NarrowDType } from '../../ir/dtype.js';
import { totalOrderKey } from '../../ir/scalar.js';
import { numElements, stridesOf } from '../../ir/types.js';
import { narrowData, type HostTensor } from '../tensor.js';
import { flatOf, forEachIndex } from './indexing.js';

/**
 * A body region as a function: takes the N accumulators then the N new elements and returns
 * N values, already rounded or wrapped to their dtypes. `scalar` is set when N = 1 and the body
 * is a single known op, so hot loops can skip the array plumbing.
 */
export interface Reducer {
  apply(acc: number[], x: number[]): number[];
  scalar?: (a: number, b: number) => number;
}

function allocLike(xs: readonly HostTensor[], shape: readonly number[]): HostTensor[] {
  return xs.map((x) => ({ dtype: x.dtype, shape: [...shape], data: allocHost(x.dtype, numElements(shape)) }));
}

/**
 * `reduce` of N operands over `dims` from N scalar inits. Elements are folded in row-major
 * order, one body application each, starting from the init (the spec leaves the order open).
 */
export function reduce(xs: readonly HostTensor[], inits: readonly number[], dims: readonly number[], body: Reducer): HostTensor[] {
  const shape = xs[0].shape;
  const keep = shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const rshape = keep.map((d) => shape[d]);
  const rst = stridesOf(rshape);
  const kst = shape.map((_, d) => { const k = keep.indexOf(d); return k < 0 ? 0 : rst[k]; });
  const outs = allocLike(xs, rshape);
  for (let j = 0; j < xs.length; j++) narrowData(outs[j]).fill(inits[j]);
  if (body.scalar && xs.length === 1) {
    const f = body.scalar;
    const a = narrowData(xs[0]);
    const o = narrowData(outs[0]);
    forEachIndex(shape, (idx, flat) => { const r = flatOf(idx, kst); o[r] = f(o[r], a[flat]); });
    return outs;
  }
  forEachIndex(shape, (idx, flat) => {
    const r = flatOf(idx, kst);
    const v = body.apply(outs.map((t) => narrowData(t)[r]), xs.map((t) => narrowData(t)[flat]));
    for (let j = 0; j < outs.length; j++) outs[j].data[r] = v[j];
  });
  return outs;
}

export interface WindowOptions {
  windowDimensions: readonly number[];
  windowStrides: readonly number[];
  baseDilations: readonly number[];
  windowDilations: readonly number[];
  padding: readonly (readonly [number, number])[];
}

/**
 * `reduce_window`: the operands are dilated, then padded with the init values, and each window
 * is reduced from the init. Padding positions take part as init values, as the spec's
 * `pad` + `reduce` formulation says. The output shape is the op's result type.
 */
export function reduceWindow(xs: readonly HostTensor[], inits: readonly number[], o: WindowOptions, shape: readonly number[], body: Reducer): HostTensor[] {
  const xshape = xs[0].shape;
  const xst = stridesOf(xshape);
  const rank = xshape.length;
  const outs = allocLike(xs, shape);
  const wIdx: number[][] = [];
  forEachIndex(o.windowDimensions, (idx) => { wIdx.push([...idx]); });
  const n = xs.length;
  const acc = new Array<number>(n);
  const el = new Array<number>(n);
  forEachIndex(shape, (idx, flat) => {
    for (let j = 0; j < n; j++) acc[j] = inits[j];
    for (const w of wIdx) {
      let off = 0;
      for (let d = 0; d < rank && off >= 0; d++) {
        const p = idx[d] * o.windowStrides[d] + w[d] * o.windowDilations[d] - o.padding[d][0];
        const bd = o.baseDilations[d];
        if (p < 0 || p % bd !== 0 || p / bd >= xshape[d]) off = -1;
        else off += (p / bd) * xst[d];
      }
      for (let j = 0; j < n; j++) el[j] = off < 0 ? inits[j] : narrowData(xs[j])[off];
      if (body.scalar && n === 1) acc[0] = body.scalar(acc[0], el[0]);
      else { const r = body.apply(acc, el); for (let j = 0; j < n; j++) acc[j] = r[j]; }
    }
    for (let j = 0; j < n; j++) outs[j].data[flat] = acc[j];
  });
  return outs;
}

export interface SelectAndScatterOptions {
  windowDimensions: readonly number[];
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
}

/**
 * `select_and_scatter`: in each window of the operand (padding never selected) the `select`
 * body picks one element, keeping the current pick while `select(current, candidate)` holds;
 * the matching source element is then folded into the result there with `scatter`.
 */
export function selectAndScatter(x: HostTensor, source: HostTensor, init: number, o: SelectAndScatterOptions,
  select: (a: number, b: number) => boolean, scatterBody: Reducer): HostTensor {
  const xst = stridesOf(x.shape);
  const rank = x.shape.length;
  const xd = narrowData(x);
  const out = allocNarrow(x.dtype as NarrowDType, xd.length).fill(init);
  const wIdx: number[][] = [];
  forEachIndex(o.windowDimensions, (idx) => { wIdx.push([...idx]); });
  const combine = scatterBody.scalar ?? ((a: number, b: number) => scatterBody.apply([a], [b])[0]);
  forEachIndex(source.shape, (idx, flat) => {
    let picked = -1;
    for (const w of wIdx) {
      let off = 0;
      for (let d = 0; d < rank && off >= 0; d++) {
        const p = idx[d] * o.windowStrides[d] + w[d] - o.padding[d][0];
        if (p < 0 || p >= x.shape[d]) off = -1;
        else off += p * xst[d];
      }
      if (off < 0) continue;
      if (picked < 0 || !select(xd[picked], xd[off])) picked = off;
    }
    if (picked >= 0) out[picked] = combine(out[picked], narrowData(source)[flat]);
  });
  return { dtype: x.dtype, shape: [...x.shape], data: out };
}

/**
 * `sort` of N operands along `dimension`: each slice's positions are ordered by `less`, which
 * receives the two positions and reads the operands itself (the comparator takes 2N scalars).
 * JS's sort is stable, so `is_stable` holds either way.
 */
export function sort(xs: readonly HostTensor[], dimension: number, less: (a: number[], b: number[]) => boolean): HostTensor[] {
  const shape = xs[0].shape;
  const st = stridesOf(shape);
  const len = shape[dimension];
  const step = st[dimension];
  const outer = [...shape];
  outer[dimension] = 1;
  const outs = xs.map((x) => ({ dtype: x.dtype, shape: [...shape], data: x.data.slice() }));
  const order = Array.from({ length: len }, (_, i) => i);
  forEachIndex(outer, (idx) => {
    const base = flatOf(idx, st);
    const rows = order.map((i) => xs.map((x) => narrowData(x)[base + i * step]));
    const perm = order.slice().sort((i, j) => (less(rows[i], rows[j]) ? -1 : less(rows[j], rows[i]) ? 1 : 0));
    for (let k = 0; k < len; k++) {
      for (let j = 0; j < xs.length; j++) outs[j].data[base + k * step] = rows[perm[k]][j];
    }
  });
  return outs;
}

/**
 * `chlo.top_k`: the k largest elements of each last-dimension row, largest first, ties broken
 * by lower index; floats are ordered totally (NaN above +Inf, +0 above -0), as JAX's sort does.
 */
export function topK(x: HostTensor, k: number): [HostTensor, HostTensor] {
  const n = x.shape[x.shape.length - 1];
  const rows = n === 0 ? 0 : x.data.length / n;
  const shape = [...x.shape.slice(0, -1), k];
  const values = allocHost(x.dtype, rows * k);
  const indices = new Int32Array(rows * k);
  const key = isFloat(x.dtype) ? totalOrderKey : (v: number) => v;
  for (let r = 0; r < rows; r++) {
    const row = narrowData(x).subarray(r * n, (r + 1) * n);
    const keys = Array.from(row, key);
    const perm = Array.from({ length: n }, (_, i) => i).sort((i, j) => keys[j] - keys[i] || i - j);
    for (let i = 0; i < k; i++) {
      values[r * k + i] = row[perm[i]];
      indices[r * k + i] = perm[i];
    }
  }
  return [{ dtype: x.dtype, shape, data: values }, { dtype: 'i32', shape: [...shape], data: indices }];
}
