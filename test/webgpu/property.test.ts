/**
 * @file Property test: fast-check draws shapes, dtypes and small op graphs (elementwise chains,
 * broadcasts, transposes, reductions, dot_general with random batching and contracting
 * dimensions), runs each on WebGPU and on the reference interpreter, and compares them.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../client/builder.js';
import { Op } from '../../ir/ops.js';
import type { Value } from '../../ir/types.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';
import { mismatch } from '../helpers/corpus.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

type Dt = 'f32' | 'i32';
interface StepSpec { kind: number; a: number; b: number; k: number; n: number }

function buildGraph(dtype: Dt, shape: number[], steps: StepSpec[]) {
  const g = new GraphBuilder();
  const args: Value[] = [{ type: { dtype, shape } }];
  const vals: Value[] = [args[0]];
  const arg = (s: number[]) => { const v = { type: { dtype, shape: s } }; args.push(v); return v; };
  const un = dtype === 'f32' ? [Op.Negate, Op.Abs, Op.Tanh, Op.Exp, Op.Sin] : [Op.Negate, Op.Abs, Op.Not];
  const bin = dtype === 'f32' ? [Op.Add, Op.Multiply, Op.Subtract, Op.Maximum, Op.Minimum] : [Op.Add, Op.Multiply, Op.Subtract, Op.Maximum, Op.Xor];
  for (const s of steps) {
    const a = vals[s.a % vals.length];
    const sh = a.type.shape;
    switch (s.kind % 6) {
      case 0: vals.push(g.emit1(un[s.k % un.length], [a], {})); break;
      case 1: {
        const same = vals.filter((v) => v.type.shape.join() === sh.join());
        vals.push(g.emit1(bin[s.k % bin.length], [a, same[s.b % same.length]], {}));
        break;
      }
      case 2: { // broadcast a lower-rank argument (or a scalar) into a's shape
        const keep = sh.map((_, i) => i).filter((i) => (s.b >> i) & 1);
        const src = arg(keep.map((i) => ((s.n >> i) & 1 ? 1 : sh[i])));
        const bc = g.emit1(Op.BroadcastInDim, [src], { dims: keep }, { resultTypes: [{ dtype, shape: [...sh] }] });
        vals.push(g.emit1(bin[s.k % bin.length], [a, bc], {}));
        break;
      }
      case 3: { // transpose by a rotation
        if (sh.length < 2) break;
        const r = s.k % sh.length;
        const perm = sh.map((_, i) => (i + r) % sh.length);
        vals.push(g.emit1(Op.Transpose, [a], { permutation: perm }));
        break;
      }
      case 4: { // reduce (sum or max) over a non-empty subset of dims
        if (sh.length === 0) break;
        const dims = sh.map((_, i) => i).filter((i) => (s.b >> i) & 1);
        if (!dims.length) dims.push(s.k % sh.length);
        const isMax = s.k % 2 === 1;
        const init = g.constant(dtype, [], isMax ? (dtype === 'f32' ? -Infinity : -2147483648) : 0);
        const body = g.region([{ dtype, shape: [] }, { dtype, shape: [] }], (rb, [x, y]) => [rb.emit1(isMax ? Op.Maximum : Op.Add, [x, y], {})]);
        vals.push(g.emit1(Op.Reduce, [a, init], { dims }, { regions: [body] }));
        break;
      }
      case 5: { // dot_general: contract one dim of a (any) with a new argument; rank 3 batches dim 0
        if (sh.length === 0) break;
        const batch = sh.length === 3 ? [0] : [];
        const cands = sh.map((_, i) => i).filter((i) => !batch.includes(i));
        const c = cands[s.k % cands.length];
        const n = 1 + (s.n % 6);
        const rhsT = s.b % 2 === 1; // rhs as [.., n, k] instead of [.., k, n]
        const rs = [...batch.map((d) => sh[d]), ...(rhsT ? [n, sh[c]] : [sh[c], n])];
        const rhs = arg(rs);
        const rc = batch.length + (rhsT ? 1 : 0);
        vals.push(g.emit1(Op.DotGeneral, [a, rhs], { dims: { lhsBatch: batch, rhsBatch: batch.map((_, i) => i), lhsContract: [c], rhsContract: [rc] } }));
        break;
      }
    }
  }
  const outs = [vals[vals.length - 1]];
  if (vals.length > 2) outs.push(vals[Math.floor(vals.length / 2)]);
  return { m: g.finish(args, outs), args };
}

describe('random graphs on webgpu match the reference interpreter', () => {
  it('elementwise, broadcast, transpose, reduce and dot_general graphs', async () => {
    const d = await gpu();
    let runs = 0;
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<Dt>('f32', 'i32'),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.record({ kind: fc.nat(), a: fc.nat(), b: fc.nat(), k: fc.nat(), n: fc.nat() }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 1 << 30 }),
      async (dtype, shape, steps, seed) => {
        const { m, args } = buildGraph(dtype, shape, steps);
        let s = seed;
        const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32; };
        const ins = args.map((a) => {
          const n = a.type.shape.reduce((x, y) => x * y, 1);
          return hostTensor(dtype, a.type.shape, Array.from({ length: n }, () => (dtype === 'f32' ? rnd() * 4 - 2 : Math.floor(rnd() * 200) - 100)));
        });
        const want = interpret(m, ins);
        const exe = d.compile(m);
        const outs = d.execute(exe, ins.map((t) => d.upload(t)));
        const got = await Promise.all(outs.map((o) => d.read(o)));
        outs.forEach((o) => d.free(o));
        runs++;
        got.forEach((t, i) => expect(mismatch(t, want[i], 2e-3, 1e-3), `output ${i}`).toBeUndefined());
      },
    ), { numRuns: 40 });
    expect(runs).toBe(40);
  });
});
