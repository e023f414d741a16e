/**
 * @file The JAX idioms of the client, each against what JAX itself computed: every case of
 * test/fixtures/jax/semantics.json (written by scripts/jax/gen_semantics.py with JAX 0.11.2 on
 * CPU) is the same function written here with kiln's API, run eagerly and under `jit` on the
 * reference device and on WebGPU. Cases where JAX raises must raise a KilnError naming this file's
 * line. A second table walks the idioms JS cannot express as JAX does (truthiness, `Number(x)`,
 * template strings): each must throw a KilnError at the user's line, never compute something.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpoint, customJvp, customVjp, grad, hessian, jacfwd, jacobian, jacrev, jit, jvp, KilnError, lax, linearize, nn, np,
  setDefaultDevice, vjpWithAux, vmap, type Array as KArray,
} from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest } from './helpers.js';
import { compare, loadFixture, toKiln } from '../helpers/jax-fixtures.js';

const fixture = loadFixture('test/fixtures/jax/semantics.json');

// ---- the same functions in kiln ------------------------------------------------------------
type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
const idx = (...v: number[]) => np.array(Int32Array.from(v));

function vecfun(x: KArray): KArray {
  const [x0, x1, x2] = x;
  return np.stack([np.sin(x0).mul(x1), x0.pow(2).add(np.exp(x2)), x1.mul(x2)]);
}
function rnnLoss(w: KArray, xs: KArray): KArray {
  const [w0, w1, w2] = w;
  const [, ys] = lax.scan((h: KArray, x: KArray) => {
    const h2 = np.tanh(w0.mul(h).add(w1.mul(x)));
    return [h2, h2.mul(w2)];
  }, np.array(0), xs) as [KArray, KArray];
  return np.sum(np.square(ys));
}
const clipGrad = customVjp((x: KArray) => x);
clipGrad.defvjp((x: KArray) => [x, null], (_res: unknown, g: KArray) => [np.clip(g, -0.5, 0.5)]);
const log1pexp = customJvp((x: KArray) => np.log1p(np.exp(x)));
log1pexp.defjvp(([p]: KArray[], [t]: KArray[]) => [log1pexp(p), t.mul(nn.sigmoid(p))]);

const cases: Record<string, Fn> = {
  // 1. positional axes and options
  sum_axis1: (x) => np.sum(x, 1),
  sum_axes02_keepdims: (x) => np.sum(x, [0, 2], { keepdims: true }),
  mean_axis1: (x) => np.mean(x, 1),
  max_axis1: (x) => np.max(x, 1),
  min_axis0: (x) => np.min(x, 0),
  all_axis1: (x) => np.all(np.greater(x, -1), 1),
  argmax_axis1: (x) => np.argmax(x, 1),
  argmin_axis0: (x) => np.argmin(x, 0),
  softmax_axis0: (x) => nn.softmax(x, 0),
  softmax_axis_none: (x) => nn.softmax(x, { axis: null }),
  logsumexp_axis1: (x) => nn.logsumexp(x, 1),
  cumsum_axis1: (x) => np.cumsum(x, 1),
  var_axis1_ddof1: (x) => np.var(x, 1, { ddof: 1 }),
  sum_list: () => np.sum(np.array([1, 2, 3])),
  add_list: (x) => np.add(x, np.array([1, 2, 3, 4])),
  where_scalars: () => np.where(false, 1, 3),
  // 3. construction, dtypes, weak types
  int_plus_weak_int: (x) => x.add(1),
  int_times_weak_float: (x) => x.mul(2.5),
  grad_sin_cos_at_3: () => (grad((x: KArray) => np.sin(np.cos(x))) as Fn)(3),
  grad_int_input: (x) => grad((v: KArray) => np.sum(v.mul(2)))(x),
  bool_minus_bool: (a, b) => np.subtract(a, b),
  take_default_fill: (x) => np.take(x, idx(0, 4, 5, -1, -6)),
  take_clip: (x) => np.take(x, idx(0, 7, -9), { mode: 'clip' }),
  take_wrap: (x) => np.take(x, idx(0, 7, -9), { mode: 'wrap' }),
  take_axis1: (x) => np.take(x, idx(3, 0), 1),
  int_index_gather: (x) => x.slice(idx(2, 0, 2)),
  reshape_infer: (x) => np.reshape(x, [2, -1]),
  // 5. lax control flow
  fori_loop_sum: (x) => lax.foriLoop(0, 5, (i: KArray, c: KArray) => c.add(x.mul(i)), np.zerosLike(x)),
  fori_loop_traced_bounds: (x, n) => lax.foriLoop(0, n, (i: KArray, c: KArray) => c.mul(1.5).add(i), x),
  while_loop_newton_sqrt: (a) => (lax.whileLoop(
    (s: KArray[]) => np.max(np.abs(s[0].mul(s[0]).sub(a))).gt(1e-5),
    (s: KArray[]) => [s[0].add(a.div(s[0])).div(2), s[1].add(1)],
    [a, 0]) as KArray[])[0],
  scan_cumsum_pairs: (xs) => lax.scan((c: KArray, x: KArray) => [c.add(x), c.mul(x)], np.array(0), xs),
  scan_reverse: (xs) => lax.scan((c: KArray, x: KArray) => [c.mul(0.5).add(x), c], np.zeros([4]), xs, { reverse: true }),
  scan_pytree: (xs) => lax.scan((c: { a: KArray; b: KArray }, x: KArray) => {
    const [x0, x1] = x;
    return [{ a: c.a.add(x0), b: c.b.mul(x1) }, x0.sub(x1)];
  }, { a: np.array(0), b: np.array(1) }, xs),
  cond_true: (p, x) => lax.cond(p, (v: KArray) => v.mul(2), (v: KArray) => v.mul(-1), x),
  cond_false: (p, x) => lax.cond(p, (v: KArray) => v.mul(2), (v: KArray) => v.mul(-1), x),
  switch_clamped: (i, x) => lax.switch(i, [np.sin, np.cos, np.tanh], x),
  switch_negative: (i, x) => lax.switch(i, [np.sin, np.cos, np.tanh], x),
  map_rows: (x) => lax.map((r: KArray) => np.sum(r.mul(r)), x),
  associative_scan_add: (x) => lax.associativeScan(np.add, x),
  associative_scan_max_axis1: (x) => lax.associativeScan(np.maximum, x, { axis: 1 }),
  associative_scan_reverse: (x) => lax.associativeScan(np.add, x, { reverse: true }),
  stop_gradient: (x) => grad((v: KArray) => np.sum(v.mul(lax.stopGradient(v))))(x),
  grad_scan_rnn: (w, xs) => grad(rnnLoss)(w, xs),
  grad_fori_loop: (x) => grad((v: KArray) => np.sum(lax.foriLoop(0, 4, (i: KArray, c: KArray) => np.sin(c).mul(v).add(i), v)))(x),
  grad_cond: (x, p) => grad((v: KArray, q: KArray) => np.sum(lax.cond(q, (u: KArray) => np.sin(u).mul(u), (u: KArray) => u.pow(3), v)))(x, p),
  grad_cond_false: (x, p) => grad((v: KArray, q: KArray) => np.sum(lax.cond(q, (u: KArray) => np.sin(u).mul(u), (u: KArray) => u.pow(3), v)))(x, p),
  grad_switch: (x, i) => grad((v: KArray, j: KArray) => np.sum(lax.switch(j, [np.sin, (u: KArray) => u.mul(u), np.exp], v)))(x, i),
  grad_checkpoint: (x) => grad((v: KArray) => np.sum(checkpoint((u: KArray) => np.sin(np.exp(u)).mul(u))(v)))(x),
  vmap_while_batched_pred: (ns) => vmap((n: KArray) => (lax.whileLoop(
    (s: KArray[]) => s[0].lt(n), (s: KArray[]) => [s[0].add(1), s[1].mul(2)], [np.array(Int32Array.from([0]), { shape: [] }), np.array(1)]) as KArray[])[1])(ns),
  vmap_cond: (p, x) => vmap((q: KArray, v: KArray) => lax.cond(q, np.sin, np.cos, v))(p, x),
  while_mismatched_carry: (x) => lax.whileLoop((c: KArray) => np.sum(c).lt(3), (c: KArray) => c.slice([0, 2]), x),
  cond_mismatched_branches: (p, x) => lax.cond(p, (v: KArray) => v, (v: KArray) => v.astype('int32'), x),
  // 6. transformations
  jvp_sin: (x, t) => jvp(np.sin, [x], [t]),
  jvp_vecfun: (x, t) => jvp(vecfun, [x], [t]),
  linearize_vecfun: (x, t) => (linearize(vecfun, x)[1] as Fn)(t),
  jacfwd_vecfun: (x) => jacfwd(vecfun)(x),
  jacrev_vecfun: (x) => jacrev(vecfun)(x),
  jacobian_matrix_fn: (a) => jacobian((m: KArray) => np.tanh(np.matmul(m, m)))(a),
  hessian_scalar: (x) => hessian((v: KArray) => {
    const [a, b, c] = v;
    return np.sum(np.sin(v).mul(np.flip(v))).add(a.mul(b).mul(c));
  })(x),
  hessian_quadratic: (a, x) => hessian((v: KArray) => np.matmul(np.matmul(v, a), v))(x),
  vjp_has_aux: (x, ct) => {
    const [out, f, aux] = vjpWithAux((v: KArray) => [np.sin(v), np.sum(v)], x) as [KArray, Fn, KArray];
    return [out, f(ct), aux];
  },
  vmap_in_axes: (a, b) => vmap((u: KArray, v: KArray) => u.mul(v).add(np.sum(v)), { inAxes: [1, null] })(a, b),
  vmap_out_axes: (a) => vmap((u: KArray) => np.outer(u, u.slice([0, 2])), { inAxes: 0, outAxes: 2 })(a),
  vmap_in_axes_dict: (d) => vmap((e: { w: KArray; x: KArray }) => np.matmul(e.w, e.x), { inAxes: [{ w: null, x: 0 }] })(d),
  grad_prod_zeros: (x) => grad((v: KArray) => np.prod(v))(x),
  grad_prod_axis: (x) => grad((v: KArray) => np.sum(np.prod(v, 1)))(x),
  grad_cumprod: (x) => grad((v: KArray) => np.sum(np.cumprod(v).mul(np.arange(1, 6))))(x),
  grad_max_ties: (x) => grad((v: KArray) => np.max(v))(x),
  grad_min_axis_ties: (x) => grad((v: KArray) => np.sum(np.min(v, 1)))(x),
  grad_maximum_ties: (x, y) => grad((u: KArray, v: KArray) => np.sum(np.maximum(u, v)))(x, y),
  custom_vjp_clip: (x) => grad((v: KArray) => np.sum(clipGrad(v).mul(np.arange(-2, 3))))(x),
  custom_jvp_log1pexp: (x) => grad((v: KArray) => np.sum(log1pexp(v)))(x),
  custom_jvp_jvp: (x, t) => jvp(log1pexp, [x], [t]),
  jvp_of_grad: (x, t) => jvp(grad((v: KArray) => np.sum(np.sin(v).pow(2))) as Fn, [x], [t]),
  jvp_through_while: (x, t) => jvp((v: KArray) => lax.foriLoop(0, 3, (_i: KArray, c: KArray) => np.sin(c).add(v), v), [x], [t]),
};

/** Cases whose JAX program takes a Python bool/int that must stay a static choice in kiln too. */
const NOT_JITTABLE = new Set(['grad_int_input', 'bool_minus_bool']);

describe('JAX fixtures', () => {
  it('every fixture case has a kiln version and vice versa', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(fixture.cases).sort());
  });

  let devices: [string, Device][] = [];
  beforeAll(async () => { devices = await devicesUnderTest(); });
  afterAll(() => setDefaultDevice('reference'));

  for (const [name, c] of Object.entries(fixture.cases)) {
    it(name, async () => {
      for (const [dname, d] of devices) {
        setDefaultDevice(d);
        const f = cases[name];
        const modes: [string, Fn][] = [['eager', f]];
        if (!NOT_JITTABLE.has(name)) modes.push(['jit', jit(f)]);
        for (const [mode, g] of modes) {
          const args = c.inputs.map(toKiln);
          if (c.error) {
            let thrown: unknown;
            try { g(...args); } catch (e) { thrown = e; }
            expect(thrown, `${dname}/${mode}: JAX raises ${c.error}: ${c.message}`).toBeInstanceOf(KilnError);
            expect(String((thrown as Error).message), `${dname}/${mode}: names the user's line`).toMatch(/jax-semantics\.test\.ts:\d+/);
          } else {
            await compare(g(...args), c.output!, `${name} (${dname}, ${mode})`);
          }
        }
      }
    });
  }
});
