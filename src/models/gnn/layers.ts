// Pieces shared by the GNN models: the model contract (logits plus the last
// hidden layer, which SR-GNN's CMD regularizer reads), a dense-or-sparse
// input projection, dropout on dense tensors and on sparse matrices' values,
// and the per-forward sparse matrices that must be freed after backward.
import * as T from '../../index.js';
import type { GraphInputs, NodeFeatures } from './data.js';

export type ActivationName = 'tanh' | 'relu' | 'elu';

export function activate(x: T.Tensor, name: ActivationName): T.Tensor {
  switch (name) {
    case 'tanh': return T.tanh(x);
    case 'relu': return T.relu(x);
    case 'elu': return T.elu(x);
    default: throw new Error(`GNN activation must be tanh, relu or elu, got '${name as string}'`);
  }
}

/** One forward pass over the whole graph. */
export interface GnnOutput {
  /** [n, classes]. */
  logits: T.Tensor;
  /** [n, d]: the last hidden layer (SR-GNN regularizes its distribution). */
  hidden: T.Tensor;
  /** Frees the sparse matrices made for this pass (dropped-out values); call after backward. */
  release(): void;
}

export interface GnnModel extends T.nn.Module {
  forward(inputs: GraphInputs): GnnOutput;
  /** Unsupervised training before the supervised loop (DGI). */
  pretrain?(inputs: GraphInputs, opts?: { epochs?: number }): number;
}

/** Hyperparameters common to the models (SR-GNN paper defaults). */
export interface GnnOptions {
  /** Hidden units (per head for GAT); default 32. */
  hidden?: number;
  /** Default tanh, as the SR-GNN reference. */
  activation?: ActivationName;
  /** Dropout on hidden layers; default 0.5. */
  dropout?: number;
  /** Dropout on the input features (GCN's Kipf setting uses 0.5); default 0. */
  inputDropout?: number;
  /** Draws the initial weights and the dropout masks; default a generator seeded 0. */
  generator?: T.Rng;
  backend?: string;
}

export interface ResolvedGnnOptions {
  hidden: number; activation: ActivationName; dropout: number; inputDropout: number; generator: T.Rng; backend?: string;
}

export function resolveOptions(opts: GnnOptions): ResolvedGnnOptions {
  const hidden = opts.hidden ?? 32;
  if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`GNN: hidden must be a positive integer, got ${hidden}`);
  for (const [name, p] of [['dropout', opts.dropout], ['inputDropout', opts.inputDropout]] as const) {
    if (p !== undefined && !(p >= 0 && p < 1)) throw new Error(`GNN: ${name} must be in [0, 1), got ${p}`);
  }
  return {
    hidden, activation: opts.activation ?? 'tanh', dropout: opts.dropout ?? 0.5, inputDropout: opts.inputDropout ?? 0,
    generator: opts.generator ?? new T.Rng(0), backend: opts.backend,
  };
}

/** Sparse matrices made during one forward pass, freed together by release(). */
export class PassMatrices {
  private readonly made: T.Csr[] = [];
  add(a: T.Csr): T.Csr { this.made.push(a); return a; }
  output(logits: T.Tensor, hidden: T.Tensor): GnnOutput {
    const made = this.made;
    return { logits, hidden, release: () => { for (const a of made) a.dispose(); made.length = 0; } };
  }
}

/** Dropout on dense features, or on the stored values of sparse ones (torch's sparse dropout). */
export function dropFeatures(x: NodeFeatures, p: number, training: boolean, rng: T.Rng, pass: PassMatrices): NodeFeatures {
  if (!training || p === 0) return x;
  if (x instanceof T.Tensor) return T.dropout(x, p, true, rng);
  return dropValues(x, p, rng, pass);
}

/** The same sparsity pattern with dropout applied to the values (entries without values count as 1). */
export function dropValues(a: T.Csr, p: number, rng: T.Rng, pass: PassMatrices): T.Csr {
  const values = a.values ?? T.ones([a.nnz], { backend: a.backend.name });
  return pass.add(a.withValues(T.dropout(values, p, true, rng)));
}

/** x W for dense or sparse x [n, in], W [in, out]. */
export function project(x: NodeFeatures, weight: T.Tensor): T.Tensor {
  return x instanceof T.Tensor ? T.matmul(x, weight) : T.spmm(x, weight);
}

/** Glorot-uniform [in, out] weight (as DGL's GraphConv and GATConv). */
export function glorot(fanIn: number, fanOut: number, opts: ResolvedGnnOptions, shape: number[] = [fanIn, fanOut]): T.Tensor {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  return T.nn.init.uniform(shape, -bound, bound, { backend: opts.backend, generator: opts.generator });
}

/** Zero bias [n]. */
export function zeroBias(n: number, opts: ResolvedGnnOptions): T.Tensor {
  return T.zeros([n], { backend: opts.backend });
}

/**
 * A weight matrix applied to dense or sparse node features: x W (+ b after an optional
 * aggregation). Weight stored [in, out], so a sparse x needs no transposed copy.
 */
export class NodeLinear extends T.nn.Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: ResolvedGnnOptions, bias = true) {
    super();
    this.weight = this.param('weight', glorot(inFeatures, outFeatures, opts));
    this.bias = bias ? this.param('bias', zeroBias(outFeatures, opts)) : null;
  }
  /** x W + b. */
  forward(x: NodeFeatures): T.Tensor {
    const y = project(x, this.weight);
    return this.bias ? T.add(y, this.bias) : y;
  }
  /** Â (x W) + b: DGL's GraphConv with norm 'both' on a graph with self loops. */
  aggregate(adj: T.Csr, x: NodeFeatures): T.Tensor {
    const y = T.spmm(adj, project(x, this.weight));
    return this.bias ? T.add(y, this.bias) : y;
  }
}
