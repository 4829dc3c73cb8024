// Seeded host samplers for the distributions' sample(): the numbers are drawn on
// the host from a Rng (as randn is) and written to the backend, so a seed gives
// the same samples on every backend. Their parameters are read back first
// (await t.data()), which works on every backend including webgpu.
import type { Rng } from '../rng.js';
import { lgammaHost } from './special.js';

/** Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1) U^(1/shape). */
export function gammaHost(shape: number, rng: Rng): number {
  if (!(shape > 0)) return NaN;
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return gammaHost(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Poisson(rate): multiplication method below rate 10, Hormann's PTRS transformed rejection above (as numpy). */
export function poissonHost(rate: number, rng: Rng): number {
  if (!(rate >= 0)) return NaN;
  if (rate < 10) {
    const limit = Math.exp(-rate);
    let k = 0, p = rng.uniform();
    while (p > limit) { k++; p *= rng.uniform(); }
    return k;
  }
  const slam = Math.sqrt(rate), logRate = Math.log(rate);
  const b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5, v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor((2 * a / us + b) * u + rate + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -rate + k * logRate - lgammaHost(k + 1)) return k;
  }
}
