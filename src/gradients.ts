// The derivatives of the primitive ops, one rule per op, written with ops (so they run on the backend the
// forward ran on, and are themselves differentiable in principle). Above src/ops, which only record what a
// rule needs (src/tape.ts's SavedByOp); src/autograd.ts looks rules up here by op. Fused kernels (conv,
// pooling, spmm, cmd, linear, ...) keep their backward beside their op instead.
import type { Primitive, SavedByOp } from './tape.js';
import type { Tensor } from './tensor.js';
import {
  add, div, eq, exp, floor, ge, geluGrad, gt, le, log, lt, mul, neg, pow, sigmoid, sign, sin, cos, square, sub, tanh, where,
  softplus, digamma, trigamma,
} from './ops/elementwise.js';
import { expand, permute, reshape, transpose } from './ops/view.js';
import { keptShape, prod, sum } from './ops/reduce.js';
import { gather, scatterAdd } from './ops/indexing.js';
import { matmul } from './ops/matmul.js';
import { arange, zeros } from './ops/creation.js';

/** Gradients for each input (null where none flows) of `y`, given y's gradient g. */
export type GradientRule<Saved> = (g: Tensor, inputs: Tensor[], y: Tensor, saved: Saved) => (Tensor | null)[];

/** Sums g over the axes along which a tensor of `shape` was broadcast to g's shape. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((v, i) => v === shape[i])) return g;
  const off = g.ndim - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < g.ndim; d++) if (d < off || (shape[d - off] === 1 && g.shape[d] !== 1)) axes.push(d);
  return reshape(sum(g, axes, true), shape);
}

/** A broadcasting binary op's rule: the partials of a and b, each summed back to its operand's shape. */
function broadcasting(partials: (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null]): GradientRule<null> {
  return (g, [a, b], y) => {
    const [ga, gb] = partials(g, a, b, y);
    return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
  };
}

/** g placed back at positions start, start+step, ... along axis of a zero tensor of `shape`. */
function unslice(g: Tensor, shape: readonly number[], axis: number, start: number, step: number): Tensor {
  const idx = arange(start, start + g.shape[axis] * step, step, { backend: g.backend.name, dtype: 'int32' });
  const idxShape = shape.map((_, i) => (i === axis ? g.shape[axis] : 1));
  return scatterAdd(zeros(shape, { backend: g.backend.name }), axis, expand(reshape(idx, idxShape), g.shape), g);
}

/** g of a reduction over `axes` of x, broadcast back to x's shape. */
const unreduce = (g: Tensor, x: Tensor, axes: number[]) => expand(reshape(g, keptShape(x.shape, axes, true)), x.shape);

/** max / min: the gradient is shared evenly among tied extreme elements (as torch's amax). */
const extremum: GradientRule<{ axes: number[] }> = (g, [x], y, { axes }) => {
  const shapeK = keptShape(x.shape, axes, true);
  const mask = eq(x, reshape(y, shapeK));
  const count = sum(mask, axes, true);
  return [mul(div(mask, count), reshape(g, shapeK))];
};

/** minimum / maximum: g goes to the operand that was picked, half to each on ties (as torch). */
function pick(firstWins: (a: Tensor, b: Tensor) => Tensor, secondWins: (a: Tensor, b: Tensor) => Tensor): GradientRule<null> {
  return broadcasting((g, a, b) => {
    const half = mul(g, 0.5), tie = eq(a, b);
    return [where(firstWins(a, b), g, where(tie, half, 0)), where(secondWins(a, b), g, where(tie, half, 0))];
  });
}

const none = () => [null];
const identity = (g: Tensor) => [g];
const toInputShape = (g: Tensor, [x]: Tensor[]) => [reshape(g, x.shape)];

export const gradients: { [K in Primitive]: GradientRule<SavedByOp[K]> } = {
  neg: (g) => [neg(g)],
  exp: (g, _, y) => [mul(g, y)],
  log: (g, [x]) => [div(g, x)],
  log1p: (g, [x]) => [div(g, add(x, 1))],
  sqrt: (g, _, y) => [div(g, mul(y, 2))],
  rsqrt: (g, _, y) => [mul(g, mul(pow(y, 3), -0.5))],
  abs: (g, [x]) => [mul(g, sign(x))],
  sign: none,
  floor: none,
  tanh: (g, _, y) => [mul(g, sub(1, square(y)))],
  sigmoid: (g, _, y) => [mul(g, mul(y, sub(1, y)))],
  relu: (g, [x]) => [mul(g, gt(x, 0))],
  leakyRelu: (g, [x], _, { alpha }) => [mul(g, where(gt(x, 0), 1, alpha))],
  elu: (g, [x], y, { alpha }) => [mul(g, where(gt(x, 0), 1, add(y, alpha)))],
  gelu: (g, [x]) => [mul(g, geluGrad(x))],
  geluGrad: none,
  softplus: (g, [x]) => [mul(g, sigmoid(x))],
  sin: (g, [x]) => [mul(g, cos(x))],
  cos: (g, [x]) => [neg(mul(g, sin(x)))],
  square: (g, [x]) => [mul(g, mul(x, 2))],
  reciprocal: (g, _, y) => [neg(mul(g, square(y)))],
  silu: (g, [x]) => { const s = sigmoid(x); return [mul(g, mul(s, add(1, mul(x, sub(1, s)))))]; },
  mish: (g, [x]) => { const t = tanh(softplus(x)); return [mul(g, add(t, mul(mul(x, sub(1, square(t))), sigmoid(x))))]; },
  // torch's: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above.
  hardswish: (g, [x]) => [mul(g, where(lt(x, -3), 0, where(le(x, 3), add(div(x, 3), 0.5), 1)))],
  logSigmoid: (g, [x]) => [mul(g, sigmoid(neg(x)))],
  erf: (g, [x]) => [mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))],
  atan: (g, [x]) => [div(g, add(square(x), 1))],
  ceil: none,
  round: none,
  trunc: none,
  lgamma: (g, [x]) => [mul(g, digamma(x))],
  digamma: (g, [x]) => [mul(g, trigamma(x))],
  trigamma: () => { throw new Error('trigamma: its gradient (polygamma of order 2) is not implemented'); },
  isnan: none,
  isinf: none,
  isfinite: none,

  add: broadcasting((g) => [g, g]),
  sub: broadcasting((g) => [g, neg(g)]),
  mul: broadcasting((g, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]),
  div: broadcasting((g, a, b) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, a), square(b))) : null]),
  // As torch: d/da a^0 is 0 (not 0 * 0^-1 = NaN), and d/db 0^b is 0 for b >= 0 (not 0 * log 0 = NaN).
  pow: broadcasting((g, a, b, y) => [
    a.requiresGrad ? where(eq(b, 0), 0, mul(g, mul(b, pow(a, sub(b, 1))))) : null,
    b.requiresGrad ? where(mul(eq(a, 0), ge(b, 0)), 0, mul(g, mul(y, log(a)))) : null,
  ]),
  // As torch: d/da = 1, d/db = -floor(a / b).
  remainder: broadcasting((g, a, b) => [g, b.requiresGrad ? neg(mul(g, floor(div(a, b)))) : null]),
  atan2: broadcasting((g, a, b) => {
    const r2 = add(square(a), square(b));
    return [a.requiresGrad ? div(mul(g, b), r2) : null, b.requiresGrad ? neg(div(mul(g, a), r2)) : null];
  }),
  minimum: pick(lt, gt),
  maximum: pick(gt, lt),
  where: (g, [a, b], _, { cond }) => [
    a.requiresGrad ? sumTo(where(cond, g, 0), a.shape) : null,
    b.requiresGrad ? sumTo(where(cond, 0, g), b.shape) : null,
  ],

  cast: none,
  contiguous: identity,
  clone: identity,
  reshape: toInputShape,
  squeeze: toInputShape,
  unsqueeze: toInputShape,
  expand: (g, [x]) => [sumTo(g, x.shape)],
  permute: (g, _, __, { axes }) => {
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, i) => { inverse[a] = i; });
    return [permute(g, inverse)];
  },
  slice: (g, [x], _, { axis, start, step }) => [unslice(g, x.shape, axis, start, step)],

  sum: (g, [x], _, { axes }) => [unreduce(g, x, axes)],
  /** The product of the other factors: y / x without zeros; with one zero, only the zero's factor gets the
   *  product of the rest; with two or more, every factor's is 0 (as torch). */
  prod: (g, [x], _, { axes }) => {
    const isZero = eq(x, 0);
    const nonzero = where(isZero, 1, x);
    const zeros = unreduce(sum(isZero, axes, true), x, axes);
    const rest = unreduce(prod(nonzero, axes, true), x, axes);
    const others = where(isZero, where(eq(zeros, 1), rest, 0), where(eq(zeros, 0), div(rest, nonzero), 0));
    return [mul(unreduce(g, x, axes), others)];
  },
  max: extremum,
  min: extremum,

  gather: (g, [x], _, { axis, index }) => [scatterAdd(zeros(x.shape, { backend: g.backend.name }), axis, index, g)],
  scatterAdd: (g, [, src], _, { axis, index }) => [g, src.requiresGrad ? gather(g, axis, index) : null],

  matmul: (g, [a, b], _, { alpha, a2, b2, productShape }) => {
    const g2 = reshape(g, productShape);
    return [
      a.requiresGrad ? reshape(sumTo(matmul(g2, transpose(b2), { alpha }), a2.shape), a.shape) : null,
      b.requiresGrad ? reshape(sumTo(matmul(transpose(a2), g2, { alpha }), b2.shape), b.shape) : null,
    ];
  },
};
