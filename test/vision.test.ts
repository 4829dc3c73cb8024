// Box utilities: values against plain float64 formulas on every backend, gradients against
// float64 finite differences (they are composed ops, so conformance alone would compare the
// composition with itself).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, values, assertClose, gradcheck, throwsWith, rng } from './helpers.js';
import { boxIou, generalizedBoxIou, generalizedBoxIouLoss, distanceBoxIouLoss, completeBoxIouLoss, boxConvert, boxArea, clipBoxes } from '../src/vision/boxes.js';

const s = suite('vision: boxes');
const backends = await backendsUnderTest();

/** Random xyxy boxes with positive width and height, as plain numbers. */
function randomBoxes(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = 10 * rng.uniform(), y = 10 * rng.uniform();
    out.push(x, y, x + 0.5 + 6 * rng.uniform(), y + 0.5 + 6 * rng.uniform());
  }
  return out;
}

function f64(a: number[], i: number, b: number[], j: number) {
  const iw = Math.max(0, Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j]));
  const ih = Math.max(0, Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1]));
  const inter = iw * ih;
  const area = (v: number[], k: number) => (v[4 * k + 2] - v[4 * k]) * (v[4 * k + 3] - v[4 * k + 1]);
  const union = area(a, i) + area(b, j) - inter;
  const hull = (Math.max(a[4 * i + 2], b[4 * j + 2]) - Math.min(a[4 * i], b[4 * j])) * (Math.max(a[4 * i + 3], b[4 * j + 3]) - Math.min(a[4 * i + 1], b[4 * j + 1]));
  const dx = (a[4 * i] + a[4 * i + 2] - b[4 * j] - b[4 * j + 2]) / 2, dy = (a[4 * i + 1] + a[4 * i + 3] - b[4 * j + 1] - b[4 * j + 3]) / 2;
  const diag = (Math.max(a[4 * i + 2], b[4 * j + 2]) - Math.min(a[4 * i], b[4 * j])) ** 2 + (Math.max(a[4 * i + 3], b[4 * j + 3]) - Math.min(a[4 * i + 1], b[4 * j + 1])) ** 2;
  const diou = 1 - inter / union + (dx * dx + dy * dy) / diag;
  // CIoU: the aspect-ratio term v and its weight alpha (a constant for the gradient; `alpha` given holds it fixed).
  const aspect = (v: number[], k: number) => Math.atan((v[4 * k + 2] - v[4 * k]) / (v[4 * k + 3] - v[4 * k + 1]));
  const v = (4 / Math.PI ** 2) * (aspect(b, j) - aspect(a, i)) ** 2;
  const alpha = v / (1 - inter / union + v + 1e-7); // torchvision's eps keeps identical boxes at alpha 0
  return { iou: inter / union, giou: inter / union - (hull - union) / hull, diou, v, alpha, ciou: (fixed = alpha) => diou + fixed * v };
}

for (const backend of backends) {
  s(`pairwise IoU / GIoU and matched GIoU / DIoU losses match float64 formulas on ${backend}`, async () => {
    const a = randomBoxes(5), b = randomBoxes(4);
    b.splice(0, 4, ...a.slice(0, 4)); // one identical pair: IoU 1
    const ta = T.tensor(a, { backend }).reshape([5, 4]), tb = T.tensor(b, { backend }).reshape([4, 4]);
    const iou: number[] = [], giou: number[] = [];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) { const r = f64(a, i, b, j); iou.push(r.iou); giou.push(r.giou); }
    assertClose(await values(boxIou(ta, tb)), iou, `boxIou on ${backend}`);
    assertClose(await values(generalizedBoxIou(ta, tb)), giou, `generalizedBoxIou on ${backend}`);
    const pa = ta.slice(0, 0, 4), diou: number[] = [], gl: number[] = [];
    for (let i = 0; i < 4; i++) { const r = f64(a, i, b, i); gl.push(1 - r.giou); diou.push(r.diou); }
    assertClose(await values(generalizedBoxIouLoss(pa, tb)), gl, `generalizedBoxIouLoss on ${backend}`, 1e-4, 1e-5);
    assertClose(await values(distanceBoxIouLoss(pa, tb)), diou, `distanceBoxIouLoss on ${backend}`, 1e-4, 1e-5);
    const ciou = [0, 1, 2, 3].map((i) => f64(a, i, b, i).ciou());
    assertClose(await values(completeBoxIouLoss(pa, tb)), ciou, `completeBoxIouLoss on ${backend}`, 1e-4, 1e-5);
    assertClose(await values(completeBoxIouLoss(pa, tb, { reduction: 'sum' })), [ciou.reduce((x, y) => x + y)], 'ciou sum', 1e-4, 1e-5);
    assertClose(await values(generalizedBoxIouLoss(pa, tb, { reduction: 'mean' })), [gl.reduce((x, y) => x + y) / 4], 'mean');
  });

  s(`boxConvert round trips and boxArea / clipBoxes on ${backend}`, async () => {
    const a = randomBoxes(3);
    const t = T.tensor(a, { backend }).reshape([3, 4]);
    const cx = await values(boxConvert(t, 'xyxy', 'cxcywh'));
    assertClose(Array.from(cx).slice(0, 4), [(a[0] + a[2]) / 2, (a[1] + a[3]) / 2, a[2] - a[0], a[3] - a[1]], 'cxcywh');
    assertClose(await values(boxConvert(boxConvert(t, 'xyxy', 'xywh'), 'xywh', 'xyxy')), a, 'xywh round trip');
    assertClose(await values(boxConvert(boxConvert(t, 'xyxy', 'cxcywh'), 'cxcywh', 'xyxy')), a, 'cxcywh round trip');
    assertClose(await values(boxArea(t)), [0, 1, 2].map((i) => (a[4 * i + 2] - a[4 * i]) * (a[4 * i + 3] - a[4 * i + 1])), 'area');
    assertClose(await values(clipBoxes(T.tensor([[-1, 2, 30, 5]], { backend }), 4, 20)), [0, 2, 20, 4], 'clip');
  });
}

s('gradients of the GIoU and DIoU losses against float64 finite differences', async () => {
  // Boxes as (corner, positive size) so that x2 > x1 for every perturbation.
  const asBoxes = (p: T.Tensor, s: T.Tensor) => T.concat([p, T.add(p, s)], -1);
  const spec = [{ shape: [3, 2] }, { shape: [3, 2], kind: 'positive' as const }, { shape: [3, 2] }, { shape: [3, 2], kind: 'positive' as const }];
  await gradcheck('generalizedBoxIouLoss', spec, (p, s, q, r) => generalizedBoxIouLoss(asBoxes(p, s), asBoxes(q, r)));
  await gradcheck('distanceBoxIouLoss', spec, (p, s, q, r) => distanceBoxIouLoss(asBoxes(p, s), asBoxes(q, r)));
  await gradcheck('boxIou', spec, (p, s, q, r) => boxIou(asBoxes(p, s), asBoxes(q, r)));
});

s('CIoU: the aspect term on hand-made boxes; its gradient against finite differences of the float64 formula', async () => {
  // Same centre, same area (8), aspect 2:1 vs 1:2: inter 2 x 2, no centre term.
  const pred = [0, 1, 4, 3], target = [1, 0, 3, 4];
  const r = f64(pred, 0, target, 0);
  const v = (4 / Math.PI ** 2) * (Math.atan(0.5) - Math.atan(2)) ** 2;
  assertClose([r.v], [v], 'v by hand');
  const iou = 4 / 12; // inter 2 x 2, union 8 + 8 - 4
  assertClose([r.ciou()], [1 - iou + v * v / (1 - iou + v)], 'ciou by hand', 1e-7, 0);
  assertClose(await values(completeBoxIouLoss(T.tensor([pred]), T.tensor([target]))), [r.ciou()], 'completeBoxIouLoss', 1e-5, 1e-6);
  // Identical boxes: loss 0 (v = 0 and alpha = 0/eps stays finite).
  assertClose(await values(completeBoxIouLoss(T.tensor([pred]), T.tensor([pred]))), [0], 'identical', 0, 1e-6);

  // Gradient on reference64 vs central differences of the float64 formula with alpha held at its value (as
  // torchvision and ultralytics compute alpha without gradient).
  const a = randomBoxes(4), b = randomBoxes(4);
  const pa = T.tensor(a, { backend: 'reference64' }).reshape([4, 4]).requiresGrad_();
  const pb = T.tensor(b, { backend: 'reference64' }).reshape([4, 4]).requiresGrad_();
  T.sum(completeBoxIouLoss(pa, pb)).backward();
  const alphas = [0, 1, 2, 3].map((i) => f64(a, i, b, i).alpha);
  const total = (x: number[], y: number[]) => [0, 1, 2, 3].reduce((acc, i) => acc + f64(x, i, y, i).ciou(alphas[i]), 0);
  const eps = 1e-6;
  for (const [which, grad] of [['pred', pa.grad!], ['target', pb.grad!]] as const) {
    const numeric = a.map((_, k) => {
      const shifted = (d: number) => { const x = a.slice(), y = b.slice(); (which === 'pred' ? x : y)[k] += d; return total(x, y); };
      return (shifted(eps) - shifted(-eps)) / (2 * eps);
    });
    assertClose(await values(grad), numeric, `d ciou / d ${which}`, 1e-5, 1e-7);
  }
});

s('bad input names the op', () => {
  throwsWith(() => boxIou(T.zeros([2, 3]), T.zeros([2, 4])), 'boxIou', '[N, 4]', '[2, 3]');
  throwsWith(() => boxArea(T.zeros([2, 5])), 'boxArea', 'last axis of 4', '[2, 5]');
  throwsWith(() => generalizedBoxIouLoss(T.zeros([2, 4]), T.zeros([3, 4])), 'generalizedBoxIouLoss', 'same shape');
  throwsWith(() => generalizedBoxIouLoss(T.zeros([2, 4]), T.zeros([2, 4]), { reduce: 'sum' } as never), "unknown option 'reduce'");
  throwsWith(() => completeBoxIouLoss(T.zeros([2, 4]), T.zeros([3, 4])), 'completeBoxIouLoss', 'same shape');
  throwsWith(() => boxConvert(T.zeros([1, 4]), 'xyxy', 'yxyx' as never), "unknown format 'yxyx'");
  assert.ok(true);
});

s.run();
