/**
 * @file i64/ui64 on WebGPU (two u32 words per element, compiler/codegen/int64.ts) against the
 * reference interpreter's bigint semantics, exactly: one record per op over edge values
 * (INT64_MIN/MAX, words that carry, shifts of 0, 31, 32, 63, 64 and more) and seeded random
 * 64-bit values; conversions to and from every 32-bit type; and the counter program JAX's
 * threefry emits (`iota_2x32_shape`: ui64 iota, multiply, add, shift, convert to ui32).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { roundF16, type SupportedDType } from '../../ir/dtype.js';
import { UnsupportedOpError } from '../../ir/errors.js';
import { verifyModule } from '../../ir/verify.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor, type HostTensor } from '../../runtime/tensor.js';
import { mismatch } from '../helpers/corpus.js';
import { rng } from '../helpers/rng.js';
import { closeGpu, gpu, parse } from './gpu.js';

afterAll(closeGpu);

const EDGES = [
  0n, 1n, -1n, 2n, -2n, 0xffffffffn, 0x100000000n, -0x100000000n, 0x7fffffffn, 0x80000000n,
  -(2n ** 63n), 2n ** 63n - 1n, 0x8000000180000001n, 0x123456789abcdefn, -0x123456789abcdefn, 0xffffffff00000000n,
];
const SHIFTS = [0n, 1n, 31n, 32n, 33n, 63n, 64n, 65n, 2n ** 32n, -1n, 7n, 40n, 12n, 0n, 3n, 62n];
const N = 40;

/** `n` 64-bit values: the edges, then seeded random words (wrapped to `d` when stored). */
function values64(seed: number, edges: bigint[] = EDGES): bigint[] {
  const r = rng(seed);
  const word = () => BigInt(Math.floor(r() * 2 ** 32));
  return Array.from({ length: N }, (_, i) => (i < edges.length ? edges[i] : (word() << 32n) | word()));
}

async function check(text: string, ins: HostTensor[], what: string): Promise<void> {
  const m = parse(text);
  verifyModule(m);
  const want = interpret(m, ins);
  const d = await gpu();
  const exe = d.compile(m);
  const outs = d.execute(exe, ins.map((t) => d.upload(t)));
  const got = await Promise.all(outs.map((o) => d.read(o)));
  got.forEach((t, i) => expect(mismatch(t, want[i], 0, 0), `${what} output ${i}`).toBeUndefined());
  outs.forEach((o) => d.free(o));
}

const ty = (d: string) => `tensor<${N}x${d}>`;

describe('i64/ui64 elementwise ops on webgpu match the reference interpreter exactly', () => {
  const binary = ['add', 'subtract', 'multiply', 'and', 'or', 'xor', 'maximum', 'minimum'];
  for (const d of ['i64', 'ui64'] as const) {
    for (const op of binary) {
      it(`${op} ${d}`, async () => {
        const text = `func.func @main(%a: ${ty(d)}, %b: ${ty(d)}) -> ${ty(d)} {
  %r = stablehlo.${op} %a, %b : ${ty(d)}
  return %r : ${ty(d)}
}`;
        const a = values64(1);
        const b = [...values64(2).slice(5), ...values64(3).slice(0, 5)];
        await check(text, [hostTensor(d, [N], a), hostTensor(d, [N], b)], `${op} ${d}`);
      });
    }
    for (const op of ['shift_left', 'shift_right_logical', 'shift_right_arithmetic']) {
      it(`${op} ${d}`, async () => {
        const text = `func.func @main(%a: ${ty(d)}, %b: ${ty(d)}) -> ${ty(d)} {
  %r = stablehlo.${op} %a, %b : ${ty(d)}
  return %r : ${ty(d)}
}`;
        const a = values64(4, [0x8000000180000001n, -1n, 1n, 0x123456789abcdefn, ...EDGES]);
        const s = Array.from({ length: N }, (_, i) => SHIFTS[i % SHIFTS.length]);
        await check(text, [hostTensor(d, [N], a), hostTensor(d, [N], s)], `${op} ${d}`);
      });
    }
    // abs and sign are defined on signed types only.
    for (const op of d === 'i64' ? ['negate', 'abs', 'sign', 'not'] : ['negate', 'not']) {
      it(`${op} ${d}`, async () => {
        const text = `func.func @main(%a: ${ty(d)}) -> ${ty(d)} {
  %r = stablehlo.${op} %a : ${ty(d)}
  return %r : ${ty(d)}
}`;
        await check(text, [hostTensor(d, [N], values64(5))], `${op} ${d}`);
      });
    }
    it(`compare, every direction, ${d}`, async () => {
      const t = d === 'i64' ? 'SIGNED' : 'UNSIGNED';
      const dirs = ['EQ', 'NE', 'LT', 'LE', 'GT', 'GE'];
      const body = dirs.map((dir, i) => `  %r${i} = stablehlo.compare ${dir}, %a, %b, ${t} : (${ty(d)}, ${ty(d)}) -> ${ty('i1')}`).join('\n');
      const text = `func.func @main(%a: ${ty(d)}, %b: ${ty(d)}) -> (${dirs.map(() => ty('i1')).join(', ')}) {
${body}
  return ${dirs.map((_, i) => `%r${i}`).join(', ')} : ${dirs.map(() => ty('i1')).join(', ')}
}`;
      const a = values64(6);
      // Equal values, equal high words with different low words, and the reverse.
      const b = a.map((v, i) => (i % 4 === 0 ? v : i % 4 === 1 ? v + 1n : i % 4 === 2 ? v + 2n ** 32n : -v));
      await check(text, [hostTensor(d, [N], a), hostTensor(d, [N], b)], `compare ${d}`);
    });
  }

  const narrow: SupportedDType[] = ['i32', 'ui32', 'i1', 'f32', 'f16'];
  for (const d of ['i64', 'ui64'] as const) {
    for (const to of [...narrow, d === 'i64' ? 'ui64' : 'i64'] as SupportedDType[]) {
      it(`convert ${d} -> ${to}`, async () => {
        const text = `func.func @main(%a: ${ty(d)}) -> ${ty(to)} {
  %r = stablehlo.convert %a : (${ty(d)}) -> ${ty(to)}
  return %r : ${ty(to)}
}`;
        // Float conversions meet ties that a double rounding gets wrong, and f16's overflow.
        const extra = [2n ** 53n + 2n ** 29n + 1n, 16777217n, 16777219n, 2049n, 2051n, 65519n, 65520n, -(2n ** 40n) - 1n];
        await check(text, [hostTensor(d, [N], values64(7, [...extra, ...EDGES]))], `convert ${d} -> ${to}`);
      });
    }
    for (const from of narrow) {
      it(`convert ${from} -> ${d}`, async () => {
        const text = `func.func @main(%a: ${ty(from)}) -> ${ty(d)} {
  %r = stablehlo.convert %a : (${ty(from)}) -> ${ty(d)}
  return %r : ${ty(d)}
}`;
        const r = rng(8);
        const edges: Record<string, number[]> = {
          i32: [0, -1, 1, -2147483648, 2147483647],
          ui32: [0, 1, 0xffffffff, 0x80000000],
          i1: [0, 1],
          f32: [0, -0, 0.5, -2.75, 1e19, -1e19, 2 ** 63, -(2 ** 63), 2 ** 64, 1.5e20, NaN, Infinity, -Infinity, 4294967296.5, 123456789012, -98765432109],
          f16: [0, -1.5, 65504, -65504, NaN, Infinity, 1024.5],
        };
        const e = edges[from];
        const vals = Array.from({ length: N }, (_, i) => (i < e.length ? e[i]
          : from === 'i1' ? (r() < 0.5 ? 0 : 1)
          : from === 'f32' ? (r() - 0.5) * 2 ** (r() * 70)
          : from === 'f16' ? roundF16((r() - 0.5) * 60000)
          : Math.floor(r() * 2 ** 32) - (from === 'i32' ? 2 ** 31 : 0)));
        await check(text, [hostTensor(from, [N], vals)], `convert ${from} -> ${d}`);
      });
    }
  }

  it('a dense (non-splat) 64-bit constant in a buffer, reversed and added', async () => {
    const vals = Array.from({ length: 8 }, (_, i) => (i % 2 ? -(2n ** 62n) - BigInt(i) : 2n ** 40n + BigInt(i)));
    const text = `func.func @main(%a: tensor<8xi64>) -> tensor<8xi64> {
  %k = stablehlo.constant dense<[${vals.join(', ')}]> : tensor<8xi64>
  %r = stablehlo.reverse %k, dims = [0] : tensor<8xi64>
  %s = stablehlo.add %a, %r : tensor<8xi64>
  return %s : tensor<8xi64>
}`;
    const a = values64(11).slice(0, 8);
    await check(text, [hostTensor('i64', [8], a)], 'dense constant');
    // Hand check: element 0 is a[0] + vals[7], wrapped.
    const [got] = interpret(parse(text), [hostTensor('i64', [8], a)]);
    expect(got.data[0]).toBe(BigInt.asIntN(64, a[0] + vals[7]));
  });

  it('clamp, select, bitcast_convert and constants', async () => {
    const text = `func.func @main(%a: ${ty('i64')}, %p: ${ty('i1')}) -> (${ty('i64')}, ${ty('ui64')}) {
  %lo = stablehlo.constant dense<-4294967296> : tensor<i64>
  %hi = stablehlo.constant dense<81985529216486895> : tensor<i64>
  %c = stablehlo.clamp %lo, %a, %hi : (tensor<i64>, ${ty('i64')}, tensor<i64>) -> ${ty('i64')}
  %u = stablehlo.bitcast_convert %c : (${ty('i64')}) -> ${ty('ui64')}
  %k = stablehlo.constant dense<18446744073709551615> : ${ty('ui64')}
  %s = stablehlo.select %p, %u, %k : (${ty('i1')}, ${ty('ui64')}, ${ty('ui64')}) -> ${ty('ui64')}
  return %c, %s : ${ty('i64')}, ${ty('ui64')}
}`;
    const r = rng(9);
    await check(text, [hostTensor('i64', [N], values64(10)), hostTensor('i1', [N], Array.from({ length: N }, () => (r() < 0.5 ? 0 : 1)))], 'clamp/select');
  });
});

describe('programs JAX emits around threefry', () => {
  it('iota_2x32_shape: 64-bit counters split into two u32 words, with data movement', async () => {
    // What jax._src.prng.iota_2x32_shape_lowering emits for shape (2, 3, 4), with a large stride
    // so the high words are not zero, followed by a transpose, a slice and a concatenate.
    const text = `func.func public @main(%arg0: tensor<2xui32>) -> (tensor<2x3x4xui32>, tensor<2x3x4xui32>, tensor<4x6xui64>) {
  %0 = stablehlo.iota dim = 0 : tensor<2x3x4xui64>
  %c = stablehlo.constant dense<6442450944> : tensor<ui64>
  %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui64>) -> tensor<2x3x4xui64>
  %2 = stablehlo.multiply %1, %0 : tensor<2x3x4xui64>
  %3 = stablehlo.iota dim = 1 : tensor<2x3x4xui64>
  %c_0 = stablehlo.constant dense<4> : tensor<ui64>
  %4 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui64>) -> tensor<2x3x4xui64>
  %5 = stablehlo.multiply %4, %3 : tensor<2x3x4xui64>
  %6 = stablehlo.add %2, %5 : tensor<2x3x4xui64>
  %7 = stablehlo.iota dim = 2 : tensor<2x3x4xui64>
  %8 = stablehlo.add %6, %7 : tensor<2x3x4xui64>
  %k = stablehlo.convert %arg0 : (tensor<2xui32>) -> tensor<2xui64>
  %k1 = stablehlo.slice %k [1:2] : (tensor<2xui64>) -> tensor<1xui64>
  %k2 = stablehlo.reshape %k1 : (tensor<1xui64>) -> tensor<ui64>
  %k3 = stablehlo.broadcast_in_dim %k2, dims = [] : (tensor<ui64>) -> tensor<2x3x4xui64>
  %9 = stablehlo.add %8, %k3 : tensor<2x3x4xui64>
  %c_1 = stablehlo.constant dense<32> : tensor<ui64>
  %10 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui64>) -> tensor<2x3x4xui64>
  %11 = stablehlo.shift_right_logical %9, %10 : tensor<2x3x4xui64>
  %12 = stablehlo.convert %9 : (tensor<2x3x4xui64>) -> tensor<2x3x4xui32>
  %13 = stablehlo.convert %11 : (tensor<2x3x4xui64>) -> tensor<2x3x4xui32>
  %14 = stablehlo.transpose %9, dims = [2, 0, 1] : (tensor<2x3x4xui64>) -> tensor<4x2x3xui64>
  %15 = stablehlo.reshape %14 : (tensor<4x2x3xui64>) -> tensor<4x6xui64>
  %16 = stablehlo.slice %15 [0:4, 3:6] : (tensor<4x6xui64>) -> tensor<4x3xui64>
  %17 = stablehlo.slice %15 [0:4, 0:3] : (tensor<4x6xui64>) -> tensor<4x3xui64>
  %18 = stablehlo.concatenate %16, %17, dim = 1 : (tensor<4x3xui64>, tensor<4x3xui64>) -> tensor<4x6xui64>
  return %13, %12, %18 : tensor<2x3x4xui32>, tensor<2x3x4xui32>, tensor<4x6xui64>
}`;
    const key = hostTensor('ui32', [2], [0, 0xfffffffd]);
    await check(text, [key], 'iota_2x32_shape');
    // Hand check of one element: counter (1, 2, 3) = 1 * 6442450944 + 2 * 4 + 3 + 0xfffffffd
    // = 0x180000000 + 11 + 0xfffffffd = 0x2_8000_0008: high word 2, low word 0x80000008.
    const [hi, lo] = interpret(parse(text), [key]);
    expect([hi.data[12 + 8 + 3], lo.data[12 + 8 + 3]]).toEqual([2, 0x80000008]);
  });

  it('a 64-bit value inside a kernel that has no emulation is refused, not miscompiled', async () => {
    const text = `func.func @main(%a: tensor<4xui64>) -> tensor<ui64> {
  %z = stablehlo.constant dense<0> : tensor<ui64>
  %r = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [0] : (tensor<4xui64>, tensor<ui64>) -> tensor<ui64>
  return %r : tensor<ui64>
}`;
    const m = parse(text);
    expect(() => verifyModule(m)).toThrow(UnsupportedOpError);
    const d = await gpu();
    expect(() => d.compile(m)).toThrow(/stablehlo.reduce: .*ui64/);
  });
});
