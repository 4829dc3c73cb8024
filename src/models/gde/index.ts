// tessera-tensor/models/gde: generalization disagreement equality (Jiang et al., ICLR 2022):
// the test-error estimate from the disagreement of independently trained copies,
// its calibration checks, and ready-made experiments (tasks.ts). Built on the
// public API only (src/index.ts).
export {
  checkVary, copySeeds, estimateGde, gdeFromPredictions, classAggregatedCalibrationError, VARY_CHOICES,
  type Vary, type EnsembleKind, type CopySeeds, type GdeModel, type GdeOptions, type GdePair, type GdeCalibration, type GdeReport,
} from './gde.js';
export { gdeTasks, runGdeTask, type GdeTask, type GdeTaskOptions, type PreparedGdeTask, type GdeConfig, type GdeTaskResult, type GdeRunOptions, type GdeConfigResult, withLabelNoise } from './tasks.js';
