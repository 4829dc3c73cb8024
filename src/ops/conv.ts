// Convolutions: conv3d (NCDHW) and conv2d (NCHW, run as conv3d with depth 1),
// with gradients for input, weight and bias through the conv,
// convBackwardInput and convBackwardWeight kernels.
import type { ConvParams } from '../backend/interface.js';
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { fmtShape } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { contiguous } from './elementwise.js';
import { sum } from './reduce.js';

export type SpatialArg = number | readonly number[];

export interface ConvOptions {
  bias?: Tensor;
  /** One number for every spatial axis, or one per axis ([d, h, w] for conv3d, [h, w] for conv2d). */
  stride?: SpatialArg;
  padding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
}

/**
 * A per-axis argument as [depth, height, width]: `spatial` values given (one number or a list),
 * depth taking `depthDefault` when only height and width are given (2-D ops).
 */
export function spatialTriple(op: string, name: string, v: SpatialArg, spatial: 2 | 3, min: number, depthDefault: number): [number, number, number] {
  const list = typeof v === 'number' ? new Array<number>(spatial).fill(v) : [...v];
  if (list.length !== spatial || list.some((s) => !Number.isInteger(s) || s < min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a list of ${spatial} of them, got ${JSON.stringify(v)}`);
  }
  return (spatial === 3 ? list : [depthDefault, ...list]) as [number, number, number];
}

/** Output length of a sliding window: floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1. */
export function windowCount(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

function conv(op: string, spatial: 2 | 3, x: Tensor, w: Tensor, opts: ConvOptions): Tensor {
  checkOptions(op, opts, ['bias', 'stride', 'padding', 'dilation', 'groups']);
  const bias = opts.bias;
  const inputs = bias ? [x, w, bias] : [x, w];
  const backend = commonBackend(op, inputs);
  requireFloat(op, inputs);
  const layout = spatial === 3 ? 'x [N, C, D, H, W] and w [O, C/groups, kd, kh, kw]' : 'x [N, C, H, W] and w [O, C/groups, kh, kw]';
  if (x.ndim !== spatial + 2 || w.ndim !== spatial + 2) throw opError(op, `expects ${layout}`, inputs);
  const groups = opts.groups ?? 1;
  const stride = spatialTriple(op, 'stride', opts.stride ?? 1, spatial, 1, 1);
  const padding = spatialTriple(op, 'padding', opts.padding ?? 0, spatial, 0, 0);
  const dilation = spatialTriple(op, 'dilation', opts.dilation ?? 1, spatial, 1, 1);
  // Seen as 3-D: a 2-D tensor has depth 1.
  const [N, C, D, H, W] = spatial === 3 ? x.shape : [x.shape[0], x.shape[1], 1, x.shape[2], x.shape[3]];
  const [O, Cg, kd, kh, kw] = spatial === 3 ? w.shape : [w.shape[0], w.shape[1], 1, w.shape[2], w.shape[3]];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0) {
    throw opError(op, `groups = ${groups} must be a positive integer dividing both the ${C} input and ${O} output channels`, inputs);
  }
  if (Cg * groups !== C) throw opError(op, `w has ${Cg} input channels per group; x has ${C} channels in ${groups} group(s), so ${C / groups} were expected`, inputs);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw opError(op, `bias must be [${O}]`, inputs);
  if ([kd, kh, kw].some((k) => k < 1)) throw opError(op, 'the kernel must be at least 1 in every spatial axis', inputs);
  const [oD, oH, oW] = [windowCount(D, kd, stride[0], padding[0], dilation[0]),
    windowCount(H, kh, stride[1], padding[1], dilation[1]), windowCount(W, kw, stride[2], padding[2], dilation[2])];
  if (oD < 1 || oH < 1 || oW < 1) {
    throw opError(op, `the kernel (dilated, ${fmtShape(w.shape.slice(2))} x dilation ${fmtShape(dilation.slice(3 - spatial))}) ` +
      `is larger than the padded input ${fmtShape(x.shape.slice(2))} + 2 x ${fmtShape(padding.slice(3 - spatial))}`, inputs);
  }
  const p: ConvParams = { N, C, D, H, W, O, kd, kh, kw, stride, padding, dilation, groups, oD, oH, oW };
  const outShape = spatial === 3 ? [N, O, oD, oH, oW] : [N, O, oH, oW];
  const out = emptyTensor(backend, outShape, 'float32');
  // Dense copies stay alive for the backward (x for dW, w for dX).
  const [xd, wd, bd] = noGrad(() => [contiguous(x), contiguous(w), bias && contiguous(bias)]);
  if (out.size > 0) runKernel(op, inputs, () => backend.conv(xd.denseBuf(), wd.denseBuf(), bd?.denseBuf(), out.storage.buf!, p), [out]);
  recordBackward(out, op, inputs, (g) => {
    const gd = contiguous(g);
    let gx: Tensor | null = null, gw: Tensor | null = null;
    if (x.requiresGrad) {
      gx = emptyTensor(backend, x.shape, 'float32');
      if (gx.size > 0) runKernel(op, [g], () => backend.convBackwardInput(gd.denseBuf(), wd.denseBuf(), gx!.storage.buf!, p));
    }
    if (w.requiresGrad) {
      gw = emptyTensor(backend, w.shape, 'float32');
      if (gw.size > 0) runKernel(op, [g], () => backend.convBackwardWeight(xd.denseBuf(), gd.denseBuf(), gw!.storage.buf!, p));
    }
    const spatialAxes = spatial === 3 ? [0, 2, 3, 4] : [0, 2, 3];
    return [gx, gw, bias?.requiresGrad ? sum(gd, spatialAxes) : null];
  });
  // Without a backward the dense copies are garbage now.
  if (!out.node) for (const [copy, orig] of [[xd, x], [wd, w], [bd, bias]] as const) if (copy && copy !== orig) copy.dispose();
  return out;
}

/** 3-D convolution: x [N, C, D, H, W], w [O, C/groups, kd, kh, kw] -> [N, O, oD, oH, oW] (torch's conv3d). */
export function conv3d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor { return conv('conv3d', 3, x, w, opts); }

/** 2-D convolution: x [N, C, H, W], w [O, C/groups, kh, kw] -> [N, O, oH, oW] (torch's conv2d). */
export function conv2d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor { return conv('conv2d', 2, x, w, opts); }
