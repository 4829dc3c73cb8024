// The detector: target assignment on hand cases, shapes of the head, training that lowers the
// loss, the same loss curve on every backend, checkpoint resume, and detect()'s output format.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, backendsUnderTest, throwsWith } from './helpers.js';
import { Detector, assignTargets, assignTaskAligned, locations, trainDetector, detect } from '../src/models/detect/index.js';

const s = suite('detect: model, targets, training');
const backends = await backendsUnderTest();
const dir = mkdtempSync(join(tmpdir(), 'tessera-detect-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

s('targets: centre sampling, level ranges, smallest box wins, centerness', () => {
  const loc = locations(64, 64);
  assert.is(loc.count, 8 * 8 + 4 * 4 + 2 * 2);
  // A 20x20 box centred at (20, 20): its largest distance from nearby centres is <= 32, so level stride 8.
  const t = assignTargets(loc.points, loc.strides, [10, 10, 30, 30], [2], 3);
  const positives = [...t.positive.keys()].filter((a) => t.positive[a] === 1);
  assert.ok(positives.length > 0 && positives.every((a) => loc.strides[a] === 8));
  for (const a of positives) {
    const x = loc.points[2 * a], y = loc.points[2 * a + 1];
    assert.ok(Math.abs(x - 20) < 12 && Math.abs(y - 20) < 12, 'within 1.5 strides of the centre');
    assert.equal(Array.from(t.cls.subarray(3 * a, 3 * a + 3)), [0, 0, 1]);
    const [l, tp, r, b] = [x - 10, y - 10, 30 - x, 30 - y];
    assert.ok(Math.abs(t.centerness[a] - Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(tp, b) / Math.max(tp, b)))) < 1e-6);
  }
  assert.is(t.numPositive, positives.length);
  // Two nested boxes: a location inside both goes to the smaller.
  const nested = assignTargets(loc.points, loc.strides, [0, 0, 40, 40, 12, 12, 28, 28], [0, 1], 2);
  const a = loc.points.findIndex((v, i) => i % 2 === 0 && v === 20 && loc.points[i + 1] === 20 && loc.strides[i / 2] === 8) / 2;
  assert.equal(Array.from(nested.cls.subarray(2 * a, 2 * a + 2)), [0, 1]);
});

s('task-aligned targets: top-k by score * IoU^6 inside the box, a shared location to the higher IoU, normalised scores', () => {
  // Five locations, two objects: object 0 [0, 0, 20, 20] of class 0 holds locations 0, 1, 3; object 1
  // [10, 0, 30, 10] of class 1 holds 1 and 2; location 4 lies in neither.
  const points = Float32Array.from([5, 5, 15, 5, 25, 5, 5, 15, 50, 50]);
  const boxes = [0, 0, 20, 20, 10, 0, 30, 10], labels = [0, 1];
  const scores = [0.9, 0.1, 0.5, 0.8, 0.2, 0.6, 0.7, 0.3, 0.99, 0.99];
  // Predicted boxes: IoU with object 0 / 1 of 1 / -, 0.2 / 1, - / 0.5, 0.25 / -.
  const pred = [0, 0, 20, 20, 10, 0, 30, 10, 20, 0, 30, 10, 0, 10, 10, 20, 45, 45, 55, 55];
  const metric3 = 0.7 * 0.25 ** 6, metric2 = 0.6 * 0.5 ** 6;
  // k = 3: object 0 ranks 0 (0.9), 3 (0.7 * 0.25^6), 1 (0.5 * 0.2^6); location 1 is also object 1's and goes
  // to it (IoU 1 > 0.2). Per object, metric * best IoU (1 for both) / best metric (0.9 and 0.8).
  const t = assignTaskAligned(points, boxes, labels, 2, scores, pred, { topK: 3 });
  assert.equal(Array.from(t.positive), [1, 1, 1, 1, 0]);
  const want = [1, 0, 0, 1, 0, metric2 / 0.8, metric3 / 0.9, 0, 0, 0];
  Array.from(t.cls).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6 * Math.max(1, want[i]) + 1e-12, `cls[${i}] ${v} vs ${want[i]}`));
  assert.equal(Array.from(t.box.subarray(4, 8)), [10, 0, 30, 10], 'location 1 regresses object 1');
  assert.equal(Array.from(t.box.subarray(12, 16)), [0, 0, 20, 20]);
  assert.ok(Math.abs(t.boxWeight[2] - metric2 / 0.8) < 1e-9 && t.boxWeight[4] === 0);
  assert.ok(Math.abs(t.centerness[0] - 1 / 3) < 1e-6, 'centerness of (5, 5) in [0, 0, 20, 20]: sqrt(5/15 * 5/15)');
  assert.is(t.numPositive, 4);
  // k = 1: each object keeps only its best location.
  const one = assignTaskAligned(points, boxes, labels, 2, scores, pred, { topK: 1 });
  assert.equal(Array.from(one.positive), [1, 1, 0, 0, 0]);
  throwsWith(() => assignTaskAligned(points, boxes, labels, 2, scores, pred, { k: 3 } as never), "assignTaskAligned: unknown option 'k'");
  throwsWith(() => assignTaskAligned(points, boxes, labels, 2, scores.slice(1), pred), 'assignTaskAligned', '10 scores');
});

s('head output shapes; bad config and input name the detector', () => {
  const model = new Detector({ numClasses: 3, inChannels: 1, width: 0.25 });
  const out = model.forward(T.zeros([2, 1, 64, 64]));
  assert.equal([out.cls.shape, out.box.shape, out.centerness.shape], [[2, 84, 3], [2, 84, 4], [2, 84]]);
  assert.ok(Array.from(out.box.dataSync()).every((v) => v > 0), 'box distances are positive');
  throwsWith(() => model.forward(T.zeros([1, 1, 60, 64])), 'Detector', 'multiples of 32', '[1, 1, 60, 64]');
  throwsWith(() => new Detector({ numClasses: 3, inChannels: 1, widht: 2 } as never), "Detector: unknown option 'widht'");
});

function tinySet(): T.data.DetectionSet {
  return T.data.shapesDetection({ count: 8, size: 64, scale: [12, 28], maxObjects: 2, seed: 3 });
}

s('training lowers the loss; resume from a checkpoint continues exactly', async () => {
  const data = tinySet();
  const run = async (epochs: number, ckpt?: string, resume = false, stopAfterEpoch?: number) => {
    T.manualSeed(1);
    const model = new Detector({ numClasses: 3, inChannels: 3, width: 0.25 });
    const losses: number[] = [];
    const r = await trainDetector(model, data, { epochs, batchSize: 4, lr: 3e-3, warmupSteps: 2, checkpointDir: ckpt, resume, stopAfterEpoch, onStep: (i) => losses.push(i.loss) });
    return { model, losses, r };
  };
  const full = await run(6);
  assert.ok(full.r.epochLoss[5] < 0.8 * full.r.epochLoss[0], `loss ${full.r.epochLoss.map((v) => v.toFixed(3))}`);
  const ckpt = join(dir, 'ckpt');
  assert.is((await run(6, ckpt, false, 3)).r.epochs, 3);
  const resumed = await run(6, ckpt, true);
  assert.is(resumed.r.epochs, 3, 'three more epochs after the checkpoint');
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-4 * Math.max(1, Math.abs(b[i])));
  assert.ok(close(resumed.losses, full.losses.slice(6)), `resumed ${resumed.losses} vs ${full.losses.slice(6)}`);
});

s('task-aligned assignment with the CIoU box loss trains (the loss falls); bad options are refused', async () => {
  const data = tinySet();
  T.manualSeed(1);
  const model = new Detector({ numClasses: 3, inChannels: 3, width: 0.25 });
  const r = await trainDetector(model, data, { epochs: 6, batchSize: 4, lr: 3e-3, warmupSteps: 2, assigner: 'tal', boxLoss: 'ciou' });
  assert.ok(r.epochLoss[5] < 0.8 * r.epochLoss[0], `loss ${r.epochLoss.map((v) => v.toFixed(3))}`);
  const rejects = async (p: Promise<unknown>, pattern: RegExp) => {
    try { await p; } catch (e) { assert.match((e as Error).message, pattern); return; }
    assert.unreachable(`expected a rejection matching ${pattern}`);
  };
  await rejects(trainDetector(model, data, { assigner: 'simota' as never }), /assigner must be 'center' or 'tal'/);
  await rejects(trainDetector(model, data, { boxLoss: 'diou' as never }), /boxLoss must be 'giou' or 'ciou'/);
});

s('the same training steps give the same losses on every backend', async () => {
  const data = tinySet();
  const curves: Record<string, number[]> = {};
  try {
    for (const backend of backends) {
      await T.setBackend(backend);
      T.manualSeed(2);
      const model = new Detector({ numClasses: 3, inChannels: 3, width: 0.25 });
      const losses: number[] = [];
      await trainDetector(model, data, { epochs: 1, batchSize: 4, lr: 1e-3, warmupSteps: 1, onStep: (i) => losses.push(i.loss) });
      curves[backend] = losses;
    }
  } finally {
    await T.setBackend('cpu');
  }
  for (const backend of backends) {
    curves[backend].forEach((v, i) => assert.ok(Math.abs(v - curves.reference[i]) < 2e-3 * Math.abs(curves.reference[i]), `${backend} step ${i}: ${v} vs ${curves.reference[i]}`));
  }
});

s('detect returns boxes, scores and labels per image, at most maxDetections, inside the image', async () => {
  T.manualSeed(4);
  const model = new Detector({ numClasses: 3, inChannels: 3, width: 0.25 });
  const data = tinySet();
  const images = T.fromArray(data.images.slice(0, 2 * 3 * 64 * 64), [2, 3, 64, 64]);
  const dets = await detect(model, images, { scoreThreshold: 0, maxDetections: 7 });
  assert.is(dets.length, 2);
  for (const d of dets) {
    assert.ok(d.scores.length === 7 && d.boxes.length === 28 && d.labels.length === 7);
    assert.ok(Array.from(d.boxes).every((v) => v >= 0 && v <= 64));
    assert.ok(Array.from(d.scores).every((v, i) => i === 0 || v <= d.scores[i - 1]), 'sorted by score');
  }
  throwsWith(() => detect(model, images, { topK: 3 } as never), "detect: unknown option 'topK'");
});

s.run();
