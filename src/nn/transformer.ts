// torch.nn.MultiheadAttention and torch.nn.TransformerEncoderLayer with torch's
// parameter layout and names (self_attn.in_proj_weight [3E, E], in_proj_bias,
// out_proj, linear1, linear2, norm1, norm2), so a torch state_dict loads by
// name. Inputs are sequence-first [L, B, E] unless batchFirst, as in torch.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { Dropout, Linear, type ModuleOptions } from './layers.js';
import { LayerNorm } from './norm.js';
import { xavierUniform } from './init.js';
import { add, gelu, relu, where } from '../ops/elementwise.js';
import { linear, matmul } from '../ops/matmul.js';
import { mean } from '../ops/reduce.js';
import { chunk } from '../ops/combine.js';
import { softmax, dropout } from '../ops/softmax.js';
import { permute, reshape, transpose } from '../ops/view.js';
import { zeros } from '../ops/creation.js';
import { checkOptions } from '../ops/util.js';
import { Rng, globalRng } from '../rng.js';
import { MODULE_KEYS, moduleOptions, positiveSetting, probabilitySetting, sizeSetting } from './validate.js';

export interface MultiheadAttentionOptions extends ModuleOptions {
  /** Dropout on the attention weights while training; default 0. */
  dropout?: number;
  /** Biases of the input and output projections; default true. */
  bias?: boolean;
  /** Feature sizes of key and value; default embedDim (then q, k, v share one in_proj_weight [3E, E]). */
  kdim?: number;
  vdim?: number;
  /** Inputs and output are [B, L, E] instead of [L, B, E]. */
  batchFirst?: boolean;
}

export interface MultiheadAttentionCall {
  /**
   * [L, S] or [B * numHeads, L, S]: int32, nonzero where a query may NOT attend to a key (torch's boolean
   * mask), or float32, added to the scores (torch's float mask).
   */
  attnMask?: Tensor;
  /** [B, S]: int32, nonzero where the key is padding, or float32, added to the scores. */
  keyPaddingMask?: Tensor;
  /** Return the attention weights too; default true, as torch. */
  needWeights?: boolean;
  /** Weights averaged over heads [B, L, S] (default) or per head [B, numHeads, L, S]. */
  averageAttnWeights?: boolean;
}

/** Applies a torch-style mask (int32: nonzero is masked; float32: additive) to scores. */
function applyMask(scores: Tensor, mask: Tensor): Tensor {
  return mask.dtype === 'int32' ? where(mask, -Infinity, scores) : add(scores, mask);
}

/**
 * torch.nn.MultiheadAttention: query [L, B, E], key [S, B, kdim], value [S, B, vdim] (batch first with
 * batchFirst). forward returns [output, weights | null] as torch's (attn_output, attn_output_weights).
 * Initialized as torch: xavier-uniform projections, zero biases. (nn.MultiHeadAttention is Tessera's
 * batch-first attention with separate q/k/v Linear layers and a µP score scale.)
 */
export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  /** Packed [3E, E] when kdim = vdim = E, else null (then q/k/vProjWeight). */
  readonly inProjWeight: Tensor | null = null;
  readonly qProjWeight: Tensor | null = null;
  readonly kProjWeight: Tensor | null = null;
  readonly vProjWeight: Tensor | null = null;
  readonly inProjBias: Tensor | null = null;
  readonly outProj: Linear;
  private readonly generator: Rng;

  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    moduleOptions('MultiheadAttention', opts, [...MODULE_KEYS, 'dropout', 'bias', 'kdim', 'vdim', 'batchFirst']);
    sizeSetting('MultiheadAttention', 'embedDim', embedDim, 1);
    sizeSetting('MultiheadAttention', 'numHeads', numHeads, 1);
    if (embedDim % numHeads !== 0) throw new Error(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    sizeSetting('MultiheadAttention', 'kdim', this.kdim, 1);
    sizeSetting('MultiheadAttention', 'vdim', this.vdim, 1);
    this.dropout = opts.dropout ?? 0;
    probabilitySetting('MultiheadAttention', 'dropout', this.dropout);
    this.batchFirst = opts.batchFirst ?? false;
    this.headDim = embedDim / numHeads;
    this.generator = opts.generator ?? globalRng;
    const init = { backend: opts.backend, generator: opts.generator };
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.inProjWeight = this.param('in_proj_weight', xavierUniform([3 * embedDim, embedDim], 1, init));
    } else {
      this.qProjWeight = this.param('q_proj_weight', xavierUniform([embedDim, embedDim], 1, init));
      this.kProjWeight = this.param('k_proj_weight', xavierUniform([embedDim, this.kdim], 1, init));
      this.vProjWeight = this.param('v_proj_weight', xavierUniform([embedDim, this.vdim], 1, init));
    }
    const bias = opts.bias ?? true;
    if (bias) this.inProjBias = this.param('in_proj_bias', zeros([3 * embedDim], { backend: opts.backend }));
    this.outProj = this.child('out_proj', new Linear(embedDim, embedDim, { ...init, bias }));
    if (this.outProj.bias) { const b = zeros([embedDim], { backend: opts.backend }); this.outProj.bias.assign(b); b.dispose(); }
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, call: MultiheadAttentionCall = {}): [Tensor, Tensor | null] {
    checkOptions('MultiheadAttention.forward', call, ['attnMask', 'keyPaddingMask', 'needWeights', 'averageAttnWeights']);
    const E = this.embedDim, H = this.numHeads, d = this.headDim;
    const dims = (t: Tensor) => (this.batchFirst ? [t.shape[0], t.shape[1]] : [t.shape[1], t.shape[0]]);
    const [B, L] = dims(query), [Bk, S] = dims(key), [Bv, Sv] = dims(value);
    if (query.ndim !== 3 || key.ndim !== 3 || value.ndim !== 3 || query.shape[2] !== E || key.shape[2] !== this.kdim
      || value.shape[2] !== this.vdim || Bk !== B || Bv !== B || Sv !== S) {
      const want = this.batchFirst ? `[B, L, ${E}], key [B, S, ${this.kdim}], value [B, S, ${this.vdim}]` : `[L, B, ${E}], key [S, B, ${this.kdim}], value [S, B, ${this.vdim}]`;
      throw new Error(`MultiheadAttention: expected query ${want}, got ${[query, key, value].map((t) => t.describe()).join(', ')}`);
    }
    const batchFirst = (t: Tensor) => (this.batchFirst ? t : transpose(t, 0, 1));
    const [wq, wk, wv] = this.inProjWeight ? chunk(this.inProjWeight, 3, 0) : [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!];
    const [bq, bk, bv] = this.inProjBias ? chunk(this.inProjBias, 3, 0) : [undefined, undefined, undefined];
    const heads = (x: Tensor, w: Tensor, b: Tensor | undefined, len: number) =>
      permute(reshape(linear(batchFirst(x), w, { bias: b }), [B, len, H, d]), [0, 2, 1, 3]);
    const q = heads(query, wq, bq, L), k = heads(key, wk, bk, S), v = heads(value, wv, bv, S);
    let scores = matmul(q, transpose(k), { alpha: 1 / Math.sqrt(d) }); // [B, H, L, S]
    if (call.attnMask) {
      const m = call.attnMask;
      const ok = (m.ndim === 2 && m.shape[0] === L && m.shape[1] === S) || (m.ndim === 3 && m.shape[0] === B * H && m.shape[1] === L && m.shape[2] === S);
      if (!ok) throw new Error(`MultiheadAttention: attnMask must be [${L}, ${S}] or [${B * H}, ${L}, ${S}], got ${m.describe()}`);
      scores = applyMask(scores, m.ndim === 3 ? reshape(m, [B, H, L, S]) : m);
    }
    if (call.keyPaddingMask) {
      const kp = call.keyPaddingMask;
      if (kp.ndim !== 2 || kp.shape[0] !== B || kp.shape[1] !== S) throw new Error(`MultiheadAttention: keyPaddingMask must be [${B}, ${S}], got ${kp.describe()}`);
      scores = applyMask(scores, reshape(kp, [B, 1, 1, S]));
    }
    const weights = dropout(softmax(scores, -1), this.dropout, this.training, this.generator);
    const attended = reshape(permute(matmul(weights, v), [0, 2, 1, 3]), [B, L, E]);
    const out = this.outProj.forward(attended);
    const needWeights = call.needWeights ?? true;
    return [this.batchFirst ? out : transpose(out, 0, 1),
      needWeights ? (call.averageAttnWeights ?? true ? mean(weights, 1) : weights) : null];
  }
}

export interface TransformerEncoderLayerOptions extends ModuleOptions {
  /** Hidden size of the feed-forward block; default 2048 (torch's). */
  dimFeedforward?: number;
  /** Dropout on attention weights, inside the feed-forward block and on both residual branches; default 0.1. */
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  /** Input and output [B, L, E] instead of [L, B, E]. */
  batchFirst?: boolean;
  /** Pre-norm (x + f(norm(x))) instead of post-norm (norm(x + f(x))). */
  normFirst?: boolean;
}

export interface TransformerEncoderLayerCall {
  /** torch's src_mask: [L, L] or [B * nhead, L, L] (int32 nonzero = masked, float32 additive). */
  mask?: Tensor;
  /** torch's src_key_padding_mask: [B, L]. */
  keyPaddingMask?: Tensor;
}

/** torch.nn.TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual and LayerNorm. */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly activation: 'relu' | 'gelu';
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const cls = 'TransformerEncoderLayer';
    moduleOptions(cls, opts, [...MODULE_KEYS, 'dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst']);
    const dimFeedforward = opts.dimFeedforward ?? 2048, p = opts.dropout ?? 0.1, eps = opts.layerNormEps ?? 1e-5;
    sizeSetting(cls, 'dModel', dModel, 1);
    sizeSetting(cls, 'nhead', nhead, 1);
    sizeSetting(cls, 'dimFeedforward', dimFeedforward, 1);
    probabilitySetting(cls, 'dropout', p);
    positiveSetting(cls, 'layerNormEps', eps);
    this.activation = opts.activation ?? 'relu';
    if (this.activation !== 'relu' && this.activation !== 'gelu') throw new Error(`${cls}: activation must be 'relu' or 'gelu', got ${String(this.activation)}`);
    this.normFirst = opts.normFirst ?? false;
    const init = { backend: opts.backend, generator: opts.generator };
    this.selfAttn = this.child('self_attn', new MultiheadAttention(dModel, nhead, { ...init, dropout: p, batchFirst: opts.batchFirst }));
    this.linear1 = this.child('linear1', new Linear(dModel, dimFeedforward, init));
    this.dropout = this.child('dropout', new Dropout(p, { generator: opts.generator }));
    this.linear2 = this.child('linear2', new Linear(dimFeedforward, dModel, init));
    this.norm1 = this.child('norm1', new LayerNorm(dModel, { eps, backend: opts.backend }));
    this.norm2 = this.child('norm2', new LayerNorm(dModel, { eps, backend: opts.backend }));
    this.dropout1 = this.child('dropout1', new Dropout(p, { generator: opts.generator }));
    this.dropout2 = this.child('dropout2', new Dropout(p, { generator: opts.generator }));
  }

  /** src [L, B, dModel] ([B, L, dModel] with batchFirst) -> the same shape. */
  forward(src: Tensor, call: TransformerEncoderLayerCall = {}): Tensor {
    checkOptions('TransformerEncoderLayer.forward', call, ['mask', 'keyPaddingMask']);
    const selfAttention = (x: Tensor) => this.dropout1.forward(
      this.selfAttn.forward(x, x, x, { attnMask: call.mask, keyPaddingMask: call.keyPaddingMask, needWeights: false })[0]);
    const act = this.activation === 'gelu' ? gelu : relu;
    const feedForward = (x: Tensor) => this.dropout2.forward(this.linear2.forward(this.dropout.forward(act(this.linear1.forward(x)))));
    if (this.normFirst) {
      const x = add(src, selfAttention(this.norm1.forward(src)));
      return add(x, feedForward(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(add(src, selfAttention(src)));
    return this.norm2.forward(add(x, feedForward(x)));
  }
}
