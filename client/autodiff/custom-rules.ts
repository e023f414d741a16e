/**
 * @file The registry of user differentiation rules (`customVjp`, `customJvp`, `checkpoint`) as
 * the transforms see them. A function with such a rule is traced as a `func.call` to a private
 * function named `kiln_custom_<n>` (client/autodiff/custom.ts); this file maps that name to the
 * rule, held as IR modules, so that reverse mode, forward mode and vmap apply the rule where they
 * meet the call, and everything else (the compiler, a device) just runs the callee.
 *
 * Every module of a rule takes all of the call's operands (the function's arguments, then the
 * Arrays its traced functions closed over) in the same order, and ignores what it does not use.
 */
import { isFloat } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import { mainFunc, type Func, type Module, type Operation, type Value } from '../../ir/types.js';
import { CUSTOM_CALL_PREFIX, GraphBuilder, registerCustomCallee } from '../builder.js';
import { inlineModule } from '../trace.js';
import { Emitter } from './emit.js';

type Tan = Value | undefined;

/** A user rule, as modules over the call's operands. */
export type CustomRule =
  | {
    kind: 'customVjp';
    /** The user's function, for messages. */
    what: string;
    /** operands -> outputs. */
    primal: Module;
    /** operands -> [outputs..., residuals...]. */
    fwd: Module;
    nOut: number;
    /** [residuals..., output cotangents..., operands...] -> one cotangent per operand. */
    bwd: Module;
  }
  | {
    kind: 'customJvp';
    what: string;
    primal: Module;
    /** [operands..., one tangent per operand...] -> [outputs..., output tangents...]. */
    jvp: Module;
  }
  | { kind: 'checkpoint'; what: string; primal: Module };

const rules = new Map<string, CustomRule>();
let nextId = 0;

/**
 * Registers `rule` under a fresh callee name and returns the private function to call: the
 * primal, which is what runs wherever no transform applies the rule.
 */
export function registerCustomRule(rule: CustomRule): Func {
  const main = mainFunc(rule.primal);
  const name = `${CUSTOM_CALL_PREFIX}${rule.kind.replace(/^custom/, '').toLowerCase()}_${nextId++}`;
  const func: Func = { ...main, name, visibility: 'private' };
  registerCustomCallee(func);
  rules.set(name, rule);
  return func;
}

/** The rule a `func.call` applies, if it calls a custom-rule function. */
export function customRuleOf(o: Operation): CustomRule | undefined {
  if (o.op !== Op.Call) return undefined;
  return rules.get((o.attrs as OpAttrs[Op.Call]).callee);
}

/**
 * `m` with every call inlined except the custom-rule calls (the compiler's inliner would remove
 * those too): the form the autodiff transforms walk.
 */
export function inlineExceptCustom(m: Module): Module {
  const main = mainFunc(m);
  if (m.funcs.length === 1) return m;
  const b = new GraphBuilder();
  const args: Value[] = main.args.map((a) => ({ type: a.type }));
  return b.finish(args, inlineModule(b, m, args), main.name);
}

/** Emits a call to `rule`'s callee (a fresh registration of it) on `operands`. */
export function emitCustomCall(b: GraphBuilder, rule: CustomRule, operands: readonly Value[]): Value[] {
  const func = registerCustomRule(rule);
  return b.emit(Op.Call, operands, { callee: func.name }, { resultTypes: func.resultTypes.map((t) => ({ ...t })) });
}

/** Forward mode through a custom call: the user's JVP rule, or the JVP of a checkpointed function. */
export function customJvp(b: GraphBuilder, o: Operation, rule: CustomRule, tans: readonly Tan[], jvpOf: (m: Module, args: Value[], tans: Tan[]) => { outs: Value[]; tans: Tan[] }): { outs: Value[]; tans: Tan[] } {
  const e = new Emitter(b);
  switch (rule.kind) {
    case 'customVjp':
      throw new UnsupportedOpError(`${rule.what}: can't apply forward-mode autodiff (jvp) to a customVjp function (as JAX); define a customJvp rule instead`, o.loc);
    case 'customJvp': {
      const res = inlineModule(b, rule.jvp, [...o.operands, ...o.operands.map((v, i) => tans[i] ?? e.zeros(v.type))]);
      const n = o.results.length;
      return { outs: res.slice(0, n), tans: res.slice(n).map((t, i) => (isFloat(res[i].type.dtype) ? t : undefined)) };
    }
    case 'checkpoint':
      return jvpOf(rule.primal, [...o.operands], [...tans]);
    default:
      return rule satisfies never;
  }
}
