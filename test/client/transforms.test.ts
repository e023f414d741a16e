/**
 * @file Forward mode and the Jacobian transforms on the reference device: `jvp`, `linearize`,
 * `jacfwd`, `jacrev`, `hessian` against central finite differences of float64 JS functions
 * written independently of kiln, against `grad` where both apply, and their refusals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { grad } from '../../client/autodiff/index.js';
import { jvp, linearize } from '../../client/autodiff/forward.js';
import { hessian, jacfwd, jacrev } from '../../client/autodiff/jacobian.js';
import { setDefaultDevice } from '../../client/devices.js';
import * as np from '../../client/numpy/index.js';
import type { KArray } from '../../client/array.js';
import { mismatch } from './autodiff-helpers.js';

beforeAll(() => setDefaultDevice('reference'));

const data = async (x: unknown) => Array.from(await (x as KArray).data());

/** Central differences (float64) of `f` at `x`: rows are outputs, columns inputs. */
function fdJacobian(f: (x: number[]) => number[], x: readonly number[], h = 1e-6): number[][] {
  const m = f([...x]).length;
  const J = Array.from({ length: m }, () => new Array<number>(x.length).fill(0));
  x.forEach((_, j) => {
    const up = [...x], dn = [...x];
    up[j] += h;
    dn[j] -= h;
    const fu = f(up), fd = f(dn);
    for (let i = 0; i < m; i++) J[i][j] = (fu[i] - fd[i]) / (2 * h);
  });
  return J;
}

// vecfun(x) = [sin(x0) x1, x0^2 + exp(x2), x1 x2]
const at = (x: KArray, i: number) => np.take(x, i);
const vecfun = (x: KArray) => np.stack([
  np.multiply(np.sin(at(x, 0)), at(x, 1)), np.add(np.square(at(x, 0)), np.exp(at(x, 2))), np.multiply(at(x, 1), at(x, 2)),
]);
const vecfun64 = (x: number[]) => [Math.sin(x[0]) * x[1], x[0] ** 2 + Math.exp(x[2]), x[1] * x[2]];

describe('jvp', () => {
  it('gives the output and J t, matching finite differences', async () => {
    const x0 = [0.3, -1.2, 0.8];
    const t0 = [1, 0.5, -2];
    const [y, t] = jvp(vecfun, [np.array(x0)], [np.array(t0)]) as [KArray, KArray];
    expect(mismatch(await data(y), vecfun64(x0), 1e-6, 1e-5)).toBe('');
    const J = fdJacobian(vecfun64, x0);
    expect(mismatch(await data(t), J.map((r) => r.reduce((s, v, j) => s + v * t0[j], 0)), 1e-5, 1e-4)).toBe('');
  });
});

describe('jacobians', () => {
  it('jacfwd and jacrev equal finite differences', async () => {
    const x0 = [0.3, -1.2, 0.8];
    const J = fdJacobian(vecfun64, x0).flat();
    const jf = jacfwd(vecfun)(np.array(x0)) as KArray;
    const jr = jacrev(vecfun)(np.array(x0)) as KArray;
    expect(jf.shape).toEqual([3, 3]);
    expect(jr.shape).toEqual([3, 3]);
    expect(mismatch(await data(jf), J, 1e-5, 1e-4)).toBe('');
    expect(mismatch(await data(jr), J, 1e-5, 1e-4)).toBe('');
  });

  it('hessian of a quadratic form is A + A^T', async () => {
    const A = [[1, 2, -1], [0.5, -3, 4], [2, 1, 0.25]];
    const h = hessian((v: KArray, a: KArray) => np.dot(v, np.matmul(a, v)))(np.array([0.3, -1.2, 0.8]), np.array(A)) as KArray;
    expect(h.shape).toEqual([3, 3]);
    const want = A.flatMap((r, i) => r.map((v, j) => v + A[j][i]));
    expect(mismatch(await data(h), want, 1e-5, 1e-5)).toBe('');
  });
});
