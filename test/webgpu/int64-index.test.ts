/**
 * 64-bit start indices (JAX with x64 on): clamped into i32's range before the op clamps them into
 * the operand, so an index past 2^31 lands where JAX puts it (the last window) instead of
 * wrapping. Expected values follow the StableHLO spec's clamping (start = clamp(i, 0, dim - size)).
 * Both devices; the JAX program x64_int_index.mlir runs in jax-programs.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

const dynamicSlice = (idx: string) => `module {
  func.func public @main(%arg0: tensor<6xf32>, %arg1: tensor<${idx}>) -> tensor<2xf32> {
    %0 = stablehlo.dynamic_slice %arg0, %arg1, sizes = [2] : (tensor<6xf32>, tensor<${idx}>) -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}`;

const dynamicUpdateSlice = `module {
  func.func public @main(%arg0: tensor<6xf32>, %arg1: tensor<2xf32>, %arg2: tensor<i64>) -> tensor<6xf32> {
    %0 = stablehlo.dynamic_update_slice %arg0, %arg1, %arg2 : (tensor<6xf32>, tensor<2xf32>, tensor<i64>) -> tensor<6xf32>
    return %0 : tensor<6xf32>
  }
}`;

const x = hostTensor('f32', [6], [10, 11, 12, 13, 14, 15]);

async function both(text: string, inputs: HostTensor[]): Promise<number[][]> {
  const m = parseModule(text, 'idx.mlir');
  verifyModule(m);
  const ref = Array.from(interpret(m, inputs)[0].data as Float32Array);
  const d = await gpu();
  const exe = d.compile(m);
  const [out] = d.execute(exe, inputs.map((t) => d.upload(t)));
  const got = Array.from((await d.read(out)).data as Float32Array);
  d.free(out);
  return [ref, got];
}

describe('64-bit start indices', () => {
  const cases: [string, string, bigint, number[]][] = [
    ['i64 2^40 (wraps to 0 as i32): the last window', 'i64', 2n ** 40n, [14, 15]],
    ['i64 2^32 + 1 (wraps to 1 as i32): the last window', 'i64', 2n ** 32n + 1n, [14, 15]],
    ['i64 -2^40: the first window', 'i64', -(2n ** 40n), [10, 11]],
    ['i64 3: in range', 'i64', 3n, [13, 14]],
    ['ui64 2^63 + 2 (negative if read as i64): the last window', 'ui64', 2n ** 63n + 2n, [14, 15]],
    ['ui64 2: in range', 'ui64', 2n, [12, 13]],
  ];
  for (const [name, dtype, index, want] of cases) {
    it(`dynamic_slice, ${name}`, async () => {
      const i = hostTensor(dtype as 'i64' | 'ui64', [], [index]);
      const [ref, got] = await both(dynamicSlice(dtype), [x, i]);
      expect(ref).toEqual(want);
      expect(got).toEqual(want);
    });
  }

  it('dynamic_update_slice, i64 2^32 + 1: the last window', async () => {
    const [ref, got] = await both(dynamicUpdateSlice, [x, hostTensor('f32', [2], [1, 2]), hostTensor('i64', [], [2n ** 32n + 1n])]);
    expect(ref).toEqual([10, 11, 12, 13, 1, 2]);
    expect(got).toEqual([10, 11, 12, 13, 1, 2]);
  });
});
