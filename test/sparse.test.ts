// Csr building (sorting, merging, refusing bad ids), its structural transforms
// and cached transpose, and the sparse ops against dense computations.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { T, makeInput, randomValues, values, assertClose, throwsMatching } from './helpers.js';
import { Csr, spmm, sddmm, edgeSoftmax } from '../src/sparse/index.js';
import { graph, coo } from './signature-cases.js';

const s = suite('sparse');
const ints = async (t: T.Tensor) => Array.from(await t.data());
const ref64 = (shape: number[], v = randomValues({ shape }), grad = false) => makeInput({ shape }, v, 'reference64', grad);
const build = (opts: { values?: T.Tensor | number[] } = {}) => Csr.fromEdges(graph.src, graph.dst, graph.n, { backend: 'reference64', ...opts });

/** Dense row-major [rows, cols] of A as numbers. */
async function dense(a: Csr): Promise<Float64Array> { return values(a.toDense()); }

/** Dense A from the edge list itself: A[dst][src] += value. */
function denseFromEdges(vals?: ArrayLike<number>): Float64Array {
  const d = new Float64Array(graph.n * graph.n);
  graph.src.forEach((src, i) => { d[graph.dst[i] * graph.n + src] += vals ? vals[i] : 1; });
  return d;
}

function matmulHost(a: Float64Array, x: Float64Array, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < inner; k++) for (let j = 0; j < cols; j++) out[i * cols + j] += a[i * inner + k] * x[k * cols + j];
  return out;
}

s('fromEdges sorts by (dst, src) and keeps edges of a simple graph as ones', async () => {
  const a = build();
  assert.equal(a.shape, [5, 5]);
  assert.is(a.nnz, 6);
  assert.equal(await ints(a.rowPtr), [0, 2, 5, 5, 6, 6]);
  assert.equal(await ints(a.colIdx), [1, 3, 0, 1, 2, 0]);
  assert.equal(await ints(a.rowIdx), [0, 0, 1, 1, 1, 3]);
  assert.is(a.values, null);
  assertClose(await dense(a), denseFromEdges(), 'dense A');
});

s('fromCoo sums duplicates (counts without values, values summed with them)', async () => {
  const counted = Csr.fromCoo(coo.rows, coo.cols, undefined, coo.shape, { backend: 'reference64' });
  assert.is(counted.nnz, coo.nnz);
  assert.equal(await ints(counted.rowPtr), [0, 2, 3, 4]);
  assert.equal(await ints(counted.colIdx), [1, 3, 2, 0]);
  assert.equal(Array.from(await values(counted.values!)), [2, 1, 1, 2]);
  const summed = Csr.fromCoo(coo.rows, coo.cols, [1, 2, 3, 4, 5, 6], coo.shape, { backend: 'reference64' });
  assert.equal(Array.from(await values(summed.values!)), [1 + 3, 6, 4, 2 + 5]);
  // The same with a values tensor: the gradient of each input entry is its merged entry's.
  const v = ref64([6], Float64Array.from([1, 2, 3, 4, 5, 6]), true);
  const a = Csr.fromCoo(coo.rows, coo.cols, v, coo.shape);
  assert.equal(Array.from(await values(a.values!)), [4, 6, 4, 7]);
  T.sum(T.mul(a.values!, ref64([4], Float64Array.from([1, 10, 100, 1000])))).backward();
  assert.equal(Array.from(await values(v.grad!)), [1, 1000, 1, 100, 1000, 10]);
});

s('out-of-range, non-integer and mismatched ids are refused with the op and the id named', () => {
  throwsMatching(() => Csr.fromEdges([0, 5], [1, 2], 5), /^Csr\.fromEdges: src\[1\] = 5 is outside \[0, 5\) \(cols = 5\)/);
  throwsMatching(() => Csr.fromEdges([0, 1], [1, -1], 5), /^Csr\.fromEdges: dst\[1\] = -1 is outside \[0, 5\) \(n = 5\)/);
  throwsMatching(() => Csr.fromEdges([0, 1.5], [1, 2], 5), /src\[1\] = 1.5 is outside/);
  throwsMatching(() => Csr.fromEdges([0, 1], [1], 5), /Csr\.fromEdges: dst has 1 ids but src has 2/);
  throwsMatching(() => Csr.fromEdges([0], [1], -2), /Csr\.fromEdges: n must be a non-negative integer, got -2/);
  throwsMatching(() => Csr.fromCoo([0, 3], [1, 1], undefined, [3, 4]), /^Csr\.fromCoo: rowIds\[1\] = 3 is outside \[0, 3\) \(rows = 3\)/);
  throwsMatching(() => Csr.fromCoo([0], [4], undefined, [3, 4]), /^Csr\.fromCoo: colIds\[0\] = 4 is outside \[0, 4\)/);
  throwsMatching(() => Csr.fromCoo([0], [1], [1, 2], [3, 4]), /Csr\.fromCoo: 2 values for 1 entries/);
});

s('the transpose is cached, correct, and maps edges back through transposePerm', async () => {
  const vals = [0.5, 1, 2, 3, 4, 5];
  const a = build({ values: vals });
  const at = a.transpose();
  assert.ok(a.transpose() === at, 'second call returns the same object');
  const d = await dense(a), dt = await dense(at);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.is(dt[i * 5 + j], d[j * 5 + i]);
  const perm = await ints(a.transposePerm);
  const av = await values(a.values!), atv = await values(at.values!);
  perm.forEach((e, et) => assert.is(atv[et], av[e]));
  // Rectangular: the shape swaps.
  const r = Csr.fromCoo(coo.rows, coo.cols, undefined, coo.shape, { backend: 'reference64' });
  assert.equal(r.transpose().shape, [4, 3]);
  assert.equal(await ints(r.transpose().rowPtr), [0, 1, 2, 3, 4]);
  assert.equal(await ints(r.transpose().colIdx), [2, 0, 1, 0]);
});

s('with values that require grad the transpose stays on the tape across steps', async () => {
  const w = ref64([6], undefined, true);
  const a = build().withValues(w);
  const t1 = a.transpose(), t2 = a.transpose();
  assert.ok(t1 !== t2, 'a fresh gather per call');
  assert.ok(t1.rowPtr === t2.rowPtr, 'the transposed pattern is shared');
  const x = ref64([5, 2]);
  let first: Float64Array | null = null;
  for (let step = 0; step < 2; step++) {
    w.grad = null;
    T.sum(spmm(a.transpose(), x)).backward();
    assert.ok(w.grad, `step ${step}: values get a gradient`);
    const g = await values(w.grad!);
    if (first) assertClose(g, first, 'same gradient on the second step'); else first = g;
  }
});

s('spmm, sddmm and edgeSoftmax match dense computations', async () => {
  const vals = randomValues({ shape: [6] });
  const a = build({ values: ref64([6], vals) });
  const x = ref64([5, 3]), xv = await values(x);
  assertClose(await values(spmm(a, x)), matmulHost(denseFromEdges(vals), xv, 5, 5, 3), 'spmm');
  // Per-head values: head h is spmm with values[:, h] on X[:, h, :].
  const hv = ref64([6, 2]), xh = ref64([5, 2, 3]);
  const out = await values(spmm(a.withValues(hv), xh));
  for (let h = 0; h < 2; h++) {
    const one = await values(spmm(a.withValues(T.contiguous(T.select(hv, 1, h))), T.contiguous(T.select(xh, 1, h))));
    for (let r = 0; r < 5; r++) for (let f = 0; f < 3; f++) assert.is(out[(r * 2 + h) * 3 + f], one[r * 3 + f]);
  }
  const y = ref64([5, 3]), yv = await values(y);
  const rows = await ints(a.rowIdx), cols = await ints(a.colIdx);
  const dots = rows.map((r, e) => [0, 1, 2].reduce((acc, f) => acc + xv[r * 3 + f] * yv[cols[e] * 3 + f], 0));
  assertClose(await values(sddmm(a, x, y)), dots, 'sddmm');
  const sm = await values(edgeSoftmax(a, ref64([6], Float64Array.from(dots))));
  const ptr = await ints(a.rowPtr);
  for (let r = 0; r < 5; r++) {
    const z = dots.slice(ptr[r], ptr[r + 1]).reduce((acc, v) => acc + Math.exp(v), 0);
    for (let e = ptr[r]; e < ptr[r + 1]; e++) assertClose([sm[e]], [Math.exp(dots[e]) / z], `edgeSoftmax row ${r}`);
  }
});

s('symNormalize, rowNormalize, addSelfLoops and degrees match dense formulas', async () => {
  const a = build();
  const d = denseFromEdges();
  const withLoops = d.map((v, i) => v + (Math.floor(i / 5) === i % 5 ? 1 : 0));
  assertClose(await dense(a.addSelfLoops()), withLoops, 'A + I (existing diagonal grows)');
  // 1/sqrt(0) is taken as 0, so entries in the column of a node without entries in its row vanish too.
  const symOf = (m: Float64Array) => {
    const invSqrt = Array.from({ length: 5 }, (_, i) => { const d = m.slice(i * 5, i * 5 + 5).reduce((p, q) => p + q, 0); return d > 0 ? 1 / Math.sqrt(d) : 0; });
    return m.map((v, i) => v * invSqrt[Math.floor(i / 5)] * invSqrt[i % 5]);
  };
  assertClose(await dense(a.symNormalize()), symOf(withLoops), 'D^-1/2 (A + I) D^-1/2');
  assertClose(await dense(a.symNormalize({ selfLoops: false })), symOf(d), 'D^-1/2 A D^-1/2 (zero rows stay zero)');
  const deg = Array.from({ length: 5 }, (_, i) => d.slice(i * 5, i * 5 + 5).reduce((p, q) => p + q, 0));
  assertClose(await values(a.degrees()), deg, 'degrees');
  assertClose(await dense(a.rowNormalize()), d.map((v, i) => (v === 0 ? 0 : v / deg[Math.floor(i / 5)])), 'D^-1 A');
  throwsMatching(() => Csr.fromCoo(coo.rows, coo.cols, undefined, coo.shape).symNormalize(), /Csr\.symNormalize: needs a square matrix, got 3 x 4/);
  throwsMatching(() => build().withValues(ref64([6], undefined, true)).rowNormalize(), /Csr\.rowNormalize: the values require grad/);
});

s('hostArrays gives the sorted, merged pattern and the values on the host', () => {
  const a = Csr.fromCoo([2, 0, 2, 0], [1, 3, 1, 0], [1, 2, 3, 4], [3, 4], { backend: 'reference' });
  const h = a.hostArrays();
  assert.equal(Array.from(h.rowPtr), [0, 2, 2, 3]);
  assert.equal(Array.from(h.colIdx), [0, 3, 1]);
  assert.equal(Array.from(h.values ?? []), [4, 2, 4]);
  assert.is(Csr.fromCoo([0], [1], undefined, [2, 2], { backend: 'reference' }).hostArrays().values, null);
  const perHead = a.withValues(T.ones([3, 2], { backend: 'reference' }));
  throwsMatching(() => perHead.hostArrays(), /Csr\.hostArrays: needs \[nnz\] values, got per-head values \[3, 2\]/);
  a.dispose();
  throwsMatching(() => a.hostArrays(), /Csr\.hostArrays: the matrix was used after dispose\(\)/);
});

s('shape, dtype and backend mismatches are refused with the op named', () => {
  const a = build();
  throwsMatching(() => spmm(a, ref64([4, 3])), /^spmm: X must have 5 rows \(the columns of Csr \[5, 5\] nnz 6 on reference64\)/);
  throwsMatching(() => spmm(a, T.randn([5, 3], { backend: 'reference' })), /spmm: the sparse matrix is on reference64; move it with A.toBackend\('reference'\)/);
  throwsMatching(() => spmm(a.withValues(ref64([6, 2])), ref64([5, 3])), /spmm: per-head values \[6, 2\] need X \[5, 2, \.\.\.\]/);
  throwsMatching(() => sddmm(a, ref64([5, 3]), ref64([5, 2])), /^sddmm: expects X \[5, F\] and Y \[5, F\]/);
  throwsMatching(() => edgeSoftmax(a, ref64([5])), /^edgeSoftmax: scores must be \[6\] or \[6, heads\]/);
  throwsMatching(() => a.withValues(ref64([5])), /Csr\.withValues: values must be float32 \[6\] or \[6, heads\]/);
  throwsMatching(() => spmm({} as Csr, ref64([5, 3])), /spmm: expected a Csr as the sparse operand/);
});

s('toBackend copies the matrix; dispose frees it, the pattern lasting while other matrices use it', async () => {
  const a = build({ values: [1, 2, 3, 4, 5, 6] });
  const b = a.toBackend('reference');
  assert.is(b.backend.name, 'reference');
  const x = randomValues({ shape: [5, 2] });
  assertClose(await values(spmm(b, makeInput({ shape: [5, 2] }, x, 'reference', false))),
    await values(spmm(a, ref64([5, 2], x))), 'spmm on the copy', 1e-6, 1e-6);
  const normalized = a.rowNormalize();
  const at = a.transpose();
  normalized.dispose();
  assert.ok(!a.isDisposed && !a.rowPtr.isDisposed, 'disposing a matrix sharing the pattern leaves the original usable');
  spmm(a, ref64([5, 2]));
  a.dispose();
  assert.ok(a.rowPtr.isDisposed && a.colIdx.isDisposed && a.values!.isDisposed, 'the last user frees the pattern; owned values go');
  assert.ok(at.rowPtr.isDisposed && at.values!.isDisposed, 'the cached transpose goes with the matrix');
  assert.ok(normalized.values!.isDisposed && !b.rowPtr.isDisposed, 'each matrix frees only its own');
  throwsMatching(() => spmm(a, ref64([5, 2])), /spmm: the sparse matrix was used after dispose\(\)/);
  throwsMatching(() => a.transpose(), /Csr\.transpose: the matrix was used after dispose\(\)/);
});

s.run();
