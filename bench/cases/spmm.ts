// SpMM (CSR @ dense) on the cpu backend vs scipy.sparse (csr @ dense) and
// torch.sparse: two random graphs and Cora's GCN-normalized adjacency times its
// 1433 bag-of-words features. Run alone: node dist/bench/cases/spmm.js
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { HostBuf } from '../../src/backend/hostbuf.js';
import type { Csr } from '../../src/backend/interface.js';
import { dataDir, loadLinqs } from '../../src/data/index.js';
import { undirectedAdjacency } from '../../src/models/gnn/index.js';
import { Rng } from '../../src/rng.js';
import { sized } from '../case.js';
import {
  type BenchCase, type CaseResult, Exchange, medianMs, pythonScipy, pythonTorch, relativeDifference, runCases,
} from '../peers/signature_peers.js';

export interface Problem { rows: number; cols: number; rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array; x: Float32Array; F: number }

/** `edges` uniform random (row, col) entries, duplicates merged; values and x uniform in [0, 1). */
export function randomProblem(nodes: number, edges: number, F: number, seed: number): Problem {
  const rng = new Rng(seed);
  const rowOf = new Int32Array(edges), colOf = new Int32Array(edges);
  const count = new Int32Array(nodes + 1);
  for (let e = 0; e < edges; e++) {
    rowOf[e] = rng.int(nodes);
    colOf[e] = rng.int(nodes);
    count[rowOf[e] + 1]++;
  }
  for (let r = 0; r < nodes; r++) count[r + 1] += count[r];
  const cols = new Int32Array(edges), fill = count.slice(0, nodes);
  for (let e = 0; e < edges; e++) cols[fill[rowOf[e]]++] = colOf[e];
  const rowPtr = new Int32Array(nodes + 1);
  let nnz = 0;
  for (let r = 0; r < nodes; r++) {
    const row = cols.subarray(count[r], count[r + 1]).sort();
    for (let k = 0; k < row.length; k++) if (k === 0 || row[k] !== row[k - 1]) cols[nnz++] = row[k];
    rowPtr[r + 1] = nnz;
  }
  const values = new Float32Array(nnz);
  for (let e = 0; e < nnz; e++) values[e] = rng.uniform();
  const x = new Float32Array(nodes * F);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  return { rows: nodes, cols: nodes, rowPtr, colIdx: cols.slice(0, nnz), values, x, F };
}

/** Cora: Â = D^-1/2 (A + I) D^-1/2 and the binary features, or undefined when the data is absent. */
function coraProblem(): Problem | undefined {
  if (!existsSync(join(dataDir(), 'cora'))) return undefined;
  const g = loadLinqs('cora');
  const adjacency = undirectedAdjacency(g.numNodes, g.undirectedEdges, { backend: 'reference' });
  const normalized = adjacency.symNormalize();
  const a = normalized.hostArrays();
  adjacency.dispose();
  normalized.dispose();
  return {
    rows: g.numNodes, cols: g.numNodes, rowPtr: a.rowPtr, colIdx: a.colIdx, values: a.values!,
    x: g.features, F: g.numFeatures,
  };
}

export async function runSpmm(p: Problem, repeats: number): Promise<CaseResult> {
  const cpu = new CpuBackend();
  const nnz = p.colIdx.length;
  const a: Csr = {
    rows: p.rows, cols: p.cols, nnz, rowPtr: new HostBuf(p.rowPtr, 'int32'), colIdx: new HostBuf(p.colIdx, 'int32'),
    values: new HostBuf(p.values, 'float32'),
  };
  const x = new HostBuf(p.x, 'float32');
  // The output is allocated once (see bench/peers/signature_peers.ts on fresh memory).
  const out = cpu.alloc(p.rows * p.F, 'float32');
  const tesseraMs = medianMs(() => cpu.spmm(a, x, p.F, out), repeats);
  const mine = (out as HostBuf).data;

  const ex = new Exchange({ rows: p.rows, cols: p.cols }, {
    rowPtr: { data: p.rowPtr, shape: [p.rows + 1] }, colIdx: { data: p.colIdx, shape: [nnz] },
    values: { data: p.values, shape: [nnz] }, x: { data: p.x, shape: [p.cols, p.F] },
  });
  try {
    const peers: Record<string, number> = {}, check: Record<string, number> = {};
    const scipy = ex.runPeer(pythonScipy, 'signature_spmm.py', 'scipy', repeats);
    if (scipy) { Object.assign(peers, scipy); check.scipy = relativeDifference(mine, ex.read('out_scipy')); }
    const torch = ex.runPeer(pythonTorch, 'signature_spmm.py', 'torch', repeats);
    if (torch) { Object.assign(peers, torch); check.torch = relativeDifference(mine, ex.read('out_torch')); }
    return { tesseraMs, peers, check };
  } finally {
    ex.dispose();
  }
}

// flops = 2 nnz F (the random graphs lose a few dozen duplicate entries; Cora's Â has
// 2 x 5278 edges + 2708 self-loops).
/** Bytes an SpMM must move at least: the matrix (values, column indices, row pointers), X once, the output once. */
export const spmmBytes = (nodes: number, nnz: number, F: number) => 8 * nnz + 4 * (nodes + 1) + 2 * 4 * nodes * F;

export const cases: BenchCase[] = [
  ...sized([[20000, 200000, 64, 20], [200000, 2000000, 128, 5]], [[200, 2000, 8, 3]]).map(([nodes, edges, F, repeats], i): BenchCase => ({
    name: `spmm random ${nodes / 1000}k nodes / ${edges / 1000}k edges x ${F}`, flops: 2 * edges * F, bytes: spmmBytes(nodes, edges, F),
    run: () => runSpmm(randomProblem(nodes, edges, F, i + 1), repeats),
  })),
  {
    name: 'spmm cora GCN adjacency (2708 nodes) x 1433 features', flops: 2 * 13264 * 1433,
    run: async () => {
      const p = coraProblem();
      if (!p) {
        console.log(`  (cora skipped: ${join(dataDir(), 'cora')} not found)`);
        return { tesseraMs: NaN, peers: {} };
      }
      return runSpmm(p, 20);
    },
  },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
