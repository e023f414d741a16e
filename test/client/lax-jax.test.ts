/**
 * @file The lax control-flow cases of the JAX fixtures (test/fixtures/jax/semantics.json, written
 * by scripts/jax/gen_semantics.py with JAX 0.11.2): each case's Python function written again
 * with kiln's `lax`, run on the fixture's inputs on the reference interpreter and on WebGPU, and
 * compared with what JAX returned; the two error cases are checked for JAX's message.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad, jit, lax, np, setDefaultDevice, TraceError, vmap, type Array as KArray } from '../../client/index.js';
import type { JsonTensor } from '../../runtime/tensor.js';
import { flatten } from '../../client/pytree.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';

type A = KArray;
interface Fixture {
  inputs: JsonTensor[];
  output?: unknown;
  error?: string;
  message?: string;
}
const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/jax/semantics.json', import.meta.url), 'utf8')) as { cases: Record<string, Fixture> }).cases;

const arr = (j: JsonTensor) => np.array(j.data.map((v) => Number(v)), { dtype: j.dtype as never, shape: j.shape });

/** The fixture functions, as gen_semantics.py writes them in Python. */
const programs: Record<string, (...args: A[]) => unknown> = {
  fori_loop_sum: (x) => lax.foriLoop(0, 5, (i: A, c: A) => np.add(c, np.multiply(x, i)), np.zerosLike(x)),
  fori_loop_traced_bounds: (x, n) => lax.foriLoop(0, n, (i: A, c: A) => np.add(np.multiply(c, 1.5), i), x),
  while_loop_newton_sqrt: (a) => lax.whileLoop(
    (s: [A, A]) => np.greater(np.max(np.abs(np.subtract(np.multiply(s[0], s[0]), a))), 1e-5),
    (s: [A, A]): [A, A] => [np.divide(np.add(s[0], np.divide(a, s[0])), 2), np.add(s[1], 1)],
    [a, 0] as unknown as [A, A],
  )[0],
  scan_cumsum_pairs: (xs) => lax.scan((c: A, x: A): [A, A] => [np.add(c, x), np.multiply(c, x)], np.array(0), xs),
  scan_reverse: (xs) => lax.scan((c: A, x: A): [A, A] => [np.add(np.multiply(c, 0.5), x), c], np.zeros([4]), xs, { reverse: true }),
  scan_pytree: (xs) => lax.scan(
    (c: { a: A; b: A }, x: A): [{ a: A; b: A }, A] => [
      { a: np.add(c.a, np.take(x, 0)), b: np.multiply(c.b, np.take(x, 1)) }, np.subtract(np.take(x, 0), np.take(x, 1)),
    ],
    { a: np.array(0), b: np.array(1) }, xs,
  ),
  cond_true: (p, x) => lax.cond(p, (v: A) => np.multiply(v, 2), (v: A) => np.multiply(v, -1), x),
  cond_false: (p, x) => lax.cond(p, (v: A) => np.multiply(v, 2), (v: A) => np.multiply(v, -1), x),
  switch_clamped: (i, x) => lax.switch(i, [np.sin, np.cos, np.tanh], x),
  switch_negative: (i, x) => lax.switch(i, [np.sin, np.cos, np.tanh], x),
  map_rows: (x) => lax.map((r: A) => np.sum(np.multiply(r, r)), x),
  associative_scan_add: (x) => lax.associativeScan(np.add, x),
  associative_scan_max_axis1: (x) => lax.associativeScan(np.maximum, x, { axis: 1 }),
  associative_scan_reverse: (x) => lax.associativeScan(np.add, x, { reverse: true }),
  stop_gradient: (x) => grad((v: A) => np.sum(np.multiply(v, lax.stopGradient(v))))(x),
  grad_scan_rnn: (w, xs) => grad((wv: A, xv: A) => {
    const step = (h: A, x: A): [A, A] => {
      const hn = np.tanh(np.add(np.multiply(np.take(wv, 0), h), np.multiply(np.take(wv, 1), x)));
      return [hn, np.multiply(hn, np.take(wv, 2))];
    };
    return np.sum(np.square(lax.scan(step, np.array(0), xv)[1]));
  })(w, xs),
  grad_fori_loop: (x) => grad((xv: A) => np.sum(lax.foriLoop(0, 4, (i: A, c: A) => np.add(np.multiply(np.sin(c), xv), i), xv)))(x),
  grad_cond: (x, p) => grad((xv: A, pv: A) => np.sum(lax.cond(pv, (v: A) => np.multiply(np.sin(v), v), (v: A) => np.power(v, 3), xv)))(x, p),
  grad_cond_false: (x, p) => grad((xv: A, pv: A) => np.sum(lax.cond(pv, (v: A) => np.multiply(np.sin(v), v), (v: A) => np.power(v, 3), xv)))(x, p),
  grad_switch: (x, i) => grad((xv: A, iv: A) => np.sum(lax.switch(iv, [np.sin, (v: A) => np.multiply(v, v), np.exp], xv)))(x, i),
  vmap_while_batched_pred: (ns) => vmap((n: A) => lax.whileLoop(
    (s: [A, A]) => np.less(s[0], n), (s: [A, A]): [A, A] => [np.add(s[0], 1), np.multiply(s[1], 2)], [np.array(0, { dtype: 'i32' }), np.array(1)],
  )[1])(ns),
  vmap_cond: (p, x) => vmap((pv: A, xv: A) => lax.cond(pv, np.sin, np.cos, xv))(p, x),
};

async function compare(got: unknown, want: unknown): Promise<void> {
  const g = flatten(got, true).leaves as A[];
  // The fixture's outputs are JsonTensors: plain objects with dtype/shape/data leaves.
  const wants: JsonTensor[] = [];
  const walk = (x: unknown): void => {
    if (x && typeof x === 'object' && 'dtype' in x && 'data' in x) wants.push(x as JsonTensor);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.keys(x).sort().forEach((k) => walk((x as Record<string, unknown>)[k]));
  };
  walk(want);
  expect(g.length).toBe(wants.length);
  for (let i = 0; i < g.length; i++) {
    expect(g[i].shape).toEqual(wants[i].shape);
    const data = Array.from(await g[i].data());
    wants[i].data.forEach((v, k) => {
      const e = Number(v);
      if (Math.abs(data[k] - e) > 2e-5 * (1 + Math.abs(e))) throw new Error(`output ${i}[${k}]: kiln ${data[k]}, JAX ${e}`);
    });
  }
}

for (const [name, dev] of [['reference', () => Promise.resolve(referenceDevice())], ['WebGPU', webgpuDevice]] as const) {
  describe(`JAX 0.11.2's lax fixtures on ${name}`, () => {
    beforeAll(async () => setDefaultDevice(await dev()));
    afterAll(() => setDefaultDevice('auto'));
    for (const [caseName, f] of Object.entries(programs)) {
      it(caseName, async () => {
        const fx = fixtures[caseName];
        expect(fx, `fixture ${caseName}`).toBeDefined();
        const inputs = fx.inputs.map(arr);
        await compare(f(...inputs), fx.output);
        // The same under jit (the transforms compose with it).
        if (name === 'reference') await compare(jit(f)(...inputs), fx.output);
      });
    }
  });
}

describe('JAX 0.11.2\'s lax error cases', () => {
  it('while_mismatched_carry and cond_mismatched_branches give JAX\'s message', () => {
    setDefaultDevice(referenceDevice());
    const w = fixtures.while_mismatched_carry;
    const x = arr(w.inputs[0]);
    const body = (c: A) => np.slice(c, [0, 2]);
    const loop = () => lax.whileLoop((c: A) => np.less(np.sum(c), 3), body, x);
    expect(loop).toThrow(TraceError);
    // JAX: "...The input carry c has type float32[5] but the corresponding output carry component has type float32[2], so the shapes do not match..."
    const jaxHead = w.message!.split('\n\n')[0];
    expect(loop).toThrow(jaxHead);
    expect(loop).toThrow('The input carry c has type f32[5] but the corresponding output carry component has type f32[2], so the shapes do not match.');
    const c = fixtures.cond_mismatched_branches;
    const br = () => lax.cond(arr(c.inputs[0]), (v: A) => v, (v: A) => np.astype(v, 'int32'), arr(c.inputs[1]));
    expect(br).toThrow(c.message!.split('\n\n')[0]);
    expect(br).toThrow('The output of true_fun has type f32[5] but the corresponding output of false_fun has type i32[5], so the dtypes do not match.');
  });
});
