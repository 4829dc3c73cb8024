// Convolution layers over the conv2d/conv3d ops, initialized as torch does
// (kaiming-uniform with a = sqrt(5) on the weight, bias U(+-1/sqrt(fan_in))).
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { ModuleOptions } from './layers.js';
import { fans, kaimingUniform, uniform } from './init.js';
import { conv2d, conv3d, spatialTriple, type SpatialArg } from '../ops/conv.js';
import { MODULE_KEYS, moduleOptions, sizeSetting } from './validate.js';

export interface ConvLayerOptions extends ModuleOptions {
  stride?: SpatialArg;
  padding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
  bias?: boolean;
}

abstract class ConvNd extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly groups: number;

  constructor(name: string, spatial: 2 | 3, readonly inChannels: number, readonly outChannels: number,
    kernelSize: SpatialArg, protected readonly opts: ConvLayerOptions) {
    super();
    moduleOptions(name, opts, [...MODULE_KEYS, 'stride', 'padding', 'dilation', 'groups', 'bias']);
    sizeSetting(name, 'inChannels', inChannels);
    sizeSetting(name, 'outChannels', outChannels);
    this.groups = opts.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1 || inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`${name}: groups ${this.groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const k = spatialTriple(name, 'kernelSize', kernelSize, spatial, 1, 1).slice(3 - spatial);
    const shape = [outChannels, inChannels / this.groups, ...k];
    this.weight = this.param('weight', kaimingUniform(shape, { a: Math.sqrt(5), backend: opts.backend, generator: opts.generator }));
    const bound = fans(shape).fanIn > 0 ? 1 / Math.sqrt(fans(shape).fanIn) : 0;
    this.bias = opts.bias === false ? null
      : this.param('bias', uniform([outChannels], -bound, bound, { backend: opts.backend, generator: opts.generator }));
  }

  protected convOptions() {
    const { stride, padding, dilation } = this.opts;
    return { bias: this.bias ?? undefined, stride, padding, dilation, groups: this.groups };
  }
}

/** x [N, C, H, W] -> [N, O, oH, oW]; weight [O, C/groups, kh, kw]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvLayerOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor { return conv2d(x, this.weight, this.convOptions()); }
}

/** x [N, C, D, H, W] -> [N, O, oD, oH, oW]; weight [O, C/groups, kd, kh, kw]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvLayerOptions = {}) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor { return conv3d(x, this.weight, this.convOptions()); }
}
