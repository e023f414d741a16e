/**
 * @file Algebraic simplification: rewrites that make the graph smaller without changing a single
 * bit of any result.
 *
 * - reshape of reshape is one reshape; transposes compose (and vanish when the composed
 *   permutation is the identity); broadcast_in_dim of broadcast_in_dim composes its dims;
 * - reshape, transpose, broadcast_in_dim and convert to the operand's own type are the operand;
 * - `x * 1`, `x / 1`, `x + 0`, `x - 0` for integers; for floats only the exact identities,
 *   `x * 1`, `x / 1`, `x + (-0.0)` and `x - (+0.0)` (`-0.0 + 0.0` is `+0.0`, so `x + 0.0` is not `x`);
 * - `maximum(x, lowest)` and `minimum(x, highest)` (±inf for floats, the integer bounds) are `x`;
 * - `negate(negate(x))` and `not(not(x))` are `x`; `and(x, true)`, `or(x, false)` are `x` for i1;
 * - `select` with a constant predicate picks its branch;
 * - a `reduce` whose reduced dimensions hold one element (JAX's bias gradients reduce a `1xN`
 *   reshape of a reduction again) is its body applied once, `body(init, x)`, as elementwise ops
 *   on the reshaped inputs and the broadcast inits: the fold order of the reference interpreter
 *   and of the GPU kernel, so `0.0 + -0.0` still gives `+0.0`.
 *
 * Constants are recognised whether they are `stablehlo.constant` ops or the fold pass has yet to
 * turn a broadcast of one into one. Returns a new module if anything changed, else the input.
 */
import { type DType, isFloat } from '../../ir/dtype.js';
import { Elementwise, Op, type OpAttrs } from '../../ir/ops.js';
import type { AnyOperation, Module, Operation, Value } from '../../ir/types.js';
import { numElements, sameType } from '../../ir/types.js';
import { type ConstValue, allEqual, allNegativeZero } from './literal.js';
import { rewritePass, type RewriteContext } from './rewrite.js';

/** Applies the algebraic identities above until none applies to an op. */
export function simplify(m: Module): Module {
  const defs = new Map<Value, AnyOperation>();
  return rewritePass(m, (o, ctx) => {
    const repl = simplifyOp(o, defs, ctx);
    if (!repl) o.results.forEach((r) => defs.set(r, o));
    return repl;
  });
}

/** The constant behind `v`: a constant op, or a broadcast_in_dim of a splat one. */
function constantOf(v: Value, defs: Map<Value, AnyOperation>): ConstValue | undefined {
  const d = defs.get(v);
  if (d?.op === Op.Constant) return { type: v.type, lit: d.attrs.value };
  if (d?.op === Op.BroadcastInDim) {
    const inner = constantOf(d.operands[0], defs);
    if (inner && (inner.lit.splat || inner.lit.data.length === 1)) return { type: v.type, lit: inner.lit };
  }
  return undefined;
}

/** The operand itself when `o` (one result) maps it to a value of the same type. */
function same(o: Operation, x: Value): Value[] | undefined {
  return sameType(o.results[0].type, x.type) ? [x] : undefined;
}

function isIdentity(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}

/**
 * A transpose of a transpose, or a broadcast_in_dim of a broadcast_in_dim: `o` reads the inner op's
 * operand through the two index maps composed (`compose`); then `o` is its operand when the
 * composed map (`map`) is the identity.
 */
function composeNested<K extends Op.Transpose | Op.BroadcastInDim>(
  o: Operation<K>,
  inner: AnyOperation | undefined,
  compose: (inner: Operation<K>) => OpAttrs[K],
  map: (attrs: OpAttrs[K]) => readonly number[],
  changed: () => void,
): Value[] | undefined {
  if (inner?.op === o.op) {
    o.attrs = compose(inner as Operation<K>);
    o.operands[0] = inner.operands[0];
    changed();
  }
  return isIdentity(map(o.attrs)) ? same(o, o.operands[0]) : undefined;
}

/** The least (`lowest`) or greatest value of a dtype: the unit of maximum or minimum. */
function lowestOrHighest(d: DType, lowest: boolean): number | undefined {
  switch (d) {
    case 'f32': case 'f16': return lowest ? -Infinity : Infinity;
    case 'i32': return lowest ? -0x80000000 : 0x7fffffff;
    case 'ui32': return lowest ? 0 : 0xffffffff;
    case 'i1': return lowest ? 0 : 1;
    default: return undefined;
  }
}

function simplifyOp(o: AnyOperation, defs: Map<Value, AnyOperation>, ctx: RewriteContext): Value[] | undefined {
  const changed = () => ctx.changed();
  const def = (i: number): AnyOperation | undefined => defs.get(o.operands[i]);
  const cst = (i: number): ConstValue | undefined => constantOf(o.operands[i], defs);
  switch (o.op) {
    case Op.Reshape: {
      const inner = def(0);
      if (inner?.op === Op.Reshape) { o.operands[0] = inner.operands[0]; changed(); }
      return same(o, o.operands[0]);
    }
    // out[i] = mid[p2[i]] = x[p1[p2[i]]]
    case Op.Transpose:
      return composeNested(o, def(0), (inner) => ({ permutation: o.attrs.permutation.map((p) => inner.attrs.permutation[p]) }), (a) => a.permutation, changed);
    // x dim k lands on mid dim d1[k], which lands on out dim d2[d1[k]].
    case Op.BroadcastInDim:
      return composeNested(o, def(0), (inner) => ({ dims: inner.attrs.dims.map((k) => o.attrs.dims[k]) }), (a) => a.dims, changed);
    case Op.Convert:
      return same(o, o.operands[0]);
    case Op.Negate: case Op.Not: {
      const inner = def(0);
      return inner?.op === o.op ? same(o, inner.operands[0]) : undefined;
    }
    case Op.Multiply: {
      for (const [k, other] of [[0, 1], [1, 0]]) {
        const c = cst(k);
        if (c && allEqual(c, 1)) return same(o, o.operands[other]);
      }
      return undefined;
    }
    case Op.Add: {
      const float = isFloat(o.results[0].type.dtype) || o.results[0].type.dtype === 'c64';
      for (const [k, other] of [[0, 1], [1, 0]]) {
        const c = cst(k);
        if (c && (float ? allNegativeZero(c) : allEqual(c, 0))) return same(o, o.operands[other]);
      }
      return undefined;
    }
    case Op.Divide: {
      const c = cst(1);
      return c && allEqual(c, 1) ? same(o, o.operands[0]) : undefined;
    }
    case Op.Maximum: case Op.Minimum: {
      // max(x, lowest) and min(x, highest) are x, NaN included (max propagates it).
      const bound = lowestOrHighest(o.results[0].type.dtype, o.op === Op.Maximum);
      for (const [k, other] of [[0, 1], [1, 0]]) {
        const c = cst(k);
        if (c && bound !== undefined && allEqual(c, bound)) return same(o, o.operands[other]);
      }
      return undefined;
    }
    case Op.Subtract: {
      const c = cst(1);
      // x - (+0.0) is x + (-0.0), exact; for integers any zero.
      if (c && allEqual(c, 0) && c.lit.data.every((v) => !Object.is(v, -0))) return same(o, o.operands[0]);
      return undefined;
    }
    case Op.And: case Op.Or: {
      if (o.results[0].type.dtype !== 'i1') return undefined;
      const unit = o.op === Op.And ? 1 : 0;
      for (const [k, other] of [[0, 1], [1, 0]]) {
        const c = cst(k);
        if (c && allEqual(c, unit)) return same(o, o.operands[other]);
      }
      return undefined;
    }
    case Op.Select: {
      const p = cst(0);
      if (!p) return undefined;
      if (allEqual(p, 1)) return same(o, o.operands[1]);
      if (allEqual(p, 0)) return same(o, o.operands[2]);
      return undefined;
    }
    case Op.Reduce:
      return unitReduce(o, ctx);
    default:
      return undefined;
  }
}

/**
 * The results of a reduce over dimensions holding one element, as elementwise ops inserted before
 * it: the body's ops at the result shape, its accumulator arguments bound to the broadcast inits
 * and its element arguments to the reshaped inputs. Undefined when the reduction is over more
 * elements (or none: then the result is the init) or the body holds more than elementwise ops and
 * constants.
 * https://openxla.org/stablehlo/spec#reduce
 */
function unitReduce(o: Operation<Op.Reduce>, ctx: RewriteContext): Value[] | undefined {
  const n = o.results.length;
  const inShape = o.operands[0].type.shape;
  if (numElements(o.attrs.dims.map((d) => inShape[d])) !== 1) return undefined;
  const body = o.regions[0].block;
  const ops = body.ops.slice(0, -1) as AnyOperation[];
  if (!ops.every((x) => Elementwise.has(x.op) || x.op === Op.Constant)) return undefined;
  // A value captured from outside the body is not an element of the reduction: leave it be
  // (checked before anything is inserted, so a refusal changes nothing).
  const local = new Set<Value>([...body.args, ...ops.flatMap((x) => x.results)]);
  if (!body.ops.every((x) => x.operands.every((v) => local.has(v)))) return undefined;
  const shape = o.results[0].type.shape;
  const emit = <K extends Op>(op: K, operands: Value[], dtype: DType, attrs: Operation<K>['attrs']): Value => {
    const r: Value = { type: { dtype, shape } };
    const x: Operation<K> = { op, operands, results: [r], attrs, regions: [] };
    if (o.loc) x.loc = o.loc;
    ctx.insert(x);
    return r;
  };
  const env = new Map<Value, Value>();
  for (let i = 0; i < n; i++) {
    const [x, init] = [o.operands[i], o.operands[n + i]];
    env.set(body.args[i], emit(Op.BroadcastInDim, [init], init.type.dtype, { dims: [] }));
    env.set(body.args[n + i], emit(Op.Reshape, [x], x.type.dtype, {}));
  }
  for (const x of ops) {
    const r = x.results[0];
    if (x.op === Op.Constant) {
      const c: Value = { type: r.type };
      const op: Operation<Op.Constant> = { op: Op.Constant, operands: [], results: [c], attrs: x.attrs, regions: [] };
      ctx.insert(op);
      env.set(r, emit(Op.BroadcastInDim, [c], r.type.dtype, { dims: [] }));
      continue;
    }
    env.set(r, emit(x.op, x.operands.map((v) => env.get(v)!), r.type.dtype, x.attrs));
  }
  return body.ops[body.ops.length - 1].operands.map((v) => env.get(v)!);
}
