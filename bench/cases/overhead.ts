// Dispatch overhead: the time per op of adding two 1x1 tensors through the public API, on every
// backend present (reference, cpu, webgpu, cuda), best of 5 rounds of many calls; a webgpu or cuda
// round ends with a sync and a read-back, spread over the calls. Peers on the cpu case: numpy and
// torch from Python, TensorFlow.js (cpu, wasm), onnxruntime-node (a session.run per add); on the
// webgpu case: TensorFlow.js's webgpu backend on the same adapter.
import * as T from '../../src/index.js';
import { type BenchCase, type CaseResult, describePeer, pythons, runPythonPeer, sized } from '../case.js';
import { jsPeers, shareWebGpuAdapter, tfjsOn } from '../peers/js_peers.js';
import { pythonTorch } from '../peers/signature_peers.js';

const CALLS = sized(2000, 50);

async function perOpMs(round: () => Promise<void>): Promise<number> {
  await round();  // warm-up: first use compiles pipelines, allocates pools
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await round();
    best = Math.min(best, (performance.now() - t) / CALLS);
  }
  return best;
}

async function overhead(backendName: string): Promise<CaseResult> {
  if (backendName === 'webgpu') await shareWebGpuAdapter();
  let backend: Awaited<ReturnType<typeof T.initBackend>>;
  try {
    backend = await T.initBackend(backendName);
  } catch (e) {
    console.log(`  (${backendName} not present here: ${(e as Error).message.split('\n')[0]})`);
    return { tesseraMs: NaN, peers: {} };
  }
  const a = T.ones([1, 1], { backend: backendName }).keep(), b = T.ones([1, 1], { backend: backendName }).keep();
  const tesseraMs = await perOpMs(async () => {
    let last: T.Tensor | undefined;
    for (let i = 0; i < CALLS; i++) {
      last?.dispose();
      last = T.add(a, b);
    }
    await backend.sync();
    await last!.data();
    last!.dispose();
  });
  a.dispose(); b.dispose();
  const peers: Record<string, number> = {};
  if (backendName === 'cpu') {
    for (const py of pythons) Object.assign(peers, runPythonPeer(py, 'overhead_peer.py', ['numpy', String(CALLS)]) ?? {});
    Object.assign(peers, runPythonPeer(pythonTorch, 'overhead_peer.py', ['torch', String(CALLS)], 'torch') ?? {});
    const one = new Float32Array([1]);
    Object.assign(peers, (await jsPeers({ kind: 'add', a: one, b: one }, CALLS)).ms);
  }
  if (backendName === 'webgpu') {
    const tf = await tfjsOn('webgpu');
    if (tf) {
      const x = tf.tensor(new Float32Array([1]), [1, 1]), y = tf.tensor(new Float32Array([1]), [1, 1]);
      peers['tfjs-webgpu'] = await perOpMs(async () => {
        let last: ReturnType<typeof tf.add> | undefined;
        for (let i = 0; i < CALLS; i++) { last?.dispose(); last = tf.add(x, y); }
        await last!.data();
        last!.dispose();
      });
      describePeer('tfjs-webgpu', { summary: 'TensorFlow.js webgpu backend on the adapter Tessera uses (Dawn, the webgpu package)' });
    }
  }
  return { tesseraMs, peers };
}

export const cases: BenchCase[] = ['reference', 'cpu', 'webgpu', 'cuda'].map((name) => ({
  name: `overhead add 1x1 on ${name} (per op)`, kernel: 'overhead', run: () => overhead(name),
}));
