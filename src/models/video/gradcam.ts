// Grad-CAM for 3D CNNs (Selvaraju et al., ICCV 2017, with time as a third
// axis): the activations A [C, t, h, w] of a chosen stage, weighted per channel
// by the mean over (t, h, w) of d score / dA, summed over channels and passed
// through ReLU, give a map over time and space; it is upsampled (trilinearly,
// half-pixel centres as torch's align_corners=False) to the clip's frames.
// The gradient is taken with the public API only: the stages up to the chosen
// one run without a tape, their output becomes a leaf that requires grad, and
// the rest of the network runs from it.
import * as T from '../../index.js';
import { STAGES, type StageName, type VideoResNet } from './resnet.js';
import { frameStrip, heatColor, type FrameStripRow } from './svg.js';

export interface GradCamOptions {
  /** The stage whose output is explained; default 'layer2' (small clips leave layer4 a single cell). */
  layer?: StageName;
  /** The class whose score is explained; default the predicted class. */
  classIndex?: number;
}

export interface GradCamResult {
  /** The map at the clip's resolution [frames, height, width], scaled to [0, 1] (all 0 when nothing is positive). */
  cam: Float32Array;
  /** The map at the stage's resolution [t, h, w] before upsampling and scaling. */
  raw: Float32Array;
  rawShape: [number, number, number];
  shape: [number, number, number];
  classIndex: number;
  logits: Float32Array;
}

/** Linear interpolation weights from `inSize` cells to `outSize` (half-pixel centres, clamped at the edges). */
function resizeWeights(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; f: Float32Array } {
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), f = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.min(Math.max((i + 0.5) * (inSize / outSize) - 0.5, 0), inSize - 1);
    lo[i] = Math.floor(src);
    hi[i] = Math.min(lo[i] + 1, inSize - 1);
    f[i] = src - lo[i];
  }
  return { lo, hi, f };
}

/** Trilinear resize of v [d, h, w] to [D, H, W]. */
export function trilinearResize(v: Float32Array, from: [number, number, number], to: [number, number, number]): Float32Array {
  const [d, h, w] = from, [D, H, W] = to;
  if (v.length !== d * h * w) throw new Error(`trilinearResize: ${v.length} values for [${from}]`);
  const [zd, zh, zw] = [resizeWeights(d, D), resizeWeights(h, H), resizeWeights(w, W)];
  const out = new Float32Array(D * H * W);
  const at = (a: number, b: number, c: number) => v[(a * h + b) * w + c];
  for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const lerpW = (a: number, b: number) => at(a, b, zw.lo[x]) * (1 - zw.f[x]) + at(a, b, zw.hi[x]) * zw.f[x];
    const lerpH = (a: number) => lerpW(a, zh.lo[y]) * (1 - zh.f[y]) + lerpW(a, zh.hi[y]) * zh.f[y];
    out[(z * H + y) * W + x] = lerpH(zd.lo[z]) * (1 - zd.f[z]) + lerpH(zd.hi[z]) * zd.f[z];
  }
  return out;
}

/** Grad-CAM of one clip [1, C, frames, H, W] (model in eval mode; parameter gradients are cleared afterwards). */
export async function gradCam3d(model: VideoResNet, clip: T.Tensor, opts: GradCamOptions = {}): Promise<GradCamResult> {
  for (const k of Object.keys(opts)) if (!['layer', 'classIndex'].includes(k)) throw new Error(`gradCam3d: unknown option '${k}' (options: layer, classIndex)`);
  const layer = opts.layer ?? 'layer2';
  if (!STAGES.includes(layer)) throw new Error(`gradCam3d: layer must be one of ${STAGES.join(', ')}, got '${layer}'`);
  if (clip.ndim !== 5 || clip.shape[0] !== 1) throw new Error(`gradCam3d: expected one clip [1, C, frames, H, W], got ${clip.describe()}`);
  model.eval();
  const acts = T.noGrad(() => model.forwardStages(clip, undefined, layer)).requiresGrad_();
  const logitsT = model.fc.forward(model.pool(model.forwardStages(acts, layer)));
  const logits = Float32Array.from(await logitsT.data());
  let classIndex = opts.classIndex ?? 0;
  if (opts.classIndex === undefined) for (let c = 1; c < logits.length; c++) if (logits[c] > logits[classIndex]) classIndex = c;
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= logits.length) {
    throw new Error(`gradCam3d: classIndex ${classIndex} is not a class in [0, ${logits.length})`);
  }
  T.select(T.select(logitsT, 0, 0), 0, classIndex).backward();
  const [, C, t, h, w] = acts.shape;
  const a = await acts.data(), g = await acts.grad!.data();
  model.zeroGrad();
  acts.grad!.dispose();
  acts.dispose();
  logitsT.dispose();
  const cells = t * h * w, raw = new Float32Array(cells);
  for (let c = 0; c < C; c++) {
    let weight = 0;
    for (let i = 0; i < cells; i++) weight += g[c * cells + i];
    weight /= cells;
    for (let i = 0; i < cells; i++) raw[i] += weight * a[c * cells + i];
  }
  for (let i = 0; i < cells; i++) raw[i] = Math.max(0, raw[i]);
  const shape: [number, number, number] = [clip.shape[2], clip.shape[3], clip.shape[4]];
  const cam = trilinearResize(raw, [t, h, w], shape);
  let max = 0;
  for (const v of cam) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < cam.length; i++) cam[i] /= max;
  return { cam, raw, rawShape: [t, h, w], shape, classIndex, logits };
}

/** RGB bytes of each frame of a clip [3, frames, H, W], its values mapped to 0..255 by the clip's own range. */
export function clipFrames(clip: ArrayLike<number>, frames: number, height: number, width: number): Uint8Array[] {
  const plane = frames * height * width;
  if (clip.length !== 3 * plane) throw new Error(`clipFrames: ${clip.length} values for [3, ${frames}, ${height}, ${width}]`);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < clip.length; i++) { lo = Math.min(lo, clip[i]); hi = Math.max(hi, clip[i]); }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return Array.from({ length: frames }, (_, f) => {
    const rgb = new Uint8Array(height * width * 3);
    for (let p = 0; p < height * width; p++) {
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round((clip[c * plane + f * height * width + p] - lo) * scale);
    }
    return rgb;
  });
}

/** Frames with the map over them: each pixel blended towards the heat colour by alpha * cam. */
export function overlayFrames(frames: Uint8Array[], cam: Float32Array, alpha = 0.6): Uint8Array[] {
  const pixels = frames[0]?.length / 3;
  if (cam.length !== frames.length * pixels) throw new Error(`overlayFrames: a map of ${cam.length} values for ${frames.length} frames of ${pixels} pixels`);
  return frames.map((rgb, f) => {
    const out = new Uint8Array(rgb.length);
    for (let p = 0; p < pixels; p++) {
      const v = cam[f * pixels + p], heat = heatColor(v), k = alpha * v;
      for (let c = 0; c < 3; c++) out[3 * p + c] = Math.round((1 - k) * rgb[3 * p + c] + k * heat[c]);
    }
    return out;
  });
}

export interface GradCamStripItem {
  label: string;
  /** The clip's values [3, frames, H, W]. */
  clip: ArrayLike<number>;
  result: GradCamResult;
}

/** An SVG image strip: per clip, one row of its frames and one of the frames with the Grad-CAM heat map over them. */
export function gradCamStrip(items: GradCamStripItem[], opts: { title?: string; scale?: number } = {}): string {
  if (items.length === 0) throw new Error('gradCamStrip: no clips');
  const [frames, height, width] = items[0].result.shape;
  const rows: FrameStripRow[] = [];
  for (const item of items) {
    const [f, h, w] = item.result.shape;
    if (f !== frames || h !== height || w !== width) throw new Error(`gradCamStrip: clip '${item.label}' is [${item.result.shape}], the first is [${items[0].result.shape}]`);
    const rgb = clipFrames(item.clip, frames, height, width);
    rows.push({ label: item.label, frames: rgb }, { label: 'Grad-CAM', frames: overlayFrames(rgb, item.result.cam) });
  }
  return frameStrip(rows, width, height, { title: opts.title, scale: opts.scale, frameNames: Array.from({ length: frames }, (_, f) => `frame ${f}`) });
}
