// Functional batch normalization over channel axis 1 of any [N, C, ...] input
// (what BatchNorm1d/2d/3d run), computed with reductions and elementwise ops.
// With batch statistics it is one node on the tape with its own backward (as
// torch's): it keeps x and the per-channel mean and 1/std only, where the op
// by op composition kept four full-size intermediates per call, and its
// backward is the closed form (a few passes, not the chain of every op's rule).
// Follows torch: training normalizes with the biased batch variance and moves
// the running variance toward the unbiased one; eval uses the running statistics.
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, scope } from '../tensor.js';
import { numel } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFinite, requireFloat } from './util.js';
import { add, gt, mul, relu, rsqrt, square, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape } from './view.js';

export interface BatchNormOptions {
  /** Running mean [C], updated in place while training. */
  runningMean?: Tensor;
  /** Running variance [C], updated in place while training. */
  runningVar?: Tensor;
  /** Scale gamma [C]. */
  weight?: Tensor;
  /** Shift beta [C]. */
  bias?: Tensor;
  /** Batch statistics (and running-stat updates) when true; running statistics when false. Default true. */
  training?: boolean;
  /** Weight of the new batch in the running statistics (torch's default 0.1). */
  momentum?: number;
  eps?: number;
  /** Added to the normalized result before the activation (a residual connection), shaped as x. */
  addend?: Tensor;
  /** Applied last, in the same tape node: then the backward needs no copy of the pre-activation values. */
  activation?: 'relu';
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x [N, C, ...], then `+ addend` and the
 * activation when given (relu(batchNorm(x) + residual), a ResNet block's end, as one node that keeps no
 * intermediate). Without running statistics the batch statistics are used in eval too (torch's
 * track_running_stats=False).
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions = {}): Tensor {
  checkOptions('batchNorm', opts, ['runningMean', 'runningVar', 'weight', 'bias', 'training', 'momentum', 'eps', 'addend', 'activation']);
  const { runningMean, runningVar, weight, bias, addend, activation } = opts;
  const training = opts.training ?? true, momentum = opts.momentum ?? 0.1, eps = opts.eps ?? 1e-5;
  const params = [runningMean, runningVar, weight, bias].filter((t): t is Tensor => t !== undefined);
  commonBackend('batchNorm', [x, ...params, ...(addend ? [addend] : [])]);
  requireFloat('batchNorm', [x, ...params, ...(addend ? [addend] : [])]);
  if (activation !== undefined && activation !== 'relu') throw new Error(`batchNorm: activation must be 'relu' (or absent), got '${activation}'`);
  if (addend && (addend.ndim !== x.ndim || addend.shape.some((s, i) => s !== x.shape[i]))) {
    throw opError('batchNorm', 'addend must have the shape of x', [x, addend]);
  }
  requireFinite('batchNorm', 'eps', eps);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batchNorm: momentum must be in [0, 1], got ${momentum}`);
  if (x.ndim < 2) throw opError('batchNorm', 'expects x [N, C, ...] (channels on axis 1)', [x]);
  const C = x.shape[1];
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw opError('batchNorm', `${name} must be [${C}] for ${C} channels`, [x, t]);
  }
  if (!runningMean !== !runningVar) throw new Error('batchNorm: give both runningMean and runningVar, or neither');
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = x.shape.map((s, i) => (i === 1 ? s : 1));
  const count = numel(axes.map((a) => x.shape[a]));
  const asChannels = (t: Tensor) => reshape(t, perChannel);
  if (training || !runningMean) {
    if (count < 2 && training) {
      throw opError('batchNorm', `expected more than 1 value per channel when training (${count} per channel)`, [x]);
    }
    return batchStatistics(x, count, eps, { weight, bias, addend, activation }, training ? { runningMean, runningVar, momentum } : undefined);
  }
  let y = mul(sub(x, asChannels(runningMean)), rsqrt(add(asChannels(runningVar!), eps)));
  if (weight) y = mul(y, asChannels(weight));
  if (bias) y = add(y, asChannels(bias));
  if (addend) y = add(y, addend);
  return activation === 'relu' ? relu(y) : y;
}

/** t [N, C, ...] summed to [1, C, 1, ...]: over the trailing axes first (a dense run, no transposed copy), then N. */
function channelSum(t: Tensor): Tensor {
  const trailing = t.shape.map((_, i) => i).slice(2);
  return sum(trailing.length ? sum(t, trailing, true) : t, [0], true);
}

/** Normalizes x with its own batch statistics (moving the running ones when given): one tape node. */
function batchStatistics(x: Tensor, count: number, eps: number,
  { weight, bias, addend, activation }: Pick<BatchNormOptions, 'weight' | 'bias' | 'addend' | 'activation'>,
  running: { runningMean?: Tensor; runningVar?: Tensor; momentum: number } | undefined): Tensor {
  const C = x.shape[1];
  const perChannel = x.shape.map((s, i) => (i === 1 ? s : 1));
  const asChannels = (t: Tensor) => reshape(t, perChannel);
  const { y, mu, invStd } = noGrad(() => scope(() => {
    const mu = mul(channelSum(x), 1 / count);
    const centered = sub(x, mu);
    const biasedVar = mul(channelSum(square(centered)), 1 / count);
    const invStd = rsqrt(add(biasedVar, eps));
    const normalized = mul(centered, weight ? mul(invStd, asChannels(weight)) : invStd);
    const { runningMean, runningVar, momentum } = running ?? {};
    if (runningMean && runningVar) {
      runningMean.assign(add(mul(runningMean, 1 - momentum!), mul(reshape(mu, [C]), momentum!)));
      runningVar.assign(add(mul(runningVar, 1 - momentum!), mul(reshape(biasedVar, [C]), (momentum! * count) / (count - 1))));
    }
    let y = bias ? add(normalized, asChannels(bias)) : normalized;
    if (addend) y = add(y, addend);
    return { y: activation === 'relu' ? relu(y) : y, mu, invStd };
  }));
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(addend ? [addend] : [])];
  const out = recordBackward(y, 'batchNorm', inputs, (gOut) => {
    // relu passes g where its output is positive (where its input was, without keeping the input).
    const g = activation === 'relu' ? mul(gOut, gt(y, 0)) : gOut;
    // With xhat = (x - mu) * invStd: d bias = sum g, d weight = sum g * xhat, and
    // dx = weight * invStd * (g - mean(g) - xhat * mean(g * xhat)), sums and means per channel.
    const centered = sub(x, mu);
    const gSum = channelSum(g);
    const gCenteredSum = channelSum(mul(g, centered));
    const scale = weight ? mul(invStd, asChannels(weight)) : invStd;
    const gx = x.requiresGrad
      ? mul(sub(sub(g, mul(centered, mul(square(invStd), mul(gCenteredSum, 1 / count)))), mul(gSum, 1 / count)), scale)
      : null;
    const grads: (Tensor | null)[] = [gx];
    if (weight) grads.push(weight.requiresGrad ? reshape(mul(gCenteredSum, invStd), [C]) : null);
    if (bias) grads.push(bias.requiresGrad ? reshape(gSum, [C]) : null);
    if (addend) grads.push(addend.requiresGrad ? g : null);
    return grads;
  });
  if (!out.requiresGrad) { mu.dispose(); invStd.dispose(); }
  return out;
}
