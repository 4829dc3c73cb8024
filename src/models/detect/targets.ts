// Target assignment on plain arrays (it runs once per image on the host while the backend trains):
// FCOS centre sampling (assignTargets) and YOLOv8's task-aligned assignment (assignTaskAligned).
//
// Centre sampling: A location is positive for a ground-truth box when it lies
// inside the box and within `radius` strides of the box centre, and the box's largest distance
// from it (max of left, top, right, bottom) falls in the location's level range; among several
// such boxes the smallest wins. Its targets: the class (one-hot), the box, and the centerness
// sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)).
import { STRIDES } from './model.js';

export interface ImageTargets {
  /** [A, numClasses] one-hot on positives, zeros elsewhere. */
  cls: Float32Array;
  /** [A, 4] xyxy box of the assigned object; on negatives a unit box at the location (never used). */
  box: Float32Array;
  /** [A] centerness target on positives, 0 elsewhere. */
  centerness: Float32Array;
  /** [A] 1 on positives. */
  positive: Float32Array;
  numPositive: number;
  /** [A] weight of each location's box loss: the centerness target (centre sampling) or the normalised
   *  alignment (task-aligned); 0 on negatives. */
  boxWeight: Float32Array;
}

/** Level l takes objects whose largest distance is in (4 s_(l-1), 4 s_l]; the last level has no upper bound. */
function levelRange(stride: number): [number, number] {
  const l = STRIDES.indexOf(stride as (typeof STRIDES)[number]);
  return [l === 0 ? 0 : 4 * STRIDES[l - 1], l === STRIDES.length - 1 ? Infinity : 4 * stride];
}

export function assignTargets(points: Float32Array, strides: Float32Array, boxes: ArrayLike<number>, labels: ArrayLike<number>,
  numClasses: number, radius = 1.5): ImageTargets {
  const A = strides.length;
  const cls = new Float32Array(A * numClasses), box = new Float32Array(A * 4);
  const centerness = new Float32Array(A), positive = new Float32Array(A);
  let numPositive = 0;
  for (let a = 0; a < A; a++) {
    const x = points[2 * a], y = points[2 * a + 1], s = strides[a];
    const [lo, hi] = levelRange(s);
    let best = -1, bestArea = Infinity;
    for (let g = 0; g < labels.length; g++) {
      const x1 = boxes[4 * g], y1 = boxes[4 * g + 1], x2 = boxes[4 * g + 2], y2 = boxes[4 * g + 3];
      const l = x - x1, t = y - y1, r = x2 - x, b = y2 - y;
      if (Math.min(l, t, r, b) <= 0) continue;
      const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
      if (Math.abs(x - cx) >= radius * s || Math.abs(y - cy) >= radius * s) continue;
      const far = Math.max(l, t, r, b);
      if (far <= lo || far > hi) continue;
      const area = (x2 - x1) * (y2 - y1);
      if (area < bestArea) { best = g; bestArea = area; }
    }
    if (best < 0) {
      box.set([x - 1, y - 1, x + 1, y + 1], 4 * a);
      continue;
    }
    const x1 = boxes[4 * best], y1 = boxes[4 * best + 1], x2 = boxes[4 * best + 2], y2 = boxes[4 * best + 3];
    cls[a * numClasses + labels[best]] = 1;
    box.set([x1, y1, x2, y2], 4 * a);
    centerness[a] = centernessOf(x, y, boxes, best);
    positive[a] = 1;
    numPositive++;
  }
  return { cls, box, centerness, positive, numPositive, boxWeight: centerness };
}

/** FCOS centerness of location (x, y) inside box g: sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)). */
function centernessOf(x: number, y: number, boxes: ArrayLike<number>, g: number): number {
  const l = x - boxes[4 * g], t = y - boxes[4 * g + 1], r = boxes[4 * g + 2] - x, b = boxes[4 * g + 3] - y;
  return Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
}

function iouOf(boxes: ArrayLike<number>, g: number, pred: ArrayLike<number>, a: number): number {
  const w = Math.max(0, Math.min(boxes[4 * g + 2], pred[4 * a + 2]) - Math.max(boxes[4 * g], pred[4 * a]));
  const h = Math.max(0, Math.min(boxes[4 * g + 3], pred[4 * a + 3]) - Math.max(boxes[4 * g + 1], pred[4 * a + 1]));
  const area = (v: ArrayLike<number>, k: number) => Math.max(0, v[4 * k + 2] - v[4 * k]) * Math.max(0, v[4 * k + 3] - v[4 * k + 1]);
  const union = area(boxes, g) + area(pred, a) - w * h;
  return union > 0 ? (w * h) / union : 0;
}

export interface TaskAlignedOptions {
  /** Candidates per object (default 10). */
  topK?: number;
  /** Exponent of the class score in the alignment metric (default 1). */
  alpha?: number;
  /** Exponent of the IoU in the alignment metric (default 6). */
  beta?: number;
}

/**
 * Task-aligned assignment (TOOD, Feng et al. 2021; YOLOv8's TaskAlignedAssigner) from the model's own
 * predictions: for each object, the locations whose centre lies inside its box are ranked by the alignment
 * metric score^alpha * IoU^beta (score: the predicted probability of the object's class, IoU: of the
 * predicted box with the object's), and the top k become its positives. A location claimed by several
 * objects goes to the one its predicted box overlaps most. The class target of a positive is the
 * alignment metric normalised per object, metric * (the object's best IoU) / (the object's best metric),
 * so every object's best location is asked for a score equal to its best IoU; that value also weights
 * the box loss. scores: [A, numClasses] probabilities; predBoxes: [A, 4] xyxy.
 */
export function assignTaskAligned(points: Float32Array, boxes: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number,
  scores: ArrayLike<number>, predBoxes: ArrayLike<number>, opts: TaskAlignedOptions = {}): ImageTargets {
  for (const k of Object.keys(opts)) if (!['topK', 'alpha', 'beta'].includes(k)) throw new Error(`assignTaskAligned: unknown option '${k}' (known: topK, alpha, beta)`);
  const { topK = 10, alpha = 1, beta = 6 } = opts;
  const A = points.length / 2, G = labels.length;
  if (scores.length !== A * numClasses || predBoxes.length !== A * 4) {
    throw new Error(`assignTaskAligned: expected ${A * numClasses} scores and ${A * 4} box coordinates for ${A} locations, got ${scores.length} and ${predBoxes.length}`);
  }
  const metric = new Float64Array(G * A), iou = new Float64Array(G * A);
  const claimedBy = new Int32Array(A).fill(-1);
  for (let g = 0; g < G; g++) {
    const candidates: number[] = [];
    for (let a = 0; a < A; a++) {
      const x = points[2 * a], y = points[2 * a + 1];
      if (Math.min(x - boxes[4 * g], y - boxes[4 * g + 1], boxes[4 * g + 2] - x, boxes[4 * g + 3] - y) <= 0) continue;
      iou[g * A + a] = iouOf(boxes, g, predBoxes, a);
      metric[g * A + a] = scores[a * numClasses + labels[g]] ** alpha * iou[g * A + a] ** beta;
      candidates.push(a);
    }
    candidates.sort((p, q) => metric[g * A + q] - metric[g * A + p] || p - q);
    for (const a of candidates.slice(0, topK)) {
      const other = claimedBy[a];
      if (other < 0 || iou[g * A + a] > iou[other * A + a]) claimedBy[a] = g;
    }
  }
  // Per object: the best metric and the best IoU among the locations it kept.
  const bestMetric = new Float64Array(G), bestIou = new Float64Array(G);
  for (let a = 0; a < A; a++) {
    const g = claimedBy[a];
    if (g < 0) continue;
    bestMetric[g] = Math.max(bestMetric[g], metric[g * A + a]);
    bestIou[g] = Math.max(bestIou[g], iou[g * A + a]);
  }
  const cls = new Float32Array(A * numClasses), box = new Float32Array(A * 4);
  const centerness = new Float32Array(A), positive = new Float32Array(A), boxWeight = new Float32Array(A);
  let numPositive = 0;
  for (let a = 0; a < A; a++) {
    const g = claimedBy[a], x = points[2 * a], y = points[2 * a + 1];
    if (g < 0) {
      box.set([x - 1, y - 1, x + 1, y + 1], 4 * a);
      continue;
    }
    const score = (metric[g * A + a] * bestIou[g]) / (bestMetric[g] + 1e-9);
    cls[a * numClasses + labels[g]] = score;
    box.set([boxes[4 * g], boxes[4 * g + 1], boxes[4 * g + 2], boxes[4 * g + 3]], 4 * a);
    centerness[a] = centernessOf(x, y, boxes, g);
    positive[a] = 1;
    boxWeight[a] = score;
    numPositive++;
  }
  return { cls, box, centerness, positive, numPositive, boxWeight };
}
