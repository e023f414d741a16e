/**
 * @file The data-dependent index forms (`np.nonzero`, `np.argwhere`, one-argument `np.where`) with
 * a static `size`: one internal helper and the refusal text, kept out of the public `np` namespace.
 */
import { Op } from '../../ir/ops.js';
import type { KArray } from '../array.js';
import * as lax from '../lax.js';
import { traceError } from '../site.js';
import { reduceOp } from './reduce-core.js';

/** The refusal of the data-dependent forms (`np.nonzero(x)`, `np.where(cond)`) without a size. */
export const NEEDS_SIZE = 'gives the indices where the condition is true; their number depends on the values, which kiln cannot read while building the program (JAX requires size= for it inside jit, and so does kiln everywhere): pass {size: n} (and {fillValue} for the padding, 0 by default), or use np.where(condition, x, y)';

/**
 * The indices of the first `size` non-zero elements of `x` in row-major order, one i32 Array of
 * shape [size] per axis of `x` (JAX's `nonzero(x, size=..., fill_value=...)`); positions past
 * the number of non-zero elements hold `fill`.
 */
export function nonzeroImpl(x: KArray, size: number, fill: number): KArray[] {
  if (x.ndim === 0) throw traceError('calling nonzero on 0d arrays is not allowed; use np.atleast1d or reshape first');
  const n = x.size;
  const flat = lax.reshape(lax.convert(x, 'i1'), [n]);
  // A stable sort on "is zero" puts the non-zero positions first, in their order.
  const order = lax.sort([lax.convert(lax.unary(Op.Not, flat), 'i32'), lax.iota('i32', [n], 0)], 0, true)[1];
  const first = size <= n ? lax.slice(order, [0], [size]) : lax.pad(order, lax.constant('i32', [], 0), [0], [size - n]);
  const count = reduceOp(lax.convert(flat, 'i32'), Op.Add, [0]);
  const valid = lax.compare('LT', lax.iota('i32', [size], 0), lax.broadcastInDim(count, [size], []));
  let stride = n;
  return x.shape.map((d) => {
    stride /= d;
    const k = lax.binary(Op.Remainder, lax.binary(Op.Divide, first, lax.constant('i32', [size], stride)), lax.constant('i32', [size], d));
    return lax.select(valid, k, lax.constant('i32', [size], fill));
  });
}
