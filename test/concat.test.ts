// concat and stack write each piece into its slab of one output (the backends' copy with a Placement). Their
// values are checked here against a plain row-major formula on fresh random inputs on every backend: several
// ranks, axes, piece counts, empty pieces, non-contiguous pieces (axes reversed, every other element) and
// int32; constant pad, which copies into the fill's interior the same way. Gradients are checked against finite differences through test/cases.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, backendsUnderTest, rng, seed } from './helpers.js';
import { denseStrides } from '../src/shape.js';

type Layout = 'dense' | 'reversed' | 'step';

/** A tensor of `shape` holding `vals` (row-major) on `backend`, stored with the given layout. */
function piece(vals: number[], shape: number[], dtype: 'float32' | 'int32', layout: Layout, backend: string): T.Tensor {
  const typed = (v: number[]) => (dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v));
  if (layout === 'reversed' && shape.length >= 2) {
    // Stored with the axes reversed, then permuted back: strides run backwards through the storage.
    const stored = [...shape].reverse(), storedStrides = denseStrides(stored), data = new Array<number>(vals.length);
    forEachIndex(shape, (idx, i) => { data[idx.reduceRight((o, c, d) => o + c * storedStrides[shape.length - 1 - d], 0)] = vals[i]; });
    return T.permute(T.fromArray(typed(data), stored, { backend, dtype }), shape.map((_, d) => shape.length - 1 - d));
  }
  if (layout === 'step' && shape.length >= 1) {
    const last = shape[shape.length - 1], data = new Array<number>(vals.length * 2).fill(-7);
    vals.forEach((v, i) => { data[Math.floor(i / last) * 2 * last + 2 * (i % last)] = v; });
    const stored = T.fromArray(typed(data), [...shape.slice(0, -1), 2 * last], { backend, dtype });
    return T.slice(stored, -1, 0, undefined, 2);
  }
  return T.fromArray(typed(vals), shape, { backend, dtype });
}

function forEachIndex(shape: number[], fn: (idx: number[], flat: number) => void): void {
  const n = shape.reduce((a, b) => a * b, 1), idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    fn(idx, i);
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
}

/** Row-major concatenation of pieces (row-major values with their shapes) along axis. */
function expectedConcat(vals: number[][], shapes: number[][], axis: number): number[] {
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((a, s) => a + s[axis], 0);
  const out: number[] = [];
  forEachIndex(shape, (idx) => {
    let k = 0, at = idx[axis];
    while (at >= shapes[k][axis]) { at -= shapes[k][axis]; k++; }
    const local = idx.map((c, d) => (d === axis ? at : c));
    out.push(vals[k][local.reduce((o, c, d) => o * shapes[k][d] + c, 0)]);
  });
  return out;
}

const s = suite('concat');
const backends = await backendsUnderTest();
const LAYOUTS: Layout[] = ['dense', 'reversed', 'step'];

for (const b of backends) {
  s(`concat of random pieces vs the row-major formula (${b}, seed ${seed})`, async () => {
    for (let trial = 0; trial < 40; trial++) {
      const rank = 1 + rng.int(4), axis = rng.int(rank), count = 1 + rng.int(6);
      const dtype = rng.int(3) === 0 ? 'int32' : 'float32';
      const base = Array.from({ length: rank }, () => 1 + rng.int(4));
      const shapes = Array.from({ length: count }, () => base.map((n, d) => (d === axis ? rng.int(4) : n)));
      const vals = shapes.map((sh) => Array.from({ length: sh.reduce((a, c) => a * c, 1) },
        () => (dtype === 'int32' ? rng.int(2001) - 1000 : rng.normal())));
      const layouts = shapes.map(() => LAYOUTS[rng.int(LAYOUTS.length)]);
      const pieces = shapes.map((sh, k) => piece(vals[k], sh, dtype, layouts[k], b));
      const what = `rank ${rank} axis ${axis} shapes ${JSON.stringify(shapes)} ${dtype} ${layouts.join(',')} on ${b}`;
      const out = T.concat(pieces, axis - (trial % 2 === 0 ? 0 : rank));  // negative axes too
      const shape = [...base];
      shape[axis] = shapes.reduce((a, sh) => a + sh[axis], 0);
      assert.equal(out.shape, shape, what);
      assert.is(out.dtype, dtype, what);
      const want = expectedConcat(vals, shapes, axis);
      const got = Array.from(await out.data());
      // Float32 values pass through unchanged: compare against their float32 rounding, exactly.
      assert.equal(got, dtype === 'int32' ? want : Array.from(Float32Array.from(want)), what);
    }
  });

  s(`stack of random pieces vs concat of unsqueezed pieces (${b})`, async () => {
    for (let trial = 0; trial < 10; trial++) {
      const rank = rng.int(4), axis = rng.int(rank + 1), count = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => rng.int(4));
      const size = shape.reduce((a, c) => a * c, 1);
      const vals = Array.from({ length: count }, () => Array.from({ length: size }, () => rng.normal()));
      const pieces = vals.map((v) => piece(v, shape, 'float32', LAYOUTS[rng.int(LAYOUTS.length)], b));
      const out = T.stack(pieces, axis);
      const withAxis = (n: number) => [...shape.slice(0, axis), n, ...shape.slice(axis)];
      const unsqueezed = withAxis(1);
      assert.equal(out.shape, withAxis(count), `stack shape on ${b}`);
      assert.equal(Array.from(await out.data()),
        Array.from(Float32Array.from(expectedConcat(vals, vals.map(() => unsqueezed), axis))), `stack axis ${axis} of ${JSON.stringify(shape)} on ${b}`);
    }
  });

  s(`concat is one tape node whose gradients are the pieces' slabs of the upstream gradient (${b})`, async () => {
    const a = T.randn([2, 3], { backend: b }).requiresGrad_(), c = T.randn([2, 1], { backend: b }).requiresGrad_();
    const e = T.zeros([2, 0], { backend: b }).requiresGrad_();
    const out = T.concat([a, e, c], 1);
    assert.is(out.node?.op, 'concat');
    assert.equal(out.node?.inputs, [a, e, c]);
    const w = T.randn([2, 4], { backend: b });
    T.sum(T.mul(out, w)).backward();
    const wv = Array.from(await w.data());
    assert.equal(Array.from(await a.grad!.data()), [0, 1, 2, 4, 5, 6].map((i) => wv[i]));
    assert.equal(Array.from(await c.grad!.data()), [3, 7].map((i) => wv[i]));
    assert.equal(e.grad?.shape ?? [2, 0], [2, 0]);
  });
}

for (const b of backends) {
  s(`constant pad copies x into the fill's interior, int32 and strided x too (${b})`, async () => {
    // [[1, 2, 3], [4, 5, 6]] stored with its axes reversed; pads: last axis (1, 0), first axis (0, 2).
    for (const dtype of ['float32', 'int32'] as const) {
      const x = piece([1, 2, 3, 4, 5, 6], [2, 3], dtype, 'reversed', b);
      const out = T.pad(x, [1, 0, 0, 2], 9);
      assert.equal(out.shape, [4, 4]);
      assert.is(out.dtype, dtype);
      assert.equal(Array.from(await out.data()), [9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9, 9, 9, 9, 9], `${dtype} on ${b}`);
    }
  });
}

s('bad input errors name concat or stack, the shapes and the dtypes', () => {
  const x = T.zeros([2, 3]), y = T.zeros([3, 3]), i = T.zeros([2, 3], { dtype: 'int32' });
  assert.throws(() => T.concat([x, y], 1), (e: Error) => /^concat: .*axis 1.*\[2, 3\].*\[3, 3\]/.test(e.message));
  assert.throws(() => T.concat([x, i], 0), (e: Error) => /^concat: .*dtype.*int32/.test(e.message));
  assert.throws(() => T.concat([], 0), (e: Error) => /^concat: needs at least one tensor/.test(e.message));
  assert.throws(() => T.concat([x], 2), (e: Error) => /^concat: /.test(e.message));
  assert.throws(() => T.stack([x, y], 0), (e: Error) => /^stack: .*same shape.*\[2, 3\].*\[3, 3\]/.test(e.message));
});

s.run();
