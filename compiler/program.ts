/**
 * @file What the compiler hands the runtime: buffers, WGSL kernels and a small step program
 * (dispatches, copies and loops). The runtime creates each pipeline and bind group once per
 * executable and replays the steps on every run.
 */
import { UnsupportedOpError, type Location } from '../ir/errors.js';
import { f32ToF16Bits, type SupportedDType } from '../ir/dtype.js';
import type { TensorType } from '../ir/types.js';

/**
 * A workgroup computes a `bm` x `bn` block of the output, stepping through K by `bk`; each of its
 * (bm / rm) * (bn / rn) threads accumulates an `rm` x `rn` register block. `rm`, `rn` and `bk`
 * are multiples of 4 (vec4 registers and vec4 workgroup-memory rows).
 */
export interface MatmulTile {
  bm: number;
  bn: number;
  bk: number;
  rm: number;
  rn: number;
}

/**
 * A workgroup of `wm` x `wn` subgroups; each computes `tm` x `tn` result matrices. `bk` is the K
 * depth staged in workgroup memory per step (a multiple of the configuration's k and of 8).
 */
export interface SgmmTile {
  wm: number;
  wn: number;
  tm: number;
  tn: number;
  bk: number;
  /** Operands through workgroup memory (true) or `subgroupMatrixLoad` from storage (false). */
  staged: boolean;
}

/** Index into `Program.buffers`. */
export type BufferId = number;

export interface BufferSpec {
  /** Size in bytes (at least 4; WebGPU storage bindings need a multiple of 4). */
  bytes: number;
  role: 'input' | 'output' | 'temp' | 'const';
  /** Initial contents of a `const` buffer (storage layout, see `storageOf`). */
  init?: Uint8Array;
  /** For inputs and outputs, the tensor it holds. */
  type?: TensorType;
}

export interface Binding {
  buffer: BufferId;
  /** `read` binds as `var<storage, read>`, `read_write` as `var<storage, read_write>`. */
  access: 'read' | 'read_write';
}

export interface KernelSpec {
  /** Human name used in errors and timings, e.g. `fused_gelu_3` or `dot_general_1`. */
  name: string;
  wgsl: string;
  /** Binding `i` of `@group(0)` is `bindings[i]`. */
  bindings: Binding[];
  /**
   * Workgroups to dispatch. When shapes are known this is constant; kernels whose extent is
   * uniform-driven still dispatch a fixed count computed at compile time.
   */
  workgroups: [number, number, number];
  /** Contents of the uniform buffer at `@group(0) @binding(bindings.length)`, if the kernel has one. */
  uniforms?: Uint32Array;
  /** Features the WGSL `enable`s (`f16`, `subgroups`). */
  enables?: ('f16' | 'subgroups')[];
  /** Source location of the op the kernel comes from (the root of a fusion), for errors. */
  loc?: Location;
  /** Arithmetic per dispatch (compiler/work.ts), for profiles; absent where not counted. */
  flops?: number;
}

export type Step =
  | { kind: 'dispatch'; kernel: number }
  | { kind: 'copy'; src: BufferId; dst: BufferId; bytes: number; srcOffset?: number; dstOffset?: number }
  /** A loop whose trip count is known at compile time: no readback. */
  | { kind: 'repeat'; count: number; body: Step[] }
  /**
   * A loop whose condition is computed on the GPU: run `cond`, read back the u32 at `pred`, and
   * run `body` while it is non-zero. The runtime checks the run's deadline between iterations.
   */
  | { kind: 'while'; cond: Step[]; pred: BufferId; body: Step[] }
  /** `if`/`case`: read back the i32 at `index` and run the chosen branch (out of range: the last). */
  | { kind: 'branch'; index: BufferId; branches: Step[][] };

export interface Program {
  buffers: BufferSpec[];
  /** Buffers holding the entry function's arguments, in order. */
  inputs: BufferId[];
  /** Buffers holding the results, in order. An output may alias an input (a returned argument). */
  outputs: BufferId[];
  kernels: KernelSpec[];
  steps: Step[];
}

// ---- storage layout -------------------------------------------------------------------------

/**
 * The WGSL element type a dtype is stored as in a storage buffer. i1 takes a whole u32; i64 and
 * ui64 take two u32 words (low, high: the little-endian bytes of the 64-bit value); c64 a
 * `vec2<f32>` (re, im), the host's interleaved layout.
 */
export function storageOf(d: SupportedDType): 'f32' | 'f16' | 'i32' | 'u32' | 'vec2<u32>' | 'vec2<f32>' {
  switch (d) {
    case 'f32': return 'f32';
    case 'c64': return 'vec2<f32>';
    case 'f16': return 'f16';
    // bf16 is held as f32 words (compiler/passes/bf16.ts), on the GPU and at the host boundary.
    case 'bf16': return 'f32';
    // 8- and 16-bit integers take a whole 32-bit word (compiler/passes/smallint.ts).
    case 'i32': case 'i8': case 'i16': return 'i32';
    case 'ui32': case 'i1': case 'ui8': case 'ui16': return 'u32';
    case 'i64': case 'ui64': return 'vec2<u32>';
    default: return d satisfies never;
  }
}

/** Bytes of one element in storage. */
export function storageBytes(d: SupportedDType): number {
  return d === 'f16' ? 2 : d === 'i64' || d === 'ui64' || d === 'c64' ? 8 : 4;
}

/** Bytes a tensor of this type takes in storage, rounded up to a multiple of 4 (at least 4). */
export function storageSize(t: TensorType): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return Math.max(4, Math.ceil((n * storageBytes(t.dtype as SupportedDType)) / 4) * 4);
}

/**
 * Elements in storage layout (see {@link storageOf}): f16 as binary16, i1 as one u32 each, i64/ui64
 * as 8 bytes (bigints in), c64 as (re, im) f32 pairs (interleaved numbers in), row-major.
 * A splat repeats `data[0]`. Constants (compiler) and uploads (runtime) both go through here.
 */
export function encodeStorage(t: TensorType, data: ArrayLike<number> | ArrayLike<bigint>, splat = false): Uint8Array {
  let n = 1;
  for (const d of t.shape) n *= d;
  const out = new Uint8Array(storageSize(t));
  const nums = data as ArrayLike<number>; // except for i64/ui64, below
  const fill = (view: { [i: number]: number; fill(v: number): unknown; set(a: ArrayLike<number>): void }, map?: (x: number) => number) => {
    if (splat) view.fill(map ? map(nums[0]) : nums[0]);
    else if (!map) view.set(nums);
    else for (let i = 0; i < n; i++) view[i] = map(nums[i]);
  };
  const d = t.dtype as SupportedDType;
  if (d === 'i64' || d === 'ui64') {
    // Both as BigInt64Array: the bits are the same, and asIntN keeps a ui64 value's bits.
    const view = new BigInt64Array(out.buffer, 0, n);
    const big = data as ArrayLike<bigint>;
    if (splat) view.fill(BigInt.asIntN(64, big[0]));
    else for (let i = 0; i < n; i++) view[i] = BigInt.asIntN(64, big[i]);
    return out;
  }
  switch (d) {
    case 'f32': fill(new Float32Array(out.buffer, 0, n)); break;
    case 'c64': {
      const view = new Float32Array(out.buffer, 0, 2 * n);
      if (splat) for (let i = 0; i < n; i++) { view[2 * i] = nums[0]; view[2 * i + 1] = nums[1]; }
      else view.set(nums);
      break;
    }
    case 'i32': case 'i8': case 'i16': fill(new Int32Array(out.buffer, 0, n)); break;
    case 'ui32': case 'ui8': case 'ui16': fill(new Uint32Array(out.buffer, 0, n)); break;
    case 'i1': fill(new Uint32Array(out.buffer, 0, n), (x) => (x ? 1 : 0)); break;
    case 'f16': fill(new Uint16Array(out.buffer, 0, n), f32ToF16Bits); break;
    case 'bf16': fill(new Float32Array(out.buffer, 0, n)); break;
    default: d satisfies never;
  }
  return out;
}

/** Number of dispatches one run of the step list makes when every loop runs once. */
export function countDispatches(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) {
    switch (s.kind) {
      case 'dispatch': n++; break;
      case 'copy': break;
      case 'repeat': n += countDispatches(s.body); break;
      case 'while': n += countDispatches(s.cond) + countDispatches(s.body); break;
      case 'branch': n += Math.max(0, ...s.branches.map(countDispatches)); break;
      default: s satisfies never;
    }
  }
  return n;
}

// ---- what the compiler knows of the device ---------------------------------------------------

/** The adapter properties code generation depends on (from the device's limits and features). */
export interface Target {
  /** maxComputeInvocationsPerWorkgroup (and X size) the kernels may use, e.g. 256. */
  maxWorkgroupSize: number;
  /** maxComputeWorkgroupsPerDimension, e.g. 65535. */
  maxWorkgroupsPerDim: number;
  /** maxStorageBuffersPerShaderStage, e.g. 8 or 10. */
  maxStorageBuffers: number;
  /** maxComputeWorkgroupStorageSize in bytes, e.g. 16384. */
  maxWorkgroupStorage: number;
  /** The adapter has `shader-f16`; without it f16 programs are refused. */
  f16: boolean;
  /** The adapter has `subgroups`. */
  subgroups: boolean;
  /**
   * Tensor-core tile shapes the device offers through `chromium-experimental-subgroup-matrix`
   * (absent or empty: none; the f16 matmul then takes the plain tiled kernel).
   */
  subgroupMatrix?: SubgroupMatrixConfig[];
  /** The adapter's largest subgroup size (a subgroup-matrix kernel's workgroup width is a multiple of it). */
  subgroupMaxSize?: number;
  /**
   * The adapter runs shaders on the CPU (lavapipe, SwiftShader): few threads doing much work each
   * beat many small workgroups, whose barriers and scheduling a CPU pays for.
   */
  cpu?: boolean;
  /**
   * Tuned tile of the plain matmul kernel for a problem (the runtime's autotuner answers from its
   * cache, see runtime/webgpu/tuning.ts); undefined, or a tile the limits do not allow: the heuristic.
   */
  matmulTile?: (p: MatmulProblem) => MatmulTile | undefined;
  /** Tuned tile of the subgroup-matrix (tensor-core) kernel; as `matmulTile`. */
  sgmmTile?: (p: MatmulProblem) => SgmmTile | undefined;
}

/** A dot_general as the matmul kernels see it: what a tuned tile choice is keyed by. */
export interface MatmulProblem {
  /** Which kernel asks: the plain tiled one (`matmul.ts`) or the tensor-core one (`matmul-sgmm.ts`). */
  kernel: 'tiled' | 'subgroup-matrix';
  /** Elements of the batch, free (M, N) and contracting (K) dimension groups. */
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Element types of lhs, rhs and result. */
  dtypes: [string, string, string];
  /** Each operand's last (fastest) logical axis: the contraction or its free dimensions. */
  lhs: 'k' | 'm';
  rhs: 'k' | 'n';
}

/** One `GPUSubgroupMatrixConfig`: left M x K times right K x N into an M x N result. */
export interface SubgroupMatrixConfig {
  m: number;
  n: number;
  k: number;
  /** Element type of the left and right matrices, e.g. `f16`. */
  component: string;
  /** Element type of the result (accumulator), e.g. `f32`. */
  result: string;
}

/** A conservative target every WebGPU adapter satisfies (the spec's default limits). */
export const DEFAULT_TARGET: Target = {
  maxWorkgroupSize: 256,
  maxWorkgroupsPerDim: 65535,
  maxStorageBuffers: 8,
  maxWorkgroupStorage: 16384,
  f16: false,
  subgroups: false,
};

/**
 * Workgroup counts that cover `invocations` threads with `workgroupSize`-wide groups, spilling into
 * y when x would pass the per-dimension limit. Kernels recover the flat index with {@link flatIndexWgsl}.
 */
export function dispatchFor(invocations: number, workgroupSize: number, target: Target): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= target.maxWorkgroupsPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / target.maxWorkgroupsPerDim);
  if (y > target.maxWorkgroupsPerDim) throw new UnsupportedOpError(`a dispatch of ${invocations} invocations passes the device's workgroup limits`);
  // x as small as covers the groups in y rows: [65535, 2] for 65536 groups launched 65534 idle ones.
  return [Math.ceil(groups / y), y, 1];
}

/**
 * WGSL expression for the flat invocation index of a dispatch made by {@link dispatchFor}, given
 * `gid` (global_invocation_id) and `nwg` (num_workgroups) builtins in scope.
 */
export function flatIndexWgsl(workgroupSize: number): string {
  return `(gid.x + gid.y * nwg.x * ${workgroupSize}u)`;
}

// ---- how one op is lowered into a program ----------------------------------------------------

/** What an op's lowering may do while the compiler builds a program. */
export interface LowerContext {
  readonly target: Target;
  /** A scratch buffer of `bytes` for this op alone (freed for reuse after the op). */
  temp(bytes: number): BufferId;
  /** Appends a kernel and a dispatch step that runs it. */
  dispatch(kernel: KernelSpec): void;
  /** Appends a buffer-to-buffer copy step. */
  copy(src: BufferId, dst: BufferId, bytes: number, srcOffset?: number, dstOffset?: number): void;
}

/**
 * Lowers one non-fused op: reads `operands` buffers (in the op's operand order, storage layout as
 * `storageOf`), writes `results` buffers. Used for gather, scatter, convolution, sort and friends.
 */
export type OpLowering<K extends import('../ir/ops.js').Op> = (
  o: import('../ir/types.js').Operation<K>,
  operands: readonly BufferId[],
  results: readonly BufferId[],
  ctx: LowerContext,
) => void;
