// mathjs as an independent oracle for small matmul, reductions and elementwise cases.
import { suite } from 'uvu';
import * as math from 'mathjs';
import { T, backendsUnderTest, assertClose, rng } from './helpers.js';

const backends = await backendsUnderTest();
const s = suite('mathjs oracle');

const randMat = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => Math.fround(rng.normal())));

for (const b of backends) {
  s(`matmul, sums and elementwise vs mathjs (${b})`, async () => {
    const A = randMat(5, 7), B = randMat(7, 3);
    const a = T.tensor(A, { backend: b }), bt = T.tensor(B, { backend: b });
    const expected = math.multiply(A, B) as number[][];
    assertClose(await T.matmul(a, bt).data(), expected.flat(), `matmul on ${b}`);
    assertClose(await T.sum(a, 1).data(), A.map((r) => math.sum(r)), `row sums on ${b}`);
    assertClose(await T.sum(a, 0).data(), (math.transpose(A) as number[][]).map((r) => math.sum(r)), `column sums on ${b}`);
    assertClose(await T.std(a, 1).data(), A.map((r) => math.std(r) as unknown as number), `std on ${b}`);
    assertClose(await T.max(a, 1).data(), A.map((r) => math.max(r)), `max on ${b}`);
    assertClose(await T.exp(a).data(), (math.map(A, (v: number) => Math.exp(v)) as number[][]).flat(), `exp on ${b}`);
    assertClose(await T.tanh(a).data(), A.flat().map((v) => math.tanh(v)), `tanh on ${b}`);
    assertClose(await T.transpose(a).data(), (math.transpose(A) as number[][]).flat(), `transpose on ${b}`);
  });
}
s.run();
