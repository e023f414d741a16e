/**
 * @file `kiln.jit` for Python users of JAX (client/python/kiln.py) against a real server, with
 * Debian's python3-numpy and python3-msgpack and no JAX: the lowerings JAX made of
 * test/fixtures/python-jit/cases.py are replayed from the recordings scripts/jax/gen_python_jit.py
 * saved on the GPU machine (JAX 0.11.2), with JAX's outputs in expected.npz.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { webgpuDevice } from '../helpers/devices.js';
import { startServer, type TestServer } from './harness.js';

const run = promisify(execFile);
const CLIENT_DIR = fileURLToPath(new URL('../../client/python', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/python-jit', import.meta.url));
const PYTHON = process.env.KILN_PYTHON ?? '/usr/bin/python3';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ device: await webgpuDevice(), token: 'py-jit-token-0123' });
});
afterAll(async () => {
  await server?.close();
});

const SCRIPT = String.raw`
import sys
import numpy as np
import kiln
from cases import cases
url, fixtures = sys.argv[1], sys.argv[2]
client = kiln.Client(url, token="py-jit-token-0123")
expected = np.load(f"{fixtures}/expected.npz")
recorded = kiln.Recorded(fixtures)

def check(name, got, n_in):
    leaves, _ = kiln.tree_flatten(got)
    i = 0
    while f"{name}/out{i}" in expected.files:
        want = expected[f"{name}/out{i}"]
        assert leaves[i].shape == want.shape and leaves[i].dtype == want.dtype, (name, i, leaves[i].dtype, want.dtype)
        np.testing.assert_allclose(leaves[i], want, rtol=2e-5, atol=1e-6, err_msg=f"{name} output {i}")
        i += 1
    assert i == len(leaves), (name, i, len(leaves))

jitted = {}
for name, fn, args, static, resident in cases():
    j = jitted.setdefault(fn.__name__, kiln.jit(client, fn, static_argnums=static, resident_argnums=resident, lower=recorded))
    for _ in range(3):
        got = j(*args)
        check(name, got, len(args))

# Output pytrees come back as the function returns them (dict keys, tuples, None, lists).
params, x = cases()[0][2]
out = jitted["mlp"](params, x)
assert sorted(out) == ["aux", "logits", "probs"] and isinstance(out["aux"], tuple) and out["aux"][1] is None, out
assert isinstance(jitted["tiled"](np.arange(3, dtype=np.float32), 2, 1.5), list)

# One lowering per signature: two batch sizes of mlp, one each for the others.
assert jitted["mlp"].signatures == 2 and jitted["tiled"].signatures == 1 and jitted["noisy"].signatures == 1

# Resident weights are uploaded once and reused while unchanged; a changed numpy array is sent again.
before = len(client._request("GET", "/buffers"))
jitted["mlp"](params, x)
assert len(client._request("GET", "/buffers")) == before
changed = {**params, "b1": params["b1"] + 1.0}
y = jitted["mlp"](changed, x)["logits"]
assert not np.allclose(y, out["logits"])
assert len(client._request("GET", "/buffers")) == before  # the old b1 was freed, the new one kept
jitted["mlp"].release()

# A signature nobody recorded is an error naming the function, not a wrong answer.
try:
    jitted["tiled"](np.arange(4, dtype=np.float32), 2, 1.5)
    raise SystemExit("an unrecorded signature ran")
except KeyError as e:
    assert "tiled" in str(e), e
try:
    kiln.jit(client, cases()[2][1], static_argnums=(1,))(np.arange(3, dtype=np.float32), [2], 1.0)
    raise SystemExit("an unhashable static argument was accepted")
except TypeError as e:
    assert "static argument 1 must be hashable" in str(e), e

# Pytrees round-trip like jax.tree_util's (dict keys sorted, None has no leaves).
tree = {"b": [1, None, (2, 3)], "a": 4}
leaves, treedef = kiln.tree_flatten(tree)
assert leaves == [4, 1, 2, 3] and kiln.tree_unflatten(treedef, leaves) == tree
print("kiln.jit ok")
`;

it('kiln.jit runs JAX functions with pytrees, static and resident arguments on the server', async () => {
  const { stdout } = await run(PYTHON, ['-c', SCRIPT, server.url, FIXTURES], {
    env: { ...process.env, PYTHONPATH: `${CLIENT_DIR}:${FIXTURES}` },
  });
  expect(stdout).toContain('kiln.jit ok');
});
