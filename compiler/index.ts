/**
 * @file The public face of `compiler/`: compile a module to a program of WGSL kernels, and look
 * inside the result (kernel count, planned bytes, the WGSL of every kernel).
 */
import { countDispatches, type Program } from './program.js';
import { plannedBytes } from './plan.js';

export { compile, COMPILER_VERSION, type CompileOptions } from './compile.js';
export { planFusion, KIND, type FusionPlan, type Group, type NodeKind } from './fusion.js';
export { planBuffers, plannedBytes, type VirtualProgram } from './plan.js';
export * from './program.js';

/** What `kiln compile --json` reports: dispatches per run (loops counted once) and planned bytes. */
export interface ProgramSummary {
  kernels: number;
  bytes: number;
  names: string[];
}

export function summarizeProgram(p: Program): ProgramSummary {
  return { kernels: countDispatches(p.steps), bytes: plannedBytes(p), names: p.kernels.map((k) => k.name) };
}

/** Every kernel's WGSL, each under a `// ---- name (bindings) ----` header: what `--emit wgsl` prints. */
export function programWgsl(p: Program): string {
  return p.kernels.map((k) => {
    const binds = k.bindings.map((b, i) => `${i}:buf${b.buffer}${b.access === 'read' ? '' : '(rw)'}`).join(' ');
    return `// ---- ${k.name} [${k.workgroups.join('x')}] ${binds}\n${k.wgsl}`;
  }).join('\n');
}

/** A readable listing of the step program and buffer plan: what `--emit plan` prints. */
export function programPlan(p: Program): string {
  const lines: string[] = [];
  p.buffers.forEach((b, i) => lines.push(`buf${i}: ${b.role} ${b.bytes} bytes${b.type ? ` ${b.type.dtype}[${b.type.shape.join(',')}]` : ''}`));
  const walk = (steps: Program['steps'], ind: string) => {
    for (const s of steps) {
      switch (s.kind) {
        case 'dispatch': lines.push(`${ind}dispatch ${p.kernels[s.kernel].name}`); break;
        case 'copy': lines.push(`${ind}copy buf${s.src} -> buf${s.dst} (${s.bytes} bytes)`); break;
        case 'repeat': lines.push(`${ind}repeat ${s.count}:`); walk(s.body, ind + '  '); break;
        case 'while': lines.push(`${ind}while (cond -> buf${s.pred}):`); walk(s.cond, ind + '  | '); walk(s.body, ind + '  '); break;
        case 'branch': lines.push(`${ind}branch on buf${s.index}:`); s.branches.forEach((b, i) => { lines.push(`${ind}  [${i}]`); walk(b, ind + '    '); }); break;
        default: s satisfies never;
      }
    }
  };
  walk(p.steps, '');
  return lines.join('\n');
}
