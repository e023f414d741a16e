/**
 * @file i64/ui64 on the reference interpreter: one record per op with hand-derived values at the
 * edges (wraparound, INT64_MIN, shifts of 64 and more, signed vs unsigned compare, truncating and
 * extending conversions, float conversions that a double rounding would get wrong), plus the
 * refusals (ops outside `Int64Ops`) and the host forms (JSON, bytes).
 */
import { describe, expect, it } from 'vitest';
import type { SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { fromBytes, fromJson, hostTensor, toBytes, toJson, type HostTensor } from '../../runtime/tensor.js';

/** The elements of a tensor, bigints for i64/ui64. */
const elements = (t: HostTensor): (number | bigint)[] => Array.from(t.data as ArrayLike<number | bigint>);

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** Runs `%r = <body>` on operands of the given types; `body` uses %a, %b, %c. */
function run1(body: string, ins: [SupportedDType, (number | bigint)[]][], out: string): HostTensor {
  const n = ins[0][1].length;
  const args = ins.map(([d], i) => `%${'abc'[i]}: tensor<${n}x${d}>`).join(', ');
  const text = `func.func @main(${args}) -> tensor<${n}x${out}> {\n  %r = ${body}\n  return %r : tensor<${n}x${out}>\n}`;
  const m = parseModule(text);
  verifyModule(m);
  return interpret(m, ins.map(([d, v]) => hostTensor(d, [n], v)))[0];
}

const bin = (op: string, d: SupportedDType, a: (number | bigint)[], b: (number | bigint)[]) =>
  elements(run1(`stablehlo.${op} %a, %b : tensor<${a.length}x${d}>`, [[d, a], [d, b]], d));
const un = (op: string, d: SupportedDType, a: (number | bigint)[]) =>
  elements(run1(`stablehlo.${op} %a : tensor<${a.length}x${d}>`, [[d, a]], d));
const conv = (from: SupportedDType, to: SupportedDType, a: (number | bigint)[]) =>
  elements(run1(`stablehlo.convert %a : (tensor<${a.length}x${from}>) -> tensor<${a.length}x${to}>`, [[from, a]], to));

describe('i64/ui64 arithmetic on the reference interpreter', () => {
  it('add, subtract and multiply wrap at 64 bits', () => {
    expect(bin('add', 'i64', [I64_MAX, -1n, 0xffffffffn], [1n, 1n, 1n])).toEqual([I64_MIN, 0n, 0x100000000n]);
    expect(bin('add', 'ui64', [U64_MAX, 0xffffffffn], [1n, 0xffffffffn])).toEqual([0n, 0x1fffffffen]);
    expect(bin('subtract', 'i64', [I64_MIN, 0n], [1n, 1n])).toEqual([I64_MAX, -1n]);
    expect(bin('subtract', 'ui64', [0n, 0x100000000n], [1n, 1n])).toEqual([U64_MAX, 0xffffffffn]);
    // (2^32 + 3) * (2^32 + 5) = 2^64 + 8 * 2^32 + 15 -> 8 * 2^32 + 15 mod 2^64
    expect(bin('multiply', 'ui64', [0x100000003n, 0xffffffffn], [0x100000005n, 0xffffffffn])).toEqual([0x80000000fn, 0xfffffffe00000001n]);
    expect(bin('multiply', 'i64', [-3n, I64_MIN, 0x123456789n], [7n, -1n, -0x10n])).toEqual([-21n, I64_MIN, -0x1234567890n]);
  });

  it('negate, abs and sign, INT64_MIN included', () => {
    expect(un('negate', 'i64', [I64_MIN, 5n, 0n])).toEqual([I64_MIN, -5n, 0n]);
    expect(un('negate', 'ui64', [1n, 0n])).toEqual([U64_MAX, 0n]);
    expect(un('abs', 'i64', [I64_MIN, -7n, 7n])).toEqual([I64_MIN, 7n, 7n]);
    expect(un('sign', 'i64', [I64_MIN, 0n, 9n])).toEqual([-1n, 0n, 1n]);
    expect(un('not', 'i64', [0n, -1n])).toEqual([-1n, 0n]);
    expect(un('not', 'ui64', [0n])).toEqual([U64_MAX]);
  });

  it('shifts: amounts read as unsigned, 64 or more shifts everything out', () => {
    const x = 0x8000000180000001n; // as ui64
    expect(bin('shift_left', 'ui64', [x, x, x, x, x], [0n, 1n, 32n, 63n, 64n]))
      .toEqual([x, 0x0000000300000002n, 0x8000000100000000n, 0x8000000000000000n, 0n]);
    expect(bin('shift_right_logical', 'ui64', [x, x, x, x, x], [1n, 31n, 32n, 63n, 200n]))
      .toEqual([0x40000000c0000000n, 0x100000003n, 0x80000001n, 1n, 0n]);
    expect(bin('shift_left', 'i64', [1n, 1n], [-1n, 65n])).toEqual([0n, 0n]);
    const neg = -0x7ffffffe7fffffffn; // the bits of x as i64
    expect(bin('shift_right_arithmetic', 'i64', [neg, neg, neg, 5n], [4n, 36n, 64n, 64n]))
      .toEqual([-0x7ffffffe7fffffffn >> 4n, -0x7ffffffe7fffffffn >> 36n, -1n, 0n]);
    expect(bin('shift_right_arithmetic', 'ui64', [x], [63n])).toEqual([U64_MAX]);
    expect(bin('shift_right_logical', 'i64', [-1n], [60n])).toEqual([15n]);
  });

  it('bitwise ops, max and min by the type\'s own order', () => {
    expect(bin('and', 'i64', [-1n], [0x1234n])).toEqual([0x1234n]);
    expect(bin('xor', 'ui64', [U64_MAX], [1n])).toEqual([U64_MAX - 1n]);
    expect(bin('or', 'i64', [I64_MIN], [1n])).toEqual([I64_MIN + 1n]);
    expect(bin('maximum', 'i64', [-1n, I64_MIN], [1n, I64_MAX])).toEqual([1n, I64_MAX]);
    expect(bin('maximum', 'ui64', [U64_MAX, 0x100000000n], [1n, 0xffffffffn])).toEqual([U64_MAX, 0x100000000n]);
    expect(bin('minimum', 'i64', [-1n, 0x100000000n], [1n, 0xffffffffn])).toEqual([-1n, 0xffffffffn]);
  });

  it('compare: i64 SIGNED and ui64 UNSIGNED order the same words differently', () => {
    const cmp = (d: SupportedDType, dir: string, type: string, a: bigint[], b: bigint[]) =>
      elements(run1(`stablehlo.compare ${dir}, %a, %b, ${type} : (tensor<${a.length}x${d}>, tensor<${a.length}x${d}>) -> tensor<${a.length}xi1>`,
        [[d, a], [d, b]], 'i1'));
    expect(cmp('i64', 'LT', 'SIGNED', [-1n, 0x100000000n, 5n], [0n, 0xffffffffn, 5n])).toEqual([1, 0, 0]);
    expect(cmp('ui64', 'LT', 'UNSIGNED', [U64_MAX, 0x100000000n], [0n, 0xffffffffn])).toEqual([0, 0]);
    expect(cmp('i64', 'GT', 'SIGNED', [-1n], [0n])).toEqual([0]);
    expect(cmp('ui64', 'GT', 'UNSIGNED', [U64_MAX], [0n])).toEqual([1]);
    expect(cmp('ui64', 'GE', 'UNSIGNED', [U64_MAX, 3n], [0n, 4n])).toEqual([1, 0]);
    expect(cmp('i64', 'EQ', 'SIGNED', [0x100000001n, 1n], [0x100000001n, 0x100000001n])).toEqual([1, 0]);
    expect(cmp('i64', 'NE', 'SIGNED', [0x100000001n, 1n], [0x100000001n, 0x100000001n])).toEqual([0, 1]);
  });

  it('convert between integer widths truncates, and extends by the source\'s signedness', () => {
    expect(conv('i64', 'i32', [0x180000000n, -1n, 0x7fffffffn])).toEqual([-2147483648, -1, 2147483647]);
    expect(conv('ui64', 'ui32', [0x1234567890n, U64_MAX])).toEqual([0x34567890, 0xffffffff]);
    expect(conv('i32', 'i64', [-1, -2147483648])).toEqual([-1n, -2147483648n]);
    expect(conv('i32', 'ui64', [-1])).toEqual([U64_MAX]);
    expect(conv('ui32', 'i64', [0xffffffff])).toEqual([0xffffffffn]);
    expect(conv('i64', 'ui64', [-1n])).toEqual([U64_MAX]);
    expect(conv('ui64', 'i64', [2n ** 63n])).toEqual([I64_MIN]);
    expect(conv('i64', 'i1', [0n, 0x100000000n, -1n])).toEqual([0, 1, 1]);
    expect(conv('i1', 'ui64', [1, 0])).toEqual([1n, 0n]);
  });

  it('integer to float rounds once, to nearest even', () => {
    // 2^53 + 2^29 + 1: through f64 it becomes 2^53 + 2^29, a tie that rounds to even (2^53) in f32;
    // the exact value is above the tie and rounds up to 2^53 + 2^30.
    const v = 2n ** 53n + 2n ** 29n + 1n;
    expect(conv('i64', 'f32', [v, -v, 0n, I64_MIN, 16777217n])).toEqual([2 ** 53 + 2 ** 30, -(2 ** 53 + 2 ** 30), 0, -(2 ** 63), 16777216]);
    expect(conv('ui64', 'f32', [U64_MAX])).toEqual([2 ** 64]);
    // f16: 2049 is a tie between 2048 and 2050 (even mantissa 2048); 65519 rounds down to 65504; 65520 up to inf.
    expect(conv('i64', 'f16', [2049n, 2051n, 65519n, 65520n])).toEqual([2048, 2052, 65504, Infinity]);
  });

  it('float to integer truncates toward zero and saturates; NaN is 0', () => {
    expect(conv('f32', 'i64', [-2.75, 1e19, -1e19, NaN, 2 ** 40 + 0.5, Infinity])).toEqual([-2n, I64_MAX, I64_MIN, 0n, 2n ** 40n, I64_MAX]);
    expect(conv('f32', 'ui64', [-5, 1e20, 3.99, 2 ** 63])).toEqual([0n, U64_MAX, 3n, 2n ** 63n]);
  });

  it('clamp, select, iota, constants and data movement carry 64-bit values', () => {
    const text = `func.func @main(%x: tensor<3xi64>, %p: tensor<3xi1>) -> (tensor<3xi64>, tensor<2x3xui64>, tensor<3x2xui64>, tensor<6xi64>) {
  %lo = stablehlo.constant dense<-5> : tensor<i64>
  %hi = stablehlo.constant dense<0x100000000> : tensor<i64>
  %c = stablehlo.clamp %lo, %x, %hi : (tensor<i64>, tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %big = stablehlo.constant dense<[18446744073709551615, 1, 4294967296]> : tensor<3xui64>
  %io = stablehlo.iota dim = 0 : tensor<3xui64>
  %s = stablehlo.select %p, %big, %io : (tensor<3xi1>, tensor<3xui64>, tensor<3xui64>) -> tensor<3xui64>
  %b = stablehlo.broadcast_in_dim %s, dims = [1] : (tensor<3xui64>) -> tensor<2x3xui64>
  %t = stablehlo.transpose %b, dims = [1, 0] : (tensor<2x3xui64>) -> tensor<3x2xui64>
  %cat = stablehlo.concatenate %c, %x, dim = 0 : (tensor<3xi64>, tensor<3xi64>) -> tensor<6xi64>
  return %c, %b, %t, %cat : tensor<3xi64>, tensor<2x3xui64>, tensor<3x2xui64>, tensor<6xi64>
}`;
    const m = parseModule(text);
    verifyModule(m);
    const [c, b, t, cat] = interpret(m, [hostTensor('i64', [3], [-9n, 7n, 2n ** 40n]), hostTensor('i1', [3], [1, 0, 1])]);
    expect(elements(c)).toEqual([-5n, 7n, 2n ** 32n]);
    expect(elements(b)).toEqual([U64_MAX, 1n, 2n ** 32n, U64_MAX, 1n, 2n ** 32n]);
    expect(elements(t)).toEqual([U64_MAX, U64_MAX, 1n, 1n, 2n ** 32n, 2n ** 32n]);
    expect(elements(cat)).toEqual([-5n, 7n, 2n ** 32n, -9n, 7n, 2n ** 40n]);
  });
});

describe('i64 refusals and host forms', () => {
  it('ops outside Int64Ops are refused by the verifier with op and location', () => {
    const m = parseModule(`func.func @main(%a: tensor<2x2xi64>) -> tensor<2x2xi64> {
  %r = stablehlo.dot_general %a, %a, contracting_dims = [1] x [0] : (tensor<2x2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  return %r : tensor<2x2xi64>
}`, 'dot.mlir');
    expect(() => verifyModule(m)).toThrow(UnsupportedOpError);
    expect(() => verifyModule(m)).toThrow(/dot.mlir:2:\d+: stablehlo.dot_general: .*tensor<2x2xi64>.*i64\/ui64/);
  });

  it('f64 stays refused with the reason', () => {
    const m = parseModule('func.func @main(%a: tensor<2xf64>) -> tensor<2xf64> {\n  return %a : tensor<2xf64>\n}');
    expect(() => verifyModule(m)).toThrow(/f64 is not supported/);
  });

  it('JSON: safe integers as numbers, the rest as decimal strings; bytes are little-endian two\'s complement', () => {
    const t = fromJson({ dtype: 'ui64', shape: [3], data: [5, '18446744073709551615', '9007199254740993'] });
    expect(elements(t)).toEqual([5n, U64_MAX, 2n ** 53n + 1n]);
    expect(toJson(t).data).toEqual([5, '18446744073709551615', '9007199254740993']);
    expect(() => fromJson({ dtype: 'i64', shape: [1], data: [2 ** 60] })).toThrow(/decimal strings/);
    expect(() => fromJson({ dtype: 'i64', shape: [1], data: ['9223372036854775808'] })).toThrow(/out of range/);
    const n = hostTensor('i64', [2], [-2n, 0x0102030405060708n]);
    const bytes = toBytes(n);
    expect(Array.from(bytes)).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(elements(fromBytes('i64', [2], bytes))).toEqual([-2n, 0x0102030405060708n]);
  });
});
