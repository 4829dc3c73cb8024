// sort/argsort/topk on hand cases with ties, NaN and -0 (every backend against torch.sort's order), cumsum and
// cumprod (int32 exact, cumprod's gradient through zeros), the rearranging ops on int32, nonzero, unique and einsum
// on every backend, and bad input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, rng, throwsWith } from './helpers.js';

const s = suite('sort, scans, rearranging');
const backends = await backendsUnderTest();
const read = async (t: T.Tensor): Promise<number[]> => Array.from(await t.data());

for (const backend of backends) {
  s(`sort order with ties, NaN and -0 on ${backend}`, async () => {
    const x = T.tensor([[2, NaN, 1, 2, -0, 0, NaN, -1], [5, 5, 5, 5, 5, 5, 5, 5]], { backend });
    // torch.sort(x, stable=True): NaN above every number, equal values (and -0, +0) in their original order.
    assert.equal(await read(T.argsort(x)), [7, 4, 5, 2, 0, 3, 1, 6, 0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(await read(T.argsort(x, { descending: true })), [1, 6, 0, 3, 2, 4, 5, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
    const { values, indices } = T.topk(x, 3);
    assert.equal(await read(indices), [1, 6, 0, 0, 1, 2]);
    assert.equal((await read(values)).slice(2), [2, 5, 5, 5]);
    const small = T.topk(x, 2, { largest: false });
    assert.equal(await read(small.indices), [7, 4, 0, 1]);
    const m = T.maxWithIndices(T.tensor([[1, 3, 3], [NaN, 2, 9]], { backend }), 1);
    assert.equal(await read(m.indices), [1, 0]);
    assert.equal((await read(m.values))[0], 3);
    assert.ok(Number.isNaN((await read(m.values))[1]), 'max propagates NaN as torch.max(x, dim)');
    assert.equal(await read(T.sort(T.zeros([3, 0], { backend })).indices), []);
  });

  s(`int32 cumsum and cumprod are exact above 2^24 on ${backend}`, async () => {
    const big = T.tensor([16777217, 1, 2, -5, 2 ** 30], { backend, dtype: 'int32' });
    const sums = T.cumsum(big, 0);
    assert.is(sums.dtype, 'int32');
    // float32 accumulation would give 16777216, 16777218, 16777220, ...
    assert.equal(await read(sums), [16777217, 16777218, 16777220, 16777215, 16777215 + 2 ** 30]);
    const prods = T.cumprod(T.tensor([[4097, 4097, 3], [1, 0, 7]], { backend, dtype: 'int32' }), 1);
    assert.equal(await read(prods), [4097, 16785409, 50356227, 1, 0, 0]);
  });

  s(`cumprod gradient with zeros on ${backend}`, async () => {
    // Lines with no zero, one zero, two zeros, a leading zero; d(sum w*cumprod(x))/dx_i = sum_{k>=i} w_k prod_{j<=k, j!=i} x_j.
    const xs = [[2, 3, 0.5, 4], [2, 0, 3, 5], [1.5, 0, 3, 0], [0, 2, 0.5, 3]], w = [[1, -2, 0.5, 3], [0.5, -1, 2, 3], [1, 2, 3, 4], [2, 1, -1, 0.5]];
    const x = T.tensor(xs, { backend }).requiresGrad_();
    T.sum(T.mul(T.cumprod(x, 1), T.tensor(w, { backend }))).backward();
    const want = xs.flatMap((row, r) => row.map((_, i) => {
      let g = 0;
      for (let k = i; k < row.length; k++) g += w[r][k] * row.slice(0, k + 1).reduce((p, v, j) => (j === i ? p : p * v), 1);
      return g;
    }));
    (await read(x.grad!)).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `element ${i}: ${v} vs ${want[i]}`));
  });

  s(`rearranging ops keep int32 on ${backend}`, async () => {
    const x = T.tensor([[16777217, 2, 3], [4, 5, 6]], { backend, dtype: 'int32' });
    for (const [name, y, want] of [
      ['flip', T.flip(x, 1), [3, 2, 16777217, 6, 5, 4]], ['roll', T.roll(x, 1, 1), [3, 16777217, 2, 6, 4, 5]],
      ['tril', T.tril(x), [16777217, 0, 0, 4, 5, 0]], ['triu', T.triu(x, 1), [0, 2, 3, 0, 0, 6]],
      ['diag', T.diag(x), [16777217, 5]], ['tile', T.tile(T.diag(x), [2]), [16777217, 5, 16777217, 5]],
    ] as const) {
      assert.is(y.dtype, 'int32', name);
      assert.equal(await read(y), [...want], name);
    }
  });

  s(`nonzero and unique on ${backend}`, async () => {
    const x = T.tensor([[0, 1.5, 0], [NaN, 0, -2]], { backend });
    const nz = await T.nonzeroAsync(x);
    assert.equal(nz.shape, [3, 2]);
    assert.equal(await read(nz), [0, 1, 1, 0, 1, 2]);
    const u = await T.uniqueAsync(T.tensor([3, 1, 3, -2, 1, 3], { backend, dtype: 'int32' }), { returnInverse: true, returnCounts: true });
    assert.equal(await read(u.values), [-2, 1, 3]);
    assert.equal(await read(u.inverse!), [2, 1, 2, 0, 1, 2]);
    assert.equal(await read(u.counts!), [1, 2, 3]);
    const firstSeen = await T.uniqueAsync(T.tensor([3, 1, 3, -2], { backend }), { sorted: false });
    assert.equal(await read(firstSeen.values), [3, 1, -2]);
    if (T.getBackend().name !== backend && !(await T.initBackend(backend)).syncRead) {
      throwsWith(() => T.nonzero(x), 'nonzero', 'nonzeroAsync', backend);
      throwsWith(() => T.unique(x), 'unique', 'uniqueAsync', backend);
    }
  });

  s(`einsum matches matmul and sums on ${backend}`, async () => {
    const a = T.randn([2, 3, 4], { backend }), b = T.randn([2, 4, 5], { backend });
    const want = await read(T.matmul(a, b));
    const got = await read(T.einsum('bij,bjk->bik', a, b));
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-4, `bij,bjk->bik at ${i}`));
    const m = T.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], { backend });
    assert.equal(await read(T.einsum('ii->i', m)), [1, 5, 9]);
    assert.equal(await read(T.einsum('ii', m)), [15]);
    assert.equal(await read(T.einsum('ij->j', m)), [12, 15, 18]);
  });
}

s('the cumprod gradient through zeros is the product of the other factors (torch)', async () => {
  // x = [2, 0, 3, 0, 5]: prefix products y = [2, 0, 0, 0, 0]; d(sum w*y)/dx_i = sum_{k>=i} w_k prod_{j<=k, j!=i} x_j.
  const x = T.tensor([2, 0, 3, 0, 5], { backend: 'reference64' }).requiresGrad_();
  const w = [0.5, -1, 2, 3, 0.25];
  T.sum(T.mul(T.cumprod(x, 0), T.tensor(w, { backend: 'reference64' }))).backward();
  const xs = [2, 0, 3, 0, 5];
  const want = xs.map((_, i) => {
    let g = 0;
    for (let k = i; k < xs.length; k++) g += w[k] * xs.slice(0, k + 1).reduce((p, v, j) => (j === i ? p : p * v), 1);
    return g;
  });
  assert.equal(want, [0.5, 2 * (-1 + 2 * 3), 0, 0, 0]);
  assert.equal(Array.from(await x.grad!.data()), want);
});

s('sort gradients scatter into the sorted positions', async () => {
  const x = T.tensor([[3, 1, 2]], { backend: 'reference64' }).requiresGrad_();
  const { values } = T.topk(x, 2);  // 3 (position 0), 2 (position 2)
  T.sum(T.mul(values, T.tensor([[10, 20]], { backend: 'reference64' }))).backward();
  assert.equal(Array.from(await x.grad!.data()), [10, 0, 20]);
  const y = T.tensor([[1, 4, 4, 0]], { backend: 'reference64' }).requiresGrad_();
  T.sum(T.maxWithIndices(y, 1).values).backward();
  assert.equal(Array.from(await y.grad!.data()), [0, 1, 0, 0], 'torch.max(x, dim) sends the gradient to the returned index only');
});

s('random sort and topk agree across backends', async () => {
  const vals = Array.from({ length: 6 * 300 }, () => Math.round(rng.normal() * 8) / 8);  // many ties
  for (const backend of backends) {
    const x = T.tensor(vals, { backend }).reshape([6, 300]);
    const ref = T.tensor(vals, { backend: 'reference' }).reshape([6, 300]);
    for (const descending of [false, true]) {
      assert.equal(await read(T.argsort(x, { descending })), await read(T.argsort(ref, { descending })), `${backend} descending=${descending}`);
      assert.equal(await read(T.argsort(x, { axis: 0, descending })), await read(T.argsort(ref, { axis: 0, descending })), `${backend} axis 0`);
    }
  }
});

s('bad input names the op', () => {
  const x = T.zeros([2, 3]);
  throwsWith(() => T.sort(x, { dim: 1 } as never), 'sort', "unknown option 'dim'", "'axis'");
  throwsWith(() => T.topk(x, 2, { k: 1 } as never), 'topk', "unknown option 'k'");
  throwsWith(() => T.unique(x, { return_inverse: true } as never), 'unique', "'returnInverse'");
  throwsWith(() => T.topk(x, 4), 'topk', 'k = 4', '[2, 3]');
  throwsWith(() => T.sort(T.zeros([3], { dtype: 'int32' })), 'sort', 'float32', 'int32[3]');
  throwsWith(() => T.cumsum(x, 2), 'cumsum', 'axis 2');
  throwsWith(() => T.repeat(x, [2]), 'repeat', 'reps [2]', '[2, 3]');
  throwsWith(() => T.roll(x, [1, 2], [0]), 'roll', '2 shifts for 1 axes');
  throwsWith(() => T.tril(T.zeros([3])), 'tril', 'at least 2 dimensions', '[3]');
  throwsWith(() => T.diag(T.zeros([2, 2, 2])), 'diag', '1-D or 2-D');
  throwsWith(() => T.outer(x, x), 'outer', '1-D');
  throwsWith(() => T.einsum('ij,jk->ik', x, T.zeros([4, 2])), 'einsum', "letter 'j' has sizes 3 and 4", 'ij,jk->ik');
  throwsWith(() => T.einsum('ij->k', x), 'einsum', "output letter 'k'");
  throwsWith(() => T.einsum('ijk', x), 'einsum', "'ijk' names 3 axes", 'has 2');
  throwsWith(() => T.einsum('...ij->ij', x), 'einsum', 'ellipsis');
  throwsWith(() => T.einsum('i1', x), 'einsum', 'only letters');
  throwsWith(() => T.einsum('ij,jk', x), 'einsum', '2 input subscripts for 1 operands');
});

s.run();
