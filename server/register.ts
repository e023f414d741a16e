/**
 * @file Building a model from `POST /models`: compile its module through the executable cache,
 * read its weights (safetensors bytes) and take over the resident buffers it names, check that each
 * binds an argument of exactly its type, check room against the server's limits and the session's
 * quota, then upload. Everything is checked before anything is allocated, and the allocation and
 * the store's `add` run without an `await` between them, so a refused model leaves nothing behind.
 */
import { InputError } from '../ir/errors.js';
import { formatType, sameType, type TensorType } from '../ir/types.js';
import { storageSize } from '../compiler/program.js';
import type { DeviceArray } from '../runtime/device.js';
import { readWeights } from '../runtime/formats/index.js';
import type { HostTensor } from '../runtime/tensor.js';
import { describeValue } from '../runtime/wire.js';
import type { KilnState } from './context.js';
import { HttpError } from './errors.js';
import type { BoundWeight, Model } from './models.js';

/** One argument bound at registration: to a tensor of the weights, or to a resident buffer. */
export interface BindEntry {
  arg: number;
  tensor?: string;
  buffer?: string;
}

export interface ModelBody {
  name: string;
  /** The module's StableHLO text. */
  ir: string;
  /** A safetensors file's bytes. */
  weights?: Uint8Array;
  /**
   * What binds which argument. Default: the weights' tensors bind the leading arguments in file
   * order. When given, every tensor of the weights must be bound exactly once.
   */
  bind?: BindEntry[];
}

/** What was registered: the model, whether its module was in the cache, and any narrowing done to its weights. */
export interface Registered {
  model: Model;
  cached: boolean;
  notes: string[];
}

type Source = { arg: number; from: { tensor: string }; host: HostTensor } | { arg: number; from: { buffer: string }; array: DeviceArray; bytes: number };

const typeOf = (t: { dtype: string; shape: readonly number[] }) => ({ dtype: t.dtype, shape: [...t.shape] }) as TensorType;

/** Builds and adds the model `body` describes to the request's session. */
export async function registerModel(state: KilnState, body: ModelBody): Promise<Registered> {
  const { session, cache, device, limits } = state;
  const where = `model '${body.name}'`;
  session.models.checkNew(body.name);

  let tensors: [string, HostTensor][] = [];
  let notes: string[] = [];
  if (body.weights !== undefined) {
    if (!(body.weights instanceof Uint8Array)) throw new HttpError('KILN_ERR_BAD_REQUEST', `${where}: 'weights' must be the bytes of a safetensors file (msgpack bin)`);
    try {
      ({ arrays: tensors, notes } = await readWeights(body.weights, 'safetensors'));
    } catch (e) {
      throw new InputError(`${where}: weights: ${(e as Error).message.replace(/^<bytes>: /, '')}`);
    }
  }
  const { entry, cached } = await cache.compile(body.ir, `${body.name}.mlir`);
  const args = entry.inputs;

  const byName = new Map(tensors);
  const binds: BindEntry[] = body.bind ?? tensors.map(([name], arg) => ({ arg, tensor: name }));
  if (body.bind === undefined && tensors.length > args.length) {
    throw new InputError(`${where}: the weights hold ${tensors.length} tensors, the module takes ${args.length} arguments`);
  }
  const usedArgs = new Set<number>();
  const usedTensors = new Set<string>();
  const usedBuffers = new Set<string>();
  const sources: Source[] = binds.map((b, i) => {
    const what = `${where}: bind[${i}]`;
    if (!Number.isInteger(b.arg) || b.arg < 0 || b.arg >= args.length) {
      throw new InputError(`${what}: argument ${describeValue(b.arg)} is not one of the module's ${args.length} (0-${args.length - 1})`);
    }
    if (usedArgs.has(b.arg)) throw new InputError(`${what}: argument ${b.arg} is bound twice`);
    usedArgs.add(b.arg);
    if ((b.tensor === undefined) === (b.buffer === undefined)) throw new InputError(`${what}: give exactly one of 'tensor' (a name in the weights) or 'buffer' (a handle)`);
    const want = args[b.arg];
    const mismatch = (got: TensorType, name: string) =>
      new InputError(`${what}: argument ${b.arg} takes ${formatType(want)}, ${name} is ${formatType(got)}`);
    if (b.tensor !== undefined) {
      const host = byName.get(b.tensor);
      if (!host) throw new InputError(`${what}: the weights have no tensor ${describeValue(b.tensor)} (they have ${[...byName.keys()].slice(0, 16).join(', ') || 'none'})`);
      if (usedTensors.has(b.tensor)) throw new InputError(`${what}: tensor '${b.tensor}' is bound twice`);
      usedTensors.add(b.tensor);
      if (!sameType(typeOf(host), want)) throw mismatch(typeOf(host), `tensor '${b.tensor}'`);
      return { arg: b.arg, from: { tensor: b.tensor }, host };
    }
    const handle = String(b.buffer);
    if (usedBuffers.has(handle)) throw new InputError(`${what}: buffer '${handle}' is bound twice`);
    usedBuffers.add(handle);
    const r = state.buffers.get(handle);
    if (!sameType(r.array.type, want)) throw mismatch(r.array.type, `buffer '${handle}'`);
    return { arg: b.arg, from: { buffer: handle }, array: r.array, bytes: r.bytes };
  });
  const unbound = tensors.map(([name]) => name).filter((n) => !usedTensors.has(n));
  if (unbound.length) throw new InputError(`${where}: the weights' tensor${unbound.length > 1 ? 's' : ''} ${unbound.slice(0, 8).map((n) => `'${n}'`).join(', ')} bind no argument`);

  // Room for what is uploaded (taken buffers are counted already), then allocate: no await from here on.
  session.models.checkNew(body.name);
  const uploads = sources.filter((s): s is Extract<Source, { host: HostTensor }> => 'host' in s);
  for (const s of uploads) {
    const bytes = storageSize(typeOf(s.host));
    if (bytes > limits.tensorBytes) throw new HttpError('KILN_ERR_TOO_LARGE', `${where}: tensor '${s.from.tensor}' of ${bytes} bytes passes the tensor limit of ${limits.tensorBytes}`);
  }
  const uploadBytes = uploads.reduce((n, s) => n + storageSize(typeOf(s.host)), 0);
  for (const u of session.models.usages) u.check(uploadBytes, uploads.length);
  const weights: BoundWeight[] = [];
  try {
    for (const s of sources) {
      if ('host' in s) weights.push({ arg: s.arg, from: s.from, array: device.upload(s.host), bytes: storageSize(typeOf(s.host)) });
    }
  } catch (e) {
    for (const w of weights) device.free(w.array);
    throw e;
  }
  for (const s of sources) {
    if ('array' in s) {
      state.buffers.take(s.from.buffer);
      weights.push({ arg: s.arg, from: s.from, array: s.array, bytes: s.bytes });
    }
  }
  weights.sort((a, b) => a.arg - b.arg);
  const model: Model = {
    name: body.name, executable: entry.id, ir: entry.ir, args, outputs: entry.outputs, weights,
    bytes: weights.reduce((n, w) => n + w.bytes, 0), createdAt: Date.now(), runs: 0, totalMs: 0, pending: 0, deleted: false,
  };
  session.models.add(model);
  return { model, cached, notes };
}
