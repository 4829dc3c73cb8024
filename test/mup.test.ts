// µP: base-shape inference, per-parameter learning rates and init scales
// against hand-computed values for a 3-layer MLP, MuReadout forward and
// gradients, µP optimizer checkpoints, attention scale, the transfer summary,
// the CLI, and the coordinate check itself (flat under µP, growing under SP).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, gradcheck, assertClose, values } from './helpers.js';
import * as mup from '../src/models/mup/index.js';
import { Rng } from '../src/rng.js';
import * as nnInit from '../src/nn/init.js';
import { saveOptimizer, loadOptimizer } from '../src/io/checkpoint.js';
import { runCli } from '../src/cli/commands.js';
import { parseLrs, parseWidths } from '../src/cli/mup.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-mup-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const INPUT = 20, CLASSES = 10;
/** The 3-layer MLP of the hand computations: input [w, 20], hidden [w, w], readout [10, w], with biases. */
const mlp = (width: number, parametrization: mup.Parametrization, seed = 1) =>
  new mup.Mlp({ inputDim: INPUT, numClasses: CLASSES, width, parametrization, generator: new Rng(seed) });
/** Width 256 over base 64 (delta 128): every width multiplier is 4. */
const mupMlp = (seed = 1) => mup.setBaseShapes(mlp(256, 'mup', seed), mup.makeBaseShapes(mlp(64, 'mup'), mlp(128, 'mup')));

const byName = (m: T.nn.Module) => Object.fromEntries(m.namedParameters());

const shapes = suite('mup base shapes');

shapes('makeBaseShapes marks the dimensions that differ between base and delta', () => {
  const base = mup.makeBaseShapes(mlp(64, 'mup'), mlp(128, 'mup'));
  assert.equal(base.toJSON(), {
    'input.weight': [64, null], 'input.bias': [64],
    'hidden1.weight': [64, 64], 'hidden1.bias': [64],
    'readout.weight': [null, 64], 'readout.bias': [null],
  });
  assert.equal(mup.BaseShapes.fromJSON(JSON.parse(JSON.stringify(base))).toJSON(), base.toJSON());
});

shapes('setBaseShapes gives each parameter its InfShape', () => {
  const p = byName(mupMlp());
  const s = (name: string) => mup.infShapeOf(p[name]);
  assert.equal([s('input.weight').ninf, s('input.weight').widthMult], [1, 4]);
  assert.equal([s('input.bias').ninf, s('input.bias').widthMult], [1, 4]);
  assert.equal([s('hidden1.weight').ninf, s('hidden1.weight').widthMult, s('hidden1.weight').fanInFanOutMultRatio], [2, 4, 1]);
  assert.equal([s('readout.weight').ninf, s('readout.weight').widthMult], [1, 4]);
  assert.equal([s('readout.bias').ninf, s('readout.bias').widthMult], [0, 1]);
  assert.equal(s('hidden1.weight').baseShape, [64, 64]);
});

shapes('a plain base model: width dimensions are where the target differs', () => {
  const p = byName(mup.setBaseShapes(mlp(96, 'mup'), mlp(32, 'mup')));
  assert.equal(mup.infShapeOf(p['hidden1.weight']).widthMult, 3);
  assert.equal(mup.infShapeOf(p['readout.bias']).ninf, 0);
});

shapes('errors: different parameters, missing base shapes, a Linear readout', () => {
  assert.throws(() => mup.makeBaseShapes({ a: [2, 3] }, { b: [2, 3] }), /only in base: a; only in delta: b/);
  assert.throws(() => mup.infShapeOf(byName(mlp(64, 'sp'))['input.weight']), /call mup.setBaseShapes/);
  // The SP model's readout is a Linear with a width fan-in: µP needs a MuReadout there.
  assert.throws(() => mup.setBaseShapes(mlp(256, 'sp'), mup.makeBaseShapes(mlp(64, 'sp'), mlp(128, 'sp'))), /'readout' has a width fan-in.*not a MuReadout/);
  const m = mupMlp();
  assert.throws(() => mup.setBaseShapes(m, mup.makeBaseShapes(mlp(64, 'mup'), mlp(128, 'mup'))), /already rescaled/);
});

const rules = suite('mup learning rates and init');

/** name -> [lrMult, wdMult] of the group holding that parameter. */
function multipliers(m: T.nn.Module, opt: T.optim.Optimizer): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [name, p] of m.namedParameters()) {
    const g = opt.paramGroups.find((gr) => gr.params.includes(p))!;
    out[name] = [g.lrMult, g.wdMult];
  }
  return out;
}

rules('MuAdam: hidden weights lr / 4 and weight decay x 4, the rest unchanged', () => {
  const m = mupMlp();
  assert.equal(multipliers(m, new mup.MuAdam(m.parameters(), { lr: 0.01 })), {
    'input.weight': [1, 1], 'input.bias': [1, 1], 'hidden1.weight': [0.25, 4], 'hidden1.bias': [1, 1],
    'readout.weight': [1, 1], 'readout.bias': [1, 1],
  });
  const decoupled = multipliers(m, new mup.MuAdamW(m.parameters(), { lr: 0.01, decoupledWd: true }));
  assert.equal(decoupled['hidden1.weight'], [0.25, 1]);
});

rules('MuSGD: vector-like lr x 4 (weight decay / 4), square hidden unchanged, fixed unchanged', () => {
  const m = mupMlp();
  assert.equal(multipliers(m, new mup.MuSGD(m.parameters(), { lr: 0.1 })), {
    'input.weight': [4, 0.25], 'input.bias': [4, 0.25], 'hidden1.weight': [1, 1], 'hidden1.bias': [4, 0.25],
    'readout.weight': [4, 0.25], 'readout.bias': [1, 1],
  });
});

rules('a hidden matrix whose fan-in grows 8x and fan-out 4x', () => {
  const p = T.zeros([256, 256]).requiresGrad_();
  mup.attachInfShape(p, new mup.InfShape([new mup.InfDim(64, 256), new mup.InfDim(32, 256)]));
  assert.equal(mup.muFactors(p, 'adam'), { lrMult: 1 / 8, wdMult: 8 });
  assert.equal(mup.muFactors(p, 'sgd'), { lrMult: 1 / 2, wdMult: 2 });
  // The caller's own multipliers are kept and multiplied.
  const groups = mup.muParamGroups([{ params: [p], lrMult: 3 }], 'adam');
  assert.equal([groups[0].lrMult, groups[0].wdMult], [3 / 8, 8]);
});

rules('the first MuAdam step moves hidden weights by lr / 4 and the others by lr', () => {
  const m = mupMlp(), lr = 1e-2;
  const before = Object.fromEntries(m.namedParameters().map(([k, p]) => [k, Float64Array.from(p.dataSync())]));
  const opt = new mup.MuAdam(m.parameters(), { lr });
  const x = T.randn([8, INPUT], { generator: new Rng(5) }), y = T.tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
  T.crossEntropy(m.forward(x), y).backward();
  opt.step();
  // Adam's first step is lr * g / (|g| + eps): each entry with a sizeable gradient moves by the full step.
  const largest = (name: string) => {
    const after = byName(m)[name].dataSync();
    return before[name].reduce((mx, v, i) => Math.max(mx, Math.abs(after[i] - v)), 0);
  };
  assertClose([largest('hidden1.weight'), largest('input.weight'), largest('readout.weight')], [lr / 4, lr, lr], 'step sizes', 1e-3, 0);
});

rules('init: readout weight and bias x sqrt(4), hidden bias x sqrt(4), the rest as SP', () => {
  const sp = byName(mlp(256, 'sp')), mu = byName(mupMlp());
  const ratio = (name: string) => {
    const a = mu[name].dataSync(), b = sp[name].dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - 2 * b[i]) / (Math.abs(b[i]) + 1e-12));
    return worst;
  };
  // Same generator, same draws: µP = SP times the hand-computed factor (x2 is exact in float32).
  assert.is(ratio('readout.weight'), 0);
  assert.is(ratio('readout.bias'), 0);
  assert.is(ratio('hidden1.bias'), 0);
  assert.equal(Array.from(mu['hidden1.weight'].dataSync()), Array.from(sp['hidden1.weight'].dataSync()));
  assert.equal(Array.from(mu['input.weight'].dataSync()), Array.from(sp['input.weight'].dataSync()));
  assert.equal(Array.from(mu['input.bias'].dataSync()), Array.from(sp['input.bias'].dataSync()));
});

rules('mup.init: hidden std / sqrt(widthMult); kaiming on a readout uses the base fan-in', () => {
  const m = mupMlp(), p = byName(m);
  mup.init.normal(p['hidden1.weight'], { std: 0.5, generator: new Rng(3) });
  const direct = nnInit.normal([256, 256], 0, 0.25, { generator: new Rng(3) });
  assert.equal(Array.from(p['hidden1.weight'].dataSync()), Array.from(direct.dataSync()));
  mup.init.kaimingNormal(p['readout.weight'], { generator: new Rng(4), nonlinearity: 'relu' });
  const v = Array.from(p['readout.weight'].dataSync());
  const std = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
  // gain sqrt(2) over the base fan-in 64, not the actual 256 (2560 draws: within 5%).
  assert.ok(Math.abs(std / (Math.SQRT2 / 8) - 1) < 0.05, `std ${std}`);
  assert.throws(() => mup.init.normal(p['hidden1.weight'], { mean: 1 }), /centred at 0/);
});

rules('setBaseShapes rescales convolution biases by sqrt(fan-in multiplier), as Linear biases (mup)', () => {
  const conv = (width: number, seed = 1) => new T.nn.Sequential(new T.nn.Conv2d(width, width, 3, { generator: new Rng(seed) }));
  const model = conv(256, 5), before = Array.from(byName(model)['0.bias'].dataSync());
  mup.setBaseShapes(model, mup.makeBaseShapes(conv(64), conv(128)));
  assertClose(Array.from(byName(model)['0.bias'].dataSync()), before.map((v) => 2 * v), 'bias x sqrt(4)');
});

rules('mup.init: off-centre draws only on vector-like parameters; truncatedNormal, ones and eye', () => {
  const m = mupMlp(), p = byName(m);
  // readout.bias [10] has no width dimension: mup refuses an off-centre draw there; input.bias [w] takes it
  assert.throws(() => mup.init.uniform(p['readout.bias'], 0, 1), /centred at 0/);
  assert.throws(() => mup.init.ones(p['readout.bias']), /centred at 0/);
  mup.init.uniform(p['input.bias'], 0, 1, { generator: new Rng(2) });
  mup.init.ones(p['input.bias']);
  assert.ok(Array.from(p['input.bias'].dataSync()).every((v) => v === 1));
  mup.init.truncatedNormal(p['hidden1.weight'], { std: 0.5, a: -1, b: 1, generator: new Rng(3) });
  const direct = nnInit.truncatedNormal([256, 256], 0, 0.25, -0.5, 0.5, { generator: new Rng(3) });
  assertClose(Array.from(p['hidden1.weight'].dataSync()), Array.from(direct.dataSync()), 'hidden: each of std, a, b / sqrt(widthMult)');
  assert.throws(() => mup.init.truncatedNormal(p['hidden1.weight'], { mean: 0.1 }), /centred at 0/);
  assert.throws(() => mup.init.eye(p['hidden1.weight']), /centred at 0/);
  mup.init.eye(p['input.weight']); // [256, 20]: one width dimension
  const w = p['input.weight'].dataSync();
  assert.ok(w[0] === 1 && w[21] === 1 && w[1] === 0);
});

const readout = suite('MuReadout');

readout('muReadout gradients (float64 finite differences)', async () => {
  await gradcheck('muReadout', [{ shape: [3, 5] }, { shape: [4, 5] }, { shape: [4] }],
    (x, w, b) => mup.muReadout(x, w, { bias: b, outputMult: 1.5, widthMult: 4 }));
});

readout('MuReadout forward is (outputMult / widthMult) x W^T + b', () => {
  const layer = mup.setBaseShapes(new mup.MuReadout(8, 3, { outputMult: 1.5, generator: new Rng(2) }),
    new mup.BaseShapes({ weight: [null, 2], bias: [null] }), { rescaleParams: false });
  assert.is(layer.widthMult, 4);
  const x = T.randn([2, 8], { generator: new Rng(9) });
  const xs = x.dataSync(), w = layer.weight.dataSync(), b = layer.bias!.dataSync();
  const expected: number[] = [];
  for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) {
    let s = 0;
    for (let k = 0; k < 8; k++) s += xs[i * 8 + k] * w[o * 8 + k];
    expected.push((1.5 / 4) * s + b[o]);
  }
  assertClose(layer.forward(x).dataSync(), expected, 'MuReadout forward');
});

readout('MuReadout zero init; MuSharedReadout reads the embedding table and owns only its bias', async () => {
  const zero = new mup.MuReadout(8, 3, { readoutZeroInit: true });
  assert.ok([...zero.weight.dataSync(), ...zero.bias!.dataSync()].every((v) => v === 0));
  const emb = new T.nn.Embedding(5, 8, { generator: new Rng(1) });
  const tied = new mup.MuSharedReadout(emb.weight, { readoutZeroInit: true });
  assert.equal(tied.namedParameters().map(([k]) => k), ['bias']);
  mup.attachInfShape(emb.weight, new mup.InfShape([new mup.InfDim(null, 5), new mup.InfDim(2, 8)]));
  const x = T.randn([2, 8], { generator: new Rng(9) });
  const direct = T.mul(T.matmul(x, emb.weight.transpose()), 0.25);
  assertClose(await values(tied.forward(x)), await values(direct), 'MuSharedReadout forward');
  T.sum(tied.forward(x)).backward();
  assert.ok(emb.weight.grad, 'the gradient reaches the shared table');
});

const io = suite('mup optimizer checkpoints');

io('MuAdam state saved and loaded: resuming matches never stopping', async () => {
  const x = T.randn([16, INPUT], { generator: new Rng(5) }), y = T.tensor(Int32Array.from({ length: 16 }, (_, i) => i % CLASSES));
  const train = (m: mup.Mlp, opt: T.optim.Optimizer) => { opt.zeroGrad(); T.crossEntropy(m.forward(x), y).backward(); opt.step(); };
  const a = mupMlp(), optA = new mup.MuAdam(a.parameters(), { lr: 1e-2, weightDecay: 1e-3 });
  train(a, optA); train(a, optA);
  const path = join(dir, 'muadam.safetensors');
  await saveOptimizer(path, optA);
  const b = mupMlp(7);
  b.loadStateDict(a.stateDict());
  const optB = new mup.MuAdam(b.parameters(), { lr: 0.5 });
  await loadOptimizer(path, optB);
  const hypers = (o: T.optim.Optimizer) => o.paramGroups.map((g) => [g.lr, g.lrMult, g.wdMult, g.weightDecay]);
  assert.equal(hypers(optB), hypers(optA));
  train(a, optA); train(b, optB);
  const pb = byName(b);
  for (const [name, pa] of a.namedParameters()) assertClose(pb[name].dataSync(), pa.dataSync(), `${name} after resuming`, 1e-6, 1e-7);
});

const attention = suite('mup attention');

attention('scores scaled by sqrt(attnMult) / d as mup; zero queries give uniform attention', () => {
  const a = new mup.MuMultiHeadAttention(16, 2, { attnMult: 3, zeroQuery: true, generator: new Rng(1) });
  assert.is(a.scale, Math.sqrt(3) / 8);
  assert.ok(a.qProj.weight.dataSync().every((v) => v === 0));
  // With q = 0 every score is equal: causal attention averages the values of keys 0..i.
  const x = T.randn([1, 3, 16], { generator: new Rng(2) });
  const v = a.vProj.forward(x).dataSync();
  const averaged = new Float32Array(3 * 16);
  for (let i = 0; i < 3; i++) for (let c = 0; c < 16; c++) {
    let s = 0;
    for (let j = 0; j <= i; j++) s += v[j * 16 + c];
    averaged[i * 16 + c] = s / (i + 1);
  }
  const expected = a.outProj.forward(T.fromArray(averaged, [1, 3, 16])).dataSync();
  assertClose(a.forward(x, x, x, { causal: true }).dataSync(), expected, 'uniform causal attention');
});

const summary = suite('mup transfer summary');

summary('optimal lr per width, its spread in grid steps, wider is better', () => {
  const lrs = [0.001, 0.002, 0.004, 0.008];
  // loss(width, lr): optimum at lr index 2 for width 64, index 1 for width 128 and 256.
  const table: Record<number, number[]> = { 64: [1.0, 0.8, 0.7, 0.9], 128: [0.9, 0.6, 0.65, NaN], 256: [0.8, 0.5, 0.55, 0.7] };
  const results: mup.RunResult[] = Object.entries(table).flatMap(([w, row]) => row.map((l, i) => ({
    width: Number(w), parametrization: 'mup' as const, lr: lrs[i], seed: 0, trainLoss: l, valLoss: l + 0.1, diverged: Number.isNaN(l), seconds: 0,
  })));
  const [s] = mup.summarizeTransfer(results);
  assert.equal(s.optimum.map((o) => o.bestLr), [0.004, 0.002, 0.002]);
  assert.is(s.optimumSpreadSteps, 1);
  assert.is(s.optimumSpreadRatio, 2);
  assert.is(s.transferredLr, 0.004);
  assert.equal(s.transferredTrainLoss, [0.7, 0.65, 0.55]);
  assert.ok(s.widerIsBetter);
  assert.ok(Number.isNaN(s.trainLoss[1][3]), 'a diverged run leaves a gap');
  assert.match(mup.transferSvg([s], 't'), /<svg x="0" y="36"/);
});

summary('grammar corpus: deterministic, fixed vocabulary, number agreement', () => {
  const a = mup.grammarCorpus(2000, 4), b = mup.grammarCorpus(2000, 4);
  assert.is(a.text, b.text);
  assert.ok(a.text.length >= 2000);
  assert.equal(a.vocab, mup.GRAMMAR_VOCAB);
  assert.is(Array.from(a.tokens, (t) => a.vocab[t]).join(''), a.text);
  // A singular determiner directly before a noun takes a singular noun.
  assert.not.match(a.text, /\b(a|every|this|one) (cats|dogs|birds|children|farmers|robots|rivers|teachers|foxes|lamps)\b/);
});

const cli = suite('mup CLI');

cli('learning-rate and width lists', () => {
  assert.equal(parseLrs('2^-3..2^-1'), [0.125, 0.25, 0.5]);
  assert.equal(parseLrs('0.01,2^-2'), [0.01, 0.25]);
  assert.throws(() => parseLrs('2^-1..2^-3'), /must go up/);
  assert.throws(() => parseLrs('abc,1'), /not a positive number/);
  assert.equal(parseWidths('128,64'), [64, 128]);
  assert.throws(() => parseWidths('64'), /at least two/);
});

cli('tessera mup coord-check writes JSON and SVG', async () => {
  let out = '';
  const code = await runCli(['mup', 'coord-check', '--model', 'transformer', '--widths', '16,32', '--steps', '2', '--lr', '0.01',
    '--depth', '1', '--batch-size', '2', '--parametrization', 'mup', '--out', dir, '--backend', T.getBackend().name, '--json'], { stdout: (t) => { out += t; }, stderr: () => {} });
  assert.is(code, 0, out);
  const report = JSON.parse(out);
  assert.equal(report.files, [join(dir, 'coord-transformer-mup.json'), join(dir, 'coord-transformer-mup.svg')]);
  assert.ok(existsSync(report.files[1]));
  const saved = JSON.parse(readFileSync(report.files[0], 'utf8'));
  assert.equal([...new Set(saved.records.map((r: mup.CoordRecord) => r.layer))],
    ['embedding', 'block0.attn', 'block0.mlp', 'block0.out', 'readout']);
  let err = '';
  assert.is(await runCli(['mup', 'sideways'], { stdout: () => {}, stderr: (t) => { err += t; } }), 2);
  assert.match(err, /expected 'coord-check' or 'transfer'/);
});

const coord = suite('mup coordinate check');

coord('after one large Adam step, µP activations are flat in width and SP ones grow', () => {
  const task = mup.gaussianTask({ inputDim: 32, numClasses: 10, count: 256, batchSize: 64, baseWidth: 32, hiddenLayers: 2 });
  const slopesAfterOneStep = (parametrization: mup.Parametrization) => mup.coordSlopes(mup.coordCheck(task, {
    widths: [32, 64, 128, 256], steps: 2, seeds: 2, parametrization, optimizer: 'adam', lr: 0.02,
  })).filter((s) => s.step === 1);
  const mu = slopesAfterOneStep('mup'), sp = slopesAfterOneStep('sp');
  assert.is(mu.length, 4);
  for (const s of mu) assert.ok(Math.abs(s.slope) < 0.2, `µP ${s.layer}: slope ${s.slope.toFixed(3)} (want ~0)`);
  const steepest = sp.reduce((a, b) => (b.slope > a.slope ? b : a));
  assert.ok(steepest.slope > 0.5, `SP: steepest slope ${steepest.slope.toFixed(3)} at ${steepest.layer} (want clearly positive)`);
});

shapes.run();
rules.run();
readout.run();
io.run();
attention.run();
summary.run();
cli.run();
coord.run();
