/**
 * @file jit and the tracer: compile once per signature (1,000 calls, one compile), retracing on
 * new shapes or dtypes but not on new JS-number values, pytrees in and out, closures over concrete
 * Arrays, trace-time errors naming the user's file:line and the op, escaped tracers, dispose and
 * `using`, and a long loop that does not grow the number of live device buffers.
 */
import { describe, expect, it } from 'vitest';
import { jit, lower, np, nn, setDefaultDevice, stats, TraceError, type Array as KArray } from '../../client/index.js';
import type { Device, DeviceArray, Executable } from '../../runtime/device.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';

/** A reference device that counts compiles and live buffers. */
class CountingDevice extends ReferenceDevice {
  compiles = 0;
  liveBufs = new Set<DeviceArray>();
  override compile(m: Parameters<Device['compile']>[0]): Executable {
    this.compiles++;
    return super.compile(m);
  }
  override upload(t: Parameters<Device['upload']>[0]): DeviceArray {
    const a = super.upload(t);
    this.liveBufs.add(a);
    return a;
  }
  override execute(exe: Executable, inputs: readonly DeviceArray[]): DeviceArray[] {
    const outs = super.execute(exe, inputs);
    for (const o of outs) this.liveBufs.add(o);
    return outs;
  }
  override free(a: DeviceArray): void {
    this.liveBufs.delete(a);
    super.free(a);
  }
}

const THIS_FILE = 'test/client/jit.test.ts';

describe('jit', () => {
  it('compiles once for 1,000 calls with the same signature', async () => {
    const dev = new CountingDevice();
    setDefaultDevice(dev);
    const f = jit((x: KArray, s: number) => np.add(np.multiply(x, s), 1));
    const x = np.array([1, 2, 3]);
    let y!: KArray;
    for (let i = 0; i < 1000; i++) {
      y?.dispose();
      y = f(x, i); // a new number each call: weakly typed data, not a new signature
    }
    expect(Array.from(await y.data())).toEqual([1000, 1999, 2998]);
    expect(dev.compiles).toBe(1);
    expect(f.cacheSize).toBe(1);
  });

  it('retraces for a new shape or dtype, and for static arguments', async () => {
    setDefaultDevice(new ReferenceDevice());
    const f = jit((x: KArray) => np.sum(x));
    f(np.ones([2]));
    f(np.ones([2]));
    f(np.ones([3]));
    f(np.ones([3], 'i32'));
    expect(f.cacheSize).toBe(3);
    const g = jit((x: KArray, axis: number) => np.sum(x, { axis }), { staticArgnums: [1] });
    const m = np.array([[1, 2], [3, 4]]);
    expect(Array.from(await g(m, 0).data())).toEqual([4, 6]);
    expect(Array.from(await g(m, 1).data())).toEqual([3, 7]);
    expect(g.cacheSize).toBe(2);
  });

  it('takes and returns pytrees, and closes over concrete arrays', async () => {
    setDefaultDevice(new ReferenceDevice());
    const bias = np.array([10, 20]);
    const f = jit((p: { w: KArray; b: KArray }, xs: KArray[]) => ({
      out: np.add(np.matmul(xs[0], p.w), np.add(p.b, bias)),
      parts: [np.sum(xs[1]), 7],
    }));
    const r = f({ w: np.eye(2), b: np.array([1, 1]) }, [np.array([[1, 2]]), np.array([3, 4])]) as { out: KArray; parts: KArray[] };
    expect(Array.from(await r.out.data())).toEqual([12, 23]);
    expect(Array.from(await r.parts[0].data())).toEqual([7]);
    // A JS number is a weak f32 whatever its value (JS has one number type).
    expect(r.parts[1].dtype).toBe('f32');
    expect(r.parts[1].weak).toBe(true);
  });

  it('nested jit is inlined into one program', () => {
    const inner = jit((x: KArray) => np.exp(x));
    const text = lower((x: KArray) => inner(inner(x)))(np.ones([2])).text;
    expect(text.match(/stablehlo\.exponential/g)?.length).toBe(2);
    expect(text).not.toContain('call');
  });

  it('weak types: a JS number does not widen an f16 array; an int array times 0.5 is f32', () => {
    const x16 = np.ones([2], 'f16');
    expect(lower((x: KArray) => np.multiply(x, 2.5))(x16).outputs[0].dtype).toBe('f16');
    expect(lower((x: KArray) => np.multiply(x, 0.5))(np.ones([2], 'i32')).outputs[0].dtype).toBe('f32');
    expect(lower((x: KArray, y: KArray) => np.add(x, y))(x16, np.ones([2])).outputs[0].dtype).toBe('f32');
  });
});

describe('trace-time errors', () => {
  it('a shape mismatch names the user file:line and the op', () => {
    const f = jit((a: KArray, b: KArray) => np.matmul(a, b));
    let err: unknown;
    try {
      f(np.ones([2, 3]), np.ones([4, 5])); const line = new Error().stack!; void line;
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TraceError);
    const msg = (err as Error).message;
    expect(msg).toContain('np.matmul');
    expect(msg).toMatch(new RegExp(`${THIS_FILE.replace(/\//g, '\\/')}:\\d+:\\d+`));
    // The line is the one that calls np.matmul inside the jitted lambda.
    const lineOfMatmul = Number(/jit\.test\.ts:(\d+)/.exec(msg)![1]);
    expect(lineOfMatmul).toBe(lineOf("np.matmul(a, b));"));
  });

  it('a bad axis and a broadcasting clash throw synchronously, eagerly too', () => {
    setDefaultDevice(new ReferenceDevice());
    expect(() => np.sum(np.ones([2, 2]), { axis: 2 })).toThrow(/np\.sum: axis 2 is out of bounds for an array of rank 2/);
    expect(() => np.add(np.ones([2, 3]), np.ones([4]))).toThrow(/jit\.test\.ts:\d+:\d+: np\.add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    expect(() => np.reshape(np.ones([6]), [4, 2])).toThrow(/np\.reshape: cannot reshape an array of size 6 into shape \[4, 2\]/);
    expect(() => nn.oneHot(np.ones([3]), 4)).toThrow(/nn\.oneHot: labels must be integers, got f32/);
  });

  it('the traced ops carry the user call site as their location', () => {
    const text = lower((x: KArray) => np.tanh(x))(np.ones([2])).asText({ locations: true });
    expect(text).toMatch(new RegExp(`stablehlo\\.tanh.*loc\\("${THIS_FILE.replace(/\//g, '\\/')}":\\d+:\\d+\\)`));
  });

  it('a tracer that escapes its trace is refused with a clear message', () => {
    let leaked: KArray | undefined;
    const f = jit((x: KArray) => { leaked = np.exp(x); return x; });
    f(np.ones([2]));
    expect(leaked!.isTracer).toBe(true);
    expect(() => jit((y: KArray) => np.add(y, leaked!))(np.ones([2]))).toThrow(/escaped/);
    // Refused at once, not as a rejected promise (which an un-awaited call would leave unhandled).
    expect(() => leaked!.data()).toThrow(/tracer/);
  });
});

describe('memory', () => {
  it('dispose and using free device buffers; a disposed array refuses use', async () => {
    const dev = new CountingDevice();
    setDefaultDevice(dev);
    const x = np.array([1, 2, 3]);
    const y = np.exp(x);
    await y.data();
    expect(dev.liveBufs.size).toBe(2);
    y.dispose();
    {
      using z = np.add(x, 1);
      await z.data();
    }
    await dev.sync();
    await new Promise((r) => setTimeout(r, 0));
    expect(dev.liveBufs.size).toBe(1);
    expect(y.disposed).toBe(true);
    await expect(y.data()).rejects.toThrow(/disposed/);
    expect(() => np.add(y, 1)).toThrow(/disposed/);
  });

  it('a 10,000-step jitted loop keeps the number of live buffers constant', async () => {
    const dev = new CountingDevice();
    setDefaultDevice(dev);
    const step = jit((w: KArray, x: KArray) => np.subtract(w, np.multiply(np.tanh(np.matmul(x, w)), 0.001)));
    const x = np.ones([4, 4]);
    let w = np.eye(4);
    const sizes: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const next = step(w, x);
      w.dispose();
      w = next;
      if (i % 2500 === 0) { await w.data(); await new Promise((r) => setTimeout(r, 0)); sizes.push(dev.liveBufs.size); }
    }
    await w.data();
    await new Promise((r) => setTimeout(r, 0));
    expect(dev.liveBufs.size).toBeLessThanOrEqual(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(stats.compiles).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
function lineOf(snippet: string): number {
  const lines = readFileSync(new URL(import.meta.url).pathname, 'utf8').split('\n');
  return lines.findIndex((l) => l.includes(snippet)) + 1;
}
