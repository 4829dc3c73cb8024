// tessera-tensor/models/mup: µP (maximal update parametrization) and µTransfer, after
// microsoft/mup: base shapes, readouts, init, optimizers and attention (reusable
// with any nn.Module), and the experiments: width families, coordinate checks and
// the learning-rate transfer sweep. Built on the public API only (src/index.ts).
export { InfDim, InfShape, BaseShapes, shapesOf, makeBaseShapes, zipInfShapes, attachInfShape, hasInfShape, infShapeOf } from './shapes.js';
export type { ShapeDict } from './shapes.js';
export { MuReadout, MuSharedReadout, muReadout } from './readout.js';
export type { MuReadoutOptions } from './readout.js';
export { setBaseShapes } from './init.js';
export type { SetBaseShapesOptions, MuInitOptions } from './init.js';
export * as init from './init.js';
export { MuSGD, MuAdam, MuAdamW, muFactors, muParamGroups, optimizerFor } from './optim.js';
export type { MuRule, MuOptions, OptimizerKind } from './optim.js';
export { MuMultiHeadAttention, muAttentionScale } from './attention.js';
export type { MuAttentionOptions } from './attention.js';
export {
  Mlp, TransformerLM, familyBaseShapes, classificationTask, mnistTask, gaussianTask, languageTask, taskFor,
} from './models.js';
export type {
  ModelKind, TaskSettings, Parametrization, Tap, WidthModel, MlpConfig, TransformerConfig, Batch, Task, LabelledRows, ClassificationTaskOptions, LanguageTaskOptions,
} from './models.js';
export { grammarCorpus, GRAMMAR_VOCAB } from './grammar.js';
export type { CharCorpus } from './grammar.js';
export { coordCheck, coordCurves, coordSlopes, coordCheckSvg, logLogSlope } from './coordcheck.js';
export type { CoordCheckOptions, CoordRecord, CoordSlope } from './coordcheck.js';
export { trainRun, transferSweep, summarizeTransfer, transferSvg } from './transfer.js';
export type { TrainOptions, RunResult, SweepOptions, TransferSummary, WidthOptimum } from './transfer.js';
export { panelGrid } from './plots.js';
export type { Panel } from './plots.js';
