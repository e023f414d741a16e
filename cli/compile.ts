/**
 * @file `kiln compile`: compile a module for the GPU and show what came out — a JSON summary, the
 * WGSL of every kernel, or the step program with its buffer plan.
 */
import { InputError } from '../ir/errors.js';
import { hashModule } from '../ir/hash.js';
import type { Module } from '../ir/types.js';
import { compile, DEFAULT_TARGET, programPlan, programWgsl, summarizeProgram, type Target } from '../compiler/index.js';
import type { DeviceName } from '../runtime/open.js';

export interface CompileCommandOptions {
  emit?: string;
  json: boolean;
  device?: DeviceName;
}

/** The adapter's target when Dawn finds one (limits and features shape the kernels), else the defaults. */
async function targetFor(device: DeviceName | undefined): Promise<{ target: Target; adapter: string }> {
  if (device === 'reference') return { target: DEFAULT_TARGET, adapter: 'default limits' };
  try {
    const { createWebGPUDevice } = await import('../runtime/webgpu/device.js');
    const d = await createWebGPUDevice();
    const out = { target: d.target, adapter: d.info().adapter };
    d.destroy();
    return out;
  } catch (e) {
    if (device === 'webgpu') throw e;
    return { target: DEFAULT_TARGET, adapter: 'default limits (no adapter found)' };
  }
}

export async function compileCommand(m: Module, opts: CompileCommandOptions): Promise<number> {
  if (opts.emit !== undefined && opts.emit !== 'wgsl' && opts.emit !== 'plan') {
    throw new InputError(`--emit ${opts.emit}: expected wgsl or plan`);
  }
  const { target, adapter } = await targetFor(opts.device);
  const program = compile(m, target);
  const summary = summarizeProgram(program);
  const hash = hashModule(m);
  if (opts.json) {
    const out: Record<string, unknown> = { hash, kernels: summary.kernels, bytes: summary.bytes, names: summary.names, adapter };
    if (opts.emit === 'wgsl') out.wgsl = program.kernels.map((k) => ({ name: k.name, wgsl: k.wgsl }));
    if (opts.emit === 'plan') out.plan = programPlan(program);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else if (opts.emit === 'wgsl') {
    process.stdout.write(programWgsl(program));
  } else if (opts.emit === 'plan') {
    process.stdout.write(programPlan(program) + '\n');
  } else {
    process.stdout.write(`${hash}\n${summary.kernels} kernel dispatches, ${summary.bytes} bytes planned (${adapter})\n${summary.names.map((n) => `  ${n}`).join('\n')}\n`);
  }
  return 0;
}
