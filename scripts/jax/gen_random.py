"""Real JAX programs that use jax.random inside jit, in the corpus format (NAME.mlir + NAME.json).

Each program is `jax.jit(f).lower(*args).as_text()` as JAX prints it (CPU lowering), its inputs,
and the outputs JAX computed on CPU. Where the GPU lowering differs, NAME.gpu.mlir holds it too.

    python3 scripts/jax/gen_random.py OUT_DIR
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import dump, tensor  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
cpu = jax.devices('cpu')[0]
try:
    gpu = jax.devices('gpu')[0]
except RuntimeError:
    gpu = None

KEY = np.asarray(jax.random.key_data(jax.random.PRNGKey(42)), dtype=np.uint32)
KEY2 = np.asarray(jax.random.key_data(jax.random.PRNGKey(7)), dtype=np.uint32)
RBG = np.asarray(jax.random.key_data(jax.random.key(3, impl='rbg')), dtype=np.uint32)
rng = np.random.default_rng(0)


def program(name, f, *args, note=''):
    args = [np.asarray(a) for a in args]
    with jax.default_device(cpu):
        lowered = jax.jit(f).lower(*args)
        text = lowered.as_text()
        outs = jax.jit(f)(*args)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    with open(os.path.join(out_dir, name + '.mlir'), 'w') as fh:
        fh.write(text)
    dump(os.path.join(out_dir, name + '.json'), {
        'name': name, 'note': note,
        'inputs': [tensor(a) for a in args],
        'outputs': [tensor(np.asarray(o)) for o in outs],
    })
    if gpu is not None:
        with jax.default_device(gpu):
            gtext = jax.jit(f).lower(*[jax.device_put(a, gpu) for a in args]).as_text()
        if gtext != text:
            with open(os.path.join(out_dir, name + '.gpu.mlir'), 'w') as fh:
                fh.write(gtext)
    print(name, 'ok', 'gpu-differs' if gpu is not None and gtext != text else '')


def wrap(k):
    return jax.random.wrap_key_data(k)


program('random_normal', lambda k: jax.random.normal(wrap(k), (4, 8)), KEY, note='threefry normal')
program('random_uniform', lambda k: jax.random.uniform(wrap(k), (16,), minval=-1.0, maxval=2.0), KEY)
program('random_split', lambda k: jax.random.key_data(jax.random.split(wrap(k), 4)), KEY)
program('random_fold_in', lambda k, d: jax.random.key_data(jax.random.fold_in(wrap(k), d)), KEY, np.int32(12345))
program('random_bernoulli', lambda k: jax.random.bernoulli(wrap(k), 0.3, (32,)), KEY)
program('random_randint', lambda k: jax.random.randint(wrap(k), (16,), 0, 10), KEY)
program('random_randint_wide', lambda k: jax.random.randint(wrap(k), (2, 8), -2**31, 2**31 - 1), KEY2)
program('random_bits', lambda k: jax.random.bits(wrap(k), (8,), dtype=jnp.uint32), KEY)
program('random_permutation', lambda k: jax.random.permutation(wrap(k), 10), KEY)
program('random_permutation_array', lambda k, x: jax.random.permutation(wrap(k), x, axis=1), KEY,
        rng.standard_normal((3, 6)).astype(np.float32))
program('random_categorical', lambda k, l: jax.random.categorical(wrap(k), l, axis=-1), KEY,
        rng.standard_normal((3, 5)).astype(np.float32))
program('random_choice', lambda k: jax.random.choice(wrap(k), 20, (5,), replace=False), KEY)
program('random_choice_p', lambda k, p: jax.random.choice(wrap(k), 4, (6,), p=p), KEY,
        np.array([0.1, 0.2, 0.3, 0.4], np.float32))
program('random_seed', lambda s: jax.random.normal(jax.random.PRNGKey(s), (8,)), np.int32(2024),
        note='PRNGKey made inside jit from an int32 seed')
program('random_key_new_style', lambda s: jax.random.key_data(jax.random.split(jax.random.key(s), 3)), np.int32(5))
program('random_truncated_normal', lambda k: jax.random.truncated_normal(wrap(k), -1.0, 2.0, (12,)), KEY)
program('random_gumbel', lambda k: jax.random.gumbel(wrap(k), (10,)), KEY)
program('random_exponential', lambda k: jax.random.exponential(wrap(k), (10,)), KEY)
program('random_laplace_logistic', lambda k: (jax.random.laplace(wrap(k), (6,)), jax.random.logistic(wrap(k), (6,))), KEY)
program('random_dropout', lambda k, x: jnp.where(jax.random.bernoulli(wrap(k), 0.9, x.shape), x / 0.9, 0.0), KEY,
        rng.standard_normal((4, 8)).astype(np.float32))


def mlp_init(k):
    k1, k2 = jax.random.split(wrap(k))
    w1 = jax.random.normal(k1, (6, 16)) * jnp.sqrt(2.0 / 6)
    w2 = jax.random.normal(k2, (16, 3)) * jnp.sqrt(2.0 / 16)
    return w1, jnp.zeros(16), w2, jnp.zeros(3)


program('random_mlp_init', mlp_init, KEY, note='He-normal init of a 2-layer MLP from one key')


def noisy_step(k, w, x):
    k1, k2 = jax.random.split(wrap(k))
    noise = 0.01 * jax.random.normal(k1, w.shape)
    keep = jax.random.bernoulli(k2, 0.8, x.shape)
    return jnp.tanh(jnp.where(keep, x, 0.0) @ (w + noise)), jax.random.key_data(k2)


program('random_noisy_layer', noisy_step, KEY, rng.standard_normal((5, 4)).astype(np.float32),
        rng.standard_normal((3, 5)).astype(np.float32))
program('random_gamma', lambda k: jax.random.gamma(wrap(k), jnp.array([0.5, 1.0, 2.5, 7.0]), (4,)), KEY,
        note='rejection sampling in a while loop')
program('random_beta', lambda k: jax.random.beta(wrap(k), 2.0, 3.0, (5,)), KEY)
program('random_poisson', lambda k: jax.random.poisson(wrap(k), 3.5, (8,)), KEY)
program('random_multivariate_normal', lambda k: jax.random.multivariate_normal(
    wrap(k), jnp.zeros(3), jnp.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]]), (4,)), KEY,
    note='uses a Cholesky factorisation (linear algebra custom call on CPU)')
program('random_rbg_normal', lambda k: jax.random.normal(jax.random.wrap_key_data(k, impl='rbg'), (8,)), RBG,
        note='rbg PRNG: stablehlo.rng_bit_generator')
program('random_rbg_split', lambda k: jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k, impl='rbg'), 2)), RBG)
print('done')
