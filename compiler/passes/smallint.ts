/**
 * @file 8- and 16-bit integers (i8, ui8, i16, ui16): rewrites every such value of a module to an
 * i32 (signed) or ui32 (unsigned) value that holds a number in the narrow type's range, and wraps
 * each op's result back into that range right after the op, as two's-complement hardware does:
 * `(x << 24) >> 24` (shift_left, shift_right_arithmetic) for i8, `x & 0xff` for ui8, 16 for i16
 * and `0xffff` for ui16. Wrapping once after an op computed in 32 bits is exact for add, subtract,
 * multiply, negate, abs, not, shift_left, divide (-128 / -1 is -128, as in XLA), iota and
 * integer converts (which truncate bits), because arithmetic modulo 2^32 then modulo 2^8 is
 * arithmetic modulo 2^8. Ops whose result cannot leave the range given operands in range (data
 * movement, select, clamp, max/min, and/or/xor, sign, remainder, sort) get no wrap.
 *
 * Ops that read more than the value's number are rewritten here: shift_right_logical of a signed
 * type and popcnt / count_leading_zeros read the narrow bit pattern (`x & 0xff`);
 * shift_right_arithmetic of an unsigned type sign-extends from the narrow sign bit first; a float
 * converted to a narrow type saturates (clamped to the type's range, NaN to 0, as XLA converts);
 * `bitcast_convert` between the signed and unsigned type of one width reinterprets the bits.
 * A reduction, scatter or window whose body is one add / multiply / max / min / and / or / xor of
 * its arguments keeps that body unwrapped (so kernels still see a plain sum) and wraps its result
 * once, which gives the same value. Refused by name: `bitcast_convert` across widths (kiln stores
 * one element per 32-bit word), and `rng_bit_generator` or custom calls producing narrow integers.
 *
 * Storage is one 32-bit word per element on the GPU (4x the bytes of ui8). Both devices run this
 * pass first (the compiler's pipeline, and the reference interpreter), so the narrow types have
 * one definition; the entry function's narrow arguments and results become 32-bit too, and the
 * devices widen inputs and narrow results at the boundary (runtime/tensor.ts).
 */
import { isSmallInt, isFloat, widenedInt, type SmallIntDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, Terminators, type OpAttrs } from '../../ir/ops.js';
import { formatType, walkOps, type AnyOperation, type Module, type Operation, type TensorType, type Value } from '../../ir/types.js';
import type { Location } from '../../ir/errors.js';
import { cloneModule, moduleHasType, retypeModule, rewriteModule } from './rewrite.js';

/** Ops whose results are their regions' or callee's values, already wrapped where computed. */
const PASS_THROUGH = new Set<Op>([Op.While, Op.If, Op.Case, Op.Call, Op.OptimizationBarrier, ...Terminators]);

/** Ops whose narrow results stay in range when their operands are: no wrap after them. */
const IN_RANGE = new Set<Op>([
  Op.Constant, Op.BroadcastInDim, Op.Reshape, Op.Transpose, Op.Slice, Op.Concatenate, Op.Pad, Op.Reverse,
  Op.DynamicSlice, Op.DynamicUpdateSlice, Op.Gather, Op.Select, Op.Clamp, Op.Maximum, Op.Minimum,
  Op.And, Op.Or, Op.Xor, Op.Sign, Op.Remainder, Op.Sort,
]);

/** Region ops whose single-op bodies are kept unwrapped (their result is wrapped once instead). */
const COMBINING = new Set<Op>([Op.Reduce, Op.ReduceWindow, Op.Scatter, Op.SelectAndScatter]);
/** Body ops for which wrapping the combined result once equals wrapping every step. */
const RING_OPS = new Set<Op>([Op.Add, Op.Multiply, Op.Maximum, Op.Minimum, Op.And, Op.Or, Op.Xor]);

const small = (t: TensorType): SmallIntDType | undefined => (isSmallInt(t.dtype) ? t.dtype : undefined);
const wide = (t: TensorType): TensorType => {
  const d = small(t);
  return d ? { dtype: widenedInt(d), shape: t.shape } : t;
};
const width = (d: SmallIntDType) => (d === 'i8' || d === 'ui8' ? 8 : 16);

/** Builds the wrapping ops before the op being rewritten, at its location. */
class Emitter {
  constructor(private readonly insert: (o: Operation) => void, private readonly loc: Location | undefined) {}

  op<K extends Op>(op: K, operands: Value[], type: TensorType, attrs: OpAttrs[K]): Value {
    const out: Value = { type };
    const o = { op, operands, results: [out], attrs, regions: [] } as Operation<K>;
    if (this.loc) o.loc = this.loc;
    this.insert(o as Operation);
    return out;
  }

  /** A splat constant of `v` shaped like `like` (a wide value). */
  splat(like: TensorType, v: number): Value {
    const data = like.dtype === 'ui32' ? Uint32Array.of(v) : Int32Array.of(v);
    return this.op(Op.Constant, [], { dtype: like.dtype, shape: like.shape }, { value: { splat: true, data } });
  }

  /** `x` (a wide value) wrapped into the range of `d`. */
  wrap(x: Value, d: SmallIntDType): Value {
    const t = wide(x.type);
    if (d === 'ui8' || d === 'ui16') return this.op(Op.And, [x, this.splat(t, (1 << width(d)) - 1)], t, {});
    return this.signExtend(x, width(d));
  }

  /** The low `w` bits of `x` read as a signed number: `(x << (32 - w)) >> (32 - w)`. */
  signExtend(x: Value, w: number): Value {
    const t = wide(x.type);
    const k = this.splat(t, 32 - w);
    return this.op(Op.ShiftRightArithmetic, [this.op(Op.ShiftLeft, [x, k], t, {}), k], t, {});
  }

  /** The narrow bit pattern of `x` as a non-negative number: `x & (2^w - 1)`. */
  bits(x: Value, d: SmallIntDType): Value {
    if (d === 'ui8' || d === 'ui16') return x;
    const t = wide(x.type);
    return this.op(Op.And, [x, this.splat(t, (1 << width(d)) - 1)], t, {});
  }
}

/** The single body op of a combining region kept unwrapped, if `o` has such a body. */
function ringBodies(o: AnyOperation): Operation[] {
  if (!COMBINING.has(o.op) || !o.results.some((r) => small(r.type))) return [];
  const out: Operation[] = [];
  for (const r of o.regions) {
    const ops = r.block.ops;
    if (ops.length === 2 && RING_OPS.has(ops[0].op) && ops[1].operands[0] === ops[0].results[0]) out.push(ops[0]);
  }
  return out;
}

function refuse(o: AnyOperation, why: string): never {
  const types = [...o.operands, ...o.results].map((v) => formatType(v.type));
  throw new UnsupportedOpError(`${o.op}: ${why} (types ${[...new Set(types)].join(', ')})`, o.loc);
}

function lowerOp(o: AnyOperation, insert: (x: Operation) => void, keep: Set<Operation>): Value[] | undefined {
  if (PASS_THROUGH.has(o.op) || keep.has(o)) return undefined;
  const out = o.results.length === 1 ? small(o.results[0].type) : undefined;
  const x = o.operands[0];
  const from = x ? small(x.type) : undefined;
  const e = new Emitter(insert, o.loc);
  const r = o.results[0];
  switch (o.op) {
    case Op.BitcastConvert: {
      if (!out && !from) return undefined;
      if (!out || !from || width(out) !== width(from)) {
        refuse(o, 'kiln stores 8- and 16-bit integers widened to 32-bit words, so it reinterprets bits only between the signed and unsigned type of one width');
      }
      if (out === from) return [x];
      return [e.wrap(e.op(Op.BitcastConvert, [x], wide(r.type), {}), out)];
    }
    case Op.Convert:
      if (!out) return undefined;
      if (isFloat(x.type.dtype)) {
        // Saturating, as XLA converts floats to integers: to 32 bits (NaN to 0), then clamped.
        const c = e.op(Op.Convert, [x], wide(r.type), {});
        const [lo, hi] = out === 'i8' ? [-128, 127] : out === 'i16' ? [-32768, 32767] : [0, (1 << width(out)) - 1];
        const t = c.type;
        return [e.op(Op.Minimum, [e.op(Op.Maximum, [c, e.splat(t, lo)], t, {}), e.splat(t, hi)], t, {})];
      }
      if (x.type.dtype === 'c64') refuse(o, 'a complex value converts to a float type, not to a narrow integer');
      break;
    case Op.ShiftRightLogical:
      if (out && out !== 'ui8' && out !== 'ui16') {
        const t = wide(r.type);
        return [e.wrap(e.op(Op.ShiftRightLogical, [e.bits(x, out), o.operands[1]], t, {}), out)];
      }
      break;
    case Op.ShiftRightArithmetic:
      if (out === 'ui8' || out === 'ui16') {
        const t = wide(r.type);
        return [e.wrap(e.op(Op.ShiftRightArithmetic, [e.signExtend(x, width(out)), o.operands[1]], t, {}), out)];
      }
      break;
    case Op.Popcnt:
      if (out) return [e.op(Op.Popcnt, [e.bits(x, out)], wide(r.type), {})];
      break;
    case Op.Clz:
      if (out) {
        const t = wide(r.type);
        return [e.op(Op.Subtract, [e.op(Op.Clz, [e.bits(x, out)], t, {}), e.splat(t, 32 - width(out))], t, {})];
      }
      break;
    case Op.Constant:
      if (out) {
        // The literal as the 32-bit host array of its new type (a traced one may hold an Int8Array).
        const v = o.attrs.value;
        const data = widenedInt(out) === 'i32' ? Int32Array.from(v.data as ArrayLike<number>) : Uint32Array.from(v.data as ArrayLike<number>);
        return [e.op(Op.Constant, [], wide(r.type), { value: { splat: v.splat, data } })];
      }
      return undefined;
    case Op.RngBitGenerator: case Op.CustomCall:
      if (o.results.some((v) => small(v.type)) || o.operands.some((v) => small(v.type))) {
        refuse(o, 'kiln does not run this op on 8- or 16-bit integers');
      }
      return undefined;
    default:
      break;
  }
  if (IN_RANGE.has(o.op) || !o.results.some((v) => small(v.type))) return undefined;
  insert(o);
  return o.results.map((v) => {
    const d = small(v.type);
    return d ? e.wrap(v, d) : v;
  });
}

/**
 * Returns `m` with i8, ui8, i16 and ui16 computed in 32 bits (see the file header), or `m` itself
 * when it has none. Throws an UnsupportedOpError naming the op for what it refuses.
 */
export function lowerSmallInts(m: Module): Module {
  if (!moduleHasType(m, (t) => small(t) !== undefined)) return m;
  const copy = cloneModule(m);
  const keep = new Set<Operation>();
  for (const f of copy.funcs) walkOps(f.body, (o) => { for (const b of ringBodies(o as AnyOperation)) keep.add(b); });
  rewriteModule(copy, (o, ctx) => lowerOp(o, (x) => ctx.insert(x), keep));
  retypeModule(copy, wide);
  return copy;
}
