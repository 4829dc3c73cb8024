// The cpu backend's core kernels (copy, unary, binary, where, reduce, matmul, gather,
// scatterAdd) against the reference backend on fresh random shapes: zero-size, permuted,
// sliced and broadcast views, sizes large enough for the threaded and SIMD paths, odd tails.
// Float kernels run once per SIMD level this CPU has (AVX-512, AVX2, baseline). Also the
// native argument checks: bad sizes and indices throw Errors instead of touching memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation, BinaryOp, Buf, DType, ReduceOp, UnaryOp, View } from '../src/backend/interface.js';
import { HostBuf } from '../src/backend/hostbuf.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { CpuBackend } from '../src/backend/cpu/index.js';
import { loadAddon } from '../src/backend/cpu/addon.js';
import { Rng } from '../src/rng.js';
import { CODES } from '../src/schema.js';

const seed = Number(process.env.TESSERA_TEST_SEED ?? (Date.now() % 1e9));
const rng = new Rng(seed);
const s = suite('cpu core kernels');
const ref = new ReferenceBackend();

// ---- inputs ----

type Gen = () => number;
const normal: Gen = () => rng.normal();

function numel(shape: readonly number[]): number { return shape.reduce((a, b) => a * b, 1); }
function denseStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]; }
  return st;
}
function buffer(n: number, dtype: DType, gen: Gen): HostBuf {
  const data = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = gen();
  return new HostBuf(data, dtype);
}

type Layout = 'dense' | 'permuted' | 'sliced' | 'broadcast';
const layouts: Layout[] = ['dense', 'permuted', 'sliced', 'broadcast'];

/** A view of `shape` laid out in memory as `layout`, over a buffer filled by gen. */
function makeView(shape: readonly number[], layout: Layout, dtype: DType = 'float32', gen: Gen = normal): View {
  const nd = shape.length;
  if (layout === 'permuted' && nd >= 2) {
    const perm = Array.from(rng.permutation(nd));
    const stored = perm.map((p) => shape[p]);
    const st = denseStrides(stored);
    const strides = new Array<number>(nd);
    perm.forEach((p, i) => { strides[p] = st[i]; });
    return { buf: buffer(numel(stored), dtype, gen), shape, strides, offset: 0 };
  }
  if (layout === 'sliced') {
    // Every dimension of a larger buffer, stepped by 1 or 2, starting past an offset.
    const steps = shape.map(() => 1 + rng.int(2));
    const starts = shape.map(() => rng.int(3));
    const base = shape.map((n, d) => starts[d] + Math.max(n - 1, 0) * steps[d] + 1 + rng.int(2));
    const bst = denseStrides(base);
    const offset = starts.reduce((acc, st, d) => acc + st * bst[d], 0);
    return { buf: buffer(numel(base), dtype, gen), shape, strides: bst.map((v, d) => v * steps[d]), offset };
  }
  if (layout === 'broadcast') {
    // Some dimensions read one stored element (stride 0), as expand() makes them.
    const stored = shape.map((n) => (rng.uniform() < 0.5 ? 1 : n));
    const st = denseStrides(stored).map((v, d) => (stored[d] === 1 ? 0 : v));
    return { buf: buffer(numel(stored), dtype, gen), shape, strides: st, offset: 0 };
  }
  return { buf: buffer(numel(shape), dtype, gen), shape, strides: denseStrides(shape), offset: 0 };
}

function randomShape(maxDims = 4, maxSize = 7): number[] {
  const nd = rng.int(maxDims + 1);
  return Array.from({ length: nd }, () => (rng.uniform() < 0.08 ? 0 : 1 + rng.int(maxSize)));
}
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];

// ---- comparison ----

function sameNumber(g: number, w: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(w)) return Number.isNaN(g);
  if (!Number.isFinite(w)) return g === w;
  return Math.abs(g - w) <= atol + rtol * Math.abs(w);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 0, atol = 0,
  scale?: ArrayLike<number>): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = scale ? atol + rtol * scale[i] : atol;
    const ok = scale && Number.isFinite(want[i]) ? Math.abs(got[i] - want[i]) <= tol : sameNumber(got[i], want[i], rtol, atol);
    if (!ok) {
      assert.unreachable(`${what}: element ${i} is ${got[i]}, expected ${want[i]} (rtol ${rtol}, atol ${atol}; seed ${seed})`);
    }
  }
}

function describe(v: View): string { return `shape [${v.shape}] strides [${v.strides}] offset ${v.offset}`; }

const loaded = loadAddon();
if (!loaded.addon) {
  console.log(`  (skipping cpu core kernels: ${loaded.error})`);
} else {
  const cpu = new CpuBackend();
  const levels = (['avx512', 'avx2', 'scalar'] as const).filter((l) => {
    const got = cpu.addon.setSimd(l);
    return got === l;
  });
  const best = levels[0];
  cpu.addon.setSimd(best);
  const eachLevel = (name: string, body: (level: string) => void): void => {
    s(`${name} (${levels.join(', ')})`, () => {
      try {
        for (const level of levels) { cpu.addon.setSimd(level); body(level); }
      } finally { cpu.addon.setSimd(best); }
    });
  };

  const outOf = (size: number, dtype: DType = 'float32'): { c: HostBuf; r: HostBuf } => ({
    c: cpu.alloc(size, dtype) as HostBuf, r: ref.alloc(size, dtype) as HostBuf,
  });

  s('info() reports the SIMD level, threads and build', () => {
    const info = cpu.info();
    assert.ok(['avx512', 'avx2', 'scalar'].includes(info.simd), info.simd);
    assert.ok(info.threads >= 1);
    assert.type(info.cuda, 'boolean');
    assert.match(info.buildFlags, /-O3/);
  });

  s('storage and fill: alloc, write, read back, fill with casts like the reference', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const b = cpu.alloc(7, dtype), r = ref.alloc(7, dtype);
      const values = dtype === 'int32' ? Int32Array.from([1, -2, 3, 4, 5, 6, 7]) : Float32Array.from([0.5, -2, 3, 4, 5, 6, NaN]);
      cpu.write(b, values);
      expectClose(cpu.readSync(b), values, `write/readSync ${dtype}`);
      expectClose(await cpu.read(b), values, `read ${dtype}`);
      for (const v of [2.7, -2.7, NaN, 1e10]) {
        cpu.fill(b, v); ref.fill(r, v);
        expectClose((b as HostBuf).data, (r as HostBuf).data, `fill ${dtype} ${v}`);
      }
    }
  });

  // ---- copy ----
  s('copy: strided views, both dtypes and casts', () => {
    for (let trial = 0; trial < 60; trial++) {
      const shape = randomShape();
      const from: DType = pick(['float32', 'int32'] as const), to: DType = pick(['float32', 'int32'] as const);
      const gen: Gen = from === 'int32' ? () => rng.int(2001) - 1000 : () => pick([rng.normal() * 5, 2.5, -2.5, 1e10, -3e9, NaN, Infinity]);
      const x = makeView(shape, pick(layouts), from, gen);
      const o = outOf(numel(shape), to);
      cpu.copy(x, o.c); ref.copy(x, o.r);
      expectClose(o.c.data, o.r.data, `copy ${from}->${to} ${describe(x)}`);
    }
  });

  s('copy: large transposed view (threaded)', () => {
    const x = makeView([301, 517], 'permuted');
    const o = outOf(301 * 517);
    cpu.copy(x, o.c); ref.copy(x, o.r);
    expectClose(o.c.data, o.r.data, 'copy transposed');
  });

  // ---- unary ----
  const specials = [0, -0, 1e-40, -1e-40, 1e-7, -1e-7, 0.5, -0.5, 0.625, -0.625, 0.92, -0.92, 1, -1, 3, -3, 9.5, -9.5,
    20, 21, -20, 87, 88.7, 89, -87.5, -103, -104, -110, 8191.5, -8193, 1e30, -1e30, Infinity, -Infinity, NaN];
  // [rtol, atol]. Arithmetic that rounds once is exact. Observed relative errors (against this
  // reference and mpmath) are below a third of these rtols; atol covers where the reference itself
  // loses digits: exp(x) - 1 near 0 (elu) and 1 + erf(x) for very negative x (gelu) cancel in double.
  const unaryTol: Record<UnaryOp, [number, number]> = {
    neg: [0, 0], abs: [0, 0], sign: [0, 0], relu: [0, 0], square: [0, 0], floor: [0, 0], sqrt: [0, 0], reciprocal: [0, 0],
    rsqrt: [2.4e-7, 0], leakyRelu: [1.2e-7, 0],
    exp: [1e-6, 1e-44], log: [1e-6, 0], log1p: [1e-6, 0], tanh: [1e-6, 0], sigmoid: [1e-6, 1e-44], elu: [1e-6, 1e-15],
    gelu: [1e-6, 1e-14], geluGrad: [1e-6, 1e-7], softplus: [1e-6, 1e-44], sin: [1e-6, 1e-7], cos: [1e-6, 1e-7],
    ceil: [0, 0], round: [0, 0], trunc: [0, 0], isnan: [0, 0], isinf: [0, 0], isfinite: [0, 0],
    // silu and mish multiply sigmoid's (softplus's) denormal tail by x (|x| up to 110 among the specials).
    silu: [1e-6, 2e-42], mish: [1e-6, 2e-42], hardswish: [2.4e-7, 0], logSigmoid: [1e-6, 1e-44], erf: [1e-6, 1e-44],
    // Computed in float64 (as the reference) and rounded once; the reference's own lgamma (Lanczos) and
    // std::lgamma differ by ~1e-15 absolute near lgamma's zeros at 1 and 2.
    atan: [1.2e-7, 0], lgamma: [1.2e-7, 1e-14], digamma: [1.2e-7, 1e-14], trigamma: [1.2e-7, 0],
  };
  const unaryOps = Object.keys(unaryTol) as UnaryOp[];

  eachLevel('unary: every op on random views and special values', (level) => {
    for (const op of unaryOps) {
      const [rtol, atol] = unaryTol[op];
      const alpha = op === 'elu' ? 1.3 : 0.07;
      for (let trial = 0; trial < 6; trial++) {
        const shape = trial === 0 ? [specials.length] : randomShape(4, 9);
        const gen: Gen = trial === 0 ? (() => { let i = 0; return () => specials[i++]; })() : () => 4 * rng.normal();
        const x = makeView(shape, trial === 0 ? 'dense' : pick(layouts), 'float32', gen);
        const o = outOf(numel(shape));
        cpu.unary(op, x, o.c, alpha); ref.unary(op, x, o.r, alpha);
        expectClose(o.c.data, o.r.data, `${level} unary ${op} ${describe(x)}`, rtol, atol);
      }
    }
  });

  eachLevel('unary: large inputs through threads and odd tails', (level) => {
    for (const op of ['exp', 'gelu', 'tanh', 'neg'] as UnaryOp[]) {
      const [rtol, atol] = unaryTol[op];
      for (const shape of [[100003], [517, 301]]) {
        const x = makeView(shape, shape.length === 2 ? 'permuted' : 'dense');
        const o = outOf(numel(shape));
        cpu.unary(op, x, o.c, 0); ref.unary(op, x, o.r, 0);
        expectClose(o.c.data, o.r.data, `${level} unary ${op} ${describe(x)}`, rtol, atol);
      }
    }
  });

  s('unary: int32 input computes like the reference', () => {
    for (const op of ['neg', 'abs', 'sign', 'square', 'exp'] as UnaryOp[]) {
      const x = makeView([5, 7], pick(layouts), 'int32', () => rng.int(41) - 20);
      const outType: DType = op === 'exp' ? 'float32' : 'int32';
      const o = outOf(35, outType);
      cpu.unary(op, x, o.c, 0); ref.unary(op, x, o.r, 0);
      expectClose(o.c.data, o.r.data, `unary ${op} int32`, op === 'exp' ? 1e-7 : 0);
    }
  });

  // ---- binary ----
  const binaryOps: readonly BinaryOp[] = CODES.binary.names;
  // Values from a small set make ties and NaNs common, which is where comparisons and min/max differ.
  const tieGen: Gen = () => (rng.uniform() < 0.1 ? NaN : rng.uniform() < 0.5 ? rng.int(3) - 1 : 3 * rng.normal());

  eachLevel('binary: every op on random broadcast views', (level) => {
    for (const op of binaryOps) {
      for (let trial = 0; trial < 8; trial++) {
        const shape = randomShape(4, 6);
        const gen = op === 'pow' ? () => (rng.uniform() < 0.3 ? rng.int(5) - 2 : 2 * rng.normal()) : tieGen;
        const a = makeView(shape, pick(layouts), 'float32', gen), b = makeView(shape, pick(layouts), 'float32', gen);
        const o = outOf(numel(shape));
        cpu.binary(op, a, b, o.c); ref.binary(op, a, b, o.r);
        expectClose(o.c.data, o.r.data, `${level} binary ${op} a ${describe(a)} b ${describe(b)}`, op === 'pow' ? 2.4e-7 : 0);
      }
    }
  });

  eachLevel('binary: large dense, row and column broadcast', (level) => {
    const shape = [403, 517];
    const a = makeView(shape, 'dense');
    const cases: View[] = [
      makeView(shape, 'dense'),
      { buf: buffer(517, 'float32', normal), shape, strides: [0, 1], offset: 0 },
      { buf: buffer(403, 'float32', normal), shape, strides: [1, 0], offset: 0 },
      makeView(shape, 'permuted'),
    ];
    for (const b of cases) {
      for (const op of ['add', 'div', 'maximum'] as BinaryOp[]) {
        const o = outOf(numel(shape));
        cpu.binary(op, a, b, o.c); ref.binary(op, a, b, o.r);
        expectClose(o.c.data, o.r.data, `${level} binary ${op} b ${describe(b)}`);
      }
    }
  });

  s('binary: int32 arithmetic and comparisons', () => {
    for (const op of binaryOps) {
      const shape = [4, 9];
      const a = makeView(shape, pick(layouts), 'int32', () => rng.int(21) - 10);
      const b = makeView(shape, pick(layouts), 'int32', () => rng.int(7) - 3);
      const outType: DType = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'float32' : 'int32';
      const o = outOf(numel(shape), outType);
      cpu.binary(op, a, b, o.c); ref.binary(op, a, b, o.r);
      expectClose(o.c.data, o.r.data, `binary ${op} int32`);
    }
  });

  // ---- where ----
  s('where: float and int condition, both data dtypes, broadcast', () => {
    for (let trial = 0; trial < 30; trial++) {
      const shape = randomShape();
      const cType: DType = pick(['float32', 'int32'] as const), dType: DType = pick(['float32', 'int32'] as const);
      const c = makeView(shape, pick(layouts), cType, () => (rng.uniform() < 0.1 && cType === 'float32' ? NaN : rng.int(2)));
      const a = makeView(shape, pick(layouts), dType, () => rng.int(100));
      const b = makeView(shape, pick(layouts), dType, () => -rng.int(100));
      const o = outOf(numel(shape), dType);
      cpu.where(c, a, b, o.c); ref.where(c, a, b, o.r);
      expectClose(o.c.data, o.r.data, `where ${describe(c)}`);
    }
  });

  // ---- reduce ----
  const reduceOps: readonly ReduceOp[] = CODES.reduce.names;
  function checkReduce(level: string, op: ReduceOp, outer: number, size: number, inner: number, gen: Gen): void {
    const x = buffer(outer * size * inner, 'float32', gen);
    const outType: DType = op === 'argmax' || op === 'argmin' ? 'int32' : 'float32';
    const o = outOf(outer * inner, outType);
    cpu.reduce(op, x, outer, size, inner, o.c); ref.reduce(op, x, outer, size, inner, o.r);
    const what = `${level} reduce ${op} [${outer}, ${size}, ${inner}]`;
    if (op === 'sum' || op === 'prod') {
      // Tolerance from the magnitudes summed (sum) or the length of the product chain (prod).
      const mag = new Float64Array(outer * inner);
      const xs = x.data;
      for (let a = 0; a < outer; a++) for (let r = 0; r < size; r++) for (let i = 0; i < inner; i++) mag[a * inner + i] += Math.abs(xs[(a * size + r) * inner + i]);
      if (op === 'sum') expectClose(o.c.data, o.r.data, what, 2e-6, 1e-30, mag);
      else expectClose(o.c.data, o.r.data, what, 1e-7 * (size + 8));
    } else {
      expectClose(o.c.data, o.r.data, what);
    }
  }

  eachLevel('reduce: every op, rows and columns, ties, NaN, empty axes', (level) => {
    for (const op of reduceOps) {
      for (let trial = 0; trial < 12; trial++) {
        const outer = rng.int(4), size = pick([0, 1, 2, 5, 17, 33, 100]), inner = pick([1, 1, 2, 7, 19]);
        const gen: Gen = op === 'prod' ? () => 0.8 + 0.4 * rng.uniform() : op === 'sum' ? normal : tieGen;
        checkReduce(level, op, outer, size, inner, gen);
      }
      // All -inf, and all NaN: first index.
      for (const v of [-Infinity, Infinity, NaN]) checkReduce(level, op, 2, 37, 1, () => v);
    }
  });

  eachLevel('reduce: long axes split across threads, wide and multi-tile columns', (level) => {
    for (const op of reduceOps) {
      const gen: Gen = op === 'prod' ? () => 1 + 1e-4 * rng.normal() : op === 'sum' ? normal : () => rng.int(1000);
      checkReduce(level, op, 1, 300001, 1, gen);
      checkReduce(level, op, 3, 70001, 1, gen);
      checkReduce(level, op, 2, 1000, 300, gen);
      checkReduce(level, op, 2, 5, 16500, gen);  // more inner positions than one column tile
      checkReduce(level, op, 64, 5003, 1, gen);
    }
  });

  s('reduce: int32 input', () => {
    for (const op of reduceOps) {
      const x = buffer(3 * 11 * 4, 'int32', () => rng.int(9) - 4);
      const outType: DType = op === 'argmax' || op === 'argmin' ? 'int32' : 'int32';
      const o = outOf(12, outType);
      cpu.reduce(op, x, 3, 11, 4, o.c); ref.reduce(op, x, 3, 11, 4, o.r);
      expectClose(o.c.data, o.r.data, `reduce ${op} int32`);
    }
  });

  // ---- matmul ----
  const acts: readonly Activation[] = CODES.activation.names;

  /** a [batch, M, K] or b [batch, K, N] laid out as given: 'T' stores the last two axes swapped,
   *  'shared' is one matrix for every batch (batch stride 0). */
  function operand(batch: number, rows: number, cols: number, layout: 'N' | 'T' | 'shared'): View {
    const shape = [batch, rows, cols];
    if (layout === 'shared') return { buf: buffer(rows * cols, 'float32', normal), shape, strides: [0, cols, 1], offset: 0 };
    if (layout === 'T') return { buf: buffer(batch * rows * cols + 3, 'float32', normal), shape, strides: [rows * cols, 1, rows], offset: 3 };
    return { buf: buffer(batch * rows * cols, 'float32', normal), shape, strides: [rows * cols, cols, 1], offset: 0 };
  }
  const absView = (v: View): View => ({ ...v, buf: new HostBuf(Float32Array.from(v.buf === undefined ? [] : (v.buf as HostBuf).data, Math.abs), 'float32') });

  function checkMatmul(level: string, batch: number, M: number, N: number, K: number, la: 'N' | 'T' | 'shared',
    lb: 'N' | 'T' | 'shared', act: Activation, alpha: number, withBias: boolean): void {
    const a = operand(batch, M, K, la), b = operand(batch, K, N, lb);
    const bias = withBias ? buffer(N, 'float32', normal) : undefined;
    const p = { batch, M, N, K, alpha, bias, act };
    const o = outOf(batch * M * N);
    cpu.matmul(a, b, o.c, p); ref.matmul(a, b, o.r, p);
    // Error bound from |alpha| |a| @ |b| (activations here are at most 1.13-Lipschitz).
    const mag = outOf(batch * M * N).r;
    ref.matmul(absView(a), absView(b), mag, { batch, M, N, K, alpha: Math.abs(alpha), act: 'none' });
    expectClose(o.c.data, o.r.data, `${level} matmul b${batch} ${M}x${K}x${N} a:${la} b:${lb} ${act} alpha ${alpha} bias ${withBias}`,
      2e-6 * Math.sqrt(K + 1), 1e-6, mag.data);
  }

  eachLevel('matmul: shapes around the tile sizes, layouts, epilogues', (level) => {
    for (let trial = 0; trial < 14; trial++) {
      const M = pick([0, 1, 5, 12, 13, 31]), N = pick([0, 1, 7, 16, 33, 47]), K = pick([0, 1, 9, 64]);
      checkMatmul(level, 1 + rng.int(3), M, N, K, pick(['N', 'T', 'shared'] as const), pick(['N', 'T', 'shared'] as const),
        pick(acts), pick([1, 0.5, -2]), rng.uniform() < 0.5);
    }
  });

  eachLevel('matmul: blocked path (several row blocks, K blocks, threads)', (level) => {
    checkMatmul(level, 1, 300, 97, 270, 'N', 'N', 'gelu', 1, true);
    checkMatmul(level, 1, 110, 90, 1100, 'T', 'T', 'none', 0.5, false);  // K longer than one KC block
    checkMatmul(level, 3, 40, 70, 300, 'N', 'shared', 'relu', 1, true);
  });

  // Whole MR x NR blocks are stored straight into C (the epilogue in the micro-kernel), the others
  // through a tile buffer; row-major A is packed row block by row block, or read in place when a tile
  // has a single B panel (N up to NR: 8, 16 or 32 by level); products under sgemm's threading
  // threshold (2^19 multiply-adds) run on the calling thread. Sizes straddle all of these.
  eachLevel('matmul: whole blocks stored into C, row-major A, products either side of the threading threshold', (level) => {
    checkMatmul(level, 1, 41, 3, 44, 'N', 'N', 'none', 1, true);      // DeepAR's head: A in place, then an edge panel packed
    checkMatmul(level, 1, 30, 8, 70, 'N', 'T', 'sigmoid', -2, false); // one whole B panel at the baseline, in place
    checkMatmul(level, 1, 24, 64, 40, 'N', 'T', 'none', 1, true);     // whole blocks at every level, B transposed (lstm)
    checkMatmul(level, 1, 41, 67, 44, 'N', 'N', 'none', -2, true);    // whole blocks plus row and column edges
    checkMatmul(level, 1, 37, 35, 1100, 'N', 'N', 'none', 0.5, false); // two KC steps: the second adds to C
    checkMatmul(level, 2, 36, 96, 9, 'shared', 'N', 'tanh', 1, true); // an activation: every block through the tile
    checkMatmul(level, 1, 64, 64, 127, 'N', 'N', 'none', 1, true);    // just under the threshold
    checkMatmul(level, 1, 64, 64, 128, 'N', 'N', 'none', 1, true);    // at it
    checkMatmul(level, 1, 200, 160, 40, 'N', 'T', 'relu', 1, true);   // DeepAR's step, threaded
  });

  s('matmul: 2-D views are one matrix for every batch', () => {
    const a2 = makeView([5, 9], 'permuted'), b2 = makeView([9, 4], 'dense');
    const a3: View = { ...a2, shape: [2, 5, 9], strides: [0, ...a2.strides] }, b3: View = { ...b2, shape: [2, 9, 4], strides: [0, ...b2.strides] };
    const p = { batch: 2, M: 5, N: 4, K: 9, alpha: 1, act: 'none' as Activation };
    const o = outOf(40);
    cpu.matmul({ ...a2, shape: [2, 5, 9] }, { ...b2, shape: [2, 9, 4] }, o.c, p); ref.matmul(a3, b3, o.r, p);
    expectClose(o.c.data, o.r.data, 'matmul 2-D views', 1e-5, 1e-6);
  });

  s('matmul: more columns than one B block (N > 4096)', () => {
    checkMatmul(best, 1, 3, 4100, 20, 'N', 'T', 'sigmoid', 1, true);
  });

  // ---- gather / scatterAdd ----
  s('gather: random axes, broadcast index views, both dtypes', () => {
    for (let trial = 0; trial < 40; trial++) {
      const xShape = randomShape(4, 6).map((n) => Math.max(n, 1));
      if (xShape.length === 0) xShape.push(3);
      const axis = rng.int(xShape.length);
      const outShape = xShape.map((n, d) => (d === axis ? rng.int(6) : 1 + rng.int(n)));
      const dtype: DType = pick(['float32', 'int32'] as const);
      const x = makeView(xShape, pick(layouts), dtype, () => rng.int(1000));
      const idx = makeView(outShape, pick(layouts), 'int32', () => rng.int(xShape[axis]));
      const o = outOf(numel(outShape), dtype);
      cpu.gather(x, axis, idx, o.c, outShape); ref.gather(x, axis, idx, o.r, outShape);
      expectClose(o.c.data, o.r.data, `gather axis ${axis} x ${describe(x)} idx ${describe(idx)}`);
    }
  });

  s('scatterAdd: collisions, broadcast index, threaded sizes (exact: same order as the reference)', () => {
    const shapes: [number[], number[], number][] = [[[50, 64], [3000, 64], 0], [[64, 40], [64, 2000], 1], [[7], [20000], 0]];
    for (let trial = 0; trial < 30; trial++) {
      const outShape = randomShape(3, 5).map((n) => Math.max(n, 1));
      if (outShape.length === 0) outShape.push(4);
      const axis = rng.int(outShape.length);
      const srcShape = outShape.map((n, d) => (d === axis ? rng.int(9) : 1 + rng.int(n)));
      shapes.push([outShape, srcShape, axis]);
    }
    for (const [outShape, srcShape, axis] of shapes) {
      const dtype: DType = pick(['float32', 'int32'] as const);
      const idx = makeView(srcShape, pick(layouts), 'int32', () => rng.int(outShape[axis]));
      const src = makeView(srcShape, pick(layouts), dtype, dtype === 'int32' ? () => rng.int(100) : normal);
      const init = buffer(numel(outShape), dtype, () => rng.int(10));
      const o = outOf(numel(outShape), dtype);
      o.c.data.set(init.data); o.r.data.set(init.data);
      cpu.scatterAdd(o.c, outShape, axis, idx, src); ref.scatterAdd(o.r, outShape, axis, idx, src);
      expectClose(o.c.data, o.r.data, `scatterAdd out [${outShape}] axis ${axis} src ${describe(src)} idx ${describe(idx)}`);
    }
  });

  // ---- errors ----
  s('bad indices throw Errors naming the kernel and the index; out stays untouched', () => {
    const x = makeView([5, 4], 'dense');
    const bigIdx = { buf: buffer(200000, 'int32', () => rng.int(5)), shape: [50000, 4], strides: [4, 1], offset: 0 };
    (bigIdx.buf.data as Int32Array)[123457] = 7;
    const o = cpu.alloc(200000, 'float32');
    assert.throws(() => cpu.gather(x, 0, bigIdx, o, [50000, 4]), /gather: index 7 out of range \[0, 5\) on axis 0/);
    (bigIdx.buf.data as Int32Array)[123457] = 1;
    (bigIdx.buf.data as Int32Array)[99] = -1;
    const out = new HostBuf(new Float32Array(20).fill(3), 'float32');
    const src = makeView([50000, 4], 'dense');
    assert.throws(() => cpu.scatterAdd(out, [5, 4], 0, bigIdx, src), /scatterAdd: index -1 out of range \[0, 5\)/);
    expectClose((out as HostBuf).data, new Float32Array(20).fill(3), 'scatterAdd left out untouched');
    // The pool recovers: the next threaded call works.
    (bigIdx.buf.data as Int32Array)[99] = 1;
    const r = ref.alloc(200000, 'float32');
    cpu.gather(x, 0, bigIdx, o, [50000, 4]); ref.gather(x, 0, bigIdx, r, [50000, 4]);
    expectClose((o as HostBuf).data, (r as HostBuf).data, 'gather after an error');
  });

  s('sizes that do not fit their buffers throw instead of touching memory', () => {
    const small = buffer(10, 'float32', normal);
    const out = cpu.alloc(100, 'float32');
    assert.throws(() => cpu.copy({ buf: small, shape: [4, 4], strides: [4, 1], offset: 0 }, out), /copy: x .* outside its buffer of 10/);
    assert.throws(() => cpu.unary('exp', { buf: small, shape: [3], strides: [1], offset: 8 }, out, 0), /unary: x .* outside/);
    assert.throws(() => cpu.unary('exp', { buf: small, shape: [10], strides: [1], offset: 0 }, cpu.alloc(5, 'float32'), 0), /unary: out has 5 elements, needs 10/);
    assert.throws(() => cpu.binary('add', { buf: small, shape: [2, 5], strides: [5, 1], offset: 0 },
      { buf: small, shape: [2, 5], strides: [-5, 1], offset: 0 }, out), /binary: b .* outside/);
    assert.throws(() => cpu.reduce('sum', small, 2, 3, 2, out), /reduce: x has 10 elements, needs 12/);
    assert.throws(() => cpu.reduce('argmax', small, 2, 5, 1, out), /reduce: argmax writes int32/);
    const m = { batch: 1, M: 4, N: 4, K: 4, alpha: 1, act: 'none' as Activation };
    assert.throws(() => cpu.matmul({ buf: small, shape: [1, 4, 4], strides: [16, 4, 1], offset: 0 },
      { buf: small, shape: [1, 4, 4], strides: [16, 4, 1], offset: 0 }, out, m), /matmul: a .* outside its buffer/);
    assert.throws(() => cpu.matmul(makeView([1, 4, 4], 'dense'), makeView([1, 4, 4], 'dense'), out, { ...m, bias: buffer(3, 'float32', normal) as Buf }),
      /matmul: bias has 3 elements, needs 4/);
    assert.throws(() => cpu.addon.unary(0, new Float64Array(3) as never, [3], [1], 0, new Float32Array(3), 0),
      /unary: x must be a Float32Array or an Int32Array/);
    assert.throws(() => cpu.addon.reduce(99, new Float32Array(3), 1, 3, 1, new Float32Array(1)), /reduce: unknown op code 99/);
    const x = new Float32Array(16), y = new Float32Array(16), argmax = new Int32Array(16);
    assert.throws(() => cpu.addon.maxPool(x, y, argmax, new Float64Array(3)), /maxPool: the parameter record holds 3 numbers, kernels\/schema.h has 21/);
    assert.throws(() => cpu.addon.maxPool(x, y, argmax, [1, 1] as never), /maxPool: the parameter record must be a Float64Array/);
    assert.throws(() => cpu.addon.maxPool(x, y, argmax, new Float64Array(21).fill(1.5)), /maxPool: an integer field of the parameter record must be an integer/);
    assert.throws(() => cpu.gather(makeView([3, 3], 'dense'), 0, makeView([2, 4], 'dense', 'int32', () => 0), out, [2, 4]),
      /gather: out shape \[2, 4\] exceeds x shape \[3, 3\]/);
  });
  s('storage: the pool keeps freed arrays up to its limit and releases the others at once', () => {
    const pooled = new CpuBackend();
    pooled.poolLimitBytes = 2 * 2 ** 20;
    const size = 2 ** 18; // 1 MiB of float32
    const bufs = Array.from({ length: 3 }, () => pooled.alloc(size, 'float32') as HostBuf);
    const arrays = bufs.map((b) => b.data);
    for (const b of bufs) pooled.free(b);
    assert.is(pooled.pooledBytes, 2 * 2 ** 20, 'two arrays kept');
    assert.equal(arrays.map((a) => a.length), [size, size, 0], 'the third is detached, its memory freed, not left to the collector');
    const again = pooled.alloc(size, 'float32') as HostBuf;
    assert.ok(again.data === arrays[1], 'a kept array is reused');
    pooled.free(again);
  });
}

s.run();
