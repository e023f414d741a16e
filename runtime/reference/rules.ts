/**
 * @file The reference semantics of every op, one typed table `{ [K in Op]: Rule<K> }`: a new op
 * in `ir/ops.ts` does not compile until it has a rule here. Each rule takes the op, its operand
 * tensors and the interpreter context (for regions, calls and the deadline) and returns its
 * result tensors. Shapes and dtypes come from the verified op's result types.
 */
import { allocHost, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { numElements, type Operation, type Region, type TensorType } from '../../ir/types.js';
import { narrowData, type HostTensor } from '../tensor.js';
import { convolution, dotGeneral } from './contraction.js';
import {
  applyBinary, applyBitcast, applyClamp, applyCompare, applyConvert, applyReducePrecision,
  applySelect, applyUnary, type BinaryOp, type UnaryOp,
} from './elementwise.js';
import {
  broadcastInDim, concatenate, dynamicSlice, dynamicUpdateSlice, gather, iota, pad, reshape,
  reverse, scatter, slice, transpose,
} from './indexing.js';
import { reduce, reduceWindow, selectAndScatter, sort, topK } from './reduction.js';
import { comparatorOf, reducerOf, type RegionRunner } from './regions.js';

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

const unary = <K extends UnaryOp>(): Rule<K> => (o, [x]) => [applyUnary(o.op, x, resultType(o).dtype)];
const binary = <K extends BinaryOp>(): Rule<K> => (o, [x, y]) => [applyBinary(o.op, x, y)];

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
  [Op.Abs]: unary(), [Op.Negate]: unary(), [Op.Sign]: unary(), [Op.Exp]: unary(),
  [Op.Expm1]: unary(), [Op.Log]: unary(), [Op.Log1p]: unary(), [Op.Logistic]: unary(),
  [Op.Sqrt]: unary(), [Op.Rsqrt]: unary(), [Op.Cbrt]: unary(), [Op.Sin]: unary(), [Op.Cos]: unary(),
  [Op.Tan]: unary(), [Op.Tanh]: unary(), [Op.Floor]: unary(), [Op.Ceil]: unary(),
  [Op.RoundAfz]: unary(), [Op.RoundEven]: unary(), [Op.Not]: unary(), [Op.Popcnt]: unary(),
  [Op.Clz]: unary(), [Op.IsFinite]: unary(), [Op.Erf]: unary(), [Op.Erfc]: unary(),
  [Op.ErfInv]: unary(), [Op.Square]: unary(), [Op.Sinh]: unary(), [Op.Cosh]: unary(),
  [Op.Asin]: unary(), [Op.Acos]: unary(), [Op.Atan]: unary(), [Op.Asinh]: unary(),
  [Op.Acosh]: unary(), [Op.Atanh]: unary(), [Op.Lgamma]: unary(), [Op.Digamma]: unary(),
  [Op.IsInf]: unary(), [Op.IsPosInf]: unary(), [Op.IsNegInf]: unary(),

  [Op.Add]: binary(), [Op.Subtract]: binary(), [Op.Multiply]: binary(), [Op.Divide]: binary(),
  [Op.Remainder]: binary(), [Op.Power]: binary(), [Op.Maximum]: binary(), [Op.Minimum]: binary(),
  [Op.Atan2]: binary(), [Op.And]: binary(), [Op.Or]: binary(), [Op.Xor]: binary(),
  [Op.ShiftLeft]: binary(), [Op.ShiftRightArithmetic]: binary(), [Op.ShiftRightLogical]: binary(),
  [Op.NextAfter]: binary(),
  [Op.Compare]: (o, [x, y]) => [applyCompare(o.attrs.direction, o.attrs.compareType, x, y)],

  [Op.Select]: (_o, [p, t, f]) => [applySelect(p, t, f)],
  [Op.Clamp]: (_o, [lo, x, hi]) => [applyClamp(lo, x, hi)],
  [Op.Convert]: (o, [x]) => [applyConvert(x, resultType(o).dtype)],
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
    if (splat) out.fill(data[0] as number);
    else out.set(data as Float32Array);
    return [{ dtype: t.dtype, shape: [...t.shape], data: out }];
  },
  [Op.Iota]: (o) => [iota(resultType(o).dtype, resultType(o).shape, o.attrs.dim)],
  [Op.BroadcastInDim]: (o, [x]) => [broadcastInDim(x, resultType(o).shape, o.attrs.dims)],
  [Op.Reshape]: (o, [x]) => [reshape(x, resultType(o).shape)],
  [Op.Transpose]: (o, [x]) => [transpose(x, o.attrs.permutation)],
  [Op.Slice]: (o, [x]) => [slice(x, o.attrs.start, o.attrs.limit, o.attrs.strides)],
  [Op.DynamicSlice]: (o, [x, ...starts]) => [dynamicSlice(x, firsts(starts), o.attrs.sliceSizes)],
  [Op.DynamicUpdateSlice]: (_o, [x, u, ...starts]) => [dynamicUpdateSlice(x, u, firsts(starts))],
  [Op.Concatenate]: (o, xs) => [concatenate(xs, o.attrs.dim)],
  [Op.Pad]: (o, [x, v]) => [pad(x, narrowData(v)[0], o.attrs.low, o.attrs.high, o.attrs.interior)],
  [Op.Reverse]: (o, [x]) => [reverse(x, o.attrs.dims)],
  [Op.Gather]: (o, [x, idx]) => [gather(x, idx, o.attrs.dims, o.attrs.sliceSizes, resultType(o).shape)],
  [Op.Scatter]: (o, args, ctx) => {
    const n = (args.length - 1) / 2;
    const body = reducerOf(o.regions[0], ctx.runRegion);
    return scatter(args.slice(0, n), args[n], args.slice(n + 1), o.attrs.dims, body.apply);
  },

  [Op.Reduce]: (o, args, ctx) => {
    const n = args.length / 2;
    return reduce(args.slice(0, n), firsts(args.slice(n)), o.attrs.dims, reducerOf(o.regions[0], ctx.runRegion));
  },
  [Op.ReduceWindow]: (o, args, ctx) => {
    const n = args.length / 2;
    return reduceWindow(args.slice(0, n), firsts(args.slice(n)), o.attrs, resultType(o).shape, reducerOf(o.regions[0], ctx.runRegion));
  },
  [Op.SelectAndScatter]: (o, [x, source, init], ctx) => {
    const less = comparatorOf(o.regions[0], ctx.runRegion);
    const select = (a: number, b: number) => less([a], [b]);
    return [selectAndScatter(x, source, narrowData(init)[0], o.attrs, select, reducerOf(o.regions[1], ctx.runRegion))];
  },
  [Op.DotGeneral]: (o, [l, r]) => [dotGeneral(l, r, o.attrs.dims, resultType(o).dtype)],
  [Op.Convolution]: (o, [l, r]) => [convolution(l, r, o.attrs, resultType(o).dtype, resultType(o).shape)],
  [Op.Sort]: (o, xs, ctx) => sort(xs, o.attrs.dimension, comparatorOf(o.regions[0], ctx.runRegion)),
  [Op.TopK]: (o, [x]) => topK(x, o.attrs.k),

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
  // Terminators are handled by the block runner, which reads their operands as the block's results.
  [Op.Return]: (o) => { throw new UnsupportedOpError(`${o.op} outside the end of a region`, o.loc); },
  [Op.FuncReturn]: (o) => { throw new UnsupportedOpError(`${o.op} outside the end of a function`, o.loc); },
};
