// `tessera srgnn` end to end on a tiny OGB-style folder written here (gzipped
// CSVs), with the training sets given by --train-sets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../src/cli/commands.js';
import '../src/cli/srgnn.js';
import { csbm } from '../src/data/synthetic.js';

const s = suite('srgnn-cli');

const graph = csbm({ nodes: 150, classes: 3, pIn: 0.08, pOut: 0.008, featDim: 8, featSep: 2, seed: 11 });
const dir = mkdtempSync(join(tmpdir(), 'tessera-srgnn-'));
const folder = join(dir, 'tiny');

function writeGz(path: string, lines: string[]): void {
  writeFileSync(path, gzipSync(Buffer.from(lines.join('\n') + '\n')));
}

s.before(() => {
  mkdirSync(join(folder, 'raw'), { recursive: true });
  mkdirSync(join(folder, 'split', 'public'), { recursive: true });
  const n = graph.numNodes, d = graph.featDim;
  writeGz(join(folder, 'raw', 'node-feat.csv.gz'), Array.from({ length: n }, (_, i) => Array.from(graph.features.subarray(i * d, (i + 1) * d), (v) => v.toFixed(5)).join(',')));
  // Node 149 is unlabelled: it must stay out of the test set.
  writeGz(join(folder, 'raw', 'node-label.csv.gz'), Array.from(graph.labels, (c, i) => String(i === n - 1 ? -1 : c)));
  writeGz(join(folder, 'raw', 'edge.csv.gz'), Array.from({ length: graph.numEdges }, (_, e) => `${graph.edges[2 * e]},${graph.edges[2 * e + 1]}`));
  // A public split (disjoint parts, as the OGB loader requires); --train-sets replaces it in these runs.
  for (const [k, part] of ['train', 'valid', 'test'].entries()) {
    writeGz(join(folder, 'split', 'public', `${part}.csv.gz`), [0, 1, 2].map((i) => String(3 * k + i)));
  }
});

s.after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI, collecting what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(args, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

/** Five nodes of each class, the first ones in node order. */
function trainSet(offset: number): number[] {
  const perClass: number[][] = [[], [], []];
  for (let i = offset; i < graph.numNodes - 1; i++) if (perClass[graph.labels[i]].length < 5) perClass[graph.labels[i]].push(i);
  return perClass.flat();
}

s('--train-sets: one run per set, F1 over the labelled nodes outside it, CMD reported', async () => {
  const sets = [trainSet(0), trainSet(40)];
  const file = join(dir, 'sets.json');
  writeFileSync(file, JSON.stringify(sets));
  const r = await cli(['srgnn', '--data', folder, '--model', 'sr-gcn', '--train-sets', file, '--epochs', '60', '--hidden', '16', '--json']);
  assert.is(r.code, 0, r.out + r.err);
  const report = JSON.parse(r.out);
  assert.is(report.repeats, 2);
  assert.is(report.sampler, 'train-sets');
  assert.is(report.testSet, 'rest', 'a folder not named planetoid-citeseer/-pubmed is scored on every other labelled node');
  assert.is(report.label, 'SR-GCN (CMD)');
  assert.equal(report.runs.map((x: { trainSize: number }) => x.trainSize), [15, 15]);
  assert.ok(report.microF1.mean > 0.6 && report.microF1.mean <= 1, `micro-F1 ${report.microF1.mean} (chance 1/3)`);
  assert.ok(report.macroF1.mean > 0.5, `macro-F1 ${report.macroF1.mean}`);
  assert.ok(report.trainIidCmd.mean > 0 && Number.isFinite(report.trainIidCmd.mean), `CMD ${report.trainIidCmd.mean}`);
  const micro = report.runs.map((x: { microF1: number }) => x.microF1);
  const mean = (micro[0] + micro[1]) / 2;
  assert.ok(Math.abs(report.microF1.mean - mean) < 1e-12, 'the mean is over the runs');
});

s('text output names the model, the runs and both F1 scores', async () => {
  const file = join(dir, 'one.json');
  writeFileSync(file, JSON.stringify([trainSet(10)]));
  const r = await cli(['srgnn', '--data', folder, '--model', 'gcn', '--train-sets', file, '--epochs', '20']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^GCN on tiny \(150 nodes\), train-sets training sets, 1 run\(s\)/);
  assert.match(r.out, /micro-F1 \d+\.\d ± 0\.0 {2}macro-F1 \d+\.\d ± 0\.0/);
  assert.match(r.out, /CMD\(train, IID\) on the last hidden layer: \d/);
});

s('bad training sets and flags fail with exit codes 1 and 2 and say why', async () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify([[0, 1, 150]]));
  let r = await cli(['srgnn', '--data', folder, '--train-sets', file, '--json']);
  assert.is(r.code, 1);
  assert.match(JSON.parse(r.out).error, /set 0 entry 2 is 150, not a node id in \[0, 150\)/);
  writeFileSync(file, JSON.stringify([[0, 149]]));
  r = await cli(['srgnn', '--data', folder, '--train-sets', file, '--json']);
  assert.is(r.code, 1);
  assert.match(JSON.parse(r.out).error, /training node 149 is not a labelled node/);
  r = await cli(['srgnn', '--data', folder, '--model', 'mlp', '--json']);
  assert.is(r.code, 1);
  assert.match(JSON.parse(r.out).error, /unknown model 'mlp'/);
  r = await cli(['srgnn', '--data', folder, '--epochs', 'many']);
  assert.is(r.code, 2);
  assert.match(r.err, /--epochs needs a number/);
});

s('--test-set public scores the public test nodes only; a training set overlapping them is an error', async () => {
  const file = join(dir, 'public.json');
  writeFileSync(file, JSON.stringify([trainSet(10)]));
  const r = await cli(['srgnn', '--data', folder, '--model', 'gcn', '--train-sets', file, '--epochs', '20', '--test-set', 'public', '--json']);
  assert.is(r.code, 0, r.out + r.err);
  const report = JSON.parse(r.out);
  assert.is(report.testSet, 'public');
  // Three public test nodes (6, 7, 8): micro-F1 is a multiple of 1/3.
  const thirds = 3 * report.runs[0].microF1;
  assert.ok(Math.abs(thirds - Math.round(thirds)) < 1e-9, `micro-F1 ${report.runs[0].microF1} over 3 nodes`);
  writeFileSync(file, JSON.stringify([[6, 10, 11]]));
  const bad = await cli(['srgnn', '--data', folder, '--train-sets', file, '--test-set', 'public', '--json']);
  assert.is(bad.code, 1);
  assert.match(JSON.parse(bad.out).error, /test set 'public': 1 training node\(s\) are public test nodes of tiny \(first 6\)/);
  const flag = await cli(['srgnn', '--data', folder, '--train-sets', file, '--test-set', 'all', '--json']);
  assert.match(JSON.parse(flag.out).error, /--test-set must be public or rest, got 'all'/);
});

s.run();
