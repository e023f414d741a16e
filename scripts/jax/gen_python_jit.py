"""Records what kiln's Python ``kiln.jit`` needs of JAX for the CI test (which has no JAX): each
case of test/fixtures/python-jit/cases.py is lowered through ``kiln.jit`` with a recording
lowering (``kiln.Recorded.save``), and its inputs and JAX's outputs are saved in expected.npz.

    python3 scripts/jax/gen_python_jit.py test/fixtures/python-jit
"""
import os
import sys

import jax
import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'client', 'python'))
sys.path.insert(0, os.path.join(ROOT, 'test', 'fixtures', 'python-jit'))
import kiln  # noqa: E402
from cases import cases  # noqa: E402

jax.config.update('jax_default_matmul_precision', 'highest')
out = sys.argv[1]


class Recorder(kiln.Client):
    """Stands in for a server: compile accepts any text; execute returns nothing (unused)."""

    def compile(self, ir):
        return {'id': 'recorded'}

    def execute(self, executable, inputs, keep=None, handles=None):
        return []

    def upload(self, a, handle=None):
        return kiln.Buffer('recorded', 'f32', ())


saved = {}
for name, fn, args, static, resident in cases():
    j = kiln.jit(Recorder(), fn, static_argnums=static, resident_argnums=resident, lower=kiln.Recorded.save(out))
    try:
        j(*args)
    except ValueError:
        pass  # the stand-in returns no outputs to unflatten
    want = jax.jit(fn, static_argnums=static)(*args)
    leaves, _ = kiln.tree_flatten(jax.tree.map(np.asarray, want))
    for i, a in enumerate(jax.tree.leaves(args)):
        saved[f'{name}/in{i}'] = np.asarray(a)
    for i, a in enumerate(leaves):
        saved[f'{name}/out{i}'] = np.asarray(a)
    print(name, 'recorded', len(leaves), 'outputs')
np.savez(os.path.join(out, 'expected.npz'), **saved)
