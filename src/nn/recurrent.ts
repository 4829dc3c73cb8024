// LSTM cell and multi-layer LSTM with torch's parameter names, gate order
// (input, forget, cell, output) and initialization U(+-1/sqrt(hidden)), so
// weights exported from PyTorch load by name.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { ModuleOptions } from './layers.js';
import { uniform } from './init.js';
import { add, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { chunk, stack } from '../ops/combine.js';
import { select } from '../ops/view.js';
import { zeros } from '../ops/creation.js';
import { dropout } from '../ops/softmax.js';
import { opError } from '../ops/util.js';
import { Rng, globalRng } from '../rng.js';

/** The state update from pre-activation gates [..., 4H] and the previous cell state [..., H]. */
function lstmUpdate(gates: Tensor, c: Tensor): [Tensor, Tensor] {
  const [i, f, g, o] = chunk(gates, 4, -1);
  const cNext = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
  return [mul(sigmoid(o), tanh(cNext)), cNext];
}

export interface LstmWeights { weightIh: Tensor; weightHh: Tensor; biasIh?: Tensor; biasHh?: Tensor }

/** One LSTM step: x [B, in], h and c [B, H]; weightIh [4H, in], weightHh [4H, H]. Returns [h', c']. */
export function lstmCell(x: Tensor, h: Tensor, c: Tensor, w: LstmWeights): [Tensor, Tensor] {
  const H = w.weightHh.shape[1];
  if (w.weightIh.ndim !== 2 || w.weightHh.ndim !== 2 || w.weightIh.shape[0] !== 4 * H || w.weightHh.shape[0] !== 4 * H
    || x.ndim !== 2 || x.shape[1] !== w.weightIh.shape[1]
    || h.ndim !== 2 || c.ndim !== 2 || h.shape[0] !== x.shape[0] || c.shape[0] !== x.shape[0] || h.shape[1] !== H || c.shape[1] !== H) {
    throw opError('lstmCell', 'expects x [B, in], h and c [B, H], weightIh [4H, in], weightHh [4H, H]', [x, h, c, w.weightIh, w.weightHh]);
  }
  const gates = add(linear(x, w.weightIh, { bias: w.biasIh }), linear(h, w.weightHh, { bias: w.biasHh }));
  return lstmUpdate(gates, c);
}

/** Creates one layer's weights, registering each through `register` (a module's param). */
function lstmParams(register: (name: string, t: Tensor) => Tensor, suffix: string, inputSize: number,
  hiddenSize: number, bias: boolean, opts: ModuleOptions): LstmWeights {
  const bound = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  const draw = (shape: number[]) => uniform(shape, -bound, bound, opts);
  const weightIh = register(`weight_ih${suffix}`, draw([4 * hiddenSize, inputSize]));
  const weightHh = register(`weight_hh${suffix}`, draw([4 * hiddenSize, hiddenSize]));
  if (!bias) return { weightIh, weightHh };
  return { weightIh, weightHh, biasIh: register(`bias_ih${suffix}`, draw([4 * hiddenSize])), biasHh: register(`bias_hh${suffix}`, draw([4 * hiddenSize])) };
}

export class LSTMCell extends Module {
  readonly weights: LstmWeights;
  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: ModuleOptions & { bias?: boolean } = {}) {
    super();
    this.weights = lstmParams((n, t) => this.param(n, t), '', inputSize, hiddenSize, opts.bias ?? true, opts);
  }
  /** x [B, in] and optional state [h, c] (zeros when omitted); returns [h', c']. */
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor] {
    const [h, c] = state ?? [0, 1].map(() => zeros([x.shape[0], this.hiddenSize], { backend: x.backend.name }));
    return lstmCell(x, h, c, this.weights);
  }
}

export interface LstmOptions extends ModuleOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F]; the state stays [layers, B, H] (as torch). */
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last, while training. */
  dropout?: number;
}

/** Multi-layer LSTM. forward(x, [h0, c0]?) returns [output, [hN, cN]] like torch.nn.LSTM. */
export class LSTM extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly layers: LstmWeights[] = [];
  private readonly generator: Rng;
  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: LstmOptions = {}) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.generator = opts.generator ?? globalRng;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new Error(`LSTM: numLayers must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`LSTM: dropout must be in [0, 1), got ${this.dropout}`);
    for (let l = 0; l < this.numLayers; l++) {
      this.layers.push(lstmParams((n, t) => this.param(n, t), `_l${l}`, l === 0 ? inputSize : hiddenSize, hiddenSize, opts.bias ?? true, opts));
    }
  }

  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const L = this.numLayers, H = this.hiddenSize;
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize || x.shape[this.batchFirst ? 1 : 0] === 0) {
      throw new Error(`LSTM: expected input [${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}] with T >= 1, got ${x.describe()}`);
    }
    const timeAxis = this.batchFirst ? 1 : 0;
    const T = x.shape[timeAxis], B = x.shape[1 - timeAxis];
    if (state && state.some((s) => s.ndim !== 3 || s.shape[0] !== L || s.shape[1] !== B || s.shape[2] !== H)) {
      throw new Error(`LSTM: state must be two [${L}, ${B}, ${H}] tensors, got ${state.map((s) => s.describe()).join(', ')}`);
    }
    const initial = state ?? [0, 1].map(() => zeros([L, B, H], { backend: x.backend.name }));
    const hN: Tensor[] = [], cN: Tensor[] = [];
    let input = x;
    for (let l = 0; l < L; l++) {
      const w = this.layers[l];
      // The input projection of all steps at once: one GEMM instead of T small ones.
      const projected = linear(input, w.weightIh, { bias: w.biasIh });
      let h = select(initial[0], 0, l), c = select(initial[1], 0, l);
      const outputs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const gates = add(select(projected, timeAxis, t), linear(h, w.weightHh, { bias: w.biasHh }));
        [h, c] = lstmUpdate(gates, c);
        outputs.push(h);
      }
      hN.push(h); cN.push(c);
      input = stack(outputs, timeAxis);
      if (l < L - 1) input = dropout(input, this.dropout, this.training, this.generator);
    }
    return [input, [stack(hN, 0), stack(cN, 0)]];
  }
}
