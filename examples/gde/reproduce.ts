// Reproduces the README's GDE section (Jiang et al., ICLR 2022): on MLPs on
// MNIST and GCNs on Cora, the disagreement of copies trained with different
// seeds tracks their test error across model sizes and training lengths; with
// heavy label noise in the training set the copies' ensemble is badly
// calibrated on the clean test labels, and the estimate breaks.
//
//   npx tsc -p tsconfig.json && node dist/examples/gde/reproduce.js [outDir] [--copies k]
//
// Writes <outDir>/<experiment>.json and .svg (default outDir gde-results) and
// prints Markdown tables. Needs ../shared/data (mnist, planetoid-cora).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { gdeTasks, runGdeTask, type GdeTaskResult, type Vary } from '../../src/models/gde/index.js';
import { formatGdeTable, gdeScatter } from '../../src/cli/gde.js';
import { saveSvg } from '../../src/plot/svg.js';

interface Experiment {
  id: string;
  title: string;
  task: string;
  vary: Vary;
  labelNoise?: number;
  only?: string[];
}

const LONG = ['w128-e40', 'w512-e40'];
const EXPERIMENTS: Experiment[] = [
  { id: 'mnist-mlp', title: 'MLPs on MNIST', task: 'mnist-mlp', vary: 'both' },
  { id: 'cora-gcn', title: 'GCNs on Cora', task: 'cora-gcn', vary: 'both' },
  { id: 'cora-gcn-init', title: 'GCNs on Cora, only the initialization varied', task: 'cora-gcn', vary: 'init' },
  { id: 'cora-gcn-order', title: 'GCNs on Cora, only the dropout masks varied', task: 'cora-gcn', vary: 'order' },
  // Long training on clean labels, the control for the next experiment.
  { id: 'mnist-mlp-long', title: 'MLPs on MNIST, 40 epochs, clean labels', task: 'mnist-mlp', vary: 'both', only: LONG },
  {
    id: 'mnist-mlp-noise80', title: 'MLPs on MNIST, 40 epochs, 80% of the training labels replaced (test labels clean)',
    task: 'mnist-mlp', vary: 'both', labelNoise: 0.8, only: LONG,
  },
];

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function markdown(e: Experiment, r: GdeTaskResult): string {
  const rows = r.configs.map(({ name, report }) => {
    const c = report.calibration!;
    return `| ${name} | ${pct(report.meanTestError!)} | ${pct(report.disagreement)} | ${report.gap! >= 0 ? '+' : ''}${pct(report.gap!)} | ${c.classwiseEce.toFixed(3)} | ${c.topLabelEce.toFixed(3)} | ${c.classAggregatedCe.toFixed(3)} |`;
  });
  const s = r.summary;
  return [
    `**${e.title}** (${r.copies} copies per configuration, varying ${r.vary}; ${r.trainSize} training / ${r.testSize} test points)`,
    '',
    '| config | test error | disagreement | gap | class-wise ECE | top-label ECE | CACE |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Mean \\|disagreement − test error\\| over the ${r.configs.length} configurations: **${pct(s.meanAbsGap)}**; ` +
      `their test errors span ${pct(s.testErrorMin)} to ${pct(s.testErrorMax)} (sd ${pct(s.testErrorSd)}).`,
    '',
  ].join('\n');
}

const args = process.argv.slice(2);
const copiesAt = args.indexOf('--copies');
const copies = copiesAt >= 0 ? Number(args[copiesAt + 1]) : 4;
const outDir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--copies') ?? 'gde-results';
mkdirSync(outDir, { recursive: true });

const backend = T.getBackend().name;
console.log(`GDE reproduction on the ${backend} backend, ${copies} copies per configuration\n`);
if (backend === 'reference') console.warn('(the cpu backend is not available: the reference backend is about 10x slower on these models)\n');
const started = performance.now();
for (const e of EXPERIMENTS) {
  const t0 = performance.now();
  const prepared = gdeTasks[e.task].prepare({ labelNoise: e.labelNoise ?? 0 });
  let result: GdeTaskResult;
  try {
    result = await runGdeTask(prepared, {
      copies, vary: e.vary, only: e.only,
      onCopy: (config, copy, seconds) => process.stderr.write(`  ${e.id} ${config} copy ${copy + 1}/${copies}: ${seconds.toFixed(1)} s\n`),
    });
  } finally {
    prepared.dispose();
  }
  writeFileSync(join(outDir, `${e.id}.json`), JSON.stringify({ ...result, backend }, null, 2));
  saveSvg(join(outDir, `${e.id}.svg`), gdeScatter(result));
  console.log(formatGdeTable(result));
  console.log(markdown(e, result));
  console.log(`(${e.id}: ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s on ${backend}`);
