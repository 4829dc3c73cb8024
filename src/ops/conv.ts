// Convolutions: conv3d (NCDHW), conv2d and conv1d (run as conv3d with depth and height 1),
// with gradients for input, weight and bias through the conv, convBackwardInput and
// convBackwardWeight kernels; the transposed convolutions run the same three kernels in the
// other roles (their forward is the conv's input gradient).
import type { ConvParams } from '../backend/interface.js';
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { fmtShape } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { add, contiguous } from './elementwise.js';
import { reshape } from './view.js';
import { pad } from './combine.js';
import { sum } from './reduce.js';

export type SpatialArg = number | readonly number[];

export type Spatial = 1 | 2 | 3;

export interface ConvOptions {
  bias?: Tensor;
  /** One number for every spatial axis, or one per axis ([d, h, w] for conv3d, [h, w] for conv2d). */
  stride?: SpatialArg;
  /** Zeros on both sides of each axis, or 'valid' (none) or 'same' (output size = input size; stride 1;
   *  an odd total goes one more to the end, as torch). */
  padding?: SpatialArg | 'same' | 'valid';
  dilation?: SpatialArg;
  groups?: number;
}

export interface ConvTransposeOptions {
  bias?: Tensor;
  stride?: SpatialArg;
  /** Removed from both ends of each output axis (torch's padding of a transposed conv). */
  padding?: SpatialArg;
  /** Added at the end of each output axis; smaller than the stride. */
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
}

/**
 * A per-axis argument as [depth, height, width]: `spatial` values given (one number or a list),
 * depth taking `depthDefault` when only height and width are given (2-D ops).
 */
export function spatialTriple(op: string, name: string, v: SpatialArg, spatial: Spatial, min: number, depthDefault: number): [number, number, number] {
  const list = typeof v === 'number' ? new Array<number>(spatial).fill(v) : Array.isArray(v) ? [...v] : [];
  if (list.length !== spatial || list.some((s) => !Number.isInteger(s) || s < min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a list of ${spatial} of them, got ${JSON.stringify(v)}`);
  }
  return [...new Array<number>(3 - spatial).fill(depthDefault), ...list] as [number, number, number];
}

/** A tensor's spatial sizes seen as 3-D: the missing leading axes have size 1. */
function asTriple(spatialShape: readonly number[]): [number, number, number] {
  return [...new Array<number>(3 - spatialShape.length).fill(1), ...spatialShape] as [number, number, number];
}

const LAYOUTS: Record<Spatial, string> = {
  1: 'x [N, C, L] and w [O, C/groups, k]',
  2: 'x [N, C, H, W] and w [O, C/groups, kh, kw]',
  3: 'x [N, C, D, H, W] and w [O, C/groups, kd, kh, kw]',
};

/** torch's padding='same' (stride 1): dilation (k - 1) cells per axis, half before and the rest after;
 *  an odd total pads the input's end by one first. */
function samePadding(op: string, x: Tensor, w: Tensor, spatial: Spatial, dilation: SpatialArg, stride: SpatialArg): { x: Tensor; padding: number[] } {
  const s = spatialTriple(op, 'stride', stride, spatial, 1, 1);
  if (s.some((v) => v !== 1)) throw opError(op, `padding 'same' needs stride 1, got ${JSON.stringify(stride)}`, [x, w]);
  const d = spatialTriple(op, 'dilation', dilation, spatial, 1, 1).slice(3 - spatial);
  const totals = w.shape.slice(2).map((k, a) => d[a] * (k - 1));
  const before = totals.map((t) => Math.floor(t / 2));
  const extra = totals.map((t, a) => t - 2 * before[a]);
  if (extra.every((e) => e === 0)) return { x, padding: before };
  // pad() lists the last axis first.
  return { x: pad(x, [...extra].reverse().flatMap((e) => [0, e])), padding: before };
}

/** Output length of a sliding window: floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1. */
export function windowCount(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

function conv(op: string, spatial: Spatial, x: Tensor, w: Tensor, opts: ConvOptions): Tensor {
  checkOptions(op, opts, ['bias', 'stride', 'padding', 'dilation', 'groups']);
  const bias = opts.bias;
  const inputs = bias ? [x, w, bias] : [x, w];
  const backend = commonBackend(op, inputs);
  requireFloat(op, inputs);
  if (x.ndim !== spatial + 2 || w.ndim !== spatial + 2) throw opError(op, `expects ${LAYOUTS[spatial]}`, inputs);
  if (opts.padding === 'valid') return conv(op, spatial, x, w, { ...opts, padding: 0 });
  if (opts.padding === 'same') {
    const same = samePadding(op, x, w, spatial, opts.dilation ?? 1, opts.stride ?? 1);
    return conv(op, spatial, same.x, w, { ...opts, padding: same.padding });
  }
  const groups = opts.groups ?? 1;
  const stride = spatialTriple(op, 'stride', opts.stride ?? 1, spatial, 1, 1);
  const padding = spatialTriple(op, 'padding', opts.padding ?? 0, spatial, 0, 0);
  const dilation = spatialTriple(op, 'dilation', opts.dilation ?? 1, spatial, 1, 1);
  // Seen as 3-D: a 2-D tensor has depth 1, a 1-D one depth and height 1.
  const [N, C] = x.shape, [D, H, W] = asTriple(x.shape.slice(2));
  const [O, Cg] = w.shape, [kd, kh, kw] = asTriple(w.shape.slice(2));
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
  const outShape = [N, O, ...[oD, oH, oW].slice(3 - spatial)];
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
    return [gx, gw, bias?.requiresGrad ? sum(gd, [0, ...outShape.slice(2).map((_, a) => a + 2)]) : null];
  });
  // Without a backward the dense copies are garbage now.
  if (!out.node) for (const [copy, orig] of [[xd, x], [wd, w], [bd, bias]] as const) if (copy && copy !== orig) copy.dispose();
  return out;
}

/** 3-D convolution: x [N, C, D, H, W], w [O, C/groups, kd, kh, kw] -> [N, O, oD, oH, oW] (torch's conv3d). */
export function conv3d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor { return conv('conv3d', 3, x, w, opts); }

/** 2-D convolution: x [N, C, H, W], w [O, C/groups, kh, kw] -> [N, O, oH, oW] (torch's conv2d). */
export function conv2d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor { return conv('conv2d', 2, x, w, opts); }

/** 1-D convolution: x [N, C, L], w [O, C/groups, k] -> [N, O, oL] (torch's conv1d). */
export function conv1d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor { return conv('conv1d', 1, x, w, opts); }

const T_LAYOUTS: Record<Spatial, string> = {
  1: 'x [N, Cin, L] and w [Cin, Cout/groups, k]',
  2: 'x [N, Cin, H, W] and w [Cin, Cout/groups, kh, kw]',
  3: 'x [N, Cin, D, H, W] and w [Cin, Cout/groups, kd, kh, kw]',
};

/**
 * Transposed convolution (torch's conv_transpose{1,2,3}d): the input gradient of the convolution that maps
 * the output's shape back to x's, with w [Cin, Cout/groups, k...] as that convolution's weight. So the
 * forward is the convBackwardInput kernel, the input gradient the conv kernel, the weight gradient
 * convBackwardWeight with the roles of x and gy swapped.
 */
function convTranspose(op: string, spatial: Spatial, x: Tensor, w: Tensor, opts: ConvTransposeOptions): Tensor {
  checkOptions(op, opts, ['bias', 'stride', 'padding', 'outputPadding', 'dilation', 'groups']);
  const bias = opts.bias;
  const inputs = bias ? [x, w, bias] : [x, w];
  const backend = commonBackend(op, inputs);
  requireFloat(op, inputs);
  if (x.ndim !== spatial + 2 || w.ndim !== spatial + 2) throw opError(op, `expects ${T_LAYOUTS[spatial]}`, inputs);
  const groups = opts.groups ?? 1;
  const stride = spatialTriple(op, 'stride', opts.stride ?? 1, spatial, 1, 1);
  const padding = spatialTriple(op, 'padding', opts.padding ?? 0, spatial, 0, 0);
  const outputPadding = spatialTriple(op, 'outputPadding', opts.outputPadding ?? 0, spatial, 0, 0);
  const dilation = spatialTriple(op, 'dilation', opts.dilation ?? 1, spatial, 1, 1);
  const [N, Cin] = x.shape, [D, H, W] = asTriple(x.shape.slice(2));
  const [wIn, Cog] = w.shape, [kd, kh, kw] = asTriple(w.shape.slice(2));
  if (!Number.isInteger(groups) || groups < 1 || Cin % groups !== 0) {
    throw opError(op, `groups = ${groups} must be a positive integer dividing the ${Cin} input channels`, inputs);
  }
  if (wIn !== Cin) throw opError(op, `w has ${wIn} input channels; x has ${Cin}`, inputs);
  const Cout = Cog * groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== Cout)) throw opError(op, `bias must be [${Cout}]`, inputs);
  if ([kd, kh, kw].some((k) => k < 1)) throw opError(op, 'the kernel must be at least 1 in every spatial axis', inputs);
  if (outputPadding.some((o, a) => o >= stride[a])) {
    throw opError(op, `outputPadding ${fmtShape(outputPadding.slice(3 - spatial))} must be smaller than the stride ${fmtShape(stride.slice(3 - spatial))}`, inputs);
  }
  const size = (n: number, a: number, k: number) => (n - 1) * stride[a] - 2 * padding[a] + dilation[a] * (k - 1) + outputPadding[a] + 1;
  const [oD, oH, oW] = [size(D, 0, kd), size(H, 1, kh), size(W, 2, kw)];
  if (oD < 1 || oH < 1 || oW < 1) {
    throw opError(op, `the padding ${fmtShape(padding.slice(3 - spatial))} leaves no output (size ${fmtShape([oD, oH, oW].slice(3 - spatial))})`, inputs);
  }
  // The convolution this one transposes: input = our output, output = our input, O = Cin, C = Cout.
  const p: ConvParams = { N, C: Cout, D: oD, H: oH, W: oW, O: Cin, kd, kh, kw, stride, padding, dilation, groups, oD: D, oH: H, oW: W };
  const outShape = [N, Cout, ...[oD, oH, oW].slice(3 - spatial)];
  const out = emptyTensor(backend, outShape, 'float32');
  const [xd, wd] = noGrad(() => [contiguous(x), contiguous(w)]);
  if (out.size > 0) runKernel(op, inputs, () => backend.convBackwardInput(xd.denseBuf(), wd.denseBuf(), out.storage.buf!, p), [out]);
  recordBackward(out, op, [x, w], (g) => {
    const gd = contiguous(g);
    let gx: Tensor | null = null, gw: Tensor | null = null;
    if (x.requiresGrad) {
      gx = emptyTensor(backend, x.shape, 'float32');
      if (gx.size > 0) runKernel(op, [g], () => backend.conv(gd.denseBuf(), wd.denseBuf(), undefined, gx!.storage.buf!, p));
    }
    if (w.requiresGrad) {
      gw = emptyTensor(backend, w.shape, 'float32');
      if (gw.size > 0) runKernel(op, [g], () => backend.convBackwardWeight(gd.denseBuf(), xd.denseBuf(), gw!.storage.buf!, p));
    }
    return [gx, gw];
  });
  if (!out.node) for (const [copy, orig] of [[xd, x], [wd, w]] as const) if (copy !== orig) copy.dispose();
  return bias ? add(out, reshape(bias, [Cout, ...new Array<number>(spatial).fill(1)])) : out;
}

/** x [N, Cin, L], w [Cin, Cout/groups, k] -> [N, Cout, (L - 1) stride - 2 padding + dilation (k - 1) + outputPadding + 1]. */
export function convTranspose1d(x: Tensor, w: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  return convTranspose('convTranspose1d', 1, x, w, opts);
}
/** x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw] -> [N, Cout, oH, oW] (torch's conv_transpose2d). */
export function convTranspose2d(x: Tensor, w: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  return convTranspose('convTranspose2d', 2, x, w, opts);
}
/** x [N, Cin, D, H, W], w [Cin, Cout/groups, kd, kh, kw] -> [N, Cout, oD, oH, oW] (torch's conv_transpose3d). */
export function convTranspose3d(x: Tensor, w: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  return convTranspose('convTranspose3d', 3, x, w, opts);
}
