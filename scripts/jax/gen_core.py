"""Expected values for kiln's long-standing core `np.*` functions (test/client/library-core.test.ts):
elementwise math, comparisons, bitwise and logical ops, reductions, products, shapes, creation,
indexing and the metadata functions, each on fixed small inputs with the options JAX users pass.

Each case is `name -> {inputs, output}`; names are `np.<kilnName>` or `np.<kilnName>:<variant>`
(kiln's camelCase name). The TypeScript test writes the same call with kiln's client under the
same name. Metadata functions (finfo, iinfo, promoteTypes, resultType, shape, ndim, size, isscalar,
broadcastShapes, iscomplexobj, isrealobj) return plain values, recorded as `output: {"json": value}`
(dtypes as kiln's dtype names: 'f32', 'i32', ... as common.tensor writes them).

    JAX_PLATFORMS=cpu python3 scripts/jax/gen_core.py test/fixtures/jax/core.json

New cases go at the end, so the inputs drawn above keep their values.
"""
import os
import sys

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import Recorder, dump, tensor, tree  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
rec = Recorder(2026)
rng, cases, f32, i32, case, meta = rec.rng, rec.cases, rec.f32, rec.i32, rec.case, rec.meta


def dtype_name(d):
    """kiln's name of a dtype ('f32', 'i32', 'i1', 'bf16', 'c64', ...), as common.tensor writes it."""
    return tensor(np.zeros((), np.dtype(d)))['dtype']


A = f32(3, 4)
B = f32(4)
C = f32(2, 3, 4)
P = f32(3, 4, lo=0.1, hi=3.0)
U = f32(3, 4, lo=-0.9, hi=0.9)
I = i32(3, 4)
I2 = i32(3, 4)
NZ = np.where(I2 == 0, 3, I2).astype(np.int32)  # no zeros: a divisor
BO = rng.uniform(size=(3, 4)) > 0.5
BO2 = rng.uniform(size=(3, 4)) > 0.5
V = f32(5)
Q = f32(3, 3)
UI = np.array([0, 1, 7, 2 ** 31, 2 ** 32 - 1, 12345], np.uint32)
# Edge values of the elementwise math: zeros of both signs, +-1, infinities, NaN.
E = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.75, np.inf, -np.inf, np.nan], np.float32)
N = np.array([1.0, np.nan, -2.0, 4.0, np.nan, 0.5], np.float32)

# ---- elementwise, one argument ---------------------------------------------------------------
UNARY = [
    ('abs', jnp.abs), ('absolute', jnp.absolute), ('negative', jnp.negative), ('sign', jnp.sign),
    ('sqrt', jnp.sqrt), ('rsqrt', jax.lax.rsqrt),  # jax.numpy has no rsqrt: lax.rsqrt is the spec ('exp', jnp.exp), ('expm1', jnp.expm1),
    ('log', jnp.log), ('log1p', jnp.log1p), ('sin', jnp.sin), ('cos', jnp.cos), ('tan', jnp.tan),
    ('sinh', jnp.sinh), ('cosh', jnp.cosh), ('tanh', jnp.tanh), ('arcsin', jnp.arcsin), ('arccos', jnp.arccos),
    ('arctan', jnp.arctan), ('asin', jnp.asin), ('acos', jnp.acos), ('atan', jnp.atan), ('asinh', jnp.asinh),
    ('acosh', jnp.acosh), ('atanh', jnp.atanh), ('erf', jsp.erf), ('erfInv', jsp.erfinv), ('floor', jnp.floor),
    ('ceil', jnp.ceil), ('trunc', jnp.trunc), ('round', jnp.round), ('degrees', jnp.degrees), ('radians', jnp.radians),
    ('isfinite', jnp.isfinite), ('isinf', jnp.isinf), ('isnan', jnp.isnan),
]
DOMAIN = {'sqrt': P, 'rsqrt': P, 'log': P, 'log1p': P, 'arcsin': U, 'arccos': U, 'asin': U, 'acos': U,
          'acosh': P + 1, 'atanh': U, 'erfInv': U, 'tan': U, 'floor': A * 3, 'ceil': A * 3, 'trunc': A * 3, 'round': A * 3}
for name, fn in UNARY:
    case(f'np.{name}', fn, DOMAIN.get(name, A))
    case(f'np.{name}:edge', fn, E)
for name, fn in [('abs', jnp.abs), ('negative', jnp.negative), ('sign', jnp.sign)]:
    case(f'np.{name}:int', fn, I)
for name, fn in [('sqrt', jnp.sqrt), ('exp', jnp.exp), ('sin', jnp.sin), ('floor', jnp.floor), ('isnan', jnp.isnan), ('round', jnp.round)]:
    case(f'np.{name}:intIn', fn, np.abs(I))
case('np.round:decimals', lambda x: jnp.round(x, 2), A * 10)
case('np.round:half', jnp.round, np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5], np.float32))
case('np.round:negDecimals', lambda x: jnp.round(x, -1), A * 100)
case('np.conj', jnp.conj, A)
case('np.conjugate', jnp.conjugate, A)
case('np.real', jnp.real, A)
case('np.imag', jnp.imag, A)
case('np.real:int', jnp.real, I)
case('np.logicalNot', jnp.logical_not, BO)
case('np.logicalNot:float', jnp.logical_not, np.where(BO, A, 0).astype(np.float32))
case('np.bitwiseNot', jnp.bitwise_not, I)
case('np.bitwiseNot:bool', jnp.bitwise_not, BO)
case('np.bitwiseNot:uint', jnp.bitwise_not, UI)
case('np.bitwiseInvert', jnp.bitwise_invert, I)

# ---- elementwise, two arguments (broadcasting, ints, bools, weak-typed scalars) ---------------
case('np.add', jnp.add, A, B)
case('np.add:int', jnp.add, I, I2)
case('np.add:bool', jnp.add, BO, BO2)
case('np.add:mixed', jnp.add, I, A)
case('np.add:weakInt', lambda i: jnp.add(i, 2), I)
case('np.add:weakFloatOnInt', lambda i: jnp.add(i, 1.5), I)
case('np.add:weakOnBool', lambda b: jnp.add(b, 1), BO)
case('np.add:bcast3', jnp.add, C, A[:, :1])
case('np.subtract', jnp.subtract, A, B)
case('np.subtract:int', jnp.subtract, I, I2)
case('np.subtract:scalarFirst', lambda i: jnp.subtract(1, i), I)
case('np.multiply', jnp.multiply, C, A)
case('np.multiply:int', jnp.multiply, I, I2)
case('np.multiply:bool', jnp.multiply, BO, BO2)
case('np.multiply:weakFloat', lambda a: jnp.multiply(a, 0.5), A)
case('np.divide', jnp.divide, A, P)
case('np.divide:int', jnp.divide, I, NZ)
case('np.divide:weakInt', lambda i: jnp.divide(i, 2), I)
case('np.divide:edge', jnp.divide, E, np.array([0.0, 0.0, 0.0, -0.0, np.inf, 2.0, -np.inf, 1.0, np.inf, 1.0], np.float32))
case('np.mod', jnp.mod, A * 3, P)
case('np.mod:negDivisor', jnp.mod, A * 3, -P)
case('np.mod:int', jnp.mod, I * 3, NZ)
case('np.mod:weakInt', lambda i: jnp.mod(i, 3), I)
case('np.mod:edge', jnp.mod, E, np.full(10, 2.0, np.float32))
case('np.power', jnp.power, P, A)
case('np.power:int', jnp.power, I, np.abs(I2) % 4)
case('np.power:weakInt', lambda a: jnp.power(a, 3), A)
case('np.power:weakFloat', lambda a: jnp.power(a, 0.5), P)
case('np.power:negBase', lambda a: jnp.power(a, 2.0), A)
case('np.power:edge', jnp.power, E, np.array([0.0, 0.5, np.nan, np.inf, -1.0, 2.0, 0.0, -1.0, 3.0, 0.0], np.float32))
case('np.pow', jnp.pow, P, A)
case('np.atan2', jnp.atan2, A, B)
case('np.atan2:edge', jnp.atan2, np.array([0.0, -0.0, 0.0, -0.0, 1.0, -1.0, np.inf, np.inf, np.nan], np.float32),
     np.array([0.0, 0.0, -0.0, -0.0, 0.0, 0.0, np.inf, -np.inf, 1.0], np.float32))
case('np.maximum', jnp.maximum, A, B)
case('np.maximum:int', jnp.maximum, I, I2)
case('np.maximum:nan', jnp.maximum, N, np.full(6, 0.75, np.float32))
case('np.maximum:weak', lambda a: jnp.maximum(a, 0), A)
case('np.minimum', jnp.minimum, A, B)
case('np.minimum:int', jnp.minimum, I, I2)
case('np.minimum:nan', jnp.minimum, N, np.full(6, 0.75, np.float32))
for name, fn in [('equal', jnp.equal), ('notEqual', jnp.not_equal), ('greater', jnp.greater),
                 ('greaterEqual', jnp.greater_equal), ('less', jnp.less), ('lessEqual', jnp.less_equal)]:
    case(f'np.{name}', fn, np.round(A), np.round(B))
    case(f'np.{name}:int', fn, I, I2)
    case(f'np.{name}:weak', lambda i, fn=fn: fn(i, 0), I)
    case(f'np.{name}:nan', fn, E, np.array([0.0, 0.0, 1.0, 0.0, np.nan, -2.5, np.inf, np.inf, 0.0, np.nan], np.float32))
for name, fn in [('logicalAnd', jnp.logical_and), ('logicalOr', jnp.logical_or), ('logicalXor', jnp.logical_xor)]:
    case(f'np.{name}', fn, BO, BO2)
    case(f'np.{name}:numbers', fn, I, np.where(BO, A, 0).astype(np.float32))
for name, fn in [('bitwiseAnd', jnp.bitwise_and), ('bitwiseOr', jnp.bitwise_or), ('bitwiseXor', jnp.bitwise_xor)]:
    case(f'np.{name}', fn, I, I2)
    case(f'np.{name}:bool', fn, BO, BO2)
    case(f'np.{name}:uint', fn, UI, UI[::-1].copy())
case('np.bitwiseLeftShift', jnp.bitwise_left_shift, I, np.abs(I2) % 5)
case('np.bitwiseLeftShift:uint', jnp.bitwise_left_shift, UI, np.array([0, 1, 31, 1, 4, 3], np.uint32))
case('np.bitwiseRightShift', jnp.bitwise_right_shift, I * 7, np.abs(I2) % 5)
case('np.bitwiseRightShift:uint', jnp.bitwise_right_shift, UI, np.array([0, 1, 31, 1, 4, 3], np.uint32))
case('np.isclose', jnp.isclose, A, A + np.where(BO, 1e-6, 1e-3).astype(np.float32))
case('np.isclose:tol', lambda a, b: jnp.isclose(a, b, rtol=0.0, atol=0.1), A, B)
case('np.isclose:nan', lambda a: jnp.isclose(a, a[::-1], equal_nan=True), E)
case('np.isclose:nanDefault', lambda a: jnp.isclose(a, a), E)

# ---- reductions ------------------------------------------------------------------------------
case('np.sum', jnp.sum, A)
case('np.sum:axis', lambda a: jnp.sum(a, axis=1), A)
case('np.sum:negAxisKeepdims', lambda c: jnp.sum(c, axis=-1, keepdims=True), C)
case('np.sum:axes', lambda c: jnp.sum(c, axis=(0, 2)), C)
case('np.sum:int', jnp.sum, I)
case('np.sum:bool', lambda b: jnp.sum(b, axis=0), BO)
case('np.sum:dtype', lambda i: jnp.sum(i, dtype=jnp.float32), I)
case('np.sum:uint', jnp.sum, UI)
case('np.prod', lambda p: jnp.prod(p, axis=0), P)
case('np.prod:int', lambda i: jnp.prod(i, axis=1), I)
case('np.prod:keepdims', lambda p: jnp.prod(p, axis=-1, keepdims=True), P)
for name, fn in [('max', jnp.max), ('min', jnp.min), ('amax', jnp.amax), ('amin', jnp.amin)]:
    case(f'np.{name}', fn, A)
    case(f'np.{name}:axis', lambda a, fn=fn: fn(a, axis=0), A)
    case(f'np.{name}:keepdims', lambda c, fn=fn: fn(c, axis=(1, 2), keepdims=True), C)
    case(f'np.{name}:int', lambda i, fn=fn: fn(i, axis=-1), I)
    case(f'np.{name}:nan', fn, N)
case('np.max:bool', jnp.max, BO)
case('np.mean', jnp.mean, A)
case('np.mean:axis', lambda a: jnp.mean(a, axis=0), A)
case('np.mean:keepdims', lambda c: jnp.mean(c, axis=(0, -1), keepdims=True), C)
case('np.mean:int', lambda i: jnp.mean(i, axis=1), I)
case('np.mean:bool', jnp.mean, BO)
for name, fn in [('std', jnp.std), ('var', jnp.var), ('var_', jnp.var)]:
    case(f'np.{name}', fn, A)
    case(f'np.{name}:axis', lambda a, fn=fn: fn(a, axis=1), A)
    case(f'np.{name}:ddof', lambda a, fn=fn: fn(a, axis=0, ddof=1), A)
    case(f'np.{name}:keepdims', lambda c, fn=fn: fn(c, axis=-1, keepdims=True), C)
    case(f'np.{name}:int', fn, I)
case('np.all', jnp.all, BO)
case('np.all:axis', lambda b: jnp.all(b, axis=1), BO)
case('np.all:numbers', lambda a: jnp.all(a, axis=0, keepdims=True), np.where(BO, A, 0).astype(np.float32))
case('np.any', jnp.any, BO)
case('np.any:axis', lambda b: jnp.any(b, axis=0), BO)
case('np.any:int', lambda i: jnp.any(i, axis=-1), np.where(BO, I, 0).astype(np.int32))
case('np.argmax', jnp.argmax, A)
case('np.argmax:axis', lambda a: jnp.argmax(a, axis=1), A)
case('np.argmax:keepdims', lambda c: jnp.argmax(c, axis=-1, keepdims=True), C)
case('np.argmax:ties', jnp.argmax, np.array([1, 3, 3, 2, 3], np.int32))
case('np.argmax:nan', jnp.argmax, N)
case('np.argmin', jnp.argmin, A)
case('np.argmin:axis', lambda a: jnp.argmin(a, axis=0), A)
case('np.argmin:ties', jnp.argmin, np.array([2, 0, 1, 0], np.int32))
case('np.argmin:nan', jnp.argmin, N)
case('np.trace', jnp.trace, Q)
case('np.trace:offset', lambda a: jnp.trace(a, offset=1), A)
case('np.trace:negOffset', lambda a: jnp.trace(a, offset=-1), A)
case('np.trace:int', jnp.trace, I)
case('np.trace:axes', lambda c: jnp.trace(c, axis1=1, axis2=2), C)
case('np.cumsum', lambda a: jnp.cumsum(a, axis=1), A)
case('np.cumsum:flat', jnp.cumsum, A)
case('np.cumsum:negAxis', lambda c: jnp.cumsum(c, axis=-2), C)
case('np.cumsum:int', lambda i: jnp.cumsum(i, axis=0), I)
case('np.cumsum:bool', lambda b: jnp.cumsum(b, axis=1), BO)
case('np.cumsum:dtype', lambda i: jnp.cumsum(i, axis=1, dtype=jnp.float32), I)
case('np.cumprod', lambda a: jnp.cumprod(a, axis=1), A)
case('np.cumprod:flat', jnp.cumprod, U)
case('np.cumprod:int', lambda i: jnp.cumprod(i, axis=0), I)
case('np.cumulativeProd', lambda a: jnp.cumulative_prod(a, axis=1), A)
case('np.cumulativeProd:initial', lambda a: jnp.cumulative_prod(a, axis=0, include_initial=True), A)
case('np.cumulativeProd:1d', jnp.cumulative_prod, V)

# ---- sorting ---------------------------------------------------------------------------------
case('np.sort', jnp.sort, A)
case('np.sort:axis0', lambda a: jnp.sort(a, axis=0), A)
case('np.sort:flat', lambda a: jnp.sort(a, axis=None), A)
case('np.sort:descending', lambda a: jnp.sort(a, descending=True), A)
case('np.sort:nan', jnp.sort, E)
case('np.sort:int', jnp.sort, I)
case('np.argsort', jnp.argsort, A)
case('np.argsort:axis0', lambda a: jnp.argsort(a, axis=0), A)
case('np.argsort:ties', jnp.argsort, np.array([3, 1, 3, 0, 1, 3], np.int32))
case('np.argsort:descendingTies', lambda a: jnp.argsort(a, descending=True), np.array([3, 1, 3, 0, 1, 3], np.int32))
case('np.argsort:flat', lambda a: jnp.argsort(a, axis=None), A)
case('np.argsort:nan', jnp.argsort, E)

# ---- products --------------------------------------------------------------------------------
R42 = f32(4, 2)
case('np.matmul', jnp.matmul, A, R42)
case('np.matmul:batched', jnp.matmul, C, f32(2, 4, 3))
case('np.matmul:bcast', jnp.matmul, C, R42)
case('np.matmul:bcastBatch', jnp.matmul, f32(1, 3, 4), f32(2, 4, 2))
case('np.matmul:matvec', jnp.matmul, A, B)
case('np.matmul:vecmat', jnp.matmul, V[:3], A)
case('np.matmul:vecvec', jnp.matmul, B, B)
case('np.matmul:int', jnp.matmul, I, I2.T)
case('np.dot', jnp.dot, A, R42)
case('np.dot:vec', jnp.dot, B, B)
case('np.dot:scalar', lambda a: jnp.dot(a, 2.0), A)
case('np.dot:nd', jnp.dot, C, R42)
case('np.dot:matvec', jnp.dot, A, B)
case('np.dot:int', jnp.dot, I, I2.T)
case('np.inner', jnp.inner, A, f32(2, 4))
case('np.inner:vec', jnp.inner, B, B)
case('np.inner:nd', jnp.inner, C, A)

# ---- shapes ----------------------------------------------------------------------------------
case('np.reshape', lambda a: jnp.reshape(a, (2, 6)), A)
case('np.reshape:neg1', lambda a: jnp.reshape(a, (-1, 2)), A)
case('np.reshape:int', lambda i: jnp.reshape(i, (4, 3)), I)
case('np.ravel', jnp.ravel, C)
case('np.transpose', jnp.transpose, C)
case('np.transpose:axes', lambda c: jnp.transpose(c, (2, 0, 1)), C)
case('np.transpose:negAxes', lambda c: jnp.transpose(c, (-1, 0, -2)), C)
case('np.swapaxes', lambda c: jnp.swapaxes(c, 0, -1), C)
case('np.moveaxis', lambda c: jnp.moveaxis(c, 0, -1), C)
case('np.moveaxis:multi', lambda c: jnp.moveaxis(c, (0, 1), (-1, -3)), C)
case('np.rollAxis', lambda c: jnp.rollaxis(c, 2), C)
case('np.rollAxis:start', lambda c: jnp.rollaxis(c, 0, 2), C)
case('np.rollAxis:neg', lambda c: jnp.rollaxis(c, -1, 1), C)
case('np.expandDims', lambda a: jnp.expand_dims(a, 0), A)
case('np.expandDims:neg', lambda a: jnp.expand_dims(a, -1), A)
case('np.expandDims:multi', lambda a: jnp.expand_dims(a, (0, 2)), A)
SQ = f32(1, 3, 1, 4)
case('np.squeeze', jnp.squeeze, SQ)
case('np.squeeze:axis', lambda a: jnp.squeeze(a, axis=2), SQ)
case('np.squeeze:negAxes', lambda a: jnp.squeeze(a, axis=(0, -2)), SQ)
case('np.flip', jnp.flip, A)
case('np.flip:axis', lambda a: jnp.flip(a, 1), A)
case('np.flip:axes', lambda c: jnp.flip(c, (0, -1)), C)
case('np.broadcastTo', lambda b: jnp.broadcast_to(b, (3, 4)), B)
case('np.broadcastTo:ones', lambda a: jnp.broadcast_to(a, (2, 3, 4)), f32(3, 1))
case('np.broadcastTo:int', lambda i: jnp.broadcast_to(i, (2, 3, 4)), I)
case('np.tile', lambda b: jnp.tile(b, 2), B)
case('np.tile:2d', lambda a: jnp.tile(a, (2, 1)), A)
case('np.tile:rankUp', lambda b: jnp.tile(b, (2, 1, 2)), B)
case('np.repeat', lambda a: jnp.repeat(a, 2), A)
case('np.repeat:axis', lambda a: jnp.repeat(a, 2, axis=0), A)
case('np.repeat:negAxis', lambda c: jnp.repeat(c, 3, axis=-1), C)
case('np.concatenate', lambda a, b: jnp.concatenate([a, b]), A, A * 2)
case('np.concatenate:axis1', lambda a, b: jnp.concatenate([a, b], axis=1), A, A[:, :2] * 3)
case('np.concatenate:none', lambda a, b: jnp.concatenate([a, b], axis=None), A, B)
case('np.concatenate:mixed', lambda i, a: jnp.concatenate([i, a], axis=-1), I, A)
case('np.concat', lambda a, b: jnp.concat([a, b], axis=-1), A, A * 2)
case('np.stack', lambda a, b: jnp.stack([a, b]), A, A * 2)
case('np.stack:axis', lambda a, b: jnp.stack([a, b], axis=-1), A, A * 2)
case('np.stack:axis1', lambda a, b, c: jnp.stack([a, b, c], axis=1), B, B * 2, B * 3)
case('np.atleast1d', jnp.atleast_1d, np.float32(3.5))
case('np.atleast1d:vec', jnp.atleast_1d, B)
case('np.atleast1d:many', lambda a, b: jnp.atleast_1d(a, b), np.float32(1.0), A)
case('np.atleast3d', jnp.atleast_3d, B)
case('np.atleast3d:2d', jnp.atleast_3d, A)
case('np.atleast3d:scalar', jnp.atleast_3d, np.float32(2.0))
case('np.dsplit', lambda a: jnp.dsplit(a, 2), f32(2, 2, 4))
case('np.dsplit:indices', lambda a: jnp.dsplit(a, [1, 3]), f32(2, 2, 4))
case('np.diag', jnp.diag, A)
case('np.diag:k', lambda a: jnp.diag(a, 1), A)
case('np.diag:negK', lambda a: jnp.diag(a, -2), A)
case('np.diag:vec', jnp.diag, B)
case('np.diag:vecK', lambda v: jnp.diag(v, -1), V[:3])
case('np.diagIndicesFrom', jnp.diag_indices_from, np.zeros((3, 3), np.float32))
case('np.diagIndicesFrom:3d', jnp.diag_indices_from, np.zeros((2, 2, 2), np.float32))
case('np.pad', lambda a: jnp.pad(a, 1), A)
case('np.pad:pairs', lambda a: jnp.pad(a, ((1, 0), (0, 2))), A)
case('np.pad:value', lambda a: jnp.pad(a, (2, 1), constant_values=-1.0), A)
case('np.pad:int', lambda i: jnp.pad(i, ((0, 1), (2, 0)), constant_values=7), I)
case('np.pad:edge', lambda a: jnp.pad(a, ((1, 2), (2, 1)), mode='edge'), A)
case('np.pad:reflect', lambda a: jnp.pad(a, ((1, 2), (2, 1)), mode='reflect'), A)
case('np.pad:symmetric', lambda a: jnp.pad(a, ((1, 2), (2, 1)), mode='symmetric'), A)
case('np.pad:wrap', lambda a: jnp.pad(a, ((1, 2), (2, 1)), mode='wrap'), A)

# ---- indexing --------------------------------------------------------------------------------
case('np.take', lambda a, i: jnp.take(a, i, axis=1), A, np.array([0, 2, -1], np.int32))
case('np.take:flat', lambda a, i: jnp.take(a, i), A, np.array([0, 5, 11, -2], np.int32))
case('np.take:fill', lambda v, i: jnp.take(v, i), V, np.array([0, 7, -9, 4], np.int32))
case('np.take:fillValue', lambda v, i: jnp.take(v, i, fill_value=-3.0), V, np.array([0, 7, -9, 4], np.int32))
case('np.take:clip', lambda v, i: jnp.take(v, i, mode='clip'), V, np.array([0, 7, -9, 4], np.int32))
case('np.take:wrap', lambda v, i: jnp.take(v, i, mode='wrap'), V, np.array([0, 7, -9, 4], np.int32))
case('np.take:2dIndices', lambda a, i: jnp.take(a, i, axis=0), A, np.array([[0, 1], [2, 0]], np.int32))
case('np.take:intFill', lambda a, i: jnp.take(a, i, axis=-1), I, np.array([1, 4], np.int32))
case('np.slice', lambda a: a[1:, ::-2], A)
case('np.slice:int', lambda a: a[1, 1:3], A)
case('np.slice:newaxis', lambda a: a[None, :, 2], A)
case('np.slice:ellipsis', lambda c: c[..., 1], C)
case('np.slice:negative', lambda a: a[-2:, :-1], A)
case('np.slice:intArray', lambda a: a[jnp.array([2, 0, -1])], A)
case('np.slice:step', lambda c: c[:, ::2, 1::2], C)
case('np.flatnonzero', lambda i: jnp.flatnonzero(i, size=8, fill_value=-1), I)
case('np.flatnonzero:pad', lambda b: jnp.flatnonzero(b, size=12), BO)

# ---- creation --------------------------------------------------------------------------------
case('np.arange', lambda: jnp.arange(5))
case('np.arange:float', lambda: jnp.arange(0.0, 2.0, 0.5))
case('np.arange:negStep', lambda: jnp.arange(5, -3, -2))
case('np.arange:dtype', lambda: jnp.arange(3, dtype=jnp.float32))
case('np.arange:startStop', lambda: jnp.arange(2, 7))
case('np.array', lambda: jnp.array([[1, 2], [3, 4]]))
case('np.array:float', lambda: jnp.array([1.5, 2.0, -3.0]))
case('np.array:bool', lambda: jnp.array([True, False, True]))
case('np.array:dtype', lambda: jnp.array([1, 2, 3], dtype=jnp.float32))
case('np.array:mixed', lambda: jnp.array([1, 2.5]))
case('np.array:copy', jnp.array, A)
case('np.asarray', lambda: jnp.asarray([1, 2, 3]))
case('np.asarray:dtype', lambda i: jnp.asarray(i, dtype=jnp.float32), I)
case('np.astype', lambda a: a.astype(jnp.int32), A * 3)
case('np.astype:bool', lambda a: a.astype(jnp.bool_), np.where(BO, A, 0).astype(np.float32))
case('np.astype:fromBool', lambda b: b.astype(jnp.float32), BO)
case('np.astype:uint', lambda i: i.astype(jnp.uint32), I)
case('np.astype:intToFloat', lambda i: jnp.astype(i, jnp.float32), I)
case('np.astype:f16', lambda a: jnp.astype(a, jnp.float16), A * 100)
case('np.full', lambda: jnp.full((2, 3), 1.5))
case('np.full:int', lambda: jnp.full((2,), 7))
case('np.full:dtype', lambda: jnp.full((2, 2), 1, dtype=jnp.float32))
case('np.full:bool', lambda: jnp.full((3,), True))
case('np.fullLike', lambda a: jnp.full_like(a, 2.5), A)
case('np.fullLike:int', lambda i: jnp.full_like(i, 2.5), I)
case('np.fullLike:dtype', lambda a: jnp.full_like(a, 3, dtype=jnp.int32), A)
case('np.zeros', lambda: jnp.zeros((2, 3)))
case('np.zeros:dtype', lambda: jnp.zeros((3,), dtype=jnp.int32))
case('np.ones', lambda: jnp.ones((3,)))
case('np.ones:dtype', lambda: jnp.ones((2, 2), dtype=jnp.bool_))
case('np.zerosLike', jnp.zeros_like, I)
case('np.zerosLike:dtype', lambda a: jnp.zeros_like(a, dtype=jnp.bool_), A)
case('np.onesLike', jnp.ones_like, A)
case('np.onesLike:shape', lambda a: jnp.ones_like(a, shape=(2,)), A)
case('np.eye', lambda: jnp.eye(3))
case('np.eye:rect', lambda: jnp.eye(3, 4, k=1))
case('np.eye:negK', lambda: jnp.eye(4, 3, k=-1))
case('np.eye:dtype', lambda: jnp.eye(2, dtype=jnp.int32))
case('np.identity', lambda: jnp.identity(3))
case('np.identity:dtype', lambda: jnp.identity(2, dtype=jnp.bool_))
case('np.fromfunction', lambda: jnp.fromfunction(lambda i, j: i * 10 + j, (2, 3), dtype=jnp.float32))
case('np.fromfunction:int', lambda: jnp.fromfunction(lambda i: i * i, (4,), dtype=jnp.int32))
case('np.hann', lambda: jnp.hanning(5))
case('np.hann:one', lambda: jnp.hanning(1))
case('np.hann:even', lambda: jnp.hanning(6))
case('np.applyAlongAxis', lambda a: jnp.apply_along_axis(lambda v: jnp.sum(v * v), 1, a), A)
case('np.applyAlongAxis:vector', lambda a: jnp.apply_along_axis(jnp.cumsum, 0, a), A)
case('np.applyAlongAxis:3d', lambda c: jnp.apply_along_axis(lambda v: jnp.max(v) - jnp.min(v), 1, c), C)
case('np.applyOverAxes', lambda a: jnp.apply_over_axes(jnp.sum, a, [0, 1]), A)
case('np.applyOverAxes:3d', lambda c: jnp.apply_over_axes(jnp.max, c, [0, 2]), C)
case('np.arrayEquiv', jnp.array_equiv, A, A)
case('np.arrayEquiv:bcast', jnp.array_equiv, np.tile(B, (3, 1)), B)
case('np.arrayEquiv:differ', jnp.array_equiv, A, A + 1)
case('np.arrayEquiv:shape', jnp.array_equiv, B, V)
case('np.polysub', jnp.polysub, B, V[:2])
case('np.polysub:longer', jnp.polysub, V[:2], B)

# ---- metadata: plain values -------------------------------------------------------------------
FINFO = ['bits', 'eps', 'epsneg', 'max', 'min', 'tiny', 'smallest_normal', 'smallest_subnormal', 'resolution',
         'nmant', 'nexp', 'maxexp', 'minexp']


def camel(s):
    head, *rest = s.split('_')
    return head + ''.join(w.title() for w in rest)


for d in ['float32', 'float16']:
    meta(f'np.finfo:{d}', lambda d=d: {camel(k): float(getattr(jnp.finfo(d), k)) for k in FINFO})
for d in ['int32', 'uint32']:
    meta(f'np.iinfo:{d}', lambda d=d: {k: int(getattr(jnp.iinfo(d), k)) for k in ['bits', 'min', 'max']})
meta('np.finfo:array', lambda a: {'eps': float(jnp.finfo(a.dtype).eps), 'bits': jnp.finfo(a.dtype).bits}, A)
PAIRS = [('int32', 'float16'), ('bool', 'uint32'), ('int32', 'uint32'), ('float16', 'float32'), ('bool', 'int32'),
         ('uint32', 'float32'), ('bool', 'bool'), ('float32', 'complex64'), ('uint32', 'bool'), ('float16', 'int32')]
# promote_types does not canonicalize (int32 with uint32 gives int64); an array op with x64 off, which
# kiln follows, gets the canonical dtype.
meta('np.promoteTypes', lambda: [dtype_name(jnp.zeros((), jnp.promote_types(a, b)).dtype) for a, b in PAIRS])
meta('np.promoteTypes:bfloat16', lambda: [dtype_name(jnp.zeros((), jnp.promote_types(a, b)).dtype) for a, b in [('int32', 'bfloat16'), ('float16', 'bfloat16')]])
meta('np.resultType', lambda i, a, b: [dtype_name(jnp.result_type(i, 1.5)), dtype_name(jnp.result_type(i, 2)),
                                       dtype_name(jnp.result_type(a, i)), dtype_name(jnp.result_type(b, 1)),
                                       dtype_name(jnp.result_type(b, b)), dtype_name(jnp.result_type(b, 2.0)),
                                       dtype_name(jnp.result_type(i, a.astype(jnp.float16)))], I, A, BO)
meta('np.shape', lambda c: list(jnp.shape(c)), C)
meta('np.shape:scalar', lambda: list(jnp.shape(3.0)))
meta('np.ndim', lambda c: int(jnp.ndim(c)), C)
meta('np.ndim:scalar', lambda: int(jnp.ndim(3.0)))
meta('np.size', lambda c: int(jnp.size(c)), C)
meta('np.size:axis', lambda c: int(jnp.size(c, axis=-1)), C)
meta('np.isscalar', lambda: [bool(jnp.isscalar(3.0)), bool(jnp.isscalar(jnp.array(3.0))), bool(jnp.isscalar(jnp.zeros((2,)))),
                             bool(jnp.isscalar(True)), bool(jnp.isscalar(jnp.zeros((1,))))])
meta('np.broadcastShapes', lambda: [list(jnp.broadcast_shapes((3, 1), (4,))), list(jnp.broadcast_shapes((2, 1, 4), (3, 1), ())),
                                    list(jnp.broadcast_shapes((5,), (1,))), list(jnp.broadcast_shapes((0, 1), (3,)))])
meta('np.iscomplexobj', lambda a: [bool(jnp.iscomplexobj(a)), bool(jnp.iscomplexobj(a.astype(jnp.complex64)))], A)
meta('np.isrealobj', lambda a: [bool(jnp.isrealobj(a)), bool(jnp.isrealobj(a.astype(jnp.complex64)))], A)


# ---- large and tiny arguments (overflow, cancellation), no rng draws --------------------------
LARGE = np.array([-100.0, -20.0, -1e-7, 1e-7, 0.3, 20.0, 88.5, 89.0, 100.0], np.float32)
for name, fn in [('exp', jnp.exp), ('expm1', jnp.expm1), ('sinh', jnp.sinh), ('cosh', jnp.cosh), ('tanh', jnp.tanh),
                 ('erf', jsp.erf), ('arctan', jnp.arctan), ('asinh', jnp.asinh), ('sign', jnp.sign)]:
    case(f'np.{name}:large', fn, LARGE)
TINY = np.array([1e-30, 1e-7, -1e-7, 3e-4, 1e10, 1e30], np.float32)
for name, fn in [('log1p', jnp.log1p), ('log', jnp.log), ('sqrt', jnp.sqrt), ('rsqrt', jax.lax.rsqrt), ('expm1', jnp.expm1)]:
    case(f'np.{name}:tiny', fn, TINY)
WIDE = np.array([10.0, -50.5, 100.0, 1000.25, -3.0, 7.0], np.float32)
for name, fn in [('sin', jnp.sin), ('cos', jnp.cos), ('tan', jnp.tan)]:
    case(f'np.{name}:wide', fn, WIDE)
case('np.atan2:large', jnp.atan2, np.array([1e30, 1e-30, -1e20, 3.0], np.float32), np.array([1e-30, 1e30, 1e-20, -1e25], np.float32))
case('np.power:large', jnp.power, np.array([10.0, 2.0, 0.5, 1e10], np.float32), np.array([38.0, 130.0, 200.0, 4.0], np.float32))


dump(sys.argv[1], {'jax': jax.__version__, 'cases': cases})
print(len(cases), 'cases')
