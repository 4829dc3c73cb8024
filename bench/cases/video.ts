// One training step (forward, cross-entropy, backward, SGD with momentum) of a video ResNet on the
// cpu backend against torchvision's in PyTorch with the same thread count, each side in a process
// of its own (bench/whole_step.ts: time per step and peak RSS): R3D-18 at full width on a batch of 2
// clips 3x16x112x112, and the small R3D of `tessera spl` (widths 4/8/16/32, one block per stage) on
// a batch of 24 clips 3x8x32x32. Both sides train on the same clips and labels; each initializes its
// own weights (the same scheme: kaiming-normal fan_out, BN weight 1 / bias 0).
import * as T from '../../src/index.js';
import { r3d18 } from '../../src/models/video/index.js';
import { sized } from '../case.js';
import { type StepSession, type WholeStepDef, wholeStepCase } from '../whole_step.js';

interface VideoCase { label: string; widths: number[]; blocks: number[]; batch: number; frames: number; size: number; classes: number }

const r3d: VideoCase = sized(
  { label: 'r3d_18', widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], batch: 2, frames: 16, size: 112, classes: 400 },
  { label: 'r3d_18', widths: [8, 8, 8, 8], blocks: [1, 1, 1, 1], batch: 2, frames: 8, size: 32, classes: 10 });
const student: VideoCase = sized(
  { label: 'spl student', widths: [4, 8, 16, 32], blocks: [1, 1, 1, 1], batch: 24, frames: 8, size: 32, classes: 9 },
  { label: 'spl student', widths: [4, 8, 16, 32], blocks: [1, 1, 1, 1], batch: 2, frames: 8, size: 16, classes: 9 });

async function videoStep(c: VideoCase): Promise<StepSession> {
  await T.setBackend('cpu');
  const model = r3d18({ widths: c.widths, blocks: c.blocks, numClasses: c.classes, generator: new T.Rng(0) });
  const opt = new T.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = T.randn([c.batch, 3, c.frames, c.size, c.size], { generator: new T.Rng(1) }).keep();
  const y = T.randint(0, c.classes, [c.batch], { generator: new T.Rng(2) }).keep();
  model.train();
  return {
    step: () => T.scope(() => {
      opt.zeroGrad();
      T.crossEntropy(model.forward(x), y).backward();
      opt.step();
    }),
    dispose: () => {
      x.dispose(); y.dispose();
      opt.dispose();
      model.dispose();
    },
    peer: {
      meta: { widths: c.widths, blocks: c.blocks, classes: c.classes },
      arrays: {
        x: { data: x.dataSync() as Float32Array, shape: [c.batch, 3, c.frames, c.size, c.size] },
        y: { data: y.dataSync() as Int32Array, shape: [c.batch] },
      },
    },
  };
}

const stepName = (c: VideoCase) => `video ${c.label} training step, batch ${c.batch}x3x${c.frames}x${c.size}x${c.size} (SGD)`;

export const steps: WholeStepDef[] = [r3d, student].map((c) => ({
  name: stepName(c), kernel: 'video', torchScript: 'video_torch.py', steps: c === r3d ? 3 : 10, setup: () => videoStep(c),
}));

export const cases = steps.map((d) => wholeStepCase(d, import.meta.url));
