/**
 * @file JAX semantics of the client's argument handling (issue 11 items 1-4): positional and
 * option arguments bound by client/args.ts, tracers that refuse to become JS values, construction
 * and dtypes like JAX, and iteration along axis 0. Each case runs on the reference device and on
 * WebGPU (required with CI=true), eagerly and under `jit` where both apply. Expected values are
 * computed here in float64 JS, independently of kiln; errors are checked for their class, their
 * message, and that they name this file's line.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConcretizationError, grad, InputError, jit, nn, np, random, setDefaultDevice, TraceError, valueAndGrad, vjp, type Array as KArray,
} from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { devicesUnderTest, expectClose, h, reduceAxis } from './helpers.js';

const THIS_FILE = 'test/client/semantics.test.ts';

/** Runs `f`, expecting an error of class `cls` whose message matches `re` and names this file. */
function expectError(f: () => unknown, cls: abstract new (...a: never[]) => Error, re: RegExp, namesLine = true): Error {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) return expect.fail(`expected ${cls.name}, nothing was thrown`);
  expect(err, err.stack).toBeInstanceOf(cls);
  expect(err.message).toMatch(re);
  if (namesLine) expect(err.message).toContain(`${THIS_FILE}:`);
  return err;
}

const X = h([2, 3], [1, -2, 3, 4, 5, -6]);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const softmaxRef = (v: number[]) => { const m = Math.max(...v); const e = v.map((x) => Math.exp(x - m)); const s = sum(e); return e.map((x) => x / s); };
const lse = (v: number[]) => { const m = Math.max(...v); return m + Math.log(sum(v.map((x) => Math.exp(x - m)))); };
/** Column j of X (axis 0 slices). */
const col = (j: number) => [X.data[j], X.data[3 + j]];
const row = (i: number) => X.data.slice(3 * i, 3 * i + 3);
const x = () => np.array(X.data, { shape: X.shape });

const devices = await devicesUnderTest();

describe.each(devices)('semantics on %s', (_name, device) => {
  beforeAll(() => setDefaultDevice(device as Device));

  // ---- 1. one argument layer ----------------------------------------------------------------

  describe('positional axes and options', () => {
    const cases: { name: string; run: (a: KArray) => KArray; want: ReturnType<typeof h> }[] = [
      { name: 'np.sum(x, 1)', run: (a) => np.sum(a, 1), want: reduceAxis(X, 1, sum) },
      { name: 'x.sum(1)', run: (a) => a.sum(1), want: reduceAxis(X, 1, sum) },
      { name: 'np.sum(x, [0, 1])', run: (a) => np.sum(a, [0, 1]), want: h([], [sum(X.data)]) },
      { name: 'np.sum(x, 0, {keepdims})', run: (a) => np.sum(a, 0, { keepdims: true }), want: reduceAxis(X, 0, sum, true) },
      { name: 'np.sum(x, {axis, keepdims})', run: (a) => np.sum(a, { axis: 1, keepdims: true }), want: reduceAxis(X, 1, sum, true) },
      { name: 'np.sum(x, null, int32)', run: (a) => np.sum(a, null, 'int32'), want: h([], [sum(X.data)], 'i32') },
      { name: 'np.mean(x, 1)', run: (a) => np.mean(a, 1), want: reduceAxis(X, 1, (v) => sum(v) / v.length) },
      { name: 'np.max(x, 0)', run: (a) => np.max(a, 0), want: reduceAxis(X, 0, (v) => Math.max(...v)) },
      { name: 'x.min(1)', run: (a) => a.min(1), want: reduceAxis(X, 1, (v) => Math.min(...v)) },
      { name: 'np.all(x > 0, 1)', run: (a) => np.all(a.gt(0), 1), want: h([2], [0, 0], 'i1') },
      { name: 'np.any(x > 4, 0)', run: (a) => np.any(a.gt(4), 0), want: h([3], [0, 1, 0], 'i1') },
      { name: 'np.argmax(x, 1)', run: (a) => np.argmax(a, 1), want: h([2], [2, 1], 'i32') },
      { name: 'x.argmin(0)', run: (a) => a.argmin(0), want: h([3], [0, 0, 1], 'i32') },
      { name: 'np.cumsum(x, 1)', run: (a) => np.cumsum(a, 1), want: h([2, 3], [1, -1, 2, 4, 9, 3]) },
      { name: 'nn.softmax(x, 0)', run: (a) => nn.softmax(a, 0), want: h([2, 3], [0, 1].flatMap((i) => [0, 1, 2].map((j) => softmaxRef(col(j))[i]))) },
      { name: 'nn.softmax(x, {axis: null})', run: (a) => nn.softmax(a, { axis: null }), want: h([2, 3], softmaxRef(X.data)) },
      { name: 'nn.logsumexp(x, 1)', run: (a) => nn.logsumexp(a, 1), want: h([2], [lse(row(0)), lse(row(1))]) },
      { name: 'nn.logSoftmax(x, 0)', run: (a) => nn.logSoftmax(a, 0), want: h([2, 3], [0, 1].flatMap((i) => [0, 1, 2].map((j) => Math.log(softmaxRef(col(j))[i])))) },
      { name: 'np.sort(x, 0)', run: (a) => np.sort(a, 0), want: h([2, 3], [1, -2, -6, 4, 5, 3]) },
      { name: 'np.take(x, idx, 1)', run: (a) => np.take(a, np.array([2, 0], { dtype: 'int32' }), 1), want: h([2, 2], [3, 1, -6, 4]) },
      { name: 'x.transpose(1, 0)', run: (a) => a.transpose(1, 0), want: h([3, 2], [1, 4, -2, 5, 3, -6]) },
      { name: 'x.cumsum(0)', run: (a) => a.cumsum(0), want: h([2, 3], [1, -2, 3, 5, 3, -3]) },
      { name: 'np.cumsum(x > 0, {dtype: float32})', run: (a) => np.cumsum(a.gt(0), { dtype: 'float32' }), want: h([6], [1, 1, 2, 3, 4, 4]) },
      { name: 'np.mean(x, 0, int32)', run: (a) => np.mean(a, 0, 'int32'), want: h([3], [2, 1, -1], 'i32') },
      { name: 'np.sort(x, 1, {descending})', run: (a) => np.sort(a, 1, { descending: true }), want: h([2, 3], [3, 1, -2, 5, 4, -6]) },
      { name: 'np.argsort(ties, {descending})', run: (a) => np.argsort(np.ravel(a.abs().gt(2)), { descending: true }), want: h([6], [2, 3, 4, 5, 0, 1], 'i32') },
      { name: 'np.concatenate([x, x], null)', run: (a) => np.concatenate([a, a], null), want: h([12], [...X.data, ...X.data]) },
      { name: 'np.concatenate([x, x], 1, int32)', run: (a) => np.concatenate([a, a], 1, 'int32'), want: h([2, 6], [...row(0), ...row(0), ...row(1), ...row(1)], 'i32') },
      { name: 'np.stack(x) (rows of an Array)', run: (a) => np.stack(a, 1), want: h([3, 2], [1, 4, -2, 5, 3, -6]) },
      { name: 'np.var(x, 1, null, null, 1)', run: (a) => np.var(a, 1, null, null, 1), want: reduceAxis(X, 1, (v) => { const m = sum(v) / 3; return sum(v.map((t) => (t - m) ** 2)) / 2; }) },
      { name: 'nn.oneHot(i, 3, {axis: 0})', run: (a) => nn.oneHot(np.argmax(a, 1), 3, { axis: 0 }), want: h([3, 2], [0, 0, 0, 1, 1, 0]) },
      { name: 'np.pad(x, 1, {constantValues})', run: (a) => np.pad(np.slice(a, 0), 1, { constantValues: 9 }), want: h([5], [9, 1, -2, 3, 9]) },
    ];
    for (const c of cases) {
      it(`${c.name}, eager and jitted`, async () => {
        await expectClose(c.run(x()), c.want, 1e-5, 1e-6);
        await expectClose(jit(c.run)(x()), c.want, 1e-5, 1e-6);
      });
    }

    it('unknown options, wrong types, extra arguments and out-of-range axes name the function, the argument and the choices', () => {
      const a = x();
      expectError(() => np.sum(a, { axes: 1 } as never), TraceError, /np\.sum: unknown option 'axes'; the options are a, axis, dtype, out, keepdims, initial, where/);
      expectError(() => np.sum(a, 2), TraceError, /np\.sum: axis 2 is out of bounds for an array of rank 2 \(valid axes are -2 to 1\)/);
      expectError(() => np.sum(a, 'a' as never), TraceError, /np\.sum: axis must be an integer axis, a list of axes, or null \(all axes\), got 'a'/);
      expectError(() => a.sum(1, { keepdims: 1 } as never), TraceError, /np\.sum: keepdims must be true or false, got 1/);
      expectError(() => np.sum(a, 0, null, null, false, null, 7 as never), TraceError, /np\.sum: takes at most 6 positional arguments/);
      expectError(() => np.sum(a, 0, { axis: 1 }), TraceError, /axis is given both positionally and as an option/);
      expectError(() => nn.softmax(a, { axis: 5 }), TraceError, /nn\.softmax: axis 5 is out of bounds/);
      expectError(() => np.zeros([2], 'float64'), TraceError, /np\.zeros: dtype 'float64' is not a dtype kiln knows \(kiln's client computes on 8-, 16- and 32-bit integers/);
      expectError(() => jit((y: KArray) => y, { static: [0] } as never), TraceError, /jit: unknown option 'static'; the options are staticArgnums, name/);
      expectError(() => jit(3 as never), TraceError, /jit: the first argument must be a function/);
      expectError(() => random.uniform(random.key(0), [2], 'float16'), TraceError, /random\.uniform: dtype must be f32 here, got 'float16'/);
      expectError(() => random.split(3 as never), TraceError, /random\.split: key must be a key \(a ui32 Array of shape \[2\], from random\.key\), got a number/);
      expectError(() => np.pad(a, 1, 'mean' as never), TraceError, /np\.pad: mode must be one of 'constant', 'edge', 'reflect', 'symmetric', 'wrap', got 'mean'/);
      expectError(() => np.split(a, 4, 1), TraceError, /np\.split: array split does not result in an equal division/);
      expectError(() => np.array([1, 2], { dtyp: 'int32' } as never), TraceError, /np\.array: unknown option 'dtyp'; the options are object, dtype, copy, shape/);
      expectError(() => nn.softmax(a, 0, { initial: 0 } as never), TraceError, /nn\.softmax: initial must be null \(not implemented\), got 0/);
      // Inside jit the same checks run and name the line inside the traced function.
      expectError(() => jit((y: KArray) => np.mean(y, -3))(a), TraceError, /np\.mean: axis -3 is out of bounds/);
    });

    it('jit(f, {}) works without staticArgnums', async () => {
      const f = jit((y: KArray) => y.mul(2), {});
      await expectClose(f(x()), h([2, 3], X.data.map((v) => 2 * v)));
    });
  });

  // ---- 2. tracers refuse to become JS values --------------------------------------------------

  describe('tracers refuse to become JS values', () => {
    const msg = /Abstract tracer value encountered where a concrete value is expected: Tracer\(f32\[2,3\]\).*np\.where.*lax\.cond.*lax\.whileLoop/;
    it('a comparison in JS control flow', () => {
      expectError(() => jit((y: KArray) => ((y as unknown as number) > 0 ? y.mul(2) : y.mul(-1)))(x()), ConcretizationError, msg);
    });
    it('Number(), unary +, arithmetic, ==, and a loop bound', () => {
      expectError(() => jit((y: KArray) => Number(y))(x()), ConcretizationError, /converted to a JS number/);
      expectError(() => jit((y: KArray) => +y)(x()), ConcretizationError, /converted to a JS number/);
      expectError(() => jit((y: KArray) => (y as unknown as number) + 1)(x()), ConcretizationError, /used as a JS primitive/);
      // eslint-disable-next-line eqeqeq
      expectError(() => jit((y: KArray) => (y as unknown) == 0)(x()), ConcretizationError, /used as a JS primitive/);
      expectError(() => jit((y: KArray, n: KArray) => {
        let acc = y;
        for (let i = 0; i < (n as unknown as number); i++) acc = acc.add(1);
        return acc;
      })(x(), np.array(3)), ConcretizationError, /Tracer\(~?f32\[\]\) was converted to a JS number/);
    });
    it('item(), data(), toList() of a tracer throw at once', () => {
      expectError(() => jit((y: KArray) => { void y.item(); return y; })(np.array(1)), ConcretizationError, /item\(\) needs values, but Tracer/);
      expectError(() => jit((y: KArray) => { void y.data(); return y; })(x()), ConcretizationError, /data\(\) needs values/);
      expectError(() => jit((y: KArray) => { void y.toList(); return y; })(x()), ConcretizationError, /toList\(\) needs values/);
    });
    it('a concrete Array used as a JS number is an InputError pointing to item()', async () => {
      const a = np.array(42);
      expectError(() => (a as unknown as number) + 1, InputError, /Array\(f32\[\]\) was used as a JS primitive.*await x\.item\(\)/);
      expectError(() => Number(a), InputError, /converted to a JS number/);
      expect(String(a)).toBe('Array(f32[])');
      expect(`${a}`).toBe('Array(f32[])');
      expect(await a.item()).toBe(42);
    });
    it('String() and template literals of a tracer stay readable', () => {
      let seen = '';
      jit((y: KArray) => { seen = `${y} / ${String(y)}`; return y; })(x());
      expect(seen).toBe('Tracer(f32[2,3]) / Tracer(f32[2,3])');
    });
  });

  // ---- 3. construction and dtypes -------------------------------------------------------------

  describe('construction', () => {
    it('np.array stacks nested Arrays and lists, mixed', async () => {
      await expectClose(np.array([np.array([1, 2]), np.array([3, 4])]), h([2, 2], [1, 2, 3, 4]));
      await expectClose(np.array([[np.array(1), 2], [3, np.array(4)]]), h([2, 2], [1, 2, 3, 4]));
      await expectClose(np.array([np.array([1, 2], { dtype: 'int32' }), [3, 4]]), h([2, 2], [1, 2, 3, 4], 'f32'));
      await expectClose(np.array([np.array([1, 2], { dtype: 'int32' }), np.array([3, 4], { dtype: 'int32' })]), h([2, 2], [1, 2, 3, 4], 'i32'));
      await expectClose(jit((a: KArray, b: KArray) => np.array([a, b, [5, 6]]))(np.array([1, 2]), np.array([3, 4])), h([3, 2], [1, 2, 3, 4, 5, 6]));
    });
    it('ragged data is an error naming the shapes', () => {
      expectError(() => np.array([np.array([1, 2]), np.array([3, 4, 5])]), TraceError, /ragged: elements of shapes \[2\] and \[3\]/);
      expectError(() => np.array([[1, 2], [3]]), TraceError, /ragged: a list of 1 at index \[1\] where a list of 2 is expected \(expected shape \[2, 2\]\)/);
      expectError(() => np.array([[1, 2], 3]), TraceError, /ragged: a number at index \[1\]/);
    });
    it('typed arrays keep their values and width (Uint8Array is uint8, as numpy reads it); Float64Array gives f32 with a one-time notice', async () => {
      await expectClose(np.array(new Uint8Array([1, 2, 44])), h([3], [1, 2, 44], 'ui8'));
      await expectClose(np.array(new Uint8ClampedArray([0, 255])), h([2], [0, 255], 'ui8'));
      await expectClose(np.array(new Uint16Array([7, 65535])), h([2], [7, 65535], 'ui16'));
      await expectClose(np.array(new Int8Array([-3, 5])), h([2], [-3, 5], 'i8'));
      await expectClose(np.array(new Int16Array([-300, 5])), h([2], [-300, 5], 'i16'));
      await expectClose(np.array(new Int32Array([-1, 2])), h([2], [-1, 2], 'i32'));
      await expectClose(np.array([new Int32Array([1, 2]), new Int32Array([3, 4])]), h([2, 2], [1, 2, 3, 4], 'i32'));
      await expectClose(np.array(new Float32Array([0.5])), h([1], [0.5], 'f32'));
      await expectClose(np.array(new Float64Array([0.1, 2])), h([2], [Math.fround(0.1), 2], 'f32'));
      await expectClose(np.array([true, false]), h([2], [1, 0], 'i1'));
      await expectClose(np.array(true), h([], [1], 'i1'));
      await expectClose(np.array(true, 'float32'), h([], [1], 'f32'));
      await expectClose(np.array(new Uint8Array([3, 0]), { dtype: 'bool' }), h([2], [1, 0], 'i1'));
      await expectClose(jit(() => np.array([true, false], { dtype: 'int32' }))(), h([2], [1, 0], 'i32'));
    });
    it('dtype names and np.float32-style constants are accepted everywhere', async () => {
      expect(np.zeros([2], 'float32').dtype).toBe('f32');
      expect(np.ones([2], np.int32).dtype).toBe('i32');
      expect(np.full([2], 3, np.uint32).dtype).toBe('ui32');
      expect(np.array([1, 0], { dtype: np.bool }).dtype).toBe('i1');
      expect(np.arange(3, null, null, 'float32').dtype).toBe('f32');
      expect(x().astype('int32').dtype).toBe('i32');
      expect(np.eye(2, { dtype: 'uint32' }).dtype).toBe('ui32');
      expect(np.float16).toBe('float16');
      await expectClose(np.astype(x(), 'bool'), h([2, 3], [1, 1, 1, 1, 1, 1], 'i1'));
    });
  });

  describe('JS numbers are weakly typed, and their dtype never depends on their value alone', () => {
    it('grad(f)(3) differentiates a JS number', async () => {
      const g = grad((t: KArray) => np.sin(np.cos(t)))(3 as never) as KArray;
      await expectClose(g, h([], [Math.cos(Math.cos(3)) * -Math.sin(3)]), 1e-5, 1e-6);
    });
    it('typed arrays are Array arguments of jit and grad, as NumPy arrays are in JAX', async () => {
      await expectClose(jit((a: KArray) => a.mul(2))(new Int32Array([1, 2]) as never), h([2], [2, 4], 'i32'));
      await expectClose(grad((a: KArray) => np.sum(a.mul(a)))(new Float32Array([1, 3]) as never) as KArray, h([2], [2, 6]));
      expect(() => jit((a: KArray) => a)(new BigInt64Array(1) as never)).toThrow(InputError);
    });
    it('a JS number given to jit is no index (it is a weak f32); the error says what to do', () => {
      expectError(() => jit((a: KArray, i: KArray) => np.take(a, i))(x(), 1 as never), TraceError, /np\.take: indices must be integers, got ~f32\[\]; a JS number passed to jit is a weak f32/);
    });
    it('jit(f)(3) and jit(f)(3.5) share one trace', async () => {
      const f = jit((t: KArray) => t.mul(2));
      await expectClose(f(3 as never), h([], [6]));
      await expectClose(f(3.5 as never), h([], [7]));
      expect(f.cacheSize).toBe(1);
    });
    it('an integral number keeps an integer Array integer, eagerly and traced', async () => {
      const i = () => np.array([1, 2], { dtype: 'int32' });
      for (const run of [(a: KArray) => np.add(a, 1), (a: KArray) => a.mul(3), (a: KArray) => np.subtract(7, a)]) {
        expect(run(i()).dtype).toBe('i32');
        expect(jit(run)(i()).dtype).toBe('i32');
      }
      await expectClose(np.add(i(), 1), h([2], [2, 3], 'i32'));
      await expectClose(i().mul(2.5), h([2], [2.5, 5], 'f32'));
      await expectClose(jit((a: KArray) => a.mul(2.5))(i()), h([2], [2.5, 5], 'f32'));
      await expectClose(np.add(np.array([true, false]), 1), h([2], [2, 1], 'i32'));
      await expectClose(np.add(1, 2), h([], [3], 'f32'));
      await expectClose(jit(() => np.add(1, 2))(), h([], [3], 'f32'));
      await expectClose(np.sin(0), h([], [0], 'f32'));
    });
    it('grad, valueAndGrad and vjp of integer or boolean inputs raise like JAX', () => {
      const i = np.array([1, 2], { dtype: 'int32' });
      expectError(() => grad((a: KArray) => np.sum(a))(i), TraceError, /grad requires real- or complex-valued inputs \(input dtype that is a sub-dtype of np\.inexact\), but got int32/);
      expectError(() => valueAndGrad((a: KArray) => np.sum(a.astype('float32')))(np.array([true])), TraceError, /but got bool/);
      expectError(() => vjp((a: KArray) => a.astype('float32'), i), TraceError, /vjp requires real- or complex-valued inputs.*int32/);
    });
    it('bool - bool raises like NumPy', () => {
      expectError(() => np.subtract(np.array([true]), np.array([false])), TraceError, /boolean subtract.*logicalXor/);
      expectError(() => jit((a: KArray) => a.sub(a))(np.array([true])), TraceError, /boolean subtract/);
    });
  });

  describe('take follows JAX modes', () => {
    const v = () => np.array([10, 20, 30]);
    const idx = () => np.array([0, -1, 3, -4, 7], { dtype: 'int32' });
    it("mode 'fill' (the default): NaN for floats, the documented fill for ints and bools", async () => {
      await expectClose(np.take(v(), idx()), h([5], [10, 30, NaN, NaN, NaN]));
      await expectClose(jit((a: KArray, i: KArray) => np.take(a, i))(v(), idx()), h([5], [10, 30, NaN, NaN, NaN]));
      await expectClose(np.take(v().astype('int32'), idx()), h([5], [10, 30, -2147483648, -2147483648, -2147483648], 'i32'));
      await expectClose(np.take(v().astype('uint32'), idx()), h([5], [10, 30, 4294967295, 4294967295, 4294967295], 'ui32'));
      await expectClose(np.take(np.array([false, false]), np.array([5], { dtype: 'int32' })), h([1], [1], 'i1'));
      await expectClose(np.take(v(), idx(), { fillValue: -1 }), h([5], [10, 30, -1, -1, -1]));
    });
    it("modes 'clip', 'wrap' and 'promise_in_bounds'", async () => {
      await expectClose(np.take(v(), idx(), null, null, 'clip'), h([5], [10, 30, 30, 10, 30]));
      await expectClose(np.take(v(), idx(), { mode: 'wrap' }), h([5], [10, 30, 10, 30, 20]));
      await expectClose(np.take(v(), np.array([2, 0], { dtype: 'int32' }), { mode: 'promise_in_bounds' }), h([2], [30, 10]));
      expectError(() => np.take(v(), idx(), { mode: 'raise' } as never), TraceError, /mode must be one of 'fill', 'clip', 'wrap', 'promise_in_bounds', got 'raise'/);
    });
  });

  describe('array-likes', () => {
    it('JS numbers, booleans and typed arrays are accepted as array data; lists are refused as in jax.numpy', async () => {
      await expectClose(np.add(np.array([1, 2]), new Float32Array([3, 4])), h([2], [4, 6]));
      await expectClose(np.where(false, 1, 3), h([], [3]));
      await expectClose(np.where(np.array([true, false]), 1, 3), h([2], [1, 3]));
      await expectClose(np.sum(new Int32Array([1, 2, 3])), h([], [6], 'i32'));
      expectError(() => np.add(x(), [1, 2] as never), TraceError, /np\.add: y is a JS list .*wrap it in np\.array/);
      expectError(() => np.sum([1, 2, 3] as never), TraceError, /np\.sum: a is a JS list/);
      // np.sin is called by vjp itself here, more frames deep than V8 records (Error.stackTraceLimit).
      expectError(() => vjp(np.sin, [3] as never), TraceError, /np\.sin: x is a JS list/, false);
    });
    it('np.where(cond) and np.nonzero need a size, as JAX inside jit; with one they give padded indices per axis', async () => {
      expectError(() => (np.where as (c: unknown) => unknown)(np.array([true])), TraceError, /np\.where\(condition\) with one argument gives the indices.*size=/);
      expectError(() => np.nonzero(np.array([true])), TraceError, /np\.nonzero: size= is required/);
      // x > 2 at (0, 2), (1, 0), (1, 1): row-major order.
      const [r, c] = np.nonzero(x().gt(2), { size: 4, fillValue: -1 });
      await expectClose(r, h([4], [0, 1, 1, -1], 'i32'));
      await expectClose(c, h([4], [2, 0, 1, -1], 'i32'));
      const [r2, c2] = jit((a: KArray) => np.where(a.gt(2), { size: 2 }))(x()) as KArray[];
      await expectClose(r2, h([2], [0, 1], 'i32'));
      await expectClose(c2, h([2], [2, 0], 'i32'));
      const [i] = np.nonzero(np.array([0, 3, 0, 4]), { size: 6 });
      await expectClose(i, h([6], [1, 3, 0, 0, 0, 0], 'i32'));
    });
    it('reshape takes an int, varargs, or a list with one -1', async () => {
      const a = () => np.arange(6, null, null, 'float32');
      await expectClose(np.reshape(np.array([[1, 2, 3], [4, 5, 6]]), 6), h([6], [1, 2, 3, 4, 5, 6]));
      await expectClose(a().reshape(2, 3), h([2, 3], [0, 1, 2, 3, 4, 5]));
      await expectClose(a().reshape([2, -1]), h([2, 3], [0, 1, 2, 3, 4, 5]));
      await expectClose(jit((b: KArray) => b.reshape(-1, 2))(a()), h([3, 2], [0, 1, 2, 3, 4, 5]));
      expectError(() => a().reshape(4, -1), TraceError, /cannot reshape an array of size 6 into shape \[4, -1\]/);
    });
  });

  describe('indexing with arrays', () => {
    it('an integer Array index is a gather, like x[idx] in JAX', async () => {
      const i = np.array([1, 0, 1, -1], { dtype: 'int32' });
      const want = h([4, 3], [...row(1), ...row(0), ...row(1), ...row(1)]);
      await expectClose(np.slice(x(), i), want);
      await expectClose(x().slice(i), want);
      await expectClose(jit((a: KArray, j: KArray) => a.slice(j))(x(), i), want);
      await expectClose(np.slice(x(), ':', np.array([2, 0], { dtype: 'int32' })), h([2, 2], [3, 1, -6, 4]));
    });
    it('a boolean mask is refused, never the whole array', () => {
      const m = np.array([true, false]);
      expectError(() => np.slice(x(), m), TraceError, /boolean mask .* selects a number of elements that depends on its values/);
      expectError(() => jit((a: KArray, b: KArray) => a.slice(b))(x(), m), TraceError, /Array boolean indices must be concrete.*NonConcreteBooleanIndexError/);
      expectError(() => np.slice(x(), np.array([0.5])), TraceError, /index arrays must be integers/);
    });
  });

  // ---- 4. iteration ---------------------------------------------------------------------------

  describe('Arrays iterate along axis 0', () => {
    it('destructuring, for...of and spread, eagerly and inside jit', async () => {
      const [r0, r1] = x();
      await expectClose(r0, h([3], row(0)));
      await expectClose(r1, h([3], row(1)));
      const seen: number[][] = [];
      for (const r of x()) seen.push(Array.from(await r.data()));
      expect(seen).toEqual([row(0), row(1)]);
      const swapped = jit((a: KArray) => { const rows = [...a]; return np.stack([rows[1], rows[0]]); })(x());
      await expectClose(swapped, h([2, 3], [...row(1), ...row(0)]));
    });
    it('random.split keys destructure', async () => {
      const key = random.key(0);
      const [k1, k2] = random.split(key);
      expect(k1.shape).toEqual([2]);
      const both = await random.split(key).data();
      expect(Array.from(await k1.data())).toEqual([both[0], both[1]]);
      expect(Array.from(await k2.data())).toEqual([both[2], both[3]]);
    });
    it('a 0-d Array is not iterable', () => {
      const e = (() => { try { [...np.array(1)]; } catch (err) { return err as Error; } })();
      expect(e).toBeInstanceOf(TypeError);
      expect(e!.message).toMatch(/iteration over a 0-d array/);
      expect(e!.message).toContain(THIS_FILE);
    });
  });
});

/** Runs an ES module script in a fresh node (the built package), returning its exit status and output. */
function runNode(script: string, ...flags: string[]) {
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const code = `import { jit, np, setDefaultDevice } from ${JSON.stringify(dist)};\n${script}`;
  return spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
}

describe('in a fresh process', () => {
  it('a Float64Array is converted to f32 with one notice per process, as JAX without x64', () => {
    const r = runNode(`
      const a = np.array(new Float64Array([0.1, 2]));
      const b = np.array([new Float64Array([1]), new Float64Array([2])]);
      console.log(a.dtype, b.dtype, Array.from(await a.data()).join(','));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`f32 f32 ${Math.fround(0.1)},2`);
    expect(r.stderr.match(/Float64Array was converted to f32/g)?.length).toBe(1);
  });

  it('x.item() inside jit, in a node --unhandled-rejections=strict child, is caught and the process exits cleanly', () => {
    const r = runNode(`
      setDefaultDevice('reference');
      try {
        jit((x) => { x.item(); return x; })(np.array(1));
        console.log('no error');
      } catch (e) {
        console.log('caught ' + e.name);
      }
      await new Promise((r) => setTimeout(r, 100));
      console.log('done');
    `, '--unhandled-rejections=strict');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['caught ConcretizationError', 'done']);
    expect(r.status).toBe(0);
  });
});
