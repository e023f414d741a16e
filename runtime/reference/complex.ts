/**
 * @file complex<f32> on the reference interpreter. A c64 tensor holds interleaved (re, im) f32
 * pairs; each op computes in f64 from the f32 parts and rounds each part once when stored,
 * with the formulas XLA's elemental emitter uses (Smith's division, the branch cuts of C99's
 * csqrt/clog, hypot-scaled abs), so results agree with JAX's CPU backend to rounding.
 *
 * Data movement and regions reuse the real-valued code: a c64 tensor is split into its re and
 * im planes (two f32 tensors), the real rule runs on each, and the planes are interleaved back
 * ({@link byPlanes}); reduce and scatter take the planes as two operands and combine pairs
 * through the complex region ({@link expandPlanes}).
 */
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import type { Operation, Region } from '../../ir/types.js';
import type { HostTensor } from '../tensor.js';
import { applyConvert, convertScalar } from './elementwise.js';
import type { RegionRunner } from './regions.js';

/** A complex number in f64, as [re, im]. */
export type C = readonly [number, number];

/** The unary ops kiln computes on complex values (abs, real and imag return f32: separate). */
export type ComplexUnaryOp =
  | Op.Negate | Op.Sign | Op.Exp | Op.Expm1 | Op.Log | Op.Log1p | Op.Sqrt | Op.Rsqrt | Op.Sin
  | Op.Cos | Op.Tanh | Op.Square;
/** The binary ops kiln computes on complex values. */
export type ComplexBinaryOp = Op.Add | Op.Subtract | Op.Multiply | Op.Divide | Op.Power;

/** `(a+bi) * (c+di)`. */
function mul(a: number, b: number, c: number, d: number): C {
  return [a * c - b * d, a * d + b * c];
}

/**
 * `(a+bi) / (c+di)` by Smith's algorithm (what XLA emits): scale by the larger part of the
 * divisor so that neither |c|^2 + |d|^2 nor the products overflow; a zero divisor gives
 * infinities of the numerator's signs (or NaN for 0/0), as C99 Annex G does.
 */
export function div(a: number, b: number, c: number, d: number): C {
  if (c === 0 && d === 0) {
    if (Number.isNaN(a) || Number.isNaN(b) || (a === 0 && b === 0)) return [NaN, NaN];
    const inf = Math.sign(1 / c) * Infinity;
    return [a === 0 ? NaN : inf * a, b === 0 ? NaN : inf * b];
  }
  if (Math.abs(c) >= Math.abs(d)) {
    const r = d / c;
    const den = c + d * r;
    return [(a + b * r) / den, (b - a * r) / den];
  }
  const r = c / d;
  const den = d + c * r;
  return [(a * r + b) / den, (b * r - a) / den];
}

/** |a+bi| without overflow or underflow in the squares (XLA scales by the larger part). */
export function cabs(a: number, b: number): number {
  return Math.hypot(a, b);
}

/**
 * The principal square root, branch cut along the negative real axis (C99 csqrt): with
 * t = sqrt((|a| + |z|) / 2), sqrt(z) = (t, b / 2t) for a >= 0 and (|b| / 2t, ±t) otherwise,
 * the sign of the imaginary part following b's (so -4-0i gives 0-2i).
 */
export function csqrt(a: number, b: number): C {
  if (a === 0 && b === 0) return [0, b];
  if (b === Infinity || b === -Infinity) return [Infinity, b];
  const t = Math.sqrt((Math.abs(a) + cabs(a, b)) / 2);
  if (a >= 0) return [t, b / (2 * t)];
  return [Math.abs(b) / (2 * t), b < 0 || Object.is(b, -0) ? -t : t];
}

/** e^(a+bi); an imaginary part of exactly 0 stays 0 even where e^a overflows. */
function cexp(a: number, b: number): C {
  const e = Math.exp(a);
  return [b === 0 ? e : e * Math.cos(b), b === 0 ? b : e * Math.sin(b)];
}

/** The principal logarithm: (log|z|, atan2(b, a)), the branch cut along the negative reals. */
function clog(a: number, b: number): C {
  return [Math.log(cabs(a, b)), Math.atan2(b, a)];
}

/** The scalar rules on complex values, computed in f64. */
export const COMPLEX_UNARY: { [K in ComplexUnaryOp]: (a: number, b: number) => C } = {
  [Op.Negate]: (a, b) => [-a, -b],
  // z / |z|; 0 for 0 (https://openxla.org/stablehlo/spec#sign).
  [Op.Sign]: (a, b) => {
    if (Number.isNaN(a) || Number.isNaN(b)) return [NaN, NaN];
    const m = cabs(a, b);
    if (m === 0) return [0, 0];
    if (m === Infinity) {
      // Infinite parts: the direction of the infinite ones.
      const x = Number.isFinite(a) ? 0 : Math.sign(a);
      const y = Number.isFinite(b) ? 0 : Math.sign(b);
      const n = Math.hypot(x, y);
      return [x / n, y / n];
    }
    return [a / m, b / m];
  },
  [Op.Exp]: cexp,
  // e^z - 1 = (expm1(a) cos b - 2 sin^2(b/2)) + i e^a sin b: no cancellation near 0.
  [Op.Expm1]: (a, b) => {
    const s = Math.sin(b / 2);
    return [Math.expm1(a) * Math.cos(b) - 2 * s * s, Math.exp(a) * Math.sin(b)];
  },
  [Op.Log]: clog,
  // log(1+z): |1+z|^2 = 1 + (2a + a^2 + b^2), so log|1+z| = log1p(a(2+a) + b^2) / 2.
  [Op.Log1p]: (a, b) => [Math.log1p(a * (2 + a) + b * b) / 2, Math.atan2(b, 1 + a)],
  [Op.Sqrt]: csqrt,
  [Op.Rsqrt]: (a, b) => {
    const [c, d] = csqrt(a, b);
    return div(1, 0, c, d);
  },
  // sin(a+bi) = sin a cosh b + i cos a sinh b; cos(a+bi) = cos a cosh b - i sin a sinh b.
  [Op.Sin]: (a, b) => [Math.sin(a) * Math.cosh(b), Math.cos(a) * Math.sinh(b)],
  [Op.Cos]: (a, b) => [Math.cos(a) * Math.cosh(b), -Math.sin(a) * Math.sinh(b)],
  // tanh(a+bi) = (sinh 2a + i sin 2b) / (cosh 2a + cos 2b); past |a| = 20 that is ±1 to f32,
  // with the imaginary part 4 sin b cos b e^(-2|a|) computed without the overflowing cosh.
  [Op.Tanh]: (a, b) => {
    if (Math.abs(a) > 20) return [Math.sign(a), 4 * Math.sin(b) * Math.cos(b) * Math.exp(-2 * Math.abs(a))];
    const den = Math.cosh(2 * a) + Math.cos(2 * b);
    return [Math.sinh(2 * a) / den, Math.sin(2 * b) / den];
  },
  [Op.Square]: (a, b) => mul(a, b, a, b),
};

export const COMPLEX_BINARY: { [K in ComplexBinaryOp]: (a: number, b: number, c: number, d: number) => C } = {
  [Op.Add]: (a, b, c, d) => [a + c, b + d],
  [Op.Subtract]: (a, b, c, d) => [a - c, b - d],
  [Op.Multiply]: mul,
  [Op.Divide]: div,
  // XLA's EmitComplexPower: 0^0 = 1, 0^y = 0 when re(y) > 0; otherwise
  // |x|^c e^(-d arg x) (cos q + i sin q) with q = c arg x + (d/2) log |x|^2.
  [Op.Power]: (a, b, c, d) => {
    if (a === 0 && b === 0) {
      if (c === 0 && d === 0) return [1, 0];
      if (c > 0) return [0, 0];
    }
    const r2 = a * a + b * b;
    const arg = Math.atan2(b, a);
    const coeff = Math.pow(r2, c / 2) * Math.exp(-d * arg);
    const q = c * arg + (d / 2) * Math.log(r2);
    return [coeff * Math.cos(q), coeff * Math.sin(q)];
  },
};

/** Whether `op` has a complex rule in {@link COMPLEX_UNARY}. */
export function isComplexUnary(op: Op): op is ComplexUnaryOp {
  return op in COMPLEX_UNARY;
}
/** Whether `op` has a complex rule in {@link COMPLEX_BINARY}. */
export function isComplexBinary(op: Op): op is ComplexBinaryOp {
  return op in COMPLEX_BINARY;
}

function c64(shape: readonly number[], data: Float32Array): HostTensor {
  return { dtype: 'c64', shape: [...shape], data };
}
function parts(x: HostTensor): Float32Array {
  return x.data as Float32Array;
}

export function complexUnary(op: ComplexUnaryOp, x: HostTensor): HostTensor {
  const f = COMPLEX_UNARY[op];
  const a = parts(x);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i += 2) {
    const [re, im] = f(a[i], a[i + 1]);
    out[i] = re;
    out[i + 1] = im;
  }
  return c64(x.shape, out);
}

export function complexBinary(op: ComplexBinaryOp, x: HostTensor, y: HostTensor): HostTensor {
  const f = COMPLEX_BINARY[op];
  const a = parts(x);
  const b = parts(y);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i += 2) {
    const [re, im] = f(a[i], a[i + 1], b[i], b[i + 1]);
    out[i] = re;
    out[i + 1] = im;
  }
  return c64(x.shape, out);
}

/** `abs`, `real` or `imag` of a c64 tensor: an f32 tensor. */
export function complexToPart(op: Op.Abs | Op.Real | Op.Imag, x: HostTensor): HostTensor {
  const a = parts(x);
  const out = new Float32Array(a.length / 2);
  for (let i = 0; i < out.length; i++) {
    const [re, im] = [a[2 * i], a[2 * i + 1]];
    out[i] = op === Op.Abs ? cabs(re, im) : op === Op.Real ? re : im;
  }
  return { dtype: 'f32', shape: [...x.shape], data: out };
}

/** `complex(re, im)` of two f32 tensors. */
export function makeComplex(re: HostTensor, im: HostTensor): HostTensor {
  const [a, b] = [re.data as Float32Array, im.data as Float32Array];
  const out = new Float32Array(2 * a.length);
  for (let i = 0; i < a.length; i++) {
    out[2 * i] = a[i];
    out[2 * i + 1] = b[i];
  }
  return c64(re.shape, out);
}

/** `compare` EQ / NE: both parts equal (the verifier refuses the other directions). */
export function complexCompare(dir: 'EQ' | 'NE', x: HostTensor, y: HostTensor): HostTensor {
  const [a, b] = [parts(x), parts(y)];
  const out = new Uint8Array(a.length / 2);
  for (let i = 0; i < out.length; i++) {
    const eq = a[2 * i] === b[2 * i] && a[2 * i + 1] === b[2 * i + 1];
    out[i] = Number(dir === 'EQ' ? eq : !eq);
  }
  return { dtype: 'i1', shape: [...x.shape], data: out };
}

/**
 * `convert` to or from c64: a real value becomes (x, 0); a complex one keeps its real part (XLA
 * drops the imaginary part; JAX warns and does the same), then converts as a float would, except
 * that to i1 it is `z != 0` (either part nonzero).
 */
export function complexConvert(x: HostTensor, to: SupportedDType): HostTensor {
  if (x.dtype === 'c64' && to === 'c64') return c64(x.shape, parts(x).slice());
  if (to === 'c64') {
    const a = x.data as ArrayLike<number>;
    const out = new Float32Array(2 * a.length);
    for (let i = 0; i < a.length; i++) out[2 * i] = convertScalar(a[i], x.dtype, 'f32');
    return c64(x.shape, out);
  }
  const a = parts(x);
  const n = a.length / 2;
  const re = new Float32Array(n);
  for (let i = 0; i < n; i++) re[i] = to === 'i1' ? Number(a[2 * i] !== 0 || a[2 * i + 1] !== 0) : a[2 * i];
  if (to === 'i1') return { dtype: 'i1', shape: [...x.shape], data: Uint8Array.from(re) };
  const real: HostTensor = { dtype: 'f32', shape: [...x.shape], data: re };
  return to === 'f32' ? real : applyConvert(real, to);
}

// ---- planes ----------------------------------------------------------------------------------

/** The re or im plane of a c64 tensor, as an f32 tensor. */
export function plane(x: HostTensor, which: 0 | 1): HostTensor {
  const a = parts(x);
  const out = new Float32Array(a.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = a[2 * i + which];
  return { dtype: 'f32', shape: [...x.shape], data: out };
}

/** Interleaves an re and an im plane into a c64 tensor. */
export function interleave(re: HostTensor, im: HostTensor): HostTensor {
  return makeComplex(re, im);
}

/**
 * Runs a data-movement rule on complex operands plane by plane: each c64 operand is replaced by
 * its re plane, then by its im plane, and the c64 results of the two runs are interleaved. Any
 * rule that only moves or selects elements (broadcast, slice, pad, gather, select, ...) is then
 * exact on complex values.
 */
export function byPlanes(
  o: Operation, args: readonly HostTensor[], run: (args: readonly HostTensor[]) => HostTensor[],
): HostTensor[] {
  const pick = (w: 0 | 1) => args.map((t) => (t.dtype === 'c64' ? plane(t, w) : t));
  const re = run(pick(0));
  const im = run(pick(1));
  return re.map((r, i) => (o.results[i].type.dtype === 'c64' ? interleave(r, im[i]) : r));
}

/**
 * For reduce and scatter, whose loops take several operands and combine their elements through
 * a region: each c64 tensor becomes two f32 operands (re, im planes), and `combine` rebuilds the
 * region's complex scalars from consecutive pairs before running it. `merge` turns the
 * expanded results back into the op's results.
 */
export function expandPlanes(ts: readonly HostTensor[]): { planes: HostTensor[]; merge: (outs: readonly HostTensor[]) => HostTensor[] } {
  const isC = ts.map((t) => t.dtype === 'c64');
  const planes = ts.flatMap((t, i) => (isC[i] ? [plane(t, 0), plane(t, 1)] : [t]));
  const merge = (outs: readonly HostTensor[]): HostTensor[] => {
    const res: HostTensor[] = [];
    let k = 0;
    for (const c of isC) {
      if (c) { res.push(interleave(outs[k], outs[k + 1])); k += 2; } else res.push(outs[k++]);
    }
    return res;
  };
  return { planes, merge };
}

/**
 * A region on complex scalars as a function on expanded values: `accs` and `xs` hold two
 * numbers per complex argument of each half. `argTypes` are the region's argument dtypes.
 */
export function expandedRegion(region: Region, run: RegionRunner): (acc: number[], x: number[]) => number[] {
  const types = region.block.args.map((a) => a.type.dtype as SupportedDType);
  const half = types.length / 2;
  // JAX's complex sums and products are one add / multiply of the two arguments: no region run.
  const [first, ret] = region.block.ops;
  const fast = region.block.ops.length === 2 && types.length === 2 && types[0] === 'c64' && ret.operands[0] === first.results[0]
    && first.operands.length === 2 && new Set(first.operands).size === 2 && first.operands.every((v) => region.block.args.includes(v))
    && (first.op === Op.Add || first.op === Op.Multiply) ? COMPLEX_BINARY[first.op] : undefined;
  if (fast) return (acc, x) => { const [re, im] = fast(acc[0], acc[1], x[0], x[1]); return [Math.fround(re), Math.fround(im)]; };
  return (acc, x) => {
    const scalars = (vals: number[], off: number): HostTensor[] => {
      const out: HostTensor[] = [];
      let k = 0;
      for (let i = 0; i < half; i++) {
        const d = types[off + i];
        if (d === 'c64') { out.push(c64([], Float32Array.of(vals[k], vals[k + 1]))); k += 2; } else out.push(scalarOf(d, vals[k++]));
      }
      return out;
    };
    const res = run(region, [...scalars(acc, 0), ...scalars(x, half)]);
    return res.flatMap((t) => Array.from(t.data as ArrayLike<number>));
  };
}

function scalarOf(d: SupportedDType, v: number): HostTensor {
  const data = d === 'f32' || d === 'f16' ? Float32Array.of(v) : d === 'i32' ? Int32Array.of(v) : d === 'ui32' ? Uint32Array.of(v) : Uint8Array.of(v);
  return { dtype: d, shape: [], data };
}
