// `tessera deepar`: DeepAR's three protocols (warm start on exchange_rate,
// cold start on the load-profile panel, near-cold start on exchange_rate), and
// training / predicting with a saved model (safetensors + config.json).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../index.js';
import { registerCommand, type CliIO, type ParsedArgs } from './commands.js';
import * as forecast from '../models/forecast/index.js';
import type { ForecastSeries, DeepAROptions, FitOptions, SampleForecast, Frequency } from '../models/forecast/index.js';
import type { ForecastScores, QuantileForecast } from '../metrics/forecast.js';

/** Exchange rate: business days from 1990-01-01, as GluonTS's copy of the LSTNet file. */
export const EXCHANGE_START = Date.UTC(1990, 0, 1);
/** Training steps of exchange_rate: the first 80% (6071 of 7588), test windows right after them. */
export const EXCHANGE_TRAIN_STEPS = 6071;

export interface TrainBudget { epochs: number; batchesPerEpoch: number; batchSize: number; numSamples: number; learningRate: number }

export interface MethodScores { method: string; seeds: ForecastScores[]; mean: Record<string, number>; std: Record<string, number>; seconds: number }

function summarize(method: string, seeds: ForecastScores[], seconds: number): MethodScores {
  const keys = Object.keys(seeds[0]).filter((k) => k !== 'points') as (keyof ForecastScores)[];
  const mean: Record<string, number> = {}, std: Record<string, number> = {};
  for (const k of keys) {
    const v = seeds.map((s) => s[k] as number);
    mean[k] = v.reduce((a, b) => a + b, 0) / v.length;
    std[k] = Math.sqrt(v.reduce((a, b) => a + (b - mean[k]) ** 2, 0) / Math.max(1, v.length - 1));
  }
  return { method, seeds, mean, std, seconds };
}

function exchangeSeries(dir?: string): ForecastSeries[] {
  const table = T.data.loadExchangeRate({ dir });
  return Array.from({ length: table.cols }, (_, j) => ({
    id: `currency${j}`, start: EXCHANGE_START,
    target: Float32Array.from({ length: table.rows }, (_, t) => table.data[t * table.cols + j]),
  }));
}

const truncate = (s: ForecastSeries, end: number): ForecastSeries => ({ ...s, target: Array.prototype.slice.call(s.target, 0, end) as number[] });

function trainDeepAR(series: ForecastSeries[], model: DeepAROptions, budget: TrainBudget, seed: number, fit: Partial<FitOptions> = {}) {
  T.manualSeed(seed);
  const net = new forecast.DeepAR(model, { generator: new T.Rng(seed) });
  net.fit(series, { epochs: budget.epochs, batchesPerEpoch: budget.batchesPerEpoch, batchSize: budget.batchSize, learningRate: budget.learningRate, generator: new T.Rng(seed + 1000), ...fit });
  return net;
}

/** Warm start: DeepAR vs naive and seasonal naive on exchange_rate's 5 rolling windows of 30 business days. */
export async function warmStart(opts: { dir?: string; seeds: number[]; budget: TrainBudget; log: (s: string) => void }) {
  const series = exchangeSeries(opts.dir), P = 30, windows = 5, period = 5;
  const starts = T.metrics.rollingWindowStarts(EXCHANGE_TRAIN_STEPS + windows * P, P, windows);
  const train = series.map((s) => truncate(s, EXCHANGE_TRAIN_STEPS));
  const cases = (f: (s: ForecastSeries, start: number) => QuantileForecast) =>
    starts.flatMap((start) => series.map((s) => ({ target: s.target, forecast: f(s, start) })));
  const score = (c: ReturnType<typeof cases>) => T.metrics.scoreForecasts(c, { seasonalPeriod: period });
  const naive = summarize('naive', [score(cases((s, start) => T.metrics.naiveForecast(s.target, start, P)))], 0);
  const seasonal = summarize(`seasonal naive (period ${period})`, [score(cases((s, start) => T.metrics.seasonalNaiveForecast(s.target, start, P, period)))], 0);
  const runs: ForecastScores[] = [];
  const t0 = performance.now();
  let fan: { series: ForecastSeries; forecast: SampleForecast }[] = [];
  for (const seed of opts.seeds) {
    const net = trainDeepAR(train, { freq: 'B', predictionLength: P }, opts.budget, seed);
    const all: { target: ArrayLike<number>; forecast: SampleForecast; samples: Float32Array }[] = [];
    for (const start of starts) {
      const fc = await net.predict(series, { forecastStart: series.map(() => start), numSamples: opts.budget.numSamples, generator: new T.Rng(seed) });
      fc.forEach((f, i) => all.push({ target: series[i].target, forecast: f, samples: f.samples }));
      if (seed === opts.seeds[0] && start === starts[0]) fan = fc.slice(0, 3).map((forecast, i) => ({ series: series[i], forecast }));
    }
    runs.push(score(all));
    opts.log(`warm start: seed ${seed} DeepAR MASE ${runs[runs.length - 1].mase.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const deepar = summarize('DeepAR (student-t)', runs, (performance.now() - t0) / 1000);
  return { protocol: 'warm', dataset: 'exchange_rate', predictionLength: P, windows, trainSteps: EXCHANGE_TRAIN_STEPS, methods: [deepar, naive, seasonal], fan };
}

/** Cold start: 20% of the panel's items held out entirely and forecast from their static features only. */
export async function coldStart(opts: { seeds: number[]; budget: TrainBudget; items: number; log: (s: string) => void }) {
  const panel = T.data.loadProfiles({ items: opts.items, seed: 0 });
  const P = panel.predictionLength, length = panel.items[0].target.length, start = length - P;
  const order = new T.Rng(7).permutation(panel.items.length);
  const cold = new Set(Array.from(order.subarray(0, Math.round(0.2 * panel.items.length))));
  const trainItems = panel.items.filter((_, i) => !cold.has(i)), testItems = panel.items.filter((_, i) => cold.has(i));
  const train = trainItems.map((it) => ({ ...it, target: it.target.subarray(0, start) }));
  // The cold items' history is all missing: the forecast may use only their static features.
  const blank = (it: T.data.LoadProfileItem, withStatic: boolean): ForecastSeries => ({
    start: it.start, target: new Float32Array(start).fill(NaN), ...(withStatic ? { staticCat: it.staticCat, staticReal: it.staticReal } : {}),
  });
  const profile = new T.metrics.GroupProfile(train.map((it) => ({ target: it.target, group: it.staticCat[0] })), 168);
  const profileScores = summarize('group mean profile (category x hour of week)',
    [T.metrics.scoreForecasts(testItems.map((it) => ({ target: it.target, forecast: profile.forecast(it.staticCat[0], start, P) })))], 0);
  const variants: [string, boolean][] = [['DeepAR with static features', true], ['DeepAR without static features', false]];
  const methods: MethodScores[] = [];
  let fan: { series: ForecastSeries; forecast: SampleForecast }[] = [];
  for (const [name, withStatic] of variants) {
    const runs: ForecastScores[] = [];
    const t0 = performance.now();
    for (const seed of opts.seeds) {
      const model: DeepAROptions = withStatic ? { freq: 'H', predictionLength: P, cardinality: panel.cardinality, numStaticReal: 1 } : { freq: 'H', predictionLength: P };
      const net = trainDeepAR(withStatic ? train : train.map((it) => ({ start: it.start, target: it.target })), model, opts.budget, seed, { historyDropRate: 0.5 });
      const fc = await net.predict(testItems.map((it) => blank(it, withStatic)), { numSamples: opts.budget.numSamples, generator: new T.Rng(seed) });
      runs.push(T.metrics.scoreForecasts(fc.map((f, i) => ({ target: testItems[i].target, forecast: f, samples: f.samples }))));
      if (withStatic && seed === opts.seeds[0]) fan = fc.slice(0, 3).map((forecast, i) => ({ series: testItems[i], forecast }));
      opts.log(`cold start: ${name}, seed ${seed}: MAPE ${(100 * runs[runs.length - 1].mape).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    methods.push(summarize(name, runs, (performance.now() - t0) / 1000));
  }
  methods.push(profileScores);
  return { protocol: 'cold', dataset: `load profiles (${panel.items.length} hourly items, ${panel.cardinality[0]} categories)`, predictionLength: P,
    trainItems: trainItems.length, coldItems: testItems.length, methods, fan };
}

/** Near-cold start: one exchange_rate series left out of training, forecast from its last c observations before each test window. */
export async function nearColdStart(opts: { dir?: string; seeds: number[]; budget: TrainBudget; holdout: number; contexts: number[]; log: (s: string) => void }) {
  const series = exchangeSeries(opts.dir), P = 30, windows = 5;
  if (!(opts.holdout >= 0 && opts.holdout < series.length)) throw new Error(`--holdout must be in [0, ${series.length}), got ${opts.holdout}`);
  const starts = T.metrics.rollingWindowStarts(EXCHANGE_TRAIN_STEPS + windows * P, P, windows);
  const train = series.filter((_, i) => i !== opts.holdout).map((s) => truncate(s, EXCHANGE_TRAIN_STEPS));
  const held = series[opts.holdout];
  const visible = (start: number, c: number): ForecastSeries => ({
    ...held, target: Float32Array.from({ length: start }, (_, t) => (t >= start - c ? held.target[t] : NaN)),
  });
  const rows: { c: number; methods: MethodScores[] }[] = opts.contexts.map((c) => ({ c, methods: [] }));
  const t0 = performance.now();
  const runsByC = opts.contexts.map(() => [] as ForecastScores[]);
  for (const seed of opts.seeds) {
    const net = trainDeepAR(train, { freq: 'B', predictionLength: P }, opts.budget, seed, { historyDropRate: 0.5 });
    for (const [j, c] of opts.contexts.entries()) {
      const cases = [];
      for (const start of starts) {
        const [f] = await net.predict([visible(start, c)], { numSamples: opts.budget.numSamples, generator: new T.Rng(seed) });
        cases.push({ target: held.target, forecast: f, samples: f.samples });
      }
      runsByC[j].push(T.metrics.scoreForecasts(cases, { seasonalPeriod: 5 }));
    }
    opts.log(`near-cold start: seed ${seed} done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  for (const [j, c] of opts.contexts.entries()) {
    // MASE's denominator uses the full history of the held-out series (scoring only; the forecasters see c values).
    const naiveCases = starts.map((start) => ({ target: held.target, forecast: T.metrics.naiveForecast(visible(start, c).target, start, P) }));
    const seasonalCases = starts.map((start) => ({ target: held.target, forecast: T.metrics.seasonalNaiveForecast(visible(start, c).target, start, P, 5) }));
    rows[j].methods.push(summarize('DeepAR (trained without this series)', runsByC[j], (performance.now() - t0) / 1000),
      summarize('naive (last of the c values)', [T.metrics.scoreForecasts(naiveCases, { seasonalPeriod: 5 })], 0),
      summarize('seasonal naive', [T.metrics.scoreForecasts(seasonalCases, { seasonalPeriod: 5 })], 0));
  }
  return { protocol: 'near-cold', dataset: 'exchange_rate', heldOut: held.id, predictionLength: P, windows, rows };
}

/** Fan chart: the last `history` steps, the forecast's median and 10-90% band, and the truth. */
export function fanChart(items: { series: ForecastSeries; forecast: SampleForecast }[], title: string, history = 90): string {
  const svgs = items.map(({ series, forecast }, n) => {
    const { start, predictionLength: P } = forecast;
    const from = Math.max(0, start - history);
    const steps = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
    const truthSteps = steps(from, Math.min(series.target.length, start + P));
    return [
      { name: `${series.id ?? `item ${n}`} history and truth`, x: truthSteps, y: truthSteps.map((t) => series.target[t]), color: '#444' },
      { name: 'median, 10-90% band', x: steps(start, start + P), y: forecast.quantile(0.5), lower: forecast.quantile(0.1), upper: forecast.quantile(0.9), color: '#1f77b4' },
    ];
  });
  return T.plot.linePlot(svgs.flat(), { title, xLabel: 'step', yLabel: 'value' });
}

function fmtTable(title: string, methods: MethodScores[], keys: (keyof ForecastScores)[]): string {
  const cell = (m: MethodScores, k: string) => (m.mean[k] === undefined ? '—' : m.seeds.length > 1 ? `${m.mean[k].toFixed(4)} ± ${m.std[k].toFixed(4)}` : m.mean[k].toFixed(4));
  const header = ['method', ...keys];
  const rows = methods.map((m) => [m.method, ...keys.map((k) => cell(m, k))]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  return [title, ...[header, ...rows].map((r) => r.map((c, j) => c.padEnd(widths[j])).join('  '))].join('\n') + '\n';
}

// Saving and loading a model: weights as safetensors, the configuration as JSON beside them.
export async function saveDeepAR(dir: string, net: InstanceType<typeof forecast.DeepAR>, extra: Record<string, unknown> = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await T.saveModule(join(dir, 'model.safetensors'), net);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...net.config, ...extra }, null, 2) + '\n');
}

export async function loadDeepAR(dir: string): Promise<{ net: InstanceType<typeof forecast.DeepAR>; start?: number }> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`loadDeepAR: ${configPath} does not exist`);
  const { start, ...config } = JSON.parse(readFileSync(configPath, 'utf8')) as DeepAROptions & { start?: number };
  const net = new forecast.DeepAR(config);
  await T.loadModule(join(dir, 'model.safetensors'), net);
  net.eval();
  return { net, start };
}

/** A delimited file of one column per series (as exchange_rate.txt) into series; NaN cells are missing values. */
function tableSeries(file: string, start: number): ForecastSeries[] {
  const table = T.data.loadDelimited(file);
  return Array.from({ length: table.cols }, (_, j) => ({
    id: `series${j}`, start, target: Float32Array.from({ length: table.rows }, (_, t) => table.data[t * table.cols + j]),
  }));
}

export function quantileCsv(forecasts: SampleForecast[], ids: string[], quantiles: readonly number[]): string {
  const lines = [['series', 'step', 'mean', ...quantiles.map((q) => `q${q}`)].join(',')];
  forecasts.forEach((f, i) => {
    const qs = quantiles.map((q) => f.quantile(q)), mean = f.mean();
    for (let k = 0; k < f.predictionLength; k++) lines.push([ids[i], f.start + k, mean[k], ...qs.map((v) => v[k])].join(','));
  });
  return lines.join('\n') + '\n';
}

const PROTOCOLS = ['warm', 'cold', 'near-cold', 'all', 'train', 'predict'];

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const what = args.positionals[0] ?? 'all';
  if (!PROTOCOLS.includes(what) || args.positionals.length > 1) throw new Error(`expected one of ${PROTOCOLS.join(', ')}, got '${args.positionals.join(' ')}'`);
  if (f.backend) await T.setBackend(f.backend as string);
  const log = (s: string) => io.stderr(`${s}\n`);
  const seeds = Array.from({ length: f.seeds as number }, (_, i) => i);
  const budget: TrainBudget = { epochs: f.epochs as number, batchesPerEpoch: f.batches as number, batchSize: f['batch-size'] as number, numSamples: f.samples as number, learningRate: f.lr as number };
  const result: Record<string, unknown> = { backend: T.getBackend().name, budget, seeds: seeds.length };
  const out = f.out as string | undefined;
  if (out) mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  if (what === 'train') {
    if (!f.data || !f.model) throw new Error("'train' needs --data <file> and --model <dir>");
    const freq = forecast.checkFrequency('deepar train', f.freq as string) as Frequency;
    const start = f.start ? Date.parse(f.start as string) : forecast.DEFAULT_START;
    const series = tableSeries(f.data as string, start);
    const net = trainDeepAR(series, { freq, predictionLength: f['prediction-length'] as number }, budget, 0);
    await saveDeepAR(f.model as string, net, { start });
    result.saved = f.model;
  } else if (what === 'predict') {
    if (!f.data || !f.model) throw new Error("'predict' needs --data <file> and --model <dir>");
    const { net, start } = await loadDeepAR(f.model as string);
    const series = tableSeries(f.data as string, start ?? forecast.DEFAULT_START);
    const forecasts = await net.predict(series, { numSamples: budget.numSamples, generator: new T.Rng(0) });
    const csv = quantileCsv(forecasts, series.map((s) => s.id!), T.metrics.DEFAULT_QUANTILES);
    const file = (f.csv as string | undefined) ?? 'forecast.csv';
    writeFileSync(file, csv);
    result.csv = file;
    result.rows = forecasts.length * net.config.predictionLength;
  } else {
    const dir = f.data as string | undefined;
    const tables: string[] = [];
    if (what === 'warm' || what === 'all') {
      const r = await warmStart({ dir, seeds, budget, log });
      if (out) T.plot.saveSvg(join(out, 'fan-warm.svg'), fanChart(r.fan, 'DeepAR on exchange_rate, first test window'));
      tables.push(fmtTable(`warm start, exchange_rate (${r.windows} windows of ${r.predictionLength})`, r.methods, ['mase', 'nd', 'wql', 'crps']));
      result.warm = { ...r, fan: undefined };
    }
    if (what === 'cold' || what === 'all') {
      const r = await coldStart({ seeds, budget, items: f.items as number, log });
      if (out) T.plot.saveSvg(join(out, 'fan-cold.svg'), fanChart(r.fan, 'DeepAR cold start: items never seen in training', 72));
      tables.push(fmtTable(`cold start, ${r.dataset}: ${r.coldItems} held-out items`, r.methods, ['mape', 'wql', 'nd', 'crps']));
      result.cold = { ...r, fan: undefined };
    }
    if (what === 'near-cold' || what === 'all') {
      const contexts = String(f.contexts).split(',').map(Number);
      const r = await nearColdStart({ dir, seeds, budget, holdout: f.holdout as number, contexts, log });
      for (const row of r.rows) tables.push(fmtTable(`near-cold start, ${r.heldOut} left out, c = ${row.c}`, row.methods, ['mase', 'nd', 'wql']));
      result.nearCold = r;
    }
    if (!args.json) io.stdout(tables.join('\n'));
  }
  result.seconds = (performance.now() - t0) / 1000;
  if (args.json) io.stdout(JSON.stringify(result) + '\n');
  return 0;
}

registerCommand('deepar', {
  describe: 'DeepAR probabilistic forecasting: warm / cold / near-cold protocols, train and predict with a saved model',
  usage: '[warm|cold|near-cold|all|train|predict]',
  flags: {
    data: { type: 'string', describe: 'protocols: the exchange_rate folder (default <data>/exchange_rate); train/predict: a delimited file, one column per series' },
    model: { type: 'string', describe: 'train/predict: the model folder (model.safetensors + config.json)' },
    csv: { type: 'string', describe: 'predict: where to write the quantile forecasts (default forecast.csv)' },
    freq: { type: 'string', describe: 'train: H, D or B', default: 'D' },
    start: { type: 'string', describe: 'train: ISO date of the first row (default 2000-01-03)' },
    'prediction-length': { type: 'number', describe: 'train: steps to forecast', default: 30 },
    seeds: { type: 'number', describe: 'seeds per DeepAR configuration', default: 3 },
    epochs: { type: 'number', describe: 'training epochs', default: 10 },
    batches: { type: 'number', describe: 'batches per epoch', default: 20 },
    'batch-size': { type: 'number', describe: 'windows per batch', default: 32 },
    lr: { type: 'number', describe: 'Adam learning rate (GluonTS default)', default: 1e-3 },
    samples: { type: 'number', describe: 'sample paths per forecast', default: 100 },
    items: { type: 'number', describe: 'cold start: items in the load-profile panel', default: 370 },
    holdout: { type: 'number', describe: 'near-cold start: the exchange_rate series left out', default: 0 },
    contexts: { type: 'string', describe: 'near-cold start: observations given before each window', default: '5,10,30' },
    out: { type: 'string', describe: 'folder for the fan charts (SVG)' },
    backend: { type: 'string', describe: 'backend (default: the fastest available)' },
  },
  run,
});
