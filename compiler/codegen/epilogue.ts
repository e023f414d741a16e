/**
 * @file What both matmul kernels (`matmul.ts`, `matmul-sgmm.ts`) do with one finished result
 * element: store it when something reads the result from memory, then compute each fused
 * epilogue value from it and store that at the value's own place, which is the result's element
 * or, for an epilogue laid out as a permutation of the result (`Epilogue.at`: JAX's
 * `transpose(dot_general(..))`), the permuted element.
 */
import type { Value } from '../../ir/types.js';
import type { Epilogue } from '../fusion.js';
import { dtypeOf, type ExprEmitter, type Idx } from './expr.js';
import type { GroupEnv } from './group.js';

/**
 * Emits the stores of one matmul result element: `value` (a register) at `coords` (the result's
 * i32 coordinates) and flat index `flat`, and every epilogue computed from it. Each epilogue
 * value stays in a register for the epilogues after it, which fusion lets read it only at their
 * own element.
 */
export function emitDotElement(
  em: ExprEmitter,
  env: GroupEnv,
  out: Value,
  epilogues: readonly Epilogue[],
  write: boolean,
  value: string,
  coords: string[],
  flat: string,
): void {
  const od = dtypeOf(out);
  em.regs.set(out, value);
  if (write) em.store(od, em.k.storage(env.buffer(out), od, 'read_write'), flat, value);
  const own: Idx = { shape: out.type.shape, coords, flat };
  for (const e of epilogues) {
    const d = dtypeOf(e.value);
    const idx: Idx = e.at ? { shape: e.value.type.shape, coords: e.at.map((k) => (k === null ? '0i' : coords[k])) } : own;
    const val = em.computeTop(e.value, idx);
    em.store(d, em.k.storage(env.buffer(e.value), d, 'read_write'), em.flat(idx), val);
    em.regs.set(e.value, val);
  }
  em.regs.delete(out);
  for (const e of epilogues) em.regs.delete(e.value);
}
