"""Expected values for the client's library tests (test/client/library-*.test.ts): jax.numpy,
jax.nn, jax.random (bit-exact threefry), jax.lax and jax.numpy.linalg functions on fixed inputs.

Each case is `name -> {inputs, output}` (or `error`); the TypeScript tests write the same call
with kiln's client under the same name. Names are `ns.function` or `ns.function:variant`.

    JAX_PLATFORMS=cpu python3 scripts/jax/gen_library.py OUT.json
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
import jax.lax.linalg  # noqa: E402,F401 - lax.linalg.eigh / svd / qr

sys.path.insert(0, os.path.dirname(__file__))
from common import Recorder, dump, tree  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
rec = Recorder(12)
rng, cases, f32, i32, case = rec.rng, rec.cases, rec.f32, rec.i32, rec.case


def J(name):
    """jnp.<name>, looked up when called (a name this JAX lacks is then reported, not fatal)."""
    return lambda *a, **k: getattr(jnp, name)(*a, **k)


def NN(name):
    return lambda *a, **k: getattr(jax.nn, name)(*a, **k)


A = f32(3, 4)
B = f32(4)
C = f32(2, 3, 4)
P = f32(3, 4, lo=0.1, hi=3.0)
U = f32(3, 4, lo=-0.9, hi=0.9)
I = i32(3, 4)
N = np.array([1.0, np.nan, -2.0, 4.0, np.nan, 0.5], np.float32)
Q = f32(3, 3) + 3 * np.eye(3, dtype=np.float32)
SPD = (lambda m: (m @ m.T + 3 * np.eye(4)).astype(np.float32))(f32(4, 4))
V = f32(5)

# ---- jax.numpy: elementwise and math ------------------------------------------------------
for name, fn, x in [
    ('cbrt', J('cbrt'), A), ('arcsinh', J('arcsinh'), A), ('arccosh', J('arccosh'), P + 1), ('arctanh', J('arctanh'), U),
    ('deg2rad', J('deg2rad'), A), ('rad2deg', J('rad2deg'), A), ('sinc', J('sinc'), A), ('rint', J('rint'), A * 3),
    ('signbit', J('signbit'), A), ('positive', J('positive'), A), ('exp2', J('exp2'), A),
    ('log2', J('log2'), P), ('log10', J('log10'), P), ('square', J('square'), A), ('reciprocal', J('reciprocal'), P),
    ('nanToNum', J('nan_to_num'), N), ('isneginf', J('isneginf'), np.array([-np.inf, 0, np.inf], np.float32)),
    ('isposinf', J('isposinf'), np.array([-np.inf, 0, np.inf], np.float32)), ('invert', J('invert'), I),
    ('bitwiseCount', J('bitwise_count'), np.abs(I)), ('around', lambda v: jnp.round(v, 1), A),
    ('i0', J('i0'), A), ('angle', J('angle'), A), ('frexp', J('frexp'), P), ('modf', J('modf'), A * 3),
]:
    case(f'np.{name}', fn, x)
for name, fn, x, y in [
    ('hypot', J('hypot'), A, P), ('logaddexp', J('logaddexp'), A, P), ('logaddexp2', J('logaddexp2'), A, P),
    ('copysign', J('copysign'), P, A), ('fmax', J('fmax'), N[:4], A[0]), ('fmin', J('fmin'), N[:4], A[0]),
    ('fmod', J('fmod'), A * 3, P), ('heaviside', J('heaviside'), np.array([-1, 0, 2], np.float32), np.float32(0.5)),
    ('leftShift', J('left_shift'), I, np.abs(I) % 5), ('rightShift', J('right_shift'), I, np.abs(I) % 5),
    ('floatPower', J('float_power'), P, A), ('trueDivide', J('true_divide'), A, P), ('divmod', J('divmod'), A * 3, P),
    ('ldexp', J('ldexp'), A, np.abs(I) % 4), ('nextafter', J('nextafter'), A, P), ('gcd', J('gcd'), I, i32(3, 4, lo=1, hi=9)),
    ('lcm', J('lcm'), I, i32(3, 4, lo=1, hi=9)), ('floorDivide:int', J('floor_divide'), I, i32(3, 4, lo=1, hi=4)),
    ('remainder:int', J('remainder'), I, i32(3, 4, lo=1, hi=4)), ('arctan2', J('arctan2'), A, P),
]:
    case(f'np.{name}', fn, x, y)

# ---- jax.numpy: shapes, stacking, indexing -------------------------------------------------
case('np.vstack', lambda a, b: jnp.vstack([a, b]), A, A * 2)
case('np.hstack', lambda a, b: jnp.hstack([a, b]), A, A * 2)
case('np.dstack', lambda a, b: jnp.dstack([a, b]), A, A * 2)
case('np.columnStack', lambda a, b: jnp.column_stack([a, b]), V, V * 2)
case('np.meshgrid', lambda a, b: jnp.meshgrid(a, b), V[:3], B)
case('np.meshgrid:ij', lambda a, b: jnp.meshgrid(a, b, indexing='ij'), V[:3], B)
case('np.roll', lambda a: jnp.roll(a, 2), A)
case('np.roll:axis', lambda a: jnp.roll(a, -1, axis=1), A)
case('np.diff', lambda a: jnp.diff(a), A)
case('np.diff:n2axis0', lambda a: jnp.diff(a, n=2, axis=0), A)
case('np.ediff1d', lambda a: jnp.ediff1d(a), V)
case('np.select', lambda a: jnp.select([a < -1, a > 1], [a * 10, a * 100], -1.0), A)
case('np.isin', lambda a, b: jnp.isin(a, b), I, np.array([0, 1, 2], np.int32))
case('np.tensordot', lambda a, b: jnp.tensordot(a, b, axes=1), A, f32(4, 2))
case('np.tensordot:axes', lambda a, b: jnp.tensordot(a, b, axes=([1, 2], [0, 1])), C, f32(3, 4, 2))
case('np.allclose', lambda a, b: jnp.allclose(a, b, atol=1e-3), A, A + 1e-4)
case('np.arrayEqual', lambda a, b: jnp.array_equal(a, b), A, A)
case('np.countNonzero', lambda a: jnp.count_nonzero(a), I)
case('np.countNonzero:axis', lambda a: jnp.count_nonzero(a, axis=1), I)
case('np.average', lambda a: jnp.average(a), A)
case('np.average:weights', lambda a, w: jnp.average(a, axis=1, weights=w), A, P[0])
case('np.arraySplit', lambda a: jnp.array_split(a, 3, axis=1), A)
case('np.split', lambda a: jnp.split(a, 2, axis=1), A)
case('np.hsplit', lambda a: jnp.hsplit(a, 2), A)
case('np.vsplit', lambda a: jnp.vsplit(a, 2), f32(4, 3))
case('np.unstack', lambda a: jnp.unstack(a), A)
case('np.diagonal', lambda a: jnp.diagonal(a), A)
case('np.diagonal:offset', lambda c: jnp.diagonal(c, offset=1, axis1=1, axis2=2), C)
case('np.diagflat', lambda a: jnp.diagflat(a), V[:3])
case('np.tri', lambda: jnp.tri(3, 4, 1))
case('np.tril', lambda a: jnp.tril(a, -1), A)
case('np.triu', lambda a: jnp.triu(a, 1), A)
case('np.cov', lambda a: jnp.cov(a), A)
case('np.corrcoef', lambda a: jnp.corrcoef(a), A)
case('np.convolve', lambda a, b: jnp.convolve(a, b), V, B[:3])
case('np.convolve:same', lambda a, b: jnp.convolve(a, b, mode='same'), V, B[:3])
case('np.correlate', lambda a, b: jnp.correlate(a, b, mode='full'), V, B[:3])
case('np.polyval', lambda p, x: jnp.polyval(p, x), B, V)
case('np.polyadd', lambda p, q: jnp.polyadd(p, q), B, V[:2])
case('np.polymul', lambda p, q: jnp.polymul(p, q), B, V[:2])
case('np.polyder', lambda p: jnp.polyder(p), B)
case('np.vander', lambda x: jnp.vander(x, 3), V)
case('np.trapezoid', lambda y: jnp.trapezoid(y), A)
case('np.cross', lambda a, b: jnp.cross(a, b), f32(2, 3), f32(2, 3))
case('np.outer', lambda a, b: jnp.outer(a, b), V, B)
case('np.vdot', lambda a, b: jnp.vdot(a, b), A, A)
case('np.vecdot', lambda a, b: jnp.vecdot(a, b), A, A)
case('np.matvec', lambda a, b: jnp.matvec(a, b), A, B)
case('np.vecmat', lambda a, b: jnp.vecmat(b, a), f32(4, 3), B)
case('np.matrixTranspose', lambda a: jnp.matrix_transpose(a), C)
case('np.permuteDims', lambda a: jnp.permute_dims(a, (2, 0, 1)), C)
case('np.rot90', lambda a: jnp.rot90(a), A)
case('np.fliplr', lambda a: jnp.fliplr(a), A)
case('np.flipud', lambda a: jnp.flipud(a), A)
case('np.append', lambda a, b: jnp.append(a, b, axis=0), A, A[:1])
case('np.ptp', lambda a: jnp.ptp(a, axis=1), A)
case('np.broadcastArrays', lambda a, b: jnp.broadcast_arrays(a, b), A, B)
case('np.atleast2d', lambda a: jnp.atleast_2d(a), V)
case('np.indices', lambda: jnp.indices((2, 3)))
case('np.diagIndices', lambda: jnp.diag_indices(3))
case('np.takeAlongAxis', lambda a, i: jnp.take_along_axis(a, i, axis=1), A, np.array([[0, 3], [1, 1], [2, 0]], np.int32))
case('np.cumulativeSum', lambda a: jnp.cumulative_sum(a, axis=1, include_initial=True), A)
case('np.unwrap', lambda a: jnp.unwrap(a * 4), V)
case('np.geomspace', lambda: jnp.geomspace(1.0, 1000.0, 4))
case('np.logspace', lambda: jnp.logspace(0.0, 2.0, 5))
case('np.linspace:endpoint', lambda: jnp.linspace(0.0, 1.0, 4, endpoint=False))
case('np.hanning', lambda: jnp.hanning(5))
case('np.hamming', lambda: jnp.hamming(5))
case('np.blackman', lambda: jnp.blackman(5))
case('np.bartlett', lambda: jnp.bartlett(5))
case('np.searchsorted', lambda a, v: jnp.searchsorted(a, v), np.sort(V), B)
case('np.searchsorted:right', lambda a, v: jnp.searchsorted(a, v, side='right'), np.array([1, 2, 2, 3], np.float32), np.array([2, 0, 5], np.float32))
case('np.bincount', lambda x: jnp.bincount(x, length=5), np.array([0, 1, 1, 4, 2, 1], np.int32))
case('np.histogram', lambda x: jnp.histogram(x, bins=4, range=(-2.0, 2.0)), A)
case('np.lexsort', lambda a, b: jnp.lexsort((a, b)), np.array([1, 0, 1, 0], np.int32), np.array([2, 2, 1, 1], np.int32))
case('np.argwhere:size', lambda a: jnp.argwhere(a > 0, size=6, fill_value=-1), A)
case('np.nonzero:size', lambda a: jnp.nonzero(a > 0, size=6), A)
case('np.unique:size', lambda a: jnp.unique(a, size=6, fill_value=-1), np.array([3, 1, 3, 2, 1], np.int32))
case('np.clip:int', lambda a: jnp.clip(a, -2, 3), I)
case('np.where:bcast', lambda c, a: jnp.where(c, a, 0.0), A > 0, B)

# ---- jax.numpy: reductions -----------------------------------------------------------------
for name, fn in [('nansum', J('nansum')), ('nanmean', J('nanmean')), ('nanmax', J('nanmax')), ('nanmin', J('nanmin')),
                 ('nanprod', J('nanprod')), ('nanstd', J('nanstd')), ('nanvar', J('nanvar')), ('nanargmax', J('nanargmax')),
                 ('nanargmin', J('nanargmin')), ('nancumsum', J('nancumsum')), ('nancumprod', J('nancumprod'))]:
    case(f'np.{name}', fn, N)
case('np.median', lambda a: jnp.median(a, axis=1), A)
case('np.quantile', lambda a: jnp.quantile(a, 0.3, axis=1), A)
case('np.percentile', lambda a: jnp.percentile(a, 75.0), A)
case('np.logsumexp', lambda a: jax.scipy.special.logsumexp(a, axis=0), A)
case('np.einsum:ellipsis', lambda a, b: jnp.einsum('...ij,...jk->...ik', a, b), f32(2, 3, 4), f32(2, 4, 5))
case('np.einsum:trace', lambda a: jnp.einsum('ii->', a), Q)
case('np.einsum:diag', lambda a: jnp.einsum('ii->i', a), Q)
case('np.einsum:bcast', lambda a, b: jnp.einsum('ij,j->i', a, b), A, B)
case('np.einsum:three', lambda a, b, c: jnp.einsum('ij,jk,kl->il', a, b, c), A, f32(4, 5), f32(5, 2))
case('np.einsum:outer', lambda a, b: jnp.einsum('i,j->ij', a, b), V, B)
case('np.einsum:size1bcast', lambda a, b: jnp.einsum('ij,ij->ij', a, b), f32(1, 4), A)

# ---- jax.nn ------------------------------------------------------------------------------
for name, fn in [('leakyRelu', NN('leaky_relu')), ('elu', NN('elu')), ('selu', NN('selu')), ('celu', NN('celu')),
                 ('mish', NN('mish')), ('logSigmoid', NN('log_sigmoid')), ('swish', NN('swish')),
                 ('hardTanh', NN('hard_tanh')), ('relu6', NN('relu6')), ('hardSigmoid', NN('hard_sigmoid')),
                 ('hardSilu', NN('hard_silu')), ('hardSwish', NN('hard_swish')), ('softSign', NN('soft_sign')),
                 ('squareplus', NN('squareplus')), ('sparsePlus', NN('sparse_plus')), ('sparseSigmoid', NN('sparse_sigmoid')),
                 ('gelu:exact', lambda v: jax.nn.gelu(v, approximate=False)), ('gelu:tanh', NN('gelu')),
                 ('standardize', NN('standardize')), ('glu', NN('glu')), ('log1mexp', lambda v: jax.nn.log1mexp(jnp.abs(v) + 0.1)),
                 ('logmeanexp', lambda v: jax.nn.logmeanexp(v, axis=1)), ('silu', NN('silu')), ('softplus', NN('softplus'))]:
    case(f'nn.{name}', fn, A)
case('nn.leakyRelu:slope', lambda v: jax.nn.leaky_relu(v, 0.2), A)
case('nn.celu:alpha', lambda v: jax.nn.celu(v, 0.5), A)
case('nn.oneHot', lambda l: jax.nn.one_hot(l, 5), np.array([0, 3, 4, 7, -1], np.int32))
q, k, v = f32(2, 4, 2, 8), f32(2, 6, 2, 8), f32(2, 6, 2, 8)
case('nn.dotProductAttention', NN('dot_product_attention'), q, k, v)
case('nn.dotProductAttention:causal', lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=True), q, k[:, :4], v[:, :4])
case('nn.dotProductAttention:mask', lambda q, k, v, m: jax.nn.dot_product_attention(q, k, v, mask=m), q, k, v,
     rng.uniform(size=(2, 2, 4, 6)) > 0.3)
case('nn.dotProductAttention:bias', lambda q, k, v, b: jax.nn.dot_product_attention(q, k, v, bias=b), q, k, v, f32(2, 2, 4, 6))
case('nn.dotProductAttention:gqa', NN('dot_product_attention'), f32(1, 3, 4, 8), f32(1, 5, 2, 8), f32(1, 5, 2, 8))

# ---- jax.random (bit-exact with threefry, jax_threefry_partitionable as JAX 0.11 defaults) --
KEY = np.asarray(jax.random.key_data(jax.random.PRNGKey(0)))
cases['random.config'] = {'inputs': [], 'output': tree(np.array([int(jax.config.jax_threefry_partitionable)], np.int32))}
case('random.key', lambda: jax.random.key_data(jax.random.PRNGKey(1234)))
case('random.split', lambda k: jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k), 3)), KEY)
case('random.foldIn', lambda k: jax.random.key_data(jax.random.fold_in(jax.random.wrap_key_data(k), 7)), KEY)
case('random.bits', lambda k: jax.random.bits(jax.random.wrap_key_data(k), (7,)), KEY)
w = lambda k: jax.random.wrap_key_data(k)  # noqa: E731
for name, fn in [
    ('uniform', lambda k: jax.random.uniform(w(k), (2, 5))), ('normal', lambda k: jax.random.normal(w(k), (2, 5))),
    ('bernoulli', lambda k: jax.random.bernoulli(w(k), 0.3, (10,))), ('randint', lambda k: jax.random.randint(w(k), (10,), -3, 9)),
    ('categorical', lambda k: jax.random.categorical(w(k), jnp.log(jnp.array([0.1, 0.2, 0.7])), shape=(8,))),
    ('choice', lambda k: jax.random.choice(w(k), 10, (4,), replace=False)), ('choice:replace', lambda k: jax.random.choice(w(k), 10, (6,))),
    ('permutation', lambda k: jax.random.permutation(w(k), 8)), ('gumbel', lambda k: jax.random.gumbel(w(k), (6,))),
    ('exponential', lambda k: jax.random.exponential(w(k), (6,))), ('gamma', lambda k: jax.random.gamma(w(k), 2.5, (6,))),
    ('beta', lambda k: jax.random.beta(w(k), 2.0, 3.0, (6,))), ('dirichlet', lambda k: jax.random.dirichlet(w(k), jnp.array([1.0, 2.0, 3.0]), (2,))),
    ('multivariateNormal', lambda k: jax.random.multivariate_normal(w(k), jnp.zeros(2), jnp.array([[2.0, 0.5], [0.5, 1.0]]), (3,))),
    ('truncatedNormal', lambda k: jax.random.truncated_normal(w(k), -1.0, 1.5, (6,))), ('laplace', lambda k: jax.random.laplace(w(k), (6,))),
    ('logistic', lambda k: jax.random.logistic(w(k), (6,))), ('poisson', lambda k: jax.random.poisson(w(k), 4.0, (6,))),
    ('cauchy', lambda k: jax.random.cauchy(w(k), (6,))), ('rademacher', lambda k: jax.random.rademacher(w(k), (6,))),
    ('maxwell', lambda k: jax.random.maxwell(w(k), (6,))), ('doubleSidedMaxwell', lambda k: jax.random.double_sided_maxwell(w(k), 0.0, 1.0, (6,))),
    ('pareto', lambda k: jax.random.pareto(w(k), 3.0, (6,))), ('weibullMin', lambda k: jax.random.weibull_min(w(k), 1.0, 2.0, (6,))),
    ('rayleigh', lambda k: jax.random.rayleigh(w(k), 1.0, (6,))), ('lognormal', lambda k: jax.random.lognormal(w(k), 0.5, (6,))),
    ('geometric', lambda k: jax.random.geometric(w(k), 0.3, (6,))), ('triangular', lambda k: jax.random.triangular(w(k), 0.0, 0.3, 1.0, (6,))),
    ('ball', lambda k: jax.random.ball(w(k), 3, 2, (4,))), ('t', lambda k: jax.random.t(w(k), 5.0, (6,))),
    ('chisquare', lambda k: jax.random.chisquare(w(k), 3.0, (6,))), ('orthogonal', lambda k: jax.random.orthogonal(w(k), 3)),
]:
    case(f'random.{name}', fn, KEY)

# ---- jax.lax -----------------------------------------------------------------------------
case('lax.dotGeneral', lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))), C, f32(2, 4, 5))
case('lax.topK', lambda a: lax.top_k(a, 2), A)
case('lax.sort:multi', lambda a, b: lax.sort((a, b), dimension=0, num_keys=1), np.array([3, 1, 2, 1], np.int32), V[:4])
case('lax.cumsum', lambda a: lax.cumsum(a, axis=1), A)
case('lax.cumsum:reverse', lambda a: lax.cumsum(a, axis=0, reverse=True), A)
case('lax.cumprod', lambda a: lax.cumprod(a, axis=1), A)
case('lax.cummax', lambda a: lax.cummax(a, axis=1), A)
case('lax.cummin', lambda a: lax.cummin(a, axis=0), A)
case('lax.cumlogsumexp', lambda a: lax.cumlogsumexp(a, axis=1), A)
case('lax.reducePrecision', lambda a: lax.reduce_precision(a, exponent_bits=5, mantissa_bits=10), A * 100)
case('lax.bitcastConvertType', lambda a: lax.bitcast_convert_type(a, jnp.int32), A)
case('lax.erf', lax.erf, A)
case('lax.erfc', lax.erfc, A)
case('lax.erfInv', lax.erf_inv, U)
case('lax.lgamma', lax.lgamma, P)
case('lax.digamma', lax.digamma, P)
case('lax.igamma', lax.igamma, P, P[::-1])
case('lax.clamp', lambda a: lax.clamp(-0.5, a, 0.5), A)
case('lax.iota', lambda: lax.iota(jnp.int32, 5))
case('lax.broadcastInDim', lambda a: lax.broadcast_in_dim(a, (2, 4, 3), (2,)), V[:3])
case('lax.shiftRightLogical', lax.shift_right_logical, I, np.abs(I) % 4)
case('lax.populationCount', lax.population_count, I)
case('lax.clz', lax.clz, np.abs(I))
case('lax.dynamicSlice', lambda a, i: lax.dynamic_slice(a, (i, 1), (2, 2)), A, np.int32(5))
case('lax.dynamicUpdateSlice', lambda a, u, i: lax.dynamic_update_slice(a, u, (i, 2)), A, f32(2, 2), np.int32(1))
case('lax.dynamicIndexInDim', lambda a, i: lax.dynamic_index_in_dim(a, i, axis=1, keepdims=False), A, np.int32(2))
case('lax.reduceWindow', lambda a: lax.reduce_window(a, -jnp.inf, lax.max, (2, 2), (1, 2), 'VALID'), A)
case('lax.convGeneralDilated', lambda x, k: lax.conv_general_dilated(x, k, (1, 1), 'SAME'), f32(1, 2, 5, 5), f32(3, 2, 3, 3))
case('lax.convGeneralDilated:strided', lambda x, k: lax.conv_general_dilated(x, k, (2, 1), ((1, 0), (2, 1)), lhs_dilation=(1, 1), rhs_dilation=(2, 1)),
     f32(2, 2, 6, 5), f32(4, 2, 2, 2))
case('lax.convGeneralDilated:nhwc', lambda x, k: lax.conv_general_dilated(x, k, (1, 1), 'VALID', dimension_numbers=('NHWC', 'HWIO', 'NHWC')),
     f32(1, 5, 5, 2), f32(3, 3, 2, 4))
case('lax.convGeneralDilated:groups', lambda x, k: lax.conv_general_dilated(x, k, (1, 1), 'VALID', feature_group_count=2), f32(1, 4, 4, 4), f32(6, 2, 2, 2))
case('lax.convGeneralDilated:lhsdil', lambda x, k: lax.conv_general_dilated(x, k, (1,), ((1, 1),), lhs_dilation=(2,)), f32(1, 1, 4), f32(1, 1, 3))
case('lax.convTranspose', lambda x, k: lax.conv_transpose(x, k, (2, 2), 'SAME', dimension_numbers=('NCHW', 'OIHW', 'NCHW')), f32(1, 2, 3, 3), f32(3, 2, 3, 3))
case('lax.conv1d', lambda x, k: lax.conv(x, k, (1,), 'VALID'), f32(2, 3, 7), f32(4, 3, 3))
case('np.at.set', lambda a: a.at[1, 2].set(9.0), A)
case('np.at.add:dupes', lambda a: a.at[jnp.array([0, 2, 0])].add(1.0), A)
case('np.at.multiply', lambda a: a.at[:, 1].multiply(3.0), A)
case('np.at.min', lambda a: a.at[jnp.array([1, 1])].min(-5.0), V)
case('np.at.max', lambda a: a.at[2:].max(0.0), V)
case('np.at.divide', lambda a: a.at[0].divide(2.0), A)
case('np.at.get:fill', lambda a: a.at[jnp.array([0, 7])].get(mode='fill', fill_value=-1.0), V)
case('np.at.set:dropOOB', lambda a: a.at[jnp.array([1, 9])].set(0.0), V)
case('np.at.add:grad', jax.grad(lambda a: jnp.sum(jnp.zeros(5).at[jnp.array([0, 0, 3])].add(a) ** 2)), V[:3])
case('np.index:newaxis', lambda a: a[:, None, 1], A)
case('np.index:intArray2d', lambda a: a[jnp.array([[0, 1], [2, 2]]), jnp.array([1, 3])], A)
case('np.index:bool', lambda a: a[a > 0], A)
case('lax.segmentSum', lambda d, s: jax.ops.segment_sum(d, s, num_segments=3), V, np.array([0, 2, 0, 1, 2], np.int32))
case('lax.segmentMax', lambda d, s: jax.ops.segment_max(d, s, num_segments=3), V, np.array([0, 2, 0, 1, 2], np.int32))
case('lax.segmentMin', lambda d, s: jax.ops.segment_min(d, s, num_segments=3), V, np.array([0, 2, 0, 1, 2], np.int32))
case('nn.maxPool', lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), 'VALID'), f32(1, 2, 4, 4))
case('nn.avgPool', lambda x: lax.reduce_window(x, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 2, 2), 'VALID') / 4, f32(1, 2, 4, 4))
case('grad.maxPool', jax.grad(lambda x: jnp.sum(lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), 'VALID') ** 2)), f32(1, 1, 4, 4))
case('grad.conv', jax.grad(lambda x, k: jnp.sum(lax.conv_general_dilated(x, k, (1, 1), 'SAME') ** 2), argnums=(0, 1)), f32(1, 2, 4, 4), f32(3, 2, 3, 3))
case('grad.convGroups', jax.grad(lambda x, k: jnp.sum(jnp.sin(lax.conv_general_dilated(x, k, (1, 1), 'VALID', feature_group_count=2))), argnums=(0, 1)), f32(1, 4, 4, 4), f32(6, 2, 2, 2))

# ---- jax.numpy.linalg --------------------------------------------------------------------
case('linalg.cholesky', jnp.linalg.cholesky, SPD)
case('linalg.solve', jnp.linalg.solve, Q, f32(3, 2))
case('linalg.inv', jnp.linalg.inv, Q)
case('linalg.det', jnp.linalg.det, Q)
case('linalg.slogdet', jnp.linalg.slogdet, Q)
case('linalg.qr', jnp.linalg.qr, f32(4, 3))
case('linalg.eigh', jnp.linalg.eigh, SPD)
case('linalg.eigvalsh', jnp.linalg.eigvalsh, SPD)
case('linalg.svdvals', jnp.linalg.svdvals, f32(4, 3))
case('linalg.svd', lambda a: jnp.linalg.svd(a, full_matrices=False), f32(4, 3))
case('linalg.lstsq', lambda a, b: jnp.linalg.lstsq(a, b)[0], f32(5, 3), f32(5))
case('linalg.norm', jnp.linalg.norm, A)
case('linalg.norm:ord1axis', lambda a: jnp.linalg.norm(a, ord=1, axis=1), A)
case('linalg.norm:nuc', lambda a: jnp.linalg.norm(a, ord='nuc'), A)
case('linalg.matrixPower', lambda a: jnp.linalg.matrix_power(a, 3), Q)
case('linalg.matrixPower:neg', lambda a: jnp.linalg.matrix_power(a, -2), Q)
case('linalg.pinv', jnp.linalg.pinv, f32(4, 3))
case('linalg.triangularSolve', lambda a, b: jax.scipy.linalg.solve_triangular(a, b, lower=True), np.tril(Q), f32(3, 2))
case('linalg.cholesky:batched', jnp.linalg.cholesky, np.stack([SPD, SPD * 2]))
case('linalg.solve:batched', jnp.linalg.solve, np.stack([Q, Q.T]), f32(2, 3, 1))
case('linalg.matrixRank', jnp.linalg.matrix_rank, A)
case('linalg.multiDot', lambda a, b, c: jnp.linalg.multi_dot([a, b, c]), A, f32(4, 5), f32(5, 2))
case('grad.linalg.det', jax.grad(jnp.linalg.det), Q)
case('grad.linalg.inv', jax.grad(lambda a: jnp.sum(jnp.linalg.inv(a) ** 2)), Q)
case('grad.linalg.cholesky', jax.grad(lambda a: jnp.sum(jnp.sin(jnp.linalg.cholesky(a)))), SPD)
case('grad.linalg.solve', jax.grad(lambda a, b: jnp.sum(jnp.linalg.solve(a, b)), argnums=(0, 1)), Q, f32(3))
case('grad.linalg.eigh', jax.grad(lambda a: jnp.sum(jnp.linalg.eigvalsh(a) ** 2)), SPD)

# ---- jax.numpy.fft and complex64 (complex tensors: {dtype: 'c64', data: [re0, im0, ...]}) ------
Z = (rng.standard_normal((3, 8)) + 1j * rng.standard_normal((3, 8))).astype(np.complex64)
R8 = f32(3, 8)
for name, fn, args in [
    ('fft', jnp.fft.fft, (Z,)), ('fft:real', jnp.fft.fft, (R8,)), ('fft:n', lambda z: jnp.fft.fft(z, n=5), (Z,)),
    ('fft:axis0', lambda z: jnp.fft.fft(z, axis=0), (Z,)), ('fft:ortho', lambda z: jnp.fft.fft(z, norm='ortho'), (Z,)),
    ('ifft', jnp.fft.ifft, (Z,)), ('ifft:forward', lambda z: jnp.fft.ifft(z, norm='forward'), (Z,)),
    ('rfft', jnp.fft.rfft, (R8,)), ('rfft:n7', lambda x: jnp.fft.rfft(x, n=7), (R8,)),
    ('irfft', jnp.fft.irfft, (jnp.fft.rfft(R8),)), ('irfft:n9', lambda z: jnp.fft.irfft(z, n=9), (Z[:, :5],)),
    ('fft2', jnp.fft.fft2, (Z,)), ('ifft2', jnp.fft.ifft2, (Z,)), ('fftn', jnp.fft.fftn, (Z.reshape(2, 3, 4),)),
    ('ifftn', jnp.fft.ifftn, (Z.reshape(2, 3, 4),)), ('rfft2', jnp.fft.rfft2, (R8,)), ('irfft2', jnp.fft.irfft2, (Z[:, :5],)),
    ('rfftn', jnp.fft.rfftn, (R8.reshape(2, 3, 4),)), ('irfftn', lambda z: jnp.fft.irfftn(z, s=(3, 6)), (Z[:, :4],)),
    ('hfft', jnp.fft.hfft, (Z[:, :5],)), ('ihfft', jnp.fft.ihfft, (R8,)),
    ('fftfreq', lambda: jnp.fft.fftfreq(7, 0.5), ()), ('rfftfreq', lambda: jnp.fft.rfftfreq(8, 0.25), ()),
    ('fftshift', jnp.fft.fftshift, (R8,)), ('ifftshift', lambda x: jnp.fft.ifftshift(x, axes=1), (R8,)),
]:
    case(f'fft.{name}', fn, *args)
for name, fn, args in [
    ('complex.real', jnp.real, (Z,)), ('complex.imag', jnp.imag, (Z,)), ('complex.conj', jnp.conj, (Z,)),
    ('complex.abs', jnp.abs, (Z,)), ('complex.angle', jnp.angle, (Z,)), ('complex.multiply', jnp.multiply, (Z, Z[::-1])),
    ('complex.divide', jnp.divide, (Z, Z[::-1])), ('complex.addReal', jnp.add, (Z, R8)), ('complex.exp', jnp.exp, (Z,)),
    ('complex.log', jnp.log, (Z,)), ('complex.sqrt', jnp.sqrt, (Z,)), ('complex.matmul', jnp.matmul, (Z, Z.T)),
    ('complex.sum', lambda z: jnp.sum(z, axis=1), (Z,)), ('complex.laxComplex', lax.complex, (R8, R8[::-1])),
]:
    case(name, fn, *args)
case('grad.fft.rfftPower', jax.grad(lambda x: jnp.sum(jnp.abs(jnp.fft.rfft(x)) ** 2 * jnp.arange(5.0))), R8[0])
case('grad.fft.fftReal', jax.grad(lambda x: jnp.sum(jnp.real(jnp.fft.fft(x)) * jnp.arange(8.0))), R8[0])
case('grad.complex.abs', jax.grad(lambda z: jnp.sum(jnp.abs(z) ** 2)), Z[0])

# ---- nn.initializers (bit-exact: they draw from jax.random) ----------------------------------
init = jax.nn.initializers
for name, fn in [('glorotNormal', init.glorot_normal()), ('glorotUniform', init.glorot_uniform()), ('heNormal', init.he_normal()),
                 ('heUniform', init.he_uniform()), ('lecunNormal', init.lecun_normal()), ('lecunUniform', init.lecun_uniform()),
                 ('orthogonal', init.orthogonal()), ('normal', init.normal(0.02)), ('uniform', init.uniform(0.1)),
                 ('truncatedNormal', init.truncated_normal(0.5)), ('zeros', init.zeros), ('ones', init.ones)]:
    case(f'nn.initializers.{name}', lambda k, fn=fn: fn(w(k), (4, 3), jnp.float32), KEY)

# ---- np.linalg pinv / lstsq / matrix_rank, lax.linalg eigh / svd / qr, and their gradients -----
# Fixed inputs of their own (no draws from rng, so the cases above keep their inputs).
LA = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5], [7.0, 8.0, 9.2], [1.0, 0.0, 2.0]], np.float32)  # 4x3, rank 3
LR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 1.0], [1.5, 1.0, 4.0]], np.float32)  # 4x3, rank 2
SYM = np.array([[2.0, 1.0, 0.0], [1.0, -3.0, 0.5], [0.0, 0.5, 1.0]], np.float32)  # indefinite
LB = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
LB2 = np.array([[1.0, -1.0], [2.0, 0.5], [3.0, 1.0], [4.0, -2.0]], np.float32)
W43 = np.arange(1.0, 13.0, dtype=np.float32).reshape(4, 3) / 6
W34 = W43.reshape(3, 4)
case('linalg.pinv:rankDeficient', jnp.linalg.pinv, LR)
case('linalg.pinv:rtol', lambda a: jnp.linalg.pinv(a, rtol=0.2), LA)
case('linalg.pinv:hermitian', lambda a: jnp.linalg.pinv(a, hermitian=True), SYM)
case('linalg.pinv:batched', jnp.linalg.pinv, np.stack([LA, LR]))
case('linalg.lstsq:tuple', jnp.linalg.lstsq, LA, LB2)
case('linalg.lstsq:vector', jnp.linalg.lstsq, LA, LB)
case('linalg.lstsq:rankDeficient', jnp.linalg.lstsq, LR, LB)
case('linalg.lstsq:rcond', lambda a, b: jnp.linalg.lstsq(a, b, rcond=0.1), LA, LB)
case('linalg.lstsq:wide', jnp.linalg.lstsq, LA.T, LB[:3])
case('linalg.matrixRank:rankDeficient', jnp.linalg.matrix_rank, LR)
case('linalg.matrixRank:rtol', lambda a: jnp.linalg.matrix_rank(a, rtol=1.0), LA)
case('linalg.matrixRank:batched', jnp.linalg.matrix_rank, np.stack([LA, LR]))
case('linalg.matrixRank:vector', jnp.linalg.matrix_rank, LB)
case('lax.linalg.eigh', lax.linalg.eigh, SYM)
case('lax.linalg.eigh:upper', lambda a: lax.linalg.eigh(a, lower=False, symmetrize_input=False), np.triu(SYM))
case('lax.linalg.svd', lax.linalg.svd, LA)
case('lax.linalg.svd:reduced', lambda a: lax.linalg.svd(a, full_matrices=False), LA.T)
case('lax.linalg.svd:values', lambda a: lax.linalg.svd(a, compute_uv=False), LA)
case('lax.linalg.qr', lax.linalg.qr, LA)
case('lax.linalg.qr:reduced', lambda a: lax.linalg.qr(a, full_matrices=False), LA)
case('grad.linalg.pinv', jax.grad(lambda a: jnp.sum(jnp.linalg.pinv(a) * W34)), LA)
case('grad.linalg.lstsq', jax.grad(lambda a, b: jnp.sum(jnp.linalg.lstsq(a, b)[0] * jnp.arange(1.0, 4.0)), argnums=(0, 1)), LA, LB)
case('grad.linalg.svdvals', jax.grad(lambda a: jnp.sum(jnp.linalg.svdvals(a) * jnp.arange(1.0, 4.0))), LA)
# Squared entries of U and Vh do not change when a singular vector flips sign.
case('grad.linalg.svd', jax.grad(lambda a: (lambda u, s, vh: jnp.sum(u ** 2 * W43) + jnp.sum(s) + jnp.sum(vh ** 2 * W43[:3]))(
    *jnp.linalg.svd(a, full_matrices=False))), LA)
case('grad.linalg.svd:wide', jax.grad(lambda a: (lambda u, s, vh: jnp.sum(u ** 2 * W43[:3]) + jnp.sum(s ** 2) + jnp.sum(vh ** 2 * W34))(
    *jnp.linalg.svd(a, full_matrices=False))), LA.T)
case('grad.linalg.qr', jax.grad(lambda a: (lambda q, r: jnp.sum(jnp.sin(q) * W43) + jnp.sum(r * W43[:3]))(*jnp.linalg.qr(a))), LA)
case('grad.linalg.qr:square', jax.grad(lambda a: (lambda q, r: jnp.sum(jnp.sin(q)) + jnp.sum(r ** 2))(*jnp.linalg.qr(a))), Q)

# Forward mode: each function's tangent along a fixed direction (sin-spaced, no rng draws).
def tangent_like(x):
    return np.sin(1.7 * np.arange(np.size(x)) + 0.3).reshape(np.shape(x)).astype(np.float32)


def jvp_of(f):
    return lambda x, t: jax.jvp(f, (x,), (t,))[1]


for name, fn, x in [
    ('cholesky', jnp.linalg.cholesky, SPD), ('inv', jnp.linalg.inv, Q), ('det', jnp.linalg.det, SPD),
    ('slogdet', lambda a: jnp.linalg.slogdet(a)[1], SPD), ('solve', lambda a: jnp.linalg.solve(a, LB[:3]), Q),
    ('lu', lambda a: lax.linalg.lu(a)[0], SPD), ('eigvalsh', jnp.linalg.eigvalsh, SPD),
    ('triangularSolve', lambda a: lax.linalg.triangular_solve(a, LB2[:3], left_side=True, lower=True), np.tril(Q)),
    ('qr', lambda a: jnp.linalg.qr(a), LA), ('svdvals', jnp.linalg.svdvals, LA), ('pinv', jnp.linalg.pinv, LA),
    ('lstsq', lambda a: jnp.linalg.lstsq(a, LB)[0], LA),
]:
    case(f'jvp.linalg.{name}', jvp_of(fn), x, tangent_like(x))

# ---- lax and nn names that had no case of their own (appended: the inputs above keep their draws) --
for name, fn, x in [
    ('neg', lax.neg, A), ('sign', lax.sign, A), ('expm1', lax.expm1, A), ('sin', lax.sin, A), ('cos', lax.cos, A),
    ('tan', lax.tan, U), ('tanh', lax.tanh, A), ('sinh', lax.sinh, A), ('cosh', lax.cosh, A), ('atan', lax.atan, A),
    ('asinh', lax.asinh, A), ('floor', lax.floor, A), ('ceil', lax.ceil, A), ('round', lax.round, A * 2.5),
    ('isFinite', lax.is_finite, N), ('asin', lax.asin, U), ('acos', lax.acos, U), ('atanh', lax.atanh, U),
    ('log1p', lax.log1p, P), ('rsqrt', lax.rsqrt, P), ('acosh', lax.acosh, P + 1), ('bitwiseNot', lax.bitwise_not, I),
]:
    case(f'lax.{name}', fn, x)
I2 = i32(3, 4)
for name, fn, x, y in [
    ('sub', lax.sub, A, P), ('mul', lax.mul, A, P), ('div', lax.div, A, P), ('rem', lax.rem, A * 3, P),
    ('pow', lax.pow, P, A), ('atan2', lax.atan2, A, U), ('bitwiseAnd', lax.bitwise_and, I, I2),
    ('bitwiseOr', lax.bitwise_or, I, I2), ('bitwiseXor', lax.bitwise_xor, I, I2),
    ('shiftLeft', lax.shift_left, I, np.abs(I2) % 4), ('shiftRightArithmetic', lax.shift_right_arithmetic, I, np.abs(I2) % 4),
]:
    case(f'lax.{name}', fn, x, y)
case('lax.dot', lax.dot, A, f32(4, 2))
case('lax.foriLoop', lambda a: lax.fori_loop(0, 4, lambda i, x: x * 0.5 + i, a), A)
case('lax.whileLoop', lambda a: lax.while_loop(lambda c: c[1] < 5, lambda c: (jnp.sin(c[0]) + 1, c[1] + 1), (a, jnp.int32(0))), A)
case('lax.scan', lambda a: lax.scan(lambda c, x: (c + x, c * x), jnp.zeros(4, jnp.float32), a), A)
case('lax.scan:reverse', lambda a: lax.scan(lambda c, x: (c * 0.5 + x, jnp.sum(c)), jnp.ones(4, jnp.float32), a, reverse=True), A)
case('lax.map', lambda a: lax.map(lambda r: jnp.sum(r ** 2), a), A)
case('lax.cond', lambda a: lax.cond(jnp.sum(a) > 0, lambda x: x * 2, lambda x: x - 1, a), A)
case('lax.cond:false', lambda a: lax.cond(jnp.sum(a) > 100, lambda x: x * 2, lambda x: x - 1, a), A)
case('lax.switch', lambda a, i: lax.switch(i, [lambda x: x + 1, lambda x: x * 2, lambda x: -x], a), A, np.int32(1))
case('lax.switch:clamped', lambda a, i: lax.switch(i, [lambda x: x + 1, lambda x: x * 2, lambda x: -x], a), A, np.int32(7))
case('lax.associativeScan', lambda a: lax.associative_scan(jnp.add, a, axis=1), A)
case('lax.associativeScan:reverse', lambda a: lax.associative_scan(jnp.maximum, a, reverse=True), A)
case('lax.stopGradient', jax.grad(lambda a: jnp.sum(a * lax.stop_gradient(a))), A)
case('lax.dynamicSliceInDim', lambda a, i: lax.dynamic_slice_in_dim(a, i, 2, axis=1), A, np.int32(3))
case('lax.dynamicUpdateSliceInDim', lambda a, u, i: lax.dynamic_update_slice_in_dim(a, u, i, axis=0), A, f32(2, 4), np.int32(2))
case('lax.dynamicUpdateIndexInDim', lambda a, u, i: lax.dynamic_update_index_in_dim(a, u, i, axis=1), A, f32(3), np.int32(2))
case('lax.segmentProd', lambda d, s: jax.ops.segment_prod(d, s, num_segments=3), V, np.array([0, 2, 0, 1, 2], np.int32))
case('lax.convWithGeneralPadding', lambda x, k: lax.conv_with_general_padding(x, k, (1, 1), ((1, 0), (0, 1)), (1, 1), (1, 1)),
     f32(1, 2, 5, 5), f32(3, 2, 3, 3))
for name, fn in [('relu', jax.nn.relu), ('sigmoid', jax.nn.sigmoid), ('softmax', jax.nn.softmax),
                 ('logSoftmax', jax.nn.log_softmax), ('identity', jax.nn.identity)]:
    case(f'nn.{name}', fn, A)
case('nn.softmax:axis0', lambda a: jax.nn.softmax(a, axis=0), A)


# ---- exported names with no case of their own, issue 12 (appended: the inputs above keep their draws) --
for name, fn, x in [
    ('abs', lax.abs, A), ('cbrt', lax.cbrt, A), ('exp', lax.exp, A), ('log', lax.log, P), ('logistic', lax.logistic, A * 3),
    ('sqrt', lax.sqrt, P), ('square', lax.square, A),
]:
    case(f'lax.{name}', fn, x)
for name, fn, x, y in [('add', lax.add, A, P), ('max', lax.max, A, U), ('min', lax.min, A, U)]:
    case(f'lax.{name}', fn, x, y)
case('lax.complex', lax.complex, R8, R8[::-1])
case('lax.real', lax.real, Z)
case('lax.imag', lax.imag, Z)
case('lax.conj', lax.conj, Z)
case('lax.igammac', lax.igammac, P, P[::-1])
case('lax.igammaGradA', lax.igamma_grad_a, P, P[::-1])
case('lax.randomGammaGrad', lax.random_gamma_grad, P, P[::-1])
case('lax.conv', lambda x, k: lax.conv(x, k, (1, 1), 'SAME'), f32(1, 2, 5, 5), f32(3, 2, 3, 3))
case('lax.conv:strided', lambda x, k: lax.conv(x, k, (2, 1), 'VALID'), f32(2, 2, 6, 5), f32(4, 2, 2, 2))
ROWS = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
POINTS = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))
IDX = np.array([[2], [0], [2]], np.int32)
case('lax.gather', lambda a, i: lax.gather(a, i, ROWS, (1, 4)), A, IDX)
case('lax.gather:fill', lambda a, i: lax.gather(a, i, ROWS, (1, 4)), A, np.array([[1], [3], [-1]], np.int32))
case('lax.gather:clip', lambda a, i: lax.gather(a, i, ROWS, (1, 4), mode='clip'), A, np.array([[1], [3], [-1]], np.int32))
case('lax.gather:points', lambda a, i: lax.gather(a, i, lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0, 1), start_index_map=(0, 1)), (1, 1)),
     A, np.array([[0, 3], [2, 1], [1, 1]], np.int32))
case('lax.scatter', lambda a, i, u: lax.scatter(a, i, u, POINTS), A, np.array([[2], [0]], np.int32), f32(2, 4))
for name, fn in [('scatterAdd', lax.scatter_add), ('scatterMul', lax.scatter_mul), ('scatterMin', lax.scatter_min), ('scatterMax', lax.scatter_max)]:
    case(f'lax.{name}', lambda a, i, u, fn=fn: fn(a, i, u, POINTS), A, IDX, f32(3, 4))
case('lax.scatterAdd:drop', lambda a, i, u: lax.scatter_add(a, i, u, POINTS), A, np.array([[1], [3], [-1]], np.int32), f32(3, 4))
case('lax.scatterAdd:clip', lambda a, i, u: lax.scatter_add(a, i, u, POINTS, mode='clip'), A, np.array([[1], [3], [-1]], np.int32), f32(3, 4))
case('grad.lax.gather', jax.grad(lambda a: jnp.sum(jnp.sin(lax.gather(a, IDX, ROWS, (1, 4))))), A)
case('grad.lax.scatterAdd', jax.grad(lambda a, u: jnp.sum(jnp.sin(lax.scatter_add(a, IDX, u, POINTS))), argnums=(0, 1)), A, f32(3, 4))
case('lax.linalg.cholesky', lax.linalg.cholesky, SPD)
case('lax.linalg.lu', lax.linalg.lu, Q)
case('lax.linalg.lu:pivoting', lax.linalg.lu, np.array([[0.5, 2.0, 1.0], [4.0, -1.0, 0.0], [1.0, 3.0, -2.0]], np.float32))
case('lax.linalg.triangularSolve', lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True), np.tril(Q), f32(3, 2))
case('lax.linalg.triangularSolve:right', lambda a, b: lax.linalg.triangular_solve(a, b), np.triu(Q), f32(2, 3))
case('lax.linalg.triangularSolve:transposeUnit', lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True, transpose_a=True, unit_diagonal=True),
     np.tril(Q), f32(3, 2))
# nn.logsumexp is jax.nn.logsumexp. jax.nn has no layer norm nor cross-entropy: these cases are the JAX
# expressions kiln's nn.layerNorm and nn.crossEntropy implement (flax's LayerNorm without its
# fast variance; optax's softmax_cross_entropy(_with_integer_labels), averaged over the batch).
case('nn.logsumexp', lambda a: jax.nn.logsumexp(a), A)
case('nn.logsumexp:axis', lambda a: jax.nn.logsumexp(a, axis=1, keepdims=True), A)
LN = lambda x, g, b, axis=-1, eps=1e-5: (x - jnp.mean(x, axis, keepdims=True)) * lax.rsqrt(jnp.var(x, axis, keepdims=True) + eps) * g + b  # noqa: E731
case('nn.layerNorm', lambda x: LN(x, 1.0, 0.0), A)
case('nn.layerNorm:affine', lambda x, g, b: LN(x, g, b), C, B, B[::-1])
case('nn.layerNorm:axes', lambda x: LN(x, 1.0, 0.0, (1, 2), 1e-3), C)
case('nn.crossEntropy', lambda l, y: jnp.mean(-jnp.sum(jax.nn.one_hot(y, 4) * jax.nn.log_softmax(l), axis=-1)), A * 3, np.array([0, 3, 1], np.int32))
case('nn.crossEntropy:probs', lambda l, t: jnp.mean(-jnp.sum(t * jax.nn.log_softmax(l), axis=-1)), C, jax.nn.softmax(f32(2, 3, 4)))
for name, fn in [('constant', init.constant(0.3)), ('kaimingNormal', init.kaiming_normal()), ('kaimingUniform', init.kaiming_uniform()),
                 ('xavierNormal', init.xavier_normal()), ('xavierUniform', init.xavier_uniform()),
                 ('varianceScaling', init.variance_scaling(2.0, 'fan_out', 'normal')),
                 ('varianceScaling:uniform', init.variance_scaling(0.5, 'fan_avg', 'uniform')),
                 ('varianceScaling:truncated', init.variance_scaling(1.5, 'fan_in', 'truncated_normal'))]:
    case(f'nn.initializers.{name}', lambda k, fn=fn: fn(w(k), (4, 3), jnp.float32), KEY)
case('nn.initializers.varianceScaling:conv', lambda k: init.variance_scaling(1.0, 'fan_in', 'normal')(w(k), (3, 3, 2, 4), jnp.float32), KEY)
W = f32(2, 3, 4)
for name, fn, args in [
    ('cross', jnp.linalg.cross, (f32(2, 3), f32(2, 3))), ('diagonal', jnp.linalg.diagonal, (C,)),
    ('diagonal:offset', lambda c: jnp.linalg.diagonal(c, offset=1), (C,)), ('matmul', jnp.linalg.matmul, (C, f32(4, 2))),
    ('matrixNorm', jnp.linalg.matrix_norm, (C,)), ('matrixNorm:ord1', lambda c: jnp.linalg.matrix_norm(c, ord=1), (C,)),
    ('matrixNorm:nuc', lambda a: jnp.linalg.matrix_norm(a, ord='nuc'), (A,)),
    ('matrixTranspose', jnp.linalg.matrix_transpose, (C,)), ('outer', jnp.linalg.outer, (V, B)),
    ('tensordot', jnp.linalg.tensordot, (C, f32(3, 4, 2))), ('tensordot:axes1', lambda a, b: jnp.linalg.tensordot(a, b, axes=1), (A, f32(4, 2))),
    ('trace', jnp.linalg.trace, (C,)), ('trace:offset', lambda c: jnp.linalg.trace(c, offset=-1), (C,)),
    ('vecdot', jnp.linalg.vecdot, (C, W)), ('vecdot:axis', lambda a, b: jnp.linalg.vecdot(a, b, axis=0), (A, P)),
    ('vectorNorm', jnp.linalg.vector_norm, (C,)), ('vectorNorm:ord1axis', lambda c: jnp.linalg.vector_norm(c, ord=1, axis=-1), (C,)),
    ('vectorNorm:inf', lambda a: jnp.linalg.vector_norm(a, ord=jnp.inf, axis=0, keepdims=True), (A,)),
]:
    case(f'linalg.{name}', fn, *args)
# random: bit-exact draws (kiln follows jax/_src/random.py), and the moments of a large JAX sample
# (mean, variance, 10/50/90% quantiles of 20000 draws) for a distribution test that does not need bits.
RANDOM_NEW = [
    ('binomial', lambda k, s: jax.random.binomial(w(k), 5.0, 0.3, s)),
    ('binomial:btrs', lambda k, s: jax.random.binomial(w(k), 100.0, 0.4, s)),
    ('binomial:highP', lambda k, s: jax.random.binomial(w(k), 30.0, 0.8, s)),
    ('f', lambda k, s: jax.random.f(w(k), 3.0, 5.0, s)),
    ('generalizedNormal', lambda k, s: jax.random.generalized_normal(w(k), 1.5, s)),
    ('loggamma', lambda k, s: jax.random.loggamma(w(k), 2.5, s)),
    ('loggamma:small', lambda k, s: jax.random.loggamma(w(k), 0.2, s)),
    ('multinomial', lambda k, s: jax.random.multinomial(w(k), 20.0, jnp.array([0.2, 0.3, 0.5]), shape=s + (3,))),
    ('wald', lambda k, s: jax.random.wald(w(k), 1.5, s)),
]
for name, fn in RANDOM_NEW:
    case(f'random.{name}', lambda k, fn=fn: fn(k, (6,)), KEY)
for name, fn in RANDOM_NEW:
    def moments(k, fn=fn):
        x = np.asarray(fn(k, (20000,)), np.float64).reshape(20000, -1)[:, 0]
        return np.array([x.mean(), x.var(), *np.quantile(x, [0.1, 0.5, 0.9])], np.float32)
    case(f'random.{name}:moments', moments, KEY)


# ---- svd(hermitian=True); LU of non-square matrices in forward and reverse mode (appended) -------
case('linalg.svd:hermitian', lambda a: jnp.linalg.svd(a, hermitian=True), SYM)
case('linalg.svd:hermitianValues', lambda a: jnp.linalg.svd(a, compute_uv=False, hermitian=True), SYM)
case('jvp.linalg.lu:wide', jvp_of(lambda a: lax.linalg.lu(a)[0]), LA.T, tangent_like(LA.T))
case('jvp.linalg.lu:tall', jvp_of(lambda a: lax.linalg.lu(a)[0]), LA, tangent_like(LA))
case('grad.linalg.lu:wide', jax.grad(lambda a: jnp.sum(lax.linalg.lu(a)[0] * W34)), np.ascontiguousarray(LA.T))
case('grad.linalg.lu:tall', jax.grad(lambda a: jnp.sum(lax.linalg.lu(a)[0] * W43)), LA)


dump(sys.argv[1], {'jax': jax.__version__, 'cases': cases})
print(len(cases), 'cases')
