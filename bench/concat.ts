// Times concat and stack through the public API on the cpu backend (or the backends named in argv):
// two pieces side by side, 60 pieces (an LSTM's per-step outputs) and stack of two small [2, B, H] states
// (nn.LSTM's per-layer h and c). Median microseconds per call over rounds of many calls.
// Usage: node dist/bench/concat.js [backend ...]
import * as T from '../src/index.js';

const ROUNDS = 9;

function medianUs(calls: number, fn: () => T.Tensor): number {
  const times: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn().dispose();
    if (r > 0) times.push(((performance.now() - t0) * 1000) / calls);  // round 0 warms up
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const backends = process.argv.length > 2 ? process.argv.slice(2) : ['cpu'];
for (const backend of backends) {
  await T.initBackend(backend);
  const piece = (shape: number[]) => T.randn(shape, { backend }).keep();
  const two = [piece([64, 40]), piece([64, 40])];
  const sixty = Array.from({ length: 60 }, () => piece([1, 64, 40]));
  const states = [piece([2, 100, 40]), piece([2, 100, 40])];
  const big = [piece([512, 1024]), piece([512, 1024])];
  T.noGrad(() => {
    const rows: [string, number][] = [
      ['concat 2 x [64, 40] on axis 1', medianUs(2000, () => T.concat(two, 1))],
      ['concat 60 x [1, 64, 40] on axis 0', medianUs(200, () => T.concat(sixty, 0))],
      ['stack 2 x [2, 100, 40] on axis 0', medianUs(2000, () => T.stack(states, 0))],
      ['concat 2 x [512, 1024] on axis 0', medianUs(50, () => T.concat(big, 0))],
    ];
    for (const [what, us] of rows) console.log(`${backend}  ${what.padEnd(36)} ${us.toFixed(1).padStart(9)} us`);
  });
}
