/**
 * @file Verifier tests on IR text: every corpus module verifies, and malformed but parseable
 * modules (one or more per op family) are refused with the right error class, the line:col of
 * the op at fault and a message that names the problem.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KilnError, UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { CORPUS_DIR as CORPUS } from '../helpers/corpus.js';


describe('corpus', () => {
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.mlir'));
  it('has modules', () => expect(files.length).toBeGreaterThan(10));
  for (const f of files) {
    it(`${f} verifies`, () => {
      const m = parseModule(readFileSync(join(CORPUS, f), 'utf8'), f);
      expect(() => verifyModule(m)).not.toThrow();
    });
  }
});

/** A one-function module: `main(args) -> results { body }`, plus extra functions after it. */
function mod(args: string, results: string, body: string, extra = ''): string {
  return [
    'module @m {',
    `  func.func public @main(${args}) -> (${results}) {`,
    ...body.trim().split('\n').map((l) => `    ${l.trim()}`),
    '  }',
    ...extra.trim().split('\n').filter(Boolean).map((l) => `  ${l.trim()}`),
    '}',
  ].join('\n');
}

interface Bad {
  name: string;
  text: string;
  /** A string on the line of the op at fault; the error's column is that op's (its result or name). */
  at: string;
  match: RegExp;
  error?: typeof VerifyError | typeof UnsupportedOpError;
}

const bad: Bad[] = [
  {
    name: 'elementwise shapes differ',
    text: mod('%a: tensor<8x16xf32>, %b: tensor<16x8xf32>', 'tensor<8x16xf32>', `
      %0 = "stablehlo.add"(%a, %b) : (tensor<8x16xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      return %0 : tensor<8x16xf32>`),
    at: '%0 = "stablehlo.add"',
    match: /^stablehlo\.add: %a \(tensor<8x16xf32>\) and %b \(tensor<16x8xf32>\) must have the same type$/,
  },
  {
    name: 'transcendental op on integers',
    text: mod('%a: tensor<4xi32>', 'tensor<4xi32>', `
      %0 = stablehlo.sine %a : tensor<4xi32>
      return %0 : tensor<4xi32>`),
    at: 'stablehlo.sine',
    match: /^stablehlo\.sine: %a \(tensor<4xi32>\) must have a float or complex element type$/,
  },
  {
    name: 'compare declared with a non-i1 result',
    text: mod('%a: tensor<4xf32>', 'tensor<4xf32>', `
      %0 = stablehlo.compare LT, %a, %a, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>`),
    at: 'stablehlo.compare',
    match: /result %0 is declared tensor<4xf32>, but its operands give tensor<4xi1>/,
  },
  {
    name: 'select predicate of the wrong shape',
    text: mod('%p: tensor<4xi1>, %a: tensor<4x2xf32>', 'tensor<4x2xf32>', `
      %0 = stablehlo.select %p, %a, %a : tensor<4xi1>, tensor<4x2xf32>
      return %0 : tensor<4x2xf32>`),
    at: 'stablehlo.select',
    match: /predicate %p \(tensor<4xi1>\) must be a scalar or have the shape of %a \(tensor<4x2xf32>\)/,
  },
  {
    name: 'broadcast_in_dim size that cannot broadcast',
    text: mod('%a: tensor<3xf32>', 'tensor<4x3xf32>', `
      %0 = stablehlo.broadcast_in_dim %a, dims = [0] : (tensor<3xf32>) -> tensor<4x3xf32>
      return %0 : tensor<4x3xf32>`),
    at: 'stablehlo.broadcast_in_dim',
    match: /dimension 0 of %a \(tensor<3xf32>\) has size 3, which cannot broadcast to size 4 of result dimension 0/,
  },
  {
    name: 'reshape changes the element count',
    text: mod('%a: tensor<16x8xf32>', 'tensor<4x30xf32>', `
      %0 = stablehlo.reshape %a : (tensor<16x8xf32>) -> tensor<4x30xf32>
      return %0 : tensor<4x30xf32>`),
    at: 'stablehlo.reshape',
    match: /^stablehlo\.reshape: %a \(tensor<16x8xf32>\) has 128 elements, result tensor<4x30xf32> has 120$/,
  },
  {
    name: 'transpose permutation repeats a dimension',
    text: mod('%a: tensor<8x16xf32>', 'tensor<8x8xf32>', `
      %0 = stablehlo.transpose %a, dims = [0, 0] : (tensor<8x16xf32>) -> tensor<8x8xf32>
      return %0 : tensor<8x8xf32>`),
    at: 'stablehlo.transpose',
    match: /^stablehlo\.transpose: permutation = \[0, 0\] repeats a dimension$/,
  },
  {
    name: 'slice past the end',
    text: mod('%a: tensor<8x16xf32>', 'tensor<7x3xf32>', `
      %0 = stablehlo.slice %a [2:9, 0:3] : (tensor<8x16xf32>) -> tensor<7x3xf32>
      return %0 : tensor<7x3xf32>`),
    at: 'stablehlo.slice',
    match: /dimension 0: slice 2:9 is outside 0:8 of %a/,
  },
  {
    name: 'concatenate operands disagree off the axis',
    text: mod('%a: tensor<8x16xf32>, %b: tensor<8x15xf32>', 'tensor<16x16xf32>', `
      %0 = stablehlo.concatenate %a, %b, dim = 0 : (tensor<8x16xf32>, tensor<8x15xf32>) -> tensor<16x16xf32>
      return %0 : tensor<16x16xf32>`),
    at: 'stablehlo.concatenate',
    match: /%b \(tensor<8x15xf32>\) must match %a \(tensor<8x16xf32>\) in every dimension but 0/,
  },
  {
    name: 'pad declared with the wrong result',
    text: mod('%a: tensor<8x16xf32>, %v: tensor<f32>', 'tensor<9x17xf32>', `
      %0 = stablehlo.pad %a, %v, low = [1, 0], high = [0, 2], interior = [0, 0] : (tensor<8x16xf32>, tensor<f32>) -> tensor<9x17xf32>
      return %0 : tensor<9x17xf32>`),
    at: 'stablehlo.pad',
    match: /^stablehlo\.pad: result %0 is declared tensor<9x17xf32>, but its operands give tensor<9x18xf32>$/,
  },
  {
    name: 'dot_general contracting sizes differ',
    text: mod('%a: tensor<8x16xf32>, %b: tensor<32x4xf32>', 'tensor<8x4xf32>', `
      %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<8x16xf32>, tensor<32x4xf32>) -> tensor<8x4xf32>
      return %0 : tensor<8x4xf32>`),
    at: 'stablehlo.dot_general',
    match: /^stablehlo\.dot_general: contracting dims \[1\] x \[0\] have sizes 16 and 32$/,
  },
  {
    name: 'convolution kernel input features differ',
    text: mod('%a: tensor<2x3x8x8xf32>, %k: tensor<4x2x3x3xf32>', 'tensor<2x4x8x8xf32>', `
      %0 = stablehlo.convolution(%a, %k) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {stride = [1, 1], pad = [[1, 1], [1, 1]], lhs_dilate = [1, 1], rhs_dilate = [1, 1], reverse = [false, false]} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<2x4x8x8xf32>
      return %0 : tensor<2x4x8x8xf32>`),
    at: 'stablehlo.convolution',
    match: /input features 3 \/ feature_group_count 1 = 3, but kernel %k \(tensor<4x2x3x3xf32>\) has 2 input features/,
  },
  {
    name: 'reduce across a dimension out of range',
    text: mod('%a: tensor<8x16xf32>', 'tensor<8xf32>', `
      %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
      %0 = stablehlo.reduce(%a init: %cst) applies stablehlo.add across dimensions = [2] : (tensor<8x16xf32>, tensor<f32>) -> tensor<8xf32>
      return %0 : tensor<8xf32>`),
    at: 'stablehlo.reduce',
    match: /^stablehlo\.reduce: dimensions = \[2\]: 2 is out of range for rank 2$/,
  },
  {
    name: 'reduce body returns the wrong type',
    text: mod('%a: tensor<8x16xf32>, %i: tensor<8x16xi32>', 'tensor<8xf32>', `
      %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
      %c = stablehlo.constant dense<0> : tensor<i32>
      %0:2 = stablehlo.reduce(%a init: %cst), (%i init: %c) across dimensions = [1] : (tensor<8x16xf32>, tensor<8x16xi32>, tensor<f32>, tensor<i32>) -> (tensor<8xf32>, tensor<8xi32>)
       reducer(%x: tensor<f32>, %y: tensor<f32>) (%p: tensor<i32>, %q: tensor<i32>)  {
        %1 = stablehlo.add %x, %y : tensor<f32>
        stablehlo.return %1, %1 : tensor<f32>, tensor<f32>
      }
      return %0#0 : tensor<8xf32>`),
    at: 'stablehlo.return %1, %1',
    match: /^stablehlo\.return: the body region of stablehlo\.reduce returns \(tensor<f32>, tensor<f32>\), expected \(tensor<f32>, tensor<i32>\)$/,
  },
  {
    name: 'gather slice size over a collapsed dimension',
    text: mod('%a: tensor<10x6xf32>, %i: tensor<3x5x1xi32>', 'tensor<3x5x6xf32>', `
      %0 = "stablehlo.gather"(%a, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 2, 6>}> : (tensor<10x6xf32>, tensor<3x5x1xi32>) -> tensor<3x5x6xf32>
      return %0 : tensor<3x5x6xf32>`),
    at: '"stablehlo.gather"',
    match: /slice_sizes = \[2, 6\]: collapsed or batching dimension 0 must have slice size <= 1/,
  },
  {
    name: 'scatter updates do not match the indices',
    text: mod('%a: tensor<8x4xf32>, %i: tensor<8x1x1xi32>, %u: tensor<7x1xf32>', 'tensor<8x4xf32>', `
      %0 = "stablehlo.scatter"(%a, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [1], input_batching_dims = [0], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [1], index_vector_dim = 2>, unique_indices = false}> ({
      ^bb0(%x: tensor<f32>, %y: tensor<f32>):
        %1 = stablehlo.add %x, %y : tensor<f32>
        stablehlo.return %1 : tensor<f32>
      }) : (tensor<8x4xf32>, tensor<8x1x1xi32>, tensor<7x1xf32>) -> tensor<8x4xf32>
      return %0 : tensor<8x4xf32>`),
    at: '"stablehlo.scatter"',
    match: /^stablehlo\.scatter: updates %u \(tensor<7x1xf32>\): scatter dimension 0 has size 7, the indices %i \(tensor<8x1x1xi32>\) give 8/,
  },
  {
    name: 'while body changes a carried type',
    text: mod('%a: tensor<4xf32>', 'tensor<4xf32>', `
      %c = stablehlo.constant dense<0> : tensor<i32>
      %0:2 = stablehlo.while(%it = %c, %x = %a) : tensor<i32>, tensor<4xf32>
      cond {
        %c_1 = stablehlo.constant dense<5> : tensor<i32>
        %1 = stablehlo.compare LT, %it, %c_1, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
        stablehlo.return %1 : tensor<i1>
      } do {
        %1 = stablehlo.convert %it : (tensor<i32>) -> tensor<f32>
        stablehlo.return %1, %x : tensor<f32>, tensor<4xf32>
      }
      return %0#1 : tensor<4xf32>`),
    at: 'stablehlo.return %1, %x',
    match: /^stablehlo\.return: the body region of stablehlo\.while returns \(tensor<f32>, tensor<4xf32>\), expected \(tensor<i32>, tensor<4xf32>\)$/,
  },
  {
    name: 'sort comparator that does not return i1',
    text: mod('%a: tensor<8xf32>', 'tensor<8xf32>', `
      %0 = "stablehlo.sort"(%a) <{dimension = 0 : i64, is_stable = true}> ({
      ^bb0(%x: tensor<f32>, %y: tensor<f32>):
        %1 = stablehlo.subtract %x, %y : tensor<f32>
        stablehlo.return %1 : tensor<f32>
      }) : (tensor<8xf32>) -> tensor<8xf32>
      return %0 : tensor<8xf32>`),
    at: 'stablehlo.return %1 : tensor<f32>',
    match: /the comparator region of stablehlo\.sort returns \(tensor<f32>\), expected \(tensor<i1>\)/,
  },
  {
    name: 'call with operands the callee does not take',
    text: mod('%a: tensor<4xf32>', 'tensor<4xf32>', `
      %0 = call @f(%a, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>`, `
      func.func private @f(%x: tensor<4xf32>) -> tensor<4xf32> {
        return %x : tensor<4xf32>
      }`),
    at: 'call @f',
    match: /^func\.call: @f takes \(tensor<4xf32>\), called with \(tensor<4xf32>, tensor<4xf32>\)$/,
  },
  {
    name: 'recursive call',
    text: mod('%a: tensor<4xf32>', 'tensor<4xf32>', `
      %0 = call @f(%a) : (tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>`, `
      func.func private @f(%x: tensor<4xf32>) -> tensor<4xf32> {
        %0 = call @f(%x) : (tensor<4xf32>) -> tensor<4xf32>
        return %0 : tensor<4xf32>
      }`),
    at: '%0 = call @f(%x)',
    match: /recursion is not supported: @f -> @f/,
  },
  {
    name: 'return type differs from the signature',
    text: mod('%a: tensor<4xf32>', 'tensor<4xi32>', `
      %0 = stablehlo.negate %a : tensor<4xf32>
      return %0 : tensor<4xf32>`),
    at: 'return %0',
    match: /^func\.return: @main returns \(tensor<4xf32>\), but its signature says \(tensor<4xi32>\)$/,
  },
  {
    name: 'f64 value type refused',
    text: mod('%a: tensor<4xi32>', 'tensor<4xi32>', `
      %c = stablehlo.constant dense<1.0> : tensor<f64>
      return %a : tensor<4xi32>`),
    at: 'stablehlo.constant',
    match: /^stablehlo\.constant: result %c has type tensor<f64>: f64 is not supported: WebGPU has no 64-bit floats/,
    error: UnsupportedOpError,
  },
  {
    name: 'i64 refused in an op without the 64-bit emulation',
    text: mod('%a: tensor<4xi32>', 'tensor<4xi32>', `
      %c = stablehlo.constant dense<1> : tensor<i64>
      %p = stablehlo.popcnt %c : tensor<i64>
      return %a : tensor<4xi32>`),
    at: 'stablehlo.popcnt',
    match: /^stablehlo\.popcnt: %c has type tensor<i64>: kiln emulates i64\/ui64 only in/,
    error: UnsupportedOpError,
  },
  {
    name: 'iota dimension out of range',
    text: mod('', 'tensor<8x16xi32>', `
      %0 = stablehlo.iota dim = 2 : tensor<8x16xi32>
      return %0 : tensor<8x16xi32>`),
    at: 'stablehlo.iota',
    match: /iota_dimension = \[2\]: 2 is out of range for rank 2/,
  },
];

describe('malformed modules', () => {
  it('covers enough cases', () => expect(bad.length).toBeGreaterThanOrEqual(15));
  for (const b of bad) {
    it(`refuses: ${b.name}`, () => {
      const m = parseModule(b.text, 'bad.mlir');
      let caught: unknown;
      try { verifyModule(m); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(b.error ?? VerifyError);
      const e = caught as KilnError;
      expect(e.detail).toMatch(b.match);
      const lines = b.text.split('\n');
      const line = lines.findIndex((l) => l.includes(b.at)) + 1;
      expect(line).toBeGreaterThan(0);
      expect(e.loc?.file).toBe('bad.mlir');
      expect(e.loc?.line).toBe(line);
      // The op's column: where its line starts (the result name) or where its name starts.
      const text = lines[line - 1];
      const cols = [text.search(/\S/) + 1, text.indexOf(b.at.replace(/^%\w+(:\d+)? = /, '')) + 1];
      expect(cols).toContain(e.loc?.column);
      expect(e.message.startsWith(`bad.mlir:${line}:${e.loc?.column}: `)).toBe(true);
    });
  }
});
