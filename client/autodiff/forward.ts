/**
 * @file The user-facing forward mode: `jvp` and `linearize` over pytrees of Arrays.
 *
 * Each traces the user's function into a module, transforms it with the JVP transform
 * (client/autodiff/jvp.ts) and calls the result with `callModule`, so inside `jit`, `grad` or
 * `vmap` the transformed graph is spliced into the enclosing trace, and outside one it is compiled
 * once per input signature.
 *
 * Tangents follow JAX's rules with one difference JS forces: JAX gives integer and boolean
 * primals `float0` tangents, a dtype kiln does not have. Here the tangent of an integer primal
 * is an integer array of its shape (or the number 0) and is ignored, and an integer output's
 * tangent is zeros of its dtype.
 */
import type { KArray } from '../array.js';
import { flattenArgs } from '../jit.js';
import { unflatten } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { avalOf, callModule, scalarArray, type Traced } from '../trace.js';
import { isDifferentiable } from './emit.js';
import { prepare } from './index.js';
import { jvpModule } from './jvp.js';

type Fn = (...args: never[]) => unknown;

/** The explicit input leaves that carry tangents (the float and complex ones). */
function floatLeaves(t: Traced): number[] {
  return t.inAvals.flatMap((a, k) => (isDifferentiable(a.dtype) ? [k] : []));
}

/** Traces `f` on `primals` (a list of positional arguments) and builds its JVP module. */
function prepareJvp(f: Fn, primals: readonly unknown[], outputs: boolean) {
  const { p, inputs, flat } = prepare(f, primals, new Map(), (t) => jvpModule(t.module, floatLeaves(t), { outputs }));
  return { p, wrt: floatLeaves(p.t), inputs, flat };
}

const describe = (a: { dtype: string; shape: readonly number[] }) => `${a.dtype}[${a.shape.join(',')}]`;

/**
 * Checks `tangents` against the flattened primals as JAX does (same tree structure, dtypes and
 * shapes) and returns the tangent Arrays of the float leaves `wrt`.
 */
function tangentInputs(what: string, primalKey: string, primalLeaves: readonly (KArray | number)[], tangents: readonly unknown[], wrt: readonly number[]): KArray[] {
  const flat = flattenArgs(tangents, () => true);
  if (flat.key !== primalKey || flat.leaves.length !== primalLeaves.length) {
    throw traceError(`primal and tangent arguments to ${what} must have the same tree structure; primals have ${primalLeaves.length} arrays, tangents ${flat.leaves.length}`);
  }
  const out: KArray[] = [];
  flat.leaves.forEach((l, i) => {
    const p = avalOf(primalLeaves[i]);
    const t = avalOf(l);
    if (t.shape.join() !== p.shape.join()) {
      throw traceError(`${what} called with different primal and tangent shapes; got primal shape [${p.shape}] and tangent shape [${t.shape}] (leaf ${i})`);
    }
    if (!isDifferentiable(p.dtype)) {
      // JAX wants float0 tangents here; kiln has no float0, so it takes an integer tangent (or
      // the number 0) and ignores it, and refuses a float one, which could only be a mistake.
      if (typeof l === 'number' ? l !== 0 : isDifferentiable(t.dtype)) {
        throw traceError(`primal and tangent arguments to ${what} do not match: the tangent of an integer primal (${describe(p)}) must be an integer array or 0 (JAX's float0), got ${typeof l === 'number' ? l : describe(t)} (leaf ${i})`);
      }
      return;
    }
    if (typeof l !== 'number' && t.dtype !== p.dtype) {
      throw traceError(`primal and tangent arguments to ${what} do not match; dtypes must be equal: got primal ${describe(p)} and tangent ${describe(t)} (leaf ${i})`);
    }
    if (wrt.includes(i)) out.push(typeof l === 'number' ? scalarArray(l, p.dtype) : l);
  });
  return out;
}

function asArgList(what: string, x: unknown, name: string): unknown[] {
  if (!Array.isArray(x)) throw traceError(`${name} arguments to ${what} must be a list of positional arguments, got ${x === null ? 'null' : typeof x}`);
  return x;
}

/**
 * `jvp(f, primals, tangents)` returns `[f(...primals), tangentsOut]`: the output and its
 * directional derivative along `tangents`, both pytrees shaped like the output. `primals` and
 * `tangents` are lists of positional arguments with the same structure, dtypes and shapes, as in
 * JAX's `jax.jvp`.
 */
export function jvp<F extends Fn>(f: F, primals: Parameters<F>, tangents: Parameters<F>): [unknown, unknown] {
  return apiCall('jvp', () => {
    const ps = asArgList('jvp', primals, 'primal');
    const ts = asArgList('jvp', tangents, 'tangent');
    const { p, wrt, inputs, flat } = prepareJvp(f, ps, true);
    const tin = tangentInputs('jvp', flat.key, flat.leaves, ts, wrt);
    const nOut = p.t.outAvals.length;
    const weak = p.t.outAvals.map((a) => a.weak ?? false);
    const outs = callModule(p.module, [...inputs, ...p.t.captured, ...tin], [...weak, ...weak]);
    return [unflatten(p.t.outDef, outs.slice(0, nOut)), unflatten(p.t.outDef, outs.slice(nOut))];
  });
}

/**
 * `linearize(f, ...primals)` returns `[f(...primals), fJvp]`, where `fJvp(...tangents)` gives the
 * output tangent for tangents shaped like the primals (JAX's `jax.linearize`). The primal
 * computation `fJvp` needs is recomputed with each call, inside one compiled program.
 */
export function linearize<F extends Fn>(f: F, ...primals: Parameters<F>): [unknown, (...tangents: Parameters<F>) => unknown] {
  return apiCall('linearize', () => {
    const { p, wrt, inputs, flat } = prepareJvp(f, primals, false);
    const weak = p.t.outAvals.map((a) => a.weak ?? false);
    const outputs = unflatten(p.t.outDef, callModule(p.t.module, [...inputs, ...p.t.captured], weak));
    const fJvp = (...tangents: Parameters<F>): unknown =>
      apiCall('linearize', () => {
        const tin = tangentInputs('linearize', flat.key, flat.leaves, tangents, wrt);
        return unflatten(p.t.outDef, callModule(p.module, [...inputs, ...p.t.captured, ...tin], weak));
      });
    return [outputs, fJvp];
  });
}
