/**
 * @file np.linalg pinv, lstsq and matrixRank, and lax.linalg eigh, svd and qr, against JAX: the
 * library.json cases `linalg.pinv*`, `linalg.lstsq*`, `linalg.matrixRank*`, `lax.linalg.*` and
 * their `grad.` cases (scripts/jax/gen_library.py), eagerly and under `jit`, on the reference
 * device and on WebGPU. Eigenvectors and singular vectors are compared after flipping kiln's
 * columns to JAX's sign (Vh's rows with U's columns); Q and R match as they are (LAPACK's
 * reflectors). Gradients are also checked against central finite differences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, lax, lower, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { KilnError } from '../../ir/errors.js';
import { devicesUnderTest } from './helpers.js';
import { isTensor, loadFixture, num, toKiln, type JTensor, type JTree } from '../helpers/jax-fixtures.js';

const fixture = loadFixture('test/fixtures/jax/library.json');
type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
const L = np.linalg;
// Weights made afresh at each use: an Array outlives neither its device nor a freeing call.
const W43 = () => np.divide(np.arange(1, 13).reshape([4, 3]), 6);
const W34 = () => W43().reshape([3, 4]);
const W33 = () => np.divide(np.arange(1, 10).reshape([3, 3]), 6);

/** Cases whose results are unique: compared entry by entry. */
const plain: Record<string, Fn> = {
  'linalg.pinv': (a) => L.pinv(a),
  'linalg.pinv:rankDeficient': (a) => L.pinv(a),
  'linalg.pinv:rtol': (a) => L.pinv(a, 0.2),
  'linalg.pinv:hermitian': (a) => L.pinv(a, null, true),
  'linalg.pinv:batched': (a) => L.pinv(a),
  // The library's first lstsq case records x alone.
  'linalg.lstsq': (a, b) => L.lstsq(a, b)[0],
  'linalg.lstsq:tuple': (a, b) => L.lstsq(a, b),
  'linalg.lstsq:vector': (a, b) => L.lstsq(a, b),
  'linalg.lstsq:rankDeficient': (a, b) => L.lstsq(a, b),
  'linalg.lstsq:rcond': (a, b) => L.lstsq(a, b, 0.1),
  'linalg.lstsq:wide': (a, b) => L.lstsq(a, b),
  'linalg.matrixRank': (a) => L.matrixRank(a),
  'linalg.matrixRank:rankDeficient': (a) => L.matrixRank(a),
  'linalg.matrixRank:rtol': (a) => L.matrixRank(a, 1),
  'linalg.matrixRank:batched': (a) => L.matrixRank(a),
  'linalg.matrixRank:vector': (a) => L.matrixRank(a),
  'lax.linalg.svd:values': (a) => lax.linalg.svd(a, { computeUv: false }),
  'linalg.svd:hermitianValues': (a) => L.svd(a, true, false, true),
  'lax.linalg.qr': (a) => lax.linalg.qr(a),
  'lax.linalg.qr:reduced': (a) => lax.linalg.qr(a, { fullMatrices: false }),
  'grad.linalg.pinv': (a) => grad((x: KArray) => np.sum(np.multiply(L.pinv(x), W34())))(a),
  'grad.linalg.lstsq': (a, b) => grad((x: KArray, y: KArray) => np.sum(np.multiply(L.lstsq(x, y)[0], np.arange(1, 4))), { argnums: [0, 1] })(a, b),
  'grad.linalg.svdvals': (a) => grad((x: KArray) => np.sum(np.multiply(L.svdvals(x), np.arange(1, 4))))(a),
  'grad.linalg.svd': (a) => grad((x: KArray) => {
    const [u, s, vh] = L.svd(x, false) as KArray[];
    return np.add(np.add(np.sum(np.multiply(np.square(u), W43())), np.sum(s)), np.sum(np.multiply(np.square(vh), W33())));
  })(a),
  'grad.linalg.svd:wide': (a) => grad((x: KArray) => {
    const [u, s, vh] = L.svd(x, false) as KArray[];
    return np.add(np.add(np.sum(np.multiply(np.square(u), W33())), np.sum(np.square(s))), np.sum(np.multiply(np.square(vh), W34())));
  })(a),
  'grad.linalg.qr': (a) => grad((x: KArray) => {
    const [q, r] = L.qr(x) as KArray[];
    return np.add(np.sum(np.multiply(np.sin(q), W43())), np.sum(np.multiply(r, W33())));
  })(a),
  'grad.linalg.qr:square': (a) => grad((x: KArray) => {
    const [q, r] = L.qr(x) as KArray[];
    return np.add(np.sum(np.sin(q)), np.sum(np.square(r)));
  })(a),
};

/** lax.linalg's decompositions with sign-ambiguous vectors: [function, which results are column-vector matrices, which row-vector ones]. */
const signed: Record<string, Fn> = {
  'lax.linalg.eigh': (a) => lax.linalg.eigh(a),
  'lax.linalg.eigh:upper': (a) => lax.linalg.eigh(a, { lower: false, symmetrizeInput: false }),
  'lax.linalg.svd': (a) => lax.linalg.svd(a),
  'lax.linalg.svd:reduced': (a) => lax.linalg.svd(a, { fullMatrices: false }),
  'linalg.svd:hermitian': (a) => L.svd(a, true, true, true),
};

/** Entries within 1e-4 + 1e-3·|want| (f32 through an SVD), integers exactly; `flip` negates columns (or rows) first. */
async function close(got: unknown, want: JTree, what: string, flip?: (g: Float32Array, w: JTensor) => void): Promise<void> {
  if (!isTensor(want)) {
    const ws = want as JTree[];
    expect((got as unknown[]).length, `${what}: length`).toBe(ws.length);
    for (let i = 0; i < ws.length; i++) await close((got as unknown[])[i], ws[i], `${what}[${i}]`);
    return;
  }
  const a = got as KArray;
  expect([...a.shape], `${what}: shape`).toEqual(want.shape);
  expect(a.dtype, `${what}: dtype`).toBe(want.dtype);
  const g = Float32Array.from(Array.from(await a.data(), Number));
  flip?.(g, want);
  want.data.map(num).forEach((w, i) => {
    if (want.dtype !== 'f32') expect(g[i], `${what}[${i}]`).toBe(w);
    else expect(Math.abs(g[i] - w), `${what}[${i}]: got ${g[i]}, JAX ${w}`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(w));
  });
}

/** Flips each column of a rows×cols matrix to the sign of JAX's; returns the flips. */
function alignColumns(g: Float32Array, w: JTensor, flips?: boolean[]): boolean[] {
  const [rows, cols] = w.shape;
  const out: boolean[] = [];
  for (let j = 0; j < cols; j++) {
    let dot = 0;
    for (let i = 0; i < rows; i++) dot += g[i * cols + j] * num(w.data[i * cols + j]);
    const f = flips?.[j] ?? dot < 0;
    if (f) for (let i = 0; i < rows; i++) g[i * cols + j] = -g[i * cols + j];
    out.push(f);
  }
  return out;
}

describe('JAX fixtures: pinv, lstsq, matrixRank, lax.linalg eigh / svd / qr', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  const each = async (name: string, f: Fn, check: (r: unknown, what: string) => Promise<void>) => {
    const c = fixture.cases[name];
    expect(c, `library.json has no case ${name}: run scripts/jax/gen_library.py`).toBeDefined();
    for (const [dname, d] of devices) {
      setDefaultDevice(d);
      for (const [mode, g] of [['eager', f], ['jit', jit(f)]] as [string, Fn][]) await check(g(...c.inputs.map(toKiln)), `${name} (${dname}, ${mode})`);
    }
  };

  for (const [name, f] of Object.entries(plain)) it(name, () => each(name, f, (r, what) => close(r, fixture.cases[name].output!, what)));

  for (const [name, f] of Object.entries(signed)) {
    it(`${name}: values exactly, vectors up to sign`, () => each(name, f, async (r, what) => {
      const out = fixture.cases[name].output as JTensor[];
      const [x, y, z] = r as KArray[];
      if (name.startsWith('lax.linalg.eigh')) {
        await close(x, out[0], `${what} v`, (g, w) => alignColumns(g, w));
        await close(y, out[1], `${what} w`);
        return;
      }
      let flips: boolean[] = [];
      await close(x, out[0], `${what} u`, (g, w) => { flips = alignColumns(g, w); });
      await close(y, out[1], `${what} s`);
      // Row j of Vh flips with column j of U (rows past min(m, n) of a full Vh: by their own sign).
      await close(z, out[2], `${what} vh`, (g, w) => {
        const [rows, cols] = w.shape;
        for (let j = 0; j < rows; j++) {
          let dot = 0;
          for (let i = 0; i < cols; i++) dot += g[j * cols + i] * num(w.data[j * cols + i]);
          if (j < flips.length ? flips[j] : dot < 0) for (let i = 0; i < cols; i++) g[j * cols + i] = -g[j * cols + i];
        }
      });
    }));
  }

  it('the options are checked, and the calls are JAX\'s', () => {
    setDefaultDevice('reference');
    expect(() => L.lstsq(np.zeros([2, 3, 3]), np.zeros([2, 3]))).toThrow(/two-dimensional/);
    expect(() => L.lstsq(np.zeros([3, 3]), np.zeros([4]))).toThrow(/leading dimensions/);
    expect(() => L.pinv(np.zeros([3, 4]), null, true)).toThrow(/square/);
    expect(() => L.svd(np.zeros([3, 4]), true, true, true)).toThrow(/hermitian=true needs square matrices/);
    // NumPy's residuals have a value-dependent shape: refused by name, with what to do instead.
    expect(() => L.lstsq(np.eye(3), np.ones([3]), null, { numpyResid: true as false })).toThrow(/numpyResid.*asynchronously/s);
    expect(() => lax.linalg.qr(np.zeros([3, 3]), { pivoting: true })).toThrow(KilnError);
    expect(lower((a: KArray) => L.pinv(a))(np.zeros([4, 3])).text).toContain('@lapack_sgesdd_ffi');
    expect(lower((a: KArray) => L.pinv(a, null, true))(np.zeros([3, 3])).text).toContain('@lapack_ssyevd_ffi');
    expect(lower((a: KArray) => L.matrixRank(a))(np.zeros([4, 3])).text).toContain('mode = 78 : ui8');
  });
});

// ---- gradients against central finite differences (float64 JS around kiln's f32 forward) ------
const LA = [1, 2, 3, 4, 5, 6.5, 7, 8, 9.2, 1, 0, 2];

async function checkGrad(name: string, loss: (x: KArray) => KArray, x0: number[], shape: number[], tol = 2e-2): Promise<void> {
  const g = Array.from(await (jit(grad(loss))(np.array(Float32Array.from(x0)).reshape(shape)) as KArray).data());
  // One compiled loss for the 2·n evaluations.
  const f = jit(loss);
  for (let i = 0; i < x0.length; i++) {
    const h = 1e-2;
    const at = async (d: number) => (await f(np.array(Float32Array.from(x0.map((p, j) => (j === i ? p + d : p)))).reshape(shape)).data())[0];
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(g[i] - fd), `${name}: d/dx[${i}]: grad ${g[i]}, finite differences ${fd}`).toBeLessThanOrEqual(tol + tol * Math.abs(fd));
  }
}

/** A loss of the reduced SVD that no sign choice of the singular vectors changes. */
const svdLoss = (wu: () => KArray, wv: () => KArray) => (x: KArray) => {
  const [u, s, vh] = L.svd(x, false) as KArray[];
  return np.add(np.add(np.sum(np.multiply(np.square(u), wu())), np.sum(np.multiply(s, np.arange(1, 4)))), np.sum(np.multiply(np.square(vh), wv())));
};

describe('svd / pinv / lstsq gradients against finite differences', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));
  it('svd (JAX\'s svd_jvp_rule transposed): values alone and with U, Vh; tall, wide, batched', async () => {
    for (const [, d] of devices) {
      setDefaultDevice(d);
      await checkGrad('svdvals', (x) => np.sum(np.multiply(L.svdvals(x), np.arange(1, 4))), LA, [4, 3]);
      await checkGrad('svdvals wide', (x) => np.sum(np.multiply(L.svdvals(x), np.arange(1, 4))), LA, [3, 4]);
      await checkGrad('svd tall', svdLoss(W43, W33), LA, [4, 3]);
      await checkGrad('svd wide', svdLoss(W33, W34), LA, [3, 4]);
      await checkGrad('svd square, batched', (x) => svdLoss(W33, W33)(x.reshape([1, 3, 3])), LA.slice(0, 9), [3, 3]);
    }
    setDefaultDevice('reference');
    expect(() => grad((x: KArray) => np.sum((L.svd(x) as KArray[])[0]))(np.eye(3))).toThrow(/full_matrices=True .* is not implemented, as in JAX/);
  });

  it('qr (JAX\'s qr_jvp_rule as a custom JVP): reduced tall, square, complete square, lax.linalg.qr', async () => {
    const qrLoss = (wq: () => KArray, wr: () => KArray, f: (x: KArray) => KArray[]) => (x: KArray) => {
      const [q, r] = f(x);
      return np.add(np.sum(np.multiply(np.sin(q), wq())), np.sum(np.multiply(np.square(r), wr())));
    };
    for (const [, d] of devices) {
      setDefaultDevice(d);
      await checkGrad('qr tall', qrLoss(W43, W33, (x) => L.qr(x) as KArray[]), LA, [4, 3]);
      await checkGrad('qr square', qrLoss(W33, W33, (x) => L.qr(x, 'complete') as KArray[]), LA.slice(0, 9), [3, 3]);
      await checkGrad('lax qr reduced', qrLoss(W43, W33, (x) => lax.linalg.qr(x, { fullMatrices: false })), LA, [4, 3]);
    }
    setDefaultDevice('reference');
    expect(() => grad((x: KArray) => np.sum((L.qr(x, 'complete') as KArray[])[0]))(np.ones([4, 3]))).toThrow(/the gradient of @lapack_s(orgqr|geqrf)_ffi/);
  });

  it('pinv (its custom JVP), tall and wide; lstsq in a and b', async () => {
    for (const [, d] of devices) {
      setDefaultDevice(d);
      await checkGrad('pinv', (x) => np.sum(np.multiply(L.pinv(x), W34())), LA, [4, 3]);
      await checkGrad('pinv wide', (x) => np.sum(np.multiply(L.pinv(x), W43())), LA, [3, 4]);
      await checkGrad('lstsq in a', (x) => np.sum(np.multiply(L.lstsq(x, np.array([1, 2, 3, 4]))[0], np.arange(1, 4))), LA, [4, 3]);
      await checkGrad('lstsq in b', (y) => np.sum(np.multiply(L.lstsq(np.array(LA).reshape([4, 3]), y)[0], np.arange(1, 4))), [1, 2, 3, 4], [4]);
    }
  });
});
