"""The second batch of real JAX programs (issue 13's "at least 40 more"), in the corpus format
(NAME.mlir + NAME.json, NAME.gpu.mlir where JAX's GPU lowering differs): complex64 arithmetic and
FFTs, linear algebra through LAPACK / cuSOLVER custom calls, the rbg PRNGs and rng_bit_generator,
bf16, special functions, 64-bit programs, and small real models. CPU lowering, float32, matmul
precision highest; the x64 programs come last (they switch jax_enable_x64 on).

    JAX_PLATFORMS=cpu python3 scripts/jax/gen_programs_more.py OUT_DIR      (CPU lowering only)
    python3 scripts/jax/gen_programs_more.py OUT_DIR                        (also GPU lowerings)
"""
import os
import sys

import jax
import jax.numpy as jnp
import jax.scipy as jsp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(__file__))
from common import program as common_program  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(11)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def c64(*s):
    return (rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64)


def spd(n, batch=()):
    m = rng.standard_normal(batch + (n, n))
    return (m @ np.swapaxes(m, -1, -2) + n * np.eye(n)).astype(np.float32)


def program(name, f, *args, note=''):
    common_program(out_dir, name, f, *args, note=note)


# ---- complex64 ------------------------------------------------------------------------------
program('complex_arith', lambda a, b: (lax.complex(a, b) * lax.complex(b, a) / lax.complex(a + 3, b), lax.complex(a, b) - 1j),
        f32(6), f32(6), note='complex, multiply, divide; complex outputs')
program('complex_parts', lambda z: (jnp.real(z), jnp.imag(z), jnp.abs(z), jnp.angle(z), jnp.conj(z)), c64(2, 3),
        note='complex input; real, imag, abs, angle, conj')
program('complex_transcendental', lambda z: (jnp.exp(z), jnp.log(z), jnp.sqrt(z), jnp.sin(z), jnp.cos(z), jnp.tanh(z)), c64(5))
program('complex_power', lambda z, w: (z ** 2, z ** w, 1 / z, jnp.expm1(z), jnp.log1p(z)), c64(4), c64(4))
program('complex_matmul', lambda a, b: a @ b, c64(3, 4), c64(4, 2), note='complex dot_general')
program('complex_reduce', lambda z: (jnp.sum(z, axis=0), jnp.mean(z), jnp.prod(z[:, :3], axis=1)), c64(4, 5))
program('complex_layout', lambda z: (jnp.concatenate([z, z[:1] * 2], 0), jnp.flip(z, 1), jnp.pad(z, 1), z[::2, 1:]), c64(2, 3))
program('complex_compare_select', lambda z, w: (z == w, jnp.where(jnp.abs(z) > 1, z, w), z != 0), c64(6), c64(6))
program('complex_from_real', lambda x: (x.astype(jnp.complex64) * (1 + 2j), jnp.exp(1j * x)), f32(5))

# ---- FFT ------------------------------------------------------------------------------------
program('fft_lengths', lambda a, b, c, d: (jnp.fft.fft(a), jnp.fft.fft(b), jnp.fft.fft(c), jnp.fft.fft(d)),
        f32(5), f32(12), f32(17), f32(97), note='lengths 5, 12, 17 (prime), 97 (prime)')
program('fft_complex_ifft', lambda z: (jnp.fft.ifft(z), jnp.fft.fft(z, n=10)), c64(8), note='ifft; fft with n (zero padding)')
program('fft_batched_axis', lambda x: (jnp.fft.fft(x, axis=0), jnp.fft.fft(x, axis=-1)), f32(6, 4), note='fft over a non-last axis')
program('fft2_ifft2', lambda z: (jnp.fft.fft2(z), jnp.fft.ifft2(z)), c64(2, 4, 6))
program('fftn_3d', lambda x: jnp.fft.fftn(x), f32(3, 4, 5))
program('rfft_odd', lambda x: (jnp.fft.rfft(x), jnp.fft.irfft(jnp.fft.rfft(x), n=15)), f32(15))
program('rfft2_irfft2', lambda x: jnp.fft.irfft2(jnp.fft.rfft2(x) * 2, s=(4, 6)), f32(2, 4, 6))
program('rfftn_3d', lambda x: jnp.fft.rfftn(x), f32(2, 3, 8))
program('fft_norms', lambda x: (jnp.fft.fft(x, norm='ortho'), jnp.fft.ifft(x, norm='forward'), jnp.fft.rfft(x, norm='ortho')), f32(8))
program('fft_convolve', lambda a, b: jnp.fft.irfft(jnp.fft.rfft(a, n=16) * jnp.fft.rfft(b, n=16), n=16), f32(9), f32(8),
        note='circular convolution through rfft')
program('fft_power_spectrum_grad', jax.grad(lambda x: jnp.sum(jnp.abs(jnp.fft.rfft(x)) ** 2 * jnp.arange(5.0))), f32(8),
        note='gradient through rfft and complex abs')
program('fft_shift_freq', lambda x: (jnp.fft.fftshift(jnp.fft.fft(x)), jnp.fft.fftfreq(8) * x[0]), f32(8))
program('fft_hfft', lambda z: (jnp.fft.hfft(z, n=8), jnp.fft.ihfft(jnp.real(z))), c64(5))

# ---- linear algebra -------------------------------------------------------------------------
program('cholesky_batched', jnp.linalg.cholesky, spd(4, (3,)))
program('cholesky_upper', lambda a: jsp.linalg.cholesky(a, lower=False), spd(5))
program('cho_solve', lambda a, b: jsp.linalg.cho_solve(jsp.linalg.cho_factor(a), b), spd(4), f32(4, 2))
program('inv', jnp.linalg.inv, f32(4, 4) + 4 * np.eye(4, dtype=np.float32))
program('det_slogdet', lambda a: (jnp.linalg.det(a), *jnp.linalg.slogdet(a)), f32(3, 5, 5))
program('solve_batched', jnp.linalg.solve, f32(2, 3, 3) + 3 * np.eye(3, dtype=np.float32), f32(2, 3, 2))
program('scipy_lu', jsp.linalg.lu, f32(4, 4), note='P, L, U')
program('lu_factor_solve', lambda a, b: jsp.linalg.lu_solve(jsp.linalg.lu_factor(a), b), f32(5, 5), f32(5))
program('triangular_variants', lambda a, b: (jsp.linalg.solve_triangular(a, b, lower=False), jsp.linalg.solve_triangular(a, b, trans=1),
                                             jsp.linalg.solve_triangular(a, b, unit_diagonal=True)),
        np.triu(f32(4, 4)) + 3 * np.eye(4, dtype=np.float32), f32(4, 3))
program('triangular_right', lambda a, b: lax.linalg.triangular_solve(a, b, left_side=False, lower=True, transpose_a=True),
        np.tril(f32(3, 3)) + 3 * np.eye(3, dtype=np.float32), f32(2, 3))
program('qr_complete', lambda a: jnp.linalg.qr(a, mode='complete'), f32(5, 3))
program('qr_r_wide', lambda a: jnp.linalg.qr(a, mode='r'), f32(3, 5))
program('eigvalsh_batched', jnp.linalg.eigvalsh, spd(4, (2,)))
program('svd_full', lambda a: jnp.linalg.svd(a, full_matrices=True), f32(4, 3))
program('svd_reduced_wide', lambda a: jnp.linalg.svd(a, full_matrices=False), f32(3, 5))
program('lstsq', lambda a, b: jnp.linalg.lstsq(a, b)[0], f32(6, 3), f32(6, 2))
program('pinv_rank', lambda a: (jnp.linalg.pinv(a), jnp.linalg.matrix_rank(a)), f32(4, 3))
program('norms', lambda a: (jnp.linalg.norm(a, 2), jnp.linalg.norm(a, 'nuc'), jnp.linalg.norm(a, 'fro'), jnp.linalg.cond(a)), f32(4, 4))
program('matrix_power_neg', lambda a: jnp.linalg.matrix_power(a, -3), f32(3, 3) + 3 * np.eye(3, dtype=np.float32))
program('expm', jsp.linalg.expm, 0.3 * f32(4, 4), note='Pade approximant with a solve')
program('grad_det_inv', jax.grad(lambda a: jnp.linalg.det(a) + jnp.sum(jnp.linalg.inv(a))), f32(3, 3) + 3 * np.eye(3, dtype=np.float32))
program('grad_cholesky', jax.grad(lambda a: jnp.sum(jnp.linalg.cholesky(a) ** 2)), spd(4))
program('grad_eigh_svd', jax.grad(lambda a: jnp.sum(jnp.linalg.eigvalsh(a + a.T) ** 3) + jnp.sum(jnp.linalg.svd(a, compute_uv=False))),
        f32(4, 4))
program('grad_qr_solve', jax.grad(lambda a, b: jnp.sum(jnp.linalg.qr(a)[1]) + jnp.sum(jnp.linalg.solve(a, b)), argnums=(0, 1)),
        f32(3, 3) + 3 * np.eye(3, dtype=np.float32), f32(3))
program('gaussian_process', lambda x, y: (lambda k: y @ jsp.linalg.cho_solve(jsp.linalg.cho_factor(k), y))(
    jnp.exp(-0.5 * (x[:, None] - x[None, :]) ** 2) + 0.1 * jnp.eye(x.shape[0])), f32(8), f32(8), note='GP marginal likelihood term')

# ---- PRNGs ----------------------------------------------------------------------------------
K4 = np.array([1, 2, 3, 4], np.uint32)
program('rng_bit_generator_state', lambda k: lax.rng_bit_generator(k, (2, 3, 4), dtype=jnp.uint32), K4, note='new state and bits')
program('rng_bit_generator_u64', lambda k: lax.rng_bit_generator(k, (5,), dtype=jnp.uint64)[1].astype(jnp.uint32), K4)
program('prng_rbg_normal', lambda k: jax.random.normal(jax.random.wrap_key_data(k, impl='rbg'), (3, 4)), np.arange(4, dtype=np.uint32))
program('prng_unsafe_rbg_uniform', lambda k: jax.random.uniform(jax.random.wrap_key_data(k, impl='unsafe_rbg'), (7,)),
        np.arange(4, dtype=np.uint32))
program('prng_rbg_split', lambda k: jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k, impl='rbg'), 3)),
        np.arange(4, dtype=np.uint32))
KEY = np.asarray(jax.random.key_data(jax.random.PRNGKey(3)))
W = lambda k: jax.random.wrap_key_data(k)  # noqa: E731
program('random_gamma_beta', lambda k: (jax.random.gamma(W(k), jnp.array([0.5, 1.0, 3.0])), jax.random.beta(W(k), 2.0, 3.0, (4,))), KEY,
        note='while loops per element (Marsaglia-Tsang)')
program('random_poisson_dirichlet', lambda k: (jax.random.poisson(W(k), 3.0, (5,)), jax.random.dirichlet(W(k), jnp.array([1.0, 2.0, 0.5]))), KEY)
program('random_mvn_orthogonal', lambda k: (jax.random.multivariate_normal(W(k), jnp.zeros(3), jnp.array(spd(3)), (2,)),
                                            jax.random.orthogonal(W(k), 3)), KEY, note='Cholesky/SVD and QR inside random')
program('random_gamma_grad', jax.grad(lambda a, k: jnp.sum(jax.random.gamma(W(k), a)), argnums=0), np.array([0.7, 2.0], np.float32), KEY,
        note='implicit reparameterization gradient (random_gamma_grad)')

# ---- bf16 -----------------------------------------------------------------------------------
program('bf16_elementwise', lambda x: (jnp.tanh(x.astype(jnp.bfloat16) * 3 + 1)).astype(jnp.float32), f32(8))
program('bf16_reduce', lambda x: (jnp.sum(x.astype(jnp.bfloat16), axis=1).astype(jnp.float32), jnp.max(x.astype(jnp.bfloat16))), f32(4, 16),
        note='bf16 output')
program('bf16_mlp', lambda x, w: jax.nn.relu(x.astype(jnp.bfloat16) @ w.astype(jnp.bfloat16)).astype(jnp.float32), f32(4, 8), f32(8, 5))

# ---- special functions and GPU-specific lowerings ---------------------------------------------
P = np.abs(f32(6)) + 0.5
program('special_igamma', lambda a, x: (lax.igamma(a, x), lax.igammac(a, x), jsp.special.gammainc(a, x)), P, P[::-1])
program('special_more', lambda x: (jsp.special.betaln(x, x + 1), jsp.special.xlogy(x, x), jsp.special.i0e(x), jsp.special.i1e(x),
                                   jsp.special.zeta(x + 1.5, 2.0), jsp.special.polygamma(1, x), jsp.special.erfinv(x / 4)), P)
program('cumulative_ops', lambda x: (jnp.cumsum(x, 1), jnp.cumprod(x, 0), lax.cummax(x, 1), lax.cumlogsumexp(x, 0)), f32(8, 5),
        note='the GPU lowering uses associative scans')
program('special_chlo_domain', lambda x, q, n, y: (jsp.special.i1e(y), jsp.special.zeta(x, q), jsp.special.polygamma(n, y)),
        np.array([2, 3, 1, 0.5, 2, 3, 2.5, 4], np.float32), np.array([1, 2, 3, 1, 0, -1, -1.5, 0.25], np.float32),
        np.array([0, 1, 2, 3, 1, -1, 4, 2], np.int32), np.array([0.3, 1, -1, 7.9, 8.1, -20, 3.5, 50], np.float32),
        note='chlo.bessel_i1e both sides of 8, chlo.zeta poles and domain errors, chlo.polygamma n = 0..4 and n = -1 (JAX wants an integer n)')
program('cumulative_reverse', lambda x, i: (lax.cumsum(x, 0, reverse=True), lax.cummin(x, 1), lax.cummax(x, 0, reverse=True),
                                             lax.cumprod(x, 1, reverse=True), jnp.cumsum(i, 1), lax.cumsum(i, 0, reverse=True)),
        f32(6, 4), np.array(rng.integers(-5, 5, (6, 4)), np.int32), note='the GPU lowering uses chlo.scan, reversed and forward')
program('sort_2d_multi', lambda a, b: (jnp.sort(a, axis=0), jnp.argsort(a, axis=1), lax.sort((b, a), num_keys=2)),
        f32(4, 5), np.array(rng.integers(0, 3, (4, 5)), np.float32))
program('top_k_large', lambda x: lax.top_k(x, 5), f32(3, 300))

# ---- small real models ----------------------------------------------------------------------
def cnn(params, x):
    w1, w2, wd = params
    h = jax.nn.relu(lax.conv_general_dilated(x, w1, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')))
    h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID')
    h = jax.nn.relu(lax.conv_general_dilated(h, w2, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')))
    return h.reshape(h.shape[0], -1) @ wd


def cnn_loss(params, x, y):
    return -jnp.mean(jnp.sum(jax.nn.log_softmax(cnn(params, x)) * jax.nn.one_hot(y, 3), -1))


program('cnn_train_step', lambda w1, w2, wd, x, y: jax.tree.map(lambda p, g: p - 0.1 * g, (w1, w2, wd),
                                                               jax.grad(cnn_loss)((w1, w2, wd), x, y)),
        0.3 * f32(3, 3, 1, 4), 0.3 * f32(3, 3, 4, 4), 0.3 * f32(16 * 4, 3), f32(2, 8, 8, 1), np.array([0, 2], np.int32))


def attention(q, k, v, mask):
    s = jnp.einsum('bqd,bkd->bqk', q, k) / jnp.sqrt(q.shape[-1])
    return jnp.einsum('bqk,bkd->bqd', jax.nn.softmax(jnp.where(mask, s, -1e9), -1), v)


program('masked_attention', attention, f32(2, 5, 8), f32(2, 6, 8), f32(2, 6, 8), rng.random((2, 5, 6)) > 0.3)
program('scatter_gather_model', lambda e, idx, upd: (e.at[idx].add(upd), jnp.take(e, idx, axis=0, mode='clip'), e[idx[::-1]]),
        f32(6, 3), np.array([1, 3, 1, 7], np.int32), f32(4, 3), note='duplicate indices; an out-of-range index')
program('adam_step', lambda p, g, m, v, t: (lambda m2, v2: (p - 1e-3 * (m2 / (1 - 0.9 ** t)) / (jnp.sqrt(v2 / (1 - 0.999 ** t)) + 1e-8), m2, v2))(
    0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g), f32(10), f32(10), f32(10), np.abs(f32(10)), np.float32(3.0))
program('unique_bincount', lambda x: (jnp.unique(x, size=6, fill_value=-1), jnp.bincount(x, length=8), jnp.histogram(x, bins=4, range=(0, 8))[0]),
        np.array([3, 1, 3, 7, 0, 1, 1, 5], np.int32))
program('interp_searchsorted', lambda x, xp, fp: (jnp.interp(x, xp, fp), jnp.searchsorted(xp, x)),
        np.linspace(-1, 5, 9).astype(np.float32), np.array([0, 1, 2.5, 4], np.float32), f32(4))
program('while_newton', lambda a: lax.while_loop(lambda c: jnp.abs(c[0] * c[0] - a) > 1e-5,
                                                 lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1), (a, 0))[1], np.float32(10.0))

# ---- 64-bit programs (jax_enable_x64 on) ------------------------------------------------------
jax.config.update('jax_enable_x64', True)
program('x64_f64_sum', lambda x: jnp.sum(x * 2.0), np.arange(5, dtype=np.float64), note='f64: refused with the reason')
program('x64_int_index', lambda x, i: (jnp.arange(6, dtype=jnp.int64) * i, x[i]), np.arange(6, dtype=np.int64), np.int64(3))
program('x64_index_clamp', lambda x, i, j, u: (lax.dynamic_slice(x, (i,), (2,)), lax.dynamic_slice(x, (j,), (3,)),
                                                lax.dynamic_update_slice(x, x[:2] * 10, (i,)), lax.dynamic_slice(x, (u,), (2,))),
        np.arange(6, dtype=np.float32), np.int64(2 ** 40 + 1), np.int64(-(2 ** 33)), np.uint64(2 ** 63 + 1),
        note='64-bit start indices past i32 range: clamped, not wrapped')
program('x64_complex128', lambda x: jnp.fft.fft(x), np.arange(4, dtype=np.float64), note='complex128: refused with the reason')

# ---- scans and cumulative ops (appended last: programs above keep their inputs) --------------
# x64 off again: these are float32/int32 programs. JAX's GPU lowering writes chlo.scan for a
# forward cumsum (of any element type, complex included); the others are reduce_windows or
# lax.associative_scan's slice/pad trees.
jax.config.update('jax_enable_x64', False)
program('scan_cumsum_complex', lambda z: (jnp.cumsum(z, axis=1), jnp.cumsum(z, axis=0)[::-1], jnp.cumprod(z, axis=1)), c64(3, 4),
        note='complex cumsum (chlo.scan of complex<f32> on GPU) and complex cumprod')
program('scan_cumsum_dtypes', lambda b, u, i: (jnp.cumsum(b, axis=0), jnp.cumsum(u), jnp.cumsum(i, axis=0, dtype=jnp.float32),
                                               lax.cummax(i, 1), lax.cummin(i, 0, reverse=True)),
        rng.random((5, 3)) > 0.5, np.array(rng.integers(0, 9, 7), np.uint32), np.array(rng.integers(-9, 9, (4, 6)), np.int32),
        note='bool, uint32 and int32 cumulative ops')
program('scan_cumlogsumexp_reverse', lambda x: (lax.cumlogsumexp(x, 1, reverse=True), jnp.cumsum(x, axis=1)[..., ::-1],
                                                lax.cumsum(x, 2, reverse=True), lax.cumlogsumexp(x, 0)), f32(2, 5, 3),
        note='cumlogsumexp (a multi-op window body) both ways; 3-d scans over a middle axis')
program('scan_linear_recurrence', lambda a, b: lax.associative_scan(lambda l, r: (l[0] * r[0], r[0] * l[1] + r[1]), (a, b), axis=0),
        0.5 + 0.25 * np.abs(f32(9, 2)), f32(9, 2), note='h_t = a_t h_(t-1) + b_t as an associative scan of pairs')
program('scan_associative_reverse', lambda x: (lax.associative_scan(jnp.maximum, x, reverse=True, axis=1), lax.associative_scan(jnp.add, x, axis=0)),
        f32(6, 7))
program('scan_nancumsum', lambda x: (jnp.nancumsum(x, 0), jnp.nancumprod(x, 1)),
        np.where(rng.random((4, 5)) > 0.7, np.nan, f32(4, 5)).astype(np.float32), note='NaNs skipped')
program('scan_cumsum_long', lambda x: (jnp.cumsum(x), jnp.cumsum(x.reshape(40, 50), axis=1)), np.abs(f32(2000)),
        note='a long scan axis (positive values: no cancellation)')
program('scan_discounted_returns', lambda r, d: lax.scan(lambda c, x: (x[0] + 0.9 * x[1] * c, x[0] + 0.9 * x[1] * c), 0.0, (r, d), reverse=True)[1],
        f32(12), (rng.random(12) > 0.2).astype(np.float32), note='lax.scan reversed (a while loop)')
# random_mvn_orthogonal above draws its covariance (spd(3)) inside the traced function, so each trace
# bakes in a new one: its GPU lowering holds another constant than the CPU run that gave its outputs.
# This one takes the covariance as an argument, so both lowerings compute what JAX ran.
program('random_mvn_cusolver', lambda k, mean, cov: jax.random.multivariate_normal(W(k), mean, cov, (4,)), KEY, f32(3), spd(3),
        note='multivariate_normal: Cholesky through lapack_spotrf_ffi / cusolver_potrf_ffi, covariance as an argument')
program('cholesky_batched_upper_mask', lambda a: (jsp.linalg.cholesky(a, lower=False), jnp.linalg.cholesky(a[0] - 10 * jnp.eye(3))),
        spd(3, (2,)), note='batched upper Cholesky; a matrix that is not positive definite (NaNs from the info mask)')
# Regions on complex values (a scatter combiner, a window fold) and sorts of booleans.
program('complex_scatter_prod', lambda z, i, u: (z.at[i].multiply(u), z.at[i].add(u), jnp.prod(z.reshape(2, 3), axis=0), jnp.cumprod(z)),
        c64(6), np.array([0, 4, 0, 2], np.int32), c64(4), note='complex scatter-multiply (a duplicate index), product, cumprod')
program('argsort_bool', lambda m, x: (jnp.argsort(m, stable=True), jnp.sort(m), jnp.argsort(x, descending=True, stable=True)),
        rng.random(9) > 0.5, np.array(rng.integers(0, 4, 9), np.int32), note='sorts of booleans; a stable descending argsort with ties')
print('done')
