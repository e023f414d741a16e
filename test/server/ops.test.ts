/**
 * @file Single ops on sent tensors (issue 14, item 3): `POST /ops/:name` traces one function of the
 * client's numpy / nn / lax namespaces on the server, once per name + signature, and compiles it
 * through the executable cache; `GET /ops` lists the functions with their parameters; unknown names
 * are 404s and bad keyword arguments 400s naming them; `connect(url).exec(...)` in TS. Expected
 * values are computed here in float64 plain JS, never by kiln.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/index.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ device: referenceDevice() });
});
afterAll(async () => {
  await server?.close();
});

const A = [1, 2, 3, 4, 5, 6]; // [2, 3]
const B = [0.5, -1, 2, 0.25, -3, 1.5]; // [3, 2]
/** Row-major [m, k] x [k, n] in float64. */
const matmul = (a: number[], b: number[], m: number, k: number, n: number) =>
  Array.from({ length: m * n }, (_, i) => a.slice(Math.floor(i / n) * k, Math.floor(i / n) * k + k).reduce((s, v, j) => s + v * b[j * n + (i % n)], 0));
const close = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
};
const t = (shape: number[], v: number[]) => wire(hostTensor('f32', shape, v));
/** A reply's f32 tensor: its shape and values. */
const f32 = (o: unknown) => { const x = unwire(o); return { shape: x.shape, data: x.data as Float32Array }; };

describe('GET /ops', () => {
  it('lists the numpy, nn and lax functions with their parameters', async () => {
    const r = await call(server.url, 'GET', '/ops');
    expect(r.status).toBe(200);
    const byName = new Map((r.body as { name: string }[]).map((o) => [o.name, o]));
    expect(byName.get('np.matmul')).toMatchObject({ namespace: 'numpy', arity: 2, params: [{ name: 'a', required: true, array: true }, { name: 'b', required: true, array: true }] });
    expect(byName.get('np.sum')).toMatchObject({ namespace: 'numpy', params: expect.arrayContaining([{ name: 'keepdims', accepts: expect.any(String), required: false, keywordOnly: false, array: false, default: false }]) });
    expect(byName.get('nn.relu')).toMatchObject({ namespace: 'nn', arity: 1 });
    expect(byName.get('lax.dotGeneral')).toMatchObject({ namespace: 'lax' });
    expect([...byName.keys()].some((k) => k.startsWith('np.linalg.'))).toBe(true);
    // Functions that take functions (lax.scan) bind no JSON: they are not offered.
    expect(byName.has('lax.scan')).toBe(false);
    const s = await call(server.url, 'GET', '/ops/stablehlo');
    expect(s.body).toContain('stablehlo.dot_general');
    expect(s.body).toContain('chlo.erf');
  });
});

describe('POST /ops/:name', () => {
  it('runs matmul on sent tensors, tracing and compiling once per signature', async () => {
    const { ops, cache } = server.app.kiln;
    const r = await call(server.url, 'POST', '/ops/matmul', { inputs: [t([2, 3], A), t([3, 2], B)] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ op: 'np.matmul', single: true });
    const y = f32(r.body.outputs[0]);
    expect(y.shape).toEqual([2, 2]);
    close(y.data, matmul(A, B, 2, 3, 2));
    const [traces, compiles] = [ops.traces, cache.compiles];
    // Same name and signature (the qualified name too): neither traced nor compiled again.
    const again = await call(server.url, 'POST', '/ops/np.matmul', { inputs: [t([2, 3], B), t([3, 2], A)] });
    close(f32(again.body.outputs[0]).data, matmul(B, A, 2, 3, 2));
    expect([ops.traces, cache.compiles]).toEqual([traces, compiles]);
    expect(again.body.executable).toBe(r.body.executable);
    // Another shape is another signature.
    const other = await call(server.url, 'POST', '/ops/matmul', { inputs: [t([1, 3], [1, 1, 1]), t([3, 2], B)] });
    close(f32(other.body.outputs[0]).data, matmul([1, 1, 1], B, 1, 3, 2));
    expect(ops.traces).toBe(traces + 1);
  });

  it('takes keyword arguments (camelCase or snake_case), each set its own signature', async () => {
    const r = await call(server.url, 'POST', '/ops/np.sum', { inputs: [t([2, 3], A)], kwargs: { axis: 1, keepdims: true } });
    expect(r.status).toBe(200);
    const y = f32(r.body.outputs[0]);
    expect(y.shape).toEqual([2, 1]);
    close(y.data, [6, 15]);
    const r0 = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: { axis: 0 } });
    close(f32(r0.body.outputs[0]).data, [5, 7, 9]);
    // nn.softmax along axis 0; Python's snake_case names reach camelCase parameters.
    const sm = await call(server.url, 'POST', '/ops/nn.softmax', { inputs: [t([2, 3], A)], kwargs: { axis: 0 } });
    const e = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
    close(f32(sm.body.outputs[0]).data, [e(1, 4), e(2, 5), e(3, 6), e(4, 1), e(5, 2), e(6, 3)]);
    const sp = await call(server.url, 'POST', '/ops/split', { inputs: [t([2, 3], A)], kwargs: { indices_or_sections: 2 } });
    expect(sp.status).toBe(200);
    expect(sp.body.single).toBe(false);
    expect(sp.body.outputs.map((o: unknown) => Array.from(f32(o).data))).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('takes resident buffers as inputs', async () => {
    const up = await call(server.url, 'POST', '/buffers', t([3, 2], B));
    expect(up.status).toBe(200);
    const r = await call(server.url, 'POST', '/ops/matmul', { inputs: [t([2, 3], A), { buffer: up.body.buffer }] });
    close(f32(r.body.outputs[0]).data, matmul(A, B, 2, 3, 2));
    await call(server.url, 'DELETE', `/buffers/${up.body.buffer}`);
  });

  it('refuses unknown names (404) and bad keyword arguments (400), naming them', async () => {
    const nf = await call(server.url, 'POST', '/ops/np.nosuchop', { inputs: [t([2], [1, 2])] });
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('KILN_ERR_NOT_FOUND');
    expect(nf.body.error.message).toContain('no op "np.nosuchop"');
    const scan = await call(server.url, 'POST', '/ops/lax.scan', { inputs: [] });
    expect(scan.status).toBe(404);

    const unknown = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: { axes: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('KILN_ERR_BAD_REQUEST');
    expect(unknown.body.error.message).toMatch(/np\.sum: unknown keyword argument 'axes'; its parameters are .*axis/);
    const badType = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: { keepdims: 'yes' } });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toMatch(/np\.sum.*keepdims must be/);
    const badAxis = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: { axis: 5 } });
    expect(badAxis.status).toBe(400);
    expect(badAxis.body.error.message).toMatch(/np\.sum/);
    const many = await call(server.url, 'POST', '/ops/nn.relu', { inputs: [t([2], [1, 2]), t([2], [1, 2])] });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toContain('nn.relu takes at most 1 positional argument (x), got 2 tensors');
    const twice = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: { a: 1 } });
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toContain("'a' is given both as tensor 0 and as a keyword argument");
    const notMap = await call(server.url, 'POST', '/ops/sum', { inputs: [t([2, 3], A)], kwargs: [1] });
    expect(notMap.status).toBe(400);
    expect(notMap.body.error.message).toContain("'kwargs' must be a map");
  });
});

describe('exec through connect()', () => {
  it('runs numpy, nn and lax functions on host tensors and remote arrays', async () => {
    const d = connect(server.url);
    try {
      const y = (await d.exec('matmul', hostTensor('f32', [2, 3], A), hostTensor('f32', [3, 2], B))) as HostTensor;
      close(y.data as Float32Array, matmul(A, B, 2, 3, 2));
      const b = d.upload(hostTensor('f32', [3, 2], B));
      const s = (await d.exec('np.sum', hostTensor('f32', [2, 3], A), { axis: 1 })) as HostTensor;
      close(s.data as Float32Array, [6, 15]);
      const r = (await d.exec('nn.relu', b)) as HostTensor;
      close(r.data as Float32Array, B.map((v) => Math.max(0, v)));
      const parts = (await d.exec('split', hostTensor('f32', [2, 3], A), { indicesOrSections: 2 })) as HostTensor[];
      expect(parts.map((p) => Array.from(p.data as Float32Array))).toEqual([[1, 2, 3], [4, 5, 6]]);
      await expect(d.exec('np.nosuchop', hostTensor('f32', [1], [1]))).rejects.toThrow(/no op "np.nosuchop"/);
      expect((await d.ops()).some((o) => o.name === 'lax.add')).toBe(true);
    } finally {
      await d.close();
    }
  });
});
