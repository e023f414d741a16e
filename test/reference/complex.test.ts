/**
 * @file complex<f32> and stablehlo.fft on the reference interpreter. FFTs are checked against a
 * direct float64 DFT written independently (test/helpers/complex.ts) for lengths 1 to 97 and
 * batched 2-D/3-D transforms; complex arithmetic against values worked out by hand (and C99
 * Annex G's branch cuts); data movement, reductions and dot_general against the same sums in
 * float64 JS.
 */
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { c64, maxErr, moduleOf, naiveDft, ty, values } from '../helpers/complex.js';

function run(text: string, inputs: HostTensor[]): HostTensor[] {
  const m = parseModule(text, 'm.mlir');
  verifyModule(m);
  return interpret(m, inputs);
}

/** Interleaves planes. */
const pairs = (re: readonly number[], im: readonly number[]) => re.flatMap((r, i) => [r, im[i]]);
const f32s = (xs: readonly number[]) => xs.map(Math.fround);

const LENGTHS = [1, 2, 3, 5, 8, 12, 17, 64, 97];

describe('stablehlo.fft on the reference interpreter, against a direct float64 DFT', () => {
  for (const n of LENGTHS) {
    it(`FFT and IFFT of length ${n}, batched over 2 rows`, () => {
      const shape = [2, n];
      const re = f32s(values(2 * n, n));
      const im = f32s(values(2 * n, n + 100));
      for (const [type, sign] of [['FFT', -1], ['IFFT', 1]] as const) {
        const text = moduleOf([ty(shape, 'c64')], ty(shape, 'c64'), [`%0 = stablehlo.fft %arg0, type = ${type}, length = [${n}] : (${ty(shape, 'c64')}) -> ${ty(shape, 'c64')}`]);
        const [got] = run(text, [c64(shape, pairs(re, im))]);
        const [wr, wi] = naiveDft(re, im, shape, 1, sign);
        const { err, scale } = maxErr(got.data as Float32Array, pairs(wr, wi));
        expect(err, `${type} n=${n}`).toBeLessThanOrEqual(1e-6 * Math.max(scale, 1));
      }
    });

    it(`RFFT keeps bins 0..n/2 and IRFFT inverts it, length ${n}`, () => {
      const shape = [3, n];
      const half = Math.floor(n / 2) + 1;
      const x = f32s(values(3 * n, 7 * n));
      const rfft = moduleOf([ty(shape, 'f32')], ty([3, half], 'c64'), [`%0 = stablehlo.fft %arg0, type = RFFT, length = [${n}] : (${ty(shape, 'f32')}) -> ${ty([3, half], 'c64')}`]);
      const [spec] = run(rfft, [hostTensor('f32', shape, x)]);
      const [wr, wi] = naiveDft(x, x.map(() => 0), shape, 1, -1);
      const want: number[] = [];
      for (let r = 0; r < 3; r++) for (let k = 0; k < half; k++) want.push(wr[r * n + k], wi[r * n + k]);
      const e1 = maxErr(spec.data as Float32Array, want);
      expect(e1.err).toBeLessThanOrEqual(1e-6 * Math.max(e1.scale, 1));

      const irfft = moduleOf([ty([3, half], 'c64')], ty(shape, 'f32'), [`%0 = stablehlo.fft %arg0, type = IRFFT, length = [${n}] : (${ty([3, half], 'c64')}) -> ${ty(shape, 'f32')}`]);
      const [back] = run(irfft, [spec]);
      const e2 = maxErr(back.data as Float32Array, x);
      expect(e2.err).toBeLessThanOrEqual(2e-6);
    });
  }

  it('IRFFT ignores the imaginary parts of the DC and Nyquist bins (a real transform of a Hermitian spectrum)', () => {
    const n = 8;
    const x = f32s(values(n, 3));
    const [wr, wi] = naiveDft(x, x.map(() => 0), [n], 1, -1);
    const spec = pairs(wr.slice(0, 5), wi.slice(0, 5));
    spec[1] = 7; // im of bin 0
    spec[9] = -3; // im of bin n/2
    const text = moduleOf([ty([5], 'c64')], ty([n], 'f32'), [`%0 = stablehlo.fft %arg0, type = IRFFT, length = [${n}] : (${ty([5], 'c64')}) -> ${ty([n], 'f32')}`]);
    const [got] = run(text, [c64([5], spec)]);
    expect(maxErr(got.data as Float32Array, x).err).toBeLessThanOrEqual(2e-6);
  });

  it('2-D and 3-D transforms over the trailing dims, batched over the leading one', () => {
    for (const [shape, k] of [[[3, 4, 6], 2], [[2, 3, 4, 5], 3], [[2, 5, 7], 2]] as const) {
      const len = shape.slice(shape.length - k);
      const size = shape.reduce((a, b) => a * b, 1);
      const re = f32s(values(size, 11));
      const im = f32s(values(size, 12));
      for (const [type, sign] of [['FFT', -1], ['IFFT', 1]] as const) {
        const text = moduleOf([ty(shape, 'c64')], ty(shape, 'c64'), [`%0 = stablehlo.fft %arg0, type = ${type}, length = [${len.join(', ')}] : (${ty(shape, 'c64')}) -> ${ty(shape, 'c64')}`]);
        const [got] = run(text, [c64(shape, pairs(re, im))]);
        const [wr, wi] = naiveDft(re, im, shape, k, sign);
        const { err, scale } = maxErr(got.data as Float32Array, pairs(wr, wi));
        expect(err, `${type} ${shape}`).toBeLessThanOrEqual(1e-6 * Math.max(scale, 1));
      }
      // RFFT over the same dims keeps the first last/2+1 bins of the full transform.
      const last = len[len.length - 1];
      const half = Math.floor(last / 2) + 1;
      const rshape = [...shape.slice(0, -1), half];
      const rfft = moduleOf([ty(shape, 'f32')], ty(rshape, 'c64'), [`%0 = stablehlo.fft %arg0, type = RFFT, length = [${len.join(', ')}] : (${ty(shape, 'f32')}) -> ${ty(rshape, 'c64')}`]);
      const [spec] = run(rfft, [hostTensor('f32', shape, re)]);
      const [fr, fi] = naiveDft(re, re.map(() => 0), shape, k, -1);
      const want: number[] = [];
      for (let r = 0; r < size / last; r++) for (let j = 0; j < half; j++) want.push(fr[r * last + j], fi[r * last + j]);
      const e = maxErr(spec.data as Float32Array, want);
      expect(e.err, `RFFT ${shape}`).toBeLessThanOrEqual(1e-6 * Math.max(e.scale, 1));
      const irfft = moduleOf([ty(rshape, 'c64')], ty(shape, 'f32'), [`%0 = stablehlo.fft %arg0, type = IRFFT, length = [${len.join(', ')}] : (${ty(rshape, 'c64')}) -> ${ty(shape, 'f32')}`]);
      const [back] = run(irfft, [spec]);
      expect(maxErr(back.data as Float32Array, re).err, `IRFFT ${shape}`).toBeLessThanOrEqual(3e-6);
    }
  });
});

describe('complex arithmetic on the reference interpreter', () => {
  const unary = (op: string, z: number[], result: 'c64' | 'f32' = 'c64') => {
    const n = z.length / 2;
    const text = moduleOf([ty([n], 'c64')], ty([n], result), [`%0 = ${op} %arg0 : ${result === 'c64' ? ty([n], 'c64') : `(${ty([n], 'c64')}) -> ${ty([n], 'f32')}`}`]);
    return Array.from(run(text, [c64([n], z)])[0].data as Float32Array);
  };
  const binary = (op: string, a: number[], b: number[]) => {
    const n = a.length / 2;
    const text = moduleOf([ty([n], 'c64'), ty([n], 'c64')], ty([n], 'c64'), [`%0 = ${op} %arg0, %arg1 : ${ty([n], 'c64')}`]);
    return Array.from(run(text, [c64([n], a), c64([n], b)])[0].data as Float32Array);
  };
  const close = (got: number[], want: number[], tol = 1e-6) => {
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => {
      if (Number.isNaN(want[i])) expect(g, `part ${i}`).toBeNaN();
      else if (!Number.isFinite(want[i])) expect(g, `part ${i}`).toBe(want[i]);
      else expect(Math.abs(g - want[i]), `part ${i}: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
    });
  };

  it('multiplies, divides (Smith), adds and subtracts', () => {
    // (1+2i)(3-4i) = 11+2i; (1+2i)/(3-4i) = (-5+10i)/25; (1e30+1e30i)/(2e30+0i) = 0.5+0.5i (no overflow in |d|^2).
    close(binary('stablehlo.multiply', [1, 2, 0, 1], [3, -4, 0, 1]), [11, 2, -1, 0]);
    close(binary('stablehlo.divide', [1, 2, 1e30, 1e30], [3, -4, 2e30, 0]), [-0.2, 0.4, 0.5, 0.5]);
    close(binary('stablehlo.add', [1, 2], [3, -4]), [4, -2]);
    close(binary('stablehlo.subtract', [1, 2], [3, -4]), [-2, 6]);
  });

  it('sqrt, log, exp follow the principal branches (C99 Annex G)', () => {
    // sqrt(-4+0i) = 2i, sqrt(-4-0i) = -2i, sqrt(3+4i) = 2+i; log(-1) = i*pi; exp(i*pi/2) = i.
    close(unary('stablehlo.sqrt', [-4, 0, -4, -0, 3, 4]), [0, 2, 0, -2, 2, 1]);
    close(unary('stablehlo.log', [-1, 0, 0, 1]), [0, Math.PI, 0, Math.PI / 2]);
    close(unary('stablehlo.exponential', [0, Math.PI / 2, 1, 0]), [0, 1, Math.E, 0]);
    // rsqrt(-4) = 1/(2i) = -i/2.
    close(unary('stablehlo.rsqrt', [-4, 0]), [0, -0.5]);
  });

  it('log1p and expm1 keep precision near zero', () => {
    // log(1+z) ~ z - z^2/2 and e^z - 1 ~ z + z^2/2 for z = 1e-4(1+i): z^2 = 2e-8 i.
    close(unary('stablehlo.log_plus_one', [1e-4, 1e-4]), [1e-4, 1e-4 - 1e-8], 1e-5);
    close(unary('stablehlo.exponential_minus_one', [1e-4, 1e-4]), [1e-4, 1e-4 + 1e-8], 1e-5);
  });

  it('sin, cos, tanh, abs, sign', () => {
    // sin(i) = i sinh 1; cos(i) = cosh 1; tanh(i*pi/4) = i; tanh(100+i) = 1.
    close(unary('stablehlo.sine', [0, 1]), [0, Math.sinh(1)]);
    close(unary('stablehlo.cosine', [0, 1]), [Math.cosh(1), 0]);
    close(unary('stablehlo.tanh', [0, Math.PI / 4, 100, 1]), [0, 1, 1, 0]);
    close(unary('stablehlo.abs', [3, 4, 3e30, 4e30], 'f32'), [5, 5e30]);
    close(unary('stablehlo.sign', [3, -4, 0, 0]), [0.6, -0.8, 0, 0]);
  });

  it('power follows XLA: 0^0 = 1, 0^y = 0 for re(y) > 0, i^2 = -1', () => {
    close(binary('stablehlo.power', [0, 0, 0, 0, 0, 1], [0, 0, 2, 1, 2, 0]), [1, 0, 0, 0, -1, 0]);
  });

  it('real, imag, complex, compare EQ/NE, select and convert', () => {
    const text = moduleOf([ty([3], 'c64')], ty([3], 'c64'), [
      '%0 = stablehlo.real %arg0 : (tensor<3xcomplex<f32>>) -> tensor<3xf32>',
      '%1 = stablehlo.imag %arg0 : (tensor<3xcomplex<f32>>) -> tensor<3xf32>',
      '%2 = stablehlo.complex %1, %0 : tensor<3xcomplex<f32>>',
      '%3 = stablehlo.compare EQ, %arg0, %2, FLOAT : (tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>) -> tensor<3xi1>',
      '%4 = stablehlo.select %3, %arg0, %2 : tensor<3xi1>, tensor<3xcomplex<f32>>',
      '%5 = stablehlo.convert %0 : (tensor<3xf32>) -> tensor<3xcomplex<f32>>',
      '%6 = stablehlo.add %4, %5 : tensor<3xcomplex<f32>>',
    ]);
    // swap(z) == z only for z = (2, 2); select keeps z there and swap(z) elsewhere; then + re(z).
    const [got] = run(text, [c64([3], [1, 5, 2, 2, -3, 0])]);
    expect(Array.from(got.data as Float32Array)).toEqual([5 + 1, 1, 2 + 2, 2, 0 - 3, -3]);
    const toF32 = moduleOf([ty([2], 'c64')], 'tensor<2xi32>', ['%0 = stablehlo.convert %arg0 : (tensor<2xcomplex<f32>>) -> tensor<2xi32>']);
    expect(Array.from(run(toF32, [c64([2], [2.7, 9, -1.5, 1])])[0].data as ArrayLike<number>)).toEqual([2, -1]);
  });
});

describe('complex values through data movement, reductions and dot_general', () => {
  const z = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]; // 2x3 of (1+2i) (3+4i) (5+6i) / (7+8i) (9+10i) (11+12i)

  it('transpose, slice, reverse, pad, concatenate, broadcast, reshape keep (re, im) pairs together', () => {
    const text = moduleOf([ty([2, 3], 'c64')], ty([5, 2], 'c64'), [
      '%0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<2x3xcomplex<f32>>) -> tensor<3x2xcomplex<f32>>',
      '%1 = stablehlo.slice %0 [1:3, 0:2] : (tensor<3x2xcomplex<f32>>) -> tensor<2x2xcomplex<f32>>',
      '%2 = stablehlo.reverse %1, dims = [1] : tensor<2x2xcomplex<f32>>',
      '%cst = stablehlo.constant dense<(0.5,-0.5)> : tensor<complex<f32>>',
      '%3 = stablehlo.pad %2, %cst, low = [1, 0], high = [0, 0], interior = [0, 0] : (tensor<2x2xcomplex<f32>>, tensor<complex<f32>>) -> tensor<3x2xcomplex<f32>>',
      '%4 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<complex<f32>>) -> tensor<2x2xcomplex<f32>>',
      '%5 = stablehlo.concatenate %3, %4, dim = 0 : (tensor<3x2xcomplex<f32>>, tensor<2x2xcomplex<f32>>) -> tensor<5x2xcomplex<f32>>',
      '%6 = stablehlo.reshape %5 : (tensor<5x2xcomplex<f32>>) -> tensor<5x2xcomplex<f32>>',
    ]);
    const [got] = run(text, [c64([2, 3], z)]);
    // transpose rows: (1+2i,7+8i) (3+4i,9+10i) (5+6i,11+12i); slice rows 1..2; reverse columns.
    expect(Array.from(got.data as Float32Array)).toEqual([
      0.5, -0.5, 0.5, -0.5,
      9, 10, 3, 4,
      11, 12, 5, 6,
      0.5, -0.5, 0.5, -0.5,
      0.5, -0.5, 0.5, -0.5,
    ]);
  });

  it('reduce sums and multiplies complex values along a dim', () => {
    const body = (op: string) => moduleOf([ty([2, 3], 'c64')], ty([2], 'c64'), [
      `%cst = stablehlo.constant dense<(${op === 'add' ? '0.0,0.0' : '1.0,0.0'})> : tensor<complex<f32>>`,
      `%0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.${op} across dimensions = [1] : (tensor<2x3xcomplex<f32>>, tensor<complex<f32>>) -> tensor<2xcomplex<f32>>`,
    ]);
    expect(Array.from(run(body('add'), [c64([2, 3], z)])[0].data as ArrayLike<number>)).toEqual([9, 12, 27, 30]);
    // (1+2i)(3+4i) = -5+10i; (-5+10i)(5+6i) = -25-30i+50i-60 = -85+20i.
    // (7+8i)(9+10i) = 63+70i+72i-80 = -17+142i; (-17+142i)(11+12i) = -187-204i+1562i-1704 = -1891+1358i.
    expect(Array.from(run(body('multiply'), [c64([2, 3], z)])[0].data as ArrayLike<number>)).toEqual([-85, 20, -1891, 1358]);
  });

  it('dot_general multiplies complex matrices', () => {
    const text = moduleOf([ty([2, 3], 'c64'), ty([3, 1], 'c64')], ty([2, 1], 'c64'), [
      '%0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0] : (tensor<2x3xcomplex<f32>>, tensor<3x1xcomplex<f32>>) -> tensor<2x1xcomplex<f32>>',
    ]);
    const w = [0, 1, 1, 0, 1, -1]; // i, 1, 1-i
    const want: number[] = [];
    for (let r = 0; r < 2; r++) {
      let sr = 0, si = 0;
      for (let k = 0; k < 3; k++) {
        const [a, b, c, d] = [z[2 * (3 * r + k)], z[2 * (3 * r + k) + 1], w[2 * k], w[2 * k + 1]];
        sr += a * c - b * d;
        si += a * d + b * c;
      }
      want.push(sr, si);
    }
    expect(Array.from(run(text, [c64([2, 3], z), c64([3, 1], w)])[0].data as ArrayLike<number>)).toEqual(want);
  });

  it('gather, dynamic_slice and scatter-add move pairs', () => {
    const text = moduleOf([ty([2, 3], 'c64'), 'tensor<i32>'], ty([1, 3], 'c64'), [
      '%0 = stablehlo.dynamic_slice %arg0, %arg1, %arg1, sizes = [1, 3] : (tensor<2x3xcomplex<f32>>, tensor<i32>, tensor<i32>) -> tensor<1x3xcomplex<f32>>',
    ]);
    expect(Array.from(run(text, [c64([2, 3], z), hostTensor('i32', [], [1])])[0].data as ArrayLike<number>)).toEqual([7, 8, 9, 10, 11, 12]);
    const scatter = `module @m {
  func.func public @main(%arg0: tensor<3xcomplex<f32>>, %arg1: tensor<2x1xi32>, %arg2: tensor<2xcomplex<f32>>) -> tensor<3xcomplex<f32>> {
    %0 = "stablehlo.scatter"(%arg0, %arg1, %arg2) <{scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>}> ({
    ^bb0(%a: tensor<complex<f32>>, %b: tensor<complex<f32>>):
      %s = stablehlo.multiply %a, %b : tensor<complex<f32>>
      stablehlo.return %s : tensor<complex<f32>>
    }) : (tensor<3xcomplex<f32>>, tensor<2x1xi32>, tensor<2xcomplex<f32>>) -> tensor<3xcomplex<f32>>
    return %0 : tensor<3xcomplex<f32>>
  }
}`;
    // index 2 twice: (5+6i) * i * i = -(5+6i).
    const [got] = run(scatter, [c64([3], z.slice(0, 6)), hostTensor('i32', [2, 1], [2, 2]), c64([2], [0, 1, 0, 1])]);
    expect(Array.from(got.data as Float32Array)).toEqual([1, 2, 3, 4, -5, -6]);
  });
});
