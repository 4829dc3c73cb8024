// Shape arithmetic shared by ops: sizes, strides, broadcasting, axis normalization.

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function denseStrides(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = s; s *= shape[i]; }
  return st;
}

export function isDense(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function fmtShape(s: Shape): string { return `[${s.join(', ')}]`; }

/** numpy broadcasting; returns null when the shapes do not broadcast. */
export function broadcastShapes(...shapes: Shape[]): number[] | null {
  let nd = 0;
  for (const s of shapes) if (s.length > nd) nd = s.length;
  const out = new Array<number>(nd);
  for (let d = 0; d < nd; d++) out[d] = 1;
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = nd - s.length + i;
      const v = s[i];
      if (out[d] === 1) out[d] = v;
      else if (v !== 1 && v !== out[d]) return null;
    }
  }
  return out;
}

/** Normalizes a possibly negative axis against ndim; throws a message with the op name. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(ndim, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return a;
}

export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) {
    const all = new Array<number>(ndim);
    for (let i = 0; i < ndim; i++) all[i] = i;
    return all;
  }
  const list = typeof axes === 'number' ? [axes] : axes;
  // A 0-d tensor reduced over axis 0 (or -1) is itself, as in torch: no axis is reduced.
  if (ndim === 0) { for (const a of list) normAxis(op, a, 1); return []; }
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = normAxis(op, list[i], ndim);
  for (let i = 1; i < out.length; i++) {
    if (out.lastIndexOf(out[i], i - 1) >= 0) throw new Error(`${op}: repeated axis in ${JSON.stringify(axes)}`);
  }
  return out.length > 1 ? out.sort((x, y) => x - y) : out;
}
