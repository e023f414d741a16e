/**
 * @file The dashboard's routes through fastify's inject: the page and its assets (public, and
 * nothing outside the built folder), a clear page when it is not built, the state and examples
 * JSON (behind the token), and every built-in example running to its stated outputs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { Examples } from '../../server/dashboard/examples.js';
import { dashboardRoutes } from '../../server/routes/dashboard.js';
import { fromJson } from '../../runtime/tensor.js';
import { decodeTensor, encodeTensor } from '../../runtime/wire.js';
import { corpusNames, mismatch } from '../helpers/corpus.js';
import { referenceDevice } from '../helpers/devices.js';

const TOKEN = 'dash-token';
let assets: string;
let app: FastifyInstance;

beforeAll(async () => {
  // A stand-in for the built page: these tests are about serving it, not building it.
  assets = mkdtempSync(join(tmpdir(), 'kiln-dash-assets-'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>kiln</title><script type="module" src="/assets/main.js"></script>');
  writeFileSync(join(assets, 'main.js'), 'console.log("kiln")');
  writeFileSync(join(assets, 'style.css'), 'body{}');
  process.env.KILN_DASHBOARD_DIR = assets;
  app = await buildApp({ device: referenceDevice(), token: TOKEN });
});
afterAll(async () => {
  await app?.close();
  delete process.env.KILN_DASHBOARD_DIR;
  rmSync(assets, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('the page and its assets', () => {
  it('serves index.html at / and the assets with their content types, without a token', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/assets/main.js');
    const js = await app.inject({ method: 'GET', url: '/assets/main.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await app.inject({ method: 'GET', url: '/assets/style.css' })).headers['content-type']).toMatch(/^text\/css/);
  });

  it.each([
    '/assets/../package.json', '/assets/..%2Fpackage.json', '/assets/%2e%2e/package.json', '/assets/sub/main.js',
    '/assets/.hidden', '/assets/', '/assets/nope.js', '/assets/main.js%00.css',
  ])('refuses %s (no file outside the built page)', async (url) => {
    const res = await app.inject({ method: 'GET', url });
    // Dot segments resolve to /package.json, which is not public (401); the rest are not assets (404).
    expect(res.statusCode).toBe(url.includes('/../') || url.includes('%2e%2e/') ? 401 : 404);
    expect(res.body).not.toContain('"name": "kiln"');
  });

  it('answers / with a page that says how to build the dashboard when it is not built', async () => {
    const bare = Fastify();
    await bare.register(dashboardRoutes, { assetsDir: join(assets, 'missing') });
    const res = await bare.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('npm run build');
    expect((await bare.inject({ method: 'GET', url: '/assets/main.js' })).statusCode).toBe(404);
    await bare.close();
  });
});

describe('the JSON the page polls', () => {
  it.each(['/dashboard/state', '/dashboard/examples', '/dashboard/examples/scale_add'])('%s needs the token', async (url) => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('KILN_ERR_UNAUTHORIZED');
    expect((await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
  });

  it('reports device, limits, counters, per-second samples, buffers and recent errors', async () => {
    // Some traffic first: a run, a kept buffer and a failing compile.
    const ex = new Examples(undefined).get('scale_add')!;
    const inputs = ex.inputs.map((t) => encodeTensor(fromJson(t)));
    const run = await app.inject({ method: 'POST', url: '/run', headers: { ...auth, 'content-type': 'application/msgpack' }, payload: Buffer.from(encode({ ir: ex.ir, inputs, keep: [true] })) });
    expect(run.statusCode).toBe(200);
    const kept = (decode(run.rawPayload) as { outputs: { buffer: string }[] }).outputs[0].buffer;
    const bad = await app.inject({ method: 'POST', url: '/compile', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'func.func @main( {' });
    expect(bad.statusCode).toBe(400);

    const res = await app.inject({ method: 'GET', url: '/dashboard/state', headers: auth });
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s.device).toEqual(referenceDevice().info());
    expect(s.limits.residentBytes).toBeGreaterThan(0);
    expect(s.cache.executables).toBe(1);
    expect(s.executions.count).toBe(1);
    expect(s.buffers).toMatchObject({ count: 1, bytes: 24 });
    expect(s.buffers.listed).toEqual([expect.objectContaining({ buffer: kept, dtype: 'f32', shape: [2, 3], bytes: 24 })]);
    const requests = s.seconds.reduce((n: number, x: { requests: number }) => n + x.requests, 0);
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(s.seconds.at(-1).t).toBeLessThanOrEqual(Math.floor(s.now / 1000));
    expect(s.errors[0]).toMatchObject({ method: 'POST', url: '/compile', code: 'KILN_ERR_PARSE' });
    expect(s.errors[0].message).toMatch(/1:\d+/);
  });

  it('lists the built-in examples and the corpus, and serves each in the corpus format', async () => {
    const list = (await app.inject({ method: 'GET', url: '/dashboard/examples', headers: auth })).json() as { name: string; source: string }[];
    expect(list.filter((e) => e.source === 'built-in').map((e) => e.name)).toEqual(['scale_add', 'row_sum', 'matmul_relu']);
    expect(list.filter((e) => e.source !== 'built-in').map((e) => e.name)).toEqual(corpusNames());
    const softmax = (await app.inject({ method: 'GET', url: '/dashboard/examples/softmax', headers: auth })).json();
    expect(softmax.ir).toContain('stablehlo.exponential');
    expect(softmax.inputs[0]).toMatchObject({ dtype: 'f32', shape: [8, 16] });
    expect(softmax.outputs[0].data).toHaveLength(128);
    const missing = await app.inject({ method: 'GET', url: '/dashboard/examples/..%2Fsecret', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('KILN_ERR_NOT_FOUND');
  });

  it('reads an examples folder: pairs of NAME.mlir and NAME.json only, broken files left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-examples-'));
    try {
      writeFileSync(join(dir, 'ok.mlir'), 'func.func @main() {}');
      writeFileSync(join(dir, 'ok.json'), JSON.stringify({ note: 'n', inputs: [] }));
      writeFileSync(join(dir, 'lonely.mlir'), '');
      writeFileSync(join(dir, 'broken.mlir'), '');
      writeFileSync(join(dir, 'broken.json'), '{');
      writeFileSync(join(dir, 'row_sum.mlir'), '');
      writeFileSync(join(dir, 'row_sum.json'), '{"inputs": []}');
      const ex = new Examples(dir);
      expect(ex.list().filter((e) => e.source !== 'built-in').map((e) => e.name)).toEqual(['broken', 'ok']);
      expect(ex.get('ok')).toMatchObject({ note: 'n', inputs: [] });
      expect(ex.get('broken')).toBeUndefined();
      expect(ex.get('lonely')).toBeUndefined();
      expect(ex.get('row_sum')!.source).toBe('built-in'); // a file never shadows a built-in example
      expect(new Examples(join(dir, 'absent')).list().every((e) => e.source === 'built-in')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(new Examples(undefined).list().map((e) => e.name))('built-in example %s runs to its stated outputs', async (name) => {
    const ex = new Examples(undefined).get(name)!;
    const res = await app.inject({
      method: 'POST', url: '/run', headers: { ...auth, 'content-type': 'application/msgpack' },
      payload: Buffer.from(encode({ ir: ex.ir, inputs: ex.inputs.map((t) => encodeTensor(fromJson(t))) })),
    });
    expect(res.statusCode, res.body).toBe(200);
    const outs = (decode(res.rawPayload) as { outputs: unknown[] }).outputs.map((o) => decodeTensor(o, 'out'));
    expect(outs).toHaveLength(ex.outputs!.length);
    outs.forEach((o, i) => expect(mismatch(o, fromJson(ex.outputs![i]))).toBeUndefined());
  });
});
