/**
 * @file `gather` and `scatter` with full dimension numbers, batching dims included
 * (https://openxla.org/stablehlo/spec#gather, #scatter).
 *
 * gather: one invocation per result element; start indices are clamped so that the slice fits.
 * scatter: the update region may combine duplicate indices, and the spec applies updates in
 * order, so the default lowering is output-stationary: one invocation per result element walks
 * every scatter index in order and applies the matching update, which is deterministic and exact
 * for any region (cost O(|result| * #indices)). With `unique_indices`, the result is a copy of the
 * input and one invocation per update element applies its own update (cost O(|updates|)).
 * An update whose window does not fit in the input is skipped whole, as XLA does and JAX's
 * `mode='drop'` relies on (the spec leaves out-of-bounds updates implementation-defined).
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { Operation } from '../../ir/types.js';
import { storageSize } from '../program.js';
import type { BufferId, LowerContext, OpLowering } from '../program.js';
import type { WgslBuilder } from '../wgsl.js';
import { dtypeOf, flatten, indexAsI32, KernelBuilder, load, regType, sizeOf, store, unflatten } from './common.js';
import type { StorageVar } from './common.js';
import { callRegion, regionFunction } from './region.js';

/**
 * Emits the loads of one index vector of `indices` (storage) at the batch position `batch`
 * (coordinates of the indices tensor without `indexVectorDim`); returns `len` i32 expressions.
 */
function loadIndexVector(
  b: WgslBuilder, indices: StorageVar, shape: readonly number[], indexVectorDim: number, batch: readonly string[], len: number,
): string[] {
  const out: string[] = [];
  for (let k = 0; k < len; k++) {
    const coords = [...batch];
    if (indexVectorDim < shape.length) coords.splice(indexVectorDim, 0, `${k}`);
    out.push(b.let(indexAsI32(load(indices, flatten(coords, shape)), indices.dtype), 'i32', 's'));
  }
  return out;
}

/** Lowers `stablehlo.gather`: one kernel, one invocation per result element. */
export const lowerGather: OpLowering<Op.Gather> = (o, operands, results, ctx) => {
  const dims = o.attrs.dims;
  const [operandT, indicesT] = o.operands.map((v) => v.type);
  const resultT = o.results[0].type;
  const kb = new KernelBuilder(ctx, o);
  const [src, idx] = kb.operands(operands, 'operand', 'indices');
  const [dst] = kb.results(results, 'result');
  const b = kb.b;
  const wg = kb.flatEntry(sizeOf(resultT), (i) => {
    const r = unflatten(b, i, resultT.shape);
    const batchDims = resultT.shape.map((_, d) => d).filter((d) => !dims.offsetDims.includes(d));
    const batch = batchDims.map((d) => r[d]);
    const start = loadIndexVector(b, idx, indicesT.shape, dims.indexVectorDim, batch, dims.startIndexMap.length);
    // Operand dims that carry an offset: all but the collapsed and the batching ones, in order.
    const windowDims = operandT.shape.map((_, d) => d)
      .filter((d) => !dims.collapsedSliceDims.includes(d) && !dims.operandBatchingDims.includes(d));
    const coord = operandT.shape.map((size, d) => {
      const terms: string[] = [];
      const k = dims.startIndexMap.indexOf(d);
      // A start keeps its slice inside the operand; a slice of size 0 (allowed on collapsed dims,
      // an empty read) still clamps to the last element, never one past it.
      if (k >= 0) terms.push(`clamp(${start[k]}, 0, ${Math.max(0, size - Math.max(1, o.attrs.sliceSizes[d]))})`);
      const bi = dims.operandBatchingDims.indexOf(d);
      if (bi >= 0) {
        const ds = dims.startIndicesBatchingDims[bi];
        terms.push(batch[ds < dims.indexVectorDim ? ds : ds - 1]);
      }
      const w = windowDims.indexOf(d);
      if (w >= 0) terms.push(r[dims.offsetDims[w]]);
      return terms.length ? `(${terms.join(' + ')})` : '0';
    });
    b.line(store(dst, i, load(src, flatten(coord, operandT.shape))));
  });
  ctx.dispatch(kb.finish(`gather_${o.loc?.line ?? 0}`, wg));
};

/** The index arithmetic shared by both scatter kernels. */
interface ScatterGeometry {
  inputShape: readonly number[];
  updateShape: readonly number[];
  /** Update dims that index scatter positions, and those that index within a window. */
  scatterDims: number[];
  windowDims: number[];
  /** For each input dim: which update window dim feeds it, or -1 (inserted or batching). */
  inputWindowDim: number[];
}

function geometry(o: Operation<Op.Scatter>): ScatterGeometry {
  const dims = o.attrs.dims;
  const inputShape = o.operands[0].type.shape;
  const n = (o.operands.length - 1) / 2;
  const updateShape = o.operands[1 + n].type.shape;
  const scatterDims = updateShape.map((_, d) => d).filter((d) => !dims.updateWindowDims.includes(d));
  const fed = inputShape.map((_, d) => d)
    .filter((d) => !dims.insertedWindowDims.includes(d) && !dims.inputBatchingDims.includes(d));
  const inputWindowDim = inputShape.map((_, d) => {
    const w = fed.indexOf(d);
    return w >= 0 ? dims.updateWindowDims[w] : -1;
  });
  return { inputShape, updateShape, scatterDims, windowDims: dims.updateWindowDims, inputWindowDim };
}

/** i32 expressions of the window's start in the input, per input dim, at scatter position `pos`. */
function windowStart(
  b: WgslBuilder, o: Operation<Op.Scatter>, idx: StorageVar, pos: readonly string[],
): string[] {
  const dims = o.attrs.dims;
  const indicesShape = o.operands[(o.operands.length - 1) / 2].type.shape;
  const start = loadIndexVector(b, idx, indicesShape, dims.indexVectorDim, pos, dims.scatterDimsToOperandDims.length);
  return o.operands[0].type.shape.map((_, d) => {
    const terms: string[] = [];
    const k = dims.scatterDimsToOperandDims.indexOf(d);
    if (k >= 0) terms.push(start[k]);
    const bi = dims.inputBatchingDims.indexOf(d);
    if (bi >= 0) {
      const ds = dims.scatterIndicesBatchingDims[bi];
      terms.push(pos[ds < dims.indexVectorDim ? ds : ds - 1]);
    }
    return terms.length ? b.let(terms.join(' + '), 'i32', 'st') : '0';
  });
}

/** Lowers `stablehlo.scatter` (N inputs, one index tensor, N updates, N results). */
export const lowerScatter: OpLowering<Op.Scatter> = (o, operands, results, ctx) => {
  const n = (o.operands.length - 1) / 2;
  if (!Number.isInteger(n) || n < 1 || results.length !== n) {
    throw new UnsupportedOpError(`${o.op}: expected 2N+1 operands and N results`, o.loc);
  }
  if (o.attrs.uniqueIndices) scatterByUpdate(o, operands, results, ctx, n);
  else scatterByResult(o, operands, results, ctx, n);
};

/** Output-stationary scatter: exact, ordered application of every update to each result element. */
function scatterByResult(
  o: Operation<Op.Scatter>, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext, n: number,
): void {
  const g = geometry(o);
  const kb = new KernelBuilder(ctx, o);
  const idx = kb.storage(operands[n], dtypeOf(o.operands[n].type, o), 'read', 'indices');
  const ups = o.operands.slice(n + 1).map((v, k) => kb.storage(operands[n + 1 + k], dtypeOf(v.type, o), 'read', `update${k}`));
  const outs = o.results.map((v, k) => kb.storage(results[k], dtypeOf(v.type, o), 'read_write', `result${k}`));
  // An in-place scatter (input and result in one buffer) reads each element before writing it
  // from the same invocation, so it reads through the result binding (one buffer may not be
  // bound both read-only and writable in a dispatch).
  const ins = o.operands.slice(0, n).map((v, k) =>
    operands[k] === results[k] ? outs[k] : kb.storage(operands[k], dtypeOf(v.type, o), 'read', `input${k}`));
  const b = kb.b;
  const fn = regionFunction(b, o.regions[0], 'update_fn', o);
  const positions = g.scatterDims.map((d) => g.updateShape[d]);
  const count = positions.reduce((a, x) => a * x, 1);
  const wg = kb.flatEntry(sizeOf(o.results[0].type), (i) => {
    const r = unflatten(b, i, g.inputShape, 'r');
    const acc = ins.map((v) => b.var(regType(v.dtype), load(v, i), 'acc'));
    b.block(`for (var p = 0u; p < ${count}u; p++)`, () => {
      const pos = unflatten(b, 'p', positions, 'p');
      const start = windowStart(b, o, idx, pos);
      // The update element that lands on r, if any: r - start gives the window coordinate.
      const w = g.inputShape.map((_, d) => b.let(`${r[d]} - ${start[d]}`, 'i32', 'w'));
      const conds = g.inputShape.map((_, d) => {
        const wd = g.inputWindowDim[d];
        return wd < 0 ? `${w[d]} == 0` : `${w[d]} >= 0 && ${w[d]} < ${g.updateShape[wd]}`;
      });
      // An update whose whole window does not fit in the input is skipped (spec: out of bounds).
      const fits = g.inputShape.map((size, d) => {
        const wd = g.inputWindowDim[d];
        return `${start[d]} >= 0 && ${start[d]} <= ${size - (wd < 0 ? 1 : g.updateShape[wd])}`;
      });
      b.block(`if (${[...conds, ...fits].join(' && ') || 'true'})`, () => {
        const u = g.updateShape.map((_, d) => {
          const s = g.scatterDims.indexOf(d);
          if (s >= 0) return pos[s];
          return w[g.inputWindowDim.indexOf(d)];
        });
        const ui = b.let(flatten(u, g.updateShape), 'u32', 'ui');
        const next = callRegion(b, fn, [...acc, ...ups.map((v) => load(v, ui))]);
        acc.forEach((a, k) => b.line(`${a} = ${next[k]};`));
      });
    });
    outs.forEach((v, k) => b.line(store(v, i, acc[k])));
  });
  ctx.dispatch(kb.finish(`scatter_${o.loc?.line ?? 0}`, wg));
}

/** Update-parallel scatter for `unique_indices`: copy the inputs, then apply each update once. */
function scatterByUpdate(
  o: Operation<Op.Scatter>, operands: readonly BufferId[], results: readonly BufferId[], ctx: LowerContext, n: number,
): void {
  const g = geometry(o);
  for (let k = 0; k < n; k++) {
    if (operands[k] !== results[k]) ctx.copy(operands[k], results[k], storageSize(o.results[k].type));
  }
  const kb = new KernelBuilder(ctx, o);
  const idx = kb.storage(operands[n], dtypeOf(o.operands[n].type, o), 'read', 'indices');
  const ups = o.operands.slice(n + 1).map((v, k) => kb.storage(operands[n + 1 + k], dtypeOf(v.type, o), 'read', `update${k}`));
  const outs = o.results.map((v, k) => kb.storage(results[k], dtypeOf(v.type, o), 'read_write', `result${k}`));
  const b = kb.b;
  const fn = regionFunction(b, o.regions[0], 'update_fn', o);
  const wg = kb.flatEntry(numUpdates(g), (i) => {
    const u = unflatten(b, i, g.updateShape, 'u');
    const start = windowStart(b, o, idx, g.scatterDims.map((d) => u[d]));
    const fits = g.inputShape.map((size, d) => {
      const wd = g.inputWindowDim[d];
      return `${start[d]} >= 0 && ${start[d]} <= ${size - (wd < 0 ? 1 : g.updateShape[wd])}`;
    });
    if (fits.length) b.line(`if (!(${fits.join(' && ')})) { return; }`);
    const r = g.inputShape.map((_, d) => {
      const wd = g.inputWindowDim[d];
      return wd < 0 ? start[d] : `${start[d]} + ${u[wd]}`;
    });
    const ri = b.let(flatten(r, g.inputShape), 'u32', 'ri');
    const next = callRegion(b, fn, [...outs.map((v) => load(v, ri)), ...ups.map((v) => load(v, i))]);
    outs.forEach((v, k) => b.line(store(v, ri, next[k])));
  });
  ctx.dispatch(kb.finish(`scatter_unique_${o.loc?.line ?? 0}`, wg));
}

function numUpdates(g: ScatterGeometry): number {
  return g.updateShape.reduce((a, x) => a * x, 1);
}
