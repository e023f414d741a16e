/**
 * @file Work is cancelled with its request (issue 15): a client that goes away has its queued work
 * dropped, its running endless loop stopped and its kept outputs freed; a request past its deadline
 * is a 408 whether it waited or ran; shutdown cancels everything. On the GPU, where a running loop
 * checks for cancellation between iterations. Loopback only, every loop bounded.
 */
import { narrowData } from '../../runtime/tensor.js';
import { EventEmitter } from 'node:events';
import { encode } from '@msgpack/msgpack';
import type { FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../runtime/device.js';
import { hostTensor } from '../../runtime/tensor.js';
import { webgpuDevice } from '../helpers/devices.js';
import { ENDLESS_WHILE } from '../helpers/programs.js';
import type { KilnState } from '../../server/context.js';
import { WorkQueue } from '../../server/work.js';
import { call, startServer, unwire, wire, type TestServer } from './harness.js';

const ADD = `func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
const zero = () => wire(hostTensor('i32', [], [0]));
const f4 = (v: number[]) => wire(hostTensor('f32', [4], v));

let device: Device;
let server: TestServer;

beforeAll(async () => {
  device = await webgpuDevice();
  // Runs may take a minute: only cancellation can stop the loops below in time.
  server = await startServer({ device, limits: { executionMs: 60_000, requestMs: 120_000 } });
});
afterAll(async () => {
  await server?.close();
});

/** POSTs msgpack and gives up (closes the connection) once `leave` says so. */
async function postAndLeave(path: string, body: unknown, leave: Promise<unknown>): Promise<void> {
  const ctl = new AbortController();
  void leave.then(() => ctl.abort());
  try {
    await fetch(server.url + path, { method: 'POST', body: encode(body), headers: { 'content-type': 'application/msgpack' }, signal: ctl.signal });
  } catch {
    // aborted: the point
  }
}

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a client that goes away', () => {
  it('has its endless loop stopped, so the next request is served promptly', async () => {
    // Three clients send endless loops and leave once all three are queued; without cancellation
    // the next request would wait 3 x 60 s.
    const queued = until('three loops queued', () => server.app.kiln.work.pending === 3, 30_000);
    await Promise.all([0, 1, 2].map(() => postAndLeave('/run', { ir: ENDLESS_WHILE, inputs: [zero()] }, queued)));
    const start = performance.now();
    const r = await call(server.url, 'POST', '/run', { ir: ADD, inputs: [f4([1, 2, 3, 4]), f4([1, 1, 1, 1])] });
    const ms = performance.now() - start;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Array.from(narrowData(unwire(r.body.outputs[0])))).toEqual([2, 3, 4, 5]);
    expect(ms).toBeLessThan(15_000);
    await until('all cancelled', () => server.app.kiln.work.pending === 0);
    expect(server.app.kiln.work.cancelled).toBe(3);
  });

  it('has its queued work dropped and keeps nothing', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const runsBefore = server.app.kiln.cache.get(exe.id)!.runs;
    const buffersBefore = server.app.kiln.buffers.size;
    // A loop holds the queue; behind it a client asks to keep outputs (its own handle and a
    // server-made one), then leaves before its turn.
    let release!: () => void;
    const blocker = postAndLeave('/run', { ir: ENDLESS_WHILE, inputs: [zero()] }, new Promise<void>((r) => { release = r; }));
    await until('loop running', () => server.app.kiln.work.pending === 1, 30_000);
    const twoQueued = until('both queued behind it', () => server.app.kiln.work.pending === 3, 30_000);
    await Promise.all([
      postAndLeave('/batch', {
        uploads: [{ ...f4([1, 1, 1, 1]), handle: 'gone-up' }],
        calls: [{ executable: exe.id, inputs: [{ buffer: 'gone-up' }, f4([0, 0, 0, 0])], keep: [true], handles: ['gone-kept'] }],
      }, twoQueued),
      postAndLeave('/execute', { executable: exe.id, inputs: [f4([1, 2, 3, 4]), f4([0, 0, 0, 0])], keep: [true] }, twoQueued),
    ]);
    release();
    await blocker;
    await until('queue empty', () => server.app.kiln.work.pending === 0);
    expect(server.app.kiln.cache.get(exe.id)!.runs).toBe(runsBefore);
    expect(server.app.kiln.buffers.size).toBe(buffersBefore);
    expect((await call(server.url, 'GET', '/buffers/gone-kept')).status).toBe(404);
    expect((await call(server.url, 'GET', '/buffers/gone-up')).status).toBe(404);
  });
});

describe('deadlines and failures', () => {
  it('stops an endless loop at its session\'s deadline, and the session keeps working', async () => {
    const bad = await call(server.url, 'POST', '/sessions', { deadlineMs: 10 ** 9 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/deadlineMs 1000000000: expected whole milliseconds, 1 to the server's request deadline 120000/);
    const made = await call(server.url, 'POST', '/sessions', { deadlineMs: 400 });
    expect(made.status).toBe(200);
    expect(made.body.deadlineMs).toBe(400);
    const h = { 'x-kiln-session': made.body.session };
    const t0 = performance.now();
    const r = await call(server.url, 'POST', '/run', { ir: ENDLESS_WHILE, inputs: [zero()] }, h);
    expect(r.status).toBe(408);
    expect(r.body.error.message).toMatch(/passed its session's deadline of 400 ms/);
    expect(performance.now() - t0).toBeLessThan(10_000);
    const ok = await call(server.url, 'POST', '/run', { ir: ADD, inputs: [f4([1, 2, 3, 4]), f4([1, 1, 1, 1])] }, h);
    expect(Array.from(narrowData(unwire(ok.body.outputs[0])))).toEqual([2, 3, 4, 5]);
    // Another session keeps the server's deadline.
    expect((await call(server.url, 'POST', '/sessions')).body.deadlineMs).toBe(120_000);
  });

  it('answers 408 to a request that waited past its deadline in the queue', async () => {
    // A run that blocks the event loop (as a reference run does) holds the queue past the deadline
    // of the request behind it; that one is refused without running.
    const queue = new WorkQueue();
    const freed: string[] = [];
    const state = {
      limits: { requestMs: 100, sessionQueued: 64 }, session: { pending: 0 }, buffers: { delete: (h: string) => { freed.push(h); return true; } },
    } as unknown as KilnState;
    const reply = () => ({ raw: Object.assign(new EventEmitter(), { writableFinished: false }) }) as unknown as FastifyReply;
    let ran = false;
    const first = queue.run(state, reply(), 'first', async (ctx) => {
      ctx.kept.push('first-kept');
      const end = Date.now() + 300;
      while (Date.now() < end) { /* blocking, like a reference run */ }
      return 'done';
    });
    const second = queue.run(state, reply(), 'second', async () => { ran = true; return 'late'; });
    expect(await first).toBe('done');
    await expect(second).rejects.toThrow(/second: the request passed its deadline of 100 ms \(time in the queue included\)/);
    expect(ran).toBe(false);
    expect(freed).toEqual([]);
    expect(queue.cancelled).toBe(1);
  });

  it('frees what a failing /batch kept: its uploads and the outputs of the calls before the failure', async () => {
    const { body: exe } = await call(server.url, 'POST', '/compile', ADD);
    const before = server.app.kiln.buffers.size;
    const r = await call(server.url, 'POST', '/batch', {
      uploads: [{ ...f4([1, 1, 1, 1]), handle: 'fail-up' }],
      calls: [
        { executable: exe.id, inputs: [{ buffer: 'fail-up' }, f4([1, 1, 1, 1])], keep: [true], handles: ['fail-0'] },
        { executable: exe.id, inputs: [f4([1, 1, 1, 1]), f4([1, 1, 1, 1])], keep: [true] },
        { executable: exe.id, inputs: [{ buffer: 'fail-0' }] },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/calls\[2\]/);
    expect(server.app.kiln.buffers.size).toBe(before);
    // The same handles work on a retry.
    const retry = await call(server.url, 'POST', '/batch', {
      uploads: [{ ...f4([1, 1, 1, 1]), handle: 'fail-up' }],
      calls: [{ executable: exe.id, inputs: [{ buffer: 'fail-up' }, f4([1, 1, 1, 1])], keep: [true], handles: ['fail-0'] }],
      fetch: ['fail-0'], free: ['fail-up', 'fail-0'],
    });
    expect(retry.status).toBe(200);
    expect(Array.from(narrowData(unwire(retry.body.fetched['fail-0'])))).toEqual([2, 2, 2, 2]);
  });

  it('closes promptly while an endless loop runs: shutdown cancels it', async () => {
    const s = await startServer({ device, limits: { executionMs: 60_000, requestMs: 120_000 } });
    const loop = call(s.url, 'POST', '/run', { ir: ENDLESS_WHILE, inputs: [zero()] }).catch(() => undefined);
    await until('loop running', () => s.app.kiln.work.pending === 1);
    const start = performance.now();
    await s.close();
    expect(performance.now() - start).toBeLessThan(10_000);
    await loop;
  });
});
