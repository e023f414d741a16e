/**
 * @file np.linalg's QR, eigh and SVD against JAX: the library.json cases `linalg.qr`, `eigh`,
 * `eigvalsh`, `svd`, `svdvals`, `norm:nuc` and `matrixNorm:nuc`, eagerly and under `jit`, on the reference device and on WebGPU.
 * Eigenvectors and singular vectors are defined only up to the sign of each column (LAPACK's sign
 * falls out of its algorithm): they are compared after flipping kiln's columns (and Vh's rows with
 * U's columns) to JAX's sign; values, Q, R and the reconstruction U·diag(s)·Vh match as they are.
 * `lower()` prints the LAPACK calls JAX's CPU lowering prints. eigh's gradient (JAX's eigh_jvp_rule
 * transposed) is checked against JAX and finite differences; svd's is in library-linalg-lstsq.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, lower, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { KilnError } from '../../ir/errors.js';
import { devicesUnderTest } from './helpers.js';
import { loadFixture, toKiln } from '../helpers/jax-fixtures.js';

const fixture = loadFixture('test/fixtures/jax/library.json');
const L = np.linalg;

type Out = { shape: number[]; data: ArrayLike<number | null> };
const outs = (o: unknown): Out[] => (Array.isArray(o) ? o : [o]) as Out[];

/** Flips column j of a (rows×cols) to the sign of `want`'s column j; returns the flips. */
function alignColumns(got: Float32Array, want: ArrayLike<number | null>, rows: number, cols: number, flips?: boolean[]): boolean[] {
  const out: boolean[] = [];
  for (let j = 0; j < cols; j++) {
    let dot = 0;
    for (let i = 0; i < rows; i++) dot += got[i * cols + j] * Number(want[i * cols + j]);
    const flip = flips ? flips[j] ?? dot < 0 : dot < 0;
    if (flip) for (let i = 0; i < rows; i++) got[i * cols + j] = -got[i * cols + j];
    out.push(flip);
  }
  return out;
}

async function expectClose(got: KArray, want: Out, what: string, align?: (g: Float32Array) => void): Promise<void> {
  expect(got.shape, what).toEqual(want.shape);
  const g = Float32Array.from(await got.data() as Float32Array);
  align?.(g);
  for (let i = 0; i < g.length; i++) {
    const w = Number(want.data[i]);
    expect(Math.abs(g[i] - w), `${what}[${i}]: ${g[i]} vs ${w}`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(w));
  }
}

describe('JAX fixtures: np.linalg qr, eigh, eigvalsh, svd, svdvals', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  const run = async (name: string, f: (a: KArray) => KArray | KArray[], check: (r: KArray[], want: Out[], what: string) => Promise<void>) => {
    const c = fixture.cases[name];
    for (const [dname, d] of devices) {
      setDefaultDevice(d);
      for (const [mode, g] of [['eager', f], ['jit', jit(f)]] as const) {
        const r = g(toKiln(c.inputs[0]) as KArray);
        await check(Array.isArray(r) ? r : [r], outs(c.output), `${name} (${dname}, ${mode})`);
      }
    }
  };

  it('linalg.qr: Q and R exactly (LAPACK reflector signs)', () => run('linalg.qr', (a) => L.qr(a), async ([q, r], [wq, wr], w) => {
    await expectClose(q, wq, `${w} Q`);
    await expectClose(r, wr, `${w} R`);
  }));

  it('linalg.eigh: eigenvalues exactly, eigenvectors up to column sign', () => run('linalg.eigh', (a) => L.eigh(a), async ([w, v], [ww, wv], what) => {
    await expectClose(w, ww, `${what} w`);
    const n = v.shape[1];
    await expectClose(v, wv, `${what} v`, (g) => alignColumns(g, wv.data, n, n));
  }));

  it('linalg.eigvalsh', () => run('linalg.eigvalsh', (a) => L.eigvalsh(a), async ([w], [ww], what) => expectClose(w, ww, what)));

  it('linalg.svdvals', () => run('linalg.svdvals', (a) => L.svdvals(a), async ([s], [ws], what) => expectClose(s, ws, what)));

  it('linalg.svd: s exactly; U and Vh up to one sign per singular vector', () => {
    const want = outs(fixture.cases['linalg.svd'].output);
    return run('linalg.svd', (a) => L.svd(a, want[0].shape[1] === want[0].shape[0]) as KArray[], async ([u, s, vh], [wu, ws, wvh], what) => {
      await expectClose(s, ws, `${what} s`);
      const [m, uc] = u.shape;
      const [vr, n] = vh.shape;
      let flips: boolean[] = [];
      await expectClose(u, wu, `${what} U`, (g) => { flips = alignColumns(g, wu.data, m, uc); });
      // Row j of Vh flips with column j of U.
      await expectClose(vh, wvh, `${what} Vh`, (g) => {
        for (let j = 0; j < vr; j++) if (flips[j]) for (let i = 0; i < n; i++) g[j * n + i] = -g[j * n + i];
      });
    });
  });

  it('linalg.norm:nuc (the sum of the singular values)', () =>
    run('linalg.norm:nuc', (a) => L.norm(a, 'nuc'), async ([y], [wy], what) => expectClose(y, wy, what)));

  it('linalg.matrixNorm:nuc (np.linalg.matrixNorm, the sum of the singular values)', () =>
    run('linalg.matrixNorm:nuc', (a) => L.matrixNorm(a, false, 'nuc'), async ([y], [wy], what) => expectClose(y, wy, what)));

  it('matrix norms ord 2 and -2: the largest and smallest singular value, over chosen axes, keepdims', async () => {
    setDefaultDevice('reference');
    // diag(3, -2) in axes (0, 2) of a 2×1×2 array: singular values 3 and 2.
    const x = np.array(Float32Array.from([3, 0, 0, -2])).reshape([2, 1, 2]);
    expect(Array.from(await L.norm(x, 2, [0, 2]).data())).toEqual([3]);
    expect(Array.from(await L.norm(x, -2, [0, 2]).data())).toEqual([2]);
    const k = L.norm(x, 'nuc', [0, 2], true);
    expect(k.shape).toEqual([1, 1, 1]);
    expect(Array.from(await k.data())).toEqual([5]);
  });

  it('grad.linalg.eigh: grad of sum(eigvalsh(a)²) (eigh_jvp_rule transposed)', () =>
    run('grad.linalg.eigh', (a) => grad((x: KArray) => np.sum(np.square(L.eigvalsh(x))))(a) as KArray, async ([g], [wg], what) => expectClose(g, wg, what)));

  it('the eigenvector gradient matches central finite differences (a sign-invariant loss)', async () => {
    setDefaultDevice('reference');
    const a0 = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1];
    const weights = np.array(Float32Array.from([1, 2, 3, -1, 0.5, 2, 0.3, -2, 1])).reshape([3, 3]);
    // Squared entries do not change when a column flips sign.
    const loss = (x: KArray) => np.sum(np.add(np.multiply(np.square(L.eigh(x)[1]), weights), L.eigvalsh(x)));
    const g = Array.from(await (grad(loss)(np.array(Float32Array.from(a0)).reshape([3, 3])) as KArray).data());
    for (let i = 0; i < 9; i++) {
      const at = async (d: number) => (await loss(np.array(Float32Array.from(a0.map((v, j) => (j === i ? v + d : v)))).reshape([3, 3])).data())[0];
      const h = 1e-2;
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      expect(Math.abs(g[i] - fd), `d/da[${i}]: grad ${g[i]}, finite differences ${fd}`).toBeLessThanOrEqual(1e-2 + 1e-2 * Math.abs(fd));
    }
  });

  it('reconstructions in f64: Q·R = A, V·diag(w)·Vᵀ = (A + Aᵀ)/2, U·diag(s)·Vh = A (batched 2×3×3)', async () => {
    setDefaultDevice('reference');
    const a = [2, -1, 0.5, 1, 3, -2, 0, 1, 4, 1, 2, 3, -1, 0.5, 2, 0.25, -3, 1];
    const x = np.array(Float32Array.from(a)).reshape([2, 3, 3]);
    const [q, r] = L.qr(x) as KArray[];
    const [w, v] = L.eigh(x);
    const [u, s, vh] = L.svd(x) as KArray[];
    const [Q, R, W, V, U, S, VH] = await Promise.all([q, r, w, v, u, s, vh].map(async (t) => Array.from(await t.data() as Float32Array)));
    for (let b = 0; b < 2; b++) {
      const at = (M: number[], i: number, j: number) => M[b * 9 + i * 3 + j];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        let qr = 0, vwv = 0, usv = 0;
        for (let k = 0; k < 3; k++) {
          qr += at(Q, i, k) * at(R, k, j);
          vwv += at(V, i, k) * W[b * 3 + k] * at(V, j, k);
          usv += at(U, i, k) * S[b * 3 + k] * at(VH, k, j);
        }
        const aij = a[b * 9 + i * 3 + j];
        expect(Math.abs(qr - aij)).toBeLessThan(1e-5);
        expect(Math.abs(vwv - (aij + a[b * 9 + j * 3 + i]) / 2)).toBeLessThan(1e-5);
        expect(Math.abs(usv - aij)).toBeLessThan(1e-5);
      }
    }
  });

  it('lower() prints the LAPACK calls JAX prints; modes and UPLO are checked; gradients are refused by name', () => {
    const x = np.zeros([5, 3]);
    expect(lower((a: KArray) => L.qr(a))(x).text).toMatch(/@lapack_sgeqrf_ffi[\s\S]*@lapack_sorgqr_ffi/);
    expect(lower((a: KArray) => L.svdvals(a))(x).text).toContain('stablehlo.custom_call @lapack_sgesdd_ffi(%arg0) {backend_config = "", mhlo.backend_config = {mode = 78 : ui8}');
    expect(lower((a: KArray) => L.eigvalsh(a))(np.zeros([4, 4])).text).toContain('mhlo.backend_config = {mode = 86 : ui8, uplo = 76 : ui8}');
    expect(() => L.qr(x, 'raw' as never)).toThrow(KilnError);
    expect(() => L.eigh(np.zeros([4, 4]), 'X' as never)).toThrow(KilnError);
    expect(() => L.eigh(x)).toThrow(/square/);
    expect(() => grad((a: KArray) => np.sum((L.svd(a) as KArray[])[0]))(np.eye(3))).toThrow(/@lapack_sgesdd_ffi: the gradient of an SVD with full_matrices=True/);
    // Wide QR has no gradient in JAX either (qr_jvp_rule raises).
    expect(() => grad((a: KArray) => np.sum(L.qr(a, 'r') as KArray))(np.ones([2, 3]))).toThrow(/the gradient of @lapack_s(orgqr|geqrf)_ffi/);
  });
});
