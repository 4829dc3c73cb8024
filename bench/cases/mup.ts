// A µP training step against the SP step of the same model, on the cpu backend:
// forward, backward and optimizer update of the MNIST-shaped MLP (Adam) and of
// the character Transformer (Adam). µP changes only scalars (the readout's and
// the attention scores' matmul alpha, per-group learning rates), so the two
// should cost the same; the "peer" is the SP step. Run alone: node dist/bench/cases/mup.js
import { pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import { Rng } from '../../src/rng.js';
import * as mup from '../../src/models/mup/index.js';
import { type BenchCase, type CaseResult, medianMs } from '../case.js';

/** A training step of `task`'s model at `width` (forward, backward, Adam update), its batch, and how to free it. */
export function stepper(task: mup.Task, width: number, parametrization: mup.Parametrization):
  { step: () => void; dispose: () => void; batch: { input: T.Tensor; target: T.Tensor } } {
  const model = task.build(width, parametrization, new Rng(1));
  const opt = mup.optimizerFor(parametrization, 'adam', model.parameters(), { lr: 1e-3 });
  const batch = task.trainBatch(new Rng(2));
  return {
    batch,
    step: () => T.scope(() => {
      opt.zeroGrad();
      task.loss(model.forward(batch.input), batch.target).backward();
      opt.step();
    }),
    dispose: () => {
      batch.input.dispose(); batch.target.dispose();
      opt.dispose();
      model.dispose();
    },
  };
}

/** Median ms per step of each parametrization, timed in alternating rounds so that load changes hit both alike. */
function interleavedMs(task: mup.Task, width: number, rounds: number): { mup: number; sp: number } {
  const mu = stepper(task, width, 'mup'), sp = stepper(task, width, 'sp');
  const times = { mup: [] as number[], sp: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    times.mup.push(medianMs(mu.step, 1, r === 0 ? 2 : 0));
    times.sp.push(medianMs(sp.step, 1, r === 0 ? 2 : 0));
  }
  mu.dispose(); sp.dispose();
  const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b), m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
  return { mup: median(times.mup), sp: median(times.sp) };
}

async function onCpu(): Promise<boolean> {
  try {
    await T.setBackend('cpu');
    return true;
  } catch (e) {
    console.warn(`  (mup cases skipped: ${(e as Error).message.split('\n')[0]})`);
    return false;
  }
}

function stepCase(name: string, makeTask: () => mup.Task, width: number, rounds: number): BenchCase {
  return {
    name, kernel: 'mup',
    run: async (): Promise<CaseResult> => {
      if (!(await onCpu())) return { tesseraMs: NaN, peers: {} };
      const ms = interleavedMs(makeTask(), width, rounds);
      return { tesseraMs: ms.mup, peers: { 'SP step': ms.sp } };
    },
  };
}

const features = 784, classes = 10;

export const cases: BenchCase[] = [
  // MNIST-shaped random rows, so the case runs without shared/data.
  stepCase('mup step MLP 784-1024-1024-10, batch 128, Adam', () => mup.gaussianTask({
    inputDim: features, numClasses: classes, count: 512, batchSize: 128, baseWidth: 128,
  }), 1024, 21),
  stepCase('mup step Transformer width 256, 2 layers, 16x32 tokens, Adam', () => mup.languageTask({
    corpusLength: 50_000, contextLength: 32, batchSize: 16, baseWidth: 64, depth: 2,
  }), 256, 21),
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const c of cases) {
    const r = await c.run();
    console.log(`${c.name}: µP ${r.tesseraMs.toFixed(2)} ms, SP ${r.peers['SP step']?.toFixed(2)} ms`);
  }
}
