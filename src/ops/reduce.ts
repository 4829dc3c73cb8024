// Reductions over any set of axes, with keepdims. Their gradients are rules in src/gradients.ts.
import type { ReduceOp } from '../backend/interface.js';
import { record } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { normAxes, normAxis, numel } from '../shape.js';
import { asOp, checkOptions, commonBackend, opError, requireFinite, runKernel } from './util.js';
import { cast, contiguous, div, eq, exp, log, mul, sqrt, sub, add, where } from './elementwise.js';
import { detach, permute, reshape } from './view.js';
import { full } from './creation.js';

export interface ReduceOptions { keepdims?: boolean }

export function keptShape(shape: readonly number[], axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((s, i) => (axes.includes(i) ? 1 : s)) : shape.filter((_, i) => !axes.includes(i));
}

/** Runs the [outer, size, inner] kernel for any axes: directly when the axes are one dense run, else after a permute + copy. */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const backend = commonBackend(op, [x]);
  // int32 sums and products are accumulated by the int32 kernels (exact where float32 would round above 2^24).
  const exactInt = x.dtype === 'int32' && (op === 'sum' || op === 'prod');
  const xf = x.dtype === 'float32' || exactInt ? x : cast(x, 'float32');
  const outShape = keptShape(x.shape, axes, keepdims);
  const isArg = op === 'argmax' || op === 'argmin';
  // Checked before anything is allocated, so a refused reduction leaves nothing behind.
  if (numel(axes.map((a) => x.shape[a])) === 0 && numel(outShape) > 0 && op !== 'sum' && op !== 'prod') {
    throw opError(op, 'cannot reduce over an empty axis', [x]);
  }
  const out = emptyTensor(backend, outShape, isArg || exactInt ? 'int32' : 'float32');
  if (out.size === 0) return out;
  const run = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!run && axes.length > 0 && !isArg) return reduceRuns(op, x, xf, axes, out);
  let src: Tensor, outer: number, size: number, inner: number;
  if (run) {
    src = contiguous(xf);
    outer = numel(x.shape.slice(0, axes[0]));
    size = numel(axes.map((a) => x.shape[a]));
    inner = numel(x.shape.slice(axes[axes.length - 1] + 1));
  } else {
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    src = contiguous(permute(xf, [...kept, ...axes]));
    outer = numel(kept.map((a) => x.shape[a]));
    size = numel(axes.map((a) => x.shape[a]));
    inner = 1;
  }
  runKernel(op, [x], () => backend.reduce(op, src.denseBuf(), outer, size, inner, out.storage.buf!),
    [out, src !== x ? src : null, xf !== x ? xf : null]);
  if (src !== xf) src.dispose();
  return out;
}

/** Reduces axes that form several runs (sorted, not one dense run) one run at a time, the innermost first, each a
 *  dense [outer, size, inner] pass that keeps the run as size-1 axes; the last pass writes `out`. Summing the 2 x 2
 *  blocks of a [N, C, h, 2, w, 2] gradient (a nearest upsampling's) or the bias gradient of a conv over [0, 2, 3]
 *  this way reads x once and its shrinking partial results, where a transposing copy first wrote all of x again. */
function reduceRuns(op: ReduceOp, x: Tensor, xf: Tensor, axes: number[], out: Tensor): Tensor {
  const backend = out.backend;
  const runs: number[][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && a === last[last.length - 1] + 1) last.push(a); else runs.push([a]);
  }
  let src = contiguous(xf);
  const shape = [...x.shape];
  for (let r = runs.length - 1; r >= 0; r--) {
    const axesOfRun = runs[r];
    const outer = numel(shape.slice(0, axesOfRun[0])), size = numel(axesOfRun.map((a) => shape[a]));
    const inner = numel(shape.slice(axesOfRun[axesOfRun.length - 1] + 1));
    for (const a of axesOfRun) shape[a] = 1;
    const target = r === 0 ? out : emptyTensor(backend, shape, out.dtype);
    const from = src;
    runKernel(op, [x], () => backend.reduce(op, from.denseBuf(), outer, size, inner, target.storage.buf!),
      [target !== out ? target : null, out, from !== x && from !== xf ? from : null, xf !== x ? xf : null]);
    if (from !== x && from !== xf) from.dispose();
    src = target;
  }
  if (xf !== x) xf.dispose();
  return out;
}

export function sum(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const ax = normAxes('sum', axes, x.ndim);
  return record(reduceRaw('sum', x, ax, keepdims), 'sum', [x], { axes: ax });
}

export function mean(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return asOp('mean', () => {
    const ax = normAxes('mean', axes, x.ndim);
    const n = numel(ax.map((a) => x.shape[a]));
    return div(sum(x, ax, keepdims), n);
  });
}

/** Product (int32 for int32 x). */
export function prod(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const ax = normAxes('prod', axes, x.ndim);
  const out = reduceRaw('prod', x, ax, keepdims);
  return record(out, 'prod', [x], { axes: ax });
}

function extremum(op: 'max' | 'min', x: Tensor, axes: number | number[] | undefined, keepdims: boolean): Tensor {
  const ax = normAxes(op, axes, x.ndim);
  const out = reduceRaw(op, x, ax, keepdims);
  return record(out, op, [x], { axes: ax });
}

export const max = (x: Tensor, axes?: number | number[], keepdims = false): Tensor => extremum('max', x, axes, keepdims);
export const min = (x: Tensor, axes?: number | number[], keepdims = false): Tensor => extremum('min', x, axes, keepdims);

/** Index (int32) of the largest value along `axis` (the whole flattened tensor when omitted); first on ties. */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  commonBackend('argmax', [x]);
  if (axis === undefined) return reduceRaw('argmax', reshape(x, [x.size]), [0], false);
  return reduceRaw('argmax', x, normAxes('argmax', axis, x.ndim), keepdims);
}
export function argmin(x: Tensor, axis?: number, keepdims = false): Tensor {
  commonBackend('argmin', [x]);
  if (axis === undefined) return reduceRaw('argmin', reshape(x, [x.size]), [0], false);
  return reduceRaw('argmin', x, normAxes('argmin', axis, x.ndim), keepdims);
}

export interface VarOptions { correction?: number; keepdims?: boolean }

/** Variance with Bessel's correction by default (torch: correction = 1). */
export function variance(x: Tensor, axes?: number | number[], opts: VarOptions = {}): Tensor {
  return asOp('var', () => varianceOf(x, axes, opts));
}

function varianceOf(x: Tensor, axes: number | number[] | undefined, opts: VarOptions): Tensor {
  checkOptions('var', opts, ['correction', 'keepdims']);
  const correction = opts.correction ?? 1;
  requireFinite('var', 'correction', correction);
  const ax = normAxes('var', axes, x.ndim);
  const n = numel(ax.map((a) => x.shape[a]));
  const centered = sub(x, mean(x, ax, true));
  return div(sum(mul(centered, centered), ax, !!opts.keepdims), Math.max(n - correction, 0));
}

export const std = (x: Tensor, axes?: number | number[], opts: VarOptions = {}): Tensor => asOp('std', () => sqrt(variance(x, axes, opts)));

/** log(sum(exp(x))) computed stably around the maximum. */
export function logsumexp(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return asOp('logsumexp', () => logsumexpOf(x, axes, keepdims));
}

function logsumexpOf(x: Tensor, axes: number | number[] | undefined, keepdims: boolean): Tensor {
  const ax = normAxes('logsumexp', axes, x.ndim);
  if (ax.some((a) => x.shape[a] === 0)) return full(keptShape(x.shape, ax, keepdims), -Infinity, { backend: x.backend.name }); // log(0), as torch
  const m = detach(max(x, ax, true));
  const safeM = where(eq(m, Infinity), 0, where(eq(m, -Infinity), 0, m));
  const s = log(sum(exp(sub(x, safeM)), ax, true));
  const out = add(s, safeM);
  return keepdims ? out : reshape(out, keptShape(x.shape, ax, false));
}
