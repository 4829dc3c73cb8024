// Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_). The
// gradients are rescaled on their own backend: nothing is read back, so a GPU
// training loop does not stall here.
import { Tensor, scope } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { abs, add, clamp, div, maximum, mul, pow, sqrt, square } from '../ops/elementwise.js';
import { max, sum } from '../ops/reduce.js';
import { zeros } from '../ops/creation.js';

function gradsOf(params: Iterable<Tensor>): Tensor[] {
  const out: Tensor[] = [];
  for (const p of params) if (p.grad) out.push(p.grad);
  return out;
}

/**
 * Scales all gradients by min(1, maxNorm / (total + 1e-6)), where total is the norm of all
 * gradients together (the p-norm of their concatenation; normType Infinity is the largest |g|).
 * Returns the total norm before clipping, as a 0-d tensor (`.item()` reads it on CPU backends).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm)) throw new Error(`clipGradNorm: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  const grads = gradsOf(params);
  if (grads.length === 0) return zeros([]);
  return noGrad(() => scope(() => {
    let total: Tensor;
    if (normType === Infinity) {
      total = grads.map((g) => max(abs(g))).reduce((a, b) => maximum(a, b));
    } else if (normType === 2) {
      total = sqrt(grads.map((g) => sum(square(g))).reduce((a, b) => add(a, b)));
    } else {
      total = pow(grads.map((g) => sum(pow(abs(g), normType))).reduce((a, b) => add(a, b)), 1 / normType);
    }
    const coef = clamp(div(maxNorm, add(total, 1e-6)), undefined, 1);
    for (const g of grads) g.assign(mul(g, coef));
    return total;
  }));
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue)) throw new Error(`clipGradValue: clipValue must be a finite number >= 0, got ${clipValue}`);
  noGrad(() => scope(() => {
    for (const g of gradsOf(params)) g.assign(clamp(g, -clipValue, clipValue));
  }));
}
