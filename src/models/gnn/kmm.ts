// Kernel mean matching instance weights of SR-GNN (the `KMM` function of the
// reference code): weights beta for the (biased) training nodes so that the
// weighted training distribution matches an unbiased sample in a kernel space
// built on PPR vectors.
//
//   minimize 1/2 b^T K b - (n_tr / n_te) k^T b
//   subject to b_i >= lowerBound, sum of b over the training nodes of class c = their count,
//
// K_ij = mean over gamma of exp(-gamma ||x_i - x_j||^2) over training rows,
// k_i = sum over the n_te test rows t of the same mean kernel between x_i and x_t.

import type { FloatArray } from './cholesky.js';
import { solveQp, type QpOptions, type QpProblem } from './qp.js';

export interface KmmInput {
  /** Dense row-major feature matrix with `dim` columns (SR-GNN: the exact PPR matrix, dim = n). */
  features: FloatArray;
  dim: number;
  /** Rows of the (biased) training nodes. */
  trainIds: Int32Array;
  /** Rows of the unbiased sample (SR-GNN: an IID sample of labelled nodes). */
  testIds: Int32Array;
  /** Class per node (indexed by node id, like trainIds); training nodes must be labelled. */
  labels: Int32Array;
}

export interface KmmOptions {
  /** RBF kernel widths, averaged (default [1, 0.1, 0.001] as the reference). */
  gammas?: readonly number[];
  /** Lower bound of every weight (default 0.2 as the reference). */
  lowerBound?: number;
  qp?: QpOptions;
}

export interface KmmResult {
  /** One weight per training node, in trainIds order. */
  weights: Float64Array;
  objective: number;
  iterations: number;
}

function squaredDistance(x: FloatArray, a: number, b: number, dim: number): number {
  let s = 0;
  const ra = a * dim, rb = b * dim;
  for (let j = 0; j < dim; j++) { const t = x[ra + j] - x[rb + j]; s += t * t; }
  return s;
}

function meanKernel(d2: number, gammas: readonly number[]): number {
  let s = 0;
  for (const g of gammas) s += Math.exp(-g * d2);
  return s / gammas.length;
}

/** The KMM quadratic program (exposed so callers can evaluate objectives and residuals). */
export function kmmProblem(input: KmmInput, options: KmmOptions = {}): QpProblem {
  const where = 'kmmProblem';
  const { features, dim, trainIds, testIds, labels } = input;
  const gammas = options.gammas ?? [1, 0.1, 0.001];
  const lowerBound = options.lowerBound ?? 0.2;
  if (!Number.isInteger(dim) || dim < 1 || features.length % dim !== 0) {
    throw new Error(`${where}: features has ${features.length} elements, not a whole number of rows of dim ${dim}`);
  }
  const rows = features.length / dim;
  const nTr = trainIds.length, nTe = testIds.length;
  if (nTr === 0 || nTe === 0) throw new Error(`${where}: need training and test rows, got ${nTr} and ${nTe}`);
  if (gammas.length === 0) throw new Error(`${where}: need at least one kernel width`);
  // Each class's weights average 1, so a bound above 1 leaves no feasible point.
  if (!(lowerBound <= 1)) throw new Error(`${where}: lowerBound ${lowerBound} above 1 makes the class-sum constraints infeasible`);
  for (const ids of [trainIds, testIds]) {
    for (const i of ids) if (i < 0 || i >= rows) throw new Error(`${where}: row id ${i} outside [0, ${rows})`);
  }
  // One equality per class present among the training nodes: sum of its weights = its count.
  const classRow = new Map<number, number>();
  const counts: number[] = [];
  for (const i of trainIds) {
    const c = labels[i];
    if (!(c >= 0)) throw new Error(`${where}: training node ${i} has no label (${c})`);
    if (!classRow.has(c)) { classRow.set(c, counts.length); counts.push(0); }
    counts[classRow.get(c) as number]++;
  }
  const m = counts.length;
  const E = new Float64Array(m * nTr);
  trainIds.forEach((i, a) => { E[(classRow.get(labels[i]) as number) * nTr + a] = 1; });
  const P = new Float64Array(nTr * nTr);
  for (let a = 0; a < nTr; a++) {
    P[a * nTr + a] = 1;
    for (let b = 0; b < a; b++) {
      const v = meanKernel(squaredDistance(features, trainIds[a], trainIds[b], dim), gammas);
      P[a * nTr + b] = v; P[b * nTr + a] = v;
    }
  }
  const q = new Float64Array(nTr);
  for (let a = 0; a < nTr; a++) {
    let k = 0;
    for (const t of testIds) k += meanKernel(squaredDistance(features, trainIds[a], t, dim), gammas);
    q[a] = -(nTr / nTe) * k;
  }
  return { n: nTr, P, q, lower: new Float64Array(nTr).fill(lowerBound), E, d: Float64Array.from(counts) };
}

export function kmmWeights(input: KmmInput, options: KmmOptions = {}): KmmResult {
  const { x, objective, iterations } = solveQp(kmmProblem(input, options), options.qp);
  return { weights: x, objective, iterations };
}
