// COCO mAP: hand-computed cases, then random cases against an independent numpy
// re-implementation of pycocotools (bench/peers/coco_map_reference.py made the fixture).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { meanAveragePrecision } from '../src/metrics/detection.js';

const s = suite('metrics: COCO mAP');
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12 || (Number.isNaN(a) && Number.isNaN(b)), `${what}: ${a} vs ${b}`);

const gt = (boxes: number[], labels: number[]) => ({ boxes, labels });
const det = (boxes: number[], labels: number[], scores: number[]) => ({ boxes, labels, scores });

s('a perfect detection has AP 1; a false positive ranked first halves it', () => {
  const truth = [gt([0, 0, 10, 10], [0])];
  close(meanAveragePrecision([det([0, 0, 10, 10], [0], [0.9])], truth).map, 1, 'perfect');
  // pr = [0, 1/2] -> envelope [1/2, 1/2]; every recall point reads 1/2.
  close(meanAveragePrecision([det([50, 50, 60, 60, 0, 0, 10, 10], [0, 0], [0.9, 0.8])], truth).map, 0.5, 'fp first');
  // The same with the true positive ranked first: precision 1 up to recall 1.
  close(meanAveragePrecision([det([50, 50, 60, 60, 0, 0, 10, 10], [0, 0], [0.7, 0.8])], truth).map, 1, 'tp first');
});

s('half the boxes found: recall points 0..0.5 read 1, the rest 0', () => {
  const r = meanAveragePrecision([det([0, 0, 10, 10], [0], [1])], [gt([0, 0, 10, 10, 20, 20, 30, 30], [0, 0])]);
  close(r.map, 51 / 101, 'AP');
});

s('IoU 0.72 matches at thresholds 0.50-0.70 only; classes without ground truth are left out', () => {
  const r = meanAveragePrecision([det([0, 0, 10, 7.2, 40, 40, 50, 50], [0, 2], [0.9, 0.9])], [gt([0, 0, 10, 10], [0])]);
  close(r.map50, 1, 'AP50');
  close(r.map75, 0, 'AP75');
  close(r.map, 0.5, 'AP');
  assert.ok(Number.isNaN(r.perClass[1].map) && Number.isNaN(r.perClass[2].map));
  close(r.precisionByThreshold[0][0], 1, 'class 0 at 0.5');
  assert.equal(r.precisionByThreshold[0].slice(1), [-1, -1]);
});

s('a duplicate detection of a matched box is a false positive; maxDetections cuts per image and class', () => {
  const truth = [gt([0, 0, 10, 10], [0])];
  const dup = det([0, 0, 10, 10, 0, 0, 10, 10], [0, 0], [0.9, 0.8]);
  close(meanAveragePrecision([dup], truth).map, 1, 'duplicate after the match costs nothing at recall 1');
  const late = det([30, 30, 40, 40, 0, 0, 10, 10], [0, 0], [0.9, 0.8]);
  close(meanAveragePrecision([late], truth, { maxDetections: 1 }).map, 0, 'the match was cut');
});

s('bad input names the metric', () => {
  assert.throws(() => meanAveragePrecision([det([0, 0, 1], [0], [1])], [gt([], [])]), /meanAveragePrecision: detections\[0\] has 1 labels but 3 box coordinates/);
  assert.throws(() => meanAveragePrecision([], [gt([], [])]), /0 images of detections but 1/);
  assert.throws(() => meanAveragePrecision([], [], { maxDets: 3 } as never), /unknown option 'maxDets'/);
  assert.throws(() => meanAveragePrecision([det([0, 0, 1, 1], [-1], [1])], [gt([], [])]), /label 0 is -1/);
});

interface FixtureCase {
  num_classes: number; max_detections: number; map: number; map50: number; map75: number;
  precision_by_threshold: number[][];
  images: { gt_boxes: number[]; gt_labels: number[]; dt_boxes: number[]; dt_labels: number[]; dt_scores: number[] }[];
}

s('random cases agree with the numpy re-implementation of pycocotools', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/detection/coco-map.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };
  assert.ok(fixture.cases.length >= 6);
  for (const [i, c] of fixture.cases.entries()) {
    const r = meanAveragePrecision(
      c.images.map((im) => det(im.dt_boxes, im.dt_labels, im.dt_scores)),
      c.images.map((im) => gt(im.gt_boxes, im.gt_labels)),
      { maxDetections: c.max_detections });
    close(r.map, c.map, `case ${i} AP`);
    close(r.map50, c.map50, `case ${i} AP50`);
    close(r.map75, c.map75, `case ${i} AP75`);
    c.precision_by_threshold.forEach((row, t) => row.forEach((v, k) => close(r.precisionByThreshold[t][k] ?? -1, v, `case ${i} t${t} class ${k}`)));
  }
});

s.run();
