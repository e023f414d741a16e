/**
 * @file Rewrites the complex contractions into real ones before WebGPU code generation, so the
 * tuned f32 matmul and reduce kernels serve complex values too:
 * - `dot_general` of complex<f32>: (A + iB)(C + iD) = (AC - BD) + i(AD + BC), four real
 *   dot_generals of the operands' real and imaginary parts, combined by `stablehlo.complex`.
 * - `reduce` of one complex<f32> input with an `add` body (what JAX emits for sums): the real and
 *   imaginary parts are reduced separately.
 * - any other `reduce` with complex<f32> inputs (jnp.prod of complex; variadic reductions mixing
 *   complex and real inputs), and every `reduce_window` of complex values (JAX's CPU cumsum and
 *   cumprod of complex): a variadic reduce (reduce_window) of real values, each complex input and init split
 *   into its real and imaginary parts (the GPU reduce kernel's workgroup slots are 32-bit). Its
 *   body joins each pair back into a complex register (`stablehlo.complex`, a vec2 in WGSL), runs
 *   the original body's ops on those, and returns each complex result's real and imaginary parts;
 *   the results are joined again after the reduce. The body computes exactly what the original
 *   one computes, so only the order of the combinations (the kernel's tree) differs from the
 *   reference interpreter's, as for every float reduction.
 */
import { Op } from '../../ir/ops.js';
import type { AnyOperation, Module, Operation, TensorType, Value } from '../../ir/types.js';
import { binaryBody, binaryOpOf, cloneOp, emit, rewritePass, type RewriteContext } from './rewrite.js';

const partType = (t: TensorType): TensorType => ({ dtype: 'f32', shape: t.shape });

const none = {} as Record<string, never>;

/** The real and imaginary parts of a complex value, as two inserted ops. */
function parts(ctx: RewriteContext, from: Operation, v: Value): [Value, Value] {
  return [emit(ctx, from, Op.Real, [v], partType(v.type), none), emit(ctx, from, Op.Imag, [v], partType(v.type), none)];
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
      if (o.operands.length !== 2 || binaryOpOf(o.regions[0].block) !== Op.Add) return splitComplexReduce(ctx, o as Operation<Op.Reduce>);
      const [x, init] = o.operands;
      const [xr, xi] = parts(ctx, o, x);
      const [ir, ii] = parts(ctx, o, init);
      const t = partType(o.results[0].type);
      const sum = (v: Value, i: Value): Value => {
        const result: Value = { type: t };
        const red: Operation<Op.Reduce> = { op: Op.Reduce, operands: [v, i], results: [result], attrs: o.attrs, regions: [{ block: binaryBody(Op.Add, 'f32') }] };
        if (o.loc) red.loc = o.loc;
        ctx.insert(red);
        return result;
      };
      return [emit(ctx, o, Op.Complex, [sum(xr, ir), sum(xi, ii)], o.results[0].type, none)];
    }
    if (o.op === Op.ReduceWindow && o.operands.some((v) => v.type.dtype === 'c64')) return splitComplexReduce(ctx, o as Operation<Op.ReduceWindow>);
    return undefined;
  });
}

const scalar = (dtype: TensorType['dtype']): TensorType => ({ dtype, shape: [] });

/**
 * A reduce with complex<f32> inputs as a variadic reduce of real values (see the file comment):
 * every complex input, init, body argument and result becomes two f32 ones (real, imaginary).
 */
function splitComplexReduce<K extends Op.Reduce | Op.ReduceWindow>(ctx: RewriteContext, o: Operation<K>): Value[] {
  const n = o.operands.length / 2;
  const split = (vs: Value[]): Value[] => vs.flatMap((v) => (v.type.dtype === 'c64' ? parts(ctx, o, v) : [v]));
  const operands = [...split(o.operands.slice(0, n)), ...split(o.operands.slice(n))];
  const body = o.regions[0].block;
  const ops: Operation[] = [];
  const op = <K extends Op>(kind: K, ins: Value[], type: TensorType): Value => {
    const r: Value = { type };
    const x = { op: kind, operands: ins, results: [r], attrs: none, regions: [] } as unknown as Operation<K>;
    if (o.loc) x.loc = o.loc;
    ops.push(x as unknown as Operation);
    return r;
  };
  const map = new Map<Value, Value>();
  const args: Value[] = [];
  for (const a of body.args) {
    if (a.type.dtype !== 'c64') {
      const c: Value = { type: a.type };
      args.push(c);
      map.set(a, c);
      continue;
    }
    const [re, im]: Value[] = [{ type: scalar('f32') }, { type: scalar('f32') }];
    args.push(re, im);
    map.set(a, op(Op.Complex, [re, im], a.type));
  }
  const ret = body.ops[body.ops.length - 1];
  for (const b of body.ops.slice(0, -1)) ops.push(cloneOp(b, map) as Operation);
  const returned = ret.operands.map((v) => map.get(v) ?? v).flatMap((v) => (v.type.dtype === 'c64'
    ? [op(Op.Real, [v], scalar('f32')), op(Op.Imag, [v], scalar('f32'))] : [v]));
  ops.push({ op: Op.Return, operands: returned, results: [], attrs: none, regions: [] } as unknown as Operation);
  const results: Value[] = o.results.flatMap((r) => (r.type.dtype === 'c64' ? [{ type: partType(r.type) }, { type: partType(r.type) }] : [{ type: r.type }]));
  const red = { op: o.op, operands, results, attrs: o.attrs, regions: [{ block: { args, ops } }] } as Operation<K>;
  if (o.loc) red.loc = o.loc;
  ctx.insert(red);
  let k = 0;
  return o.results.map((r) => (r.type.dtype === 'c64' ? emit(ctx, o, Op.Complex, [results[k++], results[k++]], r.type, none) : results[k++]));
}
