/**
 * @file `stablehlo.sort` (https://openxla.org/stablehlo/spec#sort) and `chlo.top_k`, both as a
 * bitonic sort of element positions. Each row (the elements along the sorted dimension) sorts the
 * positions 0..n-1, padded to a power of two P with positions that sort last, under
 * `before(x, y) = cmp(x, y) || (!cmp(y, x) && x < y)`: the position tiebreak makes the order total,
 * so the result is the stable sort whatever `is_stable` says, and bitonic sorting (which is not
 * stable by itself) gives exactly it.
 *
 * Rows with P * 4 bytes of positions that fit in workgroup memory sort in one kernel, one
 * workgroup per row. Longer rows sort a scratch buffer of positions in global memory: one kernel
 * to fill it, one dispatch per bitonic step (log2(P) * (log2(P) + 1) / 2 of them, all the same
 * WGSL with the step in a uniform), and one kernel to write the results.
 *
 * top_k sorts each last-dimension row by value, largest first (floats in IEEE total order, so NaN
 * is largest), ties by lower index, and writes the first k values and their i32 indices.
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import type { Operation } from '../../ir/types.js';
import type { BufferId, LowerContext, OpLowering } from '../program.js';
import { dispatchFor, flatIndexWgsl } from '../program.js';
import type { StorageVar } from './common.js';
import { dtypeOf, KernelBuilder, load, regType, store } from './common.js';
import { regionFunction, totalOrderKeyHelper } from './region.js';

/** What distinguishes sort from top_k around the shared bitonic machinery. */
interface SortPlan {
  /** Rows, positions per row, and the row-major stride of a position (elements after the dim). */
  rows: number;
  n: number;
  inner: number;
  /** Positions written per row. */
  outCount: number;
  /** Declares the input bindings of a kernel. */
  inputs(kb: KernelBuilder): StorageVar[];
  /** Emits `fn cmp_less(x: u32, y: u32, base: u32) -> bool` (strict, without the tiebreak). */
  comparator(kb: KernelBuilder, inputs: StorageVar[]): void;
  /** Emits the stores of output position `t` of row `row` (base `base`), taken from position `p`. */
  write(kb: KernelBuilder, inputs: StorageVar[], row: string, base: string, t: string, p: string): void;
}

/** Emits `before(x, y, base)`: the total order of positions, padding last. */
function emitBefore(kb: KernelBuilder, plan: SortPlan, inputs: StorageVar[]): void {
  plan.comparator(kb, inputs);
  kb.b.helper('before', `fn before(x: u32, y: u32, base: u32) -> bool {
  if (x >= ${plan.n}u) { return false; }
  if (y >= ${plan.n}u) { return true; }
  return cmp_less(x, y, base) || (!cmp_less(y, x, base) && x < y);
}`);
}

/** The flat index of a row's first element. */
function rowBase(plan: SortPlan, row: string): string {
  return plan.inner === 1 ? `${row} * ${plan.n}u` : `(${row} / ${plan.inner}u) * ${plan.n * plan.inner}u + ${row} % ${plan.inner}u`;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function bitonicSort(o: Operation, plan: SortPlan, ctx: LowerContext, name: string): void {
  const P = nextPow2(plan.n);
  if (P * 4 <= ctx.target.maxWorkgroupStorage) sortInWorkgroup(o, plan, ctx, name, P);
  else sortInGlobal(o, plan, ctx, name, P);
}

/** One workgroup per row; positions live in workgroup memory. */
function sortInWorkgroup(o: Operation, plan: SortPlan, ctx: LowerContext, name: string, P: number): void {
  const kb = new KernelBuilder(ctx, o);
  const inputs = plan.inputs(kb);
  emitBefore(kb, plan, inputs);
  const T = Math.max(1, Math.min(ctx.target.maxWorkgroupSize, P / 2));
  const b = kb.b;
  b.line(`var<workgroup> keys: array<u32, ${P}>;`);
  b.line('');
  b.block(`@compute @workgroup_size(${T}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
    b.line('let row = wid.x + wid.y * nwg.x;');
    // Workgroups past the last row still reach every barrier, then leave.
    b.line(`let live = row < ${plan.rows}u;`);
    b.line(`let base = ${rowBase(plan, 'row')};`);
    b.line(`for (var i = lid.x; i < ${P}u; i += ${T}u) { keys[i] = i; }`);
    b.line('workgroupBarrier();');
    b.block(`for (var k = 2u; k <= ${P}u; k <<= 1u)`, () => {
      b.block('for (var j = k >> 1u; j > 0u; j >>= 1u)', () => {
        b.block(`for (var i = lid.x; i < ${P}u; i += ${T}u)`, () => {
          b.line('let l = i ^ j;');
          b.block('if (live && l > i)', () => {
            b.line('let a = keys[i];');
            b.line('let c = keys[l];');
            b.line('let swap = select(before(a, c, base), before(c, a, base), (i & k) == 0u);');
            b.line('if (swap) { keys[i] = c; keys[l] = a; }');
          });
        });
        b.line('workgroupBarrier();');
      });
    });
    b.line('if (!live) { return; }');
    b.block(`for (var t = lid.x; t < ${plan.outCount}u; t += ${T}u)`, () => {
      plan.write(kb, inputs, 'row', 'base', 't', 'keys[t]');
    });
  });
  const x = Math.min(plan.rows, ctx.target.maxWorkgroupsPerDim);
  ctx.dispatch(kb.finish(name, [x, Math.ceil(plan.rows / x), 1]));
}

/** Rows too long for workgroup memory: a global position buffer and one dispatch per step. */
function sortInGlobal(o: Operation, plan: SortPlan, ctx: LowerContext, name: string, P: number): void {
  const perm: BufferId = ctx.temp(4 * P * plan.rows);
  const total = P * plan.rows;
  const wgSize = Math.min(256, ctx.target.maxWorkgroupSize);

  const init = new KernelBuilder(ctx, o);
  const permInit = init.storage(perm, 'ui32', 'read_write', 'perm');
  const wgInit = init.flatEntry(total, (i) => init.b.line(`${permInit.name}[${i}] = ${i} % ${P}u;`), wgSize);
  ctx.dispatch(init.finish(`${name}_init`, wgInit));

  // Every step runs the same WGSL; only the uniform (k, j) changes.
  const makeStep = (k: number, j: number) => {
    const kb = new KernelBuilder(ctx, o);
    const inputs = plan.inputs(kb);
    const pv = kb.storage(perm, 'ui32', 'read_write', 'perm');
    kb.uniforms(['k', 'j', 'pad0', 'pad1']);
    emitBefore(kb, plan, inputs);
    const b = kb.b;
    b.block(`@compute @workgroup_size(${wgSize}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`, () => {
      b.line(`let idx = ${flatIndexWgsl(wgSize)};`);
      b.line(`if (idx >= ${total}u) { return; }`);
      b.line(`let row = idx / ${P}u;`);
      b.line(`let i = idx % ${P}u;`);
      b.line('let l = i ^ params.j;');
      b.line('if (l <= i) { return; }');
      b.line(`let base = ${rowBase(plan, 'row')};`);
      b.line(`let a = ${pv.name}[row * ${P}u + i];`);
      b.line(`let c = ${pv.name}[row * ${P}u + l];`);
      b.line('let swap = select(before(a, c, base), before(c, a, base), (i & params.k) == 0u);');
      b.line(`if (swap) { ${pv.name}[row * ${P}u + i] = c; ${pv.name}[row * ${P}u + l] = a; }`);
    });
    return kb.finish(`${name}_step`, dispatchFor(total, wgSize, ctx.target), new Uint32Array([k, j, 0, 0]));
  };
  for (let k = 2; k <= P; k *= 2) for (let j = k >> 1; j >= 1; j >>= 1) ctx.dispatch(makeStep(k, j));

  const fin = new KernelBuilder(ctx, o);
  const inputs = plan.inputs(fin);
  const pv = fin.storage(perm, 'ui32', 'read', 'perm');
  const wgFin = fin.flatEntry(plan.rows * plan.outCount, (i) => {
    fin.b.line(`let row = ${i} / ${plan.outCount}u;`);
    fin.b.line(`let t = ${i} % ${plan.outCount}u;`);
    fin.b.line(`let base = ${rowBase(plan, 'row')};`);
    plan.write(fin, inputs, 'row', 'base', 't', `${pv.name}[row * ${P}u + t]`);
  }, wgSize);
  ctx.dispatch(fin.finish(`${name}_write`, wgFin));
}

/** Lowers `stablehlo.sort` (N operands, N results, comparator region with 2N arguments). */
export const lowerSort: OpLowering<Op.Sort> = (o, operands, results, ctx) => {
  const shape = o.operands[0].type.shape;
  const dim = o.attrs.dimension;
  if (shape.length === 0) throw new UnsupportedOpError(`${o.op}: cannot sort a scalar`, o.loc);
  const n = shape[dim];
  const inner = shape.slice(dim + 1).reduce((a, x) => a * x, 1);
  const size = shape.reduce((a, x) => a * x, 1);
  const plan: SortPlan = {
    rows: n === 0 ? 0 : size / n,
    n,
    inner,
    outCount: n,
    inputs: (kb) => o.operands.map((v, k) => kb.storage(operands[k], dtypeOf(v.type, o), 'read', `input${k}`)),
    comparator: (kb, inputs) => {
      const fn = regionFunction(kb.b, o.regions[0], 'comparator', o);
      const args = inputs.flatMap((v) => [load(v, `base + x * ${inner}u`), load(v, `base + y * ${inner}u`)]);
      kb.b.helper('cmp_less', `fn cmp_less(x: u32, y: u32, base: u32) -> bool {
  return ${fn.name}(${args.join(', ')});
}`);
      if (fn.resultTypes.length !== 1 || fn.resultTypes[0] !== 'i1') {
        throw new UnsupportedOpError(`${o.op}: comparator must return one i1`, o.loc);
      }
    },
    write: (kb, inputs, _row, base, t, p) => {
      const outs = o.results.map((v, k) => kb.storage(results[k], dtypeOf(v.type, o), 'read_write', `result${k}`));
      const src = kb.b.let(`${base} + ${p} * ${inner}u`, 'u32', 'src');
      const dst = kb.b.let(`${base} + ${t} * ${inner}u`, 'u32', 'dst');
      outs.forEach((v, k) => kb.b.line(store(v, dst, load(inputs[k], src))));
    },
  };
  if (plan.rows === 0) return;
  bitonicSort(o, plan, ctx, `sort_${o.loc?.line ?? 0}`);
};

/** Lowers `chlo.top_k`: values and i32 indices of the k largest along the last dimension. */
export const lowerTopK: OpLowering<Op.TopK> = (o, operands, results, ctx) => {
  const shape = o.operands[0].type.shape;
  if (shape.length === 0) throw new UnsupportedOpError(`${o.op}: operand must have rank >= 1`, o.loc);
  const n = shape[shape.length - 1];
  const k = o.attrs.k;
  if (k > n) throw new UnsupportedOpError(`${o.op}: k = ${k} exceeds the last dimension ${n}`, o.loc);
  const size = shape.reduce((a, x) => a * x, 1);
  const plan: SortPlan = {
    rows: n === 0 ? 0 : size / n,
    n,
    inner: 1,
    outCount: k,
    inputs: (kb) => [kb.storage(operands[0], dtypeOf(o.operands[0].type, o), 'read', 'input0')],
    comparator: (kb, [v]) => {
      if (v.dtype === 'i1') throw new UnsupportedOpError(`${o.op}: i1 operands are not supported`, o.loc);
      const key = v.dtype === 'f32' || v.dtype === 'f16' ? totalOrderKeyHelper(kb.b, v.dtype) : '';
      kb.b.helper('cmp_less', `fn cmp_less(x: u32, y: u32, base: u32) -> bool {
  return ${key}(${load(v, 'base + x')}) > ${key}(${load(v, 'base + y')});
}`);
    },
    write: (kb, [v], row, base, t, p) => {
      const values = kb.storage(results[0], dtypeOf(o.results[0].type, o), 'read_write', 'values');
      const indices = kb.storage(results[1], dtypeOf(o.results[1].type, o), 'read_write', 'indices');
      const src = kb.b.let(p, 'u32', 'src');
      const dst = kb.b.let(`${row} * ${k}u + ${t}`, 'u32', 'dst');
      kb.b.line(store(values, dst, load(v, `${base} + ${src}`)));
      kb.b.line(store(indices, dst, indices.dtype === 'ui32' ? src : `${regType(indices.dtype)}(${src})`));
    },
  };
  if (plan.rows === 0 || k === 0) return;
  bitonicSort(o, plan, ctx, `top_k_${o.loc?.line ?? 0}`);
};
