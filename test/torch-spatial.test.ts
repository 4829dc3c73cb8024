// Spatial ops against PyTorch 1.13 (float64) on every backend: conv1d, padding 'same' / 'valid',
// transposed convolutions, pad modes, interpolate and the conv modules' padMode and weight layout, forward and the gradient of sum(out * cos(0.5 i)).
// Expected values: test/fixtures/torch-spatial/make.py (same case names, same inputs: sin(0.37 i + 0.7 k)
// rounded to float32). These ops are compositions, so the conformance suite (which runs the same
// composition on the reference) cannot catch a wrong formula; this file can.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, assertClose } from './helpers.js';
type Tensor = T.Tensor;

// Compiled to dist/test/: the fixtures stay in the source tree.
const file = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'torch-spatial', 'cases.json');
const expected = JSON.parse(readFileSync(file, 'utf8')) as {
  cases: Record<string, { inputs: number[][]; shape: number[]; out: number[]; grads: (number[] | null)[] }>;
};

export const torchSpatialCases: Record<string, (...ts: Tensor[]) => Tensor> = {
  'conv1d stride 2 padding 1 bias': (x, w, b) => T.conv1d(x, w, { bias: b, stride: 2, padding: 1 }),
  'conv1d same even kernel dilation 2': (x, w) => T.conv1d(x, w, { padding: 'same', dilation: 2 }),
  'conv2d same asymmetric groups 2': (x, w) => T.conv2d(x, w, { padding: 'same', groups: 2 }),
  'conv3d valid': (x, w) => T.conv3d(x, w, { padding: 'valid' }),
  'convTranspose1d stride 2 padding 1 outputPadding 1 bias': (x, w, b) => T.convTranspose1d(x, w, { bias: b, stride: 2, padding: 1, outputPadding: 1 }),
  'convTranspose2d groups 2 dilation 2 stride [2, 1]': (x, w, b) =>
    T.convTranspose2d(x, w, { bias: b, stride: [2, 1], padding: [1, 0], outputPadding: [1, 0], dilation: 2, groups: 2 }),
  'convTranspose3d stride 2 padding 1': (x, w) => T.convTranspose3d(x, w, { stride: 2, padding: [1, 0, 1] }),
  'pad reflect': (x) => T.pad(x, [2, 1, 3, 0], { mode: 'reflect' }),
  'pad replicate': (x) => T.pad(x, [1, 2, 0, 3, 2, 1], { mode: 'replicate' }),
  'pad circular': (x) => T.pad(x, [3, 5], { mode: 'circular' }),
  'pad constant value': (x) => T.pad(x, [1, 0, 2, 2], { value: -1.5 }),
  'interpolate nearest 2x': (x) => T.interpolate(x, { scaleFactor: 2, mode: 'nearest' }),
  'interpolate nearest size': (x) => T.interpolate(x, { size: [5, 7] }),
  'interpolate nearest 1-D scale 1.5': (x) => T.interpolate(x, { scaleFactor: 1.5 }),
  'interpolate nearest 3-D down': (x) => T.interpolate(x, { size: [2, 3, 4] }),
  'interpolate linear scale 1.7': (x) => T.interpolate(x, { scaleFactor: 1.7, mode: 'linear', alignCorners: false }),
  'interpolate bilinear size': (x) => T.interpolate(x, { size: [6, 4], mode: 'bilinear' }),
  'interpolate bilinear alignCorners': (x) => T.interpolate(x, { size: [7, 5], mode: 'bilinear', alignCorners: true }),
  'interpolate trilinear scale 2': (x) => T.interpolate(x, { scaleFactor: 2, mode: 'trilinear' }),
  'interpolate bilinear down': (x) => T.interpolate(x, { size: [3, 4], mode: 'bilinear' }),
  'nn.Conv2d padMode circular': (x, w, b) => withWeights(new T.nn.Conv2d(2, 3, 3, { padding: [1, 2], padMode: 'circular', backend: x.backend.name }), x, w, b),
  'nn.Conv1d padMode reflect same': (x, w, b) => withWeights(new T.nn.Conv1d(2, 2, 4, { padding: 'same', padMode: 'reflect', backend: x.backend.name }), x, w, b),
  'nn.Conv3d padMode replicate': (x, w, b) => withWeights(new T.nn.Conv3d(1, 2, 2, { padding: 1, padMode: 'replicate', backend: x.backend.name }), x, w, b),
  'nn.ConvTranspose2d stride 2': (x, w, b) =>
    withWeights(new T.nn.ConvTranspose2d(2, 4, 3, { stride: 2, padding: 1, outputPadding: 1, backend: x.backend.name }), x, w, b),
};

/** The module's forward after loading w and b by torch's names (so the weight layouts must agree). */
function withWeights(m: T.nn.Module & { forward(x: Tensor): Tensor }, x: Tensor, w: Tensor, b: Tensor): Tensor {
  m.loadStateDict({ weight: w, bias: b });
  return m.forward(x);
}

const backends = await backendsUnderTest();
const s = suite('spatial ops vs torch');

s('every case has its torch values and every torch case a function', () => {
  assert.equal(Object.keys(torchSpatialCases).sort(), Object.keys(expected.cases).sort());
});

const inputValues = (shape: number[], k: number) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(0.37 * i + 0.7 * k));

for (const b of backends) {
  for (const [name, fn] of Object.entries(torchSpatialCases)) {
    s(`${name} (${b})`, async () => {
      const want = expected.cases[name];
      const xs = want.inputs.map((shape, k) => T.fromArray(inputValues(shape, k), shape, { backend: b, requiresGrad: true }));
      const y = fn(...xs);
      assert.equal(y.shape, want.shape, `${name}: shape`);
      assertClose(await y.data(), want.out, `${name} forward`, 1e-4, 1e-4);
      const w = T.fromArray(Float32Array.from({ length: y.size }, (_, i) => Math.cos(0.5 * i)), y.shape, { backend: b });
      T.sum(T.mul(y, w)).backward();
      for (let k = 0; k < xs.length; k++) {
        const g = want.grads[k];
        if (g) assertClose(await xs[k].grad!.data(), g, `${name} gradient of input ${k}`, 1e-4, 1e-4);
      }
    });
  }
}

s('nn.Upsample is interpolate with the module\'s options; bad options are refused', async () => {
  const x = T.fromArray(inputValues([1, 2, 3, 4], 0), [1, 2, 3, 4]);
  const up = new T.nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true });
  assertClose(await up.forward(x).data(), await T.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }).data(), 'Upsample');
  assert.throws(() => new T.nn.Upsample({ scaleFactor: 2, mod: 'nearest' } as never), /Upsample: unknown option 'mod'; did you mean 'mode'/);
  assert.throws(() => new T.nn.Upsample({}), /exactly one of size and scaleFactor/);
});

s('bad input names the op, the shapes and the backend', () => {
  const x = T.zeros([1, 2, 3, 4]), w = T.zeros([2, 2, 3, 3]);
  assert.throws(() => T.pad(x, [4, 0], { mode: 'reflect' }), /pad: reflect padding \(4, 0\) of axis 3 \(size 4\) must be smaller than the size.*\[1, 2, 3, 4\]/);
  assert.throws(() => T.pad(x, [5, 0], { mode: 'circular' }), /pad: circular padding .* at most the size/);
  assert.throws(() => T.pad(x, [1, 1], { mode: 'mirror' as never }), /pad: mode must be one of constant, reflect, replicate, circular/);
  assert.throws(() => T.pad(x, [1, 1], { mode: 'reflect', value: 2 }), /pad: value is only for mode 'constant'/);
  assert.throws(() => T.pad(x, [1, 1], { mdoe: 'reflect' } as never), /pad: unknown option 'mdoe'; did you mean 'mode'/);
  assert.throws(() => T.conv2d(x, w, { padding: 'same', stride: 2 }), /conv2d: padding 'same' needs stride 1, got 2 \(got float32\[1, 2, 3, 4\]/);
  assert.throws(() => T.conv1d(T.zeros([1, 2, 5]), w), /conv1d: expects x \[N, C, L\] and w \[O, C\/groups, k\]/);
  assert.throws(() => T.convTranspose2d(x, w, { stride: 2, outputPadding: 2 }), /convTranspose2d: outputPadding \[2, 2\] must be smaller than the stride \[2, 2\]/);
  assert.throws(() => T.convTranspose2d(x, T.zeros([3, 2, 3, 3])), /convTranspose2d: w has 3 input channels; x has 2/);
  assert.throws(() => T.convTranspose1d(T.zeros([1, 2, 5]), T.zeros([2, 1, 3]), { outputpadding: 1 } as never), /convTranspose1d: unknown option 'outputpadding'; did you mean 'outputPadding'/);
  assert.throws(() => T.interpolate(x, { size: 5, scaleFactor: 2 }), /interpolate: give exactly one of size and scaleFactor.*\[1, 2, 3, 4\]/);
  assert.throws(() => T.interpolate(x, { size: 5, mode: 'trilinear' }), /interpolate: mode 'trilinear' expects a 5-D input/);
  assert.throws(() => T.interpolate(x, { size: 5, alignCorners: true }), /interpolate: alignCorners is only for the linear modes/);
  assert.throws(() => T.interpolate(x, { size: [5, 0] }), /interpolate: size must be a positive integer or a list of 2/);
  assert.throws(() => new T.nn.Conv2d(2, 2, 3, { padMode: 'mirror' as never }), /Conv2d: padMode must be one of zeros, reflect, replicate, circular/);
  assert.throws(() => new T.nn.ConvTranspose2d(2, 2, 3, { padMode: 'reflect' } as never), /ConvTranspose2d: unknown option 'padMode'/);
});

s.run();
