/**
 * @file Tracing user functions into StableHLO regions, for the public control-flow ops.
 *
 * A region body (a loop's condition or body, a branch of `case`) is traced in a
 * {@link RegionTrace}: a nested trace whose builder becomes the region's block. Unlike a `jit`
 * trace, it does not turn outside values into new inputs: a StableHLO region may read any value
 * defined before its op (the verifier, both devices and autodiff accept this), so a tracer of the
 * enclosing trace, or an Array closed over from outside every trace, is used by reference; the
 * enclosing trace captures it first if it has to.
 *
 * Also here: running a control-flow op eagerly (outside any trace: trace once, run once, as
 * `defop` does for the numpy ops), and the type comparisons and messages the ops share.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import type { Region, Value } from '../../ir/types.js';
import { KArray } from '../array.js';
import { convert } from '../lax.js';
import { flattenArgs } from '../jit.js';
import { asArray, resultType } from '../numpy/promote.js';
import { flatten, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError, userCode } from '../site.js';
import {
  avalOf, callTraced, currentTrace, Trace, traceFlat, valueOf, withTrace, type AbstractValue,
} from '../trace.js';

/** A trace recording one region's block: outside values are read by reference, not captured as inputs. */
class RegionTrace extends Trace {
  override capture(x: KArray): Value {
    return withTrace(this.parent, () => valueOf(x));
  }
}

/** A traced region: its block's arguments and ops, and what the body returned besides its results. */
export interface TracedRegion<T> {
  region: Region;
  /** The types of the values the region yields. */
  outAvals: AbstractValue[];
  extra: T;
}

/**
 * Traces `body` into a region whose block arguments have types `argAvals`. `body` receives one
 * tracer per argument and returns the tracers to yield (any tracer of this or an enclosing trace,
 * or JS numbers, which become weakly typed constants) plus anything else the caller wants back.
 * Must be called inside a trace (the region's op is emitted there by the caller).
 */
export function traceRegion<T>(
  argAvals: readonly AbstractValue[], body: (args: KArray[]) => { results: readonly (KArray | number)[]; extra: T },
): TracedRegion<T> {
  const parent = currentTrace();
  if (!parent) throw new Error('kiln internal: a region was traced outside a trace');
  const t = new RegionTrace(parent);
  const args: Value[] = argAvals.map((a) => ({ type: { dtype: a.dtype, shape: [...a.shape] } }));
  try {
    return withTrace(t, () => {
      t.builder.currentLoc = parent.builder.currentLoc;
      const tracers = args.map((v, i) => new KArray(argAvals[i].shape, argAvals[i].dtype, argAvals[i].weak ?? false, { trace: t, value: v }));
      const { results, extra } = body(tracers);
      const outs = results.map((r) => asArray(r));
      const values = outs.map(valueOf);
      t.builder.emit(Op.Return, values, {} as OpAttrs[Op.Return], { resultTypes: [] });
      return {
        region: { block: { args, ops: t.builder.ops } },
        outAvals: outs.map((o) => ({ shape: o.shape, dtype: o.dtype, weak: o.weak })),
        extra,
      };
    });
  } finally {
    t.live = false;
  }
}

/** Calls a user's function (its ops get the user's own call sites). */
export function callUser<R>(f: (...args: never[]) => R, ...args: unknown[]): R {
  return userCode(() => (f as unknown as (...a: unknown[]) => R)(...args));
}

/**
 * Runs the public op `name`: inside a trace, `impl(dynamic)` records its ops there; outside one,
 * `impl` is traced on `dynamic`'s types (its Arrays and JS numbers become inputs; closed-over
 * Arrays are captured) and the module runs once on the default device. Control-flow ops take
 * functions, which cannot be part of a cache key, so eager calls are not cached.
 */
export function runOp<R>(name: string, dynamic: unknown, impl: (dynamic: never) => R): R {
  return apiCall(name, () => {
    if (currentTrace()) return impl(dynamic as never);
    const flat = flattenArgs([dynamic], () => true);
    const t = traceFlat(impl as (d: unknown) => R, flat.def, flat.leaves.map(avalOf), 'main', false);
    return unflatten<R>(t.outDef, callTraced(t, flat.leaves));
  });
}

/** A pytree's dynamic leaves as tracers of the current trace (JS numbers become weak scalars). */
export function leavesOf(tree: unknown): { def: TreeDef; leaves: KArray[] } {
  const { def, leaves } = flatten(tree, true);
  return { def, leaves: leaves.map((l) => asArray(l)) };
}

// ---- types and messages -----------------------------------------------------------------------

/** `f32[2,3]`, as kiln prints types in messages. */
export function showAval(a: AbstractValue): string {
  return `${a.dtype}[${a.shape.join(',')}]${a.weak ? '{weak}' : ''}`;
}

/** Equal shape and dtype (weak types aside, as JAX's `typematch`). */
export function typeMatch(a: AbstractValue, b: AbstractValue): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** A tree structure as text: `[*, {a: *, b: *}]`, static leaves by value. */
export function showDef(def: TreeDef, leaf: (i: number) => string = () => '*'): string {
  let i = 0;
  const walk = (d: TreeDef): string => {
    switch (d.kind) {
      case 'leaf': return leaf(i++);
      case 'static': return d.value === undefined ? 'undefined' : JSON.stringify(d.value);
      case 'list': return `[${d.children.map(walk).join(', ')}]`;
      case 'dict': return `{${d.keys.map((k, j) => `${k}: ${walk(d.children[j])}`).join(', ')}}`;
      default: return d satisfies never;
    }
  };
  return walk(def);
}

/** Whether two tree structures (with their static leaves) are the same. */
export function sameDef(a: TreeDef, b: TreeDef): boolean {
  return showDef(a) === showDef(b);
}

/** The path of every dynamic leaf below `root`: `carry[1]['h']`, as JAX's `keystr` writes it. */
export function leafPaths(def: TreeDef, root: string): string[] {
  const out: string[] = [];
  const walk = (d: TreeDef, p: string): void => {
    switch (d.kind) {
      case 'leaf': out.push(p); return;
      case 'static': return;
      case 'list': d.children.forEach((c, i) => walk(c, `${p}[${i}]`)); return;
      case 'dict': d.children.forEach((c, i) => walk(c, `${p}['${d.keys[i]}']`)); return;
      default: d satisfies never;
    }
  };
  walk(def, root);
  return out;
}

/** Why two avals differ, in JAX's words. */
function mismatch(a: AbstractValue, b: AbstractValue): string {
  const shapes = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!shapes && a.dtype !== b.dtype) return 'the shapes and dtypes do not match';
  return shapes ? 'the dtypes do not match' : 'the shapes do not match';
}

/**
 * Refuses a loop whose body changes the carry's structure or types. `what` names the function as
 * JAX does (`body_fun output`, `scan body function carry`).
 */
export function checkCarry(what: string, root: string, inDef: TreeDef, inAvals: readonly AbstractValue[], outDef: TreeDef, outAvals: readonly AbstractValue[]): void {
  if (!sameDef(inDef, outDef)) {
    throw traceError(`${what} output pytree structure must match the input carry, got ${showDef(outDef)} and ${showDef(inDef)}`);
  }
  const paths = leafPaths(inDef, root);
  const diffs = inAvals.flatMap((a, i) => (typeMatch(a, outAvals[i]) ? [] : [
    `the input carry component ${paths[i]} has type ${showAval(a)} but the corresponding output carry component has type ${showAval(outAvals[i])}, so ${mismatch(a, outAvals[i])}`,
  ]));
  if (diffs.length) {
    throw traceError(`${what} output and input must have identical types, got\n${diffs.map((d) => `  * ${d}`).join(';\n')}.\nRevise the function so that the output carry has the types of the input carry.`);
  }
}

/**
 * JAX's `_promote_weak_typed_inputs`: a weakly typed carry (from a JS number) whose body output
 * has another dtype is promoted to the dtype the two combine to, and the body is traced again.
 * Returns the new input types, or undefined when nothing changes.
 */
export function promoteWeakCarry(inAvals: readonly AbstractValue[], outAvals: readonly AbstractValue[]): AbstractValue[] | undefined {
  let changed = false;
  const next = inAvals.map((a, i) => {
    const o = outAvals[i];
    if (!a.weak || !o || typeMatch(a, o) || a.shape.length !== o.shape.length || !a.shape.every((d, j) => d === o.shape[j])) return a;
    const rt = resultType(fakeArray(a), fakeArray(o));
    if (rt.dtype === a.dtype) return a;
    changed = true;
    return { shape: a.shape, dtype: rt.dtype, weak: rt.weak };
  });
  return changed ? next : undefined;
}

function fakeArray(a: AbstractValue): KArray {
  return { dtype: a.dtype, weak: a.weak ?? false, shape: a.shape } as unknown as KArray;
}

/** `x` converted to the aval's dtype and weak flag (a no-op when they already agree). */
export function castTo(x: KArray, a: AbstractValue): KArray {
  return x.dtype === a.dtype && x.weak === (a.weak ?? false) ? x : convert(x, a.dtype as SupportedDType, a.weak ?? false);
}
