/**
 * @file The static roll of one axis, shared by np.roll and np.fft's shifts. Internal: not part of
 * the np namespace (np.rollAxis is jnp.rollaxis, which moves an axis).
 */
import type { KArray } from '../array.js';
import * as lax from '../lax.js';

/** `a` rolled by `shift` along axis `ax` (normalized): JAX's `_roll_static`, a slice of each side and a concatenate. */
export function rollStatic(a: KArray, shift: number, ax: number): KArray {
  const n = a.shape[ax];
  if (n === 0) return a;
  const s = ((shift % n) + n) % n;
  if (s === 0) return a;
  const part = (lo: number, hi: number) => lax.slice(a, a.shape.map((_, i) => (i === ax ? lo : 0)), a.shape.map((d, i) => (i === ax ? hi : d)));
  return lax.concatenate([part(n - s, n), part(0, n - s)], ax);
}
