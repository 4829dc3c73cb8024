import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsWith } from './helpers.js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  dataDir, loadLinqs, loadOgbNodeProperty, loadIdx, loadMnist, loadDelimited, loadExchangeRate,
  twoMoons, gaussianBlobs, csbm, DataLoader, defaultCollate, rowDataset, subset, type Dataset,
} from '../src/data/index.js';

const timed = <T>(name: string, load: () => T): T => {
  const start = performance.now();
  const result = load();
  console.log(`  load ${name}: ${(performance.now() - start).toFixed(0)} ms`);
  return result;
};

const countsOf = (labels: ArrayLike<number>, k: number) => {
  const counts = new Array(k).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
};

// ---------------------------------------------------------------- real data
const real = suite('data: shared datasets');
const DATA = dataDir();
// Without the datasets each test is registered as skipped, so the run's summary counts them.
const realTest = existsSync(DATA) ? real : real.skip;
if (!existsSync(DATA)) console.log(`SKIP data: shared datasets: ${DATA} is absent (set TESSERA_DATA or provide ../shared/data)`);
realTest('Cora (LINQS): counts from SOURCES.md', () => {
  const g = timed('cora (LINQS)', () => loadLinqs('cora'));
  assert.is(g.numNodes, 2708);
  assert.is(g.numFeatures, 1433);
  assert.is(g.features.length, 2708 * 1433);
  assert.equal(g.classNames, ['Case_Based', 'Genetic_Algorithms', 'Neural_Networks', 'Probabilistic_Methods', 'Reinforcement_Learning', 'Rule_Learning', 'Theory']);
  assert.equal(countsOf(g.labels, 7), [298, 418, 818, 426, 217, 180, 351]);
  assert.is(g.numEdges, 5429);
  assert.is(g.numUndirectedEdges, 5278);
  assert.is(g.selfLoops.length, 0);
  assert.equal(g.dangling, { lines: 0, ids: [] });
  // First row of cora.content: paper 31336, 20 ones, Neural_Networks.
  assert.is(g.ids[0], '31336');
  assert.is(g.features.subarray(0, 1433).reduce((a, b) => a + b, 0), 20);
  assert.is(g.classNames[g.labels[0]], 'Neural_Networks');
  // First line of cora.cites is "35 1033": 1033 cites 35, stored (citing, cited).
  assert.equal([g.ids[g.edges[0]], g.ids[g.edges[1]]], ['1033', '35']);
});

realTest('Citeseer (LINQS): string ids, dangling citations, self loops', () => {
  const g = timed('citeseer (LINQS)', () => loadLinqs('citeseer'));
  assert.is(g.numNodes, 3312);
  assert.is(g.numFeatures, 3703);
  assert.equal(g.classNames, ['AI', 'Agents', 'DB', 'HCI', 'IR', 'ML']);
  assert.equal(countsOf(g.labels, 6), [249, 596, 701, 508, 668, 590]);
  assert.is(g.dangling.lines, 17);
  assert.is(g.dangling.ids.length, 15);
  assert.ok(g.dangling.ids.includes('flach99database'));
  assert.is(g.numEdges, 4732 - 17);
  assert.is(g.selfLoops.length, 124);
  for (const e of g.selfLoops) assert.is(g.edges[2 * e], g.edges[2 * e + 1]);
  // 4536 = unique {a, b}, a != b, both ids in .content (checked with awk on the raw files).
  assert.is(g.numUndirectedEdges, 4536);
  assert.ok(g.ids.includes('yu99methodology'));
});

realTest('planetoid-cora (OGB folders): 2708/5278/1433/7, split 140/500/1000', () => {
  const g = timed('planetoid-cora (OGB)', () => loadOgbNodeProperty('planetoid-cora'));
  assert.equal([g.numNodes, g.numEdges, g.numFeatures, g.numClasses], [2708, 5278, 1433, 7]);
  assert.equal([g.split.train.length, g.split.valid.length, g.split.test.length], [140, 500, 1000]);
  // Planetoid's train split is the first 20 nodes of each class.
  const trainLabels = Array.from(g.split.train, (i) => g.labels[i]);
  assert.equal(countsOf(trainLabels, 7), new Array(7).fill(20));
  const all = new Set([...g.split.train, ...g.split.valid, ...g.split.test]);
  assert.is(all.size, 1640, 'splits are disjoint');
  for (let e = 0; e < g.numEdges; e++) assert.ok(g.edges[2 * e] < g.edges[2 * e + 1]);
});

realTest('planetoid-citeseer (OGB folders): 3327 nodes, 4552 edges, 15 unlabelled', () => {
  const g = timed('planetoid-citeseer (OGB)', () => loadOgbNodeProperty('planetoid-citeseer'));
  assert.equal([g.numNodes, g.numEdges, g.numFeatures, g.numClasses], [3327, 4552, 3703, 6]);
  assert.equal([g.split.train.length, g.split.valid.length, g.split.test.length], [120, 500, 1000]);
  const unlabelled = Array.from(g.labels).filter((l) => l === -1).length;
  assert.is(unlabelled, 15);
});

realTest('MNIST t10k (IDX): shape, label counts, [0, 1] pixels', () => {
  const m = timed('mnist t10k (IDX)', () => loadMnist());
  assert.equal([m.count, m.rows, m.cols], [10000, 28, 28]);
  assert.is(m.images.length, 10000 * 784);
  assert.equal(countsOf(m.labels, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  let min = Infinity, max = -Infinity;
  for (const v of m.images) { if (v < min) min = v; if (v > max) max = v; }
  assert.equal([min, max], [0, 1]);
  assert.equal(Array.from(m.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
});

realTest('exchange_rate: 7588 x 8, values from SOURCES.md', () => {
  const t = timed('exchange_rate', () => loadExchangeRate());
  assert.equal([t.rows, t.cols], [7588, 8]);
  let min = Infinity, max = -Infinity;
  for (const v of t.data) { if (v < min) min = v; if (v > max) max = v; }
  assert.ok(Math.abs(min - 0.006254) < 1e-7, `min ${min}`);
  assert.ok(Math.abs(max - 2.109) < 1e-6, `max ${max}`);
  // First line: 0.785500,1.611000,...
  assert.is(t.data[0], Math.fround(0.7855));
  assert.is(t.data[1], Math.fround(1.611));
});

real.run();

// ---------------------------------------------------------------- malformed input
const bad = suite('data: malformed files name file and line');
let tmp = '';
bad.before(() => { tmp = mkdtempSync(join(tmpdir(), 'tessera-data-')); });
bad.after(() => rmSync(tmp, { recursive: true, force: true }));

bad('LINQS: small graph parsed, gzip detected by magic bytes', () => {
  const dir = join(tmp, 'tiny');
  mkdirSync(dir);
  writeFileSync(join(dir, 'tiny.content.gz'), gzipSync('a\t1\t0\tX\nb 0 1 Y\n\nc\t1\t1\tX\n'));
  writeFileSync(join(dir, 'tiny.cites'), 'a b\nb a\nc c\nzz a\nc b\n');
  const g = loadLinqs('tiny', { dir });
  assert.equal(g.ids, ['a', 'b', 'c']);
  assert.equal(Array.from(g.features), [1, 0, 0, 1, 1, 1]);
  assert.equal(Array.from(g.labels), [0, 1, 0]);
  assert.equal(Array.from(g.edges), [1, 0, 0, 1, 2, 2, 1, 2]);
  assert.equal(Array.from(g.selfLoops), [2]);
  assert.equal(g.dangling, { lines: 1, ids: ['zz'] });
  assert.equal(Array.from(g.undirectedEdges), [0, 1, 1, 2]);
  assert.equal([g.name, g.numClasses, g.classNames], ['tiny', 2, ['X', 'Y']]);
});

bad('LINQS: ragged row, duplicate id, bad number, wrong cites arity', () => {
  const dir = join(tmp, 'broken');
  mkdirSync(dir);
  const content = join(dir, 'broken.content');
  writeFileSync(join(dir, 'broken.cites'), 'a b\n');
  writeFileSync(content, 'a 1 0 X\nb 0 1 Y\nc 1 X\n');
  throwsWith(() => loadLinqs('broken', { dir }), `${content}:3:`, 'expected 4 fields');
  writeFileSync(content, 'a 1 0 X\na 0 1 Y\n');
  throwsWith(() => loadLinqs('broken', { dir }), `${content}:2:`, "duplicate paper id 'a'");
  writeFileSync(content, 'a 1 0 X\nb 0 1x Y\n');
  throwsWith(() => loadLinqs('broken', { dir }), `${content}:2:`, "'1x'");
  writeFileSync(content, 'a 1 0 X\nb 0 1 Y\n');
  writeFileSync(join(dir, 'broken.cites'), 'a b\nb a c\n');
  throwsWith(() => loadLinqs('broken', { dir }), 'broken.cites:2:', '3 field(s)');
  throwsWith(() => loadLinqs('absent', { dir }), 'absent.content', 'not found');
});

bad('OGB folder: out-of-range edge and label count mismatch', () => {
  const dir = join(tmp, 'ogb');
  for (const sub of ['raw', 'split/public']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'raw/node-feat.csv'), '0.5,1\n1,2.5e-1\n0,0\n');
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n-1\n0\n');
  writeFileSync(join(dir, 'raw/edge.csv'), '0,1\n1,2\n');
  for (const [part, ids] of [['train', '0\n'], ['valid', '1\n'], ['test', '2\n']]) writeFileSync(join(dir, `split/public/${part}.csv`), ids);
  const g = loadOgbNodeProperty('ogb', { dir });
  assert.equal([g.numNodes, g.numFeatures, g.numClasses, g.numEdges], [3, 2, 2, 2]);
  assert.equal(Array.from(g.features), [0.5, 1, 1, 0.25, 0, 0]);
  assert.equal(Array.from(g.labels), [1, -1, 0]);
  writeFileSync(join(dir, 'raw/edge.csv'), '0,1\n1,3\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'edge.csv:2:', 'node id 3 outside [0, 2]');
  writeFileSync(join(dir, 'raw/edge.csv'), '0,1\n');
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n0\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'node-label.csv', '2 labels', '3 rows');
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n0.5\n0\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'node-label.csv:2:', 'not an integer');
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n1e9\n0\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'node-label.csv:2:', 'value 1000000000 outside [-1, 2]');
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n0x1\n0\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'node-label.csv:2:', "not a finite number: '0x1'");
  writeFileSync(join(dir, 'raw/node-label.csv'), '1\n-1\n0\n');
  writeFileSync(join(dir, 'split/public/test.csv'), '2\n2\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'test.csv', 'node 2 is listed twice');
  writeFileSync(join(dir, 'split/public/test.csv'), '1\n');
  throwsWith(() => loadOgbNodeProperty('ogb', { dir }), 'split/public', 'node 1 is in both valid and test');
});

bad('IDX: big-endian int16 and float32 decoded; wrong magic and truncation rejected', () => {
  const path = join(tmp, 'x.idx');
  // magic 0x00000B02: int16, 2 dims; shape 2 x 2; values 1, -2, 300, -32768 big-endian.
  writeFileSync(path, Buffer.from([0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0x00, 0x01, 0xff, 0xfe, 0x01, 0x2c, 0x80, 0x00]));
  const i16 = loadIdx(path);
  assert.equal([i16.dtype, i16.shape, Array.from(i16.data), i16.magic], ['int16', [2, 2], [1, -2, 300, -32768], 0x0b02]);
  // float32 1.5 = 0x3FC00000, -0.25 = 0xBE800000.
  writeFileSync(path, gzipSync(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xbe, 0x80, 0, 0])));
  assert.equal(Array.from(loadIdx(path).data), [1.5, -0.25]);
  throwsWith(() => loadIdx(path, 2051), path, 'magic number 3329, expected 2051');
  writeFileSync(path, Buffer.from([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2, 3]));
  throwsWith(() => loadIdx(path), path, 'needs 13 bytes, file has 11');
  writeFileSync(path, Buffer.from([1, 2, 3, 4, 5]));
  throwsWith(() => loadIdx(path), path, 'not an IDX file');
  // MNIST: two 1x1 images; a label byte of 10 is not a digit.
  const mnist = join(tmp, 'mnist-bad');
  mkdirSync(mnist, { recursive: true });
  writeFileSync(join(mnist, 't10k-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 255]));
  writeFileSync(join(mnist, 't10k-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]));
  assert.equal(Array.from(loadMnist({ dir: mnist }).labels), [7, 9]);
  writeFileSync(join(mnist, 't10k-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 10]));
  throwsWith(() => loadMnist({ dir: mnist }), 't10k-labels-idx1-ubyte', 'label 10 of image 1 is not a digit');
});

bad('delimited: header, ragged row, non-number', () => {
  const path = join(tmp, 'series.csv');
  writeFileSync(path, 'a,b\n1,2\r\n3,4.5\n');
  const t = loadDelimited(path, { header: true });
  assert.equal([t.rows, t.cols, t.header, Array.from(t.data)], [2, 2, ['a', 'b'], [1, 2, 3, 4.5]]);
  writeFileSync(path, '1,2\n3\n');
  throwsWith(() => loadDelimited(path), `${path}:2:`, 'expected 2 columns');
  writeFileSync(path, '1,2\n3,nan\n');
  throwsWith(() => loadDelimited(path), `${path}:2:`, "field 2 is not a finite number: 'nan'");
  for (const token of ['0x1', '0b1', '0o7', '1_000', 'Infinity', '1e999']) {
    writeFileSync(path, `1,${token}\n`);
    throwsWith(() => loadDelimited(path), `${path}:1:`, `field 2 is not a finite number: '${token}'`);
  }
  writeFileSync(path, '-.5,+2.,3E-2\n');
  assert.equal(Array.from(loadDelimited(path).data), [-0.5, 2, Math.fround(0.03)]);
  writeFileSync(path, '1,,2\n');
  throwsWith(() => loadDelimited(path), `${path}:1:`, 'field 2');
});
bad.run();


// ---------------------------------------------------------------- synthetic
const synth = suite('data: synthetic generators');

synth('twoMoons: seeded, balanced, exact arcs without noise', () => {
  const a = twoMoons(101, 0.1, 7), b = twoMoons(101, 0.1, 7), c = twoMoons(101, 0.1, 8);
  assert.equal(Array.from(a.x), Array.from(b.x));
  assert.not.equal(Array.from(a.x), Array.from(c.x));
  assert.equal(countsOf(a.y, 2), [50, 51]);
  const clean = twoMoons(40, 0, 1);
  for (let i = 0; i < 40; i++) {
    const [x, y] = [clean.x[2 * i], clean.x[2 * i + 1]];
    // Class 0 lies on the unit upper half circle, class 1 on the circle of
    // radius 1 around (1, 0.5), lower half.
    const r = clean.y[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
    assert.ok(Math.abs(r - 1) < 1e-6, `point ${i} radius ${r}`);
    assert.ok(clean.y[i] === 0 ? y >= -1e-6 : y <= 0.5 + 1e-6);
  }
});

synth('gaussianBlobs: n split 4/3/3, explicit centers with std 0', () => {
  const g = gaussianBlobs(10, [[0, 0], [5, 5], [-3, 2]], 2, 0, 3);
  assert.equal(countsOf(g.y, 3), [4, 3, 3]);
  for (let i = 0; i < 10; i++) {
    const c = g.y[i];
    assert.equal([g.x[2 * i], g.x[2 * i + 1]], [g.centers[2 * c], g.centers[2 * c + 1]]);
  }
  const random = gaussianBlobs(3000, 3, 4, 0.5, 11);
  for (const v of random.centers) assert.ok(v >= -10 && v <= 10);
  // Per-cluster sample std should be close to 0.5 (1000 points x 4 dims).
  let ss = 0;
  for (let i = 0; i < 3000; i++) for (let d = 0; d < 4; d++) ss += (random.x[i * 4 + d] - random.centers[random.y[i] * 4 + d]) ** 2;
  assert.ok(Math.abs(Math.sqrt(ss / 12000) - 0.5) < 0.02);
  assert.throws(() => gaussianBlobs(10, [[0, 0]], 3, 1, 0), /center 0 has 2 coordinates/);
});

synth('csbm: edge counts match pIn/pOut, features are featSep apart', () => {
  const g = csbm({ nodes: 400, classes: 2, pIn: 0.1, pOut: 0.01, featDim: 8, featSep: 3, seed: 5 });
  assert.equal(countsOf(g.labels, 2), [200, 200]);
  let within = 0, across = 0, prev = -1;
  for (let e = 0; e < g.numEdges; e++) {
    const u = g.edges[2 * e], v = g.edges[2 * e + 1];
    assert.ok(u < v);
    const key = u * 400 + v;
    assert.ok(key > prev, 'sorted and unique');
    prev = key;
    if (g.labels[u] === g.labels[v]) within++; else across++;
  }
  // Expected within = 2 * C(200, 2) * 0.1 = 3980 (sd ~ 60); across = 200 * 200 * 0.01 = 400 (sd ~ 20).
  assert.ok(Math.abs(within - 3980) < 300, `within-class edges ${within}`);
  assert.ok(Math.abs(across - 400) < 100, `across-class edges ${across}`);
  const dist = Math.hypot(...Array.from({ length: 8 }, (_, d) => g.means[d] - g.means[8 + d]));
  assert.ok(Math.abs(dist - 3) < 1e-5, `mean distance ${dist}`);
  const same = csbm({ nodes: 400, classes: 2, pIn: 0.1, pOut: 0.01, featDim: 8, featSep: 3, seed: 5 });
  assert.equal(Array.from(same.edges), Array.from(g.edges));
  assert.equal(Array.from(same.features), Array.from(g.features));
});

synth('csbm: pIn = 1, pOut = 0 gives exactly the within-class cliques', () => {
  const g = csbm({ nodes: 10, classes: 3, pIn: 1, pOut: 0, featDim: 3, featSep: 1, seed: 2 });
  const sizes = countsOf(g.labels, 3);
  assert.equal([...sizes].sort(), [3, 3, 4]);
  // C(4, 2) + C(3, 2) + C(3, 2) = 6 + 3 + 3 = 12.
  assert.is(g.numEdges, 12);
  for (let e = 0; e < g.numEdges; e++) assert.is(g.labels[g.edges[2 * e]], g.labels[g.edges[2 * e + 1]]);
  assert.is(csbm({ nodes: 50, classes: 2, pIn: 0, pOut: 0, featDim: 2, featSep: 1, seed: 2 }).numEdges, 0);
  assert.throws(() => csbm({ nodes: 10, classes: 3, pIn: 1.5, pOut: 0, featDim: 3, featSep: 1, seed: 0 }), /pIn = 1.5/);
});
synth.run();

// ---------------------------------------------------------------- loader
const loader = suite('data: Dataset and DataLoader');

const numbers: Dataset<{ x: Float32Array; y: number }> = {
  length: 10,
  get: (i) => ({ x: Float32Array.of(i, 10 * i), y: i }),
};

loader('sequential batches, last batch short, dropLast', () => {
  const dl = new DataLoader({ dataset: numbers, batchSize: 4 });
  const batches = [...dl];
  assert.is(dl.length, 3);
  assert.equal(batches.map((b) => b.x.shape), [[4, 2], [4, 2], [2, 2]]);
  assert.ok(batches[0].x.data instanceof Float32Array);
  assert.ok(batches[0].y.data instanceof Float64Array);
  assert.equal(Array.from(batches[2].x.data), [8, 80, 9, 90]);
  assert.equal(Array.from(batches[2].y.data), [8, 9]);
  const dropped = new DataLoader({ dataset: numbers, batchSize: 4, dropLast: true });
  assert.is(dropped.length, 2);
  assert.is([...dropped].length, 2);
});

loader('seeded shuffling: a permutation per epoch, reproducible, replayable', () => {
  const order = (dl: DataLoader<{ x: Float32Array; y: number }>) => [...dl].flatMap((b) => Array.from(b.y.data));
  const dl = new DataLoader({ dataset: numbers, batchSize: 3, shuffle: true, seed: 42 });
  const epoch0 = order(dl), epoch1 = order(dl);
  assert.equal([...epoch0].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal([...epoch1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.not.equal(epoch0, epoch1);
  assert.not.equal(epoch0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const again = new DataLoader({ dataset: numbers, batchSize: 3, shuffle: true, seed: 42 });
  assert.equal(order(again), epoch0);
  assert.equal([...again.epoch(1)].flatMap((b) => Array.from(b.y.data)), epoch1);
  const other = new DataLoader({ dataset: numbers, batchSize: 3, shuffle: true, seed: 43 });
  assert.not.equal(order(other), epoch0);
});

loader('defaultCollate: tuples, shaped items, mismatches', () => {
  const batch = defaultCollate([[Int32Array.of(1, 2), { data: Uint8Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] }], [Int32Array.of(3, 4), { data: Uint8Array.of(7, 8, 9, 10, 11, 12), shape: [2, 3] }]]);
  assert.equal(batch[0].shape, [2, 2]);
  assert.ok(batch[0].data instanceof Int32Array);
  assert.equal(batch[1].shape, [2, 2, 3]);
  assert.equal(Array.from(batch[1].data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.throws(() => defaultCollate([{ x: Float32Array.of(1) }, { x: Float32Array.of(1, 2) }]), /item\.x of batch element 1 has shape \[2\]/);
  assert.throws(() => defaultCollate([{ x: Float32Array.of(1) }, { x: Int32Array.of(1) }]), /expected a Float32Array/);
  assert.throws(() => defaultCollate(['a', 'b']), /cannot stack item of type string/);
});

loader('rowDataset and subset feed a loader', () => {
  const features = { data: Float32Array.from({ length: 12 }, (_, i) => i), shape: [4, 3] };
  const labels = { data: Int32Array.of(5, 6, 7, 8), shape: [4] };
  const ds = rowDataset({ x: features, y: labels });
  assert.equal(Array.from(ds.get(1).x.data), [3, 4, 5]);
  assert.equal(ds.get(1).y.shape, []);
  const [batch] = [...new DataLoader({ dataset: subset(ds, [3, 1]), batchSize: 2 })];
  assert.equal(batch.x.shape, [2, 3]);
  assert.equal(Array.from(batch.x.data), [9, 10, 11, 3, 4, 5]);
  assert.equal(Array.from(batch.y.data), [8, 6]);
  assert.ok(batch.y.data instanceof Int32Array);
  assert.throws(() => rowDataset({ x: features, y: { data: Int32Array.of(1), shape: [1] } }), /column 'y' has shape \[1\]/);
  assert.throws(() => subset(ds, [4]), /index 4/);
});
loader.run();
