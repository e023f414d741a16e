/**
 * @file Dense literals for the passes: reading elements, building canonical literals (a literal
 * whose elements are all the same bits becomes a splat, so equal constants look equal to CSE),
 * a content key for hashing, and the index maps of the data-movement ops folding needs.
 */
import { type HostArray, type NarrowArray, type NarrowDType, allocNarrow, isInt64, isSmallInt, isSupportedDType, lanes } from '../../ir/dtype.js';
import type { DenseLiteral } from '../../ir/ops.js';
import { type TensorType, numElements } from '../../ir/types.js';

/** Non-splat constants larger than this many elements are not created by folding. */
export const FOLD_LIMIT = 4096;

/** A constant operand as folding sees it: its literal and its type. */
export interface ConstValue {
  type: TensorType;
  lit: DenseLiteral;
}

/**
 * The dtype of `t` if folding computes on it: a supported type held as numbers. Folding leaves
 * every other type alone (i64/ui64 constants are bigints, c64 ones pairs; they run as written).
 */
export function supported(t: TensorType): NarrowDType | undefined {
  return isSupportedDType(t.dtype) && !isInt64(t.dtype) && t.dtype !== 'c64' && !isSmallInt(t.dtype) ? t.dtype : undefined;
}

/** Element `i` (row-major) of a constant of a {@link supported} type; splats and one-element literals broadcast. */
export function elementAt(c: ConstValue, i: number): number {
  const data = c.lit.data as NarrowArray;
  return c.lit.splat || data.length === 1 ? data[0] : data[i];
}

/** The raw bits of a host array, so that -0 differs from 0 and NaN payloads are kept apart. */
function bitsOf(data: HostArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function sameBits(data: HostArray, i: number, j: number): boolean {
  const w = data.BYTES_PER_ELEMENT;
  const b = bitsOf(data);
  for (let k = 0; k < w; k++) if (b[i * w + k] !== b[j * w + k]) return false;
  return true;
}

/** Whether every element of `lit` has the same bits. */
export function isUniform(lit: DenseLiteral): boolean {
  if (lit.splat) return true;
  for (let i = 1; i < lit.data.length; i++) if (!sameBits(lit.data, 0, i)) return false;
  return true;
}

/** A literal holding `values` (converted to `d`'s host storage), a splat when they are uniform. */
export function makeLiteral(d: NarrowDType, values: NarrowArray | number[]): DenseLiteral {
  const data = allocNarrow(d, values.length);
  data.set(values);
  const lit: DenseLiteral = { splat: false, data };
  if (data.length >= 1 && isUniform(lit)) return { splat: true, data: data.slice(0, 1) };
  return lit;
}

/** A splat literal of one value. */
export function splatLiteral(d: NarrowDType, value: number): DenseLiteral {
  const data = allocNarrow(d, 1);
  data[0] = value;
  return { splat: true, data };
}

/** A string that is equal for two constants exactly when they have the same type and bits. */
export function literalKey(t: TensorType, lit: DenseLiteral): string {
  // A one-element literal means the same whether or not it is marked as a splat.
  const uniform = lit.splat || lit.data.length === 1;
  const bytes = bitsOf(uniform ? lit.data.subarray(0, 1) : lit.data);
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, '0');
  return `${t.dtype}[${t.shape.join(',')}]${uniform ? 'splat' : 'dense'}:${hex}`;
}

/**
 * Whether every element of `c` equals `x` (by value: 0 and -0 are equal here, NaN never); a
 * complex element equals `x` when it is (x, 0).
 */
export function allEqual(c: ConstValue, x: number): boolean {
  const k = lanes(c.type.dtype);
  const n = c.lit.splat ? k : c.lit.data.length;
  for (let i = 0; i < n; i++) {
    const v = c.lit.data[i];
    const want = i % k === 0 ? x : 0;
    if (typeof v === 'bigint' ? v !== BigInt(want) : v !== want) return false;
  }
  return true;
}

/** Whether every element (every part of a complex one) of a float constant is -0.0, the exact additive identity. */
export function allNegativeZero(c: ConstValue): boolean {
  const n = c.lit.splat ? lanes(c.type.dtype) : c.lit.data.length;
  for (let i = 0; i < n; i++) if (!Object.is(c.lit.data[i], -0)) return false;
  return true;
}

/**
 * Builds the elements of a result of shape `shape` by asking `source` for each multi-index;
 * `source` returns which of `from` holds that element and its flat index there.
 */
export function gatherElements(
  d: NarrowDType, shape: readonly number[], from: ConstValue[], source: (idx: number[]) => [number, number],
): DenseLiteral {
  const n = numElements(shape);
  const out = allocNarrow(d, n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    const [k, flat] = source(idx);
    out[i] = elementAt(from[k], flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return makeLiteral(d, out);
}

/** The flat row-major offset of a multi-index, given the row-major strides of its shape. */
export function flatIndex(strides: readonly number[], idx: readonly number[]): number {
  let f = 0;
  for (let a = 0; a < idx.length; a++) f += idx[a] * strides[a];
  return f;
}
