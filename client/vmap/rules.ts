/**
 * @file Batching rules, one per op: given an operation whose operands may carry a leading batch
 * dimension, emit the same computation over the whole batch. Batched values always keep the batch
 * at dimension 0 (the driver moves it there on the way in), so each rule only shifts the op's
 * dimension attributes by one and broadcasts the operands that are not batched.
 * Rules are only called when some operand is batched; unbatched ops are copied as they are.
 */
import { customCallAttrs } from '../../ir/custom-calls.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { ELEMENTWISE, familyRows, Op, type DotDims, type OpAttrs } from '../../ir/ops.js';
import type { Operation, Region, TensorType, Value } from '../../ir/types.js';
import { Emitter, range } from '../autodiff/emit.js';
import type { GraphBuilder } from '../builder.js';

/** A value in the batched graph: `batched` means dimension 0 is the batch, of the context's size. */
export interface BVal {
  v: Value;
  batched: boolean;
}

export interface BatchContext {
  e: Emitter;
  /** The batch size. */
  size: number;
  /**
   * Batches a region's block given which of its arguments are batched; values it captures from
   * outside are looked up in the enclosing scope. `forceOut` broadcasts those results to batched.
   */
  region(r: Region, argBatched: readonly boolean[], forceOut?: readonly boolean[]): { region: Region; outBatched: boolean[] };
  /**
   * Emits a region's ops, batched, into `into` (the current block or one being built), its block
   * arguments bound to `args`, and returns what it yields: for rules that merge regions.
   */
  inline(r: Region, args: readonly BVal[], into: GraphBuilder): BVal[];
}

export type BatchRule<K extends Op> = (ctx: BatchContext, o: Operation<K>, args: readonly BVal[]) => BVal[];

function unsupported(o: Operation, why: string): never {
  throw new UnsupportedOpError(`${o.op}: vmap: ${why}`, o.loc);
}

/** `t` with the batch dimension in front. */
export function batchedType(t: TensorType, size: number): TensorType {
  return { dtype: t.dtype, shape: [size, ...t.shape] };
}

/** `x` with a batch dimension: broadcast along a new dimension 0 if it has none. */
export function toBatched(ctx: BatchContext, x: BVal): Value {
  if (x.batched) return x.v;
  const r = x.v.type.shape.length;
  return ctx.e.broadcastInDim(x.v, [ctx.size, ...x.v.type.shape], range(r, 1));
}

const shift = (dims: readonly number[]) => dims.map((d) => d + 1);
const batched = (v: Value): BVal => ({ v, batched: true });

/** Re-emits `o` on new operands with new attributes; batched result types are given explicitly. */
function reemit<K extends Op>(ctx: BatchContext, o: Operation<K>, operands: Value[], attrs: OpAttrs[K]): BVal[] {
  // Scalar combiners and comparators see elements, not the batch: copied unbatched.
  const regions = o.regions.map((r) => ctx.region(r, r.block.args.map(() => false)).region);
  const resultTypes = o.results.map((r) => batchedType(r.type, ctx.size));
  return ctx.e.b.emit(o.op, operands, attrs, { regions, resultTypes, loc: o.loc }).map(batched);
}

/**
 * Elementwise ops: every operand broadcast to the batched result shape. A rank-0 select predicate
 * or clamp bound that is not batched stays a scalar (StableHLO allows that); a batched one becomes
 * a full tensor, since a per-example scalar is no longer a scalar.
 */
const elementwise: BatchRule<Op> = (ctx, o, args) => {
  const shape = o.results[0].type.shape;
  const full = [ctx.size, ...shape];
  const scalarOk = (i: number) => (o.op === Op.Select && i === 0) || (o.op === Op.Clamp && i !== 1);
  const operands = args.map((a, i) => {
    const rank = a.v.type.shape.length - (a.batched ? 1 : 0);
    if (!a.batched) return rank === 0 && shape.length > 0 && scalarOk(i) ? a.v : toBatched(ctx, a);
    return rank === shape.length ? a.v : ctx.e.broadcastInDim(a.v, full, [0]);
  });
  return reemit(ctx, o, operands, o.attrs);
};

/** The gather that takes a batched operand and batched start indices (`dynamic_slice` with batched starts). */
function batchedDynamicSlice(ctx: BatchContext, o: Operation<Op.DynamicSlice>, args: readonly BVal[]): BVal[] {
  const { e } = ctx;
  const [x, ...starts] = args;
  const idx = starts.map((s) => e.reshape(toBatched(ctx, { v: e.convert(s.v, 'i32'), batched: s.batched }), [ctx.size, 1]));
  const indices = idx.length === 1 ? idx[0] : e.b.emit1(Op.Concatenate, idx, { dim: 1 });
  const r = o.attrs.sliceSizes.length;
  const v = e.b.emit1(Op.Gather, [toBatched(ctx, x), indices], {
    dims: {
      offsetDims: range(r, 1), collapsedSliceDims: [], operandBatchingDims: [0], startIndicesBatchingDims: [0],
      startIndexMap: range(r, 1), indexVectorDim: 1,
    },
    sliceSizes: [1, ...o.attrs.sliceSizes], indicesAreSorted: false,
  }, { loc: o.loc });
  return [batched(v)];
}

/** dot_general with one or both operands batched. */
const dotGeneral: BatchRule<Op.DotGeneral> = (ctx, o, [x, y]) => {
  const { e } = ctx;
  const d = o.attrs.dims;
  const precision = o.attrs.precision ? { precision: o.attrs.precision } : {};
  if (x.batched && y.batched) {
    const dims: DotDims = { lhsBatch: [0, ...shift(d.lhsBatch)], rhsBatch: [0, ...shift(d.rhsBatch)], lhsContract: shift(d.lhsContract), rhsContract: shift(d.rhsContract) };
    return [batched(e.b.emit1(Op.DotGeneral, [x.v, y.v], { dims, ...precision }, { loc: o.loc }))];
  }
  // One side batched: its batch dim is a free dim of the product; move it to the front after.
  const nb = d.lhsBatch.length;
  const xRank = x.v.type.shape.length;
  const dims: DotDims = x.batched
    ? { ...d, lhsBatch: shift(d.lhsBatch), lhsContract: shift(d.lhsContract) }
    : { ...d, rhsBatch: shift(d.rhsBatch), rhsContract: shift(d.rhsContract) };
  const r = e.b.emit1(Op.DotGeneral, [x.v, y.v], { dims, ...precision }, { loc: o.loc });
  const lhsFree = xRank - d.lhsBatch.length - d.lhsContract.length;
  // The batch dim is the first free dim of its side: after the batch dims, or after lhs's free dims.
  const at = x.batched ? nb : nb + lhsFree;
  const rank = r.type.shape.length;
  const perm = [at, ...range(rank).filter((i) => i !== at)];
  return [batched(e.transpose(r, perm))];
};

/**
 * Convolution with a batched input: the vmap batch folds into the convolution's own batch dim, as
 * its minor part, so that batch groups (which split that dim into equal major blocks) still see
 * their own images: element j of the conv batch and b of the vmap batch land at j*B + b.
 */
const convolution: BatchRule<Op.Convolution> = (ctx, o, [x, w]) => {
  if (w.batched) return batchedKernelConvolution(ctx, o, x, w);
  const { e } = ctx;
  const d = o.attrs.dims;
  const xs = x.v.type.shape; // [B, ...operand]
  const inBatch = d.inputBatch + 1;
  // Move B just after the input's batch dim, then merge the two.
  const perm = range(xs.length).filter((i) => i !== 0);
  perm.splice(perm.indexOf(inBatch) + 1, 0, 0);
  const moved = e.transpose(x.v, perm);
  const mergedShape = o.operands[0].type.shape.map((n, i) => (i === d.inputBatch ? n * ctx.size : n));
  const merged = e.reshape(moved, mergedShape);
  const out = e.b.emit1(Op.Convolution, [merged, w.v], o.attrs, { loc: o.loc });
  // Split the output batch dim back into [N, B] and bring B to the front.
  const os = o.results[0].type.shape;
  const split = [...os.slice(0, d.outputBatch), os[d.outputBatch], ctx.size, ...os.slice(d.outputBatch + 1)];
  const s = e.reshape(out, split);
  return [batched(e.transpose(s, [d.outputBatch + 1, ...range(split.length).filter((i) => i !== d.outputBatch + 1)]))];
};

/** Merges the leading batch dim of `v` into its dim `into` (numbered without the batch) as the major part. */
function foldBatchMajor(ctx: BatchContext, v: Value, into: number): Value {
  const shape = v.type.shape;
  const perm = range(shape.length).filter((i) => i !== 0);
  perm.splice(into, 0, 0);
  const merged = shape.slice(1).map((n, i) => (i === into ? n * ctx.size : n));
  return ctx.e.reshape(ctx.e.transpose(v, perm), merged);
}

/**
 * A batched kernel (JAX's conv batch rule): its batch folds into the kernel's output features, and
 * a batched input's into the input features with one feature group per batch element, so each
 * element convolves its own input with its own kernel; the output features are split back.
 */
function batchedKernelConvolution(ctx: BatchContext, o: Operation<Op.Convolution>, x: BVal, w: BVal): BVal[] {
  const a = o.attrs;
  if (a.featureGroupCount !== 1 || a.batchGroupCount !== 1) unsupported(o, 'a batched kernel of a grouped convolution is not implemented');
  const { e } = ctx;
  const d = a.dims;
  const kernel = foldBatchMajor(ctx, w.v, d.kernelOutput);
  const input = x.batched ? foldBatchMajor(ctx, x.v, d.inputFeature) : x.v;
  const out = e.b.emit1(Op.Convolution, [input, kernel], { ...a, featureGroupCount: x.batched ? ctx.size : 1 }, { loc: o.loc });
  const os = o.results[0].type.shape;
  const split = [...os.slice(0, d.outputFeature), ctx.size, ...os.slice(d.outputFeature)];
  const r = e.reshape(out, split);
  return [batched(e.transpose(r, [d.outputFeature, ...range(split.length).filter((i) => i !== d.outputFeature)]))];
}

const whileLoop: BatchRule<Op.While> = (ctx, o, args) => {
  const [cond, body] = o.regions;
  // Which carried values end up batched: grow the set until the body no longer adds to it.
  let flags = args.map((a) => a.batched);
  for (;;) {
    const { outBatched } = ctx.region(body, flags);
    const next = flags.map((f, i) => f || outBatched[i]);
    if (next.every((f, i) => f === flags[i])) break;
    flags = next;
  }
  const c = ctx.region(cond, flags);
  if (c.outBatched[0]) return whileBatchedPredicate(ctx, o, args);
  const b = ctx.region(body, flags, flags);
  const operands = args.map((a, i) => (flags[i] ? toBatched(ctx, a) : a.v));
  const resultTypes = o.results.map((r, i) => (flags[i] ? batchedType(r.type, ctx.size) : r.type));
  return ctx.e.b.emit(Op.While, operands, o.attrs, { regions: [c.region, b.region], resultTypes, loc: o.loc })
    .map((v, i) => ({ v, batched: flags[i] }));
};

/**
 * A loop whose condition differs per example (JAX's `_while_loop_batching_rule` with a batched
 * predicate): every carry is batched, the loop runs while any example's condition holds, and each
 * iteration keeps the old carry of the examples whose condition no longer does.
 */
function whileBatchedPredicate(ctx: BatchContext, o: Operation<Op.While>, args: readonly BVal[]): BVal[] {
  const [cond, body] = o.regions;
  const types = o.results.map((r) => batchedType(r.type, ctx.size));
  const bound = (vs: readonly Value[]) => vs.map((v) => ({ v, batched: true }));
  /** The per-example predicate, shape [B], from the batched carries. */
  const lanes = (rb: GraphBuilder, vs: readonly Value[]): Value => {
    const [p] = ctx.inline(cond, bound(vs), rb);
    return toBatched({ ...ctx, e: new Emitter(rb) }, p);
  };
  const condRegion = ctx.e.b.region(types, (rb, vs) => {
    const e = new Emitter(rb);
    const any = rb.emit1(Op.Reduce, [lanes(rb, vs), e.scalar('i1', 0)], { dims: [0] }, { regions: [e.combiner(Op.Or, 'i1')] });
    return [any];
  });
  const bodyRegion = ctx.e.b.region(types, (rb, vs) => {
    const e = new Emitter(rb);
    const inner = { ...ctx, e };
    const p = lanes(rb, vs);
    const next = ctx.inline(body, bound(vs), rb);
    return next.map((n, i) => e.select(e.broadcastInDim(p, vs[i].type.shape, [0]), toBatched(inner, n), vs[i]));
  });
  const operands = args.map((a) => toBatched(ctx, a));
  return ctx.e.b.emit(Op.While, operands, o.attrs, { regions: [condRegion, bodyRegion], resultTypes: types, loc: o.loc }).map(batched);
}

/**
 * if/case. With an unbatched selector every branch is batched in place (results any branch batches
 * are broadcast). With a batched one (a per-example predicate or index) every branch runs on the
 * whole batch and each example's result is selected by its own index, as JAX's batched `cond`
 * does; an index out of range picks the last branch, as `case` does.
 */
const branches: BatchRule<Op.If | Op.Case> = (ctx, o, args) => {
  if (args[0].batched) return branchesBatchedIndex(ctx, o, args[0].v);
  const first = o.regions.map((r) => ctx.region(r, []).outBatched);
  const flags = o.results.map((_, i) => first.some((f) => f[i]));
  const regions = o.regions.map((r) => ctx.region(r, [], flags).region);
  const resultTypes = o.results.map((r, i) => (flags[i] ? batchedType(r.type, ctx.size) : r.type));
  return ctx.e.b.emit(o.op, [args[0].v], o.attrs, { regions, resultTypes, loc: o.loc }).map((v, i) => ({ v, batched: flags[i] }));
};

function branchesBatchedIndex(ctx: BatchContext, o: Operation<Op.If> | Operation<Op.Case>, index: Value): BVal[] {
  const { e } = ctx;
  const outs = o.regions.map((r) => ctx.inline(r, [], e.b).map((x) => toBatched(ctx, x)));
  const pick = (i: number) => (o.op === Op.If ? (i === 0 ? index : undefined) : e.compare('EQ', index, e.full(index.type, i)));
  // `if`: region 0 runs when the predicate holds. `case`: start from the last branch.
  return o.results.map((_, k) => {
    let acc = outs[outs.length - 1][k];
    for (let i = outs.length - 2; i >= 0; i--) {
      const p = pick(i) ?? index;
      acc = e.select(e.broadcastInDim(p, acc.type.shape, [0]), outs[i][k], acc);
    }
    return batched(acc);
  });
}

export const batchRules: { [K in Op]: BatchRule<K> } = {
  ...familyRows(ELEMENTWISE, elementwise),
  // The transform acts on the trailing dims; the batch is dim 0.
  [Op.Fft]: (ctx, o, [a]) => reemit(ctx, o, [a.v], o.attrs),

  // No operands: never batched, copied by the driver; these rules are unreachable.
  [Op.Constant]: (_c, o) => unsupported(o, 'internal: a constant has no operands to batch'),
  [Op.Iota]: (_c, o) => unsupported(o, 'internal: iota has no operands to batch'),

  [Op.BroadcastInDim]: (ctx, o, [x]) => reemit(ctx, o, [x.v], { dims: [0, ...shift(o.attrs.dims)] }),
  [Op.Reshape]: (ctx, o, [x]) => reemit(ctx, o, [x.v], o.attrs),
  [Op.Transpose]: (ctx, o, [x]) => reemit(ctx, o, [x.v], { permutation: [0, ...shift(o.attrs.permutation)] }),
  [Op.Slice]: (ctx, o, [x]) => reemit(ctx, o, [x.v], {
    start: [0, ...o.attrs.start], limit: [ctx.size, ...o.attrs.limit], strides: [1, ...o.attrs.strides],
  }),
  [Op.DynamicSlice]: (ctx, o, args) => {
    if (args.slice(1).some((a) => a.batched)) return batchedDynamicSlice(ctx, o, args);
    const zero = ctx.e.scalar(args[1].v.type.dtype, 0);
    return reemit(ctx, o, [args[0].v, zero, ...args.slice(1).map((a) => a.v)], { sliceSizes: [ctx.size, ...o.attrs.sliceSizes] });
  },
  [Op.DynamicUpdateSlice]: (ctx, o, args) => {
    if (args.slice(2).some((a) => a.batched)) unsupported(o, 'batched start indices are not implemented');
    const zero = ctx.e.scalar(args[2].v.type.dtype, 0);
    return reemit(ctx, o, [toBatched(ctx, args[0]), toBatched(ctx, args[1]), zero, ...args.slice(2).map((a) => a.v)], o.attrs);
  },
  [Op.Concatenate]: (ctx, o, args) => reemit(ctx, o, args.map((a) => toBatched(ctx, a)), { dim: o.attrs.dim + 1 }),
  [Op.Pad]: (ctx, o, [x, v]) => {
    if (v.batched) unsupported(o, 'a batched padding value is not implemented');
    const { low, high, interior } = o.attrs;
    return reemit(ctx, o, [x.v, v.v], { low: [0, ...low], high: [0, ...high], interior: [0, ...interior] });
  },
  [Op.Reverse]: (ctx, o, [x]) => reemit(ctx, o, [x.v], { dims: shift(o.attrs.dims) }),
  [Op.Gather]: (ctx, o, [x, idx]) => {
    const d = o.attrs.dims;
    return reemit(ctx, o, [toBatched(ctx, x), toBatched(ctx, idx)], {
      ...o.attrs,
      dims: {
        offsetDims: shift(d.offsetDims), collapsedSliceDims: shift(d.collapsedSliceDims),
        operandBatchingDims: [0, ...shift(d.operandBatchingDims)], startIndicesBatchingDims: [0, ...shift(d.startIndicesBatchingDims)],
        startIndexMap: shift(d.startIndexMap), indexVectorDim: d.indexVectorDim + 1,
      },
      sliceSizes: [1, ...o.attrs.sliceSizes],
    });
  },
  [Op.Scatter]: (ctx, o, args) => {
    const d = o.attrs.dims;
    return reemit(ctx, o, args.map((a) => toBatched(ctx, a)), {
      ...o.attrs,
      dims: {
        updateWindowDims: shift(d.updateWindowDims), insertedWindowDims: shift(d.insertedWindowDims),
        inputBatchingDims: [0, ...shift(d.inputBatchingDims)], scatterIndicesBatchingDims: [0, ...shift(d.scatterIndicesBatchingDims)],
        scatterDimsToOperandDims: shift(d.scatterDimsToOperandDims), indexVectorDim: d.indexVectorDim + 1,
      },
    });
  },

  [Op.Reduce]: (ctx, o, args) => {
    const n = args.length / 2;
    if (args.slice(n).some((a) => a.batched)) unsupported(o, 'a batched initial value is not implemented');
    return reemit(ctx, o, [...args.slice(0, n).map((a) => toBatched(ctx, a)), ...args.slice(n).map((a) => a.v)], { dims: shift(o.attrs.dims) });
  },
  [Op.ReduceWindow]: (ctx, o, args) => {
    const n = args.length / 2;
    if (args.slice(n).some((a) => a.batched)) unsupported(o, 'a batched initial value is not implemented');
    const a = o.attrs;
    return reemit(ctx, o, [...args.slice(0, n).map((x) => toBatched(ctx, x)), ...args.slice(n).map((x) => x.v)], {
      windowDimensions: [1, ...a.windowDimensions], windowStrides: [1, ...a.windowStrides], baseDilations: [1, ...a.baseDilations],
      windowDilations: [1, ...a.windowDilations], padding: [[0, 0], ...a.padding],
    });
  },
  [Op.SelectAndScatter]: (ctx, o, [x, src, init]) => {
    if (init.batched) unsupported(o, 'a batched initial value is not implemented');
    const a = o.attrs;
    return reemit(ctx, o, [toBatched(ctx, x), toBatched(ctx, src), init.v], {
      windowDimensions: [1, ...a.windowDimensions], windowStrides: [1, ...a.windowStrides], padding: [[0, 0], ...a.padding],
    });
  },
  [Op.DotGeneral]: dotGeneral,
  [Op.Convolution]: convolution,
  [Op.Sort]: (ctx, o, args) => reemit(ctx, o, args.map((a) => toBatched(ctx, a)), { ...o.attrs, dimension: o.attrs.dimension + 1 }),
  [Op.TopK]: (ctx, o, [x]) => reemit(ctx, o, [x.v], o.attrs),
  // JAX maps a batch of keys through a loop; kiln has no such rule yet.
  [Op.BatchNormTraining]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either)"),
  [Op.BatchNormInference]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either)"),
  [Op.Scan]: (_c, o) => unsupported(o, "kiln's tracer never emits it (it writes cumulative ops as reduce_window, as JAX's CPU lowering does)"),
  [Op.BatchNormGrad]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either)"),
  [Op.RngBitGenerator]: (_c, o) => unsupported(o, 'a batched state (one key per example) is not implemented: draw the bits outside vmap, or per key with lax.map'),

  [Op.While]: whileLoop,
  [Op.If]: branches,
  [Op.Case]: branches,
  [Op.Call]: (_c, o) => unsupported(o, 'internal: calls are inlined before batching'),
  [Op.Return]: (_c, o) => unsupported(o, 'internal: terminators are handled by the driver'),
  [Op.FuncReturn]: (_c, o) => unsupported(o, 'internal: terminators are handled by the driver'),
  [Op.OptimizationBarrier]: (_c, _o, args) => [...args],
  // Linear algebra acts on the trailing matrix dimensions and batches over the leading ones.
  [Op.Cholesky]: (ctx, o, args) => reemit(ctx, o, args.map((a) => toBatched(ctx, a)), o.attrs),
  [Op.TriangularSolve]: (ctx, o, args) => reemit(ctx, o, args.map((a) => toBatched(ctx, a)), o.attrs),
  [Op.CustomCall]: (ctx, o, args) => {
    const operands = args.map((a) => toBatched(ctx, a));
    const results = o.results.map((r) => batchedType(r.type, ctx.size));
    // One more batch dimension: num_batch_dims, the layouts and the sharding rule change with it.
    return reemit(ctx, o, operands, customCallAttrs(o.attrs.target, o.attrs.call, operands.map((v) => v.type), results));
  },
};
