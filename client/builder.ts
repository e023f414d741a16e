/**
 * @file Builds IR graphs programmatically: the tracer records ops through it, and autodiff and
 * vmap emit their transformed graphs through it. Result types come from the shared shape rules
 * (`ir/shapes.ts`), so a shape error surfaces where the op is emitted, with its location.
 */
import { allocHost, type HostArray, type SupportedDType } from '../ir/dtype.js';
import type { Location } from '../ir/errors.js';
import { Op, type OpAttrs } from '../ir/ops.js';
import { inferResultTypes } from '../ir/shapes.js';
import type { Block, Func, Module, Operation, Region, TensorType, Value } from '../ir/types.js';

export interface EmitOptions {
  regions?: Region[];
  /** Skip inference and use these result types (e.g. for `call`). */
  resultTypes?: TensorType[];
  loc?: Location;
}

/**
 * Callee-name prefix of the private functions that carry a user's custom differentiation rule
 * (`customVjp`, `customJvp`, `checkpoint`; see client/autodiff/custom.ts). Calls to them stay
 * calls when a traced module is spliced into another trace, so the rule is still there when
 * autodiff runs; the compiler inlines them like any call, so the primal runs.
 */
export const CUSTOM_CALL_PREFIX = 'kiln_custom_';

const customCallees = new Map<string, Func>();

/** Makes `f` (named with {@link CUSTOM_CALL_PREFIX}) the callee every finished module calling it includes. */
export function registerCustomCallee(f: Func): void {
  customCallees.set(f.name, f);
}

/** The custom-rule functions `ops` call, directly or through each other. */
function calledCustomFuncs(ops: readonly Operation[]): Func[] {
  const found = new Map<string, Func>();
  const walk = (list: readonly Operation[]): void => {
    for (const o of list) {
      if (o.op === Op.Call) {
        const name = (o.attrs as OpAttrs[Op.Call]).callee;
        const f = customCallees.get(name);
        if (f && !found.has(name)) {
          found.set(name, f);
          walk(f.body.ops);
        }
      }
      for (const r of o.regions) walk(r.block.ops);
    }
  };
  walk(ops);
  return [...found.values()];
}

/** Appends operations to one block. Nested regions get their own builder through {@link region}. */
export class GraphBuilder {
  readonly ops: Operation[] = [];
  /** Location given to ops emitted without one (the tracer sets it to the user's call site). */
  currentLoc: Location | undefined;

  emit<K extends Op>(op: K, operands: readonly Value[], attrs: OpAttrs[K], opts: EmitOptions = {}): Value[] {
    const loc = opts.loc ?? this.currentLoc;
    const types = opts.resultTypes ?? inferResultTypes(op, operands.map((v) => v.type), attrs, opts.regions, loc);
    const results = types.map((type) => ({ type }));
    const o: Operation<K> = { op, operands: [...operands], results, attrs, regions: opts.regions ?? [], loc };
    this.ops.push(o as unknown as Operation);
    return results;
  }

  /** Emits a single-result op and returns its result. */
  emit1<K extends Op>(op: K, operands: readonly Value[], attrs: OpAttrs[K], opts?: EmitOptions): Value {
    const [r] = this.emit(op, operands, attrs, opts);
    return r;
  }

  /**
   * A dense constant; `values` of length 1 makes a splat. For complex64, one value is a real splat
   * (v + 0i) and otherwise `values` are interleaved (re, im) pairs, two per element.
   */
  constant(dtype: SupportedDType, shape: readonly number[], values: ArrayLike<number> | number): Value {
    const n = shape.reduce((a, b) => a * b, 1);
    const list = typeof values === 'number' ? [values] : values;
    if (dtype === 'c64') {
      const data = new Float32Array(list.length === 1 ? 2 : 2 * n);
      if (list.length === 1) data[0] = list[0];
      else data.set(list);
      return this.emit1(Op.Constant, [], { value: { splat: list.length === 1 && n !== 1, data } }, { resultTypes: [{ dtype, shape: [...shape] }] });
    }
    const splat = list.length === 1 && n !== 1 ? true : list.length === 1;
    const data: HostArray = allocHost(dtype, splat ? 1 : n);
    for (let i = 0; i < data.length; i++) data[i] = list[i];
    return this.emit1(Op.Constant, [], { value: { splat, data } }, { resultTypes: [{ dtype, shape: [...shape] }] });
  }

  /** Builds a one-block region whose arguments have `argTypes`; `body` returns the values to yield. */
  region(argTypes: readonly TensorType[], body: (b: GraphBuilder, args: Value[]) => Value[]): Region {
    const inner = new GraphBuilder();
    inner.currentLoc = this.currentLoc;
    const args = argTypes.map((type) => ({ type }));
    const results = body(inner, args);
    inner.emit(Op.Return, results, {} as OpAttrs[Op.Return], { resultTypes: [] });
    return { block: { args, ops: inner.ops } };
  }

  /**
   * Closes the block with `func.return` and wraps it as the `main` function of a module, followed
   * by the private custom-rule functions it calls.
   */
  finish(args: Value[], results: readonly Value[], name = 'main'): Module {
    this.emit(Op.FuncReturn, results, {} as OpAttrs[Op.FuncReturn], { resultTypes: [] });
    const body: Block = { args, ops: this.ops };
    const fn: Func = { name, visibility: 'public', args, resultTypes: results.map((r) => r.type), body };
    return { name: 'kiln', funcs: [fn, ...calledCustomFuncs(this.ops)] };
  }
}
