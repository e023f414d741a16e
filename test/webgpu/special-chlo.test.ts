/**
 * chlo.bessel_i1e, chlo.zeta and chlo.polygamma against values from their definitions
 * (I1e(x) = e^-|x| I1(x); zeta(2, 1) = pi^2/6, zeta(3, 1) = Apery's constant; psi^(n)(x) =
 * (-1)^(n+1) n! zeta(n+1, x)) and CHLO's domain rules, on the reference interpreter and WebGPU.
 * JAX's own outputs are checked in jax-programs.test.ts (special_more.mlir).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu } from './gpu.js';

afterAll(closeGpu);

const unary = (op: string, n: number) => `module {
  func.func public @main(%a: tensor<${n}xf32>) -> tensor<${n}xf32> {
    %0 = ${op} %a : tensor<${n}xf32> -> tensor<${n}xf32>
    return %0 : tensor<${n}xf32>
  }
}`;
const binary = (op: string, n: number) => `module {
  func.func public @main(%a: tensor<${n}xf32>, %b: tensor<${n}xf32>) -> tensor<${n}xf32> {
    %0 = ${op} %a, %b : tensor<${n}xf32>, tensor<${n}xf32> -> tensor<${n}xf32>
    return %0 : tensor<${n}xf32>
  }
}`;

async function both(text: string, inputs: number[][]): Promise<number[][]> {
  const m = parseModule(text, 'special.mlir');
  verifyModule(m);
  const ts: HostTensor[] = inputs.map((v) => hostTensor('f32', [v.length], v));
  const ref = Array.from(interpret(m, ts)[0].data as Float32Array);
  const d = await gpu();
  const [out] = d.execute(d.compile(m), ts.map((t) => d.upload(t)));
  const got = Array.from((await d.read(out)).data as Float32Array);
  d.free(out);
  return [ref, got];
}

function close(got: number[], want: number[], rtol: number): void {
  got.forEach((g, i) => {
    const w = want[i];
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(g, `element ${i}`).toBe(w);
    else expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(rtol * Math.abs(w) + 1e-7);
  });
}

const ZETA2 = Math.PI ** 2 / 6;
const ZETA3 = 1.2020569031595942;

describe('chlo special functions', () => {
  it('bessel_i1e', async () => {
    // I1(1) = 0.565159103992485, I1(10) = 2670.98830370126, I1(0.5) = 0.257894305390896; at 20,
    // the asymptotic series e^-x I1(x) ~ (1 - 3/(8x) - 15/(2 (8x)^2) - 315/(6 (8x)^3) - ...) / sqrt(2 pi x).
    const asym = (z: number) => (1 - 3 / (8 * z) - 15 / (2 * (8 * z) ** 2) - 315 / (6 * (8 * z) ** 3) - 14175 / (24 * (8 * z) ** 4)) / Math.sqrt(2 * Math.PI * z);
    const x = [0, 1, -1, 10, 0.5, -20];
    const want = [0, Math.exp(-1) * 0.565159103992485, -Math.exp(-1) * 0.565159103992485, Math.exp(-10) * 2670.98830370126,
      Math.exp(-0.5) * 0.257894305390896, -asym(20)];
    for (const got of await both(unary('chlo.bessel_i1e', x.length), [x])) close(got, want, 1e-5);
  });

  it('zeta(x, q)', async () => {
    const x = [2, 3, 2, 4, 1, 0.5, 2, 3];
    const q = [1, 1, 2, 1, 3, 1, 0, -1];
    const want = [ZETA2, ZETA3, ZETA2 - 1, Math.PI ** 4 / 90, Infinity, NaN, Infinity, NaN];
    for (const got of await both(binary('chlo.zeta', x.length), [x, q])) close(got, want, 1e-5);
  });

  it('polygamma(n, x)', async () => {
    const n = [0, 1, 2, 1, 1.5, -1];
    const x = [1, 1, 1, 2, 1, 1];
    const want = [-0.5772156649015329, ZETA2, -2 * ZETA3, ZETA2 - 1, NaN, NaN];
    for (const got of await both(binary('chlo.polygamma', n.length), [n, x])) close(got, want, 1e-5);
  });
});
