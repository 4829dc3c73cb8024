// Graph convolutional network (Kipf & Welling, ICLR 2017), laid out as the
// SR-GNN reference's `Net`: graph convolutions with an activation and dropout
// between them; the input of the last convolution is the hidden layer SR-GNN
// regularizes (taken after dropout, as the reference does).
import * as T from '../../index.js';
import type { GraphInputs } from './data.js';
import {
  NodeLinear, PassMatrices, activate, dropFeatures, resolveOptions,
  type GnnModel, type GnnOptions, type GnnOutput, type ResolvedGnnOptions,
} from './layers.js';

export interface GcnOptions extends GnnOptions {
  /** Graph convolutions (default 2: one hidden layer). */
  layers?: number;
}

export class Gcn extends T.nn.Module implements GnnModel {
  readonly convs: NodeLinear[];
  private readonly opts: ResolvedGnnOptions;

  constructor(inFeatures: number, numClasses: number, options: GcnOptions = {}) {
    super();
    this.opts = resolveOptions(options);
    const layers = options.layers ?? 2;
    if (!Number.isInteger(layers) || layers < 2) throw new Error(`Gcn: layers must be an integer >= 2, got ${layers}`);
    const widths = [inFeatures, ...Array<number>(layers - 1).fill(this.opts.hidden), numClasses];
    this.convs = widths.slice(1).map((w, i) => this.child(`conv${i}`, new NodeLinear(widths[i], w, this.opts)));
  }

  forward(inputs: GraphInputs): GnnOutput {
    const pass = new PassMatrices();
    const { activation, dropout, inputDropout, generator } = this.opts;
    let h = this.convs[0].aggregate(inputs.adj, dropFeatures(inputs.features, inputDropout, this.training, generator, pass));
    h = T.dropout(activate(h, activation), dropout, this.training, generator);
    for (const conv of this.convs.slice(1, -1)) {
      h = T.dropout(activate(conv.aggregate(inputs.adj, h), activation), dropout, this.training, generator);
    }
    return pass.output(this.convs[this.convs.length - 1].aggregate(inputs.adj, h), h);
  }
}
