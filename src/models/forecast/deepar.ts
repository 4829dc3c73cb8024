// DeepAR (Salinas, Flunkert, Gasthaus, Januschowski, 2020) on the public API,
// laid out as GluonTS's torch DeepARModel: a global multi-layer LSTM whose input
// at step t is the lagged targets divided by the series' mean scale, the time
// features of t, embeddings of the static categorical features, the static real
// features and log(scale); a linear head gives the raw parameters of the output
// distribution of y[t], rescaled by the series scale. Trained on windows of
// contextLength + predictionLength steps with the log-likelihood masked by the
// observed values (teacher forcing); forecasts by ancestral sampling of paths.
//
// Deviations from GluonTS, each for cold start: an item whose context has no
// observed (non-zero) value gets the training set's mean scale (`defaultScale`,
// stored with the model) instead of the batch mean, which would depend on what
// else is in the batch; and `historyDropRate` (default 0, i.e. off) trains a
// share of windows with the history cut: half of them with none (c = 0), half
// with the last c values, c uniform in 1..contextLength, so that the network learns to forecast from static
// features when there is little or no history.
import * as T from '../../index.js';
import { checkFrequency, lagsForFrequency, numTimeFeatures, writeTimeFeatures, type Frequency } from './frequency.js';

/** One item: its target (NaN = missing), start time and static features. */
export interface ForecastSeries {
  target: ArrayLike<number>;
  /** UTC milliseconds of step 0 (default 2000-01-03, a Monday). */
  start?: number;
  /** One index per categorical feature, each in [0, cardinality). */
  staticCat?: number[];
  staticReal?: number[];
  id?: string;
}

export const DEFAULT_START = Date.UTC(2000, 0, 3);

export interface DeepARConfig {
  freq: Frequency;
  predictionLength: number;
  /** Steps whose targets condition the forecast (and set the scale); default predictionLength, as GluonTS. */
  contextLength: number;
  numLayers: number;
  hiddenSize: number;
  dropout: number;
  /** One entry per static categorical feature. */
  cardinality: number[];
  /** min(50, floor((cardinality + 1) / 2)) each unless given. */
  embeddingDims: number[];
  numStaticReal: number;
  distribution: string;
  lags: number[];
  /** The scale of an item without observed history (set from the training data by fit). */
  defaultScale: number;
}

export type DeepAROptions = Partial<DeepARConfig> & Pick<DeepARConfig, 'freq' | 'predictionLength'>;

const CONFIG_KEYS: readonly (keyof DeepARConfig)[] = ['freq', 'predictionLength', 'contextLength', 'numLayers', 'hiddenSize', 'dropout',
  'cardinality', 'embeddingDims', 'numStaticReal', 'distribution', 'lags', 'defaultScale'];
const MINIMUM_SCALE = 1e-10;

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`DeepAR: ${name} must be a positive integer, got ${v}`);
  return v;
}

export function resolveConfig(opts: DeepAROptions): DeepARConfig {
  for (const key of Object.keys(opts)) if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw new Error(`DeepAR: unknown option '${key}'`);
  const freq = checkFrequency('DeepAR', opts.freq);
  const cardinality = opts.cardinality ?? [];
  cardinality.forEach((c) => positiveInt('cardinality', c));
  const embeddingDims = opts.embeddingDims ?? cardinality.map((c) => Math.min(50, Math.floor((c + 1) / 2)));
  if (embeddingDims.length !== cardinality.length) throw new Error(`DeepAR: ${embeddingDims.length} embedding sizes for ${cardinality.length} categorical features`);
  const config: DeepARConfig = {
    freq,
    predictionLength: positiveInt('predictionLength', opts.predictionLength),
    contextLength: positiveInt('contextLength', opts.contextLength ?? opts.predictionLength),
    numLayers: positiveInt('numLayers', opts.numLayers ?? 2),
    hiddenSize: positiveInt('hiddenSize', opts.hiddenSize ?? 40),
    dropout: opts.dropout ?? 0.1,
    cardinality,
    embeddingDims: embeddingDims.map((d) => positiveInt('embeddingDims', d)),
    numStaticReal: opts.numStaticReal ?? 0,
    distribution: opts.distribution ?? 'student-t',
    lags: opts.lags ?? lagsForFrequency(freq),
    defaultScale: opts.defaultScale ?? 1,
  };
  T.distributions.distributionOutput(config.distribution);
  if (!(config.defaultScale > 0)) throw new Error(`DeepAR: defaultScale must be positive, got ${config.defaultScale}`);
  return config;
}

/** A window of one series: steps [start - contextLength, start + predictionLength) with history visible from `visibleFrom`. */
interface Window { item: number; start: number; visibleFrom: number }

export interface FitOptions {
  epochs?: number;
  batchesPerEpoch?: number;
  batchSize?: number;
  learningRate?: number;
  /** Gradient norm clip (GluonTS: 10). */
  clipNorm?: number;
  /** Share of training windows whose history is cut: half of them to nothing, half to the last c values, c uniform in 1..contextLength (default 0). */
  historyDropRate?: number;
  generator?: T.Rng;
  /** Called after each epoch with its mean loss (negative log-likelihood per observed value). */
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface PredictOptions {
  numSamples?: number;
  generator?: T.Rng;
  /** Items per batch (each expands to numSamples paths). */
  batchSize?: number;
  /** Step at which each forecast starts (default: the end of each target). Targets at and after it are not read. */
  forecastStart?: number[];
}

/** numSamples paths of predictionLength values for one item. */
export class SampleForecast {
  constructor(readonly samples: Float32Array, readonly numSamples: number, readonly predictionLength: number, readonly start: number) {}
  /** The q-quantile of the paths at each step (linear interpolation between order statistics, as numpy's default). */
  quantile(q: number): Float32Array {
    if (!(q >= 0 && q <= 1)) throw new Error(`SampleForecast.quantile: level ${q} must lie in [0, 1]`);
    const out = new Float32Array(this.predictionLength);
    const column = new Float64Array(this.numSamples);
    for (let k = 0; k < this.predictionLength; k++) {
      for (let n = 0; n < this.numSamples; n++) column[n] = this.samples[n * this.predictionLength + k];
      column.sort();
      const pos = q * (this.numSamples - 1), lo = Math.floor(pos), hi = Math.min(lo + 1, this.numSamples - 1);
      out[k] = column[lo] + (pos - lo) * (column[hi] - column[lo]);
    }
    return out;
  }
  mean(): Float32Array {
    const out = new Float32Array(this.predictionLength);
    for (let n = 0; n < this.numSamples; n++) for (let k = 0; k < this.predictionLength; k++) out[k] += this.samples[n * this.predictionLength + k] / this.numSamples;
    return out;
  }
  /** Path n's values. */
  path(n: number): Float32Array { return this.samples.subarray(n * this.predictionLength, (n + 1) * this.predictionLength); }
}

/** The value the network sees at step t of a series: 0 where missing, hidden or outside it (GluonTS's imputation). */
function visibleValue(target: ArrayLike<number>, t: number, visibleFrom: number, end: number): number {
  if (t < visibleFrom || t < 0 || t >= end) return 0;
  const v = target[t];
  return Number.isNaN(v) ? 0 : v;
}

/** Mean |value| over the observed (non-NaN) values; 0 when there are none. */
function meanAbs(values: ArrayLike<number>): number {
  let sum = 0, count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) { sum += Math.abs(values[i]); count++; }
  return count > 0 ? sum / count : 0;
}

export class DeepAR extends T.nn.Module {
  readonly config: DeepARConfig;
  readonly embeddings: T.nn.Embedding[];
  readonly rnn: T.nn.LSTM;
  readonly head: T.nn.Linear;
  readonly output: T.distributions.DistributionOutput;
  /** Host features per step: lags, time features, static reals, log scale. */
  readonly hostFeatures: number;

  constructor(opts: DeepAROptions, moduleOpts: { generator?: T.Rng } = {}) {
    super();
    const config = this.config = resolveConfig(opts);
    this.output = T.distributions.distributionOutput(config.distribution);
    this.embeddings = config.cardinality.map((c, j) => this.child(`embed${j}`, new T.nn.Embedding(c, config.embeddingDims[j], moduleOpts)));
    this.hostFeatures = config.lags.length + numTimeFeatures(config.freq) + config.numStaticReal + 1;
    const inputSize = this.hostFeatures + config.embeddingDims.reduce((a, b) => a + b, 0);
    this.rnn = this.child('rnn', new T.nn.LSTM(inputSize, config.hiddenSize, { numLayers: config.numLayers, dropout: config.dropout, batchFirst: true, ...moduleOpts }));
    this.head = this.child('head', new T.nn.Linear(config.hiddenSize, this.output.argNames.length, moduleOpts));
  }

  /** Network input [B, L, F] and optional LSTM state to raw distribution arguments [B, L, args] and the new state. */
  forward(input: T.Tensor, state?: [T.Tensor, T.Tensor]): [T.Tensor, [T.Tensor, T.Tensor]] {
    const [hidden, next] = this.rnn.forward(input, state);
    return [this.head.forward(hidden), next];
  }

  private checkSeries(fn: string, series: ForecastSeries[]): void {
    const { cardinality, numStaticReal } = this.config;
    series.forEach((s, i) => {
      const cats = s.staticCat ?? [], reals = s.staticReal ?? [];
      if (cats.length !== cardinality.length) throw new Error(`DeepAR.${fn}: series ${i} has ${cats.length} static categorical features, the model ${cardinality.length}`);
      cats.forEach((c, j) => {
        if (!Number.isInteger(c) || c < 0 || c >= cardinality[j]) throw new Error(`DeepAR.${fn}: series ${i} static category ${j} is ${c}, outside [0, ${cardinality[j]})`);
      });
      if (reals.length !== numStaticReal) throw new Error(`DeepAR.${fn}: series ${i} has ${reals.length} static real features, the model ${numStaticReal}`);
    });
  }

  /** GluonTS's mean scale of the visible context [start - contextLength, start), or defaultScale without observed signal. */
  private scaleOf(target: ArrayLike<number>, start: number, visibleFrom: number): number {
    let sum = 0, count = 0;
    for (let t = Math.max(start - this.config.contextLength, visibleFrom, 0); t < start; t++) {
      const v = target[t];
      if (!Number.isNaN(v)) { sum += Math.abs(v); count++; }
    }
    return Math.max(MINIMUM_SCALE, sum > 0 ? sum / count : this.config.defaultScale);
  }

  /** Writes one step's host features: lags of the scaled values (valueAt), time features, static reals, log scale. */
  private writeStep(out: Float32Array, offset: number, s: ForecastSeries, t: number, scale: number, valueAt: (t: number) => number): void {
    const { lags, freq } = this.config;
    let i = offset;
    for (const lag of lags) out[i++] = valueAt(t - lag) / scale;
    writeTimeFeatures(freq, s.start ?? DEFAULT_START, t, out, i);
    i += numTimeFeatures(freq);
    for (const r of s.staticReal ?? []) out[i++] = r;
    out[i] = Math.log(scale);
  }

  /** The network input [B, L, F]: host features joined with each item's static embeddings [B, E] (none without categorical features). */
  private networkInput(host: Float32Array, rows: number, steps: number, embedded: T.Tensor | undefined): T.Tensor {
    const x = T.fromArray(host, [rows, steps, this.hostFeatures]);
    if (!embedded) return x;
    return T.concat([x, embedded.unsqueeze(1).expand([rows, steps, embedded.shape[1]])], -1);
  }

  /** The static categorical features' embeddings [B, E] of items with categories `cats` [B * nCat]; undefined without such features. */
  private staticEmbedding(cats: Int32Array, rows: number): T.Tensor | undefined {
    if (this.embeddings.length === 0) return undefined;
    const catT = T.fromArray(cats, [rows, this.embeddings.length], { dtype: 'int32' });
    return T.concat(this.embeddings.map((e, j) => e.forward(catT.select(1, j))), -1);
  }

  private catsOf(series: ForecastSeries[], items: number[]): Int32Array {
    const nCat = this.embeddings.length;
    const out = new Int32Array(items.length * nCat);
    items.forEach((item, b) => (series[item].staticCat ?? []).forEach((c, j) => { out[b * nCat + j] = c; }));
    return out;
  }

  /** Negative log-likelihood per observed value on a batch of windows (teacher forcing over context and future). */
  private windowLoss(series: ForecastSeries[], windows: Window[]): T.Tensor {
    const { contextLength: C, predictionLength: P } = this.config;
    const L = C + P, B = windows.length, F = this.hostFeatures;
    const host = new Float32Array(B * L * F), target = new Float32Array(B * L), mask = new Float32Array(B * L), scales = new Float32Array(B);
    windows.forEach((w, b) => {
      const s = series[w.item], end = w.start + P;
      const scale = scales[b] = this.scaleOf(s.target, w.start, w.visibleFrom);
      const valueAt = (t: number) => visibleValue(s.target, t, w.visibleFrom, end);
      for (let k = 0; k < L; k++) {
        const t = w.start - C + k;
        this.writeStep(host, (b * L + k) * F, s, t, scale, valueAt);
        const observed = t >= Math.max(w.visibleFrom, 0) && t < end && !Number.isNaN(s.target[t]);
        target[b * L + k] = observed ? s.target[t] : 0;
        mask[b * L + k] = observed ? 1 : 0;
      }
    });
    const input = this.networkInput(host, B, L, this.staticEmbedding(this.catsOf(series, windows.map((w) => w.item)), B));
    const [raw] = this.forward(input);
    const distribution = this.output.distribution(raw, T.fromArray(scales, [B, 1]));
    const maskT = T.fromArray(mask, [B, L]);
    const logLik = T.sum(T.mul(distribution.logProb(T.fromArray(target, [B, L])), maskT));
    return T.div(T.neg(logLik), Math.max(1, mask.reduce((a, v) => a + v, 0)));
  }

  /**
   * Trains on windows sampled uniformly over (item, forecast start) pairs whose future
   * lies inside the target, as GluonTS's instance sampler; sets defaultScale from the data.
   */
  fit(series: ForecastSeries[], opts: FitOptions = {}): number[] {
    const known = ['epochs', 'batchesPerEpoch', 'batchSize', 'learningRate', 'clipNorm', 'historyDropRate', 'generator', 'onEpoch'];
    for (const key of Object.keys(opts)) if (!known.includes(key)) throw new Error(`DeepAR.fit: unknown option '${key}'`);
    this.checkSeries('fit', series);
    const { contextLength: C, predictionLength: P } = this.config;
    const rng = opts.generator ?? new T.Rng(0);
    const dropRate = opts.historyDropRate ?? 0;
    // The mean of the items' mean |observed value|: the scale given to an item with no history.
    const itemScales = series.map((s) => meanAbs(s.target)).filter((v) => v > 0);
    if (itemScales.length > 0) this.config.defaultScale = itemScales.reduce((a, b) => a + b, 0) / itemScales.length;
    const starts: [number, number][] = [];
    series.forEach((s, i) => { if (s.target.length - P >= 1) starts.push([i, s.target.length - P]); });
    if (starts.length === 0) throw new Error(`DeepAR.fit: no series is longer than predictionLength ${P}`);
    const totalStarts = starts.reduce((a, [, n]) => a + n, 0);
    const drawWindow = (): Window => {
      let r = rng.int(totalStarts), k = 0;
      while (r >= starts[k][1]) { r -= starts[k][1]; k++; }
      const start = r + 1;
      // Cut windows: half with no history at all (cold start), half with the last 1..C values.
      const cut = rng.uniform() < dropRate;
      const visibleFrom = !cut ? 0 : rng.uniform() < 0.5 ? start : start - 1 - rng.int(C);
      return { item: starts[k][0], start, visibleFrom };
    };
    const optimizer = new T.optim.Adam(this.parameters(), { lr: opts.learningRate ?? 1e-3 });
    const epochs = opts.epochs ?? 20, batches = opts.batchesPerEpoch ?? 50, batchSize = opts.batchSize ?? 32;
    const clipNorm = opts.clipNorm ?? 10;
    const losses: number[] = [];
    this.train();
    for (let epoch = 0; epoch < epochs; epoch++) {
      let total = 0;
      for (let b = 0; b < batches; b++) {
        total += T.scope(() => {
          optimizer.zeroGrad();
          const loss = this.windowLoss(series, Array.from({ length: batchSize }, drawWindow));
          loss.backward();
          T.optim.clipGradNorm(this.parameters(), clipNorm);
          optimizer.step();
          return loss.item();
        });
      }
      losses.push(total / batches);
      opts.onEpoch?.(epoch, total / batches);
    }
    this.eval();
    return losses;
  }

  /** Forecasts by ancestral sampling: numSamples paths per item, each step's draw fed back as lag input. */
  async predict(series: ForecastSeries[], opts: PredictOptions = {}): Promise<SampleForecast[]> {
    const known = ['numSamples', 'generator', 'batchSize', 'forecastStart'];
    for (const key of Object.keys(opts)) if (!known.includes(key)) throw new Error(`DeepAR.predict: unknown option '${key}'`);
    this.checkSeries('predict', series);
    const N = positiveInt('numSamples', opts.numSamples ?? 100);
    const rng = opts.generator ?? new T.Rng(0);
    const starts = opts.forecastStart ?? series.map((s) => s.target.length);
    if (starts.length !== series.length) throw new Error(`DeepAR.predict: ${starts.length} forecast starts for ${series.length} series`);
    const batchSize = opts.batchSize ?? Math.max(1, Math.floor(4096 / N));
    const wasTraining = this.training;
    this.eval();
    const forecasts: SampleForecast[] = [];
    try {
      for (let first = 0; first < series.length; first += batchSize) {
        const items = Array.from({ length: Math.min(batchSize, series.length - first) }, (_, k) => first + k);
        forecasts.push(...await this.predictBatch(series, items, starts, N, rng));
      }
    } finally {
      this.train(wasTraining);
    }
    return forecasts;
  }

  private async predictBatch(series: ForecastSeries[], items: number[], starts: number[], N: number, rng: T.Rng): Promise<SampleForecast[]> {
    const { contextLength: C, predictionLength: P } = this.config;
    const B = items.length, F = this.hostFeatures, R = B * N;
    const scales = items.map((i) => this.scaleOf(series[i].target, starts[i], 0));
    const cats = this.catsOf(series, items);
    const pathScales = Float32Array.from({ length: R }, (_, r) => scales[Math.floor(r / N)]);
    // Per batch, not per step: the context's state repeated to every path (per layer), the items' static
    // embeddings (read to the host, where they join each step's input row), and the layers' summed biases.
    const { h0, c0, embedded, layers, pathScalesT } = T.noGrad(() => T.scope(() => {
      const host = new Float32Array(B * C * F);
      items.forEach((item, b) => {
        const s = series[item], start = starts[item];
        for (let k = 0; k < C; k++) this.writeStep(host, (b * C + k) * F, s, start - C + k, scales[b], (t) => visibleValue(s.target, t, 0, start));
      });
      const itemEmbedded = this.staticEmbedding(cats, B);
      // Context: teacher-forced over the C steps before the forecast start, giving the state to sample from.
      const [, [h, c]] = this.rnn.forward(this.networkInput(host, B, C, itemEmbedded));
      const repeat = T.fromArray(Int32Array.from({ length: R }, (_, r) => Math.floor(r / N)), [R], { dtype: 'int32' });
      const [hPaths, cPaths] = [h, c].map((s) => T.indexSelect(s, 1, repeat));
      return {
        h0: this.rnn.layers.map((_, l) => hPaths.select(0, l)), c0: this.rnn.layers.map((_, l) => cPaths.select(0, l)),
        embedded: itemEmbedded,
        layers: this.rnn.layers.map(({ weightIh, weightHh, biasIh, biasHh }) => ({ weightIh, weightHh, biasIh: biasIh && biasHh ? T.add(biasIh, biasHh) : biasIh ?? biasHh })),
        pathScalesT: T.fromArray(pathScales, [R]),
      };
    }));
    const perBatch = [...h0, ...c0, ...(embedded ? [embedded] : []), ...layers.flatMap((w) => (w.biasIh ? [w.biasIh] : [])), pathScalesT];
    // A step's input row is the same for all N paths of an item except for the lags that reach into the
    // sampled values: the covariates, the lags of observed context and the static embedding are written once
    // per item and step (the lags with the path's float32 scale, as the paths' lags), the sampled lags per
    // path and step.
    const E = embedded?.shape[1] ?? 0, width = F + E;
    const embeddedHost = embedded ? await embedded.data() : new Float32Array(0);
    const fixed = new Float32Array(B * P * width);
    items.forEach((item, b) => {
      const s = series[item], start = starts[item];
      for (let k = 0; k < P; k++) {
        const row = (b * P + k) * width;
        this.writeStep(fixed, row, s, start + k, pathScales[b * N], (t) => (t >= start ? 0 : visibleValue(s.target, t, 0, start)));
        fixed.set(embeddedHost.subarray(b * E, (b + 1) * E), row + F);
      }
    });
    const paths = new Float32Array(R * P);
    const host = new Float32Array(R * width);
    let state = { h: h0, c: c0 };
    try {
      for (let k = 0; k < P; k++) {
        this.writeSampleStep(host, fixed, paths, pathScales, k, B, N, width);
        // One step of the stacked LSTM (eval: no dropout between layers), each layer's fused lstmLayer fed its own
        // state: nn.LSTM.forward would slice the states out of and stack them back into [layers, R, H] every step.
        const step = T.noGrad(() => T.scope(() => {
          let input = T.fromArray(host, [1, R, width]);
          const h: T.Tensor[] = [], c: T.Tensor[] = [];
          layers.forEach((w, l) => {
            const out = T.lstmLayer(input, w, { h0: state.h[l], c0: state.c[l] });
            input = out.output; h.push(out.h); c.push(out.c);
          });
          const distribution = this.output.distribution(this.head.forward(h[h.length - 1]), pathScalesT);
          return { h, c, params: distribution.params, distribution };
        }));
        const values = await step.distribution.sampleValues({ generator: rng });
        for (let r = 0; r < R; r++) paths[r * P + k] = values[r];
        for (const t of Object.values(step.params)) t.dispose();
        if (k > 0) for (const t of [...state.h, ...state.c]) t.dispose();
        state = step;
      }
    } finally {
      if (state.h !== h0) for (const t of [...state.h, ...state.c]) t.dispose();
      for (const t of perBatch) t.dispose();
    }
    return items.map((item, b) => new SampleForecast(paths.slice(b * N * P, (b + 1) * N * P), N, P, starts[item]));
  }

  /**
   * The input of forecast step k for all B * N paths (rows of `width` values): each item's fixed row (covariates,
   * context lags, static embedding) copied to its N paths by doubling copies, then the lags that reach into the
   * paths' sampled values.
   */
  private writeSampleStep(host: Float32Array, fixed: Float32Array, paths: Float32Array, pathScales: Float32Array, k: number, B: number, N: number, width: number): void {
    const { predictionLength: P, lags } = this.config;
    for (let b = 0; b < B; b++) {
      const first = b * N * width, row = (b * P + k) * width;
      host.set(fixed.subarray(row, row + width), first);
      for (let filled = 1; filled < N; filled *= 2) host.copyWithin(first + filled * width, first, first + Math.min(filled, N - filled) * width);
    }
    const sampled = lags.flatMap((lag, j) => (lag <= k ? [j] : []));
    for (let r = 0; r < B * N; r++) {
      const to = r * width, at = r * P + k, scale = pathScales[r];
      for (const j of sampled) host[to + j] = paths[at - lags[j]] / scale;
    }
  }

  /** The configuration as JSON (saved beside the weights). */
  configJson(): string { return JSON.stringify(this.config, null, 2); }
}
