// DeepAR: one training epoch of the network (2 x 40 LSTM, dropout 0.1, Student-t
// head, masked NLL, clip 10, Adam) on the same random inputs in tessera and in
// plain PyTorch (bench/peers/deepar_torch.py), and ancestral sampling of 100 paths
// for 8 items over 30 steps after a context of 30. The sampling case times tessera's
// DeepAR.predict, which also builds each step's lag and time features on the host;
// the peer feeds back its draw into random features instead (less work).
// Self-contained; run alone: node dist/bench/cases/deepar.js
import { pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import * as forecast from '../../src/models/forecast/index.js';
import { type BenchCase, benchThreads, medianMs, pythons, runPythonPeer } from '../case.js';

const BATCHES = 50, BATCH = 32, CONTEXT = 30, HORIZON = 30, ITEMS = 8, PATHS = 100;
const REPEATS = Number(process.env.TESSERA_BENCH_DEEPAR_REPEATS ?? 3);

function makeNet(): InstanceType<typeof forecast.DeepAR> {
  return new forecast.DeepAR({ freq: 'B', predictionLength: HORIZON }, { generator: new T.Rng(0) });
}

export const cases: BenchCase[] = [{
  name: `deepar epoch (${BATCHES} batches of ${BATCH} x ${CONTEXT + HORIZON} steps) and sampling (${ITEMS} items x ${PATHS} paths x ${HORIZON} steps)`,
  kernel: 'deepar',
  async run() {
    await T.setBackend('cpu');
    const net = makeNet();
    const steps = CONTEXT + HORIZON, features = net.hostFeatures;
    const g = new T.Rng(1);
    const x = T.randn([BATCH, steps, features], { generator: g }).keep();
    const y = T.add(T.rand([BATCH, steps], { generator: g }), 0.5).keep();
    const mask = T.gt(T.rand([BATCH, steps], { generator: g }), 0.05).keep();
    const scale = T.add(T.rand([BATCH, 1], { generator: g }), 0.5).keep();
    const opt = new T.optim.Adam(net.parameters(), { lr: 1e-3 });
    net.train();
    const epochMs = medianMs(() => {
      for (let b = 0; b < BATCHES; b++) {
        T.scope(() => {
          opt.zeroGrad();
          const [raw] = net.forward(x);
          const lp = net.output.distribution(raw, scale).logProb(y);
          const loss = T.div(T.neg(T.sum(T.mul(lp, mask))), T.sum(mask));
          loss.backward();
          T.optim.clipGradNorm(net.parameters(), 10);
          opt.step();
        });
      }
    }, REPEATS);
    const series = Array.from({ length: ITEMS }, (_, i) => ({ target: Float32Array.from({ length: 1200 }, (_, t) => 1 + 0.1 * Math.sin(t / (5 + i))) }));
    const sampleTimes: number[] = [];
    for (let r = 0; r <= REPEATS; r++) {
      const t0 = performance.now();
      await net.predict(series, { numSamples: PATHS, generator: new T.Rng(r) });
      if (r > 0) sampleTimes.push(performance.now() - t0);
    }
    sampleTimes.sort((a, b) => a - b);
    const peers: Record<string, number> = {};
    const found = runPythonPeer(pythons[0], 'deepar_torch.py', [BATCHES, BATCH, steps, features, ITEMS, PATHS, CONTEXT, HORIZON, REPEATS].map(String));
    console.log(`  deepar (${benchThreads} threads): tessera epoch ${epochMs.toFixed(0)} ms, sampling ${sampleTimes[sampleTimes.length >> 1].toFixed(0)} ms;` +
      ` torch ${found ? `epoch ${found['torch epoch'].toFixed(0)} ms, sampling ${found['torch sampling'].toFixed(0)} ms` : 'not run'}`);
    if (found) peers['torch 1.13 (epoch)'] = found['torch epoch'];
    return { tesseraMs: epochMs, peers, check: found ? { 'sampling ms ratio torch/tessera': found['torch sampling'] / sampleTimes[sampleTimes.length >> 1] } : undefined };
  },
}];

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const c of cases) console.log(JSON.stringify(await c.run()));
}
