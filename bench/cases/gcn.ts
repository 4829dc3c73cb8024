// One 200-epoch GCN training on Cora (public split) vs PyTorch doing the same:
// SR-GNN defaults (hidden 32, tanh, dropout 0.5, Adam lr 0.01, weight decay
// 5e-4), row-normalized bag-of-words features, Â = D^-1/2 (A + I) D^-1/2.
// tessera keeps the features sparse (the first layer is an SpMM); the torch
// peer is timed with dense features (pygcn's layout) and with sparse ones.
// Run alone: node dist/bench/cases/gcn.js
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import { dataDir } from '../../src/data/index.js';
import {
  Gcn, evaluateNodeClassifier, loadGraphFolder, prepareGraph, trainNodeClassifier,
} from '../../src/models/gnn/index.js';
import { type BenchCase, type CaseResult, Exchange, medianMs, pythonTorch, runCases } from '../peers/signature_peers.js';

const EPOCHS = 200, HIDDEN = 32;

async function runGcn(repeats: number): Promise<CaseResult> {
  const folder = join(dataDir(), 'planetoid-cora');
  if (!existsSync(folder)) {
    console.log(`  (gcn skipped: ${folder} not found)`);
    return { tesseraMs: NaN, peers: {} };
  }
  await T.setBackend('cpu');
  const graph = loadGraphFolder(folder);
  const inputs = prepareGraph(graph, { backend: 'cpu' });
  const { train, test } = graph.publicSplit!;
  let accuracy = NaN;
  let seed = 0;
  // No warm-up run, as the peer: one training is 200 epochs.
  const tesseraMs = medianMs(() => {
    const model = new Gcn(graph.numFeatures, graph.numClasses, { hidden: HIDDEN, generator: new T.Rng(seed++) });
    trainNodeClassifier(model, inputs, graph.labels, train, { epochs: EPOCHS });
    const { predictions } = evaluateNodeClassifier(model, inputs);
    accuracy = test.reduce((hits, i) => hits + (predictions[i] === graph.labels[i] ? 1 : 0), 0) / test.length;
    model.dispose();
  }, repeats, 0);

  const adj = inputs.adj, features = inputs.features as T.Csr;
  const host = (t: T.Tensor) => t.dataSync();
  const ex = new Exchange({ nodes: graph.numNodes, features: graph.numFeatures, classes: graph.numClasses, hidden: HIDDEN, epochs: EPOCHS }, {
    adjRowPtr: { data: host(adj.rowPtr) as Int32Array, shape: [adj.rows + 1] },
    adjColIdx: { data: host(adj.colIdx) as Int32Array, shape: [adj.nnz] },
    adjValues: { data: host(adj.values!) as Float32Array, shape: [adj.nnz] },
    featRowPtr: { data: host(features.rowPtr) as Int32Array, shape: [features.rows + 1] },
    featColIdx: { data: host(features.colIdx) as Int32Array, shape: [features.nnz] },
    featValues: { data: host(features.values!) as Float32Array, shape: [features.nnz] },
    labels: { data: graph.labels, shape: [graph.numNodes] },
    train: { data: train, shape: [train.length] },
    test: { data: test, shape: [test.length] },
  });
  inputs.dispose();
  try {
    const peers = ex.runPeer(pythonTorch, 'gcn_torch.py', 'torch', repeats) ?? {};
    // The check is the gap in test accuracy (different random streams: close, not equal).
    const check: Record<string, number> = {};
    if (Object.keys(peers).length) {
      const theirs = ex.read('accuracy_torch');
      Object.keys(peers).forEach((name, i) => { check[`accuracy gap ${name}`] = Math.abs(theirs[i] - accuracy); });
    }
    console.log(`  tessera test accuracy ${(100 * accuracy).toFixed(1)}%`);
    return { tesseraMs, peers, check };
  } finally {
    ex.dispose();
  }
}

export const cases: BenchCase[] = [
  { name: `gcn cora: ${EPOCHS}-epoch training (hidden ${HIDDEN}, cpu)`, run: () => runGcn(Number(process.env.TESSERA_BENCH_GCN_REPEATS ?? 3)) },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
