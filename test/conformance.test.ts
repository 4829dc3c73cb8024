// Every op on every backend present, against the float64 reference, forward
// and backward, on fresh random inputs (seed printed on failure).
import { suite } from 'uvu';
import { backendsUnderTest, checkCaseOnBackend } from './helpers.js';
import { cases } from './cases.js';

const backends = await backendsUnderTest();
const s = suite('conformance');
for (const c of cases) {
  for (const b of backends) s(`${c.name} on ${b}`, () => checkCaseOnBackend(c, b));
}
s.run();
