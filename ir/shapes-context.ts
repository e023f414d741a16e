/**
 * @file The vocabulary of shape rules: the rule and context types, the element type classes ops
 * accept, and the helpers that phrase shape errors the same way for every op. The rules themselves
 * live in `shapes.ts` (the table) and `shapes-indexing.ts` (gather, scatter, convolution).
 */
import { isBool, isComplex, isFloat, isInteger, isSignedInteger, type DType } from './dtype.js';
import { UnsupportedOpError, VerifyError, type Location } from './errors.js';
import { Op, type OpAttrs } from './ops.js';
import { formatType, sameType, type Region, type TensorType } from './types.js';

/** A function's argument and result types, as `func.call` needs them. */
export interface FuncSignature {
  readonly args: readonly TensorType[];
  readonly results: readonly TensorType[];
}

/** What a rule may need beyond operands, attributes and regions. */
export interface ShapeExtras {
  /**
   * The declared result types. Required by the ops in {@link NeedsDeclaredResult}, whose result
   * is not implied by their operands (a reshape's target shape, a convert's target dtype, ...);
   * the rule checks them against the operands and returns them.
   */
  readonly resultTypes?: readonly TensorType[];
  /** Looks up a function by name, for `func.call`. */
  readonly signatureOf?: (name: string) => FuncSignature | undefined;
  /** Source names of the operands (`%arg0`), used in messages instead of positions. */
  readonly operandNames?: readonly (string | undefined)[];
}

/** The argument and return types one region of an op must have. */
export interface RegionSignature {
  /** How messages call the region: `body`, `cond`, `comparator`, `branch 1`, ... */
  readonly name: string;
  readonly args: readonly TensorType[];
  readonly returns: readonly TensorType[];
}

/** One op's shape rule. `regions` is present exactly for ops that carry regions. */
export interface ShapeRule<K extends Op> {
  infer(c: ShapeContext<K>): TensorType[];
  regions?(c: ShapeContext<K>, results: readonly TensorType[]): RegionSignature[];
}

/** Ops whose result type must be given: the operands and attributes do not determine it. */
export const NeedsDeclaredResult: ReadonlySet<Op> = new Set([
  Op.Constant, Op.Iota, Op.Reshape, Op.BroadcastInDim, Op.Convert, Op.BitcastConvert, Op.RngBitGenerator,
]);

/** The inputs of one rule application, with helpers that phrase errors the same way everywhere. */
export class ShapeContext<K extends Op> {
  constructor(
    readonly op: K,
    readonly operands: readonly TensorType[],
    readonly attrs: OpAttrs[K],
    readonly regionList: readonly Region[] | undefined,
    readonly loc: Location | undefined,
    readonly extras: ShapeExtras,
  ) {}

  fail(detail: string): never {
    throw new VerifyError(`${this.op}: ${detail}`, this.loc);
  }

  unsupported(detail: string): never {
    throw new UnsupportedOpError(`${this.op}: ${detail}`, this.loc);
  }

  /** `%arg0 (tensor<8xf32>)`, or `operand #0 (tensor<8xf32>)` when the name is unknown. */
  describe(i: number): string {
    const n = this.extras.operandNames?.[i];
    return `${n ?? `operand #${i}`} (${formatType(this.operands[i])})`;
  }

  arity(n: number): void {
    if (this.operands.length !== n) this.fail(`takes ${n} operand${n === 1 ? '' : 's'}, got ${this.operands.length}`);
  }

  /** The declared result types (see {@link NeedsDeclaredResult}), checked to be `n` of them. */
  declared(n = 1): readonly TensorType[] {
    const r = this.extras.resultTypes;
    if (!r) this.fail('its result type must be given: the operands and attributes do not determine it');
    if (r.length !== n) this.fail(`has ${n} result${n === 1 ? '' : 's'}, ${r.length} declared`);
    return r;
  }

  /** The regions, which this op's result types depend on. */
  regions(): readonly Region[] {
    if (!this.regionList) this.fail('its result types come from its regions, and none were given');
    return this.regionList;
  }

  dtypeIn(i: number, cls: DTypeClass): void {
    if (!cls.test(this.operands[i].dtype)) this.fail(`${this.describe(i)} must have ${cls.name} element type`);
  }

  scalar(i: number, what: string): void {
    if (this.operands[i].shape.length !== 0) this.fail(`${what} ${this.describe(i)} must be a scalar tensor`);
  }

  sameType(i: number, j: number): void {
    if (!sameType(this.operands[i], this.operands[j])) {
      this.fail(`${this.describe(i)} and ${this.describe(j)} must have the same type`);
    }
  }

  sameDType(i: number, j: number): void {
    if (this.operands[i].dtype !== this.operands[j].dtype) {
      this.fail(`${this.describe(i)} and ${this.describe(j)} must have the same element type`);
    }
  }

  /** Checks that each of `dims` (an attribute called `what`) lies in [0, rank) and, unless told, is unique. */
  dims(what: string, dims: readonly number[], rank: number, opts: { unique?: boolean; sorted?: boolean } = {}): void {
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0 || d >= rank) this.fail(`${what} = ${fmt(dims)}: ${d} is out of range for rank ${rank}`);
    }
    if (opts.unique !== false && new Set(dims).size !== dims.length) this.fail(`${what} = ${fmt(dims)} repeats a dimension`);
    if (opts.sorted && dims.some((d, i) => i > 0 && d < dims[i - 1])) this.fail(`${what} = ${fmt(dims)} must be sorted`);
  }

  /** Checks an attribute array has one entry per dimension. */
  perDim(what: string, values: readonly unknown[], rank: number): void {
    if (values.length !== rank) this.fail(`${what} has ${values.length} entries, operand rank is ${rank}`);
  }
}

/** `[1, 2]`. */
export function fmt(xs: readonly unknown[]): string {
  return `[${xs.map((x) => (Array.isArray(x) ? fmt(x) : String(x))).join(', ')}]`;
}

// ---- element type classes ---------------------------------------------------------------------

/** A set of element types an op accepts, with the words to name it in a message. */
export interface DTypeClass { name: string; test: (d: DType) => boolean }

export const FLOAT: DTypeClass = { name: 'a float', test: isFloat };
export const FLOAT_OR_COMPLEX: DTypeClass = { name: 'a float or complex', test: (d) => isFloat(d) || isComplex(d) };
export const INT: DTypeClass = { name: 'an integer', test: isInteger };
export const INT_OR_BOOL: DTypeClass = { name: 'an integer or i1', test: (d) => isInteger(d) || isBool(d) };
export const NUMERIC: DTypeClass = { name: 'a numeric (integer or float)', test: (d) => !isBool(d) };
export const SIGNED_OR_FLOAT: DTypeClass = { name: 'a signed integer or float', test: (d) => isFloat(d) || isSignedInteger(d) };
export const ANY: DTypeClass = { name: 'any', test: () => true };
export const DTypeClasses = { FLOAT, FLOAT_OR_COMPLEX, INT, INT_OR_BOOL, NUMERIC, SIGNED_OR_FLOAT, ANY } as const;

/** Output size of a windowed dimension: https://openxla.org/stablehlo/spec#reduce_window */
export function windowedSize(
  size: number, window: number, stride: number, lo: number, hi: number, baseDil = 1, winDil = 1,
): number {
  const dilatedBase = size === 0 ? 0 : (size - 1) * baseDil + 1;
  const padded = dilatedBase + lo + hi;
  const dilatedWindow = window === 0 ? 0 : (window - 1) * winDil + 1;
  return padded < dilatedWindow ? 0 : Math.floor((padded - dilatedWindow) / stride) + 1;
}

export function fmtTypes(ts: readonly TensorType[]): string {
  return `(${ts.map(formatType).join(', ')})`;
}
