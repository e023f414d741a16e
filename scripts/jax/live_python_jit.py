"""kiln.jit by hand, with the real JAX: on a machine with JAX and a kiln server (the GPU machine),
runs JAX users' functions through ``kiln.jit`` (lowered by this JAX, sent to the server, run there)
and through ``jax.jit`` itself, and prints how far apart they are. Not a CI test (CI has no JAX; it
replays recorded lowerings, test/server/python-jit.test.ts); this is the check that the live path
works unchanged.

    node dist/cli.js serve --port 5555 --device webgpu &
    python3 scripts/jax/live_python_jit.py http://127.0.0.1:5555
"""
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'client', 'python'))
import kiln  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')


def mlp(params, x):
    h = jax.nn.gelu(x @ params['w1'] + params['b1'])
    return jax.nn.log_softmax(h @ params['w2'], axis=-1)


def loss_and_grad(params, x, y):
    def loss(p):
        return -jnp.mean(jnp.sum(mlp(p, x) * jax.nn.one_hot(y, 3), axis=-1))
    return jax.value_and_grad(loss)(params)


def scan_cumsum(x):
    return jax.lax.scan(lambda c, v: (c + v, c * v), jnp.zeros(x.shape[1:], x.dtype), x)


def while_newton(a):
    def body(s):
        x, i = s
        return 0.5 * (x + a / x), i + 1
    return jax.lax.while_loop(lambda s: s[1] < 20, body, (a, 0))[0]


def index_update(x, i):
    return x.at[i].add(10.0).at[:, 0].set(-1.0)


def conv(x, w):
    return jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def random_draws(seed):
    k = jax.random.key(seed)
    k1, k2, k3 = jax.random.split(k, 3)
    return jax.random.normal(k1, (4, 5)), jax.random.uniform(k2, (7,)), jax.random.randint(k3, (6,), 0, 100)


def linalg(a, b):
    s = a @ a.T + 4 * jnp.eye(a.shape[0])
    return jnp.linalg.solve(s, b), jnp.linalg.cholesky(s), jnp.linalg.det(s), jnp.linalg.eigh(s)[0]


def fft(x):
    return jnp.abs(jnp.fft.rfft(x)), jnp.fft.irfft(jnp.fft.rfft(x), n=x.shape[-1])


def sort_topk(x):
    return jnp.sort(x), jnp.argsort(x), jax.lax.top_k(x, 3)


rng = np.random.default_rng(0)
params = {'w1': rng.standard_normal((6, 16)).astype(np.float32) * 0.3, 'b1': np.zeros(16, np.float32),
          'w2': rng.standard_normal((16, 3)).astype(np.float32) * 0.3}
x = rng.standard_normal((8, 6)).astype(np.float32)
CASES = [
    ('mlp (params resident)', mlp, (params, x), dict(resident_argnums=(0,))),
    ('value_and_grad', loss_and_grad, (params, x, rng.integers(0, 3, 8).astype(np.int32)), {}),
    ('lax.scan', scan_cumsum, (rng.standard_normal((5, 3)).astype(np.float32),), {}),
    ('lax.while_loop', while_newton, (rng.uniform(1, 9, 6).astype(np.float32),), {}),
    ('.at[].add/.set', index_update, (np.zeros((4, 3), np.float32), 2), {}),
    ('conv NHWC', conv, (rng.standard_normal((2, 6, 6, 3)).astype(np.float32), rng.standard_normal((3, 3, 3, 4)).astype(np.float32)), {}),
    ('jax.random', random_draws, (7,), {}),
    ('linalg', linalg, (rng.standard_normal((5, 5)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)), {}),
    ('fft', fft, (rng.standard_normal((3, 16)).astype(np.float32),), {}),
    ('sort/argsort/top_k', sort_topk, (rng.standard_normal(9).astype(np.float32),), {}),
]


def main():
    server = kiln.Client(sys.argv[1] if len(sys.argv) > 1 else 'http://127.0.0.1:5555')
    print(f'JAX {jax.__version__} on {jax.devices()[0].platform}; kiln server {sys.argv[1:] or "default"}')
    print('| case | max abs diff vs jax.jit | first call ms | second call ms |')
    print('|---|---|---|---|')
    bad = 0
    for name, fn, args, kw in CASES:
        want = jax.tree.leaves(jax.jit(fn)(*args))
        try:
            j = kiln.jit(server, fn, **kw)
            t0 = time.perf_counter()
            got = kiln.tree_flatten(j(*args))[0]
            t1 = time.perf_counter()
            j(*args)
            t2 = time.perf_counter()
            diff = max(float(np.max(np.abs(np.asarray(g, np.float64) - np.asarray(w, np.float64)))) if np.asarray(w).size else 0.0
                       for g, w in zip(got, want))
            ok = len(got) == len(want) and diff <= 1e-3 * max(1.0, max(float(np.max(np.abs(np.asarray(w)))) for w in want))
            bad += not ok
            print(f'| {name} | {diff:.3g}{"" if ok else " MISMATCH"} | {1e3 * (t1 - t0):.1f} | {1e3 * (t2 - t1):.1f} |')
        except Exception as e:  # noqa: BLE001 - report every case
            bad += 1
            print(f'| {name} | ERROR {type(e).__name__}: {str(e)[:200]} | | |')
    print(f'{len(CASES) - bad}/{len(CASES)} cases match jax.jit')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
