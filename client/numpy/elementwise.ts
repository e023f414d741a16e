/**
 * @file Elementwise NumPy functions: arithmetic, comparisons, logic, transcendental functions,
 * `where` and `clip`, each with broadcasting and promotion (promote.ts). Functions that are only
 * defined on reals (sqrt, exp, sin, ...) take ints and bools as f32, as NumPy and JAX do.
 */
import { isComplex, isFloat, isUnsigned } from '../../ir/dtype.js';
import { Op, type ComparisonDirection } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { A, defapi, p, X, XY, type Binary, type Unary } from '../args.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { NEEDS_SIZE, nonzeroImpl } from './nonzero.js';
import { asArray, isNumberLike, broadcastShapes, broadcastTo, cast, floatOf, prepare, type Operand } from './promote.js';

function arith(op: Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b] } = prepare([x, y]);
    if (a.dtype === 'i1' && op !== Op.Maximum && op !== Op.Minimum) {
      // NumPy: bool + bool is logical or, bool * bool is and; arithmetic on bools goes through i32.
      return lax.convert(lax.binary(op, lax.convert(a, 'i32'), lax.convert(b, 'i32')), 'i1');
    }
    return lax.binary(op, a, b);
  };
}

function realUnary(op: Op) {
  return (x: Operand): KArray => {
    const a = asArray(x);
    return lax.unary(op, cast(a, floatOf(a.dtype), a.weak));
  };
}

export const add = defapi('np.add', XY, arith(Op.Add)) as Binary;
/** `x - y`; booleans are refused, as in NumPy and JAX (use logicalXor). */
export const subtract = defapi('np.subtract', XY, (x: Operand, y: Operand): KArray => {
  if (!isNumberLike(x) && !isNumberLike(y) && (x as KArray).dtype === 'i1' && (y as KArray).dtype === 'i1') {
    throw traceError('numpy boolean subtract, the `-` operator, is not supported; use logicalXor (or bitwiseXor) instead');
  }
  return arith(Op.Subtract)(x, y);
}) as Binary;
export const multiply = defapi('np.multiply', XY, arith(Op.Multiply)) as Binary;
export const maximum = defapi('np.maximum', XY, arith(Op.Maximum)) as Binary;
export const minimum = defapi('np.minimum', XY, arith(Op.Minimum)) as Binary;

/** True division: ints and bools give f32. */
export const divide = defapi('np.divide', XY, (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype, weak } = prepare([x, y]);
  const f = floatOf(dtype);
  return lax.binary(Op.Divide, cast(a, f, weak), cast(b, f, weak));
}) as Binary;

/** NumPy's floor division: rounds toward minus infinity (StableHLO's divide truncates ints). */
export const floorDivide = defapi('np.floorDivide', XY, (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype } = prepare([x, y]);
  if (isFloat(dtype)) return lax.unary(Op.Floor, lax.binary(Op.Divide, a, b));
  if (dtype === 'i1') throw traceError('floor division of booleans is not defined');
  const q = lax.binary(Op.Divide, a, b);
  if (isUnsigned(dtype)) return q;
  // Truncated quotient minus one where the signs differ and the division is inexact.
  const zero = lax.constant(dtype, a.shape, 0);
  const r = lax.binary(Op.Remainder, a, b);
  const signsDiffer = lax.compare('NE', lax.compare('LT', a, zero), lax.compare('LT', b, zero));
  const inexact = lax.compare('NE', r, zero);
  const fix = lax.binary(Op.And, signsDiffer, inexact);
  return lax.select(fix, lax.binary(Op.Subtract, q, lax.constant(dtype, a.shape, 1)), q);
}) as Binary;

/** NumPy's mod: the remainder takes the sign of the divisor. */
export const mod = defapi('np.mod', XY, (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype } = prepare([x, y]);
  if (dtype === 'i1') throw traceError('mod of booleans is not defined');
  const r = lax.binary(Op.Remainder, a, b);
  if (isUnsigned(dtype)) return r;
  const zero = lax.constant(dtype, a.shape, 0);
  const signsDiffer = lax.compare('NE', lax.compare('LT', r, zero), lax.compare('LT', b, zero));
  const fix = lax.binary(Op.And, lax.compare('NE', r, zero), signsDiffer);
  return lax.select(fix, lax.binary(Op.Add, r, b), r);
}) as Binary;

/**
 * `x ** y`. A JS integer exponent is expanded into multiplications (exact, and defined for negative
 * bases on every device); other exponents use `stablehlo.power`.
 */
export const power = defapi('np.power', [p('x', A.array), p('y', { ...A.array, data: false })], (x: Operand, y: Operand): KArray => {
  if (typeof y === 'number' && Number.isInteger(y) && Math.abs(y) <= 64 && !isNumberLike(x)) {
    return integerPower(x as KArray, y);
  }
  const { args: [a, b] } = prepare([x, y]);
  return lax.binary(Op.Power, a, b);
});

function integerPower(x: KArray, n: number): KArray {
  if (n < 0) {
    const f = cast(x, floatOf(x.dtype), x.weak);
    return lax.binary(Op.Divide, lax.constant(f.dtype, f.shape, 1), integerPower(f, -n));
  }
  if (n === 0) return lax.withWeak(lax.constant(x.dtype, x.shape, 1), x.weak);
  // Square-and-multiply.
  let result: KArray | undefined;
  let base = x;
  for (let k = n; k > 0; k >>= 1) {
    if (k & 1) result = result ? lax.binary(Op.Multiply, result, base) : base;
    if (k > 1) base = lax.binary(Op.Multiply, base, base);
  }
  return result!;
}

export const negative = defapi('np.negative', X, (x: Operand) => {
  const a = asArray(x);
  if (a.dtype === 'i1') throw traceError('negative of booleans is not defined; use logicalNot');
  return lax.unary(Op.Negate, a);
}) as Unary;
/** `|x|`; of a complex64 Array, its modulus as f32 (`stablehlo.abs` of complex<f32> is f32). */
export const abs = defapi('np.abs', X, (x: Operand) => {
  const a = asArray(x);
  if (isComplex(a.dtype)) return lax.unary(Op.Abs, a, 'f32');
  return a.dtype === 'i1' || isUnsigned(a.dtype) ? a : lax.unary(Op.Abs, a);
}) as Unary;
export const sign = defapi('np.sign', X, (x: Operand) => {
  const a = asArray(x);
  if (a.dtype === 'i1' || isUnsigned(a.dtype)) return lax.convert(lax.convert(a, 'i1'), a.dtype);
  return lax.unary(Op.Sign, a);
}) as Unary;
export const square = defapi('np.square', X, (x: Operand) => {
  const a = asArray(x);
  return lax.binary(Op.Multiply, a, a);
}) as Unary;
/** `1 / x` (ints give f32). */
export const reciprocal = defapi('np.reciprocal', X, (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.withWeak(lax.constant(f.dtype, f.shape, 1), f.weak), f);
}) as Unary;

export const sqrt = defapi('np.sqrt', X, realUnary(Op.Sqrt)) as Unary;
export const rsqrt = defapi('np.rsqrt', X, realUnary(Op.Rsqrt)) as Unary;
export const exp = defapi('np.exp', X, realUnary(Op.Exp)) as Unary;
export const log = defapi('np.log', X, realUnary(Op.Log)) as Unary;
export const log1p = defapi('np.log1p', X, realUnary(Op.Log1p)) as Unary;
export const expm1 = defapi('np.expm1', X, realUnary(Op.Expm1)) as Unary;
export const sin = defapi('np.sin', X, realUnary(Op.Sin)) as Unary;
export const cos = defapi('np.cos', X, realUnary(Op.Cos)) as Unary;
export const tan = defapi('np.tan', X, realUnary(Op.Tan)) as Unary;
export const tanh = defapi('np.tanh', X, realUnary(Op.Tanh)) as Unary;
export const arcsin = defapi('np.arcsin', X, realUnary(Op.Asin)) as Unary;
export const arccos = defapi('np.arccos', X, realUnary(Op.Acos)) as Unary;
export const arctan = defapi('np.arctan', X, realUnary(Op.Atan)) as Unary;
export const sinh = defapi('np.sinh', X, realUnary(Op.Sinh)) as Unary;
export const cosh = defapi('np.cosh', X, realUnary(Op.Cosh)) as Unary;
export const erf = defapi('np.erf', X, realUnary(Op.Erf)) as Unary;
export const erfInv = defapi('np.erfInv', X, realUnary(Op.ErfInv)) as Unary;

export const exp2 = defapi('np.exp2', X, (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.unary(Op.Exp, lax.binary(Op.Multiply, f, lax.constant(f.dtype, f.shape, Math.LN2)));
}) as Unary;
export const log2 = defapi('np.log2', X, (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.unary(Op.Log, f), lax.constant(f.dtype, f.shape, Math.LN2));
}) as Unary;
export const log10 = defapi('np.log10', X, (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.unary(Op.Log, f), lax.constant(f.dtype, f.shape, Math.LN10));
}) as Unary;

export const arctan2 = defapi('np.arctan2', XY, (y: Operand, x: Operand) => {
  const { args: [a, b], dtype, weak } = prepare([y, x]);
  const f = floatOf(dtype);
  return lax.binary(Op.Atan2, cast(a, f, weak), cast(b, f, weak));
}) as Binary;

function rounding(op: Op) {
  return (x: Operand): KArray => {
    const a = asArray(x);
    return isFloat(a.dtype) ? lax.unary(op, a) : a;
  };
}
export const floor = defapi('np.floor', X, rounding(Op.Floor)) as Unary;
export const ceil = defapi('np.ceil', X, rounding(Op.Ceil)) as Unary;
/** Rounds half to even, as NumPy does; `decimals` scales by a power of ten first. */
export const round = defapi('np.round', [p('x', A.array), p('decimals', A.int, 0)], (x: Operand, decimals = 0): KArray => {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return a;
  if (decimals === 0) return lax.unary(Op.RoundEven, a);
  const s = lax.constant(a.dtype, a.shape, 10 ** decimals);
  return lax.binary(Op.Divide, lax.unary(Op.RoundEven, lax.binary(Op.Multiply, a, s)), s);
});
/** Rounds toward zero. */
export const trunc = defapi('np.trunc', X, (x: Operand): KArray => {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return a;
  return lax.select(lax.compare('LT', a, lax.constant(a.dtype, a.shape, 0)), lax.unary(Op.Ceil, a), lax.unary(Op.Floor, a));
}) as Unary;

function comparison(direction: ComparisonDirection) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b] } = prepare([x, y]);
    return lax.compare(direction, a, b);
  };
}
export const equal = defapi('np.equal', XY, comparison('EQ')) as Binary;
export const notEqual = defapi('np.notEqual', XY, comparison('NE')) as Binary;
export const less = defapi('np.less', XY, comparison('LT')) as Binary;
export const lessEqual = defapi('np.lessEqual', XY, comparison('LE')) as Binary;
export const greater = defapi('np.greater', XY, comparison('GT')) as Binary;
export const greaterEqual = defapi('np.greaterEqual', XY, comparison('GE')) as Binary;

function logical(op: Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b] } = prepare([x, y]);
    return lax.binary(op, lax.convert(a, 'i1'), lax.convert(b, 'i1'));
  };
}
export const logicalAnd = defapi('np.logicalAnd', XY, logical(Op.And)) as Binary;
export const logicalOr = defapi('np.logicalOr', XY, logical(Op.Or)) as Binary;
export const logicalXor = defapi('np.logicalXor', XY, logical(Op.Xor)) as Binary;
export const logicalNot = defapi('np.logicalNot', X, (x: Operand) => lax.unary(Op.Not, lax.convert(asArray(x), 'i1'))) as Unary;

/** Bitwise ops on integers and bools. */
function bitwise(op: Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b], dtype } = prepare([x, y]);
    if (isFloat(dtype)) throw traceError(`bitwise operations need integers or booleans, got ${dtype}`);
    return lax.binary(op, a, b);
  };
}
export const bitwiseAnd = defapi('np.bitwiseAnd', XY, bitwise(Op.And)) as Binary;
export const bitwiseOr = defapi('np.bitwiseOr', XY, bitwise(Op.Or)) as Binary;
export const bitwiseXor = defapi('np.bitwiseXor', XY, bitwise(Op.Xor)) as Binary;

/** A complex Array's test as JAX makes it: of the real part combined with that of the imaginary part. */
function eitherPart(a: KArray, test: (part: KArray) => KArray, combine: Op.Or | Op.And): KArray {
  return lax.binary(combine, test(lax.real(a)), test(lax.imag(a)));
}
const nanTest = (a: KArray): KArray => (isFloat(a.dtype) ? lax.compare('NE', a, a) : lax.constant('i1', a.shape, 0));
const infTest = (a: KArray): KArray => (isFloat(a.dtype) ? lax.compare('EQ', lax.unary(Op.Abs, a), lax.constant(a.dtype, a.shape, Infinity)) : lax.constant('i1', a.shape, 0));
const finiteTest = (a: KArray): KArray => (isFloat(a.dtype) ? lax.unary(Op.IsFinite, a, 'i1') : lax.constant('i1', a.shape, 1));
/** NaN test; a complex value is NaN when either part is. */
export const isnan = defapi('np.isnan', X, (x: Operand) => {
  const a = asArray(x);
  return isComplex(a.dtype) ? eitherPart(a, nanTest, Op.Or) : nanTest(a);
}) as Unary;
/** Infinity test; a complex value is infinite when either part is. */
export const isinf = defapi('np.isinf', X, (x: Operand) => {
  const a = asArray(x);
  return isComplex(a.dtype) ? eitherPart(a, infTest, Op.Or) : infTest(a);
}) as Unary;
/** Finiteness test; a complex value is finite when both parts are. */
export const isfinite = defapi('np.isfinite', X, (x: Operand) => {
  const a = asArray(x);
  return isComplex(a.dtype) ? eitherPart(a, finiteTest, Op.And) : finiteTest(a);
}) as Unary;

/** `np.where`'s two forms, for TypeScript callers. */
export interface WhereFn {
  (condition: unknown, x: unknown, y: unknown): KArray;
  (condition: unknown, opts: { size: number; fillValue?: number }): KArray[];
}

/**
 * `cond ? x : y` elementwise, with all three broadcast together. The one-argument form
 * `np.where(cond, {size, fillValue})` is `np.nonzero`: one i32 Array of indices per axis. Without
 * `size` it is refused: its result's shape would depend on the values, which kiln cannot read while
 * building the program (JAX requires `size=` inside jit).
 */
export const where = defapi('np.where', [
  p('condition', A.array), p('x', A.array, null), p('y', A.array, null), p('size', A.orNull(A.count), null, true), p('fillValue', A.int, 0, true),
], (cond: Operand, x: Operand | null, y: Operand | null, size: number | null, fill: number): KArray | KArray[] => {
  if (x === null || y === null) {
    if (x !== null || y !== null) throw traceError('either both or neither of x and y should be given');
    if (size === null) throw traceError(`np.where(condition) with one argument ${NEEDS_SIZE}`);
    return nonzeroImpl(asArray(cond), size, fill);
  }
  const { args: [a, b] } = prepare([x, y]);
  const c = typeof cond === 'number' ? lax.constant('i1', [], cond ? 1 : 0) : lax.convert(cond, 'i1');
  const shape = broadcastShapes(c.shape, a.shape);
  return lax.select(broadcastTo(c, shape), broadcastTo(a, shape), broadcastTo(b, shape));
}) as unknown as WhereFn;

/** Limits values to [lo, hi]; `null` leaves a side open. */
export const clip = defapi('np.clip', [p('x', A.array), p('min', A.orNull(A.array), null), p('max', A.orNull(A.array), null)], (x: Operand, lo: Operand | null, hi: Operand | null): KArray => {
  let r = asArray(x);
  if (lo !== null && lo !== undefined) r = maximumImpl(r, lo);
  if (hi !== null && hi !== undefined) r = minimumImpl(r, hi);
  return r;
});

function maximumImpl(x: Operand, y: Operand): KArray {
  return arith(Op.Maximum)(x, y);
}
function minimumImpl(x: Operand, y: Operand): KArray {
  return arith(Op.Minimum)(x, y);
}
