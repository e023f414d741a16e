/**
 * @file Elementwise NumPy functions: arithmetic, comparisons, logic, transcendental functions,
 * `where` and `clip`, each with broadcasting and promotion (promote.ts). Functions that are only
 * defined on reals (sqrt, exp, sin, ...) take ints and bools as f32, as NumPy and JAX do.
 */
import { isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import { defop } from '../jit.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { asArray, broadcastShapes, broadcastTo, cast, floatOf, prepare, type Operand } from './promote.js';

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

export const add = defop('np.add', arith(Op.Add), [0, 1]);
export const subtract = defop('np.subtract', arith(Op.Subtract), [0, 1]);
export const multiply = defop('np.multiply', arith(Op.Multiply), [0, 1]);
export const maximum = defop('np.maximum', arith(Op.Maximum), [0, 1]);
export const minimum = defop('np.minimum', arith(Op.Minimum), [0, 1]);

/** True division: ints and bools give f32. */
export const divide = defop('np.divide', (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype, weak } = prepare([x, y]);
  const f = floatOf(dtype);
  return lax.binary(Op.Divide, cast(a, f, weak), cast(b, f, weak));
}, [0, 1]);

/** NumPy's floor division: rounds toward minus infinity (StableHLO's divide truncates ints). */
export const floorDivide = defop('np.floorDivide', (x: Operand, y: Operand): KArray => {
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
}, [0, 1]);

/** NumPy's mod: the remainder takes the sign of the divisor. */
export const mod = defop('np.mod', (x: Operand, y: Operand): KArray => {
  const { args: [a, b], dtype } = prepare([x, y]);
  if (dtype === 'i1') throw traceError('mod of booleans is not defined');
  const r = lax.binary(Op.Remainder, a, b);
  if (isUnsigned(dtype)) return r;
  const zero = lax.constant(dtype, a.shape, 0);
  const signsDiffer = lax.compare('NE', lax.compare('LT', r, zero), lax.compare('LT', b, zero));
  const fix = lax.binary(Op.And, lax.compare('NE', r, zero), signsDiffer);
  return lax.select(fix, lax.binary(Op.Add, r, b), r);
}, [0, 1]);

/**
 * `x ** y`. A JS integer exponent is expanded into multiplications (exact, and defined for negative
 * bases on every device); other exponents use `stablehlo.power`.
 */
export const power = defop('np.power', (x: Operand, y: Operand): KArray => {
  if (typeof y === 'number' && Number.isInteger(y) && Math.abs(y) <= 64 && typeof x !== 'number') {
    return integerPower(x, y);
  }
  const { args: [a, b] } = prepare([x, y]);
  return lax.binary(Op.Power, a, b);
}, [0]);

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

export const negative = defop('np.negative', (x: Operand) => {
  const a = asArray(x);
  if (a.dtype === 'i1') throw traceError('negative of booleans is not defined; use logicalNot');
  return lax.unary(Op.Negate, a);
}, [0]);
export const abs = defop('np.abs', (x: Operand) => {
  const a = asArray(x);
  return a.dtype === 'i1' || isUnsigned(a.dtype) ? a : lax.unary(Op.Abs, a);
}, [0]);
export const sign = defop('np.sign', (x: Operand) => {
  const a = asArray(x);
  if (a.dtype === 'i1' || isUnsigned(a.dtype)) return lax.convert(lax.convert(a, 'i1'), a.dtype);
  return lax.unary(Op.Sign, a);
}, [0]);
export const square = defop('np.square', (x: Operand) => {
  const a = asArray(x);
  return lax.binary(Op.Multiply, a, a);
}, [0]);
/** `1 / x` (ints give f32). */
export const reciprocal = defop('np.reciprocal', (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.withWeak(lax.constant(f.dtype, f.shape, 1), f.weak), f);
}, [0]);

export const sqrt = defop('np.sqrt', realUnary(Op.Sqrt), [0]);
export const rsqrt = defop('np.rsqrt', realUnary(Op.Rsqrt), [0]);
export const exp = defop('np.exp', realUnary(Op.Exp), [0]);
export const log = defop('np.log', realUnary(Op.Log), [0]);
export const log1p = defop('np.log1p', realUnary(Op.Log1p), [0]);
export const expm1 = defop('np.expm1', realUnary(Op.Expm1), [0]);
export const sin = defop('np.sin', realUnary(Op.Sin), [0]);
export const cos = defop('np.cos', realUnary(Op.Cos), [0]);
export const tan = defop('np.tan', realUnary(Op.Tan), [0]);
export const tanh = defop('np.tanh', realUnary(Op.Tanh), [0]);
export const arcsin = defop('np.arcsin', realUnary(Op.Asin), [0]);
export const arccos = defop('np.arccos', realUnary(Op.Acos), [0]);
export const arctan = defop('np.arctan', realUnary(Op.Atan), [0]);
export const sinh = defop('np.sinh', realUnary(Op.Sinh), [0]);
export const cosh = defop('np.cosh', realUnary(Op.Cosh), [0]);
export const erf = defop('np.erf', realUnary(Op.Erf), [0]);
export const erfInv = defop('np.erfInv', realUnary(Op.ErfInv), [0]);

export const exp2 = defop('np.exp2', (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.unary(Op.Exp, lax.binary(Op.Multiply, f, lax.constant(f.dtype, f.shape, Math.LN2)));
}, [0]);
export const log2 = defop('np.log2', (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.unary(Op.Log, f), lax.constant(f.dtype, f.shape, Math.LN2));
}, [0]);
export const log10 = defop('np.log10', (x: Operand) => {
  const a = asArray(x);
  const f = cast(a, floatOf(a.dtype), a.weak);
  return lax.binary(Op.Divide, lax.unary(Op.Log, f), lax.constant(f.dtype, f.shape, Math.LN10));
}, [0]);

export const arctan2 = defop('np.arctan2', (y: Operand, x: Operand) => {
  const { args: [a, b], dtype, weak } = prepare([y, x]);
  const f = floatOf(dtype);
  return lax.binary(Op.Atan2, cast(a, f, weak), cast(b, f, weak));
}, [0, 1]);

function rounding(op: Op) {
  return (x: Operand): KArray => {
    const a = asArray(x);
    return isFloat(a.dtype) ? lax.unary(op, a) : a;
  };
}
export const floor = defop('np.floor', rounding(Op.Floor), [0]);
export const ceil = defop('np.ceil', rounding(Op.Ceil), [0]);
/** Rounds half to even, as NumPy does; `decimals` scales by a power of ten first. */
export const round = defop('np.round', (x: Operand, decimals = 0): KArray => {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return a;
  if (decimals === 0) return lax.unary(Op.RoundEven, a);
  const s = lax.constant(a.dtype, a.shape, 10 ** decimals);
  return lax.binary(Op.Divide, lax.unary(Op.RoundEven, lax.binary(Op.Multiply, a, s)), s);
}, [0]);
/** Rounds toward zero. */
export const trunc = defop('np.trunc', (x: Operand): KArray => {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return a;
  return lax.select(lax.compare('LT', a, lax.constant(a.dtype, a.shape, 0)), lax.unary(Op.Ceil, a), lax.unary(Op.Floor, a));
}, [0]);

function comparison(direction: ComparisonDirection) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b] } = prepare([x, y]);
    return lax.compare(direction, a, b);
  };
}
export const equal = defop('np.equal', comparison('EQ'), [0, 1]);
export const notEqual = defop('np.notEqual', comparison('NE'), [0, 1]);
export const less = defop('np.less', comparison('LT'), [0, 1]);
export const lessEqual = defop('np.lessEqual', comparison('LE'), [0, 1]);
export const greater = defop('np.greater', comparison('GT'), [0, 1]);
export const greaterEqual = defop('np.greaterEqual', comparison('GE'), [0, 1]);

function logical(op: Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b] } = prepare([x, y]);
    return lax.binary(op, lax.convert(a, 'i1'), lax.convert(b, 'i1'));
  };
}
export const logicalAnd = defop('np.logicalAnd', logical(Op.And), [0, 1]);
export const logicalOr = defop('np.logicalOr', logical(Op.Or), [0, 1]);
export const logicalXor = defop('np.logicalXor', logical(Op.Xor), [0, 1]);
export const logicalNot = defop('np.logicalNot', (x: Operand) => lax.unary(Op.Not, lax.convert(asArray(x), 'i1')), [0]);

/** Bitwise ops on integers and bools. */
function bitwise(op: Op) {
  return (x: Operand, y: Operand): KArray => {
    const { args: [a, b], dtype } = prepare([x, y]);
    if (isFloat(dtype)) throw traceError(`bitwise operations need integers or booleans, got ${dtype}`);
    return lax.binary(op, a, b);
  };
}
export const bitwiseAnd = defop('np.bitwiseAnd', bitwise(Op.And), [0, 1]);
export const bitwiseOr = defop('np.bitwiseOr', bitwise(Op.Or), [0, 1]);
export const bitwiseXor = defop('np.bitwiseXor', bitwise(Op.Xor), [0, 1]);

export const isnan = defop('np.isnan', (x: Operand) => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.compare('NE', a, a) : lax.constant('i1', a.shape, 0);
}, [0]);
export const isinf = defop('np.isinf', (x: Operand) => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.compare('EQ', lax.unary(Op.Abs, a), lax.constant(a.dtype, a.shape, Infinity)) : lax.constant('i1', a.shape, 0);
}, [0]);
export const isfinite = defop('np.isfinite', (x: Operand) => {
  const a = asArray(x);
  return isFloat(a.dtype) ? lax.unary(Op.IsFinite, a, 'i1') : lax.constant('i1', a.shape, 1);
}, [0]);

/** `cond ? x : y` elementwise, with all three broadcast together. */
export const where = defop('np.where', (cond: Operand, x: Operand, y: Operand): KArray => {
  const { args: [a, b] } = prepare([x, y]);
  const c = typeof cond === 'number' ? lax.constant('i1', [], cond ? 1 : 0) : lax.convert(cond, 'i1');
  const shape = broadcastShapes(c.shape, a.shape);
  return lax.select(broadcastTo(c, shape), broadcastTo(a, shape), broadcastTo(b, shape));
}, [1, 2]);

/** Limits values to [lo, hi]; `null` leaves a side open. */
export const clip = defop('np.clip', (x: Operand, lo: Operand | null, hi: Operand | null): KArray => {
  let r = asArray(x);
  if (lo !== null && lo !== undefined) r = maximumImpl(r, lo);
  if (hi !== null && hi !== undefined) r = minimumImpl(r, hi);
  return r;
}, [0, 1, 2]);

function maximumImpl(x: Operand, y: Operand): KArray {
  return arith(Op.Maximum)(x, y);
}
function minimumImpl(x: Operand, y: Operand): KArray {
  return arith(Op.Minimum)(x, y);
}

/** The dtype an elementwise op with these operands gives (exported for nn and tests). */
export function dtypeOf(x: Operand): SupportedDType {
  return typeof x === 'number' ? (Number.isInteger(x) ? 'i32' : 'f32') : x.dtype;
}
