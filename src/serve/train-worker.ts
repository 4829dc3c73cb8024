// A training job's child process (forked by jobs.ts, so training never blocks the server's event
// loop): argv = [dataDir, outDir, options JSON]. Trains a detector on the annotated images in
// dataDir (YOLO or COCO), writes model.safetensors and config.json into outDir, and reports
// progress and the result to the parent over IPC.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../index.js';
import { Detector, trainDetector, evaluateDetector, type DetectorConfig } from '../models/detect/index.js';

export interface TrainJobOptions {
  imageSize: number;
  epochs: number;
  batchSize: number;
  lr: number;
  timeLimitSeconds: number;
  /** Width and depth of the detector (the base version's when retraining one). */
  detector: Partial<DetectorConfig>;
  version: number;
  backend?: string;
}

export type WorkerMessage =
  | { type: 'progress'; epoch: number; step: number; steps: number; loss: number }
  | { type: 'done'; epochs: number; seconds: number; map50: number; images: number; classNames: string[] }
  | { type: 'error'; message: string };

const send = (m: WorkerMessage) => process.send!(m);

async function main(): Promise<WorkerMessage> {
  const [dataDir, outDir, optionsJson] = process.argv.slice(2);
  const opts = JSON.parse(optionsJson) as TrainJobOptions;
  if (opts.backend) await T.setBackend(opts.backend);
  const data = T.data.loadDetectionFolder(dataDir, { size: opts.imageSize });
  if (data.count === 0) throw new Error('the upload holds no annotated images');
  const config: DetectorConfig = { width: 0.25, ...opts.detector, numClasses: data.classNames.length, inChannels: 3 };
  T.manualSeed(0);
  const model = new Detector(config);
  const result = await trainDetector(model, data, {
    epochs: opts.epochs, batchSize: Math.min(opts.batchSize, data.count), lr: opts.lr, warmupSteps: 2,
    timeLimitSeconds: opts.timeLimitSeconds,
    onStep: (i) => send({ type: 'progress', epoch: i.epoch, step: i.step, steps: i.steps, loss: i.loss }),
  });
  const evaluation = await evaluateDetector(model, data);
  await T.saveModule(join(outDir, 'model.safetensors'), model);
  const manifest = {
    kind: 'detector', version: opts.version, created: new Date().toISOString(),
    config: { detector: config, imageSize: opts.imageSize, classNames: data.classNames },
    training: { images: data.count, epochs: result.epochs, trainMap50: evaluation.map50 },
  };
  // config.json last: a version folder without it is incomplete and never listed.
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(manifest, null, 2));
  return { type: 'done', epochs: result.epochs, seconds: result.seconds, map50: evaluation.map50, images: data.count, classNames: data.classNames };
}

// Exit only once the last message is handed to the parent.
main().then((m) => process.send!(m, () => process.exit(0)), (e: Error) => process.send!({ type: 'error', message: e.message } satisfies WorkerMessage, () => process.exit(1)));
