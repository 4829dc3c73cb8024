// Sorting and selection: sort, argsort, topk, max/min along an axis with their positions, unique. The order comes
// from the backends' argsort kernel (stable, NaN above every number, as torch.sort); values are gathered at the
// sorted positions, so their gradients scatter back into exactly those positions (the gather rule).
import { Tensor, emptyTensor } from '../tensor.js';
import { normAxis, numel } from '../shape.js';
import { checkOptions, commonBackend, opError, runKernel } from './util.js';
import { contiguous } from './elementwise.js';
import { argmax, argmin } from './reduce.js';
import { gather } from './indexing.js';
import { reshape, slice, squeeze } from './view.js';
import { fromArray } from './creation.js';

export interface SortOptions {
  /** Axis to sort along (default -1, the last). */
  axis?: number;
  descending?: boolean;
  /** Accepted for torch compatibility: the sort is always stable. */
  stable?: boolean;
}

/** int32 positions along axis `d` that sort x (x's shape), from the backend's kernel. */
function sortedPositions(op: string, x: Tensor, d: number, descending: boolean): Tensor {
  const backend = commonBackend(op, [x]);
  if (x.dtype !== 'float32') {
    throw opError(op, `sorts float32 tensors on the ${backend.name} backend (cast int32 first; above 2^24 float32 rounds it)`, [x]);
  }
  if (x.shape[d] > 2 ** 31 - 1) throw opError(op, `axis ${d} is too long for int32 positions`, [x]);
  const out = emptyTensor(backend, x.shape, 'int32');
  if (out.size === 0) return out;
  const src = contiguous(x);
  const outer = numel(x.shape.slice(0, d)), size = x.shape[d], inner = numel(x.shape.slice(d + 1));
  runKernel(op, [x], () => backend.argsort(src.denseBuf(), outer, size, inner, descending, out.storage.buf!), [out]);
  if (src !== x) src.dispose();
  return out;
}

/** The rank-1 view of a 0-d tensor (torch sorts a scalar as a 1-element axis). */
const atLeast1d = (x: Tensor): Tensor => (x.ndim === 0 ? reshape(x, [1]) : x);
const like = (t: Tensor, x: Tensor): Tensor => (x.ndim === 0 ? reshape(t, []) : t);

/** torch.sort: values and int32 indices along an axis; stable, NaN sorted above every number. */
export function sort(x: Tensor, opts: SortOptions = {}): { values: Tensor; indices: Tensor } {
  checkOptions('sort', opts, ['axis', 'descending', 'stable']);
  commonBackend('sort', [x]);
  const x1 = atLeast1d(x);
  const d = normAxis('sort', opts.axis ?? -1, x1.ndim);
  const indices = sortedPositions('sort', x1, d, !!opts.descending);
  return { values: like(gather(x1, d, indices), x), indices: like(indices, x) };
}

/** torch.argsort: the int32 indices of sort(x, opts). */
export function argsort(x: Tensor, opts: SortOptions = {}): Tensor {
  checkOptions('argsort', opts, ['axis', 'descending', 'stable']);
  commonBackend('argsort', [x]);
  const x1 = atLeast1d(x);
  return like(sortedPositions('argsort', x1, normAxis('argsort', opts.axis ?? -1, x1.ndim), !!opts.descending), x);
}

export interface TopkOptions {
  axis?: number;
  /** The k largest (default) or the k smallest. */
  largest?: boolean;
  /** Accepted for torch compatibility: the result is always sorted (largest first, or smallest first). */
  sorted?: boolean;
}

/** torch.topk: the k largest (or smallest) values along an axis and their int32 indices, ties by position. */
export function topk(x: Tensor, k: number, opts: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  checkOptions('topk', opts, ['axis', 'largest', 'sorted']);
  commonBackend('topk', [x]);
  const x1 = atLeast1d(x);
  const d = normAxis('topk', opts.axis ?? -1, x1.ndim);
  if (!Number.isInteger(k) || k < 0 || k > x1.shape[d]) {
    throw opError('topk', `k = ${k} must be an integer in [0, ${x1.shape[d]}] (the size of axis ${d})`, [x]);
  }
  const order = sortedPositions('topk', x1, d, opts.largest ?? true);
  const indices = contiguous(slice(order, d, 0, k));
  if (indices !== order) order.dispose();
  return { values: like(gather(x1, d, indices), x), indices: like(indices, x) };
}

function extremumWithIndices(op: 'maxWithIndices' | 'minWithIndices', x: Tensor, axis: number, keepdims: boolean):
  { values: Tensor; indices: Tensor } {
  commonBackend(op, [x]);
  const x1 = atLeast1d(x);
  const d = normAxis(op, axis, x1.ndim);
  if (x1.shape[d] === 0) throw opError(op, `cannot reduce over the empty axis ${d}`, [x]);
  const idx = (op === 'maxWithIndices' ? argmax : argmin)(x1, d, true);
  const values = gather(x1, d, idx);
  if (keepdims || x.ndim === 0) return { values: like(values, x), indices: like(idx, x) };
  return { values: squeeze(values, d), indices: squeeze(idx, d) };
}

/** torch.max(x, dim, keepdim): the largest values along `axis` and their int32 indices (first on ties, NaN
 *  propagates); the gradient goes to the selected position only. */
export const maxWithIndices = (x: Tensor, axis: number, keepdims = false) => extremumWithIndices('maxWithIndices', x, axis, keepdims);
/** torch.min(x, dim, keepdim). */
export const minWithIndices = (x: Tensor, axis: number, keepdims = false) => extremumWithIndices('minWithIndices', x, axis, keepdims);

export interface UniqueOptions {
  /** Ascending values (default); false keeps the order of first occurrence. */
  sorted?: boolean;
  /** Also return, for every element of x, the index of its value in `values` (int32, x's shape). */
  returnInverse?: boolean;
  /** Also return how often each value occurs (int32). */
  returnCounts?: boolean;
}

export interface UniqueResult { values: Tensor; inverse?: Tensor; counts?: Tensor }

/** The unique values of x, flattened (torch.unique). Its size depends on the data, so it reads x back to the host;
 *  on a backend without synchronous reads (webgpu) use uniqueAsync. Not differentiable (as torch). */
export function unique(x: Tensor, opts: UniqueOptions = {}): UniqueResult {
  checkOptions('unique', opts, ['sorted', 'returnInverse', 'returnCounts']);
  commonBackend('unique', [x]);
  if (!x.backend.syncRead) throw opError('unique', `reads its input back; on the ${x.backend.name} backend use uniqueAsync`, [x]);
  return uniqueOf(x, x.dataSync(), opts);
}

export async function uniqueAsync(x: Tensor, opts: UniqueOptions = {}): Promise<UniqueResult> {
  checkOptions('uniqueAsync', opts, ['sorted', 'returnInverse', 'returnCounts']);
  commonBackend('uniqueAsync', [x]);
  return uniqueOf(x, await x.data(), opts);
}

function uniqueOf(x: Tensor, data: Float32Array | Int32Array, opts: UniqueOptions): UniqueResult {
  // NaN !== NaN, so every NaN is its own value, as in torch.unique; NaN sorts last.
  const slot = new Map<number, number>(), values: number[] = [], counts: number[] = [];
  const inverse = new Int32Array(data.length);
  data.forEach((v, i) => {
    let s = Number.isNaN(v) ? undefined : slot.get(Object.is(v, -0) ? 0 : v);
    if (s === undefined) {
      s = values.length;
      values.push(v); counts.push(0);
      if (!Number.isNaN(v)) slot.set(Object.is(v, -0) ? 0 : v, s);
    }
    counts[s]++;
    inverse[i] = s;
  });
  let order = values.map((_, i) => i);
  if (opts.sorted ?? true) {
    const key = (i: number) => (Number.isNaN(values[i]) ? Infinity : values[i]);
    order = order.sort((a, b) => key(a) - key(b) || (Number.isNaN(values[a]) ? 1 : 0) - (Number.isNaN(values[b]) ? 1 : 0) || a - b);
  }
  const rank = new Int32Array(values.length);
  order.forEach((s, r) => { rank[s] = r; });
  const backend = x.backend.name;
  const result: UniqueResult = { values: fromArray(order.map((s) => values[s]), [values.length], { backend, dtype: x.dtype }) };
  if (opts.returnInverse) result.inverse = fromArray(inverse.map((s) => rank[s]), x.shape, { backend, dtype: 'int32' });
  if (opts.returnCounts) result.counts = fromArray(order.map((s) => counts[s]), [values.length], { backend, dtype: 'int32' });
  return result;
}
