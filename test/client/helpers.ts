/**
 * @file Shared helpers of the client tests: the devices under test (reference always; webgpu when
 * Dawn finds an adapter, and required when CI=true), host tensors with float64 expected values,
 * broadcasting and per-axis reductions computed independently of kiln, and tolerant comparison.
 */
import { expect } from 'vitest';
import type { Device } from '../../runtime/device.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { Array as KArray } from '../../client/index.js';
import { noAdapter } from '../helpers/devices.js';

/** A host tensor for expectations: row-major float64 (or integer) values. */
export interface H {
  shape: number[];
  data: number[];
  dtype?: 'f32' | 'i32' | 'ui32' | 'i1' | 'f16' | 'i8' | 'ui8' | 'i16' | 'ui16';
}

export function h(shape: number[], data: number[], dtype: H['dtype'] = 'f32'): H {
  return { shape, data, dtype };
}

/** Deterministic values in [lo, hi), rounded to f32 (or integers for int dtypes). */
export function rand(shape: number[], seed = 1, lo = -2, hi = 2, dtype: H['dtype'] = 'f32'): H {
  let s = seed * 2654435761 >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = lo + (s / 2 ** 32) * (hi - lo);
    return dtype === 'f32' ? Math.fround(u) : Math.floor(u);
  });
  return { shape, data, dtype };
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]; i = Math.floor(i / shape[d]); }
  return idx;
}

export function broadcastShape(...shapes: number[][]): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: r }, (_, i) => Math.max(...shapes.map((s) => s[s.length - r + i] ?? 1)));
}

/** The element of `a` that broadcasting puts at index `idx` of a result of rank `rank`. */
export function at(a: H, idx: number[]): number {
  const off = idx.length - a.shape.length;
  let flat = 0;
  const st = strides(a.shape);
  a.shape.forEach((d, i) => { flat += (d === 1 ? 0 : idx[off + i]) * st[i]; });
  return a.data[flat];
}

/** Elementwise map over broadcast operands. */
export function zipN(xs: H[], f: (...v: number[]) => number, dtype: H['dtype'] = 'f32'): H {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => {
    const idx = unravel(i, shape);
    return f(...xs.map((x) => at(x, idx)));
  });
  return { shape, data, dtype };
}

export function map(a: H, f: (v: number) => number, dtype: H['dtype'] = a.dtype): H {
  return { shape: a.shape, data: a.data.map(f), dtype };
}

/** Reduces axis `axis` of `a` with `f` over the list of values along it. */
export function reduceAxis(a: H, axis: number, f: (vals: number[]) => number, keepdims = false, dtype: H['dtype'] = a.dtype): H {
  const outShape = a.shape.map((d, i) => (i === axis ? 1 : d));
  const n = outShape.reduce((p, d) => p * d, 1);
  const st = strides(a.shape);
  const data = Array.from({ length: n }, (_, i) => {
    const idx = unravel(i, outShape);
    const vals: number[] = [];
    for (let k = 0; k < a.shape[axis]; k++) {
      let flat = 0;
      idx.forEach((v, d) => { flat += (d === axis ? k : v) * st[d]; });
      vals.push(a.data[flat]);
    }
    return f(vals);
  });
  return { shape: keepdims ? outShape : a.shape.filter((_, i) => i !== axis), data, dtype };
}

/** Transposes `a` by `perm`. */
export function permute(a: H, perm: number[]): H {
  const shape = perm.map((p) => a.shape[p]);
  const st = strides(a.shape);
  const n = a.data.length;
  const data = Array.from({ length: n }, (_, i) => {
    const idx = unravel(i, shape);
    let flat = 0;
    idx.forEach((v, d) => { flat += v * st[perm[d]]; });
    return a.data[flat];
  });
  return { shape, data, dtype: a.dtype };
}

export function toArray(x: H, np: { array: (d: number[], o: object) => KArray }): KArray {
  return np.array(x.data, { shape: x.shape, dtype: x.dtype ?? 'f32' });
}

/** Compares an Array with expected values: shape, dtype class, and values within tolerance. */
export async function expectClose(got: KArray, want: H, rtol = 1e-5, atol = 1e-6): Promise<void> {
  expect([...got.shape]).toEqual(want.shape);
  if (want.dtype) expect(got.dtype).toBe(want.dtype);
  const data = Array.from(await got.data());
  expect(data.length).toBe(want.data.length);
  data.forEach((g, i) => {
    const w = want.data[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) expect.fail(`element ${i}: got ${g}, want NaN`);
    } else if (!Number.isFinite(w)) {
      if (g !== w) expect.fail(`element ${i}: got ${g}, want ${w}`);
    } else if (Math.abs(g - w) > atol + rtol * Math.abs(w)) {
      expect.fail(`element ${i} of [${want.shape}]: got ${g}, want ${w} (|diff| ${Math.abs(g - w)})`);
    }
  });
}

/**
 * The devices to run on: the reference interpreter and webgpu. A missing adapter (or WebGPU
 * runtime) fails the tests, never drops the GPU half silently.
 */
export async function devicesUnderTest(): Promise<[string, Device][]> {
  const { openDevice } = await import('../../runtime/open.js');
  const gpu = await openDevice('webgpu').catch((e: unknown) => { throw noAdapter(e); });
  return [['reference', new ReferenceDevice()], ['webgpu', gpu]];
}
