/**
 * @file Every elementwise op kiln fuses, one record per op (dtypes and an input generator with
 * edge cases: zeros of both signs, infinities, NaN, INT_MIN, zero divisors, shifts past 31), run
 * on WebGPU and on the reference interpreter and compared: floats within rtol 2e-3 / atol 1e-5
 * (NaN matching NaN), integers and booleans exactly.
 */
import { requireF16 } from '../helpers/devices.js';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../client/builder.js';
import type { SupportedDType } from '../../ir/dtype.js';
import { Op, type OpAttrs } from '../../ir/ops.js';
import type { Module, Value } from '../../ir/types.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

const N = 64;
/** A deterministic generator so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

const FLOAT_EDGES = [0, -0, 1, -1, 0.5, -0.5, 2.5, -2.5, 1e-7, -3e-6, 1e30, -1e30, Infinity, -Infinity, NaN, 3.4e38];
const INT_EDGES = [0, 1, -1, 2, -2, 7, -7, 31, 32, 33, -2147483648, 2147483647, 100000, -65536];
const UINT_EDGES = [0, 1, 2, 7, 31, 32, 33, 0x80000000, 0xffffffff, 0x7fffffff, 65536];

type Gen = (r: () => number, i: number) => number;
const floats = (lo: number, hi: number, edges = true): Gen => (r, i) => (edges && i < FLOAT_EDGES.length ? FLOAT_EDGES[i] : lo + (hi - lo) * r());
const ints = (lo: number, hi: number): Gen => (r, i) => (i < INT_EDGES.length ? INT_EDGES[i] : Math.floor(lo + (hi - lo) * r()));
const uints = (hi: number): Gen => (r, i) => (i < UINT_EDGES.length ? UINT_EDGES[i] : Math.floor(hi * r()));
const bools: Gen = (r) => (r() < 0.5 ? 0 : 1);
/** Second operands shifted so edge values meet different partners. */
const shifted = (g: Gen, k: number): Gen => (r, i) => g(r, (i + k) % N);

interface OpRecord {
  op: Op;
  dtypes: SupportedDType[];
  gens: Partial<Record<SupportedDType, Gen[]>>;
  attrs?: OpAttrs[Op];
  /** Result dtype when it differs from the operands'. */
  out?: SupportedDType;
}

const F = (op: Op, lo = -10, hi = 10): OpRecord => ({ op, dtypes: ['f32'], gens: { f32: [floats(lo, hi)] } });
/** Trigonometry: GPUs reduce huge arguments inexactly, so edges stop at zeros, infinities and NaN. */
const TRIG_EDGES = [0, -0, Infinity, -Infinity, NaN];
const T = (op: Op, lo: number, hi: number): OpRecord => ({ op, dtypes: ['f32'], gens: { f32: [(r, i) => (i < TRIG_EDGES.length ? TRIG_EDGES[i] : lo + (hi - lo) * r())] } });
const F2 = (op: Op): OpRecord => ({ op, dtypes: ['f32'], gens: { f32: [floats(-10, 10), shifted(floats(-10, 10), 5)] } });
const I2 = (op: Op, dtypes: SupportedDType[] = ['i32', 'ui32']): OpRecord => ({
  op, dtypes, gens: { i32: [ints(-1000, 1000), shifted(ints(-50, 50), 3)], ui32: [uints(4e9), shifted(uints(100), 4)], i1: [bools, bools] },
});

const RECORDS: OpRecord[] = [
  { op: Op.Abs, dtypes: ['f32', 'i32'], gens: { f32: [floats(-10, 10)], i32: [ints(-100, 100)] } },
  { op: Op.Negate, dtypes: ['f32', 'i32', 'ui32'], gens: { f32: [floats(-10, 10)], i32: [ints(-100, 100)], ui32: [uints(1e9)] } },
  { op: Op.Sign, dtypes: ['f32', 'i32'], gens: { f32: [floats(-10, 10)], i32: [ints(-100, 100)] } },
  F(Op.Exp, -20, 20), F(Op.Expm1, -5, 5), F(Op.Log, 0, 100), F(Op.Log1p, -1, 10), F(Op.Logistic, -20, 20),
  F(Op.Sqrt, 0, 100), F(Op.Rsqrt, 0, 100), F(Op.Cbrt, -100, 100), T(Op.Sin, -6, 6), T(Op.Cos, -6, 6),
  T(Op.Tan, -1.4, 1.4), F(Op.Tanh, -10, 10), F(Op.Floor), F(Op.Ceil), F(Op.RoundAfz), F(Op.RoundEven),
  F(Op.Erf, -4, 4), F(Op.Erfc, -4, 9), F(Op.ErfInv, -0.999, 0.999), F(Op.Square), F(Op.Sinh, -5, 5),
  F(Op.Cosh, -5, 5), F(Op.Asin, -1, 1), F(Op.Acos, -1, 1), F(Op.Atan), F(Op.Asinh), F(Op.Acosh, 1, 50),
  F(Op.Atanh, -0.99, 0.99), F(Op.Lgamma, 0.1, 20), F(Op.Digamma, 0.1, 20),
  { op: Op.IsFinite, dtypes: ['f32'], gens: { f32: [floats(-1, 1)] }, out: 'i1' },
  { op: Op.IsInf, dtypes: ['f32'], gens: { f32: [floats(-1, 1)] }, out: 'i1' },
  { op: Op.IsPosInf, dtypes: ['f32'], gens: { f32: [floats(-1, 1)] }, out: 'i1' },
  { op: Op.IsNegInf, dtypes: ['f32'], gens: { f32: [floats(-1, 1)] }, out: 'i1' },
  { op: Op.Not, dtypes: ['i32', 'ui32', 'i1'], gens: { i32: [ints(-9, 9)], ui32: [uints(1e9)], i1: [bools] } },
  { op: Op.Popcnt, dtypes: ['i32', 'ui32'], gens: { i32: [ints(-1e6, 1e6)], ui32: [uints(4e9)] } },
  { op: Op.Clz, dtypes: ['i32', 'ui32'], gens: { i32: [ints(-1e6, 1e6)], ui32: [uints(4e9)] } },
  { op: Op.Add, dtypes: ['f32', 'i32', 'ui32', 'i1'], gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], i32: [ints(-9, 9), shifted(ints(-9, 9), 2)], ui32: [uints(4e9), uints(4e9)], i1: [bools, bools] } },
  { op: Op.Subtract, dtypes: ['f32', 'i32', 'ui32'], gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], i32: [ints(-9, 9), shifted(ints(-9, 9), 2)], ui32: [uints(9), uints(4e9)] } },
  { op: Op.Multiply, dtypes: ['f32', 'i32', 'ui32', 'i1'], gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], i32: [ints(-1e5, 1e5), shifted(ints(-1e5, 1e5), 2)], ui32: [uints(4e9), uints(4e9)], i1: [bools, bools] } },
  { ...F2(Op.Divide), ...I2(Op.Divide, ['f32', 'i32', 'ui32']), gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], ...I2(Op.Divide).gens } },
  { ...I2(Op.Remainder, ['f32', 'i32', 'ui32']), gens: { f32: [floats(-9, 9, false), shifted(floats(-3, 3, false), 3)], ...I2(Op.Remainder).gens } },
  { op: Op.Power, dtypes: ['f32', 'i32'], gens: { f32: [floats(-3, 3), (r, i) => [2, 3, -1, 0.5, 0, -2, 1.5][i % 7]], i32: [ints(-5, 5), (r) => Math.floor(r() * 12) - 2] } },
  { ...I2(Op.Maximum, ['f32', 'i32', 'ui32', 'i1']), gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], ...I2(Op.Maximum).gens } },
  { ...I2(Op.Minimum, ['f32', 'i32', 'ui32', 'i1']), gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 3)], ...I2(Op.Minimum).gens } },
  F2(Op.Atan2),
  I2(Op.And, ['i32', 'ui32', 'i1']), I2(Op.Or, ['i32', 'ui32', 'i1']), I2(Op.Xor, ['i32', 'ui32', 'i1']),
  { op: Op.ShiftLeft, dtypes: ['i32', 'ui32'], gens: { i32: [ints(-1e5, 1e5), (r, i) => i % 40 - 2], ui32: [uints(4e9), (r, i) => i % 40] } },
  { op: Op.ShiftRightArithmetic, dtypes: ['i32', 'ui32'], gens: { i32: [ints(-1e5, 1e5), (r, i) => i % 40 - 2], ui32: [uints(4e9), (r, i) => i % 40] } },
  { op: Op.ShiftRightLogical, dtypes: ['i32', 'ui32'], gens: { i32: [ints(-1e5, 1e5), (r, i) => i % 40 - 2], ui32: [uints(4e9), (r, i) => i % 40] } },
  { op: Op.NextAfter, dtypes: ['f32'], gens: { f32: [floats(-9, 9), shifted(floats(-9, 9), 2)] } },
];

const DIRECTIONS = ['EQ', 'NE', 'LT', 'LE', 'GT', 'GE'] as const;

function build(f: (g: GraphBuilder, args: Value[]) => Value[], types: SupportedDType[], shape = [N]): Module {
  const g = new GraphBuilder();
  const args = types.map((dtype) => ({ type: { dtype, shape } }));
  return g.finish(args, f(g, args));
}

function inputs(gens: Gen[], types: SupportedDType[], seed: number, shape = [N]): HostTensor[] {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return gens.map((gen, k) => hostTensor(types[k], shape, Array.from({ length: n }, (_, i) => gen(r, i))));
}

async function check(m: Module, ins: HostTensor[], what: string, rtol = 2e-3): Promise<void> {
  const want = interpret(m, ins);
  const d = await gpu();
  const exe = d.compile(m);
  const outs = d.execute(exe, ins.map((t) => d.upload(t)));
  const got = await Promise.all(outs.map((o) => d.read(o)));
  got.forEach((t, i) => expect(mismatch(t, want[i], rtol, 1e-5), `${what} output ${i}\n`).toBeUndefined());
  outs.forEach((o) => d.free(o));
}

describe('elementwise ops on webgpu match the reference interpreter', () => {
  for (const rec of RECORDS) {
    for (const dt of rec.dtypes) {
      it(`${rec.op} ${dt}`, async () => {
        const gens = rec.gens[dt]!;
        const types = gens.map(() => dt);
        const m = build((g, a) => [g.emit1(rec.op, a, (rec.attrs ?? {}) as never)], types);
        await check(m, inputs(gens, types, rec.op.length * 7 + dt.length), `${rec.op} ${dt}`);
      });
    }
  }

  for (const dt of ['f32', 'i32', 'ui32'] as SupportedDType[]) {
    it(`compare, every direction, ${dt}`, async () => {
      const gen = dt === 'f32' ? floats(-3, 3) : dt === 'i32' ? ints(-3, 3) : uints(5);
      const types: SupportedDType[] = [dt, dt];
      const m = build((g, [a, b]) => DIRECTIONS.map((direction) => g.emit1(Op.Compare, [a, b], { direction })), types);
      await check(m, inputs([gen, shifted(gen, 1)], types, 11), `compare ${dt}`);
    });
  }

  it('compare TOTALORDER (-NaN < -Inf < -0 < +0 < +Inf < NaN)', async () => {
    const m = build((g, [a, b]) => DIRECTIONS.map((direction) => g.emit1(Op.Compare, [a, b], { direction, compareType: 'TOTALORDER' })), ['f32', 'f32']);
    await check(m, inputs([floats(-2, 2), shifted(floats(-2, 2), 1)], ['f32', 'f32'], 3), 'compare totalorder');
  });

  for (const [from, to] of [['f32', 'i32'], ['f32', 'ui32'], ['i32', 'f32'], ['ui32', 'f32'], ['i32', 'ui32'], ['ui32', 'i32'], ['f32', 'i1'], ['i1', 'f32'], ['i32', 'i1'], ['i1', 'i32']] as [SupportedDType, SupportedDType][]) {
    it(`convert ${from} -> ${to}`, async () => {
      const gen = from === 'f32' ? floats(-3e9, 3e9) : from === 'i32' ? ints(-1e9, 1e9) : from === 'ui32' ? uints(4e9) : bools;
      const m = build((g, [a]) => [g.emit1(Op.Convert, [a], {}, { resultTypes: [{ dtype: to, shape: [N] }] })], [from]);
      await check(m, inputs([gen], [from], 5), `convert ${from} ${to}`, 1e-6);
    });
  }

  it('bitcast_convert f32 <-> i32 keeps the bits', async () => {
    const m = build((g, [a]) => {
      const i = g.emit1(Op.BitcastConvert, [a], {}, { resultTypes: [{ dtype: 'i32', shape: [N] }] });
      return [i, g.emit1(Op.BitcastConvert, [i], {}, { resultTypes: [{ dtype: 'f32', shape: [N] }] })];
    }, ['f32']);
    await check(m, inputs([floats(-9, 9)], ['f32'], 9), 'bitcast');
  });

  it('select (scalar and tensor predicates) and clamp (scalar bounds, NaN)', async () => {
    const m = build((g, [p, a, b, s]) => {
      const lo = g.constant('f32', [], -1);
      const hi = g.constant('f32', [], 2);
      return [g.emit1(Op.Select, [p, a, b], {}), g.emit1(Op.Select, [s, a, b], {}), g.emit1(Op.Clamp, [lo, a, hi], {})];
    }, ['i1', 'f32', 'f32', 'i1']);
    // The last argument is used as a scalar predicate: give it rank 0.
    m.funcs[0].args[3].type = { dtype: 'i1', shape: [] };
    const ins = inputs([bools, floats(-5, 5), floats(-5, 5)], ['i1', 'f32', 'f32'], 4);
    await check(m, [...ins, hostTensor('i1', [], [1])], 'select/clamp');
  });

  it('reduce_precision and round-trips through f16 when the adapter has shader-f16', async (ctx) => {
    const d = await gpu();
    const m = build((g, [a]) => [g.emit1(Op.ReducePrecision, [a], { exponentBits: 5, mantissaBits: 10 })], ['f32']);
    await check(m, inputs([floats(-70000, 70000)], ['f32'], 2), 'reduce_precision');
    requireF16(d.target.f16, ctx);
    const h = build((g, [a]) => {
      const x = g.emit1(Op.Convert, [a], {}, { resultTypes: [{ dtype: 'f16', shape: [N] }] });
      const y = g.emit1(Op.Multiply, [x, x], {});
      return [y, g.emit1(Op.Convert, [y], {}, { resultTypes: [{ dtype: 'f32', shape: [N] }] })];
    }, ['f32']);
    await check(h, inputs([floats(-100, 100, false)], ['f32'], 8), 'f16');
  });
});
