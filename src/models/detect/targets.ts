// FCOS target assignment with centre sampling, on plain arrays (it runs once per image on the
// host while the backend trains). A location is positive for a ground-truth box when it lies
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
    const l = x - x1, t = y - y1, r = x2 - x, b = y2 - y;
    cls[a * numClasses + labels[best]] = 1;
    box.set([x1, y1, x2, y2], 4 * a);
    centerness[a] = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
    positive[a] = 1;
    numPositive++;
  }
  return { cls, box, centerness, positive, numPositive };
}
