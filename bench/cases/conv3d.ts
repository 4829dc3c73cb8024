// 3D convolution on the cpu backend (Winograd on the middle layer, implicit GEMM on the strided stem; the
// addon picks per pass, native/cpu/conv.cc) vs torch.nn.functional.conv3d:
// forward, and forward + backward for the input and the weight (no bias), on a
// mid-network layer and an R3D-style stem; the forward cases also against TensorFlow.js and onnxruntime-node. Run alone: node dist/bench/cases/conv3d.js
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { HostBuf } from '../../src/backend/hostbuf.js';
import type { ConvParams } from '../../src/backend/interface.js';
import { Rng } from '../../src/rng.js';
import { peerTimes, sized } from '../case.js';
import { jsPeers } from '../peers/js_peers.js';
import {
  type BenchCase, type CaseResult, Exchange, medianMs, pythonTorch, relativeDifference, runCases,
} from '../peers/signature_peers.js';

export interface Layer { N: number; C: number; O: number; size: [number, number, number]; k: [number, number, number];
  stride: [number, number, number]; padding: [number, number, number] }

function params(l: Layer): ConvParams {
  const out = (a: number) => Math.floor((l.size[a] + 2 * l.padding[a] - l.k[a]) / l.stride[a]) + 1;
  return {
    N: l.N, C: l.C, D: l.size[0], H: l.size[1], W: l.size[2], O: l.O, kd: l.k[0], kh: l.k[1], kw: l.k[2],
    stride: l.stride, padding: l.padding, dilation: [1, 1, 1], groups: 1, oD: out(0), oH: out(1), oW: out(2),
  };
}

function uniform(n: number, rng: Rng, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * (2 * rng.uniform() - 1);
  return v;
}

/** `withJsPeers`: forward only, TensorFlow.js and onnxruntime-node too (off for the scaling series). */
export async function runConv(l: Layer, backward: boolean, repeats: number, withJsPeers = true): Promise<CaseResult> {
  const cpu = new CpuBackend();
  const p = params(l), rng = new Rng(4);
  const xSize = p.N * p.C * p.D * p.H * p.W, wSize = p.O * p.C * p.kd * p.kh * p.kw;
  const ySize = p.N * p.O * p.oD * p.oH * p.oW;
  const xs = uniform(xSize, rng, 1), ws = uniform(wSize, rng, 1 / Math.sqrt(wSize / p.O)), gys = uniform(ySize, rng, 1);
  const x = new HostBuf(xs, 'float32'), w = new HostBuf(ws, 'float32'), gy = new HostBuf(gys, 'float32');
  // Outputs are allocated once (see bench/peers/signature_peers.ts on fresh memory).
  const y = cpu.alloc(ySize, 'float32'), gx = cpu.alloc(xSize, 'float32'), gw = cpu.alloc(wSize, 'float32');
  const tesseraMs = medianMs(() => {
    cpu.conv(x, w, undefined, y, p);
    if (!backward) return;
    cpu.convBackwardInput(gy, w, gx, p);
    cpu.convBackwardWeight(x, gy, gw, p);
  }, repeats);

  const ex = new Exchange({ stride: l.stride, padding: l.padding }, {
    x: { data: xs, shape: [p.N, p.C, p.D, p.H, p.W] }, w: { data: ws, shape: [p.O, p.C, p.kd, p.kh, p.kw] },
    gy: { data: gys, shape: [p.N, p.O, p.oD, p.oH, p.oW] },
  });
  try {
    const peers: Record<string, number> = {}, check: Record<string, number> = {};
    const torch = ex.runPeer(pythonTorch, 'signature_conv3d.py', 'torch', repeats);
    if (torch) {
      Object.assign(peers, peerTimes(torch, backward ? 'torch fwd+bwd' : 'torch', 'torch'));
      check.y = relativeDifference((y as HostBuf).data, ex.read('y_torch'));
      if (backward) {
        check.gx = relativeDifference((gx as HostBuf).data, ex.read('gx_torch'));
        check.gw = relativeDifference((gw as HostBuf).data, ex.read('gw_torch'));
      }
    }
    if (!backward && withJsPeers) {
      const js = await jsPeers({ kind: 'conv', x: xs, w: ws, xShape: [p.N, p.C, p.D, p.H, p.W], wShape: [p.O, p.C, p.kd, p.kh, p.kw],
        stride: l.stride, padding: l.padding }, repeats, (y as HostBuf).data as Float32Array, flops(l));
      Object.assign(peers, js.ms);
      Object.assign(check, js.check);
    }
    return { tesseraMs, peers, check };
  } finally {
    ex.dispose();
  }
}

const mid: Layer = sized<Layer>({ N: 4, C: 64, O: 64, size: [8, 28, 28], k: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1] },
  { N: 1, C: 4, O: 4, size: [4, 6, 6], k: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1] });
const stem: Layer = sized<Layer>({ N: 4, C: 3, O: 64, size: [16, 112, 112], k: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3] },
  { N: 1, C: 3, O: 4, size: [4, 12, 12], k: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3] });
const text = (l: Layer) =>
  `N=${l.N} C=${l.C}->${l.O} ${l.size.join('x')} k=(${l.k}) stride=(${l.stride}) pad=(${l.padding})`;

/** Multiply-adds x 2 of one pass; forward + backward (input and weight) is three passes. */
export function flops(l: Layer): number {
  const p = params(l);
  return 2 * p.N * p.O * p.oD * p.oH * p.oW * p.C * p.kd * p.kh * p.kw;
}

/** Bytes one forward pass must move at least: x and w read once, y written once. */
export function convBytes(l: Layer): number {
  const p = params(l);
  return 4 * (p.N * p.C * p.D * p.H * p.W + p.O * p.C * p.kd * p.kh * p.kw + p.N * p.O * p.oD * p.oH * p.oW);
}

export const cases: BenchCase[] = [
  { name: `conv3d ${text(mid)} forward`, flops: flops(mid), bytes: convBytes(mid), run: () => runConv(mid, false, 10) },
  { name: `conv3d ${text(mid)} forward + backward`, flops: 3 * flops(mid), run: () => runConv(mid, true, 5) },
  { name: `conv3d ${text(stem)} forward`, flops: flops(stem), bytes: convBytes(stem), run: () => runConv(stem, false, 5) },
  { name: `conv3d ${text(stem)} forward + backward`, flops: 3 * flops(stem), run: () => runConv(stem, true, 3) },
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runCases(cases);
