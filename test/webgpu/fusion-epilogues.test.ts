/**
 * @file The fusions that save kernels in training graphs, run on WebGPU against the reference
 * interpreter: a matmul storing its result transposed (2-D and batched, shapes that are not
 * multiples of 4 or of the tile, with epilogues before and after the transpose, unit dimensions
 * added, alongside the plain result), values reading an earlier epilogue or loop output from
 * registers (an Adam update, chains in loop and reduce kernels, both vec4 and scalar loops), and
 * the reads that must not fuse (a square matmul's result added to its own transpose). Row
 * kernels: softmax, log-softmax, logsumexp (keepdims) and layer norm as the client lowers them,
 * each one kernel whose second reduction is a stage of the first, at rows with a tail (not a
 * multiple of the workgroup or of 4), rows too long to hold in registers (read again), a middle
 * axis, NaN and -inf rows, a stage result returned, and reductions that must not be stages.
 * Each case also states its kernel count, so a case that stopped fusing is noticed as well as a
 * wrong one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { countDispatches, DEFAULT_TARGET } from '../../compiler/program.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import type { Module } from '../../ir/types.js';
import { lower, nn, np, setDefaultDevice, type Array as KArray } from '../../client/index.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { mismatch } from '../helpers/corpus.js';
import { rng } from '../helpers/rng.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const ty = (shape: number[], d = 'f32') => `tensor<${shape.join('x')}${shape.length ? 'x' : ''}${d}>`;

function inputsFor(m: Module, seed: number): HostTensor[] {
  const next = rng(seed);
  const main = m.funcs.find((f) => f.name === 'main')!;
  return main.body.args.map((a) => {
    const n = a.type.shape.reduce((x, y) => x * y, 1);
    // Multiples of 1/64 in [-1, 1] keep products exact enough to compare tightly; moments are positive.
    return hostTensor('f32', a.type.shape, Array.from({ length: n }, () => Math.round((next() * 2 - 1) * 64) / 64));
  });
}

interface Case {
  name: string;
  text: string;
  /** Dispatches on the default target (8 storage buffers). */
  kernels: number;
}

/** `dot_general` of %a and %b into %d, then `body`, returning `outs`. */
function dotModule(a: number[], b: number[], d: number[], dims: string, extraArgs: string, body: string, outs: [string, number[]][]): string {
  return `func.func public @main(%a: ${ty(a)}, %b: ${ty(b)}${extraArgs}) -> (${outs.map(([, s]) => ty(s)).join(', ')}) {
  %d = stablehlo.dot_general %a, %b, ${dims} : (${ty(a)}, ${ty(b)}) -> ${ty(d)}
${body}
  return ${outs.map(([v]) => v).join(', ')} : ${outs.map(([, s]) => ty(s)).join(', ')}
}`;
}

const CASES: Case[] = [
  {
    name: 'weight gradient: transpose of a contract-dim-0 product (odd sizes)',
    text: dotModule([9, 37], [9, 45], [37, 45], 'contracting_dims = [0] x [0]', '',
      '  %t = stablehlo.transpose %d, dims = [1, 0] : (tensor<37x45xf32>) -> tensor<45x37xf32>', [['%t', [45, 37]]]),
    kernels: 1,
  },
  {
    name: 'transposed store with epilogues before and after the transpose',
    text: dotModule([33, 20], [20, 70], [33, 70], 'contracting_dims = [1] x [0]', ', %bias: tensor<33xf32>', `
  %e = stablehlo.exponential %d : tensor<33x70xf32>
  %t = stablehlo.transpose %e, dims = [1, 0] : (tensor<33x70xf32>) -> tensor<70x33xf32>
  %bb = stablehlo.broadcast_in_dim %bias, dims = [1] : (tensor<33xf32>) -> tensor<70x33xf32>
  %s = stablehlo.add %t, %bb : tensor<70x33xf32>
  %z = stablehlo.constant dense<0.0> : tensor<70x33xf32>
  %r = stablehlo.maximum %s, %z : tensor<70x33xf32>`, [['%r', [70, 33]]]),
    kernels: 1,
  },
  {
    name: 'batched, batch dimension moved last',
    text: dotModule([3, 20, 12], [3, 12, 9], [3, 20, 9], 'batching_dims = [0] x [0], contracting_dims = [2] x [1]', '',
      '  %t = stablehlo.transpose %d, dims = [2, 1, 0] : (tensor<3x20x9xf32>) -> tensor<9x20x3xf32>', [['%t', [9, 20, 3]]]),
    kernels: 1,
  },
  {
    name: 'batched, rows and columns swapped, plus unit dimensions',
    text: dotModule([2, 13, 8], [2, 8, 6], [2, 13, 6], 'batching_dims = [0] x [0], contracting_dims = [2] x [1]', '', `
  %t = stablehlo.transpose %d, dims = [0, 2, 1] : (tensor<2x13x6xf32>) -> tensor<2x6x13xf32>
  %u = stablehlo.reshape %t : (tensor<2x6x13xf32>) -> tensor<2x1x6x13x1xf32>
  %n = stablehlo.negate %u : tensor<2x1x6x13x1xf32>`, [['%n', [2, 1, 6, 13, 1]]]),
    kernels: 1,
  },
  {
    name: 'the result, its transpose and an elementwise epilogue, all returned',
    text: dotModule([16, 24], [24, 12], [16, 12], 'contracting_dims = [1] x [0]', '', `
  %t = stablehlo.transpose %d, dims = [1, 0] : (tensor<16x12xf32>) -> tensor<12x16xf32>
  %h = stablehlo.tanh %d : tensor<16x12xf32>`, [['%d', [16, 12]], ['%t', [12, 16]], ['%h', [16, 12]]]),
    kernels: 1,
  },
  {
    name: 'a result added to its own transpose is not an epilogue',
    text: dotModule([12, 5], [5, 12], [12, 12], 'contracting_dims = [1] x [0]', '', `
  %t = stablehlo.transpose %d, dims = [1, 0] : (tensor<12x12xf32>) -> tensor<12x12xf32>
  %s = stablehlo.add %d, %t : tensor<12x12xf32>`, [['%s', [12, 12]]]),
    kernels: 2,
  },
  {
    name: 'Adam on a transposed weight gradient: moments and parameter in the matmul kernel',
    text: dotModule([10, 7], [10, 5], [7, 5], 'contracting_dims = [0] x [0]', ', %p: tensor<5x7xf32>, %m: tensor<5x7xf32>, %v: tensor<5x7xf32>', `
  %g = stablehlo.transpose %d, dims = [1, 0] : (tensor<7x5xf32>) -> tensor<5x7xf32>
  %b1 = stablehlo.constant dense<0.9> : tensor<5x7xf32>
  %c1 = stablehlo.constant dense<0.1> : tensor<5x7xf32>
  %m1 = stablehlo.multiply %m, %b1 : tensor<5x7xf32>
  %m2 = stablehlo.multiply %g, %c1 : tensor<5x7xf32>
  %mn = stablehlo.add %m1, %m2 : tensor<5x7xf32>
  %b2 = stablehlo.constant dense<0.999> : tensor<5x7xf32>
  %c2 = stablehlo.constant dense<0.001> : tensor<5x7xf32>
  %v1 = stablehlo.multiply %v, %b2 : tensor<5x7xf32>
  %gg = stablehlo.multiply %g, %g : tensor<5x7xf32>
  %v2 = stablehlo.multiply %gg, %c2 : tensor<5x7xf32>
  %vn = stablehlo.add %v1, %v2 : tensor<5x7xf32>
  %vv = stablehlo.abs %vn : tensor<5x7xf32>
  %sq = stablehlo.sqrt %vv : tensor<5x7xf32>
  %eps = stablehlo.constant dense<1.0e-3> : tensor<5x7xf32>
  %den = stablehlo.add %sq, %eps : tensor<5x7xf32>
  %lr = stablehlo.constant dense<0.01> : tensor<5x7xf32>
  %st = stablehlo.multiply %mn, %lr : tensor<5x7xf32>
  %up = stablehlo.divide %st, %den : tensor<5x7xf32>
  %pn = stablehlo.subtract %p, %up : tensor<5x7xf32>`, [['%pn', [5, 7]], ['%mn', [5, 7]], ['%vn', [5, 7]]]),
    kernels: 1,
  },
  {
    name: 'loop kernel: outputs computed from earlier outputs (vec4)',
    text: `func.func public @main(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %a = stablehlo.multiply %x, %y : tensor<8x16xf32>
  %b = stablehlo.add %a, %x : tensor<8x16xf32>
  %c = stablehlo.subtract %b, %a : tensor<8x16xf32>
  return %a, %b, %c : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}`,
    kernels: 1,
  },
  {
    name: 'loop kernel: outputs computed from earlier outputs (odd size, scalar loop)',
    text: `func.func public @main(%x: tensor<7x5xf32>, %y: tensor<5xf32>) -> (tensor<7x5xf32>, tensor<7x5xf32>) {
  %yb = stablehlo.broadcast_in_dim %y, dims = [1] : (tensor<5xf32>) -> tensor<7x5xf32>
  %a = stablehlo.multiply %x, %yb : tensor<7x5xf32>
  %e = stablehlo.exponential %a : tensor<7x5xf32>
  %f = stablehlo.add %e, %yb : tensor<7x5xf32>
  return %a, %f : tensor<7x5xf32>, tensor<7x5xf32>
}`,
    kernels: 1,
  },
  {
    name: 'loop kernel: an output read at another element gets a kernel of its own',
    text: `func.func public @main(%x: tensor<6x6xf32>) -> (tensor<6x6xf32>, tensor<6x6xf32>) {
  %a = stablehlo.exponential %x : tensor<6x6xf32>
  %t = stablehlo.transpose %a, dims = [1, 0] : (tensor<6x6xf32>) -> tensor<6x6xf32>
  %f = stablehlo.add %t, %x : tensor<6x6xf32>
  return %a, %f : tensor<6x6xf32>, tensor<6x6xf32>
}`,
    kernels: 2,
  },
  {
    name: 'reduce kernel: per-row and per-element epilogues reading earlier ones',
    text: `func.func public @main(%x: tensor<6x11xf32>) -> (tensor<6xf32>, tensor<6xf32>, tensor<6x11xf32>, tensor<6x11xf32>) {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (tensor<6x11xf32>, tensor<f32>) -> tensor<6xf32>
  %two = stablehlo.constant dense<2.0> : tensor<6xf32>
  %a = stablehlo.multiply %s, %two : tensor<6xf32>
  %b = stablehlo.add %a, %s : tensor<6xf32>
  %sb = stablehlo.broadcast_in_dim %s, dims = [0] : (tensor<6xf32>) -> tensor<6x11xf32>
  %p = stablehlo.subtract %x, %sb : tensor<6x11xf32>
  %q = stablehlo.multiply %p, %p : tensor<6x11xf32>
  return %a, %b, %p, %q : tensor<6xf32>, tensor<6xf32>, tensor<6x11xf32>, tensor<6x11xf32>
}`,
    kernels: 1,
  },
  {
    name: 'reduce kernel: a per-element value reads a per-row epilogue from registers (every thread computes it)',
    text: `func.func public @main(%x: tensor<5x9xf32>) -> (tensor<5xf32>, tensor<5x9xf32>) {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (tensor<5x9xf32>, tensor<f32>) -> tensor<5xf32>
  %a = stablehlo.exponential %s : tensor<5xf32>
  %ab = stablehlo.broadcast_in_dim %a, dims = [0] : (tensor<5xf32>) -> tensor<5x9xf32>
  %p = stablehlo.subtract %x, %ab : tensor<5x9xf32>
  return %a, %p : tensor<5xf32>, tensor<5x9xf32>
}`,
    kernels: 1,
  },
];

describe('fused epilogues on WebGPU', () => {
  CASES.forEach((c, ci) => {
    it(c.name, async () => {
      const m = parse(c.text);
      expect(countDispatches(compile(m, DEFAULT_TARGET).steps)).toBe(c.kernels);
      const dev = await gpu();
      const inputs = inputsFor(m, 100 + ci);
      const want = interpret(m, inputs);
      const outs = dev.execute(dev.compile(parse(c.text)), inputs.map((t) => dev.upload(t)));
      for (const [i, o] of outs.entries()) {
        expect(mismatch(await dev.read(o), want[i], 1e-5, 1e-5), `output ${i}`).toBeUndefined();
      }
    });
  });
});

/** The StableHLO of a client function of f32 arguments of the given shapes. */
function lowered(f: (...xs: KArray[]) => KArray | KArray[], ...shapes: number[][]): string {
  setDefaultDevice(new ReferenceDevice());
  return lower(f)(...shapes.map((sh) => np.zeros(sh))).text;
}

/** A reduce of %x over `dims` with `op`, broadcast back and used by a second reduce over `dims2`. */
function twoReduces(shape: number[], dims: number[], dims2: number[]): string {
  const keep = shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const keep2 = shape.map((_, i) => i).filter((i) => !dims2.includes(i));
  const r = ty(keep.map((i) => shape[i])), r2 = ty(keep2.map((i) => shape[i])), x = ty(shape);
  return `func.func public @main(%x: ${x}) -> ${r2} {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %m = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [${dims}] : (${x}, tensor<f32>) -> ${r}
  %mb = stablehlo.broadcast_in_dim %m, dims = [${keep.map((_, j) => j)}] : (${r}) -> ${ty(keep.map((i) => shape[i]))}
  %mx = stablehlo.broadcast_in_dim %mb, dims = [${keep}] : (${r}) -> ${x}
  %d = stablehlo.subtract %x, %mx : ${x}
  %e = stablehlo.multiply %d, %d : ${x}
  %s = stablehlo.reduce(%e init: %z) applies stablehlo.add across dimensions = [${dims2}] : (${x}, tensor<f32>) -> ${r2}
  return %s : ${r2}
}`;
}

interface RowCase {
  name: string;
  text: () => string;
  /** Dispatches on the default target. */
  kernels: number;
  /** Values to plant in the first input: [flat index, value]. */
  special?: [number, number][];
}

const softmax = (x: KArray) => nn.softmax(x, { axis: -1 });
const ROW_CASES: RowCase[] = [
  { name: 'softmax, rows of 13 (a tail: not a multiple of 4 or of the workgroup)', text: () => lowered(softmax, [7, 13]), kernels: 1 },
  { name: 'softmax, rows of 600 (two shares a thread, the second a tail)', text: () => lowered(softmax, [3, 600]), kernels: 1 },
  {
    name: 'softmax, rows longer than registers hold (16 x 1024 elements): read again, one kernel',
    text: () => lowered(softmax, [2, 16411]), kernels: 1,
  },
  {
    name: 'softmax with a NaN row, a -inf row, an all -inf row and +inf, as JAX',
    text: () => lowered(softmax, [5, 9]), kernels: 1,
    special: [[2, NaN], [9, -Infinity], [12, -Infinity], ...Array.from({ length: 9 }, (_, j): [number, number] => [18 + j, -Infinity]), [30, Infinity]],
  },
  { name: 'softmax over the middle axis', text: () => lowered((x) => nn.softmax(x, { axis: 1 }), [3, 10, 5]), kernels: 1 },
  { name: 'log-softmax, rows of 37', text: () => lowered((x) => nn.logSoftmax(x, { axis: -1 }), [6, 37]), kernels: 1 },
  {
    name: 'logsumexp with keepdims, and the input minus it (a stage result broadcast back)',
    text: () => lowered((x) => {
      const l = nn.logsumexp(x, { axis: -1, keepdims: true });
      return [l, np.subtract(x, l)];
    }, [4, 21]),
    kernels: 1,
  },
  {
    name: 'layer norm with gamma and beta, rows of 50',
    text: () => lowered((x, g, b) => nn.layerNorm(x, g, b, { axis: -1, eps: 1e-5 }), [9, 50], [50], [50]), kernels: 1,
  },
  {
    name: 'layer norm, rows of 52: vec4 loads and stores, fewer vec4s than threads',
    text: () => lowered((x, g, b) => nn.layerNorm(x, g, b, { axis: -1, eps: 1e-5 }), [9, 52], [52], [52]), kernels: 1,
  },
  {
    name: 'softmax, rows of 64 (vec4) with NaN, -inf and all -inf rows',
    text: () => lowered(softmax, [4, 64]), kernels: 1,
    special: [[5, NaN], [70, -Infinity], ...Array.from({ length: 64 }, (_, j): [number, number] => [128 + j, -Infinity]), [200, Infinity]],
  },
  {
    name: 'rows of 40 (vec4): a boolean per-element output stored as scalars beside a vec4 one',
    text: () => lowered((x) => {
      const m = np.mean(x, -1, { keepdims: true });
      return [np.subtract(x, m), np.greater(x, m)];
    }, [6, 40]),
    kernels: 1,
  },
  {
    name: 'layer norm over the last two axes',
    text: () => lowered((x) => nn.layerNorm(x, null, null, { axis: [1, 2], eps: 1e-5 }), [3, 4, 7]), kernels: 1,
  },
  {
    name: 'the max and the sum returned beside the softmax (stage results stored)',
    text: () => `func.func public @main(%x: tensor<5x30xf32>) -> (tensor<5xf32>, tensor<5xf32>, tensor<5x30xf32>) {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %m = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [1] : (tensor<5x30xf32>, tensor<f32>) -> tensor<5xf32>
  %mb = stablehlo.broadcast_in_dim %m, dims = [0] : (tensor<5xf32>) -> tensor<5x30xf32>
  %d = stablehlo.subtract %x, %mb : tensor<5x30xf32>
  %e = stablehlo.exponential %d : tensor<5x30xf32>
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%e init: %z) applies stablehlo.add across dimensions = [1] : (tensor<5x30xf32>, tensor<f32>) -> tensor<5xf32>
  %sb = stablehlo.broadcast_in_dim %s, dims = [0] : (tensor<5xf32>) -> tensor<5x30xf32>
  %p = stablehlo.divide %e, %sb : tensor<5x30xf32>
  return %m, %s, %p : tensor<5xf32>, tensor<5xf32>, tensor<5x30xf32>
}`,
    kernels: 1,
  },
  {
    name: 'a reduction reading a per-row value that is returned (an epilogue, computed after the stages) is no stage',
    text: () => lowered((x) => {
      const m = np.max(x, -1, { keepdims: true });
      const e = np.exp(np.subtract(x, m));
      return [m, np.divide(e, np.sum(e, -1, { keepdims: true }))];
    }, [5, 30]),
    kernels: 2,
  },
  { name: 'a second reduce over other rows is no stage', text: () => twoReduces([6, 10], [1], [0]), kernels: 2 },
  { name: 'a second reduce over the same rows of a 3-D input is a stage', text: () => twoReduces([4, 6, 5], [1], [1]), kernels: 1 },
];

describe('row kernels: a reduction over the same rows is a stage of the first', () => {
  ROW_CASES.forEach((c, ci) => {
    it(c.name, async () => {
      const text = c.text();
      const m = parse(text);
      expect(countDispatches(compile(m, DEFAULT_TARGET).steps)).toBe(c.kernels);
      const dev = await gpu();
      const inputs = inputsFor(m, 300 + ci);
      for (const [i, v] of c.special ?? []) (inputs[0].data as number[] | Float32Array)[i] = v;
      const want = interpret(m, inputs);
      const outs = dev.execute(dev.compile(parse(text)), inputs.map((t) => dev.upload(t)));
      for (const [i, o] of outs.entries()) {
        expect(mismatch(await dev.read(o), want[i], 1e-5, 1e-6), `output ${i}`).toBeUndefined();
      }
    });
  });
});
