/**
 * @file The graph hash ignores names, whitespace, locations and annotations, and sees every change
 * of shape, dtype, constant or attribute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashModule, hashText } from '../../ir/hash.js';
import { parseModule } from '../../ir/parse/parser.js';
import { CORPUS_DIR as CORPUS } from '../helpers/corpus.js';

const corpus = (f: string) => readFileSync(join(CORPUS, f), 'utf8');

const BASE = `module @jit_f attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<8x16xf32>, %arg1: tensor<10x6xf32>, %arg2: tensor<3x5x1xi32>) -> (tensor<8xf32> {jax.result_info = "result[0]"}, tensor<3x5x6xf32>) {
    %cst = stablehlo.constant dense<0.5> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<8x16xf32>
    %1 = stablehlo.multiply %arg0, %0 : tensor<8x16xf32>
    %2 = call @helper(%1) : (tensor<8x16xf32>) -> tensor<8xf32>
    %3 = "stablehlo.gather"(%arg1, %arg2) <{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 6>}> : (tensor<10x6xf32>, tensor<3x5x1xi32>) -> tensor<3x5x6xf32>
    return %2, %3 : tensor<8xf32>, tensor<3x5x6xf32>
  }
  func.func private @helper(%arg0: tensor<8x16xf32>) -> tensor<8xf32> {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<8x16xf32>, tensor<f32>) -> tensor<8xf32>
    return %0 : tensor<8xf32>
  }
}
`;
const base = hashText(BASE);

describe('hash', () => {
  it('is hex SHA-256', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(hashModule(parseModule(BASE))).toBe(base);
  });

  it('ignores SSA names', () => {
    const renamed = BASE.replaceAll('%cst', '%k').replaceAll('%arg0', '%x').replaceAll('%1', '%one');
    expect(renamed).not.toBe(BASE);
    expect(hashText(renamed)).toBe(base);
  });

  it('ignores whitespace and layout', () => {
    const squeezed = BASE.replace(/\n\s*/g, '\n').replaceAll(', ', ',').replaceAll(' = ', '=');
    expect(hashText(squeezed)).toBe(base);
  });

  it('ignores locations and #loc aliases', () => {
    const withLocs = '#loc1 = loc("f.py":3:4)\n' + BASE.replace(/(: tensor<8x16xf32>)\n/g, '$1 loc(#loc1)\n')
      .replace('return %0 : tensor<8xf32>', 'return %0 : tensor<8xf32> loc("g.py":1:1)') + '#loc2 = loc(unknown)\n';
    expect(withLocs).toContain('loc(#loc1)');
    expect(hashText(withLocs)).toBe(base);
  });

  it('ignores the module name, module attributes, result_info and private function names', () => {
    const other = BASE.replace('@jit_f attributes {mhlo.num_partitions = 1 : i32}', '@other')
      .replace(' {jax.result_info = "result[0]"}', '').replaceAll('@helper', '@_reduce_sum_7');
    expect(hashText(other)).toBe(base);
  });

  it('ignores the order of attributes in a generic op', () => {
    const reordered = BASE.replace(
      '<{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 6>}>',
      '<{slice_sizes = array<i64: 1, 6>, indices_are_sorted = false, dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>}>');
    expect(reordered).not.toBe(BASE);
    expect(hashText(reordered)).toBe(base);
  });

  it('ignores how a constant is spelled when its bits are the same', () => {
    expect(hashText(BASE.replace('dense<0.5>', 'dense<5.000000e-01>'))).toBe(base);
    expect(hashText(BASE.replace('dense<0.5>', 'dense<0x3F000000>'))).toBe(base);
  });

  it('changes when a shape changes', () => {
    const changed = BASE.replaceAll('8x16xf32', '8x17xf32');
    expect(hashText(changed)).not.toBe(base);
  });

  it('changes when a constant changes', () => {
    expect(hashText(BASE.replace('dense<0.5>', 'dense<0.25>'))).not.toBe(base);
    expect(hashText(BASE.replace('dense<0.000000e+00>', 'dense<-0.000000e+00>'))).not.toBe(base);
  });

  it('changes when a dtype changes', () => {
    expect(hashText(BASE.replaceAll('3x5x1xi32', '3x5x1xui32'))).not.toBe(base);
  });

  it('changes when an attribute changes', () => {
    expect(hashText(BASE.replace('applies stablehlo.add', 'applies stablehlo.maximum'))).not.toBe(base);
    expect(hashText(BASE.replace('indices_are_sorted = false', 'indices_are_sorted = true'))).not.toBe(base);
    expect(hashText(corpus('mlp_forward.mlir'))).not.toBe(
      hashText(corpus('mlp_forward.mlir').replace('precision = [HIGHEST, HIGHEST]', 'precision = [DEFAULT, DEFAULT]')));
  });

  it('is the same for a corpus module and its canonical print', async () => {
    const { printModule } = await import('../../ir/print.js');
    for (const f of ['argmax_int.mlir', 'debug_locs_mlp.mlir', 'mlp_grad.mlir']) {
      const m = parseModule(corpus(f), f);
      expect(hashText(printModule(m, { locations: true }))).toBe(hashModule(m));
    }
  });
});
