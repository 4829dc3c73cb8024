export { accuracy, confusionMatrix, f1PerClass, macroF1, microF1, type ConfusionMatrix } from './classification.js';
export {
  calibrationBins, topLabelCalibration, expectedCalibrationError, classwiseCalibrationError, negativeLogLikelihood,
  type CalibrationBin, type CalibrationResult,
} from './calibration.js';
export { meanAbsolutePercentageError, pinballLoss, weightedQuantileLoss, meanWeightedQuantileLoss } from './regression.js';
export { checkProbabilities } from './check.js';
export { meanAveragePrecision, COCO_IOU_THRESHOLDS, type Detections, type GroundTruth, type MeanAveragePrecision, type MeanAveragePrecisionOptions } from './detection.js';
export * from './forecast.js';
