/**
 * @file Constant folding. An elementwise op, or a data-movement op, whose operands are all
 * constants becomes a constant, under two limits: the result is a splat (any size: a splat costs
 * one element), or it has at most {@link FOLD_LIMIT} elements, so that folding never turns a
 * small program into a large one. Splats stay splats through broadcast, reshape, transpose,
 * slice, reverse and elementwise ops, which is what makes `broadcast_in_dim` of a scalar
 * constant (JAX's spelling of every `jnp.zeros` and `x * 0.5`) a constant of the result type.
 * Non-splat constants whose elements are all equal are rewritten as splats.
 *
 * Element semantics come from `scalar.ts`; anything it declines (transcendentals, integer
 * division by zero, ...) stays unfolded. Returns a new module if anything folded, else the input.
 */
import { Op, BinaryElementwise, Predicates, UnaryElementwise } from '../../ir/ops.js';
import type { DenseLiteral } from '../../ir/ops.js';
import type { NarrowDType } from '../../ir/dtype.js';
import { defaultCompareType } from '../../ir/scalar.js';
import { type AnyOperation, type Module, type Operation, type TensorType, type Value, numElements, stridesOf } from '../../ir/types.js';
import {
  type ConstValue, FOLD_LIMIT, elementAt, flatIndex, gatherElements, isUniform, literalKey, makeLiteral,
  splatLiteral, supported,
} from './literal.js';
import { rewritePass } from './rewrite.js';
import { evalBinary, evalCompare, evalConvert, evalPredicate, evalUnary } from './scalar.js';

/** Folds constant subexpressions into constants. */
export function foldConstants(m: Module): Module {
  const consts = new Map<Value, ConstValue>();
  return rewritePass(m, (o, ctx) => {
    if (o.op === Op.Constant) {
      let lit = o.attrs.value;
      // (Complex literals are left as written: their elements are pairs.)
      if (!lit.splat && lit.data.length > 1 && o.results[0].type.dtype !== 'c64' && isUniform(lit)) {
        lit = { splat: true, data: lit.data.slice(0, 1) };
        o.attrs = { value: lit };
        ctx.changed();
      }
      consts.set(o.results[0], { type: o.results[0].type, lit });
      return undefined;
    }
    if (o.results.length !== 1 || o.regions.length > 0 || o.operands.length === 0) return undefined;
    const ins: ConstValue[] = [];
    for (const v of o.operands) {
      const c = consts.get(v);
      if (!c || !supported(c.type)) return undefined;
      ins.push(c);
    }
    const type = o.results[0].type;
    const d = supported(type);
    if (!d) return undefined;
    const lit = foldOp(o, ins, d, type);
    if (!lit) return undefined;
    const c = constantOp(type, lit, o);
    ctx.insert(c);
    consts.set(c.results[0], { type, lit });
    return c.results;
  });
}

/** A `stablehlo.constant` standing in for `from`'s single result. */
function constantOp(type: TensorType, lit: DenseLiteral, from: Operation): Operation<Op.Constant> {
  const c: Operation<Op.Constant> = { op: Op.Constant, operands: [], results: [{ type }], attrs: { value: lit }, regions: [] };
  if (from.loc) c.loc = from.loc;
  return c;
}

function isSplatLike(c: ConstValue): boolean {
  return c.lit.splat || c.lit.data.length === 1;
}

/** The folded literal of `o`, or `undefined` to leave it alone. */
function foldOp(o: AnyOperation, ins: ConstValue[], d: NarrowDType, type: TensorType): DenseLiteral | undefined {
  // A reshape keeps the literal's storage as it is, so it never grows the module.
  if (o.op === Op.Reshape) return ins[0].lit;
  const n = numElements(type.shape);
  const allSplat = ins.every(isSplatLike);
  if (!allSplat && n > FOLD_LIMIT) return undefined;

  const element = elementFn(o, ins, d);
  if (element) {
    const count = allSplat ? 1 : n;
    const values: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const v = element(i);
      if (v === undefined) return undefined;
      values[i] = v;
    }
    return allSplat ? splatLiteral(d, values[0]) : makeLiteral(d, values);
  }
  return moveData(o, ins, d, type);
}

/** Element `i` of an elementwise op's result, or `undefined` if it is not one `scalar.ts` can compute. */
function elementFn(o: AnyOperation, ins: ConstValue[], d: NarrowDType): ((i: number) => number | undefined) | undefined {
  const [a, b, c] = ins;
  const inD = supported(a.type)!;
  if (Predicates.has(o.op)) return (i) => evalPredicate(o.op, elementAt(a, i));
  if (UnaryElementwise.has(o.op)) return (i) => evalUnary(o.op, d, elementAt(a, i));
  if (o.op === Op.Compare) {
    const cmpType = o.attrs.compareType ?? defaultCompareType(inD);
    const dir = o.attrs.direction;
    return (i) => evalCompare(dir, cmpType, elementAt(a, i), elementAt(b, i));
  }
  if (BinaryElementwise.has(o.op)) return (i) => evalBinary(o.op, d, elementAt(a, i), elementAt(b, i));
  switch (o.op) {
    case Op.Select: return (i) => (elementAt(a, i) ? elementAt(b, i) : elementAt(c, i));
    // clamp(min, x, max) = min(max(x, min), max); Math.max/min propagate NaN as StableHLO does.
    case Op.Clamp: return (i) => Math.min(Math.max(elementAt(b, i), elementAt(a, i)), elementAt(c, i));
    case Op.Convert: return (i) => evalConvert(inD, d, elementAt(a, i));
    default: return undefined;
  }
}

/** Folds a data-movement op by mapping each result index to an operand element. */
function moveData(o: AnyOperation, ins: ConstValue[], d: NarrowDType, type: TensorType): DenseLiteral | undefined {
  const x = ins[0];
  const inShape = x.type.shape;
  const inStrides = stridesOf(inShape);
  const splatOf = (c: ConstValue): DenseLiteral => (c.lit.splat ? c.lit : splatLiteral(d, c.lit.data[0] as number));
  switch (o.op) {
    case Op.BroadcastInDim: {
      if (isSplatLike(x)) return splatOf(x);
      const dims = o.attrs.dims;
      return gatherElements(d, type.shape, ins, (idx) =>
        [0, flatIndex(inStrides, inShape.map((s, k) => (s === 1 ? 0 : idx[dims[k]])))]);
    }
    case Op.Transpose: {
      if (isSplatLike(x)) return splatOf(x);
      const perm = o.attrs.permutation;
      const src = new Array<number>(inShape.length);
      return gatherElements(d, type.shape, ins, (idx) => {
        perm.forEach((p, k) => { src[p] = idx[k]; });
        return [0, flatIndex(inStrides, src)];
      });
    }
    case Op.Slice: {
      if (isSplatLike(x)) return splatOf(x);
      const { start, strides } = o.attrs;
      return gatherElements(d, type.shape, ins, (idx) =>
        [0, flatIndex(inStrides, idx.map((j, k) => start[k] + j * strides[k]))]);
    }
    case Op.Reverse: {
      if (isSplatLike(x)) return splatOf(x);
      const rev = new Set(o.attrs.dims);
      return gatherElements(d, type.shape, ins, (idx) =>
        [0, flatIndex(inStrides, idx.map((j, k) => (rev.has(k) ? inShape[k] - 1 - j : j)))]);
    }
    case Op.Concatenate: {
      const keys = new Set(ins.map((c) => (isSplatLike(c) ? literalKey(type, splatOf(c)) : '')));
      if (keys.size === 1 && !keys.has('')) return splatOf(x);
      const dim = o.attrs.dim;
      const starts: number[] = [];
      let off = 0;
      for (const c of ins) { starts.push(off); off += c.type.shape[dim]; }
      const strides = ins.map((c) => stridesOf(c.type.shape));
      return gatherElements(d, type.shape, ins, (idx) => {
        let k = starts.length - 1;
        while (starts[k] > idx[dim]) k--;
        const local = idx.slice();
        local[dim] -= starts[k];
        return [k, flatIndex(strides[k], local)];
      });
    }
    case Op.Pad: {
      const fill = ins[1];
      if (isSplatLike(x) && literalKey(fill.type, splatOf(x)) === literalKey(fill.type, splatOf(fill))) return splatOf(x);
      const { low, interior } = o.attrs;
      const src = new Array<number>(inShape.length);
      return gatherElements(d, type.shape, ins, (idx) => {
        for (let k = 0; k < idx.length; k++) {
          const j = idx[k] - low[k];
          const step = interior[k] + 1;
          if (j < 0 || j % step !== 0 || j / step >= inShape[k]) return [1, 0];
          src[k] = j / step;
        }
        return [0, flatIndex(inStrides, src)];
      });
    }
    default:
      return undefined;
  }
}
