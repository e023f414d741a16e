/**
 * @file The public `random` namespace: keys, bits, uniform/normal/randint/bernoulli/permutation
 * (client/random.ts), the closed-form distributions (client/random/distributions.ts) and the
 * rejection samplers and what is built on them (client/random/gamma.ts).
 */
export { key, split, foldIn, bits, uniform, normal, bernoulli, randint, permutation, type UniformOptions } from '../random.js';
export {
  gumbel, categorical, choice, exponential, laplace, logistic, cauchy, rademacher, maxwell, doubleSidedMaxwell, pareto,
  weibullMin, rayleigh, lognormal, geometric, triangular, truncatedNormal, multivariateNormal, orthogonal,
} from './distributions.js';
export { gamma, loggamma, beta, dirichlet, chisquare, t, f, generalizedNormal, ball, wald, poisson, binomial, multinomial } from './gamma.js';
