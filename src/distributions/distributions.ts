// Probability distributions over real or count targets with differentiable
// log-densities (every parameter gets a gradient through the composed ops),
// seeded sampling and the mean. Parameters broadcast against each other, as
// in torch.distributions; the batch shape is their broadcast shape.
import { Tensor } from '../tensor.js';
import { add, div, exp, log, log1p, mul, neg, softplus, square, sub } from '../ops/elementwise.js';
import { expand } from '../ops/view.js';
import { fromArray } from '../ops/creation.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { globalRng, type Rng } from '../rng.js';
import { lgamma } from './special.js';
import { gammaHost, poissonHost, studentTHost } from './samplers.js';

export interface SampleOptions {
  /** The generator to draw from (default: the global one that manualSeed sets). */
  generator?: Rng;
}

export interface Distribution {
  /** The broadcast shape of the parameters; logProb, sample and mean have it. */
  readonly batchShape: readonly number[];
  /** The parameter tensors by name (a plain object, so that scope() can keep them). */
  readonly params: Record<string, Tensor>;
  /** log p(value), elementwise; value broadcasts against the batch shape. */
  logProb(value: Tensor): Tensor;
  /** One draw per batch element (no gradient). */
  sample(opts?: SampleOptions): Promise<Tensor>;
  /** The same draws as sample() on the host, row-major over the batch shape (sample() uploads them): a caller
   *  that wants the values saves the upload and the read back. */
  sampleValues(opts?: SampleOptions): Promise<Float32Array>;
  mean(): Tensor;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

function batchShapeOf(name: string, params: Record<string, Tensor>): number[] {
  const tensors = Object.values(params);
  const shape = broadcastShapes(...tensors.map((t) => t.shape));
  if (!shape) {
    throw new Error(`${name}: parameter shapes do not broadcast: ${Object.entries(params).map(([k, t]) => `${k} ${fmtShape(t.shape)}`).join(', ')} (backend ${tensors[0].backend.name})`);
  }
  const backends = new Set(tensors.map((t) => t.backend.name));
  if (backends.size > 1) throw new Error(`${name}: parameters live on different backends (${[...backends].join(', ')})`);
  return shape;
}

/** Reads parameters broadcast to the batch shape onto the host (a parameter of the batch shape as it is). */
async function hostValues(shape: readonly number[], params: Tensor[]): Promise<Float32Array[]> {
  return Promise.all(params.map(async (p) => {
    const values = await (p.shape.length === shape.length && p.shape.every((n, i) => n === shape[i]) ? p : expand(p, shape)).data();
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }));
}

/** A host draw as a tensor of the batch shape on the parameters' backend. */
async function upload(d: Distribution, values: Promise<Float32Array>): Promise<Tensor> {
  return fromArray(await values, d.batchShape, { backend: Object.values(d.params)[0].backend.name });
}

export class Normal implements Distribution {
  readonly batchShape: readonly number[];
  readonly params: Record<string, Tensor>;
  constructor(readonly loc: Tensor, readonly scale: Tensor) {
    this.batchShape = batchShapeOf('Normal', { loc, scale });
    this.params = { loc, scale };
  }
  logProb(value: Tensor): Tensor {
    const z = div(sub(value, this.loc), this.scale);
    return neg(add(add(mul(square(z), 0.5), log(this.scale)), HALF_LOG_TWO_PI));
  }
  async sample(opts: SampleOptions = {}): Promise<Tensor> { return upload(this, this.sampleValues(opts)); }
  async sampleValues(opts: SampleOptions = {}): Promise<Float32Array> {
    const rng = opts.generator ?? globalRng;
    const [loc, scale] = await hostValues(this.batchShape, [this.loc, this.scale]);
    const out = new Float32Array(loc.length);
    for (let i = 0; i < out.length; i++) out[i] = loc[i] + scale[i] * rng.normal();
    return out;
  }
  mean(): Tensor { return expand(this.loc, this.batchShape).contiguous(); }
}

/** Student's t with df degrees of freedom, location and scale (GluonTS's default DeepAR head). */
export class StudentT implements Distribution {
  readonly batchShape: readonly number[];
  readonly params: Record<string, Tensor>;
  constructor(readonly df: Tensor, readonly loc: Tensor, readonly scale: Tensor) {
    this.batchShape = batchShapeOf('StudentT', { df, loc, scale });
    this.params = { df, loc, scale };
  }
  logProb(value: Tensor): Tensor {
    const z = div(sub(value, this.loc), this.scale);
    const halfDfPlusHalf = mul(add(this.df, 1), 0.5);
    const normalizer = sub(sub(lgamma(halfDfPlusHalf), lgamma(mul(this.df, 0.5))), add(mul(log(this.df), 0.5), add(log(this.scale), 0.5 * Math.log(Math.PI))));
    return sub(normalizer, mul(halfDfPlusHalf, log1p(div(square(z), this.df))));
  }
  async sample(opts: SampleOptions = {}): Promise<Tensor> { return upload(this, this.sampleValues(opts)); }
  /** loc + scale * t(df), t(df) by Bailey's polar method. */
  async sampleValues(opts: SampleOptions = {}): Promise<Float32Array> {
    const rng = opts.generator ?? globalRng;
    const [df, loc, scale] = await hostValues(this.batchShape, [this.df, this.loc, this.scale]);
    const out = new Float32Array(df.length);
    for (let i = 0; i < out.length; i++) out[i] = loc[i] + scale[i] * studentTHost(df[i], rng);
    return out;
  }
  /** The location (the mean exists for df > 1, which GluonTS's parameter map keeps: df > 2). */
  mean(): Tensor { return expand(this.loc, this.batchShape).contiguous(); }
}

/** Gamma with concentration (shape) and rate; sampled by Marsaglia & Tsang on the host. */
export class Gamma implements Distribution {
  readonly batchShape: readonly number[];
  readonly params: Record<string, Tensor>;
  constructor(readonly concentration: Tensor, readonly rate: Tensor) {
    this.batchShape = batchShapeOf('Gamma', { concentration, rate });
    this.params = { concentration, rate };
  }
  logProb(value: Tensor): Tensor {
    const a = this.concentration;
    return sub(add(mul(a, log(this.rate)), mul(sub(a, 1), log(value))), add(mul(this.rate, value), lgamma(a)));
  }
  async sample(opts: SampleOptions = {}): Promise<Tensor> { return upload(this, this.sampleValues(opts)); }
  async sampleValues(opts: SampleOptions = {}): Promise<Float32Array> {
    const rng = opts.generator ?? globalRng;
    const [a, b] = await hostValues(this.batchShape, [this.concentration, this.rate]);
    const out = new Float32Array(a.length);
    for (let i = 0; i < out.length; i++) out[i] = gammaHost(a[i], rng) / b[i];
    return out;
  }
  mean(): Tensor { return div(this.concentration, this.rate); }
}

/**
 * Negative binomial over counts 0, 1, 2, ... with torch's parametrization: the number
 * of failures before totalCount successes, success odds exp(logits); mean totalCount exp(logits).
 */
export class NegativeBinomial implements Distribution {
  readonly batchShape: readonly number[];
  readonly params: Record<string, Tensor>;
  constructor(readonly totalCount: Tensor, readonly logits: Tensor) {
    this.batchShape = batchShapeOf('NegativeBinomial', { totalCount, logits });
    this.params = { totalCount, logits };
  }
  logProb(value: Tensor): Tensor {
    // log sigmoid(x) = -softplus(-x).
    const logUnnormalized = neg(add(mul(this.totalCount, softplus(this.logits)), mul(value, softplus(neg(this.logits)))));
    const logBinomial = sub(lgamma(add(this.totalCount, value)), add(lgamma(add(value, 1)), lgamma(this.totalCount)));
    return add(logUnnormalized, logBinomial);
  }
  /** Gamma-Poisson mixture: rate ~ Gamma(totalCount) exp(logits), count ~ Poisson(rate) (as torch). */
  async sample(opts: SampleOptions = {}): Promise<Tensor> { return upload(this, this.sampleValues(opts)); }
  async sampleValues(opts: SampleOptions = {}): Promise<Float32Array> {
    const rng = opts.generator ?? globalRng;
    const [count, logits] = await hostValues(this.batchShape, [this.totalCount, this.logits]);
    const out = new Float32Array(count.length);
    for (let i = 0; i < out.length; i++) out[i] = poissonHost(gammaHost(count[i], rng) * Math.exp(logits[i]), rng);
    return out;
  }
  mean(): Tensor { return mul(this.totalCount, exp(this.logits)); }
}

/**
 * Maps a network's unconstrained outputs to a distribution's parameters, as
 * GluonTS's DistributionOutput classes do (torch version): argsDim columns of raw
 * values, domainMap to valid parameters, and distribution() applying the target
 * scale of mean scaling.
 */
export interface DistributionOutput {
  readonly name: string;
  /** Raw values per parameter, in order. */
  readonly argNames: readonly string[];
  /** raw [..., argNames.length] -> the distribution of the scaled target, rescaled by `scale` (broadcasting over raw's leading dims). */
  distribution(raw: Tensor, scale?: Tensor): Distribution;
}

const FLOAT32_EPS = 1.1920928955078125e-7;
/** softplus clamped to float32's epsilon, as GluonTS's scale maps. */
const positive = (x: Tensor): Tensor => softplus(x).maximum(FLOAT32_EPS);

function splitArgs(name: string, raw: Tensor, count: number): Tensor[] {
  if (raw.ndim < 1 || raw.shape[raw.ndim - 1] !== count) {
    throw new Error(`${name}.distribution: expected raw arguments [..., ${count}], got ${fmtShape(raw.shape)} (backend ${raw.backend.name})`);
  }
  return Array.from({ length: count }, (_, i) => raw.select(-1, i));
}

/** loc as is, scale = softplus (GluonTS NormalOutput). */
export const normalOutput: DistributionOutput = {
  name: 'normal',
  argNames: ['loc', 'scale'],
  distribution(raw, scale) {
    const [loc, s] = splitArgs('normalOutput', raw, 2);
    return scale ? new Normal(mul(loc, scale), mul(positive(s), scale)) : new Normal(loc, positive(s));
  },
};

/** df = 2 + softplus, loc as is, scale = softplus (GluonTS StudentTOutput). */
export const studentTOutput: DistributionOutput = {
  name: 'student-t',
  argNames: ['df', 'loc', 'scale'],
  distribution(raw, scale) {
    const [df, loc, s] = splitArgs('studentTOutput', raw, 3);
    const dfMapped = add(softplus(df), 2);
    return scale ? new StudentT(dfMapped, mul(loc, scale), mul(positive(s), scale)) : new StudentT(dfMapped, loc, positive(s));
  },
};

/** totalCount = softplus, logits as is, scaled by adding log(scale) to the logits (GluonTS NegativeBinomialOutput). */
export const negativeBinomialOutput: DistributionOutput = {
  name: 'negative-binomial',
  argNames: ['totalCount', 'logits'],
  distribution(raw, scale) {
    const [count, logits] = splitArgs('negativeBinomialOutput', raw, 2);
    return new NegativeBinomial(positive(count), scale ? add(logits, log(scale)) : logits);
  },
};

export const distributionOutputs: Record<string, DistributionOutput> = {
  normal: normalOutput, 'student-t': studentTOutput, 'negative-binomial': negativeBinomialOutput,
};

/** The output head by name: 'normal' | 'student-t' | 'negative-binomial'. */
export function distributionOutput(name: string): DistributionOutput {
  const out = distributionOutputs[name];
  if (!out) throw new Error(`distributionOutput: unknown distribution '${name}' (${Object.keys(distributionOutputs).join(', ')})`);
  return out;
}

