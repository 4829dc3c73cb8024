// Everything of the public API that runs anywhere (Node or browser). The
// entry points add the backends that their platform has: index.ts for Node,
// browser.ts for web pages.
import './methods.js';

export { Tensor, scope, memory } from './tensor.js';
export type { NestedArray } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { setBackend, getBackend, listBackends, registerBackend, initBackend } from './backend/registry.js';
export type { Backend, DType, Activation } from './backend/interface.js';
export { ReferenceBackend } from './backend/reference/index.js';
export { Rng, manualSeed } from './rng.js';
export {
  tensor, fromArray, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, randint,
} from './ops/creation.js';
export {
  neg, exp, log, log1p, sqrt, rsqrt, abs, sign, floor, tanh, sigmoid, relu, leakyRelu, elu, gelu, softplus, sin, cos,
  square, reciprocal, add, sub, mul, div, pow, minimum, maximum, eq, ne, lt, le, gt, ge, where, clamp, cast, contiguous, clone,
  silu, mish, hardswish, logSigmoid, erf, atan, ceil, round, trunc, lgamma, digamma, trigamma, isnan, isinf, isfinite, nanToNum,
  remainder, floorDivide, atan2,
} from './ops/elementwise.js';
export type { Operand, NanToNumOptions } from './ops/elementwise.js';
export { sum, mean, max, min, prod, argmax, argmin, variance, variance as var_, std, logsumexp } from './ops/reduce.js';
export { reshape, permute, transpose, slice, select, expand, squeeze, unsqueeze, flatten, detach } from './ops/view.js';
export { matmul, linear } from './ops/matmul.js';
export type { LinearOptions, MatmulOptions } from './ops/matmul.js';
export { gather, indexSelect, scatterAdd, maskedFill, oneHot, nonzero, nonzeroAsync } from './ops/indexing.js';
export { concat, stack, split, chunk, pad } from './ops/combine.js';
export type { PadMode, PadOptions } from './ops/combine.js';
export { softmax, logSoftmax, dropout } from './ops/softmax.js';
export { crossEntropy, nll, mse, bceWithLogits, huber, l1, smoothL1, klDiv, bce, marginRanking, cosineEmbedding } from './ops/loss.js';
export { norm, normalize, cosineSimilarity } from './ops/norms.js';
export type { NormOptions } from './ops/norms.js';
export type { Reduction, CrossEntropyOptions, NllOptions } from './ops/loss.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as distributions from './distributions/index.js';
// Signature kernels: sparse graph ops, CMD, convolution, pooling, batch norm.
export { Csr, spmm, sddmm, edgeSoftmax } from './sparse/index.js';
export type { BuildOptions as CsrBuildOptions, IdArray, ValuesInput } from './sparse/index.js';
export { cmd, centralMoments } from './ops/cmd.js';
export type { CmdOptions } from './ops/cmd.js';
export { conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d } from './ops/conv.js';
export type { ConvOptions, ConvTransposeOptions, SpatialArg } from './ops/conv.js';
export { interpolate } from './ops/resize.js';
export type { InterpolateMode, InterpolateOptions } from './ops/resize.js';
export {
  maxPool1d, maxPool2d, maxPool3d, avgPool1d, avgPool2d, avgPool3d, adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d,
  adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d,
} from './ops/pool.js';
export type { PoolOptions, MaxPoolOptions, AvgPoolOptions } from './ops/pool.js';
export { batchNorm } from './ops/batchnorm.js';
export type { BatchNormOptions } from './ops/batchnorm.js';
export * as vision from './vision/index.js';
export { cumsum, cumprod } from './ops/scan.js';
export { sort, argsort, topk, maxWithIndices, minWithIndices, unique, uniqueAsync } from './ops/sort.js';
export type { SortOptions, TopkOptions, UniqueOptions, UniqueResult } from './ops/sort.js';
export { flip, roll, repeat, tile, tril, triu, diag, outer } from './ops/arrange.js';
export { einsum } from './ops/einsum.js';
export { lstmLayer } from './ops/lstm.js';
export type { LstmLayerOptions, LstmLayerResult, LstmLayerWeights } from './ops/lstm.js';
export { adamUpdate, sgdUpdate } from './ops/optim.js';
export type { AdamUpdateOptions, SgdUpdateOptions } from './ops/optim.js';
