// Simplified graph convolution (Wu et al., ICML 2019) with K = 2, as the
// SR-GNN reference's SGC: hidden = act(Â^K X W + b), logits = hidden W2 + b2.
// Â^K X W is computed as Â^K (X W): the same product, but K SpMMs of width
// `hidden` per pass cost less than one dense [n, F] x [F, hidden] product on
// a precomputed dense Â^K X (Cora: F = 1433).
import * as T from '../../index.js';
import type { GraphInputs } from './data.js';
import {
  NodeLinear, PassMatrices, activate, resolveOptions, project,
  type GnnModel, type GnnOptions, type GnnOutput, type ResolvedGnnOptions,
} from './layers.js';

export interface SgcOptions extends GnnOptions {
  /** Propagation steps (default 2). */
  k?: number;
}

export class Sgc extends T.nn.Module implements GnnModel {
  readonly propagate: NodeLinear;
  readonly classify: NodeLinear;
  readonly k: number;
  private readonly opts: ResolvedGnnOptions;

  /** dropout defaults to 0 here: the reference SGC uses none. */
  constructor(inFeatures: number, numClasses: number, options: SgcOptions = {}) {
    super();
    this.opts = resolveOptions({ ...options, dropout: options.dropout ?? 0 });
    this.k = options.k ?? 2;
    if (!Number.isInteger(this.k) || this.k < 1) throw new Error(`Sgc: k must be a positive integer, got ${this.k}`);
    this.propagate = this.child('propagate', new NodeLinear(inFeatures, this.opts.hidden, this.opts));
    this.classify = this.child('classify', new NodeLinear(this.opts.hidden, numClasses, this.opts));
  }

  forward(inputs: GraphInputs): GnnOutput {
    let h = project(inputs.features, this.propagate.weight);
    for (let step = 0; step < this.k; step++) h = T.spmm(inputs.adj, h);
    h = activate(T.add(h, this.propagate.bias!), this.opts.activation);
    h = T.dropout(h, this.opts.dropout, this.training, this.opts.generator);
    return new PassMatrices().output(this.classify.forward(h), h);
  }
}
