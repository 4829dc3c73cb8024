// The SPL experiment on the synthetic weakly-labelled benchmark: a teacher is
// trained on the clean target set; students are pre-trained on the web clips
// with each kind of label (weak, teacher, agreement-filtered, SPL, SPL-B) or not
// at all (scratch), fine-tuned on the clean target set, and scored top-1 / top-5
// on the clean target test set, over several seeds.
import * as T from '../../index.js';
import { r3d18, type VideoResNet } from './resnet.js';
import { agreementFilter, subPseudoLabels, type SplLabels, type SplOptions } from './spl.js';
import { videoBenchmark, type BenchmarkOptions, type VideoBenchmark } from './synthetic.js';
import { argmaxRows, predictClips, topK, trainClips } from './train.js';

export const ARMS = ['scratch', 'weak', 'teacher', 'agreement', 'spl', 'spl-b'] as const;
export type Arm = (typeof ARMS)[number];

export const ARM_LABELS: Record<Arm, string> = {
  scratch: 'no pre-training (target set only)',
  weak: 'weak-label pre-training',
  teacher: 'teacher-prediction pre-training',
  agreement: 'agreement filtering',
  spl: 'SPL',
  'spl-b': 'SPL-B',
};

/** Li et al., AAAI 2022, Kinetics-200 with a 3D ResNet-50 (top-1 / top-5, %); their baseline is ImageNet initialization. */
export const PAPER_KINETICS200: Record<Arm, { top1: number; top5: number } | null> = {
  scratch: { top1: 80.6, top5: 94.7 },
  weak: { top1: 82.8, top5: 95.6 },
  teacher: { top1: 81.9, top5: 95.0 },
  agreement: { top1: 82.9, top5: 95.4 },
  spl: { top1: 84.3, top5: 95.7 },
  'spl-b': null,
};

export interface SplExperimentOptions {
  /** Seeds of the model initializations and batch orders (the benchmark's clips come from dataSeed). */
  seeds?: number[];
  dataSeed?: number;
  arms?: readonly Arm[];
  benchmark?: Omit<BenchmarkOptions, 'seed'>;
  /** Stage widths of the student and teacher (an R3D of BasicBlocks); default [4, 8, 16, 32]. */
  widths?: number[];
  /** Blocks per stage; default [1, 1, 1, 1]. */
  blocks?: number[];
  /** Epochs of the teacher (= the scratch arm) on the clean target set; default 25. */
  teacherEpochs?: number;
  /** Epochs of fine-tuning a pre-trained student on the clean target set; default 10. */
  finetuneEpochs?: number;
  /** Epochs of pre-training on the web clips; default 3. */
  pretrainEpochs?: number;
  /** Minibatch on the clean target set; default 8. */
  batchSize?: number;
  /** Minibatch of pre-training; default 24. */
  pretrainBatchSize?: number;
  /** Peak SGD learning rate of every training (cosine annealed); default 0.05. */
  lr?: number;
  /** SPL's small-cell threshold and policy (see subPseudoLabels); default tau = 4 clips, merged. */
  spl?: Pick<SplOptions, 'minClips' | 'smallCells'>;
  backend?: string;
  /** Progress: called after every optimizer step with the steps done and the steps of the whole run. */
  onProgress?: (done: number, total: number) => void;
  /** Called when a phase starts (e.g. "seed 1: pre-train spl"). */
  onPhase?: (text: string) => void;
  /** Called with every fine-tuned model (and the scratch teacher) before it is disposed, e.g. for Grad-CAM. */
  onModel?: (arm: Arm, seed: number, model: VideoResNet, bench: VideoBenchmark) => Promise<void> | void;
}

const OPTION_KEYS = ['seeds', 'dataSeed', 'arms', 'benchmark', 'widths', 'blocks', 'teacherEpochs', 'finetuneEpochs', 'pretrainEpochs', 'batchSize', 'pretrainBatchSize', 'lr', 'spl', 'backend', 'onProgress', 'onPhase', 'onModel'];

export interface ArmRun { arm: Arm; seed: number; top1: number; top5: number; pretrainClips: number; pretrainClasses: number; seconds: number }

export interface SeedReport {
  seed: number;
  /** Teacher top-1 on the web clips that show a target class (against what they show). */
  teacherWebAccuracy: number;
  /** Fraction of web clips whose teacher prediction equals their weak label. */
  agreement: number;
  /** Fraction of web clips whose weak label is what they show. */
  weakLabelAccuracy: number;
  spl: SplLabels;
  splB: SplLabels;
  runs: ArmRun[];
}

export interface Summary { mean: number; std: number; values: number[] }

export interface SplExperimentResult {
  options: Omit<Required<SplExperimentOptions>, 'onProgress' | 'onPhase' | 'onModel' | 'backend'> & { backend: string };
  benchmark: { numClasses: number; classNames: string[]; targetTrain: number; targetTest: number; web: number; options: VideoBenchmark['options'] };
  seeds: SeedReport[];
  /** Per arm: top-1 and top-5 over the seeds. */
  table: Record<string, { top1: Summary; top5: Summary }>;
  seconds: number;
}

/** Mean and sample standard deviation (n - 1; 0 for one value). */
export function summarize(values: number[]): Summary {
  const n = values.length, mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, values };
}

function resolve(opts: SplExperimentOptions) {
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new Error(`splExperiment: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  const arms = opts.arms ?? ARMS;
  for (const a of arms) if (!ARMS.includes(a)) throw new Error(`splExperiment: unknown arm '${a}' (arms: ${ARMS.join(', ')})`);
  const seeds = opts.seeds ?? [0, 1, 2];
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`splExperiment: seeds must be a non-empty list of integers, got ${JSON.stringify(seeds)}`);
  const positive = (name: string, v: number) => { if (!Number.isInteger(v) || v < 1) throw new Error(`splExperiment: ${name} must be a positive integer, got ${v}`); return v; };
  return {
    seeds, arms, dataSeed: opts.dataSeed ?? 0, benchmark: opts.benchmark ?? {},
    widths: opts.widths ?? [4, 8, 16, 32], blocks: opts.blocks ?? [1, 1, 1, 1],
    teacherEpochs: positive('teacherEpochs', opts.teacherEpochs ?? 25), finetuneEpochs: positive('finetuneEpochs', opts.finetuneEpochs ?? 10),
    pretrainEpochs: positive('pretrainEpochs', opts.pretrainEpochs ?? 3),
    batchSize: positive('batchSize', opts.batchSize ?? 8), pretrainBatchSize: positive('pretrainBatchSize', opts.pretrainBatchSize ?? 24),
    lr: opts.lr ?? 0.05,
    spl: { minClips: opts.spl?.minClips ?? 6, smallCells: opts.spl?.smallCells ?? 'merge' },
    backend: opts.backend ?? T.getBackend().name,
  };
}

/** Runs the experiment; see the file comment. */
export async function splExperiment(opts: SplExperimentOptions = {}): Promise<SplExperimentResult> {
  const o = resolve(opts);
  const started = performance.now();
  opts.onPhase?.('rendering the benchmark');
  const bench = videoBenchmark({ ...o.benchmark, seed: o.dataSeed });
  const K = bench.numClasses;
  const { targetTrain, targetTest, web } = bench;
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const trainIds = all(targetTrain.length), webIds = all(web.length);

  // Steps of the whole run, for the progress callback. Agreement filtering's count is known only
  // after the teacher ran: it is counted as a full web pass, and its missing steps are skipped over.
  const steps = (clips: number, epochs: number, batch: number) => (clips < 2 ? 0 : epochs * Math.ceil(clips / Math.min(batch, clips)));
  const students = o.arms.filter((a) => a !== 'scratch');
  const perSeed = (agreeClips: number) => steps(targetTrain.length, o.teacherEpochs, o.batchSize)
    + students.length * steps(targetTrain.length, o.finetuneEpochs, o.batchSize)
    + students.reduce((n, a) => n + steps(a === 'agreement' ? agreeClips : web.length, o.pretrainEpochs, o.pretrainBatchSize), 0);
  const total = perSeed(web.length) * o.seeds.length;
  let done = 0;
  const onStep = () => { done++; opts.onProgress?.(done, total); };

  const student = (seed: number, classes: number): VideoResNet =>
    r3d18({ widths: o.widths, blocks: o.blocks, numClasses: classes, generator: new T.Rng(seed), backend: o.backend });
  const train = (model: VideoResNet, set: typeof web, ids: ArrayLike<number>, labels: ArrayLike<number>, epochs: number, batchSize: number, seed: number) =>
    trainClips(model, set, ids, labels, { epochs, batchSize, lr: o.lr, generator: new T.Rng(seed), backend: o.backend, onStep });
  const score = async (model: VideoResNet) => {
    const { logits, classes } = await predictClips(model, targetTest, undefined, { backend: o.backend });
    return { top1: topK(logits, classes, targetTest.labels, 1), top5: topK(logits, classes, targetTest.labels, Math.min(5, classes)) };
  };
  const dispose = (m: VideoResNet) => { for (const t of Object.values(m.stateDict())) t.dispose(); };

  const seeds: SeedReport[] = [];
  for (const seed of o.seeds) {
    const runs: ArmRun[] = [];
    // The teacher is the scratch arm: the student architecture trained on the clean target set alone.
    opts.onPhase?.(`seed ${seed}: teacher (target set only)`);
    let t0 = performance.now();
    const teacher = student(1000 * seed + 1, K);
    await train(teacher, targetTrain, trainIds, targetTrain.labels, o.teacherEpochs, o.batchSize, 1000 * seed + 2);
    const teacherScore = await score(teacher);
    if (o.arms.includes('scratch')) runs.push({ arm: 'scratch', seed, ...teacherScore, pretrainClips: 0, pretrainClasses: 0, seconds: (performance.now() - t0) / 1000 });
    const webLogits = await predictClips(teacher, web, undefined, { backend: o.backend });
    const predictions = argmaxRows(webLogits.logits, webLogits.classes);
    await opts.onModel?.('scratch', seed, teacher, bench);
    dispose(teacher);

    let shownTarget = 0, teacherRight = 0, weakRight = 0;
    for (let i = 0; i < web.length; i++) {
      if (web.shown[i] >= 0) { shownTarget++; if (predictions[i] === web.shown[i]) teacherRight++; }
      if (web.shown[i] === web.labels[i]) weakRight++;
    }
    const agreeIds = agreementFilter(web.labels, predictions);
    const spl = subPseudoLabels(web.labels, predictions, K, { variant: 'raw', ...o.spl });
    const splB = subPseudoLabels(web.labels, predictions, K, { variant: 'compact', ...o.spl });
    const pretrainSets: Record<Exclude<Arm, 'scratch'>, { ids: ArrayLike<number>; labels: ArrayLike<number>; classes: number }> = {
      weak: { ids: webIds, labels: web.labels, classes: K },
      teacher: { ids: webIds, labels: predictions, classes: K },
      agreement: { ids: agreeIds, labels: Array.from(agreeIds, (i) => web.labels[i]), classes: K },
      spl: { ids: webIds, labels: spl.labels, classes: spl.numSplClasses },
      'spl-b': { ids: webIds, labels: splB.labels, classes: splB.numSplClasses },
    };
    for (const arm of o.arms) {
      if (arm === 'scratch') continue;
      t0 = performance.now();
      const set = pretrainSets[arm];
      opts.onPhase?.(`seed ${seed}: pre-train ${arm} (${set.ids.length} clips, ${set.classes} classes), fine-tune`);
      // Every arm starts from the same initialization for this seed.
      const model = student(1000 * seed + 3, set.classes);
      await train(model, web, set.ids, set.labels, o.pretrainEpochs, o.pretrainBatchSize, 1000 * seed + 4);
      if (arm === 'agreement') done += perSeed(web.length) - perSeed(agreeIds.length);
      model.resetHead(K, new T.Rng(1000 * seed + 5));
      await train(model, targetTrain, trainIds, targetTrain.labels, o.finetuneEpochs, o.batchSize, 1000 * seed + 6);
      const s = await score(model);
      await opts.onModel?.(arm, seed, model, bench);
      dispose(model);
      let kept = 0;
      for (let i = 0; i < set.labels.length; i++) if (set.labels[i] >= 0) kept++;
      runs.push({ arm, seed, ...s, pretrainClips: kept, pretrainClasses: set.classes, seconds: (performance.now() - t0) / 1000 });
    }
    seeds.push({
      seed, teacherWebAccuracy: teacherRight / Math.max(1, shownTarget), agreement: agreeIds.length / web.length,
      weakLabelAccuracy: weakRight / web.length, spl, splB, runs,
    });
  }
  const table: SplExperimentResult['table'] = {};
  for (const arm of o.arms) {
    const runs = seeds.flatMap((s) => s.runs.filter((r) => r.arm === arm));
    table[arm] = { top1: summarize(runs.map((r) => r.top1)), top5: summarize(runs.map((r) => r.top5)) };
  }
  return {
    options: { ...o },
    benchmark: { numClasses: K, classNames: bench.classNames, targetTrain: targetTrain.length, targetTest: targetTest.length, web: web.length, options: bench.options },
    seeds, table, seconds: (performance.now() - started) / 1000,
  };
}
