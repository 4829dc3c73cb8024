// The `cuda` backend: storage in GPU memory and the hand-written kernels of
// kernels/cuda/*.cu, reached through the native addon: each method is one
// row of the table in native/cuda/binding.cc, which calls the kernel's C ABI
// (kernels/cuda/capi.h), where the arguments are validated.
//
// Every call enqueues work on one CUDA stream and returns at once; results
// come back through `read()` (a Promise; the copy waits for everything
// enqueued before it). `syncRead` is false, so callers that honour it use
// `read()`; `readSync()` nevertheless works, by blocking the thread until the
// stream has finished — meant for tests, printing and scalars, and a stall
// of the event loop for as long as the queued GPU work takes.
//
// matmul and conv multiply in exact float32 by default; `precision` switches
// them to tensor cores with TF32 or BF16 operands (float32 accumulation).
import type {
  AdamParams, SgdParams,
  Backend, BatchnormParams, BinaryOp, Buf, ConvParams, Csr, DType, LstmParams, MatmulParams, Placement, PoolParams, ReduceOp, ScanOp,
  UnaryOp, View,
} from '../interface.js';
import { loadAddon, rebuildHint } from '../cpu/addon.js';

export type CudaPrecision = 'float32' | 'tf32' | 'bf16';

/** A view as the addon takes it: the buffer's handle instead of the buffer. */
interface NativeView { buf: number; shape: readonly number[]; strides: readonly number[]; offset: number }
/** A matmul operand: its shape comes from the params ([batch, M, K] or [batch, K, N]). */
type NativeOperand = Omit<NativeView, 'shape'>;
interface NativeCsr { rows: number; cols: number; nnz: number; rowPtr: number; colIdx: number; values?: number }

/** The CUDA entry points of the addon (native/cuda/runtime.cc for storage, binding.cc for kernels). */
export interface CudaAddon {
  info(): { cuda: boolean };
  cudaDeviceCount(): number;
  cudaInit(device: number): CudaDeviceInfo;
  cudaAlloc(size: number, dtype: DType): number;
  cudaFree(buf: number): void;
  cudaWrite(buf: number, data: Float32Array | Int32Array): void;
  cudaRead(buf: number): Promise<Float32Array | Int32Array>;
  cudaReadSync(buf: number): Float32Array | Int32Array;
  cudaSync(): Promise<void>;
  cudaMemory(): CudaMemory;
  cudaEmptyCache(): void;
  cudaFill(out: number, value: number): void;
  /** into places x in a region of out (its buf is out's handle again). */
  cudaCopy(x: NativeView, out: number, into?: NativeOperand): void;
  cudaUnary(op: UnaryOp, x: NativeView, out: number, alpha: number): void;
  cudaBinary(op: BinaryOp, a: NativeView, b: NativeView, out: number): void;
  cudaWhere(cond: NativeView, a: NativeView, b: NativeView, out: number): void;
  cudaReduce(op: ReduceOp, x: number, outer: number, size: number, inner: number, out: number): void;
  cudaMatmul(a: NativeOperand, b: NativeOperand, out: number,
    p: { batch: number; M: number; N: number; K: number; alpha: number; bias?: number; act: string },
    precision: CudaPrecision): void;
  cudaGather(x: NativeView, axis: number, idx: NativeView, out: number): void;
  cudaScatterAdd(out: number, outShape: readonly number[], axis: number, idx: NativeView, src: NativeView): void;
  cudaSpmm(a: NativeCsr, x: number, F: number, out: number): void;
  cudaSddmm(a: NativeCsr, x: number, y: number, H: number, F: number, out: number): void;
  cudaEdgeSoftmax(a: NativeCsr, scores: number, H: number, out: number): void;
  cudaEdgeSoftmaxBackward(a: NativeCsr, y: number, g: number, H: number, out: number): void;
  cudaCmdMoments(x: number, n: number, d: number, k: number, mean: number, moments: number): void;
  cudaCmdMomentsBackward(x: number, n: number, d: number, k: number, mean: number, moments: number,
    gMean: number, gMoments: number, out: number): void;
  cudaConv(x: number, w: number, bias: number | undefined, out: number, p: ConvParams, precision: CudaPrecision): void;
  cudaConvBackwardInput(gy: number, w: number, gx: number, p: ConvParams, precision: CudaPrecision): void;
  cudaConvBackwardWeight(x: number, gy: number, gw: number, p: ConvParams, precision: CudaPrecision): void;
  cudaMaxPool(x: number, out: number, argmax: number, p: PoolParams): void;
  cudaAvgPool(x: number, out: number, p: PoolParams): void;
  cudaAvgPoolBackward(gy: number, gx: number, p: PoolParams): void;
  cudaNms(boxes: number, scores: number, groups: number, count: number, iouThreshold: number, keep: number): void;
  cudaArgsort(x: number, outer: number, size: number, inner: number, descending: number, out: number): void;
  cudaCumulative(op: ScanOp, x: number, outer: number, size: number, inner: number, reverse: number, out: number): void;
  cudaLstmForward(gatesIn: number, weightHh: number, h0: number, c0: number, states: number, gates: number, p: LstmParams): void;
  cudaLstmBackward(weightHh: number, c0: number, gates: number, states: number, gradStates: number, gradGates: number,
    gradH0: number, gradC0: number, p: LstmParams): void;
  cudaAdamUpdate(param: number, grad: number, expAvg: number, expAvgSq: number, p: AdamParams): void;
  cudaSgdUpdate(param: number, grad: number, momentumBuffer: number, p: SgdParams): void;
  cudaBatchNormForward(x: number, weight: number, bias: number, addend: number | undefined, out: number, stats: number,
    p: BatchnormParams): void;
  cudaBatchNormBackward(gOut: number, x: number, weight: number, bias: number, addend: number | undefined, stats: number,
    gx: number, sums: number, gz: number | undefined, p: BatchnormParams): void;
}

export interface CudaDeviceInfo {
  device: number; name: string; computeCapability: string; totalMemory: number; multiprocessors: number;
}
export interface CudaMemory { inUse: number; cached: number; deviceFree: number; deviceTotal: number; buffers: number }

/** GPU storage: a handle into the addon's table of device allocations. */
export class CudaBuf implements Buf {
  constructor(readonly handle: number, readonly size: number, readonly dtype: DType) {}
}

export interface CudaBackendOptions {
  /** Which GPU (default 0). */
  device?: number;
  /** How matmul and conv multiply (default 'float32'). */
  precision?: CudaPrecision;
}

function handle(buf: Buf | undefined, what: string): number {
  if (!(buf instanceof CudaBuf)) {
    throw new Error(`cuda backend: ${what} is ${buf === undefined ? 'missing' : `a ${buf.constructor.name}`}, not cuda storage`);
  }
  return buf.handle;
}

function nativeView(v: View, what: string): NativeView {
  return { buf: handle(v.buf, what), shape: v.shape, strides: v.strides, offset: v.offset };
}

function nativeOperand(v: View, what: string): NativeOperand {
  return { buf: handle(v.buf, what), strides: v.strides, offset: v.offset };
}

function nativeCsr(a: Csr): NativeCsr {
  return {
    rows: a.rows, cols: a.cols, nnz: a.nnz, rowPtr: handle(a.rowPtr, 'csr.rowPtr'), colIdx: handle(a.colIdx, 'csr.colIdx'),
    values: a.values ? handle(a.values, 'csr.values') : undefined,
  };
}

export class CudaBackend implements Backend {
  readonly name = 'cuda';
  readonly syncRead = false;
  readonly device: CudaDeviceInfo;
  precision: CudaPrecision;
  private readonly addon: CudaAddon;

  /** Throws a clear error when the addon is missing, was built without nvcc, or no GPU is present. */
  constructor(opts: CudaBackendOptions = {}) {
    const { addon, error } = loadAddon();
    if (!addon) throw new Error(`cuda backend unavailable: ${error}`);
    const native = addon as CudaAddon;
    if (!native.info().cuda || typeof native.cudaDeviceCount !== 'function') {
      throw new Error('cuda backend unavailable: the native addon was built without CUDA (nvcc was not found when it ' +
        `was built). Install the CUDA toolkit (nvcc >= 11.8) and rebuild with TESSERA_CUDA=on set. ${rebuildHint}`);
    }
    this.addon = native;
    this.device = native.cudaInit(opts.device ?? 0);  // throws "no CUDA GPU present (...)" without one
    this.precision = opts.precision ?? 'float32';
  }

  /** Bytes in live buffers and in the allocator's cache, and the device's free and total memory. */
  memory(): CudaMemory { return this.addon.cudaMemory(); }
  /** Returns cached, unused device memory to the driver. */
  emptyCache(): void { this.addon.cudaEmptyCache(); }

  // ---- storage ----
  alloc(size: number, dtype: DType): Buf { return new CudaBuf(this.addon.cudaAlloc(size, dtype), size, dtype); }
  free(buf: Buf): void { this.addon.cudaFree(handle(buf, 'buffer')); }
  /** Device memory is freed by handle: the finalizer of dropped storage holds the number, not the CudaBuf. */
  reclaimer(buf: Buf): () => void {
    const id = handle(buf, 'buffer');
    return () => this.addon.cudaFree(id);
  }
  write(buf: Buf, data: Float32Array | Int32Array): void { this.addon.cudaWrite(handle(buf, 'buffer'), data); }
  read(buf: Buf): Promise<Float32Array | Int32Array> { return this.addon.cudaRead(handle(buf, 'buffer')); }
  readSync(buf: Buf): Float32Array | Int32Array { return this.addon.cudaReadSync(handle(buf, 'buffer')); }
  sync(): Promise<void> { return this.addon.cudaSync(); }

  // ---- core kernels ----
  fill(out: Buf, value: number): void { this.addon.cudaFill(handle(out, 'out'), value); }
  copy(x: View, out: Buf, into?: Placement): void {
    const o = handle(out, 'out');
    if (into) this.addon.cudaCopy(nativeView(x, 'x'), o, { buf: o, strides: into.strides, offset: into.offset });
    else this.addon.cudaCopy(nativeView(x, 'x'), o);
  }
  unary(op: UnaryOp, x: View, out: Buf, alpha: number): void {
    this.addon.cudaUnary(op, nativeView(x, 'x'), handle(out, 'out'), alpha);
  }
  binary(op: BinaryOp, a: View, b: View, out: Buf): void {
    this.addon.cudaBinary(op, nativeView(a, 'a'), nativeView(b, 'b'), handle(out, 'out'));
  }
  where(cond: View, a: View, b: View, out: Buf): void {
    this.addon.cudaWhere(nativeView(cond, 'cond'), nativeView(a, 'a'), nativeView(b, 'b'), handle(out, 'out'));
  }
  reduce(op: ReduceOp, x: Buf, outer: number, size: number, inner: number, out: Buf): void {
    this.addon.cudaReduce(op, handle(x, 'x'), outer, size, inner, handle(out, 'out'));
  }
  matmul(a: View, b: View, out: Buf, p: MatmulParams): void {
    this.addon.cudaMatmul(nativeOperand(a, 'a'), nativeOperand(b, 'b'), handle(out, 'out'), {
      batch: p.batch, M: p.M, N: p.N, K: p.K, alpha: p.alpha, act: p.act,
      bias: p.bias ? handle(p.bias, 'bias') : undefined,
    }, this.precision);
  }
  /** out has idx's shape (outShape). */
  gather(x: View, axis: number, idx: View, out: Buf): void {
    this.addon.cudaGather(nativeView(x, 'x'), axis, nativeView(idx, 'idx'), handle(out, 'out'));
  }
  scatterAdd(out: Buf, outShape: readonly number[], axis: number, idx: View, src: View): void {
    this.addon.cudaScatterAdd(handle(out, 'out'), outShape, axis, nativeView(idx, 'idx'), nativeView(src, 'src'));
  }

  // ---- signature kernels ----
  spmm(a: Csr, x: Buf, F: number, out: Buf): void {
    this.addon.cudaSpmm(nativeCsr(a), handle(x, 'x'), F, handle(out, 'out'));
  }
  sddmm(a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void {
    this.addon.cudaSddmm(nativeCsr(a), handle(x, 'x'), handle(y, 'y'), H, F, handle(out, 'out'));
  }
  edgeSoftmax(a: Csr, scores: Buf, H: number, out: Buf): void {
    this.addon.cudaEdgeSoftmax(nativeCsr(a), handle(scores, 'scores'), H, handle(out, 'out'));
  }
  edgeSoftmaxBackward(a: Csr, y: Buf, g: Buf, H: number, out: Buf): void {
    this.addon.cudaEdgeSoftmaxBackward(nativeCsr(a), handle(y, 'y'), handle(g, 'g'), H, handle(out, 'out'));
  }
  cmdMoments(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf): void {
    this.addon.cudaCmdMoments(handle(x, 'x'), n, d, k, handle(mean, 'mean'), handle(moments, 'moments'));
  }
  cmdMomentsBackward(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf,
    gMean: Buf, gMoments: Buf, out: Buf): void {
    this.addon.cudaCmdMomentsBackward(handle(x, 'x'), n, d, k, handle(mean, 'mean'), handle(moments, 'moments'),
      handle(gMean, 'gMean'), handle(gMoments, 'gMoments'), handle(out, 'out'));
  }
  conv(x: Buf, w: Buf, bias: Buf | undefined, out: Buf, p: ConvParams): void {
    this.addon.cudaConv(handle(x, 'x'), handle(w, 'w'), bias ? handle(bias, 'bias') : undefined, handle(out, 'out'),
      p, this.precision);
  }
  convBackwardInput(gy: Buf, w: Buf, gx: Buf, p: ConvParams): void {
    this.addon.cudaConvBackwardInput(handle(gy, 'gy'), handle(w, 'w'), handle(gx, 'gx'), p, this.precision);
  }
  convBackwardWeight(x: Buf, gy: Buf, gw: Buf, p: ConvParams): void {
    this.addon.cudaConvBackwardWeight(handle(x, 'x'), handle(gy, 'gy'), handle(gw, 'gw'), p, this.precision);
  }
  maxPool(x: Buf, out: Buf, argmax: Buf, p: PoolParams): void {
    this.addon.cudaMaxPool(handle(x, 'x'), handle(out, 'out'), handle(argmax, 'argmax'), p);
  }
  avgPool(x: Buf, out: Buf, p: PoolParams): void { this.addon.cudaAvgPool(handle(x, 'x'), handle(out, 'out'), p); }
  avgPoolBackward(gy: Buf, gx: Buf, p: PoolParams): void {
    this.addon.cudaAvgPoolBackward(handle(gy, 'gy'), handle(gx, 'gx'), p);
  }
  nms(boxes: Buf, scores: Buf, groups: Buf, count: number, iouThreshold: number, keep: Buf): void {
    this.addon.cudaNms(handle(boxes, 'boxes'), handle(scores, 'scores'), handle(groups, 'groups'), count, iouThreshold, handle(keep, 'keep'));
  }
  argsort(x: Buf, outer: number, size: number, inner: number, descending: boolean, out: Buf): void {
    this.addon.cudaArgsort(handle(x, 'x'), outer, size, inner, descending ? 1 : 0, handle(out, 'out'));
  }
  cumulative(op: ScanOp, x: Buf, outer: number, size: number, inner: number, reverse: boolean, out: Buf): void {
    this.addon.cudaCumulative(op, handle(x, 'x'), outer, size, inner, reverse ? 1 : 0, handle(out, 'out'));
  }

  lstmForward(gatesIn: Buf, weightHh: Buf, h0: Buf, c0: Buf, states: Buf, gates: Buf, p: LstmParams): void {
    this.addon.cudaLstmForward(handle(gatesIn, 'gatesIn'), handle(weightHh, 'weightHh'), handle(h0, 'h0'), handle(c0, 'c0'),
      handle(states, 'states'), handle(gates, 'gates'), p);
  }
  lstmBackward(weightHh: Buf, c0: Buf, gates: Buf, states: Buf, gradStates: Buf, gradGates: Buf, gradH0: Buf,
    gradC0: Buf, p: LstmParams): void {
    this.addon.cudaLstmBackward(handle(weightHh, 'weightHh'), handle(c0, 'c0'), handle(gates, 'gates'), handle(states, 'states'),
      handle(gradStates, 'gradStates'), handle(gradGates, 'gradGates'), handle(gradH0, 'gradH0'), handle(gradC0, 'gradC0'), p);
  }

  adamUpdate(param: Buf, grad: Buf, expAvg: Buf, expAvgSq: Buf, p: AdamParams): void {
    this.addon.cudaAdamUpdate(handle(param, 'param'), handle(grad, 'grad'), handle(expAvg, 'expAvg'), handle(expAvgSq, 'expAvgSq'), p);
  }
  sgdUpdate(param: Buf, grad: Buf, momentumBuffer: Buf, p: SgdParams): void {
    this.addon.cudaSgdUpdate(handle(param, 'param'), handle(grad, 'grad'), handle(momentumBuffer, 'momentumBuffer'), p);
  }

  batchNormForward(x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, out: Buf, stats: Buf, p: BatchnormParams): void {
    this.addon.cudaBatchNormForward(handle(x, 'x'), handle(weight, 'weight'), handle(bias, 'bias'),
      addend && handle(addend, 'addend'), handle(out, 'out'), handle(stats, 'stats'), p);
  }
  batchNormBackward(gOut: Buf, x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, stats: Buf, gx: Buf, sums: Buf,
    gz: Buf | undefined, p: BatchnormParams): void {
    this.addon.cudaBatchNormBackward(handle(gOut, 'gOut'), handle(x, 'x'), handle(weight, 'weight'), handle(bias, 'bias'),
      addend && handle(addend, 'addend'), handle(stats, 'stats'), handle(gx, 'gx'), handle(sums, 'sums'),
      gz && handle(gz, 'gz'), p);
  }
}
