// PyTorch parity at the edges (issue 19, item 1): values and gradients torch gives at the points where a
// formula has a 0 * inf, a tie, a NaN, an empty axis or an integer past float32's 2^24, on every backend.
// Expected values are torch 1.13's (checked by hand with the same inputs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, assertClose, throwsWith } from './helpers.js';

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

  const f32 = (a: number[]) => T.fromArray(Float32Array.from(a), [a.length], on);
  const same = (got: ArrayLike<number>, want: number[], what: string) => {
    // torch 1.13's values (float64); Object.is first: NaN matches NaN, and -0 must stay -0 where torch gives -0.
    want.forEach((w, i) => assert.ok(Object.is(got[i], w) || Math.abs(got[i] - w) <= 1e-5 * Math.abs(w), `${what}[${i}]: ${got[i]} vs torch ${w}`));
  };

  s(`round is half to even; ceil, trunc; remainder and floorDivide take the divisor's sign (${b})`, async () => {
    same(await T.round(f32([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999998])).data(), [0, 2, 2, -0, -2, 2], 'round');
    same(await T.ceil(f32([-0.5, 1.2, -1.7])).data(), [-0, 2, -1], 'ceil');
    same(await T.trunc(f32([-0.5, 1.7, -1.7])).data(), [-0, 1, -1], 'trunc');
    const a = f32([5, -5, 5, -5, 0, 5, 3]), d = f32([3, 3, -3, -3, 3, 0, Infinity]);
    same(await T.remainder(a, d).data(), [2, 1, -1, -2, 0, NaN, 3], 'remainder');
    same(await T.floorDivide(a, d).data(), [1, -2, -2, 1, 0, Infinity, 0], 'floorDivide');
    const ai = T.fromArray(Int32Array.from([5, -5, 5, -5, 0]), [5], { ...on, dtype: 'int32' });
    const di = T.fromArray(Int32Array.from([3, 3, -3, -3, 3]), [5], { ...on, dtype: 'int32' });
    const ri = T.remainder(ai, di), qi = T.floorDivide(ai, di);
    assert.equal([ri.dtype, qi.dtype], ['int32', 'int32']);
    assert.equal(Array.from(await ri.data()), [2, 1, -1, -2, 0]);
    assert.equal(Array.from(await qi.data()), [1, -2, -2, 1, 0]);
  });

  s(`lgamma, digamma, trigamma at torch's poles and negative arguments; logSigmoid far out (${b})`, async () => {
    const x = f32([0, -1, -2.5, -0.5, 3, 40, -40.5]);
    same(await T.lgamma(x).data(), [Infinity, Infinity, -0.05624371649767405, 1.2655121234846454, 0.6931471805599453, 106.63176026064346, -111.02964715732848], 'lgamma');
    same(await T.digamma(f32([0, -1, -2.5, -0.5, 3, 40, -40.5])).data(), [-Infinity, NaN, 1.1031566406452433, 0.03648997397857639, 0.922784335098467, 3.6763273740348428, 3.7135968509579245], 'digamma');
    same(await T.trigamma(f32([0, -2.5, -0.5, 3, 40])).data(), [Infinity, 9.53924664493752, 8.934802200117687, 0.39493406693194577, 0.025315103841291063], 'trigamma');
    same(await T.logSigmoid(f32([-200, 200, 0])).data(), [-200, 0, -0.6931471805599453], 'logSigmoid');
  });

  s(`isnan / isinf / isfinite give 0/1 float32 like eq; nanToNum (${b})`, async () => {
    const x = f32([NaN, Infinity, -Infinity, 1.5, -0]);
    for (const [f, want] of [[T.isnan, [1, 0, 0, 0, 0]], [T.isinf, [0, 1, 1, 0, 0]], [T.isfinite, [0, 0, 0, 1, 1]]] as const) {
      const y = f(x);
      assert.is(y.dtype, T.eq(x, x).dtype);
      assert.equal(Array.from(await y.data()), want);
    }
    assert.equal(Array.from(await T.isnan(T.fromArray(Int32Array.from([1, 2]), [2], { ...on, dtype: 'int32' })).data()), [0, 0]);
    same(await T.nanToNum(x).data(), [0, 3.4028234663852886e38, -3.4028234663852886e38, 1.5, -0], 'nanToNum defaults');
    same(await x.nanToNum({ nan: 1, posinf: 2, neginf: 3 }).data(), [1, 2, 3, 1.5, -0], 'nanToNum options');
    throwsWith(() => T.nanToNum(x, { posInf: 2 } as never), "nanToNum: unknown option 'posInf'", "did you mean 'posinf'?");
  });
}

s.run();
