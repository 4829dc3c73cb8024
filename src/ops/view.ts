// Views: new shape and strides over the same storage, no copy (reshape copies
// only when the strides cannot express the new shape).
import { record } from '../tape.js';
import { Tensor, viewOf } from '../tensor.js';
import { broadcastShapes, denseStrides, fmtShape, normAxis, numel } from '../shape.js';
import { commonBackend, expandView, opError } from './util.js';
import { contiguous } from './elementwise.js';

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const n = x.size;
  const unknown = shape.filter((s) => s === -1).length;
  if (unknown > 1 || shape.some((s) => !Number.isInteger(s) || s < -1)) throw opError(op, `invalid shape ${fmtShape(shape)}`, [x]);
  const known = shape.reduce((a, s) => (s === -1 ? a : a * s), 1);
  const out = shape.map((s) => (s === -1 ? (known === 0 ? 0 : n / known) : s));
  if (numel(out) !== n || out.some((s) => !Number.isInteger(s))) {
    throw opError(op, `cannot reshape ${n} elements to ${fmtShape(shape)}`, [x]);
  }
  return out;
}

/** Strides for viewing x as `shape` without copying, or null (numpy's attempt_nocopy_reshape idea). */
function reshapeStrides(x: Tensor, shape: number[]): number[] | null {
  if (x.isContiguous || (x.offset >= 0 && isDenseFromOffset(x))) return denseStrides(shape);
  // Merge x's non-unit dims into chunks that are each dense, then split them into the new dims.
  const oldDims: number[] = [], oldStrides: number[] = [];
  x.shape.forEach((s, i) => { if (s !== 1) { oldDims.push(s); oldStrides.push(x.strides[i]); } });
  const out = new Array<number>(shape.length).fill(0);
  let oi = 0, ni = 0;
  while (oi < oldDims.length && ni < shape.length) {
    let np = shape[ni], op = oldDims[oi];
    const nStart = ni, oStart = oi;
    while (np !== op) {
      if (np < op) np *= shape[++ni]; else op *= oldDims[++oi];
    }
    for (let k = oStart; k < oi; k++) if (oldStrides[k] !== oldStrides[k + 1] * oldDims[k + 1]) return null;
    out[ni] = oldStrides[oi];
    for (let k = ni; k > nStart; k--) out[k - 1] = out[k] * shape[k];
    ni++; oi++;
  }
  for (let k = 0; k < shape.length; k++) if (shape[k] === 1 && out[k] === 0) out[k] = 1;
  return out;
}

function isDenseFromOffset(x: Tensor): boolean {
  const st = denseStrides(x.shape);
  return x.shape.every((s, i) => s === 1 || st[i] === x.strides[i]);
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  commonBackend('reshape', [x]);
  if (!Array.isArray(shape)) throw opError('reshape', `shape must be a list of integers, got ${String(shape)}`, [x]);
  const target = resolveShape('reshape', x, shape);
  if (x.size === 0) return record(viewOf(x, target, denseStrides(target), x.offset), 'reshape', [x], null);
  const strides = reshapeStrides(x, target);
  const src = strides ? x : contiguous(x);
  const out = viewOf(src, target, strides ?? denseStrides(target), src.offset);
  return record(out, 'reshape', [x], null);
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  commonBackend('permute', [x]);
  if (!Array.isArray(axes)) throw opError('permute', `axes must be an array of axis numbers, got ${JSON.stringify(axes)}`, [x]);
  const ax = axes.map((a) => normAxis('permute', a, x.ndim));
  if (ax.length !== x.ndim || new Set(ax).size !== ax.length) {
    throw opError('permute', `axes ${JSON.stringify(axes)} are not a permutation of ${x.ndim} axes`, [x]);
  }
  const out = viewOf(x, ax.map((a) => x.shape[a]), ax.map((a) => x.strides[a]), x.offset);
  return record(out, 'permute', [x], { axes: ax });
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  if (x.ndim < 2) return x;
  const ia = normAxis('transpose', a, x.ndim), ib = normAxis('transpose', b, x.ndim);
  const axes = Array.from({ length: x.ndim }, (_, i) => i);
  axes[ia] = ib; axes[ib] = ia;
  return permute(x, axes);
}

/** Elements start, start+step, ... before end along one axis (negative start/end count from the end). */
export function slice(x: Tensor, axis: number, start = 0, end?: number, step = 1): Tensor {
  commonBackend('slice', [x]);
  const d = normAxis('slice', axis, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(step) || step <= 0) throw opError('slice', `step must be a positive integer, got ${step}`, [x]);
  for (const [name, v] of [['start', start], ['end', end ?? n]] as const) {
    // Integers (negative counts from the end); ±Infinity clamps to the ends. NaN or a fraction is a mistake.
    if (typeof v !== 'number' || !(Number.isInteger(v) || v === Infinity || v === -Infinity)) {
      throw opError('slice', `${name} must be an integer, got ${String(v)}`, [x]);
    }
  }
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIdx(start), e = clampIdx(end ?? n);
  const len = Math.max(0, Math.ceil((e - s) / step));
  const shape = [...x.shape]; shape[d] = len;
  const strides = [...x.strides]; strides[d] = x.strides[d] * step;
  const out = viewOf(x, shape, strides, x.offset + (len > 0 ? s * x.strides[d] : 0));
  return record(out, 'slice', [x], { axis: d, start: s, step });
}

/** Picks index i along axis, removing that axis. */
export function select(x: Tensor, axis: number, i: number): Tensor {
  const d = normAxis('select', axis, x.ndim);
  const n = x.shape[d];
  const ii = i < 0 ? i + n : i;
  if (!Number.isInteger(i) || ii < 0 || ii >= n) throw opError('select', `index ${i} out of range for axis ${axis} of size ${n}`, [x]);
  return squeeze(slice(x, d, ii, ii + 1), d);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  commonBackend('expand', [x]);
  if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < -1)) throw opError('expand', `invalid shape ${String(shape)}`, [x]);
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - (shape.length - x.ndim)] : s));
  if (target.some((s) => !Number.isInteger(s) || s < 0)) throw opError('expand', `cannot expand to ${fmtShape(shape)}`, [x]);
  const b = broadcastShapes(x.shape, target);
  if (!b || b.some((v, i) => v !== target[i])) throw opError('expand', `cannot expand to ${fmtShape(shape)}`, [x]);
  const v = expandView(x, target);
  return record(viewOf(x, target, v.strides, x.offset), 'expand', [x], null);
}

export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  commonBackend('squeeze', [x]);
  // As torch, a named axis whose size is not 1 is left in place.
  const named = axis === undefined ? null : (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis('squeeze', a, x.ndim));
  const axes = x.shape.flatMap((s, i) => (s === 1 && (named === null || named.includes(i)) ? [i] : []));
  const keep = (_: number, i: number) => !axes.includes(i);
  const out = viewOf(x, x.shape.filter(keep), x.strides.filter(keep), x.offset);
  return record(out, 'squeeze', [x], null);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  commonBackend('unsqueeze', [x]);
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape], strides = [...x.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, a < x.ndim ? x.strides[a] * x.shape[a] : 1);
  return record(viewOf(x, shape, strides, x.offset), 'unsqueeze', [x], null);
}

export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  commonBackend('flatten', [x]);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startAxis, x.ndim), e = normAxis('flatten', endAxis, x.ndim);
  if (e < s) throw opError('flatten', `end axis ${endAxis} is before start axis ${startAxis}`, [x]);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** The same values, cut from the graph (shares storage). */
export function detach(x: Tensor): Tensor {
  commonBackend('detach', [x]);
  return viewOf(x, x.shape, x.strides, x.offset);
}
