/**
 * @file `WebGPUDevice`: the Device interface on Dawn. Executables are cached by graph hash plus
 * adapter plus compiler version (compiling an equal module again returns the same executable, with
 * its pipelines and bind groups), pipelines by WGSL text. Runs are queued on a promise chain, so
 * `execute` returns at once and errors surface from `read`. The command buffers of runs made back
 * to back are submitted together (at the end of the task, every 256 runs, or before anything else
 * reaches the queue), and a batch Dawn rejects fails the reads of its arrays.
 */
import { isSupportedDType, unsupportedDTypeReason } from '../../ir/dtype.js';
import { DeviceError, InputError, KilnError, UnsupportedOpError } from '../../ir/errors.js';
import { hashModule } from '../../ir/hash.js';
import { formatType, mainFunc, sameShape, type Module, type TensorType } from '../../ir/types.js';
import { compile, COMPILER_VERSION } from '../../compiler/compile.js';
import type { KernelSpec, MatmulProblem, Program, Target } from '../../compiler/program.js';
import { programFromText, programToText } from '../../compiler/artifact.js';
import { storageSize } from '../../compiler/program.js';
import type { ArtifactStore, CompileCounts, Device, DeviceArray, DeviceInfo, Executable, ExecuteOptions, RunProfile } from '../device.js';
import type { HostTensor } from '../tensor.js';
import { acquireDevice, type Acquired, type AdapterOptions } from './adapter.js';
import { BufferPool, STAGING_USAGE, STORAGE_USAGE, fromStorage, toStorage } from './buffers.js';
import { GpuExecutable, createPipeline, type CompiledPipeline, type GpuContext, type GpuStats } from './executor.js';
import { TileTuner, timeProgram, type TuneMode, type TuneResult } from './tuning.js';

class WebGPUArray implements DeviceArray {
  buffer: GPUBuffer | undefined;
  error: unknown;
  freed = false;
  /** Settles (never rejects) when the run producing this array has finished encoding. */
  done: Promise<void>;
  /** The number of the submit that carried the run producing this array (-1: an upload). */
  batch = -1;
  /** Reads in flight; a free waits for them before the buffer is reused. */
  readonly reads = new Set<Promise<unknown>>();
  constructor(readonly type: TensorType, readonly device: WebGPUDevice, done: Promise<void>) {
    this.done = done;
  }
}

/** What `useArtifacts` stores for a compiled program: its key, the tiles it was built with, the program. */
interface StoredArtifact {
  key: string;
  tiles: { problem: MatmulProblem; tile: unknown }[];
  program: string;
}

export interface WebGPUDeviceOptions extends AdapterOptions {
  /**
   * Matmul tile tuning (runtime/webgpu/tuning.ts): `read` uses the tiles cached for this adapter,
   * `tune` also times candidates for shapes the cache lacks when a module is compiled, `off`
   * keeps the static heuristic. Default: `KILN_TUNE` (unset: `read`).
   */
  tune?: TuneMode;
  /** Folder of the tuning cache (default `KILN_CACHE_DIR`, else `~/.cache/kiln`); null: memory only. */
  cacheDir?: string | null;
}

/** Runs queued for one submit at most (a bound on the command buffers a burst of calls holds back). */
const MAX_QUEUED = 256;

export class WebGPUDevice implements Device {
  readonly kind = 'webgpu' as const;
  readonly target: Target;
  readonly stats: GpuStats = { compiles: 0, pipelines: 0, bindGroups: 0, submits: 0, readbacks: 0, dispatches: 0, buffers: 0 };
  private gpu: GPU | undefined;
  private readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly executables = new Map<string, GpuExecutable>();
  private readonly pipelines = new Map<string, CompiledPipeline>();
  /** Executables built on each pipeline (by WGSL text), so a release frees the ones no other uses. */
  private readonly pipelineUsers = new Map<string, number>();
  /** Compiles of each cached executable not yet given back with `release`. */
  private readonly compiles = new Map<GpuExecutable, number>();
  private readonly mine = new WeakSet<GpuExecutable>();
  private profiling = false;
  /** Profiles of finished runs not yet taken, and the read-backs still in flight. */
  private profilesDone: RunProfile[] = [];
  private readonly profilesPending = new Set<Promise<unknown>>();
  private tail: Promise<void> = Promise.resolve();
  /** Command buffers of finished runs not yet submitted, and whether a flush is scheduled. */
  private queued: GPUCommandBuffer[] = [];
  private flushScheduled = false;
  /** Runs queued since the last flush. */
  private queuedRuns = 0;
  /** The encoder and compute pass straight-line runs are encoding into (see GpuContext.pass). */
  private open: { enc: GPUCommandEncoder; pass?: GPUComputePassEncoder; pipeline?: GPUComputePipeline; group?: GPUBindGroup } | undefined;
  /** The number of the next submit; the submits Dawn rejected (by number), and when all submitted so far are checked. */
  private batch = 0;
  private readonly failed = new Map<number, string>();
  private checked: Promise<void> = Promise.resolve();
  private destroyed = false;
  private lost: string | undefined;
  private readonly infoValue: DeviceInfo;
  private readonly adapterKey: string;
  /** Tuned matmul tiles of this adapter. */
  readonly tuner: TileTuner;
  private artifacts: ArtifactStore | undefined;
  private readonly counts: CompileCounts = { compiled: 0, loaded: 0 };
  /** Executables rebuilt with tuned tiles after `compile` scheduled a tuning; runs go to the rebuilt one. */
  private readonly retuned = new WeakMap<GpuExecutable, GpuExecutable>();

  constructor(a: Acquired, opts: WebGPUDeviceOptions = {}) {
    this.gpu = a.gpu;
    this.device = a.device;
    this.target = a.target;
    this.infoValue = a.info;
    this.adapterKey = a.key;
    // A buffer the pool destroys may be used by queued command buffers: they are submitted first.
    this.pool = new BufferPool(a.device, this.stats, () => this.flush());
    this.tuner = new TileTuner(a.key, { mode: opts.tune, cacheDir: opts.cacheDir });
    void a.device.lost.then((l) => { if (!this.destroyed) this.lost = `${l.reason}: ${l.message}`; });
  }

  info(): DeviceInfo {
    return { ...this.infoValue };
  }

  private live(): void {
    if (this.destroyed) throw new DeviceError('the WebGPU device was destroyed');
    if (this.lost) throw new DeviceError(`the WebGPU device was lost (${this.lost})`);
  }

  private pipeline(k: KernelSpec): CompiledPipeline {
    let p = this.pipelines.get(k.wgsl);
    if (!p) {
      p = createPipeline(this.device, k);
      this.pipelines.set(k.wgsl, p);
      this.stats.pipelines++;
    }
    this.pipelineUsers.set(k.wgsl, (this.pipelineUsers.get(k.wgsl) ?? 0) + 1);
    return p;
  }

  compile(module: Module, graphHash = hashModule(module)): Executable {
    this.live();
    const id = `${graphHash}|${this.adapterKey}|${COMPILER_VERSION}`;
    const hit = this.executables.get(id);
    if (hit) {
      this.compiles.set(hit, (this.compiles.get(hit) ?? 0) + 1);
      return hit;
    }
    const fn = mainFunc(module);
    const check = (t: TensorType, what: string) => {
      if (!isSupportedDType(t.dtype)) throw new UnsupportedOpError(`${what}: ${unsupportedDTypeReason(t.dtype)}`, fn.loc);
    };
    fn.args.forEach((a, i) => check(a.type, `argument ${i} of @${fn.name}`));
    fn.resultTypes.forEach((t, i) => check(t, `result ${i} of @${fn.name}`));
    let program = this.loadArtifact(id);
    let missing: MatmulProblem[] = [];
    if (program) this.counts.loaded++;
    else {
      program = compile(module, this.tuner.target(this.target));
      this.stats.compiles++;
      this.counts.compiled++;
      const asked = this.tuner.takeAsked();
      missing = this.tuner.missing(asked);
      if (!(this.tuner.mode === 'tune' && missing.length > 0)) this.saveArtifact(id, program, asked);
    }
    const exe = new GpuExecutable(id, program, fn.args.map((a) => a.type), [...fn.resultTypes], this.context());
    if (this.tuner.mode === 'tune' && missing.length > 0) {
      // compile() is synchronous and timing is not: the tuning goes first in the run queue, and
      // the executable's runs use the program rebuilt with the tuned tiles.
      this.tail = this.tail.then(async () => {
        try {
          await this.tuner.tune(missing, this.target, this.timer());
          const tuned = new GpuExecutable(id, compile(module, this.tuner.target(this.target)), exe.inputs, exe.outputs, this.context());
          this.tuner.takeAsked();
          await tuned.ready;
          this.retuned.set(exe, tuned);
          // Later compiles of the module get the tuned executable (its kernelSources, its profiles).
          this.mine.add(tuned);
          if (this.executables.get(id) === exe) this.executables.set(id, tuned);
          this.compiles.set(tuned, this.compiles.get(exe) ?? 1);
          exe.destroy();
        } catch (e) {
          process.emitWarning(`kiln: matmul tuning failed, keeping the static tiles: ${(e as Error).message}`, 'KilnTuningWarning');
        }
      });
    }
    // A failed executable is not kept: the next compile tries again (and reports again).
    exe.ready.catch(() => { if (this.executables.get(id) === exe) this.executables.delete(id); });
    this.executables.set(id, exe);
    this.compiles.set(exe, 1);
    this.mine.add(exe);
    return exe;
  }

  useArtifacts(store: ArtifactStore): void {
    this.artifacts = store;
  }

  compileCounts(): CompileCounts {
    return { ...this.counts };
  }

  /**
   * The program stored under `key`, when it is one and was built with the tiles the tuner answers
   * now (a retuned shape class makes it stale); one that is not is rejected (deleted) and rebuilt.
   */
  private loadArtifact(key: string): Program | undefined {
    const text = this.artifacts?.load(key);
    if (text === undefined) return undefined;
    let a: StoredArtifact;
    let program: Program;
    try {
      a = JSON.parse(text) as StoredArtifact;
      program = programFromText(a.program);
    } catch (e) {
      this.artifacts!.reject(key, `is not a compiled program (${(e as Error).message})`);
      return undefined;
    }
    if (a.key !== key) {
      this.artifacts!.reject(key, `holds the program of ${String(a.key).slice(0, 200)}`);
      return undefined;
    }
    const now = (p: MatmulProblem) => JSON.stringify(this.tuner.lookup(p)?.tile ?? null);
    if (!Array.isArray(a.tiles) || a.tiles.some((t) => now(t.problem) !== JSON.stringify(t.tile))) {
      this.artifacts!.reject(key, 'was built with other matmul tiles than the tuning cache holds now');
      return undefined;
    }
    return program;
  }

  private saveArtifact(key: string, program: Program, asked: readonly MatmulProblem[]): void {
    if (!this.artifacts) return;
    const a: StoredArtifact = { key, tiles: asked.map((p) => ({ problem: p, tile: this.tuner.lookup(p)?.tile ?? null })), program: programToText(program) };
    try {
      this.artifacts.save(key, JSON.stringify(a));
    } catch (e) {
      process.emitWarning(`kiln: could not store the compiled program ${key.split('|')[0]}: ${(e as Error).message}`, 'KilnCacheWarning');
    }
  }

  release(exe: Executable): void {
    if (!(exe instanceof GpuExecutable) || !this.mine.has(exe) || this.destroyed) return;
    const left = (this.compiles.get(exe) ?? 1) - 1;
    if (left > 0) { this.compiles.set(exe, left); return; }
    this.compiles.delete(exe);
    if (this.executables.get(exe.id) === exe) this.executables.delete(exe.id);
    // After the runs queued so far (they still use its buffers); later runs fail as destroyed.
    this.tail = this.tail.then(() => {
      for (const e of [exe, this.retuned.get(exe)]) {
        if (!e) continue;
        e.destroy();
        for (const k of e.program.kernels) {
          const n = (this.pipelineUsers.get(k.wgsl) ?? 1) - 1;
          if (n > 0) this.pipelineUsers.set(k.wgsl, n);
          else { this.pipelineUsers.delete(k.wgsl); this.pipelines.delete(k.wgsl); }
        }
      }
    });
  }

  /** What an executable of this device needs from it. */
  private context(): GpuContext {
    return {
      device: this.device,
      pool: this.pool,
      stats: this.stats,
      pipeline: (k) => this.pipeline(k),
      profiling: () => this.profiling,
      profiled: (p) => {
        const q = p.then((r) => { this.profilesDone.push(r); }, () => undefined).finally(() => this.profilesPending.delete(q));
        this.profilesPending.add(q);
      },
      submit: (cb, later) => this.submit(cb, later),
      flush: () => this.flush(),
      dispatch: (pipeline, group, x, y, z) => {
        const o = (this.open ??= { enc: this.device.createCommandEncoder() });
        if (!o.pass) { o.pass = o.enc.beginComputePass(); o.pipeline = undefined; o.group = undefined; }
        if (o.pipeline !== pipeline) { o.pass.setPipeline(pipeline); o.pipeline = pipeline; }
        if (o.group !== group) { o.pass.setBindGroup(0, group); o.group = group; }
        o.pass.dispatchWorkgroups(x, y, z);
      },
      encoder: () => {
        const o = (this.open ??= { enc: this.device.createCommandEncoder() });
        o.pass?.end();
        o.pass = undefined;
        return o.enc;
      },
      encoded: () => this.later(),
    };
  }

  /** Finishes the open encoder (straight-line runs) into the queued command buffers. */
  private close(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    o.pass?.end();
    this.queued.push(o.enc.finish());
  }

  /**
   * Submits `cb`, or with `later` queues it: the runs of many calls made back to back go to the
   * GPU in one `queue.submit`, at the end of the current task (or every `MAX_QUEUED` runs), and
   * before anything else reaches the device's queue (a write, a read, a wait, a destroy).
   */
  private submit(cb: GPUCommandBuffer, later = false): void {
    this.close();
    this.queued.push(cb);
    if (later) this.later();
    else this.flush();
  }

  /** A run was queued: submits once `MAX_QUEUED` are, else schedules a flush at the end of the task. */
  private later(): void {
    if (++this.queuedRuns >= MAX_QUEUED) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => { this.flushScheduled = false; this.flush(); });
    }
  }

  /**
   * Submits the queued command buffers now (see `submit`), in an error scope: when Dawn rejects
   * them, reads of every array a run of this batch produced fail with its message instead of
   * returning what the buffer held.
   */
  private flush(): void {
    this.close();
    this.queuedRuns = 0;
    if (this.queued.length === 0) return;
    const cbs = this.queued;
    this.queued = [];
    if (this.destroyed) return;
    const batch = this.batch++;
    this.device.pushErrorScope('validation');
    this.device.queue.submit(cbs);
    const scope = this.device.popErrorScope().then((e) => {
      if (e) this.failed.set(batch, `the GPU rejected the ${cbs.length} command buffer(s) submitted with this run: ${e.message}`);
    }, () => undefined);
    this.checked = Promise.all([this.checked, scope]).then(() => undefined);
    this.stats.submits++;
  }

  /** Times programs for the tuner, outside the run queue and its profiling. */
  private timer(): (p: import('../../compiler/program.js').Program, inputs: Uint8Array[]) => Promise<number> {
    return (p, inputs) => timeProgram(this.context(), this.canProfile, p, inputs);
  }

  /**
   * Tunes every dot_general of `module` whose shape class the cache lacks (all of them with
   * `force`), in the run queue, and stores the choices; later compiles use them. Resolves with
   * each class's candidates, times and choice (cached classes: `cached: true`, nothing timed).
   */
  tune(module: Module, force = false): Promise<TuneResult[]> {
    this.live();
    const tuner = new TileTuner(this.adapterKey, { mode: 'tune', cacheDir: null });
    compile(module, tuner.target(this.target));
    const problems = tuner.takeAsked();
    const job = this.tail.then(() => this.tuner.tune(problems, this.target, this.timer(), force || this.tuner.mode === 'off'));
    this.tail = job.then(() => undefined, () => undefined);
    return job;
  }

  upload(t: HostTensor): DeviceArray {
    this.live();
    const type = { dtype: t.dtype, shape: [...t.shape] };
    const bytes = toStorage(t);
    const buf = this.pool.acquire(bytes.byteLength, STORAGE_USAGE, 'upload');
    this.flush(); // runs queued earlier may still read this pool buffer's old contents
    this.device.queue.writeBuffer(buf, 0, bytes);
    const a = new WebGPUArray(type, this, Promise.resolve());
    a.buffer = buf;
    return a;
  }

  private own(a: DeviceArray, what: string): WebGPUArray {
    if (!(a instanceof WebGPUArray) || a.device !== this) throw new InputError(`${what} does not live on this WebGPU device`);
    if (a.freed) throw new InputError(`${what} was freed`);
    return a;
  }

  execute(exe: Executable, inputs: readonly DeviceArray[], opts: ExecuteOptions = {}): DeviceArray[] {
    this.live();
    if (!(exe instanceof GpuExecutable) || !this.mine.has(exe)) {
      throw new InputError('the executable was not compiled by this device');
    }
    if (inputs.length !== exe.inputs.length) throw new InputError(`expected ${exe.inputs.length} inputs, got ${inputs.length}`);
    const arrays = inputs.map((a, i) => {
      const w = this.own(a, `input ${i}`);
      const want = exe.inputs[i];
      if (w.type.dtype !== want.dtype || !sameShape(w.type.shape, want.shape)) {
        throw new InputError(`input ${i}: expected ${formatType(want)}, got ${formatType(w.type)}`);
      }
      return w;
    });
    const results: WebGPUArray[] = new Array(exe.outputs.length);
    // One promise per call: the run, queued after the previous one; it never rejects (a failure
    // is stored in the results), so it is both the queue's tail and the results' `done`.
    const run = this.tail.then(() => this.runQueued(exe, arrays, results, opts));
    for (let i = 0; i < results.length; i++) results[i] = new WebGPUArray(exe.outputs[i], this, run);
    this.tail = run;
    return results;
  }

  /** Runs `exe` (its turn in the queue has come) and gives `results` their buffers, or the error. */
  private async runQueued(exe: GpuExecutable, arrays: readonly WebGPUArray[], results: WebGPUArray[], opts: ExecuteOptions): Promise<void> {
    try {
      const bufs: GPUBuffer[] = new Array(arrays.length);
      for (let i = 0; i < arrays.length; i++) {
        const a = arrays[i];
        // An input made by an earlier run is encoded by now (runs are queued in order); one still
        // pending is waited for.
        if (!a.buffer && !a.error && !a.freed) await a.done;
        if (a.error) throw a.error;
        if (!a.buffer) throw new InputError('an input was freed before the run started');
        bufs[i] = a.buffer;
      }
      const out = await (this.retuned.get(exe) ?? exe).run(bufs, opts.deadline, opts.signal);
      // A result freed already is released by free() once this run and the runs queued after
      // it (which may read it) are done.
      // The run's last commands are in the batch still open, or (submitted at once) the one just sent.
      const batch = this.open || this.queued.length ? this.batch : this.batch - 1;
      for (let i = 0; i < results.length; i++) { results[i].buffer = out[i]; results[i].batch = batch; }
    } catch (e) {
      for (const r of results) r.error = e instanceof KilnError ? e : new DeviceError(`run failed: ${(e as Error).message ?? e}`);
    }
  }

  async read(a: DeviceArray): Promise<HostTensor> {
    const w = this.own(a, 'the array');
    const p = this.readInner(w);
    w.reads.add(p);
    try { return await p; } finally { w.reads.delete(p); }
  }

  private async readInner(w: WebGPUArray): Promise<HostTensor> {
    await w.done;
    if (w.error) throw w.error;
    this.live();
    const size = storageSize(w.type);
    const staging = this.pool.acquire(size, STAGING_USAGE, 'read');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(w.buffer!, 0, staging, 0, size);
    this.submit(enc.finish());
    await staging.mapAsync(0x1 /* READ */, 0, size);
    const bytes = staging.getMappedRange(0, size).slice(0);
    staging.unmap();
    this.pool.release(staging);
    await this.checked;
    const failed = this.failed.get(w.batch);
    if (failed) throw new DeviceError(failed);
    return fromStorage(w.type, bytes);
  }

  free(a: DeviceArray): void {
    const w = this.own(a, 'the array');
    w.freed = true;
    // The buffer goes back to the pool once the run producing it, every run queued so far (which
    // may read it) and every read of it have been submitted: GPU work stays in queue order. The
    // queue's tail comes after the producing run (runs are chained on it), so it stands for both.
    const release = () => {
      if (w.buffer && !this.destroyed) this.pool.release(w.buffer);
      w.buffer = undefined;
    };
    if (w.reads.size === 0) void this.tail.then(release, release);
    else void Promise.allSettled([...w.reads, this.tail]).then(release);
  }

  async sync(): Promise<void> {
    await this.tail;
    this.flush();
    if (!this.destroyed) await this.device.queue.onSubmittedWorkDone();
    await Promise.all([...this.profilesPending]);
  }

  /** Whether this device can time kernels (its adapter has `timestamp-query`). */
  get canProfile(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * Per-kernel GPU timing for runs queued from now on (see `Device.profile`): each dispatch is
   * encoded in its own compute pass with timestamps at its begin and end. Returns whether timing
   * is on (false when the adapter has no `timestamp-query`).
   */
  profile(on: boolean): boolean {
    const can = on && this.canProfile;
    // Runs already queued keep the mode they were encoded with: the flag is read when a run starts.
    const set = () => { this.profiling = can; };
    this.tail = this.tail.then(set);
    return can;
  }

  /** Profiles of the runs finished since the last call, oldest first (call `sync()` before). */
  takeProfiles(): RunProfile[] {
    const out = this.profilesDone;
    this.profilesDone = [];
    return out;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const e of this.executables.values()) e.destroy();
    this.executables.clear();
    this.pipelines.clear();
    this.pool.clear();
    this.device.destroy();
    // Dropping the create() object lets Node exit once nothing else is pending.
    this.gpu = undefined;
    if (shared && sharedDevice === this) { shared = undefined; sharedDevice = undefined; }
  }

  /** Whether the create() object is still referenced (false after destroy). */
  get holdsInstance(): boolean {
    return this.gpu !== undefined;
  }
}

/** Opens a WebGPU device (Dawn). Rejects with a DeviceError saying how to get an adapter when there is none. */
export async function createWebGPUDevice(opts: WebGPUDeviceOptions = {}): Promise<WebGPUDevice> {
  return new WebGPUDevice(await acquireDevice(opts), opts);
}

let shared: Promise<WebGPUDevice> | undefined;
let sharedDevice: WebGPUDevice | undefined;

/** One device shared by every caller in the process (opened on first use). */
export function getWebGPUDevice(): Promise<WebGPUDevice> {
  shared ??= createWebGPUDevice().then((d) => { sharedDevice = d; return d; }, (e) => { shared = undefined; throw e; });
  return shared;
}
