// Op cases for the signature kernels (sparse graph ops, CMD, convolution,
// pooling, batch norm), in the OpCase format of cases.ts: each runs through
// the conformance loop (every backend vs reference64) and the gradcheck.
import { T, InputSpec } from './helpers.js';
import type { OpCase } from './cases.js';
import { Csr, spmm, sddmm, edgeSoftmax } from '../src/sparse/index.js';
import { cmd, centralMoments } from '../src/ops/cmd.js';
import { conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d } from '../src/ops/conv.js';
import { pad } from '../src/ops/combine.js';
import { interpolate } from '../src/ops/resize.js';
import {
  maxPool1d, maxPool2d, maxPool3d, avgPool1d, avgPool2d, avgPool3d, adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d,
  adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d,
} from '../src/ops/pool.js';
import { batchNorm } from '../src/ops/batchnorm.js';
type Tensor = T.Tensor;

const n = (shape: number[], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, ...extra });

/**
 * A 5-node directed graph (edge src -> dst is entry A[dst][src]), listed out of CSR order:
 * node 1 has a self-loop, node 2 has no incoming edge (an empty row) but one outgoing,
 * node 4 is isolated (empty row and column). CSR rows: 0 <- {1, 3}, 1 <- {0, 1, 2}, 3 <- {0}.
 */
export const graph = { src: [0, 2, 1, 3, 0, 1], dst: [1, 1, 0, 0, 3, 1], n: 5, nnz: 6 };
export const graphOn = (t: Tensor, values?: Tensor): Csr =>
  Csr.fromEdges(graph.src, graph.dst, graph.n, { backend: t.backend.name, values });

/** COO entries of a [3, 4] matrix with (0, 1) and (2, 0) twice each (4 distinct entries). */
export const coo = { rows: [0, 2, 0, 1, 2, 0], cols: [1, 0, 1, 2, 0, 3], shape: [3, 4] as [number, number], nnz: 4 };

const cmdCases: OpCase[] = [1, 2, 3, 4, 5, 6].map((k) => ({
  name: `cmd k=${k}`, inputs: [n([7, 3]), n([5, 3])], fn: (x, y) => cmd(x, y, { k }),
}));

/** Batch norm in training mode with fresh running statistics (so every call is the same function of x). */
function trainBatchNorm(x: Tensor, w?: Tensor, b?: Tensor): Tensor {
  const C = x.shape[1], backend = x.backend.name;
  const runningMean = T.zeros([C], { backend }), runningVar = T.ones([C], { backend });
  return batchNorm(x, { weight: w, bias: b, runningMean, runningVar, training: true });
}

export const signatureCases: OpCase[] = [
  // ---- sparse ----
  { name: 'spmm symNormalize (empty rows, isolated node)', inputs: [n([5, 3])], fn: (x) => spmm(graphOn(x).symNormalize(), x) },
  { name: 'spmm no self-loop normalization', inputs: [n([5, 3])], fn: (x) => spmm(graphOn(x).symNormalize({ selfLoops: false }), x) },
  { name: 'spmm edge values in edge order', inputs: [n([5, 3]), n([6])], fn: (x, v) => spmm(graphOn(x, v), x) },
  { name: 'spmm COO duplicates summed', inputs: [n([4, 2]), n([6])],
    fn: (x, v) => spmm(Csr.fromCoo(coo.rows, coo.cols, v, coo.shape, { backend: x.backend.name }), x) },
  { name: 'spmm rectangular, 1-D X', inputs: [n([4])],
    fn: (x) => spmm(Csr.fromCoo(coo.rows, coo.cols, undefined, coo.shape, { backend: x.backend.name }), x) },
  { name: 'spmm per-head values', inputs: [n([5, 2, 3]), n([6, 2])], fn: (x, v) => spmm(graphOn(x).withValues(v), x) },
  { name: 'spmm single edge', inputs: [n([3, 2])], fn: (x) => spmm(Csr.fromEdges([2], [0], 3, { backend: x.backend.name }), x) },
  { name: 'spmm no edges', inputs: [n([3, 2])], fn: (x) => spmm(Csr.fromEdges([], [], 3, { backend: x.backend.name }), x) },
  { name: 'spmm through transpose with edge values', inputs: [n([5, 3]), n([6])],
    fn: (x, v) => spmm(graphOn(x).withValues(v).transpose(), x) },
  { name: 'spmm rowNormalize', inputs: [n([5, 3], { layout: 'T' })], fn: (x) => spmm(graphOn(x).rowNormalize(), x) },
  { name: 'degrees in edge values', inputs: [n([6], { kind: 'positive' })], fn: (v) => graphOn(v, v).degrees() },
  { name: 'sddmm', inputs: [n([5, 3]), n([5, 3])], fn: (x, y) => sddmm(graphOn(x), x, y) },
  { name: 'sddmm multi-head', inputs: [n([5, 2, 3]), n([5, 2, 3])], fn: (x, y) => sddmm(graphOn(x), x, y) },
  { name: 'sddmm rectangular', inputs: [n([3, 2]), n([4, 2], { layout: 'T' })],
    fn: (x, y) => sddmm(Csr.fromCoo(coo.rows, coo.cols, undefined, coo.shape, { backend: x.backend.name }), x, y) },
  { name: 'edgeSoftmax', inputs: [n([6])], fn: (s) => edgeSoftmax(graphOn(s), s) },
  { name: 'edgeSoftmax multi-head', inputs: [n([6, 3])], fn: (s) => edgeSoftmax(graphOn(s), s) },
  {
    // One multi-head GAT layer: per-node scores onto edges, LeakyReLU, softmax over incoming edges, aggregate.
    name: 'GAT layer (2 heads)', inputs: [n([5, 2, 3]), n([2, 3]), n([2, 3])],
    fn: (h, al, ar) => {
      const a = graphOn(h);
      const el = T.sum(T.mul(h, al), -1), er = T.sum(T.mul(h, ar), -1);
      const scores = T.leakyRelu(T.add(T.indexSelect(el, 0, a.rowIdx), T.indexSelect(er, 0, a.colIdx)), 0.2);
      return spmm(a.withValues(edgeSoftmax(a, scores)), h);
    },
  },
  // ---- CMD ----
  ...cmdCases,
  { name: 'cmd bounds [0, 1]', inputs: [n([6, 4], { kind: 'unit' }), n([5, 4], { kind: 'unit' })], fn: (x, y) => cmd(x, y, { bounds: [0, 1] }) },
  { name: 'cmd bounds [-1, 2] k=3', inputs: [n([6, 2]), n([4, 2])], fn: (x, y) => cmd(x, y, { k: 3, bounds: [-1, 2] }) },
  { name: 'cmd of a view', inputs: [n([6, 3], { layout: 'T' }), n([5, 3], { layout: 'step' })], fn: (x, y) => cmd(x, y, { k: 4 }) },
  { name: 'centralMoments k=4', inputs: [n([6, 3])], fn: (x) => { const m = centralMoments(x, 4); return T.add(m.moments, m.mean); } },
  // ---- convolution ----
  { name: 'conv2d bias', inputs: [n([2, 3, 5, 5]), n([4, 3, 3, 3]), n([4])], fn: (x, w, b) => conv2d(x, w, { bias: b }) },
  { name: 'conv2d stride 2 padding 1', inputs: [n([1, 2, 5, 6]), n([3, 2, 3, 2])], fn: (x, w) => conv2d(x, w, { stride: 2, padding: 1 }) },
  { name: 'conv2d dilation groups', inputs: [n([1, 4, 6, 6]), n([2, 2, 2, 2]), n([2])],
    fn: (x, w, b) => conv2d(x, w, { bias: b, groups: 2, dilation: 2, padding: [1, 0] }) },
  { name: 'conv2d strided view input', inputs: [n([1, 2, 4, 5], { layout: 'T' }), n([2, 2, 2, 3])], fn: (x, w) => conv2d(x, w, { stride: [1, 2] }) },
  { name: 'conv3d bias stride padding', inputs: [n([1, 2, 4, 4, 3]), n([2, 2, 2, 2, 2]), n([2])],
    fn: (x, w, b) => conv3d(x, w, { bias: b, stride: [1, 2, 1], padding: [1, 0, 1] }) },
  { name: 'conv3d depthwise dilation', inputs: [n([1, 3, 4, 4, 4]), n([3, 1, 2, 2, 2])], fn: (x, w) => conv3d(x, w, { groups: 3, dilation: [2, 1, 2] }) },
  { name: 'conv3d groups 2 stride 2', inputs: [n([2, 4, 3, 4, 4]), n([2, 2, 1, 3, 2])], fn: (x, w) => conv3d(x, w, { groups: 2, stride: 2, padding: [0, 1, 1] }) },
  { name: 'conv1d bias stride padding', inputs: [n([2, 3, 7]), n([4, 3, 3]), n([4])], fn: (x, w, b) => conv1d(x, w, { bias: b, stride: 2, padding: 1 }) },
  { name: 'conv1d same dilation groups', inputs: [n([1, 4, 6]), n([2, 2, 2])], fn: (x, w) => conv1d(x, w, { padding: 'same', dilation: 3, groups: 2 }) },
  { name: 'conv2d same even kernel', inputs: [n([1, 2, 4, 5]), n([3, 2, 2, 4]), n([3])], fn: (x, w, b) => conv2d(x, w, { bias: b, padding: 'same' }) },
  { name: 'conv3d valid', inputs: [n([1, 2, 3, 4, 3]), n([2, 2, 2, 3, 2])], fn: (x, w) => conv3d(x, w, { padding: 'valid' }) },
  { name: 'convTranspose1d bias stride outputPadding', inputs: [n([2, 3, 4]), n([3, 2, 3]), n([2])],
    fn: (x, w, b) => convTranspose1d(x, w, { bias: b, stride: 3, padding: 1, outputPadding: 2 }) },
  { name: 'convTranspose2d groups dilation view input', inputs: [n([1, 4, 3, 3], { layout: 'T' }), n([4, 1, 2, 3])],
    fn: (x, w) => convTranspose2d(x, w, { groups: 2, dilation: [2, 1], stride: [1, 2], outputPadding: [0, 1] }) },
  { name: 'convTranspose3d stride padding bias', inputs: [n([1, 2, 2, 3, 2]), n([2, 3, 2, 2, 3]), n([3])],
    fn: (x, w, b) => convTranspose3d(x, w, { bias: b, stride: [2, 1, 2], padding: [0, 1, 1] }) },
  { name: 'pad reflect', inputs: [n([2, 3, 4])], fn: (x) => pad(x, [3, 1, 2, 2], { mode: 'reflect' }) },
  { name: 'pad replicate', inputs: [n([1, 2, 3, 3])], fn: (x) => pad(x, [0, 4, 2, 1], { mode: 'replicate' }) },
  { name: 'pad circular view input', inputs: [n([3, 4], { layout: 'T' })], fn: (x) => pad(x, [4, 2, 1, 3], { mode: 'circular' }) },
  { name: 'interpolate nearest', inputs: [n([1, 2, 3, 5])], fn: (x) => interpolate(x, { size: [7, 3] }) },
  { name: 'interpolate nearest 2x', inputs: [n([1, 2, 2, 3, 2])], fn: (x) => interpolate(x, { scaleFactor: 2 }) },
  { name: 'interpolate linear', inputs: [n([2, 2, 5])], fn: (x) => interpolate(x, { scaleFactor: 2.5, mode: 'linear' }) },
  { name: 'interpolate bilinear alignCorners', inputs: [n([1, 2, 4, 3])], fn: (x) => interpolate(x, { size: [3, 5], mode: 'bilinear', alignCorners: true }) },
  { name: 'interpolate trilinear', inputs: [n([1, 1, 2, 3, 4])], fn: (x) => interpolate(x, { size: [3, 4, 2], mode: 'trilinear' }) },
  // ---- pooling ----
  { name: 'maxPool2d 2', inputs: [n([2, 2, 4, 4])], fn: (x) => maxPool2d(x, 2) },
  { name: 'maxPool2d 3 stride 2 padding 1', inputs: [n([1, 2, 5, 5])], fn: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }) },
  { name: 'maxPool3d padded', inputs: [n([1, 2, 3, 4, 4])], fn: (x) => maxPool3d(x, 2, { stride: [1, 2, 2], padding: [1, 1, 0] }) },
  { name: 'avgPool2d 3 stride 2 padding 1', inputs: [n([1, 2, 5, 6])], fn: (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }) },
  { name: 'avgPool2d [2, 3] view input', inputs: [n([2, 1, 4, 6], { layout: 'step' })], fn: (x) => avgPool2d(x, [2, 3]) },
  { name: 'avgPool3d padded', inputs: [n([1, 2, 4, 4, 3])], fn: (x) => avgPool3d(x, [2, 2, 3], { stride: [2, 1, 1], padding: [1, 1, 1] }) },
  { name: 'adaptiveAvgPool2d divisible', inputs: [n([1, 2, 4, 6])], fn: (x) => adaptiveAvgPool2d(x, [2, 3]) },
  { name: 'adaptiveAvgPool2d not divisible', inputs: [n([2, 2, 5, 7])], fn: (x) => adaptiveAvgPool2d(x, [3, 4]) },
  { name: 'adaptiveAvgPool2d to 1', inputs: [n([1, 3, 3, 5])], fn: (x) => adaptiveAvgPool2d(x, 1) },
  { name: 'adaptiveAvgPool3d divisible', inputs: [n([1, 2, 4, 4, 2])], fn: (x) => adaptiveAvgPool3d(x, 2) },
  { name: 'adaptiveAvgPool3d mixed', inputs: [n([1, 2, 4, 5, 3])], fn: (x) => adaptiveAvgPool3d(x, [2, 3, 3]) },
  { name: 'maxPool1d ceilMode dilation', inputs: [n([2, 3, 11])], fn: (x) => maxPool1d(x, 3, { stride: 2, padding: 1, dilation: 2, ceilMode: true }) },
  { name: 'maxPool2d ceilMode dilation view input', inputs: [n([1, 2, 6, 7], { layout: 'T' })], fn: (x) => maxPool2d(x, [3, 2], { stride: 2, dilation: [1, 2], ceilMode: true }) },
  { name: 'maxPool3d dilation padding', inputs: [n([1, 2, 4, 5, 5])], fn: (x) => maxPool3d(x, 2, { stride: [1, 2, 2], padding: 1, dilation: [2, 1, 2] }) },
  { name: 'avgPool1d ceilMode', inputs: [n([2, 2, 8])], fn: (x) => avgPool1d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { name: 'avgPool2d countIncludePad false ceilMode', inputs: [n([1, 2, 5, 6])], fn: (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }) },
  { name: 'avgPool3d countIncludePad false', inputs: [n([1, 2, 4, 4, 3])], fn: (x) => avgPool3d(x, [2, 2, 3], { stride: [2, 1, 1], padding: [1, 1, 1], countIncludePad: false }) },
  { name: 'adaptiveAvgPool1d', inputs: [n([2, 3, 7])], fn: (x) => adaptiveAvgPool1d(x, 3) },
  { name: 'adaptiveMaxPool1d', inputs: [n([2, 3, 7])], fn: (x) => adaptiveMaxPool1d(x, 4) },
  { name: 'adaptiveMaxPool2d not divisible', inputs: [n([1, 2, 5, 7])], fn: (x) => adaptiveMaxPool2d(x, [3, 4]) },
  { name: 'adaptiveMaxPool2d divisible', inputs: [n([2, 1, 4, 6])], fn: (x) => adaptiveMaxPool2d(x, [2, 3]) },
  { name: 'adaptiveMaxPool3d mixed', inputs: [n([1, 2, 4, 5, 3])], fn: (x) => adaptiveMaxPool3d(x, [2, 3, 3]) },
  // ---- batch norm ----
  { name: 'batchNorm train 2d affine', inputs: [n([3, 2, 3, 3]), n([2]), n([2])], fn: trainBatchNorm },
  { name: 'batchNorm train [N, C]', inputs: [n([5, 3]), n([3])], fn: (x, w) => trainBatchNorm(x, w) },
  { name: 'batchNorm train 3d no affine', inputs: [n([2, 2, 2, 3, 2])], fn: (x) => trainBatchNorm(x) },
  { name: 'batchNorm eval', inputs: [n([2, 3, 4]), n([3], { noGrad: true }), n([3], { kind: 'positive', noGrad: true }), n([3]), n([3])],
    fn: (x, rm, rv, w, b) => batchNorm(x, { runningMean: rm, runningVar: rv, weight: w, bias: b, training: false }) },
  { name: 'batchNorm eval without running stats', inputs: [n([4, 2, 3])], fn: (x) => batchNorm(x, { training: false }) },
  { name: 'batchNorm train 3d affine', inputs: [n([2, 3, 2, 2, 3]), n([3]), n([3])], fn: trainBatchNorm },
  { name: 'batchNorm train + addend, relu', inputs: [n([2, 3, 2, 3]), n([3]), n([3]), n([2, 3, 2, 3])],
    fn: (x, w, b, r) => batchNorm(x, { weight: w, bias: b, training: true, addend: r, activation: 'relu' }) },
  { name: 'batchNorm train relu, no affine', inputs: [n([4, 2, 3])], fn: (x) => batchNorm(x, { training: true, activation: 'relu' }) },
  { name: 'batchNorm eval + addend, relu', inputs: [n([2, 3, 4]), n([3], { noGrad: true }), n([3], { kind: 'positive', noGrad: true }), n([3]), n([2, 3, 4])],
    fn: (x, rm, rv, w, r) => batchNorm(x, { runningMean: rm, runningVar: rv, weight: w, training: false, addend: r, activation: 'relu' }) },
  { name: 'batchNorm train bias only', inputs: [n([3, 2, 4]), n([2])], fn: (x, b) => trainBatchNorm(x, undefined, b) },
  { name: 'batchNorm eval without running stats, affine', inputs: [n([4, 2, 3]), n([2]), n([2])],
    fn: (x, w, b) => batchNorm(x, { weight: w, bias: b, training: false }) },
  { name: 'batchNorm train silu 2d affine', inputs: [n([3, 4, 3, 3]), n([4]), n([4])],
    fn: (x, w, b) => batchNorm(x, { weight: w, bias: b, training: true, activation: 'silu' }) },
  { name: 'batchNorm train + addend, silu, view input', inputs: [n([2, 3, 2, 3], { layout: 'T' }), n([3]), n([3]), n([2, 3, 2, 3], { layout: 'step' })],
    fn: (x, w, b, r) => batchNorm(x, { weight: w, bias: b, training: true, addend: r, activation: 'silu' }) },
  { name: 'batchNorm train silu [N, C], no affine', inputs: [n([5, 3])], fn: (x) => batchNorm(x, { training: true, activation: 'silu' }) },
  { name: 'batchNorm train silu, long channel rows', inputs: [n([2, 2, 37]), n([2]), n([2])],
    fn: (x, w, b) => batchNorm(x, { weight: w, bias: b, training: true, activation: 'silu' }) },
  { name: 'batchNorm eval silu', inputs: [n([2, 3, 4]), n([3], { noGrad: true }), n([3], { kind: 'positive', noGrad: true }), n([3]), n([3])],
    fn: (x, rm, rv, w, b) => batchNorm(x, { runningMean: rm, runningVar: rv, weight: w, bias: b, training: false, activation: 'silu' }) },
];
