// µP attention: scores are sqrt(attnMult) * q·k / d_head instead of q·k / sqrt(d_head) (mup's
// examples/Transformer scales q by sqrt(attn_mult) / d_head, so an attn_mult tuned there means the same here).
// After training, q and k are correlated, so q·k grows like d_head (not
// sqrt(d_head)); dividing by d_head keeps attention logits O(1) as width grows.
// The scale is the alpha of the scores' matmul, so it costs nothing. Zero-init
// queries (mup's recommendation) make every attention uniform at init.
import { nn } from '../../index.js';
import MultiHeadAttention = nn.MultiHeadAttention;
type MultiHeadAttentionOptions = nn.MultiHeadAttentionOptions;
import { zeroInPlace } from './readout.js';

/** Score scale of µP attention: sqrt(attnMult) / headDim, as mup. */
export function muAttentionScale(headDim: number, attnMult = 1): number {
  if (!(headDim > 0) || !(attnMult >= 0 && Number.isFinite(attnMult))) throw new Error(`muAttentionScale: headDim must be positive and attnMult finite and >= 0, got ${headDim}, ${attnMult}`);
  return Math.sqrt(attnMult) / headDim;
}

export interface MuAttentionOptions extends Omit<MultiHeadAttentionOptions, 'scale'> {
  /** mup's attn_mult: the logits are scaled by its square root; default 1. */
  attnMult?: number;
  /** Start the query projection (weight and bias) at zero; default false. */
  zeroQuery?: boolean;
}

/** Multi-head attention with µP's 1/d score scale (projections as nn.MultiHeadAttention). */
export class MuMultiHeadAttention extends MultiHeadAttention {
  readonly attnMult: number;
  constructor(embedDim: number, numHeads: number, opts: MuAttentionOptions = {}) {
    const { attnMult = 1, zeroQuery = false, ...rest } = opts;
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
      throw new Error(`MuMultiHeadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    }
    super(embedDim, numHeads, { ...rest, scale: muAttentionScale(embedDim / numHeads, attnMult) });
    this.attnMult = attnMult;
    if (zeroQuery) {
      zeroInPlace(this.qProj.weight);
      if (this.qProj.bias) zeroInPlace(this.qProj.bias);
    }
  }
}
