/**
 * @file f16 `dot_general` on tensor cores through Dawn's `chromium_experimental_subgroup_matrix`
 * (Vulkan cooperative matrices on NVIDIA). A workgroup is wm x wn subgroups; each subgroup keeps
 * tm x tn result matrices of the device's configuration (e.g. 16x16 with f32 accumulation) and
 * steps through K. Operands are either staged through workgroup memory (16-byte global loads,
 * register prefetch of the next K step, padded rows) or loaded by `subgroupMatrixLoad` straight
 * from storage. Either majorness of each operand is read as it lies in memory (row- or
 * column-major loads), so transposes cost nothing. The accumulators go through a small workgroup
 * scratch tile so that every lane can round its elements to f16 and apply the fused epilogue, as
 * the plain kernel (`matmul.ts`) does: f16 inputs, f32 accumulation, one rounding at the end.
 * Shapes that do not fill whole tiles, fused operands and other dtypes are left to `matmul.ts`.
 * WGSL: https://dawn.googlesource.com/dawn/+/refs/heads/main/docs/dawn/features/subgroup_matrix.md
 */
import type { Op } from '../../ir/ops.js';
import { numElements, stridesOf, type Operation, type Value } from '../../ir/types.js';
import type { KernelSpec, SubgroupMatrixConfig, Target, SgmmTile } from '../program.js';
import type { Epilogue } from '../fusion.js';
import type { WgslBuilder } from '../wgsl.js';
import type { ExprEmitter } from './expr.js';
import { newKernel, type GroupEnv } from './group.js';
import { useHelper } from './helpers.js';
import { matmulProblem } from './tiles.js';
import { emitDotElement } from './epilogue.js';

export type { SgmmTile };

/**
 * Candidates in order of preference; with 16x16 matrices the first is a 128x128 block of four
 * subgroups (16 accumulators each). Smaller blocks give small problems enough workgroups.
 * Measured on an H200 through Dawn/Vulkan (scripts/sgmm-bench.ts, 4096^3): 128x128 of 2x2
 * subgroups 214 TFLOP/s, 128x256 of 2x4 206, 16 subgroups of 2x2 tiles 174, the other staged
 * shapes 153-163, bk 64 155; loading straight from storage (no workgroup memory) 36-72.
 */
export const SGMM_TILES: readonly SgmmTile[] = [
  { wm: 2, wn: 2, tm: 4, tn: 4, bk: 32, staged: true },
  { wm: 2, wn: 4, tm: 4, tn: 2, bk: 32, staged: true },
  { wm: 2, wn: 2, tm: 2, tn: 4, bk: 32, staged: true },
  { wm: 2, wn: 2, tm: 2, tn: 2, bk: 32, staged: true },
  { wm: 1, wn: 2, tm: 2, tn: 2, bk: 32, staged: true },
];

/** Workgroups that keep a large GPU busy; below this a smaller block is preferred. */
const MIN_WORKGROUPS = 128;

/** Padding (f16 elements) of each workgroup-memory row: 16 bytes, so rows start on other banks. */
const PAD = 8;

let override: { tile?: SgmmTile; off?: boolean } | undefined;

/**
 * For benchmarks: force one tile shape (`tile`), or turn the tensor-core path off (`off`) for
 * every f16 matmul compiled afterwards; undefined restores the heuristic.
 */
export function setSgmmOverride(o: { tile?: SgmmTile; off?: boolean } | undefined): void {
  override = o;
}

/**
 * The configuration used for f16 x f16: f32 accumulation first (the plain kernel's precision),
 * then the shape closest to 16x16x16 (measured to be what NVIDIA lists first).
 */
export function chooseSgmmConfig(t: Target): SubgroupMatrixConfig | undefined {
  const sg = t.subgroupMaxSize ?? 0;
  const ok = (t.subgroupMatrix ?? []).filter((c) => c.component === 'f16' && (c.result === 'f32' || c.result === 'f16') &&
    c.k % 8 === 0 && c.m % 8 === 0 && c.n % 8 === 0 && sg > 0 && (c.m * c.n) % sg === 0);
  const score = (c: SubgroupMatrixConfig) => (c.result === 'f32' ? 0 : 1000) + Math.abs(c.m - 16) + Math.abs(c.n - 16) + Math.abs(c.k - 16);
  return [...ok].sort((a, b) => score(a) - score(b))[0];
}

/** Block shape of `tile` under `cfg`: bm x bn outputs, threads, workgroup bytes (both layouts padded). */
export function sgmmBlock(tile: SgmmTile, cfg: SubgroupMatrixConfig, sg: number): { bm: number; bn: number; threads: number; bytes: number } {
  const bm = tile.wm * tile.tm * cfg.m;
  const bn = tile.wn * tile.tn * cfg.n;
  const threads = tile.wm * tile.wn * sg;
  const scratch = tile.wm * tile.wn * cfg.m * cfg.n * (cfg.result === 'f32' ? 4 : 2);
  // The larger of the two layouts of each operand tile ([f][bk+PAD] or [bk][f+PAD]).
  const stage = (f: number) => 2 * Math.max(f * (tile.bk + PAD), tile.bk * (f + PAD));
  const bytes = scratch + (tile.staged ? stage(bm) + stage(bn) : 0);
  return { bm, bn, threads, bytes };
}

/** One operand as [batch, F, K] in memory: element (b, f, k) at b*sB + f*sF + k*sK. */
interface Operand {
  v: Value;
  sB: number;
  sF: number;
  sK: number;
  /** The unit-stride axis: K (row-major left / column-major right) or F. */
  unit: 'k' | 'f';
}

function groupStride(dims: readonly number[], strides: readonly number[]): number | undefined {
  if (dims.length === 0) return 0;
  for (let i = 1; i < dims.length; i++) if (dims[i] !== dims[i - 1] + 1) return undefined;
  return strides[dims[dims.length - 1]];
}

/** The operand's strides when it lives in memory with each dimension group linear and one unit axis. */
function operandOf(env: GroupEnv, v: Value, batch: readonly number[], contract: readonly number[]): Operand | undefined {
  if (!(env.plan.buffered.has(v) || !env.plan.producer.has(v))) return undefined;
  const free = v.type.shape.map((_, i) => i).filter((i) => !batch.includes(i) && !contract.includes(i));
  const strides = stridesOf(v.type.shape);
  const sB = groupStride(batch, strides), sF = groupStride(free, strides), sK = groupStride(contract, strides);
  if (sB === undefined || sF === undefined || sK === undefined) return undefined;
  // 16-byte alignment of every row for the vector loads and for cooperative-matrix loads.
  const other = sK === 1 ? sF : sF === 1 ? sK : undefined;
  if (other === undefined || other % 8 !== 0 || sB % 8 !== 0) return undefined;
  return { v, sB, sF, sK, unit: sK === 1 ? 'k' : 'f' };
}

/** Everything the emitter needs, or undefined when the tensor-core path does not apply. */
export interface SgmmPlan {
  cfg: SubgroupMatrixConfig;
  tile: SgmmTile;
  sg: number;
  batch: number[];
  mShape: number[];
  nShape: number[];
  B: number;
  M: number;
  N: number;
  K: number;
  a: Operand;
  b: Operand;
}

/**
 * Whether `o` runs on subgroup matrices on `target`, and how: f16 operands and result, a device
 * configuration, both operands in memory with a unit-stride axis and 16-byte-aligned rows, and
 * M, N, K multiples of a block that fits the device's limits.
 */
export function planSgmm(env: GroupEnv, o: Operation<Op.DotGeneral>): SgmmPlan | undefined {
  const t = env.target;
  if (override?.off || !t.f16) return undefined;
  const cfg = chooseSgmmConfig(t);
  const sg = t.subgroupMaxSize ?? 0;
  if (!cfg) return undefined;
  const [lhs, rhs] = o.operands;
  const out = o.results[0];
  if (lhs.type.dtype !== 'f16' || rhs.type.dtype !== 'f16' || out.type.dtype !== 'f16') return undefined;
  const { lhsBatch, rhsBatch, lhsContract, rhsContract } = o.attrs.dims;
  const a = operandOf(env, lhs, lhsBatch, lhsContract);
  const b = operandOf(env, rhs, rhsBatch, rhsContract);
  if (!a || !b) return undefined;
  const ls = lhs.type.shape, rs = rhs.type.shape;
  const batch = lhsBatch.map((d) => ls[d]);
  const mShape = ls.map((_, i) => i).filter((i) => !lhsBatch.includes(i) && !lhsContract.includes(i)).map((d) => ls[d]);
  const nShape = rs.map((_, i) => i).filter((i) => !rhsBatch.includes(i) && !rhsContract.includes(i)).map((d) => rs[d]);
  const [B, M, N, K] = [batch, mShape, nShape, lhsContract.map((d) => ls[d])].map(numElements);
  const fits = (tile: SgmmTile) => {
    const { bm, bn, threads, bytes } = sgmmBlock(tile, cfg, sg);
    const vecs = (f: number) => (f * tile.bk) / 8;
    return M % bm === 0 && N % bn === 0 && K % tile.bk === 0 && tile.bk % cfg.k === 0 && tile.bk % 8 === 0 &&
      threads <= t.maxWorkgroupSize && bytes <= t.maxWorkgroupStorage &&
      (!tile.staged || (vecs(bm) % threads === 0 && vecs(bn) % threads === 0)) &&
      M / bm <= t.maxWorkgroupsPerDim && N / bn <= t.maxWorkgroupsPerDim && B <= t.maxWorkgroupsPerDim;
  };
  let tile: SgmmTile | undefined;
  const tuned = t.sgmmTile?.(matmulProblem('subgroup-matrix', o));
  if (override?.tile) tile = fits(override.tile) ? override.tile : undefined;
  else if (tuned && fits(tuned)) tile = tuned;
  else {
    const fitting = SGMM_TILES.filter(fits);
    const groups = (x: SgmmTile) => { const s = sgmmBlock(x, cfg, sg); return B * (M / s.bm) * (N / s.bn); };
    tile = fitting.find((x) => groups(x) >= MIN_WORKGROUPS) ?? fitting[fitting.length - 1];
  }
  if (!tile || B * M * N * K === 0) return undefined;
  return { cfg, tile, sg, batch, mShape, nShape, B, M, N, K, a, b };
}

/**
 * Emits one kernel computing a `dot_general` (`o`) with its epilogues fused, named `name`; `write`
 * says whether the product itself is stored. Undefined when the emitter does not apply.
 */
export type DotKernelEmitter = (
  env: GroupEnv,
  o: Operation<Op.DotGeneral>,
  epilogues: readonly Epilogue[],
  write: boolean,
  name: string,
) => KernelSpec | undefined;

/**
 * The subgroup-matrix kernel of `o` with its epilogues, or undefined when {@link planSgmm} says
 * the path does not apply (the caller then emits the plain tiled kernel).
 */
export const emitSgmmKernel: DotKernelEmitter = (env, o, epilogues, write, name) => {
  const p = planSgmm(env, o);
  if (!p) return undefined;
  const { k, em } = newKernel(env, o.loc, o.op);
  k.requireF16();
  new SgmmGen(env, em, o, p).emit(epilogues, write);
  const { bm, bn } = sgmmBlock(p.tile, p.cfg, p.sg);
  const spec = k.finish(name, [p.N / bn, p.M / bm, p.B]);
  // Directives go before every declaration. Subgroup-matrix calls must be subgroup-uniform; Dawn
  // checks workgroup uniformity instead, which a per-subgroup offset fails, hence the diagnostic.
  const body = spec.wgsl.replace(/^enable f16;\n/, '');
  spec.wgsl = 'enable f16;\nenable chromium_experimental_subgroup_matrix;\n' +
    'diagnostic(off, chromium.subgroup_matrix_uniformity);\n' + body;
  return spec;
};

/** Emits one kernel of a plan: declarations, the K loop, the epilogue. */
class SgmmGen {
  private readonly b: WgslBuilder;
  private readonly bm: number;
  private readonly bn: number;
  private readonly threads: number;
  private readonly L: string;
  private readonly R: string;
  private readonly C: string;

  constructor(
    private readonly env: GroupEnv,
    private readonly em: ExprEmitter,
    private readonly o: Operation<Op.DotGeneral>,
    private readonly p: SgmmPlan,
  ) {
    this.b = em.b;
    ({ bm: this.bm, bn: this.bn, threads: this.threads } = sgmmBlock(p.tile, p.cfg, p.sg));
    const { m, n, k, result } = p.cfg;
    // WGSL's parameters are <T, columns, rows>: left is M x K, right K x N, result M x N.
    this.L = `subgroup_matrix_left<f16, ${k}, ${m}>`;
    this.R = `subgroup_matrix_right<f16, ${n}, ${k}>`;
    this.C = `subgroup_matrix_result<${result}, ${n}, ${m}>`;
  }

  /** Rows of the workgroup tile of an operand laid out with its unit axis innermost. */
  private rowLen(x: Operand, f: number): number {
    return x.unit === 'k' ? this.p.tile.bk + PAD : f + PAD;
  }

  emit(epilogues: readonly Epilogue[], write: boolean): void {
    const { b, p } = this;
    const { tile, cfg, sg } = p;
    if (tile.staged) {
      b.line(`var<workgroup> As: array<f16, ${this.bm * tile.bk + PAD * Math.max(this.bm, tile.bk)}>;`);
      b.line(`var<workgroup> Bs: array<f16, ${this.bn * tile.bk + PAD * Math.max(this.bn, tile.bk)}>;`);
    }
    b.line(`var<workgroup> Cs: array<${cfg.result}, ${tile.wm * tile.wn * cfg.m * cfg.n}>;`);
    b.line('');
    b.block(`@compute @workgroup_size(${this.threads}) fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>)`, () => {
      // Subgroups are consecutive runs of sg invocations of the flat index (Vulkan full subgroups).
      b.line(`let sgi = tid / ${sg}u;`);
      b.line(`let lane = tid % ${sg}u;`);
      b.line('let bz = wid.z;');
      b.line(`let m0 = wid.y * ${this.bm}u;`);
      b.line(`let n0 = wid.x * ${this.bn}u;`);
      b.line(`let sm = (sgi / ${tile.wn}u) * ${tile.tm * cfg.m}u;`);
      b.line(`let sn = (sgi % ${tile.wn}u) * ${tile.tn * cfg.n}u;`);
      for (let i = 0; i < tile.tm; i++) for (let j = 0; j < tile.tn; j++) b.line(`var acc${i}_${j} = ${this.C}();`);
      if (tile.staged) this.stagedLoop();
      else this.directLoop();
      this.epilogue(epilogues, write);
    });
  }

  /** One K step of multiply-accumulates from the left/right loads the callbacks give (`step` names them apart). */
  private mma(left: (i: number) => string, right: (j: number) => string, step = 0): void {
    const { b, p } = this;
    for (let i = 0; i < p.tile.tm; i++) b.line(`let l${step}_${i} = ${left(i)};`);
    for (let j = 0; j < p.tile.tn; j++) b.line(`let r${step}_${j} = ${right(j)};`);
    for (let i = 0; i < p.tile.tm; i++) {
      for (let j = 0; j < p.tile.tn; j++) b.line(`acc${i}_${j} = subgroupMatrixMultiplyAccumulate(l${step}_${i}, r${step}_${j}, acc${i}_${j});`);
    }
  }

  /**
   * A cooperative load of the left (`side` a) or right matrix whose first element is at
   * free index `f` and K index `kk` of an array laid out with unit axis `unit` and row length `ld`.
   */
  private load(side: 'a' | 'b', ptr: string, base: string, f: string, kk: string, unit: 'k' | 'f', ld: number): string {
    const type = side === 'a' ? this.L : this.R;
    // Left: rows are F (=M). Right: rows are K. Row-major when the unit axis runs along columns.
    const rowMajor = side === 'a' ? unit === 'k' : unit === 'f';
    const off = unit === 'k' ? `${f} * ${ld}u + ${kk}` : `${kk} * ${ld}u + ${f}`;
    return `subgroupMatrixLoad<${type}, ${rowMajor ? 'row_major' : 'col_major'}>(&${ptr}, ${base}${off}, ${ld}u)`;
  }

  /** Operands straight from storage: one cooperative load per matrix per K step. */
  private directLoop(): void {
    const { b, p, em, env } = this;
    const { cfg } = p;
    const names = [p.a, p.b].map((x) => em.k.storage(env.buffer(x.v), 'f16', 'read'));
    const bases = [p.a, p.b].map((x) => (x.sB ? `bz * ${x.sB}u + ` : ''));
    const ld = (x: Operand) => (x.unit === 'k' ? x.sF : x.sK);
    b.block(`for (var kk = 0u; kk < ${p.K}u; kk = kk + ${cfg.k}u)`, () => {
      this.mma(
        (i) => this.load('a', names[0], bases[0], `(m0 + sm + ${i * cfg.m}u)`, 'kk', p.a.unit, ld(p.a)),
        (j) => this.load('b', names[1], bases[1], `(n0 + sn + ${j * cfg.n}u)`, 'kk', p.b.unit, ld(p.b)),
      );
    });
  }

  /**
   * Operands through workgroup memory: each thread moves 8 f16 (one 16-byte load) at a time,
   * the next step's loads are issued before this step's multiplies, two barriers a step.
   */
  private stagedLoop(): void {
    const { b, p } = this;
    const { tile, cfg } = p;
    const steps = p.K / tile.bk;
    const ops = [
      { x: p.a, f: this.bm, f0: 'm0', wg: 'As', r: 'ra' },
      { x: p.b, f: this.bn, f0: 'n0', wg: 'Bs', r: 'rb' },
    ].map((s) => ({ ...s, ...this.setup(s.x, s.f, s.f0, s.r) }));
    const fetch = (step: string) => {
      for (const s of ops) s.regs.forEach((r, i) => b.line(`${r} = ${s.src}[${s.at[i]} + ${step} * ${s.perStep}u];`));
    };
    fetch('0u');
    b.block(`for (var t = 0u; t < ${steps}u; t = t + 1u)`, () => {
      b.line('workgroupBarrier();');
      for (const s of ops) {
        s.regs.forEach((r, i) => {
          for (let e = 0; e < 8; e++) b.line(`${s.wg}[${s.dst[i]} + ${e}u] = bitcast<vec2<f16>>(${r}.${'xyzw'[e >> 1]}).${'xy'[e & 1]};`);
        });
      }
      b.line('workgroupBarrier();');
      if (steps > 1) b.block(`if (t + 1u < ${steps}u)`, () => fetch('(t + 1u)'));
      for (let kk = 0; kk < tile.bk; kk += cfg.k) {
        this.mma(
          (i) => this.load('a', 'As', '', `(sm + ${i * cfg.m}u)`, `${kk}u`, p.a.unit, this.rowLen(p.a, this.bm)),
          (j) => this.load('b', 'Bs', '', `(sn + ${j * cfg.n}u)`, `${kk}u`, p.b.unit, this.rowLen(p.b, this.bn)),
          kk / cfg.k,
        );
      }
    });
  }

  /**
   * Per-thread load plan of one operand tile (f x bk): registers, their 16-byte source index at
   * step 0, the index increment per step, and their workgroup-memory destination.
   */
  private setup(x: Operand, f: number, f0: string, prefix: string): { src: string; regs: string[]; at: string[]; dst: string[]; perStep: number } {
    const { b, p, em, env } = this;
    const bk = p.tile.bk;
    // The f16 data viewed as vec4<f32>: 8 halves a load, split again with bitcast (bits untouched).
    const src = em.k.storageVec4(env.buffer(x.v), 'read');
    const count = (f * bk) / 8 / this.threads;
    const ld = this.rowLen(x, f);
    const regs: string[] = [], at: string[] = [], dst: string[] = [];
    for (let r = 0; r < count; r++) {
      const e = r === 0 ? 'tid' : `(tid + ${r * this.threads}u)`;
      // Coordinates in the tile: `outer` along the strided axis, `inner` (8 at a time) along the unit one.
      const perRow = (x.unit === 'k' ? bk : f) / 8;
      const outer = b.let(`${e} / ${perRow}u`, 'u32', `${prefix}o`);
      const inner = b.let(`(${e} % ${perRow}u) * 8u`, 'u32', `${prefix}i`);
      const terms = x.unit === 'k'
        ? [x.sB ? `bz * ${x.sB}u` : '', `(${f0} + ${outer}) * ${x.sF}u`, inner]
        : [x.sB ? `bz * ${x.sB}u` : '', `${outer} * ${x.sK}u`, `${f0} + ${inner}`];
      at.push(b.let(`(${terms.filter(Boolean).join(' + ')}) / 8u`, 'u32', `${prefix}at`));
      dst.push(b.let(`${outer} * ${ld}u + ${inner}`, 'u32', `${prefix}d`));
      regs.push(b.var('vec4<f32>', undefined, prefix));
    }
    const perStep = x.unit === 'k' ? bk / 8 : (bk * x.sK) / 8;
    return { src, regs, at, dst, perStep };
  }

  /**
   * Accumulators to the output: each result matrix goes to the subgroup's scratch tile, then every
   * lane rounds its elements to f16 and stores them with the fused epilogue values.
   */
  private epilogue(epilogues: readonly Epilogue[], write: boolean): void {
    const { b, p } = this;
    const { cfg, tile, sg } = p;
    const per = cfg.m * cfg.n;
    for (let i = 0; i < tile.tm; i++) {
      for (let j = 0; j < tile.tn; j++) {
        b.line('workgroupBarrier();');
        b.line(`subgroupMatrixStore<row_major>(&Cs, sgi * ${per}u, acc${i}_${j}, ${cfg.n}u);`);
        b.line('workgroupBarrier();');
        b.block(`for (var e = lane; e < ${per}u; e = e + ${sg}u)`, () => {
          this.em.scoped(() => {
            const gm = b.let(`m0 + sm + ${i * cfg.m}u + e / ${cfg.n}u`, 'u32', 'gm');
            const gn = b.let(`n0 + sn + ${j * cfg.n}u + e % ${cfg.n}u`, 'u32', 'gn');
            this.output(epilogues, write, `f32(Cs[sgi * ${per}u + e])`, gm, gn);
          });
        });
      }
    }
  }

  /** One output element: the rounded dot value, and each epilogue computed from it. */
  private output(epilogues: readonly Epilogue[], write: boolean, accExpr: string, gm: string, gn: string): void {
    const { em, env, o, p } = this;
    const out = o.results[0];
    const bc = em.coords({ shape: p.batch, flat: 'bz' });
    const mc = em.coords({ shape: p.mShape, flat: gm });
    const nc = em.coords({ shape: p.nShape, flat: gn });
    const flat = em.b.let(`bz * ${p.M * p.N}u + ${gm} * ${p.N}u + ${gn}`, 'u32', 'o');
    const v = em.b.let(`${useHelper(em.b, 'k_f16r')}(${accExpr})`, undefined, 'dot');
    emitDotElement(em, env, out, epilogues, write, v, [...bc, ...mc, ...nc], flat);
  }
}
