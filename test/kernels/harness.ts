/**
 * @file A tiny runner for one op lowering, apart from the WebGPU runtime: a `LowerContext` that
 * records buffers, kernels and steps, and a replay of them on a Dawn device (npm `webgpu`), with
 * inputs written in `storageOf` layout and results read back as host tensors. Result and scratch
 * buffers start filled with 0xff bytes so that a kernel that forgets an element is caught.
 */
import { create, globals } from 'webgpu';
import { f16BitsToF32, type SupportedDType } from '../../ir/dtype.js';
import type { Operation, TensorType } from '../../ir/types.js';
import { numElements } from '../../ir/types.js';
import { indexedLowerings, type IndexedOp } from '../../compiler/kernels/index.js';
import type { BufferId, KernelSpec, LowerContext, OpLowering, Step, Target } from '../../compiler/program.js';
import { DEFAULT_TARGET, encodeStorage, storageSize } from '../../compiler/program.js';
import type { HostTensor } from '../../runtime/tensor.js';

let devicePromise: Promise<GPUDevice> | undefined;
// dawn.node lives only while the object `create` returns is referenced: keep it for the process.
let gpu: GPU | undefined;

/**
 * The shared test device. A missing adapter throws, so GPU tests fail instead of skipping (CI
 * installs lavapipe; locally `npm run setup:gpu`).
 */
export function gpuDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    Object.assign(globalThis, globals);
    gpu ??= create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter found: GPU tests need one (npm run setup:gpu installs Mesa lavapipe)');
    const f16 = adapter.features.has('shader-f16');
    return adapter.requestDevice({
      requiredFeatures: f16 ? ['shader-f16'] : [],
      requiredLimits: { maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
    });
  })();
  return devicePromise;
}

/** What one lowering produced and computed. */
export interface LoweredRun {
  outputs: HostTensor[];
  kernels: KernelSpec[];
  steps: Step[];
}

function decode(t: TensorType, bytes: ArrayBuffer): HostTensor {
  const dtype = t.dtype as SupportedDType;
  const n = numElements(t.shape);
  const shape = [...t.shape];
  switch (dtype) {
    case 'f32': case 'bf16': return { dtype, shape, data: new Float32Array(bytes, 0, n).slice() };
    case 'f16': return { dtype, shape, data: Float32Array.from(new Uint16Array(bytes, 0, n), f16BitsToF32) };
    case 'i32': return { dtype, shape, data: new Int32Array(bytes, 0, n).slice() };
    case 'ui32': return { dtype, shape, data: new Uint32Array(bytes, 0, n).slice() };
    case 'c64': return { dtype, shape, data: new Float32Array(bytes, 0, 2 * n).slice() };
    case 'i1': return { dtype, shape, data: Uint8Array.from(new Uint32Array(bytes, 0, n), (x) => (x ? 1 : 0)) };
    case 'i8': return { dtype, shape, data: Int8Array.from(new Int32Array(bytes, 0, n)) };
    case 'ui8': return { dtype, shape, data: Uint8Array.from(new Uint32Array(bytes, 0, n)) };
    case 'i16': return { dtype, shape, data: Int16Array.from(new Int32Array(bytes, 0, n)) };
    case 'ui16': return { dtype, shape, data: Uint16Array.from(new Uint32Array(bytes, 0, n)) };
    case 'i64': return { dtype, shape, data: new BigInt64Array(bytes, 0, n).slice() };
    case 'ui64': return { dtype, shape, data: new BigUint64Array(bytes, 0, n).slice() };
    default: return dtype satisfies never;
  }
}

/** Lowers `o` with its entry in `indexedLowerings`, runs the steps on the GPU and reads the results. */
export async function runLowering(
  o: Operation, inputs: readonly HostTensor[], target: Partial<Target> = {}, inPlace: [operand: number, result: number][] = [],
): Promise<LoweredRun> {
  const device = await gpuDevice();
  const sizes: number[] = [];
  const kernels: KernelSpec[] = [];
  const steps: Step[] = [];
  const alloc = (bytes: number): BufferId => sizes.push(Math.max(4, Math.ceil(bytes / 4) * 4)) - 1;
  const ins = inputs.map((t) => alloc(storageSize({ dtype: t.dtype, shape: t.shape })));
  // `inPlace` pairs give a result its operand's buffer, as a planner does for in-place updates.
  const outs = o.results.map((r, i) => {
    const alias = inPlace.find(([, res]) => res === i);
    return alias ? ins[alias[0]] : alloc(storageSize(r.type));
  });
  const ctx: LowerContext = {
    target: { ...DEFAULT_TARGET, f16: device.features.has('shader-f16'), ...target },
    temp: alloc,
    dispatch: (k) => { steps.push({ kind: 'dispatch', kernel: kernels.push(k) - 1 }); },
    copy: (src, dst, bytes, srcOffset, dstOffset) => { steps.push({ kind: 'copy', src, dst, bytes, srcOffset, dstOffset }); },
  };
  (indexedLowerings[o.op as IndexedOp] as OpLowering<IndexedOp>)(o as Operation<IndexedOp>, ins, outs, ctx);

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const bufs = sizes.map((size) => device.createBuffer({ size, usage }));
  inputs.forEach((t, i) => device.queue.writeBuffer(bufs[ins[i]], 0, encodeStorage(t, t.data)));
  sizes.forEach((size, i) => { if (!ins.includes(i)) device.queue.writeBuffer(bufs[i], 0, new Uint8Array(size).fill(0xff)); });

  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  for (const s of steps) {
    if (s.kind === 'copy') {
      enc.copyBufferToBuffer(bufs[s.src], s.srcOffset ?? 0, bufs[s.dst], s.dstOffset ?? 0, s.bytes);
      continue;
    }
    if (s.kind !== 'dispatch') throw new Error(`unexpected step ${s.kind}`);
    const k = kernels[s.kernel];
    const module = device.createShaderModule({ code: k.wgsl });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      throw new Error(`${k.name}: ${errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('\n')}\n${k.wgsl}`);
    }
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const entries: GPUBindGroupEntry[] = k.bindings.map((b, i) => ({ binding: i, resource: { buffer: bufs[b.buffer] } }));
    if (k.uniforms) {
      const u = device.createBuffer({ size: Math.max(16, k.uniforms.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(u, 0, k.uniforms);
      entries.push({ binding: k.bindings.length, resource: { buffer: u } });
    }
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(...k.workgroups);
    pass.end();
  }
  const staging = outs.map((b) => device.createBuffer({ size: sizes[b], usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
  outs.forEach((b, i) => enc.copyBufferToBuffer(bufs[b], 0, staging[i], 0, sizes[b]));
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`validation: ${err.message}\n${kernels.map((k) => k.wgsl).join('\n----\n')}`);
  const outputs = await Promise.all(staging.map(async (s, i) => {
    await s.mapAsync(GPUMapMode.READ);
    const t = decode(o.results[i].type, s.getMappedRange().slice(0));
    s.unmap();
    s.destroy();
    return t;
  }));
  bufs.forEach((b) => b.destroy());
  return { outputs, kernels, steps };
}
