/**
 * @file The user-facing `vmap`: maps a function over a batch axis of its pytree arguments by
 * tracing it on one example and batching the traced module (client/vmap/vmap.ts). Like `grad`,
 * it composes with `jit`: inside a trace the batched graph is spliced into it.
 *
 * `inAxes` and `outAxes` follow JAX's `in_axes`/`out_axes`: an axis (negative counts from the
 * end), `null` (not mapped), or a pytree prefix of the arguments / outputs giving one of those for
 * each subtree.
 */
import { InputError } from '../../ir/errors.js';
import type { Module } from '../../ir/types.js';
import type { KArray } from '../array.js';
import { flattenArgs } from '../jit.js';
import { leafCount, type TreeDef, unflatten } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { avalKey, avalOf, callModule, currentTrace, scalarArray, traceFlat, type AbstractValue, type Traced } from '../trace.js';
import { vmapModule } from './vmap.js';

/**
 * An axis spec: an axis, `null` for "not mapped", or a pytree prefix (nested lists and plain
 * objects) of the value it describes, with an axis or `null` at each of its leaves.
 */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };
/** Per positional argument (a list with one {@link AxisSpec} each), or one axis for all. */
export type InAxes = number | null | readonly AxisSpec[];
/** The batch axis of the outputs: an {@link AxisSpec} prefix of the output pytree. */
export type OutAxes = AxisSpec;

/** JAX's keyword arguments of `vmap`, as an object. */
export interface VmapOptions {
  /** Default 0: every argument mapped along its first axis. */
  inAxes?: InAxes;
  /** Default 0. */
  outAxes?: OutAxes;
  /** The batch size, needed when no argument is mapped (`inAxes` all null). */
  axisSize?: number;
}

type Fn = (...args: never[]) => unknown;

function isOptions(x: unknown): x is VmapOptions {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const specText = (s: unknown) => JSON.stringify(s);

/**
 * One axis (or null) per dynamic leaf of `def`, from a spec that is a prefix of it: a number or
 * null covers the whole subtree, a list or object must match the structure below it.
 */
function leafAxes(spec: AxisSpec, def: TreeDef, where: string, out: (number | null)[]): void {
  if (spec === null || typeof spec === 'number') {
    for (let i = 0; i < leafCount(def); i++) out.push(spec);
    return;
  }
  if (Array.isArray(spec)) {
    if (def.kind !== 'list' || def.children.length !== spec.length) {
      throw traceError(`${where} is ${specText(spec)}, a list of ${spec.length}, which is not a prefix of the value's structure (${def.kind === 'list' ? `a list of ${def.children.length}` : `a ${def.kind}`})`);
    }
    def.children.forEach((c, i) => leafAxes(spec[i], c, `${where}[${i}]`, out));
    return;
  }
  const keys = Object.keys(spec).sort();
  if (def.kind !== 'dict' || def.keys.join() !== keys.join()) {
    throw traceError(`${where} is an object with keys [${keys}], which is not a prefix of the value's structure (${def.kind === 'dict' ? `keys [${def.keys}]` : `a ${def.kind}`})`);
  }
  def.children.forEach((c, i) => leafAxes((spec as Record<string, AxisSpec>)[def.keys[i]], c, `${where}.${def.keys[i]}`, out));
}

/**
 * `vmap(f, inAxes = 0, outAxes = 0)` or `vmap(f, {inAxes, outAxes, axisSize})`: a function that
 * applies `f` to every slice of its arguments along their mapped axes and stacks the results
 * along `outAxes` (JAX's `jax.vmap`). `inAxes` is one spec for every argument or a list with one
 * per positional argument; `outAxes` a spec prefix of the output. An output with `outAxes` null
 * must not depend on a mapped argument. JS numbers are never mapped (they are shared by every
 * example). Ops without a batching rule throw UnsupportedOpError.
 */
export function vmap<F extends Fn>(f: F, inAxesOrOptions: InAxes | VmapOptions = 0, outAxesArg: OutAxes = 0): (...args: Parameters<F>) => unknown {
  const opts: VmapOptions = isOptions(inAxesOrOptions) ? inAxesOrOptions : { inAxes: inAxesOrOptions, outAxes: outAxesArg };
  const inAxes = opts.inAxes === undefined ? 0 : opts.inAxes;
  const outAxes = opts.outAxes === undefined ? 0 : opts.outAxes;
  if (opts.axisSize !== undefined && (!Number.isInteger(opts.axisSize) || opts.axisSize < 0)) throw traceError(`vmap: axisSize must be a non-negative integer, got ${opts.axisSize}`);
  const cache = new Map<string, { t: Traced; module: Module }>();
  return (...args: Parameters<F>) =>
    apiCall('vmap', () => {
      const flat = flattenArgs(args, () => true);
      const children: TreeDef[] = flat.def.kind === 'list' ? flat.def.children : [flat.def];
      const axes: (number | null)[] = [];
      if (Array.isArray(inAxes)) {
        if (inAxes.length !== args.length) throw traceError(`inAxes has ${inAxes.length} entries for ${args.length} arguments (it must have one per positional argument)`);
        children.forEach((c, a) => leafAxes(inAxes[a], c, `inAxes[${a}]`, axes));
      } else {
        children.forEach((c, a) => leafAxes(inAxes as number | null, c, `inAxes`, axes));
      }
      let size = opts.axisSize;
      let sizeFrom = opts.axisSize === undefined ? '' : `axisSize ${opts.axisSize}`;
      const avals: AbstractValue[] = flat.leaves.map((l, i) => {
        const a = avalOf(l);
        if (typeof l === 'number') axes[i] = null;
        const ax0 = axes[i];
        if (ax0 === null) return a;
        const rank = a.shape.length;
        if (!Number.isInteger(ax0) || ax0 < -rank || ax0 >= rank) {
          throw traceError(`vmap was requested to map argument leaf ${i} along axis ${ax0}, which implies that its rank should be at least ${ax0 < 0 ? -ax0 : ax0 + 1}, but it is ${(l as KArray).dtype}[${a.shape}] of rank ${rank}`);
        }
        const ax = ax0 < 0 ? ax0 + rank : ax0;
        axes[i] = ax;
        const n = a.shape[ax];
        const here = `argument leaf ${i} (${(l as KArray).dtype}[${a.shape}]) has size ${n} along axis ${ax}`;
        if (size !== undefined && n !== size) throw traceError(`vmap got inconsistent sizes for array axes to be mapped: ${sizeFrom ? `${sizeFrom}; ` : ''}${here}`);
        if (size === undefined) sizeFrom = here;
        size = n;
        return { ...a, shape: a.shape.filter((_, d) => d !== ax) };
      });
      if (size === undefined) throw traceError('vmap must have at least one non-null value in inAxes (or an axisSize)');
      const key = `${flat.key}::${avals.map(avalKey).join(';')}::${axes.join(',')}::${size}`;
      const cacheable = !currentTrace();
      let p = cacheable ? cache.get(key) : undefined;
      if (!p) {
        const t = traceFlat(f, flat.def, avals);
        const outs: (number | null)[] = [];
        leafAxes(outAxes, t.outDef, 'outAxes', outs);
        const normalized = outs.map((ax, i) => {
          if (ax === null) return null;
          const rank = t.outAvals[i].shape.length + 1;
          if (!Number.isInteger(ax) || ax < -rank || ax >= rank) throw traceError(`outAxes ${ax} is out of range for output leaf ${i} of shape [${t.outAvals[i].shape}] (batched rank ${rank})`);
          return ax < 0 ? ax + rank : ax;
        });
        let module: Module;
        try {
          module = vmapModule(t.module, [...axes, ...t.captured.map(() => null)], normalized, size);
        } catch (err) {
          // The module-level transform's argument errors, restated at the user's call.
          if (err instanceof InputError) throw traceError(err.detail);
          throw err;
        }
        p = { t, module };
        if (cacheable) cache.set(key, p);
      }
      const inputs = flat.leaves.map((l, i) => (typeof l === 'number' ? scalarArray(l, avals[i].dtype) : l));
      const res = callModule(p.module, [...inputs, ...p.t.captured], p.t.outAvals.map((a) => a.weak ?? false));
      return unflatten(p.t.outDef, res);
    });
}

