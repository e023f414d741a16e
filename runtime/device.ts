/**
 * @file The device interface every backend implements: the reference interpreter, WebGPU through
 * Dawn, and a remote kiln server. Work is queued, not awaited: `execute` returns handles at once and
 * only `read` waits, so a client can chain calls on results it has not received yet.
 */
import { KilnError, TimeoutError } from '../ir/errors.js';
import type { Module, TensorType } from '../ir/types.js';
import type { HostTensor } from './tensor.js';

/** Which backend a device is. */
export type DeviceKind = 'reference' | 'webgpu' | 'remote';

/** What a device says about itself (`kiln serve` and `/health` show it). */
export interface DeviceInfo {
  kind: DeviceKind;
  /** `vulkan`, `metal`, `d3d12`, `opengles`, `cpu` (reference), or the server's backend. */
  backend: string;
  /** The adapter as Dawn describes it (`llvmpipe (LLVM 19.1.7, 256 bits)`), or `reference`. */
  adapter: string;
  features?: string[];
  limits?: Record<string, number>;
}

/** A compiled program on one device. */
export interface Executable {
  /**
   * Identifies the executable: the graph hash of the canonical module (see `ir/hash.ts`), followed
   * on a GPU by the adapter and compiler version it was built for.
   */
  readonly id: string;
  readonly inputs: readonly TensorType[];
  readonly outputs: readonly TensorType[];
  /** Kernel dispatches per execution (0 on the reference device). */
  readonly kernels: number;
  /** Device memory planned for intermediates and outputs, in bytes. */
  readonly bytes: number;
  /** The generated kernels, for inspection (`kiln compile --emit wgsl`, the server's dashboard). */
  readonly kernelSources?: readonly { name: string; wgsl: string }[];
  /** GPU times of the last run made while the device was profiling (see `Device.profile`). */
  readonly lastProfile?: RunProfile;
}

/** GPU time of one kernel of a profiled run. */
export interface KernelTime {
  /** The kernel's name (as in `kernelSources`). */
  name: string;
  /** Dispatches of it in the run (more than one inside loops). */
  dispatches: number;
  /** Their total GPU time, in milliseconds. */
  ms: number;
}

/** GPU times of one run, from timestamp queries written around every dispatch. */
export interface RunProfile {
  /** The executable's id. */
  executable: string;
  /** Time at least one kernel of the run was executing (union of the dispatch intervals), ms. */
  busyMs: number;
  /** From the first dispatch's start to the last one's end, ms (gaps between dispatches included). */
  spanMs: number;
  /** One entry per kernel of the program, in program order. */
  kernels: KernelTime[];
  /** Every timed dispatch: kernel index and its start and end on the GPU's clock, in ns. */
  intervals: { kernel: number; start: number; end: number }[];
}

/** A tensor living on a device. Freed by `Device.free` (or `dispose()` in the client). */
export interface DeviceArray {
  readonly type: TensorType;
  readonly device: Device;
}

/** Per-run options of {@link Device.execute}. */
export interface ExecuteOptions {
  /** Absolute time (ms since the epoch, like `Date.now()`) after which a run fails with KILN_ERR_TIMEOUT. */
  deadline?: number;
  /**
   * Cancels the run: once aborted, a run that has not started is dropped and a running one stops
   * where it checks its deadline (between loop iterations). It fails with `signal.reason` when that
   * is a KilnError, else with a TimeoutError. (A server aborts the runs of clients that went away.)
   */
  signal?: AbortSignal;
}

/** The error a run cancelled through `ExecuteOptions.signal` fails with, or undefined while it is not aborted. */
export function cancellation(signal: AbortSignal | undefined): KilnError | undefined {
  if (!signal?.aborted) return undefined;
  return signal.reason instanceof KilnError ? signal.reason : new TimeoutError('the run was cancelled');
}

/**
 * Where a device keeps what it compiled, so that another process (a restarted server, another
 * server on the same cache directory) loads it instead of compiling again. Keys name the program,
 * the adapter and the compiler version; the store checks its files' integrity (server/artifacts.ts),
 * the device checks that what it loads still fits (its key, the tuned tiles baked into it).
 */
export interface ArtifactStore {
  /** The text saved under `key`, or undefined if there is none or it failed its checksum (then deleted). */
  load(key: string): string | undefined;
  save(key: string, text: string): void;
  /** Deletes what is saved under `key`, with a warning saying why it cannot be used. */
  reject(key: string, why: string): void;
}

/** How a device's executables came to be: compiled from IR, or loaded from its artifact store. */
export interface CompileCounts {
  compiled: number;
  loaded: number;
}

/** A backend that compiles modules and runs them on tensors it holds. */
export interface Device {
  readonly kind: DeviceKind;
  info(): DeviceInfo;
  /**
   * Compiles a verified module. Cached by graph hash plus device and compiler version, so calling
   * it again with an equal module returns the same executable without recompiling. `graphHash` is
   * `hashModule(module)` when the caller has it already (the server does), so that the module is
   * not printed and hashed twice.
   */
  compile(module: Module, graphHash?: string): Executable;
  /** Keeps compiled programs in `store` and looks there before compiling (devices with a compiled form). */
  useArtifacts?(store: ArtifactStore): void;
  /** Programs compiled from IR and loaded from the artifact store since the device opened. */
  compileCounts?(): CompileCounts;
  upload(t: HostTensor): DeviceArray;
  /** Enqueues a run; inputs are checked against `exe.inputs` (dtype and shape) synchronously. */
  execute(exe: Executable, inputs: readonly DeviceArray[], opts?: ExecuteOptions): DeviceArray[];
  /** Waits for the work that produces `a` and copies it to the host. Rejects with the run's error. */
  read(a: DeviceArray): Promise<HostTensor>;
  /**
   * Releases `a`. Safe while queued work still uses it: the memory goes once every run queued so
   * far has read it. `a` cannot be passed to later calls.
   */
  free(a: DeviceArray): void;
  /**
   * Gives back one `compile` of `exe`: once every compile of it is given back, the device drops it
   * from its cache and frees what it holds (GPU buffers, uniforms, bind groups, pipelines no other
   * executable uses) after the runs queued so far. Runs queued later fail. A server calls this when
   * its cache evicts or deletes a program; callers that never call it keep the executable for the
   * device's life, as before.
   */
  release?(exe: Executable): void;
  /** Waits until all queued work is done. */
  sync(): Promise<void>;
  /** Releases every resource; the device is unusable afterwards. */
  destroy(): void;
  /**
   * Turns per-kernel GPU timing on or off for the runs queued after the call; returns whether the
   * device can time (a GPU with `timestamp-query`). Profiled runs encode each dispatch in its own
   * timed pass, so they run slightly slower than unprofiled ones.
   */
  profile?(on: boolean): boolean;
  /** The profiles of runs finished since the last call (oldest first); `sync()` first waits for them. */
  takeProfiles?(): RunProfile[];
}
