// The fused µP linear through the public API: gelu(x W^T + b) with x [4096, 1024],
// W [1024, 1024], forward and forward + backward, vs torch F.linear + F.gelu.
import * as T from '../../src/index.js';
import { Rng } from '../../src/rng.js';
import {
  type BenchCase, type CaseResult, Exchange, medianMs, peerTimes, pythonTorch, relativeDifference,
} from '../peers/signature_peers.js';

const M = 4096, K = 1024, N = 1024;

function normals(n: number, rng: Rng, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * rng.normal();
  return v;
}

async function runLinear(backward: boolean): Promise<CaseResult> {
  await T.setBackend('cpu');
  const rng = new Rng(5);
  const xs = normals(M * K, rng, 1), ws = normals(N * K, rng, 1 / Math.sqrt(K)), bs = normals(N, rng, 0.1), gs = normals(M * N, rng, 1);
  const x = T.fromArray(xs, [M, K]), w = T.fromArray(ws, [N, K]), b = T.fromArray(bs, [N]), g = T.fromArray(gs, [M, N]);
  if (backward) { w.requiresGrad_(); b.requiresGrad_(); x.requiresGrad_(); }
  let y: Float32Array | Int32Array = new Float32Array(0);
  let gw: Float32Array | Int32Array = new Float32Array(0);
  const step = () => T.scope(() => {
    const out = T.linear(x, w, { bias: b, activation: 'gelu' });
    if (backward) {
      out.backward(g);
      gw = w.grad!.dataSync();
      for (const t of [x, w, b]) { t.grad?.dispose(); t.grad = null; }
    } else y = out.dataSync();
  });
  const tesseraMs = medianMs(step, backward ? 5 : 10);
  if (!backward) step();
  const ex = new Exchange({}, { x: { data: xs, shape: [M, K] }, w: { data: ws, shape: [N, K] }, b: { data: bs, shape: [N] }, g: { data: gs, shape: [M, N] } });
  try {
    const torch = ex.runPeer(pythonTorch, 'linear_torch.py', 'torch', backward ? 5 : 10);
    if (!torch) return { tesseraMs, peers: {} };
    const check: Record<string, number> = backward ? { gw: relativeDifference(gw, ex.read('gw_torch')) } : { y: relativeDifference(y, ex.read('y_torch')) };
    return { tesseraMs, peers: peerTimes(torch, backward ? 'torch fwd+bwd' : 'torch', 'torch linear+gelu'), check };
  } finally {
    ex.dispose();
    for (const t of [x, w, b, g]) t.dispose();
  }
}

export const cases: BenchCase[] = [
  { name: `linear ${M}x${K} @ ${K}x${N} + bias, gelu forward`, kernel: 'linear', flops: 2 * M * N * K, run: () => runLinear(false) },
  { name: `linear ${M}x${K} @ ${K}x${N} + bias, gelu forward + backward`, kernel: 'linear', flops: 6 * M * N * K, run: () => runLinear(true) },
];
