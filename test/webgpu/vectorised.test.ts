/**
 * @file The vectorised paths of the loop and reduce kernels against the reference interpreter:
 * elementwise chains over vec4s (several outputs, a scalar argument, a non-f32 output, and a
 * length that is not a multiple of 4 falling back to scalars), reductions over rows long enough
 * for the four-at-a-time loop with a remainder, and softmax with rows held in registers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setVectorLoopWorkgroupCap } from '../../compiler/codegen/group.js';
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

function intTensor(dtype: 'i32' | 'ui32', shape: number[], seed: number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor(dtype, shape, Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 201) - (dtype === 'i32' ? 100 : 0)));
}

async function check(text: string, inputs: HostTensor[], kernels?: RegExp, notKernels?: RegExp, tol = 1e-5): Promise<void> {
  const dev = await gpu();
  const m = parse(text);
  const want = interpret(m, inputs);
  const exe = dev.compile(m);
  const wgsl = (exe as unknown as { kernelSources: { wgsl: string }[] }).kernelSources.map((k) => k.wgsl).join('\n');
  if (kernels) expect(wgsl).toMatch(kernels);
  if (notKernels) expect(wgsl).not.toMatch(notKernels);
  const outs = dev.execute(exe, inputs.map((t) => dev.upload(t)));
  for (const [i, o] of outs.entries()) expect(mismatch(await dev.read(o), want[i], tol, tol), `output ${i}`).toBeUndefined();
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

  for (const n of [999, 6, 1029, 3]) {
    it(`an elementwise chain of length ${n} (${n < 4 ? 'scalar kernel' : 'vec4s and a scalar tail'})`, async () => {
      const vec = n < 4 ? undefined : /array<vec4<f32>>[^]*if \(gid\.x < params\.tail\)/;
      await check(chain(n), [randomTensor([n], 3 + n), randomTensor([n], 4 + n), hostTensor('f32', [], [-0.5])], vec);
    });
  }

  // Several grid-stride trips (2 vec4s each), a last trip with one vec4 out of range, and the tail.
  for (const n of [4 * 256 * 4 * 3 + 4 * 256 * 2 + 7, 4 * 256 * 4 * 2]) {
    it(`an elementwise chain of ${n} on one capped workgroup (several grid-stride trips)`, async () => {
      setVectorLoopWorkgroupCap(1);
      try {
        await check(chain(n), [randomTensor([n], 5), randomTensor([n], 6), hostTensor('f32', [], [0.75])], /i \+= 2u \* stride/);
      } finally {
        setVectorLoopWorkgroupCap(undefined);
      }
    });
  }

  // i32 and ui32 inputs on vec4<i32>/vec4<u32> views, f32/i32/ui32/bool outputs; 1001 stores by element.
  for (const n of [1000, 1001]) {
    it(`mixed dtypes over vec4s, length ${n}`, async () => {
      const f = `tensor<${n}xf32>`, i = `tensor<${n}xi32>`, u = `tensor<${n}xui32>`, b = `tensor<${n}xi1>`;
      await check(`func.func public @main(%x: ${f}, %a: ${i}, %u: ${u}, %p: ${b}) -> (${f}, ${i}, ${u}, ${b}) {
  %c = stablehlo.constant dense<3> : tensor<i32>
  %cb = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i32>) -> ${i}
  %0 = stablehlo.multiply %a, %cb : ${i}
  %1 = stablehlo.convert %0 : (${i}) -> ${f}
  %2 = stablehlo.add %1, %x : ${f}
  %3 = stablehlo.select %p, %2, %x : ${b}, ${f}
  %4 = stablehlo.add %u, %u : ${u}
  %5 = stablehlo.convert %a : (${i}) -> ${u}
  %6 = stablehlo.xor %4, %5 : ${u}
  %7 = stablehlo.compare LT, %0, %cb, SIGNED : (${i}, ${i}) -> ${b}
  %8 = stablehlo.and %7, %p : ${b}
  return %3, %0, %6, %8 : ${f}, ${i}, ${u}, ${b}
}`, [randomTensor([n], 7), intTensor('i32', [n], 1), intTensor('ui32', [n], 2), hostTensor('i1', [n], Array.from({ length: n }, (_, k) => (k % 3 === 0 ? 1 : 0)))],
      /array<vec4<i32>>[^]*array<vec4<u32>>/);
    });
  }

  // f16 on vec4<f16> views (8-byte loads; lavapipe has shader-f16, and an adapter without it fails
  // this test with the compiler's f16 error rather than skipping it).
  for (const n of [1000, 1002]) {
    it(`f16 and f32 operands and outputs over vec4s, length ${n}`, async () => {
      const h = `tensor<${n}xf16>`, f = `tensor<${n}xf32>`;
      const half = (seed: number) => { const t = randomTensor([n], seed); return hostTensor('f16', [n], Array.from(t.data as Float32Array)); };
      await check(`func.func public @main(%a: ${h}, %b: ${h}, %x: ${f}) -> (${h}, ${f}) {
  %c = stablehlo.constant dense<0.5> : tensor<f16>
  %cb = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<f16>) -> ${h}
  %0 = stablehlo.multiply %a, %cb : ${h}
  %1 = stablehlo.add %0, %b : ${h}
  %2 = stablehlo.convert %1 : (${h}) -> ${f}
  %3 = stablehlo.multiply %2, %x : ${f}
  return %1, %3 : ${h}, ${f}
}`, [half(12), half(13), randomTensor([n], 14)], /array<vec4<f16>>/, undefined, 2e-3);
    });
  }

  it('a 2-D chain with scalar operands: vec4s and no division or modulo', async () => {
    const t = 'tensor<6x7xf32>';
    await check(`func.func public @main(%x: ${t}, %y: ${t}, %s: tensor<f32>) -> ${t} {
  %sb = stablehlo.broadcast_in_dim %s, dims = [] : (tensor<f32>) -> ${t}
  %0 = stablehlo.multiply %x, %sb : ${t}
  %1 = stablehlo.add %0, %y : ${t}
  %2 = stablehlo.maximum %1, %x : ${t}
  return %2 : ${t}
}`, [randomTensor([6, 7], 8), randomTensor([6, 7], 9), hostTensor('f32', [], [2.5])], /vec4<f32>/, / \/ |%/);
  });

  it('a broadcast row operand keeps the element-wise path (coordinates from the flat index)', async () => {
    const t = 'tensor<7x5xf32>';
    await check(`func.func public @main(%x: ${t}, %r: tensor<5xf32>) -> ${t} {
  %rb = stablehlo.broadcast_in_dim %r, dims = [1] : (tensor<5xf32>) -> ${t}
  %0 = stablehlo.subtract %x, %rb : ${t}
  %1 = stablehlo.exponential %0 : ${t}
  return %1 : ${t}
}`, [randomTensor([7, 5], 10), randomTensor([5], 11)], /%/, /vec4/);
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
