// tensorCollate / toTensors: collated typed arrays become tensors with the
// right dtypes, shapes and values on every backend present.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsUnderTest, values } from './helpers.js';
import { DataLoader, rowDataset } from '../src/data/loader.js';
import { tensorCollate, toTensors } from '../src/data/tensors.js';

const backends = await backendsUnderTest();
const s = suite('data: tensor collate');

for (const b of backends) {
  s(`DataLoader batches of tensors: float, int and nested leaves (${b})`, async () => {
    const items = [0, 1, 2, 3, 4].map((i) => ({ x: new Float32Array([i, i + 0.5]), y: i % 3, pair: [new Uint8Array([i]), i * 0.25] }));
    const loader = new DataLoader({
      dataset: { length: items.length, get: (i: number) => items[i] }, batchSize: 2,
      collate: tensorCollate<(typeof items)[number]>({ backend: b, dtypes: { y: 'int32' } }),
    });
    const batches = [...loader];
    assert.is(batches.length, 3);
    const last = batches[2];
    assert.equal([last.x.shape, last.x.dtype, last.x.backend.name], [[1, 2], 'float32', b]);
    const first = batches[0];
    assert.equal(Array.from(await values(first.x)), [0, 0.5, 1, 1.5]);
    assert.equal([first.y.dtype, Array.from(await values(first.y))], ['int32', [0, 1]]);
    assert.equal([first.pair[0].dtype, first.pair[0].shape], ['int32', [2, 1]]);
    assert.equal([first.pair[1].dtype, Array.from(await values(first.pair[1]))], ['float32', [0, 0.25]]);
  });
}

s('rowDataset columns keep their shapes; a bare leaf has path ""', () => {
  const ds = rowDataset({ img: { data: new Float64Array(12).map((_, i) => i / 3), shape: [3, 2, 2] }, label: { data: new Int32Array([7, 8, 9]), shape: [3] } });
  const batch = toTensors({ img: { data: new Float64Array(8), shape: [2, 2, 2] }, label: { data: new Int32Array([1, 2]), shape: [2] } });
  assert.equal([batch.img.shape, batch.img.dtype, batch.label.dtype], [[2, 2, 2], 'float32', 'int32']);
  const collate = tensorCollate<ReturnType<typeof ds.get>>();
  const b = collate([ds.get(2), ds.get(0)]);
  assert.equal(Array.from(b.label.dataSync()), [9, 7]);
  assert.equal(Array.from(b.img.dataSync()), [8, 9, 10, 11, 0, 1, 2, 3].map((i) => Math.fround(i / 3)));
  const bare = toTensors({ data: new Float64Array([1, 2]), shape: [2] }, { dtypes: { '': 'int32' } });
  assert.is(bare.dtype, 'int32');
});

s('bad conversions and misspelt dtype paths are errors', () => {
  assert.throws(() => toTensors({ y: { data: new Float64Array([1.5]), shape: [1] } }, { dtypes: { y: 'int32' } }), /'y' element 0 is 1.5, which is not an int32 value/);
  assert.throws(() => toTensors({ y: { data: new Uint32Array([2 ** 31]), shape: [1] } }), /'y' element 0 is 2147483648/);
  assert.throws(() => toTensors({ y: { data: new Int32Array([1]), shape: [1] } }, { dtypes: { label: 'int32' } }), /dtypes names paths not in the batch: 'label'/);
  assert.throws(() => toTensors({ y: 'text' } as never), /'y' is string, not a collated array/);
});
s.run();
