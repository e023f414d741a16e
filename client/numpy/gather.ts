/**
 * @file Gathering whole slices along one axis (internal: shared by `take`, `takeAlongAxis` and the
 * random module, not part of the public `np` namespace).
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';

/** Negative indices count from the end, as in NumPy. */
export function wrapNegative(idx: KArray, n: number): KArray {
  const zero = lax.constant('i32', idx.shape, 0);
  return lax.select(lax.compare('LT', idx, zero), lax.binary(Op.Add, idx, lax.constant('i32', idx.shape, n)), idx);
}

/** Gathers whole slices of `a` at positions `idx` (i32, any shape) along axis `ax`. */
export function takeImpl(a: KArray, idx: KArray, ax: number): KArray {
  const ni = idx.ndim;
  const starts = lax.reshape(wrapNegative(idx, a.shape[ax]), [...idx.shape, 1]);
  const rank = a.ndim - 1 + ni;
  const offsetDims: number[] = [];
  for (let i = 0; i < rank; i++) if (i < ax || i >= ax + ni) offsetDims.push(i);
  return lax.gather(a, starts, {
    offsetDims,
    collapsedSliceDims: [ax],
    operandBatchingDims: [],
    startIndicesBatchingDims: [],
    startIndexMap: [ax],
    indexVectorDim: ni,
  }, a.shape.map((d, i) => (i === ax ? 1 : d)));
}

