// The contract every backend fills. A backend owns storage and runs kernels;
// it knows nothing of autograd, broadcasting rules or error messages for users
// (ops validate before they call a kernel). Conventions:
//  - Sizes, offsets and strides count elements, not bytes.
//  - An input is a `View` (buffer + shape + strides + offset): kernels read
//    strided data, so views (permute, slice, expand with stride 0) need no copy.
//  - An output is always a fresh, dense, row-major buffer of the stated size,
//    except `scatterAdd`, which accumulates into an existing buffer, and `copy`
//    given a `Placement`, which writes a strided region of one.
//  - float32 is computed in float32 (accumulation may be wider); int32 holds
//    indices. Comparisons produce float32 0/1.
//  - A backend that lacks a kernel throws; there is no silent fallback.

import type { CodeName, OpParams } from '../schema.js';

export type DType = CodeName<'dtype'>;

/** Opaque per-backend storage handle. */
export interface Buf {
  readonly size: number; // elements
  readonly dtype: DType;
}

export interface View {
  buf: Buf;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** Where a kernel writes inside an existing buffer: element i (row-major over the source's shape, at index
 *  (i_0, ..., i_{r-1})) goes to offset + sum_d i_d * strides[d]. The positions must be distinct and inside
 *  the buffer; the rest of the buffer keeps its contents. */
export interface Placement {
  offset: number;
  strides: readonly number[];
}

// Op codes and parameter records come from the schema (src/schema.ts), which every backend shares.
export type UnaryOp = CodeName<'unary'>;
export type BinaryOp = CodeName<'binary'>;
export type ReduceOp = CodeName<'reduce'>;
/** The reductions that also run as scans (cumulative). */
export type ScanOp = Extract<ReduceOp, 'sum' | 'prod'>;
export type Activation = CodeName<'activation'>;
export type Precision = CodeName<'precision'>;

/** out = act(alpha * a@b + bias): a viewed as [batch, M, K], b as [batch, K, N] (batch strides may be 0);
 *  bias a dense float32 [N] buffer. */
export type MatmulParams = OpParams<'matmul', Buf>;

export interface Csr {
  rows: number; cols: number; nnz: number;
  rowPtr: Buf;   // int32 [rows + 1]
  colIdx: Buf;   // int32 [nnz], sorted within each row
  values?: Buf;  // float32 [nnz]; absent means all ones
}

/** Always 3D (NCDHW); conv2d is D = 1, kd = 1, pad/stride/dilation 0/1/1 on depth. */
export type ConvParams = OpParams<'conv', Buf>;

export type PoolParams = OpParams<'pool', Buf>;

/** One LSTM layer-direction over T steps: T, B, H and the direction. */
export type LstmParams = OpParams<'lstm', Buf>;

/** One Adam / AdamW step over n elements (the step count folded into step_size and bias_correction2_sqrt). */
export type AdamParams = OpParams<'adam', Buf>;

/** One SGD step with momentum over n elements. */
export type SgdParams = OpParams<'sgd', Buf>;
/** x dense [outer, channels, inner] normalized per channel with its batch statistics, eps, the activation. */
export type BatchnormParams = OpParams<'batchnorm', Buf>;

export interface Backend {
  readonly name: string;
  /** Whether read() may be used synchronously (cpu, reference). */
  readonly syncRead: boolean;

  // ---- storage ----
  alloc(size: number, dtype: DType): Buf;
  free(buf: Buf): void;
  /**
   * For storage that the garbage collector found unreachable without free(): a function that frees what the
   * collector does not free by itself, holding no reference to `buf` (cuda: its handle), or undefined when
   * collecting the Buf frees everything (typed arrays). Without this method the Buf is kept until the finalizer
   * runs free(buf) (webgpu), which V8 does only when the event loop turns.
   */
  reclaimer?(buf: Buf): (() => void) | undefined;
  write(buf: Buf, data: Float32Array | Int32Array): void;
  read(buf: Buf): Promise<Float32Array | Int32Array>;
  /** Blocking read: cpu/reference at once, cuda by synchronizing; webgpu throws (use read()). */
  readSync(buf: Buf): Float32Array | Int32Array;
  /** Wait for queued work (no-op on synchronous backends). */
  sync(): Promise<void>;

  // ---- core kernels ----
  fill(out: Buf, value: number): void;
  /** Strided gather of x into dense out; casts when out.dtype differs. With `into`, x goes to that region of
   *  out instead (concat writes each piece into its slab of one output this way). */
  copy(x: View, out: Buf, into?: Placement): void;
  unary(op: UnaryOp, x: View, out: Buf, alpha: number): void;
  /** a and b already have out's shape (broadcast through 0 strides). */
  binary(op: BinaryOp, a: View, b: View, out: Buf): void;
  where(cond: View, a: View, b: View, out: Buf): void;
  /** x dense, seen as [outer, size, inner]; reduces the middle axis into out [outer, inner].
   *  argmax/argmin write int32. */
  reduce(op: ReduceOp, x: Buf, outer: number, size: number, inner: number, out: Buf): void;
  matmul(a: View, b: View, out: Buf, p: MatmulParams): void;
  /** out[..i..] = x[.. idx[..i..] on `axis` ..]; idx has out's shape (a view, may broadcast).
   *  Out-of-range indices are errors: reference and cpu throw; cuda validates before its kernel;
   *  webgpu's kernel writes 0 there (skips the element in scatterAdd) and raises a flag that
   *  the next read() or sync() rejects with, naming `op` (the op the user called). */
  gather(x: View, axis: number, idx: View, out: Buf, outShape: readonly number[], op?: string): void;
  /** out (dense, shape outShape) += src scattered along axis by idx (idx and src have src's shape). */
  scatterAdd(out: Buf, outShape: readonly number[], axis: number, idx: View, src: View, op?: string): void;

  // ---- signature kernels ----
  /** out [rows, F] = A @ x, x dense [cols, F]. */
  spmm(a: Csr, x: Buf, F: number, out: Buf): void;
  /** out [nnz, H] = per-edge dot over F of x[row] and y[col]; x [rows, H, F], y [cols, H, F]. */
  sddmm(a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void;
  /** softmax over each row's edges, per head: scores and out [nnz, H]. */
  edgeSoftmax(a: Csr, scores: Buf, H: number, out: Buf): void;
  /** gradScores = y * (g - sum_row(y * g)), per head. */
  edgeSoftmaxBackward(a: Csr, y: Buf, g: Buf, H: number, out: Buf): void;
  /** x dense [n, d]: mean [d] and central moments c_2..c_k into moments [(k-1), d]. */
  cmdMoments(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf): void;
  /** dL/dx [n, d] from dL/dmean [d] and dL/dc_j [(k-1), d]:
   *  gx = gmean/n + sum_j gc_j * j/n * ((x - mean)^(j-1) - c_(j-1)), with c_1 = 0. */
  cmdMomentsBackward(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf,
    gMean: Buf, gMoments: Buf, out: Buf): void;
  /** out [N, O, oD, oH, oW]; x [N, C, D, H, W], w [O, C/groups, kd, kh, kw], all dense. */
  conv(x: Buf, w: Buf, bias: Buf | undefined, out: Buf, p: ConvParams): void;
  convBackwardInput(gy: Buf, w: Buf, gx: Buf, p: ConvParams): void;
  convBackwardWeight(x: Buf, gy: Buf, gw: Buf, p: ConvParams): void;
  /** max pooling; argmax (int32, index within each (n, c) input plane) feeds the backward. */
  maxPool(x: Buf, out: Buf, argmax: Buf, p: PoolParams): void;
  /** average pooling; padded cells count in the divisor (torch count_include_pad=True). */
  avgPool(x: Buf, out: Buf, p: PoolParams): void;
  avgPoolBackward(gy: Buf, gx: Buf, p: PoolParams): void;

  // ---- detection ----
  /** Class-aware greedy non-maximum suppression over `count` boxes [count, 4] xyxy with scores [count]
   *  and int32 groups [count]: visiting boxes by descending score (ties by index, NaN scores last), a box
   *  is kept unless a kept box of its group has IoU > iouThreshold with it. Writes keep (int32
   *  [count + 1]): keep[0] = number kept, then their indices in visiting order, then -1. */
  nms(boxes: Buf, scores: Buf, groups: Buf, count: number, iouThreshold: number, keep: Buf): void;

  // ---- sorting ----
  /** x dense float32 seen as [outer, size, inner]: writes into out (int32, the same layout) the positions along the
   *  middle axis that sort each line, ascending or descending. Stable (equal values keep their order, also when
   *  descending); NaN counts as larger than every number and equal to NaN (torch.sort); -0 equals +0. */
  argsort(x: Buf, outer: number, size: number, inner: number, descending: boolean, out: Buf): void;

  // ---- scans ----
  /** x dense (float32 or int32) seen as [outer, size, inner]: out (x's dtype, the same layout) holds the running
   *  sums ('sum') or products ('prod') along the middle axis, from its end when `reverse`. int32 accumulates in
   *  int32 (wrapping as int32 arithmetic does, never through float32); float32 in float32 or wider. */
  cumulative(op: ScanOp, x: Buf, outer: number, size: number, inner: number, reverse: boolean, out: Buf): void;
  // ---- recurrent ----
  /** The recurrence of one LSTM layer-direction over T steps, torch's gate order (i, f, g, o). gatesIn [T, B, 4H]
   *  holds every step's input projection with both biases (x W_ih^T + b_ih + b_hh); weightHh [4H, H]; h0, c0
   *  [B, H]. Step k visits time t = k (t = T - 1 - k when p.reverse) from the state the previous step left (h0,
   *  c0 first): z = gatesIn[t] + h_prev W_hh^T; i, f, o = sigmoid, g = tanh of z's four H-wide blocks;
   *  c = f c_prev + i g; h = o tanh(c). Writes states [2, T, B, H] (h at every time, then c at every time)
   *  and gates [T, B, 4H] (the activated i, f, g, o the backward reads). All buffers dense. */
  lstmForward(gatesIn: Buf, weightHh: Buf, h0: Buf, c0: Buf, states: Buf, gates: Buf, p: LstmParams): void;
  /** Backpropagation through lstmForward's T steps. gradStates [2, T, B, H]: dL/dh and dL/dc at every time (as
   *  states); weightHh, c0 as given to lstmForward and gates, states as it wrote them. Writes gradGates
   *  [T, B, 4H] (dL/dz, which is dL/dgatesIn), gradH0 and gradC0 [B, H]. dL/dW_hh = sum over t of
   *  gradGates[t]^T h_prev(t) is left to the op (one matmul over all steps). All buffers dense. */
  lstmBackward(weightHh: Buf, c0: Buf, gates: Buf, states: Buf, gradStates: Buf, gradGates: Buf, gradH0: Buf,
    gradC0: Buf, p: LstmParams): void;

  // ---- optimizer updates (in place: the exception to fresh outputs) ----
  /** One torch.optim.Adam / AdamW step over p.n elements, rewriting param, expAvg (m) and expAvgSq (v) in
   *  place from grad (all dense float32 [n], four distinct buffers), in float32:
   *  AdamW (decoupled): param *= 1 - lr weight_decay; Adam: g = grad + weight_decay param;
   *  m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
   *  param -= step_size m / (sqrt(v) / bias_correction2_sqrt + eps). */
  adamUpdate(param: Buf, grad: Buf, expAvg: Buf, expAvgSq: Buf, p: AdamParams): void;
  /** One torch.optim.SGD step with momentum over p.n elements, rewriting param and the momentum buffer in place
   *  from grad (all dense float32 [n], three distinct buffers), in float32: d = grad + weight_decay param;
   *  buf = d when p.first, else momentum buf + (1 - dampening) d; param -= lr (nesterov ? d + momentum buf : buf). */
  sgdUpdate(param: Buf, grad: Buf, momentumBuffer: Buf, p: SgdParams): void;

  // ---- normalization ----
  /** Batch normalization with batch statistics, x dense [outer, channels, inner] with outer * inner >= 1: writes
   *  stats [2, channels], each channel's mean and biased variance over outer and inner, and out (x's shape) =
   *  act(z), z = (x - mean) / sqrt(var + eps) * weight + bias (+ addend). weight, bias [channels]; addend dense
   *  as x. The variance is that of x - mean (not E[x^2] - mean^2, which cancels). */
  batchNormForward(x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, out: Buf, stats: Buf, p: BatchnormParams): void;
  /** The backward of batchNormForward, from gOut = dL/dout (dense as x) and the x, weight, bias, addend and stats
   *  the forward had: with z recomputed and xhat = (x - mean) / sqrt(var + eps), gz = gOut * act'(z) (relu'(z) is
   *  1 where z > 0, else 0); writes sums [2, channels] = the sum over outer and inner of gz (dL/dbias) and of
   *  gz * xhat (dL/dweight), gx = weight / sqrt(var + eps) * (gz - (sums[0] + xhat * sums[1]) / (outer * inner))
   *  and, when given, gz itself (dL/daddend). */
  batchNormBackward(gOut: Buf, x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, stats: Buf, gx: Buf, sums: Buf,
    gz: Buf | undefined, p: BatchnormParams): void;
}
