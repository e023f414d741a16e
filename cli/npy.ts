/**
 * @file Reading and writing NumPy `.npy` files (format versions 1.0-3.0, little-endian, C order),
 * so users can hand kiln the arrays they already have.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { InputError } from '../ir/errors.js';
import type { SupportedDType } from '../ir/dtype.js';
import { fromBytes, toBytes, type HostTensor } from '../runtime/tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<SupportedDType, string> = {
  f32: '<f4', f16: '<f2', i32: '<i4', ui32: '<u4', i1: '|b1', i64: '<i8', ui64: '<u8',
};
const FROM_DESCR: Record<string, SupportedDType> = {
  '<f4': 'f32', '<f2': 'f16', '<i4': 'i32', '<u4': 'ui32', '|b1': 'i1', '|u1': 'i1', '<i8': 'i64', '<u8': 'ui64',
};

export function readNpy(bytes: Uint8Array, file = '<npy>'): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(`${file}: not a .npy file (bad magic)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new InputError(`${file}: unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new InputError(`${file}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const dtype = FROM_DESCR[descr];
  if (!dtype) {
    throw new InputError(`${file}: dtype ${descr} is not supported (kiln reads float32, float16, int32, uint32, bool); convert with .astype(np.float32) or np.int32`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return fromBytes(dtype, shape, bytes.subarray(start + headerLen), file);
}

export function writeNpy(t: HostTensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const data = toBytes(t);
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}
