/**
 * @file The matmul kernel's strided operand loads (compiler/codegen/strided.ts) against the
 * reference interpreter: attention-style products whose operands are fused transposes and
 * reshapes of values in memory (batch dimensions that are not one run of memory, vec4 loads along
 * K or along N, scalar loads at odd sizes), broadcast weights folded into M, and a reshape that
 * is no strided view (materialised by the fusion planner first). Each case also checks from the WGSL
 * which load path it took, so a case cannot silently test the fallback instead.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { compile } from '../../compiler/compile.js';
import { DEFAULT_TARGET } from '../../compiler/program.js';
import { setMatmulTileOverride, type MatmulTile } from '../../compiler/codegen/tiles.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);
afterEach(() => setMatmulTileOverride(undefined));

let seed = 7;
function randomTensor(shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor('f32', shape, Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.round((seed / 0x7fffffff * 2 - 1) * 64) / 64;
  }));
}

const T = (s: number[]) => `tensor<${s.join('x')}xf32>`;

interface StridedCase {
  name: string;
  args: number[][];
  /** Body ops over %a0, %a1, ...; the result is %r of shape `out`. */
  body: string;
  out: number[];
  /** The dot kernel's two operand bindings: 'vec' (array<vec4<f32>>) or 'scalar' (array<f32>). */
  loads: ['vec' | 'scalar', 'vec' | 'scalar'];
  /** The dot kernel's workgroup grid z (batches; 1 when the batch was folded into M). */
  batches: number;
}

/** q @ k^T over heads: x [b, t, h*d] split into [b, h, t, d] by reshape and transpose. */
function scores(b: number, t: number, h: number, d: number): string {
  const x = [b, t, h * d], s4 = [b, t, h, d], q = [b, h, t, d], o = [b, h, t, t];
  return `%x = stablehlo.reshape %a0 : (${T(x)}) -> ${T(s4)}
  %q = stablehlo.transpose %x, dims = [0, 2, 1, 3] : (${T(s4)}) -> ${T(q)}
  %y = stablehlo.reshape %a1 : (${T(x)}) -> ${T(s4)}
  %k = stablehlo.transpose %y, dims = [0, 2, 1, 3] : (${T(s4)}) -> ${T(q)}
  %kt = stablehlo.transpose %k, dims = [0, 1, 3, 2] : (${T(q)}) -> ${T([b, h, d, t])}
  %r = stablehlo.dot_general %q, %kt, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [2] : (${T(q)}, ${T([b, h, d, t])}) -> ${T(o)}`;
}

/** p @ v over heads: p [b, h, t, t] in memory, v split from [b, t, h*d]. */
function pv(b: number, t: number, h: number, d: number): string {
  const x = [b, t, h * d], s4 = [b, t, h, d], v = [b, h, t, d], p = [b, h, t, t];
  return `%y = stablehlo.reshape %a1 : (${T(x)}) -> ${T(s4)}
  %v = stablehlo.transpose %y, dims = [0, 2, 1, 3] : (${T(s4)}) -> ${T(v)}
  %r = stablehlo.dot_general %a0, %v, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [2] : (${T(p)}, ${T(v)}) -> ${T(v)}`;
}

/** x [b, m, k] @ w [k, n] with w broadcast over the batch (how the client lowers np.matmul), plus a bias. */
function dense(b: number, m: number, k: number, n: number): string {
  const wb = [b, k, n], o = [b, m, n];
  return `%w = stablehlo.broadcast_in_dim %a1, dims = [1, 2] : (${T([k, n])}) -> ${T(wb)}
  %d = stablehlo.dot_general %a0, %w, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (${T([b, m, k])}, ${T(wb)}) -> ${T(o)}
  %c = stablehlo.broadcast_in_dim %a2, dims = [2] : (${T([n])}) -> ${T(o)}
  %r = stablehlo.add %d, %c : ${T(o)}`;
}

/** Heads merged back by transpose and reshape: [b, h, t, d] -> [b, t, h*d], not a strided view along K. */
function merged(b: number, t: number, h: number, d: number, n: number): string {
  const a = [b, h, t, d], tr = [b, t, h, d], m = [b, t, h * d], wb = [b, h * d, n];
  return `%tr = stablehlo.transpose %a0, dims = [0, 2, 1, 3] : (${T(a)}) -> ${T(tr)}
  %m = stablehlo.reshape %tr : (${T(tr)}) -> ${T(m)}
  %w = stablehlo.broadcast_in_dim %a1, dims = [1, 2] : (${T([h * d, n])}) -> ${T(wb)}
  %r = stablehlo.dot_general %m, %w, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (${T(m)}, ${T(wb)}) -> ${T([b, t, n])}`;
}

const CASES: StridedCase[] = [
  { name: 'scores: strided batch dims, vec4 along K', args: [[2, 7, 24], [2, 7, 24]], body: scores(2, 7, 3, 8), out: [2, 3, 7, 7], loads: ['vec', 'vec'], batches: 6 },
  { name: 'scores: odd head size, scalar strided loads', args: [[2, 9, 15], [2, 9, 15]], body: scores(2, 9, 3, 5), out: [2, 3, 9, 9], loads: ['scalar', 'scalar'], batches: 6 },
  { name: 'p @ v: strided batch dims, vec4 along N', args: [[3, 2, 12, 12], [3, 12, 8]], body: pv(3, 12, 2, 4), out: [3, 2, 12, 4], loads: ['vec', 'vec'], batches: 6 },
  { name: 'broadcast weight folded into M', args: [[3, 13, 20], [20, 12], [12]], body: dense(3, 13, 20, 12), out: [3, 13, 12], loads: ['vec', 'vec'], batches: 1 },
  { name: 'broadcast weight folded into M, odd sizes', args: [[3, 13, 7], [7, 9], [9]], body: dense(3, 13, 7, 9), out: [3, 13, 9], loads: ['scalar', 'scalar'], batches: 1 },
];

/**
 * Merged heads (a reshape across a transpose) are no strided view: the fusion planner materialises
 * the merged lhs (its own kernel), which the matmul then reads as a [b * t, h * d] matrix, the
 * batch folded into M.
 */
const MERGED: StridedCase = { name: 'merged heads (reshape across a transpose): materialised lhs', args: [[2, 3, 5, 4], [12, 8]], body: merged(2, 5, 3, 4, 8), out: [2, 5, 8], loads: ['vec', 'vec'], batches: 1 };

function moduleText(c: StridedCase, pad: number): string {
  const params = c.args.map((s, i) => `%a${i}: ${T(s)}`).join(', ');
  return `func.func public @main(${params}, %pad: ${T([pad + 1])}) -> ${T(c.out)} {
  ${c.body}
  return %r : ${T(c.out)}
}`;
}

/** The dot kernel's WGSL and grid on the default target. */
function dotKernel(c: StridedCase): { wgsl: string; z: number } {
  const p = compile(parse(moduleText(c, 0)), DEFAULT_TARGET);
  const k = p.kernels.find((x) => x.name.startsWith('dot'))!;
  return { wgsl: k.wgsl, z: k.workgroups[2] };
}

const TILES: (MatmulTile | undefined)[] = [undefined, { bm: 16, bn: 16, bk: 4, rm: 4, rn: 4 }, { bm: 32, bn: 64, bk: 8, rm: 4, rn: 4 }];

describe('matmul strided operand loads', () => {
  for (const c of [...CASES, MERGED]) {
    it(c.name, async () => {
      const { wgsl, z } = dotKernel(c);
      const binding = (i: number) => new RegExp(`var<storage, read> in${i}: array<${c.loads[i] === 'vec' ? 'vec4<f32>' : 'f32'}>;`);
      expect(wgsl).toMatch(binding(0));
      expect(wgsl).toMatch(binding(1));
      expect(z).toBe(c.batches);
      expect(wgsl).not.toMatch(/i32\(bz\)/);

      const dev = await gpu();
      const inputs = c.args.map(randomTensor);
      const want = interpret(parse(moduleText(c, 0)), [...inputs, hostTensor('f32', [1], [0])])[0];
      for (const [i, tile] of TILES.entries()) {
        setMatmulTileOverride(tile);
        const pad = hostTensor('f32', [i + 1], new Array(i + 1).fill(0));
        const exe = dev.compile(parse(moduleText(c, i)));
        const [out] = dev.execute(exe, [...inputs, pad].map((t) => dev.upload(t)));
        expect(mismatch(await dev.read(out), want, 1e-5, 1e-5), `tile ${JSON.stringify(tile ?? 'heuristic')}`).toBeUndefined();
      }
    });
  }
});
