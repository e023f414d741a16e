/**
 * @file `stablehlo.convolution` (https://openxla.org/stablehlo/spec#convolution): dimension numbers,
 * window strides, padding (negative too), lhs and rhs dilation, window reversal, and feature and
 * batch groups. One invocation per result element accumulates over its input features and kernel
 * window; floats accumulate in f32 (f16 too), integers in their own type.
 *
 * Groups follow the spec's split-and-concatenate definition: with feature_group_count G, result
 * feature f belongs to group g = f / (O / G) and reads input features [g * C/G, (g + 1) * C/G);
 * with batch_group_count B, it belongs to group g = f / (O / B) and reads input batch
 * g * (N / B) + b for result batch b.
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { stridesOf } from '../../ir/types.js';
import type { OpLowering } from '../program.js';
import { KernelBuilder, regType, sizeOf, store, unflatten } from './common.js';

/** Lowers `stablehlo.convolution`: one kernel, one invocation per result element. */
export const lowerConvolution: OpLowering<Op.Convolution> = (o, operands, results, ctx) => {
  const a = o.attrs;
  const dn = a.dims;
  const [lhsT, rhsT] = o.operands.map((v) => v.type);
  const outT = o.results[0].type;
  const kb = new KernelBuilder(ctx, o);
  const [lhs, rhs] = kb.operands(operands, 'lhs', 'rhs');
  const [out] = kb.results(results, 'result');
  if (lhs.dtype === 'i1' || rhs.dtype === 'i1') throw new UnsupportedOpError(`${o.op}: i1 operands are not supported`, o.loc);
  const float = out.dtype === 'f32' || out.dtype === 'f16';
  const accT = float ? 'f32' : regType(out.dtype);
  const toAcc = (e: string, d: string) => (d === accT ? e : `${accT}(${e})`);
  const spatial = dn.inputSpatial.length;
  const C = lhsT.shape[dn.inputFeature];
  const N = lhsT.shape[dn.inputBatch];
  const O = rhsT.shape[dn.kernelOutput];
  const G = a.featureGroupCount;
  const B = a.batchGroupCount;
  const lhsStrides = stridesOf(lhsT.shape);
  const rhsStrides = stridesOf(rhsT.shape);
  const window = dn.kernelSpatial.map((d) => rhsT.shape[d]);
  const windowSize = window.reduce((x, y) => x * y, 1);
  const b = kb.b;
  const wg = kb.flatEntry(sizeOf(outT), (i) => {
    const r = unflatten(b, i, outT.shape, 'o');
    const f = r[dn.outputFeature];
    const batch = B > 1 ? `(${f} / ${O / B}) * ${N / B} + ${r[dn.outputBatch]}` : r[dn.outputBatch];
    const featureBase = G > 1 ? `(${f} / ${O / G}) * ${C / G}` : '0';
    const lhsBase = b.let(`(${batch}) * ${lhsStrides[dn.inputBatch]} + ${featureBase} * ${lhsStrides[dn.inputFeature]}`, 'i32', 'lb');
    const rhsBase = b.let(`${f} * ${rhsStrides[dn.kernelOutput]}`, 'i32', 'rb');
    const acc = b.var(accT, `${accT}(0)`, 'acc');
    b.block(`for (var w = 0u; w < ${windowSize}u; w++)`, () => {
      const k = unflatten(b, 'w', window, 'k');
      const lhsTerms: string[] = [];
      const rhsTerms: string[] = [];
      const inside: string[] = [];
      for (let s = 0; s < spatial; s++) {
        const L = lhsT.shape[dn.inputSpatial[s]];
        const ld = a.lhsDilation[s];
        // Position in the padded, lhs-dilated input; real elements sit at multiples of ld.
        const p = b.let(`${r[dn.outputSpatial[s]]} * ${a.windowStrides[s]} + ${k[s]} * ${a.rhsDilation[s]} - ${a.padding[s][0]}`, 'i32', 'p');
        inside.push(`${p} >= 0`, `${p} <= ${(L - 1) * ld}`);
        if (ld > 1) inside.push(`${p} % ${ld} == 0`);
        lhsTerms.push(`${ld > 1 ? `(${p} / ${ld})` : p} * ${lhsStrides[dn.inputSpatial[s]]}`);
        const kr = a.windowReversal[s] ? `(${window[s] - 1} - ${k[s]})` : k[s];
        rhsTerms.push(`${kr} * ${rhsStrides[dn.kernelSpatial[s]]}`);
      }
      if (inside.length) b.line(`if (!(${inside.join(' && ')})) { continue; }`);
      const li = b.let([lhsBase, ...lhsTerms].join(' + '), 'i32', 'li');
      const ri = b.let([rhsBase, ...rhsTerms].join(' + '), 'i32', 'ri');
      b.block(`for (var c = 0; c < ${C / G}; c++)`, () => {
        const x = toAcc(`lhs[${li} + c * ${lhsStrides[dn.inputFeature]}]`, regType(lhs.dtype));
        const y = toAcc(`rhs[${ri} + c * ${rhsStrides[dn.kernelInput]}]`, regType(rhs.dtype));
        b.line(`${acc} += ${x} * ${y};`);
      });
    });
    b.line(store(out, i, accT === regType(out.dtype) ? acc : `${regType(out.dtype)}(${acc})`));
  });
  ctx.dispatch(kb.finish(`convolution_${o.loc?.line ?? 0}`, wg));
};
