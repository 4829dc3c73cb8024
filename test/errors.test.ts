// Bad input gets an Error naming the op, the shapes/dtypes and the backend; nothing crashes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, throwsWith } from './helpers.js';

const backends = await backendsUnderTest();
const s = suite('errors');

for (const b of backends) {
  const o = { backend: b };
  s(`shape mismatch names op, shapes and backend (${b})`, () => {
    throwsWith(() => T.matmul(T.zeros([2, 3], o), T.zeros([4, 5], o)), 'matmul', '[2, 3]', '[4, 5]', b);
    throwsWith(() => T.add(T.zeros([2, 3], o), T.zeros([4], o)), 'add', '[2, 3]', '[4]', b);
    throwsWith(() => T.reshape(T.zeros([2, 3], o), [4]), 'reshape', '[4]');
  });
  s(`dtype mismatch (${b})`, () => {
    throwsWith(() => T.matmul(T.zeros([2, 2], { ...o, dtype: 'int32' }), T.zeros([2, 2], o)), 'matmul', 'int32', b);
    throwsWith(() => T.gather(T.zeros([2, 2], o), 1, T.zeros([2, 2], o)), 'gather', 'int32');
  });
  s(`disposed tensor (${b})`, () => {
    const t = T.ones([3], o);
    t.dispose();
    throwsWith(() => T.exp(t), 'exp', 'dispose');
  });
  s(`non-finite hyperparameters (${b})`, () => {
    throwsWith(() => T.leakyRelu(T.ones([2], o), NaN), 'leakyRelu', 'alpha');
    throwsWith(() => T.matmul(T.ones([2, 2], o), T.ones([2, 2], o), { alpha: Infinity }), 'matmul', 'alpha');
    const lin = new T.nn.Linear(2, 2, o);
    throwsWith(() => new T.optim.SGD(lin.parameters(), { lr: NaN }), 'SGD', 'lr');
  });
  if (b !== 'webgpu') {
    s(`out-of-range index (${b})`, () => {
      const x = T.ones([3, 2], o);
      throwsWith(() => T.indexSelect(x, 0, T.tensor([0, 5], { ...o, dtype: 'int32' })), 'indexSelect', '5');
      throwsWith(() => T.scatterAdd(x, 0, T.tensor([[7, 0]], { ...o, dtype: 'int32' }), T.ones([1, 2], o)), 'scatterAdd', '7');
      throwsWith(() => T.crossEntropy(T.ones([2, 3], o), T.tensor([0, 3], { ...o, dtype: 'int32' })), 'crossEntropy', '3');
    });
  }
}

s('different backends are refused', () => {
  if (backends.length < 2) return;
  throwsWith(() => T.add(T.ones([2], { backend: backends[0] }), T.ones([2], { backend: backends[1] })), 'add', 'different backends');
});

s('unknown backend', async () => {
  try { await T.setBackend('nope'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /unknown backend 'nope'/); }
});

s.run();
