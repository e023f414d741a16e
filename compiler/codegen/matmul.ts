/**
 * @file The matmul kernel for `dot_general`: the operands are viewed as [batch, M, K] and
 * [batch, K, N] by index math (any batching and contracting dimensions, so transposes cost
 * nothing), tiles of both are staged in workgroup memory, and each thread accumulates a
 * register block of RM x RN outputs. Producers of the operands are fused into the tile loads; the
 * elementwise epilogue (bias, activation, scale) is applied to the accumulators before the store.
 * https://openxla.org/stablehlo/spec#dot_general
 */
import { UnsupportedOpError } from '../../ir/errors.js';
import type { Op } from '../../ir/ops.js';
import { numElements, type AnyOperation, type Operation, type Value } from '../../ir/types.js';
import type { KernelSpec } from '../program.js';
import type { Epilogue } from '../fusion.js';
import { dtypeOf, type ExprEmitter } from './expr.js';
import { newKernel, type GroupEnv } from './group.js';
import { useHelper } from './helpers.js';
import { literal, regType } from './scalar.js';

/** Threads per workgroup side and outputs per thread side: tiles are (T * R) square. */
const T = 8;

export function emitDotKernel(
  env: GroupEnv,
  o: Operation<Op.DotGeneral>,
  epilogues: readonly Epilogue[],
  write: boolean,
  name: string,
): KernelSpec | undefined {
  const [lhs, rhs] = o.operands;
  const out = o.results[0];
  const { lhsBatch, rhsBatch, lhsContract, rhsContract } = o.attrs.dims;
  const ls = lhs.type.shape;
  const rs = rhs.type.shape;
  const lFree = ls.map((_, i) => i).filter((i) => !lhsBatch.includes(i) && !lhsContract.includes(i));
  const rFree = rs.map((_, i) => i).filter((i) => !rhsBatch.includes(i) && !rhsContract.includes(i));
  const batchShape = lhsBatch.map((d) => ls[d]);
  const kShape = lhsContract.map((d) => ls[d]);
  const mShape = lFree.map((d) => ls[d]);
  const nShape = rFree.map((d) => rs[d]);
  const [B, M, N, K] = [batchShape, mShape, nShape, kShape].map(numElements);
  if (B * M * N === 0) return undefined;
  const od = dtypeOf(out, o as AnyOperation);
  if (od === 'i1') throw new UnsupportedOpError(`${o.op}: i1 operands are not supported`, o.loc);
  const t = env.target;
  // Register blocks of 4x4 with 32-wide tiles; smaller where workgroup memory is scarce.
  const R = t.maxWorkgroupStorage >= 2 * 8 * 32 * 4 ? 4 : 2;
  const TM = T * R;
  const TK = 8;
  if (B > t.maxWorkgroupsPerDim) throw new UnsupportedOpError(`${o.op}: ${B} batches exceed the dispatch limit`, o.loc);
  const { k, em } = newKernel(env, o.loc, o.op);
  const b = k.b;
  const acc = regType(od);
  const zero = literal(0, od === 'f16' ? 'f32' : od);
  b.line(`var<workgroup> As: array<${acc}, ${TK * TM}>;`);
  b.line(`var<workgroup> Bs: array<${acc}, ${TK * TM}>;`);
  b.line('');
  const operandAt = (v: Value, batch: readonly number[], contract: readonly number[], free: readonly number[], bi: string, fi: string, ki: string, fShape: number[]) => {
    const bc = em.coords({ shape: batchShape, flat: bi });
    const fc = em.coords({ shape: fShape, flat: fi });
    const kc = em.coords({ shape: kShape, flat: ki });
    const cs = new Array<string>(v.type.shape.length);
    batch.forEach((d, j) => { cs[d] = bc[j]; });
    contract.forEach((d, j) => { cs[d] = kc[j]; });
    free.forEach((d, j) => { cs[d] = fc[j]; });
    return em.value(v, { shape: v.type.shape, coords: cs });
  };
  const loadTile = (tile: string, v: Value, batch: number[], contract: number[], free: number[], fShape: number[], f0: string, F: number) => {
    b.block(`for (var e = tid; e < ${TK * TM}u; e = e + ${T * T}u)`, () => {
      b.line(`let kk = e / ${TM}u;`);
      b.line(`let ff = e % ${TM}u;`);
      b.line(`let gf = ${f0} + ff;`);
      b.line(`let gk = k0 + kk;`);
      b.line(`var x = ${zero};`);
      b.block(`if (gf < ${F}u && gk < ${K}u)`, () => {
        em.scoped(() => {
          const val = operandAt(v, batch, contract, free, 'bz', 'gf', 'gk', fShape);
          b.line(`x = ${acc === 'f32' ? val : `${acc}(${val})`};`);
        });
      });
      b.line(`${tile}[kk * ${TM}u + ff] = x;`);
    });
  };
  b.block(`@compute @workgroup_size(${T}, ${T}) fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>)`, () => {
    b.line('let tid = lid.y * 8u + lid.x;');
    b.line('let bz = wid.z;');
    b.line(`let m0 = wid.y * ${TM}u;`);
    b.line(`let n0 = wid.x * ${TM}u;`);
    b.line(`var acc: array<${acc}, ${R * R}>;`);
    b.block(`for (var k0 = 0u; k0 < ${K}u; k0 = k0 + ${TK}u)`, () => {
      loadTile('As', lhs, lhsBatch, lhsContract, lFree, mShape, 'm0', M);
      loadTile('Bs', rhs, rhsBatch, rhsContract, rFree, nShape, 'n0', N);
      b.line('workgroupBarrier();');
      b.block(`for (var kk = 0u; kk < ${TK}u; kk = kk + 1u)`, () => {
        for (let i = 0; i < R; i++) b.line(`let a${i} = As[kk * ${TM}u + lid.y * ${R}u + ${i}u];`);
        for (let j = 0; j < R; j++) b.line(`let b${j} = Bs[kk * ${TM}u + lid.x * ${R}u + ${j}u];`);
        for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) b.line(`acc[${i * R + j}] = acc[${i * R + j}] + a${i} * b${j};`);
      });
      b.line('workgroupBarrier();');
    });
    b.block(`for (var i = 0u; i < ${R}u; i = i + 1u)`, () => {
      b.block(`for (var j = 0u; j < ${R}u; j = j + 1u)`, () => {
        b.line(`let gm = m0 + lid.y * ${R}u + i;`);
        b.line(`let gn = n0 + lid.x * ${R}u + j;`);
        b.block(`if (gm < ${M}u && gn < ${N}u)`, () => {
          em.scoped(() => emitOutputs(env, em, o, epilogues, write, `acc[i * ${R}u + j]`, batchShape, mShape, nShape));
        });
      });
    });
  });
  return k.finish(name, [Math.ceil(N / TM), Math.ceil(M / TM), B]);
}

function emitOutputs(
  env: GroupEnv, em: ExprEmitter, o: Operation<Op.DotGeneral>, epilogues: readonly Epilogue[], write: boolean,
  accExpr: string, batchShape: number[], mShape: number[], nShape: number[],
): void {
  const out = o.results[0];
  const od = dtypeOf(out);
  const bc = em.coords({ shape: batchShape, flat: 'bz' });
  const mc = em.coords({ shape: mShape, flat: 'gm' });
  const nc = em.coords({ shape: nShape, flat: 'gn' });
  const idx = { shape: out.type.shape, coords: [...bc, ...mc, ...nc] };
  const flat = em.flat(idx);
  const v = em.b.let(od === 'f16' ? `${useHelper(em.b, 'k_f16r')}(${accExpr})` : accExpr, undefined, 'dot');
  em.regs.set(out, v);
  if (write) em.store(od, em.k.storage(env.buffer(out), od, 'read_write'), flat, v);
  for (const e of epilogues) {
    const d = dtypeOf(e.value);
    const val = em.computeTop(e.value, idx);
    em.store(d, em.k.storage(env.buffer(e.value), d, 'read_write'), flat, val);
  }
  em.regs.delete(out);
}
