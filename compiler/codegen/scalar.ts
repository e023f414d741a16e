/**
 * @file The elementwise expression table: how each elementwise op computes one element in WGSL,
 * given its operands as register values. Register types: f32 and f16 values live in f32 registers
 * (f16 rounded after every op, as the reference interpreter rounds), i32 in i32, ui32 in u32 and
 * i1 in bool. Semantics follow https://openxla.org/stablehlo/spec and the reference interpreter:
 * NaN-propagating max/min, XLA integer division, saturating float-to-int conversion.
 */
import { isFloat, isInt64, type NarrowDType, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection, type ComparisonType, type OpAttrs } from '../../ir/ops.js';
import type { WgslBuilder } from '../wgsl.js';
import { useHelper } from './helpers.js';
import { convert64, emitInt64, INT64_REG, int64Literal } from './int64.js';
import { COMPLEX_REG, emitComplex } from './complex.js';

/** The WGSL type a value of `d` has in registers (i64/ui64: two u32 words, see int64.ts). */
export function regType(d: NarrowDType): 'f32' | 'i32' | 'u32' | 'bool';
export function regType(d: SupportedDType): 'f32' | 'i32' | 'u32' | 'bool' | typeof INT64_REG | typeof COMPLEX_REG;
export function regType(d: SupportedDType): 'f32' | 'i32' | 'u32' | 'bool' | typeof INT64_REG | typeof COMPLEX_REG {
  switch (d) {
    // bf16 never reaches code generation (compiler/passes/bf16.ts holds it in f32 words); as f32.
    case 'f32': case 'f16': case 'bf16': return 'f32';
    case 'c64': return COMPLEX_REG;
    case 'i32': return 'i32';
    case 'ui32': return 'u32';
    case 'i1': return 'bool';
    case 'i64': case 'ui64': return INT64_REG;
    case 'i8': case 'ui8': case 'i16': case 'ui16': throw new Error(`internal: ${d} reached code generation; compiler/passes/smallint.ts computes it as i32/ui32`);
    default: return d satisfies never;
  }
}

/** The largest finite f32. */
const F32_MAX = 3.4028234663852886e38;

/**
 * A WGSL literal of `x` in the register type of `d` (bigints only for i64/ui64). For c64, `x` is
 * the real part and `im` the imaginary one.
 */
export function literal(x: number | bigint, d: SupportedDType, b?: WgslBuilder, im = 0): string {
  if (isInt64(d)) return int64Literal(x);
  if (typeof x === 'bigint') throw new Error(`a bigint literal of ${d}`);
  switch (d) {
    case 'f32': case 'f16': case 'bf16': {
      const f = Math.fround(x);
      if (!Number.isFinite(f) || Object.is(f, -0) || (f !== 0 && Math.abs(f) < 1.1754943508222875e-38)) {
        const u = new Uint32Array(new Float32Array([f]).buffer)[0];
        if (Number.isFinite(f)) return `bitcast<f32>(0x${u.toString(16)}u)`;
        if (!b) throw new Error('a non-finite literal needs a builder');
        return `${useHelper(b, 'k_fbits')}(0x${u.toString(16)}u)`;
      }
      // 9 significant digits round-trip any f32, but may round past the largest finite f32
      // (3.40282347e+38), which WGSL rejects; the double's shortest form is then exact.
      const short = f.toPrecision(9);
      const s = `${Math.abs(Number(short)) > F32_MAX ? String(f) : short}f`;
      return f < 0 ? `(${s})` : s;
    }
    case 'i32': {
      const i = x | 0;
      return i === -2147483648 ? 'bitcast<i32>(0x80000000u)' : i < 0 ? `(${i}i)` : `${i}i`;
    }
    case 'ui32': return `${x >>> 0}u`;
    case 'i1': return x ? 'true' : 'false';
    // A real number as a complex register; complex constants go through complexLiteral.
    case 'c64': return `vec2<f32>(${literal(x, 'f32', b)}, ${literal(im, 'f32', b)})`;
    case 'i8': case 'ui8': case 'i16': case 'ui16': throw new Error(`internal: ${d} reached code generation; compiler/passes/smallint.ts computes it as i32/ui32`);
    default: return d satisfies never;
  }
}

/** What a rule sees: operand register expressions (already bound to names) and dtypes. */
export interface ScalarArgs<K extends Op = Op> {
  b: WgslBuilder;
  args: string[];
  /** Operand dtypes. */
  ins: SupportedDType[];
  out: SupportedDType;
  attrs: OpAttrs[K];
}

type Rule<K extends Op> = (a: ScalarArgs<K>) => string;

const h = (b: WgslBuilder, name: string) => useHelper(b, name);

/** Unary float op through a builtin or helper; undefined dtype kinds never reach here (verified). */
function fl<K extends Op>(f: (x: string, b: WgslBuilder) => string): Rule<K> {
  return ({ b, args }) => f(args[0], b);
}

function byKind<K extends Op>(rules: {
  float?: (a: ScalarArgs<K>) => string;
  int?: (a: ScalarArgs<K>) => string;
  uint?: (a: ScalarArgs<K>) => string;
  bool?: (a: ScalarArgs<K>) => string;
}, name: string): Rule<K> {
  return (a) => {
    const d = a.ins[0];
    const r = isFloat(d) ? rules.float : d === 'i32' ? rules.int : d === 'ui32' ? (rules.uint ?? rules.int) : rules.bool;
    if (!r) throw new Error(`${name} has no WGSL rule for ${d}`);
    return r(a);
  };
}

const [x0, x1, x2] = [0, 1, 2];

function compare(dir: ComparisonDirection, type: ComparisonType | undefined, a: string, c: string, d: SupportedDType, b: WgslBuilder): string {
  const t = type ?? (isFloat(d) ? 'FLOAT' : d === 'i32' ? 'SIGNED' : 'UNSIGNED');
  let l = a;
  let r = c;
  if (d === 'i1') { l = `u32(${a})`; r = `u32(${c})`; }
  else if (t === 'TOTALORDER' && isFloat(d)) { l = `${h(b, 'k_total')}(${a})`; r = `${h(b, 'k_total')}(${c})`; }
  else if (t === 'SIGNED' && d === 'ui32') { l = `bitcast<i32>(${a})`; r = `bitcast<i32>(${c})`; }
  else if (t === 'UNSIGNED' && d === 'i32') { l = `bitcast<u32>(${a})`; r = `bitcast<u32>(${c})`; }
  const op = { EQ: '==', NE: '!=', LT: '<', LE: '<=', GT: '>', GE: '>=' }[dir];
  // Under FLOAT, ordered comparisons with NaN are false and NE is true; test the bits so a
  // compiler assuming finite math cannot fold that away.
  if (t === 'FLOAT' && isFloat(d)) {
    const nan = `(${h(b, 'k_isnan')}(${a}) || ${h(b, 'k_isnan')}(${c}))`;
    return dir === 'NE' ? `(${nan} || (${l} != ${r}))` : `(!${nan} && (${l} ${op} ${r}))`;
  }
  return `(${l} ${op} ${r})`;
}

/** Converts a register value of dtype `from` to the register value of `to` (`stablehlo.convert`). */
export function convert(x: string, from: SupportedDType, to: SupportedDType, b: WgslBuilder): string {
  if (from === to) return x;
  if (isInt64(from) || isInt64(to)) return convert64(x, from, to, b);
  const ff = isFloat(from);
  // NaN converts to true; an unordered != is not guaranteed on every backend, so test the bits.
  if (to === 'i1') return ff ? `((bitcast<u32>(${x}) & 0x7fffffffu) != 0u)` : from === 'i32' ? `(${x} != 0i)` : `(${x} != 0u)`;
  if (from === 'i1') return `${regType(to)}(${x})`;
  if (isFloat(to)) {
    const v = ff ? x : `f32(${x})`;
    return to === 'f16' ? `${h(b, 'k_f16r')}(${v})` : v;
  }
  if (ff) return to === 'i32' ? `${h(b, 'k_f2i')}(${x})` : `${h(b, 'k_f2u')}(${x})`;
  return to === 'i32' ? `bitcast<i32>(${x})` : `bitcast<u32>(${x})`;
}

/**
 * The elementwise rules. Every op has an entry: non-elementwise ops map to `null` (they are
 * lowered by the fusion emitter, the reduce or matmul kernels, or the indexed lowerings).
 */
/** Float ops computed by a WGSL helper function of their own (compiler/codegen/helpers.ts), by op. */
const VIA_HELPER = {
  [Op.BesselI1e]: 'k_i1e',
  [Op.Expm1]: 'k_expm1', [Op.Log]: 'k_log', [Op.Log1p]: 'k_log1p', [Op.Logistic]: 'k_logistic',
  [Op.Sqrt]: 'k_sqrt', [Op.Rsqrt]: 'k_rsqrt', [Op.Cbrt]: 'k_cbrt', [Op.Tanh]: 'k_tanh',
  [Op.RoundAfz]: 'k_round_afz', [Op.IsFinite]: 'k_isfinite', [Op.Erf]: 'k_erf', [Op.Erfc]: 'k_erfc',
  [Op.ErfInv]: 'k_erfinv', [Op.Sinh]: 'k_sinh', [Op.Cosh]: 'k_cosh', [Op.Asin]: 'k_asin',
  [Op.Acos]: 'k_acos', [Op.Asinh]: 'k_asinh', [Op.Acosh]: 'k_acosh', [Op.Atanh]: 'k_atanh',
  [Op.Lgamma]: 'k_lgamma', [Op.Digamma]: 'k_digamma', [Op.IsInf]: 'k_isinf',
} as const;

export const SCALAR: { [K in Op]: Rule<K> | null } = {
  ...(Object.fromEntries(Object.entries(VIA_HELPER).map(([op, fn]) => [op, fl((x, b) => `${h(b, fn)}(${x})`)])) as { [K in keyof typeof VIA_HELPER]: Rule<K> }),
  [Op.Abs]: byKind({ float: ({ args }) => `abs(${args[x0]})`, int: ({ args }) => `abs(${args[x0]})`, uint: ({ args }) => args[x0] }, 'abs'),
  [Op.Negate]: byKind({ float: ({ args }) => `(-${args[x0]})`, int: ({ args }) => `(0i - ${args[x0]})`, uint: ({ args }) => `(0u - ${args[x0]})` }, 'negate'),
  [Op.Sign]: byKind({
    float: ({ b, args }) => `${h(b, 'k_fsign')}(${args[x0]})`,
    int: ({ args }) => `sign(${args[x0]})`,
    uint: ({ args }) => `select(0u, 1u, ${args[x0]} != 0u)`,
  }, 'sign'),
  [Op.Exp]: fl((x) => `exp(${x})`),
  [Op.Sin]: fl((x) => `sin(${x})`),
  [Op.Cos]: fl((x) => `cos(${x})`),
  [Op.Tan]: fl((x) => `tan(${x})`),
  [Op.Floor]: fl((x) => `floor(${x})`),
  [Op.Ceil]: fl((x) => `ceil(${x})`),
  // WGSL's round() rounds half to even.
  [Op.RoundEven]: fl((x) => `round(${x})`),
  [Op.Not]: byKind({ int: ({ args }) => `(~${args[x0]})`, bool: ({ args }) => `(!${args[x0]})` }, 'not'),
  [Op.Popcnt]: byKind({ int: ({ args }) => `countOneBits(${args[x0]})` }, 'popcnt'),
  [Op.Clz]: byKind({ int: ({ args }) => `countLeadingZeros(${args[x0]})` }, 'count_leading_zeros'),
  [Op.Square]: ({ args }) => `(${args[x0]} * ${args[x0]})`,
  [Op.Atan]: fl((x) => `atan(${x})`),
  [Op.IsPosInf]: fl((x) => `(bitcast<u32>(${x}) == 0x7f800000u)`),
  [Op.IsNegInf]: fl((x) => `(bitcast<u32>(${x}) == 0xff800000u)`),

  [Op.Add]: byKind({ float: ({ args }) => `(${args[x0]} + ${args[x1]})`, int: ({ args }) => `(${args[x0]} + ${args[x1]})`, bool: ({ args }) => `(${args[x0]} || ${args[x1]})` }, 'add'),
  [Op.Subtract]: ({ args }) => `(${args[x0]} - ${args[x1]})`,
  [Op.Multiply]: byKind({ float: ({ args }) => `(${args[x0]} * ${args[x1]})`, int: ({ args }) => `(${args[x0]} * ${args[x1]})`, bool: ({ args }) => `(${args[x0]} && ${args[x1]})` }, 'multiply'),
  [Op.Divide]: byKind({
    float: ({ args }) => `(${args[x0]} / ${args[x1]})`,
    int: ({ b, args }) => `${h(b, 'k_idiv')}(${args[x0]}, ${args[x1]})`,
    uint: ({ b, args }) => `${h(b, 'k_udiv')}(${args[x0]}, ${args[x1]})`,
  }, 'divide'),
  [Op.Remainder]: byKind({
    float: ({ b, args }) => `${h(b, 'k_fmod')}(${args[x0]}, ${args[x1]})`,
    int: ({ b, args }) => `${h(b, 'k_irem')}(${args[x0]}, ${args[x1]})`,
    uint: ({ b, args }) => `${h(b, 'k_urem')}(${args[x0]}, ${args[x1]})`,
  }, 'remainder'),
  [Op.Power]: byKind({
    float: ({ b, args }) => `${h(b, 'k_fpow')}(${args[x0]}, ${args[x1]})`,
    int: ({ b, args }) => `${h(b, 'k_ipow')}(${args[x0]}, ${args[x1]})`,
    uint: ({ b, args }) => `${h(b, 'k_upow')}(${args[x0]}, ${args[x1]})`,
  }, 'power'),
  [Op.Maximum]: byKind({
    float: ({ b, args }) => `${h(b, 'k_fmax')}(${args[x0]}, ${args[x1]})`,
    int: ({ args }) => `max(${args[x0]}, ${args[x1]})`,
    bool: ({ args }) => `(${args[x0]} || ${args[x1]})`,
  }, 'maximum'),
  [Op.Minimum]: byKind({
    float: ({ b, args }) => `${h(b, 'k_fmin')}(${args[x0]}, ${args[x1]})`,
    int: ({ args }) => `min(${args[x0]}, ${args[x1]})`,
    bool: ({ args }) => `(${args[x0]} && ${args[x1]})`,
  }, 'minimum'),
  [Op.Atan2]: ({ b, args }) => `${h(b, 'k_atan2')}(${args[x0]}, ${args[x1]})`,
  [Op.And]: byKind({ int: ({ args }) => `(${args[x0]} & ${args[x1]})`, bool: ({ args }) => `(${args[x0]} && ${args[x1]})` }, 'and'),
  [Op.Or]: byKind({ int: ({ args }) => `(${args[x0]} | ${args[x1]})`, bool: ({ args }) => `(${args[x0]} || ${args[x1]})` }, 'or'),
  [Op.Xor]: byKind({ int: ({ args }) => `(${args[x0]} ^ ${args[x1]})`, bool: ({ args }) => `(${args[x0]} != ${args[x1]})` }, 'xor'),
  // Shift amounts are unsigned; at 32 or more every bit is shifted out (WGSL would mask them).
  [Op.ShiftLeft]: byKind({
    int: ({ args, ins }) => {
      const z = ins[0] === 'i32' ? '0i' : '0u';
      return `select(${z}, ${args[x0]} << (bitcast<u32>(${args[x1]}) & 31u), bitcast<u32>(${args[x1]}) < 32u)`;
    },
  }, 'shift_left'),
  [Op.ShiftRightArithmetic]: byKind({
    int: ({ args }) => `(${args[x0]} >> min(bitcast<u32>(${args[x1]}), 31u))`,
    uint: ({ args }) => `bitcast<u32>(bitcast<i32>(${args[x0]}) >> min(${args[x1]}, 31u))`,
  }, 'shift_right_arithmetic'),
  [Op.ShiftRightLogical]: byKind({
    int: ({ args }) => `select(0i, bitcast<i32>(bitcast<u32>(${args[x0]}) >> (bitcast<u32>(${args[x1]}) & 31u)), bitcast<u32>(${args[x1]}) < 32u)`,
    uint: ({ args }) => `select(0u, ${args[x0]} >> (${args[x1]} & 31u), ${args[x1]} < 32u)`,
  }, 'shift_right_logical'),
  [Op.Zeta]: ({ b, args }) => `${h(b, 'k_zeta')}(${args[x0]}, ${args[x1]})`,
  [Op.Polygamma]: ({ b, args }) => `${h(b, 'k_polygamma')}(${args[x0]}, ${args[x1]})`,
  [Op.NextAfter]: ({ b, args, ins }) => `${h(b, ins[0] === 'f16' ? 'k_nextafter16' : 'k_nextafter')}(${args[x0]}, ${args[x1]})`,
  [Op.Compare]: ({ b, args, ins, attrs }) => compare(attrs.direction, attrs.compareType, args[x0], args[x1], ins[0], b),

  [Op.Select]: ({ args }) => `select(${args[x2]}, ${args[x1]}, ${args[x0]})`,
  // clamp(min, x, max) = min(max(x, min), max), NaN-propagating like the reference.
  [Op.Clamp]: (a) => {
    const d = a.ins[1];
    if (isFloat(d)) return `${h(a.b, 'k_fmin')}(${h(a.b, 'k_fmax')}(${a.args[x1]}, ${a.args[x0]}), ${a.args[x2]})`;
    if (d === 'i1') return `((${a.args[x1]} || ${a.args[x0]}) && ${a.args[x2]})`;
    return `min(max(${a.args[x1]}, ${a.args[x0]}), ${a.args[x2]})`;
  },
  [Op.Convert]: ({ b, args, ins, out }) => convert(args[x0], ins[0], out, b),
  [Op.BitcastConvert]: ({ args, ins, out }) => {
    if (ins[0] === out) return args[x0];
    if (ins[0] === 'f16' || out === 'f16' || ins[0] === 'i1' || out === 'i1') throw new Error('bitcast_convert between widths');
    return `bitcast<${regType(out)}>(${args[x0]})`;
  },
  // On real operands (complex ones are emitted by complex.ts): the value, and zero.
  [Op.Real]: ({ args }) => args[x0],
  [Op.Imag]: () => '0.0f',
  [Op.Complex]: ({ args }) => `vec2<f32>(${args[x0]}, ${args[x1]})`,
  [Op.ReducePrecision]: ({ b, args, attrs, ins }) => {
    // On f16 the format's own widths bound the reduction (as in the reference interpreter).
    const e = ins[0] === 'f16' && attrs.exponentBits >= 5 ? 8 : attrs.exponentBits;
    const m = ins[0] === 'f16' && attrs.mantissaBits >= 10 ? 23 : attrs.mantissaBits;
    return `${h(b, 'k_reduce_precision')}(${args[x0]}, ${e}u, ${m}u)`;
  },

  [Op.Constant]: null, [Op.Iota]: null, [Op.BroadcastInDim]: null, [Op.Reshape]: null,
  [Op.Transpose]: null, [Op.Slice]: null, [Op.DynamicSlice]: null, [Op.DynamicUpdateSlice]: null,
  [Op.Concatenate]: null, [Op.Pad]: null, [Op.Reverse]: null, [Op.Gather]: null, [Op.Scatter]: null,
  [Op.Reduce]: null, [Op.ReduceWindow]: null, [Op.SelectAndScatter]: null, [Op.DotGeneral]: null,
  [Op.Convolution]: null, [Op.Sort]: null, [Op.TopK]: null, [Op.Cholesky]: null, [Op.TriangularSolve]: null, [Op.CustomCall]: null, [Op.While]: null, [Op.If]: null,
  [Op.Case]: null, [Op.Call]: null, [Op.Return]: null, [Op.FuncReturn]: null,
  [Op.OptimizationBarrier]: null, [Op.Fft]: null,
  [Op.RngBitGenerator]: null,
  [Op.BatchNormTraining]: null, [Op.BatchNormInference]: null, [Op.BatchNormGrad]: null, [Op.Scan]: null,
};

/** Ops whose f16 result needs no rounding after the f32 computation (exact or already rounded). */
const EXACT_ON_F16 = new Set<Op>([
  Op.Abs, Op.Negate, Op.Sign, Op.Floor, Op.Ceil, Op.RoundAfz, Op.RoundEven, Op.Select, Op.Clamp,
  Op.Maximum, Op.Minimum, Op.Convert, Op.BitcastConvert, Op.NextAfter,
]);

/** Emits one elementwise op; returns a WGSL expression of the result register value. */
export function emitScalar(op: Op, a: ScalarArgs): string {
  if (isInt64(a.out) || a.ins.some(isInt64)) {
    const e = emitInt64(op, a as ScalarArgs<Op.Compare>);
    if (e === undefined) throw new Error(`${op} has no WGSL rule for ${[...a.ins, a.out].find(isInt64)}`);
    return e;
  }
  if (a.out === 'c64' || a.ins.includes('c64')) {
    const e = emitComplex(op, {
      ...a, attrs: a.attrs as { direction?: ComparisonDirection },
      convertReal: (x, from, to) => convert(x, from, to, a.b),
      compareF32: (dir, l, r) => compare(dir, 'FLOAT', l, r, 'f32', a.b),
    });
    if (e === undefined) throw new Error(`${op} has no WGSL rule for complex<f32>`);
    return e;
  }
  const rule = SCALAR[op] as Rule<Op> | null;
  if (!rule) throw new Error(`${op} is not elementwise`);
  const e = rule(a);
  if (a.out === 'f16' && !EXACT_ON_F16.has(op)) return `${useHelper(a.b, 'k_f16r')}(${e})`;
  return e;
}
