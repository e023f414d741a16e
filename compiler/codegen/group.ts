/**
 * @file What every fused-kernel emitter shares: the environment a group is emitted in (where
 * buffered values live, which buffers a group writes), the entry-point prologue, and the loop
 * kernel (one invocation per output element, several same-shape outputs at once).
 */
import type { Value } from '../../ir/types.js';
import { numElements } from '../../ir/types.js';
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

/** A kernel computing `outputs` (all of one shape) elementwise, one invocation per element. */
export function emitLoopKernel(env: GroupEnv, outputs: readonly Value[], name: string): KernelSpec | undefined {
  const shape = outputs[0].type.shape;
  const n = numElements(shape);
  if (n === 0) return undefined;
  const first = env.plan.producer.get(outputs[0])?.op;
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
    }
  });
  return k.finish(name, dispatchFor(n, wg, env.target));
}
