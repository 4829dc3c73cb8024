// The µP experiments of the README, end to end: coordinate checks (SP and µP)
// and µTransfer learning-rate sweeps for the MLP on MNIST and the pre-LN
// Transformer on the generated grammar corpus. Writes JSON and SVG files and a
// markdown summary of the measured numbers to examples/mup/results/ (or the
// folder given as the first argument). Run after `npm run build`:
//   node dist/examples/mup/transfer.js [out-folder]
// Uses the cpu backend when it is built; the reference backend is far slower,
// so without it every experiment shrinks to a smoke run (and the summary says so).
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import * as mup from '../../src/models/mup/index.js';
import { writeFileAtomic } from '../../src/io/atomic.js';

interface CoordExperiment { model: mup.ModelKind; widths: number[]; steps: number; seeds: number; optimizer: mup.OptimizerKind; lr: number }
interface TransferExperiment { model: mup.ModelKind; widths: number[]; log2Lrs: number[]; steps: number; seeds: number; optimizer: mup.OptimizerKind }

export interface ExperimentPlan { coord: CoordExperiment[]; transfer: TransferExperiment[] }

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The configuration measured for the README (cpu backend, 2 cores, about 20 minutes in all on a quiet machine). */
export const fullPlan: ExperimentPlan = {
  coord: [
    { model: 'mlp', widths: [64, 128, 256, 512, 1024, 2048], steps: 4, seeds: 3, optimizer: 'adam', lr: 0.01 },
    { model: 'transformer', widths: [64, 128, 256, 512], steps: 4, seeds: 2, optimizer: 'adam', lr: 0.01 },
  ],
  transfer: [
    { model: 'mlp', widths: [128, 256, 512, 1024], log2Lrs: range(-10, -4), steps: 100, seeds: 4, optimizer: 'adam' },
    { model: 'transformer', widths: [128, 256, 512], log2Lrs: range(-10, -5), steps: 100, seeds: 2, optimizer: 'adam' },
  ],
};

/** What the reference backend can do in minutes: a smoke run of the same code, not a result. */
export const smokePlan: ExperimentPlan = {
  coord: [{ model: 'transformer', widths: [16, 32, 64], steps: 2, seeds: 1, optimizer: 'adam', lr: 0.01 }],
  transfer: [{ model: 'mlp', widths: [32, 64], log2Lrs: [-8, -6, -4], steps: 10, seeds: 1, optimizer: 'adam' }],
};

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const log2 = (v: number) => (Number.isFinite(v) ? `2^${Math.log2(v).toFixed(0)}` : '—');

function coordMarkdown(e: CoordExperiment, slopes: Record<mup.Parametrization, mup.CoordSlope[]>, time: { wall: number; cpu: number }): string {
  const steps = range(0, e.steps - 1);
  const layers = [...new Set(slopes.sp.map((s) => s.layer))];
  const at = (p: mup.Parametrization, layer: string, step: number) => slopes[p].find((s) => s.layer === layer && s.step === step)?.slope ?? NaN;
  const rows = layers.map((l) => `| ${l} | ${(['sp', 'mup'] as const).flatMap((p) => steps.map((t) => fmt(at(p, l, t), 2))).join(' | ')} |`);
  return [
    `Coordinate check, ${e.model}: widths ${e.widths.join(', ')}, ${e.optimizer} lr ${e.lr}, ${e.seeds} seed(s) (${cost(time)}). ` +
    'Slope of log mean|x| against log width (0 = flat; 1 = grows like width) at step t (after t updates; step 0 = init). ' +
    '"—": the output is exactly 0 (a zero-initialized readout at init).',
    '',
    `| layer | ${steps.map((t) => `SP ${t}`).join(' | ')} | ${steps.map((t) => `µP ${t}`).join(' | ')} |`,
    `|---|${steps.map(() => '---|').join('').repeat(2)}`,
    ...rows,
  ].join('\n');
}

/** Wall-clock and CPU (user + system) seconds of this process while `fn` runs. */
function timed<R>(fn: () => R): { result: R; wall: number; cpu: number } {
  const wall0 = performance.now(), cpu0 = process.cpuUsage();
  const result = fn();
  const cpu = process.cpuUsage(cpu0);
  return { result, wall: (performance.now() - wall0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const cost = (t: { wall: number; cpu: number }) => `${Math.round(t.cpu)} s CPU, ${Math.round(t.wall)} s wall`;

function transferMarkdown(e: TransferExperiment, summaries: mup.TransferSummary[], time: { wall: number; cpu: number }): string {
  const lines = [
    `µTransfer, ${e.model}: ${e.optimizer}, ${e.steps} steps, lr grid 2^${e.log2Lrs[0]}..2^${e.log2Lrs[e.log2Lrs.length - 1]} (factor 2), ` +
    `${e.seeds} seed(s), ${summaries[0].widths.length} widths (${cost(time)}). Training loss: on a fixed part of the training set, after training.`,
    '',
    '| width | SP best lr | SP train loss | µP best lr | µP train loss | µP val loss |',
    '|---|---|---|---|---|---|',
  ];
  const sp = summaries.find((s) => s.parametrization === 'sp')!, mu = summaries.find((s) => s.parametrization === 'mup')!;
  sp.widths.forEach((w, i) => {
    lines.push(`| ${w} | ${log2(sp.optimum[i].bestLr)} | ${fmt(sp.optimum[i].trainLoss)} | ${log2(mu.optimum[i].bestLr)} | ${fmt(mu.optimum[i].trainLoss)} | ${fmt(mu.optimum[i].valLoss)} |`);
  });
  lines.push('', `Optimal lr moves by ${sp.optimumSpreadSteps} grid step(s) under SP and ${mu.optimumSpreadSteps} under µP across widths.`);
  lines.push(`µP at the lr transferred from width ${mu.widths[0]} (${log2(mu.transferredLr)}): train loss ${mu.transferredTrainLoss.map((v) => fmt(v)).join(' → ')} ` +
    `(wider is better: ${mu.widerIsBetter ? 'yes' : 'no'}); SP at its width-${sp.widths[0]} optimum (${log2(sp.transferredLr)}): ${sp.transferredTrainLoss.map((v) => fmt(v)).join(' → ')}.`);
  return lines.join('\n');
}

/** Runs the plan and writes everything to `out`; returns the markdown summary. */
export function runExperiments(plan: ExperimentPlan, out: string, note = ''): string {
  mkdirSync(out, { recursive: true });
  const backend = T.getBackend().name;
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the start`;
  const sections: string[] = [`Measured on the ${backend} backend${note}; ${machine}.`];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  for (const e of plan.coord) {
    const task = mup.taskFor(e.model, { baseWidth: e.widths[0] });
    const slopes = {} as Record<mup.Parametrization, mup.CoordSlope[]>;
    const total = { wall: 0, cpu: 0 };
    for (const parametrization of ['sp', 'mup'] as const) {
      const { result: records, wall, cpu } = timed(() => mup.coordCheck(task, { ...e, parametrization }));
      total.wall += wall; total.cpu += cpu;
      slopes[parametrization] = mup.coordSlopes(records);
      const base = join(out, `coord-${e.model}-${parametrization}`);
      writeFileAtomic(`${base}.json`, JSON.stringify({ ...e, parametrization, backend, slopes: slopes[parametrization], records }, null, 1));
      writeFileAtomic(`${base}.svg`, mup.coordCheckSvg(records, `${e.model} ${parametrization === 'mup' ? 'µP' : 'SP'} coordinate check (${e.optimizer}, lr ${e.lr})`));
      log(`coord-check ${e.model} ${parametrization}: ${cost({ wall, cpu })}`);
    }
    sections.push(coordMarkdown(e, slopes, total));
  }
  for (const e of plan.transfer) {
    const task = mup.taskFor(e.model, { baseWidth: e.widths[0] });
    const time = timed(() => mup.transferSweep(task, {
      widths: e.widths, lrs: e.log2Lrs.map((k) => 2 ** k), parametrizations: ['sp', 'mup'], optimizer: e.optimizer, steps: e.steps, seeds: e.seeds,
      onRun: (r, done, total) => log(`transfer ${e.model} ${done}/${total}: ${r.parametrization} width ${r.width} lr 2^${Math.log2(r.lr)} ` +
        `train ${fmt(r.trainLoss)} val ${fmt(r.valLoss)} (${r.seconds.toFixed(1)} s)`),
    }));
    const results = time.result;
    const summaries = mup.summarizeTransfer(results);
    const base = join(out, `transfer-${e.model}`);
    writeFileAtomic(`${base}.json`, JSON.stringify({ ...e, backend, wallSeconds: time.wall, cpuSeconds: time.cpu, summaries, results }, null, 1));
    writeFileAtomic(`${base}.svg`, mup.transferSvg(summaries, `${e.model}: training loss after ${e.steps} steps (${e.optimizer}), one line per width`));
    sections.push(transferMarkdown(e, summaries, time));
  }
  const summary = sections.join('\n\n') + '\n';
  writeFileAtomic(join(out, 'summary.md'), summary);
  return summary;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'examples', 'mup', 'results');
  const fast = T.listBackends().includes('cpu') && await T.setBackend('cpu').then(() => true, (e: Error) => {
    process.stderr.write(`${e.message.split('\n')[0]}\n`);
    return false;
  });
  if (!fast) {
    await T.setBackend('reference');
    process.stderr.write('cpu backend unavailable: running the smoke plan on the reference backend (not a result)\n');
  }
  process.stdout.write(runExperiments(fast ? fullPlan : smokePlan, out, fast ? '' : ' (smoke plan: too small to show µTransfer)'));
}
