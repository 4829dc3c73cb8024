// Every kernel of the webgpu backend against the reference backend on fresh
// random inputs: strided, broadcast and offset views, zero-size shapes and
// sizes that leave partial workgroups and tiles.
// Without a WebGPU adapter the file is skipped with a message, except under
// CI=true, where a missing adapter fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type {
  Activation, BinaryOp, Buf, ConvParams, Csr, DType, PoolParams, ReduceOp, UnaryOp, View,
} from '../src/backend/interface.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBuf } from '../src/backend/webgpu/index.js';
import { Params } from '../src/backend/webgpu/runtime.js';
import { Rng } from '../src/rng.js';
import { CODES } from '../src/schema.js';

const test = suite('webgpu-kernels');
const ref = new ReferenceBackend();
const rng = new Rng(20240611);

let gpu: WebGpuBackend | null = null;
try {
  gpu = await createWebGpuBackend();
} catch (e) {
  if (process.env.CI === 'true') throw e;
  console.log(`webgpu-kernels: SKIPPED, no WebGPU device: ${e instanceof Error ? e.message : String(e)}`);
}

// ---- twins: the same data on both backends ----

interface Twin { ref: Buf; gpu: Buf }
interface TwinView { ref: View; gpu: View }

function g(): WebGpuBackend {
  if (!gpu) throw new Error('unreachable: tests run only with a device');
  return gpu;
}

function upload(data: Float32Array | Int32Array): Twin {
  const dtype: DType = data instanceof Float32Array ? 'float32' : 'int32';
  const t = { ref: ref.alloc(data.length, dtype), gpu: g().alloc(data.length, dtype) };
  ref.write(t.ref, data);
  g().write(t.gpu, data);
  return t;
}

function output(size: number, dtype: DType = 'float32'): Twin {
  return { ref: ref.alloc(size, dtype), gpu: g().alloc(size, dtype) };
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const normal = (scale = 1) => () => scale * rng.normal();
const uniform = (lo: number, hi: number) => () => lo + (hi - lo) * rng.uniform();
const integers = (lo: number, hi: number) => () => lo + rng.int(hi - lo);

function fillArray(n: number, dtype: DType, gen: () => number): Float32Array | Int32Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen();
  return a;
}

function randomData(n: number, gen: () => number, dtype: DType = 'float32'): Twin {
  return upload(fillArray(n, dtype, gen));
}

/** A view of `shape` over fresh random storage: random memory order, some
 *  dims stepped by 2, some broadcast (stride 0) where `broadcast` allows, and
 *  a random offset. `dense` forces a contiguous row-major view. */
function randomView(shape: readonly number[], gen: () => number, dtype: DType = 'float32',
  opts: { broadcast?: (d: number) => boolean; dense?: boolean } = {}): TwinView {
  const nd = shape.length;
  const dense = opts.dense ?? rng.uniform() < 0.25;
  const broadcast = shape.map((_, d) => !dense && (opts.broadcast?.(d) ?? true) && rng.uniform() < 0.25);
  const step = shape.map(() => (!dense && rng.uniform() < 0.3 ? 2 : 1));
  const extent = shape.map((s, d) => (broadcast[d] ? 1 : s * step[d]));
  const order = dense ? Array.from({ length: nd }, (_, d) => d) : Array.from(rng.permutation(nd));
  const strides = new Array<number>(nd).fill(0);
  let running = 1;
  for (let k = nd - 1; k >= 0; k--) {
    const d = order[k];
    strides[d] = broadcast[d] ? 0 : running * step[d];
    running *= extent[d];
  }
  const offset = dense ? 0 : rng.int(4);
  const storage = randomData(offset + product(extent), gen, dtype);
  return {
    ref: { buf: storage.ref, shape, strides, offset },
    gpu: { buf: storage.gpu, shape, strides, offset },
  };
}

function randomShape(maxRank: number, maxExtent: number): number[] {
  const rank = rng.int(maxRank + 1);
  return Array.from({ length: rank }, () => 1 + rng.int(maxExtent));
}

// Shapes for the strided maps: random ones, plus scalar, zero-size and a
// size that leaves a partial workgroup over several workgroups.
function elementwiseShapes(): number[][] {
  return [[], [0, 3], [5, 0], [1000], [3, 1, 257], randomShape(4, 6), randomShape(5, 5), randomShape(3, 9)];
}

function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

async function expectClose(t: Twin, label: string, rtol = 1e-5, atol = 1e-6): Promise<void> {
  const expected = ref.readSync(t.ref);
  const actual = await g().read(t.gpu);
  assert.is(actual.constructor, expected.constructor, `${label}: dtype`);
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i], expected[i], rtol, atol)) {
      assert.unreachable(`${label}: element ${i} is ${actual[i]}, reference ${expected[i]} (of ${expected.length})`);
    }
  }
}

async function expectEqual(t: Twin, label: string): Promise<void> {
  await expectClose(t, label, 0, 0);
}

// ---- storage ----

test('write, read, fill and readSync', async () => {
  const f = upload(new Float32Array([1.5, -2, 3.25]));
  assert.equal(Array.from(await g().read(f.gpu)), [1.5, -2, 3.25]);
  const i = upload(new Int32Array([7, -8, 2147483647]));
  assert.equal(Array.from(await g().read(i.gpu)), [7, -8, 2147483647]);
  const empty = output(0);
  assert.is((await g().read(empty.gpu)).length, 0);
  for (const [dtype, value] of [['float32', -0.75], ['int32', -123456]] as const) {
    const o = output(1000, dtype);
    ref.fill(o.ref, value);
    g().fill(o.gpu, value);
    await expectEqual(o, `fill ${dtype}`);
  }
  assert.throws(() => g().readSync(f.gpu), /await t\.data\(\)/);
  assert.throws(() => g().write(f.gpu, new Int32Array(3)), /int32\[3\] into a float32\[3\]/);
  // A write must not overtake recorded work that reads the old contents.
  const before = output(3);
  g().copy({ buf: f.gpu, shape: [3], strides: [1], offset: 0 }, before.gpu);
  g().write(f.gpu, new Float32Array([9, 9, 9]));
  assert.equal(Array.from(await g().read(before.gpu)), [1.5, -2, 3.25]);
  g().free(before.gpu);
  assert.throws(() => g().fill(before.gpu, 1), /freed/);
});

// ---- elementwise ----

test('copy and cast of strided views', async () => {
  for (const shape of elementwiseShapes()) {
    for (const [from, to] of [['float32', 'float32'], ['float32', 'int32'], ['int32', 'float32'], ['int32', 'int32']] as const) {
      const x = randomView(shape, from === 'float32' ? normal(50) : integers(-1000, 1000), from);
      const o = output(product(shape), to);
      ref.copy(x.ref, o.ref);
      g().copy(x.gpu, o.gpu);
      await expectEqual(o, `copy ${from}->${to} [${shape}] strides [${x.ref.strides}]`);
    }
  }
});

const UNARY_DOMAIN: Partial<Record<UnaryOp, () => number>> = {
  log: uniform(1e-3, 20), sqrt: uniform(0, 20), rsqrt: uniform(1e-2, 20), log1p: uniform(-0.9, 10),
  reciprocal: () => (rng.uniform() < 0.5 ? -1 : 1) * (0.05 + 5 * rng.uniform()),
  sin: uniform(-Math.PI, Math.PI), cos: uniform(-Math.PI, Math.PI),
  // Positive arguments here (negative ones, through the reflection formulas, are in test/parity.test.ts).
  lgamma: uniform(0.05, 30), digamma: uniform(0.05, 30), trigamma: uniform(0.05, 30),
};
const UNARY_OPS: readonly UnaryOp[] = CODES.unary.names;

test('unary ops on float32 views', async () => {
  const shapes = elementwiseShapes();
  for (const op of UNARY_OPS) {
    for (const shape of shapes) {
      const x = randomView(shape, UNARY_DOMAIN[op] ?? normal(3));
      const o = output(product(shape));
      ref.unary(op, x.ref, o.ref, 0.3);
      g().unary(op, x.gpu, o.gpu, 0.3);
      await expectClose(o, `unary ${op} [${shape}]`, 1e-5, 1e-6);
    }
  }
});

test('unary ops on int32 views', async () => {
  for (const op of ['neg', 'abs', 'sign', 'square', 'relu', 'floor', 'exp'] as UnaryOp[]) {
    const shape = [7, 33];
    const x = randomView(shape, integers(-9, 10), 'int32');
    const o = output(product(shape), 'int32');
    ref.unary(op, x.ref, o.ref, 0);
    g().unary(op, x.gpu, o.gpu, 0);
    await expectEqual(o, `unary ${op} int32`);
  }
});

test('gelu and geluGrad: exact erf form within 1e-6', async () => {
  const n = 4001;
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = -10 + (20 * i) / (n - 1);
  const x = upload(xs);
  const view = (b: Buf): View => ({ buf: b, shape: [n], strides: [1], offset: 0 });
  for (const op of ['gelu', 'geluGrad'] as UnaryOp[]) {
    const o = output(n);
    ref.unary(op, view(x.ref), o.ref, 0);
    g().unary(op, view(x.gpu), o.gpu, 0);
    // Reference in float64 (erf to 1e-15), rounded to float32 once.
    await expectClose(o, op, 0, 1e-6);
  }
});

const BINARY_OPS: readonly BinaryOp[] = CODES.binary.names;
// Quarter-integers: remainder and floorDivide are then exact in float32 (a / b is an integer or at least
// 1/80 away from one), so the kernel must match the reference exactly up to rounding of the last step.
const quarters = (lo: number, hi: number) => { const int = integers(lo * 4, hi * 4); return () => int() / 4 || 0.25; };

test('binary ops on broadcast float32 views', async () => {
  const shapes = elementwiseShapes();
  for (const op of BINARY_OPS) {
    for (const shape of shapes) {
      // Small integers make the comparisons hit equality; pow gets positive bases.
      const exactDivision = op === 'remainder' || op === 'floorDivide';
      const genA = op === 'pow' ? uniform(0.1, 3) : ['eq', 'ne', 'le', 'ge'].includes(op) ? integers(-2, 3) : exactDivision ? quarters(-10, 10) : normal(2);
      const genB = op === 'pow' ? normal(2) : op === 'div' ? uniform(0.5, 3) : ['eq', 'ne', 'le', 'ge'].includes(op) ? integers(-2, 3)
        : exactDivision ? quarters(-5, 5) : normal(2);
      const a = randomView(shape, genA);
      const b = randomView(shape, genB);
      const o = output(product(shape));
      ref.binary(op, a.ref, b.ref, o.ref);
      g().binary(op, a.gpu, b.gpu, o.gpu);
      await expectClose(o, `binary ${op} [${shape}]`, 2e-6, 1e-7);
    }
  }
});

test('pow with negative bases follows Math.pow', async () => {
  const a = upload(new Float32Array([-2, -2, -2, -0.5, 0, 0, 3, -3]));
  const b = upload(new Float32Array([3, 2, 0.5, -3, 2, 0, 0, 0]));
  const v = (buf: Buf): View => ({ buf, shape: [8], strides: [1], offset: 0 });
  const o = output(8);
  ref.binary('pow', v(a.ref), v(b.ref), o.ref);
  g().binary('pow', v(a.gpu), v(b.gpu), o.gpu);
  await expectClose(o, 'pow', 1e-6, 0);
});

test('binary ops on int32', async () => {
  for (const op of BINARY_OPS) {
    const shape = [5, 41];
    const a = randomView(shape, integers(-50, 50), 'int32');
    const b = randomView(shape, op === 'pow' ? integers(0, 4) : integers(-7, 8), 'int32');
    const compare = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);
    for (const outType of compare ? (['float32', 'int32'] as const) : (['int32'] as const)) {
      const o = output(product(shape), outType);
      ref.binary(op, a.ref, b.ref, o.ref);
      g().binary(op, a.gpu, b.gpu, o.gpu);
      await expectEqual(o, `binary ${op} int32 -> ${outType}`);
    }
  }
});

test('where with broadcast condition', async () => {
  for (const shape of elementwiseShapes()) {
    for (const dtype of ['float32', 'int32'] as const) {
      const cond = randomView(shape, integers(0, 2));
      const a = randomView(shape, integers(-100, 100), dtype);
      const b = randomView(shape, integers(-100, 100), dtype);
      const o = output(product(shape), dtype);
      ref.where(cond.ref, a.ref, b.ref, o.ref);
      g().where(cond.gpu, a.gpu, b.gpu, o.gpu);
      await expectEqual(o, `where ${dtype} [${shape}]`);
    }
  }
});

// ---- reductions ----

test('reductions over [outer, size, inner]', async () => {
  // Both kernels (workgroup per row: inner < 16 and size > 64), ties, empty rows.
  const layouts: [number, number, number][] = [[3, 1000, 1], [2, 300, 5], [2, 7, 40], [5, 3, 1], [1, 70, 17],
    [0, 5, 3], [4, 0, 2], [1, 1, 1]];
  const ops: ReduceOp[] = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'];
  for (const [outer, size, inner] of layouts) {
    for (const op of ops) {
      for (const dtype of ['float32', 'int32'] as const) {
        // Few distinct values make ties; prod gets values near 1 to stay finite.
        const gen = op === 'prod' ? (dtype === 'int32' ? integers(1, 2) : uniform(0.9, 1.1)) : integers(-3, 4);
        const x = randomData(outer * size * inner, gen, dtype);
        const o = output(outer * inner, op === 'argmax' || op === 'argmin' ? 'int32' : dtype);
        ref.reduce(op, x.ref, outer, size, inner, o.ref);
        g().reduce(op, x.gpu, outer, size, inner, o.gpu);
        await expectClose(o, `reduce ${op} ${dtype} [${outer}, ${size}, ${inner}]`, 1e-5, 1e-5);
      }
    }
  }
});

test('sum of many floats stays accurate; NaN wins max and argmax', async () => {
  const n = 200_000;
  const x = randomData(n, uniform(0, 1));
  for (const inner of [1, n / 1000]) {
    const o = output(inner);
    ref.reduce('sum', x.ref, 1, n / inner, inner, o.ref);
    g().reduce('sum', x.gpu, 1, n / inner, inner, o.gpu);
    await expectClose(o, `sum of ${n / inner}`, 2e-6, 0);
  }
  const withNan = upload(new Float32Array([1, 5, NaN, 7, NaN, 2]));
  for (const op of ['max', 'argmax', 'min', 'argmin'] as ReduceOp[]) {
    const o = output(1, op.startsWith('arg') ? 'int32' : 'float32');
    ref.reduce(op, withNan.ref, 1, 6, 1, o.ref);
    g().reduce(op, withNan.gpu, 1, 6, 1, o.gpu);
    await expectEqual(o, `${op} with NaN`);
  }
});

// ---- matmul ----

test('matmul: tiles, tails, strided and broadcast batches, epilogue', async () => {
  const cases: [number, number, number, number][] = [[1, 1, 1, 1], [2, 67, 65, 33], [3, 5, 130, 17], [1, 64, 64, 64],
    [2, 1, 9, 70], [1, 4, 5, 0], [0, 3, 3, 3], [1, 0, 4, 2]];
  const acts: readonly Activation[] = CODES.activation.names;
  for (const [batch, M, N, K] of cases) {
    for (const act of acts) {
      const a = randomView([batch, M, K], normal(), 'float32', { broadcast: (d) => d === 0 });
      const b = randomView([batch, K, N], normal(), 'float32', { broadcast: (d) => d === 0 });
      const bias = rng.uniform() < 0.5 ? randomData(N, normal()) : undefined;
      const alpha = rng.uniform() < 0.5 ? 1 : 0.5;
      const o = output(batch * M * N);
      ref.matmul(a.ref, b.ref, o.ref, { batch, M, N, K, alpha, act, bias: bias?.ref });
      g().matmul(a.gpu, b.gpu, o.gpu, { batch, M, N, K, alpha, act, bias: bias?.gpu });
      await expectClose(o, `matmul ${batch}x${M}x${N}x${K} ${act} a strides [${a.ref.strides}]`, 1e-4, 1e-4);
    }
  }
});

// ---- gather / scatterAdd ----

test('gather along each axis, with broadcast indices', async () => {
  for (const dtype of ['float32', 'int32'] as const) {
    for (let trial = 0; trial < 6; trial++) {
      const xShape = [2 + rng.int(4), 1 + rng.int(5), 2 + rng.int(6)];
      const axis = rng.int(3);
      const outShape = xShape.map((s, d) => (d === axis ? 1 + rng.int(7) : 1 + rng.int(s)));
      const x = randomView(xShape, integers(-100, 100), dtype, { broadcast: () => false });
      const idx = randomView(outShape, integers(0, xShape[axis]), 'int32');
      const o = output(product(outShape), dtype);
      ref.gather(x.ref, axis, idx.ref, o.ref, outShape);
      g().gather(x.gpu, axis, idx.gpu, o.gpu, outShape);
      await expectEqual(o, `gather ${dtype} axis ${axis} x [${xShape}] out [${outShape}]`);
    }
  }
  const empty = output(0);
  const x = randomView([3], normal());
  g().gather(x.gpu, 0, { buf: g().alloc(0, 'int32'), shape: [0], strides: [1], offset: 0 }, empty.gpu, [0]);
});

test('gather writes 0 for out-of-range indices and the next read rejects, naming the op', async () => {
  const x = upload(new Float32Array([10, 20, 30]));
  const idx = upload(new Int32Array([2, -1, 3, 0]));
  const o = output(4);
  g().gather({ buf: x.gpu, shape: [3], strides: [1], offset: 0 }, 0,
    { buf: idx.gpu, shape: [4], strides: [1], offset: 0 }, o.gpu, [4], 'indexSelect');
  let message = '';
  try { await g().read(o.gpu); } catch (e) { message = (e as Error).message; }
  assert.match(message, /^indexSelect: index (-1|3) is outside \[0, 3\)/);
  // The flag is cleared once reported.
  assert.equal(Array.from(await g().read(o.gpu)), [30, 0, 0, 10]);
});

test('scatterAdd with colliding indices', async () => {
  for (const dtype of ['float32', 'int32'] as const) {
    for (let trial = 0; trial < 6; trial++) {
      const outShape = [1 + rng.int(5), 1 + rng.int(4), 1 + rng.int(6)];
      const axis = rng.int(3);
      const srcShape = outShape.map((s, d) => (d === axis ? 1 + rng.int(40) : 1 + rng.int(s)));
      const src = randomView(srcShape, integers(-20, 20), dtype);
      const idx = randomView(srcShape, integers(0, outShape[axis]), 'int32');
      const o = randomData(product(outShape), integers(-5, 5), dtype);
      ref.scatterAdd(o.ref, outShape, axis, idx.ref, src.ref);
      g().scatterAdd(o.gpu, outShape, axis, idx.gpu, src.gpu);
      // Integers are exact in float32 whatever the order of the adds.
      await expectEqual(o, `scatterAdd ${dtype} axis ${axis} out [${outShape}] src [${srcShape}]`);
    }
  }
});

// ---- sparse ----

function randomCsr(rows: number, cols: number, density: number, weighted: boolean): { ref: Csr; gpu: Csr } {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  for (let r = 0; r < rows; r++) {
    // Every fifth row is empty; one row is dense, to unbalance the rows.
    const p = r % 5 === 4 ? 0 : r === 1 ? 1 : density;
    for (let c = 0; c < cols; c++) if (rng.uniform() < p) colIdx.push(c);
    rowPtr[r + 1] = colIdx.length;
  }
  const nnz = colIdx.length;
  const rp = upload(rowPtr);
  const ci = upload(Int32Array.from(colIdx));
  const values = weighted ? randomData(nnz, normal()) : undefined;
  return {
    ref: { rows, cols, nnz, rowPtr: rp.ref, colIdx: ci.ref, values: values?.ref },
    gpu: { rows, cols, nnz, rowPtr: rp.gpu, colIdx: ci.gpu, values: values?.gpu },
  };
}

test('spmm', async () => {
  for (const [rows, cols, F] of [[50, 40, 1], [33, 70, 5], [20, 20, 64], [9, 300, 100], [0, 4, 3], [6, 5, 0]]) {
    for (const weighted of [true, false]) {
      const a = randomCsr(rows, cols, 0.1, weighted);
      const x = randomData(cols * F, normal());
      const o = output(rows * F);
      ref.spmm(a.ref, x.ref, F, o.ref);
      g().spmm(a.gpu, x.gpu, F, o.gpu);
      await expectClose(o, `spmm ${rows}x${cols} F=${F} weighted=${weighted}`, 1e-5, 1e-5);
    }
  }
});

test('sddmm, edgeSoftmax and its backward', async () => {
  for (const [rows, cols, H, F] of [[40, 30, 1, 8], [25, 60, 3, 17], [7, 7, 2, 1]]) {
    const a = randomCsr(rows, cols, 0.15, false);
    const x = randomData(rows * H * F, normal());
    const y = randomData(cols * H * F, normal());
    const scores = output(a.ref.nnz * H);
    ref.sddmm(a.ref, x.ref, y.ref, H, F, scores.ref);
    g().sddmm(a.gpu, x.gpu, y.gpu, H, F, scores.gpu);
    await expectClose(scores, `sddmm ${rows}x${cols} H=${H} F=${F}`, 1e-5, 1e-5);

    // Softmax of the reference scores on both, so the inputs are identical.
    const s = upload(ref.readSync(scores.ref) as Float32Array);
    const soft = output(a.ref.nnz * H);
    ref.edgeSoftmax(a.ref, s.ref, H, soft.ref);
    g().edgeSoftmax(a.gpu, s.gpu, H, soft.gpu);
    await expectClose(soft, `edgeSoftmax H=${H}`, 1e-5, 1e-6);

    const probabilities = upload(ref.readSync(soft.ref) as Float32Array);
    const grad = randomData(a.ref.nnz * H, normal());
    const gs = output(a.ref.nnz * H);
    ref.edgeSoftmaxBackward(a.ref, probabilities.ref, grad.ref, H, gs.ref);
    g().edgeSoftmaxBackward(a.gpu, probabilities.gpu, grad.gpu, H, gs.gpu);
    await expectClose(gs, `edgeSoftmaxBackward H=${H}`, 1e-5, 1e-6);
  }
});

// ---- cmd moments ----

test('cmdMoments and cmdMomentsBackward', async () => {
  for (const [n, d, k] of [[100, 3, 5], [1000, 37, 3], [7, 16, 2], [5, 4, 1], [0, 3, 3], [40, 0, 4], [64, 20, 8]]) {
    const x = randomData(n * d, normal(2));
    const mean = output(d);
    const moments = output((k - 1) * d);
    ref.cmdMoments(x.ref, n, d, k, mean.ref, moments.ref);
    g().cmdMoments(x.gpu, n, d, k, mean.gpu, moments.gpu);
    await expectClose(mean, `cmd mean n=${n} d=${d}`, 1e-4, 1e-5);
    await expectClose(moments, `cmd moments n=${n} d=${d} k=${k}`, 1e-4, 1e-4);

    const gMean = randomData(d, normal());
    const gMoments = randomData((k - 1) * d, normal());
    // The reference's mean and moments feed both, so only the backward is compared.
    const m = upload(ref.readSync(mean.ref) as Float32Array);
    const c = upload(ref.readSync(moments.ref) as Float32Array);
    const gx = output(n * d);
    ref.cmdMomentsBackward(x.ref, n, d, k, m.ref, c.ref, gMean.ref, gMoments.ref, gx.ref);
    g().cmdMomentsBackward(x.gpu, n, d, k, m.gpu, c.gpu, gMean.gpu, gMoments.gpu, gx.gpu);
    await expectClose(gx, `cmd backward n=${n} d=${d} k=${k}`, 1e-4, 1e-4);
  }
});

// ---- convolution and pooling ----

function convParams(N: number, C: number, [D, H, W]: number[], O: number, [kd, kh, kw]: number[],
  stride: [number, number, number], padding: [number, number, number], dilation: [number, number, number],
  groups: number): ConvParams {
  const out = (i: number, k: number, s: number, p: number, dl: number) => Math.floor((i + 2 * p - dl * (k - 1) - 1) / s) + 1;
  return {
    N, C, D, H, W, O, kd, kh, kw, stride, padding, dilation, groups,
    oD: out(D, kd, stride[0], padding[0], dilation[0]),
    oH: out(H, kh, stride[1], padding[1], dilation[1]),
    oW: out(W, kw, stride[2], padding[2], dilation[2]),
  };
}

test('conv forward, backward input, backward weight', async () => {
  const cases: ConvParams[] = [
    convParams(2, 3, [1, 9, 11], 5, [1, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1], 1),
    convParams(1, 4, [1, 10, 9], 6, [1, 3, 2], [1, 2, 3], [0, 1, 0], [1, 2, 1], 2),
    convParams(2, 2, [4, 5, 6], 3, [2, 3, 2], [2, 1, 2], [1, 1, 0], [1, 1, 2], 1),
    convParams(1, 6, [1, 7, 7], 6, [1, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1], 6),
    convParams(3, 70, [1, 3, 3], 66, [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1),
    convParams(1, 2, [1, 1, 70], 1, [1, 1, 5], [1, 1, 1], [0, 0, 2], [1, 1, 1], 1),
  ];
  for (const p of cases) {
    const label = `conv N${p.N} C${p.C} ${p.D}x${p.H}x${p.W} O${p.O} k${p.kd}${p.kh}${p.kw} s${p.stride} p${p.padding} d${p.dilation} g${p.groups}`;
    const x = randomData(p.N * p.C * p.D * p.H * p.W, normal());
    const w = randomData(p.O * (p.C / p.groups) * p.kd * p.kh * p.kw, normal());
    const bias = randomData(p.O, normal());
    const outSize = p.N * p.O * p.oD * p.oH * p.oW;
    for (const withBias of [true, false]) {
      const y = output(outSize);
      ref.conv(x.ref, w.ref, withBias ? bias.ref : undefined, y.ref, p);
      g().conv(x.gpu, w.gpu, withBias ? bias.gpu : undefined, y.gpu, p);
      await expectClose(y, `${label} forward bias=${withBias}`, 1e-4, 1e-4);
    }
    const gy = randomData(outSize, normal());
    const gx = output(p.N * p.C * p.D * p.H * p.W);
    ref.convBackwardInput(gy.ref, w.ref, gx.ref, p);
    g().convBackwardInput(gy.gpu, w.gpu, gx.gpu, p);
    await expectClose(gx, `${label} backward input`, 1e-4, 1e-4);
    const gw = output(p.O * (p.C / p.groups) * p.kd * p.kh * p.kw);
    ref.convBackwardWeight(x.ref, gy.ref, gw.ref, p);
    g().convBackwardWeight(x.gpu, gy.gpu, gw.gpu, p);
    await expectClose(gw, `${label} backward weight`, 1e-4, 1e-4);
  }
});

function poolParams(N: number, C: number, [D, H, W]: number[], [kd, kh, kw]: number[],
  stride: [number, number, number], padding: [number, number, number]): PoolParams {
  const out = (i: number, k: number, s: number, p: number) => Math.floor((i + 2 * p - k) / s) + 1;
  return {
    N, C, D, H, W, kd, kh, kw, stride, padding,
    oD: out(D, kd, stride[0], padding[0]), oH: out(H, kh, stride[1], padding[1]), oW: out(W, kw, stride[2], padding[2]),
    dilation: [1, 1, 1], count_include_pad: 1,
  };
}

test('max and average pooling, average pooling backward', async () => {
  const cases: PoolParams[] = [
    poolParams(2, 3, [1, 8, 8], [1, 2, 2], [1, 2, 2], [0, 0, 0]),
    poolParams(1, 2, [1, 9, 7], [1, 3, 3], [1, 2, 1], [0, 1, 1]),
    poolParams(2, 2, [5, 6, 7], [3, 2, 3], [2, 2, 2], [1, 1, 1]),
    poolParams(3, 5, [1, 17, 19], [1, 3, 2], [1, 3, 2], [0, 1, 0]),
  ];
  for (const p of cases) {
    const label = `pool ${p.N}x${p.C}x${p.D}x${p.H}x${p.W} k${p.kd}${p.kh}${p.kw} s${p.stride} p${p.padding}`;
    const inSize = p.N * p.C * p.D * p.H * p.W;
    const outSize = p.N * p.C * p.oD * p.oH * p.oW;
    // Few distinct values: ties must pick the first position.
    const x = randomData(inSize, integers(-4, 5));
    const y = output(outSize);
    const argmax = output(outSize, 'int32');
    ref.maxPool(x.ref, y.ref, argmax.ref, p);
    g().maxPool(x.gpu, y.gpu, argmax.gpu, p);
    await expectEqual(y, `${label} max`);
    await expectEqual(argmax, `${label} argmax`);
    const avg = output(outSize);
    ref.avgPool(x.ref, avg.ref, p);
    g().avgPool(x.gpu, avg.gpu, p);
    await expectClose(avg, `${label} avg`, 1e-6, 1e-6);
    const gy = randomData(outSize, normal());
    const gx = output(inSize);
    ref.avgPoolBackward(gy.ref, gx.ref, p);
    g().avgPoolBackward(gy.gpu, gx.gpu, p);
    await expectClose(gx, `${label} avg backward`, 1e-5, 1e-6);
  }
});

// ---- batching, errors and lifetime ----

test('long op chains span several batches; freeing pending inputs is safe', async () => {
  const n = 1000;
  const view = (buf: Buf): View => ({ buf, shape: [n], strides: [1], offset: 0 });
  const one = g().alloc(1, 'float32');
  g().fill(one, 1);
  const ones = { buf: one, shape: [n], strides: [0], offset: 0 };
  let x = g().alloc(n, 'float32');
  g().fill(x, 0);
  for (let step = 0; step < 300; step++) {
    const next = g().alloc(n, 'float32');
    g().binary('add', view(x), ones, next);
    g().free(x); // still used by the unsubmitted add
    x = next;
  }
  const result = await g().read(x);
  assert.ok(result.every((v) => v === 300), `expected 300 everywhere, got ${result[0]}`);
});

test('GPU validation errors reject the next sync naming the op', async () => {
  const runtime = g()['gpu'];
  const o = g().alloc(4, 'float32') as WebGpuBuf;
  runtime.run('deliberately broken op', [{
    kernel: { families: ['elementwise'], prelude: '', entry: 'no_such_entry_point' },
    params: new Params().u32(4),
    bindings: [[1, o.gpu]],
    workgroups: [1, 1, 1],
  }]);
  try {
    await g().sync();
    assert.unreachable('sync should have rejected');
  } catch (e) {
    assert.match((e as Error).message, /webgpu deliberately broken op failed/);
  }
  // The error is reported once; the backend keeps working.
  await g().sync();
  const f = upload(new Float32Array([4]));
  assert.equal(Array.from(await g().read(f.gpu)), [4]);
});

test('destroy releases the device; later calls throw', async () => {
  g().destroy();
  assert.throws(() => g().alloc(1, 'float32'), /destroyed/);
});

if (gpu) test.run();
