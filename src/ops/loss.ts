// Losses, composed from ops (so their gradients come from the ops' own).
import { Tensor } from '../tensor.js';
import { abs, add, cast, div, eq, exp, gt, log, lt, maximum, mul, ne, neg, relu, softplus, sqrt, square, sub, where } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { gather, indexSelect } from './indexing.js';
import { logSoftmax } from './softmax.js';
import { permute, reshape, unsqueeze, squeeze } from './view.js';
import { asOp, checkOptions, commonBackend, opError, renameOpError, requireFinite } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(l: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'mean': return mean(l);
    case 'sum': return sum(l);
    case 'none': return l;
    default: throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
}

const NLL_KEYS = ['classWeights', 'sampleWeights', 'ignoreIndex', 'reduction'];

export interface NllOptions {
  /** Class weights [C] (torch `weight`): the mean divides by the sum of the targets' weights. */
  classWeights?: Tensor;
  /** Per-example weights of the target's shape ([N], or [N, d1, ...]): each loss is multiplied by its weight
   *  (the mean stays over the counted targets). Not in torch. */
  sampleWeights?: Tensor;
  /** torch's ignore_index: targets equal to it add no loss and are not counted by the mean. */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** [N, C, d1, ...] -> [N * d1 * ..., C] (classes last), as one row per target. */
function classesLast(x: Tensor): Tensor {
  if (x.ndim === 2) return x;
  const axes = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return reshape(permute(x, axes), [-1, x.shape[1]]);
}

/** Per-target losses and the mean's denominator, shared by nll and crossEntropy's smoothing term. */
interface Targets {
  /** Flattened int32 targets with ignored ones replaced by class 0 (any valid class; their loss is masked). */
  index: Tensor;
  /** 1 for counted targets, 0 for ignored ones (null when nothing is ignored). */
  counted: Tensor | null;
  /** The weight of each counted target: class weight times counted (null: every target weighs 1). */
  weight: Tensor | null;
}

function targetsOf(op: string, logProbs: Tensor, target: Tensor, opts: NllOptions, all: Tensor[]): Targets {
  const C = logProbs.shape[1];
  const spatial = logProbs.shape.slice(2);
  if (logProbs.ndim < 2 || target.ndim !== logProbs.ndim - 1 || target.shape[0] !== logProbs.shape[0]
    || spatial.some((s, i) => s !== target.shape[i + 1])) {
    throw opError(op, 'expects input [N, C] or [N, C, d1, ...] and target [N] or [N, d1, ...]', all);
  }
  if (target.dtype !== 'int32') throw opError(op, 'target must be int32 class indices', all);
  const ignore = opts.ignoreIndex;
  if (ignore !== undefined && !Number.isInteger(ignore)) throw opError(op, `ignoreIndex must be an integer, got ${ignore}`, all);
  if (target.backend.syncRead) {
    for (const c of target.dataSync()) if (c !== ignore && (c < 0 || c >= C)) throw opError(op, `target ${c} is outside [0, ${C})`, all);
  }
  const flat = reshape(target, [-1]);
  const counted = ignore === undefined ? null : ne(flat, ignore);
  const index = counted ? cast(where(counted, flat, 0), 'int32') : flat; // where computes in float32
  let weight: Tensor | null = counted;
  if (opts.classWeights) {
    if (opts.classWeights.ndim !== 1 || opts.classWeights.shape[0] !== C) throw opError(op, `classWeights must be [${C}]`, all);
    const w = indexSelect(opts.classWeights, 0, index);
    weight = counted ? mul(w, counted) : w;
  }
  return { index, counted, weight };
}

/** Applies sample weights, then the reduction: the mean divides by the targets' total weight; 'none' has the target's shape. */
function reduceTargets(op: string, l: Tensor, target: Tensor, t: Targets, opts: NllOptions, all: Tensor[]): Tensor {
  if (opts.sampleWeights) {
    const sw = opts.sampleWeights;
    if (sw.ndim !== target.ndim || sw.shape.some((s, i) => s !== target.shape[i])) {
      throw opError(op, `sampleWeights must have the target's shape [${target.shape.join(', ')}]`, all);
    }
    l = mul(l, reshape(sw, [-1]));
  }
  if (t.weight) l = mul(l, t.weight);
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'mean' && t.weight) return div(sum(l), sum(t.weight));
  if (reduction === 'none') return reshape(l, target.shape);
  return reduce(l, reduction, op);
}

/** Negative log-likelihood of int32 targets [N] (or [N, d1, ...]) under log-probabilities [N, C] (or [N, C, d1, ...]). */
export function nll(logProbs: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return asOp('nll', () => nllOf(logProbs, target, opts));
}

function nllOf(logProbs: Tensor, target: Tensor, opts: NllOptions): Tensor {
  checkOptions('nll', opts, NLL_KEYS);
  const all = [logProbs, target, ...(opts.classWeights ? [opts.classWeights] : []), ...(opts.sampleWeights ? [opts.sampleWeights] : [])];
  commonBackend('nll', all);
  const t = targetsOf('nll', logProbs, target, opts, all);
  const l = neg(squeeze(gather(classesLast(logProbs), 1, unsqueeze(t.index, 1)), 1));
  return reduceTargets('nll', l, target, t, opts, all);
}

export interface CrossEntropyOptions extends NllOptions {
  /** torch's label_smoothing: the target mixes (1 - eps) one-hot with eps uniform. */
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C] (or [N, C, d1, ...]) against int32 class targets [N] (or [N, d1, ...]), or against
 *  class probabilities of the logits' shape (float32; torch's soft labels). */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return asOp('crossEntropy', () => crossEntropyOf(logits, target, opts));
}

function crossEntropyOf(logits: Tensor, target: Tensor, opts: CrossEntropyOptions): Tensor {
  checkOptions('crossEntropy', opts, [...NLL_KEYS, 'labelSmoothing']);
  const eps = opts.labelSmoothing ?? 0;
  requireFinite('crossEntropy', 'labelSmoothing', eps);
  if (eps < 0 || eps > 1) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (logits.ndim < 2) throw opError('crossEntropy', 'expects logits [N, C] or [N, C, d1, ...]', [logits, target]);
  const C = logits.shape[1];
  const lp = logSoftmax(logits, 1);
  if (target.dtype === 'float32') return softCrossEntropy(lp, target, eps, opts);
  let hard: Tensor;
  try {
    hard = nll(lp, target, { ...opts, labelSmoothing: undefined } as NllOptions);
  } catch (e) {
    lp.dispose();
    throw renameOpError(e, 'nll', 'crossEntropy');
  }
  if (eps === 0) return hard;
  // torch: smooth term = -sum_c w_c log p_c over counted targets, normalized like the hard term.
  const all = [logits, target];
  const t = targetsOf('crossEntropy', lp, target, opts, all);
  const rows = classesLast(lp);
  let smoothPer = opts.classWeights ? neg(sum(mul(rows, opts.classWeights), 1)) : neg(sum(rows, 1));
  if (t.counted) smoothPer = mul(smoothPer, t.counted);
  if (opts.sampleWeights) smoothPer = mul(smoothPer, reshape(opts.sampleWeights, [-1]));
  const reduction = opts.reduction ?? 'mean';
  let smooth: Tensor;
  if (reduction === 'mean' && t.weight) smooth = div(sum(smoothPer), sum(t.weight));
  else if (reduction === 'none') smooth = reshape(smoothPer, target.shape);
  else smooth = reduce(smoothPer, reduction, 'crossEntropy');
  return add(mul(hard, 1 - eps), mul(smooth, eps / C));
}

/** torch's cross-entropy with class probabilities: -sum_c w_c q_c log p_c per target, q smoothed toward uniform;
 *  the mean is over targets (class weights do not normalize it). */
function softCrossEntropy(lp: Tensor, target: Tensor, eps: number, opts: CrossEntropyOptions): Tensor {
  const all = [lp, target];
  if (target.ndim !== lp.ndim || target.shape.some((s, i) => s !== lp.shape[i])) {
    throw opError('crossEntropy', 'class-probability targets must have the logits\' shape', all);
  }
  if (opts.ignoreIndex !== undefined) throw opError('crossEntropy', 'ignoreIndex applies to class-index targets only', all);
  if (opts.sampleWeights) throw opError('crossEntropy', 'sampleWeights applies to class-index targets only', all);
  const C = lp.shape[1];
  const q = eps === 0 ? target : add(mul(target, 1 - eps), eps / C);
  let terms = mul(classesLast(q), classesLast(lp));
  if (opts.classWeights) {
    if (opts.classWeights.ndim !== 1 || opts.classWeights.shape[0] !== C) throw opError('crossEntropy', `classWeights must be [${C}]`, all);
    terms = mul(terms, opts.classWeights);
  }
  const l = neg(sum(terms, 1));
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return reshape(l, [lp.shape[0], ...lp.shape.slice(2)]);
  return reduce(l, reduction, 'crossEntropy');
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
  checkOptions('bceWithLogits', opts, ['posWeight', 'reduction']);
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


/** L1 loss (torch's l1_loss): |pred - target|. */
export function l1(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('l1', pred, target);
  return reduce(abs(sub(pred, target)), reduction, 'l1');
}

/** torch's smooth_l1_loss: 0.5 d² / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is l1. */
export function smoothL1(pred: Tensor, target: Tensor, opts: { beta?: number; reduction?: Reduction } = {}): Tensor {
  checkOptions('smoothL1', opts, ['beta', 'reduction']);
  checkPair('smoothL1', pred, target);
  const beta = opts.beta ?? 1;
  requireFinite('smoothL1', 'beta', beta);
  if (beta < 0) throw opError('smoothL1', `beta must be >= 0, got ${beta}`, [pred, target]);
  const d = abs(sub(pred, target));
  const l = beta === 0 ? d : where(lt(d, beta), mul(square(d), 0.5 / beta), sub(d, 0.5 * beta));
  return reduce(l, opts.reduction ?? 'mean', 'smoothL1');
}

/** torch's kl_div: input holds log-probabilities; target probabilities (log-probabilities with logTarget).
 *  Pointwise target (log target - input), 0 where target is 0; 'batchmean' divides the sum by the first dimension. */
export function klDiv(input: Tensor, target: Tensor, opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  checkOptions('klDiv', opts, ['reduction', 'logTarget']);
  checkPair('klDiv', input, target);
  const l = opts.logTarget
    ? mul(exp(target), sub(target, input))
    : where(gt(target, 0), mul(target, sub(log(where(gt(target, 0), target, 1)), input)), 0);
  if (opts.reduction === 'batchmean') return div(sum(l), input.ndim === 0 ? 1 : input.shape[0]);
  return reduce(l, opts.reduction ?? 'mean', 'klDiv');
}

/** torch's binary_cross_entropy on probabilities: -(y log p + (1 - y) log(1 - p)), each log clamped at -100 as torch. */
export function bce(prob: Tensor, target: Tensor, opts: { weight?: Tensor; reduction?: Reduction } = {}): Tensor {
  checkOptions('bce', opts, ['weight', 'reduction']);
  checkPair('bce', prob, target);
  const y = target.dtype === 'float32' ? target : cast(target, 'float32');
  const logP = maximum(log(prob), -100), log1mP = maximum(log(sub(1, prob)), -100);
  let l = neg(add(mul(y, logP), mul(sub(1, y), log1mP)));
  if (opts.weight) l = mul(l, opts.weight);
  return reduce(l, opts.reduction ?? 'mean', 'bce');
}

/** torch's margin_ranking_loss: max(0, -y (x1 - x2) + margin), y = ±1. */
export function marginRanking(x1: Tensor, x2: Tensor, y: Tensor, opts: { margin?: number; reduction?: Reduction } = {}): Tensor {
  checkOptions('marginRanking', opts, ['margin', 'reduction']);
  commonBackend('marginRanking', [x1, x2, y]);
  const margin = opts.margin ?? 0;
  requireFinite('marginRanking', 'margin', margin);
  return reduce(relu(add(neg(mul(y, sub(x1, x2))), margin)), opts.reduction ?? 'mean', 'marginRanking');
}

/** torch's cosine_embedding_loss over rows [N, D] (or one [D]): 1 - cos where y = 1, max(0, cos - margin) where y = -1. */
export function cosineEmbedding(x1: Tensor, x2: Tensor, y: Tensor, opts: { margin?: number; reduction?: Reduction } = {}): Tensor {
  checkOptions('cosineEmbedding', opts, ['margin', 'reduction']);
  commonBackend('cosineEmbedding', [x1, x2, y]);
  const margin = opts.margin ?? 0;
  requireFinite('cosineEmbedding', 'margin', margin);
  // torch: cos = sum(x1 x2) / sqrt((sum x1² + 1e-12)(sum x2² + 1e-12))
  const axis = x1.ndim - 1;
  const cos = div(sum(mul(x1, x2), axis), sqrt(mul(add(sum(square(x1), axis), 1e-12), add(sum(square(x2), axis), 1e-12))));
  const l = where(eq(y, 1), sub(1, cos), where(eq(y, -1), relu(sub(cos, margin)), 0));
  return reduce(l, opts.reduction ?? 'mean', 'cosineEmbedding');
}
