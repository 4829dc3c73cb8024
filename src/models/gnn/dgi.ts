// Deep Graph Infomax (Velickovic et al., ICLR 2019): a one-layer GCN encoder
// trained without labels to tell the node embeddings of the graph from those
// of a corrupted graph (features shuffled across nodes) through a bilinear
// discriminator against the graph summary sigmoid(mean embedding); then a
// logistic regression on the frozen embeddings. The embeddings are the
// hidden layer SR-GNN measures (they are frozen, so CMD cannot train them;
// KMM instance weights still apply to the logistic regression).
import * as T from '../../index.js';
import type { GraphInputs } from './data.js';
import {
  NodeLinear, PassMatrices, activate, project, resolveOptions,
  type GnnModel, type GnnOptions, type GnnOutput, type ResolvedGnnOptions,
} from './layers.js';

export interface DgiPretrainOptions {
  /** Default 300. */
  epochs?: number;
  /** Adam learning rate, default 0.001 (as DGI). */
  lr?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export class Dgi extends T.nn.Module implements GnnModel {
  readonly encoder: NodeLinear;
  readonly discriminator: T.nn.Bilinear;
  readonly classifier: T.nn.Linear;
  private readonly opts: ResolvedGnnOptions;
  private embeddings: T.Tensor | null = null;

  /** hidden defaults to 512 and activation to relu here (DGI's encoder). */
  constructor(inFeatures: number, numClasses: number, options: GnnOptions = {}) {
    super();
    this.opts = resolveOptions({ ...options, hidden: options.hidden ?? 512, activation: options.activation ?? 'relu' });
    const h = this.opts.hidden, init = { backend: this.opts.backend, generator: this.opts.generator };
    this.encoder = this.child('encoder', new NodeLinear(inFeatures, h, this.opts));
    this.discriminator = this.child('discriminator', new T.nn.Bilinear(h, h, 1, init));
    this.classifier = this.child('classifier', new T.nn.Linear(h, numClasses, init));
  }

  /** act(Â X W + b), or with the rows of X W permuted first (the corrupted graph: X[perm] W = (X W)[perm]). */
  private encode(inputs: GraphInputs, xw: T.Tensor, perm?: T.Tensor): T.Tensor {
    const rows = perm ? T.indexSelect(xw, 0, perm) : xw;
    return activate(T.add(T.spmm(inputs.adj, rows), this.encoder.bias!), this.opts.activation);
  }

  /** Trains the encoder and discriminator; freezes the embeddings. Returns the last loss. */
  pretrain(inputs: GraphInputs, opts: DgiPretrainOptions = {}): number {
    const epochs = opts.epochs ?? 300;
    const params = [...this.encoder.parameters(), ...this.discriminator.parameters()];
    const optimizer = new T.optim.Adam(params, { lr: opts.lr ?? 0.001 });
    const n = inputs.numNodes, backend = inputs.adj.backend.name;
    const targets = T.concat([T.ones([n, 1], { backend }), T.zeros([n, 1], { backend })], 0).keep();
    let last = NaN;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        last = T.scope(() => {
          optimizer.zeroGrad();
          const perm = T.fromArray(this.opts.generator.permutation(n), [n], { backend, dtype: 'int32' });
          const xw = project(inputs.features, this.encoder.weight);
          const positive = this.encode(inputs, xw), negative = this.encode(inputs, xw, perm);
          const summary = T.expand(T.unsqueeze(T.sigmoid(T.mean(positive, 0)), 0), positive.shape);
          const scores = T.concat([this.discriminator.forward(positive, summary), this.discriminator.forward(negative, summary)], 0);
          const loss = T.bceWithLogits(scores, targets);
          loss.backward();
          optimizer.step();
          return loss.item();
        });
        opts.onEpoch?.(epoch, last);
      }
    } finally {
      for (const p of params) { p.grad?.dispose(); p.grad = null; }
      optimizer.dispose();
      targets.dispose();
    }
    this.embeddings?.dispose();
    this.embeddings = T.noGrad(() => T.scope(() => this.encode(inputs, project(inputs.features, this.encoder.weight)))).keep();
    return last;
  }

  /** Logistic regression on the frozen embeddings (pretrain first). */
  forward(inputs: GraphInputs): GnnOutput {
    const hidden = this.embeddings;
    if (!hidden) throw new Error('Dgi.forward: call pretrain(inputs) first (the classifier reads the frozen embeddings)');
    if (hidden.shape[0] !== inputs.numNodes) {
      throw new Error(`Dgi.forward: the embeddings are of a ${hidden.shape[0]}-node graph, the inputs have ${inputs.numNodes} nodes`);
    }
    return new PassMatrices().output(this.classifier.forward(hidden), hidden);
  }

  /** Frees the frozen embeddings. */
  /** Frees the frozen embeddings too (neither a parameter nor a buffer). */
  override dispose(): void { this.embeddings?.dispose(); this.embeddings = null; super.dispose(); }
}
