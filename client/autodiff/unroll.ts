/**
 * @file Unrolls `stablehlo.while` loops whose trip count is known at compile time, so that reverse
 * mode can differentiate them as straight-line code. A loop qualifies when its condition compares
 * one carried counter with a constant, the counter starts from a constant, and the body steps it
 * by a constant: the shape `jax.lax.fori_loop` with static bounds (and `scan`) lowers to.
 * Only loops of at most {@link MAX_UNROLLED_ITERATIONS} trips are unrolled; longer counted loops
 * are transposed as loops by the while VJP rule, and loops with a run-time trip count are refused.
 */
import { Op, type ComparisonDirection } from '../../ir/ops.js';
import type { Block, Module, Operation, Value } from '../../ir/types.js';
import { cloneModule, cloneOp, rewriteModule } from '../../compiler/passes/rewrite.js';

/**
 * Loops longer than this are not unrolled: reverse mode transposes them as loops
 * (client/autodiff/loop.ts), so the graph does not grow with the trip count. Short loops unroll
 * into straight-line code that fuses better than a stacked loop.
 */
export const MAX_UNROLLED_ITERATIONS = 8;

/** The longest trip count {@link staticTripCount} counts to (a loop past it is not "counted"). */
export const MAX_COUNTED_ITERATIONS = 2 ** 24;

/** A copy of `m` with every static-trip-count while loop unrolled, or `m` itself if there is none. */
export function unrollStaticWhiles(m: Module): Module {
  if (!m.funcs.some((f) => hasWhile(f.body))) return m;
  const copy = cloneModule(m);
  const defs = new Map<Value, Operation>();
  const index = (b: Block): void => {
    for (const o of b.ops) {
      for (const r of o.results) defs.set(r, o);
      for (const reg of o.regions) index(reg.block);
    }
  };
  for (const f of copy.funcs) index(f.body);
  const changed = rewriteModule(copy, (o, ctx) => {
    if (o.op !== Op.While) return undefined;
    const trips = staticTripCount(o, defs, MAX_UNROLLED_ITERATIONS);
    if (trips === undefined) return undefined;
    const [, body] = o.regions;
    let carried = [...o.operands];
    for (let t = 0; t < trips; t++) {
      const map = new Map<Value, Value>();
      body.block.args.forEach((a, i) => map.set(a, carried[i]));
      const ops = body.block.ops;
      for (let i = 0; i < ops.length - 1; i++) ctx.insert(cloneOp(ops[i], map));
      carried = ops[ops.length - 1].operands.map((v) => map.get(v) ?? v);
    }
    return carried;
  });
  return changed ? copy : m;
}

function hasWhile(b: Block): boolean {
  return b.ops.some((o) => o.op === Op.While || o.regions.some((r) => hasWhile(r.block)));
}

/** The scalar value of a constant (through broadcasts of one), if `v` is one. */
function constantValue(v: Value, defs: Map<Value, Operation>): number | undefined {
  const o = defs.get(v);
  if (!o) return undefined;
  if (o.op === Op.Constant) {
    const { value } = (o as Operation<Op.Constant>).attrs;
    return value.splat || value.data.length === 1 ? Number(value.data[0]) : undefined;
  }
  if (o.op === Op.BroadcastInDim || o.op === Op.Reshape || o.op === Op.Convert) return constantValue(o.operands[0], defs);
  return undefined;
}

const holds: Record<ComparisonDirection, (a: number, b: number) => boolean> = {
  EQ: (a, b) => a === b, NE: (a, b) => a !== b, LT: (a, b) => a < b,
  LE: (a, b) => a <= b, GT: (a, b) => a > b, GE: (a, b) => a >= b,
};

/**
 * How many times the loop body runs, when the loop has the counted shape described above and runs
 * at most `max` times.
 */
export function staticTripCount(o: Operation<Op.While>, defs: Map<Value, Operation>, max = MAX_COUNTED_ITERATIONS): number | undefined {
  const [cond, body] = o.regions;
  const condRet = cond.block.ops[cond.block.ops.length - 1];
  const cmp = condRet && defs.get(condRet.operands[0]);
  if (!cmp || cmp.op !== Op.Compare) return undefined;
  let { direction } = (cmp as Operation<Op.Compare>).attrs;
  let [lhs, rhs] = cmp.operands;
  let k = cond.block.args.indexOf(lhs);
  if (k < 0) {
    // `limit > i` reads as `i < limit`.
    k = cond.block.args.indexOf(rhs);
    if (k < 0) return undefined;
    [lhs, rhs] = [rhs, lhs];
    direction = ({ EQ: 'EQ', NE: 'NE', LT: 'GT', LE: 'GE', GT: 'LT', GE: 'LE' } as const)[direction];
  }
  const limit = constantValue(rhs, defs);
  const start = constantValue(o.operands[k], defs);
  if (limit === undefined || start === undefined) return undefined;
  const bodyRet = body.block.ops[body.block.ops.length - 1];
  const next = defs.get(bodyRet.operands[k]);
  if (!next || (next.op !== Op.Add && next.op !== Op.Subtract)) return undefined;
  const counter = body.block.args[k];
  const other = next.operands[0] === counter ? next.operands[1] : next.op === Op.Add && next.operands[1] === counter ? next.operands[0] : undefined;
  const stepValue = other && constantValue(other, defs);
  if (stepValue === undefined || stepValue === 0) return undefined;
  const step = next.op === Op.Add ? stepValue : -stepValue;
  let trips = 0;
  for (let i = start; holds[direction](i, limit); i += step) {
    if (++trips > max) return undefined;
  }
  return trips;
}
