/**
 * @file The tiled matmul kernel against the reference interpreter: every tile shape of the tuning
 * table on shapes that are and are not multiples of the tile (edges in M, N and K), transposed and
 * batched operands (vec4 loads along K or along M/N, scalar loads), fused operand producers,
 * epilogues, integer and f16 products. Inputs are random, so an unwritten or misplaced element shows.
 */
import { requireF16 } from '../helpers/devices.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { MATMUL_TILES, setMatmulTileOverride, type MatmulTile } from '../../compiler/codegen/tiles.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);
afterEach(() => setMatmulTileOverride(undefined));

let seed = 1;
function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

function randomTensor(dtype: 'f32' | 'i32' | 'f16', shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => (dtype === 'i32' ? Math.floor(rand() * 9) - 4 : Math.round((rand() * 2 - 1) * 64) / 64));
  return hostTensor(dtype, shape, vals);
}

const ty = (shape: number[], d: string) => `tensor<${shape.join('x')}${shape.length ? 'x' : ''}${d}>`;

interface DotCase {
  name: string;
  lhs: number[];
  rhs: number[];
  out: number[];
  batch?: [number[], number[]];
  contract: [number[], number[]];
  dtype?: 'f32' | 'i32' | 'f16';
  /** Extra ops after the dot (epilogue) or before it (fused operand), as text using %a %b %d. */
  pre?: string;
  post?: string;
}

/** A module computing the case; `pad` adds an unused argument so each tile shape gets its own executable. */
function moduleText(c: DotCase, pad: number): string {
  const d = c.dtype ?? 'f32';
  const dims = `${c.batch ? `batching_dims = [${c.batch[0].join(', ')}] x [${c.batch[1].join(', ')}], ` : ''}contracting_dims = [${c.contract[0].join(', ')}] x [${c.contract[1].join(', ')}]`;
  const lhsName = c.pre ? '%a2' : '%a';
  return `func.func public @main(%a: ${ty(c.lhs, d)}, %b: ${ty(c.rhs, d)}, %pad: ${ty([pad + 1], 'f32')}) -> ${ty(c.out, d)} {
  ${c.pre ?? ''}
  %d = stablehlo.dot_general ${lhsName}, %b, ${dims} : (${ty(c.lhs, d)}, ${ty(c.rhs, d)}) -> ${ty(c.out, d)}
  ${c.post ?? ''}
  return ${c.post ? '%r' : '%d'} : ${ty(c.out, d)}
}`;
}

const CASES: DotCase[] = [
  { name: 'square, multiple of every tile', lhs: [128, 64], rhs: [64, 128], out: [128, 128], contract: [[1], [0]], post: '%r = stablehlo.negate %d : tensor<128x128xf32>' },
  { name: 'odd edges in M, N and K', lhs: [37, 29], rhs: [29, 45], out: [37, 45], contract: [[1], [0]] },
  { name: 'odd edges with an epilogue', lhs: [37, 29], rhs: [29, 45], out: [37, 45], contract: [[1], [0]], post: '%r = stablehlo.add %d, %d : tensor<37x45xf32>' },
  { name: 'K a multiple of 4, M and N odd', lhs: [33, 20], rhs: [20, 70], out: [33, 70], contract: [[1], [0]] },
  { name: 'lhs transposed (contract dim 0)', lhs: [24, 36], rhs: [24, 52], out: [36, 52], contract: [[0], [0]] },
  { name: 'rhs transposed (x @ w.T)', lhs: [40, 16], rhs: [68, 16], out: [40, 68], contract: [[1], [1]] },
  { name: 'batched', lhs: [3, 20, 12], rhs: [3, 12, 36], out: [3, 20, 36], batch: [[0], [0]], contract: [[2], [1]] },
  { name: 'batched with an epilogue', lhs: [3, 20, 12], rhs: [3, 12, 36], out: [3, 20, 36], batch: [[0], [0]], contract: [[2], [1]], post: '%r = stablehlo.tanh %d : tensor<3x20x36xf32>' },
  { name: 'batch dim in the middle', lhs: [20, 3, 12], rhs: [3, 12, 8], out: [3, 20, 8], batch: [[1], [0]], contract: [[2], [1]] },
  { name: 'two contracting dims', lhs: [10, 4, 6], rhs: [4, 6, 9], out: [10, 9], contract: [[1, 2], [0, 1]] },
  { name: 'vector-matrix (M = 1)', lhs: [1, 64], rhs: [64, 40], out: [1, 40], contract: [[1], [0]] },
  { name: 'K = 1', lhs: [16, 1], rhs: [1, 24], out: [16, 24], contract: [[1], [0]] },
  { name: 'fused operand (exp of lhs)', lhs: [30, 16], rhs: [16, 20], out: [30, 20], contract: [[1], [0]], pre: '%a2 = stablehlo.exponential %a : tensor<30x16xf32>' },
  { name: 'integer', lhs: [19, 13], rhs: [13, 21], out: [19, 21], contract: [[1], [0]], dtype: 'i32' },
];

const TILES: (MatmulTile | undefined)[] = [undefined, ...MATMUL_TILES, { bm: 16, bn: 16, bk: 4, rm: 4, rn: 4 }];

describe('matmul kernel', () => {
  CASES.forEach((c, ci) => {
    // Every tile shape on the first case; elsewhere the heuristic's choice and one other shape in
    // turn (software adapters compile the unrolled kernels slowly).
    const tiles = ci === 0 ? TILES : [undefined, TILES[1 + (ci % (TILES.length - 1))]];
    it(c.name, async () => {
      const dev = await gpu();
      const inputs = [randomTensor(c.dtype ?? 'f32', c.lhs), randomTensor(c.dtype ?? 'f32', c.rhs)];
      const want = interpret(parse(moduleText(c, 0)), [...inputs, hostTensor('f32', [1], [0])])[0];
      for (const [i, tile] of tiles.entries()) {
        setMatmulTileOverride(tile);
        const pad = hostTensor('f32', [i + 1], new Array(i + 1).fill(0));
        const exe = dev.compile(parse(moduleText(c, i)));
        const [out] = dev.execute(exe, [...inputs, pad].map((t) => dev.upload(t)));
        const got = await dev.read(out);
        expect(mismatch(got, want, 1e-5, 1e-5), `tile ${JSON.stringify(tile ?? 'heuristic')}`).toBeUndefined();
      }
    });
  });

  it('f16 operands when the adapter has shader-f16', async (ctx) => {
    const dev = await gpu();
    requireF16(dev.target.f16, ctx);
    const c: DotCase = { name: 'f16', lhs: [18, 12], rhs: [12, 22], out: [18, 22], contract: [[1], [0]], dtype: 'f16' };
    const inputs = [randomTensor('f16', c.lhs), randomTensor('f16', c.rhs), hostTensor('f32', [1], [0])];
    const want = interpret(parse(moduleText(c, 0)), inputs)[0];
    const got = await dev.read(dev.execute(dev.compile(parse(moduleText(c, 0))), inputs.map((t) => dev.upload(t)))[0]);
    expect(mismatch(got, want, 2e-3, 2e-3)).toBeUndefined();
  });
});
