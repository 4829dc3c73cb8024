// Normalization layers composed from ops (their gradients come from the ops'
// own): LayerNorm, RMSNorm, GroupNorm, and BatchNorm1d/2d/3d over the
// functional batchNorm. Each has a functional form that the module calls, so
// models can normalize with weights they hold themselves.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { ModuleOptions } from './layers.js';
import { add, mul, rsqrt, square, sub } from '../ops/elementwise.js';
import { mean, variance } from '../ops/reduce.js';
import { reshape } from '../ops/view.js';
import { ones, zeros } from '../ops/creation.js';
import { opError } from '../ops/util.js';
import { batchNorm, type BatchNormOptions } from '../ops/batchnorm.js';
import { fmtShape } from '../shape.js';
import { MODULE_KEYS, moduleOptions, probabilitySetting, sizeSetting } from './validate.js';

function trailingAxes(op: string, x: Tensor, normalizedShape: readonly number[], affine: Tensor[]): number[] {
  const k = normalizedShape.length;
  if (k === 0 || x.ndim < k || normalizedShape.some((s, i) => x.shape[x.ndim - k + i] !== s)) {
    throw opError(op, `input must end with the normalized shape ${fmtShape(normalizedShape)}`, [x, ...affine]);
  }
  for (const t of affine) {
    if (t.ndim !== k || t.shape.some((s, i) => s !== normalizedShape[i])) {
      throw opError(op, `weight and bias must have the normalized shape ${fmtShape(normalizedShape)}`, [x, ...affine]);
    }
  }
  return Array.from({ length: k }, (_, i) => x.ndim - k + i);
}

function affine(y: Tensor, weight?: Tensor, bias?: Tensor): Tensor {
  const scaled = weight ? mul(y, weight) : y;
  return bias ? add(scaled, bias) : scaled;
}

export interface NormOptions { weight?: Tensor; bias?: Tensor; eps?: number }

/** (x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalizedShape` axes (biased variance, as torch). */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}): Tensor {
  const params = [opts.weight, opts.bias].filter((t): t is Tensor => !!t);
  const axes = trailingAxes('layerNorm', x, normalizedShape, params);
  const centered = sub(x, mean(x, axes, true));
  const inv = rsqrt(add(variance(x, axes, { correction: 0, keepdims: true }), opts.eps ?? 1e-5));
  return affine(mul(centered, inv), opts.weight, opts.bias);
}

// torch.nn.RMSNorm's default eps is the dtype's machine epsilon.
const FLOAT32_EPS = 2 ** -23;

/** x / sqrt(mean(x^2) + eps) * weight over the trailing `normalizedShape` axes. */
export function rmsNorm(x: Tensor, normalizedShape: readonly number[], opts: Omit<NormOptions, 'bias'> = {}): Tensor {
  const axes = trailingAxes('rmsNorm', x, normalizedShape, opts.weight ? [opts.weight] : []);
  const inv = rsqrt(add(mean(square(x), axes, true), opts.eps ?? FLOAT32_EPS));
  return affine(mul(x, inv), opts.weight);
}

/** Normalizes x [N, C, ...] over each group of C/numGroups channels and the spatial axes; per-channel weight/bias [C]. */
export function groupNorm(x: Tensor, numGroups: number, opts: NormOptions = {}): Tensor {
  const params = [opts.weight, opts.bias].filter((t): t is Tensor => !!t);
  if (x.ndim < 2 || !Number.isInteger(numGroups) || numGroups <= 0 || x.shape[1] % numGroups !== 0) {
    throw opError('groupNorm', `input must be [N, C, ...] with C divisible by numGroups ${numGroups}`, [x, ...params]);
  }
  const C = x.shape[1];
  if (params.some((t) => t.ndim !== 1 || t.shape[0] !== C)) throw opError('groupNorm', `weight and bias must be [${C}]`, [x, ...params]);
  const grouped = reshape(x, [x.shape[0], numGroups, -1]);
  const y = reshape(layerNorm(grouped, [grouped.shape[2]], { eps: opts.eps ?? 1e-5 }), x.shape);
  const channelShape = x.shape.map((_, i) => (i === 1 ? C : 1));
  return affine(y, opts.weight && reshape(opts.weight, channelShape), opts.bias && reshape(opts.bias, channelShape));
}

export interface LayerNormOptions extends ModuleOptions {
  eps?: number;
  /** Learnable per-element weight (ones) and bias (zeros); default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether there is a bias; default true. */
  bias?: boolean;
}

const shapeOf = (s: number | readonly number[]): number[] => (typeof s === 'number' ? [s] : [...s]);

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    moduleOptions('LayerNorm', opts, [...MODULE_KEYS, 'eps', 'elementwiseAffine', 'bias']);
    this.normalizedShape = shapeOf(normalizedShape);
    for (const s of this.normalizedShape) sizeSetting('LayerNorm', 'each size of normalizedShape', s);
    this.eps = opts.eps ?? 1e-5;
    const on = opts.elementwiseAffine ?? true;
    this.weight = on ? this.param('weight', ones(this.normalizedShape, { backend: opts.backend })) : null;
    this.bias = on && opts.bias !== false ? this.param('bias', zeros(this.normalizedShape, { backend: opts.backend })) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight ?? undefined, bias: this.bias ?? undefined, eps: this.eps });
  }
}

export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  constructor(normalizedShape: number | readonly number[], opts: Omit<LayerNormOptions, 'bias'> = {}) {
    super();
    moduleOptions('RMSNorm', opts, [...MODULE_KEYS, 'eps', 'elementwiseAffine']);
    this.normalizedShape = shapeOf(normalizedShape);
    for (const s of this.normalizedShape) sizeSetting('RMSNorm', 'each size of normalizedShape', s);
    this.eps = opts.eps ?? FLOAT32_EPS;
    this.weight = (opts.elementwiseAffine ?? true) ? this.param('weight', ones(this.normalizedShape, { backend: opts.backend })) : null;
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight ?? undefined, eps: this.eps });
  }
}

export class GroupNorm extends Module {
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, opts: ModuleOptions & { eps?: number; affine?: boolean } = {}) {
    super();
    moduleOptions('GroupNorm', opts, [...MODULE_KEYS, 'eps', 'affine']);
    sizeSetting('GroupNorm', 'numChannels', numChannels);
    if (!Number.isInteger(numGroups) || numGroups <= 0 || numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    }
    this.eps = opts.eps ?? 1e-5;
    const on = opts.affine ?? true;
    this.weight = on ? this.param('weight', ones([numChannels], { backend: opts.backend })) : null;
    this.bias = on ? this.param('bias', zeros([numChannels], { backend: opts.backend })) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(`GroupNorm(${this.numGroups}, ${this.numChannels}): expected input [N, ${this.numChannels}, ...], got ${x.describe()}`);
    }
    return groupNorm(x, this.numGroups, { weight: this.weight ?? undefined, bias: this.bias ?? undefined, eps: this.eps });
  }
}

export interface BatchNormLayerOptions extends ModuleOptions {
  eps?: number;
  /** Weight of each new batch in the running statistics; default 0.1 (torch). */
  momentum?: number;
  /** Learnable per-channel weight (ones) and bias (zeros); default true. */
  affine?: boolean;
  /** Keep running mean/variance buffers for eval mode; without them eval uses batch statistics. Default true. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalization over channel axis 1; the dimension-specific subclasses only check
 * the input rank. Buffers running_mean (zeros) and running_var (ones) carry torch's names.
 */
abstract class BatchNormNd extends Module {
  readonly eps: number;
  readonly momentum: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  constructor(readonly numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super();
    moduleOptions(this.constructor.name, opts, [...MODULE_KEYS, 'eps', 'momentum', 'affine', 'trackRunningStats']);
    sizeSetting(this.constructor.name, 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    probabilitySetting(this.constructor.name, 'momentum', this.momentum);
    const on = { backend: opts.backend };
    const affine = opts.affine ?? true;
    this.weight = affine ? this.param('weight', ones([numFeatures], on)) : null;
    this.bias = affine ? this.param('bias', zeros([numFeatures], on)) : null;
    const track = opts.trackRunningStats ?? true;
    this.runningMean = track ? this.buffer('running_mean', zeros([numFeatures], on)) : null;
    this.runningVar = track ? this.buffer('running_var', ones([numFeatures], on)) : null;
  }

  /** Normalizes x; `fused` adds a residual and/or applies ReLU or SiLU within the same batchNorm node (see batchNorm). */
  forward(x: Tensor, fused: Pick<BatchNormOptions, 'addend' | 'activation'> = {}): Tensor {
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.constructor.name}(${this.numFeatures}): expected input ${this.layout} with C = ${this.numFeatures}, got ${x.describe()}`);
    }
    return batchNorm(x, {
      runningMean: this.runningMean ?? undefined, runningVar: this.runningVar ?? undefined,
      weight: this.weight ?? undefined, bias: this.bias ?? undefined,
      training: this.training, momentum: this.momentum, eps: this.eps, ...fused,
    });
  }
}

/** Input [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormNd {
  protected readonly ranks = [2, 3];
  protected readonly layout = '[N, C] or [N, C, L]';
}
/** Input [N, C, H, W]. */
export class BatchNorm2d extends BatchNormNd {
  protected readonly ranks = [4];
  protected readonly layout = '[N, C, H, W]';
}
/** Input [N, C, D, H, W]. */
export class BatchNorm3d extends BatchNormNd {
  protected readonly ranks = [5];
  protected readonly layout = '[N, C, D, H, W]';
}
