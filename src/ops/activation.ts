// Softmax family and dropout, composed from primitive ops.
import { Tensor } from '../tensor.js';
import { normAxis } from '../shape.js';
import { Rng, globalRng } from '../rng.js';
import { exp, sub, div, mul } from './elementwise.js';
import { logsumexp, max, sum } from './reduce.js';
import { detach } from './view.js';
import { fromArray } from './creation.js';
import { opError } from './util.js';

export function softmax(x: Tensor, axis = -1): Tensor {
  const d = normAxis('softmax', axis, x.ndim);
  const e = exp(sub(x, detach(max(x, d, true))));
  return div(e, sum(e, d, true));
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const d = normAxis('logSoftmax', axis, x.ndim);
  return sub(x, logsumexp(x, d, true));
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Rng = globalRng): Tensor {
  if (!(p >= 0 && p < 1)) throw opError('dropout', `p must be in [0, 1), got ${p}`, [x]);
  if (!training || p === 0) return x;
  const keep = new Float32Array(x.size);
  const scale = 1 / (1 - p);
  for (let i = 0; i < keep.length; i++) keep[i] = generator.uniform() >= p ? scale : 0;
  return mul(x, fromArray(keep, x.shape, { backend: x.backend.name }));
}
