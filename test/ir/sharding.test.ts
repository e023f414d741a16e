/**
 * @file Sharding annotations on one device: Shardy's `sdy.sharding_constraint` and GSPMD's
 * `custom_call @Sharding / @SPMDFullToShardShape / @SPMDShardToFullShape` are identities (no
 * operation is built; the result is the operand's value); a mesh of more than one device is
 * refused with its shape and location; a sharding annotation that changes the type is refused.
 */
import { describe, expect, it } from 'vitest';
import { ParseError, UnsupportedOpError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { Op } from '../../ir/ops.js';

const M = (mesh: string, body: string) => `module @m {
  ${mesh}
  func.func public @main(%arg0: tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>}) -> tensor<8x4xf32> {
${body}
  }
}
`;
const ONE = 'sdy.mesh @mesh = <["x"=1]>';

describe('sharding annotations on one device', () => {
  it('sdy.sharding_constraint and the GSPMD custom calls are identities', () => {
    const m = parseModule(M(ONE, [
      '    %0 = sdy.sharding_constraint %arg0 <@mesh, [{"x"}, {}]> : tensor<8x4xf32>',
      '    %1 = stablehlo.custom_call @Sharding(%0) {mhlo.sharding = "{replicated}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    %2 = stablehlo.custom_call @SPMDFullToShardShape(%1) {mhlo.sharding = "{manual}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    %3 = stablehlo.abs %2 : tensor<8x4xf32>',
      '    %4 = stablehlo.custom_call @SPMDShardToFullShape(%3) {mhlo.sharding = "{replicated}"} : (tensor<8x4xf32>) -> tensor<8x4xf32>',
      '    return %4 : tensor<8x4xf32>',
    ].join('\n')));
    const ops = m.funcs[0].body.ops;
    expect(ops.map((o) => o.op)).toEqual([Op.Abs, Op.FuncReturn]);
    expect(ops[0].operands[0]).toBe(m.funcs[0].args[0]);
    expect(ops[1].operands[0]).toBe(ops[0].results[0]);
  });

  it('a mesh of more than one device is refused with its shape and line', () => {
    const text = M('sdy.mesh @mesh = <["x"=2, "y"=4]>', '    return %arg0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(UnsupportedOpError);
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:2:3: sdy\.mesh @mesh = <\[x=2, y=4\]> spans 8 devices/);
  });

  it('an inline sharding on any other op is a located ParseError', () => {
    const text = M(ONE, '    %0 = stablehlo.abs %arg0 <@mesh, [{}, {}]> : tensor<8x4xf32>\n    return %0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:4:30: stablehlo\.abs: unexpected '<\.\.\.>' among its operands/);
  });

  it('a constraint naming an undeclared mesh is refused', () => {
    const text = M(ONE, '    %0 = sdy.sharding_constraint %arg0 <@other, [{}, {}]> : tensor<8x4xf32>\n    return %0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:4:\d+: sdy\.sharding_constraint: unknown mesh @other/);
  });

  it('a sharding custom call that changes the type is refused, not run as an identity', () => {
    const text = M(ONE, '    %0 = stablehlo.custom_call @SPMDFullToShardShape(%arg0) : (tensor<8x4xf32>) -> tensor<4x4xf32>\n    return %arg0 : tensor<8x4xf32>');
    expect(() => parseModule(text, 'm.mlir')).toThrow(ParseError);
    expect(() => parseModule(text, 'm.mlir')).toThrow(/^m\.mlir:4:10: stablehlo\.custom_call @SPMDFullToShardShape: %arg0 has type tensor<8x4xf32> but the op's signature says tensor<4x4xf32>/);
  });
});

const C = (attrs: string, body: string) => `module @m attributes {${attrs}} {
  func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xi32>) -> tensor<4xf32> {
${body}
  }
}
`;
const ALL_REDUCE = (groups: string) => [
  `    %0:2 = "stablehlo.all_reduce"(%arg0, %arg1) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, replica_groups = ${groups}, use_global_device_ids}> ({`,
  '    ^bb0(%a: tensor<f32>, %b: tensor<f32>):',
  '      %s = stablehlo.add %a, %b : tensor<f32>',
  '      stablehlo.return %s : tensor<f32>',
  '    }) : (tensor<4xf32>, tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>)',
  '    %1 = stablehlo.abs %0#0 : tensor<4xf32>',
  '    return %1 : tensor<4xf32>',
].join('\n');

describe('collectives on one device', () => {
  it('all_reduce over the group [[0]] is an identity on each operand', () => {
    const m = parseModule(C('mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32', ALL_REDUCE('dense<0> : tensor<1x1xi64>')));
    const ops = m.funcs[0].body.ops;
    expect(ops.map((o) => o.op)).toEqual([Op.Abs, Op.FuncReturn]);
    expect(ops[0].operands[0]).toBe(m.funcs[0].args[0]);
  });

  it('a collective over two devices is refused with its groups', () => {
    expect(() => parseModule(C('mhlo.num_replicas = 1 : i32', ALL_REDUCE('dense<[[0, 1]]> : tensor<1x2xi64>')), 'm.mlir'))
      .toThrow(/^m\.mlir:3:12: stablehlo\.all_reduce: replica_groups \[\[0,1\]\] span more than device 0; kiln runs on one device/);
    expect(() => parseModule(C('mhlo.num_replicas = 2 : i32', ALL_REDUCE('dense<0> : tensor<1x1xi64>')), 'm.mlir'))
      .toThrow(/^m\.mlir:3:12: stablehlo\.all_reduce: the module has mhlo\.num_replicas = 2/);
  });

  it('collective_permute is an identity only when it sends device 0 to itself', () => {
    const body = (pairs: string) => `    %0 = "stablehlo.collective_permute"(%arg0) <{channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>, source_target_pairs = ${pairs}}> : (tensor<4xf32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>`;
    const m = parseModule(C('mhlo.num_replicas = 1 : i32', body('dense<0> : tensor<1x2xi64>')));
    expect(m.funcs[0].body.ops[0].operands[0]).toBe(m.funcs[0].args[0]);
    expect(() => parseModule(C('mhlo.num_replicas = 1 : i32', body('dense<[[0, 1]]> : tensor<1x2xi64>')), 'm.mlir'))
      .toThrow(/^m\.mlir:3:10: stablehlo\.collective_permute: source_target_pairs must be \[\[0, 0\]\] \(got \[\[0,1\]\]\)/);
  });
});

describe('replica_id and partition_id on one device', () => {
  it('are the ui32 constant 0, and refused on more replicas', async () => {
    const { interpret } = await import('../../runtime/reference/interpreter.js');
    const text = (n: number) => `module @m attributes {mhlo.num_replicas = ${n} : i32} {
  func.func public @main() -> (tensor<ui32>, tensor<ui32>) {
    %0 = stablehlo.replica_id : tensor<ui32>
    %1 = stablehlo.partition_id : tensor<ui32>
    return %0, %1 : tensor<ui32>, tensor<ui32>
  }
}
`;
    const m = parseModule(text(1));
    expect(m.funcs[0].body.ops.map((o) => o.op)).toEqual([Op.Constant, Op.Constant, Op.FuncReturn]);
    const out = interpret(m, []);
    expect(out.map((t) => [t.dtype, [...t.data]])).toEqual([['ui32', [0]], ['ui32', [0]]]);
    expect(() => parseModule(text(2), 'm.mlir')).toThrow(/^m\.mlir:3:10: stablehlo\.replica_id: the module has mhlo\.num_replicas = 2/);
  });
});

describe('stablehlo.composite', () => {
  it('runs its decomposition function', async () => {
    const { interpret } = await import('../../runtime/reference/interpreter.js');
    const { fromJson } = await import('../../runtime/tensor.js');
    const text = `module @m {
  func.func public @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %0 = "stablehlo.composite"(%arg0) <{composite_attributes = {approximate = "tanh"}, decomposition = @my.gelu, name = "my.gelu", version = 1 : i32}> : (tensor<3xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
  func.func private @my.gelu(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %0 = stablehlo.multiply %arg0, %arg0 : tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}
`;
    const m = parseModule(text);
    expect(m.funcs[0].body.ops.map((o) => o.op)).toEqual([Op.Call, Op.FuncReturn]);
    const [out] = interpret(m, [fromJson({ dtype: 'f32', shape: [3], data: [1.5, -2, 3] })]);
    expect([...out.data]).toEqual([2.25, 4, 9]);
    expect(() => parseModule(text.replace('decomposition = @my.gelu', 'decomposition = @nope'), 'm.mlir')).toThrow(/^m\.mlir:3:10: call to unknown function @nope/);
  });
});
