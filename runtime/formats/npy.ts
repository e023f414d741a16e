/**
 * @file NumPy's `.npy` format (versions 1.0-3.0, C order): reading any little-endian numeric or
 * bool array (converted as runtime/formats/elements.ts says) and writing kiln's dtypes.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { InputError } from '../../ir/errors.js';
import type { SupportedDType } from '../../ir/dtype.js';
import type { HostTensor } from '../tensor.js';
import { encode, FILE_DTYPE_BYTES, type FileDType } from './elements.js';
import { bytesSource, readTensor, type ByteSource } from './source.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy's type codes (after the byte-order character) for each file type. */
const CODES: Record<string, FileDType> = {
  f8: 'f64', f4: 'f32', f2: 'f16', i8: 'i64', i4: 'i32', i2: 'i16', i1: 'i8',
  u8: 'u64', u4: 'u32', u2: 'u16', u1: 'u8', b1: 'bool', c8: 'c64',
};
const DESCR: Record<Exclude<SupportedDType, 'bf16'>, string> = {
  f32: '<f4', f16: '<f2', i32: '<i4', ui32: '<u4', i1: '|b1', i64: '<i8', ui64: '<u8', c64: '<c8',
  i8: '|i1', ui8: '|u1', i16: '<i2', ui16: '<u2',
};

/** What a .npy header says: the element type, the shape, and where the data starts. */
export interface NpyHeader {
  type: FileDType;
  shape: number[];
  dataOffset: number;
}

/** Parses the header at the start of `head` (at least the first 12 bytes plus the header). */
export function parseNpyHeader(src: ByteSource): NpyHeader {
  const file = src.name;
  const pre = src.read(0, Math.min(12, src.size));
  if (pre.length < 10 || MAGIC.some((b, i) => pre[i] !== b)) throw new InputError(`${file}: not a .npy file (bad magic)`);
  const major = pre[6];
  if (major < 1 || major > 3) throw new InputError(`${file}: .npy format version ${major}.${pre[7]} is not one of 1.0-3.0`);
  const view = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(src.read(start, headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new InputError(`${file}: unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new InputError(`${file}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const order = descr[0], code = descr.slice(1);
  const type = CODES[code];
  if (!type || (order === '>' && FILE_DTYPE_BYTES[type] > 1) || !'<>|='.includes(order)) {
    throw new InputError(`${file}: dtype ${descr} is not supported (kiln reads little-endian float16/32/64, bfloat16 via safetensors, int8-64, uint8-64 and bool); convert with .astype(np.float32)`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`${file}: bad shape (${shapeText}) in the .npy header`);
  return { type, shape, dataOffset: start + headerLen };
}

/** Reads one array from a .npy source (or bytes). */
export function readNpy(from: ByteSource | Uint8Array, name?: string): { tensor: HostTensor; type: FileDType } {
  const src = from instanceof Uint8Array ? bytesSource(from, name ?? '<npy>') : from;
  const h = parseNpyHeader(src);
  return { tensor: readTensor(src, h.dataOffset, h.type, h.shape, src.name), type: h.type };
}

/** The .npy bytes of a host tensor (format 1.0, or 2.0 when the header needs it). */
export function writeNpy(t: HostTensor): Uint8Array {
  if (t.dtype === 'bf16') throw new InputError('.npy has no bf16 type: save bf16 arrays as .safetensors (BF16), or convert them to f32');
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v2 = header.length + 11 > 0xffff;
  const pre = v2 ? 12 : 10;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const { bytes: data } = encode(t);
  const out = new Uint8Array(pre + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v2) view.setUint32(8, header.length, true);
  else view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, pre + header.length);
  return out;
}
