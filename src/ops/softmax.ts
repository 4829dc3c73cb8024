// Softmax family and dropout, composed from primitive ops.
import { Tensor } from '../tensor.js';
import { normAxis } from '../shape.js';
import { Rng, globalRng } from '../rng.js';
import { exp, sub, div, mul } from './elementwise.js';
import { logsumexp, max, sum } from './reduce.js';
import { detach } from './view.js';
import { fromArray } from './creation.js';
import { commonBackend, opError } from './util.js';

export function softmax(x: Tensor, axis = -1): Tensor {
  commonBackend('softmax', [x]);
  const d = normAxis('softmax', axis, x.ndim);
  if (x.shape[d] === 0) return exp(x); // an empty axis: the (empty) result has x's shape, as torch
  const e = exp(sub(x, detach(max(x, d, true))));
  return div(e, sum(e, d, true));
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  commonBackend('logSoftmax', [x]);
  const d = normAxis('logSoftmax', axis, x.ndim);
  if (x.shape[d] === 0) return exp(x); // an empty axis: the (empty) result has x's shape, as torch
  return sub(x, logsumexp(x, d, true));
}

// Host scratch for dropout masks. fromArray copies the mask to the backend, so one array serves every call;
// a fresh array per call (a GCN draws ~0.5 MB of mask per step) cost page faults and GC, most of dropout's time.
// Masks above the cap get their own array, so the scratch never pins much memory.
const MASK_SCRATCH_CAP = 1 << 22;
let maskScratch = new Float32Array(0);
function maskArray(n: number): Float32Array {
  if (n > MASK_SCRATCH_CAP) return new Float32Array(n);
  if (maskScratch.length < n) maskScratch = new Float32Array(Math.max(n, 2 * maskScratch.length));
  return maskScratch.subarray(0, n);
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training, zeros when p = 1. */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Rng = globalRng): Tensor {
  if (!(p >= 0 && p <= 1)) throw opError('dropout', `p must be in [0, 1], got ${p}`, [x]);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0); // every element dropped (torch multiplies by 0 too, so NaN stays NaN)
  const keep = generator.fillUniform(maskArray(x.size));
  const scale = 1 / (1 - p);
  // keep[i] >= p without a branch (on random data a branch mispredicts half the time, ~3x the whole loop):
  // the draws are k / 2^24 for integers k, so the test is k >= ceil(p 2^24), and (k - threshold) >>> 31 is
  // its negation as a 0/1 integer.
  const threshold = Math.ceil(p * 16777216);
  for (let i = 0; i < keep.length; i++) keep[i] = scale * (1 - ((keep[i] * 16777216 - threshold) >>> 31));
  return mul(x, fromArray(keep, x.shape, { backend: x.backend.name }));
}
