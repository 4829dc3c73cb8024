// Cumulative sums and products along an axis, composed from view ops and elementwise add/mul as a
// Hillis-Steele scan: ceil(log2 n) steps, each adding (or multiplying) the tensor shifted by 1, 2, 4, ...
// positions. That is O(N log n) work in O(log n) launches on every backend, int32 stays int32 (add and mul
// are exact int32 kernels, wrapping on overflow as int32 does), and the gradient comes from the steps'
// own rules: for cumprod it multiplies the other factors and never divides, so zeros give torch's gradient.
import { Tensor } from '../tensor.js';
import { normAxis } from '../shape.js';
import { commonBackend, opError } from './util.js';
import { add, clone, mul } from './elementwise.js';
import { concat } from './combine.js';
import { reshape, slice } from './view.js';

function scan(op: 'cumsum' | 'cumprod', x: Tensor, axis: number): Tensor {
  commonBackend(op, [x]);
  if (axis === undefined) throw opError(op, 'needs an axis (torch: dim)', [x]);
  const x1 = x.ndim === 0 ? reshape(x, [1]) : x;
  const d = normAxis(op, axis, x1.ndim);
  const n = x1.shape[d];
  const combine = op === 'cumsum' ? add : mul;
  let y = clone(x1);
  for (let shift = 1; shift < n; shift *= 2) {
    // Positions before `shift` already hold their final value; the rest combine with the value `shift` back.
    y = concat([slice(y, d, 0, shift), combine(slice(y, d, shift), slice(y, d, 0, n - shift))], d);
  }
  return x.ndim === 0 ? reshape(y, []) : y;
}

/** torch.cumsum(x, dim): running sums along `axis`; int32 stays int32 and exact. */
export const cumsum = (x: Tensor, axis: number): Tensor => scan('cumsum', x, axis);
/** torch.cumprod(x, dim): running products along `axis`; int32 stays int32 and exact. */
export const cumprod = (x: Tensor, axis: number): Tensor => scan('cumprod', x, axis);
