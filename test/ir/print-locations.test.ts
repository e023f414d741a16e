/**
 * @file Printing with locations: every op's `loc(...)` lands where the parser reads it back,
 * after the last region of ops that have regions.
 */
import { expect, it } from 'vitest';
import { parseModule, printModule } from '../../ir/index.js';

const WITH_REGIONS = `func.func @main(%x: tensor<3x4xf32>, %i: tensor<3x4xi32>) -> (tensor<3xi32>, tensor<i32>) {
  %cst = stablehlo.constant dense<0xFF800000> : tensor<f32> loc("a.py":1:1)
  %c = stablehlo.constant dense<0> : tensor<i32> loc("a.py":2:1)
  %0:2 = stablehlo.reduce(%x init: %cst), (%i init: %c) across dimensions = [1] : (tensor<3x4xf32>, tensor<3x4xi32>, tensor<f32>, tensor<i32>) -> (tensor<3xf32>, tensor<3xi32>)
   reducer(%a: tensor<f32>, %b: tensor<f32>) (%p: tensor<i32>, %q: tensor<i32>)  {
    %1 = stablehlo.compare GT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %2 = stablehlo.select %1, %a, %b : tensor<i1>, tensor<f32>
    %3 = stablehlo.select %1, %p, %q : tensor<i1>, tensor<i32>
    stablehlo.return %2, %3 : tensor<f32>, tensor<i32>
  } loc("a.py":3:1)
  %4 = stablehlo.while(%k = %c) : tensor<i32>
  cond {
    %5 = stablehlo.compare LT, %k, %c, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %5 : tensor<i1>
  } do {
    stablehlo.return %k : tensor<i32>
  } loc("a.py":4:1)
  return %0#1, %4 : tensor<3xi32>, tensor<i32>
}`;

it('round-trips locations on ops with regions', () => {
  const m = parseModule(WITH_REGIONS, 'a.mlir');
  const text = printModule(m, { locations: true });
  expect(text).toMatch(/^\s*\} loc\("a\.py":3:1\)$/m);
  expect(text).toMatch(/^\s*\} loc\("a\.py":4:1\)$/m);
  const again = printModule(parseModule(text, 'b.mlir'), { locations: true });
  expect(again).toBe(text);
});
