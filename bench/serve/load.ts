// Full-size load bench of `tessera serve` (README "Serving"): the demo models (shapes detector,
// csbm GCN) in-process on 127.0.0.1, first the single-request latency of each (the baseline),
// then autocannon on predict over both models for --seconds while the detector's version is
// hot-swapped every 20 s and garbage is sent, with the process's memory sampled every 5 s.
// Usage: node dist/bench/serve/load.js [--seconds 180] [--connections 16] [--models <dir>]
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { encodePng } from '../../src/plot/png.js';
import { startServer, DEFAULT_SERVE_OPTIONS } from '../../src/serve/server.js';
import { makeDemoModels } from '../../src/serve/demo.js';
import { runLoad } from './loadgen.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const seconds = Number(flag('seconds', '180')), connections = Number(flag('connections', '16'));
const models = flag('models', mkdtempSync(join(tmpdir(), 'tessera-serve-bench-')));
await makeDemoModels(models, { log: (l) => console.error(l) });
const server = await startServer({ ...DEFAULT_SERVE_OPTIONS, modelsDir: models, token: 'bench', port: 0, preload: ['shapes', 'csbm'] });
const d = T.data.shapesDetection({ count: 1, size: 64, scale: [12, 32], maxObjects: 3, seed: 5 });
const image = encodePng(d.images, 3, 64, 64).toString('base64');
const requests = [
  { method: 'POST' as const, path: '/v1/models/csbm/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nodes: [1, 2, 3] }) },
  { method: 'POST' as const, path: '/v1/models/shapes/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image }) },
];

// Baseline: one request at a time, over HTTP, per model.
const baseline: Record<string, { p50: number; p99: number }> = {};
for (const r of requests) {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const res = await fetch(server.url + r.path, { method: 'POST', headers: r.headers, body: r.body });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  baseline[r.path] = { p50: times[100], p99: times[197] };
}

const rss: number[] = [];
const sampler = setInterval(() => rss.push(process.memoryUsage().rss / 2 ** 20), 5000);
let version = 1, swaps = 0, garbage = 0;
const swapper = setInterval(() => {
  const next = version + 1;
  if (!existsSync(join(models, 'shapes', `v${next}`))) cpSync(join(models, 'shapes', 'v1'), join(models, 'shapes', `v${next}`), { recursive: true });
  void fetch(server.url + '/v1/models/shapes/load', { method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' }, body: JSON.stringify({ version: next }) })
    .then((r) => { if (r.status === 200) { version = next; swaps++; } });
  void fetch(server.url + '/v1/models/csbm/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{garbage' })
    .then((r) => { if (r.status === 400) garbage++; });
}, 20_000);
const result = await runLoad(server.url, requests, seconds, connections);
clearInterval(sampler); clearInterval(swapper);
console.log(JSON.stringify({ backend: T.getBackend().name, seconds, connections, baseline, load: result, swaps, garbageAnswered400: garbage,
  rssMiB: { first: rss[0], last: rss.at(-1), max: Math.max(...rss) } }, null, 2));
await server.close();
if (!process.argv.includes('--models')) rmSync(models, { recursive: true, force: true });
