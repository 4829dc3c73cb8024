// Basic layers: Linear, Bilinear, Embedding, Dropout, containers and
// activations as modules.
import { Tensor } from '../tensor.js';
import type { Activation as ActivationName } from '../backend/interface.js';
import { Module } from './module.js';
import { linear, matmul } from '../ops/matmul.js';
import { add, mul, gelu, relu, sigmoid, tanh, leakyRelu, elu, softplus, ne, where } from '../ops/elementwise.js';
import { indexSelect } from '../ops/indexing.js';
import { fromArray } from '../ops/creation.js';
import { detach, permute, reshape, squeeze, unsqueeze } from '../ops/view.js';
import { dropout } from '../ops/softmax.js';
import { asOp, opError } from '../ops/util.js';
import { numel } from '../shape.js';
import { kaimingUniform, normal, uniform } from './init.js';
import { Rng, globalRng } from '../rng.js';
import { MODULE_KEYS, moduleOptions, probabilitySetting, sizeSetting } from './validate.js';

/** Where a module's parameters are created and which generator initializes them. */
export interface ModuleOptions {
  backend?: string;
  generator?: Rng;
}

export interface LinearOptions extends ModuleOptions {
  bias?: boolean;
  /** Activation fused into the matmul epilogue. */
  activation?: ActivationName;
}

/** y = act(x W^T + b), W [out, in]; init as torch (kaiming-uniform with a = sqrt(5), bias U(+-1/sqrt(in))). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly activation: ActivationName;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    moduleOptions(this.constructor.name, opts, [...MODULE_KEYS, 'bias', 'activation']);
    sizeSetting(this.constructor.name, 'inFeatures', inFeatures);
    sizeSetting(this.constructor.name, 'outFeatures', outFeatures);
    this.activation = opts.activation ?? 'none';
    this.weight = this.param('weight', kaimingUniform([outFeatures, inFeatures], { a: Math.sqrt(5), backend: opts.backend, generator: opts.generator }));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = opts.bias === false ? null
      : this.param('bias', uniform([outFeatures], -bound, bound, { backend: opts.backend, generator: opts.generator }));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, { bias: this.bias ?? undefined, activation: this.activation });
  }
}

/** Applies its modules in order. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = (m as unknown as { forward(t: Tensor): Tensor }).forward(y);
    return y;
  }
}

/** Modules held in a list (torch.nn.ModuleList): registered as children '0', '1', ..., called by the owner. */
export class ModuleList extends Module implements Iterable<Module> {
  private readonly items: Module[] = [];
  constructor(modules: Module[] = []) {
    super();
    for (const m of modules) this.push(m);
  }
  push(m: Module): this {
    this.items.push(this.child(String(this.items.length), m));
    return this;
  }
  at(i: number): Module {
    const m = this.items.at(i);
    if (!m) throw new Error(`ModuleList.at: index ${i} out of range for ${this.items.length} modules`);
    return m;
  }
  get length(): number { return this.items.length; }
  [Symbol.iterator](): Iterator<Module> { return this.items[Symbol.iterator](); }
  forward(): never {
    throw new Error('ModuleList has no forward: iterate it and call its modules');
  }
}

/** y = x1^T A_k x2 + b_k for each output k; x1 [..., in1], x2 [..., in2], A [out, in1, in2] (torch.nn.functional.bilinear). */
export function bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const all = bias ? [x1, x2, weight, bias] : [x1, x2, weight];
  if (weight.ndim !== 3 || x1.ndim < 1 || x2.ndim !== x1.ndim
    || x1.shape[x1.ndim - 1] !== weight.shape[1] || x2.shape[x2.ndim - 1] !== weight.shape[2]
    || x1.shape.some((s, i) => i < x1.ndim - 1 && s !== x2.shape[i])) {
    throw opError('bilinear', 'expects x1 [..., in1], x2 [..., in2] with the same leading shape and weight [out, in1, in2]', all);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) throw opError('bilinear', `bias must be [${weight.shape[0]}]`, all);
  const [outF, in1, in2] = weight.shape;
  const lead = x1.shape.slice(0, -1), n = numel(lead);
  // (x1 A) first, as one GEMM over all outputs: [n, in1] @ [in1, out * in2], then a batched dot with x2.
  const a = reshape(permute(weight, [1, 0, 2]), [in1, outF * in2]);
  const u = reshape(matmul(reshape(x1, [n, in1]), a), [n, outF, in2]);
  let y = squeeze(matmul(u, unsqueeze(reshape(x2, [n, in2]), -1)), -1);
  if (bias) y = add(y, bias);
  return reshape(y, [...lead, outF]);
}

/** torch.nn.Bilinear: weight [out, in1, in2] and bias [out], both U(+-1/sqrt(in1)). */
export class Bilinear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly in1Features: number, readonly in2Features: number, readonly outFeatures: number,
    opts: ModuleOptions & { bias?: boolean } = {}) {
    super();
    moduleOptions('Bilinear', opts, [...MODULE_KEYS, 'bias']);
    for (const [k, v] of [['in1Features', in1Features], ['in2Features', in2Features], ['outFeatures', outFeatures]] as const) sizeSetting('Bilinear', k, v);
    const bound = in1Features > 0 ? 1 / Math.sqrt(in1Features) : 0;
    this.weight = this.param('weight', uniform([outFeatures, in1Features, in2Features], -bound, bound, opts));
    this.bias = opts.bias === false ? null : this.param('bias', uniform([outFeatures], -bound, bound, opts));
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    return bilinear(x1, x2, this.weight, this.bias ?? undefined);
  }
}

export interface EmbeddingOptions extends ModuleOptions {
  /** This row starts at zero and receives no gradient (torch's padding_idx); negative counts from the end. */
  paddingIdx?: number;
}

/** A lookup table [num, dim], N(0, 1) initialized; int32 indices of any shape give [...shape, dim]. */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    moduleOptions('Embedding', opts, [...MODULE_KEYS, 'paddingIdx']);
    sizeSetting('Embedding', 'numEmbeddings', numEmbeddings);
    sizeSetting('Embedding', 'embeddingDim', embeddingDim);
    let pad: number | null = null;
    if (opts.paddingIdx !== undefined) {
      pad = opts.paddingIdx < 0 ? opts.paddingIdx + numEmbeddings : opts.paddingIdx;
      if (!Number.isInteger(opts.paddingIdx) || pad < 0 || pad >= numEmbeddings) {
        throw new Error(`Embedding: paddingIdx ${opts.paddingIdx} is outside [-${numEmbeddings}, ${numEmbeddings})`);
      }
    }
    this.paddingIdx = pad;
    let w = normal([numEmbeddings, embeddingDim], 0, 1, opts);
    if (pad !== null) {
      // Zero the padding row on the device (no read-back, so this works on asynchronous backends too).
      const rowMask = new Float32Array(numEmbeddings).fill(1);
      rowMask[pad] = 0;
      const mask = fromArray(rowMask, [numEmbeddings, 1], { backend: w.backend.name });
      const drawn = w;
      w = mul(drawn, mask);
      drawn.dispose(); mask.dispose();
    }
    this.weight = this.param('weight', w);
  }
  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') {
      throw new Error(`Embedding: indices must be int32, got ${indices.describe()}`);
    }
    // asOp: an out-of-range index that a GPU kernel finds is reported later under this name.
    let rows = asOp(`Embedding(${this.numEmbeddings}, ${this.embeddingDim})`, () => indexSelect(this.weight, 0, reshape(indices, [indices.size])));
    if (this.paddingIdx !== null) {
      // Same values, but rows read at the padding index come from a detached copy, so no gradient reaches them.
      const keep = unsqueeze(ne(reshape(indices, [indices.size]), this.paddingIdx), -1);
      rows = where(keep, rows, detach(rows));
    }
    return reshape(rows, [...indices.shape, this.embeddingDim]);
  }
}

/** Zeroes elements with probability p while training (scaling the rest by 1/(1-p)); identity in eval mode. */
export class Dropout extends Module {
  private readonly generator: Rng;
  constructor(readonly p = 0.5, opts: { generator?: Rng } = {}) {
    super();
    moduleOptions('Dropout', opts, ['generator']);
    probabilitySetting('Dropout', 'p', p);
    this.generator = opts.generator ?? globalRng;
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training, this.generator); }
}

/** An elementwise activation as a module. */
export class Activation extends Module {
  constructor(private readonly fn: (x: Tensor) => Tensor) { super(); }
  forward(x: Tensor): Tensor { return this.fn(x); }
}
export class ReLU extends Activation { constructor() { super(relu); } }
export class GELU extends Activation { constructor() { super(gelu); } }
export class Tanh extends Activation { constructor() { super(tanh); } }
export class Sigmoid extends Activation { constructor() { super(sigmoid); } }
export class Softplus extends Activation { constructor() { super(softplus); } }
export class LeakyReLU extends Activation { constructor(readonly alpha = 0.01) { super((x) => leakyRelu(x, alpha)); } }
export class ELU extends Activation { constructor(readonly alpha = 1) { super((x) => elu(x, alpha)); } }
