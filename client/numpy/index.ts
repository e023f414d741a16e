/**
 * @file kiln's NumPy: every function works eagerly on Arrays (compiled once per signature and
 * run on the default device) and inside `jit`/`grad`, where it records ops into the trace. Names
 * follow NumPy in camelCase (`floorDivide`, `takeAlongAxis`); `var` is exported as `var_` and `var`.
 */
import { bindArrayMethods } from '../array.js';
import * as creation from './creation.js';
import * as ew from './elementwise.js';
import * as indexing from './indexing.js';
import { at } from './at.js';
import * as linalg from './linalg.js';
import * as red from './reductions.js';
import * as shape from './shape.js';
import * as math from './math.js';
import * as stacking from './stacking.js';
import * as products from './products.js';
import { conj, conjugate, imag, real } from './complex.js';
import * as stats from './stats.js';

export * from './creation.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './linalg.js';
export * from './reductions.js';
export * from './shape.js';
export * from './math.js';
export * from './stacking.js';
export * from './products.js';
export * from './stats.js';
export * from './series.js';
export * from './info.js';
export * from './einsum.js';
export * as linalg from '../linalg/namespace.js';
/** `np.fft`: jax.numpy.fft's transforms, frequencies and shifts. */
export * as fft from './fft.js';
export { real, imag, conj, conjugate, complex64, iscomplexobj, isrealobj } from './complex.js';
export { at, index, type IndexItem, type IndexMode } from './at.js';
export { resultType, broadcastShapes, type Operand } from './promote.js';
export { var_ as var };

const { var_ } = red;

/** `np.newaxis` (NumPy's None): a new axis of size 1 in `np.slice`, `np.index` and `x.at(...)`. */
export const newaxis = null;

/** Aliases NumPy users reach for. */
export const absolute = ew.abs;
export const pow = ew.power;
export const concat = shape.concatenate;
export const remainder = ew.mod;
export const amax = red.max;
export const amin = red.min;

bindArrayMethods({
  ...ew, ...red, ...shape, ...linalg, ...indexing, ...math, ...stacking, ...products, ...stats,
  astype: creation.astype,
  conj, conjugate, real, imag,
  var: red.var_,
  at,
});
