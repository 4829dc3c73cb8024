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
  throwsWith(() => T.std(x, 1, { unbiased: false } as never), "std: unknown option 'unbiased'");
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

s('creation ops refuse unknown option keys and dtypes, suggesting the closest key or Tessera name', () => {
  throwsWith(() => T.zeros([2], { requires_grad: true } as never), "zeros: unknown option 'requires_grad'", 'requiresGrad');
  throwsWith(() => T.ones([2], { dtyp: 'int32' } as never), "ones: unknown option 'dtyp'", "'dtype'");
  throwsWith(() => T.full([2], 3, { device: 'cpu' } as never), "full: unknown option 'device'", 'Tessera calls it backend');
  throwsWith(() => T.rand([2], { hi: 2 } as never), "rand: unknown option 'hi'", "'high'");
  throwsWith(() => T.randn([2], { sd: 2 } as never), "randn: unknown option 'sd'", "'std'");
  throwsWith(() => T.randint(0, 3, [2], { generater: new T.Rng(1) } as never), "randint: unknown option 'generater'", "'generator'");
  throwsWith(() => T.arange(0, 3, 1, { dtpe: 'int32' } as never), "arange: unknown option 'dtpe'");
  throwsWith(() => T.linspace(0, 1, 3, { backen: 'cpu' } as never), "linspace: unknown option 'backen'", "'backend'");
  throwsWith(() => T.eye(2, 2, { requiresgrad: true } as never), "eye: unknown option 'requiresgrad'", "'requiresGrad'");
  throwsWith(() => T.tensor([1, 2], { shap: [2] } as never), "tensor: unknown option 'shap'", "'shape'");
  throwsWith(() => T.fromArray([1, 2], [2], { dtype: 'int64' } as never), "fromArray: dtype must be 'float32' or 'int32'");
  throwsWith(() => T.zeros([2], { dtype: 'float16' } as never), "zeros: dtype must be 'float32' or 'int32'");
  // Options the op has are taken, and creation ops called inside others do not see the caller's extra keys.
  assert.equal(T.rand([2], { low: 1, high: 2, generator: new T.Rng(1), requiresGrad: true, ...o }).requiresGrad, true);
  assert.equal(T.tensor([[1, 2]], { shape: [1, 2], dtype: 'int32', ...o }).dtype, 'int32');
});

s('nn modules refuse unknown option keys and bad settings, naming the class and the setting', () => {
  throwsWith(() => new T.nn.Linear(2, 3, { bais: false } as never), "Linear: unknown option 'bais'", "'bias'");
  throwsWith(() => new T.nn.Linear(-2, 3), 'Linear: inFeatures must be an integer >= 0, got -2');
  throwsWith(() => new T.nn.Linear(2, 1.5), 'Linear: outFeatures must be an integer >= 0, got 1.5');
  throwsWith(() => new T.nn.Bilinear(2, 2, 3, { biass: true } as never), "Bilinear: unknown option 'biass'");
  throwsWith(() => new T.nn.Embedding(5, 3, { padding_idx: 0 } as never), "Embedding: unknown option 'padding_idx'", 'paddingIdx');
  throwsWith(() => new T.nn.Embedding(-5, 3), 'Embedding: numEmbeddings must be an integer >= 0');
  throwsWith(() => new T.nn.Dropout(1.5), 'Dropout: p must be in [0, 1], got 1.5');
  throwsWith(() => new T.nn.Dropout(0.5, { inplace: true } as never), "Dropout: unknown option 'inplace'");
  throwsWith(() => new T.nn.LayerNorm(4, { elementwise_affine: false } as never), "LayerNorm: unknown option 'elementwise_affine'", 'elementwiseAffine');
  throwsWith(() => new T.nn.LayerNorm([4, -1]), 'LayerNorm: each size of normalizedShape must be an integer >= 0, got -1');
  throwsWith(() => new T.nn.RMSNorm(4, { epsilon: 1e-6 } as never), "RMSNorm: unknown option 'epsilon'", "'eps'");
  throwsWith(() => new T.nn.GroupNorm(2, 4, { afine: true } as never), "GroupNorm: unknown option 'afine'", "'affine'");
  throwsWith(() => new T.nn.BatchNorm2d(4, { track_running_stats: false } as never), "BatchNorm2d: unknown option 'track_running_stats'", 'trackRunningStats');
  throwsWith(() => new T.nn.BatchNorm1d(4, { momentum: 2 }), 'BatchNorm1d: momentum must be in [0, 1], got 2');
  throwsWith(() => new T.nn.BatchNorm1d(-4), 'BatchNorm1d: numFeatures must be an integer >= 0, got -4');
  throwsWith(() => new T.nn.Conv2d(1, 2, 3, { strides: 2 } as never), "Conv2d: unknown option 'strides'", "'stride'");
  throwsWith(() => new T.nn.Conv3d(-1, 2, 3), 'Conv3d: inChannels must be an integer >= 0, got -1');
  throwsWith(() => new T.nn.MultiHeadAttention(8, 2, { batchFirst: true } as never), "MultiHeadAttention: unknown option 'batchFirst'");
  throwsWith(() => new T.nn.MultiHeadAttention(8, 2, { dropout: 2 }), 'MultiHeadAttention: dropout must be in [0, 1], got 2');
  throwsWith(() => new T.nn.LSTMCell(3, 0), 'LSTMCell: hiddenSize must be an integer >= 1, got 0');
});

s('schedulers refuse unknown option keys and bad settings', () => {
  const opt = new T.optim.SGD(new T.nn.Linear(2, 2, o).parameters(), { lr: 0.1, momentum: 0.9 });
  throwsWith(() => new T.optim.OneCycleLR(opt, 0.1, { total_steps: 10 } as never), "OneCycleLR: unknown option 'total_steps'", 'totalSteps');
  throwsWith(() => new T.optim.OneCycleLR(opt, 0.1, {}), 'OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
  throwsWith(() => new T.optim.OneCycleLR(opt, 0.1, { totalSteps: 10, pctStart: 1.5 }), 'OneCycleLR: pctStart must be in [0, 1]');
  throwsWith(() => new T.optim.ReduceLROnPlateau(opt, { patiense: 2 } as never), "ReduceLROnPlateau: unknown option 'patiense'", "'patience'");
  throwsWith(() => new T.optim.ReduceLROnPlateau(opt, { factor: 1 }), 'ReduceLROnPlateau: factor must be in [0, 1)');
  throwsWith(() => new T.optim.ReduceLROnPlateau(opt, { mode: 'maximum' as never }), "ReduceLROnPlateau: mode must be 'min' or 'max'");
  throwsWith(() => new T.optim.LinearWarmup(opt, 5, { start_factor: 0.1 } as never), "LinearWarmup: unknown option 'start_factor'", 'startFactor');
  throwsWith(() => new T.optim.MultiStepLR(opt, [3, 0]), 'MultiStepLR: each milestone must be a positive integer, got 0');
  throwsWith(() => new T.optim.RMSprop(opt.paramGroups[0].params, { alpha: -1 }), 'RMSprop: alpha must be in [0, Infinity], got -1');
  throwsWith(() => new T.optim.Adagrad(opt.paramGroups[0].params, { lr_decay: 0.1 } as never), "Adagrad: unknown option 'lr_decay'", 'lrDecay');
  const adam = new T.optim.Adam(opt.paramGroups[0].params, { lr: 0.1 });
  new T.optim.OneCycleLR(adam, 0.1, { totalSteps: 10 }); // cycles Adam's beta1
  assert.equal(adam.paramGroups[0].beta1, 0.95);
  const plain = new T.optim.Adagrad(opt.paramGroups[0].params);
  throwsWith(() => new T.optim.OneCycleLR(plain, 0.1, { totalSteps: 10 }), 'OneCycleLR: cycleMomentum needs an optimizer with momentum or beta1');
});

s.run();
