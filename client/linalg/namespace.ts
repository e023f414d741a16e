/**
 * @file The public `np.linalg` namespace (jax.numpy.linalg), as `numpy/index.ts` exports it: the
 * functions of index.ts, and those the QR / eigh / SVD files add.
 */
export {
  cholesky, solve, inv, det, slogdet, matrixPower, multiDot, norm, vectorNorm, matrixNorm, matrixTranspose, diagonal, trace,
  matmul, outer, tensordot, vecdot, cross,
} from './index.js';
export { qr, eigh, eigvalsh, svd, svdvals } from './decompositions.js';
export { pinv, lstsq, matrixRank } from './lstsq.js';
