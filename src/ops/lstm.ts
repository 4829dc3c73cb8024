// One LSTM layer-direction over a whole sequence as a fused kernel pair. The input projection of every
// step is one matmul done with the ordinary ops (x W_ih^T + b_ih + b_hh); the recurrence (per step a
// [B, H] x [H, 4H] product, the gate nonlinearities and the state update) runs all T steps inside one
// backend call (lstmForward), and its backward through time inside another (lstmBackward). Composed
// from ops, the recurrence costs T x (matmul + about 15 elementwise ops) of dispatch and tape nodes,
// which is where the time of a small LSTM went.
import { recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { add, contiguous } from './elementwise.js';
import { linear, matmul } from './matmul.js';
import { concat } from './combine.js';
import { reshape, select, slice, transpose, unsqueeze } from './view.js';
import { zeros } from './creation.js';

/** One layer-direction's weights in torch's layout: weightIh [4H, in], weightHh [4H, H], biases [4H]. */
export interface LstmLayerWeights { weightIh: Tensor; weightHh: Tensor; biasIh?: Tensor; biasHh?: Tensor }

export interface LstmLayerOptions {
  /** Initial hidden state [B, H] (zeros when omitted). */
  h0?: Tensor;
  /** Initial cell state [B, H] (zeros when omitted). */
  c0?: Tensor;
  /** Run from the last time step to the first (the reverse direction of a bidirectional LSTM). */
  reverse?: boolean;
  /** x is [B, T, in] and the output [B, T, H] instead of [T, B, ...]. */
  batchFirst?: boolean;
}

export interface LstmLayerResult {
  /** h at every time step: [T, B, H] ([B, T, H] with batchFirst). */
  output: Tensor;
  /** The hidden state after the last step taken (time T - 1, or 0 when reverse): [B, H]. */
  h: Tensor;
  /** The cell state after the last step taken: [B, H]. */
  c: Tensor;
}

/**
 * The recurrence as one tape node: states [2, T, B, H] (h at every time, then c at every time) from the input
 * gates [T, B, 4H] (dense), weightHh [4H, H] and the initial state h0, c0 [B, H].
 */
function lstmRecurrence(op: string, gatesIn: Tensor, weightHh: Tensor, h0: Tensor, c0: Tensor, reverse: boolean): Tensor {
  const backend = gatesIn.backend;
  const [T, B, G] = gatesIn.shape, H = G / 4;
  const params = { T, B, H, reverse: reverse ? 1 : 0 };
  const w = contiguous(weightHh), h0d = contiguous(h0), c0d = contiguous(c0);
  const inputs = [gatesIn, weightHh, h0, c0];
  const states = emptyTensor(backend, [2, T, B, H], 'float32');
  const gates = emptyTensor(backend, [T, B, G], 'float32');
  if (B > 0) {
    runKernel(op, inputs, () => backend.lstmForward(gatesIn.denseBuf(), w.denseBuf(), h0d.denseBuf(), c0d.denseBuf(),
      states.storage.buf!, gates.storage.buf!, params), [states, gates]);
  }
  recordBackward(states, op, inputs, (g) => {
    const gs = contiguous(g);
    const gradGates = emptyTensor(backend, [T, B, G], 'float32');
    const gradH0 = emptyTensor(backend, [B, H], 'float32'), gradC0 = emptyTensor(backend, [B, H], 'float32');
    if (B > 0) {
      runKernel(op, [g], () => backend.lstmBackward(w.denseBuf(), c0d.denseBuf(), gates.denseBuf(), states.denseBuf(),
        gs.denseBuf(), gradGates.storage.buf!, gradH0.storage.buf!, gradC0.storage.buf!, params), [gradGates, gradH0, gradC0]);
    }
    let gradW: Tensor | null = null;
    if (weightHh.requiresGrad) {
      // dL/dW_hh = sum over t of gradGates[t]^T h_prev(t), one matmul over all T B rows; h_prev(t) is the
      // state of the step before: h at t - 1 (t + 1 when reverse), h0 at the first step.
      const hs = select(states, 0, 0), first = unsqueeze(h0, 0);
      const hPrev = T === 1 ? first : reverse ? concat([slice(hs, 0, 1, T), first], 0) : concat([first, slice(hs, 0, 0, T - 1)], 0);
      gradW = matmul(transpose(reshape(gradGates, [T * B, G])), reshape(hPrev, [T * B, H]));
    }
    return [gradGates, gradW, gradH0, gradC0];
  });
  if (!states.node) gates.dispose();
  return states;
}

/**
 * One LSTM layer (torch.nn.LSTM's layer, gate order i, f, g, o) over a whole sequence x [T, B, in]
 * ([B, T, in] with batchFirst): returns the output h at every step and the final h and c. Differentiable
 * in x, the weights and the initial state.
 */
export function lstmLayer(x: Tensor, weights: LstmLayerWeights, opts: LstmLayerOptions = {}): LstmLayerResult {
  const op = 'lstmLayer';
  checkOptions(op, opts, ['h0', 'c0', 'reverse', 'batchFirst']);
  if (weights === null || typeof weights !== 'object') throw new Error(`${op}: weights must be { weightIh, weightHh, biasIh?, biasHh? }`);
  checkOptions(op, weights, ['weightIh', 'weightHh', 'biasIh', 'biasHh']);
  const { weightIh, weightHh, biasIh, biasHh } = weights;
  const { h0, c0 } = opts;
  const all = [x, weightIh, weightHh, ...[biasIh, biasHh, h0, c0].filter((t): t is Tensor => t !== undefined)];
  const backend = commonBackend(op, all);
  requireFloat(op, all);
  const batchFirst = opts.batchFirst ?? false;
  const layout = batchFirst ? '[B, T, in]' : '[T, B, in]';
  if (weightHh.ndim !== 2 || weightHh.shape[1] < 1 || weightHh.shape[0] !== 4 * weightHh.shape[1]) {
    throw opError(op, 'weightHh must be [4H, H] with H >= 1', [weightHh]);
  }
  const H = weightHh.shape[1];
  if (weightIh.ndim !== 2 || weightIh.shape[0] !== 4 * H) throw opError(op, `weightIh must be [4H, in] = [${4 * H}, in]`, [weightIh, weightHh]);
  for (const [name, b] of [['biasIh', biasIh], ['biasHh', biasHh]] as const) {
    if (b && (b.ndim !== 1 || b.shape[0] !== 4 * H)) throw opError(op, `${name} must be [4H] = [${4 * H}]`, [b, weightHh]);
  }
  if (x.ndim !== 3 || x.shape[2] !== weightIh.shape[1] || x.shape[batchFirst ? 1 : 0] < 1) {
    throw opError(op, `expects x ${layout} with T >= 1 and in = ${weightIh.shape[1]} (weightIh's columns)`, [x, weightIh]);
  }
  const T = x.shape[batchFirst ? 1 : 0], B = x.shape[batchFirst ? 0 : 1];
  for (const [name, s] of [['h0', h0], ['c0', c0]] as const) {
    if (s && (s.ndim !== 2 || s.shape[0] !== B || s.shape[1] !== H)) throw opError(op, `${name} must be [B, H] = [${B}, ${H}]`, [x, s]);
  }
  // Both biases add to the same gates: one [4H] add here instead of a second pass over [T, B, 4H].
  const bias = biasIh && biasHh ? add(biasIh, biasHh) : biasIh ?? biasHh;
  // Projected in x's own layout (a dense GEMM); batch-first gates are then made time-major for the kernel.
  const projected = linear(x, weightIh, { bias });
  const gatesIn = contiguous(batchFirst ? transpose(projected, 0, 1) : projected);
  const zero = () => zeros([B, H], { backend: backend.name });
  const states = lstmRecurrence(op, gatesIn, weightHh, h0 ?? zero(), c0 ?? zero(), opts.reverse ?? false);
  const last = opts.reverse ? 0 : T - 1;
  const hs = select(states, 0, 0);
  return {
    output: batchFirst ? transpose(hs, 0, 1) : hs,
    h: select(hs, 0, last),
    c: select(select(states, 0, 1), 0, last),
  };
}
