/**
 * @file The user-facing reverse mode: `grad`, `valueAndGrad` and `vjp` over pytrees of Arrays.
 *
 * Each traces the user's function into a module, transforms the module (client/autodiff/vjp.ts),
 * and calls the result with `callModule`: inside an enclosing trace (`jit`, another `grad`, `vmap`)
 * the transformed graph is spliced into that trace, so a jitted training step is one executable;
 * outside one it is compiled once per input signature and run on the default device.
 */
import { mainFunc, type Module, type Value } from '../../ir/types.js';
import { GraphBuilder } from '../builder.js';
import { flattenArgs } from '../jit.js';
import { flatten, leafCount, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import {
  avalKey, avalOf, callModule, callTraced, currentTrace, inlineModule, scalarArray, traceFlat, type AbstractValue, type Traced,
} from '../trace.js';
import { valueAndGradModule, vjpModule } from './vjp.js';

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which positional arguments to differentiate: one index (default 0) or several. */
  argnums?: number | readonly number[];
  /** `f` returns `[loss, aux]`; `aux` is passed through undifferentiated. */
  hasAux?: boolean;
}

type Fn = (...args: never[]) => unknown;

/** A traced function with its transformed module, cached per input signature outside traces. */
export interface Prepared {
  t: Traced;
  module: Module;
  /** Leaf ranges `[start, end)` of each positional argument. */
  ranges: [number, number][];
}

/** Leaf ranges `[start, end)` of each positional argument of a flattened argument list. */
export function argRanges(def: TreeDef): [number, number][] {
  if (def.kind !== 'list') return [[0, leafCount(def)]];
  let at = 0;
  return def.children.map((c) => {
    const n = leafCount(c);
    const r: [number, number] = [at, at + n];
    at += n;
    return r;
  });
}

/**
 * Traces `f` on `args` and builds `transform(t)`; outside a trace the pair is cached by the
 * arguments' signature, so repeated calls compile once.
 */
export function prepare(f: Fn, args: readonly unknown[], cache: Map<string, Prepared>, transform: (t: Traced, ranges: [number, number][]) => Module) {
  const flat = flattenArgs(args, () => true);
  const avals = flat.leaves.map(avalOf);
  const key = `${flat.key}::${avals.map(avalKey).join(';')}`;
  const cacheable = !currentTrace();
  let p = cacheable ? cache.get(key) : undefined;
  if (!p) {
    const t = traceFlat(f, flat.def, avals);
    const ranges = argRanges(flat.def);
    p = { t, module: transform(t, ranges), ranges };
    if (cacheable) cache.set(key, p);
  }
  const inputs = flat.leaves.map((l, i) => (typeof l === 'number' ? scalarArray(l, p!.t.inAvals[i].dtype) : l));
  return { p, inputs, def: flat.def, flat };
}

const JAX_NAMES: Record<string, string> = { f32: 'float32', f16: 'float16', i32: 'int32', ui32: 'uint32', i1: 'bool', c64: 'complex64' };

/**
 * Refuses differentiation with respect to integer or boolean inputs, with JAX's message (JAX's
 * grad raises; its vjp would give float0 cotangents, which kiln has no type for, so vjp raises too).
 */
function requireFloatInputs(name: string, avals: readonly AbstractValue[], wrt: readonly number[]): void {
  for (const i of wrt) {
    const d = avals[i].dtype;
    if (d === 'f32' || d === 'f16' || d === 'c64') continue;
    throw traceError(`${name} requires real- or complex-valued inputs (input dtype that is a sub-dtype of np.inexact), but got ${JAX_NAMES[d] ?? d}${avals.length > 1 ? ` (input ${i}, shape [${avals[i].shape.join(', ')}])` : ''}. Convert it with astype('float32'), or pass it as an argument you do not differentiate (argnums)`);
  }
}

/** `argnums` as a list, each checked against the argument count. */
export function argnumList(argnums: GradOptions['argnums'], nargs: number): number[] {
  const list = typeof argnums === 'number' || argnums === undefined ? [argnums ?? 0] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= nargs) throw traceError(`argnums ${a} is out of range for a call with ${nargs} arguments`);
  }
  return list;
}

/**
 * `valueAndGrad(f)(...args)` returns `[f(...args), gradient]`, the gradient having the structure
 * of argument `argnums` (a list of such when `argnums` is a list). With `hasAux`, `f` returns
 * `[loss, aux]` and the result is `[[loss, aux], gradient]`, as JAX's `value_and_grad`.
 * The loss must be a float scalar.
 */
export function valueAndGrad<F extends Fn>(f: F, opts: GradOptions = {}): (...args: Parameters<F>) => [unknown, unknown] {
  const cache = new Map<string, Prepared>();
  return (...args: Parameters<F>) =>
    apiCall('valueAndGrad', () => {
      const nums = argnumList(opts.argnums, args.length);
      const { p, inputs, def } = prepare(f, args, cache, (t, ranges) => {
        if (opts.hasAux && !(t.outDef.kind === 'list' && t.outDef.children.length === 2 && t.outDef.children[0].kind === 'leaf')) {
          throw traceError('with hasAux the function must return [loss, aux] with an Array loss');
        }
        if (!opts.hasAux && t.outDef.kind !== 'leaf') throw traceError('the function must return one scalar Array (use hasAux to return more)');
        const wrt = nums.flatMap((a) => range(ranges[a]));
        requireFloatInputs('grad', t.inAvals, wrt);
        const loss = t.outAvals[0];
        if (loss?.dtype === 'c64') {
          // JAX's message; kiln has no holomorphic=True (a complex loss's gradient needs a convention).
          throw traceError('grad requires real-valued outputs (output dtype that is a sub-dtype of np.floating), but got complex64. For differentiating functions with complex outputs, use vjp directly (kiln has no holomorphic=True option)');
        }
        return valueAndGradModule(t.module, wrt);
      });
      const nOut = p.t.outAvals.length;
      const outs = callModule(p.module, [...inputs, ...p.t.captured], [...p.t.outAvals.map((a) => a.weak ?? false), ...inputs.map(() => false)]);
      const value = unflatten(p.t.outDef, outs.slice(0, nOut));
      const grads = outs.slice(nOut);
      let at = 0;
      const perArg = nums.map((a) => {
        const [s, e] = p.ranges[a];
        const g = unflatten(argDef(def, a), grads.slice(at, at + e - s));
        at += e - s;
        return g;
      });
      return [value, typeof opts.argnums === 'number' || opts.argnums === undefined ? perArg[0] : perArg];
    });
}

/**
 * `grad(f)(...args)`: the gradient of the scalar `f` w.r.t. argument `argnums`, shaped like it.
 * With `hasAux`, returns `[gradient, aux]`.
 */
export function grad<F extends Fn>(f: F, opts: GradOptions = {}): (...args: Parameters<F>) => unknown {
  const vg = valueAndGrad(f, opts);
  return (...args: Parameters<F>) =>
    apiCall('grad', () => {
      const [value, g] = vg(...args);
      return opts.hasAux ? [g, (value as unknown[])[1]] : g;
    });
}

/**
 * `vjp(f, ...primals)` returns `[f(...primals), vjpFn]`; `vjpFn(cotangent)` (a pytree like the
 * output) returns the cotangents of all primals, as a list with one pytree per primal.
 * For JAX's `vjp(f, *primals, has_aux=True)` use {@link vjpWithAux}: JS has no keyword arguments,
 * and a trailing options object could not be told apart from a primal that is a plain object.
 */
export function vjp<F extends Fn>(f: F, ...primals: Parameters<F>): [unknown, (cotangent: unknown) => unknown[]] {
  return apiCall('vjp', () => {
    const [out, fn] = vjpImpl(f, primals, false);
    return [out, fn];
  });
}

/**
 * JAX's `vjp(f, *primals, has_aux=True)`: `f` returns `[out, aux]`; the result is
 * `[out, vjpFn, aux]`, where `vjpFn` takes a cotangent shaped like `out` only (aux is not
 * differentiated).
 */
export function vjpWithAux<F extends Fn>(f: F, ...primals: Parameters<F>): [unknown, (cotangent: unknown) => unknown[], unknown] {
  return apiCall('vjpWithAux', () => vjpImpl(f, primals, true));
}

/** `m` with only its first `n` results (the differentiated part of a `[out, aux]` function). */
function firstOutputs(m: Module, n: number): Module {
  const main = mainFunc(m);
  if (n === main.resultTypes.length) return m;
  const b = new GraphBuilder();
  const args: Value[] = main.args.map((a) => ({ type: a.type }));
  return b.finish(args, inlineModule(b, m, args).slice(0, n));
}

function vjpImpl(f: Fn, primals: readonly unknown[], hasAux: boolean): [unknown, (cotangent: unknown) => unknown[], unknown] {
  const { p, inputs, def } = prepare(f, primals, new Map(), (t) => {
    requireFloatInputs('vjp', t.inAvals, range([0, t.inAvals.length]));
    const n = hasAux ? auxSplit(t.outDef) : t.outAvals.length;
    return vjpModule(firstOutputs(t.module, n), range([0, t.inAvals.length]), { outputs: false });
  });
  const outDef = hasAux ? (p.t.outDef as { children: TreeDef[] }).children[0] : p.t.outDef;
  const nOut = leafCount(outDef);
  const all = callTraced(p.t, inputs);
  const outputs = unflatten(outDef, all.slice(0, nOut));
  const aux = hasAux ? unflatten((p.t.outDef as { children: TreeDef[] }).children[1], all.slice(nOut)) : undefined;
  const vjpFn = (cotangent: unknown): unknown[] =>
    apiCall('vjp', () => {
      const ct = flatten(cotangent, true);
      if (ct.leaves.length !== nOut) {
        throw traceError(`the cotangent has ${ct.leaves.length} arrays, the function's output ${nOut}`);
      }
      const cts = ct.leaves.map((l, i) => {
        const want = p.t.outAvals[i];
        if (typeof l === 'number') return scalarArray(l, want.dtype);
        if (l.dtype !== want.dtype || l.shape.join() !== want.shape.join()) {
          throw traceError(`cotangent ${i} is ${l.dtype}[${l.shape}], the output is ${want.dtype}[${want.shape}]`);
        }
        return l;
      });
      const grads = callModule(p.module, [...inputs, ...p.t.captured, ...cts]);
      return p.ranges.map(([s, e], a) => unflatten(argDef(def, a), grads.slice(s, e)));
    });
  return [outputs, vjpFn, aux];
}

/** The number of leaves of `out` in a function returning `[out, aux]`; throws otherwise. */
export function auxSplit(outDef: TreeDef): number {
  if (outDef.kind !== 'list' || outDef.children.length !== 2) {
    throw traceError('with hasAux the function must return a pair [out, aux]');
  }
  return leafCount(outDef.children[0]);
}

/** The tree of positional argument `a`. */
export function argDef(def: TreeDef, a: number): TreeDef {
  return def.kind === 'list' ? def.children[a] : def;
}

/** The indices `s, ..., e - 1`. */
export function range([s, e]: [number, number]): number[] {
  return Array.from({ length: e - s }, (_, i) => s + i);
}
