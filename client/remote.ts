/**
 * @file A kiln server as a {@link Device} (`connect(url, {token})`), over HTTP and msgpack as issue
 * 5 specifies. Arrays stay on the server: every execution's outputs are kept there under handles
 * the client chooses, so later calls can use them before any reply arrives; executions are queued
 * and sent together in one `POST /batch` when a result is needed (`read`) or on `sync`, so a
 * remote training loop costs one request a step. Modules are compiled with `POST /compile` when
 * first compiled here (in the background; the batch waits for it).
 *
 * Wire format used (see the README's protocol section):
 * - uploads: `POST /buffers` msgpack `{dtype, shape, data, handle}` → `{buffer}`;
 * - runs: `POST /batch` msgpack `{calls: [{executable, inputs: [tensor | {buffer}], keep, handles}]}`
 *   where `handles[i]` names the kept output i; reply `{results: [{outputs: [...]}]}`;
 * - reads: `GET /buffers/:handle` → msgpack tensor; frees: `DELETE /buffers/:handle`.
 */
import { decode, encode } from '@msgpack/msgpack';
import { DeviceError, InputError, KilnError, type KilnErrorCode } from '../ir/errors.js';
import { hashModule } from '../ir/hash.js';
import { printModule } from '../ir/print.js';
import { mainFunc, type Module, type TensorType } from '../ir/types.js';
import type { Device, DeviceArray, DeviceInfo, Executable, ExecuteOptions } from '../runtime/device.js';
import type { HostTensor } from '../runtime/tensor.js';
import { decodeTensor, encodeTensor } from '../runtime/wire.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The server's `--token`, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
}

class RemoteExecutable implements Executable {
  readonly kernels = 0;
  readonly bytes = 0;
  /** Resolves to the id the server gave the program (its graph hash). */
  readonly serverId: Promise<string>;
  constructor(readonly id: string, readonly inputs: readonly TensorType[], readonly outputs: readonly TensorType[], serverId: Promise<string>) {
    this.serverId = serverId;
    serverId.catch(() => {});
  }
}

class RemoteArray implements DeviceArray {
  freed = false;
  /** Settles when the buffer exists on the server (or its producing batch failed). */
  ready: Promise<void>;
  constructor(readonly type: TensorType, readonly device: RemoteDevice, readonly handle: string, ready: Promise<void>) {
    this.ready = ready;
    ready.catch(() => {});
  }

  /** True while the execution producing this array is still waiting in `queue`. */
  queuedIn(queue: readonly QueuedCall[]): boolean {
    return queue.some((c) => c.outputs.includes(this));
  }
}

interface QueuedCall {
  exe: RemoteExecutable;
  inputs: RemoteArray[];
  outputs: RemoteArray[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

let clientCounter = 0;

/** A kiln server reached over HTTP. Implements the same interface as the local devices. */
export class RemoteDevice implements Device {
  readonly kind = 'remote' as const;
  private readonly base: string;
  private readonly prefix = `c${process.pid.toString(36)}-${(++clientCounter).toString(36)}-${Date.now().toString(36)}-`;
  private nextHandle = 0;
  private queue: QueuedCall[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly compiled = new Map<string, RemoteExecutable>();
  private remoteInfo: DeviceInfo = { kind: 'remote', backend: 'unknown', adapter: 'unknown' };

  constructor(url: string, private readonly opts: ConnectOptions = {}) {
    this.base = url.replace(/\/+$/, '');
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

  compile(module: Module): Executable {
    const id = hashModule(module);
    let exe = this.compiled.get(id);
    if (!exe) {
      const main = mainFunc(module);
      const serverId = this.request('POST', '/compile', printModule(module), 'text/plain')
        .then((r) => (r as { id: string }).id);
      exe = new RemoteExecutable(id, main.args.map((a) => a.type), main.resultTypes, serverId);
      this.compiled.set(id, exe);
      serverId.catch(() => this.compiled.delete(id));
    }
    return exe;
  }

  upload(t: HostTensor): DeviceArray {
    const handle = this.handle();
    const done = this.request('POST', '/buffers', { ...encodeTensor(t), handle }).then(() => undefined);
    return new RemoteArray({ dtype: t.dtype, shape: [...t.shape] }, this, handle, done);
  }

  execute(exe: Executable, inputs: readonly DeviceArray[], _opts?: ExecuteOptions): DeviceArray[] {
    if (!(exe instanceof RemoteExecutable)) throw new DeviceError('execute: the executable was not compiled on this remote device');
    if (inputs.length !== exe.inputs.length) throw new InputError(`execute: the program takes ${exe.inputs.length} inputs, got ${inputs.length}`);
    const args = inputs.map((a, i) => {
      if (!(a instanceof RemoteArray) || a.device !== this) throw new InputError(`execute: input ${i} is not on this remote device`);
      if (a.freed) throw new InputError(`execute: input ${i} was freed`);
      return a;
    });
    let resolve!: () => void, reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    const outputs = exe.outputs.map((t) => new RemoteArray(t, this, this.handle(), done));
    this.queue.push({ exe, inputs: args, outputs, resolve, reject });
    return outputs;
  }

  async read(a: DeviceArray): Promise<HostTensor> {
    if (!(a instanceof RemoteArray) || a.device !== this) throw new InputError('read: the array is not on this remote device');
    if (a.queuedIn(this.queue)) this.flush();
    await a.ready;
    if (a.freed) throw new InputError('read: the array was freed');
    const body = await this.request('GET', `/buffers/${encodeURIComponent(a.handle)}`);
    return decodeTensor(body, `buffer ${a.handle}`);
  }

  free(a: DeviceArray): void {
    if (!(a instanceof RemoteArray) || a.device !== this || a.freed) return;
    a.freed = true;
    // After the batch that makes it (if any) has run; a failed free only leaks server memory.
    a.ready.then(() => this.request('DELETE', `/buffers/${encodeURIComponent(a.handle)}`), () => {}).catch(() => {});
  }

  async sync(): Promise<void> {
    await this.flush();
  }

  destroy(): void {
    const err = new DeviceError('the remote device was destroyed');
    for (const c of this.queue) c.reject(err);
    this.queue = [];
  }

  /** Sends every queued execution in one `/batch` request (after the batches before it). */
  flush(): Promise<void> {
    const calls = this.queue;
    this.queue = [];
    if (calls.length === 0) return this.flushing;
    const send = async () => {
      try {
        const wire = [];
        for (const c of calls) {
          await Promise.all(c.inputs.filter((a) => !calls.some((o) => o.outputs.includes(a))).map((a) => a.ready));
          wire.push({
            executable: await c.exe.serverId,
            inputs: c.inputs.map((a) => ({ buffer: a.handle })),
            keep: c.outputs.map(() => true),
            handles: c.outputs.map((o) => o.handle),
          });
        }
        await this.request('POST', '/batch', { calls: wire });
        for (const c of calls) c.resolve();
      } catch (e) {
        for (const c of calls) c.reject(e);
      }
    };
    this.flushing = this.flushing.then(send);
    return this.flushing;
  }

  private handle(): string {
    return `${this.prefix}${(this.nextHandle++).toString(36)}`;
  }

  private async request(method: string, path: string, body?: unknown, contentType = 'application/msgpack'): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/msgpack, application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : encode(body);
    }
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
 * Nothing is sent until the first computation.
 */
export function connect(url: string, opts: ConnectOptions = {}): RemoteDevice {
  return new RemoteDevice(url, opts);
}
