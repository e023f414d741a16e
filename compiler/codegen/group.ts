/**
 * @file What every fused-kernel emitter shares: the environment a group is emitted in (where
 * buffered values live, which buffers a group writes), the entry-point prologue, and the loop
 * kernel (one invocation per output element, several same-shape outputs at once).
 */
import { Elementwise, Op } from '../../ir/ops.js';
import { numElements, sameShape, type Operation, type Value } from '../../ir/types.js';
import type { FusionPlan } from '../fusion.js';
import type { BufferId, KernelSpec, Target } from '../program.js';
import { dispatchFor, flatIndexWgsl } from '../program.js';
import { ExprEmitter, dtypeOf } from './expr.js';
import { FusedKernel } from './kernel.js';
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

/**
 * The same-shape f32 values in memory that `outputs` read, when every output is computed from
 * them at its own flat index alone: elementwise ops over same-shape operands, scalars and splat
 * constants, no data movement. Such a kernel can work on vec4s. Undefined otherwise.
 */
function vectorLeaves(env: GroupEnv, outputs: readonly Value[]): Value[] | undefined {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  if (n % 4 !== 0 || n < 4) return undefined;
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
      if (!same(v) || v.type.dtype !== 'f32') return false;
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

/** A kernel computing `outputs` (all of one shape) elementwise, one invocation per element (or per vec4). */
export function emitLoopKernel(env: GroupEnv, outputs: readonly Value[], name: string): KernelSpec | undefined {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  if (n === 0) return undefined;
  const first = env.plan.producer.get(outputs[0])?.op;
  const leaves = vectorLeaves(env, outputs);
  if (leaves) return emitVectorLoop(env, outputs, leaves, name);
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
 * The loop kernel on vec4s: each invocation loads 16 bytes of every input, computes the four
 * elements with the scalar code (input elements bound as registers), and stores f32 outputs 16
 * bytes at a time. Fewer, wider memory transactions and a quarter of the index arithmetic.
 */
function emitVectorLoop(env: GroupEnv, outputs: readonly Value[], leaves: readonly Value[], name: string): KernelSpec {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  const first = env.plan.producer.get(outputs[0])?.op;
  const { k, em } = newKernel(env, first?.loc, first?.op ?? 'fusion');
  const wg = loopWorkgroupSize(env.target);
  const b = k.b;
  const count = k.uniform('n', n / 4);
  b.block(`@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line(`let i = ${flatIndexWgsl(wg)};`);
    b.line(`if (i >= ${count}) { return; }`);
    const regs = leaves.map((v) => b.let(`${k.storageVec4(env.buffer(v), 'read')}[i]`, 'vec4<f32>', 'x'));
    const vals: string[][] = outputs.map(() => []);
    for (let c = 0; c < 4; c++) {
      em.scoped(() => {
        leaves.forEach((v, j) => em.regs.set(v, `${regs[j]}.${'xyzw'[c]}`));
        const flat = b.let(`i * 4u + ${c}u`, 'u32', 'e');
        outputs.forEach((v, j) => {
          vals[j].push(em.computeTop(v, { shape, flat }));
          em.regs.set(v, vals[j][c]);
        });
        for (const v of [...leaves, ...outputs]) em.regs.delete(v);
      });
    }
    outputs.forEach((v, j) => {
      const d = dtypeOf(v);
      if (d === 'f32') {
        b.line(`${k.storageVec4(env.buffer(v), 'read_write')}[i] = vec4<f32>(${vals[j].join(', ')});`);
        return;
      }
      const out = k.storage(env.buffer(v), d, 'read_write');
      vals[j].forEach((x, c) => em.store(d, out, `i * 4u + ${c}u`, x));
    });
  });
  return k.finish(name, dispatchFor(n / 4, wg, env.target));
}
