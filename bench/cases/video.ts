// One training step (forward, cross-entropy, backward, SGD with momentum) of a
// video ResNet on the cpu backend against torchvision's in PyTorch with the same
// thread count: R3D-18 at full width on a batch of 2 clips 3x16x112x112, and the
// small R3D of `tessera spl` (widths 4/8/16/32, one block per stage) on a batch of
// 24 clips 3x8x32x32. Each side runs in a process of its own, so that its peak
// resident memory (getrusage maxrss) is that of the step alone; both are reported
// beside the times. Run alone: node dist/bench/cases/video.js
// (TESSERA_BENCH_VIDEO_REPEATS sets the timed steps, default 3).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchCase, type CaseResult, benchThreads, medianMs } from '../case.js';

interface VideoCase { label: string; widths: number[]; blocks: number[]; batch: number; frames: number; size: number; classes: number }

const cases: VideoCase[] = [
  { label: 'r3d_18', widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], batch: 2, frames: 16, size: 112, classes: 400 },
  { label: 'spl student', widths: [4, 8, 16, 32], blocks: [1, 1, 1, 1], batch: 24, frames: 8, size: 32, classes: 9 },
];
const repeats = Number(process.env.TESSERA_BENCH_VIDEO_REPEATS ?? 3);
const here = dirname(fileURLToPath(import.meta.url));

/** Times the step in this process (called in the child) and prints {"ms", "maxRssMiB"}. */
async function tesseraStep(c: VideoCase): Promise<void> {
  const T = await import('../../src/index.js');
  const { r3d18 } = await import('../../src/models/video/index.js');
  await T.setBackend('cpu');
  const model = r3d18({ widths: c.widths, blocks: c.blocks, numClasses: c.classes, generator: new T.Rng(0) });
  const opt = new T.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = T.randn([c.batch, 3, c.frames, c.size, c.size], { generator: new T.Rng(1) });
  const y = T.randint(0, c.classes, [c.batch], { generator: new T.Rng(2) });
  const ms = medianMs(() => T.scope(() => {
    opt.zeroGrad();
    T.crossEntropy(model.forward(x), y).backward();
    opt.step();
  }), repeats);
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function lastJson(r: ReturnType<typeof spawnSync>, who: string): { ms: number; maxRssMiB: number } | undefined {
  const last = String(r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    console.warn(`  (${who} skipped: ${r.error ? String(r.error) : String(r.stderr ?? '').trim().split('\n').slice(-1)[0]})`);
    return undefined;
  }
  return JSON.parse(last);
}

async function run(c: VideoCase): Promise<CaseResult> {
  const n = String(benchThreads);
  const env = { ...process.env, TESSERA_NUM_THREADS: n, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  const mine = lastJson(spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--step', c.label], { encoding: 'utf8', env, timeout: 1_800_000 }), 'tessera');
  // Peer processes only: OpenBLAS tuning variables are not passed on.
  const peerEnv: NodeJS.ProcessEnv = { ...env };
  delete peerEnv.OPENBLAS_CORETYPE;
  delete peerEnv.OPENBLAS_L2_SIZE;
  const peer = join(here, '..', '..', '..', 'bench', 'peers', 'video_torch.py');
  const torch = lastJson(spawnSync(process.env.TESSERA_BENCH_DEBIAN_PYTHON ?? '/usr/bin/python3',
    [peer, JSON.stringify({ ...c, repeats })], { encoding: 'utf8', env: peerEnv, timeout: 1_800_000 }), 'torch peer');
  if (mine && torch) console.log(`  peak RSS: tessera ${mine.maxRssMiB.toFixed(0)} MiB, torch ${torch.maxRssMiB.toFixed(0)} MiB`);
  return {
    tesseraMs: mine?.ms ?? NaN,
    peers: torch ? { 'torch 1.13 + torchvision': torch.ms } : {},
    check: mine && torch ? { 'tessera peak RSS MiB': mine.maxRssMiB, 'torch peak RSS MiB': torch.maxRssMiB } : undefined,
  };
}

export const videoCases: BenchCase[] = cases.map((c) => ({
  name: `video ${c.label} training step, batch ${c.batch}x3x${c.frames}x${c.size}x${c.size} (SGD)`,
  kernel: 'video',
  run: () => run(c),
}));
export { videoCases as cases };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--step');
  if (i >= 0) {
    const c = cases.find((k) => k.label === process.argv[i + 1]);
    if (!c) throw new Error(`unknown video case '${process.argv[i + 1]}'`);
    await tesseraStep(c);
  } else {
    for (const k of videoCases) {
      const r = await k.run();
      const torch = Object.values(r.peers)[0];
      console.log(`${k.name}: tessera ${r.tesseraMs.toFixed(1)} ms; torch ${torch?.toFixed(1) ?? '-'} ms (ratio ${(torch / r.tesseraMs).toFixed(2)})`);
    }
  }
}
