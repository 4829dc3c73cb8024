// Scaled dot-product attention and multi-head attention (batch first). The
// score scale is a parameter because µP scales attention by 1/d_head where
// standard parametrization uses 1/sqrt(d_head); it rides in matmul's alpha.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { Linear, type ModuleOptions } from './layers.js';
import { xavierUniform } from './init.js';
import { matmul } from '../ops/matmul.js';
import { maskedFill } from '../ops/indexing.js';
import { softmax, dropout } from '../ops/softmax.js';
import { permute, reshape, transpose } from '../ops/view.js';
import { fromArray, zeros } from '../ops/creation.js';
import { opError } from '../ops/util.js';
import { Rng, globalRng } from '../rng.js';
import { MODULE_KEYS, moduleOptions, probabilitySetting, sizeSetting } from './validate.js';

export interface AttentionOptions {
  /** Multiplies q k^T; default 1/sqrt(d) for head size d (µP: attnMult / d). */
  scale?: number;
  /** Nonzero where a query may NOT attend to a key (torch's boolean attn_mask); broadcasts to [..., Lq, Lk]. */
  mask?: Tensor;
  /** Query i may attend only to keys j <= i (top-left aligned when Lq != Lk, as torch's is_causal). */
  causal?: boolean;
  /** Dropout on the attention weights, applied only when `training` is true. */
  dropout?: number;
  training?: boolean;
  generator?: Rng;
}

/**
 * softmax(scale * q k^T, masked) v for q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv].
 * A query whose keys are all masked gets NaN, as in torch.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const all = [q, k, v, ...(opts.mask ? [opts.mask] : [])];
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2 || q.shape[q.ndim - 1] !== k.shape[k.ndim - 1] || k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) {
    throw opError('scaledDotProductAttention', 'expects q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv]', all);
  }
  const d = q.shape[q.ndim - 1], Lq = q.shape[q.ndim - 2], Lk = k.shape[k.ndim - 2];
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  let scores = matmul(q, transpose(k), { alpha: scale });
  if (opts.mask) scores = maskedFill(scores, opts.mask, -Infinity);
  if (opts.causal) scores = maskedFill(scores, causalMask(Lq, Lk, q.backend.name), -Infinity);
  let weights = softmax(scores, -1);
  if (opts.dropout) weights = dropout(weights, opts.dropout, opts.training ?? false, opts.generator ?? globalRng);
  return matmul(weights, v);
}

/** [Lq, Lk] with 1 where key j comes after query i. */
function causalMask(Lq: number, Lk: number, backend: string): Tensor {
  const m = new Float32Array(Lq * Lk);
  for (let i = 0; i < Lq; i++) for (let j = i + 1; j < Lk; j++) m[i * Lk + j] = 1;
  return fromArray(m, [Lq, Lk], { backend });
}

export interface MultiHeadAttentionOptions extends ModuleOptions {
  /** Score scale; default 1/sqrt(embedDim / numHeads). µP uses attnMult / d_head. */
  scale?: number;
  bias?: boolean;
  /** Feature sizes of key and value inputs; default embedDim. */
  kdim?: number;
  vdim?: number;
  /** Dropout on the attention weights while training. */
  dropout?: number;
}

export interface MultiHeadAttentionCall {
  /** Nonzero = not attended; broadcasts to [B, heads, Lq, Lk]. */
  mask?: Tensor;
  /** [B, Lk], nonzero where the key is padding. */
  keyPaddingMask?: Tensor;
  causal?: boolean;
}

/**
 * Multi-head attention on batch-first inputs: query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim].
 * Separate q/k/v/out projections (xavier-uniform weights, zero biases, as torch initializes its in_proj).
 */
export class MultiHeadAttention extends Module {
  readonly headDim: number;
  readonly scale: number;
  readonly dropout: number;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  private readonly generator: Rng;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiHeadAttentionOptions = {}) {
    super();
    moduleOptions(this.constructor.name, opts, [...MODULE_KEYS, 'scale', 'bias', 'kdim', 'vdim', 'dropout']);
    sizeSetting(this.constructor.name, 'embedDim', embedDim, 1);
    probabilitySetting(this.constructor.name, 'dropout', opts.dropout ?? 0);
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
      throw new Error(`MultiHeadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.scale = opts.scale ?? 1 / Math.sqrt(this.headDim);
    this.dropout = opts.dropout ?? 0;
    this.generator = opts.generator ?? globalRng;
    const linearOpts = { backend: opts.backend, generator: opts.generator, bias: opts.bias };
    const replace = (t: Tensor, value: Tensor) => { t.assign(value); value.dispose(); };
    const projection = (name: string, inDim: number) => {
      const lin = this.child(name, new Linear(inDim, embedDim, linearOpts));
      replace(lin.weight, xavierUniform([embedDim, inDim], 1, opts));
      if (lin.bias) replace(lin.bias, zeros([embedDim], { backend: opts.backend }));
      return lin;
    };
    this.qProj = projection('q_proj', embedDim);
    this.kProj = projection('k_proj', opts.kdim ?? embedDim);
    this.vProj = projection('v_proj', opts.vdim ?? embedDim);
    this.outProj = this.child('out_proj', new Linear(embedDim, embedDim, linearOpts));
    if (this.outProj.bias) replace(this.outProj.bias, zeros([embedDim], { backend: opts.backend }));
  }

  /** Self-attention when key and value are omitted. Returns [B, Lq, E]. */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, call: MultiHeadAttentionCall = {}): Tensor {
    const B = query.shape[0], Lq = query.shape[1], Lk = key.shape[1];
    if (query.ndim !== 3 || key.ndim !== 3 || value.ndim !== 3 || key.shape[0] !== B || value.shape[0] !== B || value.shape[1] !== Lk) {
      throw new Error(`MultiHeadAttention: expected query [B, Lq, E], key and value [B, Lk, *], got ${[query, key, value].map((t) => t.describe()).join(', ')}`);
    }
    const heads = (x: Tensor, L: number) => permute(reshape(x, [B, L, this.numHeads, this.headDim]), [0, 2, 1, 3]);
    let mask = call.mask;
    if (call.keyPaddingMask) {
      const kp = call.keyPaddingMask;
      if (kp.ndim !== 2 || kp.shape[0] !== B || kp.shape[1] !== Lk) {
        throw new Error(`MultiHeadAttention: keyPaddingMask must be [${B}, ${Lk}], got ${kp.describe()}`);
      }
      const padded = reshape(kp, [B, 1, 1, Lk]);
      mask = mask ? maskedFill(padded, mask, 1) : padded;
    }
    const attended = scaledDotProductAttention(
      heads(this.qProj.forward(query), Lq), heads(this.kProj.forward(key), Lk), heads(this.vProj.forward(value), Lk),
      { scale: this.scale, mask, causal: call.causal, dropout: this.dropout, training: this.training, generator: this.generator });
    return this.outProj.forward(reshape(permute(attended, [0, 2, 1, 3]), [B, Lq, this.embedDim]));
  }
}
