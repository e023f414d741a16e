/**
 * @file Common-subexpression elimination. Two operations are the same computation when they have
 * the same op, the same operands, equal attributes (constants compared by type and bits), the
 * same result types and structurally equal regions (equal up to renaming of the values defined
 * inside them). The later one is replaced by the earlier.
 *
 * Scoping follows dominance: an operation may reuse one from its own block or from any block that
 * encloses it (those dominate it), never one defined inside a sibling region or a region nested
 * deeper, which do not. The table is therefore a stack of scopes, one per block being walked.
 * One exception: a constant inside a region is merged only with constants of that region, never
 * replaced by an equal constant outside it. The region lowerings on a GPU (sort comparators,
 * scatter and window bodies, compiler/kernels/region.ts) compile a region on its own and cannot
 * read values captured from outside; JAX's argsort comparator holds its own 0.0 and NaN.
 *
 * Returns a new module if anything was merged, else the input itself.
 */
import { Op } from '../../ir/ops.js';
import type { AnyOperation, Block, Module, Operation, Value } from '../../ir/types.js';
import { formatType } from '../../ir/types.js';
import { literalKey } from './literal.js';
import { cloneModule, isTerminator } from './rewrite.js';

/** Merges operations that compute the same thing. */
export function eliminateCommonSubexpressions(m: Module): Module {
  const copy = cloneModule(m);
  const ids = new ValueIds();
  const scopes: Map<string, Value[]>[] = [];
  const subst = new Map<Value, Value>();
  let changed = false;

  const walk = (block: Block, regionBase: number): void => {
    scopes.push(new Map());
    const kept: Operation[] = [];
    for (const o of block.ops) {
      for (let i = 0; i < o.operands.length; i++) o.operands[i] = subst.get(o.operands[i]) ?? o.operands[i];
      for (const r of o.regions) walk(r.block, scopes.length);
      kept.push(o);
      if (isTerminator(o)) continue;
      const key = opKey(o as AnyOperation, ids);
      const prior = lookup(o.op === Op.Constant ? scopes.slice(regionBase) : scopes, key);
      if (prior) {
        o.results.forEach((r, i) => subst.set(r, prior[i]));
        kept.pop();
        changed = true;
      } else {
        scopes[scopes.length - 1].set(key, o.results);
      }
    }
    block.ops = kept;
    scopes.pop();
  };
  for (const f of copy.funcs) walk(f.body, 0);
  return changed ? copy : m;
}

function lookup(scopes: Map<string, Value[]>[], key: string): Value[] | undefined {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const hit = scopes[i].get(key);
    if (hit) return hit;
  }
  return undefined;
}

/** Numbers values on first sight, so keys can name operands. */
class ValueIds {
  private readonly ids = new WeakMap<Value, number>();
  private next = 0;
  of(v: Value): number {
    let id = this.ids.get(v);
    if (id === undefined) { id = this.next++; this.ids.set(v, id); }
    return id;
  }
}

/**
 * The identity of an operation as a string: equal keys mean interchangeable results. Operands are
 * named by `names` (global ids outside a region being keyed, local numbers inside it).
 */
function opKey(o: AnyOperation, ids: ValueIds, names?: Map<Value, string>): string {
  const name = (v: Value): string => names?.get(v) ?? `v${ids.of(v)}`;
  const attrs = o.op === Op.Constant ? literalKey(o.results[0].type, o.attrs.value) : stableJson(o.attrs);
  const regions = o.regions.map((r) => regionKey(r.block, ids, names)).join('|');
  return `${o.op}(${o.operands.map(name).join(',')})${attrs}->${o.results.map((r) => formatType(r.type)).join(',')}{${regions}}`;
}

/**
 * A region's structure: its argument types and each operation keyed with block-local names for
 * the values it defines, so two regions that differ only in value identities get the same key.
 * Values from enclosing scopes keep their global names (capturing different values differs).
 */
function regionKey(b: Block, ids: ValueIds, outer?: Map<Value, string>): string {
  const names = new Map(outer);
  let n = names.size;
  const local = (v: Value): void => { names.set(v, `l${n++}`); };
  b.args.forEach(local);
  const parts = [b.args.map((a) => formatType(a.type)).join(',')];
  for (const o of b.ops) {
    parts.push(opKey(o as AnyOperation, ids, names));
    o.results.forEach(local);
  }
  return parts.join(';');
}

/** JSON with sorted keys and typed arrays as arrays, so equal attributes print equally. */
function stableJson(x: unknown): string {
  if (x === undefined) return 'null';
  if (x === null || typeof x !== 'object') return JSON.stringify(x);
  if (ArrayBuffer.isView(x)) return `[${Array.from(x as unknown as ArrayLike<number>).join(',')}]`;
  if (Array.isArray(x)) return `[${x.map(stableJson).join(',')}]`;
  const rec = x as Record<string, unknown>;
  const keys = Object.keys(rec).filter((k) => rec[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(rec[k])}`).join(',')}}`;
}
