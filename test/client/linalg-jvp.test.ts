/**
 * @file Forward mode (`jvp`) of the linear algebra, JAX's JVP rules (client/autodiff/linalg-jvp.ts,
 * and the custom JVPs of qr and pinv): each function's tangent along a fixed direction is checked
 * against central finite differences of the function itself, under `jit`, on the reference device
 * and on WebGPU, and against JAX's `jax.jvp` (library.json cases `jvp.linalg.*`,
 * scripts/jax/gen_library.py). Eigenvectors and singular vectors enter through sign-invariant expressions
 * (their squares). What is not built is refused by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jit, jvp, lax, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { isTensor, loadFixture, num, toKiln, type JTree } from '../helpers/jax-fixtures.js';

const L = np.linalg;
const SPD = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2];
const Q = [2.6, 1.05, 1.5, 1.85, 1.96, 1.57, 0.78, -1.73, 1.84];
const Q4 = [2.6, 1.05, 1.5, 0.3, 1.85, 1.96, 1.57, -0.4, 0.78, -1.73, 1.84, 0.9, 0.1, 0.5, -0.7, 2.2];
const LA = [1, 2, 3, 4, 5, 6.5, 7, 8, 9.2, 1, 0, 2];
/** A fixed direction with entries of both signs. */
const dir = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3));
const arr = (v: number[], shape: number[]) => np.array(Float32Array.from(v)).reshape(shape);
const sym = (x: KArray) => np.divide(np.add(x, x.T), 2);

async function checkJvp(name: string, f: (x: KArray) => KArray, x0: number[], shape: number[], tol = 2e-2): Promise<void> {
  const t0 = dir(x0.length);
  const tangent = jit((x: KArray, t: KArray) => jvp(f, [x], [t])[1] as KArray);
  const got = Array.from(await tangent(arr(x0, shape), arr(t0, shape)).data());
  const g = jit(f);
  const h = 1e-2;
  const [plus, minus] = await Promise.all([1, -1].map(async (sgn) => Array.from(await g(arr(x0.map((v, i) => v + sgn * h * t0[i]), shape)).data())));
  expect(got.length, `${name}: tangent size`).toBe(plus.length);
  got.forEach((v, i) => {
    const fd = (plus[i] - minus[i]) / (2 * h);
    expect(Math.abs(v - fd), `${name}[${i}]: jvp ${v}, finite differences ${fd}`).toBeLessThanOrEqual(tol + tol * Math.abs(fd));
  });
}

describe('linalg jvp against finite differences', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  const onBoth = (name: string, body: (device: string) => Promise<void>) => it(name, async () => {
    for (const [dname, d] of devices) {
      setDefaultDevice(d);
      await body(dname);
    }
  });

  onBoth('cholesky (lower and upper), lax.linalg.cholesky batched', async () => {
    await checkJvp('cholesky', (x) => L.cholesky(sym(x)), SPD, [3, 3]);
    await checkJvp('cholesky upper', (x) => L.cholesky(sym(x), { upper: true }), SPD, [3, 3]);
    await checkJvp('lax cholesky', (x) => lax.linalg.cholesky(sym(x).reshape([1, 3, 3])), SPD, [3, 3]);
  });

  onBoth('triangularSolve in a (each side, transpose, unit diagonal; WebGPU: two of the eight) and in b', async (device) => {
    const b = () => np.array([[1, -2], [0.5, 3], [2, 1]]);
    for (const leftSide of [true, false]) for (const transposeA of [false, true]) for (const unitDiagonal of [false, true]) {
      // The rule is one formula whatever the device: WebGPU runs a left and a right solve (shader compiles are slow on lavapipe).
      if (device === 'webgpu' && transposeA !== unitDiagonal) continue;
      await checkJvp(`triangularSolve ${leftSide} ${transposeA} ${unitDiagonal}`,
        (x) => lax.linalg.triangularSolve(x, leftSide ? b() : b().T, { leftSide, lower: !transposeA, transposeA, unitDiagonal }), Q, [3, 3]);
    }
    await checkJvp('triangularSolve in b', (y) => lax.linalg.triangularSolve(arr(Q, [3, 3]), y, { leftSide: true, lower: true }), [1, 2, 3, 4, 5, 6], [3, 2]);
  });

  onBoth('lu, solve (a and b), inv, det (LU at 4x4, the closed form at 3x3), slogdet', async () => {
    await checkJvp('lu', (x) => lax.linalg.lu(x)[0], Q4, [4, 4]);
    // Non-square (JAX's _lu_jvp_rule pads L to m×m and U to n×n): wide and tall.
    await checkJvp('lu 3x4', (x) => lax.linalg.lu(x)[0], LA, [3, 4]);
    await checkJvp('lu 4x3', (x) => lax.linalg.lu(x)[0], LA, [4, 3]);
    await checkJvp('solve in a', (x) => L.solve(x, np.array([1, -2, 0.5])), Q, [3, 3]);
    await checkJvp('solve in b', (y) => L.solve(arr(Q, [3, 3]), y), [1, -2, 0.5], [3]);
    await checkJvp('inv', (x) => L.inv(x), Q4, [4, 4]);
    await checkJvp('det 4x4', (x) => L.det(x), Q4, [4, 4]);
    await checkJvp('det 3x3', (x) => L.det(x), Q, [3, 3]);
    await checkJvp('slogdet', (x) => L.slogdet(x)[1], Q4, [4, 4]);
  });

  onBoth('eigh (values, squared vectors), lax.linalg.eigh', async () => {
    await checkJvp('eigvalsh', (x) => L.eigvalsh(x), SPD, [3, 3]);
    await checkJvp('eigh vectors', (x) => np.square(L.eigh(x)[1]), SPD, [3, 3]);
    await checkJvp('lax eigh', (x) => np.square(lax.linalg.eigh(x)[0]), SPD, [3, 3]);
  });

  onBoth('qr (tall reduced, square), svd (values; squared U and Vh, tall and wide), pinv, lstsq', async () => {
    await checkJvp('qr tall', (x) => np.concatenate([(L.qr(x) as KArray[])[0].reshape([-1]), (L.qr(x) as KArray[])[1].reshape([-1])]), LA, [4, 3]);
    await checkJvp('qr square', (x) => np.concatenate(lax.linalg.qr(x).map((y) => y.reshape([-1]))), Q, [3, 3]);
    await checkJvp('svdvals', (x) => L.svdvals(x), LA, [4, 3]);
    for (const shape of [[4, 3], [3, 4]]) {
      await checkJvp(`svd ${shape}`, (x) => {
        const [u, s, vh] = L.svd(x, false) as KArray[];
        return np.concatenate([np.square(u).reshape([-1]), s, np.square(vh).reshape([-1])]);
      }, LA, shape);
    }
    await checkJvp('pinv', (x) => L.pinv(x), LA, [4, 3]);
    await checkJvp('lstsq', (x) => L.lstsq(x, np.array([1, 2, 3, 4]))[0], LA, [4, 3]);
  });

  it('what has no rule is refused by name', () => {
    setDefaultDevice('reference');
    expect(() => jvp((x: KArray) => (L.svd(x) as KArray[])[0], [np.eye(3)], [np.eye(3)])).toThrow(/full_matrices=True/);
    expect(() => jvp((x: KArray) => (L.qr(x, 'r') as KArray), [np.ones([2, 3])], [np.ones([2, 3])])).toThrow(/@lapack_s(geqrf|orgqr)_ffi: jvp: QR/);
  });
});

const fixture = loadFixture('test/fixtures/jax/library.json');
const LB = () => np.array([1, 2, 3]);
const LB2 = () => np.array([[1, -1], [2, 0.5], [3, 1]]);
/** The functions of the `jvp.linalg.*` cases, as gen_library.py writes them with JAX. */
const jaxCases: Record<string, (x: KArray) => KArray | KArray[]> = {
  cholesky: (a) => L.cholesky(a),
  inv: (a) => L.inv(a),
  det: (a) => L.det(a),
  slogdet: (a) => L.slogdet(a)[1],
  solve: (a) => L.solve(a, LB()),
  lu: (a) => lax.linalg.lu(a)[0],
  'lu:wide': (a) => lax.linalg.lu(a)[0],
  'lu:tall': (a) => lax.linalg.lu(a)[0],
  eigvalsh: (a) => L.eigvalsh(a),
  triangularSolve: (a) => lax.linalg.triangularSolve(a, LB2(), { leftSide: true, lower: true }),
  qr: (a) => L.qr(a) as KArray[],
  svdvals: (a) => L.svdvals(a),
  pinv: (a) => L.pinv(a),
  lstsq: (a) => L.lstsq(a, np.array([1, 2, 3, 4]))[0],
};

async function close(got: unknown, want: JTree, what: string): Promise<void> {
  if (!isTensor(want)) {
    const ws = want as JTree[];
    for (let i = 0; i < ws.length; i++) await close((got as unknown[])[i], ws[i], `${what}[${i}]`);
    return;
  }
  const a = got as KArray;
  expect([...a.shape], `${what}: shape`).toEqual(want.shape);
  const g = Array.from(await a.data(), Number);
  want.data.map(num).forEach((w, i) => expect(Math.abs(g[i] - w), `${what}[${i}]: got ${g[i]}, JAX ${w}`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(w)));
}

describe('linalg jvp against JAX (jax.jvp)', () => {
  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));
  for (const [name, f] of Object.entries(jaxCases)) {
    it(`jvp.linalg.${name}`, async () => {
      const c = fixture.cases[`jvp.linalg.${name}`];
      expect(c, `library.json has no case jvp.linalg.${name}: run scripts/jax/gen_library.py`).toBeDefined();
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        const [x, t] = c.inputs.map(toKiln) as KArray[];
        await close(jit((p: KArray, q: KArray) => jvp(f, [p], [q])[1])(x, t), c.output!, `jvp.linalg.${name} (${dname})`);
      }
    });
  }
});
