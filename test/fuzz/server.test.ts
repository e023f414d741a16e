/**
 * @file Server fuzzing: a real server on loopback gets random bytes as msgpack, random msgpack
 * values (wrong types in every field, huge, negative and NaN shapes, deep nesting, long strings,
 * extension types, maps with non-string keys), random text as IR, and random paths and methods.
 * Every reply to bad input is a 4xx (or 408 for a deadline, 507 for the resident limit) with
 * `{error: {code, message}}` whose code is in the server's table at that status; afterwards the
 * server still answers /health and runs a known program correctly.
 */
import { decode, encode, ExtData } from '@msgpack/msgpack';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';
import { hostTensor } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { call, startServer, unwire, wire, type TestServer } from '../server/harness.js';
import { corpusNames, loadCase } from '../helpers/corpus.js';
import { mutateAll, mutationArb } from './mutate.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const BODY_LIMIT = 1 << 20;

let server: TestServer;
let addId: string;

beforeAll(async () => {
  server = await startServer({
    device: referenceDevice(),
    limits: { bodyBytes: BODY_LIMIT, tensorBytes: 64 << 10, residentBytes: 256 << 10, opsPerModule: 2000, executionMs: 300 },
  });
  addId = (await call(server.url, 'POST', '/compile', ADD)).body.id;
});
afterAll(async () => {
  await server?.close();
});

interface Raw { status: number; body: unknown; text: string }

/** Sends raw bytes or text and decodes whatever comes back (JSON or msgpack). */
async function send(method: string, path: string, body?: Uint8Array | string, contentType?: string): Promise<Raw> {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const res = await fetch(server.url + path, { method, body: method === 'GET' || method === 'HEAD' ? undefined : body, headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  const text = new TextDecoder().decode(bytes);
  let parsed: unknown = text;
  if (type.includes('msgpack')) parsed = decode(bytes);
  else if (type.includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, text };
}

/** The contract for a reply to input that may be bad: success, or an error from the table at its status. */
function expectWellFormed(r: Raw, what: string): void {
  const why = `${what} -> ${r.status} ${r.text.slice(0, 400)}`;
  if (r.status < 400) return;
  const err = (r.body as { error?: { code?: string; message?: unknown } })?.error;
  expect(err, why).toBeDefined();
  const code = err!.code as keyof typeof ERROR_CODES;
  expect(Object.keys(ERROR_CODES), why).toContain(code);
  expect(ERROR_CODES[code].status, why).toBe(r.status);
  expect(typeof err!.message, why).toBe('string');
  expect((err!.message as string).length, why).toBeGreaterThan(0);
  // Bad input is the client's fault: never a 5xx, except the resident-bytes limit (507).
  if (r.status >= 500) expect(code, why).toBe('KILN_ERR_RESOURCE');
  expect(r.text, why).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

const MSGPACK_ROUTES = ['/execute', '/run', '/batch', '/buffers'];
const describeBody = (b: unknown) => {
  try {
    return JSON.stringify(b, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v)).slice(0, 300);
  } catch {
    return String(b).slice(0, 300);
  }
};

// ---- arbitraries -------------------------------------------------------------------------------

const weirdNumber = fc.oneof(
  fc.constantFrom(-1, 0, 1, 4, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e300, -0, 0.5, NaN, Infinity, -Infinity, 99999999999),
  fc.integer(), fc.double(),
);
const shapeArb = fc.oneof(
  fc.array(weirdNumber, { maxLength: 6 }),
  fc.array(fc.nat({ max: 8 }), { maxLength: 4 }),
  fc.constant(Array.from({ length: 40 }, () => 1)),
  fc.anything({ maxDepth: 2 }),
);
const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(new Uint8Array(16)),
  fc.string({ maxLength: 20 }),
  fc.array(fc.double(), { maxLength: 4 }),
  fc.constant(new ExtData(7, new Uint8Array([1, 2, 3]))),
  fc.anything({ maxDepth: 2 }),
);
const dtypeArb = fc.oneof(fc.constantFrom('f32', 'f16', 'i32', 'ui32', 'i1', 'f64', 'i64', 'bf16', '', 'F32'), fc.anything({ maxDepth: 1 }));
const tensorArb = fc.record(
  { dtype: dtypeArb, shape: shapeArb, data: dataArb, handle: fc.oneof(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 })) },
  { requiredKeys: [] },
);
const inputArb = fc.oneof(
  fc.constant(wire(hostTensor('f32', [4], [1, 2, 3, 4]))),
  tensorArb,
  fc.record({ buffer: fc.oneof(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 })) }),
  fc.anything({ maxDepth: 2 }),
);
const irArb = fc.oneof(
  fc.constant(ADD),
  fc.string({ maxLength: 200 }),
  fc.array(mutationArb, { minLength: 1, maxLength: 2 }).map((ms) => mutateAll(ADD, ms)),
  fc.anything({ maxDepth: 1 }),
);
const callArb = fc.record(
  {
    executable: fc.oneof(fc.constant('ADD'), fc.string({ maxLength: 70 }), fc.anything({ maxDepth: 1 })),
    ir: irArb,
    inputs: fc.oneof(fc.array(inputArb, { maxLength: 3 }), fc.anything({ maxDepth: 2 })),
    keep: fc.oneof(fc.array(fc.boolean(), { maxLength: 2 }), fc.anything({ maxDepth: 1 })),
    handles: fc.oneof(fc.array(fc.option(fc.string({ maxLength: 8 })), { maxLength: 2 }), fc.anything({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);
const batchArb = fc.record(
  {
    calls: fc.oneof(fc.array(callArb, { maxLength: 3 }), fc.anything({ maxDepth: 2 })),
    uploads: fc.oneof(fc.array(tensorArb, { maxLength: 2 }), fc.anything({ maxDepth: 1 })),
    fetch: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }), fc.anything({ maxDepth: 1 })),
    free: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }), fc.anything({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);
const bodyArb = fc.oneof(callArb, batchArb, tensorArb, fc.anything({ maxDepth: 3, withBigInt: true, withMap: true, withNullPrototype: true }));

/** The placeholder 'ADD' stands for the id of the compiled program, so calls can get far. */
function withIds(v: unknown): unknown {
  if (v === 'ADD') return addId;
  if (Array.isArray(v)) return v.map(withIds);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withIds(x)]));
  }
  return v;
}

function encodeAny(v: unknown): Uint8Array {
  return encode(v, { useBigInt64: true, ignoreUndefined: false });
}

async function stillServing(): Promise<void> {
  const h = await call(server.url, 'GET', '/health');
  expect(h.status).toBe(200);
  expect(h.body.status).toBe('ok');
  const r = await call(server.url, 'POST', '/execute', { executable: addId, inputs: [wire(hostTensor('f32', [4], [1, 2, 3, 4])), wire(hostTensor('f32', [4], [10, 20, 30, 40]))] });
  expect(r.status).toBe(200);
  expect([...unwire(r.body.outputs[0]).data]).toEqual([11, 22, 33, 44]);
}

// ---- properties --------------------------------------------------------------------------------

describe('server fuzz', () => {
  it('random bytes as msgpack get a 4xx from the table', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...MSGPACK_ROUTES), fc.uint8Array({ maxLength: 300 }), async (route, bytes) => {
        expectWellFormed(await send('POST', route, bytes, 'application/msgpack'), `${route} ${bytes.length} random bytes`);
      }),
      { seed: 11, numRuns: 400 },
    );
    await stillServing();
  });

  it('random msgpack values in every field get a well-formed reply', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...MSGPACK_ROUTES), bodyArb, async (route, body) => {
        const b = withIds(body);
        const r = await send('POST', route, encodeAny(b), 'application/msgpack');
        expectWellFormed(r, `${route} ${describeBody(b)}`);
        const code = r.status < 400 ? String(r.status) : (r.body as { error: { code: string } }).error.code;
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }),
      { seed: 12, numRuns: 1500 },
    );
    // The bodies must get past the schemas into the routes, or the property tests only the schemas.
    for (const code of ['200', 'KILN_ERR_BAD_REQUEST', 'KILN_ERR_INPUT', 'KILN_ERR_NOT_FOUND']) {
      expect(seen.get(code) ?? 0, `${code} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
    await stillServing();
  });

  it('random and mutated IR text to /compile and /run gets a well-formed reply', async () => {
    const corpus = corpusNames().map((n) => loadCase(n).text);
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 100, unit: 'binary' }),
      fc.tuple(fc.nat(corpus.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([i, ms]) => mutateAll(corpus[i], ms)),
    );
    await fc.assert(
      fc.asyncProperty(text, fc.boolean(), async (ir, viaRun) => {
        const r = viaRun
          ? await send('POST', '/run', encodeAny({ ir, inputs: [] }), 'application/msgpack')
          : await send('POST', '/compile', ir, 'text/plain');
        expectWellFormed(r, `${viaRun ? '/run' : '/compile'} ${JSON.stringify(ir.slice(0, 200))}`);
      }),
      { seed: 13, numRuns: 500 },
    );
    await stillServing();
  });

  it('random paths, methods and content types get a well-formed reply', async () => {
    const segment = fc.oneof(
      fc.constantFrom('health', 'compile', 'execute', 'run', 'batch', 'buffers', 'executables', 'metrics', 'ops', 'assets', '..', '.', '', '%00', '%zz', '%2e%2e', 'a'.repeat(300)),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
    const type = fc.constantFrom('application/msgpack', 'application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data', 'application/x-msgpack; charset=utf-8', '');
    await fc.assert(
      fc.asyncProperty(method, path, type, fc.uint8Array({ maxLength: 64 }), async (m, p, t, bytes) => {
        const r = await send(m, p, bytes, t || undefined);
        if (m !== 'HEAD') expectWellFormed(r, `${m} ${p} (${t})`);
        else expect(r.status, `HEAD ${p}`).toBeLessThan(500);
      }),
      { seed: 14, numRuns: 600 },
    );
    await stillServing();
  });
});

// ---- hostile shapes of msgpack -----------------------------------------------------------------

/** `depth` nested one-element msgpack arrays around `inner` (built as bytes: no recursion here). */
function nestedArrays(depth: number, inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(depth + inner.length);
  out.fill(0x91, 0, depth);
  out.set(inner, depth);
  return out;
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
/** A msgpack map header with `n` entries (n < 16). */
const fixmap = (n: number) => new Uint8Array([0x80 | n]);
const str = (s: string) => encode(s);

describe('hostile msgpack', () => {
  const cases: { name: string; route: string; body: () => Uint8Array; code?: string }[] = [
    { name: 'a body nested 100,000 arrays deep', route: '/execute', body: () => nestedArrays(100_000, encode(1)), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'inputs nested 100,000 arrays deep', route: '/execute', body: () => concat(fixmap(2), str('executable'), str('ADD'), str('inputs'), nestedArrays(100_000, encode(1))) },
    { name: 'a dtype nested 100,000 arrays deep', route: '/buffers', body: () => concat(fixmap(3), str('dtype'), nestedArrays(100_000, encode('f32')), str('shape'), encode([4]), str('data'), encode(new Uint8Array(16))) },
    { name: 'an input dtype nested 100,000 arrays deep', route: '/run', body: () => concat(fixmap(2), str('ir'), str(ADD), str('inputs'), new Uint8Array([0x92]), fixmap(3), str('dtype'), nestedArrays(100_000, encode('f32')), str('shape'), encode([4]), str('data'), encode(new Uint8Array(16)), encode(wire(hostTensor('f32', [4])))), code: 'KILN_ERR_INPUT' },
    { name: 'a shape nested 100,000 arrays deep', route: '/buffers', body: () => concat(fixmap(3), str('dtype'), str('f32'), str('shape'), nestedArrays(100_000, encode(4)), str('data'), encode(new Uint8Array(16))), code: 'KILN_ERR_TOO_LARGE' },
    { name: 'a shape nested 100,000 arrays deep in an upload', route: '/batch', body: () => concat(fixmap(2), str('calls'), encode([]), str('uploads'), new Uint8Array([0x91]), fixmap(3), str('dtype'), str('f32'), str('shape'), nestedArrays(100_000, encode(4)), str('data'), encode(new Uint8Array(16))), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'a map nested 100,000 deep', route: '/batch', body: () => { const b = new Uint8Array(100_000 * 3 + 1); for (let i = 0; i < 100_000; i++) b.set([0x81, 0xa1, 0x61], i * 3); b[b.length - 1] = 0xc0; return b; } },
    { name: 'a map with integer keys', route: '/execute', body: () => new Uint8Array([0x82, 0x01, 0x02, 0x03, 0x04]), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'a map with an array key', route: '/execute', body: () => new Uint8Array([0x81, 0x91, 0x01, 0x02]), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'a map with a map key', route: '/buffers', body: () => new Uint8Array([0x81, 0x81, 0xa1, 0x61, 0x01, 0x02]), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'an extension type as the body', route: '/execute', body: () => new Uint8Array([0xd4, 0x05, 0x00]), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'a timestamp extension where data goes', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [4], data: new Date(0) }), code: 'KILN_ERR_INPUT' },
    { name: 'an unknown extension where data goes', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [4], data: new ExtData(42, new Uint8Array(16)) }), code: 'KILN_ERR_INPUT' },
    { name: 'an extension as an input', route: '/execute', body: () => encode({ executable: 'ADD', inputs: [new ExtData(1, new Uint8Array(3)), new ExtData(-1, new Uint8Array(4))] }), code: 'KILN_ERR_INPUT' },
    // /buffers takes one tensor's bytes and 4 KiB more (64 KiB here): larger bodies are refused unread.
    { name: 'a 900 KB dtype string', route: '/buffers', body: () => encode({ dtype: 'f'.repeat(900_000), shape: [4], data: new Uint8Array(16) }), code: 'KILN_ERR_TOO_LARGE' },
    { name: 'a 900 KB dtype string in an upload', route: '/batch', body: () => encode({ calls: [], uploads: [{ dtype: 'f'.repeat(900_000), shape: [4], data: new Uint8Array(16) }] }), code: 'KILN_ERR_INPUT' },
    { name: 'a 900 KB executable id', route: '/execute', body: () => encode({ executable: 'a'.repeat(900_000), inputs: [] }), code: 'KILN_ERR_NOT_FOUND' },
    { name: 'a 900 KB buffer handle', route: '/execute', body: () => encode({ executable: 'ADD', inputs: [{ buffer: 'b'.repeat(900_000) }, { buffer: 'c' }] }), code: 'KILN_ERR_NOT_FOUND' },
    { name: 'a shape whose product overflows', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [2 ** 31, 2 ** 31, 2 ** 31], data: new Uint8Array(16) }), code: 'KILN_ERR_INPUT' },
    { name: 'a shape of 2^26 x 2^26 (safe, but too many elements)', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [2 ** 26, 2 ** 26], data: new Uint8Array(16) }), code: 'KILN_ERR_INPUT' },
    { name: 'a zero-size shape with a giant dimension', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [0, 2 ** 52], data: new Uint8Array(0) }), code: 'KILN_ERR_INPUT' },
    { name: 'a NaN dimension', route: '/buffers', body: () => encode({ dtype: 'f32', shape: [NaN], data: new Uint8Array(0) }), code: 'KILN_ERR_BAD_REQUEST' },
    { name: 'a negative dimension', route: '/execute', body: () => encode({ executable: 'ADD', inputs: [{ dtype: 'f32', shape: [-4], data: new Uint8Array(16) }, { dtype: 'f32', shape: [4], data: new Uint8Array(16) }] }), code: 'KILN_ERR_INPUT' },
    { name: 'a 64-bit integer dimension', route: '/execute', body: () => encode({ executable: 'ADD', inputs: [{ dtype: 'f32', shape: [2n ** 62n], data: new Uint8Array(16) }, 1] }, { useBigInt64: true }), code: 'KILN_ERR_INPUT' },
    { name: 'a huge IR line over /run', route: '/run', body: () => encode({ ir: `func.func @main() -> tensor<f32> { ${'%x = stablehlo.constant dense<1.0> : tensor<f32> '.repeat(15_000)}}`, inputs: [] }), code: 'KILN_ERR_PARSE' },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const bytes = c.body();
      // 'ADD' in a hand-built body is 0xa3 'A' 'D' 'D'; swap in the compiled program's id.
      const body = withIdBytes(bytes);
      const r = await send('POST', c.route, body, 'application/msgpack');
      expectWellFormed(r, c.name);
      expect(r.status, r.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
      if (c.code) expect((r.body as { error: { code: string } }).error.code, r.text.slice(0, 300)).toBe(c.code);
      expect(r.text.length).toBeLessThan(4096);
    });
  }

  it('still serves afterwards', stillServing);
});

/** Replaces the msgpack string 'ADD' in hand-built bytes with the compiled program's id. */
function withIdBytes(bytes: Uint8Array): Uint8Array {
  const needle = [0xa3, 0x41, 0x44, 0x44];
  for (let i = 0; i + 4 <= bytes.length && i < 64; i++) {
    if (needle.every((b, k) => bytes[i + k] === b)) return concat(bytes.slice(0, i), encode(addId), withIdBytes(bytes.slice(i + 4)));
  }
  return bytes;
}
