/**
 * @file bf16 inside programs (compiler/passes/bf16.ts): values held as f32 words rounded to bf16
 * after every op (round to nearest even, NaN kept, overflow to infinity), on the reference
 * interpreter and on WebGPU. Expected values are worked out by hand from bf16's 8 significant
 * bits (ulp 2^-7 on [1, 2)), or are JAX's own outputs (bf16_matmul, compared bit for bit).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { fromBytes, hostTensor, toBytes, type HostTensor } from '../../runtime/tensor.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { bf16BitsToF32, f32ToBf16Bits } from '../../ir/dtype.js';
import { loadProgram } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const f32 = (shape: number[], xs: number[]): HostTensor => ({ dtype: 'f32', shape, data: new Float32Array(xs) });

/** Runs `text` on both devices and returns [reference outputs, webgpu outputs] as plain arrays. */
async function both(text: string, inputs: HostTensor[]): Promise<number[][][]> {
  const m = parse(text, 'bf16.mlir');
  verifyModule(m);
  const ref = interpret(m, inputs).map((t) => Array.from(t.data as Float32Array));
  const d = await gpu();
  const outs = d.execute(d.compile(m), inputs.map((t) => d.upload(t)));
  const got = (await Promise.all(outs.map((o) => d.read(o)))).map((t) => Array.from(t.data as Float32Array));
  outs.forEach((o) => d.free(o));
  return [ref, got];
}

const E = 2 ** -8; // half an ulp of bf16 at 1

describe('bf16 emulated in f32, rounded after every op', () => {
  it('f32 -> bf16 -> f32 rounds to nearest even, keeps NaN, -0 and infinities, overflows to infinity', async () => {
    const xs = [1 + E, 1 + 3 * E, 1 + E + 2 ** -20, -(1 + 3 * E), NaN, -0, Infinity, 3.4e38, 2 ** -126, 255.5, 0.1];
    // 1+E is a tie -> even (1); 1+3E a tie -> even (1+2^-6); just above a tie rounds up; 3.4e38 is
    // past bf16's largest finite value (0x7f7f = 3.3895e38) by more than half an ulp; 255.5 needs 9 bits
    // -> 256 (a tie, to even); 0.1 -> 0x3dcd = 0.10009765625.
    const want = [1, 1 + 2 ** -6, 1 + 2 ** -7, -(1 + 2 ** -6), NaN, -0, Infinity, Infinity, 2 ** -126, 256, 0.10009765625];
    const text = `module @m {
  func.func public @main(%arg0: tensor<11xf32>) -> tensor<11xf32> {
    %0 = stablehlo.convert %arg0 : (tensor<11xf32>) -> tensor<11xbf16>
    %1 = stablehlo.convert %0 : (tensor<11xbf16>) -> tensor<11xf32>
    return %1 : tensor<11xf32>
  }
}`;
    for (const out of await both(text, [f32([11], xs)])) {
      expect(out[0]).toEqual(want);
      expect(Object.is(out[0][5], -0)).toBe(true);
    }
  });

  it('each add rounds: (1 + e) + e stays 1 in bf16, where one rounding of the f32 sum gives 1 + 2^-7', async () => {
    const text = `module @m {
  func.func public @main(%arg0: tensor<2xf32>, %arg1: tensor<2xf32>) -> (tensor<2xf32>, tensor<f32>) {
    %0 = stablehlo.convert %arg0 : (tensor<2xf32>) -> tensor<2xbf16>
    %1 = stablehlo.convert %arg1 : (tensor<2xf32>) -> tensor<2xbf16>
    %2 = stablehlo.add %0, %1 : tensor<2xbf16>
    %3 = stablehlo.add %2, %1 : tensor<2xbf16>
    %4 = stablehlo.convert %3 : (tensor<2xbf16>) -> tensor<2xf32>
    %cst = stablehlo.constant dense<0.0> : tensor<bf16>
    %5 = stablehlo.reduce(%3 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<2xbf16>, tensor<bf16>) -> tensor<bf16>
    %6 = stablehlo.convert %5 : (tensor<bf16>) -> tensor<f32>
    return %4, %6 : tensor<2xf32>, tensor<f32>
  }
}`;
    // Row 2: 3 + 0.25 = 3.25 (exact), + 0.25 = 3.5. The sum 1 + 3.5 = 4.5 is exact in bf16.
    for (const [sums, total] of await both(text, [f32([2], [1, 3]), f32([2], [E, 0.25])])) {
      expect(sums).toEqual([1, 3.5]);
      expect(total).toEqual([4.5]);
    }
  });

  it('a reduction rounds after every step; a bf16 dot_general rounds its f32 sum once', async () => {
    const text = `module @m {
  func.func public @main(%arg0: tensor<2xf32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
    %0 = stablehlo.convert %arg0 : (tensor<2xf32>) -> tensor<2xbf16>
    %cst = stablehlo.constant dense<0.0> : tensor<bf16>
    %1 = stablehlo.reduce(%0 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<2xbf16>, tensor<bf16>) -> tensor<bf16>
    %2 = stablehlo.convert %1 : (tensor<bf16>) -> tensor<f32>
    %3 = stablehlo.dot_general %0, %0, contracting_dims = [0] x [0] : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<bf16>
    %4 = stablehlo.convert %3 : (tensor<bf16>) -> tensor<f32>
    %5 = stablehlo.dot_general %0, %0, contracting_dims = [0] x [0] : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<f32>
    return %2, %4, %5 : tensor<f32>, tensor<f32>, tensor<f32>
  }
}`;
    // Sum of [1, e] in any order: 1 + e is a tie and rounds to even, 1 (f32 would keep 1 + 2^-8).
    // Dot: 1 + e^2 = 1 + 2^-16 in f32, rounded once to bf16: 1; with an f32 result it stays.
    for (const [sum, dot, dotF32] of await both(text, [f32([2], [1, E])])) {
      expect(sum).toEqual([1]);
      expect(dot).toEqual([1]);
      expect(dotF32).toEqual([1 + 2 ** -16]);
    }
  });

  it("JAX's bf16_matmul (bf16 operands and result) matches bit for bit", async () => {
    const { text, inputs, outputs } = loadProgram(join(import.meta.dirname, '../fixtures/jax-programs'), 'bf16_matmul.mlir');
    for (const out of await both(text, inputs)) expect(out[0]).toEqual(Array.from(outputs[0].data as Float32Array));
  });

  it('bf16 arguments and results of @main: host arrays in, each add rounded, bf16 host arrays out (both devices and the reference device)', async () => {
    const text = `module @m {
  func.func public @main(%arg0: tensor<3xbf16>, %arg1: tensor<3xbf16>) -> (tensor<3xbf16>, tensor<3xf32>) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<3xbf16>
    %1 = stablehlo.convert %arg0 : (tensor<3xbf16>) -> tensor<3xf32>
    return %0, %1 : tensor<3xbf16>, tensor<3xf32>
  }
}`;
    const m = parse(text, 'arg.mlir');
    verifyModule(m);
    // 1 + 2^-7 is bf16; + 1 is 2 + 2^-7, halfway between 2 and 2 + 2^-6: to even, 2. 3.14159 is
    // not bf16: hostTensor rounds it to 3.140625 (0x4049).
    const x = hostTensor('bf16', [3], [1 + 2 ** -7, 3.14159, -2]);
    const y = hostTensor('bf16', [3], [1, 0, 0.5]);
    expect(Array.from(x.data as Float32Array)).toEqual([1 + 2 ** -7, 3.140625, -2]);
    const want = [2, 3.140625, -1.5];
    const check = (outs: HostTensor[]) => {
      expect(outs.map((t) => t.dtype)).toEqual(['bf16', 'f32']);
      expect(Array.from(outs[0].data as Float32Array)).toEqual(want);
      expect(Array.from(outs[1].data as Float32Array)).toEqual([1 + 2 ** -7, 3.140625, -2]);
    };
    check(interpret(m, [x, y]));
    for (const d of [await gpu(), new ReferenceDevice()]) {
      const outs = d.execute(d.compile(m), [d.upload(x), d.upload(y)]);
      check(await Promise.all(outs.map((o) => d.read(o))));
      outs.forEach((o) => d.free(o));
    }
    // An f32 array where @main takes bf16 is refused, naming the argument.
    expect(() => interpret(m, [f32([3], [1, 2, 3]), y])).toThrow(/^arg\.mlir:2:3: @main argument 0 is tensor<3xbf16>, got tensor<3xf32>$/);
    for (const d of [await gpu(), new ReferenceDevice()]) {
      expect(() => d.execute(d.compile(m), [d.upload(f32([3], [1, 2, 3])), d.upload(y)])).toThrow(/input 0( is tensor<3xf32>, the program takes tensor<3xbf16>|: expected tensor<3xbf16>, got tensor<3xf32>)/);
    }
  });

  it('bf16 host arrays on the wire are 16-bit words: the top half of the f32, rounded to nearest even', () => {
    const t = hostTensor('bf16', [4], [1, 3.140625, -0, Infinity]);
    expect(Array.from(new Uint16Array(toBytes(t).buffer))).toEqual([0x3f80, 0x4049, 0x8000, 0x7f80]);
    const back = fromBytes('bf16', [4], toBytes(t));
    expect(back.dtype).toBe('bf16');
    expect(Array.from(back.data as Float32Array)).toEqual([1, 3.140625, -0, Infinity]);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // halfway: to even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -9)).toBe(0x3f81);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
    expect(() => fromBytes('bf16', [4], new Uint8Array(6))).toThrow(/bf16\[4\] needs 8 bytes, got 6/);
  });

  it('refuses bitcasts of bf16, naming them', async () => {
    const cast = parse(`module @m {
  func.func public @main(%arg0: tensor<2xf16>) -> tensor<2xf32> {
    %0 = stablehlo.bitcast_convert %arg0 : (tensor<2xf16>) -> tensor<2xbf16>
    %1 = stablehlo.convert %0 : (tensor<2xbf16>) -> tensor<2xf32>
    return %1 : tensor<2xf32>
  }
}`, 'cast.mlir');
    verifyModule(cast);
    expect(() => interpret(cast, [{ dtype: 'f16', shape: [2], data: new Float32Array(2) }]))
      .toThrow(/^cast\.mlir:3:10: stablehlo\.bitcast_convert: tensor<2xf16> to tensor<2xbf16>: kiln holds bf16 as rounded f32 words/);
  });
});
