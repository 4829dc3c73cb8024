// torchvision.ops-like utilities: box formats, IoU family and box losses (non-maximum suppression joins them).
export { boxConvert, boxArea, boxIou, generalizedBoxIou, generalizedBoxIouLoss, distanceBoxIouLoss, clipBoxes } from './boxes.js';
export type { BoxFormat, BoxReduction, BoxLossOptions } from './boxes.js';
