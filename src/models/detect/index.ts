// The detector: model, targets, loss, inference and training (`tessera detect`).
export { Detector, ConvBnSilu, locations, STRIDES, checkDetectorConfig, type DetectorConfig, type HeadOutput } from './model.js';
export { assignTargets, assignTaskAligned, type ImageTargets, type TaskAlignedOptions } from './targets.js';
export { detectionLoss, decodeBoxes, type BatchTargets, type ClassLoss, type BoxLoss, type LossParts } from './loss.js';
export { detect, type Detection, type DetectOptions } from './detect.js';
export { trainDetector, evaluateDetector, type TrainOptions, type TrainResult, type EvalResult } from './train.js';
