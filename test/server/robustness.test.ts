/**
 * @file No request takes the server down (issue 15): bodies are bounded per route before they are
 * read, IR text is bounded in nesting and tokens before the lexer allocates, and without a token
 * the server refuses foreign Host names and other sites' pages (DNS rebinding, cross-site POSTs).
 * Every load loop here is bounded in count and time; every address is loopback.
 */
import { narrowData } from '../../runtime/tensor.js';
import { request } from 'node:http';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';
import { buildApp } from '../../server/app.js';
import { referenceDevice } from '../helpers/devices.js';
import { hostTensor } from '../../runtime/tensor.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ device: referenceDevice(), limits: { irBytes: 4 << 20, irTokens: 100_000, bodyBytes: 8 << 20 } });
});
afterAll(async () => {
  await server?.close();
});

/** Streams `total` bytes of `fill` as a POST body (chunked, so no Content-Length gives it away) and resolves with the reply. */
function streamPost(path: string, fill: string, total: number, contentType = 'text/plain'): Promise<{ status: number; body: string; ms: number }> {
  const start = performance.now();
  const chunk = Buffer.alloc(1 << 20, fill);
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - start }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
}

describe('bodies are bounded per route before parsing', () => {
  it('answers a 50 MB /compile body of `[` with 413 fast, while /health keeps answering', async () => {
    const big = streamPost('/compile', '[', 50 << 20).catch((e: Error) => ({ status: -1, body: e.message, ms: 0 }));
    const health = await call(server.url, 'GET', '/health');
    expect(health.status).toBe(200);
    const r = await big;
    // The server may close the connection once it has answered; either way it never read 50 MB into memory.
    if (r.status !== -1) {
      expect(r.status, r.body).toBe(413);
      expect(JSON.parse(r.body).error.code).toBe('KILN_ERR_TOO_LARGE');
    }
    expect(r.ms).toBeLessThan(5000);
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('refuses a declared 50 MB body from its Content-Length, without reading it', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/compile', headers: { 'content-type': 'text/plain', 'content-length': String(50 << 20) }, payload: '[' });
    expect(r.statusCode).toBe(413);
  });

  it('gives /compile a smaller limit than /run', async () => {
    const text = ' '.repeat((4 << 20) + 1);
    const c = await server.app.inject({ method: 'POST', url: '/compile', headers: { 'content-type': 'text/plain' }, payload: text });
    expect(c.statusCode).toBe(413);
    expect(c.json().error.code).toBe('KILN_ERR_TOO_LARGE');
    // The same text as a /run's `ir` fits the /run body but not the IR limit: still 413, before parsing.
    const r = await server.app.inject({ method: 'POST', url: '/run', headers: { 'content-type': 'application/msgpack' }, payload: Buffer.from(encode({ ir: text, inputs: [] })) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error.message).toMatch(/maxStrLength \(4194304\)/);
  });

  it('refuses 4 MB of `[` at its 257th character in well under a second', async () => {
    const payload = '['.repeat((4 << 20) - 1);
    const start = performance.now();
    const r = await server.app.inject({ method: 'POST', url: '/compile', headers: { 'content-type': 'text/plain' }, payload });
    // Lexing it would take seconds and a gigabyte; the check stops at character 257.
    expect(performance.now() - start).toBeLessThan(1500);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'KILN_ERR_PARSE', line: 1, column: 257 });
    expect(r.json().error.message).toMatch(/request\.mlir:1:257: brackets nest deeper than 256 levels/);
  });

  it('refuses `<` nested 344 deep where the limit is passed, not at 1:1', async () => {
    const text = `${ADD.split('\n')[0]}\n  %0 = stablehlo.add %a, %b {x = ${'#a<'.repeat(344)}} : tensor<4xf32>\n}`;
    const r = await call(server.url, 'POST', '/compile', text);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'KILN_ERR_PARSE', line: 2 });
    expect(r.body.error.column).toBeGreaterThan(700);
    expect(r.body.error.message).toMatch(/nest deeper than 256/);
  });

  it('refuses a module past the token limit with 413 at the token, before lexing it', async () => {
    const r = await call(server.url, 'POST', '/compile', `${ADD}\n${', '.repeat(200_000)}`);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('KILN_ERR_TOO_LARGE');
    expect(r.body.error.message).toMatch(/more than 100000 tokens, this server's limit/);
    expect(r.body.error.line).toBe(5);
  });

  it('parses a large module off the event loop: /health keeps answering meanwhile', async () => {
    const n = 8000;
    const chain = `func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n${Array.from({ length: n }, (_, i) => `  %${i} = stablehlo.negate ${i ? `%${i - 1}` : '%a'} : tensor<4xf32>`).join('\n')}\n  return %${n - 1} : tensor<4xf32>\n}`;
    const big = await startServer({ device: referenceDevice(), limits: { opsPerModule: 10_000 } });
    try {
      let done = false;
      const compile = call(big.url, 'POST', '/compile', chain).finally(() => { done = true; });
      const waits: number[] = [];
      while (!done) {
        const start = performance.now();
        expect((await call(big.url, 'GET', '/health')).status).toBe(200);
        waits.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await compile;
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // An even number of negations is the identity.
      const run = await call(big.url, 'POST', '/execute', { executable: r.body.id, inputs: [wire(hostTensor('f32', [4], [1, -2, 3, -4]))] });
      expect(Array.from(narrowData(unwire(run.body.outputs[0])))).toEqual([1, -2, 3, -4]);
      expect(waits.length).toBeGreaterThan(3);
    } finally {
      await big.close();
    }
  });

  it('still compiles an ordinary module', async () => {
    expect((await call(server.url, 'POST', '/compile', ADD)).status).toBe(200);
  });
});

describe('without a token: loopback Host names and same-origin pages only', () => {
  const forbidden = async (headers: Record<string, string>, method: 'GET' | 'POST' = 'POST', url = '/compile') => {
    const r = await server.app.inject({ method, url, headers: { 'content-type': 'text/plain', ...headers }, payload: method === 'POST' ? ADD : undefined });
    return r;
  };

  it('refuses a foreign Host (DNS rebinding) on every route, /health included', async () => {
    for (const [method, url] of [['POST', '/compile'], ['GET', '/health'], ['GET', '/buffers'], ['GET', '/']] as const) {
      const r = await forbidden({ host: 'attacker.example:5555' }, method, url);
      expect(r.statusCode, url).toBe(403);
      expect(r.json().error.code).toBe('KILN_ERR_FORBIDDEN');
      expect(r.json().error.message).toMatch(/attacker\.example.*not a loopback name/);
    }
    expect((await forbidden({ host: '127.0.0.1.attacker.example' })).statusCode).toBe(403);
  });

  it('accepts loopback names with and without ports', async () => {
    for (const host of ['localhost', 'localhost:5555', '127.0.0.1:80', '127.1.2.3', '[::1]:5555', 'LOCALHOST']) {
      expect((await forbidden({ host })).statusCode, host).toBe(200);
    }
  });

  it('refuses a cross-origin text/plain POST (CSRF) and a null Origin, accepts the same origin', async () => {
    const foreign = await forbidden({ host: '127.0.0.1:5555', origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.message).toMatch(/evil\.example/);
    expect((await forbidden({ host: '127.0.0.1:5555', origin: 'null' })).statusCode).toBe(403);
    // Another port on loopback is another origin.
    expect((await forbidden({ host: '127.0.0.1:5555', origin: 'http://127.0.0.1:8888' })).statusCode).toBe(403);
    expect((await forbidden({ host: '127.0.0.1:5555', 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect((await forbidden({ host: '127.0.0.1:5555', origin: 'http://127.0.0.1:5555' })).statusCode).toBe(200);
  });

  it('answers a real loopback client', async () => {
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('leaves Host and Origin to the token when there is one', async () => {
    const app = await buildApp({ device: referenceDevice(), token: 'a-token-of-16-chars+' });
    try {
      const r = await app.inject({ method: 'POST', url: '/compile', headers: { host: 'kiln.internal:5555', 'content-type': 'text/plain', authorization: 'Bearer a-token-of-16-chars+' }, payload: ADD });
      expect(r.statusCode).toBe(200);
      const x = await app.inject({ method: 'POST', url: '/compile', headers: { host: 'kiln.internal:5555', 'content-type': 'text/plain', 'x-kiln-token': 'a-token-of-16-chars+' }, payload: ADD });
      expect(x.statusCode).toBe(200);
      const none = await app.inject({ method: 'POST', url: '/compile', headers: { host: 'kiln.internal:5555', 'content-type': 'text/plain' }, payload: ADD });
      expect(none.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('ids and handles', () => {
  it('answers ids of any length with a 4xx from the table, counted in the error metrics', async () => {
    const app = await buildApp({ device: referenceDevice() });
    try {
      for (const n of [100, 101, 128, 129, 256, 257, 5000]) {
        for (const [method, url] of [['GET', '/buffers/'], ['DELETE', '/buffers/'], ['GET', '/executables/'], ['DELETE', '/executables/']] as const) {
          const r = await app.inject({ method, url: url + 'a'.repeat(n) });
          expect(r.statusCode, `${method} ${url} ${n}`).toBe(n <= 128 ? 404 : 400);
          expect(ERROR_CODES[r.json().error.code as keyof typeof ERROR_CODES].status).toBe(r.statusCode);
        }
      }
      const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(m).toMatch(/^kiln_errors_total 28$/m);
    } finally {
      await app.close();
    }
  });

  it('lets a handle of 101-128 characters be created, read and deleted; refuses 129', async () => {
    const app = await buildApp({ device: referenceDevice() });
    try {
      for (const n of [101, 128]) {
        const handle = 'h'.repeat(n);
        const up = await app.inject({ method: 'POST', url: '/buffers', headers: { 'content-type': 'application/msgpack' }, payload: Buffer.from(encode({ handle, dtype: 'f32', shape: [1], data: new Uint8Array(4) })) });
        expect(up.statusCode, up.body).toBe(200);
        expect((await app.inject({ method: 'GET', url: `/buffers/${handle}` })).statusCode).toBe(200);
        expect((await app.inject({ method: 'DELETE', url: `/buffers/${handle}` })).statusCode).toBe(200);
      }
      const long = await app.inject({ method: 'POST', url: '/buffers', headers: { 'content-type': 'application/msgpack' }, payload: Buffer.from(encode({ handle: 'h'.repeat(129), dtype: 'f32', shape: [1], data: new Uint8Array(4) })) });
      expect(long.statusCode).toBe(400);
      expect(long.json().error.message).toMatch(/1-128/);
    } finally {
      await app.close();
    }
  });
});

describe('msgpack bodies are bounded before they are decoded', () => {
  it('refuses an array that declares more items than any field takes, from its header', async () => {
    // An array header claiming 2^32-1 items, and one of 100,000 real items: neither is built.
    for (const payload of [Buffer.from([0x81, 0xa6, ...Buffer.from('inputs'), 0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.from(encode({ executable: 'x', inputs: new Array(100_000).fill(0) }))]) {
      const r = await server.app.inject({ method: 'POST', url: '/execute', headers: { 'content-type': 'application/msgpack' }, payload });
      expect(r.statusCode).toBe(413);
      expect(r.json().error).toMatchObject({ code: 'KILN_ERR_TOO_LARGE' });
      expect(r.json().error.message).toMatch(/array length \(\d+\) > maxArrayLength \(65536\)/);
    }
  });
});

describe('buffers are bounded in count and can expire', () => {
  const upload = (app: Awaited<ReturnType<typeof buildApp>>, handle: string) =>
    app.inject({ method: 'POST', url: '/buffers', headers: { 'content-type': 'application/msgpack' }, payload: Buffer.from(encode({ handle, dtype: 'f32', shape: [1], data: new Uint8Array(4) })) });

  it('refuses a buffer past the count limit with 507', async () => {
    const app = await buildApp({ device: referenceDevice(), limits: { buffers: 3 } });
    try {
      for (const h of ['a', 'b', 'c']) expect((await upload(app, h)).statusCode).toBe(200);
      const r = await upload(app, 'd');
      expect(r.statusCode).toBe(507);
      expect(r.json().error.message).toMatch(/limit of 3 buffers/);
      await app.inject({ method: 'DELETE', url: '/buffers/a' });
      expect((await upload(app, 'd')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('frees buffers unused for the idle limit, keeps the ones in use, and says why in the 404', async () => {
    const app = await buildApp({ device: referenceDevice(), limits: { requestMs: 1000, bufferIdleMs: 1000 } });
    try {
      await upload(app, 'used');
      await upload(app, 'idle');
      await new Promise((r) => setTimeout(r, 50));
      expect((await app.inject({ method: 'GET', url: '/buffers/used' })).statusCode).toBe(200);
      // 1,000 ms after 'used' was read: 'idle' (kept earlier) is past the limit, 'used' is not.
      const usedAt = app.kiln.buffers.get('used').usedAt;
      expect(app.kiln.buffers.expire(usedAt + 999)).toBe(1);
      expect(app.kiln.buffers.list().map((b) => b.id)).toEqual(['used']);
      const gone = await app.inject({ method: 'GET', url: '/buffers/idle' });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error.message).toMatch(/idle 1 s and expired/);
      // The sweep does it by itself.
      const end = Date.now() + 10_000;
      while (app.kiln.buffers.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(app.kiln.buffers.size).toBe(0);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^kiln_buffers_expired_total 2$/m);
    } finally {
      await app.close();
    }
  });

  it('refuses an idle limit shorter than the request deadline', async () => {
    await expect(buildApp({ device: referenceDevice(), limits: { requestMs: 60_000, bufferIdleMs: 1000 } })).rejects.toThrow(/shorter than the request deadline/);
  });
});
