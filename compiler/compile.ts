/**
 * @file The compiler driver: passes, then per block fusion (`fusion.ts`), WGSL for each group
 * (`codegen/`), the indexed ops through their hand-written lowerings (`kernels/`), control flow
 * as steps (`repeat` when a while's trip count is known, else `while`; `branch` for if/case),
 * and finally the buffer plan (`plan.ts`).
 */
import { isSupportedDType, unsupportedDTypeReason } from '../ir/dtype.js';
import { UnsupportedOpError } from '../ir/errors.js';
import { Expanded, Op } from '../ir/ops.js';
import {
  mainFunc, walkOps, type AnyOperation, type Block, type Module, type Operation,
  type TensorType, type Value,
} from '../ir/types.js';
import { emitLoopKernel, describe, type GroupEnv } from './codegen/group.js';
import { groupFlops } from './work.js';
import { emitDotKernel } from './codegen/matmul.js';
import { emitReduceKernel } from './codegen/reduce.js';
import { planFusion, type Group } from './fusion.js';
import { indexedLowerings, type IndexedOp } from './kernels/index.js';
import { lowerBf16 } from './passes/bf16.js';
import { lowerSmallInts } from './passes/smallint.js';
import { expandOps, isWidthChangingBitcast } from './passes/expand.js';
import { runPasses } from './pipeline.js';
import { splitComplexContractions } from './passes/complex.js';
import { splitForOccupancy } from './passes/occupancy.js';
import { planBuffers, type VirtualProgram } from './plan.js';
import type { BufferId, BufferSpec, KernelSpec, LowerContext, OpLowering, Program, Step, Target } from './program.js';
import { DEFAULT_TARGET, encodeStorage, storageSize } from './program.js';

/** Bumped whenever generated code changes, so cached executables of an older compiler are not reused. */
export const COMPILER_VERSION = 'kiln-wgsl-8';

export interface CompileOptions {
  /** Skip the pass pipeline (the module is already optimised); bf16 lowering and the expansions still run. */
  skipPasses?: boolean;
}

/** Compiles a verified module into a program of WGSL kernels, steps and planned buffers. */
export function compile(m: Module, target: Target = DEFAULT_TARGET, opts: CompileOptions = {}): Program {
  // After the optimising passes: complex contractions become real ones (the tuned f32 kernels),
  // then small-output GEMMs and few-row reductions are split to give the GPU enough workgroups.
  const mod = splitForOccupancy(splitComplexContractions(opts.skipPasses ? expandOps(lowerSmallInts(lowerBf16(m))) : runPasses(m)), target);
  const fn = mainFunc(mod);
  checkTypes(fn.body, target);
  const c = new Compiler(target, mod);
  const inputs = fn.body.args.map((a) => c.buffer(a.type, 'input'));
  const env = new Map<Value, BufferId>(fn.body.args.map((a, i) => [a, inputs[i]]));
  const steps: Step[] = [];
  const results = c.block(fn.body, env, steps);
  const outputs: BufferId[] = [];
  results.forEach((r, i) => {
    const spec = c.buffers[r];
    if (spec.role === 'temp' && !outputs.includes(r)) {
      spec.role = 'output';
      spec.type = fn.resultTypes[i];
      outputs.push(r);
    } else {
      // Arguments, constants and values returned twice are copied: outputs own their buffers.
      const o = c.buffer(fn.resultTypes[i], 'output');
      steps.push({ kind: 'copy', src: r, dst: o, bytes: Math.min(spec.bytes, c.buffers[o].bytes) });
      outputs.push(o);
    }
  });
  const vp: VirtualProgram = { buffers: c.buffers, inputs, outputs, kernels: c.kernels, steps };
  return planBuffers(vp);
}

/** Refuses element types a GPU cannot compute on, and f16 without shader-f16, naming the op. */
function checkTypes(block: Block, target: Target): void {
  const check = (t: TensorType, o?: AnyOperation) => {
    if (!isSupportedDType(t.dtype)) throw new UnsupportedOpError(`${o?.op ?? 'argument'}: ${unsupportedDTypeReason(t.dtype)}`, o?.loc);
    if (t.dtype === 'f16' && !target.f16) {
      throw new UnsupportedOpError(`${o?.op ?? 'argument'}: f16 needs an adapter with the shader-f16 feature (this one has none)`, o?.loc);
    }
  };
  for (const a of block.args) check(a.type);
  walkOps(block, (o) => { for (const r of o.results) check(r.type, o); for (const x of o.operands) check(x.type, o); });
}

class Compiler {
  readonly buffers: BufferSpec[] = [];
  readonly kernels: KernelSpec[] = [];
  private readonly constants = new Map<Value, number>();
  private readonly names = new Map<string, number>();

  constructor(readonly target: Target, mod: Module) {
    for (const f of mod.funcs) {
      walkOps(f.body, (o) => {
        if (o.op !== Op.Constant) return;
        const lit = o.attrs.value;
        const v = lit.data[0];
        // Scalars as numbers, for loop trip counts (64-bit values never control loops).
        if ((lit.splat || lit.data.length === 1) && typeof v === 'number' && o.results[0].type.dtype !== 'c64') this.constants.set(o.results[0], v);
      });
    }
  }

  buffer(t: TensorType, role: BufferSpec['role']): BufferId {
    this.buffers.push({ bytes: storageSize(t), role, ...(role === 'temp' ? {} : { type: t }) });
    return this.buffers.length - 1;
  }

  private kernelName(base: string): string {
    const n = this.names.get(base) ?? 0;
    this.names.set(base, n + 1);
    return `${base}_${n}`;
  }

  private dispatch(steps: Step[], k: KernelSpec | undefined): void {
    if (!k) return;
    this.kernels.push(k);
    steps.push({ kind: 'dispatch', kernel: this.kernels.length - 1 });
  }

  /** Compiles a block; `env` holds the buffers of its arguments and of captured values. Returns the buffers of its results. */
  block(block: Block, env: Map<Value, BufferId>, steps: Step[]): BufferId[] {
    const plan = planFusion(block, this.target.maxStorageBuffers);
    for (const o of block.ops as AnyOperation[]) {
      if (o.op === Op.Call) throw new UnsupportedOpError(`${o.op} @${o.attrs.callee}: calls must be inlined before compiling`, o.loc);
      if (Expanded.has(o.op) || isWidthChangingBitcast(o)) throw new UnsupportedOpError(`${o.op}: internal: not expanded before compiling`, o.loc);
      if (o.op === Op.Constant && plan.buffered.has(o.results[0]) && !env.has(o.results[0])) {
        const r = o.results[0];
        const id = this.buffer(r.type, 'const');
        this.buffers[id].init = encodeStorage(r.type, o.attrs.value.data, o.attrs.value.splat);
        env.set(r, id);
      }
    }
    const genv: GroupEnv = {
      target: this.target,
      plan,
      buffer: (v) => {
        let id = env.get(v);
        if (id === undefined) { id = this.buffer(v.type, 'temp'); env.set(v, id); }
        return id;
      },
    };
    for (const g of plan.groups) this.group(g, genv, env, steps);
    return plan.results.map((v) => genv.buffer(v));
  }

  private group(g: Group, genv: GroupEnv, env: Map<Value, BufferId>, steps: Step[]): void {
    const before = this.kernels.length;
    this.emitGroup(g, genv, env, steps);
    // The arithmetic of a fused group, for profiles, on the first kernel it dispatched.
    if (this.kernels.length > before && g.kind !== 'control') this.kernels[before].flops = groupFlops(genv.plan, g);
  }

  private emitGroup(g: Group, genv: GroupEnv, env: Map<Value, BufferId>, steps: Step[]): void {
    switch (g.kind) {
      case 'loop':
        return this.dispatch(steps, emitLoopKernel(genv, g.outputs, this.kernelName(`fused_${describe(genv, g.outputs)}`)));
      case 'reduce': {
        const eps = g.epilogues.map((e) => e.value);
        const stages = g.stages.length ? `_x${g.stages.length + 1}` : '';
        return this.dispatch(steps, emitReduceKernel(genv, g.op, g.stages, g.epilogues, g.write, this.kernelName(`reduce${stages}${eps.length ? `_${describe(genv, eps)}` : ''}`)));
      }
      case 'dot': {
        const eps = g.epilogues.map((e) => e.value);
        return this.dispatch(steps, emitDotKernel(genv, g.op, g.epilogues, g.write, this.kernelName(`dot${eps.length ? `_${describe(genv, eps)}` : ''}`)));
      }
      case 'indexed': return this.indexed(g.op, genv, steps);
      case 'barrier':
        g.op.results.forEach((r, i) => env.set(r, genv.buffer(g.op.operands[i])));
        return;
      case 'control': return this.control(g.op, genv, env, steps);
      default: return g satisfies never;
    }
  }

  private indexed(o: AnyOperation, genv: GroupEnv, steps: Step[]): void {
    const lower = (indexedLowerings as Partial<Record<Op, OpLowering<IndexedOp>>>)[o.op];
    if (!lower) throw new UnsupportedOpError(`${o.op}: no GPU lowering`, o.loc);
    const ctx: LowerContext = {
      target: this.target,
      temp: (bytes) => { this.buffers.push({ bytes: Math.max(4, Math.ceil(bytes / 4) * 4), role: 'temp' }); return this.buffers.length - 1; },
      dispatch: (k) => this.dispatch(steps, { ...k, name: this.kernelName(k.name) }),
      copy: (src, dst, bytes, srcOffset, dstOffset) => steps.push({
        kind: 'copy', src, dst, bytes, ...(srcOffset ? { srcOffset } : {}), ...(dstOffset ? { dstOffset } : {}),
      }),
    };
    lower(o as Operation<IndexedOp>, o.operands.map((v) => genv.buffer(v)), o.results.map((v) => genv.buffer(v)), ctx);
  }

  private control(o: AnyOperation, genv: GroupEnv, env: Map<Value, BufferId>, steps: Step[]): void {
    switch (o.op) {
      case Op.While: return this.whileLoop(o, genv, env, steps);
      case Op.If: case Op.Case: {
        const index = genv.buffer(o.operands[0]);
        const results = o.results.map((r) => genv.buffer(r));
        // `if`: index 1 (true) runs the first region; `case`: out-of-range runs the last.
        const regions = o.op === Op.If ? [o.regions[1], o.regions[0]] : o.regions;
        const branches = regions.map((r) => {
          const bs: Step[] = [];
          const res = this.block(r.block, new Map(env), bs);
          res.forEach((b, i) => bs.push({ kind: 'copy', src: b, dst: results[i], bytes: this.buffers[results[i]].bytes }));
          return bs;
        });
        steps.push({ kind: 'branch', index, branches });
        return;
      }
      default: throw new UnsupportedOpError(`${o.op}: not a control-flow op`, o.loc);
    }
  }

  private whileLoop(o: Operation<Op.While>, genv: GroupEnv, env: Map<Value, BufferId>, steps: Step[]): void {
    const [cond, body] = o.regions;
    // Loop-carried values live in buffers of their own, initialised by copies.
    const carried = o.operands.map((v) => {
      const id = this.buffer(v.type, 'temp');
      steps.push({ kind: 'copy', src: genv.buffer(v), dst: id, bytes: this.buffers[id].bytes });
      return id;
    });
    const bodySteps: Step[] = [];
    const bodyEnv = new Map(env);
    body.block.args.forEach((a, i) => bodyEnv.set(a, carried[i]));
    const res = this.block(body.block, bodyEnv, bodySteps);
    // A result that is another carried buffer (a permutation) goes through a temporary first.
    const staged = res.map((r, i) => {
      if (r === carried[i] || !carried.includes(r)) return r;
      const tmp = this.buffer(o.operands[i].type, 'temp');
      bodySteps.push({ kind: 'copy', src: r, dst: tmp, bytes: this.buffers[tmp].bytes });
      return tmp;
    });
    staged.forEach((r, i) => { if (r !== carried[i]) bodySteps.push({ kind: 'copy', src: r, dst: carried[i], bytes: this.buffers[carried[i]].bytes }); });
    const trips = this.tripCount(o);
    if (trips !== undefined) {
      steps.push({ kind: 'repeat', count: trips, body: bodySteps });
    } else {
      const condSteps: Step[] = [];
      const condEnv = new Map(env);
      cond.block.args.forEach((a, i) => condEnv.set(a, carried[i]));
      const [pred] = this.block(cond.block, condEnv, condSteps);
      steps.push({ kind: 'while', cond: condSteps, pred, body: bodySteps });
    }
    o.results.forEach((r, i) => env.set(r, carried[i]));
  }

  /**
   * The trip count of a counted loop (JAX's fori_loop): a counter starting at a constant, a
   * condition `counter < limit` (or <=, !=, or the mirrored >, >=) against a constant, and a body
   * adding a positive constant to the counter. Anything else is a `while` with readbacks.
   */
  tripCount(o: Operation<Op.While>): number | undefined {
    const [cond, body] = o.regions;
    const cret = cond.block.ops[cond.block.ops.length - 1];
    const pred = cret?.operands[0];
    const cmp = cond.block.ops.find((x) => x.results.includes(pred)) as AnyOperation | undefined;
    if (!cmp || cmp.op !== Op.Compare) return undefined;
    let [a, b] = cmp.operands;
    let dir = cmp.attrs.direction;
    const mirror = { LT: 'GT', LE: 'GE', GT: 'LT', GE: 'LE', EQ: 'EQ', NE: 'NE' } as const;
    if (!cond.block.args.includes(a)) { [a, b] = [b, a]; dir = mirror[dir]; }
    const k = cond.block.args.indexOf(a);
    const dtype = a.type.dtype;
    if (k < 0 || (dtype !== 'i32' && dtype !== 'ui32') || a.type.shape.length !== 0) return undefined;
    const limit = this.constants.get(b);
    const init = this.constants.get(o.operands[k]);
    if (limit === undefined || init === undefined) return undefined;
    const bret = body.block.ops[body.block.ops.length - 1];
    const next = bret.operands[k];
    const add = body.block.ops.find((x) => x.results.includes(next)) as AnyOperation | undefined;
    if (!add || add.op !== Op.Add) return undefined;
    const [p, q] = add.operands;
    const arg = body.block.args[k];
    const stepV = p === arg ? this.constants.get(q) : q === arg ? this.constants.get(p) : undefined;
    if (stepV === undefined || stepV <= 0) return undefined;
    const count = (n: number) => Math.max(0, Math.ceil(n / stepV));
    // Counters must not wrap before the condition fails.
    const max = dtype === 'i32' ? 2147483647 : 4294967295;
    switch (dir) {
      case 'LT': return limit - 1 + stepV <= max ? count(limit - init) : undefined;
      case 'LE': return limit + stepV <= max ? count(limit - init + 1) : undefined;
      case 'NE': return stepV === 1 && init <= limit ? limit - init : undefined;
      default: return undefined;
    }
  }
}
