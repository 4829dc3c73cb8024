// Host-side compressed sparse row graphs on plain typed arrays. These build the
// structures that are later uploaded to a backend (`Csr` in backend/interface.ts)
// and feed the host graph algorithms (PPR, samplers). Float64 is used for
// derived weights unless the caller asks for float32, because normalized
// weights also feed the exact PPR solve.

export type FloatArray = Float32Array | Float64Array;
export type FloatDType = 'float32' | 'float64';

/** A square n x n sparse matrix: row i holds colIdx[rowPtr[i] .. rowPtr[i+1]),
 *  sorted ascending without duplicates. `values` absent means every stored
 *  entry is 1 (a binary adjacency). */
export interface CsrGraph {
  n: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values?: FloatArray;
}

export function nnzOf(g: CsrGraph): number { return g.rowPtr[g.n]; }

/** Value of the k-th stored entry (1 when the graph is binary). */
export function entryValue(g: CsrGraph, k: number): number {
  return g.values === undefined ? 1 : g.values[k];
}

function allocFloat(dtype: FloatDType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** Checks the CSR invariants; `where` names the calling operation in the error. */
export function validateCsr(g: CsrGraph, where: string): void {
  const { n, rowPtr, colIdx, values } = g;
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: node count must be a non-negative integer, got ${n}`);
  if (rowPtr.length !== n + 1) throw new Error(`${where}: rowPtr has length ${rowPtr.length}, expected n + 1 = ${n + 1}`);
  if (rowPtr[0] !== 0) throw new Error(`${where}: rowPtr[0] must be 0, got ${rowPtr[0]}`);
  const nnz = rowPtr[n];
  if (colIdx.length !== nnz) throw new Error(`${where}: colIdx has length ${colIdx.length}, rowPtr[n] = ${nnz}`);
  if (values !== undefined && values.length !== nnz) {
    throw new Error(`${where}: values has length ${values.length}, rowPtr[n] = ${nnz}`);
  }
  for (let i = 0; i < n; i++) {
    const start = rowPtr[i], end = rowPtr[i + 1];
    if (end < start) throw new Error(`${where}: rowPtr decreases at row ${i} (${start} > ${end})`);
    for (let k = start; k < end; k++) {
      const j = colIdx[k];
      if (j < 0 || j >= n) throw new Error(`${where}: row ${i} has column ${j}, outside [0, ${n})`);
      if (k > start && j <= colIdx[k - 1]) {
        throw new Error(`${where}: row ${i} columns are not strictly increasing (${colIdx[k - 1]} then ${j})`);
      }
    }
  }
}

/** Checks that the stored pattern and values are symmetric (A[i][j] == A[j][i]). */
export function validateSymmetric(g: CsrGraph, where: string): void {
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

/** Index of entry (i, j) in colIdx/values, or -1 (binary search in row i). */
export function findEntry(g: CsrGraph, i: number, j: number): number {
  let lo = g.rowPtr[i], hi = g.rowPtr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = g.colIdx[mid];
    if (c === j) return mid;
    if (c < j) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/**
 * Symmetric binary adjacency from an undirected edge list `edges` = [u0, v0, u1, v1, ...].
 * Each pair gives A[u][v] = A[v][u] = 1; repeated pairs (in either orientation)
 * are merged. A pair (u, u) is a self-loop and gives the diagonal entry A[u][u] = 1.
 */
export function csrFromEdges(n: number, edges: Int32Array): CsrGraph {
  if (!Number.isInteger(n) || n < 0) throw new Error(`csrFromEdges: node count must be a non-negative integer, got ${n}`);
  if (edges.length % 2 !== 0) throw new Error(`csrFromEdges: edge list length ${edges.length} is odd; expected pairs [u0, v0, u1, v1, ...]`);
  const m = edges.length / 2;
  const count = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    const u = edges[2 * e], v = edges[2 * e + 1];
    if (u < 0 || u >= n || v < 0 || v >= n) {
      throw new Error(`csrFromEdges: edge ${e} = (${u}, ${v}) has a node id outside [0, ${n})`);
    }
    count[u + 1]++;
    if (u !== v) count[v + 1]++;
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  // Scatter both directions, then sort and deduplicate each row in place.
  const scattered = new Int32Array(count[n]);
  const fill = count.slice(0, n);
  for (let e = 0; e < m; e++) {
    const u = edges[2 * e], v = edges[2 * e + 1];
    scattered[fill[u]++] = v;
    if (u !== v) scattered[fill[v]++] = u;
  }
  const rowPtr = new Int32Array(n + 1);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const row = scattered.subarray(count[i], count[i + 1]);
    row.sort();
    for (let k = 0; k < row.length; k++) {
      if (k === 0 || row[k] !== row[k - 1]) scattered[out++] = row[k];
    }
    rowPtr[i + 1] = out;
  }
  return { n, rowPtr, colIdx: scattered.slice(0, out) };
}

/** A + weight * I. An existing diagonal entry is increased by `weight`
 *  (so a graph that already has self-loops gets diagonal 1 + weight, as scipy's `adj + eye`). */
export function addSelfLoops(g: CsrGraph, weight = 1, dtype: FloatDType = 'float64'): CsrGraph {
  const { n, rowPtr, colIdx } = g;
  let missing = 0;
  for (let i = 0; i < n; i++) if (findEntry(g, i, i) < 0) missing++;
  const outPtr = new Int32Array(n + 1);
  const outCol = new Int32Array(nnzOf(g) + missing);
  const outVal = allocFloat(dtype, outCol.length);
  let out = 0;
  for (let i = 0; i < n; i++) {
    let placed = false;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (!placed && j > i) { outCol[out] = i; outVal[out++] = weight; placed = true; }
      outCol[out] = j;
      outVal[out] = entryValue(g, k) + (j === i ? weight : 0);
      if (j === i) placed = true;
      out++;
    }
    if (!placed) { outCol[out] = i; outVal[out++] = weight; }
    outPtr[i + 1] = out;
  }
  return { n, rowPtr: outPtr, colIdx: outCol, values: outVal };
}

/** Weighted degrees: row sums of A (entry counts for a binary graph). */
export function degrees(g: CsrGraph): Float64Array {
  const d = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) {
    let s = 0;
    for (let k = g.rowPtr[i]; k < g.rowPtr[i + 1]; k++) s += entryValue(g, k);
    d[i] = s;
  }
  return d;
}

/** D^-1/2 A D^-1/2 with D the row sums of A. Rows of zero degree stay zero
 *  (the usual convention: 1/sqrt(0) is taken as 0). */
export function symmetricNormalize(g: CsrGraph, dtype: FloatDType = 'float32'): CsrGraph {
  const d = degrees(g);
  const invSqrt = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) invSqrt[i] = d[i] > 0 ? 1 / Math.sqrt(d[i]) : 0;
  const values = allocFloat(dtype, nnzOf(g));
  for (let i = 0; i < g.n; i++) {
    for (let k = g.rowPtr[i]; k < g.rowPtr[i + 1]; k++) {
      values[k] = invSqrt[i] * entryValue(g, k) * invSqrt[g.colIdx[k]];
    }
  }
  return { n: g.n, rowPtr: g.rowPtr.slice(), colIdx: g.colIdx.slice(), values };
}

/** The GCN / PPNP propagation matrix Â = D^-1/2 (A + I) D^-1/2, D the degrees of A + I. */
export function gcnNormalize(g: CsrGraph, dtype: FloatDType = 'float32'): CsrGraph {
  return symmetricNormalize(addSelfLoops(g, 1, 'float64'), dtype);
}

/** Connected components of a symmetric graph: component id per node, ids in order of first node. */
export function connectedComponents(g: CsrGraph): { count: number; componentOf: Int32Array } {
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

/** Dense row-major n x n copy (for tests and small graphs). */
export function toDense(g: CsrGraph): Float64Array {
  const a = new Float64Array(g.n * g.n);
  for (let i = 0; i < g.n; i++) {
    for (let k = g.rowPtr[i]; k < g.rowPtr[i + 1]; k++) a[i * g.n + g.colIdx[k]] = entryValue(g, k);
  }
  return a;
}
