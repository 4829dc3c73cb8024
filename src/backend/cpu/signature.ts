// The signature kernels of the cpu backend: thin calls into the native addon
// (native/cpu/spmm.cc, cmd.cc, conv.cc, pool.cc). Each function takes the addon
// first, then exactly the Backend method's parameters. The native side checks
// every size and index before it touches memory.
import type { Buf, ConvParams, Csr, PoolParams } from '../interface.js';
import { packSlots } from '../../schema.js';
import { hostData, type HostArray } from '../hostbuf.js';

type Values = HostArray | null;

/** The native functions behind this file. A CSR matrix travels as
 *  (rows, cols, nnz, rowPtr, colIdx, values | null); conv and pool parameters as
 *  their schema records (tsr_conv_params, tsr_pool_params) packed by packSlots. */
export interface SignatureAddon {
  spmm(rows: number, cols: number, nnz: number, rowPtr: HostArray, colIdx: HostArray, values: Values,
    F: number, x: HostArray, out: HostArray): void;
  sddmm(rows: number, cols: number, nnz: number, rowPtr: HostArray, colIdx: HostArray, values: Values,
    H: number, F: number, x: HostArray, y: HostArray, out: HostArray): void;
  edgeSoftmax(rows: number, cols: number, nnz: number, rowPtr: HostArray, colIdx: HostArray, values: Values,
    H: number, scores: HostArray, out: HostArray): void;
  edgeSoftmaxBackward(rows: number, cols: number, nnz: number, rowPtr: HostArray, colIdx: HostArray,
    values: Values, H: number, y: HostArray, g: HostArray, out: HostArray): void;
  cmdMoments(x: HostArray, n: number, d: number, k: number, mean: HostArray, moments: HostArray): void;
  cmdMomentsBackward(x: HostArray, n: number, d: number, k: number, mean: HostArray, moments: HostArray,
    gMean: HostArray, gMoments: HostArray, out: HostArray): void;
  conv(x: HostArray, w: HostArray, bias: Values, out: HostArray, record: Float64Array): void;
  convBackwardInput(gy: HostArray, w: HostArray, gx: HostArray, record: Float64Array): void;
  convBackwardWeight(x: HostArray, gy: HostArray, gw: HostArray, record: Float64Array): void;
  maxPool(x: HostArray, out: HostArray, argmax: HostArray, record: Float64Array): void;
  avgPool(x: HostArray, out: HostArray, record: Float64Array): void;
  avgPoolBackward(gy: HostArray, gx: HostArray, record: Float64Array): void;
}

/** The CSR structure as the native calls take it; values only where the kernel uses them. */
function csrArgs(a: Csr, withValues: boolean): [number, number, number, HostArray, HostArray, Values] {
  return [a.rows, a.cols, a.nnz, hostData(a.rowPtr), hostData(a.colIdx),
    withValues && a.values ? hostData(a.values) : null];
}

/** The conv record; the cpu multiplies in float32. */
const convRecord = (p: ConvParams): Float64Array => packSlots('conv', { ...p, precision: 'float32' });
const poolRecord = (p: PoolParams): Float64Array => packSlots('pool', p);

export function spmm(addon: SignatureAddon, a: Csr, x: Buf, F: number, out: Buf): void {
  addon.spmm(...csrArgs(a, true), F, hostData(x), hostData(out));
}

export function sddmm(addon: SignatureAddon, a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void {
  addon.sddmm(...csrArgs(a, false), H, F, hostData(x), hostData(y), hostData(out));
}

export function edgeSoftmax(addon: SignatureAddon, a: Csr, scores: Buf, H: number, out: Buf): void {
  addon.edgeSoftmax(...csrArgs(a, false), H, hostData(scores), hostData(out));
}

export function edgeSoftmaxBackward(addon: SignatureAddon, a: Csr, y: Buf, g: Buf, H: number, out: Buf): void {
  addon.edgeSoftmaxBackward(...csrArgs(a, false), H, hostData(y), hostData(g), hostData(out));
}

export function cmdMoments(addon: SignatureAddon, x: Buf, n: number, d: number, k: number, mean: Buf,
  moments: Buf): void {
  addon.cmdMoments(hostData(x), n, d, k, hostData(mean), hostData(moments));
}

export function cmdMomentsBackward(addon: SignatureAddon, x: Buf, n: number, d: number, k: number, mean: Buf,
  moments: Buf, gMean: Buf, gMoments: Buf, out: Buf): void {
  addon.cmdMomentsBackward(hostData(x), n, d, k, hostData(mean), hostData(moments), hostData(gMean),
    hostData(gMoments), hostData(out));
}

export function conv(addon: SignatureAddon, x: Buf, w: Buf, bias: Buf | undefined, out: Buf, p: ConvParams): void {
  addon.conv(hostData(x), hostData(w), bias ? hostData(bias) : null, hostData(out), convRecord(p));
}

export function convBackwardInput(addon: SignatureAddon, gy: Buf, w: Buf, gx: Buf, p: ConvParams): void {
  addon.convBackwardInput(hostData(gy), hostData(w), hostData(gx), convRecord(p));
}

export function convBackwardWeight(addon: SignatureAddon, x: Buf, gy: Buf, gw: Buf, p: ConvParams): void {
  addon.convBackwardWeight(hostData(x), hostData(gy), hostData(gw), convRecord(p));
}

export function maxPool(addon: SignatureAddon, x: Buf, out: Buf, argmax: Buf, p: PoolParams): void {
  addon.maxPool(hostData(x), hostData(out), hostData(argmax), poolRecord(p));
}

export function avgPool(addon: SignatureAddon, x: Buf, out: Buf, p: PoolParams): void {
  addon.avgPool(hostData(x), hostData(out), poolRecord(p));
}

export function avgPoolBackward(addon: SignatureAddon, gy: Buf, gx: Buf, p: PoolParams): void {
  addon.avgPoolBackward(hostData(gy), hostData(gx), poolRecord(p));
}
