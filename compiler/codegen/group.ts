/**
 * @file What every fused-kernel emitter shares: the environment a group is emitted in (where
 * buffered values live, which buffers a group writes), the entry-point prologue, and the loop
 * kernel (several same-shape outputs at once: one invocation per element, or, when every input is
 * contiguous or a scalar, a grid-stride loop over vec4s with a scalar tail).
 */
import { Elementwise, Op } from '../../ir/ops.js';
import { numElements, sameShape, type Operation, type Value } from '../../ir/types.js';
import type { FusionPlan } from '../fusion.js';
import type { BufferId, KernelSpec, Target } from '../program.js';
import { dispatchFor, flatIndexWgsl } from '../program.js';
import { ExprEmitter, dtypeOf } from './expr.js';
import { FusedKernel, type VecElem } from './kernel.js';
import type { Location } from '../../ir/errors.js';

/** What the compiler gives a group emitter. */
export interface GroupEnv {
  target: Target;
  plan: FusionPlan;
  /** The buffer of a value that lives in memory (inputs of the group, and the values it writes). */
  buffer(v: Value): BufferId;
}

/** A kernel and emitter whose loads follow the plan: buffered values are loads, the rest inline. */
export function newKernel(env: GroupEnv, loc: Location | undefined, what: string): { k: FusedKernel; em: ExprEmitter } {
  const k = new FusedKernel(env.target, loc, what);
  const em = new ExprEmitter(k, {
    bufferOf: (v) => (env.plan.buffered.has(v) || !env.plan.producer.has(v) ? env.buffer(v) : undefined),
    producer: (v) => env.plan.producer.get(v),
  });
  return { k, em };
}

/** A short name for the ops a value is computed from (`exp_divide`), for kernel names. */
export function describe(env: GroupEnv, vs: readonly Value[]): string {
  const names: string[] = [];
  const seen = new Set<Value>();
  const walk = (v: Value, top: boolean) => {
    if (seen.has(v) || (!top && env.plan.buffered.has(v))) return;
    seen.add(v);
    const p = env.plan.producer.get(v);
    if (!p) return;
    for (const x of p.op.operands) walk(x, false);
    const n = p.op.op.replace(/^[a-z]+\./, '');
    if (!['constant', 'broadcast_in_dim', 'reshape'].includes(n) && !names.includes(n)) names.push(n);
  };
  for (const v of vs) walk(v, true);
  return names.slice(0, 4).join('_') || 'copy';
}

/** The workgroup size of elementwise kernels. */
export function loopWorkgroupSize(t: Target): number {
  return Math.min(256, t.maxWorkgroupSize);
}

/** The element type of a vec4 view of a dtype's storage (f16 where the target has it, and 4-byte scalars), else undefined. */
function vec4Elem(d: string, t: Target): VecElem | undefined {
  switch (d) {
    case 'f32': return 'f32';
    case 'f16': return t.f16 ? 'f16' : undefined;
    case 'i32': return 'i32';
    case 'ui32': case 'i1': return 'u32';
    default: return undefined;
  }
}

/**
 * The same-shape values in memory (f32, f16, i32, ui32, i1) that `outputs` read, when
 * every output is computed from them at its own flat index alone: elementwise ops over same-shape
 * operands, scalars and splat constants, no data movement. Such a kernel can work on vec4s.
 * Undefined otherwise.
 */
function vectorLeaves(env: GroupEnv, outputs: readonly Value[]): Value[] | undefined {
  const shape = outputs[0].type.shape;
  const leaves = new Set<Value>();
  const seen = new Set<Value>();
  const same = (v: Value) => sameShape(v.type.shape, shape);
  // Outputs read by later outputs come from registers (each is walked as an output itself).
  const own = new Set(outputs);
  const walk = (v: Value, top: boolean): boolean => {
    if (seen.has(v) || (!top && own.has(v))) return true;
    seen.add(v);
    if (v.type.shape.length === 0) return true;
    const p = env.plan.producer.get(v);
    const inMemory = !top && (env.plan.buffered.has(v) || !p);
    if (inMemory) {
      if (!same(v) || !vec4Elem(v.type.dtype, env.target)) return false;
      leaves.add(v);
      return true;
    }
    if (!p || !same(v)) return false;
    const o = p.op;
    if (o.op === Op.Constant) return (o as Operation<Op.Constant>).attrs.value.splat;
    if (o.op === Op.BroadcastInDim) return o.operands[0].type.shape.length === 0;
    if (!Elementwise.has(o.op)) return false;
    return o.operands.every((x) => walk(x, false));
  };
  for (const v of outputs) if (!walk(v, true)) return undefined;
  return [...leaves];
}

/** A kernel computing `outputs` (all of one shape) elementwise: on vec4s where it can, else one invocation per element. */
export function emitLoopKernel(env: GroupEnv, outputs: readonly Value[], name: string): KernelSpec | undefined {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  if (n === 0) return undefined;
  const first = env.plan.producer.get(outputs[0])?.op;
  const leaves = vectorLeaves(env, outputs);
  const vector = leaves && n >= 4 ? emitVectorLoop(env, outputs, leaves, name) : undefined;
  if (vector) return vector;
  const { k, em } = newKernel(env, first?.loc, first?.op ?? 'fusion');
  const wg = loopWorkgroupSize(env.target);
  const b = k.b;
  // Bound by a uniform so that the WGSL of a pure elementwise chain does not depend on its size.
  const count = k.uniform('n', n);
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line(`let i = ${flatIndexWgsl(wg)};`);
    b.line(`if (i >= ${count}) { return; }`);
    for (const v of outputs) {
      const d = dtypeOf(v);
      const val = em.computeTop(v, { shape, flat: 'i' });
      em.store(d, k.storage(env.buffer(v), d, 'read_write'), 'i', val);
      // Later outputs read this one only at their own element (fusion.ts): from the register.
      em.regs.set(v, val);
    }
    for (const v of outputs) em.regs.delete(v);
  });
  return k.finish(name, dispatchFor(n, wg, env.target));
}

/**
 * vec4s an invocation loads per trip of the vector loop: independent 16-byte loads in flight. Each
 * is a copy of the element code in the shader, so more would slow shader compiles (lavapipe's
 * most) for little: the grid is already large enough to cover memory latency.
 */
const VEC4S_PER_TRIP = 2;

/**
 * The most workgroups a vector loop launches. 4096 of 256 invocations are about four waves of an
 * H200 (132 multiprocessors, 2048 resident invocations each); a larger tensor is covered by each
 * invocation striding over the rest (a grid-stride loop), so the grid stays one-dimensional and
 * far under the 65535-per-dimension limit, and no index needs the two-dimensional flattening.
 */
const MAX_VECTOR_WORKGROUPS = 4096;

let workgroupCap: number | undefined;

/**
 * Caps the workgroups of vector loops compiled afterwards (undefined: back to
 * {@link MAX_VECTOR_WORKGROUPS}): lets a test run several grid-stride trips on a small tensor, and
 * a benchmark try other grid sizes.
 */
export function setVectorLoopWorkgroupCap(n: number | undefined): void {
  workgroupCap = n;
}

/** A register of one element of a vec4 load: as {@link ExprEmitter.load} reads a scalar (bools from u32, f16 computed in f32). */
function lane(d: string, at: string): string {
  return d === 'i1' ? `(${at} != 0u)` : d === 'f16' ? `f32(${at})` : at;
}

/**
 * The loop kernel on vec4s, as a grid-stride loop: each trip an invocation loads
 * {@link VEC4S_PER_TRIP} vec4s of every input (`stride` apart, so a workgroup's loads stay
 * contiguous; past the end clamped to the last), then computes the elements of those in range with
 * the scalar code (input lanes bound as registers) and stores 4-byte outputs 16 bytes at a time.
 * When the length is not a multiple of 4, the first `n % 4` invocations compute one tail element
 * each through scalar views of the inputs. There is no per-element division or modulo. Undefined
 * when those extra views pass the target's storage-buffer limit.
 */
function emitVectorLoop(env: GroupEnv, outputs: readonly Value[], leaves: readonly Value[], name: string): KernelSpec | undefined {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  const n4 = Math.floor(n / 4);
  const first = env.plan.producer.get(outputs[0])?.op;
  const { k, em } = newKernel(env, first?.loc, first?.op ?? 'fusion');
  const wg = loopWorkgroupSize(env.target);
  const b = k.b;
  const count = k.uniform('n4', n4);
  // With a tail, outputs are stored by element: a buffer written through a vec4 view and a scalar
  // view would be two aliasing writable bindings, which WebGPU refuses.
  const outElem = outputs.map((v) => (n % 4 === 0 ? vec4Elem(v.type.dtype, env.target) : undefined));
  const inElem = leaves.map((v) => vec4Elem(v.type.dtype, env.target)!);
  const inView = (j: number) => k.storageVec4(env.buffer(leaves[j]), 'read', inElem[j]);
  const outView = (j: number) => {
    const v = outputs[j];
    const e = outElem[j];
    return e ? k.storageVec4(env.buffer(v), 'read_write', e) : k.storage(env.buffer(v), dtypeOf(v), 'read_write');
  };
  const load = (i: string) => leaves.map((_, j) => b.let(`${inView(j)}[${i}]`, `vec4<${inElem[j]}>`, 'x'));
  // The outputs' elements at `flat` (as registers), leaves bound by `bind` first.
  const compute = (flat: string, bind: (v: Value, j: number) => string): string[] => em.scoped(() => {
    leaves.forEach((v, j) => em.regs.set(v, bind(v, j)));
    const vals = outputs.map((v) => {
      const val = em.computeTop(v, { shape, flat });
      // Later outputs read this one only at their own element (fusion.ts): from the register.
      em.regs.set(v, val);
      return val;
    });
    for (const v of [...leaves, ...outputs]) em.regs.delete(v);
    return vals;
  });
  const computeVec4 = (i: string, regs: string[]) => {
    const lanes = [0, 1, 2, 3].map((c) =>
      compute(b.let(`${i} * 4u + ${c}u`, 'u32', 'e'), (v, j) => lane(v.type.dtype, `${regs[j]}[${c}]`)));
    outputs.forEach((v, j) => {
      const d = dtypeOf(v);
      const vals = lanes.map((l) => l[j]);
      const e = outElem[j];
      if (e) b.line(`${outView(j)}[${i}] = vec4<${e}>(${vals.map((x) => (d === 'i1' ? `select(0u, 1u, ${x})` : d === 'f16' ? `f16(${x})` : x)).join(', ')});`);
      else vals.forEach((x, c) => em.store(d, outView(j), `${i} * 4u + ${c}u`, x));
    });
  };
  const U = VEC4S_PER_TRIP;
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line(`let stride = nwg.x * ${wg}u;`);
    b.block(`for (var i = gid.x; i < ${count}; i += ${U}u * stride)`, () => em.scoped(() => {
      const at = Array.from({ length: U }, (_, u) => (u === 0 ? 'i' : b.let(`i + ${u}u * stride`, 'u32', 'j')));
      // Every load first (clamped in range), so that they are in flight together.
      const regs = at.map((j, u) => load(u === 0 ? j : `min(${j}, ${count} - 1u)`));
      at.forEach((j, u) => {
        if (u === 0) em.scoped(() => computeVec4(j, regs[u]));
        else b.block(`if (${j} < ${count})`, () => em.scoped(() => computeVec4(j, regs[u])));
      });
    }));
    if (n % 4 === 0) return;
    b.block(`if (gid.x < ${k.uniform('tail', n % 4)})`, () => em.scoped(() => {
      const flat = b.let(`${count} * 4u + gid.x`, 'u32', 'e');
      const vals = compute(flat, (v) => em.load(v, env.buffer(v), { shape, flat }));
      outputs.forEach((v, j) => em.store(dtypeOf(v), outView(j), flat, vals[j]));
    }));
  });
  // With a tail every input is bound twice (vec4 and scalar views), which may pass the target's
  // limit where the one-per-element kernel (which fusion planned for) does not.
  if (k.storageBindings > env.target.maxStorageBuffers) return undefined;
  const groups = Math.min(workgroupCap ?? MAX_VECTOR_WORKGROUPS, Math.max(1, Math.ceil(n4 / (wg * U))));
  return k.finish(name, [groups, 1, 1]);
}
