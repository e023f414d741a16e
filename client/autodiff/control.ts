/**
 * @file Reverse mode through `stablehlo.case` and `stablehlo.if` (what `lax.cond` and `lax.switch`
 * lower to). A branch has no arguments: it reads values from outside (the operands of the JAX
 * call, closed-over weights), so its cotangents belong to those captured values, not to the op's
 * operands. The transpose is a second `case` on the same index whose branch `k` replays branch
 * `k` and runs its reverse sweep, returning the cotangent of every active captured value (zeros
 * for values that branch does not read); the driver then adds them to the captured values.
 * This is JAX's `_cond_transpose` with the residuals recomputed inside each branch.
 */
import { Op } from '../../ir/ops.js';
import type { Block, Func, Operation, Region, Value } from '../../ir/types.js';
import type { GraphBuilder } from '../builder.js';
import { isDifferentiable, type Emitter } from './emit.js';

/** The reverse sweep of a function, as client/autodiff/vjp.ts's `emitVjp` (passed in, to keep imports one-way). */
export type EmitVjp = (
  b: GraphBuilder, f: Func, args: readonly Value[], wrt: readonly number[],
  seed: (e: Emitter, outputs: readonly Value[]) => (Value | undefined)[],
) => { outputs: Value[]; grads: Value[] };

/** What the control-flow rules need from the driver besides the emitter. */
export interface RegionVjpContext {
  e: Emitter;
  /** Whether `v` depends on the differentiated inputs (and so may receive a cotangent). */
  active(v: Value): boolean;
  /** Adds a cotangent to a value the op reads from inside its regions. */
  accumulate(v: Value, g: Value): void;
  emitVjp: EmitVjp;
}

/** The values the regions read that are defined outside them, in first-use order. */
export function capturedValues(regions: readonly Region[]): Value[] {
  const out: Value[] = [];
  const seen = new Set<Value>();
  const walk = (b: Block, outer: ReadonlySet<Value>): void => {
    const local = new Set(outer);
    for (const a of b.args) local.add(a);
    for (const o of b.ops) {
      for (const v of o.operands) {
        if (!local.has(v) && !seen.has(v)) {
          seen.add(v);
          out.push(v);
        }
      }
      for (const r of o.regions) walk(r.block, local);
      for (const r of o.results) local.add(r);
    }
  };
  for (const r of regions) walk(r.block, new Set());
  return out;
}

/** A region's block as a function of `args` (values it captures; its own block takes none). */
function regionAsFunc(r: Region, args: Value[]): Func {
  const ops = r.block.ops;
  const ret = ops[ops.length - 1];
  const fret: Operation = { op: Op.FuncReturn, operands: ret.operands, results: [], attrs: {}, regions: [], loc: ret.loc };
  return { name: 'branch', visibility: 'private', args, resultTypes: ret.operands.map((v) => v.type), body: { args, ops: [...ops.slice(0, -1), fret] } };
}

/** The VJP of `case`/`if`: cotangents for the captured values; the index or predicate gets none. */
export function branchVjp(ctx: RegionVjpContext, o: Operation<Op.Case> | Operation<Op.If>, cts: readonly (Value | undefined)[]): undefined[] {
  if (cts.every((c) => !c)) return [];
  const wrt = capturedValues(o.regions).filter((v) => ctx.active(v) && isDifferentiable(v.type.dtype));
  if (!wrt.length) return [];
  const idx = wrt.map((_, i) => i);
  const regions = o.regions.map((r) => ctx.e.b.region([], (rb) => ctx.emitVjp(rb, regionAsFunc(r, wrt), wrt, idx, () => [...cts]).grads));
  const grads = ctx.e.b.emit(o.op, [o.operands[0]], {}, { regions });
  wrt.forEach((v, i) => ctx.accumulate(v, grads[i]));
  return [];
}
