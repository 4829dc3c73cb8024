// Detection: class-aware NMS on 10,000 boxes of 80 classes against torchvision's batched_nms (both
// on the CPU; the kept sets are compared), and one whole training step of the detector (batch 16,
// 128 x 128 RGB shapes, focal + GIoU + centerness loss, AdamW) against the same network in PyTorch
// (bench/peers/detect_step_torch.py).
import { pathToFileURL } from 'node:url';
import * as T from '../../src/index.js';
import { Detector, assignTargets, detectionLoss, locations } from '../../src/models/detect/index.js';
import { type BenchCase, type CaseResult, medianMs, sized } from '../case.js';
import { Exchange, pythonTorch, runCases } from '../peers/signature_peers.js';
import { type StepSession, type WholeStepDef, wholeStepCase } from '../whole_step.js';

const NMS = { boxes: sized(10_000, 1_000), classes: 80, iou: 0.5 };

function nmsCase(): BenchCase {
  return {
    name: `batchedNms ${NMS.boxes} boxes, ${NMS.classes} classes`, kernel: 'nms',
    run: async (): Promise<CaseResult> => {
      await T.setBackend('cpu');
      const rng = new T.Rng(7);
      const boxes = new Float32Array(4 * NMS.boxes), scores = new Float32Array(NMS.boxes), classes = new Int32Array(NMS.boxes);
      for (let i = 0; i < NMS.boxes; i++) {
        // Clustered boxes on a 1000 px image, so that suppression has work to do.
        const cx = 100 * rng.int(10) + 20 * rng.normal(), cy = 100 * rng.int(10) + 20 * rng.normal();
        const w = 10 + 60 * rng.uniform(), h = 10 + 60 * rng.uniform();
        boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * i);
        scores[i] = rng.uniform();
        classes[i] = rng.int(NMS.classes);
      }
      const tb = T.fromArray(boxes, [NMS.boxes, 4]), ts = T.fromArray(scores, [NMS.boxes]), tc = T.fromArray(classes, [NMS.boxes], { dtype: 'int32' });
      let kept: Int32Array = new Int32Array(0);
      const ms = medianMs(() => { kept = T.vision.batchedNmsSync(tb, ts, tc, NMS.iou); }, sized(20, 3));
      const ex = new Exchange({ iouThreshold: NMS.iou }, { boxes: { data: boxes, shape: [NMS.boxes, 4] }, scores: { data: scores, shape: [NMS.boxes] }, classes: { data: classes, shape: [NMS.boxes] } });
      const peers = ex.runPeer(pythonTorch, 'nms_torchvision.py', 'torch', sized(20, 3)) ?? {};
      const check: Record<string, number> = {};
      if (Object.keys(peers).length) {
        // The same kept set (torchvision orders by score too; ties are measure-zero with random scores).
        const theirs = new Set(Array.from(ex.read('kept')));
        check['kept sets differ (boxes)'] = kept.length + theirs.size - 2 * Array.from(kept).filter((k) => theirs.has(k)).length;
      }
      ex.dispose();
      tb.dispose(); ts.dispose(); tc.dispose();
      return { tesseraMs: ms, peers, check };
    },
  };
}

const STEP = { batch: sized(16, 2), size: 128, classes: 3 };

async function detectorStep(): Promise<StepSession> {
  await T.setBackend('cpu');
  T.manualSeed(0);
  const data = T.data.shapesDetection({ count: STEP.batch, size: STEP.size, seed: 1 });
  const model = new Detector({ numClasses: STEP.classes, inChannels: 3 });
  const opt = new T.optim.AdamW(model.parameters(), { lr: 2e-3, weightDecay: 5e-4 });
  const loc = locations(STEP.size, STEP.size);
  const targets = data.labels.map((labels, i) => assignTargets(loc.points, loc.strides, data.boxes[i], labels, STEP.classes));
  const field = (f: 'cls' | 'box' | 'centerness' | 'positive') => {
    const out = new Float32Array(targets.length * targets[0][f].length);
    targets.forEach((t, k) => out.set(t[f], k * t[f].length));
    return out;
  };
  const arrays = {
    images: { data: data.images, shape: [STEP.batch, 3, STEP.size, STEP.size] },
    cls: { data: field('cls'), shape: [STEP.batch, loc.count, STEP.classes] },
    box: { data: field('box'), shape: [STEP.batch, loc.count, 4] },
    centerness: { data: field('centerness'), shape: [STEP.batch, loc.count] },
    positive: { data: field('positive'), shape: [STEP.batch, loc.count] },
    points: { data: loc.points, shape: [loc.count, 2] },
  };
  const keep = (a: { data: Float32Array; shape: number[] }) => T.fromArray(a.data, a.shape).keep();
  const images = keep(arrays.images), points = keep(arrays.points);
  const batch = { cls: keep(arrays.cls), box: keep(arrays.box), centerness: keep(arrays.centerness), positive: keep(arrays.positive),
    numPositive: targets.reduce((s, t) => s + t.numPositive, 0) };
  model.train();
  return {
    step: () => T.scope(() => {
      opt.zeroGrad();
      detectionLoss(model.forward(images), batch, points, 'focal').total.backward();
      opt.step();
    }),
    dispose: () => {
      for (const t of [images, points, batch.cls, batch.box, batch.centerness, batch.positive]) t.dispose();
      opt.dispose();
      model.dispose();
    },
    peer: {
      meta: { inChannels: 3, numClasses: STEP.classes, widths: model.config.widths, blocks: model.config.blocks, neck: model.config.neckWidth },
      arrays,
    },
  };
}

export const steps: WholeStepDef[] = [
  { name: `detector training step, batch ${STEP.batch} x 3 x ${STEP.size}^2`, kernel: 'detect', torchScript: 'detect_step_torch.py', steps: 5, setup: detectorStep },
];

export const cases: BenchCase[] = [nmsCase(), ...steps.map((d) => wholeStepCase(d, import.meta.url))];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
