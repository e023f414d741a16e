/**
 * chlo.scan (JAX 0.11's GPU lowering of associative cumulative ops): parsing and printing, the
 * reference interpreter's rule against hand-computed scans, and the compiler's expansion into a
 * reduce_window (run here on the interpreter) against the same values. The JAX programs that use
 * it run on both devices in test/webgpu/jax-programs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { compile } from '../../compiler/compile.js';
import { expandOps } from '../../compiler/passes/expand.js';
import { interpret } from '../../runtime/reference/interpreter.js';
import { hostTensor } from '../../runtime/tensor.js';
import { SCAN_LOOPS } from '../helpers/scans.js';

/** A scan of a 2x3 f32 operand along `dim` whose body is `op(input, carry)`. */
const module = (op: string, dim: number, reverse: boolean) => {
  const row = dim === 0 ? 'tensor<3xf32>' : 'tensor<2xf32>';
  return `module {
  func.func public @main(%arg0: tensor<2x3xf32>, %arg1: ${row}) -> (tensor<2x3xf32>, ${row}) {
    %0:2 = chlo.scan(%arg0) inits (%arg1) dimension=${dim}  attributes {is_associative = true, is_reverse = ${reverse}} {
    ^bb0(%input: ${row}, %carry: ${row}):
      %1 = ${op} %input, %carry : ${row}
      stablehlo.return %1, %1 : ${row}, ${row}
    } : (tensor<2x3xf32>, ${row}) -> (tensor<2x3xf32>, ${row})
    return %0#0, %0#1 : tensor<2x3xf32>, ${row}
  }
}`;
};

const x = hostTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);

const cases: { op: string; dim: number; reverse: boolean; init: number[]; out: number[]; carry: number[] }[] = [
  // out[i][j] = init[i] + x[i][0] + ... + x[i][j]
  { op: 'stablehlo.add', dim: 1, reverse: false, init: [10, 20], out: [11, 13, 16, 24, 29, 35], carry: [16, 35] },
  // from the right: out[i][j] = init[i] * x[i][j] * ... * x[i][2]
  { op: 'stablehlo.multiply', dim: 1, reverse: true, init: [2, 1], out: [12, 12, 6, 120, 30, 6], carry: [12, 120] },
  // down the columns: out[i][j] = max(init[j], x[0][j], ..., x[i][j])
  { op: 'stablehlo.maximum', dim: 0, reverse: false, init: [3, 0, 7], out: [3, 2, 7, 4, 5, 7], carry: [4, 5, 7] },
  { op: 'stablehlo.minimum', dim: 0, reverse: true, init: [5, 0, 4], out: [1, 0, 3, 4, 0, 4], carry: [1, 0, 3] },
];

describe('chlo.scan', () => {
  it('prints in the generic form and parses back to the same module', () => {
    const m = parseModule(module('stablehlo.add', 1, true));
    verifyModule(m);
    const text = printModule(m);
    expect(text).toContain('"chlo.scan"(%arg0, %arg1) <{dimension = 1 : i64, is_associative = true, is_reverse = true, operandSegmentSizes = array<i32: 1, 1>}>');
    const again = parseModule(text);
    verifyModule(again);
    expect(printModule(again)).toBe(text);
  });

  for (const c of cases) {
    const name = `${c.op} along ${c.dim}${c.reverse ? ', reversed' : ''}`;
    const init = hostTensor('f32', [c.init.length], c.init);
    it(`${name}: the reference rule`, () => {
      const m = parseModule(module(c.op, c.dim, c.reverse));
      verifyModule(m);
      const [out, carry] = interpret(m, [x, init]);
      expect(Array.from(out.data as Float32Array)).toEqual(c.out);
      expect(Array.from(carry.data as Float32Array)).toEqual(c.carry);
    });
    it(`${name}: the compiler's expansion into reduce_window`, () => {
      const m = expandOps(parseModule(module(c.op, c.dim, c.reverse)));
      verifyModule(m);
      const text = printModule(m);
      expect(text).not.toContain('chlo.scan');
      expect(text).toContain('stablehlo.reduce_window');
      const [out, carry] = interpret(m, [x, init]);
      expect(Array.from(out.data as Float32Array)).toEqual(c.out);
      expect(Array.from(carry.data as Float32Array)).toEqual(c.carry);
    });
  }

  it('a body that is not one associative op: the compiler\'s expansion into a counted while loop gives the rule\'s values', () => {
    for (const reverse of [false, true]) {
      const m = parseModule(module('stablehlo.subtract', 1, reverse), 'sub.mlir');
      verifyModule(m);
      // out = x - carry, carried: row 0 forward 1-10, 2-(1-10), 3-(2-(1-10)); reversed 3-10, 2-(3-10), 1-(2-(3-10)).
      const want = reverse ? [-8, 9, -7] : [-9, 11, -8];
      const init = hostTensor('f32', [2], [10, 20]);
      const [out] = interpret(m, [x, init]);
      expect(Array.from(out.data as Float32Array).slice(0, 3)).toEqual(want);
      const e = expandOps(m);
      verifyModule(e);
      const text = printModule(e);
      expect(text).not.toContain('chlo.scan');
      expect(text).toContain('stablehlo.while');
      const [eout, ecarry] = interpret(e, [x, init]);
      const [, carry] = interpret(m, [x, init]);
      expect(Array.from(eout.data as Float32Array)).toEqual(Array.from(out.data as Float32Array));
      expect(Array.from(ecarry.data as Float32Array)).toEqual(Array.from(carry.data as Float32Array));
      compile(m);
    }
  });

  it('complex cumsum: the rule against hand-computed values (complex slices move plane by plane)', () => {
    const [, text, inputs] = SCAN_LOOPS.find(([name]) => name === 'complex cumsum')!;
    const [out, carry] = interpret(parseModule(text), inputs);
    // Row 0 from (0, 0): (1, 2), (0, 2.5), (3, -0.5), (3.25, 0.5); row 1 from (1, -1): (3, 1), (1, 2), (1, 6), (2.5, 5).
    expect(Array.from(out.data as Float32Array)).toEqual([1, 2, 0, 2.5, 3, -0.5, 3.25, 0.5, 3, 1, 1, 2, 1, 6, 2.5, 5]);
    expect(Array.from(carry.data as Float32Array)).toEqual([3.25, 0.5, 2.5, 5]);
  });

  for (const [name, text, inputs] of SCAN_LOOPS) {
    it(`${name}: the while-loop expansion gives exactly the rule's values`, () => {
      const m = parseModule(text, `${name}.mlir`);
      verifyModule(m);
      const want = interpret(m, inputs);
      const e = expandOps(m);
      verifyModule(e);
      expect(printModule(e)).not.toContain('chlo.scan');
      const got = interpret(e, inputs);
      expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
      got.forEach((t, i) => expect(Array.from(t.data as ArrayLike<number>), `result ${i}`).toEqual(Array.from(want[i].data as ArrayLike<number>)));
    });
  }

  it('the verifier refuses an out-of-range dimension and a body of the wrong type', () => {
    expect(() => verifyModule(parseModule(module('stablehlo.add', 1, false).replace('dimension=1', 'dimension=2'), 'd.mlir')))
      .toThrow(/chlo\.scan: dimension = 2 is out of range for rank 2/);
    const bad = module('stablehlo.add', 1, false).replace('^bb0(%input: tensor<2xf32>', '^bb0(%input: tensor<3xf32>');
    expect(() => verifyModule(parseModule(bad, 'b.mlir'))).toThrow(KilnError);
  });
});
