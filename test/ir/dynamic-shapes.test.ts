/**
 * Dynamic shapes are refused at parse time with a located KilnError that says so and names the
 * op or type: never a crash, a grammar message or a wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { KilnError, ParseError, UnsupportedOpError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';

const fn = (sig: string, body: string) => `module {\n  func.func public @main${sig} {\n${body}\n  }\n}\n`;

const OPS: [string, string][] = [
  ['stablehlo.dynamic_broadcast_in_dim', fn('(%arg0: tensor<2x3xf32>, %s: tensor<2xi32>) -> tensor<4x3xf32>',
    '    %0 = stablehlo.dynamic_broadcast_in_dim %arg0, %s, dims = [0, 1] : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<4x3xf32>\n    return %0 : tensor<4x3xf32>')],
  ['stablehlo.dynamic_reshape', fn('(%arg0: tensor<2x3xf32>, %s: tensor<2xi32>) -> tensor<3x2xf32>',
    '    %0 = stablehlo.dynamic_reshape %arg0, %s : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<3x2xf32>\n    return %0 : tensor<3x2xf32>')],
  ['stablehlo.get_dimension_size', fn('(%arg0: tensor<2x3xf32>) -> tensor<i32>',
    '    %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<2x3xf32>) -> tensor<i32>\n    return %0 : tensor<i32>')],
  ['stablehlo.set_dimension_size', fn('(%arg0: tensor<2x3xf32>, %s: tensor<i32>) -> tensor<2x3xf32>',
    '    %0 = stablehlo.set_dimension_size %arg0, %s, dim = 0 : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>\n    return %0 : tensor<2x3xf32>')],
  ['stablehlo.real_dynamic_slice', fn('(%arg0: tensor<4xf32>, %s: tensor<1xi32>) -> tensor<2xf32>',
    '    %0 = stablehlo.real_dynamic_slice %arg0, %s, %s, %s : (tensor<4xf32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<2xf32>\n    return %0 : tensor<2xf32>')],
  ['stablehlo.dynamic_pad', fn('(%arg0: tensor<4xf32>, %p: tensor<f32>, %s: tensor<1xi32>) -> tensor<6xf32>',
    '    %0 = stablehlo.dynamic_pad %arg0, %p, %s, %s, %s : (tensor<4xf32>, tensor<f32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<6xf32>\n    return %0 : tensor<6xf32>')],
  ['stablehlo.dynamic_iota', fn('(%s: tensor<1xi32>) -> tensor<4xf32>',
    '    %0 = stablehlo.dynamic_iota %s, dim = 0 : (tensor<1xi32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['stablehlo.dynamic_conv', fn('(%x: tensor<1x4x4x1xf32>, %w: tensor<3x3x1x1xf32>, %p: tensor<2x2xi32>) -> tensor<1x4x4x1xf32>',
    '    %0 = "stablehlo.dynamic_conv"(%x, %w, %p) {dimension_numbers = #stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]>, feature_group_count = 1 : i64, batch_group_count = 1 : i64} : (tensor<1x4x4x1xf32>, tensor<3x3x1x1xf32>, tensor<2x2xi32>) -> tensor<1x4x4x1xf32>\n    return %0 : tensor<1x4x4x1xf32>')],
  ['stablehlo.dynamic_broadcast_in_dim', fn('(%arg0: tensor<2x3xf32>, %s: tensor<2xi32>) -> tensor<4x3xf32>',
    '    %0 = "stablehlo.dynamic_broadcast_in_dim"(%arg0, %s) <{broadcast_dimensions = array<i64: 0, 1>}> : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<4x3xf32>\n    return %0 : tensor<4x3xf32>')],
];

function refusal(text: string): KilnError {
  let err: unknown;
  try { verifyModule(parseModule(text, 'dyn.mlir')); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(KilnError);
  return err as KilnError;
}

describe('dynamic shapes', () => {
  for (const [name, text] of OPS) {
    it(`${name}${text.includes(`"${name}"`) ? ' (generic form)' : ''} is refused by name at its line`, () => {
      const err = refusal(text);
      expect(err).toBeInstanceOf(UnsupportedOpError);
      expect(err.message).toBe(`dyn.mlir:3:10: unsupported op ${name}: dynamic shapes are not supported (kiln compiles static shapes, as jax.jit traces them)`);
    });
  }

  const TYPES: [string, string, RegExp][] = [
    ['an argument', fn('(%arg0: tensor<?x3xf32>) -> tensor<2x3xf32>', '    %0 = stablehlo.constant dense<0.0> : tensor<2x3xf32>\n    return %0 : tensor<2x3xf32>'),
      /^dyn\.mlir:2:\d+: dynamic shapes are not supported: tensor<\?x3xf32> has a dynamic dimension/],
    ['a result', fn('(%arg0: tensor<2x3xf32>) -> tensor<2x?xf32>', '    return %arg0 : tensor<2x3xf32>'),
      /^dyn\.mlir:2:\d+: dynamic shapes are not supported: tensor<2x\?xf32> has a dynamic dimension/],
    ['an op type', fn('(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32>', '    %0 = stablehlo.abs %arg0 : tensor<?x3xf32>\n    return %arg0 : tensor<2x3xf32>'),
      /^dyn\.mlir:3:\d+: dynamic shapes are not supported: tensor<\?x3xf32> has a dynamic dimension/],
    ['a block argument', fn('(%arg0: tensor<2xf32>, %i: tensor<f32>) -> tensor<f32>',
      '    %0 = stablehlo.reduce(%arg0 init: %i) across dimensions = [0] : (tensor<2xf32>, tensor<f32>) -> tensor<f32>\n' +
      '     reducer(%a: tensor<?xf32>, %b: tensor<f32>) {\n      stablehlo.return %b : tensor<f32>\n    }\n    return %0 : tensor<f32>'),
      /^dyn\.mlir:4:\d+: dynamic shapes are not supported: tensor<\?xf32> has a dynamic dimension/],
  ];
  for (const [where, text, want] of TYPES) {
    it(`a dynamic dimension in ${where} is refused at the type`, () => {
      const err = refusal(text);
      expect(err).toBeInstanceOf(ParseError);
      expect(err.message).toMatch(want);
    });
  }
});
