/**
 * @file The op set: one enum whose values are the printed names, the families passes dispatch on,
 * and a typed map of each op's attributes. Every per-op table elsewhere is typed
 * `{ [K in Op]: Rule<K> }`, so adding an op here does not compile until every table covers it.
 * Semantics: https://openxla.org/stablehlo/spec
 */

/** Every operation kiln reads, named for its printed form (`Op.Add` prints as `stablehlo.add`). */
export enum Op {
  // ---- elementwise unary (https://openxla.org/stablehlo/spec#abs and neighbours)
  Abs = 'stablehlo.abs',
  Negate = 'stablehlo.negate',
  Sign = 'stablehlo.sign',
  Exp = 'stablehlo.exponential',
  Expm1 = 'stablehlo.exponential_minus_one',
  Log = 'stablehlo.log',
  Log1p = 'stablehlo.log_plus_one',
  Logistic = 'stablehlo.logistic',
  Sqrt = 'stablehlo.sqrt',
  Rsqrt = 'stablehlo.rsqrt',
  Cbrt = 'stablehlo.cbrt',
  Sin = 'stablehlo.sine',
  Cos = 'stablehlo.cosine',
  Tan = 'stablehlo.tan',
  Tanh = 'stablehlo.tanh',
  Floor = 'stablehlo.floor',
  Ceil = 'stablehlo.ceil',
  RoundAfz = 'stablehlo.round_nearest_afz',
  RoundEven = 'stablehlo.round_nearest_even',
  Not = 'stablehlo.not',
  Popcnt = 'stablehlo.popcnt',
  Clz = 'stablehlo.count_leading_zeros',
  IsFinite = 'stablehlo.is_finite',
  // chlo unary ops JAX emits (decomposed by XLA; kiln implements them directly)
  Erf = 'chlo.erf',
  Erfc = 'chlo.erfc',
  ErfInv = 'chlo.erf_inv',
  Square = 'chlo.square',
  Sinh = 'chlo.sinh',
  Cosh = 'chlo.cosh',
  Asin = 'chlo.asin',
  Acos = 'chlo.acos',
  Atan = 'chlo.atan',
  Asinh = 'chlo.asinh',
  Acosh = 'chlo.acosh',
  Atanh = 'chlo.atanh',
  Lgamma = 'chlo.lgamma',
  Digamma = 'chlo.digamma',
  IsInf = 'chlo.is_inf',
  IsPosInf = 'chlo.is_pos_inf',
  IsNegInf = 'chlo.is_neg_inf',
  BesselI1e = 'chlo.bessel_i1e',
  // complex parts (https://openxla.org/stablehlo/spec#real): complex<f32> -> f32
  Real = 'stablehlo.real',
  Imag = 'stablehlo.imag',

  // ---- elementwise binary
  Add = 'stablehlo.add',
  Subtract = 'stablehlo.subtract',
  Multiply = 'stablehlo.multiply',
  Divide = 'stablehlo.divide',
  Remainder = 'stablehlo.remainder',
  Power = 'stablehlo.power',
  Maximum = 'stablehlo.maximum',
  Minimum = 'stablehlo.minimum',
  Atan2 = 'stablehlo.atan2',
  And = 'stablehlo.and',
  Or = 'stablehlo.or',
  Xor = 'stablehlo.xor',
  ShiftLeft = 'stablehlo.shift_left',
  ShiftRightArithmetic = 'stablehlo.shift_right_arithmetic',
  ShiftRightLogical = 'stablehlo.shift_right_logical',
  NextAfter = 'chlo.next_after',
  /** The Hurwitz zeta function zeta(x, q). */
  Zeta = 'chlo.zeta',
  /** polygamma(n, x), the n-th derivative of digamma. */
  Polygamma = 'chlo.polygamma',
  Compare = 'stablehlo.compare',
  /** (re, im) f32 pairs to complex<f32>. https://openxla.org/stablehlo/spec#complex */
  Complex = 'stablehlo.complex',

  // ---- elementwise ternary and conversions
  Select = 'stablehlo.select',
  Clamp = 'stablehlo.clamp',
  Convert = 'stablehlo.convert',
  BitcastConvert = 'stablehlo.bitcast_convert',
  ReducePrecision = 'stablehlo.reduce_precision',

  // ---- producers and data movement
  Constant = 'stablehlo.constant',
  Iota = 'stablehlo.iota',
  BroadcastInDim = 'stablehlo.broadcast_in_dim',
  Reshape = 'stablehlo.reshape',
  Transpose = 'stablehlo.transpose',
  Slice = 'stablehlo.slice',
  DynamicSlice = 'stablehlo.dynamic_slice',
  DynamicUpdateSlice = 'stablehlo.dynamic_update_slice',
  Concatenate = 'stablehlo.concatenate',
  Pad = 'stablehlo.pad',
  Reverse = 'stablehlo.reverse',
  Gather = 'stablehlo.gather',
  Scatter = 'stablehlo.scatter',

  // ---- reductions and contractions
  Reduce = 'stablehlo.reduce',
  ReduceWindow = 'stablehlo.reduce_window',
  SelectAndScatter = 'stablehlo.select_and_scatter',
  DotGeneral = 'stablehlo.dot_general',
  Convolution = 'stablehlo.convolution',
  Sort = 'stablehlo.sort',
  TopK = 'chlo.top_k',
  /**
   * A scan along one dimension (JAX 0.11's GPU lowering of cumsum/cumprod/cummax/...): operands
   * are inputs then initial carries; results are outputs then final carries. The body takes one
   * slice of each input and the carries, and returns one slice of each output and the new carries.
   */
  Scan = 'chlo.scan',
  /** FFT, IFFT, RFFT, IRFFT over the trailing dims. https://openxla.org/stablehlo/spec#fft */
  Fft = 'stablehlo.fft',

  // ---- linear algebra (https://openxla.org/stablehlo/spec#cholesky, #triangular_solve) and the
  // backend custom calls JAX lowers linalg to (LAPACK on CPU, cuSOLVER on GPU; see custom-calls.ts)
  Cholesky = 'stablehlo.cholesky',
  TriangularSolve = 'stablehlo.triangular_solve',
  CustomCall = 'stablehlo.custom_call',

  // ---- random bits (https://openxla.org/stablehlo/spec#rng_bit_generator); expanded into
  // integer ops before compiling, as XLA's rng_bit_generator_expander does
  RngBitGenerator = 'stablehlo.rng_bit_generator',

  // ---- batch normalization (https://openxla.org/stablehlo/spec#batch_norm_training); other
  // frontends emit them, JAX does not. Expanded into elementwise ops and reductions on both devices
  BatchNormTraining = 'stablehlo.batch_norm_training',
  BatchNormInference = 'stablehlo.batch_norm_inference',
  BatchNormGrad = 'stablehlo.batch_norm_grad',

  // ---- control flow and structure
  While = 'stablehlo.while',
  If = 'stablehlo.if',
  Case = 'stablehlo.case',
  Call = 'func.call',
  Return = 'stablehlo.return',
  FuncReturn = 'func.return',
  OptimizationBarrier = 'stablehlo.optimization_barrier',
}

/** Every {@link Op}, in declaration order. */
export const ALL_OPS: readonly Op[] = Object.values(Op);
const OP_NAMES = new Set<string>(ALL_OPS);

/**
 * The op for a printed name; `call` and `return` are accepted for `func.call` and `func.return`,
 * and `chlo.tan` (what JAX printed before StableHLO had `tan`) for `stablehlo.tan`, the same function.
 */
export function opFromName(name: string): Op | undefined {
  if (name === 'call') return Op.Call;
  if (name === 'chlo.tan') return Op.Tan;
  if (name === 'return') return Op.FuncReturn;
  return OP_NAMES.has(name) ? (name as Op) : undefined;
}

// ---- families -------------------------------------------------------------------------------

/**
 * The same `rule` for every op of `family`: the rows of a per-op table (typed over every op) for a
 * family the table treats alike, so that a new op of the family needs no row of its own there.
 * Rows written after the spread override it for the ops the table treats apart.
 */
export function familyRows<K extends Op, R>(family: readonly K[], rule: R): Record<K, R> {
  return Object.fromEntries(family.map((op) => [op, rule])) as Record<K, R>;
}

/** One operand, one result of its shape, element by element. */
export const UNARY_ELEMENTWISE = [
  Op.Abs, Op.Negate, Op.Sign, Op.Exp, Op.Expm1, Op.Log, Op.Log1p, Op.Logistic, Op.Sqrt, Op.Rsqrt,
  Op.Cbrt, Op.Sin, Op.Cos, Op.Tan, Op.Tanh, Op.Floor, Op.Ceil, Op.RoundAfz, Op.RoundEven, Op.Not,
  Op.Popcnt, Op.Clz, Op.IsFinite, Op.Erf, Op.Erfc, Op.ErfInv, Op.Square, Op.Sinh, Op.Cosh, Op.Asin,
  Op.Acos, Op.Atan, Op.Asinh, Op.Acosh, Op.Atanh, Op.Lgamma, Op.Digamma, Op.IsInf, Op.IsPosInf,
  Op.IsNegInf, Op.BesselI1e, Op.Real, Op.Imag,
] as const;
export type UnaryElementwiseOp = (typeof UNARY_ELEMENTWISE)[number];
export const UnaryElementwise = new Set<Op>(UNARY_ELEMENTWISE);
/** Two operands of one shape, element by element (`compare` included: its result is i1). */
export const BINARY_ELEMENTWISE = [
  Op.Add, Op.Subtract, Op.Multiply, Op.Divide, Op.Remainder, Op.Power, Op.Maximum, Op.Minimum,
  Op.Atan2, Op.And, Op.Or, Op.Xor, Op.ShiftLeft, Op.ShiftRightArithmetic, Op.ShiftRightLogical,
  Op.NextAfter, Op.Zeta, Op.Polygamma, Op.Compare, Op.Complex,
] as const;
export type BinaryElementwiseOp = (typeof BINARY_ELEMENTWISE)[number];
export const BinaryElementwise = new Set<Op>(BINARY_ELEMENTWISE);
/** Every op that maps elements to elements at the same index (fusable without index math). */
export const ELEMENTWISE = [
  ...UNARY_ELEMENTWISE, ...BINARY_ELEMENTWISE,
  Op.Select, Op.Clamp, Op.Convert, Op.BitcastConvert, Op.ReducePrecision,
] as const;
export type ElementwiseOp = (typeof ELEMENTWISE)[number];
export const Elementwise = new Set<Op>(ELEMENTWISE);

/** Unary ops whose result is i1 whatever the operand. */
export const Predicates = new Set<Op>([Op.IsFinite, Op.IsInf, Op.IsPosInf, Op.IsNegInf]);
/** Ops that only move or index data: fusable into their consumers by index rewriting. */
export const DataMovement = new Set<Op>([
  Op.BroadcastInDim, Op.Reshape, Op.Transpose, Op.Slice, Op.Concatenate, Op.Pad, Op.Reverse,
  Op.Iota, Op.Constant, Op.DynamicSlice,
]);
/** Ops that combine elements through a region (or a fixed order, for `top_k`). */
export const Reduction = new Set<Op>([Op.Reduce, Op.ReduceWindow, Op.SelectAndScatter, Op.Sort, Op.TopK]);
/** Ops that sum products over contracted dimensions. */
export const Contraction = new Set<Op>([Op.DotGeneral, Op.Convolution]);
/** Matrix factorizations and solves: one kernel per op, batched over leading dimensions. */
export const LinearAlgebra = new Set<Op>([Op.Cholesky, Op.TriangularSolve, Op.CustomCall]);
/**
 * Ops the compiler expands into other ops before fusion (`compiler/passes/expand.ts`): no kernel
 * ever sees them. The reference interpreter runs them by their own rules.
 */
export const Expanded = new Set<Op>([Op.Scan, Op.RngBitGenerator, Op.BatchNormTraining, Op.BatchNormInference, Op.BatchNormGrad]);
/** The batch-norm ops: expanded for the reference interpreter too (their meaning is their expansion). */
export const BatchNorm = new Set<Op>([Op.BatchNormTraining, Op.BatchNormInference, Op.BatchNormGrad]);
/** Ops whose regions (or callee) run conditionally or repeatedly. */
export const ControlFlow = new Set<Op>([Op.While, Op.If, Op.Case, Op.Call]);
/**
 * The ops that take or produce i64/ui64 values (JAX's threefry counters and 64-bit index math);
 * the verifier refuses 64-bit values anywhere else, so every device and pass can rely on it.
 */
export const Int64Ops = new Set<Op>([
  Op.Constant, Op.Iota, Op.BroadcastInDim, Op.Reshape, Op.Transpose, Op.Slice, Op.DynamicSlice, Op.Concatenate,
  Op.Reverse, Op.Add, Op.Subtract, Op.Multiply, Op.Negate, Op.Abs, Op.Sign, Op.Not, Op.And, Op.Or,
  Op.Xor, Op.ShiftLeft, Op.ShiftRightArithmetic, Op.ShiftRightLogical, Op.Compare, Op.Maximum,
  Op.Minimum, Op.Select, Op.Clamp, Op.Convert, Op.BitcastConvert, Op.Call, Op.Return, Op.FuncReturn,
  Op.RngBitGenerator,
]);
/**
 * Where each indexing op reads start indices, which may be i64/ui64 (JAX with x64 on indexes with
 * 64-bit integers): from operand `from` on (dynamic_slice, dynamic_update_slice), or operand `from`
 * only (gather, scatter). Both devices first clamp such an index into i32's range and convert it
 * (compiler/passes/expand.ts): every op clamps its starts into the operand anyway, so a 64-bit
 * index past i32's range lands where JAX puts it.
 */
export const Int64Indices: ReadonlyMap<Op, { from: number; only?: boolean }> = new Map<Op, { from: number; only?: boolean }>([
  [Op.DynamicSlice, { from: 1 }], [Op.DynamicUpdateSlice, { from: 2 }],
  [Op.Gather, { from: 1, only: true }], [Op.Scatter, { from: 1, only: true }],
]);

/** Whether operand `i` of `op` is a start index that may be 64-bit ({@link Int64Indices}). */
export function isInt64Index(op: Op, i: number): boolean {
  const at = Int64Indices.get(op);
  return at !== undefined && (at.only ? i === at.from : i >= at.from);
}

/**
 * The ops that take or produce complex<f32> values: what JAX emits for complex arithmetic, the
 * FFT and data movement. The verifier refuses complex values anywhere else (max, floor,
 * remainder, ... have no meaning on complex numbers, as in XLA), and `compare` on complex only
 * with EQ/NE, so every device and pass can rely on it.
 */
export const ComplexOps = new Set<Op>([
  Op.Constant, Op.BroadcastInDim, Op.Reshape, Op.Transpose, Op.Slice, Op.DynamicSlice,
  Op.DynamicUpdateSlice, Op.Concatenate, Op.Pad, Op.Reverse, Op.Gather, Op.Scatter,
  Op.Add, Op.Subtract, Op.Multiply, Op.Divide, Op.Negate, Op.Exp, Op.Log, Op.Log1p, Op.Expm1,
  Op.Sqrt, Op.Rsqrt, Op.Sin, Op.Cos, Op.Tanh, Op.Power, Op.Abs, Op.Sign, Op.Square,
  Op.Real, Op.Imag, Op.Complex, Op.Select, Op.Compare, Op.Convert, Op.Reduce, Op.ReduceWindow, Op.DotGeneral,
  Op.Fft, Op.Scan, Op.While, Op.If, Op.Case, Op.Call, Op.Return, Op.FuncReturn, Op.OptimizationBarrier,
]);
/** The ops that end a block and name its results. */
export const Terminators = new Set<Op>([Op.Return, Op.FuncReturn]);

// ---- attributes ----------------------------------------------------------------------------

/** `fft`'s kind. https://openxla.org/stablehlo/spec#fft */
export type FftType = 'FFT' | 'IFFT' | 'RFFT' | 'IRFFT';

/** `compare`'s direction. https://openxla.org/stablehlo/spec#compare */
export type ComparisonDirection = 'EQ' | 'NE' | 'LT' | 'LE' | 'GT' | 'GE';
/** `compare`'s type; JAX leaves it out where the element type implies it. */
export type ComparisonType = 'FLOAT' | 'TOTALORDER' | 'SIGNED' | 'UNSIGNED';
/** Precision hints of `dot_general` and `convolution`: kept and printed; no kernel reads them. */
export type Precision = 'DEFAULT' | 'HIGH' | 'HIGHEST';

/**
 * A dense constant. A splat holds one element; otherwise `data.length` is the element count
 * times `lanes(dtype)` (complex elements take two slots: re, im).
 */
export interface DenseLiteral {
  splat: boolean;
  /** Host storage for the result dtype (see `HostArray`); f16 values are held as f32. */
  data: import('./dtype.js').HostArray;
}

export type { TransposeA } from './custom-call-attrs.js';
/**
 * `rng_bit_generator`'s algorithm. DEFAULT is PHILOX, as XLA's CPU and GPU backends choose it
 * (checked against JAX's outputs in test/fixtures/jax-programs/rng_bit_generator.json).
 */
export type RngAlgorithm = 'DEFAULT' | 'THREE_FRY' | 'PHILOX';

/** The batch-norm ops' attributes: `epsilon` (an f32 value) and the feature dimension. */
export interface BatchNormAttrs { epsilon: number; featureIndex: number }

/** `dot_general`'s dimension numbers. https://openxla.org/stablehlo/spec#dot_general */
export interface DotDims {
  lhsBatch: number[];
  rhsBatch: number[];
  lhsContract: number[];
  rhsContract: number[];
}

/** `convolution`'s dimension numbers (`[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]`). */
export interface ConvDims {
  inputBatch: number;
  inputFeature: number;
  inputSpatial: number[];
  kernelInput: number;
  kernelOutput: number;
  kernelSpatial: number[];
  outputBatch: number;
  outputFeature: number;
  outputSpatial: number[];
}

/** `gather`'s dimension numbers. https://openxla.org/stablehlo/spec#gather */
export interface GatherDims {
  offsetDims: number[];
  collapsedSliceDims: number[];
  operandBatchingDims: number[];
  startIndicesBatchingDims: number[];
  startIndexMap: number[];
  indexVectorDim: number;
}

/** `scatter`'s dimension numbers. https://openxla.org/stablehlo/spec#scatter */
export interface ScatterDims {
  updateWindowDims: number[];
  insertedWindowDims: number[];
  inputBatchingDims: number[];
  scatterIndicesBatchingDims: number[];
  scatterDimsToOperandDims: number[];
  indexVectorDim: number;
}

type NoAttrs = Record<string, never>;

/** The attributes of each op. Ops absent from the explicit list below take none. */
interface SpecificAttrs {
  [Op.Compare]: { direction: ComparisonDirection; compareType?: ComparisonType };
  [Op.ReducePrecision]: { exponentBits: number; mantissaBits: number };
  [Op.Constant]: { value: DenseLiteral };
  [Op.Iota]: { dim: number };
  [Op.BroadcastInDim]: { dims: number[] };
  [Op.Transpose]: { permutation: number[] };
  [Op.Slice]: { start: number[]; limit: number[]; strides: number[] };
  [Op.DynamicSlice]: { sliceSizes: number[] };
  [Op.Concatenate]: { dim: number };
  [Op.Pad]: { low: number[]; high: number[]; interior: number[] };
  [Op.Reverse]: { dims: number[] };
  [Op.Gather]: { dims: GatherDims; sliceSizes: number[]; indicesAreSorted: boolean };
  [Op.Scatter]: { dims: ScatterDims; indicesAreSorted: boolean; uniqueIndices: boolean };
  [Op.Reduce]: { dims: number[] };
  [Op.ReduceWindow]: {
    windowDimensions: number[];
    windowStrides: number[];
    baseDilations: number[];
    windowDilations: number[];
    /** [low, high] per dimension. */
    padding: [number, number][];
  };
  [Op.SelectAndScatter]: { windowDimensions: number[]; windowStrides: number[]; padding: [number, number][] };
  [Op.DotGeneral]: { dims: DotDims; precision?: Precision[] };
  [Op.Convolution]: {
    windowStrides: number[];
    padding: [number, number][];
    lhsDilation: number[];
    rhsDilation: number[];
    windowReversal: boolean[];
    dims: ConvDims;
    featureGroupCount: number;
    batchGroupCount: number;
    precision?: Precision[];
  };
  [Op.Sort]: { dimension: number; isStable: boolean };
  [Op.TopK]: { k: number };
  /** `numInits`: how many trailing operands are initial carries (`operandSegmentSizes`). */
  [Op.Scan]: { dimension: number; isReverse: boolean; isAssociative: boolean; numInits: number };
  /** `length` = the transform's sizes over the trailing `fftLength.length` dims (1 to 3). */
  [Op.Fft]: { fftType: FftType; fftLength: number[] };
  [Op.RngBitGenerator]: { algorithm: RngAlgorithm };
  [Op.BatchNormTraining]: BatchNormAttrs;
  [Op.BatchNormInference]: BatchNormAttrs;
  [Op.BatchNormGrad]: BatchNormAttrs;
  [Op.Call]: { callee: string };
  [Op.Cholesky]: { lower: boolean };
  [Op.TriangularSolve]: { leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: import('./custom-call-attrs.js').TransposeA };
  [Op.CustomCall]: import('./custom-call-attrs.js').CustomCallAttrs;
}

/** The attributes of op `K`: `OpAttrs[Op.Transpose]` is `{ permutation: number[] }`. */
export type OpAttrs = { [K in Op]: K extends keyof SpecificAttrs ? SpecificAttrs[K] : NoAttrs };

/**
 * How many regions each op carries. Reduce, ReduceWindow, Scatter, Sort: the body/comparator.
 * While: cond then body. SelectAndScatter: select then scatter. If: true then false. Case: N.
 */
export function regionCount(op: Op): number | 'variadic' {
  switch (op) {
    case Op.Reduce: case Op.ReduceWindow: case Op.Scatter: case Op.Sort: case Op.Scan: return 1;
    case Op.While: case Op.SelectAndScatter: case Op.If: return 2;
    case Op.Case: return 'variadic';
    default: return 0;
  }
}
