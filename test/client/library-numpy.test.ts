/**
 * @file kiln's numpy namespace against JAX: every `np.*` case of test/fixtures/jax/library.json
 * (written by scripts/jax/gen_library.py with JAX 0.11.2 on CPU; `np.at.*` and `np.index:*` belong
 * to the indexing tests) is the same call written with kiln's API, run eagerly and under `jit` on
 * the reference device and on WebGPU, and compared leaf by leaf (shape, dtype, values within
 * 2e-5 + 2e-4·|want| for f32, exactly otherwise). Cases kiln refuses are listed in REFUSED with the
 * reason, and must throw a KilnError naming this file's line. Gradients of the new differentiable
 * functions are checked against central differences in float64 JS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, KilnError, lower, nn, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';
import { checkGradCase, spacedValues, type GradCase } from '../helpers/finite-differences.js';

const fixture = loadFixture('test/fixtures/jax/library.json');

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One kiln function per fixture case, written as scripts/jax/gen_library.py writes the JAX call. */
const cases: Record<string, Fn> = {
  'np.cbrt': np.cbrt, 'np.arcsinh': np.arcsinh, 'np.arccosh': np.arccosh, 'np.arctanh': np.arctanh,
  'np.deg2rad': np.deg2rad, 'np.rad2deg': np.rad2deg, 'np.sinc': np.sinc, 'np.rint': np.rint,
  'np.signbit': np.signbit, 'np.positive': np.positive, 'np.exp2': np.exp2, 'np.log2': np.log2, 'np.log10': np.log10,
  'np.square': np.square, 'np.reciprocal': np.reciprocal, 'np.nanToNum': np.nanToNum, 'np.isneginf': np.isneginf,
  'np.isposinf': np.isposinf, 'np.invert': np.invert, 'np.bitwiseCount': np.bitwiseCount, 'np.around': (v) => np.around(v, 1),
  'np.i0': np.i0, 'np.angle': np.angle, 'np.frexp': np.frexp, 'np.modf': np.modf,
  'np.hypot': np.hypot, 'np.logaddexp': np.logaddexp, 'np.logaddexp2': np.logaddexp2, 'np.copysign': np.copysign,
  'np.fmax': np.fmax, 'np.fmin': np.fmin, 'np.fmod': np.fmod, 'np.heaviside': np.heaviside,
  'np.leftShift': np.leftShift, 'np.rightShift': np.rightShift, 'np.floatPower': np.floatPower, 'np.trueDivide': np.trueDivide,
  'np.divmod': np.divmod, 'np.ldexp': np.ldexp, 'np.nextafter': np.nextafter, 'np.gcd': np.gcd, 'np.lcm': np.lcm,
  'np.floorDivide:int': np.floorDivide, 'np.remainder:int': np.remainder, 'np.arctan2': np.arctan2,
  'np.vstack': (a, b) => np.vstack([a, b]), 'np.hstack': (a, b) => np.hstack([a, b]), 'np.dstack': (a, b) => np.dstack([a, b]),
  'np.columnStack': (a, b) => np.columnStack([a, b]),
  'np.meshgrid': (a, b) => np.meshgrid(a, b), 'np.meshgrid:ij': (a, b) => np.meshgrid(a, b, { indexing: 'ij' }),
  'np.roll': (a) => np.roll(a, 2), 'np.roll:axis': (a) => np.roll(a, -1, { axis: 1 }),
  'np.diff': (a) => np.diff(a), 'np.diff:n2axis0': (a) => np.diff(a, { n: 2, axis: 0 }), 'np.ediff1d': (a) => np.ediff1d(a),
  'np.select': (a) => np.select([a.lt(-1), a.gt(1)], [a.mul(10), a.mul(100)], -1.0),
  'np.isin': np.isin,
  'np.tensordot': (a, b) => np.tensordot(a, b, { axes: 1 }), 'np.tensordot:axes': (a, b) => np.tensordot(a, b, { axes: [[1, 2], [0, 1]] }),
  'np.allclose': (a, b) => np.allclose(a, b, { atol: 1e-3 }), 'np.arrayEqual': np.arrayEqual,
  'np.countNonzero': (a) => np.countNonzero(a), 'np.countNonzero:axis': (a) => np.countNonzero(a, { axis: 1 }),
  'np.average': (a) => np.average(a), 'np.average:weights': (a, w) => np.average(a, { axis: 1, weights: w }),
  'np.arraySplit': (a) => np.arraySplit(a, 3, 1), 'np.split': (a) => np.split(a, 2, 1),
  'np.hsplit': (a) => np.hsplit(a, 2), 'np.vsplit': (a) => np.vsplit(a, 2), 'np.unstack': (a) => np.unstack(a),
  'np.diagonal': (a) => np.diagonal(a), 'np.diagonal:offset': (c) => np.diagonal(c, { offset: 1, axis1: 1, axis2: 2 }),
  'np.diagflat': (a) => np.diagflat(a), 'np.tri': () => np.tri(3, 4, 1), 'np.tril': (a) => np.tril(a, -1), 'np.triu': (a) => np.triu(a, 1),
  'np.cov': (a) => np.cov(a), 'np.corrcoef': (a) => np.corrcoef(a),
  'np.convolve': (a, b) => np.convolve(a, b), 'np.convolve:same': (a, b) => np.convolve(a, b, { mode: 'same' }),
  'np.correlate': (a, b) => np.correlate(a, b, { mode: 'full' }),
  'np.polyval': np.polyval, 'np.polyadd': np.polyadd, 'np.polymul': np.polymul, 'np.polyder': (p) => np.polyder(p),
  'np.vander': (x) => np.vander(x, 3), 'np.trapezoid': (y) => np.trapezoid(y), 'np.cross': np.cross, 'np.outer': np.outer,
  'np.vdot': np.vdot, 'np.vecdot': np.vecdot, 'np.matvec': np.matvec, 'np.vecmat': (a, b) => np.vecmat(b, a),
  'np.matrixTranspose': np.matrixTranspose, 'np.permuteDims': (a) => np.permuteDims(a, [2, 0, 1]),
  'np.rot90': (a) => np.rot90(a), 'np.fliplr': np.fliplr, 'np.flipud': np.flipud, 'np.append': (a, b) => np.append(a, b, { axis: 0 }),
  'np.ptp': (a) => np.ptp(a, { axis: 1 }), 'np.broadcastArrays': (a, b) => np.broadcastArrays(a, b), 'np.atleast2d': (a) => np.atleast2d(a),
  'np.indices': () => np.indices([2, 3]), 'np.diagIndices': () => np.diagIndices(3),
  'np.takeAlongAxis': (a, i) => np.takeAlongAxis(a, i, 1),
  'np.cumulativeSum': (a) => np.cumulativeSum(a, { axis: 1, includeInitial: true }), 'np.unwrap': (a) => np.unwrap(a.mul(4)),
  'np.geomspace': () => np.geomspace(1.0, 1000.0, 4), 'np.logspace': () => np.logspace(0.0, 2.0, 5),
  'np.linspace:endpoint': () => np.linspace(0.0, 1.0, 4, { endpoint: false }),
  'np.hanning': () => np.hanning(5), 'np.hamming': () => np.hamming(5), 'np.blackman': () => np.blackman(5), 'np.bartlett': () => np.bartlett(5),
  'np.searchsorted': np.searchsorted, 'np.searchsorted:right': (a, v) => np.searchsorted(a, v, { side: 'right' }),
  'np.bincount': (x) => np.bincount(x, { length: 5 }), 'np.histogram': (x) => np.histogram(x, { bins: 4, range: [-2.0, 2.0] }),
  'np.lexsort': (a, b) => np.lexsort([a, b]),
  'np.argwhere:size': (a) => np.argwhere(a.gt(0), { size: 6, fillValue: -1 }), 'np.nonzero:size': (a) => np.nonzero(a.gt(0), { size: 6 }),
  'np.unique:size': (a) => np.unique(a, { size: 6, fillValue: -1 }),
  'np.clip:int': (a) => np.clip(a, -2, 3), 'np.where:bcast': (c, a) => np.where(c, a, 0.0),
  'np.nansum': np.nansum, 'np.nanmean': np.nanmean, 'np.nanmax': np.nanmax, 'np.nanmin': np.nanmin, 'np.nanprod': np.nanprod,
  'np.nanstd': np.nanstd, 'np.nanvar': np.nanvar, 'np.nanargmax': np.nanargmax, 'np.nanargmin': np.nanargmin,
  'np.nancumsum': np.nancumsum, 'np.nancumprod': np.nancumprod,
  'np.median': (a) => np.median(a, { axis: 1 }), 'np.quantile': (a) => np.quantile(a, 0.3, { axis: 1 }), 'np.percentile': (a) => np.percentile(a, 75.0),
  'np.logsumexp': (a) => nn.logsumexp(a, 0),
  'np.einsum:ellipsis': (a, b) => np.einsum('...ij,...jk->...ik', a, b), 'np.einsum:trace': (a) => np.einsum('ii->', a),
  'np.einsum:diag': (a) => np.einsum('ii->i', a), 'np.einsum:bcast': (a, b) => np.einsum('ij,j->i', a, b),
  'np.einsum:three': (a, b, c) => np.einsum('ij,jk,kl->il', a, b, c), 'np.einsum:outer': (a, b) => np.einsum('i,j->ij', a, b),
  'np.einsum:size1bcast': (a, b) => np.einsum('ij,ij->ij', a, b),
};

/** Cases kiln refuses, with the reason (each must throw a KilnError at this file's line). */
const REFUSED: Record<string, string> = {};

const mine = Object.keys(fixture.cases).filter((k) => k.startsWith('np.') && !k.startsWith('np.at.') && !k.startsWith('np.index:'));

describe('library fixtures: numpy', () => {
  it('every np.* fixture case has a kiln version or a stated refusal', () => {
    expect(mine.filter((k) => !(k in cases) && !(k in REFUSED))).toEqual([]);
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const name of mine) {
    const c = fixture.cases[name];
    it(name, async () => {
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        for (const [mode, g] of [['eager', cases[name]], ['jit', jit(cases[name])]] as [string, Fn][]) {
          const args = c.inputs.map(toKiln);
          if (name in REFUSED) {
            let thrown: unknown;
            try { g(...args); } catch (e) { thrown = e; }
            expect(thrown, `${dname}/${mode}: ${REFUSED[name]}`).toBeInstanceOf(KilnError);
            continue;
          }
          await compare(g(...args), c.output!, `${name} (${dname}, ${mode})`);
        }
      }
    });
  }
});

// ---- gradients against central differences -------------------------------------------------

const W = np.array(Float32Array.from(spacedValues(4, 7, -1, 1)));
const M3 = np.array(Float32Array.from(spacedValues(9, 8, -1, 1)), { shape: [3, 3] });
const gradCases: Record<string, GradCase> = {
  arcsinh: { f: np.arcsinh, shape: [6] }, arccosh: { f: np.arccosh, shape: [6], lo: 1.2, hi: 3 },
  arctanh: { f: np.arctanh, shape: [6], lo: -0.8, hi: 0.8 }, cbrt: { f: np.cbrt, shape: [6], lo: 0.3, hi: 2 },
  sinc: { f: np.sinc, shape: [6] }, i0: { f: np.i0, shape: [6], lo: -5, hi: 5 }, deg2rad: { f: np.deg2rad, shape: [3] },
  hypot: { f: (x) => np.hypot(x, 0.7), shape: [6] }, logaddexp: { f: (x) => np.logaddexp(x, np.flip(x)), shape: [6] },
  logaddexp2: { f: (x) => np.logaddexp2(x, 0.5), shape: [6] }, copysign: { f: (x) => np.copysign(x, -1), shape: [6] },
  fmax: { f: (x) => np.fmax(x, 0.1), shape: [6] }, ldexp: { f: (x) => np.ldexp(x, 3), shape: [4] },
  modf: { f: (x) => (np.modf(x.mul(3)) as KArray[])[0], shape: [6] },
  diff: { f: (x) => np.diff(x.mul(x), { n: 2 }), shape: [6] }, roll: { f: (x) => np.roll(x, 2).mul(np.arange(6)), shape: [6] },
  diagonal: { f: (x) => np.diagonal(np.reshape(x, [2, 3]), { offset: 1 }), shape: [6] },
  diagflat: { f: (x) => np.diagflat(x, -1).mul(np.arange(16).reshape([4, 4])), shape: [3] },
  tensordot: { f: (x) => np.tensordot(np.reshape(x, [2, 3]), M3, 1), shape: [6] },
  vecdot: { f: (x) => np.vecdot(np.reshape(x, [2, 3]), np.sin(np.reshape(x, [2, 3]))), shape: [6] },
  matvec: { f: (x) => np.matvec(M3, x), shape: [3] }, vecmat: { f: (x) => np.vecmat(x, M3), shape: [3] },
  cross: { f: (x) => np.cross(x, np.array(Float32Array.from([0.3, -1, 2]))), shape: [3] },
  cov: { f: (x) => np.cov(np.reshape(x, [2, 4])), shape: [8] }, corrcoef: { f: (x) => np.corrcoef(np.reshape(x, [2, 4])), shape: [8] },
  convolve: { f: (x) => np.convolve(x, W, { mode: 'same' }), shape: [6] }, correlate: { f: (x) => np.correlate(W, x, { mode: 'full' }), shape: [3] },
  polyval: { f: (x) => np.polyval(x, W), shape: [3] }, polymul: { f: (x) => np.polymul(x, x), shape: [3] },
  trapezoid: { f: (x) => np.trapezoid(np.exp(x)), shape: [6] },
  average: { f: (x) => np.average(np.reshape(x, [2, 3]), { axis: 1, weights: np.exp(np.slice(x, '0:3')) }) as KArray, shape: [6] },
  nanmean: { f: (x) => np.nanmean(np.where(x.gt(1), NaN, x)), shape: [6] }, nanvar: { f: (x) => np.nanvar(np.where(x.gt(1), NaN, x)), shape: [6] },
  nanmax: { f: (x) => np.nanmax(np.reshape(x, [2, 3]), 1), shape: [6] },
  median: { f: (x) => np.median(np.reshape(x, [2, 3]), 1), shape: [6] }, quantile: { f: (x) => np.quantile(x, 0.3), shape: [6] },
  ptp: { f: (x) => np.ptp(x), shape: [6] }, unwrap: { f: (x) => np.unwrap(x.mul(4)), shape: [6] },
  vander: { f: (x) => np.vander(x, 3), shape: [3] }, select: { f: (x) => np.select([x.lt(-0.5)], [x.mul(x)], np.sin(x)), shape: [6] },
  'einsum trace': { f: (x) => np.einsum('ii', np.reshape(x, [3, 3]).mul(M3)), shape: [9] },
  'einsum ellipsis': { f: (x) => np.einsum('...i,ij->...j', np.reshape(x, [2, 3]), M3), shape: [6] },
  'einsum three': { f: (x) => np.einsum('ij,jk,k->i', M3, np.reshape(x, [3, 3]), np.slice(x, '0:3')), shape: [9] },
};

describe('gradients of the new functions against central differences', () => {
  beforeAll(() => setDefaultDevice('reference'));
  for (const [name, c] of Object.entries(gradCases)) {
    it(name, () => checkGradCase(name, c));
  }
});

// ---- einsum beyond the fixtures ------------------------------------------------------------

/** Row-major host values of an Array. */
const host = async (a: unknown) => Array.from(await (a as KArray).data());
const f32 = (shape: number[], seed: number) => np.array(Float32Array.from(spacedValues(shape.reduce((a, b) => a * b, 1), seed, -1, 1)), { shape });

/** `sum_k a[i, k] * b[k, j]` in float64 JS. */
function matmulHost(a: number[], b: number[], n: number, k: number, m: number): number[] {
  return Array.from({ length: n * m }, (_, idx) => {
    const i = Math.floor(idx / m), j = idx % m;
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * m + j];
    return s;
  });
}
const close = (got: number[], want: number[]) => want.forEach((w, i) => expect(Math.abs(got[i] - w), `[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w)));

describe('einsum', () => {
  beforeAll(() => setDefaultDevice('reference'));

  it('the sublist form is the subscript form', async () => {
    const a = f32([2, 3], 1), b = f32([3, 4], 2);
    const want = matmulHost(await host(a), await host(b), 2, 3, 4);
    close(await host(np.einsum(a, [0, 1], b, [1, 2], [0, 2])), want);
    // Without the output list: implicit mode (labels used once, sorted).
    close(await host(np.einsum(a, [0, 1], b, [1, 2])), want);
    close(await host(np.einsum(a, ['...', 1], b, [1, 2], ['...', 2])), want);
  });

  it('implicit mode puts the ellipsis first, and an omitted ellipsis output is summed', async () => {
    const a = f32([2, 3, 4], 3);
    const t = await host(np.einsum('...ij', a));
    expect((np.einsum('...ij', a) as KArray).shape).toEqual([2, 3, 4]);
    close(t, await host(a));
    const av = await host(a);
    const summed = Array.from({ length: 4 }, (_, j) => { let s = 0; for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) s += av[(b * 3 + i) * 4 + j]; return s; });
    close(await host(np.einsum('...ij->j', a)), summed);
  });

  it('three operands are contracted cheapest pair first, one dot_general per step', () => {
    // Both first pairs free 2500 elements; y @ z costs 2,500 multiply-adds, x @ y 125,000.
    const a = f32([50, 50], 4), b = f32([50, 50], 5), c = f32([50, 1], 6);
    const text = lower((x: KArray, y: KArray, z: KArray) => np.einsum('ij,jk,kl->il', x, y, z))(a, b, c).text;
    const dots = text.split('\n').filter((l) => l.includes('stablehlo.dot_general'));
    expect(dots.length).toBe(2);
    // The first product is y @ z: its operands are the second and third arguments.
    expect(dots[0]).toMatch(/%arg1, %arg2/);
    const left = lower((x: KArray, y: KArray, z: KArray) => np.einsum('ij,jk,kl->il', x, y, z, { optimize: false }))(a, b, c).text;
    expect(left.split('\n').filter((l) => l.includes('stablehlo.dot_general'))[0]).toMatch(/%arg0, %arg1/);
  });

  it('refuses malformed subscripts with a KilnError naming the problem', () => {
    const a = f32([2, 3], 1);
    expect(() => np.einsum('ij,jk->ik', a)).toThrow(/names 2 operands, got 1/);
    expect(() => np.einsum('ijk', a)).toThrow(/rank 2 but 'ijk' names 3/);
    expect(() => np.einsum('ij->q', a)).toThrow(/output label 'q'/);
    expect(() => np.einsum('ij,ij', a, f32([3, 2], 2))).toThrow(/label 'i' has size 2 in one operand and 3/);
    expect(() => np.einsum('ij', a, { precision: 'high' })).toThrow(KilnError);
  });
});

// ---- refusals and aliases -------------------------------------------------------------------

describe('value-dependent shapes and unsupported options are refused', () => {
  beforeAll(() => setDefaultDevice('reference'));
  const x = np.array(Int32Array.from([0, 2, 0, 3]));
  const cases: [string, () => unknown, RegExp][] = [
    ['argwhere without size', () => np.argwhere(x), /size= is required/],
    ['nonzero without size', () => np.nonzero(x), /size= is required/],
    ['unique without size', () => np.unique(x), /size= is required/],
    ['unique returnCounts', () => np.unique(x, { returnCounts: true, size: 3 }), /returnCounts/],
    ['bincount without length', () => np.bincount(x), /length= is required/],
    ['quantile with an Array q', () => np.quantile(np.array([1, 2, 3]), np.array(0.5)), /static/],
    ['cov with fweights', () => np.cov(np.array([1, 2, 3]), { fweights: np.array([1, 1, 1]) }), /fweights/],
    ['ldexp with a float exponent', () => np.ldexp(np.array([1, 2]), np.array([0.5, 1])), /integer exponent/],
    ['shift of floats', () => np.leftShift(np.array([1, 2]), 1), /needs integers/],
    ['gcd of floats', () => np.gcd(np.array([1, 2]), 2), /need integers/],
    ['select with a float condition', () => np.select([np.array([1, 0])], [np.array([1, 2])]), /boolean/],
    ['cumulativeSum without axis above rank 1', () => np.cumulativeSum(np.ones([2, 2])), /axis must be given/],
    ['geomspace through zero', () => np.geomspace(0, 1, 3), /cannot include zero/],
    ['finfo of an integer', () => np.finfo('int32'), /float dtype/],
  ];
  for (const [name, f, msg] of cases) {
    it(name, () => {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(msg);
      expect(String((thrown as Error).message)).toMatch(/library-numpy\.test\.ts:\d+/);
    });
  }
});

describe('names, aliases and constants', () => {
  beforeAll(() => setDefaultDevice('reference'));
  it('array-API spellings are the same functions', () => {
    expect(np.asin).toBe(np.arcsin); expect(np.acos).toBe(np.arccos); expect(np.atan).toBe(np.arctan);
    expect(np.atan2).toBe(np.arctan2); expect(np.asinh).toBe(np.arcsinh); expect(np.acosh).toBe(np.arccosh);
    expect(np.atanh).toBe(np.arctanh); expect(np.bitwiseLeftShift).toBe(np.leftShift); expect(np.bitwiseRightShift).toBe(np.rightShift);
    expect(np.bitwiseNot).toBe(np.invert); expect(np.bitwiseInvert).toBe(np.invert); expect(np.radians).toBe(np.deg2rad);
    expect(np.degrees).toBe(np.rad2deg); expect(np.hann).toBe(np.hanning); expect(np.around).toBe(np.round);
  });
  it('constants, shapes and dtype facts', () => {
    expect(np.pi).toBe(Math.PI); expect(np.e).toBe(Math.E); expect(np.inf).toBe(Infinity); expect(Number.isNaN(np.nan)).toBe(true);
    expect(np.eulerGamma).toBeCloseTo(0.5772156649, 10); expect(np.newaxis).toBe(null);
    const a = np.zeros([2, 3]);
    expect(np.ndim(a)).toBe(2); expect(np.shape(a)).toEqual([2, 3]); expect(np.size(a)).toBe(6); expect(np.size(a, -1)).toBe(3);
    expect(np.isscalar(3)).toBe(true); expect(np.isscalar(np.array(3))).toBe(true); expect(np.isscalar(a)).toBe(false);
    expect(np.promoteTypes('int32', 'float16')).toBe('f16'); expect(np.promoteTypes('bool', 'uint32')).toBe('ui32');
    expect(np.promoteTypes('int32', 'uint32')).toBe('i32');
    expect(np.finfo('float32').eps).toBe(2 ** -23); expect(np.finfo('float16').max).toBe(65504);
    expect(np.iinfo('int32').min).toBe(-(2 ** 31)); expect(np.iinfo('uint32').max).toBe(2 ** 32 - 1);
  });
  it('internal helpers are not in the namespace', () => {
    for (const name of ['dtypeOf', 'meanImpl', 'reduceOp', 'takeImpl', 'varImpl', 'prepare', 'cast', 'floatOf', 'normAxis', 'normAxes', 'checkShape', 'asArray', 'diagonalImpl']) {
      expect(Object.keys(np), name).not.toContain(name);
    }
    expect(Object.keys(np)).toContain('resultType');
    expect(Object.keys(np)).toContain('broadcastShapes');
  });
  it('fromfunction, applyAlongAxis and applyOverAxes', async () => {
    expect(await host(np.fromfunction((i: KArray, j: KArray) => i.mul(10).add(j), [2, 3]))).toEqual([0, 1, 2, 10, 11, 12]);
    const m = np.array([[1, 2, 3], [4, 5, 6]]);
    // Each column's (first - last): along axis 0.
    expect(await host(np.applyAlongAxis((v: KArray) => np.sum(v.mul(np.array([1, -1]))), 0, m))).toEqual([-3, -3, -3]);
    expect(await host(np.applyAlongAxis((v: KArray) => np.cumsum(v), 1, m))).toEqual([1, 3, 6, 4, 9, 15]);
    const s = np.applyOverAxes((x: KArray, ax: number) => np.sum(x, ax), m, [0, 1]) as KArray;
    expect(s.shape).toEqual([1, 1]);
    expect(await host(s)).toEqual([21]);
  });
  it('hstack of 1-D arrays, atleast3d, dsplit, diagIndicesFrom, arrayEquiv, isclose, nextafter from zero', async () => {
    expect(await host(np.hstack([np.array([1, 2]), np.array([3])]))).toEqual([1, 2, 3]);
    expect((np.atleast3d(np.array([1, 2])) as KArray).shape).toEqual([1, 2, 1]);
    expect((np.dsplit(np.zeros([1, 2, 4]), 2) as KArray[]).map((p) => p.shape)).toEqual([[1, 2, 2], [1, 2, 2]]);
    expect((np.diagIndicesFrom(np.zeros([3, 3, 3])) as KArray[]).length).toBe(3);
    expect(await host(np.arrayEquiv(np.array([1, 1]), np.array(1)))).toEqual([1]);
    expect(await host(np.arrayEquiv(np.array([1, 2]), np.array([1, 2, 3])))).toEqual([0]);
    expect(await host(np.isclose(np.array([1, Infinity, NaN]), np.array([1.000001, Infinity, NaN]), { equalNan: true }))).toEqual([1, 1, 1]);
    expect(await host(np.nextafter(np.array([0]), 1))).toEqual([Math.fround(2 ** -149)]);
  });
});
