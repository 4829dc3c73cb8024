// `tessera gde`: trains k copies of each model of a task (different seeds),
// prints how well their disagreement on the test points estimates their test
// error (GDE, Jiang et al., ICLR 2022), and plots disagreement against test
// error, one point per pair of copies, with the diagonal where they are equal.
import '../backends-node.js'; // registers cpu (native) and webgpu: the default backend is then the fastest present
import { registerCommand } from './commands.js';
import { Progress } from './progress.js';
import { setBackend, getBackend } from '../backend/registry.js';
import { VARY_CHOICES, checkVary, gdeTasks, runGdeTask, type EnsembleKind, type GdeTaskResult } from '../models/gde/index.js';
import { saveSvg, scatterPlot } from '../plot/svg.js';
import { setDataDir } from '../data/paths.js';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const signedPct = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}%`;

/** Text table: one row per configuration, then the summary the README quotes. */
export function formatGdeTable(r: GdeTaskResult): string {
  const header = ['config', 'test error', '(min..max)', 'disagreement', 'gap', 'classwise ECE', 'top-label ECE', 'CACE', 'seconds'];
  const rows = r.configs.map(({ name, report, seconds }) => {
    const errors = report.testErrors!;
    const cal = report.calibration!;
    return [name, pct(report.meanTestError!), `${pct(Math.min(...errors))}..${pct(Math.max(...errors))}`, pct(report.disagreement),
      signedPct(report.gap!), cal.classwiseEce.toFixed(4), cal.topLabelEce.toFixed(4), cal.classAggregatedCe.toFixed(4), seconds.toFixed(1)];
  });
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  const s = r.summary;
  return [
    `GDE on ${r.task}: ${r.copies} copies per config, varying ${r.vary}; ${r.trainSize} training points` +
      `${r.labelNoise > 0 ? ` (${pct(r.labelNoise)} of their labels replaced)` : ''}, ${r.testSize} test points`,
    line(header),
    ...rows.map(line),
    `mean |disagreement - test error| over ${r.configs.length} configs: ${pct(s.meanAbsGap)} (mean signed gap ${signedPct(s.meanGap)});` +
      ` test errors span ${pct(s.testErrorMin)}..${pct(s.testErrorMax)} (sd ${pct(s.testErrorSd)})`,
  ].join('\n') + '\n';
}

/** Disagreement (x) against the mean test error of the two copies (y), one series per configuration. */
export function gdeScatter(r: GdeTaskResult): string {
  const series = r.configs.map(({ name, report }) => ({
    name,
    x: report.pairs.map((p) => p.disagreement),
    y: report.pairs.map((p) => p.testError!),
  }));
  return scatterPlot(series, {
    title: `GDE on ${r.task}: ${r.copies} copies, varying ${r.vary}${r.labelNoise > 0 ? `, ${pct(r.labelNoise)} label noise` : ''}`,
    xLabel: 'disagreement of the pair on test points',
    yLabel: 'mean test error of the pair',
    diagonal: true,
  });
}

registerCommand('gde', {
  describe: 'estimate test error from the disagreement of copies trained with different seeds (GDE)',
  flags: {
    task: {
      type: 'string',
      describe: Object.entries(gdeTasks).map(([name, t]) => `${name}: ${t.describe} (default sweep ${t.defaultConfigs.join(', ')})`).join('; '),
      default: 'mnist-mlp',
    },
    copies: { type: 'number', describe: 'copies trained per configuration (>= 2)', default: 4 },
    vary: { type: 'string', describe: `randomness differing between copies: ${VARY_CHOICES.join(', ')}`, default: 'both' },
    configs: { type: 'string', describe: "comma-separated configurations, e.g. w128-e8 (MLPs: width, epochs) or h16-e200 (GCN) (default: the task's sweep)" },
    'label-noise': { type: 'number', describe: 'fraction of training labels replaced by another class', default: 0 },
    seed: { type: 'number', describe: 'base seed of the copies', default: 0 },
    'data-seed': { type: 'number', describe: 'seed of the data split and the label noise', default: 0 },
    bins: { type: 'number', describe: 'equal-width bins of the calibration errors', default: 15 },
    ensemble: { type: 'string', describe: "ensemble whose calibration is reported: 'votes' (fraction of copies per class) or 'probs' (mean probabilities)", default: 'votes' },
    svg: { type: 'string', describe: 'where to write the scatter plot (default gde-<task>-<vary>.svg)' },
    data: { type: 'string', describe: 'folder holding the datasets (mnist/, planetoid-cora/); default $TESSERA_DATA, else shared/data next to the package' },
    backend: { type: 'string', describe: 'backend to train on (default: the fastest available)' },
  },
  async run(args, io) {
    const f = args.flags;
    if (f.data !== undefined) setDataDir(f.data as string);
    const taskName = f.task as string;
    const task = gdeTasks[taskName];
    if (!task) throw new Error(`unknown task '${taskName}' (tasks: ${Object.keys(gdeTasks).join(', ')})`);
    const vary = f.vary as string;
    checkVary(vary);
    const ensemble = f.ensemble as EnsembleKind;
    if (ensemble !== 'votes' && ensemble !== 'probs') throw new Error(`--ensemble must be votes or probs, got '${ensemble}'`);
    if (f.backend !== undefined) await setBackend(f.backend as string);
    const copies = f.copies as number;
    const only = f.configs !== undefined ? (f.configs as string).split(',').map((s) => s.trim()).filter(Boolean) : undefined;

    const prepared = task.prepare({ labelNoise: f['label-noise'] as number, dataSeed: f['data-seed'] as number });
    let result: GdeTaskResult;
    try {
      const runs = only?.length || prepared.defaultConfigs.length;
      const progress = new Progress({ total: runs * copies, label: `gde ${taskName} on ${getBackend().name}`, unit: 'copies', stream: { write: (t: string) => io.stderr(t) } });
      result = await runGdeTask(prepared, {
        copies, vary, only, seed: f.seed as number, bins: f.bins as number, ensemble, onCopy: () => progress.tick(),
      });
      progress.finish();
    } finally {
      prepared.dispose();
    }
    const svgPath = (f.svg as string | undefined) ?? `gde-${taskName}-${vary}.svg`;
    saveSvg(svgPath, gdeScatter(result));
    if (args.json) io.stdout(JSON.stringify({ ...result, backend: getBackend().name, svg: svgPath }) + '\n');
    else io.stdout(formatGdeTable(result) + `scatter plot: ${svgPath}\n`);
    return 0;
  },
});
