/**
 * @file vmap over a whole function: the batched arguments get their batch axis moved to the
 * front, each op is re-emitted through its batching rule ({@link batchRules}) when an operand is
 * batched (and copied unchanged when none is), and each output has its batch axis moved to where
 * the caller asked (outputs that do not depend on a batched input are broadcast, as JAX does).
 */
import { InputError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { mainFunc, type Block, type Module, type Operation, type Region, type Value } from '../../ir/types.js';
import { cloneOp } from '../../compiler/passes/rewrite.js';
import { GraphBuilder } from '../builder.js';
import { Emitter, range } from '../autodiff/emit.js';
import { customRuleOf, emitCustomCall, inlineExceptCustom, type CustomRule } from '../autodiff/custom-rules.js';
import { batchRules, batchedType, toBatched, type BatchContext, type BatchRule, type BVal } from './rules.js';

/** Scoped lookup of batched values: a region sees its own values, then its enclosing scope's. */
class Scope {
  private readonly vals = new Map<Value, BVal>();
  constructor(private readonly parent?: Scope) {}
  get(v: Value): BVal | undefined {
    return this.vals.get(v) ?? this.parent?.get(v);
  }
  set(v: Value, b: BVal): void {
    this.vals.set(v, b);
  }
}

/** Whether `o` or anything in its regions reads a batched value of `scope`. */
function readsBatched(o: Operation, scope: Scope, local = new Set<Value>()): boolean {
  if (o.operands.some((v) => !local.has(v) && scope.get(v)?.batched)) return true;
  return o.regions.some((r) => {
    const inner = new Set(local);
    for (const a of r.block.args) inner.add(a);
    return r.block.ops.some((x) => {
      const hit = readsBatched(x, scope, inner);
      for (const res of x.results) inner.add(res);
      return hit;
    });
  });
}

/**
 * Emits the ops of `block` (bound to `args`) into `b`, batched, and returns the terminator's
 * operands. Unbatched ops are copied with their operands remapped.
 */
function batchBlock(b: GraphBuilder, block: Block, args: readonly BVal[], parent: Scope | undefined, size: number): BVal[] {
  const scope = new Scope(parent);
  block.args.forEach((a, i) => scope.set(a, args[i]));
  const e = new Emitter(b);
  const ctx: BatchContext = {
    e,
    size,
    region: (r: Region, argBatched, forceOut) => {
      let outBatched: boolean[] = [];
      const types = r.block.args.map((a, i) => (argBatched[i] ? batchedType(a.type, size) : a.type));
      const region = b.region(types, (rb, rargs) => {
        const outs = batchBlock(rb, r.block, rargs.map((v, i) => ({ v, batched: argBatched[i] })), scope, size);
        outBatched = outs.map((x) => x.batched);
        return outs.map((x, i) => (forceOut?.[i] ? toBatched({ ...ctx, e: new Emitter(rb) }, x) : x.v));
      });
      return { region, outBatched };
    },
    inline: (r, rargs, into) => batchBlock(into, r.block, rargs, scope, size),
  };
  for (const o of block.ops) {
    if (o.op === Op.Return || o.op === Op.FuncReturn) return o.operands.map((v) => lookup(scope, v));
    if (!readsBatched(o, scope)) {
      const map = new Map<Value, Value>();
      for (const v of o.operands) map.set(v, lookup(scope, v).v);
      const c = cloneOp(o, map);
      b.ops.push(c);
      o.results.forEach((r, i) => scope.set(r, { v: c.results[i], batched: false }));
      continue;
    }
    const saved = b.currentLoc;
    b.currentLoc = o.loc ?? saved;
    const custom = customRuleOf(o);
    const outs = custom
      ? batchCustomCall(ctx, custom, o.operands.map((v) => lookup(scope, v)))
      : (batchRules[o.op] as BatchRule<Op>)(ctx, o, o.operands.map((v) => lookup(scope, v)));
    b.currentLoc = saved;
    o.results.forEach((r, i) => scope.set(r, outs[i]));
  }
  throw new VerifyError('vmap: a block ends without a terminator');
}

/**
 * A call applying a user's differentiation rule, batched: every module of the rule is batched
 * (all operands mapped at axis 0, unbatched ones broadcast), and the batched rule is called, so a
 * transform applied after vmap still finds the user's rule.
 */
function batchCustomCall(ctx: BatchContext, rule: CustomRule, args: readonly BVal[]): BVal[] {
  const all = (m: Module) => {
    const f = mainFunc(m);
    return vmapModule(m, f.args.map(() => 0), f.resultTypes.map(() => 0), ctx.size);
  };
  let batched: CustomRule;
  switch (rule.kind) {
    case 'customVjp': batched = { ...rule, primal: all(rule.primal), fwd: all(rule.fwd), bwd: all(rule.bwd) }; break;
    case 'customJvp': batched = { ...rule, primal: all(rule.primal), jvp: all(rule.jvp) }; break;
    case 'checkpoint': batched = { ...rule, primal: all(rule.primal) }; break;
    default: return rule satisfies never;
  }
  return emitCustomCall(ctx.e.b, batched, args.map((a) => toBatched(ctx, a))).map((v) => ({ v, batched: true }));
}

/** Values captured from an enclosing scope that is not being batched map to themselves. */
function lookup(scope: Scope, v: Value): BVal {
  return scope.get(v) ?? { v, batched: false };
}

/**
 * The batched version of `m`'s entry function, whose arguments and results are per example.
 * `inAxes[i]` is where argument `i` of the new module has its batch axis of length `size`
 * (`null`: not batched, shared by every example); `outAxes[i]` is where output `i` gets its batch
 * axis, or is `null` for an output that must not depend on a batched argument (returned as it
 * is). Other outputs that do not depend on a batched argument are broadcast along the axis.
 */
export function vmapModule(m: Module, inAxes: readonly (number | null)[], outAxes: readonly (number | null)[], size: number): Module {
  const f = mainFunc(inlineExceptCustom(m));
  if (inAxes.length !== f.args.length) throw new InputError(`vmap: in_axes has ${inAxes.length} entries for ${f.args.length} arguments`);
  if (outAxes.length !== f.resultTypes.length) throw new InputError(`vmap: out_axes has ${outAxes.length} entries for ${f.resultTypes.length} outputs`);
  const b = new GraphBuilder();
  const e = new Emitter(b);
  const args: Value[] = f.args.map((a, i) => {
    const ax = inAxes[i];
    if (ax === null) return { type: a.type };
    const rank = a.type.shape.length;
    if (!Number.isInteger(ax) || ax < 0 || ax > rank) throw new InputError(`vmap: in_axes[${i}] = ${ax} is out of range for an argument of rank ${rank} (per example)`);
    return { type: { dtype: a.type.dtype, shape: [...a.type.shape.slice(0, ax), size, ...a.type.shape.slice(ax)] } };
  });
  // Batch axis to the front.
  const inner: BVal[] = args.map((v, i) => {
    const ax = inAxes[i];
    if (ax === null) return { v, batched: false };
    const rank = v.type.shape.length;
    return { v: e.transpose(v, [ax, ...range(rank).filter((d) => d !== ax)]), batched: true };
  });
  const ctxForOut: BatchContext = { e, size, region: () => { throw new Error('internal'); }, inline: () => { throw new Error('internal'); } };
  const outs = batchBlock(b, f.body, inner, undefined, size).map((x, i) => {
    const ax = outAxes[i];
    if (ax === null) {
      if (x.batched) throw new InputError(`vmap has mapped output but out_axes is None: output ${i} depends on a mapped argument, and outAxes gives it no axis`);
      return x.v;
    }
    const v = toBatched(ctxForOut, x);
    const rank = v.type.shape.length;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new InputError(`vmap: out_axes[${i}] = ${ax} is out of range for an output of rank ${rank - 1} (per example)`);
    // Dimension 0 goes to position `ax`.
    const perm = range(rank).filter((d) => d !== 0);
    perm.splice(ax, 0, 0);
    return e.transpose(v, perm);
  });
  return b.finish(args, outs);
}
