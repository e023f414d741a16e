/**
 * @file complex<f32> in the IR: the type and its literals parse (pairs, splats, JAX's hex form),
 * print back canonically, verify with the shape rules of complex/real/imag/abs/fft, and what has
 * no complex meaning is refused naming the op and type; complex<f64> is refused with its reason.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { formatType, walkOps, type Module } from '../../ir/types.js';

const wrap = (body: string, args = '%arg0: tensor<2xcomplex<f32>>', result = 'tensor<2xcomplex<f32>>') =>
  `module @m {\n  func.func public @main(${args}) -> ${result} {\n${body}\n  }\n}\n`;

function parsed(text: string): Module {
  const m = parseModule(text, 'm.mlir');
  verifyModule(m);
  return m;
}

function constantData(m: Module): number[] {
  let out: number[] = [];
  walkOps(m.funcs[0].body, (o) => { if (o.op === Op.Constant) out = Array.from((o.attrs as { value: { data: Float32Array } }).value.data); });
  return out;
}

describe('complex<f32> in the IR', () => {
  it('reads pair literals, splats and JAX hex strings (re then im, little-endian f32)', () => {
    const pairs = parsed(wrap('    %0 = stablehlo.constant dense<[(1.5,-2.0), (0.0,3.25)]> : tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>'));
    expect(constantData(pairs)).toEqual([1.5, -2, 0, 3.25]);
    const splat = parsed(wrap('    %0 = stablehlo.constant dense<(5.000000e-01,0.000000e+00)> : tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>'));
    expect(constantData(splat)).toEqual([0.5, 0]);
    // 1.0 = 0x3F800000, 2.0 = 0x40000000, -1.0 = 0xBF800000, 0.5 = 0x3F000000.
    const hex = parsed(wrap('    %0 = stablehlo.constant dense<"0x0000803F00000040000080BF0000003F"> : tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>'));
    expect(constantData(hex)).toEqual([1, 2, -1, 0.5]);
  });

  it('prints pairs back, and the print is stable', () => {
    const m = parsed(wrap('    %0 = stablehlo.constant dense<[(1.5,-2.0), (0.0,3.25)]> : tensor<2xcomplex<f32>>\n    %1 = stablehlo.add %arg0, %0 : tensor<2xcomplex<f32>>\n    return %1 : tensor<2xcomplex<f32>>'));
    const text = printModule(m);
    expect(text).toContain('dense<[(1.5,-2.0), (0.0,3.25)]> : tensor<2xcomplex<f32>>');
    expect(printModule(parsed(text))).toBe(text);
  });

  it('types real, imag, abs, complex and fft', () => {
    const m = parsed(wrap([
      '    %0 = stablehlo.real %arg0 : (tensor<2xcomplex<f32>>) -> tensor<2xf32>',
      '    %1 = stablehlo.imag %arg0 : (tensor<2xcomplex<f32>>) -> tensor<2xf32>',
      '    %2 = stablehlo.abs %arg0 : (tensor<2xcomplex<f32>>) -> tensor<2xf32>',
      '    %3 = stablehlo.complex %0, %2 : tensor<2xcomplex<f32>>',
      '    %4 = stablehlo.fft %3, type = FFT, length = [2] : (tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>>',
      '    %5 = "stablehlo.fft"(%4) <{fft_length = array<i64: 2>, fft_type = #stablehlo<fft_type IFFT>}> : (tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>>',
      '    return %5 : tensor<2xcomplex<f32>>',
    ].join('\n')));
    const types: string[] = [];
    walkOps(m.funcs[0].body, (o) => { for (const r of o.results) types.push(`${o.op} ${formatType(r.type)}`); });
    expect(types).toEqual([
      'stablehlo.real tensor<2xf32>', 'stablehlo.imag tensor<2xf32>', 'stablehlo.abs tensor<2xf32>',
      'stablehlo.complex tensor<2xcomplex<f32>>', 'stablehlo.fft tensor<2xcomplex<f32>>', 'stablehlo.fft tensor<2xcomplex<f32>>',
    ]);
    expect(printModule(m)).toContain('stablehlo.fft %4, type = IFFT, length = [2] : (tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>>');
  });

  it('refuses ops without a complex meaning, naming the op, the value and the line', () => {
    const max = wrap('    %0 = stablehlo.maximum %arg0, %arg0 : tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>');
    expect(() => parsed(max)).toThrow(UnsupportedOpError);
    expect(() => parsed(max)).toThrow(/^m\.mlir:3:10: stablehlo\.maximum: %arg0 has type tensor<2xcomplex<f32>>: stablehlo\.maximum is not defined on complex numbers/);
    const lt = wrap('    %0 = stablehlo.compare LT, %arg0, %arg0 : (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>) -> tensor<2xi1>\n    return %0 : tensor<2xi1>', undefined, 'tensor<2xi1>');
    expect(() => parsed(lt)).toThrow(/stablehlo\.compare: LT is not defined on %arg0 \(tensor<2xcomplex<f32>>\): complex values compare only with EQ and NE/);
    const bad = wrap('    %0 = stablehlo.constant dense<[1.0, 2.0]> : tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>');
    expect(() => parsed(bad)).toThrow(/expected a complex element \(re,im\) in a dense literal of complex<f32>/);
    const wrongKind = wrap('    %0 = stablehlo.fft %arg0, type = RFFT, length = [2] : (tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>>\n    return %0 : tensor<2xcomplex<f32>>');
    expect(() => parsed(wrongKind)).toThrow(VerifyError);
  });

  it('refuses complex<f64> (complex128) with the reason', () => {
    const text = wrap('    return %arg0 : tensor<2xcomplex<f64>>', '%arg0: tensor<2xcomplex<f64>>', 'tensor<2xcomplex<f64>>');
    expect(() => parsed(text)).toThrow(UnsupportedOpError);
    expect(() => parsed(text)).toThrow(/complex<f64> \(complex128\) is not supported: WebGPU has no 64-bit floats; run JAX with jax_enable_x64 off/);
  });
});
