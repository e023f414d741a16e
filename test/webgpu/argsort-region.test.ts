/**
 * @file jnp.argsort of floats on WebGPU: JAX's comparator region holds its own constants (0.0 to
 * canonicalise -0, NaN to canonicalise NaNs). CSE used to replace them with an equal constant of
 * the enclosing function, and the region lowering, which compiles a region on its own, refused
 * the program ("stablehlo.compare uses a value defined outside its region"). Expected orders are
 * derived by hand: ascending, -0 equal to 0 (stable), NaN last.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Op } from '../../ir/ops.js';
import type { AnyOperation } from '../../ir/types.js';
import { verifyModule } from '../../ir/verify.js';
import { eliminateCommonSubexpressions } from '../../compiler/passes/cse.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

/** argsort(maximum(x, 0)) with JAX's comparator; the outer 0.0 equals the comparator's. */
const TEXT = `func.func public @main(%arg0: tensor<6xf32>) -> tensor<6xi32> {
  %0 = stablehlo.iota dim = 0 : tensor<6xi32>
  %c0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
  %cb = stablehlo.broadcast_in_dim %c0, dims = [] : (tensor<f32>) -> tensor<6xf32>
  %m = stablehlo.maximum %arg0, %cb : tensor<6xf32>
  %1:2 = "stablehlo.sort"(%m, %0) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%arg1: tensor<f32>, %arg2: tensor<f32>, %arg3: tensor<i32>, %arg4: tensor<i32>):
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %2 = stablehlo.compare  EQ, %arg1, %cst,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %3 = stablehlo.select %2, %cst, %arg1 : tensor<i1>, tensor<f32>
    %4 = stablehlo.compare  NE, %arg1, %arg1,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %cst_0 = stablehlo.constant dense<0x7FC00000> : tensor<f32>
    %5 = stablehlo.select %4, %cst_0, %3 : tensor<i1>, tensor<f32>
    %6 = stablehlo.compare  EQ, %arg2, %cst,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %7 = stablehlo.select %6, %cst, %arg2 : tensor<i1>, tensor<f32>
    %8 = stablehlo.compare  NE, %arg2, %arg2,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %9 = stablehlo.select %8, %cst_0, %7 : tensor<i1>, tensor<f32>
    %10 = stablehlo.compare  LT, %5, %9,  TOTALORDER : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %10 : tensor<i1>
  }) : (tensor<6xf32>, tensor<6xi32>) -> (tensor<6xf32>, tensor<6xi32>)
  return %1#1 : tensor<6xi32>
}`;

// maximum(x, 0) = [3, 0, NaN, 0, 0, 2] (maximum propagates NaN; -1.5 and -0.0 become 0.0 or -0.0,
// equal to 0 after the comparator's canonicalisation): stable order 1, 3, 4, 5, 0, then NaN at 2.
const X = [3, -0, NaN, 0, -1.5, 2];
const WANT = [1, 3, 4, 5, 0, 2];

describe('argsort comparator regions with their own constants', () => {
  it('CSE keeps a region\'s constants inside the region', () => {
    const m = eliminateCommonSubexpressions(parse(TEXT));
    verifyModule(m);
    const sort = m.funcs[0].body.ops.find((o) => o.op === Op.Sort) as AnyOperation;
    const inner = sort.regions[0].block.ops.filter((o) => o.op === Op.Constant);
    expect(inner).toHaveLength(2);
  });

  it('runs on the reference interpreter and on WebGPU', async () => {
    const m = parse(TEXT);
    const x = hostTensor('f32', [6], X);
    expect(Array.from(interpret(m, [x])[0].data as Int32Array)).toEqual(WANT);
    const d = await gpu();
    const exe = d.compile(m);
    const [o] = d.execute(exe, [d.upload(x)]);
    expect(Array.from((await d.read(o)).data as Int32Array)).toEqual(WANT);
    d.free(o);
  });
});
