/**
 * @file Weight files in and out: `.safetensors`, `.npz` and `.npy`, chosen by the file's ending
 * (or `format`), as named host tensors in file order. Types kiln does not compute in are converted
 * (runtime/formats/elements.ts); narrowing conversions are listed in `notes` for one notice.
 */
import { extname } from 'node:path';
import { InputError } from '../../ir/errors.js';
import type { HostTensor } from '../tensor.js';
import { NARROWED, type FileDType } from './elements.js';
import { readNpy, writeNpy } from './npy.js';
import { readNpz, writeNpz } from './npz.js';
import { parseSafetensorsHeader, readSafetensorsEntry, writeSafetensors } from './safetensors.js';
import { bytesSource, fileSource } from './source.js';
import { writeFileSync } from 'node:fs';

export type WeightFormat = 'safetensors' | 'npz' | 'npy';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['safetensors', 'npz', 'npy'];

/** What a weight file held. */
export interface Weights {
  /** Name and tensor, in file order (`.npy`: one array named `array`). */
  arrays: [string, HostTensor][];
  /** safetensors' `__metadata__`. */
  metadata: Record<string, string>;
  /** One line per kind of narrowing conversion done (`float64 rounded to float32: a, b`). */
  notes: string[];
}

/** The format of a path by its ending, or an InputError listing the known ones. */
export function formatOf(path: string, format?: string): WeightFormat {
  const f = format ?? extname(path).slice(1).toLowerCase();
  if ((WEIGHT_FORMATS as readonly string[]).includes(f)) return f as WeightFormat;
  throw new InputError(`${path}: unknown weight format '${f}'; expected one of ${WEIGHT_FORMATS.join(', ')} (by the file's ending, or pass format)`);
}

function notesOf(types: [string, FileDType][]): string[] {
  const by = new Map<string, string[]>();
  for (const [name, t] of types) {
    const n = NARROWED[t];
    if (n) by.set(n, [...(by.get(n) ?? []), name]);
  }
  return [...by].map(([n, names]) => `${n}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? `, ... (${names.length})` : ''}`);
}

/** Reads a weight file, or bytes of one (then `format` is required). */
export async function readWeights(from: string | Uint8Array, format?: string): Promise<Weights> {
  const name = typeof from === 'string' ? from : '<bytes>';
  if (typeof from !== 'string' && !format) throw new InputError('load: bytes need a format (safetensors, npz or npy)');
  const fmt = formatOf(name, format);
  if (fmt === 'npz') {
    const arrays = await readNpz(from, name);
    return { arrays: arrays.map((a) => [a.name, a.tensor]), metadata: {}, notes: notesOf(arrays.map((a) => [a.name, a.type])) };
  }
  const src = typeof from === 'string' ? fileSource(from) : bytesSource(from, name);
  try {
    if (fmt === 'npy') {
      const { tensor, type } = readNpy(src);
      return { arrays: [['array', tensor]], metadata: {}, notes: notesOf([['array', type]]) };
    }
    const header = parseSafetensorsHeader(src);
    const arrays: [string, HostTensor][] = header.entries.map((e) => [e.name, readSafetensorsEntry(src, e)]);
    return { arrays, metadata: header.metadata, notes: notesOf(header.entries.map((e) => [e.name, e.type])) };
  } finally {
    src.close();
  }
}

/** Writes named tensors; `.npy` takes exactly one. */
export async function writeWeights(path: string, arrays: readonly [string, HostTensor][], opts: { format?: string; metadata?: Record<string, string> } = {}): Promise<void> {
  const fmt = formatOf(path, opts.format);
  if (fmt === 'safetensors') return writeSafetensors(path, arrays, opts.metadata);
  if (fmt === 'npz') return writeNpz(path, arrays);
  if (arrays.length !== 1) throw new InputError(`${path}: a .npy file holds one array, got ${arrays.length}; use .npz or .safetensors`);
  writeFileSync(path, writeNpy(arrays[0][1]));
}

export { readNpy, writeNpy } from './npy.js';
