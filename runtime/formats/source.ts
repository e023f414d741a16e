/**
 * @file Random-access byte sources for weight files: an in-memory buffer, or an open file read
 * piece by piece (so a 1 GB checkpoint is never held whole), and chunked tensor decoding over them.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../../ir/errors.js';
import type { HostTensor } from '../tensor.js';
import { allocFor, checkedCount, decodeChunk, FILE_DTYPE_BYTES, type FileDType } from './elements.js';

/** Bytes that can be read at any offset. */
export interface ByteSource {
  /** Names the source in errors (a path, or `<bytes>`). */
  readonly name: string;
  readonly size: number;
  /** `length` bytes from `offset`; an InputError if the source is shorter. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/** A source over bytes already in memory (views, no copies). */
export function bytesSource(bytes: Uint8Array, name = '<bytes>'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read(offset, length) {
      if (offset + length > bytes.byteLength) throw new InputError(`${name}: truncated (needs ${offset + length} bytes, has ${bytes.byteLength})`);
      return bytes.subarray(offset, offset + length);
    },
    close() {},
  };
}

/** A source over a file, read with positioned reads; close it when done. */
export function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  return {
    name: path,
    size,
    read(offset, length) {
      if (offset + length > size) throw new InputError(`${path}: truncated (needs ${offset + length} bytes, the file has ${size})`);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) throw new InputError(`${path}: unexpected end of file at byte ${offset + got}`);
        got += n;
      }
      return buf;
    },
    close() { closeSync(fd); },
  };
}

/** Reads are done in pieces of at most this many bytes. */
const CHUNK = 16 << 20;

/** Decodes a tensor stored at `offset` of `src`, a chunk at a time. */
export function readTensor(src: ByteSource, offset: number, type: FileDType, shape: readonly number[], what: string): HostTensor {
  const n = checkedCount(shape, what);
  const width = FILE_DTYPE_BYTES[type];
  const t = allocFor(type, shape);
  const perChunk = Math.max(1, Math.floor(CHUNK / width));
  for (let at = 0; at < n; at += perChunk) {
    const count = Math.min(perChunk, n - at);
    decodeChunk(type, src.read(offset + at * width, count * width), t.data, at, what);
  }
  return t;
}
