/**
 * @file `jit`, `lower`, and the eager path of every public op.
 *
 * `jit(f)` traces `f` once per input signature (the pytree structure and static leaves of the
 * arguments, plus each leaf's shape, dtype and weak-type flag) and keeps the traced module; calls
 * with a known signature skip tracing and run the cached executable. JS numbers among the arguments
 * are weakly typed f32 scalar inputs whatever their value (JS has one number type): changing their
 * value does not retrace. `staticArgnums` makes arguments part of the signature
 * instead (their values are baked into the program, like JAX's `static_argnums`).
 *
 * Eager ops: each public op is defined by {@link defop}. Inside a trace it records its ops
 * directly; outside one it is traced on its own, cached by signature like a tiny `jit`, and run.
 */
import type { Module } from '../ir/types.js';
import { printModule } from '../ir/print.js';
import { KArray } from './array.js';
import { flatten, unflatten, type TreeDef } from './pytree.js';
import { apiCall, traceError } from './site.js';
import {
  avalKey, avalOf, callTraced, currentTrace, literalAval, traceFlat, type AbstractValue, type Traced,
} from './trace.js';

/** Options of {@link jit} and {@link lower}. */
export interface JitOptions {
  /** Argument positions whose values (numbers, strings, options objects) are compile-time constants. */
  staticArgnums?: readonly number[];
  /** The name of the module's entry function (default `main`). */
  name?: string;
}

/** A jitted function: call it like `f`, or `lower` it to see its StableHLO. */
export interface Jitted<F extends (...args: never[]) => unknown> {
  (...args: Parameters<F>): ReturnType<F>;
  /** The StableHLO that a call with these arguments runs. */
  lower(...args: Parameters<F>): Lowered;
  /** How many signatures have been traced. */
  readonly cacheSize: number;
  /** Drops the traced programs (e.g. after arrays the function closes over were disposed). */
  clearCache(): void;
  /** The function being jitted. */
  readonly fn: F;
}

/** A traced program: its StableHLO text and module, and its input and output types. */
export interface Lowered {
  /** The module as StableHLO text (what `parseModule` reads and a kiln server compiles). */
  readonly text: string;
  /** The text with each op's `loc("file.ts":line:col)`: the user's call site that recorded it. */
  asText(opts?: { locations?: boolean }): string;
  readonly module: Module;
  readonly inputs: readonly AbstractValue[];
  readonly outputs: readonly AbstractValue[];
  readonly traced: Traced;
}

export interface FlatArgs {
  def: TreeDef;
  key: string;
  leaves: (KArray | number)[];
}

/** Flattens an argument list: numbers are leaves except at `staticPositions`. */
export function flattenArgs(args: readonly unknown[], isDynamic: (i: number) => boolean): FlatArgs {
  const children: TreeDef[] = [];
  const keys: string[] = [];
  const leaves: (KArray | number)[] = [];
  args.forEach((a, i) => {
    const f = flatten(a, isDynamic(i));
    children.push(f.def);
    keys.push(f.key);
    for (const l of f.leaves) leaves.push(l);
  });
  return { def: { kind: 'list', children }, key: keys.join('|'), leaves };
}

function signature(flat: FlatArgs, aval: (l: KArray | number) => AbstractValue = avalOf): { key: string; avals: AbstractValue[] } {
  const avals = flat.leaves.map(aval);
  return { key: `${flat.key}::${avals.map(avalKey).join(';')}`, avals };
}

/**
 * Compiles `f` for each input signature it is called with. The result runs on the default device;
 * calling it returns Arrays at once (the work is queued; `await y.data()` waits). Inside another
 * trace (a jitted function calling a jitted function, or `grad` of one) it is inlined.
 */
export function jit<F extends (...args: never[]) => unknown>(f: F, opts: JitOptions = {}): Jitted<F> {
  const statics = checkJit('jit', f, opts);
  const cache = new Map<string, Traced>();
  const tracedFor = (args: readonly unknown[]): { t: Traced; flat: FlatArgs } => {
    const flat = flattenArgs(args, (i) => !statics.has(i));
    const { key, avals } = signature(flat);
    let t = cache.get(key);
    if (!t) {
      t = traceFlat(f, flat.def, avals, opts.name);
      cache.set(key, t);
    }
    return { t, flat };
  };
  const jitted = ((...args: unknown[]) => {
    if (!currentTrace()) {
      // A signature traced before records no op, so the call needs no call site: it skips
      // apiCall's stack capture, the largest host cost of a small call after the GPU's own.
      const flat = flattenArgs(args, (i) => !statics.has(i));
      const t = cache.get(signature(flat).key);
      if (t) return unflatten(t.outDef, callTraced(t, flat.leaves));
    }
    return apiCall('jit', () => {
      if (currentTrace()) return (f as unknown as (...a: unknown[]) => unknown)(...args);
      const { t, flat } = tracedFor(args);
      return unflatten(t.outDef, callTraced(t, flat.leaves));
    });
  }) as unknown as Jitted<F>;
  Object.defineProperties(jitted, {
    lower: { value: (...args: unknown[]) => apiCall('lower', () => lowered(tracedFor(args).t)) },
    cacheSize: { get: () => cache.size },
    clearCache: { value: () => cache.clear() },
    fn: { value: f },
  });
  return jitted;
}

/** Checks `jit(f, opts)`'s arguments (JS callers have no types); returns the static positions. */
function checkJit(name: string, f: unknown, opts: unknown): Set<number> {
  return apiCall(name, () => {
    if (typeof f !== 'function') throw traceError(`the first argument must be a function, got ${f === null ? 'null' : typeof f}`);
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw traceError('options must be an object such as {staticArgnums: [1]}');
    for (const k of Object.keys(opts)) {
      if (k !== 'staticArgnums' && k !== 'name') throw traceError(`unknown option '${k}'; the options are staticArgnums, name`);
    }
    const { staticArgnums, name: fname } = opts as JitOptions;
    const list = typeof staticArgnums === 'number' ? [staticArgnums] : staticArgnums ?? [];
    if (!Array.isArray(list) || !list.every((i) => Number.isInteger(i) && i >= 0)) {
      throw traceError(`staticArgnums must be a non-negative integer or a list of them, got ${JSON.stringify(staticArgnums)}`);
    }
    if (fname !== undefined && typeof fname !== 'string') throw traceError(`name must be a string, got ${typeof fname}`);
    return new Set(list as number[]);
  });
}

function lowered(t: Traced): Lowered {
  let text: string | undefined;
  return {
    get text() { return (text ??= printModule(t.module)); },
    asText: (opts: { locations?: boolean } = {}) => printModule(t.module, opts),
    module: t.module,
    inputs: t.inAvals,
    outputs: t.outAvals,
    traced: t,
  };
}

/**
 * `lower(f)(...args)`: traces `f` (or a jitted function) on the arguments' types and returns its
 * StableHLO. Nothing runs, and no device is needed.
 */
export function lower<F extends (...args: never[]) => unknown>(f: F | Jitted<F>, opts: JitOptions = {}): (...args: Parameters<F>) => Lowered {
  const statics = checkJit('lower', f, opts);
  const fn = ((f as Jitted<F>).fn ?? f) as F;
  return ((...args: unknown[]) =>
    apiCall('lower', () => {
      const flat = flattenArgs(args, (i) => !statics.has(i));
      return lowered(traceFlat(fn, flat.def, signature(flat).avals, opts.name));
    })) as (...args: Parameters<F>) => Lowered;
}

/**
 * Defines a public op `name` from a function that records ops (through client/lax). Positions in
 * `dataArgs` take JS numbers as weakly typed data (so `np.add(x, 0.5)` and `np.add(x, 0.25)` share
 * one program); numbers elsewhere are static (axes, shapes) and part of the cache key. An integral
 * number is traced as a literal weak i32 (see `literalAval`) so that the eager op promotes it as
 * the traced op promotes the JS number itself: `np.add(i32Array, 1)` is i32 both ways.
 */
export function defop<F extends (...args: never[]) => unknown>(name: string, fn: F, dataArgs: readonly number[] = []): F {
  const cache = new Map<string, Traced>();
  const data = new Set(dataArgs);
  const call = fn as unknown as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown =>
    apiCall(name, () => {
      if (currentTrace()) return call(...args);
      const flat = flattenArgs(args, (i) => data.has(i));
      const { key, avals } = signature(flat, (l) => (typeof l === 'number' ? literalAval(l) : avalOf(l)));
      let t = cache.get(key);
      if (!t) {
        t = traceFlat(fn, flat.def, avals, 'main', false);
        cache.set(key, t);
      }
      return unflatten(t.outDef, callTraced(t, flat.leaves));
    });
  Object.defineProperty(wrapped, 'name', { value: name.replace(/^.*\./, '') });
  return wrapped as unknown as F;
}
