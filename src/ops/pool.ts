// Pooling over NCHW / NCDHW tensors: max and average pooling through the
// maxPool / avgPool kernels (2-D runs as 3-D with depth 1), and adaptive
// average pooling (torch's windows start = floor(i In / Out), end = ceil((i + 1) In / Out)).
import type { PoolParams } from '../backend/interface.js';
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { fmtShape } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { contiguous, div } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './view.js';
import { scatterAdd } from './indexing.js';
import { fromArray, zeros } from './creation.js';
import { spatialTriple, windowCount, type SpatialArg } from './conv.js';

export interface PoolOptions {
  /** Default: the kernel size. One number for every spatial axis or one per axis. */
  stride?: SpatialArg;
  /** Implicit padding on both sides, at most half the kernel (as torch). */
  padding?: SpatialArg;
}

function checkInput(op: string, spatial: 2 | 3, x: Tensor): void {
  commonBackend(op, [x]);
  requireFloat(op, [x]);
  if (x.ndim !== spatial + 2) throw opError(op, `expects x [N, C, ${spatial === 3 ? 'D, ' : ''}H, W]`, [x]);
}

function poolParams(op: string, spatial: 2 | 3, x: Tensor, kernel: SpatialArg, opts: PoolOptions): PoolParams {
  checkOptions(op, opts, ['stride', 'padding']);
  checkInput(op, spatial, x);
  const k = spatialTriple(op, 'kernel size', kernel, spatial, 1, 1);
  const stride = opts.stride === undefined ? k : spatialTriple(op, 'stride', opts.stride, spatial, 1, 1);
  const padding = spatialTriple(op, 'padding', opts.padding ?? 0, spatial, 0, 0);
  if (padding.some((pad, a) => 2 * pad > k[a])) {
    throw opError(op, `padding ${fmtShape(padding.slice(3 - spatial))} must be at most half the kernel size ${fmtShape(k.slice(3 - spatial))}`, [x]);
  }
  const [N, C, D, H, W] = spatial === 3 ? x.shape : [x.shape[0], x.shape[1], 1, x.shape[2], x.shape[3]];
  const [oD, oH, oW] = [D, H, W].map((s, a) => windowCount(s, k[a], stride[a], padding[a], 1));
  if (oD < 1 || oH < 1 || oW < 1) {
    throw opError(op, `the kernel ${fmtShape(k.slice(3 - spatial))} is larger than the padded input ${fmtShape(x.shape.slice(2))}`, [x]);
  }
  return { N, C, D, H, W, kd: k[0], kh: k[1], kw: k[2], stride, padding, oD, oH, oW };
}

function outShape(spatial: 2 | 3, p: PoolParams): number[] {
  return spatial === 3 ? [p.N, p.C, p.oD, p.oH, p.oW] : [p.N, p.C, p.oH, p.oW];
}

function maxPool(op: string, spatial: 2 | 3, x: Tensor, kernel: SpatialArg, opts: PoolOptions): Tensor {
  const p = poolParams(op, spatial, x, kernel, opts);
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
  if (!out.node) argmax.dispose();
  return out;
}

function avgPool(op: string, spatial: 2 | 3, x: Tensor, kernel: SpatialArg, opts: PoolOptions): Tensor {
  const p = poolParams(op, spatial, x, kernel, opts);
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

/** Max pooling over x [N, C, H, W] (torch's max_pool2d, without dilation or ceil mode). */
export function maxPool2d(x: Tensor, kernelSize: SpatialArg, opts: PoolOptions = {}): Tensor {
  return maxPool('maxPool2d', 2, x, kernelSize, opts);
}
/** Max pooling over x [N, C, D, H, W]. */
export function maxPool3d(x: Tensor, kernelSize: SpatialArg, opts: PoolOptions = {}): Tensor {
  return maxPool('maxPool3d', 3, x, kernelSize, opts);
}
/** Average pooling over x [N, C, H, W]; padded cells count in the divisor (torch's count_include_pad=True). */
export function avgPool2d(x: Tensor, kernelSize: SpatialArg, opts: PoolOptions = {}): Tensor {
  return avgPool('avgPool2d', 2, x, kernelSize, opts);
}
/** Average pooling over x [N, C, D, H, W]; padded cells count in the divisor. */
export function avgPool3d(x: Tensor, kernelSize: SpatialArg, opts: PoolOptions = {}): Tensor {
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

function adaptiveAvgPool(op: string, spatial: 2 | 3, x: Tensor, outputSize: SpatialArg): Tensor {
  checkInput(op, spatial, x);
  const outSize = spatialTriple(op, 'output size', outputSize, spatial, 1, 1).slice(3 - spatial);
  const inSize = x.shape.slice(2);
  if (inSize.some((s) => s < 1)) throw opError(op, 'the spatial axes must not be empty', [x]);
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

/** Adaptive average pooling of x [N, C, H, W] to outputSize ([oH, oW] or one number), as torch. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPool('adaptiveAvgPool2d', 2, x, outputSize);
}
/** Adaptive average pooling of x [N, C, D, H, W] to outputSize ([oD, oH, oW] or one number). */
export function adaptiveAvgPool3d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPool('adaptiveAvgPool3d', 3, x, outputSize);
}
