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

/**
 * Student's t with df degrees of freedom by Bailey's polar method (Math. Comp. 62, 1994): (U, V) uniform in the
 * unit disc, W = U^2 + V^2, then U sqrt(df (W^(-2/df) - 1) / W) is t(df)-distributed; exact for every df > 0,
 * two uniforms (times 4/pi for the rejections), a log, an exp and a square root, against a normal, a gamma and
 * a square root for N(0,1) / sqrt(Chi2(df) / df). expm1 keeps W^(-2/df) - 1 accurate at large df, where the
 * method becomes Marsaglia's polar method for the normal.
 */
export function studentTHost(df: number, rng: Rng): number {
  if (!(df > 0)) return NaN;
  for (;;) {
    const u = 2 * rng.uniform() - 1, v = 2 * rng.uniform() - 1;
    const w = u * u + v * v;
    if (w > 0 && w < 1) return u * Math.sqrt(df * Math.expm1(-2 * Math.log(w) / df) / w);
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
