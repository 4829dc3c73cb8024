export {
  checkVary, copySeeds, estimateGde, gdeFromPredictions, classAggregatedCalibrationError, VARY_CHOICES,
  type Vary, type EnsembleKind, type CopySeeds, type GdeModel, type GdeOptions, type GdePair, type GdeCalibration, type GdeReport,
} from './gde.js';
export { gdeTasks, runGdeTask, type GdeTask, type GdeTaskOptions, type PreparedGdeTask, type GdeConfig, type GdeTaskResult, type GdeRunOptions, type GdeConfigResult, withLabelNoise } from './tasks.js';
