// Every differentiable op's gradient against float64 central differences.
import { suite } from 'uvu';
import { gradcheck } from './helpers.js';
import { cases } from './cases.js';

const s = suite('gradcheck');
for (const c of cases) {
  if (c.grad === false) continue;
  s(c.name, async () => { await gradcheck(c.name, c.inputs, c.fn); });
}
s.run();
