// The webgpu column: the same public-API ops on `webgpu` and on `cpu` in one run, and the same op on
// TensorFlow.js's webgpu backend on the same adapter (matmul, elementwise, conv2d, conv3d).
// On a CPU adapter (lavapipe here) these times show dispatch overhead and a software
// rasterizer's compute speed, not GPU speed. Run: npm run bench -- --kernel webgpu
import * as T from '../../src/index.js';
import { type BenchCase, type CaseResult, describePeer, sized } from '../case.js';
import { shareWebGpuAdapter, type Tf, type TfTensor, tfjsOn } from '../peers/js_peers.js';

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

/** The same op on tfjs: given the library, returns a call producing the output. */
type TfOp = (tf: Tf) => () => TfTensor;

async function timeTfjsWebgpu(op: TfOp, repeats: number): Promise<Record<string, number>> {
  const tf = await tfjsOn('webgpu');
  if (!tf) return {};
  const call = op(tf);
  const ms = await medianAsync(async () => { const y = call(); await y.data(); y.dispose(); }, repeats);
  describePeer('tfjs-webgpu', { summary: 'TensorFlow.js webgpu backend on the adapter Tessera uses (Dawn, the webgpu package)' });
  return { 'tfjs-webgpu': ms };
}

async function compare(op: Op, repeats: number, tfOp?: TfOp): Promise<CaseResult> {
  // Before either backend starts: both then use the same GPU object and adapter.
  const shared = tfOp ? await shareWebGpuAdapter() : false;
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
  const peers: Record<string, number> = { 'tessera cpu': await timeOn('cpu') };
  if (tfOp && shared) Object.assign(peers, await timeTfjsWebgpu(tfOp, repeats));
  return { tesseraMs, peers };
}

function inputs(backend: string, shapes: number[][]): T.Tensor[] {
  T.manualSeed(1);
  return shapes.map((s) => T.randn(s, { backend }).keep());
}

const MM = sized(512, 32), ADD = sized(1 << 20, 1 << 10);
const matmulOp: Op = (b) => { const [x, y] = inputs(b, [[MM, MM], [MM, MM]]); return () => T.matmul(x, y); };
const matmulTf: TfOp = (tf) => { const x = tf.randomNormal([MM, MM]), y = tf.randomNormal([MM, MM]); return () => tf.matMul(x, y); };
const addOp: Op = (b) => { const [x, y] = inputs(b, [[ADD], [ADD]]); return () => T.add(x, y); };
const addTf: TfOp = (tf) => { const x = tf.randomNormal([ADD]), y = tf.randomNormal([ADD]); return () => tf.add(x, y); };
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
const CONV_HW = sized(28, 8);
const convOp: Op = (b) => {
  const [x, w] = inputs(b, [[1, 16, 8, CONV_HW, CONV_HW], [16, 16, 3, 3, 3]]);
  return () => T.conv3d(x, w, { padding: 1 });
};
// tfjs: channels last, 'same' padding (= padding 1 for a 3-wide kernel at stride 1).
const convTf: TfOp = (tf) => {
  const x = tf.randomNormal([1, 8, CONV_HW, CONV_HW, 16]), w = tf.randomNormal([3, 3, 3, 16, 16]);
  return () => tf.conv3d(x, w, [1, 1, 1], 'same');
};
const CONV2D_HW = sized(56, 8);
const conv2dOp: Op = (b) => {
  const [x, w] = inputs(b, [[1, 64, CONV2D_HW, CONV2D_HW], [64, 64, 3, 3]]);
  return () => T.conv2d(x, w, { padding: 1 });
};
const conv2dTf: TfOp = (tf) => {
  const x = tf.randomNormal([1, CONV2D_HW, CONV2D_HW, 64]), w = tf.randomNormal([3, 3, 64, 64]);
  return () => tf.conv2d(x, w, [1, 1], 'same');
};

export const cases: BenchCase[] = [
  { name: `webgpu matmul ${MM}^3`, kernel: 'webgpu', run: () => compare(matmulOp, 5, matmulTf) },
  { name: `webgpu add ${ADD}`, kernel: 'webgpu', run: () => compare(addOp, 5, addTf) },
  { name: 'webgpu linear 1024x512x512 + bias + gelu', kernel: 'webgpu', run: () => compare(linearOp, 5) },
  { name: 'webgpu spmm 20k nodes / 200k edges x 64', kernel: 'webgpu', run: () => compare(spmmOp, 5) },
  { name: 'webgpu cmd K=5 5000x256 vs 20000x256', kernel: 'webgpu', run: () => compare(cmdOp, 3) },
  { name: `webgpu conv3d 16->16 8x${CONV_HW}x${CONV_HW} k3 p1`, kernel: 'webgpu', run: () => compare(convOp, 3, convTf) },
  { name: `webgpu conv2d 64->64 ${CONV2D_HW}x${CONV2D_HW} k3 p1`, kernel: 'webgpu', run: () => compare(conv2dOp, 3, conv2dTf) },
];
