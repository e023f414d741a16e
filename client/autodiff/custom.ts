/**
 * @file User differentiation rules: `customVjp` (JAX's `jax.custom_vjp` with `.defvjp(fwd, bwd)`),
 * `customJvp` (`jax.custom_jvp` with `.defjvp(rule)`) and `checkpoint` (`jax.checkpoint`, remat).
 *
 * kiln differentiates traced modules, so a rule has to survive in the IR until autodiff runs.
 * Called inside a trace, such a function traces itself and its rule functions on the arguments'
 * types and records one `func.call` to a private function holding its primal, registered with the
 * rule (client/autodiff/custom-rules.ts). `grad`/`vjp`/`jvp` apply the rule when they meet the call
 * (checkpoint: recompute the forward ops in the backward pass), `vmap` batches it into a new rule,
 * and the compiler inlines the call like any other, so the primal runs. Called outside any trace,
 * the function just runs.
 *
 * JS differences: JAX's `defvjp`/`defjvp` are methods returning None; here they return the
 * function, so `const f = customVjp(g).defvjp(fwd, bwd)` works. `bwd` returns a list with one
 * cotangent per positional argument (JAX's tuple), `null` for a zero one. Arrays the traced
 * functions close over are passed to the call as extra operands, and receive no cotangent from a
 * custom rule.
 */
import { isFloat } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { Module, TensorType, Value } from '../../ir/types.js';
import { GraphBuilder } from '../builder.js';
import * as lax from '../lax.js';
import { flattenArgs } from '../jit.js';
import { flatten, leafCount, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { avalOf, currentTrace, emit, inlineModule, tracer, traceFlat, valueOf, type AbstractValue, type Traced } from '../trace.js';
import { Emitter } from './emit.js';
import { registerCustomRule, type CustomRule } from './custom-rules.js';

type Fn = (...args: never[]) => unknown;

/** A function with a custom VJP; call {@link defvjp} before using it. */
export interface CustomVjpFunction<F extends Fn> {
  (...args: Parameters<F>): ReturnType<F>;
  /**
   * `fwd(...args)` returns `[out, residuals]`; `bwd(residuals, outCotangent)` returns a list with
   * one cotangent per positional argument (`null` for zero).
   */
  defvjp(fwd: (...args: Parameters<F>) => [unknown, unknown], bwd: (residuals: never, cotangent: never) => unknown[]): CustomVjpFunction<F>;
}

/** A function with a custom JVP; call {@link defjvp} before using it. */
export interface CustomJvpFunction<F extends Fn> {
  (...args: Parameters<F>): ReturnType<F>;
  /** `rule(primals, tangents)` (lists of the positional arguments) returns `[out, outTangent]`. */
  defjvp(rule: (primals: Parameters<F>, tangents: Parameters<F>) => [unknown, unknown]): CustomJvpFunction<F>;
}

const typeOf = (a: AbstractValue): TensorType => ({ dtype: a.dtype, shape: [...a.shape] });
const fnName = (f: Fn) => f.name || 'anonymous function';

/** The call's operands: the arguments' flat leaves, then everything the traces closed over. */
interface Call {
  def: TreeDef;
  avals: AbstractValue[];
  values: Value[];
  /** The types of all operands. */
  types: TensorType[];
}

/**
 * Starts a call of `f` in the current trace: its operands (the explicit arguments, then the
 * Arrays `f` closes over, at `captured`) and `f` traced on the arguments' types.
 */
function beginCall(f: Fn, args: readonly unknown[]): { c: Call; tf: Traced; explicit: number[]; captured: number[] } {
  const flat = flattenArgs(args, () => true);
  const avals = flat.leaves.map(avalOf);
  const b = currentTrace()!.builder;
  const values = flat.leaves.map((l, i) => (typeof l === 'number' ? b.constant(avals[i].dtype, [], l) : valueOf(l)));
  const c: Call = { def: flat.def, avals, values, types: avals.map(typeOf) };
  const tf = traceFlat(f, c.def, avals);
  return { c, tf, explicit: avals.map((_, i) => i), captured: addCaptured(c, tf) };
}

/**
 * The callable of a custom-rule function: outside a trace, and inside its own rule functions
 * (which commonly call it), it is just `f`; in a trace it records `traceCall`. `missing` says why
 * it cannot be called yet (no rule defined).
 */
function ruleCall(name: string, f: Fn, missing: () => string | undefined, traceCall: (args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  let tracingRule = false;
  return (...args: unknown[]) =>
    apiCall(name, () => {
      const why = missing();
      if (why) throw traceError(why);
      if (!currentTrace() || tracingRule) return (f as unknown as (...a: unknown[]) => unknown)(...args);
      tracingRule = true;
      try {
        return traceCall(args);
      } finally {
        tracingRule = false;
      }
    });
}

/** Appends the Arrays `t` closed over to the call's operands; returns their operand indices. */
function addCaptured(call: Call, t: Traced): number[] {
  return t.captured.map((x) => {
    call.values.push(valueOf(x));
    call.types.push({ dtype: x.dtype, shape: [...x.shape] });
    return call.types.length - 1;
  });
}

/**
 * A module over `[...pre, ...all operands]` that runs `m` on `pre` followed by the operands at
 * `pick`, returning its results followed by `extra`'s.
 */
function overOperands(m: Module, pre: readonly TensorType[], types: readonly TensorType[], pick: readonly number[], extra?: (e: Emitter) => Value[]): Module {
  const b = new GraphBuilder();
  const preArgs: Value[] = pre.map((type) => ({ type }));
  const ops: Value[] = types.map((type) => ({ type }));
  const outs = inlineModule(b, m, [...preArgs, ...pick.map((i) => ops[i])]);
  return b.finish([...preArgs, ...ops], [...outs, ...(extra ? extra(new Emitter(b)) : [])]);
}

/** Records the call to `rule`'s callee and returns the outputs as `outDef`'s pytree. */
function finishCall(rule: CustomRule, call: Call, primal: Traced): unknown {
  const func = registerCustomRule(rule);
  const outs = emit(Op.Call, call.values, { callee: func.name }, { resultTypes: primal.outAvals.map(typeOf) });
  return unflatten(primal.outDef, outs.map((v, i) => tracer(v, primal.outAvals[i].weak ?? false)));
}

const sameAval = (a: AbstractValue, b: AbstractValue) => a.dtype === b.dtype && a.shape.join() === b.shape.join();
const describe = (a: AbstractValue) => `${a.dtype}[${a.shape.join(',')}]`;

/** Checks that a rule's output (`got`, of `gotDef`) has the primal output's structure and types. */
function checkLike(what: string, gotDef: TreeDef, got: readonly AbstractValue[], primal: Traced): void {
  if (leafCount(gotDef) !== primal.outAvals.length || got.some((a, i) => !sameAval(a, primal.outAvals[i]))) {
    throw traceError(`${what} has arrays [${got.map(describe).join(', ')}], the function's output [${primal.outAvals.map(describe).join(', ')}]`);
  }
}

/** JAX's `jax.custom_vjp`: `f` whose gradient is given by `fwd`/`bwd` (see {@link CustomVjpFunction}). */
export function customVjp<F extends Fn>(f: F): CustomVjpFunction<F> {
  let fwd: ((...args: never[]) => [unknown, unknown]) | undefined;
  let bwd: ((res: never, ct: never) => unknown[]) | undefined;
  const call = ruleCall('customVjp', f,
    () => (fwd && bwd ? undefined : `no VJP defined for customVjp function ${fnName(f)}: call .defvjp(fwd, bwd) first`),
    (args) => traceVjpCall(args)) as unknown as CustomVjpFunction<F>;
  const traceVjpCall = (args: unknown[]): unknown => {
    const { c, tf, explicit, captured: capF } = beginCall(f, args);
    const { def, avals } = c;
    const n = avals.length;
    const tfwd = traceFlat(fwd!, def, avals);
    if (tfwd.outDef.kind !== 'list' || tfwd.outDef.children.length !== 2) throw traceError(`customVjp fwd of ${fnName(f)} must return a pair [out, residuals]`);
    const nOut = tf.outAvals.length;
    checkLike(`customVjp fwd of ${fnName(f)}: its output`, tfwd.outDef.children[0], tfwd.outAvals.slice(0, nOut), tf);
    const capFwd = addCaptured(c, tfwd);
    const resDef = tfwd.outDef.children[1];
    const resAvals = tfwd.outAvals.slice(nOut).map((a) => ({ ...a, weak: false }));
    const outAvals = tf.outAvals.map((a) => ({ ...a, weak: false }));
    const argDefs = def.kind === 'list' ? def.children : [def];
    const bwdFlat = (res: unknown, ct: unknown): unknown[] => {
      const r = (bwd as (a: unknown, b: unknown) => unknown)(res, ct);
      if (!Array.isArray(r) || r.length !== argDefs.length) {
        throw traceError(`customVjp bwd of ${fnName(f)} must return a list with one cotangent per positional argument (${argDefs.length}), got ${Array.isArray(r) ? `a list of ${r.length}` : typeof r}`);
      }
      const leaves: unknown[] = [];
      let at = 0;
      r.forEach((ri, a) => {
        const count = leafCount(argDefs[a]);
        const want = avals.slice(at, at + count);
        at += count;
        if (ri === null || ri === undefined) {
          for (const w of want) leaves.push(lax.constant(w.dtype, w.shape, 0));
          return;
        }
        const got = flatten(ri, true).leaves;
        if (got.length !== count) throw traceError(`customVjp bwd of ${fnName(f)}: the cotangent of argument ${a} has ${got.length} arrays, the argument ${count}`);
        got.forEach((g, k) => {
          const ga = avalOf(g);
          if (isFloat(want[k].dtype) && !sameAval({ ...ga, dtype: typeof g === 'number' ? want[k].dtype : ga.dtype }, want[k])) {
            throw traceError(`customVjp bwd of ${fnName(f)}: the cotangent of argument ${a} is ${describe(ga)} where the argument is ${describe(want[k])}`);
          }
          leaves.push(typeof g === 'number' || !isFloat(want[k].dtype) ? lax.constant(want[k].dtype, want[k].shape, typeof g === 'number' && isFloat(want[k].dtype) ? g : 0) : g);
        });
      });
      return leaves;
    };
    const tbwd = traceFlat(bwdFlat, { kind: 'list', children: [resDef, tf.outDef] }, [...resAvals, ...outAvals]);
    const capBwd = addCaptured(c, tbwd);
    const rule: CustomRule = {
      kind: 'customVjp',
      what: `customVjp(${fnName(f)})`,
      primal: overOperands(tf.module, [], c.types, [...explicit, ...capF]),
      fwd: overOperands(tfwd.module, [], c.types, [...explicit, ...capFwd]),
      nOut,
      bwd: overOperands(tbwd.module, [...resAvals, ...outAvals].map(typeOf), c.types, capBwd,
        (e) => c.types.slice(n).map((t) => e.zeros(t))),
    };
    return finishCall(rule, c, tf);
  };
  call.defvjp = (fw, bw) => {
    fwd = fw as never;
    bwd = bw as never;
    return call;
  };
  return call;
}

/** JAX's `jax.custom_jvp`: `f` whose derivative is given by a JVP rule (see {@link CustomJvpFunction}). */
export function customJvp<F extends Fn>(f: F): CustomJvpFunction<F> {
  let rule: ((p: never, t: never) => [unknown, unknown]) | undefined;
  const call = ruleCall('customJvp', f,
    () => (rule ? undefined : `no JVP defined for customJvp function ${fnName(f)}: call .defjvp(rule) first`),
    (args) => traceJvpCall(args)) as unknown as CustomJvpFunction<F>;
  const traceJvpCall = (args: unknown[]): unknown => {
    const { c, tf, explicit, captured: capF } = beginCall(f, args);
    const { def, avals } = c;
    const n = avals.length;
    const tanAvals = avals.map((a) => ({ ...a, weak: false }));
    const tr = traceFlat(rule!, { kind: 'list', children: [def, def] }, [...avals, ...tanAvals]);
    if (tr.outDef.kind !== 'list' || tr.outDef.children.length !== 2) throw traceError(`customJvp rule of ${fnName(f)} must return a pair [out, outTangent]`);
    const nOut = tf.outAvals.length;
    checkLike(`customJvp rule of ${fnName(f)}: its primal output`, tr.outDef.children[0], tr.outAvals.slice(0, nOut), tf);
    checkLike(`customJvp rule of ${fnName(f)}: its tangent output`, tr.outDef.children[1], tr.outAvals.slice(nOut), tf);
    const capRule = addCaptured(c, tr);
    // The rule's module over [operands..., one tangent per operand...].
    const b = new GraphBuilder();
    const ops: Value[] = c.types.map((type) => ({ type }));
    const tans: Value[] = c.types.map((type) => ({ type }));
    const jvp = b.finish([...ops, ...tans], inlineModule(b, tr.module, [...explicit.map((i) => ops[i]), ...explicit.map((i) => tans[i]), ...capRule.map((i) => ops[i])]));
    const r: CustomRule = {
      kind: 'customJvp',
      what: `customJvp(${fnName(f)})`,
      primal: overOperands(tf.module, [], c.types, [...explicit, ...capF]),
      jvp,
    };
    return finishCall(r, c, tf);
  };
  call.defjvp = (r) => {
    rule = r as never;
    return call;
  };
  return call;
}

/**
 * JAX's `jax.checkpoint` (remat): the same function, whose forward ops are recomputed in the
 * backward pass of reverse mode instead of being kept from the forward pass (less memory, more
 * compute). JAX's `policy` and `prevent_cse` options are not offered: nothing is saved, and the
 * recomputation is always protected from common subexpression elimination.
 */
export function checkpoint<F extends Fn>(f: F): F {
  return ((...args: unknown[]) =>
    apiCall('checkpoint', () => {
      if (!currentTrace()) return (f as unknown as (...a: unknown[]) => unknown)(...args);
      const { c, tf, explicit, captured: capF } = beginCall(f, args);
      return finishCall({ kind: 'checkpoint', what: `checkpoint(${fnName(f)})`, primal: overOperands(tf.module, [], c.types, [...explicit, ...capF]) }, c, tf);
    })) as unknown as F;
}

/** JAX's `jax.remat`, the older name of {@link checkpoint}. */
export const remat = checkpoint;

