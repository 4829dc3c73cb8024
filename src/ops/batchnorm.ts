// Functional batch normalization over channel axis 1 of any [N, C, ...] input
// (what BatchNorm1d/2d/3d run). With batch statistics it is one node on the
// tape with its own backward (as torch's), and each direction is one fused
// kernel (batchNormForward: the statistics and the normalization with the
// residual add and the activation; batchNormBackward: the activation's and the
// normalization's closed-form backward). It keeps x and the per-channel
// statistics only; composed op by op, a Conv-BN-SiLU block cost about seven
// passes over the activations forward and ten backward. With running
// statistics (eval) it is composed from elementwise ops.
// Follows torch: training normalizes with the biased batch variance and moves
// the running variance toward the unbiased one; eval uses the running statistics.
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor, scope } from '../tensor.js';
import { numel } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFinite, requireFloat, runKernel } from './util.js';
import { add, contiguous, mul, relu, rsqrt, silu, sub } from './elementwise.js';
import { ones, zeros } from './creation.js';
import { reshape, select } from './view.js';

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
  /** Applied last, in the same tape node: then the backward needs no copy of the pre-activation values
   *  (it recomputes them from x). */
  activation?: 'relu' | 'silu';
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
  if (activation !== undefined && activation !== 'relu' && activation !== 'silu') {
    throw new Error(`batchNorm: activation must be 'relu' or 'silu' (or absent), got '${activation}'`);
  }
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
  return activation === 'relu' ? relu(y) : activation === 'silu' ? silu(y) : y;
}

/** Normalizes x with its own batch statistics (moving the running ones when given): one tape node, whose
 *  forward and backward are one backend call each (batchNormForward / batchNormBackward). */
function batchStatistics(x: Tensor, count: number, eps: number,
  { weight, bias, addend, activation }: Pick<BatchNormOptions, 'weight' | 'bias' | 'addend' | 'activation'>,
  running: { runningMean?: Tensor; runningVar?: Tensor; momentum: number } | undefined): Tensor {
  const op = 'batchNorm', backend = x.backend;
  const C = x.shape[1];
  const p = { outer: x.shape[0], channels: C, inner: numel(x.shape.slice(2)), eps, act: activation ?? 'none' } as const;
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(addend ? [addend] : [])];
  // Kept for the backward, which recomputes the pre-activation from x rather than keeping it.
  const xd = contiguous(x), addendDense = addend && contiguous(addend);
  const w = weight ? contiguous(weight) : ones([C], { backend: backend.name });
  const b = bias ? contiguous(bias) : zeros([C], { backend: backend.name });
  const out = emptyTensor(backend, x.shape, 'float32'), stats = emptyTensor(backend, [2, C], 'float32');
  // An empty batch (eval without running statistics) has nothing to normalize and no statistics.
  if (count > 0) runKernel(op, inputs, () => backend.batchNormForward(xd.denseBuf(), w.denseBuf(), b.denseBuf(), addendDense?.denseBuf(),
    out.storage.buf!, stats.storage.buf!, p), [out, stats]);
  const { runningMean, runningVar, momentum } = running ?? {};
  if (runningMean && runningVar) {
    // torch moves the running variance toward the unbiased batch variance.
    noGrad(() => scope(() => {
      runningMean.assign(add(mul(runningMean, 1 - momentum!), mul(select(stats, 0, 0), momentum!)));
      runningVar.assign(add(mul(runningVar, 1 - momentum!), mul(select(stats, 0, 1), (momentum! * count) / (count - 1))));
    }));
  }
  recordBackward(out, op, inputs, (gOut) => {
    const g = contiguous(gOut);
    const gx = emptyTensor(backend, x.shape, 'float32');
    const sums = count > 0 ? emptyTensor(backend, [2, C], 'float32') : zeros([2, C], { backend: backend.name });
    const gz = addend?.requiresGrad ? emptyTensor(backend, x.shape, 'float32') : undefined;
    if (count > 0) runKernel(op, [gOut], () => backend.batchNormBackward(g.denseBuf(), xd.denseBuf(), w.denseBuf(), b.denseBuf(),
      addendDense?.denseBuf(), stats.denseBuf(), gx.storage.buf!, sums.storage.buf!, gz?.storage.buf!, p), [gx, sums, gz]);
    const grads: (Tensor | null)[] = [x.requiresGrad ? gx : null];
    if (weight) grads.push(weight.requiresGrad ? select(sums, 0, 1) : null);
    if (bias) grads.push(bias.requiresGrad ? select(sums, 0, 0) : null);
    if (addend) grads.push(gz ?? null);
    return grads;
  });
  if (!out.requiresGrad) {
    for (const [kept, given] of [[stats, undefined], [xd, x], [w, weight], [b, bias], [addendDense, addend]] as const) {
      if (kept && kept !== given) kept.dispose();
    }
  }
  return out;
}
