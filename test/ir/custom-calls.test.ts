/**
 * @file The custom-call table (ir/custom-calls.ts): JAX's LAPACK / cuSOLVER calls parse into typed
 * linear-algebra ops, verify against their target's shapes, dtypes, batch dimensions and layouts,
 * and print back verbatim; the attribute dictionary kiln builds for a call (what the client emits)
 * is exactly the one JAX printed in the fixtures; unknown and complex targets are refused by name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { customCallAttrs } from '../../ir/custom-calls.js';
import { ParseError, UnsupportedOpError, VerifyError } from '../../ir/errors.js';
import { Op } from '../../ir/ops.js';
import { parseModule } from '../../ir/parse/parser.js';
import { printModule } from '../../ir/print.js';
import { walkOps, type Operation } from '../../ir/types.js';
import { verifyModule } from '../../ir/verify.js';

const DIR = join(import.meta.dirname, '../fixtures/jax-programs');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

/** The `{...}` attribute dictionary of every custom_call line of a text, in order. */
function dicts(text: string): string[] {
  return text.split('\n').filter((l) => l.includes('stablehlo.custom_call @')).map((l) => {
    const start = l.indexOf(') {') + 2;
    const end = l.lastIndexOf('} : (');
    return l.slice(start, end + 1);
  });
}

function customCalls(text: string): Operation<Op.CustomCall>[] {
  const m = parseModule(text);
  verifyModule(m);
  const out: Operation<Op.CustomCall>[] = [];
  for (const f of m.funcs) walkOps(f.body, (o) => { if (o.op === Op.CustomCall) out.push(o); });
  return out;
}

const PROGRAMS = [
  'cholesky.mlir', 'cholesky.gpu.mlir', 'lu_solve.mlir', 'lu_solve.gpu.mlir', 'triangular_solve.mlir',
  'qr.mlir', 'qr.gpu.mlir', 'eigh.mlir', 'eigh.gpu.mlir', 'svd.mlir', 'svd.gpu.mlir',
];

describe('linear-algebra custom calls', () => {
  it.each(PROGRAMS)('%s: decodes each call and prints its attributes verbatim', (file) => {
    const text = read(file);
    const calls = customCalls(text);
    expect(calls.length).toBe(dicts(text).length);
    const printed = printModule(parseModule(text));
    expect(dicts(printed)).toEqual(dicts(text));
    expect(printModule(parseModule(printed))).toBe(printed);
  });

  it('decodes the FFI attributes JAX prints', () => {
    const [potrf] = customCalls(read('cholesky.mlir'));
    expect(potrf.attrs.call).toEqual({ kind: 'potrf', lower: true });
    expect(potrf.attrs.operandLayouts).toEqual([[0, 1]]);
    expect(potrf.attrs.resultLayouts).toEqual([[0, 1], []]);
    expect(customCalls(read('cholesky.gpu.mlir'))[0].attrs.call).toEqual({ kind: 'potrf', lower: true });
    const [getrf, unitLower, upper] = customCalls(read('lu_solve.mlir'));
    expect(getrf.attrs.call).toEqual({ kind: 'getrf' });
    expect(unitLower.attrs.call).toEqual({ kind: 'trsm', leftSide: true, lower: true, unitDiagonal: true, transposeA: 'NO_TRANSPOSE' });
    expect(upper.attrs.call).toEqual({ kind: 'trsm', leftSide: true, lower: false, unitDiagonal: false, transposeA: 'NO_TRANSPOSE' });
    const gpu = customCalls(read('lu_solve.gpu.mlir'));
    expect(gpu.map((o) => o.attrs.call.kind)).toEqual(['getrf', 'pivotsToPermutation']);
  });

  it('decodes QR, eigh and SVD calls (LAPACK and cuSOLVER)', () => {
    for (const f of ['qr.mlir', 'qr.gpu.mlir']) {
      expect(customCalls(read(f)).map((o) => o.attrs.call)).toEqual([{ kind: 'geqrf' }, { kind: 'orgqr' }]);
    }
    const [cpuEigh] = customCalls(read('eigh.mlir'));
    expect(cpuEigh.attrs.call).toEqual({ kind: 'syevd', lower: true, algorithm: 0 });
    expect(cpuEigh.attrs.resultLayouts).toEqual([[0, 1], [0], []]);
    expect(customCalls(read('eigh.gpu.mlir'))[0].attrs.call).toEqual({ kind: 'syevd', lower: true, algorithm: 0 });
    // LAPACK's mode 'N' (values only) leaves full_matrices to the result types.
    expect(customCalls(read('svd.mlir'))[0].attrs.call).toEqual({ kind: 'svd', computeUv: false, fullMatrices: undefined, vNotVt: false });
    expect(customCalls(read('svd.gpu.mlir'))[0].attrs.call).toEqual({ kind: 'svd', computeUv: false, fullMatrices: true, vNotVt: true });
  });

  it('QR, eigh and SVD results: shapes by target, taus, V for gesvdj, reduced U/Vᵀ for mode S', () => {
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => ({ dtype, shape });
    const svdS = customCallAttrs('lapack_sgesdd_ffi', { kind: 'svd', computeUv: true, fullMatrices: false, vNotVt: false }, [t([2, 5, 3])],
      [t([2, 5, 3]), t([2, 3]), t([2, 5, 3]), t([2, 3, 3]), t([2], 'i32')]);
    expect(svdS.text.find(([k]) => k === 'mhlo.backend_config')?.[1]).toBe('{mode = 83 : ui8}');
    expect(svdS.resultLayouts).toEqual([[1, 2, 0], [1, 0], [1, 2, 0], [1, 2, 0], [0]]);
    const wide = `module {
  func.func public @main(%arg0: tensor<2x3xf32>) -> tensor<3x3xf32> {
    %0:5 = stablehlo.custom_call @cusolver_gesvdj_ffi(%arg0) {mhlo.backend_config = {compute_uv = true, full_matrices = true}, mhlo.frontend_attributes = {num_batch_dims = "0"}, operand_layouts = [dense<[0, 1]> : tensor<2xindex>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<0> : tensor<1xindex>, dense<[0, 1]> : tensor<2xindex>, dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>]} : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<3x3xf32>, tensor<i32>)
    return %0#3 : tensor<3x3xf32>
  }
}`;
    verifyModule(parseModule(wide));
    // gesvdj's fourth result is V (3x3 here), not Vᵀ's reduced 2x3.
    expect(() => verifyModule(parseModule(wide.replace(/tensor<3x3xf32>/g, 'tensor<2x3xf32>'), 'm.mlir')))
      .toThrow(/^m\.mlir:3:12: stablehlo\.custom_call/);
    const orgqr = `module {
  func.func public @main(%arg0: tensor<3x4xf32>, %arg1: tensor<3xf32>) -> tensor<3x4xf32> {
    %0 = stablehlo.custom_call @lapack_sorgqr_ffi(%arg0, %arg1) {mhlo.backend_config = {}, mhlo.frontend_attributes = {num_batch_dims = "0"}, operand_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<0> : tensor<1xindex>], result_layouts = [dense<[0, 1]> : tensor<2xindex>]} : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
    return %0 : tensor<3x4xf32>
  }
}`;
    expect(() => verifyModule(parseModule(orgqr, 'm.mlir'))).toThrow(/@lapack_sorgqr_ffi: the reflectors must have at least as many rows as columns, got 3x4/);
    const syevd = read('eigh.mlir').replace('mode = 86 : ui8', 'mode = 78 : ui8');
    expect(() => parseModule(syevd, 'm.mlir')).toThrow(/@lapack_ssyevd_ffi: 'mode' = 78 is not one of 86 \('V'\)/);
    expect(() => parseModule(read('eigh.mlir').replace('lapack_ssyevd_ffi', 'lapack_cheevd_ffi'), 'm.mlir')).toThrow(/@lapack_cheevd_ffi: complex<f32> linear algebra is not supported/);
  });

  it('builds the very dictionary JAX prints for each call (what the client emits)', () => {
    for (const file of PROGRAMS) {
      const text = read(file);
      const calls = customCalls(text);
      const built = calls.map((o) => customCallAttrs(o.attrs.target, o.attrs.call, o.operands.map((v) => v.type), o.results.map((v) => v.type)));
      expect(built.map((a) => `{${a.text.map(([k, v]) => `${k} = ${v}`).join(', ')}}`), file).toEqual(dicts(text));
    }
  });

  it('a batched call: num_batch_dims and column-major layouts behind the batch dimensions', () => {
    const a = customCallAttrs('lapack_sgetrf_ffi', { kind: 'getrf' }, [{ dtype: 'f32', shape: [2, 5, 3, 3] }],
      [{ dtype: 'f32', shape: [2, 5, 3, 3] }, { dtype: 'i32', shape: [2, 5, 3] }, { dtype: 'i32', shape: [2, 5] }]);
    expect(a.numBatchDims).toBe(2);
    expect(a.operandLayouts).toEqual([[2, 3, 1, 0]]);
    expect(a.resultLayouts).toEqual([[2, 3, 1, 0], [2, 1, 0], [1, 0]]);
  });

  const potrf = (attrs: string, type = 'tensor<3x3xf32>', results = '(tensor<3x3xf32>, tensor<i32>)') => `module {
  func.func public @main(%arg0: ${type}) -> ${results} {
    %0:2 = stablehlo.custom_call @lapack_spotrf_ffi(%arg0) {${attrs}} : (${type}) -> ${results}
    return %0#0, %0#1 : ${results.slice(1, -1)}
  }
}`;
  const good = 'mhlo.backend_config = {uplo = 76 : ui8}, mhlo.frontend_attributes = {num_batch_dims = "0"}, operand_layouts = [dense<[0, 1]> : tensor<2xindex>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>]';

  it('verifies shapes, dtypes, batch dimensions and layouts against the target', () => {
    verifyModule(parseModule(potrf(good)));
    const bad = (text: string, err: typeof VerifyError | typeof ParseError, msg: RegExp) => {
      expect(() => verifyModule(parseModule(text, 'm.mlir'))).toThrow(err);
      expect(() => verifyModule(parseModule(text, 'm.mlir'))).toThrow(msg);
    };
    bad(potrf(good.replace('[0, 1]> : tensor<2xindex>]', '[1, 0]> : tensor<2xindex>]')), VerifyError,
      /^m\.mlir:3:12: stablehlo\.custom_call: @lapack_spotrf_ffi: operand_layouts\[0\] is \[1, 0\], but @lapack_spotrf_ffi takes \[0, 1\]/);
    bad(potrf(good.replace('"0"', '"1"')), VerifyError, /num_batch_dims = "1" but the operands have 0 batch dimension/);
    bad(potrf(good.replace(', operand_layouts = [dense<[0, 1]> : tensor<2xindex>]', '')), VerifyError, /needs operand_layouts/);
    bad(potrf(good.replace('76', '77')), ParseError, /@lapack_spotrf_ffi: 'uplo' = 77 is not one of 76 \('L'\), 85 \('U'\)/);
    bad(potrf(good, 'tensor<3x2xf32>', '(tensor<3x2xf32>, tensor<i32>)'), VerifyError, /@lapack_spotrf_ffi: the matrix must be square, got 3x2/);
    bad(potrf(good, 'tensor<3x3xi32>', '(tensor<3x3xi32>, tensor<i32>)'), VerifyError, /must have element type f32/);
    bad(potrf(good, 'tensor<3x3xf32>', '(tensor<3x3xf32>, tensor<f32>)'), VerifyError, /stablehlo\.custom_call/);
  });

  it('refuses unknown targets and complex variants by name', () => {
    const other = potrf(good).replace('lapack_spotrf_ffi', 'lapack_sgeev_ffi');
    expect(() => parseModule(other, 'm.mlir')).toThrow(UnsupportedOpError);
    expect(() => parseModule(other, 'm.mlir')).toThrow(/^m\.mlir:3:12: stablehlo\.custom_call @lapack_sgeev_ffi is not supported/);
    const complex = potrf(good).replace('lapack_spotrf_ffi', 'lapack_cpotrf_ffi');
    expect(() => parseModule(complex, 'm.mlir')).toThrow(/@lapack_cpotrf_ffi: complex<f32> linear algebra is not supported/);
  });

  it('stablehlo.triangular_solve and stablehlo.cholesky parse, verify and print', () => {
    const text = read('triangular_solve.gpu.mlir');
    const m = parseModule(text);
    verifyModule(m);
    const printed = printModule(m);
    expect(printed).toContain('"stablehlo.triangular_solve"(%arg0, %arg1) <{left_side = true, lower = true, transpose_a = #stablehlo<transpose NO_TRANSPOSE>, unit_diagonal = false}> : (tensor<4x4xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>');
    const chol = `module {
  func.func public @main(%arg0: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
    %0 = stablehlo.cholesky %arg0, lower = true : tensor<2x3x3xf32>
    return %0 : tensor<2x3x3xf32>
  }
}
`;
    const cm = parseModule(chol);
    verifyModule(cm);
    expect(printModule(cm)).toBe(chol);
    const wrong = chol.replace('%0 = stablehlo.cholesky %arg0, lower = true : tensor<2x3x3xf32>', '%0 = stablehlo.cholesky %arg0, lower = true : (tensor<2x3x3xf32>) -> tensor<2x3x3xi32>')
      .replace(/-> tensor<2x3x3xf32>|return %0 : tensor<2x3x3xf32>/g, (s) => s.replace('f32', 'i32'));
    expect(() => verifyModule(parseModule(wrong))).toThrow(VerifyError);
  });
});
