/**
 * @file Small emitting helpers over {@link GraphBuilder} that the VJP and batching rules share:
 * arithmetic on values of equal type, splat constants, sums, broadcasts, and recognising the
 * combiner a reduction region computes. StableHLO has no implicit broadcasting, so every helper
 * takes operands of one shape and the rules broadcast explicitly.
 */
import { isComplex, isFloat, type DType, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection, type FftType, type OpAttrs } from '../../ir/ops.js';
import type { Region, TensorType, Value } from '../../ir/types.js';
import type { GraphBuilder } from '../builder.js';

const none = {} as Record<string, never>;

/**
 * Whether values of `d` carry derivatives: floats, and complex64 (JAX's inexact types). Integers
 * and booleans get none.
 */
export function isDifferentiable(d: DType): boolean {
  return isFloat(d) || isComplex(d);
}

/** The arithmetic vocabulary rules are written in; every method appends ops to `b`. */
export class Emitter {
  constructor(readonly b: GraphBuilder) {}

  un(op: Op, x: Value): Value {
    return this.b.emit1(op, [x], none as OpAttrs[Op]);
  }
  bin(op: Op, x: Value, y: Value): Value {
    return this.b.emit1(op, [x, y], none as OpAttrs[Op]);
  }
  add(x: Value, y: Value): Value { return this.bin(Op.Add, x, y); }
  sub(x: Value, y: Value): Value { return this.bin(Op.Subtract, x, y); }
  mul(x: Value, y: Value): Value { return this.bin(Op.Multiply, x, y); }
  div(x: Value, y: Value): Value { return this.bin(Op.Divide, x, y); }
  neg(x: Value): Value { return this.un(Op.Negate, x); }

  /** `x * c` for a number `c`, as a splat of `x`'s type. */
  scale(x: Value, c: number): Value {
    return c === 1 ? x : this.mul(x, this.full(x.type, c));
  }

  /** A splat constant of type `t`. */
  full(t: TensorType, v: number): Value {
    return this.b.constant(t.dtype as SupportedDType, t.shape, v);
  }
  zeros(t: TensorType): Value { return this.full(t, 0); }
  /** A rank-0 constant of `dtype`. */
  scalar(dtype: TensorType['dtype'], v: number): Value { return this.full({ dtype, shape: [] }, v); }

  compare(direction: ComparisonDirection, x: Value, y: Value): Value {
    const compareType = x.type.dtype.startsWith('f') || isComplex(x.type.dtype) ? 'FLOAT' : x.type.dtype.startsWith('ui') || x.type.dtype === 'i1' ? 'UNSIGNED' : 'SIGNED';
    return this.b.emit1(Op.Compare, [x, y], { direction, compareType });
  }
  select(pred: Value, onTrue: Value, onFalse: Value): Value {
    return this.b.emit1(Op.Select, [pred, onTrue, onFalse], none);
  }
  convert(x: Value, dtype: TensorType['dtype']): Value {
    if (x.type.dtype === dtype) return x;
    return this.b.emit1(Op.Convert, [x], none, { resultTypes: [{ dtype, shape: [...x.type.shape] }] });
  }

  /** The real part of a complex64 value (f32). */
  real(x: Value): Value {
    return this.b.emit1(Op.Real, [x], none, { resultTypes: [{ dtype: 'f32', shape: [...x.type.shape] }] });
  }
  /** The imaginary part of a complex64 value (f32). */
  imag(x: Value): Value {
    return this.b.emit1(Op.Imag, [x], none, { resultTypes: [{ dtype: 'f32', shape: [...x.type.shape] }] });
  }
  /** `re + im·i` from two f32 values of one shape. */
  complex(re: Value, im: Value): Value {
    return this.b.emit1(Op.Complex, [re, im], none, { resultTypes: [{ dtype: 'c64', shape: [...re.type.shape] }] });
  }
  /** An f32 value as complex64 with imaginary part 0. */
  toComplex(x: Value): Value {
    return this.complex(x, this.zeros(x.type));
  }
  /** The complex conjugate, as JAX lowers it: `complex(real(x), -imag(x))`. */
  conj(x: Value): Value {
    return this.complex(this.real(x), this.neg(this.imag(x)));
  }
  /** `stablehlo.fft` over the last `lengths.length` dims (its result type from the shape rule). */
  fft(x: Value, fftType: FftType, lengths: readonly number[]): Value {
    return this.b.emit1(Op.Fft, [x], { fftType, fftLength: [...lengths] });
  }

  reshape(x: Value, shape: readonly number[]): Value {
    if (sameDims(x.type.shape, shape)) return x;
    return this.b.emit1(Op.Reshape, [x], none, { resultTypes: [{ dtype: x.type.dtype, shape: [...shape] }] });
  }
  transpose(x: Value, permutation: number[]): Value {
    if (permutation.every((p, i) => p === i)) return x;
    return this.b.emit1(Op.Transpose, [x], { permutation });
  }
  broadcastInDim(x: Value, shape: readonly number[], dims: number[]): Value {
    if (sameDims(x.type.shape, shape) && dims.every((d, i) => d === i)) return x;
    return this.b.emit1(Op.BroadcastInDim, [x], { dims }, { resultTypes: [{ dtype: x.type.dtype, shape: [...shape] }] });
  }
  /** Broadcasts a rank-0 value to `shape`. */
  splat(x: Value, shape: readonly number[]): Value {
    return this.broadcastInDim(x, shape, []);
  }
  slice(x: Value, start: number[], limit: number[], strides?: number[]): Value {
    const s = strides ?? start.map(() => 1);
    if (start.every((v) => v === 0) && limit.every((v, i) => v === x.type.shape[i]) && s.every((v) => v === 1)) return x;
    return this.b.emit1(Op.Slice, [x], { start, limit, strides: s });
  }
  reverse(x: Value, dims: number[]): Value {
    return dims.length === 0 ? x : this.b.emit1(Op.Reverse, [x], { dims });
  }

  /**
   * Pads with zeros, where `low`/`high` may be negative (crop). Negative edges are done as a slice
   * after a non-negative pad, so nothing depends on how far a backend supports negative padding.
   */
  padZeros(x: Value, low: number[], high: number[], interior: number[]): Value {
    let y = x;
    if (low.some((v) => v > 0) || high.some((v) => v > 0) || interior.some((v) => v > 0)) {
      const zero = this.scalar(x.type.dtype, 0);
      y = this.b.emit1(Op.Pad, [x, zero], {
        low: low.map((v) => Math.max(v, 0)), high: high.map((v) => Math.max(v, 0)), interior,
      });
    }
    if (low.some((v) => v < 0) || high.some((v) => v < 0)) {
      const shape = y.type.shape;
      y = this.slice(y, low.map((v) => Math.max(-v, 0)), shape.map((d, i) => d - Math.max(-high[i], 0)));
    }
    return y;
  }

  /** Sums `x` over `dims` (an add-reduction). */
  sum(x: Value, dims: number[]): Value {
    if (dims.length === 0) return x;
    const init = this.scalar(x.type.dtype, 0);
    return this.b.emit1(Op.Reduce, [x, init], { dims: [...dims].sort((a, c) => a - c) }, { regions: [this.combiner(Op.Add, x.type.dtype)] });
  }
  /** Sums every element of `x` to a rank-0 value. */
  total(x: Value): Value {
    return this.sum(x, x.type.shape.map((_, i) => i));
  }

  /** A two-argument scalar region computing `op`, as reductions and scatters take. */
  combiner(op: Op, dtype: TensorType['dtype']): Region {
    const t: TensorType = { dtype, shape: [] };
    return this.b.region([t, t], (rb, [a, c]) => [rb.emit1(op, [a, c], none as OpAttrs[Op])]);
  }

  /** `sum_to`: reduces a value of `shape(x)` back to a value of `t` whose dims broadcast to it. */
  unbroadcastTo(x: Value, t: TensorType): Value {
    if (sameDims(x.type.shape, t.shape)) return x;
    if (t.shape.length === 0) return this.total(x);
    throw new Error(`internal: cannot unbroadcast [${x.type.shape}] to [${t.shape}]`);
  }
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `[0, 1, ..., n-1]`. */
export function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => i + from);
}

/** The inverse of a permutation. */
export function invertPermutation(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => { inv[v] = i; });
  return inv;
}

export type CombinerKind = 'add' | 'mul' | 'max' | 'min' | 'and' | 'or' | 'replace' | 'other';

/**
 * What a two-argument (per input) reduction or scatter region computes, recognised by its shape:
 * one binary op over the two block arguments (`add`, `max`, ...), or returning the second
 * argument (`replace`, as JAX's `.at[].set` scatters). Anything else is `other`.
 */
export function combinerKind(r: Region): CombinerKind {
  const { args, ops } = r.block;
  if (args.length !== 2) return 'other';
  const ret = ops[ops.length - 1];
  if (!ret || ret.operands.length !== 1) return 'other';
  if (ops.length === 1) return ret.operands[0] === args[1] ? 'replace' : 'other';
  if (ops.length !== 2) return 'other';
  const o = ops[0];
  if (o.results[0] !== ret.operands[0]) return 'other';
  const uses = new Set(o.operands);
  if (o.operands.length !== 2 || !uses.has(args[0]) || !uses.has(args[1])) return 'other';
  switch (o.op) {
    case Op.Add: return 'add';
    case Op.Multiply: return 'mul';
    case Op.Maximum: return 'max';
    case Op.Minimum: return 'min';
    case Op.And: return 'and';
    case Op.Or: return 'or';
    default: return 'other';
  }
}
