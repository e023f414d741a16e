/**
 * @file Turns an op's body region into a function on scalars: a {@link Reducer} for reduce,
 * reduce_window, scatter and select_and_scatter, and a comparator for sort and select. A body
 * that is one binary op on its two arguments (what JAX emits for sums, maxima, argmax's select)
 * becomes a direct call of the op's scalar rule; any other body is interpreted, one scalar
 * tensor per argument.
 */
import type { NarrowDType, SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { AnyOperation, Region, Value } from '../../ir/types.js';
import { compareScalar, defaultCompareType } from '../../ir/scalar.js';
import { narrowData, type HostTensor } from '../tensor.js';
import { BINARY, normalizer, pickRule, type BinaryOp } from './elementwise.js';
import type { Reducer } from './reduction.js';

/** Runs a region's block on argument tensors and returns what its `stablehlo.return` yields. */
export type RegionRunner = (region: Region, args: HostTensor[]) => HostTensor[];

/** A rank-0 tensor holding `v` (already a value of `dtype`). */
export function scalar(dtype: SupportedDType, v: number): HostTensor {
  return { dtype, shape: [], data: scalarData(dtype, v) };
}

function scalarData(dtype: SupportedDType, v: number): HostTensor['data'] {
  switch (dtype) {
    case 'f32': case 'f16': case 'bf16': return Float32Array.of(v);
    case 'i32': return Int32Array.of(v);
    case 'ui32': return Uint32Array.of(v);
    case 'i1': return Uint8Array.of(v ? 1 : 0);
    case 'i8': return Int8Array.of(v);
    case 'ui8': return Uint8Array.of(v);
    case 'i16': return Int16Array.of(v);
    case 'ui16': return Uint16Array.of(v);
    // Region arguments of reductions are never 64-bit (the verifier refuses such reductions).
    case 'i64': case 'ui64': throw new Error(`internal: a ${dtype} region argument`);
    // Complex regions are run by complex.ts, which builds its own (re, im) scalars.
    case 'c64': throw new Error('internal: a complex region argument as one number');
    default: return dtype satisfies never;
  }
}

/**
 * If the block is `%r = OP %a, %b; return %r` with `%a`, `%b` two of its arguments, the op and
 * whether its operands are the arguments `(0, 1)` in order or swapped.
 */
function singleBinary(region: Region): { op: AnyOperation; swapped: boolean } | undefined {
  const { args, ops } = region.block;
  if (args.length !== 2 || ops.length !== 2) return undefined;
  const [first, ret] = ops as AnyOperation[];
  if (ret.op !== Op.Return || ret.operands.length !== 1 || ret.operands[0] !== first.results[0]) return undefined;
  if (first.operands.length !== 2) return undefined;
  const [x, y] = first.operands as [Value, Value];
  if (x === args[0] && y === args[1]) return { op: first, swapped: false };
  if (x === args[1] && y === args[0]) return { op: first, swapped: true };
  return undefined;
}

function argTypes(region: Region): SupportedDType[] {
  return region.block.args.map((a) => a.type.dtype as SupportedDType);
}

/** A reduction body with N accumulators and N elements (block args: accs, then elements). */
export function reducerOf(region: Region, run: RegionRunner): Reducer {
  const types = argTypes(region);
  const apply = (acc: number[], x: number[]): number[] =>
    run(region, [...acc, ...x].map((v, i) => scalar(types[i], v))).map((t) => narrowData(t)[0]);
  const fast = singleBinary(region);
  if (fast && fast.op.op in BINARY) {
    const f = pickRule(BINARY[fast.op.op as BinaryOp], types[0], 2);
    if (f) {
      const norm = normalizer(types[0] as NarrowDType);
      const scalarFn = fast.swapped ? (a: number, b: number) => norm(f(b, a)) : (a: number, b: number) => norm(f(a, b));
      return { apply: (acc, x) => [scalarFn(acc[0], x[0])], scalar: scalarFn };
    }
  }
  return { apply };
}

/**
 * A comparator body (sort, select_and_scatter's select): block args are `lhs0, rhs0, lhs1,
 * rhs1, ...`; the function gets the lhs and rhs values of each operand and returns the i1.
 */
export function comparatorOf(region: Region, run: RegionRunner): (a: number[], b: number[]) => boolean {
  const types = argTypes(region);
  const fast = singleBinary(region);
  if (fast && fast.op.op === Op.Compare) {
    const { direction, compareType } = fast.op.attrs;
    const type = compareType ?? defaultCompareType(types[0]);
    return fast.swapped
      ? (a, b) => compareScalar(direction, type, b[0], a[0]) !== 0
      : (a, b) => compareScalar(direction, type, a[0], b[0]) !== 0;
  }
  return (a, b) => {
    const args: HostTensor[] = [];
    for (let i = 0; i < a.length; i++) args.push(scalar(types[2 * i], a[i]), scalar(types[2 * i + 1], b[i]));
    return run(region, args)[0].data[0] !== 0;
  };
}
