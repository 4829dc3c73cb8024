// End to end: a 2-layer MLP with Adam on two moons reaches over 95% accuracy,
// and the memory report stays flat over 100 training steps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest } from './helpers.js';
import { trainMoons } from '../examples/moons.js';
import { twoMoons } from '../src/data/synthetic.js';

const backends = (await backendsUnderTest()).filter((b) => b !== 'reference');
const s = suite('mlp');

for (const b of backends.length ? backends : ['reference']) {
  s(`two moons MLP reaches > 95% on ${b}`, async () => {
    if (!(await T.initBackend(b)).syncRead) return; // async backends are covered by their own suites
    const r = trainMoons({ backend: b, steps: 300 });
    assert.ok(r.accuracy > 0.95, `accuracy ${r.accuracy} on ${b}`);
    assert.is(r.backend, b);
  });
}

s('memory is flat over 100 training steps', async () => {
  await T.setBackend(backends.includes('cpu') ? 'cpu' : 'reference');
  const data = twoMoons(64, 0.1, 1);
  const x = T.fromArray(data.x, [64, 2]), y = T.fromArray(data.y, [64]);
  const model = new T.nn.Sequential(new T.nn.Linear(2, 8, { activation: 'relu' }), new T.nn.Linear(8, 2));
  const opt = new T.optim.Adam(model.parameters(), { lr: 0.01 });
  const step = () => T.scope(() => {
    opt.zeroGrad();
    const l = T.crossEntropy(model.forward(x), y);
    l.backward();
    opt.step();
  });
  step(); step();
  const name = x.backend.name;
  const before = T.memory()[name];
  for (let i = 0; i < 100; i++) step();
  const after = T.memory()[name];
  assert.equal(after, before, `memory grew: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
});

s.run();
