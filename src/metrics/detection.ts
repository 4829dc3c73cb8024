// COCO-style mean average precision of box detections, as pycocotools computes it for
// bounding boxes over the 'all' area range: per image and class, detections sorted by score
// (ties keep input order) and cut to `maxDetections`, matched greedily to the unmatched ground
// truth box of highest IoU >= the threshold; per class, precision over the detections of all
// images sorted by score, made monotone (the precision envelope), read at 101 recall points
// (0, 0.01, ..., 1) and averaged. A class with no ground truth box is left out of the means.
// Not covered: crowd annotations and area ranges (small / medium / large).

/** Boxes as [x1, y1, x2, y2] rows, flattened: box i is boxes[4i .. 4i+3]. */
export interface GroundTruth {
  boxes: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface Detections extends GroundTruth {
  scores: ArrayLike<number>;
}

export interface MeanAveragePrecisionOptions {
  /** IoU thresholds; default 0.50:0.05:0.95 (ten, as COCO). */
  iouThresholds?: readonly number[];
  /** Detections kept per image and class, highest scores first; default 100. */
  maxDetections?: number;
}

export interface MeanAveragePrecision {
  /** Mean over IoU thresholds, recall points and classes with ground truth (COCO's AP). */
  map: number;
  /** AP at IoU 0.5 (NaN when 0.5 is not among the thresholds). */
  map50: number;
  /** AP at IoU 0.75 (NaN when 0.75 is not among the thresholds). */
  map75: number;
  /** Per class index: AP over all thresholds, and at 0.5; NaN for a class without ground truth. */
  perClass: { map: number; map50: number }[];
  /** [thresholds][classes] AP, -1 for a class without ground truth (pycocotools' convention). */
  precisionByThreshold: number[][];
  iouThresholds: number[];
}

const KEYS = new Set(['iouThresholds', 'maxDetections']);

/** numpy.linspace(start, stop, n) to the last bit: i * step + start, the last point exactly stop. */
function linspace(start: number, stop: number, n: number): number[] {
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : i * step + start));
}

export const COCO_IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
const RECALL_POINTS = linspace(0, 1, 101);

/** IoU of two xyxy boxes, as pycocotools computes it for boxes (no +1 on widths). */
function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j]);
  const h = Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const areaA = (a[4 * i + 2] - a[4 * i]) * (a[4 * i + 3] - a[4 * i + 1]);
  const areaB = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
  return inter / (areaA + areaB - inter);
}

function checkImage(what: string, img: number, r: GroundTruth, scores?: ArrayLike<number>): number {
  const n = r.labels.length;
  if (r.boxes.length !== 4 * n) throw new Error(`meanAveragePrecision: ${what}[${img}] has ${n} labels but ${r.boxes.length} box coordinates (expected ${4 * n})`);
  if (scores && scores.length !== n) throw new Error(`meanAveragePrecision: ${what}[${img}] has ${n} labels but ${scores.length} scores`);
  for (let i = 0; i < n; i++) {
    const l = r.labels[i];
    if (!Number.isInteger(l) || l < 0) throw new Error(`meanAveragePrecision: ${what}[${img}] label ${i} is ${l}, not a class index`);
    if (scores && Number.isNaN(scores[i])) throw new Error(`meanAveragePrecision: ${what}[${img}] score ${i} is NaN`);
  }
  for (let k = 0; k < r.boxes.length; k++) {
    if (!Number.isFinite(r.boxes[k])) throw new Error(`meanAveragePrecision: ${what}[${img}] box coordinate ${k} is ${r.boxes[k]}`);
  }
  return n;
}

/** Indices of `count` items sorted by descending key; equal keys keep their order (a stable sort, like mergesort). */
function byDescendingScore(keys: ArrayLike<number>, items: number[]): number[] {
  return items.map((v, i) => [v, i]).sort((x, y) => keys[y[0]] - keys[x[0]] || x[1] - y[1]).map(([v]) => v);
}

/** COCO mAP of `detections` against `groundTruth`, one entry per image in both lists. */
export function meanAveragePrecision(detections: readonly Detections[], groundTruth: readonly GroundTruth[],
  opts: MeanAveragePrecisionOptions = {}): MeanAveragePrecision {
  for (const k of Object.keys(opts)) if (!KEYS.has(k)) throw new Error(`meanAveragePrecision: unknown option '${k}' (known: ${[...KEYS].join(', ')})`);
  if (detections.length !== groundTruth.length) {
    throw new Error(`meanAveragePrecision: ${detections.length} images of detections but ${groundTruth.length} of ground truth`);
  }
  const thresholds = [...(opts.iouThresholds ?? COCO_IOU_THRESHOLDS)];
  if (!thresholds.length || thresholds.some((t) => !(t >= 0 && t <= 1))) throw new Error(`meanAveragePrecision: iouThresholds must be numbers in [0, 1], got [${thresholds}]`);
  const maxDet = opts.maxDetections ?? 100;
  if (!Number.isInteger(maxDet) || maxDet < 1) throw new Error(`meanAveragePrecision: maxDetections must be a positive integer, got ${maxDet}`);

  let numClasses = 0;
  detections.forEach((d, img) => { checkImage('detections', img, d, d.scores); for (let i = 0; i < d.labels.length; i++) numClasses = Math.max(numClasses, d.labels[i] + 1); });
  groundTruth.forEach((g, img) => { checkImage('groundTruth', img, g); for (let i = 0; i < g.labels.length; i++) numClasses = Math.max(numClasses, g.labels[i] + 1); });

  const T = thresholds.length;
  // Per class: every kept detection's score and, per threshold, whether it matched; and the ground truth count.
  const scores: number[][] = Array.from({ length: numClasses }, () => []);
  const matched: boolean[][][] = Array.from({ length: numClasses }, () => Array.from({ length: T }, () => []));
  const positives = new Array<number>(numClasses).fill(0);

  for (let img = 0; img < detections.length; img++) {
    const det = detections[img], gt = groundTruth[img];
    for (let c = 0; c < numClasses; c++) {
      const gts: number[] = [];
      for (let i = 0; i < gt.labels.length; i++) if (gt.labels[i] === c) gts.push(i);
      const all: number[] = [];
      for (let i = 0; i < det.labels.length; i++) if (det.labels[i] === c) all.push(i);
      const dts = byDescendingScore(det.scores, all).slice(0, maxDet);
      positives[c] += gts.length;
      for (const d of dts) scores[c].push(det.scores[d]);
      thresholds.forEach((t, ti) => {
        const taken = new Array<boolean>(gts.length).fill(false);
        for (const d of dts) {
          let best = Math.min(t, 1 - 1e-10), m = -1;
          gts.forEach((g, gi) => {
            if (taken[gi]) return;
            const v = iou(det.boxes, d, gt.boxes, g);
            if (v < best) return;
            best = v; m = gi; // a later box of equal IoU wins, as in pycocotools
          });
          if (m >= 0) taken[m] = true;
          matched[c][ti].push(m >= 0);
        }
      });
    }
  }

  const precisionByThreshold = thresholds.map(() => new Array<number>(numClasses).fill(-1));
  for (let c = 0; c < numClasses; c++) {
    if (positives[c] === 0) continue;
    const order = byDescendingScore(scores[c], scores[c].map((_, i) => i));
    for (let ti = 0; ti < T; ti++) {
      const n = order.length;
      const recall = new Float64Array(n), precision = new Float64Array(n);
      let tp = 0, fp = 0;
      order.forEach((d, k) => {
        if (matched[c][ti][d]) tp++; else fp++;
        recall[k] = tp / positives[c];
        precision[k] = tp / (tp + fp + Number.EPSILON);
      });
      for (let k = n - 1; k > 0; k--) if (precision[k] > precision[k - 1]) precision[k - 1] = precision[k];
      // For each recall point, the precision at the first detection whose recall reaches it (0 if none does).
      let sum = 0, k = 0;
      for (const r of RECALL_POINTS) {
        while (k < n && recall[k] < r) k++;
        if (k === n) break;
        sum += precision[k];
      }
      precisionByThreshold[ti][c] = sum / RECALL_POINTS.length;
    }
  }

  const meanOf = (values: number[]) => {
    const kept = values.filter((v) => v > -1);
    return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : NaN;
  };
  const at = (t: number) => {
    const ti = thresholds.findIndex((x) => Math.abs(x - t) < 1e-9);
    return ti < 0 ? NaN : meanOf(precisionByThreshold[ti]);
  };
  const i50 = thresholds.findIndex((x) => Math.abs(x - 0.5) < 1e-9);
  const perClass = Array.from({ length: numClasses }, (_, c) => ({
    map: positives[c] ? meanOf(precisionByThreshold.map((row) => row[c])) : NaN,
    map50: positives[c] && i50 >= 0 ? precisionByThreshold[i50][c] : NaN,
  }));
  return { map: meanOf(precisionByThreshold.flat()), map50: at(0.5), map75: at(0.75), perClass, precisionByThreshold, iouThresholds: thresholds };
}
