/**
 * @file The tracer: runs a function on abstract Arrays (shape + dtype, no values) and records every
 * op it performs into an IR module, then calls such modules on real Arrays.
 *
 * ## Internal API (for client/autodiff, client/vmap and jit)
 *
 * - `traceFlat(f, inDef, inAvals, name?, isUserCode?) → Traced`: calls `f(...unflatten(inDef, tracers))` with one
 *   tracer per entry of `inAvals`, and returns the module plus its signature. The module's `main`
 *   takes `[...explicit inputs, ...captured]` and returns the flattened outputs (`outDef`,
 *   `outAvals`). `captured` lists the Arrays from outside the trace that `f` used (closed-over
 *   concrete Arrays, or tracers of an enclosing trace): they are extra trailing inputs, and whoever
 *   calls the module passes them (`callTraced` does).
 * - `traceArgs(args, numbersAreLeaves)`: flattens call arguments into `{def, leaves, avals}`;
 *   numbers become weakly typed f32 scalars whatever their value (JS has one number type, so
 *   `jit(f)(3)` and `jit(f)(3.5)` share one trace, and `grad(f)(3)` differentiates; JAX would make
 *   a Python int a weak int32).
 * - `callTraced(traced, leaves) → KArray[]` runs a traced function on flat leaves (plus its
 *   captured inputs); `callModule(module, inputs, outWeak?) → KArray[]` runs any module whose
 *   `main` takes `inputs`. Both inline the module into the current trace when one is active (so a
 *   transformed function composes with `jit`), and otherwise compile it for the default device
 *   (cached per module object and device) and enqueue it.
 * - `currentTrace()`, `valueOf(x)`, `tracer(value, weak)`, `emit(op, operands, attrs, opts)`:
 *   recording ops by hand. `emit` sets each op's location to the user's call site and turns
 *   shape errors into {@link TraceError}s naming that site and the public function.
 * - `inlineModule(builder, module, args) → Value[]`: copies `main` (and the functions it calls)
 *   into a builder, for IR-level transforms that build a new graph around a traced one.
 */
import { isComplex, type SupportedDType } from '../ir/dtype.js';
import { KilnError } from '../ir/errors.js';
import { ComplexOps, Op, type OpAttrs } from '../ir/ops.js';
import { formatType, mainFunc, type Block, type Module, type Operation, type Region, type Value } from '../ir/types.js';
import type { Device, Executable } from '../runtime/device.js';
import { hostTensor } from '../runtime/tensor.js';
import { track } from './inflight.js';
import { KArray, type TraceLike } from './array.js';
import { CUSTOM_CALL_PREFIX, GraphBuilder, type EmitOptions } from './builder.js';
import { deviceNow, deviceReady } from './devices.js';
import { flatten, unflatten, type TreeDef } from './pytree.js';
import { currentLocation, TraceError, traceError, userCode } from './site.js';

/** The type of a value without its elements. `weak` marks JS-number-like scalars. */
export interface AbstractValue {
  shape: readonly number[];
  dtype: SupportedDType;
  weak?: boolean;
  /**
   * A JS integer given to an eager op (weak i32): its tracer promotes like the number itself, so
   * `np.add(i32Array, 1)` is i32 but `np.add(1, 2)` is f32 (see client/numpy/promote.ts).
   */
  literal?: boolean;
}

/** A traced function: its module and how its flat inputs and outputs map to pytrees. */
export interface Traced {
  module: Module;
  inDef: TreeDef;
  inAvals: AbstractValue[];
  outDef: TreeDef;
  outAvals: AbstractValue[];
  /** Arrays from outside the trace, passed after the explicit inputs. */
  captured: KArray[];
}

let nextTraceId = 1;

/** One recording in progress: a builder plus the bookkeeping of captured outside values. */
export class Trace implements TraceLike {
  readonly id = nextTraceId++;
  live = true;
  readonly builder = new GraphBuilder();
  readonly captured: KArray[] = [];
  readonly capturedValues: Value[] = [];
  private readonly captureIndex = new Map<KArray, Value>();
  constructor(readonly parent: Trace | undefined) {}

  /** The value standing for an outside Array in this trace (a new trailing input, once per Array). */
  capture(x: KArray): Value {
    let v = this.captureIndex.get(x);
    if (!v) {
      v = { type: { dtype: x.dtype, shape: [...x.shape] } };
      this.captureIndex.set(x, v);
      this.captured.push(x);
      this.capturedValues.push(v);
    }
    return v;
  }
}

let current: Trace | undefined;

/** The innermost trace being recorded, if any. */
export function currentTrace(): Trace | undefined {
  return current;
}

function requireTrace(): Trace {
  if (!current) throw new Error('kiln internal: an op was emitted outside a trace');
  return current;
}

/** Runs `body` with `t` as the current trace. */
export function withTrace<T>(t: Trace | undefined, body: () => T): T {
  const saved = current;
  current = t;
  try {
    return body();
  } finally {
    current = saved;
  }
}

/** A tracer of the current trace for `value`. */
export function tracer(value: Value, weak = false): KArray {
  const t = requireTrace();
  return new KArray(value.type.shape, value.type.dtype as SupportedDType, weak, { trace: t, value });
}

/** The value of `x` in the current trace, capturing it if it comes from outside. */
export function valueOf(x: KArray): Value {
  const t = requireTrace();
  if (x._trace === t) return x._value!;
  if (x._trace) {
    if (!x._trace.live) {
      throw traceError(`a tracer (${x.describe()}) escaped the jit/grad trace that made it: it has no value; return it from the traced function instead of storing it`);
    }
    let outer = t.parent;
    while (outer && outer !== x._trace) outer = outer.parent;
    if (!outer) throw traceError(`a tracer (${x.describe()}) from an unrelated trace was used here`);
  } else {
    x.concrete('using an array');
  }
  return t.capture(x);
}

/**
 * Records an op in the current trace at the user's call site. Shape and dtype errors from the
 * shape rules become {@link TraceError}s naming the public function and the call site.
 */
export function emit<K extends Op>(op: K, operands: readonly Value[], attrs: OpAttrs[K], opts: EmitOptions = {}): Value[] {
  const t = requireTrace();
  refuseComplexUse(op, operands, attrs, opts);
  const loc = currentLocation();
  t.builder.currentLoc = loc;
  try {
    return t.builder.emit(op, operands, attrs, opts);
  } catch (e) {
    if (e instanceof KilnError && !(e instanceof TraceError)) throw traceError(e.detail);
    throw e;
  }
}

/**
 * Complex values only go through the ops kiln defines on them (ir/ops.ts `ComplexOps`; `compare`
 * only EQ/NE): anything else (max, floor, sort, an ordering...) is refused here, where the public
 * function and the user's line are known, rather than by the verifier at compile time. Regions
 * are checked where they are built (client/lax.ts `reduce`).
 */
export function refuseComplexUse<K extends Op>(op: K, operands: readonly Value[], attrs: OpAttrs[K], opts: EmitOptions = {}): void {
  const c = [...operands.map((v) => v.type), ...(opts.resultTypes ?? [])].find((t) => isComplex(t.dtype));
  if (!c) return;
  const dir = op === Op.Compare ? (attrs as OpAttrs[Op.Compare]).direction : undefined;
  if (!ComplexOps.has(op)) throw traceError(`${op} does not take complex64 values (${formatType(c)}): kiln computes complex arithmetic, exp/log/sqrt/sin/cos/tanh/power, abs, real/imag/conj, == and !=, sums and products, matmul, FFTs and data movement; orderings (max, sort, <), rounding and remainders are not defined on complex numbers`);
  if (dir !== undefined && dir !== 'EQ' && dir !== 'NE') throw traceError(`comparison ${dir} is not defined on complex64 values (${formatType(c)}): only equality (== and !=) is`);
}

/** {@link emit} for single-result ops. */
export function emit1<K extends Op>(op: K, operands: readonly Value[], attrs: OpAttrs[K], opts?: EmitOptions): Value {
  return emit(op, operands, attrs, opts)[0];
}

// ---- tracing --------------------------------------------------------------------------------

/** Whether a JS number can stand for an integer operand: integral and within i32's range. */
export function isIntLiteral(n: number): boolean {
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647;
}

/** The abstract value of a leaf: a JS number is a weak f32 scalar, whatever its value. */
export function avalOf(x: KArray | number): AbstractValue {
  if (typeof x === 'number') return { shape: [], dtype: 'f32', weak: true };
  return { shape: x.shape, dtype: x.dtype, weak: x.weak };
}

/**
 * The abstract value of a JS number given to an eager op: an integer (in i32's range) is a weak
 * i32 {@link AbstractValue.literal}, so that the op can still treat it as the number it is.
 */
export function literalAval(n: number): AbstractValue {
  return isIntLiteral(n) ? { shape: [], dtype: 'i32', weak: true, literal: true } : { shape: [], dtype: 'f32', weak: true };
}

/** `f32[2,3]`, `~i32[]`, `#i32[]` (a literal): part of cache keys. */
export function avalKey(a: AbstractValue): string {
  return `${a.literal ? '#' : a.weak ? '~' : ''}${a.dtype}[${a.shape.join(',')}]`;
}

/** A weakly typed scalar Array holding a JS number (an input to a compiled program). */
export function scalarArray(n: number, dtype: SupportedDType = 'f32'): KArray {
  return KArray.fromHost(hostTensor(dtype, [], [n]), true);
}

/** Flattens call arguments: the tree structure and static leaves, the dynamic leaves, their types. */
export function traceArgs(args: unknown, numbersAreLeaves = true): { def: TreeDef; key: string; leaves: (KArray | number)[]; avals: AbstractValue[] } {
  const { def, key, leaves } = flatten(args, numbersAreLeaves);
  return { def, key, leaves, avals: leaves.map(avalOf) };
}

/**
 * Traces `f` on abstract inputs. `inDef` describes the argument list (a `list` TreeDef whose
 * children are the arguments); `inAvals` gives the types of its dynamic leaves.
 */
export function traceFlat(
  f: (...args: never[]) => unknown, inDef: TreeDef, inAvals: readonly AbstractValue[], name = 'main', isUserCode = true,
): Traced {
  stats.traces++;
  const trace = new Trace(current);
  const argValues: Value[] = inAvals.map((a) => ({ type: { dtype: a.dtype, shape: [...a.shape] } }));
  return withTrace(trace, () => {
    try {
      const tracers = argValues.map((v, i) => {
        const t = new KArray(inAvals[i].shape, inAvals[i].dtype, inAvals[i].weak ?? false, { trace, value: v });
        t._literal = inAvals[i].literal ?? false;
        return t;
      });
      const args = unflatten<unknown[]>(inDef, tracers);
      const run = () => (f as (...a: unknown[]) => unknown)(...(globalThis.Array.isArray(args) ? args : [args]));
      const out = isUserCode ? userCode(run) : run();
      const { def: outDef, leaves } = flatten(out, true);
      const outTracers = leaves.map((l) => (typeof l === 'number' ? constantTracer(l) : l));
      const outValues = outTracers.map(valueOf);
      const module = trace.builder.finish([...argValues, ...trace.capturedValues], outValues, name);
      return {
        module,
        inDef,
        inAvals: [...inAvals],
        outDef,
        outAvals: outTracers.map((t) => ({ shape: t.shape, dtype: t.dtype, weak: t.weak })),
        captured: [...trace.captured],
      };
    } finally {
      trace.live = false;
    }
  });
}

function constantTracer(n: number): KArray {
  return tracer(requireTrace().builder.constant('f32', [], n), true);
}

// ---- calling modules ------------------------------------------------------------------------

/** Counts of work done, for tests and tuning. */
export const stats = { traces: 0, compiles: 0, executions: 0 };

const executables = new WeakMap<Module, Map<Device, Executable>>();

/** The module compiled for `d`, compiled once per module object and device. */
export function executableFor(module: Module, d: Device): Executable {
  let perDevice = executables.get(module);
  if (!perDevice) executables.set(module, (perDevice = new Map()));
  let exe = perDevice.get(d);
  if (!exe) {
    stats.compiles++;
    exe = d.compile(module);
    perDevice.set(d, exe);
  }
  return exe;
}

/** Runs a traced function on its flat leaves (numbers become weak scalar inputs). */
export function callTraced(t: Traced, leaves: readonly (KArray | number)[]): KArray[] {
  const temps: KArray[] = [];
  const inputs = leaves.map((l, i) => {
    if (typeof l !== 'number') return l;
    const s = scalarArray(l, t.inAvals[i].dtype);
    temps.push(s);
    return s;
  });
  const outs = callModule(t.module, [...inputs, ...t.captured], t.outAvals.map((a) => a.weak ?? false));
  // The scalars' buffers are ours alone: free them once the run has read them (or, in a trace, now).
  if (!current) for (const s of temps) s.dispose();
  return outs;
}

/**
 * Calls `module`'s main on `inputs`: inlined into the current trace if there is one, else
 * compiled for the default device and enqueued (results are Arrays whose data arrives later).
 */
export function callModule(module: Module, inputs: readonly KArray[], outWeak?: readonly boolean[]): KArray[] {
  const main = mainFunc(module);
  if (inputs.length !== main.args.length) {
    throw new TraceError(`callModule: ${main.name} takes ${main.args.length} inputs, got ${inputs.length}`);
  }
  if (current) {
    const results = inlineModule(current.builder, module, inputs.map(valueOf));
    return results.map((v, i) => tracer(v, outWeak?.[i] ?? false));
  }
  stats.executions++;
  const outs = main.resultTypes.map((t, i) => ({ shape: t.shape, dtype: t.dtype as SupportedDType, weak: outWeak?.[i] ?? false }));
  const d = deviceNow();
  if (d) {
    const bufs = inputs.map((a) => bufferOn(a, d));
    if (bufs.every((b) => !(b instanceof Promise))) {
      const res = d.execute(executableFor(module, d), bufs as never);
      return res.map((b, i) => KArray.fromDevice(outs[i].shape, outs[i].dtype, outs[i].weak, b));
    }
  }
  // The device is still opening, or an input is still being produced: chain on both.
  // Host data is held now, so an input disposed meanwhile (the scalars callTraced makes) still runs.
  const hosts = inputs.map((a) => a.concrete('using an array').host);
  const run = track((async () => {
    const dev = await deviceReady();
    const temps: import('../runtime/device.js').DeviceArray[] = [];
    const bufs = await Promise.all(inputs.map((a, i) => {
      const h = hosts[i];
      if (h && a.disposed) {
        const b = dev.upload(h);
        temps.push(b);
        return b;
      }
      return bufferOn(a, dev);
    }));
    const res = dev.execute(executableFor(module, dev), bufs);
    for (const b of temps) dev.free(b); // released after the run (see Device.free)
    return res;
  })());
  return outs.map((o, i) => KArray.fromDevice(o.shape, o.dtype, o.weak, run.then((r) => r[i])));
}

/** The Array's buffer on device `d`: uploading host data, or moving it from another device. */
export function bufferOn(a: KArray, d: Device): import('../runtime/device.js').DeviceArray | Promise<import('../runtime/device.js').DeviceArray> {
  const s = a.concrete('using an array');
  if (s.buf && s.buf.device === d) return s.buf;
  if (s.host) {
    s.buf = d.upload(s.host);
    s.host = undefined;
    return s.buf;
  }
  const from = s.buf ?? s.pending!;
  return Promise.resolve(from).then(async (b) => {
    if (b.device === d) return b;
    const t = await b.device.read(b);
    if (s.disposed) throw new TraceError(`an array (${a.describe()}) was disposed while being moved between devices`);
    const nb = d.upload(t);
    b.device.free(b);
    s.buf = nb;
    s.pending = undefined;
    return nb;
  });
}

// ---- inlining -------------------------------------------------------------------------------

/**
 * Copies `module`'s main into `b` with `args` for its arguments and returns the values it returns.
 * Calls to other functions of the module are inlined too; ops keep their locations.
 */
export function inlineModule(b: GraphBuilder, module: Module, args: readonly Value[]): Value[] {
  return inlineFunc(b, module, mainFunc(module).name, args);
}

function inlineFunc(b: GraphBuilder, module: Module, name: string, args: readonly Value[]): Value[] {
  const fn = module.funcs.find((f) => f.name === name);
  if (!fn) throw new TraceError(`inline: module has no function @${name}`);
  const map = new Map<Value, Value>();
  fn.args.forEach((a, i) => map.set(a, args[i]));
  for (const o of fn.body.ops) {
    if (o.op === Op.FuncReturn) return o.operands.map((v) => lookup(map, v));
    if (o.op === Op.Call) {
      const callee = (o.attrs as OpAttrs[Op.Call]).callee;
      if (callee.startsWith(CUSTOM_CALL_PREFIX)) {
        // A custom differentiation rule's call stays a call for autodiff to find (see builder.ts).
        b.ops.push(cloneOp(o, map));
        continue;
      }
      const res = inlineFunc(b, module, callee, o.operands.map((v) => lookup(map, v)));
      o.results.forEach((r, i) => map.set(r, res[i]));
      continue;
    }
    b.ops.push(cloneOp(o, map));
  }
  throw new TraceError(`inline: @${name} has no func.return`);
}

function lookup(map: Map<Value, Value>, v: Value): Value {
  return map.get(v) ?? v; // values defined outside a region (captured by it) map to themselves
}

function cloneOp(o: Operation, map: Map<Value, Value>): Operation {
  const results = o.results.map((r) => {
    const n: Value = { type: r.type };
    map.set(r, n);
    return n;
  });
  return {
    op: o.op,
    operands: o.operands.map((v) => lookup(map, v)),
    results,
    attrs: o.attrs,
    regions: o.regions.map((r) => cloneRegion(r, map)),
    loc: o.loc,
  };
}

function cloneRegion(r: Region, map: Map<Value, Value>): Region {
  const args = r.block.args.map((a) => {
    const n: Value = { type: a.type };
    map.set(a, n);
    return n;
  });
  const block: Block = { args, ops: r.block.ops.map((o) => cloneOp(o, map)) };
  return { block };
}
