/**
 * @file Jacobians and Hessians: `jacfwd`, `jacrev` (= `jacobian`) and `hessian`, with JAX's
 * signatures and output layout (each block is `out.shape + in.shape`, nested as the output pytree
 * of argument pytrees).
 *
 * Both build one module: `jacfwd` batches the JVP module (client/autodiff/jvp.ts) over the standard
 * basis of the inputs with the vmap transform, `jacrev` batches the VJP module over the standard
 * basis of the outputs, as JAX does with `vmap(jvp)` and `vmap(vjp)`. Where the batching
 * transform lacks a rule for some op, the basis is walked one vector at a time inside the same
 * module instead (correct, and larger).
 */
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { mainFunc, numElements, type Module, type Value } from '../../ir/types.js';
import { eliminateDeadCode } from '../../compiler/passes/dce.js';
import type { KArray } from '../array.js';
import { GraphBuilder } from '../builder.js';
import { flattenArgs } from '../jit.js';
import { leafCount, unflatten, type TreeDef } from '../pytree.js';
import { apiCall, traceError } from '../site.js';
import { avalKey, avalOf, callModule, currentTrace, inlineModule, scalarArray, traceFlat, type Traced } from '../trace.js';
import { vmapModule } from '../vmap/vmap.js';
import { Emitter, range } from './emit.js';
import { argDef, argnumList, argRanges, auxSplit } from './index.js';
import { jvpModule } from './jvp.js';
import { vjpModule } from './vjp.js';

type Fn = (...args: never[]) => unknown;

/** Options of {@link jacfwd}, {@link jacrev} and {@link hessian}. */
export interface JacobianOptions {
  /** Which positional arguments to differentiate: one index (default 0) or several. */
  argnums?: number | readonly number[];
  /** `f` returns `[out, aux]`; the result is `[jacobian, aux]`. */
  hasAux?: boolean;
}

/** The most basis vectors a Jacobian walks one at a time when vmap cannot batch its module. */
export const MAX_UNBATCHED_BASIS = 256;

interface Prepared {
  t: Traced;
  module: Module;
  nOut: number;
}

/**
 * `m` batched over a new leading axis of length `size` on the arguments marked `true`, every
 * output batched at axis 0: through the vmap transform, or, for an op it has no rule for, by
 * running `m` once per index and stacking.
 */
function batchOverBasis(m: Module, batched: readonly boolean[], size: number): Module {
  const nOut = mainFunc(m).resultTypes.length;
  try {
    return vmapModule(m, batched.map((x) => (x ? 0 : null)), range(nOut).map(() => 0), size);
  } catch (err) {
    if (!(err instanceof UnsupportedOpError)) throw err;
    // One copy of the module per basis vector: fine for small Jacobians, not for large ones.
    if (size > MAX_UNBATCHED_BASIS) {
      throw new UnsupportedOpError(`${err.detail} (needed to batch a Jacobian over ${size} basis vectors; without batching at most ${MAX_UNBATCHED_BASIS} are computed one by one)`, err.loc);
    }
  }
  const main = mainFunc(m);
  const b = new GraphBuilder();
  const e = new Emitter(b);
  const args: Value[] = main.args.map((a, i) => ({ type: batched[i] ? { dtype: a.type.dtype, shape: [size, ...a.type.shape] } : a.type }));
  const rows = range(size).map((k) => inlineModule(b, m, args.map((a, i) => {
    if (!batched[i]) return a;
    const s = a.type.shape;
    return e.reshape(e.slice(a, s.map((_, d) => (d === 0 ? k : 0)), s.map((n, d) => (d === 0 ? k + 1 : n))), s.slice(1));
  })));
  const outs = range(nOut).map((j) => {
    const parts = rows.map((r) => e.reshape(r[j], [1, ...r[j].type.shape]));
    return parts.length === 1 ? parts[0] : b.emit1(Op.Concatenate, parts, { dim: 0 });
  });
  return b.finish(args, outs);
}

/**
 * The rows `[offset, offset + n)` of an identity of size `size`, shaped `[size, ...shape]`
 * (`n` = elements of `shape`): one block of the standard basis.
 */
function basisBlock(e: Emitter, size: number, offset: number, shape: readonly number[], dtype: SupportedDType): Value {
  const n = numElements(shape);
  const t = { dtype: 'i32' as const, shape: [size, n] };
  const row = e.b.emit1(Op.Iota, [], { dim: 0 }, { resultTypes: [t] });
  const col = e.add(e.b.emit1(Op.Iota, [], { dim: 1 }, { resultTypes: [t] }), e.full(t, offset));
  return e.reshape(e.convert(e.compare('EQ', row, col), dtype), [size, ...shape]);
}

/** Rows `[start, start + n)` of a `[size, ...]` value, reshaped to `[...lead, ...rest]`. */
function rowsAs(e: Emitter, v: Value, start: number, lead: readonly number[]): Value {
  const s = v.type.shape;
  const n = numElements(lead);
  const part = e.slice(v, s.map((_, d) => (d === 0 ? start : 0)), s.map((d, i) => (i === 0 ? start + n : d)));
  return e.reshape(part, [...lead, ...s.slice(1)]);
}

/** Traces `f`, checks the leaves being differentiated, and builds the Jacobian module (cached). */
function prepareJac(
  what: string, f: Fn, args: readonly unknown[], opts: JacobianOptions, cache: Map<string, Prepared>,
  build: (t: Traced, wrt: number[], nOut: number) => Module,
) {
  const flat = flattenArgs(args, () => true);
  const avals = flat.leaves.map(avalOf);
  const nums = argnumList(opts.argnums, args.length);
  const key = `${flat.key}::${avals.map(avalKey).join(';')}`;
  const cacheable = !currentTrace();
  let p = cacheable ? cache.get(key) : undefined;
  const ranges = argRanges(flat.def);
  const wrt = nums.flatMap((a) => range(ranges[a][1] - ranges[a][0], ranges[a][0]));
  if (!p) {
    for (const i of wrt) {
      if (!isFloat(avals[i].dtype)) throw traceError(`${what} requires float inputs, but argument leaf ${i} is ${avals[i].dtype}`);
    }
    const t = traceFlat(f, flat.def, avals);
    const nOut = opts.hasAux ? auxSplit(t.outDef) : t.outAvals.length;
    p = { t, module: eliminateDeadCode(build(t, wrt, nOut)), nOut };
    if (cacheable) cache.set(key, p);
  }
  const inputs = flat.leaves.map((l, i) => (typeof l === 'number' ? scalarArray(l, p!.t.inAvals[i].dtype) : l));
  return { p, inputs, nums, def: flat.def, ranges };
}

/**
 * Runs the Jacobian module and arranges its blocks (one per output leaf and differentiated input
 * leaf, output-major) as JAX does: the output's pytree, each leaf replaced by the differentiated
 * argument's pytree (a list of them when `argnums` is a list); with `hasAux`, `[jacobian, aux]`.
 */
function assemble(p: Prepared, inputs: readonly KArray[], nums: number[], def: TreeDef, ranges: [number, number][], opts: JacobianOptions): unknown {
  const res = callModule(p.module, [...inputs, ...p.t.captured]);
  const outDef = opts.hasAux ? (p.t.outDef as { children: TreeDef[] }).children[0] : p.t.outDef;
  const nIn = nums.reduce((s, a) => s + ranges[a][1] - ranges[a][0], 0);
  const perOut = range(p.nOut).map((i) => {
    let at = i * nIn;
    const perArg = nums.map((a) => {
      const n = ranges[a][1] - ranges[a][0];
      const tree = unflatten(argDef(def, a), res.slice(at, at + n));
      at += n;
      return tree;
    });
    return typeof opts.argnums === 'number' || opts.argnums === undefined ? perArg[0] : perArg;
  });
  const jac = unflatten(outDef, perOut);
  if (!opts.hasAux) return jac;
  const auxDef = (p.t.outDef as { children: TreeDef[] }).children[1];
  return [jac, unflatten(auxDef, res.slice(p.nOut * nIn))];
}

/**
 * `jacfwd(f, {argnums, hasAux})(...args)`: the Jacobian of `f` by forward mode, one JVP per input
 * element batched into one program. Each block has shape `out.shape + in.shape`.
 */
export function jacfwd<F extends Fn>(f: F, opts: JacobianOptions = {}): (...args: Parameters<F>) => unknown {
  const cache = new Map<string, Prepared>();
  return (...args: Parameters<F>) =>
    apiCall('jacfwd', () => {
      const { p, inputs, nums, def, ranges } = prepareJac('jacfwd', f, args, opts, cache, (t, wrt, nOut) => {
        const main = mainFunc(t.module);
        const nArgs = main.args.length;
        const tangentsOnly = jvpModule(t.module, wrt, { outputs: false });
        const sizes = wrt.map((i) => numElements(t.inAvals[i].shape));
        const total = sizes.reduce((s, n) => s + n, 0);
        const batched = batchOverBasis(tangentsOnly, [...range(nArgs).map(() => false), ...wrt.map(() => true)], total);
        const b = new GraphBuilder();
        const e = new Emitter(b);
        const args: Value[] = main.args.map((a) => ({ type: a.type }));
        let off = 0;
        const basis = wrt.map((i, k) => {
          const v = basisBlock(e, total, off, t.inAvals[i].shape, t.inAvals[i].dtype);
          off += sizes[k];
          return v;
        });
        const tans = inlineModule(b, batched, [...args, ...basis]);
        const blocks: Value[] = [];
        for (let o = 0; o < nOut; o++) {
          const outRank = tans[o].type.shape.length - 1;
          let at = 0;
          wrt.forEach((i, k) => {
            const inShape = t.inAvals[i].shape;
            const r = rowsAs(e, tans[o], at, inShape);
            at += sizes[k];
            // [...in, ...out] -> [...out, ...in]
            blocks.push(e.transpose(r, [...range(outRank, inShape.length), ...range(inShape.length)]));
          });
        }
        const aux = opts.hasAux ? inlineModule(b, t.module, args).slice(nOut) : [];
        return b.finish(args, [...blocks, ...aux]);
      });
      return assemble(p, inputs, nums, def, ranges, opts);
    });
}

/**
 * `jacrev(f, {argnums, hasAux})(...args)`: the Jacobian of `f` by reverse mode, one VJP per output
 * element batched into one program. Each block has shape `out.shape + in.shape`; the outputs must
 * be floats.
 */
export function jacrev<F extends Fn>(f: F, opts: JacobianOptions = {}): (...args: Parameters<F>) => unknown {
  const cache = new Map<string, Prepared>();
  return (...args: Parameters<F>) =>
    apiCall('jacrev', () => {
      const { p, inputs, nums, def, ranges } = prepareJac('jacrev', f, args, opts, cache, (t, wrt, nOut) => {
        const main = mainFunc(t.module);
        const nArgs = main.args.length;
        const outAvals = t.outAvals.slice(0, nOut);
        outAvals.forEach((a, i) => {
          if (!isFloat(a.dtype)) throw traceError(`jacrev requires float outputs, but output leaf ${i} is ${a.dtype}`);
        });
        // Seed only the differentiated outputs: aux outputs get no cotangent.
        const diffOnly = new GraphBuilder();
        const dArgs: Value[] = main.args.map((a) => ({ type: a.type }));
        const diffModule = diffOnly.finish(dArgs, inlineModule(diffOnly, t.module, dArgs).slice(0, nOut));
        const back = vjpModule(diffModule, wrt, { outputs: false });
        const sizes = outAvals.map((a) => numElements(a.shape));
        const total = sizes.reduce((s, n) => s + n, 0);
        const batched = batchOverBasis(back, [...range(nArgs).map(() => false), ...outAvals.map(() => true)], total);
        const b = new GraphBuilder();
        const e = new Emitter(b);
        const args: Value[] = main.args.map((a) => ({ type: a.type }));
        let off = 0;
        const basis = outAvals.map((a, k) => {
          const v = basisBlock(e, total, off, a.shape, a.dtype);
          off += sizes[k];
          return v;
        });
        const grads = inlineModule(b, batched, [...args, ...basis]);
        const blocks: Value[] = [];
        let at = 0;
        outAvals.forEach((a, o) => {
          wrt.forEach((_, k) => blocks.push(rowsAs(e, grads[k], at, a.shape)));
          at += sizes[o];
        });
        const aux = opts.hasAux ? inlineModule(b, t.module, args).slice(nOut) : [];
        return b.finish(args, [...blocks, ...aux]);
      });
      return assemble(p, inputs, nums, def, ranges, opts);
    });
}

/** JAX's `jax.jacobian`: the same as {@link jacrev}. */
export const jacobian = jacrev;

/**
 * `hessian(f, {argnums, hasAux})(...args)`: `jacfwd(jacrev(f))`, the matrix of second derivatives
 * of a scalar `f` (blocks of shape `out.shape + in.shape + in.shape` in general), as JAX's.
 */
export function hessian<F extends Fn>(f: F, opts: JacobianOptions = {}): (...args: Parameters<F>) => unknown {
  const inner = jacrev(f, opts);
  const outer = jacfwd(inner as F, opts);
  return (...args: Parameters<F>) => apiCall('hessian', () => outer(...args));
}
