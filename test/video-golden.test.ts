// Golden test of the video ResNets against torchvision: small-width R3D, MC3,
// R(2+1)D and Bottleneck models built from torchvision's own classes, with
// random weights and BatchNorm statistics, saved as safetensors by
// test/fixtures/video/make_fixture.py (run once with Debian's python3; torch is
// not needed here). Loading by name must fit exactly, and the logits in eval
// mode (running statistics) and train mode (batch statistics) must match.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { T, backendsUnderTest } from './helpers.js';
import { loadTorchvisionWeights, mc318, r2plus1d18, r3d18, r3d50, type VideoResNet, type VideoResNetOptions } from '../src/models/video/index.js';

const s = suite('video-golden');
// Compiled to dist/test/: the fixtures stay in the source tree.
const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'video');
const backends = (await backendsUnderTest()).filter((b) => b !== 'cuda' || process.env.TESSERA_TEST_CUDA === '1');

// The options mirror ARCHS in make_fixture.py.
const archs: [string, (o: VideoResNetOptions) => VideoResNet, VideoResNetOptions][] = [
  ['r3d', r3d18, { widths: [4, 4, 8, 8], numClasses: 5 }],
  ['mc3', mc318, { widths: [4, 4, 8, 8], numClasses: 5 }],
  ['r2plus1d', r2plus1d18, { widths: [4, 4, 8, 8], numClasses: 5 }],
  ['r3d50', r3d50, { widths: [2, 2, 4, 4], blocks: [2, 1, 1, 1], numClasses: 5 }],
];

const io = T.loadSafetensors(join(fixtures, 'io.safetensors')).tensors;

function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < want.length; i++) { scale = Math.max(scale, Math.abs(want[i])); err = Math.max(err, Math.abs(got[i] - want[i])); }
  return err / Math.max(scale, 1e-12);
}

for (const backend of backends) {
  for (const [name, make, opts] of archs) {
    s(`${name} at small width gives torchvision's logits on ${backend} (eval and train mode)`, async () => {
      const model = make({ ...opts, backend });
      loadTorchvisionWeights(model, join(fixtures, `${name}.safetensors`));
      const x = T.fromArray(io.x.data as Float32Array, io.x.shape, { backend });
      const tol = backend === 'webgpu' ? 2e-3 : 2e-4;
      for (const mode of ['eval', 'train'] as const) {
        model.train(mode === 'train');
        const logits = T.noGrad(() => model.forward(x));
        assert.equal(logits.shape, [2, 5]);
        const err = maxRelativeError(await logits.data(), io[`logits_${name}_${mode}`].data as Float32Array);
        assert.ok(err < tol, `${name} ${mode} on ${backend}: max relative error ${err.toExponential(2)} >= ${tol}`);
        logits.dispose();
      }
    });
  }
}

s('a state_dict with a missing or mis-shaped entry is refused, naming each', () => {
  const model = r3d18({ widths: [4, 4, 8, 8], numClasses: 6 });
  assert.throws(() => loadTorchvisionWeights(model, join(fixtures, 'r3d.safetensors')), /'fc.weight'.*float32\[6, 8\].*float32\[5, 8\]/s);
  const bigger = r3d18({ widths: [4, 4, 8, 8], numClasses: 5, blocks: [3, 2, 2, 2] });
  assert.throws(() => loadTorchvisionWeights(bigger, join(fixtures, 'r3d.safetensors')), /missing 'layer1\.2\.conv1\.0\.weight'/);
});

s("r3d18 at full width has torchvision's r3d_18 parameter count", () => {
  const model = r3d18();
  const count = model.parameters().reduce((n, p) => n + p.size, 0);
  assert.is(count, 33371472);
  for (const p of model.parameters()) p.dispose();
});

s.run();
