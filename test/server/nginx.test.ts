/**
 * @file Three `kiln serve` processes on loopback behind nginx (Debian's package, run as the current
 * user from a config in a temp dir), sharing one --cache-dir. nginx hashes each request on
 * `X-Kiln-Route` (the TS and Python clients send a random one per session, so a session stays on
 * the server holding its buffers) or, without it, on `X-Kiln-Graph` (the program) and the path:
 * sessionless work of a program always reaches one server. Each program is compiled once across
 * the three (the sum of kiln_programs_compiled_total), a server that meets a program another
 * compiled loads the compiled form from the shared directory, and the TS client (connect()) and
 * the Python client work through nginx unchanged. Without nginx the test fails in CI and is skipped
 * elsewhere, saying so.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/index.js';
import { hashModule } from '../../ir/hash.js';
import { parseModule } from '../../ir/parse/parser.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { IN_CI } from '../helpers/devices.js';
import { call, unwire, wire, serveCli } from './harness.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
const why = 'nginx is not installed (Debian package nginx: scripts/setup-ci-packages.sh)';
if (!NGINX && IN_CI) throw new Error(`${why}; CI: failing, not skipping`);

const PYTHON = process.env.KILN_PYTHON ?? '/usr/bin/python3';
const CLIENT_DIR = fileURLToPath(new URL('../../client/python', import.meta.url));
const prog = (op: string) => `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.${op} %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const PROGRAMS = { add: prog('add'), multiply: prog('multiply'), subtract: prog('subtract'), maximum: prog('maximum'), minimum: prog('minimum'), divide: prog('divide') };
const A = [1, 2, 3, 4];
const B = [10, 20, 30, 40];
const WANT: Record<string, number[]> = {
  add: [11, 22, 33, 44], multiply: [10, 40, 90, 160], subtract: [-9, -18, -27, -36],
  maximum: [10, 20, 30, 40], minimum: [1, 2, 3, 4], divide: A.map((x, i) => Math.fround(x / B[i])),
};
const idOf = (t: string) => hashModule(parseModule(t, 'p.mlir'));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const serve = serveCli;

/** nginx's config: a hash upstream of the three servers, temp paths and logs in `dir`. */
function nginxConf(dir: string, port: number, backends: string[]): string {
  const root = process.getuid?.() === 0;
  return `${root ? `user ${userInfo().username};\n` : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size 256m;
  # A session's requests (X-Kiln-Route) stay on one server; sessionless ones go by program.
  map $http_x_kiln_route $kiln_key { "" "$http_x_kiln_graph$uri"; default $http_x_kiln_route; }
  upstream kiln {
    hash $kiln_key consistent;
${backends.map((b) => `    server ${b};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://kiln;
      # The client's Host (loopback), which a server without a token requires.
      proxy_set_header Host $http_host;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}

describe.skipIf(!NGINX)(`three kiln servers behind nginx${NGINX ? '' : ` (skipped: ${why})`}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nginx-'));
  const servers: { child: ChildProcess; url: string }[] = [];
  let nginx: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const cache = join(dir, 'cache');
    servers.push(...await Promise.all([serve(cache), serve(cache), serve(cache)]));
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, servers.map((s) => s.url.replace('http://', ''))));
    let err = '';
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr!.on('data', (d) => { err += d; });
    url = `http://127.0.0.1:${port}`;
    const end = Date.now() + 10_000;
    for (;;) {
      try { if ((await fetch(`${url}/health`)).status === 200) break; } catch { /* not up yet */ }
      if (nginx.exitCode !== null || Date.now() > end) throw new Error(`nginx did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 20_000);

  afterAll(async () => {
    const exits = [nginx, ...servers.map((s) => s.child)].filter((c) => c && c.exitCode === null).map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); }));
    await Promise.all(exits);
    rmSync(dir, { recursive: true, force: true });
  });

  const counts = async () => Promise.all(servers.map(async (s) => {
    const m = (await call(s.url, 'GET', '/metrics')).body as string;
    const n = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(m)![1]);
    return { compiled: n('kiln_programs_compiled_total'), loaded: n('kiln_artifacts_loaded_total') };
  }));

  it('routes sessionless work by program (X-Kiln-Graph): each compiled once, on one server', async () => {
    const inputs = [wire(hostTensor('f32', [4], A)), wire(hostTensor('f32', [4], B))];
    for (let round = 0; round < 3; round++) {
      for (const [name, text] of Object.entries(PROGRAMS)) {
        const r = await call(url, 'POST', '/run', { ir: text, inputs }, { 'x-kiln-graph': idOf(text) });
        expect(r.status).toBe(200);
        expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual(WANT[name]);
      }
    }
    const c = await counts();
    expect(c.reduce((n, x) => n + x.compiled, 0)).toBe(Object.keys(PROGRAMS).length);
    expect(c.reduce((n, x) => n + x.loaded, 0)).toBe(0);
    // Each program lives on exactly one server, and the six are spread over more than one.
    const lists = await Promise.all(servers.map(async (s) => ((await call(s.url, 'GET', '/executables')).body as { id: string }[]).map((e) => e.id)));
    for (const text of Object.values(PROGRAMS)) expect(lists.filter((l) => l.includes(idOf(text)))).toHaveLength(1);
    expect(lists.filter((l) => l.length > 0).length).toBeGreaterThan(1);
  });

  it('serves the TS client in its session through nginx, compiling nothing again', async () => {
    const before = await counts();
    const dev = connect(url);
    try {
      for (const [name, text] of Object.entries(PROGRAMS)) {
        const exe = dev.compile(parseModule(text, `${name}.mlir`));
        const [out] = dev.execute(exe, [dev.upload(hostTensor('f32', [4], A)), dev.upload(hostTensor('f32', [4], B))]);
        expect(Array.from(narrowData(await dev.read(out)))).toEqual(WANT[name]);
      }
    } finally {
      dev.destroy();
    }
    const after = await counts();
    expect(after.reduce((n, x) => n + x.compiled, 0)).toBe(before.reduce((n, x) => n + x.compiled, 0));
  });

  it('serves the Python client in its session through nginx: run, upload, download, its own buffers', async () => {
    const script = `
import sys
import numpy as np
from kiln_client import Client
url, ir = sys.argv[1], sys.argv[2]
with Client(url) as c:
    out = c.run(ir, [np.array([1, 2, 3, 4], np.float32), np.array([10, 20, 30, 40], np.float32)])[0]
    assert out.tolist() == [11, 22, 33, 44], out
    b = c.upload(np.arange(6, dtype=np.float32).reshape(2, 3))
    for _ in range(5):
        assert c.download(b).tolist() == [[0, 1, 2], [3, 4, 5]]
    with Client(url) as other:
        try:
            other.download(b)
            raise SystemExit("another session read this session's buffer")
        except Exception as e:
            assert "404" in str(getattr(e, "status", "")) or "not" in str(e).lower(), e
print("ok")
`;
    const before = await counts();
    const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, url, PROGRAMS.add], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
    expect(stdout.trim()).toBe('ok');
    const after = await counts();
    expect(after.reduce((n, x) => n + x.compiled, 0)).toBe(before.reduce((n, x) => n + x.compiled, 0));
  });
});

if (!NGINX) it.skip(`nginx: ${why}`, () => {});
