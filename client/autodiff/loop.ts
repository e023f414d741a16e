/**
 * @file Reverse mode through a counted `stablehlo.while` (what `lax.scan` and `lax.foriLoop` with
 * JS-number bounds lower to) without unrolling it: JAX's scan transpose, at the IR level.
 *
 * 1. The primal loop is extended to also store each iteration's input carry in a stack of shape
 *    `[N, ...carry]` (the residuals). A carry the body only writes rows into
 *    (`dynamic_update_slice` of itself, as scan's `ys` buffers are) is not stacked: its VJP needs
 *    no values, only its cotangent, so the quadratic `[N, N, ...]` stack of `ys` is never built;
 *    nor is a carry the body passes through unchanged (JAX carries `xs` that way).
 * 2. A backward loop walks t = N-1 down to 0: it reads carry t from the stacks, replays the body on
 *    it, and runs the body's reverse sweep (client/autodiff/vjp.ts, passed in as `emitVjp`) seeded
 *    with the carry's cotangent; the new carry cotangent is what flows to the body's inputs, and
 *    the cotangents of the values the body reads from outside (weights) are summed in the loop.
 *
 * The graph holds the body twice (the primal loop and the backward loop's replay) whatever the
 * trip count. The backward loop recomputes each iteration's forward ops from its stacked carry
 * (JAX saves every residual instead); short loops are still unrolled (client/autodiff/unroll.ts).
 */
import { isFloat } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { Block, Func, Operation, Region, TensorType, Value } from '../../ir/types.js';
import { cloneOp } from '../../compiler/passes/rewrite.js';
import type { GraphBuilder } from '../builder.js';
import { capturedValues, type RegionVjpContext } from './control.js';
import { Emitter } from './emit.js';
import { staticTripCount } from './unroll.js';

type Ct = Value | undefined;

/** Every op defined in `ops` and their regions, by result. */
function definitions(ops: readonly Operation[], into = new Map<Value, Operation>()): Map<Value, Operation> {
  for (const o of ops) {
    for (const r of o.results) into.set(r, o);
    for (const reg of o.regions) definitions(reg.block.ops, into);
  }
  return into;
}

/** The loop's trip count, when it has the counted shape and its bounds are constants of `b`'s block. */
export function tripCountIn(b: GraphBuilder, o: Operation<Op.While>): number | undefined {
  return staticTripCount(o, definitions(o.regions.flatMap((r) => r.block.ops), definitions(b.ops)));
}

/** Whether the body only writes rows into carry `k`: its one use is operand 0 of the update it returns at `k`. */
function writeOnly(body: Block, k: number, cond: Block): boolean {
  const arg = body.args[k];
  const ret = body.ops[body.ops.length - 1];
  const uses: Operation[] = [];
  const scan = (b: Block): void => {
    for (const o of b.ops) {
      if (o.operands.includes(arg)) uses.push(o);
      for (const r of o.regions) scan(r.block);
    }
  };
  scan(body);
  const condUses = cond.ops.some((o) => o.operands.includes(cond.args[k]) || o.regions.length > 0);
  if (condUses || uses.length !== 1) return false;
  const u = uses[0];
  return u.op === Op.DynamicUpdateSlice && u.operands[0] === arg && !u.operands.slice(1).includes(arg) && ret.operands[k] === u.results[0];
}

/** The body as a function of its carries and of the outer values `extra` it reads. */
function bodyFunc(body: Region, extra: readonly Value[]): Func {
  const ops = body.block.ops;
  const ret = ops[ops.length - 1];
  const fret: Operation = { op: Op.FuncReturn, operands: ret.operands, results: [], attrs: {}, regions: [], loc: ret.loc };
  const args = [...body.block.args, ...extra];
  return { name: 'body', visibility: 'private', args, resultTypes: ret.operands.map((v) => v.type), body: { args: body.block.args, ops: [...ops.slice(0, -1), fret] } };
}

/** Copies a block's ops (not its terminator) into `b` with its arguments bound to `args`; returns what it yields. */
function inline(b: GraphBuilder, block: Block, args: readonly Value[]): Value[] {
  const map = new Map<Value, Value>();
  block.args.forEach((a, i) => map.set(a, args[i]));
  const ops = block.ops;
  for (let i = 0; i < ops.length - 1; i++) b.ops.push(cloneOp(ops[i], map));
  return ops[ops.length - 1].operands.map((v) => map.get(v) ?? v);
}

const i32 = (e: Emitter, v: number) => e.scalar('i32', v);
const zerosAt = (e: Emitter, rank: number) => Array.from({ length: rank }, () => i32(e, 0));

/** Row `t` of a stack, without the leading axis. */
function row(e: Emitter, stack: Value, t: Value, type: TensorType): Value {
  const rest = type.shape;
  const s = e.b.emit1(Op.DynamicSlice, [stack, t, ...zerosAt(e, rest.length)], { sliceSizes: [1, ...rest] });
  return e.reshape(s, rest);
}

/**
 * Makes the primal loop `o` (already replayed into `e`'s block, its results in use) also store
 * its input carries `stacked` at every iteration: the op is extended in place with a counter and
 * one stack per carry as extra carries (its original results stay the same values), and the stack
 * results are returned. The new operands are constants, placed before the loop.
 */
function stackInPlace(e: Emitter, o: Operation<Op.While>, stacked: readonly number[], stackTypes: readonly TensorType[]): Value[] {
  const [cond, body] = o.regions;
  const n = o.operands.length;
  const pos = e.b.ops.indexOf(o as Operation);
  if (pos < 0) throw new Error('internal: the loop being differentiated is not in the block its VJP is emitted into');
  const from = e.b.ops.length;
  const extraInit = [i32(e, 0), ...stackTypes.map((t) => e.zeros(t))];
  e.b.ops.splice(pos, 0, ...e.b.ops.splice(from));
  const types = [...o.operands.map((v) => v.type), { dtype: 'i32', shape: [] } as TensorType, ...stackTypes];
  const newCond = e.b.region(types, (rb, args) => inline(rb, cond.block, args.slice(0, n)));
  const newBody = e.b.region(types, (rb, args) => {
    const re = new Emitter(rb);
    const [cs, t, stacks] = [args.slice(0, n), args[n], args.slice(n + 1)];
    const next = inline(rb, body.block, cs);
    const written = stacked.map((k, j) => {
      const r = re.reshape(cs[k], [1, ...cs[k].type.shape]);
      return rb.emit1(Op.DynamicUpdateSlice, [stacks[j], r, t, ...zerosAt(re, cs[k].type.shape.length)], {});
    });
    return [...next, re.add(t, i32(re, 1)), ...written];
  });
  const extra = types.slice(n).map((type) => ({ type }));
  o.operands.push(...extraInit);
  o.results.push(...extra);
  o.regions = [newCond, newBody];
  return extra.slice(1);
}

/**
 * The VJP of a while loop with `trips` iterations whose results have cotangents `cts`: returns
 * the cotangents of its operands (the initial carry) and adds those of the outer values its
 * regions read through `ctx.accumulate`.
 */
export function countedLoopVjp(ctx: RegionVjpContext & { needs: readonly boolean[] }, o: Operation<Op.While>, cts: readonly Ct[], trips: number): Ct[] {
  const { e } = ctx;
  const [cond, body] = o.regions;
  const carries = [...o.operands];
  const outer = capturedValues(o.regions).filter((v) => ctx.active(v) && isFloat(v.type.dtype));
  const floats = carries.map((v, k) => k).filter((k) => isFloat(carries[k].type.dtype));
  if (trips === 0) return carries.map((_, k) => cts[k]);
  const n = carries.length;

  // 1. The primal loop also stacks each iteration's carry. A carry the body returns unchanged
  // (JAX's lowering carries `xs` and constants that way) is its initial value at every iteration.
  const ret = body.block.ops[body.block.ops.length - 1];
  const invariant = (k: number) => ret.operands[k] === body.block.args[k];
  const stacked = carries.map((_, k) => k).filter((k) => !invariant(k) && !writeOnly(body.block, k, cond.block));
  const stackTypes = stacked.map((k) => ({ dtype: carries[k].type.dtype, shape: [trips, ...carries[k].type.shape] }));
  const stacks = stackInPlace(e, o, stacked, stackTypes);

  // 2. The backward loop: [j, carry cotangents (float carries)..., outer cotangents...].
  const ctInit = floats.map((k) => cts[k] ?? e.zeros(carries[k].type));
  const outerInit = outer.map((v) => e.zeros(v.type));
  const bwdTypes = [{ dtype: 'i32', shape: [] } as TensorType, ...ctInit.map((v) => v.type), ...outerInit.map((v) => v.type)];
  const nf = floats.length;
  const bwdCond = e.b.region(bwdTypes, (rb, [j]) => [new Emitter(rb).compare('LT', j, i32(new Emitter(rb), trips))]);
  const bwdBody = e.b.region(bwdTypes, (rb, args) => {
    const re = new Emitter(rb);
    const [j, ctC, ctZ] = [args[0], args.slice(1, 1 + nf), args.slice(1 + nf)];
    const t = re.sub(i32(re, trips - 1), j);
    const carryAt = carries.map((v, k) => {
      const s = stacked.indexOf(k);
      if (s >= 0) return row(re, stacks[s], t, v.type);
      return invariant(k) ? v : re.zeros(v.type); // zeros: a write-only carry's value is never read
    });
    const wrt = [...floats, ...outer.map((_, i) => n + i)];
    const seed = (_e: Emitter, outs: readonly Value[]): Ct[] => outs.map((_, k) => {
      const f = floats.indexOf(k);
      return f < 0 ? undefined : ctC[f];
    });
    const { grads } = ctx.emitVjp(rb, bodyFunc(body, outer), [...carryAt, ...outer], wrt, seed);
    const summed = ctZ.map((z, i) => re.add(z, grads[nf + i]));
    return [re.add(j, i32(re, 1)), ...grads.slice(0, nf), ...summed];
  });
  const res = e.b.emit(Op.While, [i32(e, 0), ...ctInit, ...outerInit], {}, { regions: [bwdCond, bwdBody] });
  outer.forEach((v, i) => ctx.accumulate(v, res[1 + nf + i]));
  return carries.map((_, k) => {
    const f = floats.indexOf(k);
    return f >= 0 && ctx.needs[k] ? res[1 + f] : undefined;
  });
}
