/**
 * @file `nn.initializers`, as `jax.nn.initializers`: each factory returns `init(key, shape, dtype?)`
 * drawing from client/random with JAX's formula, so with the same key the weights equal JAX's.
 * Variance scaling computes fans as JAX's `_compute_fans` (in_axis -2, out_axis -1, the other axes
 * a receptive field). `orthogonal` takes the Q of a normal matrix's QR, as JAX.
 */
import type { KArray } from '../array.js';
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import * as lax from '../lax.js';
import * as np from '../numpy/index.js';
import { checkShape, normAxis } from '../numpy/promote.js';
import { A, defapi, p } from '../args.js';
import { KEY, normalImpl, uniformImpl } from '../random.js';
import { orthonormalColumns, truncatedNormalImpl } from '../random/distributions.js';
import { traceError } from '../site.js';

/** An initializer: weights of `shape` from `key` (f32; `dtype` may only say so, but zeros/ones/constant take any). */
export type Initializer = (key: KArray, shape: number | readonly number[], dtype?: string) => KArray;

/** An initializer named `name` drawing f32 weights with `draw(key, shape)`, traced as one op. */
function init(name: string, draw: (key: KArray, shape: number[]) => KArray): Initializer {
  return defapi(`nn.initializers.${name}`, [p('key', KEY), p('shape', A.shape), p('dtype', A.dtypeIn('f32'), 'f32')], (key: KArray, shape: number[]) =>
    draw(key, checkShape(shape))) as Initializer;
}
const scaled = (x: KArray, s: number) => lax.binary(Op.Multiply, x, lax.constant('f32', x.shape, s));

/** Options of {@link varianceScaling} beyond scale, mode and distribution. */
export interface FanAxes { inAxis?: number | number[]; outAxis?: number | number[]; batchAxis?: number[] }

/** JAX's `_compute_fans`. */
function fans(shape: number[], axes: FanAxes, name: string): [number, number] {
  if (shape.length < 2) throw traceError(`nn.initializers.${name}: cannot compute fan-in and fan-out of a ${shape.length}-dimensional shape [${shape.join(', ')}]; it must be at least 2-D`);
  const list = (a: number | number[]) => (Array.isArray(a) ? a : [a]).map((i) => normAxis(i, shape.length));
  const size = (a: number[]) => a.reduce((m, i) => m * shape[i], 1);
  const inSize = size(list(axes.inAxis ?? -2)), outSize = size(list(axes.outAxis ?? -1)), batch = size(list(axes.batchAxis ?? []));
  const receptive = shape.reduce((m, d) => m * d, 1) / inSize / outSize / batch;
  return [inSize * receptive, outSize * receptive];
}

/**
 * Weights with variance `scale / fan` (`mode`: 'fanIn', 'fanOut' or 'fanAvg' — JAX's 'fan_in' etc.
 * are accepted too), drawn from `distribution`: 'truncatedNormal' (within ±2 stddev, rescaled by
 * JAX's .87962566103423978), 'normal' or 'uniform'.
 */
export function varianceScaling(scale: number, mode: string, distribution: string, axes: FanAxes = {}): Initializer {
  const m = mode.replace('_', '').toLowerCase();
  const d = distribution.replace('_', '').toLowerCase();
  if (!['fanin', 'fanout', 'fanavg'].includes(m)) throw traceError(`nn.initializers.varianceScaling: mode must be 'fanIn', 'fanOut' or 'fanAvg', got '${mode}'`);
  if (!['truncatednormal', 'normal', 'uniform'].includes(d)) throw traceError(`nn.initializers.varianceScaling: distribution must be 'truncatedNormal', 'normal' or 'uniform', got '${distribution}'`);
  return init('varianceScaling', (key, shape) => {
    const [fanIn, fanOut] = fans(shape, axes, 'varianceScaling');
    const denominator = m === 'fanin' ? fanIn : m === 'fanout' ? fanOut : (fanIn + fanOut) / 2;
    const variance = Math.fround(scale / denominator);
    if (d === 'truncatednormal') return scaled(truncatedNormalImpl(key, -2, 2, shape), Math.sqrt(variance) / 0.87962566103423978);
    if (d === 'normal') return scaled(normalImpl(key, shape), Math.sqrt(variance));
    return scaled(uniformImpl(key, shape, -1, 1), Math.sqrt(3 * variance));
  });
}

/** Glorot (Xavier) normal: variance 1 / fanAvg, truncated normal. */
export const glorotNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, 'fanAvg', 'truncatedNormal', axes);
/** Glorot (Xavier) uniform: variance 1 / fanAvg, uniform. */
export const glorotUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, 'fanAvg', 'uniform', axes);
/** He (Kaiming) normal: variance 2 / fanIn, truncated normal. */
export const heNormal = (axes: FanAxes = {}): Initializer => varianceScaling(2, 'fanIn', 'truncatedNormal', axes);
/** He (Kaiming) uniform: variance 2 / fanIn, uniform. */
export const heUniform = (axes: FanAxes = {}): Initializer => varianceScaling(2, 'fanIn', 'uniform', axes);
/** LeCun normal: variance 1 / fanIn, truncated normal. */
export const lecunNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, 'fanIn', 'truncatedNormal', axes);
/** LeCun uniform: variance 1 / fanIn, uniform. */
export const lecunUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, 'fanIn', 'uniform', axes);
/** The same as {@link glorotNormal}. */
export const xavierNormal = glorotNormal;
/** The same as {@link glorotUniform}. */
export const xavierUniform = glorotUniform;
/** The same as {@link heNormal}. */
export const kaimingNormal = heNormal;
/** The same as {@link heUniform}. */
export const kaimingUniform = heUniform;

/** Normal weights of standard deviation `stddev` (default 0.01). */
export const normal = (stddev = 1e-2): Initializer => init('normal', (key, shape) => scaled(normalImpl(key, shape), stddev));
/** Uniform weights in [0, scale) (default scale 0.01). */
export const uniform = (scale = 1e-2): Initializer => init('uniform', (key, shape) => scaled(uniformImpl(key, shape, 0, 1), scale));
/** Normal weights truncated to [lower, upper] (default ±2) times `stddev` (default 0.01). */
export const truncatedNormal = (stddev = 1e-2, lower = -2, upper = 2): Initializer =>
  init('truncatedNormal', (key, shape) => scaled(truncatedNormalImpl(key, lower, upper, shape), stddev));

function filled(v: number): Initializer {
  return (_key, shape, dtype) => np.full(typeof shape === 'number' ? [shape] : shape, v, (dtype ?? 'float32') as SupportedDType);
}
/** All zeros (the key is ignored). */
export const zeros: Initializer = filled(0);
/** All ones (the key is ignored). */
export const ones: Initializer = filled(1);
/** All `value` (the key is ignored). */
export const constant = (value: number): Initializer => filled(value);

/**
 * Orthogonal weights, as JAX's: a normal [rows, cols] matrix (rows: the product of the other axes;
 * the longer side first), the Q of its QR with R's diagonal signs divided out (transposed back if
 * rows < cols), reshaped with the columns on `columnAxis`, times `scale`. The QR is
 * client/random/distributions.ts's Gram-Schmidt (the shorter side at most 32 until kiln has linalg.qr).
 */
export function orthogonal(scale = 1, columnAxis = -1): Initializer {
  return init('orthogonal', (key, shape) => {
    if (shape.length < 2) throw traceError(`orthogonal initializer requires at least a 2D shape, got [${shape.join(', ')}]`);
    const axis = normAxis(columnAxis, shape.length);
    const nCols = shape[axis], nRows = shape.reduce((a, b) => a * b, 1) / nCols;
    if (Math.min(nRows, nCols) > 32) throw traceError(`orthogonal of a ${nRows} x ${nCols} matrix: the shorter side is limited to 32 (an unrolled Gram-Schmidt) until kiln has linalg.qr`);
    let q = orthonormalColumns(normalImpl(key, nRows < nCols ? [nCols, nRows] : [nRows, nCols]));
    if (nRows < nCols) q = lax.transpose(q, [1, 0]);
    const rest = shape.filter((_, i) => i !== axis);
    const moved = lax.reshape(q, [...rest, nCols]);
    // moveaxis(-1, axis): the columns go back to their axis.
    const perm = [...rest.keys()];
    perm.splice(axis, 0, rest.length);
    return scaled(lax.transpose(moved, perm), scale);
  });
}
