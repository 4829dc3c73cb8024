// The test oracle: plain loops, no tricks. With { float64: true } float32
// tensors are stored and computed in float64, which is what gradient checks
// against finite differences run on. Never the fast path.
import type {
  AdamParams, BatchnormParams, LstmParams, SgdParams,
  Backend, Buf, Csr, ConvParams, DType, MatmulParams, PoolParams, ReduceOp, ScanOp, UnaryOp, BinaryOp, View, Activation,
  Placement,
} from '../interface.js';
import { HostBuf, HostArray, hostData } from '../hostbuf.js';
import { erf } from './erf.js';
import { digamma, floorDivide, lgamma, remainder, trigamma } from './special.js';

/** Offset of every element of a view, in row-major order. */
export function viewOffsets(v: View): Int32Array | Float64Array {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const nd = v.shape.length;
  const idx = new Array(nd).fill(0);
  let off = v.offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++; off += v.strides[d];
      if (idx[d] < v.shape[d]) break;
      off -= v.strides[d] * idx[d]; idx[d] = 0;
    }
  }
  return out;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function unaryFn(op: UnaryOp, alpha: number): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'log1p': return Math.log1p;
    case 'sqrt': return Math.sqrt;
    case 'rsqrt': return (x) => 1 / Math.sqrt(x);
    case 'abs': return Math.abs;
    case 'sign': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'tanh': return Math.tanh;
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'relu': return (x) => (x < 0 ? 0 : x); // NaN stays NaN, as torch
    case 'leakyRelu': return (x) => (x > 0 ? x : alpha * x);
    case 'elu': return (x) => (x > 0 ? x : alpha * (Math.exp(x) - 1));
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x * SQRT1_2));
    case 'geluGrad': return (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'softplus': return (x) => (x > 20 ? x : Math.log1p(Math.exp(x)));
    case 'sin': return Math.sin;
    case 'cos': return Math.cos;
    case 'square': return (x) => x * x;
    case 'reciprocal': return (x) => 1 / x;
    case 'floor': return Math.floor;
    case 'silu': return (x) => x / (1 + Math.exp(-x));
    case 'mish': return (x) => x * Math.tanh(x > 20 ? x : Math.log1p(Math.exp(x)));
    case 'hardswish': return (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    // -softplus(-x), written so that neither large |x| overflows nor small x loses digits.
    case 'logSigmoid': return (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
    case 'erf': return erf;
    case 'atan': return Math.atan;
    case 'ceil': return Math.ceil;
    case 'round': return roundHalfEven;
    case 'trunc': return Math.trunc;
    case 'lgamma': return lgamma;
    case 'digamma': return digamma;
    case 'trigamma': return trigamma;
    case 'isnan': return (x) => +Number.isNaN(x);
    case 'isinf': return (x) => +(x === Infinity || x === -Infinity);
    case 'isfinite': return (x) => +Number.isFinite(x);
  }
}

/** Nearest integer, ties to even (torch.round; Math.round sends ties up). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'minimum': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'maximum': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'eq': return (a, b) => +(a === b);
    case 'ne': return (a, b) => +(a !== b);
    case 'lt': return (a, b) => +(a < b);
    case 'le': return (a, b) => +(a <= b);
    case 'gt': return (a, b) => +(a > b);
    case 'ge': return (a, b) => +(a >= b);
    case 'remainder': return remainder;
    case 'floorDivide': return floorDivide;
    case 'atan2': return Math.atan2;
  }
}

export function activate(act: Activation, x: number): number {
  switch (act) {
    case 'none': return x;
    case 'relu': return x < 0 ? 0 : x;
    case 'gelu': return 0.5 * x * (1 + erf(x * SQRT1_2));
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
  }
}

function int32Division(op: BinaryOp, a: number, b: number, f: (a: number, b: number) => number): number {
  // int32 arithmetic truncates like torch's integer ops (div rounds toward zero here; `floor` is the user's choice).
  const r = f(a, b);
  return op === 'div' || op === 'pow' ? Math.trunc(r) : r;
}

export class ReferenceBackend implements Backend {
  readonly name: string;
  readonly syncRead = true;
  readonly float64: boolean;

  constructor(opts: { float64?: boolean; name?: string } = {}) {
    this.float64 = !!opts.float64;
    this.name = opts.name ?? (this.float64 ? 'reference64' : 'reference');
  }

  private arr(buf: Buf): HostArray { return hostData(buf); }

  alloc(size: number, dtype: DType): Buf {
    const data = dtype === 'int32' ? new Int32Array(size) : this.float64 ? new Float64Array(size) : new Float32Array(size);
    return new HostBuf(data, dtype);
  }
  free(buf: Buf): void { (buf as HostBuf).data = new Float32Array(0); }
  /** Collecting a HostBuf frees its typed array. */
  reclaimer(): undefined { return undefined; }
  write(buf: Buf, data: Float32Array | Int32Array): void { this.arr(buf).set(data); }
  readSync(buf: Buf): Float32Array | Int32Array {
    const d = this.arr(buf);
    return d instanceof Int32Array ? d.slice() : Float32Array.from(d);
  }
  /** The float64 values (the oracle's full precision). */
  readF64(buf: Buf): Float64Array { return Float64Array.from(this.arr(buf)); }
  async read(buf: Buf): Promise<Float32Array | Int32Array> { return this.readSync(buf); }
  async sync(): Promise<void> {}

  fill(out: Buf, value: number): void { this.arr(out).fill(value); }

  copy(x: View, out: Buf, into?: Placement): void {
    const src = this.arr(x.buf), dst = this.arr(out);
    const offs = viewOffsets(x);
    const at = into ? viewOffsets({ buf: out, shape: x.shape, ...into }) : undefined;
    const toInt = out.dtype === 'int32' && x.buf.dtype !== 'int32';
    for (let i = 0; i < offs.length; i++) dst[at ? at[i] : i] = toInt ? Math.trunc(src[offs[i]]) : src[offs[i]];
  }

  unary(op: UnaryOp, x: View, out: Buf, alpha: number): void {
    const f = unaryFn(op, alpha);
    const src = this.arr(x.buf), dst = this.arr(out);
    const offs = viewOffsets(x);
    for (let i = 0; i < offs.length; i++) dst[i] = f(src[offs[i]]);
  }

  binary(op: BinaryOp, a: View, b: View, out: Buf): void {
    const f = binaryFn(op);
    const da = this.arr(a.buf), db = this.arr(b.buf), dst = this.arr(out);
    const oa = viewOffsets(a), ob = viewOffsets(b);
    const intMath = a.buf.dtype === 'int32' && out.dtype === 'int32';
    for (let i = 0; i < oa.length; i++) {
      dst[i] = intMath ? int32Division(op, da[oa[i]], db[ob[i]], f) : f(da[oa[i]], db[ob[i]]);
    }
  }

  where(cond: View, a: View, b: View, out: Buf): void {
    const dc = this.arr(cond.buf), da = this.arr(a.buf), db = this.arr(b.buf), dst = this.arr(out);
    const oc = viewOffsets(cond), oa = viewOffsets(a), ob = viewOffsets(b);
    for (let i = 0; i < oc.length; i++) dst[i] = dc[oc[i]] !== 0 ? da[oa[i]] : db[ob[i]];
  }

  reduce(op: ReduceOp, x: Buf, outer: number, size: number, inner: number, out: Buf): void {
    const src = this.arr(x), dst = this.arr(out);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        let acc: number; let best = 0;
        switch (op) {
          case 'sum': acc = 0; for (let r = 0; r < size; r++) acc += src[base + r * inner]; break;
          case 'prod': acc = 1; for (let r = 0; r < size; r++) acc *= src[base + r * inner]; break;
          case 'max': case 'argmax':
            acc = -Infinity;
            for (let r = 0; r < size; r++) {
              const v = src[base + r * inner];
              if (v > acc || (Number.isNaN(v) && !Number.isNaN(acc))) { acc = v; best = r; }
            }
            break;
          case 'min': case 'argmin':
            acc = Infinity;
            for (let r = 0; r < size; r++) {
              const v = src[base + r * inner];
              if (v < acc || (Number.isNaN(v) && !Number.isNaN(acc))) { acc = v; best = r; }
            }
            break;
        }
        dst[o * inner + i] = op === 'argmax' || op === 'argmin' ? best : acc;
      }
    }
  }

  matmul(a: View, b: View, out: Buf, p: MatmulParams): void {
    const da = this.arr(a.buf), db = this.arr(b.buf), dst = this.arr(out);
    const bias = p.bias ? this.arr(p.bias) : undefined;
    const [sab, sam, sak] = a.strides, [sbb, sbk, sbn] = b.strides;
    for (let bt = 0; bt < p.batch; bt++) {
      for (let m = 0; m < p.M; m++) {
        for (let n = 0; n < p.N; n++) {
          let acc = 0;
          const ao = a.offset + bt * sab + m * sam, bo = b.offset + bt * sbb + n * sbn;
          for (let k = 0; k < p.K; k++) acc += da[ao + k * sak] * db[bo + k * sbk];
          acc = p.alpha * acc + (bias ? bias[n] : 0);
          dst[(bt * p.M + m) * p.N + n] = activate(p.act, acc);
        }
      }
    }
  }

  gather(x: View, axis: number, idx: View, out: Buf, outShape: readonly number[]): void {
    const dx = this.arr(x.buf), di = this.arr(idx.buf), dst = this.arr(out);
    const oi = viewOffsets(idx);
    const nd = outShape.length;
    const pos = new Array(nd).fill(0);
    for (let e = 0; e < oi.length; e++) {
      const j = di[oi[e]];
      if (!(j >= 0 && j < x.shape[axis])) {
        throw new Error(`gather: index ${j} out of range [0, ${x.shape[axis]}) on axis ${axis} (reference)`);
      }
      let off = x.offset;
      for (let d = 0; d < nd; d++) off += (d === axis ? j : pos[d]) * x.strides[d];
      dst[e] = dx[off];
      for (let d = nd - 1; d >= 0; d--) { if (++pos[d] < outShape[d]) break; pos[d] = 0; }
    }
  }

  scatterAdd(out: Buf, outShape: readonly number[], axis: number, idx: View, src: View): void {
    const dst = this.arr(out), di = this.arr(idx.buf), ds = this.arr(src.buf);
    const oi = viewOffsets(idx), os = viewOffsets(src);
    const nd = outShape.length;
    const outStrides = new Array(nd).fill(1);
    for (let d = nd - 2; d >= 0; d--) outStrides[d] = outStrides[d + 1] * outShape[d + 1];
    const pos = new Array(nd).fill(0);
    for (let e = 0; e < oi.length; e++) {
      const j = di[oi[e]];
      if (!(j >= 0 && j < outShape[axis])) {
        throw new Error(`scatterAdd: index ${j} out of range [0, ${outShape[axis]}) on axis ${axis} (reference)`);
      }
      let off = 0;
      for (let d = 0; d < nd; d++) off += (d === axis ? j : pos[d]) * outStrides[d];
      dst[off] += ds[os[e]];
      for (let d = nd - 1; d >= 0; d--) { if (++pos[d] < src.shape[d]) break; pos[d] = 0; }
    }
  }

  // ---- signature kernels ----
  spmm(a: Csr, x: Buf, F: number, out: Buf): void {
    const rp = this.arr(a.rowPtr), ci = this.arr(a.colIdx), vals = a.values ? this.arr(a.values) : undefined;
    const dx = this.arr(x), dst = this.arr(out);
    for (let r = 0; r < a.rows; r++) {
      for (let f = 0; f < F; f++) {
        let acc = 0;
        for (let e = rp[r]; e < rp[r + 1]; e++) acc += (vals ? vals[e] : 1) * dx[ci[e] * F + f];
        dst[r * F + f] = acc;
      }
    }
  }

  sddmm(a: Csr, x: Buf, y: Buf, H: number, F: number, out: Buf): void {
    const rp = this.arr(a.rowPtr), ci = this.arr(a.colIdx), dx = this.arr(x), dy = this.arr(y), dst = this.arr(out);
    for (let r = 0; r < a.rows; r++) {
      for (let e = rp[r]; e < rp[r + 1]; e++) {
        for (let h = 0; h < H; h++) {
          let acc = 0;
          for (let f = 0; f < F; f++) acc += dx[(r * H + h) * F + f] * dy[(ci[e] * H + h) * F + f];
          dst[e * H + h] = acc;
        }
      }
    }
  }

  edgeSoftmax(a: Csr, scores: Buf, H: number, out: Buf): void {
    const rp = this.arr(a.rowPtr), s = this.arr(scores), dst = this.arr(out);
    for (let r = 0; r < a.rows; r++) {
      for (let h = 0; h < H; h++) {
        let mx = -Infinity;
        for (let e = rp[r]; e < rp[r + 1]; e++) mx = Math.max(mx, s[e * H + h]);
        let sum = 0;
        for (let e = rp[r]; e < rp[r + 1]; e++) sum += Math.exp(s[e * H + h] - mx);
        for (let e = rp[r]; e < rp[r + 1]; e++) dst[e * H + h] = Math.exp(s[e * H + h] - mx) / sum;
      }
    }
  }

  edgeSoftmaxBackward(a: Csr, y: Buf, g: Buf, H: number, out: Buf): void {
    const rp = this.arr(a.rowPtr), dy = this.arr(y), dg = this.arr(g), dst = this.arr(out);
    for (let r = 0; r < a.rows; r++) {
      for (let h = 0; h < H; h++) {
        let dot = 0;
        for (let e = rp[r]; e < rp[r + 1]; e++) dot += dy[e * H + h] * dg[e * H + h];
        for (let e = rp[r]; e < rp[r + 1]; e++) dst[e * H + h] = dy[e * H + h] * (dg[e * H + h] - dot);
      }
    }
  }

  cmdMoments(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf): void {
    const dx = this.arr(x), dm = this.arr(mean), dc = this.arr(moments);
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += dx[i * d + c];
      const m = n > 0 ? s / n : 0;
      dm[c] = m;
      for (let j = 2; j <= k; j++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += Math.pow(dx[i * d + c] - m, j);
        dc[(j - 2) * d + c] = n > 0 ? acc / n : 0;
      }
    }
  }

  cmdMomentsBackward(x: Buf, n: number, d: number, k: number, mean: Buf, moments: Buf,
    gMean: Buf, gMoments: Buf, out: Buf): void {
    const dx = this.arr(x), dm = this.arr(mean), dc = this.arr(moments), gm = this.arr(gMean), gc = this.arr(gMoments);
    const dst = this.arr(out);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const u = dx[i * d + c] - dm[c];
        let g = gm[c] / n;
        for (let j = 2; j <= k; j++) {
          const prev = j === 2 ? 0 : dc[(j - 3) * d + c];
          g += gc[(j - 2) * d + c] * (j / n) * (Math.pow(u, j - 1) - prev);
        }
        dst[i * d + c] = g;
      }
    }
  }

  /** Calls fn(n, o, od, oh, ow, c, id, ih, iw, kIndex) for every in-bounds tap of the convolution. */
  private forEachConvTap(p: ConvParams,
    fn: (outIdx: number, inIdx: number, wIdx: number) => void): void {
    const cg = p.C / p.groups, og = p.O / p.groups;
    const [sd, sh, sw] = p.stride, [pd, ph, pw] = p.padding, [dd, dh, dw] = p.dilation;
    for (let n = 0; n < p.N; n++) for (let o = 0; o < p.O; o++) {
      const g = Math.floor(o / og);
      for (let od = 0; od < p.oD; od++) for (let oh = 0; oh < p.oH; oh++) for (let ow = 0; ow < p.oW; ow++) {
        const outIdx = (((n * p.O + o) * p.oD + od) * p.oH + oh) * p.oW + ow;
        for (let c = 0; c < cg; c++) for (let a = 0; a < p.kd; a++) for (let b = 0; b < p.kh; b++) for (let e = 0; e < p.kw; e++) {
          const id = od * sd - pd + a * dd, ih = oh * sh - ph + b * dh, iw = ow * sw - pw + e * dw;
          if (id < 0 || id >= p.D || ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
          const inIdx = (((n * p.C + g * cg + c) * p.D + id) * p.H + ih) * p.W + iw;
          const wIdx = (((o * cg + c) * p.kd + a) * p.kh + b) * p.kw + e;
          fn(outIdx, inIdx, wIdx);
        }
      }
    }
  }

  conv(x: Buf, w: Buf, bias: Buf | undefined, out: Buf, p: ConvParams): void {
    const dx = this.arr(x), dw = this.arr(w), dst = this.arr(out);
    const plane = p.oD * p.oH * p.oW;
    if (bias) {
      const db = this.arr(bias);
      for (let i = 0; i < dst.length; i++) dst[i] = db[Math.floor(i / plane) % p.O];
    } else dst.fill(0);
    this.forEachConvTap(p, (o, i, k) => { dst[o] += dx[i] * dw[k]; });
  }
  convBackwardInput(gy: Buf, w: Buf, gx: Buf, p: ConvParams): void {
    const dgy = this.arr(gy), dw = this.arr(w), dst = this.arr(gx);
    dst.fill(0);
    this.forEachConvTap(p, (o, i, k) => { dst[i] += dgy[o] * dw[k]; });
  }
  convBackwardWeight(x: Buf, gy: Buf, gw: Buf, p: ConvParams): void {
    const dx = this.arr(x), dgy = this.arr(gy), dst = this.arr(gw);
    dst.fill(0);
    this.forEachConvTap(p, (o, i, k) => { dst[k] += dgy[o] * dx[i]; });
  }

  /** Calls fn(outIdx, planeBase, inPlaneIdx | -1 for padding) for every window cell. */
  /** Calls fn(outIdx, planeBase, inPlaneIdx | -1 for padding, divisor) for every window tap (tap t at
   *  start + t dilation); divisor is average pooling's: the window cut at the padded input's end
   *  (count_include_pad) or its cells inside the input. */
  private forEachPoolCell(p: PoolParams, fn: (outIdx: number, planeBase: number, inPlaneIdx: number, divisor: number) => void): void {
    const [sd, sh, sw] = p.stride, [pd, ph, pw] = p.padding, [dd, dh, dw] = p.dilation;
    const inPlane = p.D * p.H * p.W;
    const len = (start: number, k: number, n: number, pad: number) =>
      (p.count_include_pad ? Math.min(start + k, n + pad) - start : Math.min(start + k, n) - Math.max(start, 0));
    for (let nc = 0; nc < p.N * p.C; nc++)
      for (let od = 0; od < p.oD; od++) for (let oh = 0; oh < p.oH; oh++) for (let ow = 0; ow < p.oW; ow++) {
        const outIdx = ((nc * p.oD + od) * p.oH + oh) * p.oW + ow;
        const d0 = od * sd - pd, h0 = oh * sh - ph, w0 = ow * sw - pw;
        const divisor = len(d0, p.kd, p.D, pd) * len(h0, p.kh, p.H, ph) * len(w0, p.kw, p.W, pw);
        for (let a = 0; a < p.kd; a++) for (let b = 0; b < p.kh; b++) for (let e = 0; e < p.kw; e++) {
          const id = d0 + a * dd, ih = h0 + b * dh, iw = w0 + e * dw;
          const inside = id >= 0 && id < p.D && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
          fn(outIdx, nc * inPlane, inside ? (id * p.H + ih) * p.W + iw : -1, divisor);
        }
      }
  }

  /** The first cell inside the input, then any greater one or NaN (NaN wins, the last one as torch). */
  maxPool(x: Buf, out: Buf, argmax: Buf, p: PoolParams): void {
    const dx = this.arr(x), dst = this.arr(out), am = this.arr(argmax);
    dst.fill(-Infinity); am.fill(-1);
    this.forEachPoolCell(p, (o, base, i) => {
      if (i >= 0 && (dx[base + i] > dst[o] || am[o] < 0 || Number.isNaN(dx[base + i]))) { dst[o] = dx[base + i]; am[o] = i; }
    });
  }
  avgPool(x: Buf, out: Buf, p: PoolParams): void {
    const dx = this.arr(x), dst = this.arr(out);
    dst.fill(0);
    this.forEachPoolCell(p, (o, base, i, divisor) => { if (i >= 0) dst[o] += dx[base + i] / divisor; });
  }
  avgPoolBackward(gy: Buf, gx: Buf, p: PoolParams): void {
    const dgy = this.arr(gy), dst = this.arr(gx);
    dst.fill(0);
    this.forEachPoolCell(p, (o, base, i, divisor) => { if (i >= 0) dst[base + i] += dgy[o] / divisor; });
  }

  nms(boxes: Buf, scores: Buf, groups: Buf, count: number, iouThreshold: number, keep: Buf): void {
    const b = this.arr(boxes), s = this.arr(scores), g = this.arr(groups), out = this.arr(keep);
    const key = (i: number) => (Number.isNaN(s[i]) ? -Infinity : s[i]);
    const order = Array.from({ length: count }, (_, i) => i).sort((i, j) => key(j) - key(i) || i - j);
    const iou = (i: number, j: number) => {
      const w = Math.min(b[4 * i + 2], b[4 * j + 2]) - Math.max(b[4 * i], b[4 * j]);
      const h = Math.min(b[4 * i + 3], b[4 * j + 3]) - Math.max(b[4 * i + 1], b[4 * j + 1]);
      if (w <= 0 || h <= 0) return 0;
      const union = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]) + (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]) - w * h;
      return union > 0 ? (w * h) / union : 0;
    };
    const kept: number[] = [];
    for (const i of order) if (!kept.some((k) => g[k] === g[i] && iou(k, i) > iouThreshold)) kept.push(i);
    out.fill(-1);
    out[0] = kept.length;
    kept.forEach((k, n) => { out[1 + n] = k; });
  }

  argsort(x: Buf, outer: number, size: number, inner: number, descending: boolean, out: Buf): void {
    const src = this.arr(x), dst = this.arr(out);
    const sign = descending ? -1 : 1;
    // NaN sorts above every number; Array.prototype.sort is stable, and the index breaks ties besides.
    const compare = (a: number, b: number): number => {
      const na = Number.isNaN(a), nb = Number.isNaN(b);
      if (na || nb) return na && nb ? 0 : sign * (na ? 1 : -1);
      return a < b ? -sign : a > b ? sign : 0;
    };
    const positions = Array.from({ length: size }, (_, r) => r);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        const order = positions.slice().sort((r, q) => compare(src[base + r * inner], src[base + q * inner]) || r - q);
        order.forEach((r, k) => { dst[base + k * inner] = r; });
      }
    }
  }

  cumulative(op: ScanOp, x: Buf, outer: number, size: number, inner: number, reverse: boolean, out: Buf): void {
    const src = this.arr(x), dst = this.arr(out);
    // int32 wraps as int32 arithmetic (Math.imul, | 0); float values accumulate in float64.
    const int = x.dtype === 'int32';
    const combine = op === 'sum' ? (int ? (a: number, b: number) => (a + b) | 0 : (a: number, b: number) => a + b)
      : (int ? Math.imul : (a: number, b: number) => a * b);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        let acc = op === 'sum' ? 0 : 1;
        for (let k = 0; k < size; k++) {
          const at = base + (reverse ? size - 1 - k : k) * inner;
          acc = combine(acc, src[at]);
          dst[at] = acc;
        }
      }
    }
  }

  lstmForward(gatesIn: Buf, weightHh: Buf, h0: Buf, c0: Buf, states: Buf, gates: Buf, p: LstmParams): void {
    const { T, B, H } = p, G = 4 * H;
    const zIn = this.arr(gatesIn), w = this.arr(weightHh), hInit = this.arr(h0), cInit = this.arr(c0);
    const st = this.arr(states), act = this.arr(gates);
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    for (let k = 0; k < T; k++) {
      const t = p.reverse ? T - 1 - k : k, prev = p.reverse ? t + 1 : t - 1;
      // h_prev and c_prev of row b at j: h0 / c0 at the first step, else the states of time prev.
      const hPrev = (b: number, j: number) => (k === 0 ? hInit[b * H + j] : st[(prev * B + b) * H + j]);
      const cPrev = (b: number, j: number) => (k === 0 ? cInit[b * H + j] : st[((T + prev) * B + b) * H + j]);
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G;
        for (let r = 0; r < G; r++) {
          let z = zIn[row + r];
          for (let j = 0; j < H; j++) z += hPrev(b, j) * w[r * H + j];
          act[row + r] = r >= 2 * H && r < 3 * H ? Math.tanh(z) : sigmoid(z);
        }
        for (let j = 0; j < H; j++) {
          const i = act[row + j], f = act[row + H + j], g = act[row + 2 * H + j], o = act[row + 3 * H + j];
          const c = f * cPrev(b, j) + i * g;
          st[((T + t) * B + b) * H + j] = c;
          st[(t * B + b) * H + j] = o * Math.tanh(c);
        }
      }
    }
  }

  lstmBackward(weightHh: Buf, c0: Buf, gates: Buf, states: Buf, gradStates: Buf, gradGates: Buf, gradH0: Buf,
    gradC0: Buf, p: LstmParams): void {
    const { T, B, H } = p, G = 4 * H;
    const w = this.arr(weightHh), cInit = this.arr(c0), act = this.arr(gates), st = this.arr(states);
    const gst = this.arr(gradStates), gz = this.arr(gradGates), gh0 = this.arr(gradH0), gc0 = this.arr(gradC0);
    // dL/dh and dL/dc flowing from the step after (in visiting order) into the state it read.
    const dhNext = new Float64Array(B * H), dcNext = new Float64Array(B * H);
    for (let k = T - 1; k >= 0; k--) {
      const t = p.reverse ? T - 1 - k : k, prev = p.reverse ? t + 1 : t - 1;
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G;
        for (let j = 0; j < H; j++) {
          const n = b * H + j;
          const i = act[row + j], f = act[row + H + j], g = act[row + 2 * H + j], o = act[row + 3 * H + j];
          const tc = Math.tanh(st[((T + t) * B + b) * H + j]);
          const cPrev = k === 0 ? cInit[n] : st[((T + prev) * B + b) * H + j];
          const dh = gst[(t * B + b) * H + j] + dhNext[n];
          const dc = gst[((T + t) * B + b) * H + j] + dcNext[n] + dh * o * (1 - tc * tc);
          gz[row + j] = dc * g * i * (1 - i);
          gz[row + H + j] = dc * cPrev * f * (1 - f);
          gz[row + 2 * H + j] = dc * i * (1 - g * g);
          gz[row + 3 * H + j] = dh * tc * o * (1 - o);
          dcNext[n] = dc * f;
        }
      }
      // dL/dh_prev = gradGates[t] W_hh.
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          let acc = 0;
          for (let r = 0; r < G; r++) acc += gz[(t * B + b) * G + r] * w[r * H + j];
          dhNext[b * H + j] = acc;
        }
      }
    }
    gh0.set(dhNext);
    gc0.set(dcNext);
  }

  adamUpdate(param: Buf, grad: Buf, expAvg: Buf, expAvgSq: Buf, p: AdamParams): void {
    const [x, g, m, v] = this.updateOperands('adamUpdate', p.n, { param, grad, expAvg, expAvgSq });
    const decay = p.decoupled ? 1 - p.lr * p.weight_decay : 1;
    const l2 = p.decoupled ? 0 : p.weight_decay;
    for (let i = 0; i < p.n; i++) {
      const d = g[i] + l2 * x[i];
      m[i] = p.beta1 * m[i] + (1 - p.beta1) * d;
      v[i] = p.beta2 * v[i] + (1 - p.beta2) * d * d;
      x[i] = x[i] * decay - p.step_size * (m[i] / (Math.sqrt(v[i]) / p.bias_correction2_sqrt + p.eps));
    }
  }

  sgdUpdate(param: Buf, grad: Buf, momentumBuffer: Buf, p: SgdParams): void {
    const [x, g, buf] = this.updateOperands('sgdUpdate', p.n, { param, grad, momentumBuffer });
    for (let i = 0; i < p.n; i++) {
      const d = g[i] + p.weight_decay * x[i];
      buf[i] = p.first ? d : p.momentum * buf[i] + (1 - p.dampening) * d;
      x[i] -= p.lr * (p.nesterov ? d + p.momentum * buf[i] : buf[i]);
    }
  }

  /** The arrays of an optimizer update's operands, each checked to hold exactly n float32 elements. */
  private updateOperands(op: string, n: number, bufs: Record<string, Buf>): HostArray[] {
    return Object.entries(bufs).map(([role, buf]) => {
      if (buf.dtype !== 'float32' || buf.size !== n) {
        throw new Error(`reference ${op}: ${role} is ${buf.dtype}[${buf.size}], expected float32[${n}]`);
      }
      return this.arr(buf);
    });
  }

  batchNormForward(x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, out: Buf, stats: Buf, p: BatchnormParams): void {
    const xs = this.arr(x), w = this.arr(weight), b = this.arr(bias), add = addend && this.arr(addend);
    const o = this.arr(out), st = this.arr(stats);
    const { outer, channels: C, inner } = p, count = outer * inner;
    for (let c = 0; c < C; c++) {
      let sum = 0, squares = 0;
      this.forEachOfChannel(p, c, (i) => { sum += xs[i]; });
      const mean = sum / count;
      this.forEachOfChannel(p, c, (i) => { squares += (xs[i] - mean) ** 2; });
      const variance = squares / count, scale = w[c] / Math.sqrt(variance + p.eps);
      st[c] = mean; st[C + c] = variance;
      this.forEachOfChannel(p, c, (i) => { o[i] = normActivate(p.act, (xs[i] - mean) * scale + b[c] + (add ? add[i] : 0)).value; });
    }
  }

  batchNormBackward(gOut: Buf, x: Buf, weight: Buf, bias: Buf, addend: Buf | undefined, stats: Buf, gx: Buf, sums: Buf,
    gz: Buf | undefined, p: BatchnormParams): void {
    const g = this.arr(gOut), xs = this.arr(x), w = this.arr(weight), b = this.arr(bias), add = addend && this.arr(addend);
    const st = this.arr(stats), gxs = this.arr(gx), sm = this.arr(sums), gzs = gz && this.arr(gz);
    const { outer, channels: C, inner } = p, count = outer * inner;
    for (let c = 0; c < C; c++) {
      const mean = st[c], invStd = 1 / Math.sqrt(st[C + c] + p.eps);
      const gradZ = (i: number) => {
        const xhat = (xs[i] - mean) * invStd;
        return { xhat, gz: g[i] * normActivate(p.act, xhat * w[c] + b[c] + (add ? add[i] : 0)).slope };
      };
      let gSum = 0, gXhatSum = 0;
      this.forEachOfChannel(p, c, (i) => {
        const r = gradZ(i);
        gSum += r.gz; gXhatSum += r.gz * r.xhat;
        if (gzs) gzs[i] = r.gz;
      });
      sm[c] = gSum; sm[C + c] = gXhatSum;
      this.forEachOfChannel(p, c, (i) => {
        const r = gradZ(i);
        gxs[i] = w[c] * invStd * (r.gz - (gSum + r.xhat * gXhatSum) / count);
      });
    }
  }

  /** Calls fn with the index of every element of channel c of a dense [outer, channels, inner] buffer. */
  private forEachOfChannel(p: BatchnormParams, c: number, fn: (i: number) => void): void {
    for (let n = 0; n < p.outer; n++) {
      const base = (n * p.channels + c) * p.inner;
      for (let k = 0; k < p.inner; k++) fn(base + k);
    }
  }
}

/** Batch normalization's activation at z, and its derivative there. */
function normActivate(act: BatchnormParams['act'], z: number): { value: number; slope: number } {
  switch (act) {
    case 'none': return { value: z, slope: 1 };
    case 'relu': return z > 0 ? { value: z, slope: 1 } : { value: 0, slope: 0 };
    case 'silu': {
      const s = 1 / (1 + Math.exp(-z));
      return { value: z * s, slope: s * (1 + z * (1 - s)) };
    }
  }
}
