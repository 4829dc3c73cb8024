// DeepAR forecaster adapter (src/models/forecast): model.safetensors plus config.json
// { kind: 'deepar', config: { model: DeepAROptions (as `tessera deepar train` writes beside its weights),
//   numSamples?: 100, quantiles?: [0.1, 0.5, 0.9], seed?: 0 } }.
// Input {"target": [history; null for a missing value], "staticCat"?: [ints], "staticReal"?: [numbers],
//   "start"?: UTC milliseconds or an ISO date of target[0], "quantiles"?: [levels in [0, 1]]}.
// The answer: the mean and the requested quantiles of numSamples sample paths over the next predictionLength steps.
// A batch is one DeepAR.predict call; its paths are drawn from a generator seeded with `seed` per batch.
import { join } from 'node:path';
import * as T from '../../index.js';
import { DeepAR, type DeepAROptions, type ForecastSeries } from '../../models/forecast/index.js';
import { ClientError, type LoadedModel, type ModelKind, type ModelManifest } from '../kind.js';

export interface DeepARServeConfig {
  model: DeepAROptions;
  numSamples?: number;
  quantiles?: number[];
  seed?: number;
}

const MAX_HISTORY = 100_000;
const MAX_QUANTILES = 99;
const CONFIG_KEYS = ['model', 'numSamples', 'quantiles', 'seed'];
const REQUEST_KEYS = ['target', 'staticCat', 'staticReal', 'start', 'quantiles'];

interface ForecastRequest { series: ForecastSeries; quantiles: number[] }

function checkLevels(levels: unknown, where: string, error: (msg: string) => Error): number[] {
  if (!Array.isArray(levels) || levels.length === 0 || levels.length > MAX_QUANTILES || !levels.every((q) => typeof q === 'number' && q >= 0 && q <= 1)) {
    throw error(`${where} must be a list of 1 to ${MAX_QUANTILES} quantile levels in [0, 1], got ${JSON.stringify(levels)}`);
  }
  return levels as number[];
}

export const deeparKind: ModelKind = {
  name: 'deepar',
  trainable: false,
  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const cfg = manifest.config as unknown as DeepARServeConfig;
    const configError = (msg: string) => new Error(`${dir}/config.json: ${msg}`);
    for (const key of Object.keys(cfg)) if (!CONFIG_KEYS.includes(key)) throw configError(`unknown deepar config key '${key}' (known: ${CONFIG_KEYS.join(', ')})`);
    if (typeof cfg.model !== 'object' || cfg.model === null) throw configError('a deepar model needs config.model, the DeepAR options it was trained with');
    const numSamples = cfg.numSamples ?? 100;
    if (!Number.isInteger(numSamples) || numSamples < 1) throw configError(`numSamples must be a positive integer, got ${numSamples}`);
    const defaultLevels = checkLevels(cfg.quantiles ?? [0.1, 0.5, 0.9], 'quantiles', configError);
    const seed = cfg.seed ?? 0;
    const net = new DeepAR(cfg.model);
    await T.loadModule(join(dir, 'model.safetensors'), net);
    net.eval();
    const { cardinality, numStaticReal, predictionLength } = net.config;
    const bytes = Object.values(net.stateDict()).reduce((n, t) => n + 4 * t.size, 0);
    const bad = (msg: string) => new ClientError(400, `a deepar model takes {"target": [history], "staticCat": [${cardinality.length} ints], ` +
      `"staticReal": [${numStaticReal} numbers], "start"?, "quantiles"?}: ${msg}`);
    return {
      bytes,
      parseJson(body): ForecastRequest {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body is not a JSON object');
        const b = body as Record<string, unknown>;
        for (const key of Object.keys(b)) if (!REQUEST_KEYS.includes(key)) throw bad(`unknown key '${key}'`);
        const { target, staticCat = [], staticReal = [], start, quantiles } = b;
        if (!Array.isArray(target) || target.length === 0 || target.length > MAX_HISTORY) throw bad(`target must hold 1 to ${MAX_HISTORY} values`);
        const history = new Float32Array(target.length);
        target.forEach((v, t) => {
          if (v !== null && !(typeof v === 'number' && Number.isFinite(v))) throw bad(`target[${t}] is ${JSON.stringify(v)}, not a finite number or null`);
          history[t] = v === null ? NaN : v;
        });
        if (!Array.isArray(staticCat) || staticCat.length !== cardinality.length) throw bad(`staticCat has ${Array.isArray(staticCat) ? staticCat.length : 'no list of'} values`);
        staticCat.forEach((c, j) => {
          if (!Number.isInteger(c) || c < 0 || c >= cardinality[j]) throw bad(`staticCat[${j}] is ${JSON.stringify(c)}, not an integer in [0, ${cardinality[j]})`);
        });
        if (!Array.isArray(staticReal) || staticReal.length !== numStaticReal || !staticReal.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          throw bad(`staticReal is ${JSON.stringify(staticReal)}`);
        }
        let startMs: number | undefined;
        if (start !== undefined) {
          startMs = typeof start === 'number' ? start : typeof start === 'string' ? Date.parse(start) : NaN;
          if (!Number.isFinite(startMs)) throw bad(`start ${JSON.stringify(start)} is neither UTC milliseconds nor a date`);
        }
        const series: ForecastSeries = { target: history, staticCat: staticCat as number[], staticReal: staticReal as number[], ...(startMs === undefined ? {} : { start: startMs }) };
        return { series, quantiles: quantiles === undefined ? defaultLevels : checkLevels(quantiles, 'quantiles', bad) };
      },
      async predictBatch(inputs) {
        const requests = inputs as ForecastRequest[];
        const forecasts = await net.predict(requests.map((r) => r.series), { numSamples, generator: new T.Rng(seed) });
        return forecasts.map((f, i) => ({
          predictionLength,
          numSamples,
          mean: Array.from(f.mean()),
          quantiles: Object.fromEntries(requests[i].quantiles.map((q) => [String(q), Array.from(f.quantile(q))])),
        }));
      },
      dispose: () => net.dispose(),
    };
  },
};
