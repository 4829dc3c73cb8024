// The gamma-family functions the distributions use: lgamma and digamma are elementwise ops (kernels on
// every backend, with gradients); lgammaHost is the float64 host version for samplers and checks.
export { lgamma, digamma } from '../ops/elementwise.js';
export { lgamma as lgammaHost } from '../backend/reference/special.js';
