/**
 * @file `dot_general` of f16 operands with an f32 result (JAX's `preferred_element_type=f32`):
 * verified, and run on the reference interpreter and WebGPU with f32 accumulation and one f32
 * rounding. The sums below are exact in f32 but not representable in f16 (2051, 4097.5), so an
 * f16 accumulator or an f16 result would be caught.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { requireF16 } from '../helpers/devices.js';
import { VerifyError } from '../../ir/errors.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const TEXT = `func.func @main(%a: tensor<2x4xf16>, %b: tensor<4x3xf16>) -> tensor<2x3xf32> {
  %r = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<2x4xf16>, tensor<4x3xf16>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}`;
const A = [2048, 1, 1, 1, 4096, 0.5, 0.5, 0.5];
const B = [1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 2, 0];
// Row 0: [2048+1+1+1, 2048+1+0+2, 0+0+1+0] ; row 1: [4096+0.5+0.5+0.5, 4096+0.5+0+1, 0+0+0.5+0]
const WANT = [2051, 2051, 1, 4097.5, 4097.5, 0.5];

describe('dot_general f16 x f16 -> f32', () => {
  it('verifies, and the reference interpreter accumulates in f32', () => {
    const m = parse(TEXT);
    verifyModule(m);
    const [r] = interpret(m, [hostTensor('f16', [2, 4], A), hostTensor('f16', [4, 3], B)]);
    expect(r.dtype).toBe('f32');
    expect(Array.from(r.data as Float32Array)).toEqual(WANT);
  });

  it('refuses other widenings (i32 operands with an f32 result)', () => {
    const m = parse(TEXT.replaceAll('f16', 'i32'));
    expect(() => verifyModule(m)).toThrow(VerifyError);
  });

  it('runs on WebGPU with the same results', async (ctx) => {
    const d = await gpu();
    requireF16(d.target.f16, ctx);
    const m = parse(TEXT);
    const exe = d.compile(m);
    const [o] = d.execute(exe, [d.upload(hostTensor('f16', [2, 4], A)), d.upload(hostTensor('f16', [4, 3], B))]);
    const r = await d.read(o);
    expect(r.dtype).toBe('f32');
    expect(Array.from(r.data as Float32Array)).toEqual(WANT);
    d.free(o);
  });
});
