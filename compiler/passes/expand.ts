/**
 * @file The expansion pass: rewrites the ops of the `Expanded` family (ir/ops.ts) into ops every
 * device already runs, before anything else sees them, as XLA's expanders do.
 *
 * A `bitcast_convert` between 32 and 64 bits (which changes the shape) becomes slices and word
 * joins, or word splits and a concatenation.
 *
 * The batch-norm ops become the StableHLO spec's formulas: sums over every dimension but the
 * feature one (a `reduce` with an add body), broadcasts of per-feature vectors, and elementwise
 * arithmetic. Both devices run this expansion, so batch norm has one definition.
 *
 * `chlo.scan` whose body combines each input slice with the carry by one associative op (add,
 * multiply, max, min, and, or: JAX's cumsum, cumprod, cummax, cummin, cumlogical) becomes what
 * JAX's CPU lowering writes for the same function: a `reduce_window` over a window as long as the
 * scanned dimension, padded on one side with the op's identity, then the op with the broadcast
 * init; the final carry is the last (first, reversed) slice. Any other scan (a body of several
 * ops, several inputs or carries, an element type with no identity such as complex<f32>: JAX's
 * cumsum of complex values on GPU) becomes a counted `stablehlo.while` over the scanned dimension,
 * exactly the reference interpreter's rule: at step k the index i = k (n-1-k reversed), each
 * input's slice i (dynamic_slice, reshaped without the dimension), the body's ops on those and the
 * carries, each output slice written at i (dynamic_update_slice), the next carries. The loop is
 * counted (constant bounds), so WebGPU repeats it without reading anything back.
 *
 * A 64-bit start index of dynamic_slice, dynamic_update_slice, gather or scatter (JAX with x64 on)
 * is clamped into i32's range and converted to i32 (on both devices): each op clamps its starts
 * into the operand (gather and scatter: skip or clamp out-of-range windows) anyway, so an index
 * past i32's range lands exactly where JAX puts it, where a plain conversion would wrap.
 *
 * `stablehlo.rng_bit_generator` becomes the integer program of XLA's
 * `rng_bit_generator_expander.cc` + `hlo/builder/lib/prng.cc`: a counter per block (ui64 iota +
 * state), Threefry-2x32 (20 rounds of add/rotate/xor) or Philox-4x32 (10 rounds of 32x32->64-bit
 * products, taken as ui64 multiplies), and the words laid out as XLA lays them out. The reference
 * interpreter computes the same bits directly (runtime/reference/random.ts); tests hold both to
 * JAX's outputs.
 */
import { allocHost, bitWidth, isInt64, SUPPORTED_DTYPES, type HostArray, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { Expanded, isInt64Index, Op, type ComparisonDirection, type OpAttrs } from '../../ir/ops.js';
import { numElements, tensorType, type AnyOperation, type Module, type Operation, type TensorType, type Value } from '../../ir/types.js';
import { cloneOp, rewritePass, type RewriteContext } from './rewrite.js';

/** Emits ops before the one being rewritten, each typed by the caller, with its location. */
class Emit {
  constructor(private readonly ctx: RewriteContext, private readonly loc: Operation['loc']) {}

  op<K extends Op>(op: K, operands: Value[], attrs: OpAttrs[K], types: TensorType[]): Value[] {
    return this.place({ op, operands, results: types.map((type) => ({ type })), attrs, regions: [] });
  }

  /** Inserts a built op (with the rewritten op's location) and returns its results. */
  place<K extends Op>(o: Operation<K>): Value[] {
    if (this.loc) o.loc = this.loc;
    this.ctx.insert(o);
    return o.results;
  }

  /** A float constant of `dtype` splatted to `shape` (f16 literals hold their values as f32). */
  float(dtype: TensorType['dtype'], value: number, shape: readonly number[]): Value {
    return this.one(Op.Constant, [], { value: { splat: true, data: new Float32Array([value]) } }, tensorType(dtype, shape));
  }

  /** A same-type binary op. */
  arith(op: Op.Add | Op.Subtract | Op.Multiply | Op.Divide, a: Value, b: Value): Value {
    return this.one(op, [a, b], {}, a.type);
  }

  un(op: Op.Sqrt, a: Value): Value {
    return this.one(op, [a], {}, a.type);
  }

  one<K extends Op>(op: K, operands: Value[], attrs: OpAttrs[K], type: TensorType): Value {
    return this.op(op, operands, attrs, [type])[0];
  }

  /** A constant of `dtype` (ui32 or ui64) splatted to `shape`. */
  full(dtype: 'ui32' | 'ui64', value: number | bigint, shape: readonly number[]): Value {
    const data = dtype === 'ui64' ? new BigUint64Array([BigInt(value)]) : new Uint32Array([Number(value)]);
    return this.one(Op.Constant, [], { value: { splat: true, data } }, tensorType(dtype, shape));
  }

  bin(op: Op.Add | Op.Multiply | Op.Xor | Op.Or | Op.ShiftLeft | Op.ShiftRightLogical, a: Value, b: Value): Value {
    return this.one(op, [a, b], {}, a.type);
  }

  /** `a op k` with `k` a constant of `a`'s type. */
  binK(op: Op.Add | Op.Multiply | Op.Xor | Op.ShiftLeft | Op.ShiftRightLogical, a: Value, k: number | bigint): Value {
    return this.bin(op, a, this.full(a.type.dtype as 'ui32' | 'ui64', k, a.type.shape));
  }

  convert(x: Value, dtype: 'ui32' | 'ui64'): Value {
    return this.one(Op.Convert, [x], {}, tensorType(dtype, x.type.shape));
  }

  bitcast(x: Value, dtype: TensorType['dtype']): Value {
    return x.type.dtype === dtype ? x : this.one(Op.BitcastConvert, [x], {}, tensorType(dtype, x.type.shape));
  }

  reshape(x: Value, shape: readonly number[]): Value {
    return this.one(Op.Reshape, [x], {}, tensorType(x.type.dtype, shape));
  }

  /** A scalar broadcast to `shape`. */
  splat(x: Value, shape: readonly number[]): Value {
    return shape.length === 0 ? x : this.one(Op.BroadcastInDim, [x], { dims: [] }, tensorType(x.type.dtype, shape));
  }

  /** Element `i` of a vector, as a scalar. */
  element(x: Value, i: number): Value {
    const s = this.one(Op.Slice, [x], { start: [i], limit: [i + 1], strides: [1] }, tensorType(x.type.dtype, [1]));
    return this.reshape(s, []);
  }

  concat(xs: Value[], dim: number): Value {
    const shape = [...xs[0].type.shape];
    shape[dim] = xs.reduce((s, x) => s + x.type.shape[dim], 0);
    return this.one(Op.Concatenate, xs, { dim }, tensorType(xs[0].type.dtype, shape));
  }

  /** The first `n` elements of a vector. */
  prefix(x: Value, n: number): Value {
    if (x.type.shape[0] === n) return x;
    return this.one(Op.Slice, [x], { start: [0], limit: [n], strides: [1] }, tensorType(x.type.dtype, [n]));
  }

  compare(direction: ComparisonDirection, a: Value, b: Value): Value {
    return this.one(Op.Compare, [a, b], { direction, compareType: 'UNSIGNED' }, tensorType('i1', a.type.shape));
  }

  select(p: Value, a: Value, b: Value): Value {
    return this.one(Op.Select, [p, a, b], {}, a.type);
  }

  /** The low and high ui32 words of a ui64 tensor. */
  words(x: Value): [Value, Value] {
    return [this.convert(x, 'ui32'), this.convert(this.binK(Op.ShiftRightLogical, x, 32), 'ui32')];
  }

  /** The ui64 tensor of low and high ui32 words. */
  join(lo: Value, hi: Value): Value {
    return this.bin(Op.Or, this.convert(lo, 'ui64'), this.binK(Op.ShiftLeft, this.convert(hi, 'ui64'), 32));
  }
}

// ---- rng_bit_generator -------------------------------------------------------------------------

/** Threefry-2x32, 20 rounds, on words of one shape; the key words are scalars. */
function threeFry(e: Emit, x: [Value, Value], key: [Value, Value]): [Value, Value] {
  const shape = x[0].type.shape;
  const rotations = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [key[0], key[1], e.binK(Op.Xor, e.bin(Op.Xor, key[0], key[1]), 0x1bd11bda)].map((k) => e.splat(k, shape));
  let [a, b] = [e.bin(Op.Add, x[0], ks[0]), e.bin(Op.Add, x[1], ks[1])];
  for (let block = 0; block < 5; block++) {
    for (let r = 0; r < 4; r++) {
      const d = rotations[(block % 2) * 4 + r];
      a = e.bin(Op.Add, a, b);
      b = e.bin(Op.Xor, e.bin(Op.Or, e.binK(Op.ShiftLeft, b, d), e.binK(Op.ShiftRightLogical, b, 32 - d)), a);
    }
    a = e.bin(Op.Add, a, ks[(block + 1) % 3]);
    b = e.binK(Op.Add, e.bin(Op.Add, b, ks[(block + 2) % 3]), block + 1);
  }
  return [a, b];
}

/** Philox-4x32, 10 rounds, on words of one shape; the key words are scalars. */
function philox(e: Emit, x: Value[], key: [Value, Value]): Value[] {
  const shape = x[0].type.shape;
  const mulHiLo = (a: Value, k: number): [Value, Value] => {
    const [lo, hi] = e.words(e.binK(Op.Multiply, e.convert(a, 'ui64'), k));
    return [hi, lo];
  };
  let [k0, k1] = key;
  for (let r = 0; r < 10; r++) {
    const [h0, l0] = mulHiLo(x[0], 0xd2511f53);
    const [h1, l1] = mulHiLo(x[2], 0xcd9e8d57);
    const [s0, s1] = [e.splat(k0, shape), e.splat(k1, shape)];
    x = [e.bin(Op.Xor, e.bin(Op.Xor, h1, x[1]), s0), l1, e.bin(Op.Xor, e.bin(Op.Xor, h0, x[3]), s1), l0];
    if (r < 9) [k0, k1] = [e.binK(Op.Add, k0, 0x9e3779b9), e.binK(Op.Add, k1, 0xbb67ae85)];
  }
  return x;
}

/** XLA's split for Threefry's two words (see runtime/reference/random.ts threeFrySplitDim). */
function splitDim(shape: readonly number[]): number {
  if (shape.length === 0) return -1;
  const even = shape.findIndex((d) => d % 2 === 0);
  if (even >= 0) return even;
  let best = 0;
  shape.forEach((d, i) => { if (d > shape[best]) best = i; });
  return best;
}

/** `counter + [0, 1, ..., n)` reshaped to `shape` (row-major block numbers). */
function counters(e: Emit, counter: Value, shape: readonly number[]): Value {
  const n = numElements(shape);
  const iota = e.reshape(e.one(Op.Iota, [], { dim: 0 }, tensorType('ui64', [n])), shape);
  return e.bin(Op.Add, iota, e.splat(counter, shape));
}

function expandRng(o: Operation<Op.RngBitGenerator>, e: Emit): Value[] {
  const state = o.operands[0];
  const out = o.results[1].type;
  const wide = out.dtype === 'ui64' || out.dtype === 'i64';
  const n = numElements(out.shape);
  const key = e.element(state, 0);
  const keyWords = e.words(key);
  let bits: Value;
  let newState: Value;
  if (o.attrs.algorithm === 'THREE_FRY') {
    const counter = e.element(state, 1);
    const split = wide ? undefined : splitDim(out.shape);
    // 32-bit results draw half as many blocks: the split dimension halved (rounded up), with a
    // unit dimension after it along which the two words are concatenated.
    const half = split === undefined ? [...out.shape] : split < 0 ? [1]
      : [...out.shape.slice(0, split), Math.ceil(out.shape[split] / 2), 1, ...out.shape.slice(split + 1)];
    const [x0, x1] = threeFry(e, e.words(counters(e, counter, half)), keyWords);
    if (wide) bits = e.join(x0, x1);
    else if (split! < 0) bits = e.reshape(x0, []);
    else {
      const s = split!;
      const paired = e.concat([x0, x1], s + 1);
      const even = [...out.shape];
      even[s] = 2 * Math.ceil(out.shape[s] / 2);
      bits = e.reshape(paired, even);
      if (even[s] !== out.shape[s]) {
        bits = e.one(Op.Slice, [bits], { start: out.shape.map(() => 0), limit: [...out.shape], strides: out.shape.map(() => 1) }, tensorType('ui32', out.shape));
      }
    }
    const next = e.reshape(e.binK(Op.Add, counter, BigInt(numElements(half))), [1]);
    newState = e.concat([e.reshape(key, [1]), next], 0);
  } else {
    const three = state.type.shape[0] === 3;
    const lo = e.element(state, 1);
    const hi = three ? e.element(state, 2) : key;
    const count = wide ? 2 * n : n;
    const blocks = Math.ceil(count / 4);
    const add128 = (base: Value, shape: readonly number[], step: Value): [Value, Value] => {
      const l = e.bin(Op.Add, e.splat(base, shape), step);
      const carry = e.compare('LT', l, e.splat(base, shape));
      const h = e.splat(hi, shape);
      return [l, e.select(carry, e.binK(Op.Add, h, 1), h)];
    };
    const [cl, ch] = add128(lo, [blocks], e.one(Op.Iota, [], { dim: 0 }, tensorType('ui64', [blocks])));
    const x = philox(e, [...e.words(cl), ...e.words(ch)], keyWords);
    // Block i gives words 4i .. 4i+3 (64-bit elements: pairs of them, low word first).
    const interleaved = e.reshape(e.concat(x.map((w) => e.reshape(w, [blocks, 1])), 1), [4 * blocks]);
    let flat = e.prefix(interleaved, count);
    if (wide) {
      const pairs = e.reshape(flat, [n, 2]);
      const half = (j: number) => e.reshape(e.one(Op.Slice, [pairs], { start: [0, j], limit: [n, j + 1], strides: [1, 1] }, tensorType('ui32', [n, 1])), [n]);
      flat = e.join(half(0), half(1));
    }
    bits = e.reshape(flat, out.shape);
    const [nl, nh] = add128(lo, [], e.full('ui64', BigInt(blocks), []));
    newState = e.concat([e.reshape(key, [1]), e.reshape(nl, [1]), ...(three ? [e.reshape(nh, [1])] : [])], 0);
  }
  return [newState, e.bitcast(bits, out.dtype)];
}

/** Whether `o` is a `bitcast_convert` between 32 and 64 bits (its shapes differ by a trailing 2). */
export function isWidthChangingBitcast(o: AnyOperation): boolean {
  return o.op === Op.BitcastConvert && bitWidth(o.operands[0].type.dtype) !== bitWidth(o.results[0].type.dtype);
}

/**
 * `bitcast_convert` between 32 and 64 bits: each 64-bit element is the two 32-bit words of the
 * trailing dimension, low word first (https://openxla.org/stablehlo/spec#bitcast_convert).
 */
function expandWideBitcast(o: Operation<Op.BitcastConvert>, e: Emit): Value[] {
  const x = o.operands[0];
  const r = o.results[0].type;
  if (bitWidth(x.type.dtype) === 32) {
    const u = e.bitcast(x, 'ui32');
    const rank = x.type.shape.length;
    const word = (j: number) => {
      const start = x.type.shape.map((_, i) => (i === rank - 1 ? j : 0));
      const limit = x.type.shape.map((d, i) => (i === rank - 1 ? j + 1 : d));
      const s = e.one(Op.Slice, [u], { start, limit, strides: x.type.shape.map(() => 1) }, tensorType('ui32', [...r.shape, 1]));
      return e.reshape(s, r.shape);
    };
    return [e.bitcast(e.join(word(0), word(1)), r.dtype)];
  }
  const [lo, hi] = e.words(e.bitcast(x, 'ui64'));
  const col = (w: Value) => e.reshape(w, [...x.type.shape, 1]);
  return [e.bitcast(e.concat([col(lo), col(hi)], x.type.shape.length), r.dtype)];
}

// ---- batch norm (https://openxla.org/stablehlo/spec#batch_norm_training) -------------------------

/** What the three batch-norm expansions share: the feature dimension, its broadcasts and sums. */
class Features {
  readonly x: TensorType;
  readonly n: number;
  private readonly others: number[];
  constructor(private readonly e: Emit, x: Value, private readonly fi: number) {
    this.x = x.type;
    this.others = this.x.shape.map((_, i) => i).filter((i) => i !== fi);
    this.n = numElements(this.x.shape) / this.x.shape[fi];
  }

  /** A feature vector broadcast along the feature dimension to the operand's shape. */
  spread(v: Value): Value {
    return this.e.one(Op.BroadcastInDim, [v], { dims: [this.fi] }, this.x);
  }

  /** The sum over every dimension but the feature one. */
  sum(v: Value): Value {
    const d = this.x.dtype;
    const [a, b] = [{ type: tensorType(d, []) }, { type: tensorType(d, []) }];
    const r = { type: tensorType(d, []) };
    const body = { args: [a, b], ops: [
      { op: Op.Add, operands: [a, b], results: [r], attrs: {}, regions: [] },
      { op: Op.Return, operands: [r], results: [], attrs: {}, regions: [] },
    ] as Operation[] };
    const o: Operation<Op.Reduce> = {
      op: Op.Reduce, operands: [v, this.e.float(d, 0, [])], results: [{ type: tensorType(d, [this.x.shape[this.fi]]) }],
      attrs: { dims: this.others }, regions: [{ block: body }],
    };
    return this.e.place(o)[0];
  }

  scalar(k: number): Value {
    return this.e.float(this.x.dtype, k, this.x.shape);
  }
}

/** `(x - mean) / sqrt(variance + epsilon) * scale + offset`, every vector spread over x. */
function normalize(e: Emit, f: Features, eps: number, [x, scale, offset, mean, variance]: Value[]): Value {
  const stddev = e.un(Op.Sqrt, e.arith(Op.Add, f.spread(variance), f.scalar(eps)));
  const normalized = e.arith(Op.Divide, e.arith(Op.Subtract, x, f.spread(mean)), stddev);
  return e.arith(Op.Add, e.arith(Op.Multiply, f.spread(scale), normalized), f.spread(offset));
}

function expandBatchNorm(o: Operation<Op.BatchNormTraining | Op.BatchNormInference | Op.BatchNormGrad>, e: Emit): Value[] {
  const { epsilon: eps, featureIndex } = o.attrs;
  const [x] = o.operands;
  const f = new Features(e, x, featureIndex);
  const mean = (v: Value) => e.arith(Op.Divide, f.sum(v), e.float(f.x.dtype, f.n, [f.x.shape[featureIndex]]));
  switch (o.op) {
    case Op.BatchNormInference: return [normalize(e, f, eps, o.operands)];
    case Op.BatchNormTraining: {
      const [, scale, offset] = o.operands;
      const m = mean(x);
      const centered = e.arith(Op.Subtract, x, f.spread(m));
      const v = mean(e.arith(Op.Multiply, centered, centered));
      return [normalize(e, f, eps, [x, scale, offset, m, v]), m, v];
    }
    case Op.BatchNormGrad: {
      // The spec's formulas (after XLA's batchnorm_expander.cc).
      const [, scale, m, variance, dy] = o.operands;
      const centered = e.arith(Op.Subtract, x, f.spread(m));
      const varEps = e.arith(Op.Add, f.spread(variance), f.scalar(eps));
      const stddev = e.un(Op.Sqrt, varEps);
      const normalized = e.arith(Op.Divide, centered, stddev);
      const count = f.scalar(f.n);
      const i1 = e.arith(Op.Multiply, dy, count);
      const i2 = f.spread(f.sum(dy));
      const i3 = f.spread(f.sum(e.arith(Op.Multiply, dy, centered)));
      const i5 = e.arith(Op.Divide, e.arith(Op.Multiply, i3, centered), varEps);
      const i6 = e.arith(Op.Subtract, e.arith(Op.Subtract, i1, i2), i5);
      const dx = e.arith(Op.Multiply, e.arith(Op.Divide, e.arith(Op.Divide, f.spread(scale), stddev), count), i6);
      return [dx, f.sum(e.arith(Op.Multiply, dy, normalized)), f.sum(dy)];
    }
    default: throw new Error(`internal: ${o.op} is not a batch-norm op`);
  }
}

/** The identity of each op a scan body may combine with, per element type (undefined: none). */
function scanIdentity(op: Op, dtype: TensorType['dtype']): HostArray | undefined {
  const float = dtype === 'f32' || dtype === 'f16';
  const table: Partial<Record<string, HostArray>> = float
    ? { [Op.Add]: new Float32Array([0]), [Op.Multiply]: new Float32Array([1]), [Op.Maximum]: new Float32Array([-Infinity]), [Op.Minimum]: new Float32Array([Infinity]) }
    : dtype === 'i32'
      ? { [Op.Add]: new Int32Array([0]), [Op.Multiply]: new Int32Array([1]), [Op.Maximum]: new Int32Array([-0x80000000]), [Op.Minimum]: new Int32Array([0x7fffffff]) }
      : dtype === 'ui32'
        ? { [Op.Add]: new Uint32Array([0]), [Op.Multiply]: new Uint32Array([1]), [Op.Maximum]: new Uint32Array([0]), [Op.Minimum]: new Uint32Array([0xffffffff]) }
        : dtype === 'i1'
          ? { [Op.And]: new Uint8Array([1]), [Op.Or]: new Uint8Array([0]), [Op.Maximum]: new Uint8Array([0]), [Op.Minimum]: new Uint8Array([1]) }
          : {};
  return table[op];
}

/**
 * The one op of a scan body that combines its one input with its one carry and returns the result
 * as both output and carry (JAX's cumsum, cumprod, cummax, cummin), with its identity; undefined
 * for any other scan.
 */
function simpleScan(o: Operation<Op.Scan>): { combine: Operation; identity: HostArray } | undefined {
  if (o.operands.length !== 2 || o.attrs.numInits !== 1 || o.results.length !== 2) return undefined;
  const [x, init] = o.operands;
  const body = o.regions[0].block;
  const [a, b] = body.args;
  const [combine, ret] = body.ops;
  const operandsOk = combine && combine.operands.length === 2
    && ((combine.operands[0] === a && combine.operands[1] === b) || (combine.operands[0] === b && combine.operands[1] === a));
  const r = combine?.results[0];
  if (body.ops.length !== 2 || !operandsOk || ret.operands.length !== 2 || ret.operands[0] !== r || ret.operands[1] !== r) return undefined;
  const out = o.results[0].type;
  if (out.dtype !== x.type.dtype || init.type.dtype !== x.type.dtype) return undefined;
  const identity = scanIdentity(combine.op, out.dtype);
  return identity ? { combine, identity } : undefined;
}

/** A scan as a counted while loop over its dimension (see the file header). */
function expandScanLoop(o: Operation<Op.Scan>, e: Emit): Value[] {
  const { dimension: d, isReverse, numInits } = o.attrs;
  const inputs = o.operands.slice(0, o.operands.length - numInits);
  const inits = o.operands.slice(o.operands.length - numInits);
  const m = o.results.length - numInits;
  const outTypes = o.results.slice(0, m).map((r) => r.type);
  for (const t of outTypes) {
    if (!(SUPPORTED_DTYPES as readonly string[]).includes(t.dtype)) {
      throw new UnsupportedOpError(`${o.op}: an output of type ${t.dtype} is not supported`, o.loc);
    }
  }
  const n = inputs[0].type.shape[d];
  const zeros = (t: TensorType): Value => e.one(Op.Constant, [], { value: { splat: true, data: allocHost(t.dtype as SupportedDType, 1) } }, t);
  if (n === 0) return [...outTypes.map(zeros), ...inits];
  const i32 = tensorType('i32', []);
  const start = e.one(Op.Constant, [], { value: { splat: true, data: new Int32Array([0]) } }, i32);
  const accs = outTypes.map(zeros);
  // Region-local op builder: ops go into `ops`, not before the scan.
  const local = (ops: Operation[]) => <K extends Op>(op: K, operands: Value[], attrs: OpAttrs[K], type: TensorType): Value => {
    const r: Value = { type };
    const x = { op, operands, results: [r], attrs, regions: [] } as unknown as Operation;
    if (o.loc) x.loc = o.loc;
    ops.push(x);
    return r;
  };
  const carriedTypes = [i32, ...outTypes, ...inits.map((v) => v.type)];
  // cond: counter < n.
  const condArgs: Value[] = carriedTypes.map((type) => ({ type }));
  const condOps: Operation[] = [];
  const c = local(condOps);
  const limit = c(Op.Constant, [], { value: { splat: true, data: new Int32Array([n]) } }, i32);
  const less = c(Op.Compare, [condArgs[0], limit], { direction: 'LT', compareType: 'SIGNED' }, tensorType('i1', []));
  condOps.push({ op: Op.Return, operands: [less], results: [], attrs: {}, regions: [] } as unknown as Operation);
  // body: one step of the scan.
  const bodyArgs: Value[] = carriedTypes.map((type) => ({ type }));
  const [counter] = bodyArgs;
  const bodyOps: Operation[] = [];
  const b = local(bodyOps);
  const k32 = (k: number) => b(Op.Constant, [], { value: { splat: true, data: new Int32Array([k]) } }, i32);
  const index = isReverse ? b(Op.Subtract, [k32(n - 1), counter], {}, i32) : counter;
  const zero = k32(0);
  const starts = (rank: number) => Array.from({ length: rank }, (_, j) => (j === d ? index : zero));
  const rows = inputs.map((x) => {
    const shape = x.type.shape;
    const slice = b(Op.DynamicSlice, [x, ...starts(shape.length)], { sliceSizes: shape.map((s, j) => (j === d ? 1 : s)) }, tensorType(x.type.dtype, shape.map((s, j) => (j === d ? 1 : s))));
    return b(Op.Reshape, [slice], {}, tensorType(x.type.dtype, shape.filter((_, j) => j !== d)));
  });
  const region = o.regions[0].block;
  const map = new Map<Value, Value>();
  region.args.forEach((a, j) => map.set(a, j < rows.length ? rows[j] : bodyArgs[1 + m + (j - rows.length)]));
  for (const op of region.ops.slice(0, -1)) bodyOps.push(cloneOp(op, map) as Operation);
  const returned = region.ops[region.ops.length - 1].operands.map((v) => map.get(v) ?? v);
  const nextAccs = outTypes.map((t, r) => {
    const update = b(Op.Reshape, [returned[r]], {}, tensorType(t.dtype, t.shape.map((s, j) => (j === d ? 1 : s))));
    return b(Op.DynamicUpdateSlice, [bodyArgs[1 + r], update, ...starts(t.shape.length)], {}, t);
  });
  const next = b(Op.Add, [counter, k32(1)], {}, i32);
  bodyOps.push({ op: Op.Return, operands: [next, ...nextAccs, ...returned.slice(m)], results: [], attrs: {}, regions: [] } as unknown as Operation);
  const loop = {
    op: Op.While, operands: [start, ...accs, ...inits], results: carriedTypes.map((type) => ({ type })), attrs: {},
    regions: [{ block: { args: condArgs, ops: condOps } }, { block: { args: bodyArgs, ops: bodyOps } }],
  } as unknown as Operation<Op.While>;
  return e.place(loop).slice(1);
}

function expandScan(o: Operation<Op.Scan>, e: Emit): Value[] {
  const simple = simpleScan(o);
  if (!simple) return expandScanLoop(o, e);
  const { combine, identity } = simple;
  const { dimension: d, isReverse } = o.attrs;
  const [x, init] = o.operands;
  const [a] = o.regions[0].block.args;
  const out = o.results[0].type;
  const n = x.type.shape[d];
  if (n === 0) return [x, init];
  const rank = x.type.shape.length;
  const scalar = tensorType(out.dtype, []);
  const [p, q, s] = [{ type: scalar }, { type: scalar }, { type: scalar }];
  const region = { args: [p, q], ops: [
    { op: combine.op, operands: [p, q], results: [s], attrs: {}, regions: [] },
    { op: Op.Return, operands: [s], results: [], attrs: {}, regions: [] },
  ] as Operation[] };
  const ones = x.type.shape.map(() => 1);
  const window: Operation<Op.ReduceWindow> = {
    op: Op.ReduceWindow,
    operands: [x, e.one(Op.Constant, [], { value: { splat: true, data: identity } }, scalar)],
    results: [{ type: out }],
    attrs: {
      windowDimensions: x.type.shape.map((_, i) => (i === d ? n : 1)), windowStrides: ones, baseDilations: ones,
      windowDilations: ones, padding: x.type.shape.map((_, i): [number, number] => (i !== d ? [0, 0] : isReverse ? [0, n - 1] : [n - 1, 0])),
    },
    regions: [{ block: region }],
  };
  const partial = e.place(window)[0];
  const others = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== d);
  const spread = e.one(Op.BroadcastInDim, [init], { dims: others }, out);
  const result = e.one(combine.op, isReverse || combine.operands[0] === a ? [partial, spread] : [spread, partial], {}, out);
  const at = isReverse ? 0 : n - 1;
  const last = e.one(Op.Slice, [result], {
    start: x.type.shape.map((_, i) => (i === d ? at : 0)), limit: x.type.shape.map((m, i) => (i === d ? at + 1 : m)), strides: ones,
  }, tensorType(out.dtype, x.type.shape.map((m, i) => (i === d ? 1 : m))));
  return [result, e.one(Op.Reshape, [last], {}, init.type)];
}

/** `o` with its 64-bit start indices clamped into i32's range and converted (see the header). */
function narrowIndices(o: AnyOperation, ctx: RewriteContext): Value[] | undefined {
  if (!o.operands.some((v, i) => isInt64Index(o.op, i) && isInt64(v.type.dtype))) return undefined;
  const e = new Emit(ctx, o.loc);
  const operands = o.operands.map((v, i) => {
    if (!isInt64Index(o.op, i) || !isInt64(v.type.dtype)) return v;
    const bound = (k: bigint) => e.one(Op.Constant, [], {
      value: { splat: true, data: v.type.dtype === 'i64' ? new BigInt64Array([k]) : new BigUint64Array([k]) },
    }, tensorType(v.type.dtype, v.type.shape));
    const clamped = v.type.dtype === 'i64'
      ? e.one(Op.Clamp, [bound(-(2n ** 31n)), v, bound(2n ** 31n - 1n)], {}, v.type)
      : e.one(Op.Minimum, [v, bound(2n ** 31n - 1n)], {}, v.type);
    return e.one(Op.Convert, [clamped], {}, tensorType('i32', v.type.shape));
  });
  return e.place({ ...o, operands, results: o.results.map((r) => ({ type: r.type })) } as AnyOperation);
}

function expandOp(o: AnyOperation, ctx: RewriteContext, only?: ReadonlySet<Op>): Value[] | undefined {
  const narrowed = narrowIndices(o, ctx);
  if (narrowed) return narrowed;
  if (only && !only.has(o.op)) return undefined;
  if (o.op === Op.BitcastConvert) return isWidthChangingBitcast(o) ? expandWideBitcast(o, new Emit(ctx, o.loc)) : undefined;
  if (!Expanded.has(o.op)) return undefined;
  const e = new Emit(ctx, o.loc);
  switch (o.op) {
    case Op.Scan: return expandScan(o, e);
    case Op.RngBitGenerator: return expandRng(o, e);
    case Op.BatchNormTraining: case Op.BatchNormInference: case Op.BatchNormGrad: return expandBatchNorm(o, e);
    default: throw new Error(`internal: no expansion for ${o.op}`);
  }
}

/**
 * Rewrites every op of the `Expanded` family (and 32 <-> 64-bit bitcasts) into the ops it means
 * (see the file header); with `only`, just the ops in it (the reference interpreter expands the
 * batch-norm ops and runs its own rules for the others).
 */
export function expandOps(m: Module, only?: ReadonlySet<Op>): Module {
  return rewritePass(m, (o, ctx) => expandOp(o, ctx, only));
}
