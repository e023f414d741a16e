/**
 * @file bf16 emulation: rewrites every bf16 value of a module to an f32 value that holds a bf16
 * number, rounding each op's bf16 result to bf16 (round to nearest even, NaN kept, overflow to
 * infinity) with `reduce_precision` (8 exponent bits, 7 mantissa bits) right after the op: each op
 * in f32, its result rounded once, which is StableHLO's meaning. A bf16 `dot_general` accumulates
 * in f32 and rounds its result once (as XLA does), and a reduction's body rounds after every step.
 * XLA's CPU backend keeps a fused chain of bf16 elementwise ops in f32 and rounds only where it
 * stores, so such a chain may differ from JAX by one bf16 ulp (test/webgpu/jax-programs.test.ts). Storage is one 32-bit word per element (the f32 whose low 16 bits are zero),
 * on the GPU and on the host. Both devices run this pass first (the compiler's pipeline and the
 * reference interpreter), so bf16 has one definition.
 *
 * Known difference: a conversion from an integer past 2^24 to bf16 rounds twice (to f32, then
 * to bf16), as XLA's CPU backend does through f32. Refused: `bitcast_convert` to or from bf16
 * (its bits are not stored as 16-bit words).
 *
 * The entry function's bf16 arguments and results become f32 too: a bf16 host tensor holds its
 * values in a Float32Array (runtime/tensor.ts), and on the GPU its storage is the same f32 words,
 * so the devices pass it through and label the results bf16 again ({@link bf16Results}).
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import { Op, Terminators } from '../../ir/ops.js';
import { formatType, mainFunc, type AnyOperation, type Module, type Operation, type TensorType, type Value } from '../../ir/types.js';
import { cloneModule, moduleHasType, retypeModule, rewriteModule } from './rewrite.js';

/** Ops whose results are their regions' or callee's values, already rounded where computed. */
const PASS_THROUGH = new Set<Op>([Op.While, Op.If, Op.Case, Op.Call, Op.OptimizationBarrier, ...Terminators]);

const isBf16 = (t: TensorType) => t.dtype === 'bf16';
const asF32 = (t: TensorType): TensorType => ({ dtype: 'f32', shape: t.shape });

/** Which results of the entry function of `m` are bf16 (the lowered module says f32 there). */
export function bf16Results(m: Module): boolean[] {
  return mainFunc(m).resultTypes.map(isBf16);
}

function rounding(o: AnyOperation, insert: (x: Operation) => void): Value[] | undefined {
  if (o.op === Op.BitcastConvert && (isBf16(o.operands[0].type) || isBf16(o.results[0].type))) {
    throw new UnsupportedOpError(
      `${o.op}: ${formatType(o.operands[0].type)} to ${formatType(o.results[0].type)}: kiln holds bf16 as rounded f32 words, so it cannot reinterpret bf16 bits`, o.loc);
  }
  if (PASS_THROUGH.has(o.op) || !o.results.some((r) => isBf16(r.type))) return undefined;
  insert(o);
  return o.results.map((r) => {
    if (!isBf16(r.type)) return r;
    const out: Value = { type: asF32(r.type) };
    const rp: Operation<Op.ReducePrecision> = { op: Op.ReducePrecision, operands: [r], results: [out], attrs: { exponentBits: 8, mantissaBits: 7 }, regions: [] };
    if (o.loc) rp.loc = o.loc;
    insert(rp);
    return out;
  });
}

/**
 * Returns `m` with bf16 emulated in f32 (see the file header), or `m` itself when it has no bf16.
 * Throws an UnsupportedOpError naming the op or the entry function for what it refuses.
 */
export function lowerBf16(m: Module): Module {
  if (!moduleHasType(m, isBf16)) return m;
  const copy = cloneModule(m);
  rewriteModule(copy, (o, ctx) => rounding(o, (x) => ctx.insert(x)));
  retypeModule(copy, (t) => (isBf16(t) ? asF32(t) : t));
  return copy;
}
