/**
 * @file np.linalg and lax.linalg against JAX: every case of test/fixtures/jax/library.json named
 * `linalg.*` or `grad.linalg.*` is the same call written here with kiln's API, run eagerly and
 * under `jit` on the reference device and on WebGPU. Cases that need QR, eigh or SVD are another
 * file's (NOT_MINE): library-linalg-decomp.test.ts and library-linalg-lstsq.test.ts. Gradients of cholesky,
 * triangularSolve, solve, inv, det and slogdet are also checked against central finite
 * differences, and `lower()` is checked to print the LAPACK custom calls JAX prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, lax, lower, np, setDefaultDevice, vmap, type Array as KArray } from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';

const fixture = loadFixture('test/fixtures/jax/library.json');
type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
const L = np.linalg;

const cases: Record<string, Fn> = {
  'linalg.cholesky': (a) => L.cholesky(a),
  'linalg.cholesky:batched': (a) => L.cholesky(a),
  'linalg.solve': (a, b) => L.solve(a, b),
  'linalg.solve:batched': (a, b) => L.solve(a, b),
  'linalg.inv': (a) => L.inv(a),
  'linalg.det': (a) => L.det(a),
  'linalg.slogdet': (a) => L.slogdet(a),
  'linalg.norm': (a) => L.norm(a),
  'linalg.norm:ord1axis': (a) => L.norm(a, 1, 1),
  'linalg.matrixPower': (a) => L.matrixPower(a, 3),
  'linalg.matrixPower:neg': (a) => L.matrixPower(a, -2),
  'linalg.triangularSolve': (a, b) => lax.linalg.triangularSolve(a, b, { leftSide: true, lower: true }),
  'linalg.multiDot': (a, b, c) => L.multiDot([a, b, c]),
  // np.linalg's array-API names (issue 12): each its own case, jnp.linalg.<name> in the generator.
  'linalg.cross': (a, b) => L.cross(a, b),
  'linalg.diagonal': (c) => L.diagonal(c),
  'linalg.diagonal:offset': (c) => L.diagonal(c, { offset: 1 }),
  'linalg.matmul': (a, b) => L.matmul(a, b),
  'linalg.matrixNorm': (c) => L.matrixNorm(c),
  'linalg.matrixNorm:ord1': (c) => L.matrixNorm(c, false, 1),
  'linalg.matrixTranspose': (c) => L.matrixTranspose(c),
  'linalg.outer': (a, b) => L.outer(a, b),
  'linalg.tensordot': (a, b) => L.tensordot(a, b),
  'linalg.tensordot:axes1': (a, b) => L.tensordot(a, b, 1),
  'linalg.trace': (c) => L.trace(c),
  'linalg.trace:offset': (c) => L.trace(c, { offset: -1 }),
  'linalg.vecdot': (a, b) => L.vecdot(a, b),
  'linalg.vecdot:axis': (a, b) => L.vecdot(a, b, { axis: 0 }),
  'linalg.vectorNorm': (c) => L.vectorNorm(c),
  'linalg.vectorNorm:ord1axis': (c) => L.vectorNorm(c, -1, false, 1),
  'linalg.vectorNorm:inf': (a) => L.vectorNorm(a, 0, true, Infinity),
  // lax.linalg (issue 12): lu returns [lu, pivots, permutation] as JAX.
  'lax.linalg.cholesky': (a) => lax.linalg.cholesky(a),
  'lax.linalg.lu': (a) => lax.linalg.lu(a),
  'lax.linalg.lu:pivoting': (a) => lax.linalg.lu(a),
  'lax.linalg.triangularSolve': (a, b) => lax.linalg.triangularSolve(a, b, { leftSide: true, lower: true }),
  'lax.linalg.triangularSolve:right': (a, b) => lax.linalg.triangularSolve(a, b),
  'lax.linalg.triangularSolve:transposeUnit': (a, b) => lax.linalg.triangularSolve(a, b, { leftSide: true, lower: true, transposeA: true, unitDiagonal: true }),
  'grad.linalg.det': (a) => grad((x: KArray) => L.det(x))(a),
  // LU of non-square matrices: the weights are gen_library.py's W34 and W43 (arange(1, 13) / 6).
  'grad.linalg.lu:wide': (a) => grad((x: KArray) => np.sum(np.multiply(lax.linalg.lu(x)[0], np.divide(np.arange(1, 13), 6).reshape([3, 4]))))(a),
  'grad.linalg.lu:tall': (a) => grad((x: KArray) => np.sum(np.multiply(lax.linalg.lu(x)[0], np.divide(np.arange(1, 13), 6).reshape([4, 3]))))(a),
  'grad.linalg.inv': (a) => grad((x: KArray) => np.sum(np.square(L.inv(x))))(a),
  'grad.linalg.cholesky': (a) => grad((x: KArray) => np.sum(np.sin(L.cholesky(x))))(a),
  'grad.linalg.solve': (a, b) => grad((x: KArray, y: KArray) => np.sum(L.solve(x, y)), { argnums: [0, 1] })(a, b),
};

/** QR, eigh, SVD and what needs them: library-linalg-decomp.test.ts and library-linalg-lstsq.test.ts. */
const NOT_MINE = /^(grad\.)?linalg\.(qr|eigh|eigvalsh|svd|svdvals|lstsq|pinv|matrixRank|norm:nuc|matrixNorm:nuc)/;

/** lax.linalg cases of this file (eigh, svd and qr are library-linalg-lstsq.test.ts's). */
const LAX_MINE = /^lax\.linalg\.(cholesky|lu|triangularSolve)(:|$)/;

const MINE = Object.keys(fixture.cases).filter((n) => (/^(grad\.)?linalg\./.test(n) && !NOT_MINE.test(n)) || LAX_MINE.test(n));

describe('JAX fixtures: np.linalg, lax.linalg', () => {
  it('every case is written here or belongs to the QR/eigh/SVD work', () => {
    expect(MINE.filter((n) => !(n in cases))).toEqual([]);
    expect(Object.keys(cases).filter((n) => !(n in fixture.cases))).toEqual([]);
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const name of MINE) {
    it(name, async () => {
      const c = fixture.cases[name];
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        for (const [mode, g] of [['eager', cases[name]], ['jit', jit(cases[name])]] as [string, Fn][]) {
          await compare(g(...c.inputs.map(toKiln)), c.output!, `${name} (${dname}, ${mode})`);
        }
      }
    });
  }
});

// ---- gradients against central finite differences (float64 JS around kiln's f32 forward) ------
const SPD = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2];
const Q = [2.6, 1.05, 1.5, 1.85, 1.96, 1.57, 0.78, -1.73, 1.84];

async function checkGrad(name: string, f: (x: KArray) => KArray, x0: number[], shape: number[]): Promise<void> {
  const loss = (v: KArray) => np.sum(np.multiply(f(v), np.arange(1, f(np.zeros(shape)).size + 1).reshape(f(np.zeros(shape)).shape)));
  const g = Array.from(await (grad(loss)(np.array(Float32Array.from(x0)).reshape(shape)) as KArray).data());
  for (let i = 0; i < x0.length; i++) {
    const h = 1e-2;
    const at = async (d: number) => (await loss(np.array(Float32Array.from(x0.map((p, j) => (j === i ? p + d : p)))).reshape(shape)).data())[0];
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(g[i] - fd), `${name}: d/dx[${i}]: grad ${g[i]}, finite differences ${fd}`).toBeLessThanOrEqual(2e-2 + 2e-2 * Math.abs(fd));
  }
}

describe('linalg gradients (finite differences, reference device)', () => {
  beforeAll(() => setDefaultDevice('reference'));
  // cholesky symmetrizes its input (as JAX), so a symmetric perturbation is what finite differences see:
  // differentiate through sym(x) = (x + xᵀ)/2 on both sides.
  const sym = (x: KArray) => np.divide(np.add(x, x.T), 2);
  it('cholesky', () => checkGrad('cholesky', (x) => L.cholesky(sym(x)), SPD, [3, 3]));
  it('lax.linalg.cholesky, batched', () => checkGrad('cholesky', (x) => lax.linalg.cholesky(sym(x.reshape([1, 3, 3]))), SPD, [3, 3]));
  it('triangularSolve, every side / transpose / unit diagonal', async () => {
    const b = np.array([[1, -2], [0.5, 3], [2, 1]]);
    for (const leftSide of [true, false]) for (const transposeA of [false, true]) for (const unitDiagonal of [false, true]) {
      await checkGrad(`triangularSolve ${leftSide} ${transposeA} ${unitDiagonal}`,
        (x) => lax.linalg.triangularSolve(x, leftSide ? b : b.T, { leftSide, lower: !transposeA, transposeA, unitDiagonal }), Q, [3, 3]);
    }
    await checkGrad('triangularSolve in b', (y) => lax.linalg.triangularSolve(np.array(Q).reshape([3, 3]), y, { leftSide: true, lower: true }), [1, 2, 3, 4, 5, 6], [3, 2]);
  });
  it('solve (a and b), inv, det (LU for 4x4), slogdet', async () => {
    const Q4 = [2.6, 1.05, 1.5, 0.3, 1.85, 1.96, 1.57, -0.4, 0.78, -1.73, 1.84, 0.9, 0.1, 0.5, -0.7, 2.2];
    await checkGrad('solve in a', (x) => L.solve(x, np.array([1, -2, 0.5])), Q, [3, 3]);
    await checkGrad('solve in b', (y) => L.solve(np.array(Q).reshape([3, 3]), y), [1, -2, 0.5], [3]);
    await checkGrad('inv', (x) => L.inv(x), Q4, [4, 4]);
    await checkGrad('det', (x) => L.det(x), Q4, [4, 4]);
    await checkGrad('slogdet', (x) => L.slogdet(x)[1], Q4, [4, 4]);
  });
  it('lax.linalg.lu: square, wide and tall (JAX\'s _lu_jvp_rule transposed, L and U padded to m×m and n×n)', async () => {
    const Q12 = [2.6, 1.05, 1.5, 0.3, 1.85, 1.96, 1.57, -0.4, 0.78, -1.73, 1.84, 0.9];
    await checkGrad('lu 3x3', (x) => lax.linalg.lu(x)[0], Q, [3, 3]);
    await checkGrad('lu 3x4', (x) => lax.linalg.lu(x)[0], Q12, [3, 4]);
    await checkGrad('lu 4x3', (x) => lax.linalg.lu(x)[0], Q12, [4, 3]);
  });
});

describe('linalg traces what JAX lowers to', () => {
  it('cholesky: lapack_spotrf_ffi with JAX\'s attributes; solve: getrf and two trsm calls', () => {
    const a = np.ones([4, 4]);
    const text = lower((x: KArray) => L.cholesky(x))(a).text;
    expect(text.replace(/@lapack_spotrf_ffi\(%\d+\)/, '@lapack_spotrf_ffi(%x)')).toContain('stablehlo.custom_call @lapack_spotrf_ffi(%x) {backend_config = "", mhlo.backend_config = {uplo = 76 : ui8}, mhlo.frontend_attributes = {num_batch_dims = "0"}, operand_layouts = [dense<[0, 1]> : tensor<2xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>], sdy.sharding_rule = #sdy.op_sharding_rule<([i, j])->([k, l], []) {i=4, j=4, k=4, l=4}, custom>} : (tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<i32>)');
    const s = lower((x: KArray, y: KArray) => L.solve(x, y))(a, np.ones([4, 2])).text;
    expect(s.match(/@lapack_sgetrf_ffi/g)?.length).toBe(1);
    expect(s.match(/@lapack_strsm_ffi/g)?.length).toBe(2);
  });

  it('vmap of cholesky adds a batch dimension to the call (num_batch_dims, layouts)', async () => {
    const a = np.array([[[4, 2], [2, 3]], [[9, 3], [3, 5]]]);
    const got = vmap((x: KArray) => L.cholesky(x))(a) as KArray;
    const want = [2, 0, 1, Math.SQRT2, 3, 0, 1, 2];
    Array.from(await got.data()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(lower(vmap((x: KArray) => L.cholesky(x)))(a).text).toContain('num_batch_dims = "1"');
  });
});
