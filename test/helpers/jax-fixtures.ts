/**
 * @file JAX fixture files (test/fixtures/jax/*.json, written by scripts/jax/gen_*.py): reading a
 * case's input trees as kiln Arrays, and comparing kiln's output tree with JAX's leaf by leaf —
 * structure, shape, dtype, and values (f32 and the parts of c64 within 2e-5 + 2e-4·|want|, everything else exactly).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { np, type Array as KArray } from '../../client/index.js';

/** One tensor as the generators write it: NaN as null, ±inf as "inf"/"-inf", i1 as 0/1. */
export interface JTensor { dtype: string; shape: number[]; data: (number | null | string)[] }
export type JTree = JTensor | JTree[] | { [k: string]: JTree };
/** A case: its inputs and JAX's output, or the exception JAX raised. */
export interface FixtureCase { inputs: JTree[]; output?: JTree; error?: string; message?: string }

export function loadFixture(path: string): { jax?: string; cases: Record<string, FixtureCase> } {
  return JSON.parse(readFileSync(path, 'utf8')) as { jax?: string; cases: Record<string, FixtureCase> };
}

export const isTensor = (t: JTree): t is JTensor => !Array.isArray(t) && typeof (t as JTensor).dtype === 'string' && Array.isArray((t as JTensor).shape);
export const num = (v: number | null | string): number => (v === null ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));

/** A fixture tree as kiln Arrays in the same nesting. */
export function toKiln(t: JTree): unknown {
  if (isTensor(t)) {
    const data = t.data.map(num);
    const typed = t.dtype === 'i32' ? Int32Array.from(data) : t.dtype === 'ui32' ? Uint32Array.from(data) : t.dtype === 'i1' ? data.map((v) => v !== 0) : Float32Array.from(data);
    return np.array(typed as never, { dtype: t.dtype as never, shape: t.shape });
  }
  if (Array.isArray(t)) return t.map(toKiln);
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, toKiln(v)]));
}

/** Asserts that kiln's result tree `got` equals JAX's `want`; `path` names the leaf in failures. */
export async function compare(got: unknown, want: JTree, path: string): Promise<void> {
  if (isTensor(want)) {
    expect(got, `${path}: expected an Array`).toHaveProperty('shape');
    const a = got as KArray;
    expect([...a.shape], `${path}: shape`).toEqual(want.shape);
    expect(a.dtype, `${path}: dtype`).toBe(want.dtype);
    const data = Array.from(await a.data());
    want.data.map(num).forEach((w, i) => {
      const g = data[i];
      if (Number.isNaN(w)) expect(Number.isNaN(g), `${path}[${i}]: ${g} should be NaN`).toBe(true);
      // c64 data are interleaved (re, im) f32 parts, each compared as an f32.
      else if (!Number.isFinite(w) || (want.dtype !== 'f32' && want.dtype !== 'c64')) expect(g, `${path}[${i}]`).toBe(w);
      else expect(Math.abs(g - w), `${path}[${i}]: got ${g}, JAX ${w}`).toBeLessThanOrEqual(2e-5 + 2e-4 * Math.abs(w));
    });
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got), `${path}: expected a list of ${want.length}`).toBe(true);
    const g = got as unknown[];
    expect(g.length, `${path}: length`).toBe(want.length);
    for (let i = 0; i < want.length; i++) await compare(g[i], want[i], `${path}[${i}]`);
    return;
  }
  for (const [k, v] of Object.entries(want)) await compare((got as Record<string, unknown>)[k], v, `${path}.${k}`);
}
