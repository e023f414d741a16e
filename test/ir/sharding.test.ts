/**
 * @file Sharding annotations on one device: Shardy's `sdy.sharding_constraint` and GSPMD's
 * `custom_call @Sharding / @SPMDFullToShardShape / @SPMDShardToFullShape` are identities (no
 * operation is built; the result is the operand's value); a mesh of more than one device is
 * refused with its shape and location; a sharding annotation that changes the type is refused.
 */
import { describe, expect, it } from 'vitest';
import { ParseError, UnsupportedOpError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { Op } from '../../ir/ops.js';

const M = (mesh: string, body: string) => `module @m {
  ${mesh}
  func.func public @main(%arg0: tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>}) -> tensor<8x4xf32> {
${body}
  }
}
`;
const ONE = 'sdy.mesh @mesh = <["x"=1]>';

describe('sharding annotations on one device', () => {
  it('sdy.sharding_constraint and the GSPMD custom calls are identities', () => {
    const m = parseModule(M(ONE, [
      '    %0 = sdy.sharding_constraint %arg0 <@mesh, [{"x"}, {}]> : tensor<8x4xf32>',
      '    %1 = stablehlo.custom_call @Sharding(%0) {mhlo.sharding = "{replicated}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    %2 = stablehlo.custom_call @SPMDFullToShardShape(%1) {mhlo.sharding = "{manual}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    %3 = stablehlo.abs %2 : tensor<8x4xf32>',
      '    %4 = stablehlo.custom_call @SPMDShardToFullShape(%3) {mhlo.sharding = "{replicated}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    return %4 : tensor<8x4xf32>',
    ].join('\n')));
    const ops = m.funcs[0].body.ops;
    expect(ops.map((o) => o.op)).toEqual([Op.Abs, Op.FuncReturn]);
    expect(ops[0].operands[0]).toBe(m.funcs[0].args[0]);
    expect(ops[1].operands[0]).toBe(ops[0].results[0]);
  });

  it('a mesh of more than one device is refused with its shape and line', () => {
    const text = M('sdy.mesh @mesh = <["x"=2, "y"=4]>', '    return %arg0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(UnsupportedOpError);
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:2:3: sdy\.mesh @mesh = <\[x=2, y=4\]> spans 8 devices/);
  });

  it('a constraint naming an undeclared mesh is refused', () => {
    const text = M(ONE, '    %0 = sdy.sharding_constraint %arg0 <@other, [{}, {}]> : tensor<8x4xf32>\n    return %0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:4:\d+: sdy\.sharding_constraint: unknown mesh @other/);
  });

  it('a sharding custom call that changes the type is refused, not run as an identity', () => {
    const text = M(ONE, '    %0 = stablehlo.custom_call @SPMDFullToShardShape(%arg0) : (tensor<8x4xf32>) -> tensor<4x4xf32>\n    return %arg0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(ParseError);
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:4:10: stablehlo\.custom_call @SPMDFullToShardShape: %arg0 has type tensor<8x4xf32> but the op's signature says tensor<4x4xf32>/);
  });
});
