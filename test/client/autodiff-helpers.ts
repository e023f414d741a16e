/**
 * @file Shared helpers for the autodiff and vmap tests: a seeded generator of well-conditioned
 * inputs, modules built from a small function over the {@link Emitter}, running them on the
 * reference interpreter, and central finite differences of a scalar loss.
 */
import type { NarrowArray } from '../../ir/dtype.js';
import type { SupportedDType } from '../../ir/dtype.js';
import { Op } from '../../ir/ops.js';
import { numElements, type Module, type TensorType, type Value } from '../../ir/types.js';
import { GraphBuilder } from '../../client/builder.js';
import { Emitter } from '../../client/autodiff/emit.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor, narrowData } from '../../runtime/tensor.js';
import { rng } from '../helpers/rng.js';

export { rng };

/** How an input's values are drawn. */
export type Gen =
  | { kind: 'uniform'; lo: number; hi: number }
  /** `±[lo, hi]`: away from zero, for kinks at 0 (abs, sign, division). */
  | { kind: 'away'; lo: number; hi: number }
  /** Fixed values (indices, predicates). */
  | { kind: 'values'; values: number[] }
  /** `k + [0.1, 0.4]` for integer k: away from rounding jumps. */
  | { kind: 'offint' };

export interface InputSpec {
  dtype: SupportedDType;
  shape: number[];
  gen?: Gen;
}

export function makeInput(spec: InputSpec, next: () => number): HostTensor {
  const n = numElements(spec.shape);
  const gen = spec.gen ?? { kind: 'uniform', lo: -1, hi: 1 };
  const vals = Array.from({ length: n }, (_, i) => {
    switch (gen.kind) {
      case 'uniform': return gen.lo + (gen.hi - gen.lo) * next();
      case 'away': return (next() < 0.5 ? -1 : 1) * (gen.lo + (gen.hi - gen.lo) * next());
      case 'values': return gen.values[i % gen.values.length];
      case 'offint': return Math.floor(next() * 6) - 3 + 0.1 + 0.3 * next();
      default: return gen satisfies never;
    }
  });
  return hostTensor(spec.dtype, spec.shape, vals);
}

/** A module whose `main` takes arguments of `types` and returns what `body` emits. */
export function buildModule(types: readonly TensorType[], body: (e: Emitter, args: Value[]) => Value[]): Module {
  const b = new GraphBuilder();
  const args = types.map((type) => ({ type }));
  const outs = body(new Emitter(b), args);
  return b.finish(args, outs);
}

/**
 * A scalar loss `sum(f(args) * w)` for a fixed, non-uniform weight `w`, so every element of the
 * result's cotangent differs and a transposed or permuted gradient cannot pass by symmetry.
 */
export function weightedLoss(types: readonly TensorType[], f: (e: Emitter, args: Value[]) => Value, seed = 7): Module {
  return buildModule(types, (e, args) => {
    const y = f(e, args);
    const next = rng(seed);
    const n = numElements(y.type.shape);
    const w = e.b.constant(y.type.dtype as SupportedDType, y.type.shape, Array.from({ length: n }, () => 0.5 + next()));
    return [e.total(e.mul(y, w))];
  });
}

/**
 * Runs `m` on the reference interpreter, after checking that it verifies and that its printed
 * text parses back to a module that verifies (what a transformed graph must do to reach a device).
 */
export function run(m: Module, inputs: readonly HostTensor[]): (HostTensor & { data: NarrowArray })[] {
  if (!checked.has(m)) {
    verifyModule(m);
    verifyModule(parseModule(printModule(m), 'transformed.mlir'));
    checked.add(m);
  }
  // Differentiated programs hold no 64-bit values: their outputs are numbers.
  return interpret(m, inputs).map((t) => ({ ...t, data: narrowData(t) }));
}
const checked = new WeakSet<Module>();

/** Central differences of the scalar first output of `m` w.r.t. every element of input `k`. */
export function finiteDifferences(m: Module, inputs: readonly HostTensor[], k: number, h: number): Float64Array {
  const x = inputs[k];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const at = (delta: number): number => {
      const data = x.data.slice();
      data[i] = narrowData(x)[i] + delta;
      const args = inputs.map((t, j) => (j === k ? { ...t, data } : t));
      return narrowData(run(m, args)[0])[0];
    };
    // Evaluate at the f32 points actually used, so the step is exact.
    const hp = Math.fround(narrowData(x)[i] + h) - narrowData(x)[i];
    const hm = narrowData(x)[i] - Math.fround(narrowData(x)[i] - h);
    out[i] = (at(hp) - at(-hm)) / (hp + hm);
  }
  return out;
}

/** The largest violation of |got - want| <= atol + rtol |want|, as a message, or '' if none. */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): string {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  let worst = '';
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= worstExcess)) {
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      worst = `at ${i}: got ${got[i]}, want ${want[i]}`;
    }
  }
  return worst;
}

export const none = {} as Record<string, never>;
export { Op };
