// The cpu backend's signature kernels (spmm, sddmm, edge softmax, CMD moments,
// conv, pooling) against the float64 reference backend on fresh random shapes,
// once per SIMD level this CPU has (AVX-512, AVX2, baseline), plus the native
// argument checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConvParams, Csr, PoolParams } from '../src/backend/interface.js';
import { HostBuf } from '../src/backend/hostbuf.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { CpuBackend } from '../src/backend/cpu/index.js';
import { assertClose, rng } from './helpers.js';

function makeCpu(): CpuBackend | string {
  try {
    return new CpuBackend();
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

const cpu = makeCpu();
const s = suite('cpu signature kernels');
const ref = new ReferenceBackend({ float64: true });

/** The same values as a float32 buffer for the cpu backend and a float64 one for the oracle. */
interface Pair { cpu: HostBuf; ref: HostBuf }
function pair(values: Float32Array): Pair {
  return { cpu: new HostBuf(values, 'float32'), ref: new HostBuf(Float64Array.from(values), 'float32') };
}
function randn(n: number, scale = 1, shift = 0): Pair {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = shift + scale * rng.normal();
  return pair(v);
}
function zeros(n: number): Pair { return pair(new Float32Array(n)); }
function close(p: Pair, what: string, rtol = 1e-4, atol = 1e-5): void {
  assertClose(p.cpu.data, p.ref.data, what, rtol, atol);
}

interface CsrPair { cpu: Csr; ref: Csr; text: string }
/** Random CSR with sorted unique columns per row; about emptyShare of the rows are empty. */
function randomCsr(rows: number, cols: number, maxDegree: number, withValues: boolean, emptyShare = 0.2): CsrPair {
  const rowPtr = new Int32Array(rows + 1), colList: number[] = [];
  for (let r = 0; r < rows; r++) {
    const degree = rng.uniform() < emptyShare ? 0 : rng.int(Math.min(maxDegree, cols) + 1);
    const picked = new Set<number>();
    while (picked.size < degree) picked.add(rng.int(cols));
    colList.push(...[...picked].sort((a, b) => a - b));
    rowPtr[r + 1] = colList.length;
  }
  return csrFrom(rows, cols, rowPtr, Int32Array.from(colList), withValues);
}
function csrFrom(rows: number, cols: number, rowPtr: Int32Array, colIdx: Int32Array, withValues: boolean): CsrPair {
  const nnz = colIdx.length;
  const values = withValues ? randn(nnz) : undefined;
  const base = { rows, cols, nnz, rowPtr: new HostBuf(rowPtr, 'int32'), colIdx: new HostBuf(colIdx, 'int32') };
  return {
    cpu: { ...base, values: values?.cpu }, ref: { ...base, values: values?.ref },
    text: `${rows}x${cols} nnz ${nnz}${withValues ? '' : ' (unit values)'}`,
  };
}

function convParams(N: number, C: number, [D, H, W]: number[], O: number, [kd, kh, kw]: number[],
  stride: [number, number, number], padding: [number, number, number], dilation: [number, number, number],
  groups: number): ConvParams {
  const out = (i: number, k: number, a: number) =>
    Math.floor((i + 2 * padding[a] - dilation[a] * (k - 1) - 1) / stride[a]) + 1;
  return { N, C, D, H, W, O, kd, kh, kw, stride, padding, dilation, groups, oD: out(D, kd, 0), oH: out(H, kh, 1), oW: out(W, kw, 2) };
}

function poolParams(N: number, C: number, [D, H, W]: number[], [kd, kh, kw]: number[],
  stride: [number, number, number], padding: [number, number, number]): PoolParams {
  const out = (i: number, k: number, a: number) => Math.floor((i + 2 * padding[a] - k) / stride[a]) + 1;
  return { N, C, D, H, W, kd, kh, kw, stride, padding, oD: out(D, kd, 0), oH: out(H, kh, 1), oW: out(W, kw, 2), dilation: [1, 1, 1], count_include_pad: 1 };
}

const convCases: { name: string; p: ConvParams; bias: boolean }[] = [
  { name: 'conv2d 3x3 pad 1', p: convParams(2, 3, [1, 9, 11], 4, [1, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1], 1), bias: true },
  { name: 'conv2d stride 2 dilation 2 groups 2', p: convParams(2, 4, [1, 13, 10], 6, [1, 3, 3], [1, 2, 2], [0, 2, 1], [1, 2, 2], 2), bias: false },
  { name: 'conv3d 3x3x3 mixed stride/pad/dilation, groups 2', p: convParams(1, 4, [5, 6, 7], 6, [3, 3, 3], [2, 1, 2], [1, 0, 2], [1, 2, 1], 2), bias: true },
  { name: 'conv3d k (3,7,7) stride (1,2,2) pad (1,3,3)', p: convParams(2, 3, [4, 14, 13], 5, [3, 7, 7], [1, 2, 2], [1, 3, 3], [1, 1, 1], 1), bias: true },
  { name: 'conv3d 1x1x1 (column matrix is the input)', p: convParams(2, 5, [3, 4, 5], 7, [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1), bias: true },
  { name: 'conv3d 1x1x1 stride 2 (input cells no output reads)', p: convParams(2, 3, [3, 5, 6], 4, [1, 1, 1], [2, 2, 2], [0, 0, 0], [1, 1, 1], 1), bias: false },
  { name: 'conv3d depthwise', p: convParams(2, 6, [4, 5, 6], 6, [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 6), bias: true },
  { name: 'conv3d items in parallel', p: convParams(3, 8, [4, 16, 16], 8, [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 2), bias: true },
  // Column tiles hold ~2^20 floats: these two take several tiles per work item (the
  // first in forward and backward-weight, the second also in backward-input).
  { name: 'conv3d several column tiles per item', p: convParams(1, 8, [4, 40, 40], 4, [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 1), bias: true },
  { name: 'conv3d k (3,7,7), several column tiles in backward-input', p: convParams(1, 8, [4, 32, 32], 2, [3, 7, 7], [1, 1, 1], [1, 3, 3], [1, 1, 1], 1), bias: false },
  { name: 'conv3d empty batch', p: convParams(0, 2, [3, 3, 3], 2, [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1), bias: true },
  { name: 'conv3d stride 3 > kernel 2', p: convParams(1, 2, [7, 8, 9], 3, [2, 2, 2], [3, 3, 3], [1, 1, 0], [1, 1, 1], 1), bias: false },
];

type SimdLevel = Parameters<CpuBackend['addon']['setSimd']>[0];

function simdCases(level: SimdLevel, cpu: CpuBackend): void {
  s(`spmm [${level}]`, () => {
    cpu.addon.setSimd(level);
    const graphs = [
      randomCsr(37, 23, 6, true), randomCsr(50, 80, 12, false), randomCsr(300, 300, 30, true, 0.5),
      csrFrom(1, 1, Int32Array.of(0, 1), Int32Array.of(0), true),                  // a single edge
      csrFrom(4, 6, Int32Array.of(0, 0, 1, 1, 1), Int32Array.of(5), false),       // isolated nodes, empty rows
      csrFrom(3, 2, Int32Array.of(0, 0, 0, 0), new Int32Array(0), true),          // no edges at all
    ];
    for (const g of graphs) {
      for (const F of [1, 3, 8, 16, 17, 37, 64, 130, 300]) {
        const x = randn(g.cpu.cols * F), out = randn(g.cpu.rows * F);  // out starts as garbage
        cpu.spmm(g.cpu, x.cpu, F, out.cpu);
        ref.spmm(g.ref, x.ref, F, out.ref);
        close(out, `spmm ${g.text} F ${F}`);
      }
    }
  });

  s(`sddmm, edge softmax and its backward [${level}]`, () => {
    cpu.addon.setSimd(level);
    const graphs = [randomCsr(40, 31, 8, false), randomCsr(200, 150, 20, true, 0.4),
      csrFrom(1, 1, Int32Array.of(0, 1), Int32Array.of(0), false), csrFrom(5, 3, Int32Array.of(0, 0, 2, 2, 2, 3), Int32Array.of(0, 2, 1), false)];
    for (const g of graphs) {
      const { rows, cols, nnz } = g.cpu;
      for (const [H, F] of [[1, 1], [1, 16], [2, 5], [4, 33], [3, 64]]) {
        const x = randn(rows * H * F), y = randn(cols * H * F), out = randn(nnz * H);
        cpu.sddmm(g.cpu, x.cpu, y.cpu, H, F, out.cpu);
        ref.sddmm(g.ref, x.ref, y.ref, H, F, out.ref);
        close(out, `sddmm ${g.text} H ${H} F ${F}`, 1e-4, 1e-4);
      }
      for (const H of [1, 3]) {
        const scores = randn(nnz * H, 3), soft = zeros(nnz * H);
        cpu.edgeSoftmax(g.cpu, scores.cpu, H, soft.cpu);
        ref.edgeSoftmax(g.ref, scores.ref, H, soft.ref);
        close(soft, `edgeSoftmax ${g.text} H ${H}`);
        const grad = randn(nnz * H), gs = randn(nnz * H);
        cpu.edgeSoftmaxBackward(g.cpu, soft.cpu, grad.cpu, H, gs.cpu);
        ref.edgeSoftmaxBackward(g.ref, soft.cpu, grad.ref, H, gs.ref);  // same y on both sides
        close(gs, `edgeSoftmaxBackward ${g.text} H ${H}`, 1e-4, 1e-5);
      }
    }
  });

  s(`cmd moments and backward, k = 1..6 and 10 [${level}]`, () => {
    cpu.addon.setSimd(level);
    for (const [n, d] of [[1, 3], [7, 1], [300, 37], [1000, 16], [613, 256], [50, 5]]) {
      for (const k of [1, 2, 3, 4, 5, 6, 10]) {
        // Off-centre, so the centring matters. Float32 powers of order 9 lose digits to
        // cancellation in odd moments and in the backward's polynomial; for k = 10 a
        // narrower spread keeps the check tight.
        const x = randn(n * d, k > 6 ? 0.6 : 1.5, 2);
        const tol = k > 6 ? 1e-3 : 1e-4;
        const mean = randn(d), moments = randn((k - 1) * d);
        cpu.cmdMoments(x.cpu, n, d, k, mean.cpu, moments.cpu);
        ref.cmdMoments(x.ref, n, d, k, mean.ref, moments.ref);
        const what = `cmdMoments n ${n} d ${d} k ${k}`;
        close(mean, `${what}: mean`, 1e-5, 1e-5);
        close(moments, `${what}: moments`, tol, 1e-4);
        const gMean = randn(d), gMoments = randn((k - 1) * d), gx = randn(n * d);
        cpu.cmdMomentsBackward(x.cpu, n, d, k, mean.cpu, moments.cpu, gMean.cpu, gMoments.cpu, gx.cpu);
        // The oracle differentiates at the same (float32) statistics the cpu produced.
        ref.cmdMomentsBackward(x.ref, n, d, k, pair(mean.cpu.data as Float32Array).ref,
          pair(moments.cpu.data as Float32Array).ref, gMean.ref, gMoments.ref, gx.ref);
        close(gx, `cmdMomentsBackward n ${n} d ${d} k ${k}`, tol, 1e-5);
      }
    }
  });

  s(`lstm forward and backward, H across vector widths and tails [${level}]`, () => {
    cpu.addon.setSimd(level);
    // H = 25 is 16 + 8 + 1 on AVX-512's 16 lanes (a full piece, a half piece and a partial one). The last three:
    // DeepAR's sampling step (800 paths, threaded by rows) and training batch (sgemm reads W_hh packed once per
    // call, from every step and thread), and H = 260 (4H over one KC block of the packed W_hh).
    for (const [T, B, H, reverse] of [[1, 1, 1, 0], [3, 2, 3, 1], [4, 3, 8, 0], [2, 5, 9, 1], [5, 4, 17, 0], [3, 4, 25, 1], [2, 300, 64, 1],
      [1, 800, 40, 0], [60, 32, 40, 1], [2, 3, 260, 0]]) {
      const p = { T, B, H, reverse }, what = `lstm T ${T} B ${B} H ${H} reverse ${reverse}`;
      const gatesIn = randn(T * B * 4 * H), w = randn(4 * H * H, 1 / Math.sqrt(H)), h0 = randn(B * H), c0 = randn(B * H);
      const states = randn(2 * T * B * H), gates = randn(T * B * 4 * H);  // outputs start as garbage
      cpu.lstmForward(gatesIn.cpu, w.cpu, h0.cpu, c0.cpu, states.cpu, gates.cpu, p);
      ref.lstmForward(gatesIn.ref, w.ref, h0.ref, c0.ref, states.ref, gates.ref, p);
      close(states, `${what}: states`);
      close(gates, `${what}: gates`);
      const gradStates = randn(2 * T * B * H), gradGates = randn(T * B * 4 * H), gradH0 = randn(B * H), gradC0 = randn(B * H);
      cpu.lstmBackward(w.cpu, c0.cpu, gates.cpu, states.cpu, gradStates.cpu, gradGates.cpu, gradH0.cpu, gradC0.cpu, p);
      // The oracle differentiates at the same (float32) forward results the cpu produced.
      ref.lstmBackward(w.ref, c0.ref, pair(gates.cpu.data as Float32Array).ref, pair(states.cpu.data as Float32Array).ref,
        gradStates.ref, gradGates.ref, gradH0.ref, gradC0.ref, p);
      close(gradGates, `${what}: gradGates`, 1e-4, 1e-5);
      close(gradH0, `${what}: gradH0`, 1e-4, 1e-5);
      close(gradC0, `${what}: gradC0`, 1e-4, 1e-5);
    }
  });

  s(`conv forward, backward-input, backward-weight [${level}]`, () => {
    cpu.addon.setSimd(level);
    for (const { name, p, bias } of convCases) {
      const cg = p.C / p.groups;
      const xSize = p.N * p.C * p.D * p.H * p.W, wSize = p.O * cg * p.kd * p.kh * p.kw;
      const ySize = p.N * p.O * p.oD * p.oH * p.oW;
      const x = randn(xSize), w = randn(wSize, 0.3), b = bias ? randn(p.O) : undefined;
      const y = randn(ySize), gy = randn(ySize), gx = randn(xSize), gw = randn(wSize);  // outputs start as garbage
      cpu.conv(x.cpu, w.cpu, b?.cpu, y.cpu, p);
      ref.conv(x.ref, w.ref, b?.ref, y.ref, p);
      close(y, `conv ${name}`, 1e-4, 1e-4);
      cpu.convBackwardInput(gy.cpu, w.cpu, gx.cpu, p);
      ref.convBackwardInput(gy.ref, w.ref, gx.ref, p);
      close(gx, `convBackwardInput ${name}`, 1e-4, 1e-4);
      cpu.convBackwardWeight(x.cpu, gy.cpu, gw.cpu, p);
      ref.convBackwardWeight(x.ref, gy.ref, gw.ref, p);
      close(gw, `convBackwardWeight ${name}`, 1e-4, 1e-3);
    }
  });
}

s('pooling 3D and 2D with padding: max (values and argmax), avg, avg backward', () => {
  if (typeof cpu === 'string') return;
  const cases = [
    poolParams(2, 3, [1, 9, 8], [1, 3, 3], [1, 2, 2], [0, 1, 1]),
    poolParams(1, 4, [5, 7, 6], [2, 3, 2], [2, 1, 2], [1, 1, 1]),
    poolParams(2, 2, [6, 6, 6], [3, 3, 3], [1, 1, 1], [1, 1, 1]),
    poolParams(1, 2, [4, 8, 8], [2, 2, 2], [2, 2, 2], [0, 0, 0]),
  ];
  for (const p of cases) {
    const inSize = p.N * p.C * p.D * p.H * p.W, outSize = p.N * p.C * p.oD * p.oH * p.oW;
    const what = `pool ${JSON.stringify(p)}`;
    const x = randn(inSize), out = randn(outSize);
    const am = { cpu: new HostBuf(new Int32Array(outSize), 'int32'), ref: new HostBuf(new Int32Array(outSize), 'int32') };
    cpu.maxPool(x.cpu, out.cpu, am.cpu, p);
    ref.maxPool(x.ref, out.ref, am.ref, p);
    close(out, `maxPool ${what}`, 0, 0);
    assert.equal(Array.from(am.cpu.data), Array.from(am.ref.data), `maxPool argmax ${what}`);
    const avg = randn(outSize);
    cpu.avgPool(x.cpu, avg.cpu, p);
    ref.avgPool(x.ref, avg.ref, p);
    close(avg, `avgPool ${what}`, 1e-5, 1e-6);
    const gy = randn(outSize), gx = randn(inSize);
    cpu.avgPoolBackward(gy.cpu, gx.cpu, p);
    ref.avgPoolBackward(gy.ref, gx.ref, p);
    close(gx, `avgPoolBackward ${what}`, 1e-5, 1e-6);
  }
});

s('native argument checks name the op and do not touch memory', () => {
  if (typeof cpu === 'string') return;
  const g = csrFrom(2, 3, Int32Array.of(0, 1, 2), Int32Array.of(0, 2), false);
  const x = new HostBuf(new Float32Array(3 * 4), 'float32'), out = new HostBuf(new Float32Array(2 * 4), 'float32');
  const bad = (mutate: (c: Csr) => Csr, pattern: RegExp) =>
    assert.throws(() => cpu.spmm(mutate(g.cpu), x, 4, out), pattern);
  bad((c) => ({ ...c, colIdx: new HostBuf(Int32Array.of(0, 3), 'int32') }), /spmm: colIdx\[1\] = 3 is outside \[0, 3\)/);
  bad((c) => ({ ...c, colIdx: new HostBuf(Int32Array.of(0, -1), 'int32') }), /spmm: colIdx\[1\] = -1/);
  bad((c) => ({ ...c, rowPtr: new HostBuf(Int32Array.of(0, 2, 1), 'int32') }), /spmm: rowPtr must be non-decreasing/);
  bad((c) => ({ ...c, rowPtr: new HostBuf(Int32Array.of(0, 1, 5), 'int32') }), /spmm: rowPtr\[rows\] = 5 but nnz = 2/);
  bad((c) => ({ ...c, nnz: 9 }), /spmm: colIdx has 2 elements, needs 9/);
  bad((c) => ({ ...c, cols: 4 }), /spmm: x has 12 elements, needs 16/);
  assert.throws(() => cpu.spmm(g.cpu, x, 5, out), /spmm: x has 12 elements, needs 15/);
  const p = convParams(1, 2, [3, 3, 3], 2, [2, 2, 2], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1);
  const small = new HostBuf(new Float32Array(5), 'float32'), big = new HostBuf(new Float32Array(1000), 'float32');
  assert.throws(() => cpu.conv(small, big, undefined, big, p), /conv: x has 5 elements, needs 54/);
  assert.throws(() => cpu.conv(big, big, undefined, big, { ...p, groups: 3 }), /conv: channels 2 -> 2 do not split into 3 groups/);
  assert.throws(() => cpu.convBackwardWeight(big, big, small, p), /convBackwardWeight: gw has 5 elements, needs 32/);
  assert.throws(() => cpu.cmdMoments(big, 10, 10, 0, big, big), /cmdMoments: k must be in \[1, 1024\]/);
  assert.throws(() => cpu.cmdMoments(new HostBuf(new Float64Array(100), 'float32'), 10, 10, 2, big, big),
    /cmdMoments: x must be a Float32Array/);
  assert.throws(() => cpu.avgPool(big, small, poolParams(1, 1, [4, 4, 4], [2, 2, 2], [2, 2, 2], [0, 0, 0])),
    /avgPool: out has 5 elements, needs 8/);
  const cells = zeros(6).cpu, gateBuf = zeros(24).cpu;
  assert.throws(() => cpu.lstmForward(gateBuf, zeros(36).cpu, cells, cells, zeros(11).cpu, gateBuf, { T: 1, B: 2, H: 3, reverse: 0 }),
    /lstmForward: states has 11 elements, needs 12/);
  assert.throws(() => cpu.lstmBackward(zeros(36).cpu, cells, gateBuf, zeros(12).cpu, zeros(12).cpu, gateBuf, cells, cells, { T: 1, B: 2, H: 0, reverse: 0 }),
    /lstmBackward: needs T >= 0, B >= 0, H >= 1 and reverse 0 or 1, got T 1, B 2, H 0/);
});

if (typeof cpu === 'string') {
  if (process.env.CI === 'true') throw new Error(`cpu signature kernels: the cpu backend is required in CI: ${cpu}`);
  console.log(`  (skipping cpu signature kernels: ${cpu})`);
} else {
  // setSimd caps the level at what this CPU has: test each distinct one.
  const levels = new Set((['avx512', 'avx2', 'scalar'] as const).map((level) => cpu.addon.setSimd(level) as SimdLevel));
  for (const level of levels) simdCases(level, cpu);
  s.after(() => { cpu.addon.setSimd('avx512'); });
}

s.run();
