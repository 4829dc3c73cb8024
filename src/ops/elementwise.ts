// Elementwise ops: unary math, broadcasting binary arithmetic, comparisons,
// where, clamp, casts; each with its gradient beside it.
// int32 operands are computed in float32 (exact up to 2^24) and, for + - * and
// min/max of two int32 tensors, cast back to int32.
import type { BinaryOp, DType, UnaryOp } from '../backend/interface.js';
import { record } from '../autograd.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { commonBackend, opError, requireFinite, runKernel } from './util.js';
import { expandView, sumTo } from './view.js';

export type Operand = Tensor | number;

/** A 0-d tensor on `like`'s backend for a number operand. */
export function scalarLike(v: Operand, like: Tensor): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') throw new Error(`expected a Tensor or a number, got ${typeof v}`);
  const t = emptyTensor(like.backend, [], 'float32');
  like.backend.fill(t.storage.buf!, v);
  return t;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  commonBackend('cast', [x]);
  if (x.dtype === dtype) return x;
  const out = emptyTensor(x.backend, x.shape, dtype);
  if (out.size > 0) runKernel('cast', [x], () => x.backend.copy(x.view(), out.storage.buf!));
  if (dtype === 'float32') return record(out, 'cast', [x], () => [null]);
  return out;
}

const asFloat = (x: Tensor): Tensor => (x.dtype === 'float32' ? x : cast(x, 'float32'));

/** Dense copy (a no-op for dense tensors). */
export function contiguous(x: Tensor): Tensor {
  commonBackend('contiguous', [x]);
  if (x.isContiguous) return x;
  const out = emptyTensor(x.backend, x.shape, x.dtype);
  if (out.size > 0) x.backend.copy(x.view(), out.storage.buf!);
  return record(out, 'contiguous', [x], (g) => [g]);
}

/** A copy that never aliases x. */
export function clone(x: Tensor): Tensor {
  commonBackend('clone', [x]);
  const out = emptyTensor(x.backend, x.shape, x.dtype);
  if (out.size > 0) x.backend.copy(x.view(), out.storage.buf!);
  return record(out, 'clone', [x], (g) => [g]);
}

type UnaryGrad = (g: Tensor, x: Tensor, y: Tensor) => Tensor | null;

function unary(op: UnaryOp, x: Tensor, grad: UnaryGrad, alpha = 0): Tensor {
  commonBackend(op, [x]);
  const xf = asFloat(x);
  const out = emptyTensor(x.backend, x.shape, 'float32');
  if (out.size > 0) runKernel(op, [x], () => x.backend.unary(op, xf.view(), out.storage.buf!, alpha));
  return record(out, op, [xf], (g) => [grad(g, xf, out)]);
}

export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => neg(g));
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, _x, y) => mul(g, y));
export const log = (x: Tensor): Tensor => unary('log', x, (g, x) => div(g, x));
export const log1p = (x: Tensor): Tensor => unary('log1p', x, (g, x) => div(g, add(x, 1)));
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, _x, y) => div(g, mul(y, 2)));
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x, (g, _x, y) => mul(g, mul(pow(y, 3), -0.5)));
export const abs = (x: Tensor): Tensor => unary('abs', x, (g, x) => mul(g, sign(x)));
export const sign = (x: Tensor): Tensor => unary('sign', x, () => null);
export const floor = (x: Tensor): Tensor => unary('floor', x, () => null);
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, _x, y) => mul(g, sub(1, square(y))));
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, (g, _x, y) => mul(g, mul(y, sub(1, y))));
export const relu = (x: Tensor): Tensor => unary('relu', x, (g, x) => mul(g, gt(x, 0)));
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  requireFinite('leakyRelu', 'alpha', alpha);
  return unary('leakyRelu', x, (g, x) => mul(g, where(gt(x, 0), 1, alpha)), alpha);
}
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFinite('elu', 'alpha', alpha);
  return unary('elu', x, (g, x, y) => mul(g, where(gt(x, 0), 1, add(y, alpha))), alpha);
}
/** Exact (erf) GELU, as torch's default. */
export const gelu = (x: Tensor): Tensor => unary('gelu', x, (g, x) => mul(g, geluGrad(x)));
/** d gelu(x) / dx (no gradient of its own). */
export const geluGrad = (x: Tensor): Tensor => unary('geluGrad', x, () => null);
export const softplus = (x: Tensor): Tensor => unary('softplus', x, (g, x) => mul(g, sigmoid(x)));
export const sin = (x: Tensor): Tensor => unary('sin', x, (g, x) => mul(g, cos(x)));
export const cos = (x: Tensor): Tensor => unary('cos', x, (g, x) => neg(mul(g, sin(x))));
export const square = (x: Tensor): Tensor => unary('square', x, (g, x) => mul(g, mul(x, 2)));
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x, (g, _x, y) => neg(mul(g, square(y))));

type BinaryGrad = (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null];

const INT_PRESERVING: ReadonlySet<BinaryOp> = new Set(['add', 'sub', 'mul', 'minimum', 'maximum']);
const COMPARISON: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

function binary(op: BinaryOp, a0: Operand, b0: Operand, grad: BinaryGrad | null): Tensor {
  if (!(a0 instanceof Tensor) && !(b0 instanceof Tensor)) throw new Error(`${op}: at least one operand must be a Tensor`);
  const like = (a0 instanceof Tensor ? a0 : b0) as Tensor;
  commonBackend(op, [like]);
  const a = scalarLike(a0, like), b = scalarLike(b0, like);
  const backend = commonBackend(op, [a, b]);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw opError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`, [a, b]);
  // int32 with int32 stays int32 in the kernel (every backend does integer math for an int32 out):
  // a detour through float32 would change values beyond 2^24. Such results carry no gradient.
  const intResult = a.dtype === 'int32' && b.dtype === 'int32' && INT_PRESERVING.has(op);
  const af = intResult ? a : asFloat(a), bf = intResult ? b : asFloat(b);
  const out = emptyTensor(backend, shape, intResult ? 'int32' : 'float32');
  if (out.size > 0) {
    runKernel(op, [a, b], () => backend.binary(op, expandView(af, shape), expandView(bf, shape), out.storage.buf!));
  }
  if (intResult || COMPARISON.has(op) || !grad) return out;
  return record(out, op, [af, bf], (g) => {
    const [ga, gb] = grad(g, af, bf, out);
    return [ga && sumTo(ga, af.shape), gb && sumTo(gb, bf.shape)];
  });
}

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b, (g) => [g, g]);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b, (g) => [g, neg(g)]);
export const mul = (a: Operand, b: Operand): Tensor =>
  binary('mul', a, b, (g, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
export const div = (a: Operand, b: Operand): Tensor =>
  binary('div', a, b, (g, a, b) => [
    a.requiresGrad ? div(g, b) : null,
    b.requiresGrad ? neg(div(mul(g, a), square(b))) : null,
  ]);
export const pow = (a: Operand, b: Operand): Tensor =>
  binary('pow', a, b, (g, a, b, y) => [
    a.requiresGrad ? mul(g, mul(b, pow(a, sub(b, 1)))) : null,
    b.requiresGrad ? mul(g, mul(y, log(a))) : null,
  ]);
export const minimum = (a: Operand, b: Operand): Tensor =>
  binary('minimum', a, b, (g, a, b) => [where(le(a, b), g, 0), where(gt(a, b), g, 0)]);
export const maximum = (a: Operand, b: Operand): Tensor =>
  binary('maximum', a, b, (g, a, b) => [where(ge(a, b), g, 0), where(lt(a, b), g, 0)]);

// Comparisons give float32 0/1 masks (usable directly in mul and where).
export const eq = (a: Operand, b: Operand): Tensor => binary('eq', a, b, null);
export const ne = (a: Operand, b: Operand): Tensor => binary('ne', a, b, null);
export const lt = (a: Operand, b: Operand): Tensor => binary('lt', a, b, null);
export const le = (a: Operand, b: Operand): Tensor => binary('le', a, b, null);
export const gt = (a: Operand, b: Operand): Tensor => binary('gt', a, b, null);
export const ge = (a: Operand, b: Operand): Tensor => binary('ge', a, b, null);

/** cond ? a : b elementwise, cond nonzero meaning true; broadcasts all three. */
export function where(cond: Tensor, a0: Operand, b0: Operand): Tensor {
  commonBackend('where', [cond]);
  const a = asFloat(scalarLike(a0, cond)), b = asFloat(scalarLike(b0, cond));
  const backend = commonBackend('where', [cond, a, b]);
  const shape = broadcastShapes(cond.shape, a.shape, b.shape);
  if (!shape) throw opError('where', 'shapes do not broadcast', [cond, a, b]);
  const c = asFloat(cond);
  const out = emptyTensor(backend, shape, 'float32');
  if (out.size > 0) {
    runKernel('where', [cond, a, b], () =>
      backend.where(expandView(c, shape), expandView(a, shape), expandView(b, shape), out.storage.buf!));
  }
  return record(out, 'where', [a, b], (g) => [
    a.requiresGrad ? sumTo(where(c, g, 0), a.shape) : null,
    b.requiresGrad ? sumTo(where(c, 0, g), b.shape) : null,
  ]);
}

/** Limits x to [min, max] (either may be omitted); the gradient flows where x is inside. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min !== undefined && Number.isNaN(min)) throw new Error('clamp: min is NaN');
  if (max !== undefined && Number.isNaN(max)) throw new Error('clamp: max is NaN');
  let y = x;
  if (min !== undefined) y = maximum(y, min);
  if (max !== undefined) y = minimum(y, max);
  return y;
}
