// One table of op cases, used both by the conformance suite (every backend vs
// the reference) and by the gradient checks (reference64 vs finite differences).
import { T, InputSpec, OpCase } from './helpers.js';
type Tensor = T.Tensor;

export type { OpCase };

const n = (shape: number[], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, ...extra });

const unaryCases: [string, (x: Tensor) => Tensor, InputSpec['kind']?][] = [
  ['neg', T.neg], ['exp', T.exp], ['log', T.log, 'positive'], ['log1p', T.log1p, 'positive'], ['sqrt', T.sqrt, 'positive'],
  ['rsqrt', T.rsqrt, 'positive'], ['abs', T.abs], ['tanh', T.tanh], ['sigmoid', T.sigmoid], ['relu', T.relu],
  ['leakyRelu', (x) => T.leakyRelu(x, 0.1)], ['elu', (x) => T.elu(x, 0.7)], ['gelu', T.gelu], ['softplus', T.softplus],
  ['sin', T.sin], ['cos', T.cos], ['square', T.square], ['reciprocal', T.reciprocal, 'positive'],
];

export const cases: OpCase[] = [
  ...unaryCases.map(([name, f, kind]): OpCase => ({ name, inputs: [n([3, 4], { kind, layout: 'T' })], fn: f })),
  { name: 'sign', inputs: [n([5])], fn: T.sign, grad: false },
  { name: 'floor', inputs: [n([5])], fn: (x) => T.floor(T.mul(x, 3)), grad: false },
  { name: 'add broadcast', inputs: [n([2, 3, 4]), n([3, 1])], fn: T.add },
  { name: 'sub scalar', inputs: [n([2, 3])], fn: (a) => T.sub(1.5, a) },
  { name: 'mul views', inputs: [n([3, 4], { layout: 'T' }), n([3, 4], { layout: 'step' })], fn: T.mul },
  { name: 'div', inputs: [n([2, 3]), n([3], { kind: 'positive' })], fn: T.div },
  { name: 'pow', inputs: [n([2, 3], { kind: 'positive' }), n([2, 3])], fn: T.pow },
  { name: 'minimum', inputs: [n([4, 3]), n([3])], fn: T.minimum },
  { name: 'maximum', inputs: [n([4, 3]), n([4, 1])], fn: T.maximum },
  { name: 'comparisons', inputs: [n([3, 4]), n([4])], fn: (a, b) => T.add(T.add(T.lt(a, b), T.mul(T.ge(a, b), 2)), T.mul(T.eq(a, a), 4)), grad: false },
  { name: 'where', inputs: [n([3, 4]), n([3, 4]), n([4])], fn: (c, a, b) => T.where(T.gt(c, 0), a, b) },
  { name: 'clamp', inputs: [n([3, 5])], fn: (x) => T.clamp(x, -0.5, 0.7) },
  { name: 'int add', inputs: [n([6], { kind: 'int', high: 50 }), n([6], { kind: 'int', high: 50 })], fn: (a, b) => T.cast(T.add(a, b), 'float32'), grad: false },
  { name: 'sum all', inputs: [n([3, 4, 2])], fn: (x) => T.sum(x) },
  { name: 'sum axes 0,2 keepdims', inputs: [n([3, 4, 2])], fn: (x) => T.sum(x, [0, 2], true) },
  { name: 'sum view', inputs: [n([4, 5], { layout: 'T' })], fn: (x) => T.sum(x, 1) },
  { name: 'sum empty', inputs: [n([0, 3])], fn: (x) => T.sum(x, 0), grad: false },
  { name: 'mean', inputs: [n([3, 4])], fn: (x) => T.mean(x, -1) },
  { name: 'max', inputs: [n([3, 4, 2])], fn: (x) => T.max(x, 1) },
  { name: 'min keepdims', inputs: [n([3, 4])], fn: (x) => T.min(x, 0, true) },
  { name: 'prod', inputs: [n([3, 4], { kind: 'positive' })], fn: (x) => T.prod(x, 1) },
  { name: 'argmax', inputs: [n([4, 5])], fn: (x) => T.cast(T.argmax(x, 1), 'float32'), grad: false },
  { name: 'argmin', inputs: [n([4, 5])], fn: (x) => T.cast(T.argmin(x, 0), 'float32'), grad: false },
  { name: 'var', inputs: [n([4, 5])], fn: (x) => T.variance(x, 1) },
  { name: 'std', inputs: [n([4, 5])], fn: (x) => T.std(x, [0, 1]) },
  { name: 'logsumexp', inputs: [n([3, 5])], fn: (x) => T.logsumexp(x, 1) },
  { name: 'matmul 2d', inputs: [n([3, 4]), n([4, 5])], fn: (a, b) => T.matmul(a, b) },
  { name: 'matmul transposed views', inputs: [n([3, 4], { layout: 'T' }), n([4, 2], { layout: 'T' })], fn: (a, b) => T.matmul(a, b) },
  { name: 'matmul batched broadcast', inputs: [n([2, 1, 3, 4]), n([3, 4, 2])], fn: (a, b) => T.matmul(a, b) },
  { name: 'matmul vector', inputs: [n([4]), n([4, 3])], fn: (a, b) => T.matmul(a, b) },
  { name: 'matmul alpha', inputs: [n([2, 3]), n([3, 2])], fn: (a, b) => T.matmul(a, b, { alpha: 0.25 }) },
  { name: 'matmul empty K', inputs: [n([2, 0]), n([0, 3])], fn: (a, b) => T.matmul(a, b), grad: false },
  { name: 'linear', inputs: [n([3, 4]), n([5, 4]), n([5])], fn: (x, w, b) => T.linear(x, w, { bias: b }) },
  ...(['relu', 'gelu', 'tanh', 'sigmoid'] as const).map((act): OpCase => ({
    name: `linear ${act} alpha`, inputs: [n([2, 3, 4]), n([5, 4]), n([5])],
    fn: (x, w, b) => T.linear(x, w, { bias: b, alpha: 0.5, activation: act }),
  })),
  { name: 'reshape of view', inputs: [n([4, 6], { layout: 'T' })], fn: (x) => T.mul(T.reshape(x, [3, 2, 4]), 2) },
  { name: 'permute', inputs: [n([2, 3, 4])], fn: (x) => T.mul(T.permute(x, [2, 0, 1]), 1) },
  { name: 'slice step', inputs: [n([5, 7])], fn: (x) => T.mul(T.slice(x, 1, 1, 6, 2), 1) },
  { name: 'select', inputs: [n([3, 4])], fn: (x) => T.mul(T.select(x, 0, -1), 1) },
  { name: 'expand', inputs: [n([3, 1])], fn: (x) => T.mul(T.expand(x, [2, 3, 4]), 1) },
  { name: 'squeeze unsqueeze flatten', inputs: [n([3, 1, 4])], fn: (x) => T.mul(T.flatten(T.unsqueeze(T.squeeze(x, 1), 0)), 1) },
  { name: 'gather', inputs: [n([3, 5]), n([3, 4], { kind: 'int', high: 5 })], fn: (x, i) => T.gather(x, 1, i) },
  { name: 'indexSelect', inputs: [n([5, 3]), n([6], { kind: 'int', high: 5 })], fn: (x, i) => T.indexSelect(x, 0, i) },
  { name: 'scatterAdd', inputs: [n([4, 3]), n([5, 3], { kind: 'int', high: 4 }), n([5, 3])], fn: (x, i, s) => T.scatterAdd(x, 0, i, s) },
  { name: 'maskedFill', inputs: [n([3, 4]), n([4])], fn: (x, m) => T.maskedFill(x, T.gt(m, 0), -2) },
  { name: 'concat', inputs: [n([2, 3]), n([2, 1]), n([2, 2])], fn: (a, b, c) => T.concat([a, b, c], 1) },
  { name: 'stack', inputs: [n([2, 3]), n([2, 3])], fn: (a, b) => T.stack([a, b], 1) },
  // Five pieces, joined in halves: gradients through a deeper join (its values are checked in mathjs.test.ts).
  { name: 'concat (5 pieces)', inputs: [n([1, 2]), n([2, 2]), n([1, 2]), n([3, 2]), n([1, 2])], fn: (a, b, c, d, e) => T.concat([a, b, c, d, e], 0) },
  { name: 'split/chunk', inputs: [n([5, 4])], fn: (x) => { const [a, b] = T.split(x, [2, 3], 0); const [c] = T.chunk(b, 2, 1); return T.add(T.sum(a), T.sum(c)); } },
  { name: 'pad', inputs: [n([2, 3])], fn: (x) => T.pad(x, [1, 2, 0, 1], 0.5) },
  { name: 'softmax', inputs: [n([3, 5])], fn: (x) => T.softmax(x, 1) },
  { name: 'logSoftmax axis 0', inputs: [n([3, 5])], fn: (x) => T.logSoftmax(x, 0) },
  { name: 'oneHot', inputs: [n([5], { kind: 'int', high: 4 })], fn: (i) => T.oneHot(i, 4), grad: false },
  { name: 'crossEntropy', inputs: [n([4, 3]), n([4], { kind: 'int', high: 3 })], fn: (x, y) => T.crossEntropy(x, y) },
  { name: 'crossEntropy weighted smoothed', inputs: [n([5, 3]), n([5], { kind: 'int', high: 3 }), n([3], { kind: 'positive', noGrad: true }), n([5], { kind: 'positive', noGrad: true })],
    fn: (x, y, cw, sw) => T.crossEntropy(x, y, { classWeights: cw, sampleWeights: sw, labelSmoothing: 0.1 }) },
  { name: 'nll sum', inputs: [n([4, 3]), n([4], { kind: 'int', high: 3 })], fn: (x, y) => T.nll(T.logSoftmax(x), y, { reduction: 'sum' }) },
  { name: 'mse', inputs: [n([3, 4]), n([3, 4])], fn: (a, b) => T.mse(a, b) },
  { name: 'bceWithLogits', inputs: [n([3, 4]), n([3, 4], { kind: 'unit' })], fn: (a, b) => T.bceWithLogits(a, b, { posWeight: 2 }) },
  { name: 'huber', inputs: [n([3, 4]), n([3, 4])], fn: (a, b) => T.huber(a, b, 0.8) },
];
