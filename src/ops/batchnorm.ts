// Functional batch normalization over channel axis 1 of any [N, C, ...] input
// (what BatchNorm1d/2d/3d run), composed from reductions and elementwise ops
// so that autograd needs nothing new. Follows torch: training normalizes with
// the biased batch variance and moves the running variance toward the
// unbiased one; eval uses the running statistics.
import { noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import { numel } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFinite, requireFloat } from './util.js';
import { add, mul, rsqrt, square, sub } from './elementwise.js';
import { mean } from './reduce.js';
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
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x [N, C, ...].
 * Without running statistics the batch statistics are used in eval too (torch's track_running_stats=False).
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions = {}): Tensor {
  checkOptions('batchNorm', opts, ['runningMean', 'runningVar', 'weight', 'bias', 'training', 'momentum', 'eps']);
  const { runningMean, runningVar, weight, bias } = opts;
  const training = opts.training ?? true, momentum = opts.momentum ?? 0.1, eps = opts.eps ?? 1e-5;
  const params = [runningMean, runningVar, weight, bias].filter((t): t is Tensor => t !== undefined);
  commonBackend('batchNorm', [x, ...params]);
  requireFloat('batchNorm', [x, ...params]);
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
  let y: Tensor;
  if (training || !runningMean) {
    if (count < 2 && training) {
      throw opError('batchNorm', `expected more than 1 value per channel when training (${count} per channel)`, [x]);
    }
    const mu = mean(x, axes, true);
    const centered = sub(x, mu);
    const biasedVar = mean(square(centered), axes, true);
    y = mul(centered, rsqrt(add(biasedVar, eps)));
    if (training && runningMean && runningVar) {
      noGrad(() => {
        runningMean.assign(add(mul(runningMean, 1 - momentum), mul(reshape(mu, [C]), momentum)));
        runningVar.assign(add(mul(runningVar, 1 - momentum), mul(reshape(biasedVar, [C]), (momentum * count) / (count - 1))));
      });
    }
  } else {
    y = mul(sub(x, asChannels(runningMean)), rsqrt(add(asChannels(runningVar!), eps)));
  }
  if (weight) y = mul(y, asChannels(weight));
  if (bias) y = add(y, asChannels(bias));
  return y;
}
