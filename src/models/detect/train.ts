// Training and evaluation of the detector on a DetectionSet: seeded shuffling, augmentation
// (horizontal flip, scale jitter) on the host, FCOS centre-sampling or task-aligned targets, AdamW with linear warmup and cosine
// decay, optional safetensors checkpoints every epoch (model + optimizer + position) and resume.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../index.js';
import { Detector, locations } from './model.js';
import { assignTargets, assignTaskAligned, type ImageTargets } from './targets.js';
import { decodeBoxes, detectionLoss, type BoxLoss, type ClassLoss } from './loss.js';
import { detect, type Detection, type DetectOptions } from './detect.js';

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  seed?: number;
  /** Horizontal flips (off for digits, whose mirror image is no digit). */
  flip?: boolean;
  /** Scale jitter range (default [0.75, 1.25]); [1, 1] turns it off. */
  scaleJitter?: [number, number];
  classLoss?: ClassLoss;
  /** Box regression loss: 'giou' (default) or 'ciou' (complete IoU). */
  boxLoss?: BoxLoss;
  /** Target assignment: 'center' (FCOS centre sampling, default) or 'tal' (YOLOv8's task-aligned assigner,
   *  which ranks locations by the model's own predictions; it reads them back mid-step, so it needs a backend
   *  with synchronous reads: cpu or reference). */
  assigner?: 'center' | 'tal';
  /** A time budget: the learning rate's cosine decay spans it instead of `epochs`, and training
   *  stops when it is spent (mid-epoch; the model is checkpointed there). */
  timeLimitSeconds?: number;
  /** Stop after this epoch (1-based) while the learning-rate schedule still spans `epochs`: a run
   *  cut in slices, each resumed from the checkpoint, trains exactly like one long run. */
  stopAfterEpoch?: number;
  /** Folder for per-epoch checkpoints; with resume, training continues from the last one there. */
  checkpointDir?: string;
  resume?: boolean;
  onStep?: (info: { epoch: number; step: number; steps: number; loss: number; cls: number; box: number; centerness: number; lr: number }) => void;
}

const TRAIN_KEYS = new Set(['epochs', 'batchSize', 'lr', 'weightDecay', 'warmupSteps', 'seed', 'flip', 'scaleJitter', 'classLoss',
  'boxLoss', 'assigner', 'timeLimitSeconds', 'stopAfterEpoch', 'checkpointDir', 'resume', 'onStep']);

export interface TrainResult {
  epochs: number;
  steps: number;
  seconds: number;
  /** Mean loss per epoch. */
  epochLoss: number[];
}

/** One augmented copy of image `i`: flipped and/or rescaled about the centre, boxes moved to match. */
function augment(data: DetectionSet, i: number, rng: T.Rng, flip: boolean, jitter: [number, number]): { image: Float32Array; boxes: number[]; labels: number[] } {
  const { size, channels } = data;
  const plane = size * size;
  const src = data.images.subarray(i * channels * plane, (i + 1) * channels * plane);
  const mirror = flip && rng.uniform() < 0.5;
  const scale = jitter[0] + (jitter[1] - jitter[0]) * rng.uniform();
  const image = new Float32Array(channels * plane);
  const c0 = size / 2;
  // Nearest-neighbour resample: output pixel (x, y) reads source ((x - c0) / scale + c0, ...).
  for (let y = 0; y < size; y++) {
    const sy = Math.floor((y + 0.5 - c0) / scale + c0);
    if (sy < 0 || sy >= size) continue;
    for (let x = 0; x < size; x++) {
      let sx = Math.floor((x + 0.5 - c0) / scale + c0);
      if (sx < 0 || sx >= size) continue;
      if (mirror) sx = size - 1 - sx;
      for (let c = 0; c < channels; c++) image[c * plane + y * size + x] = src[c * plane + sy * size + sx];
    }
  }
  const boxes: number[] = [], labels: number[] = [];
  const b = data.boxes[i];
  for (let k = 0; k < data.labels[i].length; k++) {
    let x1 = b[4 * k], x2 = b[4 * k + 2];
    if (mirror) [x1, x2] = [size - x2, size - x1];
    const box = [x1, b[4 * k + 1], x2, b[4 * k + 3]].map((v) => Math.min(size, Math.max(0, (v - c0) * scale + c0)));
    if (box[2] - box[0] < 4 || box[3] - box[1] < 4) continue; // mostly cut off
    boxes.push(...box);
    labels.push(data.labels[i][k]);
  }
  return { image, boxes, labels };
}

type DetectionSet = T.data.DetectionSet;

/** The model file holds the epoch reached and the model config in its metadata. */
function checkpointPaths(dir: string) {
  return { model: join(dir, 'model.safetensors'), optimizer: join(dir, 'optimizer.safetensors') };
}

export async function trainDetector(model: Detector, data: DetectionSet, opts: TrainOptions = {}): Promise<TrainResult> {
  for (const k of Object.keys(opts)) if (!TRAIN_KEYS.has(k)) throw new Error(`trainDetector: unknown option '${k}' (known: ${[...TRAIN_KEYS].join(', ')})`);
  if (data.channels !== model.config.inChannels) throw new Error(`trainDetector: the data has ${data.channels} channels, the model expects ${model.config.inChannels}`);
  if (opts.classLoss !== undefined && opts.classLoss !== 'bce' && opts.classLoss !== 'focal') throw new Error(`trainDetector: classLoss must be 'bce' or 'focal', got '${opts.classLoss}'`);
  if (opts.boxLoss !== undefined && opts.boxLoss !== 'giou' && opts.boxLoss !== 'ciou') throw new Error(`trainDetector: boxLoss must be 'giou' or 'ciou', got '${opts.boxLoss}'`);
  const assigner = opts.assigner ?? 'center';
  if (assigner !== 'center' && assigner !== 'tal') throw new Error(`trainDetector: assigner must be 'center' or 'tal', got '${assigner}'`);
  const modelBackend = model.parameters()[0].backend;
  if (assigner === 'tal' && !modelBackend.syncRead) {
    throw new Error(`trainDetector: assigner 'tal' reads the predictions back within the step and needs a backend with synchronous reads (cpu, reference); the model is on ${modelBackend.name}`);
  }
  const epochs = opts.epochs ?? 30, batchSize = opts.batchSize ?? 16, seed = opts.seed ?? 0;
  const jitter = opts.scaleJitter ?? [0.75, 1.25];
  const stepsPerEpoch = Math.ceil(data.count / batchSize);
  const total = epochs * stepsPerEpoch;
  const opt = new T.optim.AdamW(model.parameters(), { lr: opts.lr ?? 2e-3, weightDecay: opts.weightDecay ?? 5e-4 });
  const warmup = Math.min(opts.warmupSteps ?? 100, Math.max(1, total - 1));
  const limit = opts.timeLimitSeconds;
  let started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  // Linear warmup from 5%, then cosine decay to 2% over the remaining steps, or over the time budget.
  const sched = new T.optim.LambdaLR(opt, (step) => {
    if (step < warmup) return 0.05 + (0.95 * step) / warmup;
    const progress = limit !== undefined ? Math.min(1, elapsed() / limit) : Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return 0.02 + 0.98 * (1 + Math.cos(Math.PI * progress)) / 2;
  });
  const backend = model.parameters()[0].backend.name;
  const loc = locations(data.size, data.size);
  const points = T.tensor(Array.from(loc.points), { backend }).reshape([loc.count, 2]).keep();

  let startEpoch = 0;
  const paths = opts.checkpointDir ? checkpointPaths(opts.checkpointDir) : undefined;
  if (paths && opts.resume && existsSync(paths.model)) {
    const meta = await T.loadModule(paths.model, model);
    await T.loadOptimizer(paths.optimizer, opt, { scheduler: sched });
    startEpoch = Number(meta.epoch);
  }
  started = Date.now();
  const epochLoss: number[] = [];
  let steps = 0, epoch = startEpoch;
  model.train();
  for (; epoch < epochs; epoch++) {
    if (limit !== undefined && elapsed() > limit) break;
    if (opts.stopAfterEpoch !== undefined && epoch >= opts.stopAfterEpoch) break;
    const rng = new T.Rng(seed * 1000 + epoch);
    const order = rng.permutation(data.count);
    let sum = 0, done = 0;
    for (let s = 0; s < stepsPerEpoch && !(limit !== undefined && elapsed() > limit); s++) {
      const idx = Array.from(order.subarray(s * batchSize, (s + 1) * batchSize));
      const samples = idx.map((i) => augment(data, i, rng, opts.flip ?? false, jitter));
      const n = samples.length, C = model.config.numClasses;
      const parts = T.scope(() => {
        const images = T.fromArray(concatImages(samples.map((smp) => smp.image)), [n, data.channels, data.size, data.size], { backend });
        opt.zeroGrad();
        const out = model.forward(images);
        let targets: ImageTargets[];
        if (assigner === 'tal') {
          // The predictions of this very forward pass (detached) rank the candidate locations.
          const [scores, predBoxes] = T.noGrad(() => [T.sigmoid(out.cls).dataSync(), decodeBoxes(points, out.box).dataSync()]);
          targets = samples.map((smp, k) => assignTaskAligned(loc.points, smp.boxes, smp.labels, C,
            scores.subarray(k * loc.count * C, (k + 1) * loc.count * C), predBoxes.subarray(k * loc.count * 4, (k + 1) * loc.count * 4)));
        } else {
          targets = samples.map((smp) => assignTargets(loc.points, loc.strides, smp.boxes, smp.labels, C));
        }
        const stackField = (f: 'cls' | 'box' | 'centerness' | 'positive' | 'boxWeight', shape: number[]) => {
          const flat = new Float32Array(targets.length * targets[0][f].length);
          targets.forEach((t, k) => flat.set(t[f], k * t[f].length));
          return T.fromArray(flat, shape, { backend });
        };
        const batch = {
          cls: stackField('cls', [n, loc.count, C]), box: stackField('box', [n, loc.count, 4]),
          centerness: stackField('centerness', [n, loc.count]), positive: stackField('positive', [n, loc.count]),
          boxWeight: stackField('boxWeight', [n, loc.count]),
          numPositive: targets.reduce((a, t) => a + t.numPositive, 0),
          // YOLOv8 divides the class loss by the sum of the soft targets; centre sampling by the positives.
          clsNormalizer: assigner === 'tal' ? targets.reduce((a, t) => a + t.boxWeight.reduce((u, v) => u + v, 0), 0) : undefined,
        };
        const loss = detectionLoss(out, batch, points, opts.classLoss ?? 'bce', opts.boxLoss ?? 'giou');
        loss.total.backward();
        opt.step();
        sched.step();
        return [loss.total, loss.cls, loss.box, loss.centerness];
      });
      // Read back asynchronously: GPU backends have no synchronous read.
      const values = await Promise.all(parts.map(async (t) => { const v = (await t.data())[0]; t.dispose(); return v; }));
      sum += values[0];
      steps++;
      done++;
      opts.onStep?.({ epoch, step: s, steps: stepsPerEpoch, loss: values[0], cls: values[1], box: values[2], centerness: values[3], lr: opt.paramGroups[0].lr });
    }
    epochLoss.push(sum / done);
    if (paths) {
      mkdirSync(opts.checkpointDir!, { recursive: true });
      // Optimizer first: a model file of epoch e always has an optimizer file of epoch >= e beside it.
      await T.saveOptimizer(paths.optimizer, opt, { scheduler: sched });
      await T.saveModule(paths.model, model, { metadata: { epoch: String(epoch + 1), config: JSON.stringify(model.config) } });
    }
  }
  points.dispose();
  return { epochs: epoch - startEpoch, steps, seconds: (Date.now() - started) / 1000, epochLoss };
}

function concatImages(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((a, im) => a + im.length, 0));
  let at = 0;
  for (const im of images) { out.set(im, at); at += im.length; }
  return out;
}

export interface EvalResult {
  map: number;
  map50: number;
  map75: number;
  perClass: { name: string; map: number; map50: number }[];
  detections: Detection[];
}

/** COCO mAP of the model on a DetectionSet, detecting in batches. */
export async function evaluateDetector(model: Detector, data: DetectionSet, opts: DetectOptions & { batchSize?: number } = {}): Promise<EvalResult> {
  const { batchSize = 32, ...detectOpts } = opts;
  const backend = model.parameters()[0].backend.name;
  const detections: Detection[] = [];
  const plane = data.channels * data.size * data.size;
  for (let i = 0; i < data.count; i += batchSize) {
    const n = Math.min(batchSize, data.count - i);
    const images = T.fromArray(data.images.slice(i * plane, (i + n) * plane), [n, data.channels, data.size, data.size], { backend });
    detections.push(...await detect(model, images, detectOpts));
    images.dispose();
  }
  const r = T.metrics.meanAveragePrecision(detections, data.boxes.map((boxes, i) => ({ boxes, labels: data.labels[i] })));
  return {
    map: r.map, map50: r.map50, map75: r.map75, detections,
    perClass: r.perClass.map((p, c) => ({ name: data.classNames[c] ?? String(c), ...p })),
  };
}
