// Width-scalable models for coordinate checks and µTransfer, each in a standard
// (SP) and a µP version that differ only where µP says they must: the readout
// (MuReadout: output scaled by 1/widthMult, init rescaled), attention (1/d
// instead of 1/sqrt(d), optional zero queries) and, through setBaseShapes, the
// bias init and the per-parameter learning rates. A Task bundles a model family
// with its data and loss, so that the coordinate check and the transfer sweep
// run unchanged on the MNIST MLP, the character Transformer or a test problem.
import { Rng, Tensor, add, crossEntropy, data, fromArray, nn, reshape, slice } from '../../index.js';
import Module = nn.Module;
import Embedding = nn.Embedding;
import LayerNorm = nn.LayerNorm;
import Linear = nn.Linear;
import ModuleList = nn.ModuleList;
import MultiHeadAttention = nn.MultiHeadAttention;
import loadMnist = data.loadMnist;
import { MuReadout } from './readout.js';
import { MuMultiHeadAttention } from './attention.js';
import { setBaseShapes } from './init.js';
import { BaseShapes, makeBaseShapes, shapesOf } from './shapes.js';
import { grammarCorpus, GRAMMAR_VOCAB } from './grammar.js';

export type Parametrization = 'mup' | 'sp';

/** Called with each layer's output during a forward pass (coordinate checks). */
export type Tap = (layer: string, output: Tensor) => void;

/** A model whose forward maps a batch input to logits and can report every layer's output. */
export interface WidthModel extends Module {
  forward(input: Tensor, tap?: Tap): Tensor;
}

interface Common {
  width: number;
  parametrization: Parametrization;
  /** Readout logit multiplier (µP only). */
  outputMult?: number;
  /** Zero-initialized readout (µP only). */
  readoutZeroInit?: boolean;
  backend?: string;
  generator?: Rng;
}

function readout(width: number, out: number, c: Common): Linear {
  const layer = { backend: c.backend, generator: c.generator };
  return c.parametrization === 'mup'
    ? new MuReadout(width, out, { ...layer, outputMult: c.outputMult, readoutZeroInit: c.readoutZeroInit })
    : new Linear(width, out, layer);
}

export interface MlpConfig extends Common {
  inputDim: number;
  numClasses: number;
  /** Width-to-width layers between the input layer and the readout; default 1 (three layers in all). */
  hiddenLayers?: number;
}

/** input Linear -> relu -> (hidden Linear -> relu) x hiddenLayers -> readout; relu fused into each matmul. */
export class Mlp extends Module implements WidthModel {
  readonly layers: Linear[];
  readonly readout: Linear;
  constructor(readonly config: MlpConfig) {
    super();
    const layer = { backend: config.backend, generator: config.generator, activation: 'relu' as const };
    this.layers = [this.child('input', new Linear(config.inputDim, config.width, layer))];
    for (let i = 0; i < (config.hiddenLayers ?? 1); i++) this.layers.push(this.child(`hidden${i + 1}`, new Linear(config.width, config.width, layer)));
    this.readout = this.child('readout', readout(config.width, config.numClasses, config));
  }
  forward(x: Tensor, tap?: Tap): Tensor {
    let h = x;
    this.layers.forEach((l, i) => { h = l.forward(h); tap?.(i === 0 ? 'input' : `hidden${i}`, h); });
    const logits = this.readout.forward(h);
    tap?.('readout', logits);
    return logits;
  }
}

export interface TransformerConfig extends Common {
  vocabSize: number;
  contextLength: number;
  depth?: number;
  /** Number of heads, fixed as width grows (the head size grows); default 4. */
  heads?: number;
  /** µP attention logit multiplier; default 1. */
  attnMult?: number;
  /** Zero-initialized query projections (µP only); default true. */
  zeroQuery?: boolean;
}

/** Pre-LN block: x + attn(LN(x)), then + mlp(LN(x)) with a 4x GELU hidden layer. */
class Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(c: TransformerConfig) {
    super();
    const layer = { backend: c.backend, generator: c.generator };
    const heads = c.heads ?? 4;
    this.ln1 = this.child('ln1', new LayerNorm(c.width, { backend: c.backend }));
    this.attn = this.child('attn', c.parametrization === 'mup'
      ? new MuMultiHeadAttention(c.width, heads, { ...layer, attnMult: c.attnMult, zeroQuery: c.zeroQuery ?? true })
      : new MultiHeadAttention(c.width, heads, layer));
    this.ln2 = this.child('ln2', new LayerNorm(c.width, { backend: c.backend }));
    this.fc1 = this.child('fc1', new Linear(c.width, 4 * c.width, { ...layer, activation: 'gelu' }));
    this.fc2 = this.child('fc2', new Linear(4 * c.width, c.width, layer));
  }
  forward(x: Tensor, tap?: Tap, name = 'block'): Tensor {
    const a = this.attn.forward(this.ln1.forward(x), undefined, undefined, { causal: true });
    tap?.(`${name}.attn`, a);
    const h = add(x, a);
    const m = this.fc2.forward(this.fc1.forward(this.ln2.forward(h)));
    tap?.(`${name}.mlp`, m);
    const out = add(h, m);
    tap?.(`${name}.out`, out);
    return out;
  }
}

/** A small pre-LN causal Transformer language model: int32 tokens [B, L] -> logits [B, L, vocab]. */
export class TransformerLM extends Module implements WidthModel {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: Embedding;
  readonly blocks: ModuleList;
  readonly lnFinal: LayerNorm;
  readonly readout: Linear;
  constructor(readonly config: TransformerConfig) {
    super();
    const layer = { backend: config.backend, generator: config.generator };
    this.tokenEmbedding = this.child('tok', new Embedding(config.vocabSize, config.width, layer));
    this.positionEmbedding = this.child('pos', new Embedding(config.contextLength, config.width, layer));
    this.blocks = this.child('blocks', new ModuleList(Array.from({ length: config.depth ?? 2 }, () => new Block(config))));
    this.lnFinal = this.child('ln_f', new LayerNorm(config.width, { backend: config.backend }));
    this.readout = this.child('readout', readout(config.width, config.vocabSize, config));
  }
  forward(tokens: Tensor, tap?: Tap): Tensor {
    const L = tokens.shape[1];
    if (tokens.ndim !== 2 || L > this.config.contextLength) {
      throw new Error(`TransformerLM: expected int32 tokens [B, L] with L <= ${this.config.contextLength}, got ${tokens.describe()}`);
    }
    let h = add(this.tokenEmbedding.forward(tokens), slice(this.positionEmbedding.weight, 0, 0, L));
    tap?.('embedding', h);
    let i = 0;
    for (const b of this.blocks) h = (b as Block).forward(h, tap, `block${i++}`);
    const logits = this.readout.forward(this.lnFinal.forward(h));
    tap?.('readout', logits);
    return logits;
  }
}

/**
 * Base shapes of a model family: a base model and a delta model (twice the base width) are
 * built only for their shapes, from a throwaway generator, and freed.
 */
export function familyBaseShapes(make: (width: number, generator: Rng) => WidthModel, baseWidth: number): BaseShapes {
  const shapesAt = (w: number) => {
    const m = make(w, new Rng(0));
    const s = shapesOf(m);
    m.dispose();
    return s;
  };
  return makeBaseShapes(shapesAt(baseWidth), shapesAt(2 * baseWidth));
}

/** Builds µP models of a family at any width, computing the family's base shapes once. */
function familyBuilder(make: (parametrization: Parametrization) => (width: number, generator: Rng) => WidthModel, baseWidth: number) {
  let base: BaseShapes | undefined;
  return (width: number, parametrization: Parametrization, generator: Rng): WidthModel => {
    const model = make(parametrization)(width, generator);
    if (parametrization === 'sp') return model;
    base ??= familyBaseShapes(make('mup'), baseWidth);
    return setBaseShapes(model, base);
  };
}

export interface Batch { input: Tensor; target: Tensor }

/** A model family with its data and loss, as the coordinate check and the transfer sweep use it. */
export interface Task {
  readonly name: string;
  /** A fresh model (µP: base shapes set and init rescaled). */
  build(width: number, parametrization: Parametrization, generator: Rng): WidthModel;
  /** A training batch drawn with `rng`. */
  trainBatch(rng: Rng): Batch;
  /** A fixed part of the training set, to measure the training loss after training (made on demand: the caller disposes them). */
  trainEvalBatches(): Batch[];
  /** The held-out set, in batches (made on demand: the caller disposes them). */
  validationBatches(): Batch[];
  /** Mean loss of the model's output against the batch target. */
  loss(output: Tensor, target: Tensor): Tensor;
}

/** Rows [n, dim] and int32 labels. */
export interface LabelledRows { x: Float32Array; y: Int32Array; n: number; dim: number }

export interface ClassificationTaskOptions {
  train: LabelledRows;
  validation: LabelledRows;
  numClasses: number;
  batchSize: number;
  baseWidth: number;
  hiddenLayers?: number;
  outputMult?: number;
  readoutZeroInit?: boolean;
  /** Training rows over which the final training loss is measured; default 2048. */
  trainEvalCount?: number;
  name?: string;
}

function rowsBatch(d: LabelledRows, rows: ArrayLike<number>): Batch {
  const x = new Float32Array(rows.length * d.dim), y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    x.set(d.x.subarray(r * d.dim, (r + 1) * d.dim), i * d.dim);
    y[i] = d.y[r];
  }
  return { input: fromArray(x, [rows.length, d.dim]), target: fromArray(y, [rows.length]) };
}

/** An MLP classifier on in-memory rows. */
export function classificationTask(o: ClassificationTaskOptions): Task {
  const make = (parametrization: Parametrization) => (w: number, generator: Rng) => new Mlp({
    inputDim: o.train.dim, numClasses: o.numClasses, width: w, hiddenLayers: o.hiddenLayers, parametrization,
    outputMult: o.outputMult, readoutZeroInit: o.readoutZeroInit, generator,
  });
  /** Rows 0..count-1 of `d` in batches. */
  const inBatches = (d: LabelledRows, count: number): Batch[] => {
    const out: Batch[] = [];
    for (let s = 0; s < count; s += o.batchSize) out.push(rowsBatch(d, Array.from({ length: Math.min(o.batchSize, count - s) }, (_, i) => s + i)));
    return out;
  };
  return {
    name: o.name ?? 'mlp',
    build: familyBuilder(make, o.baseWidth),
    trainBatch: (rng) => rowsBatch(o.train, Array.from({ length: o.batchSize }, () => rng.int(o.train.n))),
    trainEvalBatches: () => inBatches(o.train, Math.min(o.train.n, o.trainEvalCount ?? 2048)),
    validationBatches: () => inBatches(o.validation, o.validation.n),
    loss: (logits, target) => crossEntropy(logits, target),
  };
}

/**
 * MNIST's 10,000 test images (the only split in shared/data) as a task: a seeded shuffle, the
 * first `trainCount` for training, the rest for validation; pixels in [0, 1], flattened.
 */
export function mnistTask(o: Omit<ClassificationTaskOptions, 'train' | 'validation' | 'numClasses'> & { trainCount?: number; dir?: string }): Task {
  const m = loadMnist({ dir: o.dir });
  const dim = m.rows * m.cols, trainCount = o.trainCount ?? 8000;
  if (!(trainCount > 0 && trainCount < m.count)) throw new Error(`mnistTask: trainCount must be in (0, ${m.count}), got ${trainCount}`);
  const order = new Rng(12345).permutation(m.count);
  const take = (from: number, to: number): LabelledRows => {
    const n = to - from, x = new Float32Array(n * dim), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = order[from + i];
      x.set(m.images.subarray(r * dim, (r + 1) * dim), i * dim);
      y[i] = m.labels[r];
    }
    return { x, y, n, dim };
  };
  return classificationTask({ ...o, name: o.name ?? 'mlp-mnist', numClasses: 10, train: take(0, trainCount), validation: take(trainCount, m.count) });
}

/** A synthetic classification problem (Gaussian inputs, labels from a random linear teacher), for tests. */
export function gaussianTask(o: Omit<ClassificationTaskOptions, 'train' | 'validation'> & { inputDim: number; count: number; seed?: number }): Task {
  const rng = new Rng(o.seed ?? 0);
  const teacher = Float32Array.from({ length: o.inputDim * o.numClasses }, () => rng.normal());
  const make = (n: number): LabelledRows => {
    const x = Float32Array.from({ length: n * o.inputDim }, () => rng.normal()), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -Infinity;
      for (let c = 0; c < o.numClasses; c++) {
        let s = 0;
        for (let k = 0; k < o.inputDim; k++) s += x[i * o.inputDim + k] * teacher[k * o.numClasses + c];
        if (s > best) { best = s; y[i] = c; }
      }
    }
    return { x, y, n, dim: o.inputDim };
  };
  return classificationTask({ ...o, name: o.name ?? 'mlp-gaussian', train: make(o.count), validation: make(Math.max(1, o.count >> 2)) });
}

export interface LanguageTaskOptions {
  /** Characters of generated text; the last tenth is held out. */
  corpusLength: number;
  contextLength: number;
  batchSize: number;
  baseWidth: number;
  depth?: number;
  heads?: number;
  attnMult?: number;
  outputMult?: number;
  /** µP readout starts at zero (mup's advice for Transformers: no 1/sqrt(width) logits at init); default true. */
  readoutZeroInit?: boolean;
  /** µP query projections start at zero; default true. */
  zeroQuery?: boolean;
  /** Windows evaluated for the final training and held-out losses; default 8 batches' worth each. */
  evalWindows?: number;
  seed?: number;
}

/** Next-character prediction on the grammar corpus with the pre-LN Transformer. */
export function languageTask(o: LanguageTaskOptions): Task {
  const corpus = grammarCorpus(o.corpusLength, o.seed ?? 0).tokens;
  const split = Math.floor(corpus.length * 0.9);
  const train = corpus.subarray(0, split), held = corpus.subarray(split);
  const L = o.contextLength;
  if (held.length < L + 2) throw new Error(`languageTask: corpusLength ${o.corpusLength} leaves too little held-out text for context ${L}`);
  const windows = (text: Int32Array, starts: number[]): Batch => {
    const input = new Int32Array(starts.length * L), target = new Int32Array(starts.length * L);
    starts.forEach((s, i) => {
      input.set(text.subarray(s, s + L), i * L);
      target.set(text.subarray(s + 1, s + L + 1), i * L);
    });
    return { input: fromArray(input, [starts.length, L]), target: fromArray(target, [starts.length * L]) };
  };
  const make = (parametrization: Parametrization) => (w: number, generator: Rng) => new TransformerLM({
    vocabSize: GRAMMAR_VOCAB.length, contextLength: L, width: w, depth: o.depth, heads: o.heads, parametrization,
    attnMult: o.attnMult, outputMult: o.outputMult, readoutZeroInit: o.readoutZeroInit ?? true, zeroQuery: o.zeroQuery ?? true, generator,
  });
  const count = o.evalWindows ?? 8 * o.batchSize;
  /** `count` windows spread evenly over `text`, in batches. */
  const spread = (text: Int32Array): Batch[] => {
    const stride = Math.max(1, Math.floor((text.length - L - 1) / count));
    const starts = Array.from({ length: count }, (_, i) => Math.min(i * stride, text.length - L - 1));
    const out: Batch[] = [];
    for (let s = 0; s < count; s += o.batchSize) out.push(windows(text, starts.slice(s, s + o.batchSize)));
    return out;
  };
  return {
    name: 'transformer-grammar',
    build: familyBuilder(make, o.baseWidth),
    trainBatch: (rng) => windows(train, Array.from({ length: o.batchSize }, () => rng.int(train.length - L - 1))),
    trainEvalBatches: () => spread(train),
    validationBatches: () => spread(held),
    loss: (logits, target) => crossEntropy(reshape(logits, [-1, logits.shape[logits.ndim - 1]]), target),
  };
}

export type ModelKind = 'mlp' | 'transformer';

export interface TaskSettings {
  baseWidth: number;
  batchSize?: number;
  /** MLP: width-to-width layers (default 1). */
  hiddenLayers?: number;
  /** Transformer: layers (default 2), heads (default 4), context (default 32), corpus characters (default 200,000). */
  depth?: number;
  heads?: number;
  contextLength?: number;
  corpusLength?: number;
}

/** The experiments' two tasks: the MLP on MNIST (needs shared/data) and the Transformer on the grammar corpus. */
export function taskFor(model: ModelKind, s: TaskSettings): Task {
  switch (model) {
    case 'mlp': return mnistTask({ baseWidth: s.baseWidth, batchSize: s.batchSize ?? 128, hiddenLayers: s.hiddenLayers });
    case 'transformer': return languageTask({
      baseWidth: s.baseWidth, batchSize: s.batchSize ?? 16, depth: s.depth, heads: s.heads,
      contextLength: s.contextLength ?? 32, corpusLength: s.corpusLength ?? 200_000,
    });
    default: throw new Error(`taskFor: unknown model '${model as string}' (mlp, transformer)`);
  }
}
