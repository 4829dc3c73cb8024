// Joining and cutting tensors: concat, stack, split, chunk, pad (constant, reflect, replicate, circular).
// concat and constant pad allocate their output once and copy each input into its region (the backends' copy
// with a Placement); their gradients are slices of the upstream gradient. Cutting is slicing (views).
import { Tensor, emptyTensor } from '../tensor.js';
import { denseStrides, normAxis } from '../shape.js';
import { recordBackward } from '../tape.js';
import { checkOptions, commonBackend, opError, runKernel } from './util.js';
import { full, fromArray } from './creation.js';
import { indexSelect } from './indexing.js';
import { slice, unsqueeze } from './view.js';

export function concat(ts: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new Error('concat: needs at least one tensor');
  const backend = commonBackend('concat', ts);
  const d = normAxis('concat', axis, ts[0].ndim);
  const ref = ts[0];
  for (const t of ts) {
    if (t.ndim !== ref.ndim || t.shape.some((s, i) => i !== d && s !== ref.shape[i]) || t.dtype !== ref.dtype) {
      throw opError('concat', `all tensors must share dtype and shape except on axis ${d}`, ts);
    }
  }
  const starts: number[] = [];
  let length = 0;
  for (const t of ts) { starts.push(length); length += t.shape[d]; }
  const shape = [...ref.shape];
  shape[d] = length;
  const out = emptyTensor(backend, shape, ref.dtype);
  if (out.size > 0) {
    const strides = denseStrides(shape), buf = out.storage.buf!;
    runKernel('concat', ts, () => ts.forEach((t, i) => {
      if (t.size > 0) backend.copy(t.view(), buf, { offset: starts[i] * strides[d], strides });
    }), [out]);
  }
  return recordBackward(out, 'concat', ts, (g) => ts.map((t, i) => slice(g, d, starts[i], starts[i] + t.shape[d])));
}

export function stack(ts: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new Error('stack: needs at least one tensor');
  commonBackend('stack', ts);
  const d = normAxis('stack', axis, ts[0].ndim + 1);
  for (const t of ts) if (t.ndim !== ts[0].ndim || t.shape.some((s, i) => s !== ts[0].shape[i])) {
    throw opError('stack', 'all tensors must have the same shape', ts);
  }
  return concat(ts.map((t) => unsqueeze(t, d)), d);
}

/** Pieces of the given sizes (or of size `sizes` each, the last smaller) along axis, as views. */
export function split(x: Tensor, sizes: number | number[], axis = 0): Tensor[] {
  const d = normAxis('split', axis, x.ndim);
  const n = x.shape[d];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw opError('split', `size must be a positive integer, got ${sizes}`, [x]);
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = sizes;
    if (list.reduce((a, b) => a + b, 0) !== n) throw opError('split', `sizes ${JSON.stringify(sizes)} do not add up to ${n}`, [x]);
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of list) { out.push(slice(x, d, start, start + s)); start += s; }
  return out;
}

/** `chunks` nearly equal pieces (torch.chunk: each of size ceil(n / chunks)). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw opError('chunk', `chunks must be a positive integer, got ${chunks}`, [x]);
  const d = normAxis('chunk', axis, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

export interface PadOptions {
  /** 'constant' (default) fills with `value`; the others read the border as torch does. */
  mode?: PadMode;
  /** The fill of 'constant' (default 0). */
  value?: number;
}

const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * torch.nn.functional.pad: `pads` = [lastBefore, lastAfter, prevBefore, prevAfter, ...]. The third argument is
 * the constant fill, or `{ mode, value }`: 'reflect' mirrors without repeating the edge (pads < size),
 * 'replicate' repeats the edge, 'circular' wraps around (pads <= size).
 */
export function pad(x: Tensor, pads: number[], valueOrOptions: number | PadOptions = 0): Tensor {
  commonBackend('pad', [x]);
  const opts: PadOptions = typeof valueOrOptions === 'number' ? { value: valueOrOptions } : valueOrOptions;
  checkOptions('pad', opts, ['mode', 'value']);
  const mode = opts.mode ?? 'constant', value = opts.value ?? 0;
  if (!PAD_MODES.includes(mode)) throw opError('pad', `mode must be one of ${PAD_MODES.join(', ')}, got ${JSON.stringify(mode)}`, [x]);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.ndim || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw opError('pad', `pads ${JSON.stringify(pads)} must be pairs of non-negative integers for at most ${x.ndim} axes`, [x]);
  }
  if (mode !== 'constant') {
    if (opts.value !== undefined) throw opError('pad', `value is only for mode 'constant', not '${mode}'`, [x]);
    return padByIndex(x, pads, mode);
  }
  const shape = [...x.shape];
  const starts = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const axis = x.ndim - 1 - i;
    starts[axis] = pads[2 * i];
    shape[axis] += pads[2 * i] + pads[2 * i + 1];
  }
  // The output is the fill value with x copied into its interior region (the backends' copy with a Placement);
  // the gradient is that region of the upstream gradient.
  const out = full(shape, value, { backend: x.backend.name, dtype: x.dtype });
  if (x.size > 0) {
    const strides = denseStrides(shape), offset = starts.reduce((a, st, axis) => a + st * strides[axis], 0);
    runKernel('pad', [x], () => x.backend.copy(x.view(), out.storage.buf!, { offset, strides }), [out]);
  }
  return recordBackward(out, 'pad', [x], (g) => {
    let inside = g;
    for (let axis = 0; axis < x.ndim; axis++) {
      if (shape[axis] !== x.shape[axis]) inside = slice(inside, axis, starts[axis], starts[axis] + x.shape[axis]);
    }
    return [inside];
  });
}

/** reflect / replicate / circular: every output position along an axis reads one input position
 *  (indexSelect, whose gradient sums what a border cell gave to several positions). */
function padByIndex(x: Tensor, pads: number[], mode: Exclude<PadMode, 'constant'>): Tensor {
  let cur = x;
  for (let i = 0; i < pads.length / 2; i++) {
    const axis = x.ndim - 1 - i, n = x.shape[axis], before = pads[2 * i], after = pads[2 * i + 1];
    if (before === 0 && after === 0) continue;
    const limit = mode === 'reflect' ? n - 1 : mode === 'circular' ? n : Infinity;
    if (n === 0 || before > limit || after > limit) {
      throw opError('pad', `${mode} padding (${before}, ${after}) of axis ${axis} (size ${n}) must be ` +
        (mode === 'reflect' ? 'smaller than the size' : mode === 'circular' ? 'at most the size' : 'of a non-empty axis'), [x]);
    }
    const index = new Int32Array(n + before + after);
    for (let o = 0; o < index.length; o++) {
      const at = o - before;
      index[o] = mode === 'replicate' ? Math.min(Math.max(at, 0), n - 1)
        : mode === 'circular' ? ((at % n) + n) % n
          : at < 0 ? -at : at >= n ? 2 * (n - 1) - at : at;
    }
    cur = indexSelect(cur, axis, fromArray(index, [index.length], { backend: x.backend.name }));
  }
  return cur;
}
