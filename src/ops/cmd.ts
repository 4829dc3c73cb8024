// Central moment discrepancy (Zellinger et al. 2017, "Central Moment
// Discrepancy for Domain-Invariant Representation Learning"). The per-column
// mean and central moments c_2..c_k of an [n, d] sample come from one fused
// kernel (and its fused backward); only the d-sized norms use ordinary ops.
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { checkOptions, commonBackend, opError, requireFloat, runKernel } from './util.js';
import { contiguous, maximum, mul, sqrt, square, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { select, slice, unsqueeze } from './view.js';
import { concat } from './combine.js';
import { fromArray } from './creation.js';

// The gradient of sqrt at 0 is infinite; norms are taken of max(sum of squares, this)
// so that identical statistics give a zero gradient (as torch's norm subgradient) and a
// value within 1.1e-19 of 0.
const SMALLEST_NORMAL_F32 = 2 ** -126;

function checkOrder(op: string, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: k (the highest moment order) must be a positive integer, got ${k}`);
}

/** [k, d]: row 0 the per-column mean of x [n, d], row j - 1 the central moment c_j, recorded as one node. */
function momentStats(op: string, x: Tensor, k: number): Tensor {
  const backend = commonBackend(op, [x]);
  requireFloat(op, [x]);
  if (x.ndim !== 2 || x.shape[0] < 1) throw opError(op, 'expects a non-empty sample [n, d] (rows are observations)', [x]);
  const [n, d] = x.shape;
  const xd = noGrad(() => contiguous(x));
  const mean = emptyTensor(backend, [d], 'float32');
  const moments = emptyTensor(backend, [k - 1, d], 'float32');
  if (d > 0) runKernel(op, [x], () => backend.cmdMoments(xd.denseBuf(), n, d, k, mean.storage.buf!, moments.storage.buf!), [mean, moments]);
  const stats = noGrad(() => concat([unsqueeze(mean, 0), moments], 0));
  recordBackward(stats, op, [x], (g) => {
    const gMean = contiguous(select(g, 0, 0));
    const gMoments = contiguous(slice(g, 0, 1));
    const gx = emptyTensor(backend, [n, d], 'float32');
    if (d > 0) {
      runKernel(op, [g], () => backend.cmdMomentsBackward(xd.denseBuf(), n, d, k, mean.storage.buf!, moments.storage.buf!,
        gMean.denseBuf(), gMoments.denseBuf(), gx.storage.buf!));
    }
    return [gx];
  });
  // Without a backward the kernel's outputs (copied into stats) are garbage now.
  if (!stats.node) { mean.dispose(); moments.dispose(); if (xd !== x) xd.dispose(); }
  return stats;
}

/** Per-column mean [d] and central moments E[(x - mean)^j], j = 2..k, as [k - 1, d], of a sample x [n, d]. */
export function centralMoments(x: Tensor, k: number): { mean: Tensor; moments: Tensor } {
  checkOrder('centralMoments', k);
  const stats = momentStats('centralMoments', x, k);
  return { mean: select(stats, 0, 0), moments: slice(stats, 0, 1) };
}

export interface CmdOptions {
  /** Highest moment order (default 5, as the paper). */
  k?: number;
  /** [a, b] bounding the activations (e.g. [0, 1] after a sigmoid): term j is divided by |b - a|^j. */
  bounds?: readonly [number, number];
}

/**
 * CMD between samples x [n, d] and y [m, d]:
 * ||mean(x) - mean(y)||_2 / |b - a| + sum_{j=2..k} ||c_j(x) - c_j(y)||_2 / |b - a|^j
 * (divisors 1 without bounds). A scalar, differentiable in both samples.
 */
export function cmd(x: Tensor, y: Tensor, opts: CmdOptions = {}): Tensor {
  checkOptions('cmd', opts, ['k', 'bounds']);
  const k = opts.k ?? 5;
  checkOrder('cmd', k);
  commonBackend('cmd', [x, y]);
  if (x.ndim !== 2 || y.ndim !== 2 || x.shape[1] !== y.shape[1]) {
    throw opError('cmd', 'expects samples x [n, d] and y [m, d] with the same d', [x, y]);
  }
  let scale: Float32Array | null = null;
  if (opts.bounds) {
    const [a, b] = opts.bounds;
    const span = Math.abs(b - a);
    if (!Number.isFinite(a) || !Number.isFinite(b) || span === 0) {
      throw new Error(`cmd: bounds must be two different finite numbers, got [${a}, ${b}]`);
    }
    scale = Float32Array.from({ length: k }, (_, j) => span ** -(j + 1));
  }
  const diff = sub(momentStats('cmd', x, k), momentStats('cmd', y, k));
  const norms = sqrt(maximum(sum(square(diff), 1), SMALLEST_NORMAL_F32));
  return sum(scale ? mul(norms, fromArray(scale, [k], { backend: x.backend.name })) : norms);
}
