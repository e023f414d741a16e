/**
 * @file Windowed ops: `reduce_window` (https://openxla.org/stablehlo/spec#reduce_window) and
 * `select_and_scatter` (#select_and_scatter, the gradient of max-pooling).
 *
 * reduce_window: one invocation per result element folds its window with the body, in row-major
 * window order starting from the init values. Padding and base-dilation holes hold the init value
 * (the spec pads with it), so the body sees them too. Cost O(|result| * |window|): a cumsum over a
 * row of n is O(n^2), which is fine for the row lengths JAX emits it for.
 *
 * select_and_scatter: two kernels. The first, one invocation per source element, walks its window
 * in row-major order and keeps the first element the select region prefers (padding is never
 * selected), writing the chosen operand index (or -1) to a scratch buffer. The second, one
 * invocation per result element, starts from the init value and applies the scatter region to
 * every source element that chose it, in row-major source order (deterministic).
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import type { OpLowering } from '../program.js';
import { dtypeOf, flatten, KernelBuilder, load, regType, sizeOf, store, unflatten } from './common.js';
import { callRegion, regionFunction } from './region.js';

/** Lowers `stablehlo.reduce_window` (N inputs, N inits, N results): one kernel. */
export const lowerReduceWindow: OpLowering<Op.ReduceWindow> = (o, operands, results, ctx) => {
  const n = o.operands.length / 2;
  if (!Number.isInteger(n) || results.length !== n) throw new UnsupportedOpError(`${o.op}: expected N inputs, N inits and N results`, o.loc);
  const a = o.attrs;
  const inT = o.operands[0].type;
  const outT = o.results[0].type;
  const kb = new KernelBuilder(ctx, o);
  const ins = o.operands.slice(0, n).map((v, k) => kb.storage(operands[k], dtypeOf(v.type, o), 'read', `input${k}`));
  const inits = o.operands.slice(n).map((v, k) => kb.storage(operands[n + k], dtypeOf(v.type, o), 'read', `init${k}`));
  const outs = o.results.map((v, k) => kb.storage(results[k], dtypeOf(v.type, o), 'read_write', `result${k}`));
  const b = kb.b;
  const fn = regionFunction(b, o.regions[0], 'body_fn', o);
  const window = a.windowDimensions;
  const windowSize = window.reduce((x, y) => x * y, 1);
  const wg = kb.flatEntry(sizeOf(outT), (i) => {
    const r = unflatten(b, i, outT.shape, 'o');
    const initVals = inits.map((v) => b.let(load(v, '0'), regType(v.dtype), 'init'));
    const acc = initVals.map((v, k) => b.var(regType(ins[k].dtype), v, 'acc'));
    b.block(`for (var w = 0u; w < ${windowSize}u; w++)`, () => {
      const k = unflatten(b, 'w', window, 'k');
      const inside: string[] = [];
      const coords = inT.shape.map((L, d) => {
        const bd = a.baseDilations[d];
        const p = b.let(`${r[d]} * ${a.windowStrides[d]} + ${k[d]} * ${a.windowDilations[d]} - ${a.padding[d][0]}`, 'i32', 'p');
        inside.push(`${p} >= 0`, `${p} <= ${(L - 1) * bd}`);
        if (bd > 1) inside.push(`${p} % ${bd} == 0`);
        return bd > 1 ? `(${p} / ${bd})` : p;
      });
      const ok = b.let(inside.join(' && ') || 'true', 'bool', 'in');
      // Out-of-range reads are avoided by reading element 0 and selecting the init value instead.
      const at = b.let(`select(0u, ${flatten(coords, inT.shape)}, ${ok})`, 'u32', 'at');
      const vals = ins.map((v, j) => `select(${initVals[j]}, ${load(v, at)}, ${ok})`);
      const next = callRegion(b, fn, [...acc, ...vals]);
      acc.forEach((x, j) => b.line(`${x} = ${next[j]};`));
    });
    outs.forEach((v, j) => b.line(store(v, i, acc[j])));
  });
  ctx.dispatch(kb.finish(`reduce_window_${o.loc?.line ?? 0}`, wg));
};

/** Lowers `stablehlo.select_and_scatter`: a selection kernel and a scatter kernel. */
export const lowerSelectAndScatter: OpLowering<Op.SelectAndScatter> = (o, operands, results, ctx) => {
  const a = o.attrs;
  const opT = o.operands[0].type;
  const srcT = o.operands[1].type;
  const window = a.windowDimensions;
  const windowSize = window.reduce((x, y) => x * y, 1);
  const chosen = ctx.temp(Math.max(4, 4 * sizeOf(srcT)));
  const line = o.loc?.line ?? 0;

  // Kernel 1: the operand index each window selects.
  {
    const kb = new KernelBuilder(ctx, o);
    const operand = kb.storage(operands[0], dtypeOf(opT, o), 'read', 'operand');
    const sel = kb.storage(chosen, 'i32', 'read_write', 'chosen');
    const b = kb.b;
    const fn = regionFunction(b, o.regions[0], 'select_fn', o);
    const wg = kb.flatEntry(sizeOf(srcT), (i) => {
      const s = unflatten(b, i, srcT.shape, 's');
      const best = b.var('i32', '-1', 'best');
      const bestVal = b.var(regType(operand.dtype), undefined, 'bestv');
      b.block(`for (var w = 0u; w < ${windowSize}u; w++)`, () => {
        const k = unflatten(b, 'w', window, 'k');
        const inside: string[] = [];
        const coords = opT.shape.map((L, d) => {
          const p = b.let(`${s[d]} * ${a.windowStrides[d]} + ${k[d]} - ${a.padding[d][0]}`, 'i32', 'p');
          inside.push(`${p} >= 0`, `${p} < ${L}`);
          return p;
        });
        if (inside.length) b.line(`if (!(${inside.join(' && ')})) { continue; }`);
        const at = b.let(flatten(coords, opT.shape), 'u32', 'at');
        const v = b.let(load(operand, at), regType(operand.dtype), 'v');
        // The current choice stays unless the select region prefers it over nothing (first) or not at all.
        const keep = callRegion(b, fn, [bestVal, v])[0];
        b.block(`if (${best} < 0 || !${keep})`, () => {
          b.line(`${best} = i32(${at});`);
          b.line(`${bestVal} = ${v};`);
        });
      });
      b.line(store(sel, i, best));
    });
    ctx.dispatch(kb.finish(`select_and_scatter_select_${line}`, wg));
  }

  // Kernel 2: each result element gathers the source elements that chose it.
  {
    const kb = new KernelBuilder(ctx, o);
    const sel = kb.storage(chosen, 'i32', 'read', 'chosen');
    const source = kb.storage(operands[1], dtypeOf(srcT, o), 'read', 'source');
    const init = kb.storage(operands[2], dtypeOf(o.operands[2].type, o), 'read', 'init');
    const out = kb.storage(results[0], dtypeOf(o.results[0].type, o), 'read_write', 'result');
    const b = kb.b;
    const fn = regionFunction(b, o.regions[1], 'scatter_fn', o);
    // Along each dim, at most ceil(window / stride) windows hold a given element.
    const reach = window.map((w, d) => Math.ceil(w / a.windowStrides[d]));
    const reachSize = reach.reduce((x, y) => x * y, 1);
    const wg = kb.flatEntry(sizeOf(opT), (i) => {
      const e = unflatten(b, i, opT.shape, 'e');
      const lo = e.map((c, d) => {
        const num = b.let(`${c} + ${a.padding[d][0]} - ${window[d] - 1}`, 'i32', 'n');
        const st = a.windowStrides[d];
        // WGSL's `/` truncates, which is the ceiling for negative numerators.
        return b.let(`max(0, select((${num} + ${st - 1}) / ${st}, ${num} / ${st}, ${num} < 0))`, 'i32', 'lo');
      });
      const acc = b.var(regType(out.dtype), load(init, '0'), 'acc');
      b.block(`for (var t = 0u; t < ${reachSize}u; t++)`, () => {
        const tk = unflatten(b, 't', reach, 'tk');
        const inside: string[] = [];
        const src = srcT.shape.map((S, d) => {
          const sd = b.let(`${lo[d]} + ${tk[d]}`, 'i32', 'sd');
          inside.push(`${sd} < ${S}`, `${sd} * ${a.windowStrides[d]} - ${a.padding[d][0]} <= ${e[d]}`);
          return sd;
        });
        if (inside.length) b.line(`if (!(${inside.join(' && ')})) { continue; }`);
        const si = b.let(flatten(src, srcT.shape), 'u32', 'si');
        b.block(`if (${load(sel, si)} == i32(${i}))`, () => {
          b.line(`${acc} = ${callRegion(b, fn, [acc, load(source, si)])[0]};`);
        });
      });
      b.line(store(out, i, acc));
    });
    ctx.dispatch(kb.finish(`select_and_scatter_scatter_${line}`, wg));
  }
};
