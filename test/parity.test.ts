// PyTorch parity at the edges (issue 19, item 1): values and gradients torch gives at the points where a
// formula has a 0 * inf, a tie, a NaN, an empty axis or an integer past float32's 2^24, on every backend.
// Expected values are torch 1.13's (checked by hand with the same inputs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, assertClose } from './helpers.js';

const backends = await backendsUnderTest();
const s = suite('pytorch parity at edges');

for (const b of backends) {
  const on = { backend: b };
  const leaf = (a: number[], shape = [a.length]) => T.fromArray(Float32Array.from(a), shape, { ...on, requiresGrad: true });
  const gradOf = async (x: T.Tensor) => Array.from(await x.grad!.data());

  s(`bceWithLogits at a logit of 0 has gradient sigmoid(0) - y, with and without posWeight (${b})`, async () => {
    const x = leaf([0, 0, 0]);
    const y = T.fromArray(Float32Array.from([1, 0, 0.25]), [3], on);
    T.bceWithLogits(x, y, { reduction: 'sum' }).backward();
    assertClose(await gradOf(x), [-0.5, 0.5, 0.25], 'no posWeight');
    const xw = leaf([0, 0, 0]);
    // torch: d/dx = (1 + (pw - 1) y) (sigmoid(x) - 1) + (1 - y)
    T.bceWithLogits(xw, y, { posWeight: 3, reduction: 'sum' }).backward();
    assertClose(await gradOf(xw), [3 * -0.5, 0.5, 1.5 * -0.5 + 0.75], 'posWeight 3');
  });

  s(`maximum / minimum split the gradient evenly at ties (${b})`, async () => {
    for (const op of [T.maximum, T.minimum]) {
      const a = leaf([1, 2, 3]), c = leaf([1, 5, 0]);
      T.sum(op(a, c)).backward();
      const firstWins = op === T.maximum ? [0.5, 0, 1] : [0.5, 1, 0];
      assertClose(await gradOf(a), firstWins, `${op.name} a`);
      assertClose(await gradOf(c), firstWins.map((v) => 1 - v), `${op.name} b`);
    }
  });

  s(`prod's gradient with zero factors is the product of the other factors (${b})`, async () => {
    const x = leaf([2, 0, 3, 0, 0, 5, 4, 7, 1], [3, 3]);
    T.sum(T.prod(x, 1)).backward();
    // row 0: one zero; row 1: two zeros; row 2: none
    assertClose(await gradOf(x), [0, 6, 0, 0, 0, 0, 7, 4, 28], 'grad');
  });

  s(`pow's gradients at base 0 are 0 where torch gives 0 (${b})`, async () => {
    const a = leaf([0, 0, 0, 2]), e = leaf([0, 2, 1, 0]);
    T.sum(T.pow(a, e)).backward();
    assertClose(await gradOf(a), [0, 0, 1, 0], 'd/da');
    assertClose(await gradOf(e), [0, 0, 0, Math.log(2)], 'd/de');
  });

  s(`maximum, minimum and clamp propagate NaN (${b})`, async () => {
    const x = T.fromArray(Float32Array.from([NaN, 1, NaN]), [3], on), one = T.fromArray(Float32Array.from([1, NaN, 2]), [3], on);
    for (const [name, y] of [['maximum', T.maximum(x, one)], ['minimum', T.minimum(x, one)], ['clamp', T.clamp(x, 0, 0.5)]] as const) {
      const got = Array.from(await y.data());
      assert.ok(Number.isNaN(got[0]), `${name}(NaN, .) = ${got[0]}`);
      if (name !== 'clamp') assert.ok(Number.isNaN(got[1]), `${name}(., NaN) = ${got[1]}`);
      else assert.equal(got[1], 0.5, 'clamp(1)');
    }
  });

  s(`int32 sum and prod accumulate exactly past 2^24 (${b})`, async () => {
    const big = 16777217; // 2^24 + 1: float32 rounds it to 2^24
    const x = T.fromArray(Int32Array.from([big, 2, -1, 1]), [4], { ...on, dtype: 'int32' });
    const total = T.sum(x);
    assert.is(total.dtype, 'int32');
    assert.equal(Array.from(await total.data()), [big + 2]);
    assert.equal(Array.from(await T.prod(T.fromArray(Int32Array.from([4097, 4097]), [2], { ...on, dtype: 'int32' })).data()), [4097 * 4097]);
  });

  s(`softmax, logSoftmax and logsumexp over an empty axis; squeeze of a long axis; dropout(x, 1) (${b})`, async () => {
    const empty = T.zeros([2, 0], on);
    assert.equal([...T.softmax(empty, 1).shape], [2, 0]);
    assert.equal([...T.logSoftmax(empty, 1).shape], [2, 0]);
    const lse = T.logsumexp(empty, 1);
    assert.equal([...lse.shape], [2]);
    assert.equal(Array.from(await lse.data()), [-Infinity, -Infinity]);
    const x = T.zeros([2, 1, 3], on);
    assert.equal([...T.squeeze(x, 0).shape], [2, 1, 3], 'squeeze of a size-2 axis is a no-op');
    assert.equal([...T.squeeze(x, [0, 1]).shape], [2, 3], 'only the size-1 axes of a list go');
    const d = leaf([1, -2, 3]);
    const dropped = T.dropout(d, 1);
    assert.equal(Array.from(await dropped.data()), [0, 0, 0]);
    T.sum(dropped).backward();
    assert.equal(await gradOf(d), [0, 0, 0]);
  });
}

s.run();
