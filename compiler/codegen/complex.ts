/**
 * @file complex<f32> in WGSL: a c64 value is a `vec2<f32>` (re, im) in registers and in storage.
 * The elementwise ops of `ComplexOps` (ir/ops.ts), and the helper functions they call, registered
 * on a kernel's builder only when used. The formulas are the reference interpreter's
 * (runtime/reference/complex.ts), which follow XLA: Smith's division, C99's branch cuts for
 * sqrt and log, hypot-scaled abs; here they run in f32.
 */
import { isFloat, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ComparisonDirection } from '../../ir/ops.js';
import type { WgslBuilder } from '../wgsl.js';
import { useHelper } from './helpers.js';

/** The WGSL register (and storage) type of c64. */
export const COMPLEX_REG = 'vec2<f32>';

const SOURCES: Record<string, { deps?: string[]; src: string }> = {
  kc_mul: { src: 'fn kc_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }' },
  // Smith's algorithm: divide by the larger part of the divisor so nothing overflows in |b|^2.
  kc_div: {
    deps: ['k_inf', 'k_nan'],
    src: `fn kc_div(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  if (b.x == 0.0 && b.y == 0.0) {
    if (a.x == 0.0 && a.y == 0.0) { return vec2<f32>(k_nan(), k_nan()); }
    let s = select(k_inf(), -k_inf(), (bitcast<u32>(b.x) & 0x80000000u) != 0u);
    return vec2<f32>(select(s * a.x, k_nan(), a.x == 0.0), select(s * a.y, k_nan(), a.y == 0.0));
  }
  if (abs(b.x) >= abs(b.y)) {
    let r = b.y / b.x;
    let d = b.x + b.y * r;
    return vec2<f32>((a.x + a.y * r) / d, (a.y - a.x * r) / d);
  }
  let r = b.x / b.y;
  let d = b.y + b.x * r;
  return vec2<f32>((a.x * r + a.y) / d, (a.y * r - a.x) / d);
}`,
  },
  // |z| scaled by its larger part, so |z|^2 never overflows or underflows.
  kc_abs: {
    deps: ['k_isinf'],
    src: `fn kc_abs(z: vec2<f32>) -> f32 {
  if (k_isinf(z.x) || k_isinf(z.y)) { return abs(z.x) + abs(z.y); }
  let m = max(abs(z.x), abs(z.y));
  if (m == 0.0) { return 0.0; }
  let r = min(abs(z.x), abs(z.y)) / m;
  return m * sqrt(1.0 + r * r);
}`,
  },
  // C99 csqrt: t = sqrt((|a| + |z|) / 2); (t, b / 2t) for a >= 0, else (|b| / 2t, +-t) with b's sign.
  kc_sqrt: {
    deps: ['kc_abs', 'k_inf'],
    src: `fn kc_sqrt(z: vec2<f32>) -> vec2<f32> {
  if (z.x == 0.0 && z.y == 0.0) { return vec2<f32>(0.0, z.y); }
  if (abs(z.y) == k_inf()) { return vec2<f32>(k_inf(), z.y); }
  let t = sqrt(0.5 * (abs(z.x) + kc_abs(z)));
  if (z.x >= 0.0) { return vec2<f32>(t, z.y / (2.0 * t)); }
  return vec2<f32>(abs(z.y) / (2.0 * t), select(t, -t, (bitcast<u32>(z.y) & 0x80000000u) != 0u));
}`,
  },
  kc_rsqrt: { deps: ['kc_div', 'kc_sqrt'], src: 'fn kc_rsqrt(z: vec2<f32>) -> vec2<f32> { return kc_div(vec2<f32>(1.0, 0.0), kc_sqrt(z)); }' },
  kc_exp: {
    src: `fn kc_exp(z: vec2<f32>) -> vec2<f32> {
  let e = exp(z.x);
  if (z.y == 0.0) { return vec2<f32>(e, z.y); }
  return vec2<f32>(e * cos(z.y), e * sin(z.y));
}`,
  },
  kc_log: { deps: ['kc_abs', 'k_log'], src: 'fn kc_log(z: vec2<f32>) -> vec2<f32> { return vec2<f32>(k_log(kc_abs(z)), atan2(z.y, z.x)); }' },
  // log|1+z| = log1p(a(2+a) + b^2) / 2: no cancellation for small z.
  kc_log1p: {
    deps: ['k_log1p'],
    src: 'fn kc_log1p(z: vec2<f32>) -> vec2<f32> { return vec2<f32>(0.5 * k_log1p(z.x * (2.0 + z.x) + z.y * z.y), atan2(z.y, 1.0 + z.x)); }',
  },
  // e^z - 1 = (expm1(a) cos b - 2 sin^2(b/2)) + i e^a sin b.
  kc_expm1: {
    deps: ['k_expm1'],
    src: `fn kc_expm1(z: vec2<f32>) -> vec2<f32> {
  let s = sin(0.5 * z.y);
  return vec2<f32>(k_expm1(z.x) * cos(z.y) - 2.0 * s * s, exp(z.x) * sin(z.y));
}`,
  },
  kc_sin: { deps: ['k_sinh', 'k_cosh'], src: 'fn kc_sin(z: vec2<f32>) -> vec2<f32> { return vec2<f32>(sin(z.x) * k_cosh(z.y), cos(z.x) * k_sinh(z.y)); }' },
  kc_cos: { deps: ['k_sinh', 'k_cosh'], src: 'fn kc_cos(z: vec2<f32>) -> vec2<f32> { return vec2<f32>(cos(z.x) * k_cosh(z.y), -sin(z.x) * k_sinh(z.y)); }' },
  // tanh z = (sinh 2a + i sin 2b) / (cosh 2a + cos 2b); past |a| = 10 it is +-1 in f32.
  kc_tanh: {
    deps: ['k_sinh', 'k_cosh'],
    src: `fn kc_tanh(z: vec2<f32>) -> vec2<f32> {
  if (abs(z.x) > 10.0) { return vec2<f32>(sign(z.x), 4.0 * sin(z.y) * cos(z.y) * exp(-2.0 * abs(z.x))); }
  let d = k_cosh(2.0 * z.x) + cos(2.0 * z.y);
  return vec2<f32>(k_sinh(2.0 * z.x) / d, sin(2.0 * z.y) / d);
}`,
  },
  kc_sign: {
    deps: ['kc_abs', 'k_isnan', 'k_nan'],
    src: `fn kc_sign(z: vec2<f32>) -> vec2<f32> {
  if (k_isnan(z.x) || k_isnan(z.y)) { return vec2<f32>(k_nan(), k_nan()); }
  let m = kc_abs(z);
  if (m == 0.0) { return vec2<f32>(0.0, 0.0); }
  return z / m;
}`,
  },
  // XLA's complex power: 0^0 = 1, 0^y = 0 when re(y) > 0, else |x|^c e^(-d arg x) cis(c arg x + (d/2) log|x|^2).
  kc_pow: {
    deps: ['k_log'],
    src: `fn kc_pow(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
  if (x.x == 0.0 && x.y == 0.0) {
    if (y.x == 0.0 && y.y == 0.0) { return vec2<f32>(1.0, 0.0); }
    if (y.x > 0.0) { return vec2<f32>(0.0, 0.0); }
  }
  let lr2 = k_log(x.x * x.x + x.y * x.y);
  let arg = atan2(x.y, x.x);
  let coeff = exp(0.5 * y.x * lr2 - y.y * arg);
  let q = y.x * arg + 0.5 * y.y * lr2;
  return vec2<f32>(coeff * cos(q), coeff * sin(q));
}`,
  },
};

/** Registers helper `name` (complex ones here, real ones from helpers.ts) and returns its name. */
function use(b: WgslBuilder, name: string): string {
  const h = SOURCES[name];
  if (!h) return useHelper(b, name);
  for (const d of h.deps ?? []) use(b, d);
  return b.helper(name, h.src);
}

/** What {@link emitComplex} gets: operand registers and dtypes, the result dtype and the compare direction. */
export interface ComplexArgs {
  b: WgslBuilder;
  args: string[];
  ins: SupportedDType[];
  out: SupportedDType;
  attrs: { direction?: ComparisonDirection };
  /** The real rules, for a real operand converted to complex (or a real part converted on). */
  convertReal: (x: string, from: SupportedDType, to: SupportedDType) => string;
  /** A bit-exact float comparison of two f32 registers (scalar.ts's, NaN-safe). */
  compareF32: (dir: 'EQ' | 'NE', a: string, c: string) => string;
}

/** The unary ops with a helper of the same shape `vec2 -> vec2`. */
const UNARY_HELPER: Partial<Record<Op, string>> = {
  [Op.Exp]: 'kc_exp', [Op.Expm1]: 'kc_expm1', [Op.Log]: 'kc_log', [Op.Log1p]: 'kc_log1p', [Op.Sqrt]: 'kc_sqrt',
  [Op.Rsqrt]: 'kc_rsqrt', [Op.Sin]: 'kc_sin', [Op.Cos]: 'kc_cos', [Op.Tanh]: 'kc_tanh', [Op.Sign]: 'kc_sign',
};

/**
 * The WGSL expression of one elementwise op with a complex operand or result, or `undefined`
 * when the op has no complex rule (the verifier refuses ops outside `ComplexOps`).
 */
export function emitComplex(op: Op, a: ComplexArgs): string | undefined {
  const { b, args, ins, out } = a;
  const [x, y, z] = args;
  const helper = UNARY_HELPER[op];
  if (helper) return `${use(b, helper)}(${x})`;
  switch (op) {
    case Op.Add: return `(${x} + ${y})`;
    case Op.Subtract: return `(${x} - ${y})`;
    case Op.Multiply: return `${use(b, 'kc_mul')}(${x}, ${y})`;
    case Op.Square: return `${use(b, 'kc_mul')}(${x}, ${x})`;
    case Op.Divide: return `${use(b, 'kc_div')}(${x}, ${y})`;
    case Op.Power: return `${use(b, 'kc_pow')}(${x}, ${y})`;
    case Op.Negate: return `(-${x})`;
    case Op.Abs: return `${use(b, 'kc_abs')}(${x})`;
    case Op.Real: return `${x}.x`;
    case Op.Imag: return `${x}.y`;
    case Op.Complex: return `vec2<f32>(${x}, ${y})`;
    case Op.Select: return `select(${z}, ${y}, ${x})`;
    case Op.Compare: {
      const dir = a.attrs.direction;
      if (dir === 'EQ') return `(${a.compareF32('EQ', `${x}.x`, `${y}.x`)} && ${a.compareF32('EQ', `${x}.y`, `${y}.y`)})`;
      if (dir === 'NE') return `(${a.compareF32('NE', `${x}.x`, `${y}.x`)} || ${a.compareF32('NE', `${x}.y`, `${y}.y`)})`;
      return undefined;
    }
    case Op.Convert: {
      const from = ins[0];
      if (from === 'c64' && out === 'c64') return x;
      if (out === 'c64') return `vec2<f32>(${a.convertReal(x, from, 'f32')}, 0.0f)`;
      // To a real type: the real part (XLA drops the imaginary part); to i1: z != 0.
      if (out === 'i1') return `(${a.compareF32('NE', `${x}.x`, '0.0f')} || ${a.compareF32('NE', `${x}.y`, '0.0f')})`;
      return isFloat(out) && out === 'f32' ? `${x}.x` : a.convertReal(`${x}.x`, 'f32', out);
    }
    default: return undefined;
  }
}
