/**
 * @file Rewrites the complex contractions into real ones before WebGPU code generation, so the
 * tuned f32 matmul and reduce kernels serve complex values too:
 * - `dot_general` of complex<f32>: (A + iB)(C + iD) = (AC - BD) + i(AD + BC), four real
 *   dot_generals of the operands' real and imaginary parts, combined by `stablehlo.complex`.
 * - `reduce` of one complex<f32> input with an `add` body (what JAX emits for sums): the real and
 *   imaginary parts are reduced separately.
 * A complex reduce with any other body (a product, several inputs) is refused with its reason:
 * the GPU reduce kernel holds 32-bit slots.
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import type { AnyOperation, Block, Module, Operation, TensorType, Value } from '../../ir/types.js';
import { rewritePass, type RewriteContext } from './rewrite.js';

const partType = (t: TensorType): TensorType => ({ dtype: 'f32', shape: t.shape });

/** Inserts `op(operands)` with one result of type `type` and returns that result. */
function emit<K extends Op>(ctx: RewriteContext, from: Operation, op: K, operands: Value[], type: TensorType, attrs: Operation<K>['attrs']): Value {
  const result: Value = { type };
  const o = { op, operands, results: [result], attrs, regions: [] } as Operation<K>;
  if (from.loc) o.loc = from.loc;
  ctx.insert(o);
  return result;
}

const none = {} as Record<string, never>;

/** The real and imaginary parts of a complex value, as two inserted ops. */
function parts(ctx: RewriteContext, from: Operation, v: Value): [Value, Value] {
  return [emit(ctx, from, Op.Real, [v], partType(v.type), none), emit(ctx, from, Op.Imag, [v], partType(v.type), none)];
}

/** An `add` body on two f32 scalars. */
function addBody(): Block {
  const [a, b]: Value[] = [{ type: { dtype: 'f32', shape: [] } }, { type: { dtype: 'f32', shape: [] } }];
  const sum: Value = { type: { dtype: 'f32', shape: [] } };
  return {
    args: [a, b],
    ops: [
      { op: Op.Add, operands: [a, b], results: [sum], attrs: none, regions: [] },
      { op: Op.Return, operands: [sum], results: [], attrs: none, regions: [] },
    ],
  };
}

/** Whether a reduce body is `return add(arg0, arg1)` (in either order). */
function isAddBody(b: Block): boolean {
  const [first, ret] = b.ops;
  return b.ops.length === 2 && first.op === Op.Add && ret.op === Op.Return && ret.operands[0] === first.results[0]
    && first.operands.every((v) => b.args.includes(v)) && first.operands[0] !== first.operands[1];
}

/** The pass: complex dot_general and reduce as real ones (see the file comment). */
export function splitComplexContractions(m: Module): Module {
  return rewritePass(m, (o: AnyOperation, ctx) => {
    if (o.op === Op.DotGeneral && o.results[0].type.dtype === 'c64') {
      const [l, r] = o.operands;
      const [a, b] = parts(ctx, o, l);
      const [c, d] = parts(ctx, o, r);
      const t = partType(o.results[0].type);
      const dot = (x: Value, y: Value) => emit(ctx, o, Op.DotGeneral, [x, y], t, o.attrs);
      const re = emit(ctx, o, Op.Subtract, [dot(a, c), dot(b, d)], t, none);
      const im = emit(ctx, o, Op.Add, [dot(a, d), dot(b, c)], t, none);
      return [emit(ctx, o, Op.Complex, [re, im], o.results[0].type, none)];
    }
    if (o.op === Op.Reduce && o.operands.some((v) => v.type.dtype === 'c64')) {
      if (o.operands.length !== 2 || !isAddBody(o.regions[0].block)) {
        throw new UnsupportedOpError(`${o.op}: a reduction of complex<f32> values is compiled for WebGPU only as a sum of one input (this one has ${o.operands.length / 2} input(s) and another body)`, o.loc);
      }
      const [x, init] = o.operands;
      const [xr, xi] = parts(ctx, o, x);
      const [ir, ii] = parts(ctx, o, init);
      const t = partType(o.results[0].type);
      const sum = (v: Value, i: Value): Value => {
        const result: Value = { type: t };
        const red: Operation<Op.Reduce> = { op: Op.Reduce, operands: [v, i], results: [result], attrs: o.attrs, regions: [{ block: addBody() }] };
        if (o.loc) red.loc = o.loc;
        ctx.insert(red);
        return result;
      };
      return [emit(ctx, o, Op.Complex, [sum(xr, ir), sum(xi, ii)], o.results[0].type, none)];
    }
    return undefined;
  });
}
