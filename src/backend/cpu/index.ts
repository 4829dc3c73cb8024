// The `cpu` backend: host memory (HostBuf over Float32Array / Int32Array) and native kernels
// (native/cpu/*.cc) that use SIMD and a thread pool. The addon validates every size, stride and
// index before touching memory and throws an Error naming the kernel.
import type {
  AdamParams, SgdParams,
  Backend, BatchnormParams, BinaryOp, Buf, ConvParams, Csr, DType, LstmParams, MatmulParams, Placement, PoolParams, ReduceOp, ScanOp,
  UnaryOp, View,
} from '../interface.js';
import { CODES, RECORDS, cSlots, codeOf, packSlots, slotCount } from '../../schema.js';
import { HostBuf, hostData, type HostArray } from '../hostbuf.js';
import { matmulRecord } from '../records.js';
import { loadAddon, rebuildHint } from './addon.js';
import * as sig from './signature.js';

/** The core kernels' native entry points (argument order as in native/cpu/*.cc). */
export interface CoreAddon {
  /** The schema the addon was built with (kernels/schema.h): code lists and record slot layouts. */
  schema: { codes: Record<string, string[]>; records: Record<string, string> };
  /** outStrides and outOffset place x in a region of out (dense from 0 without them). */
  copy(x: HostArray, shape: readonly number[], strides: readonly number[], offset: number, out: HostArray,
    outStrides?: readonly number[], outOffset?: number): void;
  unary(op: number, x: HostArray, shape: readonly number[], strides: readonly number[], offset: number,
    out: HostArray, alpha: number): void;
  binary(op: number, shape: readonly number[], a: HostArray, aStrides: readonly number[], aOffset: number,
    b: HostArray, bStrides: readonly number[], bOffset: number, out: HostArray): void;
  where(shape: readonly number[], c: HostArray, cStrides: readonly number[], cOffset: number,
    a: HostArray, aStrides: readonly number[], aOffset: number,
    b: HostArray, bStrides: readonly number[], bOffset: number, out: HostArray): void;
  reduce(op: number, x: HostArray, outer: number, size: number, inner: number, out: HostArray): void;
  /** record: the tsr_matmul_params record as packSlots (src/schema.ts) packs it. */
  matmul(a: HostArray, b: HostArray, out: HostArray, bias: HostArray | undefined, record: Float64Array): void;
  gather(x: HostArray, xShape: readonly number[], xStrides: readonly number[], xOffset: number, axis: number,
    idx: HostArray, idxStrides: readonly number[], idxOffset: number, out: HostArray,
    outShape: readonly number[]): void;
  scatterAdd(out: HostArray, outShape: readonly number[], axis: number, idx: HostArray,
    idxStrides: readonly number[], idxOffset: number, src: HostArray, srcShape: readonly number[],
    srcStrides: readonly number[], srcOffset: number): void;
  nms(boxes: HostArray, scores: HostArray, groups: HostArray, iouThreshold: number, keep: HostArray): void;
  argsort(x: HostArray, outer: number, size: number, inner: number, descending: boolean, out: HostArray): void;
  cumulative(op: ScanOp, x: HostArray, outer: number, size: number, inner: number, reverse: boolean, out: HostArray): void;
  /** record: the tsr_lstm_params record as packSlots packs it. */
  lstmForward(gatesIn: HostArray, weightHh: HostArray, h0: HostArray, c0: HostArray, states: HostArray, gates: HostArray,
    record: Float64Array): void;
  lstmBackward(weightHh: HostArray, c0: HostArray, gates: HostArray, states: HostArray, gradStates: HostArray,
    gradGates: HostArray, gradH0: HostArray, gradC0: HostArray, record: Float64Array): void;
  /** record: the tsr_adam_params record as packSlots packs it; param, expAvg, expAvgSq rewritten in place. */
  adamUpdate(param: HostArray, grad: HostArray, expAvg: HostArray, expAvgSq: HostArray, record: Float64Array): void;
  /** record: the tsr_sgd_params record; param and momentumBuffer rewritten in place. */
  sgdUpdate(param: HostArray, grad: HostArray, momentumBuffer: HostArray, record: Float64Array): void;
  /** record: the tsr_batchnorm_params record as packSlots packs it. */
  batchNormForward(x: HostArray, weight: HostArray, bias: HostArray, addend: HostArray | undefined, out: HostArray,
    stats: HostArray, record: Float64Array): void;
  batchNormBackward(gOut: HostArray, x: HostArray, weight: HostArray, bias: HostArray, addend: HostArray | undefined,
    stats: HostArray, gx: HostArray, sums: HostArray, gz: HostArray | undefined, record: Float64Array): void;
  info(): { simd: 'avx512' | 'avx2' | 'scalar'; threads: number; cuda: boolean; buildFlags: string };
  setSimd(level: 'avx512' | 'avx2' | 'scalar'): string;
  /** Detaches the array's ArrayBuffer, freeing its memory now rather than at a garbage collection. */
  releaseArray(array: HostArray): void;
}

export type CpuAddon = CoreAddon & sig.SignatureAddon;

/** Why an addon built from another schema than src/schema.ts cannot be used, or undefined. */
export function schemaMismatch(built: CoreAddon['schema'] | undefined): string | undefined {
  const differs = (what: string) => `the native addon was built with other ${what} than src/schema.ts; ` +
    `rebuild it. ${rebuildHint}`;
  for (const [list, { names }] of Object.entries(CODES)) {
    if (built?.codes[list]?.join() !== names.join()) return differs(`${list} codes`);
  }
  for (const [name, def] of Object.entries(RECORDS)) {
    if (built?.records[name] !== cSlots(def).join('')) return differs(`a ${name} record`);
  }
  return undefined;
}

const data = hostData;
/** What a freed HostBuf holds instead of its array (empty: nothing can be written to them). */
const NO_FLOATS = new Float32Array(0), NO_INTS = new Int32Array(0);

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly syncRead = true;
  readonly addon: CpuAddon;

  /** Throws (with how to rebuild) when the native addon is missing. */
  constructor() {
    const { addon, error } = loadAddon();
    if (!addon) throw new Error(`cpu backend unavailable: ${error}`);
    this.addon = addon as CpuAddon;
    const mismatch = schemaMismatch(this.addon.schema);
    if (mismatch) throw new Error(`cpu backend unavailable: ${mismatch}`);
  }

  /** SIMD level, thread count, CUDA support and compiler flags of the loaded addon. */
  info(): ReturnType<CoreAddon['info']> { return this.addon.info(); }

  // ---- storage ----
  // Freed arrays are kept for reuse by size: a fresh ArrayBuffer costs a page fault per 4 KiB on first
  // touch and V8 returns memory only after a GC, so allocating every op's output anew dominated small
  // and medium ops. Outputs are fully overwritten by every kernel, so reused arrays need no clearing.
  // An array the pool turns away is released at once (the addon detaches it): left to the collector, the
  // arrays of one training step were still resident while the next step allocated its own (r3d_18's step
  // held about 600 MiB of such garbage at its peak).
  // Keyed by dtype, then length (a string key per alloc cost more than the lookup).
  private readonly pool = { float32: new Map<number, (Float32Array | Int32Array)[]>(), int32: new Map<number, (Float32Array | Int32Array)[]>() };
  private pooled = 0;
  /** The most bytes of freed arrays the pool holds (settable for tests). */
  poolLimitBytes = 256 * 2 ** 20;
  /** Smaller arrays live in V8's heap (64 bytes or less), where allocating them costs less than the pool. */
  static readonly POOL_MIN_ELEMENTS = 17;

  /** Bytes of freed arrays held for reuse. */
  get pooledBytes(): number { return this.pooled; }

  alloc(size: number, dtype: DType): Buf {
    const reused = size >= CpuBackend.POOL_MIN_ELEMENTS ? this.pool[dtype].get(size)?.pop() : undefined;
    if (reused) { this.pooled -= reused.byteLength; return new HostBuf(reused, dtype); }
    return new HostBuf(dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), dtype);
  }
  free(buf: Buf): void {
    const host = buf as HostBuf;
    const arr = host.data;
    host.data = buf.dtype === 'int32' ? NO_INTS : NO_FLOATS;
    if (arr instanceof Float64Array || arr.length < CpuBackend.POOL_MIN_ELEMENTS) return;
    if (this.pooled + arr.byteLength > this.poolLimitBytes) { this.addon.releaseArray(arr); return; }
    const byLength = this.pool[buf.dtype];
    let list = byLength.get(arr.length);
    if (!list) { list = []; byLength.set(arr.length, list); }
    list.push(arr);
    this.pooled += arr.byteLength;
  }
  /** Collecting a HostBuf frees its typed array; V8 counts typed arrays towards its collection triggers. */
  reclaimer(): undefined { return undefined; }
  write(buf: Buf, src: Float32Array | Int32Array): void { data(buf).set(src); }
  readSync(buf: Buf): Float32Array | Int32Array {
    const d = data(buf);
    if (d instanceof Float64Array) throw new Error('cpu backend: float64 storage is not supported');
    return d.slice();
  }
  async read(buf: Buf): Promise<Float32Array | Int32Array> { return this.readSync(buf); }
  async sync(): Promise<void> {}

  // ---- core kernels ----
  fill(out: Buf, value: number): void { data(out).fill(value); }

  copy(x: View, out: Buf, into?: Placement): void {
    if (into) this.addon.copy(data(x.buf), x.shape, x.strides, x.offset, data(out), into.strides, into.offset);
    else this.addon.copy(data(x.buf), x.shape, x.strides, x.offset, data(out));
  }

  unary(op: UnaryOp, x: View, out: Buf, alpha: number): void {
    this.addon.unary(codeOf('unary', op), data(x.buf), x.shape, x.strides, x.offset, data(out), alpha);
  }

  binary(op: BinaryOp, a: View, b: View, out: Buf): void {
    this.addon.binary(codeOf('binary', op), a.shape, data(a.buf), a.strides, a.offset,
      data(b.buf), b.strides, b.offset, data(out));
  }

  where(cond: View, a: View, b: View, out: Buf): void {
    this.addon.where(cond.shape, data(cond.buf), cond.strides, cond.offset, data(a.buf), a.strides, a.offset,
      data(b.buf), b.strides, b.offset, data(out));
  }

  reduce(op: ReduceOp, x: Buf, outer: number, size: number, inner: number, out: Buf): void {
    this.addon.reduce(codeOf('reduce', op), data(x), outer, size, inner, data(out));
  }

  // The records are packed into one array per record kind: the addon copies a record before it returns.
  private readonly matmulSlots = new Float64Array(slotCount(RECORDS.matmul));
  private readonly lstmSlots = new Float64Array(slotCount(RECORDS.lstm));
  private readonly adamSlots = new Float64Array(slotCount(RECORDS.adam));
  private readonly sgdSlots = new Float64Array(slotCount(RECORDS.sgd));
  private readonly batchnormSlots = new Float64Array(slotCount(RECORDS.batchnorm));

  matmul(a: View, b: View, out: Buf, p: MatmulParams): void {
    this.addon.matmul(data(a.buf), data(b.buf), data(out), p.bias ? data(p.bias) : undefined,
      packSlots('matmul', matmulRecord(this.name, a, b, p), this.matmulSlots));
  }

  gather(x: View, axis: number, idx: View, out: Buf, outShape: readonly number[]): void {
    this.addon.gather(data(x.buf), x.shape, x.strides, x.offset, axis, data(idx.buf), idx.strides, idx.offset,
      data(out), outShape);
  }

  scatterAdd(out: Buf, outShape: readonly number[], axis: number, idx: View, src: View): void {
    this.addon.scatterAdd(data(out), outShape, axis, data(idx.buf), idx.strides, idx.offset, data(src.buf), src.shape,
      src.strides, src.offset);
  }

  // ---- signature kernels (src/backend/cpu/signature.ts) ----
  spmm(a: Csr, x: Buf, F: number, out: Buf): void { sig.spmm(this.addon, a, x, F, out); }
  sddmm(a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void { sig.sddmm(this.addon, a, x, y, H, F, out); }
  edgeSoftmax(a: Csr, scores: Buf, H: number, out: Buf): void { sig.edgeSoftmax(this.addon, a, scores, H, out); }
  edgeSoftmaxBackward(a: Csr, y: Buf, g: Buf, H: number, out: Buf): void {
    sig.edgeSoftmaxBackward(this.addon, a, y, g, H, out);
  }
  cmdMoments(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf): void {
    sig.cmdMoments(this.addon, x, n, d, k, mean, moments);
  }
  cmdMomentsBackward(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf, gMean: Buf, gMoments: Buf,
    out: Buf): void {
    sig.cmdMomentsBackward(this.addon, x, n, d, k, mean, moments, gMean, gMoments, out);
  }
  conv(x: Buf, w: Buf, bias: Buf | undefined, out: Buf, p: ConvParams): void { sig.conv(this.addon, x, w, bias, out, p); }
  convBackwardInput(gy: Buf, w: Buf, gx: Buf, p: ConvParams): void { sig.convBackwardInput(this.addon, gy, w, gx, p); }
  convBackwardWeight(x: Buf, gy: Buf, gw: Buf, p: ConvParams): void { sig.convBackwardWeight(this.addon, x, gy, gw, p); }
  maxPool(x: Buf, out: Buf, argmax: Buf, p: PoolParams): void { sig.maxPool(this.addon, x, out, argmax, p); }
  avgPool(x: Buf, out: Buf, p: PoolParams): void { sig.avgPool(this.addon, x, out, p); }
  avgPoolBackward(gy: Buf, gx: Buf, p: PoolParams): void { sig.avgPoolBackward(this.addon, gy, gx, p); }

  nms(boxes: Buf, scores: Buf, groups: Buf, count: number, iouThreshold: number, keep: Buf): void {
    this.addon.nms(data(boxes), data(scores), data(groups), iouThreshold, data(keep));
  }

  argsort(x: Buf, outer: number, size: number, inner: number, descending: boolean, out: Buf): void {
    this.addon.argsort(data(x), outer, size, inner, descending, data(out));
  }

  cumulative(op: ScanOp, x: Buf, outer: number, size: number, inner: number, reverse: boolean, out: Buf): void {
    this.addon.cumulative(op, data(x), outer, size, inner, reverse, data(out));
  }

  lstmForward(gatesIn: Buf, weightHh: Buf, h0: Buf, c0: Buf, states: Buf, gates: Buf, p: LstmParams): void {
    this.addon.lstmForward(data(gatesIn), data(weightHh), data(h0), data(c0), data(states), data(gates), packSlots('lstm', p, this.lstmSlots));
  }
  lstmBackward(weightHh: Buf, c0: Buf, gates: Buf, states: Buf, gradStates: Buf, gradGates: Buf, gradH0: Buf,
    gradC0: Buf, p: LstmParams): void {
    this.addon.lstmBackward(data(weightHh), data(c0), data(gates), data(states), data(gradStates), data(gradGates),
      data(gradH0), data(gradC0), packSlots('lstm', p, this.lstmSlots));
  }

  adamUpdate(param: Buf, grad: Buf, expAvg: Buf, expAvgSq: Buf, p: AdamParams): void {
    this.addon.adamUpdate(data(param), data(grad), data(expAvg), data(expAvgSq), packSlots('adam', p, this.adamSlots));
  }
  sgdUpdate(param: Buf, grad: Buf, momentumBuffer: Buf, p: SgdParams): void {
    this.addon.sgdUpdate(data(param), data(grad), data(momentumBuffer), packSlots('sgd', p, this.sgdSlots));
  }

  batchNormForward(x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, out: Buf, stats: Buf, p: BatchnormParams): void {
    this.addon.batchNormForward(data(x), data(weight), data(bias), addend && data(addend), data(out), data(stats),
      packSlots('batchnorm', p, this.batchnormSlots));
  }
  batchNormBackward(gOut: Buf, x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, stats: Buf, gx: Buf, sums: Buf,
    gz: Buf | undefined, p: BatchnormParams): void {
    this.addon.batchNormBackward(data(gOut), data(x), data(weight), data(bias), addend && data(addend), data(stats),
      data(gx), data(sums), gz && data(gz), packSlots('batchnorm', p, this.batchnormSlots));
  }
}
