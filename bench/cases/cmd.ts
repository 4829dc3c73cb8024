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
  type BenchCase, type CaseResult, Exchange, medianMs, peerTimes, pythonTorch, relativeDifference, runCases,
} from '../peers/signature_peers.js';

const K = 5, D = 256, NX = 5000, NY = 20000;

function normals(n: number, rng: Rng, shift: number, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = shift + scale * rng.normal();
  return v;
}

/** One input's buffers, allocated once (see bench/peers/signature_peers.ts on fresh memory). */
interface Side { t: Buf; n: number; mean: HostBuf; moments: HostBuf; gMean: HostBuf; gMoments: HostBuf; grad: HostBuf }

function side(cpu: CpuBackend, data: Float32Array, n: number): Side {
  const f32 = (size: number) => cpu.alloc(size, 'float32') as HostBuf;
  return {
    t: new HostBuf(data, 'float32'), n, mean: f32(D), moments: f32((K - 1) * D), gMean: f32(D),
    gMoments: f32((K - 1) * D), grad: f32(n * D),
  };
}

/** Term j of the loss (0: the means, j >= 1: c_(j+1)) compares these D values of each
 *  side; its gradient goes to the same place in gMean / gMoments. */
function term(s: Side, j: number, grad = false): Float32Array {
  const [first, rest] = grad ? [s.gMean, s.gMoments] : [s.mean, s.moments];
  return (j === 0 ? first.data : rest.data.subarray((j - 1) * D, j * D)) as Float32Array;
}

/** loss = ||mean_x - mean_y|| + sum_{k=2..K} ||c_k(x) - c_k(y)||, and with `backward`
 *  the gradients for x and y (into each side's grad). */
function cmdLoss(cpu: CpuBackend, sx: Side, sy: Side, backward: boolean): number {
  for (const s of [sx, sy]) cpu.cmdMoments(s.t, s.n, D, K, s.mean, s.moments);
  let loss = 0;
  const norms = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const a = term(sx, j), b = term(sy, j);
    let sq = 0;
    for (let c = 0; c < D; c++) sq += (a[c] - b[c]) ** 2;
    norms[j] = Math.sqrt(sq);
    loss += norms[j];
  }
  if (!backward) return loss;
  // d||a - b|| / da = (a - b) / ||a - b||, and the negative for b.
  for (const [s, sign] of [[sx, 1], [sy, -1]] as const) {
    for (let j = 0; j < K; j++) {
      const a = term(sx, j), b = term(sy, j), g = term(s, j, true);
      for (let c = 0; c < D; c++) g[c] = (sign * (a[c] - b[c])) / norms[j];
    }
    cpu.cmdMomentsBackward(s.t, s.n, D, K, s.mean, s.moments, s.gMean, s.gMoments, s.grad);
  }
  return loss;
}

async function runCmd(backward: boolean): Promise<CaseResult> {
  const cpu = new CpuBackend();
  const rng = new Rng(3);
  const xs = normals(NX * D, rng, 0, 1), ys = normals(NY * D, rng, 0.5, 1.5);
  const sx = side(cpu, xs, NX), sy = side(cpu, ys, NY);
  let loss = NaN;
  const tesseraMs = medianMs(() => { loss = cmdLoss(cpu, sx, sy, backward); }, 20);
  const ex = new Exchange({ K }, { x: { data: xs, shape: [NX, D] }, y: { data: ys, shape: [NY, D] } });
  try {
    const torch = ex.runPeer(pythonTorch, 'signature_cmd.py', 'torch', 20);
    if (!torch) return { tesseraMs, peers: {} };
    const check: Record<string, number> = { loss: relativeDifference([loss], ex.read('loss_torch')) };
    if (backward) {
      check.gx = relativeDifference(sx.grad.data, ex.read('gx_torch'));
      check.gy = relativeDifference(sy.grad.data, ex.read('gy_torch'));
    }
    return { tesseraMs, peers: peerTimes(torch, backward ? 'torch fwd+bwd' : 'torch', 'torch'), check };
  } finally {
    ex.dispose();
  }
}

export const cases: BenchCase[] = [
  { name: `cmd K=${K} X ${NX}x${D} vs Y ${NY}x${D} forward`, run: () => runCmd(false) },
  { name: `cmd K=${K} X ${NX}x${D} vs Y ${NY}x${D} forward + backward`, run: () => runCmd(true) },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
