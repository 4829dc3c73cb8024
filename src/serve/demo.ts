// `tessera serve --demo`: a models folder made in code. `shapes` is a small detector trained on
// the coloured-shapes set (64 px images, under a minute on two cores), `csbm` a GCN node
// classifier trained on a contextual stochastic block model. Versions already present are kept,
// so only the first start trains.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../index.js';
import { Detector, trainDetector, evaluateDetector, type DetectorConfig } from '../models/detect/index.js';
import { Gcn, csbmGraph, prepareGraph, trainNodeClassifier } from '../models/gnn/index.js';

export interface DemoOptions {
  /** Detector training images (default 256) and epochs (default 8). */
  detectorImages?: number;
  detectorEpochs?: number;
  log?: (line: string) => void;
}

const DEMO_IMAGE_SIZE = 64;

/** Writes version 1 of a model through a temporary folder, renamed when complete. */
async function writeVersion(dir: string, fill: (tmp: string) => Promise<object>): Promise<void> {
  const tmp = `${dir}.tmp-demo`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const manifest = await fill(tmp);
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(manifest, null, 2));
  renameSync(tmp, dir);
}

export async function trainDemoDetector(dir: string, images: number, epochs: number): Promise<{ map50: number; seconds: number }> {
  const data = T.data.shapesDetection({ count: images, size: DEMO_IMAGE_SIZE, scale: [12, 32], maxObjects: 3, seed: 1 });
  T.manualSeed(0);
  const config: DetectorConfig = { numClasses: data.classNames.length, inChannels: 3, width: 0.25 };
  const model = new Detector(config);
  const r = await trainDetector(model, data, { epochs, batchSize: 16, lr: 4e-3, warmupSteps: 4, flip: true, timeLimitSeconds: 90 });
  const test = T.data.shapesDetection({ count: 64, size: DEMO_IMAGE_SIZE, scale: [12, 32], maxObjects: 3, seed: 2 });
  const evaluation = await evaluateDetector(model, test);
  await writeVersion(dir, async (tmp) => {
    await T.saveModule(join(tmp, 'model.safetensors'), model);
    return { kind: 'detector', version: 1, created: new Date().toISOString(),
      config: { detector: config, imageSize: DEMO_IMAGE_SIZE, classNames: data.classNames },
      training: { images, epochs: r.epochs, testMap50: evaluation.map50 } };
  });
  model.dispose();
  return { map50: evaluation.map50, seconds: r.seconds };
}

export async function trainDemoGnn(dir: string): Promise<{ accuracy: number }> {
  const g = T.data.csbm({ nodes: 600, classes: 3, pIn: 0.04, pOut: 0.004, featDim: 16, featSep: 1.5, seed: 3 });
  const graph = csbmGraph(g);
  const inputs = prepareGraph(graph);
  const model = new Gcn(g.featDim, g.numClasses, { hidden: 16, generator: new T.Rng(0) });
  const trainIds = Int32Array.from({ length: 60 }, (_, i) => i);
  trainNodeClassifier(model, inputs, g.labels, trainIds, { epochs: 100 });
  model.eval();
  const logits = T.noGrad(() => model.forward(inputs));
  const predicted = await T.argmax(logits.logits, 1).data();
  let correct = 0;
  for (let v = 60; v < g.numNodes; v++) if (predicted[v] === g.labels[v]) correct++;
  const accuracy = correct / (g.numNodes - 60);
  await writeVersion(dir, async (tmp) => {
    await T.saveModule(join(tmp, 'model.safetensors'), model);
    T.saveSafetensors(join(tmp, 'graph.safetensors'), {
      features: { dtype: 'F32', shape: [g.numNodes, g.featDim], data: g.features },
      edges: { dtype: 'I32', shape: [g.numEdges, 2], data: g.edges },
    });
    return { kind: 'gnn', version: 1, created: new Date().toISOString(),
      config: { model: 'gcn', inFeatures: g.featDim, numClasses: g.numClasses, hidden: 16, classNames: ['a', 'b', 'c'] },
      training: { nodes: g.numNodes, labelled: 60, heldOutAccuracy: accuracy } };
  });
  return { accuracy };
}

/** Makes the demo models under `root` unless present; returns their names. */
export async function makeDemoModels(root: string, opts: DemoOptions = {}): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const detector = join(root, 'shapes', 'v1'), gnn = join(root, 'csbm', 'v1');
  mkdirSync(join(root, 'shapes'), { recursive: true });
  mkdirSync(join(root, 'csbm'), { recursive: true });
  if (!existsSync(join(detector, 'config.json'))) {
    log('demo: training the shapes detector (first start only)...');
    const r = await trainDemoDetector(detector, opts.detectorImages ?? 256, opts.detectorEpochs ?? 8);
    log(`demo: shapes detector trained in ${r.seconds.toFixed(0)} s, mAP@.5 ${r.map50.toFixed(3)} on 64 test images`);
  }
  if (!existsSync(join(gnn, 'config.json'))) {
    const r = await trainDemoGnn(gnn);
    log(`demo: csbm GCN trained, held-out accuracy ${r.accuracy.toFixed(3)}`);
  }
  return ['shapes', 'csbm'];
}
