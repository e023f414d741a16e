/**
 * @file NumPy's `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy` files, read
 * with yauzl and written with yazl — small, long-maintained zip libraries with ZIP64 support (numpy
 * writes ZIP64 entries for arrays over 4 GiB), chosen over fflate, whose zip support lacks ZIP64.
 * Entries are inflated and decoded as they stream, so an archive is never held whole in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { InputError } from '../../ir/errors.js';
import type { HostTensor } from '../tensor.js';
import { allocFor, checkedCount, decodeChunk, FILE_DTYPE_BYTES, type FileDType } from './elements.js';
import { bytesSource, type ByteSource } from './source.js';
import { parseNpyHeader, writeNpy } from './npy.js';

/** One array of an archive, by its name without `.npy`, and its type in the file. */
export interface NpzArray {
  name: string;
  tensor: HostTensor;
  type: FileDType;
}

function openZip(from: string | Uint8Array, name: string): Promise<yauzl.ZipFile> {
  const opts = { lazyEntries: true, decodeStrings: true, validateEntrySizes: true };
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) => (err || !zip ? reject(new InputError(`${name}: not a readable .npz (zip) file: ${err?.message}`)) : resolve(zip));
    if (typeof from === 'string') yauzl.open(from, opts, done);
    else yauzl.fromBuffer(Buffer.from(from.buffer, from.byteOffset, from.byteLength), opts, done);
  });
}

/** Reads every `.npy` entry of an archive, in archive order. */
export async function readNpz(from: string | Uint8Array, name = typeof from === 'string' ? from : '<npz>'): Promise<NpzArray[]> {
  const zip = await openZip(from, name);
  const out: NpzArray[] = [];
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      if (entry.fileName.endsWith('/')) continue;
      if (!entry.fileName.endsWith('.npy')) throw new InputError(`${name}: entry '${entry.fileName}' is not a .npy array`);
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
        zip.openReadStream(entry, (err, s) => (err || !s ? reject(new InputError(`${name}: entry '${entry.fileName}': ${err?.message}`)) : resolve(s))));
      const arrayName = entry.fileName.slice(0, -4);
      out.push({ name: arrayName, ...(await decodeStream(stream, `${name}: '${arrayName}'`)) });
    }
  } finally {
    zip.close();
  }
  return out;
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry) => { cleanup(); resolve(e); };
    const onEnd = () => { cleanup(); resolve(undefined); };
    const onError = (e: Error) => { cleanup(); reject(new InputError(`${(e as Error).message}`)); };
    const cleanup = () => { zip.off('entry', onEntry); zip.off('end', onEnd); zip.off('error', onError); };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** Decodes one streamed .npy: the header from the first bytes, then the data chunk by chunk. */
async function decodeStream(stream: NodeJS.ReadableStream, what: string): Promise<{ tensor: HostTensor; type: FileDType }> {
  let pending = new Uint8Array(0);
  let tensor: HostTensor | undefined;
  let type: FileDType | undefined;
  let at = 0, total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending, 0);
    joined.set(chunk, pending.length);
    pending = joined;
    if (!tensor) {
      const header = tryHeader(pending, what);
      if (!header) continue;
      type = header.type;
      total = checkedCount(header.shape, what);
      tensor = allocFor(type, header.shape);
      pending = pending.subarray(header.dataOffset);
    }
    const width = FILE_DTYPE_BYTES[type!];
    const whole = Math.min(Math.floor(pending.length / width), total - at);
    decodeChunk(type!, pending.subarray(0, whole * width), tensor.data, at, what);
    at += whole;
    pending = pending.slice(whole * width);
  }
  if (!tensor || at !== total || pending.length) throw new InputError(`${what}: truncated array (${at} of ${total} elements)`);
  return { tensor, type: type! };
}

/** The header once enough bytes have arrived, else undefined. */
function tryHeader(bytes: Uint8Array, what: string): ReturnType<typeof parseNpyHeader> | undefined {
  if (bytes.length < 12) return undefined;
  const major = bytes[6];
  const len = major === 1 ? bytes[8] | (bytes[9] << 8) : new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  if (bytes.length < (major === 1 ? 10 : 12) + len) return undefined;
  return parseNpyHeader(bytesSource(bytes, what) as ByteSource);
}

/** Writes arrays to `path` as an uncompressed .npz (what `np.savez` writes); ZIP64 when needed. */
export async function writeNpz(path: string, arrays: readonly [string, HostTensor][]): Promise<void> {
  const zip = new yazl.ZipFile();
  const seen = new Set<string>();
  for (const [name, t] of arrays) {
    if (seen.has(name)) throw new InputError(`save: array name '${name}' appears twice`);
    seen.add(name);
    zip.addBuffer(Buffer.from(writeNpy(t)), `${name}.npy`, { compress: false, mtime: new Date(0) });
  }
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  zip.end();
  await once(out, 'close');
}
