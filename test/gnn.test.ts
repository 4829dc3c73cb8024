// GNN models and SR-GNN training: the CMD regularizer's value and gradient,
// each model learning a small synthetic CSBM graph, and SR-GCN / SR-APPNP
// runs on a biased training set (the sampler's own properties are tested in
// graph.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, gradcheck, makeInput, randomValues, values } from './helpers.js';
import { csbm } from '../src/data/synthetic.js';
import { accuracy } from '../src/metrics/index.js';
import {
  BASE_MODELS, SrGnnExperiment, cmdBetween, createModel, csbmGraph, evaluateNodeClassifier,
  labelledNodesExcept, parseModel, prepareGraph, repeatGenerators, sampleIid, trainNodeClassifier,
} from '../src/models/gnn/index.js';

const s = suite('gnn');
const backends = await backendsUnderTest();
// The models are exercised on the fastest backend here; the kernels themselves are compared across backends elsewhere.
const backend = backends.includes('cpu') ? 'cpu' : 'reference';

/** CMD_K from its definition, in float64: ||mean_a - mean_b|| + sum_j ||c_j(a) - c_j(b)||. */
function cmdByDefinition(h: Float64Array, d: number, a: number[], b: number[], k: number): number {
  const stats = (rows: number[]) => {
    const mean = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) mean[j] += h[r * d + j] / rows.length;
    const moments = Array.from({ length: k - 1 }, (_, m) => {
      const c = new Float64Array(d);
      for (const r of rows) for (let j = 0; j < d; j++) c[j] += (h[r * d + j] - mean[j]) ** (m + 2) / rows.length;
      return c;
    });
    return [mean, ...moments];
  };
  const sa = stats(a), sb = stats(b);
  return sa.reduce((acc, v, m) => acc + Math.hypot(...Array.from(v, (x, j) => x - sb[m][j])), 0);
}

s('the CMD regularizer matches its definition and its gradient matches finite differences', async () => {
  const a = [0, 2, 3, 5], b = [1, 4, 5, 6, 7];
  const ids = (v: number[]) => T.fromArray(Int32Array.from(v), [v.length], { backend: 'reference64', dtype: 'int32' });
  const hv = randomValues({ shape: [8, 3] });
  const h = makeInput({ shape: [8, 3] }, hv, 'reference64', false);
  const got = (await values(cmdBetween(h, ids(a), ids(b), 5)))[0];
  const want = cmdByDefinition(hv, 3, a, b, 5);
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, want), `CMD ${got} vs definition ${want}`);
  await gradcheck('cmdBetween (K = 5)', [{ shape: [8, 3] }], (x) => cmdBetween(x, ids(a), ids(b), 5));
});

// Three classes, features weak on their own (so the graph matters), 10 training nodes per class.
const synthetic = csbmGraph(csbm({ nodes: 240, classes: 3, pIn: 0.06, pOut: 0.006, featDim: 12, featSep: 1.5, seed: 7 }), 'csbm-test');

for (const base of BASE_MODELS) {
  s(`${base} learns a small CSBM graph (test accuracy well above chance 1/3)`, () => {
    const inputs = prepareGraph(synthetic, { backend });
    const trainIds = sampleIid(synthetic.labels, { rng: new T.Rng(3), perClass: 10 });
    const model = createModel(base, synthetic.numFeatures, synthetic.numClasses, { hidden: base === 'dgi' ? 64 : 16, generator: new T.Rng(5), backend });
    try {
      model.pretrain?.(inputs, { epochs: 150 });
      const loss = trainNodeClassifier(model, inputs, synthetic.labels, trainIds, { epochs: 100 });
      assert.ok(Number.isFinite(loss), `final loss ${loss}`);
      const { predictions } = evaluateNodeClassifier(model, inputs);
      const test = labelledNodesExcept(synthetic.labels, trainIds);
      const acc = accuracy(Array.from(test, (i) => synthetic.labels[i]), Array.from(test, (i) => predictions[i]));
      assert.ok(acc > 0.7, `${base}: test accuracy ${acc.toFixed(3)}`);
    } finally {
      model.dispose();
      inputs.dispose();
    }
  });
}

s('SR-GCN and SR-APPNP train on a biased set; CMD pulls the training nodes towards the IID sample', () => {
  const experiment = new SrGnnExperiment(synthetic, { backend });
  try {
    const gens = repeatGenerators(1, 0);
    const trainIds = experiment.biasedTrainSet(gens.sampling, 10);
    const iidIds = experiment.iidSample(gens.sampling, 10);
    assert.is(trainIds.length, 30);
    const cfg = { epochs: 100, hidden: 16 };
    const plain = experiment.run(parseModel('gcn'), trainIds, iidIds, cfg, new T.Rng(9));
    const robust = experiment.run(parseModel('sr-gcn'), trainIds, iidIds, cfg, new T.Rng(9));
    assert.ok(robust.microF1 > 0.5 && plain.microF1 > 0.5, `micro-F1 GCN ${plain.microF1}, SR-GCN ${robust.microF1}`);
    assert.ok(robust.cmd < plain.cmd, `CMD(train, IID) after training: SR-GCN ${robust.cmd} should be below GCN ${plain.cmd}`);
    const appnp = experiment.run(parseModel('sr-appnp'), trainIds, iidIds, cfg, new T.Rng(9));
    assert.ok(appnp.microF1 > 0.5 && Number.isFinite(appnp.cmd), `SR-APPNP micro-F1 ${appnp.microF1}, CMD ${appnp.cmd}`);
  } finally {
    experiment.dispose();
  }
});

s('model names: SR terms per model, and the combinations that cannot work are refused', () => {
  assert.equal(parseModel('gcn'), { base: 'gcn', cmd: false, kmm: false });
  assert.equal(parseModel('sr-gcn'), { base: 'gcn', cmd: true, kmm: false });
  assert.equal(parseModel('sr-appnp'), { base: 'appnp', cmd: true, kmm: true });
  assert.equal(parseModel('sr-appnp', 'kmm'), { base: 'appnp', cmd: false, kmm: true });
  assert.equal(parseModel('sr-dgi'), { base: 'dgi', cmd: false, kmm: true });
  assert.throws(() => parseModel('mlp'), /unknown model 'mlp'/);
  assert.throws(() => parseModel('gcn', 'cmd'), /use 'sr-gcn'/);
  assert.throws(() => parseModel('sr-dgi', 'both'), /DGI's embeddings are frozen/);
});

s('training refuses unlabelled or out-of-range training nodes, naming them', () => {
  const inputs = prepareGraph(synthetic, { backend });
  const model = createModel('gcn', synthetic.numFeatures, synthetic.numClasses, { backend });
  try {
    const labels = synthetic.labels.slice();
    labels[4] = -1;
    assert.throws(() => trainNodeClassifier(model, inputs, labels, [1, 4], { epochs: 1 }), /training node 4 has label -1/);
    assert.throws(() => trainNodeClassifier(model, inputs, labels, [1, 240], { epochs: 1 }), /trainIds\[1\] = 240 is not a node id/);
  } finally {
    model.dispose();
    inputs.dispose();
  }
});

s.run();
