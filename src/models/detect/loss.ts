// Detector loss (FCOS): classification over every location (BCE, or sigmoid focal loss by option)
// normalised by the number of positives (or, with task-aligned targets, the sum of the soft class
// targets, as YOLOv8); GIoU (or CIoU) loss of the decoded boxes on positives, weighted by their
// centerness target (or alignment); BCE of the centerness logit on positives.
import * as T from '../../index.js';
import type { HeadOutput } from './model.js';

type Tensor = T.Tensor;

export interface BatchTargets {
  cls: Tensor;        // [N, A, C]
  box: Tensor;        // [N, A, 4] xyxy
  centerness: Tensor; // [N, A]
  positive: Tensor;   // [N, A] 0/1
  numPositive: number;
  /** [N, A] weights of the box loss (default: the centerness target). */
  boxWeight?: Tensor;
  /** Divides the class loss (default: the number of positives, at least 1). */
  clsNormalizer?: number;
}

export type ClassLoss = 'bce' | 'focal';
export type BoxLoss = 'giou' | 'ciou';

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

export function detectionLoss(out: HeadOutput, targets: BatchTargets, points: Tensor, classLoss: ClassLoss = 'bce', boxLoss: BoxLoss = 'giou'): LossParts {
  if (boxLoss !== 'giou' && boxLoss !== 'ciou') throw new Error(`detectionLoss: boxLoss must be 'giou' or 'ciou', got '${String(boxLoss)}'`);
  const norm = Math.max(1, targets.numPositive);
  const clsSum = classLoss === 'focal' ? focalLoss(out.cls, targets.cls) : T.bceWithLogits(out.cls, targets.cls, { reduction: 'sum' });
  const cls = T.div(clsSum, Math.max(1, targets.clsNormalizer ?? norm));
  const boxLossOf = boxLoss === 'ciou' ? T.vision.completeBoxIouLoss : T.vision.generalizedBoxIouLoss;
  const perLocation = boxLossOf(decodeBoxes(points, out.box), targets.box);
  const boxWeight = targets.boxWeight ?? targets.centerness;
  const box = T.div(T.sum(T.mul(perLocation, boxWeight)), T.maximum(T.sum(boxWeight), 1e-6));
  const ctr = T.div(T.sum(T.mul(T.bceWithLogits(out.centerness, targets.centerness, { reduction: 'none' }), targets.positive)), norm);
  return { total: T.add(T.add(cls, box), ctr), cls, box, centerness: ctr };
}
