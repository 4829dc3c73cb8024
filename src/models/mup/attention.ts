// µP attention: scores are attnMult * q·k / d_head instead of q·k / sqrt(d_head).
// After training, q and k are correlated, so q·k grows like d_head (not
// sqrt(d_head)); dividing by d_head keeps attention logits O(1) as width grows.
// The scale is the alpha of the scores' matmul, so it costs nothing. Zero-init
// queries (mup's recommendation) make every attention uniform at init.
import { nn } from '../../index.js';
import MultiHeadAttention = nn.MultiHeadAttention;
type MultiHeadAttentionOptions = nn.MultiHeadAttentionOptions;
import { zeroInPlace } from './readout.js';

/** Score scale of µP attention: attnMult / headDim. */
export function muAttentionScale(headDim: number, attnMult = 1): number {
  if (!(headDim > 0) || !Number.isFinite(attnMult)) throw new Error(`muAttentionScale: headDim must be positive and attnMult finite, got ${headDim}, ${attnMult}`);
  return attnMult / headDim;
}

export interface MuAttentionOptions extends Omit<MultiHeadAttentionOptions, 'scale'> {
  /** Tunable multiplier of the attention logits (mup's attn_mult); default 1. */
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
