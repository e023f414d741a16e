/**
 * @file HuggingFace's safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to `{dtype, shape, data_offsets}` (offsets into the data that follows),
 * then the raw little-endian data. Read lazily from a {@link ByteSource}, one tensor at a time;
 * written tensor by tensor to a file.
 * Format: https://huggingface.co/docs/safetensors/index (the "Format" section).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { lanes } from '../../ir/dtype.js';
import { InputError } from '../../ir/errors.js';
import { numElements } from '../../ir/types.js';
import type { HostTensor } from '../tensor.js';
import { encode, FILE_DTYPE_BYTES, FILE_DTYPE_OF, type FileDType } from './elements.js';
import { readTensor, type ByteSource } from './source.js';

const TYPES: Record<string, FileDType> = {
  F64: 'f64', F32: 'f32', F16: 'f16', BF16: 'bf16', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8',
  U64: 'u64', U32: 'u32', U16: 'u16', U8: 'u8', BOOL: 'bool', C64: 'c64',
};
const NAMES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k])) as Record<FileDType, string>;

/** The header is JSON; refuse absurd sizes before reading them (the reference reader caps 100 MB). */
const MAX_HEADER = 100 << 20;

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  name: string;
  type: FileDType;
  shape: number[];
  /** Absolute byte offset of the data in the source. */
  offset: number;
}

/** The parsed header: entries in file order, and the free-form `__metadata__` strings. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** Reads and checks the header: every entry's type, shape and byte range. */
export function parseSafetensorsHeader(src: ByteSource): SafetensorsHeader {
  const file = src.name;
  if (src.size < 8) throw new InputError(`${file}: not a safetensors file (shorter than its 8-byte header length)`);
  const lenBytes = src.read(0, 8);
  const n = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > src.size) throw new InputError(`${file}: not a safetensors file (header length ${n} for a ${src.size}-byte file)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, n)));
  } catch (e) {
    throw new InputError(`${file}: the safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new InputError(`${file}: the safetensors header must be a JSON object`);
  const dataStart = 8 + n;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object' && Object.values(raw).every((v) => typeof v === 'string')) metadata = raw as Record<string, string>;
      else throw new InputError(`${file}: __metadata__ must map strings to strings`);
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const what = `${file}: tensor '${name}'`;
    const type = typeof e?.dtype === 'string' ? TYPES[e.dtype] : undefined;
    if (!type) throw new InputError(`${what}: dtype ${JSON.stringify(e?.dtype)} is not supported (kiln reads ${Object.keys(TYPES).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`${what}: bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
      throw new InputError(`${what}: bad data_offsets ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const want = numElements(shape) * FILE_DTYPE_BYTES[type];
    if (off[1] - off[0] !== want) throw new InputError(`${what}: ${e.dtype}[${shape}] needs ${want} bytes, data_offsets span ${off[1] - off[0]}`);
    if (dataStart + off[1] > src.size) throw new InputError(`${what}: data ends at byte ${dataStart + off[1]}, past the end of the file (${src.size})`);
    entries.push({ name, type, shape, offset: dataStart + off[0] });
  }
  return { entries, metadata };
}

/** Reads one entry's tensor. */
export function readSafetensorsEntry(src: ByteSource, e: SafetensorsEntry): HostTensor {
  return readTensor(src, e.offset, e.type, e.shape, `${src.name}: tensor '${e.name}'`);
}

/** Writes named tensors to `path` as safetensors, one tensor's bytes in memory at a time. */
export function writeSafetensors(path: string, tensors: readonly [string, HostTensor][], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let at = 0;
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (seen.has(name) || name === '__metadata__') throw new InputError(`save: tensor name '${name}' appears twice or is reserved`);
    seen.add(name);
    const type = FILE_DTYPE_OF[t.dtype];
    const size = (t.data.length / lanes(t.dtype)) * FILE_DTYPE_BYTES[type];
    header[name] = { dtype: NAMES[type], shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8); // data starts 8-aligned
  const head = new TextEncoder().encode(text);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(head.length), true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, head);
    for (const [, t] of tensors) writeSync(fd, encode(t).bytes);
  } finally {
    closeSync(fd);
  }
}
