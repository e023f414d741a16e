/**
 * @file `kiln profile MODULE.mlir [--inputs ...] [--runs N] [--peak-gbps G] [--peak-tflops T]
 * [--json]`: runs a module on the WebGPU device with kiln's profiler on (timestamps around every
 * dispatch, runtime/webgpu/executor.ts) and prints one row per kernel: its GPU time (median over the
 * runs), the bytes it moves by its buffer plan, its FLOP rate, and how close it comes to the
 * roofline of the peaks given (H200 defaults), as the memory or the compute bound that limits it.
 */
import { DeviceError, InputError } from '../ir/errors.js';
import { isSupportedDType, roundBf16 } from '../ir/dtype.js';
import { formatType, mainFunc, numElements, type Module, type TensorType } from '../ir/types.js';
import { formatProfile, profileReport, profileRuns } from '../runtime/profile-report.js';
import { hostTensor, type HostTensor } from '../runtime/tensor.js';

export { formatProfile, H200_PEAKS, profileRows, type KernelRow, type ProfileReport } from '../runtime/profile-report.js';

export interface ProfileOptions {
  /** The entry function's arguments; default: seeded values of its types (see {@link syntheticInputs}). */
  inputs?: HostTensor[];
  /** Profiled runs after one warm-up run (default 10). */
  runs: number;
  peakGbps: number;
  peakTflops: number;
  json: boolean;
}

/**
 * Inputs for a module run without `--inputs`: floats uniform in [-1, 1) from a fixed seed, integers
 * and booleans zero (in range as indices, and a loop bound of zero runs no iteration, which the
 * header does not hide: pass real inputs for data-dependent control flow).
 */
export function syntheticInputs(types: readonly TensorType[]): HostTensor[] {
  let s = 0x2545f491;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  return types.map((t) => {
    const n = numElements(t.shape);
    const dtype = t.dtype;
    if (!isSupportedDType(dtype)) throw new InputError(`kiln profile: argument type ${formatType(t)} is not supported`);
    switch (dtype) {
      case 'f32': case 'f16': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: n }, () => 2 * next() - 1) };
      case 'bf16': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: n }, () => roundBf16(2 * next() - 1)) };
      case 'c64': return { dtype, shape: [...t.shape], data: Float32Array.from({ length: 2 * n }, () => 2 * next() - 1) };
      case 'i32': return { dtype, shape: [...t.shape], data: new Int32Array(n) };
      case 'ui32': return { dtype, shape: [...t.shape], data: new Uint32Array(n) };
      case 'i1': case 'i8': case 'ui8': case 'i16': case 'ui16': return hostTensor(dtype, t.shape);
      case 'i64': return { dtype, shape: [...t.shape], data: new BigInt64Array(n) };
      case 'ui64': return { dtype, shape: [...t.shape], data: new BigUint64Array(n) };
      default: return dtype satisfies never;
    }
  });
}

/** Profiles `m` on the WebGPU device and prints the table (or with `json`, the report). */
export async function profileCommand(m: Module, opts: ProfileOptions): Promise<number> {
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new InputError(`kiln profile: --runs must be a positive integer, got ${opts.runs}`);
  for (const [flag, v] of [['--peak-gbps', opts.peakGbps], ['--peak-tflops', opts.peakTflops]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new InputError(`kiln profile: ${flag} must be a positive number, got ${v}`);
  }
  const { createWebGPUDevice } = await import('../runtime/webgpu/device.js');
  const { GpuExecutable } = await import('../runtime/webgpu/executor.js');
  const d = await createWebGPUDevice();
  try {
    const adapter = d.info().adapter;
    if (!d.profile(true)) {
      throw new DeviceError(`kiln profile: the adapter '${adapter}' has no timestamp-query feature (or it was disabled with KILN_DISABLE_FEATURES), so kernels cannot be timed on the GPU`);
    }
    d.profile(false);
    const exe = d.compile(m);
    if (!(exe instanceof GpuExecutable)) throw new DeviceError('kiln profile: the WebGPU device returned an executable without a program');
    const inputs = opts.inputs ?? syntheticInputs(mainFunc(m).args.map((a) => a.type));
    const args = inputs.map((t) => d.upload(t));
    const profiles = await profileRuns(d, exe, args, opts.runs);
    for (const a of args) d.free(a);
    const report = profileReport(adapter, exe.program, profiles, { gbps: opts.peakGbps, tflops: opts.peakTflops });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatProfile(report)}\n`);
  } finally {
    d.destroy();
  }
  return 0;
}
