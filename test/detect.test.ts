// The detector: target assignment on hand cases, shapes of the head, training that lowers the
// loss, the same loss curve on every backend, checkpoint resume, and detect()'s output format.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, backendsUnderTest, throwsWith } from './helpers.js';
import { Detector, assignTargets, locations, trainDetector, detect } from '../src/models/detect/index.js';

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
