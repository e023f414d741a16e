/**
 * @file Bad input of every kind gets the right 4xx with a message that says what to fix, and the
 * server stays up: /health answers after the whole suite.
 */
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { call, startServer, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const ENDLESS = `func.func @main(%x: tensor<i32>) -> tensor<i32> {
  %0 = stablehlo.while(%i = %x) : tensor<i32>
  cond {
    %t = stablehlo.constant dense<true> : tensor<i1>
    stablehlo.return %t : tensor<i1>
  } do {
    %c = stablehlo.constant dense<1> : tensor<i32>
    %n = stablehlo.add %i, %c : tensor<i32>
    stablehlo.return %n : tensor<i32>
  }
  return %0 : tensor<i32>
}`;
const MANY_OPS = `func.func @main(%a: tensor<f32>) -> tensor<f32> {
${Array.from({ length: 40 }, (_, i) => `  %${i} = stablehlo.negate ${i ? `%${i - 1}` : '%a'} : tensor<f32>`).join('\n')}
  return %39 : tensor<f32>
}`;

let server: TestServer;
let addId: string;
const f4 = (v = [1, 2, 3, 4]) => wire(hostTensor('f32', [4], v));

beforeAll(async () => {
  server = await startServer({
    device: referenceDevice(),
    limits: { bodyBytes: 1 << 20, irBytes: 1 << 20, tensorBytes: 64 << 10, residentBytes: 100 << 10, opsPerModule: 32, executionMs: 300 },
  });
  addId = (await call(server.url, 'POST', '/compile', ADD)).body.id;
});
afterAll(async () => {
  await server?.close();
});

interface Case {
  name: string;
  send: () => ReturnType<typeof call>;
  status: number;
  code: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'IR syntax error', send: () => call(server.url, 'POST', '/compile', 'func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = = stablehlo.add %a, %a : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}'), status: 400, code: 'KILN_ERR_PARSE', message: /2:\d+/ },
  { name: 'unknown op', send: () => call(server.url, 'POST', '/compile', ADD.replace('stablehlo.add', 'stablehlo.frobnicate')), status: 422, code: 'KILN_ERR_UNSUPPORTED', message: /stablehlo\.frobnicate/ },
  { name: 'operand used at another type', send: () => call(server.url, 'POST', '/compile', ADD.replace('%b: tensor<4xf32>', '%b: tensor<5xf32>')), status: 400, code: 'KILN_ERR_PARSE', message: /tensor<5xf32>/ },
  { name: 'shape mismatch', send: () => call(server.url, 'POST', '/compile', 'func.func @main(%a: tensor<4xf32>) -> tensor<4x3xf32> {\n  %0 = stablehlo.broadcast_in_dim %a, dims = [1] : (tensor<4xf32>) -> tensor<4x3xf32>\n  return %0 : tensor<4x3xf32>\n}'), status: 400, code: 'KILN_ERR_VERIFY', message: /broadcast_in_dim/ },
  { name: 'undefined value', send: () => call(server.url, 'POST', '/compile', ADD.replace('%a, %b', '%a, %nope')), status: 400, code: 'KILN_ERR_PARSE', message: /nope/ },
  { name: 'unclosed function', send: () => call(server.url, 'POST', '/compile', ADD.slice(0, -2)), status: 400, code: 'KILN_ERR_PARSE' },
  { name: 'empty IR', send: () => call(server.url, 'POST', '/compile', ' '), status: 400, code: 'KILN_ERR_PARSE' },
  { name: 'f64 tensors', send: () => call(server.url, 'POST', '/compile', ADD.replaceAll('f32', 'f64')), status: 422, code: 'KILN_ERR_UNSUPPORTED', message: /f64/ },
  { name: 'a value larger than the server holds', send: () => call(server.url, 'POST', '/compile', 'func.func @main(%a: tensor<f32>) -> tensor<10000x10000xf32> {\n  %0 = stablehlo.broadcast_in_dim %a, dims = [] : (tensor<f32>) -> tensor<10000x10000xf32>\n  return %0 : tensor<10000x10000xf32>\n}'), status: 413, code: 'KILN_ERR_TOO_LARGE', message: /request\.mlir:2:8: stablehlo\.broadcast_in_dim makes a tensor<10000x10000xf32>/ },
  { name: 'too many ops', send: () => call(server.url, 'POST', '/compile', MANY_OPS), status: 413, code: 'KILN_ERR_TOO_LARGE', message: /limit is 32/ },
  { name: 'compile with a msgpack body', send: () => call(server.url, 'POST', '/compile', { ir: ADD }), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
  { name: 'malformed msgpack', send: () => call(server.url, 'POST', '/execute', new Uint8Array([0xc1, 0xff, 0x00])), status: 400, code: 'KILN_ERR_BAD_REQUEST', message: /msgpack/ },
  { name: 'truncated msgpack', send: () => call(server.url, 'POST', '/execute', encode({ executable: addId, inputs: [f4(), f4()] }).slice(0, 40)), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
  { name: 'msgpack array instead of map', send: () => call(server.url, 'POST', '/execute', [1, 2, 3]), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
  { name: 'execute with JSON', send: () => call(server.url, 'POST', '/execute', JSON.stringify({ executable: addId, inputs: [] }), { 'content-type': 'application/json' }), status: 415, code: 'KILN_ERR_UNSUPPORTED_MEDIA' },
  { name: 'unknown executable', send: () => call(server.url, 'POST', '/execute', { executable: 'f'.repeat(64), inputs: [] }), status: 404, code: 'KILN_ERR_NOT_FOUND', message: /compile/ },
  { name: 'missing inputs', send: () => call(server.url, 'POST', '/execute', { executable: addId }), status: 400, code: 'KILN_ERR_BAD_REQUEST', message: /inputs/ },
  { name: 'wrong input count', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4()] }), status: 400, code: 'KILN_ERR_INPUT', message: /takes 2 inputs, got 1/ },
  { name: 'wrong dtype', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), wire(hostTensor('i32', [4], [1, 2, 3, 4]))] }), status: 400, code: 'KILN_ERR_INPUT', message: /inputs\[1\].*i32/ },
  { name: 'wrong shape', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), wire(hostTensor('f32', [2, 2], [1, 2, 3, 4]))] }), status: 400, code: 'KILN_ERR_INPUT', message: /2,2/ },
  { name: 'wrong byte length', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { dtype: 'f32', shape: [4], data: new Uint8Array(15) }] }), status: 400, code: 'KILN_ERR_INPUT', message: /16 bytes, got 15/ },
  { name: 'unknown dtype', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { dtype: 'f64', shape: [4], data: new Uint8Array(32) }] }), status: 400, code: 'KILN_ERR_INPUT', message: /f64/ },
  { name: 'negative dimension', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { dtype: 'f32', shape: [-4], data: new Uint8Array(16) }] }), status: 400, code: 'KILN_ERR_INPUT', message: /shape/ },
  { name: 'data as a string', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { dtype: 'f32', shape: [4], data: 'abcd' }] }), status: 400, code: 'KILN_ERR_INPUT', message: /binary/ },
  { name: 'input neither tensor nor buffer', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), 42] }), status: 400, code: 'KILN_ERR_INPUT' },
  { name: 'unknown buffer', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { buffer: 'ghost' }] }), status: 404, code: 'KILN_ERR_NOT_FOUND', message: /ghost/ },
  { name: 'buffer of the wrong type', send: async () => {
    await call(server.url, 'POST', '/buffers', { ...wire(hostTensor('i32', [2], [1, 2])), handle: 'ints' });
    return call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), { buffer: 'ints' }] });
  }, status: 400, code: 'KILN_ERR_INPUT', message: /tensor<2xi32>/ },
  { name: 'handle already in use', send: async () => {
    await call(server.url, 'POST', '/buffers', { ...f4(), handle: 'taken' });
    return call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), f4()], keep: [true], handles: ['taken'] });
  }, status: 409, code: 'KILN_ERR_CONFLICT' },
  { name: 'bad handle characters', send: () => call(server.url, 'POST', '/buffers', { ...f4(), handle: '../etc/passwd' }), status: 400, code: 'KILN_ERR_BAD_REQUEST', message: /handle/ },
  { name: 'keep not booleans', send: () => call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), f4()], keep: ['yes'] }), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
  { name: 'GET unknown buffer', send: () => call(server.url, 'GET', '/buffers/nothing-here'), status: 404, code: 'KILN_ERR_NOT_FOUND' },
  { name: 'DELETE unknown buffer', send: () => call(server.url, 'DELETE', '/buffers/nothing-here'), status: 404, code: 'KILN_ERR_NOT_FOUND' },
  { name: 'GET unknown executable', send: () => call(server.url, 'GET', '/executables/0123'), status: 404, code: 'KILN_ERR_NOT_FOUND' },
  { name: 'DELETE unknown executable', send: () => call(server.url, 'DELETE', '/executables/0123'), status: 404, code: 'KILN_ERR_NOT_FOUND' },
  { name: 'unknown route', send: () => call(server.url, 'GET', '/nope'), status: 404, code: 'KILN_ERR_NOT_FOUND' },
  { name: 'body over the limit', send: () => call(server.url, 'POST', '/compile', 'x'.repeat((1 << 20) + 10)), status: 413, code: 'KILN_ERR_TOO_LARGE' },
  { name: 'tensor over the limit', send: () => call(server.url, 'POST', '/buffers', wire(hostTensor('f32', [20000]))), status: 413, code: 'KILN_ERR_TOO_LARGE' },
  { name: 'resident bytes over the limit', send: async () => {
    for (let i = 0; i < 3; i++) await call(server.url, 'POST', '/buffers', { ...wire(hostTensor('f32', [8000])), id: `big${i}` });
    return call(server.url, 'POST', '/buffers', { ...wire(hostTensor('f32', [8000])), handle: 'big3' });
  }, status: 507, code: 'KILN_ERR_RESOURCE', message: /resident/ },
  { name: 'endless while loop', send: () => call(server.url, 'POST', '/run', { ir: ENDLESS, inputs: [wire(hostTensor('i32', [], [0]))] }), status: 408, code: 'KILN_ERR_TIMEOUT' },
  { name: 'run with bad IR', send: () => call(server.url, 'POST', '/run', { ir: 'module {', inputs: [] }), status: 400, code: 'KILN_ERR_PARSE' },
  { name: 'batch calls not an array', send: () => call(server.url, 'POST', '/batch', { calls: 'all of them' }), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
  { name: 'batch call without a program', send: () => call(server.url, 'POST', '/batch', { calls: [{ inputs: [] }] }), status: 400, code: 'KILN_ERR_BAD_REQUEST', message: /calls\[0\]/ },
  { name: 'batch names the failing call', send: () => call(server.url, 'POST', '/batch', { calls: [{ executable: addId, inputs: [f4(), f4()] }, { executable: addId, inputs: [f4()] }] }), status: 400, code: 'KILN_ERR_INPUT', message: /calls\[1\]/ },
  { name: 'empty msgpack body', send: () => call(server.url, 'POST', '/execute', new Uint8Array(0)), status: 400, code: 'KILN_ERR_BAD_REQUEST' },
];

describe('bad input', () => {
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  for (const c of cases) {
    it(c.name, async () => {
      const r = await c.send();
      expect(r.body?.error?.code, JSON.stringify(r.body)).toBe(c.code);
      expect(r.status).toBe(c.status);
      expect(typeof r.body.error.message).toBe('string');
      if (c.message) expect(r.body.error.message).toMatch(c.message);
    });
  }

  it('parse errors carry line and column', async () => {
    const r = await call(server.url, 'POST', '/compile', 'func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = stablehlo.add %a, %zz : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}');
    expect(r.body.error).toMatchObject({ code: 'KILN_ERR_PARSE', line: 2 });
    expect(r.body.error.column).toBeGreaterThan(0);
  });

  it('still answers /health and runs programs afterwards', async () => {
    expect((await call(server.url, 'GET', '/health')).body.status).toBe('ok');
    const r = await call(server.url, 'POST', '/execute', { executable: addId, inputs: [f4(), f4()] });
    expect(r.status).toBe(200);
  });
});

describe('token', () => {
  it('guards every route but /health, in constant time', async () => {
    const guarded = await startServer({ device: referenceDevice(), token: 's3cret' });
    try {
      expect((await call(guarded.url, 'GET', '/health')).status).toBe(200);
      const denied = await call(guarded.url, 'POST', '/compile', ADD);
      expect(denied.status).toBe(401);
      expect(denied.body.error.code).toBe('KILN_ERR_UNAUTHORIZED');
      expect((await call(guarded.url, 'GET', '/metrics', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await call(guarded.url, 'POST', '/compile', ADD, { authorization: 'Bearer s3cret' })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
