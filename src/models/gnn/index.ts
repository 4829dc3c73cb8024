// tessera-tensor/models/gnn: GNN node classifiers and Shift-Robust GNN training
// (SR-GNN, NeurIPS 2021) with its preprocessing: PPR, the training-set
// samplers, KMM instance weights and the QP solver they use. Built on the
// public API only (src/index.ts); graphs are the library's Csr.
export { loadGraphFolder, csbmGraph, prepareGraph, labelledNodesExcept, undirectedAdjacency } from './data.js';
export type { NodeGraph, NodeFeatures, GraphInputs, PrepareOptions } from './data.js';
export { NodeLinear } from './layers.js';
export type { GnnModel, GnnOutput, GnnOptions, ActivationName } from './layers.js';
export { Gcn, type GcnOptions } from './gcn.js';
export { Gat, GatConv, type GatOptions } from './gat.js';
export { Sgc, type SgcOptions } from './sgc.js';
export { Appnp, type AppnpOptions } from './appnp.js';
export { Dgi, type DgiPretrainOptions } from './dgi.js';
export { trainNodeClassifier, evaluateNodeClassifier, cmdBetween } from './train.js';
export type { TrainOptions, CmdRegularizer, Evaluation } from './train.js';
export {
  SrGnnExperiment, parseModel, modelLabel, createModel, defaultPool, repeatGenerators, summarize,
  BASE_MODELS, MODEL_NAMES, defaultTestSet, testNodes, TEST_SETS,
} from './srgnn.js';
export type { BaseModel, ModelName, ModelSpec, SrTerms, SrGnnConfig, RunResult, Summary, TestSet } from './srgnn.js';
export { exactPpr, pushPpr, type ExactPprOptions, type SparseVector } from './ppr.js';
export {
  sampleBiasedPpr, sampleBiasedPush, sampleIid, SRGNN_CANDIDATE_POOL,
  type CandidatePool, type PushSamplerOptions, type SamplerOptions,
} from './samplers.js';
export { kmmProblem, kmmWeights, type KmmInput, type KmmOptions, type KmmResult } from './kmm.js';
export { solveQp, type QpProblem, type QpOptions, type QpSolution } from './qp.js';
export { denseCholesky, denseCholeskySolve, type SpdInverseOptions } from './cholesky.js';
