/**
 * @file Malformed modules: each gives a typed error with the line and column of the problem and a
 * message that names it, never a crash or a raw stack trace.
 */
import { describe, expect, it } from 'vitest';
import { KilnError, ParseError, UnsupportedOpError } from '../../ir/errors.js';
import { parseModule } from '../../ir/parse/parser.js';

/** A module whose @main has the given body and signature. */
const H = (body: string, sig = '(%arg0: tensor<4xf32>) -> tensor<4xf32>') => `module @m {\n  func.func public @main${sig} {\n${body}\n  }\n}\n`;

const CASES: [string, string][] = [
  ['unknown op', H('    %0 = stablehlo.frobnicate %arg0 : tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['custom call', H('    %0 = stablehlo.custom_call @lapack_sgetrf(%arg0) : (tensor<4xf32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['generic custom call', H('    %0 = "stablehlo.custom_call"(%arg0) {call_target_name = "x"} : (tensor<4xf32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['bad dtype', H('    %0 = stablehlo.convert %arg0 : (tensor<4xf32>) -> tensor<4xf31>\n    return %0 : tensor<4xf32>')],
  ['dynamic dim', H('    return %arg0 : tensor<4xf32>', '(%arg0: tensor<?xf32>) -> tensor<4xf32>')],
  ['undefined value', H('    %0 = stablehlo.add %arg0, %x : tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['redefined', H('    %0 = stablehlo.abs %arg0 : tensor<4xf32>\n    %0 = stablehlo.negate %arg0 : tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['unclosed region', H('    %0 = stablehlo.abs %arg0 : tensor<4xf32>\n    return %0 : tensor<4xf32>').replace(/  }\n}\n$/, '')],
  ['stray brace', H('    return %arg0 : tensor<4xf32>\n    }')],
  ['wrong result count', H('    %0:2 = stablehlo.abs %arg0 : tensor<4xf32>\n    return %0#0 : tensor<4xf32>')],
  ['named results vs types', H('    %a, %b = stablehlo.abs %arg0 : tensor<4xf32>\n    return %a : tensor<4xf32>')],
  ['result index out of range', H('    %0:2 = stablehlo.optimization_barrier %arg0, %arg0 : tensor<4xf32>, tensor<4xf32>\n    return %0#2 : tensor<4xf32>')],
  ['dense element count', H('    %c = stablehlo.constant dense<[1.0, 2.0, 3.0]> : tensor<4xf32>\n    return %c : tensor<4xf32>')],
  ['dense non-numeric', H('    %c = stablehlo.constant dense<[1, 2, 3, 4.5]> : tensor<4xi32>\n    return %arg0 : tensor<4xf32>')],
  ['dense out of range', H('    %c = stablehlo.constant dense<3000000000> : tensor<i32>\n    return %arg0 : tensor<4xf32>')],
  ['dense bool in float', H('    %c = stablehlo.constant dense<true> : tensor<4xf32>\n    return %c : tensor<4xf32>')],
  ['unknown function', H('    %0 = call @nowhere(%arg0) : (tensor<4xf32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['missing terminator', H('    %0 = stablehlo.abs %arg0 : tensor<4xf32>')],
  ['missing region terminator', H('    %c = stablehlo.constant dense<0.0> : tensor<f32>\n    %0 = "stablehlo.reduce_window"(%arg0, %c) <{window_dimensions = array<i64: 2>}> ({\n    ^bb0(%a: tensor<f32>, %b: tensor<f32>):\n      %s = stablehlo.add %a, %b : tensor<f32>\n    }) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['trailing garbage', H('    return %arg0 : tensor<4xf32>') + 'garbage here\n'],
  ['type mismatch at use', H('    %0 = stablehlo.abs %arg0 : tensor<8xf32>\n    return %0 : tensor<4xf32>')],
  ['bad character', H('    %0 = stablehlo.abs %arg0 : tensor<4xf32> $\n    return %0 : tensor<4xf32>')],
  ['unknown attribute', H('    %0 = "stablehlo.exponential"(%arg0) {result_accuracy = 1 : i32} : (tensor<4xf32>) -> tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['bad comparison direction', H('    %0 = stablehlo.compare BIGGER, %arg0, %arg0, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>\n    return %arg0 : tensor<4xf32>')],
  ['op after terminator', H('    return %arg0 : tensor<4xf32>\n    %0 = stablehlo.abs %arg0 : tensor<4xf32>')],
  ['multi-result used whole', H('    %0:2 = stablehlo.optimization_barrier %arg0, %arg0 : tensor<4xf32>, tensor<4xf32>\n    return %0 : tensor<4xf32>')],
  ['empty input', ''],
  ['token type', H('    return %arg0 : tensor<4xf32>', '(%arg0: tensor<4xf32>, %t: !stablehlo.token) -> tensor<4xf32>')],
];

/** The error class, line, column and a pattern of the message each case must give. */
const EXPECTED: Record<string, ['ParseError' | 'UnsupportedOpError', number, number, RegExp]> = {
  'unknown op': ['UnsupportedOpError', 3, 10, /unsupported op stablehlo\.frobnicate/],
  'custom call': ['UnsupportedOpError', 3, 10, /stablehlo\.custom_call @lapack_sgetrf is not supported: custom calls run backend-specific code \(e\.g\. LAPACK or cuDNN kernels\); kiln runs only @lapack_spotrf_ffi, /],
  'generic custom call': ['UnsupportedOpError', 3, 10, /stablehlo\.custom_call @x is not supported/],
  'bad dtype': ['ParseError', 3, 55, /unknown element type 'f31'/],
  'dynamic dim': ['ParseError', 2, 33, /dynamic shapes are not supported: tensor<\?xf32> has a dynamic dimension/],
  'undefined value': ['ParseError', 3, 31, /undefined value %x/],
  'redefined': ['ParseError', 4, 5, /%0 is defined twice \(first at 3:5\)/],
  'unclosed region': ['ParseError', 2, 65, /unclosed '\{'/],
  'stray brace': ['ParseError', 6, 1, /'\}' closes nothing/],
  'wrong result count': ['ParseError', 3, 5, /%0:2 names 2 result\(s\) but the op has 1/],
  'named results vs types': ['ParseError', 3, 5, /%a, %b names 2 result\(s\) but the op has 1/],
  'result index out of range': ['ParseError', 4, 12, /%0 has only 2 result/],
  'dense element count': ['ParseError', 3, 35, /3 elements in dimension 0 but tensor<4xf32> has 4/],
  'dense non-numeric': ['ParseError', 3, 45, /non-integer value 4\.5/],
  'dense out of range': ['ParseError', 3, 35, /3000000000 is out of range for i32/],
  'dense bool in float': ['ParseError', 3, 35, /boolean true in a dense literal of f32/],
  'unknown function': ['ParseError', 3, 10, /unknown function @nowhere/],
  'missing terminator': ['ParseError', 4, 3, /block ends with stablehlo\.abs; it must end with return/],
  'missing region terminator': ['ParseError', 7, 5, /stablehlo\.reduce_window: block ends with stablehlo\.add; it must end with stablehlo\.return/],
  'trailing garbage': ['ParseError', 6, 1, /expecting EOF but found: garbage/],
  'type mismatch at use': ['ParseError', 3, 24, /%arg0 has type tensor<4xf32> but is used as tensor<8xf32>/],
  'bad character': ['ParseError', 3, 46, /unexpected character\(s\) '\$'/],
  'unknown attribute': ['UnsupportedOpError', 3, 60, /attribute 'result_accuracy' is not supported/],
  'bad comparison direction': ['ParseError', 3, 28, /'comparison_direction' must be one of/],
  'op after terminator': ['ParseError', 4, 10, /an operation follows the terminator/],
  'multi-result used whole': ['ParseError', 4, 12, /%0 has 2 results; use %0#0 to %0#1/],
  'empty input': ['ParseError', 1, 1, /unexpected end of input/],
  'token type': ['ParseError', 2, 52, /type !stablehlo\.token is not supported/],
};

describe('parse errors', () => {
  it('covers every case', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
    expect(Object.keys(EXPECTED).sort()).toEqual(CASES.map(([n]) => n).sort());
  });

  for (const [name, text] of CASES) {
    it(name, () => {
      const [cls, line, column, pattern] = EXPECTED[name];
      let err: unknown;
      try {
        parseModule(text, 'bad.mlir');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect(err).toBeInstanceOf(cls === 'ParseError' ? ParseError : UnsupportedOpError);
      const k = err as KilnError;
      expect(k.loc).toMatchObject({ file: 'bad.mlir', line, column });
      expect(k.detail).toMatch(pattern);
      expect(k.message.startsWith(`bad.mlir:${line}:${column}: `)).toBe(true);
      expect(k.message).not.toMatch(/\n\s+at /); // no stack trace in the message
    });
  }
});
