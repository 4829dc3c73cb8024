// Host-side graph algorithms on typed arrays (SR-GNN preprocessing).
export {
  addSelfLoops, connectedComponents, csrFromEdges, degrees, gcnNormalize, symmetricNormalize,
  toDense, validateCsr, validateSymmetric,
  type CsrGraph, type FloatArray, type FloatDType,
} from './csr.js';
export { exactPpr, pushPpr, type ExactPprOptions, type SparseVector } from './ppr.js';
export {
  sampleBiasedPpr, sampleBiasedPush, sampleIid, SRGNN_CANDIDATE_POOL,
  type CandidatePool, type PushSamplerOptions, type SamplerOptions,
} from './samplers.js';
export { kmmProblem, kmmWeights, type KmmInput, type KmmOptions, type KmmResult } from './kmm.js';
export { denseCholesky, denseCholeskySolve, spdInverseInto, type SpdInverseOptions } from './cholesky.js';
