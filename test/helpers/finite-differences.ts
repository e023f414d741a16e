/**
 * @file Gradients against central differences, shared by the library tests: deterministic spaced
 * inputs, a fixed positive weighting of every output element, and kiln's `grad` compared with
 * (loss(x + h) - loss(x - h)) / 2h per input element.
 */
import { expect } from 'vitest';
import { grad, np, type Array as KArray } from '../../client/index.js';

/** Deterministic values in [lo, hi) (f32), kept away from each other so max/sort ties do not occur. */
export function spacedValues(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed * 2654435761 >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + (s / 2 ** 32) * (hi - lo));
  });
}

/** A function of one flat input of `shape` elements, sampled in [lo, hi) (default ±1.5). */
export interface GradCase { f: (x: KArray) => KArray; shape: number[]; lo?: number; hi?: number }

/** Checks `grad` of Σ w·f(x) against central differences (h = 1e-2) at spaced inputs. */
export async function checkGradCase(name: string, c: GradCase): Promise<void> {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x0 = spacedValues(n, n + name.length, c.lo ?? -1.5, c.hi ?? 1.5);
  // A fixed random weighting makes every output element matter.
  const loss = (x: KArray): KArray => {
    const y = c.f(x);
    const w = np.array(Float32Array.from(spacedValues(y.size, 3, 0.5, 1.5)), { shape: [...y.shape] });
    return np.sum(y.mul(w));
  };
  const g = Array.from(await (grad(loss) as (x: KArray) => KArray)(np.array(Float32Array.from(x0))).data());
  const at = async (x: number[]) => Number(await loss(np.array(Float32Array.from(x))).item());
  const h = 1e-2;
  for (let i = 0; i < n; i++) {
    const up = [...x0], dn = [...x0];
    up[i] += h; dn[i] -= h;
    const fd = ((await at(up)) - (await at(dn))) / (2 * h);
    expect(Math.abs(g[i] - fd), `${name}: d/dx[${i}] grad ${g[i]} vs differences ${fd}`).toBeLessThanOrEqual(1e-2 + 1e-2 * Math.abs(fd));
  }
}
