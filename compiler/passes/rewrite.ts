/**
 * @file The machinery every pass shares: deep copies of modules and blocks (fresh values, so a
 * pass can edit its copy without touching its input) and a forward rewrite walk that substitutes
 * values as it goes.
 *
 * Ownership convention of kiln's passes: a pass never mutates its input. It copies the module
 * with {@link cloneModule}, edits the copy, and returns the copy if anything changed, or the input
 * itself if nothing did, so `pass.run(m) === m` means "no change" and the pipeline can iterate to a
 * fixed point cheaply. Copies share the immutable parts: tensor types, locations and attribute
 * objects. Attributes are therefore never edited in place: a pass that changes them assigns a new
 * attribute object to its copied operation.
 */
import { Op } from '../../ir/ops.js';
import { walkOps, type AnyOperation, type Block, type Func, type Module, type Operation, type Region, type TensorType, type Value } from '../../ir/types.js';

/** Copies a value: same type and name, new identity. */
export function cloneValue(v: Value): Value {
  return v.name === undefined ? { type: v.type } : { type: v.type, name: v.name };
}

/**
 * Copies a block. `map` sends old values to new ones; it is extended with the block's arguments
 * and results. Operands missing from `map` are values from an enclosing scope the caller did not
 * remap, and are kept as they are.
 */
export function cloneBlock(b: Block, map: Map<Value, Value>): Block {
  const args = b.args.map((a) => {
    const c = cloneValue(a);
    map.set(a, c);
    return c;
  });
  return { args, ops: b.ops.map((o) => cloneOp(o, map)) };
}

/** Copies one operation (and its regions), extending `map` with its results. */
export function cloneOp<K extends Op>(o: Operation<K>, map: Map<Value, Value>): Operation<K> {
  const operands = o.operands.map((v) => map.get(v) ?? v);
  const regions: Region[] = o.regions.map((r) => ({ block: cloneBlock(r.block, map) }));
  const results = o.results.map((r) => {
    const c = cloneValue(r);
    map.set(r, c);
    return c;
  });
  const copy: Operation<K> = { op: o.op, operands, results, attrs: o.attrs, regions };
  if (o.loc) copy.loc = o.loc;
  return copy;
}

/** Copies a function; `args` stays the same array as `body.args`. */
export function cloneFunc(f: Func): Func {
  const body = cloneBlock(f.body, new Map());
  const copy: Func = { ...f, args: body.args, body };
  return copy;
}

/** A deep copy of a module: new functions, blocks, operations and values; shared types, locations and attributes. */
export function cloneModule(m: Module): Module {
  return { ...m, funcs: m.funcs.map(cloneFunc) };
}

/** Whether `o` ends a block (`stablehlo.return`, `func.return`). */
export function isTerminator(o: Operation): boolean {
  return o.op === Op.Return || o.op === Op.FuncReturn;
}

/** What a rewriter may do besides replacing the operation it is given. */
export interface RewriteContext {
  /** Places a new operation just before the one being rewritten. */
  insert(o: Operation): void;
  /** Records that the operation was edited in place. */
  changed(): void;
}

/**
 * Looks at one operation (operands already substituted, regions already rewritten). Returning
 * values drops the operation and replaces its results by them, one for one; returning `undefined`
 * keeps it.
 */
export type Rewriter = (o: AnyOperation, ctx: RewriteContext) => Value[] | undefined;

/**
 * Runs `fn` over every operation of every function, in program order, inner regions before the
 * operation that holds them. Edits `m` in place: call it on a copy. Returns whether anything changed.
 */
export function rewriteModule(m: Module, fn: Rewriter): boolean {
  let changed = false;
  const subst = new Map<Value, Value>();
  const resolve = (v: Value): Value => {
    let r = v;
    for (let s = subst.get(r); s; s = subst.get(r)) r = s;
    return r;
  };
  const walk = (block: Block): void => {
    const out: Operation[] = [];
    const ctx: RewriteContext = {
      insert(o) { out.push(o); changed = true; },
      changed() { changed = true; },
    };
    for (const o of block.ops) {
      for (let i = 0; i < o.operands.length; i++) o.operands[i] = resolve(o.operands[i]);
      for (const r of o.regions) walk(r.block);
      const repl = fn(o as AnyOperation, ctx);
      if (repl === undefined) {
        out.push(o);
        continue;
      }
      if (repl.length !== o.results.length) {
        throw new Error(`internal: rewrite of ${o.op} gave ${repl.length} values for ${o.results.length} results`);
      }
      o.results.forEach((r, i) => { if (repl[i] !== r) subst.set(r, repl[i]); });
      changed = true;
    }
    block.ops = out;
  };
  for (const f of m.funcs) walk(f.body);
  return changed;
}

/**
 * Runs a rewriter as a pass body: copies `m`, rewrites the copy, and returns the copy if anything
 * changed, else `m` itself.
 */
export function rewritePass(m: Module, fn: Rewriter): Module {
  const copy = cloneModule(m);
  return rewriteModule(copy, fn) ? copy : m;
}

/**
 * Whether any signature, block argument or op result of `m` has a type `has` picks (the emulation
 * passes skip modules without their types).
 */
export function moduleHasType(m: Module, has: (t: TensorType) => boolean): boolean {
  let found = false;
  for (const f of m.funcs) {
    if (f.args.some((a) => has(a.type)) || f.resultTypes.some(has)) return true;
    walkOps(f.body, (o) => {
      if (!found && (o.results.some((r) => has(r.type)) || o.regions.some((r) => r.block.args.some((a) => has(a.type))))) found = true;
    });
    if (found) return true;
  }
  return false;
}

/** Retypes `m` in place (a pass's copy): every block argument, op result and function result through `to`. */
export function retypeModule(m: Module, to: (t: TensorType) => TensorType): void {
  const block = (b: Block): void => {
    for (const a of b.args) a.type = to(a.type);
    for (const o of b.ops) {
      for (const r of o.results) r.type = to(r.type);
      for (const reg of o.regions) block(reg.block);
    }
  };
  for (const f of m.funcs) {
    block(f.body);
    f.resultTypes = f.resultTypes.map(to);
  }
}

/**
 * Inserts `op(operands)` before the operation being rewritten (`from`, whose location it takes),
 * with one result of type `type`, and returns that result.
 */
export function emit<K extends Op>(
  ctx: RewriteContext, from: Operation, op: K, operands: Value[], type: TensorType, attrs: Operation<K>['attrs'], regions: Region[] = [],
): Value {
  const result: Value = { type };
  const o = { op, operands, results: [result], attrs, regions } as Operation<K>;
  if (from.loc) o.loc = from.loc;
  ctx.insert(o);
  return result;
}

/** A reduction body `return op(a, b)` on two scalars of `dtype`. */
export function binaryBody(op: Op, dtype: TensorType['dtype']): Block {
  const scalar = (): Value => ({ type: { dtype, shape: [] } });
  const [a, b, r] = [scalar(), scalar(), scalar()];
  return {
    args: [a, b],
    ops: [
      { op, operands: [a, b], results: [r], attrs: {}, regions: [] },
      { op: Op.Return, operands: [r], results: [], attrs: {}, regions: [] },
    ] as Operation[],
  };
}

/** The op of a reduction body that is exactly `return op(arg0, arg1)` (either order), else undefined. */
export function binaryOpOf(b: Block): Op | undefined {
  if (b.args.length !== 2 || b.ops.length !== 2) return undefined;
  const [op, ret] = b.ops;
  if (ret.op !== Op.Return || ret.operands[0] !== op.results[0]) return undefined;
  if (!op.operands.every((v) => b.args.includes(v)) || op.operands[0] === op.operands[1]) return undefined;
  return op.op;
}

/** Counts the operations of a module, nested regions included (tests and dumps). */
export function countOps(m: Module, op?: Op): number {
  let n = 0;
  const walk = (b: Block): void => {
    for (const o of b.ops) {
      if (op === undefined || o.op === op) n++;
      for (const r of o.regions) walk(r.block);
    }
  };
  for (const f of m.funcs) walk(f.body);
  return n;
}
