/**
 * @file FLOP counts of compiled kernels (compiler/work.ts), the numbers `kiln profile` divides by
 * GPU time: derived by hand from corpus programs' shapes, whichever kernel fusion puts each op in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, DEFAULT_TARGET } from '../../compiler/index.js';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { CORPUS_DIR } from '../helpers/corpus.js';

function kernels(name: string) {
  const file = join(CORPUS_DIR, `${name}.mlir`);
  const m = parseModule(readFileSync(file, 'utf8'), file);
  verifyModule(m);
  return compile(m, DEFAULT_TARGET).kernels;
}
const total = (ks: { flops?: number }[]) => ks.reduce((s, k) => s + k.flops!, 0);

describe('kernel FLOPs', () => {
  it('counts a matmul as 2·M·N·K and each elementwise op once per element, wherever it is fused', () => {
    const ks = kernels('mlp_forward');
    for (const k of ks) expect(k.flops, k.name).toBeGreaterThan(0);
    // x[8,16]·w1[16,32] and h[8,32]·w2[32,4]; bias add and relu (max) on [8,32]; bias add on [8,4].
    expect(total(ks)).toBe(2 * 8 * 32 * 16 + 2 * 8 * 4 * 32 + 2 * 8 * 32 + 8 * 4);
    expect(ks[0].flops).toBeGreaterThanOrEqual(2 * 8 * 32 * 16);
  });

  it('counts a convolution as 2·|output|·(input features × window)', () => {
    const ks = kernels('conv2d_nchw');
    expect(ks).toHaveLength(1);
    // out [2,4,8,8], kernel [4,3,3,3]: 3 input features, a 3x3 window.
    expect(ks[0].flops).toBe(2 * (2 * 4 * 8 * 8) * (3 * 3 * 3));
  });

  it('counts a fused elementwise chain as one FLOP per element per op', () => {
    const ks = kernels('elementwise_chain');
    expect(ks).toHaveLength(1);
    // tanh, negate, multiply, exp, multiply, abs, sqrt, add, multiply, log1p, subtract on [8,16].
    expect(ks[0].flops).toBe(11 * 8 * 16);
  });

  it('counts a reduction once per input element per body op', () => {
    const ks = kernels('softmax');
    expect(ks).toHaveLength(1);
    // [8,16], one kernel of two stages: max-reduce; subtract, exp, sum-reduce, divide (the max
    // with -inf folds away). The stage's exp is counted once, though the divide reads it too.
    expect(ks.map((k) => k.flops)).toEqual([8 * 16 + 4 * 8 * 16]);
  });
});
