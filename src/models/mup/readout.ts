// µP output layers. A readout maps the width dimension to a fixed one (logits):
// its output is (outputMult / widthMult) x W^T + b, so that logits stay O(1)
// as width grows although W's entries and updates do not shrink with width.
// The scale rides in the fused linear's epilogue (alpha), costing nothing.
import { Tensor, linear, mul, nn, noGrad, zeros } from '../../index.js';
import Module = nn.Module;
import Linear = nn.Linear;
type LinearLayerOptions = nn.LinearLayerOptions;
import uniform = nn.init.uniform;
import { infShapeOf } from './shapes.js';

export interface MuReadoutOptions extends Omit<LinearLayerOptions, 'activation'> {
  /** Tunable logit multiplier (mup's output_mult); default 1. */
  outputMult?: number;
  /** Start weight and bias at zero (mup's readout_zero_init); default false. */
  readoutZeroInit?: boolean;
}

/** (outputMult / widthMult) x W^T + bias, as one fused linear. */
export function muReadout(x: Tensor, weight: Tensor, opts: { bias?: Tensor; outputMult?: number; widthMult: number }): Tensor {
  const outputMult = opts.outputMult ?? 1;
  if (!(opts.widthMult > 0) || !Number.isFinite(outputMult)) {
    throw new Error(`muReadout: widthMult must be positive and outputMult finite, got ${opts.widthMult} and ${outputMult}`);
  }
  return linear(x, weight, { bias: opts.bias, alpha: outputMult / opts.widthMult });
}

/** p *= factor, outside autograd. */
export function scaleInPlace(p: Tensor, factor: number): void {
  noGrad(() => {
    const scaled = mul(p, factor);
    p.assign(scaled);
    scaled.dispose();
  });
}

/** p = 0, outside autograd (zero-init readouts and queries). */
export function zeroInPlace(p: Tensor): void {
  const z = zeros([...p.shape], { backend: p.backend.name });
  p.assign(z);
  z.dispose();
}

// Modules whose init setBaseShapes has rescaled: the rescale multiplies, so it must happen once.
const rescaled = new WeakSet<Module>();

/** Runs the µP init rescale of `m` unless it already ran (mup's _has_rescaled_params). */
export function rescaleOnce(m: Module, rescale: () => void): void {
  if (rescaled.has(m)) {
    throw new Error(`${m.constructor.name}: parameters were already rescaled to µP; pass rescaleParams: false to setBaseShapes when re-setting base shapes`);
  }
  rescale();
  rescaled.add(m);
}

/**
 * Drop-in replacement of the output Linear layer (mup.MuReadout): weight [out, in] with in
 * a width dimension. Initialized as Linear; setBaseShapes then multiplies weight and bias
 * by sqrt(widthMult), making their variance constant in width.
 */
export class MuReadout extends Linear {
  readonly outputMult: number;
  constructor(inFeatures: number, outFeatures: number, opts: MuReadoutOptions = {}) {
    super(inFeatures, outFeatures, { backend: opts.backend, generator: opts.generator, bias: opts.bias });
    this.outputMult = opts.outputMult ?? 1;
    if (opts.readoutZeroInit) {
      zeroInPlace(this.weight);
      if (this.bias) zeroInPlace(this.bias);
    }
  }
  /** Width multiplier of the fan-in (needs setBaseShapes). */
  get widthMult(): number { return infShapeOf(this.weight).widthMult; }
  rescaleToMup(): void {
    rescaleOnce(this, () => {
      const s = Math.sqrt(this.widthMult);
      scaleInPlace(this.weight, s);
      if (this.bias) scaleInPlace(this.bias, s);
    });
  }
  override forward(x: Tensor): Tensor {
    return muReadout(x, this.weight, { bias: this.bias ?? undefined, outputMult: this.outputMult, widthMult: this.widthMult });
  }
}

/**
 * MuReadout whose weight is an embedding table [vocab, width] owned by another module
 * (tied input and output embeddings). The weight is not registered here, so it is trained
 * once, under its embedding's name and rules. Unlike mup.MuSharedReadout, setBaseShapes
 * rescales only the bias: the table's init belongs to the embedding, whose coordinates
 * must stay constant in width.
 */
export class MuSharedReadout extends Module {
  readonly bias: Tensor | null;
  readonly outputMult: number;
  constructor(readonly weight: Tensor, opts: Omit<MuReadoutOptions, 'backend'> = {}) {
    super();
    if (weight.ndim !== 2) throw new Error(`MuSharedReadout: weight must be an embedding table [vocab, width], got ${weight.describe()}`);
    this.outputMult = opts.outputMult ?? 1;
    const [vocab, width] = weight.shape;
    const bound = 1 / Math.sqrt(width);
    this.bias = opts.bias === false ? null
      : this.param('bias', opts.readoutZeroInit
        ? zeros([vocab], { backend: weight.backend.name })
        : uniform([vocab], -bound, bound, { backend: weight.backend.name, generator: opts.generator }));
  }
  get widthMult(): number { return infShapeOf(this.weight).widthMult; }
  rescaleToMup(): void {
    rescaleOnce(this, () => { if (this.bias) scaleInPlace(this.bias, Math.sqrt(this.widthMult)); });
  }
  forward(x: Tensor): Tensor {
    return muReadout(x, this.weight, { bias: this.bias ?? undefined, outputMult: this.outputMult, widthMult: this.widthMult });
  }
}
