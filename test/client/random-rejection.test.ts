/**
 * @file The rejection samplers of client/random/gamma.ts and the igamma family of
 * client/lax/special.ts beyond the JAX fixtures (test/client/library-nn-random-lax.test.ts):
 * moments of 10k draws against the distributions' closed forms; gradients against central finite
 * differences of an independent float64 regularized incomplete gamma function written here
 * (series and continued fraction, Numerical Recipes §6.2); the same draws on WebGPU as on the
 * reference device for both branches of every sampler (tiny shapes); vmap of gamma equal to the
 * per-key draws; lax.sort with several keys and np.lexsort against a stable JS sort; and the same
 * calls as the JAX programs of test/fixtures/jax-programs that use them (gamma with alpha below 1,
 * beta, poisson, dirichlet, grad through gamma, a two-key sort), through kiln's API, against JAX's
 * outputs recorded there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, jvp, KilnError, lax, nn, np, random, setDefaultDevice, vmap, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln, type FixtureCase } from '../helpers/jax-fixtures.js';

// ---- float64 references, independent of kiln -----------------------------------------------------
/** log Gamma(z) for z > 0 (Lanczos, g = 7, n = 9). */
function lgamma64(z: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lgamma64(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < 9; i++) x += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}
/** The regularized lower incomplete gamma function P(a, x) in float64. */
function igamma64(a: number, x: number): number {
  if (x <= 0) return 0;
  const lead = a * Math.log(x) - x - lgamma64(a);
  if (x < a + 1) {
    let sum = 1 / a, term = 1 / a;
    for (let n = 1; n < 10000 && Math.abs(term) > Math.abs(sum) * 1e-17; n++) { term *= x / (a + n); sum += term; }
    return sum * Math.exp(lead);
  }
  // Lentz's continued fraction for Q(a, x).
  let b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b; if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c; if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return 1 - Math.exp(lead) * h;
}
/** dP/da by central differences of the float64 P. */
const dPda = (a: number, x: number) => (igamma64(a + 1e-5, x) - igamma64(a - 1e-5, x)) / 2e-5;
/** dP/dx in closed form: x^(a-1) e^-x / Gamma(a). */
const dPdx = (a: number, x: number) => Math.exp((a - 1) * Math.log(x) - x - lgamma64(a));
/** The implicit reparameterization derivative of a Gamma(a, 1) sample x: -(dP/da) / (dP/dx). */
const sampleGrad = (a: number, x: number) => -dPda(a, x) / dPdx(a, x);

const data = async (x: unknown) => Array.from(await (x as KArray).data());
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const variance = (v: number[]) => { const m = mean(v); return v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length; };
const close = (got: number, want: number, tol: number, what: string) => expect(Math.abs(got - want), `${what}: ${got}, expected ${want} ± ${tol}`).toBeLessThanOrEqual(tol);

/** Digamma and trigamma in float64: recurrence up to x >= 8, then the asymptotic series. */
function digamma64(x: number): number {
  let acc = 0;
  for (; x < 8; x++) acc -= 1 / x;
  const x2 = 1 / (x * x);
  return acc + Math.log(x) - 0.5 / x - x2 * (1 / 12 - x2 * (1 / 120 - x2 / 252));
}
function trigamma64(x: number): number {
  let acc = 0;
  for (; x < 8; x++) acc += 1 / (x * x);
  const x2 = 1 / (x * x);
  return acc + 1 / x + x2 / 2 + (x2 / x) * (1 / 6 - x2 * (1 / 30 - x2 / 42));
}

const N = 10000;
/**
 * Checks the mean and variance of N draws within 5 standard errors: the sample variance's standard
 * error is s2 sqrt((kurtosis - 1) / N), so heavy-tailed laws pass their kurtosis.
 */
function moments(v: number[], m: number, s2: number, what: string, kurtosis = 3): void {
  expect(v.every(Number.isFinite), `${what}: every draw finite`).toBe(true);
  close(mean(v), m, 5 * Math.sqrt(s2 / N), `${what} mean`);
  close(variance(v), s2, 5 * s2 * Math.sqrt((kurtosis - 1) / N), `${what} variance`);
}

describe('moments of 10k draws (WebGPU: whose draws equal the reference device draws, checked below on tiny shapes)', () => {
  beforeAll(async () => { setDefaultDevice((await devicesUnderTest()).find(([name]) => name === 'webgpu')![1]); });
  afterAll(() => setDefaultDevice('reference'));
  // Arrays are made in the tests, on the device the hooks chose.
  const key = () => random.key(20261202);
  it('gamma, on both sides of the alpha < 1 boost, and loggamma', async () => {
    for (const a of [0.3, 1, 2.5, 9]) moments(await data(random.gamma(key(), a, [N])), a, a, `gamma(${a})`, 3 + 6 / a);
    // log Gamma(a) has cumulants psi(a), psi'(a), ...; its kurtosis stays near 9 as a -> 0.
    moments(await data(random.loggamma(key(), 0.05, [N])), digamma64(0.05), trigamma64(0.05), 'loggamma(0.05)', 9);
  });
  it('beta, dirichlet, chisquare, t, f, wald, generalizedNormal', async () => {
    moments(await data(random.beta(key(), 2, 3, [N])), 0.4, 0.04, 'beta(2, 3)');
    const d = await data(random.dirichlet(key(), np.array([1, 2, 3]), [N]));
    [1, 2, 3].forEach((ai, i) => moments(d.filter((_, j) => j % 3 === i), ai / 6, (ai * (6 - ai)) / (36 * 7), `dirichlet[${i}]`, 5));
    for (let r = 0; r < N; r++) close(d[3 * r] + d[3 * r + 1] + d[3 * r + 2], 1, 1e-5, `dirichlet row ${r} sum`);
    moments(await data(random.chisquare(key(), 3, [N])), 3, 6, 'chisquare(3)', 7);
    moments(await data(random.t(key(), 5, [N])), 0, 5 / 3, 't(5)', 9);
    close(mean(await data(random.f(key(), 5, 10, [N]))), 10 / 8, 0.05, 'f(5, 10) mean');
    moments(await data(random.wald(key(), 2, [N])), 2, 8, 'wald(2)', 33);
    moments(await data(random.generalizedNormal(key(), 2, [N])), 0, 0.5, 'generalizedNormal(2)');
    moments(await data(random.generalizedNormal(key(), 1, [N])), 0, 2, 'generalizedNormal(1)', 6);
  });
  it('poisson by Knuth (lam < 10) and by rejection (lam >= 10), lam = 0', async () => {
    for (const lam of [0.5, 4, 9.9, 10, 30, 200]) {
      const v = await data(random.poisson(key(), lam, [N]));
      expect(v.every((x) => Number.isInteger(x) && x >= 0), `poisson(${lam}) draws are counts`).toBe(true);
      moments(v, lam, lam, `poisson(${lam})`, 3 + 1 / lam);
    }
    expect(await data(random.poisson(key(), 0, [5]))).toEqual([0, 0, 0, 0, 0]);
  });
  it('binomial by inversion (n p <= 10) and by BTRS, p above 1/2 by symmetry; multinomial rows sum to n', async () => {
    for (const [n, q] of [[5, 0.3], [100, 0.4], [100, 0.8], [1000, 0.05]]) {
      const v = await data(random.binomial(key(), n, q, [N]));
      expect(v.every((x) => Number.isInteger(x) && x >= 0 && x <= n), `binomial(${n}, ${q}) draws are counts up to n`).toBe(true);
      moments(v, n * q, n * q * (1 - q), `binomial(${n}, ${q})`, 3 + (1 - 6 * q * (1 - q)) / (n * q * (1 - q)));
    }
    const m = await data(random.multinomial(key(), 10, np.array([0.2, 0.5, 0.3]), [N, 3]));
    [0.2, 0.5, 0.3].forEach((q, i) => moments(m.filter((_, j) => j % 3 === i), 10 * q, 10 * q * (1 - q), `multinomial[${i}]`, 3 + (1 - 6 * q * (1 - q)) / (10 * q * (1 - q))));
    expect(Array.from({ length: N }, (_, r) => m[3 * r] + m[3 * r + 1] + m[3 * r + 2]).every((t) => t === 10)).toBe(true);
  });
  it('ball: inside the unit ball, with the uniform radius law P(|x| <= r) = r^d', async () => {
    for (const p of [2, 1]) {
      const v = await data(random.ball(key(), 3, p, [N]));
      const norms = Array.from({ length: N }, (_, i) => (p === 2 ? Math.hypot(v[3 * i], v[3 * i + 1], v[3 * i + 2]) : Math.abs(v[3 * i]) + Math.abs(v[3 * i + 1]) + Math.abs(v[3 * i + 2])));
      expect(Math.max(...norms), `ball p=${p}`).toBeLessThanOrEqual(1);
      close(norms.filter((r) => r <= 0.5).length / N, 0.125, 5 * Math.sqrt((0.125 * 0.875) / N), `ball p=${p}: P(|x| <= 0.5)`);
    }
  });
});

describe('gradients against finite differences of a float64 igamma', () => {
  beforeAll(() => setDefaultDevice('reference'));
  const alphas = [0.3, 0.8, 1.5, 2.5, 7];
  it('grad through gamma, loggamma and chisquare: the implicit reparameterization -(dP/da) / (dP/dx)', async () => {
    const key = random.key(7);
    const a = np.array(Float32Array.from(alphas));
    const s = await data(random.gamma(key, a));
    const g = await data(grad((v: KArray) => np.sum(random.gamma(key, v)))(a));
    const gj = await data(jit(grad((v: KArray) => np.sum(random.gamma(key, v))))(a));
    const gl = await data(grad((v: KArray) => np.sum(random.loggamma(key, v)))(a));
    alphas.forEach((ai, i) => {
      const want = sampleGrad(ai, s[i]);
      close(g[i], want, 1e-3 + 1e-3 * Math.abs(want), `d gamma(${ai}) / da at ${s[i]}`);
      close(gj[i], want, 1e-3 + 1e-3 * Math.abs(want), `jit: d gamma(${ai}) / da`);
      close(gl[i], want / s[i], 1e-3 + 1e-3 * Math.abs(want / s[i]), `d loggamma(${ai}) / da`);
    });
    // chisquare(df) = 2 Gamma(df / 2): d/d(df) = dGamma/da at a = df / 2.
    const df = np.array(Float32Array.from(alphas.map((x) => 2 * x)));
    const c = await data(random.chisquare(key, df));
    const gc = await data(grad((v: KArray) => np.sum(random.chisquare(key, v)))(df));
    alphas.forEach((ai, i) => { const want = sampleGrad(ai, c[i] / 2); close(gc[i], want, 2e-3 + 2e-3 * Math.abs(want), `d chisquare(${2 * ai}) / d df`); });
  });
  it('lax.randomGammaGrad, lax.igammaGradA, and grad of lax.igamma / lax.igammac in a and x', async () => {
    const as = [0.3, 0.8, 1.5, 2.5, 7, 0.5, 3, 12];
    const xs = [0.05, 2.5, 0.7, 4, 6.5, 1.2, 0.4, 15];
    const A = np.array(Float32Array.from(as)), X = np.array(Float32Array.from(xs));
    const rg = await data(lax.randomGammaGrad(A, X));
    const ga = await data(lax.igammaGradA(A, X));
    const [pa, px] = (grad((a: KArray, x: KArray) => np.sum(lax.igamma(a, x)), { argnums: [0, 1] })(A, X) as KArray[]);
    const [qa, qx] = (grad((a: KArray, x: KArray) => np.sum(lax.igammac(a, x)), { argnums: [0, 1] })(A, X) as KArray[]);
    const [pav, pxv, qav, qxv] = await Promise.all([pa, px, qa, qx].map(data));
    const p = await data(lax.igamma(A, X)), q = await data(lax.igammac(A, X));
    as.forEach((a, i) => {
      const x = xs[i], tol = (w: number) => 1e-4 + 1e-3 * Math.abs(w);
      close(p[i], igamma64(a, x), 2e-6, `igamma(${a}, ${x})`);
      close(q[i], 1 - igamma64(a, x), 2e-6, `igammac(${a}, ${x})`);
      close(rg[i], sampleGrad(a, x), tol(sampleGrad(a, x)), `randomGammaGrad(${a}, ${x})`);
      close(ga[i], dPda(a, x), tol(dPda(a, x)), `igammaGradA(${a}, ${x})`);
      close(pav[i], dPda(a, x), tol(dPda(a, x)), `d igamma / da (${a}, ${x})`);
      close(pxv[i], dPdx(a, x), tol(dPdx(a, x)), `d igamma / dx (${a}, ${x})`);
      close(qav[i], -dPda(a, x), tol(dPda(a, x)), `d igammac / da (${a}, ${x})`);
      close(qxv[i], -dPdx(a, x), tol(dPdx(a, x)), `d igammac / dx (${a}, ${x})`);
    });
  });
  it('igamma edge values as JAX: x = 0, x = inf, a or x negative, NaN', async () => {
    const A = np.array(Float32Array.from([2, 2, -1, 2, NaN, 0]));
    const X = np.array(Float32Array.from([0, Infinity, 1, -1, 1, 1]));
    const p = await data(lax.igamma(A, X)), q = await data(lax.igammac(A, X));
    expect(p.slice(0, 2)).toEqual([0, 1]);
    expect(q.slice(0, 2)).toEqual([1, 0]);
    expect(p.slice(2, 5).every(Number.isNaN) && q.slice(2, 5).every(Number.isNaN)).toBe(true);
    expect([p[5], q[5]]).toEqual([1, 0]);
  });
});

describe('the same draws on every device (both branches of each sampler, tiny shapes)', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));
  it('gamma, loggamma, poisson, beta, igamma, randomGammaGrad, binomial', async () => {
    const run = async () => {
      const key = random.key(99);
      const alphas = np.array(Float32Array.from([0.2, 0.9, 1, 3.5, 40, 0.05]));
      const lams = np.array(Float32Array.from([0, 0.3, 4, 9.99, 10, 75]));
      return [
      await data(random.gamma(key, alphas)), await data(random.loggamma(key, alphas)), await data(random.poisson(key, lams)),
      await data(random.beta(key, alphas, 2)), await data(lax.igamma(alphas, np.abs(lams).mul(0.1))),
      await data(jit((a: KArray) => lax.randomGammaGrad(a, random.gamma(key, a)))(alphas)),
      await data(random.binomial(key, np.array(Float32Array.from([3, 40, 200, 50, 7, 1000])), np.array(Float32Array.from([0.5, 0.1, 0.3, 0.9, 0.2, 0.02])))),
      ];
    };
    const results: number[][][] = [];
    for (const [, d] of devices) { setDefaultDevice(d); results.push(await run()); }
    for (let k = 1; k < results.length; k++) {
      results[k].forEach((r, j) => r.forEach((v, i) => close(v, results[0][j][i], 1e-5 + 1e-4 * Math.abs(results[0][j][i]), `${devices[k][0]} vs reference: result ${j}[${i}]`)));
    }
  });
});

describe('orthogonal (Gram-Schmidt for the QR kiln does not have yet)', () => {
  beforeAll(() => setDefaultDevice('reference'));
  /** max |A^T A - I| over the columns of each [rows, cols] matrix in a row-major batch. */
  function gramError(v: number[], batch: number, rows: number, cols: number): number {
    let worst = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < cols; j++) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += v[b * rows * cols + r * cols + i] * v[b * rows * cols + r * cols + j];
          worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
        }
      }
    }
    return worst;
  }
  const transpose = (v: number[], batch: number, rows: number, cols: number) =>
    Array.from({ length: v.length }, (_, t) => { const b = Math.floor(t / (rows * cols)), c = Math.floor((t % (rows * cols)) / rows), r = t % rows; return v[b * rows * cols + r * cols + c]; });
  it('batched square, wide and tall draws are (semi-)orthogonal; the initializer along column axis 0', async () => {
    const key = random.key(3);
    expect(gramError(await data(random.orthogonal(key, 6, [2])), 2, 6, 6)).toBeLessThan(1e-5);
    const wide = await data(random.orthogonal(key, 2, [3], null, 5));
    expect(gramError(transpose(wide, 3, 2, 5), 3, 5, 2), 'rows of a 2 x 5 draw').toBeLessThan(1e-5);
    expect(gramError(await data(random.orthogonal(key, 5, [], null, 2)), 1, 5, 2), 'columns of a 5 x 2 draw').toBeLessThan(1e-5);
    // Shape [3, 2, 4] with columns on axis 0: the 8 x 3 matrix of the other axes is column-orthogonal, times scale.
    const w = await data(random.orthogonal(key, 2));
    expect(gramError(w, 1, 2, 2)).toBeLessThan(1e-5);
    const init = await data(nn.initializers.orthogonal(2, 0)(key, [3, 2, 4]).reshape([3, 8]).transpose());
    expect(gramError(init.map((x) => x / 2), 1, 8, 3), 'orthogonal(2, 0) of [3, 2, 4]').toBeLessThan(1e-5);
  });
  it('min(n, m) above 32 is a KilnError naming this file', () => {
    let thrown: unknown;
    try { random.orthogonal(random.key(0), 33); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(KilnError);
    expect(String((thrown as Error).message)).toMatch(/random-rejection\.test\.ts:\d+/);
  });
});

describe('vmap and refusals', () => {
  beforeAll(() => setDefaultDevice('reference'));
  it('vmap of gamma over keys equals the draws of each key', async () => {
    const keys = random.split(random.key(5), 3);
    const batched = await data(vmap((k: KArray) => random.gamma(k, 0.7, [4]))(keys));
    for (let i = 0; i < 3; i++) expect(batched.slice(4 * i, 4 * i + 4)).toEqual(await data(random.gamma(keys.slice([i, i + 1]).reshape([2]), 0.7, [4])));
  });
  it('jvp of gamma gives the same implicit derivative as grad, and vmap of grad works', async () => {
    const key = random.key(3);
    const a = np.array([0.5, 2.5]);
    const [, t] = jvp((v: KArray) => random.gamma(key, v), [a], [np.ones([2])]) as KArray[];
    const g = await data(grad((v: KArray) => np.sum(random.gamma(key, v)))(a));
    expect(await data(t)).toEqual(g);
    const vg = await data(vmap(grad((v: KArray) => np.sum(random.gamma(key, v))))(np.array([[0.5, 2.5], [0.5, 2.5]])));
    expect(vg).toEqual([...g, ...g]);
  });
  it("method 'approximate', a bad ball p, alpha of rank 0 for dirichlet, f16 igamma: KilnErrors naming this file", () => {
    const key = random.key(0);
    const bad: (() => unknown)[] = [
      () => random.gamma(key, 1, [2], null, 'approximate'),
      () => random.ball(key, 3, -1),
      () => random.dirichlet(key, np.array(1)),
      () => lax.igamma(np.ones([2], 'int32'), np.ones([2], 'int32')),
      () => lax.igamma(np.ones([2]), np.ones([3])),
    ];
    for (const f of bad) {
      let thrown: unknown;
      try { f(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(KilnError);
      expect(String((thrown as Error).message)).toMatch(/random-rejection\.test\.ts:\d+/);
    }
  });
});

describe('lax.sort with several keys, np.lexsort', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));
  /** The stable lexicographic order of rows (k0, k1, ...) in JS, NaNs last and equal to one another. */
  function jsOrder(keys: number[][]): number[] {
    const cmp = (x: number, y: number) => (Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : Number.isNaN(y) ? -1 : x < y ? -1 : x > y ? 1 : 0);
    return keys[0].map((_, i) => i).sort((i, j) => { for (const k of keys) { const c = cmp(k[i], k[j]); if (c) return c; } return i - j; });
  }
  it('numKeys 2 and 3 order lexicographically and stably; later operands ride along', async () => {
    const k0 = [2, 1, 2, 1, 0, 2, 1, NaN, 2, NaN];
    const k1 = [3, 3, 1, 3, 5, 1, -0, 1, 3, 0];
    const k2 = [0, 1, 1, 0, 2, 0, 0, 0, 1, 0];
    const vals = k0.map((_, i) => i);
    for (const [dname, d] of devices) {
      setDefaultDevice(d);
      const [a, b, c, v] = [k0, k1, k2, vals].map((x, i) => np.array(i === 3 ? Int32Array.from(x) : Float32Array.from(x)));
      for (const numKeys of [2, 3]) {
        const want = jsOrder([k0, k1, k2].slice(0, numKeys));
        for (const f of [(...x: KArray[]) => lax.sort(x, 0, true, numKeys), jit((...x: KArray[]) => lax.sort(x, { numKeys }))]) {
          const out = f(a, b, c, v) as KArray[];
          expect(await data(out[3]), `${dname} numKeys ${numKeys}`).toEqual(want);
          expect(await data(out[1]), `${dname} numKeys ${numKeys} key 1`).toEqual(want.map((i) => k1[i]));
        }
      }
      // np.lexsort sorts by the last key first.
      expect(await data(np.lexsort([c, b])), `${dname} lexsort`).toEqual(jsOrder([k1, k2]));
    }
  });
  it('numKeys beyond the operands is a KilnError naming this file', () => {
    let thrown: unknown;
    try { lax.sort([np.ones([3])], 0, true, 2); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(KilnError);
    expect(String((thrown as Error).message)).toMatch(/random-rejection\.test\.ts:\d+/);
  });
});

describe("kiln's API against the JAX programs' recorded outputs", () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));
  const program = (name: string) => loadFixture(`test/fixtures/jax-programs/${name}.json`) as unknown as FixtureCase & { outputs: FixtureCase['output'][] };
  const calls: Record<string, (...a: KArray[]) => unknown> = {
    random_gamma_beta: (k) => [random.gamma(k, np.array([0.5, 1, 3])), random.beta(k, 2, 3, [4])],
    random_poisson_dirichlet: (k) => [random.poisson(k, 3, [5]), random.dirichlet(k, np.array([1, 2, 0.5]))],
    random_gamma_grad: (a, k) => grad((v: KArray) => np.sum(random.gamma(k, v)))(a),
    sort_2d_multi: (a, b) => [np.sort(a, 0), np.argsort(a, 1), ...(lax.sort([b, a], -1, true, 2) as KArray[])],
  };
  for (const [name, f] of Object.entries(calls)) {
    it(name, async () => {
      const c = program(name);
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        const out = f(...(c.inputs.map(toKiln) as KArray[]));
        await compare(Array.isArray(out) ? out : [out], c.outputs as never, `${name} (${dname})`);
      }
    });
  }
});
