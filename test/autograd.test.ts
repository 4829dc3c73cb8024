// Autograd misuse is an error, not a silent null gradient: backward() after an intermediate it needs was
// disposed, and a second backward() through a freed graph (unless the first kept it with retainGraph). Also
// the gradient-ready hook that DistributedDataParallel overlaps its all-reduces with.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, values } from './helpers.js';
import { onGradReady } from '../src/autograd.js';

const backends = await backendsUnderTest();
const s = suite('autograd');

for (const b of backends) {
  const o = { backend: b };
  s(`backward() after a needed intermediate was disposed throws naming its op (${b})`, () => {
    const x = T.tensor([1, 2, 3], { ...o, requiresGrad: true });
    const h = T.exp(x);
    const loss = T.sum(T.mul(h, h));
    h.dispose();
    assert.throws(() => loss.backward(), (e: Error) => /exp result float32\[3\] on \(disposed\) that mul used was disposed before backward\(\)/.test(e.message));
    assert.is(x.grad, null);
    x.dispose(); loss.dispose();
  });

  s(`a second backward() through a freed graph throws; retainGraph keeps it (${b})`, async () => {
    const x = T.tensor([1, 2, 3], { ...o, requiresGrad: true });
    const loss = T.sum(T.mul(x, x));
    loss.backward({ retainGraph: true });
    loss.backward();
    // Two passes accumulate: 2 * (2x).
    assert.equal(Array.from(await values(x.grad!)), [4, 8, 12]);
    assert.throws(() => loss.backward(), /backward through the graph a second time: the sum result .* was freed by an earlier backward\(\); pass \{ retainGraph: true \}/);
    // A graph that shares a freed part throws as well, naming the shared result.
    const shared = T.tanh(x);
    T.sum(shared).backward();
    assert.throws(() => T.sum(T.mul(shared, 2)).backward(), /the tanh result .* that mul used was freed by an earlier backward\(\)/);
    assert.throws(() => loss.backward({ retain: true } as never), /backward: unknown option 'retain'/);
    x.dispose();
  });
}

s('onGradReady runs once per leaf, as soon as its gradient is complete', async () => {
  const w1 = T.tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const w2 = T.tensor([[0.5], [-1]], { requiresGrad: true });
  const x = T.tensor([[1, -1], [2, 0.5]]);
  const seen: { leaf: T.Tensor; grad: number[] }[] = [];
  const off = onGradReady((leaf) => { seen.push({ leaf, grad: Array.from(leaf.grad!.dataSync()) }); });
  try {
    // w1 feeds two nodes (both matmuls), so it is ready only after the second of them.
    const h = T.matmul(x, w1);
    const loss = T.sum(T.add(T.matmul(T.relu(h), w2), T.sum(T.mul(T.matmul(x, w1), 0.1))));
    loss.backward();
  } finally { off(); }
  assert.is(seen.length, 2);
  for (const w of [w1, w2]) {
    const reports = seen.filter((r) => r.leaf === w);
    assert.is(reports.length, 1, 'one report per leaf');
    assert.equal(reports[0].grad, Array.from(await values(w.grad!)), 'the gradient was complete when reported');
  }
  w1.dispose(); w2.dispose(); x.dispose();
});

s.run();
