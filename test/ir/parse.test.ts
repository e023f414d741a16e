/**
 * @file The parser and printer on the conformance corpus: every file parses, printing is a fixed
 * point, a round trip gives the same graph, and the printed text of small modules is pinned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { Op, type DenseLiteral } from '../../ir/ops.js';
import type { Block, Module, Value } from '../../ir/types.js';
import { CORPUS_DIR as CORPUS } from '../helpers/corpus.js';

const files = readdirSync(CORPUS).filter((f) => f.endsWith('.mlir')).sort();

/** A structural key of a module: values become numbers in definition order; locations are left out. */
function graphKey(m: Module): unknown {
  const ids = new Map<Value, number>();
  const def = (v: Value) => { ids.set(v, ids.size); return [ids.get(v), v.type]; };
  const use = (v: Value) => {
    const id = ids.get(v);
    if (id === undefined) throw new Error(`value ${v.name} used before definition`);
    return id;
  };
  const attrs = (a: object) => JSON.parse(JSON.stringify(a, (_k, x: unknown) => {
    if (x instanceof Float32Array) return ['f32bits', ...new Uint32Array(x.buffer, x.byteOffset, x.length)];
    if (ArrayBuffer.isView(x)) return [x.constructor.name, ...(x as unknown as ArrayLike<number>) as unknown as number[]];
    return x;
  }));
  const block = (b: Block): unknown => ({
    args: b.args.map(def),
    ops: b.ops.map((o) => ({
      op: o.op,
      operands: o.operands.map(use),
      attrs: attrs(o.attrs),
      regions: o.regions.map((r) => block(r.block)),
      results: o.results.map(def),
    })),
  });
  return {
    name: m.name, attrs: m.attrs,
    funcs: m.funcs.map((f) => ({
      name: f.name, visibility: f.visibility, args: f.args.map(def), resultTypes: f.resultTypes,
      argAttrs: f.argAttrs, resultAttrs: f.resultAttrs, body: block(f.body),
    })),
  };
}

describe('corpus', () => {
  it('has the files the README lists', () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });

  for (const f of files) {
    const text = readFileSync(join(CORPUS, f), 'utf8');
    it(`${f}: parses, prints to a fixed point, round-trips to the same graph`, () => {
      const m = parseModule(text, f);
      expect(m.funcs.length).toBeGreaterThan(0);
      const p1 = printModule(m);
      const m2 = parseModule(p1, 'printed.mlir');
      expect(printModule(m2)).toBe(p1);
      expect(graphKey(m2)).toEqual(graphKey(m));
      // With locations too.
      const l1 = printModule(m, { locations: true });
      expect(printModule(parseModule(l1), { locations: true })).toBe(l1);
    });
  }
});

describe('details', () => {
  const read = (f: string) => parseModule(readFileSync(join(CORPUS, f), 'utf8'), f);

  it('fills op locations with the line and column of the op name', () => {
    const m = read('softmax.mlir');
    const reduce = m.funcs[0].body.ops[1];
    expect(reduce.op).toBe(Op.Reduce);
    expect(reduce.loc).toEqual({ file: 'softmax.mlir', line: 4, column: 10 });
  });

  it('resolves #loc aliases defined after the module into Location.source', () => {
    const m = read('debug_locs_mlp.mlir');
    expect(m.funcs[0].body.ops[0].loc?.source).toBe('"gen.py":55:53 to :59');
    expect(m.funcs[1].body.ops[1].loc?.source).toBe('"max"');
    expect(m.funcs[1].body.ops[0].loc?.source).toBeUndefined(); // loc(unknown)
  });

  it('maps attributes to the typed OpAttrs', () => {
    const conv = read('conv2d_nchw.mlir').funcs[0].body.ops[0];
    expect(conv.attrs).toEqual({
      windowStrides: [1, 1], padding: [[1, 1], [1, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1],
      windowReversal: [false, false],
      dims: {
        inputBatch: 0, inputFeature: 1, inputSpatial: [2, 3], kernelOutput: 0, kernelInput: 1, kernelSpatial: [2, 3],
        outputBatch: 0, outputFeature: 1, outputSpatial: [2, 3],
      },
      featureGroupCount: 1, batchGroupCount: 1, precision: ['HIGHEST', 'HIGHEST'],
    });
    const cumsum = read('cumsum.mlir').funcs[2].body.ops[2];
    expect(cumsum.attrs).toEqual({
      windowDimensions: [1, 16], windowStrides: [1, 1], baseDilations: [1, 1], windowDilations: [1, 1],
      padding: [[0, 0], [15, 0]],
    });
    const slice = read('shapes.mlir').funcs[0].body.ops[4];
    expect(slice.attrs).toEqual({ start: [0, 1], limit: [16, 9], strides: [2, 1] });
    const gather = read('gather_embedding.mlir').funcs[0].body.ops.find((o) => o.op === Op.Gather)!;
    expect(gather.attrs).toMatchObject({
      dims: { offsetDims: [2], collapsedSliceDims: [0], startIndexMap: [0], indexVectorDim: 2 }, sliceSizes: [1, 6],
    });
    const cmp = read('argmax_int.mlir').funcs[1].body.ops[3].regions[0].block.ops[4];
    expect(cmp.attrs).toEqual({ direction: 'LT', compareType: 'SIGNED' });
  });

  it('reads special float bit patterns exactly', () => {
    const m = read('layernorm.mlir');
    const nan = m.funcs[1].body.ops.find((o) => o.op === Op.Constant && Number.isNaN((o.attrs as { value: DenseLiteral }).value.data[0]));
    const lit = (nan!.attrs as { value: DenseLiteral }).value;
    expect(new Uint32Array(lit.data.buffer)[0]).toBe(0x7fc00000);
    expect(printModule(m)).toContain('dense<0x7FC00000>');
    expect(printModule(read('softmax.mlir'))).toContain('dense<0xFF800000>');
    expect(printModule(m)).toContain('dense<0.00001>'); // 9.99999974E-6 as the shortest f32 decimal
  });

  it('accepts the generic form of every pretty op it prints', () => {
    const text = `func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<2x2xf16>) -> (tensor<4xf32>, tensor<4xi1>) {
      %0 = "stablehlo.add"(%arg0, %arg0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %1 = "stablehlo.compare"(%0, %arg0) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
      %2 = "stablehlo.constant"() <{value = dense<[[1.0, 0x7C00], [-2.5e-3, 65504.0]]> : tensor<2x2xf16>}> : () -> tensor<2x2xf16>
      %3 = "stablehlo.sort"(%0) <{dimension = 0 : i64, is_stable = true}> ({
      ^bb0(%a: tensor<f32>, %b: tensor<f32>):
        %c = "stablehlo.compare"(%a, %b) <{comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<f32>, tensor<f32>) -> tensor<i1>
        "stablehlo.return"(%c) : (tensor<i1>) -> ()
      }) : (tensor<4xf32>) -> tensor<4xf32>
      "func.return"(%3, %1) : (tensor<4xf32>, tensor<4xi1>) -> ()
    }`;
    const m = parseModule(text);
    const p = printModule(m);
    expect(printModule(parseModule(p))).toBe(p);
    expect(graphKey(parseModule(p))).toEqual(graphKey(m));
    expect(p).toContain('stablehlo.compare GT, %0, %arg0, FLOAT');
    expect(p).toContain('dense<[[1.0, 0x7C00], [-0.0025, 65500.0]]>'); // shortest decimal that reads back as f16 65504
  });
});

describe('printed text', () => {
  it('prints a small module canonically', () => {
    const m = parseModule(`module @m {
  func.func public @main(%x: tensor<2x3xf32>, %i: tensor<i32>) -> tensor<3xf32> {
    %c = stablehlo.constant dense<[1.5, -2.0, 3.0]> : tensor<3xf32>
    %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %z = stablehlo.constant dense<0.0> : tensor<f32>
    %r = stablehlo.reduce(%t init: %z) applies stablehlo.add across dimensions = [1] : (tensor<3x2xf32>, tensor<f32>) -> tensor<3xf32>
    %s = stablehlo.dynamic_slice %r, %i, sizes = [3] : (tensor<3xf32>, tensor<i32>) -> tensor<3xf32>
    %e = chlo.erf %s : tensor<3xf32> -> tensor<3xf32>
    %p = stablehlo.pad %e, %z, low = [1], high = [0], interior = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
    %q = stablehlo.slice %p [1:4] : (tensor<4xf32>) -> tensor<3xf32>
    %o = stablehlo.add %q, %c : tensor<3xf32>
    return %o : tensor<3xf32>
  }
}`);
    expect(printModule(m)).toMatchInlineSnapshot(`
      "module @m {
        func.func public @main(%arg0: tensor<2x3xf32>, %arg1: tensor<i32>) -> tensor<3xf32> {
          %0 = stablehlo.constant dense<[1.5, -2.0, 3.0]> : tensor<3xf32>
          %1 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
          %2 = stablehlo.constant dense<0.0> : tensor<f32>
          %3 = stablehlo.reduce(%1 init: %2) applies stablehlo.add across dimensions = [1] : (tensor<3x2xf32>, tensor<f32>) -> tensor<3xf32>
          %4 = stablehlo.dynamic_slice %3, %arg1, sizes = [3] : (tensor<3xf32>, tensor<i32>) -> tensor<3xf32>
          %5 = chlo.erf %4 : tensor<3xf32> -> tensor<3xf32>
          %6 = stablehlo.pad %5, %2, low = [1], high = [0], interior = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
          %7 = stablehlo.slice %6 [1:4] : (tensor<4xf32>) -> tensor<3xf32>
          %8 = stablehlo.add %7, %0 : tensor<3xf32>
          return %8 : tensor<3xf32>
        }
      }
      "
    `);
  });

  it('prints multi-result ops, while loops and calls', () => {
    const m = parseModule(`module @loop {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi32>) {
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0:2 = stablehlo.while(%it = %c, %acc = %arg0) : tensor<i32>, tensor<4xf32>
    cond {
      %lim = stablehlo.constant dense<3> : tensor<i32>
      %lt = stablehlo.compare LT, %it, %lim, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %lt : tensor<i1>
    } do {
      %one = stablehlo.constant dense<1> : tensor<i32>
      %next = stablehlo.add %it, %one : tensor<i32>
      %y = func.call @step(%acc) : (tensor<4xf32>) -> tensor<4xf32>
      stablehlo.return %next, %y : tensor<i32>, tensor<4xf32>
    }
    %values, %indices = chlo.top_k(%0#1, k = 4) : tensor<4xf32> -> (tensor<4xf32>, tensor<4xi32>)
    return %values, %indices : tensor<4xf32>, tensor<4xi32>
  }
  func.func private @step(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.sine %arg0 : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}`);
    expect(printModule(m)).toMatchInlineSnapshot(`
      "module @loop {
        func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi32>) {
          %0 = stablehlo.constant dense<0> : tensor<i32>
          %1:2 = stablehlo.while(%iterArg = %0, %iterArg_0 = %arg0) : tensor<i32>, tensor<4xf32>
          cond {
            %2 = stablehlo.constant dense<3> : tensor<i32>
            %3 = stablehlo.compare LT, %iterArg, %2, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
            stablehlo.return %3 : tensor<i1>
          } do {
            %4 = stablehlo.constant dense<1> : tensor<i32>
            %5 = stablehlo.add %iterArg, %4 : tensor<i32>
            %6 = call @step(%iterArg_0) : (tensor<4xf32>) -> tensor<4xf32>
            stablehlo.return %5, %6 : tensor<i32>, tensor<4xf32>
          }
          %7:2 = chlo.top_k(%1#1, k = 4) : tensor<4xf32> -> (tensor<4xf32>, tensor<4xi32>)
          return %7#0, %7#1 : tensor<4xf32>, tensor<4xi32>
        }
        func.func private @step(%arg0: tensor<4xf32>) -> tensor<4xf32> {
          %0 = stablehlo.sine %arg0 : tensor<4xf32>
          return %0 : tensor<4xf32>
        }
      }
      "
    `);
  });
});
