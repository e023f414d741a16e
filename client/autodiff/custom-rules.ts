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
import { UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import { mainFunc, type Block, type Func, type Module, type Operation, type Value } from '../../ir/types.js';
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
 * `m`'s entry function with every call inlined, inside regions too, except the custom-rule calls
 * (the compiler's inliner would remove those as well): the form the transforms walk. Returns `m`
 * itself when it calls nothing else.
 */
export function inlineExceptCustom(m: Module): Module {
  const main = mainFunc(m);
  const plain = (o: Operation) => o.op === Op.Call && !rules.has((o.attrs as OpAttrs[Op.Call]).callee);
  const hasPlainCall = (blk: Block): boolean => blk.ops.some((o) => plain(o) || o.regions.some((r) => hasPlainCall(r.block)));
  if (!hasPlainCall(main.body)) return m;
  const byName = new Map(m.funcs.map((f) => [f.name, f]));
  const expand = (blk: Block, map: Map<Value, Value>, stack: string[]): Operation[] => {
    const out: Operation[] = [];
    for (const o of blk.ops) {
      const operands = o.operands.map((v) => map.get(v) ?? v);
      if (plain(o)) {
        const callee = (o.attrs as OpAttrs[Op.Call]).callee;
        const f = byName.get(callee);
        if (!f) throw new VerifyError(`func.call: no function named @${callee}`, o.loc);
        if (stack.includes(callee)) throw new UnsupportedOpError(`func.call: recursive call to @${callee} cannot be inlined`, o.loc);
        const inner = new Map<Value, Value>();
        f.args.forEach((a, i) => inner.set(a, operands[i]));
        const body = expand(f.body, inner, [...stack, callee]);
        const ret = body.pop()!;
        out.push(...body);
        o.results.forEach((r, i) => map.set(r, ret.operands[i]));
        continue;
      }
      const regions = o.regions.map((r) => {
        const args = r.block.args.map((a) => {
          const c: Value = { type: a.type };
          map.set(a, c);
          return c;
        });
        return { block: { args, ops: expand(r.block, map, stack) } };
      });
      const results = o.results.map((r) => {
        const c: Value = { type: r.type };
        map.set(r, c);
        return c;
      });
      out.push({ op: o.op, operands, results, attrs: o.attrs, regions, ...(o.loc ? { loc: o.loc } : {}) });
    }
    return out;
  };
  const args: Value[] = main.args.map((a) => ({ type: a.type }));
  const ops = expand(main.body, new Map(main.args.map((a, i) => [a, args[i]])), [main.name]);
  const ret = ops.pop()!;
  const b = new GraphBuilder();
  b.ops.push(...ops);
  return b.finish(args, ret.operands, main.name);
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
