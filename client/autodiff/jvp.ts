/**
 * @file Forward mode over a whole function: re-emit each primal op and, where an operand carries a
 * tangent, emit the tangents of its results by the op's JVP rule ({@link jvpRules}). Only float
 * values that depend on the differentiated arguments carry tangents (`undefined` is a symbolic
 * zero), so what does not depend on them costs nothing. Control flow is transformed in place
 * (a `while` carries its tangents, `if`/`case` branches return theirs), so unlike reverse mode no
 * loop has to be unrolled.
 */
import { InputError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { mainFunc, sameType, type Block, type Func, type Module, type Operation, type Value } from '../../ir/types.js';
import { eliminateDeadCode } from '../../compiler/passes/dce.js';
import { cloneOp } from '../../compiler/passes/rewrite.js';
import { GraphBuilder } from '../builder.js';
import { customJvp, customRuleOf, inlineExceptCustom, type CustomRule } from './custom-rules.js';
import { Emitter, isDifferentiable } from './emit.js';
import { jvpRules, type JvpContext, type JvpRule, type Tan } from './jvp-rules.js';

export type { Tan } from './jvp-rules.js';

/** What {@link emitJvp} leaves in the builder. */
export interface JvpResult {
  /** The primal outputs, in the function's result order. */
  outputs: Value[];
  /** The tangent of each output; `undefined` where it is zero (nothing flows, or not a float). */
  tangents: Tan[];
}

/** Whether `o` reads a value of `set`, directly or from inside its regions. */
function readsAny(o: Operation, set: Map<Value, Value>): boolean {
  if (o.operands.some((v) => set.has(v))) return true;
  const inBlock = (blk: Block): boolean => blk.ops.some((x) => readsAny(x, set));
  return o.regions.some((r) => inBlock(r.block));
}

/**
 * Emits into `b` the primal computation of `f` on `args` together with its tangents, given the
 * tangents `tans` of the arguments (`undefined`: zero). `f` must be call-free; it is not modified.
 */
export function emitJvp(b: GraphBuilder, f: Func, args: readonly Value[], tans: readonly Tan[]): JvpResult {
  if (args.length !== f.args.length || tans.length !== f.args.length) {
    throw new InputError(`jvp: @${f.name} takes ${f.args.length} arguments, got ${args.length} primals and ${tans.length} tangents`);
  }
  // Tangents by primal value of the new graph: values are unique objects, so one map serves every
  // nested region, and a region finds the tangents of the outer values it captures here.
  const tan = new Map<Value, Value>();
  const jvpBlock: JvpContext['jvpBlock'] = (bb, block, bargs, btans) => {
    const map = new Map<Value, Value>();
    block.args.forEach((a, i) => {
      map.set(a, bargs[i]);
      const t = btans[i];
      if (t && isDifferentiable(bargs[i].type.dtype)) tan.set(bargs[i], t);
    });
    const ctx: JvpContext = { e: new Emitter(bb), jvpBlock };
    for (const o of block.ops) {
      if (o.op === Op.Return || o.op === Op.FuncReturn) {
        const outs = o.operands.map((v) => map.get(v) ?? v);
        return { outs, tans: outs.map((v) => tan.get(v)) };
      }
      const c = cloneOp(o, map);
      const at = bb.ops.length;
      bb.ops.push(c);
      if (!readsAny(c, tan)) continue;
      const saved = bb.currentLoc;
      bb.currentLoc = o.loc ?? saved;
      const custom = customRuleOf(c);
      const r = custom
        ? customTangents(bb, c, custom, c.operands.map((v) => tan.get(v)))
        : (jvpRules[o.op] as JvpRule<Op>)(ctx, c, c.operands.map((v) => tan.get(v)));
      bb.currentLoc = saved;
      let primals = c.results;
      let ts: Tan[];
      if (Array.isArray(r)) {
        ts = r;
      } else {
        // The rule re-emitted the op with its tangents: the plain copy goes.
        bb.ops.splice(at, 1);
        primals = r.primals;
        ts = r.tangents;
        o.results.forEach((res, i) => map.set(res, primals[i]));
      }
      primals.forEach((p, i) => {
        const t = ts[i];
        if (!t || !isDifferentiable(p.type.dtype)) return;
        if (!sameType(t.type, p.type)) {
          throw new Error(`kiln internal: ${o.op}: tangent type ${JSON.stringify(t.type)} differs from ${JSON.stringify(p.type)}`);
        }
        tan.set(p, t);
      });
    }
    throw new VerifyError(`@${f.name}: a block ends without a terminator`, f.loc);
  };
  const { outs, tans: outTans } = jvpBlock(b, f.body, args, tans);
  return { outputs: outs, tangents: outTans };
}

/** Inlines calls (except those applying a custom rule): the form forward mode walks. */
export function prepareForJvp(m: Module): Func {
  return mainFunc(inlineExceptCustom(m));
}

/** A custom-rule call's primal results and tangents, by its rule. */
function customTangents(b: GraphBuilder, o: Operation, rule: CustomRule, tans: Tan[]): { primals: Value[]; tangents: Tan[] } {
  const r = customJvp(b, o, rule, tans, (m, args, ts) => {
    const j = emitJvp(b, prepareForJvp(m), args, ts);
    return { outs: j.outputs, tans: j.tangents };
  });
  return { primals: r.outs, tangents: r.tans };
}

/**
 * The JVP of `m`'s entry function: a module taking (primal arguments..., one tangent per argument
 * listed in `wrt`, of that argument's type) and returning (primal outputs..., one tangent per
 * output, zeros where none flows). With `outputs: false` only the tangents are returned, and only
 * the primal work they need survives dead-code elimination (what `linearize` calls).
 */
export function jvpModule(m: Module, wrt: readonly number[], opts: { outputs?: boolean } = {}): Module {
  const f = prepareForJvp(m);
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= f.args.length) throw new InputError(`jvp: argument index ${i} is out of range for @${f.name} with ${f.args.length} arguments`);
  }
  const b = new GraphBuilder();
  const args: Value[] = f.args.map((a) => ({ type: a.type }));
  const tanArgs: Value[] = wrt.map((i) => ({ type: args[i].type }));
  const tans: Tan[] = args.map((_, i) => (wrt.includes(i) ? tanArgs[wrt.indexOf(i)] : undefined));
  const { outputs, tangents } = emitJvp(b, f, args, tans);
  const e = new Emitter(b);
  const outTans = outputs.map((v, i) => tangents[i] ?? e.zeros(v.type));
  const results = opts.outputs === false ? outTans : [...outputs, ...outTans];
  return eliminateDeadCode(b.finish([...args, ...tanArgs], results));
}
