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
}

s.run();
