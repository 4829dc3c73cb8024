// Parameter initializers (torch.nn.init), drawn from the seeded generator.
import { Tensor } from '../tensor.js';
import { fromArray } from '../ops/creation.js';
import { Rng, globalRng } from '../rng.js';
import { numel } from '../shape.js';

export interface InitOptions { backend?: string; generator?: Rng }

function draw(shape: number[], opts: InitOptions, f: (g: Rng) => number): Tensor {
  const g = opts.generator ?? globalRng;
  const v = new Float32Array(numel(shape));
  for (let i = 0; i < v.length; i++) v[i] = f(g);
  return fromArray(v, shape, { backend: opts.backend });
}

/** fan_in and fan_out as torch computes them (receptive field included for conv weights). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = numel(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export const uniform = (shape: number[], low: number, high: number, opts: InitOptions = {}): Tensor =>
  draw(shape, opts, (g) => low + (high - low) * g.uniform());
export const normal = (shape: number[], mean: number, std: number, opts: InitOptions = {}): Tensor =>
  draw(shape, opts, (g) => mean + std * g.normal());
export const zerosInit = (shape: number[], opts: InitOptions = {}): Tensor => draw(shape, opts, () => 0);

/** Normal truncated to [a, b] (in absolute units, like torch.nn.init.trunc_normal_), by rejection. */
export function truncatedNormal(shape: number[], mean = 0, std = 1, a = -2, b = 2, opts: InitOptions = {}): Tensor {
  if (!(b > a)) throw new Error(`truncatedNormal: need a < b, got ${a}, ${b}`);
  return draw(shape, opts, (g) => {
    for (let tries = 0; tries < 1000; tries++) { const v = mean + std * g.normal(); if (v >= a && v <= b) return v; }
    return Math.min(Math.max(mean, a), b);
  });
}

function gain(nonlinearity: string, a: number): number {
  switch (nonlinearity) {
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': return Math.sqrt(2 / (1 + a * a));
    case 'tanh': return 5 / 3;
    default: return 1;
  }
}

export interface KaimingOptions extends InitOptions { a?: number; mode?: 'fanIn' | 'fanOut'; nonlinearity?: string }

export function kaimingUniform(shape: number[], opts: KaimingOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const fan = opts.mode === 'fanOut' ? fanOut : fanIn;
  const bound = fan > 0 ? gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) * Math.sqrt(3 / fan) : 0;
  return uniform(shape, -bound, bound, opts);
}

export function kaimingNormal(shape: number[], opts: KaimingOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const fan = opts.mode === 'fanOut' ? fanOut : fanIn;
  const std = fan > 0 ? gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan) : 0;
  return normal(shape, 0, std, opts);
}

export function xavierUniform(shape: number[], gainValue = 1, opts: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const bound = gainValue * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, opts);
}

export function xavierNormal(shape: number[], gainValue = 1, opts: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return normal(shape, 0, gainValue * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/** (Semi-)orthogonal matrix via modified Gram-Schmidt on a Gaussian matrix (rows or columns orthonormal). */
export function orthogonal(shape: number[], gainValue = 1, opts: InitOptions = {}): Tensor {
  const rows = shape[0], cols = numel(shape.slice(1));
  const g = opts.generator ?? globalRng;
  const tall = rows >= cols;
  const n = tall ? rows : cols, m = tall ? cols : rows; // orthonormalize m vectors of length n
  const q = new Float64Array(m * n);
  for (let i = 0; i < q.length; i++) q[i] = g.normal();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += q[i * n + k] * q[j * n + k];
      for (let k = 0; k < n; k++) q[i * n + k] -= dot * q[j * n + k];
    }
    let norm = 0;
    for (let k = 0; k < n; k++) norm += q[i * n + k] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < n; k++) q[i * n + k] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    out[r * cols + c] = gainValue * (tall ? q[c * n + r] : q[r * n + c]);
  }
  return fromArray(out, shape, { backend: opts.backend });
}
