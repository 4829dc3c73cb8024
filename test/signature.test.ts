// The signature kernels' public ops: every case on every backend against the
// float64 reference (forward and gradients), every gradient against float64
// finite differences, and the ops' own semantics against plain loops.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, makeInput, randomValues, values, assertClose, gradcheck, checkCaseOnBackend, throwsMatching } from './helpers.js';
import { signatureCases } from './signature-cases.js';
import { cmd } from '../src/ops/cmd.js';
import { conv2d, conv3d } from '../src/ops/conv.js';
import { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveAvgPool3d, maxPool3d } from '../src/ops/pool.js';
import { batchNorm } from '../src/ops/batchnorm.js';

const backends = await backendsUnderTest();

const conformance = suite('signature conformance');
for (const c of signatureCases) {
  for (const b of backends) {
    conformance(`${c.name} on ${b}`, () => checkCaseOnBackend(c, b));
  }
}
conformance.run();

const grads = suite('signature gradcheck');
for (const c of signatureCases) {
  if (c.grad === false) continue;
  grads(c.name, async () => { await gradcheck(c.name, c.inputs, c.fn); });
}
grads.run();

// ---- semantics against plain loops (float64 reference, so exact up to rounding) ----

/** A reference64 tensor of random normal values, and the values as numbers. */
function randomTensor(shape: number[]): { t: T.Tensor; v: Float64Array } {
  const v = randomValues({ shape });
  return { t: makeInput({ shape }, v, 'reference64', false), v };
}
const at = (shape: readonly number[], idx: number[]): number => idx.reduce((off, i, d) => off * shape[d] + i, 0);

const semantics = suite('signature semantics');

semantics('cmd matches the formula of Zellinger et al. (with and without bounds)', async () => {
  const nx = 7, ny = 4, d = 3;
  const x = randomTensor([nx, d]), y = randomTensor([ny, d]);
  const stats = (v: Float64Array, n: number, k: number): number[][] => {
    const out: number[][] = [];
    for (let c = 0; c < d; c++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += v[i * d + c] / n;
      const row = [m];
      for (let j = 2; j <= k; j++) { let s = 0; for (let i = 0; i < n; i++) s += (v[i * d + c] - m) ** j / n; row.push(s); }
      out.push(row);
    }
    return out;
  };
  for (const [k, bounds] of [[5, undefined], [3, [-2, 2]], [1, [0, 0.5]]] as const) {
    const sx = stats(x.v, nx, k), sy = stats(y.v, ny, k);
    const span = bounds ? Math.abs(bounds[1] - bounds[0]) : 1;
    let expected = 0;
    for (let j = 0; j < k; j++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += (sx[c][j] - sy[c][j]) ** 2;
      expected += Math.sqrt(sq) / span ** (j + 1);
    }
    const got = (await values(cmd(x.t, y.t, { k, bounds })))[0];
    assertClose([got], [expected], `cmd k=${k} bounds ${bounds}`, 1e-12, 1e-12);
  }
  assertClose(await values(cmd(x.t, x.t)), [0], 'cmd of identical samples', 0, 1e-15);
  const same = makeInput({ shape: [nx, d] }, x.v, 'reference64', true);
  cmd(same, same.detach()).backward();
  assert.ok((await values(same.grad!)).every((g) => g === 0), 'identical samples give a zero (not NaN) gradient');
});

semantics('conv2d and conv3d match a direct loop (stride, padding, dilation, groups)', async () => {
  const [N, C, H, W, O, G, kh, kw] = [2, 4, 6, 5, 6, 2, 3, 2];
  const [sh, sw, ph, pw, dh, dw] = [2, 1, 1, 2, 1, 2];
  const x = randomTensor([N, C, H, W]), w = randomTensor([O, C / G, kh, kw]), b = randomTensor([O]);
  const oH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, oW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const expected = new Float64Array(N * O * oH * oW);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < oH; i++) for (let j = 0; j < oW; j++) {
    const g = Math.floor(o / (O / G));
    let acc = b.v[o];
    for (let c = 0; c < C / G; c++) for (let a = 0; a < kh; a++) for (let e = 0; e < kw; e++) {
      const ih = i * sh - ph + a * dh, iw = j * sw - pw + e * dw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += x.v[at([N, C, H, W], [n, g * (C / G) + c, ih, iw])] * w.v[at([O, C / G, kh, kw], [o, c, a, e])];
    }
    expected[at([N, O, oH, oW], [n, o, i, j])] = acc;
  }
  const y = conv2d(x.t, w.t, { bias: b.t, stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups: G });
  assert.equal(y.shape, [N, O, oH, oW]);
  assertClose(await values(y), expected, 'conv2d', 1e-12, 1e-12);
  // conv3d with a depth-1 input and kernel is the same convolution.
  const y3 = conv3d(x.t.reshape([N, C, 1, H, W]), w.t.reshape([O, C / G, 1, kh, kw]),
    { bias: b.t, stride: [1, sh, sw], padding: [0, ph, pw], dilation: [1, dh, dw], groups: G });
  assert.equal(y3.shape, [N, O, 1, oH, oW]);
  assertClose(await values(y3), expected, 'conv3d with depth 1', 1e-12, 1e-12);
});

semantics('max and average pooling match a direct loop (padding counts in the average)', async () => {
  const [N, C, H, W, k, s, p] = [1, 2, 5, 6, 3, 2, 1];
  const x = randomTensor([N, C, H, W]);
  const oH = Math.floor((H + 2 * p - k) / s) + 1, oW = Math.floor((W + 2 * p - k) / s) + 1;
  const mx = new Float64Array(N * C * oH * oW), av = new Float64Array(mx.length);
  for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < oH; i++) for (let j = 0; j < oW; j++) {
    let m = -Infinity, sum = 0;
    for (let a = 0; a < k; a++) for (let e = 0; e < k; e++) {
      const ih = i * s - p + a, iw = j * s - p + e;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const v = x.v[(nc * H + ih) * W + iw];
      m = Math.max(m, v); sum += v;
    }
    mx[(nc * oH + i) * oW + j] = m; av[(nc * oH + i) * oW + j] = sum / (k * k);
  }
  assertClose(await values(maxPool2d(x.t, k, { stride: s, padding: p })), mx, 'maxPool2d', 1e-12, 1e-12);
  assertClose(await values(avgPool2d(x.t, k, { stride: s, padding: p })), av, 'avgPool2d', 1e-12, 1e-12);
  // The max-pool gradient lands on each window's maximum, summed where windows overlap.
  const xg = makeInput({ shape: [N, C, H, W] }, x.v, 'reference64', true);
  T.sum(maxPool2d(xg, k, { stride: s, padding: p })).backward();
  const g = await values(xg.grad!);
  const expectedCount = new Float64Array(g.length);
  for (const v of mx) expectedCount[x.v.indexOf(v)] += 1;
  assertClose(g, expectedCount, 'maxPool2d gradient counts', 0, 0);
});

semantics('adaptive average pooling uses torch windows floor(i In/Out) .. ceil((i+1) In/Out)', async () => {
  for (const [H, W, oH, oW] of [[5, 7, 3, 4], [4, 6, 2, 3], [3, 2, 5, 3]]) {
    const x = randomTensor([1, 2, H, W]);
    const expected = new Float64Array(2 * oH * oW);
    for (let c = 0; c < 2; c++) for (let i = 0; i < oH; i++) for (let j = 0; j < oW; j++) {
      const h0 = Math.floor((i * H) / oH), h1 = Math.ceil(((i + 1) * H) / oH);
      const w0 = Math.floor((j * W) / oW), w1 = Math.ceil(((j + 1) * W) / oW);
      let sum = 0;
      for (let a = h0; a < h1; a++) for (let e = w0; e < w1; e++) sum += x.v[(c * H + a) * W + e];
      expected[(c * oH + i) * oW + j] = sum / ((h1 - h0) * (w1 - w0));
    }
    const y = adaptiveAvgPool2d(x.t, [oH, oW]);
    assert.equal(y.shape, [1, 2, oH, oW]);
    assert.ok(y.isContiguous);
    assertClose(await values(y), expected, `adaptiveAvgPool2d ${H}x${W} -> ${oH}x${oW}`, 1e-12, 1e-12);
    // 3-D with depth 1 on both sides pools the same windows.
    const y3 = adaptiveAvgPool3d(x.t.reshape([1, 2, 1, H, W]), [1, oH, oW]);
    assertClose(await values(y3), expected, `adaptiveAvgPool3d ${H}x${W} -> ${oH}x${oW}`, 1e-12, 1e-12);
  }
});

semantics('batchNorm: batch statistics, running updates (unbiased variance, momentum) and eval', async () => {
  const [N, C, L] = [4, 3, 5];
  const x = randomTensor([N, C, L]);
  const runningMean = makeInput({ shape: [C] }, Float64Array.from([0.5, -1, 2]), 'reference64', false);
  const runningVar = makeInput({ shape: [C] }, Float64Array.from([1, 2, 0.5]), 'reference64', false);
  const rm0 = await values(runningMean), rv0 = await values(runningVar);
  const momentum = 0.3, eps = 1e-3, count = N * L;
  const y = batchNorm(x.t, { runningMean, runningVar, training: true, momentum, eps });
  const expected = new Float64Array(N * C * L);
  const mean = new Float64Array(C), biased = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) mean[c] += x.v[(n * C + c) * L + l] / count;
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) biased[c] += (x.v[(n * C + c) * L + l] - mean[c]) ** 2 / count;
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) {
      const i = (n * C + c) * L + l;
      expected[i] = (x.v[i] - mean[c]) / Math.sqrt(biased[c] + eps);
    }
  }
  assertClose(await values(y), expected, 'batchNorm training output', 1e-12, 1e-12);
  assertClose(await values(runningMean), rm0.map((m, c) => (1 - momentum) * m + momentum * mean[c]), 'running mean', 1e-12, 1e-12);
  assertClose(await values(runningVar), rv0.map((v, c) => (1 - momentum) * v + momentum * biased[c] * count / (count - 1)),
    'running var (unbiased)', 1e-12, 1e-12);
  const rm = await values(runningMean), rv = await values(runningVar);
  const evalOut = batchNorm(x.t, { runningMean, runningVar, training: false, eps });
  assertClose(await values(evalOut), x.v.map((v, i) => { const c = Math.floor(i / L) % C; return (v - rm[c]) / Math.sqrt(rv[c] + eps); }),
    'batchNorm eval output', 1e-12, 1e-12);
  assertClose(await values(runningMean), rm, 'eval leaves the running mean alone', 0, 0);
});

const errors = suite('signature errors');

errors('conv and pool parameters are checked with the op, the shapes and the backend named', () => {
  const x = T.randn([1, 4, 5, 5], { backend: 'reference' }), w = T.randn([6, 2, 3, 3], { backend: 'reference' });
  throwsMatching(() => conv2d(x, w), /^conv2d: w has 2 input channels per group.*float32\[1, 4, 5, 5\] on reference/);
  throwsMatching(() => conv2d(x, w, { groups: 3 }), /conv2d: groups = 3 must be a positive integer dividing/);
  throwsMatching(() => conv2d(x, w, { groups: 2, stride: 0 }), /conv2d: stride must be an integer >= 1/);
  throwsMatching(() => conv2d(x, w, { groups: 2, padding: [1, 1, 1] }), /conv2d: padding must be .* a list of 2/);
  throwsMatching(() => conv2d(x, w, { groups: 2, dilation: 3 }), /conv2d: the kernel .* is larger than the padded input/);
  throwsMatching(() => conv2d(x, w, { groups: 2, bias: T.zeros([4], { backend: 'reference' }) }), /conv2d: bias must be \[6\]/);
  throwsMatching(() => conv3d(x, w), /conv3d: expects x \[N, C, D, H, W\]/);
  throwsMatching(() => conv2d(x, T.randn([6, 2, 3, 3], { backend: 'reference64' }), { groups: 2 }), /conv2d: tensors are on different backends/);
  throwsMatching(() => maxPool2d(x, 2, { padding: 2 }), /maxPool2d: padding \[2, 2\] must be at most half the kernel size \[2, 2\]/);
  throwsMatching(() => avgPool2d(x, 6), /avgPool2d: the kernel \[6, 6\] is larger than the padded input \[5, 5\]/);
  throwsMatching(() => maxPool3d(x, 2), /maxPool3d: expects x \[N, C, D, H, W\]/);
  throwsMatching(() => adaptiveAvgPool2d(x, 0), /adaptiveAvgPool2d: output size must be an integer >= 1/);
});

errors('cmd and batchNorm arguments are checked', () => {
  const x = T.randn([5, 3], { backend: 'reference' }), y = T.randn([4, 2], { backend: 'reference' });
  throwsMatching(() => cmd(x, y), /cmd: expects samples x \[n, d\] and y \[m, d\] with the same d/);
  throwsMatching(() => cmd(x, x, { k: 0 }), /cmd: k .* must be a positive integer, got 0/);
  throwsMatching(() => cmd(x, x, { bounds: [1, 1] }), /cmd: bounds must be two different finite numbers/);
  throwsMatching(() => cmd(T.zeros([0, 3], { backend: 'reference' }), x), /cmd: expects a non-empty sample/);
  throwsMatching(() => batchNorm(T.randn([1, 3], { backend: 'reference' })), /batchNorm: expected more than 1 value per channel when training/);
  throwsMatching(() => batchNorm(x, { weight: T.ones([2], { backend: 'reference' }) }), /batchNorm: weight must be \[3\] for 3 channels/);
  throwsMatching(() => batchNorm(x, { runningMean: T.zeros([3], { backend: 'reference' }) }), /batchNorm: give both runningMean and runningVar/);
  throwsMatching(() => batchNorm(x, { momentum: 2 }), /batchNorm: momentum must be in \[0, 1\]/);
  throwsMatching(() => batchNorm(x, { activation: 'gelu' as never }), /batchNorm: activation must be 'relu' or 'silu' \(or absent\), got 'gelu'/);
});

errors.run();
semantics.run();
