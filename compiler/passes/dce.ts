/**
 * @file Dead-code elimination: drops operations none of whose results are used, inside regions
 * too, and private functions nothing calls. Every op kiln supports is pure (StableHLO's
 * side-effecting ops, infeed/outfeed/send/recv/custom_call, are not in the op set), so "unused"
 * is the whole test. A multi-result op (reduce, while, sort) stays while any result is used.
 *
 * Returns a new module if anything was dropped, else the input itself; the input is never edited.
 */
import { Op } from '../../ir/ops.js';
import type { Block, Module } from '../../ir/types.js';
import { cloneModule, isTerminator } from './rewrite.js';

/** Removes unused operations and uncalled private functions. */
export function eliminateDeadCode(m: Module): Module {
  const copy = cloneModule(m);
  let changed = false;
  for (const f of copy.funcs) {
    if (sweepBlock(f.body, new Set())) changed = true;
  }
  // Private functions reachable from no public one are dead too.
  const callees = new Set<string>();
  const byName = new Map(copy.funcs.map((f) => [f.name, f]));
  const visit = (b: Block): void => {
    for (const o of b.ops) {
      if (o.op === Op.Call) {
        const name = (o.attrs as { callee: string }).callee;
        if (!callees.has(name)) {
          callees.add(name);
          const f = byName.get(name);
          if (f) visit(f.body);
        }
      }
      for (const r of o.regions) visit(r.block);
    }
  };
  for (const f of copy.funcs) if (f.visibility === 'public') visit(f.body);
  const live = copy.funcs.filter((f) => f.visibility === 'public' || callees.has(f.name));
  if (live.length !== copy.funcs.length) {
    copy.funcs = live;
    changed = true;
  }
  return changed ? copy : m;
}

/**
 * Walks a block backwards, keeping terminators and every op with a used result, and adding the
 * operands of kept ops (and of the ops in their regions) to `used`. Values are defined before
 * they are used, regions included, so one backward walk sees every use of a value before its
 * definition. Returns whether anything was dropped.
 */
function sweepBlock(b: Block, used: Set<unknown>): boolean {
  let changed = false;
  const kept = [];
  for (let i = b.ops.length - 1; i >= 0; i--) {
    const o = b.ops[i];
    if (!isTerminator(o) && !o.results.some((r) => used.has(r))) {
      changed = true;
      continue;
    }
    for (const r of o.regions) if (sweepBlock(r.block, used)) changed = true;
    for (const v of o.operands) used.add(v);
    kept.push(o);
  }
  if (changed) b.ops = kept.reverse();
  return changed;
}
