/** `chlo.tan` (older JAX lowerings of jnp.tan) reads as `stablehlo.tan`, the same function. */
import { expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';

it('chlo.tan parses, verifies and runs as stablehlo.tan', () => {
  const m = parseModule(`module {
  func.func public @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %0 = chlo.tan %arg0 : tensor<3xf32> -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}`, 'tan.mlir');
  verifyModule(m);
  expect(printModule(m)).toContain('stablehlo.tan %arg0');
  const [y] = interpret(m, [hostTensor('f32', [3], [0, 0.5, -1])]);
  expect(Array.from(y.data as Float32Array)).toEqual([0, Math.fround(Math.tan(0.5)), Math.fround(Math.tan(-1))]);
});
