/**
 * @file Element types: the StableHLO spellings kiln understands, how each is held on the host,
 * and which ones a GPU can hold.
 */

/** Every element type the parser accepts. Only {@link SupportedDType}s can be computed on. */
export type DType =
  | 'f32' | 'f16' | 'bf16' | 'f64'
  | 'i1' | 'i8' | 'i16' | 'i32' | 'i64'
  | 'ui8' | 'ui16' | 'ui32' | 'ui64'
  | 'c64' | 'c128';

/**
 * The element types kiln computes on, on every device. i64 and ui64 are held as BigInt64Array /
 * BigUint64Array on the host and as two u32 words per element on a GPU; only the ops in
 * `Int64Ops` (ir/ops.ts) take them (the verifier refuses the others).
 */
export type SupportedDType = 'f32' | 'f16' | 'bf16' | 'i32' | 'ui32' | 'i1' | 'i64' | 'ui64' | 'c64' | SmallIntDType;
/**
 * The 8- and 16-bit integer types. On the host they are held in Int8Array, Uint8Array, Int16Array
 * and Uint16Array; every device computes on them in i32 / ui32 with each result wrapped back to
 * its width (compiler/passes/smallint.ts), and a GPU stores them widened to one 32-bit word.
 */
export type SmallIntDType = 'i8' | 'ui8' | 'i16' | 'ui16';
/** The 64-bit integer types (emulated as two 32-bit words where the hardware has none). */
export type Int64DType = 'i64' | 'ui64';
/**
 * The supported types computed on as one JS number per element: everything but
 * {@link Int64DType}, c64 (two numbers per element) and the {@link SmallIntDType}s, which every
 * device computes on as i32 / ui32 (compiler/passes/smallint.ts).
 */
export type NarrowDType = Exclude<SupportedDType, Int64DType | 'c64' | SmallIntDType>;

/** Every {@link DType}, in the order the docs list them. */
export const ALL_DTYPES: readonly DType[] = [
  'f32', 'f16', 'bf16', 'f64', 'i1', 'i8', 'i16', 'i32', 'i64', 'ui8', 'ui16', 'ui32', 'ui64', 'c64', 'c128',
];
/** Every {@link SupportedDType}. */
export const SUPPORTED_DTYPES: readonly SupportedDType[] = [
  'f32', 'f16', 'bf16', 'i8', 'i16', 'i32', 'ui8', 'ui16', 'ui32', 'i1', 'i64', 'ui64', 'c64',
];

/** The complex types, named for their total bits as numpy does (complex64 = two f32). */
export type ComplexDType = 'c64' | 'c128';
/** How StableHLO spells each complex type inside `tensor<...>`. */
const COMPLEX_SPELLING: Record<ComplexDType, string> = { c64: 'complex<f32>', c128: 'complex<f64>' };

/** Whether `s` is an element type the parser accepts, in kiln's names (`c64`, not `complex<f32>`). */
export function isDType(s: string): s is DType {
  return (ALL_DTYPES as readonly string[]).includes(s);
}
/** The dtype StableHLO text spells `s` (`f32`, `complex<f32>`), or undefined. */
export function dtypeFromSpelling(s: string): DType | undefined {
  for (const [d, text] of Object.entries(COMPLEX_SPELLING)) if (text === s) return d as ComplexDType;
  return isDType(s) && !isComplex(s) ? s : undefined;
}
/** How StableHLO text spells `d` inside `tensor<...>` (`c64` is `complex<f32>`). */
export function dtypeSpelling(d: DType): string {
  return isComplex(d) ? COMPLEX_SPELLING[d] : d;
}
/** c64 or c128. */
export function isComplex(d: DType): d is ComplexDType {
  return d === 'c64' || d === 'c128';
}
/**
 * Host array slots per element: 2 for a complex type (interleaved re, im), 1 otherwise. A tensor
 * of n elements holds `n * lanes(dtype)` numbers.
 */
export function lanes(d: DType): number {
  return isComplex(d) ? 2 : 1;
}
/** Whether kiln can compute on `d` (the others parse, then are refused with a reason). */
export function isSupportedDType(d: DType): d is SupportedDType {
  return (SUPPORTED_DTYPES as readonly string[]).includes(d);
}
/** i8, ui8, i16 or ui16 (see {@link SmallIntDType}). */
export function isSmallInt(d: DType): d is SmallIntDType {
  return d === 'i8' || d === 'ui8' || d === 'i16' || d === 'ui16';
}
/** The 32-bit type a {@link SmallIntDType} is computed in: i32 for the signed ones, ui32 for the unsigned. */
export function widenedInt(d: SmallIntDType): 'i32' | 'ui32' {
  return isUnsigned(d) ? 'ui32' : 'i32';
}
/**
 * `x` (an integer) wrapped to the two's-complement range of `d`, as a store into its typed array
 * wraps it: `wrapSmallInt('ui8', 300)` is 44, `wrapSmallInt('i8', 128)` is -128.
 */
export function wrapSmallInt(d: SmallIntDType, x: number): number {
  switch (d) {
    case 'i8': return (x << 24) >> 24;
    case 'ui8': return x & 0xff;
    case 'i16': return (x << 16) >> 16;
    case 'ui16': return x & 0xffff;
    default: return d satisfies never;
  }
}
/** i64 or ui64 (see {@link Int64DType}). */
export function isInt64(d: DType): d is Int64DType {
  return d === 'i64' || d === 'ui64';
}
/** f32, f16, bf16 or f64 (real floating point; complex types are not floats here). */
export function isFloat(d: DType): boolean {
  return d === 'f32' || d === 'f16' || d === 'bf16' || d === 'f64';
}
/** A signed or unsigned integer type; i1 is a boolean, not an integer. */
export function isInteger(d: DType): boolean {
  return !isFloat(d) && d !== 'i1' && !isComplex(d);
}
/** ui8 ... ui64. */
export function isUnsigned(d: DType): boolean {
  return d.startsWith('ui');
}
/** i8 ... i64 (not i1). */
export function isSignedInteger(d: DType): boolean {
  return isInteger(d) && !isUnsigned(d);
}
/** i1, StableHLO's boolean. */
export function isBool(d: DType): boolean {
  return d === 'i1';
}

/** Bits of one element. */
export function bitWidth(d: DType): number {
  switch (d) {
    case 'i1': return 1;
    case 'i8': case 'ui8': return 8;
    case 'f16': case 'bf16': case 'i16': case 'ui16': return 16;
    case 'f32': case 'i32': case 'ui32': return 32;
    case 'f64': case 'i64': case 'ui64': case 'c64': return 64;
    case 'c128': return 128;
    default: return d satisfies never;
  }
}

/** Bytes one element takes on the wire and in `.npy` files (i1 takes a whole byte). */
export function byteSize(d: DType): number {
  return Math.max(1, bitWidth(d) / 8);
}

/**
 * How a {@link SupportedDType} is held on the host. f16 is held as f32 values that are exactly
 * representable in f16 (Node 20 has no Float16Array); it becomes 16-bit only on the wire and on a GPU.
 */
export type HostArray = NarrowArray | Int64Array;
/** The host arrays of {@link NarrowDType}s: elements are JS numbers. */
export type NarrowArray = Float32Array | Int32Array | Uint32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;
/** The host arrays of i64 (BigInt64Array) and ui64 (BigUint64Array): elements are bigints. */
export type Int64Array = BigInt64Array | BigUint64Array;

/** Whether `a` holds bigints (an i64 or ui64 tensor's data). */
export function isInt64Array(a: HostArray): a is Int64Array {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** The host array of one {@link SupportedDType}, as a type (see {@link HostArray}). */
export type HostArrayFor<D extends SupportedDType> =
  D extends 'f32' | 'f16' | 'bf16' | 'c64' ? Float32Array :
  D extends 'i32' ? Int32Array :
  D extends 'ui32' ? Uint32Array :
  D extends 'i64' ? BigInt64Array :
  D extends 'ui64' ? BigUint64Array :
  D extends 'i8' ? Int8Array :
  D extends 'i16' ? Int16Array :
  D extends 'ui16' ? Uint16Array :
  Uint8Array;

/** A zeroed host array of `n` elements of dtype `d` (`2n` floats for c64: see {@link lanes}). */
export function allocHost(d: SupportedDType, n: number): HostArray {
  switch (d) {
    case 'f32': case 'f16': case 'bf16': return new Float32Array(n);
    case 'c64': return new Float32Array(2 * n);
    case 'i32': return new Int32Array(n);
    case 'ui32': return new Uint32Array(n);
    case 'i1': case 'ui8': return new Uint8Array(n);
    case 'i8': return new Int8Array(n);
    case 'i16': return new Int16Array(n);
    case 'ui16': return new Uint16Array(n);
    case 'i64': return new BigInt64Array(n);
    case 'ui64': return new BigUint64Array(n);
    default: return d satisfies never;
  }
}

/** {@link allocHost} for a dtype held as numbers, typed so that callers can store numbers. */
export function allocNarrow(d: NarrowDType, n: number): NarrowArray {
  return allocHost(d, n) as NarrowArray;
}

/** The error to give when a program uses a type that kiln parses but cannot compute on. */
export function unsupportedDTypeReason(d: DType): string | undefined {
  if (isSupportedDType(d)) return undefined;
  switch (d) {
    case 'f64':
      return 'f64 is not supported: WebGPU has no 64-bit floats (an emulated f64 would be slow and not IEEE-exact in transcendentals); run JAX with jax_enable_x64 off (the default) so it emits f32';
    case 'c128':
      return 'complex<f64> (complex128) is not supported: WebGPU has no 64-bit floats; run JAX with jax_enable_x64 off (the default) so it emits complex<f32>';
    default:
      return `${d} is not supported: kiln computes on f32, f16, bf16, i8, i16, i32, i64, ui8, ui16, ui32, ui64, i1 and complex<f32>`;
  }
}

// ---- f16 rounding on the host -------------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The IEEE bit pattern of an f32 value. */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0];
}

/** The f32 value of a bit pattern. */
export function f32FromBits(b: number): number {
  u32Scratch[0] = b >>> 0;
  return f32Scratch[0];
}

/** The f16 bit pattern nearest to `x` (round half to even), as IEEE 754 binary16 does it. */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) { m = 0; e++; if (e >= 0x1f) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

/** The value of an f16 bit pattern (exact: every f16 value is a JS number). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Rounds a number to the nearest f16 value (kept as a JS number). */
export function roundF16(x: number): number {
  return f16BitsToF32(f32ToF16Bits(x));
}

// ---- bf16 on the host ---------------------------------------------------------------------

/** The bf16 bit pattern of `x` (rounded to nearest even from f32; NaN stays a quiet NaN). */
export function f32ToBf16Bits(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value of a bf16 bit pattern (the top half of an f32: exact). */
export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16 >>> 0);
}

/** `x` rounded to bf16 (round to nearest even, NaN kept, overflow to infinity). */
export function roundBf16(x: number): number {
  return bf16BitsToF32(f32ToBf16Bits(x));
}
