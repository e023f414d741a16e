/**
 * @file Reductions whose workgroup combine uses subgroup operations (the adapter's `subgroups`
 * feature; lavapipe has it) against the reference interpreter, and the same programs on a device
 * opened with the feature turned off (the workgroup-memory tree): sums, products, float max and
 * min with NaN, integer min and max, rows shorter than the workgroup, a non-identity init, a
 * whole-tensor reduction, softmax's row epilogue, and a variadic argmax that keeps the tree.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { createWebGPUDevice, type WebGPUDevice } from '../../runtime/webgpu/device.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

let plainDev: Promise<WebGPUDevice> | undefined;
/** A second device without subgroups, to run the fallback path on the same adapter. */
function plain(): Promise<WebGPUDevice> {
  plainDev ??= createWebGPUDevice({ disableFeatures: ['subgroups'] });
  return plainDev;
}

afterAll(async () => {
  await closeGpu();
  (await plainDev?.catch(() => undefined))?.destroy();
});

function data(n: number, seed: number, int = false): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const u = s / 0x7fffffff;
    return int ? Math.floor(u * 2000) - 1000 : u * 4 - 2;
  });
}

const reduceText = (op: string, ty: string, rows: number, cols: number, init: string) => `func.func public @main(%x: tensor<${rows}x${cols}x${ty}>) -> tensor<${rows}x${ty}> {
  %i = stablehlo.constant dense<${init}> : tensor<${ty}>
  %0 = stablehlo.reduce(%x init: %i) applies stablehlo.${op} across dimensions = [1] : (tensor<${rows}x${cols}x${ty}>, tensor<${ty}>) -> tensor<${rows}x${ty}>
  return %0 : tensor<${rows}x${ty}>
}`;

async function runOn(dev: WebGPUDevice, text: string, inputs: HostTensor[]): Promise<{ outs: HostTensor[]; wgsl: string }> {
  const exe = dev.compile(parse(text));
  const outs = dev.execute(exe, inputs.map((t) => dev.upload(t)));
  return { outs: await Promise.all(outs.map((o) => dev.read(o))), wgsl: (exe.kernelSources ?? []).map((k) => k.wgsl).join('\n') };
}

/** Runs on both devices, checks both against the interpreter; returns whether subgroups were used. */
async function check(text: string, inputs: HostTensor[], rtol = 1e-5): Promise<boolean> {
  const want = interpret(parse(text), inputs);
  const on = await runOn(await gpu(), text, inputs);
  const off = await runOn(await plain(), text, inputs);
  expect(off.wgsl).not.toMatch(/subgroup/);
  for (const r of [on, off]) {
    for (const [i, o] of r.outs.entries()) expect(mismatch(o, want[i], rtol, 1e-5), `output ${i}`).toBeUndefined();
  }
  return /subgroup(Add|Mul|Max|Min)/.test(on.wgsl);
}

describe('subgroup reductions', () => {
  it('the adapter has subgroups and the fallback device does not', async () => {
    expect((await gpu()).target.subgroups).toBe(true);
    expect((await plain()).target.subgroups).toBe(false);
  });

  it.each([
    ['add', 8, 1000, '0.0'], ['add', 3, 77, '0.0'], ['add', 5, 3, '0.0'], ['add', 4, 4096, '1.5'],
    ['multiply', 6, 40, '1.0'], ['maximum', 7, 300, '0xFF800000'], ['minimum', 7, 300, '0x7F800000'],
  ])('f32 %s over %i rows of %i (init %s)', async (op, rows, cols, init) => {
    const xs = data(rows * cols, rows + cols).map((v) => (op === 'multiply' ? 1 + v / 50 : v));
    expect(await check(reduceText(op, 'f32', rows, cols, init), [hostTensor('f32', [rows, cols], xs)], 1e-4)).toBe(true);
  });

  it('propagates a NaN through max and min', async () => {
    const xs = data(4 * 200, 9);
    xs[1 * 200 + 77] = NaN;
    xs[3 * 200 + 5] = NaN;
    for (const [op, init] of [['maximum', '0xFF800000'], ['minimum', '0x7F800000']]) {
      const text = reduceText(op, 'f32', 4, 200, init);
      const want = interpret(parse(text), [hostTensor('f32', [4, 200], xs)])[0];
      expect(Number.isNaN(want.data[1]) && Number.isNaN(want.data[3])).toBe(true);
      expect(await check(text, [hostTensor('f32', [4, 200], xs)])).toBe(true);
    }
  });

  it.each([['maximum', '-2147483648'], ['minimum', '2147483647'], ['add', '7']])('i32 %s', async (op, init) => {
    const xs = data(5 * 333, 3, true);
    expect(await check(reduceText(op, 'i32', 5, 333, init), [hostTensor('i32', [5, 333], xs)])).toBe(true);
  });

  it('a whole-tensor sum on a long row', async () => {
    const text = `func.func public @main(%x: tensor<300x700xf32>) -> tensor<f32> {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0, 1] : (tensor<300x700xf32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}`;
    expect(await check(text, [hostTensor('f32', [300, 700], data(300 * 700, 4))], 1e-4)).toBe(true);
  });

  it('softmax (row epilogue after the subgroup combine)', async () => {
    const x = 'tensor<16x1024xf32>', r = 'tensor<16xf32>';
    const text = `func.func public @main(%x: ${x}) -> ${x} {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (${x}, tensor<f32>) -> ${r}
  %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (${r}) -> ${x}
  %2 = stablehlo.subtract %x, %1 : ${x}
  %3 = stablehlo.exponential %2 : ${x}
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %4 = stablehlo.reduce(%3 init: %z) applies stablehlo.add across dimensions = [1] : (${x}, tensor<f32>) -> ${r}
  %5 = stablehlo.broadcast_in_dim %4, dims = [0] : (${r}) -> ${x}
  %6 = stablehlo.divide %3, %5 : ${x}
  return %6 : ${x}
}`;
    expect(await check(text, [hostTensor('f32', [16, 1024], data(16 * 1024, 5))])).toBe(true);
  });

  it('a variadic argmax keeps the workgroup-memory tree', async () => {
    const text = `func.func public @main(%x: tensor<6x500xf32>, %ix: tensor<6x500xi32>) -> (tensor<6xf32>, tensor<6xi32>) {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %z = stablehlo.constant dense<0> : tensor<i32>
  %0:2 = stablehlo.reduce(%x init: %ninf), (%ix init: %z) across dimensions = [1] : (tensor<6x500xf32>, tensor<6x500xi32>, tensor<f32>, tensor<i32>) -> (tensor<6xf32>, tensor<6xi32>)
    reducer(%a: tensor<f32>, %c: tensor<f32>) (%b: tensor<i32>, %d: tensor<i32>) {
      %g = stablehlo.compare GE, %a, %c, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %m = stablehlo.select %g, %a, %c : tensor<i1>, tensor<f32>
      %i = stablehlo.select %g, %b, %d : tensor<i1>, tensor<i32>
      stablehlo.return %m, %i : tensor<f32>, tensor<i32>
    }
  return %0#0, %0#1 : tensor<6xf32>, tensor<6xi32>
}`;
    const idx = Array.from({ length: 3000 }, (_, i) => i % 500);
    expect(await check(text, [hostTensor('f32', [6, 500], data(3000, 6)), hostTensor('i32', [6, 500], idx)])).toBe(false);
  });
});
