// Tensor methods (above ops and autograd): each delegates to the op of the same name, so `x.add(y)` and
// `add(x, y)` are one implementation (TensorFlow.js's chained-op pattern).
import { Tensor } from './tensor.js';
import type { DType, Activation } from './backend/interface.js';
import { backward, type BackwardOptions } from './autograd.js';
import { backendByName, initBackend } from './backend/registry.js';
import * as ew from './ops/elementwise.js';
import * as rd from './ops/reduce.js';
import * as vw from './ops/view.js';
import * as mm from './ops/matmul.js';
import * as ix from './ops/indexing.js';
import * as sm from './ops/softmax.js';
import * as cb from './ops/combine.js';
import * as nm from './ops/norms.js';
import * as sc from './ops/scan.js';
import * as so from './ops/sort.js';
import * as ar from './ops/arrange.js';
import { fromArray } from './ops/creation.js';
import type { Operand } from './ops/elementwise.js';

declare module './tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor; sub(b: Operand): Tensor; mul(b: Operand): Tensor; div(b: Operand): Tensor;
    pow(b: Operand): Tensor; minimum(b: Operand): Tensor; maximum(b: Operand): Tensor;
    eq(b: Operand): Tensor; ne(b: Operand): Tensor; lt(b: Operand): Tensor; le(b: Operand): Tensor;
    gt(b: Operand): Tensor; ge(b: Operand): Tensor;
    remainder(b: Operand): Tensor; floorDivide(b: Operand): Tensor; atan2(b: Operand): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; log1p(): Tensor; sqrt(): Tensor; rsqrt(): Tensor; abs(): Tensor;
    sign(): Tensor; floor(): Tensor; tanh(): Tensor; sigmoid(): Tensor; relu(): Tensor; leakyRelu(alpha?: number): Tensor;
    elu(alpha?: number): Tensor; gelu(): Tensor; softplus(): Tensor; sin(): Tensor; cos(): Tensor; square(): Tensor;
    reciprocal(): Tensor; clamp(min?: number, max?: number): Tensor;
    erf(): Tensor; atan(): Tensor; ceil(): Tensor; round(): Tensor; trunc(): Tensor; lgamma(): Tensor; digamma(): Tensor;
    isnan(): Tensor; isinf(): Tensor; isfinite(): Tensor; nanToNum(opts?: ew.NanToNumOptions): Tensor;
    sum(axes?: number | number[], keepdims?: boolean): Tensor; mean(axes?: number | number[], keepdims?: boolean): Tensor;
    max(axes?: number | number[], keepdims?: boolean): Tensor; min(axes?: number | number[], keepdims?: boolean): Tensor;
    prod(axes?: number | number[], keepdims?: boolean): Tensor;
    argmax(axis?: number, keepdims?: boolean): Tensor; argmin(axis?: number, keepdims?: boolean): Tensor;
    var(axes?: number | number[], opts?: rd.VarOptions): Tensor; std(axes?: number | number[], opts?: rd.VarOptions): Tensor;
    logsumexp(axes?: number | number[], keepdims?: boolean): Tensor;
    norm(opts?: nm.NormOptions): Tensor; normalize(opts?: { p?: number; axis?: number; eps?: number }): Tensor;
    matmul(b: Tensor, opts?: mm.MatmulOptions): Tensor;
    reshape(shape: readonly number[]): Tensor; permute(axes: readonly number[]): Tensor; transpose(a?: number, b?: number): Tensor;
    slice(axis: number, start?: number, end?: number, step?: number): Tensor; select(axis: number, i: number): Tensor;
    expand(shape: readonly number[]): Tensor; squeeze(axis?: number | number[]): Tensor; unsqueeze(axis: number): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    detach(): Tensor; clone(): Tensor; contiguous(): Tensor; cast(dtype: DType): Tensor;
    gather(axis: number, index: Tensor): Tensor; indexSelect(axis: number, index: Tensor): Tensor;
    scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor; maskedFill(mask: Tensor, value: Operand): Tensor;
    softmax(axis?: number): Tensor; logSoftmax(axis?: number): Tensor;
    split(sizes: number | number[], axis?: number): Tensor[]; chunk(chunks: number, axis?: number): Tensor[];
    linear(w: Tensor, opts?: { bias?: Tensor; alpha?: number; activation?: Activation }): Tensor;
    cumsum(axis: number): Tensor; cumprod(axis: number): Tensor;
    sort(opts?: so.SortOptions): { values: Tensor; indices: Tensor }; argsort(opts?: so.SortOptions): Tensor;
    topk(k: number, opts?: so.TopkOptions): { values: Tensor; indices: Tensor };
    flip(axes: number | number[]): Tensor; roll(shifts: number | number[], axes?: number | number[]): Tensor;
    repeat(reps: number[]): Tensor; tile(reps: number[]): Tensor; tril(diagonal?: number): Tensor; triu(diagonal?: number): Tensor;
    diag(diagonal?: number): Tensor; outer(b: Tensor): Tensor; nonzero(): Tensor; unique(opts?: so.UniqueOptions): so.UniqueResult;
    /** Accumulates gradients of this (scalar) tensor into the leaves' .grad; frees the graph unless retainGraph. */
    backward(gradOrOptions?: Tensor | BackwardOptions): void;
    /** Marks a leaf as wanting gradients (in place); returns this. */
    requiresGrad_(flag?: boolean): Tensor;
    /** A copy on another backend (synchronous source backends). */
    to(backend: string): Tensor;
    /** A copy on another backend (any source backend). */
    toAsync(backend: string): Promise<Tensor>;
  }
}

const P = Tensor.prototype;
const binaryMethods = { add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, pow: ew.pow, minimum: ew.minimum, maximum: ew.maximum,
  eq: ew.eq, ne: ew.ne, lt: ew.lt, le: ew.le, gt: ew.gt, ge: ew.ge, remainder: ew.remainder, floorDivide: ew.floorDivide,
  atan2: ew.atan2 };
for (const [name, f] of Object.entries(binaryMethods)) {
  (P as unknown as Record<string, unknown>)[name] = function (this: Tensor, b: Operand) { return f(this, b); };
}
const unaryMethods = { neg: ew.neg, exp: ew.exp, log: ew.log, log1p: ew.log1p, sqrt: ew.sqrt, rsqrt: ew.rsqrt, abs: ew.abs,
  sign: ew.sign, floor: ew.floor, tanh: ew.tanh, sigmoid: ew.sigmoid, relu: ew.relu, gelu: ew.gelu, softplus: ew.softplus,
  sin: ew.sin, cos: ew.cos, square: ew.square, reciprocal: ew.reciprocal, contiguous: ew.contiguous, clone: ew.clone,
  detach: vw.detach, erf: ew.erf, atan: ew.atan, ceil: ew.ceil, round: ew.round, trunc: ew.trunc, lgamma: ew.lgamma,
  digamma: ew.digamma, isnan: ew.isnan, isinf: ew.isinf, isfinite: ew.isfinite };
for (const [name, f] of Object.entries(unaryMethods)) {
  (P as unknown as Record<string, unknown>)[name] = function (this: Tensor) { return f(this); };
}
P.leakyRelu = function (alpha?: number) { return ew.leakyRelu(this, alpha); };
P.elu = function (alpha?: number) { return ew.elu(this, alpha); };
P.nanToNum = function (opts?: ew.NanToNumOptions) { return ew.nanToNum(this, opts); };
P.clamp = function (lo?: number, hi?: number) { return ew.clamp(this, lo, hi); };
P.cast = function (dtype: DType) { return ew.cast(this, dtype); };
P.sum = function (axes, keepdims) { return rd.sum(this, axes, keepdims); };
P.mean = function (axes, keepdims) { return rd.mean(this, axes, keepdims); };
P.max = function (axes, keepdims) { return rd.max(this, axes, keepdims); };
P.min = function (axes, keepdims) { return rd.min(this, axes, keepdims); };
P.prod = function (axes, keepdims) { return rd.prod(this, axes, keepdims); };
P.argmax = function (axis, keepdims) { return rd.argmax(this, axis, keepdims); };
P.argmin = function (axis, keepdims) { return rd.argmin(this, axis, keepdims); };
P.var = function (axes, opts) { return rd.variance(this, axes, opts); };
P.std = function (axes, opts) { return rd.std(this, axes, opts); };
P.logsumexp = function (axes, keepdims) { return rd.logsumexp(this, axes, keepdims); };
P.norm = function (opts) { return nm.norm(this, opts); };
P.normalize = function (opts) { return nm.normalize(this, opts); };
P.matmul = function (b, opts) { return mm.matmul(this, b, opts); };
P.linear = function (w, opts) { return mm.linear(this, w, opts); };
P.reshape = function (shape) { return vw.reshape(this, shape); };
P.permute = function (axes) { return vw.permute(this, axes); };
P.transpose = function (a, b) { return vw.transpose(this, a, b); };
P.slice = function (axis, start, end, step) { return vw.slice(this, axis, start, end, step); };
P.select = function (axis, i) { return vw.select(this, axis, i); };
P.expand = function (shape) { return vw.expand(this, shape); };
P.squeeze = function (axis) { return vw.squeeze(this, axis); };
P.unsqueeze = function (axis) { return vw.unsqueeze(this, axis); };
P.flatten = function (s, e) { return vw.flatten(this, s, e); };
P.gather = function (axis, index) { return ix.gather(this, axis, index); };
P.indexSelect = function (axis, index) { return ix.indexSelect(this, axis, index); };
P.scatterAdd = function (axis, index, src) { return ix.scatterAdd(this, axis, index, src); };
P.maskedFill = function (mask, value) { return ix.maskedFill(this, mask, value); };
P.softmax = function (axis) { return sm.softmax(this, axis); };
P.logSoftmax = function (axis) { return sm.logSoftmax(this, axis); };
P.split = function (sizes, axis) { return cb.split(this, sizes, axis); };
P.chunk = function (chunks, axis) { return cb.chunk(this, chunks, axis); };
P.cumsum = function (axis) { return sc.cumsum(this, axis); };
P.cumprod = function (axis) { return sc.cumprod(this, axis); };
P.sort = function (opts) { return so.sort(this, opts); };
P.argsort = function (opts) { return so.argsort(this, opts); };
P.topk = function (k, opts) { return so.topk(this, k, opts); };
P.flip = function (axes) { return ar.flip(this, axes); };
P.roll = function (shifts, axes) { return ar.roll(this, shifts, axes); };
P.repeat = function (reps) { return ar.repeat(this, reps); };
P.tile = function (reps) { return ar.tile(this, reps); };
P.tril = function (diagonal) { return ar.tril(this, diagonal); };
P.triu = function (diagonal) { return ar.triu(this, diagonal); };
P.diag = function (diagonal) { return ar.diag(this, diagonal); };
P.outer = function (b) { return ar.outer(this, b); };
P.nonzero = function () { return ix.nonzero(this); };
P.unique = function (opts) { return so.unique(this, opts); };
P.backward = function (gradOrOptions?: Tensor | BackwardOptions) { backward(this, gradOrOptions); };
P.requiresGrad_ = function (flag = true) {
  if (this.node) throw new Error(`requiresGrad_: ${this.describe()} is not a leaf (it was computed by ${this.node.op}); use detach() first`);
  if (flag && this.dtype !== 'float32') throw new Error(`requiresGrad_: only float32 tensors can require grad (got ${this.describe()})`);
  this.requiresGrad = flag;
  return this;
};
P.to = function (name: string) {
  if (name === this.backend.name) return this;
  const target = backendByName(name);
  return fromArray(this.dataSync(), this.shape, { backend: target.name, dtype: this.dtype });
};
P.toAsync = async function (name: string) {
  if (name === this.backend.name) return this;
  const target = await initBackend(name);
  return fromArray(await this.data(), this.shape, { backend: target.name, dtype: this.dtype });
};
