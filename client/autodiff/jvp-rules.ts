/**
 * @file JVP (forward-mode) rules, one per op: given an operation already re-emitted in the new
 * graph (its operands and results are primal values the rule may use) and the tangents of its
 * operands, emit the tangents of its results. `undefined` is a symbolic zero in both directions,
 * so ops that do not depend on anything being differentiated cost nothing.
 *
 * The maths follows JAX's `lax` JVP rules:
 * - elementwise ops have a diagonal Jacobian, which is its own transpose, so their tangent is the
 *   VJP rule (client/autodiff/rules.ts) applied to the tangent, one operand at a time: one
 *   derivative formula per op serves both modes (JAX writes each once too, with `defjvp`);
 * - ops linear in some operands (data movement, add-reductions, gather, scatter-add) apply
 *   themselves to the tangents; bilinear ones (multiply, dot_general, convolution) take the
 *   product rule;
 * - max/min reductions split the tangent evenly among tied extrema (`_reduce_chooser_jvp_rule`);
 *   max/min windows take the tangent of the element each window chose;
 *   other reductions (products, argmax-style variadic ones) reduce (primal, tangent) pairs with
 *   the JVP of their body, as JAX's `_reduce_jvp` does, which is exact where the input has zeros;
 * - control flow (`while`, `if`, `case`) carries tangents through its regions.
 */
import { isComplex } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type GatherDims } from '../../ir/ops.js';
import type { Block, Operation, Region, TensorType, Value } from '../../ir/types.js';
import { cloneBlock, cloneOp } from '../../compiler/passes/rewrite.js';
import { GraphBuilder } from '../builder.js';
import { Emitter, combinerKind, isDifferentiable, range } from './emit.js';
import { choleskyJvp, customCallJvp, triangularSolveJvp } from './linalg-jvp.js';
import { complexAbsDerivative, vjpRules, type VjpContext, type VjpRule } from './rules.js';

/** A tangent, or `undefined` for a symbolic zero. */
export type Tan = Value | undefined;

/** What a rule sees besides the operation. */
export interface JvpContext {
  e: Emitter;
  /**
   * Emits into `b` the JVP of `block` whose arguments are bound to `args` with tangents `tans`;
   * values the block captures from enclosing scopes bring their own tangents. Returns the
   * terminator's operands and their tangents.
   */
  jvpBlock(b: GraphBuilder, block: Block, args: readonly Value[], tans: readonly Tan[]): { outs: Value[]; tans: Tan[] };
}

/**
 * Result tangents from operand tangents. A rule that re-emits the op itself (control flow, sort)
 * returns the new primal results too; the driver then drops the copy it made.
 */
export type JvpRule<K extends Op> = (ctx: JvpContext, o: Operation<K>, ts: readonly Tan[]) => Tan[] | { primals: Value[]; tangents: Tan[] };

function unsupported(o: Operation, why: string): never {
  throw new UnsupportedOpError(`${o.op}: jvp: ${why}`, o.loc);
}

/** Ops whose outputs do not depend differentiably on their inputs. */
const zero: JvpRule<Op> = () => [];

/**
 * Elementwise ops: the tangent is the sum over operands of (operand tangent) x (partial
 * derivative), which the VJP rule computes when given the tangent as the cotangent.
 */
const diagonal: JvpRule<Op> = ({ e }, o, ts) => {
  let acc: Tan;
  ts.forEach((t, j) => {
    if (!t) return;
    const needs = o.operands.map((_, k) => k === j);
    // Elementwise VJP rules read only the emitter and `needs` of their context (the rest of it
    // serves the region-carrying ops' rules).
    const ctx = { e, needs } as unknown as VjpContext;
    const d = (vjpRules[o.op] as VjpRule<Op>)(ctx, o, [t])[j];
    if (d) acc = acc ? e.add(acc, d) : d;
  });
  return [acc];
};

/** `t`, or zeros of `v`'s type where `t` is a symbolic zero. */
function orZeros(e: Emitter, t: Tan, v: Value): Value {
  return t ?? e.zeros(v.type);
}

/** Copies a region (a combiner or comparator) so that no two ops share one block. */
function copyRegion(r: Region): Region {
  return { block: cloneBlock(r.block, new Map()) };
}

/**
 * The op re-emitted with the tangents of the operands in `lin` in place of those operands (zeros
 * for symbolic zeros): the tangent of an op linear in `lin` whose other operands carry none.
 */
function relinearize(e: Emitter, o: Operation, ts: readonly Tan[], lin: readonly number[]): Tan[] {
  if (!lin.some((i) => ts[i])) return [];
  const operands = o.operands.map((v, i) => (lin.includes(i) ? orZeros(e, ts[i], v) : v));
  return e.b.emit(o.op, operands, o.attrs as never, {
    regions: o.regions.map(copyRegion),
    resultTypes: o.results.map((r) => r.type),
  });
}

/** A rule for ops linear in the operands `lin` (and constant in the rest). */
function linear(...lin: number[]): JvpRule<Op> {
  return ({ e }, o, ts) => relinearize(e, o, ts, lin);
}

/** A rule for ops linear in every operand. */
const linearAll: JvpRule<Op> = ({ e }, o, ts) => relinearize(e, o, ts, range(o.operands.length));

/** Product rule for ops linear in each of two operands: `op(t0, y) + op(x, t1)`. */
const bilinear: JvpRule<Op> = ({ e }, o, ts) => {
  const [a] = ts[0] ? relinearize(e, o, [ts[0], undefined], [0]) : [undefined];
  const [b] = ts[1] ? relinearize(e, o, [undefined, ts[1]], [1]) : [undefined];
  return [a && b ? e.add(a, b) : a ?? b];
};

/**
 * `x[..., idx[...], ...]` along `dim`: for every position of `idx` (whose shape equals `x`'s
 * except along `dim`), the element of `x` at that position with coordinate `dim` replaced by the
 * index. Sort and top_k route tangents through their permutation with it.
 */
function takeAlong(e: Emitter, x: Value, idx: Value, dim: number): Value {
  const shape = idx.type.shape;
  const rank = shape.length;
  const col = [...shape, 1];
  const coords = range(rank).map((j) => {
    const c = j === dim ? e.convert(idx, 'i32') : e.b.emit1(Op.Iota, [], { dim: j }, { resultTypes: [{ dtype: 'i32', shape: [...shape] }] });
    return e.reshape(c, col);
  });
  const indices = coords.length === 1 ? coords[0] : e.b.emit1(Op.Concatenate, coords, { dim: rank });
  const dims: GatherDims = {
    offsetDims: [], collapsedSliceDims: range(rank), operandBatchingDims: [], startIndicesBatchingDims: [],
    startIndexMap: range(rank), indexVectorDim: rank,
  };
  return e.b.emit1(Op.Gather, [x, indices], { dims, sliceSizes: range(rank).map(() => 1), indicesAreSorted: false });
}

/**
 * A reduction (`reduce` or `reduce_window`) over (primal, tangent) pairs whose body is the JVP of
 * the original body: `n` inputs become `2n` (primals then tangents), inits likewise. Exact for
 * products with zeros, and for argmax-style bodies it selects the tangent with the value.
 */
function pairReduction(ctx: JvpContext, o: Operation<Op.Reduce | Op.ReduceWindow>, ts: readonly Tan[]): { primals: Value[]; tangents: Tan[] } {
  const { e } = ctx;
  const n = o.operands.length / 2;
  const xs = o.operands.slice(0, n);
  const inits = o.operands.slice(n);
  const floats = range(n).filter((i) => isDifferentiable(xs[i].type.dtype));
  const tx = floats.map((i) => orZeros(e, ts[i], xs[i]));
  const tinit = floats.map((i) => orZeros(e, ts[n + i], inits[i]));
  const scalar = (v: Value): TensorType => ({ dtype: v.type.dtype, shape: [] });
  const group = [...xs.map(scalar), ...floats.map((i) => scalar(xs[i]))];
  const body = o.regions[0].block;
  const region = e.b.region([...group, ...group], (rb, args) => {
    const m = group.length;
    const acc = args.slice(0, n), accT = args.slice(n, m), x = args.slice(m, m + n), xT = args.slice(m + n);
    const tanOf = (tv: Value[]) => range(n).map((i) => (floats.includes(i) ? tv[floats.indexOf(i)] : undefined));
    const r = ctx.jvpBlock(rb, body, [...acc, ...x], [...tanOf(accT), ...tanOf(xT)]);
    const re = new Emitter(rb);
    return [...r.outs, ...floats.map((i) => orZeros(re, r.tans[i], r.outs[i]))];
  });
  const results = e.b.emit(o.op, [...xs, ...tx, ...inits, ...tinit], o.attrs as never, {
    regions: [region],
    resultTypes: [...o.results.map((r) => r.type), ...floats.map((i) => o.results[i].type)],
  });
  const tangents = range(n).map((i) => (floats.includes(i) ? results[n + floats.indexOf(i)] : undefined));
  return { primals: results.slice(0, n), tangents };
}

/** JAX's `_reduce_chooser_jvp_rule`: the mean of the tangents at the elements equal to the extremum. */
function chooserReduce(e: Emitter, o: Operation<Op.Reduce>, t: Value): Value {
  const [x] = o.operands;
  const { dims } = o.attrs;
  const kept = range(x.type.shape.length).filter((d) => !dims.includes(d));
  const at = e.convert(e.compare('EQ', x, e.broadcastInDim(o.results[0], x.type.shape, kept)), x.type.dtype);
  return e.div(e.sum(e.mul(t, at), dims), e.sum(at, dims));
}

/**
 * JAX's `_reduce_window_chooser_jvp_rule`: each window's tangent is the tangent of the element
 * the window chose (the first extremum on ties, as the VJP's select_and_scatter), computed as a
 * windowed reduction over (value, tangent) pairs that keeps the pair with the larger (smaller)
 * value. The primal result stays the original op's.
 */
function chooserWindow(e: Emitter, o: Operation<Op.ReduceWindow>, t: Value, kind: 'max' | 'min'): Value {
  const [x, init] = o.operands;
  const s: TensorType = { dtype: x.type.dtype, shape: [] };
  const region = e.b.region([s, s, s, s], (rb, [a, ta, b, tb]) => {
    const re = new Emitter(rb);
    const keep = re.compare(kind === 'max' ? 'GE' : 'LE', a, b);
    return [re.select(keep, a, b), re.select(keep, ta, tb)];
  });
  const rt = o.results[0].type;
  return e.b.emit(Op.ReduceWindow, [x, t, init, e.zeros(init.type)], o.attrs, { regions: [region], resultTypes: [rt, rt] })[1];
}

/** The tangents of a region-carrying op's results from its regions' JVPs, unioned over branches. */
function branches(ctx: JvpContext, o: Operation<Op.If | Op.Case>): { primals: Value[]; tangents: Tan[] } {
  const { e } = ctx;
  const n = o.results.length;
  // First pass, thrown away: which results get a tangent in any branch.
  const has = new Array<boolean>(n).fill(false);
  for (const r of o.regions) {
    ctx.jvpBlock(new GraphBuilder(), r.block, [], []).tans.forEach((t, i) => { if (t) has[i] = true; });
  }
  const active = range(n).filter((i) => has[i] && isDifferentiable(o.results[i].type.dtype));
  const regions = o.regions.map((r) => e.b.region([], (rb) => {
    const j = ctx.jvpBlock(rb, r.block, [], []);
    const re = new Emitter(rb);
    return [...j.outs, ...active.map((i) => orZeros(re, j.tans[i], j.outs[i]))];
  }));
  const results = e.b.emit(o.op, o.operands, o.attrs as never, {
    regions, resultTypes: [...o.results.map((r) => r.type), ...active.map((i) => o.results[i].type)],
  });
  return { primals: results.slice(0, n), tangents: range(n).map((i) => (active.includes(i) ? results[n + active.indexOf(i)] : undefined)) };
}

/**
 * `while`: the carried values that have a tangent on entry, or get one from the body, carry
 * their tangent alongside (found by iterating the body's JVP to a fixed point); the condition
 * ignores the tangents.
 */
function whileRule(ctx: JvpContext, o: Operation<Op.While>, ts: readonly Tan[]): { primals: Value[]; tangents: Tan[] } {
  const { e } = ctx;
  const [cond, body] = o.regions;
  const n = o.operands.length;
  const float = (i: number) => isDifferentiable(o.operands[i].type.dtype);
  const active = new Set(range(n).filter((i) => ts[i] && float(i)));
  for (;;) {
    const probe = new GraphBuilder();
    const args = body.block.args.map((a) => ({ type: a.type }));
    const tans = args.map((a, i) => (active.has(i) ? { type: a.type } : undefined));
    const out = ctx.jvpBlock(probe, body.block, args, tans);
    const before = active.size;
    out.tans.forEach((t, i) => { if (t && float(i)) active.add(i); });
    if (active.size === before) break;
  }
  const act = [...active].sort((a, b) => a - b);
  const types = [...o.operands.map((v) => v.type), ...act.map((i) => o.operands[i].type)];
  const condRegion = e.b.region(types, (rb, args) => {
    const map = new Map<Value, Value>();
    cond.block.args.forEach((a, i) => map.set(a, args[i]));
    const ops = cond.block.ops.map((x) => cloneOp(x, map));
    rb.ops.push(...ops.slice(0, -1));
    return ops[ops.length - 1].operands;
  });
  const bodyRegion = e.b.region(types, (rb, args) => {
    const tans = range(n).map((i) => (active.has(i) ? args[n + act.indexOf(i)] : undefined));
    const j = ctx.jvpBlock(rb, body.block, args.slice(0, n), tans);
    const re = new Emitter(rb);
    return [...j.outs, ...act.map((i) => orZeros(re, j.tans[i], j.outs[i]))];
  });
  const results = e.b.emit(Op.While, [...o.operands, ...act.map((i) => orZeros(e, ts[i], o.operands[i]))], {}, {
    regions: [condRegion, bodyRegion], resultTypes: types,
  });
  return { primals: results.slice(0, n), tangents: range(n).map((i) => (active.has(i) ? results[n + act.indexOf(i)] : undefined)) };
}

export const jvpRules: { [K in Op]: JvpRule<K> } = {
  // |x| of complex x is not holomorphic: re(t · conj(x) / |x|), JAX's rule.
  [Op.Abs]: (ctx, o, ts) => (isComplex(o.operands[0].type.dtype) ? (ts[0] ? [ctx.e.real(ctx.e.mul(ts[0], complexAbsDerivative(ctx.e, o.operands[0], o.results[0])))] : []) : diagonal(ctx, o, ts)),
  [Op.Negate]: ({ e }, _o, [t]) => [t && e.neg(t)],
  [Op.Sign]: zero,
  [Op.Exp]: diagonal,
  [Op.Expm1]: diagonal,
  [Op.Log]: diagonal,
  [Op.Log1p]: diagonal,
  [Op.Logistic]: diagonal,
  [Op.Sqrt]: diagonal,
  [Op.Rsqrt]: diagonal,
  [Op.Cbrt]: diagonal,
  [Op.Sin]: diagonal,
  [Op.Cos]: diagonal,
  [Op.Tan]: diagonal,
  [Op.Tanh]: diagonal,
  [Op.Floor]: zero,
  [Op.Ceil]: zero,
  [Op.RoundAfz]: zero,
  [Op.RoundEven]: zero,
  [Op.Not]: zero,
  [Op.Popcnt]: zero,
  [Op.RngBitGenerator]: zero,
  [Op.BatchNormTraining]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either); differentiate a module that spells batch norm out in elementwise ops and reductions"),
  [Op.BatchNormInference]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either); differentiate a module that spells batch norm out in elementwise ops and reductions"),
  [Op.Scan]: (_c, o) => unsupported(o, "kiln's tracer never emits it (it writes cumulative ops as reduce_window, as JAX's CPU lowering does)"),
  [Op.BatchNormGrad]: (_c, o) => unsupported(o, "kiln's tracer never emits it (JAX does not either); differentiate a module that spells batch norm out in elementwise ops and reductions"),
  [Op.Clz]: zero,
  [Op.IsFinite]: zero,
  [Op.Erf]: diagonal,
  [Op.Erfc]: diagonal,
  [Op.ErfInv]: diagonal,
  [Op.Square]: diagonal,
  [Op.Sinh]: diagonal,
  [Op.Cosh]: diagonal,
  [Op.Asin]: diagonal,
  [Op.Acos]: diagonal,
  [Op.Atan]: diagonal,
  [Op.Asinh]: diagonal,
  [Op.Acosh]: diagonal,
  [Op.Atanh]: diagonal,
  [Op.Lgamma]: diagonal,
  [Op.Digamma]: diagonal,
  [Op.IsInf]: zero,
  [Op.IsPosInf]: zero,
  [Op.IsNegInf]: zero,

  [Op.Add]: ({ e }, _o, [a, b]) => [a && b ? e.add(a, b) : a ?? b],
  [Op.Subtract]: ({ e }, _o, [a, b]) => [a && b ? e.sub(a, b) : a ?? (b && e.neg(b))],
  [Op.Multiply]: diagonal,
  [Op.Divide]: diagonal,
  [Op.Remainder]: diagonal,
  [Op.Power]: diagonal,
  [Op.Maximum]: diagonal,
  [Op.Minimum]: diagonal,
  [Op.Atan2]: diagonal,
  [Op.And]: zero,
  [Op.Or]: zero,
  [Op.Xor]: zero,
  [Op.ShiftLeft]: zero,
  [Op.ShiftRightArithmetic]: zero,
  [Op.ShiftRightLogical]: zero,
  [Op.NextAfter]: zero,
  [Op.Zeta]: (_c, o) => unsupported(o, "differentiating it is not implemented (kiln's tracer never emits it)"),
  [Op.Polygamma]: (_c, o) => unsupported(o, "differentiating it is not implemented (kiln's tracer never emits it)"),
  [Op.BesselI1e]: (_c, o) => unsupported(o, "differentiating it is not implemented (kiln's tracer never emits it)"),
  [Op.Compare]: zero,

  [Op.Select]: ({ e }, o, [, a, b]) => {
    if (!a && !b) return [];
    const [pred, x, y] = o.operands;
    return [e.select(pred, orZeros(e, a, x), orZeros(e, b, y))];
  },
  // clamp(min, x, max), as JAX's clamp JVP; rank-0 bounds are broadcast first.
  [Op.Clamp]: ({ e }, o, [tLo, tX, tHi]) => {
    const shape = o.results[0].type.shape;
    const [lo0, x, hi0] = o.operands;
    const full = (v: Value) => (v.type.shape.length === 0 && shape.length !== 0 ? e.splat(v, shape) : v);
    const lo = full(lo0), hi = full(hi0);
    const z = e.zeros(o.results[0].type);
    const and = (p: Value, q: Value) => e.bin(Op.And, p, q);
    const parts = [
      tLo && e.select(and(e.compare('GT', lo, x), e.compare('LT', lo, hi)), full(tLo), z),
      tX && e.select(and(e.compare('GT', x, lo), e.compare('LT', x, hi)), tX, z),
      tHi && e.select(e.compare('LT', hi, x), full(tHi), z),
    ].filter((v): v is Value => !!v);
    return [parts.reduce<Tan>((s, v) => (s ? e.add(s, v) : v), undefined)];
  },
  [Op.Convert]: ({ e }, o, [t]) => {
    const to = o.results[0].type.dtype;
    if (!t || !isDifferentiable(to)) return [];
    // Complex to real keeps the real part, as JAX converts.
    return [isComplex(t.type.dtype) && !isComplex(to) ? e.convert(e.real(t), to) : e.convert(t, to)];
  },
  [Op.BitcastConvert]: zero,
  [Op.ReducePrecision]: (_c, _o, [t]) => [t],

  [Op.Constant]: zero,
  [Op.Iota]: zero,
  [Op.BroadcastInDim]: linear(0),
  [Op.Reshape]: linear(0),
  [Op.Transpose]: linear(0),
  [Op.Slice]: linear(0),
  [Op.DynamicSlice]: linear(0),
  [Op.DynamicUpdateSlice]: linear(0, 1),
  [Op.Concatenate]: linearAll,
  [Op.Pad]: linear(0, 1),
  [Op.Reverse]: linear(0),
  [Op.Gather]: linear(0),
  [Op.Scatter]: ({ e }, o, ts) => {
    if (!ts[0] && !ts[2]) return [];
    if (o.operands.length !== 3) unsupported(o, 'the tangent of a scatter over several arrays is not implemented');
    const kind = combinerKind(o.regions[0]);
    // Adding and overwriting are linear in (operand, updates); the indices stay as they were.
    if (kind === 'add' || kind === 'replace') return relinearize(e, o, ts, [0, 2]);
    return unsupported(o, `the tangent of a scatter combining with ${kind} is not implemented (add and overwrite are)`);
  },

  [Op.Reduce]: (ctx, o, ts) => {
    if (!ts.some((t) => t)) return [];
    if (o.operands.length === 2) {
      const kind = combinerKind(o.regions[0]);
      if (kind === 'add') return relinearize(ctx.e, o, ts, [0, 1]);
      if ((kind === 'max' || kind === 'min') && ts[0]) return [chooserReduce(ctx.e, o, ts[0])];
    }
    return pairReduction(ctx, o, ts);
  },
  [Op.ReduceWindow]: (ctx, o, ts) => {
    if (!ts.some((t) => t)) return [];
    if (o.operands.length === 2) {
      const kind = combinerKind(o.regions[0]);
      if (kind === 'add') return relinearize(ctx.e, o, ts, [0, 1]);
      if ((kind === 'max' || kind === 'min') && ts[0]) return [chooserWindow(ctx.e, o, ts[0], kind)];
    }
    return pairReduction(ctx, o, ts);
  },
  // The operand only decides where each source value goes: linear in (source, init).
  [Op.SelectAndScatter]: linear(1, 2),
  [Op.DotGeneral]: bilinear,
  [Op.Convolution]: bilinear,
  [Op.Sort]: ({ e }, o, ts) => {
    if (!ts.some((t) => t)) return [];
    // Sort once with an iota riding along; its sorted order routes every tangent.
    const dim = o.attrs.dimension;
    const shape = o.operands[0].type.shape;
    const iota = e.b.emit1(Op.Iota, [], { dim }, { resultTypes: [{ dtype: 'i32', shape: [...shape] }] });
    const cmp = cloneBlock(o.regions[0].block, new Map());
    const s: TensorType = { dtype: 'i32', shape: [] };
    cmp.args.push({ type: s }, { type: s });
    const sorted = e.b.emit(Op.Sort, [...o.operands, iota], o.attrs, { regions: [{ block: cmp }] });
    const perm = sorted[sorted.length - 1];
    return { primals: sorted.slice(0, -1), tangents: ts.map((t, i) => (t && isDifferentiable(o.operands[i].type.dtype) ? takeAlong(e, t, perm, dim) : undefined)) };
  },
  [Op.TopK]: ({ e }, o, [t]) => (t ? [takeAlong(e, t, o.results[1], o.operands[0].type.shape.length - 1), undefined] : []),

  [Op.While]: whileRule,
  [Op.If]: branches,
  [Op.Case]: branches,
  // The complex parts and the FFTs are linear: each applies itself to the tangents.
  [Op.Real]: ({ e }, _o, [t]) => (t ? [e.real(t)] : []),
  [Op.Imag]: ({ e }, _o, [t]) => (t ? [e.imag(t)] : []),
  [Op.Complex]: ({ e }, o, [tx, ty]) => (tx || ty ? [e.complex(orZeros(e, tx, o.operands[0]), orZeros(e, ty, o.operands[1]))] : []),
  [Op.Fft]: ({ e }, o, [t]) => (t ? [e.fft(t, o.attrs.fftType, o.attrs.fftLength)] : []),
  [Op.Call]: (_c, o) => unsupported(o, 'internal: calls are inlined before differentiation'),
  [Op.Return]: (_c, o) => unsupported(o, 'internal: terminators are not differentiated'),
  [Op.FuncReturn]: (_c, o) => unsupported(o, 'internal: terminators are not differentiated'),
  [Op.OptimizationBarrier]: (_c, _o, ts) => [...ts],
  // Linear algebra: client/autodiff/linalg-jvp.ts.
  [Op.Cholesky]: ({ e }, o, [t]) => choleskyJvp(e, 'stablehlo', o.attrs.lower, o.results[0], t, false),
  [Op.TriangularSolve]: ({ e }, o, ts) => triangularSolveJvp(e, 'stablehlo', o.attrs, o.operands[0], o.results[0], ts),
  [Op.CustomCall]: ({ e }, o, ts) => customCallJvp(e, o, ts),
};
