// Parameter-free spatial layers: resizing (Upsample) as torch's modules, over the functional ops.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { interpolate, type InterpolateOptions } from '../ops/resize.js';
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
