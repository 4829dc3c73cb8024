export { Normal, StudentT, Gamma, NegativeBinomial, normalOutput, studentTOutput, negativeBinomialOutput, distributionOutput, distributionOutputs } from './distributions.js';
export type { Distribution, DistributionOutput, SampleOptions } from './distributions.js';
export { lgamma, digamma, lgammaHost } from './special.js';
export { gammaHost, poissonHost, studentTHost } from './samplers.js';
