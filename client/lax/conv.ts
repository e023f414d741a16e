/**
 * @file Convolution and windowed reductions with JAX's signatures: `lax.convGeneralDilated`,
 * `lax.conv`, `lax.convWithGeneralPadding`, `lax.convTranspose`, `lax.reduceWindow`, and flax's
 * pooling layers `nn.maxPool` / `nn.avgPool` (exported from client/nn.ts). Each lowers to one
 * `stablehlo.convolution` or `stablehlo.reduce_window`; their gradients are the VJP rules of
 * those ops (client/autodiff/rules.ts).
 */
import { isFloat, isUnsigned, type SupportedDType } from '../../ir/dtype.js';
import { Op, type ConvDims } from '../../ir/ops.js';
import { KArray } from '../array.js';
import { A, defapi, p, type Check } from '../args.js';
import * as prim from '../lax.js';
import { asArray, type Operand } from '../numpy/promote.js';
import { traceError } from '../site.js';
import { emit1, tracer, valueOf } from '../trace.js';

/** Padding: a JAX name, or a `[low, high]` pair per spatial dimension. */
export type Padding = 'VALID' | 'SAME' | 'SAME_LOWER' | readonly (readonly [number, number])[];

const PADDING: Check<Padding> = {
  accepts: "'VALID', 'SAME', 'SAME_LOWER', or a [low, high] pair of integers per spatial dimension",
  parse(v) {
    if (v === 'VALID' || v === 'SAME' || v === 'SAME_LOWER') return v;
    if (Array.isArray(v) && v.every((q) => Array.isArray(q) && q.length === 2 && q.every(Number.isInteger))) return v as Padding;
    throw traceError(`padding must be ${PADDING.accepts}, got ${JSON.stringify(v)}`);
  },
};

/**
 * Convolution dimension numbers: null (the layout `NC...`, `OI...`, `NC...`), three strings such
 * as `['NHWC', 'HWIO', 'NHWC']` (spatial dims matched by letter, as JAX does), or JAX's
 * `ConvDimensionNumbers` as `{lhsSpec, rhsSpec, outSpec}`, each `[batch or out-feature dim,
 * feature or in-feature dim, ...spatial dims]`.
 */
export type ConvDimensionNumbers = null | readonly [string, string, string] | { lhsSpec: number[]; rhsSpec: number[]; outSpec: number[] };

const DIMNUMS: Check<ConvDimensionNumbers> = {
  accepts: "null, three layout strings such as ['NCHW', 'OIHW', 'NCHW'], or {lhsSpec, rhsSpec, outSpec}",
  parse(v) {
    if (v === null) return null;
    if (Array.isArray(v) && v.length === 3 && v.every((s) => typeof s === 'string')) return v as unknown as ConvDimensionNumbers;
    if (typeof v === 'object' && v !== null && ['lhsSpec', 'rhsSpec', 'outSpec'].every((k) => Array.isArray((v as Record<string, unknown>)[k]))) return v as ConvDimensionNumbers;
    throw traceError(`dimensionNumbers must be ${DIMNUMS.accepts}, got ${JSON.stringify(v)}`);
  },
};

/** JAX's `conv_general_permutations`: the spec of each operand from layout strings. */
function specsOf(dn: ConvDimensionNumbers, rank: number): { lhs: number[]; rhs: number[]; out: number[] } {
  const iota = Array.from({ length: rank }, (_, i) => i);
  if (dn === null) return { lhs: iota, rhs: iota, out: iota };
  if (!Array.isArray(dn)) {
    const o = dn as { lhsSpec: number[]; rhsSpec: number[]; outSpec: number[] };
    for (const s of [o.lhsSpec, o.rhsSpec, o.outSpec]) {
      if (s.length !== rank || [...s].sort((a, b) => a - b).some((d, i) => d !== i)) throw traceError(`dimension spec [${s.join(', ')}] is not a permutation of the ${rank} dims`);
    }
    return { lhs: [...o.lhsSpec], rhs: [...o.rhsSpec], out: [...o.outSpec] };
  }
  const [l, r, o] = dn as readonly string[];
  if (l.length !== rank || r.length !== rank || o.length !== rank) throw traceError(`dimension numbers ${JSON.stringify(dn)} must each have ${rank} letters for operands of rank ${rank}`);
  const check = (s: string, a: string, b: string, what: string) => {
    if (new Set(s).size !== s.length || !s.includes(a) || !s.includes(b)) throw traceError(`${what} layout '${s}' must contain '${a}' and '${b}' once and no repeated letter`);
  };
  check(l, 'N', 'C', 'lhs'); check(r, 'O', 'I', 'rhs'); check(o, 'N', 'C', 'out');
  const spatial = (s: string, a: string, b: string) => {
    const dims = [...s].flatMap((c, i) => (c === a || c === b ? [] : [i]));
    for (const i of dims) if (!r.includes(s[i])) throw traceError(`spatial dimension '${s[i]}' of '${s}' is not in the rhs layout '${r}'`);
    return dims.sort((x, y) => r.indexOf(s[x]) - r.indexOf(s[y]));
  };
  return {
    lhs: [l.indexOf('N'), l.indexOf('C'), ...spatial(l, 'N', 'C')],
    rhs: [r.indexOf('O'), r.indexOf('I'), ...spatial(r, 'O', 'I')],
    out: [o.indexOf('N'), o.indexOf('C'), ...spatial(o, 'N', 'C')],
  };
}

const dilateDim = (d: number, k: number) => (d === 0 ? 0 : 1 + k * (d - 1));

/** JAX's `padtype_to_pads`: explicit `[low, high]` pairs for a padding name. */
export function padtypeToPads(inShape: readonly number[], window: readonly number[], strides: readonly number[], padding: Padding): [number, number][] {
  if (typeof padding !== 'string') {
    if (padding.length !== inShape.length) throw traceError(`padding has ${padding.length} pairs for ${inShape.length} spatial dimensions`);
    return padding.map(([a, b]) => [a, b]);
  }
  if (padding === 'VALID') return inShape.map(() => [0, 0]);
  return inShape.map((n, i) => {
    const out = Math.ceil(n / strides[i]);
    const pad = Math.max(0, (out - 1) * strides[i] + window[i] - n);
    const lo = padding === 'SAME' ? Math.floor(pad / 2) : Math.ceil(pad / 2);
    return [lo, pad - lo];
  });
}

function ones(n: number): number[] { return Array.from({ length: n }, () => 1); }

function checkInts(v: readonly number[] | null, n: number, what: string, positive = true): number[] {
  if (v === null) return ones(n);
  if (v.length !== n || !v.every((x) => Number.isInteger(x) && (!positive || x >= 1))) throw traceError(`${what} must be ${n} positive integers (one per spatial dimension), got [${v.join(', ')}]`);
  return [...v];
}

function convImpl(x: KArray, w: KArray, strides: number[] | null, padding: Padding, lhsDil: number[] | null, rhsDil: number[] | null,
  dn: ConvDimensionNumbers, featureGroupCount: number, batchGroupCount: number): KArray {
  if (x.ndim < 2 || x.ndim !== w.ndim) throw traceError(`lhs (${x.describe()}) and rhs (${w.describe()}) must have the same rank, at least 2`);
  if (x.dtype !== w.dtype) throw traceError(`lhs (${x.describe()}) and rhs (${w.describe()}) must have the same dtype (lax does not promote)`);
  if (!isFloat(x.dtype)) throw traceError(`convolution of ${x.dtype} arrays is not implemented (floats only)`);
  const ns = x.ndim - 2;
  const s = specsOf(dn, x.ndim);
  const st = checkInts(strides, ns, 'windowStrides');
  const ld = checkInts(lhsDil, ns, 'lhsDilation');
  const rd = checkInts(rhsDil, ns, 'rhsDilation');
  const inSp = s.lhs.slice(2).map((d) => x.shape[d]);
  const kSp = s.rhs.slice(2).map((d, i) => dilateDim(w.shape[d], rd[i]));
  const pads = padtypeToPads(inSp, kSp, st, padding);
  const C = x.shape[s.lhs[1]], I = w.shape[s.rhs[1]], O = w.shape[s.rhs[0]], N = x.shape[s.lhs[0]];
  if (featureGroupCount < 1 || batchGroupCount < 1) throw traceError('featureGroupCount and batchGroupCount must be positive');
  if (featureGroupCount > 1 && batchGroupCount > 1) throw traceError('at most one of featureGroupCount and batchGroupCount may exceed 1 (as in JAX)');
  if (C !== I * featureGroupCount) throw traceError(`lhs has ${C} features but rhs expects ${I} per group × featureGroupCount ${featureGroupCount}`);
  if (O % featureGroupCount !== 0) throw traceError(`rhs output features ${O} are not divisible by featureGroupCount ${featureGroupCount}`);
  if (N % batchGroupCount !== 0 || O % batchGroupCount !== 0) throw traceError(`lhs batch ${N} and rhs output features ${O} must be divisible by batchGroupCount ${batchGroupCount}`);
  const dims: ConvDims = {
    inputBatch: s.lhs[0], inputFeature: s.lhs[1], inputSpatial: s.lhs.slice(2),
    kernelOutput: s.rhs[0], kernelInput: s.rhs[1], kernelSpatial: s.rhs.slice(2),
    outputBatch: s.out[0], outputFeature: s.out[1], outputSpatial: s.out.slice(2),
  };
  return tracer(emit1(Op.Convolution, [valueOf(x), valueOf(w)], {
    windowStrides: st, padding: pads, lhsDilation: ld, rhsDilation: rd, windowReversal: ones(ns).map(() => false),
    dims, featureGroupCount, batchGroupCount,
  }), x.weak && w.weak);
}

const INTS_OR_NULL = A.orNull(A.ints);

/**
 * `lax.convGeneralDilated(lhs, rhs, windowStrides, padding, lhsDilation?, rhsDilation?,
 * dimensionNumbers?, featureGroupCount = 1, batchGroupCount = 1)`: JAX's general convolution
 * (a cross-correlation, the kernel not flipped). `padding` is 'VALID', 'SAME', 'SAME_LOWER'
 * (computed from the undilated input and the dilated kernel, as JAX does) or pairs.
 * `preferredElementType` and `precision` are refused (kiln computes in the operands' dtype).
 */
export const convGeneralDilated = defapi('lax.convGeneralDilated', [
  p('lhs', A.array), p('rhs', A.array), p('windowStrides', A.ints), p('padding', PADDING),
  p('lhsDilation', INTS_OR_NULL, null), p('rhsDilation', INTS_OR_NULL, null), p('dimensionNumbers', DIMNUMS, null),
  p('featureGroupCount', A.int, 1), p('batchGroupCount', A.int, 1),
  p('precision', A.unsupported('kiln computes in the operand dtype'), null), p('preferredElementType', A.unsupported('kiln computes in the operand dtype'), null),
], (x: Operand, w: Operand, st: number[], pad: Padding, ld: number[] | null, rd: number[] | null, dn: ConvDimensionNumbers, fg: number, bg: number) =>
  convImpl(asArray(x), asArray(w), st, pad, ld, rd, dn, fg, bg));

/** `lax.conv(lhs, rhs, windowStrides, padding)`: NCHW input, OIHW kernel. */
export const conv = defapi('lax.conv', [p('lhs', A.array), p('rhs', A.array), p('windowStrides', A.ints), p('padding', PADDING)],
  (x: Operand, w: Operand, st: number[], pad: Padding) => convImpl(asArray(x), asArray(w), st, pad, null, null, null, 1, 1));

/** `lax.convWithGeneralPadding(lhs, rhs, windowStrides, padding, lhsDilation, rhsDilation)`. */
export const convWithGeneralPadding = defapi('lax.convWithGeneralPadding', [
  p('lhs', A.array), p('rhs', A.array), p('windowStrides', A.ints), p('padding', PADDING), p('lhsDilation', INTS_OR_NULL, null), p('rhsDilation', INTS_OR_NULL, null),
], (x: Operand, w: Operand, st: number[], pad: Padding, ld: number[] | null, rd: number[] | null) => convImpl(asArray(x), asArray(w), st, pad, ld, rd, null, 1, 1));

/** JAX's `_conv_transpose_padding` for one spatial dim of (dilated) kernel size `k`, stride `s`. */
function transposePadding(k: number, s: number, padding: 'SAME' | 'VALID'): [number, number] {
  let len: number, a: number;
  if (padding === 'SAME') {
    len = k + s - 2;
    a = s > k - 1 ? k - 1 : Math.ceil(len / 2);
  } else {
    len = k + s - 2 + Math.max(k - s, 0);
    a = k - 1;
  }
  return [a, len - a];
}

/**
 * `lax.convTranspose(lhs, rhs, strides, padding, rhsDilation?, dimensionNumbers?, transposeKernel = false)`:
 * JAX's fractionally strided convolution (the input dilated by `strides`). Default layouts are
 * JAX's: `NHWC`/`HWIO`/`NHWC` (by rank: `NC`, `NHC`, `NHWC`, `NHWDC`). `transposeKernel` flips the
 * kernel's spatial axes and swaps its I and O axes, making this the gradient of `conv` with that
 * kernel. Padding is 'SAME' or 'VALID'; explicit pairs are refused because JAX changed their
 * meaning between versions (`use_consistent_padding`), so any choice would be wrong for someone.
 */
export const convTranspose = defapi('lax.convTranspose', [
  p('lhs', A.array), p('rhs', A.array), p('strides', A.ints), p('padding', PADDING), p('rhsDilation', INTS_OR_NULL, null),
  p('dimensionNumbers', DIMNUMS, null), p('transposeKernel', A.bool, false),
  p('precision', A.unsupported('kiln computes in the operand dtype'), null), p('preferredElementType', A.unsupported('kiln computes in the operand dtype'), null),
], (x0: Operand, w0: Operand, strides: number[], padding: Padding, rd: number[] | null, dn0: ConvDimensionNumbers, transposeKernel: boolean): KArray => {
  const x = asArray(x0);
  let w = asArray(w0);
  if (x.ndim < 2 || x.ndim > 5) throw traceError(`lhs (${x.describe()}) must have rank 2 to 5`);
  const defaults: Record<number, [string, string, string]> = { 2: ['NC', 'IO', 'NC'], 3: ['NHC', 'HIO', 'NHC'], 4: ['NHWC', 'HWIO', 'NHWC'], 5: ['NHWDC', 'HWDIO', 'NHWDC'] };
  const dn = dn0 ?? defaults[x.ndim];
  const s = specsOf(dn, x.ndim);
  const ns = x.ndim - 2;
  const rdil = checkInts(rd, ns, 'rhsDilation');
  if (typeof padding !== 'string' || padding === 'SAME_LOWER') {
    throw traceError(`padding must be 'SAME' or 'VALID' for convTranspose (explicit pairs mean different things in different JAX versions), got ${JSON.stringify(padding)}`);
  }
  const pads = s.rhs.slice(2).map((d, i) => transposePadding(dilateDim(w.shape[d], rdil[i]), strides[i], padding));
  if (transposeKernel) {
    w = prim.reverse(w, s.rhs.slice(2));
    const perm = Array.from({ length: w.ndim }, (_, i) => i);
    [perm[s.rhs[0]], perm[s.rhs[1]]] = [perm[s.rhs[1]], perm[s.rhs[0]]];
    w = prim.transpose(w, perm);
  }
  return convImpl(x, w, ones(ns), pads, checkInts(strides, ns, 'strides'), rdil, dn, 1, 1);
});

// ---- windowed reductions ------------------------------------------------------------------------

/** The reductions `reduceWindow` (and pooling) lower: JAX's monoids. */
export type WindowComputation = 'add' | 'max' | 'min' | 'mul';
const WINDOW_OP: { [K in WindowComputation]: Op } = { add: Op.Add, max: Op.Maximum, min: Op.Minimum, mul: Op.Multiply };
const BY_NAME: Record<string, WindowComputation> = { add: 'add', max: 'max', maximum: 'max', min: 'min', minimum: 'min', mul: 'mul', multiply: 'mul' };

const COMPUTATION: Check<WindowComputation> = {
  accepts: "'add', 'max', 'min', 'mul', or one of np.add, np.maximum, np.minimum, np.multiply",
  parse(v) {
    const name = typeof v === 'string' ? v : typeof v === 'function' ? v.name : '';
    const k = BY_NAME[name];
    if (!k) {
      throw traceError(`computation must be ${COMPUTATION.accepts}; got ${typeof v === 'function' ? `a function named '${v.name || '(anonymous)'}'` : JSON.stringify(v)}: kiln lowers windowed reductions only for these monoids (their gradients are known)`);
    }
    return k;
  },
};

function reduceWindowImpl(x: KArray, init: number | KArray, how: WindowComputation, window: number[], strides: number[] | null,
  padding: Padding, baseDil: number[] | null, winDil: number[] | null): KArray {
  const r = x.ndim;
  const win = checkInts(window, r, 'windowDimensions');
  const st = checkInts(strides, r, 'windowStrides');
  const bd = checkInts(baseDil, r, 'baseDilation');
  const wd = checkInts(winDil, r, 'windowDilation');
  const pads = padtypeToPads(x.shape.map((n, i) => dilateDim(n, bd[i])), win.map((k, i) => dilateDim(k, wd[i])), st, padding);
  let initArr: KArray;
  if (typeof init === 'number') initArr = prim.constant(x.dtype, [], init);
  else {
    if (init.ndim !== 0) throw traceError(`initValue must be a scalar, got ${init.describe()}`);
    initArr = prim.convert(init, x.dtype);
  }
  return prim.reduceWindow(x, initArr, { windowDimensions: win, windowStrides: st, baseDilations: bd, windowDilations: wd, padding: pads }, prim.binaryBody(WINDOW_OP[how]));
}

/**
 * `lax.reduceWindow(operand, initValue, computation, windowDimensions, windowStrides?, padding =
 * 'VALID', baseDilation?, windowDilation?)`: JAX's argument order; `computation` is one of the
 * monoids by name or as the numpy function (an arbitrary JS function is refused: kiln would have
 * to trace it into a region and could not differentiate it).
 */
export const reduceWindow = defapi('lax.reduceWindow', [
  p('operand', A.array), p('initValue', A.any), p('computation', COMPUTATION), p('windowDimensions', A.ints), p('windowStrides', INTS_OR_NULL, null),
  p('padding', PADDING, 'VALID'), p('baseDilation', INTS_OR_NULL, null), p('windowDilation', INTS_OR_NULL, null),
], (x: Operand, init: unknown, how: WindowComputation, win: number[], st: number[] | null, pad: Padding, bd: number[] | null, wd: number[] | null): KArray => {
  if (typeof init !== 'number' && !(init instanceof KArray)) throw traceError(`initValue must be a number or a scalar Array, got ${typeof init}`);
  return reduceWindowImpl(asArray(x), init, how, win, st, pad, bd, wd);
});

/** The lowest value of a dtype (max pooling's identity). */
function lowest(d: SupportedDType): number {
  return isFloat(d) ? -Infinity : isUnsigned(d) || d === 'i1' ? 0 : -2147483648;
}

/** flax's pooling: window `[1, ...windowShape, 1]` over `[N, ...spatial, C]` (a missing batch dim is allowed). */
function pool(x: KArray, how: WindowComputation, windowShape: number[], strides: number[] | null, padding: Padding): KArray {
  const ns = windowShape.length;
  if (x.ndim !== ns + 1 && x.ndim !== ns + 2) throw traceError(`input (${x.describe()}) must be [batch, ...spatial, features] or [...spatial, features] for a ${ns}-D window (flax's NHWC layout)`);
  const lead = x.ndim - ns - 1;
  const st = strides === null ? ones(ns) : checkInts(strides, ns, 'strides');
  const pads = typeof padding === 'string' ? padding : padding.length === ns ? [...Array(lead).fill([0, 0]), ...padding, [0, 0]] as [number, number][] : padding;
  return reduceWindowImpl(x, how === 'max' ? lowest(x.dtype) : 0, how, [...ones(lead), ...windowShape, 1], [...ones(lead), ...st, 1],
    typeof pads === 'string' ? pads : pads as Padding, null, null);
}

const POOL_PARAMS = [p('inputs', A.array), p('windowShape', A.ints), p('strides', INTS_OR_NULL, null), p('padding', PADDING, 'VALID')];

/**
 * `nn.maxPool(x, windowShape, strides?, padding = 'VALID')`: flax's `max_pool` on channels-last
 * input `[N, ...spatial, C]` (NHWC; the batch dim may be absent). Padded positions are -inf.
 */
export const maxPool = defapi('nn.maxPool', POOL_PARAMS, (x: Operand, win: number[], st: number[] | null, pad: Padding) => pool(asArray(x), 'max', win, st, pad));

/**
 * `nn.avgPool(x, windowShape, strides?, padding = 'VALID', countIncludePad = true)`: flax's
 * `avg_pool` on channels-last input; with padding, the window sum is divided by the full window
 * size (countIncludePad true) or by the number of real elements in it (false).
 */
export const avgPool = defapi('nn.avgPool', [...POOL_PARAMS, p('countIncludePad', A.bool, true)],
  (x0: Operand, win: number[], st: number[] | null, pad: Padding, countIncludePad: boolean): KArray => {
    const x = asArray(x0);
    if (!isFloat(x.dtype)) throw traceError(`average pooling needs a float input, got ${x.describe()}`);
    const sums = pool(x, 'add', win, st, pad);
    if (countIncludePad || pad === 'VALID') {
      const size = win.reduce((a, b) => a * b, 1);
      return prim.binary(Op.Divide, sums, prim.constant(x.dtype, sums.shape, size));
    }
    const counts = pool(prim.constant(x.dtype, x.shape, 1), 'add', win, st, pad);
    return prim.binary(Op.Divide, sums, counts);
  });
