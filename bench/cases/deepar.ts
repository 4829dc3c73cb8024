// DeepAR: one training epoch of the network (2 x 40 LSTM, dropout 0.1, Student-t head, masked NLL,
// clip 10, Adam) on the same random inputs in tessera and in plain PyTorch (bench/peers/deepar_torch.py),
// and ancestral sampling of 100 paths for 8 items over 30 steps after a context of 30. The sampling
// case times tessera's DeepAR.predict, which also builds each step's lag and time features on the
// host; the peer feeds its draw back into random features instead (less work). One peer process
// times both (the second case reuses its numbers). Run alone: node dist/bench/cases/deepar.js
import { pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import * as forecast from '../../src/models/forecast/index.js';
import { type BenchCase, type CaseResult, medianMs, peerTimes, quick, runPythonPeer, sized } from '../case.js';
import { pythonTorch } from '../peers/signature_peers.js';

const BATCHES = sized(50, 2), BATCH = 32, CONTEXT = 30, HORIZON = 30, ITEMS = sized(8, 2), PATHS = sized(100, 10);
const REPEATS = quick ? 1 : Number(process.env.TESSERA_BENCH_DEEPAR_REPEATS ?? 3);
// Sampling takes tens of milliseconds and its first calls run cold (JIT, buffer pool), so both sides take
// the median of more calls after more warm-up ones than the epoch.
const SAMPLING_WARMUP = quick ? 1 : 3, SAMPLING_REPEATS = quick ? 1 : Number(process.env.TESSERA_BENCH_DEEPAR_SAMPLING_REPEATS ?? 20);
const STEPS = CONTEXT + HORIZON;

function makeNet(): InstanceType<typeof forecast.DeepAR> {
  return new forecast.DeepAR({ freq: 'B', predictionLength: HORIZON }, { generator: new T.Rng(0) });
}

let peer: Record<string, number> | undefined | null = null;  // null: not run yet
/** The torch peer's {"torch epoch", "torch sampling"} (run once, for both cases). */
function torchPeer(features: number): Record<string, number> | undefined {
  if (peer === null) {
    peer = runPythonPeer(pythonTorch, 'deepar_torch.py',
      [BATCHES, BATCH, STEPS, features, ITEMS, PATHS, CONTEXT, HORIZON, REPEATS, SAMPLING_WARMUP, SAMPLING_REPEATS].map(String), 'torch');
  }
  return peer;
}

async function epochCase(): Promise<CaseResult> {
  await T.setBackend('cpu');
  const net = makeNet();
  const features = net.hostFeatures;
  const g = new T.Rng(1);
  const x = T.randn([BATCH, STEPS, features], { generator: g }).keep();
  const y = T.add(T.rand([BATCH, STEPS], { generator: g }), 0.5).keep();
  const mask = T.gt(T.rand([BATCH, STEPS], { generator: g }), 0.05).keep();
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
  for (const t of [x, y, mask, scale]) t.dispose();
  opt.dispose();
  net.dispose();
  const found = torchPeer(features);
  return { tesseraMs: epochMs, peers: found ? peerTimes(found, 'torch epoch', 'torch epoch') : {} };
}

async function samplingCase(): Promise<CaseResult> {
  await T.setBackend('cpu');
  const net = makeNet();
  const series = Array.from({ length: ITEMS }, (_, i) => ({ target: Float32Array.from({ length: 1200 }, (_, t) => 1 + 0.1 * Math.sin(t / (5 + i))) }));
  const times: number[] = [];
  for (let r = 0; r < SAMPLING_WARMUP + SAMPLING_REPEATS; r++) {
    const t0 = performance.now();
    await net.predict(series, { numSamples: PATHS, generator: new T.Rng(r) });
    if (r >= SAMPLING_WARMUP) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const features = net.hostFeatures;
  net.dispose();
  const found = torchPeer(features);
  return { tesseraMs: times[times.length >> 1], peers: found ? peerTimes(found, 'torch sampling', 'torch sampling') : {} };
}

export const cases: BenchCase[] = [
  { name: `deepar epoch: ${BATCHES} batches of ${BATCH} x ${STEPS} steps (2 x 40 LSTM, Student-t, Adam)`, kernel: 'deepar', run: epochCase },
  { name: `deepar sampling: ${ITEMS} items x ${PATHS} paths x ${HORIZON} steps after ${CONTEXT}`, kernel: 'deepar', run: samplingCase },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const c of cases) console.log(c.name, JSON.stringify(await c.run()));
}
