/**
 * @file The public `lax` control flow: each construct against the same computation written as a
 * plain JS loop in float64, eagerly and inside `jit`, on the reference interpreter and on WebGPU
 * (tiny shapes: lavapipe is slow); closures over outer Arrays and jit arguments; `grad` through
 * scan/foriLoop/cond/switch against central finite differences and against the same function
 * written without control flow; `vmap` against a loop over lanes; and every refusal's error class
 * and message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  grad, jit, lax, lower, np, setDefaultDevice, TraceError, UnsupportedOpError, valueAndGrad, vmap, type Array as KArray,
} from '../../client/index.js';
import type { Device } from '../../runtime/device.js';
import { referenceDevice, webgpuDevice } from '../helpers/devices.js';
import { Op } from '../../ir/ops.js';
import { tensorType, walkOps } from '../../ir/types.js';
import { valueAndGradModule } from '../../client/autodiff/vjp.js';
import { hostTensor } from '../../runtime/tensor.js';
import { buildModule, run } from './autodiff-helpers.js';

type A = KArray;

async function values(x: unknown): Promise<number[]> {
  return Array.from(await (x as A).data());
}

function expectClose(got: readonly number[], want: readonly number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]) > tol * (1 + Math.abs(want[i]))) {
      throw new Error(`element ${i}: got ${g}, want ${want[i]} (all: got [${got.join(', ')}], want [${want.join(', ')}])`);
    }
  });
}

/** Values the tests feed in, and the same numbers as JS arrays for the float64 expectations. */
const XS = [0.5, -1.25, 2, 0.75, -0.5];
const W = [0.9, -0.3];

// ---- float64 references, written as plain loops ------------------------------------------------

/** h_t = tanh(w0 * h_{t-1} + w1 * x_t); returns [h_T, [h_1..h_T]] (scanned in `reverse` order if asked). */
function rnnJs(w: readonly number[], xs: readonly number[], h0: number, reverse = false): [number, number[]] {
  let h = h0;
  const ys = new Array<number>(xs.length);
  for (let s = 0; s < xs.length; s++) {
    const t = reverse ? xs.length - 1 - s : s;
    h = Math.tanh(w[0] * h + w[1] * xs[t]);
    ys[t] = h;
  }
  return [h, ys];
}

function collatzSteps(n: number): number {
  let steps = 0;
  while (n !== 1) {
    n = n % 2 === 0 ? n / 2 : 3 * n + 1;
    steps++;
  }
  return steps;
}

/** kiln versions of the same computations. */
const rnnStep = (w: A) => (h: A, x: A): [A, A] => {
  const hn = np.tanh(np.add(np.multiply(np.take(w, 0), h), np.multiply(np.take(w, 1), x)));
  return [hn, hn];
};
const collatz = (n: A) =>
  lax.whileLoop(
    ([m]: [A, A]) => np.notEqual(m, 1),
    ([m, s]: [A, A]): [A, A] => [np.where(np.equal(np.mod(m, 2), 0), np.floorDivide(m, 2), np.add(np.multiply(m, 3), 1)), np.add(s, 1)],
    [n, np.array(0, { dtype: 'i32' })],
  )[1];

// ---- the constructs on both devices ------------------------------------------------------------

interface Case {
  name: string;
  /** Runs the construct (eagerly, or calling a jitted function) and returns its values. */
  run(): Promise<number[]>;
  want(): number[];
  tol?: number;
  /** Run on the reference interpreter only (GPU time is scarce on lavapipe). */
  referenceOnly?: boolean;
}

const cases: Case[] = [
  {
    name: 'whileLoop: Collatz step counts, inside jit (a trip count known only at run time)',
    run: () => Promise.all([6, 7, 27].map((n) => values(jit(collatz)(np.array(n, { dtype: 'i32' }))))).then((r) => r.flat()),
    want: () => [6, 7, 27].map(collatzSteps),
  },
  {
    name: 'whileLoop: eager, dict carry with a JS-number leaf',
    run: async () => {
      const out = lax.whileLoop((c: { i: A; x: A }) => np.less(c.i, 4), (c: { i: A; x: A }) => ({ i: np.add(c.i, 1), x: np.multiply(c.x, 1.5) }), { i: 0, x: np.array([1, -2]) } as unknown as { i: A; x: A });
      return [...(await values(out.i)), ...(await values(out.x))];
    },
    want: () => [4, 1.5 ** 4, -2 * 1.5 ** 4],
  },
  {
    name: 'foriLoop with static bounds (a scan) and with traced bounds (a while), in jit',
    run: async () => {
      const body = (i: A, x: A) => np.add(np.multiply(x, 0.5), i);
      const st = await values(jit((x: A) => lax.foriLoop(2, 7, body, x))(np.array(3)));
      const dyn = await values(jit((lo: A, hi: A, x: A) => lax.foriLoop(lo, hi, body, x))(np.array(2, { dtype: 'i32' }), np.array(7, { dtype: 'i32' }), np.array(3)));
      return [...st, ...dyn];
    },
    want: () => {
      let x = 3;
      for (let i = 2; i < 7; i++) x = x * 0.5 + i;
      return [x, x];
    },
  },
  {
    name: 'scan: an RNN carry and stacked ys, closing over a jit argument',
    run: async () => {
      const f = jit((w: A, xs: A) => lax.scan(rnnStep(w), np.array(0.1), xs));
      const [h, ys] = f(np.array(W), np.array(XS));
      return [...(await values(h)), ...(await values(ys))];
    },
    want: () => { const [h, ys] = rnnJs(W, XS, 0.1); return [h, ...ys]; },
  },
  {
    name: 'scan: reverse, unroll 2 of 5 steps (a loop of 2 iterations plus one straight-line step)',
    run: async () => {
      const w = np.array(W);
      const [h, ys] = lax.scan(rnnStep(w), np.array(0.1), np.array(XS), { reverse: true, unroll: 2 });
      return [...(await values(h)), ...(await values(ys))];
    },
    want: () => { const [h, ys] = rnnJs(W, XS, 0.1, true); return [h, ...ys]; },
  },
  {
    name: 'cond and switch: both branches traced, the index clamped, inside jit',
    run: async () => {
      const branches = [(a: A, b: A) => np.add(a, b), (a: A, b: A) => np.multiply(a, b), (a: A) => np.negative(a)];
      const sw = jit((i: A, a: A, b: A) => lax.switch(i, branches, a, b));
      const c = jit((p: A, a: A) => lax.cond(p, (x: A) => np.exp(x), (x: A) => np.sin(x), a));
      const out: number[] = [];
      for (const i of [-4, 0, 1, 2, 9]) out.push(...(await values(sw(np.array(i, { dtype: 'i32' }), np.array(1.5), np.array(-2)))));
      for (const p of [true, false]) out.push(...(await values(c(np.array(p), np.array(0.3)))));
      return out;
    },
    want: () => [-0.5, -0.5, -3, -1.5, -1.5, Math.exp(0.3), Math.sin(0.3)],
  },
  {
    name: 'scan with xs = null and a length; map; scan with zero steps',
    referenceOnly: true,
    run: async () => {
      const [c, ys] = lax.scan((c: A): [A, A] => [np.multiply(c, 2), c], np.array(1), null, { length: 4 });
      const m = lax.map((r: A) => np.sum(np.square(r)), np.array([[1, 2], [3, 4], [5, 6]]));
      const [c0, ys0] = lax.scan((c: A, x: A): [A, A] => [np.add(c, x), x], np.array(7), np.zeros([0]), {});
      expect((ys0 as A).shape).toEqual([0]);
      return [...(await values(c)), ...(await values(ys)), ...(await values(m)), ...(await values(c0))];
    },
    want: () => [16, 1, 2, 4, 8, 5, 25, 61, 7],
  },
];

/** The same cases plus grads and vmap, on one device. */
function suite(name: string, device: () => Device | Promise<Device>, gpu: boolean): void {
  describe(`lax control flow on ${name}`, () => {
    beforeAll(async () => setDefaultDevice(await device()));
    afterAll(() => setDefaultDevice('auto'));
    for (const c of cases) {
      if (gpu && c.referenceOnly) continue;
      it(c.name, async () => expectClose((await c.run()) as number[], c.want(), c.tol));
    }
    it('grad of a 12-step scan (transposed as loops) matches central differences', async () => {
      const xs = Array.from({ length: 12 }, (_, i) => Math.sin(0.9 * i));
      const loss = (w: A, x: A) => np.sum(np.square(lax.scan(rnnStep(w), np.array(0.1), x)[1]));
      const g = await values(jit(grad(loss))(np.array(W), np.array(xs)));
      const js = (w: number[]) => rnnJs(w, xs, 0.1)[1].reduce((s, y) => s + y * y, 0);
      expectClose(g, centralDiff(js, W), 1e-4);
    });
    it('grad of a scan inside jit matches the float64 derivative by central differences', async () => {
      const loss = (w: A, xs: A) => np.sum(np.square(lax.scan(rnnStep(w), np.array(0.1), xs)[1]));
      const g = await values(jit(grad(loss))(np.array(W), np.array(XS)));
      const js = (w: number[]) => rnnJs(w, XS, 0.1)[1].reduce((s, y) => s + y * y, 0);
      const eps = 1e-6;
      const fd = W.map((_, k) => {
        const [wp, wm] = [[...W], [...W]];
        wp[k] += eps;
        wm[k] -= eps;
        return (js(wp) - js(wm)) / (2 * eps);
      });
      expectClose(g, fd, 1e-4);
    });
  });
}

suite('the reference interpreter', referenceDevice, false);
suite('WebGPU', webgpuDevice, true);

// ---- reverse mode -------------------------------------------------------------------------------

/** Central differences of a scalar JS function of a vector, in float64. */
function centralDiff(f: (w: number[]) => number, w: readonly number[], eps = 1e-6): number[] {
  return w.map((_, k) => {
    const [p, m] = [[...w], [...w]];
    p[k] += eps;
    m[k] -= eps;
    return (f(p) - f(m)) / (2 * eps);
  });
}

describe('grad through lax control flow (reference interpreter)', () => {
  beforeAll(() => setDefaultDevice(referenceDevice()));
  afterAll(() => setDefaultDevice('auto'));

  it('scan (eager grad, closure over an outer Array) equals the same loss written without control flow', async () => {
    const xs = np.array(XS);
    const withScan = (w: A) => np.sum(np.square(lax.scan(rnnStep(w), np.array(0.1), xs, { unroll: 2 })[1]));
    const unrolled = (w: A) => {
      let h = np.array(0.1);
      let s: A = np.array(0);
      for (let t = 0; t < XS.length; t++) {
        [h] = rnnStep(w)(h, np.take(xs, t));
        s = np.add(s, np.square(h));
      }
      return s;
    };
    const w = np.array(W);
    expectClose(await values(grad(withScan)(w)), await values(grad(unrolled)(w)), 1e-6);
  });

  it('a long scan (20 steps, transposed as a loop, not unrolled) equals the unrolled loss w.r.t. weights, xs and init, both directions', async () => {
    const n = 20;
    const xs = Array.from({ length: n }, (_, i) => Math.sin(0.7 * i));
    for (const reverse of [false, true]) {
      const withScan = (w: A, x: A, h0: A) => np.sum(np.square(lax.scan(rnnStep(w), h0, x, { reverse })[1]));
      const unrolled = (w: A, x: A, h0: A) => {
        let h = h0;
        let s: A = np.array(0);
        for (let t = 0; t < n; t++) {
          [h] = rnnStep(w)(h, np.take(x, reverse ? n - 1 - t : t));
          s = np.add(s, np.square(h));
        }
        return s;
      };
      const args = [np.array(W), np.array(xs), np.array(0.1)] as const;
      const g = jit(grad(withScan, { argnums: [0, 1, 2] }))(...args) as A[];
      const want = jit(grad(unrolled, { argnums: [0, 1, 2] }))(...args) as A[];
      for (let i = 0; i < 3; i++) expectClose(await values(g[i]), await values(want[i]), 1e-5);
      const js = (w: number[]) => rnnJs(w, xs, 0.1, reverse)[1].reduce((a, y) => a + y * y, 0);
      expectClose(await values(g[0]), centralDiff(js, W), 1e-4);
    }
    // The module holds the loop body a fixed number of times, not once per step.
    const text = lower(grad((w: A) => np.sum(lax.scan(rnnStep(w), np.array(0.1), np.array(xs))[1])))(np.array(W)).text;
    expect(text.match(/stablehlo\.while/g)).toHaveLength(2); // the primal loop (stacking carries) and the backward loop
    expect(text.match(/stablehlo\.tanh/g)).toHaveLength(2);
  });

  it('nested long loops: a foriLoop of 10 around a scan of 12 closing over the weights', async () => {
    const xs = Array.from({ length: 12 }, (_, i) => Math.cos(i));
    const f = (p: A) => lax.foriLoop(0, 10, (_i: A, h: A) => lax.scan(
      (c: A, x: A): [A, null] => [np.tanh(np.add(np.multiply(c, np.take(p, 0)), np.multiply(x, np.take(p, 1)))), null], h, np.array(xs),
    )[0], np.array(0.2));
    const js = ([a, b]: number[]) => {
      let h = 0.2;
      for (let i = 0; i < 10; i++) for (const x of xs) h = Math.tanh(h * a + x * b);
      return h;
    };
    const p = [0.7, 0.4];
    expectClose(await values(jit(grad(f))(np.array(p))), centralDiff(js, p), 1e-3);
  });

  it('a while in the shape JAX lowers scan to (weights and xs carried unchanged, ys by dynamic_update_slice) is transposed without stacking them', () => {
    const n = 12;
    const xsJ = Array.from({ length: n }, (_, i) => Math.sin(1.3 * i));
    const [f32s, xsT, i32s] = [tensorType('f32', []), tensorType('f32', [n]), tensorType('i32', [])];
    const m = buildModule([f32s, xsT, f32s], (e, [w, xs, c0]) => {
      const types = [f32s, xsT, i32s, f32s, xsT];
      const cond = e.b.region(types, (rb, [, , i]) => [rb.emit1(Op.Compare, [i, rb.constant('i32', [], n)], { direction: 'LT', compareType: 'SIGNED' })]);
      const body = e.b.region(types, (rb, [wv, xv, i, c, ys]) => {
        const x = rb.emit1(Op.Reshape, [rb.emit1(Op.DynamicSlice, [xv, i], { sliceSizes: [1] })], {}, { resultTypes: [f32s] });
        const next = rb.emit1(Op.Sin, [rb.emit1(Op.Add, [rb.emit1(Op.Multiply, [c, wv], {}), x], {})], {});
        const row = rb.emit1(Op.Reshape, [c], {}, { resultTypes: [tensorType('f32', [1])] });
        const ys2 = rb.emit1(Op.DynamicUpdateSlice, [ys, row, i], {});
        return [wv, xv, rb.emit1(Op.Add, [i, rb.constant('i32', [], 1)], {}), next, ys2];
      });
      const r = e.b.emit(Op.While, [w, xs, e.scalar('i32', 0), c0, e.zeros(xsT)], {}, { regions: [cond, body] });
      // loss = c_N + sum(ys * ys)
      return [e.add(r[3], e.total(e.mul(r[4], r[4])))];
    });
    const js = ([w, c0, ...xs]: number[]) => {
      let c = c0, loss = 0;
      for (let t = 0; t < n; t++) {
        loss += c * c;
        c = Math.sin(c * w + xs[t]);
      }
      return loss + c;
    };
    const g = valueAndGradModule(m, [0, 1, 2]);
    // No stack of the carried xs ([n, n]): only the carry c is stacked.
    const shapes: string[] = [];
    walkOps(g.funcs[0].body, (o) => { for (const r of o.results) shapes.push(r.type.shape.join('x')); });
    expect(shapes).not.toContain(`${n}x${n}`);
    const [, gw, gxs, gc] = run(g, [hostTensor('f32', [], [0.8]), hostTensor('f32', [n], xsJ), hostTensor('f32', [], [0.3])]);
    const fd = centralDiff(js, [0.8, 0.3, ...xsJ]);
    expectClose([...gw.data, ...gc.data, ...gxs.data], fd, 1e-3);
  });

  it('a cond inside a long scan body, closing over the weights', async () => {
    const xs = Array.from({ length: 15 }, (_, i) => Math.cos(2.1 * i));
    const f = (p: A) => lax.scan((c: A, x: A): [A, A] => {
      const n = lax.cond(np.greater(x, 0), (a: A) => np.tanh(np.multiply(a, np.take(p, 0))), (a: A) => np.multiply(a, np.take(p, 1)), np.add(c, x));
      return [n, n];
    }, np.array(0.4), np.array(xs))[0];
    const js = ([a, b]: number[]) => {
      let c = 0.4;
      for (const x of xs) c = x > 0 ? Math.tanh((c + x) * a) : (c + x) * b;
      return c;
    };
    const p = [0.9, 0.7];
    expectClose(await values(jit(grad(f))(np.array(p))), centralDiff(js, p), 1e-3);
    // vmap of that gradient over several weight vectors equals a loop over them.
    const ps = [p, [0.5, -0.3], [1.2, 0.1]];
    const vg = await values(vmap(grad(f))(np.array(ps)));
    expectClose(vg, ps.flatMap((q) => centralDiff(js, q)), 1e-3);
  });

  it('foriLoop with static bounds: d/dx and d/da of x -> x * a + sin(i * x) five times', async () => {
    const f = (p: A) => lax.foriLoop(0, 5, (i: A, x: A) => np.add(np.multiply(x, np.take(p, 1)), np.sin(np.multiply(i, x))), np.take(p, 0));
    const js = ([x0, a]: number[]) => {
      let x = x0;
      for (let i = 0; i < 5; i++) x = x * a + Math.sin(i * x);
      return x;
    };
    const p = [0.3, 0.8];
    expectClose(await values(grad(f)(np.array(p))), centralDiff(js, p), 1e-4);
  });

  it('cond and switch send cotangents to the operands and to closed-over Arrays, per branch taken', async () => {
    const v = np.array([0.5, 2]);
    const f = (x: A, k: A) => lax.switch(k, [
      (a: A) => np.sum(np.multiply(a, v)),
      (a: A) => np.sum(np.exp(np.multiply(a, v))),
      (a: A) => lax.cond(np.greater(np.sum(a), 0), (b: A) => np.sum(np.square(b)), (b: A) => np.sum(b), a),
    ], x);
    const x = [0.25, -0.5];
    const g = async (k: number, xv: number[]) => values(jit(grad(f))(np.array(xv), np.array(k, { dtype: 'i32' })));
    expectClose(await g(0, x), [0.5, 2]);
    expectClose(await g(1, x), [0.5 * Math.exp(0.125), 2 * Math.exp(-1)]);
    expectClose(await g(2, x), [1, 1]); // sum(x) < 0: the inner false branch
    expectClose(await g(2, [1, 2]), [2, 4]);
    // With respect to the closed-over Array, through a cond inside jit.
    const h = (w: A, p: A) => lax.cond(p, (a: A) => np.sum(np.sin(a)), (a: A) => np.sum(np.multiply(a, a)), w);
    expectClose(await values(jit(grad(h))(np.array(W), np.array(true))), W.map(Math.cos));
    expectClose(await values(jit(grad(h))(np.array(W), np.array(false))), W.map((w) => 2 * w));
  });

  it('valueAndGrad of a jitted loss with scan returns the loss too', async () => {
    const loss = (w: A) => np.sum(lax.scan(rnnStep(w), np.array(0.1), np.array(XS))[1]);
    const [l, g] = jit(valueAndGrad(loss))(np.array(W)) as [A, A];
    const js = (w: number[]) => rnnJs(w, XS, 0.1)[1].reduce((a, b) => a + b, 0);
    expectClose(await values(l), [js(W)]);
    expectClose(await values(g), centralDiff(js, W), 1e-4);
  });

  it('stopGradient blocks the cotangent but keeps the value', async () => {
    const f = (x: A) => np.sum(np.multiply(x, lax.stopGradient(np.square(x))));
    const x = np.array([1.5, -2]);
    expectClose(await values(grad(f)(x)), [2.25, 4]);
    expectClose(await values(lax.stopGradient({ a: x }).a), [1.5, -2]);
  });

  it('refuses a while loop (and foriLoop with Array bounds) with JAX\'s message', () => {
    const f = (x: A) => lax.foriLoop(0, np.array(3, { dtype: 'i32' }), (_i: A, c: A) => np.multiply(c, x), x);
    expect(() => grad(f)(np.array(2))).toThrow(UnsupportedOpError);
    expect(() => grad(f)(np.array(2))).toThrow(/stablehlo\.while: Reverse-mode differentiation does not work for lax\.while_loop or lax\.fori_loop with dynamic start\/stop values\. Try using lax\.scan/);
    // The value alone still runs.
    const g = (x: A) => lax.whileLoop((c: A) => np.less(c, 10), (c: A) => np.multiply(c, x), np.array(1));
    expect(() => jit(g)(np.array(3))).not.toThrow();
  });
});

// ---- vmap ------------------------------------------------------------------------------------------

describe('vmap of lax control flow', () => {
  let gpu: Device;
  beforeAll(async () => { gpu = await webgpuDevice(); });
  afterAll(() => setDefaultDevice('auto'));

  for (const [name, dev] of [['reference', () => referenceDevice()], ['WebGPU', () => gpu]] as const) {
    it(`whileLoop with a per-example condition runs each lane its own number of steps (${name})`, async () => {
      setDefaultDevice(dev());
      const ns = [6, 7, 1, 27];
      const got = await values(vmap(collatz)(np.array(ns, { dtype: 'i32' })));
      expect(got).toEqual(ns.map(collatzSteps));
    });

    it(`cond with a batched predicate and switch with a batched index select per lane (${name})`, async () => {
      setDefaultDevice(dev());
      const xs = [0.5, -1, 2];
      const c = vmap((p: A, x: A) => lax.cond(p, (a: A) => np.exp(a), (a: A) => np.multiply(a, 3), x));
      expectClose(await values(c(np.array([true, false, true]), np.array(xs))), [Math.exp(0.5), -3, Math.exp(2)]);
      const s = vmap((i: A, x: A) => lax.switch(i, [(a: A) => np.add(a, 1), (a: A) => np.square(a), (a: A) => np.negative(a)], x));
      expectClose(await values(s(np.array([5, 0, 1], { dtype: 'i32' }), np.array(xs))), [-0.5, 0, 4]);
    });
  }

  it('scan with batched xs and a shared carry equals a loop over lanes', async () => {
    setDefaultDevice(referenceDevice());
    const f = vmap((xs: A) => lax.scan(rnnStep(np.array(W)), np.array(0.1), xs), 0);
    const lanes = [XS, XS.map((x) => -x), XS.map((x) => x / 2)];
    const [h, ys] = f(np.array(lanes)) as [A, A];
    expectClose(await values(h), lanes.map((l) => rnnJs(W, l, 0.1)[0]));
    expectClose(await values(ys), lanes.flatMap((l) => rnnJs(W, l, 0.1)[1]));
  });

  it('grad of a vmapped scan loss', async () => {
    setDefaultDevice(referenceDevice());
    const lanes = [XS, XS.map((x) => -x)];
    const loss = (w: A) => np.sum(vmap((xs: A) => lax.scan(rnnStep(w), np.array(0.1), xs)[0])(np.array(lanes)) as A);
    const js = (w: number[]) => lanes.reduce((s, l) => s + rnnJs(w, l, 0.1)[0], 0);
    expectClose(await values(grad(loss)(np.array(W))), centralDiff(js, W), 1e-4);
  });
});

// ---- associativeScan, closures, eager == jit ------------------------------------------------------

describe('associativeScan and closures (reference interpreter)', () => {
  beforeAll(() => setDefaultDevice(referenceDevice()));
  afterAll(() => setDefaultDevice('auto'));

  it('associativeScan: prefix sums of odd and even lengths, reverse, along axis 1, a pytree of (a, b) pairs', async () => {
    for (const n of [1, 2, 5, 8]) {
      const v = Array.from({ length: n }, (_, i) => i * i - 3);
      const pre = v.map((_, i) => v.slice(0, i + 1).reduce((a, b) => a + b, 0));
      const suf = v.map((_, i) => v.slice(i).reduce((a, b) => a + b, 0));
      expectClose(await values(lax.associativeScan(np.add, np.array(v))), pre);
      expectClose(await values(lax.associativeScan(np.add, np.array(v), { reverse: true })), suf);
    }
    const m = np.array([[1, 2, 3], [4, 5, 6]]);
    expectClose(await values(lax.associativeScan(np.maximum, np.array([[1, 5, 3], [4, 2, 6]]), { axis: 1 })), [1, 5, 5, 4, 4, 6]);
    expectClose(await values(lax.associativeScan(np.multiply, m, { axis: -1 })), [1, 2, 6, 4, 20, 120]);
    // Affine maps x -> a x + b composed in order: the linear recurrence h_t = a_t h_{t-1} + b_t from h = 0.
    const as = [0.5, -1, 2, 0.25, 3, 1.5, -0.5];
    const bs = [1, 2, -1, 0.5, 0, 1, 2];
    const out = lax.associativeScan(
      (p: { a: A; b: A }, q: { a: A; b: A }) => ({ a: np.multiply(q.a, p.a), b: np.add(np.multiply(q.a, p.b), q.b) }),
      { a: np.array(as), b: np.array(bs) },
    );
    let h = 0;
    const want = as.map((a, t) => (h = a * h + bs[t]));
    expectClose(await values(out.b), want);
  });

  it('bodies close over outer concrete Arrays and jit arguments; eager and jit agree', async () => {
    const scale = np.array([2, -1]);
    const f = (x: A, lim: A) => lax.whileLoop((c: A) => np.less(np.sum(np.abs(c)), lim), (c: A) => np.add(np.multiply(c, scale), x), x);
    const x = np.array([0.5, 0.25]);
    const eager = await values(f(x, np.array(40)));
    const jitted = await values(jit(f)(x, np.array(40)));
    let c = [0.5, 0.25];
    while (Math.abs(c[0]) + Math.abs(c[1]) < 40) c = [c[0] * 2 + 0.5, -c[1] + 0.25];
    expectClose(eager, c);
    expectClose(jitted, c);
  });

  it('nested: a cond inside a scan body inside a foriLoop', async () => {
    const f = jit((xs: A) => lax.foriLoop(0, 3, (_i: A, acc: A) => lax.scan(
      (c: A, x: A): [A, A] => [lax.cond(np.greater(x, 0), (a: A) => np.add(a, x), (a: A) => np.multiply(a, 0.5), c), c], acc, xs,
    )[0], np.array(1)));
    let acc = 1;
    for (let i = 0; i < 3; i++) for (const x of XS) acc = x > 0 ? acc + x : acc * 0.5;
    expectClose(await values(f(np.array(XS))), [acc]);
  });

  it('the lowered module of a jitted scan is one counted stablehlo.while, and cond is a stablehlo.case', () => {
    const text = lower((w: A, xs: A) => lax.scan(rnnStep(w), np.array(0.1), xs)[0])(np.array(W), np.array(XS)).text;
    expect(text.match(/stablehlo\.while/g)).toHaveLength(1);
    expect(text).toMatch(/stablehlo\.compare\s+LT, %iterArg, %\d+, SIGNED/);
    expect(text).toContain('stablehlo.dynamic_slice');
    expect(text).toContain('stablehlo.dynamic_update_slice');
    const c = lower((p: A, x: A) => lax.cond(p, np.exp, np.sin, x))(np.array(true), np.array(1)).text;
    expect(c).toContain('stablehlo.case');
  });
});

// ---- refusals ----------------------------------------------------------------------------------

describe('refusals', () => {
  beforeAll(() => setDefaultDevice(referenceDevice()));
  afterAll(() => setDefaultDevice('auto'));
  const THIS = 'test/client/control-flow.test.ts';

  it('a body that changes the carry\'s dtype, shape or structure', () => {
    const dtype = () => lax.whileLoop((c: A) => np.less(c, 3), (c: A) => np.add(c, 1.5), np.array(0, { dtype: 'i32' }));
    expect(dtype).toThrow(TraceError);
    expect(dtype).toThrow(`lax.whileLoop: body_fun output and input must have identical types, got\n  * the input carry component loop_carry has type i32[] but the corresponding output carry component has type f32[]{weak}, so the dtypes do not match.`);
    expect(dtype).toThrow(THIS);
    const shape = () => lax.scan((c: A, x: A): [A, A] => [np.add(c, x), x], np.array(0), np.ones([3, 2]));
    expect(shape).toThrow(/lax\.scan: scan body function carry output and input must have identical types, got\n {2}\* the input carry component carry has type f32\[\] but the corresponding output carry component has type f32\[2\], so the shapes do not match/);
    const tree = () => lax.scan(((c: A, x: A) => [[c, c], x]) as never, np.array(0), np.ones([3]));
    expect(tree).toThrow('scan body function carry output pytree structure must match the input carry, got [*, *] and *');
    const pair = () => lax.scan((c: A) => c as never, np.array(0), np.ones([3]));
    expect(pair).toThrow('scan body output must be a pair [carry, y]');
  });

  it('weak carries: a JS-number init takes the body\'s type (as JAX promotes weak inputs)', async () => {
    const w = lax.whileLoop((c: A) => np.less(c, 3), (c: A) => np.add(c, 1.5), 0 as unknown as A);
    expect(w.dtype).toBe('f32');
    expectClose(await values(w), [3]);
    const s = lax.scan((c: A, x: A): [A, A] => [np.add(c, x), c], 0 as unknown as A, np.array([1.5, 2.5]))[0];
    expect([s.dtype, s.weak]).toEqual(['f32', false]);
    expectClose(await values(s), [4]);
  });

  it('cond and switch: branch types, predicates and indices', () => {
    expect(() => lax.cond(true, () => np.array(1), () => np.array(1, { dtype: 'i32' }))).toThrow('lax.cond: true_fun and false_fun output must have identical types, got\nDIFFERENT f32[] vs. i32[]');
    expect(() => lax.cond(true, (() => [np.array(1)]) as never, () => np.array(1))).toThrow('true_fun and false_fun output must have same type structure, got [*] and *');
    expect(() => lax.cond(np.array([true, false]), np.exp, np.sin, np.array(1))).toThrow('lax.cond: Pred must be a scalar, got i1[2]');
    expect(() => lax.cond(np.array(0.5), np.exp, np.sin, np.array(1))).toThrow('Pred type must be either boolean or number, got f32[]');
    expect(() => lax.switch(np.array(0.5), [np.exp, np.sin], np.array(1))).toThrow('lax.switch: Index type must be an integer, got f32[]');
    expect(() => lax.switch(0, [], np.array(1))).toThrow('lax.switch: Empty branch sequence');
    expect(() => lax.switch(0, [() => np.array(1), () => np.array([1, 2])] as never)).toThrow('branch 0 and 1 outputs must have identical types, got\nDIFFERENT f32[] vs. f32[2]');
  });

  it('scan lengths and fori_loop options', () => {
    expect(() => lax.scan((c: A, x: A[]): [A, A[]] => [c, x], np.array(0), [np.ones([3]), np.ones([4])])).toThrow('lax.scan: scan got values with different leading axis sizes: 3, 4');
    expect(() => lax.scan((c: A, x: A): [A, A] => [c, x], np.array(0), np.ones([3]), { length: 4 })).toThrow('scan got `length` argument of 4 which disagrees with leading axis sizes 3');
    expect(() => lax.scan((c: A): [A, null] => [c, null], np.array(0), null)).toThrow('scan got no values to scan over and `length` not provided');
    expect(() => lax.scan((c: A, x: A): [A, A] => [c, x], np.array(0), np.array(1))).toThrow('scan got value with no leading axis to scan over: f32[]');
    expect(() => lax.foriLoop(0, np.array(3, { dtype: 'i32' }), (_i: A, c: A) => c, np.array(0), { unroll: 2 })).toThrow('lax.foriLoop: Can only use `unroll` in `fori_loop` if the loop bounds are statically known.');
    expect(() => lax.whileLoop((c: A) => c, (c: A) => c, np.array(1))).toThrow('lax.whileLoop: cond_fun must return a boolean scalar, but got output type(s) [f32[]]');
  });
});
