// µTransfer experiment: sweep the learning rate at several widths, in SP and in
// µP, and compare where the optimum lies. Under µP the best lr of a small model
// is (nearly) the best lr of a wide one, so it can be tuned small and
// transferred; under SP it drifts with width. Every run of one seed sees the
// same data order and starts from the same generator, so widths and lrs differ
// only in what they are meant to.
import { Rng, noGrad, plot, scope } from '../../index.js';
type LineSeries = plot.LineSeries;
import { type Batch, type Parametrization, type Task } from './models.js';
import { optimizerFor, type OptimizerKind } from './optim.js';
import { panelGrid } from './plots.js';

export interface TrainOptions {
  width: number;
  parametrization: Parametrization;
  optimizer: OptimizerKind;
  lr: number;
  steps: number;
  seed: number;
  weightDecay?: number;
}

export interface RunResult {
  width: number;
  parametrization: Parametrization;
  lr: number;
  seed: number;
  /** Mean loss over the task's fixed training batches after training (NaN when the loss became non-finite). */
  trainLoss: number;
  /** Mean loss over the task's validation batches after training (NaN when diverged). */
  valLoss: number;
  /** The loss became non-finite, or the final training loss is above the first step's loss. */
  diverged: boolean;
  seconds: number;
}

/** Trains one model and reports its losses. */
export function trainRun(task: Task, o: TrainOptions): RunResult {
  const started = performance.now();
  const model = task.build(o.width, o.parametrization, new Rng(7919 * o.seed + 1));
  const opt = optimizerFor(o.parametrization, o.optimizer, model.parameters(), { lr: o.lr, weightDecay: o.weightDecay });
  const data = new Rng(1_000_003 + o.seed);
  let firstLoss = NaN, finite = true;
  for (let step = 0; step < o.steps && finite; step++) {
    const loss = scope(() => {
      opt.zeroGrad();
      const batch = task.trainBatch(data);
      const l = task.loss(model.forward(batch.input), batch.target);
      l.backward();
      opt.step();
      return l.item();
    });
    if (step === 0) firstLoss = loss;
    finite = Number.isFinite(loss);
  }
  // Measured on fixed data after training: a minibatch average would add sampling noise to the lr comparison.
  const trainLoss = finite ? evaluate(model, task, task.trainEvalBatches()) : NaN;
  const diverged = !Number.isFinite(trainLoss) || trainLoss > firstLoss;
  const valLoss = diverged ? NaN : evaluate(model, task, task.validationBatches());
  opt.dispose();
  model.dispose();
  return { width: o.width, parametrization: o.parametrization, lr: o.lr, seed: o.seed, trainLoss, valLoss, diverged, seconds: (performance.now() - started) / 1000 };
}

/** Mean loss over `batches` (weighted by their targets), which it disposes. */
function evaluate(model: ReturnType<Task['build']>, task: Task, batches: Batch[]): number {
  let total = 0, count = 0;
  for (const b of batches) {
    const rows = b.target.size;
    total += scope(() => noGrad(() => task.loss(model.forward(b.input), b.target).item())) * rows;
    count += rows;
    b.input.dispose(); b.target.dispose();
  }
  return total / count;
}

export interface SweepOptions {
  widths: number[];
  lrs: number[];
  parametrizations: Parametrization[];
  optimizer: OptimizerKind;
  steps: number;
  seeds: number;
  weightDecay?: number;
  onRun?: (r: RunResult, done: number, total: number) => void;
}

export function transferSweep(task: Task, o: SweepOptions): RunResult[] {
  if (o.lrs.length < 2 || o.lrs.some((lr) => !(lr > 0))) throw new Error(`transferSweep: need at least two positive learning rates, got ${o.lrs}`);
  const out: RunResult[] = [];
  const total = o.parametrizations.length * o.widths.length * o.lrs.length * o.seeds;
  for (const parametrization of o.parametrizations) {
    for (const width of o.widths) {
      for (const lr of o.lrs) {
        for (let seed = 0; seed < o.seeds; seed++) {
          const r = trainRun(task, { width, parametrization, optimizer: o.optimizer, lr, steps: o.steps, seed, weightDecay: o.weightDecay });
          out.push(r);
          o.onRun?.(r, out.length, total);
        }
      }
    }
  }
  return out;
}

export interface WidthOptimum {
  width: number;
  bestLr: number;
  trainLoss: number;
  valLoss: number;
}

export interface TransferSummary {
  parametrization: Parametrization;
  lrs: number[];
  widths: number[];
  /** Seed-averaged train loss [width][lr] (NaN where any seed diverged). */
  trainLoss: number[][];
  valLoss: number[][];
  optimum: WidthOptimum[];
  /** Grid steps between the smallest and the largest optimal lr index across widths. */
  optimumSpreadSteps: number;
  /** largest / smallest optimal lr across widths. */
  optimumSpreadRatio: number;
  /** The optimal lr of the narrowest width, used at every width. */
  transferredLr: number;
  /** Train loss at the transferred lr, per width. */
  transferredTrainLoss: number[];
  /** Whether that loss falls at every step up in width. */
  widerIsBetter: boolean;
}

const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Seed-averaged loss tables, the optimal lr per width and how far it moves, per parametrization. */
export function summarizeTransfer(results: RunResult[]): TransferSummary[] {
  const out: TransferSummary[] = [];
  for (const parametrization of [...new Set(results.map((r) => r.parametrization))]) {
    const mine = results.filter((r) => r.parametrization === parametrization);
    const widths = [...new Set(mine.map((r) => r.width))].sort((a, b) => a - b);
    const lrs = [...new Set(mine.map((r) => r.lr))].sort((a, b) => a - b);
    const table = (pick: (r: RunResult) => number) => widths.map((w) => lrs.map((lr) => {
      const runs = mine.filter((r) => r.width === w && r.lr === lr);
      return runs.length === 0 || runs.some((r) => r.diverged) ? NaN : average(runs.map(pick));
    }));
    const trainLoss = table((r) => r.trainLoss), valLoss = table((r) => r.valLoss);
    const bestIndex = trainLoss.map((row) => row.reduce((best, v, i) => (Number.isFinite(v) && (best < 0 || v < row[best]) ? i : best), -1));
    const optimum = widths.map((width, wi) => {
      const i = bestIndex[wi];
      return { width, bestLr: i < 0 ? NaN : lrs[i], trainLoss: i < 0 ? NaN : trainLoss[wi][i], valLoss: i < 0 ? NaN : valLoss[wi][i] };
    });
    const found = bestIndex.filter((i) => i >= 0);
    const transferIndex = bestIndex[0];
    const transferredTrainLoss = trainLoss.map((row) => (transferIndex < 0 ? NaN : row[transferIndex]));
    out.push({
      parametrization, lrs, widths, trainLoss, valLoss, optimum,
      optimumSpreadSteps: found.length ? Math.max(...found) - Math.min(...found) : NaN,
      optimumSpreadRatio: found.length ? lrs[Math.max(...found)] / lrs[Math.min(...found)] : NaN,
      transferredLr: transferIndex < 0 ? NaN : lrs[transferIndex],
      transferredTrainLoss,
      widerIsBetter: transferredTrainLoss.every((v, i) => Number.isFinite(v) && (i === 0 || v < transferredTrainLoss[i - 1])),
    });
  }
  return out;
}

/** Side-by-side panels (one per parametrization): train loss against log2(lr), one line per width. */
export function transferSvg(summaries: TransferSummary[], title: string): string {
  return panelGrid(summaries.map((s) => ({
    series: s.widths.map((w, wi): LineSeries => ({ name: `width ${w}`, x: s.lrs.map(Math.log2), y: s.trainLoss[wi] })),
    options: { title: s.parametrization === 'mup' ? 'µP' : 'SP', xLabel: 'log2(lr)', yLabel: 'training loss' },
  })), { title, columns: summaries.length });
}
