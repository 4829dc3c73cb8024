// Probability metrics on a row-major [n, numClasses] matrix of predicted class
// probabilities and n integer labels; numClasses = probs.length / n.

import { checkPaired, checkProbabilities } from './check.js';

export interface CalibrationBin {
  /** The bin is (lower, upper]; the first bin also holds 0. */
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  confidence: number;
  /** Fraction of positive outcomes in the bin (NaN when empty). */
  accuracy: number;
}

export interface CalibrationResult {
  ece: number;
  bins: CalibrationBin[];
}

/** Bin of confidence c among `bins` equal-width bins (lower, upper], edges i / bins. */
function binOf(c: number, bins: number): number {
  let b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
  // c * bins may round across an edge; settle against the exact edges.
  if (b > 0 && c <= b / bins) b--;
  else if (b < bins - 1 && c > (b + 1) / bins) b++;
  return b;
}

/**
 * Reliability bins of (confidence, outcome) pairs and their ECE:
 * sum over bins of (count / n) * |accuracy - confidence|.
 */
export function calibrationBins(confidences: ArrayLike<number>, outcomes: ArrayLike<number>, bins: number): CalibrationResult {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`calibrationBins: bins must be an integer >= 1, got ${bins}`);
  const n = checkPaired('calibrationBins', confidences, outcomes, 'confidences', 'outcomes');
  for (let i = 0; i < n; i++) {
    if (!(confidences[i] >= 0 && confidences[i] <= 1)) throw new Error(`calibrationBins: confidences[${i}] = ${confidences[i]} is not in [0, 1]`);
  }
  const count = new Float64Array(bins), confSum = new Float64Array(bins), hitSum = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = binOf(confidences[i], bins);
    count[b]++;
    confSum[b] += confidences[i];
    hitSum[b] += outcomes[i];
  }
  let ece = 0;
  const result: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const confidence = confSum[b] / count[b], accuracy = hitSum[b] / count[b];
    if (count[b] > 0) ece += (count[b] / n) * Math.abs(accuracy - confidence);
    result.push({ lower: b / bins, upper: (b + 1) / bins, count: count[b], confidence, accuracy });
  }
  return { ece, bins: result };
}

/**
 * Top-label ECE (Guo et al. 2017): confidence = the largest probability of a
 * row (first column on ties), outcome = whether that column is the label.
 */
export function topLabelCalibration(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 15): CalibrationResult {
  const k = checkProbabilities('topLabelCalibration', probs, labels);
  const n = labels.length;
  const confidence = new Float64Array(n), correct = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    confidence[i] = probs[i * k + best];
    correct[i] = best === labels[i] ? 1 : 0;
  }
  return calibrationBins(confidence, correct, bins);
}

export function expectedCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 15): number {
  return topLabelCalibration(probs, labels, bins).ece;
}

/**
 * Class-wise ECE (Kull et al. 2019): for each class j, the ECE of the
 * probabilities p[:, j] against the outcomes [label == j]; then the mean over
 * the numClasses columns.
 */
export function classwiseCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 15): number {
  const k = checkProbabilities('classwiseCalibrationError', probs, labels);
  const n = labels.length;
  const column = new Float64Array(n), outcome = new Float64Array(n);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) { column[i] = probs[i * k + j]; outcome[i] = labels[i] === j ? 1 : 0; }
    sum += calibrationBins(column, outcome, bins).ece;
  }
  return sum / k;
}

/** Mean negative log-likelihood of the labels, -mean log max(p[i, y_i], eps). */
export function negativeLogLikelihood(probs: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-12): number {
  const k = checkProbabilities('negativeLogLikelihood', probs, labels);
  const n = labels.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum -= Math.log(Math.max(probs[i * k + labels[i]], eps));
  return sum / n;
}
