// Full-batch training of a node classifier: (weighted) cross-entropy on the
// training nodes plus, for SR-GNN, lambda * CMD between the last hidden layer
// of the training nodes and that of an IID sample of the graph's nodes.
// Adam with L2 weight decay on every parameter, as the SR-GNN reference.
import * as T from '../../index.js';
import type { GraphInputs } from './data.js';
import type { GnnModel } from './layers.js';

export interface CmdRegularizer {
  /** The unbiased sample whose hidden distribution the training nodes are pulled towards. */
  iidIds: Int32Array;
  /** Weight of the CMD term (default 1). */
  lambda?: number;
  /** Highest central moment (default 5). */
  k?: number;
}

export interface TrainOptions {
  /** Default 200. */
  epochs?: number;
  /** Adam learning rate, default 0.01. */
  lr?: number;
  /** L2 weight decay on every parameter, default 5e-4. */
  weightDecay?: number;
  /** Per-training-node loss weights in trainIds order (KMM); the loss is mean(w * ce). */
  sampleWeights?: ArrayLike<number>;
  cmd?: CmdRegularizer;
  /** Called after each epoch with the epoch (1-based) and the total loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** CMD between the rows `a` and the rows `b` of hidden [n, d] (differentiable in hidden). */
export function cmdBetween(hidden: T.Tensor, a: T.Tensor, b: T.Tensor, k = 5): T.Tensor {
  return T.cmd(T.indexSelect(hidden, 0, a), T.indexSelect(hidden, 0, b), { k });
}

export function idTensor(ids: ArrayLike<number>, backend: string): T.Tensor {
  return T.fromArray(Int32Array.from(ids), [ids.length], { backend, dtype: 'int32' });
}

function checkIds(what: string, ids: ArrayLike<number>, n: number): void {
  if (ids.length === 0) throw new Error(`trainNodeClassifier: ${what} is empty`);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`trainNodeClassifier: ${what}[${i}] = ${v} is not a node id in [0, ${n})`);
  }
}

/** Trains `model` in place on the labelled nodes `trainIds`; returns the last epoch's total loss. */
export function trainNodeClassifier(model: GnnModel, inputs: GraphInputs, labels: Int32Array, trainIds: ArrayLike<number>,
  opts: TrainOptions = {}): number {
  const epochs = opts.epochs ?? 200;
  const backend = inputs.adj.backend.name;
  checkIds('trainIds', trainIds, inputs.numNodes);
  const targets = Int32Array.from(trainIds, (i) => labels[i]);
  targets.forEach((c, k) => {
    if (!(c >= 0 && c < inputs.numClasses)) throw new Error(`trainNodeClassifier: training node ${trainIds[k]} has label ${c}, not a class in [0, ${inputs.numClasses})`);
  });
  if (opts.sampleWeights && opts.sampleWeights.length !== trainIds.length) {
    throw new Error(`trainNodeClassifier: ${opts.sampleWeights.length} sample weights for ${trainIds.length} training nodes`);
  }
  if (opts.cmd) checkIds('cmd.iidIds', opts.cmd.iidIds, inputs.numNodes);
  const lambda = opts.cmd?.lambda ?? 1;
  const kept: T.Tensor[] = [];
  const keep = (t: T.Tensor): T.Tensor => { kept.push(t.keep()); return t; };
  const train = keep(idTensor(trainIds, backend));
  const y = keep(T.fromArray(targets, [targets.length], { backend, dtype: 'int32' }));
  const weights = opts.sampleWeights && keep(T.fromArray(Float32Array.from(opts.sampleWeights), [targets.length], { backend }));
  const iid = opts.cmd && keep(idTensor(opts.cmd.iidIds, backend));
  const optimizer = new T.optim.Adam(model.parameters(), { lr: opts.lr ?? 0.01, weightDecay: opts.weightDecay ?? 5e-4 });
  model.train();
  let last = NaN;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      last = T.scope(() => {
        optimizer.zeroGrad();
        const out = model.forward(inputs);
        let loss = T.crossEntropy(T.indexSelect(out.logits, 0, train), y, weights ? { sampleWeights: weights } : {});
        if (iid) loss = T.add(loss, T.mul(cmdBetween(out.hidden, train, iid, opts.cmd!.k), lambda));
        loss.backward();
        out.release();
        optimizer.step();
        return loss.item();
      });
      opts.onEpoch?.(epoch, last);
    }
  } finally {
    model.zeroGrad();
    disposeOptimizer(optimizer);
    for (const t of kept) t.dispose();
  }
  return last;
}

/** Frees the optimizer's state tensors (Adam moments). */
function disposeOptimizer(opt: T.optim.Optimizer): void {
  const { tensors } = opt.stateDict();
  for (const t of Object.values(tensors)) t.dispose();
}

export interface Evaluation {
  /** Predicted class of every node. */
  predictions: Int32Array;
  /** CMD between the hidden layer of `a` and `b` in eval mode (when both were given). */
  cmd?: number;
}

/** Predictions (eval mode, no dropout) and optionally the CMD between two node sets' hidden layers. */
export function evaluateNodeClassifier(model: GnnModel, inputs: GraphInputs,
  cmdSets?: { a: ArrayLike<number>; b: ArrayLike<number>; k?: number }): Evaluation {
  model.eval();
  const backend = inputs.adj.backend.name;
  return T.noGrad(() => T.scope(() => {
    const out = model.forward(inputs);
    const predictions = Int32Array.from(T.argmax(out.logits, 1).dataSync());
    const cmd = cmdSets
      ? cmdBetween(out.hidden, idTensor(cmdSets.a, backend), idTensor(cmdSets.b, backend), cmdSets.k).item()
      : undefined;
    out.release();
    return { predictions, cmd };
  }));
}

