/**
 * @file Tenants (issue 15, item 2): several tokens, each a tenant whose buffers no other tenant can
 * see, list, read, use or delete; handles are per tenant; the resident limits are shared; programs
 * are shared (they hold no tenant's data).
 */
import { narrowData } from '../../runtime/tensor.js';
import { decode, encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { hostTensor } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { unwire, wire } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-abcdefghijkl';

let app: Awaited<ReturnType<typeof buildApp>>;
beforeAll(async () => {
  app = await buildApp({ device: referenceDevice(), tokens: { alice: ALICE, bob: BOB }, limits: { buffers: 3 } });
});
afterAll(async () => {
  await app?.close();
});

const as = (token: string | undefined, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
  app.inject({
    method, url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/msgpack' }) },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(encode(body)),
  });
const f4 = (v: number[]) => wire(hostTensor('f32', [4], v));
/** The values of a msgpack tensor reply. */
const data = (r: { rawPayload: Buffer }) => Array.from(narrowData(unwire(decode(r.rawPayload))));

describe('tenants', () => {
  it('admits each token as its tenant and refuses others', async () => {
    expect((await as(undefined, 'GET', '/buffers')).statusCode).toBe(401);
    expect((await as('not-a-token-of-anyone', 'GET', '/buffers')).statusCode).toBe(401);
    expect((await as(ALICE, 'GET', '/buffers')).statusCode).toBe(200);
    expect((await as(BOB, 'GET', '/buffers')).statusCode).toBe(200);
  });

  it('keeps each tenant\'s buffers invisible to the other, under the same handle', async () => {
    expect((await as(ALICE, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'w' })).statusCode).toBe(200);
    // Bob's 'w' is another buffer: no conflict.
    expect((await as(BOB, 'POST', '/buffers', { ...f4([10, 20, 30, 40]), handle: 'w' })).statusCode).toBe(200);
    expect(data(await as(ALICE, 'GET', '/buffers/w'))).toEqual([1, 2, 3, 4]);
    expect(data(await as(BOB, 'GET', '/buffers/w'))).toEqual([10, 20, 30, 40]);
    expect((await as(ALICE, 'GET', '/buffers')).json().map((b: { buffer: string }) => b.buffer)).toEqual(['w']);

    expect((await as(BOB, 'POST', '/buffers', { ...f4([0, 0, 0, 0]), handle: 'bob-only' })).statusCode).toBe(200);
    expect((await as(ALICE, 'GET', '/buffers/bob-only')).statusCode).toBe(404);
    expect((await as(ALICE, 'DELETE', '/buffers/bob-only')).statusCode).toBe(404);
    // A program is shared; buffers in calls are the caller's own.
    const exe = (await as(ALICE, 'POST', '/compile', ADD)).json().id;
    const run = await as(ALICE, 'POST', '/execute', { executable: exe, inputs: [{ buffer: 'w' }, { buffer: 'w' }] });
    expect(Array.from(narrowData(unwire((decode(run.rawPayload) as { outputs: unknown[] }).outputs[0])))).toEqual([2, 4, 6, 8]);
    const stolen = await as(ALICE, 'POST', '/execute', { executable: exe, inputs: [{ buffer: 'bob-only' }, { buffer: 'w' }] });
    expect(stolen.statusCode).toBe(404);
    const viaBatch = await as(ALICE, 'POST', '/batch', { calls: [], fetch: ['bob-only'] });
    expect(viaBatch.statusCode).toBe(404);
    expect((await as(BOB, 'GET', '/buffers/bob-only')).statusCode).toBe(200);
  });

  it('shares one budget, and /health counts every tenant', async () => {
    // alice: w; bob: w, bob-only. The server holds at most 3.
    const full = await as(ALICE, 'POST', '/buffers', { ...f4([0, 0, 0, 0]), handle: 'more' });
    expect(full.statusCode).toBe(507);
    expect((await as(undefined, 'GET', '/health')).json()).toMatchObject({ buffers: 3, residentBytes: 48 });
  });

  it('refuses short tokens, a token two tenants share, and odd names', async () => {
    await expect(buildApp({ device: referenceDevice(), tokens: { a: 'short' } })).rejects.toThrow(/at least 16/);
    await expect(buildApp({ device: referenceDevice(), tokens: { a: ALICE, b: ALICE } })).rejects.toThrow(/another tenant's too/);
    await expect(buildApp({ device: referenceDevice(), tokens: { 'a b': ALICE } })).rejects.toThrow(/tenant "a b"/);
  });
});
