// Vector norms and what is built on them (torch.linalg.vector_norm, F.normalize, F.cosine_similarity), composed
// from ops; test/composed.test.ts checks their values against float64 formulas.
import { Tensor } from '../tensor.js';
import { normAxes, normAxis } from '../shape.js';
import { abs, add, div, eq, maximum, mul, ne, pow, sqrt, square, sub, where } from './elementwise.js';
import { detach } from './view.js';
import { max, min, sum } from './reduce.js';
import { checkOptions, opError, requireFinite } from './util.js';

export interface NormOptions {
  /** The order: any number, Infinity or -Infinity; default 2. */
  p?: number;
  /** Axes to reduce; default all. */
  axes?: number | number[];
  keepdims?: boolean;
}

/** torch.linalg.vector_norm: (sum |x|^p)^(1/p); max |x| for p = Infinity, min for -Infinity, the count of nonzeros for 0.
 *  As torch, the gradient at a zero vector is 0 (not the 0/0 of the formula). */
export function norm(x: Tensor, opts: NormOptions = {}): Tensor {
  checkOptions('norm', opts, ['p', 'axes', 'keepdims']);
  const p = opts.p ?? 2, keepdims = opts.keepdims ?? false;
  if (Number.isNaN(p)) throw opError('norm', `p must be a number, got ${p}`, [x]);
  const axes = normAxes('norm', opts.axes, x.ndim);
  if (p === Infinity) return max(abs(x), axes, keepdims);
  if (p === -Infinity) return min(abs(x), axes, keepdims);
  if (p === 0) return sum(ne(x, 0), axes, keepdims);
  if (p === 1) return sum(abs(x), axes, keepdims);
  const s = p === 2 ? sum(square(x), axes, keepdims) : sum(pow(abs(x), p), axes, keepdims);
  // s^(1/p) through a where that sends no gradient into the root where s = 0 (its derivative there is infinite).
  const zero = eq(s, 0);
  const safe = where(zero, 1, s);
  return where(zero, 0, p === 2 ? sqrt(safe) : pow(safe, 1 / p));
}

/** F.normalize: x / max(norm_p(x along axis), eps). */
export function normalize(x: Tensor, opts: { p?: number; axis?: number; eps?: number } = {}): Tensor {
  checkOptions('normalize', opts, ['p', 'axis', 'eps']);
  const eps = opts.eps ?? 1e-12;
  requireFinite('normalize', 'eps', eps);
  const axis = normAxis('normalize', opts.axis ?? 1, x.ndim);
  return div(x, maximum(norm(x, { p: opts.p ?? 2, axes: axis, keepdims: true }), eps));
}

/** F.cosine_similarity as torch 1.13 computes it: sum((a / max(|a|, eps)) (b / max(|b|, eps))) along axis (a and b
 *  broadcast). Each norm is clamped separately, so tiny vectors still give a cosine near ±1. */
export function cosineSimilarity(a: Tensor, b: Tensor, opts: { axis?: number; eps?: number } = {}): Tensor {
  checkOptions('cosineSimilarity', opts, ['axis', 'eps']);
  const eps = opts.eps ?? 1e-8;
  requireFinite('cosineSimilarity', 'eps', eps);
  const ndim = Math.max(a.ndim, b.ndim);
  const axis = normAxis('cosineSimilarity', opts.axis ?? 1, ndim);
  // Axes counted from the end, so the broadcast of a and b lines them up.
  const fromEnd = axis - ndim;
  return sum(mul(div(a, clampedNorm(a, fromEnd, eps)), div(b, clampedNorm(b, fromEnd, eps))), fromEnd);
}

/** max(|x|, eps) along axis (kept), with the gradient torch gives it: torch clamps the norm in place outside autograd,
 *  so its backward is x / max(|x|, eps), the norm's own formula evaluated at the clamped value. Built as
 *  c + (s / 2c - detach(s / 2c)) with c = detach(max(|x|, eps)), s = sum x²: the value is c, the gradient x / c. */
function clampedNorm(x: Tensor, axis: number, eps: number): Tensor {
  const c = detach(maximum(norm(x, { axes: axis, keepdims: true }), eps));
  const halfSOverC = div(sum(square(x), axis, true), mul(c, 2));
  return add(c, sub(halfSOverC, detach(halfSOverC)));
}
