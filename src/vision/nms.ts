// Class-aware non-maximum suppression as one kernel call (torchvision.ops.batched_nms): the
// boxes stay on their backend; only the kept indices (and their count) are read back.
import { Tensor, emptyTensor } from '../tensor.js';
import { commonBackend, opError, runKernel } from '../ops/util.js';
import { contiguous, cast } from '../ops/elementwise.js';
import { zeros } from '../ops/creation.js';
import { noGrad } from '../autograd.js';

function prepare(op: string, boxes: Tensor, scores: Tensor, groups: Tensor | undefined, iouThreshold: number) {
  const inputs = groups ? [boxes, scores, groups] : [boxes, scores];
  const backend = commonBackend(op, inputs);
  if (boxes.ndim !== 2 || boxes.shape[1] !== 4 || scores.ndim !== 1 || scores.shape[0] !== boxes.shape[0]) {
    throw opError(op, 'expects boxes [K, 4] (xyxy) and scores [K]', inputs);
  }
  if (boxes.dtype !== 'float32' || scores.dtype !== 'float32') throw opError(op, 'boxes and scores must be float32', inputs);
  if (groups && (groups.ndim !== 1 || groups.shape[0] !== boxes.shape[0] || groups.dtype !== 'int32')) {
    throw opError(op, 'expects int32 class indices [K] beside boxes [K, 4]', inputs);
  }
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw opError(op, `iouThreshold must be in [0, 1], got ${iouThreshold}`, inputs);
  const K = boxes.shape[0];
  const keep = emptyTensor(backend, [K + 1], 'int32');
  noGrad(() => {
    const b = contiguous(boxes), s = contiguous(scores);
    const g = groups ? contiguous(groups) : zeros([K], { backend: backend.name, dtype: 'int32' });
    runKernel(op, inputs, () => backend.nms(b.denseBuf(), s.denseBuf(), g.denseBuf(), K, iouThreshold, keep.storage.buf!));
    for (const [copy, orig] of [[b, boxes], [s, scores], [g, groups]] as const) if (copy !== orig) copy.dispose();
  });
  return keep;
}

function keptIndices(keep: Int32Array | Float32Array): Int32Array {
  return Int32Array.from(keep.subarray(1, 1 + keep[0]));
}

/**
 * Indices of the boxes kept by class-aware greedy NMS, by descending score: a box is dropped when a
 * kept box of the same class (groups) overlaps it with IoU > iouThreshold. Without groups every box
 * is one class (torchvision's nms). Ties keep the lower index; NaN scores are visited last.
 */
export function batchedNms(boxes: Tensor, scores: Tensor, groups: Tensor | undefined, iouThreshold: number): Promise<Int32Array> {
  const keep = prepare('batchedNms', boxes, scores, groups, iouThreshold); // bad input throws here, not in the promise
  return keep.data().then(keptIndices).finally(() => keep.dispose());
}

/** batchedNms on a backend with synchronous reads (cpu, reference, cuda). */
export function batchedNmsSync(boxes: Tensor, scores: Tensor, groups: Tensor | undefined, iouThreshold: number): Int32Array {
  const keep = prepare('batchedNmsSync', boxes, scores, groups, iouThreshold);
  try { return keptIndices(keep.dataSync()); } finally { keep.dispose(); }
}

/** torchvision.ops.nms: one class. */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Promise<Int32Array> {
  return batchedNms(boxes, scores, undefined, iouThreshold);
}
