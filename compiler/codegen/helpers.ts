/**
 * @file WGSL helper functions that elementwise code calls where a builtin is missing or does not
 * have StableHLO's semantics (NaN handling, integer division by zero, special functions). Each is
 * registered on a kernel's `WgslBuilder` only when the kernel uses it (`WgslBuilder.helper`).
 * Floats are f32 here: f16 values are computed in f32 registers and rounded after every op.
 */
import type { WgslBuilder } from '../wgsl.js';

/**
 * The start of a function of x defined on [-1, 1] with poles at ±1 (atanh, erf_inv): NaN outside,
 * ±inf at the ends, `a` = |x| for the rest. Needs `k_nan` and `k_inf`.
 */
const POLES_AT_ONE = `  let a = abs(x);
  if (a > 1.0) { return k_nan(); }
  if (a == 1.0) { return sign(x) * k_inf(); }`;

/** The start of next_after(a, b) in any float width: NaN when either is NaN, b when they are equal (so -0.0 toward +0.0 is +0.0). Needs `k_isnan` and `k_nan`. */
const NEXT_AFTER_START = `  if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
  if (a == b) { return b; }`;

/** WGSL's `max` or `min` of two f32, but NaN when either is NaN (stablehlo.maximum/minimum; WGSL leaves NaN unspecified). */
function nanPropagating(name: string, fn: 'max' | 'min'): { deps: string[]; src: string } {
  return {
    deps: ['k_isnan'],
    src: `fn ${name}(a: f32, b: f32) -> f32 {
  if (k_isnan(a)) { return a; }
  if (k_isnan(b)) { return b; }
  return ${fn}(a, b);
}`,
  };
}

/**
 * The WGSL of a Chebyshev series in the form Cephes' `chbevl` evaluates (Clenshaw's recurrence,
 * coefficients highest order first, the result halved), unrolled: `fn name(x: f32) -> f32`.
 */
function chebyshev(name: string, coeffs: readonly string[]): string {
  const steps = coeffs.map((c) => `  b2 = b1; b1 = b0; b0 = x * b1 - b2 + ${c};\n`).join('');
  return `fn ${name}(x: f32) -> f32 {\n  var b0 = 0.0;\n  var b1 = 0.0;\n  var b2 = 0.0;\n${steps}  return 0.5 * (b0 - b2);\n}`;
}

/** Helper sources by name; `use(b, name)` registers one (with the helpers it calls) and returns its name. */
const SOURCES: Record<string, { deps?: string[]; src: string }> = {
  // NaN tests on the bits: WGSL implementations may assume floats are never NaN.
  k_isnan: { src: `fn k_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }` },
  k_isinf: { src: `fn k_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }` },
  k_isfinite: { src: `fn k_isfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }` },
  // Bit patterns of inf and NaN go through a parameter: a constant bitcast to a non-finite f32 is
  // a shader-creation error in WGSL.
  k_fbits: { src: `fn k_fbits(u: u32) -> f32 { return bitcast<f32>(u); }` },
  k_nan: { deps: ['k_fbits'], src: `fn k_nan() -> f32 { return k_fbits(0x7fc00000u); }` },
  k_inf: { deps: ['k_fbits'], src: `fn k_inf() -> f32 { return k_fbits(0x7f800000u); }` },
  k_fmax: nanPropagating('k_fmax', 'max'),
  k_fmin: nanPropagating('k_fmin', 'min'),
  // Integer division as XLA: x / 0 is -1 (all ones), INT_MIN / -1 is INT_MIN; x % 0 is x, INT_MIN % -1 is 0.
  k_idiv: {
    src: `fn k_idiv(a: i32, b: i32) -> i32 {
  if (b == 0) { return -1; }
  if (b == -1) { return 0 - a; }
  return a / b;
}`,
  },
  k_irem: {
    src: `fn k_irem(a: i32, b: i32) -> i32 {
  if (b == 0) { return a; }
  if (b == -1) { return 0; }
  return a % b;
}`,
  },
  k_udiv: { src: `fn k_udiv(a: u32, b: u32) -> u32 { if (b == 0u) { return 0xffffffffu; } return a / b; }` },
  k_urem: { src: `fn k_urem(a: u32, b: u32) -> u32 { if (b == 0u) { return a; } return a % b; }` },
  // fmod with the sign of the dividend, exact for the quotients a kernel meets in practice.
  k_fmod: {
    deps: ['k_isnan', 'k_isinf', 'k_nan'],
    src: `fn k_fmod(a: f32, b: f32) -> f32 {
  if (k_isnan(a) || k_isnan(b) || k_isinf(a) || b == 0.0) { return k_nan(); }
  if (k_isinf(b)) { return a; }
  let r = a - b * trunc(a / b);
  if (r != 0.0 && sign(r) != sign(a)) { return r + abs(b) * sign(a); }
  if (r == 0.0) { return r * sign(a); }
  return r;
}`,
  },
  // Wrapping i32 products are u32 products on the same bits, so the loop is k_upow's.
  k_ipow: {
    deps: ['k_upow'],
    src: `fn k_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(-1, 1, (b & 1) == 0); }
    return 0;
  }
  return bitcast<i32>(k_upow(bitcast<u32>(a), u32(b)));
}`,
  },
  k_upow: {
    src: `fn k_upow(a: u32, b: u32) -> u32 {
  var r = 1u;
  var x = a;
  var e = b;
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) != 0u) { r = r * x; }
    x = x * x;
    e = e >> 1u;
  }
  return r;
}`,
  },
  // pow with C semantics: negative bases with integral exponents, 1^y = 1, x^0 = 1.
  k_fpow: {
    deps: ['k_isnan', 'k_isinf', 'k_nan', 'k_inf'],
    src: `fn k_fpow(x: f32, y: f32) -> f32 {
  if (x == 1.0 || y == 0.0) { return 1.0; }
  if (k_isnan(x) || k_isnan(y)) { return k_nan(); }
  let ay = abs(y);
  let yint = !k_isinf(y) && trunc(y) == y;
  let yodd = yint && ay < 16777216.0 && (i32(ay) & 1) == 1;
  if (x == 0.0) {
    if (y > 0.0) { return select(0.0, x, yodd); }
    return select(k_inf(), bitcast<f32>(bitcast<u32>(x) | 0x7f800000u), yodd);
  }
  if (k_isinf(x)) {
    let neg = x < 0.0 && yodd;
    if (y > 0.0) { return select(k_inf(), -k_inf(), neg); }
    return select(0.0, -0.0, neg);
  }
  if (k_isinf(y)) {
    let ax = abs(x);
    if (ax == 1.0) { return 1.0; }
    if ((ax > 1.0) == (y > 0.0)) { return k_inf(); }
    return 0.0;
  }
  if (x < 0.0 && !yint) { return k_nan(); }
  let m = exp2(y * log2(abs(x)));
  if (x < 0.0 && yodd) { return -m; }
  return m;
}`,
  },
  // tanh through exp of a negative argument, so large |x| gives +-1 rather than inf/inf.
  k_tanh: {
    src: `fn k_tanh(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.0004) { return x; }
  let e = exp(-2.0 * ax);
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  },
  k_logistic: {
    src: `fn k_logistic(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`,
  },
  // Kahan's tricks: exact for tiny x without a series, given IEEE rounding.
  k_expm1: {
    src: `fn k_expm1(x: f32) -> f32 {
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  if (x > 88.0) { return exp(x); }
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  return um1 * x / log(u);
}`,
  },
  k_log1p: {
    deps: ['k_nan', 'k_inf'],
    src: `fn k_log1p(x: f32) -> f32 {
  if (x == -1.0) { return -k_inf(); }
  if (x < -1.0) { return k_nan(); }
  if (abs(x) < 1e-4) { return x * (1.0 - x * (0.5 - x / 3.0)); }
  let u = 1.0 + x;
  if (u == x) { return log(u); }
  return log(u) * x / (u - 1.0);
}`,
  },
  k_log: {
    deps: ['k_nan', 'k_inf', 'k_isnan'],
    src: `fn k_log(x: f32) -> f32 {
  if (x == 0.0) { return -k_inf(); }
  if (x < 0.0 || k_isnan(x)) { return k_nan(); }
  return log(x);
}`,
  },
  k_sqrt: {
    deps: ['k_nan'],
    src: `fn k_sqrt(x: f32) -> f32 { if (x < 0.0) { return k_nan(); } return sqrt(x); }`,
  },
  k_rsqrt: {
    deps: ['k_nan', 'k_inf'],
    src: `fn k_rsqrt(x: f32) -> f32 {
  if (x < 0.0) { return k_nan(); }
  if (x == 0.0) { return select(k_inf(), -k_inf(), (bitcast<u32>(x) & 0x80000000u) != 0u); }
  return 1.0 / sqrt(x);
}`,
  },
  k_cbrt: {
    deps: ['k_isfinite'],
    src: `fn k_cbrt(x: f32) -> f32 {
  if (x == 0.0 || !k_isfinite(x)) { return x; }
  var r = sign(x) * exp2(log2(abs(x)) / 3.0);
  r = r - (r * r * r - x) / (3.0 * r * r);
  return r;
}`,
  },
  k_sinh: {
    src: `fn k_sinh(x: f32) -> f32 {
  if (abs(x) < 0.01) { return x + x * x * x / 6.0; }
  // h = e^|x| / 2 computed as exp(|x| - ln 2), so it stays finite up to |x| = 89.4 as the result does.
  let h = exp(abs(x) - 0.693147180559945);
  return sign(x) * (h - 0.25 / h);
}`,
  },
  k_cosh: { src: `fn k_cosh(x: f32) -> f32 { let h = exp(abs(x) - 0.693147180559945); return h + 0.25 / h; }` },
  k_asinh: {
    src: `fn k_asinh(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.01) { return x - x * x * x / 6.0; }
  if (a > 1e18) { return sign(x) * (log(a) + 0.693147180559945); }
  return sign(x) * log(a + sqrt(a * a + 1.0));
}`,
  },
  k_acosh: {
    deps: ['k_nan'],
    src: `fn k_acosh(x: f32) -> f32 {
  if (x < 1.0) { return k_nan(); }
  if (x > 1e18) { return log(x) + 0.693147180559945; }
  return log(x + sqrt(x * x - 1.0));
}`,
  },
  k_atanh: {
    deps: ['k_nan', 'k_inf', 'k_log1p'],
    src: `fn k_atanh(x: f32) -> f32 {
${POLES_AT_ONE}
  return 0.5 * (k_log1p(x) - k_log1p(-x));
}`,
  },
  k_asin: {
    deps: ['k_nan'],
    // Through atan2, not WGSL's asin: an implementation may approximate asin loosely (lavapipe's is
    // off by 4e-4 near 0.5), while its atan2 holds f32 accuracy.
    src: `fn k_asin(x: f32) -> f32 { if (abs(x) > 1.0) { return k_nan(); } return atan2(x, sqrt((1.0 - x) * (1.0 + x))); }`,
  },
  k_acos: {
    deps: ['k_nan'],
    src: `fn k_acos(x: f32) -> f32 { if (abs(x) > 1.0) { return k_nan(); } return atan2(sqrt((1.0 - x) * (1.0 + x)), x); }`,
  },
  // erfc by a Chebyshev fit of t = 1/(1 + |x|/2) (fractional error below 1.2e-7 everywhere).
  k_erfc: {
    deps: ['k_isnan'],
    src: `fn k_erfc(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let r = t * exp(-z * z + p);
  return select(2.0 - r, r, x >= 0.0);
}`,
  },
  // erf: its Maclaurin series near 0 (where 1 - erfc would cancel), 1 - erfc elsewhere.
  k_erf: {
    deps: ['k_erfc'],
    src: `fn k_erf(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let x2 = x * x;
    return 1.1283791670955126 * x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * (0.0046296296 - x2 * 0.000757575757)))));
  }
  if (x > 0.0) { return 1.0 - k_erfc(x); }
  return k_erfc(-x) - 1.0;
}`,
  },
  // erf_inv: a single-precision polynomial in w = -log(1 - x^2), then one Newton step on erf.
  k_erfinv: {
    deps: ['k_nan', 'k_inf', 'k_erf'],
    src: `fn k_erfinv(x: f32) -> f32 {
${POLES_AT_ONE}
  var w = -log((1.0 - x) * (1.0 + x));
  var p: f32;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  var y = p * x;
  if (a < 0.99) {
    let err = k_erf(y) - x;
    y = y - err / (1.1283791670955126 * exp(-y * y));
  }
  return y;
}`,
  },
  // lgamma: Lanczos (g = 7, 9 terms) for x >= 0.5, reflection below.
  k_lgamma_pos: {
    src: `fn k_lgamma_pos(x0: f32) -> f32 {
  let x = x0 - 1.0;
  var a = 0.99999999999980993;
  a = a + 676.5203681218851 / (x + 1.0);
  a = a - 1259.1392167224028 / (x + 2.0);
  a = a + 771.32342877765313 / (x + 3.0);
  a = a - 176.61502916214059 / (x + 4.0);
  a = a + 12.507343278686905 / (x + 5.0);
  a = a - 0.13857109526572012 / (x + 6.0);
  a = a + 9.9843695780195716e-6 / (x + 7.0);
  a = a + 1.5056327351493116e-7 / (x + 8.0);
  let t = x + 7.5;
  return 0.9189385332046727 + (x + 0.5) * log(t) - t + log(a);
}`,
  },
  k_lgamma: {
    deps: ['k_lgamma_pos', 'k_inf', 'k_isnan', 'k_isinf'],
    src: `fn k_lgamma(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  if (k_isinf(x)) { return k_inf(); }
  if (x == 1.0 || x == 2.0) { return 0.0; }
  if (x < 0.5) {
    if (x == floor(x)) { return k_inf(); }
    let s = abs(sin(3.141592653589793 * x));
    return 1.1447298858494002 - log(s) - k_lgamma_pos(1.0 - x);
  }
  return k_lgamma_pos(x);
}`,
  },
  // digamma: recurrence up to x >= 6, then the asymptotic series; reflection for x < 0.5.
  k_digamma: {
    deps: ['k_nan', 'k_isnan'],
    src: `fn k_digamma(x0: f32) -> f32 {
  if (k_isnan(x0)) { return x0; }
  var x = x0;
  var r = 0.0;
  if (x <= 0.0 && x == floor(x)) { return k_nan(); }
  if (x < 0.5) {
    r = -3.141592653589793 / tan(3.141592653589793 * x);
    x = 1.0 - x;
  }
  loop {
    if (x >= 6.0) { break; }
    r = r - 1.0 / x;
    x = x + 1.0;
  }
  let f = 1.0 / (x * x);
  let s = log(x) - 0.5 / x - f * (0.083333333333 - f * (0.0083333333333 - f * (0.0039682539683 - f * 0.0041666666667)));
  return r + s;
}`,
  },
  // bessel_i1e: Cephes' f32 Chebyshev expansions (XLA's I1eImpl32), |x| <= 8 and above.
  k_i1e_a: { src: chebyshev('k_i1e_a', [
    '9.38153738649577178388e-9', '-4.44505912879632808065e-8', '2.00329475355213526229e-7',
    '-8.56872026469545474066e-7', '3.47025130813767847674e-6', '-1.32731636560394358279e-5',
    '4.78156510755005422638e-5', '-1.61760815825896745588e-4', '5.12285956168575772895e-4',
    '-1.51357245063125314899e-3', '4.15642294431288815669e-3', '-1.05640848946261981558e-2',
    '2.47264490306265168283e-2', '-5.29459812080949914269e-2', '1.02643658689847095384e-1',
    '-1.76416518357834055153e-1', '2.52587186443633654823e-1',
  ]) },
  k_i1e_b: { src: chebyshev('k_i1e_b', [
    '-3.83538038596423702205e-9', '-2.63146884688951950684e-8', '-2.51223623787020892529e-7',
    '-3.88256480887769039346e-6', '-1.10588938762623716291e-4', '-9.76109749136146840777e-3',
    '7.78576235018280120474e-1',
  ]) },
  k_i1e: {
    deps: ['k_i1e_a', 'k_i1e_b'],
    src: `fn k_i1e(x: f32) -> f32 {
  let z = abs(x);
  var y = 0.0;
  if (z <= 8.0) { y = z * k_i1e_a(0.5 * z - 2.0); } else { y = k_i1e_b(32.0 / z - 2.0) / sqrt(z); }
  return select(y, -y, x < 0.0);
}`,
  },
  // Hurwitz zeta(x, q): CHLO's legalization (Cephes' zeta.c): ten series terms, then a 12-term
  // Euler-Maclaurin tail by Horner's rule; the same domain rules as the reference.
  k_zeta: {
    deps: ['k_fpow', 'k_nan', 'k_inf'],
    src: `fn k_zeta(x: f32, q: f32) -> f32 {
  var a = q;
  var initial = k_fpow(q, -x);
  for (var i = 0; i < 9; i = i + 1) {
    a = a + 1.0;
    initial = initial + k_fpow(a, -x);
  }
  a = a + 1.0;
  let neg = k_fpow(a, -x);
  var s = initial + neg * a / (x - 1.0);
  let inv2 = 1.0 / (a * a);
  var h = 0.0;
  h = (x - 22.0) * (x - 21.0) * (inv2 * (h + -1.3954464685812522e-19));
  h = (x - 20.0) * (x - 19.0) * (inv2 * (h + 5.5090028283602295e-18));
  h = (x - 18.0) * (x - 17.0) * (inv2 * (h + -2.1748686985580617e-16));
  h = (x - 16.0) * (x - 15.0) * (inv2 * (h + 8.586062056277845e-15));
  h = (x - 14.0) * (x - 13.0) * (inv2 * (h + -3.389680296322583e-13));
  h = (x - 12.0) * (x - 11.0) * (inv2 * (h + 1.3382536530684679e-11));
  h = (x - 10.0) * (x - 9.0) * (inv2 * (h + -5.284190138687493e-10));
  h = (x - 8.0) * (x - 7.0) * (inv2 * (h + 2.08767569878681e-08));
  h = (x - 6.0) * (x - 5.0) * (inv2 * (h + -8.267195767195768e-07));
  h = (x - 4.0) * (x - 3.0) * (inv2 * (h + 3.306878306878307e-05));
  h = (x - 2.0) * (x - 1.0) * (inv2 * (h + -0.001388888888888889));
  s = s + neg * (0.5 + x / a * (0.08333333333333333 + h));
  var out = select(s, initial, abs(neg) < abs(initial) * 1.1754943508222875e-38);
  if (x < 1.0) { out = k_nan(); }
  if (q <= 0.0 && x != floor(x)) { out = k_nan(); }
  if (q <= 0.0 && q == floor(q)) { out = select(k_nan(), k_inf(), x == floor(x) && x - 2.0 * floor(x / 2.0) == 0.0); }
  if (x == 1.0) { out = k_inf(); }
  return out;
}`,
  },
  // polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x); digamma at n = 0; NaN unless n is natural.
  k_polygamma: {
    deps: ['k_zeta', 'k_digamma', 'k_lgamma', 'k_nan'],
    src: `fn k_polygamma(n: f32, x: f32) -> f32 {
  if (n != floor(n) || n < 0.0) { return k_nan(); }
  if (n == 0.0) { return k_digamma(x); }
  let sign = 2.0 * (n - 2.0 * floor(n / 2.0)) - 1.0;
  return sign * exp(k_lgamma(n + 1.0)) * k_zeta(n + 1.0, x);
}`,
  },
  // next_after on the bit patterns of f32 (https://openxla.org/stablehlo/spec#next_after is chlo).
  k_nextafter: {
    deps: ['k_isnan', 'k_nan'],
    src: `fn k_nextafter(a: f32, b: f32) -> f32 {
${NEXT_AFTER_START}
  if (a == 0.0) { return select(bitcast<f32>(0x80000001u), bitcast<f32>(1u), b > 0.0); }
  let u = bitcast<u32>(a);
  if ((a < b) == (a > 0.0)) { return bitcast<f32>(u + 1u); }
  return bitcast<f32>(u - 1u);
}`,
  },
  k_nextafter16: {
    deps: ['k_isnan', 'k_nan'],
    src: `fn k_nextafter16(a: f32, b: f32) -> f32 {
${NEXT_AFTER_START}
  let h = pack2x16float(vec2<f32>(a, 0.0)) & 0xffffu;
  var n: u32;
  if (a == 0.0) { n = select(0x8001u, 1u, b > 0.0); }
  else if ((a < b) == (a > 0.0)) { n = h + 1u; }
  else { n = h - 1u; }
  return unpack2x16float(n).x;
}`,
  },
  // round_nearest_afz: trunc is exact, and so is x - trunc(x) for f32.
  k_round_afz: {
    src: `fn k_round_afz(x: f32) -> f32 {
  let t = trunc(x);
  if (abs(x - t) >= 0.5) { return t + sign(x); }
  return t;
}`,
  },
  // atan2 with IEEE's special cases spelled out: WGSL leaves atan2(0, 0) and the infinities
  // undefined (lavapipe gives 3pi/4 for atan2(0, 0)); XLA follows C's atan2 (signed zeros kept).
  k_atan2: {
    deps: ['k_isnan', 'k_nan', 'k_isfinite'],
    src: `fn k_atan2(y: f32, x: f32) -> f32 {
  if (k_isnan(y) || k_isnan(x)) { return k_nan(); }
  let pi = 3.14159265358979;
  let ys = select(1.0, -1.0, (bitcast<u32>(y) & 0x80000000u) != 0u);
  let xneg = (bitcast<u32>(x) & 0x80000000u) != 0u;
  if (y == 0.0) { return select(y, ys * pi, xneg); }
  if (!k_isfinite(y)) {
    if (!k_isfinite(x)) { return ys * select(0.25 * pi, 0.75 * pi, xneg); }
    return ys * 0.5 * pi;
  }
  if (!k_isfinite(x)) { return select(ys * 0.0, ys * pi, xneg); }
  if (x == 0.0) { return ys * 0.5 * pi; }
  return atan2(y, x);
}`,
  },
  k_fsign: {
    deps: ['k_isnan'],
    src: `fn k_fsign(x: f32) -> f32 { if (k_isnan(x) || x == 0.0) { return x; } return sign(x); }`,
  },
  // IEEE totalOrder as a signed integer key: negative floats have their magnitude bits flipped.
  k_total: {
    src: `fn k_total(x: f32) -> i32 {
  let i = bitcast<i32>(x);
  return select(i, i ^ 0x7fffffff, i < 0);
}`,
  },
  // Float to integer: truncate, saturate, NaN to 0 (XLA's convert).
  k_f2i: {
    deps: ['k_isnan'],
    src: `fn k_f2i(x: f32) -> i32 {
  if (k_isnan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return bitcast<i32>(0x80000000u); }
  return i32(x);
}`,
  },
  k_f2u: {
    deps: ['k_isnan'],
    src: `fn k_f2u(x: f32) -> u32 {
  if (k_isnan(x) || x <= 0.0) { return 0u; }
  if (x >= 4294967296.0) { return 0xffffffffu; }
  return u32(x);
}`,
  },
  // f32 rounded to the nearest f16 value, ties to even (kept in an f32 register): overflow to inf,
  // f16 subnormals to multiples of 2^-24, NaN and inf kept. Integer arithmetic on the bits rather
  // than unpack2x16float(pack2x16float(x)), which a driver may fold into x (Mesa's lavapipe does:
  // an f16 x f16 -> f32 product then used its f32 inputs unrounded).
  k_f16r: {
    src: `fn k_f16r(x: f32) -> f32 {
  let u = bitcast<u32>(x);
  let a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  let s = u & 0x80000000u;
  if (a >= 0x477ff000u) { return bitcast<f32>(s | 0x7f800000u); }
  if (a < 0x38800000u) { return round(x * 16777216.0) * 5.9604644775390625e-8; }
  return bitcast<f32>(s | ((a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u));
}`,
  },
  // reduce_precision as XLA: round the mantissa to nearest even, then clamp the exponent range.
  k_reduce_precision: {
    deps: ['k_isnan'],
    src: `fn k_reduce_precision(x: f32, ebits: u32, mbits: u32) -> f32 {
  if (k_isnan(x)) { return x; }
  var u = bitcast<u32>(x);
  if (mbits < 23u) {
    let drop = 23u - mbits;
    let half = (1u << (drop - 1u)) - 1u;
    let odd = (u >> drop) & 1u;
    u = (u + half + odd) & ~((1u << drop) - 1u);
  }
  if (ebits < 8u) {
    let bias = (1u << (ebits - 1u)) - 1u;
    let e = (u >> 23u) & 0xffu;
    let sign = u & 0x80000000u;
    if (e > 127u + bias) { u = sign | 0x7f800000u; }
    else if (e <= 127u - bias) { u = sign; }
  }
  return bitcast<f32>(u);
}`,
  },
};

/** Registers helper `name` (and what it calls) on `b`; returns the name to call. */
export function useHelper(b: WgslBuilder, name: string): string {
  const h = SOURCES[name];
  if (!h) throw new Error(`no WGSL helper ${name}`);
  for (const d of h.deps ?? []) useHelper(b, d);
  return b.helper(name, h.src);
}
