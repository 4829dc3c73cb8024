// Convolution layers over the conv and transposed-conv ops, initialized as torch does
// (kaiming-uniform with a = sqrt(5) on the weight, bias U(+-1/sqrt(fan_in)), fan_in from the
// weight's dimension 1, which for a transposed conv is out/groups as in torch).
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { ModuleOptions } from './layers.js';
import { fans, kaimingUniform, uniform } from './init.js';
import {
  conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, spatialTriple,
  type ConvOptions, type Spatial, type SpatialArg,
} from '../ops/conv.js';
import { pad } from '../ops/combine.js';
import { MODULE_KEYS, moduleOptions, sizeSetting } from './validate.js';

export interface ConvLayerOptions extends ModuleOptions {
  stride?: SpatialArg;
  /** Numbers, or 'same' / 'valid' as the conv ops. */
  padding?: SpatialArg | 'same' | 'valid';
  dilation?: SpatialArg;
  groups?: number;
  bias?: boolean;
  /** torch's padding_mode: what the padding holds ('zeros', the default, or a pad() mode). */
  padMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
}

export interface ConvTransposeLayerOptions extends ModuleOptions {
  stride?: SpatialArg;
  padding?: SpatialArg;
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
  bias?: boolean;
}

const CONV_OPS = { 1: conv1d, 2: conv2d, 3: conv3d } as const;
const TRANSPOSE_OPS = { 1: convTranspose1d, 2: convTranspose2d, 3: convTranspose3d } as const;
const PAD_MODES = ['zeros', 'reflect', 'replicate', 'circular'];

/** The shared parameters: weight [a, b/groups, k...] where (a, b) is (out, in) for a conv and (in, out) for a
 *  transposed conv, and a bias [outChannels]. */
abstract class ConvBase extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly groups: number;
  protected readonly kernel: number[];

  constructor(name: string, spatial: Spatial, readonly inChannels: number, readonly outChannels: number,
    kernelSize: SpatialArg, opts: ModuleOptions & { groups?: number; bias?: boolean }, transposed: boolean) {
    super();
    sizeSetting(name, 'inChannels', inChannels);
    sizeSetting(name, 'outChannels', outChannels);
    this.groups = opts.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1 || inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`${name}: groups ${this.groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.kernel = spatialTriple(name, 'kernelSize', kernelSize, spatial, 1, 1).slice(3 - spatial);
    const shape = transposed ? [inChannels, outChannels / this.groups, ...this.kernel] : [outChannels, inChannels / this.groups, ...this.kernel];
    this.weight = this.param('weight', kaimingUniform(shape, { a: Math.sqrt(5), backend: opts.backend, generator: opts.generator }));
    const bound = fans(shape).fanIn > 0 ? 1 / Math.sqrt(fans(shape).fanIn) : 0;
    this.bias = opts.bias === false ? null
      : this.param('bias', uniform([outChannels], -bound, bound, { backend: opts.backend, generator: opts.generator }));
  }
}

abstract class ConvNd extends ConvBase {
  constructor(private readonly name: string, private readonly spatial: Spatial, inChannels: number, outChannels: number,
    kernelSize: SpatialArg, protected readonly opts: ConvLayerOptions) {
    moduleOptions(name, opts, [...MODULE_KEYS, 'stride', 'padding', 'dilation', 'groups', 'bias', 'padMode']);
    if (opts.padMode !== undefined && !PAD_MODES.includes(opts.padMode)) {
      throw new Error(`${name}: padMode must be one of ${PAD_MODES.join(', ')}, got ${JSON.stringify(opts.padMode)}`);
    }
    super(name, spatial, inChannels, outChannels, kernelSize, opts, false);
  }

  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, padMode } = this.opts;
    const o: ConvOptions = { bias: this.bias ?? undefined, stride, padding, dilation, groups: this.groups };
    if (padMode === undefined || padMode === 'zeros' || padding === undefined || padding === 'valid') return CONV_OPS[this.spatial](x, this.weight, o);
    // torch pads with the mode first, then convolves without padding.
    return CONV_OPS[this.spatial](pad(x, this.padsFor(padding, dilation ?? 1), { mode: padMode }), this.weight, { ...o, padding: 0 });
  }

  /** pad()'s list (last axis first) for a padding: the same on both sides, or 'same''s split. */
  private padsFor(padding: SpatialArg | 'same', dilation: SpatialArg): number[] {
    const sp = this.spatial;
    let before: number[], after: number[];
    if (padding === 'same') {
      const d = spatialTriple(this.name, 'dilation', dilation, sp, 1, 1).slice(3 - sp);
      const totals = this.kernel.map((k, a) => d[a] * (k - 1));
      before = totals.map((t) => Math.floor(t / 2));
      after = totals.map((t, a) => t - before[a]);
    } else {
      before = after = spatialTriple(this.name, 'padding', padding, sp, 0, 0).slice(3 - sp);
    }
    return before.map((b, a) => [b, after[a]]).reverse().flat();
  }
}

/** x [N, C, L] -> [N, O, oL]; weight [O, C/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvLayerOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
  }
}

/** x [N, C, H, W] -> [N, O, oH, oW]; weight [O, C/groups, kh, kw]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvLayerOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }
}

/** x [N, C, D, H, W] -> [N, O, oD, oH, oW]; weight [O, C/groups, kd, kh, kw]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvLayerOptions = {}) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, opts);
  }
}

abstract class ConvTransposeNd extends ConvBase {
  constructor(name: string, private readonly spatial: Spatial, inChannels: number, outChannels: number,
    kernelSize: SpatialArg, private readonly opts: ConvTransposeLayerOptions) {
    moduleOptions(name, opts, [...MODULE_KEYS, 'stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias']);
    super(name, spatial, inChannels, outChannels, kernelSize, opts, true);
  }

  forward(x: Tensor): Tensor {
    const { stride, padding, outputPadding, dilation } = this.opts;
    return TRANSPOSE_OPS[this.spatial](x, this.weight, { bias: this.bias ?? undefined, stride, padding, outputPadding, dilation, groups: this.groups });
  }
}

/** x [N, Cin, L] -> [N, Cout, oL]; weight [Cin, Cout/groups, k] (torch's layout, so state dicts load by name). */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, opts);
  }
}

/** x [N, Cin, H, W] -> [N, Cout, oH, oW]; weight [Cin, Cout/groups, kh, kw]. */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, opts);
  }
}

/** x [N, Cin, D, H, W] -> [N, Cout, oD, oH, oW]; weight [Cin, Cout/groups, kd, kh, kw]. */
export class ConvTranspose3d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose3d', 3, inChannels, outChannels, kernelSize, opts);
  }
}
