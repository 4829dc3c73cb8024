// APPNP (Klicpera et al., ICLR 2019), as the SR-GNN reference's
// PPRPowerIteration: a two-layer MLP without biases (dropout on each layer's
// input, the activation after the first) makes per-node predictions Z, then
// K steps of P <- (1 - alpha) Â P + alpha Z propagate them, with dropout on
// the entries of Â in every step. The MLP's hidden layer (after dropout) is
// what SR-GNN regularizes.
import * as T from '../../index.js';
import type { GraphInputs } from './data.js';
import {
  NodeLinear, PassMatrices, activate, dropFeatures, dropValues, resolveOptions,
  type GnnModel, type GnnOptions, type GnnOutput, type ResolvedGnnOptions,
} from './layers.js';

export interface AppnpOptions extends GnnOptions {
  /** Power-iteration steps (default 10). */
  k?: number;
  /** Teleport probability (default 0.1). */
  alpha?: number;
}

export class Appnp extends T.nn.Module implements GnnModel {
  readonly fc1: NodeLinear;
  readonly fc2: NodeLinear;
  readonly k: number;
  readonly alpha: number;
  private readonly opts: ResolvedGnnOptions;

  /** inputDropout defaults to dropout here, as the reference drops the features too. */
  constructor(inFeatures: number, numClasses: number, options: AppnpOptions = {}) {
    super();
    this.opts = resolveOptions(options);
    if (options.inputDropout === undefined) this.opts.inputDropout = this.opts.dropout;
    this.k = options.k ?? 10;
    this.alpha = options.alpha ?? 0.1;
    if (!Number.isInteger(this.k) || this.k < 0) throw new Error(`Appnp: k must be a non-negative integer, got ${this.k}`);
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new Error(`Appnp: alpha must be in (0, 1], got ${this.alpha}`);
    this.fc1 = this.child('fc1', new NodeLinear(inFeatures, this.opts.hidden, this.opts, false));
    this.fc2 = this.child('fc2', new NodeLinear(this.opts.hidden, numClasses, this.opts, false));
  }

  forward(inputs: GraphInputs): GnnOutput {
    const pass = new PassMatrices();
    const { activation, dropout, inputDropout, generator } = this.opts;
    const x = dropFeatures(inputs.features, inputDropout, this.training, generator, pass);
    const hidden = T.dropout(activate(this.fc1.forward(x), activation), dropout, this.training, generator);
    const local = this.fc2.forward(hidden);
    const teleport = T.mul(local, this.alpha);
    let preds = local;
    for (let step = 0; step < this.k; step++) {
      const a = this.training && dropout > 0 ? dropValues(inputs.adj, dropout, generator, pass) : inputs.adj;
      // (1 - alpha) scales the [n, classes] product rather than a copy of Â's values.
      preds = T.add(T.mul(T.spmm(a, preds), 1 - this.alpha), teleport);
    }
    return pass.output(preds, hidden);
  }
}
