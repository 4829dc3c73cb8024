// Core kernels of the cpu backend vs numpy (Debian's, on OpenBLAS, and pip's) and, for matmul, add
// and exp, TensorFlow.js (cpu, wasm) and onnxruntime-node: matmul
// (cubes), elementwise add / exp / gelu on 16M floats, sums over the rows and the columns of a
// 4096 x 4096 matrix. Run alone: node dist/bench/cases/core.js
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import type { Buf, View } from '../../src/backend/interface.js';
import { Rng } from '../../src/rng.js';
import { type BenchCase, type CaseResult, medianMs, pythons, runPythonPeer, sized } from '../case.js';
import { type JsOp, jsPeers } from '../peers/js_peers.js';

let backend: CpuBackend | undefined;
const cpu = (): CpuBackend => (backend ??= new CpuBackend());

function randomData(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.normal();
  return d;
}
function randomBuf(n: number, seed: number, data = randomData(n, seed)): Buf {
  const b = cpu().alloc(n, 'float32');
  cpu().write(b, data);
  return b;
}
const dense = (buf: Buf, shape: number[]): View => {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { buf, shape, strides, offset: 0 };
};

function numpyPeers(peerCase: string, n: number, repeats: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const py of pythons) Object.assign(out, runPythonPeer(py, 'numpy_core.py', [peerCase, String(n), String(repeats)]) ?? {});
  return out;
}

function timed(body: () => void, peerCase: string, n: number, repeats: number): CaseResult {
  const tesseraMs = medianMs(body, repeats);
  return { tesseraMs, peers: numpyPeers(peerCase, n, repeats) };
}

/** timed(), plus the JavaScript peers on the same inputs, checked against Tessera's output. */
async function timedWithJs(body: () => void, out: Buf, op: JsOp, flops: number, peerCase: string, n: number, repeats: number): Promise<CaseResult> {
  const r = timed(body, peerCase, n, repeats);
  const js = await jsPeers(op, repeats, cpu().readSync(out) as Float32Array, flops);
  return { ...r, peers: { ...r.peers, ...js.ms }, check: js.check };
}

/** C = A B on n x n; `withJsPeers` adds the JavaScript peers (off for the scaling series). */
export function matmulCase(n: number, repeats: number, withJsPeers = true): BenchCase {
  return {
    name: `matmul ${n}x${n}x${n}`, kernel: 'matmul', flops: 2 * n ** 3, bytes: 3 * 4 * n * n,
    run: async () => {
      const ad = randomData(n * n, 1), bd = randomData(n * n, 2);
      const a = dense(randomBuf(n * n, 1, ad), [1, n, n]), b = dense(randomBuf(n * n, 2, bd), [1, n, n]);
      const out = cpu().alloc(n * n, 'float32');
      const p = { batch: 1, M: n, N: n, K: n, alpha: 1, act: 'none' as const };
      const body = () => cpu().matmul(a, b, out, p);
      if (!withJsPeers) return timed(body, 'matmul', n, repeats);
      return timedWithJs(body, out, { kind: 'matmul', n, a: ad, b: bd }, 2 * n ** 3, 'matmul', n, repeats);
    },
  };
}

const N16M = sized(1 << 24, 1 << 12);
const label16M = sized('16M', '4K');

function unaryCase(op: 'exp' | 'gelu'): BenchCase {
  return {
    name: `${op} ${label16M}`, kernel: op, bytes: 2 * 4 * N16M,
    run: async () => {
      const xd = randomData(N16M, 3);
      const x = dense(randomBuf(N16M, 3, xd), [N16M]);
      const out = cpu().alloc(N16M, 'float32');
      const body = () => cpu().unary(op, x, out, 0);
      // No JavaScript peer has an erf-form gelu op; exp is compared on all of them.
      return op === 'exp' ? timedWithJs(body, out, { kind: 'exp', a: xd }, 0, op, N16M, 10) : timed(body, op, N16M, 10);
    },
  };
}

function sumCase(axis: 'rows' | 'cols'): BenchCase {
  const n = sized(4096, 64);
  return {
    name: `sum over ${axis} of ${n}x${n}`, kernel: 'sum', bytes: 4 * (n * n + n),
    run: async () => {
      const x = randomBuf(n * n, 4);
      const out = cpu().alloc(n, 'float32');
      // Over the rows: [1, n, n] -> [n]; over the columns: [n, n, 1] -> [n].
      const body = axis === 'rows' ? () => cpu().reduce('sum', x, 1, n, n, out) : () => cpu().reduce('sum', x, n, n, 1, out);
      return timed(body, axis === 'rows' ? 'sumrows' : 'sumcols', n, 20);
    },
  };
}

export const cases: BenchCase[] = [
  ...sized([matmulCase(512, 20), matmulCase(1024, 10), matmulCase(2048, 5)], [matmulCase(64, 3)]),
  {
    name: `add ${label16M}`, kernel: 'add', bytes: 3 * 4 * N16M,
    run: async () => {
      const ad = randomData(N16M, 5), bd = randomData(N16M, 6);
      const a = dense(randomBuf(N16M, 5, ad), [N16M]), b = dense(randomBuf(N16M, 6, bd), [N16M]);
      const out = cpu().alloc(N16M, 'float32');
      return timedWithJs(() => cpu().binary('add', a, b, out), out, { kind: 'add', a: ad, b: bd }, 0, 'add', N16M, 10);
    },
  },
  unaryCase('exp'),
  unaryCase('gelu'),
  sumCase('rows'),
  sumCase('cols'),
];

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const c of cases) {
    const r = await c.run();
    console.log(c.name, r);
  }
}
