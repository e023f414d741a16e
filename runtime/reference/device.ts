/**
 * @file The `reference` device: the interpreter behind the {@link Device} interface. Runs are
 * queued on an internal promise chain, so `execute` returns handles at once (like a GPU queue)
 * and a run's error surfaces from `read` of its results, never as an unhandled rejection.
 */
import { BatchNorm } from '../../ir/ops.js';
import { lowerBf16 } from '../../compiler/passes/bf16.js';
import { lowerSmallInts } from '../../compiler/passes/smallint.js';
import { expandOps } from '../../compiler/passes/expand.js';
import { byteSize, isSupportedDType, lanes, SUPPORTED_DTYPES, unsupportedDTypeReason, type SupportedDType } from '../../ir/dtype.js';
import { DeviceError, InputError, UnsupportedOpError } from '../../ir/errors.js';
import { hashModule } from '../../ir/hash.js';
import { formatType, numElements, sameShape, walkOps, type Module, type TensorType } from '../../ir/types.js';
import type { Device, DeviceArray, DeviceInfo, Executable, ExecuteOptions } from '../device.js';
import { fromComputed, toComputed, type HostTensor } from '../tensor.js';
import { printModule } from '../../ir/print.js';
import { entryFunc, interpret } from './interpreter.js';
import { ReferenceIsolate } from './isolate.js';

class ReferenceExecutable implements Executable {
  readonly kernels = 0;
  /** The canonical text an isolated device sends its worker (printed on the first such run). */
  text?: string;
  constructor(
    readonly id: string,
    readonly module: Module,
    readonly inputs: readonly TensorType[],
    readonly outputs: readonly TensorType[],
    readonly bytes: number,
    readonly device: ReferenceDevice,
  ) {}
}

/** Where a device array's contents stand: computed, failed, or still queued. */
type Slot = { state: 'pending' } | { state: 'ready'; value: HostTensor } | { state: 'failed'; error: unknown };

class ReferenceArray implements DeviceArray {
  slot: Slot = { state: 'pending' };
  freed = false;
  /** Settles (never rejects) when the work producing this array has run. */
  done: Promise<void>;
  constructor(readonly type: TensorType, readonly device: ReferenceDevice, done: Promise<void>) {
    this.done = done;
  }
}

function copy(t: HostTensor): HostTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() };
}

export interface ReferenceDeviceOptions {
  /**
   * Run the interpreter on a worker thread (runtime/reference/isolate.ts): the caller's event loop
   * stays free during a run (a server keeps answering /health while an endless loop runs), and a
   * cancelled (`ExecuteOptions.signal`) or overdue run stops at once. Costs a copy of each run's
   * inputs and outputs between threads. `kiln serve` turns it on.
   */
  isolate?: boolean;
}

/** A device that runs programs on the reference interpreter, on the CPU. */
export class ReferenceDevice implements Device {
  readonly kind = 'reference' as const;
  private readonly cache = new Map<string, ReferenceExecutable>();
  private tail: Promise<void> = Promise.resolve();
  private destroyed = false;
  private readonly isolate: ReferenceIsolate | undefined;

  constructor(opts: ReferenceDeviceOptions = {}) {
    if (opts.isolate) this.isolate = new ReferenceIsolate();
  }

  info(): DeviceInfo {
    return { kind: 'reference', backend: 'cpu', adapter: 'reference' };
  }

  /**
   * Checks that the module's entry function and every value it computes have types the
   * interpreter runs (UnsupportedOpError naming the op and its location otherwise), and caches
   * the executable by graph hash.
   */
  compile(module: Module, graphHash = hashModule(module)): Executable {
    this.live();
    const id = graphHash;
    const hit = this.cache.get(id);
    if (hit) return hit;
    // bf16 is emulated in f32 (compiler/passes/bf16.ts) and batch norm expanded, as the compiler does for the GPU.
    // The entry function's types as the caller sees them (bf16 included; held as f32 inside).
    const outer = entryFunc(module);
    module = expandOps(lowerSmallInts(lowerBf16(module)), BatchNorm);
    const f = entryFunc(module);
    for (const fn of module.funcs) {
      for (const a of fn.args) {
        if (!isSupportedDType(a.type.dtype)) throw new UnsupportedOpError(`@${fn.name}: ${unsupportedDTypeReason(a.type.dtype)}`, fn.loc);
      }
      walkOps(fn.body, (o) => {
        for (const v of o.results) {
          if (!isSupportedDType(v.type.dtype)) throw new UnsupportedOpError(`${o.op}: ${unsupportedDTypeReason(v.type.dtype)}`, o.loc);
        }
      });
    }
    const inputs = outer.args.map((a) => a.type);
    const bytes = outer.resultTypes.reduce((n, t) => n + numElements(t.shape) * byteSize(t.dtype), 0);
    const exe = new ReferenceExecutable(id, module, inputs, [...outer.resultTypes], bytes, this);
    this.cache.set(id, exe);
    return exe;
  }

  /** Drops the executable from the cache (the reference device holds nothing else for it). */
  release(exe: Executable): void {
    if (exe instanceof ReferenceExecutable && this.cache.get(exe.id) === exe) this.cache.delete(exe.id);
  }

  upload(t: HostTensor): DeviceArray {
    this.live();
    if (!isSupportedDType(t.dtype)) throw new InputError(`upload: dtype ${String(t.dtype)} is not one of ${SUPPORTED_DTYPES.join(', ')}`);
    if (t.data.length !== numElements(t.shape) * lanes(t.dtype)) {
      throw new InputError(`upload: ${t.data.length} values for shape [${t.shape}]`);
    }
    const a = new ReferenceArray({ dtype: t.dtype, shape: [...t.shape] }, this, Promise.resolve());
    a.slot = { state: 'ready', value: copy(t) };
    return a;
  }

  execute(exe: Executable, inputs: readonly DeviceArray[], opts: ExecuteOptions = {}): DeviceArray[] {
    this.live();
    if (!(exe instanceof ReferenceExecutable) || exe.device !== this) {
      throw new DeviceError(`execute: executable ${exe.id} was not compiled on this reference device`);
    }
    if (inputs.length !== exe.inputs.length) {
      throw new InputError(`execute: the program takes ${exe.inputs.length} inputs, got ${inputs.length}`);
    }
    const args = inputs.map((a, i) => {
      const want = exe.inputs[i];
      if (!(a instanceof ReferenceArray) || a.device !== this) throw new InputError(`execute: input ${i} is not on this device`);
      if (a.freed) throw new InputError(`execute: input ${i} was freed`);
      if (a.type.dtype !== want.dtype || !sameShape(a.type.shape, want.shape)) {
        throw new InputError(`execute: input ${i} is ${formatType(a.type)}, the program takes ${formatType(want)}`);
      }
      return a;
    });
    const run = this.tail.then(() => {
      const values = args.map((a) => {
        if (a.slot.state === 'failed') throw a.slot.error;
        if (a.slot.state !== 'ready') throw new DeviceError('execute: an input was freed before the run that needs it');
        // bf16 values are f32 values inside the lowered module (compiler/passes/bf16.ts), and
        // 8/16-bit integers i32/ui32 ones (compiler/passes/smallint.ts).
        return toComputed(a.slot.value);
      });
      const relabel = (ts: HostTensor[]) => ts.map((t, i) => fromComputed(t, exe.outputs[i].dtype as SupportedDType));
      if (!this.isolate) return relabel(interpret(exe.module, values, opts));
      exe.text ??= printModule(exe.module);
      return this.isolate.run(exe.id, exe.text, values, opts).then(relabel);
    });
    // Fills the results' slots; never rejects, so the chain goes on after a failed run.
    const settled: Promise<void> = run.then(
      // A result freed already still feeds the runs queued after it; free() drops it after them.
      (values) => outs.forEach((o, i) => { o.slot = { state: 'ready', value: values[i] }; }),
      (error: unknown) => outs.forEach((o) => { o.slot = { state: 'failed', error }; }),
    );
    this.tail = settled;
    const outs: ReferenceArray[] = exe.outputs.map((t) => new ReferenceArray(t, this, settled));
    return outs;
  }

  async read(a: DeviceArray): Promise<HostTensor> {
    this.live();
    if (!(a instanceof ReferenceArray) || a.device !== this) throw new InputError('read: the array is not on this device');
    await a.done;
    if (a.freed) throw new InputError('read: the array was freed');
    if (a.slot.state === 'failed') throw a.slot.error;
    if (a.slot.state !== 'ready') throw new DeviceError('read: the array has no value');
    return copy(a.slot.value);
  }

  free(a: DeviceArray): void {
    if (!(a instanceof ReferenceArray) || a.device !== this) return;
    a.freed = true;
    // Runs queued before the free may still read the value: drop it once they have run.
    void this.tail.then(() => { if (a.slot.state === 'ready') a.slot = { state: 'pending' }; });
  }

  async sync(): Promise<void> {
    await this.tail;
  }

  destroy(): void {
    this.destroyed = true;
    this.cache.clear();
    this.isolate?.terminate();
  }

  private live(): void {
    if (this.destroyed) throw new DeviceError('the reference device was destroyed');
  }
}
