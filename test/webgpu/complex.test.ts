/**
 * @file complex<f32> and stablehlo.fft on WebGPU against the reference interpreter (itself checked
 * against an independent float64 DFT and hand-worked values in test/reference/complex.test.ts):
 * elementwise complex ops in fused kernels, data movement, sums, complex matmul, and FFT / IFFT /
 * RFFT / IRFFT for lengths 1 to 97 (Stockham for powers of two, the direct DFT otherwise) and
 * batched 2-D/3-D transforms. Shapes are tiny: the adapter in CI is a software one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { c64, maxErr, moduleOf, naiveDft, ty, values } from '../helpers/complex.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

/** Runs `text` on WebGPU and on the reference; returns both outputs' data. */
async function both(text: string, inputs: HostTensor[]): Promise<{ got: Float32Array[]; want: Float32Array[] }> {
  const m = parseModule(text, 'm.mlir');
  verifyModule(m);
  const want = interpret(m, inputs).map((t) => Float32Array.from(t.data as ArrayLike<number>));
  const d = await gpu();
  const outs = d.execute(d.compile(m), inputs.map((t) => d.upload(t)));
  const got = await Promise.all(outs.map(async (o) => Float32Array.from((await d.read(o)).data as ArrayLike<number>)));
  outs.forEach((o) => d.free(o));
  return { got, want };
}

function expectClose(got: Float32Array, want: Float32Array, rel: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  const { err, scale } = maxErr(got, want);
  expect(err, `${what}: max error ${err} at scale ${scale}`).toBeLessThanOrEqual(rel * Math.max(1, scale));
}

const pairs = (re: readonly number[], im: readonly number[]) => re.flatMap((r, i) => [r, im[i]]);

describe('complex<f32> on WebGPU', () => {
  it('fuses complex arithmetic and transcendental ops (vec2<f32> registers)', async () => {
    const t = ty([6], 'c64');
    const text = moduleOf([t, t], t, [
      `%0 = stablehlo.multiply %arg0, %arg1 : ${t}`,
      `%1 = stablehlo.divide %0, %arg1 : ${t}`,
      `%2 = stablehlo.exponential %1 : ${t}`,
      `%3 = stablehlo.log %2 : ${t}`,
      `%4 = stablehlo.sqrt %arg1 : ${t}`,
      `%5 = stablehlo.tanh %4 : ${t}`,
      `%6 = stablehlo.sine %5 : ${t}`,
      `%7 = stablehlo.cosine %arg0 : ${t}`,
      `%8 = stablehlo.power %arg0, %arg1 : ${t}`,
      `%9 = stablehlo.log_plus_one %8 : ${t}`,
      `%10 = stablehlo.exponential_minus_one %arg0 : ${t}`,
      `%11 = stablehlo.rsqrt %arg1 : ${t}`,
      `%12 = stablehlo.sign %arg0 : ${t}`,
      `%13 = stablehlo.negate %12 : ${t}`,
      `%14 = stablehlo.add %3, %6 : ${t}`,
      `%15 = stablehlo.subtract %14, %7 : ${t}`,
      `%16 = stablehlo.add %15, %9 : ${t}`,
      `%17 = stablehlo.add %16, %10 : ${t}`,
      `%18 = stablehlo.add %17, %11 : ${t}`,
      `%19 = stablehlo.add %18, %13 : ${t}`,
    ]);
    const a = [0.5, -0.25, -1.5, 0.75, 0.1, 0.2, 2, -1, -0.3, -0.4, 0.9, 0.05];
    const b = [1, 0.5, -0.5, 1.25, 0.3, -0.7, -2, 0, 0.25, 0.25, -1, -1];
    const { got, want } = await both(text, [c64([6], a), c64([6], b)]);
    expectClose(got[0], want[0], 2e-4, 'fused complex chain');
  });

  it('abs, real, imag, complex, compare, select and convert', async () => {
    const text = moduleOf([ty([4], 'c64'), ty([4], 'f32')], ty([4], 'c64'), [
      '%0 = stablehlo.abs %arg0 : (tensor<4xcomplex<f32>>) -> tensor<4xf32>',
      '%1 = stablehlo.real %arg0 : (tensor<4xcomplex<f32>>) -> tensor<4xf32>',
      '%2 = stablehlo.imag %arg0 : (tensor<4xcomplex<f32>>) -> tensor<4xf32>',
      '%3 = stablehlo.add %0, %arg1 : tensor<4xf32>',
      '%4 = stablehlo.complex %2, %3 : tensor<4xcomplex<f32>>',
      '%5 = stablehlo.convert %1 : (tensor<4xf32>) -> tensor<4xcomplex<f32>>',
      '%6 = stablehlo.compare NE, %arg0, %5, FLOAT : (tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>>) -> tensor<4xi1>',
      '%7 = stablehlo.select %6, %4, %arg0 : tensor<4xi1>, tensor<4xcomplex<f32>>',
    ]);
    const { got, want } = await both(text, [c64([4], [3, 4, 1, 0, -2, 0.5, 0, -1]), hostTensor('f32', [4], [1, 2, 3, 4])]);
    expectClose(got[0], want[0], 1e-6, 'parts');
  });

  it('moves complex values (transpose, slice, pad, concatenate, broadcast of a constant) and sums them', async () => {
    const text = moduleOf([ty([2, 3], 'c64')], ty([4], 'c64'), [
      '%0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<2x3xcomplex<f32>>) -> tensor<3x2xcomplex<f32>>',
      '%cst = stablehlo.constant dense<(0.5,-0.5)> : tensor<complex<f32>>',
      '%1 = stablehlo.pad %0, %cst, low = [1, 0], high = [0, 0], interior = [0, 0] : (tensor<3x2xcomplex<f32>>, tensor<complex<f32>>) -> tensor<4x2xcomplex<f32>>',
      '%c2 = stablehlo.constant dense<[[(1.0,2.0), (3.0,4.0)]]> : tensor<1x2xcomplex<f32>>',
      '%2 = stablehlo.concatenate %1, %c2, dim = 0 : (tensor<4x2xcomplex<f32>>, tensor<1x2xcomplex<f32>>) -> tensor<5x2xcomplex<f32>>',
      '%3 = stablehlo.slice %2 [1:5, 0:2] : (tensor<5x2xcomplex<f32>>) -> tensor<4x2xcomplex<f32>>',
      '%zero = stablehlo.constant dense<(0.0,0.0)> : tensor<complex<f32>>',
      '%4 = stablehlo.reduce(%3 init: %zero) applies stablehlo.add across dimensions = [1] : (tensor<4x2xcomplex<f32>>, tensor<complex<f32>>) -> tensor<4xcomplex<f32>>',
    ]);
    const { got, want } = await both(text, [c64([2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]);
    expectClose(got[0], want[0], 1e-6, 'movement and sum');
  });

  it('multiplies complex values along a row (jnp.prod: a reduce with a multiply body), 2 rows of 300', async () => {
    const t = ty([2, 300], 'c64');
    const text = moduleOf([t], ty([2], 'c64'), [
      '%one = stablehlo.constant dense<(1.0,0.0)> : tensor<complex<f32>>',
      `%0 = stablehlo.reduce(%arg0 init: %one) applies stablehlo.multiply across dimensions = [1] : (${t}, tensor<complex<f32>>) -> tensor<2xcomplex<f32>>`,
    ]);
    // Unit-modulus factors e^(i theta), so the product keeps modulus 1: its angle is the sum.
    const theta = values(600, 3).map((v) => 2 * v);
    const { got, want } = await both(text, [c64([2, 300], theta.flatMap((a) => [Math.cos(a), Math.sin(a)]))]);
    const exact = [0, 1].flatMap((r) => {
      const sum = theta.slice(300 * r, 300 * r + 300).reduce((s, a) => s + a, 0);
      return [Math.cos(sum), Math.sin(sum)];
    });
    expectClose(want[0], Float32Array.from(exact), 1e-4, 'reference product against float64');
    expectClose(got[0], Float32Array.from(exact), 1e-4, 'webgpu product against float64');
  });

  it('a variadic reduce of complex values and i32 indices (the complex of largest modulus, first on ties)', async () => {
    const t = ty([3, 5], 'c64');
    const text = moduleOf([t], ty([3], 'c64'), [
      '%iota = stablehlo.iota dim = 1 : tensor<3x5xi32>',
      '%zero = stablehlo.constant dense<(0.0,0.0)> : tensor<complex<f32>>',
      '%c0 = stablehlo.constant dense<0> : tensor<i32>',
      `%0:2 = stablehlo.reduce(%arg0 init: %zero), (%iota init: %c0) across dimensions = [1] : (${t}, tensor<3x5xi32>, tensor<complex<f32>>, tensor<i32>) -> (tensor<3xcomplex<f32>>, tensor<3xi32>)
     reducer(%a: tensor<complex<f32>>, %b: tensor<complex<f32>>) (%i: tensor<i32>, %j: tensor<i32>)  {
      %ma = stablehlo.abs %a : (tensor<complex<f32>>) -> tensor<f32>
      %mb = stablehlo.abs %b : (tensor<complex<f32>>) -> tensor<f32>
      %gt = stablehlo.compare GT, %ma, %mb, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %eq = stablehlo.compare EQ, %ma, %mb, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %lt = stablehlo.compare LT, %i, %j, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %tie = stablehlo.and %eq, %lt : tensor<i1>
      %pick = stablehlo.or %gt, %tie : tensor<i1>
      %z = stablehlo.select %pick, %a, %b : tensor<i1>, tensor<complex<f32>>
      %k = stablehlo.select %pick, %i, %j : tensor<i1>, tensor<i32>
      stablehlo.return %z, %k : tensor<complex<f32>>, tensor<i32>
    }`,
      '%re = stablehlo.real %0#0 : (tensor<3xcomplex<f32>>) -> tensor<3xf32>',
      '%idx = stablehlo.convert %0#1 : (tensor<3xi32>) -> tensor<3xf32>',
      '%tagged = stablehlo.add %re, %idx : tensor<3xf32>',
      '%im = stablehlo.imag %0#0 : (tensor<3xcomplex<f32>>) -> tensor<3xf32>',
      '%out = stablehlo.complex %tagged, %im : tensor<3xcomplex<f32>>',
    ]);
    // Row 0: largest modulus 5 at index 2 (3+4i); row 1: a tie of modulus 2 at 1 and 3 (first wins);
    // row 2: all zero but the last (-1-1i at index 4).
    const data = [1, 0, 0, 1, 3, 4, -2, 2, 0, -1, 0, 0, 0, 2, 1, 1, -2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1];
    const { got, want } = await both(text, [c64([3, 5], data)]);
    // real part + index, imaginary part: (3 + 2, 4), (0 + 1, 2), (-1 + 4, -1).
    expectClose(want[0], Float32Array.from([5, 4, 1, 2, 3, -1]), 1e-6, 'reference');
    expectClose(got[0], Float32Array.from([5, 4, 1, 2, 3, -1]), 1e-6, 'webgpu');
  });

  it('cumulative sums and products of complex values as JAX\'s CPU lowering writes them (reduce_window)', async () => {
    const t = ty([2, 4], 'c64');
    const win = (op: string, init: string, name: string) => [
      `%${name}i = stablehlo.constant dense<${init}> : tensor<complex<f32>>`,
      `%${name} = "stablehlo.reduce_window"(%arg0, %${name}i) <{base_dilations = array<i64: 1, 1>, padding = dense<[[0, 0], [3, 0]]> : tensor<2x2xi64>, window_dilations = array<i64: 1, 1>, window_dimensions = array<i64: 1, 4>, window_strides = array<i64: 1, 1>}> ({
    ^bb0(%a: tensor<complex<f32>>, %b: tensor<complex<f32>>):
      %r = ${op} %a, %b : tensor<complex<f32>>
      stablehlo.return %r : tensor<complex<f32>>
    }) : (${t}, tensor<complex<f32>>) -> ${t}`,
    ];
    const text = moduleOf([t], ty([2, 8], 'c64'), [
      ...win('stablehlo.add', '(0.0,0.0)', 'sum'), ...win('stablehlo.multiply', '(1.0,0.0)', 'prod'),
      `%both = stablehlo.concatenate %sum, %prod, dim = 1 : (${t}, ${t}) -> tensor<2x8xcomplex<f32>>`,
    ]);
    const z = [1, 2, -1, 0.5, 3, -3, 0.25, 1, 2, 2, -2, 1, 0, 4, 1.5, -1];
    const exact: number[] = [];
    for (let r = 0; r < 2; r++) {
      let [sr, si, pr, pi] = [0, 0, 1, 0];
      const sums: number[] = [], prods: number[] = [];
      for (let j = 0; j < 4; j++) {
        const [a, b] = [z[8 * r + 2 * j], z[8 * r + 2 * j + 1]];
        [sr, si] = [sr + a, si + b];
        [pr, pi] = [pr * a - pi * b, pr * b + pi * a];
        sums.push(sr, si);
        prods.push(pr, pi);
      }
      exact.push(...sums, ...prods);
    }
    const { got, want } = await both(text, [c64([2, 4], z)]);
    expectClose(want[0], Float32Array.from(exact), 1e-6, 'reference cumsum/cumprod against float64');
    expectClose(got[0], Float32Array.from(exact), 1e-6, 'webgpu cumsum/cumprod against float64');
  });

  it('scatters complex values with a product combiner (x.at[i].multiply(u), a duplicate index)', async () => {
    const text = moduleOf([ty([4], 'c64'), 'tensor<3x1xi32>', ty([3], 'c64')], ty([4], 'c64'), [
      `%0 = "stablehlo.scatter"(%arg0, %arg1, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<complex<f32>>, %b: tensor<complex<f32>>):
      %r = stablehlo.multiply %a, %b : tensor<complex<f32>>
      stablehlo.return %r : tensor<complex<f32>>
    }) : (${ty([4], 'c64')}, tensor<3x1xi32>, ${ty([3], 'c64')}) -> ${ty([4], 'c64')}`,
    ]);
    // x = [1+i, 2, -i, 3-2i]; u = [i at 0, 1+i at 2, 2 at 0]: x0 = (1+i) i 2 = -2+2i, x2 = -i (1+i) = 1-i.
    const { got, want } = await both(text, [c64([4], [1, 1, 2, 0, 0, -1, 3, -2]), hostTensor('i32', [3, 1], [0, 2, 0]), c64([3], [0, 1, 1, 1, 2, 0])]);
    const exact = Float32Array.from([-2, 2, 2, 0, 1, -1, 3, -2]);
    expectClose(want[0], exact, 1e-6, 'reference scatter-multiply');
    expectClose(got[0], exact, 1e-6, 'webgpu scatter-multiply');
  });

  it('multiplies complex matrices (four real matmuls)', async () => {
    const text = moduleOf([ty([3, 4], 'c64'), ty([4, 2], 'c64')], ty([3, 2], 'c64'), [
      '%0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0] : (tensor<3x4xcomplex<f32>>, tensor<4x2xcomplex<f32>>) -> tensor<3x2xcomplex<f32>>',
    ]);
    const { got, want } = await both(text, [c64([3, 4], values(24, 5)), c64([4, 2], values(16, 6))]);
    expectClose(got[0], want[0], 1e-5, 'complex matmul');
  });
});

describe('stablehlo.fft on WebGPU', () => {
  for (const n of [1, 2, 3, 5, 8, 12, 17, 64, 97]) {
    it(`FFT, IFFT, RFFT and IRFFT of length ${n}, batched over 2 rows`, async () => {
      const shape = [2, n];
      const half = Math.floor(n / 2) + 1;
      const re = values(2 * n, n).map(Math.fround);
      const im = values(2 * n, n + 50).map(Math.fround);
      const c = ty(shape, 'c64');
      const h = ty([2, half], 'c64');
      const text = moduleOf([c, ty(shape, 'f32')], h, [
        `%0 = stablehlo.fft %arg0, type = FFT, length = [${n}] : (${c}) -> ${c}`,
        `%1 = stablehlo.fft %0, type = IFFT, length = [${n}] : (${c}) -> ${c}`,
        `%2 = stablehlo.fft %arg1, type = RFFT, length = [${n}] : (${ty(shape, 'f32')}) -> ${h}`,
        `%3 = stablehlo.fft %2, type = IRFFT, length = [${n}] : (${h}) -> ${ty(shape, 'f32')}`,
        `%4 = stablehlo.fft %3, type = RFFT, length = [${n}] : (${ty(shape, 'f32')}) -> ${h}`,
      ]);
      const m = parseModule(text.replace(/return %4 : .*\n/, `return %0, %1, %2, %3, %4 : ${c}, ${c}, ${h}, ${ty(shape, 'f32')}, ${h}\n`)
        .replace(`-> ${h} {`, `-> (${c}, ${c}, ${h}, ${ty(shape, 'f32')}, ${h}) {`), 'm.mlir');
      verifyModule(m);
      const inputs = [c64(shape, pairs(re, im)), hostTensor('f32', shape, re)];
      const d = await gpu();
      const outs = d.execute(d.compile(m), inputs.map((t) => d.upload(t)));
      const got = await Promise.all(outs.map(async (o) => Float32Array.from((await d.read(o)).data as ArrayLike<number>)));
      outs.forEach((o) => d.free(o));
      // Against the float64 DFT directly (not only the reference): FFT, its inverse, RFFT.
      const [wr, wi] = naiveDft(re, im, shape, 1, -1);
      expectClose(got[0], Float32Array.from(pairs(wr, wi)), 2e-6 * Math.max(1, Math.log2(n)) * 4, `FFT n=${n}`);
      expectClose(got[1], Float32Array.from(pairs(re, im)), 1e-5, `IFFT(FFT) n=${n}`);
      const [rr, ri] = naiveDft(re, re.map(() => 0), shape, 1, -1);
      const rwant: number[] = [];
      for (let r = 0; r < 2; r++) for (let k = 0; k < half; k++) rwant.push(rr[r * n + k], ri[r * n + k]);
      expectClose(got[2], Float32Array.from(rwant), 1e-5, `RFFT n=${n}`);
      expectClose(got[3], Float32Array.from(re), 1e-5, `IRFFT(RFFT) n=${n}`);
      expectClose(got[4], Float32Array.from(rwant), 1e-5, `RFFT(IRFFT(RFFT)) n=${n}`);
    });
  }

  it('2-D and 3-D transforms over the trailing dims, batched, against the reference', async () => {
    for (const [shape, k] of [[[3, 4, 6], 2], [[2, 3, 4, 5], 3], [[2, 8, 5], 2]] as const) {
      const len = shape.slice(shape.length - k);
      const size = shape.reduce((a, b) => a * b, 1);
      const last = len[len.length - 1];
      const rshape = [...shape.slice(0, -1), Math.floor(last / 2) + 1];
      const c = ty(shape, 'c64');
      const text = moduleOf([c, ty(shape, 'f32')], ty(shape, 'f32'), [
        `%0 = stablehlo.fft %arg0, type = FFT, length = [${len.join(', ')}] : (${c}) -> ${c}`,
        `%1 = stablehlo.fft %0, type = IFFT, length = [${len.join(', ')}] : (${c}) -> ${c}`,
        `%2 = stablehlo.real %1 : (${c}) -> ${ty(shape, 'f32')}`,
        `%3 = stablehlo.fft %arg1, type = RFFT, length = [${len.join(', ')}] : (${ty(shape, 'f32')}) -> ${ty(rshape, 'c64')}`,
        `%4 = stablehlo.multiply %3, %3 : ${ty(rshape, 'c64')}`,
        `%5 = stablehlo.fft %4, type = IRFFT, length = [${len.join(', ')}] : (${ty(rshape, 'c64')}) -> ${ty(shape, 'f32')}`,
        `%6 = stablehlo.add %2, %5 : ${ty(shape, 'f32')}`,
      ]);
      const { got, want } = await both(text, [c64(shape, values(2 * size, 21)), hostTensor('f32', shape, values(size, 22))]);
      expectClose(got[0], want[0], 2e-5, `fft over ${len} of ${shape}`);
    }
  });
});
