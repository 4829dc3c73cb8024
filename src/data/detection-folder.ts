// A user's own detection data: a folder of PNG / JPEG images with YOLO-format labels
// (labels/<image>.txt: one `class cx cy w h` line per box, normalised to [0, 1]; class names in
// classes.txt) or a COCO JSON file (images, annotations with [x, y, w, h] pixel boxes, categories).
// Images are decoded by pngjs / jpeg-js, letterboxed to size x size (scaled to fit, padded right
// and bottom with black) as RGB in [0, 1], boxes moved to match: a DetectionSet.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { DetectionSet } from './detection.js';

export interface DetectionFolderOptions {
  /** 'yolo' (images/ + labels/ + classes.txt) or 'coco' (a JSON file); default: whichever the folder holds. */
  format?: 'yolo' | 'coco';
  /** COCO: the annotation file (default annotations.json in the folder). */
  annotations?: string;
  /** Side of the square images produced (default 128). */
  size?: number;
}

const KEYS = new Set(['format', 'annotations', 'size']);
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** RGB planes [3, h, w] in [0, 1] of a PNG or JPEG file. */
export function decodeImage(path: string, bytes: Buffer = readFileSync(path)): { planes: Float32Array; width: number; height: number } {
  let rgba: Uint8Array, width: number, height: number;
  try {
    if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      const png = PNG.sync.read(bytes);
      ({ width, height } = png);
      rgba = png.data;
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
      ({ width, height } = img);
      rgba = img.data;
    } else {
      throw new Error('not a PNG or JPEG file');
    }
  } catch (e) {
    throw new Error(`decodeImage: ${path}: ${(e as Error).message}`);
  }
  const plane = width * height;
  const planes = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) planes[c * plane + p] = rgba[4 * p + c] / 255;
  return { planes, width, height };
}

/** Letterboxes planes [3, h, w] into [3, size, size] (bilinear), returning the scale applied. */
export function letterbox(planes: Float32Array, width: number, height: number, size: number): { image: Float32Array; scale: number } {
  const scale = size / Math.max(width, height);
  const image = new Float32Array(3 * size * size);
  const outW = Math.round(width * scale), outH = Math.round(height * scale);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(height - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(width - 1, x0 + 1), fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (r: number, col: number) => planes[c * width * height + r * width + col];
        image[c * size * size + y * size + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
    }
  }
  return { image, scale };
}

interface Entry { file: string; boxes: number[]; labels: number[] }

function yoloEntries(dir: string): { entries: Entry[]; classNames: string[] } {
  const imageDir = existsSync(join(dir, 'images')) ? join(dir, 'images') : dir;
  const labelDir = join(dir, 'labels');
  const classesPath = join(dir, 'classes.txt');
  if (!existsSync(classesPath)) throw new Error(`loadDetectionFolder: ${dir}: no classes.txt (one class name per line) for the YOLO labels`);
  const classNames = readFileSync(classesPath, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  const files = readdirSync(imageDir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (!files.length) throw new Error(`loadDetectionFolder: ${imageDir}: no .png / .jpg images`);
  const entries = files.map((f): Entry => {
    const labelPath = join(labelDir, `${basename(f, extname(f))}.txt`);
    const boxes: number[] = [], labels: number[] = [];
    // An image without a label file has no objects (YOLO's convention).
    if (existsSync(labelPath)) {
      readFileSync(labelPath, 'utf8').split(/\r?\n/).forEach((line, i) => {
        if (!line.trim()) return;
        const fields = line.trim().split(/\s+/);
        const nums = fields.map(Number);
        const where = `${labelPath}:${i + 1}`;
        if (fields.length !== 5 || nums.some((v) => !Number.isFinite(v))) throw new Error(`loadDetectionFolder: ${where}: expected 'class cx cy w h', got '${line.trim().slice(0, 60)}'`);
        const [cls, cx, cy, w, h] = nums;
        if (!Number.isInteger(cls) || cls < 0 || cls >= classNames.length) throw new Error(`loadDetectionFolder: ${where}: class ${cls} is not one of the ${classNames.length} in classes.txt`);
        if ([cx, cy, w, h].some((v) => v < 0 || v > 1) || w <= 0 || h <= 0) throw new Error(`loadDetectionFolder: ${where}: cx cy w h must be in [0, 1] with w, h > 0`);
        boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2); // normalised; scaled to pixels once the image size is known
        labels.push(cls);
      });
    }
    return { file: join(imageDir, f), boxes, labels };
  });
  return { entries, classNames };
}

interface CocoFile {
  images?: { id: number; file_name: string }[];
  annotations?: { image_id: number; bbox: number[]; category_id: number; iscrowd?: number }[];
  categories?: { id: number; name: string }[];
}

function cocoEntries(dir: string, path: string): { entries: Entry[]; classNames: string[]; pixels: true } {
  let coco: CocoFile;
  try {
    coco = JSON.parse(readFileSync(path, 'utf8')) as CocoFile;
  } catch (e) {
    throw new Error(`loadDetectionFolder: ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(coco.images) || !Array.isArray(coco.annotations) || !Array.isArray(coco.categories)) {
    throw new Error(`loadDetectionFolder: ${path}: a COCO file needs 'images', 'annotations' and 'categories' arrays`);
  }
  const categories = [...coco.categories].sort((a, b) => a.id - b.id);
  const classOf = new Map(categories.map((c, i) => [c.id, i] as const));
  const byImage = new Map<number, Entry>();
  const imageDir = existsSync(join(dir, 'images')) ? join(dir, 'images') : dir;
  for (const im of coco.images) byImage.set(im.id, { file: join(imageDir, im.file_name), boxes: [], labels: [] });
  coco.annotations.forEach((a, i) => {
    const entry = byImage.get(a.image_id);
    const cls = classOf.get(a.category_id);
    const where = `${path}: annotations[${i}]`;
    if (!entry) throw new Error(`loadDetectionFolder: ${where}: image_id ${a.image_id} is not in images`);
    if (cls === undefined) throw new Error(`loadDetectionFolder: ${where}: category_id ${a.category_id} is not in categories`);
    if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || a.bbox.some((v) => !Number.isFinite(v)) || a.bbox[2] <= 0 || a.bbox[3] <= 0) {
      throw new Error(`loadDetectionFolder: ${where}: bbox must be [x, y, w, h] with w, h > 0`);
    }
    if (a.iscrowd) return; // crowd regions are not objects to detect
    const [x, y, w, h] = a.bbox;
    entry.boxes.push(x, y, x + w, y + h);
    entry.labels.push(cls);
  });
  return { entries: [...byImage.values()], classNames: categories.map((c) => c.name), pixels: true };
}

/** Loads a folder of annotated images (YOLO or COCO) as a DetectionSet of RGB size x size images. */
export function loadDetectionFolder(dir: string, opts: DetectionFolderOptions = {}): DetectionSet {
  for (const k of Object.keys(opts)) if (!KEYS.has(k)) throw new Error(`loadDetectionFolder: unknown option '${k}' (known: ${[...KEYS].join(', ')})`);
  const size = opts.size ?? 128;
  const cocoPath = opts.annotations ?? join(dir, 'annotations.json');
  const format = opts.format ?? (existsSync(cocoPath) ? 'coco' : 'yolo');
  const { entries, classNames, pixels } = format === 'coco' ? cocoEntries(dir, cocoPath) : { ...yoloEntries(dir), pixels: false };
  const images = new Float32Array(entries.length * 3 * size * size);
  const boxes: Float32Array[] = [], labels: Int32Array[] = [];
  entries.forEach((e, n) => {
    if (!existsSync(e.file)) throw new Error(`loadDetectionFolder: image ${e.file} not found`);
    const { planes, width, height } = decodeImage(e.file);
    const { image, scale } = letterbox(planes, width, height, size);
    images.set(image, n * 3 * size * size);
    const sx = pixels ? scale : scale * width, sy = pixels ? scale : scale * height;
    boxes.push(Float32Array.from(e.boxes, (v, k) => Math.min(size, Math.max(0, v * (k % 2 === 0 ? sx : sy)))));
    labels.push(Int32Array.from(e.labels));
  });
  return { images, count: entries.length, channels: 3, size, boxes, labels, classNames };
}
