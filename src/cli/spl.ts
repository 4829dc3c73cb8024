// `tessera spl`: the SPL experiment (Li et al., AAAI 2022) on the synthetic
// weakly-labelled video benchmark: six pre-training arms, fine-tuned on the
// clean target set, top-1 / top-5 over seeds beside the paper's Kinetics-200
// numbers, and the SPL confusion matrix as an SVG heat map.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../index.js';
import { registerCommand, type CliIO, type ParsedArgs } from './commands.js';
import { Progress } from './progress.js';
import {
  ARMS, ARM_LABELS, PAPER_KINETICS200, STAGES, clipBatch, gradCam3d, gradCamStrip, splExperiment, splHeatmap,
  type Arm, type GradCamStripItem, type SplExperimentOptions, type SplExperimentResult, type StageName,
} from '../models/video/index.js';

/** --quick: a few seconds, for tests and smoke runs (tiny clips and models; the numbers mean nothing). */
export const QUICK: SplExperimentOptions = {
  seeds: [0, 1],
  benchmark: { frames: 4, size: 16, shapes: 2, motions: 2, targetTrain: 3, targetTest: 3, videosPerClass: 2, clipsPerVideo: 4 },
  widths: [2, 2, 4, 4], blocks: [1, 1, 1, 1], teacherEpochs: 2, finetuneEpochs: 1, pretrainEpochs: 1, batchSize: 4, pretrainBatchSize: 8,
  spl: { minClips: 1, smallCells: 'merge' },
};

function integerList(flag: string, text: string, length?: number): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((v) => !Number.isInteger(v)) || (length !== undefined && list.length !== length)) {
    throw new Error(`--${flag} must be ${length ?? 'a list of'} comma-separated integers, got '${text}'`);
  }
  return list;
}

const pct = (v: number) => (100 * v).toFixed(1);

/** The six-arm table beside the paper's, as printed. */
export function formatSplTable(r: SplExperimentResult): string {
  const b = r.benchmark, o = b.options;
  const lines = [
    `SPL on the synthetic weakly-labelled video benchmark: ${b.numClasses} classes (${o.shapes} shapes x ${o.motions} motions), ` +
      `clips ${o.frames}x${o.size}x${o.size}; ${b.targetTrain} clean training clips, ${b.targetTest} test clips, ${b.web} web clips ` +
      `(${pct(o.trueFraction)}% true action, ${pct(o.subFraction)}% sub-concept, ${pct(1 - o.trueFraction - o.subFraction)}% background)`,
    `R3D student/teacher, widths ${r.options.widths.join('/')}, blocks ${r.options.blocks.join('/')}; seeds ${r.options.seeds.join(',')}; backend ${r.options.backend}; ${r.seconds.toFixed(0)} s`,
    '',
  ];
  const header = ['arm', 'top-1 % (mean ± std)', 'top-5 %', 'paper top-1', 'paper top-5'];
  const rows = Object.entries(r.table).map(([arm, v]) => {
    const paper = PAPER_KINETICS200[arm as Arm];
    return [ARM_LABELS[arm as Arm], `${pct(v.top1.mean)} ± ${pct(v.top1.std)}`, `${pct(v.top5.mean)} ± ${pct(v.top5.std)}`,
      paper ? paper.top1.toFixed(1) : '-', paper ? paper.top5.toFixed(1) : '-'];
  });
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  lines.push(line(header), ...rows.map(line));
  lines.push('', 'paper: Li et al., AAAI 2022, Kinetics-200, 3D ResNet-50; its first row is ImageNet initialization (here: no pre-training).');
  for (const s of r.seeds) {
    lines.push(`seed ${s.seed}: teacher top-1 on web clips that show a class ${pct(s.teacherWebAccuracy)}%, weak labels right ${pct(s.weakLabelAccuracy)}%, ` +
      `teacher = weak label on ${pct(s.agreement)}%; SPL classes ${s.spl.numSplClasses}, SPL-B classes ${s.splB.numSplClasses}`);
  }
  return lines.join('\n') + '\n';
}

/** The result as JSON (typed arrays as plain arrays). */
export function splJson(r: SplExperimentResult): string {
  return JSON.stringify(r, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v));
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  if (f.backend !== undefined) await T.setBackend(f.backend as string);
  const base: SplExperimentOptions = f.quick ? { ...QUICK } : {};
  const o: SplExperimentOptions = { ...base };
  if (f.seeds !== undefined) o.seeds = integerList('seeds', String(f.seeds));
  if (f['data-seed'] !== undefined) o.dataSeed = f['data-seed'] as number;
  if (f.arms !== undefined) {
    const arms = String(f.arms).split(',').map((s) => s.trim());
    for (const a of arms) if (!ARMS.includes(a as Arm)) throw new Error(`--arms: unknown arm '${a}' (arms: ${ARMS.join(', ')})`);
    o.arms = arms as Arm[];
  }
  if (f.widths !== undefined) o.widths = integerList('widths', String(f.widths), 4);
  if (f.blocks !== undefined) o.blocks = integerList('blocks', String(f.blocks), 4);
  const numeric: [string, keyof SplExperimentOptions][] = [['teacher-epochs', 'teacherEpochs'], ['finetune-epochs', 'finetuneEpochs'],
    ['pretrain-epochs', 'pretrainEpochs'], ['batch-size', 'batchSize'], ['pretrain-batch-size', 'pretrainBatchSize'], ['lr', 'lr']];
  for (const [flag, key] of numeric) if (f[flag] !== undefined) (o as Record<string, unknown>)[key] = f[flag];
  if (f.tau !== undefined || f['small-cells'] !== undefined) {
    o.spl = { ...base.spl, ...(f.tau !== undefined ? { minClips: f.tau as number } : {}), ...(f['small-cells'] !== undefined ? { smallCells: f['small-cells'] as 'merge' | 'drop' } : {}) };
  }
  let bar: Progress | undefined;
  o.onProgress = (done, total) => {
    if (args.json) return;
    bar ??= new Progress({ total, label: 'spl', unit: 'step', stream: { write: (s) => io.stderr(s), isTTY: process.stderr.isTTY, columns: process.stderr.columns } });
    bar.update(Math.min(done, total));
  };
  if (!args.json && !process.stderr.isTTY) o.onPhase = (text) => io.stderr(`spl: ${text}\n`);
  // Grad-CAM of the first seed's model of one arm, on one test clip of each of the first classes.
  const camArm = f['gradcam-arm'] as string, camLayer = f['gradcam-layer'] as string;
  if (!ARMS.includes(camArm as Arm)) throw new Error(`--gradcam-arm: unknown arm '${camArm}' (arms: ${ARMS.join(', ')})`);
  if (!STAGES.includes(camLayer as StageName)) throw new Error(`--gradcam-layer must be one of ${STAGES.join(', ')}, got '${camLayer}'`);
  let camSvg: string | undefined;
  o.onModel = async (arm, seed, model, bench) => {
    if (arm !== camArm || camSvg !== undefined) return;
    const test = bench.targetTest, clipSize = test.clipShape.reduce((a, b) => a * b, 1);
    const items: GradCamStripItem[] = [];
    for (let i = 0; i < Math.min(3, bench.numClasses); i++) {
      const clip = clipBatch(test, [i], model.fc.weight.backend.name);
      const result = await gradCam3d(model, clip, { layer: camLayer as StageName, classIndex: test.labels[i] });
      clip.dispose();
      items.push({ label: bench.classNames[test.labels[i]], clip: test.data.subarray(i * clipSize, (i + 1) * clipSize), result });
    }
    camSvg = gradCamStrip(items, { title: `Grad-CAM of ${camLayer}, ${ARM_LABELS[arm]} (seed ${seed}), for the true class of test clips` });
  };
  let result: SplExperimentResult;
  try {
    result = await splExperiment(o);
  } finally {
    bar?.finish();
  }
  const out = f.out as string;
  mkdirSync(out, { recursive: true });
  const svgPath = join(out, 'spl-confusion.svg');
  writeFileSync(svgPath, splHeatmap(result.seeds[0].spl, result.benchmark.classNames,
    `weak label x teacher prediction over ${result.benchmark.web} web clips (seed ${result.seeds[0].seed}); outlined: SPL classes`));
  if (camSvg !== undefined) writeFileSync(join(out, `gradcam-${camArm}.svg`), camSvg);
  const json = splJson(result);
  writeFileSync(join(out, 'spl.json'), json + '\n');
  if (args.json) io.stdout(json + '\n');
  else io.stdout(formatSplTable(result) + `wrote ${svgPath}${camSvg !== undefined ? `, ${join(out, `gradcam-${camArm}.svg`)}` : ''} and ${join(out, 'spl.json')}\n`);
  return 0;
}

registerCommand('spl', {
  describe: 'SPL (sub-pseudo labels, AAAI 2022) on a synthetic weakly-labelled video benchmark: six pre-training arms, top-1/top-5 over seeds',
  flags: {
    quick: { type: 'boolean', describe: 'tiny clips, models and epochs (seconds; for tests)' },
    seeds: { type: 'string', describe: 'comma-separated seeds of the models (default 0,1,2; --quick 0,1)' },
    'data-seed': { type: 'number', describe: 'seed of the rendered benchmark (default 0)' },
    arms: { type: 'string', describe: `comma-separated arms (default all: ${ARMS.join(', ')})` },
    widths: { type: 'string', describe: 'four stage widths of the R3D (default 4,8,16,32)' },
    blocks: { type: 'string', describe: 'four blocks-per-stage counts (default 1,1,1,1)' },
    'teacher-epochs': { type: 'number', describe: 'epochs of the teacher / scratch arm on the clean target set (default 25)' },
    'finetune-epochs': { type: 'number', describe: 'epochs of fine-tuning each pre-trained student (default 10)' },
    'pretrain-epochs': { type: 'number', describe: 'epochs of pre-training on the web clips (default 3)' },
    'batch-size': { type: 'number', describe: 'minibatch on the target set (default 8)' },
    'pretrain-batch-size': { type: 'number', describe: 'minibatch of pre-training (default 24)' },
    lr: { type: 'number', describe: 'peak SGD learning rate, cosine annealed (default 0.05)' },
    tau: { type: 'number', describe: 'SPL threshold: confusion cells with fewer clips are merged or dropped (default 6)' },
    'small-cells': { type: 'string', describe: "what happens to cells under tau: 'merge' into the weak class or 'drop' (default merge)" },
    'gradcam-arm': { type: 'string', describe: 'arm whose first fine-tuned model gets a Grad-CAM strip (gradcam-<arm>.svg)', default: 'spl' },
    'gradcam-layer': { type: 'string', describe: `stage explained by Grad-CAM: ${STAGES.join(', ')}`, default: 'layer2' },
    out: { type: 'string', describe: 'folder for spl-confusion.svg, gradcam-<arm>.svg and spl.json', default: 'spl-results' },
    backend: { type: 'string', describe: 'tensor backend (default: the fastest available)' },
  },
  run,
});
