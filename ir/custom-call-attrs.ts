/**
 * @file The attributes of `stablehlo.custom_call` and `stablehlo.triangular_solve` as kiln holds
 * them: types only, so that the op table (`ir/ops.ts`) can name them without importing the custom
 * calls' shape rules (`ir/custom-calls.ts`), which import the op table's types in turn.
 */
/** `triangular_solve`'s `transpose_a` (ADJOINT is TRANSPOSE on real element types). */
export type TransposeA = 'NO_TRANSPOSE' | 'TRANSPOSE' | 'ADJOINT';

/** A linear-algebra operation a custom call performs, decoded from its attributes. */
export type LinalgCall =
  | { kind: 'potrf'; lower: boolean }
  | { kind: 'getrf' }
  | { kind: 'trsm'; leftSide: boolean; lower: boolean; unitDiagonal: boolean; transposeA: TransposeA }
  | { kind: 'pivotsToPermutation' }
  | { kind: 'geqrf' }
  | { kind: 'orgqr' }
  /** `algorithm`: cuSOLVER's choice (0 default, 1 QR, 2 Jacobi), printed back; 0 for LAPACK. */
  | { kind: 'syevd'; lower: boolean; algorithm: number }
  /**
   * `fullMatrices` is undefined for LAPACK's mode 'N', which does not say (the result types do).
   * `vNotVt`: the fourth result is V (cuSOLVER's gesvdj), not Vᵀ.
   */
  | { kind: 'svd'; computeUv: boolean; fullMatrices?: boolean; vNotVt: boolean };

/** The kinds of {@link LinalgCall}. */
export type LinalgKind = LinalgCall['kind'];

/** `stablehlo.custom_call`'s attributes as kiln holds them. */
export interface CustomCallAttrs {
  /** The call target, as printed after `@`. */
  target: string;
  /** What it computes. */
  call: LinalgCall;
  /** `mhlo.frontend_attributes = {num_batch_dims = "N"}`, when present. */
  numBatchDims?: number;
  /** `operand_layouts` / `result_layouts`: each a minor-to-major dimension order, when present. */
  operandLayouts?: number[][];
  resultLayouts?: number[][];
  /**
   * Every attribute of the dictionary (`backend_config`, `mhlo.backend_config`, layouts, aliases,
   * `sdy.sharding_rule`, ...) as `[name, printed value]`, in order: printed back verbatim.
   */
  text: [string, string][];
}
