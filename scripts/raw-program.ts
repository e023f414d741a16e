/**
 * @file Runs a compiled kiln Program straight on a GPUDevice, without kiln's executor: buffers,
 * pipelines and bind groups once, then the step list encoded as often as a measurement needs.
 * The GPU probes in scripts/ (kernel-perf, gap-probe, sgmm-bench) share it.
 */
import type { Program, Step } from '../compiler/program.js';
import { createPipeline, type CompiledPipeline } from '../runtime/webgpu/executor.js';

export interface RawProgram {
  bufs: GPUBuffer[];
  pipes: CompiledPipeline[];
  groups: GPUBindGroup[];
  /**
   * Encodes `steps` (default: the program's), each dispatch in a compute pass of its own;
   * `pass(kernel)` may add pass options such as timestamp writes.
   */
  encode(enc: GPUCommandEncoder, steps?: readonly Step[], pass?: (kernel: number) => GPUComputePassDescriptor | undefined): void;
  /** Copies buffer `id` back to the host. */
  read(id: number): Promise<ArrayBuffer>;
  destroy(): void;
}

const round16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

/**
 * Creates the program's buffers (inputs written, constants initialised, every other buffer filled
 * with `fill(bytes)` when given, e.g. NaNs so an element no kernel writes shows), its pipelines
 * and bind groups. Fails with the validation error if Dawn refuses any of it.
 */
export async function loadProgram(device: GPUDevice, p: Program, inputs: readonly ArrayBufferView[], fill?: (bytes: number) => ArrayBufferView): Promise<RawProgram> {
  device.pushErrorScope('validation');
  const bufs = p.buffers.map((b, i) => {
    const buf = device.createBuffer({ size: round16(b.bytes), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const k = p.inputs.indexOf(i);
    const data = k >= 0 ? inputs[k] : b.init ?? fill?.(round16(b.bytes));
    if (data) device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  });
  const uniforms: GPUBuffer[] = [];
  const pipes = p.kernels.map((k) => createPipeline(device, k));
  await Promise.all(pipes.map((x) => x.ready));
  const groups = p.kernels.map((k, ki) => {
    const entries: GPUBindGroupEntry[] = k.bindings.map((b, i) => ({ binding: i, resource: { buffer: bufs[b.buffer] } }));
    if (k.uniforms) {
      const u = device.createBuffer({ size: Math.max(16, k.uniforms.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(u, 0, k.uniforms);
      uniforms.push(u);
      entries.push({ binding: k.bindings.length, resource: { buffer: u } });
    }
    return device.createBindGroup({ layout: pipes[ki].layout, entries });
  });
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);

  const encode: RawProgram['encode'] = (enc, steps = p.steps, pass) => {
    for (const s of steps) {
      switch (s.kind) {
        case 'dispatch': {
          const cp = enc.beginComputePass(pass?.(s.kernel) ?? {});
          cp.setPipeline(pipes[s.kernel].pipeline);
          cp.setBindGroup(0, groups[s.kernel]);
          const w = p.kernels[s.kernel].workgroups;
          cp.dispatchWorkgroups(w[0], w[1], w[2]);
          cp.end();
          break;
        }
        case 'copy': enc.copyBufferToBuffer(bufs[s.src], s.srcOffset ?? 0, bufs[s.dst], s.dstOffset ?? 0, s.bytes); break;
        case 'repeat': for (let i = 0; i < s.count; i++) encode(enc, s.body, pass); break;
        case 'while': case 'branch': throw new Error(`a ${s.kind} step needs kiln's executor (it reads values back)`);
        default: s satisfies never;
      }
    }
  };

  const read = async (id: number) => {
    const size = round16(p.buffers[id].bytes);
    const st = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(bufs[id], 0, st, 0, size);
    device.queue.submit([enc.finish()]);
    await st.mapAsync(GPUMapMode.READ);
    const out = st.getMappedRange().slice(0, p.buffers[id].bytes);
    st.unmap();
    st.destroy();
    return out;
  };

  return {
    bufs, pipes, groups, encode, read,
    destroy: () => { for (const b of [...bufs, ...uniforms]) b.destroy(); },
  };
}
