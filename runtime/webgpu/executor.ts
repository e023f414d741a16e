/**
 * @file Running a compiled program on a GPUDevice. An executable creates its pipelines (shared
 * device-wide by WGSL text), uniform blocks, constants and planned buffers once; bind groups are
 * created once per set of input and output buffers. A straight-line program's run is encoded into
 * the device's open command encoder and compute pass, shared with the runs before and after it
 * (one submit for many calls); any other run encodes every step into its own command buffer,
 * splitting it only where a `while` or `branch` must read a value back; counted loops (`repeat`)
 * never read back. Every Dawn creation step runs inside an error scope, and a WGSL or validation
 * error becomes a DeviceError naming the kernel, with the compiler's messages at line:col and the
 * WGSL source. While the device profiles, each dispatch gets its own compute pass with a begin
 * and an end timestamp, read back after the submit into a `RunProfile`.
 */
import { DeviceError, TimeoutError, formatLocation } from '../../ir/errors.js';
import type { TensorType } from '../../ir/types.js';
import type { KernelSpec, Program, Step } from '../../compiler/program.js';
import { countDispatches } from '../../compiler/program.js';
import { plannedBytes } from '../../compiler/plan.js';
import { cancellation, type Executable, type KernelTime, type RunProfile } from '../device.js';
import { BufferPool, STAGING_USAGE, STORAGE_USAGE, UNIFORM_USAGE } from './buffers.js';

/** Counters a test (or a profiler) can read. */
export interface GpuStats {
  compiles: number;
  pipelines: number;
  bindGroups: number;
  submits: number;
  readbacks: number;
  dispatches: number;
  /** GPUBuffers the pool created (a pool hit creates none). */
  buffers: number;
}

export interface CompiledPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Settles when Dawn has validated the shader and pipeline; rejects with a DeviceError. */
  ready: Promise<void>;
}

/** A WGSL listing with line numbers, for error messages. */
export function numberedSource(wgsl: string): string {
  const lines = wgsl.split('\n');
  const w = String(lines.length).length;
  return lines.map((l, i) => `${String(i + 1).padStart(w)} | ${l}`).join('\n');
}

/** Creates (in error scopes) the pipeline of one kernel. */
export function createPipeline(device: GPUDevice, k: KernelSpec): CompiledPipeline {
  const where = `kernel ${k.name}${k.loc ? ` (from ${formatLocation(k.loc)})` : ''}`;
  device.pushErrorScope('validation');
  const entries: GPUBindGroupLayoutEntry[] = k.bindings.map((b, i) => ({
    binding: i, visibility: 0x4 /* COMPUTE */, buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' },
  }));
  if (k.uniforms) entries.push({ binding: k.bindings.length, visibility: 0x4, buffer: { type: 'uniform' } });
  const layout = device.createBindGroupLayout({ entries, label: k.name });
  const module = device.createShaderModule({ code: k.wgsl, label: k.name });
  const pipeline = device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout], label: k.name }),
    compute: { module, entryPoint: 'main' },
    label: k.name,
  });
  const scope = device.popErrorScope();
  const ready = Promise.all([scope, module.getCompilationInfo()]).then(([err, info]) => {
    const msgs = info.messages.filter((m) => m.type === 'error')
      .map((m) => `  ${m.lineNum}:${m.linePos}: ${m.message}`);
    if (!err && msgs.length === 0) return;
    const detail = msgs.length ? `WGSL compilation failed:\n${msgs.join('\n')}` : `validation failed: ${err!.message}`;
    throw new DeviceError(`${where}: ${detail}\n--- WGSL of ${k.name} ---\n${numberedSource(k.wgsl)}`, k.loc);
  });
  ready.catch(() => undefined); // observed by runs; never an unhandled rejection
  return { pipeline, layout, ready };
}

/** What an executable needs from its device. */
export interface GpuContext {
  device: GPUDevice;
  pool: BufferPool;
  stats: GpuStats;
  pipeline(k: KernelSpec): CompiledPipeline;
  /** Whether runs encoded now should time their dispatches (the device has `timestamp-query`). */
  profiling(): boolean;
  /** Takes the profile of a run, settling once its timestamps are read back. */
  profiled(p: Promise<RunProfile>): void;
  /**
   * Submits a command buffer. `later`: queued with other runs' and submitted together (one
   * `queue.submit` for many runs) before any other queue operation of the device, at the latest
   * once the current task ends; else now, after those queued.
   */
  submit(cb: GPUCommandBuffer, later?: boolean): void;
  /** Submits the command buffers queued by `submit(cb, true)` now. */
  flush(): void;
  /**
   * Encodes a dispatch into the device's open compute pass (in its open command encoder), shared
   * by the straight-line runs made back to back: one command buffer for many runs. A pipeline or
   * bind group already set in that pass is not set again (each is a call into Dawn).
   */
  dispatch(pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y: number, z: number): void;
  /** The open command encoder, its compute pass ended (for a copy). Never held across an await. */
  encoder(): GPUCommandEncoder;
  /** A run was encoded into the open encoder: it is submitted like `submit(cb, true)`. */
  encoded(): void;
}

/** Timed dispatches per command buffer; a run with more is split into several submits. */
const MAX_TIMED = 512;

type Interval = RunProfile['intervals'][number];

/** Reads back one command buffer's timestamps (begin, end per dispatch) and pairs them with kernels. */
async function readTimestamps(qs: GPUQuerySet, resolve: GPUBuffer, read: GPUBuffer, kernels: number[]): Promise<Interval[]> {
  try {
    await read.mapAsync(0x1 /* READ */);
    const t = new BigInt64Array(read.getMappedRange());
    const out = kernels.map((kernel, i) => ({ kernel, start: Number(t[2 * i]), end: Number(t[2 * i + 1]) }));
    read.unmap();
    return out;
  } finally {
    read.destroy();
    resolve.destroy();
    qs.destroy();
  }
}

/** Length of the union of intervals (ns): time at least one of them was running. */
export function unionLength(xs: readonly { start: number; end: number }[]): number {
  const s = [...xs].sort((a, b) => a.start - b.start);
  let total = 0, end = -Infinity;
  for (const { start, end: e } of s) {
    if (e <= end) continue;
    total += e - Math.max(start, end);
    end = e;
  }
  return total;
}

function makeProfile(executable: string, names: readonly string[], intervals: Interval[]): RunProfile {
  const kernels: KernelTime[] = names.map((name) => ({ name, dispatches: 0, ms: 0 }));
  // A timestamp the GPU did not write (or wrote out of order) is left out rather than guessed.
  const ok = intervals.filter((iv) => iv.start > 0 && iv.end >= iv.start);
  for (const iv of ok) {
    kernels[iv.kernel].dispatches++;
    kernels[iv.kernel].ms += (iv.end - iv.start) / 1e6;
  }
  const first = Math.min(...ok.map((iv) => iv.start)), last = Math.max(...ok.map((iv) => iv.end));
  return { executable, busyMs: unionLength(ok) / 1e6, spanMs: ok.length ? (last - first) / 1e6 : 0, kernels, intervals: ok };
}

/**
 * Bind-group sets one executable keeps: enough for the outputs of a few thousand calls queued
 * at once. Dropped sets are garbage once no queued command buffer uses them.
 */
const MAX_BIND_GROUP_SETS = 4096;

/** A node of the bind-group cache: the sets reached by one more buffer, and the set ending here. */
interface BindGroupNode {
  next: WeakMap<GPUBuffer, BindGroupNode>;
  groups?: GPUBindGroup[];
}
/** Iterations of a counted loop encoded per command buffer (bounds the size of one submit). */
const REPEAT_CHUNK = 256;

export class GpuExecutable implements Executable {
  readonly kernels: number;
  readonly bytes: number;
  private readonly pipelines: CompiledPipeline[];
  private readonly uniforms: (GPUBuffer | undefined)[];
  /** Planned buffers other than inputs (temporaries, constants, outputs), owned by the executable. */
  private readonly owned: (GPUBuffer | undefined)[];
  private bindGroups: BindGroupNode = { next: new WeakMap() };
  private bindGroupSets = 0;
  readonly ready: Promise<void>;
  /** GPU times of the last profiled run (see `WebGPUDevice.profile`). */
  lastProfile: RunProfile | undefined;

  /** The WGSL of each kernel, for `kiln compile --emit wgsl` and the server's dashboard. */
  get kernelSources(): { name: string; wgsl: string }[] {
    return this.program.kernels.map((k) => ({ name: k.name, wgsl: k.wgsl }));
  }
  private destroyed = false;

  constructor(
    readonly id: string,
    readonly program: Program,
    readonly inputs: readonly TensorType[],
    readonly outputs: readonly TensorType[],
    private readonly ctx: GpuContext,
  ) {
    const { device } = ctx;
    this.kernels = countDispatches(program.steps);
    this.bytes = plannedBytes(program);
    this.pipelines = program.kernels.map((k) => ctx.pipeline(k));
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    this.uniforms = program.kernels.map((k) => {
      if (!k.uniforms) return undefined;
      const u = device.createBuffer({ size: Math.max(16, k.uniforms.byteLength), usage: UNIFORM_USAGE, label: `${k.name}.params` });
      device.queue.writeBuffer(u, 0, k.uniforms);
      return u;
    });
    // Inputs are the caller's; outputs are taken from the pool on every run and handed over.
    this.owned = program.buffers.map((b, i) => {
      if (b.role === 'input' || b.role === 'output') return undefined;
      const buf = device.createBuffer({ size: Math.max(16, b.bytes), usage: STORAGE_USAGE, label: `${id.slice(0, 8)}.buf${i}.${b.role}` });
      if (b.init) device.queue.writeBuffer(buf, 0, b.init);
      return buf;
    });
    const oom = device.popErrorScope();
    const val = device.popErrorScope();
    this.ready = Promise.all(this.pipelines.map((p) => p.ready)).then(async () => {
      const [e1, e2] = await Promise.all([oom, val]);
      const e = e1 ?? e2;
      if (e) throw new DeviceError(`allocating the buffers of executable ${id.slice(0, 12)} (${this.bytes} bytes) failed: ${e.message}`);
    });
    this.ready.then(() => { this.isReady = true; }, () => undefined);
    this.straight = program.steps.every((st) => st.kind === 'dispatch' || st.kind === 'copy');
  }

  /** Whether `ready` has resolved (a run then need not wait for it). */
  private isReady = false;
  /** Whether the program is straight-line (dispatches and copies only): runs take `encodeStraight`. */
  private readonly straight: boolean;

  /** The GPU buffer behind planned buffer `i` in a run with these inputs and outputs. */
  private physical(i: number, inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[]): GPUBuffer {
    return this.owned[i] ?? inputs[this.program.inputs.indexOf(i)] ?? outputs[this.program.outputs.indexOf(i)];
  }

  /**
   * Bind groups of every kernel for these input and output buffers, cached by their identity in a
   * trie of WeakMaps (input buffers, then output buffers): no key is built per call, and a buffer
   * the pool destroys takes its entries with it. Calls queued back to back hold many outputs at
   * once (1000 tiny calls: 1000 pool buffers), and the pool hands the same ones back next time, so
   * steady state creates no bind group. Past `MAX_BIND_GROUP_SETS` sets the cache starts over.
   */
  private groups(inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[]): GPUBindGroup[] {
    const ni = inputs.length, n = ni + outputs.length;
    let node = this.bindGroups;
    for (let i = 0; i < n; i++) {
      const b = i < ni ? inputs[i] : outputs[i - ni];
      let next = node.next.get(b);
      if (!next) { next = { next: new WeakMap() }; node.next.set(b, next); }
      node = next;
    }
    if (node.groups) return node.groups;
    const { device } = this.ctx;
    const phys = (i: number) => this.physical(i, inputs, outputs);
    device.pushErrorScope('validation');
    const groups = this.program.kernels.map((k, ki) => {
      const entries: GPUBindGroupEntry[] = k.bindings.map((b, i) => ({ binding: i, resource: { buffer: phys(b.buffer) } }));
      const u = this.uniforms[ki];
      if (u) entries.push({ binding: k.bindings.length, resource: { buffer: u } });
      return device.createBindGroup({ layout: this.pipelines[ki].layout, entries, label: k.name });
    });
    void device.popErrorScope().then((e) => {
      if (e) this.bindGroupError = new DeviceError(`creating bind groups of executable ${this.id.slice(0, 12)} failed: ${e.message}`);
    });
    this.ctx.stats.bindGroups += groups.length;
    if (++this.bindGroupSets > MAX_BIND_GROUP_SETS) {
      this.bindGroups = { next: new WeakMap() };
      this.bindGroupSets = 0;
      return groups;
    }
    node.groups = groups;
    return groups;
  }

  private bindGroupError: DeviceError | undefined;

  /**
   * Runs the program on `inputs` and returns the buffers (fresh from the pool) it wrote the outputs to.
   * Runs must not overlap on one executable: the device serialises them.
   */
  async run(inputs: readonly GPUBuffer[], deadline?: number, signal?: AbortSignal): Promise<GPUBuffer[]> {
    if (this.destroyed) throw new DeviceError(`executable ${this.id.slice(0, 12)} was destroyed`);
    if (!this.isReady) await this.ready;
    const cancelled = cancellation(signal);
    if (cancelled) throw cancelled;
    if (deadline !== undefined && Date.now() > deadline) throw new TimeoutError('the run passed its deadline before it started');
    if (this.straight && !this.ctx.profiling()) return this.encodeStraight(inputs);
    const { device, pool, stats } = this.ctx;
    const outputs = this.program.outputs.map((o) => pool.acquire(this.program.buffers[o].bytes, STORAGE_USAGE, 'output'));
    const groups = this.groups(inputs, outputs);
    const phys = (i: number) => this.physical(i, inputs, outputs);
    let enc = device.createCommandEncoder();
    let pass: GPUComputePassEncoder | undefined;
    const endPass = () => { pass?.end(); pass = undefined; };
    // Profiling: the query set of the current command buffer and the kernel of each timed pass.
    const timed = this.ctx.profiling();
    let querySet: GPUQuerySet | undefined;
    let timedKernels: number[] = [];
    const reads: Promise<Interval[]>[] = [];
    const submit = (last = false) => {
      endPass();
      let pending: (() => Promise<Interval[]>) | undefined;
      if (querySet) {
        const qs = querySet, ks = timedKernels, bytes = 16 * ks.length;
        const resolve = device.createBuffer({ size: bytes, usage: 0x200 /* QUERY_RESOLVE */ | 0x4 /* COPY_SRC */, label: 'kiln timestamps' });
        const read = device.createBuffer({ size: bytes, usage: STAGING_USAGE, label: 'kiln timestamps read' });
        enc.resolveQuerySet(qs, 0, 2 * ks.length, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
        pending = () => readTimestamps(qs, resolve, read, ks);
        querySet = undefined;
        timedKernels = [];
      }
      this.ctx.submit(enc.finish(), last && !timed);
      if (pending) reads.push(pending());
      if (!last) enc = device.createCommandEncoder();
    };
    /** A compute pass of its own for one dispatch, with timestamps at its begin and end. */
    const timedPass = (kernel: number): GPUComputePassEncoder => {
      endPass();
      if (timedKernels.length === MAX_TIMED) submit();
      querySet ??= device.createQuerySet({ type: 'timestamp', count: 2 * MAX_TIMED, label: 'kiln profile' });
      const at = 2 * timedKernels.length;
      timedKernels.push(kernel);
      return enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
    };
    const readU32 = async (buf: number): Promise<number> => {
      const staging = pool.acquire(4, STAGING_USAGE, 'readback');
      endPass();
      enc.copyBufferToBuffer(phys(buf), 0, staging, 0, 4);
      submit();
      stats.readbacks++;
      await staging.mapAsync(0x1 /* READ */, 0, 4);
      const v = new Uint32Array(staging.getMappedRange(0, 4))[0];
      staging.unmap();
      pool.release(staging);
      return v;
    };
    const checkDeadline = () => {
      const stop = cancellation(signal);
      if (stop) throw stop;
      if (deadline !== undefined && Date.now() > deadline) throw new TimeoutError('the run passed its deadline inside a loop');
    };
    const exec = async (steps: readonly Step[]): Promise<void> => {
      for (const s of steps) {
        switch (s.kind) {
          case 'dispatch': {
            const k = this.program.kernels[s.kernel];
            const p = timed ? timedPass(s.kernel) : (pass ??= enc.beginComputePass());
            p.setPipeline(this.pipelines[s.kernel].pipeline);
            p.setBindGroup(0, groups[s.kernel]);
            p.dispatchWorkgroups(k.workgroups[0], k.workgroups[1], k.workgroups[2]);
            if (timed) p.end();
            stats.dispatches++;
            break;
          }
          case 'copy':
            endPass();
            enc.copyBufferToBuffer(phys(s.src), s.srcOffset ?? 0, phys(s.dst), s.dstOffset ?? 0, s.bytes);
            break;
          case 'repeat':
            for (let i = 0; i < s.count; i++) {
              await exec(s.body);
              if ((i + 1) % REPEAT_CHUNK === 0) {
                submit();
                if (deadline !== undefined || signal) { await device.queue.onSubmittedWorkDone(); checkDeadline(); }
              }
            }
            break;
          case 'while':
            for (;;) {
              await exec(s.cond);
              if ((await readU32(s.pred)) === 0) break;
              checkDeadline();
              await exec(s.body);
            }
            break;
          case 'branch': {
            const v = (await readU32(s.index)) | 0;
            const n = s.branches.length;
            await exec(s.branches[v >= 0 && v < n ? v : n - 1]);
            break;
          }
          default: s satisfies never;
        }
      }
    };
    try {
      await exec(this.program.steps);
    } catch (e) {
      for (const o of outputs) pool.release(o);
      throw e;
    }
    submit(true);
    if (timed) {
      const names = this.program.kernels.map((k) => k.name);
      this.ctx.profiled(Promise.all(reads).then((r) => {
        const p = makeProfile(this.id, names, r.flat());
        this.lastProfile = p;
        return p;
      }));
    }
    if (this.bindGroupError) throw this.bindGroupError;
    return outputs;
  }

  /**
   * A run of a straight-line program, not profiled: its steps in order into the device's open
   * encoder and compute pass, shared with the runs before and after it until the device submits
   * them. The common case of a small jitted call, so it makes no closures and no promises.
   */
  private encodeStraight(inputs: readonly GPUBuffer[]): GPUBuffer[] {
    const { ctx } = this;
    const { kernels, buffers, steps } = this.program;
    const outIds = this.program.outputs;
    const outputs: GPUBuffer[] = new Array(outIds.length);
    for (let i = 0; i < outIds.length; i++) outputs[i] = ctx.pool.acquire(buffers[outIds[i]].bytes, STORAGE_USAGE, 'output');
    const groups = this.groups(inputs, outputs);
    for (const s of steps) {
      if (s.kind === 'dispatch') {
        const w = kernels[s.kernel].workgroups;
        ctx.dispatch(this.pipelines[s.kernel].pipeline, groups[s.kernel], w[0], w[1], w[2]);
        ctx.stats.dispatches++;
      } else if (s.kind === 'copy') {
        ctx.encoder().copyBufferToBuffer(this.physical(s.src, inputs, outputs), s.srcOffset ?? 0, this.physical(s.dst, inputs, outputs), s.dstOffset ?? 0, s.bytes);
      }
    }
    ctx.encoded();
    if (this.bindGroupError) throw this.bindGroupError;
    return outputs;
  }

  destroy(): void {
    this.ctx.flush(); // queued runs still use the buffers destroyed here
    this.destroyed = true;
    for (const b of this.owned) b?.destroy();
    for (const u of this.uniforms) u?.destroy();
    this.bindGroups = { next: new WeakMap() };
  }
}
