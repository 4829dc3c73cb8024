// `tessera detect train|eval|predict`: trains the FCOS-style detector on a detection set made in
// code (MNIST digits on canvases, or coloured shapes), evaluates COCO mAP, and draws detections.
// A model folder holds model.safetensors (its config and epoch in the metadata) and
// optimizer.safetensors; `train --resume` continues from it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../index.js';
import { registerCommand, type CliIO, type ParsedArgs } from './commands.js';
import { Progress } from './progress.js';
import { Detector, trainDetector, evaluateDetector, detect, type DetectorConfig, type EvalResult } from '../models/detect/index.js';
import { encodePng } from '../plot/png.js';

const DATASETS = ['mnist', 'shapes'] as const;
type DatasetName = (typeof DATASETS)[number];

function dataset(args: ParsedArgs, split: 'train' | 'test', count: number): T.data.DetectionSet {
  const name = args.flags.dataset as DatasetName;
  if (!DATASETS.includes(name)) throw new Error(`--dataset must be one of ${DATASETS.join(', ')}, got '${name}'`);
  const seed = (args.flags.seed as number) * 2 + (split === 'train' ? 1 : 2);
  if (name === 'shapes') return T.data.shapesDetection({ count, seed });
  const dir = args.flags.data as string | undefined;
  const mnist = T.data.loadMnist(dir ? { dir: join(dir, 'mnist') } : {});
  // Train and test draw from disjoint digits of the MNIST test file.
  return T.data.mnistDetection({ count, seed, mnist, digitRange: split === 'train' ? [0, 8000] : [8000, mnist.count] });
}

async function loadModel(dir: string): Promise<Detector> {
  const path = join(dir, 'model.safetensors');
  const meta = T.loadSafetensors(path).metadata;
  if (!meta.config) throw new Error(`${path}: no detector config in its metadata (was it written by tessera detect train?)`);
  const model = new Detector(JSON.parse(meta.config) as DetectorConfig);
  await T.loadModule(path, model);
  return model;
}

function mapTable(r: EvalResult): string {
  const rows = r.perClass.map((p) => `  ${p.name.padEnd(10)} ${Number.isNaN(p.map50) ? '   -  ' : p.map50.toFixed(3).padStart(6)}  ${Number.isNaN(p.map) ? '   -  ' : p.map.toFixed(3).padStart(6)}`);
  return [`  ${'class'.padEnd(10)} mAP@.5  mAP@.5:.95`, ...rows,
    `  ${'all'.padEnd(10)} ${r.map50.toFixed(3).padStart(6)}  ${r.map.toFixed(3).padStart(6)}   (mAP@.75 ${r.map75.toFixed(3)})`].join('\n') + '\n';
}

/** An SVG of the image (embedded PNG) with each detection's box, label and score. */
export function detectionSvg(image: Float32Array, channels: 1 | 3, size: number, det: { boxes: Float32Array; scores: Float32Array; labels: Int32Array },
  classNames: string[], scale = 4): string {
  const png = encodePng(image, channels, size, size).toString('base64');
  const w = size * scale;
  const colours = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe'];
  const parts = det.scores.length ? Array.from(det.scores, (s, i) => {
    const [x1, y1, x2, y2] = Array.from(det.boxes.subarray(4 * i, 4 * i + 4), (v) => v * scale);
    const c = colours[det.labels[i] % colours.length];
    const label = `${classNames[det.labels[i]] ?? det.labels[i]} ${s.toFixed(2)}`;
    return `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${c}" stroke-width="2"/>` +
      `<text x="${x1.toFixed(1)}" y="${Math.max(12, y1 - 3).toFixed(1)}" fill="${c}" font-family="sans-serif" font-size="13">${label}</text>`;
  }) : [];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${w}" viewBox="0 0 ${w} ${w}">\n` +
    `<image width="${w}" height="${w}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>\n${parts.join('\n')}\n</svg>\n`;
}

const common = {
  dataset: { type: 'string' as const, describe: `detection set made in code: ${DATASETS.join(' | ')}`, default: 'mnist' },
  data: { type: 'string' as const, describe: 'data folder holding mnist/ (default: TESSERA_DATA or ../shared/data)' },
  seed: { type: 'number' as const, describe: 'seed of the data and the model', default: 0 },
  backend: { type: 'string' as const, describe: 'backend to run on (default: the fastest present)' },
};

async function useBackend(args: ParsedArgs): Promise<void> {
  if (args.flags.backend) await T.setBackend(args.flags.backend as string);
}

async function train(args: ParsedArgs, io: CliIO): Promise<number> {
  await useBackend(args);
  const out = args.flags.out as string;
  const data = dataset(args, 'train', args.flags['train-size'] as number);
  T.manualSeed(args.flags.seed as number);
  const model = new Detector({ numClasses: data.classNames.length, inChannels: data.channels, width: args.flags.width as number, depth: args.flags.depth as number });
  mkdirSync(out, { recursive: true });
  // Progress goes to stderr, so it shows with --json too.
  const progress = new Progress({ total: (args.flags.epochs as number) * Math.ceil(data.count / (args.flags.batch as number)), label: 'detect train' });
  const result = await trainDetector(model, data, {
    epochs: args.flags.epochs as number, batchSize: args.flags.batch as number, lr: args.flags.lr as number,
    flip: args.flags.flip as boolean ?? data.classNames[0] !== '0', classLoss: args.flags['class-loss'] as 'bce' | 'focal',
    boxLoss: args.flags['box-loss'] as 'giou' | 'ciou', assigner: args.flags.assigner as 'center' | 'tal',
    timeLimitSeconds: 60 * (args.flags.minutes as number), checkpointDir: out, resume: args.flags.resume as boolean, seed: args.flags.seed as number,
    onStep: () => progress.tick(),
  });
  progress.finish();
  const test = dataset(args, 'test', args.flags['test-size'] as number);
  const evaluation = await evaluateDetector(model, test);
  const summary = { command: 'detect train', dataset: args.flags.dataset, trainImages: data.count, testImages: test.count, backend: T.getBackend().name,
    epochs: result.epochs, steps: result.steps, seconds: result.seconds, epochLoss: result.epochLoss,
    map: evaluation.map, map50: evaluation.map50, map75: evaluation.map75, perClass: evaluation.perClass, model: out };
  if (args.json) io.stdout(JSON.stringify(summary) + '\n');
  else io.stdout(`trained ${result.epochs} epochs (${result.steps} steps) in ${result.seconds.toFixed(0)} s on ${summary.backend}; model in ${out}\n` +
    `COCO mAP on ${test.count} test images:\n${mapTable(evaluation)}`);
  return 0;
}

async function evaluate(args: ParsedArgs, io: CliIO): Promise<number> {
  await useBackend(args);
  const model = await loadModel(args.flags.model as string);
  const test = dataset(args, 'test', args.flags['test-size'] as number);
  const r = await evaluateDetector(model, test);
  if (args.json) io.stdout(JSON.stringify({ command: 'detect eval', testImages: test.count, map: r.map, map50: r.map50, map75: r.map75, perClass: r.perClass }) + '\n');
  else io.stdout(`COCO mAP on ${test.count} test images:\n${mapTable(r)}`);
  return 0;
}

async function predict(args: ParsedArgs, io: CliIO): Promise<number> {
  await useBackend(args);
  const model = await loadModel(args.flags.model as string);
  const test = dataset(args, 'test', args.flags.count as number);
  const out = args.flags.out as string;
  mkdirSync(out, { recursive: true });
  const plane = test.channels * test.size * test.size;
  const images = T.fromArray(test.images.slice(), [test.count, test.channels, test.size, test.size]);
  const dets = await detect(model, images, { scoreThreshold: args.flags.threshold as number });
  images.dispose();
  const files = dets.map((d, i) => {
    const path = join(out, `detections-${i}.svg`);
    T.plot.saveSvg(path, detectionSvg(test.images.subarray(i * plane, (i + 1) * plane), test.channels as 1 | 3, test.size, d, test.classNames));
    return { path, detections: Array.from(d.scores, (s, k) => ({ label: test.classNames[d.labels[k]], score: s, box: Array.from(d.boxes.subarray(4 * k, 4 * k + 4)) })) };
  });
  if (args.json) io.stdout(JSON.stringify({ command: 'detect predict', files }) + '\n');
  else for (const f of files) io.stdout(`${f.path}: ${f.detections.map((d) => `${d.label} ${d.score.toFixed(2)}`).join(', ') || 'nothing detected'}\n`);
  return 0;
}

registerCommand('detect', {
  describe: 'train, evaluate and run the detector on detection sets made in code (MNIST digits on canvases, shapes)',
  usage: 'train|eval|predict',
  flags: {
    ...common,
    out: { type: 'string', describe: 'train: model folder to write; predict: folder for the SVG pictures', default: 'detector' },
    model: { type: 'string', describe: 'eval / predict: model folder written by train', default: 'detector' },
    'train-size': { type: 'number', describe: 'training images', default: 2000 },
    'test-size': { type: 'number', describe: 'test images', default: 500 },
    count: { type: 'number', describe: 'predict: images to draw', default: 4 },
    epochs: { type: 'number', describe: 'training epochs', default: 12 },
    minutes: { type: 'number', describe: 'stop training after this many minutes (the epoch in progress finishes)', default: 10 },
    batch: { type: 'number', describe: 'batch size', default: 16 },
    lr: { type: 'number', describe: 'AdamW learning rate (warmup, then cosine decay)', default: 2e-3 },
    width: { type: 'number', describe: 'width multiplier', default: 1 },
    depth: { type: 'number', describe: 'depth multiplier', default: 1 },
    flip: { type: 'boolean', describe: 'horizontal flip augmentation (default: on for shapes, off for digits)' },
    'class-loss': { type: 'string', describe: 'focal (sigmoid focal loss, a weighted BCE) | bce', default: 'focal' },
    'box-loss': { type: 'string', describe: 'giou | ciou (complete IoU: adds an aspect-ratio term)', default: 'giou' },
    assigner: { type: 'string', describe: 'center (FCOS centre sampling) | tal (YOLOv8 task-aligned, from the predictions; cpu/reference)', default: 'center' },
    resume: { type: 'boolean', describe: 'continue from the checkpoint in --out', default: false },
    threshold: { type: 'number', describe: 'predict: score threshold', default: 0.3 },
  },
  async run(args, io) {
    const [sub] = args.positionals;
    if (sub === 'train') return train(args, io);
    if (sub === 'eval') return evaluate(args, io);
    if (sub === 'predict') return predict(args, io);
    throw new Error(`detect: expected 'train', 'eval' or 'predict', got ${sub === undefined ? 'nothing' : `'${sub}'`}`);
  },
});
