// Pooling over NCL / NCHW / NCDHW tensors: max and average pooling through the
// maxPool / avgPool kernels (1-D and 2-D run as 3-D with depth 1), and adaptive
// average and max pooling (torch's windows start = floor(i In / Out), end = ceil((i + 1) In / Out)).
import type { PoolParams } from '../backend/interface.js';
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { fmtShape } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { contiguous, div } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './view.js';
import { indexSelect, scatterAdd } from './indexing.js';
import { max } from './reduce.js';
import { fromArray, zeros } from './creation.js';
import { spatialTriple, type Spatial, type SpatialArg } from './conv.js';

export interface PoolOptions {
  /** Default: the kernel size. One number for every spatial axis or one per axis. */
  stride?: SpatialArg;
  /** Implicit padding on both sides, at most half the kernel (as torch). */
  padding?: SpatialArg;
  /** Output size rounded up (a last window that starts inside the input or the left padding), as torch. */
  ceilMode?: boolean;
}

export interface MaxPoolOptions extends PoolOptions {
  /** Spacing of a window's cells (torch's dilation). */
  dilation?: SpatialArg;
  /** Also return the argmax of each window: its flat index within the (n, c) input plane, int32, as torch. */
  returnIndices?: boolean;
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the window including its padded cells (default true, torch's count_include_pad) or by
   *  the cells inside the input only. */
  countIncludePad?: boolean;
}

const LAYOUTS: Record<Spatial, string> = { 1: 'x [N, C, L]', 2: 'x [N, C, H, W]', 3: 'x [N, C, D, H, W]' };

function checkInput(op: string, spatial: Spatial, x: Tensor): void {
  commonBackend(op, [x]);
  requireFloat(op, [x]);
  if (x.ndim !== spatial + 2) throw opError(op, `expects ${LAYOUTS[spatial]}`, [x]);
}

/** torch's pooling_output_shape: floor or ceil of (in + 2 pad - dil (k - 1) - 1) / stride, plus one,
 *  less one in ceil mode when the last window would start in the right padding. */
function poolCount(size: number, k: number, stride: number, pad: number, dilation: number, ceil: boolean): number {
  const span = size + 2 * pad - dilation * (k - 1) - 1;
  let n = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (n - 1) * stride >= size + pad) n--;
  return n;
}

function poolParams(op: string, spatial: Spatial, x: Tensor, kernel: SpatialArg, opts: MaxPoolOptions & AvgPoolOptions,
  valid: string[]): PoolParams {
  checkOptions(op, opts, valid);
  checkInput(op, spatial, x);
  const k = spatialTriple(op, 'kernel size', kernel, spatial, 1, 1);
  const stride = opts.stride === undefined ? k : spatialTriple(op, 'stride', opts.stride, spatial, 1, 1);
  const padding = spatialTriple(op, 'padding', opts.padding ?? 0, spatial, 0, 0);
  const dilation = spatialTriple(op, 'dilation', opts.dilation ?? 1, spatial, 1, 1);
  if (padding.some((pad, a) => 2 * pad > k[a])) {
    throw opError(op, `padding ${fmtShape(padding.slice(3 - spatial))} must be at most half the kernel size ${fmtShape(k.slice(3 - spatial))}`, [x]);
  }
  const [N, C] = x.shape;
  const [D, H, W] = [...new Array<number>(3 - spatial).fill(1), ...x.shape.slice(2)];
  const [oD, oH, oW] = [D, H, W].map((s, a) => poolCount(s, k[a], stride[a], padding[a], dilation[a], opts.ceilMode ?? false));
  if (oD < 1 || oH < 1 || oW < 1) {
    const dilated = dilation.some((d) => d > 1) ? ` dilated by ${fmtShape(dilation.slice(3 - spatial))}` : '';
    throw opError(op, `the kernel ${fmtShape(k.slice(3 - spatial))}${dilated} is larger than the padded input ${fmtShape(x.shape.slice(2))}`, [x]);
  }
  return {
    N, C, D, H, W, kd: k[0], kh: k[1], kw: k[2], stride, padding, oD, oH, oW, dilation,
    count_include_pad: opts.countIncludePad === false ? 0 : 1,
  };
}

function outShape(spatial: Spatial, p: PoolParams): number[] {
  return [p.N, p.C, ...[p.oD, p.oH, p.oW].slice(3 - spatial)];
}

function maxPool(op: string, spatial: Spatial, x: Tensor, kernel: SpatialArg, opts: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  const p = poolParams(op, spatial, x, kernel, opts, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  const backend = x.backend;
  const shape = outShape(spatial, p);
  const out = emptyTensor(backend, shape, 'float32');
  const argmax = emptyTensor(backend, shape, 'int32');
  if (out.size > 0) {
    const xd = noGrad(() => contiguous(x));
    runKernel(op, [x], () => backend.maxPool(xd.denseBuf(), out.storage.buf!, argmax.storage.buf!, p), [out, argmax]);
    if (xd !== x) xd.dispose();
  }
  recordBackward(out, op, [x], (g) => {
    // argmax indexes each (n, c) input plane: scatter the gradient into the flattened planes.
    const planes = p.N * p.C, inPlane = p.D * p.H * p.W, outPlane = p.oD * p.oH * p.oW;
    const gx = zeros([planes, inPlane], { backend: backend.name });
    return [reshape(scatterAdd(gx, 1, reshape(argmax, [planes, outPlane]), reshape(contiguous(g), [planes, outPlane])), x.shape)];
  });
  if (opts.returnIndices) return [out, argmax];
  if (!out.node) argmax.dispose();
  return out;
}

function avgPool(op: string, spatial: Spatial, x: Tensor, kernel: SpatialArg, opts: AvgPoolOptions): Tensor {
  const p = poolParams(op, spatial, x, kernel, opts, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  const backend = x.backend;
  const out = emptyTensor(backend, outShape(spatial, p), 'float32');
  if (out.size > 0) {
    const xd = noGrad(() => contiguous(x));
    runKernel(op, [x], () => backend.avgPool(xd.denseBuf(), out.storage.buf!, p), [out]);
    if (xd !== x) xd.dispose();
  }
  return recordBackward(out, op, [x], (g) => {
    const gx = emptyTensor(backend, x.shape, 'float32');
    if (gx.size === 0) return [gx];
    const gd = contiguous(g);
    runKernel(op, [g], () => backend.avgPoolBackward(gd.denseBuf(), gx.storage.buf!, p), [gx]);
    return [gx];
  });
}

type WithIndices = MaxPoolOptions & { returnIndices: true };

/** Max pooling over x [N, C, L] (torch's max_pool1d); with returnIndices, [values, int32 indices]. */
export function maxPool1d(x: Tensor, kernelSize: SpatialArg, opts: WithIndices): [Tensor, Tensor];
export function maxPool1d(x: Tensor, kernelSize: SpatialArg, opts?: MaxPoolOptions): Tensor;
export function maxPool1d(x: Tensor, kernelSize: SpatialArg, opts: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPool('maxPool1d', 1, x, kernelSize, opts);
}
/** Max pooling over x [N, C, H, W] (torch's max_pool2d); any NaN in a window gives NaN. */
export function maxPool2d(x: Tensor, kernelSize: SpatialArg, opts: WithIndices): [Tensor, Tensor];
export function maxPool2d(x: Tensor, kernelSize: SpatialArg, opts?: MaxPoolOptions): Tensor;
export function maxPool2d(x: Tensor, kernelSize: SpatialArg, opts: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPool('maxPool2d', 2, x, kernelSize, opts);
}
/** Max pooling over x [N, C, D, H, W]. */
export function maxPool3d(x: Tensor, kernelSize: SpatialArg, opts: WithIndices): [Tensor, Tensor];
export function maxPool3d(x: Tensor, kernelSize: SpatialArg, opts?: MaxPoolOptions): Tensor;
export function maxPool3d(x: Tensor, kernelSize: SpatialArg, opts: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPool('maxPool3d', 3, x, kernelSize, opts);
}
/** Average pooling over x [N, C, L]; padded cells count in the divisor unless countIncludePad is false. */
export function avgPool1d(x: Tensor, kernelSize: SpatialArg, opts: AvgPoolOptions = {}): Tensor {
  return avgPool('avgPool1d', 1, x, kernelSize, opts);
}
/** Average pooling over x [N, C, H, W]; padded cells count in the divisor unless countIncludePad is false. */
export function avgPool2d(x: Tensor, kernelSize: SpatialArg, opts: AvgPoolOptions = {}): Tensor {
  return avgPool('avgPool2d', 2, x, kernelSize, opts);
}
/** Average pooling over x [N, C, D, H, W]. */
export function avgPool3d(x: Tensor, kernelSize: SpatialArg, opts: AvgPoolOptions = {}): Tensor {
  return avgPool('avgPool3d', 3, x, kernelSize, opts);
}

/** torch's adaptive windows as a 0/1 [inSize, outSize] membership matrix and the window lengths
 *  (kept apart so that the weights are exact in every precision). */
function adaptiveWindows(inSize: number, outSize: number): { member: Float32Array; lengths: Float32Array } {
  const member = new Float32Array(inSize * outSize), lengths = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize), end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) member[j * outSize + i] = 1;
    lengths[i] = end - start;
  }
  return { member, lengths };
}

function adaptiveSizes(op: string, spatial: Spatial, x: Tensor, outputSize: SpatialArg): { inSize: number[]; outSize: number[] } {
  checkInput(op, spatial, x);
  const outSize = spatialTriple(op, 'output size', outputSize, spatial, 1, 1).slice(3 - spatial);
  const inSize = x.shape.slice(2);
  if (inSize.some((s) => s < 1)) throw opError(op, 'the spatial axes must not be empty', [x]);
  return { inSize, outSize };
}

function adaptiveAvgPool(op: string, spatial: Spatial, x: Tensor, outputSize: SpatialArg): Tensor {
  const { inSize, outSize } = adaptiveSizes(op, spatial, x, outputSize);
  if (inSize.every((s, a) => s % outSize[a] === 0)) {
    const k = inSize.map((s, a) => s / outSize[a]);
    return avgPool(op, spatial, x, k, { stride: k });
  }
  // A box average is the product of per-axis averages: one small matmul per axis that changes.
  // The result is made dense so that it does not depend on which path ran.
  let y = x;
  for (let a = 0; a < spatial; a++) {
    if (inSize[a] === outSize[a]) continue;
    const axis = 2 + a;
    const { member, lengths } = adaptiveWindows(inSize[a], outSize[a]);
    const backend = x.backend.name;
    const sums = matmul(transpose(y, axis, -1), fromArray(member, [inSize[a], outSize[a]], { backend }));
    y = transpose(div(sums, fromArray(lengths, [outSize[a]], { backend })), axis, -1);
  }
  return contiguous(y);
}

/** Adaptive average pooling of x [N, C, L] to outputSize, as torch. */
export function adaptiveAvgPool1d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPool('adaptiveAvgPool1d', 1, x, outputSize);
}
/** Adaptive average pooling of x [N, C, H, W] to outputSize ([oH, oW] or one number), as torch. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPool('adaptiveAvgPool2d', 2, x, outputSize);
}
/** Adaptive average pooling of x [N, C, D, H, W] to outputSize ([oD, oH, oW] or one number). */
export function adaptiveAvgPool3d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPool('adaptiveAvgPool3d', 3, x, outputSize);
}

/**
 * Adaptive max pooling: windows equal and disjoint (sizes divisible) run the max-pool kernel; otherwise max is
 * separable, so each axis in turn gathers its windows (padded to the longest by repeating a cell of the
 * window, which leaves the max unchanged) and reduces them with max (NaN wins, as torch).
 */
function adaptiveMaxPool(op: string, spatial: Spatial, x: Tensor, outputSize: SpatialArg): Tensor {
  const { inSize, outSize } = adaptiveSizes(op, spatial, x, outputSize);
  if (inSize.every((s, a) => s % outSize[a] === 0)) {
    const k = inSize.map((s, a) => s / outSize[a]);
    return maxPool(op, spatial, x, k, { stride: k }) as Tensor;
  }
  let y = x;
  for (let a = 0; a < spatial; a++) {
    if (inSize[a] === outSize[a]) continue;
    const axis = 2 + a, n = inSize[a], m = outSize[a];
    const starts = Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
    const ends = Array.from({ length: m }, (_, i) => Math.ceil(((i + 1) * n) / m));
    const longest = Math.max(...ends.map((e, i) => e - starts[i]));
    const index = new Int32Array(m * longest);
    for (let i = 0; i < m; i++) for (let j = 0; j < longest; j++) index[i * longest + j] = Math.min(starts[i] + j, ends[i] - 1);
    const windows = indexSelect(y, axis, fromArray(index, [index.length], { backend: x.backend.name }));
    const shape = [...windows.shape];
    shape.splice(axis, 1, m, longest);
    y = max(reshape(windows, shape), axis + 1);
  }
  return contiguous(y);
}

/** Adaptive max pooling of x [N, C, L] to outputSize (torch's windows). */
export function adaptiveMaxPool1d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveMaxPool('adaptiveMaxPool1d', 1, x, outputSize);
}
/** Adaptive max pooling of x [N, C, H, W] to outputSize ([oH, oW] or one number). */
export function adaptiveMaxPool2d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveMaxPool('adaptiveMaxPool2d', 2, x, outputSize);
}
/** Adaptive max pooling of x [N, C, D, H, W] to outputSize ([oD, oH, oW] or one number). */
export function adaptiveMaxPool3d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveMaxPool('adaptiveMaxPool3d', 3, x, outputSize);
}
