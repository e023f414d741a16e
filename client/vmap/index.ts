/**
 * @file The user-facing `vmap`: maps a function over a batch axis of its pytree arguments by
 * tracing it on one example and batching the traced module (client/vmap/vmap.ts). Like `grad`,
 * it composes with `jit`: inside a trace the batched graph is spliced into it.
 */
import type { Module } from '../../ir/types.js';
import { flattenArgs } from '../jit.js';
import { leafCount, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { avalKey, avalOf, callModule, currentTrace, scalarArray, traceFlat, type AbstractValue, type Traced } from '../trace.js';
import { vmapModule } from './vmap.js';

/** Per positional argument: its batch axis, or `null` for an argument shared by every example. */
export type InAxes = number | null | readonly (number | null)[];
/** The batch axis of every output, or one per output leaf. */
export type OutAxes = number | readonly number[];

type Fn = (...args: never[]) => unknown;

/**
 * `vmap(f, inAxes = 0, outAxes = 0)`: a function that applies `f` to every slice of its arguments
 * along their batch axes and stacks the results along `outAxes`. `inAxes` is one axis for every
 * argument or a list with one entry per argument (applied to all Arrays inside it); JS numbers
 * are always shared. Ops without a batching rule throw UnsupportedOpError.
 */
export function vmap<F extends Fn>(f: F, inAxes: InAxes = 0, outAxes: OutAxes = 0): (...args: Parameters<F>) => unknown {
  const cache = new Map<string, { t: Traced; module: Module }>();
  return (...args: Parameters<F>) =>
    apiCall('vmap', () => {
      const flat = flattenArgs(args, () => true);
      const perArg = Array.isArray(inAxes) ? (inAxes as readonly (number | null)[]) : args.map(() => inAxes as number | null);
      if (perArg.length !== args.length) throw traceError(`inAxes has ${perArg.length} entries for ${args.length} arguments`);
      const children: TreeDef[] = flat.def.kind === 'list' ? flat.def.children : [flat.def];
      const leafAxes: (number | null)[] = [];
      children.forEach((c, a) => { for (let i = 0; i < leafCount(c); i++) leafAxes.push(perArg[a]); });
      let size: number | undefined;
      const avals: AbstractValue[] = flat.leaves.map((l, i) => {
        const a = avalOf(l);
        const ax = typeof l === 'number' ? null : leafAxes[i];
        leafAxes[i] = ax;
        if (ax === null) return a;
        if (!Number.isInteger(ax) || ax < 0 || ax >= a.shape.length) throw traceError(`inAxes ${ax} is out of range for an argument of shape [${a.shape}]`);
        const n = a.shape[ax];
        if (size !== undefined && n !== size) throw traceError(`batched arguments disagree on the batch size: ${size} and ${n}`);
        size = n;
        return { ...a, shape: a.shape.filter((_, d) => d !== ax) };
      });
      if (size === undefined) throw traceError('no argument is batched (every inAxes entry is null)');
      const key = `${flat.key}::${avals.map(avalKey).join(';')}::${leafAxes.join(',')}::${size}`;
      const cacheable = !currentTrace();
      let p = cacheable ? cache.get(key) : undefined;
      if (!p) {
        const t = traceFlat(f, flat.def, avals);
        const outs = typeof outAxes === 'number' ? t.outAvals.map(() => outAxes) : [...outAxes];
        if (outs.length !== t.outAvals.length) throw traceError(`outAxes has ${outs.length} entries for ${t.outAvals.length} outputs`);
        p = { t, module: vmapModule(t.module, [...leafAxes, ...t.captured.map(() => null)], outs, size) };
        if (cacheable) cache.set(key, p);
      }
      const inputs = flat.leaves.map((l, i) => (typeof l === 'number' ? scalarArray(l, avals[i].dtype) : l));
      const res = callModule(p.module, [...inputs, ...p.t.captured], p.t.outAvals.map((a) => a.weak ?? false));
      return unflatten(p.t.outDef, res);
    });
}
