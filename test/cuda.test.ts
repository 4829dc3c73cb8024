// The cuda backend. Without a GPU (CI): constructing it throws an error that
// says why, and the native functions answer without touching a device. With
// a GPU: every kernel against the reference backend on fresh random inputs
// (strided, broadcast and empty views; odd sizes; every matmul/conv
// precision), and the data-dependent errors (bad indices, bad CSR).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, Buf, ConvParams, Csr, DType, PoolParams, View } from '../src/backend/interface.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { CudaBackend, type CudaAddon, type CudaPrecision } from '../src/backend/cuda/index.js';
import { loadAddon } from '../src/backend/cpu/addon.js';
import { Rng } from '../src/rng.js';
import { PENDING_ON_CUDA, kernelMethods } from './kernel-coverage.js';

const seed = Number(process.env.TESSERA_TEST_SEED ?? (Date.now() % 1e9));
const rng = new Rng(seed);
const s = suite('cuda backend');
const ref = new ReferenceBackend();

let cuda: CudaBackend | undefined;
let unavailable = '';
try {
  cuda = new CudaBackend();
} catch (e) {
  unavailable = (e as Error).message;
}

if (!cuda) {
  console.log(`  (cuda kernel checks skipped: ${unavailable})`);
  const { addon } = loadAddon();
  const native = addon as CudaAddon | undefined;

  s('without a GPU, constructing the backend throws an error that says why', () => {
    assert.match(unavailable, /^cuda /);
    assert.match(unavailable, /no CUDA GPU present|built without CUDA|addon/);
  });

  if (native && native.info().cuda) {
    s('the addon built with CUDA counts 0 devices instead of failing', () => {
      assert.is(native.cudaDeviceCount(), 0);
      assert.match(unavailable, /cuda init: no CUDA GPU present \(cudaGetDeviceCount: .+\)/);
    });
    s('native functions refuse to run before cudaInit, naming the op', () => {
      assert.throws(() => native.cudaAlloc(4, 'float32'), /cuda alloc: the CUDA backend is not initialized/);
      assert.throws(() => native.cudaFill(1, 0), /cuda fill: the CUDA backend is not initialized/);
      assert.throws(() => native.cudaInit(0), /cuda init: no CUDA GPU present/);
    });
    s('the addon has a function for every kernel of the Backend interface', () => {
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const kernels = kernelMethods(readFileSync(join(root, 'src/backend/interface.ts'), 'utf8'));
      assert.ok(kernels.length > 10);
      const functions = native as unknown as Record<string, (...args: unknown[]) => unknown>;
      for (const k of kernels.filter((m) => !PENDING_ON_CUDA.includes(m))) {
        const name = `cuda${k[0].toUpperCase()}${k.slice(1)}`;
        assert.type(functions[name], 'function', name);
        assert.throws(() => functions[name](), new RegExp(`^cuda ${k}: the CUDA backend is not initialized`), name);
      }
    });
  }
} else {
  const gpu = cuda;
  console.log(`  (cuda: ${gpu.device.name}, compute capability ${gpu.device.computeCapability})`);

  // ---- inputs on both backends ----
  const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  const denseStrides = (shape: readonly number[]): number[] => {
    const st = new Array<number>(shape.length);
    let acc = 1;
    for (let d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]; }
    return st;
  };
  type Gen = () => number;
  const normal: Gen = () => rng.normal();
  const positive: Gen = () => 0.1 + 3 * rng.uniform();

  /** The same data on the reference and on cuda. */
  interface Pair { r: Buf; c: Buf; data: Float32Array | Int32Array }
  function pair(n: number, dtype: DType = 'float32', gen: Gen = normal): Pair {
    const data = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = gen();
    const r = ref.alloc(n, dtype); ref.write(r, data);
    const c = gpu.alloc(n, dtype); gpu.write(c, data);
    return { r, c, data };
  }
  /** An output on both, the cuda one poisoned with NaN (int: a sentinel) so unwritten elements show. */
  function outputs(n: number, dtype: DType = 'float32'): Pair {
    const r = ref.alloc(n, dtype);
    const c = gpu.alloc(n, dtype);
    gpu.fill(c, dtype === 'int32' ? -12345 : NaN);
    return { r, c, data: new Float32Array(0) };
  }

  type Layout = 'dense' | 'permuted' | 'sliced' | 'broadcast';
  const layouts: Layout[] = ['dense', 'permuted', 'sliced', 'broadcast'];
  /** A view of `shape` over a buffer laid out as `layout`: the same View on both backends. */
  function views(shape: readonly number[], layout: Layout, dtype: DType = 'float32', gen: Gen = normal): { r: View; c: View } {
    const nd = shape.length;
    let stored = [...shape], strides = denseStrides(shape), offset = 0;
    if (layout === 'permuted' && nd >= 2) {
      const perm = Array.from(rng.permutation(nd));
      stored = perm.map((p) => shape[p]);
      const st = denseStrides(stored);
      strides = new Array<number>(nd);
      perm.forEach((p, i) => { strides[p] = st[i]; });
    } else if (layout === 'sliced') {
      const steps = shape.map(() => 1 + rng.int(2)), starts = shape.map(() => rng.int(3));
      stored = shape.map((n, d) => starts[d] + Math.max(n - 1, 0) * steps[d] + 1);
      const bst = denseStrides(stored);
      offset = starts.reduce((acc, st, d) => acc + st * bst[d], 0);
      strides = bst.map((v, d) => v * steps[d]);
    } else if (layout === 'broadcast') {
      stored = shape.map((n) => (rng.uniform() < 0.5 ? 1 : n));
      strides = denseStrides(stored).map((v, d) => (stored[d] === 1 ? 0 : v));
    }
    const p = pair(numel(stored), dtype, gen);
    return { r: { buf: p.r, shape, strides, offset }, c: { buf: p.c, shape, strides, offset } };
  }
  const randomShape = (maxDims = 4, maxSize = 7): number[] =>
    Array.from({ length: rng.int(maxDims + 1) }, () => (rng.uniform() < 0.08 ? 0 : 1 + rng.int(maxSize)));
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];

  /** |got - want| <= atol + rtol * max|want| (normwise: one tolerance for the whole result). */
  async function expectClose(p: Pair, what: string, rtol = 1e-5, atol = 1e-6): Promise<void> {
    const got = await gpu.read(p.c), want = ref.readSync(p.r);
    assert.is(got.length, want.length, `${what}: length`);
    let scale = 0;
    for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
    for (let i = 0; i < want.length; i++) {
      const g = got[i], w = want[i];
      const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * scale;
      if (!ok) assert.unreachable(`${what}: element ${i} is ${g}, expected ${w} (rtol ${rtol}, atol ${atol}; seed ${seed})`);
    }
  }
  const describe = (v: View): string => `shape [${v.shape}] strides [${v.strides}] offset ${v.offset}`;
  const freeAll = (...ps: Pair[]): void => { for (const p of ps) { ref.free(p.r); gpu.free(p.c); } };

  s('storage: write, read, readSync and sync round-trip both dtypes', async () => {
    const f = pair(1000), i = pair(37, 'int32', () => rng.int(1 << 30) - (1 << 29));
    assert.equal(Array.from(await gpu.read(f.c)), Array.from(f.data));
    assert.equal(Array.from(gpu.readSync(i.c)), Array.from(i.data));
    await gpu.sync();
    const empty = gpu.alloc(0, 'float32');
    assert.is((await gpu.read(empty)).length, 0);
    gpu.free(empty);
    assert.throws(() => gpu.free(empty), /cuda free: buffer: unknown or freed buffer/);
    assert.throws(() => gpu.write(f.c, new Float32Array(3)), /cuda write: data has 3 elements/);
    freeAll(f, i);
  });

  s('fill and copy (strided views, casts)', async () => {
    for (let trial = 0; trial < 40; trial++) {
      const shape = randomShape();
      const from = pick(['float32', 'int32'] as const), to = pick(['float32', 'int32'] as const);
      const gen: Gen = from === 'int32' ? () => rng.int(2001) - 1000 : () => pick([rng.normal() * 5, 2.5, -2.5, 1e10, -3e9]);
      const x = views(shape, pick(layouts), from, gen);
      const o = outputs(numel(shape), to);
      gpu.copy(x.c, o.c); ref.copy(x.r, o.r);
      await expectClose(o, `copy ${from}->${to} ${describe(x.r)}`, 0, 0);
      gpu.fill(o.c, 3.75); ref.fill(o.r, 3.75);
      await expectClose(o, `fill ${to}`, 0, 0);
      freeAll(o);
    }
  });

  s('unary: every op on strided views', async () => {
    const ops = ['neg', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'leakyRelu',
      'elu', 'gelu', 'geluGrad', 'softplus', 'sin', 'cos', 'square', 'reciprocal', 'floor', 'silu', 'mish', 'hardswish',
      'logSigmoid', 'erf', 'atan', 'ceil', 'round', 'trunc', 'lgamma', 'digamma', 'trigamma', 'isnan', 'isinf', 'isfinite'] as const;
    const needsPositive = new Set(['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'lgamma', 'digamma', 'trigamma']);
    for (const op of ops) {
      const shape = [1 + rng.int(40), 1 + rng.int(70)];
      const x = views(shape, pick(layouts), 'float32', needsPositive.has(op) ? positive : () => 4 * rng.normal());
      const o = outputs(numel(shape));
      gpu.unary(op, x.c, o.c, 0.3); ref.unary(op, x.r, o.r, 0.3);
      await expectClose(o, `unary ${op} ${describe(x.r)}`, 2e-6, 1e-6);
      freeAll(o);
    }
  });

  s('binary: every op, broadcasting, float and int32', async () => {
    const ops = ['add', 'sub', 'mul', 'div', 'pow', 'minimum', 'maximum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'remainder', 'floorDivide',
      'atan2'] as const;
    for (const op of ops) {
      for (const dtype of ['float32', 'int32'] as const) {
        const shape = [1 + rng.int(5), 1 + rng.int(300), 1 + rng.int(9)];
        const gen: Gen = dtype === 'int32' ? () => rng.int(41) - 20 : op === 'pow' ? positive : () => rng.int(5) - 2 + 0.5 * rng.uniform();
        const a = views(shape, pick(layouts), dtype, gen), b = views(shape, pick(layouts), dtype, gen);
        const outType: DType = dtype === 'int32' && op !== 'pow' ? pick(['float32', 'int32'] as const) : 'float32';
        const o = outputs(numel(shape), outType);
        gpu.binary(op, a.c, b.c, o.c); ref.binary(op, a.r, b.r, o.r);
        await expectClose(o, `binary ${op} ${dtype}->${outType} a ${describe(a.r)} b ${describe(b.r)}`, 2e-6, 0);
        freeAll(o);
      }
    }
    // A long dense run takes the 16-byte path and its scalar tail.
    const n = 1_000_003;
    const a = views([n], 'dense'), b = views([n], 'dense'), o = outputs(n);
    gpu.binary('mul', a.c, b.c, o.c); ref.binary('mul', a.r, b.r, o.r);
    await expectClose(o, 'binary mul dense 1e6+3', 0, 0);
  });

  s('where with float and int conditions', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const shape = randomShape(4, 9), condType = pick(['float32', 'int32'] as const);
      const c = views(shape, pick(layouts), condType, () => rng.int(3) - 1);
      const a = views(shape, pick(layouts)), b = views(shape, pick(layouts));
      const o = outputs(numel(shape));
      gpu.where(c.c, a.c, b.c, o.c); ref.where(c.r, a.r, b.r, o.r);
      await expectClose(o, `where ${describe(c.r)}`, 0, 0);
      freeAll(o);
    }
  });

  s('reduce: every op, rows and columns, split axes, empty axis', async () => {
    const ops = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as const;
    const shapes = [[3, 17, 1], [5, 3000, 1], [2, 200000, 1], [4, 33, 7], [1, 50000, 40], [3, 0, 2], [70, 5, 1]];
    for (const op of ops) {
      for (const [outer, size, inner] of shapes) {
        const ties = rng.uniform() < 0.5;  // small integers: many ties for argmax/argmin
        const gen: Gen = op === 'prod' ? () => 1 + 0.001 * rng.normal() : ties ? () => rng.int(5) : normal;
        const x = pair(outer * size * inner, 'float32', gen);
        const outType: DType = op.startsWith('arg') ? 'int32' : 'float32';
        const o = outputs(outer * inner, outType);
        gpu.reduce(op, x.c, outer, size, inner, o.c); ref.reduce(op, x.r, outer, size, inner, o.r);
        await expectClose(o, `reduce ${op} [${outer}, ${size}, ${inner}]`, 1e-6, 0);
        freeAll(x, o);
      }
    }
  });

  const precisions: [CudaPrecision, number][] = [['float32', 2e-5], ['tf32', 5e-3], ['bf16', 3e-2]];

  s('matmul: transposed and broadcast views, batches, bias, activations, every precision', async () => {
    for (const [precision, rtol] of precisions) {
      gpu.precision = precision;
      for (let trial = 0; trial < 8; trial++) {
        const batch = 1 + rng.int(3), M = 1 + rng.int(trial < 4 ? 70 : 300), N = 1 + rng.int(trial < 4 ? 70 : 300);
        const K = trial === 0 ? 0 : 1 + rng.int(trial === 7 ? 5000 : 200);
        const transA = rng.uniform() < 0.5, transB = rng.uniform() < 0.5, bcastB = rng.uniform() < 0.3;
        const withBias = rng.uniform() < 0.5;
        const act = pick(['none', 'relu', 'gelu', 'tanh', 'sigmoid'] as const), alpha = 0.5 + rng.uniform();
        const A = pair(batch * M * K), B = pair((bcastB ? 1 : batch) * K * N), bias = pair(N);
        const aStrides = transA ? [M * K, 1, M] : [M * K, K, 1];
        const bStrides = [bcastB ? 0 : K * N, ...(transB ? [1, K] : [N, 1])];
        const o = outputs(batch * M * N);
        const run = (be: Backend, side: 'r' | 'c') => be.matmul(
          { buf: A[side], shape: [batch, M, K], strides: aStrides, offset: 0 },
          { buf: B[side], shape: [batch, K, N], strides: bStrides, offset: 0 },
          o[side], { batch, M, N, K, alpha, act, bias: withBias ? bias[side] : undefined });
        run(gpu, 'c'); run(ref, 'r');
        await expectClose(o, `matmul ${precision} batch ${batch} M ${M} N ${N} K ${K} transA ${transA} transB ${transB} ` +
          `bcastB ${bcastB} bias ${withBias} ${act}`, rtol, 1e-5);
        freeAll(A, B, bias, o);
      }
    }
    gpu.precision = 'float32';
  });

  s('gather and scatterAdd, and out-of-range indices', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const xShape = [2 + rng.int(6), 2 + rng.int(6), 1 + rng.int(4)];
      const axis = rng.int(3);
      const idxShape = xShape.map((n, d) => (d === axis ? 1 + rng.int(8) : 1 + rng.int(n)));
      const x = views(xShape, pick(layouts));
      const idx = views(idxShape, pick(['dense', 'sliced'] as const), 'int32', () => rng.int(xShape[axis]));
      const o = outputs(numel(idxShape));
      gpu.gather(x.c, axis, idx.c, o.c); ref.gather(x.r, axis, idx.r, o.r, idxShape);
      await expectClose(o, `gather axis ${axis} x ${describe(x.r)} idx ${describe(idx.r)}`, 0, 0);
      // scatterAdd back into an accumulator of x's shape.
      const acc = pair(numel(xShape));
      const src = views(idxShape, pick(layouts));
      gpu.scatterAdd(acc.c, xShape, axis, idx.c, src.c); ref.scatterAdd(acc.r, xShape, axis, idx.r, src.r);
      await expectClose(acc, `scatterAdd axis ${axis} idx ${describe(idx.r)}`, 1e-6, 1e-6);
      freeAll(o, acc);
    }
    const x = views([4, 5], 'dense'), bad = views([2, 5], 'dense', 'int32', () => 4), o = outputs(10);
    gpu.write(bad.c.buf, Int32Array.from([0, 1, 2, 3, 0, 1, 9, 3, 0, 1]));
    assert.throws(() => gpu.gather(x.c, 0, bad.c, o.c), /gather: index 9 out of range \[0, 4\) on axis 0 \(cuda\)/);
    assert.throws(() => gpu.scatterAdd(o.c, [2, 5], 0, bad.c, x.c), /scatterAdd: index/);
  });

  /** A random CSR with empty rows, on both backends. */
  function randomCsr(rows: number, cols: number, maxDegree: number, withValues: boolean): { r: Csr; c: Csr } {
    const rowPtr = new Int32Array(rows + 1), cols_: number[] = [];
    for (let r = 0; r < rows; r++) {
      const deg = rng.uniform() < 0.2 ? 0 : rng.int(maxDegree + 1);
      const set = new Set<number>();
      for (let e = 0; e < deg; e++) set.add(rng.int(cols));
      cols_.push(...[...set].sort((a, b) => a - b));
      rowPtr[r + 1] = cols_.length;
    }
    const nnz = cols_.length;
    const rp = pair(rows + 1, 'int32'), ci = pair(nnz, 'int32'), vals = pair(nnz);
    for (const [p, d] of [[rp, rowPtr], [ci, Int32Array.from(cols_)]] as const) { ref.write(p.r, d); gpu.write(p.c, d); }
    const base = { rows, cols, nnz };
    return {
      r: { ...base, rowPtr: rp.r, colIdx: ci.r, values: withValues ? vals.r : undefined },
      c: { ...base, rowPtr: rp.c, colIdx: ci.c, values: withValues ? vals.c : undefined },
    };
  }

  s('spmm, sddmm, edge softmax and its backward', async () => {
    for (const [rows, cols, deg, F, H] of [[50, 40, 8, 128, 2], [300, 200, 70, 5, 3], [10, 10, 3, 1, 1], [64, 64, 40, 36, 4]]) {
      const a = randomCsr(rows, cols, deg, rng.uniform() < 0.5);
      const x = pair(cols * F), o = outputs(rows * F);
      gpu.spmm(a.c, x.c, F, o.c); ref.spmm(a.r, x.r, F, o.r);
      await expectClose(o, `spmm ${rows}x${cols} F ${F}`);
      const xs = pair(rows * H * F), ys = pair(cols * H * F), sc = outputs(a.r.nnz * H);
      gpu.sddmm(a.c, xs.c, ys.c, H, F, sc.c); ref.sddmm(a.r, xs.r, ys.r, H, F, sc.r);
      await expectClose(sc, `sddmm H ${H} F ${F}`);
      const scores = pair(a.r.nnz * H), y = outputs(a.r.nnz * H);
      gpu.edgeSoftmax(a.c, scores.c, H, y.c); ref.edgeSoftmax(a.r, scores.r, H, y.r);
      await expectClose(y, `edgeSoftmax H ${H}`);
      const g = pair(a.r.nnz * H), gs = outputs(a.r.nnz * H);
      gpu.edgeSoftmaxBackward(a.c, y.c, g.c, H, gs.c); ref.edgeSoftmaxBackward(a.r, y.r, g.r, H, gs.r);
      await expectClose(gs, `edgeSoftmaxBackward H ${H}`);
      freeAll(x, o, xs, ys, sc, scores, y, g, gs);
    }
    // Column 4 of a 4-column matrix, in the last entry.
    const rowPtr = gpu.alloc(3, 'int32'), colIdx = gpu.alloc(2, 'int32');
    gpu.write(rowPtr, Int32Array.from([0, 1, 2]));
    gpu.write(colIdx, Int32Array.from([0, 4]));
    const x = pair(16), o = outputs(8);
    assert.throws(() => gpu.spmm({ rows: 2, cols: 4, nnz: 2, rowPtr, colIdx }, x.c, 4, o.c),
      /cuda csr_validate: CSR 2x4 with 2 entries: column index 4 at entry 1 is outside \[0, cols\)/);
  });

  s('cmd moments forward and backward', async () => {
    for (const [n, d, k] of [[1000, 37, 5], [20000, 256, 3], [7, 3, 1], [3, 5, 8]]) {
      const x = pair(n * d, 'float32', () => 2 + rng.normal());
      const mean = outputs(d), mom = outputs((k - 1) * d);
      gpu.cmdMoments(x.c, n, d, k, mean.c, mom.c); ref.cmdMoments(x.r, n, d, k, mean.r, mom.r);
      await expectClose(mean, `cmdMoments mean n ${n} d ${d}`);
      await expectClose(mom, `cmdMoments moments n ${n} d ${d} k ${k}`, 1e-5, 1e-7);
      const gm = pair(d), gc = pair((k - 1) * d), gx = outputs(n * d);
      gpu.cmdMomentsBackward(x.c, n, d, k, mean.c, mom.c, gm.c, gc.c, gx.c);
      ref.cmdMomentsBackward(x.r, n, d, k, mean.r, mom.r, gm.r, gc.r, gx.r);
      await expectClose(gx, `cmdMomentsBackward n ${n} d ${d} k ${k}`, 1e-5, 1e-9);
      freeAll(x, mean, mom, gm, gc, gx);
    }
  });

  s('conv forward, backward input and weight (3d and 2d, strides, dilation, groups), every precision', async () => {
    const shapes: ConvParams[] = [];
    const conv = (N: number, C: number, D: number, H: number, W: number, O: number, k: [number, number, number],
      stride: [number, number, number], padding: [number, number, number], dilation: [number, number, number],
      groups: number): ConvParams => {
      const out = (n: number, i: number) => Math.floor((n + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) / stride[i]) + 1;
      return { N, C, D, H, W, O, kd: k[0], kh: k[1], kw: k[2], stride, padding, dilation, groups,
        oD: out(D, 0), oH: out(H, 1), oW: out(W, 2) };
    };
    shapes.push(conv(2, 4, 5, 9, 11, 6, [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 1));
    shapes.push(conv(2, 3, 6, 14, 14, 8, [3, 7, 7], [1, 2, 2], [1, 3, 3], [1, 1, 1], 1));
    shapes.push(conv(3, 6, 1, 13, 10, 4, [1, 3, 2], [1, 2, 1], [0, 1, 0], [1, 2, 1], 2));
    shapes.push(conv(1, 130, 2, 6, 6, 70, [2, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1], 1));
    for (const [precision, rtol] of precisions) {
      gpu.precision = precision;
      for (const p of shapes) {
        const xs = p.N * p.C * p.D * p.H * p.W, ws = p.O * (p.C / p.groups) * p.kd * p.kh * p.kw;
        const ys = p.N * p.O * p.oD * p.oH * p.oW;
        const x = pair(xs), w = pair(ws), bias = pair(p.O), y = outputs(ys);
        const what = `conv ${precision} ${JSON.stringify(p)}`;
        gpu.conv(x.c, w.c, bias.c, y.c, p); ref.conv(x.r, w.r, bias.r, y.r, p);
        await expectClose(y, `${what} forward`, rtol, 1e-5);
        const gy = pair(ys), gx = outputs(xs), gw = outputs(ws);
        gpu.convBackwardInput(gy.c, w.c, gx.c, p); ref.convBackwardInput(gy.r, w.r, gx.r, p);
        await expectClose(gx, `${what} backward input`, rtol, 1e-5);
        gpu.convBackwardWeight(x.c, gy.c, gw.c, p); ref.convBackwardWeight(x.r, gy.r, gw.r, p);
        await expectClose(gw, `${what} backward weight`, rtol, 1e-5);
        freeAll(x, w, bias, y, gy, gx, gw);
      }
    }
    gpu.precision = 'float32';
  });

  s('max and average pooling, average backward', async () => {
    const pools: PoolParams[] = [
      { N: 2, C: 3, D: 4, H: 9, W: 8, kd: 2, kh: 3, kw: 3, stride: [2, 2, 2], padding: [0, 1, 1], oD: 2, oH: 5, oW: 4, dilation: [1, 1, 1], count_include_pad: 1 },
      { N: 1, C: 2, D: 1, H: 7, W: 7, kd: 1, kh: 3, kw: 3, stride: [1, 1, 1], padding: [0, 1, 1], oD: 1, oH: 7, oW: 7, dilation: [1, 1, 1], count_include_pad: 0 },
    ];
    for (const p of pools) {
      const xs = p.N * p.C * p.D * p.H * p.W, ys = p.N * p.C * p.oD * p.oH * p.oW;
      const x = pair(xs, 'float32', () => rng.int(7)), y = outputs(ys), am = outputs(ys, 'int32');
      gpu.maxPool(x.c, y.c, am.c, p); ref.maxPool(x.r, y.r, am.r, p);
      await expectClose(y, `maxPool ${JSON.stringify(p)}`, 0, 0);
      await expectClose(am, `maxPool argmax ${JSON.stringify(p)}`, 0, 0);
      const ya = outputs(ys);
      gpu.avgPool(x.c, ya.c, p); ref.avgPool(x.r, ya.r, p);
      await expectClose(ya, `avgPool ${JSON.stringify(p)}`);
      const gy = pair(ys), gx = outputs(xs);
      gpu.avgPoolBackward(gy.c, gx.c, p); ref.avgPoolBackward(gy.r, gx.r, p);
      await expectClose(gx, `avgPoolBackward ${JSON.stringify(p)}`);
      freeAll(x, y, am, ya, gy, gx);
    }
  });

  s('lstm forward and backward (T = 1, reverse, H over the block size)', async () => {
    for (const [T, B, H, reverse] of [[1, 3, 5, 0], [20, 32, 40, 0], [7, 9, 40, 1], [3, 2, 130, 1]]) {
      const p = { T, B, H, reverse }, what = `lstm T ${T} B ${B} H ${H} reverse ${reverse}`;
      const gatesIn = pair(T * B * 4 * H), w = pair(4 * H * H, 'float32', () => rng.normal() / Math.sqrt(H));
      const h0 = pair(B * H), c0 = pair(B * H), states = outputs(2 * T * B * H), gates = outputs(T * B * 4 * H);
      gpu.lstmForward(gatesIn.c, w.c, h0.c, c0.c, states.c, gates.c, p);
      ref.lstmForward(gatesIn.r, w.r, h0.r, c0.r, states.r, gates.r, p);
      await expectClose(states, `${what}: states`);
      await expectClose(gates, `${what}: gates`);
      const gradStates = pair(2 * T * B * H), gradGates = outputs(T * B * 4 * H), gradH0 = outputs(B * H), gradC0 = outputs(B * H);
      gpu.lstmBackward(w.c, c0.c, gates.c, states.c, gradStates.c, gradGates.c, gradH0.c, gradC0.c, p);
      ref.lstmBackward(w.r, c0.r, gates.r, states.r, gradStates.r, gradGates.r, gradH0.r, gradC0.r, p);
      await expectClose(gradGates, `${what}: gradGates`, 1e-4, 1e-6);
      await expectClose(gradH0, `${what}: gradH0`, 1e-4, 1e-6);
      await expectClose(gradC0, `${what}: gradC0`, 1e-4, 1e-6);
      freeAll(gatesIn, w, h0, c0, states, gates, gradStates, gradGates, gradH0, gradC0);
    }
  });

  s('argument errors name the op instead of touching memory', () => {
    const small = gpu.alloc(4, 'float32');
    assert.throws(() => gpu.copy({ buf: small, shape: [5], strides: [1], offset: 0 }, small),
      /cuda copy: x view .*reaches elements \[0, 4\] of a 4-element buffer/);
    assert.throws(() => gpu.reduce('sum', small, 2, 3, 1, small), /cuda reduce: x has 4 elements, needs 6/);
    gpu.free(small);
  });
}

s.run();
