/**
 * @file The occupancy rewrites (compiler/passes/occupancy.ts) and the thread-per-row reduce
 * kernel: which products are split along K and which reductions in two stages, that the rewritten
 * modules verify, and that they compute what the reference interpreter computes on the original
 * module — split products with epilogues, transposed and batched operands, reductions with a
 * non-identity init value, NaN, integers, few long rows, many short ones.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Op } from '../../ir/ops.js';
import { verifyModule } from '../../ir/verify.js';
import { chooseSplitK, choosePartials, splitForOccupancy } from '../../compiler/passes/occupancy.js';
import { countOps } from '../../compiler/passes/rewrite.js';
import { compile } from '../../compiler/compile.js';
import { chooseMatmulTile } from '../../compiler/codegen/tiles.js';
import { DEFAULT_TARGET, type Target } from '../../compiler/program.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

/** A large GPU's limits (an H200 through Dawn). */
const BIG: Target = { ...DEFAULT_TARGET, maxWorkgroupSize: 1024, maxStorageBuffers: 16, maxWorkgroupStorage: 49152, f16: true, subgroups: true };

let seed = 7;
function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

function random(dtype: 'f32' | 'i32', shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor(dtype, shape, Array.from({ length: n }, () => (dtype === 'i32' ? Math.floor(rand() * 9) - 4 : Math.round((rand() * 2 - 1) * 64) / 64)));
}

const ty = (shape: number[], d = 'f32') => `tensor<${shape.join('x')}${shape.length ? 'x' : ''}${d}>`;

/** Runs `text` on the GPU and on the reference interpreter (the original module) and compares. */
async function agree(text: string, inputs: HostTensor[], tol = 1e-5): Promise<void> {
  const dev = await gpu();
  const want = interpret(parse(text), inputs);
  const outs = dev.execute(dev.compile(parse(text)), inputs.map((t) => dev.upload(t)));
  for (const [i, o] of outs.entries()) expect(mismatch(await dev.read(o), want[i], tol, tol), `output ${i}`).toBeUndefined();
}

describe('matmul tile choice', () => {
  const shape = (b: number, m: number, n: number, target = BIG) => {
    const t = chooseMatmulTile(b, m, n, target);
    return `${t.bm}x${t.bn}x${t.bk}/${t.rm}x${t.rn}`;
  };
  it('the largest block that makes enough workgroups, else a 4x4-per-thread block that makes a quarter of them', () => {
    expect(shape(1, 4096, 4096)).toBe('128x128x8/8x8');
    expect(shape(32, 512, 512)).toBe('128x128x8/8x8');
    expect(shape(1, 2048, 3072)).toBe('128x128x8/8x8');
    expect(shape(1, 1024, 1024)).toBe('64x64x16/4x4');
    expect(shape(1, 2048, 768)).toBe('64x64x16/4x4');
    expect(shape(1, 256, 1024)).toBe('64x64x16/4x4'); // not 32x32 in 256 workgroups (slower on an H200)
    expect(shape(1, 256, 512)).toBe('32x64x8/4x4');
    expect(shape(1, 128, 128)).toBe('32x32x8/4x4');
  });

  it('on a CPU adapter, the largest 8x8-per-thread block the output fills', () => {
    const cpu: Target = { ...DEFAULT_TARGET, cpu: true };
    expect(shape(1, 128, 128, cpu)).toBe('128x128x8/8x8');
    expect(shape(1, 256, 256, cpu)).toBe('128x128x8/8x8');
    expect(shape(1, 64, 128, cpu)).toBe('64x128x8/8x8');
    expect(shape(4, 64, 64, cpu)).toBe('64x64x8/8x8');
    expect(shape(2, 40, 40, cpu)).toBe('32x32x8/4x4'); // no 8x8 block without waste: as on a GPU
  });
});

describe('split-K', () => {
  it('splits products whose output cannot fill the GPU when K is long, and only those', () => {
    expect(chooseSplitK(1, 2048, 768, 3072, BIG)).toBe(4); // a transformer's FF output projection: the largest tile
    expect(chooseSplitK(1, 2048, 3072, 768, BIG)).toBe(1); // its FF input: enough large tiles
    expect(chooseSplitK(1, 2048, 768, 768, BIG)).toBe(1); // q/k/v: enough 64x64 tiles, K too short for the largest
    expect(chooseSplitK(1, 256, 1024, 1024, BIG)).toBe(4); // an MLP layer: 64 workgroups -> 256
    expect(chooseSplitK(1, 1024, 1024, 256, BIG)).toBe(1); // its weight gradient: enough tiles
    expect(chooseSplitK(1, 4096, 4096, 4096, BIG)).toBe(1);
    expect(chooseSplitK(32, 512, 512, 512, BIG)).toBe(1);
    expect(chooseSplitK(1, 64, 64, 64, BIG)).toBe(1); // small: a second kernel costs more than it saves
    expect(chooseSplitK(1, 1024, 768, 3000, BIG)).toBe(2); // 192 workgroups of 64x64 -> 384
    expect(chooseSplitK(1, 1024, 768, 3001, BIG)).toBe(1); // no slice count divides K
    // Two contracting dimensions (8 x 128): the outer one is sliced, the slices are 1024 / s long.
    expect(chooseSplitK(1, 256, 1024, 1024, BIG, 8)).toBe(4);
    expect(chooseSplitK(1, 256, 1024, 1024, BIG, 3)).toBe(1);
  });

  const dense = (m: number, k: number, n: number) => `func.func public @main(%a: ${ty([m, k])}, %b: ${ty([k, n])}, %c: ${ty([n])}) -> ${ty([m, n])} {
  %d = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${ty([m, k])}, ${ty([k, n])}) -> ${ty([m, n])}
  %cb = stablehlo.broadcast_in_dim %c, dims = [1] : (${ty([n])}) -> ${ty([m, n])}
  %s = stablehlo.add %d, %cb : ${ty([m, n])}
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %zb = stablehlo.broadcast_in_dim %z, dims = [] : (tensor<f32>) -> ${ty([m, n])}
  %r = stablehlo.maximum %s, %zb : ${ty([m, n])}
  return %r : ${ty([m, n])}
}`;

  it('rewrites a dense layer into slices and a sum that verify', () => {
    const m = splitForOccupancy(parse(dense(2048, 3072, 768)), BIG);
    verifyModule(m);
    expect(countOps(m, Op.DotGeneral)).toBe(1);
    expect(countOps(m, Op.Reduce)).toBe(1);
    expect(countOps(m, Op.Reshape)).toBe(2);
    // The sum and the bias/relu epilogue are one kernel after the product.
    expect(compile(parse(dense(2048, 3072, 768)), BIG).kernels.map((k) => k.name)).toEqual(['dot_0', 'reduce_add_maximum_0']);
  });

  /** Runs `text` split in `s` slices (forced: the shapes are small) on the GPU against the reference on the original. */
  async function splitAgrees(text: string, s: number, inputs: HostTensor[]): Promise<void> {
    const dev = await gpu();
    const split = splitForOccupancy(parse(text), dev.target, () => s);
    verifyModule(split);
    expect(countOps(split, Op.Reduce)).toBe(1);
    const want = interpret(parse(text), inputs);
    const got = await dev.read(dev.execute(dev.compile(split), inputs.map((t) => dev.upload(t)))[0]);
    expect(mismatch(got, want[0], 1e-4, 1e-4)).toBeUndefined();
  }

  it('a split dense layer with bias and relu matches the reference', async () => {
    await splitAgrees(dense(96, 1024, 80), 4, [random('f32', [96, 1024]), random('f32', [1024, 80]), random('f32', [80])]);
  });

  it('batched, transposed operands (contraction over the leading axis of both), three slices', async () => {
    const [b, k, m, n] = [2, 768, 36, 52];
    const text = `func.func public @main(%a: ${ty([b, k, m])}, %b: ${ty([b, k, n])}) -> ${ty([b, m, n])} {
  %d = stablehlo.dot_general %a, %b, batching_dims = [0] x [0], contracting_dims = [1] x [1] : (${ty([b, k, m])}, ${ty([b, k, n])}) -> ${ty([b, m, n])}
  return %d : ${ty([b, m, n])}
}`;
    await splitAgrees(text, 3, [random('f32', [b, k, m]), random('f32', [b, k, n])]);
  });

  it('two contracting dimensions: the outer one is sliced', async () => {
    const text = `func.func public @main(%a: ${ty([24, 8, 64])}, %b: ${ty([8, 64, 40])}) -> ${ty([24, 40])} {
  %d = stablehlo.dot_general %a, %b, contracting_dims = [1, 2] x [0, 1] : (${ty([24, 8, 64])}, ${ty([8, 64, 40])}) -> ${ty([24, 40])}
  return %d : ${ty([24, 40])}
}`;
    await splitAgrees(text, 2, [random('f32', [24, 8, 64]), random('f32', [8, 64, 40])]);
  });

  it('leaves integer and f16 products alone (their partial sums would round or wrap differently)', () => {
    const text = (d: string) => `func.func public @main(%a: ${ty([128, 2048], d)}, %b: ${ty([2048, 128], d)}) -> ${ty([128, 128], d)} {
  %d = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (${ty([128, 2048], d)}, ${ty([2048, 128], d)}) -> ${ty([128, 128], d)}
  return %d : ${ty([128, 128], d)}
}`;
    for (const d of ['i32', 'f16']) {
      const m = parse(text(d));
      expect(splitForOccupancy(m, BIG)).toBe(m);
    }
  });
});

describe('two-stage reductions', () => {
  it('splits few long rows, not many rows or short ones', () => {
    expect(choosePartials(1, 256 * 1024)).toBe(128);
    expect(choosePartials(1, 8192 * 4096)).toBe(512);
    expect(choosePartials(4, 65536)).toBe(32);
    expect(choosePartials(8192, 4096)).toBe(1);
    expect(choosePartials(1, 1000)).toBe(1);
  });

  const full = (shape: number[], body: string, init: string, d = 'f32') => `func.func public @main(%x: ${ty(shape, d)}) -> ${ty([], d)} {
  %i = stablehlo.constant dense<${init}> : ${ty([], d)}
  %r = stablehlo.reduce(%x init: %i) applies stablehlo.${body} across dimensions = [${shape.map((_, j) => j).join(', ')}] : (${ty(shape, d)}, ${ty([], d)}) -> ${ty([], d)}
  return %r : ${ty([], d)}
}`;

  it('a mean over a whole batch is a partial sum per slice, then one sum and the divide', async () => {
    const text = `func.func public @main(%x: ${ty([256, 1024])}, %y: ${ty([256, 1024])}) -> tensor<f32> {
  %d = stablehlo.subtract %x, %y : ${ty([256, 1024])}
  %s = stablehlo.multiply %d, %d : ${ty([256, 1024])}
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %r = stablehlo.reduce(%s init: %z) applies stablehlo.add across dimensions = [0, 1] : (${ty([256, 1024])}, tensor<f32>) -> tensor<f32>
  %n = stablehlo.constant dense<262144.0> : tensor<f32>
  %m = stablehlo.divide %r, %n : tensor<f32>
  return %m : tensor<f32>
}`;
    const split = splitForOccupancy(parse(text), BIG);
    verifyModule(split);
    expect(countOps(split, Op.Reduce)).toBe(2);
    // The squared difference is computed in the first stage's loads (no kernel of its own); the divide follows the second.
    expect(compile(parse(text), BIG).kernels.map((k) => k.name)).toEqual(['reduce_0', 'reduce_divide_0']);
    // Against an f64 sum: the reference interpreter folds 262,144 terms one by one in f32, which
    // drifts by ~3e-4 here; the two-stage tree stays within f32 rounding of the exact mean.
    const [x, y] = [random('f32', [256, 1024]), random('f32', [256, 1024])];
    const dev = await gpu();
    const got = (await dev.read(dev.execute(dev.compile(parse(text)), [x, y].map((t) => dev.upload(t)))[0])).data[0] as number;
    let exact = 0;
    for (let i = 0; i < x.data.length; i++) exact += ((x.data[i] as number) - (y.data[i] as number)) ** 2;
    expect(Math.abs(got - exact / x.data.length) / (exact / x.data.length)).toBeLessThan(1e-6);
  });

  it('keeps a non-identity init value once, in the second stage', async () => {
    await agree(full([64, 1024], 'add', '5.0'), [random('f32', [64, 1024])]);
    await agree(full([64, 1024], 'maximum', '0.75'), [random('f32', [64, 1024])]);
  });

  it('NaN anywhere still makes a max NaN; integer sums and products are exact', async () => {
    const x = random('f32', [256, 256]);
    (x.data as Float32Array)[40000] = NaN;
    await agree(full([256, 256], 'maximum', '0xFF800000'), [x]);
    await agree(full([256, 256], 'add', '3', 'i32'), [random('i32', [256, 256])]);
    await agree(full([65536], 'minimum', '2147483647', 'i32'), [random('i32', [65536])]);
  });

  it('few rows: each row splits into slices of its own', async () => {
    const text = `func.func public @main(%x: ${ty([4, 65536])}) -> ${ty([4])} {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %r = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (${ty([4, 65536])}, tensor<f32>) -> ${ty([4])}
  return %r : ${ty([4])}
}`;
    expect(countOps(splitForOccupancy(parse(text), BIG), Op.Reduce)).toBe(2);
    await agree(text, [random('f32', [4, 65536])]);
  });
});

describe('thread-per-row reduce kernel', () => {
  it('many short rows over a leading axis, with a per-row epilogue, and over a trailing one', async () => {
    const lead = `func.func public @main(%x: ${ty([6, 40, 64])}, %c: ${ty([40, 64])}) -> ${ty([40, 64])} {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %r = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (${ty([6, 40, 64])}, tensor<f32>) -> ${ty([40, 64])}
  %e = stablehlo.multiply %r, %c : ${ty([40, 64])}
  return %e : ${ty([40, 64])}
}`;
    expect(compile(parse(lead), BIG).kernels).toHaveLength(1);
    await agree(lead, [random('f32', [6, 40, 64]), random('f32', [40, 64])]);
    const trail = `func.func public @main(%x: ${ty([3000, 5], 'i32')}) -> ${ty([3000], 'i32')} {
  %z = stablehlo.constant dense<-7> : tensor<i32>
  %r = stablehlo.reduce(%x init: %z) applies stablehlo.maximum across dimensions = [1] : (${ty([3000, 5], 'i32')}, tensor<i32>) -> ${ty([3000], 'i32')}
  return %r : ${ty([3000], 'i32')}
}`;
    await agree(trail, [random('i32', [3000, 5])]);
  });

  it('a variadic reduction (argmax over short rows) keeps its first-index tie rule', async () => {
    const text = `func.func public @main(%x: ${ty([2048, 8])}) -> (${ty([2048])}, ${ty([2048], 'i32')}) {
  %iota = stablehlo.iota dim = 1 : ${ty([2048, 8], 'i32')}
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %zero = stablehlo.constant dense<0> : tensor<i32>
  %r:2 = stablehlo.reduce(%x init: %ninf), (%iota init: %zero) across dimensions = [1] : (${ty([2048, 8])}, ${ty([2048, 8], 'i32')}, tensor<f32>, tensor<i32>) -> (${ty([2048])}, ${ty([2048], 'i32')})
    reducer(%a: tensor<f32>, %b: tensor<f32>) (%ai: tensor<i32>, %bi: tensor<i32>) {
      %gt = stablehlo.compare GT, %a, %b : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %eq = stablehlo.compare EQ, %a, %b : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %lt = stablehlo.compare LT, %ai, %bi : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %tie = stablehlo.and %eq, %lt : tensor<i1>
      %take = stablehlo.or %gt, %tie : tensor<i1>
      %v = stablehlo.select %take, %a, %b : tensor<i1>, tensor<f32>
      %i = stablehlo.select %take, %ai, %bi : tensor<i1>, tensor<i32>
      stablehlo.return %v, %i : tensor<f32>, tensor<i32>
    }
  return %r#0, %r#1 : ${ty([2048])}, ${ty([2048], 'i32')}
}`;
    // Coarse values, so that rows hold ties.
    const x = hostTensor('f32', [2048, 8], Array.from({ length: 2048 * 8 }, () => Math.floor(rand() * 4)));
    await agree(text, [x]);
  });
});
