/**
 * @file The public control-flow ops: `whileLoop`, `foriLoop`, `scan`, `map`, `cond` and `switch`,
 * lowered as JAX lowers them (jax/_src/lax/control_flow): a loop is one `stablehlo.while` whose
 * regions are the traced condition and body; `scan` is a while over an i32 counter from 0 to the
 * trip count (so the compiler and autodiff see a counted loop) that slices `xs` with
 * `dynamic_slice` and writes `ys` with `dynamic_update_slice`; `cond` and `switch` are one
 * `stablehlo.case` whose branches are the traced functions.
 *
 * Carries and operands are pytrees (client/pytree.ts); JS numbers in them are weakly typed
 * scalars. The functions may close over Arrays and over tracers of an enclosing `jit`/`grad`: the
 * regions read them by reference (client/lax/region.ts). Outside any trace each op is traced and
 * run once.
 */
import { isInteger, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import * as prim from '../lax.js';
import { asArray, resultType } from '../numpy/promote.js';
import { flatten, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { emit, scalarArray, tracer, valueOf, type AbstractValue } from '../trace.js';
import {
  callUser, castTo, checkCarry, leavesOf, promoteWeakCarry, runOp, sameDef, showAval, showDef, traceRegion, typeMatch,
  type TracedRegion,
} from './region.js';

const none = {} as Record<string, never>;

function avalOf(x: KArray): AbstractValue {
  return { shape: x.shape, dtype: x.dtype, weak: x.weak };
}

function i32(v: number): KArray {
  return prim.constant('i32', [], v);
}

// ---- while_loop ---------------------------------------------------------------------------------

/**
 * `lax.whileLoop(condFun, bodyFun, initVal)`: `while (condFun(c)) c = bodyFun(c); return c;` as
 * one `stablehlo.while`. `condFun` returns a boolean scalar Array; `bodyFun` returns a carry of
 * `initVal`'s structure and types (a weakly typed JS number in `initVal` is promoted to the type
 * the body gives it, as JAX does). Not reverse-differentiable (the trip count is not known when
 * tracing): use `scan` or `foriLoop` with JS-number bounds for that.
 */
export function whileLoop<C>(condFun: (carry: C) => unknown, bodyFun: (carry: C) => C, initVal: C): C {
  return runOp('lax.whileLoop', initVal, (init: C) => whileImpl(condFun, bodyFun, init));
}

function whileImpl<C>(condFun: (carry: C) => unknown, bodyFun: (carry: C) => C, init: C): C {
  const { def, leaves } = leavesOf(init);
  let avals = leaves.map(avalOf);
  let body: TracedRegion<TreeDef>;
  for (;;) {
    body = traceRegion(avals, (args) => {
      const out = flatten(callUser(bodyFun, unflatten(def, args)), true);
      return { results: out.leaves, extra: out.def };
    });
    if (!sameDef(def, body.extra)) checkCarry('body_fun', 'loop_carry', def, avals, body.extra, body.outAvals);
    const promoted = promoteWeakCarry(avals, body.outAvals);
    if (!promoted) break;
    avals = promoted;
  }
  checkCarry('body_fun', 'loop_carry', def, avals, body.extra, body.outAvals);
  const cond = traceRegion(avals, (args) => {
    const out = callUser(condFun, unflatten(def, args));
    const p = typeof out === 'boolean' ? prim.constant('i1', [], out ? 1 : 0) : out;
    const bad = !(p && typeof p === 'object' && 'dtype' in p) || (p as KArray).dtype !== 'i1' || (p as KArray).shape.length !== 0;
    if (bad) {
      const f = flatten(out, true);
      const types = f.leaves.map((l) => (typeof l === 'number' ? `number ${l}` : showAval(avalOf(l))));
      throw traceError(`cond_fun must return a boolean scalar, but got output type(s) [${types.join(', ') || showDef(f.def)}]`);
    }
    return { results: [p as KArray], extra: null };
  });
  const operands = leaves.map((x, i) => valueOf(castTo(x, avals[i])));
  const res = emit(Op.While, operands, none, { regions: [cond.region, body.region] });
  return unflatten<C>(def, res.map((v, i) => tracer(v, body.outAvals[i].weak ?? false)));
}

// ---- fori_loop ----------------------------------------------------------------------------------

/** Options of {@link foriLoop}. */
export interface ForiOptions {
  /** Body copies per loop iteration (`true`: the whole loop); only with JS-number bounds. */
  unroll?: number | boolean;
}

/**
 * `lax.foriLoop(lower, upper, bodyFun, initVal)`: `for (i = lower; i < upper; i++) c = bodyFun(i, c)`.
 * With JS-number bounds it is a `scan` with a counter in the carry (as JAX lowers it), so reverse
 * mode differentiates it; with Array bounds it is a `whileLoop`, which reverse mode refuses.
 */
export function foriLoop<C>(lower: number | KArray, upper: number | KArray, bodyFun: (i: KArray, carry: C) => C, initVal: C, opts: ForiOptions = {}): C {
  return apiCall('lax.foriLoop', () => {
    if (typeof lower === 'number' && typeof upper === 'number') {
      if (!Number.isInteger(lower) || !Number.isInteger(upper)) throw traceError(`the bounds must be integers, got ${lower} and ${upper}`);
      const length = Math.max(0, upper - lower);
      const step = ([i, x]: [KArray, C]): [[KArray, C], null] => [[prim.binary(Op.Add, i, prim.withWeak(i32(1), i.weak)), callUser(bodyFun, i, x)], null];
      // The counter is a weakly typed i32, as a Python int bound gives in JAX (a JS number alone
      // would be a weak f32).
      const [[, out]] = scan(step, [scalarArray(lower, 'i32'), initVal] as [KArray, C], null, { length, unroll: opts.unroll });
      return out;
    }
    if (opts.unroll !== undefined) throw traceError('Can only use `unroll` in `fori_loop` if the loop bounds are statically known.');
    const bound = (b: KArray | number): KArray | number => {
      if (typeof b !== 'number') return b;
      if (!Number.isInteger(b)) throw traceError(`the bounds must be integers, got ${b}`);
      return scalarArray(b, 'i32');
    };
    return runOp('lax.foriLoop', [bound(lower), bound(upper), initVal], ([lo, hi, init]: [KArray | number, KArray | number, C]) => {
      const [l, u] = [asArray(lo), asArray(hi)];
      for (const b of [l, u]) {
        if (b.shape.length !== 0 || !isInteger(b.dtype)) throw traceError(`the bounds must be integer scalars, got ${showAval(avalOf(b))}`);
      }
      const rt = resultType(l, u);
      const [lc, uc] = [prim.convert(l, rt.dtype, rt.weak), prim.convert(u, rt.dtype, rt.weak)];
      const out = whileLoop(
        ([i, hiv]: [KArray, KArray, C]) => prim.compare('LT', i, hiv),
        ([i, hiv, x]: [KArray, KArray, C]): [KArray, KArray, C] => [prim.binary(Op.Add, i, prim.withWeak(prim.constant(i.dtype, [], 1), i.weak)), hiv, callUser(bodyFun, i, x)],
        [lc, uc, init] as [KArray, KArray, C],
      );
      return out[2];
    });
  });
}

// ---- scan -----------------------------------------------------------------------------------------

/** Options of {@link scan}. */
export interface ScanOptions {
  /** The number of steps; required when `xs` is null, else it must equal `xs`'s leading size. */
  length?: number;
  /** Walk `xs` from the end (`ys` are still stored at the index of their `x`). */
  reverse?: boolean;
  /** Body copies per loop iteration; `true` unrolls the whole loop into straight-line code. */
  unroll?: number | boolean;
}

type ScanBody<C, X, Y> = (carry: C, x: X) => readonly [C, Y] | [C, Y];

/**
 * `lax.scan(f, init, xs, {length, reverse, unroll})` returns `[carry, ys]`: `f(carry, x)` is
 * applied to each slice `x` of `xs` along its leading axis (a pytree, or null with `length`) and
 * returns `[carry, y]`; the `y`s are stacked along a new leading axis. The carry must keep its
 * structure and types. Lowered to a counted `stablehlo.while` (reverse mode unrolls it).
 */
export function scan<C, X, Y>(f: ScanBody<C, X, Y>, init: C, xs: X | null | undefined, opts: ScanOptions = {}): [C, Y] {
  return runOp('lax.scan', [init, xs ?? null], ([c, x]: [C, X]) => scanImpl(f, c, x, opts));
}

function splitPair(out: unknown): [unknown, unknown] {
  if (!Array.isArray(out) || out.length !== 2) {
    throw traceError(`scan body output must be a pair [carry, y], got ${Array.isArray(out) ? `a list of ${out.length}` : typeof out}`);
  }
  return [out[0], out[1]];
}

function scanLength(xleaves: readonly (KArray | number)[], length: number | undefined): number {
  const sizes: number[] = [];
  for (const l of xleaves) {
    if (typeof l === 'number' || l.shape.length === 0) {
      throw traceError(`scan got value with no leading axis to scan over: ${typeof l === 'number' ? l : showAval(avalOf(l))}`);
    }
    sizes.push(l.shape[0]);
  }
  const distinct = [...new Set(sizes)];
  if (distinct.length > 1) throw traceError(`scan got values with different leading axis sizes: ${sizes.join(', ')}`);
  if (length !== undefined) {
    if (!Number.isInteger(length) || length < 0) throw traceError(`scan got \`length\` argument of ${length}, which is not a non-negative integer`);
    if (distinct.length && distinct[0] !== length) {
      throw traceError(`scan got \`length\` argument of ${length} which disagrees with leading axis sizes ${distinct[0]}`);
    }
    return length;
  }
  if (!distinct.length) throw traceError('scan got no values to scan over and `length` not provided');
  return distinct[0];
}

function unrollFactor(unroll: number | boolean | undefined, length: number): number {
  if (unroll === true) return Math.max(length, 1);
  if (unroll === undefined || unroll === false) return 1;
  if (!Number.isInteger(unroll) || unroll < 1) throw traceError(`unroll must be a positive integer or a boolean, got ${unroll}`);
  return unroll;
}

/** Slice `idx` of `x` along its leading axis, without that axis. */
function sliceAt(x: KArray, idx: KArray | number): KArray {
  const rest = x.shape.slice(1);
  if (typeof idx === 'number') {
    return prim.reshape(prim.slice(x, [idx, ...rest.map(() => 0)], [idx + 1, ...rest]), rest);
  }
  const starts = [idx, ...rest.map(() => i32(0))].map(valueOf);
  const v = emit(Op.DynamicSlice, [valueOf(x), ...starts], { sliceSizes: [1, ...rest] })[0];
  return prim.reshape(tracer(v, x.weak), rest);
}

/** `buf` with row `idx` (of its leading axis) replaced by `y`. */
function writeAt(buf: KArray, y: KArray, idx: KArray | number): KArray {
  const rest = buf.shape.slice(1);
  const row = prim.reshape(prim.convert(y, buf.dtype, buf.weak), [1, ...rest]);
  const starts = [typeof idx === 'number' ? i32(idx) : idx, ...rest.map(() => i32(0))].map(valueOf);
  return tracer(emit(Op.DynamicUpdateSlice, [valueOf(buf), valueOf(row), ...starts], none)[0], buf.weak);
}

function scanImpl<C, X, Y>(f: ScanBody<C, X, Y>, init: C, xs: X, opts: ScanOptions): [C, Y] {
  const { def: cdef, leaves: cleaves } = leavesOf(init);
  const xflat = flatten(xs, true);
  const length = scanLength(xflat.leaves, opts.length);
  const xleaves = xflat.leaves as KArray[];
  const xAvals = xleaves.map((x) => ({ ...avalOf(x), shape: x.shape.slice(1) }));
  const nc = cleaves.length;
  const reverse = opts.reverse ?? false;

  // One step of the body, traced into whatever trace is current.
  const apply = (carry: readonly KArray[], x: readonly KArray[]) => {
    const [c, y] = splitPair(callUser(f as (c: unknown, x: unknown) => unknown, unflatten(cdef, carry), unflatten(xflat.def, x)));
    const cf = flatten(c, true);
    const yf = flatten(y, true);
    return { cdef: cf.def, carry: cf.leaves.map((l) => asArray(l)), ydef: yf.def, ys: yf.leaves.map((l) => asArray(l)) };
  };

  // A first trace (discarded) finds the carry types after weak-type promotion, and y's type.
  let cavals = cleaves.map(avalOf);
  let probe: TracedRegion<{ cdef: TreeDef; ydef: TreeDef; nOut: number }>;
  for (;;) {
    probe = traceRegion([...cavals, ...xAvals], (args) => {
      const r = apply(args.slice(0, nc), args.slice(nc));
      return { results: [...r.carry, ...r.ys], extra: { cdef: r.cdef, ydef: r.ydef, nOut: r.carry.length } };
    });
    const outC = probe.outAvals.slice(0, probe.extra.nOut);
    if (!sameDef(cdef, probe.extra.cdef)) checkCarry('scan body function carry', 'carry', cdef, cavals, probe.extra.cdef, outC);
    const promoted = promoteWeakCarry(cavals, outC);
    if (!promoted) break;
    cavals = promoted;
  }
  const outCAvals = probe.outAvals.slice(0, nc);
  checkCarry('scan body function carry', 'carry', cdef, cavals, probe.extra.cdef, outCAvals);
  const yAvals = probe.outAvals.slice(nc);
  const ydef = probe.extra.ydef;

  // Each step sees the carry with the input types (so every trace of the body is the same) and
  // returns it with the output's weak flags; ys are checked against the first trace's.
  const step = (carry: readonly KArray[], idx: KArray | number) => {
    const r = apply(carry.map((c, i) => castTo(c, cavals[i])), xleaves.map((x) => sliceAt(x, idx)));
    checkCarry('scan body function carry', 'carry', cdef, cavals, r.cdef, r.carry.map(avalOf));
    r.ys.forEach((y, k) => {
      if (!typeMatch(avalOf(y), yAvals[k])) throw traceError(`scan body function returned ${showAval(avalOf(y))} for y, ${showAval(yAvals[k])} when first traced`);
    });
    return { carry: r.carry.map((c, i) => castTo(c, outCAvals[i])), ys: r.ys };
  };
  const at = (s: number) => (reverse ? length - 1 - s : s);

  let carry = cleaves.map((c, i) => castTo(c, outCAvals[i]));
  let ys = yAvals.map((a) => prim.withWeak(prim.constant(a.dtype as SupportedDType, [length, ...a.shape], 0), a.weak ?? false));
  const unroll = unrollFactor(opts.unroll, length);
  const looped = unroll >= length ? 0 : Math.floor(length / unroll) * unroll;
  if (looped > 0) {
    const loopAvals: AbstractValue[] = [{ shape: [], dtype: 'i32' }, ...cavals, ...ys.map(avalOf)];
    const cond = traceRegion(loopAvals, ([i]) => ({ results: [prim.compare('LT', i, i32(looped))], extra: null }));
    const body = traceRegion(loopAvals, (args) => {
      const i = args[0];
      let c: KArray[] = args.slice(1, 1 + nc);
      let bufs = args.slice(1 + nc);
      for (let j = 0; j < unroll; j++) {
        const s = j === 0 ? i : prim.binary(Op.Add, i, i32(j));
        const idx = reverse ? prim.binary(Op.Subtract, i32(length - 1), s) : s;
        const r = step(c, idx);
        c = r.carry.map((v, k) => castTo(v, cavals[k]));
        bufs = bufs.map((b, k) => writeAt(b, r.ys[k], idx));
      }
      return { results: [prim.binary(Op.Add, i, i32(unroll)), ...c, ...bufs], extra: null };
    });
    const operands = [i32(0), ...carry.map((c, k) => castTo(c, cavals[k])), ...ys].map(valueOf);
    const res = emit(Op.While, operands, none, { regions: [cond.region, body.region] });
    carry = res.slice(1, 1 + nc).map((v, k) => tracer(v, outCAvals[k].weak ?? false));
    ys = res.slice(1 + nc).map((v, k) => tracer(v, yAvals[k].weak ?? false));
  }
  // Steps the loop did not take (all of them when unrolled): straight-line code with static indices.
  for (let s = looped; s < length; s++) {
    const r = step(carry, at(s));
    carry = r.carry;
    ys = ys.map((b, k) => writeAt(b, r.ys[k], at(s)));
  }
  return [unflatten<C>(cdef, carry), unflatten<Y>(ydef, ys)];
}

/**
 * `lax.map(f, xs)`: `f` applied to each slice of `xs` along its leading axis, the results stacked
 * (a `scan` without a carry).
 */
export function map<X, Y>(f: (x: X) => Y, xs: X): Y {
  return apiCall('lax.map', () => scan((c: [], x: X): [[], Y] => [c, callUser(f, x)], [] as [], xs)[1]);
}

// ---- cond and switch -------------------------------------------------------------------------------

/**
 * `lax.cond(pred, trueFun, falseFun, ...operands)`: `pred ? trueFun(...operands) :
 * falseFun(...operands)`, both branches traced and lowered to a two-branch `stablehlo.case` on
 * `pred` as i32 (JAX's lowering). `pred` is a boolean or integer scalar (an integer means `!= 0`),
 * or a JS boolean. The branches must return the same structure and types.
 */
export function cond<R>(pred: KArray | boolean | number, trueFun: (...operands: never[]) => R, falseFun: (...operands: never[]) => R, ...operands: unknown[]): R {
  return runOp('lax.cond', [pred, operands], ([p, ops]: [KArray | boolean | number, unknown[]]) => {
    let index: KArray;
    if (typeof p === 'boolean') {
      index = i32(p ? 1 : 0);
    } else {
      const a = asArray(p);
      if (a.shape.length !== 0) throw traceError(`Pred must be a scalar, got ${showAval(avalOf(a))}`);
      if (a.dtype === 'i1') index = prim.convert(a, 'i32');
      else if (isInteger(a.dtype)) index = prim.convert(prim.compare('NE', a, prim.constant(a.dtype, [], 0)), 'i32');
      else throw traceError(`Pred type must be either boolean or number, got ${showAval(avalOf(a))}`);
    }
    return branchesImpl<R>(index, [falseFun, trueFun], ops, 'cond');
  });
}

/**
 * `lax.switch(index, branches, ...operands)`: `branches[clamp(index, 0, n - 1)](...operands)`, as
 * one `stablehlo.case` (the index is clamped first, as JAX does). Every branch must return the same
 * structure and types.
 */
export function switchOp<R>(index: KArray | number, branches: readonly ((...operands: never[]) => R)[], ...operands: unknown[]): R {
  // A JS-number index is a weak i32, as a Python int is in JAX (a JS number alone is a weak f32).
  if (typeof index === 'number') {
    if (!Number.isInteger(index)) throw traceError(`Index type must be an integer, got ${index}`);
    index = scalarArray(index, 'i32');
  }
  return runOp('lax.switch', [index, operands], ([idx, ops]: [KArray | number, unknown[]]) => {
    if (branches.length === 0) throw traceError('Empty branch sequence');
    const a = asArray(idx);
    if (a.shape.length !== 0) throw traceError(`Branch index must be scalar, got ${showAval(avalOf(a))}`);
    if (!isInteger(a.dtype)) throw traceError(`Index type must be an integer, got ${showAval(avalOf(a))}`);
    if (branches.length === 1) return callUser(branches[0], ...ops);
    const i = prim.convert(a, 'i32');
    const clamped = tracer(emit(Op.Clamp, [i32(0), i, i32(branches.length - 1)].map(valueOf), none)[0]);
    return branchesImpl<R>(clamped, branches, ops, 'switch');
  });
}

function branchesImpl<R>(index: KArray, fns: readonly ((...operands: never[]) => R)[], operands: unknown[], kind: 'cond' | 'switch'): R {
  const { def, leaves } = leavesOf(operands);
  const args = unflatten<unknown[]>(def, leaves);
  const traced = fns.map((fn) => traceRegion([], () => {
    const out = flatten(callUser(fn, ...args), true);
    return { results: out.leaves, extra: out.def };
  }));
  // cond's branches are [false, true]; JAX's messages compare true_fun with false_fun.
  const pairs = kind === 'cond' ? [[1, 0]] : traced.slice(1).map((_, i) => [0, i + 1]);
  for (const [a, b] of pairs) {
    const [ta, tb] = [traced[a], traced[b]];
    const what = kind === 'cond' ? 'true_fun and false_fun output' : `branch ${a} and ${b} outputs`;
    if (!sameDef(ta.extra, tb.extra)) throw traceError(`${what} must have same type structure, got ${showDef(ta.extra)} and ${showDef(tb.extra)}`);
    if (!ta.outAvals.every((x, i) => typeMatch(x, tb.outAvals[i]))) {
      const diff = showDef(ta.extra, (i) => (typeMatch(ta.outAvals[i], tb.outAvals[i]) ? showAval(ta.outAvals[i]) : `DIFFERENT ${showAval(ta.outAvals[i])} vs. ${showAval(tb.outAvals[i])}`));
      throw traceError(`${what} must have identical types, got\n${diff}`);
    }
  }
  const res = emit(Op.Case, [valueOf(index)], none, { regions: traced.map((t) => t.region) });
  return unflatten<R>(traced[0].extra, res.map((v, i) => tracer(v, traced.every((t) => t.outAvals[i].weak))));
}

