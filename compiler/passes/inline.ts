/**
 * @file Inlining: every `func.call` is replaced by a copy of its callee's body, recursively and
 * inside regions too, and private functions are then dropped, so later stages see each public
 * function (in practice just `@main`) as one self-contained body.
 *
 * Returns a new module (each inlined call site gets fresh values); the input is left as it was.
 * Returns the input itself when it has no calls and no private functions.
 */
import { UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { Block, Func, Module, Operation, Value } from '../../ir/types.js';
import { cloneFunc, cloneOp } from './rewrite.js';

/** Inlines every call and keeps only the public functions. */
export function inlineCalls(m: Module): Module {
  const hasCall = m.funcs.some((f) => blockHasCall(f.body));
  if (!hasCall && m.funcs.every((f) => f.visibility === 'public')) return m;

  const byName = new Map<string, Func>();
  for (const f of m.funcs) byName.set(f.name, f);
  const funcs = m.funcs.filter((f) => f.visibility === 'public').map((f) => {
    const copy = cloneFunc(f);
    copy.body = inlineBlock(copy.body, new Map(), byName, [f.name]);
    copy.args = copy.body.args;
    return copy;
  });
  return { ...m, funcs };
}

function blockHasCall(b: Block): boolean {
  return b.ops.some((o) => o.op === Op.Call || o.regions.some((r) => blockHasCall(r.block)));
}

/**
 * Rewrites a block whose operands may refer to values in `subst` (results of calls already
 * inlined), expanding each call in place. `stack` holds the functions being expanded, to refuse
 * recursion, which StableHLO programs do not use and a static expansion cannot finish.
 */
function inlineBlock(b: Block, subst: Map<Value, Value>, byName: Map<string, Func>, stack: string[]): Block {
  const ops: Operation[] = [];
  for (const o of b.ops) {
    for (let i = 0; i < o.operands.length; i++) o.operands[i] = subst.get(o.operands[i]) ?? o.operands[i];
    for (const r of o.regions) r.block = inlineBlock(r.block, subst, byName, stack);
    if (o.op !== Op.Call) {
      ops.push(o);
      continue;
    }
    const callee = (o as Operation<Op.Call>).attrs.callee;
    const f = byName.get(callee);
    if (!f) throw new VerifyError(`func.call: no function named @${callee}`, o.loc);
    if (stack.includes(callee)) {
      throw new UnsupportedOpError(`func.call: recursive call to @${callee} (via ${stack.map((s) => '@' + s).join(' -> ')}) cannot be inlined`, o.loc);
    }
    if (f.args.length !== o.operands.length || f.resultTypes.length !== o.results.length) {
      throw new VerifyError(`func.call: @${callee} takes ${f.args.length} arguments and gives ${f.resultTypes.length} results, the call has ${o.operands.length} and ${o.results.length}`, o.loc);
    }
    // A fresh copy of the callee for this call site, its arguments bound to the call's operands.
    const map = new Map<Value, Value>();
    f.args.forEach((a, i) => map.set(a, o.operands[i]));
    const body: Block = { args: [], ops: f.body.ops.map((x) => cloneOp(x, map)) };
    const expanded = inlineBlock(body, new Map(), byName, [...stack, callee]);
    const ret = expanded.ops.pop();
    if (!ret || ret.op !== Op.FuncReturn) throw new VerifyError(`@${callee}: function body does not end in func.return`, f.loc);
    ops.push(...expanded.ops);
    o.results.forEach((r, i) => subst.set(r, ret.operands[i]));
  }
  return { args: b.args, ops };
}
