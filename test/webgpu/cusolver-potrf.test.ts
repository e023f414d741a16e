/**
 * @file `@cusolver_potrf_ffi` as JAX's GPU lowering calls it (jnp.linalg.cholesky: always
 * `lower = true`, column-major layouts `[1, 2, 0]` with one batch dimension, an i32 `info` per
 * matrix, then JAX's own masks: NaN where info != 0, zero above the diagonal) on the reference
 * interpreter and on WebGPU, against values derived by hand: A = L Lᵀ for an integer L, so the
 * factor is exact in f32. The second matrix is not positive definite (its second leading minor
 * is 1 - 4 < 0): info = 2 and JAX's mask makes its lower triangle NaN. cuSOLVER reads and writes the
 * lower triangle only, so the raw result keeps the operand's upper triangle (here a marker 99,
 * which JAX's masked result never shows).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

// JAX 0.11's GPU lowering of jnp.linalg.cholesky on a 2x3x3 batch (the symmetrisation (A + Aᵀ)/2
// left out, so the raw call sees the marker above the diagonal), returning the raw factor and info too.
const MODULE = `module @jit_cholesky {
  func.func public @main(%arg0: tensor<2x3x3xf32>) -> (tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2xi32>) {
    %0:2 = stablehlo.custom_call @cusolver_potrf_ffi(%arg0) {backend_config = "", mhlo.backend_config = {lower = true}, mhlo.frontend_attributes = {num_batch_dims = "1"}, operand_layouts = [dense<[1, 2, 0]> : tensor<3xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<[1, 2, 0]> : tensor<3xindex>, dense<0> : tensor<1xindex>], sdy.sharding_rule = #sdy.op_sharding_rule<([i, j, k])->([i, l, m], [i]) {i=2, j=3, k=3, l=3, m=3}, custom>} : (tensor<2x3x3xf32>) -> (tensor<2x3x3xf32>, tensor<2xi32>)
    %c = stablehlo.constant dense<0> : tensor<i32>
    %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i32>) -> tensor<2xi32>
    %2 = stablehlo.compare EQ, %0#1, %1, SIGNED : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi1>
    %3 = stablehlo.broadcast_in_dim %2, dims = [0] : (tensor<2xi1>) -> tensor<2x1x1xi1>
    %cst = stablehlo.constant dense<0x7FC00000> : tensor<f32>
    %4 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<2x3x3xf32>
    %5 = stablehlo.broadcast_in_dim %3, dims = [0, 1, 2] : (tensor<2x1x1xi1>) -> tensor<2x3x3xi1>
    %6 = stablehlo.select %5, %0#0, %4 : tensor<2x3x3xi1>, tensor<2x3x3xf32>
    %7 = stablehlo.iota dim = 0 : tensor<3x3xi32>
    %8 = stablehlo.iota dim = 1 : tensor<3x3xi32>
    %9 = stablehlo.compare GE, %7, %8, SIGNED : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi1>
    %10 = stablehlo.broadcast_in_dim %9, dims = [1, 2] : (tensor<3x3xi1>) -> tensor<2x3x3xi1>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %11 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f32>) -> tensor<2x3x3xf32>
    %12 = stablehlo.select %10, %6, %11 : tensor<2x3x3xi1>, tensor<2x3x3xf32>
    return %12, %0#0, %0#1 : tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2xi32>
  }
}
`;

// L = [[2, 0, 0], [1, 3, 0], [-1, 2, 1]]: A = L Lᵀ = [[4, 2, -2], [2, 10, 5], [-2, 5, 6]] (lower
// triangle given, 99 above). The second: [[1, ., .], [2, 1, .], [0, 0, 1]], not positive definite.
const INPUT = [4, 99, 99, 2, 10, 99, -2, 5, 6, 1, 99, 99, 2, 1, 99, 0, 0, 1];
const NAN = Number.NaN;
// JAX's masks: NaN where info != 0, then zero above the diagonal (the NaN matrix's too).
const WANT_MASKED = [2, 0, 0, 1, 3, 0, -1, 2, 1, NAN, 0, 0, NAN, NAN, 0, NAN, NAN, NAN];
const WANT_RAW_FIRST = [2, 99, 99, 1, 3, 99, -1, 2, 1];
const WANT_INFO = [0, 2];

function check(outs: HostTensor[], where: string): void {
  const masked = Array.from(outs[0].data as Float32Array);
  expect(masked.map((v) => (Number.isNaN(v) ? 'NaN' : v)), `${where}: masked factor`).toEqual(WANT_MASKED.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
  expect(Array.from(outs[1].data as Float32Array).slice(0, 9), `${where}: raw factor, upper triangle untouched`).toEqual(WANT_RAW_FIRST);
  expect(Array.from(outs[2].data as Int32Array), `${where}: info`).toEqual(WANT_INFO);
}

describe('@cusolver_potrf_ffi as JAX lowers jnp.linalg.cholesky for GPU', () => {
  const input = () => hostTensor('f32', [2, 3, 3], Float32Array.from(INPUT));

  it('the reference interpreter gives the exact factor, info and JAX\'s masks', () => {
    const m = parseModule(MODULE, 'potrf.gpu.mlir');
    verifyModule(m);
    check(interpret(m, [input()]), 'reference');
  });

  it('WebGPU gives the same', async () => {
    const m = parseModule(MODULE, 'potrf.gpu.mlir');
    verifyModule(m);
    const d = await gpu();
    const outs = d.execute(d.compile(m), [d.upload(input())]);
    const got = await Promise.all(outs.map((o) => d.read(o)));
    outs.forEach((o) => d.free(o));
    check(got, 'webgpu');
  });
});
