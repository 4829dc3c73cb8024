// Argument checks shared by the metrics: every metric names itself in its errors.

export function checkPaired(metric: string, a: ArrayLike<number>, b: ArrayLike<number>, aName: string, bName: string): number {
  if (a.length !== b.length) throw new Error(`${metric}: ${aName} has ${a.length} values but ${bName} has ${b.length}`);
  if (a.length === 0) throw new Error(`${metric}: empty input`);
  return a.length;
}

/** Checks labels are non-negative integers and returns 1 + the largest. */
export function checkLabels(metric: string, labels: ArrayLike<number>, name: string): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0) throw new Error(`${metric}: ${name}[${i}] = ${l} is not a class index (non-negative integer)`);
    if (l > max) max = l;
  }
  return max + 1;
}

/**
 * Checks a row-major [n, k] probability matrix against n labels and returns k.
 * Values must lie in [0, 1]: logits or log-probabilities are a common mistake.
 */
export function checkProbabilities(metric: string, probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = labels.length;
  if (n === 0) throw new Error(`${metric}: empty input`);
  const k = probs.length / n;
  if (!Number.isInteger(k) || k < 1) throw new Error(`${metric}: probs has ${probs.length} values, not a multiple of the ${n} labels (expected row-major [n, numClasses])`);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p <= 1)) throw new Error(`${metric}: probs[${Math.floor(i / k)}, ${i % k}] = ${p} is not a probability in [0, 1]`);
  }
  const classes = checkLabels(metric, labels, 'labels');
  if (classes > k) throw new Error(`${metric}: label ${classes - 1} out of range for ${k} probability columns`);
  return k;
}
