/**
 * @file Element types as weight files store them, and their conversion to kiln's host tensors.
 *
 * Files written by NumPy, PyTorch or HuggingFace hold types kiln does not compute in. Each is
 * converted exactly where it can be (bf16 and f16 widen to f32, 8/16-bit integers widen to i32 or
 * ui32), and otherwise only when no value changes: i64/u64 must fit 32 bits and f64 is rounded to
 * f32 (JAX does the same with x64 off) — each such conversion is reported once per load as a
 * notice. A value that would change (an i64 beyond ±2^31) is an InputError naming the tensor.
 */
import type { HostArray, SupportedDType } from '../../ir/dtype.js';
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, isInt64Array, lanes } from '../../ir/dtype.js';
import { InputError } from '../../ir/errors.js';
import { numElements } from '../../ir/types.js';
import { hostTensor, type HostTensor } from '../tensor.js';

/** Element types found in .npy, .npz and .safetensors files (little-endian). */
export type FileDType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u64' | 'u32' | 'u16' | 'u8' | 'bool' | 'c64';

/** Bytes per element of each file type. */
export const FILE_DTYPE_BYTES: Record<FileDType, number> = {
  f64: 8, f32: 4, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u64: 8, u32: 4, u16: 2, u8: 1, bool: 1, c64: 8,
};

/** The kiln dtype each file type becomes. */
const TARGET: Record<FileDType, SupportedDType> = {
  f64: 'f32', f32: 'f32', f16: 'f16', bf16: 'f32', i64: 'i32', i32: 'i32', i16: 'i32', i8: 'i32',
  u64: 'ui32', u32: 'ui32', u16: 'ui32', u8: 'ui32', bool: 'i1', c64: 'c64',
};

/** The file type kiln writes for each of its dtypes. */
export const FILE_DTYPE_OF: Record<SupportedDType, FileDType> = {
  f32: 'f32', f16: 'f16', bf16: 'bf16', i32: 'i32', ui32: 'u32', i1: 'bool', i64: 'i64', ui64: 'u64', c64: 'c64',
  i8: 'i8', i16: 'i16', ui8: 'u8', ui16: 'u16',
};

/** What a conversion did, for the one notice a load prints. */
export interface Decoded {
  tensor: HostTensor;
  /** Set when values were narrowed (f64 → f32, i64 → i32): the note says so. */
  narrowed?: string;
}

/** Element count of `shape`, refusing negative or fractional dimensions. */
export function checkedCount(shape: readonly number[], what: string): number {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`${what}: bad shape [${shape}]`);
  return numElements(shape);
}

/**
 * Decodes little-endian `bytes` of `type` and `shape` into a host tensor of the kiln dtype it
 * maps to. `what` names the tensor in errors (`model.safetensors: layer.0.weight`).
 */
export function decode(type: FileDType, shape: readonly number[], bytes: Uint8Array, what: string): Decoded {
  const n = checkedCount(shape, what);
  const want = n * FILE_DTYPE_BYTES[type];
  if (bytes.byteLength !== want) throw new InputError(`${what}: ${type}[${shape}] needs ${want} bytes, the file holds ${bytes.byteLength}`);
  const tensor = allocFor(type, shape);
  decodeChunk(type, bytes, tensor.data, 0, what);
  return { tensor, narrowed: NARROWED[type] };
}

/** An empty tensor of the kiln dtype that file type `type` becomes. */
export function allocFor(type: FileDType, shape: readonly number[]): HostTensor {
  return hostTensor(TARGET[type], shape);
}

/** The notice for types whose values are narrowed on load. */
export const NARROWED: Partial<Record<FileDType, string>> = {
  f64: 'float64 rounded to float32',
  i64: 'int64 narrowed to int32 (every value fits)',
  u64: 'uint64 narrowed to uint32 (every value fits)',
};

/**
 * Decodes whole elements of `bytes` into `out` from element `at` on: file readers call it on
 * chunks, so a large tensor is never held twice (file bytes and decoded values) in memory.
 */
export function decodeChunk(type: FileDType, bytes: Uint8Array, out: HostArray, at: number, what: string): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.byteLength / FILE_DTYPE_BYTES[type]);
  const d = out;
  switch (type) {
    case 'f32': for (let i = 0; i < n; i++) d[at + i] = v.getFloat32(4 * i, true); break;
    case 'f64': for (let i = 0; i < n; i++) d[at + i] = v.getFloat64(8 * i, true); break;
    case 'f16': for (let i = 0; i < n; i++) d[at + i] = f16BitsToF32(v.getUint16(2 * i, true)); break;
    case 'bf16': for (let i = 0; i < n; i++) d[at + i] = bf16ToF32(v.getUint16(2 * i, true)); break;
    case 'i32': for (let i = 0; i < n; i++) d[at + i] = v.getInt32(4 * i, true); break;
    case 'i16': for (let i = 0; i < n; i++) d[at + i] = v.getInt16(2 * i, true); break;
    case 'i8': for (let i = 0; i < n; i++) d[at + i] = v.getInt8(i); break;
    case 'u32': for (let i = 0; i < n; i++) d[at + i] = v.getUint32(4 * i, true); break;
    case 'u16': for (let i = 0; i < n; i++) d[at + i] = v.getUint16(2 * i, true); break;
    case 'u8': for (let i = 0; i < n; i++) d[at + i] = v.getUint8(i); break;
    case 'bool': for (let i = 0; i < n; i++) d[at + i] = v.getUint8(i) ? 1 : 0; break;
    // complex64: (re, im) f32 pairs, the host layout too (element `at` starts at slot 2 * at).
    case 'c64': for (let i = 0; i < 2 * n; i++) d[2 * at + i] = v.getFloat32(4 * i, true); break;
    case 'i64': case 'u64': {
      const signed = type === 'i64';
      const [lo, hi] = signed ? [-(2n ** 31n), 2n ** 31n - 1n] : [0n, 2n ** 32n - 1n];
      for (let i = 0; i < n; i++) {
        const x = signed ? v.getBigInt64(8 * i, true) : v.getBigUint64(8 * i, true);
        if (x < lo || x > hi) {
          throw new InputError(`${what}: element ${at + i} is ${x}, which does not fit ${signed ? 'int32' : 'uint32'} (kiln computes in 32-bit integers, as JAX does with x64 off); rescale it or store it as float`);
        }
        d[at + i] = Number(x);
      }
      break;
    }
    default: (type satisfies never);
  }
}

/** The little-endian bytes of `t` in its file type (see {@link FILE_DTYPE_OF}). */
export function encode(t: HostTensor): { type: FileDType; bytes: Uint8Array } {
  const type = FILE_DTYPE_OF[t.dtype];
  const n = t.data.length / lanes(t.dtype);
  const out = new Uint8Array(n * FILE_DTYPE_BYTES[type]);
  const v = new DataView(out.buffer);
  if (isInt64Array(t.data)) {
    const d = t.data;
    if (d instanceof BigInt64Array) for (let i = 0; i < n; i++) v.setBigInt64(8 * i, d[i], true);
    else for (let i = 0; i < n; i++) v.setBigUint64(8 * i, d[i], true);
    return { type, bytes: out };
  }
  const d = t.data;
  switch (t.dtype) {
    case 'f32': for (let i = 0; i < n; i++) v.setFloat32(4 * i, d[i], true); break;
    case 'f16': for (let i = 0; i < n; i++) v.setUint16(2 * i, f32ToF16Bits(d[i]), true); break;
    case 'bf16': for (let i = 0; i < n; i++) v.setUint16(2 * i, f32ToBf16Bits(d[i]), true); break;
    case 'i32': for (let i = 0; i < n; i++) v.setInt32(4 * i, d[i], true); break;
    case 'ui32': for (let i = 0; i < n; i++) v.setUint32(4 * i, d[i], true); break;
    case 'i1': for (let i = 0; i < n; i++) out[i] = d[i] ? 1 : 0; break;
    case 'c64': for (let i = 0; i < 2 * n; i++) v.setFloat32(4 * i, d[i], true); break;
    case 'i8': for (let i = 0; i < n; i++) v.setInt8(i, d[i]); break;
    case 'ui8': for (let i = 0; i < n; i++) v.setUint8(i, d[i]); break;
    case 'i16': for (let i = 0; i < n; i++) v.setInt16(2 * i, d[i], true); break;
    case 'ui16': for (let i = 0; i < n; i++) v.setUint16(2 * i, d[i], true); break;
    case 'i64': case 'ui64': break; // handled above
    default: t.dtype satisfies never;
  }
  return { type, bytes: out };
}

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);
/** bfloat16 is the top half of a float32: widening is exact. */
function bf16ToF32(h: number): number {
  bits[0] = h << 16;
  return asFloat[0];
}
