// nn layers: every differentiable layer's input gradients (helpers' gradcheck)
// and parameter gradients (float64 central differences on the parameters) on
// reference64; each layer's forward and gradients on every backend present
// against reference64 with the same parameters; layer semantics against
// hand-written formulas; init statistics.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, gradcheck, makeInput, randomValues, values, assertClose, seed, type InputSpec } from './helpers.js';
import { HostBuf } from '../src/backend/hostbuf.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Rng } from '../src/rng.js';
import { erf } from '../src/backend/reference/erf.js';
import type { Module } from '../src/nn/module.js';

type Tensor = T.Tensor;
const nn = T.nn;
const backends = await backendsUnderTest();

interface LayerCase {
  name: string;
  make: (backend: string) => Module;
  inputs: InputSpec[];
  run: (m: Module, ...ins: Tensor[]) => Tensor;
}

// forward() signatures differ per layer; the cases call them through these casts.
type Fwd1 = { forward(x: Tensor): Tensor };
const f1 = (m: Module, x: Tensor) => (m as unknown as Fwd1).forward(x);
const flat = (...ts: Tensor[]) => T.concat(ts.map((t) => T.reshape(t, [t.size])), 0);

const cases: LayerCase[] = [
  { name: 'Bilinear', make: (backend) => new nn.Bilinear(3, 2, 4, { backend }), inputs: [{ shape: [2, 2, 3] }, { shape: [2, 2, 2] }],
    run: (m, a, b) => (m as InstanceType<typeof nn.Bilinear>).forward(a, b) },
  { name: 'Embedding', make: (backend) => new nn.Embedding(5, 3, { backend }), inputs: [{ shape: [2, 3], kind: 'int', high: 5 }], run: f1 },
  { name: 'LayerNorm [2, 3] on a view', make: (backend) => new nn.LayerNorm([2, 3], { backend }), inputs: [{ shape: [2, 2, 3], layout: 'T' }], run: f1 },
  { name: 'LayerNorm no bias', make: (backend) => new nn.LayerNorm(4, { backend, bias: false }), inputs: [{ shape: [3, 4] }], run: f1 },
  { name: 'RMSNorm', make: (backend) => new nn.RMSNorm(4, { backend }), inputs: [{ shape: [3, 4] }], run: f1 },
  { name: 'GroupNorm', make: (backend) => new nn.GroupNorm(2, 4, { backend }), inputs: [{ shape: [2, 4, 3] }], run: f1 },
  { name: 'LSTMCell', make: (backend) => new nn.LSTMCell(3, 2, { backend }), inputs: [{ shape: [2, 3] }, { shape: [2, 2] }, { shape: [2, 2] }],
    run: (m, x, h, c) => flat(...(m as InstanceType<typeof nn.LSTMCell>).forward(x, [h, c])) },
  { name: 'LSTM 2 layers batch-first', make: (backend) => new nn.LSTM(3, 2, { backend, numLayers: 2, batchFirst: true }), inputs: [{ shape: [2, 3, 3] }],
    run: (m, x) => { const [out, [h, c]] = (m as InstanceType<typeof nn.LSTM>).forward(x); return flat(out, h, c); } },
  { name: 'LSTM time-major with state', make: (backend) => new nn.LSTM(2, 3, { backend }), inputs: [{ shape: [3, 2, 2] }, { shape: [1, 2, 3] }, { shape: [1, 2, 3] }],
    run: (m, x, h, c) => { const [out, [hN, cN]] = (m as InstanceType<typeof nn.LSTM>).forward(x, [h, c]); return flat(out, hN, cN); } },
  { name: 'MultiHeadAttention self, causal', make: (backend) => new nn.MultiHeadAttention(4, 2, { backend }), inputs: [{ shape: [2, 3, 4] }],
    run: (m, x) => (m as InstanceType<typeof nn.MultiHeadAttention>).forward(x, x, x, { causal: true }) },
  { name: 'MultiHeadAttention cross, µP scale, key padding', make: (backend) => new nn.MultiHeadAttention(4, 2, { backend, scale: 1 / 2, kdim: 3, vdim: 5 }),
    inputs: [{ shape: [2, 2, 4] }, { shape: [2, 3, 3] }, { shape: [2, 3, 5] }],
    run: (m, q, k, v) => (m as InstanceType<typeof nn.MultiHeadAttention>).forward(q, k, v,
      { keyPaddingMask: T.tensor([[0, 0, 1], [0, 1, 1]], { backend: q.backend.name }) }) },
  { name: 'BatchNorm1d train [N, C]', make: (backend) => new nn.BatchNorm1d(3, { backend }), inputs: [{ shape: [4, 3] }], run: f1 },
  { name: 'BatchNorm1d train [N, C, L], no affine', make: (backend) => new nn.BatchNorm1d(2, { backend, affine: false, momentum: 0.3 }), inputs: [{ shape: [2, 2, 3] }], run: f1 },
  { name: 'BatchNorm2d train', make: (backend) => new nn.BatchNorm2d(3, { backend }), inputs: [{ shape: [2, 3, 2, 2], layout: 'T' }], run: f1 },
  { name: 'BatchNorm3d eval', make: (backend) => new nn.BatchNorm3d(2, { backend }).eval(), inputs: [{ shape: [2, 2, 1, 2, 2] }], run: f1 },
  { name: 'Conv2d groups, stride, padding', make: (backend) => new nn.Conv2d(2, 4, 3, { backend, groups: 2, stride: 2, padding: 1 }), inputs: [{ shape: [2, 2, 4, 5] }], run: f1 },
  { name: 'Conv3d', make: (backend) => new nn.Conv3d(2, 2, [2, 1, 2], { backend, padding: [0, 1, 0] }), inputs: [{ shape: [1, 2, 3, 2, 3] }], run: f1 },
];

/** Replaces every parameter with N(0, 0.5^2) values so that identity-like inits (norm weights 1, biases 0) test nothing by luck. */
function randomizeParams(m: Module): void {
  T.noGrad(() => {
    for (const p of m.parameters()) {
      const v = T.fromArray(Float32Array.from(randomValues({ shape: [...p.shape] }), (x) => 0.5 * x), p.shape, { backend: p.backend.name });
      p.assign(v);
      v.dispose();
    }
  });
}

/** Central differences on each parameter element of a reference64 module vs the analytic .grad of sum(run(...) * w). */
async function paramGradcheck(c: LayerCase, m: Module, eps = 1e-6): Promise<void> {
  if (m.parameters().length === 0) return;
  const vals = c.inputs.map((s) => randomValues(s));
  const ins = c.inputs.map((s, i) => makeInput(s, vals[i], 'reference64', false));
  m.zeroGrad();
  const out = c.run(m, ...ins);
  const w = randomValues({ shape: [...out.shape] });
  T.sum(T.mul(out, makeInput({ shape: [...out.shape] }, w, 'reference64', false))).backward();
  const objective = () => T.noGrad(() => {
    const o = c.run(m, ...ins);
    const ov = (o.backend as ReferenceBackend).readF64(o.contiguous().storage.buf!);
    let acc = 0;
    for (let e = 0; e < ov.length; e++) acc += ov[e] * w[e];
    return acc;
  });
  for (const [name, p] of m.namedParameters()) {
    if (!p.isContiguous) throw new Error(`${c.name}: parameter ${name} is not dense`);
    const data = (p.storage.buf as HostBuf).data;
    const numeric = new Float64Array(p.size);
    for (let i = 0; i < p.size; i++) {
      const orig = data[i];
      data[i] = orig + eps; const plus = objective();
      data[i] = orig - eps; const minus = objective();
      data[i] = orig;
      numeric[i] = (plus - minus) / (2 * eps);
    }
    const analytic = p.grad ? await values(p.grad) : new Float64Array(p.size);
    assertClose(analytic, numeric, `${c.name}: gradient of parameter ${name}`, 1e-5, 1e-6);
  }
}

const grads = suite('nn: gradients on reference64');
for (const c of cases) {
  grads(c.name, async () => {
    const m = c.make('reference64');
    randomizeParams(m);
    await gradcheck(`${c.name} (inputs)`, c.inputs, (...ins) => c.run(m, ...ins));
    await paramGradcheck(c, m);
  });
}
grads.run();

const across = suite('nn: layers on every backend vs reference64');
for (const c of cases) {
  for (const b of backends) {
    across(`${c.name} on ${b}`, async () => {
      const oracle = c.make('reference64');
      randomizeParams(oracle);
      const m = c.make(b);
      m.loadStateDict(oracle.stateDict());
      const vals = c.inputs.map((s) => randomValues(s));
      const side = (mod: Module, backend: string) => {
        const ins = c.inputs.map((s, i) => makeInput(s, vals[i], backend, true));
        return { ins, out: c.run(mod, ...ins) };
      };
      const ref = side(oracle, 'reference64'), got = side(m, b);
      assert.is(got.out.backend.name, b);
      assertClose(await values(got.out), await values(ref.out), `${c.name} forward on ${b}`, 1e-4, 1e-5);
      const w = randomValues({ shape: [...ref.out.shape] });
      for (const s of [ref, got]) T.sum(T.mul(s.out, makeInput({ shape: [...ref.out.shape] }, w, s.out.backend.name, false))).backward();
      const refParams = oracle.namedParameters(), gotParams = m.namedParameters();
      for (let i = 0; i < refParams.length; i++) {
        const [name, p] = refParams[i];
        const q = gotParams[i][1];
        if (!p.grad || !q.grad) throw new Error(`${c.name}: no gradient for ${name}`);
        assertClose(await values(q.grad), await values(p.grad), `${c.name} gradient of ${name} on ${b}`, 1e-3, 1e-4);
      }
      const refBuffers = oracle.namedBuffers(), gotBuffers = m.namedBuffers();
      for (let i = 0; i < refBuffers.length; i++) {
        assertClose(await values(gotBuffers[i][1]), await values(refBuffers[i][1]), `${c.name} buffer ${refBuffers[i][0]} on ${b}`, 1e-4, 1e-5);
      }
      for (let i = 0; i < c.inputs.length; i++) {
        const gr = ref.ins[i].grad;
        if (!gr) continue;
        const gg = got.ins[i].grad;
        if (!gg) throw new Error(`${c.name}: no gradient for input ${i} on ${b}`);
        assertClose(await values(gg), await values(gr), `${c.name} gradient of input ${i} on ${b}`, 1e-3, 1e-4);
      }
    });
  }
}
across.run();

// ---- semantics against hand-written formulas (reference backend, float32) ----
const sem = suite('nn: layer semantics');
const o = { backend: 'reference' };
const arr = (t: Tensor) => Array.from(t.dataSync());
const randn = (shape: number[]) => T.fromArray(Float32Array.from(randomValues({ shape })), shape, o);

sem('Bilinear matches sum_ij x1_i A_kij x2_j + b_k', () => {
  const m = new nn.Bilinear(3, 2, 4, o);
  const x1 = randn([5, 3]), x2 = randn([5, 2]);
  const y = arr(m.forward(x1, x2)), A = arr(m.weight), b = arr(m.bias!), a1 = arr(x1), a2 = arr(x2);
  const expected: number[] = [];
  for (let n = 0; n < 5; n++) for (let k = 0; k < 4; k++) {
    let acc = b[k];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) acc += a1[n * 3 + i] * A[(k * 3 + i) * 2 + j] * a2[n * 2 + j];
    expected.push(acc);
  }
  assertClose(y, expected, 'bilinear', 1e-5, 1e-5);
});

sem('Embedding: rows by index, padding row zero and without gradient, clear range error', () => {
  const m = new nn.Embedding(6, 3, { ...o, paddingIdx: -2 });
  assert.is(m.paddingIdx, 4);
  const W = arr(m.weight);
  assert.equal(W.slice(12, 15), [0, 0, 0]);
  const idx = T.tensor([[4, 1], [1, 5]], { ...o, dtype: 'int32' });
  const y = m.forward(idx);
  assert.equal(y.shape, [2, 2, 3]);
  assert.equal(arr(y), [4, 1, 1, 5].flatMap((r) => W.slice(r * 3, r * 3 + 3)));
  T.sum(T.mul(y, randn([2, 2, 3]))).backward();
  const g = arr(m.weight.grad!);
  assert.equal(g.slice(12, 15), [0, 0, 0], 'padding row gets no gradient');
  assert.ok(g.slice(3, 6).some((v) => v !== 0) && g.slice(15, 18).some((v) => v !== 0), 'used rows get gradient');
  assert.equal(g.slice(0, 3), [0, 0, 0], 'unused row gets none');
  assert.throws(() => m.forward(T.tensor([6], { ...o, dtype: 'int32' })), /Embedding\(6, 3\).*6/);
  assert.throws(() => m.forward(T.tensor([1.0], o)), /Embedding: indices must be int32/);
});

sem('LayerNorm / RMSNorm / GroupNorm match the formulas', () => {
  const x = randn([2, 4, 3]);
  const xv = arr(x);
  const normalize = (vals: number[], rms: boolean) => {
    const mu = rms ? 0 : vals.reduce((a, b) => a + b, 0) / vals.length;
    const v = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length;
    return vals.map((a) => (a - mu) / Math.sqrt(v + (rms ? 2 ** -23 : 1e-5)));
  };
  const rows = (vals: number[], size: number, rms = false) => Array.from({ length: vals.length / size }, (_, r) => normalize(vals.slice(r * size, (r + 1) * size), rms)).flat();
  assertClose(arr(new nn.LayerNorm(3, o).forward(x)), rows(xv, 3), 'layerNorm last axis');
  assertClose(arr(new nn.LayerNorm([4, 3], o).forward(x)), rows(xv, 12), 'layerNorm two axes');
  assertClose(arr(new nn.RMSNorm(3, o).forward(x)), rows(xv, 3, true), 'rmsNorm');
  // GroupNorm with 2 groups of 2 channels: each (sample, group) block of 6 values is normalized together.
  assertClose(arr(new nn.GroupNorm(2, 4, o).forward(x)), rows(xv, 6), 'groupNorm');
  const gn = new nn.GroupNorm(2, 4, o);
  T.noGrad(() => { gn.weight!.assign(T.tensor([1, 2, 3, 4], o)); gn.bias!.assign(T.tensor([0, 1, 0, -1], o)); });
  const expected = rows(xv, 6).map((v, i) => v * [1, 2, 3, 4][Math.floor(i / 3) % 4] + [0, 1, 0, -1][Math.floor(i / 3) % 4]);
  assertClose(arr(gn.forward(x)), expected, 'groupNorm per-channel affine');
  assert.throws(() => new nn.LayerNorm(4, o).forward(x), /layerNorm: input must end with the normalized shape \[4\]/);
  assert.throws(() => new nn.GroupNorm(3, 4, o), /divisible/);
});

sem('Dropout: zeroes about p while training, scales survivors by 1/(1-p), identity in eval', () => {
  const m = new nn.Dropout(0.25, { generator: new Rng(seed) });
  const x = T.ones([4000], o);
  const y = arr(m.forward(x));
  const zeros = y.filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros / 4000 - 0.25) < 0.04, `dropped fraction ${zeros / 4000} (seed ${seed})`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  m.eval();
  assert.is(m.forward(x), x);
});

sem('Rng.fillUniform continues the stream exactly as uniform() called in a loop', () => {
  const a = new Rng(seed), b = new Rng(seed);
  a.uniform(); b.uniform();  // start mid-stream
  const bulk = a.fillUniform(new Float32Array(1000));
  const single = Float32Array.from({ length: 1000 }, () => b.uniform());
  assert.equal(Array.from(bulk), Array.from(single));
  assert.is(a.uniform(), b.uniform(), 'state after the fill');
});

sem('ModuleList registers children by position', () => {
  const list = new nn.ModuleList([new nn.Linear(2, 3, o), new nn.LayerNorm(3, o)]);
  list.push(new nn.Linear(3, 1, o));
  assert.is(list.length, 3);
  assert.equal(list.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
  assert.ok([...list][2] === list.at(-1));
  assert.throws(() => list.at(3), /out of range/);
  assert.throws(() => list.forward(), /ModuleList has no forward/);
});

sem('LSTM: torch parameter names, batch-first equals time-major, layers chain through LSTMCell steps', () => {
  const lstm = new nn.LSTM(3, 2, { ...o, numLayers: 2, batchFirst: true });
  assert.equal(lstm.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`), [
    'weight_ih_l0[8,3]', 'weight_hh_l0[8,2]', 'bias_ih_l0[8]', 'bias_hh_l0[8]',
    'weight_ih_l1[8,2]', 'weight_hh_l1[8,2]', 'bias_ih_l1[8]', 'bias_hh_l1[8]',
  ]);
  const x = randn([2, 4, 3]);
  const [out, [hN, cN]] = lstm.forward(x);
  assert.equal(out.shape, [2, 4, 2]);
  assert.equal(hN.shape, [2, 2, 2]);
  // The same steps by hand with the functional cell.
  let layerIn = x;
  for (let l = 0; l < 2; l++) {
    let h = T.zeros([2, 2], o), c = T.zeros([2, 2], o);
    const outs: Tensor[] = [];
    for (let t = 0; t < 4; t++) { [h, c] = nn.lstmCell(T.select(layerIn, 1, t), h, c, lstm.layers[l]); outs.push(h); }
    assertClose(arr(T.select(hN, 0, l)), arr(h), `h_n layer ${l}`, 1e-5, 1e-6);
    assertClose(arr(T.select(cN, 0, l)), arr(c), `c_n layer ${l}`, 1e-5, 1e-6);
    layerIn = T.stack(outs, 1);
  }
  assertClose(arr(out), arr(layerIn), 'output', 1e-5, 1e-6);
  const timeMajor = new nn.LSTM(3, 2, { ...o, numLayers: 2 });
  timeMajor.loadStateDict(lstm.stateDict());
  const [out2] = timeMajor.forward(T.permute(x, [1, 0, 2]));
  assertClose(arr(T.permute(out2, [1, 0, 2])), arr(out), 'time-major vs batch-first', 1e-6, 1e-7);
  assert.throws(() => lstm.forward(randn([2, 4, 5])), /LSTM: expected input \[B, T, 3\]/);
});

sem('LSTM dropout acts between layers only while training', () => {
  const lstm = new nn.LSTM(2, 3, { ...o, numLayers: 2, dropout: 0.5, generator: new Rng(seed) });
  const plain = new nn.LSTM(2, 3, { ...o, numLayers: 2 });
  plain.loadStateDict(lstm.stateDict());
  const x = randn([4, 2, 2]);
  const reference = arr(plain.forward(x)[0]);
  assert.not.equal(arr(lstm.forward(x)[0]), reference, 'training: dropped');
  lstm.eval();
  assert.equal(arr(lstm.forward(x)[0]), reference, 'eval: no dropout');
  const single = new nn.LSTM(2, 3, { ...o, dropout: 0.5 });
  const singlePlain = new nn.LSTM(2, 3, o);
  singlePlain.loadStateDict(single.stateDict());
  assert.equal(arr(single.forward(x)[0]), arr(singlePlain.forward(x)[0]), 'no dropout after the last layer');
});

sem('LSTMCell gate order is input, forget, cell, output (torch)', () => {
  const cell = new nn.LSTMCell(1, 1, o);
  // Only the bias drives the gates: i = s(1), f = s(2), g = tanh(3), o = s(4).
  T.noGrad(() => {
    cell.weights.weightIh.assign(T.zeros([4, 1], o)); cell.weights.weightHh.assign(T.zeros([4, 1], o));
    cell.weights.biasIh!.assign(T.tensor([1, 2, 3, 4], o)); cell.weights.biasHh!.assign(T.zeros([4], o));
  });
  const s = (v: number) => 1 / (1 + Math.exp(-v));
  const c0 = 0.5;
  const [h, c] = cell.forward(T.zeros([1, 1], o), [T.zeros([1, 1], o), T.full([1, 1], c0, o)]);
  const cExp = s(2) * c0 + s(1) * Math.tanh(3);
  assertClose(arr(c), [cExp], 'c');
  assertClose(arr(h), [s(4) * Math.tanh(cExp)], 'h');
});

sem('MultiHeadAttention matches per-head softmax(scale q k^T) v by hand', () => {
  const E = 4, H = 2, d = 2, L = 3;
  for (const scale of [undefined, 1 / d]) {
    const m = new nn.MultiHeadAttention(E, H, { ...o, scale });
    assert.is(m.scale, scale ?? 1 / Math.sqrt(d));
    const x = randn([1, L, E]);
    const proj = (lin: InstanceType<typeof nn.Linear>) => arr(lin.forward(x));
    const q = proj(m.qProj), k = proj(m.kProj), v = proj(m.vProj);
    const concat = new Float32Array(L * E);
    for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
      const scores = Array.from({ length: L }, (_, j) => {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[i * E + h * d + c] * k[j * E + h * d + c];
        return j > i ? -Infinity : m.scale * dot; // causal
      });
      const mx = Math.max(...scores), ex = scores.map((s) => Math.exp(s - mx)), z = ex.reduce((a, b) => a + b, 0);
      for (let c = 0; c < d; c++) concat[i * E + h * d + c] = ex.reduce((a, e, j) => a + (e / z) * v[j * E + h * d + c], 0);
    }
    const expected = arr(m.outProj.forward(T.fromArray(concat, [1, L, E], o)));
    assertClose(arr(m.forward(x, x, x, { causal: true })), expected, `mha scale ${scale}`, 1e-5, 1e-6);
  }
});

sem('MultiHeadAttention: a causal output ignores later positions; a padded key equals a removed key', () => {
  const m = new nn.MultiHeadAttention(4, 2, o);
  const xv = randomValues({ shape: [1, 3, 4] });
  const x = T.fromArray(Float32Array.from(xv), [1, 3, 4], o);
  const changed = Float32Array.from(xv); changed[8] += 1; // position 2
  const y1 = arr(m.forward(x, x, x, { causal: true })), y2 = arr(m.forward(T.fromArray(changed, [1, 3, 4], o), undefined, undefined, { causal: true }));
  assertClose(y2.slice(0, 8), y1.slice(0, 8), 'positions 0 and 1 unchanged');
  assert.ok(y2.slice(8).some((v, i) => v !== y1[8 + i]), 'position 2 changed');
  const kv = randn([1, 3, 4]);
  const padded = arr(m.forward(x, kv, kv, { keyPaddingMask: T.tensor([[0, 0, 1]], o) }));
  const kv2 = T.slice(kv, 1, 0, 2);
  assertClose(padded, arr(m.forward(x, kv2, kv2)), 'padding mask = removing the key', 1e-5, 1e-6);
  const boolMask = arr(m.forward(x, kv, kv, { mask: T.tensor([[0, 0, 1]], o) }));
  assertClose(boolMask, padded, 'attention mask broadcast over queries', 1e-6, 1e-7);
});

sem('BatchNorm: torch buffer names, running statistics while training, used in eval', () => {
  const bn = new nn.BatchNorm1d(2, { ...o, momentum: 0.25 });
  assert.equal(Object.keys(bn.stateDict()), ['weight', 'bias', 'running_mean', 'running_var']);
  const x = randn([5, 2]);
  const xv = arr(x);
  const col = (c: number) => [0, 1, 2, 3, 4].map((n) => xv[n * 2 + c]);
  const mu = [0, 1].map((c) => col(c).reduce((a, b) => a + b, 0) / 5);
  const ss = [0, 1].map((c) => col(c).reduce((a, b) => a + (b - mu[c]) ** 2, 0));
  const trainOut = arr(bn.forward(x));
  assertClose(trainOut, xv.map((v, i) => (v - mu[i % 2]) / Math.sqrt(ss[i % 2] / 5 + 1e-5)), 'train output uses batch statistics');
  assertClose(arr(bn.runningMean!), mu.map((m) => 0.25 * m), 'running mean');
  assertClose(arr(bn.runningVar!), ss.map((v) => 0.75 + 0.25 * (v / 4)), 'running var (unbiased)');
  bn.eval();
  const rm = arr(bn.runningMean!), rv = arr(bn.runningVar!);
  assertClose(arr(bn.forward(x)), xv.map((v, i) => (v - rm[i % 2]) / Math.sqrt(rv[i % 2] + 1e-5)), 'eval output uses running statistics');
  assert.equal(arr(bn.runningMean!), rm, 'eval leaves the statistics alone');
  const untracked = new nn.BatchNorm2d(2, { ...o, trackRunningStats: false }).eval();
  assert.equal(untracked.namedBuffers(), []);
  const x4 = randn([2, 2, 2, 2]);
  assertClose(arr(untracked.forward(x4)), arr(new nn.BatchNorm2d(2, o).forward(x4)), 'untracked eval uses batch statistics');
  assert.throws(() => bn.forward(randn([2, 3])), /BatchNorm1d\(2\): expected input \[N, C\] or \[N, C, L\] with C = 2/);
  assert.throws(() => new nn.BatchNorm3d(2, o).forward(randn([2, 2, 2, 2])), /BatchNorm3d\(2\): expected input \[N, C, D, H, W\]/);
});

sem('Conv2d / Conv3d: shapes, torch init bounds, same result as the functional op', () => {
  const c2 = new nn.Conv2d(4, 6, [3, 2], { ...o, groups: 2, bias: true });
  assert.equal(c2.weight.shape, [6, 2, 3, 2]);
  const fanIn = 2 * 3 * 2, bound = 1 / Math.sqrt(fanIn); // kaiming-uniform with a = sqrt(5) gives U(+-1/sqrt(fan_in))
  assert.ok(arr(c2.weight).every((v) => Math.abs(v) <= bound) && arr(c2.bias!).every((v) => Math.abs(v) <= bound));
  const x = randn([1, 4, 5, 5]);
  assert.equal(arr(c2.forward(x)), arr(T.conv2d(x, c2.weight, { bias: c2.bias!, groups: 2 })));
  const c3 = new nn.Conv3d(1, 2, 2, { ...o, bias: false, stride: 2 });
  assert.equal(c3.weight.shape, [2, 1, 2, 2, 2]);
  assert.is(c3.bias, null);
  assert.equal(c3.forward(randn([1, 1, 4, 4, 4])).shape, [1, 2, 2, 2, 2]);
  assert.throws(() => new nn.Conv2d(3, 4, 3, { ...o, groups: 2 }), /Conv2d: groups 2 must divide inChannels 3/);
  assert.throws(() => new nn.Conv3d(1, 1, [2, 2], o), /Conv3d: kernelSize must be/);
});

sem('memory stays flat over training steps with every new layer, clipping and a scheduler', () => {
  const emb = new nn.Embedding(7, 4, { ...o, paddingIdx: 0 });
  const lstm = new nn.LSTM(4, 4, { ...o, batchFirst: true, numLayers: 2, dropout: 0.1 });
  const mha = new nn.MultiHeadAttention(4, 2, { ...o, dropout: 0.1 });
  const norms = new nn.ModuleList([new nn.LayerNorm(4, o), new nn.RMSNorm(4, o), new nn.BatchNorm1d(4, o), new nn.GroupNorm(2, 4, o)]);
  const head = new nn.Bilinear(4, 4, 2, o);
  const modules = [emb, lstm, mha, norms, head];
  const opt = new T.optim.AdamW(modules.flatMap((m) => m.parameters()), { lr: 0.01 });
  const sched = new T.optim.LinearWarmup(opt, 2, { then: new T.optim.CosineAnnealingLR(opt, 5) });
  const idx = T.tensor([[1, 2, 0], [3, 4, 5]], { ...o, dtype: 'int32' });
  const step = () => T.scope(() => {
    opt.zeroGrad();
    let h = lstm.forward(emb.forward(idx))[0];
    h = mha.forward(h, h, h, { causal: true });
    h = (norms.at(0) as InstanceType<typeof nn.LayerNorm>).forward(h);
    h = (norms.at(1) as InstanceType<typeof nn.RMSNorm>).forward(h);
    h = T.permute((norms.at(2) as InstanceType<typeof nn.BatchNorm1d>).forward(T.permute(h, [0, 2, 1])), [0, 2, 1]);
    h = T.permute((norms.at(3) as InstanceType<typeof nn.GroupNorm>).forward(T.permute(h, [0, 2, 1])), [0, 2, 1]);
    T.sum(T.square(head.forward(h, h))).backward();
    T.optim.clipGradNorm(opt.paramGroups[0].params, 1);
    opt.step();
    sched.step();
  });
  step(); step();
  const before = T.memory().reference;
  for (let i = 0; i < 5; i++) step();
  assert.equal(T.memory().reference, before);
});

sem('Module.dispose and Optimizer.dispose free parameters, gradients, buffers and optimizer state', () => {
  const before = T.memory().reference;
  const model = new nn.Sequential(new nn.Linear(3, 4, { backend: 'reference' }), new nn.BatchNorm1d(4, { backend: 'reference' }));
  const opt = new T.optim.Adam(model.parameters(), { lr: 0.1 });
  T.scope(() => {
    T.sum(T.square(model.forward(T.randn([5, 3], { backend: 'reference' })))).backward();
    opt.step();
  });
  const held = T.memory().reference;
  assert.ok(held.buffers > before.buffers, 'parameters, gradients, buffers and Adam moments are held');
  opt.dispose();
  model.dispose();
  assert.equal(T.memory().reference, before);
  assert.ok(model.parameters().every((p) => p.isDisposed && p.grad === null));
});

sem('modules built on a backend keep their parameters there', () => {
  for (const b of backends) {
    const m = new nn.Sequential(new nn.Linear(2, 3, { backend: b }), new nn.LayerNorm(3, { backend: b }));
    assert.ok(m.parameters().every((p) => p.backend.name === b), b);
  }
});
sem.run();

// ---- init statistics (fixed seeds from the run's seed; bounds of ~6 standard errors) ----
const init = suite('nn: init statistics');
const stats = (t: Tensor) => {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { v, mean, std: Math.sqrt(variance), min: v.reduce((a, b) => Math.min(a, b)), max: v.reduce((a, b) => Math.max(a, b)) };
};
const N = 40000;
const near = (got: number, want: number, se: number, what: string) =>
  assert.ok(Math.abs(got - want) < 6 * se, `${what}: ${got} vs ${want} (± ${6 * se}, seed ${seed})`);
const gen = () => ({ generator: new Rng(seed), backend: 'reference' });

init('fans as torch computes them', () => {
  assert.equal(nn.init.fans([5, 3]), { fanIn: 3, fanOut: 5 });
  assert.equal(nn.init.fans([8, 4, 3, 3]), { fanIn: 36, fanOut: 72 });
});

init('uniform and normal', () => {
  const u = stats(nn.init.uniform([N], -1, 3, gen()));
  assert.ok(u.min >= -1 && u.max < 3);
  near(u.mean, 1, 4 / Math.sqrt(12 * N), 'uniform mean');
  near(u.std, 4 / Math.sqrt(12), 4 / Math.sqrt(12) / Math.sqrt(N), 'uniform std');
  const n = stats(nn.init.normal([N], 2, 0.5, gen()));
  near(n.mean, 2, 0.5 / Math.sqrt(N), 'normal mean');
  near(n.std, 0.5, 0.5 / Math.sqrt(2 * N), 'normal std');
});

init('truncatedNormal stays in [a, b] with the truncated mean and std', () => {
  const [mu, sd, a, b] = [1, 2, 0, 3];
  const t = stats(nn.init.truncatedNormal([N], mu, sd, a, b, gen()));
  assert.ok(t.min >= a && t.max <= b, `range ${t.min}..${t.max}`);
  const pdf = (z: number) => Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI), cdf = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
  const al = (a - mu) / sd, be = (b - mu) / sd, Z = cdf(be) - cdf(al);
  const mean = mu + sd * (pdf(al) - pdf(be)) / Z;
  const variance = sd ** 2 * (1 + (al * pdf(al) - be * pdf(be)) / Z - ((pdf(al) - pdf(be)) / Z) ** 2);
  near(t.mean, mean, Math.sqrt(variance / N), 'truncated mean');
  near(t.std, Math.sqrt(variance), Math.sqrt(variance) / Math.sqrt(N), 'truncated std');
});

init('kaiming and xavier variances', () => {
  const shape = [200, 50, 2, 2]; // fanIn 200, fanOut 800
  const ku = stats(nn.init.kaimingUniform(shape, { ...gen(), nonlinearity: 'relu' }));
  const bound = Math.SQRT2 * Math.sqrt(3 / 200);
  assert.ok(ku.min >= -bound && ku.max <= bound);
  near(ku.std, Math.sqrt(2 / 200), Math.sqrt(2 / 200) / Math.sqrt(shape.reduce((x, y) => x * y)), 'kaimingUniform std');
  const kn = stats(nn.init.kaimingNormal(shape, { ...gen(), mode: 'fanOut', nonlinearity: 'leaky_relu', a: 0.2 }));
  const want = Math.sqrt(2 / (1 + 0.04)) / Math.sqrt(800);
  near(kn.std, want, want / Math.sqrt(2 * 40000), 'kaimingNormal fanOut std');
  near(kn.mean, 0, want / Math.sqrt(40000), 'kaimingNormal mean');
  const xu = stats(nn.init.xavierUniform([300, 100], 2, gen()));
  const xstd = 2 * Math.sqrt(2 / 400);
  assert.ok(xu.max <= 2 * Math.sqrt(6 / 400));
  near(xu.std, xstd, xstd / Math.sqrt(30000), 'xavierUniform std');
  const xn = stats(nn.init.xavierNormal([300, 100], 1, gen()));
  near(xn.std, Math.sqrt(2 / 400), Math.sqrt(2 / 400) / Math.sqrt(60000), 'xavierNormal std');
});

init('orthogonal rows or columns are orthonormal (times gain); zeros are zero', () => {
  for (const [r, c] of [[3, 7], [7, 3], [5, 5]]) {
    const q = arr(nn.init.orthogonal([r, c], 1.5, gen()));
    const tall = r >= c, k = tall ? c : r;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let e = 0; e < (tall ? r : c); e++) dot += tall ? q[e * c + i] * q[e * c + j] : q[i * c + e] * q[j * c + e];
      assert.ok(Math.abs(dot - (i === j ? 2.25 : 0)) < 1e-5, `[${r}, ${c}] gram (${i}, ${j}) = ${dot}`);
    }
  }
  assert.ok(arr(nn.init.zerosInit([4, 3], gen())).every((v) => v === 0));
});
init.run();
