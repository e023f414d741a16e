/**
 * @file chlo.scan modules that the compiler cannot rewrite as a reduce_window (a body of several
 * ops, several inputs and carries, outputs other than the carry, complex<f32> values), shared by
 * the reference test of the while-loop expansion and the WebGPU test: each with small inputs.
 */
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';

type Scan = [name: string, text: string, inputs: HostTensor[]];

const scan = (sig: string, results: string, head: string, block: string, body: string[], ret: string, types: string, returned: string) => `module {
  func.func public @main(${sig}) -> (${results}) {
    ${head}  attributes {is_associative = true, is_reverse = REVERSE} {
    ^bb0(${block}):
${body.map((l) => `      ${l}`).join('\n')}
      stablehlo.return ${ret}
    } : ${types}
    return ${returned} : ${results}
  }
}`;

/** cumlogsumexp's body (max + log1p(exp(-|x - c|)), x + c where x - c is NaN) along dim 0 of 4x3. */
const logsumexp = scan('%arg0: tensor<4x3xf32>, %arg1: tensor<3xf32>', 'tensor<4x3xf32>, tensor<3xf32>',
  '%0:2 = chlo.scan(%arg0) inits (%arg1) dimension=0', '%x: tensor<3xf32>, %c: tensor<3xf32>', [
    '%1 = stablehlo.maximum %x, %c : tensor<3xf32>',
    '%2 = stablehlo.subtract %x, %c : tensor<3xf32>',
    '%3 = stablehlo.compare NE, %2, %2, FLOAT : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>',
    '%4 = stablehlo.add %x, %c : tensor<3xf32>',
    '%5 = stablehlo.abs %2 : tensor<3xf32>',
    '%6 = stablehlo.negate %5 : tensor<3xf32>',
    '%7 = stablehlo.exponential %6 : tensor<3xf32>',
    '%8 = stablehlo.log_plus_one %7 : tensor<3xf32>',
    '%9 = stablehlo.add %1, %8 : tensor<3xf32>',
    '%10 = stablehlo.select %3, %4, %9 : tensor<3xi1>, tensor<3xf32>',
  ], '%10, %10 : tensor<3xf32>, tensor<3xf32>', '(tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)', '%0#0, %0#1');

/**
 * Two inputs (f32 values, i32 flags) and two carries along dim 0 of 5x2: a discounted sum
 * s' = 0.5 s + x (not associative) and a count of flags; the outputs are s' and s * x (the
 * carry before the step), so an output differs from the carry.
 */
const pair = scan('%arg0: tensor<5x2xf32>, %arg1: tensor<5x2xi32>, %arg2: tensor<2xf32>, %arg3: tensor<2xi32>',
  'tensor<5x2xf32>, tensor<5x2xf32>, tensor<2xf32>, tensor<2xi32>',
  '%0:4 = chlo.scan(%arg0, %arg1) inits (%arg2, %arg3) dimension=0',
  '%x: tensor<2xf32>, %f: tensor<2xi32>, %s: tensor<2xf32>, %n: tensor<2xi32>', [
    '%half = stablehlo.constant dense<5.000000e-01> : tensor<2xf32>',
    '%1 = stablehlo.multiply %s, %half : tensor<2xf32>',
    '%2 = stablehlo.add %1, %x : tensor<2xf32>',
    '%3 = stablehlo.multiply %s, %x : tensor<2xf32>',
    '%4 = stablehlo.add %n, %f : tensor<2xi32>',
  ], '%2, %3, %2, %4 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xi32>',
  '(tensor<5x2xf32>, tensor<5x2xi32>, tensor<2xf32>, tensor<2xi32>) -> (tensor<5x2xf32>, tensor<5x2xf32>, tensor<2xf32>, tensor<2xi32>)',
  '%0#1, %0#0, %0#2, %0#3');

/** JAX's GPU cumsum of complex values: one add, but complex<f32> has no reduce_window here. */
const complexSum = scan('%arg0: tensor<2x4xcomplex<f32>>, %arg1: tensor<2xcomplex<f32>>', 'tensor<2x4xcomplex<f32>>, tensor<2xcomplex<f32>>',
  '%0:2 = chlo.scan(%arg0) inits (%arg1) dimension=1', '%x: tensor<2xcomplex<f32>>, %c: tensor<2xcomplex<f32>>', [
    '%1 = stablehlo.add %x, %c : tensor<2xcomplex<f32>>',
  ], '%1, %1 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>',
  '(tensor<2x4xcomplex<f32>>, tensor<2xcomplex<f32>>) -> (tensor<2x4xcomplex<f32>>, tensor<2xcomplex<f32>>)', '%0#0, %0#1');

/** An integer recurrence c' = x + 2 c (wraps in i32) over the middle axis of 2x3x4. */
const middle = scan('%arg0: tensor<2x3x4xi32>, %arg1: tensor<2x4xi32>', 'tensor<2x3x4xi32>, tensor<2x4xi32>',
  '%0:2 = chlo.scan(%arg0) inits (%arg1) dimension=1', '%x: tensor<2x4xi32>, %c: tensor<2x4xi32>', [
    '%1 = stablehlo.add %c, %c : tensor<2x4xi32>',
    '%2 = stablehlo.add %x, %1 : tensor<2x4xi32>',
  ], '%2, %2 : tensor<2x4xi32>, tensor<2x4xi32>',
  '(tensor<2x3x4xi32>, tensor<2x4xi32>) -> (tensor<2x3x4xi32>, tensor<2x4xi32>)', '%0#0, %0#1');

const f32 = (shape: number[], data: number[]) => hostTensor('f32', shape, data);

export const SCAN_LOOPS: Scan[] = [false, true].flatMap((reverse): Scan[] => {
  const r = (t: string) => t.replace('REVERSE', String(reverse));
  const tag = reverse ? ', reversed' : '';
  return [
    [`cumlogsumexp body${tag}`, r(logsumexp), [f32([4, 3], [0.5, -1, 2, 3, Number.NEGATIVE_INFINITY, -2, 0.25, 4, 1, -3, 0, 0]),
      f32([3], [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1])]],
    [`two inputs and two carries${tag}`, r(pair), [f32([5, 2], [1, -2, 3, 0.5, -1, 4, 2, 2, 0.25, -3]),
      hostTensor('i32', [5, 2], [1, 0, 1, 1, 0, 1, 1, 0, 0, 1]), f32([2], [2, -1]), hostTensor('i32', [2], [10, 20])]],
    [`complex cumsum${tag}`, r(complexSum), [hostTensor('c64', [2, 4], [1, 2, -1, 0.5, 3, -3, 0.25, 1, 2, 2, -2, 1, 0, 4, 1.5, -1]),
      hostTensor('c64', [2], [0, 0, 1, -1])]],
    [`integer recurrence over a middle axis${tag}`, r(middle), [hostTensor('i32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => (i * 7919) % 23 - 11)),
      hostTensor('i32', [2, 4], [1, 2, 3, 4, 0x40000000, -5, 6, -7])]],
  ];
});
