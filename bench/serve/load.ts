// Full-size load bench of `tessera serve` (README "Serving"): the demo models (shapes detector, csbm GCN)
// in-process on 127.0.0.1. First the single-request latency of each over HTTP, one request at a time (the
// baseline); then autocannon on predict over both models for --seconds while the detector's version is
// hot-swapped (4 times per run at least, every 20 s at most) and garbage is sent alongside, with the process's
// memory sampled over the run. Prints a Markdown block for README (or one JSON document with --json) and exits 1
// when any load request got a 5xx, an error or a timeout, or a swap or a garbage request was not answered as it
// should be.
// Usage: node dist/bench/serve/load.js [--seconds 180] [--connections 16] [--models <dir>] [--json]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { encodePng } from '../../src/plot/png.js';
import { startServer, DEFAULT_SERVE_OPTIONS } from '../../src/serve/server.js';
import { makeDemoModels } from '../../src/serve/demo.js';
import { runLoad } from './loadgen.js';

const USAGE = 'usage: node dist/bench/serve/load.js [--seconds 180] [--connections 16] [--models <dir>] [--json]';
const FLAGS = new Set(['seconds', 'connections', 'models']);

function parseFlags(argv: string[]): { seconds: number; connections: number; models?: string; json: boolean } {
  const values: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (argv[i] === '--json') { json = true; continue; }
    if (!argv[i].startsWith('--') || !FLAGS.has(name) || argv[i + 1] === undefined) throw new Error(`load bench: unexpected '${argv[i]}'\n${USAGE}`);
    values[name] = argv[++i];
  }
  const count = (name: string, fallback: number) => {
    const v = Number(values[name] ?? fallback);
    if (!Number.isInteger(v) || v < 1) throw new Error(`load bench: --${name} must be a positive integer, got '${values[name]}'`);
    return v;
  };
  return { seconds: count('seconds', 180), connections: count('connections', 16), models: values.models, json };
}

const opts = parseFlags(process.argv.slice(2));
const command = `node dist/bench/serve/load.js ${process.argv.slice(2).join(' ')}`.trim();
const startedAt = new Date();
const loadAtStart = loadavg()[0];
const models = opts.models ?? mkdtempSync(join(tmpdir(), 'tessera-serve-bench-'));
await makeDemoModels(models, { log: (l) => console.error(l) });
const server = await startServer({ ...DEFAULT_SERVE_OPTIONS, modelsDir: models, token: 'bench', port: 0, preload: ['shapes', 'csbm'] });
const d = T.data.shapesDetection({ count: 1, size: 64, scale: [12, 32], maxObjects: 3, seed: 5 });
const image = encodePng(d.images, 3, 64, 64).toString('base64');
const requests = [
  { model: 'csbm', method: 'POST' as const, path: '/v1/models/csbm/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nodes: [1, 2, 3] }) },
  { model: 'shapes', method: 'POST' as const, path: '/v1/models/shapes/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image }) },
];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

// Baseline: one request at a time, over HTTP, per model (after 10 warm-up requests).
console.error('baseline: 200 sequential requests per model');
const baseline: Record<string, { p50: number; p99: number }> = {};
for (const r of requests) {
  const times: number[] = [];
  for (let i = 0; i < 210; i++) {
    const t0 = performance.now();
    const res = await fetch(server.url + r.path, { method: 'POST', headers: r.headers, body: r.body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`baseline: ${r.path} answered ${res.status}`);
    if (i >= 10) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  baseline[r.model] = { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

// Memory over the run: about 12 samples, at most one every 5 s.
const sampleEvery = Math.min(5, Math.max(1, Math.floor(opts.seconds / 12)));
const t0 = performance.now();
const samples: { s: number; rssMiB: number; heapMiB: number; tensors: number }[] = [];
const sample = () => {
  const m = process.memoryUsage();
  const tensors = Object.values(T.memory()).reduce((n, c) => n + c.tensors, 0);
  samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, tensors });
};
sample();
const sampler = setInterval(sample, sampleEvery * 1000);

// Hot swaps of the detector (v1 copied to v2, v3, ...) and garbage, while the load runs.
const swapEvery = Math.min(20, Math.max(1, Math.floor(opts.seconds / 4)));
let version = 1;
const swaps = { done: 0, failed: [] as string[] };
const garbage = { answered400: 0, other: [] as number[] };
const pending: Promise<void>[] = [];
const swapper = setInterval(() => {
  const next = version + 1;
  version = next;
  if (!existsSync(join(models, 'shapes', `v${next}`))) cpSync(join(models, 'shapes', 'v1'), join(models, 'shapes', `v${next}`), { recursive: true });
  pending.push(fetch(server.url + '/v1/models/shapes/load', { method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' }, body: JSON.stringify({ version: next }) })
    .then(async (r) => { if (r.status === 200) swaps.done++; else swaps.failed.push(`v${next}: ${r.status} ${await r.text()}`); }, (e: Error) => { swaps.failed.push(`v${next}: ${e.message}`); }));
  pending.push(fetch(server.url + '/v1/models/csbm/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{garbage' })
    .then((r) => { if (r.status === 400) garbage.answered400++; else garbage.other.push(r.status); }, () => { garbage.other.push(0); }));
}, swapEvery * 1000);

console.error(`load: ${opts.connections} connections for ${opts.seconds} s, a version swap every ${swapEvery} s`);
const load = await runLoad(server.url, requests.map(({ model: _model, ...r }) => r), opts.seconds, opts.connections);
clearInterval(sampler); clearInterval(swapper);
await Promise.all(pending);
sample();
await server.close();
if (!opts.models) rmSync(models, { recursive: true, force: true });

const rss = samples.map((m) => m.rssMiB);
// "Flat": the growth of RSS from the end of the first quarter of the run (after warm-up) to the end.
const afterWarmup = samples.find((m) => m.s >= opts.seconds / 4) ?? samples[0];
const result = {
  command, date: startedAt.toISOString(), commit: commitOf(), machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
  loadAverageAtStart: loadAtStart, backend: T.getBackend().name, seconds: opts.seconds, connections: opts.connections,
  baseline, load, swaps, garbage, memory: { sampleEverySeconds: sampleEvery, samples,
    rssMiB: { first: rss[0], afterWarmup: afterWarmup.rssMiB, last: rss.at(-1)!, max: Math.max(...rss) } },
};
const clean = load.status['5xx'] === 0 && load.errors === 0 && load.timeouts === 0 && swaps.failed.length === 0 && swaps.done > 0 && garbage.other.length === 0;
console.log(opts.json ? JSON.stringify({ ...result, clean }, null, 2) : readmeBlock());
if (!clean) {
  console.error(`load bench: NOT clean: 5xx ${load.status['5xx']}, errors ${load.errors}, timeouts ${load.timeouts}, swaps failed ${JSON.stringify(swaps.failed)}, ` +
    `garbage not answered 400 ${JSON.stringify(garbage.other)}`);
  process.exitCode = 1;
}

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: new URL('../../..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function readmeBlock(): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const mib = (v: number) => `${v.toFixed(0)} MiB`;
  return [
    `\`${command}\` at commit ${result.commit}, ${result.date.slice(0, 16).replace('T', ' ')} UTC, ${result.machine}, ` +
      `load average ${loadAtStart.toFixed(1)} at the start, \`${result.backend}\` backend, both demo models loaded:`,
    '',
    '| | requests | throughput | p50 | p99 | 2xx | 4xx | 5xx | errors + timeouts |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| load: ${opts.connections} connections, ${opts.seconds} s, csbm + shapes | ${load.requests} | ${load.throughput.toFixed(1)} req/s | ${ms(load.p50)} | ${ms(load.p99)} | ` +
      `${load.status['2xx']} | ${load.status['4xx']} | ${load.status['5xx']} | ${load.errors + load.timeouts} |`,
    ...requests.map((r) => `| baseline: one request at a time, ${r.model} | 200 | ${(1000 / baseline[r.model].p50).toFixed(1)} req/s (1 / p50) | ` +
      `${ms(baseline[r.model].p50)} | ${ms(baseline[r.model].p99)} | 200 | 0 | 0 | 0 |`),
    '',
    `During the load the detector's version was swapped ${swaps.done} times (${swaps.failed.length} failed) and ` +
      `${garbage.answered400} garbage bodies were answered 400 (${garbage.other.length} otherwise).`,
    `Process RSS: ${mib(result.memory.rssMiB.first)} at the start of the load, ${mib(result.memory.rssMiB.afterWarmup)} after the first quarter, ` +
      `${mib(result.memory.rssMiB.last)} at the end (max ${mib(result.memory.rssMiB.max)}); over the run: ` +
      thinned(samples, 13).map((m) => `${m.s} s ${m.rssMiB.toFixed(0)}`).join(', ') + ' (MiB; every sample is in --json).',
  ].join('\n');
}

/** At most `n` of the samples, evenly spaced, the first and the last kept. */
function thinned<X>(all: X[], n: number): X[] {
  if (all.length <= n) return all;
  return Array.from({ length: n }, (_, k) => all[Math.round((k * (all.length - 1)) / (n - 1))]);
}
