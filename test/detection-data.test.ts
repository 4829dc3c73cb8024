// Detection data: the sets made in code, and a user's folder of PNG / JPEG images with YOLO or
// COCO labels (decoded by pngjs / jpeg-js, letterboxed, boxes moved to match).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { T, throwsWith } from './helpers.js';
import { encodePng } from '../src/plot/png.js';

const s = suite('data: detection');
const dir = mkdtempSync(join(tmpdir(), 'tessera-detdata-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

s('shapes set: seeded, boxes inside the canvas, labels in range', () => {
  const a = T.data.shapesDetection({ count: 6, size: 64, seed: 5 }), b = T.data.shapesDetection({ count: 6, size: 64, seed: 5 });
  assert.equal(Array.from(a.images.subarray(0, 500)), Array.from(b.images.subarray(0, 500)));
  for (let i = 0; i < a.count; i++) {
    assert.ok(a.labels[i].length >= 1 && a.boxes[i].length === 4 * a.labels[i].length);
    assert.ok(Array.from(a.boxes[i]).every((v) => v >= 0 && v <= 64));
    assert.ok(Array.from(a.labels[i]).every((l) => l >= 0 && l < 3));
  }
  throwsWith(() => T.data.shapesDetection({ count: 1, sizes: 3 } as never), "shapesDetection: unknown option 'sizes'");
});

s('mnist set from a given MNIST array: the box is the tight box of the ink', () => {
  // One 28x28 "digit" whose ink is rows 10-17, columns 4-23.
  const images = new Float32Array(28 * 28);
  for (let r = 10; r < 18; r++) for (let c = 4; c < 24; c++) images[r * 28 + c] = 1;
  const mnist = { count: 1, rows: 28, cols: 28, images, labels: Int32Array.from([7]) };
  const d = T.data.mnistDetection({ count: 3, size: 64, scale: [28, 28], maxObjects: 1, mnist, seed: 1 });
  for (let i = 0; i < 3; i++) {
    const [x1, y1, x2, y2] = d.boxes[i];
    assert.equal([x2 - x1, y2 - y1], [20, 8]);
    assert.equal(Array.from(d.labels[i]), [7]);
    // Inside the box the ink is drawn; the pixel centre of the box is bright.
    assert.ok(d.images[i * 64 * 64 + Math.floor((y1 + y2) / 2) * 64 + Math.floor((x1 + x2) / 2)] > 0.9);
  }
});

function rgbPlanes(w: number, h: number, fill: (x: number, y: number) => [number, number, number]): Float32Array {
  const p = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) fill(x, y).forEach((v, c) => { p[c * w * h + y * w + x] = v; });
  return p;
}

s('YOLO folder: PNG images letterboxed, normalised boxes to pixels; bad labels name file and line', () => {
  const root = join(dir, 'yolo');
  mkdirSync(join(root, 'images'), { recursive: true });
  mkdirSync(join(root, 'labels'), { recursive: true });
  writeFileSync(join(root, 'classes.txt'), 'logo\ncan\n');
  writeFileSync(join(root, 'images', 'a.png'), encodePng(rgbPlanes(64, 32, (x) => [x / 63, 0.5, 0]), 3, 32, 64));
  writeFileSync(join(root, 'labels', 'a.txt'), '1 0.5 0.5 0.5 0.5\n');
  writeFileSync(join(root, 'images', 'b.png'), encodePng(rgbPlanes(16, 16, () => [1, 1, 1]), 3, 16, 16)); // no label file: no objects
  const d = T.data.loadDetectionFolder(root, { size: 128 });
  assert.equal([d.count, d.channels, d.size, d.classNames], [2, 3, 128, ['logo', 'can']]);
  assert.equal(Array.from(d.boxes[0]), [32, 16, 96, 48]); // 64x32 scaled by 2
  assert.equal(Array.from(d.labels[0]), [1]);
  assert.equal(d.labels[1].length, 0);
  // Letterbox: the image fills the top 64 rows, black below; the red ramp survives.
  assert.ok(d.images[127] > 0.95 && d.images[0] < 0.05 && d.images[100 * 128 + 5] === 0);
  writeFileSync(join(root, 'labels', 'a.txt'), '1 0.5 0.5 0.5 0.5\n2 0.5 0.5 0.1 0.1\n');
  throwsWith(() => T.data.loadDetectionFolder(root), 'a.txt:2', 'class 2');
  writeFileSync(join(root, 'labels', 'a.txt'), '1 0.5 0.5 0.5\n');
  throwsWith(() => T.data.loadDetectionFolder(root), 'a.txt:1', "expected 'class cx cy w h'");
  writeFileSync(join(root, 'labels', 'a.txt'), '1 0.5 0.5 0.5 0.5\n');
  writeFileSync(join(root, 'images', 'c.png'), 'not an image');
  throwsWith(() => T.data.loadDetectionFolder(root), 'c.png', 'not a PNG or JPEG');
});

s('COCO folder: JPEG images, pixel boxes, crowd regions skipped, categories by id', () => {
  const root = join(dir, 'coco');
  mkdirSync(root, { recursive: true });
  const w = 40, h = 80, rgba = Buffer.alloc(4 * w * h, 200);
  writeFileSync(join(root, 'x.jpg'), jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
  const coco = {
    images: [{ id: 7, file_name: 'x.jpg' }],
    categories: [{ id: 5, name: 'b' }, { id: 2, name: 'a' }],
    annotations: [{ image_id: 7, bbox: [10, 20, 10, 40], category_id: 5 }, { image_id: 7, bbox: [0, 0, 5, 5], category_id: 2, iscrowd: 1 }],
  };
  writeFileSync(join(root, 'annotations.json'), JSON.stringify(coco));
  const d = T.data.loadDetectionFolder(root, { size: 64 });
  assert.equal(d.classNames, ['a', 'b']);
  assert.equal(Array.from(d.labels[0]), [1]);
  assert.equal(Array.from(d.boxes[0]), [8, 16, 16, 48]); // 80 px tall -> 64: scale 0.8
  assert.ok(Math.abs(d.images[0] - 200 / 255) < 0.03, 'JPEG decoded');
  coco.annotations[0].category_id = 9;
  writeFileSync(join(root, 'annotations.json'), JSON.stringify(coco));
  throwsWith(() => T.data.loadDetectionFolder(root), 'annotations[0]', 'category_id 9');
});

s.run();
