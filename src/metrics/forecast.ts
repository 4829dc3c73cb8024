// Probabilistic forecast evaluation: point and quantile metrics as AutoGluon
// defines them, CRPS estimated from sample paths, the naive, seasonal naive and
// per-group mean profile baselines, and rolling-window splits. NaN targets are
// missing values and are left out of every metric.

/** What every forecaster here yields for one item: predictionLength values from step `start`. */
export interface QuantileForecast {
  readonly start: number;
  readonly predictionLength: number;
  quantile(q: number): Float32Array;
  mean(): Float32Array;
}

/** The quantile levels AutoGluon evaluates by default. */
export const DEFAULT_QUANTILES: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** A point forecast: every quantile is the point. */
export class PointForecast implements QuantileForecast {
  readonly predictionLength: number;
  constructor(readonly start: number, readonly values: Float32Array) { this.predictionLength = values.length; }
  quantile(): Float32Array { return this.values; }
  mean(): Float32Array { return this.values; }
}

/** Empirical quantiles (numpy's linear interpolation) of sorted values. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1), lo = Math.floor(pos), hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** A forecast given by a set of values per step (e.g. the values of similar items): quantiles and mean of each set. */
export class EmpiricalForecast implements QuantileForecast {
  readonly predictionLength: number;
  private readonly sorted: Float64Array[];
  constructor(readonly start: number, values: ArrayLike<number>[]) {
    this.predictionLength = values.length;
    this.sorted = values.map((v) => Float64Array.from(v).sort());
  }
  quantile(q: number): Float32Array { return Float32Array.from(this.sorted, (s) => sortedQuantile(s, q)); }
  mean(): Float32Array { return Float32Array.from(this.sorted, (s) => s.reduce((a, b) => a + b, 0) / s.length); }
}

function lastObserved(history: ArrayLike<number>, end: number): number {
  for (let t = end - 1; t >= 0; t--) if (!Number.isNaN(history[t])) return history[t];
  return NaN;
}

/** Repeats the last observed value before `start`. */
export function naiveForecast(history: ArrayLike<number>, start: number, predictionLength: number): PointForecast {
  return new PointForecast(start, new Float32Array(predictionLength).fill(lastObserved(history, start)));
}

/** y[start + k - m * ceil((k + 1) / m)]: the last observed season repeated; falls back to naive where it is missing. */
export function seasonalNaiveForecast(history: ArrayLike<number>, start: number, predictionLength: number, period: number): PointForecast {
  if (!Number.isInteger(period) || period < 1) throw new Error(`seasonalNaiveForecast: period must be a positive integer, got ${period}`);
  const fallback = lastObserved(history, start);
  const out = new Float32Array(predictionLength);
  for (let k = 0; k < predictionLength; k++) {
    const t = start + k - period * Math.ceil((k + 1) / period);
    const v = t >= 0 ? history[t] : NaN;
    out[k] = Number.isNaN(v) ? fallback : v;
  }
  return new PointForecast(start, out);
}

/**
 * The per-group profile: for each group and each phase (t mod period) the values of the
 * group's training items at that phase, over all their observed steps before `end`.
 * forecast(group, start, P) gives their empirical quantiles and mean (the "mean profile").
 */
export class GroupProfile {
  private readonly values: number[][][];
  constructor(series: { target: ArrayLike<number>; group: number }[], readonly period: number, end?: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`GroupProfile: period must be a positive integer, got ${period}`);
    const groups = Math.max(0, ...series.map((s) => s.group + 1));
    this.values = Array.from({ length: groups }, () => Array.from({ length: period }, () => [] as number[]));
    for (const s of series) {
      const stop = Math.min(end ?? s.target.length, s.target.length);
      for (let t = 0; t < stop; t++) if (!Number.isNaN(s.target[t])) this.values[s.group][t % period].push(s.target[t]);
    }
  }
  forecast(group: number, start: number, predictionLength: number): EmpiricalForecast {
    const byPhase = this.values[group];
    if (!byPhase || byPhase.every((v) => v.length === 0)) throw new Error(`GroupProfile.forecast: no training values for group ${group}`);
    return new EmpiricalForecast(start, Array.from({ length: predictionLength }, (_, k) => byPhase[(start + k) % this.period]));
  }
}

/** Forecast starts of numWindows consecutive, non-overlapping test windows at the end of a series of `length` steps. */
export function rollingWindowStarts(length: number, predictionLength: number, numWindows: number): number[] {
  const first = length - numWindows * predictionLength;
  if (first < 1) throw new Error(`rollingWindowStarts: ${numWindows} windows of ${predictionLength} do not fit in ${length} steps`);
  return Array.from({ length: numWindows }, (_, w) => first + w * predictionLength);
}

/** CRPS of one observation y from samples, E|X - y| - E|X - X'| / 2 with the empirical distribution of the samples. */
export function crpsFromSamples(samples: ArrayLike<number>, y: number): number {
  const n = samples.length;
  if (n === 0) throw new Error('crpsFromSamples: no samples');
  const sorted = Float64Array.from(samples).sort();
  let absErr = 0, spread = 0;
  // sum_{i,j} |x_i - x_j| = 2 sum_i (2i - n + 1) x_(i) with 0-based ranks.
  for (let i = 0; i < n; i++) { absErr += Math.abs(sorted[i] - y); spread += (2 * i - n + 1) * sorted[i]; }
  return absErr / n - spread / (n * n);
}

export interface ForecastCase {
  /** The item's values; the truth is read at [forecast.start, forecast.start + P). */
  target: ArrayLike<number>;
  forecast: QuantileForecast;
  /** Sample paths [numSamples * P], row-major, for CRPS (optional). */
  samples?: Float32Array;
}

export interface ForecastScores {
  /** Mean over items of mean |y - median| / in-sample mean |y_t - y_{t-m}| (AutoGluon's MASE, on the median). */
  mase: number;
  /** mean |y - median| / |y| over points with y != 0. */
  mape: number;
  /** mean 2 |y - median| / (|y| + |median|). */
  smape: number;
  /** sum |y - median| / sum |y|. */
  nd: number;
  /** sqrt(mean (y - mean forecast)^2). */
  rmse: number;
  /** AutoGluon's WQL: mean over levels q of 2 sum pinball_q / sum |y|. */
  wql: number;
  /** Mean CRPS over points (only when every case has samples). */
  crps?: number;
  points: number;
}

/** Scores forecasts of many items together (sums over all items and steps, as AutoGluon and GluonTS aggregate). */
export function scoreForecasts(cases: ForecastCase[], opts: { seasonalPeriod?: number; quantiles?: readonly number[] } = {}): ForecastScores {
  const m = opts.seasonalPeriod ?? 1;
  const levels = opts.quantiles ?? DEFAULT_QUANTILES;
  if (cases.length === 0) throw new Error('scoreForecasts: no forecasts');
  let absErr = 0, absY = 0, sqErr = 0, points = 0, apeSum = 0, apeCount = 0, smapeSum = 0, crpsSum = 0;
  const pinball = new Float64Array(levels.length);
  let maseSum = 0, maseItems = 0;
  const withSamples = cases.every((c) => c.samples);
  for (const { target, forecast, samples } of cases) {
    const P = forecast.predictionLength, start = forecast.start;
    if (start + P > target.length) throw new Error(`scoreForecasts: forecast [${start}, ${start + P}) runs past the target (${target.length} steps)`);
    const median = forecast.quantile(0.5), mean = forecast.mean();
    const atLevels = levels.map((q) => forecast.quantile(q));
    let itemAbs = 0, itemPoints = 0;
    for (let k = 0; k < P; k++) {
      const y = target[start + k];
      if (Number.isNaN(y)) continue;
      const e = Math.abs(y - median[k]);
      absErr += e; absY += Math.abs(y); sqErr += (y - mean[k]) ** 2; points++;
      itemAbs += e; itemPoints++;
      if (y !== 0) { apeSum += e / Math.abs(y); apeCount++; }
      const denom = Math.abs(y) + Math.abs(median[k]);
      smapeSum += denom > 0 ? (2 * e) / denom : 0;
      levels.forEach((q, j) => { const d = y - atLevels[j][k]; pinball[j] += d >= 0 ? q * d : (q - 1) * d; });
      if (withSamples) {
        const n = samples!.length / P;
        crpsSum += crpsFromSamples(Float32Array.from({ length: n }, (_, i) => samples![i * P + k]), y);
      }
    }
    // The in-sample seasonal naive error of the history before the forecast.
    let naiveErr = 0, naiveCount = 0;
    for (let t = m; t < start; t++) {
      const d = target[t] - target[t - m];
      if (!Number.isNaN(d)) { naiveErr += Math.abs(d); naiveCount++; }
    }
    if (itemPoints > 0 && naiveCount > 0 && naiveErr > 0) { maseSum += (itemAbs / itemPoints) / (naiveErr / naiveCount); maseItems++; }
  }
  if (points === 0) throw new Error('scoreForecasts: no observed target in any forecast window');
  const wql = absY > 0 ? pinball.reduce((a, p) => a + (2 * p) / absY, 0) / levels.length : NaN;
  const scores: ForecastScores = {
    mase: maseItems > 0 ? maseSum / maseItems : NaN,
    mape: apeCount > 0 ? apeSum / apeCount : NaN,
    smape: smapeSum / points,
    nd: absY > 0 ? absErr / absY : NaN,
    rmse: Math.sqrt(sqErr / points),
    wql,
    points,
  };
  if (withSamples) scores.crps = crpsSum / points;
  return scores;
}
