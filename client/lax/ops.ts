/**
 * @file The public `lax` operations beyond control flow: `dotGeneral`, `topK`, `sort`, the
 * cumulative reductions, `reducePrecision`, `bitcastConvertType`, the special functions, `clamp`,
 * `iota`, `broadcastInDim`, the shifts and bit counts, and the elementwise names of `jax.lax`.
 * As in JAX, lax does not promote: binary operands must have one dtype and one shape (a JS number
 * takes the other operand's dtype, as a weak scalar does in JAX); a mismatch is a KilnError.
 */
import { isComplex, isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, type Check } from '../args.js';
import * as ilax from '../lax.js';
import * as np from '../numpy/index.js';
import { asArray, checkShape, normAxis, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { associativeScan } from './associative.js';

/** Operands of a lax binary op: one dtype, one shape (JS numbers take the Array's); also used by client/lax/special.ts. */
export function same(name: string, x: Operand, y: Operand): [KArray, KArray] {
  if (typeof x === 'number' && typeof y === 'number') return [ilax.constant('f32', [], x), ilax.constant('f32', [], y)];
  const a = typeof x === 'number' ? ilax.constant((y as KArray).dtype, (y as KArray).shape, x) : asArray(x);
  const b = typeof y === 'number' ? ilax.constant(a.dtype, a.shape, y) : asArray(y);
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw traceError(`lax.${name} needs operands of one dtype and shape (lax does not promote or broadcast), got ${a.describe()} and ${b.describe()}`);
  }
  return [a, b];
}

type Kind = 'float' | 'int' | 'any';
const KIND_TEXT: Record<Kind, string> = { float: 'a float', int: 'an integer', any: 'any' };
function checkKind(name: string, x: KArray, kind: Kind): KArray {
  const ok = kind === 'any' || (kind === 'float') === isFloat(x.dtype);
  if (!ok || (kind === 'int' && x.dtype === 'i1')) throw traceError(`lax.${name} needs ${KIND_TEXT[kind]} operand, got ${x.describe()}`);
  return x;
}

function unaryOp(name: string, op: Op, kind: Kind) {
  return defapi(`lax.${name}`, [p('x', A.array)], (x: Operand): KArray => ilax.unary(op, checkKind(name, asArray(x), kind))) as (x: Operand) => KArray;
}
function binaryOp(name: string, op: Op, kind: Kind) {
  return defapi(`lax.${name}`, [p('x', A.array), p('y', A.array)], (x: Operand, y: Operand): KArray => {
    const [a, b] = same(name, x, y);
    return ilax.binary(op, checkKind(name, a, kind), b);
  }) as (x: Operand, y: Operand) => KArray;
}

// ---- elementwise --------------------------------------------------------------------------------
export const abs = unaryOp('abs', Op.Abs, 'any');
export const neg = unaryOp('neg', Op.Negate, 'any');
export const sign = unaryOp('sign', Op.Sign, 'any');
export const exp = unaryOp('exp', Op.Exp, 'float');
export const expm1 = unaryOp('expm1', Op.Expm1, 'float');
export const log = unaryOp('log', Op.Log, 'float');
export const log1p = unaryOp('log1p', Op.Log1p, 'float');
export const logistic = unaryOp('logistic', Op.Logistic, 'float');
export const sqrt = unaryOp('sqrt', Op.Sqrt, 'float');
export const rsqrt = unaryOp('rsqrt', Op.Rsqrt, 'float');
export const cbrt = unaryOp('cbrt', Op.Cbrt, 'float');
export const sin = unaryOp('sin', Op.Sin, 'float');
export const cos = unaryOp('cos', Op.Cos, 'float');
export const tan = unaryOp('tan', Op.Tan, 'float');
export const tanh = unaryOp('tanh', Op.Tanh, 'float');
export const sinh = unaryOp('sinh', Op.Sinh, 'float');
export const cosh = unaryOp('cosh', Op.Cosh, 'float');
export const asin = unaryOp('asin', Op.Asin, 'float');
export const acos = unaryOp('acos', Op.Acos, 'float');
export const atan = unaryOp('atan', Op.Atan, 'float');
export const asinh = unaryOp('asinh', Op.Asinh, 'float');
export const acosh = unaryOp('acosh', Op.Acosh, 'float');
export const atanh = unaryOp('atanh', Op.Atanh, 'float');
export const floor = unaryOp('floor', Op.Floor, 'float');
export const ceil = unaryOp('ceil', Op.Ceil, 'float');
/** Rounds half away from zero (JAX's default rounding method). */
export const round = unaryOp('round', Op.RoundAfz, 'float');
export const isFinite = defapi('lax.isFinite', [p('x', A.array)], (x: Operand): KArray => ilax.unary(Op.IsFinite, checkKind('isFinite', asArray(x), 'float'), 'i1')) as (x: Operand) => KArray;
export const square = unaryOp('square', Op.Square, 'any');
export const erf = unaryOp('erf', Op.Erf, 'float');
export const erfc = unaryOp('erfc', Op.Erfc, 'float');
export const erfInv = unaryOp('erfInv', Op.ErfInv, 'float');
export const lgamma = unaryOp('lgamma', Op.Lgamma, 'float');
export const digamma = unaryOp('digamma', Op.Digamma, 'float');
export const populationCount = unaryOp('populationCount', Op.Popcnt, 'int');
export const clz = unaryOp('clz', Op.Clz, 'int');
export const bitwiseNot = unaryOp('bitwiseNot', Op.Not, 'any');

export const add = binaryOp('add', Op.Add, 'any');
export const sub = binaryOp('sub', Op.Subtract, 'any');
export const mul = binaryOp('mul', Op.Multiply, 'any');
export const div = binaryOp('div', Op.Divide, 'any');
export const rem = binaryOp('rem', Op.Remainder, 'any');
export const pow = binaryOp('pow', Op.Power, 'float');
export const max = binaryOp('max', Op.Maximum, 'any');
export const min = binaryOp('min', Op.Minimum, 'any');
export const atan2 = binaryOp('atan2', Op.Atan2, 'float');
/**
 * `re + im·i` (JAX's `lax.complex`): two f32 Arrays of one shape (a JS number takes the other's)
 * make a complex64 Array, the one complex type kiln has.
 */
export const complex = defapi('lax.complex', [p('x', A.array), p('y', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b] = same('complex', x, y);
  if (a.dtype !== 'f32') throw traceError(`lax.complex needs f32 parts (complex64 is kiln's one complex type), got ${a.describe()} and ${b.describe()}`);
  return ilax.complex(a, b);
}) as (x: Operand, y: Operand) => KArray;
function complexPart(name: 'real' | 'imag') {
  return defapi(`lax.${name}`, [p('x', A.array)], (x: Operand): KArray => {
    const a = asArray(x);
    if (!isComplex(a.dtype)) throw traceError(`lax.${name} needs a complex64 operand, got ${a.describe()} (np.${name} also takes reals)`);
    return ilax[name](a);
  }) as (x: Operand) => KArray;
}
/** The real part of a complex64 Array (f32). */
export const real = complexPart('real');
/** The imaginary part of a complex64 Array (f32). */
export const imag = complexPart('imag');
/** The complex conjugate; a real operand is made complex64 first, as JAX's `lax.conj` does. */
export const conj = defapi('lax.conj', [p('x', A.array)], (x: Operand): KArray => {
  const a = asArray(x);
  if (!isComplex(a.dtype) && !isFloat(a.dtype)) throw traceError(`lax.conj needs a float or complex64 operand, got ${a.describe()}`);
  return ilax.conj(isComplex(a.dtype) ? a : ilax.convert(a, 'c64', a.weak));
}) as (x: Operand) => KArray;
export const bitwiseAnd = binaryOp('bitwiseAnd', Op.And, 'any');
export const bitwiseOr = binaryOp('bitwiseOr', Op.Or, 'any');
export const bitwiseXor = binaryOp('bitwiseXor', Op.Xor, 'any');
export const shiftLeft = binaryOp('shiftLeft', Op.ShiftLeft, 'int');
export const shiftRightLogical = binaryOp('shiftRightLogical', Op.ShiftRightLogical, 'int');
export const shiftRightArithmetic = binaryOp('shiftRightArithmetic', Op.ShiftRightArithmetic, 'int');

/** min(max(x, lo), hi), with `lo`/`hi` scalars or of x's shape, all of x's dtype (JAX's argument order). */
export const clamp = defapi('lax.clamp', [p('min', A.array), p('x', A.array), p('max', A.array)], (lo: Operand, x: Operand, hi: Operand): KArray => {
  const a = asArray(x);
  const bound = (v: Operand, what: string) => {
    const b = typeof v === 'number' ? ilax.constant(a.dtype, [], v) : asArray(v);
    if (b.dtype !== a.dtype || (b.ndim !== 0 && (b.ndim !== a.ndim || b.shape.some((d, i) => d !== a.shape[i])))) {
      throw traceError(`lax.clamp: ${what} ${b.describe()} must be a scalar or of x's shape and dtype (${a.describe()})`);
    }
    return b.ndim === 0 ? ilax.broadcastInDim(b, a.shape, []) : b;
  };
  return ilax.binary(Op.Minimum, ilax.binary(Op.Maximum, a, bound(lo, 'min')), bound(hi, 'max'));
}) as (min: Operand, x: Operand, max: Operand) => KArray;

// ---- shapes -------------------------------------------------------------------------------------

/** `arange(size)` of `dtype` (JAX's `lax.iota(dtype, size)`). */
export const iota = defapi('lax.iota', [p('dtype', A.dtype), p('size', A.count)], (dtype: SupportedDType, size: number): KArray => ilax.iota(dtype, [size], 0)) as (dtype: string, size: number) => KArray;

/** `operand` broadcast to `shape`, its axis i landing on `broadcastDimensions[i]`. */
export const broadcastInDim = defapi('lax.broadcastInDim', [p('operand', A.array), p('shape', A.shape), p('broadcastDimensions', A.ints)], (x: Operand, shapeArg: number[], dims: number[]): KArray => {
  const a = asArray(x);
  const shape = checkShape(shapeArg);
  if (dims.length !== a.ndim || dims.some((d, i) => d < 0 || d >= shape.length || (a.shape[i] !== 1 && a.shape[i] !== shape[d]) || (i > 0 && d <= dims[i - 1]))) {
    throw traceError(`lax.broadcastInDim: broadcastDimensions [${dims.join(', ')}] do not place ${a.describe()} into shape [${shape.join(', ')}] (one increasing output axis per operand axis, of equal size or 1)`);
  }
  return ilax.broadcastInDim(a, shape, dims);
}) as (operand: Operand, shape: readonly number[], broadcastDimensions: readonly number[]) => KArray;

/** Reinterprets the bits of `x` as `dtype` (same bit width: f32, i32, ui32). */
export const bitcastConvertType = defapi('lax.bitcastConvertType', [p('operand', A.array), p('newDtype', A.dtypeIn('f32', 'i32', 'ui32'))], (x: Operand, dtype: SupportedDType): KArray => {
  const a = asArray(x);
  if (!['f32', 'i32', 'ui32'].includes(a.dtype)) throw traceError(`lax.bitcastConvertType: only 32-bit operands are implemented, got ${a.describe()}`);
  return ilax.bitcast(a, dtype);
}) as (operand: Operand, newDtype: string) => KArray;

/** Rounds f32 values to a float format of `exponentBits` and `mantissaBits` (kept as f32). */
export const reducePrecision = defapi('lax.reducePrecision', [p('operand', A.array), p('exponentBits', A.count), p('mantissaBits', A.count)], (x: Operand, exponentBits: number, mantissaBits: number): KArray => {
  const a = checkKind('reducePrecision', asArray(x), 'float');
  if (exponentBits < 1 || exponentBits > 8 || mantissaBits > 23) throw traceError(`lax.reducePrecision: exponentBits ${exponentBits} must be 1..8 and mantissaBits ${mantissaBits} at most 23 for f32`);
  return ilax.reducePrecision(a, exponentBits, mantissaBits);
}) as (operand: Operand, exponentBits: number, mantissaBits: number) => KArray;

// ---- contractions and sorting -------------------------------------------------------------------

/** `((lhsContracting, rhsContracting), (lhsBatch, rhsBatch))`, as jax.lax.dot_general's dimension_numbers. */
export type DimensionNumbers = [[number[], number[]], [number[], number[]]];
const DIMS: Check<DimensionNumbers> = {
  accepts: '[[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]] (lists of axes)',
  parse(v, q) {
    const ok = Array.isArray(v) && v.length === 2 && v.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((l) => Array.isArray(l) && l.every(Number.isInteger)));
    if (!ok) throw traceError(`${q} must be [[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]] (lists of axes), got ${JSON.stringify(v)}`);
    return v as DimensionNumbers;
  },
};

/**
 * General dot product: contracts `lhs` and `rhs` over the contracting axes, batched over the batch
 * axes; the result is [batch..., lhs free..., rhs free...], as jax.lax.dot_general.
 * `preferredElementType` may be the operands' dtype or f32 for f16 operands.
 */
export const dotGeneral = defapi('lax.dotGeneral', [p('lhs', A.array), p('rhs', A.array), p('dimensionNumbers', DIMS), p('precision', A.unsupported('kiln computes f32 dots at full precision'), null), p('preferredElementType', A.orNull(A.dtype), null)], (x: Operand, y: Operand, dn: DimensionNumbers, _precision: null, preferred: SupportedDType | null): KArray => {
  let [a, b] = [asArray(x), asArray(y)];
  if (a.dtype !== b.dtype) throw traceError(`lax.dotGeneral needs operands of one dtype, got ${a.describe()} and ${b.describe()}`);
  if (preferred !== null && preferred !== a.dtype) {
    if (!(preferred === 'f32' && a.dtype === 'f16')) throw traceError(`lax.dotGeneral: preferredElementType ${preferred} for ${a.dtype} operands is not implemented`);
    [a, b] = [ilax.convert(a, 'f32'), ilax.convert(b, 'f32')];
  }
  const [[lc, rc], [lb, rb]] = dn;
  const nl = (ax: number[], t: KArray) => ax.map((i) => normAxis(i, t.ndim));
  const dims = { lhsBatch: nl(lb, a), rhsBatch: nl(rb, b), lhsContract: nl(lc, a), rhsContract: nl(rc, b) };
  for (let i = 0; i < dims.lhsContract.length; i++) {
    if (a.shape[dims.lhsContract[i]] !== b.shape[dims.rhsContract[i]]) throw traceError(`lax.dotGeneral: contracting axes [${lc}] x [${rc}] have sizes ${dims.lhsContract.map((d) => a.shape[d])} and ${dims.rhsContract.map((d) => b.shape[d])} (${a.describe()}, ${b.describe()})`);
  }
  return ilax.dotGeneral(a, b, dims);
}) as (lhs: Operand, rhs: Operand, dimensionNumbers: DimensionNumbers, precision?: null, preferredElementType?: string | null) => KArray;

/** Matrix/vector product of two rank-1 or rank-2 operands (jax.lax.dot). */
export const dot = defapi('lax.dot', [p('lhs', A.array), p('rhs', A.array)], (x: Operand, y: Operand): KArray => {
  const [a, b] = [asArray(x), asArray(y)];
  if (a.ndim < 1 || a.ndim > 2 || b.ndim < 1 || b.ndim > 2) throw traceError(`lax.dot takes rank-1 or rank-2 operands, got ${a.describe()} and ${b.describe()}`);
  return dotGeneral(a, b, [[[a.ndim - 1], [0]], [[], []]]);
}) as (lhs: Operand, rhs: Operand) => KArray;

/**
 * Sorts `operand` (an Array or a list of Arrays of one shape) along `dimension` (default -1), all
 * operands permuted by the first `numKeys` (default 1) compared lexicographically, stable by default.
 */
export const sort = defapi('lax.sort', [p('operand', { accepts: 'an Array or a list of Arrays', parse: (v, q) => (Array.isArray(v) ? A.arrays.parse(v, q) : A.array.parse(v, q)) } as Check<Operand | Operand[]>), p('dimension', A.axis, -1), p('isStable', A.bool, true), p('numKeys', A.count, 1)], (ops: Operand | Operand[], dimension: number, isStable: boolean, numKeys: number): KArray | KArray[] => {
  const list = (Array.isArray(ops) ? ops : [ops]).map(asArray);
  if (numKeys < 1 || numKeys > list.length) throw traceError(`numKeys must be between 1 and the number of operands (${list.length}), got ${numKeys}`);
  const s = list[0].shape;
  if (list.some((x) => x.ndim !== s.length || x.shape.some((d, i) => d !== s[i]))) throw traceError(`operands must have one shape, got ${list.map((x) => x.describe()).join(', ')}`);
  const out = ilax.sort(list, normAxis(dimension, s.length), isStable, numKeys);
  return Array.isArray(ops) ? out : out[0];
}) as (operand: Operand | Operand[], dimension?: number | SortOptions, isStable?: boolean | SortOptions, numKeys?: number) => KArray | KArray[];

/** The options object of {@link sort}. */
export interface SortOptions { dimension?: number; isStable?: boolean; numKeys?: number }

/** The `k` largest values along the last axis, descending, and their i32 indices (ties: lower index first). */
export const topK = defapi('lax.topK', [p('operand', A.array), p('k', A.count)], (x: Operand, k: number): KArray[] => {
  const a = asArray(x);
  const last = a.ndim - 1;
  if (a.ndim === 0 || k > a.shape[last]) throw traceError(`k = ${k} must be at most the last axis of ${a.describe()}`);
  // Sort descending by negating the key; a stable sort keeps lower indices first among ties.
  const keyOf = isFloat(a.dtype) ? ilax.unary(Op.Negate, a) : ilax.unary(Op.Not, a);
  const [, vals, idx] = ilax.sort([keyOf, a, ilax.iota('i32', a.shape, last)], last, true);
  const lim = [...a.shape.slice(0, last), k];
  return [ilax.slice(vals, a.shape.map(() => 0), lim), ilax.slice(idx, a.shape.map(() => 0), lim)];
}) as (operand: Operand, k: number) => [KArray, KArray];

// ---- cumulative reductions ----------------------------------------------------------------------

function cumulative(name: string, combine: (a: KArray, b: KArray) => KArray) {
  return defapi(`lax.${name}`, [p('operand', A.array), p('axis', A.axis, 0), p('reverse', A.bool, false)], (x: Operand, axis: number, reverse: boolean): KArray => {
    const a = asArray(x);
    return associativeScan(combine, a, { axis: normAxis(axis, a.ndim), reverse }) as KArray;
  }) as (operand: Operand, axis?: number, reverse?: boolean) => KArray;
}

const logaddexp = (a: KArray, b: KArray): KArray => {
  const m = np.maximum(a, b);
  const safe = np.where(np.isfinite(m), m, 0);
  return np.add(safe, np.log(np.add(np.exp(np.subtract(a, safe)), np.exp(np.subtract(b, safe)))));
};

/** Running sums along `axis` (from the end with `reverse`). */
export const cumsum = cumulative('cumsum', (a, b) => np.add(a, b));
/** Running products along `axis`. */
export const cumprod = cumulative('cumprod', (a, b) => np.multiply(a, b));
/** Running maxima along `axis`. */
export const cummax = cumulative('cummax', (a, b) => np.maximum(a, b));
/** Running minima along `axis`. */
export const cummin = cumulative('cummin', (a, b) => np.minimum(a, b));
/** Running log(sum(exp)) along `axis`. */
export const cumlogsumexp = cumulative('cumlogsumexp', logaddexp);
