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
  // Every backend refuses an out-of-range index with an Error naming the op the user called: at once where the
  // indices are on the host (or, on cuda, checked before the kernel), at the next read or sync() on webgpu.
  s(`out-of-range index (${b})`, async () => {
    const i32 = (v: T.NestedArray) => T.tensor(v, { ...o, dtype: 'int32' });
    const x = T.ones([3, 2], o);
    const cases: [string, () => T.Tensor, string][] = [
      ['indexSelect', () => T.indexSelect(x, 0, i32([0, 5])), '5'],
      ['gather', () => T.gather(x, 1, i32([[0], [2], [1]])), '2'],
      ['scatterAdd', () => T.scatterAdd(x, 0, i32([[7, 0]]), T.ones([1, 2], o)), '7'],
      ['crossEntropy', () => T.crossEntropy(T.ones([2, 3], o), i32([0, 3])), '3'],
      ['nll', () => T.nll(T.ones([2, 3], o), i32([-1, 0])), '-1'],
      ['crossEntropy', () => T.crossEntropy(T.ones([2, 3], o), i32([0, 4]), { ignoreIndex: 0 }), '4'],
      ['oneHot', () => T.oneHot(i32([1, 3]), 3), '3'],
      ['Embedding', () => new T.nn.Embedding(4, 2, o).forward(i32([1, 9])), '9'],
    ];
    for (const [op, f, bad] of cases) {
      let message = '';
      try {
        await f().data();
        await x.backend.sync();
      } catch (e) { message = (e as Error).message; }
      assert.ok(message.startsWith(op) && message.includes(bad), `${op} on ${b}: got '${message || 'no error'}'`);
    }
    // The flag is cleared once reported: a valid op afterwards reads normally.
    assert.equal(Array.from(await T.gather(x, 0, i32([[2, 0]])).data()), [1, 1]);
    await x.backend.sync();
  });

  // NaN propagates as in torch on every backend.
  s(`NaN propagates (${b})`, async () => {
    const v = async (t: T.Tensor) => Array.from(await t.data()).map((e) => (Number.isNaN(e) ? 'NaN' : e));
    const x = T.tensor([NaN, -1, 2], o);
    assert.equal(await v(T.ne(x, NaN)), [1, 1, 1], 'ne(x, NaN)');
    assert.equal(await v(T.eq(x, x)), [0, 1, 1], 'eq(NaN, NaN)');
    assert.equal(await v(T.lt(x, 5)), [0, 1, 1], 'lt(NaN, 5)');
    assert.equal(await v(T.relu(x)), ['NaN', 0, 2], 'relu');
    assert.equal((await v(T.tanh(x)))[0], 'NaN', 'tanh');
    assert.equal((await v(T.maximum(x, 0)))[0], 'NaN', 'maximum');
    assert.equal((await v(T.minimum(x, 0)))[0], 'NaN', 'minimum');
    assert.equal((await v(T.clamp(x, 0, 1)))[0], 'NaN', 'clamp');
    assert.equal((await v(T.linear(T.tensor([[NaN]], o), T.ones([1, 1], o), { activation: 'relu' })))[0], 'NaN', 'linear relu');
    // Max pooling: a window holding a NaN gives NaN (torch), the others their max.
    const img = T.tensor([[[[1, NaN, 5, 2], [2, 3, 1, 0]]]], o);
    assert.equal(await v(T.maxPool2d(img, 2)), ['NaN', 5], 'maxPool2d');
    // cmd of a NaN input is NaN.
    assert.equal(await v(T.cmd(T.tensor([[NaN, 1], [2, 3]], o), T.tensor([[1, 1], [2, 3]], o))), ['NaN'], 'cmd');
    // where: a NaN condition is non-zero, so it selects the first value (torch casts NaN to True).
    assert.equal(await v(T.where(T.tensor([NaN, 0], o), 1, 2)), [1, 2], 'where');
  });
}

s('mean of 2^25 values on webgpu is float32-accurate (pairwise sums)', async () => {
  if (!backends.includes('webgpu')) return;
  const x = T.full([2 ** 25], 0.1, { backend: 'webgpu' });
  const m = (await T.mean(x).data())[0];
  assert.ok(Math.abs(m - 0.1) < 1e-6, `mean ${m}`);
  x.dispose();
});

for (const b of backends) {
  const o = { backend: b };
  s(`errors name the op the user called; sizes and dtypes are checked first (${b})`, async () => {
    const x = T.ones([2, 3], o);
    throwsWith(() => T.mean(x, [0, 0]), 'mean:');
    throwsWith(() => T.std(x, 7), 'std:');
    throwsWith(() => T.logsumexp(x, 9), 'logsumexp:');
    throwsWith(() => T.add(x, 'a' as unknown as number), 'add:', 'string');
    throwsWith(() => T.zeros([2 ** 31 + 8], o), 'zeros:', '2^31');
    throwsWith(() => T.ones([-1, 2], o), 'ones:', '-1');
    throwsWith(() => T.zeros([NaN], o), 'zeros:', 'NaN');
    throwsWith(() => T.zeros([1.5], o), 'zeros:', '1.5');
    throwsWith(() => T.randn([2 ** 20, 2 ** 12], o), 'randn:', '2^31');
    for (const dtype of ['int64', 'float16', 'bool']) {
      const d = { ...o, dtype } as never;
      throwsWith(() => T.zeros([2], d), 'zeros:', dtype);
      throwsWith(() => T.tensor([1], d), 'tensor:', dtype);
      throwsWith(() => T.arange(0, 3, 1, d), 'arange:', dtype);
      throwsWith(() => T.cast(x, dtype as T.DType), 'cast:', dtype);
    }
    throwsWith(() => T.slice(x, 1, NaN), 'slice:', 'NaN');
    throwsWith(() => T.slice(x, 1, 0, 1.5), 'slice:', '1.5');
    throwsWith(() => T.tensor([NaN], { ...o, dtype: 'int32' }), 'tensor:', 'NaN');
    throwsWith(() => T.tensor([2 ** 31], { ...o, dtype: 'int32' }), 'tensor:', 'int32');
    throwsWith(() => T.randint(0, 2 ** 31 + 1, [2], o), 'randint:', 'int32');
    // torch results: a 0-d tensor reduced over axis 0 is itself; linear with no input features is its bias.
    assert.equal(Array.from(await T.sum(T.tensor(3, o), 0).data()), [3]);
    assert.equal(Array.from(await T.mean(T.tensor(3, o), -1).data()), [3]);
    assert.equal(Array.from(await T.argmax(T.tensor(3, o), 0).data()), [0]);
    assert.equal(Array.from(await T.linear(T.ones([2, 0], o), T.ones([3, 0], o), { bias: T.tensor([1, -2, 3], o), activation: 'relu' }).data()), [1, 0, 3, 1, 0, 3]);
  });
}

s('different backends are refused', () => {
  if (backends.length < 2) return;
  throwsWith(() => T.add(T.ones([2], { backend: backends[0] }), T.ones([2], { backend: backends[1] })), 'add', 'different backends');
});

s('unknown backend', async () => {
  try { await T.setBackend('nope'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /unknown backend 'nope'/); }
});

s('non-tensor and non-array arguments found by the 1,200-case fuzz run name the op', () => {
  const bad = {} as unknown as T.Tensor;
  throwsWith(() => T.argmax(bad, 0), 'argmax: expected a Tensor');
  throwsWith(() => T.argmin(bad), 'argmin: expected a Tensor');
  throwsWith(() => T.stack([1, 2] as unknown as T.Tensor[], 0), 'stack: expected a Tensor');
  throwsWith(() => T.permute(T.zeros([2, 2]), 2 as unknown as number[]), 'permute', 'axes must be an array');
});

s.run();
