// Error paths free what they made: a throwing scope, an op whose kernel fails, a refused reduction.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest } from './helpers.js';

const backends = await backendsUnderTest();
const s = suite('leaks');

/** Live tensors and buffers on backend b after running fn `times` times, minus before. */
function growth(b: string, times: number, fn: () => void): { tensors: number; buffers: number } {
  const before = T.memory()[b] ?? { tensors: 0, buffers: 0 };
  for (let i = 0; i < times; i++) fn();
  const after = T.memory()[b];
  return { tensors: after.tensors - before.tensors, buffers: after.buffers - before.buffers };
}

for (const b of backends) {
  const o = { backend: b };
  s(`a scope whose function throws frees what it made (${b})`, () => {
    const x = T.ones([4, 3], o);
    const g = growth(b, 50, () => {
      assert.throws(() => T.scope(() => {
        const y = T.mul(T.add(x, 1), 2);
        T.sum(y);
        throw new Error('boom');
      }), /boom/);
    });
    assert.equal(g, { tensors: 0, buffers: 0 });
    x.dispose();
  });
  s(`nested scopes: the inner throw frees only the inner tensors (${b})`, () => {
    const x = T.ones([2], o);
    const g = growth(b, 20, () => {
      const kept = T.scope(() => {
        const outer = T.add(x, 1);
        try { T.scope(() => { T.exp(outer); throw new Error('inner'); }); } catch { /* expected */ }
        assert.not.ok(outer.isDisposed, 'the outer scope still owns its tensor');
        return outer;
      });
      kept.dispose();
    });
    assert.equal(g, { tensors: 0, buffers: 0 });
    x.dispose();
  });
  s(`a refused reduction leaves nothing behind (${b})`, () => {
    const x = T.zeros([3, 0], o);
    const g = growth(b, 20, () => { assert.throws(() => T.max(x, 1), /max/); });
    assert.equal(g, { tensors: 0, buffers: 0 });
    x.dispose();
  });
  if (b !== 'webgpu') {
    // webgpu kernels cannot throw: their bad indices are the error flag's business.
    s(`an op whose kernel fails frees its output (${b})`, () => {
      const x = T.ones([3, 2], o);
      const bad = T.tensor([[0, 5]], { ...o, dtype: 'int32' });
      const badSel = T.tensor([0, 9], { ...o, dtype: 'int32' });
      const src = T.ones([1, 2], o);
      const g = growth(b, 200, () => {
        assert.throws(() => T.gather(x, 0, bad), /^gather:/);
        assert.throws(() => T.scatterAdd(x, 0, bad, src), /^scatterAdd:/);
        assert.throws(() => T.indexSelect(x, 0, badSel), /^indexSelect:/);
      });
      assert.equal(g, { tensors: 0, buffers: 0 });
      x.dispose(); bad.dispose(); badSel.dispose(); src.dispose();
    });
  }
  s(`backward() inside a scope leaves only the leaves' gradients alive, not its rules' temporaries (${b})`, () => {
    const w = T.randn([8, 16], { ...o, generator: new T.Rng(3) }).keep();
    w.requiresGrad = true;
    const x = T.randn([4, 8, 16], { ...o, generator: new T.Rng(4) }).keep();
    T.scope(() => {
      // relu's rule makes a mask, mul's a full-size product before summing it to w's shape, square's x * 2.
      const loss = T.sum(T.square(T.relu(T.mul(x, w))));
      const before = T.memory()[b];
      loss.backward();
      const after = T.memory()[b];
      assert.equal({ tensors: after.tensors - before.tensors, buffers: after.buffers - before.buffers }, { tensors: 1, buffers: 1 },
        'only w.grad is new');
    });
    w.grad?.dispose(); w.dispose(); x.dispose();
  });
  s(`batchNorm while training keeps its output and per-channel statistics, not full-size intermediates (${b})`, () => {
    const C = 3;
    const x = T.randn([2, C, 4, 5], { ...o, generator: new T.Rng(5) }).keep();
    x.requiresGrad = true;
    const bn = new T.nn.BatchNorm2d(C, o);
    T.scope(() => {
      const before = T.memory()[b];
      const y = bn.forward(x);
      const after = T.memory()[b];
      assert.equal(after.bytes - before.bytes, (y.size + 2 * C) * 4, 'y, the batch mean and 1/std');
      const fused = bn.forward(x, { addend: y, activation: 'relu' });
      assert.equal(T.memory()[b].bytes - after.bytes, (fused.size + 2 * C) * 4, 'relu(batchNorm(x) + addend) keeps as much');
      T.sum(fused).backward();
    });
    assert.ok(bn.weight!.grad && x.grad, 'gradients reached the input and the weight');
    x.grad!.dispose(); x.dispose(); bn.dispose();
  });
}

s.run();
