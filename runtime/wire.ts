/**
 * @file Tensors on the wire: msgpack maps `{dtype, shape, data}` with `data` the raw little-endian
 * row-major bytes (f16 as binary16, i1 as one byte each). Shared by the server and the remote client.
 */
import { isSupportedDType, type SupportedDType } from '../ir/dtype.js';
import { InputError } from '../ir/errors.js';
import { numElements } from '../ir/types.js';
import { fromBytes, toBytes, type HostTensor } from './tensor.js';

export interface WireTensor {
  dtype: SupportedDType;
  shape: number[];
  data: Uint8Array;
}

export function isWireTensor(v: unknown): v is { dtype: unknown; shape: unknown; data: unknown } {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v;
}

/** Checks and decodes a wire tensor; `what` names it in errors (`inputs[2]`). */
export function decodeTensor(v: unknown, what: string): HostTensor {
  if (!isWireTensor(v)) throw new InputError(`${what}: expected a tensor {dtype, shape, data} or a buffer reference {buffer}`);
  const { dtype, shape, data } = v as { dtype: unknown; shape: unknown; data: unknown };
  if (typeof dtype !== 'string' || !isSupportedDType(dtype as never)) {
    throw new InputError(`${what}: dtype ${JSON.stringify(dtype)} is not one of f32, f16, i32, ui32, i1`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || shape.length > 16) {
    throw new InputError(`${what}: shape must be an array of at most 16 non-negative integers`);
  }
  if (!(data instanceof Uint8Array)) throw new InputError(`${what}: data must be msgpack binary (raw little-endian bytes)`);
  const n = numElements(shape as number[]);
  if (!Number.isSafeInteger(n)) throw new InputError(`${what}: shape [${shape}] is too large`);
  return fromBytes(dtype as SupportedDType, shape as number[], data, what);
}

export function encodeTensor(t: HostTensor): WireTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: toBytes(t) };
}
