// DeepAR's inputs (GluonTS lags and time features), the forecast metrics and
// baselines against hand-computed values, and DeepAR end to end: it learns a
// seasonal panel, tolerates missing values, gives a cold-start item a non-zero
// forecast, and a saved model forecasts the same in a new process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { T, assertClose } from './helpers.js';
import { saveDeepAR, quantileCsv } from '../src/cli/deepar.js';
import * as F from '../src/models/forecast/index.js';

const M = T.metrics;
const s = suite('forecast');

s("lags are GluonTS's for hourly, daily and business-daily series", () => {
  assert.equal(F.lagsForFrequency('D'), [1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 20, 21, 22, 27, 28, 29, 30, 31, 56, 84, 363, 364, 365, 727, 728, 729, 1091, 1092, 1093]);
  assert.equal(F.lagsForFrequency('B'), [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 16, 19, 20, 21, 22, 23, 40, 60, 259, 260, 261, 519, 520, 521, 779, 780, 781]);
  assert.equal(F.lagsForFrequency('H'), [1, 2, 3, 4, 5, 6, 7, 23, 24, 25, 47, 48, 49, 71, 72, 73, 95, 96, 97, 119, 120, 121, 143, 144, 145,
    167, 168, 169, 335, 336, 337, 503, 504, 505, 671, 672, 673, 719, 720, 721]);
});

s('business-day steps skip weekends; time features lie in [-0.5, 0.5] and age is log10(2 + t)', () => {
  const friday = Date.UTC(2021, 0, 1); // a Friday
  assert.is(new Date(F.timeOfStep('B', friday, 1)).toISOString().slice(0, 10), '2021-01-04');
  assert.is(new Date(F.timeOfStep('B', friday, 6)).toISOString().slice(0, 10), '2021-01-11');
  assert.is(new Date(F.timeOfStep('H', friday, 25)).toISOString().slice(0, 13), '2021-01-02T01');
  const out = new Float32Array(5);
  F.writeTimeFeatures('H', friday, 13, out, 0); // 2021-01-01 13:00, Friday, day 1, day of year 1
  assertClose(out, [13 / 23 - 0.5, 4 / 6 - 0.5, -0.5, -0.5, Math.log10(15)], 'hourly features');
  assert.throws(() => F.timeOfStep('B', Date.UTC(2021, 0, 2), 0), /must start on a weekday/);
});

s("time features equal the calendar of JavaScript's Date across leap, century and pre-1970 years", () => {
  const DAY = 86400e3;
  const fromDate = (freq: F.Frequency, start: number, t: number): number[] => {
    const d = new Date(F.timeOfStep(freq, start, t));
    const dayOfYear = Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY);
    return [...(freq === 'H' ? [d.getUTCHours() / 23 - 0.5] : []), ((d.getUTCDay() + 6) % 7) / 6 - 0.5, (d.getUTCDate() - 1) / 30 - 0.5,
      dayOfYear / 365 - 0.5, Math.log10(2 + Math.max(t, 0))];
  };
  // Mondays: 1899-12-25, 1969-12-29, 2000-02-28, 2099-12-28 (1900 and 2100 are not leap years, 2000 is).
  const starts = [Date.UTC(1899, 11, 25, 7), Date.UTC(1969, 11, 29), Date.UTC(2000, 1, 28), Date.UTC(2099, 11, 28, 23)];
  const out = new Float32Array(5);
  for (const freq of F.FREQUENCIES) {
    for (const start of starts) {
      for (let t = -900; t < 900; t += freq === 'H' ? 13 : 1) {
        const expected = Float32Array.from(fromDate(freq, start, t));
        F.writeTimeFeatures(freq, start, t, out, 0);
        assert.equal(Array.from(out.subarray(0, expected.length)), Array.from(expected), `${freq} from ${new Date(start).toISOString()}, step ${t}`);
      }
    }
  }
});

s('point metrics, WQL and CRPS against hand-computed values', () => {
  // History 1, 3, 2, 4 (seasonal period 1: naive errors 2, 1, 2 -> mean 5/3); truth 2, 4 at steps 4, 5.
  const target = [1, 3, 2, 4, 2, 4];
  const forecast = new M.PointForecast(4, Float32Array.of(3, 3));
  const sc = M.scoreForecasts([{ target, forecast }], { quantiles: [0.5] });
  assertClose([sc.mase, sc.mape, sc.smape, sc.nd, sc.rmse, sc.wql], [1 / (5 / 3), (1 / 2 + 1 / 4) / 2, (2 / 5 + 2 / 7) / 2, 2 / 6, 1, 2 * (0.5 + 0.5) / 6],
    'MASE, MAPE, sMAPE, ND, RMSE, WQL', 1e-6, 1e-7);
  // Quantile levels 0.1 and 0.9 at forecasts 1 and 5, truth 2: pinball 0.1 and 0.3 -> WQL mean(2*0.1/2, 2*0.3/2) = 0.2.
  const wide = { start: 0, predictionLength: 1, quantile: (q: number) => Float32Array.of(q < 0.5 ? 1 : q > 0.5 ? 5 : 3), mean: () => Float32Array.of(3) };
  assertClose([M.scoreForecasts([{ target: [2], forecast: wide }], { quantiles: [0.1, 0.9] }).wql], [0.2], 'WQL over levels');
  // CRPS of samples {0, 1} at y = 0: E|X - y| = 0.5, E|X - X'| = 0.5 -> 0.25.
  assertClose([M.crpsFromSamples([0, 1], 0)], [0.25], 'CRPS of two samples');
  // Many samples of N(0, 1) at y = 0: CRPS = 2 phi(0) - 1/sqrt(pi) - 0 = 0.2337.
  const g = new T.Rng(1);
  const normal = Array.from({ length: 20000 }, () => g.normal());
  assertClose([M.crpsFromSamples(normal, 0)], [2 / Math.sqrt(2 * Math.PI) - 1 / Math.sqrt(Math.PI)], 'CRPS of N(0,1) at 0', 0, 0.01);
  // NaN truth is left out.
  assert.is(M.scoreForecasts([{ target: [1, 3, 2, 4, NaN, 4], forecast }]).points, 1);
});

s('baselines: naive, seasonal naive, group profile; rolling windows', () => {
  const h = [1, 2, 3, 4, 5, 6, 7, NaN];
  assert.equal(Array.from(M.naiveForecast(h, 8, 3).values), [7, 7, 7]);
  assert.equal(Array.from(M.seasonalNaiveForecast(h, 7, 5, 3).values), [5, 6, 7, 5, 6]);
  // Step 7's season value is NaN: falls back to the last observed (7).
  assert.equal(Array.from(M.seasonalNaiveForecast(h, 8, 2, 3).values), [6, 7]);
  const profile = new M.GroupProfile([{ target: [1, 10, 3, 30], group: 0 }, { target: [5, 50, 7, 70], group: 0 }, { target: [100, 100], group: 1 }], 2);
  const f = profile.forecast(0, 4, 2);
  assertClose(f.mean(), [(1 + 3 + 5 + 7) / 4, (10 + 30 + 50 + 70) / 4], 'group mean profile');
  assertClose(f.quantile(0.5), [4, 40], 'group median profile');
  assert.equal(M.rollingWindowStarts(100, 10, 3), [70, 80, 90]);
  assert.throws(() => M.rollingWindowStarts(20, 10, 2), /do not fit/);
});

/** A small panel: two categories with opposite daily cycles, levels set by a static real. */
function panel(items: number, length: number) {
  const g = new T.Rng(5);
  return Array.from({ length: items }, (_, i) => {
    const category = i % 2, level = 1 + (i % 3);
    const target = Float32Array.from({ length }, (_, t) => level * (2 + (category ? 1 : -1) * Math.sin((2 * Math.PI * t) / 24)) + 0.05 * g.normal());
    return { target, staticCat: [category], staticReal: [level], id: `s${i}` };
  });
}

s('DeepAR learns a seasonal panel, forecasts past NaN and gives a cold-start item a non-zero forecast', async () => {
  const series = panel(6, 24 * 12);
  series[0].target[100] = NaN; series[0].target[250] = NaN;
  const train = series.map((x) => ({ ...x, target: x.target.subarray(0, x.target.length - 24) }));
  const net = new F.DeepAR({ freq: 'H', predictionLength: 24, hiddenSize: 16, numLayers: 1, cardinality: [2], numStaticReal: 1 }, { generator: new T.Rng(0) });
  const losses = net.fit(train, { epochs: 8, batchesPerEpoch: 10, batchSize: 16, learningRate: 1e-2, historyDropRate: 0.3 });
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(losses[losses.length - 1] < losses[0] - 0.5, `the loss falls: ${losses.map((l) => l.toFixed(2))}`);
  const fc = await net.predict(train, { numSamples: 50, generator: new T.Rng(1) });
  const sc = M.scoreForecasts(fc.map((f, i) => ({ target: series[i].target, forecast: f })));
  const naive = M.scoreForecasts(series.map((x) => ({ target: x.target, forecast: M.naiveForecast(x.target, x.target.length - 24, 24) })));
  assert.ok(sc.nd < naive.nd, `DeepAR ND ${sc.nd} beats naive ${naive.nd}`);
  // No history at all: the scale is the training mean, not zero.
  const [cold] = await net.predict([{ target: new Float32Array(48).fill(NaN), staticCat: [1], staticReal: [2] }], { numSamples: 50 });
  const coldMean = cold.mean().reduce((a, b) => a + Math.abs(b), 0) / 24;
  assert.ok(coldMean > 0.5, `cold-start forecast mean |value| ${coldMean}`);
  assert.throws(() => net.fit(train, { epoch: 3 } as never), /DeepAR.fit: unknown option 'epoch'/);
  const refused = await net.predict([{ target: [1, 2], staticCat: [5], staticReal: [1] }]).then(() => '', (e: Error) => e.message);
  assert.match(refused, /static category 0 is 5, outside \[0, 2\)/);
});

s('a saved DeepAR forecasts the same in a new process (tessera deepar predict)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deepar-'));
  try {
    const series = panel(3, 24 * 3).map((x) => ({ target: x.target }));
    const net = new F.DeepAR({ freq: 'D', predictionLength: 5, hiddenSize: 8, numLayers: 2 }, { generator: new T.Rng(2) });
    net.fit(series, { epochs: 1, batchesPerEpoch: 2, batchSize: 4 });
    await saveDeepAR(join(dir, 'model'), net, { start: F.DEFAULT_START });
    const csvIn = join(dir, 'data.csv');
    writeFileSync(csvIn, Array.from({ length: 72 }, (_, t) => series.map((x) => x.target[t]).join(',')).join('\n') + '\n');
    const expected = quantileCsv(await net.predict(series.map((x, i) => ({ ...x, id: `series${i}` })), { numSamples: 100, generator: new T.Rng(0) }),
      ['series0', 'series1', 'series2'], M.DEFAULT_QUANTILES);
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
    const out = join(dir, 'forecast.csv');
    execFileSync(process.execPath, [cli, 'deepar', 'predict', '--model', join(dir, 'model'), '--data', csvIn, '--csv', out, '--backend', T.getBackend().name, '--json']);
    const got = readFileSync(out, 'utf8');
    assert.is(got.split('\n')[0], 'series,step,mean,q0.1,q0.2,q0.3,q0.4,q0.5,q0.6,q0.7,q0.8,q0.9');
    assert.is(got.split('\n').length, 3 * 5 + 2);
    assert.is(got, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s.run();
