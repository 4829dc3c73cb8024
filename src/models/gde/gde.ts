// Generalization disagreement equality (GDE; Jiang, Nagarajan, Baek, Kolter,
// "Assessing Generalization of SGD via Disagreement", ICLR 2022): train two
// copies of a model that differ only in their random seeds, and the rate at
// which they disagree on unlabelled data estimates their test error. The
// equality holds in expectation when the ensemble of copies is class-wise
// calibrated; more generally the paper bounds |E[disagreement] - E[test error]|
// by the ensemble's class-aggregated calibration error, which is why the
// report carries the ensemble's calibration next to the gap.

import { metrics } from '../../index.js';

/** Which source of randomness differs between copies: initialization, data order (batches, dropout masks), or both. */
export type Vary = 'init' | 'order' | 'both';
export const VARY_CHOICES: readonly Vary[] = ['init', 'order', 'both'];

/**
 * How the ensemble's class probabilities are formed: 'votes' is the fraction of copies predicting each
 * class (the ensemble the GDE theorem is about); 'probs' is the mean of the copies' predicted probabilities.
 */
export type EnsembleKind = 'votes' | 'probs';

export interface CopySeeds { init: number; order: number }

/** A seed for `stream` of copy `copy`: an integer hash, so that neighbouring copies get unrelated seeds. */
function mixSeed(base: number, stream: number, copy: number): number {
  let h = Math.imul(base ^ 0x3c6ef372, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b) ^ Math.imul(copy + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) | 0;
}

export function checkVary(vary: string): asserts vary is Vary {
  if (!(VARY_CHOICES as readonly string[]).includes(vary)) throw new Error(`gde: vary must be one of ${VARY_CHOICES.join(', ')}, got '${vary}'`);
}

/** The initialization and data-order seeds of copy `copy`: the varied one changes with the copy, the other is shared. */
export function copySeeds(copy: number, vary: Vary, baseSeed = 0): CopySeeds {
  checkVary(vary);
  return {
    init: mixSeed(baseSeed, 0, vary === 'order' ? 0 : copy),
    order: mixSeed(baseSeed, 1, vary === 'init' ? 0 : copy),
  };
}

/** A model to copy: made from an initialization seed, trained with a data-order seed, then asked for class probabilities. */
export interface GdeModel<M> {
  create(initSeed: number): M;
  train(model: M, orderSeed: number): void | Promise<void>;
  /** Row-major [n, numClasses] class probabilities on the unlabelled points (the same points for every copy). */
  predict(model: M): ArrayLike<number> | Promise<ArrayLike<number>>;
  /** Frees the model's tensors once its predictions are taken. */
  dispose?(model: M): void;
}

export interface GdeOptions {
  /** Number of copies k >= 2; every one of the k (k - 1) / 2 pairs is compared. */
  copies: number;
  vary: Vary;
  /** Base seed from which the copies' seeds are derived. Default 0. */
  seed?: number;
  /** True classes of the points: enables test errors, the gap and calibration. */
  labels?: ArrayLike<number>;
  /** Equal-width bins on [0, 1] for every calibration error. Default 15. */
  bins?: number;
  /** Default 'votes'. */
  ensemble?: EnsembleKind;
  /** Called after each copy is trained and has predicted (copy index, seconds it took). */
  onCopy?: (copy: number, seconds: number) => void;
}

export interface GdePair {
  a: number;
  b: number;
  /** Fraction of points on which copies a and b predict different classes. */
  disagreement: number;
  /** Mean of the two copies' test errors (with labels). */
  testError?: number;
}

export interface GdeCalibration {
  bins: number;
  ensemble: EnsembleKind;
  /** Kull et al.'s class-wise ECE: the mean over classes of each class column's ECE. */
  classwiseEce: number;
  /** Guo et al.'s ECE of the ensemble's top label. */
  topLabelEce: number;
  /**
   * Class-aggregated calibration error (as defined in the GDE paper), binned: sum over bins of
   * |sum of (1[y = k] - p_k) over the (point, class) entries in the bin| / n. With vote ensembles
   * and bins > copies it bounds |disagreement * (k - 1) / k - mean test error| exactly.
   */
  classAggregatedCe: number;
}

export interface GdeReport {
  copies: number;
  /** Number of points predicted on. */
  points: number;
  numClasses: number;
  pairs: GdePair[];
  /** Mean pairwise disagreement over the distinct pairs: GDE's estimate of the test error. */
  disagreement: number;
  /** Test error of each copy (with labels). */
  testErrors?: number[];
  meanTestError?: number;
  /** disagreement - meanTestError: positive when GDE overestimates the error. */
  gap?: number;
  calibration?: GdeCalibration;
}

/** Index of the largest entry of each row (the first on ties, as topLabelCalibration). */
function rowArgmax(probs: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * The GDE report from the copies' predicted probabilities (each row-major [points, numClasses]).
 * A copy's prediction is its row argmax; one-hot rows make hard predictions.
 */
export function gdeFromPredictions(
  predictions: ArrayLike<number>[], numClasses: number,
  opts: { labels?: ArrayLike<number>; bins?: number; ensemble?: EnsembleKind } = {},
): GdeReport {
  const k = predictions.length;
  if (k < 2) throw new Error(`gde: needs at least 2 copies to compare, got ${k}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`gde: numClasses must be an integer >= 2, got ${numClasses}`);
  const n = predictions[0].length / numClasses;
  if (!Number.isInteger(n) || n < 1) throw new Error(`gde: copy 0 has ${predictions[0].length} values, not a positive multiple of numClasses = ${numClasses}`);
  predictions.forEach((p, c) => {
    if (p.length !== n * numClasses) throw new Error(`gde: copy ${c} has ${p.length} values, copy 0 has ${n * numClasses} (${n} points x ${numClasses} classes)`);
  });
  const { labels } = opts;
  const bins = opts.bins ?? 15;
  const ensemble = opts.ensemble ?? 'votes';
  if (labels && labels.length !== n) throw new Error(`gde: ${labels.length} labels for ${n} points`);
  // Validates probabilities (and labels when given) with the metrics' messages.
  predictions.forEach((p, c) => {
    try { metrics.checkProbabilities('gde', p, labels ?? new Int32Array(n)); }
    catch (e) { throw new Error(`${(e as Error).message} (copy ${c})`); }
  });

  const hard = predictions.map((p) => rowArgmax(p, n, numClasses));
  const testErrors = labels && hard.map((h) => {
    let wrong = 0;
    for (let i = 0; i < n; i++) if (h[i] !== labels[i]) wrong++;
    return wrong / n;
  });
  const pairs: GdePair[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let differ = 0;
      for (let i = 0; i < n; i++) if (hard[a][i] !== hard[b][i]) differ++;
      const pair: GdePair = { a, b, disagreement: differ / n };
      if (testErrors) pair.testError = (testErrors[a] + testErrors[b]) / 2;
      pairs.push(pair);
    }
  }
  const disagreement = pairs.reduce((s, p) => s + p.disagreement, 0) / pairs.length;
  const report: GdeReport = { copies: k, points: n, numClasses, pairs, disagreement };
  if (!labels || !testErrors) return report;

  const meanTestError = testErrors.reduce((s, e) => s + e, 0) / k;
  const probs = ensembleProbabilities(ensemble, predictions, hard, n, numClasses);
  report.testErrors = testErrors;
  report.meanTestError = meanTestError;
  report.gap = disagreement - meanTestError;
  report.calibration = {
    bins,
    ensemble,
    classwiseEce: metrics.classwiseCalibrationError(probs, labels, bins),
    topLabelEce: metrics.topLabelCalibration(probs, labels, bins).ece,
    classAggregatedCe: classAggregatedCalibrationError(probs, labels, bins),
  };
  return report;
}

function ensembleProbabilities(kind: EnsembleKind, predictions: ArrayLike<number>[], hard: Int32Array[], n: number, numClasses: number): Float64Array {
  const out = new Float64Array(n * numClasses);
  const k = predictions.length;
  if (kind === 'votes') {
    // Count first, divide once: j / k is then the exact vote level (sums of 1/k drift).
    for (const h of hard) for (let i = 0; i < n; i++) out[i * numClasses + h[i]] += 1;
  } else if (kind === 'probs') {
    for (const p of predictions) for (let j = 0; j < out.length; j++) out[j] += p[j];
  } else {
    throw new Error(`gde: ensemble must be 'votes' or 'probs', got '${kind as string}'`);
  }
  // A mean of probabilities can exceed 1 by an ulp; the metrics reject values outside [0, 1].
  for (let j = 0; j < out.length; j++) out[j] = Math.min(1, out[j] / k);
  return out;
}

/**
 * Binned class-aggregated calibration error of a row-major [n, K] probability matrix: every
 * (point, class) entry is one (confidence p_ik, outcome 1[y_i = k]) pair, and the n K pairs share
 * the bins. calibrationBins weighs bins by count / (n K), hence the factor K.
 */
export function classAggregatedCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 15): number {
  const numClasses = metrics.checkProbabilities('classAggregatedCalibrationError', probs, labels);
  const outcomes = new Float64Array(probs.length);
  for (let i = 0; i < labels.length; i++) outcomes[i * numClasses + labels[i]] = 1;
  return numClasses * metrics.calibrationBins(probs, outcomes, bins).ece;
}

/** Trains `copies` copies of `model` one after another and reports their disagreement (and errors, with labels). */
export async function estimateGde<M>(model: GdeModel<M>, numClasses: number, opts: GdeOptions): Promise<GdeReport> {
  const { copies, vary } = opts;
  if (!Number.isInteger(copies) || copies < 2) throw new Error(`gde: copies must be an integer >= 2, got ${copies}`);
  const predictions: ArrayLike<number>[] = [];
  for (let c = 0; c < copies; c++) {
    const start = performance.now();
    const seeds = copySeeds(c, vary, opts.seed ?? 0);
    const m = model.create(seeds.init);
    try {
      await model.train(m, seeds.order);
      predictions.push(await model.predict(m));
    } finally {
      model.dispose?.(m);
    }
    opts.onCopy?.(c, (performance.now() - start) / 1000);
  }
  return gdeFromPredictions(predictions, numClasses, { labels: opts.labels, bins: opts.bins, ensemble: opts.ensemble });
}
