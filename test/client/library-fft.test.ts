/**
 * @file complex64 Arrays and `np.fft`, on the reference device and WebGPU, eagerly and under `jit`:
 * the frequency helpers and shifts against hand-derived values; complex arithmetic and every
 * transform against float64 references written here independently of kiln (the DFT with its
 * twiddles reduced as j·k mod n, numpy's definitions of rfft/irfft/hfft/ihfft and the norms);
 * vmap against the loop; gradients (JAX's convention for complex inputs) and JVPs against central
 * differences; and the refusals, each a KilnError naming the function and this file's line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, jvp, KilnError, lax, lower, np, setDefaultDevice, vjp, vmap, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

let devices: [string, Device][] = [];
beforeAll(async () => { devices = await devicesUnderTest(); });
afterAll(() => setDefaultDevice('reference'));

/**
 * Runs `f` eagerly and jitted on every device on fresh inputs (`args()`); `check` gets each
 * result on every device, WebGPU included (complex64 runs there as vec2<f32>).
 */
async function everywhere(f: Fn, args: () => unknown[], check: (r: KArray, where: string) => Promise<void>, complex = true): Promise<void> {
  for (const [dname, d] of devices) {
    setDefaultDevice(d);
    for (const [mode, g] of [['eager', f], ['jit', jit(f)]] as [string, Fn][]) {
      await check(g(...args()) as KArray, `${dname}/${mode}`);
    }
  }
}

const f32 = (v: number[]) => Array.from(Float32Array.from(v));

describe('np.fft frequencies and shifts', () => {
  const cases: [string, Fn, () => unknown[], number[], number[]][] = [
    // [name, function, args, shape, values (k / (d·n), rounded to f32 once)]
    ['fftfreq(4)', () => np.fft.fftfreq(4), () => [], [4], [0, 0.25, -0.5, -0.25]],
    ['fftfreq(5, 0.1)', () => np.fft.fftfreq(5, 0.1), () => [], [5], [0, 2, 4, -4, -2]],
    ['fftfreq(7, {d: 3})', () => np.fft.fftfreq(7, { d: 3 }), () => [], [7], f32([0, 1, 2, 3, -3, -2, -1].map((k) => k / 21))],
    ['rfftfreq(5)', () => np.fft.rfftfreq(5), () => [], [3], f32([0, 0.2, 0.4])],
    ['rfftfreq(4, 2)', () => np.fft.rfftfreq(4, 2), () => [], [3], [0, 0.125, 0.25]],
    ['fftfreq(1)', () => np.fft.fftfreq(1), () => [], [1], [0]],
    ['fftshift 1-D', (x: KArray) => np.fft.fftshift(x), () => [np.arange(5)], [5], [3, 4, 0, 1, 2]],
    ['ifftshift 1-D', (x: KArray) => np.fft.ifftshift(x), () => [np.arange(5)], [5], [2, 3, 4, 0, 1]],
    ['fftshift even', (x: KArray) => np.fft.fftshift(x), () => [np.arange(4)], [4], [2, 3, 0, 1]],
    ['fftshift 2-D', (x: KArray) => np.fft.fftshift(x), () => [np.arange(6).reshape([2, 3])], [2, 3], [5, 3, 4, 2, 0, 1]],
    ['fftshift axes 1', (x: KArray) => np.fft.fftshift(x, 1), () => [np.arange(6).reshape([2, 3])], [2, 3], [2, 0, 1, 5, 3, 4]],
    ['ifftshift axes [-1]', (x: KArray) => np.fft.ifftshift(x, { axes: [-1] }), () => [np.arange(6).reshape([2, 3])], [2, 3], [1, 2, 0, 4, 5, 3]],
    ['ifftshift(fftshift) round trip', (x: KArray) => np.fft.ifftshift(np.fft.fftshift(x)), () => [np.arange(15).reshape([3, 5])], [3, 5], Array.from({ length: 15 }, (_, i) => i)],
  ];
  for (const [name, f, args, shape, want] of cases) {
    it(name, async () => {
      await everywhere(f, args, async (r, where) => {
        expect([...r.shape], `${name} ${where}`).toEqual(shape);
        expect(Array.from(await r.data()), `${name} ${where}`).toEqual(want);
      }, false);
    });
  }

  it('fftfreq takes a dtype', () => {
    expect(np.fft.fftfreq(4, { dtype: 'float16' }).dtype).toBe('f16');
    expect(np.fft.rfftfreq(4).dtype).toBe('f32');
  });

  it('refuses bad arguments with a KilnError naming the function and this line', () => {
    const refusals: [() => unknown, RegExp][] = [
      [() => np.fft.fftfreq(2.5), /np\.fft\.fftfreq: n must be a non-negative integer/],
      [() => np.fft.fftfreq(4, { dtype: 'int32' }), /np\.fft\.fftfreq: dtype must be f32 or f16/],
      [() => (np.fft.rfftfreq as Fn)(4, 1, 2), /np\.fft\.rfftfreq: takes at most 2 positional/],
      [() => np.fft.fftshift(np.arange(4), 1), /np\.fft\.fftshift: axis 1 is out of bounds for an array of rank 1/],
      [() => (np.fft.fftshift as Fn)(np.arange(4), { axis: 0 }), /np\.fft\.fftshift: unknown option 'axis'/],
    ];
    for (const [f, msg] of refusals) {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(msg);
      expect(String((thrown as Error).message)).toMatch(/library-fft\.test\.ts:\d+/);
    }
  });
});

// ---- float64 references, written independently of kiln -----------------------------------------

/** A complex value in float64. */
type C = [number, number];
/** A row-major complex tensor in float64. */
interface CT { shape: number[]; data: C[] }

const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: C, b: C): C => { const d = b[0] * b[0] + b[1] * b[1]; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; };
const cexp = (a: C): C => [Math.exp(a[0]) * Math.cos(a[1]), Math.exp(a[0]) * Math.sin(a[1])];
const clog = (a: C): C => [Math.log(Math.hypot(a[0], a[1])), Math.atan2(a[1], a[0])];
/** The principal square root: re >= 0, the sign of im follows the input's. */
const csqrt = (a: C): C => { const r = Math.hypot(a[0], a[1]); const re = Math.sqrt((r + a[0]) / 2); const im = Math.sqrt((r - a[0]) / 2); return [re, a[1] < 0 ? -im : im]; };
const csin = (a: C): C => [Math.sin(a[0]) * Math.cosh(a[1]), Math.cos(a[0]) * Math.sinh(a[1])];
const ccos = (a: C): C => [Math.cos(a[0]) * Math.cosh(a[1]), -Math.sin(a[0]) * Math.sinh(a[1])];
const ctanh = (a: C): C => { const e2 = cexp([2 * a[0], 2 * a[1]]); return cdiv([e2[0] - 1, e2[1]], [e2[0] + 1, e2[1]]); };
const cpow = (a: C, b: C): C => cexp(cmul(b, clog(a)));

/** The DFT of one line (`sign` -1 forward, +1 inverse, unscaled), twiddles reduced as j·k mod n. */
function dft(x: C[], sign: 1 | -1): C[] {
  const n = x.length;
  return Array.from({ length: n }, (_, k) => {
    let re = 0, im = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      re += x[j][0] * Math.cos(a) - x[j][1] * Math.sin(a);
      im += x[j][0] * Math.sin(a) + x[j][1] * Math.cos(a);
    }
    return [re, im] as C;
  });
}

/** `f` applied to every line of `t` along `axis` (it may change the line's length). */
function alongAxis(t: CT, axis: number, f: (line: C[]) => C[]): CT {
  const ax = axis < 0 ? axis + t.shape.length : axis;
  const outer = t.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const n = t.shape[ax];
  let m = -1;
  const lines: C[][] = [];
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const line = Array.from({ length: n }, (_, j) => t.data[(o * n + j) * inner + i]);
    const r = f(line);
    m = r.length;
    lines.push(r);
  }
  const data = new Array<C>(outer * m * inner);
  let l = 0;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++, l++) for (let j = 0; j < m; j++) data[(o * m + j) * inner + i] = lines[l][j];
  return { shape: t.shape.map((d, i) => (i === ax ? m : d)), data };
}

/** A line cropped or zero-padded to `n`. */
const fit = (x: C[], n: number): C[] => Array.from({ length: n }, (_, i) => x[i] ?? [0, 0]);
const scaleC = (x: C[], s: number): C[] => x.map(([a, b]) => [a * s, b * s]);
type Norm = 'backward' | 'ortho' | 'forward';
/** numpy's scale of a transform of length n: forward transforms divide for 'forward', inverses for 'backward'. */
const normFactor = (n: number, inverse: boolean, norm: Norm) => (norm === 'ortho' ? 1 / Math.sqrt(n) : (norm === 'forward') !== inverse ? 1 / n : 1);

/** numpy.fft.fft / ifft along one axis. */
function refFft(t: CT, n: number | null, axis: number, inverse: boolean, norm: Norm = 'backward'): CT {
  return alongAxis(t, axis, (x) => { const len = n ?? x.length; return scaleC(dft(fit(x, len), inverse ? 1 : -1), normFactor(len, inverse, norm)); });
}
/** numpy.fft.rfft along one axis (real input: imaginary parts are zero). */
function refRfft(t: CT, n: number | null, axis: number, norm: Norm = 'backward'): CT {
  return alongAxis(t, axis, (x) => { const len = n ?? x.length; return scaleC(dft(fit(x, len), -1).slice(0, Math.floor(len / 2) + 1), normFactor(len, false, norm)); });
}
/**
 * numpy.fft.irfft along one axis: the real signal whose spectrum's non-negative half is the input
 * (cropped or padded to n/2 + 1): x[j] = (Re X0 + 2·sum Re(Xk·e^{2πijk/n}) + Re X_{n/2}·(-1)^j for
 * even n) / n. The imaginary parts of X0 and X_{n/2} do not matter, as in numpy.
 */
function refIrfft(t: CT, n: number | null, axis: number, norm: Norm = 'backward'): CT {
  return alongAxis(t, axis, (x) => {
    const len = n ?? 2 * (x.length - 1);
    const X = fit(x, Math.floor(len / 2) + 1);
    return Array.from({ length: len }, (_, j) => {
      let s = X[0][0];
      for (let k = 1; k < Math.ceil(len / 2); k++) {
        const a = (2 * Math.PI * ((j * k) % len)) / len;
        s += 2 * (X[k][0] * Math.cos(a) - X[k][1] * Math.sin(a));
      }
      if (len % 2 === 0) s += X[len / 2][0] * (j % 2 === 0 ? 1 : -1);
      return [s * normFactor(len, true, norm), 0] as C;
    });
  });
}
const conjT = (t: CT): CT => ({ shape: t.shape, data: t.data.map(([a, b]) => [a, -b]) });
const scaleT = (t: CT, s: number): CT => ({ shape: t.shape, data: scaleC(t.data, s) });

/** Deterministic values in [-1, 1), f32-rounded. */
function vals(n: number, seed: number): number[] {
  let s = seed * 2654435761 >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.fround(-1 + 2 * (s / 2 ** 32)); });
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** A complex test tensor: its float64 reference and a maker of the kiln Array (interleaved f32 pairs). */
function ctensor(shape: number[], seed: number): { ref: CT; make: () => KArray } {
  const v = vals(2 * size(shape), seed);
  return {
    ref: { shape, data: Array.from({ length: size(shape) }, (_, i) => [v[2 * i], v[2 * i + 1]] as C) },
    make: () => np.array(Float32Array.from(v), { dtype: 'complex64', shape }),
  };
}
/** A real test tensor. */
function rtensor(shape: number[], seed: number): { ref: CT; make: () => KArray } {
  const v = vals(size(shape), seed);
  return { ref: { shape, data: v.map((x) => [x, 0] as C) }, make: () => np.array(Float32Array.from(v), { shape }) };
}

/** Checks a complex64 Array against a float64 reference (within `tol` of the largest magnitude). */
async function expectComplex(got: KArray, want: CT, where: string, tol = 1e-5): Promise<void> {
  expect([...got.shape], `${where}: shape`).toEqual(want.shape);
  expect(got.dtype, `${where}: dtype`).toBe('c64');
  const d = await got.data();
  expect(d.length, `${where}: interleaved length`).toBe(2 * want.data.length);
  const scale = Math.max(1, ...want.data.map(([a, b]) => Math.hypot(a, b)));
  want.data.forEach(([a, b], i) => {
    expect(Math.abs(d[2 * i] - a), `${where}[${i}].re: ${d[2 * i]} vs ${a}`).toBeLessThanOrEqual(tol * scale);
    expect(Math.abs(d[2 * i + 1] - b), `${where}[${i}].im: ${d[2 * i + 1]} vs ${b}`).toBeLessThanOrEqual(tol * scale);
  });
}
/** Checks a real Array against the real parts of a float64 reference. */
async function expectReal(got: KArray, want: CT, where: string, tol = 1e-5): Promise<void> {
  expect([...got.shape], `${where}: shape`).toEqual(want.shape);
  expect(got.dtype, `${where}: dtype`).toBe('f32');
  const d = await got.data();
  const scale = Math.max(1, ...want.data.map(([a]) => Math.abs(a)));
  want.data.forEach(([a], i) => expect(Math.abs(d[i] - a), `${where}[${i}]: ${d[i]} vs ${a}`).toBeLessThanOrEqual(tol * scale));
}

// ---- complex64 Arrays -------------------------------------------------------------------------

describe('complex64 Arrays', () => {
  it('are made from interleaved (re, im) pairs and read back as them', async () => {
    const z = np.array(Float32Array.of(1, 2, -3, 0.5), { dtype: 'complex64' });
    expect([...z.shape]).toEqual([2]);
    expect(z.dtype).toBe('c64');
    expect(Array.from(await z.data())).toEqual([1, 2, -3, 0.5]);
    const m = np.array([1, 2, 3, 4, 5, 6, 7, 8], { dtype: np.complex64, shape: [2, 2] });
    expect([...m.shape]).toEqual([2, 2]);
    expect(await m.toList()).toEqual([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    // One number is a real value; zeros/ones/full fill the real part.
    expect(Array.from(await np.array(3, { dtype: 'complex64' }).data())).toEqual([3, 0]);
    expect(Array.from(await np.ones([2], 'complex64').data())).toEqual([1, 0, 1, 0]);
    expect(Array.from(await np.full([2], 2.5, 'complex64').data())).toEqual([2.5, 0, 2.5, 0]);
    expect(Array.from(await np.zeros([1], np.complex64).data())).toEqual([0, 0]);
    expect(() => np.array(Float32Array.of(1, 2, 3), { dtype: 'complex64' })).toThrow(/interleaved.*odd|pairs/);
    expect(() => np.array([1, 2, 3, 4], { dtype: 'complex64', shape: [3] })).toThrow(KilnError);
    await expect(async () => np.array(Float32Array.of(1, 2), { dtype: 'complex64' }).item()).rejects.toThrow(/complex/);
  });

  it('lax.complex, real, imag, conj, abs and angle', async () => {
    await everywhere((re: KArray, im: KArray) => {
      const z = lax.complex(re, im);
      return np.stack([np.abs(z), np.angle(z), np.real(z), np.imag(z), np.real(np.conj(z)), np.imag(np.conjugate(z)), np.angle(z, true)]);
    }, () => [np.array([3, -1, 0, -2]), np.array([4, 1, -2, 0])], async (r, where) => {
      expect(r.dtype, where).toBe('f32');
      const want = [
        [5, Math.SQRT2, 2, 2], [Math.atan2(4, 3), Math.atan2(1, -1), -Math.PI / 2, Math.PI],
        [3, -1, 0, -2], [4, 1, -2, 0], [3, -1, 0, -2], [-4, -1, 2, -0],
        [Math.atan2(4, 3) * 180 / Math.PI, 135, -90, 180],
      ].flat();
      const d = Array.from(await r.data());
      want.forEach((w, i) => expect(Math.abs(d[i] - w), `${where}[${i}]: ${d[i]} vs ${w}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w))));
    });
    // On reals: real is the Array, imag zeros, conj the Array.
    const x = np.array([1, -2]);
    expect(Array.from(await np.imag(x).data())).toEqual([0, 0]);
    expect(np.conj(x).dtype).toBe('f32');
  });

  it('promotes as JAX: f32 ⊕ c64 and i32 ⊕ c64 are c64; JS numbers stay weak', () => {
    setDefaultDevice('reference');
    const z = np.array([1, 2], { dtype: 'complex64' });
    expect(np.add(z, np.array([1])).dtype).toBe('c64');
    expect(np.multiply(np.array(Int32Array.of(2)), z).dtype).toBe('c64');
    expect(np.add(z, 2).dtype).toBe('c64');
    expect(np.add(z, 2).weak).toBe(false);
    expect(np.resultType(z, np.array(Int32Array.of(1))).dtype).toBe('c64');
    expect(np.divide(np.array(Int32Array.of(1)), z).dtype).toBe('c64');
    expect(np.add(z, np.array([1], { dtype: 'float16' })).dtype).toBe('c64');
    expect(np.astype(np.array([1.5]), 'complex64').dtype).toBe('c64');
  });

  const a = ctensor([5], 11), b = ctensor([5], 12);
  const elementwise: [string, (x: KArray, y: KArray) => KArray, (x: C, y: C) => C][] = [
    ['add', np.add, (x, y) => [x[0] + y[0], x[1] + y[1]]],
    ['subtract', (x, y) => x.sub(y), (x, y) => [x[0] - y[0], x[1] - y[1]]],
    ['multiply', (x, y) => x.mul(y), cmul],
    ['divide', np.divide, cdiv],
    ['exp', (x) => np.exp(x), cexp],
    ['log', (x) => np.log(x), clog],
    ['sqrt', (x) => np.sqrt(x), csqrt],
    ['sin', (x) => np.sin(x), csin],
    ['cos', (x) => np.cos(x), ccos],
    ['tanh', (x) => np.tanh(x), ctanh],
    ['power', (x, y) => np.power(x, y), cpow],
    ['square (x ** 2)', (x) => np.power(x, 2), (x) => cmul(x, x)],
    ['x * 2.5 + 1', (x) => x.mul(2.5).add(1), (x) => [x[0] * 2.5 + 1, x[1] * 2.5]],
    ['x / real', (x, y) => np.divide(x, np.real(y)), (x, y) => [x[0] / y[0], x[1] / y[0]]],
  ];
  for (const [name, f, want] of elementwise) {
    it(`complex ${name}`, async () => {
      await everywhere(f, () => [a.make(), b.make()], (r, where) =>
        expectComplex(r, { shape: [5], data: a.ref.data.map((x, i) => want(x, b.ref.data[i])) }, `${name} ${where}`, 2e-6));
    });
  }

  it('a product of complex values, on every device (WebGPU: a variadic reduce of the real and imaginary parts)', async () => {
    const m = ctensor([2, 3], 5);
    const rows = [0, 1].map((i) => m.ref.data.slice(3 * i, 3 * i + 3));
    const prod = rows.map((row) => row.reduce((s, z) => cmul(s, z), [1, 0] as C));
    for (const [dname, d] of devices) {
      setDefaultDevice(d);
      for (const [mode, g] of [['eager', (x: KArray) => np.prod(x, 1)], ['jit', jit((x: KArray) => np.prod(x, 1))]] as [string, Fn][]) {
        await expectComplex(g(m.make()) as KArray, { shape: [2], data: prod }, `${dname}/${mode}`, 1e-5);
      }
    }
    setDefaultDevice('reference');
  });

  it('sums, means, matmul and equality on complex', async () => {
    const m = ctensor([2, 3], 5), v = ctensor([3], 6);
    await everywhere((x: KArray, y: KArray) => np.concatenate([np.sum(x, 1), np.mean(x, 0), np.matmul(x, y), np.vdot(y, y).reshape([1])]),
      () => [m.make(), v.make()], async (r, where) => {
        const rows = [0, 1].map((i) => m.ref.data.slice(3 * i, 3 * i + 3));
        const sum = rows.map((row) => row.reduce((s, z) => [s[0] + z[0], s[1] + z[1]] as C, [0, 0] as C));
        const mean = [0, 1, 2].map((j) => [(rows[0][j][0] + rows[1][j][0]) / 2, (rows[0][j][1] + rows[1][j][1]) / 2] as C);
        const mv = rows.map((row) => row.reduce((s, z, j) => { const p = cmul(z, v.ref.data[j]); return [s[0] + p[0], s[1] + p[1]] as C; }, [0, 0] as C));
        // vdot conjugates its first argument: sum |y|^2.
        const vd: C = [v.ref.data.reduce((s, z) => s + z[0] * z[0] + z[1] * z[1], 0), 0];
        await expectComplex(r, { shape: [8], data: [...sum, ...mean, ...mv, vd] }, where, 1e-5);
      });
    setDefaultDevice('reference');
    const z = np.array([1, 2, 3, 4], { dtype: 'complex64' });
    const w = np.array([1, 2, 3, 5], { dtype: 'complex64' });
    expect(await np.equal(z, w).toList()).toEqual([true, false]);
    expect(await np.notEqual(z, w).toList()).toEqual([false, true]);
  });

  it('refuses what JAX cannot compute on complex, naming the function, the dtype and this line', () => {
    const z = np.array([1, 2, 3, 4], { dtype: 'complex64' });
    const refusals: [string, () => unknown][] = [
      ['np.maximum', () => np.maximum(z, z)], ['np.max', () => np.max(z)], ['np.sort', () => np.sort(z)],
      ['np.floor', () => np.floor(z)], ['np.less', () => np.less(z, z)], ['np.argmax', () => np.argmax(z)],
      ['np.clip', () => np.clip(z, 0, 1)], ['np.round', () => np.round(z)], ['np.mod', () => np.mod(z, z)],
      ['np.tan', () => np.tan(z)], ['np.var', () => np.var(z)], ['np.arctan2', () => np.arctan2(z, z)],
      ['np.cumsum', () => np.cumsum(z)], ['np.fft.rfft', () => np.fft.rfft(z)],
    ];
    for (const [fn, f] of refusals) {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown, fn).toBeInstanceOf(KilnError);
      const msg = String((thrown as Error).message);
      expect(msg, fn).toContain(fn);
      expect(msg, fn).toMatch(/complex/);
      expect(msg, fn).toMatch(/library-fft\.test\.ts:\d+/);
    }
  });
});

// ---- the transforms against the float64 DFT ------------------------------------------------------

describe('np.fft transforms against a float64 DFT', () => {
  const z8 = ctensor([8], 21), z5 = ctensor([5], 22), z234 = ctensor([2, 3, 4], 23), z36 = ctensor([3, 6], 24);
  const r8 = rtensor([8], 25), r7 = rtensor([7], 26), r234 = rtensor([2, 3, 4], 27), r45 = rtensor([4, 5], 28);
  const h5 = ctensor([5], 29), h34 = ctensor([3, 4], 30);
  type Case = [string, Fn, () => unknown[], () => CT, 'c' | 'r'];
  const cases: Case[] = [
    ['fft', (x: KArray) => np.fft.fft(x), () => [z8.make()], () => refFft(z8.ref, null, -1, false), 'c'],
    ['fft of a real input', (x: KArray) => np.fft.fft(x), () => [r7.make()], () => refFft(r7.ref, null, -1, false), 'c'],
    ['fft odd length', (x: KArray) => np.fft.fft(x), () => [z5.make()], () => refFft(z5.ref, null, -1, false), 'c'],
    ['fft n pads', (x: KArray) => np.fft.fft(x, 12), () => [z5.make()], () => refFft(z5.ref, 12, -1, false), 'c'],
    ['fft n crops', (x: KArray) => np.fft.fft(x, 3), () => [z8.make()], () => refFft(z8.ref, 3, -1, false), 'c'],
    ['fft axis 1 of 3-D', (x: KArray) => np.fft.fft(x, { axis: 1 }), () => [z234.make()], () => refFft(z234.ref, null, 1, false), 'c'],
    ['fft axis 0, ortho', (x: KArray) => np.fft.fft(x, null, 0, 'ortho'), () => [z36.make()], () => refFft(z36.ref, null, 0, false, 'ortho'), 'c'],
    ['fft forward norm', (x: KArray) => np.fft.fft(x, { norm: 'forward' }), () => [z8.make()], () => refFft(z8.ref, null, -1, false, 'forward'), 'c'],
    ['ifft', (x: KArray) => np.fft.ifft(x), () => [z8.make()], () => refFft(z8.ref, null, -1, true), 'c'],
    ['ifft ortho, n', (x: KArray) => np.fft.ifft(x, 6, { norm: 'ortho' }), () => [z5.make()], () => refFft(z5.ref, 6, -1, true, 'ortho'), 'c'],
    ['ifft forward norm', (x: KArray) => np.fft.ifft(x, { norm: 'forward' }), () => [z36.make()], () => refFft(z36.ref, null, -1, true, 'forward'), 'c'],
    ['rfft', (x: KArray) => np.fft.rfft(x), () => [r8.make()], () => refRfft(r8.ref, null, -1), 'c'],
    ['rfft odd, ortho', (x: KArray) => np.fft.rfft(x, { norm: 'ortho' }), () => [r7.make()], () => refRfft(r7.ref, null, -1, 'ortho'), 'c'],
    ['rfft axis 0, n', (x: KArray) => np.fft.rfft(x, 6, 0), () => [r45.make()], () => refRfft(r45.ref, 6, 0), 'c'],
    ['irfft', (x: KArray) => np.fft.irfft(x), () => [z5.make()], () => refIrfft(z5.ref, null, -1), 'r'],
    ['irfft odd n', (x: KArray) => np.fft.irfft(x, 9), () => [z5.make()], () => refIrfft(z5.ref, 9, -1), 'r'],
    ['irfft axis 0, forward', (x: KArray) => np.fft.irfft(x, null, 0, 'forward'), () => [z36.make()], () => refIrfft(z36.ref, null, 0, 'forward'), 'r'],
    ['irfft of rfft is the signal', (x: KArray) => np.fft.irfft(np.fft.rfft(x), 7), () => [r7.make()], () => r7.ref, 'r'],
    ['hfft', (x: KArray) => np.fft.hfft(x), () => [h5.make()], () => scaleT(refIrfft(conjT(h5.ref), null, -1), 8), 'r'],
    ['hfft n, axis 0', (x: KArray) => np.fft.hfft(x, 5, 0), () => [h34.make()], () => scaleT(refIrfft(conjT(h34.ref), 5, 0), 5), 'r'],
    ['ihfft', (x: KArray) => np.fft.ihfft(x), () => [r8.make()], () => scaleT(conjT(refRfft(r8.ref, null, -1)), 1 / 8), 'c'],
    ['ihfft ortho', (x: KArray) => np.fft.ihfft(x, { norm: 'ortho' }), () => [r7.make()], () => scaleT(conjT(refRfft(r7.ref, null, -1)), 1 / Math.sqrt(7)), 'c'],
    ['fft2', (x: KArray) => np.fft.fft2(x), () => [z234.make()], () => refFft(refFft(z234.ref, null, 1, false), null, 2, false), 'c'],
    ['fft2 axes [0, 2], s', (x: KArray) => np.fft.fft2(x, [3, 2], [0, 2]), () => [z234.make()], () => refFft(refFft(z234.ref, 3, 0, false), 2, 2, false), 'c'],
    ['ifft2', (x: KArray) => np.fft.ifft2(x), () => [z36.make()], () => refFft(refFft(z36.ref, null, 0, true), null, 1, true), 'c'],
    ['fftn (all axes)', (x: KArray) => np.fft.fftn(x), () => [z234.make()], () => refFft(refFft(refFft(z234.ref, null, 0, false), null, 1, false), null, 2, false), 'c'],
    ['fftn s only (last axes)', (x: KArray) => np.fft.fftn(x, [4, 3]), () => [z234.make()], () => refFft(refFft(z234.ref, 4, 1, false), 3, 2, false), 'c'],
    ['ifftn axes [2, 0], ortho', (x: KArray) => np.fft.ifftn(x, { axes: [2, 0], norm: 'ortho' }), () => [z234.make()], () => refFft(refFft(z234.ref, null, 2, true, 'ortho'), null, 0, true, 'ortho'), 'c'],
    ['rfft2', (x: KArray) => np.fft.rfft2(x), () => [r45.make()], () => refFft(refRfft(r45.ref, null, 1), null, 0, false), 'c'],
    ['rfftn axes [0, 1] of 3-D', (x: KArray) => np.fft.rfftn(x, { axes: [0, 1] }), () => [r234.make()], () => refFft(refRfft(r234.ref, null, 1), null, 0, false), 'c'],
    ['rfftn', (x: KArray) => np.fft.rfftn(x), () => [r234.make()], () => refFft(refFft(refRfft(r234.ref, null, 2), null, 1, false), null, 0, false), 'c'],
    ['irfft2', (x: KArray) => np.fft.irfft2(x), () => [z36.make()], () => refIrfft(refFft(z36.ref, null, 0, true), null, 1), 'r'],
    ['irfftn s', (x: KArray) => np.fft.irfftn(x, [2, 5]), () => [z36.make()], () => refIrfft(refFft(z36.ref, 2, 0, true), 5, 1), 'r'],
    ['irfftn of rfftn is the signal', (x: KArray) => np.fft.irfftn(np.fft.rfftn(x), [2, 3, 4]), () => [r234.make()], () => r234.ref, 'r'],
  ];
  for (const [name, f, args, want, kind] of cases) {
    it(name, async () => {
      const w = want();
      await everywhere(f, args, (r, where) => (kind === 'c' ? expectComplex(r, w, `${name} ${where}`, 2e-5) : expectReal(r, w, `${name} ${where}`, 2e-5)));
    });
  }

  it('emits the ops JAX emits: one transpose to move the axes last, slice and pad for n, one stablehlo.fft', () => {
    const text = lower((x: KArray) => np.fft.rfft(x, 6, 0))(np.zeros([4, 5])).text;
    expect(text).toMatch(/stablehlo\.transpose .*dims = \[1, 0\]/);
    expect(text).toMatch(/stablehlo\.pad/);
    expect(text).toMatch(/stablehlo\.fft %\S+, type = RFFT, length = \[6\]/);
    const t2 = lower((x: KArray) => np.fft.fft(x))(np.zeros([16])).text;
    expect(t2).toMatch(/stablehlo\.convert %\S+ : \(tensor<16xf32>\) -> tensor<16xcomplex<f32>>/);
    expect(t2).not.toMatch(/transpose|multiply|slice|pad/);
  });

  it('vmap of fft and irfft equals the loop', async () => {
    setDefaultDevice('reference');
    const x = ctensor([3, 4], 40);
    const got = vmap((v: KArray) => np.fft.fft(v))(x.make()) as KArray;
    await expectComplex(got, refFft(x.ref, null, 1, false), 'vmap fft');
    const got0 = vmap((v: KArray) => np.fft.irfft(v, 6), { inAxes: 1 })(x.make()) as KArray;
    await expectReal(got0, { shape: [4, 6], data: refIrfft({ shape: [4, 3], data: Array.from({ length: 12 }, (_, i) => x.ref.data[(i % 3) * 4 + Math.floor(i / 3)]) }, 6, 1).data }, 'vmap irfft inAxes 1');
  });

  it('refuses what JAX refuses, naming the function and this line', () => {
    const z = ctensor([2, 3, 4, 2], 50).make();
    const refusals: [() => unknown, RegExp][] = [
      [() => np.fft.fft(z, { axis: [0, 1] } as never), /np\.fft\.fft: axis: np\.fft\.fft does not support multiple axes; use np\.fft\.fftn/],
      [() => np.fft.fftn(z), /np\.fft\.fftn transforms at most 3 axes/],
      [() => np.fft.fftn(z, [2, 2], [0]), /s has 2 lengths but axes has 1/],
      [() => np.fft.fft2(z, { axes: [0, 1, 2] }), /np\.fft\.fft2 transforms exactly 2 axes/],
      [() => np.fft.fftn(z, { axes: [1, -3] }), /repeated axes/],
      [() => np.fft.fft(z, 0), /n must be a positive integer/],
      [() => np.fft.fft(z, { norm: 'unitary' } as never), /norm must be one of 'backward', 'ortho', 'forward'/],
      [() => np.fft.fft(z, { axis: 4 }), /axis 4 is out of bounds for an array of rank 4/],
      [() => np.fft.irfft(np.zeros([1], 'complex64')), /irfft of a length-1 axis needs n/],
    ];
    for (const [f, msg] of refusals) {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown, String(msg)).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(msg);
      expect(String((thrown as Error).message)).toMatch(/library-fft\.test\.ts:\d+/);
    }
  });
});

// ---- derivatives against central differences ---------------------------------------------------

/** `sum(w1·re(y) + w2·im(y))` (or `sum(w1·y)` for a real y), fixed non-uniform weights: a real scalar. */
function weighted(y: KArray): KArray {
  const w1 = np.array(Float32Array.from(vals(y.size, 91).map((v) => 1 + 0.5 * v)), { shape: [...y.shape] });
  if (y.dtype !== 'c64') return np.sum(y.mul(w1));
  const w2 = np.array(Float32Array.from(vals(y.size, 92).map((v) => 0.5 - v)), { shape: [...y.shape] });
  return np.sum(np.real(y).mul(w1).add(np.imag(y).mul(w2)));
}

/**
 * JAX's gradient of a real loss at a complex input is ∂L/∂re − i·∂L/∂im (the conjugate of the
 * steepest-ascent direction); at a real input it is ∂L/∂x. Both from central differences on the
 * f32 input values, each part perturbed in turn.
 */
async function expectGradLikeJax(loss: (x: KArray) => KArray, input: { make: () => KArray }, where: string): Promise<void> {
  const x0 = input.make();
  const complex = x0.dtype === 'c64';
  const v0 = Array.from(await x0.data());
  const make = (v: number[]) => np.array(Float32Array.from(v), complex ? { dtype: 'complex64', shape: [...x0.shape] } : { shape: [...x0.shape] });
  const g = Array.from(await (grad(loss) as (x: KArray) => KArray)(x0).data());
  expect(g.length, where).toBe(v0.length);
  const h = 1e-2;
  for (let k = 0; k < v0.length; k++) {
    const up = [...v0], dn = [...v0];
    up[k] += h; dn[k] -= h;
    const fd = (Number(await loss(make(up)).item()) - Number(await loss(make(dn)).item())) / (2 * h);
    const want = complex && k % 2 === 1 ? -fd : fd;
    expect(Math.abs(g[k] - want), `${where}: gradient[${k}] ${g[k]} vs differences ${want}`).toBeLessThanOrEqual(2e-2 + 1e-2 * Math.abs(want));
  }
}

describe('gradients of complex functions and FFTs (JAX convention) against central differences', () => {
  beforeAll(() => setDefaultDevice('reference'));

  it('grad(|z|^2) at 3+4i is 6-8i, as in JAX\'s documentation', async () => {
    const g = (grad((z: KArray) => np.sum(np.square(np.abs(z)))) as (z: KArray) => KArray)(np.array([3, 4], { dtype: 'complex64' }));
    expect(g.dtype).toBe('c64');
    const d = Array.from(await g.data());
    expect(Math.abs(d[0] - 6)).toBeLessThan(1e-5);
    expect(Math.abs(d[1] + 8)).toBeLessThan(1e-5);
    // Through real and imag: x^2 + y^2 gives the same.
    const g2 = (grad((z: KArray) => np.sum(np.real(z).mul(np.real(z)).add(np.imag(z).mul(np.imag(z))))) as (z: KArray) => KArray)(np.array([3, 4], { dtype: 'complex64' }));
    expect(Array.from(await g2.data())).toEqual([6, -8]);
  });

  const z6 = ctensor([6], 61), z5 = ctensor([5], 62), z23 = ctensor([2, 3], 63), r6 = rtensor([6], 64), r7 = rtensor([7], 65), r23 = rtensor([2, 3], 66);
  const cases: [string, (x: KArray) => KArray, { make: () => KArray }][] = [
    ['abs', (z) => np.abs(z), z5],
    ['real, imag, conj', (z) => np.real(z).mul(np.imag(np.conj(z))), z5],
    ['multiply, divide, exp', (z) => np.exp(z.mul(z).div(z.add(2))), z5],
    ['log, sqrt, sin, cos, tanh', (z) => np.log(np.sqrt(z.add(3))).add(np.sin(z)).mul(np.cos(z)).add(np.tanh(z)), z5],
    ['angle', (z) => np.angle(z.add(0.3)), z5],
    ['lax.complex of a real input', (x) => np.exp(lax.complex(x, np.sin(x))), r6],
    ['astype complex64 of a real input', (x) => np.astype(x, 'complex64').mul(np.array([1, 2], { dtype: 'complex64' })), r6],
    ['fft', (z) => np.fft.fft(z), z6],
    ['abs(fft) of an odd length', (z) => np.abs(np.fft.fft(z)), z5],
    ['fft with n padding', (z) => np.fft.fft(z, 8), z5],
    ['ifft ortho', (z) => np.fft.ifft(z, { norm: 'ortho' }), z6],
    ['fft of a real input', (x) => np.fft.fft(x), r7],
    ['rfft even', (x) => np.fft.rfft(x), r6],
    ['rfft odd', (x) => np.fft.rfft(x), r7],
    ['irfft even', (z) => np.fft.irfft(z), z5],
    ['irfft odd n', (z) => np.fft.irfft(z, 9), z5],
    ['hfft', (z) => np.fft.hfft(z), z5],
    ['ihfft', (x) => np.fft.ihfft(x), r7],
    ['fft2', (z) => np.fft.fft2(z), z23],
    ['rfft2', (x) => np.fft.rfft2(x), r23],
    ['irfftn axes 0 and 1', (z) => np.fft.irfftn(z, [2, 4]), z23],
    ['fftn over axis 0 (transposed)', (z) => np.fft.fftn(z, { axes: [0] }), z23],
  ];
  for (const [name, f, input] of cases) it(name, () => expectGradLikeJax((x) => weighted(f(x)), input, name));

  it('jvp of fft and rfft is the transform of the tangent (linear), against central differences', async () => {
    const x = r6.make(), t = rtensor([6], 67).make();
    const [y, ty] = jvp((v: KArray) => np.fft.rfft(v), [x], [t]) as [KArray, KArray];
    expect(y.dtype).toBe('c64');
    const h = 1e-2;
    const up = np.fft.rfft(x.add(t.mul(h))), dn = np.fft.rfft(x.sub(t.mul(h)));
    const fd = Array.from(await up.sub(dn).div(2 * h).data());
    const got = Array.from(await ty.data());
    fd.forEach((w, i) => expect(Math.abs(got[i] - w), `[${i}]`).toBeLessThanOrEqual(1e-2 + 1e-2 * Math.abs(w)));
    const z = z6.make(), tz = ctensor([6], 68).make();
    const [, tf] = jvp((v: KArray) => np.abs(np.fft.fft(v)), [z], [tz]) as [KArray, KArray];
    const fd2 = Array.from(await np.abs(np.fft.fft(z.add(tz.mul(h)))).sub(np.abs(np.fft.fft(z.sub(tz.mul(h))))).div(2 * h).data());
    const got2 = Array.from(await tf.data());
    fd2.forEach((w, i) => expect(Math.abs(got2[i] - w), `abs(fft)[${i}]`).toBeLessThanOrEqual(1e-2 + 1e-2 * Math.abs(w)));
  });

  it('refuses grad of a complex output as JAX does, and differentiates complex outputs through vjp', async () => {
    let thrown: unknown;
    try { grad((z: KArray) => np.sum(z))(np.array([1, 2], { dtype: 'complex64' })); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(KilnError);
    expect(String((thrown as Error).message)).toMatch(/grad requires real-valued outputs \(output dtype that is a sub-dtype of np\.floating\), but got complex64/);
    expect(String((thrown as Error).message)).toMatch(/library-fft\.test\.ts:\d+/);
    // vjp of z -> fft(z) pulls a cotangent back with the FFT (the DFT matrix is symmetric).
    const z = z6.make();
    const [, pull] = vjp((v: KArray) => np.fft.fft(v), z) as [KArray, (ct: KArray) => KArray[]];
    const ct = ctensor([6], 69);
    await expectComplex(pull(ct.make())[0], refFft(ct.ref, null, -1, false), 'vjp fft');
  });
});

// ---- JAX fixtures --------------------------------------------------------------------------------

const fixture = loadFixture('test/fixtures/jax/library.json');

/** One kiln function per `fft.*`/`complex.*` fixture case, written as scripts/jax/gen_library.py writes the JAX call. */
const fixtureCases: Record<string, Fn> = {
  'fft.fft': (z) => np.fft.fft(z), 'fft.fft:real': (x) => np.fft.fft(x), 'fft.fft:n': (z) => np.fft.fft(z, { n: 5 }),
  'fft.fft:axis0': (z) => np.fft.fft(z, { axis: 0 }), 'fft.fft:ortho': (z) => np.fft.fft(z, { norm: 'ortho' }),
  'fft.ifft': (z) => np.fft.ifft(z), 'fft.ifft:forward': (z) => np.fft.ifft(z, { norm: 'forward' }),
  'fft.rfft': (x) => np.fft.rfft(x), 'fft.rfft:n7': (x) => np.fft.rfft(x, { n: 7 }),
  'fft.irfft': (z) => np.fft.irfft(z), 'fft.irfft:n9': (z) => np.fft.irfft(z, { n: 9 }),
  'fft.fft2': (z) => np.fft.fft2(z), 'fft.ifft2': (z) => np.fft.ifft2(z), 'fft.fftn': (z) => np.fft.fftn(z),
  'fft.ifftn': (z) => np.fft.ifftn(z), 'fft.rfft2': (x) => np.fft.rfft2(x), 'fft.irfft2': (z) => np.fft.irfft2(z),
  'fft.rfftn': (x) => np.fft.rfftn(x), 'fft.irfftn': (z) => np.fft.irfftn(z, { s: [3, 6] }),
  'fft.hfft': (z) => np.fft.hfft(z), 'fft.ihfft': (x) => np.fft.ihfft(x),
  'fft.fftfreq': () => np.fft.fftfreq(7, 0.5), 'fft.rfftfreq': () => np.fft.rfftfreq(8, 0.25),
  'fft.fftshift': (x) => np.fft.fftshift(x), 'fft.ifftshift': (x) => np.fft.ifftshift(x, { axes: 1 }),
  'complex.real': (z) => np.real(z), 'complex.imag': (z) => np.imag(z), 'complex.conj': (z) => np.conj(z),
  'complex.abs': (z) => np.abs(z), 'complex.angle': (z) => np.angle(z), 'complex.multiply': np.multiply,
  'complex.divide': np.divide, 'complex.addReal': np.add, 'complex.exp': (z) => np.exp(z), 'complex.log': (z) => np.log(z),
  'complex.sqrt': (z) => np.sqrt(z), 'complex.matmul': np.matmul, 'complex.sum': (z) => np.sum(z, 1),
  'complex.laxComplex': (x, y) => lax.complex(x, y),
  'grad.fft.rfftPower': (x) => grad((v: KArray) => np.sum(np.square(np.abs(np.fft.rfft(v))).mul(np.arange(5).astype('float32'))))(x),
  'grad.fft.fftReal': (x) => grad((v: KArray) => np.sum(np.real(np.fft.fft(v)).mul(np.arange(8).astype('float32'))))(x),
  'grad.complex.abs': (z) => grad((v: KArray) => np.sum(np.square(np.abs(v))))(z),
};
const fixtureNames = Object.keys(fixture.cases).filter((k) => /^(fft|complex|grad\.fft|grad\.complex)\./.test(k));

describe('library fixtures: np.fft and complex64 against JAX', () => {
  it('every fft/complex fixture case has a kiln version (none is refused)', () => {
    expect(fixtureNames.length).toBeGreaterThan(30);
    expect(fixtureNames.filter((k) => !(k in fixtureCases))).toEqual([]);
  });
  for (const name of fixtureNames) {
    const c = fixture.cases[name];
    it(name, async () => {
      // Complex values in the inputs or output, or inside (a gradient through an FFT).
      const complex = JSON.stringify([c.inputs, c.output]).includes('"c64"') || name.startsWith('grad.');
      await everywhere(fixtureCases[name], () => c.inputs.map(toKiln), (r, where) => compare(r, c.output!, `${name} (${where})`), complex);
    });
  }
});
