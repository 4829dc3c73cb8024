// Seeded synthetic datasets: the same arguments give the same arrays everywhere.

import { Rng } from '../rng.js';
import { uniqueUndirected } from './edges.js';

export interface LabelledPoints {
  /** [n, dim], row-major. */
  x: Float32Array;
  y: Int32Array;
  n: number;
  dim: number;
}

/**
 * Two interleaving half circles (scikit-learn's make_moons): class 0 is the
 * upper arc (cos t, sin t), class 1 the lower arc (1 - cos t, 0.5 - sin t),
 * t evenly spaced in [0, pi], Gaussian noise of std `noise` added, rows shuffled.
 */
export function twoMoons(n: number, noise: number, seed: number): LabelledPoints {
  checkCount('twoMoons', 'n', n, 2);
  const rng = new Rng(seed);
  const nOuter = Math.floor(n / 2);
  const order = rng.permutation(n);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const inner = i >= nOuter;
    const k = inner ? i - nOuter : i;
    const count = inner ? n - nOuter : nOuter;
    const t = count === 1 ? 0 : (Math.PI * k) / (count - 1);
    const row = order[i];
    x[2 * row] = (inner ? 1 - Math.cos(t) : Math.cos(t)) + noise * rng.normal();
    x[2 * row + 1] = (inner ? 0.5 - Math.sin(t) : Math.sin(t)) + noise * rng.normal();
    y[row] = inner ? 1 : 0;
  }
  return { x, y, n, dim: 2 };
}

/**
 * Isotropic Gaussian clusters (scikit-learn's make_blobs). `centers` is either
 * a count (centers drawn uniformly in [-10, 10]^dim) or explicit coordinates.
 * Points are split as evenly as possible (the first n % k centers get one more),
 * then shuffled.
 */
export function gaussianBlobs(
  n: number, centers: number | number[][], dim: number, std: number, seed: number,
): LabelledPoints & { centers: Float32Array } {
  checkCount('gaussianBlobs', 'n', n, 1);
  checkCount('gaussianBlobs', 'dim', dim, 1);
  const rng = new Rng(seed);
  const k = typeof centers === 'number' ? centers : centers.length;
  checkCount('gaussianBlobs', 'number of centers', k, 1);
  const means = new Float32Array(k * dim);
  for (let c = 0; c < k; c++) {
    for (let d = 0; d < dim; d++) {
      if (typeof centers === 'number') {
        means[c * dim + d] = -10 + 20 * rng.uniform();
      } else {
        if (centers[c].length !== dim) throw new Error(`gaussianBlobs: center ${c} has ${centers[c].length} coordinates, expected dim = ${dim}`);
        means[c * dim + d] = centers[c][d];
      }
    }
  }
  const order = rng.permutation(n);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  const base = Math.floor(n / k), extra = n % k;
  let i = 0;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < base + (c < extra ? 1 : 0); j++, i++) {
      const row = order[i];
      y[row] = c;
      for (let d = 0; d < dim; d++) x[row * dim + d] = means[c * dim + d] + std * rng.normal();
    }
  }
  return { x, y, n, dim, centers: means };
}

export interface CsbmOptions {
  nodes: number;
  classes: number;
  /** Edge probability between two nodes of the same class. */
  pIn: number;
  /** Edge probability between two nodes of different classes. */
  pOut: number;
  featDim: number;
  /** Distance between any two class means, in units of the (unit) noise std. */
  featSep: number;
  seed: number;
}

export interface CsbmGraph {
  numNodes: number;
  numClasses: number;
  /** Undirected edges, each once as (u, v) with u < v, sorted; no self loops. */
  edges: Int32Array;
  numEdges: number;
  /** [numNodes, featDim]: the node's class mean plus N(0, I) noise. */
  features: Float32Array;
  featDim: number;
  labels: Int32Array;
  /** [numClasses, featDim]: orthogonal class means scaled so that they are featSep apart. */
  means: Float32Array;
}

/**
 * Contextual stochastic block model: balanced random class assignment, each
 * pair of nodes joined independently with probability pIn (same class) or
 * pOut (different classes), Gaussian features around per-class means.
 */
export function csbm(options: CsbmOptions): CsbmGraph {
  const { nodes, classes, pIn, pOut, featDim, featSep, seed } = options;
  checkCount('csbm', 'nodes', nodes, 1);
  checkCount('csbm', 'classes', classes, 1);
  checkCount('csbm', 'featDim', featDim, classes);
  for (const [name, p] of [['pIn', pIn], ['pOut', pOut]] as const) {
    if (!(p >= 0 && p <= 1)) throw new Error(`csbm: ${name} = ${p} is not a probability in [0, 1]`);
  }
  if (!(featSep >= 0)) throw new Error(`csbm: featSep = ${featSep} must be >= 0`);
  const rng = new Rng(seed);

  const labels = new Int32Array(nodes);
  const order = rng.permutation(nodes);
  for (let i = 0; i < nodes; i++) labels[order[i]] = i % classes;
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (let v = 0; v < nodes; v++) members[labels[v]].push(v);

  const pairs: number[] = [];
  const addPair = (u: number, v: number) => pairs.push(u, v);
  for (let a = 0; a < classes; a++) {
    const A = members[a];
    // Pairs within a class, enumerated row by row: row r holds (A[r], A[r+1..]).
    let row = 0, rowStart = 0;
    sampleBernoulliPositions(rng, (A.length * (A.length - 1)) / 2, pIn, (pos) => {
      while (pos >= rowStart + (A.length - 1 - row)) { rowStart += A.length - 1 - row; row++; }
      addPair(A[row], A[row + 1 + pos - rowStart]);
    });
    for (let b = a + 1; b < classes; b++) {
      const B = members[b];
      sampleBernoulliPositions(rng, A.length * B.length, pOut, (pos) => addPair(A[Math.floor(pos / B.length)], B[pos % B.length]));
    }
  }
  // Each pair is drawn at most once, so this only orients and sorts them.
  const edges = uniqueUndirected(Int32Array.from(pairs), nodes);

  // Orthonormal directions scaled by s are s * sqrt(2) apart; choose s for featSep.
  const scale = featSep / Math.SQRT2;
  const means = Float32Array.from(orthonormalRows(rng, classes, featDim), (v) => v * scale);
  const features = new Float32Array(nodes * featDim);
  for (let v = 0; v < nodes; v++) {
    const c = labels[v];
    for (let d = 0; d < featDim; d++) features[v * featDim + d] = means[c * featDim + d] + rng.normal();
  }
  return { numNodes: nodes, numClasses: classes, edges, numEdges: edges.length / 2, features, featDim, labels, means };
}

/**
 * Calls `hit(pos)` for each position in [0, count) that an independent
 * Bernoulli(p) trial selects, in increasing order. Jumps between hits with
 * geometric gaps, so the cost is O(hits) rather than O(count).
 */
function sampleBernoulliPositions(rng: Rng, count: number, p: number, hit: (pos: number) => void): void {
  if (p <= 0 || count <= 0) return;
  if (p >= 1) { for (let pos = 0; pos < count; pos++) hit(pos); return; }
  const logQ = Math.log1p(-p);
  let pos = -1;
  for (;;) {
    pos += 1 + Math.floor(Math.log1p(-rng.uniform()) / logQ);
    if (pos >= count) return;
    hit(pos);
  }
}

/** `rows` random orthonormal vectors of length `cols` (Gram-Schmidt on Gaussian draws). */
function orthonormalRows(rng: Rng, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const v = m.subarray(r * cols, (r + 1) * cols);
    for (;;) {
      for (let d = 0; d < cols; d++) v[d] = rng.normal();
      for (let q = 0; q < r; q++) {
        const u = m.subarray(q * cols, (q + 1) * cols);
        let dot = 0;
        for (let d = 0; d < cols; d++) dot += v[d] * u[d];
        for (let d = 0; d < cols; d++) v[d] -= dot * u[d];
      }
      let norm = 0;
      for (let d = 0; d < cols; d++) norm += v[d] * v[d];
      norm = Math.sqrt(norm);
      // A draw (almost) inside the span of the previous rows is redrawn.
      if (norm > 1e-6) { for (let d = 0; d < cols; d++) v[d] /= norm; break; }
    }
  }
  return m;
}

function checkCount(fn: string, name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${fn}: ${name} must be an integer >= ${min}, got ${value}`);
}
