// Label metrics on integer class indices (typed arrays or number arrays).
// F1 follows scikit-learn: a class counts for macro averaging when it occurs
// in y_true or y_pred; its F1 is 2TP / (2TP + FP + FN), which is 0 when
// precision + recall = 0.

import { checkLabels, checkPaired } from './check.js';

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = checkPaired('accuracy', yTrue, yPred, 'yTrue', 'yPred');
  let hits = 0;
  for (let i = 0; i < n; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / n;
}

export interface ConfusionMatrix {
  numClasses: number;
  /** [numClasses, numClasses], row = true class, column = predicted class. */
  matrix: Int32Array;
}

/** numClasses defaults to 1 + the largest label in either array. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): ConfusionMatrix {
  const n = checkPaired('confusionMatrix', yTrue, yPred, 'yTrue', 'yPred');
  const seen = Math.max(checkLabels('confusionMatrix', yTrue, 'yTrue'), checkLabels('confusionMatrix', yPred, 'yPred'));
  const k = numClasses ?? seen;
  if (seen > k) throw new Error(`confusionMatrix: label ${seen - 1} out of range for numClasses = ${k}`);
  const matrix = new Int32Array(k * k);
  for (let i = 0; i < n; i++) matrix[yTrue[i] * k + yPred[i]]++;
  return { numClasses: k, matrix };
}

interface ClassCounts { tp: Float64Array; fp: Float64Array; fn: Float64Array }

function classCounts(metric: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>): ClassCounts {
  const n = checkPaired(metric, yTrue, yPred, 'yTrue', 'yPred');
  const k = Math.max(checkLabels(metric, yTrue, 'yTrue'), checkLabels(metric, yPred, 'yPred'));
  const tp = new Float64Array(k), fp = new Float64Array(k), fn = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    if (yTrue[i] === yPred[i]) tp[yTrue[i]]++;
    else { fp[yPred[i]]++; fn[yTrue[i]]++; }
  }
  return { tp, fp, fn };
}

function classF1(metric: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Float64Array {
  const { tp, fp, fn } = classCounts(metric, yTrue, yPred);
  return tp.map((t, c) => {
    const denominator = 2 * t + fp[c] + fn[c];
    return denominator === 0 ? NaN : (2 * t) / denominator;
  });
}

/** F1 of each class index up to the largest label; NaN for a class absent from both arrays. */
export function f1PerClass(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Float64Array {
  return classF1('f1PerClass', yTrue, yPred);
}

/** Unweighted mean of the per-class F1 over classes present in yTrue or yPred. */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let sum = 0, classes = 0;
  for (const f of classF1('macroF1', yTrue, yPred)) {
    if (!Number.isNaN(f)) { sum += f; classes++; }
  }
  return sum / classes;
}

/** F1 of the pooled counts, 2 sum(TP) / (2 sum(TP) + sum(FP) + sum(FN)); equals accuracy for single-label data. */
export function microF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const { tp, fp, fn } = classCounts('microF1', yTrue, yPred);
  let t = 0, f = 0;
  for (let c = 0; c < tp.length; c++) { t += tp[c]; f += fp[c] + fn[c]; }
  return (2 * t) / (2 * t + f);
}
