/**
 * @file The reference device behind the Device interface: compile caching by graph hash,
 * queued execution with chaining on unread results, errors surfacing from `read`, input checks,
 * deadlines, free and destroy.
 */
import { describe, expect, it } from 'vitest';
import { DeviceError, InputError, TimeoutError, UnsupportedOpError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { tensorType, type Region } from '../../ir/types.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { hostTensor, narrowData } from '../../runtime/tensor.js';
import { moduleOf, operation, region, ret, val } from './build.js';

const ty = tensorType;

/** main(x: f32[3]) = x * x */
function squareModule() {
  const x = val('f32', [3], '%x');
  return moduleOf([x], () => [operation(Op.Multiply, [x, x], [ty('f32', [3])], {})]);
}

/** main(n: i32) = while (true) n, which ends only at the deadline. */
function spinModule() {
  const n = val('i32', []);
  const t = operation(Op.Constant, [], [ty('i1', [])], { value: { splat: true, data: Uint8Array.of(1) } });
  const cond: Region = { block: { args: [val('i32')], ops: [t, ret(t.results)] } };
  const body = region([val('i32')], (a) => [operation(Op.Negate, [a[0]], [ty('i32', [])], {})]);
  return moduleOf([n], () => [operation(Op.While, [n], [ty('i32', [])], {}, [cond, body])]);
}

describe('ReferenceDevice', () => {
  it('describes itself', () => {
    const d = new ReferenceDevice();
    expect(d.kind).toBe('reference');
    expect(d.info()).toMatchObject({ kind: 'reference', backend: 'cpu' });
  });

  it('compiles once per graph hash, whatever the value names', () => {
    const d = new ReferenceDevice();
    const a = d.compile(squareModule());
    const m2 = squareModule();
    m2.funcs[0].args[0].name = '%renamed';
    const b = d.compile(m2);
    expect(b).toBe(a);
    expect(a.id).toMatch(/\S{16,}/);
    expect(a.kernels).toBe(0);
    expect(a.inputs).toEqual([ty('f32', [3])]);
    expect(a.outputs).toEqual([ty('f32', [3])]);
    expect(a.bytes).toBe(12);
    const other = d.compile(spinModule());
    expect(other.id).not.toBe(a.id);
  });

  it('executes, chains on results not yet read, and reads copies', async () => {
    const d = new ReferenceDevice();
    const exe = d.compile(squareModule());
    const x = d.upload(hostTensor('f32', [3], [1, -2, 3]));
    const [y] = d.execute(exe, [x]);
    const [z] = d.execute(exe, [y]);
    const got = await d.read(z);
    expect(Array.from(narrowData(got))).toEqual([1, 16, 81]);
    got.data[0] = 99;
    expect(Array.from(narrowData((await d.read(z))))).toEqual([1, 16, 81]);
    await d.sync();
  });

  it('checks inputs synchronously', () => {
    const d = new ReferenceDevice();
    const exe = d.compile(squareModule());
    expect(() => d.execute(exe, [])).toThrow(InputError);
    expect(() => d.execute(exe, [d.upload(hostTensor('i32', [3], [1, 2, 3]))])).toThrow(/input 0 is tensor<3xi32>/);
    const other = new ReferenceDevice();
    expect(() => d.execute(exe, [other.upload(hostTensor('f32', [3], [1, 2, 3]))])).toThrow(/not on this device/);
    expect(() => other.execute(exe, [other.upload(hostTensor('f32', [3], [1, 2, 3]))])).toThrow(DeviceError);
    const freed = d.upload(hostTensor('f32', [3], [1, 2, 3]));
    d.free(freed);
    expect(() => d.execute(exe, [freed])).toThrow(/freed/);
  });

  it('surfaces a run error from read, to every result and to runs chained on them', async () => {
    const d = new ReferenceDevice();
    const exe = d.compile(spinModule());
    const [y] = d.execute(exe, [d.upload(hostTensor('i32', [], [1]))], { deadline: Date.now() + 30 });
    const [z] = d.execute(exe, [y]);
    await expect(d.read(y)).rejects.toBeInstanceOf(TimeoutError);
    await expect(d.read(z)).rejects.toBeInstanceOf(TimeoutError);
    // The queue goes on after a failed run.
    const sq = d.compile(squareModule());
    const [ok] = d.execute(sq, [d.upload(hostTensor('f32', [3], [2, 2, 2]))]);
    expect(Array.from(narrowData((await d.read(ok))))).toEqual([4, 4, 4]);
  });

  it('refuses at compile time a module with a type it cannot compute on', () => {
    const d = new ReferenceDevice();
    const x = val('f32', []);
    const m = moduleOf([x], () => [operation(Op.Convert, [x], [{ dtype: 'f64', shape: [] }], {})]);
    expect(() => d.compile(m)).toThrow(UnsupportedOpError);
  });

  it('rejects reads of freed arrays, and any use after destroy', async () => {
    const d = new ReferenceDevice();
    const a = d.upload(hostTensor('f32', [1], [1]));
    d.free(a);
    await expect(d.read(a)).rejects.toBeInstanceOf(InputError);
    d.destroy();
    expect(() => d.upload(hostTensor('f32', [1], [1]))).toThrow(DeviceError);
  });
});
