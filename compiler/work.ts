/**
 * @file The arithmetic a kernel does, for profiles (`kiln profile`'s FLOP rate and roofline):
 * `dot_general` 2·|result|·K, `convolution` 2·|result|·(input features per group × window), every
 * other computing op 1 per element it produces (a reduction: 1 per input element per body op), data
 * movement 0. Counted over the ops a fused kernel computes, which is what the fusion plan inlines
 * into it; an inlined value recomputed for several consumers counts once.
 */
import { Op } from '../ir/ops.js';
import { numElements, type AnyOperation, type Operation, type Value } from '../ir/types.js';
import { KIND, rootOps, type FusionPlan, type Group } from './fusion.js';

/** FLOPs of one op on its own. */
export function opFlops(o: AnyOperation): number {
  const out = o.results[0] ? numElements(o.results[0].type.shape) : 0;
  if (o.op === Op.DotGeneral) {
    const { dims } = (o as Operation<Op.DotGeneral>).attrs;
    const lhs = o.operands[0].type.shape;
    return 2 * out * dims.lhsContract.reduce((k, d) => k * lhs[d], 1);
  }
  if (o.op === Op.Convolution) {
    // The kernel's input-feature dimension is already per feature group.
    const c = o as Operation<Op.Convolution>;
    const kernel = c.operands[1].type.shape, d = c.attrs.dims;
    return 2 * out * kernel[d.kernelInput] * d.kernelSpatial.reduce((w, s) => w * kernel[s], 1);
  }
  switch (KIND[o.op]) {
    case 'elementwise': return out;
    case 'reduce': {
      const body = o.regions[0]?.block.ops.filter((x) => KIND[x.op] === 'elementwise').length ?? 1;
      return numElements(o.operands[0].type.shape) * Math.max(1, body);
    }
    default: return 0;
  }
}

/** FLOPs of the kernel a fusion group becomes: its root and every op inlined into it. */
export function groupFlops(plan: FusionPlan, g: Group): number {
  const seen = new Set<Value>();
  let total = 0;
  const walk = (v: Value, top: boolean) => {
    if (seen.has(v) || (!top && plan.buffered.has(v))) return;
    seen.add(v);
    const p = plan.producer.get(v);
    if (!p) return;
    for (const x of p.op.operands) walk(x, false);
    total += opFlops(p.op);
  };
  switch (g.kind) {
    case 'loop':
      for (const v of g.outputs) walk(v, true);
      return total;
    case 'reduce': case 'dot':
      // The root's (and stages') results are counted here, not again when an epilogue reads them.
      for (const o of rootOps(g)) for (const r of o.results) seen.add(r);
      for (const o of rootOps(g)) {
        total += opFlops(o);
        for (const x of o.operands) walk(x, false);
      }
      for (const e of g.epilogues) walk(e.value, true);
      return total;
    case 'indexed': return opFlops(g.op);
    case 'control': case 'barrier': return 0;
    default: return g satisfies never;
  }
}
