// `tessera srgnn`: trains a GNN (optionally shift-robust) on biased or IID
// training sets of a node-classification dataset, repeated, and reports micro-
// and macro-F1 on the labelled nodes outside each training set, with the CMD
// between the training nodes' and an IID sample's hidden layers.
import { readFileSync } from 'node:fs';
import * as T from '../index.js';
import { registerCommand, type CliIO, type ParsedArgs } from './commands.js';
import { Progress } from './progress.js';
import {
  MODEL_NAMES, SrGnnExperiment, loadGraphFolder, modelLabel, parseModel, repeatGenerators, summarize,
  defaultTestSet, testNodes, TEST_SETS, type RunResult, type SrGnnConfig, type SrTerms, type TestSet,
} from '../models/gnn/index.js';

/** --train-sets: a JSON array of arrays of node ids, one training set per repeat. */
export function readTrainSets(path: string, numNodes: number): Int32Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--train-sets ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every(Array.isArray)) {
    throw new Error(`--train-sets ${path}: expected a non-empty JSON array of arrays of node ids`);
  }
  return (parsed as unknown[][]).map((set, r) => {
    if (set.length === 0) throw new Error(`--train-sets ${path}: training set ${r} is empty`);
    const ids = new Int32Array(set.length);
    set.forEach((v, k) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= numNodes) {
        throw new Error(`--train-sets ${path}: set ${r} entry ${k} is ${JSON.stringify(v)}, not a node id in [0, ${numNodes})`);
      }
      ids[k] = v;
    });
    if (new Set(ids).size !== ids.length) throw new Error(`--train-sets ${path}: set ${r} repeats a node id`);
    return ids;
  });
}

function positiveInteger(args: ParsedArgs, flag: string): number {
  const v = args.flags[flag] as number;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag} must be a positive integer, got ${v}`);
  return v;
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  if (f.data === undefined) throw new Error('--data <folder> is required (a LINQS folder or an OGB-style folder)');
  const sr = f.sr as string | undefined;
  if (sr !== undefined && !['none', 'cmd', 'kmm', 'both'].includes(sr)) throw new Error(`--sr must be none, cmd, kmm or both, got '${sr}'`);
  const spec = parseModel(f.model as string, sr as SrTerms | undefined);
  const sampler = f.sampler as string;
  if (sampler !== 'biased' && sampler !== 'iid') throw new Error(`--sampler must be biased or iid, got '${sampler}'`);
  const backend = f.backend as string | undefined;
  if (backend) await T.setBackend(backend);
  const cfg: SrGnnConfig = {
    epochs: positiveInteger(args, 'epochs'), hidden: f.hidden !== undefined ? positiveInteger(args, 'hidden') : undefined,
    lr: f.lr as number, weightDecay: f['weight-decay'] as number, dropout: f.dropout as number,
    lambda: f.lambda as number, activation: f.activation as SrGnnConfig['activation'],
    dgiEpochs: positiveInteger(args, 'dgi-epochs'),
  };
  const seed = f.seed as number;
  const graph = loadGraphFolder(f.data as string);
  const trainSets = f['train-sets'] !== undefined ? readTrainSets(f['train-sets'] as string, graph.numNodes) : undefined;
  const repeats = trainSets ? trainSets.length : f.repeats !== undefined ? positiveInteger(args, 'repeats') : 10;
  if (trainSets && f.repeats !== undefined && f.repeats !== trainSets.length) {
    throw new Error(`--repeats ${f.repeats} disagrees with the ${trainSets.length} training sets of --train-sets`);
  }
  const testSet = (f['test-set'] as string | undefined) ?? defaultTestSet(graph);
  if (!TEST_SETS.includes(testSet as TestSet)) throw new Error(`--test-set must be public or rest, got '${testSet}'`);
  const pool = f.pool !== undefined ? positiveInteger(args, 'pool') : undefined;
  const experiment = new SrGnnExperiment(graph, { pool });
  const results: RunResult[] = [];
  const progress = args.json ? undefined : new Progress({ total: repeats, label: `srgnn ${f.model}`, unit: 'run', stream: { write: (s) => io.stderr(s) } });
  try {
    for (let r = 0; r < repeats; r++) {
      const gens = repeatGenerators(seed, r);
      const trainIds = trainSets ? trainSets[r] : sampler === 'biased' ? experiment.biasedTrainSet(gens.sampling) : experiment.iidSample(gens.sampling);
      const iidIds = experiment.iidSample(gens.sampling);
      results.push(experiment.run(spec, trainIds, iidIds, cfg, gens.model, testNodes(graph, trainIds, testSet as TestSet)));
      progress?.tick();
    }
  } finally {
    progress?.finish();
    experiment.dispose();
  }
  const micro = summarize(results.map((r) => r.microF1));
  const macro = summarize(results.map((r) => r.macroF1));
  const cmd = summarize(results.map((r) => r.cmd));
  const report = {
    data: f.data, dataset: graph.name, model: f.model, label: modelLabel(spec), cmd: spec.cmd, kmm: spec.kmm,
    sampler: trainSets ? 'train-sets' : sampler, testSet, repeats, seed, backend: experiment.inputs.adj.backend.name,
    pool: experiment.pool ?? graph.numNodes, config: cfg,
    microF1: micro, macroF1: macro, trainIidCmd: cmd,
    runs: results.map((r) => ({ microF1: r.microF1, macroF1: r.macroF1, cmd: r.cmd, trainMs: r.trainMs, trainSize: r.trainIds.length })),
  };
  if (args.json) {
    io.stdout(JSON.stringify(report) + '\n');
  } else {
    const pct = (s: { mean: number; std: number }) => `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
    io.stdout(`${report.label} on ${graph.name} (${graph.numNodes} nodes), ${report.sampler} training sets, ${repeats} run(s), backend ${report.backend}\n`);
    io.stdout(`scored on ${testSet === 'public' ? 'the public test nodes' : 'every labelled node outside the training set'} (--test-set ${testSet})\n`);
    io.stdout(`micro-F1 ${pct(micro)}  macro-F1 ${pct(macro)}  (%, mean ± std)\n`);
    io.stdout(`CMD(train, IID) on the last hidden layer: ${cmd.mean.toFixed(4)} ± ${cmd.std.toFixed(4)}\n`);
  }
  return 0;
}

registerCommand('srgnn', {
  describe: 'train GNNs / Shift-Robust GNNs on biased or IID training sets; micro/macro-F1 over repeats',
  flags: {
    data: { type: 'string', describe: 'dataset folder: LINQS (<name>.content, <name>.cites) or OGB-style (raw/, split/)' },
    model: { type: 'string', describe: `one of ${MODEL_NAMES.join(', ')}`, default: 'gcn' },
    sr: { type: 'string', describe: 'shift-robust terms of an sr- model: cmd, kmm or both (default: cmd; both for sr-appnp; kmm for sr-dgi)' },
    sampler: { type: 'string', describe: 'training sets: biased (localized, PPR) or iid', default: 'biased' },
    repeats: { type: 'number', describe: 'number of training sets / runs (default 10, or one per --train-sets set)' },
    seed: { type: 'number', describe: 'seed of the samplers and the models', default: 0 },
    'train-sets': { type: 'string', describe: 'JSON file: an array of arrays of node ids, one training set per repeat (replaces sampling)' },
    'test-set': { type: 'string', describe: 'score on the public test nodes (public) or every labelled node outside the training set (rest); default as the reference: public for planetoid-citeseer/-pubmed, rest otherwise' },
    pool: { type: 'number', describe: 'candidate nodes 0..pool-1 for sampling (default: the reference pool for planetoid-* folders, else all)' },
    epochs: { type: 'number', describe: 'training epochs', default: 200 },
    hidden: { type: 'number', describe: 'hidden units, per head for GAT (default 32; 512 for DGI)' },
    activation: { type: 'string', describe: 'tanh, relu or elu', default: 'tanh' },
    dropout: { type: 'number', describe: 'dropout rate', default: 0.5 },
    lr: { type: 'number', describe: 'Adam learning rate', default: 0.01 },
    'weight-decay': { type: 'number', describe: 'L2 weight decay', default: 5e-4 },
    lambda: { type: 'number', describe: 'weight of the CMD regularizer', default: 1 },
    'dgi-epochs': { type: 'number', describe: 'DGI unsupervised epochs', default: 300 },
    backend: { type: 'string', describe: 'tensor backend (default: the fastest available)' },
  },
  run,
});
