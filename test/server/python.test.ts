/**
 * @file The Python client (client/python/kiln_client.py) against a real server, with Debian's
 * python3-numpy and python3-msgpack (installed by scripts/setup-ci-packages.sh).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jit, lower, np, save, setDefaultDevice, type Array as KArray } from '../../client/index.js';
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
  setDefaultDevice('auto');
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
# complex64 travels as numpy's complex64 (re, im float32 pairs); complex128 narrows like float64.
MUL_C64 = "func.func @main(%a: tensor<2xcomplex<f32>>, %b: tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>> {\n  %0 = stablehlo.multiply %a, %b : tensor<2xcomplex<f32>>\n  return %0 : tensor<2xcomplex<f32>>\n}"
(prod,) = kiln.run(MUL_C64, [np.array([1 + 2j, 0.5 - 1j], np.complex64), np.array([3 - 4j, 2j])])
assert prod.dtype == np.complex64 and prod.tolist() == [11 + 2j, 2 + 1j], prod
try:
    kiln.upload(np.array([0.1 + 1j]))
    raise SystemExit("complex128 0.1+1j was narrowed silently")
except LossyConversionError as e:
    assert "complex128 value (0.1+1j) at index (0,)" in str(e), e
(wrapped,) = Client(url, token="py-token", lossy=True).run(ADD_I32, [np.array([1, 2**31 + 5])])
# 2**31 + 5 wraps to -2147483643; doubled it wraps again: -4294967286 + 2**32 = 10.
assert wrapped.tolist() == [2, 10], wrapped

# Each client works in its own session: another client cannot see its buffers; close() frees them.
with Client(url, token="py-token") as a, Client(url, token="py-token") as b:
    wa = a.upload(np.arange(4, dtype=np.float32), handle="w")
    assert a.session != b.session and a.session is not None
    try:
        b.download("w")
        raise SystemExit("another session's buffer was readable")
    except KilnError as e:
        assert e.status == 404 and "in this session" in e.message, e
    np.testing.assert_array_equal(a.download(wa), np.arange(4, dtype=np.float32))
    sids = f"{a.session} {b.session}"
try:
    Client(url, token="py-token")._request("GET", "/buffers/w", in_session=False)
    raise SystemExit("the default session sees a session's buffer")
except KilnError as e:
    assert e.status == 404, e
print("sessions ok", sids)
print("python client ok")
`;

it('drives the server from Python with numpy arrays', async () => {
  const { stdout } = await run(PYTHON, ['-c', SCRIPT, server.url, CORPUS_DIR], {
    env: { ...process.env, PYTHONPATH: CLIENT_DIR },
  });
  expect(stdout).toContain('python client ok');
  // The with-block ended both sessions: nothing of theirs is left on the server.
  const [, a, b] = /sessions ok (\S+) (\S+)/.exec(stdout)!;
  const open = server.app.kiln.tenants.list('default').map((s) => s.id);
  expect(open).not.toContain(a);
  expect(open).not.toContain(b);
});

const MODEL_SCRIPT = String.raw`
import json, sys
import numpy as np
from kiln_client import Client, KilnError
url, folder = sys.argv[1], sys.argv[2]
case = json.load(open(f"{folder}/case.json"))
ir = open(f"{folder}/mlp.mlir").read()
x = np.array(case["x"], np.float32).reshape(case["xShape"])
want = np.array(case["y"], np.float32).reshape(case["yShape"])
with Client(url, token="py-token") as kiln:
    # The file's tensors (b1, b2, w1, w2: the order the parameters flatten in) bind the leading arguments.
    m = kiln.register_model("mlp", ir, weights=f"{folder}/mlp.safetensors")
    assert [w["tensor"] for w in m["weights"]] == ["b1", "b2", "w1", "w2"], m
    assert m["inputs"] == [{"arg": 4, "dtype": "f32", "shape": list(x.shape)}], m
    (y,) = kiln.infer("mlp", [x])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    # By name and from a resident buffer, which the model takes over.
    w2 = kiln.upload(np.array(case["w2"], np.float32).reshape(4, 2))
    blob = open(f"{folder}/mlp.safetensors", "rb").read()
    try:
        kiln.register_model("mlp-b", ir, weights=blob, bind={0: "b1", 1: "b2", 2: "w1", 3: w2})
        raise SystemExit("an unbound tensor of the weights was accepted")
    except KilnError as e:
        assert e.status == 400 and "'w2' bind no argument" in e.message, e
    m2 = kiln.register_model("mlp-b", ir, weights=blob, bind={3: "w2", 0: "b1", 1: "b2", 2: "w1"})
    (y2,) = kiln.infer("mlp-b", [x])
    np.testing.assert_allclose(y2, want, rtol=1e-5, atol=1e-6)
    stats = {d["name"]: d for d in kiln.models()}
    assert stats["mlp"]["runs"] == 1 and stats["mlp"]["latencyMs"]["mean"] > 0 and stats["mlp"]["bytes"] == 4 * 26, stats
    kiln.delete_model("mlp")
    try:
        kiln.infer("mlp", [x])
        raise SystemExit("a deleted model ran")
    except KilnError as e:
        assert e.status == 404, e
    print("models ok")
`;

it('registers a model from Python with safetensors weights the TS side saved, and infers it', async () => {
  // The TS side: a small MLP's weights through client/io.ts save, its forward pass lowered, and
  // its result on the TS side's own device.
  setDefaultDevice('reference');
  const p = {
    b1: np.array([0.1, -0.2, 0.3, 0.05]), b2: np.array([0.01, -0.02]),
    w1: np.array([0.5, -1, 0.25, 2, 1.5, 0.75, -0.5, 1, -2, 0.1, 0.3, -0.7], { shape: [3, 4] }),
    w2: np.array([1, -1, 0.5, 2, -0.25, 0.75, 1.25, -0.5], { shape: [4, 2] }),
  };
  type P = typeof p;
  const forward = (q: P, x: KArray) => np.add(np.matmul(np.tanh(np.add(np.matmul(x, q.w1), q.b1)), q.w2), q.b2);
  const x = np.array([1, 2, 3, -1, 0.5, 0.25, 0, -2, 1], { shape: [3, 3] });
  const folder = mkdtempSync(join(tmpdir(), 'kiln-py-models-'));
  await save(join(folder, 'mlp.safetensors'), p);
  writeFileSync(join(folder, 'mlp.mlir'), lower(forward)(p, x).text);
  const y = jit(forward)(p, x) as KArray;
  writeFileSync(join(folder, 'case.json'), JSON.stringify({
    x: Array.from(await x.data()), xShape: x.shape, y: Array.from(await y.data()), yShape: y.shape, w2: Array.from(await p.w2.data()),
  }));
  const { stdout } = await run(PYTHON, ['-c', MODEL_SCRIPT, server.url, folder], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
  expect(stdout).toContain('models ok');
  // The with-block ended the session: its models' weights are gone from the server.
  expect(server.app.kiln.tenants.all().reduce((n, s) => n + s.models.size, 0)).toBe(0);
});

const EXEC_SCRIPT = String.raw`
import sys
import numpy as np
from kiln_client import Client, KilnError
with Client(sys.argv[1], token="py-token") as kiln:
    a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    b = np.array([[0.5, -1], [2, 0.25], [-3, 1.5]], np.float32)
    np.testing.assert_allclose(kiln.exec("matmul", a, b), a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kiln.exec("sum", a, axis=1, keepdims=True), a.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(kiln.exec("nn.relu", kiln.upload(a)), np.maximum(a, 0))
    left, right = kiln.exec("split", a, indices_or_sections=[1], axis=1)
    np.testing.assert_array_equal(left, a[:, :1])
    np.testing.assert_array_equal(right, a[:, 1:])
    assert any(o["name"] == "np.matmul" and o["arity"] == 2 for o in kiln.ops())
    assert "stablehlo.dot_general" in kiln.stablehlo_ops()
    try:
        kiln.exec("nosuchop", a)
        raise SystemExit("an unknown op ran")
    except KilnError as e:
        assert e.status == 404 and e.code == "KILN_ERR_NOT_FOUND", e
    try:
        kiln.exec("sum", a, axes=1)
        raise SystemExit("an unknown keyword argument was accepted")
    except KilnError as e:
        assert e.status == 400 and "'axes'" in e.message, e
    print("exec ok")
`;

it('runs single numpy/nn functions from Python with keyword arguments (exec)', async () => {
  const { stdout } = await run(PYTHON, ['-c', EXEC_SCRIPT, server.url], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
  expect(stdout).toContain('exec ok');
});
