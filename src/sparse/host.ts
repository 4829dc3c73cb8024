// The host-side arrays behind Csr's structural transforms (addSelfLoops,
// symNormalize): a square matrix in CSR form on plain typed arrays. Internal to
// src/sparse; the public type is the Csr class. Derived weights are float64
// unless float32 is asked for, so that a chain of transforms rounds once.

export type FloatArray = Float32Array | Float64Array;
export type FloatDType = 'float32' | 'float64';

/** A square n x n sparse matrix: row i holds colIdx[rowPtr[i] .. rowPtr[i+1]),
 *  sorted ascending without duplicates. `values` absent means every stored
 *  entry is 1 (a binary adjacency). */
export interface HostCsr {
  n: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values?: FloatArray;
}

function nnzOf(g: HostCsr): number { return g.rowPtr[g.n]; }

/** Value of the k-th stored entry (1 when the graph is binary). */
function entryValue(g: HostCsr, k: number): number {
  return g.values === undefined ? 1 : g.values[k];
}

function allocFloat(dtype: FloatDType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** Index of entry (i, j) in colIdx/values, or -1 (binary search in row i). */
function findEntry(g: HostCsr, i: number, j: number): number {
  let lo = g.rowPtr[i], hi = g.rowPtr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = g.colIdx[mid];
    if (c === j) return mid;
    if (c < j) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** A + weight * I. An existing diagonal entry is increased by `weight`
 *  (so a graph that already has self-loops gets diagonal 1 + weight, as scipy's `adj + eye`). */
export function addSelfLoops(g: HostCsr, weight = 1, dtype: FloatDType = 'float64'): HostCsr {
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
function degrees(g: HostCsr): Float64Array {
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
export function symmetricNormalize(g: HostCsr, dtype: FloatDType = 'float32'): HostCsr {
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

