/**
 * @file Reverse mode over a whole function: replay the primal ops, then walk them backwards
 * applying each op's VJP rule ({@link vjpRules}) and summing cotangents where a value has several
 * uses. Only values that depend on the differentiated arguments (and are floats) carry cotangents,
 * and dead code is dropped at the end, so what is not needed is never computed.
 *
 * {@link emitVjp} works on any {@link GraphBuilder}: the module-level transforms below use a fresh
 * one, and `grad` inside a trace splices the same ops into the tracer's graph.
 */
import { isFloat } from '../../ir/dtype.js';
import { InputError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { mainFunc, sameType, type Block, type Func, type Module, type Operation, type Value } from '../../ir/types.js';
import { eliminateDeadCode } from '../../compiler/passes/dce.js';
import { cloneOp } from '../../compiler/passes/rewrite.js';
import { GraphBuilder } from '../builder.js';
import { inlineModule } from '../trace.js';
import { customRuleOf, inlineExceptCustom, type CustomRule } from './custom-rules.js';
import { Emitter, isDifferentiable } from './emit.js';
import { vjpRules, type VjpRule } from './rules.js';
import { unrollStaticWhiles } from './unroll.js';

/** What {@link emitVjp} leaves in the builder. */
export interface VjpResult {
  /** The primal outputs, in the function's result order. */
  outputs: Value[];
  /** One cotangent per entry of `wrt`, of that argument's type (zeros where nothing flows). */
  grads: Value[];
}

/** Output cotangents from the primal outputs; `undefined` entries are zero. */
export type Seeder = (e: Emitter, outputs: readonly Value[]) => (Value | undefined)[];

/** Inlines calls (except those applying a custom rule) and unrolls counted loops: the form reverse mode walks. */
export function prepareForVjp(m: Module): Func {
  return mainFunc(unrollStaticWhiles(inlineExceptCustom(m)));
}

/**
 * Emits into `b` the primal computation of `f` applied to `args` followed by its reverse sweep,
 * seeded by `seed`, and returns the primal outputs and the cotangents of `args[i]` for `i` in `wrt`.
 * `f` must be call-free (see {@link prepareForVjp}); it is not modified.
 */
export function emitVjp(b: GraphBuilder, f: Func, args: readonly Value[], wrt: readonly number[], seed: Seeder): VjpResult {
  if (args.length !== f.args.length) throw new InputError(`vjp: @${f.name} takes ${f.args.length} arguments, got ${args.length}`);
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= args.length) throw new InputError(`vjp: argument index ${i} is out of range for @${f.name} with ${args.length} arguments`);
  }
  const e = new Emitter(b);

  // Forward: replay the primal ops on the given arguments, noting which values depend on `wrt`.
  const map = new Map<Value, Value>();
  f.args.forEach((a, i) => map.set(a, args[i]));
  const active = new Set<Value>(wrt.map((i) => args[i]).filter((v) => isDifferentiable(v.type.dtype)));
  const replayed: (Operation | CustomStep)[] = [];
  const body = f.body.ops;
  const ret = body[body.length - 1];
  if (!ret || ret.op !== Op.FuncReturn) throw new VerifyError(`@${f.name}: function body does not end in func.return`, f.loc);
  for (let i = 0; i < body.length - 1; i++) {
    const o = body[i];
    const rule = customRuleOf(o);
    const operands = o.operands.map((v) => map.get(v) ?? v);
    if (rule && operands.some((v) => active.has(v))) {
      // A user rule: its forward part runs here, its backward part in the reverse sweep.
      b.currentLoc = o.loc ?? b.currentLoc;
      const step = customForward(b, rule, operands, o);
      o.results.forEach((r, k) => map.set(r, step.outs[k]));
      replayed.push(step);
      for (const r of step.outs) if (isDifferentiable(r.type.dtype)) active.add(r);
      continue;
    }
    const c = cloneOp(o, map);
    b.ops.push(c);
    replayed.push(c);
    if (usesAny(c, active)) for (const r of c.results) if (isDifferentiable(r.type.dtype)) active.add(r);
  }
  const outputs = ret.operands.map((v) => map.get(v) ?? v);

  // Reverse: seed, then visit ops last to first.
  const ct = new Map<Value, Value>();
  const accumulate = (v: Value, g: Value, o?: Operation): void => {
    if (!sameType(v.type, g.type)) {
      throw new Error(`internal: ${o?.op ?? 'seed'}: cotangent type ${JSON.stringify(g.type)} differs from ${JSON.stringify(v.type)}`);
    }
    const prev = ct.get(v);
    ct.set(v, prev ? e.add(prev, g) : g);
  };
  const saved = b.currentLoc;
  seed(e, outputs).forEach((g, i) => { if (g && active.has(outputs[i])) accumulate(outputs[i], g); });
  for (let i = replayed.length - 1; i >= 0; i--) {
    const o = replayed[i];
    if ('rule' in o) {
      const cts = o.outs.map((r) => ct.get(r));
      if (cts.every((c) => !c)) continue;
      b.currentLoc = o.op.loc ?? saved;
      const gs = customBackward(b, o, cts);
      gs.forEach((g, j) => { if (g && active.has(o.operands[j])) accumulate(o.operands[j], g, o.op); });
      continue;
    }
    const cts = o.results.map((r) => ct.get(r));
    if (cts.every((c) => !c)) continue;
    const needs = o.operands.map((v) => active.has(v));
    // Regions may read outer values (a branch or loop body closing over weights): such an op
    // needs its rule even when no operand is active.
    if (!needs.some((n) => n) && !(o.regions.length && usesAny(o, active))) continue;
    b.currentLoc = o.loc ?? saved;
    const rule = vjpRules[o.op] as VjpRule<Op>;
    const gs = rule({ e, needs, active: (v) => active.has(v), accumulate: (v, g) => accumulate(v, g, o), emitVjp }, o, cts);
    gs.forEach((g, j) => { if (g && needs[j]) accumulate(o.operands[j], g, o); });
  }
  b.currentLoc = saved;
  const grads = wrt.map((i) => ct.get(args[i]) ?? e.zeros(args[i].type));
  return { outputs, grads };
}

/** A custom-rule call in the forward sweep: what its backward part needs. */
interface CustomStep {
  rule: CustomRule;
  /** The call in the original function (for its location). */
  op: Operation;
  operands: Value[];
  outs: Value[];
  /** customVjp: the residuals `fwd` returned. */
  residuals: Value[];
}

function customForward(b: GraphBuilder, rule: CustomRule, operands: Value[], op: Operation): CustomStep {
  const from = b.ops.length;
  const res = inlineModule(b, rule.kind === 'customVjp' ? rule.fwd : rule.primal, operands);
  const n = rule.kind === 'customVjp' ? rule.nOut : res.length;
  // An output that is an existing value (an operand returned as it is) gets a value of its own:
  // its cotangent must reach the operand only through the rule, not also directly.
  const made = new Set(b.ops.slice(from).flatMap((o) => o.results));
  const outs = res.slice(0, n).map((v) => (made.has(v) ? v : b.emit1(Op.OptimizationBarrier, [v], {} as never, { resultTypes: [v.type] })));
  return { rule, op, operands, outs, residuals: res.slice(n) };
}

/** The operands' cotangents of a custom-rule call from its results' cotangents. */
function customBackward(b: GraphBuilder, s: CustomStep, cts: (Value | undefined)[]): (Value | undefined)[] {
  const e = new Emitter(b);
  const full = s.outs.map((v, i) => cts[i] ?? e.zeros(v.type));
  const all = range(s.operands.length);
  switch (s.rule.kind) {
    case 'customVjp':
      return inlineModule(b, s.rule.bwd, [...s.residuals, ...full, ...s.operands]);
    case 'customJvp': {
      // The JVP rule is linear in the tangents: its transpose (the VJP w.r.t. the tangents, at
      // zero tangents) sends output cotangents to operand cotangents.
      const f = prepareForVjp(s.rule.jvp);
      const n = s.operands.length;
      const zeros = s.operands.map((v) => e.zeros(v.type));
      return emitVjp(b, f, [...s.operands, ...zeros], all.map((i) => n + i), () => [...s.outs.map(() => undefined), ...cts]).grads;
    }
    case 'checkpoint': {
      // Recompute the function's forward ops here, from barriered inputs so that common
      // subexpression elimination cannot merge them back into the forward pass (as JAX's remat).
      const again = b.emit(Op.OptimizationBarrier, s.operands, {} as never, { resultTypes: s.operands.map((v) => v.type) });
      return emitVjp(b, prepareForVjp(s.rule.primal), again, all, () => cts).grads;
    }
    default:
      return s.rule satisfies never;
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Whether `o` reads any value of `set`, directly or from inside its regions. */
function usesAny(o: Operation, set: Set<Value>): boolean {
  if (o.operands.some((v) => set.has(v))) return true;
  const inBlock = (blk: Block): boolean => blk.ops.some((x) => usesAny(x, set));
  return o.regions.some((r) => inBlock(r.block));
}

function freshArgs(f: Func): Value[] {
  return f.args.map((a) => ({ type: a.type }));
}

/**
 * The VJP of `m`'s entry function: a module taking (primal arguments..., one cotangent per primal
 * output...) and returning (primal outputs..., the cotangent of each argument listed in `wrt`).
 * With `outputs: false` it returns only the cotangents (and computes only what they need).
 */
export function vjpModule(m: Module, wrt: readonly number[], opts: { outputs?: boolean } = {}): Module {
  const f = prepareForVjp(m);
  const b = new GraphBuilder();
  const args = freshArgs(f);
  const seeds = f.resultTypes.map((type) => ({ type }));
  const { outputs, grads } = emitVjp(b, f, args, wrt, () => seeds);
  const results = opts.outputs === false ? grads : [...outputs, ...grads];
  return eliminateDeadCode(b.finish([...args, ...seeds], results));
}

/**
 * Value and gradient of a scalar loss: `m`'s first result must be a float scalar. The module takes
 * the primal arguments and returns (every primal output..., the gradient w.r.t. each `wrt`
 * argument...); further primal outputs are auxiliary and get no cotangent.
 */
export function valueAndGradModule(m: Module, wrt: readonly number[]): Module {
  const f = prepareForVjp(m);
  const b = new GraphBuilder();
  const args = freshArgs(f);
  const { outputs, grads } = emitVjp(b, f, args, wrt, scalarSeed(f.name));
  return eliminateDeadCode(b.finish(args, [...outputs, ...grads]));
}

/** Seeds the first output with 1; the loss must be a float scalar, as `grad` requires. */
export function scalarSeed(what: string): Seeder {
  return (e, outputs) => {
    const loss = outputs[0];
    if (!loss || loss.type.shape.length !== 0 || !isFloat(loss.type.dtype)) {
      const got = loss ? `${loss.type.dtype}[${loss.type.shape.join(', ')}]` : 'nothing';
      throw new InputError(`grad: ${what} must return a float scalar (the loss) first, got ${got}`);
    }
    return [e.full(loss.type, 1)];
  };
}
