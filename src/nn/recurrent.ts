// LSTM and GRU cells and multi-layer, optionally bidirectional LSTM / GRU with
// torch's parameter names (weight_ih_l0, weight_hh_l0_reverse, bias_ih_l1, ...),
// gate order (LSTM: input, forget, cell, output; GRU: reset, update, new) and
// initialization U(+-1/sqrt(hidden)), so a torch state_dict loads by name.
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { ModuleOptions } from './layers.js';
import { uniform } from './init.js';
import { add, mul, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { chunk, concat, stack } from '../ops/combine.js';
import { select, transpose, unsqueeze } from '../ops/view.js';
import { lstmLayer, type LstmLayerWeights } from '../ops/lstm.js';
import { zeros } from '../ops/creation.js';
import { dropout } from '../ops/softmax.js';
import { opError } from '../ops/util.js';
import { Rng, globalRng } from '../rng.js';
import { MODULE_KEYS, moduleOptions, probabilitySetting, sizeSetting } from './validate.js';

/**
 * The GRU state update from the input's projection [..., 3H] and the hidden state's projection [..., 3H]
 * (each with its own bias: the reset gate multiplies W_hn h + b_hn, as torch's GRU).
 */
function gruUpdate(inputGates: Tensor, hiddenGates: Tensor, h: Tensor): Tensor {
  const [ir, iz, inew] = chunk(inputGates, 3, -1);
  const [hr, hz, hnew] = chunk(hiddenGates, 3, -1);
  const r = sigmoid(add(ir, hr)), z = sigmoid(add(iz, hz));
  const n = tanh(add(inew, mul(r, hnew)));
  // (1 - z) n + z h = n + z (h - n)
  return add(n, mul(z, sub(h, n)));
}

/** One layer-direction's weights: weightIh [G*H, in], weightHh [G*H, H] with G = 4 (LSTM) or 3 (GRU). */
export type LstmWeights = LstmLayerWeights;
export type GruWeights = LstmWeights;

function checkCell(op: string, gates: number, x: Tensor, states: Tensor[], w: LstmWeights): void {
  const H = w.weightHh.shape[1];
  const biases = [w.biasIh, w.biasHh].filter((b): b is Tensor => !!b);
  if (w.weightIh.ndim !== 2 || w.weightHh.ndim !== 2 || w.weightIh.shape[0] !== gates * H || w.weightHh.shape[0] !== gates * H
    || x.ndim !== 2 || x.shape[1] !== w.weightIh.shape[1]
    || states.some((s) => s.ndim !== 2 || s.shape[0] !== x.shape[0] || s.shape[1] !== H)
    || biases.some((b) => b.ndim !== 1 || b.shape[0] !== gates * H)) {
    const st = states.length === 2 ? 'h and c [B, H]' : 'h [B, H]';
    throw opError(op, `expects x [B, in], ${st}, weightIh [${gates}H, in], weightHh [${gates}H, H], biases [${gates}H]`,
      [x, ...states, w.weightIh, w.weightHh, ...biases]);
  }
}

/** One LSTM step: x [B, in], h and c [B, H]; weightIh [4H, in], weightHh [4H, H]. Returns [h', c']. */
export function lstmCell(x: Tensor, h: Tensor, c: Tensor, w: LstmWeights): [Tensor, Tensor] {
  checkCell('lstmCell', 4, x, [h, c], w);
  // One step of the fused layer (T = 1).
  const step = lstmLayer(unsqueeze(x, 0), w, { h0: h, c0: c });
  return [step.h, step.c];
}

/** One GRU step: x [B, in], h [B, H]; weightIh [3H, in], weightHh [3H, H] (gates r, z, n). Returns h'. */
export function gruCell(x: Tensor, h: Tensor, w: GruWeights): Tensor {
  checkCell('gruCell', 3, x, [h], w);
  return gruUpdate(linear(x, w.weightIh, { bias: w.biasIh }), linear(h, w.weightHh, { bias: w.biasHh }), h);
}

/** Creates one layer-direction's weights, registering each through `register` (a module's param). */
function cellParams(register: (name: string, t: Tensor) => Tensor, suffix: string, gates: number, inputSize: number,
  hiddenSize: number, bias: boolean, opts: ModuleOptions): LstmWeights {
  const bound = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  const draw = (shape: number[]) => uniform(shape, -bound, bound, { backend: opts.backend, generator: opts.generator });
  const weightIh = register(`weight_ih${suffix}`, draw([gates * hiddenSize, inputSize]));
  const weightHh = register(`weight_hh${suffix}`, draw([gates * hiddenSize, hiddenSize]));
  if (!bias) return { weightIh, weightHh };
  return { weightIh, weightHh, biasIh: register(`bias_ih${suffix}`, draw([gates * hiddenSize])), biasHh: register(`bias_hh${suffix}`, draw([gates * hiddenSize])) };
}

const CELL_KEYS = [...MODULE_KEYS, 'bias'];

function checkSizes(cls: string, inputSize: number, hiddenSize: number): void {
  sizeSetting(cls, 'inputSize', inputSize);
  sizeSetting(cls, 'hiddenSize', hiddenSize, 1);
}

export class LSTMCell extends Module {
  readonly weights: LstmWeights;
  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: ModuleOptions & { bias?: boolean } = {}) {
    super();
    moduleOptions('LSTMCell', opts, CELL_KEYS);
    checkSizes('LSTMCell', inputSize, hiddenSize);
    this.weights = cellParams((n, t) => this.param(n, t), '', 4, inputSize, hiddenSize, opts.bias ?? true, opts);
  }
  /** x [B, in] and optional state [h, c] (zeros when omitted); returns [h', c']. */
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor] {
    const [h, c] = state ?? [0, 1].map(() => zeros([x.shape[0], this.hiddenSize], { backend: x.backend.name }));
    return lstmCell(x, h, c, this.weights);
  }
}

export class GRUCell extends Module {
  readonly weights: GruWeights;
  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: ModuleOptions & { bias?: boolean } = {}) {
    super();
    moduleOptions('GRUCell', opts, CELL_KEYS);
    checkSizes('GRUCell', inputSize, hiddenSize);
    this.weights = cellParams((n, t) => this.param(n, t), '', 3, inputSize, hiddenSize, opts.bias ?? true, opts);
  }
  /** x [B, in] and optional state h [B, H] (zeros when omitted); returns h'. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return gruCell(x, h ?? zeros([x.shape[0], this.hiddenSize], { backend: x.backend.name }), this.weights);
  }
}

export interface RecurrentOptions extends ModuleOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F]; the state stays [layers * directions, B, H] (as torch). */
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last, while training. */
  dropout?: number;
  /** A second pass runs backwards in time; outputs are [..., 2H] (forward then backward), states [2 * layers, B, H]. */
  bidirectional?: boolean;
}
export type LstmOptions = RecurrentOptions;
export type GruOptions = RecurrentOptions;

const RECURRENT_KEYS = [...CELL_KEYS, 'numLayers', 'batchFirst', 'dropout', 'bidirectional'];

/**
 * The stack of layers shared by LSTM and GRU. Weights of layer l, direction d are at layers[l * directions + d]
 * (the order of torch's h_n).
 */
abstract class RecurrentStack extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly layers: LstmWeights[] = [];
  private readonly generator: Rng;

  constructor(cls: string, gates: number, readonly inputSize: number, readonly hiddenSize: number, opts: RecurrentOptions) {
    super();
    moduleOptions(cls, opts, RECURRENT_KEYS);
    checkSizes(cls, inputSize, hiddenSize);
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    this.generator = opts.generator ?? globalRng;
    sizeSetting(cls, 'numLayers', this.numLayers, 1);
    probabilitySetting(cls, 'dropout', this.dropout);
    const directions = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < directions; d++) {
        this.layers.push(cellParams((n, t) => this.param(n, t), `_l${l}${d === 1 ? '_reverse' : ''}`, gates,
          l === 0 ? inputSize : hiddenSize * directions, hiddenSize, opts.bias ?? true, opts));
      }
    }
  }

  /** Checks x and the state tensors ([layers * directions, B, H] each); returns T and B. */
  protected checkInput(cls: string, x: Tensor, state: Tensor[] | undefined, count: number): [number, number] {
    const rows = this.numLayers * (this.bidirectional ? 2 : 1), H = this.hiddenSize;
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize || x.shape[this.batchFirst ? 1 : 0] === 0) {
      throw new Error(`${cls}: expected input [${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}] with T >= 1, got ${x.describe()}`);
    }
    const timeAxis = this.batchFirst ? 1 : 0;
    const T = x.shape[timeAxis], B = x.shape[1 - timeAxis];
    if (state && (state.length !== count || state.some((s) => !(s instanceof Tensor) || s.ndim !== 3 || s.shape[0] !== rows || s.shape[1] !== B || s.shape[2] !== H))) {
      throw new Error(`${cls}: initial state must be ${count === 2 ? 'two' : 'one'} [${rows}, ${B}, ${H}] tensor${count === 2 ? 's' : ''}, got ${state.map((s) => (s instanceof Tensor ? s.describe() : String(s))).join(', ')}`);
    }
    return [T, B];
  }

  /**
   * Runs every layer and direction, time-major inside (batch-first input is transposed once, and the output
   * back). `layer(w, input, state, reverse)` runs one layer-direction over input [T, B, F] from `count` state
   * tensors [B, H] (h first); returns its output [T, B, H] and final states, each stacked here to
   * [layers * directions, B, H].
   */
  protected run(x: Tensor, initial: Tensor[], count: number,
    layer: (w: LstmWeights, input: Tensor, state: Tensor[], reverse: boolean) => [Tensor, Tensor[]]): [Tensor, Tensor[]] {
    const directions = this.bidirectional ? 2 : 1;
    const finals: Tensor[][] = Array.from({ length: count }, () => []);
    let input = this.batchFirst ? transpose(x, 0, 1) : x;
    for (let l = 0; l < this.numLayers; l++) {
      const perDirection: Tensor[] = [];
      for (let d = 0; d < directions; d++) {
        const row = l * directions + d;
        const [output, state] = layer(this.layers[row], input, initial.map((s) => select(s, 0, row)), d === 1);
        state.forEach((s, i) => finals[i].push(s));
        perDirection.push(output);
      }
      input = directions === 1 ? perDirection[0] : concat(perDirection, 2);
      if (l < this.numLayers - 1) input = dropout(input, this.dropout, this.training, this.generator);
    }
    return [this.batchFirst ? transpose(input, 0, 1) : input, finals.map((f) => stack(f, 0))];
  }

  protected zeroState(x: Tensor, B: number): Tensor {
    return zeros([this.numLayers * (this.bidirectional ? 2 : 1), B, this.hiddenSize], { backend: x.backend.name });
  }
}

/** Multi-layer LSTM. forward(x, [h0, c0]?) returns [output, [hN, cN]] like torch.nn.LSTM. */
export class LSTM extends RecurrentStack {
  constructor(inputSize: number, hiddenSize: number, opts: LstmOptions = {}) {
    super('LSTM', 4, inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const [, B] = this.checkInput('LSTM', x, state, 2);
    const initial = state ?? [this.zeroState(x, B), this.zeroState(x, B)];
    // Each layer-direction is one fused lstmLayer (the recurrence of all T steps in one kernel).
    const [out, [hN, cN]] = this.run(x, initial, 2, (w, input, [h0, c0], reverse) => {
      const { output, h, c } = lstmLayer(input, w, { h0, c0, reverse });
      return [output, [h, c]];
    });
    return [out, [hN, cN]];
  }
}

/** Multi-layer GRU. forward(x, h0?) returns [output, hN] like torch.nn.GRU. */
export class GRU extends RecurrentStack {
  constructor(inputSize: number, hiddenSize: number, opts: GruOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [, B] = this.checkInput('GRU', x, h0 && [h0], 1);
    const [out, [hN]] = this.run(x, [h0 ?? this.zeroState(x, B)], 1, (w, input, [h], reverse) => {
      // The input projection of all steps at once: one GEMM instead of T small ones; then one step per time.
      const projected = linear(input, w.weightIh, { bias: w.biasIh });
      const T = input.shape[0], outputs: Tensor[] = new Array(T);
      for (let k = 0; k < T; k++) {
        const t = reverse ? T - 1 - k : k;
        h = gruUpdate(select(projected, 0, t), linear(h, w.weightHh, { bias: w.biasHh }), h);
        outputs[t] = h;
      }
      return [stack(outputs, 0), [h]];
    });
    return [out, hN];
  }
}
