// Spatial ops against PyTorch 1.13 (float64) on every backend: conv1d, padding 'same' / 'valid',
// transposed convolutions, pad modes, interpolate, the conv modules' padMode and weight layout, and pooling
// (ceilMode, dilation, countIncludePad, returnIndices, adaptive max, 1-D), forward and the gradient of sum(out * cos(0.5 i)).
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
  indices: Record<string, number[]>;
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
  'maxPool1d ceilMode dilation 2': (x) => T.maxPool1d(x, 3, { stride: 2, padding: 1, dilation: 2, ceilMode: true }),
  'maxPool2d ceilMode': (x) => T.maxPool2d(x, 3, { stride: 2, ceilMode: true }),
  'maxPool2d dilation padding': (x) => T.maxPool2d(x, [2, 3], { stride: [1, 2], padding: 1, dilation: [2, 1] }),
  'maxPool3d ceilMode dilation': (x) => T.maxPool3d(x, 2, { stride: 2, padding: 1, dilation: [1, 2, 1], ceilMode: true }),
  'avgPool1d countIncludePad false': (x) => T.avgPool1d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
  'avgPool2d ceilMode': (x) => T.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
  'avgPool2d ceilMode countIncludePad false': (x) => T.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  'avgPool3d countIncludePad false': (x) => T.avgPool3d(x, [2, 3, 2], { stride: [2, 2, 1], padding: 1, countIncludePad: false }),
  'adaptiveAvgPool1d': (x) => T.adaptiveAvgPool1d(x, 3),
  'adaptiveMaxPool1d': (x) => T.adaptiveMaxPool1d(x, 3),
  'adaptiveMaxPool2d not divisible': (x) => T.adaptiveMaxPool2d(x, [3, 4]),
  'adaptiveMaxPool2d divisible': (x) => T.adaptiveMaxPool2d(x, [2, 3]),
  'adaptiveMaxPool3d mixed': (x) => T.adaptiveMaxPool3d(x, [2, 3, 3]),
};

/** returnIndices: the same calls as the cases of these names, with their indices. */
const indexCases: Record<string, (x: Tensor) => [Tensor, Tensor]> = {
  'maxPool1d ceilMode dilation 2': (x) => T.maxPool1d(x, 3, { stride: 2, padding: 1, dilation: 2, ceilMode: true, returnIndices: true }),
  'maxPool2d dilation padding': (x) => T.maxPool2d(x, [2, 3], { stride: [1, 2], padding: 1, dilation: [2, 1], returnIndices: true }),
  'maxPool3d ceilMode dilation': (x) => T.maxPool3d(x, 2, { stride: 2, padding: 1, dilation: [1, 2, 1], ceilMode: true, returnIndices: true }),
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

for (const b of backends) {
  s(`max pooling returnIndices gives torch's indices (${b})`, async () => {
    for (const [name, fn] of Object.entries(indexCases)) {
      const shape = expected.cases[name].inputs[0];
      const [values, indices] = fn(T.fromArray(inputValues(shape, 0), shape, { backend: b }));
      assert.is(indices.dtype, 'int32', name);
      assert.equal(Array.from(await indices.data()), expected.indices[name], `${name}: indices`);
      assertClose(await values.data(), expected.cases[name].out, `${name}: values`, 1e-4, 1e-4);
    }
  });

  s(`max pooling over a window with NaN gives NaN, as torch (${b})`, async () => {
    // x [1, 1, 4, 4] with NaN at (1, 2): windows 2x2 stride 2 -> only the top-right window holds it.
    const v = Float32Array.from({ length: 16 }, (_, i) => i);
    v[6] = NaN;
    const x = T.fromArray(v, [1, 1, 4, 4], { backend: b });
    const [y, idx] = T.maxPool2d(x, 2, { returnIndices: true });
    const got = Array.from(await y.data());
    assert.ok(Number.isNaN(got[1]), `window with NaN: ${got}`);
    assert.equal([got[0], got[2], got[3]], [5, 13, 15]);
    assert.is((await idx.data())[1], 6);
    const ada = Array.from(await T.adaptiveMaxPool2d(x, [3, 3]).data());
    // torch's windows rows/cols [0, 2), [1, 3), [2, 4): NaN at row 1, col 2 is in 4 of the 9.
    assert.equal(ada.map(Number.isNaN), [false, true, true, false, true, true, false, false, false]);
    // 1-D, dilation 2: windows {0, 2, 4}, {3, 5, 7}, {6, 8, 10}, {9, 11, 13}; only the third holds index 6.
    assert.equal(Array.from(await T.maxPool1d(T.reshape(x, [1, 1, 16]), 3, { stride: 3, dilation: 2 }).data()).map(Number.isNaN), [false, false, true, false]);
  });
}

s('nn pooling modules are the ops with the module\'s options', async () => {
  const x = T.fromArray(inputValues([1, 2, 5, 6], 1), [1, 2, 5, 6]);
  const same = async (a: Tensor, c: Tensor) => assertClose(await a.data(), await c.data(), 'module');
  await same(new T.nn.MaxPool2d(3, { stride: 2, ceilMode: true, dilation: 1 }).forward(x), T.maxPool2d(x, 3, { stride: 2, ceilMode: true }));
  await same(new T.nn.AvgPool2d(3, { padding: 1, countIncludePad: false }).forward(x), T.avgPool2d(x, 3, { padding: 1, countIncludePad: false }));
  await same(new T.nn.AdaptiveMaxPool2d([2, 4]).forward(x), T.adaptiveMaxPool2d(x, [2, 4]));
  await same(new T.nn.AdaptiveAvgPool1d(4).forward(T.reshape(x, [2, 5, 6])), T.adaptiveAvgPool1d(T.reshape(x, [2, 5, 6]), 4));
  await same(new T.nn.MaxPool1d(2).forward(T.reshape(x, [2, 5, 6])), T.maxPool1d(T.reshape(x, [2, 5, 6]), 2));
  await same(new T.nn.AvgPool3d(2, { ceilMode: true }).forward(T.reshape(x, [1, 2, 5, 3, 2])), T.avgPool3d(T.reshape(x, [1, 2, 5, 3, 2]), 2, { ceilMode: true }));
  assert.throws(() => new T.nn.MaxPool2d(2, { returnIndices: true } as never), /MaxPool2d: unknown option 'returnIndices'/);
  assert.throws(() => new T.nn.AvgPool2d(2, { countIncludePadding: false } as never), /AvgPool2d: unknown option 'countIncludePadding'; did you mean 'countIncludePad'/);
});

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
  assert.throws(() => T.avgPool2d(x, 2, { dilation: 2 } as never), /avgPool2d: unknown option 'dilation'/);
  assert.throws(() => T.maxPool2d(x, 2, { countIncludePad: false } as never), /maxPool2d: unknown option 'countIncludePad'/);
  assert.throws(() => T.maxPool1d(x, 2), /maxPool1d: expects x \[N, C, L\] \(got float32\[1, 2, 3, 4\]/);
  assert.throws(() => T.maxPool2d(x, 2, { padding: 2 }), /maxPool2d: padding \[2, 2\] must be at most half the kernel size \[2, 2\]/);
  assert.throws(() => T.adaptiveMaxPool2d(x, [2, 0]), /adaptiveMaxPool2d: output size must be an integer >= 1/);
});

s.run();
