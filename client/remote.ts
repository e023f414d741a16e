/**
 * @file A kiln server as a {@link Device} (`connect(url, {token})`), over HTTP and msgpack (see the
 * README's protocol section). Arrays stay on the server under handles this client chooses, so
 * later calls can use results no reply has brought back yet. Nothing is sent until a result is
 * needed: uploads, executions, reads and frees queue up and go out together in one `POST /batch`
 * (`{uploads, calls, fetch, free}`), so a remote training step is one request. Each device works
 * in a session of its own (`POST /sessions`, then `X-Kiln-Session` on every request), so its
 * buffers are invisible to other clients and freed when it is destroyed or the server expires it.
 */
import { decode, encode } from '@msgpack/msgpack';
import { DeviceError, InputError, KilnError, type KilnErrorCode } from '../ir/errors.js';
import { hashModule } from '../ir/hash.js';
import { printModule } from '../ir/print.js';
import { mainFunc, type Module, type TensorType } from '../ir/types.js';
import type { Device, DeviceArray, DeviceInfo, Executable, ExecuteOptions } from '../runtime/device.js';
import type { HostTensor } from '../runtime/tensor.js';
import { decodeTensor, encodeTensor, type WireTensor } from '../runtime/wire.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The server's `--token`, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
  /**
   * Work in a session of this device's own (default true): made by the first request that needs
   * it, ended by {@link RemoteDevice.destroy} or {@link RemoteDevice.close}. `false` uses the
   * token's default session, shared with every client of the token that sends none.
   */
  session?: boolean;
}

class RemoteExecutable implements Executable {
  readonly kernels = 0;
  readonly bytes = 0;
  /** The server knows the program (a call sent its IR); later calls name it by id. */
  known = false;
  constructor(readonly id: string, readonly ir: string, readonly inputs: readonly TensorType[], readonly outputs: readonly TensorType[]) {}
}

class RemoteArray implements DeviceArray {
  freed = false;
  /** Settles when the batch that creates the buffer on the server has been answered. */
  created: Promise<void>;
  constructor(readonly type: TensorType, readonly device: RemoteDevice, readonly handle: string, created: Promise<void>) {
    this.created = created;
    created.catch(() => {});
  }
}

interface Pending<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function pending<T>(): Pending<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** What the next `/batch` will carry. */
interface Outbox {
  uploads: (WireTensor & { handle: string })[];
  calls: { executable?: string; ir?: string; inputs: { buffer: string }[]; keep: boolean[]; handles: string[] }[];
  fetch: Map<string, Pending<HostTensor>>;
  free: string[];
  done: Pending<void>;
}

/** One argument bound when a model is registered: to a tensor of its weights by name, or to an array on this device. */
export interface ModelBinding {
  arg: number;
  tensor?: string;
  /** An array on this remote device; the model takes it over (it is freed here). */
  array?: DeviceArray;
}

/** What the server says of a registered model (`GET /models/:name`). */
export interface RemoteModel {
  name: string;
  executable: string;
  /** The arguments `infer` takes, with their positions in the module. */
  inputs: { arg: number; dtype: string; shape: number[] }[];
  weights: { arg: number; tensor?: string; buffer?: string; dtype: string; shape: number[]; bytes: number }[];
  outputs: { dtype: string; shape: number[] }[];
  bytes: number;
  runs: number;
  latencyMs: { mean: number | null };
  createdAt: number;
}

let clientCounter = 0;

/** A kiln server reached over HTTP. Implements the same interface as the local devices. */
export class RemoteDevice implements Device {
  readonly kind = 'remote' as const;
  /** HTTP requests sent so far (a training step should cost one). */
  requests = 0;
  private readonly base: string;
  private readonly prefix = `c${process.pid.toString(36)}-${(++clientCounter).toString(36)}-${Date.now().toString(36)}-`;
  private nextHandle = 0;
  private outbox: Outbox = RemoteDevice.emptyOutbox();
  private sending: Promise<void> = Promise.resolve();
  private readonly compiled = new Map<string, RemoteExecutable>();
  /**
   * Sent as `X-Kiln-Route` on every request of this device's session (the session's start
   * included), so a balancer that hashes on it (README: several servers behind nginx) keeps the
   * session on the one server that holds its buffers.
   */
  private readonly route = globalThis.crypto.randomUUID();
  private remoteInfo: DeviceInfo = { kind: 'remote', backend: 'unknown', adapter: 'unknown' };
  private destroyed = false;
  /** The session's id, once `POST /sessions` was sent. */
  private sessionId?: Promise<string>;

  constructor(url: string, private readonly opts: ConnectOptions = {}) {
    this.base = url.replace(/\/+$/, '');
  }

  private static emptyOutbox(): Outbox {
    const done = pending<void>();
    done.promise.catch(() => {});
    return { uploads: [], calls: [], fetch: new Map(), free: [], done };
  }

  info(): DeviceInfo {
    return this.remoteInfo;
  }

  /** Asks the server for `/health` and records its device for {@link info}. */
  async health(): Promise<{ status: string; version: string; device: { backend: string; adapter: string } }> {
    const h = (await this.request('GET', '/health')) as { status: string; version: string; device: { backend: string; adapter: string } };
    this.remoteInfo = { kind: 'remote', backend: h.device?.backend ?? 'unknown', adapter: h.device?.adapter ?? 'unknown' };
    return h;
  }

  /** Local work only: the graph hash is the server's executable id, and the IR goes with the first call. */
  compile(module: Module): Executable {
    this.live();
    const id = hashModule(module);
    let exe = this.compiled.get(id);
    if (!exe) {
      const main = mainFunc(module);
      exe = new RemoteExecutable(id, printModule(module), main.args.map((a) => a.type), main.resultTypes);
      this.compiled.set(id, exe);
    }
    return exe;
  }

  upload(t: HostTensor): DeviceArray {
    this.live();
    const handle = this.handle();
    this.outbox.uploads.push({ ...encodeTensor(t), handle });
    return new RemoteArray({ dtype: t.dtype, shape: [...t.shape] }, this, handle, this.outbox.done.promise);
  }

  execute(exe: Executable, inputs: readonly DeviceArray[], _opts?: ExecuteOptions): DeviceArray[] {
    this.live();
    if (!(exe instanceof RemoteExecutable)) throw new DeviceError('execute: the executable was not compiled on this remote device');
    if (inputs.length !== exe.inputs.length) throw new InputError(`execute: the program takes ${exe.inputs.length} inputs, got ${inputs.length}`);
    const args = inputs.map((a, i) => {
      if (!(a instanceof RemoteArray) || a.device !== this) throw new InputError(`execute: input ${i} is not on this remote device`);
      if (a.freed) throw new InputError(`execute: input ${i} was freed`);
      return { buffer: a.handle };
    });
    const outputs = exe.outputs.map((t) => new RemoteArray(t, this, this.handle(), this.outbox.done.promise));
    this.outbox.calls.push({
      ...(exe.known ? { executable: exe.id } : { ir: exe.ir }),
      inputs: args,
      keep: outputs.map(() => true),
      handles: outputs.map((o) => o.handle),
    });
    exe.known = true;
    return outputs;
  }

  read(a: DeviceArray): Promise<HostTensor> {
    if (!(a instanceof RemoteArray) || a.device !== this) return Promise.reject(new InputError('read: the array is not on this remote device'));
    if (a.freed) return Promise.reject(new InputError('read: the array was freed'));
    let p = this.outbox.fetch.get(a.handle);
    if (!p) {
      p = pending<HostTensor>();
      p.promise.catch(() => {});
      this.outbox.fetch.set(a.handle, p);
    }
    void this.flush();
    return p.promise;
  }

  free(a: DeviceArray): void {
    if (!(a instanceof RemoteArray) || a.device !== this || a.freed) return;
    a.freed = true;
    // Goes out with the next batch, after the work that uses it.
    this.outbox.free.push(a.handle);
  }

  async sync(): Promise<void> {
    await this.flush();
  }

  /**
   * This device's session id on the server, starting the session if no request has yet (its
   * buffers and models are visible to no other session). Undefined with `session: false`.
   */
  session(): Promise<string | undefined> {
    if (this.opts.session === false) return Promise.resolve(undefined);
    if (!this.sessionId) {
      this.sessionId = (this.request('POST', '/sessions', undefined, undefined, false) as Promise<{ session: string }>).then((r) => r.session);
      // A failed start is retried by the next request.
      this.sessionId.catch(() => { this.sessionId = undefined; });
    }
    return this.sessionId;
  }

  /**
   * Registers a module (IR text, or what `lower` returns) under `name` in this device's session,
   * with weights that bind some of its arguments: `weights` are a safetensors file's bytes, whose
   * tensors bind the leading arguments in file order unless `bind` says otherwise (by name, or to
   * arrays on this device). `infer` then sends only the remaining inputs.
   */
  async registerModel(name: string, module: string | { text: string }, opts: { weights?: Uint8Array; bind?: ModelBinding[] } = {}): Promise<RemoteModel & { notes: string[] }> {
    this.live();
    const bind = opts.bind?.map((b, i) => {
      if (b.array === undefined) return { arg: b.arg, tensor: b.tensor };
      const a = b.array;
      if (!(a instanceof RemoteArray) || a.device !== this || a.freed) throw new InputError(`registerModel: bind[${i}].array is not a live array on this remote device`);
      return { arg: b.arg, buffer: a.handle };
    });
    // The arrays it binds must exist on the server first.
    await this.flush();
    const reply = (await this.request('POST', '/models', {
      name, ir: typeof module === 'string' ? module : module.text, ...(opts.weights ? { weights: opts.weights } : {}), ...(bind ? { bind } : {}),
    })) as RemoteModel & { notes: string[] };
    // The model owns those buffers now: freeing them here would be a 404 on the server.
    for (const b of opts.bind ?? []) if (b.array instanceof RemoteArray) b.array.freed = true;
    return reply;
  }

  /** Runs a registered model on the inputs its weights do not bind, in argument order. */
  async infer(name: string, inputs: readonly (HostTensor | DeviceArray)[]): Promise<HostTensor[]> {
    this.live();
    const wired = inputs.map((x, i) => {
      if (x instanceof RemoteArray) {
        if (x.device !== this || x.freed) throw new InputError(`infer: inputs[${i}] is not a live array on this remote device`);
        return { buffer: x.handle };
      }
      if ('data' in x) return encodeTensor(x);
      throw new InputError(`infer: inputs[${i}] is an array of another device; pass its host tensor (await a.host())`);
    });
    await this.flush();
    const reply = (await this.request('POST', `/models/${encodeURIComponent(name)}/infer`, { inputs: wired })) as { outputs: unknown[] };
    return reply.outputs.map((o, i) => decodeTensor(o, `${name} output ${i}`));
  }

  /**
   * Runs one function of kiln's numpy, nn or lax namespaces on the server (`POST /ops/:name`):
   * `exec('matmul', a, b)`, `exec('np.sum', x, {axis: 1, keepdims: true})`. The tensors (host
   * tensors, or arrays on this device) bind the function's leading positional parameters; a trailing
   * plain object gives the rest as keyword arguments. A bare name is looked up in numpy, then nn,
   * then lax (`GET /ops` lists them). Returns one tensor, or a list when the function returns several.
   */
  async exec(name: string, ...args: (HostTensor | DeviceArray | Record<string, unknown>)[]): Promise<HostTensor | HostTensor[]> {
    this.live();
    const last = args[args.length - 1];
    const isTensor = (x: unknown) => x instanceof RemoteArray || (typeof x === 'object' && x !== null && 'data' in x && 'dtype' in x && 'shape' in x);
    const kwargs = args.length > 0 && !isTensor(last) && typeof last === 'object' && last !== null && Object.getPrototypeOf(last) === Object.prototype
      ? (args.pop() as Record<string, unknown>) : undefined;
    const wired = args.map((x, i) => {
      if (x instanceof RemoteArray) {
        if (x.device !== this || x.freed) throw new InputError(`exec ${name}: argument ${i} is not a live array on this remote device`);
        return { buffer: x.handle };
      }
      if (isTensor(x)) return encodeTensor(x as HostTensor);
      throw new InputError(`exec ${name}: argument ${i} is neither a host tensor nor an array of this remote device (pass an array of another device as its host tensor: await a.host()); keyword arguments go in one trailing object`);
    });
    await this.flush();
    const reply = (await this.request('POST', `/ops/${encodeURIComponent(name)}`, { inputs: wired, ...(kwargs ? { kwargs } : {}) })) as { outputs: unknown[]; single: boolean };
    const outs = reply.outputs.map((o, i) => decodeTensor(o, `${name} output ${i}`));
    return reply.single ? outs[0] : outs;
  }

  /** The functions {@link exec} runs, with their parameters (`GET /ops`). */
  async ops(): Promise<{ name: string; namespace: string; arity: number; params: { name: string; accepts: string; required: boolean; keywordOnly: boolean; array: boolean; default?: unknown }[] }[]> {
    return (await this.request('GET', '/ops')) as never;
  }

  /** This session's models. */
  async models(): Promise<RemoteModel[]> {
    return (await this.request('GET', '/models')) as RemoteModel[];
  }

  /** Deletes a model, freeing its weights on the server. */
  async deleteModel(name: string): Promise<void> {
    await this.request('DELETE', `/models/${encodeURIComponent(name)}`);
  }

  /** Sends what is queued, then ends the session, freeing everything it holds on the server. */
  async close(): Promise<void> {
    await this.flush();
    const id = this.sessionId;
    this.sessionId = undefined;
    this.destroy();
    if (id) await this.request('DELETE', `/sessions/${await id}`, undefined, undefined, false);
  }

  destroy(): void {
    if (!this.destroyed && this.sessionId) {
      // Frees the server's side without waiting; a server that is gone expires it by itself.
      const id = this.sessionId;
      this.sessionId = undefined;
      void id.then((s) => this.request('DELETE', `/sessions/${s}`, undefined, undefined, false)).catch(() => {});
    }
    this.destroyed = true;
    const err = new DeviceError('the remote device was destroyed');
    for (const f of this.outbox.fetch.values()) f.reject(err);
    this.outbox.done.reject(err);
    this.outbox = RemoteDevice.emptyOutbox();
  }

  /** Sends everything queued as one `/batch` (after the batches before it have been answered). */
  flush(): Promise<void> {
    const box = this.outbox;
    if (!box.uploads.length && !box.calls.length && !box.fetch.size && !box.free.length) return this.sending;
    this.outbox = RemoteDevice.emptyOutbox();
    const send = async () => {
      try {
        const reply = (await this.request('POST', '/batch', {
          uploads: box.uploads, calls: box.calls, fetch: [...box.fetch.keys()], free: box.free,
        }, undefined, undefined, this.graphOf(box.calls))) as { fetched?: Record<string, unknown> };
        for (const [h, p] of box.fetch) p.resolve(decodeTensor(reply.fetched?.[h], `buffer ${h}`));
        box.done.resolve();
      } catch (e) {
        // The server may not know a program whose first call failed: send its IR again next time.
        for (const c of box.calls) if (c.ir !== undefined) this.forget(c.ir);
        for (const p of box.fetch.values()) p.reject(e);
        box.done.reject(e);
      }
    };
    this.sending = this.sending.then(send);
    return this.sending;
  }

  /** The graph hash of a batch's first call (`X-Kiln-Graph`: a balancer routes sessionless work by program). */
  private graphOf(calls: readonly { executable?: string; ir?: string }[]): string | undefined {
    const c = calls[0];
    if (!c) return undefined;
    if (c.executable !== undefined) return c.executable;
    for (const exe of this.compiled.values()) if (exe.ir === c.ir) return exe.id;
    return undefined;
  }

  private forget(ir: string): void {
    for (const exe of this.compiled.values()) if (exe.ir === ir) exe.known = false;
  }

  private live(): void {
    if (this.destroyed) throw new DeviceError('the remote device was destroyed');
  }

  private handle(): string {
    return `${this.prefix}${(this.nextHandle++).toString(36)}`;
  }

  private async request(method: string, path: string, body?: unknown, contentType = 'application/msgpack', inSession = path !== '/health', graph?: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/msgpack, application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (this.opts.session !== false) headers['x-kiln-route'] = this.route;
    if (graph !== undefined) headers['x-kiln-graph'] = graph;
    const session = inSession ? await this.session() : undefined;
    if (session !== undefined) headers['x-kiln-session'] = session;
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : encode(body);
    }
    this.requests++;
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: payload, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 120_000) });
    } catch (e) {
      throw new DeviceError(`${method} ${this.base}${path}: ${(e as Error).message}`);
    }
    const type = res.headers.get('content-type') ?? '';
    const bytes = new Uint8Array(await res.arrayBuffer());
    const parsed: unknown = bytes.length === 0 ? undefined
      : type.includes('msgpack') ? decode(bytes)
        : type.includes('json') ? JSON.parse(new TextDecoder().decode(bytes))
          : new TextDecoder().decode(bytes);
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; line?: number; column?: number } } | undefined)?.error;
      const code = (err?.code ?? 'KILN_ERR_DEVICE') as KilnErrorCode;
      throw new KilnError(code, `${method} ${path}: ${err?.message ?? `HTTP ${res.status}`}`,
        err?.line ? { line: err.line, column: err.column ?? 1 } : undefined);
    }
    return parsed;
  }
}

/**
 * A kiln server as a device: `setDefaultDevice(connect('http://127.0.0.1:5555', { token }))`.
 * Nothing is sent until the first result is needed.
 */
export function connect(url: string, opts: ConnectOptions = {}): RemoteDevice {
  return new RemoteDevice(url, opts);
}
