"""Shared helpers of the JAX fixture generators: arrays to kiln's corpus JSON form.

Run on a machine with JAX 0.11 (the GPU machine lent by the `device` tool has it):
    JAX_PLATFORMS=cpu python3 scripts/jax/<generator>.py OUT_DIR
"""
import json
import math

import numpy as np

_DTYPES = {
    np.dtype('float32'): 'f32', np.dtype('float16'): 'f16', np.dtype('int32'): 'i32',
    np.dtype('uint32'): 'ui32', np.dtype('bool'): 'i1', np.dtype('int64'): 'i64',
    np.dtype('uint64'): 'ui64', np.dtype('float64'): 'f64',
    np.dtype('uint8'): 'ui8', np.dtype('uint16'): 'ui16', np.dtype('int8'): 'i8', np.dtype('int16'): 'i16',
}


def tensor(x):
    """One array as {dtype, shape, data}: flat row-major data, NaN as null, booleans as 0/1."""
    a = np.asarray(x)
    if a.dtype in (np.complex64, np.complex128):
        # complex: interleaved (re, im) pairs, numpy's memory layout.
        pairs = np.stack([a.real.reshape(-1), a.imag.reshape(-1)], axis=1).reshape(-1)
        return {'dtype': 'c64' if a.dtype == np.complex64 else 'c128', 'shape': list(a.shape), 'data': tensor(pairs)['data']}
    if a.dtype.name == 'bfloat16':
        # bf16 (ml_dtypes): the values, exactly representable in float64.
        return {'dtype': 'bf16', 'shape': list(a.shape), 'data': tensor(a.astype(np.float32))['data']}
    dtype = _DTYPES.get(a.dtype)
    if dtype is None:
        raise TypeError(f'no kiln dtype for {a.dtype}')
    flat = a.reshape(-1)
    if a.dtype.kind == 'f':
        data = [None if math.isnan(v) else (v if math.isfinite(v) else ('inf' if v > 0 else '-inf'))
                for v in flat.astype(np.float64).tolist()]
        # JSON has no Infinity: write it as a string the loaders understand.
    elif a.dtype.kind == 'b':
        data = [int(v) for v in flat.tolist()]
    else:
        # 64-bit integers past 2^53 as decimal strings: a JSON number would lose their low bits in JS.
        data = [int(v) if abs(int(v)) <= 2 ** 53 else str(int(v)) for v in flat.tolist()]
    return {'dtype': dtype, 'shape': list(a.shape), 'data': data}


def tree(x):
    """A pytree of arrays (lists/tuples/dicts) in the same nesting, leaves as tensors."""
    if isinstance(x, (list, tuple)):
        return [tree(v) for v in x]
    if isinstance(x, dict):
        return {k: tree(v) for k, v in x.items()}
    return tensor(x)


def dump(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))


def program(out_dir, name, f, *args, note='', text=None):
    """Write one real JAX program in the corpus format: NAME.mlir (JAX's CPU lowering), NAME.json
    (inputs, JAX's outputs) and NAME.gpu.mlir where the GPU lowering differs. A program JAX itself
    cannot lower or run is reported and skipped."""
    import os

    import jax
    cpu = jax.devices('cpu')[0]
    gpus = [d for d in jax.devices() if d.platform == 'gpu']
    try:
        args = [np.asarray(a) for a in args]
        with jax.default_device(cpu):
            t = text or jax.jit(f).lower(*args).as_text()
            outs = jax.jit(f)(*args)
        outs = jax.tree.leaves(outs)
        with open(os.path.join(out_dir, name + '.mlir'), 'w') as fh:
            fh.write(t)
        dump(os.path.join(out_dir, name + '.json'), {'name': name, 'note': note, 'inputs': [tensor(a) for a in args],
                                                      'outputs': [tensor(np.asarray(o)) for o in outs]})
        if gpus and text is None:
            with jax.default_device(gpus[0]):
                g = jax.jit(f).lower(*args).as_text()
            if g != t:
                with open(os.path.join(out_dir, name + '.gpu.mlir'), 'w') as fh:
                    fh.write(g)
        print(name, 'ok')
    except Exception as e:  # noqa: BLE001
        print(name, 'FAILED', type(e).__name__, str(e)[:200])


class Recorder:
    """One generator's cases and its seeded inputs. `f32` and `i32` draw from one generator in call
    order, so cases appended at the end leave every earlier input unchanged; `case` records
    f(*args) with its inputs, and reports (does not record) a case this JAX cannot run."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.cases = {}

    def f32(self, *shape, lo=-2.0, hi=2.0):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def i32(self, *shape, lo=-5, hi=6):
        return self.rng.integers(lo, hi, shape).astype(np.int32)

    def case(self, name, f, *args):
        """f(*args), its output arrays as tensors."""
        import jax
        self._record(name, f, args, lambda out: tree(jax.tree.map(np.asarray, out)))

    def meta(self, name, f, *args):
        """A function returning a plain value (bool, int, list, dict, dtype name): `output: {json: value}`."""
        self._record(name, f, args, lambda out: {'json': out})

    def _record(self, name, f, args, encode):
        import jax
        import jax.numpy as jnp
        try:
            out = f(*[jax.tree.map(jnp.asarray, a) for a in args])
            self.cases[name] = {'inputs': [tree(jax.tree.map(np.asarray, a)) for a in args], 'output': encode(out)}
        except Exception as e:  # noqa: BLE001 - a name this JAX lacks is listed, not recorded
            print(f'not recorded: {name}: {type(e).__name__}: {str(e)[:160]}')
