/**
 * @file stablehlo.batch_norm_training / _inference / _grad (which other frontends emit; JAX does
 * not), written by hand in StableHLO's generic form, on the reference interpreter and on WebGPU.
 * Both devices run the same expansion (compiler/passes/expand.ts). Expected values are float64
 * JS written here from the textbook formulas (x̂ = (x - mean) / sqrt(var + eps);
 * dx = scale / sqrt(var + eps) * (dy - mean(dy) - x̂ mean(dy x̂))), and the gradient is also
 * checked by finite differences of the training output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hashModule } from '../../ir/hash.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const SHAPE = [2, 3, 2]; // feature_index = 1: three features of 4 elements each
const F = 3;
const EPS = Math.fround(1e-3);
const X = [0.5, -1.25, 2, 0.75, -0.5, 1.5, 3, 0.25, -2, 1, 0.125, -0.75];
const SCALE = [1.5, -0.5, 2];
const OFFSET = [0.25, 1, -1];
const DY = [0.3, -0.2, 1.1, 0.4, -0.9, 0.05, 0.6, -0.35, 0.2, 0.8, -0.5, 0.15];
const MEAN_IN = [0.1, -0.2, 0.3];
const VAR_IN = [1.5, 0.75, 2.25];

/** The feature (dimension 1) of flat index i in a [2, 3, 2] tensor. */
const feat = (i: number) => Math.floor(i / 2) % 3;

function stats(x: number[]): [number[], number[]] {
  const mean = [0, 0, 0], v = [0, 0, 0];
  x.forEach((a, i) => { mean[feat(i)] += a / 4; });
  x.forEach((a, i) => { v[feat(i)] += (a - mean[feat(i)]) ** 2 / 4; });
  return [mean, v];
}

const normalizeF64 = (x: number[], mean: number[], v: number[]) =>
  x.map((a, i) => (a - mean[feat(i)]) / Math.sqrt(v[feat(i)] + EPS));

function train(x: number[]): number[] {
  const [mean, v] = stats(x);
  return normalizeF64(x, mean, v).map((h, i) => SCALE[feat(i)] * h + OFFSET[feat(i)]);
}

function grad(x: number[], mean: number[], v: number[], dy: number[]): [number[], number[], number[]] {
  const xh = normalizeF64(x, mean, v);
  const mdy = [0, 0, 0], mdyx = [0, 0, 0];
  dy.forEach((g, i) => { mdy[feat(i)] += g / 4; mdyx[feat(i)] += g * xh[i] / 4; });
  const dx = x.map((_, i) => SCALE[feat(i)] / Math.sqrt(v[feat(i)] + EPS) * (dy[i] - mdy[feat(i)] - xh[i] * mdyx[feat(i)]));
  return [dx, mdyx.map((m) => 4 * m), mdy.map((m) => 4 * m)];
}

const T = 'tensor<2x3x2xf32>', V = 'tensor<3xf32>';
const TEXT = `module @bn {
  func.func public @main(%x: ${T}, %scale: ${V}, %offset: ${V}, %mean: ${V}, %var: ${V}, %dy: ${T}) -> (${T}, ${V}, ${V}, ${T}, ${T}, ${V}, ${V}) {
    %0:3 = "stablehlo.batch_norm_training"(%x, %scale, %offset) {epsilon = 1.000000e-03 : f32, feature_index = 1 : i64} : (${T}, ${V}, ${V}) -> (${T}, ${V}, ${V})
    %1 = "stablehlo.batch_norm_inference"(%x, %scale, %offset, %mean, %var) {epsilon = 1.000000e-03 : f32, feature_index = 1 : i64} : (${T}, ${V}, ${V}, ${V}, ${V}) -> ${T}
    %2:3 = "stablehlo.batch_norm_grad"(%x, %scale, %mean, %var, %dy) {epsilon = 1.000000e-03 : f32, feature_index = 1 : i64} : (${T}, ${V}, ${V}, ${V}, ${T}) -> (${T}, ${V}, ${V})
    return %0#0, %0#1, %0#2, %1, %2#0, %2#1, %2#2 : ${T}, ${V}, ${V}, ${T}, ${T}, ${V}, ${V}
  }
}`;

const t = (shape: number[], xs: number[]): HostTensor => ({ dtype: 'f32', shape, data: new Float32Array(xs) });
const close = (got: ArrayLike<number>, want: number[], what: string, tol = 1e-4) => {
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `${what}[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w))));
};

describe('batch norm ops, expanded on both devices', () => {
  it('training, inference and grad match float64 formulas on the reference interpreter and WebGPU', async () => {
    const m = parse(TEXT, 'bn.mlir');
    verifyModule(m);
    // The canonical print parses back to the same graph.
    expect(hashModule(parse(printModule(m)))).toBe(hashModule(m));
    const inputs = [t(SHAPE, X), t([F], SCALE), t([F], OFFSET), t([F], MEAN_IN), t([F], VAR_IN), t(SHAPE, DY)];
    const [mean, v] = stats(X);
    const [dx, dscale, doffset] = grad(X, MEAN_IN, VAR_IN, DY);
    const inference = normalizeF64(X, MEAN_IN, VAR_IN).map((h, i) => SCALE[feat(i)] * h + OFFSET[feat(i)]);
    const want = [train(X), mean, v, inference, dx, dscale, doffset];
    const names = ['training output', 'batch mean', 'batch var', 'inference', 'grad operand', 'grad scale', 'grad offset'];
    const check = (outs: HostTensor[], device: string) => {
      expect(outs.length).toBe(7);
      outs.forEach((o, i) => close(o.data as Float32Array, want[i], `${device} ${names[i]}`));
    };
    check(interpret(m, inputs), 'reference');
    const d = await gpu();
    const outs = d.execute(d.compile(m), inputs.map((x) => d.upload(x)));
    check(await Promise.all(outs.map((o) => d.read(o))), 'webgpu');
    outs.forEach((o) => d.free(o));

    // With the batch's own statistics, grad_operand is the gradient of sum(dy * training output).
    const stat = parse(TEXT, 'bn.mlir');
    const [, , , , gx] = interpret(stat, [t(SHAPE, X), t([F], SCALE), t([F], OFFSET), t([F], mean), t([F], v), t(SHAPE, DY)]);
    const h = 1e-6;
    const fd = X.map((_, i) => {
      const up = [...X], dn = [...X];
      up[i] += h; dn[i] -= h;
      const loss = (x: number[]) => train(x).reduce((s, y, j) => s + y * DY[j], 0);
      return (loss(up) - loss(dn)) / (2 * h);
    });
    close(gx.data as Float32Array, fd, 'grad operand vs finite differences', 1e-3);
  });

  it('refuses operands of the wrong shape and a feature_index out of range, naming the op', () => {
    const bad = TEXT.replace('feature_index = 1 : i64} : (tensor<2x3x2xf32>, tensor<3xf32>, tensor<3xf32>) -> (', 'feature_index = 3 : i64} : (tensor<2x3x2xf32>, tensor<3xf32>, tensor<3xf32>) -> (');
    expect(() => verifyModule(parse(bad, 'bn.mlir'))).toThrow(/^bn\.mlir:3:\d+: stablehlo\.batch_norm_training: feature_index = 3 is out of range/);
    const wrong = TEXT.replace('"stablehlo.batch_norm_inference"(%x, %scale, %offset, %mean, %var)', '"stablehlo.batch_norm_inference"(%x, %scale, %offset, %dy, %var)')
      .replace(`(${T}, ${V}, ${V}, ${V}, ${V}) -> ${T}`, `(${T}, ${V}, ${V}, ${T}, ${V}) -> ${T}`);
    expect(() => verifyModule(parse(wrong, 'bn.mlir'))).toThrow(/stablehlo\.batch_norm_inference: mean %dy \(tensor<2x3x2xf32>\) must be tensor<3xf32>/);
  });
});
