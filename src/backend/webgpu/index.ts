// The `webgpu` backend: every kernel of the Backend interface in hand-written
// WGSL (kernels/wgsl/*.wgsl), in Node through Dawn (the `webgpu` package) or
// in a browser through navigator.gpu. See runtime.ts for batching and for how
// GPU errors reach the caller (on the next sync() or read()).
//
// Departures forced by the GPU:
//  - gather cannot throw on an out-of-range index (nothing is read back):
//    it writes 0 there, scatterAdd skips such elements, and the kernel
//    raises a flag that the next read() or sync() turns into an Error
//    naming the op (runtime.ts, indexCheckSlot).
//  - scatterAdd on float32 adds through a compare-exchange loop on the
//    float's bits, so the order of colliding adds, and with it the last bits
//    of a sum, may vary between runs.
//  - cmdMoments supports k <= 8.

import type {
  AdamParams, SgdParams,
  Backend, BatchnormParams, BinaryOp, Buf, ConvParams, Csr, DType, LstmParams, MatmulParams, Placement, PoolParams, ReduceOp, ScanOp,
  UnaryOp, View,
} from '../interface.js';
import { codeOf, packWgsl } from '../../schema.js';
import { matmulRecord } from '../records.js';
import { GpuRuntime, Params, type Dispatch } from './runtime.js';
import { prelude, type Kernel } from './shaders.js';

export class WebGpuBuf implements Buf {
  freed = false;
  constructor(readonly size: number, readonly dtype: DType, readonly gpu: GPUBuffer, readonly owner: GpuRuntime) {}
}

const WG = 256;              // workgroup size of the 1-D kernels (common.wgsl)
const GEMM_TILE = 64;        // gemm.wgsl
const CMD_COLUMNS = 16;      // cmd.wgsl
const CMD_MAX_ORDER = 8;
const MAX_RANK = 8;          // strided maps (common.wgsl)
const SPMM_MAX_LANES = 64;
const NMS_MAX_WORDS = 4096; // nms.wgsl
const LSTM_STEPS_PER_RUN = 64; // lstm.wgsl's per-step dispatches recorded per run (their parameters share one arena)

const CONV_PASS = { forward: 0, backwardInput: 1, backwardWeight: 2 } as const; // CONV_* in conv.wgsl
const RECORD_BINDING = { matmul: 5, conv: 5, pool: 4, lstm: 1, adam: 1, sgd: 6, batchnorm: 1 } as const;               // where the families bind their record

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
  return strides;
}

/** Drops unit dims and merges dims that are contiguous in every operand, so
 *  dense operands run as rank 1 and higher ranks fit the shaders' 8 dims. */
function mergeDims(shape: readonly number[], strides: readonly (readonly number[])[]):
  { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => { outStrides[k][last] = s[d]; });
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

interface StridedOperand { offset: number; strides: readonly number[] }

/** The strided parameter layout of common.wgsl over `shape`, for up to three operands. */
function stridedParams(op: string, shape: readonly number[], operands: readonly StridedOperand[]): Params {
  const merged = mergeDims(shape, operands.map((o) => o.strides));
  if (merged.shape.length > MAX_RANK) {
    throw new Error(`webgpu ${op}: shape [${shape.join(', ')}] with these strides needs ${merged.shape.length} dims; ` +
      `the kernels take ${MAX_RANK} (make an operand contiguous first)`);
  }
  const p = new Params().u32(product(shape), merged.shape.length);
  for (let d = 0; d < MAX_RANK; d++) p.u32(merged.shape[d] ?? 1);
  for (let k = 0; k < 3; k++) {
    p.i32(operands[k]?.offset ?? 0);
    for (let d = 0; d < MAX_RANK; d++) p.i32(merged.strides[k]?.[d] ?? 0);
  }
  return p;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly syncRead = false;

  /**
   * @param reportExternal tells the JavaScript engine how many bytes of device buffers a GPUBuffer stands for
   *   (+ at alloc, - at free): a GPUBuffer is a small object to V8, and without this a loop that drops tensors
   *   without dispose() would give the collector no reason to run. Node passes the addon's adjustExternalMemory.
   */
  constructor(private readonly gpu: GpuRuntime, private readonly reportExternal?: (deltaBytes: number) => void) {}

  /** The adapter the device runs on (vendor, architecture, device, description), for `tessera info`. */
  get adapterInfo(): GPUAdapterInfo { return this.gpu.device.adapterInfo; }

  /** Destroys the device; the backend is unusable afterwards. Pending work is dropped. */
  destroy(): void { this.gpu.destroy(); }

  // ---- storage ----

  alloc(size: number, dtype: DType): Buf {
    if (!Number.isInteger(size) || size < 0) throw new Error(`webgpu alloc: size ${size} is not a non-negative integer`);
    const bytes = size * 4;
    const limit = Math.min(this.gpu.limits.maxStorageBufferBindingSize, this.gpu.limits.maxBufferSize);
    if (bytes > limit) {
      throw new Error(`webgpu alloc: ${size} ${dtype} elements (${bytes} bytes) exceed the device's ` +
        `largest bindable buffer (${limit} bytes)`);
    }
    const buf = new WebGpuBuf(size, dtype, this.gpu.createStorage(bytes, `${dtype}[${size}]`), this.gpu);
    this.reportExternal?.(bytes);
    return buf;
  }

  /** Freeing twice is a no-op (a finalizer may race an explicit dispose). */
  free(buf: Buf): void {
    if (buf instanceof WebGpuBuf && buf.freed) return;
    const b = this.storage(buf, 'free');
    b.freed = true;
    this.gpu.release(b.gpu);
    this.reportExternal?.(-b.size * 4);
  }

  write(buf: Buf, data: Float32Array | Int32Array): void {
    const b = this.storage(buf, 'write');
    const dtype: DType = data instanceof Float32Array ? 'float32' : 'int32';
    if (dtype !== b.dtype || data.length !== b.size) {
      throw new Error(`webgpu write: ${dtype}[${data.length}] into a ${b.dtype}[${b.size}] buffer`);
    }
    this.gpu.write(b.gpu, data);
  }

  async read(buf: Buf): Promise<Float32Array | Int32Array> {
    const b = this.storage(buf, 'read');
    const bytes = await this.gpu.read(b.gpu, b.size * 4);
    return b.dtype === 'float32' ? new Float32Array(bytes) : new Int32Array(bytes);
  }

  readSync(_buf: Buf): Float32Array | Int32Array {
    throw new Error('webgpu tensors are read with await t.data(): the webgpu backend has no synchronous read');
  }

  sync(): Promise<void> { return this.gpu.sync(); }

  // ---- core kernels ----

  fill(out: Buf, value: number): void {
    const o = this.storage(out, 'fill');
    if (o.size === 0) return;
    const p = new Params().u32(o.size);
    if (o.dtype === 'float32') p.f32(value); else p.i32(value);
    this.launch1d('fill', o.size, this.elementwise('fill', o.dtype), p, [[1, o.gpu]]);
  }

  copy(x: View, out: Buf, into?: Placement): void {
    if (!into) {
      this.strided('copy', 'copy', out, [x], { XA: x.buf.dtype });
      return;
    }
    const o = this.storage(out, 'copy');
    const count = product(x.shape);
    if (count === 0) return;
    let lo = into.offset, hi = into.offset;
    for (let d = 0; d < x.shape.length; d++) {
      const reach = (x.shape[d] - 1) * into.strides[d];
      if (reach < 0) lo += reach; else hi += reach;
    }
    if (into.strides.length !== x.shape.length || lo < 0 || hi >= o.size) {
      throw new Error(`webgpu copy: placing [${x.shape.join(', ')}] at offset ${into.offset} with strides ` +
        `[${into.strides.join(', ')}] leaves the ${o.size}-element out`);
    }
    // The placement rides in the second operand slot of the strided layout; out binds only as the output.
    this.launch1d('copy', count, this.elementwise('copy_into', o.dtype, { XA: x.buf.dtype }),
      stridedParams('copy', x.shape, [x, into]), [[1, o.gpu], [2, this.storage(x.buf, 'copy').gpu]]);
  }

  unary(op: UnaryOp, x: View, out: Buf, alpha: number): void {
    this.strided(`unary ${op}`, x.buf.dtype === 'int32' ? 'unary_int' : 'unary_float', out, [x], { XA: x.buf.dtype },
      codeOf('unary', op), (p) => p.f32(alpha));
  }

  binary(op: BinaryOp, a: View, b: View, out: Buf): void {
    // Integer arithmetic (truncating div) only when the result is int32 too, as the reference.
    const integer = a.buf.dtype === 'int32' && b.buf.dtype === 'int32' && out.dtype === 'int32';
    this.strided(`binary ${op}`, integer ? 'binary_int' : 'binary_float', out, [a, b],
      { XA: a.buf.dtype, XB: b.buf.dtype }, codeOf('binary', op));
  }

  where(cond: View, a: View, b: View, out: Buf): void {
    this.strided('where', 'where_select', out, [cond, a, b], { XA: cond.buf.dtype, XB: a.buf.dtype, XC: b.buf.dtype });
  }

  reduce(op: ReduceOp, x: Buf, outer: number, size: number, inner: number, out: Buf): void {
    const name = `reduce ${op}`;
    const xs = this.storage(x, name);
    const o = this.storage(out, name);
    const outputs = outer * inner;
    this.expectSize(name, 'x', xs, outer * size * inner);
    this.expectSize(name, 'out', o, outputs);
    if (outputs === 0) return;
    const isArg = op === 'argmax' || op === 'argmin';
    const kernel: Kernel = {
      families: ['reduce'],
      prelude: prelude({ T: xs.dtype, TO: isArg ? 'int32' : xs.dtype }, { OP: codeOf('reduce', op) }),
      // Long rows with a small inner extent get a workgroup each; otherwise
      // one invocation per output reads coalesced along inner.
      entry: inner < 16 && size > 64 ? 'reduce_by_workgroup' : 'reduce_by_invocation',
    };
    const p = new Params().u32(outputs, size, inner);
    // Written where max/min reduce nothing (size 0): ±Infinity, which int32
    // storage holds as 0 (JavaScript's ToInt32), as the reference does.
    if (xs.dtype === 'float32') p.f32(op === 'min' ? Infinity : -Infinity);
    else p.i32(0);
    const groups = kernel.entry === 'reduce_by_workgroup' ? outputs : Math.ceil(outputs / WG);
    this.gpu.run(name, [{
      kernel, params: p, bindings: [[1, o.gpu], [2, xs.gpu]], workgroups: this.gpu.grid(groups, name),
    }]);
  }

  matmul(a: View, b: View, out: Buf, mp: MatmulParams): void {
    const name = 'matmul';
    const { batch, M, N } = mp;
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, batch * M * N);
    const record = matmulRecord(this.name, a, b, mp);
    if (a.buf.dtype !== 'float32' || b.buf.dtype !== 'float32' || o.dtype !== 'float32') {
      throw new Error(`webgpu matmul: float32 only (got ${a.buf.dtype} @ ${b.buf.dtype} -> ${o.dtype})`);
    }
    if (o.size === 0) return;
    const bias = mp.bias ? this.storage(mp.bias, name) : null;
    if (bias) this.expectSize(name, 'bias', bias, N);
    this.gemm(name, 'matmul', '', new Params().u32(M, N, mp.K), packWgsl('matmul', record), M, N, batch, o.gpu,
      this.storage(a.buf, name).gpu, this.storage(b.buf, name).gpu, bias?.gpu);
  }

  gather(x: View, axis: number, idx: View, out: Buf, outShape: readonly number[], op = 'gather'): void {
    const name = 'gather';
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, product(outShape));
    if (o.size === 0) return;
    const xStrides = [...x.strides];
    xStrides[axis] = 0;
    const p = stridedParams(name, outShape, [idx, { offset: x.offset, strides: xStrides }])
      .i32(x.strides[axis]).u32(x.shape[axis]).u32(this.gpu.indexCheckSlot(op));
    this.launch1d(name, o.size, this.indexKernel('gather', o.dtype, idx.buf.dtype), p,
      [[1, o.gpu], [2, this.storage(x.buf, name).gpu], [3, this.storage(idx.buf, name).gpu], [5, this.gpu.indexErrors]]);
  }

  scatterAdd(out: Buf, outShape: readonly number[], axis: number, idx: View, src: View, op = 'scatterAdd'): void {
    const name = 'scatterAdd';
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, product(outShape));
    const count = product(src.shape);
    if (count === 0) return;
    const outStrides = denseStrides(outShape);
    const target = { offset: 0, strides: outStrides.map((s, d) => (d === axis ? 0 : s)) };
    const p = stridedParams(name, src.shape, [idx, src, target]).i32(outStrides[axis]).u32(outShape[axis])
      .u32(this.gpu.indexCheckSlot(op));
    this.launch1d(name, count, this.indexKernel('scatter_add', o.dtype, idx.buf.dtype), p,
      [[4, o.gpu], [2, this.storage(src.buf, name).gpu], [3, this.storage(idx.buf, name).gpu], [5, this.gpu.indexErrors]]);
  }

  // ---- signature kernels ----

  spmm(a: Csr, x: Buf, F: number, out: Buf): void {
    const name = 'spmm';
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, a.rows * F);
    this.expectSize(name, 'x', this.storage(x, name), a.cols * F);
    if (o.size === 0) return;
    let lanes = 1;
    while (lanes < F && lanes < SPMM_MAX_LANES) lanes *= 2;
    const values = a.values ? this.storage(a.values, name).gpu : this.gpu.ones;
    const p = new Params().u32(a.rows, F, lanes, a.values ? 1 : 0);
    this.gpu.run(name, [{
      kernel: { families: ['spmm'], prelude: '', entry: 'spmm' },
      params: p,
      bindings: [[1, o.gpu], ...this.csrBindings(name, a), [4, values], [5, this.storage(x, name).gpu]],
      workgroups: this.gpu.grid(Math.ceil(a.rows / (WG / lanes)), name),
    }]);
  }

  sddmm(a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void {
    const name = 'sddmm';
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, a.nnz * H);
    this.expectSize(name, 'x', this.storage(x, name), a.rows * H * F);
    this.expectSize(name, 'y', this.storage(y, name), a.cols * H * F);
    if (o.size === 0) return;
    this.launch1d(name, o.size, { families: ['spmm'], prelude: '', entry: 'sddmm' },
      new Params().u32(o.size, H, F, a.rows),
      [[1, o.gpu], ...this.csrBindings(name, a), [5, this.storage(x, name).gpu], [6, this.storage(y, name).gpu]]);
  }

  edgeSoftmax(a: Csr, scores: Buf, H: number, out: Buf): void {
    this.edgeSoftmaxKernel('edgeSoftmax', 'edge_softmax', a, H, out, [scores]);
  }

  edgeSoftmaxBackward(a: Csr, y: Buf, g: Buf, H: number, out: Buf): void {
    this.edgeSoftmaxKernel('edgeSoftmaxBackward', 'edge_softmax_backward', a, H, out, [y, g]);
  }

  cmdMoments(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf): void {
    const name = 'cmdMoments';
    this.checkOrder(name, k);
    this.expectSize(name, 'x', this.storage(x, name), n * d);
    this.expectSize(name, 'mean', this.storage(mean, name), d);
    this.expectSize(name, 'moments', this.storage(moments, name), (k - 1) * d);
    if (d === 0) return;
    this.gpu.run(name, [{
      kernel: { families: ['cmd'], prelude: '', entry: 'cmd_moments' },
      params: new Params().u32(n, d, k),
      bindings: [[1, this.storage(mean, name).gpu], [2, this.storage(moments, name).gpu], [3, this.storage(x, name).gpu]],
      workgroups: this.gpu.grid(Math.ceil(d / CMD_COLUMNS), name),
    }]);
  }

  cmdMomentsBackward(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf,
    gMean: Buf, gMoments: Buf, out: Buf): void {
    const name = 'cmdMomentsBackward';
    this.checkOrder(name, k);
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, n * d);
    if (o.size === 0) return;
    this.launch1d(name, o.size, { families: ['cmd'], prelude: '', entry: 'cmd_moments_backward' },
      new Params().u32(o.size, d, k, n),
      [[4, o.gpu], [3, this.storage(x, name).gpu], [5, this.storage(mean, name).gpu],
        [6, this.storage(moments, name).gpu], [7, this.storage(gMean, name).gpu],
        [8, this.storage(gMoments, name).gpu]]);
  }

  conv(x: Buf, w: Buf, bias: Buf | undefined, out: Buf, cp: ConvParams): void {
    const name = 'conv';
    const o = this.storage(out, name);
    this.expectSize(name, 'out', o, cp.N * cp.O * cp.oD * cp.oH * cp.oW);
    const b = bias ? this.storage(bias, name) : null;
    const M = cp.O / cp.groups;
    const N = cp.N * cp.oD * cp.oH * cp.oW;
    const K = (cp.C / cp.groups) * cp.kd * cp.kh * cp.kw;
    this.convGemm(name, CONV_PASS.forward, cp, new Params().u32(M, N, K, b ? 1 : 0), M, N,
      o.gpu, this.storage(w, name).gpu, this.storage(x, name).gpu, b?.gpu);
  }

  convBackwardInput(gy: Buf, w: Buf, gx: Buf, cp: ConvParams): void {
    const name = 'convBackwardInput';
    const o = this.storage(gx, name);
    this.expectSize(name, 'gx', o, cp.N * cp.C * cp.D * cp.H * cp.W);
    const M = cp.C / cp.groups;
    const N = cp.N * cp.D * cp.H * cp.W;
    const K = (cp.O / cp.groups) * cp.kd * cp.kh * cp.kw;
    this.convGemm(name, CONV_PASS.backwardInput, cp, new Params().u32(M, N, K, 0), M, N,
      o.gpu, this.storage(w, name).gpu, this.storage(gy, name).gpu);
  }

  convBackwardWeight(x: Buf, gy: Buf, gw: Buf, cp: ConvParams): void {
    const name = 'convBackwardWeight';
    const o = this.storage(gw, name);
    this.expectSize(name, 'gw', o, cp.O * (cp.C / cp.groups) * cp.kd * cp.kh * cp.kw);
    const M = cp.O / cp.groups;
    const N = (cp.C / cp.groups) * cp.kd * cp.kh * cp.kw;
    const K = cp.N * cp.oD * cp.oH * cp.oW;
    this.convGemm(name, CONV_PASS.backwardWeight, cp, new Params().u32(M, N, K, 0), M, N,
      o.gpu, this.storage(gy, name).gpu, this.storage(x, name).gpu);
  }

  maxPool(x: Buf, out: Buf, argmax: Buf, pp: PoolParams): void {
    const name = 'maxPool';
    const o = this.storage(out, name);
    const count = pp.N * pp.C * pp.oD * pp.oH * pp.oW;
    this.expectSize(name, 'out', o, count);
    this.expectSize(name, 'argmax', this.storage(argmax, name), count);
    this.pool(name, 'max_pool', count, pp,
      [[1, o.gpu], [2, this.storage(x, name).gpu], [3, this.storage(argmax, name).gpu]]);
  }

  avgPool(x: Buf, out: Buf, pp: PoolParams): void {
    const name = 'avgPool';
    const o = this.storage(out, name);
    const count = pp.N * pp.C * pp.oD * pp.oH * pp.oW;
    this.expectSize(name, 'out', o, count);
    this.pool(name, 'avg_pool', count, pp, [[1, o.gpu], [2, this.storage(x, name).gpu]]);
  }

  avgPoolBackward(gy: Buf, gx: Buf, pp: PoolParams): void {
    const name = 'avgPoolBackward';
    const o = this.storage(gx, name);
    const count = pp.N * pp.C * pp.D * pp.H * pp.W;
    this.expectSize(name, 'gx', o, count);
    this.pool(name, 'avg_pool_backward', count, pp, [[1, o.gpu], [2, this.storage(gy, name).gpu]]);
  }

  nms(boxes: Buf, scores: Buf, groups: Buf, count: number, iouThreshold: number, keep: Buf): void {
    const name = 'nms';
    const words = Math.ceil(count / 32);
    if (words > NMS_MAX_WORDS) throw new Error(`webgpu nms: ${count} boxes, at most ${NMS_MAX_WORDS * 32} fit the kernel's workgroup memory`);
    this.expectSize(name, 'boxes', this.storage(boxes, name), 4 * count);
    this.expectSize(name, 'scores', this.storage(scores, name), count);
    this.expectSize(name, 'groups', this.storage(groups, name), count);
    const k = this.storage(keep, name);
    this.expectSize(name, 'keep', k, count + 1);
    const order = this.gpu.createStorage(4 * count, 'nms order'), mask = this.gpu.createStorage(4 * count * words, 'nms mask');
    const kernel = (entry: string) => ({ families: ['nms'] as const, prelude: '', entry });
    const params = () => new Params().u32(count, words).f32(iouThreshold);
    const inputs: [number, GPUBuffer][] = [[1, this.storage(boxes, name).gpu], [2, this.storage(scores, name).gpu], [3, this.storage(groups, name).gpu]];
    this.gpu.run(name, [
      { kernel: kernel('nms_rank'), params: params(), bindings: [inputs[1], [4, order]], workgroups: this.gpu.grid(Math.ceil(count / WG), name) },
      { kernel: kernel('nms_mask'), params: params(), bindings: [inputs[0], inputs[2], [4, order], [5, mask]], workgroups: this.gpu.grid(Math.ceil(count * words / WG), name) },
      { kernel: kernel('nms_scan'), params: params(), bindings: [[4, order], [5, mask], [6, k.gpu]], workgroups: [1, 1, 1] },
    ]);
    this.gpu.release(order);
    this.gpu.release(mask);
  }

  lstmForward(gatesIn: Buf, weightHh: Buf, h0: Buf, c0: Buf, states: Buf, gates: Buf, lp: LstmParams): void {
    const name = 'lstmForward';
    const bindings = this.lstmBindings(name, lp, { gatesIn: [2, gatesIn], weightHh: [3, weightHh], h0: [4, h0], c0: [5, c0],
      states: [6, states], gates: [7, gates] });
    this.lstmSteps(name, 'lstm_forward_step', lp, bindings, Array.from({ length: lp.T }, (_, k) => k));
  }

  lstmBackward(weightHh: Buf, c0: Buf, gates: Buf, states: Buf, gradStates: Buf, gradGates: Buf, gradH0: Buf,
    gradC0: Buf, lp: LstmParams): void {
    const name = 'lstmBackward';
    const bindings = this.lstmBindings(name, lp, { weightHh: [3, weightHh], c0: [5, c0], states: [6, states], gates: [7, gates],
      gradStates: [8, gradStates], gradGates: [9, gradGates], gradH0: [10, gradH0], gradC0: [11, gradC0] });
    if (lp.T === 0) {
      this.fill(gradH0, 0);
      this.fill(gradC0, 0);
      return;
    }
    this.lstmSteps(name, 'lstm_backward_step', lp, bindings.filter(([n]) => n !== 10), Array.from({ length: lp.T }, (_, k) => lp.T - 1 - k));
    this.lstmSteps(name, 'lstm_backward_h0', lp, bindings.filter(([n]) => [3, 9, 10].includes(n)), [0]);
  }

  batchNormForward(x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, out: Buf, stats: Buf, bp: BatchnormParams): void {
    const name = 'batchNormForward';
    this.batchNorm(name, 'batchnorm_forward', bp, addend !== undefined, false, { x: [2, x], weight: [3, weight], bias: [4, bias],
      addend: [5, addend ?? x], out: [6, out], stats: [7, stats] });
  }

  batchNormBackward(gOut: Buf, x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, stats: Buf, gx: Buf, sums: Buf,
    gz: Buf | undefined, bp: BatchnormParams): void {
    const name = 'batchNormBackward';
    this.batchNorm(name, 'batchnorm_backward', bp, addend !== undefined, gz !== undefined, { x: [2, x], weight: [3, weight],
      bias: [4, bias], addend: [5, addend ?? x], stats: [7, stats], gOut: [8, gOut], gx: [9, gx], sums: [10, sums], gz: [11, gz] });
  }

  /** One workgroup per channel runs `entry` (batchnorm.wgsl) over the buffers checked against their sizes; an absent
   *  addend is stood in for by x (read-only bindings may alias) and an absent gz by a 4-byte buffer never written. */
  private batchNorm(op: string, entry: string, bp: BatchnormParams, hasAddend: boolean, hasGz: boolean,
    bufs: Record<string, [number, Buf | undefined]>): void {
    const size = bp.outer * bp.channels * bp.inner;
    const sizes: Record<string, number> = { x: size, addend: size, out: size, gOut: size, gx: size, gz: size,
      weight: bp.channels, bias: bp.channels, stats: 2 * bp.channels, sums: 2 * bp.channels };
    const bindings = Object.entries(bufs).map(([role, [binding, buf]]): [number, GPUBuffer] => {
      if (!buf) return [binding, this.gpu.ones];
      const b = this.storage(buf, op);
      this.expectSize(op, role, b, sizes[role]);
      return [binding, b.gpu];
    });
    if (bp.channels === 0) return;
    this.gpu.run(op, [{
      kernel: { families: ['batchnorm'], prelude: '', entry }, params: new Params().u32(hasAddend ? 1 : 0, hasGz ? 1 : 0),
      bindings, record: [RECORD_BINDING.batchnorm, packWgsl('batchnorm', bp)], workgroups: this.gpu.grid(bp.channels, op),
    }]);
  }

  /** The lstm buffers checked against their sizes (lstm.wgsl's bindings, named by the interface's roles). */
  private lstmBindings(op: string, lp: LstmParams, bufs: Record<string, [number, Buf]>): [number, GPUBuffer][] {
    const { T, B, H } = lp;
    const sizes: Record<string, number> = {
      gatesIn: T * B * 4 * H, gates: T * B * 4 * H, gradGates: T * B * 4 * H, weightHh: 4 * H * H,
      h0: B * H, c0: B * H, gradH0: B * H, gradC0: B * H, states: 2 * T * B * H, gradStates: 2 * T * B * H,
    };
    return Object.entries(bufs).map(([role, [binding, buf]]) => {
      const b = this.storage(buf, op);
      this.expectSize(op, role, b, sizes[role]);
      return [binding, b.gpu];
    });
  }

  /** One dispatch of `entry` per step in `steps` (P[0] = the step), over the B x H cells. */
  private lstmSteps(op: string, entry: string, lp: LstmParams, bindings: [number, GPUBuffer][], steps: number[]): void {
    if (lp.B * lp.H === 0) return;
    const record: [number, ArrayBuffer] = [RECORD_BINDING.lstm, packWgsl('lstm', lp)];
    const workgroups = this.gpu.grid(Math.ceil(lp.B * lp.H / WG), op);
    for (let s = 0; s < steps.length; s += LSTM_STEPS_PER_RUN) {
      this.gpu.run(op, steps.slice(s, s + LSTM_STEPS_PER_RUN).map((k) => ({
        kernel: { families: ['lstm'], prelude: '', entry }, params: new Params().u32(k), bindings, record, workgroups,
      })));
    }
  }

  argsort(x: Buf, outer: number, size: number, inner: number, descending: boolean, out: Buf): void {
    const name = 'argsort';
    const o = this.storage(out, name);
    this.expectSize(name, 'x', this.storage(x, name), outer * size * inner);
    this.expectSize(name, 'out', o, outer * size * inner);
    if (o.size === 0) return;
    this.launch1d(name, o.size, { families: ['sort'], prelude: '', entry: 'argsort_rank' },
      new Params().u32(o.size, size, inner, descending ? 1 : 0), [[1, this.storage(x, name).gpu], [2, o.gpu]]);
  }

  cumulative(op: ScanOp, x: Buf, outer: number, size: number, inner: number, reverse: boolean, out: Buf): void {
    const name = `cumulative ${op}`;
    const xs = this.storage(x, name), o = this.storage(out, name);
    this.expectSize(name, 'x', xs, outer * size * inner);
    this.expectSize(name, 'out', o, outer * size * inner);
    if (xs.dtype !== o.dtype) throw new Error(`webgpu ${name}: out is ${o.dtype}, x is ${xs.dtype}`);
    const lines = outer * inner;
    if (lines === 0 || size === 0) return;
    this.launch1d(name, lines, { families: ['scan'], prelude: prelude({ T: xs.dtype }, { OP: codeOf('reduce', op) }), entry: 'cumulative' },
      new Params().u32(lines, size, inner, reverse ? 1 : 0), [[1, xs.gpu], [2, o.gpu]]);
  }

  adamUpdate(param: Buf, grad: Buf, expAvg: Buf, expAvgSq: Buf, ap: AdamParams): void {
    this.optimizerUpdate('adamUpdate', 'adam_update', ap.n, { param, grad, expAvg, expAvgSq },
      [RECORD_BINDING.adam, packWgsl('adam', ap)]);
  }

  sgdUpdate(param: Buf, grad: Buf, momentumBuffer: Buf, sp: SgdParams): void {
    this.optimizerUpdate('sgdUpdate', 'sgd_update', sp.n, { param, grad, momentumBuffer },
      [RECORD_BINDING.sgd, packWgsl('sgd', sp)]);
  }

  // ---- helpers ----

  /** An optimizer update (optim.wgsl) over n elements: its operands, in the order of their bindings from 2, are
   *  distinct float32 buffers of n elements (one buffer bound twice, once writable, fails validation). */
  private optimizerUpdate(op: string, entry: string, n: number, operands: Record<string, Buf>,
    record: [number, ArrayBuffer]): void {
    const bufs = Object.entries(operands).map(([role, buf]) => {
      const b = this.storage(buf, op);
      this.expectSize(op, role, b, n);
      if (b.dtype !== 'float32') throw new Error(`webgpu ${op}: ${role} is ${b.dtype}, expected float32`);
      return b;
    });
    if (new Set(bufs).size !== bufs.length) throw new Error(`webgpu ${op}: an operand is given twice`);
    if (n === 0) return;
    this.launch1d(op, n, { families: ['optim'], prelude: '', entry }, new Params().u32(n),
      bufs.map((b, k) => [2 + k, b.gpu] as const), record);
  }

  private storage(buf: Buf, op: string): WebGpuBuf {
    if (!(buf instanceof WebGpuBuf) || buf.owner !== this.gpu) {
      throw new Error(`webgpu ${op}: the buffer belongs to another backend (${buf.constructor.name})`);
    }
    if (buf.freed) throw new Error(`webgpu ${op}: the ${buf.dtype}[${buf.size}] buffer was freed`);
    return buf;
  }

  private expectSize(op: string, role: string, buf: WebGpuBuf, size: number): void {
    if (buf.size !== size) throw new Error(`webgpu ${op}: ${role} has ${buf.size} elements, expected ${size}`);
  }

  private elementwise(entry: string, out: DType, operands: Readonly<Record<string, DType>> = {}, op = 0): Kernel {
    // Unused operand aliases still need a type.
    const aliases = { TO: out, TA: operands.XA ?? 'float32', TB: operands.XB ?? 'float32', TC: operands.XC ?? 'float32' };
    return { families: ['elementwise'], prelude: prelude(aliases, { OP: op }), entry };
  }

  private indexKernel(entry: string, data: DType, index: DType): Kernel {
    return {
      families: ['index'],
      prelude: prelude({ T: data, TI: index }, { IS_FLOAT: data === 'float32' }),
      entry,
    };
  }

  /** An elementwise map over views of out's shape; operands bind to XA, XB, XC. */
  private strided(op: string, entry: string, out: Buf, views: readonly View[],
    dtypes: Readonly<Record<string, DType>>, code = 0, extras?: (p: Params) => void): void {
    const o = this.storage(out, op);
    const shape = views[0].shape;
    this.expectSize(op, 'out', o, product(shape));
    for (const v of views) {
      if (v.shape.length !== shape.length || v.shape.some((s, d) => s !== shape[d])) {
        throw new Error(`webgpu ${op}: operand shape [${v.shape.join(', ')}] differs from [${shape.join(', ')}]`);
      }
    }
    if (o.size === 0) return;
    const p = stridedParams(op, shape, views);
    extras?.(p);
    this.launch1d(op, o.size, this.elementwise(entry, o.dtype, dtypes, code), p,
      [[1, o.gpu], ...views.map((v, k) => [2 + k, this.storage(v.buf, op).gpu] as const)]);
  }

  private launch1d(op: string, threads: number, kernel: Kernel, params: Params,
    bindings: Dispatch['bindings'], record?: Dispatch['record']): void {
    this.gpu.run(op, [{ kernel, params, bindings, record, workgroups: this.gpu.grid(Math.ceil(threads / WG), op) }]);
  }

  /** The GEMM core (gemm.wgsl) with loader family `loaders`, over `batches` products of M x N. */
  private gemm(op: string, loaders: 'matmul' | 'conv', variant: string, params: Params, record: ArrayBuffer, M: number,
    N: number, batches: number, c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, bias?: GPUBuffer): void {
    if (M === 0 || N === 0 || batches === 0) return;
    const workgroups: [number, number, number] = [Math.ceil(N / GEMM_TILE), Math.ceil(M / GEMM_TILE), batches];
    const limit = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups.some((g) => g > limit)) {
      throw new Error(`webgpu ${op}: a ${M} x ${N} product over ${batches} batches needs ` +
        `[${workgroups.join(', ')}] workgroups; the device allows ${limit} per dimension`);
    }
    this.gpu.run(op, [{
      kernel: { families: ['gemm', loaders], prelude: variant, entry: 'gemm' },
      params,
      record: [RECORD_BINDING[loaders], record],
      bindings: [[1, c], [2, a], [3, b], [4, bias ?? this.gpu.ones]],
      workgroups,
    }]);
  }

  /** One pass of the convolution (a CONV_PASS) on the GEMM core, one product per group. */
  private convGemm(op: string, pass: number, cp: ConvParams, params: Params, M: number, N: number,
    c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, bias?: GPUBuffer): void {
    this.gemm(op, 'conv', prelude({}, { VARIANT: pass }), params, packWgsl('conv', { ...cp, precision: 'float32' }),
      M, N, cp.groups, c, a, b, bias);
  }

  private pool(op: string, entry: string, count: number, pp: PoolParams, bindings: Dispatch['bindings']): void {
    if (count === 0) return;
    this.launch1d(op, count, { families: ['pool'], prelude: '', entry }, new Params().u32(count), bindings,
      [RECORD_BINDING.pool, packWgsl('pool', pp)]);
  }

  private csrBindings(op: string, a: Csr): [number, GPUBuffer][] {
    return [[2, this.storage(a.rowPtr, op).gpu], [3, this.storage(a.colIdx, op).gpu]];
  }

  private edgeSoftmaxKernel(op: string, entry: string, a: Csr, H: number, out: Buf, inputs: readonly Buf[]): void {
    const o = this.storage(out, op);
    this.expectSize(op, 'out', o, a.nnz * H);
    for (const input of inputs) this.expectSize(op, 'input', this.storage(input, op), a.nnz * H);
    const count = a.rows * H;
    if (o.size === 0 || count === 0) return;
    this.launch1d(op, count, { families: ['spmm'], prelude: '', entry }, new Params().u32(count, H),
      [[1, o.gpu], [2, this.storage(a.rowPtr, op).gpu], ...inputs.map((b, k) => [5 + k, this.storage(b, op).gpu] as const)]);
  }

  private checkOrder(op: string, k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > CMD_MAX_ORDER) {
      throw new Error(`webgpu ${op}: moment order k = ${k}; the kernel supports 1..${CMD_MAX_ORDER}`);
    }
  }
}

/** Opens the default adapter (Dawn on Vulkan in Node, navigator.gpu in a
 *  browser); throws a message naming what to install when there is none. */
export async function createWebGpuBackend(reportExternal?: (deltaBytes: number) => void): Promise<WebGpuBackend> {
  return new WebGpuBackend(await GpuRuntime.create(), reportExternal);
}
