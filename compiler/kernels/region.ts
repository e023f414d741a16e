/**
 * @file Scalar code for the regions of scatter, reduce_window, select_and_scatter and sort: the
 * region's block becomes one WGSL function over register values (i1 as `bool`). Only simple
 * elementwise ops are emitted; anything else is refused with the op's name and location.
 * Integer and NaN semantics follow https://openxla.org/stablehlo/spec (and XLA where the spec
 * leaves them open): x / 0 is -1 (all ones unsigned), MIN / -1 is MIN, x % 0 is x; maximum and
 * minimum propagate NaN, which WGSL leaves unspecified, so NaN is tested on the bits.
 */
import type { NarrowDType } from '../../ir/dtype.js';
import { isSupportedDType, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import type { ComparisonDirection, ComparisonType } from '../../ir/ops.js';
import { Op } from '../../ir/ops.js';
import type { AnyOperation, Operation, Region, Value } from '../../ir/types.js';
import { emitScalar, literal as scalarLiteral, SCALAR } from '../codegen/scalar.js';
import { WgslBuilder } from '../wgsl.js';
import { regType } from './common.js';

/** Emits a helper that tells whether a float is NaN from its bits (WGSL may fold `x != x`). */
export function isNanHelper(b: WgslBuilder, d: NarrowDType): string {
  if (d === 'f16') {
    return b.helper('kiln_isnan_f16', `fn kiln_isnan_f16(x: f16) -> bool {
  return (bitcast<u32>(vec2<f16>(x, 0.0h)) & 0x7fffu) > 0x7c00u;
}`);
  }
  return b.helper('kiln_isnan_f32', `fn kiln_isnan_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}`);
}

/** Emits a helper mapping a float to an i32 whose signed order is the IEEE total order. */
export function totalOrderKeyHelper(b: WgslBuilder, d: NarrowDType): string {
  if (d === 'f16') {
    return b.helper('kiln_total_key_f16', `fn kiln_total_key_f16(x: f16) -> i32 {
  let i = i32(bitcast<u32>(vec2<f16>(x, 0.0h)) << 16u);
  return select(i, i ^ 0x7fffffff, i < 0);
}`);
  }
  return b.helper('kiln_total_key_f32', `fn kiln_total_key_f32(x: f32) -> i32 {
  let i = bitcast<i32>(x);
  return select(i, i ^ 0x7fffffff, i < 0);
}`);
}

/**
 * A WGSL expression of `x` as a register value of `d`, exact for every f32. NaN and infinities go
 * through a helper function: WGSL evaluates `bitcast` of a constant at shader creation and
 * rejects a non-finite result there.
 */
export function literal(b: WgslBuilder, x: number, d: NarrowDType): string {
  switch (d) {
    case 'f32': case 'bf16': {
      if (Number.isFinite(x)) return `${Math.fround(x)}f`;
      const f = b.helper('kiln_f32_bits', 'fn kiln_f32_bits(x: u32) -> f32 {\n  return bitcast<f32>(x);\n}');
      return `${f}(${Number.isNaN(x) ? '0x7fc00000u' : x > 0 ? '0x7f800000u' : '0xff800000u'})`;
    }
    case 'f16': {
      if (Number.isFinite(x)) return `${x}h`;
      const f = b.helper('kiln_f16_bits', 'fn kiln_f16_bits(x: u32) -> f16 {\n  return bitcast<vec2<f16>>(x).x;\n}');
      return `${f}(${Number.isNaN(x) ? '0x7e00u' : x > 0 ? '0x7c00u' : '0xfc00u'})`;
    }
    case 'i32': return x === -2147483648 ? 'bitcast<i32>(0x80000000u)' : `${x | 0}i`;
    case 'ui32': return `${x >>> 0}u`;
    case 'i1': return x ? 'true' : 'false';
    default: return d satisfies never;
  }
}

/** `a OP b` for a comparison of two register values of dtype `d`. */
export function compareExpr(
  b: WgslBuilder, dir: ComparisonDirection, type: ComparisonType | undefined, d: NarrowDType, x: string, y: string,
): string {
  const sym = { EQ: '==', NE: '!=', LT: '<', LE: '<=', GT: '>', GE: '>=' }[dir];
  if (d === 'i1') return `(select(0u, 1u, ${x}) ${sym} select(0u, 1u, ${y}))`;
  if (d !== 'f32' && d !== 'f16') return `(${x} ${sym} ${y})`;
  if (type === 'TOTALORDER') {
    const key = totalOrderKeyHelper(b, d);
    return `(${key}(${x}) ${sym} ${key}(${y}))`;
  }
  // IEEE: every ordered comparison with a NaN is false and NE is true.
  const nan = isNanHelper(b, d);
  const either = `(${nan}(${x}) || ${nan}(${y}))`;
  return dir === 'NE' ? `(${either} || ${x} != ${y})` : `(!${either} && ${x} ${sym} ${y})`;
}

/** NaN-propagating maximum or minimum of two register values. */
export function maxMinExpr(b: WgslBuilder, which: 'max' | 'min', d: NarrowDType, x: string, y: string): string {
  if (d === 'i1') return which === 'max' ? `(${x} || ${y})` : `(${x} && ${y})`;
  if (d !== 'f32' && d !== 'f16') return `${which}(${x}, ${y})`;
  const nan = isNanHelper(b, d);
  return `select(select(${which}(${x}, ${y}), ${y}, ${nan}(${y})), ${x}, ${nan}(${x}))`;
}

function intDivHelpers(b: WgslBuilder, d: 'i32' | 'ui32', kind: 'div' | 'rem'): string {
  const name = `kiln_${kind}_${d}`;
  if (d === 'i32') {
    return b.helper(name, kind === 'div'
      ? `fn ${name}(a: i32, b: i32) -> i32 {
  if (b == 0) { return -1; }
  if (b == -1) { return 0 - a; }
  return a / b;
}`
      : `fn ${name}(a: i32, b: i32) -> i32 {
  if (b == 0) { return a; }
  if (b == -1) { return 0; }
  return a % b;
}`);
  }
  return b.helper(name, kind === 'div'
    ? `fn ${name}(a: u32, b: u32) -> u32 {
  if (b == 0u) { return 0xffffffffu; }
  return a / b;
}`
    : `fn ${name}(a: u32, b: u32) -> u32 {
  if (b == 0u) { return a; }
  return a % b;
}`);
}

/** The dtype of a region value, refused unless it is a scalar kiln computes on. */
function scalarDType(v: Value, o: Operation, where: Operation): NarrowDType {
  if (v.type.shape.length !== 0 || !isSupportedDType(v.type.dtype)) {
    throw new UnsupportedOpError(
      `${where.op}: region value of type tensor<${[...v.type.shape, v.type.dtype].join('x')}> in ${o.op} is not supported`,
      o.loc ?? where.loc,
    );
  }
  return v.type.dtype as NarrowDType;
}

function unsupported(o: Operation, where: Operation, why = 'is not supported in a region'): never {
  throw new UnsupportedOpError(`${where.op}: ${o.op} ${why}`, o.loc ?? where.loc);
}

/** WGSL of one scalar op given the expressions of its operands. */
function scalarOp(b: WgslBuilder, o: AnyOperation, args: string[], where: Operation): string {
  const d = scalarDType(o.operands[0] ?? o.results[0], o, where);
  const float = d === 'f32' || d === 'f16' || d === 'bf16';
  const [x, y, z] = args;
  switch (o.op) {
    case Op.Add: return d === 'i1' ? `(${x} || ${y})` : `(${x} + ${y})`;
    case Op.Multiply: return d === 'i1' ? `(${x} && ${y})` : `(${x} * ${y})`;
    case Op.Subtract: return d === 'i1' ? unsupported(o, where, 'on i1') : `(${x} - ${y})`;
    case Op.Divide:
      if (float) return `(${x} / ${y})`;
      if (d === 'i1') return unsupported(o, where, 'on i1');
      return `${intDivHelpers(b, d, 'div')}(${x}, ${y})`;
    case Op.Remainder:
      if (float) return `(${x} % ${y})`;
      if (d === 'i1') return unsupported(o, where, 'on i1');
      return `${intDivHelpers(b, d, 'rem')}(${x}, ${y})`;
    case Op.Maximum: return maxMinExpr(b, 'max', d, x, y);
    case Op.Minimum: return maxMinExpr(b, 'min', d, x, y);
    case Op.And: return d === 'i1' ? `(${x} && ${y})` : `(${x} & ${y})`;
    case Op.Or: return d === 'i1' ? `(${x} || ${y})` : `(${x} | ${y})`;
    case Op.Xor: return d === 'i1' ? `(${x} != ${y})` : `(${x} ^ ${y})`;
    case Op.Not: return d === 'i1' ? `(!${x})` : `(~${x})`;
    case Op.Negate: return d === 'ui32' ? `(0u - ${x})` : d === 'i1' ? x : `(-${x})`;
    case Op.Abs: return d === 'ui32' || d === 'i1' ? x : `abs(${x})`;
    case Op.Compare: return compareExpr(b, o.attrs.direction, o.attrs.compareType, d, x, y);
    case Op.Select: return `select(${z}, ${y}, ${x})`;
    case Op.Clamp: {
      const xd = scalarDType(o.operands[1], o, where);
      return maxMinExpr(b, 'min', xd, maxMinExpr(b, 'max', xd, y, x), z);
    }
    case Op.Convert: {
      const to = scalarDType(o.results[0], o, where);
      if (to === d) return x;
      if (to === 'i1') return d === 'i1' ? x : `(${x} != ${regType(d)}(0))`;
      if (d === 'i1') return `select(${regType(to)}(0), ${regType(to)}(1), ${x})`;
      return `${regType(to)}(${x})`;
    }
    case Op.Exp: case Op.Log: case Op.Sqrt: case Op.Tanh: case Op.Floor: case Op.Ceil:
    case Op.Sin: case Op.Cos: case Op.Rsqrt: {
      if (!float) return unsupported(o, where, `on ${d}`);
      const fn = { [Op.Exp]: 'exp', [Op.Log]: 'log', [Op.Sqrt]: 'sqrt', [Op.Tanh]: 'tanh', [Op.Floor]: 'floor',
        [Op.Ceil]: 'ceil', [Op.Sin]: 'sin', [Op.Cos]: 'cos', [Op.Rsqrt]: 'inverseSqrt' }[o.op];
      return `${fn}(${x})`;
    }
    // Shape ops on scalars are the identity.
    case Op.BroadcastInDim: case Op.Reshape: return x;
    default: return fusedRule(b, o, args, where);
  }
}

/**
 * One op on complex<f32> values (vec2<f32> registers) inside a region: the fused kernels' complex
 * rules (compiler/codegen/complex.ts: kc_mul for a product, ...). Never the real rules of
 * {@link scalarOp}, whose `*` on a vec2 would multiply the parts componentwise.
 */
function complexOp(b: WgslBuilder, o: AnyOperation, args: string[], where: Operation): string {
  if (o.op === Op.BroadcastInDim || o.op === Op.Reshape) return args[0];
  if (SCALAR[o.op] === null) return unsupported(o, where, 'on complex<f32> is not supported in a region');
  const ins = o.operands.map((v) => v.type.dtype as SupportedDType);
  const out = o.results[0].type.dtype as SupportedDType;
  try {
    return emitScalar(o.op, { b, args, ins, out, attrs: o.attrs });
  } catch {
    return unsupported(o, where, 'on complex<f32> is not supported in a region');
  }
}

/**
 * Any other elementwise op through the fused kernels' scalar table (compiler/codegen/scalar.ts),
 * whose registers are the region's for every dtype but f16 (fused kernels hold f16 in f32
 * registers; regions in f16 ones), so a region of f32 or integer values gets every op a fused
 * kernel has (log_plus_one in cumlogsumexp, power in a scatter combiner, ...).
 */
function fusedRule(b: WgslBuilder, o: AnyOperation, args: string[], where: Operation): string {
  const ins = o.operands.map((v) => scalarDType(v, o, where));
  const out = scalarDType(o.results[0], o, where);
  if (SCALAR[o.op] === null || [...ins, out].includes('f16')) return unsupported(o, where);
  return emitScalar(o.op, { b, args, ins, out, attrs: o.attrs });
}

/** A region compiled to a WGSL function `name(args) -> R`. */
export interface RegionFunction {
  name: string;
  /** Dtypes of the region's arguments and results. */
  argTypes: NarrowDType[];
  resultTypes: NarrowDType[];
}

/**
 * Emits the region's block as a helper function of `outer` named `name`: parameters are the block
 * arguments as register values, and the result is one value or, for several, a struct with fields
 * `v0`, `v1`, ... Use {@link callRegion} to call it.
 */
export function regionFunction(outer: WgslBuilder, region: Region, name: string, where: Operation): RegionFunction {
  const block = region.block;
  const inner = new WgslBuilder();
  const env = new Map<Value, string>();
  const argTypes = block.args.map((a) => scalarDType(a, where, where));
  block.args.forEach((a, i) => env.set(a, `a${i}`));
  if (argTypes.includes('f16')) outer.enable('f16');
  const term = block.ops[block.ops.length - 1];
  if (!term || (term.op !== Op.Return && term.op !== Op.FuncReturn)) {
    throw new UnsupportedOpError(`${where.op}: region does not end in stablehlo.return`, where.loc);
  }
  const resultTypes = term.operands.map((v) => scalarDType(v, term, where));
  const ret = resultTypes.length === 1 ? regType(resultTypes[0]) : `${name}_r`;
  if (resultTypes.length > 1) {
    outer.helper(`${name}_r`, `struct ${name}_r {\n${resultTypes.map((t, i) => `  v${i}: ${regType(t)},`).join('\n')}\n}`);
  }
  const params = argTypes.map((t, i) => `a${i}: ${regType(t)}`).join(', ');
  inner.block(`fn ${name}(${params}) -> ${ret}`, () => {
    for (const o of block.ops.slice(0, -1) as AnyOperation[]) {
      if (o.regions.length) unsupported(o, where);
      let expr: string;
      const complex = [...o.operands, ...o.results].some((v) => v.type.dtype === 'c64');
      if (o.op === Op.Constant) {
        const t = scalarDType(o.results[0], o, where);
        const data = o.attrs.value.data;
        expr = complex ? scalarLiteral(Number(data[0]), 'c64', outer, Number(data[1])) : literal(outer, Number(data[0]), t);
      } else {
        const args = o.operands.map((v) => {
          const e = env.get(v);
          if (e === undefined) unsupported(o, where, 'uses a value defined outside its region');
          return e;
        });
        expr = complex ? complexOp(outer, o, args, where) : scalarOp(outer, o, args, where);
      }
      if (o.results.length !== 1) unsupported(o, where);
      if (scalarDType(o.results[0], o, where) === 'f16') outer.enable('f16');
      env.set(o.results[0], inner.let(expr, regType(scalarDType(o.results[0], o, where)), 'x'));
    }
    const outs = term.operands.map((v) => {
      const e = env.get(v);
      if (e === undefined) unsupported(term, where, 'returns a value defined outside its region');
      return e;
    });
    inner.line(resultTypes.length === 1 ? `return ${outs[0]};` : `return ${ret}(${outs.join(', ')});`);
  });
  outer.helper(name, inner.toString());
  return { name, argTypes, resultTypes };
}

/** Calls a region function, binding its results to fresh `let`s; returns their names. */
export function callRegion(b: WgslBuilder, f: RegionFunction, args: readonly string[]): string[] {
  const r = b.let(`${f.name}(${args.join(', ')})`);
  return f.resultTypes.length === 1 ? [r] : f.resultTypes.map((_, i) => `${r}.v${i}`);
}
