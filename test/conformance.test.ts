// Every op on every backend present, against the float64 reference, forward
// and backward, on fresh random inputs (seed printed on failure).
import { suite } from 'uvu';
import { T, backendsUnderTest, makeInput, randomValues, values, assertClose } from './helpers.js';
import { cases } from './cases.js';

const backends = await backendsUnderTest();
const s = suite('conformance');

for (const c of cases) {
  for (const b of backends) {
    s(`${c.name} on ${b}`, async () => {
      const vals = c.inputs.map((spec) => randomValues(spec));
      const run = (backend: string) => {
        const ins = c.inputs.map((spec, i) => makeInput(spec, vals[i], backend, c.grad !== false));
        const out = c.fn(...ins);
        return { ins, out };
      };
      const ref = run('reference64');
      const got = run(b);
      if (got.out.backend.name !== b) throw new Error(`${c.name}: result landed on ${got.out.backend.name}, not ${b}`);
      const rtol = c.rtol ?? 1e-4;
      assertClose(await values(got.out), await values(ref.out), `${c.name} forward on ${b}`, rtol, 1e-5);
      if (c.grad === false) return;
      const w = randomValues({ shape: [...ref.out.shape] });
      for (const side of [ref, got]) {
        const wt = makeInput({ shape: [...ref.out.shape] }, w, side.out.backend.name, false);
        T.sum(T.mul(side.out, wt)).backward();
      }
      for (let i = 0; i < c.inputs.length; i++) {
        if (!ref.ins[i].requiresGrad) continue;
        const gr = ref.ins[i].grad, gg = got.ins[i].grad;
        if (!gr) continue;
        if (!gg) throw new Error(`${c.name}: no gradient for input ${i} on ${b}`);
        assertClose(await values(gg), await values(gr), `${c.name} gradient ${i} on ${b}`, rtol * 10, 1e-4);
      }
    });
  }
}

s.run();
