// Rearranging ops composed from indexing, view and elementwise ops (their gradients come from those):
// flip, roll, repeat, tile, tril/triu, diag, outer.
import { Tensor } from '../tensor.js';
import { normAxes, normAxis } from '../shape.js';
import { commonBackend, opError } from './util.js';
import { cast, clone, contiguous, le, ge, mul, sub, where } from './elementwise.js';
import { indexSelect } from './indexing.js';
import { concat, pad } from './combine.js';
import { expand, flatten, reshape, slice, unsqueeze } from './view.js';
import { arange } from './creation.js';

const asList = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);

/** torch.flip: x with the order of the elements along `axes` reversed (a copy). */
export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  commonBackend('flip', [x]);
  const ax = normAxes('flip', asList(axes), x.ndim);
  let y = x;
  for (const d of ax) {
    const n = y.shape[d];
    y = indexSelect(y, d, arange(n - 1, -1, -1, { backend: x.backend.name, dtype: 'int32' }));
  }
  return y === x ? clone(x) : y;
}

/** torch.roll: elements shifted by `shifts` along `axes`, wrapping around; without axes, over the flattened
 *  tensor (then reshaped back). */
export function roll(x: Tensor, shifts: number | readonly number[], axes?: number | readonly number[]): Tensor {
  commonBackend('roll', [x]);
  const sh = asList(shifts);
  if (sh.some((s) => !Number.isInteger(s))) throw opError('roll', `shifts ${JSON.stringify(shifts)} must be integers`, [x]);
  if (axes === undefined) {
    if (sh.length !== 1) throw opError('roll', 'without axes, shifts must be one number', [x]);
    return reshape(roll(flatten(x), sh[0], 0), x.shape);
  }
  const ax = asList(axes).map((a) => normAxis('roll', a, x.ndim));
  if (ax.length !== sh.length) throw opError('roll', `${sh.length} shifts for ${ax.length} axes`, [x]);
  let y = x;
  ax.forEach((d, i) => {
    const n = y.shape[d];
    const s = n === 0 ? 0 : ((sh[i] % n) + n) % n;
    if (s !== 0) y = concat([slice(y, d, n - s), slice(y, d, 0, n - s)], d);
  });
  return y === x ? clone(x) : y;
}

/** torch.Tensor.repeat: x tiled reps[i] times along each axis; reps may be longer than x's rank (new leading axes). */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  commonBackend('repeat', [x]);
  if (!Array.isArray(reps) || reps.length < x.ndim || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw opError('repeat', `reps ${JSON.stringify(reps)} must be at least ${x.ndim} non-negative integers (one per axis)`, [x]);
  }
  const shape = [...new Array<number>(reps.length - x.ndim).fill(1), ...x.shape];
  // [a, b] -> [1, a, 1, b] -> expand [r0, a, r1, b] -> [r0 * a, r1 * b]
  const interleaved = reshape(x, shape.flatMap((s) => [1, s]));
  const expanded = expand(interleaved, shape.flatMap((s, i) => [reps[i], s]));
  return reshape(contiguous(expanded), shape.map((s, i) => s * reps[i]));
}

/** torch.tile: repeat with reps padded with leading 1s when shorter than x's rank. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  commonBackend('tile', [x]);
  if (!Array.isArray(reps)) throw opError('tile', `reps must be an array of integers, got ${JSON.stringify(reps)}`, [x]);
  const full = [...new Array<number>(Math.max(0, x.ndim - reps.length)).fill(1), ...reps];
  try {
    return repeat(x, full);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^repeat:/, 'tile:'));
  }
}

/** Keeps the elements of the last two axes where (column - row) compares with `diagonal` by `keep`. */
function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  commonBackend(op, [x]);
  if (x.ndim < 2) throw opError(op, 'needs a tensor of at least 2 dimensions', [x]);
  if (!Number.isInteger(diagonal)) throw opError(op, `diagonal must be an integer, got ${diagonal}`, [x]);
  const [R, C] = x.shape.slice(-2);
  const backend = x.backend.name;
  const offset = sub(reshape(arange(0, C, 1, { backend, dtype: 'int32' }), [1, C]), reshape(arange(0, R, 1, { backend, dtype: 'int32' }), [R, 1]));
  const keep = op === 'tril' ? le(offset, diagonal) : ge(offset, diagonal);
  // int32 is masked in int32 (exact); float32 through where, so NaN and inf outside the triangle become 0 (torch).
  return x.dtype === 'int32' ? mul(x, cast(keep, 'int32')) : where(keep, x, 0);
}

/** torch.tril: the lower triangle of the last two axes (on and below diagonal `diagonal`), zeros elsewhere. */
export const tril = (x: Tensor, diagonal = 0): Tensor => triangle('tril', x, diagonal);
/** torch.triu: the upper triangle of the last two axes (on and above diagonal `diagonal`), zeros elsewhere. */
export const triu = (x: Tensor, diagonal = 0): Tensor => triangle('triu', x, diagonal);

/** torch.diag: a 1-D x becomes a square matrix with x on diagonal `diagonal`; a 2-D x gives that diagonal (a copy). */
export function diag(x: Tensor, diagonal = 0): Tensor {
  commonBackend('diag', [x]);
  if (!Number.isInteger(diagonal)) throw opError('diag', `diagonal must be an integer, got ${diagonal}`, [x]);
  const k = diagonal;
  if (x.ndim === 1) {
    const m = x.shape[0];
    // [m] -> [m, 1 + m] with zeros after each element; its first m * m values, as [m, m], are diag(x).
    const spaced = pad(unsqueeze(x, 1), [0, m]);
    const square = reshape(slice(flatten(spaced), 0, 0, m * m), [m, m]);
    const a = Math.abs(k);
    return a === 0 ? square : pad(square, k > 0 ? [a, 0, 0, a] : [0, a, a, 0]);
  }
  if (x.ndim === 2) {
    const [R, C] = x.shape;
    const start = k >= 0 ? k : -k * C;
    const len = Math.max(0, k >= 0 ? Math.min(R, C - k) : Math.min(R + k, C));
    if (len === 0) return clone(slice(flatten(x), 0, 0, 0));
    return clone(slice(flatten(x), 0, start, start + (len - 1) * (C + 1) + 1, C + 1));
  }
  throw opError('diag', 'needs a 1-D or 2-D tensor', [x]);
}

/** torch.outer: a[i] * b[j] for 1-D a and b. */
export function outer(a: Tensor, b: Tensor): Tensor {
  commonBackend('outer', [a, b]);
  if (a.ndim !== 1 || b.ndim !== 1) throw opError('outer', 'needs two 1-D tensors', [a, b]);
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}
