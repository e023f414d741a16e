/**
 * @file Shape rules: for every op, the result types that its operand types, attributes and (where
 * they decide it) regions imply, with the StableHLO constraints checked on the way. One typed table,
 * `{ [K in Op]: ShapeRule<K> }`; the elementwise families share a handful of rule factories that
 * differ only in the element types they accept. The verifier compares these against the declared
 * types, and the client's tracer types the ops it records with them.
 * Semantics: https://openxla.org/stablehlo/spec
 */
import { bitWidth, isBool, isComplex, isFloat, isSignedInteger, isUnsigned, lanes, type DType } from './dtype.js';
import { UnsupportedOpError, type Location } from './errors.js';
import { Op, Predicates, type OpAttrs } from './ops.js';
import {
  ANY, FLOAT, FLOAT_OR_COMPLEX, fmt, fmtTypes, INT, INT_OR_BOOL, NUMERIC, ShapeContext, SIGNED_OR_FLOAT, windowedSize,
  type DTypeClass, type RegionSignature, type ShapeExtras, type ShapeRule,
} from './shapes-context.js';
import { KIND_SHAPES, layoutProblem, targetRule } from './custom-calls.js';
import { convolutionRule, gatherRule, scatterRule } from './shapes-indexing.js';
import { formatType, numElements, sameShape, sameType, tensorType, type Region, type TensorType } from './types.js';

export {
  DTypeClasses, fmt, fmtTypes, NeedsDeclaredResult, ShapeContext, windowedSize,
  type DTypeClass, type FuncSignature, type RegionSignature, type ShapeExtras, type ShapeRule,
} from './shapes-context.js';

// ---- shared rule factories --------------------------------------------------------------------

/** Same-type unary op; the {@link Predicates} family yields i1 of the operand's shape. */
function unary<K extends Op>(cls: DTypeClass): ShapeRule<K> {
  return {
    infer(c) {
      c.arity(1);
      c.dtypeIn(0, cls);
      const t = c.operands[0];
      return [Predicates.has(c.op) ? tensorType('i1', t.shape) : t];
    },
  };
}

/** Same-type binary op: StableHLO has no implicit broadcasting, so shapes must be equal. */
function binary<K extends Op>(cls: DTypeClass): ShapeRule<K> {
  return {
    infer(c) {
      c.arity(2);
      c.sameType(0, 1);
      c.dtypeIn(0, cls);
      return [c.operands[0]];
    },
  };
}

/** The result is the operands' types, unchanged (while, optimization_barrier). */
function passThrough<K extends Op>(): ShapeRule<K> {
  return { infer: (c) => [...c.operands] };
}

/** Terminators yield no values; where they sit and what they return is the verifier's business. */
function terminator<K extends Op>(): ShapeRule<K> {
  return { infer: () => [] };
}

/** The results of a branch region: the operand types of its closing `stablehlo.return`. */
function regionReturns(c: ShapeContext<Op>, r: Region, name: string): TensorType[] {
  const last = r.block.ops[r.block.ops.length - 1];
  if (!last || last.op !== Op.Return) c.fail(`the ${name} region does not end in stablehlo.return`);
  return last.operands.map((v) => v.type);
}

function sameTypeLists(a: readonly TensorType[], b: readonly TensorType[]): boolean {
  return a.length === b.length && a.every((t, i) => sameType(t, b[i]));
}

/** Splits variadic `inputs ++ inits` operands (reduce, reduce_window) and checks them. */
function inputsAndInits(c: ShapeContext<Op>): number {
  const n = c.operands.length / 2;
  if (n < 1 || !Number.isInteger(n)) c.fail(`takes N inputs and N init values, got ${c.operands.length} operands`);
  for (let i = 0; i < n; i++) {
    if (!sameShape(c.operands[i].shape, c.operands[0].shape)) {
      c.fail(`inputs ${c.describe(0)} and ${c.describe(i)} must have the same shape`);
    }
    c.scalar(n + i, 'init value');
    c.sameDType(i, n + i);
  }
  return n;
}

/** The type of a complex type's parts (complex<f32> -> f32); a real type is its own part. */
export function partDType(d: DType): DType {
  return d === 'c64' ? 'f32' : d === 'c128' ? 'f64' : d;
}

/** `real`, `imag` and `abs`: a float or complex operand, a result of its part type. */
function toPart<K extends Op>(cls: DTypeClass): ShapeRule<K> {
  return {
    infer(c) {
      c.arity(1);
      c.dtypeIn(0, cls);
      const t = c.operands[0];
      return [tensorType(partDType(t.dtype), t.shape)];
    },
  };
}

/** Checks an FFT's operand and gives its result. https://openxla.org/stablehlo/spec#fft */
function fftResult(c: ShapeContext<Op.Fft>): TensorType {
  c.arity(1);
  const x = c.operands[0];
  const { fftType, fftLength: len } = c.attrs;
  const rank = x.shape.length;
  if (len.length < 1 || len.length > 3) c.fail(`fft_length = ${fmt(len)} must have 1 to 3 entries`);
  if (len.length > rank) c.fail(`fft_length = ${fmt(len)} has more entries than ${c.describe(0)} has dimensions`);
  if (len.some((n) => !Number.isInteger(n) || n < 0)) c.fail(`fft_length = ${fmt(len)} must be non-negative integers`);
  const lead = x.shape.slice(0, rank - len.length);
  const trail = x.shape.slice(rank - len.length);
  const last = len[len.length - 1];
  const expect = (want: readonly number[], what: string) => {
    if (!sameShape(trail, want)) c.fail(`the trailing dimensions of ${c.describe(0)} must be ${fmt(want)} (${what}) for fft_length = ${fmt(len)}`);
  };
  switch (fftType) {
    case 'FFT': case 'IFFT':
      if (!isComplex(x.dtype)) c.fail(`${fftType} needs a complex operand, got ${c.describe(0)}`);
      expect(len, 'fft_length');
      return x;
    case 'RFFT':
      if (!isFloat(x.dtype)) c.fail(`RFFT needs a float operand, got ${c.describe(0)}`);
      expect(len, 'fft_length');
      return tensorType(x.dtype === 'f64' ? 'c128' : 'c64', [...lead, ...len.slice(0, -1), last === 0 ? 0 : Math.floor(last / 2) + 1]);
    case 'IRFFT':
      if (!isComplex(x.dtype)) c.fail(`IRFFT needs a complex operand, got ${c.describe(0)}`);
      expect([...len.slice(0, -1), last === 0 ? 0 : Math.floor(last / 2) + 1], 'fft_length with the last one n/2+1');
      return tensorType(partDType(x.dtype), [...lead, ...len]);
    default: return fftType satisfies never;
  }
}

const scalarOf = (d: DType): TensorType => tensorType(d, []);
const I1 = scalarOf('i1');

/**
 * The batch-norm ops (https://openxla.org/stablehlo/spec#batch_norm_training): a float operand,
 * per-feature vectors of its feature dimension's size (`grad_output` has the operand's type).
 * Results: the operand's type, then (training, grad) two feature vectors.
 */
function batchNormRule<K extends Op.BatchNormTraining | Op.BatchNormInference | Op.BatchNormGrad>(names: string[], results: 1 | 3): ShapeRule<K> {
  return {
    infer(c) {
      c.arity(names.length);
      const x = c.operands[0];
      c.dtypeIn(0, FLOAT);
      const fi = c.attrs.featureIndex;
      if (!(Number.isInteger(fi) && fi >= 0 && fi < x.shape.length)) c.fail(`feature_index = ${fi} is out of range for ${c.describe(0)}`);
      const feature = tensorType(x.dtype, [x.shape[fi]]);
      names.forEach((name, i) => {
        const want = name === 'grad_output' || i === 0 ? x : feature;
        if (!sameType(c.operands[i], want)) c.fail(`${name} ${c.describe(i)} must be ${formatType(want)}`);
      });
      return results === 1 ? [x] : [x, feature, feature];
    },
  };
}

// ---- the table -------------------------------------------------------------------------------

const shapeRules: { [K in Op]: ShapeRule<K> } = {
  // abs of a complex value is its modulus, of the part type (https://openxla.org/stablehlo/spec#abs).
  [Op.Abs]: toPart({ name: 'a signed integer or float, or complex', test: (d) => SIGNED_OR_FLOAT.test(d) || isComplex(d) }),
  [Op.Negate]: unary(NUMERIC),
  [Op.Sign]: unary({ name: 'a signed integer or float, or complex', test: (d) => SIGNED_OR_FLOAT.test(d) || isComplex(d) }),
  [Op.Exp]: unary(FLOAT_OR_COMPLEX),
  [Op.Expm1]: unary(FLOAT_OR_COMPLEX),
  [Op.Log]: unary(FLOAT_OR_COMPLEX),
  [Op.Log1p]: unary(FLOAT_OR_COMPLEX),
  [Op.Logistic]: unary(FLOAT),
  [Op.Sqrt]: unary(FLOAT_OR_COMPLEX),
  [Op.Rsqrt]: unary(FLOAT_OR_COMPLEX),
  [Op.Cbrt]: unary(FLOAT),
  [Op.Sin]: unary(FLOAT_OR_COMPLEX),
  [Op.Cos]: unary(FLOAT_OR_COMPLEX),
  [Op.Tan]: unary(FLOAT),
  [Op.Tanh]: unary(FLOAT_OR_COMPLEX),
  [Op.Floor]: unary(FLOAT),
  [Op.Ceil]: unary(FLOAT),
  [Op.RoundAfz]: unary(FLOAT),
  [Op.RoundEven]: unary(FLOAT),
  [Op.Not]: unary(INT_OR_BOOL),
  [Op.Popcnt]: unary(INT),
  [Op.Clz]: unary(INT),
  [Op.IsFinite]: unary(FLOAT),
  [Op.Erf]: unary(FLOAT),
  [Op.Erfc]: unary(FLOAT),
  [Op.ErfInv]: unary(FLOAT),
  [Op.Square]: unary(NUMERIC),
  [Op.Sinh]: unary(FLOAT),
  [Op.Cosh]: unary(FLOAT),
  [Op.Asin]: unary(FLOAT),
  [Op.Acos]: unary(FLOAT),
  [Op.Atan]: unary(FLOAT),
  [Op.Asinh]: unary(FLOAT),
  [Op.Acosh]: unary(FLOAT),
  [Op.Atanh]: unary(FLOAT),
  [Op.Lgamma]: unary(FLOAT),
  [Op.Digamma]: unary(FLOAT),
  [Op.IsInf]: unary(FLOAT),
  [Op.IsPosInf]: unary(FLOAT),
  [Op.IsNegInf]: unary(FLOAT),
  [Op.Real]: toPart(FLOAT_OR_COMPLEX),
  [Op.Imag]: toPart(FLOAT_OR_COMPLEX),

  // add and multiply on i1 are `or` and `and` (https://openxla.org/stablehlo/spec#add); max/min too.
  [Op.Add]: binary(ANY),
  [Op.Subtract]: binary(NUMERIC),
  [Op.Multiply]: binary(ANY),
  [Op.Divide]: binary(NUMERIC),
  [Op.Remainder]: binary(NUMERIC),
  [Op.Power]: binary(NUMERIC),
  [Op.Maximum]: binary(ANY),
  [Op.Minimum]: binary(ANY),
  [Op.Atan2]: binary(FLOAT),
  [Op.And]: binary(INT_OR_BOOL),
  [Op.Or]: binary(INT_OR_BOOL),
  [Op.Xor]: binary(INT_OR_BOOL),
  [Op.ShiftLeft]: binary(INT),
  [Op.ShiftRightArithmetic]: binary(INT),
  [Op.ShiftRightLogical]: binary(INT),
  [Op.NextAfter]: binary(FLOAT),
  [Op.Zeta]: binary(FLOAT),
  [Op.Polygamma]: binary(FLOAT),
  [Op.BesselI1e]: unary(FLOAT),
  [Op.Compare]: {
    infer(c) {
      c.arity(2);
      c.sameType(0, 1);
      const d = c.operands[0].dtype;
      const t = c.attrs.compareType;
      // https://openxla.org/stablehlo/spec#compare (C3): the comparison type must suit the dtype.
      const ok = t === undefined
        || ((t === 'FLOAT' || t === 'TOTALORDER') && isFloat(d))
        || (t === 'SIGNED' && isSignedInteger(d))
        || (t === 'UNSIGNED' && (isUnsigned(d) || isBool(d)));
      if (!ok && !(t === 'FLOAT' && isComplex(d))) c.fail(`comparison type ${t} does not suit ${c.describe(0)}`);
      // Complex numbers have no order: XLA compares them only for (in)equality.
      if (isComplex(d) && c.attrs.direction !== 'EQ' && c.attrs.direction !== 'NE') {
        c.unsupported(`${c.attrs.direction} is not defined on ${c.describe(0)}: complex values compare only with EQ and NE`);
      }
      return [tensorType('i1', c.operands[0].shape)];
    },
  },
  [Op.Complex]: {
    infer(c) {
      c.arity(2);
      c.sameType(0, 1);
      const t = c.operands[0];
      if (t.dtype !== 'f32' && t.dtype !== 'f64') c.fail(`${c.describe(0)} must have element type f32 (or f64), the parts of a complex type`);
      return [tensorType(t.dtype === 'f32' ? 'c64' : 'c128', t.shape)];
    },
  },

  [Op.Select]: {
    infer(c) {
      c.arity(3);
      const [pred, onTrue] = c.operands;
      if (pred.dtype !== 'i1') c.fail(`predicate ${c.describe(0)} must have i1 element type`);
      c.sameType(1, 2);
      if (pred.shape.length !== 0 && !sameShape(pred.shape, onTrue.shape)) {
        c.fail(`predicate ${c.describe(0)} must be a scalar or have the shape of ${c.describe(1)}`);
      }
      return [onTrue];
    },
  },
  [Op.Clamp]: {
    infer(c) {
      c.arity(3);
      const x = c.operands[1];
      for (const i of [0, 2]) {
        c.sameDType(i, 1);
        const s = c.operands[i].shape;
        if (s.length !== 0 && !sameShape(s, x.shape)) {
          c.fail(`${i === 0 ? 'min' : 'max'} ${c.describe(i)} must be a scalar or have the shape of ${c.describe(1)}`);
        }
      }
      c.dtypeIn(1, NUMERIC);
      return [x];
    },
  },
  [Op.Convert]: {
    infer(c) {
      c.arity(1);
      const [r] = c.declared();
      if (!sameShape(r.shape, c.operands[0].shape)) c.fail(`result ${formatType(r)} must have the shape of ${c.describe(0)}`);
      return [r];
    },
  },
  [Op.BitcastConvert]: {
    infer(c) {
      c.arity(1);
      const [r] = c.declared();
      const x = c.operands[0];
      const [from, to] = [bitWidth(x.dtype), bitWidth(r.dtype)];
      if (from === to) {
        if (!sameShape(r.shape, x.shape)) c.fail(`result ${formatType(r)} must have the shape of ${c.describe(0)}`);
        return [r];
      }
      // Between 32 and 64 bits the narrow side has a trailing dimension of 2 words
      // (https://openxla.org/stablehlo/spec#bitcast_convert); JAX packs PRNG keys this way.
      if (from + to !== 96 || isBool(x.dtype) || isBool(r.dtype)) {
        c.unsupported(`${c.describe(0)} to ${formatType(r)}: kiln bitcasts between equal widths and between 32 and 64 bits only`);
      }
      const [narrow, wide] = from < to ? [x.shape, r.shape] : [r.shape, x.shape];
      if (!sameShape(narrow, [...wide, 2])) {
        c.fail(`${c.describe(0)} to ${formatType(r)}: the ${from < to ? 'operand' : 'result'}'s shape must be the other's with a trailing dimension of 2`);
      }
      return [r];
    },
  },
  [Op.ReducePrecision]: {
    infer(c) {
      c.arity(1);
      c.dtypeIn(0, FLOAT);
      const { exponentBits: e, mantissaBits: m } = c.attrs;
      if (!(Number.isInteger(e) && e >= 1 && Number.isInteger(m) && m >= 0)) {
        c.fail(`exponent_bits = ${e} must be >= 1 and mantissa_bits = ${m} must be >= 0`);
      }
      return [c.operands[0]];
    },
  },

  [Op.Constant]: {
    infer(c) {
      c.arity(0);
      const [r] = c.declared();
      const { splat, data } = c.attrs.value;
      const n = numElements(r.shape);
      const got = data.length / lanes(r.dtype);
      if (splat ? got !== 1 : got !== n) {
        c.fail(`literal has ${got} element${got === 1 ? '' : 's'}${splat ? ' (splat)' : ''}, ${formatType(r)} holds ${n}`);
      }
      return [r];
    },
  },
  [Op.Iota]: {
    infer(c) {
      c.arity(0);
      const [r] = c.declared();
      if (isBool(r.dtype)) c.fail(`result ${formatType(r)} must have an integer or float element type`);
      c.dims('iota_dimension', [c.attrs.dim], r.shape.length);
      return [r];
    },
  },
  [Op.BroadcastInDim]: {
    infer(c) {
      c.arity(1);
      const [r] = c.declared();
      const x = c.operands[0];
      const { dims } = c.attrs;
      if (x.dtype !== r.dtype) c.fail(`result ${formatType(r)} must have the element type of ${c.describe(0)}`);
      if (dims.length !== x.shape.length) c.fail(`broadcast_dimensions = ${fmt(dims)} needs one entry per dimension of ${c.describe(0)}`);
      c.dims('broadcast_dimensions', dims, r.shape.length);
      dims.forEach((d, i) => {
        if (x.shape[i] !== 1 && x.shape[i] !== r.shape[d]) {
          c.fail(`dimension ${i} of ${c.describe(0)} has size ${x.shape[i]}, which cannot broadcast to size ${r.shape[d]} of result dimension ${d} (${formatType(r)})`);
        }
      });
      return [r];
    },
  },
  [Op.Reshape]: {
    infer(c) {
      c.arity(1);
      const [r] = c.declared();
      const x = c.operands[0];
      if (x.dtype !== r.dtype) c.fail(`result ${formatType(r)} must have the element type of ${c.describe(0)}`);
      if (numElements(x.shape) !== numElements(r.shape)) {
        c.fail(`${c.describe(0)} has ${numElements(x.shape)} elements, result ${formatType(r)} has ${numElements(r.shape)}`);
      }
      return [r];
    },
  },
  [Op.Transpose]: {
    infer(c) {
      c.arity(1);
      const x = c.operands[0];
      const p = c.attrs.permutation;
      if (p.length !== x.shape.length) c.fail(`permutation ${fmt(p)} has ${p.length} entries, ${c.describe(0)} has rank ${x.shape.length}`);
      c.dims('permutation', p, x.shape.length);
      return [tensorType(x.dtype, p.map((d) => x.shape[d]))];
    },
  },
  [Op.Slice]: {
    infer(c) {
      c.arity(1);
      const x = c.operands[0];
      const { start, limit, strides } = c.attrs;
      const rank = x.shape.length;
      c.perDim('start_indices', start, rank);
      c.perDim('limit_indices', limit, rank);
      c.perDim('strides', strides, rank);
      const shape = x.shape.map((size, i) => {
        if (!(start[i] >= 0 && start[i] <= limit[i] && limit[i] <= size)) {
          c.fail(`dimension ${i}: slice ${start[i]}:${limit[i]} is outside 0:${size} of ${c.describe(0)} (or start > limit)`);
        }
        if (!(strides[i] >= 1)) c.fail(`dimension ${i}: stride ${strides[i]} must be >= 1`);
        return Math.ceil((limit[i] - start[i]) / strides[i]);
      });
      return [tensorType(x.dtype, shape)];
    },
  },
  [Op.DynamicSlice]: {
    infer(c) {
      const x = c.operands[0];
      if (!x) c.fail('takes an operand and one start index per dimension, got none');
      const rank = x.shape.length;
      c.arity(1 + rank);
      startIndices(c, 1, rank);
      const sizes = c.attrs.sliceSizes;
      c.perDim('slice_sizes', sizes, rank);
      sizes.forEach((s, i) => {
        if (!(s >= 0 && s <= x.shape[i])) c.fail(`slice_sizes = ${fmt(sizes)}: ${s} does not fit dimension ${i} of ${c.describe(0)}`);
      });
      return [tensorType(x.dtype, sizes)];
    },
  },
  [Op.DynamicUpdateSlice]: {
    infer(c) {
      if (c.operands.length < 2) c.fail(`takes an operand, an update and start indices, got ${c.operands.length} operands`);
      const [x, u] = c.operands;
      const rank = x.shape.length;
      c.arity(2 + rank);
      c.sameDType(0, 1);
      if (u.shape.length !== rank || u.shape.some((s, i) => s > x.shape[i])) {
        c.fail(`update ${c.describe(1)} must have the rank of ${c.describe(0)} and fit inside it`);
      }
      startIndices(c, 2, rank);
      return [x];
    },
  },
  [Op.Concatenate]: {
    infer(c) {
      if (c.operands.length < 1) c.fail('takes at least one operand');
      const x = c.operands[0];
      const d = c.attrs.dim;
      c.dims('dimension', [d], x.shape.length);
      let total = 0;
      c.operands.forEach((t, i) => {
        c.sameDType(0, i);
        if (t.shape.length !== x.shape.length || t.shape.some((s, j) => j !== d && s !== x.shape[j])) {
          c.fail(`${c.describe(i)} must match ${c.describe(0)} in every dimension but ${d}`);
        }
        total += t.shape[d];
      });
      return [tensorType(x.dtype, x.shape.map((s, j) => (j === d ? total : s)))];
    },
  },
  [Op.Pad]: {
    infer(c) {
      c.arity(2);
      const x = c.operands[0];
      c.scalar(1, 'padding value');
      c.sameDType(0, 1);
      const { low, high, interior } = c.attrs;
      const rank = x.shape.length;
      c.perDim('edge_padding_low', low, rank);
      c.perDim('edge_padding_high', high, rank);
      c.perDim('interior_padding', interior, rank);
      // Edge padding may be negative (it then crops); interior padding may not.
      const shape = x.shape.map((s, i) => {
        if (!(interior[i] >= 0)) c.fail(`interior_padding = ${fmt(interior)}: ${interior[i]} must be >= 0`);
        const size = low[i] + s + Math.max(s - 1, 0) * interior[i] + high[i];
        if (size < 0) c.fail(`dimension ${i} of ${c.describe(0)} padded by ${low[i]}, ${high[i]}, interior ${interior[i]} has negative size ${size}`);
        return size;
      });
      return [tensorType(x.dtype, shape)];
    },
  },
  [Op.Reverse]: {
    infer(c) {
      c.arity(1);
      c.dims('dimensions', c.attrs.dims, c.operands[0].shape.length);
      return [c.operands[0]];
    },
  },
  [Op.Gather]: gatherRule,
  [Op.Scatter]: scatterRule,

  [Op.Reduce]: {
    infer(c) {
      const n = inputsAndInits(c);
      const x = c.operands[0];
      c.dims('dimensions', c.attrs.dims, x.shape.length);
      const shape = x.shape.filter((_, i) => !c.attrs.dims.includes(i));
      return c.operands.slice(n).map((init) => tensorType(init.dtype, shape));
    },
    regions(c) {
      const scalars = c.operands.slice(c.operands.length / 2).map((t) => scalarOf(t.dtype));
      return [{ name: 'body', args: [...scalars, ...scalars], returns: scalars }];
    },
  },
  [Op.ReduceWindow]: {
    infer(c) {
      const n = inputsAndInits(c);
      const x = c.operands[0];
      const rank = x.shape.length;
      const a = c.attrs;
      // Optional attributes printed empty take their spec defaults (stride 1, no padding or dilation).
      const strides = a.windowStrides.length ? a.windowStrides : x.shape.map(() => 1);
      const baseDil = a.baseDilations.length ? a.baseDilations : x.shape.map(() => 1);
      const winDil = a.windowDilations.length ? a.windowDilations : x.shape.map(() => 1);
      const pad = a.padding.length ? a.padding : x.shape.map((): [number, number] => [0, 0]);
      c.perDim('window_dimensions', a.windowDimensions, rank);
      c.perDim('window_strides', strides, rank);
      c.perDim('base_dilations', baseDil, rank);
      c.perDim('window_dilations', winDil, rank);
      c.perDim('padding', pad, rank);
      for (const [what, xs] of [['window_dimensions', a.windowDimensions], ['window_strides', strides], ['base_dilations', baseDil], ['window_dilations', winDil]] as const) {
        if (xs.some((v) => !(v >= 1))) c.fail(`${what} = ${fmt(xs)} must all be >= 1`);
      }
      const shape = x.shape.map((s, i) => windowedSize(s, a.windowDimensions[i], strides[i], pad[i][0], pad[i][1], baseDil[i], winDil[i]));
      return c.operands.slice(n).map((init) => tensorType(init.dtype, shape));
    },
    regions(c) {
      const scalars = c.operands.slice(c.operands.length / 2).map((t) => scalarOf(t.dtype));
      return [{ name: 'body', args: [...scalars, ...scalars], returns: scalars }];
    },
  },
  [Op.SelectAndScatter]: {
    infer(c) {
      c.arity(3);
      const [x, source] = c.operands;
      const rank = x.shape.length;
      const a = c.attrs;
      const strides = a.windowStrides.length ? a.windowStrides : x.shape.map(() => 1);
      const pad = a.padding.length ? a.padding : x.shape.map((): [number, number] => [0, 0]);
      c.perDim('window_dimensions', a.windowDimensions, rank);
      c.perDim('window_strides', strides, rank);
      c.perDim('padding', pad, rank);
      if ([...a.windowDimensions, ...strides].some((v) => !(v >= 1))) c.fail('window_dimensions and window_strides must all be >= 1');
      c.sameDType(0, 1);
      c.scalar(2, 'init value');
      c.sameDType(0, 2);
      const want = x.shape.map((s, i) => windowedSize(s, a.windowDimensions[i], strides[i], pad[i][0], pad[i][1]));
      if (!sameShape(source.shape, want)) {
        c.fail(`source ${c.describe(1)} must have the windowed shape ${fmt(want)} of ${c.describe(0)}`);
      }
      return [x];
    },
    regions(c) {
      const e = scalarOf(c.operands[0].dtype);
      return [{ name: 'select', args: [e, e], returns: [I1] }, { name: 'scatter', args: [e, e], returns: [e] }];
    },
  },
  [Op.DotGeneral]: {
    infer(c) {
      c.arity(2);
      const [l, r] = c.operands;
      c.sameDType(0, 1);
      c.dtypeIn(0, NUMERIC);
      const { lhsBatch, rhsBatch, lhsContract, rhsContract } = c.attrs.dims;
      if (lhsBatch.length !== rhsBatch.length) c.fail(`batching dims ${fmt(lhsBatch)} x ${fmt(rhsBatch)} differ in length`);
      if (lhsContract.length !== rhsContract.length) c.fail(`contracting dims ${fmt(lhsContract)} x ${fmt(rhsContract)} differ in length`);
      c.dims('lhs batching and contracting dims', [...lhsBatch, ...lhsContract], l.shape.length);
      c.dims('rhs batching and contracting dims', [...rhsBatch, ...rhsContract], r.shape.length);
      lhsBatch.forEach((d, i) => {
        if (l.shape[d] !== r.shape[rhsBatch[i]]) {
          c.fail(`batching dims ${fmt(lhsBatch)} x ${fmt(rhsBatch)} have sizes ${l.shape[d]} and ${r.shape[rhsBatch[i]]}`);
        }
      });
      lhsContract.forEach((d, i) => {
        if (l.shape[d] !== r.shape[rhsContract[i]]) {
          c.fail(`contracting dims ${fmt(lhsContract)} x ${fmt(rhsContract)} have sizes ${l.shape[d]} and ${r.shape[rhsContract[i]]}`);
        }
      });
      const free = (t: TensorType, used: number[]) => t.shape.filter((_, i) => !used.includes(i));
      const shape = [
        ...lhsBatch.map((d) => l.shape[d]),
        ...free(l, [...lhsBatch, ...lhsContract]),
        ...free(r, [...rhsBatch, ...rhsContract]),
      ];
      // The result type may be wider than the operands' (JAX's preferred_element_type): f16
      // (or bf16) operands with an f32 result accumulate and round in f32. Other pairs keep the operand type.
      const declared = c.extras.resultTypes?.[0];
      const wider = (l.dtype === 'f16' || l.dtype === 'bf16') && declared?.dtype === 'f32';
      return [tensorType(wider ? 'f32' : l.dtype, shape)];
    },
  },
  [Op.Convolution]: convolutionRule,
  [Op.Sort]: {
    infer(c) {
      if (c.operands.length < 1) c.fail('takes at least one operand');
      const rank = c.operands[0].shape.length;
      c.operands.forEach((t, i) => {
        if (!sameShape(t.shape, c.operands[0].shape)) c.fail(`${c.describe(i)} must have the shape of ${c.describe(0)}`);
      });
      const d = c.attrs.dimension;
      if (!(Number.isInteger(d) && d >= -rank && d < rank)) c.fail(`dimension = ${d} is out of range for rank ${rank}`);
      return [...c.operands];
    },
    regions(c) {
      // The comparator takes (lhs, rhs) per input: lhs0, rhs0, lhs1, rhs1, ...
      const args = c.operands.flatMap((t) => [scalarOf(t.dtype), scalarOf(t.dtype)]);
      return [{ name: 'comparator', args, returns: [I1] }];
    },
  },
  [Op.Scan]: {
    infer(c) {
      const k = c.attrs.numInits;
      const n = c.operands.length - k;
      if (!(Number.isInteger(k) && k >= 0 && n >= 1)) c.fail(`takes at least one input before its ${k} init(s), got ${c.operands.length} operand(s)`);
      const shape = c.operands[0].shape;
      for (let i = 1; i < n; i++) {
        if (!sameShape(c.operands[i].shape, shape)) c.fail(`input ${c.describe(i)} must have the shape of ${c.describe(0)}`);
      }
      const d = c.attrs.dimension;
      if (!(Number.isInteger(d) && d >= 0 && d < shape.length)) c.fail(`dimension = ${d} is out of range for rank ${shape.length}`);
      const declared = c.extras.resultTypes ?? c.fail("its result types must be given: the body determines the outputs' element types");
      const m = declared.length - k;
      if (m < 0) c.fail(`has ${k} init(s) but ${declared.length} result(s) declared`);
      for (let i = 0; i < m; i++) {
        if (!sameShape(declared[i].shape, shape)) c.fail(`output #${i} (${formatType(declared[i])}) must have the shape of ${c.describe(0)}`);
      }
      return [...declared.slice(0, m), ...c.operands.slice(n)];
    },
    regions(c, results) {
      const k = c.attrs.numInits;
      const n = c.operands.length - k;
      const slice = (t: TensorType) => tensorType(t.dtype, t.shape.filter((_, i) => i !== c.attrs.dimension));
      const carries = c.operands.slice(n);
      return [{
        name: 'body', args: [...c.operands.slice(0, n).map(slice), ...carries],
        returns: [...results.slice(0, results.length - k).map(slice), ...carries],
      }];
    },
  },
  [Op.Fft]: { infer: (c) => [fftResult(c)] },
  [Op.TopK]: {
    infer(c) {
      c.arity(1);
      const x = c.operands[0];
      const k = c.attrs.k;
      const last = x.shape[x.shape.length - 1];
      if (x.shape.length < 1) c.fail(`${c.describe(0)} must have rank >= 1`);
      if (!(Number.isInteger(k) && k >= 0 && k <= last)) c.fail(`k = ${k} must lie in [0, ${last}], the last dimension of ${c.describe(0)}`);
      const shape = [...x.shape.slice(0, -1), k];
      return [tensorType(x.dtype, shape), tensorType('i32', shape)];
    },
  },
  [Op.BatchNormTraining]: batchNormRule(['operand', 'scale', 'offset'], 3),
  [Op.BatchNormInference]: batchNormRule(['operand', 'scale', 'offset', 'mean', 'variance'], 1),
  [Op.BatchNormGrad]: batchNormRule(['operand', 'scale', 'mean', 'variance', 'grad_output'], 3),
  [Op.RngBitGenerator]: {
    infer(c) {
      c.arity(1);
      const [state, out] = c.declared(2);
      const s = c.operands[0];
      const sizes = c.attrs.algorithm === 'THREE_FRY' ? [2] : [2, 3];
      if (s.dtype !== 'ui64' || s.shape.length !== 1 || !sizes.includes(s.shape[0])) {
        c.fail(`${c.describe(0)} must be tensor<${sizes.join('xui64> or tensor<')}xui64> for algorithm ${c.attrs.algorithm}`);
      }
      if (!sameType(state, s)) c.fail(`the new state ${formatType(state)} must have the type of ${c.describe(0)}`);
      // XLA draws 32-bit words for 32-bit results and pairs of them for 64-bit ones; narrower
      // results (u8, u16, f16, bf16) keep the low bits of a 32-bit word: kiln has none of those types.
      if (isBool(out.dtype) || (bitWidth(out.dtype) !== 32 && bitWidth(out.dtype) !== 64)) {
        c.unsupported(`result ${formatType(out)}: kiln draws 32-bit and 64-bit random bits only (ui32, i32, f32, ui64, i64)`);
      }
      return [s, out];
    },
  },

  [Op.Cholesky]: {
    infer(c) {
      c.arity(1);
      c.dtypeIn(0, FLOAT);
      const a = c.operands[0];
      const [m, n] = a.shape.slice(-2);
      if (a.shape.length < 2 || m !== n) c.fail(`${c.describe(0)} must be a (batch of) square matrices`);
      return [a];
    },
  },
  [Op.TriangularSolve]: {
    infer(c) {
      c.arity(2);
      c.dtypeIn(0, FLOAT);
      c.sameDType(0, 1);
      const [a, b] = c.operands;
      const r = a.shape.length;
      if (r < 2 || a.shape[r - 1] !== a.shape[r - 2]) c.fail(`${c.describe(0)} must be a (batch of) square matrices`);
      if (b.shape.length !== r || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i])) {
        c.fail(`${c.describe(0)} and ${c.describe(1)} must have the same rank and batch dimensions`);
      }
      const k = b.shape[c.attrs.leftSide ? r - 2 : r - 1];
      if (k !== a.shape[r - 1]) {
        c.fail(`${c.describe(1)} has ${k} ${c.attrs.leftSide ? 'rows' : 'columns'} but a is ${a.shape[r - 1]}x${a.shape[r - 1]} (left_side = ${c.attrs.leftSide})`);
      }
      return [b];
    },
  },
  [Op.CustomCall]: {
    infer(c) {
      const { target, call } = c.attrs;
      const rule = targetRule(target) ?? c.unsupported(`@${target} is not supported`);
      const kind = KIND_SHAPES[call.kind];
      if (rule.kind !== call.kind) c.fail(`@${target} computes ${rule.kind}, not ${call.kind}`);
      if (c.operands.length !== kind.arity) c.fail(`@${target} takes ${kind.arity} operand(s), got ${c.operands.length}`);
      if (call.kind !== 'pivotsToPermutation') {
        c.operands.forEach((t, i) => { if (t.dtype !== rule.element) c.fail(`@${target}: ${c.describe(i)} must have element type ${rule.element}`); });
      }
      const results = kind.results(c.operands, call, c.extras.resultTypes);
      if (typeof results === 'string') return c.fail(`@${target}: ${results}`);
      const layout = layoutProblem(c.attrs, c.operands);
      if (layout) c.fail(`@${target}: ${layout}`);
      return results;
    },
  },

  [Op.While]: {
    infer: (c) => [...c.operands],
    regions(c) {
      return [
        { name: 'cond', args: c.operands, returns: [I1] },
        { name: 'body', args: c.operands, returns: c.operands },
      ];
    },
  },
  [Op.If]: {
    infer(c) {
      c.arity(1);
      if (!sameType(c.operands[0], I1)) c.fail(`predicate ${c.describe(0)} must be tensor<i1>`);
      return branchResults(c, ['true branch', 'false branch']);
    },
    regions: (_c, results) => [
      { name: 'true branch', args: [], returns: results },
      { name: 'false branch', args: [], returns: results },
    ],
  },
  [Op.Case]: {
    infer(c) {
      c.arity(1);
      if (!sameType(c.operands[0], scalarOf('i32'))) c.fail(`index ${c.describe(0)} must be tensor<i32>`);
      const n = c.regions().length;
      if (n < 1) c.fail('needs at least one branch');
      return branchResults(c, Array.from({ length: n }, (_, i) => `branch ${i}`));
    },
    regions: (c, results) => (c.regionList ?? []).map((_, i) => ({ name: `branch ${i}`, args: [], returns: results })),
  },
  [Op.Call]: {
    infer(c: ShapeContext<Op.Call>) {
      const name = c.attrs.callee;
      if (!c.extras.signatureOf) c.fail(`the signature of @${name} must be given`);
      const sig = c.extras.signatureOf(name);
      if (!sig) c.fail(`calls @${name}, which is not a function of this module`);
      if (!sameTypeLists(c.operands, sig.args)) {
        c.fail(`@${name} takes ${fmtTypes(sig.args)}, called with ${fmtTypes(c.operands)}`);
      }
      return [...sig.results];
    },
  },
  [Op.Return]: terminator(),
  [Op.FuncReturn]: terminator(),
  [Op.OptimizationBarrier]: passThrough(),
};

/** Checks `rank` scalar integer start indices from operand `from` on, all of one dtype. */
function startIndices(c: ShapeContext<Op>, from: number, rank: number): void {
  for (let i = from; i < from + rank; i++) {
    c.scalar(i, 'start index');
    c.dtypeIn(i, INT);
    c.sameDType(from, i);
  }
}

/** If/case results: every branch must return the same types as the first. */
function branchResults(c: ShapeContext<Op>, names: string[]): TensorType[] {
  const regions = c.regions();
  if (regions.length !== names.length) c.fail(`has ${regions.length} regions, expected ${names.length}`);
  const first = regionReturns(c, regions[0], names[0]);
  regions.forEach((r, i) => {
    const ts = regionReturns(c, r, names[i]);
    if (!sameTypeLists(ts, first)) c.fail(`the ${names[i]} returns ${fmtTypes(ts)}, the ${names[0]} returns ${fmtTypes(first)}`);
  });
  return first;
}

function contextFor<K extends Op>(
  op: K, operands: readonly TensorType[], attrs: OpAttrs[K], regions: readonly Region[] | undefined,
  loc: Location | undefined, extras: ShapeExtras,
): { rule: ShapeRule<K>; c: ShapeContext<K> } {
  const rule = shapeRules[op] as ShapeRule<K> | undefined;
  if (!rule) throw new UnsupportedOpError(`${String(op)}: unknown operation`, loc);
  return { rule, c: new ShapeContext(op, operands, attrs, regions, loc, extras) };
}

/**
 * The result types of `op` applied to operands of the given types, with StableHLO's constraints
 * checked. Throws a {@link VerifyError} naming the op and the mismatch (at `loc`), or an
 * {@link UnsupportedOpError} for a valid use kiln does not implement.
 *
 * Regions are needed only by `if` and `case` (their results are what the branches return);
 * ops in {@link NeedsDeclaredResult} need `extras.resultTypes`, and `func.call` needs
 * `extras.signatureOf`.
 */
export function inferResultTypes<K extends Op>(
  op: K, operands: readonly TensorType[], attrs: OpAttrs[K], regions?: readonly Region[], loc?: Location,
  extras: ShapeExtras = {},
): TensorType[] {
  const { rule, c } = contextFor(op, operands, attrs, regions, loc, extras);
  return rule.infer(c);
}

/**
 * The argument and return types each region of `op` must have, given its operands and its
 * (already inferred) result types; `[]` for ops without regions.
 */
export function regionSignatures<K extends Op>(
  op: K, operands: readonly TensorType[], attrs: OpAttrs[K], regions: readonly Region[], results: readonly TensorType[],
  loc?: Location, extras: ShapeExtras = {},
): RegionSignature[] {
  const { rule, c } = contextFor(op, operands, attrs, regions, loc, extras);
  return rule.regions?.(c, results) ?? [];
}
