// Graph attention network (Velickovic et al., ICLR 2018) as DGL's GATConv,
// the layer the SR-GNN reference uses: per head, scores e_ij =
// LeakyReLU(a_dst . W h_i + a_src . W h_j) on the edges j -> i (self loops
// included), a softmax over each node's incoming edges, and the weighted sum
// of W h_j. The two score halves come from one SDDMM: per head the edge dot
// product of [a_dst . W h_i, 1] with [1, a_src . W h_j] is their sum.
import * as T from '../../index.js';
import type { GraphInputs, NodeFeatures } from './data.js';
import {
  PassMatrices, activate, dropFeatures, project, resolveOptions, zeroBias,
  type ActivationName, type GnnModel, type GnnOptions, type GnnOutput, type ResolvedGnnOptions,
} from './layers.js';

const NEGATIVE_SLOPE = 0.2;

/** One multi-head attention layer: [n, in] -> [n, heads, out]. */
export class GatConv extends T.nn.Module {
  readonly weight: T.Tensor;
  readonly attnSrc: T.Tensor;
  readonly attnDst: T.Tensor;
  readonly bias: T.Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, readonly heads: number, opts: ResolvedGnnOptions) {
    super();
    if (!Number.isInteger(heads) || heads < 1) throw new Error(`GatConv: heads must be a positive integer, got ${heads}`);
    // DGL initializes with the ReLU gain sqrt(2).
    const gainSq = 2;
    const wBound = Math.sqrt(gainSq * 6 / (inFeatures + heads * outFeatures));
    this.weight = this.param('weight', T.nn.init.uniform([inFeatures, heads * outFeatures], -wBound, wBound, { backend: opts.backend, generator: opts.generator }));
    const aBound = Math.sqrt(gainSq * 6 / (heads + outFeatures));
    this.attnSrc = this.param('attnSrc', T.nn.init.uniform([1, heads, outFeatures], -aBound, aBound, { backend: opts.backend, generator: opts.generator }));
    this.attnDst = this.param('attnDst', T.nn.init.uniform([1, heads, outFeatures], -aBound, aBound, { backend: opts.backend, generator: opts.generator }));
    this.bias = this.param('bias', zeroBias(heads * outFeatures, opts));
  }

  /** adj: any matrix with the graph's pattern (self loops included); its values are not read. */
  forward(adj: T.Csr, x: NodeFeatures, pass: PassMatrices): T.Tensor {
    const n = adj.rows, H = this.heads, F = this.outFeatures;
    const feat = T.reshape(project(x, this.weight), [n, H, F]);
    const fromSrc = T.unsqueeze(T.sum(T.mul(feat, this.attnSrc), -1), -1); // [n, H, 1]
    const atDst = T.unsqueeze(T.sum(T.mul(feat, this.attnDst), -1), -1);
    // [s, 1] and [1, s] by broadcasting s [n, H, 1] against [1, 0] and [0, 1]: two elementwise ops, no concat.
    const first = T.tensor([1, 0], { backend: adj.backend.name }), second = T.tensor([0, 1], { backend: adj.backend.name });
    const dstAndOne = T.add(T.mul(atDst, first), second), oneAndSrc = T.add(T.mul(fromSrc, second), first);
    const scores = T.leakyRelu(T.sddmm(adj, dstAndOne, oneAndSrc), NEGATIVE_SLOPE);
    const attention = T.edgeSoftmax(adj, scores); // [nnz, H]
    const out = T.spmm(pass.add(adj.withValues(attention)), feat); // [n, H, F]
    return T.add(out, T.reshape(this.bias, [H, F]));
  }
}

export interface GatOptions extends GnnOptions {
  /** Heads of the hidden layer (default 8); the output layer has one. */
  heads?: number;
}

/** Two GAT layers: hidden = act(GATConv) flattened over heads; logits from a one-head GATConv. Dropout on each layer's input (inputDropout defaults to dropout). */
export class Gat extends T.nn.Module implements GnnModel {
  readonly conv1: GatConv;
  readonly conv2: GatConv;
  private readonly opts: ResolvedGnnOptions;
  private readonly activation: ActivationName;
  private readonly inputDropout: number;

  constructor(inFeatures: number, numClasses: number, options: GatOptions = {}) {
    super();
    this.opts = resolveOptions(options);
    this.activation = this.opts.activation;
    // DGL's feat_drop: the reference gives both layers' inputs the hidden dropout rate.
    this.inputDropout = options.inputDropout ?? this.opts.dropout;
    const heads = options.heads ?? 8;
    this.conv1 = this.child('conv1', new GatConv(inFeatures, this.opts.hidden, heads, this.opts));
    this.conv2 = this.child('conv2', new GatConv(this.opts.hidden * heads, numClasses, 1, this.opts));
  }

  forward(inputs: GraphInputs): GnnOutput {
    const pass = new PassMatrices();
    const { dropout, generator } = this.opts;
    const x = dropFeatures(inputs.features, this.inputDropout, this.training, generator, pass);
    const h1 = activate(this.conv1.forward(inputs.adj, x, pass), this.activation);
    const hidden = T.reshape(h1, [inputs.numNodes, h1.shape[1] * h1.shape[2]]);
    const x2 = T.dropout(hidden, dropout, this.training, generator);
    const logits = T.squeeze(this.conv2.forward(inputs.adj, x2, pass), 1);
    return pass.output(logits, hidden);
  }
}
