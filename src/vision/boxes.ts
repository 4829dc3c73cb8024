// Box utilities with torchvision.ops' semantics, composed of differentiable ops (so they run and
// have gradients on every backend). Boxes are [..., 4]; 'xyxy' is [x1, y1, x2, y2] with x2 >= x1.
import type { Tensor } from '../tensor.js';
import { add, atan, clamp, div, maximum, minimum, mul, relu, square, sub } from '../ops/elementwise.js';
import { detach, select, unsqueeze } from '../ops/view.js';
import { stack } from '../ops/combine.js';
import { mean, sum } from '../ops/reduce.js';

export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';
export type BoxReduction = 'none' | 'mean' | 'sum';

function coords(op: string, boxes: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  if (boxes.ndim < 1 || boxes.shape[boxes.ndim - 1] !== 4) {
    throw new Error(`${op}: boxes must have a last axis of 4, got [${boxes.shape.join(', ')}] (${boxes.dtype}, ${boxes.backend.name})`);
  }
  if (boxes.dtype !== 'float32') throw new Error(`${op}: boxes must be float32, got ${boxes.dtype} [${boxes.shape.join(', ')}] (${boxes.backend.name})`);
  return [0, 1, 2, 3].map((i) => select(boxes, -1, i)) as [Tensor, Tensor, Tensor, Tensor];
}

const FORMATS: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];

/** torchvision.ops.box_convert. */
export function boxConvert(boxes: Tensor, inFmt: BoxFormat, outFmt: BoxFormat): Tensor {
  for (const f of [inFmt, outFmt]) if (!FORMATS.includes(f)) throw new Error(`boxConvert: unknown format '${f}' (known: ${FORMATS.join(', ')})`);
  const [a, b, c, d] = coords('boxConvert', boxes);
  let x1 = a, y1 = b, x2 = c, y2 = d;
  if (inFmt === 'xywh') { x2 = add(a, c); y2 = add(b, d); }
  if (inFmt === 'cxcywh') { x1 = sub(a, mul(c, 0.5)); y1 = sub(b, mul(d, 0.5)); x2 = add(a, mul(c, 0.5)); y2 = add(b, mul(d, 0.5)); }
  if (outFmt === 'xyxy') return stack([x1, y1, x2, y2], -1);
  const w = sub(x2, x1), h = sub(y2, y1);
  if (outFmt === 'xywh') return stack([x1, y1, w, h], -1);
  return stack([mul(add(x1, x2), 0.5), mul(add(y1, y2), 0.5), w, h], -1);
}

/** Area of xyxy boxes: [..., 4] -> [...]. */
export function boxArea(boxes: Tensor): Tensor {
  const [x1, y1, x2, y2] = coords('boxArea', boxes);
  return mul(sub(x2, x1), sub(y2, y1));
}

interface Overlap { inter: Tensor; union: Tensor; enclosing: [Tensor, Tensor, Tensor, Tensor]; a: Tensor[]; b: Tensor[] }

/** Intersection, union and the smallest enclosing box of broadcast-matched xyxy boxes. */
function overlap(op: string, boxesA: Tensor, boxesB: Tensor): Overlap {
  const a = coords(op, boxesA), b = coords(op, boxesB);
  const w = relu(sub(minimum(a[2], b[2]), maximum(a[0], b[0])));
  const h = relu(sub(minimum(a[3], b[3]), maximum(a[1], b[1])));
  const inter = mul(w, h);
  const areaA = mul(sub(a[2], a[0]), sub(a[3], a[1])), areaB = mul(sub(b[2], b[0]), sub(b[3], b[1]));
  const union = sub(add(areaA, areaB), inter);
  const enclosing: [Tensor, Tensor, Tensor, Tensor] = [minimum(a[0], b[0]), minimum(a[1], b[1]), maximum(a[2], b[2]), maximum(a[3], b[3])];
  return { inter, union, enclosing, a, b };
}

function pairwise(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.ndim !== 2 || b.ndim !== 2 || a.shape[1] !== 4 || b.shape[1] !== 4) throw new Error(`${op}: expects boxes [N, 4] and [M, 4], got [${a.shape.join(', ')}] and [${b.shape.join(', ')}] (${a.backend.name})`);
  return [unsqueeze(a, 1), unsqueeze(b, 0)];
}

/** torchvision.ops.box_iou: [N, 4] x [M, 4] xyxy -> [N, M] IoU. */
export function boxIou(a: Tensor, b: Tensor): Tensor {
  const { inter, union } = overlap('boxIou', ...pairwise('boxIou', a, b));
  return div(inter, union);
}

/** torchvision.ops.generalized_box_iou: [N, 4] x [M, 4] xyxy -> [N, M] GIoU in [-1, 1]. */
export function generalizedBoxIou(a: Tensor, b: Tensor): Tensor {
  const { inter, union, enclosing: [x1, y1, x2, y2] } = overlap('generalizedBoxIou', ...pairwise('generalizedBoxIou', a, b));
  const hull = mul(sub(x2, x1), sub(y2, y1));
  return sub(div(inter, union), div(sub(hull, union), hull));
}

export interface BoxLossOptions {
  reduction?: BoxReduction;
  /** Added to denominators, as torchvision's eps (default 1e-7). */
  eps?: number;
}

function lossOptions(op: string, opts: BoxLossOptions): { reduction: BoxReduction; eps: number } {
  for (const k of Object.keys(opts)) if (k !== 'reduction' && k !== 'eps') throw new Error(`${op}: unknown option '${k}' (known: reduction, eps)`);
  const reduction = opts.reduction ?? 'none';
  if (!['none', 'mean', 'sum'].includes(reduction)) throw new Error(`${op}: reduction must be 'none', 'mean' or 'sum', got '${reduction}'`);
  return { reduction, eps: opts.eps ?? 1e-7 };
}

function reduce(x: Tensor, reduction: BoxReduction): Tensor {
  return reduction === 'mean' ? mean(x) : reduction === 'sum' ? sum(x) : x;
}

function matched(op: string, a: Tensor, b: Tensor): void {
  if (a.ndim !== b.ndim || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new Error(`${op}: predicted and target boxes must have the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}] (${a.backend.name})`);
  }
}

/** torchvision.ops.generalized_box_iou_loss: 1 - GIoU of matched xyxy boxes [..., 4]. */
export function generalizedBoxIouLoss(pred: Tensor, target: Tensor, opts: BoxLossOptions = {}): Tensor {
  const op = 'generalizedBoxIouLoss';
  const { reduction, eps } = lossOptions(op, opts);
  matched(op, pred, target);
  const { inter, union, enclosing: [x1, y1, x2, y2] } = overlap(op, pred, target);
  const iou = div(inter, add(union, eps));
  const hull = mul(sub(x2, x1), sub(y2, y1));
  return reduce(sub(1, sub(iou, div(sub(hull, union), add(hull, eps)))), reduction);
}

/** 1 - IoU + (centre distance / enclosing diagonal)^2 of matched boxes, and the IoU (torchvision's _diou_iou_loss). */
function distanceIouParts(op: string, pred: Tensor, target: Tensor, eps: number): { loss: Tensor; iou: Tensor; a: Tensor[]; b: Tensor[] } {
  matched(op, pred, target);
  const { inter, union, enclosing: [x1, y1, x2, y2], a, b } = overlap(op, pred, target);
  const iou = div(inter, add(union, eps));
  const diagonal = add(add(mul(sub(x2, x1), sub(x2, x1)), mul(sub(y2, y1), sub(y2, y1))), eps);
  // Centres differ by ((a0 + a2) - (b0 + b2)) / 2 on x, likewise on y.
  const dx = mul(sub(add(a[0], a[2]), add(b[0], b[2])), 0.5), dy = mul(sub(add(a[1], a[3]), add(b[1], b[3])), 0.5);
  const centre = add(mul(dx, dx), mul(dy, dy));
  return { loss: add(sub(1, iou), div(centre, diagonal)), iou, a, b };
}

/** torchvision.ops.distance_box_iou_loss: 1 - IoU + (centre distance / enclosing diagonal)^2. */
export function distanceBoxIouLoss(pred: Tensor, target: Tensor, opts: BoxLossOptions = {}): Tensor {
  const op = 'distanceBoxIouLoss';
  const { reduction, eps } = lossOptions(op, opts);
  return reduce(distanceIouParts(op, pred, target, eps).loss, reduction);
}

/**
 * torchvision.ops.complete_box_iou_loss (CIoU, Zheng et al. 2020; ultralytics' bbox_iou(CIoU=True)): the DIoU loss
 * plus alpha * v, where v = 4 / pi^2 * (atan(w_target / h_target) - atan(w_pred / h_pred))^2 measures how the
 * aspect ratios differ and alpha = v / (1 - IoU + v + eps) is a constant weight (no gradient flows through it,
 * as in both references).
 */
export function completeBoxIouLoss(pred: Tensor, target: Tensor, opts: BoxLossOptions = {}): Tensor {
  const op = 'completeBoxIouLoss';
  const { reduction, eps } = lossOptions(op, opts);
  const { loss, iou, a, b } = distanceIouParts(op, pred, target, eps);
  const aspect = (c: Tensor[]) => atan(div(sub(c[2], c[0]), sub(c[3], c[1])));
  const v = mul(square(sub(aspect(b), aspect(a))), 4 / (Math.PI * Math.PI));
  const alpha = detach(div(v, add(add(sub(1, iou), v), eps)));
  return reduce(add(loss, mul(alpha, v)), reduction);
}

/** Clips xyxy boxes to an image of `height` x `width` (torchvision.ops.clip_boxes_to_image). */
export function clipBoxes(boxes: Tensor, height: number, width: number): Tensor {
  const [x1, y1, x2, y2] = coords('clipBoxes', boxes);
  return stack([clamp(x1, 0, width), clamp(y1, 0, height), clamp(x2, 0, width), clamp(y2, 0, height)], -1);
}
