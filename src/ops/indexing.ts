// Indexing: gather / indexSelect read by index, scatterAdd writes by index,
// maskedFill, oneHot. Index tensors are int32; out-of-range indices are errors.
import { record } from '../tape.js';
import { Tensor, denseCopy, emptyTensor } from '../tensor.js';
import { fmtShape, normAxis } from '../shape.js';
import { asOp, commonBackend, opError, requireInt, runKernel, userOp } from './util.js';
import { eq, where, type Operand } from './elementwise.js';
import { expand, reshape, unsqueeze } from './view.js';
import { arange, fromArray, zeros } from './creation.js';

/** torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1; index has x's rank. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const backend = commonBackend('gather', [x, index]);
  requireInt('gather', 'index', index, [x, index]);
  const d = normAxis('gather', axis, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i])) {
    throw opError('gather', `index shape ${fmtShape(index.shape)} does not fit x ${fmtShape(x.shape)} on axis ${d}`, [x, index]);
  }
  // int32 is gathered as itself: a round trip through float32 would change values beyond 2^24.
  const out = emptyTensor(backend, index.shape, x.dtype);
  if (out.size > 0) runKernel('gather', [x, index], () => backend.gather(x.view(), d, index.view(), out.storage.buf!, index.shape, userOp('gather')), [out]);
  return record(out, 'gather', [x], { axis: d, index });
}

/** Rows (or slices along `axis`) of x picked by a 1-D int32 index. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  return asOp('indexSelect', () => indexSelectOf(x, axis, index));
}

function indexSelectOf(x: Tensor, axis: number, index: Tensor): Tensor {
  commonBackend('indexSelect', [x, index]);
  requireInt('indexSelect', 'index', index, [x, index]);
  if (index.ndim !== 1) throw opError('indexSelect', 'index must be 1-D', [x, index]);
  const d = normAxis('indexSelect', axis, x.ndim);
  const outShape = x.shape.map((s, i) => (i === d ? index.shape[0] : s));
  const idxShape = x.shape.map((_, i) => (i === d ? index.shape[0] : 1));
  const column = reshape(index, idxShape);
  const idx = expand(column, outShape);
  try {
    return gather(x, d, idx);
  } catch (e) {
    idx.dispose(); column.dispose();
    throw e;
  }
}

/** x with src added at the positions index names along axis (torch.scatter_add). */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const backend = commonBackend('scatterAdd', [x, index, src]);
  requireInt('scatterAdd', 'index', index, [x, index, src]);
  const d = normAxis('scatterAdd', axis, x.ndim);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim || index.shape.some((s, i) => s !== src.shape[i] || (i !== d && s > x.shape[i]))) {
    throw opError('scatterAdd', 'index and src must have the same shape, fitting x off the axis', [x, index, src]);
  }
  if (x.dtype !== src.dtype) throw opError('scatterAdd', 'x and src must have the same dtype', [x, index, src]);
  const out = denseCopy(x);
  if (src.size > 0) runKernel('scatterAdd', [x, index, src], () => backend.scatterAdd(out.storage.buf!, out.shape, d, index.view(), src.view(), userOp('scatterAdd')), [out]);
  return record(out, 'scatterAdd', [x, src], { axis: d, index });
}

/** x with `value` where mask is nonzero (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: Operand): Tensor {
  return asOp('maskedFill', () => where(mask, value, x));
}

/** float32 [..., numClasses] with a 1 at each index; indices outside [0, numClasses) are errors. */
export function oneHot(index: Tensor, numClasses: number): Tensor {
  return asOp('oneHot', () => {
    commonBackend('oneHot', [index]);
    requireInt('oneHot', 'index', index, [index]);
    if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
    if (index.backend.syncRead) {
      const v = index.dataSync();
      for (const c of v) if (c < 0 || c >= numClasses) throw opError('oneHot', `index ${c} is outside [0, ${numClasses})`, [index]);
    } else if (index.size > 0) {
      // The comparison below cannot see a bad index; a gather by the same indices checks them on the device.
      const classes = zeros([numClasses], { backend: index.backend.name });
      const flat = reshape(index, [-1]);
      gather(classes, 0, flat).dispose();
      flat.dispose(); classes.dispose();
    }
    const classes = arange(0, numClasses, 1, { backend: index.backend.name, dtype: 'int32' });
    return eq(unsqueeze(index, -1), classes);
  });
}

/** torch.nonzero: the int32 [n, ndim] coordinates of the nonzero elements, in row-major order. Its size depends
 *  on the data, so it reads x back to the host; on a backend without synchronous reads (webgpu) use nonzeroAsync. */
export function nonzero(x: Tensor): Tensor {
  commonBackend('nonzero', [x]);
  if (!x.backend.syncRead) throw opError('nonzero', `reads its input back; on the ${x.backend.name} backend use nonzeroAsync`, [x]);
  return coordinatesOfNonzero(x, x.dataSync());
}

export async function nonzeroAsync(x: Tensor): Promise<Tensor> {
  commonBackend('nonzeroAsync', [x]);
  return coordinatesOfNonzero(x, await x.data());
}

function coordinatesOfNonzero(x: Tensor, data: Float32Array | Int32Array): Tensor {
  const coords: number[] = [];
  let count = 0;
  data.forEach((v, i) => {
    if (v === 0) return; // NaN is nonzero, as in torch
    count++;
    for (let d = x.ndim - 1, rest = i, at = coords.length; d >= 0; d--) {
      coords[at + d] = rest % x.shape[d];
      rest = Math.floor(rest / x.shape[d]);
    }
  });
  return fromArray(coords, [count, x.ndim], { backend: x.backend.name, dtype: 'int32' });
}
