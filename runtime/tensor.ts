/**
 * @file Host tensors: a dtype, a shape and a typed array of row-major elements, plus conversion
 * to and from the corpus JSON format and raw little-endian bytes (the wire format).
 */
import {
  allocHost, byteSize, f16BitsToF32, f32ToF16Bits, isSupportedDType,
  type HostArray, type SupportedDType,
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

/** The corpus format: `{dtype, shape, data}` with NaN written as `null`. */
export interface JsonTensor {
  dtype: string;
  shape: number[];
  data: (number | boolean | null)[];
}

/** A tensor of `shape` holding `values` (zeros without them); i1 values become 0 or 1. */
export function hostTensor(dtype: SupportedDType, shape: readonly number[], values?: ArrayLike<number>): HostTensor {
  const n = numElements(shape);
  const data = allocHost(dtype, n);
  if (values) {
    if (values.length !== n) throw new InputError(`tensor of shape [${shape}] needs ${n} values, got ${values.length}`);
    for (let i = 0; i < n; i++) data[i] = dtype === 'i1' ? (values[i] ? 1 : 0) : values[i];
  }
  return { dtype, shape: [...shape], data };
}

/** Reads the corpus JSON form; `what` names the tensor in the InputError a bad one gets. */
export function fromJson(j: JsonTensor, what = 'tensor'): HostTensor {
  if (!j || typeof j !== 'object') throw new InputError(`${what}: expected {dtype, shape, data}`);
  if (typeof j.dtype !== 'string' || !isSupportedDType(j.dtype as never)) {
    throw new InputError(`${what}: dtype ${JSON.stringify(j.dtype)} is not one of f32, f16, i32, ui32, i1`);
  }
  if (!Array.isArray(j.shape) || !j.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InputError(`${what}: shape must be an array of non-negative integers`);
  }
  const problem = shapeProblem(j.shape);
  if (problem) throw new InputError(`${what}: shape [${j.shape}]: ${problem}`);
  if (!Array.isArray(j.data)) throw new InputError(`${what}: data must be a flat array`);
  const values = j.data.map((v) => (v === null ? NaN : typeof v === 'boolean' ? Number(v) : v));
  if (!values.every((v) => typeof v === 'number')) throw new InputError(`${what}: data must hold numbers`);
  return hostTensor(j.dtype as SupportedDType, j.shape, values);
}

/** The corpus JSON form of `t` (NaN as `null`). */
export function toJson(t: HostTensor): JsonTensor {
  const data = Array.from(t.data, (v) => (Number.isNaN(v) ? null : v));
  return { dtype: t.dtype, shape: [...t.shape], data };
}

/** Raw little-endian bytes, as on the wire and in `.npy` files (f16 as binary16, i1 as one byte). */
export function toBytes(t: HostTensor): Uint8Array {
  if (t.dtype === 'f16') {
    const h = new Uint16Array(t.data.length);
    for (let i = 0; i < h.length; i++) h[i] = f32ToF16Bits(t.data[i]);
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
    case 'f32': t.data = new Float32Array(copy.buffer, 0, n); break;
    case 'i32': t.data = new Int32Array(copy.buffer, 0, n); break;
    case 'ui32': t.data = new Uint32Array(copy.buffer, 0, n); break;
    case 'i1': for (let i = 0; i < n; i++) t.data[i] = copy[i] ? 1 : 0; break;
    default: dtype satisfies never;
  }
  return t;
}
