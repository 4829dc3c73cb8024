// Video models: SPL label spaces on hand-made cases, the synthetic benchmark's
// structure, top-k, Grad-CAM's map against a direct computation, the model
// options' errors, one training step on every backend, and `tessera spl --quick`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, backendsUnderTest } from './helpers.js';
import { runCli } from '../src/cli/commands.js';
import '../src/cli/spl.js';
import {
  ARMS, agreementFilter, clipBatch, confusionMatrix, gradCam3d, gradCamStrip, mc318, midPlanes, r2plus1d18, r3d18, r3d50,
  splHeatmap, subPseudoLabels, topK, trainClips, trilinearResize, videoBenchmark,
} from '../src/models/video/index.js';

const s = suite('video');
const backends = await backendsUnderTest();

// Weak labels (rows) and teacher predictions (columns) over 3 classes:
//   w\t  0  1  2
//   0    4  3  1
//   1    0  5  0
//   2    2  0  1
const cells: [number, number, number][] = [[0, 0, 4], [0, 1, 3], [0, 2, 1], [1, 1, 5], [2, 0, 2], [2, 2, 1]];
const weak = cells.flatMap(([w, , n]) => new Array<number>(n).fill(w));
const teacher = cells.flatMap(([, t, n]) => new Array<number>(n).fill(t));

s('confusionMatrix counts (weak, teacher) pairs and checks its input', () => {
  assert.equal(Array.from(confusionMatrix(weak, teacher, 3)), [4, 3, 1, 0, 5, 0, 2, 0, 1]);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /weak\[1\] = 3 is not a class in \[0, 3\)/);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), /1 weak labels but 2 teacher predictions/);
});

s('raw SPL: diagonal cells keep their class, off-diagonal cells become classes, small cells merge or drop', () => {
  const all = subPseudoLabels(weak, teacher, 3);
  assert.is(all.numSplClasses, 6);
  assert.equal(Array.from(all.cellClass), [0, 3, 4, -1, 1, -1, 5, -1, 2]);
  assert.equal(all.classes.map((c) => [c.weak, c.teacher, c.count, c.kind]),
    [[0, [0], 4, 'agreed'], [1, [1], 5, 'agreed'], [2, [2], 1, 'agreed'], [0, [1], 3, 'cell'], [0, [2], 1, 'cell'], [2, [0], 2, 'cell']]);
  assert.is(all.agreement, 10);
  for (let i = 0; i < weak.length; i++) assert.is(all.labels[i], all.cellClass[weak[i] * 3 + teacher[i]]);

  const merged = subPseudoLabels(weak, teacher, 3, { minClips: 3 });
  assert.is(merged.numSplClasses, 4);
  assert.equal(Array.from(merged.cellClass), [0, 3, 0, -1, 1, -1, 2, -1, 2]);
  assert.equal(merged.classes.map((c) => c.count), [5, 5, 3, 3]);

  const dropped = subPseudoLabels(weak, teacher, 3, { minClips: 3, smallCells: 'drop' });
  assert.equal(Array.from(dropped.cellClass), [0, 3, -1, -1, 1, -1, -1, -1, 2]);
  assert.is(Array.from(dropped.labels).filter((l) => l < 0).length, 3);
});

s('SPL-B: one agreed and one disagreed class per weak label', () => {
  const b = subPseudoLabels(weak, teacher, 3, { variant: 'compact' });
  assert.is(b.numSplClasses, 5);
  assert.equal(Array.from(b.cellClass), [0, 3, 3, -1, 1, -1, 4, -1, 2]);
  assert.equal(b.classes.slice(3).map((c) => [c.weak, c.teacher, c.count, c.kind]), [[0, [1, 2], 4, 'disagreed'], [2, [0], 2, 'disagreed']]);
  const small = subPseudoLabels(weak, teacher, 3, { variant: 'compact', minClips: 3 });
  assert.equal(Array.from(small.cellClass), [0, 3, 3, -1, 1, -1, 2, -1, 2]);
  assert.throws(() => subPseudoLabels(weak, teacher, 3, { variant: 'fine' as never }), /variant must be 'raw' or 'compact'/);
  assert.throws(() => subPseudoLabels(weak, teacher, 3, { tau: 2 } as never), /unknown option 'tau'/);
  assert.throws(() => subPseudoLabels(weak, teacher, 3, { minClips: 0 }), /minClips must be a positive integer/);
});

s('agreementFilter keeps the clips whose weak label the teacher predicts', () => {
  assert.equal(Array.from(agreementFilter([0, 1, 2, 1], [0, 2, 2, 1])), [0, 2, 3]);
});

s('the SPL heat map has a cell per pair and outlines the new classes', () => {
  const svg = splHeatmap(subPseudoLabels(weak, teacher, 3, { minClips: 3 }), ['a', 'b', 'c'], 'test');
  assert.is(svg.match(/<rect [^>]*width="34"/g)?.length, 9);
  assert.is(svg.match(/stroke="black" stroke-width="2"/g)?.length, 1);
  assert.match(svg, /<title>a \/ b: 3<\/title>/);
});

s('the benchmark is made from its seed; classes are (shape, motion) pairs; web clips mix true, sub-concept and background', () => {
  const opts = { frames: 4, size: 16, targetTrain: 2, targetTest: 1, videosPerClass: 3, clipsPerVideo: 40 };
  const a = videoBenchmark(opts), b = videoBenchmark(opts);
  assert.equal(a.targetTrain.data, b.targetTrain.data);
  assert.equal(a.web.data, b.web.data);
  assert.is(a.numClasses, 9);
  assert.equal(a.classNames.slice(0, 4), ['square-right', 'square-left', 'square-down', 'disk-right']);
  assert.is(a.web.length, 9 * 3 * 40);
  assert.equal(a.targetTrain.clipShape, [3, 4, 16, 16]);
  const counts: Record<string, number> = {};
  for (let i = 0; i < a.web.length; i++) {
    const c = a.web.labels[i], content = a.web.content[i];
    counts[content] = (counts[content] ?? 0) + 1;
    const want = { true: c, 'sub-shape': a.shapePartner[c], 'sub-motion': a.motionPartner[c], background: -1 }[content];
    assert.is(a.web.shown[i], want);
  }
  for (let c = 0; c < 9; c++) {
    // The shape partner shares the shape (the row of 3 motions), the motion partner the motion.
    assert.is(Math.floor(a.shapePartner[c] / 3), Math.floor(c / 3));
    assert.is.not(a.shapePartner[c], c);
    assert.is(a.motionPartner[c] % 3, c % 3);
    assert.is.not(a.motionPartner[c], c);
  }
  const n = a.web.length;
  assert.ok(Math.abs(counts.true / n - 0.45) < 0.06, `true fraction ${counts.true / n}`);
  assert.ok(Math.abs((counts['sub-shape'] + counts['sub-motion']) / n - 0.35) < 0.06);
  assert.ok(Math.abs(counts.background / n - 0.2) < 0.05);
  assert.throws(() => videoBenchmark({ frames: 1 }), /frames must be an integer in \[2, 64\]/);
  assert.throws(() => videoBenchmark({ trueFraction: 0.8, subFraction: 0.3 }), /sum <= 1/);
  assert.throws(() => videoBenchmark({ motion: 2 } as never), /unknown option 'motion'/);
});

s('topK counts a hit when the label is among the k largest logits', () => {
  const logits = Float32Array.from([0.1, 0.9, 0.5, /**/ 0.7, 0.2, 0.1, /**/ 0.3, 0.3, 0.3]);
  assert.is(topK(logits, 3, [1, 2, 0], 1), 1 / 3);
  assert.is(topK(logits, 3, [1, 2, 0], 2), 1 / 3);
  assert.is(topK(logits, 3, [1, 2, 0], 3), 1);
});

s("torchvision's mid planes and model options", () => {
  assert.is(midPlanes(64, 64), 144);
  assert.is(midPlanes(64, 128), 230);
  const m = r2plus1d18({ widthMultiplier: 1 / 16, numClasses: 3 });
  assert.equal(m.widths, [4, 8, 16, 32]);
  assert.equal(m.stem.namedParameters().map(([k, p]) => [k, p.shape]), [['0.weight', [3, 3, 1, 7, 7]], ['1.weight', [3]], ['1.bias', [3]], ['3.weight', [4, 3, 3, 1, 1]], ['4.weight', [4]], ['4.bias', [4]]]);
  assert.equal(mc318({ widths: [2, 2, 2, 2] }).layer2.stateDict()['0.downsample.0.weight'].shape, [2, 2, 1, 1, 1]);
  assert.is(r3d50({ widths: [2, 2, 2, 2], blocks: [1, 1, 1, 1] }).featureDim, 8);
  assert.throws(() => r3d18({ width: 2 } as never), /VideoResNet: unknown option 'width'/);
  assert.throws(() => r3d18({ blocks: [1, 1, 1] }), /blocks must be four positive integers/);
  assert.throws(() => r3d18({ widths: [2, 2, 2, 2] }).forward(T.zeros([1, 3, 4, 4])), /expected a clip batch \[N, C, T, H, W\]/);
});

s('kaiming-normal fan_out init of the convolutions, N(0, 0.01) head', () => {
  const m = r3d18({ widths: [32, 32, 32, 32], blocks: [1, 1, 1, 1], numClasses: 50, generator: new T.Rng(3) });
  const std = (t: T.Tensor) => { const v = Array.from(t.dataSync()); const mean = v.reduce((a, b) => a + b, 0) / v.length; return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length); };
  const w = m.layer1.stateDict()['0.conv1.0.weight'];
  assert.ok(Math.abs(std(w) / Math.sqrt(2 / (32 * 27)) - 1) < 0.05, `conv std ${std(w)}`);
  assert.ok(Math.abs(std(m.fc.weight) / 0.01 - 1) < 0.1, `head std ${std(m.fc.weight)}`);
  assert.equal(Array.from(m.fc.bias!.dataSync()).every((v) => v === 0), true);
});

for (const backend of backends.filter((b) => b !== 'cuda')) {
  s(`a training step of a small R(2+1)D on ${backend} matches the reference backend`, async () => {
    const losses: number[] = [];
    for (const b of ['reference', backend]) {
      const bench = videoBenchmark({ frames: 4, size: 16, shapes: 2, motions: 2, targetTrain: 2, targetTest: 1, videosPerClass: 1, clipsPerVideo: 1 });
      const model = r2plus1d18({ widths: [2, 2, 4, 4], blocks: [1, 1, 1, 1], numClasses: 4, generator: new T.Rng(0), backend: b });
      const labels = Array.from(bench.targetTrain.labels);
      await trainClips(model, bench.targetTrain, labels.map((_, i) => i), labels, { epochs: 2, batchSize: 8, backend: b, generator: new T.Rng(1) });
      const logits = T.noGrad(() => model.train(false).forward(clipBatch(bench.targetTrain, [0, 1], b)));
      losses.push(...Array.from(await logits.data()));
    }
    const half = losses.length / 2;
    for (let i = 0; i < half; i++) assert.ok(Math.abs(losses[i] - losses[half + i]) < 1e-3 * (1 + Math.abs(losses[i])), `logit ${i}: ${losses[i]} vs ${losses[half + i]}`);
  });
}

s("Grad-CAM's channel weights are the mean gradients (checked by central differences in float64)", async () => {
  const backend = 'reference64';
  const model = r3d18({ widths: [3, 4, 4, 4], blocks: [1, 1, 1, 1], numClasses: 3, generator: new T.Rng(5), backend });
  const clip = T.randn([1, 3, 4, 16, 16], { generator: new T.Rng(6), backend });
  // The first class whose map is not all zero (a random network's map may be for some class).
  let r = await gradCam3d(model, clip, { layer: 'layer2', classIndex: 0 });
  for (let c = 1; c < 3 && !r.raw.some((v) => v > 0); c++) r = await gradCam3d(model, clip, { layer: 'layer2', classIndex: c });
  const classIndex = r.classIndex;
  assert.equal(r.rawShape, [2, 4, 4]);
  assert.equal(r.shape, [4, 16, 16]);
  assert.ok(model.parameters().every((p) => p.grad === null), 'parameter gradients are cleared');
  // weight_c = mean over cells of d score / d A_c = (d/de score(A + e 1_c)) / cells.
  const acts = T.noGrad(() => model.forwardStages(clip, undefined, 'layer2'));
  const a = acts.dataSync(), [, C, t, h, w] = acts.shape, cells = t * h * w;
  const score = (shifted: Float64Array) => T.noGrad(() => model.fc.forward(model.pool(model.forwardStages(T.fromArray(shifted, acts.shape, { backend }), 'layer2'))).dataSync()[classIndex]);
  const expected = new Float64Array(cells);
  // Scores are read back as float32: a much smaller step would drown in their rounding.
  const eps = 3e-3;
  for (let c = 0; c < C; c++) {
    const plus = Float64Array.from(a), minus = Float64Array.from(a);
    for (let i = 0; i < cells; i++) { plus[c * cells + i] += eps; minus[c * cells + i] -= eps; }
    const weight = (score(plus) - score(minus)) / (2 * eps) / cells;
    for (let i = 0; i < cells; i++) expected[i] += weight * a[c * cells + i];
  }
  let scale = 0;
  for (let i = 0; i < cells; i++) { expected[i] = Math.max(0, expected[i]); scale = Math.max(scale, expected[i]); }
  assert.ok(scale > 0, 'the map is not all zero');
  for (let i = 0; i < cells; i++) assert.ok(Math.abs(r.raw[i] - expected[i]) < 2e-3 * scale, `cell ${i}: ${r.raw[i]} vs ${expected[i]}`);
  let max = 0;
  for (const v of r.cam) { assert.ok(v >= 0 && v <= 1); max = Math.max(max, v); }
  assert.is(max, 1);
  const svg = gradCamStrip([{ label: 'clip', clip: Float32Array.from(clip.dataSync()), result: r }]);
  assert.is(svg.match(/<image /g)?.length, 2 * 4);
  let message = '';
  await gradCam3d(model, clip, { layer: 'layer9' as never }).catch((e: Error) => { message = e.message; });
  assert.match(message, /layer must be one of stem, layer1/);
});

s('trilinearResize keeps constants and interpolates with half-pixel centres', () => {
  assert.equal(Array.from(trilinearResize(new Float32Array(8).fill(2), [2, 2, 2], [3, 4, 4])), new Array(48).fill(2));
  const up = trilinearResize(Float32Array.from([0, 1]), [1, 1, 2], [1, 1, 4]);
  assert.equal(Array.from(up), [0, 0.25, 0.75, 1]);
});

s('tessera spl --quick --json runs the six arms and writes the heat map and the Grad-CAM strip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-spl-'));
  try {
    let out = '';
    const code = await runCli(['spl', '--quick', '--json', '--out', dir], { stdout: (t) => { out += t; }, stderr: () => {} });
    assert.is(code, 0);
    const r = JSON.parse(out);
    assert.equal(Object.keys(r.table), [...ARMS]);
    for (const arm of ARMS) assert.is(r.table[arm].top1.values.length, 2);
    assert.is(r.seeds[0].spl.confusion.length, 16);
    assert.match(readFileSync(join(dir, 'spl-confusion.svg'), 'utf8'), /^<\?xml/);
    assert.match(readFileSync(join(dir, 'gradcam-spl.svg'), 'utf8'), /data:image\/png;base64,/);
    let err = '';
    assert.is(await runCli(['spl', '--quick', '--arms', 'weak,fancy'], { stdout: () => {}, stderr: (t) => { err += t; } }), 1);
    assert.match(err, /unknown arm 'fancy'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s.run();
