// Point and quantile forecast metrics on real-valued arrays.

import { checkPaired } from './check.js';

/**
 * Mean absolute percentage error as a fraction (0.1 = 10%), with scikit-learn's
 * guard: |y - yhat| / max(|y|, Number.EPSILON), so a zero target gives a huge
 * value rather than Infinity.
 */
export function meanAbsolutePercentageError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = checkPaired('meanAbsolutePercentageError', yTrue, yPred, 'yTrue', 'yPred');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(yTrue[i] - yPred[i]) / Math.max(Math.abs(yTrue[i]), Number.EPSILON);
  return sum / n;
}

function checkQuantile(metric: string, q: number): void {
  if (!(q > 0 && q < 1)) throw new Error(`${metric}: quantile level ${q} must lie in (0, 1)`);
}

function pinballSum(metric: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>, q: number): number {
  const n = checkPaired(metric, yTrue, yPred, 'yTrue', 'yPred');
  checkQuantile(metric, q);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const diff = yTrue[i] - yPred[i];
    sum += diff >= 0 ? q * diff : (q - 1) * diff;
  }
  return sum;
}

/** Mean pinball loss at level q: mean of max(q (y - yhat), (q - 1)(y - yhat)). */
export function pinballLoss(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, q: number): number {
  return pinballSum('pinballLoss', yTrue, yPred, q) / yTrue.length;
}

/**
 * Weighted quantile loss (GluonTS / DeepAR papers): 2 * sum of pinball losses
 * / sum |y|. Throws when sum |y| = 0.
 */
export function weightedQuantileLoss(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, q: number): number {
  const loss = pinballSum('weightedQuantileLoss', yTrue, yPred, q);
  let scale = 0;
  for (let i = 0; i < yTrue.length; i++) scale += Math.abs(yTrue[i]);
  if (scale === 0) throw new Error('weightedQuantileLoss: sum |yTrue| is 0, the loss is undefined');
  return (2 * loss) / scale;
}

/** Mean of weightedQuantileLoss over quantile levels; predictions[j] holds the forecasts at quantiles[j]. */
export function meanWeightedQuantileLoss(yTrue: ArrayLike<number>, predictions: ArrayLike<number>[], quantiles: number[]): number {
  if (predictions.length !== quantiles.length || quantiles.length === 0) {
    throw new Error(`meanWeightedQuantileLoss: ${predictions.length} prediction arrays for ${quantiles.length} quantile levels`);
  }
  let sum = 0;
  for (let j = 0; j < quantiles.length; j++) sum += weightedQuantileLoss(yTrue, predictions[j], quantiles[j]);
  return sum / quantiles.length;
}
