// GDE: disagreement, test errors and the ensemble's calibration on hand-made
// predictions (expected values worked out by hand below), the bound of the GDE
// theorem on random predictions, the copy seeds, and `tessera gde` end to end
// on the tiny blobs-mlp task.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/rng.js';
import {
  classAggregatedCalibrationError, copySeeds, estimateGde, gdeFromPredictions, withLabelNoise, type GdeModel,
} from '../src/models/gde/index.js';
import { runCli } from '../src/cli/commands.js';
import '../src/cli/gde.js';

const close = (actual: number | undefined, expected: number, what: string, tol = 1e-12) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

/** Row-major one-hot rows [n, k] of hard predictions. */
function oneHot(preds: number[], k: number): Float64Array {
  const out = new Float64Array(preds.length * k);
  preds.forEach((c, i) => { out[i * k + c] = 1; });
  return out;
}

const hand = suite('gde: hand-made predictions');

// Three copies, four points, three classes; labels y = [0, 1, 2, 0].
//   copy 0 predicts [0, 1, 2, 1]  wrong on point 3           error 1/4
//   copy 1 predicts [0, 1, 1, 1]  wrong on points 2, 3       error 1/2
//   copy 2 predicts [0, 2, 2, 1]  wrong on points 1, 3       error 1/2   mean error 5/12
// Pairs: (0,1) differ on point 2: 1/4; (0,2) on point 1: 1/4; (1,2) on points 1, 2: 1/2.
// Mean disagreement (1/4 + 1/4 + 1/2) / 3 = 1/3, so the gap is 1/3 - 5/12 = -1/12.
// Vote ensemble (fraction of copies per class):
//   point 0 [1, 0, 0]  point 1 [0, 2/3, 1/3]  point 2 [0, 1/3, 2/3]  point 3 [0, 1, 0]
// With 10 bins ((0, .1], ..., (.9, 1]; 0 goes to the first): 1/3 in bin 3, 2/3 in bin 6, 1 in bin 9.
// Top label: confidences [1, 2/3, 2/3, 1], correct [1, 1, 1, 0].
//   bin 9: 2 points, confidence 1, accuracy 1/2 -> 2/4 * 1/2 = 1/4
//   bin 6: 2 points, confidence 2/3, accuracy 1 -> 2/4 * 1/3 = 1/6     top-label ECE 5/12
// Class-wise: class 0 column [1, 0, 0, 0] vs outcomes [1, 0, 0, 1]: bin 0 holds 3 zeros of which
//   one is class 0 -> 3/4 * 1/3 = 1/4; bin 9 exact -> ECE 1/4.
//   class 1 column [0, 2/3, 1/3, 1] vs [0, 1, 0, 0]: bins 6, 3, 9 each one point off by 1/3, 1/3, 1
//   -> (1/3 + 1/3 + 1) / 4 = 5/12.
//   class 2 column [0, 1/3, 2/3, 0] vs [0, 0, 1, 0]: bins 3 and 6 off by 1/3 each -> 1/6.
//   mean (1/4 + 5/12 + 1/6) / 3 = 5/18.
// Class-aggregated: the 12 (point, class) entries share the bins; sum of (outcome - p) per bin:
//   bin 0 (six zeros, one of them point 3's class 0): +1; bin 3 (two 1/3, neither the label): -2/3;
//   bin 6 (two 2/3, both the label): +2/3; bin 9 (point 0 right, point 3 wrong): -1.
//   (1 + 2/3 + 2/3 + 1) / 4 points = 5/6.
const copies = [[0, 1, 2, 1], [0, 1, 1, 1], [0, 2, 2, 1]].map((p) => oneHot(p, 3));
const labels = [0, 1, 2, 0];

hand('pairwise disagreement, test errors and gap', () => {
  const r = gdeFromPredictions(copies, 3, { labels, bins: 10 });
  assert.is(r.copies, 3);
  assert.is(r.points, 4);
  assert.equal(r.pairs.map((p) => [p.a, p.b]), [[0, 1], [0, 2], [1, 2]]);
  assert.equal(r.pairs.map((p) => p.disagreement), [0.25, 0.25, 0.5]);
  assert.equal(r.pairs.map((p) => p.testError), [0.375, 0.375, 0.5]);
  close(r.disagreement, 1 / 3, 'disagreement');
  assert.equal(r.testErrors, [0.25, 0.5, 0.5]);
  close(r.meanTestError, 5 / 12, 'mean test error');
  close(r.gap, -1 / 12, 'gap');
});

hand('vote ensemble calibration: top-label, class-wise and class-aggregated', () => {
  const cal = gdeFromPredictions(copies, 3, { labels, bins: 10 }).calibration!;
  assert.is(cal.ensemble, 'votes');
  assert.is(cal.bins, 10);
  close(cal.topLabelEce, 5 / 12, 'top-label ECE');
  close(cal.classwiseEce, 5 / 18, 'class-wise ECE');
  close(cal.classAggregatedCe, 5 / 6, 'CACE');
});

hand('without labels only the disagreement is reported', () => {
  const r = gdeFromPredictions(copies, 3);
  close(r.disagreement, 1 / 3, 'disagreement');
  assert.is(r.testErrors, undefined);
  assert.is(r.gap, undefined);
  assert.is(r.calibration, undefined);
});

// Two copies, two points, two classes, labels [0, 0], 4 bins (edges .25, .5, .75).
//   copy 0 [[.95, .05], [.45, .55]], copy 1 [[.75, .25], [.15, .85]]: both predict [0, 1], so
//   disagreement 0 and each copy's error 1/2.
// 'probs' ensemble (mean): [[.85, .15], [.3, .7]].
//   top label: confidences [.85, .7] (bins 3, 2), correct [1, 0] -> (.15 + .7) / 2 = .425
//   class 0: [.85, .3] vs [1, 1] -> (.15 + .7) / 2 = .425; class 1: [.15, .7] vs [0, 0] -> .425; mean .425
//   class-aggregated: four entries in four bins, |+.15| + |-.15| + |+.7| + |-.7| = 1.7, over 2 points: .85
// 'votes' ensemble: [[1, 0], [0, 1]]: top label confidences [1, 1], correct [1, 0] -> |1/2 - 1| = .5.
hand("'probs' ensemble averages probabilities; 'votes' counts predictions", () => {
  const probs = [[0.95, 0.05, 0.45, 0.55], [0.75, 0.25, 0.15, 0.85]];
  const mean = gdeFromPredictions(probs, 2, { labels: [0, 0], bins: 4, ensemble: 'probs' });
  assert.is(mean.disagreement, 0);
  assert.is(mean.meanTestError, 0.5);
  close(mean.calibration!.topLabelEce, 0.425, 'top-label ECE (probs)', 1e-12);
  close(mean.calibration!.classwiseEce, 0.425, 'class-wise ECE (probs)', 1e-12);
  close(mean.calibration!.classAggregatedCe, 0.85, 'CACE (probs)', 1e-12);
  const votes = gdeFromPredictions(probs, 2, { labels: [0, 0], bins: 4 });
  close(votes.calibration!.topLabelEce, 0.5, 'top-label ECE (votes)');
});

hand('ties go to the first class, as topLabelCalibration', () => {
  // Copy 0's first row ties classes 0 and 1: it predicts 0, so it agrees with copy 1 there.
  const r = gdeFromPredictions([[0.5, 0.5, 0, 1], [1, 0, 1, 0]], 2, { labels: [0, 0] });
  assert.equal(r.pairs.map((p) => p.disagreement), [0.5]);
  assert.equal(r.testErrors, [0.5, 0]);
});

hand('errors name the problem', () => {
  assert.throws(() => gdeFromPredictions([copies[0]], 3), /at least 2 copies/);
  assert.throws(() => gdeFromPredictions([copies[0], copies[1].subarray(3)], 3), /copy 1 has 9 values, copy 0 has 12/);
  assert.throws(() => gdeFromPredictions(copies, 3, { labels: [0, 1] }), /2 labels for 4 points/);
  assert.throws(() => gdeFromPredictions([copies[0], [2, -1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]], 3), /not a probability.*\(copy 1\)/);
  assert.throws(() => gdeFromPredictions(copies, 3, { labels: [0, 1, 3, 0] }), /label 3 out of range/);
  assert.throws(() => copySeeds(0, 'weights' as never), /vary must be one of init, order, both/);
});

const theory = suite('gde: the bound of the GDE theorem');

// For a vote ensemble of k copies, sampling two copies with replacement disagrees at rate
// D = mean_i (1 - sum_c p_ic^2), and D - err = sum over vote levels q of q * S_q / n with
// S_q = sum of (1[y = c] - q) over entries at level q; so |D - err| <= sum_q |S_q| / n, the
// class-aggregated calibration error, once the bins separate the k + 1 levels (bins > k).
// D is the distinct-pair disagreement times (k - 1) / k.
theory('|disagreement * (k - 1) / k - mean error| <= CACE on random predictions', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const k = 2 + (trial % 4), classes = 2 + (trial % 5), n = 50 + trial * 7;
    const truth = Array.from({ length: n }, () => rng.int(classes));
    // Copies right with a trial-dependent probability, so that calibration and gap vary.
    const skill = 0.2 + 0.7 * rng.uniform();
    const preds = Array.from({ length: k }, () => oneHot(truth.map((y) => (rng.uniform() < skill ? y : rng.int(classes))), classes));
    const r = gdeFromPredictions(preds, classes, { labels: truth, bins: 15 });
    const withReplacement = (r.disagreement * (k - 1)) / k;
    const slack = r.calibration!.classAggregatedCe - Math.abs(withReplacement - r.meanTestError!);
    assert.ok(slack >= -1e-12, `trial ${trial}: |${withReplacement} - ${r.meanTestError}| exceeds CACE ${r.calibration!.classAggregatedCe}`);
  }
});

theory('a calibrated ensemble has zero CACE and GDE holds exactly', () => {
  // Two copies, labels [0, 1, 0, 1]: they agree and are right on points 0, 1 (vote 1 on the
  // label) and split 0 / 1 on points 2, 3 (votes 1/2, 1/2, right half the time): calibrated.
  const r = gdeFromPredictions([oneHot([0, 1, 0, 1], 2), oneHot([0, 1, 1, 0], 2)], 2, { labels: [0, 1, 0, 1], bins: 4 });
  assert.is(r.calibration!.classAggregatedCe, 0);
  // Distinct pair: disagreement 1/2; with replacement 1/4 = mean error (0 + 1/2) / 2.
  assert.is(r.disagreement, 0.5);
  assert.is(r.meanTestError, 0.25);
});

theory('classAggregatedCalibrationError on a probability matrix', () => {
  // Rows [.8, .2] (label 0) and [.6, .4] (label 1), 2 bins (0, .5], (.5, 1]:
  // bin 0 holds .2 (outcome 0) and .4 (outcome 1): -.2 + .6 = .4; bin 1 holds .8 (1) and .6 (0): .2 - .6 = -.4.
  // (.4 + .4) / 2 points = .4.
  close(classAggregatedCalibrationError([0.8, 0.2, 0.6, 0.4], [0, 1], 2), 0.4, 'CACE', 1e-12);
});

const seeds = suite('gde: copies and seeds');

seeds('vary init shares the order seed, vary order shares the init seed, both differ in both', () => {
  const s = (vary: 'init' | 'order' | 'both') => [0, 1, 2].map((c) => copySeeds(c, vary, 5));
  const init = s('init'), order = s('order'), both = s('both');
  assert.is(new Set(init.map((x) => x.order)).size, 1);
  assert.is(new Set(init.map((x) => x.init)).size, 3);
  assert.is(new Set(order.map((x) => x.init)).size, 1);
  assert.is(new Set(order.map((x) => x.order)).size, 3);
  assert.is(new Set(both.flatMap((x) => [x.init, x.order])).size, 6);
  assert.not.equal(copySeeds(0, 'both', 5), copySeeds(0, 'both', 6), 'the base seed matters');
});

seeds('estimateGde trains, predicts and frees each copy with its seeds', async () => {
  // A "model" is its seeds; it predicts class (init + order) mod 2 on each of 3 points.
  const log: string[] = [];
  const model: GdeModel<{ init: number; order?: number }> = {
    create: (init) => ({ init }),
    train: (m, order) => { m.order = order; },
    predict: (m) => oneHot([0, 1, 2].map((i) => (((m.init + m.order! + i) % 2) + 2) % 2), 2),
    dispose: (m) => { log.push(`${m.init}/${m.order}`); },
  };
  const seen: number[] = [];
  const r = await estimateGde(model, 2, { copies: 3, vary: 'init', seed: 1, labels: [0, 0, 0], onCopy: (c) => seen.push(c) });
  assert.equal(seen, [0, 1, 2]);
  assert.equal(log, [0, 1, 2].map((c) => { const s = copySeeds(c, 'init', 1); return `${s.init}/${s.order}`; }));
  assert.is(r.pairs.length, 3);
  const oneCopy = await estimateGde(model, 2, { copies: 1, vary: 'init' }).then(() => 'resolved', (e: Error) => e.message);
  assert.match(oneCopy, /copies must be an integer >= 2/);
});

seeds('withLabelNoise replaces exactly round(f n) labels, each by another class', () => {
  const y = Int32Array.from({ length: 101 }, (_, i) => i % 4);
  const noisy = withLabelNoise(y, 4, 0.3, 3);
  let changed = 0;
  for (let i = 0; i < y.length; i++) if (noisy[i] !== y[i]) { changed++; assert.ok(noisy[i] >= 0 && noisy[i] < 4); }
  assert.is(changed, 30);
  assert.equal(withLabelNoise(y, 4, 0.3, 3), noisy, 'deterministic');
  assert.equal(withLabelNoise(y, 4, 0, 3), y);
  assert.throws(() => withLabelNoise(y, 4, 1.5, 3), /labelNoise must be in \[0, 1\]/);
});

const cli = suite('gde: tessera gde');

function capture(): { io: { stdout(t: string): void; stderr(t: string): void }; out: () => string; err: () => string } {
  let out = '', err = '';
  return { io: { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } }, out: () => out, err: () => err };
}

cli('--json on blobs-mlp: one report per configuration and a scatter plot with the diagonal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-gde-'));
  try {
    const svg = join(dir, 'gde.svg');
    const c = capture();
    const code = await runCli(['gde', '--task', 'blobs-mlp', '--copies', '3', '--vary', 'both', '--svg', svg, '--json'], c.io);
    assert.is(code, 0, c.out() + c.err());
    const r = JSON.parse(c.out());
    assert.equal(r.configs.map((x: { name: string }) => x.name), ['w2-e1', 'w8-e4', 'w32-e12']);
    for (const { name, report } of r.configs) {
      assert.is(report.pairs.length, 3, name);
      assert.is(report.testErrors.length, 3, name);
      assert.ok(report.meanTestError > 0 && report.meanTestError < 1, `${name}: test error ${report.meanTestError}`);
      close(report.gap, report.disagreement - report.meanTestError, `${name} gap`);
    }
    // The blobs overlap: the best configuration errs on some points, the narrowest on many more.
    assert.ok(r.summary.testErrorMax - r.summary.testErrorMin > 0.05, `errors do not spread: ${JSON.stringify(r.summary)}`);
    assert.is(r.svg, svg);
    const text = readFileSync(svg, 'utf8');
    assert.ok(text.includes('class="diagonal"'), 'diagonal drawn');
    assert.is(text.match(/<circle /g)?.length, 3 * 3 + 3, 'one point per pair per config, plus 3 legend markers');
    assert.ok(/gde blobs-mlp .*done 9\/9/.test(c.err()), `progress on stderr: ${c.err()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

cli('text table and usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-gde-'));
  try {
    const c = capture();
    const code = await runCli(['gde', '--task', 'blobs-mlp', '--copies', '2', '--vary', 'init', '--configs', 'w2-e1', '--svg', join(dir, 'p.svg')], c.io);
    assert.is(code, 0, c.err());
    assert.match(c.out(), /GDE on blobs-mlp: 2 copies per config, varying init; 300 training points, 300 test points/);
    assert.match(c.out(), /^w2-e1 /m);
    assert.match(c.out(), /mean \|disagreement - test error\| over 1 configs: \d+\.\d\d%/);
    const bad = capture();
    assert.is(await runCli(['gde', '--task', 'nope', '--json'], bad.io), 1);
    assert.match(JSON.parse(bad.out()).error, /unknown task 'nope'/);
    const badVary = capture();
    assert.is(await runCli(['gde', '--task', 'blobs-mlp', '--vary', 'data'], badVary.io), 1);
    assert.match(badVary.err(), /vary must be one of init, order, both/);
    const badConfig = capture();
    assert.is(await runCli(['gde', '--task', 'blobs-mlp', '--configs', 'w2-e1,h3-e9', '--svg', join(dir, 'q.svg')], badConfig.io), 1);
    assert.match(badConfig.err(), /blobs-mlp has no configuration 'h3-e9' \(names are w<width>-e<epochs>, e\.g\. w16-e4\)/);
    assert.not.match(badConfig.err(), /done/, 'rejected before any training');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

hand.run();
theory.run();
seeds.run();
cli.run();
