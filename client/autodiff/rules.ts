/**
 * @file VJP rules, one per op: given an operation (already re-emitted in the new graph, so its
 * operands and results are values the rule may use) and the cotangents of its results, emit the
 * cotangents of its operands. `undefined` stands for a zero cotangent throughout, so
 * non-differentiable ops and unused paths cost nothing.
 *
 * The maths follows JAX's `lax` transpose rules (the same identities, written against StableHLO
 * attribute conventions); https://openxla.org/stablehlo/spec gives the attribute semantics.
 */
import { svdVjp, syevdVjp } from './decomposition-rules.js';
import { isComplex, isFloat } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type ConvDims, type DotDims, type GatherDims, type OpAttrs, type ScatterDims } from '../../ir/ops.js';
import type { Operation, TensorType, Value } from '../../ir/types.js';
import { cloneBlock } from '../../compiler/passes/rewrite.js';
import { countedLoopVjp, tripCountIn } from './loop.js';
import { branchVjp, capturedValues, type RegionVjpContext } from './control.js';
import { Emitter, combinerKind, invertPermutation, isDifferentiable, range } from './emit.js';
import { choleskyVjp, getrfVjp, triangularSolveVjp } from './linalg-rules.js';
import { cumulativeProductVjp, reduceProductVjp } from './products.js';

/** What a rule sees besides the operation (the region parts are for control flow's rules). */
export interface VjpContext extends RegionVjpContext {
  /** Which operands the caller wants a cotangent for; rules may skip the others. */
  needs: readonly boolean[];
}

/** Operand cotangents from result cotangents; `undefined` means zero, in both directions. */
export type VjpRule<K extends Op> = (ctx: VjpContext, o: Operation<K>, cts: readonly (Value | undefined)[]) => (Value | undefined)[];

type Ct = Value | undefined;

function unsupported(o: Operation, why: string): never {
  throw new UnsupportedOpError(`${o.op}: ${why}`, o.loc);
}

/** Ops whose outputs do not depend differentiably on their inputs. */
const zero: VjpRule<Op> = () => [];

/** A one-operand rule from the operand `x`, the result `y` and the cotangent `g`. */
function unary(f: (e: Emitter, g: Value, x: Value, y: Value) => Value): VjpRule<Op> {
  return ({ e }, o, [g]) => (g ? [f(e, g, o.operands[0], o.results[0])] : []);
}

/** A two-operand rule; `f` gives both cotangents and is only called with a defined `g`. */
function binary(f: (e: Emitter, g: Value, x: Value, y: Value, z: Value, needs: readonly boolean[]) => Ct[]): VjpRule<Op> {
  return ({ e, needs }, o, [g]) => (g ? f(e, g, o.operands[0], o.operands[1], o.results[0], needs) : []);
}

const ones = (e: Emitter, t: TensorType) => e.full(t, 1);
const sq = (e: Emitter, x: Value) => e.mul(x, x);

/**
 * Trigamma, polygamma(1, x) = sum_k 1/(x+k)^2: digamma's derivative. For x >= 0.5 the recurrence
 * psi1(x) = 1/x^2 + psi1(x+1) moves the argument to z = x + 6, where the asymptotic series
 * 1/z + 1/(2z^2) + 1/(6z^3) - 1/(30z^5) + 1/(42z^7) - 1/(30z^9) is good to ~1e-10 relative; below
 * it the reflection psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x) (infinite at the poles 0, -1, ...).
 */
function trigamma(e: Emitter, x: Value): Value {
  const t = x.type;
  const c = (v: number) => e.full(t, v);
  const reflect = e.compare('LT', x, c(0.5));
  const y = e.select(reflect, e.sub(c(1), x), x);
  let acc = c(0);
  for (let k = 0; k < 6; k++) acc = e.add(acc, e.div(c(1), sq(e, e.add(y, c(k)))));
  const z = e.add(y, c(6));
  const iz = e.div(c(1), z), iz2 = sq(e, iz);
  // Horner form of the series in 1/z^2.
  let poly = c(-1 / 30);
  for (const coef of [1 / 42, -1 / 30, 1 / 6]) poly = e.add(e.mul(poly, iz2), c(coef));
  const series = e.add(e.add(iz, e.scale(iz2, 0.5)), e.mul(e.mul(iz, iz2), poly));
  const pos = e.add(acc, series);
  const s = e.un(Op.Sin, e.scale(x, Math.PI));
  return e.select(reflect, e.sub(e.div(c(Math.PI * Math.PI), sq(e, s)), pos), pos);
}

/** `select(a == z, select(b == z, 0.5, 1), 0)`: JAX's balanced tie-breaking for max/min. */
function chooserMask(e: Emitter, a: Value, b: Value, z: Value): Value {
  const t = a.type;
  const half = e.select(e.compare('EQ', b, z), e.full(t, 0.5), ones(e, t));
  return e.select(e.compare('EQ', a, z), half, e.zeros(t));
}

/** Broadcasts a rank-0 operand (clamp's bounds may be scalars) to `shape`. */
function toShape(e: Emitter, v: Value, shape: readonly number[]): Value {
  return v.type.shape.length === 0 && shape.length !== 0 ? e.splat(v, shape) : v;
}

export const vjpRules: { [K in Op]: VjpRule<K> } = {
  [Op.Abs]: unary((e, g, x, y) => (isComplex(x.type.dtype) ? e.mul(e.toComplex(g), complexAbsDerivative(e, x, y)) : e.mul(g, e.un(Op.Sign, x)))),
  [Op.Negate]: unary((e, g) => e.neg(g)),
  [Op.Sign]: zero,
  [Op.Exp]: unary((e, g, _x, y) => e.mul(g, y)),
  [Op.Expm1]: unary((e, g, _x, y) => e.mul(g, e.add(y, ones(e, y.type)))),
  [Op.Log]: unary((e, g, x) => e.div(g, x)),
  [Op.Log1p]: unary((e, g, x) => e.div(g, e.add(x, ones(e, x.type)))),
  [Op.Logistic]: unary((e, g, _x, y) => e.mul(g, e.mul(y, e.sub(ones(e, y.type), y)))),
  [Op.Sqrt]: unary((e, g, _x, y) => e.div(e.scale(g, 0.5), y)),
  [Op.Rsqrt]: unary((e, g, x, y) => e.mul(g, e.scale(e.div(y, x), -0.5))),
  [Op.Cbrt]: unary((e, g, _x, y) => e.div(g, e.scale(sq(e, y), 3))),
  [Op.Sin]: unary((e, g, x) => e.mul(g, e.un(Op.Cos, x))),
  [Op.Cos]: unary((e, g, x) => e.neg(e.mul(g, e.un(Op.Sin, x)))),
  [Op.Tan]: unary((e, g, _x, y) => e.mul(g, e.add(ones(e, y.type), sq(e, y)))),
  [Op.Tanh]: unary((e, g, _x, y) => e.mul(g, e.sub(ones(e, y.type), sq(e, y)))),
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
  [Op.Erf]: unary((e, g, x) => e.mul(g, e.scale(e.un(Op.Exp, e.neg(sq(e, x))), 2 / Math.sqrt(Math.PI)))),
  [Op.Erfc]: unary((e, g, x) => e.mul(g, e.scale(e.un(Op.Exp, e.neg(sq(e, x))), -2 / Math.sqrt(Math.PI)))),
  [Op.ErfInv]: unary((e, g, _x, y) => e.mul(g, e.scale(e.un(Op.Exp, sq(e, y)), Math.sqrt(Math.PI) / 2))),
  [Op.Square]: unary((e, g, x) => e.mul(g, e.scale(x, 2))),
  [Op.Sinh]: unary((e, g, x) => e.mul(g, e.un(Op.Cosh, x))),
  [Op.Cosh]: unary((e, g, x) => e.mul(g, e.un(Op.Sinh, x))),
  [Op.Asin]: unary((e, g, x) => e.mul(g, e.un(Op.Rsqrt, e.sub(ones(e, x.type), sq(e, x))))),
  [Op.Acos]: unary((e, g, x) => e.neg(e.mul(g, e.un(Op.Rsqrt, e.sub(ones(e, x.type), sq(e, x)))))),
  [Op.Atan]: unary((e, g, x) => e.div(g, e.add(ones(e, x.type), sq(e, x)))),
  [Op.Asinh]: unary((e, g, x) => e.mul(g, e.un(Op.Rsqrt, e.add(sq(e, x), ones(e, x.type))))),
  // 1/sqrt((x-1)(x+1)) rather than 1/sqrt(x^2-1): the same value without cancellation near 1.
  [Op.Acosh]: unary((e, g, x) => e.mul(g, e.un(Op.Rsqrt, e.mul(e.sub(x, ones(e, x.type)), e.add(x, ones(e, x.type)))))),
  [Op.Atanh]: unary((e, g, x) => e.div(g, e.sub(ones(e, x.type), sq(e, x)))),
  [Op.Lgamma]: unary((e, g, x) => e.mul(g, e.un(Op.Digamma, x))),
  [Op.Digamma]: unary((e, g, x) => e.mul(g, trigamma(e, x))),
  [Op.IsInf]: zero,
  [Op.IsPosInf]: zero,
  [Op.IsNegInf]: zero,

  [Op.Add]: binary((_e, g) => [g, g]),
  [Op.Subtract]: binary((e, g, _x, _y, _z, needs) => [g, needs[1] ? e.neg(g) : undefined]),
  [Op.Multiply]: binary((e, g, x, y, _z, needs) => [needs[0] ? e.mul(g, y) : undefined, needs[1] ? e.mul(g, x) : undefined]),
  [Op.Divide]: binary((e, g, _x, y, z, needs) => [
    needs[0] ? e.div(g, y) : undefined,
    needs[1] ? e.neg(e.div(e.mul(g, z), y)) : undefined,
  ]),
  // x - trunc(x / y) * y: the quotient is locally constant.
  [Op.Remainder]: binary((e, g, x, y, _z, needs) => {
    if (!needs[1]) return [g];
    const q = e.div(x, y);
    const trunc = e.mul(e.un(Op.Sign, q), e.un(Op.Floor, e.un(Op.Abs, q)));
    return [g, e.neg(e.mul(g, trunc))];
  }),
  [Op.Power]: binary((e, g, x, y, z, needs) => {
    const t = x.type;
    // d/dx = y * x^(y-1), taken as 0 where y == 0 so that 0^0 does not give NaN.
    const dx = needs[0]
      ? e.mul(g, e.select(e.compare('EQ', y, e.zeros(t)), e.zeros(t), e.mul(y, e.bin(Op.Power, x, e.sub(y, ones(e, t))))))
      : undefined;
    // d/dy = log(x) * x^y, with log(0) replaced by 0 (the term is 0 there anyway when y > 0).
    const safeX = needs[1] ? e.select(e.compare('EQ', x, e.zeros(t)), ones(e, t), x) : undefined;
    const dy = safeX ? e.mul(g, e.mul(e.un(Op.Log, safeX), z)) : undefined;
    return [dx, dy];
  }),
  [Op.Maximum]: binary((e, g, x, y, z, needs) => [
    needs[0] ? e.mul(g, chooserMask(e, x, y, z)) : undefined,
    needs[1] ? e.mul(g, chooserMask(e, y, x, z)) : undefined,
  ]),
  [Op.Minimum]: binary((e, g, x, y, z, needs) => [
    needs[0] ? e.mul(g, chooserMask(e, x, y, z)) : undefined,
    needs[1] ? e.mul(g, chooserMask(e, y, x, z)) : undefined,
  ]),
  // atan2(x, y): d/dx = y / (x^2 + y^2), d/dy = -x / (x^2 + y^2).
  [Op.Atan2]: binary((e, g, x, y, _z, needs) => {
    const r = e.add(sq(e, x), sq(e, y));
    return [needs[0] ? e.div(e.mul(g, y), r) : undefined, needs[1] ? e.neg(e.div(e.mul(g, x), r)) : undefined];
  }),
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

  [Op.Select]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const [pred] = o.operands;
    const z = e.zeros(g.type);
    const p = toShape(e, pred, g.type.shape);
    return [undefined, needs[1] ? e.select(p, g, z) : undefined, needs[2] ? e.select(p, z, g) : undefined];
  },
  // clamp(min, x, max); the bounds may be rank-0 with a ranked operand.
  [Op.Clamp]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const shape = g.type.shape;
    const [lo0, x, hi0] = o.operands;
    const lo = toShape(e, lo0, shape);
    const hi = toShape(e, hi0, shape);
    const z = e.zeros(g.type);
    const and = (a: Value, b: Value) => e.bin(Op.And, a, b);
    const dLo = needs[0] ? e.select(and(e.compare('GT', lo, x), e.compare('LT', lo, hi)), g, z) : undefined;
    const dX = needs[1] ? e.select(and(e.compare('GT', x, lo), e.compare('LT', x, hi)), g, z) : undefined;
    const dHi = needs[2] ? e.select(e.compare('LT', hi, x), g, z) : undefined;
    return [dLo && e.unbroadcastTo(dLo, lo0.type), dX, dHi && e.unbroadcastTo(dHi, hi0.type)];
  },
  [Op.Convert]: ({ e }, o, [g]) => {
    const from = o.operands[0].type.dtype;
    if (!g || !isDifferentiable(from) || !isDifferentiable(g.type.dtype)) return [];
    // Complex to real keeps the real part (as JAX converts), whose transpose is g + 0i; real to
    // complex's transpose is re(g) (JAX's convert_element_type transpose).
    if (isComplex(g.type.dtype) && !isComplex(from)) return [e.convert(e.real(g), from)];
    if (!isComplex(g.type.dtype) && isComplex(from)) return [e.toComplex(e.convert(g, 'f32'))];
    return [e.convert(g, from)];
  },
  [Op.BitcastConvert]: zero,
  // JAX treats rounding to a narrower format as the identity for derivatives.
  [Op.ReducePrecision]: unary((_e, g) => g),

  [Op.Constant]: zero,
  [Op.Iota]: zero,
  [Op.BroadcastInDim]: ({ e }, o, [g]) => (g ? [unbroadcastInDim(e, g, o.operands[0].type, o.attrs.dims)] : []),
  [Op.Reshape]: unary((e, g, x) => e.reshape(g, x.type.shape)),
  [Op.Transpose]: ({ e }, o, [g]) => (g ? [e.transpose(g, invertPermutation(o.attrs.permutation))] : []),
  [Op.Slice]: ({ e }, o, [g]) => {
    if (!g) return [];
    const { start, strides } = o.attrs;
    const shape = o.operands[0].type.shape;
    if (g.type.shape.some((d) => d === 0)) return [e.zeros(o.operands[0].type)];
    const high = shape.map((d, i) => d - start[i] - (g.type.shape[i] - 1) * strides[i] - 1);
    return [e.padZeros(g, start, high, strides.map((s) => s - 1))];
  },
  [Op.DynamicSlice]: ({ e }, o, [g]) => {
    if (!g) return [];
    const [x, ...starts] = o.operands;
    return [e.b.emit1(Op.DynamicUpdateSlice, [e.zeros(x.type), g, ...starts], {})];
  },
  [Op.DynamicUpdateSlice]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const [, update, ...starts] = o.operands;
    const dx = needs[0] ? e.b.emit1(Op.DynamicUpdateSlice, [g, e.zeros(update.type), ...starts], {}) : undefined;
    const du = needs[1] ? e.b.emit1(Op.DynamicSlice, [g, ...starts], { sliceSizes: [...update.type.shape] }) : undefined;
    return [dx, du];
  },
  [Op.Concatenate]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const { dim } = o.attrs;
    let at = 0;
    return o.operands.map((x, i) => {
      const n = x.type.shape[dim];
      const lo = g.type.shape.map((_, j) => (j === dim ? at : 0));
      const hi = g.type.shape.map((d, j) => (j === dim ? at + n : d));
      at += n;
      return needs[i] ? e.slice(g, lo, hi) : undefined;
    });
  },
  [Op.Pad]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const { low, high, interior } = o.attrs;
    // Undo the edges (a negative edge had cropped, so it is padded back), then take every
    // (interior+1)-th element.
    const unpadded = e.padZeros(g, low.map((v) => -v), high.map((v) => -v), low.map(() => 0));
    const dx = e.slice(unpadded, low.map(() => 0), [...unpadded.type.shape], interior.map((v) => v + 1));
    const dv = needs[1] ? e.sub(e.total(g), e.total(dx)) : undefined;
    return [dx, dv];
  },
  [Op.Reverse]: ({ e }, o, [g]) => (g ? [e.reverse(g, o.attrs.dims)] : []),
  [Op.Gather]: ({ e, needs }, o, [g]) => {
    if (!g || !needs[0]) return [];
    const [x, idx] = o.operands;
    const d = o.attrs.dims;
    const dims: ScatterDims = {
      updateWindowDims: d.offsetDims, insertedWindowDims: d.collapsedSliceDims,
      inputBatchingDims: d.operandBatchingDims, scatterIndicesBatchingDims: d.startIndicesBatchingDims,
      scatterDimsToOperandDims: d.startIndexMap, indexVectorDim: d.indexVectorDim,
    };
    // The gather clamped its starts so each slice fits; the scatter must add where the gather read
    // (a scatter skips windows that do not fit), so it gets the clamped starts.
    const starts = clampStarts(e, idx, d.indexVectorDim, d.startIndexMap, x.type.shape, o.attrs.sliceSizes);
    return [e.b.emit1(Op.Scatter, [e.zeros(x.type), starts, g], { dims, indicesAreSorted: o.attrs.indicesAreSorted, uniqueIndices: false }, {
      regions: [e.combiner(Op.Add, g.type.dtype)],
    })];
  },
  [Op.Scatter]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    if (o.operands.length !== 3) unsupported(o, 'the gradient of a scatter over several arrays is not implemented');
    const [, idx, upd] = o.operands;
    const kind = combinerKind(o.regions[0]);
    if (kind === 'add') return [g, undefined, needs[2] ? gatherForScatter(e, g, idx, upd, o.attrs.dims) : undefined];
    if (kind === 'replace') {
      // Overwritten positions take no gradient from the operand; each update receives the
      // cotangent of the position it landed on, which is only right when no two collide.
      const dx = needs[0] ? e.b.emit1(Op.Scatter, [g, idx, e.zeros(upd.type)], o.attrs, { regions: [o.regions[0]] }) : undefined;
      if (needs[2] && !o.attrs.uniqueIndices) unsupported(o, 'the gradient w.r.t. the updates of a scatter that overwrites needs unique_indices = true');
      return [dx, undefined, needs[2] ? gatherForScatter(e, g, idx, upd, o.attrs.dims) : undefined];
    }
    if (kind === 'mul') {
      // out = x · Π(updates landing there): the operand's cotangent is g times that product, the
      // same scatter applied to g. (JAX's scatter_mul transpose also covers only the operand.)
      if (needs[2]) unsupported(o, 'the gradient of a multiplying scatter w.r.t. its updates is not implemented (JAX has none either)');
      return [needs[0] ? e.b.emit1(Op.Scatter, [g, idx, upd], o.attrs, { regions: [o.regions[0]] }) : undefined];
    }
    return unsupported(o, `the gradient of a scatter combining with ${kind} is not implemented (add, multiply and overwrite are)`);
  },

  [Op.Reduce]: ({ e, needs }, o, cts) => {
    const n = o.operands.length / 2;
    if (n !== 1) {
      if (cts.every((c) => !c)) return [];
      return unsupported(o, 'the gradient of a reduction over several arrays (argmax-style) w.r.t. its float result is not implemented');
    }
    const [g] = cts;
    if (!g) return [];
    const [x] = o.operands;
    const { dims } = o.attrs;
    const kept = range(x.type.shape.length).filter((d) => !dims.includes(d));
    const kind = combinerKind(o.regions[0]);
    if (kind === 'add') return [unreduce(e, g, x.type, kept), needs[1] ? e.total(g) : undefined];
    if (kind === 'max' || kind === 'min') {
      // Split the cotangent evenly among the elements equal to the extremum (as JAX does).
      const mask = e.convert(e.compare('EQ', x, e.broadcastInDim(o.results[0], x.type.shape, kept)), x.type.dtype);
      const counts = e.sum(mask, dims);
      return [e.mul(unreduce(e, e.div(g, counts), x.type, kept), mask)];
    }
    if (kind === 'mul') {
      if (needs[1]) unsupported(o, 'the gradient of a product reduction w.r.t. its init value is not implemented');
      return [reduceProductVjp(e, o, g)];
    }
    return unsupported(o, `the gradient of a reduction combining with ${kind} is not implemented (add, mul, max and min are)`);
  },
  [Op.ReduceWindow]: ({ e, needs }, o, cts) => {
    if (o.operands.length !== 2) {
      if (cts.every((c) => !c)) return [];
      return unsupported(o, 'the gradient of a windowed reduction over several arrays is not implemented');
    }
    const [g] = cts;
    if (!g) return [];
    const kind = combinerKind(o.regions[0]);
    if (kind === 'add') return [reduceWindowSumTranspose(e, g, o)];
    if (kind === 'max' || kind === 'min') {
      const a = o.attrs;
      if (a.baseDilations.some((v) => v !== 1) || a.windowDilations.some((v) => v !== 1)) {
        unsupported(o, 'the gradient of a dilated max/min window reduction is not implemented');
      }
      const [x] = o.operands;
      const t: TensorType = { dtype: x.type.dtype, shape: [] };
      const select = e.b.region([t, t], (rb, [p, q]) => [new Emitter(rb).compare(kind === 'max' ? 'GE' : 'LE', p, q)]);
      const dx = e.b.emit1(Op.SelectAndScatter, [x, g, e.scalar(x.type.dtype, 0)], {
        windowDimensions: a.windowDimensions, windowStrides: a.windowStrides, padding: a.padding,
      }, { regions: [select, e.combiner(Op.Add, x.type.dtype)] });
      return [dx];
    }
    if (kind === 'mul') {
      if (needs[1]) unsupported(o, 'the gradient of a windowed product w.r.t. its init value is not implemented');
      return [cumulativeProductVjp(e, o, g)];
    }
    return unsupported(o, `the gradient of a windowed reduction combining with ${kind} is not implemented (add, mul, max and min are)`);
  },
  [Op.SelectAndScatter]: (_c, o, [g]) => (g ? unsupported(o, 'the gradient of select_and_scatter (a second derivative of max pooling) is not implemented') : []),
  [Op.DotGeneral]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const [x, y] = o.operands;
    const d = o.attrs.dims;
    const p = o.attrs.precision;
    const swapped: DotDims = { lhsBatch: d.rhsBatch, rhsBatch: d.lhsBatch, lhsContract: d.rhsContract, rhsContract: d.lhsContract };
    return [
      needs[0] ? dotTranspose(e, g, x.type, y, d, false, p) : undefined,
      needs[1] ? dotTranspose(e, g, y.type, x, swapped, true, p) : undefined,
    ];
  },
  [Op.Convolution]: ({ e, needs }, o, [g]) => {
    if (!g) return [];
    const a = o.attrs;
    if (a.featureGroupCount !== 1 && a.batchGroupCount !== 1) {
      unsupported(o, `the gradient of a convolution with both feature_group_count ${a.featureGroupCount} and batch_group_count ${a.batchGroupCount} is not implemented (JAX refuses it too)`);
    }
    if (a.windowReversal.some((r) => r)) unsupported(o, 'the gradient of a convolution with window_reversal is not implemented');
    return [needs[0] ? convTransposeLhs(e, g, o) : undefined, needs[1] ? convTransposeRhs(e, g, o) : undefined];
  },
  [Op.Sort]: ({ e, needs }, o, cts) => {
    if (cts.every((c) => !c)) return [];
    const dim = o.attrs.dimension;
    const shape = o.operands[0].type.shape;
    // Sort once more with an iota riding along: its sorted order is the permutation, and every
    // operand's cotangent is its result's cotangent sent back through it.
    const iota = e.b.emit1(Op.Iota, [], { dim }, { resultTypes: [{ dtype: 'i32', shape: [...shape] }] });
    const cmp = cloneBlock(o.regions[0].block, new Map());
    const s: TensorType = { dtype: 'i32', shape: [] };
    cmp.args.push({ type: s }, { type: s });
    const sorted = e.b.emit(Op.Sort, [...o.operands, iota], o.attrs, { regions: [{ block: cmp }] });
    const perm = sorted[sorted.length - 1];
    return o.operands.map((x, i) => (cts[i] && needs[i] ? scatterAlong(e, cts[i]!, perm, dim, x.type) : undefined));
  },
  [Op.TopK]: ({ e }, o, [g]) => {
    if (!g) return [];
    const x = o.operands[0];
    return [scatterAlong(e, g, o.results[1], x.type.shape.length - 1, x.type)];
  },

  // Short counted loops were unrolled before differentiation (client/autodiff/unroll.ts); longer
  // ones are transposed as loops. A trip count known only at run time is refused with JAX's message.
  [Op.While]: (ctx, o, cts) => {
    if (cts.every((c) => !c)) return [];
    if (!o.operands.some((v) => ctx.active(v)) && !capturedValues(o.regions).some((v) => ctx.active(v))) return [];
    const trips = tripCountIn(ctx.e.b, o);
    if (trips !== undefined) return countedLoopVjp(ctx, o, cts, trips);
    return unsupported(o, 'Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic start/stop values. '
      + 'Try using lax.scan, or using fori_loop with static start/stop.');
  },
  [Op.If]: (ctx, o, cts) => branchVjp(ctx, o, cts),
  [Op.Case]: (ctx, o, cts) => branchVjp(ctx, o, cts),
  // Complex parts, with JAX's transposes: real's cotangent is g + 0i, imag's 0 - g·i, complex's
  // (re g, -im g). With them the gradient of a real loss at a complex input is dL/dre - i·dL/dim,
  // JAX's convention (https://github.com/jax-ml/jax/issues/6223#issuecomment-807740707); the
  // holomorphic ops (multiply, exp, ...) keep their real rules, unconjugated, as JAX's do.
  [Op.Real]: unary((e, g) => e.toComplex(g)),
  [Op.Imag]: unary((e, g) => e.complex(e.zeros(g.type), e.neg(g))),
  [Op.Complex]: binary((e, g, _x, _y, _z, needs) => [needs[0] ? e.real(g) : undefined, needs[1] ? e.neg(e.imag(g)) : undefined]),
  [Op.Fft]: ({ e }, o, [g]) => (g ? [fftTranspose(e, g, o)] : []),
  [Op.Call]: (_c, o) => unsupported(o, 'internal: calls are inlined before differentiation'),
  [Op.Return]: (_c, o) => unsupported(o, 'internal: terminators are not differentiated'),
  [Op.FuncReturn]: (_c, o) => unsupported(o, 'internal: terminators are not differentiated'),
  [Op.OptimizationBarrier]: (_c, _o, cts) => [...cts],
  // Linear algebra: client/autodiff/linalg-rules.ts.
  [Op.Cholesky]: ({ e }, o, [g]) => choleskyVjp(e, 'stablehlo', o.attrs.lower, o.results[0], g, false),
  [Op.TriangularSolve]: ({ e, needs }, o, [g]) => triangularSolveVjp(e, 'stablehlo', o.attrs, o.operands[0], o.results[0], g, needs),
  [Op.CustomCall]: ({ e, needs }, o, cts) => {
    const call = o.attrs.call;
    switch (call.kind) {
      case 'potrf': return choleskyVjp(e, 'lapack', call.lower, o.results[0], cts[0], true);
      case 'trsm': return triangularSolveVjp(e, 'lapack', call, o.operands[0], o.results[0], cts[0], needs);
      case 'getrf': return getrfVjp(e, o, cts[0]);
      // Integer permutations have no cotangent.
      case 'pivotsToPermutation': return [undefined];
      // geqrf and orgqr are separate calls: QR's rule is a custom JVP in the client (client/linalg/decompositions.ts).
      case 'syevd': return syevdVjp(e, o.results[0], o.results[1], cts);
      case 'svd': return svdVjp(e, o, cts);
      case 'geqrf': case 'orgqr':
        return unsupported(o, `the gradient of @${o.attrs.target} (${call.kind}) is not implemented: QR differentiates only as np.linalg.qr / lax.linalg.qr of a tall or square matrix with the reduced Q (JAX's qr_jvp_rule, a custom JVP), not from a parsed module, and not wide or complete non-square, which JAX refuses too`);
      default: return call satisfies never;
    }
  },
};

// ---- helpers for the complex rules ----------------------------------------------------------

/**
 * d|x|/dx for complex x as JAX writes it (`_abs_jvp_rule`): conj(x) / |x|, with |x| = 0 replaced
 * by 1 so the derivative at 0 is 0, not NaN. The JVP is re(t · this); the VJP g · this.
 */
export function complexAbsDerivative(e: Emitter, x: Value, y: Value): Value {
  const safe = e.select(e.compare('EQ', y, e.zeros(y.type)), e.full(y.type, 1), y);
  return e.div(e.conj(x), e.toComplex(safe));
}

/**
 * The transpose of `stablehlo.fft` (JAX's `_fft_transpose_rule`): FFT and IFFT are their own
 * transposes (the DFT matrix is symmetric); RFFT's is the real part of the FFT of the cotangent
 * zero-padded to n (the transpose of x -> FFT(x)[..., :n/2+1]); IRFFT's is
 * conj(RFFT(g) · mask / prod(n)), the mask doubling the bins that stand for two in the full
 * spectrum (all but 0 and, for even n, n/2).
 */
function fftTranspose(e: Emitter, g: Value, o: Operation<Op.Fft>): Value {
  const { fftType, fftLength } = o.attrs;
  const shape = g.type.shape;
  const last = shape.length - 1;
  const n = fftLength[fftLength.length - 1];
  switch (fftType) {
    case 'FFT': case 'IFFT':
      return e.fft(g, fftType, fftLength);
    case 'RFFT': {
      const zeros = shape.map(() => 0);
      const padded = e.padZeros(g, zeros, shape.map((d, i) => (i === last ? n - d : 0)), zeros);
      return e.real(e.fft(padded, 'FFT', fftLength));
    }
    case 'IRFFT': {
      const x = e.fft(g, 'RFFT', fftLength);
      const m = x.type.shape[last];
      const scale = 1 / fftLength.reduce((a, b) => a * b, 1);
      const mask = Array.from({ length: m }, (_, k) => (k === 0 || (n % 2 === 0 && k === m - 1) ? scale : 2 * scale));
      const c = e.b.constant('c64', [m], mask.flatMap((v) => [v, 0]));
      return e.conj(e.mul(x, e.broadcastInDim(c, x.type.shape, [last])));
    }
    default:
      return fftType satisfies never;
  }
}

// ---- helpers for the structural rules ------------------------------------------------------

/** Transposes broadcast_in_dim: sums the new and the stretched dims, then restores the operand's layout. */
function unbroadcastInDim(e: Emitter, g: Value, xt: TensorType, dims: number[]): Value {
  const out = g.type.shape;
  const stretched = dims.filter((d, i) => xt.shape[i] === 1 && out[d] !== 1);
  const summed = range(out.length).filter((d) => !dims.includes(d) || stretched.includes(d));
  let r = e.sum(g, summed);
  // The kept dims come out in ascending result order; put them in operand order.
  const keptOperandDims = range(xt.shape.length).filter((i) => !stretched.includes(dims[i]));
  const byResultPos = [...keptOperandDims].sort((a, b) => dims[a] - dims[b]);
  r = e.transpose(r, keptOperandDims.map((i) => byResultPos.indexOf(i)));
  return e.reshape(r, xt.shape);
}

/** Broadcasts a reduced cotangent back over the reduced dims (`kept` are the surviving operand dims). */
function unreduce(e: Emitter, g: Value, xt: TensorType, kept: number[]): Value {
  return e.broadcastInDim(g, xt.shape, kept);
}

/** The gather that reads, for each update, the cotangent of the position it was scattered to. */
function gatherForScatter(e: Emitter, g: Value, idx: Value, upd: Value, d: ScatterDims): Value {
  const rank = g.type.shape.length;
  const windowOperandDims = range(rank).filter((i) => !d.insertedWindowDims.includes(i) && !d.inputBatchingDims.includes(i));
  const sliceSizes = range(rank).map((i) => {
    const k = windowOperandDims.indexOf(i);
    return k < 0 ? 1 : upd.type.shape[d.updateWindowDims[k]];
  });
  const dims: GatherDims = {
    offsetDims: d.updateWindowDims, collapsedSliceDims: d.insertedWindowDims,
    operandBatchingDims: d.inputBatchingDims, startIndicesBatchingDims: d.scatterIndicesBatchingDims,
    startIndexMap: d.scatterDimsToOperandDims, indexVectorDim: d.indexVectorDim,
  };
  const got = e.b.emit1(Op.Gather, [g, idx], { dims, sliceSizes, indicesAreSorted: false });
  // An update whose window did not fit was skipped (JAX's mode 'drop'): it gets no cotangent,
  // where the gather alone would read a clamped neighbour's.
  const ok = windowFits(e, idx, d.indexVectorDim, d.scatterDimsToOperandDims, g.type.shape, sliceSizes);
  const batchDims = range(upd.type.shape.length).filter((i) => !d.updateWindowDims.includes(i));
  return e.select(e.broadcastInDim(ok, upd.type.shape, batchDims), got, e.zeros(got.type));
}

/** The components of an index array along its index vector dim (one per entry of the vector). */
function indexComponents(e: Emitter, idx: Value, ivd: number, n: number): Value[] {
  const shape = idx.type.shape;
  if (ivd === shape.length) return [e.convert(idx, 'i32')];
  const batch = shape.filter((_, i) => i !== ivd);
  return range(n).map((k) => {
    const lo = shape.map((_, i) => (i === ivd ? k : 0));
    const hi = shape.map((dim, i) => (i === ivd ? k + 1 : dim));
    return e.reshape(e.convert(e.slice(idx, lo, hi), 'i32'), batch);
  });
}

/** True for each start vector whose window (`sizes`) lies inside `shape` along the mapped dims. */
function windowFits(e: Emitter, idx: Value, ivd: number, toOperand: readonly number[], shape: readonly number[], sizes: readonly number[]): Value {
  const comps = indexComponents(e, idx, ivd, toOperand.length);
  let ok: Value | undefined;
  comps.forEach((c, k) => {
    const dim = toOperand[k];
    const t = c.type;
    const v = e.b.emit1(Op.And, [
      e.compare('GE', c, e.full(t, 0)),
      e.compare('LE', c, e.full(t, shape[dim] - sizes[dim])),
    ], {} as OpAttrs[Op.And]);
    ok = ok ? e.b.emit1(Op.And, [ok, v], {} as OpAttrs[Op.And]) : v;
  });
  return ok!;
}

/** The start vectors clamped as gather clamps them, `[0, dim - size]` per mapped dim (i32). */
function clampStarts(e: Emitter, idx: Value, ivd: number, toOperand: readonly number[], shape: readonly number[], sizes: readonly number[]): Value {
  const comps = indexComponents(e, idx, ivd, toOperand.length).map((c, k) => {
    const dim = toOperand[k];
    const lo = e.b.emit1(Op.Maximum, [c, e.full(c.type, 0)], {} as OpAttrs[Op.Maximum]);
    return e.b.emit1(Op.Minimum, [lo, e.full(c.type, Math.max(0, shape[dim] - sizes[dim]))], {} as OpAttrs[Op.Minimum]);
  });
  if (ivd === idx.type.shape.length) return comps[0];
  const col = idx.type.shape.map((dim, i) => (i === ivd ? 1 : dim));
  return e.b.emit1(Op.Concatenate, comps.map((c) => e.reshape(c, col)), { dim: ivd });
}

/**
 * Adds `g` into zeros of type `xt` at positions that differ from `g`'s own only along `dim`,
 * where they are `idx` (a sort's permutation, top_k's indices): a scatter with full coordinates.
 */
function scatterAlong(e: Emitter, g: Value, idx: Value, dim: number, xt: TensorType): Value {
  const shape = g.type.shape;
  const rank = shape.length;
  const col = [...shape, 1];
  const coords = range(rank).map((j) => {
    const c = j === dim
      ? e.convert(idx, 'i32')
      : e.b.emit1(Op.Iota, [], { dim: j }, { resultTypes: [{ dtype: 'i32', shape: [...shape] }] });
    return e.reshape(c, col);
  });
  const indices = coords.length === 1 ? coords[0] : e.b.emit1(Op.Concatenate, coords, { dim: rank });
  const dims: ScatterDims = {
    updateWindowDims: [], insertedWindowDims: range(rank), inputBatchingDims: [], scatterIndicesBatchingDims: [],
    scatterDimsToOperandDims: range(rank), indexVectorDim: rank,
  };
  return e.b.emit1(Op.Scatter, [e.zeros(xt), indices, g], { dims, indicesAreSorted: false, uniqueIndices: true }, {
    regions: [e.combiner(Op.Add, g.type.dtype)],
  });
}

/**
 * The cotangent of a dot_general's lhs (`swap` false) or rhs (`swap` true, with `d` given from
 * the rhs's side): contract `g` with the other operand over the other's free dims, then permute
 * into the operand's layout. `xt` is the operand's type, `y` the other operand.
 */
function dotTranspose(e: Emitter, g: Value, xt: TensorType, y: Value, d: DotDims, swap: boolean, precision: DotGeneralPrecision): Value {
  const xRank = xt.shape.length;
  const yRank = y.type.shape.length;
  const xKept = range(xRank).filter((i) => !d.lhsContract.includes(i) && !d.lhsBatch.includes(i));
  const yKept = range(yRank).filter((i) => !d.rhsContract.includes(i) && !d.rhsBatch.includes(i));
  const nb = d.lhsBatch.length;
  // The result of the original op is laid out [batch, lhs free, rhs free].
  const ansY = swap ? range(yKept.length, nb) : range(yKept.length, nb + xKept.length);
  const dims: DotDims = { lhsBatch: range(nb), rhsBatch: d.rhsBatch, lhsContract: ansY, rhsContract: yKept };
  const r = e.b.emit1(Op.DotGeneral, [g, y], precision ? { dims, precision } : { dims });
  // r is [batch, x's free dims, x's contracted dims in the order of y's contracted dims].
  const xContractByY = argsort(d.rhsContract).map((i) => d.lhsContract[i]);
  const order = [...d.lhsBatch, ...xKept, ...xContractByY];
  return e.transpose(r, invertPermutation(order));
}
type DotGeneralPrecision = Operation<Op.DotGeneral>['attrs']['precision'];

function argsort(xs: readonly number[]): number[] {
  return range(xs.length).sort((a, b) => xs[a] - xs[b]);
}

const dilate = (s: number, k: number) => (s === 0 ? 0 : 1 + k * (s - 1));

interface ConvGeometry {
  inSp: number[];
  kSp: number[];
  outSp: number[];
}
function convGeometry(o: Operation<Op.Convolution>, g: Value): ConvGeometry {
  const d = o.attrs.dims;
  const [x, w] = o.operands;
  return {
    inSp: d.inputSpatial.map((i) => x.type.shape[i]),
    kSp: d.kernelSpatial.map((i) => w.type.shape[i]),
    outSp: d.outputSpatial.map((i) => g.type.shape[i]),
  };
}

/** The input's cotangent: `g` convolved with the spatially reversed kernel, its in/out features swapped. */
function convTransposeLhs(e: Emitter, g: Value, o: Operation<Op.Convolution>): Value {
  const a = o.attrs;
  const d = a.dims;
  const { inSp, kSp, outSp } = convGeometry(o, g);
  const padding = inSp.map((n, i): [number, number] => {
    const kd = dilate(kSp[i], a.rhsDilation[i]);
    const before = kd - a.padding[i][0] - 1;
    const after = dilate(n, a.lhsDilation[i]) + kd - 1 - dilate(outSp[i], a.windowStrides[i]) - before;
    return [before, after];
  });
  const dims: ConvDims = {
    inputBatch: d.outputBatch, inputFeature: d.outputFeature, inputSpatial: d.outputSpatial,
    kernelOutput: d.kernelInput, kernelInput: d.kernelOutput, kernelSpatial: d.kernelSpatial,
    outputBatch: d.inputBatch, outputFeature: d.inputFeature, outputSpatial: d.inputSpatial,
  };
  // JAX's _conv_general_dilated_transpose_lhs: a group count moves out of the kernel's output
  // features into its input features, which the transposed convolution reads as its outputs.
  let w = o.operands[1];
  const groups = Math.max(a.featureGroupCount, a.batchGroupCount);
  if (groups > 1) w = reshapeAxisInto(e, d.kernelOutput, d.kernelInput, reshapeAxisOutOf(e, d.kernelOutput, groups, w));
  w = e.reverse(w, d.kernelSpatial);
  let out = e.b.emit1(Op.Convolution, [g, w], {
    windowStrides: a.lhsDilation, padding, lhsDilation: a.windowStrides, rhsDilation: a.rhsDilation,
    windowReversal: a.windowReversal.map(() => false), dims, featureGroupCount: groups, batchGroupCount: 1,
    ...(a.precision ? { precision: a.precision } : {}),
  });
  if (a.batchGroupCount > 1) out = reshapeAxisInto(e, d.inputFeature, d.inputBatch, reshapeAxisOutOf(e, d.inputFeature, a.batchGroupCount, out));
  return out;
}

/** JAX's `_reshape_axis_out_of`: axis `src` of size `size1 * k` becomes axes `[size1, k]` there. */
function reshapeAxisOutOf(e: Emitter, src: number, size1: number, x: Value): Value {
  const shape = [...x.type.shape];
  shape.splice(src, 1, size1, shape[src] / size1);
  return e.reshape(x, shape);
}

/**
 * JAX's `_reshape_axis_into`: axis `src` merges into axis `dst` (numbered without `src`) as its
 * major part.
 */
function reshapeAxisInto(e: Emitter, src: number, dst: number, x: Value): Value {
  const rank = x.type.shape.length;
  const perm = range(rank).filter((i) => i !== src);
  perm.splice(dst, 0, src);
  const shape = x.type.shape.filter((_, i) => i !== src);
  shape[dst] *= x.type.shape[src];
  return e.reshape(e.transpose(x, perm), shape);
}

/** The kernel's cotangent: the input convolved with `g`, batch and feature roles swapped. */
function convTransposeRhs(e: Emitter, g: Value, o: Operation<Op.Convolution>): Value {
  const a = o.attrs;
  const d = a.dims;
  const { inSp, kSp, outSp } = convGeometry(o, g);
  const padding = inSp.map((n, i): [number, number] => {
    const lo = a.padding[i][0];
    const kd = dilate(kSp[i], a.rhsDilation[i]);
    const hi = dilate(outSp[i], a.windowStrides[i]) - dilate(n, a.lhsDilation[i]) + kd - lo - 1;
    return [lo, hi];
  });
  const dims: ConvDims = {
    inputBatch: d.inputFeature, inputFeature: d.inputBatch, inputSpatial: d.inputSpatial,
    kernelOutput: d.outputFeature, kernelInput: d.outputBatch, kernelSpatial: d.outputSpatial,
    outputBatch: d.kernelInput, outputFeature: d.kernelOutput, outputSpatial: d.kernelSpatial,
  };
  return e.b.emit1(Op.Convolution, [o.operands[0], g], {
    windowStrides: a.rhsDilation, padding, lhsDilation: a.lhsDilation, rhsDilation: a.windowStrides,
    // JAX's _conv_general_dilated_transpose_rhs: feature groups become batch groups and back.
    windowReversal: a.windowReversal.map(() => false), dims, featureGroupCount: a.batchGroupCount, batchGroupCount: a.featureGroupCount,
    ...(a.precision ? { precision: a.precision } : {}),
  });
}

/** The operand cotangent of an add-window-reduction: pad `g` by the strides, then sum windows of it. */
function reduceWindowSumTranspose(e: Emitter, g: Value, o: Operation<Op.ReduceWindow>): Value {
  const a = o.attrs;
  const x = o.operands[0];
  const low: number[] = [];
  const high: number[] = [];
  x.type.shape.forEach((n, i) => {
    const kd = dilate(a.windowDimensions[i], a.windowDilations[i]);
    const before = kd - a.padding[i][0] - 1;
    low.push(before);
    high.push(dilate(n, a.baseDilations[i]) + kd - 1 - dilate(g.type.shape[i], a.windowStrides[i]) - before);
  });
  const padded = e.padZeros(g, low, high, a.windowStrides.map((s) => s - 1));
  const rank = x.type.shape.length;
  return e.b.emit1(Op.ReduceWindow, [padded, e.scalar(g.type.dtype, 0)], {
    windowDimensions: a.windowDimensions, windowStrides: a.baseDilations, baseDilations: Array(rank).fill(1),
    windowDilations: a.windowDilations, padding: Array.from({ length: rank }, (): [number, number] => [0, 0]),
  }, { regions: [e.combiner(Op.Add, g.type.dtype)] });
}
