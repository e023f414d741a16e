/**
 * @file GPU time of kiln's runs, measured from outside kiln with timestamp queries. kiln is handed
 * a Dawn instance whose adapters add `timestamp-query` to the device kiln requests (when the
 * adapter has it). While a timed sample runs, the device's `createCommandEncoder` and
 * `queue.submit` are wrapped: every compute pass gets a begin and an end timestamp, each command
 * buffer resolves its queries into a buffer, and after submission those are read back. Outside
 * timed samples nothing is wrapped, so wall-time samples run kiln exactly as it is.
 *
 * kiln encodes all of a run's dispatches in one compute pass (see runtime/webgpu/executor.ts), so
 * this times its kernels; buffer copies outside passes (kiln copies each output into a fresh
 * buffer) are not included, just as jax-js's profiler times only its dispatches.
 */
import { busyTime } from './timing.js';

/** Pass timestamps per command encoder; passes beyond this are left untimed (and flagged). */
const MAX_PASSES = 256;

/** What a finished command buffer still has to read back. */
interface Pending {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  read: GPUBuffer;
  count: number;
}

/** Times kiln's compute passes; see the file comment. */
export class PassTimer {
  /** The Dawn instance to give kiln (`createWebGPUDevice({ gpu })`). */
  readonly gpu: GPU;
  private device: GPUDevice | undefined;
  private readonly pending = new WeakMap<GPUCommandBuffer, Pending>();
  private reads: Promise<void>[] = [];
  private intervals: [number, number][] = [];
  private overflow = false;

  constructor(real: GPU) {
    const wrapAdapter = (a: GPUAdapter): GPUAdapter => ({
      get features() { return a.features; },
      get limits() { return a.limits; },
      get info() { return a.info; },
      get isFallbackAdapter() { return (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false; },
      requestDevice: async (desc: GPUDeviceDescriptor = {}) => {
        const features = [...(desc.requiredFeatures ?? [])];
        if (a.features.has('timestamp-query') && !features.includes('timestamp-query')) features.push('timestamp-query');
        const d = await a.requestDevice({ ...desc, requiredFeatures: features });
        this.device = d;
        return d;
      },
    }) as unknown as GPUAdapter;
    this.gpu = {
      requestAdapter: async (opts?: GPURequestAdapterOptions) => {
        const a = await real.requestAdapter(opts);
        return a && wrapAdapter(a);
      },
      getPreferredCanvasFormat: () => real.getPreferredCanvasFormat(),
      get wgslLanguageFeatures() { return real.wgslLanguageFeatures; },
    } as unknown as GPU;
  }

  /** True when the device kiln opened through {@link gpu} can write timestamps. */
  get available(): boolean {
    return this.device?.features.has('timestamp-query') ?? false;
  }

  /**
   * Runs `sample` with every compute pass timed and returns the time the GPU spent in them (ms,
   * union of pass intervals), or null when timestamps are unavailable or some pass went untimed.
   */
  async time(sample: () => Promise<void>): Promise<number | null> {
    const device = this.device;
    if (!device || !this.available) {
      await sample();
      return null;
    }
    this.intervals = [];
    this.reads = [];
    this.overflow = false;
    const queue = device.queue;
    const createEncoder = device.createCommandEncoder;
    const submit = queue.submit;
    const self = this;
    // Own properties shadow the prototype's methods; deleting them restores the originals.
    device.createCommandEncoder = function (desc?: GPUCommandEncoderDescriptor) {
      const enc = createEncoder.call(device, desc);
      self.instrument(device, enc);
      return enc;
    };
    queue.submit = function (buffers: Iterable<GPUCommandBuffer>) {
      const list = [...buffers];
      submit.call(queue, list);
      for (const cb of list) {
        const p = self.pending.get(cb);
        if (p) self.reads.push(self.readBack(p));
      }
    };
    try {
      await sample();
    } finally {
      delete (device as Partial<GPUDevice>).createCommandEncoder;
      delete (queue as Partial<GPUQueue>).submit;
    }
    await Promise.all(this.reads);
    if (this.overflow || this.intervals.length === 0) return null;
    return busyTime(this.intervals.map(([s, e]) => ({ startTime: s / 1e6, duration: (e - s) / 1e6 })));
  }

  private instrument(device: GPUDevice, enc: GPUCommandEncoder): void {
    let querySet: GPUQuerySet | undefined;
    let used = 0;
    const begin = enc.beginComputePass, finish = enc.finish;
    enc.beginComputePass = (desc: GPUComputePassDescriptor = {}) => {
      if (desc.timestampWrites || used + 2 > 2 * MAX_PASSES) {
        this.overflow = true;
        return begin.call(enc, desc);
      }
      querySet ??= device.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES, label: 'bench pass timer' });
      const at = used;
      used += 2;
      return begin.call(enc, { ...desc, timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
    };
    enc.finish = (desc?: GPUCommandBufferDescriptor) => {
      if (!querySet) return finish.call(enc, desc);
      const bytes = used * 8;
      const resolve = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.resolveQuerySet(querySet, 0, used, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
      const cb = finish.call(enc, desc);
      this.pending.set(cb, { querySet, resolve, read, count: used });
      return cb;
    };
  }

  private async readBack(p: Pending): Promise<void> {
    try {
      await p.read.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(p.read.getMappedRange());
      for (let i = 0; i + 1 < p.count; i += 2) {
        const s = Number(t[i]), e = Number(t[i + 1]);
        if (e >= s && s > 0) this.intervals.push([s, e]);
      }
      p.read.unmap();
    } finally {
      p.read.destroy();
      p.resolve.destroy();
      p.querySet.destroy();
    }
  }
}
