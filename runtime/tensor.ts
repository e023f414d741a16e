/**
 * @file Host tensors: a dtype, a shape and a typed array of row-major elements, plus conversion
 * to and from the corpus JSON format and raw little-endian bytes (the wire format).
 */
import {
  allocHost, byteSize, isSmallInt, widenedInt, f16BitsToF32, f32ToF16Bits, isSupportedDType, lanes,
  isInt64Array, SUPPORTED_DTYPES, type HostArray, type NarrowArray, type SupportedDType, bf16BitsToF32, f32ToBf16Bits, roundBf16,
} from '../ir/dtype.js';
import { InputError } from '../ir/errors.js';
import { numElements, shapeProblem } from '../ir/types.js';

/** A tensor in host memory, the form every device uploads from and reads back to. */
export interface HostTensor {
  dtype: SupportedDType;
  shape: number[];
  /** Row-major elements; f16 is held as f32 values (see `HostArray`), i1 as 0/1 bytes. */
  data: HostArray;
}

/**
 * `t` as the lowered programs of both devices compute on it: a bf16 tensor as f32
 * (compiler/passes/bf16.ts: the same values), an i8 / i16 tensor as i32 and a ui8 / ui16 one as
 * ui32 (compiler/passes/smallint.ts: the same numbers, widened). Other tensors are returned as they are.
 */
export function toComputed(t: HostTensor): HostTensor {
  if (t.dtype === 'bf16') return { ...t, dtype: 'f32' };
  if (!isSmallInt(t.dtype)) return t;
  const wide = widenedInt(t.dtype);
  return { dtype: wide, shape: [...t.shape], data: wide === 'i32' ? Int32Array.from(t.data as Int8Array) : Uint32Array.from(t.data as Uint8Array) };
}

/**
 * The inverse of {@link toComputed}: the result `t` of a lowered program, as the tensor of `dtype`
 * the original program returns (a 32-bit integer tensor narrowed into an Int8Array, ...).
 */
export function fromComputed(t: HostTensor, dtype: SupportedDType): HostTensor {
  if (dtype === 'bf16') return { ...t, dtype };
  if (!isSmallInt(dtype)) return t;
  const out = hostTensor(dtype, t.shape);
  (out.data as NarrowArray).set(t.data as NarrowArray);
  return out;
}

/**
 * The data of a tensor that cannot be 64-bit, typed as numbers: the operands of ops outside
 * `Int64Ops` (the verifier refuses 64-bit values there). Throws if that promise was broken.
 */
export function narrowData(t: HostTensor): NarrowArray {
  if (isInt64Array(t.data)) throw new Error(`internal: a ${t.dtype} tensor reached code for 32-bit types`);
  return t.data;
}

/**
 * The corpus format: `{dtype, shape, data}` with NaN written as `null`; a c64 tensor's data is
 * its interleaved (re, im) pairs, `2 * size` numbers. i64/ui64 elements are
 * JSON numbers where they are safe integers (|v| <= 2^53 - 1, exact in a JS number) and decimal
 * strings otherwise ("18446744073709551615"); either form is read.
 */
export interface JsonTensor {
  dtype: string;
  shape: number[];
  data: (number | boolean | null | string)[];
}

/**
 * A tensor of `shape` holding `values` (zeros without them); i1 values become 0 or 1. i64/ui64
 * values may be bigints or integral numbers, and wrap to 64 bits. c64 values are interleaved
 * (re0, im0, re1, im1, ...): two per element.
 */
export function hostTensor(dtype: SupportedDType, shape: readonly number[], values?: ArrayLike<number | bigint>): HostTensor {
  const n = numElements(shape) * lanes(dtype);
  const data = allocHost(dtype, numElements(shape));
  if (values) {
    if (values.length !== n) {
      const pairs = dtype === 'c64' ? ' (a c64 tensor takes interleaved re, im pairs: 2 per element)' : '';
      throw new InputError(`${dtype} tensor of shape [${shape}] needs ${n} values, got ${values.length}${pairs}`);
    }
    if (isInt64Array(data)) {
      const wrap = dtype === 'i64' ? BigInt.asIntN : BigInt.asUintN;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'number' && !Number.isInteger(v)) throw new InputError(`${dtype} tensor: element ${i} is ${v}, not an integer`);
        data[i] = wrap(64, BigInt(v));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'bigint') throw new InputError(`${dtype} tensor: element ${i} is a bigint; only i64/ui64 hold bigints`);
        data[i] = dtype === 'i1' ? (v ? 1 : 0) : dtype === 'bf16' ? roundBf16(v) : v;
      }
    }
  }
  return { dtype, shape: [...shape], data };
}

/** One 64-bit element of the JSON form: a safe-integer number or a decimal string, in range. */
function int64FromJson(v: unknown, d: 'i64' | 'ui64', what: string, i: number): bigint {
  let b: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
  if (b === undefined) {
    throw new InputError(`${what}: ${d} element ${i} is ${JSON.stringify(v)}; write 64-bit integers as safe-integer numbers or decimal strings`);
  }
  if ((d === 'i64' ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b)) !== b) throw new InputError(`${what}: ${d} element ${i} (${v}) is out of range`);
  return b;
}

/** Reads the corpus JSON form; `what` names the tensor in the InputError a bad one gets. */
export function fromJson(j: JsonTensor, what = 'tensor'): HostTensor {
  if (!j || typeof j !== 'object') throw new InputError(`${what}: expected {dtype, shape, data}`);
  if (typeof j.dtype !== 'string' || !isSupportedDType(j.dtype as never)) {
    throw new InputError(`${what}: dtype ${JSON.stringify(j.dtype)} is not one of ${SUPPORTED_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(j.shape) || !j.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InputError(`${what}: shape must be an array of non-negative integers`);
  }
  const problem = shapeProblem(j.shape);
  if (problem) throw new InputError(`${what}: shape [${j.shape}]: ${problem}`);
  if (!Array.isArray(j.data)) throw new InputError(`${what}: data must be a flat array`);
  if (j.dtype === 'i64' || j.dtype === 'ui64') {
    const d = j.dtype;
    return hostTensor(d, j.shape, j.data.map((v, i) => int64FromJson(v, d, what, i)));
  }
  // JSON has no NaN or infinities: null is NaN, and the strings "inf" / "-inf" are the infinities.
  const values = j.data.map((v) => (v === null ? NaN : typeof v === 'boolean' ? Number(v) : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v));
  if (!values.every((v) => typeof v === 'number')) throw new InputError(`${what}: data must hold numbers (null for NaN, "inf" and "-inf" for the infinities)`);
  return hostTensor(j.dtype as SupportedDType, j.shape, values);
}

/** The corpus JSON form of `t` (NaN as `null`). */
export function toJson(t: HostTensor): JsonTensor {
  if (isInt64Array(t.data)) {
    const big = Array.from(t.data as BigInt64Array, (v) => (v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString()));
    return { dtype: t.dtype, shape: [...t.shape], data: big };
  }
  const data = Array.from(t.data, (v) => (Number.isNaN(v) ? null : v));
  return { dtype: t.dtype, shape: [...t.shape], data };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Raw little-endian bytes, as on the wire and in `.npy` files (f16 as binary16, i1 as one byte). */
export function toBytes(t: HostTensor): Uint8Array {
  if (t.dtype === 'f16' || t.dtype === 'bf16') {
    const bits = t.dtype === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
    const h = new Uint16Array(t.data.length);
    for (let i = 0; i < h.length; i++) h[i] = bits(t.data[i] as number);
    return new Uint8Array(h.buffer);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** The inverse of {@link toBytes}: checks the byte length against dtype and shape, and copies. */
export function fromBytes(dtype: SupportedDType, shape: readonly number[], bytes: Uint8Array, what = 'tensor'): HostTensor {
  const n = numElements(shape);
  const want = n * byteSize(dtype);
  if (bytes.byteLength !== want) {
    throw new InputError(`${what}: ${dtype}[${shape}] needs ${want} bytes, got ${bytes.byteLength}`);
  }
  // An owned, aligned copy: `bytes` may be a view into a larger buffer (a Node Buffer's slice is).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const t = hostTensor(dtype, shape);
  switch (dtype) {
    case 'f16': {
      const h = new Uint16Array(copy.buffer, 0, n);
      for (let i = 0; i < n; i++) t.data[i] = f16BitsToF32(h[i]);
      break;
    }
    case 'bf16': {
      const h = new Uint16Array(copy.buffer, 0, n);
      for (let i = 0; i < n; i++) t.data[i] = bf16BitsToF32(h[i]);
      break;
    }
    case 'f32': t.data = new Float32Array(copy.buffer, 0, n); break;
    case 'c64': t.data = new Float32Array(copy.buffer, 0, 2 * n); break;
    case 'i32': t.data = new Int32Array(copy.buffer, 0, n); break;
    case 'ui32': t.data = new Uint32Array(copy.buffer, 0, n); break;
    case 'i1': for (let i = 0; i < n; i++) t.data[i] = copy[i] ? 1 : 0; break;
    case 'i8': t.data = new Int8Array(copy.buffer, 0, n); break;
    case 'ui8': t.data = copy; break;
    case 'i16': t.data = new Int16Array(copy.buffer, 0, n); break;
    case 'ui16': t.data = new Uint16Array(copy.buffer, 0, n); break;
    case 'i64': t.data = new BigInt64Array(copy.buffer, 0, n); break;
    case 'ui64': t.data = new BigUint64Array(copy.buffer, 0, n); break;
    default: dtype satisfies never;
  }
  return t;
}
