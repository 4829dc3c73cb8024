// Modules written the PyTorch way: modules, arrays of modules and parameters assigned to
// properties register themselves, the module is called with call(), prints as a tree, and trains.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { T } from './helpers.js';

const s = suite('nn: PyTorch-style modules');

class Mlp extends T.nn.Module {
  fc1 = new T.nn.Linear(2, 16);
  blocks = [new T.nn.Linear(16, 16), new T.nn.Linear(16, 16)];
  head = new T.nn.Linear(16, 2);
  scale = T.ones([2]).requiresGrad_();
  constant = T.ones([2]); // no grad: not a parameter
  forward(x: T.Tensor): T.Tensor {
    let h = T.tanh(this.fc1.call(x));
    for (const b of this.blocks) h = T.tanh(b.forward(h));
    return T.mul(this.head.call(h), this.scale);
  }
}

s('assigned modules, arrays of modules and grad-requiring tensors register under their property names', () => {
  const m = new Mlp();
  const names = m.namedParameters().map(([n]) => n);
  assert.equal(names, ['scale', 'fc1.weight', 'fc1.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'head.weight', 'head.bias']);
  assert.is(m.numParameters(), 2 + (2 * 16 + 16) + 2 * (16 * 16 + 16) + (16 * 2 + 2));
  assert.equal(Object.keys(m.stateDict()).length, names.length);
  // Registered once: reading the tree again adds nothing.
  assert.is(m.parameters().length, names.length);
  m.eval();
  assert.is(m.blocks[1].training, false, 'train/eval reach assigned children');
});

s('a PyTorch-style module trains', () => {
  T.manualSeed(0);
  const m = new Mlp();
  const x = T.randn([64, 2]);
  const y = T.tensor(Array.from({ length: 64 }, (_, i) => i % 2), { dtype: 'int32' });
  const opt = new T.optim.Adam(m.parameters(), { lr: 0.02 });
  const lossAt = () => T.noGrad(() => T.crossEntropy(m.call(x), y).item());
  const before = lossAt();
  for (let i = 0; i < 30; i++) T.scope(() => { opt.zeroGrad(); T.crossEntropy(m.call(x), y).backward(); opt.step(); });
  assert.ok(lossAt() < 0.8 * before, `loss ${before} -> ${lossAt()}`);
});

s('toString / console.log print the tree with shapes; summary lists parameters per module', () => {
  const m = new Mlp();
  const text = m.toString();
  assert.ok(text.startsWith('Mlp(scale [2],\n  (fc1): Linear(weight [16, 2], bias [16])'), text);
  assert.ok(text.includes('  (blocks.1): Linear(weight [16, 16], bias [16])') && text.endsWith('(628 parameters)'), text);
  assert.is(inspect(m), text);
  const summary = m.summary();
  assert.ok(summary.includes('fc1') && summary.includes('Linear') && summary.includes('total 628 parameters'), summary);
});

s.run();
