// Composed ops (softmax family, losses, pad/split/chunk, clamp, var, oneHot) are built from kernel ops in
// TS, so the reference backend runs the same composition and the conformance suite cannot catch a
// composition bug. Here their values are checked against plain float64 formulas (PyTorch's definitions,
// cross-checked once against torch 1.13) on fresh random inputs, on every backend present.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, assertClose, rng } from './helpers.js';

const backends = await backendsUnderTest();
const s = suite('composed ops vs float64 formulas');

/** Random float32-representable values, so the formulas see exactly what the backends see. */
const randomArray = (n: number, scale = 1, shift = 0) => Array.from({ length: n }, () => Math.fround(shift + scale * rng.normal()));
const rows = (a: number[], cols: number) => Array.from({ length: a.length / cols }, (_, i) => a.slice(i * cols, (i + 1) * cols));
const sumOf = (a: number[]) => a.reduce((x, y) => x + y, 0);
const logSumExp = (r: number[]) => { const m = Math.max(...r); return m + Math.log(sumOf(r.map((v) => Math.exp(v - m)))); };
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

for (const b of backends) {
  const on = { backend: b };
  const tensor = (a: number[], shape: number[]) => T.fromArray(Float32Array.from(a), shape, on);
  const ints = (a: number[]) => T.fromArray(Int32Array.from(a), [a.length], { ...on, dtype: 'int32' });

  s(`softmax, logSoftmax, logsumexp, var, std and clamp (${b})`, async () => {
    const N = 4, C = 5;
    const x = randomArray(N * C, 2), xt = tensor(x, [N, C]);
    const lse = rows(x, C).map(logSumExp);
    assertClose(await T.logsumexp(xt, 1).data(), lse, 'logsumexp');
    assertClose(await T.logSoftmax(xt, 1).data(), x.map((v, i) => v - lse[Math.floor(i / C)]), 'logSoftmax');
    assertClose(await T.softmax(xt, 1).data(), x.map((v, i) => Math.exp(v - lse[Math.floor(i / C)])), 'softmax');
    const colMean = (c: number) => sumOf(rows(x, C).map((r) => r[c])) / N;
    const colVar = (c: number) => sumOf(rows(x, C).map((r) => (r[c] - colMean(c)) ** 2)) / (N - 1);
    assertClose(await T.variance(xt, 0).data(), Array.from({ length: C }, (_, c) => colVar(c)), 'var (correction 1)');
    assertClose(await T.std(xt, 0).data(), Array.from({ length: C }, (_, c) => Math.sqrt(colVar(c))), 'std');
    assertClose(await T.clamp(xt, -0.5, 0.7).data(), x.map((v) => Math.min(Math.max(v, -0.5), 0.7)), 'clamp');
  });

  s(`crossEntropy with class weights, sample weights and label smoothing; nll; oneHot (${b})`, async () => {
    const N = 6, C = 4, eps = 0.1;
    const x = randomArray(N * C, 1.5), target = Array.from({ length: N }, () => rng.int(C));
    const cw = Array.from({ length: C }, () => Math.fround(0.5 + rng.uniform()));
    const sw = Array.from({ length: N }, () => Math.fround(0.5 + rng.uniform()));
    const lp = rows(x, C).map((r) => { const l = logSumExp(r); return r.map((v) => v - l); });
    const xt = tensor(x, [N, C]), yt = ints(target);
    assertClose([(await T.crossEntropy(xt, yt).data())[0]], [sumOf(lp.map((r, i) => -r[target[i]])) / N], 'crossEntropy');
    // torch: weighted mean divides by the targets' class weights; the smoothing term is weighted the same way.
    const wSum = sumOf(target.map((c) => cw[c]));
    const hard = sumOf(lp.map((r, i) => -r[target[i]] * cw[target[i]] * sw[i])) / wSum;
    const smooth = sumOf(lp.map((r, i) => -sumOf(r.map((v, c) => v * cw[c])) * sw[i])) / wSum;
    const got = await T.crossEntropy(xt, yt, { classWeights: tensor(cw, [C]), sampleWeights: tensor(sw, [N]), labelSmoothing: eps }).data();
    assertClose([got[0]], [(1 - eps) * hard + (eps / C) * smooth], 'crossEntropy weighted and smoothed');
    assertClose(await T.nll(T.logSoftmax(xt, 1), yt, { reduction: 'none' }).data(), lp.map((r, i) => -r[target[i]]), 'nll per example');
    assertClose(await T.oneHot(yt, C).data(), target.flatMap((c) => Array.from({ length: C }, (_, k) => (k === c ? 1 : 0))), 'oneHot');
  });

  s(`crossEntropy over [N, C, d] with ignoreIndex, and with class probabilities (${b})`, async () => {
    const N = 2, C = 3, D = 4, ignore = 2, eps = 0.1;
    const x = randomArray(N * C * D, 1.5);
    const target = Array.from({ length: N * D }, (_, i) => (i === 0 ? ignore : i === 1 ? 0 : rng.int(C)));
    const cw = Array.from({ length: C }, () => Math.fround(0.5 + rng.uniform()));
    // log-probabilities of position (n, d): classes at x[n, :, d]
    const lpAt = (k: number) => { const nn = Math.floor(k / D), d = k % D; const r = Array.from({ length: C }, (_, c) => x[(nn * C + c) * D + d]); const l = logSumExp(r); return r.map((v) => v - l); };
    const counted = target.map((c, k) => [c, k]).filter(([c]) => c !== ignore);
    const wSum = sumOf(counted.map(([c]) => cw[c]));
    const hard = sumOf(counted.map(([c, k]) => -lpAt(k)[c] * cw[c])) / wSum;
    const smooth = sumOf(counted.map(([, k]) => -sumOf(lpAt(k).map((v, c) => v * cw[c])))) / wSum;
    const xt = tensor(x, [N, C, D]), yt = T.reshape(ints(target), [N, D]);
    const got = await T.crossEntropy(xt, yt, { ignoreIndex: ignore, classWeights: tensor(cw, [C]), labelSmoothing: eps }).data();
    assertClose([got[0]], [(1 - eps) * hard + (eps / C) * smooth], 'ignoreIndex, weighted, smoothed');
    const none = await T.nll(T.logSoftmax(xt, 1), yt, { ignoreIndex: ignore, reduction: 'none' }).data();
    assertClose(none, target.map((c, k) => (c === ignore ? 0 : -lpAt(k)[c])), 'nll none keeps the target shape, 0 where ignored');
    // class probabilities: -sum_c w_c q_c log p_c, q = (1 - eps) q + eps / C, mean over targets
    const q = Array.from({ length: N * D * C }, () => Math.fround(rng.uniform()));
    const qAt = (k: number, c: number) => (1 - eps) * q[(Math.floor(k / D) * C + c) * D + k % D] + eps / C;
    const soft = sumOf(Array.from({ length: N * D }, (_, k) => -sumOf(lpAt(k).map((v, c) => cw[c] * qAt(k, c) * v)))) / (N * D);
    const gotSoft = await T.crossEntropy(xt, tensor(q, [N, C, D]), { classWeights: tensor(cw, [C]), labelSmoothing: eps }).data();
    assertClose([gotSoft[0]], [soft], 'class probabilities');
  });

  s(`norm, normalize, cosineSimilarity (${b})`, async () => {
    const R = 3, C = 5;
    const x = randomArray(R * C), y = randomArray(R * C);
    const xt = tensor(x, [R, C]), yt = tensor(y, [R, C]);
    const xr = rows(x, C), yr = rows(y, C);
    const pNorm = (r: number[], p: number) => sumOf(r.map((v) => Math.abs(v) ** p)) ** (1 / p);
    assertClose(await T.norm(xt).data(), [pNorm(x, 2)], 'norm (all axes)');
    assertClose(await T.norm(xt, { p: 3, axes: 1 }).data(), xr.map((r) => pNorm(r, 3)), 'norm p 3');
    assertClose(await T.norm(xt, { p: 1, axes: 1 }).data(), xr.map((r) => pNorm(r, 1)), 'norm p 1');
    assertClose(await T.norm(xt, { p: Infinity, axes: 1 }).data(), xr.map((r) => Math.max(...r.map(Math.abs))), 'norm inf');
    assertClose(await T.normalize(xt).data(), xr.flatMap((r) => r.map((v) => v / Math.max(pNorm(r, 2), 1e-12))), 'normalize');
    const cosine = (r: number[], o: number[], eps: number) =>
      sumOf(r.map((v, c) => v * o[c])) / (Math.max(pNorm(r, 2), eps) * Math.max(pNorm(o, 2), eps));
    assertClose(await T.cosineSimilarity(xt, yt).data(), xr.map((r, i) => cosine(r, yr[i], 1e-8)), 'cosineSimilarity');
    // torch 1.13 clamps each norm on its own (a tiny vector keeps its direction) and back-propagates through the
    // clamped norm as x / max(|x|, eps): d cos / d a_j = b_j / (ca cb) - (a.b) a_j / (ca^3 cb)
    const tiny = [1e-9, 2e-9, 0], other = [1, 0.5, 0], eps = 1e-8;
    const at = T.fromArray(Float32Array.from(tiny), [1, 3], { ...on, requiresGrad: true }), bt = tensor(other, [1, 3]);
    const cosTiny = T.cosineSimilarity(at, bt);
    assertClose(await cosTiny.data(), [cosine(tiny, other, eps)], 'cosineSimilarity of a vector shorter than eps');
    cosTiny.sum().backward();
    const ca = eps, cb = pNorm(other, 2), dot = sumOf(tiny.map((v, c) => v * other[c]));
    assertClose(await at.grad!.data(), tiny.map((v, j) => other[j] / (ca * cb) - dot * v / (ca ** 3 * cb)), 'cosineSimilarity gradient at the clamp', 1e-3);
    // torch: the gradient of a norm at the zero vector is 0
    const z = T.zeros([3], { ...on, requiresGrad: true });
    T.norm(z).backward();
    assert.equal(Array.from(await z.grad!.data()), [0, 0, 0]);
  });

  s(`l1, smoothL1, klDiv, bce, marginRanking, cosineEmbedding (${b})`, async () => {
    const R = 3, C = 4, n = R * C;
    const p = randomArray(n, 2), q = randomArray(n);
    const pt = tensor(p, [R, C]), qt = tensor(q, [R, C]);
    assertClose(await T.l1(pt, qt).data(), [sumOf(p.map((v, i) => Math.abs(v - q[i]))) / n], 'l1');
    const beta = 0.7;
    const sl1 = p.map((v, i) => { const d = Math.abs(v - q[i]); return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta; });
    assertClose(await T.smoothL1(pt, qt, { beta, reduction: 'none' }).data(), sl1, 'smoothL1');
    const lp = rows(p, C).map((r) => { const l = logSumExp(r); return r.map((v) => v - l); });
    const tgt = rows(q, C).map((r) => { const l = logSumExp(r); return r.map((v) => Math.exp(v - l)); });
    tgt[0][1] = 0; // 0 * log 0 counts as 0
    const kl = sumOf(lp.flatMap((r, i) => r.map((v, c) => (tgt[i][c] > 0 ? tgt[i][c] * (Math.log(Math.fround(tgt[i][c])) - v) : 0))));
    assertClose(await T.klDiv(tensor(lp.flat(), [R, C]), tensor(tgt.flat(), [R, C]), { reduction: 'batchmean' }).data(), [kl / R], 'klDiv batchmean', 1e-3, 1e-5);
    const prob = p.map((v) => Math.fround(1 / (1 + Math.exp(-v)))), y = q.map((v) => (v > 0 ? 1 : 0));
    prob[0] = 0; y[0] = 1; // log 0 clamped at -100, as torch
    const bce = prob.map((v, i) => -(y[i] * Math.max(Math.log(v), -100) + (1 - y[i]) * Math.max(Math.log(1 - v), -100)));
    assertClose(await T.bce(tensor(prob, [R, C]), tensor(y, [R, C]), { reduction: 'none' }).data(), bce, 'bce');
    const sgn = q.map((v) => (v > 0 ? 1 : -1)), margin = 0.3;
    assertClose(await T.marginRanking(pt, qt, tensor(sgn, [R, C]), { margin, reduction: 'sum' }).data(),
      [sumOf(p.map((v, i) => Math.max(0, -sgn[i] * (v - q[i]) + margin)))], 'marginRanking');
    const rowSign = [1, -1, -1];
    const cosE = rows(p, C).map((r, i) => {
      const o = rows(q, C)[i];
      const c = sumOf(r.map((v, k) => v * o[k])) / Math.sqrt((sumOf(r.map((v) => v * v)) + 1e-12) * (sumOf(o.map((v) => v * v)) + 1e-12));
      return rowSign[i] === 1 ? 1 - c : Math.max(0, c - margin);
    });
    assertClose(await T.cosineEmbedding(pt, qt, tensor(rowSign, [R]), { margin, reduction: 'none' }).data(), cosE, 'cosineEmbedding');
  });

  s(`mse, bceWithLogits (posWeight) and huber (${b})`, async () => {
    const n = 12;
    const p = randomArray(n, 2), q = randomArray(n), y = Array.from({ length: n }, () => Math.fround(rng.uniform()));
    const pt = tensor(p, [3, 4]);
    assertClose([(await T.mse(pt, tensor(q, [3, 4])).data())[0]], [sumOf(p.map((v, i) => (v - q[i]) ** 2)) / n], 'mse');
    const pw = 2;
    const bce = sumOf(p.map((v, i) => (1 - y[i]) * v + (1 + (pw - 1) * y[i]) * softplus(-v))) / n;
    assertClose([(await T.bceWithLogits(pt, tensor(y, [3, 4]), { posWeight: pw }).data())[0]], [bce], 'bceWithLogits');
    const delta = 0.8;
    const hub = sumOf(p.map((v, i) => { const d = Math.abs(v - q[i]); return d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta); })) / n;
    assertClose([(await T.huber(pt, tensor(q, [3, 4]), delta).data())[0]], [hub], 'huber');
  });

  s(`int32 gather, indexSelect, scatterAdd, concat, stack and arithmetic keep values beyond float32's 2^24 (${b})`, async () => {
    const big = [2 ** 24 + 1, -(2 ** 30) - 3, 123456789, 7];  // none of the first three is a float32
    const x = T.fromArray(Int32Array.from(big), [2, 2], { ...on, dtype: 'int32' });
    const rowsOf = ints([1, 0, 1]);
    const picked = T.indexSelect(x, 0, rowsOf);
    assert.is(picked.dtype, 'int32');
    assert.equal(Array.from(await picked.data()), [big[2], big[3], big[0], big[1], big[2], big[3]]);
    const cols = T.fromArray(Int32Array.from([1, 1, 0, 1]), [2, 2], { ...on, dtype: 'int32' });
    assert.equal(Array.from(await T.gather(x, 1, cols).data()), [big[1], big[1], big[2], big[3]]);
    const sums = T.scatterAdd(T.zeros([2, 2], { ...on, dtype: 'int32' }), 0, T.fromArray(Int32Array.from([1, 1, 1, 0]), [2, 2], { ...on, dtype: 'int32' }), x);
    assert.equal(Array.from(await sums.data()), [0, big[3], big[0] + big[2], big[1]]);
    const joined = T.concat([x, T.fromArray(Int32Array.from([5, 6]), [1, 2], { ...on, dtype: 'int32' }), x], 0);
    assert.equal([joined.dtype, joined.shape], ['int32', [5, 2]]);
    assert.equal(Array.from(await joined.data()), [...big, 5, 6, ...big]);
    assert.equal(Array.from(await T.stack([x, x], 2).data()), big.flatMap((v) => [v, v]));
    assert.throws(() => T.scatterAdd(x, 0, cols, T.zeros([2, 2], on)), /scatterAdd: x and src must have the same dtype/);
    const one = T.fromArray(Int32Array.of(1), [1], { ...on, dtype: 'int32' });
    const arithmetic = [T.add(x, one), T.sub(x, one), T.mul(x, one), T.maximum(x, one), T.minimum(x, one)];
    assert.equal(arithmetic.map((t) => t.dtype), ['int32', 'int32', 'int32', 'int32', 'int32']);
    const expected = [big.map((v) => v + 1), big.map((v) => v - 1), big, big.map((v) => Math.max(v, 1)), big.map((v) => Math.min(v, 1))];
    for (const [k, t] of arithmetic.entries()) assert.equal(Array.from(await t.data()), expected[k], `int32 op ${k}`);
  });

  s(`pad, split and chunk place and cut where torch does (${b})`, async () => {
    const x = randomArray(6), xt = tensor(x, [2, 3]);
    // torch.nn.functional.pad(x, (1, 2, 0, 1), value=0.5): last axis 1 before / 2 after, first axis 1 after.
    const padded = await T.pad(xt, [1, 2, 0, 1], 0.5).data();
    const expected = Array.from({ length: 3 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i < 2 && j >= 1 && j < 4 ? x[i * 3 + j - 1] : 0.5))).flat();
    assertClose(padded, expected, 'pad');
    const y = randomArray(20), yt = tensor(y, [5, 4]);
    const [top, bottom] = T.split(yt, [2, 3], 0);
    assert.equal([top.shape, bottom.shape], [[2, 4], [3, 4]]);
    assertClose(await T.contiguous(bottom).data(), y.slice(8), 'split rows');
    const pieces = T.chunk(yt, 3, 1); // torch.chunk: pieces of ceil(4 / 3) = 2 columns
    assert.equal(pieces.map((t) => t.shape), [[5, 2], [5, 2]]);
    assertClose(await T.contiguous(pieces[1]).data(), rows(y, 4).flatMap((r) => r.slice(2)), 'chunk columns');
  });
}

s.run();
