/**
 * @file The public `random` namespace: keys, bits, uniform/normal/randint/bernoulli/permutation
 * (client/random.ts) and the closed-form distributions (client/random/distributions.ts).
 */
export { key, split, foldIn, bits, uniform, normal, bernoulli, randint, permutation, type UniformOptions } from '../random.js';
export {
  gumbel, categorical, choice, exponential, laplace, logistic, cauchy, rademacher, maxwell, doubleSidedMaxwell, pareto,
  weibullMin, rayleigh, lognormal, geometric, triangular, truncatedNormal, multivariateNormal,
} from './distributions.js';
