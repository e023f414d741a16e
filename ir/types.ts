/**
 * @file The IR graph: tensor types, SSA values, operations with regions, functions and modules.
 * Values are identified by object identity; their source names are only hints for messages and
 * never reach the canonical print or the graph hash.
 */
import { dtypeSpelling, type DType } from './dtype.js';
import type { Location } from './errors.js';
import type { Op, OpAttrs } from './ops.js';

/** A ranked tensor type with static dimensions: `tensor<8x16xf32>`. */
export interface TensorType {
  readonly dtype: DType;
  /** Static dimension sizes, row-major; `[]` for a scalar. Dynamic shapes are refused. */
  readonly shape: readonly number[];
}

/** An SSA value: a function or block argument, or one result of an operation. */
export interface Value {
  type: TensorType;
  /** The name it had in the source (`%arg0`, `%cst_1`, `%1#0`), for messages only. */
  name?: string;
}

/** A block of a region: arguments and operations, the last of which is a terminator. */
export interface Block {
  args: Value[];
  ops: Operation[];
}

/** A region: kiln's regions have exactly one block (as every StableHLO region JAX prints). */
export interface Region {
  block: Block;
}

/** One operation: its op, SSA operands and results, typed attributes, regions and location. */
export interface Operation<K extends Op = Op> {
  op: K;
  operands: Value[];
  results: Value[];
  attrs: OpAttrs[K];
  regions: Region[];
  loc?: Location;
}

/** Any operation, narrowed by its `op` field: `switch (o.op)` gives typed `attrs` in each case. */
export type AnyOperation = { [K in Op]: Operation<K> }[Op];

/** A `func.func`: the entry (`@main`, public) or a private callee of `func.call`. */
export interface Func {
  name: string;
  visibility: 'public' | 'private';
  /** The function's arguments: always the same array as `body.args`. */
  args: Value[];
  resultTypes: TensorType[];
  body: Block;
  /** `jax.result_info` and similar, kept for printing; they never change the meaning. */
  argAttrs?: (Record<string, string> | undefined)[];
  resultAttrs?: (Record<string, string> | undefined)[];
  loc?: Location;
}

/** A parsed or traced program: its functions, the entry among them (see `mainFunc`). */
export interface Module {
  name?: string;
  funcs: Func[];
  /** Module attributes such as `mhlo.num_partitions`, kept as printed text. */
  attrs?: Record<string, string>;
}

// ---- helpers ----------------------------------------------------------------------------------

/** A tensor type with a copy of `shape`. */
export function tensorType(dtype: DType, shape: readonly number[]): TensorType {
  return { dtype, shape: [...shape] };
}

/**
 * The most elements one tensor may have. Kernels index with 32-bit integers, and a shape past
 * this is a typo or an attack: refusing it up front means no stage ever tries to allocate it.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Why `shape` cannot be a kiln tensor's (a dimension that is not a non-negative integer, or a
 * dimension or element count past {@link MAX_ELEMENTS}), or undefined when it can. Every
 * dimension is checked even when another is 0: strides and bounds are 32-bit in kernels too.
 * Never overflows: the product stops growing once it passes the limit.
 */
export function shapeProblem(shape: readonly number[]): string | undefined {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return `dimension ${d} is not a non-negative integer`;
    if (d > MAX_ELEMENTS) return `dimension ${d} is larger than ${MAX_ELEMENTS} (kiln indexes tensors with 32-bit integers)`;
    n = Math.min(n * d, MAX_ELEMENTS + 1);
  }
  if (n > MAX_ELEMENTS) return `it has more than ${MAX_ELEMENTS} elements (kiln indexes tensors with 32-bit integers)`;
  return undefined;
}

/** The element count of a shape (1 for a scalar). */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Same dtype and shape. */
export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** Same rank and dimensions. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `tensor<8x16xf32>`, `tensor<f32>`. */
export function formatType(t: TensorType): string {
  return `tensor<${[...t.shape.map(String), dtypeSpelling(t.dtype)].join('x')}>`;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The entry point: `@main` if present, else the only public function. */
export function mainFunc(m: Module): Func {
  const main = m.funcs.find((f) => f.name === 'main') ?? m.funcs.find((f) => f.visibility === 'public');
  if (!main) throw new Error('module has no public function');
  return main;
}

/** Visits every operation of a block and of its nested regions, outer before inner. */
export function walkOps(block: Block, visit: (o: AnyOperation) => void): void {
  for (const o of block.ops) {
    visit(o as AnyOperation);
    for (const r of o.regions) walkOps(r.block, visit);
  }
}
