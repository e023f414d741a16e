/**
 * @file The model registry (issue 14, item 2): POST /models with a module and safetensors weights
 * written by `save` (and resident buffers), bound by file order or by name; infer sends only the
 * remaining inputs; stats; models are the session's (404 elsewhere), count in its quotas, and their
 * weights go back to the device when deleted or when the session expires. Expected values are an
 * independent float64 forward pass in plain JS.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, lower, nn, np, save, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import { buildApp } from '../../server/app.js';
import type { Device, DeviceArray } from '../../runtime/device.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { startServer, unwire, wire } from './harness.js';

// A 3 -> 4 -> 2 MLP. Its parameters flatten in sorted key order (b1, b2, w1, w2), as JAX's do,
// and are saved in that order, so the file's tensors are the module's leading arguments.
const W1 = [0.5, -1, 0.25, 2, 1.5, 0.75, -0.5, 1, -2, 0.1, 0.3, -0.7];
const B1 = [0.1, -0.2, 0.3, 0.05];
const W2 = [1, -1, 0.5, 2, -0.25, 0.75, 1.25, -0.5];
const B2 = [0.01, -0.02];
const X = [1, 2, 3, -1, 0.5, 0.25];
type Params = { b1: KArray; b2: KArray; w1: KArray; w2: KArray };
const forward = (p: Params, x: KArray) => np.add(np.matmul(nn.relu(np.add(np.matmul(x, p.w1), p.b1)), p.w2), p.b2);

/** The forward pass in float64, row-major, written without kiln. */
function expected(x: number[], rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const h = [0, 1, 2, 3].map((j) => Math.max(0, B1[j] + [0, 1, 2].reduce((s, k) => s + x[r * 3 + k] * W1[k * 4 + j], 0)));
    for (let j = 0; j < 2; j++) out.push(B2[j] + h.reduce((s, v, k) => s + v * W2[k * 2 + j], 0));
  }
  return out;
}

let IR: string;
let WEIGHTS: Uint8Array;
beforeAll(async () => {
  setDefaultDevice('reference');
  const p: Params = {
    b1: np.array(B1), b2: np.array(B2), w1: np.array(W1, { shape: [3, 4] }), w2: np.array(W2, { shape: [4, 2] }),
  };
  IR = lower(forward)(p, np.zeros([2, 3])).text;
  const file = join(mkdtempSync(join(tmpdir(), 'kiln-models-')), 'mlp.safetensors');
  await save(file, p);
  WEIGHTS = new Uint8Array(readFileSync(file));
});
afterAll(() => setDefaultDevice('auto'));

/** A reference device that counts the arrays it holds. */
function countingDevice(): { device: Device; live: Set<DeviceArray> } {
  const base = referenceDevice();
  const live = new Set<DeviceArray>();
  const device = new Proxy(base, {
    get(target, key) {
      if (key === 'upload') return (t: Parameters<Device['upload']>[0]) => { const a = target.upload(t); live.add(a); return a; };
      if (key === 'execute') return (...args: Parameters<Device['execute']>) => { const outs = target.execute(...args); outs.forEach((o) => live.add(o)); return outs; };
      if (key === 'free') return (a: DeviceArray) => { live.delete(a); target.free(a); };
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { device, live };
}

let app: Awaited<ReturnType<typeof buildApp>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function req(session: string | undefined, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
  return app!.inject({
    method, url,
    headers: { ...(session ? { 'x-kiln-session': session } : {}), ...(body === undefined ? {} : { 'content-type': 'application/msgpack' }) },
    payload: body === undefined ? undefined : Buffer.from(encode(body)),
  });
}
const msg = (r: { rawPayload: Buffer }) => decode(r.rawPayload) as any;
const x23 = (v: number[]) => wire(hostTensor('f32', [2, 3], v));
const close = (got: ArrayLike<number>, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));

describe('models', () => {
  it('registers a module with safetensors weights, infers with only the remaining input, and keeps stats', async () => {
    app = await buildApp({ device: referenceDevice() });
    const r = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS });
    expect(r.statusCode, r.body).toBe(200);
    const m = msg(r);
    expect(m).toMatchObject({
      name: 'mlp', cached: false, notes: [], bytes: 4 * (4 + 2 + 12 + 8),
      inputs: [{ arg: 4, dtype: 'f32', shape: [2, 3] }],
      weights: [
        { arg: 0, tensor: 'b1', dtype: 'f32', shape: [4], bytes: 16 }, { arg: 1, tensor: 'b2', dtype: 'f32', shape: [2], bytes: 8 },
        { arg: 2, tensor: 'w1', dtype: 'f32', shape: [3, 4], bytes: 48 }, { arg: 3, tensor: 'w2', dtype: 'f32', shape: [4, 2], bytes: 32 },
      ],
      outputs: [{ dtype: 'f32', shape: [2, 2] }], runs: 0, latencyMs: { mean: null },
    });
    for (const x of [X, X.map((v) => -v)]) {
      const y = await req(undefined, 'POST', '/models/mlp/infer', { inputs: [x23(x)] });
      expect(y.statusCode, y.body).toBe(200);
      close(narrowData(unwire(msg(y).outputs[0])), expected(x, 2));
    }
    const listed = (await req(undefined, 'GET', '/models')).json();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: 'mlp', runs: 2, executable: m.executable });
    expect(listed[0].latencyMs.mean).toBeGreaterThan(0);
    expect((await req(undefined, 'GET', '/models/mlp')).json()).toEqual(listed[0]);
    // The dashboard lists it, with its session.
    const board = (await req(undefined, 'GET', '/dashboard/state')).json();
    expect(board.models).toEqual([{ session: 'default', ...listed[0] }]);
    expect(board.sessions).toBe(0);
    // Compiled once, through the cache: the same module as a plain /compile is a hit.
    expect(app.kiln.cache.get(m.executable)).toBeDefined();
    const wrong = await req(undefined, 'POST', '/models/mlp/infer', { inputs: [x23(X), x23(X)] });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toMatch(/model 'mlp': it takes 1 inputs \(arguments 4; the others are bound\), got 2/);
    const shape = await req(undefined, 'POST', '/models/mlp/infer', { inputs: [wire(hostTensor('f32', [3], [1, 2, 3]))] });
    expect(shape.json().error.message).toMatch(/model 'mlp': inputs\[0\]: got f32\[3\], the executable takes tensor<2x3xf32>/);
  });

  it('binds by tensor name and by resident buffer, which the model takes over', async () => {
    const { device, live } = countingDevice();
    app = await buildApp({ device });
    // w1 from a buffer kept earlier; the rest by name, in another order than the file's.
    await req(undefined, 'POST', '/buffers', { ...wire(hostTensor('f32', [3, 4], W1)), handle: 'w1-buf' });
    const bind = [{ arg: 3, tensor: 'w2' }, { arg: 0, tensor: 'b1' }, { arg: 1, tensor: 'b2' }, { arg: 2, buffer: 'w1-buf' }];
    // Every tensor of the weights must be bound: w1 is not.
    const unbound = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS, bind });
    expect(unbound.statusCode).toBe(400);
    expect(unbound.json().error.message).toMatch(/model 'mlp': the weights' tensor 'w1' bind no argument/);
    expect(live.size).toBe(1);
    const noW1 = await saveWithout('w1');
    const r = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: noW1, bind });
    expect(r.statusCode, r.body).toBe(200);
    expect(msg(r).weights[2]).toMatchObject({ arg: 2, buffer: 'w1-buf' });
    expect((await req(undefined, 'GET', '/buffers')).json()).toEqual([]);
    expect(live.size).toBe(4);
    const y = await req(undefined, 'POST', '/models/mlp/infer', { inputs: [x23(X)], keep: [true], handles: ['y'] });
    expect(msg(y).outputs[0]).toMatchObject({ buffer: 'y' });
    close(narrowData(unwire(msg(await req(undefined, 'GET', '/buffers/y')))), expected(X, 2));
    await req(undefined, 'DELETE', '/buffers/y');
    expect((await req(undefined, 'DELETE', '/models/mlp')).json()).toEqual({ deleted: 'mlp' });
    expect(live.size).toBe(0);
    expect(app.kiln.tenants.budget).toMatchObject({ bytes: 0, count: 0 });
    expect((await req(undefined, 'POST', '/models/mlp/infer', { inputs: [x23(X)] })).statusCode).toBe(404);
  });

  it('refuses bad bindings naming the model, the argument and the tensor, and allocates nothing', async () => {
    const { device, live } = countingDevice();
    app = await buildApp({ device });
    const cases: [unknown, RegExp][] = [
      [[{ arg: 2, tensor: 'b1' }, { arg: 0, tensor: 'w1' }, { arg: 1, tensor: 'b2' }, { arg: 3, tensor: 'w2' }], /bind\[0\]: argument 2 takes tensor<3x4xf32>, tensor 'b1' is tensor<4xf32>/],
      [[{ arg: 0, tensor: 'nope' }], /bind\[0\]: the weights have no tensor "nope" \(they have b1, b2, w1, w2\)/],
      [[{ arg: 9, tensor: 'b1' }], /bind\[0\]: argument 9 is not one of the module's 5 \(0-4\)/],
      [[{ arg: 0, tensor: 'b1' }, { arg: 0, tensor: 'b2' }], /bind\[1\]: argument 0 is bound twice/],
      [[{ arg: 0, tensor: 'b1', buffer: 'x' }], /bind\[0\]: give exactly one of 'tensor'/],
      [[{ arg: 0, buffer: 'absent' }], /no buffer "absent" in this session/],
    ];
    for (const [bind, want] of cases) {
      const r = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS, bind });
      expect(r.statusCode, JSON.stringify(bind)).toBeGreaterThanOrEqual(400);
      expect(r.json().error.message).toMatch(want);
    }
    const garbage = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: new Uint8Array([1, 2, 3]) });
    expect(garbage.json().error.message).toMatch(/model 'mlp': weights: not a safetensors file/);
    expect((await req(undefined, 'POST', '/models', { name: 'a b', ir: IR })).json().error.message).toMatch(/model name "a b"/);
    expect((await req(undefined, 'POST', '/models', { name: 'm', ir: IR, bogus: 1 })).statusCode).toBe(400);
    expect(live.size).toBe(0);
    expect((await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS })).statusCode).toBe(200);
    const again = await req(undefined, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS });
    expect(again.statusCode).toBe(409);
    expect(live.size).toBe(4);
  });

  it('belongs to its session, counts in its quotas, and is freed when the session expires', async () => {
    const { device, live } = countingDevice();
    app = await buildApp({ device, limits: { sessionModels: 1, sessionBytes: 150, sessionIdleMs: 1000 } });
    const s = (await req(undefined, 'POST', '/sessions')).json().session;
    expect((await req(s, 'POST', '/models', { name: 'mlp', ir: IR, weights: WEIGHTS })).statusCode).toBe(200);
    // Another session, and the default one, see no model.
    expect((await req(undefined, 'GET', '/models')).json()).toEqual([]);
    expect((await req(undefined, 'POST', '/models/mlp/infer', { inputs: [x23(X)] })).statusCode).toBe(404);
    expect((await req(undefined, 'DELETE', '/models/mlp')).statusCode).toBe(404);
    // Quotas: one model; 104 bytes of weights of 150.
    const second = await req(s, 'POST', '/models', { name: 'mlp2', ir: IR, weights: WEIGHTS });
    expect(second.statusCode).toBe(429);
    expect(second.json().error.message).toMatch(/has 1 models, its quota \(sessionModels\)/);
    const bytes = await req(s, 'POST', '/buffers', wire(hostTensor('f32', [16], new Array(16).fill(1))));
    expect(bytes.statusCode).toBe(429);
    expect(bytes.json().error.message).toMatch(/holds 104 bytes; 64 more would pass its quota of 150 \(sessionBytes\)/);
    const y = await req(s, 'POST', '/models/mlp/infer', { inputs: [x23(X)] });
    close(narrowData(unwire(msg(y).outputs[0])), expected(X, 2));
    expect(live.size).toBe(4);
    const session = app.kiln.tenants.session('default', s);
    app.kiln.tenants.expire(session.usedAt + 1001);
    expect(live.size).toBe(0);
    expect(app.kiln.tenants.budget).toMatchObject({ bytes: 0, count: 0 });
    expect((await req(s, 'GET', '/models')).json().error.message).toMatch(/expired/);
  });
});

describe('models through connect()', () => {
  it('registers, infers, lists and deletes a model in the remote device\'s own session', async () => {
    const server = await startServer({ device: referenceDevice() });
    const remote = connect(server.url);
    try {
      // w2 from an array already on the remote device; the rest from the file by name.
      const w2 = remote.upload(hostTensor('f32', [4, 2], W2));
      const m = await remote.registerModel('mlp', { text: IR }, {
        weights: await saveWithout('w2'), bind: [{ arg: 0, tensor: 'b1' }, { arg: 1, tensor: 'b2' }, { arg: 2, tensor: 'w1' }, { arg: 3, array: w2 }],
      });
      expect(m.inputs).toEqual([{ arg: 4, dtype: 'f32', shape: [2, 3] }]);
      const [y] = await remote.infer('mlp', [hostTensor('f32', [2, 3], X)]);
      close(narrowData(y), expected(X, 2));
      expect((await remote.models()).map((d) => [d.name, d.runs])).toEqual([['mlp', 1]]);
      // The model is the session's: the server's default session has none.
      expect(server.app.kiln.session.models.size).toBe(0);
      await expect(remote.infer('absent', [])).rejects.toThrow(/no model "absent" in this session/);
      await remote.deleteModel('mlp');
      expect(await remote.models()).toEqual([]);
      expect(server.app.kiln.tenants.budget).toMatchObject({ bytes: 0, count: 0 });
    } finally {
      await remote.close();
      await server.close();
    }
  });
});

/** The MLP's weights without one tensor, as a safetensors file's bytes. */
async function saveWithout(name: keyof Params): Promise<Uint8Array> {
  const all = { b1: np.array(B1), b2: np.array(B2), w1: np.array(W1, { shape: [3, 4] }), w2: np.array(W2, { shape: [4, 2] }) };
  delete (all as Partial<Params>)[name];
  const file = join(mkdtempSync(join(tmpdir(), 'kiln-models-')), 'part.safetensors');
  await save(file, all);
  return new Uint8Array(readFileSync(file));
}
