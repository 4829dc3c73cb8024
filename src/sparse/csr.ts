// Tensor-level sparse matrices in compressed sparse row form, for graph
// message passing. The sparsity pattern is built once per graph on the host
// (sorting, merging duplicates, transposing) and uploaded as int32 tensors;
// the edge values are a float32 tensor that may require grad.
//
// Orientation of graph builders: an edge src -> dst is stored at A[dst][src],
// so spmm(A, X) sums, at each destination, the features of its sources, and
// edgeSoftmax normalizes over each node's incoming edges (GCN, GAT).
import type { Backend, Buf, Csr as KernelCsr } from '../backend/interface.js';
import { backendByName, getBackend } from '../backend/registry.js';
import { Tensor, scope } from '../tensor.js';
import { fmtShape } from '../shape.js';
import { fromArray, ones, zeros } from '../ops/creation.js';
import { indexSelect, scatterAdd } from '../ops/indexing.js';
import { expand, reshape } from '../ops/view.js';
import { addSelfLoops, symmetricNormalize, type HostCsr } from './host.js';

export type IdArray = Int32Array | readonly number[];
export type ValuesInput = Tensor | Float32Array | readonly number[];

export interface BuildOptions {
  /** Per-entry values in the order given (duplicates are summed); absent means all ones. */
  values?: ValuesInput;
  /** Backend name; default the values tensor's backend, else the current backend. */
  backend?: string;
}

/**
 * Sparsity pattern on one backend, shared by a matrix, the matrices made from it with
 * withValues() and their transposes. A pattern and its transpose share one count of the
 * matrices using either; the last one's dispose() frees both.
 */
export class CsrPattern {
  readonly nnz: number;
  readonly rowPtr: Tensor;
  readonly colIdx: Tensor;
  private rowIdxTensor?: Tensor;
  private rowIdxHostArray?: Int32Array;
  private transposed?: { pattern: CsrPattern; perm: Tensor; permHost: Int32Array };
  private headPatterns?: Map<number, { pattern: CsrPattern; perm: Tensor }>;
  private users: { count: number };

  constructor(
    readonly rows: number, readonly cols: number,
    readonly rowPtrHost: Int32Array, readonly colIdxHost: Int32Array, readonly backend: Backend,
    users = { count: 0 },
  ) {
    this.users = users;
    this.nnz = colIdxHost.length;
    // The pattern belongs to the matrix (freed by its dispose()), not to the scope it was built in.
    this.rowPtr = upload(rowPtrHost, backend);
    this.colIdx = upload(colIdxHost, backend);
  }

  /** The row of every stored entry, host side. */
  get rowIdxHost(): Int32Array {
    if (!this.rowIdxHostArray) {
      const r = new Int32Array(this.nnz);
      for (let i = 0; i < this.rows; i++) r.fill(i, this.rowPtrHost[i], this.rowPtrHost[i + 1]);
      this.rowIdxHostArray = r;
    }
    return this.rowIdxHostArray;
  }

  get rowIdx(): Tensor {
    this.rowIdxTensor ??= upload(this.rowIdxHost, this.backend);
    return this.rowIdxTensor;
  }

  /** The kernel-level matrix; `values` is a dense float32 [nnz] buffer or absent for all ones. */
  kernel(values?: Buf): KernelCsr {
    return { rows: this.rows, cols: this.cols, nnz: this.nnz, rowPtr: this.rowPtr.denseBuf(), colIdx: this.colIdx.denseBuf(), values };
  }

  retain(): void { this.users.count++; }
  release(): void {
    if (--this.users.count > 0) return;
    this.free();
    if (this.transposed) this.transposed.pattern.free();
  }

  private free(): void {
    this.rowPtr.dispose(); this.colIdx.dispose(); this.rowIdxTensor?.dispose(); this.transposed?.perm.dispose();
    for (const { pattern, perm } of this.headPatterns?.values() ?? []) { pattern.free(); perm.dispose(); }
  }

  /**
   * The pattern repeated for `heads` heads, so that one scalar-valued SpMM aggregates every head of
   * per-head values [nnz, heads]: row i * heads + h holds row i's entries at columns c * heads + h (x
   * [cols, heads, ...f] read as [cols * heads, ...f]); perm[k] indexes the flattened values of entry k.
   */
  perHead(heads: number): { pattern: CsrPattern; perm: Tensor } {
    const cached = this.headPatterns?.get(heads);
    if (cached) return cached;
    const { rows, cols, nnz, rowPtrHost, colIdxHost } = this;
    const ptr = new Int32Array(rows * heads + 1), col = new Int32Array(nnz * heads), perm = new Int32Array(nnz * heads);
    let k = 0;
    for (let i = 0; i < rows; i++) {
      for (let h = 0; h < heads; h++) {
        for (let e = rowPtrHost[i]; e < rowPtrHost[i + 1]; e++, k++) { col[k] = colIdxHost[e] * heads + h; perm[k] = e * heads + h; }
        ptr[i * heads + h + 1] = k;
      }
    }
    const made = { pattern: new CsrPattern(rows * heads, cols * heads, ptr, col, this.backend), perm: upload(perm, this.backend) };
    (this.headPatterns ??= new Map()).set(heads, made);
    return made;
  }

  /** The transposed pattern and perm: entry e of the transpose is entry perm[e] of this pattern. */
  transpose(): { pattern: CsrPattern; perm: Tensor; permHost: Int32Array } {
    if (this.transposed) return this.transposed;
    const { rows, cols, nnz, rowPtrHost, colIdxHost } = this;
    const ptrT = new Int32Array(cols + 1);
    for (let e = 0; e < nnz; e++) ptrT[colIdxHost[e] + 1]++;
    for (let c = 0; c < cols; c++) ptrT[c + 1] += ptrT[c];
    const fill = ptrT.slice(0, cols);
    const colT = new Int32Array(nnz), perm = new Int32Array(nnz), inverse = new Int32Array(nnz);
    // Rows are visited in increasing order, so each transposed row comes out sorted.
    for (let r = 0; r < rows; r++) {
      for (let e = rowPtrHost[r]; e < rowPtrHost[r + 1]; e++) {
        const slot = fill[colIdxHost[e]]++;
        colT[slot] = r; perm[slot] = e; inverse[e] = slot;
      }
    }
    const t = new CsrPattern(cols, rows, ptrT, colT, this.backend, this.users);
    this.transposed = { pattern: t, perm: upload(perm, this.backend), permHost: perm };
    t.transposed = { pattern: this, perm: upload(inverse, this.backend), permHost: inverse };
    return this.transposed;
  }

  toHost(values: Float32Array | null, op: string): HostCsr {
    if (this.rows !== this.cols) throw new Error(`${op}: needs a square matrix, got ${this.rows} x ${this.cols}`);
    return { n: this.rows, rowPtr: this.rowPtrHost, colIdx: this.colIdxHost, values: values ?? undefined };
  }
}

function upload(data: Int32Array | Float32Array, backend: Backend): Tensor {
  return fromArray(data, [data.length], { backend: backend.name, dtype: data instanceof Int32Array ? 'int32' : 'float32' }).keep();
}

function checkIds(op: string, what: string, ids: IdArray, limit: number, limitName: string): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new Error(`${op}: ${what}[${i}] = ${v} is outside [0, ${limit}) (${limitName} = ${limit})`);
    }
  }
}

function checkCount(op: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
}

/**
 * Sorted, duplicate-merged CSR layout of COO entries (rowIds[i], colIds[i]):
 * `slot[i]` is the CSR entry that input entry i landed in.
 * Two stable counting sorts (by column, then by row) make it O(entries + rows + cols).
 */
function layoutCoo(rowIds: IdArray, colIds: IdArray, rows: number, cols: number):
  { rowPtr: Int32Array; colIdx: Int32Array; slot: Int32Array; merged: boolean } {
  const m = rowIds.length;
  const countingOrder = (keys: IdArray, numKeys: number, order: Int32Array): Int32Array => {
    const start = new Int32Array(numKeys + 1);
    for (let i = 0; i < m; i++) start[keys[i] + 1]++;
    for (let k = 0; k < numKeys; k++) start[k + 1] += start[k];
    const out = new Int32Array(m);
    for (const i of order) out[start[keys[i]]++] = i;
    return out;
  };
  const identity = Int32Array.from({ length: m }, (_, i) => i);
  const order = countingOrder(rowIds, rows, countingOrder(colIds, cols, identity));
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(m);
  const slot = new Int32Array(m);
  let nnz = 0, prevRow = -1, prevCol = -1;
  for (const i of order) {
    const r = rowIds[i], c = colIds[i];
    if (r !== prevRow || c !== prevCol) { colIdx[nnz] = c; rowPtr[r + 1]++; nnz++; prevRow = r; prevCol = c; }
    slot[i] = nnz - 1;
  }
  for (let r = 0; r < rows; r++) rowPtr[r + 1] += rowPtr[r];
  return { rowPtr, colIdx: colIdx.slice(0, nnz), slot, merged: nnz < m };
}

/** A sparse matrix [rows, cols]: int32 rowPtr [rows + 1], colIdx [nnz] and optional float32 values [nnz] or [nnz, H]. */
export class Csr {
  /** Values as host numbers when known there (built from arrays); the structural transforms need them. */
  private readonly hostValues: Float32Array | null;
  /** Whether `values` was made here (and is freed by dispose()) rather than passed in by the caller. */
  private readonly ownsValues: boolean;
  private cachedTranspose?: Csr;
  private disposed = false;

  private constructor(
    private readonly pattern: CsrPattern,
    /** Edge values [nnz] or per-head [nnz, H] in CSR order; null means every stored entry is 1. */
    readonly values: Tensor | null,
    hostValues: Float32Array | null,
    ownsValues: boolean,
  ) {
    this.hostValues = hostValues;
    this.ownsValues = ownsValues;
    pattern.retain();
  }

  get rows(): number { return this.pattern.rows; }
  get cols(): number { return this.pattern.cols; }
  get nnz(): number { return this.pattern.nnz; }
  get shape(): [number, number] { return [this.pattern.rows, this.pattern.cols]; }
  get backend(): Backend { return this.pattern.backend; }
  /** int32 [rows + 1]: row i holds entries rowPtr[i] .. rowPtr[i + 1]. */
  get rowPtr(): Tensor { return this.pattern.rowPtr; }
  /** int32 [nnz]: the column of each entry, increasing within a row. */
  get colIdx(): Tensor { return this.pattern.colIdx; }
  /** int32 [nnz]: the row of each entry (for gathering per-node values onto edges, as GAT's scores). */
  get rowIdx(): Tensor { return this.pattern.rowIdx; }

  /** e.g. "Csr [4, 4] nnz 6 on reference" */
  describe(): string {
    const v = this.values ? `, values ${fmtShape(this.values.shape)}` : '';
    return `Csr ${fmtShape(this.shape)} nnz ${this.nnz}${v} on ${this.backend.name}`;
  }

  /** @internal The shared pattern (ops call kernels through it). */
  patternOf(): CsrPattern { return this.pattern; }

  /**
   * From COO entries: rowIds[i], colIds[i] (and values[i]) for a matrix of `shape`.
   * Entries are sorted; duplicates are summed (counted when there are no values).
   * A values tensor [m] or [m, H] keeps its gradient (it is scattered into CSR order).
   */
  static fromCoo(rowIds: IdArray, colIds: IdArray, values: ValuesInput | undefined, shape: readonly [number, number],
    opts: { backend?: string } = {}): Csr {
    return Csr.build('Csr.fromCoo', rowIds, colIds, shape[0], shape[1], { ...opts, values }, ['rowIds', 'colIds'], ['rows', 'cols']);
  }

  /**
   * From a directed edge list src[i] -> dst[i] on n nodes: entry A[dst][src], so rows are
   * destinations (n of them) and columns sources (`cols`, default n).
   */
  static fromEdges(src: IdArray, dst: IdArray, n: number, opts: BuildOptions & { cols?: number } = {}): Csr {
    return Csr.build('Csr.fromEdges', dst, src, n, opts.cols ?? n, opts, ['dst', 'src'], ['n', 'cols']);
  }

  /** From the host arrays of a structural transform (valid by construction). */
  private static fromHost(g: HostCsr, backend: Backend): Csr {
    const hostValues = g.values ? Float32Array.from(g.values) : null;
    const pattern = new CsrPattern(g.n, g.n, g.rowPtr.slice(), g.colIdx.slice(), backend);
    return new Csr(pattern, hostValues && upload(hostValues, backend), hostValues, true);
  }

  /** The same pattern with other values: [nnz] or per-head [nnz, H] in CSR order (null: all ones). */
  withValues(values: ValuesInput | null): Csr {
    this.checkLive('withValues');
    if (values === null) return new Csr(this.pattern, null, null, false);
    if (values instanceof Tensor) {
      checkValuesTensor('withValues', values, this.nnz, this.backend);
      return new Csr(this.pattern, values, null, false);
    }
    const host = hostFloat('withValues', values, this.nnz);
    return new Csr(this.pattern, upload(host, this.backend), host, true);
  }

  /**
   * A^T, cached on this matrix and freed with it. Values are carried over through
   * transposePerm; while they require grad a fresh gather is made on each call (the
   * transposed pattern is still cached), so every use stays on the autograd tape.
   */
  transpose(): Csr {
    this.checkLive('transpose');
    if (this.cachedTranspose) return this.cachedTranspose;
    const { pattern, perm, permHost } = this.pattern.transpose();
    const v = this.values;
    const hostT = this.hostValues ? Float32Array.from(permHost, (e) => this.hostValues![e]) : null;
    if (v?.requiresGrad) return new Csr(pattern, indexSelect(v, 0, perm), hostT, true);
    // scope() frees the gather's index views now rather than at garbage collection.
    const t = new Csr(pattern, v && scope(() => indexSelect(v, 0, perm)).keep(), hostT, true);
    this.cachedTranspose = t;
    return t;
  }

  /** int32 [nnz]: entry e of transpose() is entry transposePerm[e] of this matrix. */
  get transposePerm(): Tensor {
    this.checkLive('transposePerm');
    return this.pattern.transpose().perm;
  }

  /** A + weight * I (square only); an existing diagonal entry grows by `weight`, as scipy's adj + eye. */
  addSelfLoops(weight = 1): Csr {
    const g = addSelfLoops(this.pattern.toHost(this.hostValuesFor('addSelfLoops'), 'Csr.addSelfLoops'), weight, 'float32');
    return Csr.fromHost(g, this.backend);
  }

  /** D^-1/2 M D^-1/2 with D the row sums of M; M = A + I when selfLoops (GCN's Â), else A. Zero rows stay zero. */
  symNormalize(opts: { selfLoops?: boolean } = {}): Csr {
    const g = this.pattern.toHost(this.hostValuesFor('symNormalize'), 'Csr.symNormalize');
    const m = (opts.selfLoops ?? true) ? addSelfLoops(g, 1, 'float64') : g;
    return Csr.fromHost(symmetricNormalize(m, 'float32'), this.backend);
  }

  /**
   * The matrix as host arrays, for graph algorithms that run on the CPU (PPR, samplers): rowPtr [rows + 1],
   * colIdx [nnz] and values [nnz] (null: every stored entry is 1). Shared with the matrix: read them, never write.
   */
  hostArrays(): { rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array | null } {
    return { rowPtr: this.pattern.rowPtrHost, colIdx: this.pattern.colIdxHost, values: this.hostValuesFor('hostArrays') };
  }

  /** D^-1 A with D the row sums (rows average their entries, as a mean aggregator); zero rows stay zero. */
  rowNormalize(): Csr {
    const values = this.hostValuesFor('rowNormalize');
    const { rows, rowPtrHost } = this.pattern;
    const out = new Float32Array(this.nnz);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let e = rowPtrHost[r]; e < rowPtrHost[r + 1]; e++) s += values ? values[e] : 1;
      for (let e = rowPtrHost[r]; e < rowPtrHost[r + 1]; e++) out[e] = s === 0 ? 0 : (values ? values[e] : 1) / s;
    }
    return this.withValues(out);
  }

  /** Row sums [rows] (entry counts when there are no values), computed on the backend (differentiable in the values). */
  degrees(): Tensor {
    this.checkLive('degrees');
    if (this.values && this.values.ndim !== 1) throw new Error(`Csr.degrees: needs [nnz] values, got per-head values ${fmtShape(this.values.shape)}`);
    const backend = this.backend.name;
    const rowIdx = fromArray(this.pattern.rowIdxHost, [this.nnz], { backend, dtype: 'int32' });
    return scatterAdd(zeros([this.rows], { backend }), 0, rowIdx, this.values ?? ones([this.nnz], { backend }));
  }

  /** Dense [rows, cols] copy (small matrices, tests); differentiable in the values. */
  toDense(): Tensor {
    this.checkLive('toDense');
    const { rows, cols, nnz, colIdxHost } = this.pattern;
    const rowIdx = this.pattern.rowIdxHost;
    const flat = Int32Array.from({ length: nnz }, (_, e) => rowIdx[e] * cols + colIdxHost[e]);
    const rest = this.values ? this.values.shape.slice(1) : [];
    const src = this.values ?? ones([nnz], { backend: this.backend.name });
    const idx = expand(reshape(fromArray(flat, [nnz], { backend: this.backend.name, dtype: 'int32' }), [nnz, ...rest.map(() => 1)]), [nnz, ...rest]);
    const dense = scatterAdd(zeros([rows * cols, ...rest], { backend: this.backend.name }), 0, idx, src);
    return reshape(dense, [rows, cols, ...rest]);
  }

  /**
   * A copy on another backend. Values known on the host are uploaded from there; other values
   * move with Tensor.to (synchronous source backends), which leaves the autograd tape.
   */
  toBackend(name: string): Csr {
    this.checkLive('toBackend');
    const b = backendByName(name);
    if (b === this.backend) return this;
    const p = this.pattern;
    const pattern = new CsrPattern(p.rows, p.cols, p.rowPtrHost, p.colIdxHost, b);
    const values = this.hostValues && this.values?.ndim === 1 && !this.values.requiresGrad
      ? upload(this.hostValues, b) : this.values?.to(name).keep() ?? null;
    return new Csr(pattern, values, this.hostValues, true);
  }

  /** Frees the values made here and the cached transpose; the pattern goes with the last matrix using it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pattern.release();
    if (this.ownsValues) this.values?.dispose();
    this.cachedTranspose?.dispose();
  }

  get isDisposed(): boolean { return this.disposed; }

  private static build(op: string, rowIds: IdArray, colIds: IdArray, rows: number, cols: number, opts: BuildOptions,
    idNames: [string, string], countNames: [string, string]): Csr {
    checkCount(op, countNames[0], rows);
    checkCount(op, countNames[1], cols);
    if (rowIds.length !== colIds.length) {
      throw new Error(`${op}: ${idNames[0]} has ${rowIds.length} ids but ${idNames[1]} has ${colIds.length}`);
    }
    checkIds(op, idNames[0], rowIds, rows, countNames[0]);
    checkIds(op, idNames[1], colIds, cols, countNames[1]);
    const given = opts.values, m = rowIds.length;
    const backend = opts.backend ? backendByName(opts.backend) : given instanceof Tensor ? given.backend : getBackend();
    if (given instanceof Tensor) checkValuesTensor(op.replace('Csr.', ''), given, m, backend);
    const src = given === undefined || given instanceof Tensor ? null : hostFloat(op.replace('Csr.', ''), given, m);
    const { rowPtr, colIdx, slot, merged } = layoutCoo(rowIds, colIds, rows, cols);
    const pattern = new CsrPattern(rows, cols, rowPtr, colIdx, backend);
    const nnz = colIdx.length;
    if (given instanceof Tensor) {
      // Entries already in CSR order need no scatter, so the caller's tensor stays the values (and its tape link lasts).
      if (!merged && slot.every((s, i) => s === i)) return new Csr(pattern, given, null, false);
      const rest = given.shape.slice(1);
      const idx = expand(reshape(fromArray(slot, [m], { backend: backend.name, dtype: 'int32' }), [m, ...rest.map(() => 1)]), given.shape);
      return new Csr(pattern, scatterAdd(zeros([nnz, ...rest], { backend: backend.name }), 0, idx, given).keep(), null, true);
    }
    if (!src && !merged) return new Csr(pattern, null, null, false);
    const host = new Float32Array(nnz);
    for (let i = 0; i < m; i++) host[slot[i]] += src ? src[i] : 1;
    return new Csr(pattern, upload(host, backend), host, true);
  }

  private checkLive(op: string): void {
    if (this.disposed) throw new Error(`Csr.${op}: the matrix was used after dispose()`);
  }

  /** The values as host numbers for the structural transforms (null: all ones). */
  private hostValuesFor(op: string): Float32Array | null {
    this.checkLive(op);
    const v = this.values;
    if (!v) return null;
    if (v.ndim !== 1) throw new Error(`Csr.${op}: needs [nnz] values, got per-head values ${fmtShape(v.shape)}`);
    if (this.hostValues) return this.hostValues;
    if (v.requiresGrad) {
      throw new Error(`Csr.${op}: the values require grad and this transform is built on the host; compose it from ops instead (e.g. degrees() and indexSelect)`);
    }
    if (!v.backend.syncRead) throw new Error(`Csr.${op}: values on ${v.backend.name} cannot be read synchronously; build the matrix before moving it`);
    return Float32Array.from(v.dataSync());
  }
}

function checkValuesTensor(op: string, v: Tensor, nnz: number, backend: Backend): void {
  if (v.isDisposed) throw new Error(`Csr.${op}: the values tensor was used after dispose()`);
  if (v.dtype !== 'float32' || (v.ndim !== 1 && v.ndim !== 2) || v.shape[0] !== nnz) {
    throw new Error(`Csr.${op}: values must be float32 [${nnz}] or [${nnz}, heads], got ${v.describe()}`);
  }
  if (v.backend !== backend) throw new Error(`Csr.${op}: values are on ${v.backend.name}, the matrix on ${backend.name}`);
}

function hostFloat(op: string, values: Float32Array | readonly number[], n: number): Float32Array {
  if (values.length !== n) throw new Error(`Csr.${op}: ${values.length} values for ${n} entries`);
  const out = Float32Array.from(values);
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) throw new Error(`Csr.${op}: values[${i}] = ${values[i]} is not finite`);
  return out;
}
