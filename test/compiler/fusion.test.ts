/**
 * @file Kernel counts show fusion (no GPU needed): any pure elementwise chain and gelu in one
 * kernel, softmax and layernorm in at most two, an MLP layer's matmul + bias + relu in one; a
 * fori_loop lowers to a counted `repeat` (no readback) while a data-dependent loop keeps `while`;
 * training graphs: JAX's mlp_grad and a 2-layer MLP's Adam step from the client, whose weight
 * gradients are stored transposed by their matmul kernels and whose updates fuse into the
 * kernels computing their gradients.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../client/builder.js';
import { lower, nn, np, setDefaultDevice, valueAndGrad, type Array as KArray } from '../../client/index.js';
import { ReferenceDevice } from '../../runtime/reference/device.js';
import { compile } from '../../compiler/compile.js';
import { countDispatches, DEFAULT_TARGET, type Program, type Step } from '../../compiler/program.js';
import { summarizeProgram } from '../../compiler/index.js';
import { Op } from '../../ir/ops.js';
import type { Value } from '../../ir/types.js';
import { loadCase } from '../helpers/corpus.js';
import { closeGpu, gpu, parse } from '../webgpu/gpu.js';

const kernelsOf = (name: string) => countDispatches(compile(parse(loadCase(name).text), DEFAULT_TARGET).steps);

function stepKinds(steps: readonly Step[], out: string[] = []): string[] {
  for (const s of steps) {
    out.push(s.kind);
    if (s.kind === 'repeat') stepKinds(s.body, out);
    if (s.kind === 'while') { stepKinds(s.cond, out); stepKinds(s.body, out); }
  }
  return out;
}

describe('fusion kernel counts', () => {
  it('gelu and the elementwise chain are one kernel each', () => {
    expect(kernelsOf('gelu')).toBe(1);
    expect(kernelsOf('elementwise_chain')).toBe(1);
  });

  // The bench's elementwise_chain at its full size: tanh(v * 2 + 1) * 0.5 + v * 0.25 over 64M f32.
  it('a 64M-element chain is one vec4 grid-stride kernel on a capped 1-D grid, without division', () => {
    const n = 64 << 20;
    const t = `tensor<${n}xf32>`;
    const splat = (name: string, x: string) => `%${name}c = stablehlo.constant dense<${x}> : tensor<f32>
  %${name} = stablehlo.broadcast_in_dim %${name}c, dims = [] : (tensor<f32>) -> ${t}`;
    const p = compile(parse(`func.func public @main(%v: ${t}) -> ${t} {
  ${splat('two', '2.0')}
  ${splat('one', '1.0')}
  ${splat('half', '0.5')}
  ${splat('quarter', '0.25')}
  %0 = stablehlo.multiply %v, %two : ${t}
  %1 = stablehlo.add %0, %one : ${t}
  %2 = stablehlo.tanh %1 : ${t}
  %3 = stablehlo.multiply %2, %half : ${t}
  %4 = stablehlo.multiply %v, %quarter : ${t}
  %5 = stablehlo.add %3, %4 : ${t}
  return %5 : ${t}
}`), DEFAULT_TARGET);
    expect(p.kernels).toHaveLength(1);
    const k = p.kernels[0];
    // 16M vec4s, 2 per trip: 8192 workgroups of 256 wanted, capped at 4096 (two trips each).
    expect(k.workgroups).toEqual([4096, 1, 1]);
    expect(k.bindings).toHaveLength(2);
    expect(k.uniforms?.[0]).toBe(n / 4);
    expect(k.wgsl).toMatch(/var<storage, read> in0: array<vec4<f32>>/);
    expect(k.wgsl).toMatch(/var<storage, read_write> out1: array<vec4<f32>>/);
    expect(k.wgsl).toMatch(/for \(var i = gid\.x; i < params\.n4; i \+= 2u \* stride\)/);
    expect(k.wgsl).toMatch(/out1\[i\] = vec4<f32>\(/);
    // Index math is adds and multiplies (tanh's helper divides values, not indices).
    const main = k.wgsl.slice(k.wgsl.indexOf('@compute'));
    expect(main).not.toMatch(/%/);
    expect(main).not.toMatch(/\/ *[0-9]+u/);
    // A multiple of 4: no tail.
    expect(main).not.toMatch(/params\.tail/);
  });

  // Five inputs and an output fit the default target's 8 storage buffers; with a scalar tail the
  // inputs' second (scalar) views would make 11, so that length keeps the one-per-element kernel.
  for (const [n, vec] of [[1000, true], [999, false]] as const) {
    it(`a five-input chain of length ${n} ${vec ? 'runs on vec4s' : 'falls back to one invocation per element'} within the binding limit`, () => {
      const t = `tensor<${n}xf32>`;
      const args = [0, 1, 2, 3, 4].map((i) => `%a${i}: ${t}`).join(', ');
      const p = compile(parse(`func.func public @main(${args}) -> ${t} {
  %0 = stablehlo.add %a0, %a1 : ${t}
  %1 = stablehlo.multiply %0, %a2 : ${t}
  %2 = stablehlo.subtract %1, %a3 : ${t}
  %3 = stablehlo.maximum %2, %a4 : ${t}
  return %3 : ${t}
}`), DEFAULT_TARGET);
      expect(p.kernels).toHaveLength(1);
      expect(p.kernels[0].bindings.length).toBeLessThanOrEqual(DEFAULT_TARGET.maxStorageBuffers);
      expect(/vec4/.test(p.kernels[0].wgsl)).toBe(vec);
    });
  }

  it('softmax and layernorm are one kernel each: their second reduction is a stage of the first', () => {
    expect(kernelsOf('softmax')).toBe(1);
    expect(kernelsOf('layernorm')).toBe(1);
  });

  it('an MLP layer (matmul + bias + relu) is one kernel', () => {
    expect(kernelsOf('debug_locs_mlp')).toBe(1);
    const p = compile(parse(loadCase('debug_locs_mlp').text), DEFAULT_TARGET);
    expect(p.kernels[0].name).toMatch(/^dot_add_maximum/);
  });

  it("a 2-layer MLP: the first layer's relu is its matmul's epilogue and the second matmul reads it as a matrix", () => {
    const T = (s: number[]) => `tensor<${s.join('x')}xf32>`;
    const p = compile(parse(`func.func public @main(%x: ${T([256, 512])}, %w1: ${T([512, 1024])}, %b1: ${T([1024])}, %w2: ${T([1024, 256])}) -> ${T([256, 256])} {
  %h0 = stablehlo.dot_general %x, %w1, contracting_dims = [1] x [0] : (${T([256, 512])}, ${T([512, 1024])}) -> ${T([256, 1024])}
  %bb = stablehlo.broadcast_in_dim %b1, dims = [1] : (${T([1024])}) -> ${T([256, 1024])}
  %h1 = stablehlo.add %h0, %bb : ${T([256, 1024])}
  %z = stablehlo.constant dense<0.0> : ${T([256, 1024])}
  %h = stablehlo.maximum %h1, %z : ${T([256, 1024])}
  %y = stablehlo.dot_general %h, %w2, contracting_dims = [1] x [0] : (${T([256, 1024])}, ${T([1024, 256])}) -> ${T([256, 256])}
  return %y : ${T([256, 256])}
}`), DEFAULT_TARGET);
    expect(p.kernels.map((k) => k.name)).toEqual(['dot_add_maximum_0', 'dot_0']);
    // 16-byte loads of the stored relu, not relu recomputed element by element in the tile loads.
    expect(p.kernels[1].wgsl).toMatch(/var<storage, read> in0: array<vec4<f32>>/);
  });

  it('a costly value under merged heads is materialised as the merged matrix, which the matmul reads with 16-byte loads', () => {
    const T = (s: number[]) => `tensor<${s.join('x')}xf32>`;
    const chain = ['exponential', 'tanh', 'sine', 'cosine', 'negate', 'abs', 'sqrt', 'log_plus_one']
      .map((f, i) => `%e${i + 1} = stablehlo.${f} %e${i} : ${T([2, 4, 8, 16])}`).join('\n  ');
    const p = compile(parse(`func.func public @main(%e0: ${T([2, 4, 8, 16])}, %w: ${T([64, 32])}) -> ${T([2, 8, 32])} {
  ${chain}
  %t = stablehlo.transpose %e8, dims = [0, 2, 1, 3] : (${T([2, 4, 8, 16])}) -> ${T([2, 8, 4, 16])}
  %m = stablehlo.reshape %t : (${T([2, 8, 4, 16])}) -> ${T([2, 8, 64])}
  %y = stablehlo.dot_general %m, %w, contracting_dims = [2] x [0] : (${T([2, 8, 64])}, ${T([64, 32])}) -> ${T([2, 8, 32])}
  return %y : ${T([2, 8, 32])}
}`), DEFAULT_TARGET);
    expect(p.kernels).toHaveLength(2);
    expect(p.kernels[1].name).toMatch(/^dot/);
    expect(p.kernels[1].wgsl).toMatch(/var<storage, read> in0: array<vec4<f32>>/);
  });

  it('any random pure elementwise chain with broadcasts is one kernel', () => {
    const unary = [Op.Exp, Op.Tanh, Op.Negate, Op.Abs, Op.Sin, Op.Log1p, Op.Logistic];
    const binary = [Op.Add, Op.Multiply, Op.Subtract, Op.Maximum, Op.Divide];
    fc.assert(fc.property(
      fc.array(fc.record({ un: fc.boolean(), k: fc.nat(), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 12 }),
      (steps) => {
        const g = new GraphBuilder();
        const x = { type: { dtype: 'f32' as const, shape: [4, 8] } };
        const bias = { type: { dtype: 'f32' as const, shape: [8] } };
        const vals: Value[] = [x, g.emit1(Op.BroadcastInDim, [bias], { dims: [1] }, { resultTypes: [{ dtype: 'f32', shape: [4, 8] }] })];
        for (const s of steps) {
          const a = vals[s.a % vals.length];
          vals.push(s.un ? g.emit1(unary[s.k % unary.length], [a], {}) : g.emit1(binary[s.k % binary.length], [a, vals[s.b % vals.length]], {}));
        }
        const p = compile(g.finish([x, bias], [vals[vals.length - 1]]), DEFAULT_TARGET);
        return countDispatches(p.steps) <= 1;
      },
    ), { numRuns: 40 });
  });

  it('fori_loop is a counted repeat without readbacks', () => {
    const p = compile(parse(loadCase('fori_loop').text), DEFAULT_TARGET);
    const kinds = stepKinds(p.steps);
    expect(kinds).toContain('repeat');
    expect(kinds).not.toContain('while');
    const rep = p.steps.find((s) => s.kind === 'repeat');
    expect(rep && rep.kind === 'repeat' && rep.count).toBe(5);
  });

  it('a loop whose bound is an argument keeps a while with its condition', () => {
    const text = loadCase('fori_loop').text
      .replace('func.func public @main(%arg0: tensor<8x16xf32>)', 'func.func public @main(%arg0: tensor<8x16xf32>, %n: tensor<i32>)')
      .replace('%1 = stablehlo.compare LT, %iterArg, %c_1, SIGNED', '%1 = stablehlo.compare LT, %iterArg, %n, SIGNED');
    const p = compile(parse(text), DEFAULT_TARGET);
    expect(stepKinds(p.steps)).toContain('while');
  });

  it('reports planned bytes and reuses temporaries', () => {
    const p: Program = compile(parse(loadCase('mlp_grad').text), DEFAULT_TARGET);
    const s = summarizeProgram(p);
    expect(s.bytes).toBeGreaterThan(0);
    const temps = p.buffers.filter((b) => b.role === 'temp').length;
    const written = new Set(p.kernels.flatMap((k) => k.bindings.filter((b) => b.access === 'read_write').map((b) => b.buffer)));
    // Fewer physical temporaries than values written: liveness let some share.
    expect(temps).toBeLessThan(written.size);
  });

  it('mlp_grad: transposed weight gradients are stored by their matmuls, bias gradients need no second reduce', () => {
    const p = compile(parse(loadCase('mlp_grad').text), DEFAULT_TARGET);
    // 11: the loss's softmax (max, then the sum of exp) is one kernel of two stages.
    expect(countDispatches(p.steps)).toBe(11);
    expect(p.kernels.filter((k) => k.name.startsWith('dot_transpose'))).toHaveLength(2);
    expect(p.kernels.filter((k) => k.name.startsWith('fused_transpose'))).toHaveLength(0);
  });

  it("a 2-layer MLP's jitted Adam step: each bias update is one reduce kernel, each transposed weight update one matmul", () => {
    setDefaultDevice(new ReferenceDevice());
    type Params = Record<string, KArray>;
    const sizes = [2, 64, 3];
    const forward = (p: Params, x: KArray) => {
      const h = nn.relu(np.add(np.matmul(x, p.w0), p.b0));
      return np.add(np.matmul(h, p.w1), p.b1);
    };
    const loss = (p: Params, x: KArray, y: KArray) => nn.crossEntropy(forward(p, x), y);
    const step = (p: Params, m: Params, v: Params, t: number, x: KArray, y: KArray) => {
      const [l, g] = valueAndGrad(loss)(p, x, y) as [KArray, Params];
      const c1 = np.subtract(1, np.power(np.full([], 0.9), t));
      const c2 = np.subtract(1, np.power(np.full([], 0.999), t));
      const out: Params = {}, nm: Params = {}, nv: Params = {};
      for (const k of Object.keys(p)) {
        nm[k] = np.add(np.multiply(m[k], 0.9), np.multiply(g[k], 0.1));
        nv[k] = np.add(np.multiply(v[k], 0.999), np.multiply(np.square(g[k]), 0.001));
        const upd = np.divide(np.multiply(np.divide(nm[k], c1), 0.01), np.add(np.sqrt(np.divide(nv[k], c2)), 1e-8));
        out[k] = np.subtract(p[k], upd);
      }
      return { p: out, m: nm, v: nv, loss: l };
    };
    const params = (): Params => ({
      w0: np.zeros([sizes[0], sizes[1]]), b0: np.zeros([sizes[1]]), w1: np.zeros([sizes[1], sizes[2]]), b1: np.zeros([sizes[2]]),
    });
    const lowered = lower(step)(params(), params(), params(), 1, np.zeros([100, 2]), np.zeros([100], 'i32'));
    const p = compile(lowered.module, DEFAULT_TARGET);
    // 20 before transposed stores and in-kernel updates. Of the 14: 2 forward matmuls, 3 backward
    // ones (the hidden layer's gradient; w0's and w1's, stored transposed with their moments'
    // updates), 7 reduce kernels (softmax, the loss, its gradient, and the two bias gradients
    // with their whole Adam update; the four reductions over the logits' rows are one kernel of
    // four stages), one loop kernel per weight's new value, which 8 storage buffers could not
    // fit into its matmul, and one for the logits' gradient: it reads a reduction that runs
    // after the four-stage kernel, so it is no epilogue of it (it was of the last stage's).
    expect(countDispatches(p.steps)).toBe(14);
    expect(p.kernels.filter((k) => /^dot_.*transpose/.test(k.name))).toHaveLength(2);
    expect(p.kernels.filter((k) => k.name.startsWith('fused_'))).toHaveLength(3);
  });
});

describe('storage-buffer limit', () => {
  afterAll(closeGpu);
  // sum of N inputs, and a reduce over the same sum: one value reading N buffers.
  const wide = (n: number) => {
    const args = Array.from({ length: n }, (_, i) => `%a${i}: tensor<4xf32>`).join(', ');
    const adds = Array.from({ length: n - 1 }, (_, i) => `    %s${i + 1} = stablehlo.add ${i ? `%s${i}` : '%a0'}, %a${i + 1} : tensor<4xf32>`).join('\n');
    return `func.func @main(${args}) -> (tensor<4xf32>, tensor<f32>) {
${adds}
    %z = stablehlo.constant dense<0.0> : tensor<f32>
    %r = stablehlo.reduce(%s${n - 1} init: %z) applies stablehlo.add across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32>
    return %s${n - 1}, %r : tensor<4xf32>, tensor<f32>
}`;
  };

  it('a value whose inlined expression reads more buffers than the target binds is split, never refused', () => {
    for (const limit of [4, 8, 16]) {
      const p = compile(parse(wide(20)), { ...DEFAULT_TARGET, maxStorageBuffers: limit });
      for (const k of p.kernels) expect(k.bindings.length, `${k.name} with ${limit} buffers`).toBeLessThanOrEqual(limit);
      // The fewest kernels that can read 20 inputs: ceil((20 - 1) / (limit - 2)) or so, not one per add.
      expect(countDispatches(p.steps)).toBeLessThanOrEqual(Math.ceil(20 / (limit - 2)) + 2);
    }
  });

  it('the split program runs on WebGPU (16 storage buffers on lavapipe) with the right values', async () => {
    const d = await gpu();
    const inputs = Array.from({ length: 20 }, (_, i) => d.upload({ dtype: 'f32', shape: [4], data: Float32Array.from([i, 1, -i, 0.5]) }));
    const outs = d.execute(d.compile(parse(wide(20))), inputs);
    const [s, r] = await Promise.all(outs.map((o) => d.read(o)));
    expect([...s.data]).toEqual([190, 20, -190, 10]);
    expect(r.data[0]).toBe(30);
  });
});
