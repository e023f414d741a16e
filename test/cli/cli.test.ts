/**
 * @file The `kiln` command as users run it (`node dist/cli.js`, built by the global setup): run on
 * corpus cases and on numpy files written by real numpy, check/fmt/hash/compile, errors with
 * file:line:col, and `kiln serve` (loopback by default, token for other addresses, SIGTERM).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../ir/errors.js';
import { fromJson, type JsonTensor, narrowData } from '../../runtime/tensor.js';
import { readNpy, writeNpy } from '../../runtime/formats/npy.js';
import { CORPUS_DIR, loadCase, mismatch } from '../helpers/corpus.js';
import { ENDLESS_WHILE } from '../helpers/programs.js';
import { encode } from '@msgpack/msgpack';

const exec = promisify(execFile);
const CLI = 'dist/cli.js';
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
const corpus = (name: string, ext: string) => join(CORPUS_DIR, `${name}.${ext}`);

async function kiln(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, KILN_DEVICE: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('kiln run', () => {
  for (const device of ['reference', 'webgpu']) {
    it(`runs a corpus case on ${device} and writes OUT.json`, async () => {
      const out = join(dir, `softmax-${device}.json`);
      const r = await kiln('run', corpus('softmax', 'mlir'), '--inputs', corpus('softmax', 'json'), '--out', out, '--device', device);
      expect(r.code, r.stderr).toBe(0);
      const got = (JSON.parse(readFileSync(out, 'utf8')) as { outputs: JsonTensor[] }).outputs.map((t) => fromJson(t));
      expect(mismatch(got[0], loadCase('softmax').outputs[0], 1e-3)).toBeUndefined();
    });
  }

  it('reads .npy inputs written by numpy and writes .npy outputs numpy reads', async () => {
    const c = loadCase('mlp_forward');
    const py = String.raw`
import json, sys, numpy as np
case = json.load(open(sys.argv[1]))
for i, t in enumerate(case["inputs"]):
    np.save(f"{sys.argv[2]}/in{i}.npy", np.array(t["data"], dtype=np.float32).reshape(t["shape"]))
`;
    await exec('/usr/bin/python3', ['-c', py, corpus('mlp_forward', 'json'), dir]);
    const inputs = c.inputs.map((_, i) => join(dir, `in${i}.npy`)).join(',');
    const r = await kiln('run', corpus('mlp_forward', 'mlir'), '--inputs', inputs, '--out', join(dir, 'y.npy'));
    expect(r.code, r.stderr).toBe(0);
    expect(mismatch(readNpy(readFileSync(join(dir, 'y_0.npy'))).tensor, c.outputs[0])).toBeUndefined();
    const check = String.raw`
import sys, numpy as np
y = np.load(sys.argv[1]); print(y.dtype, y.shape)
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', check, join(dir, 'y_0.npy')]);
    expect(stdout.trim()).toBe('float32 (8, 4)');
  });

  it('round-trips every dtype through .npy', () => {
    for (const [dtype, data] of [['f32', [1.5, -2]], ['f16', [0.5, 65504]], ['i32', [-7, 2 ** 31 - 1]], ['ui32', [0, 2 ** 32 - 1]], ['i1', [1, 0]]] as const) {
      const t = fromJson({ dtype, shape: [2], data: [...data] });
      expect(Array.from(narrowData(readNpy(writeNpy(t)).tensor))).toEqual([...data]);
    }
  });

  it('refuses a JSON input whose shape no tensor can have, with an InputError', () => {
    const huge = { dtype: 'f32', shape: [65536, 65536], data: [] };
    expect(() => fromJson(huge, 'inputs[0]')).toThrow(InputError);
    expect(() => fromJson(huge, 'inputs[0]')).toThrow(/^inputs\[0\]: shape \[65536,65536\]: it has more than 2147483647 elements/);
  });

  it('fails with file:line:col on bad IR and names bad inputs', async () => {
    const bad = join(dir, 'bad.mlir');
    writeFileSync(bad, 'func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = stablehlo.add %a, %b : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n');
    const r = await kiln('run', bad, '--inputs', corpus('softmax', 'json'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`${bad}:2:26: use of undefined value %b`);
    const wrong = await kiln('run', corpus('softmax', 'mlir'), '--inputs', corpus('gelu', 'json').replace('gelu', 'mlp_forward'), '--device', 'reference');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/input/);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('kiln check, fmt, hash, compile', () => {
  it('check prints the signature', async () => {
    const r = await kiln('check', corpus('argmax_int', 'mlir'));
    expect(r.stdout.trim()).toBe('@main(tensor<8x16xf32>) -> (tensor<8xi32>, tensor<16xf32>)');
  });

  it('fmt is canonical and hash ignores formatting', async () => {
    const a = await kiln('fmt', corpus('gelu', 'mlir'));
    const f = join(dir, 'gelu-fmt.mlir');
    writeFileSync(f, a.stdout);
    expect((await kiln('fmt', f)).stdout).toBe(a.stdout);
    expect((await kiln('hash', f)).stdout).toBe((await kiln('hash', corpus('gelu', 'mlir'))).stdout);
    expect((await kiln('hash', f)).stdout).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('compile --json reports hash, kernels and bytes; --emit wgsl shows the kernels', async () => {
    const r = await kiln('compile', corpus('gelu', 'mlir'), '--json');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kernels: 1 });
    expect(j.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(j.bytes).toBeGreaterThan(0);
    const w = await kiln('compile', corpus('softmax', 'mlir'), '--emit', 'wgsl');
    expect(w.stdout).toMatch(/@compute @workgroup_size/);
  });
});

describe('kiln serve', () => {
  it('refuses a non-loopback address without a token', async () => {
    const r = await kiln('serve', '--host', '0.0.0.0', '--port', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/without a token/);
  });

  it('serves, answers /health, and exits 0 on SIGTERM', async () => {
    const { child, url } = await serve('--host', '127.0.0.1');
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect(await stop(child)).toBe(0);
  });

  it('serves on the device --device names, and refuses an unknown one naming the choices', async () => {
    const { child, url, line } = await serve('--device', 'reference');
    try {
      expect(line).toMatch(/device: reference/);
      const health = (await (await fetch(`${url}/health`)).json()) as { device: { kind: string } };
      expect(health.device.kind).toBe('reference');
    } finally {
      await stop(child);
    }
    const bogus = await kiln('serve', '--port', '0', '--device', 'bogus');
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toMatch(/--device bogus: expected webgpu, reference or auto/);
  });

  it('on the reference device, answers /health during an endless loop and exits promptly on SIGTERM', async () => {
    const { child, url } = await serve('--device', 'reference');
    const loop = fetch(`${url}/run`, { method: 'POST', body: encode({ ir: ENDLESS_WHILE, inputs: [{ dtype: 'i32', shape: [], data: new Uint8Array(4) }] }), headers: { 'content-type': 'application/msgpack' } })
      .catch(() => undefined);
    // The loop is running once /metrics says so; /health answers meanwhile.
    const end = Date.now() + 20_000;
    while (!/^kiln_work_pending 1$/m.test(await (await fetch(`${url}/metrics`)).text())) {
      if (Date.now() > end) throw new Error('the loop never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const start = performance.now();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(performance.now() - start).toBeLessThan(2000);
    const stopped = performance.now();
    expect(await stop(child)).toBe(0);
    expect(performance.now() - stopped).toBeLessThan(10_000);
    await loop;
  });

  it('prints the host it was asked for, not the first address it bound', async () => {
    const { child, url } = await serve('--host', 'localhost', '--device', 'reference');
    try {
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it('names 0.0.0.0 in its start-up line when asked to listen there', async () => {
    const { child, url } = await serve('--host', '0.0.0.0', '--token', 'a-token-of-16-chars+', '--device', 'reference');
    try {
      expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect((await fetch(`${url.replace('0.0.0.0', '127.0.0.1')}/health`)).status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it('serves the tenants of a --tokens file, and names the line of a bad one', async () => {
    const good = join(dir, 'tokens.txt');
    writeFileSync(good, '# tenants\nalice alice-token-0123456789\n\nbob   bob-token-abcdefghijkl\n');
    const { child, url, line } = await serve('--tokens', good, '--device', 'reference');
    try {
      expect(line).toMatch(/2 tenants/);
      expect((await fetch(`${url}/buffers`)).status).toBe(401);
      expect((await fetch(`${url}/buffers`, { headers: { authorization: 'Bearer bob-token-abcdefghijkl' } })).status).toBe(200);
    } finally {
      await stop(child);
    }
    const bad = join(dir, 'tokens-bad.txt');
    writeFileSync(bad, 'alice alice-token-0123456789\nbob\n');
    const r = await kiln('serve', '--port', '0', '--tokens', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:2: expected 'TENANT TOKEN'`);
  });

  it('refuses a session TTL shorter than the request deadline, and takes one as short as --request-timeout', async () => {
    const r = await kiln('serve', '--port', '0', '--device', 'reference', '--session-ttl', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--session-ttl 5: expected seconds, at least 60 \(the request deadline\)/);
    const t = await kiln('serve', '--port', '0', '--device', 'reference', '--request-timeout', '0.5');
    expect(t.stderr).toMatch(/--request-timeout 0.5: expected seconds, 1-3600/);
    const { child, url, line } = await serve('--device', 'reference', '--request-timeout', '5', '--session-ttl', '5');
    expect(line).toMatch(/device: reference/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await stop(child)).toBe(0);
  });

  it('refuses a token shorter than 16 characters', async () => {
    const r = await kiln('serve', '--port', '0', '--token', 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/token has 1 characters; use at least 16/);
    const env = await kiln('serve', '--port', '0', '--token', '123456789012345');
    expect(env.stderr).toMatch(/token has 15 characters/);
  });
});

/** Starts `kiln serve --port 0 ...args` and waits for its start-up line. */
async function serve(...args: string[]): Promise<{ child: ChildProcess; url: string; line: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KILN_DEVICE: '' } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kiln serve did not start in 30 s: ${out}`)); }, 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+) (.*)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], line: m[0] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kiln serve exited ${code}: ${out}`)); });
  });
}

/** Sends SIGTERM and resolves with the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGTERM'); });
}
