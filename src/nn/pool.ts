// Parameter-free spatial layers as torch's modules over the functional ops: pooling (max, average,
// adaptive; 1-D to 3-D) and resizing (Upsample).
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { interpolate, type InterpolateOptions } from '../ops/resize.js';
import {
  maxPool1d, maxPool2d, maxPool3d, avgPool1d, avgPool2d, avgPool3d,
  adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d, adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d,
  type AvgPoolOptions, type MaxPoolOptions,
} from '../ops/pool.js';
import type { SpatialArg } from '../ops/conv.js';
import { checkOptions } from '../ops/util.js';

/** torch.nn.Upsample: interpolate(x, { size | scaleFactor, mode (default 'nearest'), alignCorners }). */
export class Upsample extends Module {
  constructor(private readonly opts: InterpolateOptions) {
    super();
    checkOptions('Upsample', opts, ['size', 'scaleFactor', 'mode', 'alignCorners']);
    if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new Error('Upsample: give exactly one of size and scaleFactor');
  }
  forward(x: Tensor): Tensor { return interpolate(x, this.opts); }
}

/** Max pooling options of the modules: the op's, without returnIndices (forward returns one tensor). */
export type MaxPoolLayerOptions = Omit<MaxPoolOptions, 'returnIndices'>;
const MAX_KEYS = ['stride', 'padding', 'dilation', 'ceilMode'];
const AVG_KEYS = ['stride', 'padding', 'ceilMode', 'countIncludePad'];

abstract class PoolLayer<O extends object> extends Module {
  constructor(name: string, readonly kernelSize: SpatialArg, protected readonly opts: O, keys: string[]) {
    super();
    checkOptions(name, opts, keys);
  }
}

export class MaxPool1d extends PoolLayer<MaxPoolLayerOptions> {
  constructor(kernelSize: SpatialArg, opts: MaxPoolLayerOptions = {}) { super('MaxPool1d', kernelSize, opts, MAX_KEYS); }
  forward(x: Tensor): Tensor { return maxPool1d(x, this.kernelSize, this.opts); }
}
export class MaxPool2d extends PoolLayer<MaxPoolLayerOptions> {
  constructor(kernelSize: SpatialArg, opts: MaxPoolLayerOptions = {}) { super('MaxPool2d', kernelSize, opts, MAX_KEYS); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
}
export class MaxPool3d extends PoolLayer<MaxPoolLayerOptions> {
  constructor(kernelSize: SpatialArg, opts: MaxPoolLayerOptions = {}) { super('MaxPool3d', kernelSize, opts, MAX_KEYS); }
  forward(x: Tensor): Tensor { return maxPool3d(x, this.kernelSize, this.opts); }
}
export class AvgPool1d extends PoolLayer<AvgPoolOptions> {
  constructor(kernelSize: SpatialArg, opts: AvgPoolOptions = {}) { super('AvgPool1d', kernelSize, opts, AVG_KEYS); }
  forward(x: Tensor): Tensor { return avgPool1d(x, this.kernelSize, this.opts); }
}
export class AvgPool2d extends PoolLayer<AvgPoolOptions> {
  constructor(kernelSize: SpatialArg, opts: AvgPoolOptions = {}) { super('AvgPool2d', kernelSize, opts, AVG_KEYS); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
}
export class AvgPool3d extends PoolLayer<AvgPoolOptions> {
  constructor(kernelSize: SpatialArg, opts: AvgPoolOptions = {}) { super('AvgPool3d', kernelSize, opts, AVG_KEYS); }
  forward(x: Tensor): Tensor { return avgPool3d(x, this.kernelSize, this.opts); }
}

/** Adaptive pooling to a fixed output size (torch's AdaptiveAvgPool / AdaptiveMaxPool). */
abstract class AdaptivePool extends Module {
  constructor(readonly outputSize: SpatialArg) { super(); }
}
export class AdaptiveAvgPool1d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveAvgPool1d(x, this.outputSize); } }
export class AdaptiveAvgPool2d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); } }
export class AdaptiveAvgPool3d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveAvgPool3d(x, this.outputSize); } }
export class AdaptiveMaxPool1d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveMaxPool1d(x, this.outputSize); } }
export class AdaptiveMaxPool2d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveMaxPool2d(x, this.outputSize); } }
export class AdaptiveMaxPool3d extends AdaptivePool { forward(x: Tensor): Tensor { return adaptiveMaxPool3d(x, this.outputSize); } }
