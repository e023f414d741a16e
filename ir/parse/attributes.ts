/**
 * @file From named attributes (generic names, e.g. `broadcast_dimensions`) to each op's typed
 * `OpAttrs`. Pretty forms are first rewritten to these names (`pretty.ts`), so this table is the
 * one place that knows what each attribute means. Unknown attributes without a dialect prefix are
 * refused: they might change the meaning (`algorithm`, `result_accuracy`); prefixed ones
 * (`mhlo.sharding`, `jax.*`) are annotations and are dropped.
 */
import { ParseError, UnsupportedOpError, type Location } from '../errors.js';
import {
  BINARY_ELEMENTWISE, familyRows, Op, UNARY_ELEMENTWISE, type ComparisonDirection, type ComparisonType, type ConvDims, type FftType, type OpAttrs, type Precision,
  type RngAlgorithm,
} from '../ops.js';
import { targetRule, type TransposeA } from '../custom-calls.js';
import type { TensorType } from '../types.js';
import { tokLoc } from './lexer.js';
import { parseTensorType, readDense } from './literals.js';
import type { Attr, DenseNode } from './syntax.js';

/** Reads the attributes of one op, remembering which were used. */
export class AttrReader {
  private used = new Set<string>();
  constructor(
    readonly op: Op,
    readonly attrs: Map<string, Attr>,
    readonly operandTypes: TensorType[],
    readonly resultTypes: TensorType[],
    readonly loc: Location,
    readonly file?: string,
    /** The module's text, to quote an attribute as written (see {@link AttrReader.raw}). */
    readonly source?: string,
  ) {}

  /**
   * An attribute as written in the source where kiln's printer could not reproduce it (opaque
   * `#dialect<...>` structures such as Shardy's sharding rules), else as {@link formatAttr} prints it.
   */
  raw(a: Attr): string {
    if (a.k === 'hash' && a.end && this.source !== undefined) return this.source.slice(a.tok.startOffset, a.end.endOffset! + 1);
    return formatAttr(a);
  }

  fail(msg: string, a?: Attr): never {
    throw new ParseError(`${this.op}: ${msg}`, a?.tok ? tokLoc(a.tok, this.file) : this.loc);
  }

  get(name: string): Attr | undefined {
    this.used.add(name);
    return this.attrs.get(name);
  }

  need(name: string): Attr {
    const a = this.get(name);
    if (!a) this.fail(`missing attribute '${name}'`);
    return a;
  }

  int(name: string, dflt?: number): number {
    const a = this.get(name);
    if (!a) return dflt ?? this.fail(`missing attribute '${name}'`);
    return this.asInt(a, name);
  }

  asInt(a: Attr, what: string): number {
    if (a.k === 'int') {
      // Sizes, dims and counts past 2^53 would silently round; no real program has one.
      const v = Number(a.text);
      return Number.isSafeInteger(v) ? v : this.fail(`'${what}' value ${a.text} is out of range`, a);
    }
    if (a.k === 'dense' && a.typeTok) {
      const lit = readDense(a.body, parseTensorType(a.typeTok, this.file), a.tok, this.file);
      if (lit.data.length === 1) return Number(lit.data[0]);
    }
    return this.fail(`'${what}' must be an integer`, a);
  }

  bool(name: string, dflt: boolean): boolean {
    const a = this.get(name);
    if (!a) return dflt;
    if (a.k === 'bool') return a.v;
    return this.fail(`'${name}' must be true or false`, a);
  }

  /** `[1, 2]`, `array<i64: 1, 2>` or a 1-D integer `dense<...>`. */
  ints(name: string, dflt?: number[]): number[] {
    const a = this.get(name);
    if (!a) return dflt ?? this.fail(`missing attribute '${name}'`);
    return this.asInts(a, name);
  }

  asInts(a: Attr, what: string): number[] {
    if (a.k === 'list' || a.k === 'array') return a.items.map((x) => this.asInt(x, what));
    if (a.k === 'dense' && a.typeTok) {
      const lit = readDense(a.body, parseTensorType(a.typeTok, this.file), a.tok, this.file);
      const t = parseTensorType(a.typeTok, this.file);
      const n = t.shape.reduce((x, y) => x * y, 1);
      return Array.from({ length: n }, (_, i) => Number(lit.data[lit.splat ? 0 : i]));
    }
    return this.fail(`'${what}' must be a list of integers`, a);
  }

  bools(name: string, dflt: boolean[]): boolean[] {
    const a = this.get(name);
    if (!a) return dflt;
    if (a.k === 'list' || a.k === 'array') {
      return a.items.map((x) => (x.k === 'bool' ? x.v : x.k === 'int' ? x.text !== '0' : this.fail(`'${name}' must hold booleans`, x)));
    }
    return this.fail(`'${name}' must be a list of booleans`, a);
  }

  /** `[[lo, hi], ...]` or `dense<[[lo, hi], ...]> : tensor<Nx2xi64>`. */
  padding(name: string, rank: number): [number, number][] {
    const a = this.get(name);
    if (!a) return Array.from({ length: rank }, () => [0, 0]);
    let flat: number[];
    if (a.k === 'list') flat = a.items.flatMap((p) => this.asInts(p, name));
    else flat = this.asInts(a, name);
    if (flat.length !== 2 * rank) this.fail(`'${name}' needs ${rank} [low, high] pairs, got ${flat.length / 2}`, a);
    return Array.from({ length: rank }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
  }

  /** `#stablehlo<comparison_direction GT>` or a bare `GT`. */
  enumValue<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const a = this.get(name);
    return a ? this.asEnum(a, name, allowed) : undefined;
  }

  asEnum<T extends string>(a: Attr, name: string, allowed: readonly T[]): T {
    let v: string | undefined;
    if (a.k === 'ident') v = a.v;
    else if (a.k === 'hash') v = a.items.map((i) => i.value?.k === 'ident' ? i.value.v : i.key).filter(Boolean).pop();
    if (v !== undefined && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(`'${name}' must be one of ${allowed.join(', ')}`, a);
  }

  precision(name: string): Precision[] | undefined {
    const a = this.get(name);
    if (!a) return undefined;
    if (a.k !== 'list') this.fail(`'${name}' must be a list`, a);
    return a.items.map((x) => this.asEnum(x, name, PRECISIONS));
  }

  /** The fields of `#stablehlo.gather<...>` and its kin. */
  struct(name: string): Map<string, Attr> {
    const a = this.need(name);
    if (a.k !== 'hash') this.fail(`'${name}' must be a #stablehlo<...> structure`, a);
    const m = new Map<string, Attr>();
    for (const it of a.items) if (it.key && it.value) m.set(it.key, it.value);
    return m;
  }

  fieldInts(m: Map<string, Attr>, key: string): number[] {
    const a = m.get(key);
    return a ? this.asInts(a, key) : [];
  }

  /** Refuses attributes that nothing read and that are not annotations of another dialect. */
  finish(): void {
    for (const [k, a] of this.attrs) {
      if (this.used.has(k) || k.includes('.')) continue;
      throw new UnsupportedOpError(`${this.op}: attribute '${k}' is not supported`, a.tok ? tokLoc(a.tok, this.file) : this.loc);
    }
  }
}

const PRECISIONS: readonly Precision[] = ['DEFAULT', 'HIGH', 'HIGHEST'];
const DIRECTIONS: readonly ComparisonDirection[] = ['EQ', 'NE', 'LT', 'LE', 'GT', 'GE'];
const COMPARE_TYPES: readonly ComparisonType[] = ['FLOAT', 'TOTALORDER', 'SIGNED', 'UNSIGNED'];
const FFT_TYPES: readonly FftType[] = ['FFT', 'IFFT', 'RFFT', 'IRFFT'];

/** `[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]` to dimension numbers. */
function convDims(r: AttrReader, a: Attr): ConvDims {
  if (a.k === 'hash' && a.items.length === 1 && a.items[0].value) return convDims(r, a.items[0].value);
  if (a.k !== 'cross' || a.parts.length !== 3) return r.fail(`'dimension_numbers' must read [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]`, a);
  const layout = (p: Attr, letters: [string, string]): [number, number, number[]] => {
    if (p.k !== 'list') return r.fail('convolution layout must be a list', p);
    let x = -1;
    let y = -1;
    const spatial: number[] = [];
    p.items.forEach((it, pos) => {
      if (it.k === 'ident' && it.v === letters[0]) x = pos;
      else if (it.k === 'ident' && it.v === letters[1]) y = pos;
      else if (it.k === 'int') spatial[Number(it.text)] = pos;
      else r.fail(`unexpected '${it.k === 'ident' ? it.v : it.k}' in convolution layout`, it);
    });
    // A loop, not `some`: a repeated or out-of-range spatial index leaves a hole `some` would skip.
    let complete = spatial.length === p.items.length - 2;
    for (let i = 0; complete && i < spatial.length; i++) complete = spatial[i] !== undefined;
    if (x < 0 || y < 0 || !complete) {
      r.fail(`convolution layout must name ${letters.join(', ')} and spatial dims 0..${p.items.length - 3}`, p);
    }
    return [x, y, spatial];
  };
  const [ib, ifeat, is] = layout(a.parts[0], ['b', 'f']);
  const [ko, ki, ks] = layout(a.parts[1], ['o', 'i']);
  const [ob, of, os] = layout(a.parts[2], ['b', 'f']);
  return {
    inputBatch: ib, inputFeature: ifeat, inputSpatial: is,
    kernelOutput: ko, kernelInput: ki, kernelSpatial: ks,
    outputBatch: ob, outputFeature: of, outputSpatial: os,
  };
}

const RNG_ALGORITHMS: readonly RngAlgorithm[] = ['DEFAULT', 'THREE_FRY', 'PHILOX'];

type Rule<K extends Op> = (r: AttrReader) => OpAttrs[K];

/** `epsilon = 1.0e-05 : f32, feature_index = 1 : i64`; epsilon is rounded to f32, as its type says. */
function batchNorm(r: AttrReader): OpAttrs[Op.BatchNormTraining] {
  const a = r.need('epsilon');
  const epsilon = a.k === 'float' || a.k === 'int' ? Math.fround(Number(a.text)) : NaN;
  if (!Number.isFinite(epsilon)) r.fail("'epsilon' must be a float like 1.0e-05 : f32", a);
  return { epsilon, featureIndex: r.int('feature_index') };
}
const none = (): Record<string, never> => ({});
const rank0 = (r: AttrReader): number => r.operandTypes[0]?.shape.length ?? 0;

/** Every op's attributes, from its named attributes. */
export const attrRules: { [K in Op]: Rule<K> } = {
  ...familyRows(UNARY_ELEMENTWISE, none), ...familyRows(BINARY_ELEMENTWISE, none),
  [Op.Compare]: (r) => {
    const direction = r.enumValue('comparison_direction', DIRECTIONS) ?? r.fail("missing attribute 'comparison_direction'");
    const compareType = r.enumValue('compare_type', COMPARE_TYPES);
    return compareType ? { direction, compareType } : { direction };
  },
  [Op.Fft]: (r) => ({
    fftType: r.enumValue('fft_type', FFT_TYPES) ?? r.fail("missing attribute 'fft_type'"),
    fftLength: r.ints('fft_length'),
  }),
  [Op.Select]: none, [Op.Clamp]: none, [Op.Convert]: none, [Op.BitcastConvert]: none,
  [Op.ReducePrecision]: (r) => {
    // The printed form `format = eXmY` has no sign: a negative count could not be printed back.
    const bits = (name: string) => {
      const v = r.int(name);
      return v >= 0 ? v : r.fail(`'${name}' must be >= 0, got ${v}`, r.get(name));
    };
    return { exponentBits: bits('exponent_bits'), mantissaBits: bits('mantissa_bits') };
  },
  [Op.Constant]: (r) => {
    const a = r.need('value');
    if (a.k !== 'dense') return r.fail("'value' must be a dense literal", a);
    const t = a.typeTok ? parseTensorType(a.typeTok, r.file) : r.resultTypes[0];
    if (!t) return r.fail('constant needs a result type');
    return { value: readDense(a.body, t, a.tok, r.file) };
  },
  [Op.Reshape]: none,
  [Op.Iota]: (r) => ({ dim: r.int('iota_dimension') }),
  [Op.BroadcastInDim]: (r) => ({ dims: r.ints('broadcast_dimensions') }),
  [Op.Transpose]: (r) => ({ permutation: r.ints('permutation') }),
  [Op.Slice]: (r) => {
    const start = r.ints('start_indices');
    return { start, limit: r.ints('limit_indices'), strides: r.ints('strides', start.map(() => 1)) };
  },
  [Op.DynamicSlice]: (r) => ({ sliceSizes: r.ints('slice_sizes') }),
  [Op.DynamicUpdateSlice]: none,
  [Op.Concatenate]: (r) => ({ dim: r.int('dimension') }),
  [Op.Pad]: (r) => ({
    low: r.ints('edge_padding_low'), high: r.ints('edge_padding_high'), interior: r.ints('interior_padding'),
  }),
  [Op.Reverse]: (r) => ({ dims: r.ints('dimensions') }),
  [Op.Gather]: (r) => {
    const m = r.struct('dimension_numbers');
    return {
      dims: {
        offsetDims: r.fieldInts(m, 'offset_dims'),
        collapsedSliceDims: r.fieldInts(m, 'collapsed_slice_dims'),
        operandBatchingDims: r.fieldInts(m, 'operand_batching_dims'),
        startIndicesBatchingDims: r.fieldInts(m, 'start_indices_batching_dims'),
        startIndexMap: r.fieldInts(m, 'start_index_map'),
        indexVectorDim: m.has('index_vector_dim') ? r.asInt(m.get('index_vector_dim')!, 'index_vector_dim') : 0,
      },
      sliceSizes: r.ints('slice_sizes'),
      indicesAreSorted: r.bool('indices_are_sorted', false),
    };
  },
  [Op.Scatter]: (r) => {
    const m = r.struct('scatter_dimension_numbers');
    return {
      dims: {
        updateWindowDims: r.fieldInts(m, 'update_window_dims'),
        insertedWindowDims: r.fieldInts(m, 'inserted_window_dims'),
        inputBatchingDims: r.fieldInts(m, 'input_batching_dims'),
        scatterIndicesBatchingDims: r.fieldInts(m, 'scatter_indices_batching_dims'),
        scatterDimsToOperandDims: r.fieldInts(m, 'scatter_dims_to_operand_dims'),
        indexVectorDim: m.has('index_vector_dim') ? r.asInt(m.get('index_vector_dim')!, 'index_vector_dim') : 0,
      },
      indicesAreSorted: r.bool('indices_are_sorted', false),
      uniqueIndices: r.bool('unique_indices', false),
    };
  },
  [Op.Reduce]: (r) => ({ dims: r.ints('dimensions') }),
  [Op.ReduceWindow]: (r) => {
    const n = rank0(r);
    const ones = Array.from({ length: n }, () => 1);
    return {
      windowDimensions: r.ints('window_dimensions'),
      windowStrides: r.ints('window_strides', ones),
      baseDilations: r.ints('base_dilations', ones),
      windowDilations: r.ints('window_dilations', ones),
      padding: r.padding('padding', n),
    };
  },
  [Op.SelectAndScatter]: (r) => {
    const n = rank0(r);
    return {
      windowDimensions: r.ints('window_dimensions'),
      windowStrides: r.ints('window_strides', Array.from({ length: n }, () => 1)),
      padding: r.padding('padding', n),
    };
  },
  [Op.DotGeneral]: (r) => {
    const m = r.struct('dot_dimension_numbers');
    const precision = r.precision('precision_config');
    const dims = {
      lhsBatch: r.fieldInts(m, 'lhs_batching_dimensions'),
      rhsBatch: r.fieldInts(m, 'rhs_batching_dimensions'),
      lhsContract: r.fieldInts(m, 'lhs_contracting_dimensions'),
      rhsContract: r.fieldInts(m, 'rhs_contracting_dimensions'),
    };
    return precision ? { dims, precision } : { dims };
  },
  [Op.Convolution]: (r) => {
    const dims = convDims(r, r.need('dimension_numbers'));
    const n = dims.inputSpatial.length;
    const ones = Array.from({ length: n }, () => 1);
    const precision = r.precision('precision_config');
    const attrs: OpAttrs[Op.Convolution] = {
      windowStrides: r.ints('window_strides', ones),
      padding: r.padding('padding', n),
      lhsDilation: r.ints('lhs_dilation', ones),
      rhsDilation: r.ints('rhs_dilation', ones),
      windowReversal: r.bools('window_reversal', ones.map(() => false)),
      dims,
      featureGroupCount: r.int('feature_group_count', 1),
      batchGroupCount: r.int('batch_group_count', 1),
    };
    return precision ? { ...attrs, precision } : attrs;
  },
  [Op.Sort]: (r) => ({ dimension: r.int('dimension', -1), isStable: r.bool('is_stable', false) }),
  [Op.TopK]: (r) => ({ k: r.int('k') }),
  [Op.BatchNormTraining]: (r) => batchNorm(r),
  [Op.BatchNormInference]: (r) => batchNorm(r),
  [Op.BatchNormGrad]: (r) => batchNorm(r),
  [Op.Scan]: (r) => {
    const segments = r.ints('operandSegmentSizes');
    if (segments.length !== 2) r.fail("'operandSegmentSizes' must hold two sizes (inputs, inits)");
    return {
      dimension: r.int('dimension'), isReverse: r.bool('is_reverse', false),
      isAssociative: r.bool('is_associative', false), numInits: segments[1],
    };
  },
  [Op.RngBitGenerator]: (r) => ({ algorithm: r.enumValue('rng_algorithm', RNG_ALGORITHMS) ?? 'DEFAULT' }),
  [Op.While]: none, [Op.If]: none, [Op.Case]: none,
  [Op.Call]: (r) => {
    const a = r.need('callee');
    if (a.k !== 'sym') return r.fail("'callee' must be a symbol like @f", a);
    return { callee: a.v };
  },
  [Op.Return]: none, [Op.FuncReturn]: none, [Op.OptimizationBarrier]: none,
  [Op.Cholesky]: (r) => ({ lower: r.bool('lower', false) }),
  [Op.TriangularSolve]: (r) => ({
    leftSide: r.bool('left_side', false),
    lower: r.bool('lower', false),
    unitDiagonal: r.bool('unit_diagonal', false),
    transposeA: r.enumValue('transpose_a', TRANSPOSES) ?? r.fail("missing attribute 'transpose_a'"),
  }),
  [Op.CustomCall]: customCallAttrs,
};

const TRANSPOSES: readonly TransposeA[] = ['NO_TRANSPOSE', 'TRANSPOSE', 'ADJOINT'];

/**
 * A custom call of a known target (the parser refuses the others by name): its linear-algebra
 * operation decoded from `mhlo.backend_config`, its batch dimensions and layouts, and every
 * attribute as printed, to print back verbatim.
 */
function customCallAttrs(r: AttrReader): OpAttrs[Op.CustomCall] {
  const t = r.need('call_target_name');
  const target = t.k === 'sym' || t.k === 'str' ? t.v : r.fail("'call_target_name' must name the target", t);
  const rule = targetRule(target);
  if (!rule) throw new UnsupportedOpError(`${r.op} @${target} is not supported`, r.loc);
  if (rule.refused) throw new UnsupportedOpError(`${r.op} @${target}: ${rule.refused}`, r.loc);
  const fail = (msg: string, a?: Attr): never => {
    throw new ParseError(`${r.op} @${target}: ${msg}`, a?.tok ? tokLoc(a.tok, r.file) : r.loc);
  };
  const text: [string, string][] = [];
  for (const k of r.attrs.keys()) if (k !== 'call_target_name') text.push([k, r.raw(r.get(k)!)]);

  const cfgAttr = r.get('mhlo.backend_config');
  const cfg = new Map<string, Attr>();
  if (cfgAttr) {
    if (cfgAttr.k !== 'dict') fail("'mhlo.backend_config' must be a dictionary", cfgAttr);
    for (const e of (cfgAttr as Extract<Attr, { k: 'dict' }>).entries) if (e.value) cfg.set(e.key, e.value);
  }
  const legacy = r.get('backend_config');
  if (legacy && !(legacy.k === 'str' && legacy.v === '')) fail("'backend_config' must be \"\" (the FFI targets read mhlo.backend_config)", legacy);
  const call = rule.decode({
    get(name) {
      const a = cfg.get(name);
      if (!a) return undefined;
      if (a.k === 'int') return { k: 'int', v: Number(a.text) };
      if (a.k === 'bool') return { k: 'bool', v: a.v };
      return { k: 'other', text: formatAttr(a) };
    },
    fail: (msg) => fail(msg, cfgAttr),
  });
  const out: OpAttrs[Op.CustomCall] = { target, call, text };
  const front = r.get('mhlo.frontend_attributes');
  if (front && front.k === 'dict') {
    const nb = front.entries.find((e) => e.key === 'num_batch_dims')?.value;
    if (nb) {
      const v = nb.k === 'str' ? Number(nb.v) : NaN;
      if (!Number.isSafeInteger(v) || v < 0) fail(`'num_batch_dims' must be a count in quotes, got ${formatAttr(nb)}`, nb);
      out.numBatchDims = v;
    }
  }
  const layouts = (name: string): number[][] | undefined => {
    const a = r.get(name);
    if (!a) return undefined;
    if (a.k !== 'list') return fail(`'${name}' must be a list of dense<...> : tensor<Nxindex>`, a);
    // `dense<[0, 1]> : tensor<2xindex>`: index is no element type of kiln's, so read the numbers.
    const nums = (n: DenseNode | undefined): number[] => (!n ? [] : n.k === 'list' ? n.items.flatMap(nums) : n.k === 'num' ? [Number(n.text)] : fail(`'${name}' must hold integers`, a));
    return a.items.map((x) => (x.k === 'dense' ? nums(x.body) : fail(`'${name}' must be a list of dense<...> : tensor<Nxindex>`, x)));
  };
  const ol = layouts('operand_layouts');
  const rl = layouts('result_layouts');
  if (ol) out.operandLayouts = ol;
  if (rl) out.resultLayouts = rl;
  for (const k of ['has_side_effect', 'api_version', 'output_operand_aliases']) r.get(k);
  const side = r.attrs.get('has_side_effect');
  if (side && !(side.k === 'bool' && !side.v)) fail('a call with side effects cannot be run as a pure linear-algebra op', side);
  return out;
}

/** Prints an attribute as written, for annotations kept as text (`jax.result_info`). */
export function formatAttr(a: Attr): string {
  switch (a.k) {
    case 'int': case 'float': return a.type ? `${a.text} : ${a.type}` : a.text;
    case 'hex': return a.text;
    case 'bool': return String(a.v);
    case 'str': return JSON.stringify(a.v);
    case 'ident': return a.v;
    case 'sym': return `@${a.v}`;
    case 'type': return a.text;
    case 'list': return `[${a.items.map(formatAttr).join(', ')}]`;
    case 'range': return a.parts.map(formatAttr).join(':');
    case 'dense': return a.tok.image === 'dense' ? `dense<${a.body ? denseText(a.body) : ''}>${a.typeTok ? ` : ${a.typeTok.image}` : ''}` : '';
    case 'array': return `array<${a.elem}${a.items.length ? ': ' + a.items.map(formatAttr).join(', ') : ''}>`;
    case 'dict': return `{${a.entries.map((e) => (e.value ? `${e.key} = ${formatAttr(e.value)}` : e.key)).join(', ')}}`;
    case 'hash': return a.items.length === 0 ? a.name
      : `${a.name}<${a.items.map((i) => [i.key, i.value && (i.key ? `= ${formatAttr(i.value)}` : formatAttr(i.value))].filter(Boolean).join(' ')).join(', ')}>`;
    case 'cross': return a.parts.map(formatAttr).join(' x ');
    default: return a satisfies never;
  }
}

function denseText(n: import('./syntax.js').DenseNode): string {
  switch (n.k) {
    case 'list': return `[${n.items.map(denseText).join(', ')}]`;
    case 'num': case 'hex': return n.text;
    case 'bool': return String(n.v);
    case 'str': return JSON.stringify(n.v);
    case 'complex': return `(${denseText(n.re)},${denseText(n.im)})`;
    default: return n satisfies never;
  }
}
