// Personalized PageRank on a graph's adjacency (a square Csr, read on the
// host): the exact dense matrix (PPNP / SR-GNN's `calc_ppr_exact`) and the
// Andersen-Chung-Lang push approximation for one seed.

import * as T from '../../index.js';
import { spdInverseInto, type FloatArray, type SpdInverseOptions } from './cholesky.js';

/** A square matrix's host arrays (values null: every stored entry is 1). */
export interface HostGraph {
  n: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array | null;
}

/** The host arrays of a square Csr (rows sorted, no duplicates: Csr's invariants). */
export function hostGraph(a: T.Csr, where: string): HostGraph {
  if (!(a instanceof T.Csr)) throw new Error(`${where}: expected the adjacency as a Csr, got ${typeof a === 'object' ? (a as object)?.constructor?.name : typeof a}`);
  if (a.rows !== a.cols) throw new Error(`${where}: needs a square adjacency, got ${a.rows} x ${a.cols}`);
  return { n: a.rows, ...a.hostArrays() };
}

function entryValue(g: HostGraph, k: number): number {
  return g.values === null ? 1 : g.values[k];
}

/** Weighted degrees: row sums (entry counts for a binary graph), in float64. */
export function degrees(g: HostGraph): Float64Array {
  const d = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) {
    let s = 0;
    for (let k = g.rowPtr[i]; k < g.rowPtr[i + 1]; k++) s += entryValue(g, k);
    d[i] = s;
  }
  return d;
}

/** Index of entry (i, j), or -1 (binary search in row i). */
function findEntry(g: HostGraph, i: number, j: number): number {
  let lo = g.rowPtr[i], hi = g.rowPtr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = g.colIdx[mid];
    if (c === j) return mid;
    if (c < j) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** Checks that the stored pattern and values are symmetric (A[i][j] == A[j][i]). */
function validateSymmetric(g: HostGraph, where: string): void {
  const { n, rowPtr, colIdx } = g;
  for (let i = 0; i < n; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      const kt = findEntry(g, j, i);
      if (kt < 0) throw new Error(`${where}: graph is not symmetric: entry (${i}, ${j}) has no (${j}, ${i})`);
      if (entryValue(g, kt) !== entryValue(g, k)) {
        throw new Error(`${where}: graph is not symmetric: A[${i}][${j}] = ${entryValue(g, k)} but A[${j}][${i}] = ${entryValue(g, kt)}`);
      }
    }
  }
}

/** Connected components of a symmetric graph: component id per node, ids in order of first node. */
function connectedComponents(g: HostGraph): { count: number; componentOf: Int32Array } {
  const componentOf = new Int32Array(g.n).fill(-1);
  const stack = new Int32Array(g.n);
  let count = 0;
  for (let s = 0; s < g.n; s++) {
    if (componentOf[s] >= 0) continue;
    let top = 0;
    stack[top++] = s;
    componentOf[s] = count;
    while (top > 0) {
      const u = stack[--top];
      for (let k = g.rowPtr[u]; k < g.rowPtr[u + 1]; k++) {
        const v = g.colIdx[k];
        if (componentOf[v] < 0) { componentOf[v] = count; stack[top++] = v; }
      }
    }
    count++;
  }
  return { count, componentOf };
}

export interface ExactPprOptions extends SpdInverseOptions {
  /** Element type of the returned n x n matrix (default float32). */
  dtype?: 'float32' | 'float64';
}

function checkAlpha(alpha: number, where: string): void {
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`${where}: restart probability alpha must be in (0, 1], got ${alpha}`);
}

/**
 * Exact PPR matrix Π = alpha (I - (1 - alpha) Â)^-1 with Â = D^-1/2 (A + I) D^-1/2,
 * for a symmetric adjacency A (self-loops are added here, as in PPNP). Â is formed
 * in float64 here rather than by `A.symNormalize()` (float32 values), because the
 * solve amplifies its rounding by up to 1 / alpha. Returned
 * dense row-major n x n; Π is symmetric, row i is the PPR vector of node i.
 *
 * M = I - (1 - alpha) Â is symmetric positive definite (the eigenvalues of Â lie
 * in [-1, 1]), so it is inverted through a Cholesky factorization, per connected
 * component (Π is zero across components), with fill-reducing sparse elimination
 * before a dense tail; see `spdInverseInto`.
 */
export function exactPpr(adjacency: T.Csr, alpha: number, options: ExactPprOptions & { dtype: 'float64' }): Float64Array;
export function exactPpr(adjacency: T.Csr, alpha: number, options?: ExactPprOptions & { dtype?: 'float32' }): Float32Array;
export function exactPpr(adjacency: T.Csr, alpha: number, options?: ExactPprOptions): FloatArray;
export function exactPpr(adjacency: T.Csr, alpha: number, options: ExactPprOptions = {}): FloatArray {
  const where = 'exactPpr';
  checkAlpha(alpha, where);
  validateSymmetric(hostGraph(adjacency, where), where);
  const n = adjacency.rows;
  const cells = n * n;
  let out: FloatArray;
  try {
    out = options.dtype === 'float64' ? new Float64Array(cells) : new Float32Array(cells);
  } catch (e) {
    throw new Error(`${where}: cannot allocate the dense ${n} x ${n} ${options.dtype ?? 'float32'} PPR matrix ` +
      `(${(e as Error).message}); use pushPpr per seed for graphs this large`);
  }
  // Â = D^-1/2 (A + I) D^-1/2 in float64 on the pattern of A + I.
  const withLoops = adjacency.addSelfLoops();
  const loops = hostGraph(withLoops, where);
  withLoops.dispose();
  const d = degrees(loops);
  const invSqrt = d.map((di) => (di > 0 ? 1 / Math.sqrt(di) : 0));
  const norm = { ...loops, values: new Float64Array(loops.colIdx.length) };
  for (let i = 0; i < n; i++) {
    for (let k = loops.rowPtr[i]; k < loops.rowPtr[i + 1]; k++) {
      norm.values[k] = invSqrt[i] * entryValue(loops, k) * invSqrt[loops.colIdx[k]];
    }
  }
  const { count, componentOf } = connectedComponents(loops);
  // Bucket nodes by component; local index = rank within the component.
  const compStart = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) compStart[componentOf[i] + 1]++;
  for (let c = 0; c < count; c++) compStart[c + 1] += compStart[c];
  const members = new Int32Array(n);
  const localIndex = new Int32Array(n);
  const fill = compStart.slice(0, count);
  for (let i = 0; i < n; i++) {
    const c = componentOf[i];
    localIndex[i] = fill[c] - compStart[c];
    members[fill[c]++] = i;
  }
  for (let c = 0; c < count; c++) {
    const nodes = members.subarray(compStart[c], compStart[c + 1]);
    const size = nodes.length;
    // Local M = I - (1 - alpha) Â restricted to the component (columns stay sorted:
    // local indices are increasing in the global ones).
    const rowPtr = new Int32Array(size + 1);
    for (let a = 0; a < size; a++) rowPtr[a + 1] = rowPtr[a] + norm.rowPtr[nodes[a] + 1] - norm.rowPtr[nodes[a]];
    const colIdx = new Int32Array(rowPtr[size]);
    const values = new Float64Array(rowPtr[size]);
    for (let a = 0; a < size; a++) {
      const i = nodes[a];
      for (let k = norm.rowPtr[i], e = rowPtr[a]; k < norm.rowPtr[i + 1]; k++, e++) {
        const j = norm.colIdx[k];
        colIdx[e] = localIndex[j];
        values[e] = (j === i ? 1 : 0) - (1 - alpha) * norm.values[k];
      }
    }
    spdInverseInto({ n: size, rowPtr, colIdx, values }, alpha, out, n, nodes, options, where);
  }
  return out;
}

/** A sparse vector: entries values[k] at ids[k], ids ascending. */
export interface SparseVector {
  ids: Int32Array;
  values: Float64Array;
}

/**
 * Approximate random-walk PPR of one seed by push (Andersen, Chung, Lang 2006):
 * p ≈ π_seed = alpha (I - (1 - alpha) A D^-1)^-1 e_seed on the graph as given
 * (add self-loops first to match `exactPpr`'s Â), D the weighted degrees.
 * Pushes every node whose residual reaches epsilon * degree, so on return every
 * residual is below epsilon * degree and, per node i,
 * 0 <= π_seed(i) - p(i) < epsilon * d(i) on a symmetric graph. An isolated seed gets
 * p = e_seed (as if it had a self-loop).
 * The symmetric-normalized PPR of `exactPpr` relates by Π[i][seed] = π_seed(i) sqrt(d(seed) / d(i)).
 */
export function pushPpr(adjacency: T.Csr, seed: number, alpha: number, epsilon: number): SparseVector {
  const where = 'pushPpr';
  const graph = checkPushArguments(adjacency, alpha, epsilon, where);
  if (!Number.isInteger(seed) || seed < 0 || seed >= graph.n) throw new Error(`${where}: seed ${seed} outside [0, ${graph.n})`);
  return pushFromSeed(graph, degrees(graph), seed, alpha, epsilon);
}

/** Argument checks of `pushPpr`, shared with callers that push from many seeds; returns the host graph. */
export function checkPushArguments(adjacency: T.Csr, alpha: number, epsilon: number, where: string): HostGraph {
  checkAlpha(alpha, where);
  if (!(epsilon > 0)) throw new Error(`${where}: epsilon must be positive, got ${epsilon}`);
  return hostGraph(adjacency, where);
}

/** `pushPpr` without argument checks, for a validated graph and its degrees. */
export function pushFromSeed(graph: HostGraph, deg: Float64Array, seed: number, alpha: number, epsilon: number): SparseVector {
  const n = graph.n;
  // An isolated seed keeps its walk: the same vector as with a self-loop.
  if (!(deg[seed] > 0)) return { ids: Int32Array.of(seed), values: Float64Array.of(1) };
  const p = new Float64Array(n);
  const residual = new Float64Array(n);
  const touched: number[] = [seed];
  const seen = new Uint8Array(n);
  seen[seed] = 1;
  // Rounds of pushes over the nodes whose residual reached the threshold;
  // `queued` keeps a node at most once in the next round.
  const queued = new Uint8Array(n);
  let queue: number[] = [seed];
  residual[seed] = 1;
  queued[seed] = 1;
  while (queue.length > 0) {
    const next: number[] = [];
    for (const u of queue) {
      queued[u] = 0;
      const ru = residual[u];
      if (ru < epsilon * deg[u]) continue;
      p[u] += alpha * ru;
      residual[u] = 0;
      const spread = (1 - alpha) * ru / deg[u];
      for (let k = graph.rowPtr[u]; k < graph.rowPtr[u + 1]; k++) {
        const v = graph.colIdx[k];
        residual[v] += spread * entryValue(graph, k);
        if (!seen[v]) { seen[v] = 1; touched.push(v); }
        if (!queued[v] && residual[v] >= epsilon * deg[v]) { queued[v] = 1; next.push(v); }
      }
    }
    queue = next;
  }
  const support = touched.filter((i) => p[i] > 0).sort((a, b) => a - b);
  const ids = Int32Array.from(support);
  const values = new Float64Array(ids.length);
  for (let k = 0; k < ids.length; k++) values[k] = p[ids[k]];
  return { ids, values };
}
