/**
 * @file Running one call (`/execute`, `/run`, and each call of `/batch`): resolve the executable,
 * check and upload the inputs, run with a deadline (timing its kernels when asked), keep or return
 * each output.
 */
import { InputError } from '../ir/errors.js';
import { formatType, sameType, type TensorType } from '../ir/types.js';
import type { DeviceArray } from '../runtime/device.js';
import { storageSize } from '../compiler/program.js';
import { decodeTensor, describeValue, encodeTensor, type WireTensor } from '../runtime/wire.js';
import { HttpError } from './errors.js';
import type { KilnState } from './context.js';
import { CallProfiler, type ProfileFields } from './profile.js';
import type { CachedExecutable } from './cache.js';
import type { ResidentBuffer } from './state.js';
import type { WorkContext } from './work.js';

export interface CallBody {
  /** An executable id from /compile; or `ir` to compile through the cache. */
  executable?: string;
  ir?: string;
  inputs: unknown[];
  /** `keep[i]`: leave output i on the server and answer with a handle. */
  keep?: boolean[];
  /** `handles[i]`: the client's name for kept output i (so later calls can use it before this returns). */
  handles?: (string | null)[];
  /** Time this run's kernels on the GPU: the reply gets `profile` (or `profile: null` and why not). */
  profile?: boolean;
}

export type OutputReply = WireTensor | { buffer: string; dtype: string; shape: number[] };

const bytesOf = (t: TensorType) => storageSize(t);

async function resolve(state: KilnState, call: CallBody, where: string): Promise<CachedExecutable> {
  if (typeof call.executable === 'string') {
    const e = state.cache.get(call.executable);
    if (!e) throw new HttpError('KILN_ERR_NOT_FOUND', `${where}executable ${describeValue(call.executable)} is not on this server; POST /compile it first`);
    return e;
  }
  if (typeof call.ir === 'string') return (await state.cache.compile(call.ir)).entry;
  throw new HttpError('KILN_ERR_BAD_REQUEST', `${where}a call needs 'executable' (an id from /compile) or 'ir' (the module text)`);
}

/** What one call answers: its outputs, and its kernel times when the call asked for them. */
export interface CallReply extends ProfileFields {
  outputs: OutputReply[];
}

/** Runs one call to completion and returns its reply as it goes back on the wire. */
export async function runCall(state: KilnState, call: CallBody, ctx: WorkContext, where = ''): Promise<CallReply> {
  return runExecutable(state, await resolve(state, call, where), call, ctx, where);
}

/** Arguments of an executable already on the device (a model's weights), by position. */
export type BoundArgs = ReadonlyMap<number, DeviceArray>;

/**
 * Runs `entry` on the call's inputs, which fill the arguments `bound` does not, in order (a
 * model's `infer` sends only those), and returns its reply as it goes back on the wire.
 */
export async function runExecutable(state: KilnState, entry: CachedExecutable, call: CallBody, ctx: WorkContext, where = '', bound: BoundArgs = new Map()): Promise<CallReply> {
  const { device, buffers, limits } = state;
  if (!Array.isArray(call.inputs)) throw new HttpError('KILN_ERR_BAD_REQUEST', `${where}'inputs' must be an array`);
  const open = entry.inputs.map((_, i) => i).filter((i) => !bound.has(i));
  if (call.inputs.length !== open.length) {
    const which = bound.size === 0 ? '' : ` (arguments ${open.join(', ') || 'none'}; the others are bound)`;
    throw new InputError(`${where}${bound.size === 0 ? `executable ${entry.id.slice(0, 12)}` : 'it'} takes ${open.length} inputs${which}, got ${call.inputs.length}`);
  }
  const keep = call.keep ?? [];
  const handles = call.handles ?? [];
  if (!Array.isArray(keep) || !Array.isArray(handles)) throw new HttpError('KILN_ERR_BAD_REQUEST', `${where}'keep' and 'handles' must be arrays`);
  entry.outputs.forEach((t, i) => {
    if (!keep[i]) return;
    const h = handles[i];
    if (h !== undefined && h !== null) buffers.checkHandle(String(h));
    buffers.checkRoom(bytesOf(t));
  });

  const uploaded: DeviceArray[] = [];
  const upload = (v: unknown, k: number): DeviceArray => {
    const want = entry.inputs[open[k]];
    const what = `${where}inputs[${k}]`;
    if (v && typeof v === 'object' && 'buffer' in v) {
      const handle = (v as { buffer: unknown }).buffer;
      if (typeof handle !== 'string') throw new InputError(`${what}: 'buffer' must be a handle string, got ${describeValue(handle)}`);
      const b = buffers.get(handle);
      if (!sameType(b.array.type, want)) {
        throw new InputError(`${what}: buffer '${b.id}' holds ${formatType(b.array.type)}, the executable takes ${formatType(want)}`);
      }
      return b.array;
    }
    const data = (v as { data?: unknown } | null)?.data;
    if (data instanceof Uint8Array && data.byteLength > limits.tensorBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `${what}: ${data.byteLength} bytes passes the tensor limit of ${limits.tensorBytes}`);
    }
    const t = decodeTensor(v, what);
    if (t.dtype !== want.dtype || t.shape.length !== want.shape.length || t.shape.some((d, k) => d !== want.shape[k])) {
      throw new InputError(`${what}: got ${t.dtype}[${t.shape}], the executable takes ${formatType(want)}`);
    }
    const a = device.upload(t);
    uploaded.push(a);
    return a;
  };
  let given: DeviceArray[];
  try {
    given = call.inputs.map(upload);
  } catch (e) {
    // A bad input after good ones: the good ones were uploaded already.
    for (const a of uploaded) device.free(a);
    throw e;
  }
  let next = 0;
  const args = entry.inputs.map((_, i) => bound.get(i) ?? given[next++]);

  // Started after the inputs are checked, so a refused call never turns the device's timer on.
  const profiler = call.profile === true ? CallProfiler.start(device) : undefined;
  let failed = true;
  const start = performance.now();
  let outs: DeviceArray[] = [];
  try {
    outs = device.execute(entry.exe, args, { deadline: Date.now() + limits.executionMs, signal: ctx.signal });
    const replies = await Promise.all(outs.map(async (o, i): Promise<OutputReply> => {
      if (keep[i]) {
        const h = handles[i];
        const b = buffers.put(o, bytesOf(o.type), h === undefined || h === null ? undefined : String(h));
        ctx.kept.push(b.id);
        return { buffer: b.id, dtype: o.type.dtype, shape: [...o.type.shape] };
      }
      return encodeTensor(await device.read(o));
    }));
    await device.sync();
    const ms = performance.now() - start;
    state.cache.recordRun(entry, ms);
    state.metrics.execution(ms);
    failed = false;
    if (!profiler) return { outputs: replies };
    const { fields, profile } = profiler.take(entry.exe.id);
    if (profile) state.cache.recordProfile(entry, profile);
    return { outputs: replies, ...fields };
  } finally {
    // A failed run keeps nothing: the request's WorkQueue.run frees what it put in ctx.kept.
    await profiler?.stop(failed);
    for (const a of uploaded) device.free(a);
    outs.forEach((o, i) => { if (!keep[i]) device.free(o); });
  }
}

/** A tensor to keep on the server, optionally under a handle the client chose. */
export interface UploadBody {
  handle?: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

export const uploadSchema = {
  type: 'object',
  required: ['dtype', 'shape', 'data'],
  properties: { handle: { type: 'string' }, dtype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

/** Checks, uploads and keeps one tensor (`POST /buffers`, and the `uploads` of `/batch`). */
export function uploadBuffer(state: KilnState, body: UploadBody, what: string, ctx?: WorkContext): ResidentBuffer {
  const { device, buffers, limits } = state;
  if (body.data instanceof Uint8Array && body.data.byteLength > limits.tensorBytes) {
    throw new HttpError('KILN_ERR_TOO_LARGE', `${what}: tensor of ${body.data.byteLength} bytes passes the limit of ${limits.tensorBytes}`);
  }
  const t = decodeTensor(body, what);
  if (body.handle !== undefined) buffers.checkHandle(String(body.handle));
  const bytes = bytesOf({ dtype: t.dtype, shape: t.shape });
  buffers.checkRoom(bytes);
  const b = buffers.put(device.upload(t), bytes, body.handle === undefined ? undefined : String(body.handle));
  ctx?.kept.push(b.id);
  return b;
}
