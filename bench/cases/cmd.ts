// CMD (central moment discrepancy, K = 5) between X [5000, 256] and Y [20000, 256]:
// the cpu backend's cmdMoments / cmdMomentsBackward (plus the few hundred
// norms and their gradients in JS) vs PyTorch written the natural vectorized way
// with autograd. Run alone: node dist/bench/cases/cmd.js
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { HostBuf } from '../../src/backend/hostbuf.js';
import type { Buf } from '../../src/backend/interface.js';
import { Rng } from '../../src/rng.js';
import {
  type BenchCase, type CaseResult, Exchange, medianMs, pythonTorch, relativeDifference, runCases,
} from '../peers/signature_peers.js';

const K = 5, D = 256, NX = 5000, NY = 20000;

function normals(n: number, rng: Rng, shift: number, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = shift + scale * rng.normal();
  return v;
}

/** loss = ||mean_x - mean_y|| + sum_{k=2..K} ||c_k(x) - c_k(y)||, and with `backward`
 *  the gradients for x and y. */
function cmdLoss(cpu: CpuBackend, x: Buf, y: Buf, backward: boolean): { loss: number; gx?: Buf; gy?: Buf } {
  const stats = (t: Buf, n: number) => {
    const mean = cpu.alloc(D, 'float32'), moments = cpu.alloc((K - 1) * D, 'float32');
    cpu.cmdMoments(t, n, D, K, mean, moments);
    return { mean, moments };
  };
  const sx = stats(x, NX), sy = stats(y, NY);
  // Term j (0: the means, j >= 1: c_(j+1)) compares D values of each side.
  const side = (s: { mean: Buf; moments: Buf }, j: number) =>
    j === 0 ? (s.mean as HostBuf).data : (s.moments as HostBuf).data.subarray((j - 1) * D, j * D);
  let loss = 0;
  const norms = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const a = side(sx, j), b = side(sy, j);
    let sq = 0;
    for (let c = 0; c < D; c++) sq += (a[c] - b[c]) ** 2;
    norms[j] = Math.sqrt(sq);
    loss += norms[j];
  }
  if (!backward) return { loss };
  // d||a - b|| / da = (a - b) / ||a - b||, and the negative for b.
  const grads = (sign: number) => {
    const gMean = cpu.alloc(D, 'float32'), gMoments = cpu.alloc((K - 1) * D, 'float32');
    for (let j = 0; j < K; j++) {
      const a = side(sx, j), b = side(sy, j);
      const dst = j === 0 ? (gMean as HostBuf).data : (gMoments as HostBuf).data.subarray((j - 1) * D, j * D);
      for (let c = 0; c < D; c++) dst[c] = (sign * (a[c] - b[c])) / norms[j];
    }
    return { gMean, gMoments };
  };
  const g = (t: Buf, n: number, s: { mean: Buf; moments: Buf }, sign: number) => {
    const { gMean, gMoments } = grads(sign), out = cpu.alloc(n * D, 'float32');
    cpu.cmdMomentsBackward(t, n, D, K, s.mean, s.moments, gMean, gMoments, out);
    return out;
  };
  return { loss, gx: g(x, NX, sx, 1), gy: g(y, NY, sy, -1) };
}

async function runCmd(backward: boolean): Promise<CaseResult> {
  const cpu = new CpuBackend();
  const rng = new Rng(3);
  const xs = normals(NX * D, rng, 0, 1), ys = normals(NY * D, rng, 0.5, 1.5);
  const x = new HostBuf(xs, 'float32'), y = new HostBuf(ys, 'float32');
  let result = cmdLoss(cpu, x, y, backward);
  const tesseraMs = medianMs(() => { result = cmdLoss(cpu, x, y, backward); }, 20);
  const ex = new Exchange({ K }, { x: { data: xs, shape: [NX, D] }, y: { data: ys, shape: [NY, D] } });
  try {
    const torch = ex.runPeer(pythonTorch, 'signature_cmd.py', 'torch', 20);
    if (!torch) return { tesseraMs, peers: {} };
    const check: Record<string, number> = { loss: relativeDifference([result.loss], ex.read('loss_torch')) };
    if (backward) {
      check.gx = relativeDifference((result.gx as HostBuf).data, ex.read('gx_torch'));
      check.gy = relativeDifference((result.gy as HostBuf).data, ex.read('gy_torch'));
    }
    return { tesseraMs, peers: { torch: torch[backward ? 'torch fwd+bwd' : 'torch'] }, check };
  } finally {
    ex.dispose();
  }
}

export const cases: BenchCase[] = [
  { name: `cmd K=${K} X ${NX}x${D} vs Y ${NY}x${D} forward`, run: () => runCmd(false) },
  { name: `cmd K=${K} X ${NX}x${D} vs Y ${NY}x${D} forward + backward`, run: () => runCmd(true) },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
