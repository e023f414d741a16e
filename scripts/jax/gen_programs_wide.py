"""The third batch of real JAX programs: what users write day to day, to find what kiln still
refuses or gets wrong before a held-out set does. Models and training steps (attention, LSTM,
CNN, embeddings, optimizers with clipping and schedules), jax.random inside jit, transformations
(vmap of grad, hessian, jacrev, checkpoint, custom_vjp), indexing, integer and small dtypes
(uint8 images, int8, int16, bool), numerics at the edges. Same format and rules as
gen_programs_more.py (CPU lowering; NAME.gpu.mlir where the GPU lowering differs).

    python3 scripts/jax/gen_programs_wide.py OUT_DIR
"""
import functools
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(__file__))
from common import program as common_program  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(2026)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def i32(lo, hi, *s):
    return rng.integers(lo, hi, s).astype(np.int32)


def program(name, f, *args, note=''):
    common_program(out_dir, 'wide_' + name, f, *args, note=note)


KEY = np.asarray(jax.random.key_data(jax.random.PRNGKey(7)))
wk = jax.random.wrap_key_data

# ---- models and training steps ----------------------------------------------------------------
def mha(x, wqkv, wo, heads=2):
    b, t, d = x.shape
    q, k, v = jnp.split(x @ wqkv, 3, axis=-1)
    sh = lambda m: m.reshape(b, t, heads, d // heads).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = sh(q), sh(k), sh(v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads)
    s = jnp.where(jnp.tril(jnp.ones((t, t), bool)), s, -jnp.inf)
    o = (jax.nn.softmax(s, -1) @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
    return o @ wo


program('mha_causal', mha, f32(2, 5, 8), 0.3 * f32(8, 24), 0.3 * f32(8, 8), note='causal mask with -inf, split, 4-D transposes')
program('dot_product_attention', lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=True), f32(1, 6, 2, 4), f32(1, 6, 2, 4), f32(1, 6, 2, 4),
        note='jax.nn.dot_product_attention (BTNH), causal')


def rope(x, pos):
    d = x.shape[-1] // 2
    freq = 1.0 / (10000 ** (jnp.arange(d) / d))
    ang = pos[:, None] * freq[None, :]
    x1, x2 = x[..., :d], x[..., d:]
    return jnp.concatenate([x1 * jnp.cos(ang) - x2 * jnp.sin(ang), x1 * jnp.sin(ang) + x2 * jnp.cos(ang)], -1)


program('rotary_embedding', rope, f32(2, 7, 8), np.arange(7, dtype=np.float32))


def lstm(params, xs):
    wx, wh, b = params
    h0 = jnp.zeros((xs.shape[1], wh.shape[0]))

    def cell(carry, x):
        h, c = carry
        i, f, g, o = jnp.split(x @ wx + h @ wh + b, 4, -1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h
    return lax.scan(cell, (h0, h0), xs)


program('lstm_scan', lstm, (0.3 * f32(3, 16), 0.3 * f32(4, 16), f32(16)), f32(5, 2, 3), note='pytree params, scan with a tuple carry')
program('lstm_grad', jax.grad(lambda p, xs: jnp.sum(lstm(p, xs)[1] ** 2)), (0.3 * f32(3, 16), 0.3 * f32(4, 16), f32(16)), f32(4, 2, 3))


def xent(logits, labels):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=-1))


program('cross_entropy_int_labels', jax.value_and_grad(xent), f32(6, 5), i32(0, 5, 6))


def smooth(onehot, a):
    return onehot * (1 - a) + a / onehot.shape[-1]


program('label_smoothing', lambda logits, y: -jnp.sum(smooth(jax.nn.one_hot(y, 4), 0.1) * jax.nn.log_softmax(logits), -1), f32(3, 4), i32(0, 4, 3))
program('embedding_grad', jax.grad(lambda e, ids: jnp.sum(jnp.tanh(e[ids]) * jnp.arange(3.0))), f32(10, 3), i32(0, 10, 2, 4),
        note='gather forward, scatter-add with duplicate ids backward')


def clip_by_global_norm(grads, max_norm):
    norm = jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree.leaves(grads)))
    scale = jnp.where(norm > max_norm, max_norm / norm, 1.0)
    return jax.tree.map(lambda g: g * scale, grads)


def adamw(params, grads, m, v, step, lr=1e-2, wd=1e-2):
    grads = clip_by_global_norm(grads, 1.0)
    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
    sched = lr * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(step, 100) / 100))
    upd = jax.tree.map(lambda p, m, v: p - sched * (m / (1 - 0.9 ** step) / (jnp.sqrt(v / (1 - 0.999 ** step)) + 1e-8) + wd * p), params, m, v)
    return upd, m, v


program('adamw_clip_cosine', adamw, {'w': f32(4, 3), 'b': f32(3)}, {'w': 3 * f32(4, 3), 'b': 3 * f32(3)},
        {'w': f32(4, 3), 'b': f32(3)}, {'w': np.abs(f32(4, 3)), 'b': np.abs(f32(3))}, np.float32(5.0), note='dict pytrees, global-norm clipping')
program('sgd_momentum_nesterov', lambda p, g, mom: (lambda m2: (p - 0.1 * (g + 0.9 * m2), m2))(0.9 * mom + g), f32(6), f32(6), f32(6))


def bn_train(x, gamma, beta, rm, rv):
    mean, var = jnp.mean(x, (0, 1, 2)), jnp.var(x, (0, 1, 2))
    y = (x - mean) * lax.rsqrt(var + 1e-5) * gamma + beta
    return y, 0.9 * rm + 0.1 * mean, 0.9 * rv + 0.1 * var


program('batchnorm_running_stats', bn_train, f32(2, 4, 4, 3), f32(3), f32(3), f32(3), np.abs(f32(3)))
program('depthwise_conv', lambda x, w: lax.conv_general_dilated(x, w, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'), feature_group_count=4),
        f32(1, 6, 6, 4), f32(3, 3, 1, 4), note='feature_group_count = channels')
program('conv_transpose_2d', lambda x, w: lax.conv_transpose(x, w, (2, 2), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')), f32(1, 3, 3, 2), f32(3, 3, 2, 4))
program('strided_conv_grad', jax.grad(lambda w, x: jnp.sum(jnp.tanh(lax.conv_general_dilated(x, w, (2, 2), ((1, 1), (1, 1)))))), f32(4, 2, 3, 3), f32(2, 2, 7, 7),
        note='NCHW default layout, stride 2; gradient in the kernel')
program('avg_pool_same', lambda x: lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 2, 2, 1), 'SAME') / 9.0, f32(1, 5, 5, 2))
program('max_pool_grad', jax.grad(lambda x: jnp.sum(lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID') ** 2)), f32(1, 4, 4, 2),
        note='select_and_scatter_add')

# ---- jax.random inside jit --------------------------------------------------------------------
program('random_dropout', lambda k, x: jnp.where(jax.random.bernoulli(wk(k), 0.8, x.shape), x / 0.8, 0.0), KEY, f32(4, 6))
program('random_init_mlp', lambda k: (lambda ks: (jax.random.normal(ks[0], (4, 8)) * jnp.sqrt(2 / 4), jax.random.uniform(ks[1], (8,), minval=-0.1, maxval=0.1),
                                                  jax.random.truncated_normal(ks[2], -2.0, 2.0, (8, 2))))(jax.random.split(wk(k), 3)), KEY)
program('random_sampling', lambda k, logits: (lambda ks: (jax.random.categorical(ks[0], logits, axis=-1), jax.random.gumbel(ks[1], (3,)),
                                                          jax.random.randint(ks[2], (5,), 0, 100), jax.random.permutation(ks[3], 6)))(jax.random.split(wk(k), 4)),
        KEY, f32(3, 5))
program('random_fold_in_loop', lambda k: lax.fori_loop(0, 4, lambda i, acc: acc + jax.random.normal(jax.random.fold_in(wk(k), i), (3,)), jnp.zeros(3)), KEY)

# ---- transformations --------------------------------------------------------------------------
def mlp(p, x):
    return jnp.tanh(x @ p[0]) @ p[1]


program('per_example_grads', jax.vmap(jax.grad(lambda p, x, y: jnp.sum((mlp(p, x) - y) ** 2)), in_axes=(None, 0, 0)),
        (f32(3, 4), f32(4, 2)), f32(5, 3), f32(5, 2), note='vmap of grad with in_axes None')
program('hessian_small', jax.hessian(lambda x: jnp.sum(jnp.sin(x) * x[::-1] ** 2)), f32(4))
program('jacrev_vector', jax.jacrev(lambda x: jnp.stack([jnp.sum(x ** 2), jnp.prod(x), jnp.max(x)])), f32(4))
program('checkpoint_grad', jax.grad(lambda x: jnp.sum(jax.checkpoint(lambda y: jnp.sin(jnp.cos(y) * y))(x) ** 2)), f32(6))


@jax.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -0.5, 0.5),))
program('custom_vjp_grad', jax.grad(lambda x: jnp.sum(clip_gradient(x) ** 3)), f32(6))

# ---- indexing ---------------------------------------------------------------------------------
program('at_ops_modes', lambda x, i, u: (x.at[i].set(u, mode='drop'), x.at[i].add(u, mode='clip'), x.at[i].min(u), x.at[i].get(mode='fill', fill_value=-7.0)),
        f32(6), np.array([0, 5, 9, -1], np.int32), f32(4), note='out-of-range index 9 and negative -1')
program('where_mask_reductions', lambda x: (jnp.sum(jnp.where(x > 0, x, 0)), jnp.mean(x, where=x > 0), jnp.max(x, where=x < 1, initial=-10.0),
                                           jnp.count_nonzero(x > 0, axis=1)), f32(4, 5))
program('argmax_ties_nan', lambda x: (jnp.argmax(x, 1), jnp.argmin(x, 0), jnp.nanargmax(x, 1)),
        np.array([[1, 3, 3, 0], [np.nan, 1, 2, 2], [-1, -1, -2, -2]], np.float32))
program('sort_descending_topk', lambda x: (jnp.sort(x, descending=True), lax.top_k(x, 3), jnp.argsort(-x, stable=True)), np.array([[3, 1, 3, 2, 0.5], [0, 0, 1, -1, 2]], np.float32))
program('dynamic_window', lambda x, i: lax.dynamic_slice(x, (i, 0), (3, 2)) * lax.dynamic_index_in_dim(x, i + 1, 0, keepdims=False)[:2], f32(8, 4), np.int32(6),
        note='start clamped at the end')
program('fori_build_sequence', lambda x: lax.fori_loop(0, 5, lambda i, acc: lax.dynamic_update_slice(acc, (x * i)[None], (i, 0)), jnp.zeros((5, 3))), f32(3))

# ---- integer and small dtypes -----------------------------------------------------------------
program('uint8_image_normalize', lambda img: (img.astype(jnp.float32) / 255.0 - 0.5) / 0.25, rng.integers(0, 256, (2, 4, 4, 3)).astype(np.uint8),
        note='uint8 input')
program('uint8_ops', lambda a, b: (a + b, a // 3, jnp.maximum(a, b), (a > b), a.astype(jnp.int32) - b.astype(jnp.int32), jnp.sum(a, dtype=jnp.uint32)),
        rng.integers(0, 256, 8).astype(np.uint8), rng.integers(0, 256, 8).astype(np.uint8), note='uint8 wrap-around add')
program('int8_quantize', lambda x, s: (jnp.clip(jnp.round(x / s), -128, 127).astype(jnp.int8), (jnp.clip(jnp.round(x / s), -128, 127).astype(jnp.int8).astype(jnp.float32) * s)),
        3 * f32(10), np.float32(0.05), note='int8 output: symmetric quantization round trip')
program('int16_ops', lambda a: (a * 3, a >> 2, jnp.cumsum(a), a.astype(jnp.float32)), rng.integers(-30000, 30000, 6).astype(np.int16))
program('bool_logic', lambda a, b: (a & b, a | ~b, a ^ b, jnp.any(a), jnp.all(a | b), jnp.sum(a), a.astype(jnp.float32) * 2), rng.random(8) > 0.5, rng.random(8) > 0.5)
program('int_division_signs', lambda a, b: (a // b, a % b, jnp.fmod(a, b), lax.div(a, b), lax.rem(a, b), jnp.floor_divide(a.astype(jnp.float32), b.astype(jnp.float32))),
        np.array([7, -7, 7, -7, 0, 5], np.int32), np.array([2, 2, -2, -2, 3, -1], np.int32))
program('uint32_hash', lambda x: (lambda h: (h ^ (h >> 16)) * np.uint32(0x45d9f3b))((x ^ (x >> 16)) * np.uint32(0x45d9f3b)), (np.arange(8, dtype=np.uint64) * 2654435761 % (2 ** 32)).astype(np.uint32))
program('float_to_int_casts', lambda x: (x.astype(jnp.int32), x.astype(jnp.uint32), jnp.round(x).astype(jnp.int32), jnp.floor(x).astype(jnp.int32)),
        np.array([1.5, -1.5, 2.5, -2.7, 0.49, 100.9], np.float32) * np.array([1, 1, 1, 1, 1, 1], np.float32))
program('f16_mixed', lambda a, b: (a.astype(jnp.float16) * b.astype(jnp.float16), jnp.dot(a.astype(jnp.float16), b.astype(jnp.float16), preferred_element_type=jnp.float32),
                                   jnp.sum(a.astype(jnp.float16))), f32(4, 4), f32(4, 4))

# ---- numerics at the edges --------------------------------------------------------------------
program('logsumexp_inf', lambda x: (jax.nn.logsumexp(x, axis=1), jax.nn.softmax(x, axis=1)), np.array([[-np.inf, -np.inf, -np.inf], [0, -np.inf, 1], [1e30, 1, 0]], np.float32))
program('nan_handling', lambda x: (jnp.nan_to_num(x), jnp.nanmean(x), jnp.nanstd(x), jnp.isnan(x), jnp.maximum(x, 0), jnp.fmax(x, 0)),
        np.array([1, np.nan, -np.inf, np.inf, -2, 0], np.float32))
program('round_half_even', lambda x: (jnp.round(x), jnp.round(x, 1), jnp.rint(x), jnp.trunc(x), jnp.ceil(x)), np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.25, 0.35, 2.675], np.float32))
program('special_functions', lambda x: (jax.scipy.special.erf(x), jax.scipy.special.erfinv(jnp.tanh(x)), jax.scipy.special.gammaln(jnp.abs(x) + 0.1),
                                         jax.scipy.special.digamma(jnp.abs(x) + 0.1), jax.scipy.special.logit(jax.nn.sigmoid(x)), jax.scipy.special.xlogy(x, jnp.abs(x))), f32(7))
program('percentile_median', lambda x: (jnp.median(x, axis=0), jnp.percentile(x, 90.0), jnp.quantile(x, jnp.array([0.1, 0.5]), axis=1)), f32(5, 4))
program('linalg_norms_solve', lambda a, b: (jnp.linalg.norm(a), jnp.linalg.norm(a, 2), jnp.linalg.norm(b, axis=0), jnp.linalg.solve(a @ a.T + 3 * jnp.eye(3), b), jnp.linalg.det(a)),
        f32(3, 3), f32(3, 2))
program('kron_outer_trace', lambda a, b: (jnp.kron(a, b), jnp.outer(a[0], b[1]), jnp.trace(a), jnp.tril(a, -1) + jnp.triu(b, 1)), f32(2, 2), f32(2, 2))
print('done')
