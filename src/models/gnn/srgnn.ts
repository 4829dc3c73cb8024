// Shift-Robust GNNs (Zhu, Ponomareva, Han, Perozzi, NeurIPS 2021). A GNN
// trained on a biased (localized) sample of labelled nodes is made robust to
// the shift between its training nodes and the rest of the graph by
//  - a CMD regularizer: lambda * CMD_K(hidden of the training nodes, hidden of
//    an IID sample of nodes), K = 5, on the last hidden layer; and/or
//  - KMM instance weights: per-training-node weights matching the training
//    distribution to the IID sample's in a kernel space on PPR vectors
//    (kmm.ts), used in a weighted cross-entropy.
// As the reference (GentleZhu/Shift-Robust-GNNs, main_gnn.py): the IID sample
// is 20 nodes per class drawn uniformly from the candidate pool (the first
// 1500 / 1000 nodes of Cora / Citeseer in Planetoid order), a fresh one per
// run; the biased sets take, per class, the 20 candidates nearest to a random
// seed of that class in PPR space (alpha = 0.01); the regularized layer is
// the input of the output layer, after dropout. SR-GCN uses CMD only,
// SR-APPNP both (the reference's `arch` 2 and 3).
import * as T from '../../index.js';
import { exactPpr } from './ppr.js';
import { sampleBiasedPpr, sampleIid, SRGNN_CANDIDATE_POOL, type CandidatePool } from './samplers.js';
import { kmmWeights } from './kmm.js';
import { labelledNodesExcept, prepareGraph, type GraphInputs, type NodeGraph } from './data.js';
import type { GnnModel, GnnOptions } from './layers.js';
import { Gcn } from './gcn.js';
import { Gat } from './gat.js';
import { Sgc } from './sgc.js';
import { Appnp } from './appnp.js';
import { Dgi } from './dgi.js';
import { evaluateNodeClassifier, trainNodeClassifier } from './train.js';

export const BASE_MODELS = ['gcn', 'gat', 'sgc', 'appnp', 'dgi'] as const;
export type BaseModel = typeof BASE_MODELS[number];
export const MODEL_NAMES = [...BASE_MODELS, ...BASE_MODELS.map((m) => `sr-${m}` as const)] as const;
export type ModelName = typeof MODEL_NAMES[number];

/** Which shift-robust terms a run uses. */
export type SrTerms = 'none' | 'cmd' | 'kmm' | 'both';

export interface ModelSpec { base: BaseModel; cmd: boolean; kmm: boolean }

/**
 * 'gcn' -> plain GCN; 'sr-gcn' -> GCN + CMD; 'sr-appnp' -> APPNP + KMM + CMD (the paper's
 * pairing); 'sr-dgi' -> DGI + KMM (its embeddings are frozen, so CMD cannot act).
 * `terms` overrides which SR terms an sr- model uses.
 */
export function parseModel(name: string, terms?: SrTerms): ModelSpec {
  const sr = name.startsWith('sr-');
  const base = (sr ? name.slice(3) : name) as BaseModel;
  if (!BASE_MODELS.includes(base)) throw new Error(`unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  if (!sr) {
    if (terms && terms !== 'none') throw new Error(`model '${name}' has no shift-robust terms; use 'sr-${name}' with --sr ${terms}`);
    return { base, cmd: false, kmm: false };
  }
  const chosen = terms ?? (base === 'appnp' ? 'both' : base === 'dgi' ? 'kmm' : 'cmd');
  if (chosen === 'none') throw new Error(`model '${name}' needs shift-robust terms (cmd, kmm or both), got 'none'`);
  const spec = { base, cmd: chosen === 'cmd' || chosen === 'both', kmm: chosen === 'kmm' || chosen === 'both' };
  if (base === 'dgi' && spec.cmd) throw new Error("sr-dgi: CMD needs a trainable hidden layer, and DGI's embeddings are frozen; use --sr kmm");
  return spec;
}

export function modelLabel(spec: ModelSpec): string {
  if (!spec.cmd && !spec.kmm) return spec.base.toUpperCase();
  const terms = spec.cmd && spec.kmm ? 'CMD+KMM' : spec.cmd ? 'CMD' : 'KMM';
  return `SR-${spec.base.toUpperCase()} (${terms})`;
}

export interface SrGnnConfig extends GnnOptions {
  /** Supervised epochs (default 200). */
  epochs?: number;
  /** Default 0.01. */
  lr?: number;
  /** Default 5e-4. */
  weightDecay?: number;
  /** Weight of the CMD term (default 1). */
  lambda?: number;
  /** CMD's highest moment (default 5). */
  cmdK?: number;
  /** DGI's unsupervised epochs (default 300). */
  dgiEpochs?: number;
}

export function createModel(base: BaseModel, inFeatures: number, numClasses: number, opts: GnnOptions = {}): GnnModel {
  switch (base) {
    case 'gcn': return new Gcn(inFeatures, numClasses, opts);
    case 'gat': return new Gat(inFeatures, numClasses, opts);
    case 'sgc': return new Sgc(inFeatures, numClasses, opts);
    case 'appnp': return new Appnp(inFeatures, numClasses, opts);
    case 'dgi': return new Dgi(inFeatures, numClasses, opts);
    default: throw new Error(`unknown base model '${base as string}'`);
  }
}

/** The reference's candidate pool for planetoid-cora / -citeseer / -pubmed folders; every node otherwise. */
export function defaultPool(graph: NodeGraph): CandidatePool | undefined {
  const m = /^planetoid-(cora|citeseer|pubmed)$/.exec(graph.name);
  return m ? SRGNN_CANDIDATE_POOL[m[1] as keyof typeof SRGNN_CANDIDATE_POOL] : undefined;
}

/** Which nodes a run is scored on: the dataset's public test nodes, or every labelled node outside the training set. */
export type TestSet = 'public' | 'rest';
export const TEST_SETS: readonly TestSet[] = ['public', 'rest'];

/**
 * The reference's choice per dataset (main_gnn.py): Citeseer and Pubmed are scored on the public Planetoid test
 * nodes (utils.load_data's idx_test), Cora on every node outside the training set; other datasets here on
 * every labelled node outside it.
 */
export function defaultTestSet(graph: NodeGraph): TestSet {
  return /^planetoid-(citeseer|pubmed)$/.test(graph.name) ? 'public' : 'rest';
}

/** The node ids a run with training set `trainIds` is scored on. */
export function testNodes(graph: NodeGraph, trainIds: ArrayLike<number>, which: TestSet): Int32Array {
  if (which === 'rest') return labelledNodesExcept(graph.labels, trainIds);
  if (which !== 'public') throw new Error(`test set must be 'public' or 'rest', got '${String(which)}'`);
  const test = graph.publicSplit?.test;
  if (!test) throw new Error(`test set 'public': ${graph.name} has no public split (split/public/test.csv[.gz])`);
  const inTrain = new Set(Array.from(trainIds));
  const overlap = Array.from(test).filter((i) => inTrain.has(i));
  if (overlap.length) throw new Error(`test set 'public': ${overlap.length} training node(s) are public test nodes of ${graph.name} (first ${overlap[0]})`);
  const unlabelled = Array.from(test).filter((i) => !(graph.labels[i] >= 0));
  if (unlabelled.length) throw new Error(`test set 'public': ${unlabelled.length} public test node(s) of ${graph.name} have no label (first ${unlabelled[0]})`);
  return test;
}

export interface RunResult {
  microF1: number;
  macroF1: number;
  /** CMD (K = cmdK) between the training nodes' and the IID sample's hidden layers after training (eval mode). */
  cmd: number;
  trainIds: Int32Array;
  /** The trained model's predicted class of every node (to score other test sets). */
  predictions: Int32Array;
  /** Training wall time in milliseconds (pretraining included). */
  trainMs: number;
}

/** A graph prepared once for many SR-GNN runs: tensors, candidate pool, and the PPR matrix when first needed. */
export class SrGnnExperiment {
  readonly inputs: GraphInputs;
  readonly pool: CandidatePool | undefined;
  private pprMatrix?: Float32Array;

  /** rowNormalize: divide feature rows by their L1 norm (default true, as the reference; off for signed features). */
  constructor(readonly graph: NodeGraph, opts: { backend?: string; pool?: CandidatePool; rowNormalize?: boolean } = {}) {
    this.inputs = prepareGraph(graph, { backend: opts.backend, rowNormalize: opts.rowNormalize });
    this.pool = opts.pool ?? defaultPool(graph);
  }

  /** Exact PPR (alpha = 0.01, as the reference), n x n, computed once. */
  ppr(): Float32Array {
    this.pprMatrix ??= exactPpr(this.inputs.graph, 0.01);
    return this.pprMatrix;
  }

  /** 20 nodes per class nearest (in PPR space) to a random seed of the class. */
  biasedTrainSet(rng: T.Rng, perClass = 20): Int32Array {
    return sampleBiasedPpr(this.ppr(), this.graph.labels, { rng, pool: this.pool, perClass });
  }

  /** 20 nodes per class drawn uniformly from the pool. */
  iidSample(rng: T.Rng, perClass = 20): Int32Array {
    return sampleIid(this.graph.labels, { rng, pool: this.pool, perClass });
  }

  /**
   * Trains one model on trainIds and scores it on testIds (default: every other labelled node).
   * iidIds: the unbiased sample for CMD, KMM and the reported CMD.
   */
  run(spec: ModelSpec, trainIds: Int32Array, iidIds: Int32Array, cfg: SrGnnConfig, generator: T.Rng, testIds?: Int32Array): RunResult {
    const { labels } = this.graph;
    for (const i of trainIds) {
      if (!(i >= 0 && i < labels.length && labels[i] >= 0)) throw new Error(`training node ${i} is not a labelled node of ${this.graph.name}`);
    }
    const model = createModel(spec.base, this.graph.numFeatures, this.graph.numClasses, { ...cfg, generator });
    try {
      const start = performance.now();
      model.pretrain?.(this.inputs, { epochs: cfg.dgiEpochs });
      const kmm = spec.kmm
        ? kmmWeights({ features: this.ppr(), dim: this.graph.numNodes, trainIds, testIds: iidIds, labels })
        : undefined;
      const sampleWeights = kmm?.weights;
      trainNodeClassifier(model, this.inputs, labels, trainIds, {
        epochs: cfg.epochs, lr: cfg.lr, weightDecay: cfg.weightDecay, sampleWeights,
        cmd: spec.cmd ? { iidIds, lambda: cfg.lambda, k: cfg.cmdK } : undefined,
      });
      const trainMs = performance.now() - start;
      const evaluation = evaluateNodeClassifier(model, this.inputs, { a: trainIds, b: iidIds, k: cfg.cmdK });
      const test = testIds ?? labelledNodesExcept(labels, trainIds);
      const truth = Array.from(test, (i) => labels[i]), predicted = Array.from(test, (i) => evaluation.predictions[i]);
      return {
        microF1: T.metrics.microF1(truth, predicted), macroF1: T.metrics.macroF1(truth, predicted), cmd: evaluation.cmd!, trainIds,
        predictions: evaluation.predictions, trainMs,
      };
    } finally {
      model.dispose();
    }
  }

  dispose(): void { this.inputs.dispose(); }
}

/** Generators for repeat r of a seeded experiment: one draws the samples, one the model's weights and dropout. */
export function repeatGenerators(seed: number, repeat: number): { sampling: T.Rng; model: T.Rng } {
  const base = (Math.imul(seed, 0x9e3779b1) + Math.imul(repeat, 0x85ebca6b)) | 0;
  return { sampling: new T.Rng(base), model: new T.Rng(base ^ 0x5bd1e995) };
}

export interface Summary { mean: number; std: number }

/** Mean and population standard deviation (numpy's default, as the reference reports). */
export function summarize(values: readonly number[]): Summary {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}
