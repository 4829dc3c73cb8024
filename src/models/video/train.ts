// Training and evaluating clip classifiers on ClipSets: minibatch SGD with
// Nesterov momentum and a cosine schedule, predictions in eval mode, top-k.
import * as T from '../../index.js';
import { clipBatch, type ClipSet } from './synthetic.js';

export interface ClipTrainOptions {
  epochs?: number;
  batchSize?: number;
  /** Peak learning rate of SGD (cosine annealed to 0 over the run); default 0.05. */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Shuffles the clips every epoch. */
  generator?: T.Rng;
  backend?: string;
  /** Called after every optimizer step with the step's loss. */
  onStep?: (step: number, totalSteps: number, loss: number) => void;
}

const TRAIN_KEYS = ['epochs', 'batchSize', 'lr', 'momentum', 'weightDecay', 'generator', 'backend', 'onStep'];

export interface Classifier extends T.nn.Module {
  forward(x: T.Tensor): T.Tensor;
}

/**
 * Trains `model` on the clips `indices` of `set` with the class labels `labels` (one per index;
 * a label < 0 leaves its clip out). Returns the mean loss of the last epoch.
 */
export async function trainClips(model: Classifier, set: ClipSet, indices: ArrayLike<number>, labels: ArrayLike<number>, opts: ClipTrainOptions = {}): Promise<number> {
  for (const k of Object.keys(opts)) if (!TRAIN_KEYS.includes(k)) throw new Error(`trainClips: unknown option '${k}' (options: ${TRAIN_KEYS.join(', ')})`);
  if (indices.length !== labels.length) throw new Error(`trainClips: ${indices.length} clips but ${labels.length} labels`);
  const kept: number[] = [], keptLabels: number[] = [];
  for (let i = 0; i < indices.length; i++) if (labels[i] >= 0) { kept.push(indices[i]); keptLabels.push(labels[i]); }
  if (kept.length === 0) throw new Error('trainClips: no clip has a label');
  const epochs = opts.epochs ?? 10, batchSize = Math.min(opts.batchSize ?? 32, kept.length);
  const generator = opts.generator ?? new T.Rng(0);
  const stepsPerEpoch = Math.ceil(kept.length / batchSize), total = epochs * stepsPerEpoch;
  const opt = new T.optim.SGD(model.parameters(), {
    lr: opts.lr ?? 0.05, momentum: opts.momentum ?? 0.9, nesterov: true, weightDecay: opts.weightDecay ?? 5e-4,
  });
  const schedule = new T.optim.CosineAnnealingLR(opt, total);
  model.train();
  let step = 0, lastEpochLoss = NaN;
  for (let e = 0; e < epochs; e++) {
    const order = generator.permutation(kept.length);
    let sum = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const pick = order.subarray(b * batchSize, Math.min(kept.length, (b + 1) * batchSize));
      // BatchNorm needs more than one value per channel.
      if (pick.length < 2) continue;
      const lossT = T.scope(() => {
        const x = clipBatch(set, Array.from(pick, (k) => kept[k]), opts.backend);
        const y = T.tensor(Array.from(pick, (k) => keptLabels[k]), { dtype: 'int32', backend: opts.backend });
        opt.zeroGrad();
        const l = T.crossEntropy(model.forward(x), y);
        l.backward();
        opt.step();
        return l;
      });
      // Read asynchronously: GPU backends have no synchronous read.
      const loss = (await lossT.data())[0];
      lossT.dispose();
      schedule.step();
      sum += loss * pick.length;
      opts.onStep?.(++step, total, loss);
    }
    lastEpochLoss = sum / kept.length;
  }
  opt.zeroGrad();
  return lastEpochLoss;
}

/** Logits [n, classes] (row-major) of the clips `indices` (default: all) in eval mode. */
export async function predictClips(model: Classifier, set: ClipSet, indices?: ArrayLike<number>, opts: { batchSize?: number; backend?: string } = {}): Promise<{ logits: Float32Array; classes: number }> {
  const ids = indices ?? Int32Array.from({ length: set.length }, (_, i) => i);
  const batchSize = opts.batchSize ?? 64;
  model.eval();
  const parts: Float32Array[] = [];
  let classes = 0;
  for (let b = 0; b < ids.length; b += batchSize) {
    const pick = Array.from({ length: Math.min(batchSize, ids.length - b) }, (_, k) => ids[b + k]);
    const logits = T.noGrad(() => T.scope(() => model.forward(clipBatch(set, pick, opts.backend))));
    classes = logits.shape[1];
    parts.push(Float32Array.from(await logits.data()));
    logits.dispose();
  }
  const logits = new Float32Array(ids.length * classes);
  let offset = 0;
  for (const p of parts) { logits.set(p, offset); offset += p.length; }
  return { logits, classes };
}

/** Arg-max class of each row of row-major logits [n, classes]. */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose label is among the k largest logits (ties counted against the label). */
export function topK(logits: Float32Array, classes: number, labels: ArrayLike<number>, k: number): number {
  const n = labels.length;
  if (logits.length !== n * classes) throw new Error(`topK: ${logits.length} logits for ${n} labels of ${classes} classes`);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const own = logits[i * classes + labels[i]];
    let above = 0;
    for (let c = 0; c < classes; c++) if (c !== labels[i] && logits[i * classes + c] >= own) above++;
    if (above < k) hits++;
  }
  return n > 0 ? hits / n : NaN;
}
