/**
 * @file The Python client (client/python/kiln_client.py) against a real server, with Debian's
 * python3-numpy and python3-msgpack (installed by scripts/setup-ci-packages.sh).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CORPUS_DIR } from '../helpers/corpus.js';
import { webgpuDevice } from '../helpers/devices.js';
import { startServer, type TestServer } from './harness.js';

const run = promisify(execFile);
const CLIENT_DIR = fileURLToPath(new URL('../../client/python', import.meta.url));
// Debian's interpreter: it sees python3-numpy and python3-msgpack whatever python3 is first on PATH.
const PYTHON = process.env.KILN_PYTHON ?? '/usr/bin/python3';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ device: await webgpuDevice(), token: 'py-token' });
});
afterAll(async () => {
  await server?.close();
});

const SCRIPT = String.raw`
import json, sys
import numpy as np
from kiln_client import Client, KilnError
url, corpus = sys.argv[1], sys.argv[2]
kiln = Client(url, token="py-token")
assert kiln.health()["status"] == "ok"

# A JAX-printed program and its inputs, as a JAX user would send them.
text = open(f"{corpus}/mlp_forward.mlir").read()
case = json.load(open(f"{corpus}/mlp_forward.json"))
arrays = [np.array(t["data"], dtype=np.float32).reshape(t["shape"]) for t in case["inputs"]]
want = np.array(case["outputs"][0]["data"], dtype=np.float32).reshape(case["outputs"][0]["shape"])
exe = kiln.compile(text)
assert exe["inputs"][0] == {"dtype": "f32", "shape": [8, 16]}, exe
(got,) = kiln.execute(exe["id"], arrays)
np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

# Weights stay on the server; float64 is narrowed to float32 as JAX does.
weights = [kiln.upload(a.astype(np.float64)) for a in arrays[1:]]
(got2,) = kiln.execute(exe["id"], [arrays[0], *weights])
np.testing.assert_allclose(got2, want, rtol=1e-4, atol=1e-5)
(kept,) = kiln.execute(exe["id"], [arrays[0], *weights], keep=[True])
np.testing.assert_allclose(kiln.download(kept), want, rtol=1e-4, atol=1e-5)
kiln.free(kept)

(r,) = kiln.run(text, arrays)
np.testing.assert_allclose(r, want, rtol=1e-4, atol=1e-5)
try:
    kiln.compile("func.func @main() -> () {\n  %0 = stablehlo.bogus\n}")
    raise SystemExit("bad IR was accepted")
except KilnError as e:
    assert e.status in (400, 422) and e.line == 2, (e.status, e.code, e.line)

# 64-bit inputs that do not fit 32 bits are refused before anything is sent, not wrapped or rounded.
from kiln_client import LossyConversionError
ADD_I32 = "func.func @main(%a: tensor<2xi32>) -> tensor<2xi32> {\n  %0 = stablehlo.add %a, %a : tensor<2xi32>\n  return %0 : tensor<2xi32>\n}"
(ok,) = kiln.run(ADD_I32, [np.array([3, -2**31 // 2], np.int64)])
assert ok.tolist() == [6, -2**31], ok
try:
    kiln.run(ADD_I32, [np.array([1, 2**31 + 5])])
    raise SystemExit("int64 out of the i32 range was accepted")
except LossyConversionError as e:
    assert "2147483653" in str(e) and "index (1,)" in str(e) and "lossy=True" in str(e), e
try:
    kiln.upload(np.array([0.1, 0.5]))
    raise SystemExit("float64 0.1 was narrowed silently")
except LossyConversionError as e:
    assert "0.1 at index (0,) becomes 0.10000000149011612" in str(e), e
(wrapped,) = Client(url, token="py-token", lossy=True).run(ADD_I32, [np.array([1, 2**31 + 5])])
# 2**31 + 5 wraps to -2147483643; doubled it wraps again: -4294967286 + 2**32 = 10.
assert wrapped.tolist() == [2, 10], wrapped
print("python client ok")
`;

it('drives the server from Python with numpy arrays', async () => {
  const { stdout } = await run(PYTHON, ['-c', SCRIPT, server.url, CORPUS_DIR], {
    env: { ...process.env, PYTHONPATH: CLIENT_DIR },
  });
  expect(stdout).toContain('python client ok');
});
