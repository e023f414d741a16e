"""Real JAX programs beyond the corpus, in the corpus format (NAME.mlir + NAME.json): sharding on
one device, composites, reduce_precision, collectives, rng_bit_generator, custom calls, mixed
precision. CPU lowering; NAME.gpu.mlir where the GPU lowering differs.

    python3 scripts/jax/gen_programs.py OUT_DIR
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

sys.path.insert(0, os.path.dirname(__file__))
from common import program as common_program  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(5)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def program(name, f, *args, note='', text=None):
    common_program(out_dir, name, f, *args, note=note, text=text)


mesh = Mesh(np.array(jax.devices('cpu')[:1]), ('x',))
X = f32(8, 4)
program('sharding_constraint', lambda x: jax.lax.with_sharding_constraint(jnp.sin(x), NamedSharding(mesh, P('x', None))) * 2, X,
        note='Shardy sharding_constraint on a one-device mesh')
program('sharded_jit', jax.jit(lambda x, w: jnp.tanh(x @ w), in_shardings=(NamedSharding(mesh, P('x', None)), NamedSharding(mesh, P())),
                               out_shardings=NamedSharding(mesh, P('x', None))), X, f32(4, 3), note='in/out shardings on a one-device mesh')


def shard_mapped(x):
    from jax.experimental.shard_map import shard_map
    return shard_map(lambda b: b * 2 + jnp.sum(b), mesh=mesh, in_specs=P('x', None), out_specs=P('x', None))(x)


program('shard_map', shard_mapped, X, note='manual computation on a one-device mesh')
program('reduce_precision', lambda x: lax.reduce_precision(x * 100, exponent_bits=5, mantissa_bits=10), X)
program('reduce_precision_bf16', lambda x: lax.reduce_precision(x, exponent_bits=8, mantissa_bits=7), X)
program('psum_one_replica', lambda x: jax.vmap(lambda v: lax.psum(v, 'i'), axis_name='i')(x), X, note='psum under vmap')
program('dot_f16_to_f32', lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type=jnp.float32),
        f32(4, 8).astype(np.float16), f32(8, 3).astype(np.float16))
program('bf16_matmul', lambda a, b: (a.astype(jnp.bfloat16) @ b.astype(jnp.bfloat16)).astype(jnp.float32), f32(4, 8), f32(8, 3),
        note='bf16 storage and arithmetic')
program('rng_bit_generator', lambda k: lax.rng_bit_generator(k, (4, 4), dtype=jnp.uint32)[1], np.array([1, 2, 3, 4], np.uint32),
        note='algorithm DEFAULT')
program('rng_bit_generator_threefry', lambda k: lax.rng_bit_generator(k, (8,), dtype=jnp.uint32, algorithm=lax.RandomAlgorithm.RNG_THREE_FRY)[1],
        np.array([1, 2, 3, 4], np.uint32))
program('rng_bit_generator_philox', lambda k: lax.rng_bit_generator(k, (8,), dtype=jnp.uint32, algorithm=lax.RandomAlgorithm.RNG_PHILOX)[1],
        np.array([1, 2, 3, 4], np.uint32))
program('cholesky', jnp.linalg.cholesky, (lambda m: (m @ m.T + 4 * np.eye(4)).astype(np.float32))(f32(4, 4)), note='lapack_spotrf_ffi on CPU')
program('triangular_solve', lambda a, b: jax.scipy.linalg.solve_triangular(a, b, lower=True), np.tril(f32(4, 4)) + 4 * np.eye(4, dtype=np.float32), f32(4, 2))
program('lu_solve', jnp.linalg.solve, f32(4, 4) + 4 * np.eye(4, dtype=np.float32), f32(4, 2), note='getrf + trsm')
program('qr', jnp.linalg.qr, f32(5, 3))
program('eigh', jnp.linalg.eigh, (lambda m: (m + m.T).astype(np.float32))(f32(4, 4)))
program('svd', lambda a: jnp.linalg.svd(a, compute_uv=False), f32(5, 3))
program('fft', lambda x: jnp.abs(jnp.fft.fft(x)), f32(16), note='complex64 and stablehlo.fft')
program('rfft_irfft', lambda x: jnp.fft.irfft(jnp.fft.rfft(x) * 0.5, n=16), f32(16))
program('argsort_float', jnp.argsort, f32(12))
program('top_k', lambda x: lax.top_k(x, 3), f32(4, 10))
program('cumsum_assoc', lambda x: jnp.cumsum(x, axis=0), f32(64, 3), note='CPU: reduce_window or associative scan')
program('remat_grad', jax.grad(lambda x: jnp.sum(jax.checkpoint(lambda v: jnp.sin(v) * jnp.exp(v))(x))), f32(6),
        note='checkpoint: optimization_barrier')
program('batch_norm_like', lambda x, g, b: (x - x.mean(0)) / jnp.sqrt(x.var(0) + 1e-5) * g + b, f32(16, 4), f32(4), f32(4))
program('while_dynamic', lambda x, n: lax.fori_loop(0, n, lambda i, c: c * 0.9 + jnp.sin(c), x), f32(5), np.int32(7))
program('scan_rnn', lambda w, xs: lax.scan(lambda h, x: (jnp.tanh(h @ w + x), h.sum()), jnp.zeros(4), xs), f32(4, 4), f32(6, 4))
program('cond_switch', lambda i, x: lax.switch(i, [jnp.sin, jnp.cos, lambda v: v * 2], x), np.int32(1), f32(5))
program('custom_jvp_softplus', jax.grad(lambda x: jnp.sum(jax.nn.softplus(x) + jax.nn.relu(x))), f32(7))
program('erf_lgamma_digamma', lambda x: (lax.erf(x), lax.lgamma(jnp.abs(x) + 0.5), lax.digamma(jnp.abs(x) + 0.5)), f32(6))
program('integer_ops', lambda a, b: (a // b, a % b, a >> 2, a << 1, jnp.bitwise_xor(a, b)), np.array([7, -7, 100, -3], np.int32),
        np.array([2, 3, -5, 7], np.int32))
program('float_to_int', lambda x: (x.astype(jnp.int32), x.astype(jnp.uint32), jnp.round(x).astype(jnp.int32)),
        np.array([1.5, -2.5, 3.7, 1e10, -0.4], np.float32))
print('done')
