// The webgpu column: the same public-API ops on `webgpu` and on `cpu` in one run.
// On a CPU adapter (lavapipe here) these times show dispatch overhead and a software
// rasterizer's compute speed, not GPU speed. Run: npm run bench -- --kernel webgpu
import * as T from '../../src/index.js';
import type { BenchCase, CaseResult } from '../case.js';

/** Median ms of an async step that ends with a sync of the backend. */
async function medianAsync(step: () => Promise<void>, repeats: number): Promise<number> {
  await step(); // first use compiles the pipelines
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

type Op = (backend: string) => () => T.Tensor;

async function compare(op: Op, repeats: number): Promise<CaseResult> {
  const timeOn = async (name: string): Promise<number> => {
    const backend = await T.initBackend(name);
    const make = op(name);
    return medianAsync(async () => {
      const out = T.scope(() => make());
      await backend.sync();
      await out.data();
      out.dispose();
    }, repeats);
  };
  let tesseraMs = NaN;
  try { tesseraMs = await timeOn('webgpu'); } catch (e) { console.warn(`  (webgpu unavailable: ${(e as Error).message.split('\n')[0]})`); }
  return { tesseraMs, peers: { 'tessera cpu': await timeOn('cpu') } };
}

function inputs(backend: string, shapes: number[][]): T.Tensor[] {
  T.manualSeed(1);
  return shapes.map((s) => T.randn(s, { backend }).keep());
}

const matmulOp: Op = (b) => { const [x, y] = inputs(b, [[512, 512], [512, 512]]); return () => T.matmul(x, y); };
const addOp: Op = (b) => { const [x, y] = inputs(b, [[1 << 20], [1 << 20]]); return () => T.add(x, y); };
const linearOp: Op = (b) => {
  const [x, w, bias] = inputs(b, [[1024, 512], [512, 512], [512]]);
  return () => T.linear(x, w, { bias, activation: 'gelu' });
};
const spmmOp: Op = (b) => {
  const n = 20000, e = 200000, src = new Int32Array(e), dst = new Int32Array(e);
  const g = new T.Rng(2);
  for (let i = 0; i < e; i++) { src[i] = g.int(n); dst[i] = g.int(n); }
  const a = T.Csr.fromEdges(src, dst, n, { backend: b });
  const [x] = inputs(b, [[n, 64]]);
  return () => T.spmm(a, x);
};
const cmdOp: Op = (b) => { const [x, y] = inputs(b, [[5000, 256], [20000, 256]]); return () => T.cmd(x, y, { k: 5 }); };
const convOp: Op = (b) => {
  const [x, w] = inputs(b, [[1, 16, 8, 28, 28], [16, 16, 3, 3, 3]]);
  return () => T.conv3d(x, w, { padding: 1 });
};

export const cases: BenchCase[] = [
  { name: 'webgpu matmul 512^3', kernel: 'webgpu', run: () => compare(matmulOp, 5) },
  { name: 'webgpu add 1M', kernel: 'webgpu', run: () => compare(addOp, 5) },
  { name: 'webgpu linear 1024x512x512 + bias + gelu', kernel: 'webgpu', run: () => compare(linearOp, 5) },
  { name: 'webgpu spmm 20k nodes / 200k edges x 64', kernel: 'webgpu', run: () => compare(spmmOp, 5) },
  { name: 'webgpu cmd K=5 5000x256 vs 20000x256', kernel: 'webgpu', run: () => compare(cmdOp, 3) },
  { name: 'webgpu conv3d 16->16 8x28x28 k3 p1', kernel: 'webgpu', run: () => compare(convOp, 3) },
];
