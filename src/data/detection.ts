// Object-detection data made in code from a seed: MNIST digits pasted at several scales on
// canvases, and coloured shapes on textured backgrounds. Each image comes with xyxy boxes (in
// pixels) and class labels, the layout a detector trains on and meanAveragePrecision scores.

import { Rng } from '../rng.js';
import { loadMnist, type MnistData } from './idx.js';

export interface DetectionSet {
  /** [count, channels, size, size], row-major, values in [0, 1]. */
  images: Float32Array;
  count: number;
  channels: number;
  size: number;
  /** Per image: boxes [n * 4] as x1, y1, x2, y2 in pixels, and n labels. */
  boxes: Float32Array[];
  labels: Int32Array[];
  classNames: string[];
}

export interface MnistDetectionOptions {
  count?: number;
  /** Canvas side in pixels (default 128). */
  size?: number;
  /** Digit side range in pixels before cropping to its ink (default [16, 48]). */
  scale?: [number, number];
  /** Digits per image, 1..maxObjects (default 4). */
  maxObjects?: number;
  seed?: number;
  /** Which MNIST digits to draw from (default: the first 8000 of the test set; evaluation sets take the rest). */
  digitRange?: [number, number];
  /** An already loaded MNIST set (default: loadMnist() from the data folder). */
  mnist?: MnistData;
}

const MNIST_KEYS = new Set(['count', 'size', 'scale', 'maxObjects', 'seed', 'digitRange', 'mnist']);
const SHAPE_KEYS = new Set(['count', 'size', 'scale', 'maxObjects', 'seed']);

function checkKeys(fn: string, opts: object, known: Set<string>): void {
  for (const k of Object.keys(opts)) if (!known.has(k)) throw new Error(`${fn}: unknown option '${k}' (known: ${[...known].join(', ')})`);
}

/** IoU of box a with each box already placed; new objects overlap earlier ones by at most `limit`. */
function overlapsTooMuch(placed: number[], x1: number, y1: number, x2: number, y2: number, limit: number): boolean {
  for (let k = 0; k < placed.length; k += 4) {
    const w = Math.min(x2, placed[k + 2]) - Math.max(x1, placed[k]);
    const h = Math.min(y2, placed[k + 3]) - Math.max(y1, placed[k + 1]);
    if (w <= 0 || h <= 0) continue;
    const inter = w * h;
    const union = (x2 - x1) * (y2 - y1) + (placed[k + 2] - placed[k]) * (placed[k + 3] - placed[k + 1]) - inter;
    if (inter / union > limit) return true;
  }
  return false;
}

/** Bilinear sample of a [rows, cols] image at (y, x) in source pixels; 0 outside. */
function bilinear(src: Float32Array, offset: number, rows: number, cols: number, y: number, x: number): number {
  const y0 = Math.floor(y), x0 = Math.floor(x), fy = y - y0, fx = x - x0;
  const at = (r: number, c: number) => (r < 0 || c < 0 || r >= rows || c >= cols ? 0 : src[offset + r * cols + c]);
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
}

/**
 * MNIST digits (classes '0'..'9') pasted on dark canvases with faint noise. A digit of side s is
 * resampled from its 28x28 image; its box is the tight box around its ink (pixels above 0.3), so
 * the box matches what a person would draw.
 */
export function mnistDetection(opts: MnistDetectionOptions = {}): DetectionSet {
  checkKeys('mnistDetection', opts, MNIST_KEYS);
  const count = opts.count ?? 512, size = opts.size ?? 128, maxObjects = opts.maxObjects ?? 4;
  const [minScale, maxScale] = opts.scale ?? [16, 48];
  if (!(minScale >= 8 && maxScale >= minScale && maxScale <= size)) throw new Error(`mnistDetection: scale must be [min, max] with 8 <= min <= max <= size, got [${minScale}, ${maxScale}]`);
  const mnist = opts.mnist ?? loadMnist();
  const [from, to] = opts.digitRange ?? [0, Math.min(8000, mnist.count)];
  if (!(from >= 0 && to <= mnist.count && to > from)) throw new Error(`mnistDetection: digitRange [${from}, ${to}] outside the ${mnist.count} digits`);
  const rng = new Rng(opts.seed ?? 0);
  const images = new Float32Array(count * size * size);
  const boxes: Float32Array[] = [], labels: Int32Array[] = [];
  const plane = mnist.rows * mnist.cols;
  for (let n = 0; n < count; n++) {
    const base = n * size * size;
    for (let p = 0; p < size * size; p++) images[base + p] = 0.05 * rng.uniform();
    const want = 1 + rng.int(maxObjects);
    const placed: number[] = [], classes: number[] = [];
    for (let tries = 0; classes.length < want && tries < 20 * want; tries++) {
      const digit = from + rng.int(to - from);
      const side = minScale + rng.int(maxScale - minScale + 1);
      const ox = rng.int(size - side + 1), oy = rng.int(size - side + 1);
      const k = side / mnist.rows; // output pixels per source pixel
      // Tight box of the ink, in canvas pixels.
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      for (let r = 0; r < mnist.rows; r++) for (let c = 0; c < mnist.cols; c++) {
        if (mnist.images[digit * plane + r * mnist.cols + c] <= 0.3) continue;
        x1 = Math.min(x1, ox + c * k); y1 = Math.min(y1, oy + r * k);
        x2 = Math.max(x2, ox + (c + 1) * k); y2 = Math.max(y2, oy + (r + 1) * k);
      }
      if (!(x2 > x1) || overlapsTooMuch(placed, x1, y1, x2, y2, 0.2)) continue;
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
        const v = bilinear(mnist.images, digit * plane, mnist.rows, mnist.cols, (y + 0.5) / k - 0.5, (x + 0.5) / k - 0.5);
        const at = base + (oy + y) * size + ox + x;
        images[at] = Math.max(images[at], v);
      }
      placed.push(x1, y1, x2, y2);
      classes.push(mnist.labels[digit]);
    }
    boxes.push(Float32Array.from(placed));
    labels.push(Int32Array.from(classes));
  }
  return { images, count, channels: 1, size, boxes, labels, classNames: Array.from({ length: 10 }, (_, i) => String(i)) };
}

export interface ShapesDetectionOptions {
  count?: number;
  size?: number;
  scale?: [number, number];
  maxObjects?: number;
  seed?: number;
}

const SHAPES = ['circle', 'square', 'triangle'] as const;

/**
 * Coloured circles, squares and triangles (the classes) on a textured background of random
 * stripes and noise: RGB images, colour independent of class so that shape must be learnt.
 */
export function shapesDetection(opts: ShapesDetectionOptions = {}): DetectionSet {
  checkKeys('shapesDetection', opts, SHAPE_KEYS);
  const count = opts.count ?? 512, size = opts.size ?? 128, maxObjects = opts.maxObjects ?? 4;
  const [minScale, maxScale] = opts.scale ?? [16, 48];
  if (!(minScale >= 6 && maxScale >= minScale && maxScale <= size)) throw new Error(`shapesDetection: scale must be [min, max] with 6 <= min <= max <= size, got [${minScale}, ${maxScale}]`);
  const rng = new Rng(opts.seed ?? 0);
  const plane = size * size;
  const images = new Float32Array(count * 3 * plane);
  const boxes: Float32Array[] = [], labels: Int32Array[] = [];
  for (let n = 0; n < count; n++) {
    const base = n * 3 * plane;
    // Texture: diagonal stripes of a random period and tint, plus noise.
    const period = 6 + rng.int(12), tint = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const stripe = ((x + y) % period) < period / 2 ? 0.25 : 0.1;
      for (let c = 0; c < 3; c++) images[base + c * plane + y * size + x] = stripe * tint[c] + 0.1 * rng.uniform();
    }
    const want = 1 + rng.int(maxObjects);
    const placed: number[] = [], classes: number[] = [];
    for (let tries = 0; classes.length < want && tries < 20 * want; tries++) {
      const cls = rng.int(SHAPES.length);
      const side = minScale + rng.int(maxScale - minScale + 1);
      const x1 = rng.int(size - side + 1), y1 = rng.int(size - side + 1), x2 = x1 + side, y2 = y1 + side;
      if (overlapsTooMuch(placed, x1, y1, x2, y2, 0.1)) continue;
      const colour = [0.5 + 0.5 * rng.uniform(), 0.5 + 0.5 * rng.uniform(), 0.5 + 0.5 * rng.uniform()];
      const r = side / 2, cx = x1 + r, cy = y1 + r;
      for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) {
        const px = x + 0.5, py = y + 0.5;
        const inside = SHAPES[cls] === 'square' ? true
          : SHAPES[cls] === 'circle' ? (px - cx) ** 2 + (py - cy) ** 2 <= r * r
          : Math.abs(px - cx) <= (py - y1) / 2; // apex at the top centre, base along the bottom
        if (!inside) continue;
        for (let c = 0; c < 3; c++) images[base + c * plane + y * size + x] = colour[c];
      }
      placed.push(x1, y1, x2, y2);
      classes.push(cls);
    }
    boxes.push(Float32Array.from(placed));
    labels.push(Int32Array.from(classes));
  }
  return { images, count, channels: 3, size, boxes, labels, classNames: [...SHAPES] };
}
