/**
 * @file i64 and ui64 in WGSL, which has no 64-bit integers: a value lives in a `vec2<u32>`
 * register (x = low word, y = high word) and in storage as two u32 words per element (the bytes
 * of a little-endian 64-bit integer, so buffers upload and read back unchanged). This module is
 * the whole of the emulation: the register type, literals, the elementwise rules of the ops in
 * `Int64Ops` that compute, conversions, and the helper functions they call, registered on a
 * kernel only when it uses them. Data movement needs nothing here: it is index arithmetic.
 * Semantics are StableHLO's (https://openxla.org/stablehlo/spec), checked against the reference
 * interpreter's bigint rules (runtime/reference/int64.ts).
 */
import { isFloat, isInt64, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection, type ComparisonType } from '../../ir/ops.js';
import type { WgslBuilder } from '../wgsl.js';
import { useHelper } from './helpers.js';

/** The register (and storage element) type of i64 and ui64. */
export const INT64_REG = 'vec2<u32>';

/** A `vec2<u32>` literal of a 64-bit integer (numbers must be safe integers). */
export function int64Literal(x: number | bigint): string {
  const v = BigInt.asUintN(64, BigInt(x));
  const lo = Number(v & 0xffffffffn);
  const hi = Number(v >> 32n);
  return `vec2<u32>(${lo}u, ${hi}u)`;
}

/**
 * A logical shift of `a` by `s` (every bit out at 64 or more): `far` when it moves words (n >= 32),
 * `near` otherwise (0 < n < 32).
 */
function logicalShift64(name: string, far: string, near: string): { src: string } {
  return {
    src: `fn ${name}(a: vec2<u32>, s: vec2<u32>) -> vec2<u32> {
  if (s.y != 0u || s.x >= 64u) { return vec2<u32>(0u, 0u); }
  let n = s.x;
  if (n == 0u) { return a; }
  if (n >= 32u) { return ${far}; }
  return ${near};
}`,
  };
}

/**
 * Helper sources by name. Every function takes and returns `vec2<u32>` (low, high) unless its
 * signature says otherwise. Shift amounts are 64-bit values read as unsigned: 64 or more shifts
 * every bit out (the arithmetic shift leaves copies of the sign).
 */
const SOURCES: Record<string, { deps?: string[]; src: string }> = {
  k64_add: {
    src: `fn k64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}`,
  },
  k64_sub: {
    src: `fn k64_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}`,
  },
  // The full 64-bit product of two u32 words, from four 16x16-bit products.
  k64_mul32: {
    src: `fn k64_mul32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}`,
  },
  // The low 64 bits of the product: the same bits for signed and unsigned operands.
  k64_mul: {
    deps: ['k64_mul32'],
    src: `fn k64_mul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let p = k64_mul32(a.x, b.x);
  return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}`,
  },
  k64_shl: logicalShift64('k64_shl', 'vec2<u32>(0u, a.x << (n - 32u))', 'vec2<u32>(a.x << n, (a.y << n) | (a.x >> (32u - n)))'),
  k64_shrl: logicalShift64('k64_shrl', 'vec2<u32>(a.y >> (n - 32u), 0u)', 'vec2<u32>((a.x >> n) | (a.y << (32u - n)), a.y >> n)'),
  k64_shra: {
    src: `fn k64_shra(a: vec2<u32>, s: vec2<u32>) -> vec2<u32> {
  var n = 63u;
  if (s.y == 0u && s.x < 64u) { n = s.x; }
  if (n == 0u) { return a; }
  let h = bitcast<i32>(a.y);
  if (n >= 32u) { return vec2<u32>(bitcast<u32>(h >> (n - 32u)), bitcast<u32>(h >> 31u)); }
  return vec2<u32>((a.x >> n) | (a.y << (32u - n)), bitcast<u32>(h >> n));
}`,
  },
  k64_ltu: { src: 'fn k64_ltu(a: vec2<u32>, b: vec2<u32>) -> bool { return a.y < b.y || (a.y == b.y && a.x < b.x); }' },
  k64_lts: {
    src: `fn k64_lts(a: vec2<u32>, b: vec2<u32>) -> bool {
  let ah = bitcast<i32>(a.y);
  let bh = bitcast<i32>(b.y);
  return ah < bh || (ah == bh && a.x < b.x);
}`,
  },
  k64_isneg: { src: 'fn k64_isneg(a: vec2<u32>) -> bool { return bitcast<i32>(a.y) < 0i; }' },
  // abs(INT64_MIN) is INT64_MIN, as on two's complement hardware.
  k64_abs: {
    deps: ['k64_sub', 'k64_isneg'],
    src: 'fn k64_abs(a: vec2<u32>) -> vec2<u32> { return select(a, k64_sub(vec2<u32>(0u, 0u), a), k64_isneg(a)); }',
  },
  k64_sign: {
    deps: ['k64_isneg'],
    src: `fn k64_sign(a: vec2<u32>) -> vec2<u32> {
  if (k64_isneg(a)) { return vec2<u32>(0xffffffffu, 0xffffffffu); }
  return vec2<u32>(select(0u, 1u, any(a != vec2<u32>(0u, 0u))), 0u);
}`,
  },
  /**
   * A non-zero unsigned 64-bit magnitude rounded to `p` significant bits, ties to even, as an f32
   * (exact: p <= 24 and the scale is a power of two). One rounding, whatever the width: going
   * through a 32-bit or f32 intermediate would round twice.
   */
  k64_tof: {
    src: `fn k64_tof(m: vec2<u32>, p: u32) -> f32 {
  if (m.y == 0u && m.x < (1u << p)) { return f32(m.x); }
  var n = 32u + countLeadingZeros(m.x);
  if (m.y != 0u) { n = countLeadingZeros(m.y); }
  var top = m.y;
  var low = m.x;
  if (n >= 32u) { top = m.x << (n - 32u); low = 0u; }
  else if (n > 0u) { top = (m.y << n) | (m.x >> (32u - n)); low = m.x << n; }
  let drop = 32u - p;
  var keep = top >> drop;
  let rest = top & ((1u << drop) - 1u);
  let half = 1u << (drop - 1u);
  if (rest > half || (rest == half && (low != 0u || (keep & 1u) == 1u))) { keep = keep + 1u; }
  return ldexp(f32(keep), i32(64u - n - p));
}`,
  },
  // Float to 64-bit integer: truncates toward zero, saturates, NaN gives 0 (as kiln's 32-bit ones).
  k64_from_f: {
    deps: ['k64_sub'],
    src: `fn k64_from_f(x: f32, signed: bool) -> vec2<u32> {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return vec2<u32>(0u, 0u); }
  let t = trunc(x);
  if (signed) {
    if (t >= 0x1p63f) { return vec2<u32>(0xffffffffu, 0x7fffffffu); }
    if (t <= -0x1p63f) { return vec2<u32>(0u, 0x80000000u); }
  } else {
    if (t <= 0.0) { return vec2<u32>(0u, 0u); }
    if (t >= 0x1p64f) { return vec2<u32>(0xffffffffu, 0xffffffffu); }
  }
  let m = abs(t);
  let hi = floor(m * 0x1p-32f);
  let v = vec2<u32>(u32(m - hi * 0x1p32f), u32(hi));
  return select(v, k64_sub(vec2<u32>(0u, 0u), v), t < 0.0);
}`,
  },
};

function use(b: WgslBuilder, name: string): string {
  const h = SOURCES[name];
  for (const d of h.deps ?? []) use(b, d);
  return b.helper(name, h.src);
}

/** `stablehlo.compare` of two 64-bit registers (SIGNED or UNSIGNED; JAX leaves it implied). */
function compare64(dir: ComparisonDirection, type: ComparisonType, a: string, c: string, b: WgslBuilder): string {
  if (dir === 'EQ') return `all(${a} == ${c})`;
  if (dir === 'NE') return `any(${a} != ${c})`;
  const lt = use(b, type === 'SIGNED' ? 'k64_lts' : 'k64_ltu');
  switch (dir) {
    case 'LT': return `${lt}(${a}, ${c})`;
    case 'GT': return `${lt}(${c}, ${a})`;
    case 'LE': return `(!${lt}(${c}, ${a}))`;
    case 'GE': return `(!${lt}(${a}, ${c}))`;
    default: return dir satisfies never;
  }
}

/** The unsigned `<` helper of a 64-bit dtype's own order. */
function less(d: SupportedDType, b: WgslBuilder): string {
  return use(b, d === 'i64' ? 'k64_lts' : 'k64_ltu');
}

/** `convert` where the source or the result is 64-bit (register expressions in and out). */
export function convert64(x: string, from: SupportedDType, to: SupportedDType, b: WgslBuilder): string {
  if (isInt64(from)) {
    if (isInt64(to)) return x;
    switch (to) {
      case 'i1': return `any(${x} != vec2<u32>(0u, 0u))`;
      case 'i32': return `bitcast<i32>(${x}.x)`;
      case 'ui32': return `${x}.x`;
      case 'f32': case 'f16': {
        const tof = use(b, 'k64_tof');
        const p = to === 'f32' ? '24u' : '11u';
        const f = from === 'i64'
          ? `(select(1.0f, -1.0f, ${use(b, 'k64_isneg')}(${x})) * ${tof}(${use(b, 'k64_abs')}(${x}), ${p}))`
          : `${tof}(${x}, ${p})`;
        // The f16 value is already rounded to 11 bits; k_f16r only turns overflow into inf.
        return to === 'f16' ? `${useHelper(b, 'k_f16r')}(${f})` : f;
      }
      default: throw new Error(`convert ${from} -> ${to}`);
    }
  }
  if (isFloat(from)) return `${use(b, 'k64_from_f')}(${x}, ${to === 'i64'})`;
  switch (from) {
    case 'i1': return `vec2<u32>(select(0u, 1u, ${x}), 0u)`;
    case 'i32': return `vec2<u32>(bitcast<u32>(${x}), select(0u, 0xffffffffu, ${x} < 0i))`;
    case 'ui32': return `vec2<u32>(${x}, 0u)`;
    default: throw new Error(`convert ${from} -> ${to}`);
  }
}

/** What {@link emitInt64} gets: the op, operand registers and dtypes, and the op's attributes. */
export interface Int64Args {
  b: WgslBuilder;
  args: string[];
  ins: SupportedDType[];
  out: SupportedDType;
  attrs: { direction?: ComparisonDirection; compareType?: ComparisonType };
}

/**
 * The WGSL expression of one elementwise op with a 64-bit operand or result, or `undefined` when
 * the op has no 64-bit rule (the caller refuses it; the verifier already refuses ops outside
 * `Int64Ops`).
 */
export function emitInt64(op: Op, { b, args, ins, out, attrs }: Int64Args): string | undefined {
  const [x, y, z] = args;
  const d = ins[0];
  switch (op) {
    case Op.Add: return `${use(b, 'k64_add')}(${x}, ${y})`;
    case Op.Subtract: return `${use(b, 'k64_sub')}(${x}, ${y})`;
    case Op.Multiply: return `${use(b, 'k64_mul')}(${x}, ${y})`;
    case Op.Negate: return `${use(b, 'k64_sub')}(vec2<u32>(0u, 0u), ${x})`;
    case Op.Abs: return d === 'i64' ? `${use(b, 'k64_abs')}(${x})` : x;
    case Op.Sign: return d === 'i64' ? `${use(b, 'k64_sign')}(${x})` : `vec2<u32>(select(0u, 1u, any(${x} != vec2<u32>(0u, 0u))), 0u)`;
    case Op.Not: return `(~${x})`;
    case Op.And: return `(${x} & ${y})`;
    case Op.Or: return `(${x} | ${y})`;
    case Op.Xor: return `(${x} ^ ${y})`;
    case Op.ShiftLeft: return `${use(b, 'k64_shl')}(${x}, ${y})`;
    case Op.ShiftRightLogical: return `${use(b, 'k64_shrl')}(${x}, ${y})`;
    case Op.ShiftRightArithmetic: return `${use(b, 'k64_shra')}(${x}, ${y})`;
    case Op.Maximum: return `select(${x}, ${y}, ${less(d, b)}(${x}, ${y}))`;
    case Op.Minimum: return `select(${x}, ${y}, ${less(d, b)}(${y}, ${x}))`;
    case Op.Compare:
      return compare64(attrs.direction!, attrs.compareType ?? (d === 'i64' ? 'SIGNED' : 'UNSIGNED'), x, y, b);
    case Op.Select: return `select(${z}, ${y}, ${x})`;
    // clamp(min, x, max) = min(max(x, min), max)
    case Op.Clamp: {
      const lt = less(ins[1], b);
      const lo = b.let(`select(${y}, ${x}, ${lt}(${y}, ${x}))`, INT64_REG, 'c');
      return `select(${lo}, ${z}, ${lt}(${z}, ${lo}))`;
    }
    case Op.Convert: return convert64(x, d, out, b);
    case Op.BitcastConvert: return x; // i64 <-> ui64: the same words
    default: return undefined;
  }
}
