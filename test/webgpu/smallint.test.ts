/**
 * @file 8- and 16-bit integers (compiler/passes/smallint.ts) on the reference interpreter and on
 * WebGPU: two's-complement wrap after add, subtract, multiply; converts that truncate bits or
 * truncate floats toward zero; a ui8 sum that wraps. Expected values are exact integer arithmetic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyModule } from '../../ir/verify.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { fromBytes, hostTensor, toBytes, type HostTensor } from '../../runtime/tensor.js';
import { decodeTensor, encodeTensor } from '../../runtime/wire.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

/** Runs `text` on both devices; returns [reference outputs, webgpu outputs] as dtype + numbers. */
async function both(text: string, inputs: HostTensor[]): Promise<{ dtype: string; data: number[] }[][]> {
  const m = parse(text, 'smallint.mlir');
  verifyModule(m);
  const plain = (t: HostTensor) => ({ dtype: t.dtype, data: Array.from(t.data as ArrayLike<number>) });
  const ref = interpret(m, inputs).map(plain);
  const d = await gpu();
  const outs = d.execute(d.compile(m), inputs.map((t) => d.upload(t)));
  const got = (await Promise.all(outs.map((o) => d.read(o)))).map(plain);
  outs.forEach((o) => d.free(o));
  return [ref, got];
}

describe('i8, ui8, i16, ui16 wrap as two\'s complement', () => {
  it('add, subtract and multiply wrap: 200+100 in ui8 = 44, -128-1 in i8 = 127, 127*2 in i8 = -2, 30000+30000 in i16 = -5536', async () => {
    const text = `module @m {
  func.func public @main(%a: tensor<2xui8>, %b: tensor<2xui8>, %c: tensor<2xi8>, %d: tensor<2xi8>, %e: tensor<2xi16>) -> (tensor<2xui8>, tensor<2xi8>, tensor<2xi8>, tensor<2xi16>, tensor<2xui16>) {
    %0 = stablehlo.add %a, %b : tensor<2xui8>
    %1 = stablehlo.subtract %c, %d : tensor<2xi8>
    %2 = stablehlo.multiply %c, %d : tensor<2xi8>
    %3 = stablehlo.add %e, %e : tensor<2xi16>
    %k = stablehlo.constant dense<[65535, 1]> : tensor<2xui16>
    %4 = stablehlo.add %k, %k : tensor<2xui16>
    return %0, %1, %2, %3, %4 : tensor<2xui8>, tensor<2xi8>, tensor<2xi8>, tensor<2xi16>, tensor<2xui16>
  }
}`;
    const inputs = [
      hostTensor('ui8', [2], [200, 255]), hostTensor('ui8', [2], [100, 1]),
      hostTensor('i8', [2], [-128, 127]), hostTensor('i8', [2], [1, 2]), hostTensor('i16', [2], [30000, -20000]),
    ];
    for (const outs of await both(text, inputs)) {
      expect(outs).toEqual([
        { dtype: 'ui8', data: [44, 0] },
        { dtype: 'i8', data: [127, 125] },
        { dtype: 'i8', data: [-128, -2] },
        { dtype: 'i16', data: [-5536, 25536] },
        { dtype: 'ui16', data: [65534, 2] },
      ]);
    }
  });

  it('converts: f32 2.9 -> 2, -2.9 -> -2, 300.0 saturates to 127; i32 300 -> ui8 44; ui8 200 -> i8 -56; i8 -56 -> ui32 wraps; bitcast ui8 200 -> i8 -56', async () => {
    const text = `module @m {
  func.func public @main(%f: tensor<3xf32>, %i: tensor<3xi32>, %u: tensor<3xui8>) -> (tensor<3xi8>, tensor<3xui8>, tensor<3xi8>, tensor<3xui32>, tensor<3xi8>, tensor<3xf32>) {
    %0 = stablehlo.convert %f : (tensor<3xf32>) -> tensor<3xi8>
    %1 = stablehlo.convert %i : (tensor<3xi32>) -> tensor<3xui8>
    %2 = stablehlo.convert %u : (tensor<3xui8>) -> tensor<3xi8>
    %3 = stablehlo.convert %2 : (tensor<3xi8>) -> tensor<3xui32>
    %4 = stablehlo.bitcast_convert %u : (tensor<3xui8>) -> tensor<3xi8>
    %5 = stablehlo.convert %u : (tensor<3xui8>) -> tensor<3xf32>
    return %0, %1, %2, %3, %4, %5 : tensor<3xi8>, tensor<3xui8>, tensor<3xi8>, tensor<3xui32>, tensor<3xi8>, tensor<3xf32>
  }
}`;
    const inputs = [hostTensor('f32', [3], [2.9, -2.9, 300]), hostTensor('i32', [3], [300, -1, 255]), hostTensor('ui8', [3], [200, 127, 128])];
    for (const outs of await both(text, inputs)) {
      expect(outs).toEqual([
        { dtype: 'i8', data: [2, -2, 127] },
        { dtype: 'ui8', data: [44, 255, 255] },
        { dtype: 'i8', data: [-56, 127, -128] },
        { dtype: 'ui32', data: [4294967240, 127, 4294967168] },
        { dtype: 'i8', data: [-56, 127, -128] },
        { dtype: 'f32', data: [200, 127, 128] },
      ]);
    }
  });

  it('a ui8 sum wraps (200 + 100 + 10 = 54); max, compare and shifts read the narrow bits', async () => {
    const text = `module @m {
  func.func public @main(%a: tensor<3xui8>, %b: tensor<3xi8>) -> (tensor<ui8>, tensor<i8>, tensor<3xi1>, tensor<3xi8>, tensor<3xi8>) {
    %z = stablehlo.constant dense<0> : tensor<ui8>
    %0 = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xui8>, tensor<ui8>) -> tensor<ui8>
    %m = stablehlo.constant dense<-128> : tensor<i8>
    %1 = stablehlo.reduce(%b init: %m) applies stablehlo.maximum across dimensions = [0] : (tensor<3xi8>, tensor<i8>) -> tensor<i8>
    %one = stablehlo.constant dense<1> : tensor<3xi8>
    %b2 = stablehlo.negate %b : tensor<3xi8>
    %2 = stablehlo.compare GT, %b, %b2, SIGNED : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
    %3 = stablehlo.shift_right_logical %b, %one : tensor<3xi8>
    %4 = stablehlo.shift_left %b, %one : tensor<3xi8>
    return %0, %1, %2, %3, %4 : tensor<ui8>, tensor<i8>, tensor<3xi1>, tensor<3xi8>, tensor<3xi8>
  }
}`;
    const inputs = [hostTensor('ui8', [3], [200, 100, 10]), hostTensor('i8', [3], [-1, -128, 100])];
    for (const outs of await both(text, inputs)) {
      expect(outs).toEqual([
        { dtype: 'ui8', data: [54] },
        { dtype: 'i8', data: [100] },
        // -(-128) wraps to -128, so -128 > -128 is false; -1 > 1 false; 100 > -100 true.
        { dtype: 'i1', data: [0, 0, 1] },
        // logical shift of the 8-bit pattern: 0xff >> 1 = 127, 0x80 >> 1 = 64, 100 >> 1 = 50.
        { dtype: 'i8', data: [127, 64, 50] },
        { dtype: 'i8', data: [-2, 0, -56] },
      ]);
    }
  });
});

describe('i8 and ui8 ops that read the narrow bits or need a wrap', () => {
  it('divide -128 / -1 = -128; popcnt and clz of i8; shift_right_arithmetic of ui8; iota wraps; sort; dot_general wraps', async () => {
    const text = `module @m {
  func.func public @main(%a: tensor<3xi8>, %b: tensor<3xi8>, %u: tensor<3xui8>, %m: tensor<2x2xi8>) -> (tensor<3xi8>, tensor<3xi8>, tensor<3xi8>, tensor<3xui8>, tensor<260xui8>, tensor<3xi8>, tensor<2x2xi8>) {
    %0 = stablehlo.divide %a, %b : tensor<3xi8>
    %1 = stablehlo.popcnt %a : tensor<3xi8>
    %2 = stablehlo.count_leading_zeros %a : tensor<3xi8>
    %one = stablehlo.constant dense<1> : tensor<3xui8>
    %3 = stablehlo.shift_right_arithmetic %u, %one : tensor<3xui8>
    %4 = stablehlo.iota dim = 0 : tensor<260xui8>
    %5 = "stablehlo.sort"(%a) <{dimension = 0 : i64, is_stable = true}> ({
    ^bb0(%x: tensor<i8>, %y: tensor<i8>):
      %c = stablehlo.compare LT, %x, %y, SIGNED : (tensor<i8>, tensor<i8>) -> tensor<i1>
      stablehlo.return %c : tensor<i1>
    }) : (tensor<3xi8>) -> tensor<3xi8>
    %6 = stablehlo.dot_general %m, %m, contracting_dims = [1] x [0] : (tensor<2x2xi8>, tensor<2x2xi8>) -> tensor<2x2xi8>
    return %0, %1, %2, %3, %4, %5, %6 : tensor<3xi8>, tensor<3xi8>, tensor<3xi8>, tensor<3xui8>, tensor<260xui8>, tensor<3xi8>, tensor<2x2xi8>
  }
}`;
    const inputs = [
      hostTensor('i8', [3], [-128, -1, 7]), hostTensor('i8', [3], [-1, 2, -2]), hostTensor('ui8', [3], [128, 255, 6]),
      hostTensor('i8', [2, 2], [10, 20, 30, 40]),
    ];
    const iota = Array.from({ length: 260 }, (_, i) => i & 0xff);
    for (const outs of await both(text, inputs)) {
      expect(outs).toEqual([
        { dtype: 'i8', data: [-128, 0, -3] },
        { dtype: 'i8', data: [1, 8, 3] },
        { dtype: 'i8', data: [0, 0, 5] },
        // 0x80 >>a 1 = 0xc0, 0xff >>a 1 = 0xff, 6 >>a 1 = 3.
        { dtype: 'ui8', data: [192, 255, 3] },
        { dtype: 'ui8', data: iota },
        { dtype: 'i8', data: [-128, -1, 7] },
        // [[10,20],[30,40]]^2 = [[700, 1000], [1500, 2200]] wrapped: 700-768=-68, 1000-1024=-24, 1500-1536=-36, 2200-2304=-104.
        { dtype: 'i8', data: [-68, -24, -36, -104] },
      ]);
    }
  });
});

describe('8- and 16-bit integer tensors on the host', () => {
  it('parse and print round-trip a ui8 literal', () => {
    const text = `module @m {
  func.func public @main() -> tensor<3xui8> {
    %0 = stablehlo.constant dense<[0, 200, 255]> : tensor<3xui8>
    return %0 : tensor<3xui8>
  }
}`;
    const printed = printModule(parseModule(text));
    expect(printed).toContain('dense<[0, 200, 255]> : tensor<3xui8>');
    expect(printModule(parseModule(printed))).toBe(printed);
    expect(Array.from(interpret(parseModule(text), [])[0].data as Uint8Array)).toEqual([0, 200, 255]);
  });

  it('raw bytes: one byte per i8/ui8 element, two per i16/ui16, and back', () => {
    const t = hostTensor('i16', [2], [-2, 300]);
    expect(Array.from(toBytes(t))).toEqual([0xfe, 0xff, 0x2c, 0x01]);
    expect(Array.from(fromBytes('i16', [2], toBytes(t)).data as ArrayLike<number>)).toEqual([-2, 300]);
    expect(fromBytes('ui8', [2], Uint8Array.of(200, 7)).data).toEqual(Uint8Array.of(200, 7));
    expect(Array.from(fromBytes('i8', [2], Uint8Array.of(200, 7)).data as ArrayLike<number>)).toEqual([-56, 7]);
    const wire = decodeTensor(encodeTensor(hostTensor('ui16', [2], [65535, 3])), 'x');
    expect(wire.dtype).toBe('ui16');
    expect(wire.data).toEqual(Uint16Array.of(65535, 3));
  });
});
