// Cholesky factorizations in float64 on plain typed arrays: a dense one (used by
// the QP solver and by the dense tail of the sparse one) and a sparse/dense hybrid
// that computes the full inverse of a sparse symmetric positive definite matrix
// (used by exact personalized PageRank).

export type FloatArray = Float32Array | Float64Array;

/** A sparse symmetric matrix with its diagonal stored: row i holds colIdx[rowPtr[i] .. rowPtr[i+1]), ascending. */
export interface SparseSpd {
  n: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

/** Rows (Cholesky) or right-hand sides (inverse) handled together, so that each row
 *  of L streamed from memory is reused this many times from cache. */
const BLOCK = 16;

/**
 * In-place Cholesky A = L L^T of a dense symmetric positive definite row-major
 * n x n matrix: on return the lower triangle (diagonal included) holds L; the strict
 * upper triangle is left untouched. Only the lower triangle of A is read.
 * Row-oriented (Cholesky-Crout) so every inner loop is a dot product of two
 * contiguous row prefixes, which is what V8 runs fastest on typed arrays; rows
 * are computed BLOCK at a time so each earlier row is read once per block.
 * A pivot (before its square root) at or below `minPivot` is an error.
 */
export function denseCholesky(a: Float64Array, n: number, where = 'denseCholesky', minPivot = 0): void {
  if (a.length < n * n) throw new Error(`${where}: matrix has ${a.length} elements, expected ${n} x ${n}`);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j = 0; j < i1; j++) {
      const rj = j * n;
      // Row j is final up to column j here: earlier blocks, or earlier steps of this one.
      for (let i = Math.max(i0, j); i < i1; i++) {
        const ri = i * n;
        let s = a[ri + j];
        for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
        if (i > j) {
          a[ri + j] = s / a[rj + j];
        } else {
          if (!(s > minPivot)) {
            throw new Error(`${where}: matrix is not positive definite (pivot ${i} of ${n} is ${s})`);
          }
          a[ri + i] = Math.sqrt(s);
        }
      }
    }
  }
}

/** Solves L L^T x = b in place (b becomes x) with L from `denseCholesky`. */
export function denseCholeskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  // L^T x = y, column-oriented on L^T = row-oriented on L: contiguous axpy on row i.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const xi = b[i] / l[ri + i];
    b[i] = xi;
    for (let k = 0; k < i; k++) b[k] -= l[ri + k] * xi;
  }
}

/** How the hybrid factorization switches from sparse elimination to a dense tail. */
export interface SpdInverseOptions {
  /** Eliminate sparsely while the smallest remaining degree is at most this
   *  fraction of the remaining node count; the rest is factored densely. */
  denseSwitchDensity?: number;
}

/**
 * Hybrid sparse/dense Cholesky of a sparse SPD matrix M (symmetric CSR with the
 * diagonal stored): nodes are eliminated in minimum-degree order with explicit
 * fill while the remaining graph is sparse, then the remaining Schur complement
 * is factored as a dense block. In elimination order, L = [[Ls, 0], [Lsd, Ld]].
 */
interface HybridFactor {
  n: number;
  /** order[pos] = matrix index eliminated at position pos. */
  order: Int32Array;
  /** Number of sparsely eliminated positions (0..sparseCount-1). */
  sparseCount: number;
  /** Diagonal of L for sparse positions. */
  sparseDiag: Float64Array;
  /** Below-diagonal entries of sparse column k: rows colRow[colStart[k]..colStart[k+1]) (positions > k). */
  colStart: Int32Array;
  colRow: Int32Array;
  colVal: Float64Array;
  /** Dense lower-triangular tail, row-major (n - sparseCount)^2. */
  dense: Float64Array;
}

/** Lazy binary min-heap of numeric keys (stale entries are skipped by the caller). */
class MinHeap {
  private keys: number[] = [];
  push(key: number): void {
    const h = this.keys;
    let i = h.length;
    h.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= key) break;
      h[i] = h[p]; i = p;
    }
    h[i] = key;
  }
  peek(): number { return this.keys[0]; }
  pop(): number {
    const h = this.keys;
    const top = h[0];
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1] < h[l] ? l + 1 : l;
        if (h[c] >= last) break;
        h[i] = h[c]; i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function hybridCholesky(m: SparseSpd, options: SpdInverseOptions, where: string): HybridFactor {
  const n = m.n;
  const density = options.denseSwitchDensity ?? 0.25;
  // Off-diagonal part of the remaining (Schur complement) matrix as one map per node.
  const rest: Map<number, number>[] = new Array(n);
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = new Map<number, number>();
    for (let k = m.rowPtr[i]; k < m.rowPtr[i + 1]; k++) {
      const j = m.colIdx[k];
      if (j === i) diag[i] += m.values[k];
      else row.set(j, m.values[k]);
    }
    rest[i] = row;
  }
  // Key = degree * n + node: pops the smallest degree, ties to the smallest index.
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) heap.push(rest[i].size * n + i);
  const eliminated = new Uint8Array(n);
  const order = new Int32Array(n);
  const sparseDiag: number[] = [];
  const colStart: number[] = [0];
  const colNode: number[] = [];
  const colVal: number[] = [];
  let pos = 0;
  while (pos < n) {
    let key = heap.peek();
    let p = key % n;
    let deg = (key - p) / n;
    while (eliminated[p] || rest[p].size !== deg) {
      heap.pop();
      key = heap.peek(); p = key % n; deg = (key - p) / n;
    }
    if (deg > density * (n - pos)) break;
    heap.pop();
    const d = diag[p];
    if (!(d > 0)) throw new Error(`${where}: matrix is not positive definite (pivot at index ${p} is ${d})`);
    const lpp = Math.sqrt(d);
    const nbrs = Array.from(rest[p].keys());
    const l = nbrs.map((j) => (rest[p].get(j) as number) / lpp);
    for (let a = 0; a < nbrs.length; a++) {
      const i = nbrs[a];
      const ri = rest[i];
      ri.delete(p);
      diag[i] -= l[a] * l[a];
      for (let b = 0; b < nbrs.length; b++) {
        if (b === a) continue;
        const j = nbrs[b];
        ri.set(j, (ri.get(j) ?? 0) - l[a] * l[b]);
      }
    }
    for (const i of nbrs) heap.push(rest[i].size * n + i);
    eliminated[p] = 1;
    order[pos++] = p;
    sparseDiag.push(lpp);
    for (let a = 0; a < nbrs.length; a++) { colNode.push(nbrs[a]); colVal.push(l[a]); }
    colStart.push(colNode.length);
    rest[p].clear();
  }
  const sparseCount = pos;
  for (let i = 0; i < n; i++) if (!eliminated[i]) order[pos++] = i;
  const position = new Int32Array(n);
  for (let k = 0; k < n; k++) position[order[k]] = k;
  // Dense tail: the remaining Schur complement in elimination order.
  const r = n - sparseCount;
  const dense = new Float64Array(r * r);
  for (let t = 0; t < r; t++) {
    const i = order[sparseCount + t];
    dense[t * r + t] = diag[i];
    for (const [j, v] of rest[i]) {
      const u = position[j] - sparseCount;
      if (u < t) dense[t * r + u] = v;
    }
  }
  denseCholesky(dense, r, where);
  const colRow = new Int32Array(colNode.length);
  for (let e = 0; e < colNode.length; e++) colRow[e] = position[colNode[e]];
  return {
    n, order, sparseCount,
    sparseDiag: Float64Array.from(sparseDiag),
    colStart: Int32Array.from(colStart), colRow, colVal: Float64Array.from(colVal),
    dense,
  };
}

/**
 * Writes scale * M^-1 for a sparse symmetric positive definite M into a dense
 * row-major output: entry (a, b) of the inverse goes to
 * out[outIndex[a] * outStride + outIndex[b]]. M must be symmetric with its diagonal stored.
 * Cost: the factorization, then one forward and one back solve per column.
 */
export function spdInverseInto(m: SparseSpd, scale: number, out: FloatArray, outStride: number,
  outIndex: Int32Array, options: SpdInverseOptions = {}, where = 'spdInverseInto'): void {
  const { n, order, sparseCount: s, sparseDiag, colStart, colRow, colVal, dense } = hybridCholesky(m, options, where);
  const r = n - s;
  // Output columns in ascending order (outIndex is increasing in the matrix index)
  // and the elimination position each one reads: rows are then written sequentially.
  const destOf = new Int32Array(n);
  for (let k = 0; k < n; k++) destOf[k] = outIndex[order[k]];
  const sourceOf = new Int32Array(n);
  for (let k = 0; k < n; k++) sourceOf[order[k]] = k;
  // BLOCK columns of the inverse at a time: column b of the block lives at xs[b * n ..].
  const xs = new Float64Array(BLOCK * n);
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const nb = Math.min(BLOCK, n - j0);
    xs.fill(0);
    // Forward L y = e_j, sparse part: only positions >= j can be nonzero.
    for (let b = 0; b < nb; b++) {
      const x = b * n;
      xs[x + j0 + b] = 1;
      for (let k = j0 + b; k < s; k++) {
        const yk = xs[x + k];
        if (yk === 0) continue;
        const v = yk / sparseDiag[k];
        xs[x + k] = v;
        for (let e = colStart[k]; e < colStart[k + 1]; e++) xs[x + colRow[e]] -= colVal[e] * v;
      }
    }
    // Dense tail, forward then back (L^T column-oriented = row-oriented on L), with
    // the loop over the block's columns innermost so each row of L is reused from cache.
    const uStart = j0 > s ? j0 - s : 0; // dense positions below j0 are zero in every column
    for (let t = uStart; t < r; t++) {
      const rt = t * r;
      for (let b = 0; b < nb; b++) {
        const x = b * n + s;
        let acc = xs[x + t];
        for (let u = uStart; u < t; u++) acc -= dense[rt + u] * xs[x + u];
        xs[x + t] = acc / dense[rt + t];
      }
    }
    for (let t = r - 1; t >= 0; t--) {
      const rt = t * r;
      for (let b = 0; b < nb; b++) {
        const x = b * n + s;
        const xt = xs[x + t] / dense[rt + t];
        xs[x + t] = xt;
        for (let u = 0; u < t; u++) xs[x + u] -= dense[rt + u] * xt;
      }
    }
    for (let b = 0; b < nb; b++) {
      const x = b * n;
      // Back L^T x = y, sparse part, over all positions (the whole column is written out).
      for (let k = s - 1; k >= 0; k--) {
        let acc = xs[x + k];
        for (let e = colStart[k]; e < colStart[k + 1]; e++) acc -= colVal[e] * xs[x + colRow[e]];
        xs[x + k] = acc / sparseDiag[k];
      }
      // Column j of the inverse is row j too (M is symmetric): write it as a row.
      const base = destOf[j0 + b] * outStride;
      for (let i = 0; i < n; i++) out[base + outIndex[i]] = scale * xs[x + sourceOf[i]];
    }
  }
}
