import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accuracy, confusionMatrix, f1PerClass, macroF1, microF1,
  calibrationBins, topLabelCalibration, expectedCalibrationError, classwiseCalibrationError, negativeLogLikelihood,
  meanAbsolutePercentageError, pinballLoss, weightedQuantileLoss, meanWeightedQuantileLoss,
} from '../src/metrics/index.js';

const close = (actual: number, expected: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);

const labels = suite('metrics: labels');

// Case A: yTrue = [0,0,1,1,2,2], yPred = [0,1,1,1,2,0]; correct at positions 0, 2, 3, 4.
//   class 0: TP 1, FP 1 (pos 5), FN 1 (pos 1) -> F1 = 2/(2+1+1) = 0.5
//   class 1: TP 2, FP 1 (pos 1), FN 0         -> F1 = 4/5 = 0.8
//   class 2: TP 1, FP 0, FN 1 (pos 5)         -> F1 = 2/3
//   macro = (0.5 + 0.8 + 2/3) / 3 = 0.655555...; micro = 2*4 / (8 + 2 + 2) = 2/3 = accuracy.
const aTrue = [0, 0, 1, 1, 2, 2], aPred = Int32Array.of(0, 1, 1, 1, 2, 0);

labels('accuracy, micro and macro F1 (case A)', () => {
  close(accuracy(aTrue, aPred), 4 / 6, 'accuracy');
  close(microF1(aTrue, aPred), 2 / 3, 'micro F1');
  close(macroF1(aTrue, aPred), (0.5 + 0.8 + 2 / 3) / 3, 'macro F1');
  const perClass = Array.from(f1PerClass(aTrue, aPred));
  [0.5, 0.8, 2 / 3].forEach((f, c) => close(perClass[c], f, `F1 of class ${c}`));
});

labels('confusion matrix (case A): rows true, columns predicted', () => {
  const { numClasses, matrix } = confusionMatrix(aTrue, aPred);
  assert.is(numClasses, 3);
  // true 0: predicted 0 once, 1 once; true 1: predicted 1 twice; true 2: predicted 2 once, 0 once.
  assert.equal(Array.from(matrix), [1, 1, 0, 0, 2, 0, 1, 0, 1]);
  assert.equal(Array.from(confusionMatrix([1], [1], 3).matrix), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.throws(() => confusionMatrix([0, 3], [0, 0], 3), /label 3 out of range for numClasses = 3/);
});

// Case B: yTrue = [0,0,2,2], yPred = [0,0,0,3]. Class 1 occurs in neither array and is ignored.
//   class 0: TP 2, FP 1 (pos 2), FN 0 -> 4/5 = 0.8
//   class 2: TP 0, FP 0, FN 2        -> precision + recall = 0 -> 0
//   class 3: TP 0, FP 1, FN 0        -> 0
//   macro = 0.8 / 3 = 0.2666...; micro = 2*2 / (4 + 2 + 2) = 0.5.
labels('macro F1 ignores absent classes, zero F1 for unmatched classes (case B)', () => {
  const yTrue = [0, 0, 2, 2], yPred = [0, 0, 0, 3];
  close(macroF1(yTrue, yPred), 0.8 / 3, 'macro F1');
  close(microF1(yTrue, yPred), 0.5, 'micro F1');
  const perClass = Array.from(f1PerClass(yTrue, yPred));
  close(perClass[0], 0.8, 'class 0');
  assert.ok(Number.isNaN(perClass[1]), 'class 1 absent');
  assert.equal([perClass[2], perClass[3]], [0, 0]);
});

labels('input validation names the metric', () => {
  assert.throws(() => accuracy([0, 1], [0]), /accuracy: yTrue has 2 values but yPred has 1/);
  assert.throws(() => macroF1([0, -1], [0, 0]), /macroF1: yTrue\[1\] = -1 is not a class index/);
  assert.throws(() => microF1([0, 1.5], [0, 0]), /microF1: yTrue\[1\] = 1.5/);
  assert.throws(() => accuracy([], []), /accuracy: empty input/);
});
labels.run();

const probabilities = suite('metrics: probabilities');

// Case C: 4 samples, 2 classes.
//   row  probs        label  top conf  correct  p[label]
//   0    [0.9, 0.1]   0      0.9       yes      0.9
//   1    [0.8, 0.2]   1      0.8       no       0.2
//   2    [0.3, 0.7]   1      0.7       yes      0.7
//   3    [0.45, 0.55] 0      0.55      no       0.45
const cProbs = [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.45, 0.55];
const cLabels = [0, 1, 1, 0];

probabilities('top-label ECE (case C) with 2 and 10 bins', () => {
  // 2 bins, edges 0, 0.5, 1: all confidences in (0.5, 1]; mean conf = 2.95/4 = 0.7375,
  // accuracy 2/4 = 0.5 -> ECE = 0.2375.
  close(expectedCalibrationError(cProbs, cLabels, 2), 0.2375, 'ECE, 2 bins', 1e-6);
  // 10 bins: one sample per bin (0.9 in (0.8, 0.9], 0.8 in (0.7, 0.8], ...):
  // ECE = (|1 - 0.9| + |0 - 0.8| + |1 - 0.7| + |0 - 0.55|) / 4 = 1.75 / 4 = 0.4375.
  close(expectedCalibrationError(cProbs, cLabels, 10), 0.4375, 'ECE, 10 bins', 1e-6);
  const bins = topLabelCalibration(cProbs, cLabels, 10).bins;
  assert.equal(bins.map((b) => b.count), [0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
  assert.ok(Number.isNaN(bins[0].accuracy), 'empty bin has no accuracy');
  // The same rows as float32: fround(0.8) = 0.80000001 > 0.8 moves into (0.8, 0.9] with 0.9,
  // that bin then has mean conf (0.9 + 0.8) / 2 = 0.85 and accuracy 0.5:
  // ECE = 2/4 * 0.35 + 1/4 * 0.3 + 1/4 * 0.55 = 0.3875.
  close(expectedCalibrationError(Float32Array.from(cProbs), cLabels, 10), 0.3875, 'ECE, 10 bins, float32', 1e-6);
});

probabilities('bins are (lower, upper], the first also holds 0', () => {
  // Edges 0, 0.5, 1: 0 and 0.5 fall in bin 0; 0.5000001 and 1 in bin 1.
  const { bins } = calibrationBins([0, 0.5, 0.5000001, 1], [0, 1, 1, 1], 2);
  assert.equal(bins.map((b) => b.count), [2, 2]);
  // 0.3 with 10 bins: edge 3/10 = 0.3, so it belongs to (0.2, 0.3].
  assert.equal(calibrationBins([0.3], [1], 10).bins.map((b) => b.count), [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
});

probabilities('class-wise ECE', () => {
  // Case C, 2 bins. Class 0: p = [.9,.8,.3,.45], outcome [1,0,0,1]:
  //   bin 0: {.3, .45} mean .375, freq .5 -> 2/4 * .125 = .0625; bin 1: {.9, .8} mean .85, freq .5 -> 2/4 * .35 = .175.
  //   Class 1 mirrors it: .175 + .0625. Class-wise ECE = (.2375 + .2375) / 2 = .2375.
  close(classwiseCalibrationError(cProbs, cLabels, 2), 0.2375, 'class-wise ECE (case C)', 1e-6);
  // Case D, 3 classes, 2 bins: rows [.6,.3,.1] label 0, [.2,.2,.6] label 1.
  //   class 0: p [.6,.2], outcome [1,0]: 1/2*|1-.6| + 1/2*|0-.2| = .3
  //   class 1: p [.3,.2], outcome [0,1]: both in bin 0, mean .25, freq .5 -> .25
  //   class 2: p [.1,.6], outcome [0,0]: 1/2*.1 + 1/2*.6 = .35
  //   class-wise ECE = (.3 + .25 + .35) / 3 = .3
  //   top-label: confidences .6 (correct), .6 (argmax 2, wrong): bin 1 mean .6, acc .5 -> .1
  const dProbs = [0.6, 0.3, 0.1, 0.2, 0.2, 0.6], dLabels = [0, 1];
  close(classwiseCalibrationError(dProbs, dLabels, 2), 0.3, 'class-wise ECE (case D)');
  close(expectedCalibrationError(dProbs, dLabels, 2), 0.1, 'top-label ECE (case D)');
});

probabilities('NLL from probabilities', () => {
  // Case C: -(ln .9 + ln .2 + ln .7 + ln .45) / 4
  //       = (0.1053605 + 1.6094379 + 0.3566749 + 0.7985077) / 4 = 0.7174953
  close(negativeLogLikelihood(cProbs, cLabels), 0.7174953, 'NLL', 1e-6);
  // A zero probability is clipped to eps = 1e-12: -ln(1e-12) = 27.6310211.
  close(negativeLogLikelihood([1, 0], [1]), 27.6310211, 'NLL clipped', 1e-6);
});

probabilities('validation: shape and range of probabilities', () => {
  assert.throws(() => expectedCalibrationError([0.5, 0.5, 1], [0, 1]), /not a multiple of the 2 labels/);
  assert.throws(() => negativeLogLikelihood([2, -1], [0]), /probs\[0, 0\] = 2 is not a probability/);
  assert.throws(() => classwiseCalibrationError([0.5, 0.5], [2]), /label 2 out of range for 2 probability columns/);
  assert.throws(() => calibrationBins([0.5], [1], 0), /bins must be an integer >= 1/);
});
probabilities.run();

const regression = suite('metrics: forecasts');

regression('MAPE', () => {
  // |100-110|/100 = .1, |200-180|/200 = .1, |50-50|/50 = 0 -> mean 0.2/3.
  close(meanAbsolutePercentageError([100, 200, 50], [110, 180, 50]), 0.2 / 3, 'MAPE');
  // Zero target divides by machine epsilon: 1 / 2^-52 = 4503599627370496.
  assert.is(meanAbsolutePercentageError([0], [1]), 4503599627370496);
});

regression('pinball and weighted quantile losses', () => {
  // y = [10, 20], yhat = [12, 15]: residuals y - yhat = -2, 5.
  //   q = 0.9: (0.9 - 1) * -2 = 0.2 and 0.9 * 5 = 4.5 -> mean 2.35; sum 4.7
  //   q = 0.5: 1 and 2.5 -> mean 1.75; sum 3.5
  close(pinballLoss([10, 20], [12, 15], 0.9), 2.35, 'pinball q=0.9');
  close(pinballLoss([10, 20], [12, 15], 0.5), 1.75, 'pinball q=0.5');
  // wQL = 2 * sum / sum|y|: q=0.9 -> 9.4 / 30; q=0.5 -> 7 / 30; mean = 8.2 / 30.
  close(weightedQuantileLoss([10, 20], [12, 15], 0.9), 9.4 / 30, 'wQL q=0.9');
  close(meanWeightedQuantileLoss([10, 20], [[12, 15], [12, 15]], [0.5, 0.9]), 8.2 / 30, 'mean wQL');
  assert.throws(() => pinballLoss([1], [1], 1), /quantile level 1 must lie in \(0, 1\)/);
  assert.throws(() => weightedQuantileLoss([0, 0], [1, 1], 0.5), /sum \|yTrue\| is 0/);
  assert.throws(() => meanWeightedQuantileLoss([1], [[1]], [0.1, 0.5]), /1 prediction arrays for 2 quantile levels/);
});
regression.run();
