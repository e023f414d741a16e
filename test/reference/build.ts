/**
 * @file A tiny builder for hand-made modules in the reference tests: one op applied to the
 * function's arguments, plus scalar body regions, without going through the parser.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import { tensorType, type Block, type Module, type Operation, type Region, type TensorType, type Value } from '../../ir/types.js';
import { interpret, type InterpretOptions } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';

export const val = (dtype: SupportedDType, shape: readonly number[] = [], name?: string): Value => ({ type: tensorType(dtype, shape), name });

export function operation<K extends Op>(op: K, operands: Value[], results: TensorType[], attrs: OpAttrs[K], regions: Region[] = []): Operation<K> {
  return { op, operands, results: results.map((type) => ({ type })), attrs, regions, loc: { line: 7, column: 3 } };
}

export function ret(values: Value[], op: Op.Return | Op.FuncReturn = Op.Return): Operation {
  return operation(op, values, [], {} as OpAttrs[typeof op]);
}

/** A module whose `@main` takes `args` and returns what `body(args)` computes. */
export function moduleOf(args: Value[], body: (args: Value[]) => Operation[], extra: Module['funcs'] = []): Module {
  const ops = body(args);
  const last = ops[ops.length - 1];
  const block: Block = { args, ops: [...ops, ret(last.results, Op.FuncReturn)] };
  return {
    funcs: [{ name: 'main', visibility: 'public', args, resultTypes: last.results.map((r) => r.type), body: block }, ...extra],
  };
}

/** Runs one op on host tensors: the op's operands are the function's arguments. */
export function runOp<K extends Op>(op: K, inputs: HostTensor[], results: TensorType[], attrs: OpAttrs[K], regions: Region[] = [], opts?: InterpretOptions): HostTensor[] {
  const args = inputs.map((t) => val(t.dtype, t.shape));
  return interpret(moduleOf(args, (a) => [operation(op, a, results, attrs, regions)]), inputs, opts);
}

/** A region `(a, b) -> op(a, b)` on scalars of `dtype` (the body JAX emits for sums and maxima). */
export function binaryRegion(op: Op, dtype: SupportedDType, attrs: object = {}): Region {
  const a = val(dtype);
  const b = val(dtype);
  const resultDType = op === Op.Compare ? 'i1' : dtype;
  const o = operation(op, [a, b], [tensorType(resultDType, [])], attrs as never);
  return { block: { args: [a, b], ops: [o, ret(o.results)] } };
}

/** A region whose block is built by hand, for bodies that must take the interpreted path. */
export function region(args: Value[], ops: (args: Value[]) => Operation[]): Region {
  const body = ops(args);
  return { block: { args, ops: [...body, ret(body[body.length - 1].results)] } };
}

export const t = hostTensor;
export const f32 = (shape: number[], values: number[]) => hostTensor('f32', shape, values);
export const i32 = (shape: number[], values: number[]) => hostTensor('i32', shape, values);
export const scalarOf = (dtype: SupportedDType, v: number) => hostTensor(dtype, [], [v]);
