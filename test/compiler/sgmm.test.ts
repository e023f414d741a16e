/**
 * @file The tensor-core (subgroup-matrix) f16 matmul path, without a GPU: which dot_generals take
 * it on a target that offers subgroup matrices (f16 operands and result, operands in memory with
 * a unit-stride axis, whole tiles), which fall back to the plain kernel, how the configuration
 * and tile are chosen, and the shape of the WGSL (directives, types in WGSL's <T, cols, rows>
 * order, load majorness per layout, epilogue stores). Correctness on a GPU is checked by
 * scripts/sgmm-bench.ts against the plain f16 kernel (lavapipe has no subgroup matrices).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { DEFAULT_TARGET, type KernelSpec, type SubgroupMatrixConfig, type Target } from '../../compiler/program.js';
import { chooseSgmmConfig, setSgmmOverride, SGMM_TILES, sgmmBlock } from '../../compiler/codegen/matmul-sgmm.js';
import { subgroupMatrixConfigs } from '../../runtime/webgpu/adapter.js';
import { parse } from '../webgpu/gpu.js';

afterEach(() => setSgmmOverride(undefined));

/** What an H200 reports through Dawn/Vulkan (a subset: f16 and f32 results, two shapes). */
const NV_CONFIGS: SubgroupMatrixConfig[] = [
  { m: 16, n: 16, k: 16, component: 'f16', result: 'f16' },
  { m: 16, n: 16, k: 16, component: 'f16', result: 'f32' },
  { m: 16, n: 8, k: 16, component: 'f16', result: 'f32' },
  { m: 16, n: 16, k: 32, component: 'i8', result: 'i32' },
];

const GPU: Target = {
  ...DEFAULT_TARGET, maxWorkgroupSize: 1024, maxWorkgroupStorage: 49152, f16: true, subgroups: true,
  subgroupMatrix: NV_CONFIGS, subgroupMaxSize: 32,
};

const ty = (s: number[], d: string) => `tensor<${s.join('x')}x${d}>`;

/** A module of one dot_general (plus optional text after it using %d) and its kernels. */
function kernels(lhs: number[], rhs: number[], dims: string, out: number[], opts: { d?: string; target?: Target; pre?: string; post?: string; extra?: string } = {}): KernelSpec[] {
  const d = opts.d ?? 'f16';
  const post = opts.post ?? '';
  const res = post ? '%e' : '%d';
  const text = `func.func public @main(%a: ${ty(lhs, d)}, %b: ${ty(rhs, d)}${opts.extra ?? ''}) -> ${ty(out, d)} {
  ${opts.pre ?? ''}
  %d = stablehlo.dot_general ${opts.pre ? '%a1' : '%a'}, %b, ${dims} : (${ty(lhs, d)}, ${ty(rhs, d)}) -> ${ty(out, d)}
  ${post}
  return ${res} : ${ty(out, d)}
}`;
  return compile(parse(text), opts.target ?? GPU).kernels;
}

const NN = 'contracting_dims = [1] x [0]';
const isSgmm = (k: KernelSpec) => k.wgsl.includes('subgroupMatrixMultiplyAccumulate');

describe('tensor-core f16 matmul: selection', () => {
  it('takes a 4096^3 f16 matmul on a target with subgroup matrices', () => {
    const ks = kernels([4096, 4096], [4096, 4096], NN, [4096, 4096]);
    const dot = ks.find((k) => k.name.startsWith('dot'))!;
    expect(isSgmm(dot)).toBe(true);
    // 128x128 blocks of four subgroups of 32.
    expect(dot.workgroups).toEqual([32, 32, 1]);
    expect(dot.wgsl).toMatch(/@workgroup_size\(128\)/);
  });

  it('keeps the plain kernel without the feature, for f32, for ragged shapes and for fused operands', () => {
    const plain = (ks: KernelSpec[]) => ks.every((k) => !k.wgsl.includes('subgroup_matrix'));
    expect(plain(kernels([256, 256], [256, 256], NN, [256, 256], { target: { ...GPU, subgroupMatrix: undefined } }))).toBe(true);
    expect(plain(kernels([256, 256], [256, 256], NN, [256, 256], { target: { ...GPU, subgroupMatrix: [] } }))).toBe(true);
    expect(plain(kernels([256, 256], [256, 256], NN, [256, 256], { d: 'f32' }))).toBe(true);
    expect(plain(kernels([100, 64], [64, 64], NN, [100, 64]))).toBe(true);
    expect(plain(kernels([64, 40], [40, 64], NN, [64, 64]))).toBe(true);
    // The lhs computed inside the kernel (a fused negate) is not in memory.
    expect(plain(kernels([256, 256], [256, 256], NN, [256, 256], { pre: `%a1 = stablehlo.negate %a : ${ty([256, 256], 'f16')}` }))).toBe(true);
    setSgmmOverride({ off: true });
    expect(plain(kernels([256, 256], [256, 256], NN, [256, 256]))).toBe(true);
  });

  it('refuses rows that are not 16-byte aligned (K = 36 halves)', () => {
    setSgmmOverride({ tile: { wm: 1, wn: 1, tm: 1, tn: 1, bk: 16, staged: false } });
    expect(kernels([64, 48], [48, 64], NN, [64, 64]).some(isSgmm)).toBe(true);
    expect(kernels([64, 36], [36, 64], NN, [64, 64]).some(isSgmm)).toBe(false);
  });

  it('prefers f32 accumulation, then 16x16x16; f16-only devices accumulate in f16', () => {
    expect(chooseSgmmConfig(GPU)).toEqual(NV_CONFIGS[1]);
    const f16Only = { ...GPU, subgroupMatrix: [NV_CONFIGS[0], NV_CONFIGS[3]] };
    expect(chooseSgmmConfig(f16Only)).toEqual(NV_CONFIGS[0]);
    expect(chooseSgmmConfig({ ...GPU, subgroupMatrix: [NV_CONFIGS[3]] })).toBeUndefined();
    const dot = kernels([512, 512], [512, 512], NN, [512, 512], { target: f16Only }).find(isSgmm)!;
    expect(dot.wgsl).toContain('var acc0_0 = subgroup_matrix_result<f16, 16, 16>();');
  });

  it('picks smaller blocks when the big one gives too few workgroups', () => {
    const cfg = chooseSgmmConfig(GPU)!;
    const big = sgmmBlock(SGMM_TILES[0], cfg, 32);
    expect([big.bm, big.bn]).toEqual([128, 128]);
    const dot = kernels([512, 512], [512, 512], NN, [512, 512]).find(isSgmm)!;
    const [x, y] = dot.workgroups;
    expect(x * y).toBeGreaterThanOrEqual(64);
    expect(x * y).toBeGreaterThan(16);
  });

  it('stays within the device limits (workgroup memory and size)', () => {
    const small = { ...GPU, maxWorkgroupStorage: 16384, maxWorkgroupSize: 256 };
    const dot = kernels([1024, 1024], [1024, 1024], NN, [1024, 1024], { target: small }).find(isSgmm)!;
    const threads = Number(/@workgroup_size\((\d+)\)/.exec(dot.wgsl)![1]);
    expect(threads).toBeLessThanOrEqual(256);
    let bytes = 0;
    for (const m of dot.wgsl.matchAll(/var<workgroup> \w+: array<(f16|f32), (\d+)>/g)) bytes += Number(m[2]) * (m[1] === 'f16' ? 2 : 4);
    expect(bytes).toBeLessThanOrEqual(16384);
    expect(bytes).toBeGreaterThan(0);
  });
});

describe('tensor-core f16 matmul: the adapter side', () => {
  it("reads Dawn's GPUSubgroupMatrixConfig objects field by field (they have no own properties)", () => {
    class NativeLike {
      get M() { return 16; }
      get N() { return 8; }
      get K() { return 16; }
      get componentType() { return 'f16'; }
      get resultComponentType() { return 'f32'; }
    }
    const info = { subgroupMatrixConfigs: [new NativeLike()] } as unknown as GPUAdapterInfo;
    expect(subgroupMatrixConfigs(info)).toEqual([{ m: 16, n: 8, k: 16, component: 'f16', result: 'f32' }]);
    expect(subgroupMatrixConfigs({} as GPUAdapterInfo)).toEqual([]);
  });
});

describe('tensor-core f16 matmul: WGSL', () => {
  it('puts the directives first and uses WGSL <T, columns, rows> order', () => {
    const t = { ...GPU, subgroupMatrix: [NV_CONFIGS[2]] }; // M 16, N 8, K 16
    const dot = kernels([256, 256], [256, 256], NN, [256, 256], { target: t }).find(isSgmm)!;
    expect(dot.wgsl.split('\n').slice(0, 3)).toEqual([
      'enable f16;', 'enable chromium_experimental_subgroup_matrix;', 'diagnostic(off, chromium.subgroup_matrix_uniformity);',
    ]);
    expect(dot.wgsl).toContain('subgroup_matrix_left<f16, 16, 16>');
    expect(dot.wgsl).toContain('subgroup_matrix_right<f16, 8, 16>');
    expect(dot.wgsl).toContain('subgroup_matrix_result<f32, 8, 16>');
    expect(dot.wgsl).not.toMatch(/enable f16;[\s\S]*enable f16;/);
    expect(dot.wgsl.split('{').length).toBe(dot.wgsl.split('}').length);
  });

  it('loads each layout with its own majorness (row-major [M,K] x [K,N]; transposes column-major)', () => {
    const loads = (ks: KernelSpec[]) => [...ks.find(isSgmm)!.wgsl.matchAll(/subgroupMatrixLoad<subgroup_matrix_(left|right)<[^>]*>, (row_major|col_major)>/g)]
      .map((m) => `${m[1]}:${m[2]}`);
    const uniq = (xs: string[]) => [...new Set(xs)].sort();
    expect(uniq(loads(kernels([256, 128], [128, 256], NN, [256, 256])))).toEqual(['left:row_major', 'right:row_major']);
    // a^T b: lhs [K, M]; a b^T: rhs [N, K].
    expect(uniq(loads(kernels([128, 256], [128, 256], 'contracting_dims = [0] x [0]', [256, 256])))).toEqual(['left:col_major', 'right:row_major']);
    expect(uniq(loads(kernels([256, 128], [256, 128], 'contracting_dims = [1] x [1]', [256, 256])))).toEqual(['left:row_major', 'right:col_major']);
  });

  it('stages operands through padded workgroup memory by default, or loads from storage when told', () => {
    const staged = kernels([1024, 1024], [1024, 1024], NN, [1024, 1024]).find(isSgmm)!;
    expect(staged.wgsl).toMatch(/subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>\(&As, \(sm \+ 0u\) \* 40u \+ 0u, 40u\)/);
    expect(staged.wgsl).toContain('bitcast<vec2<f16>>');
    expect(staged.wgsl.match(/workgroupBarrier\(\);/g)!.length).toBeGreaterThanOrEqual(2);
    setSgmmOverride({ tile: { wm: 2, wn: 2, tm: 2, tn: 2, bk: 32, staged: false } });
    const direct = kernels([1024, 1024], [1024, 1024], NN, [1024, 1024]).find(isSgmm)!;
    expect(direct.wgsl).not.toContain('var<workgroup> As');
    expect(direct.wgsl).toMatch(/subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, row_major>\(&in\d+, kk \* 1024u \+ \(n0 \+ sn \+ 16u\), 1024u\)/);
  });

  it('offsets batches and fuses an epilogue (bias add) into the same kernel', () => {
    const bt = kernels([4, 128, 64], [4, 64, 128], 'batching_dims = [0] x [0], contracting_dims = [2] x [1]', [4, 128, 128]).find(isSgmm)!;
    expect(bt.workgroups[2]).toBe(4);
    expect(bt.wgsl).toContain(`bz * ${128 * 64}u`);
    const s = ty([256, 256], 'f16');
    const ks = kernels([256, 256], [256, 256], NN, [256, 256], { extra: `, %c: ${s}`, post: `%e = stablehlo.add %d, %c : ${s}` });
    expect(ks).toHaveLength(1);
    expect(isSgmm(ks[0])).toBe(true);
    expect(ks[0].wgsl).toContain('k_f16r(f32(Cs[');
  });
});
