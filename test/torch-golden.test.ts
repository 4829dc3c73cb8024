// Golden tests of modules, optimizers and schedulers against torch 1.13: the fixtures in test/fixtures/torch-nn
// were written once by make_fixture.py there (torch is not needed here). Each module loads torch's state_dict
// by name (strict: every name and shape must match), then its outputs and the gradients of sum(out * probe)
// with respect to the input and to every parameter must match torch's; optimizers fed the same gradients must
// follow torch's parameter trajectory, and schedulers its lr (and momentum) sequence.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { T, backendsUnderTest, assertClose } from './helpers.js';

const s = suite('torch golden');
const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'torch-nn');
const stored = T.loadSafetensors(join(fixtures, 'modules.safetensors')).tensors;
const backends = (await backendsUnderTest()).filter((b) => b !== 'cuda' || process.env.TESSERA_TEST_CUDA === '1');

function fixture(name: string, backend: string): T.Tensor {
  const t = stored[name];
  if (!t) throw new Error(`fixture has no '${name}'`);
  return T.fromArray(t.data as Float32Array | Int32Array, t.shape, { backend, dtype: t.dtype === 'I32' ? 'int32' : 'float32' });
}

/** A stored float32 tensor's values. */
const want = (name: string) => stored[name].data as Float32Array;

/** The state dict of case `c` as torch saved it (names without the case prefix). */
function stateOf(c: string, backend: string): Record<string, T.Tensor> {
  const prefix = `${c}.`;
  return Object.fromEntries(Object.keys(stored).filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), fixture(k, backend)]));
}

/**
 * Loads case `c` into `m`, runs `run` with x requiring grad, and compares every output, the input's gradient
 * and each parameter's gradient with torch's.
 */
async function check(c: string, m: T.nn.Module, backend: string, run: (x: T.Tensor) => Record<string, T.Tensor>): Promise<void> {
  m.loadStateDict(stateOf(c, backend));
  const x = fixture(`${c}:x`, backend);
  x.requiresGrad = true;
  const outs = run(x);
  for (const [k, v] of Object.entries(outs)) {
    assert.equal(v.shape, stored[`${c}:${k}`].shape, `${c} ${k} shape`);
    assertClose(await v.data(), want(`${c}:${k}`), `${c} ${k} on ${backend}`, 1e-4, 2e-5);
  }
  T.sum(T.mul(outs.out, fixture(`${c}:probe`, backend))).backward();
  assertClose(await x.grad!.data(), want(`${c}:grad_x`), `${c} grad of x on ${backend}`, 1e-4, 2e-5);
  for (const [name, p] of m.namedParameters()) {
    assert.ok(p.grad, `${c}: ${name} got no gradient`);
    assertClose(await p.grad!.data(), want(`${c}:grad.${name}`), `${c} grad of ${name} on ${backend}`, 1e-4, 2e-5);
  }
  m.dispose();
}

for (const backend of backends) {
  const on = { backend };
  s(`GRU (2 layers, bidirectional, initial state) matches torch on ${backend}`, async () => {
    const m = new T.nn.GRU(5, 4, { ...on, numLayers: 2, bidirectional: true });
    await check('gru_bi2', m, backend, (x) => { const [out, hN] = m.forward(x, fixture('gru_bi2:h0', backend)); return { out, hN }; });
  });
  s(`GRU (no bias, batchFirst, zero state) matches torch on ${backend}`, async () => {
    const m = new T.nn.GRU(3, 4, { ...on, bias: false, batchFirst: true });
    await check('gru_nobias_bf', m, backend, (x) => { const [out, hN] = m.forward(x); return { out, hN }; });
  });
  s(`LSTM (2 layers, bidirectional, batchFirst, initial state) matches torch on ${backend}`, async () => {
    const m = new T.nn.LSTM(5, 4, { ...on, numLayers: 2, bidirectional: true, batchFirst: true });
    await check('lstm_bi2_bf', m, backend, (x) => {
      const [out, [hN, cN]] = m.forward(x, [fixture('lstm_bi2_bf:h0', backend), fixture('lstm_bi2_bf:c0', backend)]);
      return { out, hN, cN };
    });
  });
  s(`LSTM (3 layers) matches torch on ${backend}`, async () => {
    const m = new T.nn.LSTM(3, 2, { ...on, numLayers: 3 });
    await check('lstm_3', m, backend, (x) => { const [out, [hN, cN]] = m.forward(x); return { out, hN, cN }; });
  });
  s(`GRUCell matches torch on ${backend}`, async () => {
    const m = new T.nn.GRUCell(5, 4, on);
    await check('grucell', m, backend, (x) => ({ out: m.forward(x, fixture('grucell:h0', backend)) }));
  });
  s(`TransformerEncoderLayer (post-norm, relu, batchFirst, key padding) matches torch on ${backend}`, async () => {
    const m = new T.nn.TransformerEncoderLayer(8, 2, { ...on, dimFeedforward: 16, dropout: 0, batchFirst: true });
    await check('enc_post_relu_bf', m, backend, (x) => ({ out: m.forward(x, { keyPaddingMask: fixture('enc_post_relu_bf:keyPaddingMask', backend) }) }));
  });
  s(`TransformerEncoderLayer (pre-norm, gelu, sequence first, causal mask, eps) matches torch on ${backend}`, async () => {
    const m = new T.nn.TransformerEncoderLayer(8, 2, { ...on, dimFeedforward: 16, dropout: 0, activation: 'gelu', normFirst: true, layerNormEps: 1e-6 });
    await check('enc_pre_gelu', m, backend, (x) => ({ out: m.forward(x, { mask: fixture('enc_pre_gelu:mask', backend) }) }));
  });
  s(`MultiheadAttention (kdim, vdim, key padding, weights) matches torch on ${backend}`, async () => {
    const m = new T.nn.MultiheadAttention(8, 2, { ...on, kdim: 6, vdim: 3 });
    await check('mha_kv', m, backend, (x) => {
      const [out, weights] = m.forward(x, fixture('mha_kv:key', backend), fixture('mha_kv:value', backend),
        { keyPaddingMask: fixture('mha_kv:keyPaddingMask', backend) });
      return { out, weights: weights! };
    });
  });
}

interface OptimFixture {
  start: number[][]; shapes: number[][]; grads: number[][][];
  runs: { optimizer: 'RMSprop' | 'Adagrad' | 'Adam' | 'AdamW' | 'SGD'; options: Record<string, number | boolean>; params: number[][][] }[];
  schedulers: Record<string, { lr: number[]; momentum?: number[] }> & { plateau_metrics: number[] };
}
const optimFixture = JSON.parse(readFileSync(join(fixtures, 'optim.json'), 'utf8')) as OptimFixture;

// Adam, AdamW and SGD with momentum step through a fused kernel of each backend: they run on every backend.
const FUSED = new Set(['Adam', 'AdamW', 'SGD']);
for (const run of optimFixture.runs) {
  for (const backend of FUSED.has(run.optimizer) ? backends : [undefined]) {
    s(`${run.optimizer} ${JSON.stringify(run.options)} follows torch step for step${backend ? ` (${backend})` : ''}`, async () => {
      const o = backend ? { backend } : {};
      const params = optimFixture.start.map((v, i) => T.fromArray(Float32Array.from(v), optimFixture.shapes[i], { ...o, requiresGrad: true }));
      const opt = new T.optim[run.optimizer](params, run.options);
      for (let k = 0; k < optimFixture.grads.length; k++) {
        params.forEach((p, i) => { p.grad = T.fromArray(Float32Array.from(optimFixture.grads[k][i]), optimFixture.shapes[i], o); });
        opt.step();
        for (let i = 0; i < params.length; i++) assertClose(await params[i].data(), run.params[k][i], `step ${k + 1} param ${i}`, 1e-5, 1e-6);
      }
      opt.dispose();
    });
  }
}

/** An SGD (lr 0.1, momentum 0.9) on one parameter, as make_fixture.py's schedulers drive. */
function sgd(): T.optim.SGD { return new T.optim.SGD([T.zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 }); }

const schedulerRuns: [string, (o: T.optim.SGD) => { step(metric?: number): void }, number[]?][] = [
  ['MultiStepLR', (o) => new T.optim.MultiStepLR(o, [2, 5, 5], 0.5)],
  ['ExponentialLR', (o) => new T.optim.ExponentialLR(o, 0.9)],
  ['OneCycleLR', (o) => new T.optim.OneCycleLR(o, 0.1, { totalSteps: 20 })],
  ['OneCycleLR_linear', (o) => new T.optim.OneCycleLR(o, 0.2, { totalSteps: 10, pctStart: 0.4, annealStrategy: 'linear', divFactor: 10,
    finalDivFactor: 100, threePhase: true, cycleMomentum: false })],
  ['ReduceLROnPlateau', (o) => new T.optim.ReduceLROnPlateau(o, { patience: 1 }), optimFixture.schedulers.plateau_metrics],
  ['ReduceLROnPlateau_max_abs', (o) => new T.optim.ReduceLROnPlateau(o, { mode: 'max', factor: 0.5, patience: 0, threshold: 0.05,
    thresholdMode: 'abs', cooldown: 2, minLr: 0.02 }), optimFixture.schedulers.plateau_metrics.map((m) => -m)],
];
for (const [name, make, metrics] of schedulerRuns) {
  s(`${name} gives torch's lr sequence`, () => {
    const want = optimFixture.schedulers[name];
    const opt = sgd();
    const sched = make(opt);
    const lrs = [opt.paramGroups[0].lr], moms = [opt.paramGroups[0].momentum as number];
    for (let k = 0; k < want.lr.length - 1; k++) {
      sched.step(metrics?.[k]);
      lrs.push(opt.paramGroups[0].lr);
      moms.push(opt.paramGroups[0].momentum as number);
    }
    assertClose(lrs, want.lr, `${name} lr`, 1e-9, 1e-12);
    if (want.momentum) assertClose(moms, want.momentum, `${name} momentum`, 1e-9, 1e-12);
  });
}

s('OneCycleLR refuses to step past totalSteps, as torch', () => {
  const sched = new T.optim.OneCycleLR(sgd(), 0.1, { totalSteps: 3 });
  for (let k = 0; k < 3; k++) sched.step();
  assert.throws(() => sched.step(), /past totalSteps 3/);
});

s.run();
