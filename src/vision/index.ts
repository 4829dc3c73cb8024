// torchvision.ops-like utilities: box formats, the IoU family, box losses and non-maximum suppression.
export { boxConvert, boxArea, boxIou, generalizedBoxIou, generalizedBoxIouLoss, distanceBoxIouLoss, completeBoxIouLoss,
  clipBoxes } from './boxes.js';
export type { BoxFormat, BoxReduction, BoxLossOptions } from './boxes.js';
export { batchedNms, batchedNmsSync, nms } from './nms.js';
