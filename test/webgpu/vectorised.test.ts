/**
 * @file The vectorised paths of the loop and reduce kernels against the reference interpreter:
 * elementwise chains over vec4s (several outputs, a scalar argument, a non-f32 output, and a
 * length that is not a multiple of 4 falling back to scalars), reductions over rows long enough
 * for the four-at-a-time loop with a remainder, and softmax with rows held in registers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

function randomTensor(shape: number[], seed: number): HostTensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return (s / 0x7fffffff) * 4 - 2; });
  return hostTensor('f32', shape, vals);
}

async function check(text: string, inputs: HostTensor[], kernels?: RegExp): Promise<void> {
  const dev = await gpu();
  const m = parse(text);
  const want = interpret(m, inputs);
  const exe = dev.compile(m);
  if (kernels) expect((exe as unknown as { kernelSources: { wgsl: string }[] }).kernelSources.map((k) => k.wgsl).join('\n')).toMatch(kernels);
  const outs = dev.execute(exe, inputs.map((t) => dev.upload(t)));
  for (const [i, o] of outs.entries()) expect(mismatch(await dev.read(o), want[i], 1e-5, 1e-5), `output ${i}`).toBeUndefined();
}

const chain = (n: number) => `func.func public @main(%x: tensor<${n}xf32>, %y: tensor<${n}xf32>, %s: tensor<f32>) -> (tensor<${n}xf32>, tensor<${n}xi1>) {
  %c = stablehlo.constant dense<0.5> : tensor<f32>
  %cb = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<f32>) -> tensor<${n}xf32>
  %sb = stablehlo.broadcast_in_dim %s, dims = [] : (tensor<f32>) -> tensor<${n}xf32>
  %0 = stablehlo.multiply %x, %sb : tensor<${n}xf32>
  %1 = stablehlo.tanh %0 : tensor<${n}xf32>
  %2 = stablehlo.add %1, %y : tensor<${n}xf32>
  %3 = stablehlo.multiply %2, %cb : tensor<${n}xf32>
  %4 = stablehlo.compare GT, %x, %y, FLOAT : (tensor<${n}xf32>, tensor<${n}xf32>) -> tensor<${n}xi1>
  return %3, %4 : tensor<${n}xf32>, tensor<${n}xi1>
}`;

describe('vectorised kernels', () => {
  it('an elementwise chain over vec4s, with a bool output', async () => {
    await check(chain(1000), [randomTensor([1000], 1), randomTensor([1000], 2), hostTensor('f32', [], [1.5])], /vec4<f32>/);
  });

  it('an elementwise chain whose length is not a multiple of 4', async () => {
    await check(chain(999), [randomTensor([999], 3), randomTensor([999], 4), hostTensor('f32', [], [-0.5])]);
  });

  for (const cols of [1024, 300, 4096]) {
    it(`softmax over rows of ${cols} (row epilogue${cols % 256 === 0 ? ' from registers' : ''})`, async () => {
      const x = `tensor<6x${cols}xf32>`, r = 'tensor<6xf32>', c = 'tensor<6x1xf32>';
      await check(`func.func public @main(%x: ${x}) -> ${x} {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (${x}, tensor<f32>) -> ${r}
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (${r}) -> ${c}
  %2 = stablehlo.broadcast_in_dim %1, dims = [0, 1] : (${c}) -> ${x}
  %3 = stablehlo.subtract %x, %2 : ${x}
  %4 = stablehlo.exponential %3 : ${x}
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %5 = stablehlo.reduce(%4 init: %zero) applies stablehlo.add across dimensions = [1] : (${x}, tensor<f32>) -> ${r}
  %6 = stablehlo.broadcast_in_dim %5, dims = [0] : (${r}) -> ${c}
  %7 = stablehlo.broadcast_in_dim %6, dims = [0, 1] : (${c}) -> ${x}
  %8 = stablehlo.divide %4, %7 : ${x}
  return %8 : ${x}
}`, [randomTensor([6, cols], cols + 1)]);
    });
  }

  it('a full reduction of a large tensor (one row, a wide workgroup)', async () => {
    const t = 'tensor<256x300xf32>';
    await check(`func.func public @main(%x: ${t}) -> tensor<f32> {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0, 1] : (${t}, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}`, [randomTensor([256, 300], 9)]);
  });

  for (const cols of [3000, 1024, 7]) {
    it(`sum and max over rows of ${cols}`, async () => {
      const t = `tensor<5x${cols}xf32>`;
      await check(`func.func public @main(%x: ${t}) -> (tensor<5xf32>, tensor<5xf32>) {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %m = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (${t}, tensor<f32>) -> tensor<5xf32>
  %1 = stablehlo.reduce(%x init: %m) applies stablehlo.maximum across dimensions = [1] : (${t}, tensor<f32>) -> tensor<5xf32>
  return %0, %1 : tensor<5xf32>, tensor<5xf32>
}`, [randomTensor([5, cols], cols)]);
    });
  }
});
