"""Expected values for the client's JAX-semantics tests (test/client/jax-semantics.test.ts).

Each case is a small JAX function applied to fixed inputs; the TypeScript test writes the same
function with kiln's client and compares with what JAX computed here (CPU, float32,
matmul precision 'highest'). Case names are shared by both files.

    JAX_PLATFORMS=cpu python3 scripts/jax/gen_semantics.py OUT.json
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(__file__))
from common import dump, tree  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
rng = np.random.default_rng(11)


def f32(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


X34 = f32(3, 4)
X234 = f32(2, 3, 4)
V5 = f32(5)
A33 = f32(3, 3)
cases = {}


def case(name, f, *args):
    """Runs f(*args) in JAX and records inputs and outputs (any pytree)."""
    out = f(*[jax.tree.map(jnp.asarray, a) for a in args])
    cases[name] = {'inputs': [tree(jax.tree.map(np.asarray, a)) for a in args], 'output': tree(jax.tree.map(np.asarray, out))}


def error(name, f, *args):
    """Records that JAX raises, and the exception's type name."""
    try:
        f(*[jnp.asarray(a) for a in args])
    except Exception as e:  # noqa: BLE001
        cases[name] = {'inputs': [tree(np.asarray(a)) for a in args], 'error': type(e).__name__, 'message': str(e)[:300]}
        return
    raise AssertionError(f'{name}: JAX did not raise')


# ---- 1. positional axes and options --------------------------------------------------------
case('sum_axis1', lambda x: jnp.sum(x, 1), X34)
case('sum_axes02_keepdims', lambda x: jnp.sum(x, (0, 2), keepdims=True), X234)
case('mean_axis1', lambda x: jnp.mean(x, 1), X34)
case('max_axis1', lambda x: jnp.max(x, 1), X34)
case('min_axis0', lambda x: jnp.min(x, 0), X34)
case('all_axis1', lambda x: jnp.all(x > -1, 1), X34)
case('argmax_axis1', lambda x: jnp.argmax(x, 1), X34)
case('argmin_axis0', lambda x: jnp.argmin(x, 0), X34)
case('softmax_axis0', lambda x: jax.nn.softmax(x, 0), X34)
case('softmax_axis_none', lambda x: jax.nn.softmax(x, axis=None), X34)
case('logsumexp_axis1', lambda x: jax.nn.logsumexp(x, 1), X34)
case('cumsum_axis1', lambda x: jnp.cumsum(x, 1), X34)
case('var_axis1_ddof1', lambda x: jnp.var(x, 1, ddof=1), X34)
case('sum_list', lambda: jnp.sum(jnp.asarray([1.0, 2.0, 3.0])))
case('add_list', lambda x: jnp.add(x, jnp.asarray([1.0, 2.0, 3.0, 4.0])), X34)
case('where_scalars', lambda: jnp.where(False, 1.0, 3.0))

# ---- 3. construction, dtypes, weak types ---------------------------------------------------
case('int_plus_weak_int', lambda x: x + 1, np.array([1, 2, 3], np.int32))
case('int_times_weak_float', lambda x: x * 2.5, np.array([1, 2, 3], np.int32))
case('grad_sin_cos_at_3', lambda: jax.grad(lambda x: jnp.sin(jnp.cos(x)))(3.0))
error('grad_int_input', lambda x: jax.grad(lambda v: jnp.sum(v * 2))(x), np.array([1, 2], np.int32))
error('bool_minus_bool', lambda a, b: a - b, np.array([True, False]), np.array([True, True]))
case('take_default_fill', lambda x: jnp.take(x, jnp.array([0, 4, 5, -1, -6])), V5)
case('take_clip', lambda x: jnp.take(x, jnp.array([0, 7, -9]), mode='clip'), V5)
case('take_wrap', lambda x: jnp.take(x, jnp.array([0, 7, -9]), mode='wrap'), V5)
case('take_axis1', lambda x: jnp.take(x, jnp.array([3, 0]), axis=1), X34)
case('int_index_gather', lambda x: x[jnp.array([2, 0, 2])], X34)
case('reshape_infer', lambda x: jnp.reshape(x, (2, -1)), X34)

# ---- 5. lax control flow -------------------------------------------------------------------
case('fori_loop_sum', lambda x: lax.fori_loop(0, 5, lambda i, c: c + x * i, jnp.zeros_like(x)), V5)
case('fori_loop_traced_bounds', lambda x, n: lax.fori_loop(0, n, lambda i, c: c * 1.5 + i, x), V5, np.int32(4))
case('while_loop_newton_sqrt', lambda a: lax.while_loop(
    lambda s: jnp.max(jnp.abs(s[0] * s[0] - a)) > 1e-5,
    lambda s: ((s[0] + a / s[0]) / 2, s[1] + 1), (a, 0))[0], np.array([2.0, 9.0, 0.25, 100.0], np.float32))
case('scan_cumsum_pairs', lambda xs: lax.scan(lambda c, x: (c + x, c * x), jnp.float32(0), xs), V5)
case('scan_reverse', lambda xs: lax.scan(lambda c, x: (c * 0.5 + x, c), jnp.zeros(4), xs, reverse=True), X34)
case('scan_pytree', lambda xs: lax.scan(lambda c, x: ({'a': c['a'] + x[0], 'b': c['b'] * x[1]}, x[0] - x[1]),
                                         {'a': jnp.float32(0), 'b': jnp.float32(1)}, xs), f32(4, 2, lo=0.5, hi=1.5))
case('cond_true', lambda p, x: lax.cond(p, lambda v: v * 2, lambda v: v * -1, x), np.bool_(True), V5)
case('cond_false', lambda p, x: lax.cond(p, lambda v: v * 2, lambda v: v * -1, x), np.bool_(False), V5)
case('switch_clamped', lambda i, x: lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x), np.int32(7), V5)
case('switch_negative', lambda i, x: lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x), np.int32(-3), V5)
case('map_rows', lambda x: lax.map(lambda r: jnp.sum(r * r), x), X34)
case('associative_scan_add', lambda x: lax.associative_scan(jnp.add, x), V5)
case('associative_scan_max_axis1', lambda x: lax.associative_scan(jnp.maximum, x, axis=1), X34)
case('associative_scan_reverse', lambda x: lax.associative_scan(jnp.add, x, reverse=True), V5)
case('stop_gradient', lambda x: jax.grad(lambda v: jnp.sum(v * lax.stop_gradient(v)))(x), V5)


def rnn_loss(w, xs):
    def step(h, x):
        h = jnp.tanh(w[0] * h + w[1] * x)
        return h, h * w[2]
    _, ys = lax.scan(step, jnp.float32(0), xs)
    return jnp.sum(ys ** 2)


W3 = np.array([0.7, -0.4, 1.3], np.float32)
case('grad_scan_rnn', jax.grad(rnn_loss), W3, V5)
case('grad_fori_loop', jax.grad(lambda x: jnp.sum(lax.fori_loop(0, 4, lambda i, c: jnp.sin(c) * x + i, x))), V5)
case('grad_cond', jax.grad(lambda x, p: jnp.sum(lax.cond(p, lambda v: jnp.sin(v) * v, lambda v: v ** 3, x))),
     V5, np.bool_(True))
case('grad_cond_false', jax.grad(lambda x, p: jnp.sum(lax.cond(p, lambda v: jnp.sin(v) * v, lambda v: v ** 3, x))),
     V5, np.bool_(False))
case('grad_switch', jax.grad(lambda x, i: jnp.sum(lax.switch(i, [jnp.sin, lambda v: v * v, jnp.exp], x))),
     V5, np.int32(1))
case('grad_checkpoint', jax.grad(lambda x: jnp.sum(jax.checkpoint(lambda v: jnp.sin(jnp.exp(v)) * v)(x))), V5)
case('vmap_while_batched_pred', jax.vmap(lambda n: lax.while_loop(lambda s: s[0] < n, lambda s: (s[0] + 1, s[1] * 2.0),
                                                                   (0, jnp.float32(1)))[1]), np.array([0, 3, 1, 5], np.int32))
case('vmap_cond', jax.vmap(lambda p, x: lax.cond(p, jnp.sin, jnp.cos, x)), np.array([True, False, True]), f32(3))
error('while_mismatched_carry', lambda x: lax.while_loop(lambda c: jnp.sum(c) < 3, lambda c: c[:2], x), V5)
error('cond_mismatched_branches', lambda p, x: lax.cond(p, lambda v: v, lambda v: v.astype(jnp.int32), x), np.bool_(True), V5)

# ---- 6. transformations --------------------------------------------------------------------
def vecfun(x):
    return jnp.stack([jnp.sin(x[0]) * x[1], x[0] ** 2 + jnp.exp(x[2]), x[1] * x[2]])


X3 = np.array([0.3, -1.2, 0.8], np.float32)
case('jvp_sin', lambda x, t: jax.jvp(jnp.sin, (x,), (t,)), V5, f32(5))
case('jvp_vecfun', lambda x, t: jax.jvp(vecfun, (x,), (t,)), X3, np.array([1.0, 0.5, -2.0], np.float32))
case('linearize_vecfun', lambda x, t: jax.linearize(vecfun, x)[1](t), X3, np.array([1.0, 0.5, -2.0], np.float32))
case('jacfwd_vecfun', jax.jacfwd(vecfun), X3)
case('jacrev_vecfun', jax.jacrev(vecfun), X3)
case('jacobian_matrix_fn', jax.jacobian(lambda a: jnp.tanh(a @ a)), f32(2, 2))
case('hessian_scalar', jax.hessian(lambda x: jnp.sum(jnp.sin(x) * x[::-1]) + x[0] * x[1] * x[2]), X3)
case('hessian_quadratic', lambda a, x: jax.hessian(lambda v: v @ a @ v)(x), A33, X3)
case('vjp_has_aux', lambda x, ct: (lambda o, f, aux: (o, f(ct), aux))(*jax.vjp(lambda v: (jnp.sin(v), jnp.sum(v)), x, has_aux=True)),
     V5, f32(5))
case('vmap_in_axes', jax.vmap(lambda a, b: a * b + jnp.sum(b), in_axes=(1, None)), X34, f32(3))
case('vmap_out_axes', jax.vmap(lambda a: jnp.outer(a, a[:2]), in_axes=0, out_axes=2), X34)
case('vmap_in_axes_dict', jax.vmap(lambda d: d['w'] @ d['x'], in_axes=({'w': None, 'x': 0},)),
     {'w': f32(2, 4), 'x': f32(3, 4)})
case('grad_prod_zeros', jax.grad(lambda x: jnp.prod(x)), np.array([2.0, 0.0, 3.0, -1.5], np.float32))
case('grad_prod_axis', jax.grad(lambda x: jnp.sum(jnp.prod(x, 1))), X34)
case('grad_cumprod', jax.grad(lambda x: jnp.sum(jnp.cumprod(x) * jnp.arange(1.0, 6.0))), V5)
case('grad_max_ties', jax.grad(lambda x: jnp.max(x)), np.array([1.0, 3.0, 3.0, 2.0], np.float32))
case('grad_min_axis_ties', jax.grad(lambda x: jnp.sum(jnp.min(x, 1))), np.array([[1.0, 1.0, 4.0], [2.0, 0.5, 0.5]], np.float32))
case('grad_maximum_ties', jax.grad(lambda x, y: jnp.sum(jnp.maximum(x, y))), np.array([1.0, 2.0, 3.0], np.float32),
     np.array([1.0, 5.0, 0.0], np.float32))


@jax.custom_vjp
def clip_grad(x):
    return x


clip_grad.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -0.5, 0.5),))
case('custom_vjp_clip', jax.grad(lambda x: jnp.sum(clip_grad(x) * jnp.arange(-2.0, 3.0))), V5)


@jax.custom_jvp
def log1pexp(x):
    return jnp.log1p(jnp.exp(x))


log1pexp.defjvp(lambda p, t: (log1pexp(p[0]), t[0] * jax.nn.sigmoid(p[0])))
case('custom_jvp_log1pexp', jax.grad(lambda x: jnp.sum(log1pexp(x))), np.array([-3.0, 0.0, 5.0, 80.0], np.float32))
case('custom_jvp_jvp', lambda x, t: jax.jvp(log1pexp, (x,), (t,)), np.array([-3.0, 0.0, 5.0, 80.0], np.float32),
     np.array([1.0, 2.0, -1.0, 0.5], np.float32))
case('jvp_of_grad', lambda x, t: jax.jvp(jax.grad(lambda v: jnp.sum(jnp.sin(v) ** 2)), (x,), (t,)), V5, f32(5))
case('jvp_through_while', lambda x, t: jax.jvp(lambda v: lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) + v, v), (x,), (t,)),
     V5, f32(5))

dump(sys.argv[1], {'jax': jax.__version__, 'cases': cases})
print(len(cases), 'cases')
