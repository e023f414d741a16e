/**
 * @file The reference interpreter: runs a verified module's entry function on host tensors, op
 * by op, with the semantics of `rules.ts`. It is the oracle every GPU kernel is checked
 * against, so it favours plain, checkable code over speed.
 */
import { isSmallInt, isSupportedDType, lanes, unsupportedDTypeReason, type DType, type SupportedDType } from '../../ir/dtype.js';
import { InputError, TimeoutError, UnsupportedOpError } from '../../ir/errors.js';
import { BatchNorm, Op } from '../../ir/ops.js';
import { formatType, mainFunc, sameShape, type AnyOperation, type Block, type Func, type Module, type Value } from '../../ir/types.js';
import { lowerBf16 } from '../../compiler/passes/bf16.js';
import { lowerSmallInts } from '../../compiler/passes/smallint.js';
import { expandOps } from '../../compiler/passes/expand.js';
import { cancellation } from '../device.js';
import { fromComputed, toComputed, type HostTensor } from '../tensor.js';
import { NoRuleError } from './elementwise.js';
import { RULES, type Ctx, type Rule } from './rules.js';

export interface InterpretOptions {
  /** Absolute time (ms since the epoch, as `Date.now()`) after which the run throws TimeoutError. */
  deadline?: number;
  /** Checked with the deadline: once aborted the run throws its reason (see `ExecuteOptions.signal`). */
  signal?: AbortSignal;
}

/** Values in scope: a block's own, then (for regions, which capture implicitly) the enclosing ones. */
class Env {
  private readonly values = new Map<Value, HostTensor>();
  constructor(private readonly parent?: Env) {}

  get(v: Value, user: AnyOperation): HostTensor {
    for (let e: Env | undefined = this; e; e = e.parent) {
      const t = e.values.get(v);
      if (t) return t;
    }
    throw new UnsupportedOpError(`${user.op}: operand ${v.name ?? '<value>'} has no value (the module is not verified?)`, user.loc);
  }

  set(v: Value, t: HostTensor): void {
    this.values.set(v, t);
  }
}

class Interpreter {
  private readonly funcs: Map<string, Func>;
  private readonly deadline: number | undefined;
  private readonly signal: AbortSignal | undefined;
  private depth = 0;

  constructor(m: Module, opts: InterpretOptions) {
    this.funcs = new Map(m.funcs.map((f) => [f.name, f]));
    this.deadline = opts.deadline;
    this.signal = opts.signal;
  }

  checkDeadline(o?: AnyOperation): void {
    const cancelled = cancellation(this.signal);
    if (cancelled) throw cancelled;
    if (this.deadline !== undefined && Date.now() > this.deadline) {
      throw new TimeoutError(`${o ? `${o.op}: ` : ''}the run passed its deadline`, o?.loc);
    }
  }

  callFunc(name: string, args: HostTensor[], caller?: AnyOperation): HostTensor[] {
    const f = this.funcs.get(name);
    if (!f) throw new UnsupportedOpError(`${Op.Call}: no function @${name}`, caller?.loc);
    // Guards against a recursive program overflowing the JS stack with a raw RangeError.
    if (++this.depth > 200) throw new UnsupportedOpError(`${Op.Call}: calls nest deeper than 200 (recursion?)`, caller?.loc);
    try {
      return this.runFunc(f, args);
    } finally {
      this.depth--;
    }
  }

  /** Runs a function's body with `f.args` bound (they are `f.body.args`; binding both costs nothing). */
  runFunc(f: Func, args: readonly HostTensor[]): HostTensor[] {
    return this.runBlock(f.body, args, undefined, f.args);
  }

  /** Runs a block: binds its arguments, runs its ops, and returns its terminator's operands. */
  runBlock(block: Block, args: readonly HostTensor[], parent: Env | undefined, params: readonly Value[] = block.args): HostTensor[] {
    const env = new Env(parent);
    params.forEach((a, i) => env.set(a, args[i]));
    if (params !== block.args) block.args.forEach((a, i) => env.set(a, args[i]));
    for (const op of block.ops as AnyOperation[]) {
      if (op.op === Op.Return || op.op === Op.FuncReturn) return op.operands.map((v) => env.get(v, op));
      this.checkDeadline(op);
      const inputs = op.operands.map((v) => env.get(v, op));
      const results = this.runOp(op, inputs, env);
      op.results.forEach((r, i) => env.set(r, results[i]));
    }
    throw new UnsupportedOpError('a block ends without a return');
  }

  private runOp(op: AnyOperation, inputs: HostTensor[], env: Env): HostTensor[] {
    for (const v of [...op.operands, ...op.results]) {
      if (!isSupportedDType(v.type.dtype)) {
        throw new UnsupportedOpError(`${op.op}: ${unsupportedDTypeReason(v.type.dtype)}`, op.loc);
      }
    }
    const ctx: Ctx = {
      runRegion: (region, args) => this.runBlock(region.block, args, env),
      callFunc: (name, args) => this.callFunc(name, args, op),
      checkDeadline: () => this.checkDeadline(op),
    };
    let results: HostTensor[];
    try {
      results = (RULES[op.op] as Rule<Op>)(op, inputs, ctx);
    } catch (e) {
      if (e instanceof NoRuleError) throw new UnsupportedOpError(`${op.op}: ${e.message}`, op.loc);
      if (e instanceof RangeError) throw new UnsupportedOpError(`${op.op}: ${e.message}`, op.loc);
      throw e;
    }
    if (results.length !== op.results.length) {
      throw new UnsupportedOpError(`${op.op}: produced ${results.length} results, expected ${op.results.length}`, op.loc);
    }
    return results;
  }
}

/**
 * Runs the entry function of `m` (`@main`, or the only public function) on `inputs` and returns
 * its results as fresh tensors the caller owns. Inputs are checked against the function's
 * argument types (InputError); an op or type the interpreter cannot run throws
 * UnsupportedOpError naming the op and its location; a run past `opts.deadline` throws
 * TimeoutError.
 */
export function interpret(m: Module, inputs: readonly HostTensor[], opts: InterpretOptions = {}): HostTensor[] {
  // bf16 and 8/16-bit integer arguments and results of @main: held as f32 and i32/ui32 values
  // inside (compiler/passes/bf16.ts, compiler/passes/smallint.ts).
  const outer = entryFunc(m);
  const lowered = (d: DType) => d === 'bf16' || isSmallInt(d);
  inputs.forEach((t, i) => {
    const want = outer.args[i]?.type;
    if (want && lowered(want.dtype) && t?.dtype !== want.dtype) {
      throw new InputError(`@${outer.name} argument ${i} is ${formatType(want)}, got ${t ? formatType(t) : 'nothing'}`, outer.loc);
    }
  });
  const outTypes = outer.resultTypes.map((t) => t.dtype as SupportedDType);
  m = expandOps(lowerSmallInts(lowerBf16(m)), BatchNorm);
  const f = entryFunc(m);
  inputs = inputs.map((t, i) => (outer.args[i] && lowered(outer.args[i].type.dtype) ? toComputed(t) : t));
  checkInputs(f, inputs);
  const run = new Interpreter(m, opts);
  run.checkDeadline();
  const outs = run.runFunc(f, inputs);
  // Results that alias an input, or each other, are copied so the caller owns each one.
  const seen = new Set<HostTensor>(inputs);
  return outs.map((t, i) => {
    const own = seen.has(t) ? { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() } : { ...t };
    seen.add(t);
    return fromComputed(own, outTypes[i] ?? t.dtype);
  });
}

/** The entry function, as a typed error when there is none. */
export function entryFunc(m: Module): Func {
  try {
    return mainFunc(m);
  } catch {
    throw new InputError('the module has no @main and no public function to run');
  }
}

function checkInputs(f: Func, inputs: readonly HostTensor[]): void {
  for (const a of f.args) {
    if (!isSupportedDType(a.type.dtype)) throw new UnsupportedOpError(`@${f.name}: ${unsupportedDTypeReason(a.type.dtype)}`, f.loc);
  }
  if (inputs.length !== f.args.length) {
    throw new InputError(`@${f.name} takes ${f.args.length} arguments, got ${inputs.length}`, f.loc);
  }
  f.args.forEach((a, i) => {
    const t = inputs[i];
    if (t.dtype !== (a.type.dtype as SupportedDType) || !sameShape(t.shape, a.type.shape)) {
      throw new InputError(`@${f.name} argument ${i} is ${formatType(a.type)}, got ${formatType(t)}`, f.loc);
    }
    if (t.data.length !== t.shape.reduce((n, d) => n * d, 1) * lanes(t.dtype)) {
      throw new InputError(`@${f.name} argument ${i}: ${t.data.length} values for shape [${t.shape}]`, f.loc);
    }
  });
}

