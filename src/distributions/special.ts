// Special functions composed from the public elementwise ops, so they run and
// differentiate on every backend (their gradients come from the composition).
// Both shift the argument up by 6 with the recurrences
//   lgamma(x) = lgamma(x + 6) - log(x (x+1) ... (x+5)),  digamma(x) = digamma(x + 6) - sum_k 1/(x+k),
// then use the asymptotic (Stirling) series at z = x + 6 >= 6, whose first omitted
// term is below 3e-9: float32 accuracy for x > 0. Defined for x > 0 (NaN below).
import type { Tensor } from '../tensor.js';
import { add, div, log, mul, reciprocal, square, sub } from '../ops/elementwise.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const SHIFT = 6;

/** log Gamma(x) for x > 0, elementwise. */
export function lgamma(x: Tensor): Tensor {
  const z = add(x, SHIFT);
  const zInv = reciprocal(z), zInv2 = square(zInv);
  // 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5), in Horner form.
  const series = mul(zInv, add(1 / 12, mul(zInv2, add(-1 / 360, mul(zInv2, 1 / 1260)))));
  const stirling = add(sub(mul(sub(z, 0.5), log(z)), z), add(series, HALF_LOG_TWO_PI));
  // Two products of three factors each: no float32 overflow below x ~ 1e12.
  const low = mul(mul(x, add(x, 1)), add(x, 2));
  const high = mul(mul(add(x, 3), add(x, 4)), add(x, 5));
  return sub(stirling, add(log(low), log(high)));
}

/** digamma(x) = d/dx log Gamma(x) for x > 0, elementwise. */
export function digamma(x: Tensor): Tensor {
  const z = add(x, SHIFT);
  const zInv2 = reciprocal(square(z));
  // log z - 1/(2z) - 1/(12 z^2) + 1/(120 z^4) - 1/(252 z^6).
  const series = mul(zInv2, add(-1 / 12, mul(zInv2, add(1 / 120, mul(zInv2, -1 / 252)))));
  let shifted = add(sub(log(z), div(0.5, z)), series);
  for (let k = 0; k < SHIFT; k++) shifted = sub(shifted, reciprocal(add(x, k)));
  return shifted;
}

/** log Gamma in float64 on the host (Lanczos, g = 7, 9 terms; ~1e-15 relative), for samplers and checks. */
export function lgammaHost(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaHost(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const xm = x - 1;
  let a = c[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}
