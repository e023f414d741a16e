/**
 * @file Tensors on the wire: msgpack maps `{dtype, shape, data}` with `data` the raw little-endian
 * row-major bytes (f16 as binary16, i1 as one byte each, i64/ui64 as 8 bytes two's complement). Shared by the server and the remote client.
 */
import { isSupportedDType, SUPPORTED_DTYPES, type SupportedDType } from '../ir/dtype.js';
import { InputError } from '../ir/errors.js';
import { shapeProblem } from '../ir/types.js';
import { fromBytes, toBytes, type HostTensor } from './tensor.js';

export interface WireTensor {
  dtype: SupportedDType;
  shape: number[];
  data: Uint8Array;
}

export function isWireTensor(v: unknown): v is { dtype: unknown; shape: unknown; data: unknown } {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v;
}

/**
 * A short rendering of a value a client sent, for error messages: long strings are cut and
 * arrays and maps are only named, so a hostile value can neither bloat the reply nor overflow
 * the stack (JSON.stringify and String recurse into nested arrays).
 */
export function describeValue(v: unknown, max = 64): string {
  if (typeof v === 'string') return v.length <= max ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, max))}... (${v.length} characters)`;
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v !== null && typeof v === 'object') return `a ${v.constructor?.name ?? 'map'}`;
  return String(v);
}

/** Checks and decodes a wire tensor; `what` names it in errors (`inputs[2]`). */
export function decodeTensor(v: unknown, what: string): HostTensor {
  if (!isWireTensor(v)) throw new InputError(`${what}: expected a tensor {dtype, shape, data} or a buffer reference {buffer}`);
  const { dtype, shape, data } = v as { dtype: unknown; shape: unknown; data: unknown };
  if (typeof dtype !== 'string' || !isSupportedDType(dtype as never)) {
    throw new InputError(`${what}: dtype ${describeValue(dtype)} is not one of ${SUPPORTED_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || shape.length > 16) {
    throw new InputError(`${what}: shape must be an array of at most 16 non-negative integers`);
  }
  if (!(data instanceof Uint8Array)) throw new InputError(`${what}: data must be msgpack binary (raw little-endian bytes)`);
  // The same limit the IR puts on types: no tensor kiln could not have written in a program.
  const tooBig = shapeProblem(shape as number[]);
  if (tooBig) throw new InputError(`${what}: shape [${shape}] is not supported: ${tooBig}`);
  return fromBytes(dtype as SupportedDType, shape as number[], data, what);
}

export function encodeTensor(t: HostTensor): WireTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: toBytes(t) };
}
