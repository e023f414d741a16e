/**
 * @file Table-driven tests of the reference interpreter's elementwise ops: one record per op and
 * element type with hand-checked values, edge cases included (NaN, +-Inf, +-0, INT_MIN, division
 * by zero, shifts past 32, unsigned wrap, round-half-even ties).
 */
import { describe, expect, it } from 'vitest';
import type { SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { BinaryElementwise, Op, UnaryElementwise, type ComparisonDirection, type ComparisonType } from '../../ir/ops.js';
import { tensorType } from '../../ir/types.js';
import { BINARY, UNARY } from '../../runtime/reference/elementwise.js';
import { erf, erfc, erfInv } from '../../runtime/reference/special.js';
import { hostTensor, type HostTensor, narrowData } from '../../runtime/tensor.js';
import { runOp } from './build.js';

const NaN_ = NaN;
const Inf = Infinity;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const UMAX = 4294967295;
const f = Math.fround;

interface Rec {
  op: Op;
  dtype: SupportedDType;
  inputs: number[][];
  expect: number[];
  /** Result type when it differs from the operands'. */
  out?: SupportedDType;
  attrs?: object;
  /** Relative tolerance; exact (Object.is, so -0 and NaN count) when absent. */
  rtol?: number;
  note?: string;
}

const u = (op: Op, dtype: SupportedDType, x: number[], expect: number[], more: Partial<Rec> = {}): Rec => ({ op, dtype, inputs: [x], expect, ...more });
const b = (op: Op, dtype: SupportedDType, x: number[], y: number[], expect: number[], more: Partial<Rec> = {}): Rec => ({ op, dtype, inputs: [x, y], expect, ...more });
const approx = { rtol: 2e-7 };

const RECORDS: Rec[] = [
  // ---- unary
  // real / imag of a real tensor (StableHLO allows it): the value itself, and zeros. On complex<f32>
  // they, and stablehlo.complex, are checked in test/reference/complex.test.ts.
  u(Op.Real, 'f32', [1.5, -0, NaN_, -Inf], [1.5, -0, NaN_, -Inf]),
  u(Op.Imag, 'f32', [1.5, -2, NaN_], [0, 0, 0]),
  u(Op.Abs, 'f32', [-1.5, 0, -0, NaN_, -Inf], [1.5, 0, 0, NaN_, Inf]),
  u(Op.Abs, 'i32', [-5, INT_MIN, 7], [5, INT_MIN, 7], { note: 'abs(INT_MIN) wraps to INT_MIN' }),
  u(Op.Negate, 'f32', [1, -0, 0, Inf, NaN_], [-1, 0, -0, -Inf, NaN_]),
  u(Op.Negate, 'i32', [5, INT_MIN, 0], [-5, INT_MIN, 0]),
  u(Op.Negate, 'ui32', [1, 0], [UMAX, 0]),
  u(Op.Sign, 'f32', [-2, -0, 0, 3, NaN_, -Inf], [-1, -0, 0, 1, NaN_, -1]),
  u(Op.Sign, 'i32', [-7, 0, 9, INT_MIN], [-1, 0, 1, -1]),
  u(Op.Sign, 'ui32', [0, 5, UMAX], [0, 1, 1]),
  u(Op.Exp, 'f32', [0, 1, -Inf, Inf, NaN_], [1, f(Math.E), 0, Inf, NaN_]),
  u(Op.Exp, 'f16', [1, 20], [2.71875, Inf], { note: 'e rounds to f16; e^20 overflows f16' }),
  u(Op.Expm1, 'f32', [0, -0, 2 ** -20], [0, -0, f(9.5367477115374e-7)], approx),
  u(Op.Log, 'f32', [1, 0, -1, Inf, 8], [0, -Inf, NaN_, Inf, f(3 * Math.LN2)]),
  u(Op.Log1p, 'f32', [0, -0, -1, 2 ** -20], [0, -0, -Inf, f(9.536738616588991e-7)], approx),
  u(Op.Logistic, 'f32', [0, Inf, -Inf, 2], [0.5, 1, 0, f(0.8807970779778823)]),
  u(Op.Sqrt, 'f32', [4, -1, -0, Inf, 2], [2, NaN_, -0, Inf, f(Math.SQRT2)]),
  u(Op.Rsqrt, 'f32', [4, 0, -0, Inf], [0.5, Inf, -Inf, 0]),
  u(Op.Cbrt, 'f32', [27, -8, -0], [3, -2, -0]),
  u(Op.Sin, 'f32', [0, -0, Inf, 1], [0, -0, NaN_, f(0.8414709848078965)]),
  u(Op.Cos, 'f32', [0, 1], [1, f(0.5403023058681398)]),
  u(Op.Tan, 'f32', [0, 1], [0, f(1.5574077246549023)]),
  u(Op.Tanh, 'f32', [0, 1, -Inf, 20], [0, f(0.7615941559557649), -1, 1]),
  u(Op.Floor, 'f32', [1.5, -1.5, -0, -0.5], [1, -2, -0, -1]),
  u(Op.Ceil, 'f32', [1.5, -1.5, -0.5], [2, -1, -0]),
  u(Op.RoundAfz, 'f32', [0.5, 1.5, 2.5, -0.5, -2.5, f(0.49999997), -0.4], [1, 2, 3, -1, -3, 0, -0]),
  u(Op.RoundEven, 'f32', [0.5, 1.5, 2.5, -0.5, -2.5, 3.7, -0.4, 8388609, Inf], [0, 2, 2, -0, -2, 4, -0, 8388609, Inf]),
  u(Op.Not, 'i32', [0, -1, 5], [-1, 0, -6]),
  u(Op.Not, 'ui32', [0, UMAX], [UMAX, 0]),
  u(Op.Not, 'i1', [0, 1], [1, 0]),
  u(Op.Popcnt, 'i32', [0, -1, 7, INT_MIN], [0, 32, 3, 1]),
  u(Op.Popcnt, 'ui32', [UMAX, 256], [32, 1]),
  u(Op.Clz, 'i32', [0, 1, -1, 0x10000], [32, 31, 0, 15]),
  u(Op.Clz, 'ui32', [UMAX, 1], [0, 31]),
  u(Op.IsFinite, 'f32', [1, Inf, -Inf, NaN_, -0], [1, 0, 0, 0, 1], { out: 'i1' }),
  u(Op.Erf, 'f32', [0, -0, 0.5, 1, -2, 3, Inf, NaN_], [0, -0, f(0.5204998778130465), f(0.8427007929497149), f(-0.9953222650189527), f(0.9999779095030014), 1, NaN_], approx),
  u(Op.Erfc, 'f32', [0, 3, 5, -1, -Inf], [1, f(2.209049699858544e-5), f(1.5374597944280349e-12), f(1.8427007929497148), 2], approx),
  u(Op.ErfInv, 'f32', [0, 0.5, -0.75, 1, -1, 2], [0, f(0.4769362762044699), f(-0.8134198475976185), Inf, -Inf, NaN_], approx),
  u(Op.Square, 'f32', [3, -0, NaN_], [9, 0, NaN_]),
  u(Op.Square, 'i32', [65536, -3], [0, 9], { note: '2^32 wraps to 0' }),
  u(Op.Sinh, 'f32', [0, 1], [0, f(1.1752011936438014)]),
  u(Op.Cosh, 'f32', [0, 1], [1, f(1.5430806348152437)]),
  u(Op.Asin, 'f32', [1, 0, 2], [f(Math.PI / 2), 0, NaN_]),
  u(Op.Acos, 'f32', [1, -1], [0, f(Math.PI)]),
  u(Op.Atan, 'f32', [1, Inf], [f(Math.PI / 4), f(Math.PI / 2)]),
  u(Op.Asinh, 'f32', [1, -0], [f(0.881373587019543), -0]),
  u(Op.Acosh, 'f32', [1, 2, 0.5], [0, f(1.3169578969248166), NaN_]),
  u(Op.Atanh, 'f32', [0.5, 1, 2], [f(0.5493061443340549), Inf, NaN_]),
  u(Op.Lgamma, 'f32', [1, 2, 0.5, -0.5, 10, 0, -1], [0, 0, f(0.5723649429247001), f(1.2655121234846454), f(12.801827480081469), Inf, Inf], approx),
  u(Op.Digamma, 'f32', [1, 0.5, -0.5, 0, 10], [f(-0.5772156649015329), f(-1.9635100260214235), f(0.03648997397857652), NaN_, f(2.251752589066721)], approx),
  // e^-|x| I1(x): I1(1) = 0.565159103992485, I1(10) = 2670.98830370126; odd.
  u(Op.BesselI1e, 'f32', [0, 1, -1, 10], [0, f(Math.exp(-1) * 0.565159103992485), f(-Math.exp(-1) * 0.565159103992485), f(Math.exp(-10) * 2670.98830370126)], approx),
  u(Op.IsInf, 'f32', [Inf, -Inf, 1, NaN_], [1, 1, 0, 0], { out: 'i1' }),
  u(Op.IsPosInf, 'f32', [Inf, -Inf, 1], [1, 0, 0], { out: 'i1' }),
  u(Op.IsNegInf, 'f32', [Inf, -Inf, 1], [0, 1, 0], { out: 'i1' }),

  // ---- binary
  b(Op.Add, 'f32', [1, Inf, Inf, f(0.1), -0], [2, -Inf, 1, f(0.2), -0], [3, NaN_, Inf, 0.30000001192092896, -0]),
  b(Op.Add, 'f16', [2048, 1, 60000], [1, 2 ** -10, 10000], [2048, 1 + 2 ** -10, Inf], { note: '2049 ties to even in f16' }),
  b(Op.Add, 'i32', [INT_MAX, -1], [1, 1], [INT_MIN, 0]),
  b(Op.Add, 'ui32', [UMAX], [1], [0]),
  b(Op.Add, 'i1', [0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 1], { note: 'add on i1 is or' }),
  b(Op.Subtract, 'i32', [INT_MIN], [1], [INT_MAX]),
  b(Op.Subtract, 'ui32', [0], [1], [UMAX]),
  b(Op.Subtract, 'f32', [0, Inf], [0, Inf], [0, NaN_]),
  b(Op.Multiply, 'i32', [65536, -3, INT_MAX], [65536, 7, 2], [0, -21, -2]),
  b(Op.Multiply, 'ui32', [UMAX], [UMAX], [1]),
  b(Op.Multiply, 'i1', [1, 1, 0], [1, 0, 1], [1, 0, 0]),
  b(Op.Multiply, 'f32', [-0, 0, Inf], [5, -5, 0], [-0, -0, NaN_]),
  b(Op.Divide, 'i32', [7, -7, 7, -7, 5, INT_MIN, -5, 0], [2, 2, -2, -2, 0, -1, 0, 0], [3, -3, -3, 3, -1, INT_MIN, -1, -1]),
  b(Op.Divide, 'ui32', [7, 5, UMAX], [2, 0, 2], [3, UMAX, 2147483647]),
  b(Op.Divide, 'f32', [1, -1, 0, 1], [0, 0, 0, -0], [Inf, -Inf, NaN_, -Inf]),
  b(Op.Remainder, 'i32', [7, -7, 7, -7, 5, INT_MIN, -5], [2, 2, -2, -2, 0, -1, 0], [1, -1, 1, -1, 5, 0, -5]),
  b(Op.Remainder, 'ui32', [7, 5, UMAX], [4, 0, 10], [3, 5, 5]),
  b(Op.Remainder, 'f32', [5.5, -5.5, 1, Inf, 1], [2, 2, 0, 1, Inf], [1.5, -1.5, NaN_, NaN_, 1]),
  b(Op.Power, 'f32', [2, 1, -1, 0, 2, -8, NaN_], [10, NaN_, Inf, 0, -1, f(1 / 3), 0], [1024, 1, 1, 1, 0.5, NaN_, 1]),
  b(Op.Power, 'i32', [2, 3, -2, 2, 1, -1, -1, 2, 2], [10, 0, 3, -1, -5, -3, -2, 31, 32], [1024, 1, -8, 0, 1, -1, 1, INT_MIN, 0]),
  b(Op.Power, 'ui32', [3, 2], [4, 33], [81, 0]),
  b(Op.Maximum, 'f32', [1, NaN_, -0, 2], [NaN_, 1, 0, -Inf], [NaN_, NaN_, 0, 2]),
  b(Op.Minimum, 'f32', [1, NaN_, -0, 2], [NaN_, 1, 0, -Inf], [NaN_, NaN_, -0, -Inf]),
  b(Op.Maximum, 'i32', [-1, 5], [3, 2], [3, 5]),
  b(Op.Maximum, 'ui32', [UMAX, 0], [1, 0], [UMAX, 0]),
  b(Op.Minimum, 'ui32', [UMAX, 7], [1, 9], [1, 7]),
  b(Op.Maximum, 'i1', [0, 1, 0], [0, 0, 1], [0, 1, 1]),
  b(Op.Minimum, 'i1', [1, 1, 0], [1, 0, 1], [1, 0, 0]),
  b(Op.Atan2, 'f32', [1, 0, -0, 1], [1, -1, -1, 0], [f(Math.PI / 4), f(Math.PI), f(-Math.PI), f(Math.PI / 2)]),
  b(Op.And, 'i32', [12, -1], [10, 5], [8, 5]),
  b(Op.Or, 'i32', [12, -1], [10, 5], [14, -1]),
  b(Op.Xor, 'i32', [12, -1], [10, 5], [6, -6]),
  b(Op.Xor, 'ui32', [0xf0f0f0f0], [UMAX], [0x0f0f0f0f]),
  b(Op.And, 'i1', [0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 0, 1]),
  b(Op.Or, 'i1', [0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 1]),
  b(Op.Xor, 'i1', [0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]),
  b(Op.ShiftLeft, 'i32', [1, 1, 1, 1, -1], [0, 31, 32, 33, -1], [1, INT_MIN, 0, 0, 0]),
  b(Op.ShiftLeft, 'ui32', [1, 3], [31, 64], [2147483648, 0]),
  b(Op.ShiftRightArithmetic, 'i32', [-8, -8, 8, -1, INT_MIN], [1, 32, 40, 100, 31], [-4, -1, 0, -1, -1]),
  b(Op.ShiftRightArithmetic, 'ui32', [0x80000000, 0x80000000, 0x40000000], [1, 32, 32], [0xc0000000, UMAX, 0]),
  b(Op.ShiftRightLogical, 'i32', [-8, -1, 8], [1, 32, 3], [2147483644, 0, 1]),
  b(Op.ShiftRightLogical, 'ui32', [0x80000000, UMAX], [31, 40], [1, 0]),
  b(Op.NextAfter, 'f32', [0, 1, 1, -0, Inf, 1, NaN_], [1, 2, 0, -1, 0, 1, 0],
    [2 ** -149, 1 + 2 ** -23, 1 - 2 ** -24, -(2 ** -149), f(3.4028234663852886e38), 1, NaN_]),
  b(Op.NextAfter, 'f16', [1, 0], [2, -1], [1 + 2 ** -10, -(2 ** -24)]),
  // zeta(2, 1) = pi^2/6, zeta(3, 1) = Apery's constant, zeta(2, 2) = pi^2/6 - 1; x = 1 diverges; x < 1 NaN;
  // a pole (integer q <= 0) is +inf for even integer x, NaN otherwise.
  b(Op.Zeta, 'f32', [2, 3, 2, 1, 0.5, 2, 3], [1, 1, 2, 3, 1, 0, -1], [f(Math.PI ** 2 / 6), f(1.2020569031595942), f(Math.PI ** 2 / 6 - 1), Inf, NaN_, Inf, NaN_], approx),
  // psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x); n = 0 is digamma; NaN unless n is a natural number.
  b(Op.Polygamma, 'f32', [0, 1, 2, 1.5, -1], [1, 1, 1, 1, 1], [f(-0.5772156649015329), f(Math.PI ** 2 / 6), f(-2 * 1.2020569031595942), NaN_, NaN_], approx),
];

/** The records' ops, to check every elementwise op has at least one. */
const covered = new Set(RECORDS.map((r) => r.op));

function check(got: HostTensor, want: number[], rtol?: number): void {
  expect(got.data.length).toBe(want.length);
  Array.from(narrowData(got)).forEach((g, i) => {
    const w = want[i];
    if (rtol === undefined || !Number.isFinite(w)) {
      expect(Object.is(g, w) || (g === 0 && w === 0 && Object.is(g, w)), `element ${i}: got ${g}, want ${w}`).toBe(true);
    } else {
      expect(Math.abs(g - w), `element ${i}: got ${g}, want ${w}`).toBeLessThanOrEqual(rtol * Math.abs(w) + 1e-45);
    }
  });
}

describe('elementwise ops on the reference interpreter', () => {
  it.each(RECORDS.map((r) => [`${r.op} ${r.dtype}${r.note ? ` (${r.note})` : ''}`, r] as const))('%s', (_name, r) => {
    const n = r.expect.length;
    const inputs = r.inputs.map((x) => hostTensor(r.dtype, [n], x));
    const [got] = runOp(r.op, inputs, [tensorType(r.out ?? r.dtype, [n])], (r.attrs ?? {}) as never);
    expect(got.dtype).toBe(r.out ?? r.dtype);
    check(got, r.expect, r.rtol);
  });

  it('has a record for every unary and binary op but compare and complex (test/reference/complex.test.ts)', () => {
    const missing = [...UnaryElementwise, ...BinaryElementwise].filter((op) => op !== Op.Compare && op !== Op.Complex && !covered.has(op));
    expect(missing).toEqual([]);
    // real, imag and complex are computed by the complex rules (runtime/reference/complex.ts), not these tables.
    expect(Object.keys(UNARY).sort()).toEqual([...UnaryElementwise].filter((o) => o !== Op.Real && o !== Op.Imag).sort());
    expect(Object.keys(BINARY).sort()).toEqual([...BinaryElementwise].filter((o) => o !== Op.Compare && o !== Op.Complex).sort());
  });

  it('inverts erf in f64 to ~1e-13, tails included (checked through erfc)', () => {
    for (const y of [1e-30, 0.3, 0.5, 0.9, 0.999, 0.99999, 1 - 2 ** -24]) {
      const x = erfInv(y);
      expect(Math.abs(erfInv(-y) + x)).toBe(0);
      if (y < 0.5) expect(Math.abs(erf(x) - y)).toBeLessThanOrEqual(1e-13 * y);
      else expect(Math.abs(erfc(x) - (1 - y))).toBeLessThanOrEqual(1e-12 * (1 - y));
    }
  });

  it('refuses an op on an element type it is not defined for, naming the op and its location', () => {
    const x = hostTensor('i32', [1], [4]);
    expect(() => runOp(Op.Sqrt, [x], [tensorType('i32', [1])], {})).toThrow(UnsupportedOpError);
    expect(() => runOp(Op.Sqrt, [x], [tensorType('i32', [1])], {})).toThrow(/7:3: stablehlo\.sqrt: .*i32/);
  });
});

// ---- compare ----------------------------------------------------------------------------------

function bitsF32(bits: number[]): HostTensor {
  return { dtype: 'f32', shape: [bits.length], data: new Float32Array(new Uint32Array(bits).buffer) };
}

interface CmpRec { dir: ComparisonDirection; type?: ComparisonType; x: HostTensor; y: HostTensor; expect: number[] }
const fx = hostTensor('f32', [4], [1, NaN_, -0, 2]);
const fy = hostTensor('f32', [4], [2, NaN_, 0, 1]);
const CMP: CmpRec[] = [
  { dir: 'LT', type: 'FLOAT', x: fx, y: fy, expect: [1, 0, 0, 0] },
  { dir: 'LE', type: 'FLOAT', x: fx, y: fy, expect: [1, 0, 1, 0] },
  { dir: 'EQ', type: 'FLOAT', x: fx, y: fy, expect: [0, 0, 1, 0] },
  { dir: 'NE', type: 'FLOAT', x: fx, y: fy, expect: [1, 1, 0, 1] },
  { dir: 'GE', type: 'FLOAT', x: fx, y: fy, expect: [0, 0, 1, 1] },
  { dir: 'GT', x: fx, y: fy, expect: [0, 0, 0, 1] },
  // -NaN < -Inf < -0 < +0 < +Inf < NaN
  { dir: 'LT', type: 'TOTALORDER', x: bitsF32([0x80000000, 0xffc00000, 0xff800000, 0x7fc00000]), y: bitsF32([0, 0xff800000, 0x80000000, 0x7f800000]), expect: [1, 1, 1, 0] },
  { dir: 'EQ', type: 'TOTALORDER', x: bitsF32([0x7fc00000, 0x80000000]), y: bitsF32([0x7fc00000, 0]), expect: [1, 0] },
  { dir: 'LT', type: 'SIGNED', x: hostTensor('i32', [2], [-1, 3]), y: hostTensor('i32', [2], [1, 3]), expect: [1, 0] },
  { dir: 'LT', type: 'UNSIGNED', x: hostTensor('i32', [2], [-1, 3]), y: hostTensor('i32', [2], [1, 4]), expect: [0, 1] },
  { dir: 'GT', x: hostTensor('ui32', [1], [UMAX]), y: hostTensor('ui32', [1], [1]), expect: [1] },
  { dir: 'GT', x: hostTensor('i1', [2], [1, 0]), y: hostTensor('i1', [2], [0, 1]), expect: [1, 0] },
];

describe('compare', () => {
  it.each(CMP.map((c) => [`${c.dir} ${c.type ?? 'default'} ${c.x.dtype}`, c] as const))('%s', (_n, c) => {
    const [got] = runOp(Op.Compare, [c.x, c.y], [tensorType('i1', c.x.shape)], { direction: c.dir, compareType: c.type });
    expect(Array.from(narrowData(got))).toEqual(c.expect);
  });
});

// ---- select, clamp and conversions -------------------------------------------------------------

describe('select, clamp, convert, bitcast_convert, reduce_precision', () => {
  const cases: [string, () => HostTensor, number[]][] = [
    ['select with a full predicate', () => runOp(Op.Select, [hostTensor('i1', [3], [1, 0, 1]), hostTensor('i32', [3], [1, 2, 3]), hostTensor('i32', [3], [4, 5, 6])], [tensorType('i32', [3])], {})[0], [1, 5, 3]],
    ['select with a scalar predicate', () => runOp(Op.Select, [hostTensor('i1', [], [0]), hostTensor('f32', [2], [1, 2]), hostTensor('f32', [2], [3, 4])], [tensorType('f32', [2])], {})[0], [3, 4]],
    ['clamp with scalar bounds, NaN propagates', () => runOp(Op.Clamp, [hostTensor('f32', [], [0]), hostTensor('f32', [4], [-1, 0.5, 2, NaN_]), hostTensor('f32', [], [1])], [tensorType('f32', [4])], {})[0], [0, 0.5, 1, NaN_]],
    ['clamp with full bounds on ui32', () => runOp(Op.Clamp, [hostTensor('ui32', [2], [5, 0]), hostTensor('ui32', [2], [1, UMAX]), hostTensor('ui32', [2], [9, 7])], [tensorType('ui32', [2])], {})[0], [5, 7]],
    ['convert f32 -> i32 truncates and saturates, NaN -> 0', () => runOp(Op.Convert, [hostTensor('f32', [6], [1.9, -1.9, NaN_, 3e9, -3e9, Inf])], [tensorType('i32', [6])], {})[0], [1, -1, 0, INT_MAX, INT_MIN, INT_MAX]],
    ['convert f32 -> ui32 saturates at 0 and UMAX', () => runOp(Op.Convert, [hostTensor('f32', [4], [-1, 3.5, 5e9, NaN_])], [tensorType('ui32', [4])], {})[0], [0, 3, UMAX, 0]],
    ['convert i32 -> f32 rounds to nearest even', () => runOp(Op.Convert, [hostTensor('i32', [2], [16777217, 16777219])], [tensorType('f32', [2])], {})[0], [16777216, 16777220]],
    ['convert i32 -> ui32 wraps', () => runOp(Op.Convert, [hostTensor('i32', [1], [-1])], [tensorType('ui32', [1])], {})[0], [UMAX]],
    ['convert ui32 -> i32 wraps', () => runOp(Op.Convert, [hostTensor('ui32', [1], [UMAX])], [tensorType('i32', [1])], {})[0], [-1]],
    ['convert f32 -> i1 is != 0', () => runOp(Op.Convert, [hostTensor('f32', [4], [0, -0, 0.5, NaN_])], [tensorType('i1', [4])], {})[0], [0, 0, 1, 1]],
    ['convert i1 -> f32', () => runOp(Op.Convert, [hostTensor('i1', [2], [1, 0])], [tensorType('f32', [2])], {})[0], [1, 0]],
    ['convert f32 -> f16 rounds, overflows, underflows', () => runOp(Op.Convert, [hostTensor('f32', [4], [65520, 1e-8, f(0.1), 65519])], [tensorType('f16', [4])], {})[0], [Inf, 0, 0.0999755859375, 65504]],
    ['bitcast_convert f32 -> i32', () => runOp(Op.BitcastConvert, [hostTensor('f32', [2], [1, -0])], [tensorType('i32', [2])], {})[0], [0x3f800000, INT_MIN]],
    ['bitcast_convert i32 -> f32', () => runOp(Op.BitcastConvert, [hostTensor('i32', [1], [0x7f800000])], [tensorType('f32', [1])], {})[0], [Inf]],
    ['bitcast_convert ui32 -> i32', () => runOp(Op.BitcastConvert, [hostTensor('ui32', [1], [UMAX])], [tensorType('i32', [1])], {})[0], [-1]],
    ['reduce_precision to f16 ranges: ties to even, overflow, flush', () => runOp(Op.ReducePrecision, [hostTensor('f32', [6], [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e5, 1e-5, 65504, NaN_])], [tensorType('f32', [6])], { exponentBits: 5, mantissaBits: 10 })[0], [1, 1 + 2 ** -9, Inf, 0, 65504, NaN_]],
    ['reduce_precision to bf16 ranges', () => runOp(Op.ReducePrecision, [hostTensor('f32', [2], [1 + 2 ** -8, -(1 + 3 * 2 ** -8)])], [tensorType('f32', [2])], { exponentBits: 8, mantissaBits: 7 })[0], [1, -(1 + 2 ** -6)]],
  ];
  it.each(cases)('%s', (_n, run, want) => { check(run(), want); });

  it('refuses a bitcast that changes the element width', () => {
    expect(() => runOp(Op.BitcastConvert, [hostTensor('f16', [2], [1, 2])], [tensorType('i32', [])], {})).toThrow(UnsupportedOpError);
  });
});
