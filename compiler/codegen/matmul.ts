/**
 * @file The matmul kernel for `dot_general`: the operands are viewed as [batch, M, K] and
 * [batch, K, N] by index math (any batching and contracting dimensions, so transposes cost
 * nothing). A workgroup computes a bm x bn output block (tile shape from `tiles.ts`); each thread
 * keeps an rm x rn register block as vec4 accumulators. Operand tiles are staged in workgroup
 * memory, double-buffered: the next tile is loaded from global memory into registers while the
 * current one is multiplied, so there is one barrier per K step. Operands that live in memory
 * with a linear layout are loaded with plain u32 index math, 16 bytes at a time where a
 * contiguous axis is a multiple of 4; fused producers are computed in the tile loads. The
 * elementwise epilogue (bias, activation, scale) is applied to the accumulators before the store.
 * https://openxla.org/stablehlo/spec#dot_general
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { numElements, type AnyOperation, type Operation, type Value } from '../../ir/types.js';
import type { KernelSpec } from '../program.js';
import type { Epilogue } from '../fusion.js';
import type { WgslBuilder } from '../wgsl.js';
import { dtypeOf, narrowDTypeOf, type ExprEmitter } from './expr.js';
import { newKernel, type GroupEnv } from './group.js';
import { useHelper } from './helpers.js';
import { literal, regType } from './scalar.js';
import { chooseMatmulTile, matmulProblem, tileThreads, type MatmulTile } from './tiles.js';
import { emitSgmmKernel, type DotKernelEmitter } from './matmul-sgmm.js';
import { emitDotElement } from './epilogue.js';
import { groupStride, stridedView } from './strided.js';

/** One operand's view as a [batch, F, K] tensor (F: its free dimensions, M for lhs and N for rhs). */
interface OperandView {
  v: Value;
  batch: readonly number[];
  contract: readonly number[];
  free: readonly number[];
  fShape: number[];
  F: number;
}

/**
 * An operand read from memory as a strided view (strided.ts): the buffer of `root`, per-batch-
 * dimension strides (any layout: the batch offset is computed once per workgroup), and the strides
 * of its free and contraction groups, each of which must be one linear run.
 */
interface Linear {
  root: Value;
  sB: number[];
  sF: number;
  sK: number;
}

/** How a thread loads its share of one operand tile. */
type LoadPlan =
  | { kind: 'vec'; axis: 'f' | 'k'; lin: Linear; buffer: number }
  | { kind: 'scalar'; axis: 'f' | 'k'; lin: Linear; buffer: number }
  | { kind: 'fused'; axis: 'f' | 'k' };

function linearOf(env: GroupEnv, view: OperandView): Linear | undefined {
  const sv = stridedView(env, view.v);
  if (!sv) return undefined;
  const shape = view.v.type.shape;
  const sF = groupStride(view.free, shape, sv.strides);
  const sK = groupStride(view.contract, shape, sv.strides);
  if (sF === undefined || sK === undefined) return undefined;
  return { root: sv.root, sB: view.batch.map((d) => sv.strides[d]), sF, sK };
}

function planLoad(env: GroupEnv, view: OperandView, K: number, vecOk: boolean): LoadPlan {
  const lin = linearOf(env, view);
  const lastDim = view.v.type.shape.length - 1;
  const axis: 'f' | 'k' = view.contract.includes(lastDim) ? 'k' : 'f';
  if (!lin) return { kind: 'fused', axis };
  const buffer = env.buffer(lin.root);
  const aligned = (x: number) => x % 4 === 0;
  // A vec4 binding reads whole 16-byte words of the root's buffer.
  const vec = vecOk && aligned(numElements(lin.root.type.shape)) && lin.sB.every(aligned);
  if (vec && lin.sK === 1 && aligned(K) && aligned(lin.sF)) return { kind: 'vec', axis: 'k', lin, buffer };
  if (vec && lin.sF === 1 && aligned(view.F) && aligned(lin.sK)) return { kind: 'vec', axis: 'f', lin, buffer };
  return { kind: 'scalar', axis: lin.sK === 1 ? 'k' : 'f', lin, buffer };
}

/**
 * A batched product whose rhs is the same matrix in every batch (a broadcast weight, batch
 * strides 0) and whose lhs batch and free dimensions form one linear run is one [B*M, K] x [K, N]
 * product: folding the batch into M gives the tile chooser a taller matrix and the output layout
 * [batch, M, N] is unchanged.
 */
function foldBatch(env: GroupEnv, A: OperandView, Bv: OperandView): { A: OperandView; Bv: OperandView } | undefined {
  if (A.batch.length === 0) return undefined;
  const lb = linearOf(env, Bv);
  if (!lb || lb.sB.some((s) => s !== 0)) return undefined;
  const free = [...A.batch, ...A.free];
  const fShape = free.map((d) => A.v.type.shape[d]);
  const A1: OperandView = { ...A, batch: [], free, fShape, F: numElements(fShape) };
  if (!linearOf(env, A1)) return undefined;
  return { A: A1, Bv: { ...Bv, batch: [] } };
}

/** The tiled kernel of `o` with its epilogues (the subgroup-matrix one where it applies). */
export const emitDotKernel: DotKernelEmitter = (env, o, epilogues, write, name) => {
  const [lhs, rhs] = o.operands;
  const out = o.results[0];
  const { lhsBatch, rhsBatch, lhsContract, rhsContract } = o.attrs.dims;
  const ls = lhs.type.shape;
  const rs = rhs.type.shape;
  const lFree = ls.map((_, i) => i).filter((i) => !lhsBatch.includes(i) && !lhsContract.includes(i));
  const rFree = rs.map((_, i) => i).filter((i) => !rhsBatch.includes(i) && !rhsContract.includes(i));
  let batchShape = lhsBatch.map((d) => ls[d]);
  const kShape = lhsContract.map((d) => ls[d]);
  let mShape = lFree.map((d) => ls[d]);
  const nShape = rFree.map((d) => rs[d]);
  let [B, M] = [batchShape, mShape].map(numElements);
  const [N, K] = [nShape, kShape].map(numElements);
  if (B * M * N === 0) return undefined;
  // f16 on tensor cores where the device offers subgroup matrices and the shapes fit.
  const sgmm = emitSgmmKernel(env, o, epilogues, write, name);
  if (sgmm) return sgmm;
  const od = narrowDTypeOf(out, o as AnyOperation);
  if (od === 'i1') throw new UnsupportedOpError(`${o.op}: i1 operands are not supported`, o.loc);
  const t = env.target;
  if (B > t.maxWorkgroupsPerDim) throw new UnsupportedOpError(`${o.op}: ${B} batches exceed the dispatch limit`, o.loc);
  let A: OperandView = { v: lhs, batch: lhsBatch, contract: lhsContract, free: lFree, fShape: mShape, F: M };
  let Bv: OperandView = { v: rhs, batch: rhsBatch, contract: rhsContract, free: rFree, fShape: nShape, F: N };
  const folded = foldBatch(env, A, Bv);
  if (folded) {
    ({ A, Bv } = folded);
    mShape = A.fShape;
    batchShape = [];
    [B, M] = [1, A.F];
  }
  const tile = chooseMatmulTile(B, M, N, t, matmulProblem('tiled', o));
  const { k, em } = newKernel(env, o.loc, o.op);
  const acc = regType(od);
  const f32 = od === 'f32' && dtypeOf(lhs) === 'f32' && dtypeOf(rhs) === 'f32';
  const g = new DotGen(env, em, o, tile, acc, K, batchShape, kShape);
  g.declare();
  const planA = planLoad(env, A, K, f32);
  const planB = planLoad(env, Bv, K, f32);
  const { bm, bn } = tile;
  const tx = bn / tile.rn;
  const b = k.b;
  b.block(`@compute @workgroup_size(${tx}, ${bm / tile.rm}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>)`, () => {
    b.line(`let tid = lid.y * ${tx}u + lid.x;`);
    b.line('let bz = wid.z;');
    b.line(`let m0 = wid.y * ${bm}u;`);
    b.line(`let n0 = wid.x * ${bn}u;`);
    g.body(A, planA, Bv, planB);
    g.store(epilogues, write, batchShape, mShape, nShape, M, N, f32);
  });
  return k.finish(name, [Math.ceil(N / bn), Math.ceil(M / bm), B]);
};

/** The parts of one matmul kernel, emitted in order: declarations, loads and multiply, store. */
class DotGen {
  private readonly b: WgslBuilder;
  private readonly nt: number;
  private readonly tiles: number;
  private readonly zero: string;

  constructor(
    private readonly env: GroupEnv,
    private readonly em: ExprEmitter,
    private readonly o: Operation<Op.DotGeneral>,
    private readonly tile: MatmulTile,
    private readonly acc: 'f32' | 'i32' | 'u32' | 'bool',
    private readonly K: number,
    private readonly batchShape: number[],
    private readonly kShape: number[],
  ) {
    this.b = em.b;
    this.nt = tileThreads(tile);
    this.tiles = Math.ceil(K / tile.bk);
    this.zero = literal(0, acc === 'i32' ? 'i32' : acc === 'u32' ? 'ui32' : 'f32');
  }

  /** Workgroup tiles: [2][bk][bm] of A and [2][bk][bn] of B, in vec4s along M and N. */
  declare(): void {
    const { bm, bn, bk } = this.tile;
    this.b.line(`var<workgroup> As: array<vec4<${this.acc}>, ${(2 * bk * bm) / 4}>;`);
    this.b.line(`var<workgroup> Bs: array<vec4<${this.acc}>, ${(2 * bk * bn) / 4}>;`);
    this.b.line('');
  }

  /** Loads per thread of one operand tile under `plan`: vec4s or scalars, and how many. */
  private perThread(F: number, plan: LoadPlan): { width: number; count: number; total: number } {
    const width = plan.kind === 'vec' ? 4 : 1;
    const total = (this.tile.bk * F) / width;
    return { width, count: Math.ceil(total / this.nt), total };
  }

  /**
   * Per-thread setup of one operand's loads (outside the K loop): for the r-th load of the
   * thread, its tile coordinates and, for linear operands, its base offset and bounds test.
   */
  private setup(name: string, view: OperandView, plan: LoadPlan, bf: number, f0: string): { kk: string; ff: string; base?: string; inF: string; live?: string }[] {
    const { b } = this;
    const { width, count, total } = this.perThread(bf, plan);
    const out: { kk: string; ff: string; base?: string; inF: string; live?: string }[] = [];
    for (let r = 0; r < count; r++) {
      const e = r === 0 ? 'tid' : `(tid + ${r * this.nt}u)`;
      const live = (r + 1) * this.nt > total ? b.let(`${e} < ${total}u`, 'bool', `${name}live`) : undefined;
      let kk: string, ff: string;
      if (plan.axis === 'k') {
        const perRow = this.tile.bk / width;
        ff = b.let(`${e} / ${perRow}u`, 'u32', `${name}f`);
        kk = b.let(`(${e} % ${perRow}u) * ${width}u`, 'u32', `${name}k`);
      } else {
        const perRow = bf / width;
        kk = b.let(`${e} / ${perRow}u`, 'u32', `${name}k`);
        ff = b.let(`(${e} % ${perRow}u) * ${width}u`, 'u32', `${name}f`);
      }
      const inF = view.F % bf === 0 ? 'true' : b.let(`${f0} + ${ff} < ${view.F}u`, 'bool', `${name}in`);
      let base: string | undefined;
      if (plan.kind !== 'fused') {
        const { sB, sF, sK } = plan.lin;
        const terms = [this.batchOffset(sB), sF ? `(${f0} + ${ff}) * ${sF}u` : '', sK ? `${kk} * ${sK}u` : ''].filter(Boolean);
        base = b.let(terms.join(' + ') || '0u', 'u32', `${name}base`);
      }
      out.push({ kk, ff, base, inF, live });
    }
    return out;
  }

  /** The element offset of workgroup batch `bz` in an operand with per-batch-dimension strides `sB` ('' when 0). */
  private batchOffset(sB: readonly number[]): string {
    const terms: string[] = [];
    let inner = 1;
    for (let j = sB.length - 1; j >= 0; j--) {
      const n = this.batchShape[j];
      if (sB[j] !== 0 && n !== 1) {
        const idx = inner === 1 ? 'bz' : `(bz / ${inner}u)`;
        terms.push(`${j === 0 ? idx : `(${idx} % ${n}u)`} * ${sB[j]}u`);
      }
      inner *= n;
    }
    return terms.join(' + ');
  }

  /** The whole K loop: prologue load, then per step prefetch, multiply, commit, barrier. */
  body(A: OperandView, planA: LoadPlan, Bv: OperandView, planB: LoadPlan): void {
    const { b, tile } = this;
    const { bm, bn, bk, rm, rn } = tile;
    for (let i = 0; i < rm; i++) for (let j = 0; j < rn / 4; j++) b.line(`var c${i}_${j} = vec4<${this.acc}>();`);
    if (this.K === 0) return;
    const sa = this.setup('a', A, planA, bm, 'm0');
    const sb = this.setup('b', Bv, planB, bn, 'n0');
    const regsA = this.regs('pa', planA, sa.length);
    const regsB = this.regs('pb', planB, sb.length);
    this.load(A, planA, sa, regsA, 'm0', '0u');
    this.load(Bv, planB, sb, regsB, 'n0', '0u');
    this.commit('As', planA, sa, regsA, bm, '0u');
    this.commit('Bs', planB, sb, regsB, bn, '0u');
    b.line('workgroupBarrier();');
    const tx = bn / rn;
    const ty = bm / rm;
    b.block(`for (var t = 0u; t < ${this.tiles}u; t = t + 1u)`, () => {
      b.line(`let cur = t & 1u;`);
      if (this.tiles > 1) {
        b.block(`if (t + 1u < ${this.tiles}u)`, () => {
          b.line(`let k0 = (t + 1u) * ${bk}u;`);
          this.load(A, planA, sa, regsA, 'm0', 'k0');
          this.load(Bv, planB, sb, regsB, 'n0', 'k0');
        });
      }
      b.line(`let ao = cur * ${(bk * bm) / 4}u + lid.y;`);
      b.line(`let bo = cur * ${(bk * bn) / 4}u + lid.x;`);
      const fma = this.acc === 'f32' ? (x: string, y: string, z: string) => `fma(${x}, ${y}, ${z})` : (x: string, y: string, z: string) => `${z} + ${x} * ${y}`;
      for (let kk = 0; kk < bk; kk++) {
        for (let gi = 0; gi < rm / 4; gi++) b.line(`let a${kk}_${gi} = As[ao + ${(kk * bm) / 4 + gi * ty}u];`);
        for (let gj = 0; gj < rn / 4; gj++) b.line(`let b${kk}_${gj} = Bs[bo + ${(kk * bn) / 4 + gj * tx}u];`);
        for (let i = 0; i < rm; i++) {
          const a = `vec4<${this.acc}>(a${kk}_${i >> 2}.${'xyzw'[i & 3]})`;
          for (let j = 0; j < rn / 4; j++) b.line(`c${i}_${j} = ${fma(a, `b${kk}_${j}`, `c${i}_${j}`)};`);
        }
      }
      if (this.tiles > 1) {
        b.block(`if (t + 1u < ${this.tiles}u)`, () => {
          b.line('let nxt = 1u - cur;');
          this.commit('As', planA, sa, regsA, bm, 'nxt');
          this.commit('Bs', planB, sb, regsB, bn, 'nxt');
        });
      }
      b.line('workgroupBarrier();');
    });
  }

  private regs(prefix: string, plan: LoadPlan, count: number): string[] {
    const ty = plan.kind === 'vec' ? `vec4<${this.acc}>` : this.acc;
    return Array.from({ length: count }, (_, r) => this.b.var(ty, undefined, `${prefix}${r}_`));
  }

  /** Global memory to registers for the tile starting at K offset `k0` (zeros outside the operand). */
  private load(view: OperandView, plan: LoadPlan, setup: ReturnType<DotGen['setup']>, regs: string[], f0: string, k0: string): void {
    const { b, em, K } = this;
    const kExact = K % this.tile.bk === 0;
    setup.forEach((s, r) => {
      const conds = [s.live, s.inF === 'true' ? '' : s.inF, kExact ? '' : `${k0} + ${s.kk} < ${K}u`].filter(Boolean) as string[];
      const emitOne = () => {
        if (plan.kind === 'fused') {
          em.scoped(() => {
            const gk = b.let(`${k0} + ${s.kk}`, 'u32', 'gk');
            const gf = b.let(`${f0} + ${s.ff}`, 'u32', 'gf');
            const val = this.operandAt(view, 'bz', gf, gk);
            b.line(`${regs[r]} = ${this.acc === 'f32' ? val : `${this.acc}(${val})`};`);
          });
          return;
        }
        const { sK } = plan.lin;
        const at = k0 === '0u' || !sK ? s.base! : `${s.base} + ${k0} * ${sK}u`;
        if (plan.kind === 'vec') {
          b.line(`${regs[r]} = ${this.em.k.storageVec4(plan.buffer, 'read')}[(${at}) / 4u];`);
        } else {
          const val = em.load(plan.lin.root, plan.buffer, { shape: [], flat: `(${at})` });
          b.line(`${regs[r]} = ${this.acc === 'f32' ? val : `${this.acc}(${val})`};`);
        }
      };
      if (conds.length === 0) emitOne();
      else {
        b.line(`${regs[r]} = ${plan.kind === 'vec' ? `vec4<${this.acc}>()` : this.zero};`);
        b.block(`if (${conds.join(' && ')})`, emitOne);
      }
    });
  }

  /** Registers to the workgroup tile `buf` (0 or 1): layout [bk][bf], f fastest. */
  private commit(tileName: string, plan: LoadPlan, setup: ReturnType<DotGen['setup']>, regs: string[], bf: number, buf: string): void {
    const { b } = this;
    const off = buf === '0u' ? '' : `${buf} * ${(this.tile.bk * bf) / 4}u + `;
    setup.forEach((s, r) => {
      const emit = () => {
        if (plan.kind === 'vec' && plan.axis === 'f') {
          b.line(`${tileName}[${off}(${s.kk} * ${bf}u + ${s.ff}) / 4u] = ${regs[r]};`);
        } else if (plan.kind === 'vec') {
          for (let c = 0; c < 4; c++) {
            b.line(`${tileName}[${off}(${s.kk} + ${c}u) * ${bf / 4}u + ${s.ff} / 4u][${s.ff} % 4u] = ${regs[r]}.${'xyzw'[c]};`);
          }
        } else {
          b.line(`${tileName}[${off}${s.kk} * ${bf / 4}u + ${s.ff} / 4u][${s.ff} % 4u] = ${regs[r]};`);
        }
      };
      if (s.live) b.block(`if (${s.live})`, emit);
      else emit();
    });
  }

  /** A fused operand's element at batch `bi`, free index `fi` and contraction index `ki`. */
  private operandAt(view: OperandView, bi: string, fi: string, ki: string): string {
    const { em } = this;
    const bc = em.coords({ shape: this.batchShape, flat: bi });
    const fc = em.coords({ shape: view.fShape, flat: fi });
    const kc = em.coords({ shape: this.kShape, flat: ki });
    const cs = new Array<string>(view.v.type.shape.length);
    view.batch.forEach((d, j) => { cs[d] = bc[j]; });
    view.contract.forEach((d, j) => { cs[d] = kc[j]; });
    view.free.forEach((d, j) => { cs[d] = fc[j]; });
    return em.value(view.v, { shape: view.v.type.shape, coords: cs });
  }

  /**
   * Accumulators to memory. Without epilogues, an f32 result whose rows are multiples of 4 is
   * stored 16 bytes at a time; otherwise element by element through the epilogue values.
   */
  store(epilogues: readonly Epilogue[], write: boolean, batchShape: number[], mShape: number[], nShape: number[], M: number, N: number, f32: boolean): void {
    const { b, em, env, o, tile } = this;
    const { bm, bn, rm, rn } = tile;
    const tx = bn / rn;
    const ty = bm / rm;
    const out = o.results[0];
    const vecStore = f32 && epilogues.length === 0 && N % 4 === 0;
    for (let i = 0; i < rm; i++) {
      em.scoped(() => {
        const gm = b.let(`m0 + ${(i >> 2) * ty * 4 + (i & 3)}u + lid.y * 4u`, 'u32', 'gm');
        const rowBody = () => {
          for (let j = 0; j < rn / 4; j++) {
            em.scoped(() => {
              const gn0 = b.let(`n0 + ${j * tx * 4}u + lid.x * 4u`, 'u32', 'gn');
              if (vecStore) {
                if (!write) return;
                const dst = em.k.storageVec4(env.buffer(out), 'read_write');
                const st = () => b.line(`${dst}[(bz * ${M * N}u + ${gm} * ${N}u + ${gn0}) / 4u] = c${i}_${j};`);
                if (N % bn === 0) st();
                else b.block(`if (${gn0} < ${N}u)`, st);
                return;
              }
              for (let c = 0; c < 4; c++) {
                em.scoped(() => {
                  const gn = c === 0 ? gn0 : b.let(`${gn0} + ${c}u`, 'u32', 'gn');
                  const st = () => em.scoped(() => this.emitOutput(epilogues, write, `c${i}_${j}.${'xyzw'[c]}`, batchShape, mShape, nShape, gm, gn));
                  if (N % bn === 0) st();
                  else b.block(`if (${gn} < ${N}u)`, st);
                });
              }
            });
          }
        };
        if (M % bm === 0) rowBody();
        else b.block(`if (${gm} < ${M}u)`, rowBody);
      });
    }
  }

  private emitOutput(
    epilogues: readonly Epilogue[], write: boolean, accExpr: string,
    batchShape: number[], mShape: number[], nShape: number[], gm: string, gn: string,
  ): void {
    const { em, env, o } = this;
    const out = o.results[0];
    const od = dtypeOf(out);
    const bc = em.coords({ shape: batchShape, flat: 'bz' });
    const mc = em.coords({ shape: mShape, flat: gm });
    const nc = em.coords({ shape: nShape, flat: gn });
    const M = numElements(mShape);
    const N = numElements(nShape);
    const flat = em.b.let(`bz * ${M * N}u + ${gm} * ${N}u + ${gn}`, 'u32', 'o');
    const v = em.b.let(od === 'f16' ? `${useHelper(em.b, 'k_f16r')}(${accExpr})` : accExpr, undefined, 'dot');
    emitDotElement(em, env, out, epilogues, write, v, [...bc, ...mc, ...nc], flat);
  }
}
