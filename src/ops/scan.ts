// Cumulative sums and products along an axis on the backends' `cumulative` kernel (int32 accumulates in
// int32: exact, wrapping on overflow as int32 does). Gradients: cumsum's is the reversed cumsum of the
// incoming gradient; cumprod's is torch's, correct with zeros (no division by a zero factor):
//   before the first zero of a line: revcumsum(g * y) / x
//   at the first zero k:            revcumsum(g * y') where y' is cumprod with x_k set to 1
//   after it:                       0 (every product there holds x_k = 0 as a factor other than x_i)
import type { ScanOp } from '../backend/interface.js';
import { recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { normAxis, numel } from '../shape.js';
import { commonBackend, opError, runKernel } from './util.js';
import { cast, contiguous, div, eq, mul, where } from './elementwise.js';
import { reshape } from './view.js';

/** The scan kernel on x (float32 or int32) along axis d, optionally from the end; no gradient. */
function cumulativeRaw(name: string, op: ScanOp, x: Tensor, d: number, reverse: boolean): Tensor {
  const backend = commonBackend(name, [x]);
  const out = emptyTensor(backend, x.shape, x.dtype);
  if (out.size === 0) return out;
  const src = contiguous(x);
  const outer = numel(x.shape.slice(0, d)), inner = numel(x.shape.slice(d + 1));
  runKernel(name, [x], () => backend.cumulative(op, src.denseBuf(), outer, x.shape[d], inner, reverse, out.storage.buf!), [out]);
  if (src !== x) src.dispose();
  return out;
}

function cumprodGrad(g: Tensor, x: Tensor, y: Tensor, d: number): Tensor {
  const zerosSoFar = cumulativeRaw('cumprod', 'sum', cast(eq(x, 0), 'int32'), d, false);
  const before = eq(zerosSoFar, 0);
  const firstZero = mul(eq(x, 0), eq(zerosSoFar, 1));
  const beforeGrad = div(cumulativeRaw('cumprod', 'sum', mul(g, y), d, true), where(before, x, 1));
  const withoutFirstZero = cumulativeRaw('cumprod', 'prod', where(firstZero, 1, x), d, false);
  const atGrad = cumulativeRaw('cumprod', 'sum', mul(g, withoutFirstZero), d, true);
  return where(before, beforeGrad, where(firstZero, atGrad, 0));
}

function scan(name: 'cumsum' | 'cumprod', x: Tensor, axis: number): Tensor {
  commonBackend(name, [x]);
  if (axis === undefined) throw opError(name, 'needs an axis (torch: dim)', [x]);
  const x1 = x.ndim === 0 ? reshape(x, [1]) : x;
  const d = normAxis(name, axis, x1.ndim);
  const y1 = cumulativeRaw(name, name === 'cumsum' ? 'sum' : 'prod', x1, d, false);
  const y = x.ndim === 0 ? reshape(y1, []) : y1;
  if (x.dtype !== 'float32') return y;  // int32 results carry no gradient
  return recordBackward(y, name, [x], (g) => {
    const g1 = x.ndim === 0 ? reshape(g, [1]) : g;
    const gx = name === 'cumsum' ? cumulativeRaw(name, 'sum', g1, d, true) : cumprodGrad(g1, x1, y1, d);
    return [x.ndim === 0 ? reshape(gx, []) : gx];
  });
}

/** torch.cumsum(x, dim): running sums along `axis`; int32 stays int32 and exact. */
export const cumsum = (x: Tensor, axis: number): Tensor => scan('cumsum', x, axis);
/** torch.cumprod(x, dim): running products along `axis`; int32 stays int32 and exact; the gradient is torch's,
 *  also where x holds zeros. */
export const cumprod = (x: Tensor, axis: number): Tensor => scan('cumprod', x, axis);
