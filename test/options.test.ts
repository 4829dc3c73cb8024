// Unknown option keys are errors naming the op (or class) and the key, with the closest valid key suggested.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, throwsWith } from './helpers.js';

const s = suite('options');
const o = { backend: 'reference' };

s('ops refuse unknown option keys and suggest the closest', () => {
  const x = T.ones([2, 3], o), t = T.tensor([0, 2], { ...o, dtype: 'int32' });
  throwsWith(() => T.crossEntropy(x, t, { labelSmoothng: 0.1 } as never), "crossEntropy: unknown option 'labelSmoothng'", "did you mean 'labelSmoothing'");
  throwsWith(() => T.nll(T.logSoftmax(x, 1), t, { reductin: 'sum' } as never), "nll: unknown option 'reductin'", "'reduction'");
  throwsWith(() => T.bceWithLogits(x, x, { pos_weight: 2 } as never), "bceWithLogits: unknown option 'pos_weight'", "'posWeight'");
  throwsWith(() => T.matmul(x, T.ones([3, 2], o), { scale: 2 } as never), "matmul: unknown option 'scale'", "'alpha'");
  throwsWith(() => T.linear(x, T.ones([4, 3], o), { activaton: 'relu' } as never), "linear: unknown option 'activaton'", "'activation'");
  throwsWith(() => T.std(x, 1, { unbiased: false } as never), "var: unknown option 'unbiased'");
  throwsWith(() => T.cmd(x, x, { K: 3 } as never), "cmd: unknown option 'K'", "'k'");
  const img = T.ones([1, 1, 4, 4], o);
  throwsWith(() => T.conv2d(img, T.ones([1, 1, 3, 3], o), { strides: 2 } as never), "conv2d: unknown option 'strides'", "'stride'");
  throwsWith(() => T.maxPool2d(img, 2, { kernel: 2 } as never), "maxPool2d: unknown option 'kernel'");
  throwsWith(() => T.batchNorm(img, { trainng: true } as never), "batchNorm: unknown option 'trainng'", "'training'");
  throwsWith(() => T.matmul(x, T.ones([3, 2], o), 2 as never), 'matmul: options must be an object');
  throwsWith(() => T.norm(x, { axis: 1 } as never), "norm: unknown option 'axis'", "'axes'");
  throwsWith(() => T.normalize(x, { dim: 1 } as never), "normalize: unknown option 'dim'");
  throwsWith(() => T.cosineSimilarity(x, x, { dim: 1 } as never), "cosineSimilarity: unknown option 'dim'");
  throwsWith(() => T.smoothL1(x, x, { delta: 1 } as never), "smoothL1: unknown option 'delta'");
  throwsWith(() => T.klDiv(x, x, { log_target: true } as never), "klDiv: unknown option 'log_target'", "'logTarget'");
  throwsWith(() => T.bce(x, x, { weights: x } as never), "bce: unknown option 'weights'", "'weight'");
  throwsWith(() => T.marginRanking(x, x, x, { margn: 1 } as never), "marginRanking: unknown option 'margn'", "'margin'");
  throwsWith(() => T.cosineEmbedding(x, x, T.ones([2], o), { margn: 1 } as never), "cosineEmbedding: unknown option 'margn'", "'margin'");
});

s('a key left undefined is the default, not an error', () => {
  const x = T.ones([2, 3], o);
  assert.equal(T.matmul(x, T.ones([3, 2], o), { alpha: undefined }).shape, [2, 2]);
});

s('optimizers: unknown keys, torch names and parameter groups', () => {
  const lin = new T.nn.Linear(2, 2, o);
  throwsWith(() => new T.optim.Adam(lin.parameters(), { betas: [0.9, 0.99] } as never), "Adam: unknown option 'betas'", 'beta1 and beta2');
  throwsWith(() => new T.optim.AdamW(lin.parameters(), { weight_decay: 0.1 } as never), "AdamW: unknown option 'weight_decay'", 'weightDecay');
  throwsWith(() => new T.optim.SGD(lin.parameters(), { momentom: 0.9 } as never), "SGD: unknown option 'momentom'", "'momentum'");
  throwsWith(() => new T.optim.SGD(lin.parameters(), { beta1: 0.9 } as never), "SGD: unknown option 'beta1'");
  throwsWith(() => new T.optim.SGD([{ params: lin.parameters(), lrr: 0.1 }] as never), "SGD parameter group 0: unknown option 'lrr'", "'lr'");
  // Tessera's own names, and per-group overrides of the optimizer's hyperparameters, are accepted.
  new T.optim.SGD([{ params: lin.parameters(), lr: 0.1, momentum: 0.5 }], { momentum: 0.9, nesterov: true });
  new T.optim.AdamW(lin.parameters(), { beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0, lrMult: 2 });
});

s('optimizers validate their settings, naming the class and the setting', () => {
  const lin = new T.nn.Linear(2, 2, o);
  const ps = lin.parameters();
  throwsWith(() => new T.optim.SGD(ps, { lr: -0.1 }), 'SGD', 'lr', '-0.1');
  throwsWith(() => new T.optim.Adam(ps, { beta1: 1 }), 'Adam', 'beta1', '[0, 1)');
  throwsWith(() => new T.optim.AdamW(ps, { beta2: -0.5 }), 'AdamW', 'beta2');
  throwsWith(() => new T.optim.Adam(ps, { eps: -1 }), 'Adam', 'eps');
  throwsWith(() => new T.optim.SGD(ps, { momentum: -1 }), 'SGD', 'momentum');
  throwsWith(() => new T.optim.SGD(ps, { weightDecay: -1e-4 }), 'SGD', 'weightDecay');
  throwsWith(() => new T.optim.SGD([{ params: ps, lr: -1 }]), 'SGD', 'lr');
  throwsWith(() => new T.optim.Adam([]), 'Adam', 'empty parameter list');
  throwsWith(() => new T.optim.Adam([...ps, ps[0]]), 'Adam', 'more than once');
  throwsWith(() => new T.optim.SGD([{ params: [ps[0]] }, { params: [ps[0]] }]), 'SGD', 'more than once');
  // Edges torch accepts: lr 0, beta 0, eps 0.
  new T.optim.Adam(ps, { lr: 0, beta1: 0, beta2: 0, eps: 0 });
});

s.run();
