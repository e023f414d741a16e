/**
 * @file IR text fuzzing: every corpus program, mutated at random (see `mutate.ts`), goes through
 * parse, print and re-parse, verify, compile and the reference interpreter; each stage either
 * succeeds or throws a located KilnError (see `check-ir.ts`). Then regressions for the bugs the
 * fuzzing found, and for deep nesting and giant shapes, each as a plain example.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError, UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { verifyModule } from '../../ir/verify.js';
import { MAX_ELEMENTS, shapeProblem, tensorType, type Module } from '../../ir/types.js';
import { dispatchFor, DEFAULT_TARGET } from '../../compiler/program.js';
import { corpusNames, loadCase } from '../helpers/corpus.js';
import { checkIrText } from './check-ir.js';
import { mutateAll, mutationArb, type Mutation } from './mutate.js';

const corpus = corpusNames().map((n) => loadCase(n));
/**
 * Mutated programs per property. 5,000 reach every stage many times over in a few seconds; set
 * KILN_FUZZ_RUNS (e.g. 100000) for a longer search when changing the parser or verifier.
 */
const RUNS = Number(process.env.KILN_FUZZ_RUNS ?? 5000);

describe('IR fuzz', () => {
  it('every corpus program passes every stage unmutated', () => {
    for (const c of corpus) expect(checkIrText(c.text, 1, 2000, c.file).stage, c.name).toBe('done');
  });

  it('mutated corpus programs fail only with located KilnErrors, and print to text that parses', () => {
    const stages: Record<string, number> = {};
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.nat(), (i, ms: Mutation[], seed) => {
        const out = checkIrText(mutateAll(corpus[i].text, ms), seed);
        stages[out.stage] = (stages[out.stage] ?? 0) + 1;
      }),
      { seed: 20240601, numRuns: RUNS },
    );
    // The mutations must reach every stage, or the property says little about the later ones.
    expect(stages.parse).toBeGreaterThan(0);
    expect(stages.verify).toBeGreaterThan(RUNS / 400);
    expect(stages.done).toBeGreaterThan(RUNS / 400);
  });

  it('single semantic mutations (shapes, dims, op names, dtypes, numbers) often get past the parser', () => {
    const semantic = mutationArb.filter((m) => ['shapeDim', 'dimsList', 'opName', 'dtype', 'number'].includes(m.kind));
    let verified = 0;
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), semantic, fc.nat(), (i, m, seed) => {
        if (checkIrText(mutateAll(corpus[i].text, [m]), seed).stage !== 'parse') verified++;
      }),
      { seed: 7, numRuns: Math.ceil(RUNS * 0.4) },
    );
    expect(verified).toBeGreaterThan(RUNS * 0.04);
  });
});

// ---- regressions -------------------------------------------------------------------------------

const parse = (text: string) => parseModule(text, 'bad.mlir');
const expectParse = (text: string) => {
  const m = parse(text);
  expect(() => parse(printModule(m))).not.toThrow();
  return m;
};

describe('what the fuzzing found', () => {
  it('`applies` with an op that is not a binary elementwise op is a ParseError, not a printer crash', () => {
    const text = `func.func @main(%a: tensor<8xi32>, %c: tensor<i32>) -> tensor<i32> {
  %0 = stablehlo.reduce(%a init: %c) applies stablehlo.dynamic_slice across dimensions = [0] : (tensor<8xi32>, tensor<i32>) -> tensor<i32>
  return %0 : tensor<i32>
}`;
    expect(() => parse(text)).toThrow(ParseError);
    expect(() => parse(text)).toThrow(/^bad\.mlir:2:\d+: stablehlo\.reduce: 'applies stablehlo\.dynamic_slice' needs a binary elementwise op/);
    expect(() => parse(text.replace('dynamic_slice', 'compare'))).toThrow(/needs a binary elementwise op/);
  });

  it('an op with the wrong number of operands is a ParseError naming the counts', () => {
    const select = `func.func @main(%a: tensor<8xf32>) -> tensor<8xf32> {
  %0 = stablehlo.select %a, %a : tensor<8xf32>
  return %0 : tensor<8xf32>
}`;
    expect(() => parse(select)).toThrow(/^bad\.mlir:2:8: stablehlo\.select takes 3 operands, got 2$/);
    const add = `func.func @main(%a: tensor<f32>) -> tensor<f32> {
  %0 = "stablehlo.add"(%a) : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}`;
    expect(() => parse(add)).toThrow(/stablehlo\.add takes 2 operands, got 1/);
    const topk = `func.func @main(%a: tensor<8xf32>) -> tensor<4xf32> {
  %0 = "chlo.top_k"(%a) <{k = 4 : i64}> : (tensor<8xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}`;
    expect(() => parse(topk)).toThrow(/chlo\.top_k with 1 operand has 2 results, got 1/);
  });

  it('a while whose regions take the wrong number of arguments is a ParseError', () => {
    const text = `func.func @main(%x: tensor<i32>) -> tensor<i32> {
  %0 = "stablehlo.while"(%x) ({
  ^bb0(%a: tensor<i32>, %b: tensor<i32>):
    %t = stablehlo.constant dense<false> : tensor<i1>
    stablehlo.return %t : tensor<i1>
  }, {
  ^bb0(%a: tensor<i32>):
    stablehlo.return %a : tensor<i32>
  }) : (tensor<i32>) -> tensor<i32>
  return %0 : tensor<i32>
}`;
    expect(() => parse(text)).toThrow(/stablehlo\.while: region #0 takes 2 arguments, expected 1/);
  });

  it('a convolution layout with a repeated or negative spatial index is refused, not printed with a hole', () => {
    const conv = (layout: string) => `func.func @main(%x: tensor<1x1x4x4xf32>, %k: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %0 = stablehlo.convolution(%x, %k) dim_numbers = ${layout}, window = {stride = [1, 1]} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}`;
    expect(() => expectParse(conv('[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]'))).not.toThrow();
    expect(() => parse(conv('[b, f, -1, 1]x[o, i, 0, 1]->[b, f, 0, 1]'))).toThrow(/convolution layout must name b, f and spatial dims 0\.\.1/);
    expect(() => parse(conv('[b, f, 1, 1]x[o, i, 0, 1]->[b, f, 0, 1]'))).toThrow(ParseError);
    expect(() => parse(conv('[b, f, 0, 4294967294]x[o, i, 0, 1]->[b, f, 0, 1]'))).toThrow(ParseError);
  });

  it('integer attributes past 2^53 are refused instead of rounded', () => {
    const text = `func.func @main() -> tensor<4xi32> {
  %0 = stablehlo.iota dim = 99999999999999999999 : tensor<4xi32>
  return %0 : tensor<4xi32>
}`;
    expect(() => parse(text)).toThrow(/'iota_dimension' value 99999999999999999999 is out of range/);
  });

  it('negative bit counts of reduce_precision are refused (its printed form eXmY has no sign)', () => {
    const text = `func.func @main(%a: tensor<8xf32>) -> tensor<8xf32> {
  %0 = "stablehlo.reduce_precision"(%a) <{exponent_bits = -3 : i32, mantissa_bits = 2 : i32}> : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}`;
    expect(() => parse(text)).toThrow(/^bad\.mlir:2:\d+: stablehlo\.reduce_precision: 'exponent_bits' must be >= 0, got -3$/);
    expect(checkIrText(text.replace('-3', '5')).stage).toBe('done');
  });

  it('negative, zero and out-of-range attribute values are VerifyErrors at the op', () => {
    const cases = [
      ['() -> tensor<4xi32>', '%0 = stablehlo.iota dim = -1 : tensor<4xi32>', 'tensor<4xi32>', /iota_dimension = \[-1\]: -1 is out of range/],
      ['(%a: tensor<8xf32>) -> tensor<4xf32>', '%0 = stablehlo.slice %a [0:8:0] : (tensor<8xf32>) -> tensor<4xf32>', 'tensor<4xf32>', /stride 0 must be >= 1/],
      ['(%a: tensor<8xf32>, %p: tensor<f32>) -> tensor<4xf32>', '%0 = stablehlo.pad %a, %p, low = [0], high = [0], interior = [-1] : (tensor<8xf32>, tensor<f32>) -> tensor<4xf32>', 'tensor<4xf32>', /interior_padding = \[-1\]: -1 must be >= 0/],
      ['(%a: tensor<2x3xf32>) -> tensor<2x3xf32>', '%0 = stablehlo.transpose %a, dims = [0, 0] : (tensor<2x3xf32>) -> tensor<2x3xf32>', 'tensor<2x3xf32>', /repeats a dimension/],
      ['(%a: tensor<8xf32>) -> tensor<8xf32>', '%0:2 = chlo.top_k(%a, k = -1) : tensor<8xf32> -> (tensor<8xf32>, tensor<8xi32>)', 'tensor<8xf32>', /k = -1 must lie in/],
    ] as const;
    for (const [sig, body, ret, why] of cases) {
      const text = `func.func @main${sig} {\n  ${body}\n  return %0${body.startsWith('%0:2') ? '#0' : ''} : ${ret}\n}`;
      const out = checkIrText(text);
      expect(out.stage, body).toBe('verify');
      expect(out.error, body).toBeInstanceOf(VerifyError);
      expect(out.error!.message, body).toMatch(/^fuzz\.mlir:2:\d+: /);
      expect(out.error!.message, body).toMatch(why);
    }
  });

  it('an attribute dictionary key written as a string prints as a string', () => {
    const m = expectParse(`func.func @main(%a: tensor<f32>) -> (tensor<f32> {"odd key[0]" = "x"}) {
  return %a : tensor<f32>
}`);
    expect(printModule(m)).toContain('{"odd key[0]" = "x"}');
  });

  it('an optimization_barrier whose results differ from its operands prints its full type', () => {
    const m = expectParse(`func.func @main(%a: tensor<2xf32>) -> tensor<3xf32> {
  %0 = stablehlo.optimization_barrier %a : (tensor<2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}`);
    expect(printModule(m)).toContain('(tensor<2xf32>) -> tensor<3xf32>');
    expect(() => verifyModule(m)).toThrow(VerifyError);
  });
});

describe('giant shapes and deep nesting', () => {
  const broadcastTo = (type: string) => `func.func @main(%a: tensor<f32>) -> ${type} {
  %0 = stablehlo.broadcast_in_dim %a, dims = [] : (tensor<f32>) -> ${type}
  return %0 : ${type}
}`;

  it('a type with more elements than kiln can index is refused where it is written', () => {
    expect(() => parse(broadcastTo('tensor<99999999999x99999999999xf32>')))
      .toThrow(/^bad\.mlir:2:\d+: tensor<99999999999x99999999999xf32> is not supported: dimension 99999999999 is larger than 2147483647/);
    expect(() => parse(broadcastTo('tensor<99999999999x99999999999xf32>'))).toThrow(UnsupportedOpError);
    // A splat constant holds one element, but compiling it would allocate all of them.
    expect(() => parse('func.func @main() -> tensor<99999999999xf32> {\n  %0 = stablehlo.constant dense<1.0> : tensor<99999999999xf32>\n  return %0 : tensor<99999999999xf32>\n}'))
      .toThrow(UnsupportedOpError);
    // A dense attribute's type is read before its elements are expanded.
    expect(() => parse(`func.func @main(%a: tensor<f32>) -> tensor<f32> {
  %0 = stablehlo.broadcast_in_dim %a, dims = dense<0> : tensor<9999999999xi64> : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}`)).toThrow(UnsupportedOpError);
    expect(() => parse(broadcastTo('tensor<1024x1024x2048xf32>'))).toThrow(/more than 2147483647 elements/);
    expect(() => parse(broadcastTo('tensor<0x99999999999xf32>'))).toThrow(/dimension 99999999999 is larger than 2147483647/);
    expect(() => parse(broadcastTo('tensor<0x2147483647xf32>'))).not.toThrow();
  });

  it('shapeProblem never overflows and names the bad dimension', () => {
    expect(shapeProblem([MAX_ELEMENTS])).toBeUndefined();
    expect(shapeProblem([MAX_ELEMENTS, 2])).toMatch(/more than/);
    expect(shapeProblem(Array.from({ length: 200 }, () => 2 ** 30))).toMatch(/more than/);
    expect(shapeProblem([0, MAX_ELEMENTS, MAX_ELEMENTS])).toBeUndefined();
    expect(shapeProblem([0, 2 ** 40])).toMatch(/dimension 1099511627776 is larger/);
    expect(shapeProblem([-1])).toMatch(/dimension -1/);
    expect(shapeProblem([NaN])).toMatch(/dimension NaN/);
    expect(shapeProblem([1.5])).toMatch(/dimension 1.5/);
  });

  it('the verifier refuses giant shapes in modules built without the parser', () => {
    const m = parse(broadcastTo('tensor<4xf32>')) as Module;
    const f = m.funcs[0];
    const big = tensorType('f32', [2 ** 20, 2 ** 20]);
    f.resultTypes[0] = big;
    f.body.ops[0].results[0].type = big;
    expect(() => verifyModule(m)).toThrow(UnsupportedOpError);
    expect(() => verifyModule(m)).toThrow(/more than 2147483647 elements/);
  });

  it('a dispatch too large for the device is a typed error', () => {
    expect(() => dispatchFor(2 ** 52, 256, DEFAULT_TARGET)).toThrow(UnsupportedOpError);
  });

  it('a dispatch past 65535 workgroups spills into y without launching idle rows of groups', () => {
    expect(dispatchFor(65535 * 256, 256, DEFAULT_TARGET)).toEqual([65535, 1, 1]);
    // 65536 groups: two rows of 32768, not [65535, 2] (65534 groups that do nothing).
    expect(dispatchFor(65536 * 256, 256, DEFAULT_TARGET)).toEqual([32768, 2, 1]);
    const [x, y] = dispatchFor(200000 * 256 - 3, 256, DEFAULT_TARGET);
    expect(x * y).toBeGreaterThanOrEqual(200000);
    expect(x * y - 200000).toBeLessThan(y);
    expect(x).toBeLessThanOrEqual(65535);
  });

  it('brackets nested past the limit are a located ParseError, not a stack overflow', () => {
    const n = 20000;
    const deep = `func.func @main() -> tensor<1xf32> {\n  %0 = stablehlo.constant dense<${'['.repeat(n)}1.0${']'.repeat(n)}> : tensor<1xf32>\n  return %0 : tensor<1xf32>\n}`;
    expect(() => parse(deep)).toThrow(/^bad\.mlir:2:\d+: brackets nest deeper than 256 levels$/);
    expect(() => parse(`${'('.repeat(100000)}`)).toThrow(/^bad\.mlir:1:257: brackets nest deeper/);
  });

  const nestedWhiles = (n: number) => {
    let inner = '';
    for (let i = 0; i < n; i++) {
      inner = `%v${i} = stablehlo.while(%i${i} = %x) : tensor<i32>\n cond {\n %t${i} = stablehlo.constant dense<false> : tensor<i1>\n`
        + ` stablehlo.return %t${i} : tensor<i1>\n } do {\n ${inner} stablehlo.return %i${i} : tensor<i32>\n }\n`;
    }
    return `func.func @main(%x: tensor<i32>) -> tensor<i32> {\n${inner}return %v${n - 1} : tensor<i32>\n}`;
  };

  it('regions nested just under the limit go through every stage', () => {
    expect(checkIrText(nestedWhiles(250), 1, 5000).stage).toBe('done');
  });

  it('regions nested past the limit are refused at the brace that passes it', () => {
    expect(() => parse(nestedWhiles(3000))).toThrow(/brackets nest deeper than 256 levels/);
  });

  it('dense literals nested as deep as the limit allows parse, print and verify', () => {
    const n = 250;
    const t = `tensor<${'1x'.repeat(n)}f32>`;
    const text = `func.func @main() -> ${t} {\n  %0 = stablehlo.constant dense<${'['.repeat(n)}1.0${']'.repeat(n)}> : ${t}\n  return %0 : ${t}\n}`;
    expect(checkIrText(text).stage).toBe('done');
  });

  it('a huge single line is parsed or refused in linear time', () => {
    const line = `func.func @main(%a: tensor<f32>) -> tensor<f32> { ${Array.from({ length: 20000 }, (_, i) => `%${i} = stablehlo.negate ${i ? `%${i - 1}` : '%a'} : tensor<f32>`).join(' ')} return %19999 : tensor<f32> }`;
    const start = performance.now();
    expect(checkIrText(line, 1, 2000).stage).not.toBe('parse');
    expect(checkIrText(line.replace('%19999 :', '%19999 ::'), 1).stage).toBe('parse');
    expect(performance.now() - start).toBeLessThan(20_000);
  });
});
