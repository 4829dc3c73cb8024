// mathjs as an independent oracle for small matmul, reductions and elementwise cases.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
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

  // concat and stack place their pieces by offsets computed in TS (the reference runs the same placement), so
  // their values need an independent oracle: several pieces of unequal sizes, one of them empty, along each axis.
  s(`concat and stack of several pieces vs mathjs (${b})`, async () => {
    const widths = [1, 3, 0, 2, 1, 4];
    const cols = widths.map((w) => randMat(2, w));
    const colTensors = cols.map((P, i) => (widths[i] === 0 ? T.zeros([2, 0], { backend: b }) : T.tensor(P, { backend: b })));
    const joined = math.concat(...(cols.filter((_, i) => widths[i] > 0) as unknown as math.Matrix[]), 1) as unknown as number[][];
    const byCols = T.concat(colTensors, 1);
    assert.equal(byCols.shape, [2, 11]);
    assertClose(await byCols.data(), joined.flat(), `concat along axis 1 on ${b}`);
    const rows = [1, 2, 1, 3, 1].map((r) => randMat(r, 3));
    assertClose(await T.concat(rows.map((P) => T.tensor(P, { backend: b })), 0).data(), rows.flat(2), `concat along axis 0 on ${b}`);
    const same = [0, 1, 2].map(() => randMat(2, 3));
    const stacked = T.stack(same.map((P) => T.tensor(P, { backend: b })), 1);
    assert.equal(stacked.shape, [2, 3, 3]);
    assertClose(await stacked.data(), [0, 1].flatMap((i) => same.flatMap((P) => P[i])), `stack along axis 1 on ${b}`);
  });
}
s.run();
