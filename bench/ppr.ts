// Times the SR-GNN host graph pipeline on the Planetoid graphs: exact PPR
// (alpha = 0.01), the biased / push / IID samplers and the KMM weights.
// Usage: node dist/bench/ppr.js [repeats]   (skips datasets that are absent)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, loadOgbNodeProperty } from '../src/data/index.js';
import {
  exactPpr, kmmWeights, sampleBiasedPpr, sampleBiasedPush, sampleIid, undirectedAdjacency, SRGNN_CANDIDATE_POOL,
} from '../src/models/gnn/index.js';
import { Rng } from '../src/rng.js';

const repeats = Number(process.argv[2] ?? 3);

/** Wall time and this process's CPU time (user + system): on a shared machine the
 *  CPU time is the steadier number. */
function timed<T>(f: () => T): { value: T; ms: number; cpuMs: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

function summary(runs: { ms: number; cpuMs: number }[]): string {
  const best = (key: 'ms' | 'cpuMs') => Math.min(...runs.map((r) => r[key])).toFixed(0);
  return `first ${runs[0].ms.toFixed(0)} ms wall / ${runs[0].cpuMs.toFixed(0)} ms cpu, ` +
    `best ${best('ms')} ms wall / ${best('cpuMs')} ms cpu over ${runs.length}`;
}

for (const name of ['cora', 'citeseer'] as const) {
  const folder = `planetoid-${name}`;
  if (!existsSync(join(dataDir(), folder))) {
    console.log(`${name}: skipped (${join(dataDir(), folder)} not found)`);
    continue;
  }
  const data = loadOgbNodeProperty(folder);
  const g = undirectedAdjacency(data.numNodes, data.edges);
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push(timed(() => exactPpr(g, 0.01)));
  const ppr = runs[runs.length - 1].value;
  console.log(`${name} (${g.rows} nodes): exactPpr float32 ${summary(runs)}`);
  const rng = new Rng(0);
  const pool = SRGNN_CANDIDATE_POOL[name];
  const biased = timed(() => sampleBiasedPpr(ppr, data.labels, { rng, pool }));
  const iid = timed(() => sampleIid(data.labels, { rng, pool }));
  const withLoops = g.addSelfLoops();
  const push = timed(() => sampleBiasedPush(withLoops, data.labels, { rng, pool }));
  const kmm = timed(() => kmmWeights({ features: ppr, dim: g.rows, trainIds: biased.value, testIds: iid.value, labels: data.labels }));
  console.log(`${name}: sampleBiasedPpr ${biased.ms.toFixed(0)} ms, sampleIid ${iid.ms.toFixed(1)} ms, ` +
    `sampleBiasedPush ${push.ms.toFixed(0)} ms, kmmWeights (${biased.value.length} x ${iid.value.length}) ${kmm.ms.toFixed(0)} ms ` +
    `in ${kmm.value.iterations} QP iterations`);
}
