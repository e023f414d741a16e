/**
 * @file `dynamic_slice` and `dynamic_update_slice` (https://openxla.org/stablehlo/spec#dynamic_slice,
 * #dynamic_update_slice). Start indices arrive as one scalar buffer each; they are first copied
 * into one small scratch buffer (copy steps, no kernel), so the kernel needs three bindings
 * whatever the rank. Starts are clamped to [0, dim - size] as the spec says.
 *
 * dynamic_slice: one kernel, one invocation per result element.
 * dynamic_update_slice: a copy of the operand into the result (skipped when they share a buffer,
 * as an in-place update in a loop does), then one kernel over the update's elements only.
 */
import type { SupportedDType } from '../../ir/dtype.js';
import type { Op } from '../../ir/ops.js';
import type { BufferId, LowerContext, OpLowering } from '../program.js';
import { storageSize } from '../program.js';
import { dtypeOf, flatten, indexAsI32, KernelBuilder, load, sizeOf, store, unflatten } from './common.js';

/** Copies the scalar start buffers into one scratch buffer of 4-byte words. */
function gatherStarts(ctx: LowerContext, starts: readonly BufferId[]): BufferId {
  const buf = ctx.temp(Math.max(4, 4 * starts.length));
  starts.forEach((s, i) => ctx.copy(s, buf, 4, 0, 4 * i));
  return buf;
}

/** Emits the clamped i32 start of each dim, reading words of the scratch buffer. */
function clampedStarts(
  kb: KernelBuilder, buf: BufferId, startTypes: SupportedDType[], shape: readonly number[], sizes: readonly number[],
): string[] {
  if (shape.length === 0) return [];
  // The words are bound as u32 and reinterpreted per start's dtype (i32 and ui32 may mix).
  const words = kb.storage(buf, 'ui32', 'read', 'starts');
  return shape.map((dim, d) => {
    const raw = startTypes[d] === 'i32' ? `bitcast<i32>(${words.name}[${d}])` : indexAsI32(`${words.name}[${d}]`, 'ui32');
    return kb.b.let(`clamp(${raw}, 0, ${dim - sizes[d]})`, 'i32', 'st');
  });
}

/** Lowers `stablehlo.dynamic_slice`: copies of the starts, then one kernel. */
export const lowerDynamicSlice: OpLowering<Op.DynamicSlice> = (o, operands, results, ctx) => {
  const inT = o.operands[0].type;
  const outT = o.results[0].type;
  const startTypes = o.operands.slice(1).map((v) => dtypeOf(v.type, o));
  const buf = gatherStarts(ctx, operands.slice(1));
  const kb = new KernelBuilder(ctx, o);
  const src = kb.storage(operands[0], dtypeOf(inT, o), 'read', 'operand');
  const dst = kb.storage(results[0], dtypeOf(outT, o), 'read_write', 'result');
  const b = kb.b;
  const wg = kb.flatEntry(sizeOf(outT), (i) => {
    const st = clampedStarts(kb, buf, startTypes, inT.shape, o.attrs.sliceSizes);
    const r = unflatten(b, i, outT.shape, 'r');
    b.line(store(dst, i, load(src, flatten(r.map((c, d) => `${st[d]} + ${c}`), inT.shape))));
  });
  ctx.dispatch(kb.finish(`dynamic_slice_${o.loc?.line ?? 0}`, wg));
};

/** Lowers `stablehlo.dynamic_update_slice`: a copy of the operand, then one kernel over the update. */
export const lowerDynamicUpdateSlice: OpLowering<Op.DynamicUpdateSlice> = (o, operands, results, ctx) => {
  const inT = o.operands[0].type;
  const upT = o.operands[1].type;
  if (operands[0] !== results[0]) ctx.copy(operands[0], results[0], storageSize(inT));
  if (sizeOf(upT) === 0) return;
  const startTypes = o.operands.slice(2).map((v) => dtypeOf(v.type, o));
  const buf = gatherStarts(ctx, operands.slice(2));
  const kb = new KernelBuilder(ctx, o);
  const up = kb.storage(operands[1], dtypeOf(upT, o), 'read', 'update');
  const dst = kb.storage(results[0], dtypeOf(o.results[0].type, o), 'read_write', 'result');
  const b = kb.b;
  const wg = kb.flatEntry(sizeOf(upT), (i) => {
    const st = clampedStarts(kb, buf, startTypes, inT.shape, upT.shape);
    const u = unflatten(b, i, upT.shape, 'u');
    b.line(store(dst, flatten(u.map((c, d) => `${st[d]} + ${c}`), inT.shape), load(up, i)));
  });
  ctx.dispatch(kb.finish(`dynamic_update_slice_${o.loc?.line ?? 0}`, wg));
};
