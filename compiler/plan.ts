/**
 * @file Buffer planning: the compiler allocates one virtual buffer per value it writes; this pass
 * assigns them to physical buffers by liveness. Steps are numbered in execution order; a buffer
 * lives from its first to its last use. A buffer used inside a loop (or branch) and outside it
 * lives across the whole loop, since the loop body runs again. Temporaries whose lifetimes do
 * not overlap share a physical buffer (the same size first, else the smallest free one that
 * fits); inputs, outputs and constants keep their own buffers.
 */
import type { BufferId, BufferSpec, KernelSpec, Program, Step } from './program.js';

interface Interval { start: number; end: number }

/** Numbers every step and records where each buffer is used; returns the loop/branch ranges. */
function liveness(steps: readonly Step[], kernels: readonly KernelSpec[], n: number): Interval[] {
  const live: Interval[] = Array.from({ length: n }, () => ({ start: Infinity, end: -Infinity }));
  const ranges: Interval[] = [];
  let t = 0;
  const use = (b: BufferId) => {
    const l = live[b];
    l.start = Math.min(l.start, t);
    l.end = Math.max(l.end, t);
  };
  const walk = (ss: readonly Step[]) => {
    for (const s of ss) {
      switch (s.kind) {
        case 'dispatch': for (const bd of kernels[s.kernel].bindings) use(bd.buffer); t++; break;
        case 'copy': use(s.src); use(s.dst); t++; break;
        case 'repeat': { const a = t; walk(s.body); ranges.push({ start: a, end: t }); t++; break; }
        case 'while': {
          const a = t;
          walk(s.cond);
          use(s.pred);
          t++;
          walk(s.body);
          ranges.push({ start: a, end: t });
          t++;
          break;
        }
        case 'branch': {
          const a = t;
          use(s.index);
          t++;
          for (const br of s.branches) walk(br);
          ranges.push({ start: a, end: t });
          t++;
          break;
        }
        default: s satisfies never;
      }
    }
  };
  walk(steps);
  // A buffer live both inside a loop and outside it lives across the whole loop.
  let changed = true;
  while (changed) {
    changed = false;
    for (const l of live) {
      if (l.start > l.end) continue;
      for (const r of ranges) {
        const inside = l.start <= r.end && l.end >= r.start;
        const outside = l.start < r.start || l.end > r.end;
        if (inside && outside && (l.start > r.start || l.end < r.end)) {
          l.start = Math.min(l.start, r.start);
          l.end = Math.max(l.end, r.end);
          changed = true;
        }
      }
    }
  }
  return live;
}

function renumber(steps: readonly Step[], map: (b: BufferId) => BufferId): Step[] {
  return steps.map((s): Step => {
    switch (s.kind) {
      case 'dispatch': return s;
      case 'copy': return { ...s, src: map(s.src), dst: map(s.dst) };
      case 'repeat': return { ...s, body: renumber(s.body, map) };
      case 'while': return { ...s, cond: renumber(s.cond, map), pred: map(s.pred), body: renumber(s.body, map) };
      case 'branch': return { ...s, index: map(s.index), branches: s.branches.map((b) => renumber(b, map)) };
      default: return s satisfies never;
    }
  });
}

/** A program over virtual buffers, as the compiler builds it. */
export interface VirtualProgram {
  buffers: BufferSpec[];
  inputs: BufferId[];
  outputs: BufferId[];
  kernels: KernelSpec[];
  steps: Step[];
}

/** Assigns virtual buffers to physical ones; the result is the runnable program. */
export function planBuffers(vp: VirtualProgram): Program {
  const live = liveness(vp.steps, vp.kernels, vp.buffers.length);
  const phys: BufferSpec[] = [];
  const map = new Array<BufferId>(vp.buffers.length).fill(-1);
  const fixed = (i: number) => {
    map[i] = phys.length;
    phys.push({ ...vp.buffers[i] });
  };
  // Inputs first (in argument order), then outputs, constants, and pooled temporaries.
  for (const i of vp.inputs) if (map[i] < 0) fixed(i);
  for (const i of vp.outputs) if (map[i] < 0) fixed(i);
  vp.buffers.forEach((b, i) => { if (map[i] < 0 && b.role !== 'temp') fixed(i); });
  const temps = vp.buffers.map((_, i) => i).filter((i) => map[i] < 0)
    .sort((a, b) => live[a].start - live[b].start || a - b);
  const freeAt: number[] = []; // per physical temp: the step after which it is free
  const pool: number[] = [];
  for (const i of temps) {
    const l = live[i];
    const bytes = vp.buffers[i].bytes;
    if (l.start > l.end) { map[i] = phys.length; phys.push({ ...vp.buffers[i] }); continue; } // never used
    const free = pool.filter((p) => freeAt[p] < l.start && phys[p].bytes >= bytes);
    const same = free.find((p) => phys[p].bytes === bytes);
    const pick = same ?? free.sort((a, b) => phys[a].bytes - phys[b].bytes)[0];
    if (pick !== undefined) {
      map[i] = pick;
      freeAt[pick] = l.end;
    } else {
      map[i] = phys.length;
      freeAt[phys.length] = l.end;
      pool.push(phys.length);
      phys.push({ bytes, role: 'temp' });
    }
  }
  const m = (b: BufferId) => map[b];
  return {
    buffers: phys,
    inputs: vp.inputs.map(m),
    outputs: vp.outputs.map(m),
    kernels: vp.kernels.map((k) => ({ ...k, bindings: k.bindings.map((bd) => ({ ...bd, buffer: m(bd.buffer) })) })),
    steps: renumber(vp.steps, m),
  };
}

/** Device memory a program needs beyond its inputs: outputs, constants and temporaries. */
export function plannedBytes(p: Program): number {
  return p.buffers.reduce((s, b) => s + (b.role === 'input' ? 0 : b.bytes), 0);
}
