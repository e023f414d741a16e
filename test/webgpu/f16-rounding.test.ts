/**
 * @file f32 -> f16 rounding inside a kernel (the `k_f16r` helper), where no f16 buffer does the
 * rounding: convert to f16 and back within one fused kernel, and an f16 x f16 -> f32 product whose
 * operands are converted in its tile loads (Mesa's lavapipe folded the former pack/unpack rounding
 * away, so that product used its f32 inputs unrounded). Expected values: the reference's f16
 * conversion (ties to even, overflow to inf, subnormals).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';
import { requireF16 } from '../helpers/devices.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const EDGES = [
  0, -0, 1, -1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20, 65504, 65519.996, 65520, -65520, 1e6,
  2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -24, 1.5 * 2 ** -24, 2.5 * 2 ** -24, 2 ** -25, 2 ** -25 + 2 ** -40, 2 ** -26, 1e-10, -3e-8,
  Math.PI, -Math.E, 1234.5678, 2049, 2051, Infinity, -Infinity, NaN,
];

describe('f16 rounding in registers', () => {
  it('convert f32 -> f16 -> f32 rounds ties to even, overflows to inf, keeps subnormals, NaN and signs', async (ctx) => {
    const dev = await gpu();
    requireF16(dev.target.f16, ctx);
    const n = EDGES.length;
    const text = `func.func public @main(%x: tensor<${n}xf32>) -> tensor<${n}xf32> {
  %h = stablehlo.convert %x : (tensor<${n}xf32>) -> tensor<${n}xf16>
  %y = stablehlo.convert %h : (tensor<${n}xf16>) -> tensor<${n}xf32>
  return %y : tensor<${n}xf32>
}`;
    const x = hostTensor('f32', [n], EDGES);
    const want = interpret(parse(text), [x])[0].data as Float32Array;
    const got = (await dev.read(dev.execute(dev.compile(parse(text)), [dev.upload(x)])[0])).data as Float32Array;
    for (let i = 0; i < n; i++) expect(Object.is(got[i], want[i]) || got[i] === want[i], `${EDGES[i]}: got ${got[i]}, want ${want[i]}`).toBe(true);
    // The reference itself: spot checks against the IEEE rules.
    expect([want[4], want[5], want[9], want[17], want[15]]).toEqual([1, 1 + 4 * 2 ** -11, Infinity, 0, 2 * 2 ** -24]);
  });

  it('an f16 x f16 -> f32 product of converted f32 inputs uses the rounded inputs', async (ctx) => {
    const dev = await gpu();
    requireF16(dev.target.f16, ctx);
    const text = `func.func public @main(%a: tensor<3x5xf32>, %b: tensor<5x2xf32>) -> tensor<3x2xf32> {
  %ah = stablehlo.convert %a : (tensor<3x5xf32>) -> tensor<3x5xf16>
  %bh = stablehlo.convert %b : (tensor<5x2xf32>) -> tensor<5x2xf16>
  %d = stablehlo.dot_general %ah, %bh, contracting_dims = [1] x [0] : (tensor<3x5xf16>, tensor<5x2xf16>) -> tensor<3x2xf32>
  return %d : tensor<3x2xf32>
}`;
    const a = hostTensor('f32', [3, 5], Array.from({ length: 15 }, (_, i) => 1 / (i + 3)));
    const b = hostTensor('f32', [5, 2], Array.from({ length: 10 }, (_, i) => Math.sqrt(i + 2)));
    const want = interpret(parse(text), [a, b])[0].data as Float32Array;
    const got = (await dev.read(dev.execute(dev.compile(parse(text)), [dev.upload(a), dev.upload(b)])[0])).data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6 * Math.abs(want[i]));
  });
});
