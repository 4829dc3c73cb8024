// Whole training steps against the same model in PyTorch, each side in its own process
// (bench/whole_step.ts). On Cora (bench/peers/gnn_step_torch.py): one full-batch epoch (forward, cross-entropy on the public training nodes, backward, Adam with
// weight decay) of GCN (hidden 32) and of GAT (8 heads of 8, then one head), SR-GNN's settings
// (tanh, dropout 0.5; GAT also drops its input features); skipped with a message when Cora is absent.
// The µP Transformer step of bench/cases/mup.ts (width 256, 2 layers, 4 heads, 16 x 32 tokens, Adam
// with µP's learning rates) against bench/peers/transformer_step_torch.py. Time per step and peak RSS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { dataDir } from '../../src/data/index.js';
import * as mup from '../../src/models/mup/index.js';
import { Gat, Gcn, type GnnModel, loadGraphFolder, prepareGraph } from '../../src/models/gnn/index.js';
import { type StepSession, type WholeStepDef, wholeStepCase } from '../whole_step.js';
import { stepper } from './mup.js';

type Variant = 'gcn' | 'gat';
const HIDDEN = { gcn: 32, gat: 8 }, HEADS = 8;

async function coraStep(variant: Variant): Promise<StepSession | string> {
  const folder = join(dataDir(), 'planetoid-cora');
  if (!existsSync(folder)) return `${folder} not found`;
  await T.setBackend('cpu');
  const graph = loadGraphFolder(folder);
  const inputs = prepareGraph(graph, { backend: 'cpu' });
  const { train } = graph.publicSplit!;
  const generator = new T.Rng(0);
  const model: GnnModel & T.nn.Module = variant === 'gcn'
    ? new Gcn(graph.numFeatures, graph.numClasses, { hidden: HIDDEN.gcn, generator })
    : new Gat(graph.numFeatures, graph.numClasses, { hidden: HIDDEN.gat, heads: HEADS, generator });
  const optimizer = new T.optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 5e-4 });
  const trainIds = T.fromArray(Int32Array.from(train), [train.length], { dtype: 'int32' }).keep();
  const targets = T.fromArray(Int32Array.from(train, (i) => graph.labels[i]), [train.length], { dtype: 'int32' }).keep();
  model.train();
  const adj = inputs.adj, features = inputs.features as T.Csr;
  const host = (t: T.Tensor) => t.dataSync();
  return {
    step: () => T.scope(() => {
      optimizer.zeroGrad();
      const out = model.forward(inputs);
      T.crossEntropy(T.indexSelect(out.logits, 0, trainIds), targets).backward();
      out.release();
      optimizer.step();
    }),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      trainIds.dispose(); targets.dispose(); inputs.dispose();
    },
    peer: {
      meta: { model: variant, nodes: graph.numNodes, features: graph.numFeatures, classes: graph.numClasses, hidden: HIDDEN[variant], heads: HEADS },
      arrays: {
        adjRowPtr: { data: host(adj.rowPtr) as Int32Array, shape: [adj.rows + 1] },
        adjColIdx: { data: host(adj.colIdx) as Int32Array, shape: [adj.nnz] },
        adjValues: { data: host(adj.values!) as Float32Array, shape: [adj.nnz] },
        featRowPtr: { data: host(features.rowPtr) as Int32Array, shape: [features.rows + 1] },
        featColIdx: { data: host(features.colIdx) as Int32Array, shape: [features.nnz] },
        featValues: { data: host(features.values!) as Float32Array, shape: [features.nnz] },
        labels: { data: graph.labels, shape: [graph.numNodes] },
        train: { data: Int32Array.from(train), shape: [train.length] },
      },
    },
  };
}

const LM = { width: 256, baseWidth: 64, depth: 2, heads: 4, context: 32, batch: 16 };

async function transformerStep(): Promise<StepSession> {
  await T.setBackend('cpu');
  const task = mup.languageTask({ corpusLength: 50_000, contextLength: LM.context, batchSize: LM.batch, baseWidth: LM.baseWidth, depth: LM.depth, heads: LM.heads });
  const { step, dispose, batch } = stepper(task, LM.width, 'mup');
  return {
    step,
    dispose,
    peer: {
      meta: { vocab: mup.GRAMMAR_VOCAB.length, ...LM },
      arrays: {
        input: { data: batch.input.dataSync() as Int32Array, shape: [LM.batch, LM.context] },
        target: { data: batch.target.dataSync() as Int32Array, shape: [LM.batch * LM.context] },
      },
    },
  };
}

export const steps: WholeStepDef[] = [
  { name: `step gcn cora: one training epoch (hidden ${HIDDEN.gcn}, cpu)`, kernel: 'step', torchScript: 'gnn_step_torch.py', steps: 50, setup: () => coraStep('gcn') },
  { name: `step gat cora: one training epoch (${HEADS} heads x ${HIDDEN.gat}, cpu)`, kernel: 'step', torchScript: 'gnn_step_torch.py', steps: 30, setup: () => coraStep('gat') },
  {
    name: `step mup transformer: width ${LM.width}, ${LM.depth} layers, ${LM.batch}x${LM.context} tokens, Adam (cpu)`, kernel: 'step',
    torchScript: 'transformer_step_torch.py', steps: 21, setup: transformerStep,
  },
];

export const cases = steps.map((d) => wholeStepCase(d, import.meta.url));
