/**
 * @file customVjp, customJvp and checkpoint through every transformation: a rule that returns a
 * deliberately different derivative proves the rule is what `grad`, `jvp`, `jacfwd`/`jacrev` use,
 * under `jit`, `vmap` and nesting; checkpoint gives the same gradient and its VJP module recomputes
 * the forward ops; the refusals name the function. Reference device, plus one WebGPU run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, valueAndGrad } from '../../client/autodiff/index.js';
import { jvp } from '../../client/autodiff/forward.js';
import { checkpoint, customJvp, customVjp } from '../../client/autodiff/custom.js';
import { hessian, jacfwd, jacrev } from '../../client/autodiff/jacobian.js';
import { setDefaultDevice } from '../../client/devices.js';
import { jit, lower } from '../../client/jit.js';
import * as np from '../../client/numpy/index.js';
import { TraceError } from '../../client/site.js';
import { vmap } from '../../client/vmap/index.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import type { KArray } from '../../client/array.js';
import { closeWebgpuDevice, webgpuDevice } from '../helpers/devices.js';
import { mismatch } from './autodiff-helpers.js';

beforeAll(() => setDefaultDevice('reference'));
afterAll(() => closeWebgpuDevice());

const data = async (x: unknown) => Array.from(await (x as KArray).data());
const xs = [0.3, -1.2, 0.8];

// sin with a deliberately wrong gradient: 3 g instead of g cos(x).
const sin3 = customVjp((x: KArray) => np.sin(x)).defvjp(
  (x: KArray) => [np.sin(x), x],
  (_x: never, g: KArray) => [np.multiply(g, 3)],
);
// x^2 with a deliberately wrong derivative: 10 t instead of 2 x t.
const sq10 = customJvp((x: KArray) => np.square(x)).defjvp(([x]: [KArray], [t]: [KArray]) => [np.square(x), np.multiply(t, 10)]);

describe('customVjp', () => {
  it('runs the primal outside transforms and the rule under grad', async () => {
    expect(mismatch(await data(sin3(np.array(xs))), xs.map(Math.sin), 1e-7, 1e-6)).toBe('');
    expect(await data(grad((x: KArray) => np.sum(sin3(x)))(np.array(xs)))).toEqual([3, 3, 3]);
  });

  it('jits to a call of a private function holding the primal, which the compiler inlines', async () => {
    const text = lower(sin3)(np.array(xs)).text;
    expect(text).toMatch(/call @kiln_custom_vjp_\d+\(/);
    expect(text).toMatch(/func\.func private @kiln_custom_vjp_\d+/);
    expect(mismatch(await data(jit(sin3)(np.array(xs))), xs.map(Math.sin), 1e-7, 1e-6)).toBe('');
  });

  it('keeps the rule under jit, inside and outside grad, and the primal value', async () => {
    const loss = (x: KArray) => np.sum(np.multiply(sin3(x), 2));
    expect(await data(jit(grad(loss))(np.array(xs)))).toEqual([6, 6, 6]);
    expect(await data(grad(jit(loss))(np.array(xs)))).toEqual([6, 6, 6]);
    const [v] = valueAndGrad(loss)(np.array(xs)) as [KArray, KArray];
    expect((await data(v))[0]).toBeCloseTo(2 * xs.reduce((s, x) => s + Math.sin(x), 0), 5);
  });

  it('keeps the rule through vmap, before and after grad', async () => {
    const rows = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]);
    const perRow = vmap(grad((r: KArray) => np.sum(np.multiply(sin3(r), r))))(rows) as KArray;
    // d/dr sum(sin3(r) r) = 3 r + sin(r) with the rule's 3 for sin's derivative.
    const want = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map((r) => 3 * r + Math.sin(r));
    expect(mismatch(await data(perRow), want, 1e-6, 1e-5)).toBe('');
    const g = grad((m: KArray) => np.sum(vmap((r: KArray) => sin3(r))(m) as KArray))(rows);
    expect(await data(g)).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it('passes the cotangent of several arguments and zeros for null', async () => {
    const mul = customVjp((a: KArray, b: KArray) => np.multiply(a, b)).defvjp(
      (a: KArray, b: KArray) => [np.multiply(a, b), [a, b]],
      ([a]: [KArray, KArray], g: KArray) => [np.multiply(g, a), null],
    );
    const [ga, gb] = grad((a: KArray, b: KArray) => np.sum(mul(a, b)), { argnums: [0, 1] })(np.array([1, 2]), np.array([5, 7])) as KArray[];
    expect(await data(ga)).toEqual([1, 2]);
    expect(await data(gb)).toEqual([0, 0]);
  });

  it('is used by jacrev and nested inside checkpoint', async () => {
    expect(await data(jacrev((x: KArray) => sin3(x))(np.array(xs)))).toEqual([3, 0, 0, 0, 3, 0, 0, 0, 3]);
    const g = grad((x: KArray) => np.sum(checkpoint((v: KArray) => np.multiply(sin3(v), 2))(x)))(np.array(xs));
    expect(await data(g)).toEqual([6, 6, 6]);
  });

  it('refuses forward mode, as JAX, naming the function', () => {
    const f = () => jvp((x: KArray) => sin3(x), [np.array(xs)], [np.array([1, 1, 1])]);
    expect(f).toThrow(UnsupportedOpError);
    expect(f).toThrow(/customVjp\(anonymous function\): can't apply forward-mode autodiff \(jvp\) to a customVjp function/);
  });

  it('refuses a call before defvjp, and a bwd of the wrong shape', () => {
    const bare = customVjp((x: KArray) => np.sin(x));
    expect(() => grad((x: KArray) => np.sum(bare(x)))(np.array(xs))).toThrow(/no VJP defined for customVjp function/);
    const bad = customVjp((x: KArray) => np.sin(x)).defvjp((x: KArray) => [np.sin(x), null], (_r: never, g: KArray) => [np.sum(g)]);
    const call = () => grad((x: KArray) => np.sum(bad(x)))(np.array(xs));
    expect(call).toThrow(TraceError);
    expect(call).toThrow(/customVjp bwd of .*: the cotangent of argument 0 is f32\[\] where the argument is f32\[3\]/);
  });
});

describe('customJvp', () => {
  it('is used by jvp, jacfwd, and (transposed) by grad and jacrev', async () => {
    const x = np.array(xs);
    const [y, t] = jvp(sq10, [x], [np.array([1, 2, 3])]) as KArray[];
    expect(mismatch(await data(y), xs.map((v) => v * v), 1e-7, 1e-6)).toBe('');
    expect(await data(t)).toEqual([10, 20, 30]);
    expect(await data(grad((v: KArray) => np.sum(sq10(v)))(x))).toEqual([10, 10, 10]);
    const diag = [10, 0, 0, 0, 10, 0, 0, 0, 10];
    expect(await data(jacfwd(sq10)(x))).toEqual(diag);
    expect(await data(jacrev(sq10)(x))).toEqual(diag);
  });

  it('keeps the rule through jit and vmap', async () => {
    expect(await data(jit(grad((v: KArray) => np.sum(sq10(v))))(np.array(xs)))).toEqual([10, 10, 10]);
    const g = grad((m: KArray) => np.sum(vmap(sq10)(m) as KArray))(np.array([[1, 2], [3, 4]]));
    expect(await data(g)).toEqual([10, 10, 10, 10]);
  });
});

describe('checkpoint', () => {
  const f = (v: KArray) => np.multiply(np.sin(np.exp(v)), v);
  it('gives the same gradient as without it', async () => {
    const x = np.array(xs);
    const plain = await data(grad((v: KArray) => np.sum(f(v)))(x));
    const remat = await data(grad((v: KArray) => np.sum(checkpoint(f)(v)))(x));
    expect(mismatch(remat, plain, 1e-7, 1e-6)).toBe('');
    const want = xs.map((v) => Math.cos(Math.exp(v)) * Math.exp(v) * v + Math.sin(Math.exp(v)));
    expect(mismatch(remat, want, 1e-6, 1e-5)).toBe('');
  });

  it('recomputes the forward ops in the backward pass, behind an optimization barrier', () => {
    const count = (text: string, op: string) => text.split(op).length - 1;
    const plain = lower(valueAndGrad((v: KArray) => np.sum(f(v))))(np.array(xs)).text;
    const remat = lower(valueAndGrad((v: KArray) => np.sum(checkpoint(f)(v))))(np.array(xs)).text;
    expect(count(plain, 'stablehlo.exponential ')).toBe(1);
    expect(count(remat, 'stablehlo.exponential ')).toBe(2);
    expect(count(remat, 'stablehlo.optimization_barrier')).toBe(1);
    expect(count(plain, 'stablehlo.optimization_barrier')).toBe(0);
  });

  it('is differentiated by forward mode through its body', async () => {
    const [, t] = jvp(checkpoint(f), [np.array(xs)], [np.array([1, 1, 1])]) as KArray[];
    const want = xs.map((v) => Math.cos(Math.exp(v)) * Math.exp(v) * v + Math.sin(Math.exp(v)));
    expect(mismatch(await data(t), want, 1e-6, 1e-5)).toBe('');
  });
});

describe('on WebGPU', () => {
  it('runs jacfwd, a custom rule, a checkpointed gradient and a hessian', async () => {
    setDefaultDevice(await webgpuDevice());
    try {
      const x = np.array(xs);
      const J = await data(jacfwd((v: KArray) => np.multiply(np.sin(v), np.sum(v)))(x));
      const s = xs.reduce((a, b) => a + b, 0);
      const want = xs.flatMap((vi, i) => xs.map((_, j) => (i === j ? Math.cos(vi) * s : 0) + Math.sin(vi)));
      expect(mismatch(J, want, 1e-5, 1e-4)).toBe('');
      expect(await data(grad((v: KArray) => np.sum(sin3(v)))(x))).toEqual([3, 3, 3]);
      const g = await data(grad((v: KArray) => np.sum(checkpoint((u: KArray) => np.multiply(np.sin(np.exp(u)), u))(v)))(x));
      const wantG = xs.map((v) => Math.cos(Math.exp(v)) * Math.exp(v) * v + Math.sin(Math.exp(v)));
      expect(mismatch(g, wantG, 1e-5, 1e-4)).toBe('');
      const A = [[1, 2, -1], [0.5, -3, 4], [2, 1, 0.25]];
      const H = await data(hessian((v: KArray, a: KArray) => np.dot(v, np.matmul(a, v)))(x, np.array(A)));
      expect(mismatch(H, A.flatMap((r, i) => r.map((v, j) => v + A[j][i])), 1e-5, 1e-5)).toBe('');
    } finally {
      setDefaultDevice('reference');
    }
  }, 120_000);
});

describe('more refusals', () => {
  it('customJvp before defjvp, and a rule whose tangent has the wrong shape', () => {
    const bare = customJvp((x: KArray) => np.sin(x));
    expect(() => jvp(bare, [np.array(xs)], [np.array(xs)])).toThrow(/no JVP defined for customJvp function/);
    const bad = customJvp((x: KArray) => np.sin(x)).defjvp(([x]: [KArray], [t]: [KArray]) => [np.sin(x), np.sum(t)]);
    const call = () => jvp(bad, [np.array(xs)], [np.array(xs)]);
    expect(call).toThrow(TraceError);
    expect(call).toThrow(/customJvp rule of .*: its tangent output has arrays \[f32\[\]\], the function's output \[f32\[3\]\]/);
  });

  it('customVjp whose fwd does not return a pair', () => {
    const bad = customVjp((x: KArray) => np.sin(x)).defvjp(((x: KArray) => np.sin(x)) as never, (_r: never, g: KArray) => [g]);
    expect(() => grad((x: KArray) => np.sum(bad(x)))(np.array(xs))).toThrow(/customVjp fwd of .* must return a pair \[out, residuals\]/);
  });
});
