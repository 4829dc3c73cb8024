// Matrix products: batched, broadcasting matmul with a fused scale, and the
// fused µP linear act(alpha * x W^T + b) whose scale, bias and activation live
// in the GEMM epilogue.
import type { Activation, View } from '../backend/interface.js';
import { record, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { broadcastShapes, fmtShape, numel } from '../shape.js';
import { checkOptions, commonBackend, opError, requireFinite, requireFloat, runKernel } from './util.js';
import { add, contiguous, gelu, geluGrad, gt, mul, relu, sigmoid, sub, square, tanh } from './elementwise.js';
import { zeros } from './creation.js';
import { expand, reshape, squeeze, transpose, unsqueeze } from './view.js';
import { sum } from './reduce.js';

/** x expanded to [...batch, r, c], as a [batch, r, c] kernel view (copying only when the batch axes cannot merge). */
function batchedView(x: Tensor, batch: number[]): { view: View; owned: Tensor | null } {
  const nb = batch.length;
  let t = expand(x, [...batch, x.shape[x.ndim - 2], x.shape[x.ndim - 1]]);
  const mergedStride = (u: Tensor): number | null => {
    const inner = batch.findLastIndex((s) => s !== 1);
    if (inner < 0) return 0;
    const st = u.strides[inner];
    let span = 1;
    for (let d = nb - 1; d >= 0; d--) {
      if (batch[d] !== 1 && u.strides[d] !== st * span) return null;
      span *= batch[d];
    }
    return st;
  };
  let bStride = mergedStride(t);
  if (bStride === null) { t = contiguous(t); bStride = mergedStride(t)!; }
  const v = t.view();
  return {
    view: { buf: v.buf, shape: [numel(batch), t.shape[nb], t.shape[nb + 1]], strides: [bStride, t.strides[nb], t.strides[nb + 1]], offset: v.offset },
    owned: t.storage === x.storage ? null : t,
  };
}

export interface MatmulOptions { alpha?: number }

/** a @ b with numpy/torch semantics (1-D operands promoted, batch axes broadcast), scaled by alpha. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkOptions('matmul', opts, ['alpha']);
  const alpha = opts.alpha ?? 1;
  requireFinite('matmul', 'alpha', alpha);
  const backend = commonBackend('matmul', [a, b]);
  requireFloat('matmul', [a, b]);
  if (a.ndim === 0 || b.ndim === 0) throw opError('matmul', 'operands must have at least one dimension', [a, b]);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  const M = a2.shape[a2.ndim - 2], K = a2.shape[a2.ndim - 1], K2 = b2.shape[b2.ndim - 2], N = b2.shape[b2.ndim - 1];
  if (K !== K2) throw opError('matmul', `inner dimensions differ (${K} vs ${K2}) for ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`, [a, b]);
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  if (!batch) throw opError('matmul', `batch dimensions do not broadcast for ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`, [a, b]);
  const out = emptyTensor(backend, [...batch, M, N], 'float32');
  if (out.size > 0) {
    const av = batchedView(a2, batch), bv = batchedView(b2, batch);
    runKernel('matmul', [a, b], () => backend.matmul(av.view, bv.view, out.storage.buf!,
      { batch: numel(batch), M, N, K, alpha, act: 'none' }), [out, av.owned, bv.owned]);
    av.owned?.dispose(); bv.owned?.dispose();
    if (K === 0) backend.fill(out.storage.buf!, 0);
  }
  let result = out;
  if (a.ndim === 1) result = squeeze(result, -2);
  if (b.ndim === 1) result = squeeze(result, -1);
  return record(result, 'matmul', [a, b], { alpha, a2, b2, productShape: [...out.shape] });
}

export interface LinearOptions {
  bias?: Tensor;
  /** Scale of the product (µP readout: output_mult / width_mult; attention: 1/d). */
  alpha?: number;
  activation?: Activation;
}

/** act(alpha * x W^T + bias) in one kernel; x [..., in], W [out, in], bias [out]. */
export function linear(x: Tensor, w: Tensor, opts: LinearOptions = {}): Tensor {
  checkOptions('linear', opts, ['bias', 'alpha', 'activation']);
  const alpha = opts.alpha ?? 1, act = opts.activation ?? 'none', bias = opts.bias;
  requireFinite('linear', 'alpha', alpha);
  const inputs = bias ? [x, w, bias] : [x, w];
  const backend = commonBackend('linear', inputs);
  requireFloat('linear', inputs);
  if (w.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== w.shape[1]) {
    throw opError('linear', `expects x [..., in] and W [out, in] with matching in`, inputs);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== w.shape[0])) throw opError('linear', `bias must be [${w.shape[0]}]`, inputs);
  const K = w.shape[1], N = w.shape[0];
  const rows = numel(x.shape.slice(0, -1));
  const outShape = [...x.shape.slice(0, -1), N];
  if (K === 0) {
    // No input features: the product is 0 and the result act(bias), as torch (the GEMM kernels need K > 0).
    const zero = zeros(outShape, { backend: backend.name });
    const z = bias ? add(zero, bias) : zero;
    if (z !== zero) zero.dispose();
    const y = { none: (t: Tensor) => t, relu, tanh, sigmoid, gelu }[act](z);
    if (y !== z && !z.requiresGrad) z.dispose();
    return y;
  }
  const needPre = act === 'gelu' && inputs.some((t) => t.requiresGrad);
  // With gradients, gelu needs its input for the backward: keep the pre-activation and apply gelu separately.
  const kernelAct: Activation = needPre ? 'none' : act;
  const out = emptyTensor(backend, outShape, 'float32');
  if (out.size > 0) {
    const xd = contiguous(reshape(x, [rows, K]));
    const bd = bias ? contiguous(bias) : undefined;
    const wv = w.view();
    runKernel('linear', inputs, () => backend.matmul(
      { buf: xd.view().buf, shape: [1, rows, K], strides: [0, xd.strides[0], xd.strides[1]], offset: xd.offset },
      { buf: wv.buf, shape: [1, K, N], strides: [0, w.strides[1], w.strides[0]], offset: wv.offset },
      out.storage.buf!, { batch: 1, M: rows, N, K, alpha, act: kernelAct, bias: bd?.denseBuf() }), [out, xd !== x ? xd : null, bd !== bias ? bd : null]);
    if (xd !== x && !xd.requiresGrad) xd.dispose();
  }
  const pre = needPre ? out : null;
  const y = needPre ? gelu(out) : out;
  return recordBackward(y, 'linear', inputs, (g) => {
    const gz = activationGrad(act, g, y, pre);
    const g2 = reshape(gz, [rows, N]);
    const x2 = reshape(x, [rows, K]);
    return [
      x.requiresGrad ? reshape(matmul(g2, w, { alpha }), x.shape) : null,
      w.requiresGrad ? matmul(transpose(g2), x2, { alpha }) : null,
      bias?.requiresGrad ? sum(g2, 0) : null,
    ];
  });
}

/** dL/dz from dL/dy for y = act(z), using y (or z for gelu). */
function activationGrad(act: Activation, g: Tensor, y: Tensor, pre: Tensor | null): Tensor {
  switch (act) {
    case 'none': return g;
    case 'relu': return mul(g, gt(y, 0));
    case 'tanh': return mul(g, sub(1, square(y)));
    case 'sigmoid': return mul(g, mul(y, sub(1, y)));
    case 'gelu': return mul(g, geluGrad(pre!));
  }
}
