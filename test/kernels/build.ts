/**
 * @file Builds single operations (with their region bodies) by hand for kernel tests, wraps one
 * in a module for the reference interpreter, and draws random host tensors.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { allocHost } from '../../ir/dtype.js';
import type { ComparisonDirection, ComparisonType, Op, OpAttrs } from '../../ir/ops.js';
import { Op as O } from '../../ir/ops.js';
import type { Module, Operation, Region, TensorType, Value } from '../../ir/types.js';
import { numElements } from '../../ir/types.js';
import type { HostTensor } from '../../runtime/tensor.js';
export { rng } from '../helpers/rng.js';

export const t = (dtype: SupportedDType, shape: readonly number[]): TensorType => ({ dtype, shape: [...shape] });
export const val = (type: TensorType, name?: string): Value => ({ type, name });

/** One operation on fresh argument values of the given types. */
export function op<K extends Op>(
  kind: K, operandTypes: TensorType[], resultTypes: TensorType[], attrs: OpAttrs[K], regions: Region[] = [],
): Operation<K> {
  return {
    op: kind,
    operands: operandTypes.map((ty, i) => val(ty, `%arg${i}`)),
    results: resultTypes.map((ty, i) => val(ty, `%${i}`)),
    attrs,
    regions,
    loc: { file: 'test.mlir', line: 1, column: 1 },
  };
}

/** A scalar region emitter: `e(op, operands, resultDType, attrs)` appends an op and returns its value. */
type Emit = <K extends Op>(kind: K, operands: Value[], dtype: SupportedDType, attrs?: OpAttrs[K]) => Value;

/** A region whose block takes scalars of `argTypes`; `body` returns the values to return. */
export function region(argTypes: SupportedDType[], body: (args: Value[], e: Emit) => Value[]): Region {
  const args = argTypes.map((d, i) => val(t(d, []), `%a${i}`));
  const ops: Operation[] = [];
  const e: Emit = (kind, operands, dtype, attrs) => {
    const r = val(t(dtype, []));
    ops.push({ op: kind, operands, results: [r], attrs: (attrs ?? {}) as OpAttrs[typeof kind], regions: [], loc: { line: 2, column: 7 } });
    return r;
  };
  const outs = body(args, e);
  ops.push({ op: O.Return, operands: outs, results: [], attrs: {}, regions: [] });
  return { block: { args, ops } };
}

/** `(a, b) -> a OP b` over scalars of `d`. */
export const binary = (kind: O.Add | O.Multiply | O.Maximum | O.Minimum | O.Subtract, d: SupportedDType): Region =>
  region([d, d], ([a, b], e) => [e(kind, [a, b], d)]);

/** `(a, b) -> b`: overwrite. */
export const overwrite = (d: SupportedDType): Region => region([d, d], ([, b]) => [b]);

/** `(a, b) -> compare DIR a, b`. */
export const comparator = (d: SupportedDType, dir: ComparisonDirection, compareType?: ComparisonType): Region =>
  region([d, d], ([a, b], e) => [e(O.Compare, [a, b], 'i1', { direction: dir, compareType })]);

/** A module whose main runs `o` on its operands and returns its results. */
export function moduleOf(o: Operation): Module {
  const args = o.operands;
  return {
    funcs: [{
      name: 'main',
      visibility: 'public',
      args,
      resultTypes: o.results.map((r) => r.type),
      body: { args, ops: [o, { op: O.FuncReturn, operands: o.results, results: [], attrs: {}, regions: [] }] },
    }],
  };
}

/** A host tensor of `type` with values from `gen(i)`. */
export function tensor(type: TensorType, gen: (i: number) => number): HostTensor {
  const dtype = type.dtype as SupportedDType;
  const n = numElements(type.shape);
  const data = allocHost(dtype, n);
  for (let i = 0; i < n; i++) data[i] = gen(i);
  return { dtype, shape: [...type.shape], data };
}

/** Random values: floats in [-4, 4) (multiples of 1/8, so sums are exact), integers in [lo, hi). */
export function random(type: TensorType, r: () => number, lo = -8, hi = 8): HostTensor {
  const d = type.dtype;
  if (d === 'f32' || d === 'f16') return tensor(type, () => Math.floor(r() * 64 - 32) / 8);
  if (d === 'i1') return tensor(type, () => (r() < 0.5 ? 1 : 0));
  return tensor(type, () => lo + Math.floor(r() * (hi - lo)));
}
