// Inference: scores sqrt(sigmoid(class) * sigmoid(centerness)) per location and class (FCOS),
// candidates above a threshold (at most preNmsTopK per image), boxes decoded and clipped, then
// class-aware NMS as one kernel call, keeping the best maxDetections. Returns torchvision's
// detection format per image.
import * as T from '../../index.js';
import { locations, type Detector } from './model.js';
import { decodeBoxes } from './loss.js';

export interface Detection {
  /** [n * 4] xyxy in pixels. */
  boxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
}

export interface DetectOptions {
  scoreThreshold?: number;
  iouThreshold?: number;
  maxDetections?: number;
  preNmsTopK?: number;
}

const KEYS = new Set(['scoreThreshold', 'iouThreshold', 'maxDetections', 'preNmsTopK']);

/** Detections for a batch of images [N, C, H, W] (the model is put in eval mode for the call). */
export function detect(model: Detector, images: T.Tensor, opts: DetectOptions = {}): Promise<Detection[]> {
  // Bad options throw at the call, not in the returned promise.
  for (const k of Object.keys(opts)) if (!KEYS.has(k)) throw new Error(`detect: unknown option '${k}' (known: ${[...KEYS].join(', ')})`);
  return detectBatch(model, images, opts);
}

async function detectBatch(model: Detector, images: T.Tensor, opts: DetectOptions): Promise<Detection[]> {
  const scoreThreshold = opts.scoreThreshold ?? 0.05, iouThreshold = opts.iouThreshold ?? 0.6;
  const maxDetections = opts.maxDetections ?? 100, topK = opts.preNmsTopK ?? 1000;
  const [n, , height, width] = images.shape;
  const wasTraining = model.training;
  model.eval();
  const loc = locations(height, width);
  const { scores, boxes } = T.noGrad(() => T.scope(() => {
    const out = model.forward(images);
    const points = T.tensor(Array.from(loc.points), { backend: images.backend.name }).reshape([loc.count, 2]);
    const s = T.sqrt(T.mul(T.sigmoid(out.cls), T.unsqueeze(T.sigmoid(out.centerness), 2)));
    const b = T.vision.clipBoxes(decodeBoxes(points, out.box), height, width);
    return { scores: s, boxes: b };
  }));
  model.train(wasTraining);
  const [scoreData, boxData] = await Promise.all([scores.data(), boxes.data()]);
  scores.dispose(); boxes.dispose();
  const numClasses = model.config.numClasses, A = loc.count;
  const results: Detection[] = [];
  for (let img = 0; img < n; img++) {
    // Candidates (location, class) above the threshold, best topK.
    const cand: number[] = [];
    const base = img * A * numClasses;
    for (let k = 0; k < A * numClasses; k++) if (scoreData[base + k] > scoreThreshold) cand.push(k);
    cand.sort((a, b) => scoreData[base + b] - scoreData[base + a] || a - b);
    cand.length = Math.min(cand.length, topK);
    const candBoxes = new Float32Array(4 * cand.length), candScores = new Float32Array(cand.length), candLabels = new Int32Array(cand.length);
    cand.forEach((k, i) => {
      const a = Math.floor(k / numClasses);
      candBoxes.set(boxData.subarray((img * A + a) * 4, (img * A + a) * 4 + 4), 4 * i);
      candScores[i] = scoreData[base + k];
      candLabels[i] = k % numClasses;
    });
    const backend = images.backend.name;
    const nmsInputs = [T.fromArray(candBoxes, [cand.length, 4], { backend }), T.tensor(candScores, { backend }),
      T.tensor(candLabels, { backend, dtype: 'int32' })];
    const keep = (await T.vision.batchedNms(nmsInputs[0], nmsInputs[1], nmsInputs[2], iouThreshold)).subarray(0, maxDetections);
    for (const t of nmsInputs) t.dispose();
    results.push({
      boxes: Float32Array.from(Array.from(keep).flatMap((i) => Array.from(candBoxes.subarray(4 * i, 4 * i + 4)))),
      scores: Float32Array.from(keep, (i) => candScores[i]),
      labels: Int32Array.from(keep, (i) => candLabels[i]),
    });
  }
  return results;
}
