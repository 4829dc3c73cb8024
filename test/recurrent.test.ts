// LSTM/GRU behaviour the torch golden test cannot fix by value: dropout between layers (random) and the
// checks of constructor settings and options.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, throwsWith } from './helpers.js';

const s = suite('recurrent and transformer modules');

s('dropout between layers acts only while training, and not after the last layer', async () => {
  for (const Cls of [T.nn.GRU, T.nn.LSTM]) {
    const g = new T.Rng(3);
    const m = new Cls(3, 8, { numLayers: 2, dropout: 0.5, generator: g });
    const plain = new Cls(3, 8, { numLayers: 2 });
    plain.loadStateDict(m.stateDict());
    const x = T.randn([4, 2, 3], { generator: g });
    const out = (mod: T.nn.GRU | T.nn.LSTM) => mod.forward(x)[0].data();
    m.eval();
    assert.equal(await out(m), await out(plain), `${Cls.name}: eval mode is dropout-free`);
    m.train();
    assert.not.equal(await out(m), await out(plain), `${Cls.name}: training mode drops`);
    // One layer: nothing between layers, so training mode changes nothing (torch warns and does the same).
    const single = new Cls(3, 8, { dropout: 0.5, generator: g });
    const singlePlain = new Cls(3, 8);
    singlePlain.loadStateDict(single.stateDict());
    assert.equal(await out(single), await out(singlePlain), `${Cls.name}: one layer`);
  }
});

s('bidirectional outputs have 2H features and the state 2 * layers rows; the reverse pass ends at t = 0', async () => {
  const m = new T.nn.GRU(3, 4, { numLayers: 2, bidirectional: true });
  const x = T.randn([5, 2, 3]);
  const [out, hN] = m.forward(x);
  assert.equal(out.shape, [5, 2, 8]);
  assert.equal(hN.shape, [4, 2, 4]);
  // Last layer: forward direction's final state is out[T-1, :, :H], the reverse one's is out[0, :, H:].
  assert.equal(await T.select(hN, 0, 2).data(), await T.slice(T.select(out, 0, 4), 1, 0, 4).data());
  assert.equal(await T.select(hN, 0, 3).data(), await T.slice(T.select(out, 0, 0), 1, 4, 8).data());
});

s('bad settings and unknown options are errors naming the class and the setting', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new T.nn.GRU(-1, 4), /GRU: inputSize must be an integer >= 0, got -1/],
    [() => new T.nn.LSTM(3, 2.5), /LSTM: hiddenSize must be an integer >= 1, got 2.5/],
    [() => new T.nn.GRU(3, 4, { numLayers: 0 }), /GRU: numLayers must be an integer >= 1/],
    [() => new T.nn.LSTM(3, 4, { dropout: 1.5 }), /LSTM: dropout must be in \[0, 1\], got 1.5/],
    [() => new T.nn.GRU(3, 4, { num_layers: 2 } as never), /GRU: unknown option 'num_layers'; Tessera calls it numLayers/],
    [() => new T.nn.GRU(3, 4, { bidirectionnal: true } as never), /did you mean 'bidirectional'/],
    [() => new T.nn.GRUCell(3, 4, { batchFirst: true } as never), /GRUCell: unknown option 'batchFirst'/],
    [() => new T.nn.TransformerEncoderLayer(8, 3), /MultiheadAttention: embedDim 8 must be divisible by numHeads 3/],
    [() => new T.nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as never }), /TransformerEncoderLayer: activation must be 'relu' or 'gelu'/],
    [() => new T.nn.TransformerEncoderLayer(8, 2, { dim_feedforward: 16 } as never), /Tessera calls it dimFeedforward/],
    [() => new T.nn.TransformerEncoderLayer(8, 2, { dropout: -0.1 }), /TransformerEncoderLayer: dropout must be in \[0, 1\]/],
    [() => new T.nn.MultiheadAttention(8, 2, { kdim: 0 }), /MultiheadAttention: kdim must be an integer >= 1, got 0/],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
});

s('the state must have [layers * directions, B, H] rows', () => {
  const m = new T.nn.LSTM(3, 4, { bidirectional: true });
  const h = T.zeros([1, 2, 4]);
  assert.throws(() => m.forward(T.zeros([5, 2, 3]), [h, h]), /LSTM: initial state must be two \[2, 2, 4\] tensors/);
});

s('lstmLayer: bad input is an error naming the op, the shapes, dtypes and backend', () => {
  const w = { weightIh: T.zeros([8, 3]), weightHh: T.zeros([8, 2]) };
  const x = T.zeros([4, 5, 3]);
  throwsWith(() => T.lstmLayer(T.zeros([4, 5, 2]), w), 'lstmLayer: expects x [T, B, in]', 'float32[4, 5, 2] on cpu', 'float32[8, 3] on cpu');
  throwsWith(() => T.lstmLayer(T.zeros([5, 4, 3]), w, { batchFirst: true, h0: T.zeros([4, 2]) }), 'lstmLayer: h0 must be [B, H] = [5, 2]', 'float32[4, 2]');
  throwsWith(() => T.lstmLayer(T.zeros([0, 5, 3]), w), 'lstmLayer: expects x [T, B, in] with T >= 1', 'float32[0, 5, 3]');
  throwsWith(() => T.lstmLayer(x, { ...w, weightHh: T.zeros([6, 2]) }), 'lstmLayer: weightHh must be [4H, H]', 'float32[6, 2] on cpu');
  throwsWith(() => T.lstmLayer(x, { ...w, weightIh: T.zeros([6, 3]) }), 'lstmLayer: weightIh must be [4H, in] = [8, in]', 'float32[6, 3]');
  throwsWith(() => T.lstmLayer(x, { ...w, biasHh: T.zeros([4]) }), 'lstmLayer: biasHh must be [4H] = [8]', 'float32[4] on cpu');
  throwsWith(() => T.lstmLayer(x, w, { c0: T.zeros([5, 3]) }), 'lstmLayer: c0 must be [B, H] = [5, 2]', 'float32[5, 3]');
  throwsWith(() => T.lstmLayer(T.zeros([4, 5, 3], { dtype: 'int32' }), w), 'lstmLayer: expects float32 tensors', 'int32[4, 5, 3] on cpu');
  throwsWith(() => T.lstmLayer(x.to('reference'), w), 'lstmLayer: tensors are on different backends', 'on reference', 'on cpu');
  throwsWith(() => T.lstmLayer(x, w, { hidden: T.zeros([5, 2]) } as never), "lstmLayer: unknown option 'hidden'");
  throwsWith(() => T.lstmLayer(x, { ...w, bias: T.zeros([8]) } as never), "lstmLayer: unknown option 'bias'");
});

s('lstmLayer: T = 1 steps carry the state exactly as one call over the sequence', async () => {
  const g = new T.Rng(5);
  const m = new T.nn.LSTM(3, 6, { generator: g });
  const w = m.layers[0];
  const x = T.randn([4, 2, 3], { generator: g });
  const whole = T.lstmLayer(x, w);
  let state: { h0?: T.Tensor; c0?: T.Tensor } = {};
  const steps: T.Tensor[] = [];
  for (let t = 0; t < 4; t++) {
    const r = T.lstmLayer(T.slice(x, 0, t, t + 1), w, state);
    steps.push(r.h);
    state = { h0: r.h, c0: r.c };
  }
  assertNear(await T.stack(steps, 0).data(), await whole.output.data());
  assertNear(await state.c0!.data(), await whole.c.data());
});

function assertNear(a: ArrayLike<number>, b: ArrayLike<number>): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `element ${i}: ${a[i]} vs ${b[i]}`);
}

s.run();
