// Core kernels of the cpu backend vs numpy (Debian's, on OpenBLAS, and pip's): matmul
// (cubes), elementwise add / exp / gelu on 16M floats, sums over the rows and the columns of a
// 4096 x 4096 matrix. Run alone: node dist/bench/cases/core.js
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import type { Buf, View } from '../../src/backend/interface.js';
import { Rng } from '../../src/rng.js';
import { type BenchCase, type CaseResult, medianMs, pythons, runPythonPeer } from '../case.js';

let backend: CpuBackend | undefined;
const cpu = (): CpuBackend => (backend ??= new CpuBackend());

function randomBuf(n: number, seed: number): Buf {
  const b = cpu().alloc(n, 'float32');
  const rng = new Rng(seed);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.normal();
  cpu().write(b, d);
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

function matmulCase(n: number, repeats: number): BenchCase {
  return {
    name: `matmul ${n}x${n}x${n}`, kernel: 'matmul', flops: 2 * n ** 3,
    run: async () => {
      const a = dense(randomBuf(n * n, 1), [1, n, n]), b = dense(randomBuf(n * n, 2), [1, n, n]);
      const out = cpu().alloc(n * n, 'float32');
      const p = { batch: 1, M: n, N: n, K: n, alpha: 1, act: 'none' as const };
      return timed(() => cpu().matmul(a, b, out, p), 'matmul', n, repeats);
    },
  };
}

const N16M = 1 << 24;

function unaryCase(op: 'exp' | 'gelu'): BenchCase {
  return {
    name: `${op} 16M`, kernel: op,
    run: async () => {
      const x = dense(randomBuf(N16M, 3), [N16M]);
      const out = cpu().alloc(N16M, 'float32');
      return timed(() => cpu().unary(op, x, out, 0), op, N16M, 10);
    },
  };
}

function sumCase(axis: 'rows' | 'cols'): BenchCase {
  const n = 4096;
  return {
    name: `sum over ${axis} of ${n}x${n}`, kernel: 'sum',
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
  matmulCase(512, 20),
  matmulCase(1024, 10),
  matmulCase(2048, 5),
  {
    name: 'add 16M', kernel: 'add',
    run: async () => {
      const a = dense(randomBuf(N16M, 5), [N16M]), b = dense(randomBuf(N16M, 6), [N16M]);
      const out = cpu().alloc(N16M, 'float32');
      return timed(() => cpu().binary('add', a, b, out), 'add', N16M, 10);
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
