// Elementwise ops: unary math, broadcasting binary arithmetic, comparisons,
// where, clamp, casts. Their gradients are rules in src/gradients.ts.
// int32 operands are computed in float32 (exact up to 2^24) and, for + - * and
// min/max of two int32 tensors, cast back to int32.
import type { BinaryOp, DType, UnaryOp } from '../backend/interface.js';
import { record, type DifferentiableBinaryOp } from '../tape.js';
import { Tensor, denseCopy, emptyTensor } from '../tensor.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { checkOptions, commonBackend, expandView, opError, requireFinite, runKernel } from './util.js';
import { checkDType } from './creation.js';

export type Operand = Tensor | number;

/** A 0-d tensor on `like`'s backend for a number operand. */
export function scalarLike(v: Operand, like: Tensor, op = 'scalar operand'): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') throw new Error(`${op}: expected a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  const t = emptyTensor(like.backend, [], 'float32');
  like.backend.fill(t.storage.buf!, v);
  return t;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  commonBackend('cast', [x]);
  checkDType('cast', dtype);
  if (dtype === undefined) throw new Error('cast: a dtype is required');
  if (x.dtype === dtype) return x;
  const out = emptyTensor(x.backend, x.shape, dtype);
  if (out.size > 0) runKernel('cast', [x], () => x.backend.copy(x.view(), out.storage.buf!), [out]);
  if (dtype === 'float32') return record(out, 'cast', [x], null);
  return out;
}

const asFloat = (x: Tensor): Tensor => (x.dtype === 'float32' ? x : cast(x, 'float32'));

/** Dense copy (a no-op for dense tensors). */
export function contiguous(x: Tensor): Tensor {
  commonBackend('contiguous', [x]);
  if (x.isContiguous) return x;
  return record(denseCopy(x), 'contiguous', [x], null);
}

/** A copy that never aliases x. */
export function clone(x: Tensor): Tensor {
  commonBackend('clone', [x]);
  return record(denseCopy(x), 'clone', [x], null);
}

function unary(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const out = unaryKernel(op, x, alpha);
  return record(out, op, [asFloat(x)], { alpha });
}

/** The kernel alone (no gradient recorded): the predicates are masks, like the comparisons. */
function unaryKernel(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  commonBackend(op, [x]);
  const xf = asFloat(x);
  const out = emptyTensor(x.backend, x.shape, 'float32');
  if (out.size > 0) runKernel(op, [x], () => x.backend.unary(op, xf.view(), out.storage.buf!, alpha), [out]);
  return out;
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const floor = (x: Tensor): Tensor => unary('floor', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  requireFinite('leakyRelu', 'alpha', alpha);
  return unary('leakyRelu', x, alpha);
}
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFinite('elu', 'alpha', alpha);
  return unary('elu', x, alpha);
}
/** Exact (erf) GELU, as torch's default. */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
/** d gelu(x) / dx (no gradient of its own: used by gelu's). */
export const geluGrad = (x: Tensor): Tensor => unary('geluGrad', x);
export const softplus = (x: Tensor): Tensor => unary('softplus', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** x * sigmoid(x) (swish). */
export const silu = (x: Tensor): Tensor => unary('silu', x);
/** x * tanh(softplus(x)). */
export const mish = (x: Tensor): Tensor => unary('mish', x);
/** x * relu6(x + 3) / 6. */
export const hardswish = (x: Tensor): Tensor => unary('hardswish', x);
/** log(sigmoid(x)), computed as min(x, 0) - log1p(exp(-|x|)): finite for every finite x. */
export const logSigmoid = (x: Tensor): Tensor => unary('logSigmoid', x);
export const erf = (x: Tensor): Tensor => unary('erf', x);
export const atan = (x: Tensor): Tensor => unary('atan', x);
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** Nearest integer, ties to even (as torch.round). */
export const round = (x: Tensor): Tensor => unary('round', x);
/** Rounds toward zero. */
export const trunc = (x: Tensor): Tensor => unary('trunc', x);
/** log |Gamma(x)|; +inf at 0, -1, -2, ... */
export const lgamma = (x: Tensor): Tensor => unary('lgamma', x);
/** d/dx lgamma(x). */
export const digamma = (x: Tensor): Tensor => unary('digamma', x);
/** d/dx digamma(x) (torch.polygamma(1, x)); it has no gradient of its own. */
export const trigamma = (x: Tensor): Tensor => unary('trigamma', x);
// Predicates: float32 0/1 masks like the comparisons, without gradient.
export const isnan = (x: Tensor): Tensor => unaryKernel('isnan', x);
export const isinf = (x: Tensor): Tensor => unaryKernel('isinf', x);
export const isfinite = (x: Tensor): Tensor => unaryKernel('isfinite', x);

export interface NanToNumOptions {
  /** Replaces NaN (default 0). */
  nan?: number;
  /** Replaces +inf (default the largest finite float32). */
  posinf?: number;
  /** Replaces -inf (default the lowest finite float32). */
  neginf?: number;
}
const FLOAT32_MAX = 3.4028234663852886e38;

/** NaN and infinities replaced by finite numbers (torch.nan_to_num); the gradient flows where x was finite. */
export function nanToNum(x: Tensor, opts: NanToNumOptions = {}): Tensor {
  checkOptions('nanToNum', opts, ['nan', 'posinf', 'neginf']);
  const { nan = 0, posinf = FLOAT32_MAX, neginf = -FLOAT32_MAX } = opts;
  for (const [name, v] of [['nan', nan], ['posinf', posinf], ['neginf', neginf]] as const) {
    if (typeof v !== 'number') throw new Error(`nanToNum: ${name} must be a number, got ${typeof v}`);
  }
  commonBackend('nanToNum', [x]);
  if (x.dtype === 'int32') return x;  // no NaN or infinity to replace
  const infinite = isinf(x);
  return where(isnan(x), nan, where(mul(infinite, gt(x, 0)), posinf, where(mul(infinite, lt(x, 0)), neginf, x)));
}

const INT_PRESERVING: ReadonlySet<BinaryOp> = new Set(['add', 'sub', 'mul', 'minimum', 'maximum', 'remainder', 'floorDivide']);
/** Ops without a gradient: their results are not recorded (torch: floor_divide is not differentiable). */
const NOT_DIFFERENTIABLE: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'floorDivide']);

function binary(op: BinaryOp, a0: Operand, b0: Operand): Tensor {
  if (!(a0 instanceof Tensor) && !(b0 instanceof Tensor)) throw new Error(`${op}: at least one operand must be a Tensor`);
  const like = (a0 instanceof Tensor ? a0 : b0) as Tensor;
  commonBackend(op, [like]);
  const a = scalarLike(a0, like, op), b = scalarLike(b0, like, op);
  const backend = commonBackend(op, [a, b]);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw opError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`, [a, b]);
  // int32 with int32 stays int32 in the kernel (every backend does integer math for an int32 out):
  // a detour through float32 would change values beyond 2^24. Such results carry no gradient.
  const intResult = a.dtype === 'int32' && b.dtype === 'int32' && INT_PRESERVING.has(op);
  const af = intResult ? a : asFloat(a), bf = intResult ? b : asFloat(b);
  const out = emptyTensor(backend, shape, intResult ? 'int32' : 'float32');
  if (out.size > 0) {
    runKernel(op, [a, b], () => backend.binary(op, expandView(af, shape), expandView(bf, shape), out.storage.buf!), [out]);
  }
  if (intResult || NOT_DIFFERENTIABLE.has(op)) return out;
  return record(out, op as DifferentiableBinaryOp, [af, bf], null);
}

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
export const pow = (a: Operand, b: Operand): Tensor => binary('pow', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('minimum', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binary('maximum', a, b);
/** a - b * floor(a / b): the remainder with the sign of b (torch.remainder; C's fmod keeps a's sign). */
export const remainder = (a: Operand, b: Operand): Tensor => binary('remainder', a, b);
/** floor(a / b) (torch.floor_divide); int32 operands give int32. No gradient. */
export const floorDivide = (a: Operand, b: Operand): Tensor => binary('floorDivide', a, b);
/** The angle of the point (b, a): atan(a / b) in the right quadrant, in [-pi, pi]. */
export const atan2 = (a: Operand, b: Operand): Tensor => binary('atan2', a, b);

// Comparisons give float32 0/1 masks (usable directly in mul and where).
export const eq = (a: Operand, b: Operand): Tensor => binary('eq', a, b);
export const ne = (a: Operand, b: Operand): Tensor => binary('ne', a, b);
export const lt = (a: Operand, b: Operand): Tensor => binary('lt', a, b);
export const le = (a: Operand, b: Operand): Tensor => binary('le', a, b);
export const gt = (a: Operand, b: Operand): Tensor => binary('gt', a, b);
export const ge = (a: Operand, b: Operand): Tensor => binary('ge', a, b);

/** cond ? a : b elementwise, cond nonzero meaning true; broadcasts all three. */
export function where(cond: Tensor, a0: Operand, b0: Operand): Tensor {
  commonBackend('where', [cond]);
  const a = asFloat(scalarLike(a0, cond, 'where')), b = asFloat(scalarLike(b0, cond, 'where'));
  const backend = commonBackend('where', [cond, a, b]);
  const shape = broadcastShapes(cond.shape, a.shape, b.shape);
  if (!shape) throw opError('where', 'shapes do not broadcast', [cond, a, b]);
  const c = asFloat(cond);
  const out = emptyTensor(backend, shape, 'float32');
  if (out.size > 0) {
    runKernel('where', [cond, a, b], () =>
      backend.where(expandView(c, shape), expandView(a, shape), expandView(b, shape), out.storage.buf!), [out]);
  }
  return record(out, 'where', [a, b], { cond: c });
}

/** Limits x to [min, max] (either may be omitted); the gradient flows where x is inside. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  commonBackend('clamp', [x]);
  for (const [name, v] of [['min', min], ['max', max]] as const) {
    if (v !== undefined && typeof v !== 'number') throw new Error(`clamp: ${name} must be a number, got ${typeof v}`);
  }
  if (min !== undefined && Number.isNaN(min)) throw new Error('clamp: min is NaN');
  if (max !== undefined && Number.isNaN(max)) throw new Error('clamp: max is NaN');
  let y = x;
  if (min !== undefined) y = maximum(y, min);
  if (max !== undefined) y = minimum(y, max);
  return y;
}
