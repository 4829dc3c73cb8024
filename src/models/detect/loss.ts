// Detector loss (FCOS): classification over every location (BCE, or sigmoid focal loss by option)
// normalised by the number of positives; GIoU loss of the decoded boxes on positives, weighted by
// their centerness target; BCE of the centerness logit on positives.
import * as T from '../../index.js';
import type { HeadOutput } from './model.js';

type Tensor = T.Tensor;

export interface BatchTargets {
  cls: Tensor;        // [N, A, C]
  box: Tensor;        // [N, A, 4] xyxy
  centerness: Tensor; // [N, A]
  positive: Tensor;   // [N, A] 0/1
  numPositive: number;
}

export type ClassLoss = 'bce' | 'focal';

export interface LossParts { total: Tensor; cls: Tensor; box: Tensor; centerness: Tensor }

/** Boxes xyxy from location centres [A, 2] and distances [N, A, 4] (left, top, right, bottom). */
export function decodeBoxes(points: Tensor, distances: Tensor): Tensor {
  const px = T.select(points, 1, 0), py = T.select(points, 1, 1);
  const d = (i: number) => T.select(distances, -1, i);
  return T.stack([T.sub(px, d(0)), T.sub(py, d(1)), T.add(px, d(2)), T.add(py, d(3))], -1);
}

/** torchvision.ops.sigmoid_focal_loss with alpha 0.25, gamma 2, summed. */
function focalLoss(logits: Tensor, target: Tensor): Tensor {
  const p = T.sigmoid(logits);
  const ce = T.bceWithLogits(logits, target, { reduction: 'none' });
  const pt = T.add(T.mul(p, target), T.mul(T.sub(1, p), T.sub(1, target)));
  const alpha = T.add(T.mul(target, 0.25), T.mul(T.sub(1, target), 0.75));
  return T.sum(T.mul(T.mul(ce, T.square(T.sub(1, pt))), alpha));
}

export function detectionLoss(out: HeadOutput, targets: BatchTargets, points: Tensor, classLoss: ClassLoss = 'bce'): LossParts {
  const norm = Math.max(1, targets.numPositive);
  const clsSum = classLoss === 'focal' ? focalLoss(out.cls, targets.cls) : T.bceWithLogits(out.cls, targets.cls, { reduction: 'sum' });
  const cls = T.div(clsSum, norm);
  const giou = T.vision.generalizedBoxIouLoss(decodeBoxes(points, out.box), targets.box);
  const weight = T.sum(targets.centerness);
  const box = T.div(T.sum(T.mul(giou, targets.centerness)), T.maximum(weight, 1e-6));
  const ctr = T.div(T.sum(T.mul(T.bceWithLogits(out.centerness, targets.centerness, { reduction: 'none' }), targets.positive)), norm);
  return { total: T.add(T.add(cls, box), ctr), cls, box, centerness: ctr };
}
