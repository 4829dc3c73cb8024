// Resizing the spatial axes of [N, C, ...] tensors (torch.nn.functional.interpolate): nearest
// picks one source cell per output cell (indexSelect, or expand when every cell repeats a whole
// number of times), (bi/tri)linear is separable, one small matmul per axis with a [in, out] matrix of
// the two interpolation weights, so gradients come from the ops used.
import { Tensor } from '../tensor.js';
import { checkOptions, commonBackend, opError, requireFloat } from './util.js';
import { contiguous } from './elementwise.js';
import { matmul } from './matmul.js';
import { expand, reshape, transpose } from './view.js';
import { indexSelect } from './indexing.js';
import { fromArray } from './creation.js';

export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'trilinear';

export interface InterpolateOptions {
  /** Output spatial size: one number for every axis or one per axis. Give this or scaleFactor. */
  size?: number | readonly number[];
  /** Output size = floor(input size x factor); the coordinates use 1 / factor as torch does. */
  scaleFactor?: number | readonly number[];
  /** Default 'nearest'. 'linear' takes [N, C, L], 'bilinear' [N, C, H, W], 'trilinear' [N, C, D, H, W]. */
  mode?: InterpolateMode;
  /** Linear modes only: the corner cells' centres line up (torch's align_corners); default false. */
  alignCorners?: boolean;
}

const LINEAR_RANK: Record<Exclude<InterpolateMode, 'nearest'>, number> = { linear: 3, bilinear: 4, trilinear: 5 };

function perAxis(op: string, name: string, v: number | readonly number[], spatial: number, x: Tensor, integer: boolean): number[] {
  const list = typeof v === 'number' ? new Array<number>(spatial).fill(v) : Array.isArray(v) ? [...v] : [];
  const bad = (n: number) => typeof n !== 'number' || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n));
  if (list.length !== spatial || list.some(bad)) {
    throw opError(op, `${name} must be a positive ${integer ? 'integer' : 'number'} or a list of ${spatial}, got ${JSON.stringify(v)}`, [x]);
  }
  return list;
}

/** torch.nn.functional.interpolate over x [N, C, L], [N, C, H, W] or [N, C, D, H, W]. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkOptions(op, opts, ['size', 'scaleFactor', 'mode', 'alignCorners']);
  commonBackend(op, [x]);
  requireFloat(op, [x]);
  const mode = opts?.mode ?? 'nearest';
  if (x.ndim < 3 || x.ndim > 5) throw opError(op, 'expects x [N, C, L], [N, C, H, W] or [N, C, D, H, W]', [x]);
  if (mode !== 'nearest') {
    if (!(mode in LINEAR_RANK)) throw opError(op, `mode must be nearest, linear, bilinear or trilinear, got ${JSON.stringify(mode)}`, [x]);
    if (LINEAR_RANK[mode] !== x.ndim) throw opError(op, `mode '${mode}' expects a ${LINEAR_RANK[mode]}-D input`, [x]);
  } else if (opts.alignCorners !== undefined) {
    throw opError(op, "alignCorners is only for the linear modes, not 'nearest'", [x]);
  }
  const spatial = x.ndim - 2;
  const inSize = x.shape.slice(2);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw opError(op, 'give exactly one of size and scaleFactor', [x]);
  const factors = opts.scaleFactor === undefined ? undefined : perAxis(op, 'scaleFactor', opts.scaleFactor, spatial, x, false);
  const outSize = factors ? inSize.map((s, a) => Math.floor(s * factors[a])) : perAxis(op, 'size', opts.size!, spatial, x, true);
  if (outSize.some((s) => s < 1)) throw opError(op, `the output size ${JSON.stringify(outSize)} has an empty axis`, [x]);
  if (inSize.some((s) => s < 1)) throw opError(op, 'the spatial axes must not be empty', [x]);
  // torch's coordinate scale: 1 / factor when a factor was given, else in / out.
  const scales = inSize.map((s, a) => (factors ? 1 / factors[a] : s / outSize[a]));
  return mode === 'nearest' ? nearest(x, inSize, outSize, scales) : linear(x, inSize, outSize, scales, opts.alignCorners ?? false);
}

function nearest(x: Tensor, inSize: number[], outSize: number[], scales: number[]): Tensor {
  const backend = x.backend.name;
  // torch's nearest_idx: the same index at equal sizes, i / 2 at twice the size, else
  // min(floor(dst * scale), in - 1) computed in float32.
  const sources = outSize.map((out, a) => {
    const scale = Math.fround(scales[a]);
    return Int32Array.from({ length: out }, (_, i) => (out === inSize[a] ? i : out === 2 * inSize[a] ? i >> 1
      : Math.min(Math.floor(Math.fround(i * scale)), inSize[a] - 1)));
  });
  const repeats = sources.map((src, a) => (outSize[a] % inSize[a] === 0 && src.every((s, i) => s === Math.floor(i / (outSize[a] / inSize[a]))) ? outSize[a] / inSize[a] : 0));
  if (repeats.every((r) => r > 0)) {
    // Every cell repeated r times along each axis: a broadcast view, then one copy.
    const lead = x.shape.slice(0, 2);
    const split = inSize.flatMap((s) => [s, 1]);
    const wide = inSize.flatMap((s, a) => [s, repeats[a]]);
    return reshape(contiguous(expand(reshape(x, [...lead, ...split]), [...lead, ...wide])), [...lead, ...outSize]);
  }
  let y = x;
  for (let a = 0; a < inSize.length; a++) {
    if (inSize[a] === outSize[a]) continue;
    y = indexSelect(y, a + 2, fromArray(sources[a], [outSize[a]], { backend }));
  }
  return y === x ? contiguous(x) : y;
}

/** [in, out] weights of linear interpolation along one axis (torch's area_pixel_compute_source_index). */
function linearWeights(inSize: number, outSize: number, scale: number, alignCorners: boolean): Float32Array {
  const m = new Float32Array(inSize * outSize);
  const step = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : scale;
  for (let i = 0; i < outSize; i++) {
    const src = alignCorners ? i * step : Math.max((i + 0.5) * step - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1), hi = Math.min(lo + 1, inSize - 1);
    const frac = src - lo;
    m[lo * outSize + i] += 1 - frac;
    m[hi * outSize + i] += frac;
  }
  return m;
}

function linear(x: Tensor, inSize: number[], outSize: number[], scales: number[], alignCorners: boolean): Tensor {
  const backend = x.backend.name;
  let y = x;
  for (let a = 0; a < inSize.length; a++) {
    if (inSize[a] === outSize[a] && (alignCorners || scales[a] === 1)) continue;
    const weights = fromArray(linearWeights(inSize[a], outSize[a], scales[a], alignCorners), [inSize[a], outSize[a]], { backend });
    y = transpose(matmul(transpose(y, a + 2, -1), weights), a + 2, -1);
  }
  return contiguous(y);
}
