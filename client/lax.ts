/**
 * @file Primitive ops on tracers: one small function per StableHLO op the numpy layer uses, each
 * taking and returning Arrays of the current trace. No broadcasting or promotion happens here
 * (StableHLO has none); client/numpy decides shapes and dtypes and calls these. Every function
 * must run inside a trace (the public ops are wrapped by `defop`, which provides one).
 */
import { isComplex, isFloat, isUnsigned, type SupportedDType } from '../ir/dtype.js';
import { Op, type ComparisonDirection, type DotDims, type FftType, type GatherDims, type OpAttrs } from '../ir/ops.js';
import type { Value } from '../ir/types.js';
import { KArray } from './array.js';
import type { GraphBuilder } from './builder.js';
import { currentLocation } from './site.js';
import { currentTrace, emit, emit1, refuseComplexUse, tracer, valueOf } from './trace.js';

const none = {} as Record<string, never>;

/**
 * The same value with another weak-type flag, as a tracer of the current trace (a concrete Array
 * or an outer tracer is captured first: the new tracer must belong to the trace that records it).
 */
export function withWeak(x: KArray, weak: boolean): KArray {
  if (x.weak === weak) return x;
  return tracer(valueOf(x), weak);
}

function out(v: Value, weak = false): KArray {
  return tracer(v, weak);
}

/** A constant: a splat of `value`, or `values` in row-major order. */
export function constant(dtype: SupportedDType, shape: readonly number[], values: number | ArrayLike<number>): KArray {
  const b = currentTrace()!.builder;
  b.currentLoc = currentLocation();
  return out(b.constant(dtype, shape, values));
}

export function unary(op: Op, x: KArray, resultDType?: SupportedDType): KArray {
  return out(emit1(op, [valueOf(x)], none as OpAttrs[Op], resultDType ? { resultTypes: [{ dtype: resultDType, shape: [...x.shape] }] } : {}), x.weak);
}

/** A binary op on operands of equal shape and dtype. */
export function binary(op: Op, x: KArray, y: KArray): KArray {
  return out(emit1(op, [valueOf(x), valueOf(y)], none as OpAttrs[Op]), x.weak && y.weak);
}

export function compareType(d: SupportedDType): 'FLOAT' | 'SIGNED' | 'UNSIGNED' {
  // Complex values compare as FLOAT (StableHLO's convention; only EQ and NE are defined on them).
  return isFloat(d) || isComplex(d) ? 'FLOAT' : isUnsigned(d) || d === 'i1' ? 'UNSIGNED' : 'SIGNED';
}

/** Elementwise comparison of equal-typed operands; i1 result. */
export function compare(direction: ComparisonDirection, x: KArray, y: KArray): KArray {
  return out(emit1(Op.Compare, [valueOf(x), valueOf(y)], { direction, compareType: compareType(x.dtype) }));
}

export function select(pred: KArray, onTrue: KArray, onFalse: KArray): KArray {
  return out(emit1(Op.Select, [valueOf(pred), valueOf(onTrue), valueOf(onFalse)], none), onTrue.weak && onFalse.weak);
}

/**
 * Converts the element type. To i1 it is `x != 0` (StableHLO's convert to i1 is the same, but the
 * comparison says so plainly; a complex value is true when either part is nonzero); from i1 it is
 * 0/1; from complex64 to a real type it keeps the real part, as JAX does.
 */
export function convert(x: KArray, dtype: SupportedDType, weak = false): KArray {
  if (x.dtype === dtype) return withWeak(x, weak);
  if (dtype === 'i1') return compare('NE', x, constant(x.dtype, x.shape, 0));
  // JAX's complex-to-real conversion keeps the real part (with numpy's ComplexWarning).
  if (isComplex(x.dtype) && !isComplex(dtype)) return convert(real(x), dtype, weak);
  return out(emit1(Op.Convert, [valueOf(x)], none, { resultTypes: [{ dtype, shape: [...x.shape] }] }), weak);
}

/** The real part of a complex Array (`stablehlo.real`: c64 to f32). */
export function real(x: KArray): KArray {
  return out(emit1(Op.Real, [valueOf(x)], none, { resultTypes: [{ dtype: 'f32', shape: [...x.shape] }] }), x.weak);
}

/** The imaginary part of a complex Array (`stablehlo.imag`: c64 to f32). */
export function imag(x: KArray): KArray {
  return out(emit1(Op.Imag, [valueOf(x)], none, { resultTypes: [{ dtype: 'f32', shape: [...x.shape] }] }), x.weak);
}

/** `re + im·i` from two f32 Arrays of one shape (`stablehlo.complex`). */
export function complex(re: KArray, im: KArray): KArray {
  return out(emit1(Op.Complex, [valueOf(re), valueOf(im)], none, { resultTypes: [{ dtype: 'c64', shape: [...re.shape] }] }), re.weak && im.weak);
}

/** The complex conjugate, as JAX lowers `lax.conj`: `complex(real(x), -imag(x))`. */
export function conj(x: KArray): KArray {
  return withWeak(complex(real(x), unary(Op.Negate, imag(x))), x.weak);
}

/**
 * `stablehlo.fft` over the last `lengths.length` dims: FFT/IFFT c64 to c64, RFFT f32 to c64 (the
 * last dim becomes n/2 + 1), IRFFT c64 to f32 (the last dim becomes n).
 */
export function fft(x: KArray, fftType: FftType, lengths: readonly number[]): KArray {
  return out(emit1(Op.Fft, [valueOf(x)], { fftType, fftLength: [...lengths] }));
}

/** `stablehlo.reduce_precision`: rounds to `exponentBits`/`mantissaBits`, keeping the dtype. */
export function reducePrecision(x: KArray, exponentBits: number, mantissaBits: number): KArray {
  return out(emit1(Op.ReducePrecision, [valueOf(x)], { exponentBits, mantissaBits }), x.weak);
}

export function bitcast(x: KArray, dtype: SupportedDType): KArray {
  return out(emit1(Op.BitcastConvert, [valueOf(x)], none, { resultTypes: [{ dtype, shape: [...x.shape] }] }));
}

export function broadcastInDim(x: KArray, shape: readonly number[], dims: readonly number[]): KArray {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) && dims.every((d, i) => d === i)) return x;
  return out(emit1(Op.BroadcastInDim, [valueOf(x)], { dims: [...dims] }, { resultTypes: [{ dtype: x.dtype, shape: [...shape] }] }), x.weak);
}

export function reshape(x: KArray, shape: readonly number[]): KArray {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return out(emit1(Op.Reshape, [valueOf(x)], none, { resultTypes: [{ dtype: x.dtype, shape: [...shape] }] }), x.weak);
}

export function transpose(x: KArray, permutation: readonly number[]): KArray {
  if (permutation.every((p, i) => p === i)) return x;
  return out(emit1(Op.Transpose, [valueOf(x)], { permutation: [...permutation] }), x.weak);
}

export function slice(x: KArray, start: readonly number[], limit: readonly number[], strides?: readonly number[]): KArray {
  const s = strides ?? start.map(() => 1);
  if (start.every((v) => v === 0) && limit.every((v, i) => v === x.shape[i]) && s.every((v) => v === 1)) return x;
  return out(emit1(Op.Slice, [valueOf(x)], { start: [...start], limit: [...limit], strides: [...s] }), x.weak);
}

export function concatenate(xs: readonly KArray[], dim: number): KArray {
  if (xs.length === 1) return xs[0];
  return out(emit1(Op.Concatenate, xs.map(valueOf), { dim }), xs.every((x) => x.weak));
}

export function pad(x: KArray, padValue: KArray, low: readonly number[], high: readonly number[], interior?: readonly number[]): KArray {
  return out(emit1(Op.Pad, [valueOf(x), valueOf(padValue)], { low: [...low], high: [...high], interior: interior ? [...interior] : low.map(() => 0) }), x.weak);
}

export function reverse(x: KArray, dims: readonly number[]): KArray {
  if (dims.length === 0) return x;
  return out(emit1(Op.Reverse, [valueOf(x)], { dims: [...dims] }), x.weak);
}

export function iota(dtype: SupportedDType, shape: readonly number[], dim: number): KArray {
  return out(emit1(Op.Iota, [], { dim }, { resultTypes: [{ dtype, shape: [...shape] }] }));
}

/** A reduction body over scalars: the block arguments are `[...accumulators, ...elements]`. */
export type ReduceBody = (b: GraphBuilder, args: Value[]) => Value[];

/** A body that combines one accumulator and one element with a binary op. */
export function binaryBody(op: Op): ReduceBody {
  return (b, [acc, x]) => [b.emit1(op, [acc, x], none as OpAttrs[Op])];
}

/** `stablehlo.reduce` of `xs` over `dims` with initial values `inits` (scalars). */
export function reduce(xs: readonly KArray[], inits: readonly KArray[], dims: readonly number[], body: ReduceBody): KArray[] {
  const b = currentTrace()!.builder;
  const scalarTypes = [...xs, ...xs].map((x) => ({ dtype: x.dtype, shape: [] as number[] }));
  const region = b.region(scalarTypes, body);
  for (const o of region.block.ops) refuseComplexUse(o.op, o.operands, o.attrs);
  const res = emit(Op.Reduce, [...xs.map(valueOf), ...inits.map(valueOf)], { dims: [...dims] }, { regions: [region] });
  return res.map((v) => out(v));
}

/** `stablehlo.reduce_window` of one operand (used for cumulative sums and products). */
export function reduceWindow(x: KArray, init: KArray, attrs: OpAttrs[Op.ReduceWindow], body: ReduceBody): KArray {
  const b = currentTrace()!.builder;
  const region = b.region([{ dtype: x.dtype, shape: [] }, { dtype: x.dtype, shape: [] }], body);
  return out(emit1(Op.ReduceWindow, [valueOf(x), valueOf(init)], attrs, { regions: [region] }), x.weak);
}

export function dotGeneral(x: KArray, y: KArray, dims: DotDims): KArray {
  return out(emit1(Op.DotGeneral, [valueOf(x), valueOf(y)], { dims }), x.weak && y.weak);
}

/**
 * `stablehlo.sort` of `xs` along `dimension`, ordered lexicographically by the first `numKeys`
 * operands ascending (NaNs last for floats, as NumPy sorts them; NaNs equal one another and -0
 * equals 0 for the tie-breaking of later keys, as JAX's comparator).
 */
export function sort(xs: readonly KArray[], dimension: number, isStable = true, numKeys = 1): KArray[] {
  const b = currentTrace()!.builder;
  const types = xs.flatMap((x) => [{ dtype: x.dtype, shape: [] as number[] }, { dtype: x.dtype, shape: [] as number[] }]);
  const region = b.region(types, (rb, args) => {
    // Comparator arguments are (lhs0, rhs0, lhs1, rhs1, ...).
    const cmp = (l: Value, r: Value, direction: 'LT' | 'EQ' | 'NE', ct: 'FLOAT' | 'SIGNED' | 'UNSIGNED') => rb.emit1(Op.Compare, [l, r], { direction, compareType: ct });
    const less = (k: number, l: Value, r: Value): Value => {
      const ct = compareType(xs[k].dtype);
      if (ct !== 'FLOAT') return cmp(l, r, 'LT', ct);
      // l < r, or r is NaN and l is not: NaNs sort to the end.
      const lt = cmp(l, r, 'LT', 'FLOAT');
      const lNum = cmp(l, l, 'EQ', 'FLOAT'), rNaN = cmp(r, r, 'NE', 'FLOAT');
      return rb.emit1(Op.Or, [lt, rb.emit1(Op.And, [lNum, rNaN], none)], none);
    };
    // From the last key up: lt_k || (eq_k && (order by the keys after k)).
    let p = less(numKeys - 1, args[2 * numKeys - 2], args[2 * numKeys - 1]);
    for (let k = numKeys - 2; k >= 0; k--) {
      const [l, r] = [args[2 * k], args[2 * k + 1]];
      const lt = less(k, l, r), gt = less(k, r, l);
      const eq = rb.emit1(Op.And, [rb.emit1(Op.Not, [lt], none), rb.emit1(Op.Not, [gt], none)], none);
      p = rb.emit1(Op.Or, [lt, rb.emit1(Op.And, [eq, p], none)], none);
    }
    return [p];
  });
  const res = emit(Op.Sort, xs.map(valueOf), { dimension, isStable }, { regions: [region] });
  return res.map((v, i) => out(v, xs[i].weak));
}

export function gather(x: KArray, indices: KArray, dims: GatherDims, sliceSizes: readonly number[]): KArray {
  return out(emit1(Op.Gather, [valueOf(x), valueOf(indices)], { dims, sliceSizes: [...sliceSizes], indicesAreSorted: false }), x.weak);
}
