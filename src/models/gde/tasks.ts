// Ready-made GDE experiments: a dataset, a train / test split, and a default
// sweep of model widths and training lengths (so that test errors, and the
// points of the disagreement-vs-error plot, spread). A configuration is named
// by its recipe, '<w|h><width>-e<epochs>', so any width and length can be run.
// Each configuration trains its copies with estimateGde and predicts on the
// test points as unlabelled data; the test labels only score the estimate.
//
//   mnist-mlp  one-hidden-layer MLPs (w<width>-e<epochs>) on MNIST's t10k
//              images (the only split in shared/data), split in two halves:
//              5,000 to train on, 5,000 to test on.
//   cora-gcn   2-layer GCNs (h<hidden>-e<epochs>, src/models/gnn) on
//              planetoid-cora's public split: 140 training nodes, 1,000 test.
//   blobs-mlp  small MLPs on three overlapping 2-D Gaussian blobs (no files;
//              the CLI test runs it).

import { join } from 'node:path';
import * as T from '../../index.js';
import { checkVary, estimateGde, type EnsembleKind, type GdeModel, type GdeReport, type Vary } from './gde.js';
import { Gcn, loadGraphFolder, prepareGraph, trainNodeClassifier } from '../gnn/index.js';

export interface GdeTaskOptions {
  /**
   * Fraction of the training labels replaced by another class drawn uniformly (test labels stay
   * clean): the models then fit noise, and their ensemble is no longer calibrated on clean data.
   * Default 0.
   */
  labelNoise?: number;
  /** Seed of the data split and of the label noise. Default 0. */
  dataSeed?: number;
}

export interface GdeRunOptions {
  copies: number;
  vary: Vary;
  /** Base seed of the copies. Default 0. */
  seed?: number;
  bins?: number;
  ensemble?: EnsembleKind;
}

/** One model size / training length of a task. */
export interface GdeConfig {
  name: string;
  /** Trains the copies and scores them on the task's test points. */
  estimate(opts: GdeRunOptions & { onCopy?: (copy: number, seconds: number) => void }): Promise<GdeReport>;
}

export interface PreparedGdeTask {
  task: string;
  numClasses: number;
  trainSize: number;
  testSize: number;
  labelNoise: number;
  /** The sweep run when no configuration is named. */
  defaultConfigs: string[];
  /** The configuration of that name: '<w|h><width>-e<epochs>' (see the task's describe). */
  config(name: string): GdeConfig;
  /** Frees the data tensors. */
  dispose(): void;
}

export interface GdeTask {
  describe: string;
  defaultConfigs: string[];
  prepare(opts?: GdeTaskOptions): PreparedGdeTask;
}

function checkNoise(labelNoise: number): void {
  if (!(labelNoise >= 0 && labelNoise <= 1)) throw new Error(`gde task: labelNoise must be in [0, 1], got ${labelNoise}`);
}

/** Replaces round(fraction * n) labels, chosen at random, with a different class drawn uniformly. */
export function withLabelNoise(labels: Int32Array, numClasses: number, fraction: number, seed: number): Int32Array {
  checkNoise(fraction);
  const out = labels.slice();
  const rng = new T.Rng(seed ^ 0x5bd1e995);
  const flips = Math.round(fraction * labels.length);
  const order = rng.permutation(labels.length);
  for (let j = 0; j < flips; j++) {
    const i = order[j];
    out[i] = (labels[i] + 1 + rng.int(numClasses - 1)) % numClasses;
  }
  return out;
}

/**
 * Reads a configuration name '<prefix><width>-e<epochs>' (e.g. 'w128-e8'): every task sweeps a
 * model width and a training length, so a name is the whole recipe.
 */
function parseConfig(task: string, prefix: string, name: string): { width: number; epochs: number } {
  const m = new RegExp(`^${prefix}([1-9]\\d*)-e([1-9]\\d*)$`).exec(name);
  if (!m) throw new Error(`gde: ${task} has no configuration '${name}' (names are ${prefix}<width>-e<epochs>, e.g. ${prefix}16-e4)`);
  return { width: Number(m[1]), epochs: Number(m[2]) };
}

/** Binds a model to the task's test labels, hiding the model's type behind GdeConfig. */
function config<M>(name: string, model: GdeModel<M>, numClasses: number, testLabels: Int32Array): GdeConfig {
  return { name, estimate: (opts) => estimateGde(model, numClasses, { ...opts, labels: testLabels }) };
}

/** Softmax probabilities of `logits` as a host array. */
function probabilities(logits: T.Tensor): Float32Array {
  return T.softmax(logits, 1).dataSync() as Float32Array;
}

// ---- MLPs on a dense design matrix (mnist-mlp, blobs-mlp) ----

interface DenseSplit {
  features: number;
  numClasses: number;
  xTrain: T.Tensor;
  yTrain: T.Tensor;
  xTest: T.Tensor;
  trainSize: number;
}

interface MlpRecipe {
  width: number;
  epochs: number;
  batchSize: number;
  lr: number;
}

/** One-hidden-layer ReLU MLP trained with SGD (momentum 0.9) on minibatches in the order-seeded shuffle. */
function mlpModel(data: DenseSplit, recipe: MlpRecipe): GdeModel<T.nn.Sequential> {
  const rowIds = { length: data.trainSize, get: (i: number) => i };
  return {
    create(initSeed) {
      const generator = new T.Rng(initSeed);
      return new T.nn.Sequential(
        new T.nn.Linear(data.features, recipe.width, { generator, activation: 'relu' }),
        new T.nn.Linear(recipe.width, data.numClasses, { generator }),
      );
    },
    train(model, orderSeed) {
      // The order seed picks the loader's per-epoch permutations of the training rows.
      const loader = new T.data.DataLoader({ dataset: rowIds, batchSize: recipe.batchSize, shuffle: true, seed: orderSeed,
        collate: (rows: number[]) => Int32Array.from(rows) });
      const opt = new T.optim.SGD(model.parameters(), { lr: recipe.lr, momentum: 0.9 });
      try {
        for (let epoch = 0; epoch < recipe.epochs; epoch++) {
          for (const rows of loader) {
            T.scope(() => {
              const idx = T.fromArray(rows, [rows.length], { dtype: 'int32' });
              opt.zeroGrad();
              T.crossEntropy(model.forward(T.indexSelect(data.xTrain, 0, idx)), T.indexSelect(data.yTrain, 0, idx)).backward();
              opt.step();
            });
          }
        }
      } finally {
        model.zeroGrad();
        opt.dispose();
      }
    },
    predict(model) {
      model.eval();
      return T.noGrad(() => T.scope(() => probabilities(model.forward(data.xTest))));
    },
    dispose: (model) => model.dispose(),
  };
}

/** Uploads a row split of a labelled design matrix (train labels possibly noised). */
function denseSplit(x: Float32Array, features: number, numClasses: number,
  train: Int32Array, test: Int32Array, trainLabels: Int32Array): DenseSplit {
  const rows = (ids: Int32Array) => {
    const out = new Float32Array(ids.length * features);
    ids.forEach((r, k) => out.set(x.subarray(r * features, (r + 1) * features), k * features));
    return T.fromArray(out, [ids.length, features]).keep();
  };
  return {
    features, numClasses, trainSize: train.length,
    xTrain: rows(train), xTest: rows(test),
    yTrain: T.fromArray(trainLabels, [train.length], { dtype: 'int32' }).keep(),
  };
}

function mlpTask(name: string, load: (opts: Required<GdeTaskOptions>) => {
  x: Float32Array; features: number; labels: Int32Array; numClasses: number; train: Int32Array; test: Int32Array;
}, training: { batchSize: number; lr: number }, defaultConfigs: string[], describe: string): GdeTask {
  return {
    describe,
    defaultConfigs,
    prepare(options = {}) {
      const opts = { labelNoise: options.labelNoise ?? 0, dataSeed: options.dataSeed ?? 0 };
      checkNoise(opts.labelNoise);
      const d = load(opts);
      const trainLabels = withLabelNoise(Int32Array.from(d.train, (i) => d.labels[i]), d.numClasses, opts.labelNoise, opts.dataSeed);
      const testLabels = Int32Array.from(d.test, (i) => d.labels[i]);
      const split = denseSplit(d.x, d.features, d.numClasses, d.train, d.test, trainLabels);
      return {
        task: name, numClasses: d.numClasses, trainSize: d.train.length, testSize: d.test.length, labelNoise: opts.labelNoise,
        defaultConfigs,
        config: (c) => config(c, mlpModel(split, { ...parseConfig(name, 'w', c), ...training }), d.numClasses, testLabels),
        dispose() { split.xTrain.dispose(); split.yTrain.dispose(); split.xTest.dispose(); },
      };
    },
  };
}

/** The first `trainSize` rows of a seeded permutation, and the rest. */
function randomSplit(n: number, trainSize: number, seed: number): { train: Int32Array; test: Int32Array } {
  // A stream of its own: generators that shuffle their rows with Rng(seed).permutation (T.data.gaussianBlobs)
  // would otherwise hand over their class-sorted order as the split.
  const order = new T.Rng(Math.imul(seed + 1, 0x9e3779b1) ^ 0x2545f491).permutation(n);
  return { train: order.slice(0, trainSize), test: order.slice(trainSize) };
}

const mnistMlp = mlpTask('mnist-mlp', ({ dataSeed }) => {
  const m = T.data.loadMnist({ split: 't10k', dir: T.data.datasetDir('mnist') });
  const features = m.rows * m.cols;
  return { x: m.images, features, labels: m.labels, numClasses: 10, ...randomSplit(m.count, Math.floor(m.count / 2), dataSeed) };
}, { batchSize: 64, lr: 0.02 }, ['w8-e1', 'w32-e1', 'w32-e4', 'w128-e2', 'w128-e8', 'w512-e8'],
'MLPs 784-w-10 on MNIST t10k, 5,000 images to train and 5,000 to test; configs w<width>-e<epochs>');

const BLOB_CENTERS = [[0, 0], [2.5, 0], [1.25, 2.2]];
const blobsMlp = mlpTask('blobs-mlp', ({ dataSeed }) => {
  const n = 600;
  const b = T.data.gaussianBlobs(n, BLOB_CENTERS, 2, 1, dataSeed);
  return { x: b.x, features: 2, labels: b.y, numClasses: 3, ...randomSplit(n, n / 2, dataSeed) };
}, { batchSize: 30, lr: 0.05 }, ['w2-e1', 'w8-e4', 'w32-e12'],
'MLPs 2-w-3 on three overlapping 2-D Gaussian blobs, 300 points to train and 300 to test (for tests); configs w<width>-e<epochs>');

// ---- GCN on Cora ----

interface SeededGcn { gcn: Gcn; generator: T.Rng }

const CORA_CONFIGS = ['h4-e20', 'h16-e20', 'h4-e200', 'h16-e200', 'h64-e50', 'h64-e200'];

const cora: GdeTask = {
  describe: '2-layer GCNs (Kipf & Welling) on planetoid-cora, public split: 140 nodes to train, 1,000 to test; configs h<hidden>-e<epochs>',
  defaultConfigs: CORA_CONFIGS,
  prepare(options = {}) {
    const labelNoise = options.labelNoise ?? 0, dataSeed = options.dataSeed ?? 0;
    checkNoise(labelNoise);
    const graph = loadGraphFolder(T.data.datasetDir('planetoid-cora'));
    const split = graph.publicSplit;
    if (!split) throw new Error('cora-gcn: planetoid-cora has no split/public folder');
    const inputs = prepareGraph(graph);
    // Noise only the training nodes' labels; every other node keeps its class.
    const trainLabels = withLabelNoise(Int32Array.from(split.train, (i) => graph.labels[i]), graph.numClasses, labelNoise, dataSeed);
    const labels = graph.labels.slice();
    split.train.forEach((node, k) => { labels[node] = trainLabels[k]; });
    const testLabels = Int32Array.from(split.test, (i) => graph.labels[i]);
    const testIds = T.fromArray(split.test, [split.test.length], { dtype: 'int32' }).keep();
    const model = (r: { width: number; epochs: number }): GdeModel<SeededGcn> => ({
      create(initSeed) {
        const generator = new T.Rng(initSeed);
        // Kipf's setting: ReLU, dropout 0.5 on the features and on the hidden layer.
        return { gcn: new Gcn(graph.numFeatures, graph.numClasses, { hidden: r.width, activation: 'relu', dropout: 0.5, inputDropout: 0.5, generator }), generator };
      },
      train(m, orderSeed) {
        // Full-batch training has no data order: the order seed draws the dropout masks.
        m.generator.seed(orderSeed);
        trainNodeClassifier(m.gcn, inputs, labels, split.train, { epochs: r.epochs, lr: 0.01, weightDecay: 5e-4 });
      },
      predict(m) {
        m.gcn.eval();
        return T.noGrad(() => T.scope(() => {
          const out = m.gcn.forward(inputs);
          const p = probabilities(T.indexSelect(out.logits, 0, testIds));
          out.release();
          return p;
        }));
      },
      dispose(m) { m.gcn.dispose(); },
    });
    return {
      task: 'cora-gcn', numClasses: graph.numClasses, trainSize: split.train.length, testSize: split.test.length, labelNoise,
      defaultConfigs: CORA_CONFIGS,
      config: (c) => config(c, model(parseConfig('cora-gcn', 'h', c)), graph.numClasses, testLabels),
      dispose() { inputs.dispose(); testIds.dispose(); },
    };
  },
};

export const gdeTasks: Record<string, GdeTask> = { 'mnist-mlp': mnistMlp, 'cora-gcn': cora, 'blobs-mlp': blobsMlp };

export interface GdeConfigResult {
  name: string;
  report: GdeReport;
  seconds: number;
}

export interface GdeTaskResult {
  task: string;
  vary: Vary;
  copies: number;
  labelNoise: number;
  trainSize: number;
  testSize: number;
  configs: GdeConfigResult[];
  summary: {
    /** Mean over configurations of |disagreement - mean test error|. */
    meanAbsGap: number;
    /** Mean over configurations of the signed gap (disagreement - mean test error). */
    meanGap: number;
    /** Spread of the configurations' mean test errors: range and standard deviation. */
    testErrorMin: number;
    testErrorMax: number;
    testErrorSd: number;
  };
}

/** Runs the configurations named in `only` (in that order), else the task's default sweep. */
export async function runGdeTask(prepared: PreparedGdeTask, opts: GdeRunOptions & {
  only?: string[];
  onCopy?: (config: string, copy: number, seconds: number) => void;
}): Promise<GdeTaskResult> {
  // Checked before any training: a bad value would otherwise surface only after the last copy.
  if (!Number.isInteger(opts.copies) || opts.copies < 2) throw new Error(`gde: copies must be an integer >= 2, got ${opts.copies}`);
  if (opts.bins !== undefined && !(Number.isInteger(opts.bins) && opts.bins >= 1)) throw new Error(`gde: bins must be an integer >= 1, got ${opts.bins}`);
  checkVary(opts.vary);
  // Every name is resolved (and a bad one reported) before the first copy trains.
  const chosen = (opts.only?.length ? opts.only : prepared.defaultConfigs).map((name) => prepared.config(name));
  const configs: GdeConfigResult[] = [];
  for (const c of chosen) {
    const start = performance.now();
    const report = await c.estimate({ ...opts, onCopy: (copy, s) => opts.onCopy?.(c.name, copy, s) });
    configs.push({ name: c.name, report, seconds: (performance.now() - start) / 1000 });
  }
  const errors = configs.map((c) => c.report.meanTestError!);
  const gaps = configs.map((c) => c.report.gap!);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const errorMean = mean(errors);
  return {
    task: prepared.task, vary: opts.vary, copies: opts.copies, labelNoise: prepared.labelNoise,
    trainSize: prepared.trainSize, testSize: prepared.testSize, configs,
    summary: {
      meanAbsGap: mean(gaps.map(Math.abs)),
      meanGap: mean(gaps),
      testErrorMin: Math.min(...errors),
      testErrorMax: Math.max(...errors),
      testErrorSd: Math.sqrt(mean(errors.map((e) => (e - errorMean) ** 2))),
    },
  };
}
