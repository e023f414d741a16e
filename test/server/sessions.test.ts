/**
 * @file Sessions (issue 15, item 2): buffers, kept outputs and models belong to a session; other
 * sessions, of the same tenant or another, get 404 as if they were absent; an idle session expires
 * and frees every device allocation it held; per-session quotas answer 429 (or 413) naming the
 * quota; a failed /batch leaves nothing behind. The device is wrapped to count live allocations, so
 * "freed" means given back to the device, not just forgotten by a map.
 */
import { EventEmitter } from 'node:events';
import { decode, encode } from '@msgpack/msgpack';
import type { FastifyReply } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type ServerOptions } from '../../server/app.js';
import type { Device, DeviceArray } from '../../runtime/device.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { referenceDevice } from '../helpers/devices.js';
import { unwire, wire } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-abcdefghijkl';
const f4 = (v: number[]) => wire(hostTensor('f32', [4], v));

/** A reference device that counts the arrays it holds (uploaded or made by runs, not yet freed). */
function countingDevice(): { device: Device; live: Set<DeviceArray> } {
  const base = referenceDevice();
  const live = new Set<DeviceArray>();
  const device = new Proxy(base, {
    get(target, key) {
      if (key === 'upload') return (t: Parameters<Device['upload']>[0]) => { const a = target.upload(t); live.add(a); return a; };
      if (key === 'execute') {
        return (...args: Parameters<Device['execute']>) => { const outs = target.execute(...args); outs.forEach((o) => live.add(o)); return outs; };
      }
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

async function start(opts: Partial<ServerOptions> = {}) {
  const counted = countingDevice();
  app = await buildApp({ device: counted.device, tokens: { alice: ALICE, bob: BOB }, ...opts });
  return counted;
}

/** A request as `token`, in `session` (or the tenant's default session). */
function as(token: string, session: string | undefined, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
  return app!.inject({
    method, url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(session ? { 'x-kiln-session': session } : {}),
      ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/msgpack' }),
    },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(encode(body)),
  });
}
const open = async (token: string): Promise<string> => {
  const r = await as(token, undefined, 'POST', '/sessions');
  expect(r.statusCode).toBe(200);
  return r.json().session;
};
const values = (r: { rawPayload: Buffer }) => Array.from(narrowData(unwire(decode(r.rawPayload))));
/** The values of a run's first output. */
const output = (r: { rawPayload: Buffer }) => Array.from(narrowData(unwire((decode(r.rawPayload) as { outputs: unknown[] }).outputs[0])));

describe('sessions', () => {
  it('keep buffers and kept outputs invisible to every other session, of the tenant or another', async () => {
    await start();
    const s1 = await open(ALICE);
    const s2 = await open(ALICE);
    expect(s1).not.toBe(s2);
    expect((await as(ALICE, s1, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'w' })).statusCode).toBe(200);
    const exe = (await as(ALICE, s1, 'POST', '/compile', ADD)).json().id;
    const run = await as(ALICE, s1, 'POST', '/execute', { executable: exe, inputs: [{ buffer: 'w' }, f4([1, 1, 1, 1])], keep: [true], handles: ['out'] });
    expect(run.statusCode).toBe(200);
    expect(values(await as(ALICE, s1, 'GET', '/buffers/out'))).toEqual([2, 3, 4, 5]);

    // The same tenant's other session, its default session, and the other tenant: as if absent.
    for (const [token, session] of [[ALICE, s2], [ALICE, undefined], [BOB, undefined]] as const) {
      for (const h of ['w', 'out']) {
        const r = await as(token, session, 'GET', `/buffers/${h}`);
        expect(r.statusCode).toBe(404);
        expect(r.json().error.message).toMatch(new RegExp(`no buffer "${h}" in this session`));
        expect((await as(token, session, 'DELETE', `/buffers/${h}`)).statusCode).toBe(404);
      }
      expect((await as(token, session, 'GET', '/buffers')).json()).toEqual([]);
      expect((await as(token, session, 'POST', '/execute', { executable: exe, inputs: [{ buffer: 'w' }, f4([0, 0, 0, 0])] })).statusCode).toBe(404);
      expect((await as(token, session, 'POST', '/batch', { calls: [], fetch: ['out'] })).statusCode).toBe(404);
    }
    // Each session has its own handles: s2 may keep a 'w' of its own.
    expect((await as(ALICE, s2, 'POST', '/buffers', { ...f4([9, 9, 9, 9]), handle: 'w' })).statusCode).toBe(200);
    expect(values(await as(ALICE, s1, 'GET', '/buffers/w'))).toEqual([1, 2, 3, 4]);
    expect(values(await as(ALICE, s2, 'GET', '/buffers/w'))).toEqual([9, 9, 9, 9]);

    // Another tenant naming alice's session id is told there is no such session, and cannot end it.
    const stolen = await as(BOB, s1, 'GET', '/buffers/w');
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().error.message).toMatch(/no session/);
    expect((await as(BOB, undefined, 'DELETE', `/sessions/${s1}`)).statusCode).toBe(404);
    expect((await as(BOB, undefined, 'GET', '/sessions')).json()).toEqual([]);
    expect((await as(ALICE, undefined, 'GET', '/sessions')).json().map((s: { session: string }) => s.session).sort()).toEqual([s1, s2].sort());
  });

  it('refuses an unknown session id, and says when one was deleted', async () => {
    const { live } = await start();
    const r = await as(ALICE, 'no-such-session', 'GET', '/buffers');
    expect(r.statusCode).toBe(404);
    expect(r.json().error.message).toMatch(/no session "no-such-session" \(it was never made by POST \/sessions, or ended\); POST \/sessions starts one/);
    const s = await open(ALICE);
    await as(ALICE, s, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'a' });
    await as(ALICE, s, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'b' });
    expect(live.size).toBe(2);
    const del = await as(ALICE, undefined, 'DELETE', `/sessions/${s}`);
    expect(del.json()).toEqual({ deleted: s, buffers: 2, models: 0 });
    expect(live.size).toBe(0);
    expect((await as(ALICE, s, 'GET', '/buffers')).json().error.message).toMatch(/: it was deleted, and its buffers and models were freed/);
  });

  it('expire when idle, giving back every device allocation, while busy and default sessions stay', async () => {
    const { live } = await start({ limits: { sessionIdleMs: 5000 } });
    const idle = await open(ALICE);
    const busy = await open(ALICE);
    const exe = (await as(ALICE, idle, 'POST', '/compile', ADD)).json().id;
    await as(ALICE, idle, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'w' });
    await as(ALICE, idle, 'POST', '/execute', { executable: exe, inputs: [{ buffer: 'w' }, { buffer: 'w' }], keep: [true] });
    await as(ALICE, busy, 'POST', '/buffers', { ...f4([1, 2, 3, 4]), handle: 'w' });
    await as(ALICE, undefined, 'POST', '/buffers', { ...f4([5, 6, 7, 8]), handle: 'd' });
    expect(live.size).toBe(4);
    const tenants = app!.kiln.tenants;
    const [sIdle, sBusy] = [idle, busy].map((id) => tenants.session('alice', id));
    // Work queued in `busy` keeps it alive however long it waits.
    sBusy.pending = 1;
    const later = Math.max(sIdle.usedAt, sBusy.usedAt) + 5001;
    expect(tenants.expire(later)).toBe(2);
    sBusy.pending = 0;
    expect(live.size).toBe(2);
    const gone = await as(ALICE, idle, 'GET', '/buffers/w');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.message).toMatch(/it was idle 5 s and expired, and its buffers and models were freed/);
    expect(values(await as(ALICE, busy, 'GET', '/buffers/w'))).toEqual([1, 2, 3, 4]);
    expect(values(await as(ALICE, undefined, 'GET', '/buffers/d'))).toEqual([5, 6, 7, 8]);
    const metrics = (await as(ALICE, undefined, 'GET', '/metrics')).body;
    expect(metrics).toMatch(/^kiln_sessions_expired_total 1$/m);
    expect(metrics).toMatch(/^kiln_sessions 1$/m);
    expect(metrics).toMatch(/^kiln_resident_bytes 32$/m);
  });

  it('answer 429 naming the quota past a session quota, and 413 for what no session could hold', async () => {
    await start({ limits: { sessionBuffers: 2, sessionBytes: 24 } });
    const s = await open(ALICE);
    const other = await open(ALICE);
    const f1 = wire(hostTensor('f32', [1], [7]));
    expect((await as(ALICE, s, 'POST', '/buffers', f1)).statusCode).toBe(200);
    expect((await as(ALICE, s, 'POST', '/buffers', f1)).statusCode).toBe(200);
    const third = await as(ALICE, s, 'POST', '/buffers', f1);
    expect(third.statusCode).toBe(429);
    expect(third.json().error).toMatchObject({ code: 'KILN_ERR_QUOTA', message: expect.stringMatching(new RegExp(`session ${s} holds 2 buffers; 1 more would pass its quota of 2 \\(sessionBuffers\\)`)) });
    // A kept output counts too, and is refused before the run.
    const exe = (await as(ALICE, s, 'POST', '/compile', ADD)).json().id;
    const kept = await as(ALICE, s, 'POST', '/execute', { executable: exe, inputs: [f4([0, 0, 0, 0]), f4([0, 0, 0, 0])], keep: [true] });
    expect(kept.statusCode).toBe(429);
    // Bytes, in the other session (whose quota is its own): what could never fit is a 413.
    expect((await as(ALICE, other, 'POST', '/buffers', f4([1, 2, 3, 4]))).statusCode).toBe(200);
    const bytes = await as(ALICE, other, 'POST', '/buffers', f4([1, 2, 3, 4]));
    expect(bytes.statusCode).toBe(429);
    expect(bytes.json().error.message).toMatch(/holds 16 bytes; 16 more would pass its quota of 24 \(sessionBytes\)/);
    const huge = await as(ALICE, other, 'POST', '/buffers', wire(hostTensor('f32', [7], new Array(7).fill(0))));
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.message).toMatch(/quota of session .* \(sessionBytes 24, sessionBuffers 2\) even when it holds nothing/);
  });

  it('limits the requests a session has queued, without touching other sessions', async () => {
    await start({ limits: { sessionQueued: 1 } });
    const s = await open(ALICE);
    const exe = (await as(ALICE, s, 'POST', '/compile', ADD)).json().id;
    // Hold the device queue with work of the server's own, so that s's first run waits in it.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const reply = { raw: Object.assign(new EventEmitter(), { writableFinished: false }) } as unknown as FastifyReply;
    const blocker = app!.kiln.work.run(app!.kiln, reply, 'blocker', () => gate);
    const first = as(ALICE, s, 'POST', '/execute', { executable: exe, inputs: [f4([1, 1, 1, 1]), f4([2, 2, 2, 2])] });
    const session = app!.kiln.tenants.session('alice', s);
    for (let i = 0; session.pending === 0 && i < 100; i++) await new Promise((r) => setTimeout(r, 10));
    const second = await as(ALICE, s, 'POST', '/execute', { executable: exe, inputs: [f4([1, 1, 1, 1]), f4([2, 2, 2, 2])] });
    expect(second.statusCode).toBe(429);
    expect(second.json().error.message).toMatch(/has 1 requests queued or running, its quota \(sessionQueued\)/);
    // Another session of the same tenant queues freely.
    const elsewhere = as(ALICE, undefined, 'POST', '/execute', { executable: exe, inputs: [f4([1, 1, 1, 1]), f4([3, 3, 3, 3])] });
    release();
    await blocker;
    expect(output(await first)).toEqual([3, 3, 3, 3]);
    expect((await elsewhere).statusCode).toBe(200);
    expect(session.pending).toBe(0);
  });

  it('a failed /batch leaves nothing: no buffer in the session, no allocation on the device', async () => {
    const { live } = await start();
    const s = await open(ALICE);
    const exe = (await as(ALICE, s, 'POST', '/compile', ADD)).json().id;
    await as(ALICE, s, 'POST', '/buffers', { ...f4([1, 1, 1, 1]), handle: 'keep-me' });
    const before = live.size;
    const r = await as(ALICE, s, 'POST', '/batch', {
      uploads: [{ ...f4([1, 2, 3, 4]), handle: 'up' }],
      calls: [
        { executable: exe, inputs: [{ buffer: 'up' }, { buffer: 'keep-me' }], keep: [true], handles: ['k0'] },
        { executable: exe, inputs: [{ buffer: 'k0' }, f4([1, 1, 1, 1])], keep: [true], handles: ['k1'] },
        { executable: exe, inputs: [{ buffer: 'k1' }] },
      ],
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/calls\[2\]/);
    expect((await as(ALICE, s, 'GET', '/buffers')).json().map((b: { buffer: string }) => b.buffer)).toEqual(['keep-me']);
    expect(live.size).toBe(before);
    // A call whose second input is refused after its first was uploaded.
    const bad = await as(ALICE, s, 'POST', '/batch', {
      uploads: [{ ...f4([1, 2, 3, 4]), handle: 'up' }],
      calls: [{ executable: exe, inputs: [f4([1, 2, 3, 4]), wire(hostTensor('f32', [3], [1, 2, 3]))], keep: [true] }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/calls\[0\]: inputs\[1\]: got f32\[3\], the executable takes tensor<4xf32>/);
    expect(live.size).toBe(before);
    expect(app!.kiln.tenants.session('alice', s).usage).toMatchObject({ count: 1, bytes: 16 });
  });
});
