/**
 * @file Forward mode and the Jacobian transforms on the reference device: `jvp`, `linearize`,
 * `jacfwd`, `jacrev`, `hessian` against central finite differences of float64 JS functions
 * written independently of kiln, against `grad` where both apply, and their refusals; vmap's
 * in/out axes against loops and its refusals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { grad, vjpWithAux } from '../../client/autodiff/index.js';
import { jvp, linearize } from '../../client/autodiff/forward.js';
import { hessian, jacfwd, jacrev } from '../../client/autodiff/jacobian.js';
import { setDefaultDevice } from '../../client/devices.js';
import { jit, lower } from '../../client/jit.js';
import { TraceError } from '../../client/site.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { vmap } from '../../client/vmap/index.js';
import * as prim from '../../client/lax.js';
import * as lax from '../../client/lax/index.js';
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

describe('jvp and linearize: pytrees and refusals', () => {
  it('takes pytrees of primals and tangents', async () => {
    const f = (p: { a: KArray; b: KArray }, s: KArray) => ({ y: np.multiply(np.multiply(p.a, p.b), s) });
    const [out, tan] = jvp(f, [{ a: np.array([1, 2]), b: np.array([3, 4]) }, np.array(2)], [{ a: np.array([1, 0]), b: np.array([0, 1]) }, np.array(0.5)]) as [{ y: KArray }, { y: KArray }];
    expect(await data(out.y)).toEqual([6, 16]);
    // d(a b s) = da b s + a db s + a b ds
    expect(await data(tan.y)).toEqual([1 * 3 * 2 + 0 + 1 * 3 * 0.5, 0 + 2 * 1 * 2 + 2 * 4 * 0.5]);
  });

  it('linearize gives a function of tangents evaluated at the fixed primal', async () => {
    const [y, fJvp] = linearize((x: KArray) => np.exp(x), np.array([0, 1]));
    expect(mismatch(await data(y), [1, Math.E], 1e-7, 1e-6)).toBe('');
    expect(mismatch(await data(fJvp(np.array([2, 3]))), [2, 3 * Math.E], 1e-6, 1e-6)).toBe('');
  });

  it('refuses tangents that do not match the primals, as JAX', () => {
    const f = (x: KArray) => np.sin(x);
    expect(() => jvp(f, [np.array([1, 2])], [np.array([1, 2, 3])])).toThrow(/jvp called with different primal and tangent shapes; got primal shape \[2\] and tangent shape \[3\]/);
    expect(() => jvp(f, [np.array([1, 2])], [np.array([1, 2], { dtype: 'i32' })])).toThrow(/dtypes must be equal: got primal f32\[2\] and tangent i32\[2\]/);
    expect(() => jvp(f, [np.array([1, 2])], [[np.array([1, 2])]] as never)).toThrow(/must have the same tree structure/);
    expect(() => jvp(f, np.array([1, 2]) as never, [np.array([1, 2])])).toThrow(TraceError);
    // An i32 primal: a tangent for it is refused rather than silently dropped. (A JS number is a
    // weak f32 in kiln, so jvp(f, [2], [1]) is a float primal, unlike a Python int in JAX.)
    expect(() => jvp(f, [np.array(Int32Array.from([2]), { shape: [] })], [np.array(1)])).toThrow(/the tangent of an integer primal \(i32\[\]\) must be an integer array or 0/);
  });
});

describe('jacobians: layout, pytrees, argnums, aux', () => {
  it('jacrev of a scalar function equals grad; jacfwd equals jacrev', async () => {
    const f = (x: KArray) => np.sum(np.multiply(np.sin(x), np.flip(x)));
    const x = np.array([0.3, -1.2, 0.8, 2.0]);
    const g = await data(grad(f)(x));
    expect(mismatch(await data(jacrev(f)(x)), g, 1e-7, 1e-6)).toBe('');
    expect(mismatch(await data(jacfwd(f)(x)), g, 1e-6, 1e-5)).toBe('');
  });

  it('lays blocks out as out.shape + in.shape for each (output leaf, argnum) pair', async () => {
    const f = (a: KArray, b: KArray) => ({ p: np.multiply(a, np.sum(b)), q: np.sum(np.multiply(a, a)) });
    const a = np.array([1, 2]);
    const b = np.array([[1, 2, 3], [4, 5, 6]]);
    for (const jac of [jacfwd, jacrev]) {
      const J = jac(f, { argnums: [0, 1] })(a, b) as { p: KArray[]; q: KArray[] };
      expect(J.p[0].shape).toEqual([2, 2]);
      expect(J.p[1].shape).toEqual([2, 2, 3]);
      expect(J.q[0].shape).toEqual([2]);
      expect(J.q[1].shape).toEqual([2, 3]);
      expect(await data(J.p[0])).toEqual([21, 0, 0, 21]);
      expect(await data(J.p[1])).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
      expect(await data(J.q[0])).toEqual([2, 4]);
      expect(await data(J.q[1])).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it('differentiates a pytree argument and passes aux through', async () => {
    const f = (p: { w: KArray; b: KArray }) => [np.add(np.multiply(p.w, 3), p.b), np.sum(p.w)];
    for (const jac of [jacfwd, jacrev]) {
      const [J, aux] = jac(f, { hasAux: true })({ w: np.array([1, 2]), b: np.array(5) }) as [{ w: KArray; b: KArray }, KArray];
      expect(await data(J.w)).toEqual([3, 0, 0, 3]);
      expect(J.b.shape).toEqual([2]);
      expect(await data(J.b)).toEqual([1, 1]);
      expect(await data(aux)).toEqual([3]);
    }
  });

  it('hessian equals finite differences of the gradient, in float64', async () => {
    const f64 = (x: number[]) => Math.sin(x[0]) * x[1] + Math.exp(x[1] * x[2]);
    const grad64 = (x: number[]) => fdJacobian((v) => [f64(v)], x, 1e-5)[0];
    const x0 = [0.3, -0.4, 0.7];
    const H = fdJacobian(grad64, x0, 1e-4).flat();
    const f = (x: KArray) => np.add(np.multiply(np.sin(at(x, 0)), at(x, 1)), np.exp(np.multiply(at(x, 1), at(x, 2))));
    expect(mismatch(await data(hessian(f)(np.array(x0))), H, 1e-4, 1e-3)).toBe('');
  });

  it('refuses integer inputs to jacfwd and integer outputs to jacrev', () => {
    expect(() => jacfwd((x: KArray) => np.multiply(x, 2))(np.array([1, 2], { dtype: 'i32' }))).toThrow(/jacfwd requires float inputs, but argument leaf 0 is i32/);
    expect(() => jacrev((x: KArray) => np.argmax(x))(np.array([1, 2]))).toThrow(/jacrev requires float outputs, but output leaf 0 is i32/);
  });

  it('batches the basis with vmap: the module does not grow with the input size', () => {
    const f = (x: KArray) => np.tanh(np.multiply(x, np.sum(x)));
    const size = (n: number) => lower((x: KArray) => jacfwd(f)(x) as KArray)(np.ones([n])).text.length;
    expect(size(64)).toBeLessThan(size(2) * 1.2);
  });
});

describe('vmap axes', () => {
  const rows = () => np.array([[1, 2, 3], [4, 5, 6]]);
  it('takes negative in and out axes', async () => {
    const y = vmap((c: KArray) => np.multiply(c, np.sum(c)), { inAxes: -1, outAxes: -1 })(rows()) as KArray;
    expect(y.shape).toEqual([2, 3]);
    // column j of y = column j * its sum
    expect(await data(y)).toEqual([5, 14, 27, 20, 35, 54]);
  });

  it('maps nothing with axisSize, and keeps unmapped outputs with outAxes null', async () => {
    const [a, b] = vmap((s: KArray) => [np.multiply(s, 2), np.add(s, 1)], { inAxes: null, outAxes: [0, null], axisSize: 3 })(np.array([1, 2])) as KArray[];
    expect(a.shape).toEqual([3, 2]);
    expect(await data(a)).toEqual([2, 4, 2, 4, 2, 4]);
    expect(b.shape).toEqual([2]);
    expect(await data(b)).toEqual([2, 3]);
  });

  it('refuses what JAX refuses', () => {
    const f = (a: KArray, b: KArray) => np.add(a, b);
    expect(() => vmap(f)(np.ones([2, 3]), np.ones([3, 3]))).toThrow(/vmap got inconsistent sizes for array axes to be mapped: .*size 2 along axis 0; .*size 3 along axis 0/);
    expect(() => vmap(f, [null, null])(np.ones([2]), np.ones([2]))).toThrow(/vmap must have at least one non-null value in inAxes/);
    expect(() => vmap(f, [0, 2])(np.ones([2]), np.ones([2]))).toThrow(/vmap was requested to map argument leaf 1 along axis 2/);
    expect(() => vmap(f, [0])(np.ones([2]), np.ones([2]))).toThrow(/inAxes has 1 entries for 2 arguments/);
    expect(() => vmap((d: { x: KArray }) => d.x, [{ y: 0 }])({ x: np.ones([2]) })).toThrow(/inAxes\[0\] is an object with keys \[y\], which is not a prefix/);
    expect(() => vmap((x: KArray) => x, { outAxes: null })(np.ones([2]))).toThrow(/vmap has mapped output but out_axes is None/);
    expect(() => vmap(f, { axisSize: 3 })(np.ones([2]), np.ones([2]))).toThrow(/inconsistent sizes.*axisSize 3/);
  });
});

describe('jacobians where vmap has no batching rule', () => {
  it('walks the basis one vector at a time (a padding value that depends on the input)', async () => {
    // pad's batching rule refuses a batched padding value: the tangent basis of v is one.
    const f = (x: KArray, v: KArray) => np.multiply(prim.pad(x, v, [1], [2]), np.add(v, 1));
    const x = np.array([1, 2]);
    const v = np.array(0.5);
    // f = [v, x0, x1, v, v] * (v + 1): d/dv = [2v + 1, x0, x1, 2v + 1, 2v + 1]
    const want = [2, 1, 2, 2, 2];
    expect(await data(jacfwd(f, { argnums: 1 })(x, v))).toEqual(want);
    expect(await data(jacrev(f, { argnums: 1 })(x, v))).toEqual(want);
  });

  it('refuses to walk more than 256 basis vectors one by one, naming the op', () => {
    const f = (x: KArray) => prim.pad(x, np.sum(x), [1], [0]);
    const call = () => jacfwd(f)(np.ones([300]));
    expect(call).toThrow(UnsupportedOpError);
    expect(call).toThrow(/stablehlo\.pad: vmap: a batched padding value is not implemented \(needed to batch a Jacobian over 300 basis vectors; without batching at most 256/);
  });
});

describe('forward mode composes', () => {
  const f = (x: KArray) => np.multiply(np.sin(x), x);
  const df = (x: number) => Math.cos(x) * x + Math.sin(x);
  const d2f = (x: number) => -Math.sin(x) * x + 2 * Math.cos(x);
  const x0 = [0.3, -1.2, 0.8];

  it('with jit, vmap and grad around or inside it', async () => {
    const x = np.array(x0);
    const t = np.array([1, 1, 1]);
    const tanOf = (v: KArray, u: KArray) => (jvp(f, [v], [u]) as KArray[])[1];
    expect(mismatch(await data(jit(tanOf)(x, t)), x0.map(df), 1e-6, 1e-5)).toBe('');
    expect(mismatch(await data(vmap(tanOf)(np.reshape(x, [3, 1]), np.reshape(t, [3, 1]))), x0.map(df), 1e-6, 1e-5)).toBe('');
    const [, tv] = jvp(vmap(f) as (v: KArray) => KArray, [x], [t]) as KArray[];
    expect(mismatch(await data(tv), x0.map(df), 1e-6, 1e-5)).toBe('');
    // Reverse over forward: d/dx sum(jvp(f)(x; 1)) = f''(x).
    expect(mismatch(await data(grad((v: KArray) => np.sum(tanOf(v, np.onesLike(v))))(x)), x0.map(d2f), 1e-5, 1e-4)).toBe('');
  });
});

describe('hasAux refusals', () => {
  it('jacfwd/jacrev and vjpWithAux want a pair [out, aux]', () => {
    const f = (x: KArray) => np.sin(x);
    expect(() => jacfwd(f, { hasAux: true })(np.array([1, 2]))).toThrow(/with hasAux the function must return a pair \[out, aux\]/);
    expect(() => jacrev(f, { hasAux: true })(np.array([1, 2]))).toThrow(TraceError);
    expect(() => vjpWithAux(f, np.array([1, 2]))).toThrow(/with hasAux the function must return a pair \[out, aux\]/);
  });
});

describe('forward mode through lax control flow', () => {
  it('carries tangents through a while loop with a data-dependent trip count', async () => {
    // x *= 1.5 until sum(x^2) >= 10: from [0.3, 0.5] that is 5 trips, so dx_out/dx = 1.5^5 I.
    const f = (v: KArray) => lax.whileLoop((s: KArray) => np.less(np.sum(np.square(s)), 10), (s: KArray) => np.multiply(s, 1.5), v);
    const [y, t] = jvp(f, [np.array([0.3, 0.5])], [np.array([1, -2])]) as KArray[];
    expect(mismatch(await data(y), [0.3 * 1.5 ** 5, 0.5 * 1.5 ** 5], 1e-6, 1e-6)).toBe('');
    expect(mismatch(await data(t), [1.5 ** 5, -2 * 1.5 ** 5], 1e-6, 1e-6)).toBe('');
    expect(mismatch(await data(jacfwd(f)(np.array([0.3, 0.5]))), [1.5 ** 5, 0, 0, 1.5 ** 5], 1e-6, 1e-6)).toBe('');
  });

  it('differentiates cond and switch branches, and a hessian through a counted loop', async () => {
    const g = (v: KArray, i: KArray) => lax.switch(i, [(u: KArray) => np.sin(u), (u: KArray) => np.multiply(u, u)], v) as KArray;
    const [, t] = jvp(g, [np.array([0.5, 1]), np.array(1, { dtype: 'i32' })], [np.array([1, 1]), np.array(0, { dtype: 'i32' })]) as KArray[];
    expect(await data(t)).toEqual([1, 2]);
    // h(v) = sum(fori 3: c -> sin(c v)), compared with float64 differences of the same loop.
    const h64 = (x: number[]) => x.reduce((s, v) => { let c = v; for (let k = 0; k < 3; k++) c = Math.sin(c * v); return s + c; }, 0);
    const H = fdJacobian((x) => fdJacobian((y) => [h64(y)], x, 1e-5)[0], [0.3, 0.5], 1e-4).flat();
    const h = (v: KArray) => np.sum(lax.foriLoop(0, 3, (_i: KArray, c: KArray) => np.sin(np.multiply(c, v)), v));
    expect(mismatch(await data(hessian(h)(np.array([0.3, 0.5]))), H, 1e-4, 1e-3)).toBe('');
  });
});
