// Scaling series, plotted log-log (time against work) next to the results file by bench/scaling_plot.ts:
// GEMM n = 64..4096 (numpy peers), SpMM on random graphs of 10^3..10^6 nodes at mean degree 10
// with 64 features (scipy and torch.sparse), conv3d 32->32 on 8x28x28, k3 p1, batch 1..16 (torch).
import { type BenchCase, sized } from '../case.js';
import { convBytes, flops as convFlops, type Layer, runConv } from './conv3d.js';
import { matmulCase } from './core.js';
import { randomProblem, runSpmm, spmmBytes } from './spmm.js';

const GEMM_SIZES = sized([64, 128, 256, 512, 1024, 2048, 4096], [16, 32]);
const SPMM_NODES = sized([1e3, 1e4, 1e5, 1e6], [100, 1000]);
const DEGREE = 10, FEATURES = sized(64, 8);
const CONV_BATCHES = sized([1, 2, 4, 8, 16], [1, 2]);
const convLayer = (N: number): Layer => sized<Layer>(
  { N, C: 32, O: 32, size: [8, 28, 28], k: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1] },
  { N, C: 4, O: 4, size: [4, 6, 6], k: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1] });

/** Enough repeats for a steady median at small sizes, few at the large ones. */
const repeatsFor = (flops: number) => Math.max(3, Math.min(50, Math.round(2e10 / Math.max(flops, 1))));

export const cases: BenchCase[] = [
  ...GEMM_SIZES.map((n): BenchCase => {
    const c = matmulCase(n, repeatsFor(2 * n ** 3), false);
    return { ...c, name: `scaling gemm ${n}^3`, kernel: 'scaling', scaling: { plot: 'GEMM n x n x n', work: 2 * n ** 3, workUnit: 'FLOP per call' } };
  }),
  ...SPMM_NODES.map((nodes, i): BenchCase => {
    const edges = nodes * DEGREE, work = 2 * edges * FEATURES;
    return {
      name: `scaling spmm ${nodes} nodes, degree ${DEGREE}, x ${FEATURES}`, kernel: 'scaling', flops: work, bytes: spmmBytes(nodes, edges, FEATURES),
      scaling: { plot: `SpMM mean degree ${DEGREE} x ${FEATURES} features`, work, workUnit: 'FLOP per call (2 nnz F)' },
      run: () => runSpmm(randomProblem(nodes, edges, FEATURES, 100 + i), repeatsFor(work * 20)),
    };
  }),
  ...CONV_BATCHES.map((N): BenchCase => {
    const l = convLayer(N), work = convFlops(l);
    return {
      name: `scaling conv3d batch ${N}`, kernel: 'scaling', flops: work, bytes: convBytes(l),
      scaling: { plot: 'conv3d 32 to 32 channels 8x28x28 k3 p1, batch 1..16', work, workUnit: 'FLOP per call' },
      run: () => runConv(l, false, repeatsFor(work), false),
    };
  }),
];
