// Losses, composed from ops (so their gradients come from the ops' own).
import { Tensor } from '../tensor.js';
import { abs, add, cast, div, lt, mul, neg, softplus, square, sub, where } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { gather, indexSelect } from './indexing.js';
import { logSoftmax } from './softmax.js';
import { unsqueeze, squeeze } from './view.js';
import { commonBackend, opError, requireFinite } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(l: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'mean': return mean(l);
    case 'sum': return sum(l);
    case 'none': return l;
    default: throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
}

export interface NllOptions {
  /** Class weights [C] (torch `weight`): the mean divides by the sum of the targets' weights. */
  classWeights?: Tensor;
  /** Per-example weights [N]: each example's loss is multiplied by its weight (the mean stays over N). */
  sampleWeights?: Tensor;
  reduction?: Reduction;
}

/** Negative log-likelihood of int32 targets [N] under log-probabilities [N, C]. */
export function nll(logProbs: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  const all = [logProbs, target, ...(opts.classWeights ? [opts.classWeights] : []), ...(opts.sampleWeights ? [opts.sampleWeights] : [])];
  commonBackend('nll', all);
  if (logProbs.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== logProbs.shape[0]) {
    throw opError('nll', 'expects logProbs [N, C] and target [N]', all);
  }
  if (target.dtype !== 'int32') throw opError('nll', 'target must be int32 class indices', all);
  const C = logProbs.shape[1];
  if (target.backend.syncRead) {
    for (const c of target.dataSync()) if (c < 0 || c >= C) throw opError('nll', `target ${c} is outside [0, ${C})`, all);
  }
  let l = neg(squeeze(gather(logProbs, 1, unsqueeze(target, 1)), 1));
  const reduction = opts.reduction ?? 'mean';
  if (opts.sampleWeights) {
    if (opts.sampleWeights.ndim !== 1 || opts.sampleWeights.shape[0] !== l.shape[0]) throw opError('nll', 'sampleWeights must be [N]', all);
    l = mul(l, opts.sampleWeights);
  }
  if (opts.classWeights) {
    if (opts.classWeights.ndim !== 1 || opts.classWeights.shape[0] !== C) throw opError('nll', `classWeights must be [${C}]`, all);
    const w = indexSelect(opts.classWeights, 0, target);
    l = mul(l, w);
    if (reduction === 'mean') return div(sum(l), sum(w));
  }
  return reduce(l, reduction, 'nll');
}

export interface CrossEntropyOptions extends NllOptions {
  /** torch's label_smoothing: the target mixes (1 - eps) one-hot with eps uniform. */
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C] against int32 class targets [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const eps = opts.labelSmoothing ?? 0;
  requireFinite('crossEntropy', 'labelSmoothing', eps);
  if (eps < 0 || eps > 1) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (logits.ndim !== 2) throw opError('crossEntropy', 'expects logits [N, C]', [logits, target]);
  const lp = logSoftmax(logits, 1);
  const hard = nll(lp, target, opts);
  if (eps === 0) return hard;
  const C = logits.shape[1];
  // torch: smooth term = -sum_c w_c log p_c, normalized like the hard term.
  let smoothPer = opts.classWeights ? neg(sum(mul(lp, opts.classWeights), 1)) : neg(sum(lp, 1));
  if (opts.sampleWeights) smoothPer = mul(smoothPer, opts.sampleWeights);
  const reduction = opts.reduction ?? 'mean';
  let smooth: Tensor;
  if (reduction === 'mean' && opts.classWeights) smooth = div(sum(smoothPer), sum(indexSelect(opts.classWeights, 0, target)));
  else smooth = reduce(smoothPer, reduction, 'crossEntropy');
  return add(mul(hard, 1 - eps), mul(smooth, eps / C));
}

function checkPair(op: string, pred: Tensor, target: Tensor): void {
  commonBackend(op, [pred, target]);
  if (pred.shape.length !== target.shape.length || pred.shape.some((s, i) => s !== target.shape[i])) {
    throw opError(op, 'prediction and target must have the same shape', [pred, target]);
  }
}

export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('mse', pred, target);
  return reduce(square(sub(pred, target)), reduction, 'mse');
}

/** Binary cross-entropy on logits, computed stably: (1 - y) x + softplus(-x). */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: { posWeight?: Tensor | number; reduction?: Reduction } = {}): Tensor {
  checkPair('bceWithLogits', logits, target);
  const y = target.dtype === 'float32' ? target : cast(target, 'float32');
  // log(1 + exp(-x)) as softplus, whose gradient at 0 is sigmoid(0); relu(-x) + log1p(exp(-|x|)) has the same value
  // but a gradient of 0 at x = 0 (relu's and abs's subgradients), so a zero-initialized readout got none.
  const softplusNeg = softplus(neg(logits));
  let l: Tensor;
  if (opts.posWeight === undefined) {
    l = add(mul(sub(1, y), logits), softplusNeg);
  } else {
    // torch: (1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))
    const pw = opts.posWeight;
    const coef = add(1, mul(y, typeof pw === 'number' ? pw - 1 : sub(pw, 1)));
    l = add(mul(sub(1, y), logits), mul(coef, softplusNeg));
  }
  return reduce(l, opts.reduction ?? 'mean', 'bceWithLogits');
}

/** Huber loss (torch's HuberLoss): quadratic within delta, linear outside. */
export function huber(pred: Tensor, target: Tensor, delta = 1, reduction: Reduction = 'mean'): Tensor {
  checkPair('huber', pred, target);
  requireFinite('huber', 'delta', delta);
  if (delta <= 0) throw new Error(`huber: delta must be positive, got ${delta}`);
  const d = abs(sub(pred, target));
  const l = where(lt(d, delta), mul(square(d), 0.5), mul(sub(d, 0.5 * delta), delta));
  return reduce(l, reduction, 'huber');
}

