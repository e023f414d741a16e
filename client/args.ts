/**
 * @file The argument layer of the public client: TypeScript types vanish for JS callers, so every
 * public function binds its arguments here at run time. A {@link Signature} lists a function's
 * parameters in jax.numpy's positional order with one check each; {@link bindArgs} accepts them
 * positionally (`np.sum(x, 1)`), through a trailing options object (`np.sum(x, {axis: 1})`), or
 * both (`np.sum(x, 1, {keepdims: true})`), refuses unknown options, wrong types and too many
 * arguments with a {@link TraceError} naming the function, the parameter and what it accepts, and
 * returns the values in parameter order. {@link defapi} puts a signature in front of `defop`.
 *
 * Array data (`x`, `y`, ...) is normalised here too: Arrays pass, JS numbers stay numbers (weakly
 * typed scalars, see client/numpy/promote.ts), JS booleans and typed arrays become Arrays
 * ({@link fromJs}). JS lists are refused, as jax.numpy refuses Python lists (JAX issue #365: "we've
 * chosen to ban list arguments"): `np.array([...])` makes an Array of one.
 */
import { allocHost, roundF16, type SupportedDType, allocNarrow, type NarrowDType } from '../ir/dtype.js';
import { KArray, noticeFloat64, TYPED_ARRAYS, typedArrayDType } from './array.js';
import { defop } from './jit.js';
import * as lax from './lax.js';
import { apiCall, traceError } from './site.js';
import { currentTrace } from './trace.js';

// ---- dtypes -----------------------------------------------------------------------------------

/** NumPy spellings of kiln's dtypes. */
const DTYPE_NAMES: Record<string, SupportedDType> = {
  float32: 'f32', float16: 'f16', int32: 'i32', uint32: 'ui32', bool: 'i1', bool_: 'i1', complex64: 'c64',
  int8: 'i8', uint8: 'ui8', int16: 'i16', uint16: 'ui16',
  f32: 'f32', f16: 'f16', i32: 'i32', ui32: 'ui32', i1: 'i1', c64: 'c64', i8: 'i8', ui8: 'ui8', i16: 'i16', ui16: 'ui16',
};

/** NumPy and StableHLO names of dtypes that exist but that kiln cannot compute on. */
const UNSUPPORTED_DTYPES = /^(float64|int64|uint64|f64|i64|ui64|bfloat16|bf16|complex128|c128)$/;

/** A dtype given by name (`'float32'`, `'f32'`, `np.float32`) as kiln's dtype, or a trace error. */
export function toDType(d: unknown, what = 'dtype'): SupportedDType {
  if (typeof d === 'string' && Object.hasOwn(DTYPE_NAMES, d)) return DTYPE_NAMES[d];
  const hint = typeof d === 'string' && UNSUPPORTED_DTYPES.test(d)
    ? ' (kiln\'s client computes on 8-, 16- and 32-bit integers, float32, float16, bool and complex64; WebGPU has no 64-bit floats)'
    : '';
  throw traceError(`${what} ${show(d)} is not a dtype kiln knows${hint}; use one of ${Object.keys(DTYPE_NAMES).map((k) => `'${k}'`).join(', ')}`);
}

// ---- checks -----------------------------------------------------------------------------------

/** How one parameter is checked and normalised. `data` parameters carry array values. */
export interface Check<T = unknown> {
  /** Says what the parameter accepts, for messages ("an integer axis"). */
  readonly accepts: string;
  /** Array data (traced: JS numbers among them are weakly typed inputs, not constants). */
  readonly data?: boolean;
  /** Normalises `v` (never undefined) or throws naming `param`. */
  parse(v: unknown, param: string): T;
}

/** A parameter: its name, its check, and its default (`REQUIRED` when it has none). */
export interface Param {
  name: string;
  check: Check;
  default?: unknown;
  /** Only as an option, never positionally (JAX's keyword-only parameters). */
  keywordOnly?: boolean;
}

/** Marks a parameter without a default. */
export const REQUIRED: unique symbol = Symbol('required');

function show(v: unknown): string {
  if (v instanceof KArray) return `an Array (${v.describe()})`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).join(', ')}}`;
  return String(v);
}

function bad(param: string, check: Check, v: unknown): never {
  throw traceError(`${param} must be ${check.accepts}, got ${show(v)}`);
}

/** A plain `{...}` object: an options bag (never an Array, a list or a class instance). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function check<T>(accepts: string, parse: (v: unknown) => T | undefined, data = false): Check<T> {
  const c: Check<T> = {
    accepts,
    data,
    parse(v, param) {
      const r = parse(v);
      if (r === undefined) bad(param, c, v);
      return r;
    },
  };
  return c;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The checks every signature is written with. */
export const A = {
  /** Array data: an Array, a JS number, a JS boolean or a typed array (lists are refused). */
  array: {
    accepts: 'an Array, a number, a boolean or a typed array',
    data: true,
    parse(v: unknown, param: string): KArray | number {
      if (v instanceof KArray || typeof v === 'number') return v;
      if (typeof v === 'boolean' || ArrayBuffer.isView(v)) return fromJs(v as boolean | ArrayBufferView);
      if (Array.isArray(v)) {
        throw traceError(`${param} is a JS list (${show(v).slice(0, 60)}); like jax.numpy, kiln's functions take Arrays, not lists: wrap it in np.array(...)`);
      }
      return bad(param, A.array, v);
    },
  } as Check<KArray | number>,
  /** A list of array data (`np.concatenate([x, y])`). */
  arrays: {
    accepts: 'a list of Arrays',
    data: true,
    parse(v: unknown, param: string): (KArray | number)[] {
      if (!Array.isArray(v) && !(v instanceof KArray)) return bad(param, A.arrays, v);
      // An Array stands for the list of its rows, as in NumPy.
      const list: unknown[] = v instanceof KArray ? [...v] : v;
      return list.map((x, i) => A.array.parse(x, `${param}[${i}]`));
    },
  } as Check<(KArray | number)[]>,
  /** One axis (range-checked against the rank by the op). */
  axis: check<number>('an integer axis', (v) => (isInt(v) ? v : undefined)),
  /** One axis, or null for the flattened array. */
  axisOrNull: check<number | null>('an integer axis or null', (v) => (v === null || isInt(v) ? v : undefined)),
  /** An axis, a list of distinct axes, or null for all. */
  axes: check<number | number[] | null>('an integer axis, a list of axes, or null (all axes)', (v) =>
    v === null || isInt(v) ? v : Array.isArray(v) && v.every(isInt) ? [...v] : undefined),
  /** A boolean. */
  bool: check<boolean>('true or false', (v) => (typeof v === 'boolean' ? v : undefined)),
  /** An integer. */
  int: check<number>('an integer', (v) => (isInt(v) ? v : undefined)),
  /** A non-negative integer. */
  count: check<number>('a non-negative integer', (v) => (isInt(v) && v >= 0 ? v : undefined)),
  /** A finite or infinite JS number (a static value, part of the compiled program). */
  number: check<number>('a number', (v) => (typeof v === 'number' ? v : undefined)),
  /** A dtype name. */
  dtype: {
    accepts: `a dtype (${Object.keys(DTYPE_NAMES).map((k) => `'${k}'`).join(', ')})`,
    parse: (v: unknown, param: string) => toDType(v, param),
  } as Check<SupportedDType>,
  /** A dtype among `allowed` (given by any name). */
  dtypeIn: (...allowed: SupportedDType[]): Check<SupportedDType> => ({
    accepts: `a dtype: ${allowed.join(' or ')}`,
    parse(v: unknown, param: string) {
      const d = toDType(v, param);
      if (!allowed.includes(d)) throw traceError(`${param} must be ${allowed.join(' or ')} here, got ${show(v)}`);
      return d;
    },
  }),
  /** A shape: an integer or a list of integers (non-negative). */
  shape: check<number[]>('a shape (a non-negative integer or a list of them)', (v) =>
    isInt(v) && v >= 0 ? [v] : Array.isArray(v) && v.every((d) => isInt(d) && d >= 0) ? [...v] : undefined),
  /** A list of integers (possibly negative: axes, a permutation, `-1` in a new shape). */
  ints: check<number[]>('an integer or a list of integers', (v) =>
    isInt(v) ? [v] : Array.isArray(v) && v.every(isInt) ? [...v] : undefined),
  /** An integer, or a list of integers (kept apart: `np.split(x, 3)` is not `np.split(x, [3])`). */
  intOrInts: check<number | number[]>('an integer or a list of integers', (v) =>
    isInt(v) ? v : Array.isArray(v) && v.every(isInt) ? [...v] : undefined),
  /** A string. */
  string: check<string>('a string', (v) => (typeof v === 'string' ? v : undefined)),
  /** Anything (the op checks it). */
  any: check<unknown>('anything', (v) => v),
  /** Static options JAX has that kiln does not implement: only null/undefined pass. */
  unsupported: (why: string): Check<null> => check<null>(`null (${why})`, (v) => (v === null ? null : undefined)),
  /** Exactly `value` (a JAX parameter kiln implements for its default only). */
  fixed: <T>(value: T, why: string): Check<T> => check<T>(`${JSON.stringify(value)} (${why})`, (v) => (v === value ? value : undefined)),
  /** One of the strings listed. */
  oneOf: <T extends string>(...choices: T[]): Check<T> =>
    check<T>(`one of ${choices.map((c) => `'${c}'`).join(', ')}`, (v) => (choices.includes(v as T) ? (v as T) : undefined)),
  /** `c`, or null. */
  orNull: <T>(c: Check<T>): Check<T | null> => ({
    accepts: `${c.accepts}, or null`,
    data: c.data,
    parse: (v, param) => (v === null ? null : c.parse(v, param)),
  }),
};

/** `name: check = default`: a parameter for {@link signature}. */
export function p(name: string, check: Check, dflt: unknown = REQUIRED, keywordOnly = false): Param {
  return { name, check, default: dflt, keywordOnly };
}

/** A public function's parameters in jax.numpy's positional order. */
export interface Signature {
  name: string;
  params: Param[];
  /** Positions of the data parameters (their JS numbers are traced as weak scalars). */
  data: number[];
}

/** The signature of public function `name`. */
export function signature(name: string, params: Param[]): Signature {
  return { name, params, data: params.flatMap((q, i) => (q.check.data ? [i] : [])) };
}

/**
 * Binds `args` to `sig`: positional arguments first, then an optional trailing options object.
 * Returns every parameter's value in order (defaults filled in, each checked and normalised).
 */
export function bindArgs(sig: Signature, args: readonly unknown[]): unknown[] {
  const list = [...args];
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
  let opts: Record<string, unknown> | undefined;
  if (list.length > 0 && isPlainObject(list[list.length - 1])) opts = list.pop() as Record<string, unknown>;
  const positional = sig.params.filter((q) => !q.keywordOnly);
  const names = (ps: Param[]) => ps.map((q) => q.name).join(', ');
  if (list.length > positional.length) {
    throw traceError(`takes at most ${positional.length} positional argument${positional.length === 1 ? '' : 's'} (${names(positional)}), got ${list.length}${opts ? ' and an options object' : ''}`);
  }
  const given = new Map<string, unknown>();
  list.forEach((v, i) => { if (v !== undefined) given.set(positional[i].name, v); });
  if (opts) {
    for (const [k, v] of Object.entries(opts)) {
      const q = sig.params.find((x) => x.name === k);
      if (!q) throw traceError(`unknown option '${k}'; the options are ${names(sig.params)}`);
      if (given.has(k)) throw traceError(`${k} is given both positionally and as an option`);
      if (v !== undefined) given.set(k, v);
    }
  }
  return sig.params.map((q) => {
    if (!given.has(q.name)) {
      if (q.default === REQUIRED) throw traceError(`missing argument ${q.name} (${q.check.accepts})`);
      return q.default;
    }
    return q.check.parse(given.get(q.name), q.name);
  });
}

/** The signature of every function {@link defapi} made. */
const SIGNATURES = new WeakMap<object, Signature>();

/**
 * Defines public op `name` with parameters `params` (jax.numpy order) and body `fn`, which gets the
 * bound values in parameter order. Eager calls are traced and cached by `defop`.
 */
export function defapi<F extends (...args: never[]) => unknown>(name: string, params: Param[], fn: F): (...args: unknown[]) => ReturnType<F> {
  const sig = signature(name, params);
  const op = defop(name, fn, sig.data) as unknown as (...a: unknown[]) => ReturnType<F>;
  const takesComplex = COMPLEX_FUNCTIONS.has(name) || name.startsWith('np.fft.') || !/^(np|nn)\./.test(name);
  const wrapped = (...args: unknown[]): ReturnType<F> => apiCall(name, () => {
    const bound = bindArgs(sig, args);
    if (!takesComplex) refuseComplexData(sig, bound);
    return op(...bound);
  });
  Object.defineProperty(wrapped, 'name', { value: name.replace(/^.*\./, '') });
  SIGNATURES.set(wrapped, sig);
  return wrapped;
}

/**
 * The signature `fn` was defined with by {@link defapi} (its parameters, their checks and
 * defaults), or undefined for a function that binds its arguments otherwise. The server's single-op
 * route (server/ops.ts) serves exactly these functions.
 */
export function signatureOf(fn: unknown): Signature | undefined {
  return typeof fn === 'function' ? SIGNATURES.get(fn) : undefined;
}

/**
 * The numpy functions that take complex64 Arrays (each computes JAX's complex result). Every other
 * `np.*` and `nn.*` function refuses them here, by name, so that no real-only code path (a rounding
 * that passes non-floats through, a variance that squares instead of taking |x|^2, a NaN test that
 * only knows floats) can return a wrong answer for a complex input. `np.fft.*` all take them;
 * lax's functions check their operands' dtypes themselves, and the tracer refuses any op that is
 * not defined on complex values (client/trace.ts).
 */
const COMPLEX_FUNCTIONS = new Set([
  // arithmetic and the complex functions JAX lowers to ops defined on complex values
  'np.add', 'np.subtract', 'np.multiply', 'np.divide', 'np.negative', 'np.positive', 'np.power', 'np.square',
  'np.reciprocal', 'np.sqrt', 'np.rsqrt', 'np.exp', 'np.exp2', 'np.log', 'np.log2', 'np.log10', 'np.log1p', 'np.expm1',
  'np.sin', 'np.cos', 'np.tanh', 'np.abs', 'np.sign', 'np.real', 'np.imag', 'np.conjugate', 'np.angle',
  'np.equal', 'np.notEqual', 'np.where', 'np.isnan', 'np.isinf', 'np.isfinite', 'np.astype',
  // sums, products and contractions
  'np.sum', 'np.prod', 'np.mean', 'np.matmul', 'np.dot', 'np.vdot', 'np.inner', 'np.outer', 'np.tensordot',
  // data movement
  'np.reshape', 'np.ravel', 'np.transpose', 'np.permuteDims', 'np.matrixTranspose', 'np.swapaxes', 'np.moveaxis',
  'np.expandDims', 'np.squeeze', 'np.concatenate', 'np.stack', 'np.hstack', 'np.vstack', 'np.dstack', 'np.columnStack',
  'np.split', 'np.arraySplit', 'np.unstack', 'np.broadcastTo', 'np.tile', 'np.repeat', 'np.pad', 'np.flip',
  'np.fliplr', 'np.flipud', 'np.roll', 'np.append', 'np.diagonal', 'np.take', 'np.takeAlongAxis',
  'np.atleast1d', 'np.atleast2d', 'np.atleast3d',
]);

/** Refuses complex64 data given to a function outside {@link COMPLEX_FUNCTIONS}, naming the argument. */
function refuseComplexData(sig: Signature, bound: readonly unknown[]): void {
  for (const i of sig.data) {
    const vs = Array.isArray(bound[i]) ? (bound[i] as unknown[]) : [bound[i]];
    const c = vs.find((v): v is KArray => v instanceof KArray && v.dtype === 'c64');
    if (c) {
      throw traceError(`${sig.params[i].name} is a complex64 Array (${c.describe()}), which ${sig.name} does not take: kiln's complex numbers support arithmetic, exp/log/sqrt/sin/cos/tanh/power, abs, angle, real/imag/conj, == and !=, sums, products, matmul, the FFTs and data movement; orderings (max, sort, <), rounding, remainders and statistics are not defined on complex numbers here`);
    }
  }
}

/**
 * Binds `args` for a public function that is not an op (creation functions, transforms): runs
 * inside `apiCall(name)` so errors name it.
 */
export function bindApi(name: string, params: Param[], args: readonly unknown[]): unknown[] {
  return apiCall(name, () => bindArgs(signature(name, params), args));
}

// ---- JS data to Arrays --------------------------------------------------------------------------

/**
 * An Array from host values (a constant inside a trace, host data outside one). For complex64,
 * `values` are interleaved (re, im) pairs, two per element, or one real value to fill with.
 */
export function hostArray(dtype: SupportedDType, shape: readonly number[], values: ArrayLike<number>): KArray {
  if (dtype === 'c64') return complexHostArray(shape, values);
  if (currentTrace()) {
    const v = dtype === 'i1' ? Array.from(values, (x) => (x ? 1 : 0)) : values;
    return lax.constant(dtype, shape, v.length === 1 && shape.length !== 0 ? v[0] : v);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  // The client makes no 64-bit arrays (toDType refuses those names; i64 exists for JAX's programs).
  const data = allocNarrow(dtype as NarrowDType, n);
  if (values.length === 1 && n !== 1) data.fill(dtype === 'i1' ? (values[0] ? 1 : 0) : values[0]);
  else if (dtype === 'i1') for (let i = 0; i < n; i++) data[i] = values[i] ? 1 : 0;
  else data.set(values as ArrayLike<number>);
  if (dtype === 'f16') for (let i = 0; i < n; i++) data[i] = roundF16(data[i]);
  return KArray.fromHost({ dtype, shape: [...shape], data });
}

function complexHostArray(shape: readonly number[], values: ArrayLike<number>): KArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== 1 && values.length !== 2 * n) {
    throw traceError(`complex64 data are interleaved (re, im) pairs: ${values.length} values cannot fill shape [${shape.join(', ')}] (${n} elements need ${2 * n} values)`);
  }
  if (currentTrace()) return lax.constant('c64', shape, values.length === 1 && n !== 1 ? values[0] : values);
  const data = new Float32Array(2 * n);
  if (values.length === 1) for (let i = 0; i < n; i++) data[2 * i] = values[0];
  else data.set(values);
  return KArray.fromHost({ dtype: 'c64', shape: [...shape], data });
}

/** A JS boolean (an i1 scalar) or a typed array (1-D, of {@link typedArrayDType}) as an Array. */
export function fromJs(v: boolean | ArrayBufferView): KArray {
  if (typeof v === 'boolean') return hostArray('i1', [], [v ? 1 : 0]);
  const dtype = typedArrayDType(v);
  if (!dtype) throw traceError(`a ${v.constructor.name} cannot be an Array (kiln takes ${TYPED_ARRAYS})`);
  if (v instanceof Float64Array) noticeFloat64();
  const values = v as unknown as ArrayLike<number>;
  return hostArray(dtype, [values.length], values);
}

// ---- the public types of the common families (JS callers get the run-time checks above) -----

/** Array data as callers pass it: an Array, a JS number or boolean, or a typed array. */
export type ArrayInput = KArray | number | boolean | ArrayBufferView;
/** `axis`: one axis, a list of axes, or null for all. */
export type Axes = number | readonly number[] | null;
/** A function of one array (np.sin). */
export type Unary = (x: ArrayInput) => KArray;
/** A function of two arrays (np.add). */
export type Binary = (x: ArrayInput, y: ArrayInput) => KArray;
/** Options of the reductions (each also positional, in jax.numpy's order). */
export interface ReduceOptions { axis?: Axes; dtype?: string | null; keepdims?: boolean; ddof?: number }
/** A reduction: `f(a, axis?, ...)` or `f(a, {axis, keepdims, ...})`. */
export type Reduction = (a: ArrayInput, axis?: Axes | ReduceOptions, ...rest: unknown[]) => KArray;

/** `(x)`: one array operand (jax.numpy's unary functions). */
export const X: Param[] = [p('x', A.array)];
/** `(x, y)`: two array operands (jax.numpy's binary functions). */
export const XY: Param[] = [p('x', A.array), p('y', A.array)];
