/**
 * @file The reference semantics of every op, one typed table `{ [K in Op]: Rule<K> }`: a new op
 * in `ir/ops.ts` does not compile until it has a rule here. Each rule takes the op, its operand
 * tensors and the interpreter context (for regions, calls and the deadline) and returns its
 * result tensors. Shapes and dtypes come from the verified op's result types.
 */
import { allocHost, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { BINARY_ELEMENTWISE, familyRows, Op, UNARY_ELEMENTWISE } from '../../ir/ops.js';
import { numElements, type Operation, type Region, type TensorType } from '../../ir/types.js';
import { narrowData, type HostTensor } from '../tensor.js';
import { convolution, dotGeneral } from './contraction.js';
import {
  applyBinary, applyBitcast, applyClamp, applyCompare, applyConvert, applyReducePrecision,
  applySelect, applyUnary, NoRuleError, type BinaryOp, type UnaryOp,
} from './elementwise.js';
import {
  broadcastInDim, concatenate, dynamicSlice, dynamicUpdateSlice, gather, iota, pad, reshape,
  reverse, scatter, slice, transpose,
} from './indexing.js';
import { cholesky, customCall, triangularSolve } from './linalg.js';
import { rngBitGenerator } from './random.js';
import { reduce, reduceWindow, selectAndScatter, sort, topK } from './reduction.js';
import { comparatorOf, reducerOf, type RegionRunner } from './regions.js';
import {
  byPlanes, complexBinary, complexCompare, complexConvert, complexToPart, complexUnary, expandPlanes, expandedRegion,
  interleave, isComplexBinary, isComplexUnary, makeComplex, plane,
} from './complex.js';
import { fft } from './fft.js';

/**
 * `chlo.scan`: the body runs once per index along `dimension` (last to first when reversed) on
 * that slice of each input and the carries; its first results are that slice of each output,
 * the rest the next carries. Results: the outputs, then the final carries. complex<f32> slices
 * are cut and joined plane by plane (re, im), as the data-movement rules do.
 */
function scan(o: Operation<Op.Scan>, args: readonly HostTensor[], ctx: Ctx): HostTensor[] {
  const { dimension: d, isReverse, numInits } = o.attrs;
  const inputs = args.slice(0, args.length - numInits);
  let carries = args.slice(args.length - numInits);
  const shape = inputs[0].shape;
  const len = shape[d];
  const m = o.results.length - numInits;
  const rowShape = shape.filter((_, i) => i !== d);
  const slices: HostTensor[][] = Array.from({ length: m }, () => new Array<HostTensor>(len));
  for (let step = 0; step < len; step++) {
    ctx.checkDeadline();
    const i = isReverse ? len - 1 - step : step;
    const start = shape.map((_, j) => (j === d ? i : 0));
    const limit = shape.map((n, j) => (j === d ? i + 1 : n));
    const rows = inputs.map((x) => planewise(x, (p) => reshape(slice(p, start, limit, shape.map(() => 1)), rowShape)));
    const out = ctx.runRegion(o.regions[0], [...rows, ...carries]);
    for (let r = 0; r < m; r++) slices[r][i] = planewise(out[r], (p) => reshape(p, o.results[r].type.shape.map((n, j) => (j === d ? 1 : n))));
    carries = out.slice(m);
  }
  const outputs = slices.map((s, r) => (len === 0
    ? { dtype: o.results[r].type.dtype as SupportedDType, shape: [...o.results[r].type.shape], data: allocHost(o.results[r].type.dtype as SupportedDType, 0) }
    : s[0].dtype === 'c64' ? interleave(concatenate(s.map((t) => plane(t, 0)), d), concatenate(s.map((t) => plane(t, 1)), d))
      : concatenate(s, d)));
  return [...outputs, ...carries];
}

/** `f` on a tensor, or on each plane of a complex one (the planes interleaved again). */
function planewise(t: HostTensor, f: (p: HostTensor) => HostTensor): HostTensor {
  return t.dtype === 'c64' ? interleave(f(plane(t, 0)), f(plane(t, 1))) : f(t);
}

/** What a rule may ask of the interpreter running it. */
export interface Ctx {
  /** Runs a region of the current op on arguments; the region sees the enclosing values. */
  readonly runRegion: RegionRunner;
  /** Runs a function of the module by name. */
  callFunc(name: string, args: HostTensor[]): HostTensor[];
  /** Throws TimeoutError once the run's deadline has passed. */
  checkDeadline(): void;
}

export type Rule<K extends Op> = (o: Operation<K>, args: readonly HostTensor[], ctx: Ctx) => HostTensor[];

function resultType(o: Operation, i = 0): TensorType & { dtype: SupportedDType } {
  return o.results[i].type as TensorType & { dtype: SupportedDType };
}

const unary = <K extends UnaryOp>(): Rule<K> => (o, [x]) => {
  if (x.dtype !== 'c64') return [applyUnary(o.op, x, resultType(o).dtype)];
  if (o.op === Op.Abs) return [complexToPart(Op.Abs, x)];
  if (isComplexUnary(o.op)) return [complexUnary(o.op, x)];
  throw new NoRuleError(`${o.op} is not defined on complex<f32>`);
};
const binary = <K extends BinaryOp>(): Rule<K> => (o, [x, y]) => {
  if (x.dtype !== 'c64') return [applyBinary(o.op, x, y)];
  if (isComplexBinary(o.op)) return [complexBinary(o.op, x, y)];
  throw new NoRuleError(`${o.op} is not defined on complex<f32>`);
};
/** A data-movement rule that also moves complex values, plane by plane (see complex.ts). */
const planar = <K extends Op>(rule: Rule<K>): Rule<K> => (o, args, ctx) =>
  (args.some((t) => t.dtype === 'c64') ? byPlanes(o, args, (a) => rule(o, a, ctx)) : rule(o, args, ctx));

/** The first element of each of `ts` (the scalar init values of reductions). */
const firsts = (ts: readonly HostTensor[]): number[] => ts.map((t) => narrowData(t)[0]);

/** Runs one region of a control-flow op, checking it yields what the op expects. */
function branch(o: Operation, region: Region, args: HostTensor[], ctx: Ctx): HostTensor[] {
  const out = ctx.runRegion(region, args);
  if (out.length !== o.results.length) {
    throw new UnsupportedOpError(`${o.op}: a branch returned ${out.length} values for ${o.results.length} results`, o.loc);
  }
  return out;
}

export const RULES: { [K in Op]: Rule<K> } = {
  ...familyRows(UNARY_ELEMENTWISE, unary<UnaryOp>()),
  // Of a real operand: the value itself, and zeros (https://openxla.org/stablehlo/spec#real).
  [Op.Real]: (o, [x]) => [x.dtype === 'c64' ? complexToPart(o.op, x) : { ...x, shape: [...x.shape], data: x.data.slice() as Float32Array }],
  [Op.Imag]: (o, [x]) => [x.dtype === 'c64' ? complexToPart(o.op, x) : { ...x, shape: [...x.shape], data: new Float32Array(x.data.length) }],

  ...familyRows(BINARY_ELEMENTWISE, binary<BinaryOp>()),
  [Op.Complex]: (_o, [re, im]) => [makeComplex(re, im)],
  [Op.Compare]: (o, [x, y]) => {
    if (x.dtype !== 'c64') return [applyCompare(o.attrs.direction, o.attrs.compareType, x, y)];
    const dir = o.attrs.direction;
    if (dir !== 'EQ' && dir !== 'NE') throw new NoRuleError(`${o.op} ${dir} is not defined on complex<f32>`);
    return [complexCompare(dir, x, y)];
  },

  [Op.Select]: planar((_o, [p, t, f]) => [applySelect(p, t, f)]),
  [Op.Clamp]: (_o, [lo, x, hi]) => [applyClamp(lo, x, hi)],
  [Op.Convert]: (o, [x]) => {
    const to = resultType(o).dtype;
    return [x.dtype === 'c64' || to === 'c64' ? complexConvert(x, to) : applyConvert(x, to)];
  },
  [Op.BitcastConvert]: (o, [x]) => {
    const t = resultType(o);
    const r = applyBitcast(x, t.dtype, t.shape);
    if (!r) throw new UnsupportedOpError(`${o.op}: ${x.dtype} -> ${t.dtype} changes the element width`, o.loc);
    return [r];
  },
  [Op.ReducePrecision]: (o, [x]) => [applyReducePrecision(x, o.attrs.exponentBits, o.attrs.mantissaBits)],

  [Op.Constant]: (o) => {
    // A fresh copy each run: results may be handed to callers, who own them.
    const t = resultType(o);
    const { splat, data } = o.attrs.value;
    // Typed as one array kind: the literal's storage has the result's dtype, bigints or numbers.
    const out = allocHost(t.dtype, numElements(t.shape)) as Float32Array;
    if (splat && t.dtype === 'c64') for (let i = 0; i < out.length; i += 2) { out[i] = data[0] as number; out[i + 1] = data[1] as number; }
    else if (splat) out.fill(data[0] as number);
    else out.set(data as Float32Array);
    return [{ dtype: t.dtype, shape: [...t.shape], data: out }];
  },
  [Op.Iota]: (o) => [iota(resultType(o).dtype, resultType(o).shape, o.attrs.dim)],
  [Op.BroadcastInDim]: planar((o, [x]) => [broadcastInDim(x, resultType(o).shape, o.attrs.dims)]),
  [Op.Reshape]: planar((o, [x]) => [reshape(x, resultType(o).shape)]),
  [Op.Transpose]: planar((o, [x]) => [transpose(x, o.attrs.permutation)]),
  [Op.Slice]: planar((o, [x]) => [slice(x, o.attrs.start, o.attrs.limit, o.attrs.strides)]),
  [Op.DynamicSlice]: planar((o, [x, ...starts]) => [dynamicSlice(x, firsts(starts), o.attrs.sliceSizes)]),
  [Op.DynamicUpdateSlice]: planar((_o, [x, u, ...starts]) => [dynamicUpdateSlice(x, u, firsts(starts))]),
  [Op.Concatenate]: planar((o, xs) => [concatenate(xs, o.attrs.dim)]),
  [Op.Pad]: planar((o, [x, v]) => [pad(x, narrowData(v)[0], o.attrs.low, o.attrs.high, o.attrs.interior)]),
  [Op.Reverse]: planar((o, [x]) => [reverse(x, o.attrs.dims)]),
  [Op.Gather]: planar((o, [x, idx]) => [gather(x, idx, o.attrs.dims, o.attrs.sliceSizes, resultType(o).shape)]),
  [Op.Scatter]: (o, args, ctx) => {
    const n = (args.length - 1) / 2;
    if (args.some((t) => t.dtype === 'c64')) {
      const ins = expandPlanes(args.slice(0, n));
      const ups = expandPlanes(args.slice(n + 1));
      return ins.merge(scatter(ins.planes, args[n], ups.planes, o.attrs.dims, expandedRegion(o.regions[0], ctx.runRegion)));
    }
    const body = reducerOf(o.regions[0], ctx.runRegion);
    return scatter(args.slice(0, n), args[n], args.slice(n + 1), o.attrs.dims, body.apply);
  },

  [Op.Reduce]: (o, args, ctx) => {
    const n = args.length / 2;
    if (args.some((t) => t.dtype === 'c64')) {
      const ins = expandPlanes(args.slice(0, n));
      const inits = expandPlanes(args.slice(n));
      return ins.merge(reduce(ins.planes, firsts(inits.planes), o.attrs.dims, { apply: expandedRegion(o.regions[0], ctx.runRegion) }));
    }
    return reduce(args.slice(0, n), firsts(args.slice(n)), o.attrs.dims, reducerOf(o.regions[0], ctx.runRegion));
  },
  [Op.ReduceWindow]: (o, args, ctx) => {
    const n = args.length / 2;
    if (args.some((t) => t.dtype === 'c64')) {
      // As reduce: complex windows fold the re and im planes together through the region.
      const ins = expandPlanes(args.slice(0, n));
      const inits = expandPlanes(args.slice(n));
      return ins.merge(reduceWindow(ins.planes, firsts(inits.planes), o.attrs, resultType(o).shape, { apply: expandedRegion(o.regions[0], ctx.runRegion) }));
    }
    return reduceWindow(args.slice(0, n), firsts(args.slice(n)), o.attrs, resultType(o).shape, reducerOf(o.regions[0], ctx.runRegion));
  },
  [Op.SelectAndScatter]: (o, [x, source, init], ctx) => {
    const less = comparatorOf(o.regions[0], ctx.runRegion);
    const select = (a: number, b: number) => less([a], [b]);
    return [selectAndScatter(x, source, narrowData(init)[0], o.attrs, select, reducerOf(o.regions[1], ctx.runRegion))];
  },
  [Op.DotGeneral]: (o, [l, r]) => {
    if (resultType(o).dtype !== 'c64') return [dotGeneral(l, r, o.attrs.dims, resultType(o).dtype)];
    // (a + bi)(c + di) summed: four real contractions of the planes, combined per element.
    const dot = (x: HostTensor, y: HostTensor) => dotGeneral(x, y, o.attrs.dims, 'f32').data as Float32Array;
    const [ar, ai, br, bi] = [plane(l, 0), plane(l, 1), plane(r, 0), plane(r, 1)];
    const [rr, ii, ri, ir] = [dot(ar, br), dot(ai, bi), dot(ar, bi), dot(ai, br)];
    const re = Float32Array.from(rr, (v, i) => v - ii[i]);
    const im = Float32Array.from(ri, (v, i) => v + ir[i]);
    return [interleave({ dtype: 'f32', shape: resultType(o).shape as number[], data: re }, { dtype: 'f32', shape: [], data: im })];
  },
  [Op.Convolution]: (o, [l, r]) => [convolution(l, r, o.attrs, resultType(o).dtype, resultType(o).shape)],
  [Op.Sort]: (o, xs, ctx) => sort(xs, o.attrs.dimension, comparatorOf(o.regions[0], ctx.runRegion)),
  [Op.TopK]: (o, [x]) => topK(x, o.attrs.k),
  [Op.Scan]: (o, args, ctx) => scan(o, args, ctx),
  [Op.Fft]: (o, [x]) => [fft(x, o.attrs.fftType, o.attrs.fftLength, resultType(o).shape)],
  [Op.RngBitGenerator]: (o, [state]) => rngBitGenerator(o, state),
  // The interpreter runs the batch-norm ops' expansion (compiler/passes/expand.ts), as the GPU does.
  [Op.BatchNormTraining]: (o) => { throw new UnsupportedOpError(`${o.op}: internal: not expanded before interpreting`, o.loc); },
  [Op.BatchNormInference]: (o) => { throw new UnsupportedOpError(`${o.op}: internal: not expanded before interpreting`, o.loc); },
  [Op.BatchNormGrad]: (o) => { throw new UnsupportedOpError(`${o.op}: internal: not expanded before interpreting`, o.loc); },

  [Op.While]: (o, args, ctx) => {
    let state = [...args];
    for (;;) {
      ctx.checkDeadline();
      const [cond] = ctx.runRegion(o.regions[0], state);
      if (!cond.data[0]) return state;
      state = branch(o, o.regions[1], state, ctx);
    }
  },
  [Op.If]: (o, [pred], ctx) => branch(o, o.regions[pred.data[0] ? 0 : 1], [], ctx),
  [Op.Case]: (o, [index], ctx) => {
    // An index out of range runs the last branch (https://openxla.org/stablehlo/spec#case).
    const i = narrowData(index)[0];
    const n = o.regions.length;
    return branch(o, o.regions[i >= 0 && i < n ? i : n - 1], [], ctx);
  },
  [Op.Call]: (o, args, ctx) => ctx.callFunc(o.attrs.callee, [...args]),
  [Op.OptimizationBarrier]: (_o, args) => [...args],
  [Op.Cholesky]: (o, [a]) => [cholesky(a, o.attrs.lower)],
  [Op.TriangularSolve]: (o, [a, b]) => [triangularSolve(a, b, o.attrs)],
  [Op.CustomCall]: (o, args) => customCall(o, args),
  // Terminators are handled by the block runner, which reads their operands as the block's results.
  [Op.Return]: (o) => { throw new UnsupportedOpError(`${o.op} outside the end of a region`, o.loc); },
  [Op.FuncReturn]: (o) => { throw new UnsupportedOpError(`${o.op} outside the end of a function`, o.loc); },
};
